"""Benchmark: small keyed reads through a reusable client (``polars_redis.connect``).

Seeds hashes of five fields with redis-py, then times one call at a time,
reporting p50 / p99 per call over ``--calls`` calls after a warm-up:

* ``read_hashes(client, keys=[...], schema=...)`` with a pooled client;
* ``read_hashes(url, keys=[...], schema=...)`` (a URL: new connections every call);
* the baseline: a pooled redis-py (hiredis) client sending the same ``HGETALL``s in
  one pipeline, replies decoded once (``decode_responses=True``);
* for where the time goes: the same read through the binding alone (one
  ``_internal`` scanner made once, each call running it with the client's pool
  and making a DataFrame of its batches), without the Python facade
  (argument checks, scanner set-up, the Polars lazy plan).

for 10 and 1,000 listed keys, on plain TCP and on TLS (a throw-away
``redis-server --tls-port`` with a test CA made by the openssl CLI). The
target: the pooled client's p50 within 1.5x of redis-py's.

Build the extension in release mode first::

    .venv/bin/maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_pooled.py --calls 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis
from polars_redis import hashes
from polars_redis._plugin import bind

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))
from redis_servers import RedisServer  # noqa: E402
from tls_servers import TlsRedisServer, issue_certificate, make_ca, start_tls_server  # noqa: E402

FIELDS = ["name", "email", "age", "score", "active"]
SCHEMA = {"name": pl.String, "email": pl.String, "age": pl.Int64, "score": pl.Float64}
SCHEMA["active"] = pl.Boolean


def seed(client: redis.Redis, count: int) -> list[str]:
    pipe = client.pipeline(transaction=False)
    keys = [f"bench:p:{i}" for i in range(count)]
    for i, key in enumerate(keys):
        pipe.hset(
            key,
            mapping={
                "name": f"user {i}",
                "email": f"user{i}@example.com",
                "age": i % 90,
                "score": i * 0.5,
                "active": "true" if i % 2 else "false",
            },
        )
    pipe.execute()
    return keys


def percentiles(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """p50 and p99 of one call of ``fn``, in milliseconds."""
    for _ in range(max(10, calls // 20)):
        fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def run_cases(
    label: str, url: str, redis_kwargs: dict[str, Any], keys: list[str], calls: int
) -> list[tuple[str, int, str, float, float]]:
    rows = []
    baseline_client = redis.Redis(decode_responses=True, **redis_kwargs)
    client = polars_redis.connect(url)
    try:
        for n in (10, 1000):
            listed = keys[:n]
            reps = calls if n <= 10 else max(50, calls // 10)

            def redis_py(listed: list[str] = listed) -> list[dict[str, str]]:
                pipe = baseline_client.pipeline(transaction=False)
                for key in listed:
                    pipe.hgetall(key)
                return pipe.execute()

            def pooled(listed: list[str] = listed) -> pl.DataFrame:
                return polars_redis.read_hashes(client, keys=listed, schema=SCHEMA)

            def unpooled(listed: list[str] = listed) -> pl.DataFrame:
                return polars_redis.read_hashes(url, keys=listed, schema=SCHEMA)

            args = bind(hashes.scan_hashes, client, None, SCHEMA, keys=listed)
            scanner, _ = hashes._hash_scanner(args)

            def binding_only(scanner: Any = scanner) -> pl.DataFrame:
                return pl.concat([pl.DataFrame(table) for table in scanner.batches()])

            assert pooled().height == n and len(redis_py()) == n
            for name, fn, count in (
                ("redis-py pooled pipeline", redis_py, reps),
                ("read_hashes(client)", pooled, reps),
                ("binding only, pooled", binding_only, reps),
                ("read_hashes(url)", unpooled, max(20, reps // 5)),
            ):
                p50, p99 = percentiles(fn, count)
                rows.append((label, n, name, p50, p99))
    finally:
        client.close()
        baseline_client.close()
    return rows


def tls_server(directory: Path) -> tuple[TlsRedisServer, Path]:
    ca = make_ca(directory, "ca")
    cert, key = issue_certificate(
        directory, "server", ca, usage="serverAuth", alt_names="IP:127.0.0.1"
    )
    no_persistence = ("--save", "", "--appendonly", "no")
    return start_tls_server((cert, key), ca[1], extra_args=no_persistence, name="bench-tls"), ca[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per 10-key case")
    parser.add_argument("--no-tls", action="store_true", help="skip the TLS cases")
    args = parser.parse_args()

    rows = []
    server = RedisServer.plain(extra_args=["--save", "", "--appendonly", "no"])
    try:
        keys = seed(server.client(), 1000)
        kwargs = {"host": server.host, "port": server.port}
        rows += run_cases("tcp", server.url, kwargs, keys, args.calls)
    finally:
        server.stop()
    if not args.no_tls:
        with tempfile.TemporaryDirectory() as tmp:
            tls, ca = tls_server(Path(tmp))
            try:
                kwargs = {
                    "host": "127.0.0.1",
                    "port": tls.tls_port,
                    "ssl": True,
                    "ssl_ca_certs": str(ca),
                }
                keys = seed(redis.Redis(**kwargs), 1000)
                url = f"rediss://127.0.0.1:{tls.tls_port}?ssl_ca_certs={ca}"
                rows += run_cases("tls", url, kwargs, keys, args.calls)
            finally:
                tls.stop()

    header = f"{'transport':<9} {'keys':>5}  {'case':<26} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"{header} {'p50 / redis-py':>15}")
    baseline: dict[tuple[str, int], float] = {}
    for label, n, name, p50, p99 in rows:
        if name.startswith("redis-py"):
            baseline[(label, n)] = p50
        ratio = p50 / baseline[(label, n)]
        print(f"{label:<9} {n:>5}  {name:<26} {p50:>8.3f} {p99:>8.3f} {ratio:>14.2f}x")


if __name__ == "__main__":
    main()
