"""Throw-away Redis servers for the test-suite.

Servers and clusters are started by ``redis-harness``, the binary of the Rust
crate ``crates/redis-test-support`` (the harness the Rust tests use), so the
start-up, readiness, port and cluster logic exists once.  Each
:class:`RedisServer` / :class:`RedisCluster` owns one harness process: it
reports the servers as JSON once they answer and stops them (removing their
directories) when its stdin closes: on :meth:`RedisServer.stop`, or when
this Python process exits or dies.  If the harness itself is killed, each
server's watchdog kills the server.

The binary is ``$POLARS_REDIS_HARNESS`` (set by ``scripts/test.sh``), else
``<repo>/target/debug/redis-harness`` (``cargo build -p redis-test-support
--bin redis-harness``).  The Redis binaries come from ``.redis/env.sh`` /
``.redis/env.json``, as for the Rust tests.

Only the standard library is needed to start servers; ``redis`` (redis-py)
is imported lazily by the ``client()`` helpers.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CLUSTER_SLOTS",
    "STARTUP_TIMEOUT",
    "HarnessUnavailable",
    "RedisCluster",
    "RedisServer",
    "RedisServerError",
    "cli_binary",
    "configured_binary",
    "find_free_port",
    "harness_binary",
    "resp_command",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
HARNESS_VAR = "POLARS_REDIS_HARNESS"
BUILD_HINT = "build it with `cargo build -p redis-test-support --bin redis-harness`"

#: The harness's default start-up timeout, in seconds.
STARTUP_TIMEOUT = 15.0
CLUSTER_SLOTS = 16384


class HarnessUnavailable(RuntimeError):
    """A binary or module needed for a server is not installed."""


class RedisServerError(RuntimeError):
    """A server failed to start or misbehaved."""


# --------------------------------------------------------------------------
# the harness process
# --------------------------------------------------------------------------


def harness_binary() -> str:
    """``redis-harness``: ``$POLARS_REDIS_HARNESS``, else the cargo debug build."""
    path = os.environ.get(HARNESS_VAR) or str(REPO_ROOT / "target" / "debug" / "redis-harness")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise HarnessUnavailable(f"redis-harness not found at {path}; {BUILD_HINT}")
    return path


def _failure(report: dict[str, Any]) -> RuntimeError:
    kind = HarnessUnavailable if report["error"] == "unavailable" else RedisServerError
    return kind(report["message"])


class _Harness:
    """One ``redis-harness`` process and the servers it started."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [harness_binary(), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        report = self._read()
        if "error" in report:
            self.close()
            raise _failure(report)
        self.nodes: list[dict[str, Any]] = report["nodes"]
        _live_harnesses.add(self)

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            self.proc.wait()
            raise RedisServerError(
                f"redis-harness exited with status {self.proc.returncode}: "
                f"{self.proc.stderr.read().strip()}"
            )
        report: dict[str, Any] = json.loads(line)
        return report

    def request(self, line: str) -> dict[str, Any]:
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            reply = self._read()
        if "error" in reply:
            raise _failure(reply)
        return reply

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the servers (closing stdin) and wait for the harness to exit."""
        _live_harnesses.discard(self)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_live_harnesses: weakref.WeakSet[_Harness] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for harness in list(_live_harnesses):
        with contextlib.suppress(Exception):
            harness.close()


def configured_binary(which: str) -> str:
    """The path of a configured binary (``cli``, ``server`` or ``stack-server``),
    as the harness resolves it (the environment, else ``.redis/env.json``)."""
    proc = subprocess.run(
        [harness_binary(), "which", which], capture_output=True, text=True, check=False
    )
    report: dict[str, Any] = json.loads(proc.stdout)
    if "error" in report:
        raise _failure(report)
    path: str = report["path"]
    return path


def cli_binary() -> str:
    """``redis-cli``, as configured for the harness."""
    return configured_binary("cli")


# --------------------------------------------------------------------------
# tiny RESP client (commands without redis-py)
# --------------------------------------------------------------------------


def _encode(args: Sequence[str | bytes | float]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self._buf) < n + 2:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n + 2 :]
        return data

    def read(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisServerError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisServerError(f"unexpected RESP reply: {line!r}")


def resp_command(
    host: str,
    port: int,
    *args: str | bytes | float,
    password: str | None = None,
    timeout: float = 5.0,
) -> Any:
    """Send one command on a fresh connection; error replies are returned
    (not raised) as :class:`RedisServerError` instances."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = _Reader(sock)
        if password is not None:
            sock.sendall(_encode(["AUTH", password]))
            reply = reader.read()
            if isinstance(reply, RedisServerError):
                return reply
        sock.sendall(_encode(args))
        return reader.read()


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a test's own
    listeners: proxies, TLS ports; servers get theirs from the harness)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------


