"""What each read knob costs: ``read_hashes`` swept over ``batch_size``,
``parallelism``, ``fetch`` with projections, and ``count_hint``, beside the
redis-py script of ``bench_hashes.py`` (SCAN + pipelined HGETALL) in the same
run. The figures of the performance guide (docs/performance.md) come from it.

    python bench/bench_knobs.py [--url URL] [--n 200000] [--repeat 3]

Without ``--url`` a throw-away ``redis-server`` is started on a free port.
The data is ``bench_hashes.py``'s: N hashes of 10 mixed fields plus N/20
strings the ``TYPE`` filter skips. Every case is the best of ``--repeat``
runs in this process; the columns are rows/s, the ratio to the redis-py
script, server CPU and client CPU per row (microseconds), and the
server-bound efficiency (server CPU seconds per wall second: 1.0 means the
single-threaded server was busy the whole time, so the client is not the
limit).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _common import (
    Run,
    command_line,
    format_machine,
    load_pipelined,
    machine_info,
    measure_once,
    redis_target,
)
from bench_hashes import FORMATS, PATTERN, PREFIX, PROJ2, PROJ5, SCHEMA, _Adder, n_strings
from bench_hashes import redispy_hgetall as redispy_script

import polars_redis as pr


@dataclass
class Case:
    name: str
    run: Callable[[str], Any]


def _read(**knobs: Any) -> Callable[[str], Any]:
    columns = knobs.pop("columns", None)

    def run(url: str) -> int:
        lf = pr.scan_hashes(url, PATTERN, SCHEMA, formats=FORMATS, **knobs)
        if columns is not None:
            lf = lf.select(columns)
        return lf.collect().height

    return run


def cases() -> list[Case]:
    out = [Case("redis-py script (SCAN + HGETALL x1000)", redispy_script)]
    out.append(Case("read_hashes defaults", _read()))
    for size in (100, 1_000, 10_000):
        out.append(Case(f"batch_size={size}", _read(batch_size=size)))
    for workers in (1, 2, 4, 8):
        out.append(Case(f"parallelism={workers}", _read(parallelism=workers)))
    for cols, label in ((PROJ2, "2 of 10"), (PROJ5, "5 of 10")):
        for fetch in ("hmget", "hgetall"):
            out.append(Case(f"select {label}, fetch={fetch}", _read(columns=cols, fetch=fetch)))
    for hint in (100, 10_000):
        out.append(Case(f"count_hint={hint}", _read(count_hint=hint)))
    return out


def best(fn: Callable[[], Any], url: str, repeat: int) -> Run:
    import redis

    r = redis.Redis.from_url(url)
    fn()  # warm-up
    return min((measure_once(fn, r, sample_rss=False) for _ in range(repeat)), key=lambda x: x.wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="an existing server (keys under bench: are replaced)")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"$ {command_line()}")
    with redis_target(args.url) as target:
        r = target.client()
        print(format_machine(machine_info(r)))
        target.clear(PREFIX)
        load_pipelined(target.url, args.n + n_strings(args.n), _Adder(args.n))
        print(f"\n{args.n:,} hashes (10 fields) + {n_strings(args.n):,} strings\n")
        header = f"{'case':<42} {'rows/s':>10} {'vs py':>6} {'srv us/row':>10} "
        header += f"{'cli us/row':>10} {'srv eff':>7}"
        print(header)
        baseline = None
        for case in cases():
            run = best(lambda case=case: case.run(target.url), target.url, args.repeat)
            rate = args.n / run.wall
            baseline = baseline or rate
            print(
                f"{case.name:<42} {rate:>10,.0f} {rate / baseline:>5.2f}x "
                f"{run.server_cpu / args.n * 1e6:>10.2f} {run.client_cpu / args.n * 1e6:>10.2f} "
                f"{run.server_cpu / run.wall:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
