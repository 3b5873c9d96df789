"""The reusable client (``polars_redis.connect``): its pool reuses
connections across calls on a standalone server and on every node of a
cluster, connections left in a state another call cannot use are not reused,
``close()`` and the context manager, the redacted repr, and credentials as
keywords or from a provider called for every new connection. The server's own
``total_connections_received`` counts the connections opened; ground truth is
written with redis-py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from redis_servers import RedisCluster, RedisServer

import polars_redis as pr
from polars_redis.exceptions import (
    ArgumentTypeError,
    AuthenticationError,
    InvalidInputError,
    RedisConnectionError,
)

SCHEMA = {"n": pl.Int64}


def _seed(client: Any, count: int = 50, prefix: str = "p") -> pl.DataFrame:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"{prefix}:{i}", mapping={"n": i})
    pipe.execute()
    return pl.DataFrame(
        {"_key": [f"{prefix}:{i}" for i in range(count)], "n": list(range(count))},
        schema={"_key": pl.String, "n": pl.Int64},
    ).sort("_key")


def _opened(*servers: Any) -> int:
    """Connections the servers accepted so far (every node of a cluster)."""
    return sum(int(s.client().info("stats")["total_connections_received"]) for s in servers)


def _kill_others(redis_client: Any, *kill: str) -> None:
    """`CLIENT KILL *kill`, then wait until the server has closed them (it
    closes killed clients after replying), so their close is on its way to
    the pooled connections before the next call takes one."""
    redis_client.execute_command("CLIENT", "KILL", *kill)
    deadline = time.monotonic() + 5
    while len(redis_client.client_list()) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)


def _read(target: str | pr.Client, **options: Any) -> pl.DataFrame:
    return pr.read_hashes(target, "p:*", SCHEMA, **options).sort("_key")


def test_client_reuses_its_connections(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    expected = _seed(redis_client)
    keys = [f"p:{i}" for i in range(10)]

    def both_reads(client: pr.Client) -> None:
        assert_frame_equal(_read(client), expected)
        got = pr.read_hashes(client, keys=keys, schema=SCHEMA).sort("_key")
        assert_frame_equal(got, expected.filter(pl.col("_key").is_in(keys)))

    with pr.connect(redis_url) as client:
        for _ in range(3):  # the pool grows to what the calls use at once
            both_reads(client)
        assert client.idle_connections >= 1
        before = _opened(redis_server)
        for _ in range(10):
            both_reads(client)
        # redis-py's own INFO connection is the only new one.
        assert _opened(redis_server) - before == 1
    # A URL opens new connections every call.
    before = _opened(redis_server)
    _read(redis_url)
    _read(redis_url)
    assert _opened(redis_server) - before >= 3


def _exercise(client: pr.Client, redis_client: Any) -> None:
    """Write, read (eager, lazy, batches), infer, keys and cache calls through
    `client`, each checked against what redis-py sees."""
    df = pl.DataFrame({"id": [1, 2, 3], "n": [10, 20, 30]})
    result = pr.write_hashes(df, client, key_column="id", key_prefix="w:")
    assert result.written == 3
    assert {k.decode() for k in redis_client.keys("w:*")} == {"w:1", "w:2", "w:3"}
    assert redis_client.hget("w:2", "n") == b"20"
    lazy = pr.scan_hashes(client, "w:*", {"n": pl.Int64}).filter(pl.col("n") > 15)
    assert sorted(lazy.collect()["n"].to_list()) == [20, 30]
    assert sum(b["n"].sum() for b in pr.iter_hashes(client, "w:*", {"n": pl.Int64})) == 60
    assert pr.infer_hash_schema(client, "w:*")["n"] == pl.Int64
    assert pr.exists_keys(client, ["w:1", "w:9"])["exists"].to_list() == [True, False]
    assert pr.delete_keys(client, keys=["w:1"]).deleted == 1
    assert redis_client.exists("w:1") == 0
    assert pr.cache_dataframe(df, client, "cached:1") > 0
    assert_frame_equal(pr.get_cached_dataframe(client, "cached:1"), df)


def test_every_kind_of_call_takes_a_client(redis_url: str, redis_client: Any) -> None:
    with pr.connect(redis_url) as client:
        _exercise(client, redis_client)


def test_every_kind_of_call_with_a_credential_provider(
    redis_url: str, redis_client: Any, acl_user: dict[str, str]
) -> None:
    calls = []

    def provider() -> tuple[str, str]:
        calls.append(1)
        return "rotating", acl_user["current"]

    with pr.connect(redis_url, credential_provider=provider) as client:
        _exercise(client, redis_client)
    assert calls


def test_subscribed_connections_are_not_reused(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    expected = _seed(redis_client)
    with pr.connect(redis_url) as client:
        assert_frame_equal(_read(client), expected)

        def publish() -> None:
            redis_client.publish("news", "hello")

        timer = threading.Timer(0.3, publish)
        timer.start()
        got = pr.collect_pubsub(client, ["news"], max_messages=1, timeout_s=5)
        timer.join()
        assert got["payload"].to_list() == ["hello"]
        # The subscribed connection was closed, not handed to the next call.
        for _ in range(3):
            assert_frame_equal(_read(client), expected)
        clients = redis_client.client_list()
        assert not any(int(c["sub"]) for c in clients)


def test_a_scan_stopped_half_way_leaves_no_reply_behind(redis_url: str, redis_client: Any) -> None:
    expected = _seed(redis_client, 3000)
    with pr.connect(redis_url) as client:
        for _ in range(5):
            stream = pr.iter_hashes(client, "p:*", SCHEMA, batch_size=10, parallelism=4)
            first = next(stream)
            assert first.height > 0
            stream.close()
            head = pr.scan_hashes(client, "p:*", SCHEMA, batch_size=10).head(7).collect()
            assert head.height == 7
            # Connections reused after an early stop answer the new call's
            # commands, not the old call's.
            assert_frame_equal(_read(client, batch_size=100), expected)


def test_one_client_shared_by_threads(redis_url: str, redis_client: Any) -> None:
    expected = _seed(redis_client, 500)
    errors: list[BaseException] = []

    def work(client: pr.Client) -> None:
        try:
            for i in range(20):
                keys = [f"p:{(i * 7 + j) % 500}" for j in range(25)]
                got = pr.read_hashes(client, keys=keys, schema=SCHEMA)
                want = expected.filter(pl.col("_key").is_in(keys))
                assert_frame_equal(got.sort("_key"), want)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with pr.connect(redis_url) as client:
        threads = [threading.Thread(target=work, args=(client,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors[0]


def test_connections_the_server_closed_are_replaced(
    redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    expected = _seed(redis_client)
    with pr.connect(redis_url) as client:
        assert_frame_equal(_read(client), expected)
        assert client.idle_connections >= 1
        _kill_others(redis_client, "TYPE", "normal", "SKIPME", "yes")
        assert_frame_equal(_read(client, retries=0), expected)


def test_client_on_a_cluster_pools_per_node(
    redis_cluster: RedisCluster, cluster_url: str, cluster_client: Any
) -> None:
    expected = _seed(cluster_client, 200)
    with pr.connect(cluster_url) as client:
        assert_frame_equal(_read(client), expected)
        assert client.idle_connections >= len(list(redis_cluster))
        before = _opened(*redis_cluster)
        for _ in range(3):
            assert_frame_equal(_read(client), expected)
        # Only redis-py's INFO connections are new.
        assert _opened(*redis_cluster) - before <= 2 * len(list(redis_cluster))


def test_close_context_manager_and_repr(redis_url: str, redis_client: Any) -> None:
    expected = _seed(redis_client)
    host = redis_url.split("://", 1)[1]
    client = pr.connect(f"redis://:hunter2@{host}")
    assert "hunter2" not in repr(client)
    assert repr(client) == f"Client('redis://***@{host}')"
    assert client.url == f"redis://***@{host}"
    client.close()
    assert client.closed
    assert repr(client).endswith(", closed)")
    with pytest.raises(RedisConnectionError, match="client was closed"):
        _read(client)
    with pr.connect(redis_url) as client:
        assert_frame_equal(_read(client), expected)
    assert client.closed
    with pytest.raises(RedisConnectionError, match="client was closed"):
        _read(client)


def test_bad_arguments(redis_url: str) -> None:
    with pytest.raises(ArgumentTypeError, match="url"):
        pr.read_hashes(6379, "p:*", SCHEMA)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="username needs a password"):
        pr.connect(redis_url, username="alice")
    with pytest.raises(InvalidInputError, match="not both"):
        pr.connect(redis_url, password="x", credential_provider=lambda: (None, "x"))
    with pytest.raises(ArgumentTypeError, match="credential_provider"):
        pr.connect(redis_url, credential_provider="token")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="max_idle_per_node"):
        pr.connect(redis_url, max_idle_per_node=0)
    with pytest.raises(InvalidInputError, match="unknown option `pasword`"):
        pr.connect(redis_url + "?pasword=x")


@pytest.fixture
def acl_user(redis_server: RedisServer, redis_client: Any) -> Iterator[dict[str, str]]:
    password = {"current": "first-secret"}
    redis_client.execute_command("ACL", "SETUSER", "rotating", "on", ">first-secret", "~*", "+@all")
    try:
        yield password
    finally:
        redis_client.execute_command("ACL", "DELUSER", "rotating")


def test_username_and_password_keywords(
    redis_url: str, redis_client: Any, acl_user: dict[str, str]
) -> None:
    expected = _seed(redis_client)
    with pr.connect(redis_url, username="rotating", password="first-secret") as client:
        assert_frame_equal(_read(client), expected)
    wrong = pr.connect(redis_url, username="rotating", password="wrong-secret")
    with wrong, pytest.raises(AuthenticationError, match="rotating") as caught:
        _read(wrong)
    assert "wrong-secret" not in str(caught.value)


def test_credential_provider_is_asked_for_every_new_connection(
    redis_server: RedisServer, redis_url: str, redis_client: Any, acl_user: dict[str, str]
) -> None:
    expected = _seed(redis_client)
    calls: list[str] = []

    def provider() -> tuple[str, str]:
        calls.append(acl_user["current"])
        return "rotating", acl_user["current"]

    with pr.connect(redis_url, credential_provider=provider) as client:
        before = _opened(redis_server)
        assert_frame_equal(_read(client, parallelism=3), expected)
        opened = _opened(redis_server) - before - 1  # minus redis-py's INFO
        assert len(calls) == opened >= 1
        # Pooled connections are reused without asking again.
        asked = len(calls)
        assert_frame_equal(_read(client), expected)
        assert len(calls) == asked
        # The token rotates; the server drops the old sessions; new
        # connections authenticate with the new token.
        acl_user["current"] = "second-secret"
        redis_client.execute_command("ACL", "SETUSER", "rotating", "resetpass", ">second-secret")
        _kill_others(redis_client, "USER", "rotating")
        assert_frame_equal(_read(client), expected)
        assert calls[-1] == "second-secret"


def test_credential_provider_failures_are_typed_and_hide_what_it_gave(
    redis_url: str, redis_client: Any
) -> None:
    def raising() -> tuple[str, str]:
        raise ValueError("token service down, last token tok-123")

    client = pr.connect(redis_url, credential_provider=raising)
    with client, pytest.raises(AuthenticationError, match="raised ValueError") as caught:
        _read(client)
    assert "tok-123" not in str(caught.value)

    for returned in ["tok-456", ("user", 789), ("a", "b", "tok-456")]:
        client = pr.connect(redis_url, credential_provider=lambda r=returned: r)
        with client, pytest.raises(AuthenticationError, match="must return a tuple") as caught:
            _read(client)
        assert "tok-456" not in str(caught.value)
        assert "789" not in str(caught.value)
