"""Failure modes: every error is the documented exception, arrives in time,
and never shows a password."""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer, find_free_port, resp_command

import polars_redis as pr
from polars_redis.exceptions import (
    AuthenticationError,
    InvalidInputError,
    ParseError,
    PolarsRedisError,
    ProtocolError,
    RedisConnectionError,
    RedisServerError,
    RedisTimeoutError,
    WrongTypeError,
)

PASSWORD = "s3cret-Pa55word"
SCHEMA = {"a": pl.Int64}


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    texts = [str(exc), repr(exc), *(str(a) for a in exc.args)]
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"{secret!r} leaked in {text!r}"


# --------------------------------------------------------------------------
# the exception hierarchy
# --------------------------------------------------------------------------


def test_exception_hierarchy() -> None:
    for exc in (
        InvalidInputError,
        RedisConnectionError,
        RedisTimeoutError,
        RedisServerError,
        WrongTypeError,
        ParseError,
        ProtocolError,
        pr.SchemaInferenceError,
        pr.UnsupportedError,
    ):
        assert issubclass(exc, PolarsRedisError)
        assert getattr(pr, exc.__name__) is exc
    assert issubclass(AuthenticationError, RedisConnectionError)
    assert issubclass(PolarsRedisError, Exception)
    assert not issubclass(RedisTimeoutError, RedisConnectionError)


# --------------------------------------------------------------------------
# unreachable servers
# --------------------------------------------------------------------------


def test_closed_port_fails_fast_with_connection_error() -> None:
    port = find_free_port()  # nothing listens there
    url = f"redis://127.0.0.1:{port}"
    for kwargs in ({"pattern": "*"}, {"keys": ["a", "b"]}):
        start = time.monotonic()
        with pytest.raises(RedisConnectionError) as info:
            pr.read_hashes(url, schema=SCHEMA, connect_timeout=2, **kwargs)  # type: ignore[arg-type]
        assert time.monotonic() - start < 1.5
        assert not isinstance(info.value, AuthenticationError)
        assert f"127.0.0.1:{port}" in str(info.value)


def test_closed_port_with_password_does_not_leak_it() -> None:
    port = find_free_port()
    with pytest.raises(RedisConnectionError) as info:
        pr.read_hashes(
            f"redis://user:{PASSWORD}@127.0.0.1:{port}/2", "*", SCHEMA, connect_timeout=2
        )
    assert_no_secret(info.value, PASSWORD)


def test_iter_hashes_raises_connection_error() -> None:
    port = find_free_port()
    it = pr.iter_hashes(f"redis://127.0.0.1:{port}", "*", SCHEMA, connect_timeout=2)
    with pytest.raises(RedisConnectionError):
        next(it)


def test_missing_unix_socket_is_a_connection_error(tmp_path: Any) -> None:
    with pytest.raises(RedisConnectionError):
        pr.read_hashes(f"unix://{tmp_path}/no.sock?password={PASSWORD}", "*", SCHEMA)


