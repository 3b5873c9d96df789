"""Benchmark: filters answered by a RediSearch index vs scan + filter.

Seeds N hashes (default 1,000,000) with five fields, indexes a NUMERIC and a
TAG field, and times, best of several runs:

* a filter selecting about 1% of the rows (NUMERIC range, TAG equality),
  read with ``index=None`` (SCAN every hash, filter client-side) and with
  the default ``index="auto"`` (the index answers, only matches are fetched);
* the same with a 2-field projection;
* for the design choice of the search-driven fetch: ``FT.AGGREGATE`` loading
  the fields itself vs loading keys and fetching with pipelined ``HMGET``
  (both through redis-py, so only their ratio means something).

Self-contained (``bench/_common.py`` did not exist when it was written).
Build the extension in release mode first, then run::

    VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_search.py            # starts a throw-away Redis Stack
    .venv/bin/python bench/bench_search.py --rows 200000 --url redis://127.0.0.1:6380

The Rust-side LOAD-vs-fetch measurement runs against the server of a
``--url`` run (it keeps the data)::

    POLARS_REDIS_BENCH_URL=redis://127.0.0.1:6380 cargo test --release -p polars-redis \
        --lib -- --ignored load_vs_fetch --nocapture

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

import polars as pl
import redis

import polars_redis as pr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

SCHEMA = {
    "n": pl.Int64,
    "tag": pl.String,
    "name": pl.String,
    "score": pl.Float64,
    "city": pl.String,
}

SEED = """
local first, last = tonumber(ARGV[1]), tonumber(ARGV[2])
local cities = {'ams', 'ber', 'par', 'rom', 'mad', 'lis', 'vie', 'osl', 'hel', 'dub'}
for i = first, last do
    redis.call('HSET', 'bench:' .. i,
        'n', i % 100000,
        'tag', 't' .. (i % 100),
        'name', 'user ' .. i,
        'score', (i % 1000) / 7,
        'city', cities[(i % 10) + 1])
end
return last - first + 1
"""


def seed(client: Any, rows: int) -> None:
    step = 50_000
    for first in range(0, rows, step):
        client.eval(SEED, 0, first, min(rows, first + step) - 1)
    client.execute_command(
        "FT.CREATE", "bench", "ON", "HASH", "PREFIX", "1", "bench:",
        "SCHEMA", "n", "NUMERIC", "tag", "TAG",
    )  # fmt: skip
    while True:
        info = client.execute_command("FT.INFO", "bench")
        info = dict(zip(info[::2], info[1::2])) if isinstance(info, list) else info
        if int(info[b"indexing"]) == 0:
            return
        time.sleep(0.1)


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run()
        best = min(best, time.perf_counter() - start)
    return best, rows


def measure(url: str, rows: int, repeat_scan: int, repeat_index: int) -> list[dict[str, Any]]:
    filters = {
        "n < 1000 (NUMERIC)": pl.col("n") < 1000,
        "tag == 't42' (TAG)": pl.col("tag") == "t42",
    }
    results = []
    for name, predicate in filters.items():
        for projection in (None, ["n", "tag"]):

            def run(
                index: str | None, predicate: pl.Expr = predicate, projection: Any = projection
            ) -> int:
                lf = pr.scan_hashes(url, "bench:*", SCHEMA, index=index).filter(predicate)
                if projection is not None:
                    lf = lf.select(projection)
                return lf.collect().height

            scan_s, scan_rows = best_of(repeat_scan, lambda: run(None))
            index_s, index_rows = best_of(repeat_index, lambda: run("auto"))
            assert scan_rows == index_rows, (scan_rows, index_rows)
            results.append(
                {
                    "filter": name,
                    "columns": "2 (n, tag)" if projection else "all 6",
                    "rows out": index_rows,
                    "scan+filter s": round(scan_s, 3),
                    "scan keys/s": round(rows / scan_s),
                    "index s": round(index_s, 4),
                    "index rows/s": round(index_rows / index_s),
                    "speed-up": round(scan_s / index_s, 1),
                }
            )
            print(results[-1], flush=True)
    return results


def load_vs_fetch(url: str, repeat: int) -> dict[str, float]:
    """Time FT.AGGREGATE LOAD of the fields vs keys then pipelined HMGET."""
    client = redis.Redis.from_url(url, protocol=3)

    def pages(*load: str) -> list[dict[bytes, Any]]:
        out: list[dict[bytes, Any]] = []
        reply, cursor = client.execute_command(
            "FT.AGGREGATE", "bench", "@n:[0 (1000]", "LOAD", str(len(load)), *load,
            "WITHCURSOR", "COUNT", "5000", "TIMEOUT", "10000", "DIALECT", "2",
        )  # fmt: skip
        out += [r[b"extra_attributes"] for r in reply[b"results"]]
        while cursor:
            reply, cursor = client.execute_command("FT.CURSOR", "READ", "bench", cursor)
            out += [r[b"extra_attributes"] for r in reply[b"results"]]
        return out

    def load_fields() -> int:
        return len(pages("@__key", "@n", "@tag"))

    def keys_then_hmget() -> int:
        keys = [row[b"__key"] for row in pages("@__key")]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "n", "tag")
        return len(pipe.execute())

    load_s, _ = best_of(repeat, load_fields)
    fetch_s, _ = best_of(repeat, keys_then_hmget)
    return {"LOAD fields s": round(load_s, 4), "keys + HMGET s": round(fetch_s, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", help="an existing Redis Stack (flushed!); default: start one")
    parser.add_argument("--repeat-scan", type=int, default=3)
    parser.add_argument("--repeat-index", type=int, default=7)
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
        print(f"seeding {args.rows} hashes ...", flush=True)
        start = time.perf_counter()
        seed(client, args.rows)
        print(f"seeded and indexed in {time.perf_counter() - start:.1f}s; load {os.getloadavg()}")
        results = measure(url, args.rows, args.repeat_scan, args.repeat_index)
        print()
        print(pl.DataFrame(results))
        print("search-driven fetch, 1% selection:", load_vs_fetch(url, args.repeat_index))
        print(f"load average after: {os.getloadavg()}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
