"""Keys written by the write script share script calls (all the keys of a
batch on a standalone server, the keys of one slot on a cluster); each key
still gets its own outcome: written, skipped, refused (WRONGTYPE, its TTL
left alone) or a conflict, all in one call. Ground truth read with redis-py;
the number of calls from INFO commandstats."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy

import polars_redis as pr

NEW = [f"{{t}}:new:{i}" for i in range(6)]
"""Keys that do not exist before the write (one hash tag: one slot)."""


def _frame(keys: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"_key": keys, "a": [f"v{i}" for i in range(len(keys))]})


def _seed(client: Any) -> None:
    """A hash and a list among the keys to write, each with a long TTL."""
    client.hset("{t}:hash", mapping={"old": "1", "a": "old"})
    client.expire("{t}:hash", 9000)
    client.rpush("{t}:list", "x")
    client.expire("{t}:list", 9000)


def _script_calls(clients: list[Any]) -> int:
    calls = 0
    for client in clients:
        stats = client.info("commandstats")
        calls += stats.get("cmdstat_evalsha", {}).get("calls", 0)
    return calls


def _reset_stats(clients: list[Any]) -> None:
    for client in clients:
        client.config_resetstat()


def _check_append(result: pr.WriteResult, client: Any) -> None:
    assert (result.written, result.failed, result.skipped, result.unknown) == (7, 1, 0, 0)
    assert [f.key for f in result.failures] == ["{t}:list"]
    assert "WRONGTYPE" in result.failures[0].message
    # The existing hash got the new field and the new TTL, and kept its other field.
    assert client.hgetall("{t}:hash") == {b"old": b"1", b"a": b"v6"}
    assert client.ttl("{t}:hash") <= 600
    # The list was not touched, TTL included.
    assert client.lrange("{t}:list", 0, -1) == [b"x"]
    assert client.ttl("{t}:list") > 600
    for i, key in enumerate(NEW):
        assert client.hgetall(key) == {b"a": f"v{i}".encode()}
        assert 0 < client.ttl(key) <= 600


def _check_skip(result: pr.WriteResult, client: Any) -> None:
    assert (result.written, result.skipped, result.failed, result.unknown) == (6, 2, 0, 0)
    assert sorted(result.skipped_keys) == ["{t}:hash", "{t}:list"]
    assert client.hgetall("{t}:hash") == {b"old": b"1", b"a": b"old"}
    assert client.lrange("{t}:list", 0, -1) == [b"x"]
    assert client.ttl("{t}:hash") > 600 and client.ttl("{t}:list") > 600
    for i, key in enumerate(NEW):
        assert client.hgetall(key) == {b"a": f"v{i}".encode()}


def test_one_script_call_reports_every_keys_outcome(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    keys = [*NEW, "{t}:hash", "{t}:list"]
    _seed(redis_client)
    _reset_stats([redis_client])
    result = pr.write_hashes(
        _frame(keys), redis_url, if_exists="append", ttl=600, raise_on_error=False
    )
    assert _script_calls([redis_client]) == 1
    _check_append(result, redis_client)

    redis_server.flushall()
    _seed(redis_client)
    _reset_stats([redis_client])
    result = pr.write_hashes(_frame(keys), redis_url, if_exists="skip", ttl=600)
    assert _script_calls([redis_client]) == 1
    _check_skip(result, redis_client)


def test_keys_created_after_the_check_are_conflicts_inside_one_call(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_server.client()
    intruder = redis_server.client()
    calls = []

    def create_keys_before_the_script(data: bytes) -> None:
        if b"EVALSHA" in data:
            calls.append(data.count(b"EVALSHA"))
            if len(calls) == 1:
                intruder.hset(NEW[1], "owner", "someone else")
                intruder.rpush(NEW[4], "someone else")

    proxy = Proxy(redis_server.port, on_client_bytes=create_keys_before_the_script)
    with proxy, pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(_frame(NEW), proxy.url, if_exists="fail", parallelism=1)
    result = raised.value.result
    assert calls == [1]
    assert sorted(f.key for f in result.failures) == [NEW[1], NEW[4]]
    assert all("after the existence check" in f.message for f in result.failures)
    assert (result.written, result.failed, result.unknown) == (4, 2, 0)
    assert client.hgetall(NEW[1]) == {b"owner": b"someone else"}
    assert client.lrange(NEW[4], 0, -1) == [b"someone else"]
    for i in (0, 2, 3, 5):
        assert client.hget(NEW[i], "a") == f"v{i}".encode()
    client.close()
    intruder.close()


def test_a_failing_command_stops_only_its_own_key(redis_url: str, redis_client: Any) -> None:
    # Lists of two elements, appended with a TTL: the key holding a hash
    # is refused before its expiry, the keys around it are written.
    redis_client.hset("l:1", "f", "v")
    redis_client.expire("l:1", 9000)
    df = pl.DataFrame(
        {"_key": ["l:0", "l:0", "l:1", "l:1", "l:2", "l:2"], "element": list("abcdef")}
    )
    _reset_stats([redis_client])
    result = pr.write_lists(df, redis_url, if_exists="append", ttl=600, raise_on_error=False)
    assert _script_calls([redis_client]) == 1
    assert (result.written, result.failed, result.keys_written) == (4, 2, 2)
    assert [f.key for f in result.failures] == ["l:1"]
    assert redis_client.lrange("l:0", 0, -1) == [b"a", b"b"]
    assert redis_client.lrange("l:2", 0, -1) == [b"e", b"f"]
    assert redis_client.hgetall("l:1") == {b"f": b"v"} and redis_client.ttl("l:1") > 600


def test_cluster_keys_of_one_slot_share_a_call(
    redis_cluster: Any, cluster_url: str, cluster_client: Any
) -> None:
    # The tagged keys share one slot (one call); the others each have their own.
    loose = ["loose:a", "loose:b", "loose:c"]
    keys = [*NEW, "{t}:hash", "{t}:list", *loose]
    slots = {cluster_client.keyslot(k) for k in loose} | {cluster_client.keyslot("{t}")}
    masters = [n.redis_connection for n in cluster_client.get_primaries()]
    _seed(cluster_client)
    _reset_stats(masters)
    result = pr.write_hashes(
        _frame(keys), cluster_url, if_exists="append", ttl=600, raise_on_error=False
    )
    assert _script_calls(masters) == len(slots)
    assert (result.written, result.failed) == (10, 1)
    _check_append_loose(result, cluster_client, loose)

    redis_cluster.flushall()
    _seed(cluster_client)
    _reset_stats(masters)
    result = pr.write_hashes(_frame([*NEW, "{t}:hash", "{t}:list"]), cluster_url, if_exists="skip")
    assert _script_calls(masters) == 1
    _check_skip(result, cluster_client)


def _check_append_loose(result: pr.WriteResult, client: Any, loose: list[str]) -> None:
    assert [f.key for f in result.failures] == ["{t}:list"]
    assert "WRONGTYPE" in result.failures[0].message
    assert client.lrange("{t}:list", 0, -1) == [b"x"] and client.ttl("{t}:list") > 600
    assert client.hgetall("{t}:hash") == {b"old": b"1", b"a": b"v6"}
    for i, key in enumerate(NEW):
        assert client.hgetall(key) == {b"a": f"v{i}".encode()}
    for i, key in enumerate(loose, start=8):
        assert client.hgetall(key) == {b"a": f"v{i}".encode()}
        assert 0 < client.ttl(key) <= 600
