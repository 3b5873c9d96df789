"""The pub/sub option names of polars-redis 0.1.x (``count``, ``timeout_ms``,
``window_seconds``, ``parser``) on collect_pubsub / iter_pubsub, against a
real server; messages are published with redis-py."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import polars as pl
import pytest
from test_pubsub import when_subscribed

import polars_redis as pr


def publish_when_subscribed(client: Any, channel: str, payloads: list[str]) -> threading.Thread:
    """Publish ``payloads`` on ``channel`` from a thread once it has a subscriber."""

    def publish() -> None:
        for payload in payloads:
            client.publish(channel, payload)

    return when_subscribed(client, channel, publish)


def test_count_stops_after_that_many_messages(redis_url: str, redis_client: Any) -> None:
    thread = publish_when_subscribed(redis_client, "al:count", [f"m{n}" for n in range(5)])
    df = pr.collect_pubsub(redis_url, ["al:count"], count=3, timeout_ms=10_000)
    thread.join()
    assert df["payload"].to_list() == ["m0", "m1", "m2"]


def test_iter_pubsub_count_bounds_the_messages(redis_url: str, redis_client: Any) -> None:
    with pr.iter_pubsub(redis_url, "al:iter", count=4, batch_size=3, timeout_ms=10_000) as batches:
        for n in range(6):
            redis_client.publish("al:iter", str(n))
        sizes = [batch.height for batch in batches]
    assert sizes == [3, 1]


@pytest.mark.parametrize(
    ("option", "seconds"), [({"timeout_ms": 300}, 0.3), ({"window_seconds": 0.3}, 0.3)]
)
def test_timeout_ms_and_window_seconds_end_the_collection(
    redis_url: str, option: dict[str, float], seconds: float
) -> None:
    started = time.monotonic()
    df = pr.collect_pubsub(redis_url, "al:quiet", **option)  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert df.height == 0
    assert seconds * 0.9 <= took < seconds + 2


def test_both_timeouts_end_at_the_earlier(redis_url: str) -> None:
    started = time.monotonic()
    pr.collect_pubsub(redis_url, "al:quiet", timeout_ms=200, window_seconds=30)
    assert time.monotonic() - started < 5


def test_parser_makes_the_rows(redis_url: str, redis_client: Any) -> None:
    seen: list[tuple[Any, Any]] = []

    def parser(channel: str, payload: bytes) -> dict[str, Any]:
        seen.append((channel, payload))
        user, amount = payload.split(b"|")
        return {"user": user.decode(), "amount": int(amount)}

    payloads = ["ann|3", "bob|4"]
    thread = publish_when_subscribed(redis_client, "al:parse", payloads)
    df = pr.collect_pubsub(redis_url, "al:parse", parser=parser, count=2, timeout_ms=10_000)
    thread.join()
    assert seen == [("al:parse", b"ann|3"), ("al:parse", b"bob|4")]
    assert df.columns == ["channel", "pattern", "_received_at", "user", "amount"]
    assert df.select("user", "amount").to_dicts() == [
        {"user": "ann", "amount": 3},
        {"user": "bob", "amount": 4},
    ]


def test_parser_with_a_schema_casts_and_fills_missing_fields(
    redis_url: str, redis_client: Any
) -> None:
    def parser(channel: str, payload: bytes) -> dict[str, Any]:
        return json.loads(payload)

    schema = {"amount": pl.Float64, "user": pl.String, "note": pl.String}
    with pr.iter_pubsub(
        redis_url, "al:*", pattern=True, parser=parser, schema=schema, count=2,
        timeout_ms=10_000,
    ) as batches:  # fmt: skip
        redis_client.publish("al:a", json.dumps({"user": "ann", "amount": 2}))
        redis_client.publish("al:b", json.dumps({"user": "bob", "amount": 2.5, "extra": 1}))
        df = pl.concat(list(batches))
    assert df.schema["amount"] == pl.Float64
    assert df.select("channel", "pattern", "amount", "user", "note").to_dicts() == [
        {"channel": "al:a", "pattern": "al:*", "amount": 2.0, "user": "ann", "note": None},
        {"channel": "al:b", "pattern": "al:*", "amount": 2.5, "user": "bob", "note": None},
    ]


def test_parser_with_no_message_gives_the_schema(redis_url: str) -> None:
    df = pr.collect_pubsub(
        redis_url, "al:none", parser=lambda c, p: {}, schema={"n": pl.Int64}, timeout_ms=100
    )
    assert df.schema == pl.Schema(
        {"channel": pl.String, "pattern": pl.String,
         "_received_at": pl.Datetime("us", "UTC"), "n": pl.Int64}
    )  # fmt: skip


def test_parser_errors_reach_the_caller(redis_url: str, redis_client: Any) -> None:
    def parser(channel: str, payload: bytes) -> dict[str, Any]:
        raise ValueError(f"bad payload {payload!r}")

    thread = publish_when_subscribed(redis_client, "al:err", ["x"])
    with pytest.raises(ValueError, match="bad payload"):
        pr.collect_pubsub(redis_url, "al:err", parser=parser, count=1, timeout_ms=10_000)
    thread.join()
    thread = publish_when_subscribed(redis_client, "al:err", ["x"])
    with pytest.raises(pr.InvalidInputError, match="dict"):
        pr.collect_pubsub(redis_url, "al:err", parser=lambda c, p: [1], count=1, timeout_ms=10_000)
    thread.join()


def test_parser_values_that_do_not_convert_raise_parse_error(
    redis_url: str, redis_client: Any
) -> None:
    thread = publish_when_subscribed(redis_client, "al:conv", ["x"])
    with pytest.raises(pr.ParseError, match="n"):
        pr.collect_pubsub(
            redis_url, "al:conv", parser=lambda c, p: {"n": "not a number"},
            schema={"n": pl.Int64}, count=1, timeout_ms=10_000,
        )  # fmt: skip
    thread.join()


CONFLICTS: list[tuple[dict[str, Any], str]] = [
    ({"count": 1, "max_messages": 1}, "count"),
    ({"timeout_ms": 100, "timeout_s": 1.0}, "timeout_ms"),
    ({"window_seconds": 0.1, "timeout_s": 1.0}, "window_seconds"),
    ({"timeout_ms": 100, "window_seconds": 0.1, "timeout_s": 1.0}, "timeout_ms and window_seconds"),
    ({"parser": lambda c, p: {}, "format": "binary", "timeout_s": 0.1}, "parser"),
    ({"parser": lambda c, p: {}, "format": "json", "schema": {"n": pl.Int8}, "count": 1}, "parser"),
]


@pytest.mark.parametrize(("options", "message"), CONFLICTS)
@pytest.mark.parametrize("call", [pr.collect_pubsub, pr.iter_pubsub])
def test_an_alias_with_the_name_it_stands_for_is_refused(
    redis_url: str, call: Callable[..., Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(pr.InvalidInputError, match=message):
        call(redis_url, "al:conflict", **options)


def test_alias_types_are_checked(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="count"):
        pr.collect_pubsub(redis_url, "al:t", count="3", timeout_s=0.1)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="parser"):
        pr.collect_pubsub(redis_url, "al:t", parser="json", timeout_s=0.1)  # type: ignore[arg-type]
