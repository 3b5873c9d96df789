"""Checked transactions: on a standalone server, batches of at least 16 keys
written by ``append`` with a TTL, ``skip`` or ``fail`` (hashes, sets, lists,
sorted sets) go as WATCH + one check per key (TYPE or EXISTS), then one
MULTI/EXEC with every key that passed. Each key keeps its own outcome; a key
changed by another client between the check and EXEC aborts the transaction,
which is checked and sent again (a few times, then one key per script call).
Ground truth read with redis-py; calls from INFO commandstats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy
from test_write_failures import small_server  # noqa: F401 (the fixture)

import polars_redis as pr

NEW = [f"new:{i}" for i in range(20)]
"""Keys that do not exist before the write: more than a transaction's minimum."""


def _frame(keys: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"_key": keys, "a": [f"v{i}" for i in range(len(keys))]})


def _calls(client: Any, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def _seed(client: Any) -> None:
    """A hash and a list among the keys to write, each with a long TTL."""
    client.hset("old:hash", mapping={"old": "1", "a": "old"})
    client.expire("old:hash", 9000)
    client.rpush("old:list", "x")
    client.expire("old:list", 9000)


def test_one_transaction_reports_every_keys_outcome(redis_url: str, redis_client: Any) -> None:
    keys = [*NEW, "old:hash", "old:list"]
    _seed(redis_client)
    redis_client.config_resetstat()
    result = pr.write_hashes(
        _frame(keys), redis_url, if_exists="append", ttl=600, raise_on_error=False
    )
    assert (_calls(redis_client, "exec"), _calls(redis_client, "evalsha")) == (1, 0)
    assert (_calls(redis_client, "watch"), _calls(redis_client, "type")) == (1, len(keys))
    assert (result.written, result.failed, result.skipped, result.unknown) == (21, 1, 0, 0)
    assert [f.key for f in result.failures] == ["old:list"]
    assert "WRONGTYPE" in result.failures[0].message
    # The hash got the new field and TTL and kept its other field; the
    # list was not touched, TTL included.
    assert redis_client.hgetall("old:hash") == {b"old": b"1", b"a": b"v20"}
    assert redis_client.ttl("old:hash") <= 600
    assert redis_client.lrange("old:list", 0, -1) == [b"x"]
    assert redis_client.ttl("old:list") > 600
    for i, key in enumerate(NEW):
        assert redis_client.hgetall(key) == {b"a": f"v{i}".encode()}
        assert 0 < redis_client.ttl(key) <= 600

    redis_client.flushall()
    _seed(redis_client)
    redis_client.config_resetstat()
    result = pr.write_hashes(_frame(keys), redis_url, if_exists="skip", ttl=600)
    assert (_calls(redis_client, "exec"), _calls(redis_client, "evalsha")) == (1, 0)
    assert (result.written, result.skipped, result.failed) == (20, 2, 0)
    assert sorted(result.skipped_keys) == ["old:hash", "old:list"]
    assert redis_client.hgetall("old:hash") == {b"old": b"1", b"a": b"old"}
    assert redis_client.ttl("old:hash") > 600 and redis_client.ttl("old:list") > 600
    assert all(redis_client.hget(key, "a") == f"v{i}".encode() for i, key in enumerate(NEW))


@pytest.mark.parametrize(
    ("write", "column", "read"),
    [
        (pr.write_sets, "member", lambda c, k: c.smembers(k) == {b"a", b"b"}),
        (pr.write_lists, "element", lambda c, k: c.lrange(k, 0, -1) == [b"a", b"b"]),
    ],
)
def test_collections_of_another_type_keep_their_ttl(
    redis_url: str, redis_client: Any, write: Any, column: str, read: Any
) -> None:
    redis_client.hset("new:3", "f", "v")
    redis_client.expire("new:3", 9000)
    df = pl.DataFrame({"_key": [k for k in NEW for _ in range(2)], column: ["a", "b"] * len(NEW)})
    redis_client.config_resetstat()
    result = write(df, redis_url, if_exists="append", ttl=600, raise_on_error=False)
    assert _calls(redis_client, "exec") == 1 and _calls(redis_client, "evalsha") == 0
    assert (result.keys_written, result.failed) == (19, 2)
    assert [f.key for f in result.failures] == ["new:3"]
    assert redis_client.hgetall("new:3") == {b"f": b"v"} and redis_client.ttl("new:3") > 600
    for key in NEW:
        if key != "new:3":
            assert read(redis_client, key) and 0 < redis_client.ttl(key) <= 600


def test_zsets_skip_in_one_transaction(redis_url: str, redis_client: Any) -> None:
    redis_client.zadd("new:0", {"old": 1})
    df = pl.DataFrame({"_key": NEW, "member": ["m"] * len(NEW), "score": [1.5] * len(NEW)})
    redis_client.config_resetstat()
    result = pr.write_zsets(df, redis_url, if_exists="skip", ttl=600)
    assert _calls(redis_client, "exec") == 1 and _calls(redis_client, "exists") == len(NEW)
    assert (result.written, result.skipped_keys) == (19, ["new:0"])
    assert redis_client.zrange("new:0", 0, -1) == [b"old"] and redis_client.ttl("new:0") == -1
    assert redis_client.zscore("new:7", "m") == 1.5 and redis_client.ttl("new:7") > 0


def _with_intruder(
    server: RedisServer, change: Callable[[Any, int], None], write: Callable[[str], Any]
) -> tuple[pr.WriteResult, int]:
    """Run ``write(url)`` through a proxy that lets ``change(intruder, n)``
    alter the database just before the n-th MULTI (from 0) reaches the
    server, after the keys were watched and checked; the result and how
    many MULTIs were sent."""
    intruder = server.client()
    multis = 0

    def before_multi(data: bytes) -> None:
        nonlocal multis
        if b"MULTI" in data:
            change(intruder, multis)
            multis += 1

    try:
        with Proxy(server.port, on_client_bytes=before_multi) as proxy:
            result = write(proxy.url)
    finally:
        intruder.close()
    return result, multis


def test_a_key_created_before_exec_aborts_and_is_a_conflict(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    def create_a_key(intruder: Any, n: int) -> None:
        if n == 0:
            intruder.hset(NEW[5], "owner", "someone else")

    redis_client.config_resetstat()
    result, multis = _with_intruder(
        redis_server,
        create_a_key,
        lambda url: pr.write_hashes(
            _frame(NEW), url, if_exists="fail", ttl=600, parallelism=1, raise_on_error=False
        ),
    )
    # The first EXEC ran nothing (a watched key changed); the second found the key.
    assert multis == 2 and _calls(redis_client, "exec") == 2
    assert [f.key for f in result.failures] == [NEW[5]]
    assert "after the existence check" in result.failures[0].message
    assert (result.written, result.failed, result.unknown) == (19, 1, 0)
    assert redis_client.hgetall(NEW[5]) == {b"owner": b"someone else"}
    assert redis_client.ttl(NEW[5]) == -1
    for i, key in enumerate(NEW):
        assert i == 5 or redis_client.hget(key, "a") == f"v{i}".encode()


def test_a_type_changed_before_exec_is_refused_without_its_ttl(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    redis_client.hset(NEW[2], "kept", "1")

    def replace_a_hash_by_a_list(intruder: Any, n: int) -> None:
        if n == 0:
            intruder.delete(NEW[2])
            intruder.rpush(NEW[2], "theirs")

    result, multis = _with_intruder(
        redis_server,
        replace_a_hash_by_a_list,
        lambda url: pr.write_hashes(
            _frame(NEW), url, if_exists="append", ttl=600, raise_on_error=False
        ),
    )
    assert multis == 2
    assert [f.key for f in result.failures] == [NEW[2]] and result.written == 19
    assert "WRONGTYPE" in result.failures[0].message
    assert redis_client.lrange(NEW[2], 0, -1) == [b"theirs"] and redis_client.ttl(NEW[2]) == -1


def test_keys_that_keep_changing_go_one_per_script_call(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    def create_a_key_each_time(intruder: Any, n: int) -> None:
        intruder.hset(NEW[n], "owner", "someone else")

    redis_client.config_resetstat()
    result, multis = _with_intruder(
        redis_server,
        create_a_key_each_time,
        lambda url: pr.write_hashes(_frame(NEW), url, if_exists="skip", parallelism=1),
    )
    # Three aborted attempts, each but the last finding one more key to
    # skip; the 18 keys still live then went one per script call.
    assert multis == 3 and _calls(redis_client, "exec") == 3
    assert _calls(redis_client, "evalsha") == 18
    assert (result.written, sorted(result.skipped_keys)) == (17, sorted(NEW[:3]))
    assert all(redis_client.hgetall(k) == {b"owner": b"someone else"} for k in NEW[:3])
    for i, key in enumerate(NEW):
        assert i < 3 or redis_client.hget(key, "a") == f"v{i}".encode()


def test_oom_fails_the_refused_keys_of_a_transaction(
    small_server: RedisServer,  # noqa: F811 (the fixture of test_write_failures)
) -> None:
    client = small_server.client()
    client.config_set("maxmemory", int(client.info("memory")["used_memory"]) + 300_000)
    n = 5000
    df = pl.DataFrame({"_key": [f"k:{i}" for i in range(n)], "payload": ["x" * 200] * n})
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, small_server.url, if_exists="append", ttl=600, batch_size=500)
    result = raised.value.result
    assert result.written + result.failed == n and result.unknown == 0
    assert result.written > 0 and result.failed > 0
    assert all("OOM command not allowed" in f.message for f in result.failures)
    failed = {f.key for f in result.failures}
    for i in range(0, n, 7):
        key = f"k:{i}"
        if key in failed:
            assert not client.exists(key)
        else:
            assert client.hget(key, "payload") == b"x" * 200 and client.ttl(key) > 0
    assert client.dbsize() == result.keys_written


def test_watch_refused_by_acl_falls_back_per_key(redis_url: str, redis_client: Any) -> None:
    redis_client.acl_setuser(
        "nowatch", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-watch"]
    )
    url = redis_url.replace("redis://", "redis://nowatch:pw@")
    redis_client.hset(NEW[4], "kept", "1")
    redis_client.config_resetstat()
    result = pr.write_hashes(_frame(NEW), url, if_exists="skip", ttl=600)
    assert _calls(redis_client, "exec") == 0 and _calls(redis_client, "evalsha") == len(NEW)
    assert (result.written, result.skipped_keys) == (19, [NEW[4]])
    assert redis_client.hgetall(NEW[4]) == {b"kept": b"1"}
    assert all(redis_client.ttl(k) > 0 for k in NEW if k != NEW[4])
    redis_client.acl_deluser("nowatch")


DROPPED = [f"d:{i}" for i in range(600)]
"""Keys written over a connection cut while the first transaction's replies arrive."""


def _write_cut(server: RedisServer, mode: str) -> pr.WriteResult:
    df = pl.DataFrame({"_key": DROPPED, "payload": ["x" * 100] * len(DROPPED)})
    with Proxy(server.port, cut_after=2_000) as proxy:
        result = pr.write_hashes(
            df, proxy.url, if_exists=mode, ttl=600, parallelism=1, raise_on_error=False
        )
        assert proxy.cuts == 1
    return result


def test_dropped_connection_leaves_skips_whole_or_unknown(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    result = _write_cut(redis_server, "skip")
    assert result.written + result.unknown == len(DROPPED) and result.failed == 0
    assert result.unknown > 0
    assert all("not retried" in f.message for f in result.unknown_keys)
    unknown = {f.key for f in result.unknown_keys}
    for key in DROPPED:
        value = redis_client.hgetall(key)
        if key in unknown:
            assert value in ({}, {b"payload": b"x" * 100})
        else:
            assert value == {b"payload": b"x" * 100} and redis_client.ttl(key) > 0


def test_dropped_connection_retries_idempotent_appends(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    result = _write_cut(redis_server, "append")
    assert result.ok and result.written == len(DROPPED)
    assert redis_client.dbsize() == len(DROPPED)
    assert all(redis_client.ttl(k) > 0 for k in DROPPED)
