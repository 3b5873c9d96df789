"""Consumer-group reads (read_stream / iter_stream with group=, ack_entries,
pending) against real Redis servers: at-least-once delivery, never a lost entry.

Ground truth is written and read back with redis-py (``xadd``, ``xrange``,
``xpending``).
"""

from __future__ import annotations

import os
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


def produce(client: Any, stream: str, count: int, start: int = 0) -> list[str]:
    """Append ``count`` entries ``n = start..`` to ``stream``; their ids."""
    pipe = client.pipeline(transaction=False)
    for n in range(start, start + count):
        pipe.xadd(stream, {"n": n})
    return [i.decode() for i in pipe.execute()]


def in_id_order(ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))


def pending_ids(client: Any, stream: str, group: str) -> list[str]:
    rows = client.xpending_range(stream, group, "-", "+", 1_000_000)
    return [row["message_id"].decode() for row in rows]


def consume_all(url: str, consumer: str, sink: list[str], **options: Any) -> None:
    with pr.iter_stream(
        url, "s", schema=SCHEMA, group="g", consumer=consumer, follow=False,
        block_ms=300, ack=True, **options,
    ) as batches:  # fmt: skip
        for batch in batches:
            sink.extend(batch["_id"].to_list())


def test_two_consumers_share_the_entries_disjointly(redis_url: str, redis_client: Any) -> None:
    ids = produce(redis_client, "s", 10_000)
    seen: dict[str, list[str]] = {"c1": [], "c2": []}
    threads = [
        threading.Thread(target=consume_all, args=(redis_url, name, seen[name]),
                         kwargs={"batch_size": 250})
        for name in seen
    ]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    first, second = set(seen["c1"]), set(seen["c2"])
    assert len(first) == len(seen["c1"]) and len(second) == len(seen["c2"])
    assert not first & second
    assert first | second == set(ids)
    assert first and second, "both consumers got entries"
    assert pending_ids(redis_client, "s", "g") == []


def test_values_are_decoded_like_a_scan(redis_url: str, redis_client: Any) -> None:
    redis_client.xadd("s", {"n": 7, "x": "a"}, id="5-1")
    redis_client.xadd("s", {"x": "b"}, id="6-0")
    df = pr.read_stream(
        redis_url, "s", schema={"n": pl.Int64, "x": pl.String}, group="g", consumer="c",
        include_sequence=True,
    )  # fmt: skip
    assert df.to_dicts() == [
        {"_id": "5-1", "_ts": pl.Series([5]).cast(pl.Datetime("ms"))[0], "_seq": 1, "n": 7,
         "x": "a"},
        {"_id": "6-0", "_ts": pl.Series([6]).cast(pl.Datetime("ms"))[0], "_seq": 0, "n": None,
         "x": "b"},
    ]  # fmt: skip
    # Not acknowledged: both pending with consumer c.
    assert pending_ids(redis_client, "s", "g") == ["5-1", "6-0"]
    truth = redis_client.xpending_range("s", "g", "-", "+", 10)
    frame = pr.pending(redis_url, "s", "g")
    assert frame["_id"].to_list() == [r["message_id"].decode() for r in truth]
    assert frame["consumer"].to_list() == ["c", "c"]
    assert frame["deliveries"].to_list() == [r["times_delivered"] for r in truth]
    assert pr.ack_entries(redis_url, "s", "g", ["5-1", "9-9"]) == 1
    assert pending_ids(redis_client, "s", "g") == ["6-0"]


def test_a_batch_is_acked_only_when_the_next_is_requested(
    redis_url: str, redis_client: Any
) -> None:
    ids = produce(redis_client, "s", 30)
    batches = pr.iter_stream(
        redis_url, "s", schema=SCHEMA, group="g", consumer="c", batch_size=10,
        follow=False, block_ms=100, ack=True,
    )  # fmt: skip
    first = next(batches)
    assert first["_id"].to_list() == ids[:10]
    assert pending_ids(redis_client, "s", "g") == ids[:10]
    second = next(batches)
    assert second["_id"].to_list() == ids[10:20]
    assert pending_ids(redis_client, "s", "g") == ids[10:20]
    batches.close()  # a normal close acknowledges the last batch
    assert pending_ids(redis_client, "s", "g") == []
    # The rest is still there for the group.
    rest = pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", ack=True)
    assert rest["_id"].to_list() == ids[20:]
    assert pending_ids(redis_client, "s", "g") == []


