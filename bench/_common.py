"""Helpers shared by the polars-redis benchmarks (``bench/bench_*.py``).

* a Redis target: a throw-away ``redis-server`` on a free loopback port
  (``--save "" --appendonly no``) or an existing ``--url``;
* fast loading with pipelined redis-py clients in several processes;
* measurement of one run: wall time, server CPU (``INFO cpu``
  ``used_cpu_user`` + ``used_cpu_sys`` delta), client CPU of this process
  (``getrusage`` user + sys, all threads) and peak RSS growth (psutil sampled
  every 10 ms in a background thread);
* best-of-N with warm-up, one case per fresh subprocess (``run_isolated``);
* machine info, a results table and JSON output.

Only the standard library, redis-py and psutil are needed here; Polars is
imported by the benchmark scripts themselves.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil
import redis

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"

MB = 1024 * 1024

#: A run is "noisy" when other processes used more than this much CPU per
#: second of its wall time.
NOISY = 0.10


# --------------------------------------------------------------------------
# Redis target
# --------------------------------------------------------------------------


def _server_binary() -> str:
    """POLARS_REDIS_SERVER (env or .redis/env.json), else redis-server on PATH."""
    sys.path.insert(0, str(TESTS_DIR))
    try:
        from redis_servers import configured_binary

        path: str | None = configured_binary("server")
    except Exception:  # no harness built: the environment alone
        path = os.environ.get("POLARS_REDIS_SERVER")
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(TESTS_DIR))
    if path and os.access(path, os.X_OK):
        return path
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit(
            "no redis-server: set POLARS_REDIS_SERVER (source .redis/env.sh), "
            "put redis-server on PATH, or pass --url"
        )
    return found


@dataclass
class Target:
    """The Redis server a benchmark runs against."""

    url: str
    owned: bool  # started by us: FLUSHALL is allowed
    binary: str | None = None

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, **kwargs)

    def clear(self, prefix: str) -> None:
        """Free memory between sizes: FLUSHALL on our own server; on a
        user-provided --url only keys under ``prefix`` are UNLINKed."""
        r = self.client()
        if self.owned:
            r.flushall()
            return
        pipe = r.pipeline(transaction=False)
        pending = 0
        for key in r.scan_iter(match=prefix + "*", count=10_000):
            pipe.unlink(key)
            pending += 1
            if pending >= 10_000:
                pipe.execute()
                pending = 0
        pipe.execute()


@contextlib.contextmanager
def redis_target(url: str | None) -> Iterator[Target]:
    """Use ``url``, or start a throw-away server (stopped on exit)."""
    if url:
        redis.Redis.from_url(url).ping()
        yield Target(url=url, owned=False)
        return
    sys.path.insert(0, str(TESTS_DIR))
    from redis_servers import RedisServer  # starts on a free port, no persistence

    binary = _server_binary()
    server = RedisServer(server_bin=binary, name="bench")
    try:
        yield Target(url=server.url, owned=True, binary=binary)
    finally:
        server.stop()


def server_cpu(r: redis.Redis) -> float:
    """Seconds of CPU used by the server so far (user + sys, all threads)."""
    info = r.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def server_summary(r: redis.Redis) -> dict[str, Any]:
    info = r.info()
    return {
        "redis_version": info.get("redis_version"),
        "used_memory_human": info.get("used_memory_human"),
        "keys": r.dbsize(),
        "io_threads_active": info.get("io_threads_active"),
        "allocator": info.get("mem_allocator"),
    }


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------

_clients: dict[str, redis.Redis] = {}


def _load_range(
    url: str, add: Callable[[Any, int], None], start: int, stop: int, chunk: int
) -> int:
    r = _clients.get(url)
    if r is None:
        r = _clients[url] = redis.Redis.from_url(url)
    pipe = r.pipeline(transaction=False)
    for lo in range(start, stop, chunk):
        for i in range(lo, min(lo + chunk, stop)):
            add(pipe, i)
        pipe.execute()
    return stop - start


def load_pipelined(
    url: str,
    total: int,
    add: Callable[[Any, int], None],
    *,
    chunk: int = 10_000,
    workers: int | None = None,
) -> float:
    """Call ``add(pipeline, i)`` for i in ``range(total)`` on redis-py pipelines
    (``transaction=False``, executed every ``chunk`` items), split over
    ``workers`` processes; returns the wall seconds.

    ``add`` must be a module-level function or an instance of a module-level
    class (it is pickled by reference into ``spawn``-ed workers, which
    re-import the benchmark script), and the script must start its work under
    ``if __name__ == "__main__":``. Small loads (< 20 chunks) stay in-process.
    """
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    t0 = time.perf_counter()
    if workers <= 1 or total < 20 * chunk:  # spawning workers costs ~1 s
        _load_range(url, add, 0, total, chunk)
    else:
        # Interleaved blocks of `chunk` so that every worker gets the same
        # amount of work and keys of both kinds.
        blocks = [(lo, min(lo + chunk, total)) for lo in range(0, total, chunk)]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as ex:
            futures = [ex.submit(_load_range, url, add, lo, hi, chunk) for lo, hi in blocks]
            done = sum(f.result() for f in futures)
        assert done == total, (done, total)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------


def client_cpu() -> float:
    """CPU seconds of this process so far (user + sys, all threads)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def current_rss() -> int:
    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    """Peak RSS of this process so far, in bytes.

    Linux: ``VmHWM`` of /proc/self/status (reset by exec). ``ru_maxrss`` is
    not used there because a child inherits its parent's value across
    fork + exec, which would charge the orchestrator's memory to a worker.
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss) * (1 if sys.platform == "darwin" else 1024)


class RssSampler:
    """Samples this process's RSS every ``interval`` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.before = 0
        self.peak = 0

    def _sample(self) -> None:
        rss = self._proc.memory_info().rss
        if rss > self.peak:
            self.peak = rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self.before = self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def growth(self) -> int:
        return self.peak - self.before


