"""Checks that the Redis test servers (tests/redis_servers.py) really work."""

from __future__ import annotations

import os
from typing import Any

import conftest
import pytest
import redis
from redis_servers import (
    CLUSTER_SLOTS,
    HarnessUnavailable,
    RedisCluster,
    RedisServer,
    RedisServerError,
    resp_command,
)


def test_plain_round_trip(redis_client: Any, redis_url: str, redis_server: RedisServer) -> None:
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}"
    assert redis_server.port != 6379
    assert redis_client.dbsize() == 0
    redis_client.set(b"k\x00\xff", b"v\x00\xfe")
    assert redis_client.get(b"k\x00\xff") == b"v\x00\xfe"
    assert redis.Redis.from_url(redis_url).get(b"k\x00\xff") == b"v\x00\xfe"


def test_builtin_resp_client(redis_url: str, redis_server: RedisServer) -> None:
    assert redis_server.execute("PING") == "PONG"
    assert redis_server.execute("RPUSH", "l", b"a", 1, 2.5) == 3
    assert redis_server.execute("LRANGE", "l", 0, -1) == [b"a", b"1", b"2.5"]
    assert redis_server.execute("GET", "missing") is None
    with pytest.raises(RedisServerError, match="WRONGTYPE"):
        redis_server.execute("GET", "l")


def test_url_fixture_flushes(redis_client: Any) -> None:
    # Runs after test_builtin_resp_client, which left a key behind.
    assert redis_client.dbsize() == 0


def test_stack_modules(stack_server: RedisServer, stack_client: Any) -> None:
    names = stack_server.module_names()
    for module in ("search", "ReJSON", "timeseries"):
        assert module in names, names
    stack_client.execute_command("JSON.SET", "doc:1", "$", '{"a": 1, "b": [1, 2]}')
    assert stack_client.execute_command("JSON.GET", "doc:1", "$.a") == b"[1]"
    stack_client.execute_command("TS.ADD", "ts:1", 1000, 1.5)
    assert stack_server.execute("TS.GET", "ts:1") == [1000, "1.5"]
    stack_client.execute_command(
        "FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "h:", "SCHEMA", "n", "NUMERIC"
    )
    stack_client.hset("h:1", mapping={"n": 5})
    assert stack_server.execute("FT.SEARCH", "idx", "@n:[1 10]", "NOCONTENT") == [
        1,
        b"h:1",
    ]


def test_stack_url_flushes_indexes(stack_client: Any) -> None:
    # FLUSHALL also drops RediSearch indexes, so each test starts clean.
    assert stack_client.dbsize() == 0
    assert stack_client.execute_command("FT._LIST") == []


def test_cluster(redis_cluster: RedisCluster, cluster_client: Any) -> None:
    assert len(redis_cluster.urls) == 3
    assert all(u.startswith("redis://127.0.0.1:") for u in redis_cluster.urls)
    slots = redis_cluster.nodes[0].execute("CLUSTER", "SLOTS")
    covered = sum(int(end) - int(start) + 1 for start, end, *_ in slots)
    assert covered == CLUSTER_SLOTS
    assert len(slots) == 3

    keys = [f"key:{i}".encode() for i in range(50)]
    for key in keys:
        cluster_client.set(key, key + b"!")
    for key in keys:
        assert cluster_client.get(key) == key + b"!"
    # The keys really are spread over the masters.
    per_node = [node.execute("DBSIZE") for node in redis_cluster.nodes]
    assert sum(per_node) == len(keys)
    assert all(n > 0 for n in per_node), per_node


def test_password_and_unix_socket() -> None:
    with RedisServer.plain(extra_args=["--requirepass", "s3 cret"], unix_socket=True) as server:
        assert server.unix_socket is not None and os.path.exists(server.unix_socket)
        assert server.client().ping() is True
        via_socket = redis.Redis(unix_socket_path=server.unix_socket, password="s3 cret")
        assert via_socket.ping() is True
        unauthenticated = resp_command("127.0.0.1", server.port, "PING")
        assert isinstance(unauthenticated, RedisServerError)
        assert "NOAUTH" in str(unauthenticated)
        directory = server.dir
        assert directory is not None and directory.exists()
    assert not server.running
    assert not directory.exists()


def test_startup_error_includes_log_tail() -> None:
    with pytest.raises(RedisServerError, match=r"(?s)exited.*log tail.*maxmemory-policy"):
        RedisServer.plain(extra_args=["--maxmemory-policy", "no-such-policy"])


def test_missing_binary_is_unavailable(tmp_path: Any) -> None:
    with pytest.raises(HarnessUnavailable):
        RedisServer(server_bin=str(tmp_path / "no-redis-server"))


@pytest.mark.parametrize("ci", ["", "true"])
def test_unavailable_skips_or_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="nothing here"):
        conftest._unavailable("test server", HarnessUnavailable("nothing here"))
