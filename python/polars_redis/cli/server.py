"""A throw-away local Redis for ``polars-redis demo``: Redis Stack when it
can be found (``POLARS_REDIS_STACK_SERVER`` and ``POLARS_REDIS_STACK_MODULES``,
as ``scripts/setup.sh`` writes them to ``.redis/env.sh``, or
``redis-stack-server`` on PATH), else ``redis-server``, on a free loopback
port, without persistence, stopped and removed on exit."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from polars_redis.cli.urls import UsageError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command() -> tuple[list[str], dict[str, str], bool]:
    """The server command line, its environment, and whether it has the modules."""
    env = dict(os.environ)
    stack = os.environ.get("POLARS_REDIS_STACK_SERVER")
    if stack:
        modules = [m for m in os.environ.get("POLARS_REDIS_STACK_MODULES", "").split(":") if m]
        library_path = os.environ.get("POLARS_REDIS_STACK_LD_LIBRARY_PATH")
        if library_path:
            env["LD_LIBRARY_PATH"] = library_path
        return [stack, *(a for m in modules for a in ("--loadmodule", m))], env, bool(modules)
    found = shutil.which("redis-stack-server")
    if found:
        return [found], env, True
    found = shutil.which("redis-server") or os.environ.get("POLARS_REDIS_SERVER")
    if found:
        return [found], env, False
    raise UsageError("no Redis server found: install redis-server (or Redis Stack), or pass a URL")


@contextlib.contextmanager
def local_server() -> Iterator[tuple[str, bool]]:
    """Yield ``(url, has_modules)`` of a fresh server; stop it afterwards."""
    command, env, modules = _command()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="polars-redis-demo-") as directory:
        args = [*command, "--bind", "127.0.0.1", "--port", str(port), "--dir", directory]
        args += ["--save", "", "--appendonly", "no"]
        log = open(os.path.join(directory, "redis.log"), "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(port, process)
            yield f"redis://127.0.0.1:{port}", modules
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UsageError(
                f"the local Redis server exited at start (status {process.returncode})"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise UsageError("the local Redis server did not start listening within 10 s")
