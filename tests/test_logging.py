"""The Rust core logs through Python's ``logging`` (logger ``polars_redis``
and its children): connections, cluster topology, retries, pushdown
decisions and write outcomes, at INFO for rare events and DEBUG per batch,
never a secret; worker threads logging never deadlock with the waiting
Python thread; nothing is logged below the level the loggers want."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy

import polars_redis as pr

SCHEMA = {"age": pl.Int64}
PASSWORD = "Log-s3cret-Pa55"
ACL_USER, ACL_PASSWORD = "log-reader", "Acl-s3cret-Pa55"
# Longer than any of these calls takes; a deadlock fails the test instead of hanging it.
TIMEOUT = 60.0


class Captured(logging.Handler):
    """Every record of the ``polars_redis`` loggers, as handled."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if level is None or r.levelno == level]

    def clear(self) -> None:
        self.records.clear()


@contextlib.contextmanager
def _capturing(level: int) -> Iterator[Captured]:
    """A handler on ``polars_redis``, set to ``level`` (restored after)."""
    logger = logging.getLogger("polars_redis")
    handler = Captured()
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """A handler on ``polars_redis`` at DEBUG."""
    with _capturing(logging.DEBUG) as handler:
        yield handler


def _load(client: Any, n: int, prefix: str = "user") -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(f"{prefix}:{i}", mapping={"age": i})
    pipe.execute()


def test_records_of_worker_threads_reach_the_python_logger(
    redis_server: RedisServer, redis_client: Any, captured: Captured
) -> None:
    _load(redis_client, 500)
    df = pr.read_hashes(redis_server.url, "user:*", SCHEMA, batch_size=100)
    assert df.height == 500
    names = {r.name for r in captured.records}
    assert "polars_redis.net.connection" in names
    assert "polars_redis.read.scan" in names
    assert all(name.startswith("polars_redis.") for name in names)
    messages = captured.messages()
    assert f"connected to 127.0.0.1:{redis_server.port} (TCP, no TLS)" in messages
    assert f"closed the connection to 127.0.0.1:{redis_server.port}" in messages
    assert "hash scan of pattern 'user:*'; columns: all; row limit: none" in messages
    batches = [m for m in captured.messages(logging.DEBUG) if m.startswith("batch of ")]
    assert sum(int(m.split()[2]) for m in batches) == 500
    # The fetches log from the core's worker threads, not the caller's.
    assert {r.thread for r in captured.records} - {threading.get_ident()}


def test_per_batch_records_are_debug_only(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 2000)
    with _capturing(logging.INFO) as handler:
        pr.read_hashes(redis_url, "user:*", SCHEMA, batch_size=100)
        pr.write_hashes(pl.DataFrame({"_key": ["w:1", "w:2"], "age": [1, 2]}), redis_url)
    assert {r.levelno for r in handler.records} == {logging.INFO}
    # One scan and one write: a few records, whatever the number of keys.
    assert len(handler.records) <= 4, handler.messages()


def test_nothing_is_logged_below_the_loggers_level_and_a_new_level_applies(
    redis_url: str, redis_client: Any
) -> None:
    _load(redis_client, 300)
    child = logging.getLogger("polars_redis.read")
    with _capturing(logging.WARNING) as handler:
        pr.read_hashes(redis_url, "user:*", SCHEMA, batch_size=100)
        assert handler.records == []
        # A child logger's own level counts too, from the next call on.
        child.setLevel(logging.DEBUG)
        try:
            pr.read_hashes(redis_url, "user:*", SCHEMA, batch_size=100)
        finally:
            child.setLevel(logging.NOTSET)
        assert {r.name for r in handler.records} == {
            "polars_redis.read.scan",
            "polars_redis.read.engine",
        }
        handler.clear()
        pr.read_hashes(redis_url, "user:*", SCHEMA, batch_size=100)
        assert handler.records == []


# Runs one call in a fresh interpreter with a DEBUG handler on ``polars_redis``
# and prints its result and the records (level, logger, message) as JSON. A
# deadlock would hold the GIL, so no thread of the test process could notice
# it: the child is killed after TIMEOUT instead.
_CHILD = """
import ctypes, json, logging, sys
import polars as pl
import pyarrow as pa
import polars_redis as pr

url, SCHEMA = sys.argv[1], {"age": pl.Int64}
records = []

def pull_holding_the_gil(source):
    # An Arrow consumer that keeps the GIL while it calls get_next (a
    # PYFUNCTYPE call does not release it); returns the rows pulled.
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    capsule = source.__arrow_c_stream__()  # owns the stream: kept alive until the end
    stream = get_pointer(capsule, b"arrow_array_stream")
    slots = (ctypes.c_void_p * 5).from_address(stream)  # get_schema, get_next, ..., release
    get_next = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(slots[1])
    rows = 0
    while True:
        array = (ctypes.c_int64 * 10)()  # length, ..., release (slot 8), private_data
        assert get_next(stream, ctypes.addressof(array)) == 0
        if array[8] == 0:
            break
        rows += array[0]
        ctypes.PYFUNCTYPE(None, ctypes.c_void_p)(array[8])(ctypes.addressof(array))
    ctypes.PYFUNCTYPE(None, ctypes.c_void_p)(slots[3])(stream)
    return rows

class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.levelno, record.name, record.getMessage()))

logger = logging.getLogger("polars_redis")
logger.addHandler(Keep())
logger.setLevel(logging.DEBUG)
result = %s
print(json.dumps({"result": result, "records": records}))
"""


