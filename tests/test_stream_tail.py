"""Tailing streams without a group (iter_stream(follow=True), read_stream with
block_ms) and the snapshot forms of read_stream / scan_stream, against a real
Redis server; ground truth from redis-py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import polars as pl
import pytest

import polars_redis as pr

SCHEMA = {"n": pl.Int64}


def later(seconds: float, action: Any) -> threading.Thread:
    thread = threading.Timer(seconds, action)
    thread.start()
    return thread


def test_follow_from_dollar_reads_only_new_entries(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"n": -1})
    batches = pr.iter_stream(redis_url, "s", schema=SCHEMA, batch_size=5, block_ms=200)
    new: list[str] = []
    timer = later(
        0.1, lambda: new.extend(redis_client.xadd("s", {"n": n}).decode() for n in range(5))
    )
    got: list[pl.DataFrame] = []
    try:
        while sum(b.height for b in got) < 5:
            got.append(next(batches))
    finally:
        timer.join()
        batches.close()
    df = pl.concat(got)
    assert df["_id"].to_list() == new
    assert df["n"].to_list() == list(range(5))


def test_a_batch_every_batch_size_entries_or_block_ms(redis_url: str, redis_client: Any) -> None:
    for n in range(7):
        redis_client.xadd("s", {"n": n})
    batches = pr.iter_stream(
        redis_url, "s", schema=SCHEMA, batch_size=3, block_ms=300, start_id="0", follow=False
    )
    started = time.monotonic()
    sizes = [len(b) for b in batches]
    assert sizes == [3, 3, 1]
    assert time.monotonic() - started >= 0.3, "the last, short batch waited for block_ms"


def test_tailing_waits_for_entries_across_rounds(redis_url: str, redis_client: Any) -> None:
    got: list[int] = []

    def produce() -> None:
        for n in range(6):
            redis_client.xadd("s", {"n": n})
            time.sleep(0.15)

    with pr.iter_stream(redis_url, "s", schema=SCHEMA, batch_size=100, block_ms=100) as batches:
        thread = threading.Thread(target=produce)
        thread.start()
        for batch in batches:
            got.extend(batch["n"].to_list())
            if len(got) >= 6:
                break
        thread.join()
    assert got == list(range(6))


def test_stream_deleted_while_tailing_is_a_clear_error(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"n": 1})
    batches = pr.iter_stream(redis_url, "s", schema=SCHEMA, block_ms=100)
    timer = later(0.2, lambda: redis_client.delete("s"))
    try:
        with pytest.raises(pr.RedisServerError, match=r'"s".*deleted while it was being tailed'):
            next(batches)
    finally:
        timer.join()


def test_tailing_a_stream_that_does_not_exist_yet(redis_url: str, redis_client: Any) -> None:
    batches = pr.iter_stream(redis_url, "later", schema=SCHEMA, block_ms=100)
    timer = later(0.3, lambda: redis_client.xadd("later", {"n": 42}))
    try:
        assert next(batches)["n"].to_list() == [42]
    finally:
        timer.join()
        batches.close()


def test_several_streams_are_tailed_together(redis_url: str, redis_client: Any) -> None:
    a = redis_client.xadd("a", {"n": 1}).decode()
    b = redis_client.xadd("b", {"n": 2}).decode()
    batches = pr.iter_stream(
        redis_url, ["a", "b"], schema=SCHEMA, start_id="0", follow=False, block_ms=50
    )
    df = pl.concat(list(batches))
    assert df.columns == ["_stream", "_id", "_ts", "n"]
    assert sorted(df.select("_stream", "_id", "n").iter_rows()) == [("a", a, 1), ("b", b, 2)]


def test_empty_tail_ends_within_block_ms(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"n": 1})
    started = time.monotonic()
    batches = pr.iter_stream(
        redis_url, "s", schema=SCHEMA, block_ms=200, start_id="$", follow=False
    )
    assert list(batches) == []
    assert 0.2 <= time.monotonic() - started < 2


TAILER = textwrap.dedent(
    """
    import sys
    import polars as pl
    import polars_redis as pr

    print("ready", flush=True)
    try:
        for batch in pr.iter_stream(sys.argv[1], "s", schema={"n": pl.Int64}, block_ms=300):
            pass
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


def test_ctrl_c_interrupts_a_tail_within_block_ms(redis_url: str) -> None:
    tailer = subprocess.Popen(
        [sys.executable, "-c", TAILER, redis_url], stdout=subprocess.PIPE, text=True
    )
    assert tailer.stdout is not None
    assert tailer.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    sent = time.monotonic()
    tailer.send_signal(signal.SIGINT)
    out, _ = tailer.communicate(timeout=10)
    assert out.strip() == "interrupted"
    assert time.monotonic() - sent < 2


def test_close_from_another_thread_stops_the_tail(redis_url: str) -> None:
    batches = pr.iter_stream(redis_url, "s", schema=SCHEMA, block_ms=200)
    timer = later(0.3, batches.close)
    started = time.monotonic()
    assert list(batches) == []
    timer.join()
    assert time.monotonic() - started < 2


def test_read_stream_with_block_ms_waits_for_new_entries(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"n": 0})
    timer = later(0.1, lambda: redis_client.xadd("s", {"n": 1}))
    df = pr.read_stream(redis_url, "s", schema=SCHEMA, start_id="$", block_ms=2000, count=1)
    timer.join()
    assert df["n"].to_list() == [1]
    empty = pr.read_stream(redis_url, "s", schema=SCHEMA, block_ms=50)
    assert empty.height == 0
    assert empty.columns == ["_id", "_ts", "n"]


def test_read_stream_snapshot_is_an_xrange(redis_url: str, redis_client: Any) -> None:
    ids = [redis_client.xadd("s", {"n": n, "tag": f"t{n}"}).decode() for n in range(5)]
    df = pr.read_stream(redis_url, "s", schema=SCHEMA)
    assert df["_id"].to_list() == ids
    assert df.columns == ["_id", "_ts", "n"]
    assert (
        pr.read_stream(redis_url, "s", schema=SCHEMA, start_id=ids[1], count=2)["_id"].to_list()
        == ids[1:3]
    )
    # schema=None infers from the stream's entries.
    inferred = pr.read_stream(redis_url, "s")
    assert inferred.schema["n"] == pl.Int64 and inferred.schema["tag"] == pl.String
    lazy = pr.scan_stream(redis_url, "s", schema=SCHEMA)
    assert lazy.filter(pl.col("n") > 2).select("n").collect()["n"].to_list() == [3, 4]


def test_tail_options_are_checked(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="follow=False"):
        pr.iter_stream(redis_url, "s", schema=SCHEMA, block_ms=None)
    with pytest.raises(pr.InvalidInputError, match="claim_min_idle_ms"):
        pr.iter_stream(redis_url, "s", schema=SCHEMA, claim_min_idle_ms=10)
    with pytest.raises(pr.InvalidInputError, match="start_id"):
        pr.iter_stream(redis_url, "s", schema=SCHEMA, start_id="nope")
    with pytest.raises(pr.InvalidInputError, match="listed twice"):
        pr.iter_stream(redis_url, ["s", "s"], schema=SCHEMA)
    with pytest.raises(pr.ArgumentTypeError):
        pr.iter_stream(redis_url, "s", schema=SCHEMA, batch_size="10")  # type: ignore[arg-type]
