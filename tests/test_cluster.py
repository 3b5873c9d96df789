"""Redis Cluster: every master is scanned, every key is read from (and
written to) the node that holds it, and a cluster whose slots move during a
read raises ClusterError instead of returning part of the data.

Ground truth is written and read back with redis-py's cluster client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
import redis
from redis.crc import key_slot
from redis_servers import RedisCluster, RedisServer

import polars_redis as pr

N = 600


def _per_node_counts(cluster: RedisCluster) -> list[int]:
    return [node.client().dbsize() for node in cluster.nodes]


@pytest.fixture
def users(cluster_client: Any, redis_cluster: RedisCluster) -> dict[str, dict[str, str]]:
    rows = {f"user:{i}": {"name": f"n{i}", "age": str(i % 90)} for i in range(N)}
    for key, mapping in rows.items():
        cluster_client.hset(key, mapping=mapping)
    cluster_client.set("user:not-a-hash", "x")
    # The keys really are spread over every master.
    assert all(count > N // 10 for count in _per_node_counts(redis_cluster))
    return rows


def test_read_hashes_reads_every_master(cluster_url: str, users: dict[str, Any]) -> None:
    df = pr.read_hashes(
        cluster_url, "user:*", {"name": pl.String, "age": pl.Int64}, include_ttl=True
    )
    truth = pl.DataFrame(
        {
            "_key": list(users),
            "name": [row["name"] for row in users.values()],
            "age": [int(row["age"]) for row in users.values()],
        }
    )
    assert df.height == N
    assert df["_key"].n_unique() == N
    assert df.drop("_ttl").sort("_key").equals(truth.sort("_key"))
    assert df["_ttl"].null_count() == N


def test_listed_keys_are_routed_to_their_nodes(cluster_url: str, users: dict[str, Any]) -> None:
    wanted = [f"user:{i}" for i in range(0, N, 7)] + ["user:missing"]
    df = pr.read_hashes(cluster_url, keys=wanted, schema={"age": pl.Int64})
    assert sorted(df["_key"]) == sorted(wanted[:-1])
    assert dict(zip(df["_key"], df["age"])) == {k: int(users[k]["age"]) for k in wanted[:-1]}
    with pytest.raises(pr.WrongTypeError, match="user:not-a-hash"):
        pr.read_hashes(cluster_url, keys=["user:1", "user:not-a-hash"], schema={"age": pl.Int64})


def test_filters_limits_and_batches(cluster_url: str, users: dict[str, Any]) -> None:
    lf = pr.scan_hashes(cluster_url, "user:*", {"age": pl.Int64}, batch_size=50)
    older = lf.filter(pl.col("age") >= 80).collect()
    assert sorted(older["_key"]) == sorted(k for k, r in users.items() if int(r["age"]) >= 80)
    assert lf.head(25).collect().height == 25
    batches = list(pr.iter_hashes(cluster_url, "user:*", {"age": pl.Int64}, batch_size=64))
    assert sum(b.height for b in batches) == N
    assert max(b.height for b in batches) <= 64


def test_strings_use_single_slot_commands(cluster_url: str, cluster_client: Any) -> None:
    values = {f"s:{i}": str(i * 3) for i in range(N)}
    for key, value in values.items():
        cluster_client.set(key, value)
    cluster_client.hset("s:hash", "f", "v")
    df = pr.read_strings(cluster_url, "s:*", value_type=pl.Int64)
    assert dict(zip(df["_key"], df["value"])) == {k: int(v) for k, v in values.items()}
    listed = pr.read_strings(cluster_url, keys=["s:1", "s:missing", "s:2"])
    assert sorted(listed["_key"]) == ["s:1", "s:2"]
    with pytest.raises(pr.WrongTypeError, match="s:hash"):
        pr.read_strings(cluster_url, keys=["s:1", "s:hash"])


def test_collections(cluster_url: str, cluster_client: Any) -> None:
    for i in range(60):
        cluster_client.sadd(f"set:{i}", *[f"m{j}" for j in range(i % 5 + 1)])
        cluster_client.rpush(f"list:{i}", *[str(j) for j in range(i % 4 + 1)])
        cluster_client.zadd(f"z:{i}", {f"m{j}": j / 2 for j in range(i % 3 + 1)})
        cluster_client.xadd(f"st:{i}", {"v": str(i)}, id=f"{1000 + i}-0")
    sets = pr.read_sets(cluster_url, "set:*")
    assert sets.height == sum(i % 5 + 1 for i in range(60))
    assert set(sets.filter(pl.col("_key") == "set:4")["member"]) == {f"m{j}" for j in range(5)}
    lists = pr.read_lists(cluster_url, "list:*", include_position=True)
    assert lists.height == sum(i % 4 + 1 for i in range(60))
    assert lists.filter(pl.col("_key") == "list:3").sort("position")["element"].to_list() == [
        "0",
        "1",
        "2",
        "3",
    ]
    zsets = pr.read_zsets(cluster_url, "z:*")
    assert zsets.height == sum(i % 3 + 1 for i in range(60))
    streams = pr.read_streams(cluster_url, "st:*", {"v": pl.Int64})
    assert sorted(streams["v"]) == list(range(60))
    assert set(streams["_key"]) == {f"st:{i}" for i in range(60)}


def test_schema_inference_samples_every_master(cluster_url: str, users: dict[str, Any]) -> None:
    schema = pr.infer_hash_schema(cluster_url, "user:*", sample_size=N)
    assert schema.keys_seen == N
    assert schema.sample_count == N
    assert dict(schema) == {"age": pl.Int64, "name": pl.String}


def test_json_and_timeseries_on_a_stack_cluster(
    stack_cluster_url: str, stack_cluster_client: Any
) -> None:
    client = stack_cluster_client
    for i in range(200):
        client.json().set(f"doc:{i}", "$", {"id": i, "tags": ["a", str(i % 3)]})
    for i in range(30):
        key = f"ts:{i}"
        client.ts().create(key, labels={"kind": "temp" if i % 2 else "hum"})
        for t in range(5):
            client.ts().add(key, 1000 + t, float(i * 10 + t))
    docs = pr.read_json(stack_cluster_url, "doc:*", {"id": pl.Int64, "tags": pl.List(pl.String)})
    assert sorted(docs["id"]) == list(range(200))
    assert docs.filter(pl.col("id") == 4)["tags"].to_list() == [["a", "1"]]
    series = pr.read_timeseries(stack_cluster_url, "ts:*")
    assert series.height == 150
    # A label filter is asked of every master (each indexes its own series).
    temp = pr.read_timeseries(stack_cluster_url, filter="kind=temp")
    assert set(temp["_key"]) == {f"ts:{i}" for i in range(1, 30, 2)}
    assert temp.height == 75


def test_writes_go_to_the_master_of_each_slot(
    cluster_url: str, cluster_client: Any, redis_cluster: RedisCluster
) -> None:
    df = pl.DataFrame({"_key": [f"w:{i}" for i in range(N)], "n": range(N), "s": ["x"] * N})
    result = pr.write_hashes(df, cluster_url, ttl=600, batch_size=50)
    assert (result.written, result.keys_written, result.failed, result.unknown) == (N, N, 0, 0)
    assert all(count > N // 10 for count in _per_node_counts(redis_cluster))
    assert cluster_client.hgetall("w:17") == {b"n": b"17", b"s": b"x"}
    assert 0 < cluster_client.ttl("w:599") <= 600
    # Conflict modes see every master's keys.
    more = pl.DataFrame({"_key": ["w:1", "w:new"], "n": [-1, -2], "s": ["y", "y"]})
    skipped = pr.write_hashes(more, cluster_url, if_exists="skip")
    assert (skipped.written, skipped.skipped) == (1, 1)
    assert cluster_client.hget("w:1", "n") == b"1"
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(
            more.with_columns(_key=pl.Series(["w:2", "w:new2"])), cluster_url, if_exists="fail"
        )
    assert [f.key for f in raised.value.result.failures] == ["w:2"]
    assert cluster_client.exists("w:new2") == 0
    # And every value reads back through the cluster scan.
    back = pr.read_hashes(cluster_url, "w:*", {"n": pl.Int64, "s": pl.String})
    assert back.height == N + 1
    assert back.filter(pl.col("_key") == "w:new")["n"].to_list() == [-2]


def test_writes_of_other_types(cluster_url: str, cluster_client: Any) -> None:
    keys = [f"ws:{i}" for i in range(200)]
    pr.write_strings(pl.DataFrame({"_key": keys, "value": range(200)}), cluster_url)
    assert [cluster_client.get(k) for k in keys[:3]] == [b"0", b"1", b"2"]
    members = pl.DataFrame({"_key": ["set:a", "set:a", "set:b"], "member": ["x", "y", "z"]})
    pr.write_sets(members, cluster_url)
    assert cluster_client.smembers("set:a") == {b"x", b"y"}
    assert cluster_client.smembers("set:b") == {b"z"}
    back = pr.read_strings(cluster_url, "ws:*", value_type=pl.Int64)
    assert sorted(back["value"]) == list(range(200))


def test_json_writes_on_a_stack_cluster(stack_cluster_url: str, stack_cluster_client: Any) -> None:
    df = pl.DataFrame({"_key": [f"jd:{i}" for i in range(100)], "id": range(100)})
    assert pr.write_json(df, stack_cluster_url).written == 100
    assert stack_cluster_client.json().get("jd:42") == {"id": 42}


def test_search_needs_a_coordinator(cluster_url: str) -> None:
    with pytest.raises(pr.SearchError, match="without a search coordinator"):
        pr.read_hashes(cluster_url, "d:*", {"n": pl.Int64}, index="idx")
    # "auto" scans the masters instead.
    assert pr.read_hashes(cluster_url, "d:*", {"n": pl.Int64}, index="auto").height == 0


# --------------------------------------------------------------------------
# the slot layout changing under a read
# --------------------------------------------------------------------------


def _node_ids(cluster: RedisCluster) -> list[str]:
    return [node.client().execute_command("CLUSTER", "MYID").decode() for node in cluster.nodes]


def _slot_owners(cluster: RedisCluster, node: int = 0) -> list[tuple[int, int, int]]:
    """(first, last, owner's index in ``cluster.nodes``) as node ``node`` sees them."""
    index = {n.port: i for i, n in enumerate(cluster.nodes)}
    reply = cluster.nodes[node].client().execute_command("CLUSTER", "SLOTS")
    return sorted(
        (int(first), int(last), index[int(master[1])]) for first, last, master, *_ in reply
    )


def _owner(cluster: RedisCluster, slot: int) -> int:
    return next(owner for first, last, owner in _slot_owners(cluster) if first <= slot <= last)


def _empty_slot(client: Any) -> int:
    for slot in range(16384):
        if client.cluster_countkeysinslot(slot) == 0:
            return slot
    raise AssertionError("no empty slot")


def _assign(cluster: RedisCluster, slot: int, owner: int) -> None:
    """Hand a slot (whose keys, if any, are already on ``owner``) to node
    ``owner`` the way ``redis-cli`` finishes a migration, and wait until
    every node agrees. The new owner imports the slot before taking it, so
    it bumps its config epoch and its claim wins over the old owner's."""
    ids = _node_ids(cluster)
    current = _owner(cluster, slot)
    new = cluster.nodes[owner].client()
    if current != owner:
        new.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[current])
    new.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[owner])
    for i, node in enumerate(cluster.nodes):
        if i != owner:
            node.client().execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[owner])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        views = {tuple(_slot_owners(cluster, i)) for i in range(len(cluster.nodes))}
        if len(views) == 1 and _owner(cluster, slot) == owner:
            return
        time.sleep(0.05)
    raise AssertionError("the nodes did not agree on the slot layout")


