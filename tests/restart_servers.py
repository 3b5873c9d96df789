"""A real Redis server that can be restarted on the same port.

The harness (``redis_servers``) owns its servers' whole life, so a restart
there would be a new server on a new port. :class:`RestartableServer` runs
``redis-server`` itself (the configured binary) on a free loopback port with
an append-only file in a temporary directory: :meth:`RestartableServer.restart`
shuts it down (``SHUTDOWN``, which flushes the file), starts the same binary
on the same port and directory, and waits until it answers with its data
reloaded and a new ``run_id``.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis_servers import (
    STARTUP_TIMEOUT,
    RedisServerError,
    configured_binary,
    find_free_port,
    resp_command,
)

__all__ = ["RestartableServer", "restartable_server"]


class RestartableServer:
    """``redis-server`` with appendonly persistence, restartable in place."""

    def __init__(self) -> None:
        self.binary = configured_binary("server")
        self.port = find_free_port()
        self.dir = tempfile.mkdtemp(prefix="polars-redis-restart-")
        self._proc: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RestartableServer:
        """Start the server (reloading its append-only file, if any) and
        wait until it answers ``PING``."""
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.dir,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--daemonize",
            "no",
        ]
        log = open(f"{self.dir}/server.log", "ab")  # noqa: SIM115 - owned by the process
        self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RedisServerError(f"redis-server exited: {self.log_tail()}")
            with contextlib.suppress(OSError, ConnectionError):
                if resp_command("127.0.0.1", self.port, "PING", timeout=1.0) == "PONG":
                    return self
            time.sleep(0.02)
        raise RedisServerError(f"redis-server did not answer on {self.port}: {self.log_tail()}")

    def run_id(self) -> bytes:
        info: bytes = resp_command("127.0.0.1", self.port, "INFO", "server")
        line = next(line for line in info.splitlines() if line.startswith(b"run_id:"))
        return line.split(b":", 1)[1].strip()

    def restart(self) -> None:
        """Shut the server down (its data saved) and start it again on the
        same port."""
        proc = self._proc
        assert proc is not None, "not started"
        with contextlib.suppress(OSError, ConnectionError):
            resp_command("127.0.0.1", self.port, "SHUTDOWN")
        proc.wait(timeout=STARTUP_TIMEOUT)
        self.start()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError), open(f"{self.dir}/server.log", "rb") as log:
            return log.read()[-2000:].decode(errors="replace")
        return ""

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)


@pytest.fixture
def restartable_server() -> Iterator[RestartableServer]:
    server = RestartableServer().start()
    try:
        yield server
    finally:
        server.stop()
