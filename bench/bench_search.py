"""Benchmark: filters answered by a RediSearch index vs scan + filter.

Seeds N hashes (default 1,000,000) with five fields, indexes a NUMERIC and a
TAG field, and times, best of several runs:

* a filter selecting about 1% of the rows (NUMERIC range, TAG equality),
  read with ``index=None`` (SCAN every hash, filter client-side) and with
  the default ``index="auto"`` (the index answers, only matches are fetched);
* the same with a 2-field projection;
* for the design choice of the search-driven fetch: ``FT.AGGREGATE`` loading
  the fields itself vs loading keys and fetching with pipelined ``HMGET``
  (both through redis-py, so only their ratio means something);
* a complete sorted search (``sort_by``, 1% of the rows): ``search_hashes``
  beside the redis-py code that gets the same ordered rows (``SORTBY ... MAX``
  with the exact count, a cursor, pipelined ``HGETALL``), and beside the same
  search unsorted, with the server's CPU per run.

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


SORTED_QUERY = "@n:[0 (1000]"  # 1% of the rows, in 1,000 distinct values of n


def sorted_results(url: str, repeat: int) -> list[dict[str, Any]]:
    """A sorted search, complete: ``search_hashes(sort_by=...)`` beside the
    redis-py code that gets the same complete, ordered rows (``SORTBY ...
    MAX`` with the exact count, a cursor, then pipelined ``HGETALL``), and
    beside the same search unsorted. Server CPU from ``INFO cpu``."""
    client = redis.Redis.from_url(url, protocol=3)
    count = client.execute_command(
        "FT.SEARCH", "bench", SORTED_QUERY, "LIMIT", "0", "0", "DIALECT", "2"
    )[b"total_results"]

    def redis_py_sorted() -> int:
        reply, cursor = client.execute_command(
            "FT.AGGREGATE", "bench", SORTED_QUERY, "LOAD", "2", "@__key", "@n",
            "SORTBY", "2", "@n", "ASC", "MAX", str(count),
            "WITHCURSOR", "COUNT", "1000", "TIMEOUT", "10000", "DIALECT", "2",
        )  # fmt: skip
        keys = [row[b"extra_attributes"][b"__key"] for row in reply[b"results"]]
        while cursor:
            reply, cursor = client.execute_command("FT.CURSOR", "READ", "bench", cursor)
            keys += [row[b"extra_attributes"][b"__key"] for row in reply[b"results"]]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        rows = pipe.execute()
        pl.DataFrame([{k.decode(): v.decode() for k, v in row.items()} for row in rows])
        return len(rows)

    def ours(sort_by: str | None) -> Callable[[], int]:
        return lambda: (
            pr.search_hashes(url, "bench", SORTED_QUERY, SCHEMA, sort_by=sort_by).collect().height
        )

    cases = {
        "redis-py: SORTBY MAX + cursor + HGETALL": redis_py_sorted,
        "search_hashes(sort_by='n')": ours("n"),
        "search_hashes (unsorted)": ours(None),
    }
    results = []
    for name, run in cases.items():
        before = server_cpu(client)
        seconds, rows = best_of(repeat, run)
        server = (server_cpu(client) - before) / repeat
        assert rows == count, (name, rows, count)
        results.append(
            {
                "sorted search (complete)": name,
                "rows": rows,
                "best s": round(seconds, 4),
                "rows/s": round(rows / seconds),
                "server CPU s/run": round(server, 4),
            }
        )
        print(results[-1], flush=True)
    return results


def server_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


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
        print()
        print(pl.DataFrame(sorted_results(url, args.repeat_index)))
        print(f"load average after: {os.getloadavg()}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
