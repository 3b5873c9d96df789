"""scan_sets / read_sets / iter_sets against a real Redis server."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import polars as pl
import pytest
from collection_helpers import (
    DTYPE_CASES,
    DTYPE_IDS,
    calls_during,
    check_schema_combinations,
    collect_both,
    rows_of,
)

import polars_redis as redis


def _pairs(df: pl.DataFrame, member: str = "member") -> Counter[tuple[Any, Any]]:
    return Counter(zip(df["_key"].to_list(), df[member].to_list()))


def _truth(client: Any, pattern: str) -> Counter[tuple[str, str]]:
    return Counter(
        (key.decode(), member.decode())
        for key in client.scan_iter(match=pattern, _type="set")
        for member in client.smembers(key)
    )


def test_small_and_large_sets_match_redis_py(redis_client: Any, redis_url: str) -> None:
    for i in range(40):
        redis_client.sadd(f"s:{i}", *[f"m{j}" for j in range(i % 7 + 1)])
    # Larger than a page: read with SSCAN, each member exactly once.
    redis_client.sadd("s:big", *[f"member-{j}" for j in range(5000)])
    redis_client.hset("s:hash", "f", "v")
    redis_client.rpush("s:list", "x")
    lf = redis.scan_sets(redis_url, "s:*", batch_size=100)
    calls = calls_during(redis_client, lambda: collect_both(lf))
    df = collect_both(lf)
    assert _pairs(df) == _truth(redis_client, "s:*")
    assert df.filter(pl.col("_key") == "s:big")["member"].n_unique() == 5000
    # Two collects: each small set in one SSCAN, the big one in ~100-member pages.
    assert 2 * (40 + 5000 // 200) <= calls["sscan"] <= 2 * (40 + 5000 // 50)
    assert "smembers" not in calls and "lrange" not in calls and "hgetall" not in calls
    small = calls_during(redis_client, lambda: redis.read_sets(redis_url, "s:[0-9]*"))
    assert small["sscan"] == small["scard"] == 40


def test_chunks_follow_batch_size_not_set_size(redis_client: Any, redis_url: str) -> None:
    redis_client.sadd("huge", *range(20000))
    redis_client.sadd("tiny", "a", "b")
    batches = list(redis.iter_sets(redis_url, batch_size=1000, member_type=pl.Int64, strict=False))
    assert sum(b.height for b in batches) == 20002
    assert max(b.height for b in batches) < 2000
    whole = rows_of(iter(batches))
    assert sorted(whole.filter(pl.col("_key") == "huge")["member"].to_list()) == list(range(20000))


@pytest.mark.parametrize(("dtype", "texts", "expected"), DTYPE_CASES, ids=DTYPE_IDS)
def test_every_dtype_round_trips(
    redis_client: Any, redis_url: str, dtype: Any, texts: list[bytes], expected: list[Any]
) -> None:
    redis_client.sadd("typed", *texts)
    df = collect_both(redis.scan_sets(redis_url, keys=["typed"], member_type=dtype))
    assert df.schema["member"] == (dtype() if isinstance(dtype, type) else dtype)
    assert Counter(map(repr, df["member"].to_list())) == Counter(map(repr, expected))


def test_keys_list(redis_client: Any, redis_url: str) -> None:
    redis_client.sadd("a", "1", "2")
    redis_client.sadd("b", "3")
    df = redis.read_sets(redis_url, keys=["b", "missing", "a", "b"], member_type=pl.Int64)
    assert df["_key"].to_list()[0] == "b"  # key order, each key once
    assert _pairs(df) == Counter({("b", 3): 1, ("a", 1): 1, ("a", 2): 1})
    redis_client.set("plain", "x")
    with pytest.raises(redis.WrongTypeError, match=r'key "plain" holds a string, not a set'):
        redis.read_sets(redis_url, keys=["a", "plain"])


def test_non_utf8_members(redis_client: Any, redis_url: str) -> None:
    redis_client.sadd("bin", b"\xff\x00", b"ok")
    binary = redis.read_sets(redis_url, member_type=pl.Binary)
    assert sorted(binary["member"].to_list()) == [b"ok", b"\xff\x00"]
    with pytest.raises(redis.ParseError, match=r'key "bin", field `member`: .*\\xff'):
        redis.read_sets(redis_url)
    lenient = redis.read_sets(redis_url, strict=False)
    assert Counter(lenient["member"].to_list()) == Counter(["ok", None])


def test_limit_counts_rows_not_keys(redis_client: Any, redis_url: str) -> None:
    redis_client.sadd("one", *range(5000))
    redis_client.sadd("two", *range(10))
    lf = redis.scan_sets(redis_url)
    assert collect_both(lf.head(7)).height == 7
    calls = calls_during(redis_client, lambda: lf.head(3).collect())
    # A 3-row limit asks for 3 members at a time and stops early; reading all
    # of "one" would take about 5000 / 3 SSCAN calls.
    assert 1 <= calls["sscan"] <= 20
    assert collect_both(lf.select(pl.len())).item() == 5010


def test_schema_agrees_for_every_option(redis_client: Any, redis_url: str) -> None:
    redis_client.sadd("x", "1", "2")
    check_schema_combinations(
        partial(redis.scan_sets, redis_url),
        [{}, {"member_type": pl.UInt8, "member_column_name": "m"}, {"member_type": pl.Categorical}],
    )


def test_nested_member_types_are_refused(redis_url: str) -> None:
    with pytest.raises(redis.InvalidInputError, match=r"`member`: Struct.*not supported for set"):
        redis.scan_sets(redis_url, member_type=pl.Struct({"a": pl.Int64}))


def test_empty_database_keeps_schema(redis_url: str) -> None:
    df = collect_both(redis.scan_sets(redis_url, member_type=pl.Int16, include_row_index=True))
    assert df.schema == pl.Schema({"_index": pl.UInt32, "_key": pl.String, "member": pl.Int16})
    assert df.height == 0
