"""What the partition, Arrow stream, Ray and Dask tests share: the data they
read (written by redis-py, the ground truth), an option that cannot be
pickled, and a proxy that kills a worker mid-read."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import polars as pl
import psutil
from tcp_proxy import Proxy

N = 4_000
SCHEMA = {"amount": pl.Int64, "city": pl.String}


def seed_orders(client: Any, n: int = N) -> dict[str, tuple[int, str]]:
    """``order:<i>`` hashes (and a string under the pattern, to be skipped)."""
    rows = {f"order:{i}": (i % 97, ("ams", "ber", "cdg")[i % 3]) for i in range(n)}
    pipe = client.pipeline(transaction=False)
    for key, (amount, city) in rows.items():
        pipe.hset(key, mapping={"amount": amount, "city": city})
    pipe.execute()
    client.set("order:not-a-hash", "x")
    return rows


def city_totals(rows: dict[str, tuple[int, str]]) -> dict[str, tuple[int, int]]:
    """Per city: (rows, sum of amount)."""
    totals: dict[str, tuple[int, int]] = {}
    for amount, city in rows.values():
        n, total = totals.get(city, (0, 0))
        totals[city] = (n + 1, total + amount)
    return totals


class Unpicklable(dict):  # type: ignore[type-arg]
    """An option value that cannot be sent to another process."""

    def __reduce__(self) -> Any:
        raise TypeError("no pickling")


class ReaderKiller:
    """A proxy in front of a Redis server that slows down hash fetches and,
    once asked, SIGKILLs one process (other than this one) reading through it:
    a worker dying in the middle of a read task."""

    def __init__(self, port: int) -> None:
        self.fetching = threading.Event()
        self.killed: list[int] = []
        self.proxy = Proxy(port, on_client_bytes=self._seen)
        self.url = self.proxy.url
        self._thread: threading.Thread | None = None

    def _seen(self, data: bytes) -> None:
        if b"HGETALL" in data or b"HMGET" in data:
            self.fetching.set()
            if not self.killed:
                time.sleep(0.05)  # keep the first attempt busy until it is killed

    def kill_one_reader_soon(self) -> None:
        """In the background: wait for the first fetch, then kill its process."""
        self._thread = threading.Thread(target=self._kill, daemon=True)
        self._thread.start()

    def _kill(self) -> None:
        if not self.fetching.wait(120):
            return
        me = os.getpid()
        for conn in psutil.net_connections("tcp"):
            if conn.raddr and conn.raddr.port == self.proxy.port and conn.pid not in (None, me):
                os.kill(conn.pid, signal.SIGKILL)
                self.killed.append(conn.pid)
                return

    def __enter__(self) -> ReaderKiller:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._thread.join(timeout=130)
        self.proxy.close()
