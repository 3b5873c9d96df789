"""Redis Cluster: until cluster reads exist, scanning one node must not pass for the whole."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis.exceptions import UnsupportedError


def test_scans_of_a_cluster_are_refused_not_partial(cluster_url: str, cluster_client: Any) -> None:
    for i in range(100):
        cluster_client.hset(f"user:{i}", mapping={"age": i})
    with pytest.raises(UnsupportedError, match="Redis Cluster"):
        pr.read_hashes(cluster_url, "user:*", schema={"age": pl.Int64})
    with pytest.raises(UnsupportedError, match="Redis Cluster"):
        pr.read_hashes(cluster_url, keys=["user:1"], schema={"age": pl.Int64})
    with pytest.raises(UnsupportedError, match="Redis Cluster"):
        pr.infer_hash_schema(cluster_url, "user:*")
