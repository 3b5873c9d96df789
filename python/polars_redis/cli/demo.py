"""``polars-redis demo``: the tour of the quick start. It writes sample users
under ``demo:`` (with a 10-minute TTL, so nothing stays behind on your own
server), reads them back every way the library offers, and writes a result
back."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import polars as pl

import polars_redis as redis

USERS = 50_000
PATTERN = "demo:user:*"
SCHEMA = {
    "name": pl.String,
    "age": pl.Int64,
    "active": pl.Boolean,
    "score": pl.Float64,
    "joined": pl.Datetime("ms", "UTC"),
}


def sample_users(n: int) -> pl.DataFrame:
    """``n`` users; every 10th has no score (read back as null)."""
    i = pl.int_range(n)
    joined = pl.lit(datetime(2024, 1, 1, tzinfo=timezone.utc)) + pl.duration(minutes=i)
    return pl.select(
        _key=pl.format("demo:user:{}", i),
        name=pl.format("user-{}", i),
        age=18 + i % 60,
        active=i % 3 != 0,
        score=pl.when(i % 10 == 0).then(None).otherwise((i * 0.37 % 100).round(2)),
        joined=joined.dt.cast_time_unit("ms"),
    )


def _timed(what: str, call: Any) -> Any:
    started = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - started
    rows = value.height if isinstance(value, pl.DataFrame) else getattr(value, "written", 0)
    print(f"{what}: {rows:,} rows in {seconds:.3f} s ({rows / seconds:,.0f} rows/s)")
    return value


def tour(url: str, search: bool) -> None:
    users = sample_users(USERS)
    _timed("write_hashes", lambda: redis.write_hashes(users, url, ttl=600))

    lf = redis.scan_hashes(url, PATTERN, SCHEMA, include_ttl=True)
    everyone = _timed("read (scan_hashes + collect)", lf.collect)
    print(everyone.sort("_key").head(3))

    print("\nActive users by age band (only the two needed fields are fetched):")
    by_band = (
        lf.filter(pl.col("active"))
        .group_by((pl.col("age") // 10 * 10).alias("age_band"))
        .agg(pl.len().alias("users"), pl.col("score").mean().round(2).alias("mean_score"))
        .sort("age_band")
    )
    print(by_band.collect())

    print("\nPoint lookups (a key filter becomes direct reads, no SCAN):")
    print(lf.filter(pl.col("_key").is_in(["demo:user:7", "demo:user:10"])).collect())

    print("\nBatches of 10,000 rows with bounded memory:")
    for i, batch in enumerate(redis.iter_hashes(url, PATTERN, SCHEMA, batch_size=10_000)):
        mean_age = batch.select(pl.col("age").mean()).item()
        print(f"  batch {i}: {batch.height:,} rows, mean age {mean_age:.1f}")

    print("\nWrite back a derived field (append: the other fields and the TTL stay):")
    levels = everyone.select(
        "_key", level=pl.when(pl.col("score") >= 50).then(pl.lit("gold")).otherwise(pl.lit("basic"))
    )
    print(" ", redis.write_hashes(levels, url, if_exists="append"))

    if search:
        _search_tour(url)
    else:
        print("\n(RediSearch part skipped: the server has no search module; use Redis Stack)")


def _search_tour(url: str) -> None:
    print("\nRediSearch: an index makes a filter run inside Redis:")
    if redis.index_exists(url, "demo-users"):
        redis.drop_index(url, "demo-users")
    redis.create_index(
        url, "demo-users", "demo:user:", {"age": pl.Int64, "score": pl.Float64}, sortable=["score"]
    )
    while redis.index_info(url, "demo-users").get("indexing") not in (0, "0", False):
        time.sleep(0.1)
    query = redis.scan_hashes(url, PATTERN, SCHEMA).filter(
        (pl.col("age") >= 70) & (pl.col("score") > 95)
    )
    print(redis.explain_pushdown(query))
    print(query.select("_key", "age", "score").sort("score", descending=True).head(5).collect())
    redis.drop_index(url, "demo-users")
