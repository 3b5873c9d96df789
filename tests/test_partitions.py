"""partition_scan: small picklable partitions whose union is the whole scan,
on a standalone server and a 3-master cluster, including a slot moved
between planning and reading."""

from __future__ import annotations

import pickle
from collections import Counter
from typing import Any

import polars as pl
import pytest
from distributed_helpers import SCHEMA, Unpicklable, seed_orders
from redis.crc import key_slot
from redis_servers import RedisCluster, RedisServer
from test_cluster import _assign, _migrate, _owner, _start_migration

import polars_redis as pr

N = 3_000


def _union(parts: list[pr.ScanPartition]) -> pl.DataFrame:
    return pl.concat([p.read() for p in parts])


def _assert_exact(df: pl.DataFrame, rows: dict[str, tuple[int, str]]) -> None:
    counts = Counter(df["_key"].to_list())
    assert set(counts) == set(rows)
    assert max(counts.values()) == 1, "a key was read twice"
    assert df["amount"].sum() == sum(a for a, _ in rows.values())
    assert dict(zip(df["_key"], df["city"])) == {k: c for k, (_, c) in rows.items()}


@pytest.fixture
def orders(redis_client: Any) -> dict[str, tuple[int, str]]:
    return seed_orders(redis_client, N)


@pytest.fixture
def cluster_orders(cluster_client: Any) -> dict[str, tuple[int, str]]:
    return seed_orders(cluster_client, N)


# --------------------------------------------------------------------------
# standalone
# --------------------------------------------------------------------------


@pytest.mark.parametrize("partitions", [None, 1, 5, 64])
def test_standalone_union_is_the_scan(
    redis_url: str, orders: dict[str, tuple[int, str]], partitions: int | None
) -> None:
    parts = pr.partition_scan("hashes", redis_url, "order:*", SCHEMA, partitions=partitions)
    assert len(parts) == (partitions or 1)
    # The slot ranges divide the 16384 slots between them.
    covered = sorted(s for p in parts for a, b in p.slots for s in range(a, b + 1))
    assert covered == list(range(16384))
    df = _union(parts)
    _assert_exact(df, orders)
    assert df.sort("_key").equals(pr.read_hashes(redis_url, "order:*", SCHEMA).sort("_key"))


def test_partitions_are_small_picklable_and_keep_secrets(
    redis_server: RedisServer, orders: dict[str, tuple[int, str]]
) -> None:
    redis_server.execute("CONFIG", "SET", "requirepass", "s3cret-pw")
    try:
        url = f"redis://:s3cret-pw@{redis_server.host}:{redis_server.port}"
        parts = pr.partition_scan("hashes", url, "order:*", SCHEMA, partitions=8)
        for part in parts:
            assert "s3cret-pw" not in repr(part)
            assert f"{redis_server.port}" in repr(part) and "order:*" in repr(part)
            data = pickle.dumps(part)
            assert len(data) < 2_000
        # Unpickled partitions read on their own (a fresh connection each).
        copies = [pickle.loads(pickle.dumps(p)) for p in parts]
        _assert_exact(_union(copies), orders)
    finally:
        pr_client = redis_server.client(password="s3cret-pw")
        pr_client.config_set("requirepass", "")
        pr_client.close()


def test_iter_batches_and_scan_pushdown(redis_url: str, orders: dict[str, tuple[int, str]]) -> None:
    parts = pr.partition_scan("hashes", redis_url, "order:*", SCHEMA, partitions=3, batch_size=250)
    batches = [b for p in parts for b in p.iter_batches()]
    assert max(b.height for b in batches) <= 250
    _assert_exact(pl.concat(batches), orders)
    # Same pushdown as scan_*: a key filter turns into direct lookups, a
    # projection and a predicate apply per partition.
    wanted = ["order:1", "order:2", "order:500"]
    picked = pl.concat(
        p.scan().filter(pl.col("_key").is_in(wanted)).select("_key", "amount").collect()
        for p in parts
    )
    assert sorted(picked["_key"]) == sorted(wanted)
    assert picked.columns == ["_key", "amount"]
    ams = sum(p.scan().filter(pl.col("city") == "ams").collect().height for p in parts)
    assert ams == sum(1 for _, c in orders.values() if c == "ams")


def test_listed_keys_are_shared_by_slot(redis_url: str, orders: dict[str, tuple[int, str]]) -> None:
    keys = [f"order:{i}" for i in range(0, N, 7)] + ["order:0", "missing:1"]
    parts = pr.partition_scan("hashes", redis_url, schema=SCHEMA, keys=keys, partitions=16)
    shared = [k for p in parts for k in (p.keys or ())]
    # Each partition holds only its own keys (the duplicate stays in one).
    assert sorted(shared) == sorted(keys)
    for part in parts:
        assert part.keys
        assert all(any(a <= key_slot(k.encode()) <= b for a, b in part.slots) for k in part.keys)
    df = _union(parts)
    assert sorted(df["_key"]) == sorted(set(keys) - {"missing:1"})


def test_inferred_schema_is_resolved_once(
    redis_url: str, orders: dict[str, tuple[int, str]]
) -> None:
    parts = pr.partition_scan("hashes", redis_url, "order:*", partitions=2)
    assert parts[0].schema == parts[1].schema == {"amount": pl.Int64, "city": pl.String}
    _assert_exact(_union(parts), orders)


