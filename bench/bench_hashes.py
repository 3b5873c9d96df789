"""Benchmark: reading Redis hashes with polars-redis vs a plain redis-py script.

    python bench/bench_hashes.py [--url URL] [--n 100000 1000000] [--repeat 3]
                                 [--json out.json] [--cases a b ...]

Without ``--url`` a throw-away ``redis-server`` (POLARS_REDIS_SERVER, or
``redis-server`` on PATH) is started on a free loopback port with
``--save "" --appendonly no`` and stopped at the end.

For each size N the database is emptied (FLUSHALL on our own server; only
``bench:*`` keys on a ``--url`` server), then N hashes ``bench:user:{i}`` with
10 fields of mixed types are loaded (``city`` is missing on every 5th key),
plus N/20 string keys under the same prefix that the TYPE filter must skip.

Cases (``--cases``), each timed against the redis-py script named in ``vs``:

  a    redis-py: SCAN MATCH/COUNT 1000/TYPE hash + pipelined HGETALL (1000 per
       pipeline), dict rows -> pl.DataFrame(schema=String) -> casts in Polars
  b    polars_redis.read_hashes, all 10 columns (fetch="auto")           vs a
  c2m  scan_hashes(...).select(2 cols).collect(), fetch="hmget"          vs e2
  c2g  the same with fetch="hgetall"                                     vs e2
  c5m  scan_hashes(...).select(5 cols).collect(), fetch="hmget"          vs e5
  c5g  the same with fetch="hgetall"                                     vs e5
  d    scan_hashes(...).filter(pl.col("age") > 50).collect()             vs a
  e2   redis-py: SCAN + pipelined HMGET of 2 fields -> DataFrame
  e5   redis-py: SCAN + pipelined HMGET of 5 fields -> DataFrame
  f    for df in iter_hashes(..., batch_size=1000): sum(visits)          vs a

Every case runs in a fresh Python process (so RSS growth and allocator state
are not inherited from earlier cases): one warm-up run, then ``--repeat``
timed runs of which the fastest is reported. See ``_common.TABLE_NOTES``
for the columns.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
import redis
from _common import (
    NOISY,
    TABLE_NOTES,
    CaseResult,
    bench,
    command_line,
    emit_result,
    format_machine,
    interference_warnings,
    load_pipelined,
    machine_info,
    module_fingerprint,
    redis_target,
    results_table,
    run_isolated,
    server_summary,
    wait_for_quiet,
    write_json,
)

import polars_redis

PREFIX = "bench:"
PATTERN = "bench:user:*"
BATCH = 1000  # keys per pipeline, for both polars-redis and the redis-py scripts

# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "city": pl.String,  # missing on every 5th key
    "age": pl.Int64,
    "visits": pl.Int64,
    "score": pl.Float64,
    "balance": pl.Float64,
    "active": pl.Boolean,
    "verified": pl.Boolean,
    "created_at": pl.Datetime("us", "UTC"),  # ISO-8601, "2021-03-04T05:06:07Z"
    "last_login": pl.Datetime("ms"),  # epoch milliseconds (see FORMATS)
}
# How last_login is stored: a bare integer is only read as a datetime when declared.
FORMATS = {"last_login": "epoch_ms"}
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

PROJ2 = ["age", "score"]
PROJ5 = ["name", "age", "score", "active", "created_at"]

_FIRST = ["Ada", "Bo", "Cy", "Di", "Eve", "Flo", "Gus", "Hal"]
_LAST = ["Ng", "Li", "Roe", "Kim", "Diaz", "Berg", "Moss", "Oya"]
_CITIES = ["Berlin", "Paris", "Oslo", "Lima", "Tokyo", "Austin", "Cairo", "Delhi", "Quito"]
_EPOCH_2020 = 1_577_836_800


def _h(i: int) -> int:
    return (i * 2654435761) & 0xFFFFFFFF


def _age(h: int) -> int:
    return 18 + (h >> 5) % 73


def _visits(h: int) -> int:
    return (h >> 9) % 10_007


def user_fields(i: int) -> dict[str, str]:
    h = _h(i)
    fields = {
        "name": f"{_FIRST[h % 8]} {_LAST[(h >> 3) % 8]}",
        "age": str(_age(h)),
        "visits": str(_visits(h)),
        "score": f"{(h % 100_000) / 1000:.3f}",
        "balance": f"{((h >> 7) % 2_000_000 - 1_000_000) / 100:.2f}",
        "active": "true" if (h >> 3) & 1 else "false",
        "verified": "true" if (h >> 11) % 4 else "false",
        "created_at": time.strftime(ISO_FORMAT, time.gmtime(_EPOCH_2020 + h % 126_230_400)),
        "last_login": str(1_700_000_000_000 + (h * 1009) % 31_536_000_000),
    }
    if i % 5:
        fields["city"] = _CITIES[(h >> 13) % len(_CITIES)]
    return fields


def n_strings(n: int) -> int:
    return n // 20  # ~5% keys of another type under the same prefix


class _Adder:
    """Picklable loader callback carrying N (spawned workers re-import this module)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, pipe: Any, i: int) -> None:
        if i < self.n:
            pipe.hset(f"bench:user:{i}", mapping=user_fields(i))
        else:
            pipe.set(f"bench:user:{i}", f"not-a-hash-{i}")


