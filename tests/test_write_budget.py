"""``latency_budget_ms`` on writes: batches, checked transactions and script
calls sized from the server time observed per row, one request of the write
on a server at a time.

Ground truth is read back with redis-py. The sizing is observed from outside:
the most commands the client sent in one go, seen by a proxy.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import polars as pl
import pytest
from tcp_proxy import Proxy

import polars_redis
from polars_redis import InvalidInputError


def frame(count: int, prefix: str = "wb:") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_key": [f"{prefix}{i}" for i in range(count)],
            "n": list(range(count)),
            "name": [f"name-{i}" for i in range(count)],
        }
    )


def stored(client: Any, df: pl.DataFrame) -> pl.DataFrame:
    pipe = client.pipeline(transaction=False)
    for key in df["_key"]:
        pipe.hgetall(key)
    rows = pipe.execute()
    return pl.DataFrame(
        {
            "_key": df["_key"],
            "n": [int(row[b"n"]) for row in rows],
            "name": [row[b"name"].decode() for row in rows],
        }
    )


def most_in_one_send(url: str, df: pl.DataFrame, command: bytes, **options: Any) -> int:
    """Write ``df`` through a proxy; the most ``command``s the client sent in
    one go (one request at most, when requests wait for their replies)."""
    most = 0
    lock = threading.Lock()

    def count(data: bytes) -> None:
        nonlocal most
        with lock:
            most = max(most, data.count(command))

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with Proxy(port, on_client_bytes=count) as proxy:
        result = polars_redis.write_hashes(df, proxy.url, **options)
    assert result.written == df.height, result
    return most


@pytest.mark.parametrize("if_exists", ["replace", "append", "skip", "fail"])
def test_a_budgeted_write_writes_every_row_once(
    redis_url: str, redis_client: Any, if_exists: str
) -> None:
    df = frame(5000)
    result = polars_redis.write_hashes(
        df, redis_url, if_exists=if_exists, latency_budget_ms=0.3, parallelism=3
    )
    assert result.written == df.height
    assert result.failed == result.unknown == 0
    assert stored(redis_client, df).equals(df)
    assert len(redis_client.keys("wb:*")) == df.height


def test_skip_under_a_budget_keeps_existing_keys(redis_url: str, redis_client: Any) -> None:
    df = frame(3000)
    for i in range(0, 3000, 3):
        redis_client.hset(f"wb:{i}", mapping={"n": -1, "name": "old"})
    result = polars_redis.write_hashes(df, redis_url, if_exists="skip", latency_budget_ms=0.3)
    assert result.written == 2000
    assert result.skipped == 1000
    assert redis_client.hget("wb:0", "name") == b"old"
    assert redis_client.hget("wb:1", "name") == b"name-1"


@pytest.mark.parametrize(
    ("if_exists", "command", "most"),
    [
        ("replace", b"HSET", 100),
        # checked transactions: WATCH, checks, one MULTI/EXEC per batch
        ("skip", b"HSET", 32),
        # the EXISTS pipeline `fail` sends first: far cheaper per key
        ("fail", b"EXISTS", 500),
    ],
)
def test_a_latency_budget_cuts_requests_small(
    redis_url: str, if_exists: str, command: bytes, most: int
) -> None:
    df = frame(5000)
    unlimited = most_in_one_send(redis_url, df, command, if_exists=if_exists)
    polars_redis.delete_keys(redis_url, pattern="wb:*")
    budgeted = most_in_one_send(redis_url, df, command, if_exists=if_exists, latency_budget_ms=0.1)
    # Without a budget a request carries up to 64 (a transaction), 2000 rows
    # (a pipeline) or 5000 EXISTS; 0.1 ms holds a few dozen small rows (the
    # estimate includes the round trips), or a few hundred EXISTS.
    assert unlimited >= 60, unlimited
    assert budgeted <= unlimited // 2, (budgeted, unlimited)
    assert budgeted <= most, budgeted


def test_a_budget_and_a_rate_limit_together(redis_url: str, redis_client: Any) -> None:
    df = frame(2000)
    start = time.perf_counter()
    result = polars_redis.write_strings(
        df.select("_key", pl.col("name").alias("value")),
        redis_url,
        rate_limit=4000,
        latency_budget_ms=0.5,
    )
    elapsed = time.perf_counter() - start
    assert result.written == 2000
    assert 0.4 <= elapsed < 2.0, elapsed
    assert redis_client.get("wb:1999") == b"name-1999"


@pytest.mark.parametrize("value", [0, -1.0, float("nan")])
@pytest.mark.parametrize("write", ["write_hashes", "write_strings"])
def test_a_budget_that_limits_nothing_is_refused(
    redis_url: str, redis_client: Any, write: str, value: float
) -> None:
    df = pl.DataFrame({"_key": ["wb:a"], "value": ["x"]})
    with pytest.raises(InvalidInputError, match="latency_budget_ms must be a positive number"):
        getattr(polars_redis, write)(df, redis_url, latency_budget_ms=value)
    assert redis_client.exists("wb:a") == 0


@pytest.mark.parametrize("if_exists", ["replace", "skip"])
def test_a_budgeted_write_to_a_cluster(
    cluster_url: str, cluster_client: Any, if_exists: str
) -> None:
    # Each master gets its own budget; `skip` goes through script calls there.
    df = frame(3000)
    cluster_client.hset("wb:7", mapping={"n": -1, "name": "old"})
    result = polars_redis.write_hashes(df, cluster_url, if_exists=if_exists, latency_budget_ms=0.3)
    assert result.failed == result.unknown == 0
    assert result.written == (3000 if if_exists == "replace" else 2999)
    assert cluster_client.hget("wb:7", "name") == (b"name-7" if if_exists == "replace" else b"old")
    assert cluster_client.hget("wb:2999", "n") == b"2999"
    assert sum(1 for _ in cluster_client.scan_iter(match="wb:*", count=1000)) == 3000
