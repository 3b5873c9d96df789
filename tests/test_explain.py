"""``lf.explain()`` names the source usefully (type, server without secrets,
pattern or key count), and one query reads a source once wherever it appears."""

from __future__ import annotations

from typing import Any

import polars as pl

import polars_redis as redis

SCHEMA = {"age": pl.Int64, "name": pl.String}


def _load(client: Any, n: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(f"user:{i}", mapping={"age": i, "name": f"n{i}"})
    pipe.execute()


def _calls(client: Any, command: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def test_explain_names_type_server_and_pattern(redis_url: str) -> None:
    plan = redis.scan_hashes(redis_url, "user:*", SCHEMA).select("age").explain()
    server = redis_url.removeprefix("redis://")
    assert "PYTHON[polars_redis]" in plan
    assert "hashes 'user:*' on redis://" in plan and server in plan
    assert "PROJECT 1/3 COLUMNS" in plan


def test_explain_counts_listed_keys(redis_url: str) -> None:
    plan = redis.scan_strings(redis_url, keys=["a", "b", "c"]).explain()
    assert "strings 3 listed keys on redis://" in plan


def test_explain_never_shows_the_password(redis_url: str) -> None:
    host = redis_url.removeprefix("redis://")
    url = f"redis://someone:s3cr3t-pw@{host}/0"
    for lf in (
        redis.scan_hashes(url, "user:*", SCHEMA),
        redis.scan_zsets(url, "board:*"),
        redis.scan_timeseries(url, "ts:*"),
    ):
        plan = lf.explain()
        assert "s3cr3t-pw" not in plan
        assert "someone" not in plan


def test_a_self_join_reads_redis_once(redis_url: str, redis_client: Any) -> None:
    """The source is pure, so Polars' in-memory engine caches it (its
    streaming engine, Polars 2.1, still runs each occurrence)."""
    _load(redis_client, 50)
    lf = redis.scan_hashes(redis_url, "user:*", SCHEMA, fetch="hgetall")
    before = _calls(redis_client, "hgetall")
    joined = lf.join(lf, on="_key", suffix="2").collect(engine="in-memory")
    assert joined.height == 50
    assert (joined["age"] == joined["age2"]).all()
    assert _calls(redis_client, "hgetall") - before == 50