@pytest.fixture
def spare_slot(redis_cluster: RedisCluster, users: dict[str, Any]) -> Iterator[tuple[int, int]]:
    """An empty slot and its owner; the layout is restored afterwards."""
    client = redis_cluster.client()
    slot = _empty_slot(client)
    client.close()
    owner = _owner(redis_cluster, slot)
    try:
        yield slot, owner
    finally:
        for node in redis_cluster.nodes:
            node.flushall()  # keys a test put in the slot elsewhere
            node.client().execute_command("CLUSTER", "SETSLOT", slot, "STABLE")
        _assign(redis_cluster, slot, owner)


def _start_migration(cluster: RedisCluster, slot: int, source: int, target: int) -> None:
    """``CLUSTER SETSLOT`` importing, then migrating, as ``redis-cli --cluster reshard`` does."""
    ids = _node_ids(cluster)
    cluster.nodes[target].client().execute_command(
        "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source]
    )
    cluster.nodes[source].client().execute_command(
        "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target]
    )


def _migrate(cluster: RedisCluster, source: int, target: int, keys: list[str]) -> None:
    to = cluster.nodes[target]
    cluster.nodes[source].client().execute_command(
        "MIGRATE", to.host, to.port, "", 0, 5000, "KEYS", *keys
    )


def test_a_migrating_slot_is_read_on_both_nodes(
    cluster_url: str,
    cluster_client: Any,
    redis_cluster: RedisCluster,
    users: dict[str, Any],
    spare_slot: tuple[int, int],
) -> None:
    slot, owner = spare_slot
    target = (owner + 1) % len(redis_cluster.nodes)
    moving = _keys_in_slot(slot, 7)
    for i, key in enumerate(moving[:6]):
        cluster_client.hset(key, "age", 100 + i)
    cluster_client.set(moving[6], "a string")
    _start_migration(redis_cluster, slot, owner, target)
    _migrate(redis_cluster, owner, target, moving[:3])  # half-way through
    ages = {key: int(row["age"]) for key, row in users.items()}
    ages |= {key: 100 + i for i, key in enumerate(moving[:6])}

    df = pr.read_hashes(cluster_url, "*", {"age": pl.Int64})
    assert df.height == len(ages)
    assert dict(zip(df["_key"], df["age"])) == ages
    listed = pr.read_hashes(cluster_url, keys=moving[:6], schema={"age": pl.Int64})
    assert sorted(listed["_key"]) == sorted(moving[:6])
    strings = pr.read_strings(cluster_url, "moving:*")
    assert strings.rows() == [(moving[6], "a string")]
    # Inference works too (it leaves the keys of the migrating slot out).
    assert dict(pr.infer_hash_schema(cluster_url, "*")) == {"age": pl.Int64, "name": pl.String}