def test_other_kinds(redis_client: Any, redis_url: str) -> None:
    members = {f"tags:{i}": {f"t{j}" for j in range(i % 5 + 1)} for i in range(200)}
    for key, tags in members.items():
        redis_client.sadd(key, *tags)
    parts = pr.partition_scan("sets", redis_url, "tags:*", partitions=4)
    df = _union(parts)
    assert df.height == sum(len(t) for t in members.values())
    assert df.group_by("_key").len().height == len(members)


def test_bad_input(redis_url: str) -> None:
    with pytest.raises(pr.PolarsRedisError, match="kind"):
        pr.partition_scan("hashmaps", redis_url)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="schema"):
        pr.partition_scan("sets", redis_url, "x:*", {"a": pl.Int64})
    with pytest.raises(pr.InvalidInputError, match="pattern or keys"):
        pr.partition_scan("hashes", redis_url, "x:*", SCHEMA, keys=["x:1"])
    with pytest.raises(pr.InvalidInputError, match="partitions"):
        pr.partition_scan("hashes", redis_url, "x:*", SCHEMA, partitions=0)
    with pytest.raises(pr.PolarsRedisError, match="batch_sise"):
        pr.partition_scan("hashes", redis_url, "x:*", SCHEMA, batch_sise=10)
    with pytest.raises(pr.InvalidInputError, match="'formats' cannot be pickled"):
        pr.partition_scan("hashes", redis_url, "x:*", SCHEMA, formats=Unpicklable())


# --------------------------------------------------------------------------
# cluster
# --------------------------------------------------------------------------


@pytest.mark.parametrize("partitions", [None, 2, 7])
def test_cluster_partitions_follow_masters(
    redis_cluster: RedisCluster,
    cluster_url: str,
    cluster_orders: dict[str, tuple[int, str]],
    partitions: int | None,
) -> None:
    parts = pr.partition_scan("hashes", cluster_url, "order:*", SCHEMA, partitions=partitions)
    per_master = -(-(partitions or 3) // 3)
    assert len(parts) == 3 * per_master
    nodes = {f"{n.host}:{n.port}" for n in redis_cluster.nodes}
    assert {p.node for p in parts} == nodes
    assert Counter(p.node for p in parts) == {n: per_master for n in nodes}
    # Each partition's slots are served by its node.
    for part in parts:
        for first, last in part.slots:
            owner = redis_cluster.nodes[_owner(redis_cluster, first)]
            assert part.node == f"{owner.host}:{owner.port}"
            assert _owner(redis_cluster, last) == _owner(redis_cluster, first)
    _assert_exact(_union(parts), cluster_orders)


def test_a_slot_moved_after_planning_is_read_on_its_new_owner(
    redis_cluster: RedisCluster,
    cluster_url: str,
    cluster_orders: dict[str, tuple[int, str]],
) -> None:
    parts = pr.partition_scan("hashes", cluster_url, "order:*", SCHEMA)
    slot = key_slot(b"order:0")
    moving = [k for k in cluster_orders if key_slot(k.encode()) == slot]
    owner = _owner(redis_cluster, slot)
    target = (owner + 1) % 3
    planned_on = next(p.node for p in parts if any(a <= slot <= b for a, b in p.slots))
    source = redis_cluster.nodes[owner]
    assert planned_on == f"{source.host}:{source.port}"
    try:
        # Half-way through a migration: the slot's keys are on both nodes.
        _start_migration(redis_cluster, slot, owner, target)
        _migrate(redis_cluster, owner, target, moving[:1])
        _assert_exact(_union(parts), cluster_orders)
        # Migration finished: the slot is served by another master than
        # the one its partition was planned on, and is read there.
        if moving[1:]:
            _migrate(redis_cluster, owner, target, moving[1:])
        _assign(redis_cluster, slot, target)
        _assert_exact(_union(parts), cluster_orders)
    finally:
        for node in redis_cluster.nodes:
            node.client().execute_command("CLUSTER", "SETSLOT", slot, "STABLE")
        if _owner(redis_cluster, slot) != owner:
            _start_migration(redis_cluster, slot, target, owner)
            _migrate(redis_cluster, target, owner, moving)
            _assign(redis_cluster, slot, owner)


def test_a_slot_moving_during_a_partition_read_is_never_a_silent_gap(
    redis_cluster: RedisCluster,
    cluster_url: str,
    cluster_orders: dict[str, tuple[int, str]],
) -> None:
    """A layout that changes while a partition lists its keys fails the
    partition (ClusterError), never a partial result."""
    # Small batches, one fetch pipeline: the key listing is held back by
    # the consumer, so it is still running when the layout changes.
    parts = pr.partition_scan(
        "hashes", cluster_url, "order:*", SCHEMA, batch_size=10, count_hint=10, parallelism=1
    )
    slot = key_slot(b"order:0")
    owner = _owner(redis_cluster, slot)
    target = (owner + 1) % 3
    part = next(p for p in parts if any(a <= slot <= b for a, b in p.slots))
    stream = part.iter_batches()
    try:
        assert next(stream).height == 10
        _start_migration(redis_cluster, slot, owner, target)
        with pytest.raises(pr.ClusterError, match="retry"):
            list(stream)
    finally:
        stream.close()
        for node in redis_cluster.nodes:
            node.client().execute_command("CLUSTER", "SETSLOT", slot, "STABLE")
