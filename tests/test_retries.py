"""Reads ride through faults: dropped connections mid-scan and a server
restart between the batches of ``iter_*`` (``retries=``).

Ground truth is written with redis-py; every key must come back exactly once.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from fault_servers import RestartingProxy, twin_client, twin_server  # noqa: F401
from redis_servers import RedisServer
from tcp_proxy import Proxy

import polars_redis
from polars_redis import InvalidInputError, RedisConnectionError

SCHEMA = {"n": pl.Int64}


def load(*clients: Any, count: int) -> pl.DataFrame:
    for client in clients:
        pipe = client.pipeline(transaction=False)
        for i in range(count):
            pipe.hset(f"r:{i}", mapping={"n": i})
        pipe.execute()
    keys = [f"r:{i}" for i in range(count)]
    return pl.DataFrame({"_key": keys, "n": list(range(count))}).sort("_key")


def test_a_scan_rides_through_connections_reset_mid_scan(
    redis_server: RedisServer, redis_client: Any
) -> None:
    expected = load(redis_client, count=5000)
    # The first three connections (the SCAN's and two fetchers') are reset
    # after 20 kB of replies, in the middle of the walk and of a pipeline.
    with Proxy(redis_server.port, cut_after=20_000, cut_connections=3) as proxy:
        df = polars_redis.read_hashes(proxy.url, "r:*", SCHEMA, batch_size=200, count_hint=200)
        assert proxy.cuts >= 2
    assert df.sort("_key").equals(expected)


def test_without_retries_a_reset_fails_the_read(
    redis_server: RedisServer, redis_client: Any
) -> None:
    load(redis_client, count=5000)
    proxy = Proxy(redis_server.port, cut_after=20_000, cut_connections=3)
    with proxy, pytest.raises(RedisConnectionError):
        polars_redis.read_hashes(proxy.url, "r:*", SCHEMA, batch_size=200, retries=0)


@pytest.mark.parametrize("parallelism", [1, 3])
def test_iter_survives_a_restart_between_batches(
    redis_server: RedisServer,
    redis_client: Any,
    twin_server: RedisServer,  # noqa: F811
    twin_client: Any,  # noqa: F811
    parallelism: int,
) -> None:
    expected = load(redis_client, twin_client, count=20_000)
    with RestartingProxy(redis_server.port) as proxy:
        batches = polars_redis.iter_hashes(
            proxy.url, "r:*", SCHEMA, batch_size=100, count_hint=100, parallelism=parallelism
        )
        first = next(batches)
        proxy.restart_as(twin_server.port)
        rest = list(batches)
    df = pl.concat([first, *rest])
    assert df["_key"].is_duplicated().sum() == 0
    assert df.sort("_key").equals(expected)


@pytest.mark.parametrize("retries", [-1, 101])
def test_retries_out_of_range_are_refused(redis_url: str, retries: int) -> None:
    with pytest.raises(InvalidInputError, match="retries must be between 0 and 100"):
        polars_redis.read_hashes(redis_url, "r:*", SCHEMA, retries=retries)
