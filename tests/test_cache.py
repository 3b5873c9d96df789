"""The DataFrame cache against real servers; redis-py checks what is stored."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys
import threading
import time
from typing import Any

import polars as pl
import pytest

import polars_redis as redis

MANIFEST_PREFIX = b"polars-redis-cache/1\n"


def _frame(rows: int = 50) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "i8": pl.Series([i % 100 - 50 for i in range(rows)], dtype=pl.Int8),
            "u64": pl.Series([2**63 + i for i in range(rows)], dtype=pl.UInt64),
            "f": [i / 3 if i % 7 else None for i in range(rows)],
            "s": [f"näme {i}" if i % 5 else None for i in range(rows)],
            "b": [i % 2 == 0 for i in range(rows)],
            "d": [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(rows)],
            "ts": pl.Series(
                [dt.datetime(2024, 1, 1, 12, i % 60) for i in range(rows)],
                dtype=pl.Datetime("us", "Europe/Oslo"),
            ),
            "dur": [dt.timedelta(seconds=i) for i in range(rows)],
            "dec": pl.Series(
                [decimal.Decimal(f"{i}.25") for i in range(rows)], dtype=pl.Decimal(10, 2)
            ),
            "cat": pl.Series([["x", "y"][i % 2] for i in range(rows)], dtype=pl.Categorical),
            "lst": [[i, i + 1] for i in range(rows)],
            "st": [{"a": i, "b": str(i)} for i in range(rows)],
            "bin": [bytes([i % 256]) * 3 for i in range(rows)],
        }
    )


def _keys(client: Any) -> list[bytes]:
    return sorted(client.keys("*"))


def _manifest(client: Any, key: str) -> dict[str, Any]:
    raw = client.get(key)
    assert raw.startswith(MANIFEST_PREFIX)
    return json.loads(raw[len(MANIFEST_PREFIX) :])


def _chunk_keys(client: Any, key: str) -> list[bytes]:
    return [k for k in _keys(client) if b":chunk:" in k]


CODECS = [
    ("ipc", None),
    ("ipc", "lz4"),
    ("ipc", "zstd"),
    ("parquet", None),
    ("parquet", "uncompressed"),
    ("parquet", "snappy"),
    ("parquet", "gzip"),
    ("parquet", "lz4"),
    ("parquet", "brotli"),
]


@pytest.mark.parametrize(("format", "compression"), CODECS)
def test_round_trip_every_dtype(redis_url: str, format: str, compression: str | None) -> None:
    df = _frame()
    size = redis.cache_dataframe(df, redis_url, "f", format=format, compression=compression)  # type: ignore[arg-type]
    got = redis.get_cached_dataframe(redis_url, "f")
    assert got is not None
    assert got.equals(df)
    assert got.schema == df.schema
    info = redis.cache_info(redis_url, "f")
    assert info is not None
    assert info["size_bytes"] == size
    assert info["format"] == format
    assert info["compression"] == (compression or ("uncompressed" if format == "ipc" else "zstd"))
    assert info["rows"] == df.height
    assert info["columns"] == df.columns


def test_compression_level_round_trips(redis_url: str) -> None:
    df = _frame(200)
    redis.cache_dataframe(
        df, redis_url, "z", format="parquet", compression="zstd", compression_level=19
    )
    assert redis.get_cached_dataframe(redis_url, "z").equals(df)  # type: ignore[union-attr]
    assert redis.cache_info(redis_url, "z")["compression_level"] == 19  # type: ignore[index]


@pytest.mark.parametrize("format", ["ipc", "parquet"])
def test_columns_and_n_rows(redis_url: str, format: str) -> None:
    df = _frame()
    redis.cache_dataframe(df, redis_url, "f", format=format)  # type: ignore[arg-type]
    got = redis.get_cached_dataframe(redis_url, "f", columns=["s", "i8"], n_rows=7)
    assert got is not None
    assert got.equals(df.select("s", "i8").head(7))
    assert redis.get_cached_dataframe(redis_url, "f", format=format).equals(df)  # type: ignore[arg-type, union-attr]


def test_many_chunks_stored_and_read_back(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"x": range(300_000), "y": [f"row {i}" for i in range(300_000)]})
    size = redis.cache_dataframe(df, redis_url, "big", chunk_size_mb=0.25)
    chunk = int(0.25 * 1024 * 1024)
    expected_chunks = -(-size // chunk)
    assert expected_chunks > 10
    chunks = _chunk_keys(redis_client, "big")
    assert len(chunks) == expected_chunks
    assert all(len(redis_client.get(k)) <= chunk for k in chunks)
    assert sum(len(redis_client.get(k)) for k in chunks) == size
    manifest = _manifest(redis_client, "big")
    assert len(manifest["chunk_sizes"]) == expected_chunks
    info = redis.cache_info(redis_url, "big")
    assert info is not None
    assert info["is_chunked"]
    assert info["num_chunks"] == expected_chunks
    assert redis.get_cached_dataframe(redis_url, "big").equals(df)  # type: ignore[union-attr]
    # Published chunks carry no orphan expiry.
    assert all(redis_client.pttl(k) == -1 for k in chunks)


def test_unchunked_is_one_value(redis_url: str, redis_client: Any) -> None:
    df = _frame()
    size = redis.cache_dataframe(df, redis_url, "one", chunk_size_mb=0)
    chunks = _chunk_keys(redis_client, "one")
    assert len(chunks) == 1
    assert len(redis_client.get(chunks[0])) == size
    info = redis.cache_info(redis_url, "one")
    assert info is not None
    assert (info["is_chunked"], info["num_chunks"]) == (False, 1)


def test_overwrite_removes_the_old_version(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"x": range(100_000)})
    redis.cache_dataframe(df, redis_url, "k", chunk_size_mb=0.1)
    first = set(_chunk_keys(redis_client, "k"))
    redis.cache_dataframe(df.head(10), redis_url, "k", chunk_size_mb=0.1)
    second = set(_chunk_keys(redis_client, "k"))
    assert first and second and not first & second
    assert len(second) == 1
    assert redis.get_cached_dataframe(redis_url, "k").equals(df.head(10))  # type: ignore[union-attr]


def test_ttl_applies_to_manifest_and_chunks(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"x": range(100_000)})
    redis.cache_dataframe(df, redis_url, "t", ttl=120, chunk_size_mb=0.1)
    ttl = redis.cache_ttl(redis_url, "t")
    assert ttl is not None and 110 <= ttl <= 120
    assert 110 <= redis_client.ttl("t") <= 120
    # Chunks never expire before their manifest (absolute expiry times).
    manifest_at = redis_client.execute_command("PEXPIRETIME", "t")
    for key in _chunk_keys(redis_client, "t"):
        chunk_at = redis_client.execute_command("PEXPIRETIME", key)
        assert manifest_at <= chunk_at <= manifest_at + 5_000
    info = redis.cache_info(redis_url, "t")
    assert info is not None and 110 <= info["ttl"] <= 120
    # Rewriting without a TTL makes the entry permanent again.
    redis.cache_dataframe(df, redis_url, "t", chunk_size_mb=0.1)
    assert redis.cache_ttl(redis_url, "t") is None
    assert all(redis_client.ttl(k) == -1 for k in _chunk_keys(redis_client, "t"))
    assert redis.cache_ttl(redis_url, "missing") is None


def test_short_ttl_expires_the_whole_entry(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(
        pl.DataFrame({"x": range(100_000)}), redis_url, "gone", ttl=1, chunk_size_mb=0.1
    )
    assert len(_keys(redis_client)) > 2
    deadline = time.monotonic() + 5
    while _keys(redis_client) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _keys(redis_client) == []
    assert redis.get_cached_dataframe(redis_url, "gone") is None


def test_info_created_and_missing(redis_url: str) -> None:
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    redis.cache_dataframe(_frame(), redis_url, "i")
    info = redis.cache_info(redis_url, "i")
    assert info is not None
    assert before <= info["created"] <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    assert info["ttl"] is None
    assert redis.cache_info(redis_url, "nope") is None
    assert redis.get_cached_dataframe(redis_url, "nope") is None
    assert redis.scan_cached(redis_url, "nope") is None


def test_delete_and_exists(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(pl.DataFrame({"x": range(50_000)}), redis_url, "d", chunk_size_mb=0.1)
    redis_client.set("other", "keep")
    assert redis.cache_exists(redis_url, "d")
    assert redis.delete_cached(redis_url, "d")
    assert not redis.cache_exists(redis_url, "d")
    assert not redis.delete_cached(redis_url, "d")
    assert _keys(redis_client) == [b"other"]


def test_foreign_keys_are_refused_and_kept(redis_url: str, redis_client: Any) -> None:
    redis_client.set("plain", "hello")
    redis_client.hset("h", "a", "1")
    with pytest.raises(redis.InvalidInputError, match="not a polars-redis cache entry"):
        redis.get_cached_dataframe(redis_url, "plain")
    with pytest.raises(redis.InvalidInputError, match="not a polars-redis cache entry"):
        redis.delete_cached(redis_url, "plain")
    with pytest.raises(redis.WrongTypeError, match="hash"):
        redis.cache_exists(redis_url, "h")
    assert redis_client.get("plain") == b"hello"


def test_scan_cached(redis_url: str) -> None:
    df = _frame()
    redis.cache_dataframe(df, redis_url, "s", format="parquet")
    lf = redis.scan_cached(redis_url, "s")
    assert isinstance(lf, pl.LazyFrame)
    assert lf.filter(pl.col("b")).collect().equals(df.filter(pl.col("b")))


def test_corrupt_chunk_is_a_typed_error(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(pl.DataFrame({"x": range(100_000)}), redis_url, "c", chunk_size_mb=0.1)
    chunk = _chunk_keys(redis_client, "c")[1]
    redis_client.setrange(chunk, 100, b"\x00\x01\x02")
    with pytest.raises(redis.CacheCorruptError, match="fails its checksum"):
        redis.get_cached_dataframe(redis_url, "c")


def test_truncated_chunk_is_a_typed_error(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(pl.DataFrame({"x": range(100_000)}), redis_url, "c", chunk_size_mb=0.1)
    chunk = _chunk_keys(redis_client, "c")[0]
    redis_client.set(chunk, redis_client.get(chunk)[:-1], keepttl=True)
    with pytest.raises(redis.CacheCorruptError, match=r"holds \d+ bytes"):
        redis.get_cached_dataframe(redis_url, "c")


def test_missing_chunk_is_a_typed_error(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(pl.DataFrame({"x": range(100_000)}), redis_url, "c", chunk_size_mb=0.1)
    redis_client.delete(_chunk_keys(redis_client, "c")[-1])
    with pytest.raises(redis.CacheCorruptError, match="is missing"):
        redis.get_cached_dataframe(redis_url, "c")
    assert redis.delete_cached(redis_url, "c")


def test_damaged_manifest_is_a_typed_error(redis_url: str, redis_client: Any) -> None:
    redis.cache_dataframe(_frame(), redis_url, "c")
    redis_client.set("c", redis_client.get("c")[:-3])
    with pytest.raises(redis.CacheCorruptError, match="manifest is damaged"):
        redis.cache_info(redis_url, "c")


def test_concurrent_overwrite_never_mixes(redis_url: str) -> None:
    frames = [pl.DataFrame({"x": pl.Series(range(60_000)) + k * 1_000_000}) for k in range(3)]
    redis.cache_dataframe(frames[0], redis_url, "race", chunk_size_mb=0.05)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                redis.cache_dataframe(frames[n % 3], redis_url, "race", chunk_size_mb=0.05)
        except BaseException as err:
            errors.append(err)

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    seen = set()
    try:
        for _ in range(60):
            got = redis.get_cached_dataframe(redis_url, "race")
            assert got is not None
            matches = [k for k, f in enumerate(frames) if got.equals(f)]
            assert len(matches) == 1, "a read returned a frame no write produced"
            seen.add(matches[0])
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert not errors
    assert len(seen) >= 2


def test_cluster_round_trip_in_one_slot(cluster_url: str, cluster_client: Any) -> None:
    df = pl.DataFrame({"x": range(100_000), "s": ["v"] * 100_000})
    for key in ["plain", "{user:1}:frame", "odd}key"]:
        size = redis.cache_dataframe(df, cluster_url, key, chunk_size_mb=0.1, ttl=600)
        assert size > 0
        assert redis.get_cached_dataframe(cluster_url, key).equals(df)  # type: ignore[union-attr]
        info = redis.cache_info(cluster_url, key)
        assert info is not None and info["num_chunks"] > 3
        assert redis.cache_ttl(cluster_url, key) is not None
    chunks = [k for k in cluster_client.keys("*") if b":chunk:" in k]
    by_entry: dict[bytes, set[int]] = {}
    for k in chunks:
        by_entry.setdefault(k.split(b":chunk:")[0], set()).add(cluster_client.keyslot(k))
    assert all(len(slots) == 1 for slots in by_entry.values())
    assert cluster_client.keyslot(b"{plain}:chunk:x") == cluster_client.keyslot("plain")
    for key in ["plain", "{user:1}:frame", "odd}key"]:
        assert redis.delete_cached(cluster_url, key)
    assert [k for k in cluster_client.keys("*") if b":chunk:" in k] == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "csv"}, "format must be one of"),
        ({"compression": "lzo"}, "compression for format 'ipc' must be one of"),
        ({"format": "parquet", "compression": "zip"}, "must be one of"),
        ({"compression_level": 3}, "applies to format='parquet' only"),
        ({"format": "parquet", "compression": "snappy", "compression_level": 3}, "gzip, brotli"),
        ({"format": "parquet", "compression": "zstd", "compression_level": 23}, "between 1 and 22"),
        ({"format": "parquet", "compression": "gzip", "compression_level": -1}, "between 0 and 9"),
        ({"ttl": 0}, "ttl must be a positive"),
        ({"chunk_size_mb": -1}, "chunk_size_mb must be between 0"),
        ({"chunk_size_mb": 513}, "chunk_size_mb must be between 0"),
        ({"chunk_size_mb": 1e-9}, "less than one byte"),
    ],
)
def test_bad_input(redis_url: str, redis_client: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(redis.InvalidInputError, match=message):
        redis.cache_dataframe(_frame(), redis_url, "bad", **kwargs)
    assert _keys(redis_client) == []


def test_bad_read_arguments(redis_url: str) -> None:
    redis.cache_dataframe(_frame(), redis_url, "r")
    with pytest.raises(redis.InvalidInputError, match="in format 'ipc', not 'parquet'"):
        redis.get_cached_dataframe(redis_url, "r", format="parquet")
    with pytest.raises(redis.InvalidInputError, match=r"no column\(s\) \['nope'\]"):
        redis.get_cached_dataframe(redis_url, "r", columns=["nope"])
    with pytest.raises(redis.InvalidInputError, match="n_rows must be at least 0"):
        redis.get_cached_dataframe(redis_url, "r", n_rows=-1)
    with pytest.raises(redis.ArgumentTypeError):
        redis.cache_dataframe({"a": [1]}, redis_url, "r")  # type: ignore[arg-type]
    with pytest.raises(redis.InvalidInputError):
        redis.cache_dataframe(_frame(), "http://nope", "r")


def test_decorator_hits_misses_and_invalidate(redis_url: str, redis_client: Any) -> None:
    calls: list[tuple[str, int]] = []

    @redis.cache(url=redis_url, ttl=60, key_prefix="app")
    def totals(city: str, limit: int = 3) -> pl.DataFrame:
        calls.append((city, limit))
        return pl.DataFrame({"city": [city] * limit})

    assert totals("ams").equals(pl.DataFrame({"city": ["ams"] * 3}))
    assert totals("ams").height == 3
    assert totals(city="ams", limit=3).height == 3
    assert totals("ber", 1).height == 1
    assert calls == [("ams", 3), ("ber", 1)]
    assert (totals.hits, totals.misses) == (2, 2)
    key = totals.cache_key_for("ams")
    assert key.startswith("app:totals:")
    assert key == totals.cache_key_for("ams", 3) == totals.cache_key_for(limit=3, city="ams")
    assert key != totals.cache_key_for("ams", 4)
    assert redis_client.exists(key) and 50 <= redis_client.ttl(key) <= 60
    assert totals.invalidate("ams")
    assert not totals.invalidate("ams")
    totals("ams")
    assert calls[-1] == ("ams", 3)


def test_lazy_decorator(redis_url: str) -> None:
    runs = []

    @redis.cache_lazy(url=redis_url, format="parquet")
    def evens(n: int) -> pl.LazyFrame:
        runs.append(n)
        return pl.LazyFrame({"x": range(n)}).filter(pl.col("x") % 2 == 0)

    first = evens(10)
    second = evens(10)
    assert isinstance(first, pl.LazyFrame) and isinstance(second, pl.LazyFrame)
    assert first.collect().equals(second.collect())
    assert runs == [10]
    assert redis.cache_info(redis_url, evens.cache_key_for(10))["format"] == "parquet"  # type: ignore[index]


def test_decorator_refuses_unstable_arguments_and_wrong_results(redis_url: str) -> None:
    @redis.cache(url=redis_url)
    def f(x: Any) -> Any:
        return x

    with pytest.raises(redis.ArgumentTypeError, match="stable cache key from x of type object"):
        f(object())
    with pytest.raises(redis.ArgumentTypeError, match="must return a DataFrame"):
        f(1)
    with pytest.raises(redis.InvalidInputError, match="ttl must be a positive"):
        redis.cache(url=redis_url, ttl=-5)


def test_cache_key_is_stable_across_processes(redis_url: str) -> None:
    code = (
        "import datetime, polars as pl, polars_redis as r\n"
        "@r.cache(url='redis://127.0.0.1:1', key_prefix='p')\n"
        "def f(a, b=None, **kw): return pl.DataFrame()\n"
        "print(f.cache_key_for(1, b={'z': [1.5, 'x'], 'a': (b'\\x00', None)}, "
        "d=datetime.date(2024, 1, 2), s={3, 1, 2}, df=pl.DataFrame({'q': [1]})))\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1
    assert next(iter(keys)).startswith("p:f:")


@pytest.mark.parametrize("format", ["ipc", "parquet"])
def test_empty_frames_round_trip(redis_url: str, format: str) -> None:
    for df in (_frame(0), pl.DataFrame()):
        redis.cache_dataframe(df, redis_url, "empty", format=format)  # type: ignore[arg-type]
        got = redis.get_cached_dataframe(redis_url, "empty")
        assert got is not None
        assert got.equals(df) and got.schema == df.schema
