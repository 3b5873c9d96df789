"""Write benchmark: polars-redis beside a plain redis-py pipeline doing the
same job, on a dedicated server started for the run.

Jobs (each on an empty database, best of ``--repeat`` runs):

* hashes with a TTL, 10 mixed columns: ``write_hashes(df, url, ttl=...)``
  against a redis-py pipeline of ``HSET`` + ``EXPIRE`` per row;
* strings with a TTL: ``write_strings`` against ``SET ... EX``;
* JSON documents with a TTL (Redis Stack): ``write_json`` against
  ``JSON.SET`` + ``EXPIRE``;
* the cost of each conflict mode for hashes (``replace`` = MULTI/DEL/HSET/
  EXPIRE/EXEC, ``append`` without TTL = one HSET, ``append`` with TTL and
  ``skip`` = a checked transaction per batch of up to 64 keys: WATCH,
  TYPE or EXISTS per key, then MULTI/HSET/EXPIRE.../EXEC; ``fail`` = EXISTS
  pass + the same).

For every run it prints rows/s and the server-bound efficiency: server CPU
seconds (``INFO cpu`` used_cpu_user + used_cpu_sys deltas) per wall second.
The redis-py baseline formats values with Polars (``cast(pl.String)``)
before the loop, so it measures the pipeline, not Python's ``str()``.

``--table`` instead prints one table of every write type (hashes, json,
strings, sets, lists, zsets, streams, timeseries) x ``if_exists`` mode x TTL
(none / 3600), each beside the redis-py pipeline for the same data: rows/s,
server command time per row (``INFO commandstats`` usec after ``CONFIG
RESETSTAT``), server CPU per row and client CPU per row (``getrusage``). The
redis-py side formats values once with Polars (JSON documents with
``struct.json_encode``, groups with ``group_by().agg``) and pipelines
``PIPELINE`` keys per round trip; where it cannot give the library's
guarantee cheaply (skip/fail without a race, an append that never sets a TTL
on a WRONGTYPE key) the table says which plain equivalent it ran. A third
line per cell, ``floor``, is the cheapest command sequence with the cell's
guarantees sent bare (the checks, data commands and expiry without the
atomic wrapper, pre-encoded and streamed: a lower bound for the server CPU
of any sequence with those guarantees), with polars-redis' server CPU per
row as a multiple of it. A
combination the library refuses is printed as ``n/a`` with its message.
JSON and time series run on Redis Stack, the rest on the plain server.

Run (release build first: ``maturin develop --release``)::

    .venv/bin/python bench/bench_write.py                 # 100k and 1M rows
    .venv/bin/python bench/bench_write.py --rows 100000 --repeat 5 --modes
    .venv/bin/python bench/bench_write.py --table         # 100k rows, everything
    .venv/bin/python bench/bench_write.py --table --rows 1000000 \\
        --types hashes,sets --modes append,skip
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import measure_once
from redis_servers import HarnessUnavailable, RedisServer

import polars_redis as pr

TTL = 3600
PIPELINE = 1000


def mixed_frame(rows: int) -> pl.DataFrame:
    """10 value columns of mixed types (ints, float, text, bool, date, datetime
    with a zone, decimal) and the key."""
    return (
        pl.select(i=pl.int_range(rows))
        .with_columns(
            _key=pl.format("user:{}", pl.col("i")),
            id=pl.col("i"),
            name=pl.format("name-{}", pl.col("i") * 7919 % 100_003),
            age=(pl.col("i") % 90).cast(pl.Int32),
            score=pl.col("i").cast(pl.Float64) / 7.0,
            active=pl.col("i") % 3 == 0,
            city=pl.format("city-{}", pl.col("i") % 50),
            joined=pl.lit(dt.date(2020, 1, 1)) + pl.duration(days=pl.col("i") % 1000),
            seen=pl.lit(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
            + pl.duration(seconds=pl.col("i")),
            balance=(pl.col("i") % 100_000).cast(pl.Decimal(12, 2)),
            email=pl.format("user{}@example.com", pl.col("i")),
        )
        .drop("i")
    )


@dataclass
class Run:
    name: str
    rows: int
    wall: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.wall

    @property
    def efficiency(self) -> float:
        return self.server_cpu / self.wall


def server_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def measure(name: str, server: RedisServer, rows: int, job: Callable[[], Any], repeat: int) -> Run:
    client = server.client()
    best: Run | None = None
    for _ in range(repeat):
        client.flushall()
        cpu0, t0 = server_cpu(client), time.perf_counter()
        job()
        wall = time.perf_counter() - t0
        run = Run(name, rows, wall, server_cpu(client) - cpu0)
        if client.dbsize() == 0:
            raise RuntimeError(f"{name}: nothing was written")
        if best is None or run.wall < best.wall:
            best = run
    assert best is not None
    print(
        f"  {best.name:<42} {best.rows:>9,} rows  {best.wall:7.2f} s  "
        f"{best.rate:>11,.0f} rows/s  server-bound {best.efficiency:4.2f}",
        flush=True,
    )
    return best


def redis_py_job(
    server: RedisServer, rows: Callable[[], Any], queue: Callable[[Any, Any], None]
) -> Callable[[], None]:
    """A redis-py pipeline (no transaction) flushed every PIPELINE rows:
    ``queue(pipe, row)`` adds the commands of one row."""

    def job() -> None:
        pipe = server.client().pipeline(transaction=False)
        for n, row in enumerate(rows()):
            queue(pipe, row)
            if n % PIPELINE == PIPELINE - 1:
                pipe.execute()
        pipe.execute()

    return job


def redis_py_hashes(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    columns = [c for c in df.columns if c != "_key"]

    def queue(pipe: Any, row: tuple[Any, ...]) -> None:
        pipe.hset(row[0], mapping={c: v for c, v in zip(columns, row[1:]) if v is not None})
        pipe.expire(row[0], TTL)

    return redis_py_job(server, lambda: df.cast(pl.String).iter_rows(), queue)


def redis_py_strings(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    return redis_py_job(
        server,
        lambda: df.select("_key", "email").iter_rows(),
        lambda pipe, row: pipe.set(row[0], row[1], ex=TTL),
    )


def redis_py_json(server: RedisServer, df: pl.DataFrame) -> Callable[[], None]:
    def queue(pipe: Any, row: dict[str, Any]) -> None:
        key = row.pop("_key")
        pipe.execute_command("JSON.SET", key, "$", json.dumps(row))
        pipe.expire(key, TTL)

    return redis_py_job(
        server,
        lambda: df.with_columns(pl.col(pl.Date, pl.Datetime, pl.Decimal).cast(pl.String)).iter_rows(
            named=True
        ),
        queue,
    )


# --------------------------------------------------------------------------
# --table: every write type x if_exists mode x TTL, beside redis-py
# --------------------------------------------------------------------------

TYPES = ("hashes", "json", "strings", "sets", "lists", "zsets", "streams", "timeseries")
MODES = ("replace", "append", "skip", "fail")
STACK_TYPES = {"json", "timeseries"}
GROUP = 10  # rows per key for sets, lists, zsets, streams and time series
#: commands whose commandstats time includes the commands they ran (measured:
#: EVAL's and EXEC's usec contain the usec their nested SETs also report).
WRAPPERS = {"exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}
#: commands of the measurement itself, not of the write
OWN = {
    "info",
    "config|resetstat",
    "config",
    "dbsize",
    "flushall",
    "ping",
    "hello",
    "client|setinfo",
}


def type_frame(kind: str, rows: int) -> pl.DataFrame:
    """The frame written for ``kind``: hashes and JSON get :func:`mixed_frame`
    (one key per row), strings its email column, the other types ``GROUP``
    rows per key."""
    if kind in ("hashes", "json"):
        return mixed_frame(rows)
    i = pl.int_range(rows)
    if kind == "strings":
        return pl.select(_key=pl.format("user:{}", i), email=pl.format("user{}@example.com", i))
    key = pl.format(f"{kind}:{{}}", i // GROUP)
    if kind in ("sets", "zsets"):
        return pl.select(_key=key, member=pl.format("member-{}", i), score=i / 7.0).select(
            ["_key", "member"] + (["score"] if kind == "zsets" else [])
        )
    if kind == "lists":
        return pl.select(_key=key, element=pl.format("element-{}", i))
    if kind == "streams":
        return pl.select(_key=key, kind=pl.format("event-{}", i % 7), n=i, amount=i / 4.0)
    if kind == "timeseries":
        return pl.select(_key=key, _ts=1_700_000_000_000 + (i % GROUP) * 1000, value=i / 7.0)
    raise ValueError(kind)


def ours_table_job(
    kind: str, url: str, df: pl.DataFrame, mode: str, ttl: bool
) -> Callable[[], Any]:
    kw: dict[str, Any] = {"if_exists": mode}
    if ttl:
        kw["ttl"] = TTL
    write: Callable[..., Any] = getattr(pr, f"write_{kind}")
    if kind == "strings":
        kw["value_column"] = "email"
    return lambda: write(df, url, **kw)


def _items(kind: str, df: pl.DataFrame) -> list[tuple[Any, Any]]:
    """(key, payload) per key, values formatted by Polars in one pass."""
    if kind == "hashes":
        columns = [c for c in df.columns if c != "_key"]
        return [
            (row[0], {c: v for c, v in zip(columns, row[1:]) if v is not None})
            for row in df.cast(pl.String).iter_rows()
        ]
    if kind == "json":
        doc = df.with_columns(pl.col(pl.Date, pl.Datetime, pl.Decimal).cast(pl.String)).select(
            "_key", doc=pl.struct(pl.exclude("_key")).struct.json_encode()
        )
        return list(doc.iter_rows())
    if kind == "strings":
        return list(df.iter_rows())
    grouped = df.group_by("_key", maintain_order=True)
    if kind in ("sets", "lists"):
        return list(grouped.agg(pl.exclude("_key")).iter_rows())
    if kind == "zsets":
        return [(k, dict(zip(m, s))) for k, m, s in grouped.agg("member", "score").iter_rows()]
    if kind == "streams":
        fields = df.select("_key", entry=pl.struct(pl.exclude("_key").cast(pl.String)))
        return list(fields.group_by("_key", maintain_order=True).agg("entry").iter_rows())
    if kind == "timeseries":
        return [(k, list(zip(t, v))) for k, t, v in grouped.agg("_ts", "value").iter_rows()]
    raise ValueError(kind)


def _queue_create(kind: str, pipe: Any, key: Any, payload: Any) -> None:
    """The commands that write a key known not to exist (or just deleted)."""
    if kind == "hashes":
        pipe.hset(key, mapping=payload)
    elif kind == "json":
        pipe.execute_command("JSON.SET", key, "$", payload)
    elif kind == "sets":
        pipe.sadd(key, *payload)
    elif kind == "lists":
        pipe.rpush(key, *payload)
    elif kind == "zsets":
        pipe.zadd(key, payload)
    elif kind == "streams":
        for entry in payload:
            pipe.xadd(key, {f: v for f, v in entry.items() if v is not None})
    elif kind == "timeseries":
        pipe.execute_command("TS.CREATE", key)
        pipe.execute_command("TS.MADD", *(x for t, v in payload for x in (key, t, v)))
    else:
        raise ValueError(kind)


def _queue_append(kind: str, pipe: Any, key: Any, payload: Any) -> None:
    """The commands that merge into a key that may exist."""
    if kind == "json":
        pipe.execute_command("JSON.MERGE", key, "$", payload)
    elif kind == "timeseries":  # TS.MADD needs the series; TS.ADD creates it
        for t, v in payload:
            pipe.execute_command("TS.ADD", key, t, v)
    else:
        _queue_create(kind, pipe, key, payload)


def redis_py_table(
    kind: str, server: RedisServer, df: pl.DataFrame, mode: str, ttl: bool
) -> tuple[str, Callable[[], None]]:
    """The redis-py pipeline for one cell and a description of its commands
    (and of the guarantee it lacks, when it lacks one)."""
    client = server.client()
    ex = "+EXPIRE" if ttl else ""

    def chunks(items: list[tuple[Any, Any]]) -> Any:
        for lo in range(0, len(items), PIPELINE):
            yield items[lo : lo + PIPELINE]

    if kind == "strings":
        flags: dict[str, Any] = {"ex": TTL} if ttl else {}
        if mode == "append" and not ttl:
            flags["keepttl"] = True
        if mode in ("skip", "fail"):
            flags["nx"] = True

        def strings_job() -> None:
            items = _items(kind, df)
            if mode == "fail":
                _exists_pass(client, (k for k, _ in items))
            pipe = client.pipeline(transaction=False)
            for chunk in chunks(items):
                for key, value in chunk:
                    pipe.set(key, value, **flags)
                pipe.execute()

        opts = " ".join(f.upper() for f in flags)
        desc = f"SET {opts}".strip() + (" after an EXISTS pass" if mode == "fail" else "")
        return desc, strings_job

    name = {
        "hashes": "HSET",
        "json": "JSON.SET",
        "sets": "SADD",
        "lists": "RPUSH",
        "zsets": "ZADD",
        "streams": "XADD/entry",
        "timeseries": "TS.CREATE+TS.MADD",
    }[kind]
    if mode == "replace":
        desc = f"MULTI per {PIPELINE} keys: DEL+{name}{ex}"
    elif mode == "append":
        app = {"json": "JSON.MERGE", "timeseries": "TS.ADD/sample"}.get(kind, name)
        desc = f"{app}{ex}" + (" (EXPIRE also hits WRONGTYPE keys)" if ttl else "")
    elif mode == "skip":
        desc = f"EXISTS per {PIPELINE} keys, then {name}{ex} (not atomic)"
    else:
        desc = f"EXISTS pass, then {name}{ex} (not atomic)"

    def job() -> None:
        items = _items(kind, df)
        if mode == "fail":
            _exists_pass(client, (k for k, _ in items))
        for chunk in chunks(items):
            if mode == "skip":
                probe = client.pipeline(transaction=False)
                for key, _ in chunk:
                    probe.exists(key)
                chunk = [item for item, there in zip(chunk, probe.execute()) if not there]
            pipe = client.pipeline(transaction=mode == "replace")
            for key, payload in chunk:
                if mode == "replace":
                    pipe.delete(key)
                if mode == "append":
                    _queue_append(kind, pipe, key, payload)
                else:
                    _queue_create(kind, pipe, key, payload)
                if ttl:
                    pipe.expire(key, TTL)
            pipe.execute()

    return desc, job


def floor_table(
    kind: str, server: RedisServer, df: pl.DataFrame, mode: str, ttl: bool
) -> tuple[str, Callable[[], None]]:
    """The floor for one cell: the cheapest commands that can carry its
    guarantees, sent bare, and a description of them. Per key: the
    existence checks the mode needs (``skip``: one ``EXISTS``; ``fail``: the
    ``EXISTS`` pass and one more at write time, for keys created meanwhile;
    a time series append: one, since ``TS.CREATE`` runs only on a new key),
    ``DEL`` for ``replace``, the data commands polars-redis sends and the
    expiry. Without the atomic wrapper a guarantee needs, it is a lower
    bound for any sequence that has it. The commands are encoded before
    the clock starts and streamed over one socket while a second thread
    reads the replies with hiredis, so the client never starves the server.
    """
    import socket
    import threading

    import hiredis
    from redis.connection import Connection

    items = _items(kind, df)
    pipe = server.client().pipeline(transaction=False)
    names: list[str] = []
    if mode == "fail":
        for key, _ in items:
            pipe.exists(key)
        names.append("EXISTS pass")
    check = mode in ("skip", "fail") or (kind == "timeseries" and mode == "append")
    for key, payload in items:
        if kind == "strings":
            flags: dict[str, Any] = {"ex": TTL} if ttl else {}
            if mode == "append":  # GET: refused (nothing written) on another type
                flags["get"] = True
                flags["keepttl"] = not ttl
            if mode in ("skip", "fail"):
                flags["nx"] = True
            pipe.set(key, payload, **flags)
            continue
        if check:
            pipe.exists(key)
        if mode == "replace":
            pipe.delete(key)
        if mode == "append" and kind not in ("timeseries",):
            _queue_append(kind, pipe, key, payload)
        else:
            _queue_create(kind, pipe, key, payload)
        if ttl:
            pipe.expire(key, TTL)
    stack = [args for args, _ in pipe.command_stack]
    payload_bytes = b"".join(Connection().pack_commands(stack))
    seen: list[str] = []
    for args in stack[len(items) if mode == "fail" else 0 :][:8]:
        name = str(args[0]).upper()
        if name not in seen:
            seen.append(name)
    names.append("+".join(seen) + " per key, bare")

    def job() -> None:
        sock = socket.create_connection(("127.0.0.1", server.port))
        try:
            sender = threading.Thread(target=sock.sendall, args=(payload_bytes,))
            sender.start()
            reader = hiredis.Reader()
            left = len(stack)
            while left:
                data = sock.recv(1 << 20)
                if not data:
                    raise RuntimeError("the server closed the connection")
                reader.feed(data)
                while left and reader.gets() is not False:
                    left -= 1
            sender.join()
        finally:
            sock.close()

    return ", then ".join(names), job


def _exists_pass(client: Any, keys: Any) -> None:
    """``if_exists="fail"`` in redis-py: EXISTS every key first, raise if one is there."""
    pipe = client.pipeline(transaction=False)
    pending = 0
    for key in keys:
        pipe.exists(key)
        pending += 1
        if pending == PIPELINE:
            if any(pipe.execute()):
                raise RuntimeError("a key exists")
            pending = 0
    if any(pipe.execute()):
        raise RuntimeError("a key exists")


@dataclass
class Cell:
    """One measured write: best wall of ``repeat`` runs, per-row costs of that run."""

    rows: int
    wall: float
    cmd_usec: float  # commandstats usec, wrappers excluded: every command once
    wrap_usec: float  # usec of EXEC/EVALSHA/FCALL, including the commands they ran
    server_cpu: float
    client_cpu: float
    calls: dict[str, int]

    def per_row(self, seconds_or_usec: float, usec: bool = False) -> float:
        return (seconds_or_usec if usec else seconds_or_usec * 1e6) / self.rows


def commandstats(client: Any) -> dict[str, tuple[int, int]]:
    """command -> (calls, usec) since the last CONFIG RESETSTAT."""
    out = {}
    for name, stat in client.info("commandstats").items():
        cmd = name.removeprefix("cmdstat_")
        if cmd not in OWN:
            out[cmd] = (int(stat["calls"]), int(stat["usec"]))
    return out


def measure_cell(server: RedisServer, rows: int, job: Callable[[], Any], repeat: int) -> Cell:
    client = server.client()
    best: Cell | None = None
    for _ in range(repeat):
        client.flushall()
        client.config_resetstat()
        run = measure_once(job, client, sample_rss=False)
        stats = commandstats(client)
        if client.dbsize() == 0:
            raise RuntimeError("nothing was written")
        cell = Cell(
            rows,
            run.wall,
            sum(u for c, (_, u) in stats.items() if c not in WRAPPERS),
            sum(u for c, (_, u) in stats.items() if c in WRAPPERS),
            run.server_cpu,
            run.client_cpu,
            {c: n for c, (n, _) in stats.items()},
        )
        if best is None or cell.wall < best.wall:
            best = cell
    assert best is not None
    return best


def _calls(cell: Cell) -> str:
    """Commands per row, most frequent first (``hset 1, expire 1``)."""
    parts = sorted(cell.calls.items(), key=lambda kv: -kv[1])
    return " ".join(f"{c}:{n / cell.rows:.2g}" for c, n in parts)


TABLE_HEADER = (
    "type",
    "mode",
    "ttl",
    "writer",
    "rows/s",
    "cmd us/row",
    "wrap us/row",
    "srv CPU us/row",
    "cli CPU us/row",
    "commands per row / notes",
)

TABLE_LEGEND = """\
cmd us/row      INFO commandstats usec (after CONFIG RESETSTAT) / rows, every command
                once whether sent or run by a script/transaction; EXEC and EVAL* left out
