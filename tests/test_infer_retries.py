"""Schema inference rides through dropped connections (``retries=``): the
sample is taken again from the start, and without retries the reset is a
typed error. Ground truth is written with redis-py."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy

import polars_redis
from polars_redis import InvalidInputError, RedisConnectionError


def load(client: Any, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"inf:{i}", mapping={"n": i, "name": f"x{i}", "ok": "true"})
    pipe.execute()


def test_inference_rides_through_a_reset_connection(
    redis_server: RedisServer, redis_client: Any
) -> None:
    load(redis_client, 3000)
    # The first connection is reset after 20 kB of replies: in the middle
    # of the sample's reads.
    with Proxy(redis_server.port, cut_after=20_000, cut_connections=1) as proxy:
        inferred = polars_redis.infer_hash_schema(proxy.url, "inf:*", sample_size=2000)
        assert proxy.cuts == 1
    assert dict(inferred) == {"n": pl.Int64, "name": pl.String, "ok": pl.Boolean}
    assert inferred.sample_count == 2000


def test_without_retries_a_reset_fails_inference(
    redis_server: RedisServer, redis_client: Any
) -> None:
    load(redis_client, 3000)
    proxy = Proxy(redis_server.port, cut_after=20_000, cut_connections=1)
    with proxy, pytest.raises(RedisConnectionError):
        polars_redis.infer_hash_schema(proxy.url, "inf:*", sample_size=2000, retries=0)


def test_a_scan_inferring_its_schema_uses_the_scan_retries(
    redis_server: RedisServer, redis_client: Any
) -> None:
    load(redis_client, 3000)
    proxy = Proxy(redis_server.port, cut_after=20_000, cut_connections=1)
    with proxy, pytest.raises(RedisConnectionError):
        polars_redis.read_hashes(proxy.url, "inf:*", infer_sample_size=2000, retries=0)


@pytest.mark.parametrize("retries", [-1, 101])
def test_inference_retries_out_of_range_are_refused(redis_url: str, retries: int) -> None:
    with pytest.raises(InvalidInputError, match="retries"):
        polars_redis.infer_json_schema(redis_url, "*", retries=retries)