def system_busy_cpu() -> float:
    """CPU seconds all processes of the machine have been busy (all cores;
    idle, iowait and steal excluded)."""
    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def wait_for_quiet(max_wait: float, *, threshold: float = 0.10, window: float = 2.0) -> float:
    """On a shared machine: wait up to ``max_wait`` seconds until the whole
    machine is at most ``threshold`` busy over ``window`` seconds (call it
    between cases, when the benchmark itself is idle). Returns the last busy
    fraction seen (0..1)."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = psutil.cpu_percent(interval=window) / 100
        if busy <= threshold or time.monotonic() >= deadline:
            return busy


@dataclass
class Run:
    wall: float
    server_cpu: float
    client_cpu: float
    rss_growth: int
    other_cpu: float = 0.0  # machine-wide busy CPU not used by the server or us
    value: Any = None


def measure_once(fn: Callable[[], Any], r: redis.Redis, *, sample_rss: bool = True) -> Run:
    """Time one call of ``fn``; the server's CPU is read just outside the window."""
    gc.collect()
    sampler = RssSampler() if sample_rss else contextlib.nullcontext()
    with sampler:
        m0 = system_busy_cpu()
        s0 = server_cpu(r)
        c0 = client_cpu()
        t0 = time.perf_counter()
        value = fn()
        t1 = time.perf_counter()
        c1 = client_cpu()
        s1 = server_cpu(r)
        m1 = system_busy_cpu()
    growth = sampler.growth if isinstance(sampler, RssSampler) else 0
    other = max(0.0, (m1 - m0) - (s1 - s0) - (c1 - c0))
    return Run(t1 - t0, s1 - s0, c1 - c0, growth, other, value)


@dataclass
class CaseResult:
    """Best of ``repeat`` runs (after ``warmup`` discarded runs) of one case."""

    name: str
    title: str
    n: int
    rows: int
    wall: float
    server_cpu: float
    client_cpu: float
    rss_growth: int  # max over all runs, warm-up included
    other_cpu: float = 0.0  # CPU used by other processes during the best run
    walls: list[float] = field(default_factory=list)
    ref: str | None = None  # name of the case the speedup is relative to
    peak_rss: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall if self.wall > 0 else float("nan")

    @property
    def server_eff(self) -> float:
        """Server CPU / wall: ~1.0 means the single-threaded server is the bottleneck."""
        return self.server_cpu / self.wall if self.wall > 0 else float("nan")

    @property
    def noise(self) -> float:
        """CPU used by other processes per wall second of the best run."""
        return self.other_cpu / self.wall if self.wall > 0 else 0.0

    @property
    def client_util(self) -> float:
        return self.client_cpu / self.wall if self.wall > 0 else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "n": self.n,
            "rows": self.rows,
            "wall_s": self.wall,
            "walls_s": self.walls,
            "rows_per_s": self.rows_per_s,
            "server_cpu_s": self.server_cpu,
            "server_eff": self.server_eff,
            "client_cpu_s": self.client_cpu,
            "client_util": self.client_util,
            "rss_growth_bytes": self.rss_growth,
            "other_cpu_s": self.other_cpu,
            "peak_rss_bytes": self.peak_rss,
            "ref": self.ref,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CaseResult:
        return cls(
            name=d["name"],
            title=d["title"],
            n=d["n"],
            rows=d["rows"],
            wall=d["wall_s"],
            server_cpu=d["server_cpu_s"],
            client_cpu=d["client_cpu_s"],
            rss_growth=d["rss_growth_bytes"],
            other_cpu=d.get("other_cpu_s", 0.0),
            walls=d["walls_s"],
            ref=d.get("ref"),
            peak_rss=d.get("peak_rss_bytes", 0),
            extra=d.get("extra", {}),
        )


