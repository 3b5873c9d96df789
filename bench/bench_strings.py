"""Benchmark: ``read_strings`` against a plain redis-py script.

Seeds N string keys (default 1 000 000) and reads them into a DataFrame
(``_key`` and ``value`` as String) two ways:

* ``polars_redis.read_strings(url, pattern)``;
* redis-py: ``SCAN ... TYPE string`` pages, one ``MGET`` per page, then a
  DataFrame built from the decoded lists.

For each it reports the best wall time of ``--repeat`` runs, rows per second,
and the server-bound efficiency: server CPU seconds spent during the run
(``INFO cpu`` ``used_cpu_user`` + ``used_cpu_sys`` deltas) divided by wall
seconds. An efficiency near 1.0 means the single-threaded server was busy the
whole time, i.e. the client kept up with it; the speedup over any client is
then bounded by how much of that client's wall time the server needed, which
the last line prints as the ceiling (redis-py wall / our server CPU).

Self-contained: it does not use ``bench/_common.py``. Without ``--url`` a
throw-away ``redis-server`` is started (``tests/redis_servers.py``; source
``.redis/env.sh`` first). Build the extension in release mode first::

    VIRTUAL_ENV=$PWD/.venv PATH=$PWD/.venv/bin:$PATH maturin develop --release
    source .redis/env.sh
    .venv/bin/python bench/bench_strings.py --keys 1000000 --repeat 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import redis

import polars_redis

PATTERN = "bench:s:*"


@dataclass
class Run:
    wall: float
    server_cpu: float
    client_cpu: float
    rows: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall

    @property
    def efficiency(self) -> float:
        return self.server_cpu / self.wall


@contextlib.contextmanager
def server_url(url: str | None, *, stack: bool = False) -> Iterator[str]:
    """``url``, or a throw-away server (Redis Stack when ``stack``)."""
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from redis_servers import RedisServer

    server = RedisServer.stack() if stack else RedisServer.plain()
    try:
        yield server.url
    finally:
        server.stop()


def seed(client: redis.Redis, count: int) -> None:
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    chunk = 10_000
    for start in range(0, count, chunk):
        pipe.mset(
            {f"bench:s:{i:07}": f"value-{i}" for i in range(start, min(count, start + chunk))}
        )
        if len(pipe) >= 10:
            pipe.execute()
    pipe.execute()


def server_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def read_with_redis_py(url: str) -> pl.DataFrame:
    client = redis.Redis.from_url(url)
    keys: list[str] = []
    values: list[str] = []
    cursor = 0
    while True:
        cursor, page = client.scan(cursor, match=PATTERN, count=1000, _type="string")
        if page:
            for key, value in zip(page, client.mget(page)):
                if value is not None:
                    keys.append(key.decode())
                    values.append(value.decode())
        if cursor == 0:
            break
    client.close()
    return pl.DataFrame({"_key": keys, "value": values})


def read_with_polars_redis(url: str) -> pl.DataFrame:
    return polars_redis.read_strings(url, PATTERN)


def client_cpu() -> float:
    """CPU seconds of this process (Python and the Rust runtime's threads)."""
    times = os.times()
    return times.user + times.system


def measure(client: redis.Redis, read: Callable[[], pl.DataFrame]) -> tuple[Run, pl.DataFrame]:
    cpu, own = server_cpu(client), client_cpu()
    start = time.perf_counter()
    df = read()
    wall = time.perf_counter() - start
    return Run(wall, server_cpu(client) - cpu, client_cpu() - own, df.height), df


def best_of(client: redis.Redis, read: Callable[[], pl.DataFrame], repeat: int) -> Run:
    runs = [measure(client, read)[0] for _ in range(repeat)]
    return min(runs, key=lambda r: r.wall)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing server (its database is flushed!)")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    with server_url(args.url) as url:
        client = redis.Redis.from_url(url)
        seed(client, args.keys)
        # Same rows both ways (and a warm-up for each).
        _, ours = measure(client, lambda: read_with_polars_redis(url))
        _, theirs = measure(client, lambda: read_with_redis_py(url))
        assert ours.height == theirs.height == args.keys, (ours.height, theirs.height)
        assert ours.sort("_key").equals(theirs.sort("_key"))

        fast = best_of(client, lambda: read_with_polars_redis(url), args.repeat)
        slow = best_of(client, lambda: read_with_redis_py(url), args.repeat)
        client.close()

    results = {
        "keys": args.keys,
        "repeat": args.repeat,
        "polars_redis": vars(fast) | {"rows_per_s": fast.rows_per_second, "eff": fast.efficiency},
        "redis_py": vars(slow) | {"rows_per_s": slow.rows_per_second, "eff": slow.efficiency},
        "speedup": slow.wall / fast.wall,
        "ceiling": slow.wall / fast.server_cpu,
    }
    print(f"{args.keys:,} string keys, best of {args.repeat}")
    header = ("reader", "wall s", "rows/s", "server CPU s", "server-bound", "client CPU s")
    print(f"{header[0]:<14}" + "".join(f"{h:>14}" for h in header[1:]))
    for name, run in (("read_strings", fast), ("redis-py", slow)):
        print(
            f"{name:<14}{run.wall:>14.3f}{run.rows_per_second:>14,.0f}"
            f"{run.server_cpu:>14.3f}{run.efficiency:>14.2f}{run.client_cpu:>14.3f}"
        )
    print(f"speedup: {results['speedup']:.1f}x")
    # A reader cannot finish before the server has done its share of the job,
    # so the server CPU of the fast run bounds the speedup of any client.
    print(
        f"ceiling at this server CPU: {results['ceiling']:.1f}x "
        "(redis-py wall / read_strings server CPU)"
    )
    return results


if __name__ == "__main__":
    main()