def test_an_exception_leaves_the_batch_pending_and_a_claimer_processes_it(
    redis_url: str, redis_client: Any
) -> None:
    ids = produce(redis_client, "s", 20)
    with pytest.raises(RuntimeError, match="boom"), pr.iter_stream(
        redis_url, "s", schema=SCHEMA, group="g", consumer="crashing", batch_size=5,
        follow=False, block_ms=100, ack=True,
    ) as batches:  # fmt: skip
        for n, _batch in enumerate(batches):
            if n == 1:
                raise RuntimeError("boom")
    # The first batch was acked when the second was requested; the second is pending.
    assert pending_ids(redis_client, "s", "g") == ids[5:10]
    time.sleep(0.2)
    got: list[str] = []
    consume_all(redis_url, "rescuer", got, batch_size=5, claim_min_idle_ms=100)
    assert in_id_order(got) == ids[5:]
    assert got[:5] == ids[5:10], "the claimed entries come first"
    assert pending_ids(redis_client, "s", "g") == []
    owners = redis_client.xinfo_consumers("s", "g")
    assert {c["name"].decode(): c["pending"] for c in owners} == {"crashing": 0, "rescuer": 0}


def test_not_idle_long_enough_is_not_claimed(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 4)
    pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="a")
    df = pr.read_stream(
        redis_url, "s", schema=SCHEMA, group="g", consumer="b", claim_min_idle_ms=60_000
    )
    assert df.height == 0
    assert len(pending_ids(redis_client, "s", "g")) == 4


WORKER = textwrap.dedent(
    """
    import sys, time
    import polars as pl
    import polars_redis as pr

    url = sys.argv[1]
    for n, batch in enumerate(pr.iter_stream(
        url, "s", schema={"n": pl.Int64}, group="g", consumer="worker", batch_size=10,
        follow=False, block_ms=100, ack=True,
    )):
        print(",".join(batch["_id"].to_list()), flush=True)
        if n == 2:
            time.sleep(600)  # killed here, mid-batch
    """
)


def test_kill_9_of_a_consumer_process_loses_no_entry(redis_url: str, redis_client: Any) -> None:
    ids = produce(redis_client, "s", 50)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, redis_url], stdout=subprocess.PIPE, text=True
    )
    try:
        lines = [worker.stdout.readline().strip() for _ in range(3)]  # type: ignore[union-attr]
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    delivered = [i for line in lines for i in line.split(",")]
    assert delivered == ids[:30]
    # Batches 1 and 2 were acked when the next was asked for; batch 3 was being processed.
    assert pending_ids(redis_client, "s", "g") == ids[20:30]
    # The same consumer restarting re-reads its own pending entries first.
    again = pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="worker", count=10)
    assert again["_id"].to_list() == ids[20:30]
    # Another consumer takes over everything left once it is idle.
    time.sleep(0.15)
    got: list[str] = []
    consume_all(redis_url, "other", got, batch_size=10, claim_min_idle_ms=100)
    assert in_id_order(got) == ids[20:]
    assert pending_ids(redis_client, "s", "g") == []


def test_entries_trimmed_while_pending_give_no_row_and_are_acked(
    redis_url: str, redis_client: Any
) -> None:
    ids = produce(redis_client, "s", 10)
    first = pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", count=6)
    assert first["_id"].to_list() == ids[:6]
    # MAXLEN trims the oldest 4 (pending) entries while they are being processed.
    redis_client.xtrim("s", maxlen=6, approximate=False)
    with pr.iter_stream(
        redis_url, "s", schema=SCHEMA, group="g", consumer="c", follow=False, block_ms=100,
        ack=True,
    ) as batches:  # fmt: skip
        again = pl.concat(list(batches))
    # Pending entries still there are read again, the trimmed ones give no row.
    assert again["_id"].to_list() == ids[4:]
    assert again["n"].to_list() == list(range(4, 10))
    assert pending_ids(redis_client, "s", "g") == []


