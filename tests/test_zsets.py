"""scan_zsets / read_zsets / iter_zsets against a real Redis server."""

from __future__ import annotations

import operator
from functools import partial, reduce
from typing import Any, Callable

import polars as pl
import pytest
from collection_helpers import (
    DTYPE_CASES,
    DTYPE_IDS,
    assert_dtype_round_trip,
    calls_during,
    check_schema_combinations,
    collect_both,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polars_redis as redis

INF = float("inf")


def _truth(client: Any, keys: list[str]) -> list[tuple[str, str, float, int]]:
    return [
        (key, member.decode(), score, rank)
        for key in keys
        for rank, (member, score) in enumerate(client.zrange(key, 0, -1, withscores=True))
    ]


def test_members_scores_ranks_match_redis_py(redis_client: Any, redis_url: str) -> None:
    redis_client.zadd("z:a", {"lo": -INF, "hi": INF, "mid": 0.5, "tie1": 2, "tie0": 2})
    redis_client.zadd("z:b", {f"m{i}": (i * 7919) % 1000 / 8 for i in range(3000)})  # paged
    redis_client.zadd("z:c", {"only": 1e300})
    redis_client.sadd("z:set", "x")
    keys = ["z:a", "z:b", "z:c"]
    lf = redis.scan_zsets(redis_url, keys=keys, include_rank=True, batch_size=500)
    assert collect_both(lf).rows() == _truth(redis_client, keys)
    by_pattern = collect_both(redis.scan_zsets(redis_url, "z:*", include_rank=True))
    assert sorted(by_pattern.rows()) == sorted(_truth(redis_client, keys))
    calls = calls_during(redis_client, lambda: lf.collect())
    assert calls["zcard"] == 3
    assert calls["zrange"] == 3000 // 500 + 1 + 2  # pages (and the end) of z:b; z:a, z:c whole


def test_score_filter_is_pushed_to_redis(redis_client: Any, redis_url: str) -> None:
    # Members outside [10, 20] do not parse as Int64: reading them would raise.
    redis_client.zadd("z", {"not a number": 5, "11": 11, "15": 15, "20": 20, "nope": 25})
    lf = redis.scan_zsets(redis_url, member_type=pl.Int64)
    in_range = lf.filter(pl.col("score").is_between(10, 20))
    assert collect_both(in_range)["member"].to_list() == [11, 15, 20]
    above = lf.filter((pl.col("score") > 11) & (pl.col("score") <= 20))
    assert collect_both(above)["member"].to_list() == [15, 20]
    calls = calls_during(redis_client, lambda: in_range.collect())
    assert calls["zcount"] == 1 and "zcard" not in calls
    # A rank must be the rank in the whole set: no pushdown, every member read.
    ranked = redis.scan_zsets(redis_url, member_type=pl.Int64, include_rank=True)
    with pytest.raises(redis.ParseError, match=r'key "z", field `member`: .*"not a number"'):
        ranked.filter(pl.col("score").is_between(10, 20)).collect()
    lenient = redis.scan_zsets(redis_url, include_rank=True, member_type=pl.Int64, strict=False)
    assert lenient.filter(pl.col("score") >= 11).collect()["rank"].to_list() == [1, 2, 3, 4]


def test_score_pages_continue_past_long_ties(redis_client: Any, redis_url: str) -> None:
    members = {f"t{i:04}": 1.0 for i in range(2500)}
    members.update({f"u{i}": 2.0 + i % 3 for i in range(700)})
    redis_client.zadd("ties", members)
    lf = redis.scan_zsets(redis_url, batch_size=100).filter(pl.col("score") >= 1)
    df = collect_both(lf)
    assert df.height == 3200 and df["member"].n_unique() == 3200
    expected = redis_client.zrange("ties", 0, -1, withscores=True)
    assert df.select("member", "score").rows() == [(m.decode(), s) for m, s in expected]


@st.composite
def _score_predicates(draw: st.DrawFn) -> pl.Expr:
    values = st.one_of(
        st.sampled_from([-INF, -1.5, 0.0, 1.0, 2.0, 3.25, INF]),
        st.floats(allow_nan=False),
        st.integers(-5, 5),
    )
    score = pl.col("score")
    comparisons: list[Callable[[Any], pl.Expr]] = [
        lambda v: score > v,
        lambda v: score >= v,
        lambda v: score < v,
        lambda v: score <= v,
        lambda v: score == v,
        lambda v: v < score,
    ]
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            low = draw(values)
            high = draw(st.one_of(st.just(low), values))  # equal bounds too
            closed = draw(st.sampled_from(["both", "left", "right", "none"]))
            parts.append(score.is_between(low, high, closed=closed))
        else:
            parts.append(draw(st.sampled_from(comparisons))(draw(values)))
    combine = draw(st.sampled_from([operator.and_, operator.or_]))
    return reduce(combine, parts)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    scores=st.lists(
        st.one_of(st.sampled_from([-INF, 0.0, 1.0, 2.0, INF]), st.floats(allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
    predicate=_score_predicates(),
    batch_size=st.sampled_from([1, 3, 1000]),
)
def test_score_pushdown_equals_full_read_and_filter(
    redis_client: Any, redis_url: str, scores: list[float], predicate: pl.Expr, batch_size: int
) -> None:
    redis_client.delete("p:1", "p:2")
    redis_client.zadd("p:1", {f"m{i}": s for i, s in enumerate(scores)})
    redis_client.zadd("p:2", {f"n{i}": s for i, s in enumerate(reversed(scores))})
    scan = partial(redis.scan_zsets, redis_url, keys=["p:1", "p:2"], batch_size=batch_size)
    expected = scan().collect().filter(predicate)
    assert collect_both(scan().filter(predicate)).rows() == expected.rows()
    limited = scan().filter(predicate).head(2)
    assert collect_both(limited).rows() == expected.head(2).rows()


@pytest.mark.parametrize(("dtype", "texts", "expected"), DTYPE_CASES, ids=DTYPE_IDS)
def test_every_dtype_round_trips(
    redis_client: Any, redis_url: str, dtype: Any, texts: list[bytes], expected: list[Any]
) -> None:
    redis_client.zadd("typed", {text: score for score, text in enumerate(texts)})
    df = collect_both(redis.scan_zsets(redis_url, member_type=dtype, include_rank=True))
    assert_dtype_round_trip(df["member"], dtype, expected)
    assert df["score"].to_list() == df["rank"].cast(pl.Float64).to_list()


def test_keys_list_missing_and_wrong_type(redis_client: Any, redis_url: str) -> None:
    redis_client.zadd("z", {"a": 1})
    assert redis.read_zsets(redis_url, keys=["gone", "z"]).rows() == [("z", "a", 1.0)]
    redis_client.hset("h", "f", "v")
    with pytest.raises(redis.WrongTypeError, match=r'key "h" holds a hash, not a zset'):
        redis.read_zsets(redis_url, keys=["z", "h"])


def test_non_utf8_members(redis_client: Any, redis_url: str) -> None:
    redis_client.zadd("bin", {b"\xfe": 1, b"ok": 2})
    binary = redis.read_zsets(redis_url, member_type=pl.Binary)
    assert binary["member"].to_list() == [b"\xfe", b"ok"]
    with pytest.raises(redis.ParseError, match=r'key "bin", field `member`: .*\\xfe'):
        redis.read_zsets(redis_url)
    assert redis.read_zsets(redis_url, strict=False)["member"].to_list() == [None, "ok"]


def test_limit_counts_rows(redis_client: Any, redis_url: str) -> None:
    redis_client.zadd("big", {f"m{i}": i for i in range(50000)})
    lf = redis.scan_zsets(redis_url, include_rank=True)
    calls = calls_during(redis_client, lambda: collect_both(lf.head(4)))
    assert calls["zrange"] == 2  # one 4-member page per collect
    assert lf.head(4).collect()["rank"].to_list() == [0, 1, 2, 3]


def test_schema_agrees_for_every_option(redis_client: Any, redis_url: str) -> None:
    redis_client.zadd("x", {"1": 1, "2": 2})
    check_schema_combinations(
        partial(redis.scan_zsets, redis_url),
        [
            {},
            {"include_rank": True},
            {
                "member_type": pl.Int32,
                "member_column_name": "m",
                "score_column_name": "s",
                "include_rank": True,
                "rank_column_name": "r",
            },
            {"member_type": pl.Categorical},
        ],
    )


def test_empty_database_keeps_schema(redis_url: str) -> None:
    lf = redis.scan_zsets(redis_url, include_rank=True, include_key=False)
    df = collect_both(lf.filter(pl.col("score") > 1))
    assert df.schema == pl.Schema({"member": pl.String, "score": pl.Float64, "rank": pl.Int64})
    assert df.height == 0
