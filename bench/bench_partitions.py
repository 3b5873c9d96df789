"""Benchmark: partitioned reads of a 3-master Redis Cluster on Ray Data and Dask.

Seeds N hashes (default 1 000 000; fields ``amount``, ``city``, ``name``)
into a throw-away 3-master cluster on free loopback ports, then measures:

* planning: ``partition_scan`` wall time and the pickled plan's size, for
  one partition per master and for ``--partitions``;
* one process: ``read_hashes`` + a Polars group-by;
* Ray Data (``ray.init(num_cpus=--workers)``): ``polars_redis.ray.read_redis(...).count()``
  and a group-by (count and sum per city);
* Dask (``LocalCluster(n_workers=--workers, processes=True)``):
  ``polars_redis.dask.read_redis`` + the same group-by;
* the baseline, redis-py with hiredis: every master's ``SCAN ... TYPE hash``
  pages with one pipelined ``HGETALL`` per key, decoded once.

Per case: best wall time of ``--repeat`` runs, rows/s, server CPU per row
(``INFO cpu`` deltas of all masters), client CPU per row (this process and
every process it started, Ray/Dask workers included, minus the servers) and
the peak RSS of the largest worker process (of this process for the
one-process cases). All servers, workers and the driver share this machine's
cores, so no speed-up is expected on a 2-core machine: read the per-row costs.

    VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_partitions.py --keys 1000000 --repeat 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import psutil
import redis

import polars_redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_cluster import read_with_redis_py, server_cpu
from redis_servers import RedisCluster

PATTERN = "bench:p:*"
SCHEMA = {"amount": pl.Int64, "city": pl.String, "name": pl.String}
CITIES = ["ams", "ber", "cdg", "dub", "lis"]


def seed(pipe: Any, count: int) -> None:
    for i in range(count):
        pipe.hset(
            f"bench:p:{i}",
            mapping={"amount": i % 1000, "city": CITIES[i % 5], "name": f"name-{i}"},
        )
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.execute()


def truth(count: int) -> dict[str, tuple[int, int]]:
    """Per city: (rows, sum of amount), computed from the seed rule."""
    totals: dict[str, tuple[int, int]] = {}
    for i in range(count):
        n, total = totals.get(CITIES[i % 5], (0, 0))
        totals[CITIES[i % 5]] = (n + 1, total + i % 1000)
    return totals


class Peak:
    """Samples, every 20 ms, the RSS of the engine's worker processes (this
    process's descendants but the Redis servers and their harness), or of
    this process when ``workers`` is False, and keeps the largest."""

    def __init__(self, servers: set[int], workers: bool) -> None:
        self.servers = servers
        self.workers = workers
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self) -> list[psutil.Process]:
        me = psutil.Process()
        if not self.workers:
            return [me]
        return [
            p
            for p in me.children(recursive=True)
            if p.pid not in self.servers and "redis" not in p.name()
        ]

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                for proc in self._processes():
                    self.peak = max(self.peak, proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def client_cpu(servers: set[int]) -> float:
    """CPU seconds of this process and its live descendants, servers excluded."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for proc in me.children(recursive=True):
        if proc.pid in servers:
            continue
        with contextlib.suppress(psutil.Error):
            total += sum(proc.cpu_times()[:2])
    return total


def best_of(
    masters: list[redis.Redis],
    servers: set[int],
    run: Callable[[], int],
    repeat: int,
    workers: bool = False,
) -> tuple[float, float, float, int, int]:
    """(wall, server CPU, client CPU, peak RSS of the largest worker, or of
    this process when not ``workers``, rows) of the fastest run."""
    best = (float("inf"), 0.0, 0.0, 0, 0)
    for _ in range(repeat):
        cpu, ours = server_cpu(masters), client_cpu(servers)
        with Peak(servers, workers) as peak:
            start = time.perf_counter()
            rows = run()
            wall = time.perf_counter() - start
        spent = (server_cpu(masters) - cpu, client_cpu(servers) - ours)
        best = min(best, (wall, *spent, peak.peak, rows))
    return best


