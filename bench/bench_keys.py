"""Benchmark: ``scan_keys(include_ttl=True, include_memory=True)`` against a
pipelined redis-py script.

Seeds N string keys (default 1 000 000; every other one with a TTL) and
lists them with their type, TTL and memory two ways:

* ``polars_redis.scan_keys(url, pattern, include_ttl=True, include_memory=True)``;
* redis-py (hiredis): ``SCAN ... COUNT 1000`` pages, then one pipeline per
  page of ``TYPE``, ``PTTL`` and ``MEMORY USAGE`` per key, the replies decoded
  once into a DataFrame of the same columns.

For each it reports the best wall time of ``--repeat`` runs, keys per second,
server CPU per key (``INFO cpu`` deltas) and client CPU. Both results are
checked to hold the same keys, types and memory.

Without ``--url`` a throw-away ``redis-server`` is started
(``tests/redis_servers.py``; source ``.redis/env.sh`` first). Build the
extension in release mode first::

    .venv/bin/maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_keys.py --keys 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_strings import measure, server_url

PATTERN = "bench:k:*"


def seed(client: redis.Redis, count: int) -> None:
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        key = f"bench:k:{i:07}"
        if i % 2:
            pipe.set(key, f"value-{i}", ex=3600 + i)
        else:
            pipe.set(key, f"value-{i}")
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()


def with_redis_py(url: str) -> pl.DataFrame:
    client = redis.Redis.from_url(url)
    keys: list[str] = []
    types: list[str] = []
    ttls: list[int | None] = []
    memory: list[int] = []
    cursor = 0
    while True:
        cursor, page = client.scan(cursor, match=PATTERN, count=1000)
        if page:
            pipe = client.pipeline(transaction=False)
            for key in page:
                pipe.type(key)
                pipe.pttl(key)
                pipe.memory_usage(key)
            replies = pipe.execute()
            for i, key in enumerate(page):
                key_type, pttl, used = replies[3 * i : 3 * i + 3]
                if pttl == -2 or used is None:
                    continue
                keys.append(key.decode())
                types.append(key_type.decode())
                ttls.append(None if pttl < 0 else (pttl + 500) // 1000)
                memory.append(used)
        if cursor == 0:
            break
    client.close()
    return pl.DataFrame(
        {"_key": keys, "type": types, "_ttl": ttls, "memory_bytes": memory},
        schema={"_key": pl.String, "type": pl.String, "_ttl": pl.Int64, "memory_bytes": pl.Int64},
    )


def with_polars_redis(url: str) -> pl.DataFrame:
    return polars_redis.scan_keys(url, PATTERN, include_ttl=True, include_memory=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing server (its database is flushed!)")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with server_url(args.url) as url:
        client = redis.Redis.from_url(url)
        seed(client, args.keys)
        _, ours = measure(client, lambda: with_polars_redis(url))
        _, theirs = measure(client, lambda: with_redis_py(url))
        assert ours.height == theirs.height == args.keys, (ours.height, theirs.height)
        same = ["_key", "type", "memory_bytes"]
        assert ours.select(same).sort("_key").equals(theirs.select(same).sort("_key"))
        fast = min(
            (measure(client, lambda: with_polars_redis(url))[0] for _ in range(args.repeat)),
            key=lambda r: r.wall,
        )
        slow = min(
            (measure(client, lambda: with_redis_py(url))[0] for _ in range(args.repeat)),
            key=lambda r: r.wall,
        )
        client.close()

    print(f"{args.keys:,} keys, TYPE + PTTL + MEMORY USAGE each, best of {args.repeat}")
    header = ("lister", "wall s", "keys/s", "server us/key", "client CPU s")
    print(f"{header[0]:<12}" + "".join(f"{h:>15}" for h in header[1:]))
    for name, run in (("scan_keys", fast), ("redis-py", slow)):
        print(
            f"{name:<12}{run.wall:>15.3f}{run.rows_per_second:>15,.0f}"
            f"{run.server_cpu / run.rows * 1e6:>15.2f}{run.client_cpu:>15.3f}"
        )
    print(f"speedup: {slow.wall / fast.wall:.1f}x")
    return {"keys": args.keys, "scan_keys": vars(fast), "redis_py": vars(slow)}


if __name__ == "__main__":
    main()
