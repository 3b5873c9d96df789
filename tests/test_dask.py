"""polars_redis.dask on a real distributed.LocalCluster (2 worker processes)
against real servers: exact results on a standalone server and a 3-master
cluster, a worker killed mid-read, writes, bad input."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from typing import Any

import dask.dataframe as dd
import distributed
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from distributed_helpers import SCHEMA, ReaderKiller, Unpicklable, city_totals, seed_orders
from redis_servers import RedisServer

import polars_redis as pr
import polars_redis.dask as redis_dask


# Started once (only this module uses it) and stopped after it, so the
# engine does not idle through the rest of the session.
@pytest.fixture(scope="module")
def dask_client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _assert_exact(ddf: dd.DataFrame, rows: dict[str, tuple[int, str]]) -> None:
    pdf = ddf.compute()
    assert len(pdf) == len(rows)
    assert set(pdf["_key"]) == set(rows)
    assert int(pdf["amount"].sum()) == sum(a for a, _ in rows.values())


def test_read_standalone(
    dask_client: distributed.Client, redis_url: str, redis_client: Any
) -> None:
    rows = seed_orders(redis_client)
    ddf = redis_dask.read_redis("hashes", redis_url, "order:*", SCHEMA, partitions=4)
    assert ddf.npartitions == 4
    # Arrow-backed dtypes, known before anything is read.
    assert list(ddf.columns) == ["_key", "amount", "city"]
    # Arrow-backed: pd.ArrowDtype, or for strings Dask's own pyarrow-backed
    # string dtype (its "dataframe.convert-string" setting, on by default).
    assert all(
        isinstance(dtype, pd.ArrowDtype)
        or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")
        for dtype in ddf.dtypes
    )
    assert ddf.dtypes["amount"] == pd.ArrowDtype(pa.int64())
    _assert_exact(ddf, rows)
    grouped = ddf.groupby("city")["amount"].agg(["count", "sum"]).compute()
    got = {city: (int(r["count"]), int(r["sum"])) for city, r in grouped.iterrows()}
    assert got == city_totals(rows)


def test_read_cluster(
    dask_client: distributed.Client, cluster_url: str, cluster_client: Any
) -> None:
    rows = seed_orders(cluster_client)
    ddf = redis_dask.read_redis("hashes", cluster_url, "order:*", SCHEMA)
    assert ddf.npartitions == 3
    _assert_exact(ddf, rows)


def test_a_worker_killed_mid_read_is_retried(
    dask_client: distributed.Client,
    redis_server: RedisServer,
    redis_url: str,
    redis_client: Any,
) -> None:
    rows = seed_orders(redis_client)
    with ReaderKiller(redis_server.port) as killer:
        ddf = redis_dask.read_redis(
            "hashes", killer.url, "order:*", SCHEMA, partitions=2, batch_size=50
        )
        killer.kill_one_reader_soon()
        _assert_exact(ddf, rows)
    assert killer.killed, "no worker was killed"
    dask_client.wait_for_workers(2, timeout=60)


def test_to_redis_returns_the_merged_result(
    dask_client: distributed.Client, redis_url: str, redis_client: Any
) -> None:
    pdf = pd.DataFrame({"_key": [f"w:{i}" for i in range(1000)], "n": list(range(1000))})
    ddf = dd.from_pandas(pdf, npartitions=4)
    result = redis_dask.to_redis(ddf, "hashes", redis_url)
    assert (result.rows, result.written, result.keys_written, result.ok) == (1000, 1000, 1000, True)
    assert sum(int(redis_client.hget(f"w:{i}", "n")) for i in range(1000)) == sum(range(1000))
    again = redis_dask.to_redis(ddf, "hashes", redis_url, if_exists="skip")
    assert (again.written, again.skipped, len(again.skipped_keys)) == (0, 1000, 1000)


def test_bad_input(dask_client: distributed.Client, redis_url: str) -> None:
    with pytest.raises(pr.PolarsRedisError, match="kind"):
        redis_dask.read_redis("hashmaps", redis_url)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="'formats' cannot be pickled"):
        redis_dask.read_redis("hashes", redis_url, "x:*", SCHEMA, formats=Unpicklable())
    ddf = dd.from_pandas(pd.DataFrame({"_key": ["a"], "n": [1]}), npartitions=1)
    with pytest.raises(pr.InvalidInputError, match="kind must be one of"):
        redis_dask.to_redis(ddf, "hashmaps", redis_url)
    with pytest.raises(pr.InvalidInputError, match="'ttl' cannot be pickled"):
        redis_dask.to_redis(ddf, "hashes", redis_url, ttl=Unpicklable())


def test_docstring_examples(
    dask_client: distributed.Client, stack_url: str, stack_client: Any
) -> None:
    for i, age in enumerate([36, 41, 30], 1):
        stack_client.hset(f"user:{i}", mapping={"age": age})
    globs = {"url": stack_url, "pl": pl, "dd": dd}
    for test in doctest.DocTestFinder().find(redis_dask, "polars_redis.dask", globs=globs):
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        report: list[str] = []
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)
