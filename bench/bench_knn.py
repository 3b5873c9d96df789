"""Benchmark: ``knn_join`` (pipelined KNN queries in the Rust core) vs redis-py.

Seeds N hashes (default 100,000) holding a FLOAT32 vector of dimension D
(default 128) as a blob, indexes them (FLAT, exact, or ``--algorithm HNSW``),
and times Q KNN queries (default 10,000, k=10), best of ``--repeat`` runs:

* ``knn_join(..., schema={})``: the queries only (keys and distances of every
  neighbour; no field fetched), as one frame;
* redis-py (hiredis parser): the same ``FT.SEARCH`` queries, pipelined in
  windows of 512 (as many in flight as the core keeps), replies decoded once
  into the same (query, key, distance) triples;

with the server's CPU per query for each (the server's search work dominates:
FLAT compares every query with every vector).

Build the extension in release mode first, then run::

    VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_knn.py              # starts a throw-away Redis Stack
    .venv/bin/python bench/bench_knn.py --rows 20000 --queries 2000 --url redis://127.0.0.1:6380

Measurements on a shared 2-core machine are noisy: check ``uptime`` first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import redis

import polars_redis as pr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _common import server_cpu

WINDOW = 512


def seed(client: Any, url: str, data: np.ndarray, algorithm: str) -> None:
    pipe = client.pipeline(transaction=False)
    for i, vector in enumerate(data):
        pipe.hset(f"vec:{i}", mapping={"emb": vector.tobytes(), "n": i})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    schema = {"emb": pl.Array(pl.Float32, data.shape[1])}
    pr.create_index(
        url,
        "knnbench",
        "vec:",
        schema,
        vectors={"emb": {"algorithm": algorithm, "metric": "L2"}},
        wait=600.0,
    )


def redis_py_knn(url: str, queries: np.ndarray, k: int) -> int:
    """The same FT.SEARCH queries through redis-py, ``WINDOW`` in flight."""
    client = redis.Redis.from_url(url)
    # redis-py 8 speaks RESP3 by default, as the core does: each reply is a
    # map decoded once by hiredis ({results: [{id, extra_attributes}], ...}).
    query = f"*=>[KNN {k} @emb $__knn_vector AS __knn_distance]"
    triples: list[tuple[int, bytes, float]] = []
    for start in range(0, len(queries), WINDOW):
        pipe = client.pipeline(transaction=False)
        for vector in queries[start : start + WINDOW]:
            pipe.execute_command(
                "FT.SEARCH", "knnbench", query, "PARAMS", "2", "__knn_vector", vector.tobytes(),
                "SORTBY", "__knn_distance", "ASC", "RETURN", "1", "__knn_distance",
                "LIMIT", "0", str(k), "TIMEOUT", "10000", "DIALECT", "2",
            )  # fmt: skip
        for offset, reply in enumerate(pipe.execute()):
            for hit in reply[b"results"]:
                distance = float(hit[b"extra_attributes"][b"__knn_distance"])
                triples.append((start + offset, hit[b"id"], distance))
    client.close()
    return len(triples)


def ours(url: str, queries: np.ndarray, k: int) -> int:
    left = pl.DataFrame({"q": queries}, schema={"q": pl.Array(pl.Float32, queries.shape[1])})
    return pr.knn_join(left, url, "knnbench", "q", k=k, schema={}).height


def measure(url: str, queries: np.ndarray, k: int, repeat: int) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url)
    cases: dict[str, Callable[[], int]] = {
        "redis-py (hiredis), pipelined FT.SEARCH": lambda: redis_py_knn(url, queries, k),
        "knn_join (schema={})": lambda: ours(url, queries, k),
    }
    results = []
    for name, run in cases.items():
        best = float("inf")
        rows = 0
        before = server_cpu(client)
        for _ in range(repeat):
            start = time.perf_counter()
            rows = run()
            best = min(best, time.perf_counter() - start)
        server = (server_cpu(client) - before) / repeat
        assert rows == len(queries) * k, (name, rows)
        results.append(
            {
                "case": name,
                "queries": len(queries),
                "best s": round(best, 3),
                "queries/s": round(len(queries) / best),
                "server CPU ms/query": round(server / len(queries) * 1000, 3),
            }
        )
        print(results[-1], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--algorithm", choices=["FLAT", "HNSW"], default="FLAT")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an existing Redis Stack (flushed!); default: start one")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        from redis_servers import RedisServer

        server = RedisServer.stack()
        url = server.url
    try:
        client = redis.Redis.from_url(url)
        client.flushall()
        rng = np.random.default_rng(0)
        data = rng.standard_normal((args.rows, args.dim)).astype("<f4")
        queries = rng.standard_normal((args.queries, args.dim)).astype("<f4")
        print(f"seeding {args.rows} vectors of dim {args.dim} ({args.algorithm}) ...", flush=True)
        start = time.perf_counter()
        seed(client, url, data, args.algorithm)
        print(f"seeded and indexed in {time.perf_counter() - start:.1f}s; load {os.getloadavg()}")
        print(pl.DataFrame(measure(url, queries, args.k, args.repeat)))
        print(f"load average after: {os.getloadavg()}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
