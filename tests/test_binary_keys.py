"""Keys that are not UTF-8: ``key_dtype=pl.Binary`` reads them as raw bytes
on every scan (all eight types, ``keys=``, searches), the default String key
column names that option in its ``ParseError``, and a Binary key column is
written as those bytes. Ground truth written and checked with redis-py."""

from __future__ import annotations

import json
from typing import Any, Callable

import polars as pl
import pytest

import polars_redis as pr

RAW = b"bin:\xff\xfe\x00x"  # not UTF-8, with a NUL byte
TEXT = b"bin:plain"


def _hash(client: Any, key: bytes) -> None:
    client.hset(key, mapping={"n": "1"})


def _string(client: Any, key: bytes) -> None:
    client.set(key, "1")


def _set(client: Any, key: bytes) -> None:
    client.sadd(key, "1")


def _list(client: Any, key: bytes) -> None:
    client.rpush(key, "1")


def _zset(client: Any, key: bytes) -> None:
    client.zadd(key, {"1": 1.0})


def _stream(client: Any, key: bytes) -> None:
    client.xadd(key, {"n": "1"}, id="1-1")


def _json(client: Any, key: bytes) -> None:
    client.execute_command("JSON.SET", key, "$", json.dumps({"n": 1}))


def _timeseries(client: Any, key: bytes) -> None:
    client.execute_command("TS.ADD", key, 1000, 1)


N = {"n": pl.Int64}

#: type -> (writer with redis-py, scan function, its arguments besides the URL, needs Stack)
CASES: dict[
    str, tuple[Callable[[Any, bytes], None], Callable[..., pl.LazyFrame], dict[str, Any], bool]
] = {
    "hashes": (_hash, pr.scan_hashes, {"schema": N}, False),
    "strings": (_string, pr.scan_strings, {"value_type": pl.Int64}, False),
    "sets": (_set, pr.scan_sets, {"member_type": pl.Int64}, False),
    "lists": (_list, pr.scan_lists, {"element_type": pl.Int64}, False),
    "zsets": (_zset, pr.scan_zsets, {"member_type": pl.Int64}, False),
    "streams": (_stream, pr.scan_streams, {"schema": N}, False),
    "json": (_json, pr.scan_json, {"schema": N}, True),
    "timeseries": (_timeseries, pr.scan_timeseries, {}, True),
}


@pytest.fixture(params=list(CASES))
def case(
    request: pytest.FixtureRequest,
) -> tuple[str, Any, Callable[..., pl.LazyFrame], dict[str, Any]]:
    write, scan, args, stack = CASES[request.param]
    url = request.getfixturevalue("stack_url" if stack else "redis_url")
    client = request.getfixturevalue("stack_client" if stack else "redis_client")
    for key in (RAW, TEXT):
        write(client, key)
    return url, client, scan, args


def test_binary_key_column_holds_the_raw_bytes(case: Any) -> None:
    url, _client, scan, args = case
    df = scan(url, "bin:*", key_dtype=pl.Binary, **args).collect()
    assert df.schema["_key"] == pl.Binary
    assert sorted(df["_key"].to_list()) == sorted([RAW, TEXT])


def test_listed_binary_keys_read_with_binary_key_column(case: Any) -> None:
    url, _client, scan, args = case
    df = scan(url, keys=[RAW], key_dtype=pl.Binary, **args).collect()
    assert df["_key"].to_list() == [RAW]


def test_string_key_column_names_key_dtype_in_the_error(case: Any) -> None:
    url, _client, scan, args = case
    with pytest.raises(pr.ParseError, match=r"key_dtype=pl\.Binary") as info:
        scan(url, "bin:*", **args).collect()
    assert r"\xff\xfe" in str(info.value)
    # Not strict: the key that is not text reads as null, the other as text.
    df = scan(url, "bin:*", strict=False, **args).collect()
    assert sorted(df["_key"].to_list(), key=str) == sorted([None, "bin:plain"], key=str)


def test_binary_key_is_read_and_iterated_too(redis_url: str, redis_client: Any) -> None:
    _hash(redis_client, RAW)
    read = pr.read_hashes(redis_url, "bin:*", N, key_dtype=pl.Binary)
    batches = list(pr.iter_hashes(redis_url, "bin:*", N, key_dtype=pl.Binary))
    assert read.rows() == [(RAW, 1)]
    assert pl.concat(batches).rows() == [(RAW, 1)]


