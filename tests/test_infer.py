"""Schema inference against real data with known types (ground truth written with redis-py)."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis.exceptions import InvalidInputError, ParseError, SchemaInferenceError


def write_users(client: Any, n: int, prefix: str = "u") -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        mapping: dict[str, Any] = {
            "name": f"name-{i}",
            "age": i,
            "ratio": i + 0.5,
            "active": "true" if i % 2 else "false",
            "born": "2000-01-02",
            "seen": "2024-01-02T03:04:05",
            "paid": "2024-01-02T03:04:05+02:00",
        }
        if i % 4 == 0:
            mapping["sparse"] = i  # only every 4th key has it
        pipe.hset(f"{prefix}:{i}", mapping=mapping)
    pipe.execute()


def test_detects_every_scalar_type(redis_url: str, redis_client: Any) -> None:
    write_users(redis_client, 40)
    inferred = pr.infer_hash_schema(redis_url, "u:*")
    assert dict(inferred) == {
        "active": pl.Boolean,
        "age": pl.Int64,
        "born": pl.Date,
        "name": pl.String,
        "paid": pl.Datetime("us", "UTC"),
        "ratio": pl.Float64,
        "seen": pl.Datetime("us"),
        "sparse": pl.Int64,
    }
    assert inferred.sample_count == 40
    assert inferred.keys_seen == 40
    assert inferred.complete_scan
    assert all(f.confidence == 1.0 for f in inferred.fields.values())
    assert inferred.fields["age"].present == 40
    assert inferred.fields["sparse"].present == 10
    assert inferred.fields["age"].candidates == {"Int64": 40}
    assert inferred.low_confidence() == []


def test_inferred_schema_reads_back_the_ground_truth(redis_url: str, redis_client: Any) -> None:
    write_users(redis_client, 12)
    df = pr.read_hashes(redis_url, "u:*").sort("age")
    assert df["age"].to_list() == list(range(12))
    assert df["ratio"].to_list() == [i + 0.5 for i in range(12)]
    assert df["active"].to_list() == [bool(i % 2) for i in range(12)]
    assert df["born"].to_list() == [date(2000, 1, 2)] * 12
    assert df["paid"].to_list() == [datetime(2024, 1, 2, 1, 4, 5, tzinfo=timezone.utc)] * 12
    assert df["sparse"].to_list() == [i if i % 4 == 0 else None for i in range(12)]


def test_mixed_fields_widen_and_say_so(redis_url: str, redis_client: Any) -> None:
    for i in range(10):
        redis_client.hset(
            f"m:{i}",
            mapping={"num": i if i < 8 else i + 0.25, "text": "x" if i == 5 else i, "flag": "true"},
        )
    redis_client.hset("m:10", mapping={"flag": "1"})
    inferred = pr.infer_hash_schema(redis_url, "m:*")
    num, text, flag = inferred.fields["num"], inferred.fields["text"], inferred.fields["flag"]
    assert num.dtype == pl.Float64
    assert (num.present, num.matching, num.confidence) == (10, 2, 0.2)
    assert num.note == "mixed Int64, Float64 -> Float64"
    assert text.dtype == pl.String
    assert text.candidates == {"Int64": 9, "String": 1}
    assert text.confidence == pytest.approx(0.1)
    assert flag.dtype == pl.String  # "true" and "1": no sound narrower type
    assert {f.name for f in inferred.low_confidence(0.9)} == {"num", "text", "flag"}


def test_wrong_type_keys_under_the_pattern_are_not_sampled(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.hset("w:1", mapping={"a": 1})
    redis_client.set("w:2", "not a hash")
    redis_client.rpush("w:3", "x")
    inferred = pr.infer_hash_schema(redis_url, "w:*")
    assert inferred.sample_count == 1
    assert dict(inferred) == {"a": pl.Int64}


def test_sample_spreads_over_the_keyspace(redis_url: str, redis_client: Any) -> None:
    """A small sample of a large keyspace is drawn from all of it, not the first SCAN page:
    the keys of the first page hold booleans, all others integers."""
    pipe = redis_client.pipeline(transaction=False)
    for i in range(3000):
        pipe.hset(f"s:{i}", mapping={"v": i})
    pipe.execute()
    _, first_page = redis_client.scan(cursor=0, match="s:*", count=100)
    assert 0 < len(first_page) < 300
    for key in first_page:
        redis_client.hset(key, mapping={"v": "true"})
    inferred = pr.infer_hash_schema(redis_url, "s:*", sample_size=50, count_hint=100)
    assert (inferred.sample_count, inferred.keys_seen) == (50, 3000)
    # About 50 * len(first_page) / 3000 booleans are expected; a first-page
    # sample would be all booleans.
    assert inferred.fields["v"].candidates.get("Int64", 0) >= 40


def test_huge_sample_size_reads_every_key_once(redis_url: str, redis_client: Any) -> None:
    write_users(redis_client, 250)
    inferred = pr.infer_hash_schema(redis_url, "u:*", sample_size=10**9)
    assert inferred.sample_count == 250
    assert inferred.fields["age"].present == 250


def test_empty_keyspace_is_a_clear_error(redis_url: str) -> None:
    with pytest.raises(SchemaInferenceError, match=r'no hash matches pattern "nothing:\*"'):
        pr.infer_hash_schema(redis_url, "nothing:*")
    with pytest.raises(SchemaInferenceError):
        pr.scan_hashes(redis_url, "nothing:*")


def test_bad_sample_size_is_invalid_input(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="sample_size"):
        pr.infer_hash_schema(redis_url, "*", sample_size=0)


def test_overrides_apply_without_resampling(redis_url: str, redis_client: Any) -> None:
    write_users(redis_client, 5)
    inferred = pr.infer_hash_schema(redis_url, "u:*")
    fixed = inferred.with_overwrite({"age": pl.Int32, "extra": pl.String})
    assert fixed["age"] == pl.Int32
    assert fixed.fields["age"].note == "type set by the user"
    assert fixed["extra"] == pl.String
    assert fixed.sample_count == inferred.sample_count
    assert inferred["age"] == pl.Int64  # the original is unchanged
    df = pr.read_hashes(redis_url, "u:*", schema=fixed)
    assert df.schema["age"] == pl.Int32
    assert df["extra"].null_count() == 5
    with pytest.raises(InvalidInputError, match="extra"):
        inferred.with_overwrite({"extra": pl.Object})
    # Nested dtypes read hash fields from their JSON text (issue 11, item 10).
    assert inferred.with_overwrite({"extra": pl.List(pl.Int64)})["extra"] == pl.List(pl.Int64)


def test_scan_without_schema_infers_once_and_explains(redis_url: str, redis_client: Any) -> None:
    write_users(redis_client, 20)
    lf = pr.scan_hashes(redis_url, "u:*")
    assert "schema inferred from 20 keys" in lf.explain()
    # New keys with a new field after the scan was made: the schema is fixed,
    # inference is not re-run on collect.
    redis_client.hset("u:99", mapping={"age": 99, "brand_new": "x"})
    df = lf.collect()
    assert "brand_new" not in df.columns
    assert df.height == 21


def test_parse_errors_point_at_inference(redis_url: str, redis_client: Any) -> None:
    for i in range(5):
        redis_client.hset(f"p:{i}", mapping={"n": i})
    lf = pr.scan_hashes(redis_url, "p:*")
    redis_client.hset("p:late", mapping={"n": "not a number"})
    with pytest.raises(
        ParseError, match=r'key "p:late", field `n`.*inferred from a sample of 5 keys'
    ):
        lf.collect()
    # strict=False: the unparsable value becomes null, the row stays.
    lenient = pr.scan_hashes(
        redis_url, "p:*", strict=False, schema=pr.infer_hash_schema(redis_url, "p:[0-4]")
    ).collect()
    assert lenient.height == 6
    assert lenient.filter(pl.col("_key") == "p:late")["n"].to_list() == [None]


def test_string_widening_warns_when_inferred_for_a_scan(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("x:1", mapping={"v": 1})
    redis_client.hset("x:2", mapping={"v": "one"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pr.scan_hashes(redis_url, "x:*")
    assert any("field 'v' was inferred as String" in str(w.message) for w in caught)


def test_schema_none_with_explicit_keys_is_refused(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="pass schema="):
        pr.scan_hashes(redis_url, keys=["a"])