class RedisServer:
    """One ``redis-server`` process on a free loopback port.

    >>> with RedisServer.plain() as server:
    ...     server.client().ping()
    """

    def __init__(
        self,
        *,
        stack: bool = False,
        server_bin: str | None = None,
        modules: Sequence[str] = (),
        extra_args: Sequence[str] = (),
        unix_socket: bool = False,
        ld_library_path: str | None = None,
        cluster: bool = False,
        name: str | None = None,
        startup_timeout: float | None = None,
        start: bool = True,
    ) -> None:
        self.is_stack = stack
        self.server_bin = server_bin
        self.modules = list(modules)
        self.extra_args = [str(a) for a in extra_args]
        self.want_unix_socket = unix_socket
        self.ld_library_path = ld_library_path
        self.cluster = cluster
        self.name = name
        self.startup_timeout = startup_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.password: str | None = None
        self.cluster_bus_port: int | None = None
        self.dir: Path | None = None
        self.unix_socket: str | None = None
        self.logfile: Path | None = None
        self.pid: int | None = None
        self._harness: _Harness | None = None
        self._node = 0
        if start:
            self.start()

    # -- constructors -----------------------------------------------------

    @classmethod
    def plain(cls, **kwargs: Any) -> RedisServer:
        """Debian's redis-server."""
        return cls(**kwargs)

    @classmethod
    def stack(cls, **kwargs: Any) -> RedisServer:
        """Redis Stack with RediSearch, RedisJSON, RedisTimeSeries (+ Bloom)."""
        return cls(stack=True, **kwargs)

    # -- lifecycle --------------------------------------------------------

    def _harness_args(self) -> list[str]:
        args = ["server"]
        if self.is_stack:
            args.append("--stack")
        if self.server_bin is not None:
            args += ["--server-bin", self.server_bin]
        for module in self.modules:
            args += ["--module", module]
        if self.want_unix_socket:
            args.append("--unix-socket")
        if self.cluster:
            args.append("--cluster-enabled")
        if self.ld_library_path:
            args += ["--ld-library-path", self.ld_library_path]
        if self.name is not None:
            args += ["--name", self.name]
        if self.startup_timeout is not None:
            args += ["--startup-timeout", str(self.startup_timeout)]
        return [*args, "--", *self.extra_args]

    def start(self) -> RedisServer:
        if self._harness is None:
            self._attach(_Harness(*self._harness_args()), 0)
            try:
                self._wait_ready()
            except BaseException:
                self.stop()
                raise
        return self

    def _attach(self, harness: _Harness, node: int) -> None:
        """Take the address, paths and password of ``harness``'s node ``node``."""
        info = harness.nodes[node]
        self._harness, self._node = harness, node
        self.name = info["name"]
        self.host = info["host"]
        self.port = info["port"]
        self.password = info["password"]
        self.cluster_bus_port = info["cluster_port"]
        self.dir = Path(info["dir"])
        self.unix_socket = info["unix_socket"]
        self.logfile = Path(info["logfile"])
        self.pid = info["pid"]

    def _wait_ready(self) -> None:
        """Called once the harness reports the server answering; a subclass
        listening where the harness cannot talk (e.g. TLS only) checks more."""

    @property
    def _proc(self) -> subprocess.Popen[str] | None:
        """The harness process serving this server."""
        return self._harness.proc if self._harness is not None else None

    def _kill(self) -> None:
        harness, self._harness = self._harness, None
        if harness is not None:
            harness.close()

    def stop(self) -> None:
        """Kill the server and delete its directory (idempotent).  On a
        cluster node this stops the whole cluster."""
        self._kill()
        self.dir = None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RedisServer {self.name} {self.url}>"

    # -- accessors --------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._harness is not None and self._harness.running

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    @property
    def url_with_password(self) -> str:
        if self.password is None:
            return self.url
        return f"redis://:{self.password}@{self.host}:{self.port}"

    @property
    def unix_url(self) -> str | None:
        return f"unix://{self.unix_socket}" if self.unix_socket else None

    def log_tail(self) -> str:
        """The last lines of the server's log and stdout/stderr."""
        if self._harness is None or not self._harness.running:
            return "(server stopped)"
        tail: str = self._harness.request(f"log-tail {self._node}")["log_tail"]
        return tail

    def execute(self, *args: str | bytes | float) -> Any:
        """Run one command with the built-in RESP client (no redis-py)."""
        reply = resp_command(self.host, self.port, *args, password=self.password)
        if isinstance(reply, RedisServerError):
            raise reply
        return reply

    def client(self, **kwargs: Any) -> Any:
        """A ``redis.Redis`` client (``decode_responses=False`` by default)."""
        import redis

        kwargs.setdefault("decode_responses", False)
        if self.password is not None:
            kwargs.setdefault("password", self.password)
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def flushall(self) -> None:
        self.execute("FLUSHALL")

    def module_names(self) -> list[str]:
        reply = self.execute("MODULE", "LIST")
        names = []
        for entry in reply or []:
            fields = dict(zip(entry[::2], entry[1::2]))
            name = fields.get(b"name")
            if isinstance(name, bytes):
                names.append(name.decode())
        return names


# --------------------------------------------------------------------------
# cluster
# --------------------------------------------------------------------------


class RedisCluster:
    """``masters`` cluster-enabled servers (no replicas) joined with
    ``redis-cli --cluster create``."""

    def __init__(
        self,
        masters: int = 3,
        *,
        stack: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        args = ["cluster", "--masters", str(masters)]
        if stack:
            args.append("--stack")
        self._harness = _Harness(*args, "--", *extra_args)
        self.nodes: list[RedisServer] = []
        for i in range(len(self._harness.nodes)):
            node = RedisServer(stack=stack, cluster=True, extra_args=extra_args, start=False)
            node._attach(self._harness, i)
            self.nodes.append(node)

    def stop(self) -> None:
        self._harness.close()
        for node in self.nodes:
            node.stop()  # detaches the node from the stopped harness

    def __enter__(self) -> RedisCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __iter__(self) -> Iterator[RedisServer]:
        return iter(self.nodes)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def flushall(self) -> None:
        for node in self.nodes:
            node.flushall()

    def client(self, **kwargs: Any) -> Any:
        """A ``redis.cluster.RedisCluster`` client (bytes replies by default)."""
        from redis.cluster import RedisCluster as ClusterClient

        first = self.nodes[0]
        kwargs.setdefault("decode_responses", False)
        if first.password is not None:
            kwargs.setdefault("password", first.password)
        return ClusterClient(host=first.host, port=first.port, **kwargs)

    def log_tail(self) -> str:
        return "\n".join(f"--- log of node {n.port} ---\n{n.log_tail()}" for n in self.nodes)
