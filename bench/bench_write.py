"""Write benchmark: polars-redis beside a plain redis-py pipeline doing the
same job, on a dedicated server started for the run.

Jobs (each on an empty database, best of ``--repeat`` runs):

* hashes with a TTL, 10 mixed columns: ``write_hashes(df, url, ttl=...)``
  against a redis-py pipeline of ``HSET`` + ``EXPIRE`` per row;
* strings with a TTL: ``write_strings`` against ``SET ... EX``;
* JSON documents with a TTL (Redis Stack): ``write_json`` against
  ``JSON.SET`` + ``EXPIRE``;
* the cost of each conflict mode for hashes (``replace`` = MULTI/DEL/HSET/
  EXPIRE/EXEC, ``append`` without TTL = one HSET, ``append`` with TTL and
  ``skip`` = the write script via EVALSHA, ``fail`` = EXISTS pass + script).

For every run it prints rows/s and the server-bound efficiency: server CPU
seconds (``INFO cpu`` used_cpu_user + used_cpu_sys deltas) per wall second.
The redis-py baseline formats values with Polars (``cast(pl.String)``)
before the loop, so it measures the pipeline, not Python's ``str()``.

Run (release build first: ``maturin develop --release``)::

    .venv/bin/python bench/bench_write.py                 # 100k and 1M rows
    .venv/bin/python bench/bench_write.py --rows 100000 --repeat 5 --modes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redis_servers import HarnessUnavailable, RedisServer

import polars_redis as pr

TTL = 3600
PIPELINE = 1000


def mixed_frame(rows: int) -> pl.DataFrame:
    """10 value columns of mixed types (ints, float, text, bool, date, datetime
    with a zone, decimal) and the key."""
    return (
        pl.select(i=pl.int_range(rows))
        .with_columns(
            _key=pl.format("user:{}", pl.col("i")),
            id=pl.col("i"),
            name=pl.format("name-{}", pl.col("i") * 7919 % 100_003),
            age=(pl.col("i") % 90).cast(pl.Int32),
            score=pl.col("i").cast(pl.Float64) / 7.0,
            active=pl.col("i") % 3 == 0,
            city=pl.format("city-{}", pl.col("i") % 50),
            joined=pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 1000),
            seen=pl.lit(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
            + pl.duration(seconds=pl.col("i")),
            balance=(pl.col("i") % 100_000).cast(pl.Decimal(12, 2)),
            email=pl.format("user{}@example.com", pl.col("i")),
        )
        .drop("i")
    )


@dataclass
class Run:
    name: str
    rows: int
    wall: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.wall

    @property
    def efficiency(self) -> float:
        return self.server_cpu / self.wall


def server_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measure(name: str, server: RedisServer, rows: int, job: Callable[[], Any], repeat: int) -> Run:
    client = server.client()
    best: Run | None = None
    for _ in range(repeat):
        client.flushall()
        cpu0, t0 = server_cpu(client), time.perf_counter()
        job()
        wall = time.perf_counter() - t0
        run = Run(name, rows, wall, server_cpu(client) - cpu0)
        if client.dbsize() == 0:
            raise RuntimeError(f"{name}: nothing was written")
        if best is None or run.wall < best.wall:
            best = run
    assert best is not None
    print(
        f"  {best.name:<42} {best.rows:>9,} rows  {best.wall:7.2f} s  "
        f"{best.rate:>11,.0f} rows/s  server-bound {best.efficiency:4.2f}",
        flush=True,
    )
    return best


def redis_py_job(
    server: RedisServer, rows: Callable[[], Any], queue: Callable[[Any, Any], None]
) -> Callable[[], None]:
    """A redis-py pipeline (no transaction) flushed every PIPELINE rows:
    ``queue(pipe, row)`` adds the commands of one row."""

    def job() -> None:
        pipe = server.client().pipeline(transaction=False)
        for n, row in enumerate(rows()):
            queue(pipe, row)
            if n % PIPELINE == PIPELINE - 1:
                pipe.execute()
        pipe.execute()

    return job


def redis_py_hashes(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    columns = [c for c in df.columns if c != "_key"]

    def queue(pipe: Any, row: tuple[Any, ...]) -> None:
        pipe.hset(row[0], mapping={c: v for c, v in zip(columns, row[1:]) if v is not None})
        pipe.expire(row[0], TTL)

    return redis_py_job(server, lambda: df.cast(pl.String).iter_rows(), queue)


def redis_py_strings(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    return redis_py_job(
        server,
        lambda: df.select("_key", "email").iter_rows(),
        lambda pipe, row: pipe.set(row[0], row[1], ex=TTL),
    )


def redis_py_json(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    def queue(pipe: Any, row: dict[str, Any]) -> None:
        key = row.pop("_key")
        pipe.execute_command("JSON.SET", key, "$", json.dumps(row))
        pipe.expire(key, TTL)

    return redis_py_job(
        server,
        lambda: df.with_columns(pl.col(pl.Date, pl.Datetime, pl.Decimal).cast(pl.String)).iter_rows(
            named=True
        ),
        queue,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", action="store_true", help="also time each if_exists mode")
    parser.add_argument("--no-json", action="store_true", help="skip the Redis Stack JSON job")
    args = parser.parse_args()

    server = RedisServer.plain(name="bench-write")
    stack = None
    if not args.no_json:
        try:
            stack = RedisServer.stack(name="bench-write-stack")
        except HarnessUnavailable as exc:
            print(f"(no JSON job: {exc})")
    try:
        for rows in args.rows:
            df = mixed_frame(rows)
            print(f"\n{rows:,} rows, {df.width - 1} value columns, TTL {TTL}s")
            ours = measure(
                "polars-redis write_hashes",
                server,
                rows,
                lambda df=df: pr.write_hashes(df, server.url, ttl=TTL),
                args.repeat,
            )
            base = measure(
                "redis-py pipeline HSET+EXPIRE",
                server,
                rows,
                redis_py_hashes(server, df),
                args.repeat,
            )
            print(f"  -> hashes: {ours.rate / base.rate:.1f}x redis-py")
            ours = measure(
                "polars-redis write_strings",
                server,
                rows,
                lambda df=df: pr.write_strings(df, server.url, value_column="email", ttl=TTL),
                args.repeat,
            )
            base = measure(
                "redis-py pipeline SET EX", server, rows, redis_py_strings(server, df), args.repeat
            )
            print(f"  -> strings: {ours.rate / base.rate:.1f}x redis-py")
            if stack is not None:
                ours = measure(
                    "polars-redis write_json",
                    stack,
                    rows,
                    lambda df=df, url=stack.url: pr.write_json(df, url, ttl=TTL),
                    args.repeat,
                )
                base = measure(
                    "redis-py pipeline JSON.SET+EXPIRE",
                    stack,
                    rows,
                    redis_py_json(stack, df),
                    args.repeat,
                )
                print(f"  -> json: {ours.rate / base.rate:.1f}x redis-py")
            if args.modes:
                for label, kwargs in [
                    ("replace, ttl (MULTI/DEL/HSET/EXPIRE/EXEC)", {"ttl": TTL}),
                    ("replace, no ttl (MULTI/DEL/HSET/EXEC)", {}),
                    ("append, no ttl (HSET)", {"if_exists": "append"}),
                    ("append, ttl (EVALSHA script)", {"if_exists": "append", "ttl": TTL}),
                    ("skip, ttl (EVALSHA guarded script)", {"if_exists": "skip", "ttl": TTL}),
                    ("fail, ttl (EXISTS pass + script)", {"if_exists": "fail", "ttl": TTL}),
                ]:
                    measure(
                        label,
                        server,
                        rows,
                        lambda df=df, kw=kwargs: pr.write_hashes(df, server.url, **kw),
                        args.repeat,
                    )
    finally:
        server.stop()
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
