"""Connection settings against real servers: database index, unix socket,
ACL users, TLS."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest
import redis
from polars.testing import assert_frame_equal
from redis_servers import (
    RedisServer,
)
from tls_servers import TlsRedisServer, issue_certificate, make_ca, serve_tls

import polars_redis as pr
from polars_redis.exceptions import (
    AuthenticationError,
    InvalidInputError,
    RedisConnectionError,
    RedisServerError,
    RedisTimeoutError,
)

SCHEMA = {"n": pl.Int64, "s": pl.String}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI is set, so this is an error)", pytrace=False)
    pytest.skip(reason)


def seed(client: Any, prefix: str = "c", count: int = 5) -> pl.DataFrame:
    """Write `count` hashes with redis-py; return them as the expected frame."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"{prefix}:{i}", mapping={"n": str(i), "s": f"v{i}"})
    pipe.execute()
    return pl.DataFrame(
        {
            "_key": [f"{prefix}:{i}" for i in range(count)],
            "n": list(range(count)),
            "s": [f"v{i}" for i in range(count)],
        },
        schema={"_key": pl.String, "n": pl.Int64, "s": pl.String},
    ).sort("_key")


def rows(expected: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """The expected rows of these keys, in this order."""
    return pl.concat([expected.filter(pl.col("_key") == k) for k in keys])


def read(url: str, pattern: str = "*", **kwargs: Any) -> pl.DataFrame:
    return pr.read_hashes(url, pattern, SCHEMA, **kwargs).sort("_key")


# --------------------------------------------------------------------------
# database index
# --------------------------------------------------------------------------


def test_database_index(redis_server: RedisServer, redis_url: str) -> None:
    db3 = redis_server.client(db=3)
    try:
        expected = seed(db3)
    finally:
        db3.close()
    port = redis_server.port
    assert_frame_equal(read(f"redis://127.0.0.1:{port}/3"), expected)
    assert_frame_equal(read(f"redis://127.0.0.1:{port}?db=3"), expected)
    assert_frame_equal(read(f"redis://127.0.0.1:{port}/3", keys=None, pattern="c:*"), expected)
    assert_frame_equal(
        pr.read_hashes(f"redis://127.0.0.1:{port}/3", keys=["c:1"], schema=SCHEMA),
        rows(expected, "c:1"),
    )
    for other in (
        f"redis://127.0.0.1:{port}",
        f"redis://127.0.0.1:{port}/0",
        f"redis://127.0.0.1:{port}/4",
    ):
        assert read(other).height == 0
        assert pr.read_hashes(other, keys=["c:1"], schema=SCHEMA).height == 0


def test_database_index_out_of_range(redis_server: RedisServer, redis_url: str) -> None:
    # The default server has 16 databases: SELECT 99 is refused by the server.
    with pytest.raises(RedisServerError):
        read(f"redis://127.0.0.1:{redis_server.port}/99")


def test_localhost_name(redis_server: RedisServer, redis_client: Any) -> None:
    expected = seed(redis_client)
    assert_frame_equal(read(f"redis://localhost:{redis_server.port}"), expected)


# --------------------------------------------------------------------------
# unix socket
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unix_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(unix_socket=True, name="unix")
    try:
        yield server
    finally:
        server.stop()


def test_unix_socket(unix_server: RedisServer) -> None:
    client = unix_server.client()
    db2 = unix_server.client(db=2)
    try:
        client.flushall()
        expected = seed(client, "u")
        expected2 = seed(db2, "u2", 3)
    finally:
        client.close()
        db2.close()
    assert unix_server.unix_socket is not None
    url = f"unix://{unix_server.unix_socket}"
    assert_frame_equal(read(url), expected)
    assert_frame_equal(read(f"{url}?db=2"), expected2)
    assert_frame_equal(
        pr.read_hashes(url, keys=["u:4", "u:0"], schema=SCHEMA), rows(expected, "u:4", "u:0")
    )
    assert_frame_equal(read(f"redis+unix://{unix_server.unix_socket}"), expected)


def test_unix_socket_with_acl_user(unix_server: RedisServer) -> None:
    client = unix_server.client()
    try:
        client.flushall()
        expected = seed(client, "u")
        client.execute_command("ACL", "SETUSER", "sockuser", "on", ">sock-Pa55", "~*", "+@all")
        url = f"unix://{unix_server.unix_socket}?username=sockuser&password=sock-Pa55"
        assert_frame_equal(read(url), expected)
        with pytest.raises(AuthenticationError) as info:
            read(f"unix://{unix_server.unix_socket}?username=sockuser&password=wrong-Pa55")
        assert "wrong-Pa55" not in str(info.value) and "sock-Pa55" not in str(info.value)
    finally:
        client.execute_command("ACL", "DELUSER", "sockuser")
        client.close()


# --------------------------------------------------------------------------
# ACL users
# --------------------------------------------------------------------------


@pytest.fixture
def acl_users(redis_server: RedisServer, redis_url: str) -> Iterator[Any]:
    admin = redis_server.client()
    names: list[str] = []

    def add(name: str, *rules: str) -> None:
        admin.execute_command("ACL", "SETUSER", name, "reset", *rules)
        names.append(name)

    try:
        yield add
    finally:
        for name in names:
            admin.execute_command("ACL", "DELUSER", name)
        admin.close()


def test_acl_user_and_password(
    redis_server: RedisServer, redis_client: Any, acl_users: Any
) -> None:
    expected = seed(redis_client, "app")
    acl_users("alice", "on", ">alice-Pa55", "~app:*", "+@read")
    url = f"redis://alice:alice-Pa55@127.0.0.1:{redis_server.port}"
    assert_frame_equal(read(url, "app:*"), expected)
    assert_frame_equal(read(url, "app:*", include_ttl=True).drop("_ttl"), expected)
    listed = pr.read_hashes(url, keys=["app:2", "app:9", "app:0"], schema=SCHEMA)
    assert_frame_equal(listed, rows(expected, "app:2", "app:0"))


@pytest.mark.parametrize("fetch", ["hmget", "auto"])
def test_read_only_acl_user_on_the_hmget_path(
    redis_server: RedisServer, redis_client: Any, acl_users: Any, fetch: str
) -> None:
    """A `+@read` user can read hashes; that must not depend on whether a
    listed key happens to be missing (HMGET's phantom-row check)."""
    expected = seed(redis_client, "app")
    acl_users("ro", "on", ">ro-Pa55", "~app:*", "+@read")
    url = f"redis://ro:ro-Pa55@127.0.0.1:{redis_server.port}"
    lf = pr.scan_hashes(
        url,
        keys=["app:2", "app:9", "app:0"],
        schema={**SCHEMA, "x": pl.Int64, "y": pl.Int64},
        fetch=fetch,
    )  # type: ignore[arg-type]
    assert_frame_equal(
        lf.select("_key", "n").collect(), rows(expected, "app:2", "app:0").select("_key", "n")
    )


def test_acl_special_characters_are_percent_decoded(
    redis_server: RedisServer, redis_client: Any, acl_users: Any
) -> None:
    expected = seed(redis_client)
    user, password = "b@b:x", "p@ss:w/rd?#%&= ü"
    acl_users(user, "on", f">{password}", "~*", "+@all")
    url = f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{redis_server.port}"
    assert_frame_equal(read(url), expected)


def test_acl_wrong_password_and_disabled_user(redis_server: RedisServer, acl_users: Any) -> None:
    acl_users("bob", "on", ">bob-Pa55", "~*", "+@all")
    acl_users("carol", "off", ">carol-Pa55", "~*", "+@all")
    port = redis_server.port
    for url, secrets in [
        (f"redis://bob:wrong-Pa55@127.0.0.1:{port}", ["wrong-Pa55", "bob-Pa55"]),
        (f"redis://carol:carol-Pa55@127.0.0.1:{port}", ["carol-Pa55"]),
        (f"redis://nobody:bob-Pa55@127.0.0.1:{port}/1", ["bob-Pa55"]),
    ]:
        with pytest.raises(AuthenticationError) as info:
            read(url)
        for secret in secrets:
            assert secret not in str(info.value) and secret not in repr(info.value)


def test_acl_denied_key_is_a_server_error(
    redis_server: RedisServer, redis_client: Any, acl_users: Any
) -> None:
    seed(redis_client, "other")
    acl_users("dave", "on", ">dave-Pa55", "~app:*", "+@read")
    url = f"redis://dave:dave-Pa55@127.0.0.1:{redis_server.port}"
    # SCAN is not key-restricted, so it lists other:*; reading them is refused.
    with pytest.raises(RedisServerError) as info:
        read(url, "other:*")
    assert "dave-Pa55" not in str(info.value)
    with pytest.raises(RedisServerError):
        pr.read_hashes(url, keys=["other:1"], schema=SCHEMA)


def test_acl_denied_command_is_a_server_error(
    redis_server: RedisServer, redis_client: Any, acl_users: Any
) -> None:
    seed(redis_client, "app")
    acl_users("erin", "on", ">erin-Pa55", "~*", "+@all", "-scan")
    url = f"redis://erin:erin-Pa55@127.0.0.1:{redis_server.port}"
    with pytest.raises(RedisServerError) as info:
        read(url, "app:*")
    assert "scan" in str(info.value).lower()
    # Explicit keys do not need SCAN.
    assert pr.read_hashes(url, keys=["app:0"], schema=SCHEMA).height == 1


# --------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("openssl") is None:
        _unavailable("the openssl CLI is not installed")
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = make_ca(d, "ca")
    _, other_ca = make_ca(d, "other-ca")
    issue_certificate(
        d, "server", (ca_key, ca_cert), usage="serverAuth", alt_names="IP:127.0.0.1,DNS:localhost"
    )
    return {
        "ca": ca_cert,
        "other_ca": other_ca,
        "cert": d / "server.crt",
        "key": d / "server.key",
    }


@pytest.fixture(scope="module")
def tls_server(certificates: dict[str, Path]) -> Iterator[TlsRedisServer]:
    yield from serve_tls((certificates["cert"], certificates["key"]), certificates["ca"])


@pytest.fixture
def tls_client(tls_server: TlsRedisServer, certificates: dict[str, Path]) -> Iterator[Any]:
    client = redis.Redis(
        host="127.0.0.1", port=tls_server.tls_port, ssl=True, ssl_ca_certs=str(certificates["ca"])
    )
    try:
        client.flushall()
        yield client
    finally:
        client.close()


def test_tls_read(
    tls_server: TlsRedisServer, tls_client: Any, certificates: dict[str, Path]
) -> None:
    expected = seed(tls_client, "tls", 50)
    ca = certificates["ca"]
    port = tls_server.tls_port
    for url in (
        f"rediss://127.0.0.1:{port}?ca_file={ca}",
        f"rediss://localhost:{port}?ca_file={ca}",
        f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}",
    ):
        assert_frame_equal(read(url, batch_size=7), expected)
    listed = pr.read_hashes(
        f"rediss://127.0.0.1:{port}?ca_file={ca}", keys=["tls:3", "tls:1"], schema=SCHEMA
    )
    assert_frame_equal(listed, rows(expected, "tls:3", "tls:1"))


