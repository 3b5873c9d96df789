"""Key management against real servers (standalone and a 3-master cluster),
with redis-py as the ground truth."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

import polars_redis as redis
from polars_redis import ArgumentTypeError, InvalidInputError, ParseError


@pytest.fixture(params=["standalone", "cluster"])
def target(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """``(url, redis-py client)`` of an empty standalone server or cluster."""
    if request.param == "standalone":
        return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_client")
    return request.getfixturevalue("cluster_url"), request.getfixturevalue("cluster_client")


def _seed(client: Any, n: int = 60) -> None:
    """Keys of every basic type, spread over the slots; some with a TTL."""
    for i in range(n):
        client.set(f"s:{i}", "x" * i)
        client.hset(f"h:{i}", mapping={"a": i, "b": "y" * i})
        if i % 3 == 0:
            client.expire(f"h:{i}", 1000 + i)
    client.rpush("l:1", 1, 2, 3)
    client.sadd("set:1", "a", "b")
    client.zadd("z:1", {"a": 1.0})
    client.xadd("st:1", {"f": "v"})
    client.set("other", "keep")


def _s(value: Any) -> Any:
    """A redis-py reply as text (replies are bytes or str by command)."""
    return value.decode() if isinstance(value, bytes) else value


def _text(values: Any) -> list[str]:
    return sorted(_s(v) for v in values)


def test_scan_keys_matches_redis_py(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client)
    df = redis.scan_keys(url, "h:*", include_ttl=True, include_memory=True, count=50)
    assert df.columns == ["_key", "type", "_ttl", "memory_bytes"]
    assert df.schema["_ttl"] == pl.Int64 and df.schema["memory_bytes"] == pl.Int64
    assert sorted(df["_key"].to_list()) == _text(client.scan_iter(match="h:*"))
    assert df.height == df["_key"].n_unique() == 60
    for row in df.iter_rows(named=True):
        key = row["_key"]
        assert row["type"] == _s(client.type(key)) == "hash"
        ttl = client.ttl(key)
        assert (row["_ttl"] is None) == (ttl == -1)
        if row["_ttl"] is not None:
            assert abs(row["_ttl"] - ttl) <= 1
        assert row["memory_bytes"] == client.memory_usage(key)


def test_scan_keys_type_filter_and_all_types(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 5)
    every = redis.scan_keys(url)
    assert every.columns == ["_key", "type"]
    expected = {_s(k): _s(client.type(k)) for k in client.scan_iter()}
    assert dict(every.iter_rows()) == expected
    strings = redis.scan_keys(url, type="string")
    assert sorted(strings["_key"]) == sorted(k for k, t in expected.items() if t == "string")
    assert set(strings["type"]) == {"string"}
    assert redis.scan_keys(url, "nothing:*").height == 0


def test_scan_keys_refuses_unknown_type(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="type"):
        redis.scan_keys(redis_url, type="hashes")  # type: ignore[arg-type]


def test_delete_pattern_deletes_exactly_the_matched_keys(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client)
    matched = _text(client.scan_iter(match="s:1*"))
    dry = redis.delete_keys(url, pattern="s:1*", dry_run=True)
    assert dry.dry_run and dry.deleted == 0 and sorted(dry.keys) == matched  # type: ignore[type-var]
    assert all(client.exists(k) for k in matched)
    result = redis.delete_keys(url, pattern="s:1*")
    assert (result.deleted, result.not_found, result.failed) == (len(matched), 0, 0)
    assert sorted(result.keys) == matched  # type: ignore[type-var]
    assert not any(client.exists(k) for k in matched)
    assert client.exists("s:2", "s:0", "other", "h:1") == 4


def test_delete_listed_keys_counts_missing(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 10)
    keys = [f"s:{i}" for i in range(10)] + ["nope:1", "nope:2"]
    result = redis.delete_keys(url, pl.Series(keys))
    assert (result.deleted, result.not_found) == (10, 2)
    assert client.exists(*[f"s:{i}" for i in range(10)]) == 0


def test_delete_keys_needs_keys_or_pattern(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="either keys or pattern"):
        redis.delete_keys(redis_url)
    with pytest.raises(InvalidInputError, match="either keys or pattern"):
        redis.delete_keys(redis_url, ["a"], pattern="a*")
    with pytest.raises(ArgumentTypeError, match="keys"):
        redis.delete_keys(redis_url, "a")  # type: ignore[arg-type]


def test_set_ttl_persist_and_get_ttl(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 20)
    keys = [f"s:{i}" for i in range(20)]
    result = redis.set_ttl(url, [*keys, "gone"], timedelta(hours=1))
    assert (result.succeeded, result.failed) == (20, 1)
    assert result.errors == [("gone", "no such key")] and result.not_found == ["gone"]
    assert all(3599 <= client.ttl(k) <= 3600 for k in keys)
    ttls = redis.get_ttl(url, [*keys, "gone"])
    assert ttls["key"].to_list() == [*keys, "gone"]
    assert ttls["ttl"].to_list() == [client.ttl(k) for k in keys] + [-2]

    persisted = redis.persist_keys(url, [*keys[:5], "other", "gone"])
    assert persisted.succeeded == 5
    assert persisted.skipped == ["other"] and persisted.not_found == ["gone"]
    assert [client.ttl(k) for k in keys[:6]] == [-1] * 5 + [client.ttl(keys[5])]
    assert client.ttl(keys[5]) > 0


def test_set_ttl_refuses_non_positive(redis_url: str, redis_client: Any) -> None:
    redis_client.set("a", 1)
    with pytest.raises(InvalidInputError, match=r'"a".*at least 1 second'):
        redis.set_ttl(redis_url, ["a"], 0)
    assert redis_client.ttl("a") == -1


def test_set_ttl_from_column_both_argument_orders(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 6)
    df = pl.DataFrame(
        {"key": [f"s:{i}" for i in range(6)], "ttl": [100 * (i + 1) for i in range(6)]}
    )
    result = redis.set_ttl_from_column(df, url, "key", "ttl")
    assert result.succeeded == 6
    assert [client.ttl(f"s:{i}") for i in range(6)] == [100 * (i + 1) for i in range(6)]
    durations = df.with_columns(pl.duration(seconds=pl.col("ttl") * 2).alias("ttl"))
    assert redis.set_ttl_from_column(url, durations, "key", "ttl").succeeded == 6  # type: ignore[arg-type]
    assert client.ttl("s:0") == 200


def test_set_ttl_from_column_refuses_nulls_and_bad_columns(redis_url: str) -> None:
    df = pl.DataFrame({"key": ["a", "b"], "ttl": [5, None]})
    with pytest.raises(InvalidInputError, match="null at row 1"):
        redis.set_ttl_from_column(df, redis_url, "key", "ttl")
    with pytest.raises(InvalidInputError, match="no column 'seconds'"):
        redis.set_ttl_from_column(df, redis_url, "key", "seconds")
    with pytest.raises(InvalidInputError, match="integers"):
        redis.set_ttl_from_column(
            df.with_columns(pl.lit("x").alias("ttl")), redis_url, "key", "ttl"
        )


def test_exists_keys(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 5)
    keys = ["s:1", "nope", "h:2", "l:1"]
    df = redis.exists_keys(url, keys)
    assert (
        df["exists"].to_list()
        == [bool(client.exists(k)) for k in keys]
        == [True, False, True, True]
    )


def test_rename_fail_is_renamenx_per_key(target: tuple[str, Any]) -> None:
    url, client = target
    client.set("{u}:a", "1")
    client.set("{u}:b", "2")
    client.set("{u}:taken", "3")
    result = redis.rename_keys(
        url, {"{u}:a": "{u}:a2", "{u}:b": "{u}:taken", "{u}:missing": "{u}:m2"}
    )
    assert result.succeeded == 1 and result.failed == 2
    assert dict(result.errors) == {
        "{u}:b": 'the target key "{u}:taken" exists (if_exists="fail")',
        "{u}:missing": "no such key",
    }
    assert client.get("{u}:a2") == b"1" and not client.exists("{u}:a")
    assert client.get("{u}:b") == b"2" and client.get("{u}:taken") == b"3"

    replaced = redis.rename_keys(url, [("{u}:b", "{u}:taken")], if_exists="replace")
    assert replaced.succeeded == 1 and client.get("{u}:taken") == b"2"


def test_rename_from_a_frame(target: tuple[str, Any]) -> None:
    url, client = target
    for i in range(30):
        client.set(f"{{t{i}}}:old", i)
    frame = pl.DataFrame(
        {"old": [f"{{t{i}}}:old" for i in range(30)], "new": [f"{{t{i}}}:new" for i in range(30)]}
    )
    assert redis.rename_keys(url, frame).succeeded == 30
    assert [int(client.get(f"{{t{i}}}:new")) for i in range(30)] == list(range(30))
    with pytest.raises(InvalidInputError, match="old_key_column"):
        redis.rename_keys(url, frame.with_columns(pl.lit(1).alias("x")))


def test_cluster_refuses_cross_slot_renames(cluster_url: str, cluster_client: Any) -> None:
    cluster_client.set("{a}:1", "x")
    cluster_client.set("b:1", "y")
    with pytest.raises(InvalidInputError, match=r'cross slots.*"b:1" \(slot \d+\) -> "c:1"'):
        redis.rename_keys(cluster_url, {"{a}:1": "{a}:2", "b:1": "c:1"})
    assert cluster_client.get("{a}:1") == b"x" and cluster_client.get("b:1") == b"y"


def test_key_info_matches_redis_py(target: tuple[str, Any]) -> None:
    url, client = target
    _seed(client, 4)
    keys = ["s:3", "h:0", "l:1", "set:1", "z:1", "st:1", "nope"]
    df = redis.key_info(url, keys)
    assert df.columns == ["key", "key_type", "ttl", "memory_usage", "encoding", "length"]
    lengths = {
        "s:3": client.strlen("s:3"),
        "h:0": client.hlen("h:0"),
        "l:1": client.llen("l:1"),
        "set:1": client.scard("set:1"),
        "z:1": client.zcard("z:1"),
        "st:1": client.xlen("st:1"),
        "nope": None,
    }
    for row in df.iter_rows(named=True):
        key = row["key"]
        assert row["key_type"] == _s(client.type(key))
        assert abs(row["ttl"] - client.ttl(key)) <= (1 if row["ttl"] > 0 else 0)
        assert row["memory_usage"] == client.memory_usage(key)
        assert row["encoding"] == _s(client.object("encoding", key))
        assert row["length"] == lengths[key]
    by_pattern = redis.key_info(url, "s:*", include_memory=False)
    assert sorted(by_pattern["key"]) == _text(client.scan_iter(match="s:*"))
    assert by_pattern["memory_usage"].null_count() == by_pattern.height


def test_binary_keys(redis_url: str, redis_client: Any) -> None:
    redis_client.set(b"bin:\xff", 1)
    with pytest.raises(ParseError, match="not valid UTF-8"):
        redis.scan_keys(redis_url, "bin:*")
    df = redis.scan_keys(redis_url, "bin:*", key_dtype=pl.Binary)
    assert df["_key"].to_list() == [b"bin:\xff"]
    assert redis.delete_keys(redis_url, [b"bin:\xff"]).deleted == 1


def test_unreachable_server_is_a_connection_error() -> None:
    with pytest.raises(redis.RedisConnectionError):
        redis.exists_keys("redis://127.0.0.1:1", ["a"], connect_timeout=2)