def _in_child(url: str, call: str) -> tuple[Any, list[tuple[int, str, str]]]:
    """The result of the Python expression ``call`` (with ``url``, ``pr``,
    ``pl``, ``pa`` and ``SCHEMA`` in scope) and the records it logged."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD % call, url],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"deadlock: {call} did not finish in {TIMEOUT} s")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    return out["result"], [tuple(r) for r in out["records"]]


def _messages(records: list[tuple[int, str, str]], level: int) -> list[str]:
    return [message for levelno, _, message in records if levelno == level]


DEADLOCK_CALLS = {
    "scan": (
        'pr.scan_hashes(url, "user:*", SCHEMA, batch_size=100)'
        '.filter(pl.col("age") < 10).collect().height',
        10,
    ),
    "read": ('pr.read_hashes(url, "user:*", SCHEMA, batch_size=50).height', 3000),
    "write": (
        'pr.write_hashes(pl.DataFrame({"_key": [f"w:{i}" for i in range(3000)], '
        '"age": list(range(3000))}), url).written',
        3000,
    ),
    "iter": (
        'sum(b.height for b in pr.iter_hashes(url, "user:*", SCHEMA, batch_size=100))',
        3000,
    ),
    "arrow stream": (
        'pa.RecordBatchReader.from_stream(pr.iter_hashes(url, "user:*", SCHEMA, '
        "batch_size=100)).read_all().num_rows",
        3000,
    ),
    "arrow stream pulled holding the GIL": (
        'pull_holding_the_gil(pr.iter_hashes(url, "user:*", SCHEMA, batch_size=100))',
        3000,
    ),
    "polars from arrow stream": (
        'pl.DataFrame(pr.iter_hashes(url, "user:*", SCHEMA, batch_size=100)).height',
        3000,
    ),
}


@pytest.mark.parametrize("name", list(DEADLOCK_CALLS))
def test_worker_threads_logging_never_deadlock(
    name: str, redis_url: str, redis_client: Any
) -> None:
    _load(redis_client, 3000)
    call, expected = DEADLOCK_CALLS[name]
    result, records = _in_child(redis_url, call)
    assert result == expected
    assert _messages(records, logging.DEBUG)


def test_with_logging_off_the_workers_never_need_the_gil(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 3000)
    call = (
        "(logger.setLevel(logging.WARNING), "
        'pull_holding_the_gil(pr.iter_hashes(url, "user:*", SCHEMA, batch_size=100)))[1]'
    )
    assert _in_child(redis_url, call) == (3000, [])


def test_a_search_logs_its_pushdown_without_deadlock(stack_url: str, stack_client: Any) -> None:
    # Documents written after FT.CREATE are indexed as they are written.
    stack_client.execute_command(
        "FT.CREATE", "log_users", "ON", "HASH", "PREFIX", "1", "user:", "SCHEMA", "age", "NUMERIC"
    )
    try:
        _load(stack_client, 500)
        height, records = _in_child(
            stack_url,
            'pr.scan_hashes(url, "user:*", SCHEMA, index="log_users")'
            '.filter(pl.col("age") >= 450).collect().height',
        )
        assert height == 50
        plans = [m for m in _messages(records, logging.INFO) if m.startswith("search: ")]
        assert len(plans) == 1
        assert "index `log_users`" in plans[0] and "FT.AGGREGATE query: @age:[" in plans[0]
        assert "predicate: pushed, exact" in plans[0]
        found, records = _in_child(
            stack_url, 'pr.search_hashes(url, "log_users", "@age:[0 9]", SCHEMA).collect().height'
        )
        assert found == 10 and _messages(records, logging.DEBUG)
    finally:
        stack_client.execute_command("FT.DROPINDEX", "log_users")


def test_a_cluster_read_logs_its_topology_without_deadlock(
    cluster_url: str, cluster_client: Any
) -> None:
    _load(cluster_client, 1000)
    height, records = _in_child(
        cluster_url, 'pr.read_hashes(url, "user:*", SCHEMA, batch_size=100).height'
    )
    assert height == 1000
    topology = [m for m in _messages(records, logging.INFO) if m.startswith("cluster topology")]
    nodes = cluster_client.cluster_nodes()
    master_count = sum(1 for node in nodes.values() if "master" in node["flags"])
    assert len(topology) == 1 and f": {master_count} masters (" in topology[0]
    written, records = _in_child(
        cluster_url,
        'pr.write_hashes(pl.DataFrame({"_key": [f"cw:{i}" for i in range(500)], '
        '"age": list(range(500))}), url).written',
    )
    assert written == 500
    assert any(m.startswith("write to ") for m in _messages(records, logging.INFO))


def test_pushdown_decisions_are_logged(
    redis_url: str, redis_client: Any, captured: Captured
) -> None:
    _load(redis_client, 100)
    redis_client.zadd("scores", {f"m{i}": i for i in range(100)})
    pr.scan_hashes(redis_url, "user:*", SCHEMA).select("age").head(5).collect()
    scans = [m for m in captured.messages(logging.INFO) if m.startswith("hash scan")]
    assert scans == ["hash scan of pattern 'user:*'; columns: age; row limit: 5"]
    captured.clear()
    keyed = pr.scan_hashes(redis_url, "user:*", SCHEMA).filter(pl.col("_key") == "user:7")
    assert keyed.collect().height == 1
    assert (
        "hash scan of 1 listed keys (narrowed from pattern 'user:*' by the predicate); "
        "columns: all; row limit: none"
    ) in captured.messages(logging.INFO)
    captured.clear()
    top = pr.scan_zsets(redis_url, "scores").filter(pl.col("score") > 89.5).collect()
    assert top.height == 10
    assert "score range pushed down: ZRANGE key (89.5 +inf BYSCORE" in captured.messages(
        logging.INFO
    )


def test_writes_log_their_outcome(redis_url: str, captured: Captured) -> None:
    frame = pl.DataFrame({"_key": [f"w:{i}" for i in range(250)], "age": list(range(250))})
    pr.write_hashes(frame, redis_url)
    pr.write_hashes(frame.head(100), redis_url, if_exists="skip")
    summaries = [m for m in captured.messages(logging.INFO) if m.startswith("write to ")]
    port = redis_url.rsplit(":", 1)[1]
    assert summaries == [
        f"write to 127.0.0.1:{port}: 250 of 250 rows written (250 keys), 0 skipped, 0 failed, "
        "0 unknown",
        f"write to 127.0.0.1:{port}: 0 of 100 rows written (0 keys), 100 skipped, 0 failed, "
        "0 unknown",
    ]
    assert any(m.startswith("sending 250 keys to ") for m in captured.messages(logging.DEBUG))


def test_retries_are_logged_with_their_reason_and_backoff(
    redis_server: RedisServer, redis_client: Any, captured: Captured
) -> None:
    _load(redis_client, 5000, prefix="r")
    with Proxy(redis_server.port, cut_after=20_000, cut_connections=3) as proxy:
        df = pr.read_hashes(proxy.url, "r:*", SCHEMA, batch_size=200, count_hint=200)
    assert df.height == 5000
    retries = [m for m in captured.messages(logging.INFO) if m.startswith("retry ")]
    assert retries
    assert retries[0].startswith("retry 1 of 3 in 50 ms after: ")


def _no_secret(records: list[logging.LogRecord], *secrets: str) -> None:
    assert records
    for record in records:
        shown = "\n".join([record.getMessage(), repr(record.args), repr(record.__dict__)])
        for secret in secrets:
            assert secret not in shown, shown


@pytest.fixture(scope="module")
def protected_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(extra_args=["--requirepass", PASSWORD], name="logging-pw")
    try:
        yield server
    finally:
        server.stop()


def test_no_record_shows_a_password(protected_server: RedisServer, captured: Captured) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{protected_server.port}"
    frame = pl.DataFrame({"_key": [f"s:{i}" for i in range(300)], "age": list(range(300))})
    pr.write_hashes(frame, url)
    assert pr.read_hashes(url, "s:*", SCHEMA, batch_size=50).height == 300
    wrong = f"redis://:not-{PASSWORD}@127.0.0.1:{protected_server.port}"
    with pytest.raises(pr.AuthenticationError):
        pr.read_hashes(wrong, "s:*", SCHEMA)
    _no_secret(captured.records, PASSWORD)


def test_no_record_shows_an_acl_users_credentials(
    redis_server: RedisServer, redis_client: Any, captured: Captured
) -> None:
    _load(redis_client, 300)
    redis_client.acl_setuser(
        ACL_USER, enabled=True, passwords=[f"+{ACL_PASSWORD}"], keys=["*"], commands=["+@all"]
    )
    try:
        url = f"redis://{ACL_USER}:{ACL_PASSWORD}@127.0.0.1:{redis_server.port}"
        assert pr.read_hashes(url, "user:*", SCHEMA, batch_size=50).height == 300
        wrong = f"redis://{ACL_USER}:x{ACL_PASSWORD}@127.0.0.1:{redis_server.port}"
        with pytest.raises(pr.AuthenticationError):
            pr.read_hashes(wrong, "user:*", SCHEMA)
        _no_secret(captured.records, ACL_PASSWORD, ACL_USER)
    finally:
        redis_client.acl_deluser(ACL_USER)