def test_tls_with_acl_user(
    tls_server: TlsRedisServer, tls_client: Any, certificates: dict[str, Path]
) -> None:
    expected = seed(tls_client, "tls")
    tls_client.execute_command("ACL", "SETUSER", "tlsuser", "on", ">tls-Pa55", "~*", "+@all")
    try:
        base = f"127.0.0.1:{tls_server.tls_port}?ca_file={certificates['ca']}"
        assert_frame_equal(read(f"rediss://tlsuser:tls-Pa55@{base}"), expected)
        with pytest.raises(AuthenticationError) as info:
            read(f"rediss://tlsuser:wrong-Pa55@{base}")
        assert "wrong-Pa55" not in str(info.value) and "tls-Pa55" not in str(info.value)
    finally:
        tls_client.execute_command("ACL", "DELUSER", "tlsuser")


def test_tls_untrusted_certificate(
    tls_server: TlsRedisServer, tls_client: Any, certificates: dict[str, Path]
) -> None:
    seed(tls_client)
    port = tls_server.tls_port
    for url in (
        f"rediss://127.0.0.1:{port}?ca_file={certificates['other_ca']}",  # wrong CA
        f"rediss://127.0.0.1:{port}",  # public roots only
    ):
        start = time.monotonic()
        with pytest.raises(RedisConnectionError) as info:
            read(url, connect_timeout=5)
        assert time.monotonic() - start < 3
        assert not isinstance(info.value, AuthenticationError)


