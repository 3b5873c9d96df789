"""Kafka-style state analytics on Redis streams: a producer appends payment
events, a consumer group keeps rolling aggregates per account and writes
them back as hashes, resuming exactly where it stopped after a restart.

Usage: python examples/kafka_state.py redis://127.0.0.1:6379 [events]

It writes (and finally deletes) the stream ``demo:payments``, the hashes
``demo:account:*`` and the consumer's checkpoint.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from typing import Any

import polars as pl
import redis

import polars_redis as pr
from polars_redis.stream_consumer import default_checkpoint_key

STREAM = "demo:payments"
GROUP = "account-state"


def produce(url: str, events: int) -> None:
    """Append ``events`` payments (a few per millisecond) with redis-py."""
    client = redis.Redis.from_url(url)
    rng = random.Random(7)
    for start in range(0, events, 500):
        pipe = client.pipeline(transaction=False)
        for _ in range(start, min(start + 500, events)):
            account = f"acct-{rng.randrange(20)}"
            pipe.xadd(STREAM, {"account": account, "amount": round(rng.uniform(1, 200), 2)})
        pipe.execute()
        time.sleep(0.01)
    client.close()


def fold(state: dict[str, Any], batch: pl.DataFrame) -> pl.DataFrame:
    """Fold a batch of payments into the per-account aggregates in ``state``;
    the accounts it changed, as rows ready to write."""
    per_account = batch.group_by("account").agg(
        pl.len().alias("payments"),
        pl.col("amount").sum().alias("total"),
        pl.col("amount").max().alias("largest"),
        pl.col("_ts").max().alias("last_payment"),
    )
    for row in per_account.iter_rows(named=True):
        old = state.get(row["account"], {"payments": 0, "total": 0.0, "largest": 0.0})
        state[row["account"]] = {
            "payments": old["payments"] + row["payments"],
            "total": round(old["total"] + row["total"], 2),
            "largest": max(old["largest"], row["largest"]),
            "last_payment": row["last_payment"].isoformat(),
        }
    changed = per_account["account"].to_list()
    return pl.DataFrame([{"account": a, **state[a]} for a in changed]).with_columns(
        pl.col("last_payment").str.to_datetime()
    )


def run_consumer(url: str, name: str, stop_after: int | None = None) -> dict[str, Any]:
    """Consume until the stream is idle (or ``stop_after`` batches), writing
    ``demo:account:<account>`` hashes; returns the aggregates."""
    consumer = pr.StreamConsumer(
        url, STREAM, GROUP, name,
        schema={"account": pl.String, "amount": pl.Float64},
        batch_size=1000, block_ms=500, claim_min_idle_ms=5_000,
    )  # fmt: skip
    state: dict[str, Any] = dict(consumer.checkpoint.state)
    with consumer:
        for n, batch in enumerate(consumer):
            changed = fold(state, batch)
            # Idempotent: rewriting the same aggregates after a crash is harmless.
            pr.write_hashes(changed, url, key_column="account", key_prefix="demo:account:")
            consumer.commit(state)  # ack + checkpoint in one MULTI/EXEC
            if stop_after is not None and n + 1 >= stop_after:
                break
    return state


def main(url: str, events: int) -> None:
    client = redis.Redis.from_url(url)
    client.delete(STREAM)
    producer = threading.Thread(target=produce, args=(url, events))
    producer.start()
    # A first worker stops after two batches (as if it were redeployed)...
    time.sleep(0.2)
    run_consumer(url, "worker-1", stop_after=2)
    producer.join()
    # ...and resumes from its checkpoint.
    state = run_consumer(url, "worker-1")
    accounts = pr.read_hashes(
        url, "demo:account:*",
        schema={"payments": pl.Int64, "total": pl.Float64, "largest": pl.Float64},
    ).sort("_key")  # fmt: skip
    print(accounts.head(5))
    print(f"{accounts['payments'].sum()} payments folded into {accounts.height} accounts")
    assert accounts["payments"].sum() == events == sum(a["payments"] for a in state.values())

    for key in client.scan_iter("demo:account:*"):
        client.delete(key)
    client.delete(STREAM, default_checkpoint_key(STREAM, GROUP, "worker-1"))
    client.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379",
         int(sys.argv[2]) if len(sys.argv) > 2 else 20_000)  # fmt: skip
