"""Benchmark: what a bulk read or write costs an online client of the same Redis.

    python bench/bench_online_latency.py [--url URL] [--n 1000000] [--json out.json]
                                         [--cases read write]

An online-latency probe (its own process, one redis-py connection with hiredis,
one ``GET`` every 2 ms) runs beside each call; its p50/p99 are reported for an
idle window and during each call, with the call's own rows/s:

  read   N hashes of 5 fields, read with ``read_hashes``: default options,
         ``latency_budget_ms=1``, and ``rate_limit`` at a quarter of the
         default call's speed; beside the redis-py baseline (SCAN + pipelined
         HGETALL, 1000 per pipeline, decoded once into a DataFrame).
  write  the same N rows written with ``write_hashes``: default options,
         ``latency_budget_ms=1``, and ``rate_limit`` at a quarter of the
         default speed; beside redis-py pipelined HSET (1000 per pipeline,
         one connection).

Targets (issue 12): with ``latency_budget_ms=1`` the probe's p99 is at most
the idle p99 + 1.5 ms while the call keeps at least 40% of its default speed;
a rate limit is met within 10% (each rate-limited case prints the rate asked
and the rate measured).

Without ``--url`` a throw-away ``redis-server`` is started on a free loopback
port (FLUSHALL allowed); with ``--url`` only ``online:*`` keys are deleted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
import redis
from _common import command_line, format_machine, machine_info, redis_target, write_json

import polars_redis

PREFIX = "online:"
SCHEMA = {"name": pl.String, "age": pl.Int64, "score": pl.Float64, "city": pl.String}
PROBE_INTERVAL = 0.002
IDLE_SECONDS = 3.0


def probe(url: str, control: Connection) -> None:
    """The online client: one GET every 2 ms until told to stop; sends back
    (monotonic start, latency seconds) pairs."""
    r = redis.Redis.from_url(url)
    r.set("probe", "x" * 64)
    samples: list[tuple[float, float]] = []
    control.send("ready")
    while not control.poll():
        start = time.perf_counter()
        r.get("probe")
        samples.append((start, time.perf_counter() - start))
        time.sleep(PROBE_INTERVAL)
    control.send(samples)


@dataclass
class Case:
    name: str
    rows: int
    start: float
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def frame(n: int) -> pl.DataFrame:
    i = pl.int_range(0, n, eager=True)
    return pl.DataFrame(
        {
            "_key": PREFIX + "user:" + i.cast(pl.String),
            "name": "name-" + i.cast(pl.String),
            "age": i % 90,
            "score": i.cast(pl.Float64) / 7,
            "city": pl.Series(["Paris", "Oslo", "Lima", "Kyiv"]).gather(i % 4),
        }
    )


def timed(name: str, call: Callable[[], int]) -> Case:
    start = time.perf_counter()
    rows = call()
    return Case(name, rows, start, time.perf_counter() - start)


def redispy_read(url: str) -> int:
    r = redis.Redis.from_url(url)
    rows: list[dict[bytes, bytes]] = []
    keys: list[bytes] = []
    for key in r.scan_iter(match=PREFIX + "user:*", count=1000, _type="hash"):
        keys.append(key)
        if len(keys) == 1000:
            rows += _hgetall(r, keys)
            keys = []
    rows += _hgetall(r, keys)
    df = pl.DataFrame([{k.decode(): v.decode() for k, v in row.items()} for row in rows])
    return df.height


def _hgetall(r: redis.Redis, keys: list[bytes]) -> list[dict[bytes, bytes]]:
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    return pipe.execute()


def redispy_write(url: str, df: pl.DataFrame) -> int:
    r = redis.Redis.from_url(url)
    pipe = r.pipeline(transaction=False)
    for n, row in enumerate(df.iter_rows(named=True), 1):
        key = row.pop("_key")
        pipe.hset(key, mapping=row)
        if n % 1000 == 0:
            pipe.execute()
    pipe.execute()
    return df.height


def read_cases(url: str, n: int) -> list[Case]:
    pattern = PREFIX + "user:*"

    def read(**options: Any) -> Callable[[], int]:
        return lambda: polars_redis.read_hashes(url, pattern, SCHEMA, **options).height

    cases = [timed("read redis-py (baseline)", lambda: redispy_read(url))]
    default = timed("read_hashes default", read())
    cases.append(default)
    cases.append(timed("read_hashes latency_budget_ms=1", read(latency_budget_ms=1)))
    quarter = round(default.rows_per_s / 4)
    cases.append(timed(f"read_hashes rate_limit={quarter}", read(rate_limit=quarter)))
    for case in cases:
        assert case.rows == n, (case.name, case.rows, n)
    return cases


def write_cases(url: str, df: pl.DataFrame, clear: Callable[[], None]) -> list[Case]:
    def write(**options: Any) -> Callable[[], int]:
        return lambda: polars_redis.write_hashes(df, url, **options).written

    cases = [timed("write redis-py (baseline)", lambda: redispy_write(url, df))]
    clear()
    default = timed("write_hashes default", write())
    cases.append(default)
    clear()
    cases.append(timed("write_hashes latency_budget_ms=1", write(latency_budget_ms=1)))
    clear()
    quarter = round(default.rows_per_s / 4)
    cases.append(timed(f"write_hashes rate_limit={quarter}", write(rate_limit=quarter)))
    return cases


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<40} {'rows/s':>11} {'share':>6} {'probe p50':>10} {'probe p99':>10} {'GETs':>6}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        share = f"{row['share']:.0%}" if row["share"] is not None else ""
        rate = f"{row['rows_per_s']:,.0f}" if row["rows_per_s"] else ""
        lines.append(
            f"{row['case']:<40} {rate:>11} {share:>6} {row['p50_ms']:>8.3f}ms"
            f" {row['p99_ms']:>8.3f}ms {row['samples']:>6}"
        )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="use this server instead of starting one")
    p.add_argument("--n", type=int, default=1_000_000, help="hashes (default 1000000)")
    p.add_argument("--cases", nargs="+", choices=["read", "write"], default=["read", "write"])
    p.add_argument("--json", help="also write the results to this JSON file")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    with redis_target(args.url) as target:
        r = target.client()
        print(format_machine(machine_info(r)))
        print(f"$ {command_line()}\n")
        df = frame(args.n)
        target.clear(PREFIX)
        polars_redis.write_hashes(df, target.url)
        parent, child = multiprocessing.get_context("spawn").Pipe()
        prober = multiprocessing.get_context("spawn").Process(
            target=probe, args=(target.url, child)
        )
        prober.start()
        parent.recv()
        idle_start = time.perf_counter()
        time.sleep(IDLE_SECONDS)
        cases = [Case("idle", 0, idle_start, time.perf_counter() - idle_start)]
        if "read" in args.cases:
            cases += read_cases(target.url, args.n)
        if "write" in args.cases:
            cases += write_cases(target.url, df, lambda: target.clear(PREFIX))
        parent.send("stop")
        samples: list[tuple[float, float]] = parent.recv()
        prober.join()

    rows = []
    full = {c.name.split()[0]: c.rows_per_s for c in cases if c.name.endswith("default")}
    for case in cases:
        during = [lat for at, lat in samples if case.start <= at < case.start + case.seconds]
        kind = case.name.split()[0]
        rows.append(
            {
                "case": case.name,
                "rows": case.rows,
                "seconds": case.seconds,
                "rows_per_s": case.rows_per_s,
                "share": case.rows_per_s / full[kind] if kind in full else None,
                "p50_ms": percentile(during, 0.50) * 1e3,
                "p99_ms": percentile(during, 0.99) * 1e3,
                "mean_ms": (statistics.fmean(during) * 1e3) if during else float("nan"),
                "samples": len(during),
            }
        )
    print(table(rows))
    for case in cases:
        if "rate_limit=" in case.name:
            asked = float(case.name.rsplit("=", 1)[1])
            off = case.rows_per_s / asked - 1
            print(
                f"{case.name}: asked {asked:,.0f}/s, measured {case.rows_per_s:,.0f}/s ({off:+.1%})"
            )
    print(
        "\nshare: rows/s against the default call of the same kind; probe: one GET every"
        " 2 ms on its own connection, latencies of the GETs that started during the case."
    )
    if args.json:
        write_json(args.json, {"command": command_line(), "n": args.n, "cases": rows})


if __name__ == "__main__":
    main()
