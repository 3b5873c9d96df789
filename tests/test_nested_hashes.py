"""Nested dtypes on hashes, streams and strings (issue 11, item 10):
``write_hashes`` stores List, Struct and Array values as JSON text, and the
readers read that text back into the same nested values.

Ground truth is written and read with redis-py.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis.exceptions import ParseError

UTC = timezone.utc

SCHEMA = {
    "tags": pl.List(pl.String),
    "scores": pl.List(pl.Int64),
    "when": pl.List(pl.Datetime("ms", "UTC")),
    "point": pl.Struct({"x": pl.Float64, "y": pl.Float64, "on": pl.Date}),
    "deep": pl.List(pl.Struct({"name": pl.String, "ids": pl.List(pl.UInt8)})),
    "pair": pl.Array(pl.Int32, 2),
}


def nested_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_key": ["n:1", "n:2", "n:3"],
            "tags": [["a", "b"], [], None],
            "scores": [[1, None, 3], None, [-(2**63)]],
            "when": [[datetime(2024, 1, 31, 10, 15, tzinfo=UTC)], [None], []],
            "point": [
                {"x": 1.5, "y": None, "on": date(2024, 1, 31)},
                None,
                {"x": -0.0, "y": 2e-300, "on": None},
            ],
            "deep": [[{"name": "n", "ids": [1, 255]}, None], [{"name": None, "ids": []}], None],
            "pair": [[1, 2], None, [None, -3]],
        },
        schema={"_key": pl.String, **SCHEMA},
    )


def test_write_hashes_then_read_hashes_gives_an_equal_frame(
    redis_url: str, redis_client: Any
) -> None:
    df = nested_frame()
    pr.write_hashes(df, redis_url)
    # Ground truth: the JSON text write_hashes stores (nulls are left out).
    assert redis_client.hgetall("n:2") == {
        b"tags": b"[]",
        b"when": b"[null]",
        b"deep": b'[{"name":null,"ids":[]}]',
    }
    for schema in (SCHEMA, {**SCHEMA, "pair": pl.Array(pl.Int32, 2)}):
        for fetch in ("hgetall", "hmget"):
            back = pr.read_hashes(redis_url, "n:*", schema, fetch=fetch).sort("_key")
            assert_frame_equal(back, df)


def test_nested_values_written_by_redis_py_are_read(redis_url: str, redis_client: Any) -> None:
    redis_client.hset(
        "h",
        mapping={
            "tags": ' [ "x" , "y\\u00e9" ] ',
            "point": '{"y": 2, "x": 1, "extra": [1, {"a": 2}]}',
            "pair": "[7, 8]",
        },
    )
    df = pr.read_hashes(
        redis_url,
        keys=["h"],
        schema={
            "tags": pl.List(pl.String),
            "point": pl.Struct({"x": pl.Int64, "y": pl.Int64, "z": pl.Int64}),
            "pair": pl.Array(pl.Int64, 2),
        },
        include_key=False,
    )
    assert df.to_dicts() == [
        {"tags": ["x", "yé"], "point": {"x": 1, "y": 2, "z": None}, "pair": [7, 8]}
    ]


@pytest.mark.parametrize(
    ("dtype", "stored", "field"),
    [
        (pl.List(pl.Int64), "not json", "v"),
        (pl.List(pl.Int64), "[1, 2", "v"),
        (pl.List(pl.Int64), "[1] trailing", "v"),
        (pl.List(pl.Int64), '{"a": 1}', "v"),
        (pl.List(pl.Int64), "[1, 1.5]", "v[1]"),
        (pl.Struct({"a": pl.Date}), '{"a": 20240131}', "v.a"),
        (pl.Array(pl.Int64, 2), "[1, 2, 3]", "v"),
        (pl.Array(pl.Int64, 2), "[1]", "v"),
    ],
)
def test_bad_nested_text_is_a_parse_error_or_null(
    redis_url: str, redis_client: Any, dtype: Any, stored: str, field: str
) -> None:
    redis_client.hset("h", mapping={"v": stored, "n": "1"})
    schema = {"v": dtype, "n": pl.Int64}
    with pytest.raises(ParseError) as raised:
        pr.read_hashes(redis_url, keys=["h"], schema=schema)
    assert 'key "h"' in str(raised.value) and f"`{field}`" in str(raised.value), str(raised.value)
    df = pr.read_hashes(redis_url, keys=["h"], schema=schema, strict=False, include_key=False)
    assert df["n"].to_list() == [1]
    if field == "v":
        assert df["v"].to_list() == [None]


def test_streams_and_strings_read_nested_json_text(redis_url: str, redis_client: Any) -> None:
    df = nested_frame().with_columns(pl.lit("s").alias("_key"))
    pr.write_streams(df, redis_url)
    back = pr.read_streams(redis_url, "s", SCHEMA, include_id=False, include_timestamp=False)
    assert_frame_equal(back, df)

    values = pl.DataFrame({"_key": ["a", "b", "c"], "value": nested_frame()["deep"]})
    pr.write_strings(values.drop_nulls(), redis_url)
    assert redis_client.get("a") == b'[{"name":"n","ids":[1,255]},null]'
    back = pr.read_strings(redis_url, "[ab]", value_type=SCHEMA["deep"]).sort("_key")
    assert_frame_equal(back, values.drop_nulls())
