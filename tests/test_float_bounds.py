"""A float literal in a pushed-down filter is the exact f64 Polars holds.

serde_json's default float parsing can be off by one unit in the last place
(4.105875975053103e-101 read as 4.1058759750531027e-101), and a bound one ulp
short silently dropped the row equal to it from a ZRANGE BYSCORE or an
FT.AGGREGATE range. Ground truth: the same filter applied to a full read.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import polars_redis as redis

#: Values whose shortest decimal form serde_json's fast path misreads.
AWKWARD = [4.105875975053103e-101, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2]


@pytest.mark.parametrize("value", AWKWARD)
def test_zset_score_bounds_are_exact(redis_url: str, redis_client: Any, value: float) -> None:
    redis_client.zadd("z", {"at": value, "zero": 0.0})
    for predicate in (pl.col("score") <= value, pl.col("score") >= value, pl.col("score") == value):
        pushed = redis.scan_zsets(redis_url, keys=["z"]).filter(predicate).collect()
        full = redis.read_zsets(redis_url, keys=["z"]).filter(predicate)
        assert pushed.sort("member").rows() == full.sort("member").rows(), predicate
        assert ("z", "at", value) in pushed.rows()


def test_search_numeric_bounds_are_exact(stack_url: str, stack_client: Any) -> None:
    value = AWKWARD[0]
    stack_client.hset("fb:1", mapping={"x": repr(value)})
    stack_client.hset("fb:2", mapping={"x": "1.0"})
    redis.create_index(stack_url, "fb", "fb:", {"x": pl.Float64})
    lf = redis.scan_hashes(stack_url, "fb:*", {"x": pl.Float64}).filter(pl.col("x") <= value)
    assert "FT.AGGREGATE" in redis.explain_pushdown(lf)
    assert lf.collect()["_key"].to_list() == ["fb:1"]
