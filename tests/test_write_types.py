"""write_strings, write_sets, write_lists, write_zsets and write_streams
against a real server; ground truth read with redis-py, and round trips
through the matching read_* function."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

import polars_redis as pr

# -- strings -------------------------------------------------------------------


def test_strings_store_the_text_form_of_every_dtype(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": ["k"],
            "s": ["text"],
            "b": [False],
            "i": pl.Series([-7], dtype=pl.Int16),
            "f": [1e-7],
            "d": [dt.date(2024, 2, 29)],
            "t": [dt.time(13, 5, 0, 250000)],
            "u": pl.Series([2**64 - 1], dtype=pl.UInt64),
        }
    )
    for column in ["s", "b", "i", "f", "d", "t", "u"]:
        pr.write_strings(df, redis_url, value_column=column, key_prefix=f"{column}:")
    stored = redis_client.mget([f"{c}:k" for c in ["s", "b", "i", "f", "d", "t", "u"]])
    assert stored == [
        b"text",
        b"false",
        b"-7",
        b"1e-7",
        b"2024-02-29",
        b"13:05:00.250000000",
        b"18446744073709551615",
    ]
    typed = pl.DataFrame(
        {
            "_key": ["a", "b"],
            "when": pl.Series([dt.datetime(2024, 5, 1, 8, 30), None], dtype=pl.Datetime("ms"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("America/New_York"),
        }
    ).drop_nulls()
    pr.write_strings(typed, redis_url, value_column="when")
    assert redis_client.get("a") == b"2024-05-01T04:30:00-04:00"
    money = pl.DataFrame(
        {"_key": ["m"], "value": pl.Series([Decimal("-1.50")], dtype=pl.Decimal(6, 2))}
    )
    pr.write_strings(money, redis_url)
    assert redis_client.get("m") == b"-1.50"


def test_strings_ttl_and_modes(redis_url: str, redis_client: Any) -> None:
    redis_client.set("old", "keep", ex=1000)
    df = pl.DataFrame({"_key": ["old", "new"], "value": ["v1", "v2"]})
    result = pr.write_strings(df, redis_url, if_exists="skip", ttl=50)
    assert (result.written, result.skipped_keys) == (1, ["old"])
    assert redis_client.get("old") == b"keep" and 45 <= redis_client.ttl("new") <= 50
    pr.write_strings(df, redis_url, if_exists="append")
    assert redis_client.get("old") == b"v1" and redis_client.ttl("old") > 990  # KEEPTTL
    pr.write_strings(df, redis_url)
    assert redis_client.ttl("old") == -1  # replace: a new value, no TTL
    with pytest.raises(pr.WriteError):
        pr.write_strings(df, redis_url, if_exists="fail")
    assert redis_client.get("new") == b"v2"


def test_strings_append_never_replaces_another_type(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("h", "f", "v")
    df = pl.DataFrame({"_key": ["h", "s"], "value": ["x", "y"]})
    result = pr.write_strings(df, redis_url, if_exists="append", raise_on_error=False)
    assert [f.key for f in result.failures] == ["h"] and "WRONGTYPE" in result.failures[0].message
    assert redis_client.hgetall("h") == {b"f": b"v"} and redis_client.get("s") == b"y"


def test_strings_reject_null_values_before_sending(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["a", "b"], "value": ["x", None]})
    with pytest.raises(pr.InvalidInputError, match=r"row 1, key \"b\", column `value`"):
        pr.write_strings(df, redis_url)
    assert redis_client.dbsize() == 0


def test_strings_binary_values_are_stored_raw(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["bin"], "value": [b"\x00\xff\r\n"]})
    pr.write_strings(df, redis_url)
    assert redis_client.get("bin") == b"\x00\xff\r\n"


# -- sets ------------------------------------------------------------------------


def test_sets_group_rows_by_key(redis_url: str, redis_client: Any) -> None:
    redis_client.sadd("tags:1", "stale")
    df = pl.DataFrame(
        {"_key": ["tags:1", "tags:2", "tags:1", "tags:1"], "member": ["a", "b", "c", "a"]}
    )
    result = pr.write_sets(df, redis_url, ttl=100)
    assert (result.written, result.keys_written, result.rows) == (4, 2, 4)
    assert redis_client.smembers("tags:1") == {b"a", b"c"}  # replace: "stale" is gone
    assert redis_client.smembers("tags:2") == {b"b"}
    assert redis_client.ttl("tags:1") > 90


def test_sets_append_adds_members_and_large_sets_are_chunked(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.sadd("big", "existing")
    n = 5000
    df = pl.DataFrame({"_key": ["big"] * n, "member": range(n)})
    result = pr.write_sets(df, redis_url, if_exists="append", batch_size=100)
    assert result.written == n and result.keys_written == 1
    assert redis_client.scard("big") == n + 1


def test_sets_null_member_is_rejected(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["s", "s"], "member": ["a", None]})
    with pytest.raises(pr.InvalidInputError, match=r"row 1, key \"s\", column `member`"):
        pr.write_sets(df, redis_url)
    assert redis_client.dbsize() == 0


# -- lists -----------------------------------------------------------------------


def test_lists_keep_row_order_or_the_order_column(redis_url: str, redis_client: Any) -> None:
    redis_client.rpush("q", "stale")
    df = pl.DataFrame(
        {
            "_key": ["q", "r", "q", "q", "r"],
            "element": ["q2", "r1", "q0", "q1", "r0"],
            "pos": [2, 1, 0, 1, 0],
        }
    )
    pr.write_lists(df, redis_url)
    assert redis_client.lrange("q", 0, -1) == [b"q2", b"q0", b"q1"]
    pr.write_lists(df, redis_url, order_column="pos")
    assert redis_client.lrange("q", 0, -1) == [b"q0", b"q1", b"q2"]
    assert redis_client.lrange("r", 0, -1) == [b"r0", b"r1"]
    pr.write_lists(df.filter(pl.col("_key") == "r"), redis_url, if_exists="append")
    assert redis_client.lrange("r", 0, -1) == [b"r0", b"r1", b"r1", b"r0"]


def test_lists_order_by_datetime_and_skip(redis_url: str, redis_client: Any) -> None:
    redis_client.rpush("exists", "mine")
    base = dt.datetime(2024, 1, 1)
    df = pl.DataFrame(
        {
            "_key": ["exists", "l", "l"],
            "element": ["x", "late", "early"],
            "at": [base, base + dt.timedelta(hours=1), base],
        }
    )
    result = pr.write_lists(df, redis_url, order_column="at", if_exists="skip")
    assert (result.written, result.skipped, result.skipped_keys) == (2, 1, ["exists"])
    assert redis_client.lrange("l", 0, -1) == [b"early", b"late"]
    assert redis_client.lrange("exists", 0, -1) == [b"mine"]


# -- sorted sets -----------------------------------------------------------------


def test_zsets_members_and_scores(redis_url: str, redis_client: Any) -> None:
    redis_client.zadd("board", {"stale": 1})
    df = pl.DataFrame(
        {
            "_key": ["board", "board", "other"],
            "member": ["ann", "bob", "cy"],
            "score": [3.5, -1e300, 0.1],
        }
    )
    pr.write_zsets(df, redis_url)
    assert redis_client.zrange("board", 0, -1, withscores=True) == [(b"bob", -1e300), (b"ann", 3.5)]
    update = pl.DataFrame({"_key": ["board"], "member": ["bob"], "score": [10]})
    pr.write_zsets(update, redis_url, if_exists="append")
    assert redis_client.zscore("board", "bob") == 10.0 and redis_client.zcard("board") == 2


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pl.DataFrame({"_key": ["z", "z"], "member": ["a", "b"], "score": [1.0, float("nan")]}),
            r"row 1, key \"z\", column `score`: the score is NaN",
        ),
        (
            pl.DataFrame({"_key": ["z", "z"], "member": ["a", "a"], "score": [1.0, 2.0]}),
            r"row 1, key \"z\", column `member`: the member appears twice",
        ),
        (
            pl.DataFrame({"_key": ["z"], "member": ["a"], "score": ["high"]}),
            "score column `score` is Utf8View; expected a number",
        ),
    ],
)
def test_zsets_bad_scores_and_members_are_rejected(
    redis_url: str, redis_client: Any, frame: pl.DataFrame, message: str
) -> None:
    with pytest.raises(pr.InvalidInputError, match=message):
        pr.write_zsets(frame, redis_url)
    assert redis_client.dbsize() == 0


# -- streams ---------------------------------------------------------------------


def test_streams_entries_from_columns(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": ["ev", "ev", "other"],
            "kind": ["login", "logout", "x"],
            "user": [1, None, 3],
        }
    )
    result = pr.write_streams(df, redis_url)
    assert result.written == 3
    entries = redis_client.xrange("ev")
    assert [fields for _, fields in entries] == [
        {b"kind": b"login", b"user": b"1"},
        {b"kind": b"logout"},
    ]


def test_streams_ids_maxlen_and_append(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["s"] * 3, "id": ["1-1", "2-0", "3-5"], "v": ["a", "b", "c"]})
    pr.write_streams(df, redis_url, id_column="id")
    assert [i for i, _ in redis_client.xrange("s")] == [b"1-1", b"2-0", b"3-5"]
    more = pl.DataFrame({"_key": ["s"] * 5, "v": list("defgh")})
    pr.write_streams(more, redis_url, if_exists="append", maxlen=4, approximate=False)
    assert [f[b"v"] for _, f in redis_client.xrange("s")] == [b"e", b"f", b"g", b"h"]


def test_streams_stale_entries_are_replaced(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"old": "1"})
    pr.write_streams(pl.DataFrame({"_key": ["s"], "v": [1]}), redis_url, ttl=100)
    assert [f for _, f in redis_client.xrange("s")] == [{b"v": b"1"}]
    assert redis_client.ttl("s") > 90


def test_streams_wrong_type_fails_per_key(redis_url: str, redis_client: Any) -> None:
    redis_client.set("str", "x")
    df = pl.DataFrame({"_key": ["str", "ok"], "v": [1, 2]})
    with pytest.raises(pr.WriteError) as raised:
        pr.write_streams(df, redis_url, if_exists="append")
    result = raised.value.result
    assert [f.key for f in result.failures] == ["str"] and result.written == 1
    assert "WRONGTYPE" in result.failures[0].message


def test_streams_round_trip_through_read_streams(redis_url: str) -> None:
    schema = {"kind": pl.String, "n": pl.Int64, "at": pl.Datetime("ms", "UTC"), "ok": pl.Boolean}
    source = pl.DataFrame(
        {
            "_key": ["a", "a", "b"],
            "_id": ["1700000000000-0", "1700000000000-1", "5-7"],
            "kind": ["x", None, "z"],
            "n": [1, 2, None],
            "at": [dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)] * 3,
            "ok": [True, False, None],
        },
        schema_overrides={"at": pl.Datetime("ms", "UTC")},
    )
    pr.write_streams(source, redis_url)
    first = pr.read_streams(redis_url, "*", schema).sort("_key", "_id")
    assert first.select(source.columns).equals(source)
    # What read_streams returns (with its derived _ts column) writes back as
    # the same entries.
    pr.write_streams(first, redis_url)
    again = pr.read_streams(redis_url, "*", schema).sort("_key", "_id")
    assert again.equals(first)


@pytest.mark.parametrize(
    "values",
    [
        pl.Series("value", ["text", "", "ünï\r\n"]),
        pl.Series("value", [-(2**63), 0, 2**63 - 1]),
        pl.Series("value", [0.1, float("-inf"), 5e-324]),
        pl.Series("value", [True, False, True]),
        pl.Series("value", [dt.date(1, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31)]),
        pl.Series(
            "value",
            [dt.datetime(2024, 3, 31, 1, 30), dt.datetime(1969, 1, 1), dt.datetime(2000, 1, 1)],
        )
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Europe/Amsterdam"),
        pl.Series(
            "value", [Decimal("1.05"), Decimal("-0.01"), Decimal("0")], dtype=pl.Decimal(6, 2)
        ),
        pl.Series("value", [b"\x00\xff", b"", b"x"]),
    ],
)
def test_strings_round_trip_through_read_strings(redis_url: str, values: pl.Series) -> None:
    df = pl.DataFrame({"_key": ["s:0", "s:1", "s:2"]}).with_columns(values)
    pr.write_strings(df, redis_url)
    back = pr.read_strings(redis_url, "s:*", value_type=values.dtype).sort("_key")
    assert back.equals(df)


def test_sets_lists_and_zsets_round_trip_through_their_readers(redis_url: str) -> None:
    sets = pl.DataFrame({"_key": ["a", "a", "b"], "member": ["x", "y", "z"]})
    pr.write_sets(sets, redis_url, key_prefix="set:")
    back = pr.read_sets(redis_url, "set:*").sort("_key", "member")
    assert back.equals(sets.with_columns(pl.concat_str(pl.lit("set:"), "_key").alias("_key")))

    lists = pl.DataFrame(
        {"_key": ["l:1"] * 3 + ["l:2"], "element": [10, 20, 30, 40], "position": [2, 0, 1, 0]}
    )
    pr.write_lists(lists, redis_url, order_column="position")
    back = pr.read_lists(redis_url, "l:*", element_type=pl.Int64, include_position=True)
    expected = lists.sort("_key", "position")
    assert (
        back.sort("_key", "position")
        .select(expected.columns)
        .equals(expected.with_columns(pl.col("position").cast(back.schema["position"])))
    )

    zsets = pl.DataFrame(
        {"_key": ["z:1", "z:1", "z:2"], "member": ["ann", "bob", "cy"], "score": [2.5, -1.0, 0.0]}
    )
    pr.write_zsets(zsets, redis_url)
    back = pr.read_zsets(redis_url, "z:*").sort("_key", "score")
    assert back.select(zsets.columns).equals(zsets.sort("_key", "score"))
