"""Schema inference for RedisJSON documents, against documents written with redis-py."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis.exceptions import InvalidInputError, SchemaInferenceError


def put(client: Any, key: str, doc: Any) -> None:
    client.json().set(key, "$", doc)


def test_nested_structs_lists_and_nulls(stack_url: str, stack_client: Any) -> None:
    for i in range(30):
        doc: dict[str, Any] = {
            "id": i,
            "score": i + 0.5,
            "ok": i % 2 == 0,
            "name": f"n{i}",
            "code": str(1000 + i),  # digits in quotes stay text
            "born": "2001-02-03",
            "at": "2024-01-02T03:04:05Z",
            "address": {"city": "Oslo", "zip": "0150", "floor": i},
            "tags": ["a", "b"][: i % 3],
            "points": [{"x": i, "y": 1.5}],
            "maybe": None if i % 2 else i,
        }
        put(stack_client, f"doc:{i}", doc)
    inferred = pr.infer_json_schema(stack_url, "doc:*")
    assert inferred.sample_count == 30
    assert dict(inferred) == {
        "address": pl.Struct({"city": pl.String, "floor": pl.Int64, "zip": pl.String}),
        "at": pl.Datetime("us", "UTC"),
        "born": pl.Date,
        "code": pl.String,
        "id": pl.Int64,
        "maybe": pl.Int64,
        "name": pl.String,
        "ok": pl.Boolean,
        "points": pl.List(pl.Struct({"x": pl.Int64, "y": pl.Float64})),
        "score": pl.Float64,
        "tags": pl.List(pl.String),
    }
    assert inferred.fields["maybe"].candidates == {"Int64": 15, "Null": 15}
    assert inferred.fields["maybe"].confidence == 1.0
    assert inferred.low_confidence() == []


def test_scan_json_without_schema_reads_ground_truth(stack_url: str, stack_client: Any) -> None:
    for i in range(5):
        put(
            stack_client,
            f"u:{i}",
            {"id": i, "at": "2024-01-02T03:04:05Z", "addr": {"city": f"c{i}"}, "xs": [i, i]},
        )
    lf = pr.scan_json(stack_url, "u:*")
    assert "schema inferred from 5 keys" in lf.explain()
    df = lf.collect().sort("id")
    assert df["id"].to_list() == list(range(5))
    assert df["at"].to_list() == [datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)] * 5
    assert df["addr"].to_list() == [{"city": f"c{i}"} for i in range(5)]
    assert df["xs"].to_list() == [[i, i] for i in range(5)]


def test_mixed_values_widen_with_notes(stack_url: str, stack_client: Any) -> None:
    put(stack_client, "m:1", {"n": 1, "v": 1, "o": {"a": 1}, "d": "2024-01-01"})
    put(stack_client, "m:2", {"n": 2.5, "v": "one", "o": 5, "d": "2024-01-01T10:00:00"})
    inferred = pr.infer_json_schema(stack_url, "m:*")
    assert inferred["n"] == pl.Float64
    assert inferred.fields["n"].note == "mixed Int64, Float64 -> Float64"
    assert inferred["v"] == pl.String
    assert inferred.fields["v"].confidence == 0.5  # the one String value matches
    assert inferred["o"] == pl.String
    assert "mixed structure" in (inferred.fields["o"].note or "")
    assert inferred["d"] == pl.Datetime("us")
    # A String column reads any JSON value as its text.
    df = pr.read_json(stack_url, "m:*", schema=inferred).sort("_key")
    assert df["o"].to_list() == ['{"a":1}', "5"]
    assert df["d"].to_list() == [datetime(2024, 1, 1), datetime(2024, 1, 1, 10)]
    assert df["n"].to_list() == [1.0, 2.5]


def test_wrong_type_keys_are_not_sampled(stack_url: str, stack_client: Any) -> None:
    put(stack_client, "w:1", {"a": 1})
    stack_client.hset("w:2", mapping={"a": "x"})
    stack_client.set("w:3", "x")
    inferred = pr.infer_json_schema(stack_url, "w:*")
    assert (inferred.sample_count, dict(inferred)) == (1, {"a": pl.Int64})


def test_sparse_members(stack_url: str, stack_client: Any) -> None:
    for i in range(20):
        put(stack_client, f"s:{i}", {"a": i, **({"rare": "2020-05-06"} if i == 7 else {})})
    inferred = pr.infer_json_schema(stack_url, "s:*")
    assert inferred.fields["rare"].present == 1
    assert inferred["rare"] == pl.Date
    df = pr.read_json(stack_url, "s:*", schema=inferred)
    assert df["rare"].drop_nulls().to_list() == [date(2020, 5, 6)]


def test_errors(stack_url: str, stack_client: Any) -> None:
    with pytest.raises(SchemaInferenceError, match="no JSON document"):
        pr.infer_json_schema(stack_url, "none:*")
    put(stack_client, "arr:1", [1, 2, 3])
    with pytest.raises(SchemaInferenceError, match='"arr:1" is not a JSON object'):
        pr.infer_json_schema(stack_url, "arr:*")
    with pytest.raises(InvalidInputError, match="sample_size"):
        pr.infer_json_schema(stack_url, "*", sample_size=-1)