@dataclass
class Expected:
    rows: int
    age_gt_50: int
    visits_sum: int


def expected(n: int) -> Expected:
    gt50 = total = 0
    for i in range(n):
        h = _h(i)
        gt50 += _age(h) > 50
        total += _visits(h)
    return Expected(n, gt50, total)


# --------------------------------------------------------------------------
# the redis-py baselines: what a reasonably written script would do
# --------------------------------------------------------------------------


def _typed(df: pl.DataFrame) -> pl.DataFrame:
    """str columns -> the dtypes of SCHEMA, vectorised in Polars."""
    casts = []
    for name in df.columns:
        col = pl.col(name)
        if name in ("age", "visits"):
            casts.append(col.cast(pl.Int64))
        elif name in ("score", "balance"):
            casts.append(col.cast(pl.Float64))
        elif name in ("active", "verified"):
            casts.append(col == "true")
        elif name == "created_at":
            casts.append(col.str.to_datetime(ISO_FORMAT, time_unit="us", time_zone="UTC"))
        elif name == "last_login":
            casts.append(col.cast(pl.Int64).cast(pl.Datetime("ms")))
    return df.with_columns(casts) if casts else df


def _scan_keys(r: redis.Redis) -> Any:
    """Yield lists of up to BATCH hash keys (SCAN MATCH ... COUNT 1000 TYPE hash)."""
    batch: list[str] = []
    for key in r.scan_iter(match=PATTERN, count=1000, _type="hash"):
        batch.append(key)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def redispy_hgetall(url: str) -> pl.DataFrame:
    """SCAN + pipelined HGETALL -> list of dict rows -> DataFrame -> casts."""
    r = redis.Redis.from_url(url, decode_responses=True)
    rows: list[dict[str, str]] = []
    for keys in _scan_keys(r):
        pipe = r.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for key, fields in zip(keys, pipe.execute()):
            if fields:  # deleted since SCAN
                fields["_key"] = key
                rows.append(fields)
    r.close()
    schema = {"_key": pl.String, **{name: pl.String for name in SCHEMA}}
    return _typed(pl.DataFrame(rows, schema=schema))


def redispy_hmget(url: str, fields: list[str]) -> pl.DataFrame:
    """SCAN + pipelined HMGET of a few fields -> row tuples -> DataFrame -> casts."""
    r = redis.Redis.from_url(url, decode_responses=True)
    rows: list[list[str | None]] = []
    for keys in _scan_keys(r):
        pipe = r.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, fields)
        rows.extend(pipe.execute())
    r.close()
    df = pl.DataFrame(rows, schema=dict.fromkeys(fields, pl.String), orient="row")
    return _typed(df)


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    title: str
    ref: str | None
    make: Callable[[str, Expected], Callable[[], Any]]
    check: Callable[[Any, Expected], None]
    rows: Callable[[Any], int] = len


def _check_full(df: pl.DataFrame, exp: Expected) -> None:
    assert df.height == exp.rows, (df.height, exp.rows)
    assert df.columns == ["_key", *SCHEMA], df.columns
    assert df.schema["created_at"] == SCHEMA["created_at"], df.schema
    assert df["city"].null_count() == (exp.rows + 4) // 5, df["city"].null_count()


def _check_cols(cols: list[str]) -> Callable[[Any, Expected], None]:
    def check(df: pl.DataFrame, exp: Expected) -> None:
        assert df.height == exp.rows, (df.height, exp.rows)
        assert df.columns == cols, df.columns
        assert all(df.schema[c] == SCHEMA[c] for c in cols), df.schema

    return check


def _check_filter(df: pl.DataFrame, exp: Expected) -> None:
    assert df.height == exp.age_gt_50, (df.height, exp.age_gt_50)


def _check_iter(value: tuple[int, int], exp: Expected) -> None:
    assert value == (exp.rows, exp.visits_sum), (value, exp)


