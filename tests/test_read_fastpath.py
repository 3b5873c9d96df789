"""``read_*`` reads its scanner straight (no Polars lazy plan): the result,
errors and progress must be exactly those of ``scan_*(...).collect()``."""

from __future__ import annotations

import inspect
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis import hashes
from polars_redis._plugin import bind, collect
from polars_redis.exceptions import ArgumentTypeError, ParseError


def seed(client: Any, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.hset(f"fp:{i}", mapping={"name": f"n{i}", "age": i, "tier": "ab"[i % 2]})
        pipe.set(f"fs:{i}", str(i * 3))
    pipe.execute()


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_read_equals_the_lazy_scan_in_batches(
    redis_url: str, redis_client: Any, batch_size: int
) -> None:
    seed(redis_client, 25)
    schema = {"name": pl.String, "age": pl.Int64, "tier": pl.Enum(["a", "b"])}
    options: dict[str, Any] = {"batch_size": batch_size, "include_ttl": True}
    read = pr.read_hashes(redis_url, "fp:*", schema, **options)
    lazy = pr.scan_hashes(redis_url, "fp:*", schema, **options).collect()
    assert read.height == 25
    assert read.schema == lazy.schema
    assert read.schema["tier"] == pl.Enum(["a", "b"])
    assert_frame_equal(read.sort("_key"), lazy.sort("_key"))
    # Ground truth from redis-py.
    ages = {k.decode(): int(redis_client.hget(k, "age")) for k in redis_client.keys("fp:*")}
    assert dict(zip(read["_key"], read["age"])) == ages

    strings = pr.read_strings(redis_url, "fs:*", value_type=pl.Int64, batch_size=batch_size)
    lazy_strings = pr.scan_strings(redis_url, "fs:*", value_type=pl.Int64).collect()
    assert_frame_equal(strings.sort("_key"), lazy_strings.sort("_key"))
    assert strings["value"].sum() == sum(i * 3 for i in range(25))


def test_an_empty_read_has_the_scans_schema(redis_url: str, redis_client: Any) -> None:
    schema = {"age": pl.Int64, "tier": pl.Categorical()}
    read = pr.read_hashes(redis_url, keys=["nope:1", "nope:2"], schema=schema)
    lazy = pr.scan_hashes(redis_url, keys=["nope:1", "nope:2"], schema=schema).collect()
    assert read.height == 0
    assert read.schema == lazy.schema


def test_the_schema_cache_tells_declared_dtypes_apart(redis_url: str, redis_client: Any) -> None:
    seed(redis_client, 4)
    keys = [f"fp:{i}" for i in range(4)]
    first = pr.read_hashes(redis_url, keys=keys, schema={"tier": pl.Enum(["a", "b"])})
    second = pr.read_hashes(redis_url, keys=keys, schema={"tier": pl.Enum(["b", "a", "c"])})
    as_text = pr.read_hashes(redis_url, keys=keys, schema={"tier": pl.String})
    assert first.schema["tier"] == pl.Enum(["a", "b"])
    assert second.schema["tier"] == pl.Enum(["b", "a", "c"])
    assert as_text.schema["tier"] == pl.String
    assert first["tier"].cast(pl.String).to_list() == as_text["tier"].to_list()


def test_progress_of_a_read_reports_like_the_lazy_scan(redis_url: str, redis_client: Any) -> None:
    seed(redis_client, 5)
    keys = [f"fp:{i}" for i in range(5)] + ["fp:missing"]
    eager: list[pr.Progress] = []
    lazy: list[pr.Progress] = []
    pr.read_hashes(redis_url, keys=keys, schema={"age": pl.Int64}, progress=eager.append)
    pr.scan_hashes(redis_url, keys=keys, schema={"age": pl.Int64}, progress=lazy.append).collect()
    assert [(p.what, p.rows, p.total, p.finished) for p in eager] == [
        (p.what, p.rows, p.total, p.finished) for p in lazy
    ]
    assert eager[-1].what == "hashes 6 listed keys" and eager[-1].rows == 5


def test_a_read_error_is_the_scans_error(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("fp:bad", "age", "not a number")
    with pytest.raises(ParseError) as eager:
        pr.read_hashes(redis_url, keys=["fp:bad"], schema={"age": pl.Int64})
    with pytest.raises(ParseError) as lazy:
        collect(pr.scan_hashes(redis_url, keys=["fp:bad"], schema={"age": pl.Int64}))
    assert str(eager.value) == str(lazy.value) and "fp:bad" in str(eager.value)


def test_a_pooled_read_works_after_reads_of_other_shapes(redis_url: str, redis_client: Any) -> None:
    seed(redis_client, 3)
    with pr.connect(redis_url) as client:
        for _ in range(3):
            df = pr.read_hashes(client, keys=["fp:0", "fp:2"], schema={"age": pl.Int64})
            assert sorted(df["age"].to_list()) == [0, 2]
            df = pr.read_strings(client, keys=["fs:1"], value_type=pl.Int64)
            assert df["value"].to_list() == [3]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("redis://h",), {}),
        (("redis://h", "p:*"), {"keys": None, "batch_size": 5}),
        (("redis://h", "p:*", {"a": pl.Int64}), {"fetch": "hmget"}),
        (("redis://h",), {"schema": {"a": pl.Int64}, "pattern": "x"}),
    ],
)
def test_bind_matches_inspect(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    bound = inspect.signature(hashes.scan_hashes).bind(*args, **kwargs)
    bound.apply_defaults()
    assert bind(hashes.scan_hashes, *args, **kwargs) == dict(bound.arguments)
    assert list(bind(hashes.scan_hashes, *args, **kwargs)) == list(bound.arguments)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("redis://h", "p", None, "extra"), {}),
        (("redis://h", "p"), {"pattern": "q"}),
        ((), {"pattern": "q"}),
        (("redis://h",), {"batchsize": 5}),
    ],
)
def test_bind_refuses_what_inspect_refuses(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as expected:
        inspect.signature(hashes.scan_hashes).bind(*args, **kwargs)
    with pytest.raises(TypeError) as got:
        bind(hashes.scan_hashes, *args, **kwargs)
    assert str(got.value) == str(expected.value)


def test_checked_reads_name_the_same_errors(redis_url: str) -> None:
    with pytest.raises(ArgumentTypeError, match=r"read_hashes\(\): batch_size must be an int"):
        pr.read_hashes(redis_url, "p:*", {"a": pl.Int64}, batch_size="5")  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match="did you mean 'batch_size'"):
        pr.read_hashes(redis_url, "p:*", {"a": pl.Int64}, batchsize=5)  # type: ignore[call-arg]
    with pytest.raises(ArgumentTypeError, match="multiple values for argument 'pattern'"):
        pr.read_hashes(redis_url, "p:*", pattern="q")  # type: ignore[misc]
