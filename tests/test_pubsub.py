"""collect_pubsub / iter_pubsub against a real Redis server and a real
cluster (sharded pub/sub); messages are published with redis-py."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

import polars as pl
import pytest

import polars_redis as pr


def when_subscribed(client: Any, channel: str, publish: Callable[[], None]) -> threading.Thread:
    """Run ``publish`` in a thread once ``channel`` has a subscriber."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if dict(client.pubsub_numsub(channel)).get(channel.encode(), 0):
                publish()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_collect_raw_messages(redis_url: str, redis_client: Any) -> None:
    before = datetime.now(timezone.utc)

    def publish() -> None:
        for n in range(5):
            redis_client.publish("news", f"m{n}")
        redis_client.publish("other", "ignored")

    thread = when_subscribed(redis_client, "news", publish)
    df = pr.collect_pubsub(redis_url, "news", max_messages=5, timeout_s=10)
    thread.join()
    assert df.columns == ["channel", "pattern", "_received_at", "payload"]
    assert df["payload"].to_list() == [f"m{n}" for n in range(5)]
    assert df["channel"].to_list() == ["news"] * 5
    assert df["pattern"].null_count() == 5
    assert df.schema["_received_at"] == pl.Datetime("us", "UTC")
    assert df["_received_at"].min() >= before  # type: ignore[operator]


def test_iter_batches_by_size_and_timeout(redis_url: str, redis_client: Any) -> None:
    with pr.iter_pubsub(
        redis_url, ["a", "b"], batch_size=3, batch_timeout_ms=300, max_messages=7
    ) as batches:  # the subscription is live once iter_pubsub returns
        for n in range(7):
            redis_client.publish("a" if n % 2 else "b", str(n))
        sizes = [batch.height for batch in batches]
    assert sizes == [3, 3, 1]


def test_patterns_and_json_payloads(redis_url: str, redis_client: Any) -> None:
    schema = {"user": pl.String, "amount": pl.Float64, "tags": pl.List(pl.String)}
    batches = pr.iter_pubsub(
        redis_url, "orders.*", pattern=True, format="json", schema=schema, timeout_s=5,
        max_messages=2,
    )  # fmt: skip
    redis_client.publish("orders.eu", json.dumps({"user": "ann", "amount": 12.5, "tags": ["x"]}))
    redis_client.publish("orders.us", json.dumps({"user": "bob", "extra": 1}))
    df = pl.concat(list(batches))
    assert df.columns == ["channel", "pattern", "_received_at", "user", "amount", "tags"]
    assert df.select("channel", "pattern", "user", "amount", "tags").to_dicts() == [
        {"channel": "orders.eu", "pattern": "orders.*", "user": "ann", "amount": 12.5,
         "tags": ["x"]},
        {"channel": "orders.us", "pattern": "orders.*", "user": "bob", "amount": None,
         "tags": None},
    ]  # fmt: skip


def test_a_payload_that_is_not_json(redis_url: str, redis_client: Any) -> None:
    schema = {"n": pl.Int64}
    batches = pr.iter_pubsub(redis_url, "c", format="json", schema=schema, timeout_s=5)
    redis_client.publish("c", "not json")
    with pytest.raises(pr.ParseError, match='"c", field `payload`'):
        next(batches)
    lenient = pr.iter_pubsub(
        redis_url, "c", format="json", schema=schema, strict=False, max_messages=2, timeout_s=5
    )
    redis_client.publish("c", "not json")
    redis_client.publish("c", '{"n": 3}')
    df = pl.concat(list(lenient))
    assert df["n"].to_list() == [None, 3]


def test_messages_published_before_subscribing_are_not_seen(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.publish("late", "lost")
    assert pr.collect_pubsub(redis_url, "late", timeout_s=0.2).height == 0


def test_timeout_ends_collection_and_unsubscribes(redis_url: str, redis_client: Any) -> None:
    started = time.monotonic()
    df = pr.collect_pubsub(redis_url, "quiet", timeout_s=0.3, batch_timeout_ms=100)
    assert df.height == 0
    assert 0.3 <= time.monotonic() - started < 3
    time.sleep(0.1)
    assert dict(redis_client.pubsub_numsub("quiet"))[b"quiet"] == 0


def test_binary_payloads(redis_url: str, redis_client: Any) -> None:
    batches = pr.iter_pubsub(redis_url, "bin", format="binary", max_messages=1, timeout_s=5)
    redis_client.publish("bin", b"\xff\x00")
    assert next(batches)["payload"].to_list() == [b"\xff\x00"]


def test_arguments_are_checked(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="max_messages= or timeout_s="):
        pr.collect_pubsub(redis_url, "x")
    with pytest.raises(pr.InvalidInputError, match="needs schema"):
        pr.iter_pubsub(redis_url, "x", format="json")
    with pytest.raises(pr.InvalidInputError, match="format='json'"):
        pr.iter_pubsub(redis_url, "x", schema={"a": pl.Int64})
    with pytest.raises(pr.InvalidInputError, match="format"):
        pr.iter_pubsub(redis_url, "x", format="xml")  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="at least one channel"):
        pr.iter_pubsub(redis_url, [])


def test_sharded_pubsub_on_a_cluster(cluster_url: str, cluster_client: Any) -> None:
    channels = ["orders", "payments", "{orders}.late", "audit"]
    batches = pr.iter_pubsub(cluster_url, channels, max_messages=8, timeout_s=10)
    expected = set()
    for n, channel in enumerate(channels * 2):
        cluster_client.execute_command("SPUBLISH", channel, f"{channel}-{n}")
        expected.add((channel, f"{channel}-{n}"))
    df = pl.concat(list(batches))
    assert set(df.select("channel", "payload").iter_rows()) == expected
    batches.close()
