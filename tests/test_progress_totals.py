"""``progress=`` totals: a pattern scan of a one-row-per-key type (hashes,
JSON, strings) gets an estimate from ``DBSIZE`` (summed over the masters of
a cluster; an upper bound, labelled so), a key list its exact count, a
pushed row limit caps it; types with many rows per key get none."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from redis_servers import RedisServer

import polars_redis as pr
from polars_redis._progress import Progress, renderer

SCHEMA = {"age": pl.Int64}


def _load(client: Any, hashes: int, others: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(hashes):
        pipe.hset(f"user:{i}", mapping={"age": i})
    for i in range(others):
        pipe.sadd(f"tags:{i}", "a", "b")
    pipe.execute()


def test_a_pattern_scan_estimates_its_total_from_dbsize(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 300, 40)
    seen: list[Progress] = []
    df = pr.read_hashes(redis_url, "user:*", SCHEMA, batch_size=100, progress=seen.append)
    assert df.height == 300
    assert {p.total for p in seen} == {redis_client.dbsize()} == {340}
    assert all(p.total_estimated for p in seen)
    assert seen[-1].finished and seen[-1].rows == 300


def test_listed_keys_give_the_exact_total(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 300, 40)
    keys = [f"user:{i}" for i in range(50)] + ["user:3"]
    seen: list[Progress] = []
    df = pr.read_hashes(redis_url, keys=keys, schema=SCHEMA, progress=seen.append)
    assert df.height == 50
    assert {(p.total, p.total_estimated) for p in seen} == {(50, False)}


def test_a_pushed_limit_caps_the_total(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 300, 0)
    seen: list[Progress] = []
    lf = pr.scan_hashes(redis_url, "user:*", SCHEMA, progress=seen.append)
    assert lf.head(7).collect().height == 7
    assert seen[-1].total == 7


def test_iteration_and_other_one_row_types_get_totals(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 120, 0)
    redis_client.mset({f"s:{i}": str(i) for i in range(30)})
    seen: list[Progress] = []
    rows = sum(b.height for b in pr.iter_hashes(redis_url, "user:*", SCHEMA, progress=seen.append))
    assert rows == 120
    assert seen[-1].total == 150 and seen[-1].total_estimated
    seen.clear()
    assert pr.read_strings(redis_url, "s:*", progress=seen.append).height == 30
    assert (seen[-1].total, seen[-1].total_estimated) == (150, True)


def test_types_with_many_rows_per_key_have_no_total(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 10, 20)
    seen: list[Progress] = []
    assert pr.read_sets(redis_url, "tags:*", progress=seen.append).height == 40
    assert {p.total for p in seen} == {None}
    assert not any(p.total_estimated for p in seen)


def test_a_cluster_sums_dbsize_over_its_masters(cluster_url: str, cluster_client: Any) -> None:
    _load(cluster_client, 400, 25)
    seen: list[Progress] = []
    df = pr.read_hashes(cluster_url, "user:*", SCHEMA, progress=seen.append)
    assert df.height == 400
    masters = cluster_client.dbsize(target_nodes="primaries")
    total = sum(masters.values()) if isinstance(masters, dict) else masters
    assert total == 425
    assert (seen[-1].total, seen[-1].total_estimated) == (425, True)


def test_a_user_refused_dbsize_still_reads_without_a_total(
    redis_server: RedisServer, redis_client: Any
) -> None:
    _load(redis_client, 60, 0)
    redis_client.acl_setuser(
        "no-dbsize",
        enabled=True,
        passwords=["+pw"],
        keys=["*"],
        commands=["+@all", "-dbsize"],
    )
    try:
        url = f"redis://no-dbsize:pw@127.0.0.1:{redis_server.port}"
        seen: list[Progress] = []
        assert pr.read_hashes(url, "user:*", SCHEMA, progress=seen.append).height == 60
        assert {p.total for p in seen} == {None}
    finally:
        redis_client.acl_deluser("no-dbsize")


def test_the_plain_line_says_the_total_is_estimated(
    redis_url: str, redis_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _load(redis_client, 50, 10)
    pr.read_hashes(redis_url, "user:*", SCHEMA, progress=True)
    err = capsys.readouterr().err
    assert "hashes 'user:*': 50 of at most 60 (estimated) rows" in err
    pr.read_hashes(redis_url, keys=["user:1", "user:2"], schema=SCHEMA, progress=True)
    assert ": 2 of 2 rows" in capsys.readouterr().err


def test_progress_keeps_its_positional_shape() -> None:
    p = Progress("hashes 'x:*'", 5, 10, 1.0, False)
    assert (p.total_estimated, p.rate) == (False, 5.0)
    draw = renderer()
    draw(Progress("x", 5, 10, 2.0, True, total_estimated=True))
