"""iter_* results are Arrow streams (``__arrow_c_stream__``): pyarrow and
DuckDB read a scan batch by batch straight from the Rust core."""

from __future__ import annotations

import gc
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from distributed_helpers import SCHEMA, city_totals, seed_orders

import polars_redis as pr


@pytest.fixture
def orders(redis_client: Any) -> dict[str, tuple[int, str]]:
    return seed_orders(redis_client, 2_500)


def test_pyarrow_reads_the_stream_batch_by_batch(
    redis_url: str, orders: dict[str, tuple[int, str]]
) -> None:
    stream = pr.iter_hashes(redis_url, "order:*", SCHEMA, batch_size=400)
    reader = pa.RecordBatchReader.from_stream(stream)
    assert reader.schema.names == ["_key", "amount", "city"]
    sizes, keys, total = [], set(), 0
    for batch in reader:
        sizes.append(batch.num_rows)
        keys.update(batch.column("_key").to_pylist())
        total += sum(batch.column("amount").to_pylist())
    assert keys == set(orders)
    assert total == sum(a for a, _ in orders.values())
    # Batches of at most batch_size rows, not one materialized table.
    assert len(sizes) > 1 and max(sizes) <= 400


def test_duckdb_queries_the_stream(redis_url: str, orders: dict[str, tuple[int, str]]) -> None:
    # DuckDB finds the stream by its variable name.
    stream = pr.iter_hashes(redis_url, "order:*", SCHEMA, batch_size=300)  # noqa: F841
    rows = duckdb.sql(
        "SELECT city, count(*) AS n, sum(amount) AS total FROM stream GROUP BY city ORDER BY city"
    ).fetchall()
    truth = city_totals(orders)
    assert rows == [(city, n, total) for city, (n, total) in sorted(truth.items())]


def test_every_iter_function_is_a_stream(redis_client: Any, redis_url: str) -> None:
    redis_client.set("s:1", "a")
    redis_client.sadd("m:1", "x", "y")
    redis_client.rpush("l:1", "p", "q", "r")
    redis_client.zadd("z:1", {"u": 1.5})
    redis_client.xadd("e:1", {"v": "1"})
    streams = {
        "strings": pr.iter_strings(redis_url, "s:*"),
        "sets": pr.iter_sets(redis_url, "m:*"),
        "lists": pr.iter_lists(redis_url, "l:*"),
        "zsets": pr.iter_zsets(redis_url, "z:*"),
        "streams": pr.iter_streams(redis_url, "e:*", {"v": pl.Int64}),
    }
    counts = {
        kind: pa.RecordBatchReader.from_stream(s).read_all().num_rows for kind, s in streams.items()
    }
    assert counts == {"strings": 1, "sets": 2, "lists": 3, "zsets": 1, "streams": 1}


def test_a_stream_is_consumed_once(redis_url: str, orders: dict[str, tuple[int, str]]) -> None:
    stream = pr.iter_hashes(redis_url, "order:*", SCHEMA)
    first = next(stream)
    assert first.height > 0
    # The rest goes to pyarrow; nothing is read twice.
    rest = pa.RecordBatchReader.from_stream(stream).read_all()
    assert first.height + rest.num_rows == len(orders)
    assert list(stream) == []
    with pytest.raises(pr.InvalidInputError, match="consumed or closed"):
        pa.RecordBatchReader.from_stream(stream)


def test_closing_stops_the_scan(redis_url: str, orders: dict[str, tuple[int, str]]) -> None:
    with pr.iter_hashes(redis_url, "order:*", SCHEMA, batch_size=100) as stream:
        assert next(stream).height == 100
    assert list(stream) == []
    gc.collect()


def test_a_scan_error_reaches_the_arrow_consumer(redis_client: Any, redis_url: str) -> None:
    redis_client.hset("bad:1", "amount", "not a number")
    stream = pr.iter_hashes(redis_url, "bad:*", SCHEMA)
    reader = pa.RecordBatchReader.from_stream(stream)
    with pytest.raises(Exception, match="amount"):
        reader.read_all()
