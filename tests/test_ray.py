"""polars_redis.ray on a real local Ray (2 CPUs) against real servers:
exact results on a standalone server and a 3-master cluster, a worker
killed mid-read, writes, bad input."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
import ray
from distributed_helpers import SCHEMA, ReaderKiller, Unpicklable, city_totals, seed_orders
from redis_servers import RedisServer

import polars_redis as pr
import polars_redis.ray as redis_ray


# Started once (only this module uses it) and stopped after it, so the
# engine does not idle through the rest of the session.
@pytest.fixture(scope="module")
def ray_engine() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


def _assert_exact(ds: ray.data.Dataset, rows: dict[str, tuple[int, str]]) -> None:
    df = pl.concat([pl.DataFrame(pl.from_arrow(t)) for t in ray.get(ds.to_arrow_refs())])
    assert df.height == len(rows)
    assert set(df["_key"]) == set(rows)
    assert df["amount"].sum() == sum(a for a, _ in rows.values())


def test_read_standalone(ray_engine: None, redis_url: str, redis_client: Any) -> None:
    rows = seed_orders(redis_client)
    ds = redis_ray.read_redis("hashes", redis_url, "order:*", SCHEMA, partitions=4).materialize()
    assert ds.count() == len(rows)
    _assert_exact(ds, rows)
    # Two shuffle partitions (not the default 200): the machine has 2 cores.
    grouped = ds.groupby("city", num_partitions=2).aggregate(
        ray.data.aggregate.Count(), ray.data.aggregate.Sum("amount")
    )
    got = {r["city"]: (r["count()"], r["sum(amount)"]) for r in grouped.take_all()}
    assert got == city_totals(rows)


def test_read_cluster(ray_engine: None, cluster_url: str, cluster_client: Any) -> None:
    rows = seed_orders(cluster_client)
    ds = redis_ray.read_redis("hashes", cluster_url, "order:*", SCHEMA, partitions=6).materialize()
    assert ds.count() == len(rows)
    assert ds.sum("amount") == sum(a for a, _ in rows.values())
    _assert_exact(ds, rows)


def test_a_worker_killed_mid_read_is_retried(
    ray_engine: None, redis_server: RedisServer, redis_url: str, redis_client: Any
) -> None:
    rows = seed_orders(redis_client)
    with ReaderKiller(redis_server.port) as killer:
        ds = redis_ray.read_redis(
            "hashes", killer.url, "order:*", SCHEMA, partitions=2, batch_size=50
        )
        killer.kill_one_reader_soon()
        _assert_exact(ds, rows)
    assert killer.killed, "no worker was killed"


def test_write_returns_the_merged_result(
    ray_engine: None, redis_url: str, redis_client: Any
) -> None:
    df = pl.DataFrame({"_key": [f"w:{i}" for i in range(1000)], "n": list(range(1000))})
    ds = ray.data.from_arrow(df.to_arrow()).repartition(4)
    result = redis_ray.write_redis(ds, "hashes", redis_url)
    assert (result.rows, result.written, result.keys_written, result.ok) == (1000, 1000, 1000, True)
    assert sum(int(redis_client.hget(f"w:{i}", "n")) for i in range(1000)) == sum(range(1000))
    again = redis_ray.write_redis(ds, "hashes", redis_url, if_exists="skip")
    assert (again.written, again.skipped, len(again.skipped_keys)) == (0, 1000, 1000)


def test_bad_input(ray_engine: None, redis_url: str) -> None:
    with pytest.raises(pr.PolarsRedisError, match="kind"):
        redis_ray.read_redis("hashmaps", redis_url)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="'formats' cannot be pickled"):
        redis_ray.read_redis("hashes", redis_url, "x:*", SCHEMA, formats=Unpicklable())
    ds = ray.data.from_items([{"_key": "a", "n": 1}])
    with pytest.raises(pr.InvalidInputError, match="kind must be one of"):
        redis_ray.write_redis(ds, "hashmaps", redis_url)
    with pytest.raises(pr.InvalidInputError, match="'ttl' cannot be pickled"):
        redis_ray.write_redis(ds, "hashes", redis_url, ttl=Unpicklable())


def test_docstring_examples(ray_engine: None, stack_url: str, stack_client: Any) -> None:
    for i, age in enumerate([36, 41, 30], 1):
        stack_client.hset(f"user:{i}", mapping={"age": age})
    globs = {"url": stack_url, "pl": pl, "ray": ray}
    for test in doctest.DocTestFinder().find(redis_ray, "polars_redis.ray", globs=globs):
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        report: list[str] = []
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)
