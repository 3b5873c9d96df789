"""StreamConsumer: a checkpointed consumer-group reader whose state is
committed with its acknowledgements (one MULTI/EXEC) and resumes after a
restart or a kill -9. Ground truth from redis-py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis.stream_consumer import default_checkpoint_key

SCHEMA = {"n": pl.Int64}


def produce(client: Any, stream: str, count: int) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        pipe.xadd(stream, {"n": n})
    return [i.decode() for i in pipe.execute()]


def test_commit_acks_and_stores_the_checkpoint_together(redis_url: str, redis_client: Any) -> None:
    ids = produce(redis_client, "s", 25)
    consumer = pr.StreamConsumer(redis_url, "s", "g", "w", schema=SCHEMA, batch_size=10)
    assert consumer.checkpoint == pr.Checkpoint()
    batch = next(consumer)
    assert redis_client.xpending("s", "g")["pending"] == 10
    checkpoint = consumer.commit({"total": batch["n"].sum()})
    assert checkpoint == pr.Checkpoint(ids[9], 10, {"total": 45})
    assert redis_client.xpending("s", "g")["pending"] == 0
    stored = redis_client.hgetall(default_checkpoint_key("s", "g", "w"))
    assert stored == {b"last_id": ids[9].encode(), b"entries": b"10", b"state": b'{"total": 45}'}
    # The next batch commits the previous one with the last state.
    next(consumer)
    next(consumer)
    assert consumer.checkpoint.entries == 20
    assert redis_client.xpending("s", "g")["pending"] == 5
    consumer.close()
    assert redis_client.xpending("s", "g")["pending"] == 0
    assert consumer.checkpoint == pr.Checkpoint(ids[-1], 25, {"total": 45})
    # A new run starts from the stored checkpoint.
    again = pr.StreamConsumer(redis_url, "s", "g", "w", schema=SCHEMA)
    assert again.checkpoint == consumer.checkpoint
    assert list(again) == []


WORKER = textwrap.dedent(
    """
    import sys, time
    import polars as pl
    import polars_redis as pr

    url, crash_at = sys.argv[1], int(sys.argv[2])
    consumer = pr.StreamConsumer(
        url, "s", "g", "w", schema={"n": pl.Int64}, batch_size=7, block_ms=100
    )
    total = consumer.checkpoint.state.get("total", 0)
    for n, batch in enumerate(consumer):
        total += int(batch["n"].sum())
        if n == crash_at:
            print("crashing", flush=True)
            time.sleep(600)  # killed mid-batch: this batch is processed, not committed
        consumer.commit({"total": total})
    consumer.close()
    print("done", total, flush=True)
    """
)


def run_worker(url: str, crash_at: int) -> str:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(crash_at)], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    line = worker.stdout.readline().strip()
    if line == "crashing":
        os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=60)
    return line


def test_state_counts_every_entry_once_across_kill_9(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 100)
    assert run_worker(redis_url, crash_at=3) == "crashing"
    key = default_checkpoint_key("s", "g", "w")
    assert int(redis_client.hget(key, "entries")) == 21  # three committed batches of 7
    assert run_worker(redis_url, crash_at=5) == "crashing"
    assert run_worker(redis_url, crash_at=-1) == f"done {sum(range(100))}"
    assert json.loads(redis_client.hget(key, "state")) == {"total": sum(range(100))}
    assert int(redis_client.hget(key, "entries")) == 100
    assert redis_client.xpending("s", "g")["pending"] == 0


def test_an_exception_commits_nothing(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 10)
    consumer = pr.StreamConsumer(redis_url, "s", "g", "w", schema=SCHEMA, batch_size=4)
    with pytest.raises(ValueError, match="bad"), consumer:
        for _batch in consumer:
            raise ValueError("bad")
    assert redis_client.xpending("s", "g")["pending"] == 4
    assert not redis_client.exists(default_checkpoint_key("s", "g", "w"))


def test_checkpoint_key_shares_the_stream_slot_on_a_cluster(
    cluster_url: str, cluster_client: Any
) -> None:
    produce(cluster_client, "orders", 5)
    with pr.StreamConsumer(cluster_url, "orders", "g", "w", schema=SCHEMA, block_ms=50) as c:
        for batch in c:
            c.commit({"rows": batch.height})
    key = default_checkpoint_key("orders", "g", "w")
    assert key == "{orders}:checkpoint:g:w"
    assert cluster_client.hget(key, "entries") == b"5"
    consumer = pr.StreamConsumer(
        cluster_url, "orders", "g", "w2", schema=SCHEMA, checkpoint_key="elsewhere"
    )
    produce(cluster_client, "orders", 1)
    next(consumer)
    with pytest.raises(pr.InvalidInputError, match="another hash slot"):
        consumer.commit({})


def test_state_must_be_json(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "s", 1)
    consumer = pr.StreamConsumer(redis_url, "s", "g", "w", schema=SCHEMA)
    next(consumer)
    with pytest.raises(pr.InvalidInputError, match="JSON-serializable"):
        consumer.commit({"x": object()})
    assert redis_client.xpending("s", "g")["pending"] == 1


def test_the_kafka_state_example_runs(redis_url: str, redis_client: Any) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "kafka_state.py"
    done = subprocess.run(
        [sys.executable, str(example), redis_url, "3000"], capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3000 payments folded into 20 accounts" in done.stdout
    assert redis_client.dbsize() == 0, "the example cleans up"