def bench(
    name: str,
    title: str,
    n: int,
    fn: Callable[[], Any],
    r: redis.Redis,
    *,
    repeat: int = 3,
    warmup: int = 1,
    rows: Callable[[Any], int] = len,
    check: Callable[[Any], None] | None = None,
    ref: str | None = None,
) -> CaseResult:
    """Run ``fn`` ``warmup + repeat`` times and keep the fastest timed run.

    ``rows(value)`` counts the rows of a result, ``check(value)`` validates
    it (raise on mismatch); both run outside the timed window.
    """
    runs: list[Run] = []
    max_growth = 0
    for i in range(warmup + repeat):
        run = measure_once(fn, r)
        max_growth = max(max_growth, run.rss_growth)
        if check is not None:
            check(run.value)
        run.value = rows(run.value)
        if i >= warmup:
            runs.append(run)
    best = min(runs, key=lambda x: x.wall)
    return CaseResult(
        name=name,
        title=title,
        n=n,
        rows=best.value,
        wall=best.wall,
        server_cpu=best.server_cpu,
        client_cpu=best.client_cpu,
        rss_growth=max_growth,
        other_cpu=best.other_cpu,
        walls=[x.wall for x in runs],
        ref=ref,
        peak_rss=peak_rss(),
    )


# --------------------------------------------------------------------------
# subprocess isolation
# --------------------------------------------------------------------------

RESULT_MARKER = "@@BENCH_RESULT@@ "


def emit_result(result: CaseResult) -> None:
    """Used by a worker subprocess to hand its result to the parent."""
    print(RESULT_MARKER + json.dumps(result.to_json()), flush=True)


def run_isolated(argv: Sequence[str], *, timeout: float | None = None) -> CaseResult:
    """Run ``python argv...`` (a worker invocation) in a fresh interpreter and
    return the :class:`CaseResult` it emitted; its stderr is passed through."""
    cmd = [sys.executable, *argv]
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout, check=False
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            if proc.returncode != 0:
                break
            return CaseResult.from_json(json.loads(line[len(RESULT_MARKER) :]))
    raise RuntimeError(
        f"worker failed (status {proc.returncode}): {shlex.join(cmd)}\n{proc.stdout[-4000:]}"
    )


# --------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def module_fingerprint(module: str) -> str | None:
    """``sha256[:12] mtime`` of an installed module's file (its native
    extension for packages that have one), to tie results to a build and to
    notice a reinstall in the middle of a run."""
    import hashlib
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    path = Path(getattr(mod, "__file__", "") or "")
    if not path.is_file():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    mtime = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime))
    return f"{digest} ({path.name}, {mtime})"


def machine_info(r: redis.Redis | None = None) -> dict[str, Any]:
    cpu_model = platform.processor() or ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        import hiredis  # noqa: F401

        has_hiredis = True
    except ImportError:
        has_hiredis = False
    info: dict[str, Any] = {
        "nproc": affinity,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "polars": _version("polars"),
        "polars_redis": _version("polars-redis"),
        "redis_py": _version("redis"),
        "hiredis": has_hiredis,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "polars_redis_build": module_fingerprint("polars_redis._internal"),
    }
    if r is not None:
        server = r.info("server")
        info["redis_server"] = server.get("redis_version")
        info["redis_mode"] = server.get("redis_mode")
        info["redis_executable"] = server.get("executable")
        with contextlib.suppress(Exception):
            info["redis_io_threads"] = r.config_get("io-threads").get("io-threads")
    return info