def test_key_filter_on_a_binary_key_column(redis_url: str, redis_client: Any) -> None:
    _hash(redis_client, RAW)
    _hash(redis_client, TEXT)
    lf = pr.scan_hashes(redis_url, "bin:*", N, key_dtype=pl.Binary)
    assert lf.filter(pl.col("_key") == RAW).collect()["_key"].to_list() == [RAW]


def test_key_dtype_must_be_string_or_binary(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="key_dtype must be one of 'String', 'Binary'"):
        pr.scan_hashes(redis_url, "x:*", N, key_dtype=pl.Int64)
    with pytest.raises(pr.ArgumentTypeError, match=r"key_dtype must be a pl\.DataType"):
        pr.scan_hashes(redis_url, "x:*", N, key_dtype="binary")  # type: ignore[arg-type]


def test_search_reads_binary_keys(stack_url: str, stack_client: Any) -> None:
    raw = b"bin:\xff\xfe"  # RediSearch cannot load a key holding a NUL byte
    for key, n in ((raw, 1), (TEXT, 2)):
        stack_client.hset(key, mapping={"n": n})
    pr.create_index(stack_url, "bin_idx", "bin:", {"n": pl.Int64})
    df = pr.search_hashes(stack_url, "bin_idx", "*", N, key_dtype=pl.Binary).collect()
    assert sorted(df.rows()) == sorted([(raw, 1), (TEXT, 2)])
    with pytest.raises(pr.ParseError, match=r"key_dtype=pl\.Binary"):
        pr.search_hashes(stack_url, "bin_idx", "*", N).collect()


def test_search_names_a_key_it_cannot_load(stack_url: str, stack_client: Any) -> None:
    stack_client.hset(RAW, mapping={"n": 1})
    pr.create_index(stack_url, "nul_idx", "bin:", {"n": pl.Int64})
    with pytest.raises(pr.SearchError, match=r"NUL byte.*index=None"):
        pr.search_hashes(stack_url, "nul_idx", "*", N, key_dtype=pl.Binary).collect()
    # Without the index the key reads.
    df = pr.read_hashes(stack_url, "bin:*", N, key_dtype=pl.Binary, index=None)
    assert df.rows() == [(RAW, 1)]


@pytest.mark.parametrize(
    ("write", "extra", "check"),
    [
        (pr.write_hashes, {"n": [1]}, lambda c: c.hgetall(RAW) == {b"n": b"1"}),
        (pr.write_strings, {"value": ["1"]}, lambda c: c.get(RAW) == b"1"),
        (pr.write_sets, {"member": ["1"]}, lambda c: c.smembers(RAW) == {b"1"}),
    ],
    ids=["hashes", "strings", "sets"],
)
def test_binary_key_column_is_written_as_raw_bytes(
    redis_url: str, redis_client: Any, write: Any, extra: dict[str, Any], check: Any
) -> None:
    df = pl.DataFrame({"_key": pl.Series([RAW], dtype=pl.Binary), **extra})
    assert write(df, redis_url).written == 1
    assert redis_client.exists(RAW) == 1
    assert check(redis_client)


def test_binary_keys_round_trip(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": pl.Series([RAW, TEXT], dtype=pl.Binary), "n": [1, 2]})
    pr.write_hashes(df, redis_url)
    assert redis_client.hget(RAW, "n") == b"1"
    back = pr.read_hashes(redis_url, "bin:*", N, key_dtype=pl.Binary).sort("_key")
    assert back.equals(df.sort("_key"))


def test_inference_refuses_a_field_name_that_is_not_utf8(redis_url: str, redis_client: Any) -> None:
    redis_client.hset(b"odd:1", mapping={b"ok": b"1", b"n\xff": b"2"})
    with pytest.raises(pr.SchemaInferenceError, match=r'field name that is not UTF-8 \("n\\xff"\)'):
        pr.infer_hash_schema(redis_url, "odd:*")
    with pytest.raises(pr.SchemaInferenceError, match="pass schema="):
        pr.scan_hashes(redis_url, "odd:*")
    # With a schema the readable fields read; the other is not a column.
    assert pr.read_hashes(redis_url, "odd:*", {"ok": pl.Int64}).rows() == [("odd:1", 1)]
