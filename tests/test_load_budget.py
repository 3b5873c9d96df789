"""Load budgets: ``rate_limit`` and ``latency_budget_ms`` on reads and writes.

Ground truth is written (and read back) with redis-py. The pacing is observed
from outside: wall time for rate limits, and the commands a client sends in
one go (seen by a proxy) for the latency budget.
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

SCHEMA = {"n": pl.Int64, "name": pl.String}


def load(client: Any, count: int, prefix: str = "lb:") -> pl.DataFrame:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"{prefix}{i}", mapping={"n": i, "name": f"name-{i}"})
    pipe.execute()
    return pl.DataFrame(
        {
            "_key": [f"{prefix}{i}" for i in range(count)],
            "n": list(range(count)),
            "name": [f"name-{i}" for i in range(count)],
        }
    ).sort("_key")


def test_rate_limit_paces_a_scan_over_all_connections(redis_url: str, redis_client: Any) -> None:
    expected = load(redis_client, 3000)
    start = time.perf_counter()
    df = polars_redis.read_hashes(
        redis_url, "lb:*", SCHEMA, rate_limit=6000, parallelism=4, batch_size=500
    )
    elapsed = time.perf_counter() - start
    assert df.sort("_key").equals(expected)
    # 3000 keys at 6000/s: 0.5 s (the first burst of 300 goes at once).
    assert 0.4 <= elapsed < 1.5, elapsed


def test_rate_limit_paces_a_keys_list_and_iter(redis_url: str, redis_client: Any) -> None:
    expected = load(redis_client, 1000)
    keys = expected["_key"].to_list()
    start = time.perf_counter()
    batches = list(polars_redis.iter_hashes(redis_url, schema=SCHEMA, keys=keys, rate_limit=2000))
    elapsed = time.perf_counter() - start
    assert pl.concat(batches).sort("_key").equals(expected)
    assert 0.4 <= elapsed < 1.5, elapsed


def test_latency_budget_reads_everything_exactly_once(redis_url: str, redis_client: Any) -> None:
    expected = load(redis_client, 5000)
    df = polars_redis.read_hashes(redis_url, "lb:*", SCHEMA, latency_budget_ms=0.3)
    assert df.sort("_key").equals(expected)
    lazy = polars_redis.scan_hashes(
        redis_url, "lb:*", SCHEMA, latency_budget_ms=0.3, rate_limit=1e6
    )
    assert lazy.filter(pl.col("n") < 10).collect().height == 10


def most_commands_in_one_send(url: str, **options: Any) -> int:
    """Read every ``lb:*`` hash through a proxy; the most ``HGETALL``s the
    client sent in one go (one pipeline at most, when pipelines wait for
    their replies)."""
    most = 0
    lock = threading.Lock()

    def count(data: bytes) -> None:
        nonlocal most
        with lock:
            most = max(most, data.count(b"HGETALL"))

    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with Proxy(port, on_client_bytes=count) as proxy:
        df = polars_redis.read_hashes(proxy.url, "lb:*", SCHEMA, fetch="hgetall", **options)
    assert df.height == 20_000
    return most


def test_latency_budget_cuts_pipelines_small(redis_url: str, redis_client: Any) -> None:
    load(redis_client, 20_000)
    unlimited = most_commands_in_one_send(redis_url)
    budgeted = most_commands_in_one_send(redis_url, latency_budget_ms=0.2)
    # Without a budget whole batches of 1000 go at once; 0.2 ms holds a few
    # dozen small HGETALLs (the estimate includes the round trip).
    assert unlimited >= 500, unlimited
    assert budgeted <= 200, budgeted


def test_rate_limit_paces_a_write(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": [f"w:{i}" for i in range(2000)], "n": list(range(2000))})
    start = time.perf_counter()
    result = polars_redis.write_hashes(df, redis_url, rate_limit=4000, parallelism=3)
    elapsed = time.perf_counter() - start
    assert result.written == 2000
    assert 0.4 <= elapsed < 1.5, elapsed
    assert redis_client.hget("w:1999", "n") == b"1999"
    assert len(redis_client.keys("w:*")) == 2000


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("rate_limit", 0, "rate_limit must be a positive number"),
        ("rate_limit", -5.0, "rate_limit must be a positive number"),
        ("rate_limit", float("inf"), "rate_limit must be a positive number"),
        ("latency_budget_ms", 0, "latency_budget_ms must be a positive number"),
        ("latency_budget_ms", -1.0, "latency_budget_ms must be a positive number"),
    ],
)
def test_budgets_that_limit_nothing_are_refused(
    redis_url: str, option: str, value: float, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        polars_redis.read_hashes(redis_url, "lb:*", SCHEMA, **{option: value})


def test_write_rate_limit_is_checked(redis_url: str) -> None:
    df = pl.DataFrame({"_key": ["a"], "n": [1]})
    with pytest.raises(InvalidInputError, match="rate_limit must be a positive number"):
        polars_redis.write_hashes(df, redis_url, rate_limit=0)
