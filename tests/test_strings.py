"""scan_strings / read_strings / iter_strings against a real Redis server."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import polars as pl
import pytest
from collection_helpers import (
    DTYPE_CASES,
    DTYPE_IDS,
    assert_dtype_round_trip,
    calls_during,
    check_schema_combinations,
    collect_both,
    rows_of,
)

import polars_redis as redis


def _seed_mixed(client: Any) -> dict[bytes, bytes]:
    """Strings under ``s:*`` plus keys of every other type under the same pattern."""
    truth = {f"s:{i}".encode(): f"value {i}".encode() for i in range(250)}
    client.mset(truth)
    client.hset("s:hash", "f", "v")
    client.rpush("s:list", "a")
    client.sadd("s:set", "a")
    client.zadd("s:zset", {"a": 1})
    client.xadd("s:stream", {"f": "v"})
    client.set("other:1", "not matched")
    return truth


def test_pattern_scan_matches_redis_py(redis_client: Any, redis_url: str) -> None:
    truth = _seed_mixed(redis_client)
    df = collect_both(redis.scan_strings(redis_url, "s:*", batch_size=64))
    got = dict(zip(df["_key"].to_list(), df["value"].to_list()))
    assert got == {k.decode(): v.decode() for k, v in truth.items()}
    assert df.height == len(truth)  # every key once, other types skipped


def test_one_mget_per_batch_and_other_types_not_fetched(redis_client: Any, redis_url: str) -> None:
    _seed_mixed(redis_client)
    calls = calls_during(redis_client, lambda: redis.read_strings(redis_url, "s:*", batch_size=100))
    assert calls["mget"] == 3  # 250 keys in batches of 100
    assert "type" not in calls  # SCAN's TYPE filter did the work
    for command in ("hgetall", "lrange", "smembers", "zrange", "xrange", "get"):
        assert command not in calls


@pytest.mark.parametrize(("dtype", "texts", "expected"), DTYPE_CASES, ids=DTYPE_IDS)
def test_every_dtype_round_trips(
    redis_client: Any, redis_url: str, dtype: Any, texts: list[bytes], expected: list[Any]
) -> None:
    keys = [f"v:{i}" for i in range(len(texts))]
    redis_client.mset(dict(zip(keys, texts)))
    df = collect_both(redis.scan_strings(redis_url, keys=keys, value_type=dtype))
    assert df["_key"].to_list() == keys
    assert_dtype_round_trip(df["value"], dtype, expected)


def test_keys_list_missing_duplicates_and_order(redis_client: Any, redis_url: str) -> None:
    redis_client.mset({"b": "2", "a": "1", "c": "3"})
    df = redis.read_strings(redis_url, keys=["c", "missing", "a", "c", b"b"], value_type=pl.Int64)
    assert df.rows() == [("c", 3), ("a", 1), ("b", 2)]


def test_listed_key_of_another_type_raises(redis_client: Any, redis_url: str) -> None:
    redis_client.set("ok", "1")
    redis_client.rpush("queue", "x")
    with pytest.raises(redis.WrongTypeError, match=r'key "queue" holds a list, not a string'):
        redis.read_strings(redis_url, keys=["ok", "missing", "queue"])


def test_key_predicate_on_pattern_skips_other_types(redis_client: Any, redis_url: str) -> None:
    redis_client.set("k:1", "one")
    redis_client.rpush("k:2", "x")
    lf = redis.scan_strings(redis_url, "k:*").filter(pl.col("_key").is_in(["k:1", "k:2"]))
    assert collect_both(lf).rows() == [("k:1", "one")]


def test_non_utf8_values(redis_client: Any, redis_url: str) -> None:
    redis_client.set("bin", b"\xff\xfeok")
    binary = redis.read_strings(redis_url, keys=["bin"], value_type=pl.Binary)
    assert binary["value"].to_list() == [b"\xff\xfeok"]
    with pytest.raises(redis.ParseError, match=r'key "bin", field `value`: .*\\xff\\xfeok'):
        redis.read_strings(redis_url, keys=["bin"])
    lenient = redis.read_strings(redis_url, keys=["bin"], strict=False)
    assert lenient.rows() == [("bin", None)]


def test_strictness_names_key_field_value(redis_client: Any, redis_url: str) -> None:
    redis_client.mset({"n:1": "10", "n:2": "ten"})
    with pytest.raises(redis.ParseError, match=r'key "n:2", field `count`: .*"ten" as Int64'):
        redis.read_strings(redis_url, "n:*", value_type=pl.Int64, value_column_name="count")
    df = redis.read_strings(redis_url, "n:*", value_type=pl.Int64, strict=False).sort("_key")
    assert df.rows() == [("n:1", 10), ("n:2", None)]


def test_non_utf8_key(redis_client: Any, redis_url: str) -> None:
    redis_client.set(b"k\xff", "v")
    with pytest.raises(redis.ParseError, match=r"k\\xff"):
        redis.read_strings(redis_url)
    assert redis.read_strings(redis_url, strict=False).rows() == [(None, "v")]
    assert redis.read_strings(redis_url, include_key=False).rows() == [("v",)]


def test_ttl_column(redis_client: Any, redis_url: str) -> None:
    redis_client.set("t:1", "a", ex=500)
    redis_client.set("t:2", "b")
    df = redis.read_strings(redis_url, "t:*", include_ttl=True).sort("_key")
    ttl = df["_ttl"].to_list()
    assert 490 <= ttl[0] <= 500 and ttl[1] is None


def test_schema_agrees_for_every_option(redis_client: Any, redis_url: str) -> None:
    redis_client.mset({"x:1": "1", "x:2": "2"})
    scan = partial(redis.scan_strings, redis_url)
    check_schema_combinations(
        scan,
        [
            {},
            {"value_type": pl.Int64, "value_column_name": "n"},
            {"value_type": pl.Categorical},
            {"value_type": pl.Enum(["1", "2"])},
        ],
    )


def test_limit_projection_and_iteration(redis_client: Any, redis_url: str) -> None:
    redis_client.mset({f"i:{i:03}": str(i) for i in range(100)})
    lf = redis.scan_strings(redis_url, "i:*", value_type=pl.Int64, batch_size=7)
    assert collect_both(lf.head(10)).height == 10
    assert collect_both(lf.select("value")).columns == ["value"]
    assert collect_both(lf.select(pl.len())).item() == 100
    batches = list(redis.iter_strings(redis_url, "i:*", value_type=pl.Int64, batch_size=7))
    assert max(b.height for b in batches) <= 7
    assert rows_of(iter(batches))["value"].sort().to_list() == list(range(100))
    assert math.isclose(lf.select(pl.col("value").mean()).collect().item(), 49.5)


def test_empty_database_keeps_schema(redis_url: str) -> None:
    df = collect_both(redis.scan_strings(redis_url, value_type=pl.Float32, include_ttl=True))
    assert df.schema == pl.Schema({"_key": pl.String, "value": pl.Float32, "_ttl": pl.Int64})
    assert df.height == 0


def test_bad_arguments(redis_url: str) -> None:
    with pytest.raises(redis.InvalidInputError, match="not both"):
        redis.scan_strings(redis_url, "a*", keys=["a"])
    with pytest.raises(redis.InvalidInputError, match="used twice"):
        redis.scan_strings(redis_url, value_column_name="_key")
    with pytest.raises(redis.InvalidInputError, match="not supported for Redis values"):
        redis.scan_strings(redis_url, value_type=pl.Object)
