"""Schema inference for streams: infer_stream_schema and scan_streams(schema=None)
(ground truth written with redis-py)."""

from __future__ import annotations

import warnings
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr


def write_events(client: Any, streams: int, entries: int, prefix: str = "ev") -> None:
    pipe = client.pipeline(transaction=False)
    for s in range(streams):
        for i in range(entries):
            pipe.xadd(
                f"{prefix}:{s}",
                {"user": f"u{i}", "amount": i, "price": i + 0.5, "day": "2024-01-02"},
                id=f"{1000 + i}-0",
            )
    pipe.execute()


def test_infers_entry_field_types(redis_url: str, redis_client: Any) -> None:
    write_events(redis_client, streams=4, entries=10)
    inferred = pr.infer_stream_schema(redis_url, "ev:*")
    assert dict(inferred) == {
        "amount": pl.Int64,
        "day": pl.Date,
        "price": pl.Float64,
        "user": pl.String,
    }
    assert inferred.sample_count == 4
    assert inferred.keys_seen == 4 and inferred.complete_scan
    # Short streams are read whole, each entry counted once.
    assert {f.name: f.present for f in inferred.fields.values()} == dict.fromkeys(inferred, 40)
    assert all(f.confidence == 1.0 for f in inferred.fields.values())


def test_first_and_last_entries_of_long_streams_are_sampled(
    redis_url: str, redis_client: Any
) -> None:
    # A field that only old entries have, one only new entries have, and a
    # middle that no sample reaches.
    pipe = redis_client.pipeline(transaction=False)
    for i in range(500):
        fields: dict[str, Any] = {"n": i}
        if i < 10:
            fields["legacy"] = "x"
        if i >= 490:
            fields["added"] = "2024-01-02T03:04:05Z"
        if 200 <= i < 300:
            fields["middle"] = 1
        pipe.xadd("long", fields, id=f"{i + 1}-0")
    pipe.execute()
    inferred = pr.infer_stream_schema(redis_url, "long")
    assert set(inferred) == {"n", "legacy", "added"}
    assert inferred["added"] == pl.Datetime("us", "UTC")
    assert inferred.fields["n"].present == 100  # 50 first + 50 last entries
    assert inferred.fields["legacy"].present == 10


def test_mixed_values_widen_and_report(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("mix", {"v": "1"})
    redis_client.xadd("mix", {"v": "2.5"})
    redis_client.xadd("mix", {"v": "abc"})
    inferred = pr.infer_stream_schema(redis_url, "mix")
    field = inferred.fields["v"]
    assert field.dtype == pl.String
    assert (field.present, field.matching) == (3, 1)
    assert field.note is not None and "mixed" in field.note


def test_errors(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("h:1", "a", "1")
    with pytest.raises(pr.SchemaInferenceError, match="no stream matches"):
        pr.infer_stream_schema(redis_url, "h:*")
    with pytest.raises(pr.InvalidInputError, match="pass schema="):
        pr.scan_streams(redis_url, keys=["h:1"])


def test_scan_without_schema_infers(redis_url: str, redis_client: Any) -> None:
    write_events(redis_client, streams=3, entries=5)
    schema = {"user": pl.String, "amount": pl.Int64, "price": pl.Float64, "day": pl.Date}
    expected = pr.read_streams(redis_url, "ev:*", schema).sort("_key", "_id")
    inferred = pr.read_streams(redis_url, "ev:*").sort("_key", "_id")
    assert_frame_equal(inferred.select(expected.columns), expected)
    batches = list(pr.iter_streams(redis_url, "ev:*", batch_size=4))
    assert sum(b.height for b in batches) == 15
    assert batches[0].schema == inferred.schema
    lf = pr.scan_streams(redis_url, "ev:*", infer_sample_size=2)
    plan = lf.explain()
    assert "streams 'ev:*'; schema inferred from 2 keys" in plan
    assert lf.collect().height == 15


def test_scan_without_schema_warns_for_text_widened_fields(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.xadd("w", {"v": "1"})
    redis_client.xadd("w", {"v": "x"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = pr.read_streams(redis_url, "w")
    assert df["v"].to_list() == ["1", "x"]
    assert any("field 'v' was inferred as String" in str(w.message) for w in caught)


def test_parse_errors_say_the_schema_was_inferred(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("p", {"v": "1"})
    lf = pr.scan_streams(redis_url, "p")  # inferred now: Int64
    redis_client.xadd("p", {"v": "x"})
    with pytest.raises(pr.ParseError, match="inferred from a sample of 1 keys"):
        lf.collect()


def test_cluster(cluster_url: str, cluster_client: Any) -> None:
    for i in range(20):
        cluster_client.xadd(f"c:{i}", {"n": i, "t": "a"})
    inferred = pr.infer_stream_schema(cluster_url, "c:*")
    assert dict(inferred) == {"n": pl.Int64, "t": pl.String}
    assert inferred.sample_count == 20
