"""Benchmark: ``read_hashes`` and ``write_hashes`` on a 3-master Redis Cluster.

Seeds N hashes of 10 fields (default 200 000) into a throw-away cluster
started on free loopback ports, and the same hashes into one standalone
server, then reads them into a DataFrame three ways:

* ``polars_redis.read_hashes`` against the cluster (one node's URL);
* redis-py: for each master, ``SCAN ... TYPE hash`` pages with one pipelined
  ``HGETALL`` per key of the page, then a DataFrame from the decoded rows;
* ``polars_redis.read_hashes`` against the standalone server, for scale.

It then writes the same frame back into the emptied cluster two ways:
``polars_redis.write_hashes`` and a redis-py cluster pipeline (``HSET`` per
row, executed every 5000 rows).

For each it prints the best wall time of ``--repeat`` runs, rows per second
and the server CPU seconds of all servers together (``INFO cpu`` deltas), so
``server CPU / wall`` above 1.0 means more than one server was kept busy.
All servers and the client share this machine's cores.

    VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_cluster.py --keys 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from redis_servers import RedisCluster, RedisServer

PATTERN = "bench:c:*"
FIELDS = [f"f{j}" for j in range(10)]
SCHEMA = {name: pl.String for name in FIELDS}


def seed(pipe: redis.client.Pipeline, count: int) -> None:
    for i in range(count):
        pipe.hset(f"bench:c:{i}", mapping={name: f"v{i}-{name}" for name in FIELDS})
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.execute()


def write_with_redis_py(client: Any, df: pl.DataFrame) -> pl.DataFrame:
    pipe = client.pipeline()
    for row in df.iter_rows(named=True):
        key = row.pop("_key")
        pipe.hset(key, mapping=row)
        if len(pipe) >= 5000:
            pipe.execute()
    pipe.execute()
    return df


def server_cpu(clients: list[redis.Redis]) -> float:
    total = 0.0
    for client in clients:
        info = client.info("cpu")
        total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return total


def read_with_redis_py(
    nodes: list[RedisServer], pattern: str = PATTERN, fields: list[str] = FIELDS
) -> pl.DataFrame:
    """Every master's ``SCAN ... TYPE hash`` pages, one pipelined ``HGETALL``
    per key, decoded once into a DataFrame of String columns."""
    rows: dict[str, list[str]] = {name: [] for name in ["_key", *fields]}
    for node in nodes:
        client = redis.Redis(host=node.host, port=node.port)
        cursor = 0
        while True:
            cursor, page = client.scan(cursor, match=pattern, count=1000, _type="hash")
            pipe = client.pipeline(transaction=False)
            for key in page:
                pipe.hgetall(key)
            for key, values in zip(page, pipe.execute()):
                if values:
                    rows["_key"].append(key.decode())
                    for name in fields:
                        value = values.get(name.encode())
                        rows[name].append(value.decode() if value is not None else None)
            if cursor == 0:
                break
        client.close()
    return pl.DataFrame(rows)


def best_of(
    clients: list[redis.Redis],
    read: Callable[[], pl.DataFrame],
    repeat: int,
    before: Callable[[], object] = lambda: None,
) -> tuple[float, float, int]:
    best = (float("inf"), 0.0, 0)
    for _ in range(repeat):
        before()
        cpu = server_cpu(clients)
        start = time.perf_counter()
        df = read()
        wall = time.perf_counter() - start
        best = min(best, (wall, server_cpu(clients) - cpu, df.height))
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with RedisCluster() as cluster:
        single = RedisServer.plain(name="bench-single")
        try:
            cluster_client = cluster.client()
            seed(cluster_client.pipeline(), args.keys)
            seed(single.client().pipeline(transaction=False), args.keys)
            masters = [node.client() for node in cluster.nodes]

            ours = polars_redis.read_hashes(cluster.url, PATTERN, SCHEMA)
            theirs = read_with_redis_py(cluster.nodes)
            assert ours.height == theirs.height == args.keys, (ours.height, theirs.height)
            assert ours.sort("_key").equals(theirs.sort("_key"))

            cases = [
                (
                    "read_hashes, cluster",
                    masters,
                    lambda: polars_redis.read_hashes(cluster.url, PATTERN, SCHEMA),
                ),
                ("redis-py, cluster", masters, lambda: read_with_redis_py(cluster.nodes)),
                (
                    "read_hashes, 1 server",
                    [single.client()],
                    lambda: polars_redis.read_hashes(single.url, PATTERN, SCHEMA),
                ),
            ]
            results = [
                (name, *best_of(clients, read, args.repeat)) for name, clients, read in cases
            ]
            frame = ours
            writes = [
                (
                    "write_hashes, cluster",
                    lambda: (polars_redis.write_hashes(frame, cluster.url), frame)[1],
                ),
                ("redis-py, cluster", lambda: write_with_redis_py(cluster_client, frame)),
            ]
            write_results = [
                (name, *best_of(masters, write, args.repeat, before=cluster.flushall))
                for name, write in writes
            ]
            assert cluster_client.hgetall("bench:c:7") == {
                name.encode(): f"v7-{name}".encode() for name in FIELDS
            }
        finally:
            single.stop()

    print(f"{args.keys:,} hashes of 10 fields, best of {args.repeat}")
    header = ("reader", "wall s", "rows/s", "server CPU s", "CPU/wall")
    print(f"{header[0]:<24}" + "".join(f"{h:>14}" for h in header[1:]))
    for name, wall, cpu, rows in results:
        assert rows == args.keys, (name, rows)
        print(f"{name:<24}{wall:>14.3f}{rows / wall:>14,.0f}{cpu:>14.3f}{cpu / wall:>14.2f}")
    print(f"cluster read speedup over redis-py: {results[1][1] / results[0][1]:.1f}x")
    print(f"{args.keys:,} rows written as hashes, best of {args.repeat}")
    print(f"{header[0]:<24}" + "".join(f"{h:>14}" for h in header[1:]))
    for name, wall, cpu, rows in write_results:
        print(f"{name:<24}{wall:>14.3f}{rows / wall:>14,.0f}{cpu:>14.3f}{cpu / wall:>14.2f}")
    print(f"cluster write speedup over redis-py: {write_results[1][1] / write_results[0][1]:.1f}x")


if __name__ == "__main__":
    main()