def test_trimming_while_a_group_reads(redis_url: str, redis_client: Any) -> None:
    stop = threading.Event()
    added: list[str] = []

    def producer() -> None:
        client = redis_client.__class__(connection_pool=redis_client.connection_pool)
        n = 0
        while not stop.is_set() and n < 3000:
            added.append(client.xadd("s", {"n": n}, maxlen=50, approximate=False).decode())
            n += 1

    redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    thread = threading.Thread(target=producer)
    thread.start()
    got: list[str] = []
    try:
        with pr.iter_stream(
            redis_url, "s", schema=SCHEMA, group="g", consumer="c", batch_size=20,
            block_ms=300, follow=False, ack=True,
        ) as batches:  # fmt: skip
            for batch in batches:
                got.extend(batch["_id"].to_list())
                assert batch["n"].null_count() == 0
    finally:
        stop.set()
        thread.join()
    assert len(got) == len(set(got))
    assert set(got) <= set(added)
    assert got == in_id_order(got)
    assert pending_ids(redis_client, "s", "g") == []


def test_group_errors_are_clear(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 1)
    with pytest.raises(pr.RedisServerError, match=r"NOGROUP.*create_group=True"):
        pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", create_group=False)
    with pytest.raises(pr.InvalidInputError, match="both group= and consumer="):
        pr.read_stream(redis_url, "s", schema=SCHEMA, group="g")
    with pytest.raises(pr.InvalidInputError, match="ack needs a consumer group"):
        pr.read_stream(redis_url, "s", schema=SCHEMA, block_ms=10, ack=True)
    with pytest.raises(pr.InvalidInputError, match="start_id"):
        pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", start_id="$")
    with pytest.raises(pr.InvalidInputError, match="block_ms"):
        pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", block_ms=0)
    redis_client.set("plain", "x")
    with pytest.raises(pr.RedisServerError, match="WRONGTYPE"):
        pr.read_stream(redis_url, "plain", schema=SCHEMA, group="g", consumer="c")


def test_group_creation_from_new_entries_only(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 3)
    df = pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", group_start_id="$")
    assert df.height == 0
    new = produce(redis_client, "s", 2, start=3)
    df = pr.read_stream(redis_url, "s", schema=SCHEMA, group="g", consumer="c", auto_ack=True)
    assert df["_id"].to_list() == new
    assert pending_ids(redis_client, "s", "g") == []
    # A group on a stream that does not exist yet creates the stream (MKSTREAM).
    assert pr.read_stream(redis_url, "fresh", schema=SCHEMA, group="g", consumer="c").height == 0
    assert redis_client.type("fresh") == b"stream"


def test_several_streams_in_one_group(redis_url: str, redis_client: Any) -> None:
    a = produce(redis_client, "a", 5)
    b = produce(redis_client, "b", 3, start=100)
    df = pr.read_stream(redis_url, ["a", "b"], schema=SCHEMA, group="g", consumer="c", ack=True)
    assert df.columns == ["_stream", "_id", "_ts", "n"]
    got = {(s, i) for s, i in df.select("_stream", "_id").iter_rows()}
    assert got == {("a", i) for i in a} | {("b", i) for i in b}
    assert pending_ids(redis_client, "a", "g") == pending_ids(redis_client, "b", "g") == []


def test_several_streams_on_a_cluster_are_read_by_slot(
    cluster_url: str, cluster_client: Any
) -> None:
    names = ["orders", "payments", "{orders}:late", "audit"]
    truth: set[tuple[str, str]] = set()
    for n, name in enumerate(names):
        for i in range(20):
            truth.add((name, cluster_client.xadd(name, {"n": n * 100 + i}).decode()))
    got: set[tuple[str, str]] = set()
    with pr.iter_stream(
        cluster_url, names, schema=SCHEMA, group="g", consumer="c", batch_size=7,
        follow=False, block_ms=100, ack=True,
    ) as batches:  # fmt: skip
        for batch in batches:
            got |= set(batch.select("_stream", "_id").iter_rows())
    assert got == truth
    for name in names:
        assert cluster_client.xpending(name, "g")["pending"] == 0
    assert pr.pending(cluster_url, "payments", "g").height == 0
