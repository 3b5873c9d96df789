"""Connection mistakes give errors that say what to do: a missing, wrong or
unneeded password, and a URL whose scheme does not match the server's TLS
setting (``rediss://`` to a plain server, ``redis://`` to a TLS-only one)
fails well within the connect timeout, naming the scheme to use."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from test_connection import TlsRedisServer, certificates, tls_server  # noqa: F401

import polars_redis as pr

PASSWORD = "conn-err-Pa55"
SCHEMA = {"a": pl.String}

CALLS: dict[str, Callable[[str], Any]] = {
    "read": lambda url: pr.read_hashes(url, "*", SCHEMA, connect_timeout=5),
    "keys": lambda url: pr.read_hashes(url, keys=["k"], schema=SCHEMA, connect_timeout=5),
    "write": lambda url: pr.write_hashes(
        pl.DataFrame({"_key": ["k"], "a": ["x"]}), url, connect_timeout=5
    ),
    "infer": lambda url: pr.infer_hash_schema(url, "*"),
}


@pytest.fixture(scope="module")
def protected_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(extra_args=["--requirepass", PASSWORD], name="conn-errors")
    try:
        client = server.client()
        client.execute_command("ACL", "SETUSER", "alice", "on", ">alice-Pa55", "~*", "+@all")
        client.close()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("call", list(CALLS))
def test_missing_password_says_how_to_pass_one(protected_server: RedisServer, call: str) -> None:
    with pytest.raises(pr.AuthenticationError) as info:
        CALLS[call](f"redis://127.0.0.1:{protected_server.port}")
    message = str(info.value)
    assert "requires a password" in message and "redis://:PASSWORD@" in message, message
    assert "USER:PASSWORD" in message


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(
    ("userinfo", "user"),
    [(":wrong-Pa55", "default"), ("alice:wrong-Pa55", "alice"), ("nobody:alice-Pa55", "nobody")],
)
def test_wrong_credentials_name_the_user_not_the_password(
    protected_server: RedisServer, call: str, userinfo: str, user: str
) -> None:
    with pytest.raises(pr.AuthenticationError) as info:
        CALLS[call](f"redis://{userinfo}@127.0.0.1:{protected_server.port}")
    message = str(info.value)
    assert f"user `{user}`" in message and "check the credentials" in message, message
    for secret in ("wrong-Pa55", "alice-Pa55", PASSWORD):
        assert secret not in message and secret not in repr(info.value)


def test_password_for_a_server_without_one(redis_server: RedisServer) -> None:
    with pytest.raises(pr.AuthenticationError) as info:
        CALLS["read"](f"redis://:unneeded-Pa55@127.0.0.1:{redis_server.port}")
    assert "has none on the server" in str(info.value)
    assert "unneeded-Pa55" not in str(info.value)


@pytest.mark.parametrize("call", list(CALLS))
def test_rediss_against_a_plain_server_fails_fast(redis_server: RedisServer, call: str) -> None:
    started = time.monotonic()
    with pytest.raises(pr.RedisConnectionError) as info:
        CALLS[call](f"rediss://127.0.0.1:{redis_server.port}")
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert "TLS handshake did not happen" in message and "redis://" in message, message


@pytest.mark.parametrize("call", list(CALLS))
def test_redis_against_a_tls_only_server_fails_fast(
    tls_server: TlsRedisServer,  # noqa: F811
    call: str,
) -> None:
    started = time.monotonic()
    with pytest.raises(pr.RedisConnectionError) as info:
        CALLS[call](f"redis://127.0.0.1:{tls_server.tls_port}")
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert "TLS handshake" in message and "rediss://" in message, message


def test_tls_with_an_untrusted_certificate_gets_no_scheme_hint(
    tls_server: TlsRedisServer,  # noqa: F811
    certificates: dict[str, Path],  # noqa: F811
) -> None:
    url = f"rediss://127.0.0.1:{tls_server.tls_port}?ca_file={certificates['other_ca']}"
    with pytest.raises(pr.RedisConnectionError) as info:
        CALLS["read"](url)
    assert "TLS handshake failed" in str(info.value)
    assert "is TLS enabled" not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a TLS
    server waiting for a full record, or a plain one waiting for a newline)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize(
    ("scheme", "hint"),
    [("redis", "use a rediss:// URL"), ("rediss", "is TLS enabled on the server")],
)
def test_a_silent_server_times_out_at_the_connect_timeout_with_a_hint(
    silent_server: int, scheme: str, hint: str
) -> None:
    started = time.monotonic()
    with pytest.raises(pr.RedisTimeoutError) as info:
        pr.read_hashes(f"{scheme}://127.0.0.1:{silent_server}", "*", SCHEMA, connect_timeout=1)
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 4, elapsed
    assert hint in str(info.value), str(info.value)
