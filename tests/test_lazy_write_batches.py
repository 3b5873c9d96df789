"""How a LazyFrame's batches reach the write: the memory of the keys
written so far (``SeenKeys``: a bitmap, then exact sorted runs), the
background thread taking batches one ahead (``Prefetched``), and a key
repeated far apart refused against a real server (checked with redis-py)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import _lazy_write
from polars_redis._lazy_write import Prefetched, SeenKeys


def hashes(values: list[int]) -> pl.Series:
    return pl.Series("hash", values, dtype=pl.UInt64)


def test_seen_keys_answers_exactly_across_many_batches() -> None:
    rng = random.Random(7)
    seen = SeenKeys()
    added: set[int] = set()
    for _ in range(150):  # enough to grow the bitmap and merge runs many times
        batch = list({rng.getrandbits(64) for _ in range(500)} - added)
        old = rng.sample(sorted(added), min(50, len(added)))
        queries = batch + old
        mask = seen.seen(hashes(queries)).to_list()
        assert mask == [q in added for q in queries]
        seen.add(hashes(batch))
        added.update(batch)
    assert len(seen) == len(added)


def test_seen_keys_with_bitmap_collisions_stays_exact() -> None:
    seen = SeenKeys()
    size = 1 << 20  # the initial bitmap: values equal modulo it share a bit
    seen.add(hashes([5, 7]))
    mask = seen.seen(hashes([5 + size, 7, 7 + 3 * size, 9])).to_list()
    assert mask == [False, True, False, False]


def test_prefetched_gives_every_item_in_order() -> None:
    with Prefetched(iter(range(100))) as items:
        assert list(items) == list(range(100))


def test_prefetched_raises_the_source_error_at_its_place() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("third")

    got = []
    with pytest.raises(ValueError, match="third"), Prefetched(source()) as items:
        for item in items:
            got.append(item)
    assert got == [1, 2]


def test_prefetched_stays_at_most_one_ahead_and_stops_on_close() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    items = Prefetched(source())
    first = next(iter(items))
    time.sleep(0.3)
    # One handed over, one waiting in the queue, one being offered.
    assert first == 0 and len(produced) <= 3
    items.close()
    assert not any(t.name == "polars-redis-lazy-write" for t in threading.enumerate())


def test_a_key_repeated_far_apart_is_refused_after_earlier_batches(
    redis_url: str, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_lazy_write, "LAZY_BATCH_ROWS", 1_000)
    keys = [f"far:{n}" for n in range(20_000)]
    keys[19_500] = "far:3"  # first written in batch 1, again in batch 20
    lf = pl.LazyFrame({"_key": keys, "n": list(range(20_000))})
    with pytest.raises(pr.InvalidInputError, match="'far:3'"):
        pr.write_hashes(lf, redis_url)
    assert redis_client.hget("far:3", "n") == b"3"  # not overwritten
    assert redis_client.exists("far:18999") == 1  # earlier batches were written
    assert redis_client.exists("far:19000") == 0  # the refused batch was not


def test_row_index_keys_need_no_memory(redis_url: str, redis_client: Any) -> None:
    lf = pl.LazyFrame({"n": list(range(5_000))})
    result = pr.write_hashes(lf, redis_url, key_column=None, key_prefix="ri:")
    assert result.keys_written == 5_000 == redis_client.dbsize()
    assert redis_client.hget("ri:4999", "n") == b"4999"
