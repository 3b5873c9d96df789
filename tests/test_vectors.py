"""Float vectors in hashes and JSON documents (issue 15, vectors).

In hashes, ``pl.Array(pl.Float32 | pl.Float64, dim)`` and ``pl.List`` of those
floats are little-endian blobs, byte-identical to numpy's; in JSON documents
they stay JSON arrays. Ground truth is written and read with redis-py and numpy.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis.exceptions import ParseError

VECTORS = [[0.5, -1.25, 3.0, 1e-30], [0.1, 0.2, 0.3, 0.4], [float("inf"), -0.0, 7.0, -7.5]]


def vector_frame(dtype: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {"_key": ["v:1", "v:2", "v:3"], "emb": VECTORS, "n": [1, 2, 3]},
        schema={"_key": pl.String, "emb": dtype, "n": pl.Int64},
    )


@pytest.mark.parametrize(
    ("dtype", "numpy_dtype"),
    [
        (pl.Array(pl.Float32, 4), "<f4"),
        (pl.Array(pl.Float64, 4), "<f8"),
        (pl.List(pl.Float32), "<f4"),
        (pl.List(pl.Float64), "<f8"),
    ],
)
def test_hash_vectors_are_numpy_blobs_and_round_trip(
    redis_url: str, redis_client: Any, dtype: Any, numpy_dtype: str
) -> None:
    df = vector_frame(dtype)
    pr.write_hashes(df, redis_url)
    for key, vector in zip(df["_key"], VECTORS):
        stored = redis_client.hget(key, "emb")
        assert stored == np.asarray(vector, dtype=numpy_dtype).tobytes()
    for fetch in ("hgetall", "hmget"):
        back = pr.read_hashes(redis_url, "v:*", {"emb": dtype, "n": pl.Int64}, fetch=fetch)
        assert_frame_equal(back.sort("_key"), df)


def test_blobs_written_by_numpy_are_read(redis_url: str, redis_client: Any) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((5, 16)).astype("<f4")
    for i, vector in enumerate(vectors):
        redis_client.hset(f"doc:{i}", mapping={"emb": vector.tobytes(), "empty": b""})
    df = pr.read_hashes(
        redis_url,
        "doc:*",
        {"emb": pl.Array(pl.Float32, 16), "empty": pl.List(pl.Float32)},
    ).sort("_key")
    np.testing.assert_array_equal(df["emb"].to_numpy(), vectors)
    assert df["empty"].to_list() == [[]] * 5


@pytest.mark.parametrize(
    ("dtype", "stored", "expected"),
    [
        (pl.Array(pl.Float32, 4), b"\x00" * 12, "one of dimension 4 is 16 bytes, this one is 12"),
        (pl.Array(pl.Float64, 2), b"\x00" * 8, "one of dimension 2 is 16 bytes, this one is 8"),
        (pl.List(pl.Float32), b"\x00" * 6, "4-byte elements, and this one is 6 bytes"),
        # JSON text, as an earlier version stored float arrays: a bad length too.
        (pl.Array(pl.Float32, 2), b"[1.0, 2.0]", "one of dimension 2 is 8 bytes, this one is 10"),
    ],
)
def test_a_blob_of_the_wrong_length_is_a_parse_error_naming_key_field_and_lengths(
    redis_url: str, redis_client: Any, dtype: Any, stored: bytes, expected: str
) -> None:
    redis_client.hset("bad", mapping={"emb": stored, "n": "1"})
    schema = {"emb": dtype, "n": pl.Int64}
    with pytest.raises(ParseError) as raised:
        pr.read_hashes(redis_url, keys=["bad"], schema=schema)
    message = str(raised.value)
    assert 'key "bad"' in message and "`emb`" in message and expected in message, message
    df = pr.read_hashes(redis_url, keys=["bad"], schema=schema, strict=False, include_key=False)
    assert df.to_dicts() == [{"emb": None, "n": 1}]


def test_a_null_element_is_refused_before_anything_is_written(
    redis_url: str, redis_client: Any
) -> None:
    df = pl.DataFrame(
        {"_key": ["a", "b"], "emb": [[1.0, 2.0], [1.0, None]]},
        schema={"_key": pl.String, "emb": pl.Array(pl.Float32, 2)},
    )
    with pytest.raises(pr.InvalidInputError, match=r"row 1, key \"b\", column `emb`: element 1"):
        pr.write_hashes(df, redis_url)
    assert redis_client.dbsize() == 0


def test_other_nested_columns_in_hashes_stay_json_text(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {"_key": ["h"], "ints": [[1, 2]], "emb": [[1.5, 2.5]]},
        schema={"_key": pl.String, "ints": pl.Array(pl.Int64, 2), "emb": pl.Array(pl.Float64, 2)},
    )
    pr.write_hashes(df, redis_url)
    assert redis_client.hget("h", "ints") == b"[1,2]"
    assert redis_client.hget("h", "emb") == np.asarray([1.5, 2.5], "<f8").tobytes()


def test_json_documents_keep_json_arrays(stack_url: str, stack_client: Any) -> None:
    df = vector_frame(pl.Array(pl.Float32, 4)).with_columns(
        pl.col("emb").arr.eval(pl.element().clip(-10, 10))
    )
    pr.write_json(df, stack_url)
    stored = json.loads(stack_client.execute_command("JSON.GET", "v:2", "$.emb"))
    assert stored == [VECTORS[1]]  # a JSON array of the shortest float32 texts
    back = pr.read_json(stack_url, "v:*", {"emb": pl.Array(pl.Float32, 4), "n": pl.Int64})
    assert_frame_equal(back.sort("_key"), df)