def test_tls_certificate_name_mismatch(
    tls_server: TlsRedisServer, tls_client: Any, certificates: dict[str, Path]
) -> None:
    # The certificate names 127.0.0.1 and localhost only: another host name
    # that resolves to 127.0.0.1 must fail the name check.
    seed(tls_client)
    names = [
        n
        for n in ("runsc", "vm", socket.gethostname())
        if _resolves_to_loopback(n) and n != "localhost"
    ]
    if not names:
        pytest.skip("no other host name resolves to 127.0.0.1 here")
    with pytest.raises(RedisConnectionError):
        read(
            f"rediss://{names[0]}:{tls_server.tls_port}?ca_file={certificates['ca']}",
            connect_timeout=5,
        )


def _resolves_to_loopback(name: str) -> bool:
    try:
        return socket.gethostbyname(name) == "127.0.0.1"
    except OSError:
        return False


def test_tls_missing_ca_file(tls_server: TlsRedisServer, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        read(f"rediss://127.0.0.1:{tls_server.tls_port}?ca_file={tmp_path / 'nope.pem'}")


def test_plain_client_on_tls_port(tls_server: TlsRedisServer, tls_client: Any) -> None:
    seed(tls_client)
    start = time.monotonic()
    with pytest.raises((RedisConnectionError, RedisTimeoutError)) as info:
        read(f"redis://127.0.0.1:{tls_server.tls_port}", connect_timeout=3, command_timeout=3)
    assert time.monotonic() - start < 5
    assert isinstance(info.value, RedisConnectionError), repr(info.value)


def test_tls_client_on_plain_port(
    redis_server: RedisServer, redis_client: Any, certificates: dict[str, Path]
) -> None:
    # A plain server waits for the end of an inline command that never comes,
    # so the handshake can only end by the connect timeout (or a reset).
    seed(redis_client)
    start = time.monotonic()
    with pytest.raises((RedisConnectionError, RedisTimeoutError)):
        read(
            f"rediss://127.0.0.1:{redis_server.port}?ca_file={certificates['ca']}",
            connect_timeout=1,
        )
    assert time.monotonic() - start < 3