def test_a_redirect_fails_a_read_of_listed_keys(
    cluster_url: str,
    cluster_client: Any,
    redis_cluster: RedisCluster,
    spare_slot: tuple[int, int],
) -> None:
    slot, owner = spare_slot
    target = (owner + 1) % len(redis_cluster.nodes)
    moving = _keys_in_slot(slot, 3)
    keys = [f"user:extra:{i}" for i in range(5000)] + moving
    _hset_ages(cluster_client, keys)
    batches = pr.iter_hashes(cluster_url, keys=keys, schema={"age": pl.Int64}, batch_size=10)
    next(batches)
    # The last keys move to another master before they are read.
    _start_migration(redis_cluster, slot, owner, target)
    _migrate(redis_cluster, owner, target, moving)
    _assign(redis_cluster, slot, target)
    with pytest.raises(pr.ClusterError, match=r"was redirected \(`MOVED "):
        for _ in batches:
            pass


def test_a_migration_may_finish_during_the_read(
    cluster_url: str,
    cluster_client: Any,
    redis_cluster: RedisCluster,
    spare_slot: tuple[int, int],
) -> None:
    slot, owner = spare_slot
    target = (owner + 1) % len(redis_cluster.nodes)
    moving = _keys_in_slot(slot, 4)
    _hset_ages(cluster_client, [f"user:extra:{i}" for i in range(5000)] + moving)
    _start_migration(redis_cluster, slot, owner, target)
    batches = pr.iter_hashes(cluster_url, "*", {"age": pl.Int64}, batch_size=10)
    keys = list(next(batches)["_key"])
    # The read is under way; the migration completes.
    _migrate(redis_cluster, owner, target, moving)
    _assign(redis_cluster, slot, target)
    for batch in batches:
        keys.extend(batch["_key"])
    assert len(keys) == len(set(keys)) == N + 5000 + len(moving)  # every hash, once
    assert set(moving) <= set(keys)


