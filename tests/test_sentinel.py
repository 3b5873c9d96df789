"""``redis+sentinel://`` URLs: the master (and, for ``read_from``, the
replicas) found through three real sentinels, and found again after a forced
``SENTINEL FAILOVER``, between reads and in the middle of an ``iter_*``."""

# ruff: noqa: F811  (the fixtures imported from replica_servers are parameters)
from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from replica_servers import (  # noqa: F401
    ReplicaSet,
    Sentinels,
    command_calls,
    read_across,
    reset_stats,
    role,
    sentinel_set,
)

import polars_redis as redis

SCHEMA = {"n": pl.Int64}
ROWS = 3000


def frame(prefix: str, rows: int = ROWS) -> pl.DataFrame:
    return pl.DataFrame(
        {"_key": [f"{prefix}{i}" for i in range(rows)], "n": list(range(rows))}
    ).sort("_key")


def written_everywhere(
    replicas: ReplicaSet, sentinels: Sentinels, prefix: str, rows: int = ROWS
) -> pl.DataFrame:
    """``rows`` hashes written through the sentinel URL, on every replica too."""
    expected = frame(prefix, rows)
    redis.write_hashes(expected, sentinels.url(), key_column="_key")
    client = replicas.primary.client()
    try:
        replicas.sync(client)
    finally:
        client.close()
    return expected


def test_sentinel_url_reads_and_writes_the_master(
    sentinel_set: tuple[ReplicaSet, Sentinels],
) -> None:
    replicas, sentinels = sentinel_set
    expected = frame("s:")
    result = redis.write_hashes(expected, sentinels.url(), key_column="_key")
    assert result.written == ROWS
    client = replicas.primary.client()
    try:
        assert client.hget("s:7", "n") == b"7"
        assert client.dbsize() == ROWS
        replicas.sync(client)
    finally:
        client.close()
    reset_stats(*replicas.servers)
    got = redis.read_hashes(sentinels.url(), "s:*", SCHEMA)
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(replicas.primary, "hgetall") == ROWS
    # The replicas the sentinels know serve read_from.
    reset_stats(*replicas.servers)
    got = redis.read_hashes(sentinels.url(), "s:*", SCHEMA, read_from="replica", parallelism=2)
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(replicas.primary, "hgetall") == 0
    assert sum(command_calls(r, "hgetall") for r in replicas.replicas) == ROWS


def test_unknown_service_and_bad_urls(
    sentinel_set: tuple[ReplicaSet, Sentinels],
) -> None:
    _, sentinels = sentinel_set
    url = sentinels.url().replace("/pr-primary", "/nope")
    with pytest.raises(redis.RedisConnectionError, match="nope"):
        redis.read_hashes(url, "s:*", SCHEMA)
    with pytest.raises(redis.InvalidInputError, match="service"):
        redis.read_hashes("redis+sentinel://:hunter2@127.0.0.1:1", "s:*", SCHEMA)
    with pytest.raises(redis.InvalidInputError) as info:
        redis.read_hashes("redis://127.0.0.1:1?sentinel_password=hunter2", "s:*", SCHEMA)
    assert "hunter2" not in str(info.value)


def test_reads_and_writes_after_a_failover_use_the_new_master(
    sentinel_set: tuple[ReplicaSet, Sentinels],
) -> None:
    replicas, sentinels = sentinel_set
    expected = written_everywhere(replicas, sentinels, "f:", 500)
    new_master = sentinels.failover(replicas.servers)
    assert new_master is not replicas.primary
    reset_stats(*replicas.servers)
    got = redis.read_hashes(sentinels.url(), "f:*", SCHEMA)
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(new_master, "hgetall") == 500
    assert all(command_calls(s, "hgetall") == 0 for s in replicas.servers if s is not new_master)
    more = frame("after:", 50)
    assert redis.write_hashes(more, sentinels.url(), key_column="_key").written == 50
    client = new_master.client()
    try:
        assert client.hget("after:3", "n") == b"3"
        assert role(new_master)[0] == b"master"
    finally:
        client.close()


def test_iter_across_a_failover_reads_every_key_once(
    sentinel_set: tuple[ReplicaSet, Sentinels],
) -> None:
    replicas, sentinels = sentinel_set
    expected = written_everywhere(replicas, sentinels, "it:")
    stream = redis.iter_hashes(
        sentinels.url(), "it:*", SCHEMA, batch_size=100, parallelism=1, retries=12
    )
    masters = []

    def fail_over() -> None:
        masters.append(sentinels.failover(replicas.servers))
        reset_stats(masters[0])

    got = read_across(stream, fail_over)
    new_master = masters[0]
    assert got.height == ROWS
    assert_frame_equal(got.sort("_key"), expected)
    # The rest of the read went to the new master.
    assert command_calls(new_master, "hgetall") > 0


def test_sentinels_with_a_password() -> None:
    replicas = ReplicaSet(1, name="sentinel-auth")
    try:
        sentinels = Sentinels(replicas.primary, replicas=1, password="s3nt-pw")
        try:
            client = replicas.primary.client()
            try:
                client.hset("pw:1", "n", 1)
            finally:
                client.close()
            url = sentinels.url() + "?sentinel_password=s3nt-pw"
            assert redis.read_hashes(url, "pw:*", SCHEMA)["n"].to_list() == [1]
            for wrong in ["?sentinel_password=hunter2", ""]:
                with pytest.raises(redis.RedisConnectionError) as info:
                    redis.read_hashes(sentinels.url() + wrong, "pw:*", SCHEMA)
                assert "hunter2" not in str(info.value)
                assert "s3nt-pw" not in str(info.value)
        finally:
            sentinels.stop()
    finally:
        replicas.stop()
