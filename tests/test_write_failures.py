"""Writes that meet server errors and broken connections: OOM (maxmemory),
NOPERM (ACL), a connection dropped mid-pipeline, and a key created by
another client between the existence check and the write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy

import polars_redis as pr


@pytest.fixture
def small_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(name="redis-oom", extra_args=["--maxmemory-policy", "noeviction"])
    try:
        yield server
    finally:
        server.stop()


def _frame(n: int, prefix: str = "k:") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_key": [f"{prefix}{i}" for i in range(n)],
            "payload": ["x" * 200] * n,
            "n": range(n),
        }
    )


def _assert_adds_up(result: pr.WriteResult) -> None:
    assert result.written + result.skipped + result.failed + result.unknown == result.rows


def test_oom_fails_the_keys_the_server_refused(small_server: RedisServer) -> None:
    client = small_server.client()
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", used + 300_000)
    df = _frame(5000)
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, small_server.url, ttl=600, batch_size=500)
    result = raised.value.result
    _assert_adds_up(result)
    assert result.written > 0 and result.failed > 0
    assert all("OOM command not allowed" in f.message for f in result.failures)
    failed = {f.key for f in result.failures}
    for i in range(0, 5000, 7):
        key = f"k:{i}"
        if key in failed:
            assert not client.exists(key)
        else:
            assert client.hget(key, "n") == str(i).encode()
            assert client.ttl(key) > 0
    assert client.dbsize() == result.keys_written


def test_noperm_fails_keys_outside_the_users_patterns(redis_url: str, redis_client: Any) -> None:
    redis_client.acl_setuser(
        "writer", enabled=True, passwords=["+pw"], keys=["allowed:*"], commands=["+@all"]
    )
    url = redis_url.replace("redis://", "redis://writer:pw@")
    df = pl.DataFrame({"_key": ["allowed:1", "denied:1", "allowed:2"], "v": [1, 2, 3]})
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, url, ttl=100)
    result = raised.value.result
    assert (result.written, result.failed) == (2, 1)
    assert result.failures[0].key == "denied:1" and "NOPERM" in result.failures[0].message
    assert not redis_client.exists("denied:1")
    assert redis_client.hget("allowed:2", "v") == b"3"
    # The guarded script checks permissions inside Redis too.
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, url, if_exists="skip")
    assert [f.key for f in raised.value.result.failures] == ["denied:1"]
    assert "NOPERM" in raised.value.result.failures[0].message
    assert raised.value.result.skipped_keys == ["allowed:1", "allowed:2"]


def test_dropped_connection_retries_idempotent_replaces(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_server.client()
    client.hset("k:3", mapping={"stale": "1"})
    df = _frame(3000)
    with Proxy(redis_server.port, cut_after=20_000) as proxy:
        result = pr.write_hashes(df, proxy.url, ttl=300, batch_size=400, parallelism=1)
        assert proxy.cuts == 1 and proxy.connections >= 2
    assert result.ok and result.written == 3000
    assert client.dbsize() == 3000
    assert client.hgetall("k:3") == {b"payload": b"x" * 200, b"n": b"3"}
    assert all(client.ttl(f"k:{i}") > 0 for i in range(0, 3000, 11))


def test_dropped_connection_reports_list_appends_as_unknown(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_server.client()
    keys = [f"l:{i}" for i in range(400)]
    df = pl.DataFrame(
        {"_key": [k for k in keys for _ in range(3)], "element": ["a", "b", "c"] * len(keys)}
    )
    with Proxy(redis_server.port, cut_after=800) as proxy:
        with pytest.raises(pr.WriteError) as raised:
            pr.write_lists(df, proxy.url, if_exists="append", batch_size=300, parallelism=1)
        assert proxy.cuts == 1
    result = raised.value.result
    _assert_adds_up(result)
    assert result.unknown > 0 and result.failed == 0
    unknown = {f.key for f in result.unknown_keys}
    assert all("not retried" in f.message for f in result.unknown_keys)
    for key in keys:
        elements = client.lrange(key, 0, -1)
        if key in unknown:
            # Each key is one atomic unit: all or nothing, never duplicated.
            assert elements in ([], [b"a", b"b", b"c"])
        else:
            assert elements == [b"a", b"b", b"c"]
    assert result.keys_written == len(keys) - len(unknown)


def test_key_created_after_the_check_is_a_conflict_not_overwritten(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_server.client()
    intruder = redis_server.client()
    done = []

    def create_key_before_first_write(data: bytes) -> None:
        if b"EVALSHA" in data and not done:
            done.append(True)
            intruder.hset("k:3", "owner", "someone else")

    df = _frame(10)
    proxy = Proxy(redis_server.port, on_client_bytes=create_key_before_first_write)
    with proxy, pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, proxy.url, if_exists="fail", parallelism=1)
    result = raised.value.result
    assert done and [f.key for f in result.failures] == ["k:3"]
    assert "after the existence check" in result.failures[0].message
    assert (result.written, result.failed) == (9, 1)
    assert client.hgetall("k:3") == {b"owner": b"someone else"}
    assert client.hget("k:4", "n") == b"4"


def test_connection_that_keeps_dropping_ends_in_unknown_keys(redis_url: str) -> None:
    server = RedisServer.plain(name="redis-flaky")
    try:
        df = _frame(2000)
        proxy = Proxy(server.port, cut_after=3_000, cut_connections=100)
        with proxy, pytest.raises(pr.WriteError) as raised:
            pr.write_hashes(df, proxy.url, batch_size=200, parallelism=1, connect_timeout=2)
        result = raised.value.result
        _assert_adds_up(result)
        assert result.unknown > 0
        assert all("connection" in f.message for f in result.unknown_keys + result.failures)
    finally:
        server.stop()
