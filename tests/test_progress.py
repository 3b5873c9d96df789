"""``progress=`` on scans, reads, iterations and searches: a callable gets
every batch's running count and a last report equal to the rows read; True
draws on stderr."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import polars_redis as redis


def _load(client: Any, n: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(f"user:{i}", mapping={"age": i})
        pipe.sadd(f"tags:{i % 10}", f"t{i}")
    pipe.execute()


def test_a_callable_sees_every_batch_and_the_end(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 250)
    seen: list[redis.Progress] = []
    df = redis.read_hashes(
        redis_url, "user:*", {"age": pl.Int64}, batch_size=100, progress=seen.append
    )
    assert df.height == 250
    assert [p.rows for p in seen if not p.finished] == sorted(
        p.rows for p in seen if not p.finished
    )
    assert len([p for p in seen if not p.finished]) >= 3  # one report per batch
    last = seen[-1]
    assert last.finished and last.rows == 250
    assert "hashes 'user:*'" in last.what
    assert last.rate > 0


def test_iteration_reports_rows_of_collections(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 250)
    seen: list[redis.Progress] = []
    rows = sum(b.height for b in redis.iter_sets(redis_url, "tags:*", progress=seen.append))
    assert rows == 250
    assert seen[-1].finished and seen[-1].rows == 250


def test_a_filter_counts_rows_read_not_kept(redis_url: str, redis_client: Any) -> None:
    _load(redis_client, 250)
    seen: list[redis.Progress] = []
    lf = redis.scan_hashes(redis_url, "user:*", {"age": pl.Int64}, progress=seen.append)
    assert lf.filter(pl.col("age") < 10).collect().height == 10
    assert seen[-1].rows == 250


def test_true_draws_on_stderr(
    redis_url: str, redis_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _load(redis_client, 50)
    redis.read_hashes(redis_url, "user:*", {"age": pl.Int64}, progress=True)
    err = capsys.readouterr().err
    assert "user:*" in err and "50" in err


def test_progress_must_be_a_bool_or_callable(redis_url: str) -> None:
    with pytest.raises(redis.InvalidInputError, match="progress"):
        redis.read_hashes(redis_url, "user:*", {"age": pl.Int64}, progress="yes")  # type: ignore[call-overload, arg-type]