@contextlib.contextmanager
def ray_engine(workers: int) -> Iterator[None]:
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def dask_engine(workers: int) -> Iterator[None]:
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield
    finally:
        client.close()
        cluster.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    expected = truth(args.keys)

    with RedisCluster() as cluster:
        started = time.perf_counter()
        seed(cluster.client().pipeline(), args.keys)
        print(f"seeded {args.keys:,} hashes in {time.perf_counter() - started:.1f} s")
        masters = [node.client() for node in cluster.nodes]
        servers = {int(m.info("server")["process_id"]) for m in masters}
        url = cluster.url

        planning = []
        for asked in (None, args.partitions):
            start = time.perf_counter()
            parts = polars_redis.partition_scan("hashes", url, PATTERN, SCHEMA, partitions=asked)
            planning.append((len(parts), time.perf_counter() - start, len(pickle.dumps(parts))))

        def one_process() -> int:
            df = polars_redis.read_hashes(url, PATTERN, SCHEMA)
            grouped = df.group_by("city").agg(pl.len(), pl.col("amount").sum())
            got = {r[0]: (r[1], r[2]) for r in grouped.iter_rows()}
            assert got == expected, got
            return df.height

        def baseline() -> int:
            fields = list(SCHEMA)
            df = read_with_redis_py(cluster.nodes, PATTERN, fields)
            df = df.with_columns(pl.col("amount").cast(pl.Int64))
            grouped = df.group_by("city").agg(pl.len(), pl.col("amount").sum())
            assert {r[0]: (r[1], r[2]) for r in grouped.iter_rows()} == expected
            return df.height

        cases: list[tuple[str, Callable[[], int]]] = [
            ("read_hashes, 1 process", one_process),
            ("redis-py + hiredis", baseline),
        ]
        results = [(name, *best_of(masters, servers, run, args.repeat)) for name, run in cases]

        with ray_engine(args.workers):
            import ray

            import polars_redis.ray as redis_ray

            def ray_count() -> int:
                ds = redis_ray.read_redis(
                    "hashes", url, PATTERN, SCHEMA, partitions=args.partitions
                )
                return int(ds.count())

            def ray_groupby() -> int:
                ds = redis_ray.read_redis(
                    "hashes", url, PATTERN, SCHEMA, partitions=args.partitions
                )
                rows = ds.groupby("city", num_partitions=args.workers).aggregate(
                    ray.data.aggregate.Count(), ray.data.aggregate.Sum("amount")
                )
                got = {r["city"]: (r["count()"], r["sum(amount)"]) for r in rows.take_all()}
                assert got == expected, got
                return sum(n for n, _ in got.values())

            for name, run in (("ray count()", ray_count), ("ray groupby", ray_groupby)):
                results.append((name, *best_of(masters, servers, run, args.repeat, True)))

        with dask_engine(args.workers):
            import polars_redis.dask as redis_dask

            def dask_groupby() -> int:
                ddf = redis_dask.read_redis(
                    "hashes", url, PATTERN, SCHEMA, partitions=args.partitions
                )
                grouped = ddf.groupby("city")["amount"].agg(["count", "sum"]).compute()
                got = {c: (int(r["count"]), int(r["sum"])) for c, r in grouped.iterrows()}
                assert got == expected, got
                return sum(n for n, _ in got.values())

            dask_case = best_of(masters, servers, dask_groupby, args.repeat, True)
            results.append(("dask groupby", *dask_case))

    print(f"{args.keys:,} hashes on 3 masters, {args.workers} workers, best of {args.repeat}")
    print(f"{'plan':<28}{'partitions':>12}{'wall ms':>12}{'pickled B':>12}")
    for count, wall, size in planning:
        print(f"{'partition_scan':<28}{count:>12}{wall * 1000:>12.1f}{size:>12,}")
    header = ("case", "wall s", "rows/s", "srv CPU us/row", "cli CPU us/row", "peak RSS MB*")
    print(f"{header[0]:<28}" + "".join(f"{h:>16}" for h in header[1:]))
    for name, wall, srv, cli, rss, rows in results:
        assert rows == args.keys, (name, rows)
        print(
            f"{name:<28}{wall:>16.2f}{rows / wall:>16,.0f}{srv / rows * 1e6:>16.2f}"
            f"{cli / rows * 1e6:>16.2f}{rss / 2**20:>16.0f}"
        )
    print("* of the largest Ray/Dask worker process; of this process for the others")
    print(f"machine: {os.cpu_count()} cores; servers, workers and driver share them")


if __name__ == "__main__":
    main()
