"""Hashes in long form (issue 15, dynamic-field hashes): ``scan_hash_fields``
reads one row per field with HSCAN pages, ``write_hash_fields`` writes such
rows back grouped by key. Ground truth is written and read with redis-py.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis.exceptions import InvalidInputError, ParseError, WrongTypeError


def seed(client: Any) -> dict[str, dict[str, str]]:
    hashes = {
        "f:1": {"clicks": "3", "views": "40", "odd-name é": "7"},
        "f:2": {"clicks": "5"},
        "f:3": {f"x{i}": str(i) for i in range(300)},
    }
    for key, mapping in hashes.items():
        client.hset(key, mapping=mapping)
    client.sadd("f:set", "not a hash")
    return hashes


def long_form(hashes: dict[str, dict[str, str]]) -> pl.DataFrame:
    rows = [(k, f, v) for k, m in hashes.items() for f, v in m.items()]
    return pl.DataFrame(rows, schema=["_key", "field", "value"], orient="row")


def test_long_form_equals_hgetall(redis_url: str, redis_client: Any) -> None:
    hashes = seed(redis_client)
    df = pr.read_hash_fields(redis_url, "f:*", batch_size=50)
    assert df.columns == ["_key", "field", "value"]
    assert_frame_equal(df.sort("_key", "field"), long_form(hashes).sort("_key", "field"))


def test_value_dtype_fields_and_parse_errors(redis_url: str, redis_client: Any) -> None:
    seed(redis_client)
    df = pr.read_hash_fields(
        redis_url, "f:*", value_dtype=pl.Int64, fields=["clicks", "views"]
    ).sort("_key", "field")
    assert df.rows() == [("f:1", "clicks", 3), ("f:1", "views", 40), ("f:2", "clicks", 5)]
    redis_client.hset("f:2", "bad", "x1")
    with pytest.raises(ParseError, match=r'key "f:2", field `bad`: cannot parse "x1" as Int64'):
        pr.read_hash_fields(redis_url, "f:*", value_dtype=pl.Int64)
    lenient = pr.read_hash_fields(redis_url, keys=["f:2"], value_dtype=pl.Int64, strict=False)
    assert dict(lenient.select("field", "value").rows()) == {"clicks": 5, "bad": None}


def test_listed_key_of_another_type(redis_url: str, redis_client: Any) -> None:
    seed(redis_client)
    with pytest.raises(WrongTypeError, match="f:set"):
        pr.read_hash_fields(redis_url, keys=["f:1", "f:set"])


def test_projection_and_renamed_columns(redis_url: str, redis_client: Any) -> None:
    seed(redis_client)
    lf = pr.scan_hash_fields(
        redis_url, "f:*", field_column_name="feature", value_column_name="v", include_ttl=True
    )
    assert lf.collect_schema().names() == ["_key", "feature", "v", "_ttl"]
    counts = lf.group_by("_key").agg(pl.len()).sort("_key").collect()
    assert counts.rows() == [("f:1", 3), ("f:2", 1), ("f:3", 300)]
    only = lf.filter(pl.col("_key") == "f:2").select("feature").collect()
    assert only["feature"].to_list() == ["clicks"]


def test_large_hash_is_read_in_bounded_batches(redis_url: str, redis_client: Any) -> None:
    """A hash of a million fields: every field once, no batch above batch_size."""
    n, chunk = 1_000_000, 10_000
    pipe = redis_client.pipeline(transaction=False)
    for start in range(0, n, chunk):
        pipe.hset("big", mapping={f"f{i}": i for i in range(start, start + chunk)})
    pipe.execute()
    batch_size = 20_000
    total = 0
    seen_sum = 0
    largest = 0
    for batch in pr.iter_hash_fields(
        redis_url, keys=["big"], value_dtype=pl.Int64, batch_size=batch_size
    ):
        largest = max(largest, batch.height)
        total += batch.height
        seen_sum += int(batch["value"].sum())
    assert total == n
    assert seen_sum == n * (n - 1) // 2  # each field exactly once
    # HSCAN's COUNT is a hint: a page may hold a few more fields than asked.
    assert largest <= batch_size * 1.1


def test_write_round_trip_and_modes(redis_url: str, redis_client: Any) -> None:
    hashes = seed(redis_client)
    df = pr.read_hash_fields(redis_url, "f:[123]")
    copy = df.with_columns(pl.col("_key").str.replace("f:", "g:"))
    result = pr.write_hash_fields(copy, redis_url, batch_size=7)
    assert (result.rows, result.keys_written) == (df.height, 3)
    for key, mapping in hashes.items():
        stored = redis_client.hgetall(key.replace("f:", "g:"))
        assert {k.decode(): v.decode() for k, v in stored.items()} == mapping
    # append keeps other fields; replace drops them; skip leaves existing keys.
    extra = pl.DataFrame({"_key": ["g:2"], "field": ["new"], "value": ["1"]})
    pr.write_hash_fields(extra, redis_url, if_exists="append")
    assert redis_client.hgetall("g:2") == {b"clicks": b"5", b"new": b"1"}
    skipped = pr.write_hash_fields(extra, redis_url, if_exists="skip")
    assert skipped.skipped_keys == ["g:2"]
    pr.write_hash_fields(extra, redis_url, ttl=100)
    assert redis_client.hgetall("g:2") == {b"new": b"1"}
    assert 99 <= redis_client.ttl("g:2") <= 100


def test_write_typed_values_and_lazy_frames(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {"_key": ["t:1", "t:2", "t:1"], "field": ["a", "a", "b"], "value": [1.5, 2.0, -3.25]}
    )
    pr.write_hash_fields(df.sort("_key").lazy(), redis_url)
    assert redis_client.hgetall("t:1") == {b"a": b"1.5", b"b": b"-3.25"}
    back = pr.read_hash_fields(redis_url, "t:*", value_dtype=pl.Float64)
    assert_frame_equal(back.sort("_key", "field"), df.sort("_key", "field"))


def test_write_refusals(redis_url: str, redis_client: Any) -> None:
    good = {"_key": ["k"], "field": ["a"], "value": ["1"]}
    with pytest.raises(InvalidInputError, match=r"row 0.*`field`"):
        pr.write_hash_fields(pl.DataFrame({**good, "field": [None]}), redis_url)
    with pytest.raises(InvalidInputError, match=r"row 0.*`value`"):
        pr.write_hash_fields(
            pl.DataFrame({**good, "value": [None]}, schema_overrides={"value": pl.String}),
            redis_url,
        )
    with pytest.raises(InvalidInputError, match="`other`"):
        pr.write_hash_fields(pl.DataFrame({**good, "other": [1]}), redis_url)
    with pytest.raises(InvalidInputError, match="`value`"):
        pr.write_hash_fields(pl.DataFrame({"_key": ["k"], "field": ["a"]}), redis_url)
    assert redis_client.dbsize() == 0
    redis_client.set("k", "text")
    result = pr.write_hash_fields(
        pl.DataFrame(good), redis_url, if_exists="append", raise_on_error=False
    )
    assert result.failed == 1 and "WRONGTYPE" in result.failures[0].message


def test_cluster_long_form(cluster_url: str, cluster_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": [f"h:{i % 20}" for i in range(200)],
            "field": [f"f{i}" for i in range(200)],
            "value": [str(i) for i in range(200)],
        }
    )
    pr.write_hash_fields(df, cluster_url)
    assert cluster_client.hlen("h:3") == 10
    back = pr.read_hash_fields(cluster_url, "h:*", batch_size=3)
    assert_frame_equal(back.sort("field"), df.sort("field"))
