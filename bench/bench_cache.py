"""Benchmark: the DataFrame cache beside Parquet on local disk and redis-py.

Builds one frame of about ``--mb`` MiB in memory (default 1024: int64,
float64 and string columns) and, in the same run, times:

* ``cache_dataframe`` / ``get_cached_dataframe`` (IPC, uncompressed, and
  Parquet zstd), chunked by ``--chunk-mb``;
* ``df.write_parquet`` / ``pl.read_parquet`` on a local temporary file
  (zstd, Polars' default), and ``df.write_ipc`` / ``pl.read_ipc`` likewise;
* redis-py with hiredis: the same IPC bytes ``SET`` in ``--chunk-mb``
  chunks on one pipeline and ``GET`` back, joined and decoded once with
  ``pl.read_ipc`` (the transport without manifests and checksums).

Each case reports the best of ``--repeat`` wall times, MiB/s of the frame's
in-memory size (``estimated_size``) and of the bytes moved, and the server
CPU seconds. Without ``--url`` a throw-away ``redis-server`` is started
(source ``.redis/env.sh`` first). Build the extension in release mode::

    .venv/bin/maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_cache.py --mb 1024 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import polars as pl
from _common import MB, format_machine, machine_info, measure_once, redis_target

import polars_redis as pr


def _frame(mib: int) -> pl.DataFrame:
    # ~23 bytes per row in memory: int64 + float64 + a short string (view).
    rows = mib * MB // 23
    return pl.DataFrame(
        {
            "id": pl.int_range(rows, eager=True),
            "x": pl.int_range(rows, eager=True).cast(pl.Float64) / 7.0,
            "s": pl.int_range(rows, eager=True).cast(pl.String).str.slice(0, 10),
        }
    )


def _redis_py_write(client: Any, payload: bytes, chunk: int) -> None:
    pipe = client.pipeline(transaction=False)
    for n, start in enumerate(range(0, len(payload), chunk)):
        pipe.set(f"raw:{n}", payload[start : start + chunk])
    pipe.execute()


def _redis_py_read(client: Any, chunks: int) -> pl.DataFrame:
    pipe = client.pipeline(transaction=False)
    for n in range(chunks):
        pipe.get(f"raw:{n}")
    return pl.read_ipc(io.BytesIO(b"".join(pipe.execute())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=1024, help="frame size in MiB")
    parser.add_argument("--chunk-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an existing server (keys cache:* and raw:* are used)")
    args = parser.parse_args()

    df = _frame(args.mb)
    frame_mib = df.estimated_size() / MB
    with redis_target(args.url) as target, tempfile.TemporaryDirectory() as tmp:
        client = target.client()
        print(format_machine(machine_info(client)))
        print(
            f"frame: {df.height:,} rows, {frame_mib:.0f} MiB in memory; chunks {args.chunk_mb} MiB"
        )
        ipc = io.BytesIO()
        df.write_ipc(ipc)
        payload = ipc.getvalue()
        payload_size = len(payload)
        n_chunks = -(-len(payload) // (args.chunk_mb * MB))
        parquet_path = os.path.join(tmp, "frame.parquet")
        ipc_path = os.path.join(tmp, "frame.arrow")
        url = target.url

        def size_of(key: str) -> int:
            info = pr.cache_info(url, key)
            assert info is not None
            return int(info["size_bytes"])

        cases: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], int]]] = [
            (
                "cache ipc",
                lambda: pr.cache_dataframe(df, url, "cache:ipc", chunk_size_mb=args.chunk_mb),
                lambda: pr.get_cached_dataframe(url, "cache:ipc"),
                lambda: size_of("cache:ipc"),
            ),
            (
                "cache parquet zstd",
                lambda: pr.cache_dataframe(
                    df, url, "cache:pq", format="parquet", chunk_size_mb=args.chunk_mb
                ),
                lambda: pr.get_cached_dataframe(url, "cache:pq"),
                lambda: size_of("cache:pq"),
            ),
            (
                "redis-py ipc (baseline)",
                lambda: _redis_py_write(client, ipc.getvalue(), args.chunk_mb * MB),
                lambda: _redis_py_read(client, n_chunks),
                lambda: payload_size,
            ),
            (
                "local parquet zstd",
                lambda: df.write_parquet(parquet_path),
                lambda: pl.read_parquet(parquet_path),
                lambda: os.path.getsize(parquet_path),
            ),
            (
                "local ipc",
                lambda: df.write_ipc(ipc_path),
                lambda: pl.read_ipc(ipc_path),
                lambda: os.path.getsize(ipc_path),
            ),
        ]
        del payload
        print(
            f"{'case':<24} {'op':<5} {'best s':>7} {'frame MiB/s':>12} "
            f"{'stored MiB':>11} {'bytes MiB/s':>12} {'server CPU s':>13}"
        )
        for name, write, read, stored in cases:
            for op, fn in (("write", write), ("read", read)):
                runs = [measure_once(fn, client, sample_rss=False) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: r.wall)
                if op == "read":
                    assert best.value.height == df.height, name
                best.value = None
                size = stored() / MB
                print(
                    f"{name:<24} {op:<5} {best.wall:>7.2f} {frame_mib / best.wall:>12.0f} "
                    f"{size:>11.0f} {size / best.wall:>12.0f} {best.server_cpu:>13.2f}"
                )
                time.sleep(0.2)
            target.clear("cache:")
            target.clear("raw:")


if __name__ == "__main__":
    main()
