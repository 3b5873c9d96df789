"""``progress=`` on every ``write_*`` (eager and lazy) and in ``polars-redis
import``, against a real server: a callable sees rows done and keys written
grow to the result's counts, with the frame's height as the total of an
eager write. Ground truth is read back with redis-py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import _lazy_write

ROWS = 30_000


def users(rows: int = ROWS) -> pl.DataFrame:
    return pl.DataFrame({"_key": [f"wp:{n}" for n in range(rows)], "n": list(range(rows))})


def check_reports(seen: list[pr.Progress], result: pr.WriteResult, total: int | None) -> None:
    assert seen, "no progress was reported"
    assert [p.finished for p in seen].count(True) == 1 and seen[-1].finished
    last = seen[-1]
    assert (last.rows, last.keys) == (result.rows, result.keys_written)
    assert all(p.total == total for p in seen)
    rows = [p.rows for p in seen]
    keys = [p.keys for p in seen]
    assert rows == sorted(rows) and keys == sorted(keys)  # type: ignore[type-var]
    assert last.what == "write_hashes" or last.what.startswith("write_")
    assert last.rate > 0


def test_eager_write_reports_counts_and_the_frame_height(redis_url: str, redis_client: Any) -> None:
    seen: list[pr.Progress] = []
    # Paced (about half a second): the write lasts long enough for reports while it runs.
    result = pr.write_hashes(
        users(), redis_url, progress=seen.append, batch_size=100, rate_limit=60_000
    )
    check_reports(seen, result, ROWS)
    assert result.keys_written == ROWS == redis_client.dbsize()
    assert any(0 < p.rows < ROWS for p in seen if not p.finished), "no report while writing"


def test_lazy_write_reports_each_batch(
    redis_url: str, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_lazy_write, "LAZY_BATCH_ROWS", 5_000)
    seen: list[pr.Progress] = []
    result = pr.write_hashes(users().lazy(), redis_url, progress=seen.append)
    check_reports(seen, result, None)
    assert redis_client.dbsize() == ROWS
    # One report at least per batch of 5,000 rows, each a step forward.
    assert len({p.rows for p in seen}) >= ROWS // 5_000


def test_keys_count_written_keys_not_rows(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["wp:s1"] * 3 + ["wp:s2"] * 2, "member": list("abcde")})
    seen: list[pr.Progress] = []
    result = pr.write_sets(df, redis_url, progress=seen.append)
    assert (seen[-1].rows, seen[-1].keys, seen[-1].total) == (5, 2, 5)
    assert result.keys_written == 2
    assert redis_client.scard("wp:s1") == 3


def test_skipped_keys_are_rows_done_but_not_keys_written(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("wp:0", "n", "old")
    seen: list[pr.Progress] = []
    pr.write_hashes(users(10), redis_url, if_exists="skip", progress=seen.append)
    assert (seen[-1].rows, seen[-1].keys) == (10, 9)
    assert redis_client.hget("wp:0", "n") == b"old"


WRITES: list[tuple[Callable[..., pr.WriteResult], pl.DataFrame, dict[str, Any]]] = [
    (pr.write_hashes, pl.DataFrame({"_key": ["a", "b"], "n": [1, 2]}), {}),
    (pr.write_json, pl.DataFrame({"_key": ["a", "b"], "n": [1, 2]}), {}),
    (pr.write_strings, pl.DataFrame({"_key": ["a", "b"], "value": ["x", "y"]}), {}),
    (pr.write_sets, pl.DataFrame({"_key": ["a", "a"], "member": ["x", "y"]}), {}),
    (pr.write_lists, pl.DataFrame({"_key": ["a", "a"], "element": ["x", "y"]}), {}),
    (pr.write_zsets, pl.DataFrame({"_key": ["a", "b"], "member": ["x", "y"], "score": [1, 2]}), {}),
    (pr.write_streams, pl.DataFrame({"_key": ["a", "a"], "f": ["x", "y"]}), {}),
    (pr.write_timeseries, pl.DataFrame({"_key": ["a", "a"], "_ts": [1, 2], "value": [1.0, 2]}), {}),
]


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(("write", "df", "options"), WRITES, ids=[w[0].__name__ for w in WRITES])
def test_every_write_takes_progress(
    stack_url: str,
    stack_client: Any,
    write: Callable[..., pr.WriteResult],
    df: pl.DataFrame,
    options: dict[str, Any],
    lazy: bool,
) -> None:
    stack_client.flushall()
    seen: list[pr.Progress] = []
    frame = df.lazy() if lazy else df
    result = write(frame, stack_url, progress=seen.append, **options)
    assert seen[-1].finished
    assert seen[-1].what == write.__name__
    assert (seen[-1].rows, seen[-1].keys) == (df.height, result.keys_written)
    assert seen[-1].total == (None if lazy else df.height)


def test_progress_true_draws_on_stderr(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    pr.write_hashes(users(100), redis_url, progress=True)
    err = capsys.readouterr().err
    assert "write_hashes" in err


def test_an_exception_in_the_callable_comes_after_the_write(
    redis_url: str, redis_client: Any
) -> None:
    def stop(p: pr.Progress) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        pr.write_hashes(users(), redis_url, progress=stop, batch_size=100, rate_limit=60_000)
    # The write was not cut in the middle: every key is there.
    assert redis_client.dbsize() == ROWS


def test_bad_progress_is_refused(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="progress"):
        pr.write_hashes(users(2), redis_url, progress="yes")  # type: ignore[typeddict-item]


def test_cli_import_shows_progress(redis_url: str, redis_client: Any, tmp_path: Path) -> None:
    src = tmp_path / "users.parquet"
    users(2_000).write_parquet(src)
    env = {**os.environ, "REDIS_URL": ""}
    env.pop("REDIS_URL")
    done = subprocess.run(
        [sys.executable, "-m", "polars_redis.cli", "import", str(src), redis_url],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The plain renderer (tqdm is not a dependency): the last line is exact.
    assert "write_hashes: 2,000 of 2,000 rows (2,000 keys written)" in done.stderr
    assert redis_client.dbsize() == 2_000
    quiet = subprocess.run(
        [sys.executable, "-m", "polars_redis.cli", "import", str(src), redis_url,
         "--no-progress"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert quiet.returncode == 0 and "write_hashes" not in quiet.stderr
