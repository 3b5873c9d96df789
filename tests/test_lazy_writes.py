"""write_* from a LazyFrame: written batch by batch (Polars' streaming
engine), with the per-key guarantees of an eager write and one combined
WriteResult. Each lazy write is compared with the eager write of the same
frame, read back with redis-py."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import _internal, _lazy_write


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 64 rows, so every frame here spans several."""
    monkeypatch.setattr(_lazy_write, "LAZY_BATCH_ROWS", 64)


def contents(client: Any, prefix: str) -> dict[bytes, Any]:
    """Every key under ``prefix`` (prefix removed) with its value, by type."""
    out: dict[bytes, Any] = {}
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        kind = client.type(key)
        value: Any
        if kind == b"hash":
            value = client.hgetall(key)
        elif kind == b"list":
            value = client.lrange(key, 0, -1)
        elif kind == b"set":
            value = client.smembers(key)
        elif kind == b"zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == b"stream":
            value = [fields for _, fields in client.xrange(key)]
        else:
            value = client.get(key)
        out[key[len(prefix) :]] = (kind, value)
    return out


def same_result(lazy: pr.WriteResult, eager: pr.WriteResult) -> None:
    assert (lazy.rows, lazy.written, lazy.skipped, lazy.failed, lazy.keys_written) == (
        eager.rows, eager.written, eager.skipped, eager.failed, eager.keys_written,
    )  # fmt: skip


ROWS = 1000
ONE_ROW_PER_KEY = pl.DataFrame(
    {
        "_key": [f"k{i}" for i in range(ROWS)],
        "n": list(range(ROWS)),
        "x": [i / 4 for i in range(ROWS)],
        "s": [None if i % 7 == 0 else f"s{i}" for i in range(ROWS)],
    }
)
# Keys in runs of 1 to 50 rows: several runs cross a 64-row batch boundary.
GROUPED = pl.DataFrame(
    {
        "_key": [f"g{i // 37}" if i < 500 else f"h{i // 50}" for i in range(ROWS)],
        "member": [f"m{i}" for i in range(ROWS)],
        "score": [float(i % 13) for i in range(ROWS)],
    }
)


@pytest.mark.parametrize(
    ("write", "frame", "extra"),
    [
        (pr.write_hashes, ONE_ROW_PER_KEY, {}),
        (pr.write_strings, ONE_ROW_PER_KEY.select("_key", "n"), {"value_column": "n"}),
        (pr.write_sets, GROUPED.drop("score"), {}),
        (pr.write_lists, GROUPED.drop("score"), {"element_column": "member"}),
        (pr.write_zsets, GROUPED, {}),
        (pr.write_streams, GROUPED, {}),
    ],
    ids=["hashes", "strings", "sets", "lists", "zsets", "streams"],
)
def test_lazy_writes_equal_eager_writes(
    redis_url: str, redis_client: Any, write: Any, frame: pl.DataFrame, extra: dict[str, Any]
) -> None:
    eager = write(frame, redis_url, key_prefix="e:", **extra)
    lazy = write(frame.lazy().filter(pl.lit(True)), redis_url, key_prefix="l:", **extra)
    same_result(lazy, eager)
    assert contents(redis_client, "l:") == contents(redis_client, "e:")


def test_batches_are_written_as_polars_produces_them(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    native = _internal.write_hashes

    def counting(df: Any, *args: Any) -> Any:
        sizes.append(df.height)
        return native(df, *args)

    monkeypatch.setattr(_internal, "write_hashes", counting)
    result = pr.write_hashes(ONE_ROW_PER_KEY.lazy(), redis_url)
    assert result.written == ROWS
    assert len(sizes) > 1 and max(sizes) <= 64 and sum(sizes) == ROWS


def test_row_index_keys_are_numbered_across_batches(redis_url: str, redis_client: Any) -> None:
    frame = ONE_ROW_PER_KEY.drop("_key")
    pr.write_hashes(frame, redis_url, key_column=None, key_prefix="e:")
    pr.write_hashes(frame.lazy(), redis_url, key_column=None, key_prefix="l:")
    lazy, eager = contents(redis_client, "l:"), contents(redis_client, "e:")
    assert len(lazy) == ROWS and lazy == eager
    assert b"__polars_redis_row_key" not in redis_client.hgetall("l:5")


def test_a_key_repeated_in_two_batches_is_refused(redis_url: str) -> None:
    frame = pl.DataFrame({"_key": [f"k{i}" for i in range(100)] + ["k3"], "n": range(101)})
    with pytest.raises(pr.InvalidInputError, match=r"repeat|more than once|duplicate|twice"):
        pr.write_hashes(frame, redis_url)
    with pytest.raises(pr.InvalidInputError, match="'k3' appears in two batches"):
        pr.write_hashes(frame.lazy(), redis_url)


def test_a_key_split_over_batches_is_refused_unless_appending(
    redis_url: str, redis_client: Any
) -> None:
    # Key "a" comes back after "b": its rows are not contiguous.
    frame = pl.DataFrame({"_key": ["a"] * 70 + ["b"] * 10 + ["a"] * 5, "member": range(85)})
    with pytest.raises(pr.InvalidInputError, match=r"'a' are not contiguous.*Sort"):
        pr.write_lists(frame.lazy(), redis_url, element_column="member")
    redis_client.flushall()
    pr.write_lists(frame, redis_url, element_column="member", key_prefix="e:")
    pr.write_lists(
        frame.lazy(), redis_url, element_column="member", key_prefix="l:", if_exists="append"
    )
    assert contents(redis_client, "l:") == contents(redis_client, "e:")
    # Sorted by key, the same rows replace as one write per key.
    result = pr.write_lists(frame.lazy().sort("_key", maintain_order=True), redis_url,
                            element_column="member", key_prefix="s:")  # fmt: skip
    assert result.keys_written == 2
    assert redis_client.lrange("s:a", 0, -1) == redis_client.lrange("e:a", 0, -1)


def test_fail_mode_sees_every_key_first(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("k900", "n", "old")
    with pytest.raises(pr.WriteError):
        pr.write_hashes(ONE_ROW_PER_KEY.lazy(), redis_url, if_exists="fail")
    assert redis_client.dbsize() == 1, "nothing written"


def test_failures_name_rows_of_the_whole_frame(redis_url: str, redis_client: Any) -> None:
    redis_client.set("k700", "a string")
    eager = pr.write_hashes(ONE_ROW_PER_KEY, redis_url, if_exists="append", raise_on_error=False)
    lazy = pr.write_hashes(
        ONE_ROW_PER_KEY.lazy(), redis_url, if_exists="append", raise_on_error=False
    )
    same_result(lazy, eager)
    assert [(f.key, f.first_row, f.rows) for f in lazy.failures] == [("k700", 700, 1)]
    assert lazy.failures == eager.failures
