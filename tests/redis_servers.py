"""Throw-away Redis servers for the test-suite.

Binaries are located through environment variables (written by
``scripts/install-redis.sh`` to ``.redis/env.sh``), falling back to
``<repo>/.redis/env.json``:

* ``POLARS_REDIS_SERVER``                 plain (Debian) ``redis-server``
* ``POLARS_REDIS_CLI``                    ``redis-cli`` (cluster creation)
* ``POLARS_REDIS_STACK_SERVER``           Redis Stack ``redis-server``
* ``POLARS_REDIS_STACK_MODULES``          ``:``-separated module ``.so`` paths
* ``POLARS_REDIS_STACK_LD_LIBRARY_PATH``  library path the stack binaries need

Every server listens on 127.0.0.1 on a free port (never 6379), lives in its
own temporary directory with persistence disabled, and is killed (and the
directory removed) by :meth:`RedisServer.stop`.  A small ``sh`` watchdog
kills the server as soon as the Python process that started it goes away,
even if it is killed without running any cleanup.

Only the standard library is needed to start servers; ``redis`` (redis-py)
is imported lazily by the ``client()`` helpers.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_KEYS",
    "HarnessUnavailable",
    "RedisCluster",
    "RedisServer",
    "RedisServerError",
    "find_free_port",
    "load_config",
    "resp_command",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_JSON = REPO_ROOT / ".redis" / "env.json"

ENV_KEYS = (
    "POLARS_REDIS_SERVER",
    "POLARS_REDIS_CLI",
    "POLARS_REDIS_STACK_SERVER",
    "POLARS_REDIS_STACK_MODULES",
    "POLARS_REDIS_STACK_LD_LIBRARY_PATH",
)

#: Module names (as reported by MODULE LIST) a stack server must have.
REQUIRED_STACK_MODULES = ("search", "ReJSON", "timeseries")

STARTUP_TIMEOUT = 15.0
CLUSTER_TIMEOUT = 30.0
CLUSTER_SLOTS = 16384
_START_ATTEMPTS = 5

# Runs the server as a child of `sh`; a second child blocks reading the pipe
# on fd 0 (whose write end only the harness process holds) and SIGKILLs the
# server once it reaches EOF, i.e. when stop() closes the pipe or when the
# harness process dies.  $1 is the server's temp dir, removed in that case.
_WATCHDOG = r"""
dir=$1; shift
exec 3<&0 </dev/null
"$@" &
rpid=$!
( read -r _ <&3; kill -9 "$rpid" 2>/dev/null ) &
wpid=$!
exec 3<&-
wait "$rpid"; st=$?
kill "$wpid" 2>/dev/null
[ "$st" -eq 137 ] && rm -rf "$dir"
exit "$st"
"""


class HarnessUnavailable(RuntimeError):
    """A binary or module needed for a server is not installed."""


class RedisServerError(RuntimeError):
    """A server failed to start or misbehaved."""


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def load_config() -> dict[str, str]:
    """Binary locations: environment variables first, then ``.redis/env.json``."""
    config: dict[str, str] = {}
    if ENV_JSON.is_file():
        try:
            data = json.loads(ENV_JSON.read_text())
        except (OSError, ValueError) as exc:
            raise HarnessUnavailable(f"cannot read {ENV_JSON}: {exc}") from exc
        if isinstance(data, dict):
            config.update({k: str(v) for k, v in data.items() if k in ENV_KEYS})
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value:
            config[key] = value
    return config


_HINT = "run `bash scripts/install-redis.sh` (writes .redis/env.sh and .redis/env.json)"


def _executable(key: str, config: dict[str, str] | None = None) -> str:
    config = load_config() if config is None else config
    path = config.get(key)
    if not path:
        raise HarnessUnavailable(f"{key} is not set and not in {ENV_JSON}; {_HINT}")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise HarnessUnavailable(f"{key}={path} is not an executable file; {_HINT}")
    return path


def plain_server_binary() -> str:
    return _executable("POLARS_REDIS_SERVER")


def cli_binary() -> str:
    return _executable("POLARS_REDIS_CLI")


def stack_settings() -> tuple[str, list[str], str | None]:
    """``(server binary, module paths, LD_LIBRARY_PATH)`` of Redis Stack."""
    config = load_config()
    server = _executable("POLARS_REDIS_STACK_SERVER", config)
    modules = [m for m in config.get("POLARS_REDIS_STACK_MODULES", "").split(":") if m]
    if not modules:
        raise HarnessUnavailable(f"POLARS_REDIS_STACK_MODULES is empty; {_HINT}")
    missing = [m for m in modules if not os.path.isfile(m)]
    if missing:
        raise HarnessUnavailable(f"Redis Stack module(s) not found: {missing}; {_HINT}")
    names = {os.path.basename(m) for m in modules}
    for needed in ("redisearch.so", "rejson.so", "redistimeseries.so"):
        if needed not in names:
            raise HarnessUnavailable(f"{needed} missing from POLARS_REDIS_STACK_MODULES; {_HINT}")
    return server, modules, config.get("POLARS_REDIS_STACK_LD_LIBRARY_PATH") or None


# --------------------------------------------------------------------------
# tiny RESP client (readiness checks without redis-py)
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


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_live_servers: weakref.WeakSet[RedisServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.stop()


class RedisServer:
    """One ``redis-server`` process on a free loopback port.

    >>> with RedisServer.plain() as server:
    ...     server.client().ping()
    """

    def __init__(
        self,
        *,
        server_bin: str | None = None,
        modules: Sequence[str] = (),
        extra_args: Sequence[str] = (),
        unix_socket: bool = False,
        ld_library_path: str | None = None,
        cluster: bool = False,
        name: str = "redis",
        startup_timeout: float = STARTUP_TIMEOUT,
        start: bool = True,
    ) -> None:
        self.server_bin = server_bin if server_bin is not None else plain_server_binary()
        self.modules = list(modules)
        self.extra_args = [str(a) for a in extra_args]
        self.want_unix_socket = unix_socket
        self.ld_library_path = ld_library_path
        self.cluster = cluster
        self.name = name
        self.startup_timeout = startup_timeout
        self.password = _arg_value(self.extra_args, "--requirepass")
        self.host = "127.0.0.1"
        self.port = 0
        self.cluster_bus_port: int | None = None
        self.dir: Path | None = None
        self.unix_socket: str | None = None
        self.logfile: Path | None = None
        self._stdio: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        if start:
            self.start()

    # -- constructors -----------------------------------------------------

    @classmethod
    def plain(cls, **kwargs: Any) -> RedisServer:
        """Debian's redis-server."""
        kwargs.setdefault("name", "redis")
        return cls(server_bin=plain_server_binary(), **kwargs)

    @classmethod
    def stack(cls, **kwargs: Any) -> RedisServer:
        """Redis Stack with RediSearch, RedisJSON, RedisTimeSeries (+ Bloom)."""
        server, modules, ld_path = stack_settings()
        modules = modules + list(kwargs.pop("modules", ()))
        kwargs.setdefault("name", "redis-stack")
        return cls(server_bin=server, modules=modules, ld_library_path=ld_path, **kwargs)

    # -- lifecycle --------------------------------------------------------

    def start(self) -> RedisServer:
        if self._proc is not None:
            return self
        if not (os.path.isfile(self.server_bin) and os.access(self.server_bin, os.X_OK)):
            raise HarnessUnavailable(f"redis-server binary not executable: {self.server_bin}")
        last_error: RedisServerError | None = None
        for _ in range(_START_ATTEMPTS):
            try:
                self._start_once()
                _live_servers.add(self)
                return self
            except _PortInUse as exc:
                last_error = exc
                self._cleanup()
            except BaseException:
                self._cleanup()
                raise
        raise RedisServerError(
            f"{self.name}: no free port after {_START_ATTEMPTS} attempts: {last_error}"
        )

    def _start_once(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"polars-redis-{self.name}-"))
        self.port = find_free_port()
        self.logfile = self.dir / "redis.log"
        self._stdio = self.dir / "stdio.log"
        args = [
            self.server_bin,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--protected-mode",
            "no",
            "--logfile",
            str(self.logfile),
            "--pidfile",
            str(self.dir / "redis.pid"),
        ]
        if self.want_unix_socket:
            self.unix_socket = str(self.dir / "redis.sock")
            args += ["--unixsocket", self.unix_socket, "--unixsocketperm", "700"]
        if self.cluster:
            # Explicit bus port: port+10000 may be above 65535.
            self.cluster_bus_port = find_free_port()
            args += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(self.dir / "nodes.conf"),
                "--cluster-port",
                str(self.cluster_bus_port),
                "--cluster-node-timeout",
                "5000",
            ]
        for module in self.modules:
            args += ["--loadmodule", module]
        args += self.extra_args

        env = dict(os.environ)
        if self.ld_library_path:
            prev = env.get("LD_LIBRARY_PATH")
            env["LD_LIBRARY_PATH"] = self.ld_library_path + (f":{prev}" if prev else "")
        with open(self._stdio, "wb") as stdio:
            self._proc = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, "redis-watchdog", str(self.dir), *args],
                stdin=subprocess.PIPE,
                stdout=stdio,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        assert self.dir is not None
        deadline = time.monotonic() + self.startup_timeout
        want_dir = os.fsencode(os.path.realpath(self.dir))
        last = "no reply yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self.log_tail()
                if "Address already in use" in tail:
                    raise _PortInUse(f"port {self.port} taken")
                raise RedisServerError(
                    f"{self.name} ({self.server_bin}) exited with status {code} "
                    f"during startup.\n--- log tail ---\n{tail}"
                )
            try:
                # Also proves the answering server is ours, not another one
                # that won a race for the same port.
                reply = resp_command(
                    self.host,
                    self.port,
                    "CONFIG",
                    "GET",
                    "dir",
                    password=self.password,
                    timeout=1.0,
                )
                if reply == [b"dir", want_dir]:
                    return
                last = repr(reply)
            except OSError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                self._kill()
                raise RedisServerError(
                    f"{self.name} on port {self.port} did not answer PING within "
                    f"{self.startup_timeout:.0f}s (last: {last}).\n"
                    f"--- log tail ---\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # Closing the pipe makes the watchdog SIGKILL the server.
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _cleanup(self) -> None:
        self._kill()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def stop(self) -> None:
        """Kill the server and delete its directory (idempotent)."""
        self._cleanup()
        _live_servers.discard(self)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RedisServer {self.name} {self.url}>"

    # -- accessors --------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

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

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.logfile, self._stdio):
            if path is None:
                continue
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if text.strip():
                parts.append("\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts) if parts else "(no log output)"

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


class _PortInUse(RedisServerError):
    pass


def _arg_value(args: Sequence[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
    return None


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
        timeout: float = CLUSTER_TIMEOUT,
    ) -> None:
        if masters < 3:
            raise ValueError("redis-cli --cluster create needs at least 3 masters")
        self.cli = cli_binary()
        self.nodes: list[RedisServer] = []
        try:
            for i in range(masters):
                factory = RedisServer.stack if stack else RedisServer.plain
                self.nodes.append(factory(cluster=True, extra_args=extra_args, name=f"cluster{i}"))
            self._create(timeout)
            self._wait_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def _create(self, timeout: float) -> None:
        cmd = [self.cli, "--cluster", "create"]
        cmd += [f"{n.host}:{n.port}" for n in self.nodes]
        cmd += ["--cluster-replicas", "0", "--cluster-yes"]
        password = self.nodes[0].password
        env = dict(os.environ)
        if password is not None:
            env["REDISCLI_AUTH"] = password
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RedisServerError(f"`{' '.join(cmd)}` timed out after {timeout}s") from exc
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).decode(errors="replace")
            raise RedisServerError(
                f"`{' '.join(cmd)}` failed with status {proc.returncode}:\n{out}\n"
                + self._log_tails()
            )

    def _wait_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        want_nodes = len(self.nodes)
        while True:
            infos = {}
            ok = True
            for node in self.nodes:
                try:
                    raw = node.execute("CLUSTER", "INFO")
                except (OSError, RedisServerError) as exc:
                    infos[node.port] = repr(exc)
                    ok = False
                    continue
                text = raw.decode() if isinstance(raw, bytes) else str(raw)
                infos[node.port] = text
                fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
                if (
                    fields.get("cluster_state") != "ok"
                    or fields.get("cluster_slots_ok") != str(CLUSTER_SLOTS)
                    or fields.get("cluster_known_nodes") != str(want_nodes)
                ):
                    ok = False
            if ok:
                return
            if time.monotonic() > deadline:
                detail = "\n".join(f"--- node {p} ---\n{t}" for p, t in infos.items())
                raise RedisServerError(
                    f"cluster not ok after {timeout}s:\n{detail}\n{self._log_tails()}"
                )
            time.sleep(0.1)

    def _log_tails(self) -> str:
        return "\n".join(f"--- log of node {n.port} ---\n{n.log_tail()}" for n in self.nodes)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

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
        return self._log_tails()
