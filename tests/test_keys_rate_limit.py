"""``rate_limit=`` on the key-management functions: their per-key commands
are paced to the rate asked (over all nodes), and the results stay exact.
Only a lower bound on the time is asserted: pacing can make a call slower
than the rate, never faster."""

from __future__ import annotations

import time
from typing import Any

import pytest

import polars_redis as redis

KEYS = [f"rl:{i}" for i in range(400)]


def _load(client: Any) -> None:
    pipe = client.pipeline(transaction=False)
    for key in KEYS:
        pipe.set(key, "v")
    pipe.execute()


@pytest.mark.parametrize("where", ["standalone", "cluster"])
def test_set_ttl_is_paced_and_exact(
    where: str, redis_url: str, redis_client: Any, cluster_url: str, cluster_client: Any
) -> None:
    url, client = (
        (redis_url, redis_client) if where == "standalone" else (cluster_url, cluster_client)
    )
    _load(client)
    started = time.monotonic()
    result = redis.set_ttl(url, KEYS, 600, rate_limit=800)
    elapsed = time.monotonic() - started
    assert result.succeeded == len(KEYS)
    assert elapsed >= 0.4  # 400 keys at 800 keys/s, within the 5% first burst
    assert all(0 < client.ttl(k) <= 600 for k in KEYS[::40])


def test_every_key_function_takes_it(redis_url: str, redis_client: Any) -> None:
    _load(redis_client)
    assert redis.exists_keys(redis_url, KEYS[:5], rate_limit=100)["exists"].all()
    assert redis.get_ttl(redis_url, KEYS[:5], rate_limit=100)["ttl"].to_list() == [-1] * 5
    assert redis.scan_keys(redis_url, "rl:*", include_ttl=True, rate_limit=10_000).height == 400
    assert redis.key_info(redis_url, KEYS[:3], rate_limit=100).height == 3
    assert redis.set_ttl(redis_url, KEYS[:3], 60, rate_limit=100).succeeded == 3
    assert redis.persist_keys(redis_url, KEYS[:3], rate_limit=100).succeeded == 3
    assert redis_client.ttl(KEYS[0]) == -1
    renamed = redis.rename_keys(redis_url, {"rl:0": "rl:zero"}, rate_limit=100)
    assert renamed.succeeded == 1 and redis_client.exists("rl:zero")
    deleted = redis.delete_keys(redis_url, pattern="rl:*", rate_limit=10_000)
    assert deleted.deleted == 400 and not redis_client.keys("rl:*")


@pytest.mark.parametrize("bad", [0, -5.0, float("nan")])
def test_a_rate_that_is_not_positive_is_refused(redis_url: str, bad: float) -> None:
    with pytest.raises(redis.InvalidInputError, match="rate_limit"):
        redis.set_ttl(redis_url, ["rl:1"], 10, rate_limit=bad)
