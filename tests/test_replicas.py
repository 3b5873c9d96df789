"""``read_from``: reads on replicas of a standalone primary and of a Redis
Cluster, with the primary as fallback (``prefer_replica``) or an error
(``replica``) when a shard has no live replica. Which server a read hit is
proved by its ``INFO commandstats``."""

# ruff: noqa: F811  (the fixtures imported from replica_servers are parameters)
from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from redis_servers import RedisServer
from replica_servers import (  # noqa: F401
    ReplicaSet,
    ReplicatedCluster,
    command_calls,
    fresh_replica_set,
    is_linked_replica,
    read_across,
    replica_set,
    replicated_cluster,
    reset_stats,
    wait_until,
)
from test_load_budget import load

import polars_redis as redis

SCHEMA = {"n": pl.Int64, "name": pl.String}
ROWS = 2000


@pytest.fixture
def seeded(replica_set: ReplicaSet) -> pl.DataFrame:
    replica_set.primary.flushall()
    expected = replica_set.seed("rf:", ROWS)
    reset_stats(*replica_set.servers)
    return expected


def test_replica_reads_never_touch_the_primary(
    replica_set: ReplicaSet, seeded: pl.DataFrame
) -> None:
    got = redis.read_hashes(
        replica_set.primary.url,
        "rf:*",
        SCHEMA,
        read_from="replica",
        parallelism=2,
        batch_size=50,
    )
    assert_frame_equal(got.sort("_key"), seeded)
    primary = replica_set.primary
    assert command_calls(primary, "hgetall") == 0
    assert command_calls(primary, "scan") == 0
    per_replica = [command_calls(r, "hgetall") for r in replica_set.replicas]
    # Every key read once, the reads spread over both replicas.
    assert sum(per_replica) == ROWS
    assert all(calls > 0 for calls in per_replica), per_replica


def test_primary_is_the_default(replica_set: ReplicaSet, seeded: pl.DataFrame) -> None:
    got = redis.read_hashes(replica_set.primary.url, "rf:*", SCHEMA)
    assert_frame_equal(got.sort("_key"), seeded)
    assert command_calls(replica_set.primary, "hgetall") == ROWS
    assert all(command_calls(r, "hgetall") == 0 for r in replica_set.replicas)


def test_every_reader_takes_read_from(replica_set: ReplicaSet, seeded: pl.DataFrame) -> None:
    url = replica_set.primary.url
    batches = list(redis.iter_hashes(url, "rf:*", SCHEMA, read_from="prefer_replica"))
    assert_frame_equal(pl.concat(batches).sort("_key"), seeded)
    client = replica_set.primary.client()
    try:
        client.set("rf-string", "hello")
        replica_set.sync(client)
    finally:
        client.close()
    reset_stats(*replica_set.servers)
    strings = redis.read_strings(url, keys=["rf-string"], read_from="replica")
    assert strings["value"].to_list() == ["hello"]
    assert (
        command_calls(replica_set.primary, "get") + command_calls(replica_set.primary, "mget") == 0
    )
    lazy = redis.scan_hashes(url, "rf:*", SCHEMA, read_from="replica")
    assert lazy.filter(pl.col("n") < 10).collect().height == 10


def test_a_url_naming_a_replica_reads_it(replica_set: ReplicaSet, seeded: pl.DataFrame) -> None:
    replica = replica_set.replicas[1]
    got = redis.read_hashes(replica.url, "rf:*", SCHEMA, read_from="replica")
    assert_frame_equal(got.sort("_key"), seeded)
    assert command_calls(replica, "hgetall") == ROWS
    assert command_calls(replica_set.replicas[0], "hgetall") == 0


def test_a_bad_choice_names_read_from(replica_set: ReplicaSet) -> None:
    with pytest.raises(redis.InvalidInputError, match="read_from"):
        redis.read_hashes(replica_set.primary.url, "rf:*", SCHEMA, read_from="replicas")  # type: ignore[typeddict-item]


def test_prefer_replica_falls_back_and_replica_refuses(
    fresh_replica_set: ReplicaSet,
) -> None:
    primary = fresh_replica_set.primary
    expected = fresh_replica_set.seed("fb:", 300)
    # One replica down: the other takes every read.
    survivor, stopped = fresh_replica_set.replicas
    stopped.stop()
    reset_stats(primary, survivor)
    got = redis.read_hashes(primary.url, "fb:*", SCHEMA, read_from="replica")
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(survivor, "hgetall") == 300
    assert command_calls(primary, "hgetall") == 0
    # None left: prefer_replica reads the primary, replica names it.
    survivor.stop()
    reset_stats(primary)
    got = redis.read_hashes(primary.url, "fb:*", SCHEMA, read_from="prefer_replica")
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(primary, "hgetall") == 300
    with pytest.raises(redis.RedisConnectionError) as info:
        redis.read_hashes(primary.url, "fb:*", SCHEMA, read_from="replica")
    message = str(info.value)
    assert "no live replica" in message
    assert f"{primary.host}:{primary.port}" in message