wrap us/row     usec of EXEC, EVALSHA, FCALL / rows: their usec INCLUDES the commands they
                ran (measured), so top-level server time = wrap + unwrapped part of cmd,
                and cmd + wrap double-counts the wrapped commands
srv CPU us/row  INFO cpu used_cpu_user + used_cpu_sys delta / rows (the server's real cost)
cli CPU us/row  getrusage of this process (user + sys, all threads) / rows
rows/s          best of --repeat runs, each on an empty database (so append, skip and fail
                find no existing key: the cost of the check, not of a conflict)"""


def run_table(args: argparse.Namespace) -> None:
    types = [t for t in args.types.split(",") if t] if args.types else list(TYPES)
    modes = [m for m in args.modes.split(",") if m] if args.modes else list(MODES)
    for bad in set(types) - set(TYPES):
        raise SystemExit(f"unknown type {bad!r}; choose from {', '.join(TYPES)}")
    for bad in set(modes) - set(MODES):
        raise SystemExit(f"unknown mode {bad!r}; choose from {', '.join(MODES)}")
    servers: dict[str, RedisServer] = {}
    lines: list[tuple[str, ...]] = []
    try:
        for rows in args.rows:
            for kind in types:
                stack = kind in STACK_TYPES
                label = "stack" if stack else "plain"
                if label not in servers:
                    try:
                        servers[label] = (
                            RedisServer.stack(name="bench-write-stack")
                            if stack
                            else RedisServer.plain(name="bench-write")
                        )
                    except HarnessUnavailable as exc:
                        lines.append(
                            (kind, "*", "*", "-", "n/a", "", "", "", "", f"no server: {exc}")
                        )
                        continue
                server = servers[label]
                df = type_frame(kind, rows)
                for mode in modes:
                    for ttl in (False, True):
                        ttl_s = str(TTL) if ttl else "none"
                        cells = []
                        ours: Cell | None = None
                        try:
                            ours = measure_cell(
                                server,
                                rows,
                                ours_table_job(kind, server.url, df, mode, ttl),
                                args.repeat,
                            )
                            cells.append(("polars-redis", ours, _calls(ours)))
                        except (pr.InvalidInputError, pr.UnsupportedError) as exc:
                            cells.append(("polars-redis", None, f"n/a: {exc}"))
                        desc, job = redis_py_table(kind, server, df, mode, ttl)
                        base = measure_cell(server, rows, job, args.repeat)
                        cells.append(("redis-py", base, f"{desc}; {_calls(base)}"))
                        desc, job = floor_table(kind, server, df, mode, ttl)
                        floor = measure_cell(server, rows, job, args.repeat)
                        if ours is not None:
                            ratio = ours.server_cpu / floor.server_cpu
                            desc = f"{desc}; ours/floor srv CPU {ratio:.2f}x"
                        cells.append(("floor", floor, desc))
                        for writer, cell, note in cells:
                            if cell is None:
                                lines.append(
                                    (kind, mode, ttl_s, writer, "n/a", "", "", "", "", note)
                                )
                            else:
                                lines.append(
                                    (
                                        kind,
                                        mode,
                                        ttl_s,
                                        writer,
                                        f"{cell.rows / cell.wall:,.0f}",
                                        f"{cell.cmd_usec / cell.rows:.2f}",
                                        f"{cell.wrap_usec / cell.rows:.2f}",
                                        f"{cell.server_cpu * 1e6 / cell.rows:.2f}",
                                        f"{cell.client_cpu * 1e6 / cell.rows:.2f}",
                                        note,
                                    )
                                )
                            print("  " + " | ".join(lines[-1]), flush=True)
            print(
                f"\n{rows:,} rows ({GROUP} rows per key for sets, lists, zsets, streams, "
                "time series)"
            )
            print(markdown_table(TABLE_HEADER, lines))
            lines.clear()
        print("\n" + TABLE_LEGEND)
        for label, server in servers.items():
            info = server.client().info("server")
            print(f"{label} server: redis {info.get('redis_version')} ({info.get('executable')})")
    finally:
        for server in servers.values():
            server.stop()


def markdown_table(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=None,
        help="rows per run (default: 100000 and 1000000; with --table 100000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--table",
        action="store_true",
        help="the type x if_exists x TTL table beside redis-py (instead of the jobs above)",
    )
    parser.add_argument(
        "--types",
        default=None,
        help=f"with --table: comma-separated subset of {','.join(TYPES)}",
    )
    parser.add_argument(
        "--modes",
        nargs="?",
        const="",
        default=None,
        help="without --table: also time each if_exists mode of write_hashes; "
        f"with --table: comma-separated subset of {','.join(MODES)} (default all)",
    )
    parser.add_argument("--no-json", action="store_true", help="skip the Redis Stack JSON job")
    args = parser.parse_args()
    if args.table:
        args.rows = args.rows or [100_000]
        run_table(args)
        return
    if args.types:
        parser.error("--types needs --table")
    args.rows = args.rows or [100_000, 1_000_000]

    server = RedisServer.plain(name="bench-write")
    stack = None
    if not args.no_json:
        try:
            stack = RedisServer.stack(name="bench-write-stack")
        except HarnessUnavailable as exc:
            print(f"(no JSON job: {exc})")
    try:
        for rows in args.rows:
            df = mixed_frame(rows)
            print(f"\n{rows:,} rows, {df.width - 1} value columns, TTL {TTL}s")
            ours = measure(
                "polars-redis write_hashes",
                server,
                rows,
                lambda df=df: pr.write_hashes(df, server.url, ttl=TTL),
                args.repeat,
            )
            base = measure(
                "redis-py pipeline HSET+EXPIRE",
                server,
                rows,
                redis_py_hashes(server, df),
                args.repeat,
            )
            print(f"  -> hashes: {ours.rate / base.rate:.1f}x redis-py")
            ours = measure(
                "polars-redis write_strings",
                server,
                rows,
                lambda df=df: pr.write_strings(df, server.url, value_column="email", ttl=TTL),
                args.repeat,
            )
            base = measure(
                "redis-py pipeline SET EX", server, rows, redis_py_strings(server, df), args.repeat
            )
            print(f"  -> strings: {ours.rate / base.rate:.1f}x redis-py")
            if stack is not None:
                ours = measure(
                    "polars-redis write_json",
                    stack,
                    rows,
                    lambda df=df, url=stack.url: pr.write_json(df, url, ttl=TTL),
                    args.repeat,
                )
                base = measure(
                    "redis-py pipeline JSON.SET+EXPIRE",
                    stack,
                    rows,
                    redis_py_json(stack, df),
                    args.repeat,
                )
                print(f"  -> json: {ours.rate / base.rate:.1f}x redis-py")
            if args.modes is not None:
                for label, kwargs in [
                    ("replace, ttl (MULTI/DEL/HSET/EXPIRE/EXEC)", {"ttl": TTL}),
                    ("replace, no ttl (MULTI/DEL/HSET/EXEC)", {}),
                    ("append, no ttl (HSET)", {"if_exists": "append"}),
                    ("append, ttl (EVALSHA script)", {"if_exists": "append", "ttl": TTL}),
                    ("skip, ttl (EVALSHA guarded script)", {"if_exists": "skip", "ttl": TTL}),
                    ("fail, ttl (EXISTS pass + script)", {"if_exists": "fail", "ttl": TTL}),
                ]:
                    measure(
                        label,
                        server,
                        rows,
                        lambda df=df, kw=kwargs: pr.write_hashes(df, server.url, **kw),
                        args.repeat,
                    )
    finally:
        server.stop()
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
