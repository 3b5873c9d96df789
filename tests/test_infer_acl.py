"""Schema inference under an ACL user that may read only some keys: inference
raises the error a read raises (NOPERM), never a silently smaller sample."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import polars as pl
import pytest
from redis_servers import RedisServer

import polars_redis as pr


@pytest.fixture
def app_only_url(redis_server: RedisServer, redis_client: Any) -> Iterator[str]:
    """A user limited to ``~app:*``, over hashes and streams under ``app:`` and ``other:``."""
    _seed(redis_client)
    redis_client.execute_command(
        "ACL", "SETUSER", "apponly", "reset", "on", ">app-Pa55", "~app:*", "+@read"
    )
    try:
        yield f"redis://apponly:app-Pa55@127.0.0.1:{redis_server.port}"
    finally:
        redis_client.execute_command("ACL", "DELUSER", "apponly")


def _seed(client: Any) -> None:
    for prefix in ("app", "other"):
        for i in range(5):
            client.hset(f"{prefix}:h{i}", mapping={"n": i})
            client.xadd(f"{prefix}:s{i}", {"n": i})


def _raised(call: Callable[[], Any]) -> pr.PolarsRedisError:
    with pytest.raises(pr.PolarsRedisError) as raised:
        call()
    return raised.value


def test_hash_inference_raises_what_a_read_raises(app_only_url: str) -> None:
    read = _raised(lambda: pr.read_hashes(app_only_url, "*", {"n": pl.Int64}))
    assert isinstance(read, pr.RedisServerError) and "NOPERM" in str(read)
    inferred = _raised(lambda: pr.infer_hash_schema(app_only_url, "*"))
    assert type(inferred) is type(read)
    assert "NOPERM" in str(inferred) and "other:h" in str(inferred)
    # schema=None scans infer the same way.
    for call in (
        lambda: pr.scan_hashes(app_only_url, "*"),
        lambda: pr.read_hashes(app_only_url, "*"),
        lambda: pr.iter_hashes(app_only_url, "*"),
    ):
        assert type(_raised(call)) is pr.RedisServerError


def test_inference_of_keys_the_user_may_read_still_works(app_only_url: str) -> None:
    inferred = pr.infer_hash_schema(app_only_url, "app:*")
    assert dict(inferred) == {"n": pl.Int64}
    assert inferred.sample_count == 5
    streams = pr.infer_stream_schema(app_only_url, "app:*")
    assert dict(streams) == {"n": pl.Int64} and streams.sample_count == 5


def test_stream_inference_raises_what_a_read_raises(app_only_url: str) -> None:
    read = _raised(lambda: pr.read_streams(app_only_url, "*", {"n": pl.Int64}))
    assert isinstance(read, pr.RedisServerError) and "NOPERM" in str(read)
    inferred = _raised(lambda: pr.infer_stream_schema(app_only_url, "*"))
    assert type(inferred) is type(read) and "NOPERM" in str(inferred)
    assert type(_raised(lambda: pr.read_streams(app_only_url, "*"))) is pr.RedisServerError


def test_json_inference_raises_what_a_read_raises(
    stack_server: RedisServer, stack_client: Any
) -> None:
    for prefix in ("app", "other"):
        for i in range(5):
            stack_client.json().set(f"{prefix}:j{i}", "$", {"n": i})
    stack_client.execute_command(
        "ACL", "SETUSER", "jsononly", "reset", "on", ">json-Pa55", "~app:*", "+@read", "+json.get"
    )
    try:
        url = f"redis://jsononly:json-Pa55@127.0.0.1:{stack_server.port}"
        read = _raised(lambda: pr.read_json(url, "*", {"n": pl.Int64}))
        assert isinstance(read, pr.RedisServerError) and "NOPERM" in str(read)
        inferred = _raised(lambda: pr.infer_json_schema(url, "*"))
        assert type(inferred) is type(read) and "NOPERM" in str(inferred)
        assert type(_raised(lambda: pr.read_json(url, "*"))) is pr.RedisServerError
        assert dict(pr.infer_json_schema(url, "app:*")) == {"n": pl.Int64}
    finally:
        stack_client.execute_command("ACL", "DELUSER", "jsononly")
