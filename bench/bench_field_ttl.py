"""Benchmark: the cost of ``field_ttl=True`` on a hash read, beside the same
read without it and a pipelined redis-py script reading the same columns.

Seeds N hashes ``bench:f:{i}`` of 5 fields (default 200 000), 3 of them with
a field expiry (``HEXPIRE``), on a Redis 7.4+ server (the Redis Stack
server of the tests unless ``--url``), and reads them three ways:

* ``polars_redis.read_hashes(url, pattern, schema)``: values only;
* the same with ``field_ttl=True``: 5 more ``<field>_ttl`` columns (``HTTL``
  per key in the same pipeline);
* redis-py (hiredis): ``SCAN ... COUNT 1000 TYPE hash`` pages, then one
  pipeline per page of ``HGETALL`` and ``HTTL key FIELDS 5 ...`` per key,
  decoded once into a DataFrame of the same columns (the baseline).

For each it reports the best wall time of ``--repeat`` runs, rows per
second, server CPU per row (``INFO cpu`` deltas) and client CPU. The two
``field_ttl`` results are checked to hold the same values and TTLs (apart
by at most the time between the two reads)::

    .venv/bin/maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_field_ttl.py --keys 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_strings import best_of, measure, server_url

PATTERN = "bench:f:*"
FIELDS = ["price", "stock", "views", "name", "score"]
EXPIRING = {"price": 3600, "stock": 600, "views": 60}
SCHEMA = {
    "price": pl.Float64,
    "stock": pl.Int64,
    "views": pl.Int64,
    "name": pl.String,
    "score": pl.Float64,
}


def seed(client: redis.Redis, count: int) -> None:
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        key = f"bench:f:{i:07}"
        pipe.hset(
            key,
            mapping={"price": i * 0.5, "stock": i % 50, "views": i % 997, "name": f"item {i}",
                     "score": i / 7},
        )  # fmt: skip
        for field, seconds in EXPIRING.items():
            pipe.hexpire(key, seconds + i % 100, field)
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()


def with_redis_py(url: str) -> pl.DataFrame:
    client = redis.Redis.from_url(url)
    columns: dict[str, list[Any]] = {"_key": []}
    for field in FIELDS:
        columns[field] = []
        columns[f"{field}_ttl"] = []
    cursor = 0
    while True:
        cursor, page = client.scan(cursor, match=PATTERN, count=1000, _type="hash")
        if page:
            pipe = client.pipeline(transaction=False)
            for key in page:
                pipe.hgetall(key)
                pipe.httl(key, *FIELDS)
            replies = pipe.execute()
            for i, key in enumerate(page):
                values, ttls = replies[2 * i], replies[2 * i + 1]
                if not values:
                    continue
                columns["_key"].append(key.decode())
                for field, ttl in zip(FIELDS, ttls):
                    value = values.get(field.encode())
                    columns[field].append(None if value is None else value.decode())
                    read = value is not None and ttl >= 0
                    columns[f"{field}_ttl"].append(ttl if read else None)
        if cursor == 0:
            break
    client.close()
    df = pl.DataFrame(columns, schema={name: pl.String for name in columns} | {
        f"{field}_ttl": pl.Int64 for field in FIELDS
    })  # fmt: skip
    return df.with_columns(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items())


def with_field_ttl(url: str) -> pl.DataFrame:
    return polars_redis.read_hashes(url, PATTERN, SCHEMA, field_ttl=True)


def without_field_ttl(url: str) -> pl.DataFrame:
    return polars_redis.read_hashes(url, PATTERN, SCHEMA)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing Redis 7.4+ server (its database is flushed!)")
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with server_url(args.url, stack=True) as url:
        client = redis.Redis.from_url(url)
        seed(client, args.keys)
        # Same rows both ways (and a warm-up for each).
        started = time.monotonic()
        _, ours = measure(client, lambda: with_field_ttl(url))
        _, theirs = measure(client, lambda: with_redis_py(url))
        elapsed = time.monotonic() - started
        assert ours.height == theirs.height == args.keys, (ours.height, theirs.height)
        ours, theirs = ours.sort("_key"), theirs.sort("_key").select(ours.columns)
        values = ["_key", *FIELDS]
        assert ours.select(values).equals(theirs.select(values))
        for field in FIELDS:  # TTLs agree, up to the time between the two reads
            gap = (ours[f"{field}_ttl"] - theirs[f"{field}_ttl"]).abs().max()
            assert gap is None or gap <= elapsed + 1, (field, gap)  # type: ignore[operator]
        runs = {
            "values only": best_of(client, lambda: without_field_ttl(url), args.repeat),
            "field_ttl=True": best_of(client, lambda: with_field_ttl(url), args.repeat),
            "redis-py": best_of(client, lambda: with_redis_py(url), args.repeat),
        }
        client.close()

    print(f"{args.keys:,} hashes of 5 fields (3 expiring), best of {args.repeat}")
    header = ("reader", "wall s", "rows/s", "server us/row", "client CPU s")
    print(f"{header[0]:<16}" + "".join(f"{h:>15}" for h in header[1:]))
    for name, run in runs.items():
        print(
            f"{name:<16}{run.wall:>15.3f}{run.rows_per_second:>15,.0f}"
            f"{run.server_cpu / run.rows * 1e6:>15.2f}{run.client_cpu:>15.3f}"
        )
    ttl, plain, py = runs["field_ttl=True"], runs["values only"], runs["redis-py"]
    print(f"field_ttl cost: {ttl.wall / plain.wall:.2f}x the values-only read")
    print(f"speedup vs redis-py (same columns): {py.wall / ttl.wall:.1f}x")
    return {"keys": args.keys, **{name: vars(run) for name, run in runs.items()}}


if __name__ == "__main__":
    main()
