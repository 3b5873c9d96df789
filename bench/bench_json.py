"""Benchmark: reading RedisJSON documents with polars-redis vs a plain redis-py script.

Loads N documents (a nested object and an array each) into a throw-away Redis
Stack server (or ``--url``), then times, best of ``--repeat`` runs:

* ``redis-py``: SCAN, pipelined ``JSON.GET key $`` (raw replies, ``json.loads``),
  ``pl.DataFrame`` with the same schema, datetimes parsed. This is the fastest
  of the plain variants tried (``pipe.json().get`` is about 1.8x slower); install
  ``hiredis`` for the strongest baseline, the report says whether it is used;
* ``polars-redis``: ``read_json`` with that schema (whole documents);
* ``polars-redis 2 fields``: ``scan_json(...).select("id", "score")``, which
  sends ``JSON.GET key $.id $.score``.

Both full reads are checked to give the same frame. For each run it reports
rows/s, the ratio to redis-py, and server-bound efficiency: the server's CPU
seconds (INFO ``used_cpu_user + used_cpu_sys`` delta) over wall seconds; 1.0
means the single-threaded server was busy the whole time.

Build the extension in release mode first (``maturin develop --release``).

    python bench/bench_json.py                 # 100k documents, best of 5
    python bench/bench_json.py --docs 20000 --repeat 3 --url redis://127.0.0.1:6379
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import redis
import redis.utils
from polars.testing import assert_frame_equal

import polars_redis as pr

SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "name": pl.String,
    "score": pl.Float64,
    "active": pl.Boolean,
    "address": pl.Struct(
        {
            "city": pl.String,
            "zip": pl.String,
            "geo": pl.Struct({"lat": pl.Float64, "lon": pl.Float64}),
        }
    ),
    "tags": pl.List(pl.String),
    "created": pl.Datetime("ms", "UTC"),
}
PATTERN = "bench:doc:*"


def document(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"user {i}",
        "score": i * 1.5,
        "active": i % 2 == 0,
        "address": {
            "city": f"city{i % 100}",
            "zip": f"{10000 + i}",
            "geo": {"lat": i % 90 + 0.25, "lon": i % 180 - 0.5},
        },
        "tags": ["a", "b", f"t{i % 7}"],
        "created": f"2024-01-{1 + i % 28:02}T03:04:05.{i % 1000:03}Z",
    }


def load(client: redis.Redis, docs: int) -> None:
    client.flushall()
    pipe = client.pipeline(transaction=False)
    for i in range(docs):
        pipe.json().set(f"bench:doc:{i}", "$", document(i))
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def redis_py_read(client: redis.Redis, batch: int = 1000) -> pl.DataFrame:
    """What a user would write with redis-py: SCAN, pipelined JSON.GET, json.loads.

    ``client`` must not parse JSON.GET replies itself (see :func:`raw_client`).
    """
    keys: list[bytes] = []
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.execute_command("JSON.GET", key, "$")
        for key, reply in zip(keys, pipe.execute()):
            if reply is not None:
                rows.append({"_key": key.decode(), **json.loads(reply)[0]})
        keys.clear()

    for key in client.scan_iter(match=PATTERN, count=batch, _type="ReJSON-RL"):
        keys.append(key)
        if len(keys) == batch:
            flush()
    flush()
    schema = {"_key": pl.String, **SCHEMA, "created": pl.String}
    df = pl.DataFrame(rows, schema=schema)
    return df.with_columns(
        pl.col("created").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="ms", time_zone="UTC")
    )


def raw_client(url: str) -> redis.Redis:
    """A client that hands JSON.GET replies over as bytes (redis-py would
    otherwise parse them with its own callback)."""
    client = redis.Redis.from_url(url)
    client.response_callbacks.pop("JSON.GET", None)
    return client


def server_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measure(
    client: redis.Redis, repeat: int, run: Callable[[], pl.DataFrame]
) -> tuple[float, float, pl.DataFrame]:
    """Best wall time of `repeat` runs, the server CPU of that run, its result."""
    best: tuple[float, float, pl.DataFrame] | None = None
    for _ in range(repeat):
        cpu = server_cpu(client)
        started = time.perf_counter()
        df = run()
        wall = time.perf_counter() - started
        used = server_cpu(client) - cpu
        if best is None or wall < best[0]:
            best = (wall, used, df)
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--parallelism", type=int, default=3)
    parser.add_argument("--url", help="use this server (its database is FLUSHALLed)")
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from redis_servers import RedisServer

        server = RedisServer.stack()
        url = server.url
    try:
        client = redis.Redis.from_url(url)
        print(f"loading {args.docs:,} documents ...", flush=True)
        load(client, args.docs)
        print(
            f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, "
            f"hiredis {'yes' if redis.utils.HIREDIS_AVAILABLE else 'no'}",
            flush=True,
        )
        baseline_client = raw_client(url)

        lf = pr.scan_json(url, PATTERN, SCHEMA, parallelism=args.parallelism)
        runs = {
            "redis-py (pipelined JSON.GET + json.loads + DataFrame)": lambda: redis_py_read(
                baseline_client
            ),
            "polars-redis read_json (all fields)": lf.collect,
            "polars-redis 2-field projection": lambda: lf.select("id", "score").collect(),
        }
        results = {name: measure(client, args.repeat, run) for name, run in runs.items()}

        names = list(results)
        baseline_df = results[names[0]][2].sort("_key")
        assert_frame_equal(results[names[1]][2].sort("_key"), baseline_df)
        projected = results[names[2]][2].sort("id")
        assert_frame_equal(projected, baseline_df.select("id", "score").sort("id"))

        baseline = results[names[0]][0]
        print(f"\n{args.docs:,} documents, best of {args.repeat}, parallelism {args.parallelism}")
        print(f"{'run':58} {'wall s':>7} {'rows/s':>10} {'x redis-py':>10} {'server-bound':>12}")
        for name, (wall, cpu, df) in results.items():
            assert df.height == args.docs, (name, df.height)
            print(
                f"{name:58} {wall:7.3f} {args.docs / wall:10,.0f} "
                f"{baseline / wall:10.2f} {cpu / wall:12.2f}"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
