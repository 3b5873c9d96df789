"""polars-redis in one minute: load sample data into Redis, then query it with Polars.

Usage: python examples/quickstart.py redis://127.0.0.1:6379

It writes (and finally deletes) keys under ``demo:``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

import polars as pl
import redis

import polars_redis as pr

N_USERS = 50_000


def load_sample_data(url: str) -> None:
    """Write demo:user:{i} hashes with a plain redis-py pipeline."""
    client = redis.Redis.from_url(url)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    pipe = client.pipeline(transaction=False)
    for i in range(N_USERS):
        user = {
            "name": f"user-{i}",
            "age": 18 + i % 60,
            "active": "true" if i % 3 else "false",
            "score": round(i * 0.37 % 100, 2),
            "joined": (start + timedelta(minutes=i)).isoformat(),
        }
        if i % 10 == 0:
            del user["score"]  # sparse field: read back as null
        pipe.hset(f"demo:user:{i}", mapping=user)
        if i % 5 == 0:
            pipe.expire(f"demo:user:{i}", 3600)
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()


def main(url: str) -> None:
    load_sample_data(url)
    schema = {
        "name": pl.String,
        "age": pl.Int64,
        "active": pl.Boolean,
        "score": pl.Float64,
        "joined": pl.Datetime("ms", "UTC"),
    }
    users = pr.scan_hashes(url, "demo:user:*", schema, include_ttl=True)

    started = time.perf_counter()
    everyone = users.collect()
    seconds = time.perf_counter() - started
    rate = everyone.height / seconds
    print(f"read {everyone.height:,} hashes in {seconds:.3f} s ({rate:,.0f} rows/s)")
    print(everyone.sort("_key").head(5))

    print("\nActive users by age band (projection: only 2 fields are fetched):")
    print(
        users.filter(pl.col("active"))
        .group_by((pl.col("age") // 10 * 10).alias("age_band"))
        .agg(pl.len().alias("users"), pl.col("score").mean().round(2).alias("mean_score"))
        .sort("age_band")
        .collect()
    )

    print("\nPoint lookups (the key filter becomes direct reads, no SCAN):")
    print(users.filter(pl.col("_key").is_in(["demo:user:7", "demo:user:10"])).collect())

    print("\nFirst 3 batches of 1000 rows, memory-bounded iteration:")
    for i, batch in enumerate(pr.iter_hashes(url, "demo:user:*", schema, batch_size=1000)):
        print(f"  batch {i}: {batch.height} rows, mean age {batch['age'].mean():.1f}")
        if i == 2:
            break

    redis.Redis.from_url(url).delete(*(f"demo:user:{i}" for i in range(N_USERS)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379")
