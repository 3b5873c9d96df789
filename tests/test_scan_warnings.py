"""Warnings of scans that ran to their end: a declared field no key had, and a
pattern whose keys are all of another type (ground truth written with redis-py)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import polars_redis as pr


def seed_users(client: Any, n: int = 50) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(f"u:{i}", mapping={"name": f"n{i}", "age": i, "city": "Oslo"})
    pipe.execute()


def seed_events(client: Any, prefix: str = "events", streams: int = 3) -> None:
    for s in range(streams):
        for i in range(4):
            client.xadd(f"{prefix}:{s}", {"user": f"u{i}", "amount": i})


def scan_warnings(read: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The result of ``read()`` and the messages of the UserWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read()
    return result, [str(w.message) for w in caught if w.category is UserWarning]


def test_hash_field_in_no_key_warns_with_the_closest_names(
    redis_url: str, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seed_users(redis_client)
    schema = {"name": pl.String, "agee": pl.Int64}
    expected = "field `agee` was found in no hash read"
    with (
        caplog.at_level(logging.WARNING, logger="polars_redis"),
        pytest.warns(UserWarning, match=expected) as caught,
    ):
        df = pr.read_hashes(redis_url, "u:*", schema)
    assert df.height == 50
    assert df["agee"].null_count() == 50
    assert df["name"].null_count() == 0
    (message,) = [str(w.message) for w in caught]
    assert "closest field names seen: `age`" in message
    assert "name" not in message.split(";")[0]  # only the missing field is named
    logged = [r.getMessage() for r in caplog.records if r.name == "polars_redis"]
    assert logged == [message]


@pytest.mark.parametrize("fetch", ["hgetall", "hmget"])
def test_every_entry_point_warns_alike(redis_url: str, redis_client: Any, fetch: str) -> None:
    seed_users(redis_client)
    schema = {"name": pl.String, "age": pl.Int64, "cty": pl.String}
    lf = pr.scan_hashes(redis_url, "u:*", schema, fetch=fetch)  # type: ignore[arg-type]
    reads: list[Callable[[], Any]] = [
        lf.collect,
        lambda: pr.read_hashes(redis_url, "u:*", schema, fetch=fetch),  # type: ignore[arg-type]
        lambda: list(pr.iter_hashes(redis_url, "u:*", schema, batch_size=7, fetch=fetch)),  # type: ignore[arg-type]
        lambda: lf.select("cty").collect(),
        lambda: pr.read_hashes(redis_url, keys=["u:1", "u:2"], schema=schema),
    ]
    for read in reads:
        _, messages = scan_warnings(read)
        assert len(messages) == 1, messages
        assert "field `cty` was found in no hash read" in messages[0]
        assert "`city`" in messages[0]


def test_no_warning_when_some_key_has_every_field_or_the_scan_stopped_early(
    redis_url: str, redis_client: Any
) -> None:
    seed_users(redis_client)
    redis_client.hset("u:7", "rare", "1")  # one key of 50 has it
    schema = {"name": pl.String, "rare": pl.Int64, "agee": pl.Int64}
    df, messages = scan_warnings(lambda: pr.read_hashes(redis_url, "u:*", schema))
    assert df["rare"].drop_nulls().to_list() == [1]
    assert [m for m in messages if "rare" in m.split(";")[0]] == []
    assert len(messages) == 1  # agee only
    # A row limit stops the scan early: it saw only part of the keys.
    lf = pr.scan_hashes(redis_url, "u:*", schema)
    _, messages = scan_warnings(lambda: lf.head(3).collect())
    assert messages == []
    # A field left out by the projection is not read, so not judged.
    _, messages = scan_warnings(lambda: lf.select("name").collect())
    assert messages == []
    # A filter applied to the rows read does not change what the keys hold.
    df, messages = scan_warnings(lambda: lf.filter(pl.col("name") == "nobody").collect())
    assert df.height == 0
    assert len(messages) == 1 and "agee" in messages[0]


def test_stream_entry_field_in_no_entry_warns(redis_url: str, redis_client: Any) -> None:
    seed_events(redis_client)
    schema = {"user": pl.String, "amout": pl.Int64}
    df, messages = scan_warnings(lambda: pr.read_streams(redis_url, "events:*", schema))
    assert df.height == 12
    assert len(messages) == 1
    assert "field `amout` was found in no stream entry read" in messages[0]
    assert "closest field names seen: `amount`" in messages[0]


def test_json_member_and_path_in_no_document_warn(stack_url: str, stack_client: Any) -> None:
    for i in range(5):
        stack_client.json().set(
            f"doc:{i}", "$", {"name": f"n{i}", "address": {"city": "Oslo"}, "gone": None}
        )
    schema = {"name": pl.String, "nmae": pl.String, "gone": pl.String, "town": pl.String}
    df, messages = scan_warnings(
        lambda: pr.read_json(stack_url, "doc:*", schema, paths={"town": "$.adress.city"})
    )
    assert df.height == 5
    assert sorted(messages) == [
        "field `nmae` was missing or null in every JSON document read, so its column is all null; "
        "closest field names seen: `name`, `gone`, `address`",
        "path `$.adress.city` was missing or null in every JSON document read, "
        "so column `town` is all null",
    ]
    # `gone` is a member of every document, null each time: not a typo.


def test_timeseries_label_in_no_series_warns(stack_url: str, stack_client: Any) -> None:
    for room in ("kitchen", "hall"):
        stack_client.ts().create(f"temp:{room}", labels={"room": room, "floor": "1"})
        stack_client.ts().add(f"temp:{room}", 1000, 20.5)
    df, messages = scan_warnings(
        lambda: pr.read_timeseries(stack_url, "temp:*", include_labels=["room", "flor"])
    )
    assert df.height == 2 and df["room"].null_count() == 0
    assert len(messages) == 1
    assert "label `flor` was found in no time series read" in messages[0]
    assert "closest label names seen: `floor`" in messages[0]


# --------------------------------------------------------------------------
# A pattern whose keys are of another type
# --------------------------------------------------------------------------


def test_pattern_over_another_type_warns_naming_the_types(
    redis_url: str, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seed_events(redis_client)
    with caplog.at_level(logging.WARNING, logger="polars_redis"):
        df, messages = scan_warnings(
            lambda: pr.read_hashes(redis_url, "events:*", {"user": pl.String})
        )
    assert df.height == 0
    assert messages == [
        'pattern "events:*" matched no hash; keys there are of type stream: use read_streams'
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "polars_redis"] == messages
    redis_client.set("events:note", "x")
    _, messages = scan_warnings(lambda: pr.read_sets(redis_url, "events:*"))
    assert messages == [
        'pattern "events:*" matched no set; keys there are of type stream, string: '
        "use read_streams or read_strings"
    ]


@pytest.mark.parametrize(
    ("read", "noun"),
    [
        (lambda url: pr.read_hashes(url, "k:*", {"a": pl.String}), "hash"),
        (lambda url: pr.read_streams(url, "k:*", {"a": pl.String}), "stream"),
        (lambda url: pr.read_strings(url, "k:*"), "string"),
        (lambda url: pr.read_sets(url, "k:*"), "set"),
        (lambda url: pr.read_lists(url, "k:*"), "list"),
        (lambda url: pr.read_zsets(url, "k:*"), "sorted set"),
        (lambda url: list(pr.iter_hashes(url, "k:*", {"a": pl.String})), "hash"),
        (lambda url: pr.scan_zsets(url, "k:*").collect(), "sorted set"),
    ],
)
def test_every_type_scan_names_the_other_types(
    redis_url: str, redis_client: Any, read: Callable[[str], Any], noun: str
) -> None:
    # One key of every core type but the scanned one.
    writers = {
        "hash": lambda k: redis_client.hset(k, "a", "1"),
        "stream": lambda k: redis_client.xadd(k, {"a": "1"}),
        "string": lambda k: redis_client.set(k, "1"),
        "set": lambda k: redis_client.sadd(k, "1"),
        "list": lambda k: redis_client.rpush(k, "1"),
        "sorted set": lambda k: redis_client.zadd(k, {"1": 1.0}),
    }
    types = {"hash": "hash", "stream": "stream", "string": "string", "set": "set"}
    types |= {"list": "list", "sorted set": "zset"}
    for other, write in writers.items():
        if other != noun:
            write(f"k:{other.replace(' ', '')}")
    _, messages = scan_warnings(lambda: read(redis_url))
    expected = ", ".join(sorted(t for n, t in types.items() if n != noun))
    assert len(messages) == 1, messages
    assert messages[0].startswith(
        f'pattern "k:*" matched no {noun}; keys there are of type {expected}: use '
    )


def test_no_warning_for_an_empty_pattern_or_keys_of_the_scanned_type(
    redis_url: str, redis_client: Any
) -> None:
    _, messages = scan_warnings(lambda: pr.read_hashes(redis_url, "nothing:*", {"a": pl.String}))
    assert messages == []
    seed_users(redis_client, 3)
    redis_client.xadd("u:stream", {"a": "1"})
    lf = pr.scan_hashes(redis_url, "u:*", {"age": pl.Int64})
    df, messages = scan_warnings(lambda: lf.filter(pl.col("age") > 100).collect())
    assert df.height == 0
    assert messages == []  # hashes are there, the filter kept none


def test_json_and_timeseries_scans_name_the_other_types(stack_url: str, stack_client: Any) -> None:
    stack_client.hset("m:1", "a", "1")
    _, messages = scan_warnings(lambda: pr.read_json(stack_url, "m:*", {"a": pl.String}))
    assert messages == [
        'pattern "m:*" matched no JSON document; keys there are of type hash: use read_hashes'
    ]
    _, messages = scan_warnings(lambda: pr.read_timeseries(stack_url, "m:*"))
    assert messages == [
        'pattern "m:*" matched no time series; keys there are of type hash: use read_hashes'
    ]
    stack_client.json().set("j:1", "$", {"a": 1})
    _, messages = scan_warnings(lambda: pr.read_hashes(stack_url, "j:*", {"a": pl.String}))
    assert messages == [
        'pattern "j:*" matched no hash; keys there are of type ReJSON-RL: use read_json'
    ]


def test_cluster_looks_at_every_master(cluster_url: str, cluster_client: Any) -> None:
    # Streams in many slots, so every master holds some.
    for i in range(30):
        cluster_client.xadd(f"events:{i}", {"user": "u"})
    df, messages = scan_warnings(
        lambda: pr.read_hashes(cluster_url, "events:*", {"user": pl.String})
    )
    assert df.height == 0
    assert messages == [
        'pattern "events:*" matched no hash; keys there are of type stream: use read_streams'
    ]
    # A stream on one master only is still seen.
    cluster_client.delete(*[f"events:{i}" for i in range(30)])
    cluster_client.xadd("events:{only}", {"user": "u"})
    _, messages = scan_warnings(
        lambda: pr.read_hashes(cluster_url, "events:*", {"user": pl.String})
    )
    assert len(messages) == 1 and "type stream" in messages[0]
    # And a typo in a field, on a cluster.
    for i in range(10):
        cluster_client.hset(f"h:{i}", mapping={"age": i})
    _, messages = scan_warnings(lambda: pr.read_hashes(cluster_url, "h:*", {"agee": pl.Int64}))
    assert len(messages) == 1 and "closest field names seen: `age`" in messages[0]


def test_a_warning_filter_set_to_error_raises(redis_url: str, redis_client: Any) -> None:
    seed_users(redis_client, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="agee"):
            pr.read_hashes(redis_url, "u:*", {"agee": pl.Int64})
