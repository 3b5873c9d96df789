"""Benchmark: what the core's logging costs a read, off and on.

Seeds N hashes (default 200 000, four fields each) and reads them three
ways, interleaved round by round (each round starting with another case) so
that drift hits all of them alike:

* ``off``: ``read_hashes`` with the ``polars_redis`` logger at WARNING (the
  default level);
* ``debug``: the same with the logger at DEBUG and a handler that counts
  the records (every connection, scan and per-batch record crosses into
  Python);
* ``redis-py``: the baseline, a pipelined redis-py (hiredis) script: SCAN
  pages of 1000 keys, one pipeline of HGETALL per page, decoded once into a
  DataFrame of the same columns.

It reports the best wall time of ``--repeat`` runs, rows per second, server
CPU per row (``INFO cpu`` deltas), client CPU, and the records the DEBUG run
handled. Without ``--url`` a throw-away ``redis-server`` is started
(``tests/redis_servers.py``; source ``.redis/env.sh`` first). Build the
extension in release mode first::

    .venv/bin/maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_logging.py --keys 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_strings import Run, measure, server_url

PATTERN = "bench:h:*"
SCHEMA = {"name": pl.String, "age": pl.Int64, "score": pl.Float64, "city": pl.String}


class Counting(logging.Handler):
    """Counts the records it handles (formatting each, as a real handler would)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        record.getMessage()
        self.count += 1


def seed(client: redis.Redis, count: int) -> None:
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(
            f"bench:h:{i:07}",
            mapping={"name": f"user-{i}", "age": i % 90, "score": i / 7, "city": "Lyon"},
        )
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()


def with_polars_redis(url: str) -> pl.DataFrame:
    return polars_redis.read_hashes(url, PATTERN, SCHEMA, include_key=False)


def with_redis_py(url: str) -> pl.DataFrame:
    client = redis.Redis.from_url(url)
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA}
    for_page: list[bytes] = []
    cursor = 0
    while True:
        cursor, for_page = client.scan(cursor, match=PATTERN, count=1000, _type="hash")
        if for_page:
            pipe = client.pipeline(transaction=False)
            for key in for_page:
                pipe.hgetall(key)
            for row in pipe.execute():
                for name in SCHEMA:
                    value = row.get(name.encode())
                    columns[name].append(value.decode() if value is not None else None)
        if cursor == 0:
            break
    client.close()
    return pl.DataFrame(columns, schema=dict.fromkeys(SCHEMA, pl.String)).cast(SCHEMA)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing server (its database is flushed!)")
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    logger = logging.getLogger("polars_redis")
    handler = Counting()
    records: list[int] = []

    def logging_off() -> pl.DataFrame:
        logger.setLevel(logging.WARNING)
        return with_polars_redis(url)

    def logging_debug() -> pl.DataFrame:
        logger.setLevel(logging.DEBUG)
        before = handler.count
        df = with_polars_redis(url)
        records.append(handler.count - before)
        logger.setLevel(logging.WARNING)
        return df

    cases = {"off": logging_off, "debug": logging_debug, "redis-py": None}
    with server_url(args.url) as url:
        client = redis.Redis.from_url(url)
        seed(client, args.keys)
        logger.addHandler(handler)
        cases["redis-py"] = lambda: with_redis_py(url)
        runs: dict[str, list[Run]] = {name: [] for name in cases}
        names = list(cases)
        for round_ in range(args.repeat + 1):  # the first round warms up
            # Each round starts with another case, so no case always follows the same one.
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                read = cases[name]
                assert read is not None
                run, df = measure(client, read)
                assert df.height == args.keys, (name, df.height)
                if round_:
                    runs[name].append(run)
        logger.removeHandler(handler)
        client.close()

    best = {name: min(r, key=lambda run: run.wall) for name, r in runs.items()}
    print(f"{args.keys:,} hashes (4 fields), read_hashes, best of {args.repeat}")
    header = ("case", "wall s", "rows/s", "server us/row", "client CPU s")
    print(f"{header[0]:<10}" + "".join(f"{h:>15}" for h in header[1:]))
    for name, run in best.items():
        print(
            f"{name:<10}{run.wall:>15.3f}{run.rows_per_second:>15,.0f}"
            f"{run.server_cpu / run.rows * 1e6:>15.2f}{run.client_cpu:>15.3f}"
        )
    print(f"records handled per DEBUG read: {max(records)}")
    off, debug = best["off"].wall, best["debug"].wall
    print(f"DEBUG vs off: {(debug / off - 1) * 100:+.1f}% wall")
    return {name: vars(run) for name, run in best.items()}


if __name__ == "__main__":
    main()