def _proj(cols: list[str], fetch: str) -> Callable[[str, Expected], Callable[[], Any]]:
    def make(url: str, _exp: Expected) -> Callable[[], Any]:
        return lambda: (
            polars_redis.scan_hashes(url, PATTERN, SCHEMA, formats=FORMATS, fetch=fetch)
            .select(cols)
            .collect()
        )

    return make


def _iter_hashes_compat(
    url: str, pattern: str, schema: dict[str, Any], *, batch_size: int = 1000
) -> Iterator[pl.DataFrame]:
    """What ``polars_redis.iter_hashes`` does (python/polars_redis/hashes.py), for
    installed builds that predate it: the scanner's batch iterator, one
    DataFrame per Arrow batch. SCHEMA has no Categorical/Enum, so no casts."""
    from polars_redis import _internal
    from polars_redis._dtypes import field_specs

    scanner = _internal.HashScanner(
        url,
        field_specs(schema),
        pattern=pattern.encode(),
        key_column="_key",
        batch_size=batch_size,
    )
    batches = scanner.batches()
    try:
        for table in batches:
            yield pl.DataFrame(table)
    finally:
        batches.close()


ITER_HASHES = getattr(polars_redis, "iter_hashes", None)
ITER_IMPL = "polars_redis.iter_hashes" if ITER_HASHES else "compat: HashScanner.batches()"


def _iterate(url: str, _exp: Expected) -> Callable[[], tuple[int, int]]:
    iter_hashes = ITER_HASHES or _iter_hashes_compat

    def run() -> tuple[int, int]:
        rows = total = 0
        for df in iter_hashes(url, PATTERN, SCHEMA, formats=FORMATS, batch_size=1000):
            rows += df.height
            total += df["visits"].sum()
        return rows, total

    return run


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "a",
            "a) redis-py SCAN+HGETALL -> DataFrame, 10 cols",
            "a",
            lambda url, _e: lambda: redispy_hgetall(url),
            _check_full,
        ),
        Case(
            "b",
            "b) read_hashes, 10 cols (fetch=auto)",
            "a",
            lambda url, _e: lambda: polars_redis.read_hashes(url, PATTERN, SCHEMA, formats=FORMATS),
            _check_full,
        ),
        Case(
            "c2m",
            "c) scan.select(2 cols), fetch=hmget",
            "e2",
            _proj(PROJ2, "hmget"),
            _check_cols(PROJ2),
        ),
        Case(
            "c2g",
            "c) scan.select(2 cols), fetch=hgetall",
            "e2",
            _proj(PROJ2, "hgetall"),
            _check_cols(PROJ2),
        ),
        Case(
            "c5m",
            "c) scan.select(5 cols), fetch=hmget",
            "e5",
            _proj(PROJ5, "hmget"),
            _check_cols(PROJ5),
        ),
        Case(
            "c5g",
            "c) scan.select(5 cols), fetch=hgetall",
            "e5",
            _proj(PROJ5, "hgetall"),
            _check_cols(PROJ5),
        ),
        Case(
            "d",
            "d) scan.filter(age > 50), 10 cols",
            "a",
            lambda url, _e: (
                lambda: (
                    polars_redis.scan_hashes(url, PATTERN, SCHEMA, formats=FORMATS)
                    .filter(pl.col("age") > 50)
                    .collect()
                )
            ),
            _check_filter,
        ),
        Case(
            "e2",
            "e) redis-py SCAN+HMGET 2 cols -> DataFrame",
            "e2",
            lambda url, _e: lambda: redispy_hmget(url, PROJ2),
            _check_cols(PROJ2),
        ),
        Case(
            "e5",
            "e) redis-py SCAN+HMGET 5 cols -> DataFrame",
            "e5",
            lambda url, _e: lambda: redispy_hmget(url, PROJ5),
            _check_cols(PROJ5),
        ),
        Case(
            "f",
            "f) iter_hashes(batch_size=1000), sum(visits)",
            "a",
            _iterate,
            _check_iter,
            rows=lambda value: value[0],
        ),
    ]
}


def run_worker(args: argparse.Namespace) -> None:
    """One case, in this (fresh) process; prints its CaseResult as JSON."""
    case = CASES[args.worker]
    n = args.n[0]
    exp = expected(n)
    r = redis.Redis.from_url(args.url)
    result = bench(
        case.name,
        case.title,
        n,
        case.make(args.url, exp),
        r,
        repeat=args.repeat,
        warmup=args.warmup,
        rows=case.rows,
        check=lambda value: case.check(value, exp),
        ref=case.ref,
    )
    result.extra["build"] = module_fingerprint("polars_redis._internal")
    if case.name == "f":
        result.extra["iter_impl"] = ITER_IMPL
    emit_result(result)