def test_prefer_replica_finishes_on_the_primary_when_replicas_die_mid_read(
    fresh_replica_set: ReplicaSet,
) -> None:
    primary = fresh_replica_set.primary
    expected = fresh_replica_set.seed("mid:", ROWS)
    reset_stats(*fresh_replica_set.servers)
    stream = redis.iter_hashes(
        primary.url, "mid:*", SCHEMA, read_from="prefer_replica", batch_size=50, parallelism=2
    )

    def stop_the_replicas() -> None:
        assert command_calls(primary, "hgetall") == 0
        for replica in fresh_replica_set.replicas:
            replica.stop()

    got = read_across(stream, stop_the_replicas)
    assert got.height == ROWS
    assert_frame_equal(got.sort("_key"), expected)
    assert command_calls(primary, "hgetall") > 0


def test_searches_run_on_the_replica() -> None:
    primary = RedisServer.stack(name="search-primary")
    replica = None
    try:
        replica = RedisServer.stack(
            name="search-replica", extra_args=["--replicaof", primary.host, str(primary.port)]
        )
        wait_until("the replica to sync", lambda: is_linked_replica(replica))
        client = primary.client()
        try:
            client.execute_command(
                "FT.CREATE", "people", "ON", "HASH", "PREFIX", 1, "p:", "SCHEMA", "n", "NUMERIC"
            )
            load(client, 300, "p:")
            assert client.execute_command("WAIT", 1, 5000) == 1
        finally:
            client.close()
        wait_until(
            "the replica's index",
            lambda: replica.execute("FT.SEARCH", "people", "*", "LIMIT", "0", "0")[0] == 300,
        )
        reset_stats(primary, replica)
        query = redis.field("n") < 100
        got = redis.search_hashes(primary.url, "people", query, SCHEMA, read_from="replica")
        assert sorted(got.collect()["n"].to_list()) == list(range(100))
        pushed = redis.scan_hashes(primary.url, "p:*", SCHEMA, read_from="replica")
        assert pushed.filter(pl.col("n") >= 290).collect().height == 10
        assert command_calls(replica, "ft.aggregate") >= 2
        for command in ["ft.aggregate", "ft.cursor", "hgetall", "hmget", "scan"]:
            assert command_calls(primary, command) == 0, command
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()


# --------------------------------------------------------------------------
# Redis Cluster (3 masters, one replica each)
# --------------------------------------------------------------------------


@pytest.fixture
def cluster_seeded(replicated_cluster: ReplicatedCluster) -> pl.DataFrame:
    for master in replicated_cluster.masters:
        master.flushall()
    client = replicated_cluster.cluster.client()
    try:
        expected = load(client, ROWS, "crf:")
    finally:
        client.close()
    pairs = list(zip(replicated_cluster.masters, replicated_cluster.replicas))
    for master, replica in pairs:
        wait_until(
            f"{replica.name} to catch up",
            lambda m=master, r=replica: r.execute("DBSIZE") == m.execute("DBSIZE"),
        )
    reset_stats(*replicated_cluster.masters, *replicated_cluster.replicas)
    return expected


def test_cluster_replica_reads(
    replicated_cluster: ReplicatedCluster, cluster_seeded: pl.DataFrame
) -> None:
    got = redis.read_hashes(replicated_cluster.url, "crf:*", SCHEMA, read_from="replica")
    assert_frame_equal(got.sort("_key"), cluster_seeded)
    assert all(command_calls(m, "hgetall") == 0 for m in replicated_cluster.masters)
    per_replica = [command_calls(r, "hgetall") for r in replicated_cluster.replicas]
    assert sum(per_replica) == ROWS
    assert all(calls > 0 for calls in per_replica), per_replica
    # Listed keys too (routed by slot to each shard's replica).
    keys = [f"crf:{i}" for i in range(0, ROWS, 7)]
    listed = redis.read_hashes(
        replicated_cluster.url, schema=SCHEMA, keys=keys, read_from="replica"
    )
    assert listed["_key"].to_list() != [] and set(listed["_key"]) == set(keys)
    assert all(command_calls(m, "hgetall") == 0 for m in replicated_cluster.masters)


def test_cluster_shard_without_replica(
    replicated_cluster: ReplicatedCluster, cluster_seeded: pl.DataFrame
) -> None:
    """Runs last: it stops a replica of the module's cluster."""
    down = replicated_cluster.replicas[1]
    master = replicated_cluster.masters[1]
    down.stop()
    got = redis.read_hashes(replicated_cluster.url, "crf:*", SCHEMA, read_from="prefer_replica")
    assert_frame_equal(got.sort("_key"), cluster_seeded)
    assert command_calls(master, "hgetall") > 0
    others = [m for m in replicated_cluster.masters if m is not master]
    assert all(command_calls(m, "hgetall") == 0 for m in others)
    with pytest.raises(redis.RedisConnectionError) as info:
        redis.read_hashes(replicated_cluster.url, "crf:*", SCHEMA, read_from="replica")
    message = str(info.value)
    assert "no live replica" in message and "slots" in message
    assert f"{master.host}:{master.port}" in message
