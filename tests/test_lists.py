"""scan_lists / read_lists / iter_lists against a real Redis server."""

from __future__ import annotations

import gc
import threading
import time
from functools import partial
from typing import Any

import polars as pl
import psutil
import pytest
from collection_helpers import (
    DTYPE_CASES,
    DTYPE_IDS,
    assert_dtype_round_trip,
    calls_during,
    check_schema_combinations,
    collect_both,
)

import polars_redis as redis


def _truth(client: Any, keys: list[str]) -> list[tuple[str, str, int]]:
    return [
        (key, element.decode(), position)
        for key in keys
        for position, element in enumerate(client.lrange(key, 0, -1))
    ]


def test_order_and_positions_match_redis_py(redis_client: Any, redis_url: str) -> None:
    keys = [f"l:{i}" for i in range(30)]
    for i, key in enumerate(keys):
        redis_client.rpush(key, *[f"{key}/{j}" for j in range(i * 13 % 47 + 1)])
    redis_client.rpush("l:long", *[f"e{j}" for j in range(2345)])  # paged
    redis_client.sadd("l:set", "x")
    keys.append("l:long")
    lf = redis.scan_lists(redis_url, keys=keys, include_position=True, batch_size=100)
    df = collect_both(lf)
    assert df.rows() == _truth(redis_client, keys)  # key order, then list order
    by_pattern = collect_both(redis.scan_lists(redis_url, "l:*", include_position=True))
    assert sorted(by_pattern.rows()) == sorted(df.rows())


def test_long_list_is_read_in_pages(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("long", *range(10000))
    redis_client.rpush("short", *range(5))
    lf = redis.scan_lists(redis_url, element_type=pl.Int64, batch_size=1000)
    calls = calls_during(redis_client, lambda: lf.collect())
    assert calls["llen"] == 2
    # Ten full pages of "long", one empty page proving its end (it may have
    # grown meanwhile), and "short" whole.
    assert calls["lrange"] == 10 + 1 + 1
    batches = list(
        redis.iter_lists(redis_url, keys=["long"], element_type=pl.Int64, batch_size=1000)
    )
    assert [b.height for b in batches] == [1000] * 10
    assert pl.concat(batches)["element"].to_list() == list(range(10000))


def test_head_reads_only_what_it_needs(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("long", *range(100000))
    lf = redis.scan_lists(redis_url, element_type=pl.Int64, include_position=True)
    calls = calls_during(redis_client, lambda: collect_both(lf.head(5)))
    assert calls["lrange"] == 2  # one 5-element page per collect
    df = lf.head(5).collect()
    assert df["element"].to_list() == [0, 1, 2, 3, 4] == df["position"].to_list()


def test_million_elements_with_bounded_memory(redis_client: Any, redis_url: str) -> None:
    element = b"x" * 100
    total = 1_000_000
    pipe = redis_client.pipeline(transaction=False)
    for _ in range(total // 10_000):
        pipe.rpush("big", *([element] * 10_000))
    pipe.execute()
    data_size = total * len(element)
    # Warm up first: the runtime's threads and Polars' pools are not data.
    redis_client.rpush("warm", *([element] * 20_000))
    for _ in redis.iter_lists(redis_url, "warm", element_type=pl.Binary, batch_size=10_000):
        pass
    process = psutil.Process()
    gc.collect()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    redis_client.config_resetstat()
    rows, length_sum = 0, 0
    try:
        for batch in redis.iter_lists(
            redis_url, "big", element_type=pl.Binary, include_position=True, batch_size=10_000
        ):
            rows += batch.height
            length_sum += batch["element"].bin.size().sum()
            peak = max(peak, process.memory_info().rss)
    finally:
        done.set()
        sampler.join()
    lrange = int(redis_client.info("commandstats")["cmdstat_lrange"]["calls"])
    assert rows == total and length_sum == data_size
    # Read in 10 000-element LRANGE pages (and an empty one proving the end).
    assert lrange == total // 10_000 + 1
    growth = peak - baseline
    # The design keeps at most ~10 batches of ~1.1 MB in flight (3 workers x 2
    # chunks ahead, 2 in the output queue, 1 being consumed, read buffers),
    # plus allocator slack per thread: 6-20 MB measured here, under load.
    # Reading the whole list at once would need > 100 MB.
    assert growth < data_size / 4, f"RSS grew {growth / 1e6:.1f} MB for {data_size / 1e6} MB"


@pytest.mark.parametrize(("dtype", "texts", "expected"), DTYPE_CASES, ids=DTYPE_IDS)
def test_every_dtype_round_trips(
    redis_client: Any, redis_url: str, dtype: Any, texts: list[bytes], expected: list[Any]
) -> None:
    redis_client.rpush("typed", *texts, *texts)
    df = collect_both(redis.scan_lists(redis_url, element_type=dtype, include_position=True))
    assert_dtype_round_trip(df["element"], dtype, expected + expected)
    assert df["position"].to_list() == list(range(2 * len(texts)))


def test_keys_list_missing_and_wrong_type(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("q", "1", "2")
    df = redis.read_lists(redis_url, keys=["missing", "q"], element_type=pl.Int8)
    assert df.rows() == [("q", 1), ("q", 2)]
    redis_client.zadd("z", {"m": 1})
    with pytest.raises(redis.WrongTypeError, match=r'key "z" holds a zset, not a list'):
        redis.read_lists(redis_url, keys=["q", "z"])


def test_non_utf8_elements(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("bin", b"ok", b"\xc3\x28")
    binary = redis.read_lists(redis_url, element_type=pl.Binary)
    assert binary["element"].to_list() == [b"ok", b"\xc3\x28"]
    with pytest.raises(redis.ParseError, match=r'key "bin", field `element`: .*\\xc3\('):
        redis.read_lists(redis_url)
    assert redis.read_lists(redis_url, strict=False)["element"].to_list() == ["ok", None]


def test_position_only_projection(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("p", *"abcdef")
    lf = redis.scan_lists(redis_url, include_position=True, position_column_name="i")
    assert collect_both(lf.select("i")).to_series().to_list() == list(range(6))
    assert collect_both(lf.filter(pl.col("i") >= 4).select("element")).rows() == [("e",), ("f",)]


def test_schema_agrees_for_every_option(redis_client: Any, redis_url: str) -> None:
    redis_client.rpush("x", "1", "2", "3")
    check_schema_combinations(
        partial(redis.scan_lists, redis_url),
        [
            {},
            {"include_position": True},
            {"element_type": pl.Float32, "include_position": True, "position_column_name": "p"},
            {"element_type": pl.Enum(["1", "2", "3"])},
        ],
    )


def test_empty_database_keeps_schema(redis_url: str) -> None:
    df = collect_both(redis.scan_lists(redis_url, include_position=True, include_ttl=True))
    assert df.schema == pl.Schema(
        {"_key": pl.String, "element": pl.String, "position": pl.Int64, "_ttl": pl.Int64}
    )
    assert df.height == 0