def test_a_slot_moved_during_the_read_fails_it(
    cluster_url: str, cluster_client: Any, redis_cluster: RedisCluster, spare_slot: tuple[int, int]
) -> None:
    slot, owner = spare_slot
    # Enough keys that the listing is still held back by unread batches.
    _hset_ages(cluster_client, [f"user:extra:{i}" for i in range(5000)])
    batches = pr.iter_hashes(cluster_url, "user:*", {"age": pl.Int64}, batch_size=10)
    first = next(batches)
    assert first.height == 10
    # The read is under way (held back by the unread batches); move a slot.
    _assign(redis_cluster, slot, (owner + 1) % len(redis_cluster.nodes))
    with pytest.raises(pr.ClusterError, match="slot layout changed"):
        for _ in batches:
            pass


def _hset_ages(client: Any, keys: list[str]) -> None:
    """Hashes ``{age: position}`` for ``keys``, in one cluster pipeline."""
    pipe = client.pipeline()
    for i, key in enumerate(keys):
        pipe.hset(key, "age", i)
    pipe.execute()


def _keys_in_slot(slot: int, count: int) -> list[str]:
    keys = (f"moving:{i}" for i in range(10_000_000))
    return [key for key in keys if key_slot(key.encode()) == slot][:count]


def _hgetall_asking(node: RedisServer, key: str) -> dict[bytes, bytes]:
    """HGETALL on a node importing the key's slot (one connection, after ASKING)."""
    client = redis.Redis(host=node.host, port=node.port, single_connection_client=True)
    try:
        client.execute_command("ASKING")
        return client.hgetall(key)
    finally:
        client.close()


