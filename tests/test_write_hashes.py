"""write_hashes against a real server: ground truth read with redis-py, and
round trips through read_hashes for every supported dtype."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr

AMS = "Europe/Amsterdam"


def _all_dtypes_frame() -> pl.DataFrame:
    n = 5
    ts = [
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
        dt.datetime(2024, 3, 31, 1, 30),  # around a DST change in Amsterdam
        dt.datetime(2024, 10, 27, 0, 30, 0, 123456),
        dt.datetime(1, 1, 1),
        None,
    ]
    return pl.DataFrame(
        {
            "_key": [f"row:{i}" for i in range(n)],
            "s": ["plain", "", "ünïcödé ✓", "line\r\nbreak", None],
            "b": [b"\x00\xff\r\n", b"", b"text", None, b"\x80"],
            "bool": [True, False, None, True, False],
            "i8": pl.Series([-128, 127, 0, None, 1], dtype=pl.Int8),
            "i16": pl.Series([-32768, 32767, 0, None, 1], dtype=pl.Int16),
            "i32": pl.Series([-(2**31), 2**31 - 1, 0, None, 1], dtype=pl.Int32),
            "i64": pl.Series([-(2**63), 2**63 - 1, 0, None, 1], dtype=pl.Int64),
            "u8": pl.Series([0, 255, None, 1, 2], dtype=pl.UInt8),
            "u16": pl.Series([0, 65535, None, 1, 2], dtype=pl.UInt16),
            "u32": pl.Series([0, 2**32 - 1, None, 1, 2], dtype=pl.UInt32),
            "u64": pl.Series([0, 2**64 - 1, None, 1, 2], dtype=pl.UInt64),
            "f32": pl.Series([0.1, -3.4e38, float("inf"), None, 1e-45], dtype=pl.Float32),
            "f64": [0.1 + 0.2, -0.0, float("nan"), 1e308, 5e-324],
            "date": [
                dt.date(1, 1, 1),
                dt.date(1969, 12, 31),
                dt.date(2024, 2, 29),
                None,
                dt.date(9999, 12, 31),
            ],
            "dt_ms": pl.Series(ts, dtype=pl.Datetime("ms")),
            "dt_us": pl.Series(ts, dtype=pl.Datetime("us")),
            "dt_ns_utc": pl.Series(
                [*ts[:3], dt.datetime(2262, 1, 1), None], dtype=pl.Datetime("ns")
            ).dt.replace_time_zone("UTC"),
            "dt_us_ams": pl.Series(ts, dtype=pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(AMS),
            "dt_ms_kolkata": pl.Series(ts, dtype=pl.Datetime("ms"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Asia/Kolkata"),
            "time": [
                dt.time(0, 0),
                dt.time(23, 59, 59, 999999),
                dt.time(12, 0, 0, 1),
                None,
                dt.time(1, 2, 3),
            ],
            "dur_ms": pl.Series(
                [
                    dt.timedelta(0),
                    dt.timedelta(days=-1),
                    None,
                    dt.timedelta(milliseconds=5),
                    dt.timedelta(days=3),
                ],
                dtype=pl.Duration("ms"),
            ),
            "dur_us": pl.Series(
                [
                    dt.timedelta(microseconds=1),
                    dt.timedelta(days=-1),
                    None,
                    dt.timedelta(0),
                    dt.timedelta(hours=5),
                ],
                dtype=pl.Duration("us"),
            ),
            "dur_ns": pl.Series([1, -1, None, 0, 10**15], dtype=pl.Duration("ns")),
            "dec": pl.Series(
                [
                    Decimal("0.01"),
                    Decimal("-12345678.90"),
                    None,
                    Decimal("0"),
                    Decimal("99999999.99"),
                ],
                dtype=pl.Decimal(10, 2),
            ),
            "dec0": pl.Series(
                [Decimal("1"), Decimal("-7"), None, Decimal("0"), Decimal("10") ** 30],
                dtype=pl.Decimal(38, 0),
            ),
            "cat": pl.Series(["a", "b", None, "a", "c"], dtype=pl.Categorical),
            "enum": pl.Series(["x", "y", "x", None, "y"], dtype=pl.Enum(["x", "y"])),
        }
    )


def test_round_trip_every_supported_dtype(redis_url: str) -> None:
    df = _all_dtypes_frame()
    result = pr.write_hashes(df, redis_url)
    assert (result.written, result.keys_written, result.ok) == (df.height, df.height, True)
    schema = {name: dtype for name, dtype in df.schema.items() if name != "_key"}
    back = pr.read_hashes(redis_url, "row:*", schema).sort("_key")
    assert_frame_equal(back, df.sort("_key"), check_column_order=True)


def test_stored_text_is_the_documented_form(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": ["k"],
            "flag": [True],
            "f": [0.1],
            "when": pl.Series([dt.datetime(2024, 1, 1, 12, 0, 0, 500000)], dtype=pl.Datetime("ms"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(AMS),
            "naive": [dt.datetime(2024, 1, 1)],
            "day": [dt.date(2024, 1, 2)],
            "money": pl.Series([Decimal("-0.05")], dtype=pl.Decimal(5, 2)),
            "nested": [{"a": 1, "tags": ["x", "y"], "none": None}],
            # Float lists are vector blobs (tests/test_vectors.py); other lists JSON.
            "list": [[15, None]],
            "gone": [None],
        },
        schema_overrides={"gone": pl.Int64},
    )
    pr.write_hashes(df, redis_url)
    stored = redis_client.hgetall("k")
    assert stored == {
        b"flag": b"true",
        b"f": b"0.1",
        b"when": b"2024-01-01T13:00:00.500+01:00",
        b"naive": b"2024-01-01T00:00:00",
        b"day": b"2024-01-02",
        b"money": b"-0.05",
        b"nested": b'{"a":1,"tags":["x","y"],"none":null}',
        b"list": b"[15,null]",
    }
    assert json.loads(stored[b"nested"]) == {"a": 1, "tags": ["x", "y"], "none": None}


def test_row_index_keys_with_prefix(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"v": ["a", "b", "c"]})
    result = pr.write_hashes(df, redis_url, key_column=None, key_prefix="item:")
    assert result.written == 3
    assert sorted(redis_client.keys("*")) == [b"item:0", b"item:1", b"item:2"]
    assert redis_client.hget("item:2", "v") == b"c"


def test_key_column_with_prefix_is_not_a_field(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"id": [7, 8], "v": [1, 2]})
    pr.write_hashes(df, redis_url, key_column="id", key_prefix=b"user:")
    assert redis_client.hgetall("user:7") == {b"v": b"1"}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"_key": ["a", None, "c", None], "v": [1, 2, 3, 4]}), "null in rows 1, 3"),
        (pl.DataFrame({"_key": ["a", "b", "a"], "v": [1, 2, 3]}), '"a" is in rows 0 and 2'),
        (pl.DataFrame({"_key": ["a", "b"], "v": [1, None]}), 'row 1, key "b": every value is null'),
        (pl.DataFrame({"id": ["a"], "v": [1]}), "key column `_key` is not in the frame"),
    ],
)
def test_bad_input_is_rejected_before_anything_is_sent(
    redis_url: str, redis_client: Any, frame: pl.DataFrame, message: str
) -> None:
    with pytest.raises(pr.InvalidInputError, match=message):
        pr.write_hashes(frame, redis_url)
    assert redis_client.dbsize() == 0


def test_nan_in_nested_value_names_row_key_and_column(redis_url: str, redis_client: Any) -> None:
    # A struct: float lists are vector blobs, which hold NaN (tests/test_vectors.py).
    df = pl.DataFrame({"_key": ["a", "b"], "v": [{"x": 1.0}, {"x": float("nan")}]})
    with pytest.raises(pr.InvalidInputError, match=r"row 1, key \"b\", column `v`: NaN"):
        pr.write_hashes(df, redis_url)
    assert redis_client.dbsize() == 0


def test_constant_ttl_is_applied_to_every_key(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": [f"k{i}" for i in range(50)], "v": range(50)})
    pr.write_hashes(df, redis_url, ttl=dt.timedelta(minutes=2), batch_size=7)
    ttls = [redis_client.ttl(f"k{i}") for i in range(50)]
    assert all(115 <= t <= 120 for t in ttls), ttls


def test_ttl_column_seconds_datetime_and_null(redis_url: str, redis_client: Any) -> None:
    expire_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    df = pl.DataFrame({"_key": ["a", "b", "c"], "v": [1, 2, 3], "ttl": [30, None, 500]})
    pr.write_hashes(df, redis_url, ttl_column="ttl")
    assert redis_client.hgetall("a") == {b"v": b"1"}  # the TTL column is not a field
    assert 25 <= redis_client.ttl("a") <= 30
    assert redis_client.ttl("b") == -1
    assert 495 <= redis_client.ttl("c") <= 500
    df = pl.DataFrame({"_key": ["d"], "v": [1], "expires": [expire_at]})
    pr.write_hashes(df, redis_url, ttl_column="expires")
    expected_ms = int(expire_at.timestamp() * 1000)
    assert abs(redis_client.pexpiretime("d") - expected_ms) <= 1


def test_ttl_round_trips_through_the_ttl_column(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["a", "b"], "v": [1, 2], "_ttl": [1000, None]})
    pr.write_hashes(df, redis_url, ttl_column="_ttl")
    back = pr.read_hashes(redis_url, "*", {"v": pl.Int64}, include_ttl=True).sort("_key")
    assert back["_ttl"].to_list()[1] is None
    assert 995 <= back["_ttl"][0] <= 1000


def test_non_positive_ttl_is_rejected(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["a", "b"], "v": [1, 2], "t": [10, 0]})
    with pytest.raises(pr.InvalidInputError, match='row 1, key "b", TTL column `t`'):
        pr.write_hashes(df, redis_url, ttl_column="t")
    with pytest.raises(pr.InvalidInputError, match="ttl must be at least 1 second"):
        pr.write_hashes(df.drop("t"), redis_url, ttl=0)
    assert redis_client.dbsize() == 0


def test_replace_removes_stale_fields_and_old_ttl(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("a", mapping={"old": "1", "v": "0"})
    redis_client.expire("a", 1000)
    pr.write_hashes(pl.DataFrame({"_key": ["a"], "v": [5]}), redis_url)
    assert redis_client.hgetall("a") == {b"v": b"5"}
    assert redis_client.ttl("a") == -1


def test_replace_overwrites_a_key_of_another_type(redis_url: str, redis_client: Any) -> None:
    redis_client.rpush("a", "x")
    pr.write_hashes(pl.DataFrame({"_key": ["a"], "v": [5]}), redis_url)
    assert redis_client.hgetall("a") == {b"v": b"5"}


def test_append_merges_fields_and_nulls_leave_fields_untouched(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.hset("a", mapping={"keep": "k", "v": "0", "w": "old"})
    redis_client.expire("a", 1000)
    df = pl.DataFrame({"_key": ["a", "new"], "v": [5, 6], "w": [None, "n"]})
    result = pr.write_hashes(df, redis_url, if_exists="append")
    assert result.written == 2
    assert redis_client.hgetall("a") == {b"keep": b"k", b"v": b"5", b"w": b"old"}
    assert redis_client.ttl("a") > 990  # append without ttl keeps the TTL
    assert redis_client.hgetall("new") == {b"v": b"6", b"w": b"n"}
    pr.write_hashes(df.head(1), redis_url, if_exists="append", ttl=50)
    assert 45 <= redis_client.ttl("a") <= 50


def test_skip_writes_only_absent_keys_and_reports_the_others(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.hset("b", "v", "mine")
    df = pl.DataFrame({"_key": ["a", "b", "c"], "v": ["x", "y", "z"]})
    result = pr.write_hashes(df, redis_url, if_exists="skip", ttl=100)
    assert (result.written, result.skipped, result.failed, result.skipped_keys) == (2, 1, 0, ["b"])
    assert redis_client.hgetall("b") == {b"v": b"mine"}
    assert redis_client.ttl("b") == -1
    assert redis_client.hget("c", "v") == b"z" and redis_client.ttl("c") > 90


def test_fail_raises_listing_existing_keys_and_writes_nothing(
    redis_url: str, redis_client: Any
) -> None:
    redis_client.hset("b", "v", "mine")
    redis_client.set("d", "str")
    df = pl.DataFrame({"_key": ["a", "b", "c", "d"], "v": [1, 2, 3, 4]})
    with pytest.raises(pr.WriteError, match="already exists") as raised:
        pr.write_hashes(df, redis_url, if_exists="fail")
    result = raised.value.result
    assert [f.key for f in result.failures] == ["b", "d"]
    assert (result.written, result.skipped, result.failed) == (0, 2, 2)
    assert redis_client.dbsize() == 2
    assert redis_client.hgetall("b") == {b"v": b"mine"}
    result = pr.write_hashes(
        df.filter(pl.col("_key").is_in(["a", "c"])), redis_url, if_exists="fail"
    )
    assert result.written == 2 and redis_client.hget("c", "v") == b"3"


def test_wrongtype_on_append_fails_that_key_only(redis_url: str, redis_client: Any) -> None:
    redis_client.set("s", "text")
    redis_client.expire("s", 1000)
    df = pl.DataFrame({"_key": ["a", "s", "b"], "v": [1, 2, 3]})
    with pytest.raises(pr.WriteError) as raised:
        pr.write_hashes(df, redis_url, if_exists="append", ttl=10)
    result = raised.value.result
    assert (result.written, result.failed, result.rows) == (2, 1, 3)
    assert result.failures[0].key == "s" and result.failures[0].first_row == 1
    assert "WRONGTYPE" in result.failures[0].message
    # The failed key is untouched: still a string, its TTL not replaced.
    assert redis_client.get("s") == b"text" and redis_client.ttl("s") > 990
    assert redis_client.hgetall("b") == {b"v": b"3"} and redis_client.ttl("b") <= 10
    # raise_on_error=False reports instead.
    result = pr.write_hashes(df, redis_url, if_exists="append", raise_on_error=False)
    assert not result.ok and result.errors["s"].startswith("WRONGTYPE")


def test_counts_add_up_for_a_mixed_outcome(redis_url: str, redis_client: Any) -> None:
    redis_client.set("k3", "string")
    redis_client.hset("k5", "v", "old")
    df = pl.DataFrame({"_key": [f"k{i}" for i in range(10)], "v": range(10)})
    result = pr.write_hashes(df, redis_url, if_exists="skip", raise_on_error=False, batch_size=3)
    assert result.written + result.skipped + result.failed + result.unknown == result.rows == 10
    assert sorted(result.skipped_keys) == ["k3", "k5"]
    assert redis_client.get("k3") == b"string"


def test_lazyframe_and_big_frame_in_many_batches(redis_url: str, redis_client: Any) -> None:
    n = 20_000
    df = pl.DataFrame(
        {"_key": [f"u:{i}" for i in range(n)], "a": range(n), "b": [str(i) for i in range(n)]}
    )
    result = pr.write_hashes(df.lazy(), redis_url, batch_size=333, parallelism=4)
    assert result.written == n and redis_client.dbsize() == n
    assert redis_client.hgetall("u:12345") == {b"a": b"12345", b"b": b"12345"}


def test_unreachable_server_raises_connection_error() -> None:
    df = pl.DataFrame({"_key": ["a"], "v": [1]})
    with pytest.raises(pr.RedisConnectionError):
        pr.write_hashes(df, "redis://127.0.0.1:1", connect_timeout=1)


def test_ttl_expires_keys(redis_url: str, redis_client: Any) -> None:
    pr.write_hashes(pl.DataFrame({"_key": ["a"], "v": [1]}), redis_url, ttl=1)
    deadline = time.monotonic() + 5
    while redis_client.exists("a") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not redis_client.exists("a")


@pytest.mark.parametrize(
    ("mode", "existing_after", "fresh_after"),
    [
        # replace: a null field is absent, even if the old hash had it.
        ("replace", {b"a": b"1"}, {b"a": b"1"}),
        # append: a null leaves the stored field as it is.
        ("append", {b"a": b"1", b"b": b"old"}, {b"a": b"1"}),
        # skip: the existing key is untouched; the new key is written as in replace.
        ("skip", {b"b": b"old"}, {b"a": b"1"}),
    ],
)
def test_nulls_in_each_mode(
    redis_url: str,
    redis_client: Any,
    mode: str,
    existing_after: dict[bytes, bytes],
    fresh_after: dict[bytes, bytes],
) -> None:
    redis_client.hset("existing", "b", "old")
    df = pl.DataFrame({"_key": ["existing", "fresh"], "a": [1, 1], "b": [None, None]})
    pr.write_hashes(df, redis_url, if_exists=mode)  # type: ignore[arg-type]
    assert redis_client.hgetall("existing") == existing_after
    assert redis_client.hgetall("fresh") == fresh_after


def test_nulls_with_fail_write_nothing_when_a_key_exists(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["fresh"], "a": [1], "b": [None]})
    pr.write_hashes(df, redis_url, if_exists="fail")
    assert redis_client.hgetall("fresh") == {b"a": b"1"}


def test_ttl_column_as_duration_rounds_up(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["a"], "v": [1], "ttl": [dt.timedelta(seconds=99, milliseconds=1)]})
    pr.write_hashes(df, redis_url, ttl_column="ttl")
    assert 95 <= redis_client.ttl("a") <= 100


def test_empty_frame_writes_nothing_but_is_still_checked(redis_url: str, redis_client: Any) -> None:
    empty = pl.DataFrame({"_key": [], "v": []}, schema={"_key": pl.String, "v": pl.Int64})
    result = pr.write_hashes(empty, redis_url)
    assert (result.rows, result.written, result.ok) == (0, 0, True)
    with pytest.raises(pr.InvalidInputError, match="key column `id` is not in the frame"):
        pr.write_hashes(empty, redis_url, key_column="id")
    assert redis_client.dbsize() == 0