@contextlib.contextmanager
def garbage_peer(reply: bytes) -> Iterator[int]:
    """A TCP peer that is not Redis: answers anything with `reply`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        conns = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conns.append(conn)
            with contextlib.suppress(OSError):
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(reply)
        for conn in conns:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_non_redis_peer_is_a_protocol_error() -> None:
    with garbage_peer(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
        start = time.monotonic()
        with pytest.raises(ProtocolError):
            pr.read_hashes(f"redis://127.0.0.1:{port}", "*", SCHEMA, command_timeout=3)
        assert time.monotonic() - start < 3


# --------------------------------------------------------------------------
# authentication
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def protected_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(extra_args=["--requirepass", PASSWORD], name="protected")
    try:
        client = server.client()
        client.hset("p:1", mapping={"a": "1"})
        client.close()
        yield server
    finally:
        server.stop()


def test_correct_password_reads(protected_server: RedisServer) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{protected_server.port}"
    df = pr.read_hashes(url, "p:*", SCHEMA)
    assert df.to_dicts() == [{"_key": "p:1", "a": 1}]
    url = f"redis://default:{PASSWORD}@127.0.0.1:{protected_server.port}"
    assert pr.read_hashes(url, keys=["p:1"], schema=SCHEMA).to_dicts() == [{"_key": "p:1", "a": 1}]


@pytest.mark.parametrize("selection", [{"pattern": "p:*"}, {"keys": ["p:1"]}])
def test_wrong_password(protected_server: RedisServer, selection: dict[str, Any]) -> None:
    wrong = "not-the-Pa55word"
    for url in (
        f"redis://:{wrong}@127.0.0.1:{protected_server.port}",
        f"redis://default:{wrong}@127.0.0.1:{protected_server.port}/0",
        f"redis://nosuchuser:{PASSWORD}@127.0.0.1:{protected_server.port}",
    ):
        with pytest.raises(AuthenticationError) as info:
            pr.read_hashes(url, schema=SCHEMA, **selection)
        assert isinstance(info.value, RedisConnectionError)
        assert_no_secret(info.value, wrong, PASSWORD)


@pytest.mark.parametrize("selection", [{"pattern": "p:*"}, {"keys": ["p:1"]}])
def test_missing_password(protected_server: RedisServer, selection: dict[str, Any]) -> None:
    with pytest.raises(AuthenticationError) as info:
        pr.read_hashes(protected_server.url, schema=SCHEMA, **selection)
    assert_no_secret(info.value, PASSWORD)


def test_lazy_frame_and_plan_do_not_show_the_password(protected_server: RedisServer) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{protected_server.port}"
    lf = pr.scan_hashes(url, "p:*", SCHEMA)
    assert PASSWORD not in repr(lf)
    assert PASSWORD not in lf.explain()


# --------------------------------------------------------------------------
# malformed URLs and arguments
# --------------------------------------------------------------------------

BAD_URLS = [
    ("http://:hunter2@127.0.0.1:6380", "hunter2"),
    ("redis:/127.0.0.1:6380", None),
    ("127.0.0.1:6380", None),
    ("", None),
    ("redis://:hunter2@127.0.0.1:99999", "hunter2"),
    ("redis://:hunter2@127.0.0.1:port", "hunter2"),
    ("redis://:hunter2@127.0.0.1:-1", "hunter2"),
    ("redis://user:hunter2@127.0.0.1:6380?bogus=1", "hunter2"),
    ("redis://user:hunter2@127.0.0.1:6380/notadb", "hunter2"),
    ("redis://user:hunter2@127.0.0.1:6380/-1", "hunter2"),
    ("redis://:hunter2@", "hunter2"),
    ("redis://:hunter2@:6380", "hunter2"),
    ("redis://:hunter2@127.0.0.1:6380?ca_file=/tmp/ca.pem", "hunter2"),  # ca_file needs rediss://
    ("unix://?password=hunter2", "hunter2"),
    ("unix:///tmp/redis.sock?password=hunter2&bogus=1", "hunter2"),
    ("unix:///tmp/redis.sock?db=x&password=hunter2", "hunter2"),
    ("rediss://:hunter2@[::1:6380", "hunter2"),
    # Passwords with characters that should have been percent-encoded: `/`
    # and `@` are accepted (userinfo ends at the last `@`), `?` is not; a
    # malformed URL's message must still not show the password.
    ("redis://:hunt/er2@127.0.0.1:99999", "hunt/er2"),
    ("redis://:hunt?er2@127.0.0.1:6380", "hunt?er2"),
    ("redis://alice:pass/word@127.0.0.1:6380/x", "pass/word"),
]


@pytest.mark.parametrize(("url", "secret"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
def test_bad_url(url: str, secret: str | None) -> None:
    # Raised when the LazyFrame is made, before any connection attempt.
    with pytest.raises(InvalidInputError) as info:
        pr.scan_hashes(url, "*", SCHEMA)
    if secret is not None:
        assert_no_secret(info.value, secret)


@pytest.mark.parametrize(
    ("dtype", "shown"),
    [
        # List, Array and Struct are read from JSON text (issue 11, item 10).
        (pl.List(pl.Object), "Object"),
        (pl.Array(pl.Int64, 0), "Array"),
        (pl.Object, "Object"),
        (pl.Null, "Null"),
        (pl.Int128, "Int128"),
        (pl.UInt128, "UInt128"),
        (pl.Float16, "Float16"),
        ("Int64", None),
        (int, None),
        (None, None),
    ],
    ids=str,
)
def test_unsupported_dtype_names_the_field(redis_url: str, dtype: Any, shown: str | None) -> None:
    with pytest.raises(InvalidInputError) as info:
        pr.scan_hashes(redis_url, "*", {"fine": pl.Int64, "bad_field": dtype})
    assert "bad_field" in str(info.value)
    if shown is not None:
        assert shown in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": -1},
        {"parallelism": 0},
        {"count_hint": 0},
        {"fetch": "hscan"},
        {"connect_timeout": 0},
        {"connect_timeout": -1},
        {"connect_timeout": math.nan},
        {"command_timeout": 0},
        {"command_timeout": -5.0},
        {"deadline": 0},
        {"deadline": -1},
        {"keys": ["a"]},  # together with the pattern below
        {"schema": None, "pattern": None, "keys": ["a"]},  # inference needs a pattern
        {"schema": [("a", pl.Int64)]},
    ],
    ids=lambda kw: ",".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_invalid_arguments(redis_url: str, kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"pattern": "*", "schema": SCHEMA, **kwargs}
    with pytest.raises(InvalidInputError):
        pr.scan_hashes(redis_url, **args)
    with pytest.raises(InvalidInputError):
        next(pr.iter_hashes(redis_url, **args))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keys": [1, 2]},
        {"pattern": 5},
    ],
    ids=str,
)
def test_invalid_key_arguments(redis_url: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        pr.scan_hashes(redis_url, schema=SCHEMA, **kwargs)


@pytest.mark.parametrize(
    ("schema", "kwargs", "name"),
    [
        ({"_key": pl.String}, {}, "_key"),
        ({"_ttl": pl.Int64}, {"include_ttl": True}, "_ttl"),
        ({"_index": pl.Int64}, {"include_row_index": True}, "_index"),
        ({"a": pl.Int64}, {"key_column_name": "a"}, "a"),
        ({"a": pl.Int64}, {"include_ttl": True, "ttl_column_name": "_key"}, "_key"),
        ({"a": pl.Int64}, {"include_row_index": True, "row_index_column_name": "_key"}, "_key"),
        (
            {"a": pl.Int64},
            {
                "include_ttl": True,
                "include_row_index": True,
                "ttl_column_name": "i",
                "row_index_column_name": "i",
            },
            "i",
        ),
    ],
)
def test_duplicate_column_names(
    redis_url: str, schema: dict[str, Any], kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        pr.scan_hashes(redis_url, "*", schema, **kwargs)
    assert name in str(info.value)


def test_same_name_is_fine_when_the_extra_column_is_off(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("d:1", mapping={"_ttl": "5", "_index": "7"})
    df = pr.read_hashes(redis_url, "d:*", {"_ttl": pl.Int64, "_index": pl.Int64})
    assert df.to_dicts() == [{"_key": "d:1", "_ttl": 5, "_index": 7}]


# --------------------------------------------------------------------------
# data errors
# --------------------------------------------------------------------------


def test_strict_parse_error_names_key_field_value(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("user:7", mapping={"age": "forty", "name": "Ann"})
    redis_client.hset("user:8", mapping={"age": "41", "name": "Bob"})
    with pytest.raises(ParseError) as info:
        pr.read_hashes(redis_url, "user:*", {"name": pl.String, "age": pl.Int64})
    message = str(info.value)
    assert "user:7" in message and "age" in message and "forty" in message
    assert "user:8" not in message

    it = pr.iter_hashes(redis_url, "user:*", {"age": pl.Int64}, batch_size=1)
    with pytest.raises(ParseError):
        list(it)

    lenient = pr.read_hashes(redis_url, "user:*", {"age": pl.Int64}, strict=False).sort("_key")
    assert lenient.to_dicts() == [{"_key": "user:7", "age": None}, {"_key": "user:8", "age": 41}]


def test_parse_error_escapes_and_truncates_the_value(redis_url: str, redis_client: Any) -> None:
    redis_client.hset(b"bin:\x01\xff", mapping={"n": b"\x00\xfe" + b"9" * 50_000})
    with pytest.raises(ParseError) as info:
        pr.read_hashes(redis_url, "bin:*", {"n": pl.Int64}, include_key=False)
    message = str(info.value)
    assert "\\xfe" in message and "\\xff" in message
    assert len(message) < 2000


def test_parse_error_in_a_later_batch_stops_the_scan(redis_url: str, redis_client: Any) -> None:
    pipe = redis_client.pipeline(transaction=False)
    for i in range(200):
        pipe.hset(f"n:{i:03d}", "v", str(i))
    pipe.hset("n:150", "v", "oops")
    pipe.execute()
    with pytest.raises(ParseError) as info:
        pr.read_hashes(redis_url, "n:*", {"v": pl.Int64}, batch_size=10)
    assert "n:150" in str(info.value) and "oops" in str(info.value)


@pytest.mark.parametrize("kind", ["string", "list", "set", "zset", "stream"])
@pytest.mark.parametrize("columns", [None, ["_key"], ["_key", "a"]], ids=str)
def test_wrong_type_key_in_explicit_keys(
    redis_url: str, redis_client: Any, kind: str, columns: list[str] | None
) -> None:
    redis_client.hset("h:1", "a", "1")
    {
        "string": lambda: redis_client.set("x:1", "v"),
        "list": lambda: redis_client.rpush("x:1", "v"),
        "set": lambda: redis_client.sadd("x:1", "v"),
        "zset": lambda: redis_client.zadd("x:1", {"v": 1}),
        "stream": lambda: redis_client.xadd("x:1", {"v": "1"}),
    }[kind]()
    lf = pr.scan_hashes(
        redis_url, keys=["h:1", "x:1"], schema={"a": pl.Int64, "b": pl.Int64, "c": pl.Int64}
    )
    if columns is not None:
        lf = lf.select(columns)
    with pytest.raises(WrongTypeError) as info:
        lf.collect()
    assert "x:1" in str(info.value) and kind in str(info.value)


# --------------------------------------------------------------------------
# timeouts against a sleeping server
# --------------------------------------------------------------------------

SLEEP = 1.5


@pytest.fixture(scope="module")
def debug_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(extra_args=["--enable-debug-command", "yes"], name="debug")
    try:
        client = server.client()
        for i in range(20):
            client.hset(f"s:{i}", "a", str(i))
        client.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def protected_debug_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(
        extra_args=["--enable-debug-command", "yes", "--requirepass", PASSWORD], name="pw-debug"
    )
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def asleep(server: RedisServer, seconds: float = SLEEP) -> Iterator[None]:
    """Block the whole server with DEBUG SLEEP (run from another thread)."""
    client = server.client(socket_timeout=seconds + 10)
    errors: list[BaseException] = []

    def sleep() -> None:
        try:
            client.execute_command("DEBUG", "SLEEP", seconds)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=sleep)
    thread.start()
    # Wait until the server really stopped answering (the harness's own
    # RESP client: redis-py would retry the timed-out PING).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            resp_command(server.host, server.port, "PING", password=server.password, timeout=0.05)
        except OSError:
            break
        time.sleep(0.01)
    else:  # pragma: no cover
        raise AssertionError("server never went to sleep")
    try:
        yield
    finally:
        thread.join(seconds + 10)
        client.close()
        assert not errors, errors


@pytest.mark.parametrize("selection", [{"pattern": "s:*"}, {"keys": ["s:1", "s:2"]}])
def test_command_timeout(debug_server: RedisServer, selection: dict[str, Any]) -> None:
    with asleep(debug_server):
        start = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            pr.read_hashes(debug_server.url, schema=SCHEMA, command_timeout=0.5, **selection)
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 2.0, elapsed


def test_deadline(debug_server: RedisServer) -> None:
    with asleep(debug_server):
        start = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            pr.read_hashes(debug_server.url, "s:*", SCHEMA, deadline=0.6)
        elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 2.0, elapsed


def test_deadline_in_iter_hashes(debug_server: RedisServer) -> None:
    with asleep(debug_server):
        start = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            list(pr.iter_hashes(debug_server.url, keys=["s:1"], schema=SCHEMA, deadline=0.5))
        assert time.monotonic() - start < 2.0


def test_connect_timeout_covers_authentication(protected_debug_server: RedisServer) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{protected_debug_server.port}"
    with asleep(protected_debug_server):
        start = time.monotonic()
        with pytest.raises(RedisTimeoutError) as info:
            pr.read_hashes(url, "*", SCHEMA, connect_timeout=0.5)
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 2.0, elapsed
    assert_no_secret(info.value, PASSWORD)


def test_generous_limits_do_not_fire(debug_server: RedisServer) -> None:
    df = pr.read_hashes(
        debug_server.url,
        "s:*",
        SCHEMA,
        command_timeout=30,
        connect_timeout=30,
        deadline=60,
        batch_size=3,
    )
    assert sorted(df["a"].to_list()) == list(range(20))