def format_machine(info: dict[str, Any]) -> str:
    return (
        f"machine: nproc={info['nproc']} ({info['cpu_model']}), "
        f"{info['mem_total_gb']} GiB RAM, {info['platform']}, "
        f"loadavg at start {' '.join(map(str, info['loadavg']))}\n"
        f"software: python {info['python']}, polars {info['polars']}, "
        f"polars-redis {info['polars_redis']} (build {info['polars_redis_build']}), "
        f"redis-py {info['redis_py']} "
        f"(hiredis: {'yes' if info['hiredis'] else 'no'}), "
        f"redis-server {info.get('redis_server')} (io-threads {info.get('redis_io_threads')})"
    )


def _fmt(x: float, digits: int = 3) -> str:
    if x != x:  # nan
        return "-"
    return f"{x:.{digits}f}"


def _rate(x: float) -> str:
    if x != x:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def results_table(results: Sequence[CaseResult]) -> str:
    """A plain-text table; ``speedup`` = wall of the ``ref`` case / wall."""
    by_key = {(c.n, c.name): c for c in results}
    header = [
        "n",
        "case",
        "rows",
        "wall s",
        "rows/s",
        "srv CPU s",
        "srv eff",
        "cli CPU s",
        "cli/wall",
        "other CPU s",
        "ΔRSS MB",
        "peak MB",
        "speedup",
        "vs",
    ]
    lines: list[list[str]] = []
    for c in results:
        ref = by_key.get((c.n, c.ref)) if c.ref else None
        speedup = ref.wall / c.wall if ref is not None and c.wall > 0 else float("nan")
        lines.append(
            [
                f"{c.n:,}",
                c.title,
                f"{c.rows:,}",
                _fmt(c.wall),
                _rate(c.rows_per_s),
                _fmt(c.server_cpu),
                _fmt(c.server_eff, 2),
                _fmt(c.client_cpu),
                _fmt(c.client_util, 2),
                _fmt(c.other_cpu, 2),
                f"{c.rss_growth / MB:.0f}",
                f"{c.peak_rss / MB:.0f}",
                (_fmt(speedup, 2) + "x") if speedup == speedup else "-",
                c.ref or "-",
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in lines)) for i, h in enumerate(header)]
    left = {1, len(header) - 1}

    def fmt_row(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        )

    out = [fmt_row(header).rstrip(), "  ".join("-" * w for w in widths)]
    prev_n = None
    for c, row in zip(results, lines):
        if prev_n is not None and c.n != prev_n:
            out.append("")
        prev_n = c.n
        out.append(fmt_row(row).rstrip())
    return "\n".join(out)


TABLE_NOTES = """\
wall s     best of the timed runs (after warm-up); rows/s = rows / wall s
srv CPU s  server used_cpu_user + used_cpu_sys delta (INFO cpu) over the best run
srv eff    srv CPU s / wall s: ~1.00 = the single-threaded server is saturated
cli CPU s  this (worker) process's user + sys CPU, all threads (getrusage)
cli/wall   > 1 means several client threads were busy at once
other CPU  machine-wide busy CPU (psutil.cpu_times) - srv - cli during the best run:
           other processes competing for the cores (should be ~0 for clean numbers)
ΔRSS MB    max over runs of (peak RSS sampled every 10 ms - RSS before the run),
           each case in a fresh process
peak MB    peak RSS (VmHWM) of the worker process, Python + Polars included
speedup    wall of the `vs` case / wall of this case"""


def interference_warnings(results: Sequence[CaseResult], info: dict[str, Any]) -> list[str]:
    """Reasons not to trust a run: other processes busy, or the package
    reinstalled while it ran (workers record ``extra["build"]``)."""
    out = []
    noisy = [c for c in results if c.noise > NOISY]
    if noisy:
        worst = max(noisy, key=lambda c: c.noise)
        out.append(
            f"WARNING: other processes used CPU during {len(noisy)} case(s) (worst: "
            f"{worst.title} at N={worst.n:,}, {worst.other_cpu:.2f}s over {worst.wall:.2f}s); "
            "numbers are skewed, rerun on a quiet machine"
        )
    builds = {c.extra.get("build") for c in results} - {None}
    if builds - {info.get("polars_redis_build")}:
        out.append(
            "WARNING: polars_redis was reinstalled during the run; builds seen: "
            + ", ".join(sorted(str(b) for b in builds))
        )
    return out


def write_json(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")


def command_line() -> str:
    return shlex.join([Path(sys.executable).name, *sys.argv])
