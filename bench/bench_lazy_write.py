"""Lazy write benchmark: a generated LazyFrame (3M rows by default, about
400 MB if collected) written as hashes batch by batch, beside writing the
collected frame and a redis-py pipeline.

The frame is generated from a lazy source of 100k-row pieces
(``--generator pieces``, the default), as a file scan produces it; with
``--generator single`` it comes from one ``int_range`` over every row,
which Polars' streaming engine evaluates in large morsels and buffers
ahead of its consumer (about 200 MB for 3M rows before anything is
written: see the ``polars`` case).

Cases, each in a fresh subprocess on an emptied server (so peak RSS growth,
sampled every 10 ms, is the case's own):

* ``polars``: the batches of ``collect_batches`` taken and dropped, nothing
  written: the memory and time of producing the frame alone;
* ``lazy``: ``write_hashes(lf, url)``: the streaming engine produces
  batches, each written as it comes;
* ``eager``: ``lf.collect()`` then ``write_hashes(df, url)``; the write
  alone is timed for the throughput comparison, RSS counts the frame too;
* ``redis-py``: the collected frame's values formatted once with Polars
  (``cast(pl.String)``), then pipelined ``HSET`` (10,000 per round trip),
  on ``--baseline-rows`` rows (default 300k: the full size takes minutes).

Run (release build first: ``maturin develop --release``)::

    .venv/bin/python bench/bench_lazy_write.py
    .venv/bin/python bench/bench_lazy_write.py --rows 1000000 --baseline-rows 1000000
    .venv/bin/python bench/bench_lazy_write.py --generator single
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import polars as pl
import redis
from _common import MB, RssSampler, redis_target, server_cpu

import polars_redis as pr
from polars_redis._lazy_write import LAZY_BATCH_ROWS

#: Rows of each piece of the ``pieces`` generator.
PIECE_ROWS = 100_000


def generated(rows: int, generator: str = "pieces") -> pl.LazyFrame:
    """``rows`` user rows, 9 columns (~130 bytes a row once collected)."""
    if generator == "single":
        source = pl.LazyFrame().select(pl.int_range(0, rows, dtype=pl.Int64).alias("i"))
    else:
        source = pl.concat(
            pl.LazyFrame().select(
                pl.int_range(start, min(start + PIECE_ROWS, rows), dtype=pl.Int64).alias("i")
            )
            for start in range(0, rows, PIECE_ROWS)
        )
    return source.with_columns(
        ("user:" + pl.col("i").cast(pl.String)).alias("_key"),
        ("name-" + pl.col("i").cast(pl.String)).alias("name"),
        ("city-" + (pl.col("i") % 977).cast(pl.String)).alias("city"),
        (pl.col("i") % 90 + 18).alias("age"),
        (pl.col("i").cast(pl.Float64) / 7).alias("score"),
        (pl.col("i") % 3 == 0).alias("active"),
        (pl.col("i") * 1_000_003 % 10_000_019).alias("visits"),
        (pl.lit("segment-") + (pl.col("i") % 11).cast(pl.String)).alias("segment"),
    ).drop("i")


def run_case(case: str, url: str, rows: int, generator: str) -> dict[str, Any]:
    client = redis.Redis.from_url(url, socket_timeout=None)
    client.flushall()
    lf = generated(rows, generator)
    out: dict[str, Any] = {"case": case, "rows": rows}
    with RssSampler() as rss:
        cpu0 = server_cpu(client)
        t0 = time.perf_counter()
        if case == "polars":
            for _batch in lf.collect_batches(chunk_size=LAZY_BATCH_ROWS):
                pass
            t_write = time.perf_counter()
            result = None
        elif case == "lazy":
            result = pr.write_hashes(lf, url)
            t_write = time.perf_counter()
        elif case == "eager":
            df = lf.collect()
            t_collect = time.perf_counter()
            result = pr.write_hashes(df, url)
            t_write = time.perf_counter()
            out["collect_s"] = t_collect - t0
            out["write_only_s"] = t_write - t_collect
        else:
            df = lf.collect()
            t_collect = time.perf_counter()
            text = df.drop("_key").cast(pl.String)
            names = text.columns
            pipe = client.pipeline(transaction=False)
            for n, (key, *values) in enumerate(zip(df["_key"], *(text[c] for c in names))):
                pipe.hset(key, mapping=dict(zip(names, values)))
                if n % 10_000 == 9_999:
                    pipe.execute()
            pipe.execute()
            t_write = time.perf_counter()
            out["write_only_s"] = t_write - t_collect
            result = None
        out["total_s"] = t_write - t0
        out["server_cpu_s"] = server_cpu(client) - cpu0
    out["rss_growth_mb"] = rss.growth / MB
    out["written"] = result.written if result is not None else rows
    assert case == "polars" or client.dbsize() == rows, (client.dbsize(), rows)
    client.flushall(asynchronous=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing server (flushed!) instead of a fresh one")
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--baseline-rows", type=int, default=300_000)
    parser.add_argument("--generator", choices=["pieces", "single"], default="pieces")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.url, args.rows, args.generator)))
        return
    with redis_target(args.url) as target:
        results = []
        for case, rows in (("polars", args.rows), ("lazy", args.rows), ("eager", args.rows),
                           ("redis-py", args.baseline_rows)):  # fmt: skip
            argv = [sys.executable, __file__, "--case", case, "--url", target.url,
                    "--rows", str(rows), "--generator", args.generator]  # fmt: skip
            done = subprocess.run(argv, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'case':<10} {'rows':>9} {'total s':>8} {'write s':>8} {'rows/s':>10} "
          f"{'srv cpu us/row':>14} {'RSS growth MB':>13}")  # fmt: skip
    for r in results:
        write_s = r.get("write_only_s", r["total_s"])
        print(
            f"{r['case']:<10} {r['rows']:>9} {r['total_s']:>8.2f} {write_s:>8.2f} "
            f"{r['rows'] / write_s:>10,.0f} {r['server_cpu_s'] / r['rows'] * 1e6:>14.2f} "
            f"{r['rss_growth_mb']:>13.0f}"
        )
    print(f"generator: {args.generator}; lazy batches of {LAZY_BATCH_ROWS:,} rows")
    lazy, eager = results[1], results[2]
    print(
        f"lazy throughput (total, generation included) vs eager write alone: "
        f"{eager['write_only_s'] / lazy['total_s']:.0%}; "
        f"vs eager collect + write: {eager['total_s'] / lazy['total_s']:.0%}"
    )


if __name__ == "__main__":
    main()