def verify_same_frame(url: str) -> None:
    """The baseline and read_hashes must produce the same frame."""
    from polars.testing import assert_frame_equal

    ours = polars_redis.read_hashes(url, PATTERN, SCHEMA, formats=FORMATS).sort("_key")
    theirs = redispy_hgetall(url).sort("_key")
    assert_frame_equal(ours, theirs)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--url", help="use this server instead of starting one (only bench:* keys are deleted)"
    )
    p.add_argument("--n", type=int, nargs="+", default=[100_000], help="sizes (default 100000)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per case (best is kept)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs before those")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument(
        "--cases",
        nargs="+",
        choices=list(CASES),
        default=list(CASES),
        help="subset of cases (default: all)",
    )
    p.add_argument(
        "--load-workers", type=int, default=None, help="loader processes (default: min(4, nproc))"
    )
    p.add_argument(
        "--verify-max-n",
        type=int,
        default=200_000,
        help="compare baseline and read_hashes frames for N up to this",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each case wait up to this long for the machine to be <10%% busy",
    )
    p.add_argument(
        "--retry-noisy",
        type=int,
        default=0,
        metavar="K",
        help="rerun a case up to K times while other processes used > 10%% of its wall "
        "time in CPU (the least disturbed attempt is kept)",
    )
    p.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return

    cmd = command_line()
    started = time.perf_counter()
    results: list[CaseResult] = []
    loads: dict[int, dict[str, Any]] = {}
    with redis_target(args.url) as target:
        r = target.client()
        info = machine_info(r)
        print(f"$ {cmd}")
        print(format_machine(info))
        print(f"server: {target.url} ({'started here' if target.owned else 'given by --url'})")
        for n in args.n:
            target.clear(PREFIX)
            total = n + n_strings(n)
            print(f"\n== N = {n:,}: loading {n:,} hashes + {n_strings(n):,} strings", flush=True)
            secs = load_pipelined(target.url, total, _Adder(n), workers=args.load_workers)
            summary = server_summary(r)
            loads[n] = {"seconds": secs, "keys": total, **summary}
            print(
                f"   loaded {total:,} keys in {secs:.1f}s ({total / secs:,.0f} keys/s), "
                f"server memory {summary['used_memory_human']}",
                flush=True,
            )
            if n <= args.verify_max_n:
                verify_same_frame(target.url)
                print("   verified: baseline frame == read_hashes frame", flush=True)
            for name in args.cases:
                worker = [
                    str(Path(__file__).resolve()),
                    "--worker",
                    name,
                    "--url",
                    target.url,
                    "--n",
                    str(n),
                    "--repeat",
                    str(args.repeat),
                    "--warmup",
                    str(args.warmup),
                ]
                res = None
                for attempt in range(1 + args.retry_noisy):
                    if args.wait_quiet > 0:
                        wait_for_quiet(args.wait_quiet)
                    this = run_isolated(worker)
                    this.extra["attempts"] = attempt + 1
                    if res is None or this.noise < res.noise:
                        res = this
                    if res.noise <= NOISY:
                        break
                    print(
                        f"   ({this.title}: other processes used {this.other_cpu:.2f}s "
                        f"CPU during {this.wall:.2f}s, retrying)",
                        flush=True,
                    )
                assert res is not None
                results.append(res)
                print(
                    f"   {res.title:<48} best {res.wall:7.3f}s  "
                    f"runs {' '.join(f'{w:.3f}' for w in res.walls)}",
                    flush=True,
                )
            target.clear(PREFIX)

    elapsed = time.perf_counter() - started
    print()
    print(f"$ {cmd}")
    print(format_machine(info))
    print(
        f"repeat={args.repeat} (best of, after {args.warmup} warm-up), batch/pipeline=1000, "
        f"polars-redis parallelism=3 (default); total time {elapsed:.0f}s"
    )
    for n, load in loads.items():
        print(
            f"N={n:,}: loaded {load['keys']:,} keys in {load['seconds']:.1f}s, "
            f"server memory {load['used_memory_human']}"
        )
    print()
    print(results_table(results))
    impls = {res.extra["iter_impl"] for res in results if "iter_impl" in res.extra}
    for impl in sorted(impls):
        print(f"f) iterated with: {impl}")
    print(f"loadavg at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for warning in interference_warnings(results, info):
        print(warning)
    print()
    print(TABLE_NOTES)
    if args.json:
        write_json(
            args.json,
            {
                "command": cmd,
                "machine": info,
                "repeat": args.repeat,
                "warmup": args.warmup,
                "loads": loads,
                "results": [res.to_json() for res in results],
                "elapsed_s": elapsed,
            },
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