def test_writes_follow_ask_into_a_migrating_slot(
    cluster_url: str, redis_cluster: RedisCluster, spare_slot: tuple[int, int]
) -> None:
    slot, owner = spare_slot
    target = (owner + 1) % len(redis_cluster.nodes)
    ids = _node_ids(redis_cluster)
    nodes = redis_cluster.nodes
    nodes[target].client().execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner])
    nodes[owner].client().execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
    moving = _keys_in_slot(slot, 3)
    df = pl.DataFrame({"_key": [*moving, "user:plain"], "n": [1, 2, 3, 4]})
    for mode in ("replace", "skip"):
        result = pr.write_hashes(df, cluster_url, ttl=60, if_exists=mode)
        assert (result.failed, result.unknown) == (0, 0), result.errors
    # The owner no longer has (or never had) the keys, so it answered ASK:
    # new keys of a migrating slot land on the importing node.
    for n, key in enumerate(moving, start=1):
        assert _hgetall_asking(nodes[target], key) == {b"n": str(n).encode()}
        with pytest.raises(redis.exceptions.AskError):  # not on the owner
            nodes[owner].client().exists(key)


def test_writes_follow_moved_when_a_slot_changes_owner_mid_write(
    cluster_url: str, redis_cluster: RedisCluster, spare_slot: tuple[int, int]
) -> None:
    slot, owner = spare_slot
    nodes = redis_cluster.nodes
    target = (owner + 1) % len(nodes)
    # Many small batches, with the keys of the moving slot last.
    moving = _keys_in_slot(slot, 3)
    keys = [f"bulk:{i}" for i in range(30_000)] + moving
    df = pl.DataFrame({"_key": keys, "n": range(len(keys))})
    results: list[pr.WriteResult] = []
    writer = threading.Thread(
        target=lambda: results.append(pr.write_hashes(df, cluster_url, batch_size=5, parallelism=1))
    )
    owner_client = nodes[owner].client()
    owner_client.config_resetstat()
    before = owner_client.dbsize()
    writer.start()
    deadline = time.monotonic() + 30
    while owner_client.dbsize() < before + 200:  # under way, on the old layout
        assert writer.is_alive() and time.monotonic() < deadline, "the write did not start"
        time.sleep(0.001)
    _assign(redis_cluster, slot, target)
    writer.join()
    [result] = results
    assert (result.written, result.failed, result.unknown) == (len(keys), 0, 0)
    # The old owner answered MOVED for them; they were sent to the new one.
    assert owner_client.info("errorstats").get("errorstat_MOVED", {}).get("count", 0) >= 1
    for key in moving:
        assert nodes[target].client().hget(key, "n") == str(keys.index(key)).encode()
