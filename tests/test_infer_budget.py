"""``rate_limit`` and ``latency_budget_ms`` on the ``infer_*`` functions: the
``SCAN`` walk and the reads of the sample paced and sized by the call's load
budget.

Ground truth is written with redis-py. The pacing is observed from outside:
wall time for the rate limit, and what the client sends (seen by a proxy)
for the latency budget.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import polars as pl
import pytest
from tcp_proxy import Proxy

import polars_redis
from polars_redis import InvalidInputError

COUNT_ARG = re.compile(rb"\$5\r\nCOUNT\r\n\$\d+\r\n(\d+)\r\n")


def load(client: Any, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"ib:{i}", mapping={"n": i, "name": f"name-{i}"})
    pipe.execute()


def test_rate_limit_paces_the_walk_and_the_sample(redis_url: str, redis_client: Any) -> None:
    load(redis_client, 3000)
    start = time.perf_counter()
    unlimited = polars_redis.infer_hash_schema(redis_url, "ib:*", sample_size=3000)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    paced = polars_redis.infer_hash_schema(redis_url, "ib:*", sample_size=3000, rate_limit=10_000)
    elapsed = time.perf_counter() - start
    assert dict(paced) == dict(unlimited) == {"n": pl.Int64, "name": pl.String}
    assert paced.sample_count == 3000
    assert paced.complete_scan
    # At least the 3000 keys read, at 10,000/s: 0.3 s (plus the SCAN pages).
    assert elapsed >= 0.25, (elapsed, fast)
    assert elapsed < 5.0, elapsed


def test_latency_budget_sizes_scan_pages_and_sample_reads(
    redis_url: str, redis_client: Any
) -> None:
    load(redis_client, 20_000)
    counts: list[int] = []
    most_reads = 0
    lock = threading.Lock()

    def watch(data: bytes) -> None:
        nonlocal most_reads
        with lock:
            counts.extend(int(n) for n in COUNT_ARG.findall(data))
            most_reads = max(most_reads, data.count(b"HGETALL"))

    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with Proxy(port, on_client_bytes=watch) as proxy:
        inferred = polars_redis.infer_hash_schema(
            proxy.url, "ib:*", sample_size=5000, latency_budget_ms=0.2
        )
    assert dict(inferred) == {"n": pl.Int64, "name": pl.String}
    assert inferred.sample_count == 5000
    assert inferred.complete_scan
    assert inferred.keys_seen == 20_000
    # The default COUNT is 1000 and the sample is read 1000 keys a pipeline.
    assert counts, "no SCAN seen"
    assert counts[0] == 8, counts[:3]
    assert max(counts) < 1000, max(counts)
    assert 0 < most_reads < 500, most_reads


@pytest.mark.parametrize("infer", ["infer_hash_schema", "infer_json_schema", "infer_stream_schema"])
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("rate_limit", 0, "rate_limit must be a positive number"),
        ("rate_limit", float("inf"), "rate_limit must be a positive number"),
        ("latency_budget_ms", -1.0, "latency_budget_ms must be a positive number"),
    ],
)
def test_budgets_that_limit_nothing_are_refused(
    redis_url: str, infer: str, option: str, value: float, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        getattr(polars_redis, infer)(redis_url, "ib:*", **{option: value})
