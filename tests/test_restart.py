"""A read rides through a real server restart between ``iter_*`` batches.

The server keeps its data in an append-only file and is shut down and started
again on the same port while the iteration is paused between two batches:
every connection drops, the address answers again with a new ``run_id``, the
``SCAN`` walk starts over there and the keys already emitted are not emitted
again. Ground truth is written with redis-py.
"""

from __future__ import annotations

import polars as pl
import pytest
from restart_servers import RestartableServer, restartable_server  # noqa: F401
from test_load_budget import SCHEMA, load

import polars_redis

COUNT = 20_000


@pytest.mark.parametrize("parallelism", [1, 3])
def test_iter_completes_exactly_through_a_real_restart(
    restartable_server: RestartableServer,  # noqa: F811
    parallelism: int,
) -> None:
    client = restartable_server.client()
    expected = load(client, COUNT, prefix="rs:")
    client.close()
    before = restartable_server.run_id()
    batches = polars_redis.iter_hashes(
        restartable_server.url,
        "rs:*",
        SCHEMA,
        batch_size=100,
        count_hint=100,
        parallelism=parallelism,
        retries=8,
    )
    first = next(batches)
    restartable_server.restart()
    assert restartable_server.run_id() != before
    rest = list(batches)
    df = pl.concat([first, *rest])
    assert df["_key"].is_duplicated().sum() == 0
    assert df.sort("_key").equals(expected)


def test_a_read_after_the_restart_finds_the_persisted_keys(
    restartable_server: RestartableServer,  # noqa: F811
) -> None:
    # The fixture itself: what was written before the restart is there after it.
    client = restartable_server.client()
    expected = load(client, COUNT, prefix="rs:")
    client.close()
    restartable_server.restart()
    df = polars_redis.read_hashes(restartable_server.url, "rs:*", SCHEMA)
    assert df.sort("_key").equals(expected)
