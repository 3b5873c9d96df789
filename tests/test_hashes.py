"""The hash read path against a real Redis server.

Every test writes its ground truth with redis-py (a plain client that shares
no code with polars-redis), reads it back with polars-redis and compares whole
frames, dtypes included. Lazy reads are collected with both the default and
the streaming engine (the ``collect`` fixture).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from redis_servers import RedisServer

import polars_redis as pr
from polars_redis.exceptions import ParseError, PolarsRedisError, WrongTypeError

UTC = timezone.utc
AMS = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")

Collect = Callable[[pl.LazyFrame], pl.DataFrame]


@pytest.fixture(params=["default", "streaming"])
def collect(request: pytest.FixtureRequest) -> Collect:
    """Collect a LazyFrame with the default or the streaming engine."""
    if request.param == "streaming":
        return lambda lf: lf.collect(engine="streaming")
    return lambda lf: lf.collect()


# --------------------------------------------------------------------------
# ground-truth helpers
# --------------------------------------------------------------------------


def write_hashes(client: Any, data: dict[Any, dict[str, Any]]) -> None:
    pipe = client.pipeline(transaction=False)
    for key, mapping in data.items():
        pipe.hset(key, mapping=mapping)
    pipe.execute()


def epoch(moment: datetime, unit: str) -> int:
    """Exact count of `unit` since 1970-01-01T00:00Z of an aware datetime."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if unit == "ms":
        assert micros % 1000 == 0, "use whole milliseconds"
        return micros // 1000
    return micros if unit == "us" else micros * 1000


def series(name: str, dtype: pl.DataType, values: Sequence[Any]) -> pl.Series:
    """An expected column. Temporal values are given as integer counts
    (epoch units for Datetime, ns for Time, units for Duration)."""
    if isinstance(dtype, pl.Datetime):
        s = pl.Series(name, values, dtype=pl.Int64).cast(pl.Datetime(dtype.time_unit))
        if dtype.time_zone is not None:
            s = s.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
        return s
    if dtype == pl.Time or isinstance(dtype, pl.Duration):
        return pl.Series(name, values, dtype=pl.Int64).cast(dtype)
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        return pl.Series(name, values, dtype=pl.String).cast(dtype)
    return pl.Series(name, values, dtype=dtype)


def key_series(keys: Iterable[str], name: str = "_key") -> pl.Series:
    return pl.Series(name, list(keys), dtype=pl.String)


def s(t: str) -> int:
    """Nanoseconds since midnight of HH:MM:SS[.fffffffff]."""
    hms, _, frac = t.partition(".")
    h, m, sec = (int(x) for x in hms.split(":"))
    return ((h * 60 + m) * 60 + sec) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


# --------------------------------------------------------------------------
# every dtype: stored text -> expected value
# --------------------------------------------------------------------------

NS_MAX = 2**63 - 1
BIG_TEXT = "λ" * 150_000  # 300 kB: more than one socket read
BIG_BYTES = b"\xff\x00\r\n" * 80_000

DTYPE_CASES: list[tuple[str, Any, list[tuple[Any, Any]]]] = [
    (
        "string",
        pl.String,
        [
            ("hello", "hello"),
            ("", ""),
            ("ünïcødé ✓ 😀", "ünïcødé ✓ 😀"),
            ("line\r\nbreak", "line\r\nbreak"),
            ("$5\r\n*2\r\n-ERR\r\n", "$5\r\n*2\r\n-ERR\r\n"),
            (BIG_TEXT, BIG_TEXT),
        ],
    ),
    (
        "binary",
        pl.Binary,
        [
            (b"\x00\xff\xfe", b"\x00\xff\xfe"),
            (b"", b""),
            (b"\r\n$-1\r\n", b"\r\n$-1\r\n"),
            (bytes(range(256)), bytes(range(256))),
            ("ü".encode(), "ü".encode()),
            (BIG_BYTES, BIG_BYTES),
        ],
    ),
    (
        "boolean",
        pl.Boolean,
        [
            (v, True)
            for v in ["true", "TRUE", "True", "t", "T", "yes", "YES", "y", "Y", "on", "On", "1"]
        ]
        + [
            (v, False)
            for v in ["false", "FALSE", "False", "f", "F", "no", "No", "n", "N", "off", "OFF", "0"]
        ],
    ),
    ("int8", pl.Int8, [("-128", -128), ("127", 127), ("0", 0), ("+5", 5), ("-7", -7)]),
    ("int16", pl.Int16, [("-32768", -32768), ("32767", 32767), ("12", 12)]),
    ("int32", pl.Int32, [("-2147483648", -(2**31)), ("2147483647", 2**31 - 1), ("-1", -1)]),
    (
        "int64",
        pl.Int64,
        [("-9223372036854775808", -(2**63)), ("9223372036854775807", NS_MAX), ("42", 42)],
    ),
    ("uint8", pl.UInt8, [("0", 0), ("255", 255), ("+7", 7)]),
    ("uint16", pl.UInt16, [("65535", 65535), ("1", 1)]),
    ("uint32", pl.UInt32, [("4294967295", 2**32 - 1), ("0", 0)]),
    ("uint64", pl.UInt64, [("18446744073709551615", 2**64 - 1), ("3", 3)]),
    (
        "float32",
        pl.Float32,
        [
            ("1.5", 1.5),
            ("-0.25", -0.25),
            ("inf", float("inf")),
            ("-inf", float("-inf")),
            ("nan", float("nan")),
            ("1e3", 1000.0),
            ("3", 3.0),
        ],
    ),
    (
        "float64",
        pl.Float64,
        [
            ("3.141592653589793", 3.141592653589793),
            ("1e-300", 1e-300),
            ("-1.5E+2", -150.0),
            ("inf", float("inf")),
            ("-inf", float("-inf")),
            ("nan", float("nan")),
            ("-0.0", -0.0),
            ("+2.5", 2.5),
            ("17", 17.0),
        ],
    ),
    (
        "date",
        pl.Date,
        [
            ("2024-02-29", date(2024, 2, 29)),
            ("1970-01-01", date(1970, 1, 1)),
            ("1969-12-31", date(1969, 12, 31)),
            ("0001-01-01", date(1, 1, 1)),
            ("9999-12-31", date(9999, 12, 31)),
            ("20240131", date(2024, 1, 31)),  # ISO-8601 basic form
        ],
    ),
    (
        "datetime-ms",
        pl.Datetime("ms"),
        [
            ("2024-01-02T03:04:05.678", epoch(datetime(2024, 1, 2, 3, 4, 5, 678000, UTC), "ms")),
            ("2024-01-02 03:04:05", epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ms")),
            ("2024-01-02T03:04:05Z", epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ms")),
            ("2024-01-02T05:04:05+02:00", epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ms")),
            ("2024-01-02T00:04:05-03:00", epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ms")),
            ("2024-01-02T08:34:05+0530", epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ms")),
            ("2024-01-02T03:04", epoch(datetime(2024, 1, 2, 3, 4, tzinfo=UTC), "ms")),
            ("2024-01-02", epoch(datetime(2024, 1, 2, tzinfo=UTC), "ms")),
            ("1969-12-31T23:59:59.999", -1),
            ("1900-01-01T00:00:00", epoch(datetime(1900, 1, 1, tzinfo=UTC), "ms")),
            ("20240102T030405.678Z", 1704164645678),  # ISO-8601 basic form
        ],
    ),
    (
        "datetime-us",
        pl.Datetime("us"),
        [
            (
                "2024-01-02T03:04:05.123456",
                epoch(datetime(2024, 1, 2, 3, 4, 5, 123456, UTC), "us"),
            ),
            ("2024-01-02T03:04:05,5", epoch(datetime(2024, 1, 2, 3, 4, 5, 500000, UTC), "us")),
            ("20240102T030405.123456Z", 1704164645123456),  # ISO-8601 basic form
        ],
    ),
    (
        "datetime-ns",
        pl.Datetime("ns"),
        [
            (
                "2024-01-02T03:04:05.123456789",
                epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "ns") + 123456789,
            ),
            ("2262-04-11T23:47:16.854775807", NS_MAX),
            ("19700101T000000.000000001", 1),
        ],
    ),
    (
        "datetime-ms-utc",
        pl.Datetime("ms", "UTC"),
        [
            ("2024-06-01T12:00:00", epoch(datetime(2024, 6, 1, 12, tzinfo=UTC), "ms")),
            ("2024-06-01T14:00:00+02:00", epoch(datetime(2024, 6, 1, 12, tzinfo=UTC), "ms")),
            ("19700101T000000Z", 0),  # ISO-8601 basic form
        ],
    ),
    (
        "datetime-us-amsterdam",
        pl.Datetime("us", "Europe/Amsterdam"),
        [
            # naive: wall time in the column's zone (winter +01, summer +02)
            ("2024-01-15T12:00:00", epoch(datetime(2024, 1, 15, 12, tzinfo=AMS), "us")),
            ("2024-07-15T12:00:00", epoch(datetime(2024, 7, 15, 12, tzinfo=AMS), "us")),
            ("2024-03-31T01:59:59", epoch(datetime(2024, 3, 31, 1, 59, 59, tzinfo=AMS), "us")),
            ("2024-03-31T03:00:00", epoch(datetime(2024, 3, 31, 3, tzinfo=AMS), "us")),
            # an explicit offset is an instant, even at a wall time the zone skips
            ("2024-03-31T02:30:00+00:00", epoch(datetime(2024, 3, 31, 2, 30, tzinfo=UTC), "us")),
            ("2024-10-27T02:30:00+01:00", epoch(datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "us")),
            ("2024-01-15T11:00:00Z", epoch(datetime(2024, 1, 15, 11, tzinfo=UTC), "us")),
            ("20240115T110000Z", 1705316400000000),  # ISO-8601 basic form (an instant)
        ],
    ),
    (
        "datetime-ms-new-york",
        pl.Datetime("ms", "America/New_York"),
        [
            ("2024-03-10T01:59:59", epoch(datetime(2024, 3, 10, 1, 59, 59, tzinfo=NEW_YORK), "ms")),
            ("2024-03-10T03:00:00", epoch(datetime(2024, 3, 10, 3, tzinfo=NEW_YORK), "ms")),
            ("2024-12-24 18:30", epoch(datetime(2024, 12, 24, 18, 30, tzinfo=NEW_YORK), "ms")),
        ],
    ),
    (
        "time",
        pl.Time,
        [
            ("12:34", s("12:34:00")),
            ("12:34:56", s("12:34:56")),
            ("12:34:56.789", s("12:34:56.789")),
            ("00:00:00.000000001", 1),
            ("23:59:59.999999999", s("23:59:59.999999999")),
            ("010000", 3_600_000_000_000),  # ISO-8601 basic form
            ("0000", 0),
        ],
    ),
    (
        "duration-ms",
        pl.Duration("ms"),
        [("1500", 1500), ("-3", -3), ("0", 0), (str(NS_MAX), NS_MAX)],
    ),
    ("duration-us", pl.Duration("us"), [("1", 1), ("86400000000", 86_400_000_000)]),
    ("duration-ns", pl.Duration("ns"), [("-1", -1), ("123456789", 123456789)]),
    (
        "decimal-10-2",
        pl.Decimal(10, 2),
        [
            ("12.34", Decimal("12.34")),
            ("-0.5", Decimal("-0.50")),
            ("7", Decimal("7.00")),
            ("1.230", Decimal("1.23")),  # trailing zeros are not rounding
            ("+3.1", Decimal("3.10")),
            ("0", Decimal("0.00")),
            ("99999999.99", Decimal("99999999.99")),
            ("-99999999.99", Decimal("-99999999.99")),
        ],
    ),
    (
        "decimal-38-0",
        pl.Decimal(38, 0),
        [
            ("9" * 38, Decimal("9" * 38)),
            ("-" + "9" * 38, Decimal("-" + "9" * 38)),
            ("0", Decimal(0)),
        ],
    ),
    (
        "decimal-38-10",
        pl.Decimal(38, 10),
        [
            (
                "1234567890123456789012345678.0123456789",
                Decimal("1234567890123456789012345678.0123456789"),
            ),
            ("-0.0000000001", Decimal("-0.0000000001")),
        ],
    ),
    ("decimal-5-5", pl.Decimal(5, 5), [("0.12345", Decimal("0.12345")), ("-0.5", Decimal("-0.5"))]),
    ("categorical", pl.Categorical(), [("a", "a"), ("b", "b"), ("a", "a"), ("", "")]),
    (
        "enum",
        pl.Enum(["lo", "mid", "hi"]),
        [("hi", "hi"), ("lo", "lo"), ("mid", "mid"), ("hi", "hi")],
    ),
]


@pytest.mark.parametrize(
    ("dtype", "cases"), [c[1:] for c in DTYPE_CASES], ids=[c[0] for c in DTYPE_CASES]
)
def test_every_dtype_matches_ground_truth(
    redis_url: str, redis_client: Any, collect: Collect, dtype: Any, cases: list[tuple[Any, Any]]
) -> None:
    keys = [f"t:{i:03d}" for i in range(len(cases))]
    write_hashes(
        redis_client,
        {key: {"v": stored, "noise": "not in schema"} for key, (stored, _) in zip(keys, cases)},
    )
    declared = dtype() if isinstance(dtype, type) else dtype
    expected = pl.DataFrame([key_series(keys), series("v", declared, [e for _, e in cases])])

    by_keys = collect(pr.scan_hashes(redis_url, keys=keys, schema={"v": dtype}))
    assert_frame_equal(by_keys, expected)

    by_pattern = collect(pr.scan_hashes(redis_url, "t:*", schema={"v": dtype}).sort("_key"))
    assert_frame_equal(by_pattern, expected)

    # HMGET (only `v` of a 3-field schema is needed) reads the same values.
    schema = {"v": dtype, "x": pl.Int64, "y": pl.Int64}
    hmget = collect(
        pr.scan_hashes(redis_url, keys=keys, schema=schema, fetch="hmget").select("_key", "v")
    )
    assert_frame_equal(hmget, expected)


def test_all_dtypes_in_one_hash_keep_schema_order(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    schema: dict[str, Any] = {}
    mapping: dict[str, Any] = {}
    columns = []
    for name, dtype, cases in DTYPE_CASES:
        field = name.replace("-", "_")
        stored, value = cases[0]
        if isinstance(stored, str) and len(stored) > 1000:
            stored, value = cases[1]
        schema[field] = dtype
        mapping[field] = stored
        declared = dtype() if isinstance(dtype, type) else dtype
        columns.append(series(field, declared, [value]))
    # Schema order is not alphabetical and not the hash's field order.
    order = list(reversed(schema))
    redis_client.hset("all:1", mapping=mapping)
    got = collect(pr.scan_hashes(redis_url, "all:*", schema={f: schema[f] for f in order}))
    by_name = {c.name: c for c in columns}
    expected = pl.DataFrame([key_series(["all:1"]), *[by_name[f] for f in order]])
    assert_frame_equal(got, expected)
    assert got.columns == ["_key", *order]


# --------------------------------------------------------------------------
# unparsable values: strict -> ParseError naming key, field, value; else null
# --------------------------------------------------------------------------

INVALID_CASES: list[tuple[Any, Any]] = [
    (pl.Int64, "forty"),
    (pl.Int64, "1.0"),
    (pl.Int64, ""),
    (pl.Int64, " 1"),
    (pl.Int64, "9223372036854775808"),
    (pl.Int8, "128"),
    (pl.Int8, "-129"),
    (pl.UInt8, "256"),
    (pl.UInt8, "-1"),
    (pl.UInt64, "18446744073709551616"),
    (pl.Float64, "abc"),
    (pl.Float64, ""),
    (pl.Boolean, "maybe"),
    (pl.Boolean, ""),
    (pl.Boolean, "2"),
    (pl.Date, "2024-02-30"),
    (pl.Date, "2024/01/01"),
    (pl.Date, "2024-1-1"),
    (pl.Date, "19"),  # a bare integer is not a date (formats= declares epoch counts)
    (pl.Datetime("ms"), "1704164645678"),
    (pl.Datetime("ms"), "2024-01-01X"),
    (pl.Datetime("ms"), "yesterday"),
    (pl.Datetime("ms"), "2024-01-01T25:00:00"),
    (pl.Datetime("ms"), "2024-01-01T00:00:00+0x"),
    (pl.Datetime("ns"), "2024-01-01T00:00:00.1234567891"),  # more than 9 fraction digits
    (pl.Time, "24:00:00"),
    (pl.Time, "12:60"),
    (pl.Time, "86400000000000"),
    (pl.Time, "-1"),
    (pl.Duration("ms"), "1.5"),
    (pl.Duration("ms"), "1s"),
    (pl.Decimal(10, 2), "1.234"),  # never rounded
    (pl.Decimal(10, 2), "0.001"),
    (pl.Decimal(5, 0), "123456"),  # too many digits for the precision
    (pl.Decimal(10, 2), "1e5"),
    (pl.Decimal(10, 2), "abc"),
    (pl.Decimal(10, 2), ""),
    (pl.Enum(["a", "b"]), "c"),
    (pl.Enum(["a", "b"]), "A"),
    (pl.String, b"caf\xe9"),  # latin-1, not UTF-8
    (pl.Categorical(), b"\xff\xfe"),
    # A naive wall time that does not exist (DST gap) or is ambiguous (DST end)
    # in the column's zone is unparsable rather than guessed.
    (pl.Datetime("us", "Europe/Amsterdam"), "2024-03-31T02:30:00"),
    (pl.Datetime("us", "Europe/Amsterdam"), "2024-10-27T02:30:00"),
    (pl.Datetime("ms", "America/New_York"), "2024-03-10T02:15:00"),
]


def _shown(value: Any) -> str:
    """How a value appears in an error message (non-UTF-8 bytes as \\xNN)."""
    if isinstance(value, str):
        return value
    return "".join(chr(b) if b < 0x80 else f"\\x{b:02x}" for b in value)


@pytest.mark.parametrize(
    ("dtype", "bad"), INVALID_CASES, ids=[f"{d}-{v!r}" for d, v in INVALID_CASES]
)
def test_unparsable_value(
    redis_url: str, redis_client: Any, collect: Collect, dtype: Any, bad: Any
) -> None:
    write_hashes(redis_client, {"bad:1": {"val_field": bad, "ok": "1"}, "good:1": {"ok": "2"}})
    schema = {"ok": pl.Int64, "val_field": dtype}

    with pytest.raises(ParseError) as info:
        collect(pr.scan_hashes(redis_url, "*", schema=schema))
    message = str(info.value)
    assert "bad:1" in message
    assert "val_field" in message
    if _shown(bad).strip():
        assert _shown(bad).strip() in message

    lenient = collect(pr.scan_hashes(redis_url, "*", schema=schema, strict=False).sort("_key"))
    expected = pl.DataFrame(
        [
            key_series(["bad:1", "good:1"]),
            series("ok", pl.Int64(), [1, 2]),
            series("val_field", dtype, [None, None]),
        ]
    )
    assert_frame_equal(lenient, expected)


def test_parse_error_message_names_key_field_and_value(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("user:7", mapping={"age": "forty", "name": "x"})
    with pytest.raises(ParseError) as info:
        pr.read_hashes(redis_url, "user:*", {"name": pl.String, "age": pl.Int64})
    message = str(info.value)
    assert "user:7" in message and "age" in message and "forty" in message
    assert isinstance(info.value, PolarsRedisError)


def test_datetime_extra_fraction_digits_truncate_like_polars(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    """More fraction digits than the unit holds: the value must land in the
    same unit step as Polars' own ISO parser puts it (the floor), before and
    after the epoch alike -- not be moved across a second/day/year boundary."""
    texts = {
        "ms": ["1969-12-31T23:59:59.9995", "1970-01-01T00:00:00.0005", "2024-05-06T07:08:09.1239"],
        "us": ["1969-12-31T23:59:59.9999995", "1999-12-31T23:59:59.9999999"],
    }
    for unit, values in texts.items():
        redis_client.flushall()
        keys = [f"d:{i}" for i in range(len(values))]
        write_hashes(redis_client, {k: {"t": v} for k, v in zip(keys, values)})
        got = collect(pr.scan_hashes(redis_url, keys=keys, schema={"t": pl.Datetime(unit)}))
        polars_says = pl.Series("t", values).str.to_datetime(time_unit=unit)
        assert_frame_equal(got, pl.DataFrame([key_series(keys), polars_says]))


def test_bare_dtype_classes_are_accepted(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    """Dtype classes (pl.Int64, pl.Datetime, ...) are as good as instances."""
    redis_client.hset(
        "c:1", mapping={"cat": "x", "dt": "2024-01-02T03:04:05", "dec": "15", "du": "5", "i": "1"}
    )
    schema = {
        "cat": pl.Categorical,
        "dt": pl.Datetime,
        "dec": pl.Decimal,
        "du": pl.Duration,
        "i": pl.Int64,
    }
    got = collect(pr.scan_hashes(redis_url, "c:*", schema=schema))
    expected = pl.DataFrame(
        [
            key_series(["c:1"]),
            series("cat", pl.Categorical(), ["x"]),
            series(
                "dt", pl.Datetime("us"), [epoch(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "us")]
            ),
            series("dec", pl.Decimal(38, 0), [Decimal(15)]),
            series("du", pl.Duration("us"), [5]),
            series("i", pl.Int64(), [1]),
        ]
    )
    assert_frame_equal(got, expected)


# --------------------------------------------------------------------------
# missing / extra fields, non-UTF-8 keys, odd names
# --------------------------------------------------------------------------


def test_missing_fields_are_null_and_extra_fields_ignored(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    write_hashes(
        redis_client,
        {
            "m:1": {"a": "1", "b": "x", "c": "1.5"},
            "m:2": {"a": "2"},
            "m:3": {"c": "2.5", "zz": "extra", "b": ""},
            "m:4": {"unrelated": "only"},
        },
    )
    schema = {"a": pl.Int64, "b": pl.String, "c": pl.Float64}
    got = collect(pr.scan_hashes(redis_url, "m:*", schema=schema).sort("_key"))
    expected = pl.DataFrame(
        [
            key_series(["m:1", "m:2", "m:3", "m:4"]),
            series("a", pl.Int64(), [1, 2, None, None]),
            series("b", pl.String(), ["x", None, "", None]),
            series("c", pl.Float64(), [1.5, None, 2.5, None]),
        ]
    )
    assert_frame_equal(got, expected)


def test_field_names_with_spaces_unicode_and_case(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    redis_client.hset("f:1", mapping={"first name": "Ada", "ñ": "3", "Age": "10", "age": "20"})
    got = collect(
        pr.scan_hashes(
            redis_url,
            "f:*",
            schema={"first name": pl.String, "ñ": pl.Int64, "age": pl.Int64, "Age": pl.Int64},
        )
    )
    expected = pl.DataFrame(
        [
            key_series(["f:1"]),
            series("first name", pl.String(), ["Ada"]),
            series("ñ", pl.Int64(), [3]),
            series("age", pl.Int64(), [20]),
            series("Age", pl.Int64(), [10]),
        ]
    )
    assert_frame_equal(got, expected)


def test_keys_with_unusual_characters(redis_url: str, redis_client: Any, collect: Collect) -> None:
    keys = ["sp ace", "new\nline", "ключ", "emoji😀", "a*b", "q?", "[x]", "back\\slash", "crlf\r\n"]
    write_hashes(redis_client, {k: {"v": str(i)} for i, k in enumerate(keys)})
    expected = pl.DataFrame([key_series(keys), series("v", pl.Int64(), list(range(len(keys))))])
    by_keys = collect(pr.scan_hashes(redis_url, keys=keys, schema={"v": pl.Int64}))
    assert_frame_equal(by_keys, expected)
    scanned = collect(pr.scan_hashes(redis_url, schema={"v": pl.Int64}).sort("_key"))
    assert_frame_equal(scanned, expected.sort("_key"))


def test_non_utf8_keys(redis_url: str, redis_client: Any, collect: Collect) -> None:
    write_hashes(redis_client, {b"nu:\xff\xfe": {"v": "1"}, b"nu:ok": {"v": "2"}})
    schema = {"v": pl.Int64}

    with pytest.raises(ParseError) as info:
        collect(pr.scan_hashes(redis_url, "nu:*", schema=schema))
    assert "\\xff" in str(info.value)

    lenient = collect(pr.scan_hashes(redis_url, "nu:*", schema=schema, strict=False).sort("v"))
    expected = pl.DataFrame(
        [pl.Series("_key", [None, "nu:ok"], dtype=pl.String), series("v", pl.Int64(), [1, 2])]
    )
    assert_frame_equal(lenient, expected)

    by_keys = collect(pr.scan_hashes(redis_url, keys=[b"nu:\xff\xfe"], schema=schema, strict=False))
    assert_frame_equal(by_keys, expected.head(1))

    # Without a key column there is nothing to decode: strict mode reads fine.
    no_key = collect(pr.scan_hashes(redis_url, "nu:*", schema=schema, include_key=False).sort("v"))
    assert_frame_equal(no_key, pl.DataFrame([series("v", pl.Int64(), [1, 2])]))


def test_large_hash_and_many_fields(redis_url: str, redis_client: Any, collect: Collect) -> None:
    mapping = {f"f{i}": str(i) for i in range(3000)}
    redis_client.hset("wide:1", mapping=mapping)
    got = collect(
        pr.scan_hashes(
            redis_url, "wide:*", schema={"f2999": pl.Int64, "f0": pl.Int64, "f1500": pl.String}
        )
    )
    expected = pl.DataFrame(
        [
            key_series(["wide:1"]),
            series("f2999", pl.Int64(), [2999]),
            series("f0", pl.Int64(), [0]),
            series("f1500", pl.String(), ["1500"]),
        ]
    )
    assert_frame_equal(got, expected)


# --------------------------------------------------------------------------
# extra columns: TTL, row index, key column
# --------------------------------------------------------------------------


def _check_ttls(
    df: pl.DataFrame, client: Any, ttl_column: str = "_ttl", key_column: str = "_key"
) -> None:
    for row in df.iter_rows(named=True):
        truth = client.ttl(row[key_column])
        if truth == -1:
            assert row[ttl_column] is None, row
        else:
            assert truth >= 0, row
            assert row[ttl_column] is not None and abs(row[ttl_column] - truth) <= 1, (row, truth)


def test_ttl_column(redis_url: str, redis_client: Any, collect: Collect) -> None:
    write_hashes(redis_client, {f"ttl:{i}": {"a": str(i)} for i in range(10)})
    redis_client.expire("ttl:1", 100)
    redis_client.expire("ttl:3", 5000)
    redis_client.expire("ttl:7", 86400 * 365 * 5)
    redis_client.pexpire("ttl:5", 2500)
    got = collect(
        pr.scan_hashes(redis_url, "ttl:*", schema={"a": pl.Int64}, include_ttl=True).sort("_key")
    )
    assert got.schema == pl.Schema({"_key": pl.String, "a": pl.Int64, "_ttl": pl.Int64})
    assert got["a"].to_list() == list(range(10))
    _check_ttls(got, redis_client)
    assert got.filter(pl.col("_ttl").is_null())["_key"].to_list() == [
        f"ttl:{i}" for i in (0, 2, 4, 6, 8, 9)
    ]
    assert 95 <= got.filter(pl.col("_key") == "ttl:1")["_ttl"].item() <= 100


@pytest.mark.parametrize("fetch", ["auto", "hgetall", "hmget"])
def test_ttl_column_renamed_with_keys_and_projection(
    redis_url: str, redis_client: Any, collect: Collect, fetch: str
) -> None:
    write_hashes(
        redis_client,
        {"e:1": {"a": "1", "b": "x"}, "e:2": {"a": "2"}, "e:3": {"zz": "no schema field"}},
    )
    redis_client.expire("e:2", 1000)
    redis_client.expire("e:3", 2000)
    lf = pr.scan_hashes(
        redis_url,
        keys=["e:3", "e:1", "e:2", "missing"],
        schema={"a": pl.Int64, "b": pl.String, "c": pl.String, "d": pl.String},
        include_ttl=True,
        ttl_column_name="expires_in",
        fetch=fetch,  # type: ignore[arg-type]
    )
    got = collect(lf.select("_key", "a", "expires_in"))
    assert got["_key"].to_list() == ["e:3", "e:1", "e:2"]
    assert got["a"].to_list() == [None, 1, 2]
    _check_ttls(got, redis_client, "expires_in")
    assert got["expires_in"][1] is None


def test_row_index(redis_url: str, redis_client: Any, collect: Collect) -> None:
    write_hashes(redis_client, {f"r:{i:02d}": {"a": str(i)} for i in range(25)})
    lf = pr.scan_hashes(
        redis_url, "r:*", schema={"a": pl.Int64}, include_row_index=True, batch_size=4
    )
    got = collect(lf)
    assert got.columns == ["_index", "_key", "a"]
    assert got.schema["_index"] == pl.UInt32
    assert got["_index"].to_list() == list(range(25))
    assert sorted(got["a"].to_list()) == list(range(25))
    assert all(k == f"r:{a:02d}" for k, a in got.select("_key", "a").iter_rows())

    renamed = collect(
        pr.scan_hashes(
            redis_url,
            keys=["r:03", "r:01"],
            schema={"a": pl.Int64},
            include_row_index=True,
            row_index_column_name="n",
            include_ttl=True,
        )
    )
    expected = pl.DataFrame(
        [
            pl.Series("n", [0, 1], dtype=pl.UInt32),
            key_series(["r:03", "r:01"]),
            series("a", pl.Int64(), [3, 1]),
            pl.Series("_ttl", [None, None], dtype=pl.Int64),
        ]
    )
    assert_frame_equal(renamed, expected)


def test_row_index_is_not_renumbered_by_a_key_filter(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    """A filter runs after the scan: `_index` keeps the number the row has in
    the full read (Polars semantics), even when the key predicate is pushed
    down to a direct lookup."""
    keys = ["ri:a", "ri:b", "ri:c", "ri:d"]
    write_hashes(redis_client, {k: {"a": str(i)} for i, k in enumerate(keys)})
    lf = pr.scan_hashes(redis_url, keys=keys, schema={"a": pl.Int64}, include_row_index=True)
    full = collect(lf)
    assert full["_index"].to_list() == [0, 1, 2, 3]
    for predicate in [
        pl.col("_key") == "ri:c",
        pl.col("_key").is_in(["ri:b", "ri:d"]),
        pl.col("_key").str.starts_with("ri:d"),
    ]:
        assert_frame_equal(collect(lf.filter(predicate)), full.filter(predicate))


def test_row_index_only_projections(redis_url: str, redis_client: Any, collect: Collect) -> None:
    write_hashes(redis_client, {f"p:{i}": {"a": str(i)} for i in range(5)})
    redis_client.set("p:string", "not a hash")
    lf = pr.scan_hashes(redis_url, "p:*", schema={"a": pl.Int64}, include_row_index=True)
    assert collect(lf.select(pl.len())).item() == 5
    assert collect(lf.select("_index"))["_index"].to_list() == [0, 1, 2, 3, 4]


def test_count_rows_without_value_columns(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    write_hashes(redis_client, {f"p:{i}": {"a": str(i)} for i in range(5)})
    redis_client.set("p:string", "x")
    redis_client.rpush("p:list", "x")
    lf = pr.scan_hashes(redis_url, "p:*", schema={"a": pl.Int64})
    assert collect(lf.select(pl.len())).item() == 5
    assert sorted(collect(lf.select("_key"))["_key"].to_list()) == [f"p:{i}" for i in range(5)]
    no_key = pr.scan_hashes(redis_url, "p:*", schema={"a": pl.Int64}, include_key=False)
    assert collect(no_key.select(pl.len())).item() == 5
    listed = pr.scan_hashes(redis_url, keys=["p:1", "p:none", "p:3"], schema={"a": pl.Int64})
    assert collect(listed.select("_key"))["_key"].to_list() == ["p:1", "p:3"]
    ttl_only = pr.scan_hashes(redis_url, "p:*", schema={"a": pl.Int64}, include_ttl=True)
    assert collect(ttl_only.select("_ttl"))["_ttl"].to_list() == [None] * 5


def test_key_column_renamed_or_omitted(redis_url: str, redis_client: Any, collect: Collect) -> None:
    write_hashes(redis_client, {"k:1": {"a": "1"}, "k:2": {"a": "2"}})
    renamed = collect(
        pr.scan_hashes(redis_url, "k:*", schema={"a": pl.Int64}, key_column_name="id").sort("id")
    )
    assert_frame_equal(
        renamed, pl.DataFrame([key_series(["k:1", "k:2"], "id"), series("a", pl.Int64(), [1, 2])])
    )
    filtered = collect(
        pr.scan_hashes(redis_url, "k:*", schema={"a": pl.Int64}, key_column_name="id").filter(
            pl.col("id") == "k:2"
        )
    )
    assert_frame_equal(filtered, renamed.tail(1))
    omitted = collect(
        pr.scan_hashes(redis_url, "k:*", schema={"a": pl.Int64}, include_key=False).sort("a")
    )
    assert_frame_equal(omitted, pl.DataFrame([series("a", pl.Int64(), [1, 2])]))


def test_field_named_like_the_key_column_when_key_is_omitted(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    redis_client.hset("kk:1", mapping={"_key": "stored value", "a": "1"})
    got = collect(
        pr.scan_hashes(
            redis_url, "kk:*", schema={"_key": pl.String, "a": pl.Int64}, include_key=False
        )
    )
    assert_frame_equal(
        got, pl.DataFrame([key_series(["stored value"]), series("a", pl.Int64(), [1])])
    )


# --------------------------------------------------------------------------
# key selection
# --------------------------------------------------------------------------


def test_explicit_keys_order_missing_and_duplicates(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    write_hashes(redis_client, {f"k:{i}": {"a": str(i)} for i in range(1, 5)})
    keys: list[Any] = ["k:3", "missing", "k:1", "k:3", b"k:2", "k:1", "k:4"]
    got = collect(pr.scan_hashes(redis_url, keys=keys, schema={"a": pl.Int64}))
    expected = pl.DataFrame(
        [key_series(["k:3", "k:1", "k:2", "k:4"]), series("a", pl.Int64(), [3, 1, 2, 4])]
    )
    assert_frame_equal(got, expected)


def test_explicit_keys_order_across_many_batches(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    keys = [f"o:{i}" for i in range(60)]
    write_hashes(redis_client, {k: {"a": str(i)} for i, k in enumerate(keys)})
    order = keys[:]
    random.Random(7).shuffle(order)
    with_missing = [k for pair in zip(order, [f"gone:{i}" for i in range(60)]) for k in pair]
    for parallelism in (1, 3, 5):
        got = collect(
            pr.scan_hashes(
                redis_url,
                keys=with_missing,
                schema={"a": pl.Int64},
                batch_size=3,
                parallelism=parallelism,
            )
        )
        assert got["_key"].to_list() == order
        assert got["a"].to_list() == [int(k.split(":")[1]) for k in order]


def test_explicit_keys_are_not_patterns(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    write_hashes(
        redis_client, {"a*": {"v": "1"}, "ab": {"v": "2"}, "a?": {"v": "3"}, "ax": {"v": "4"}}
    )
    got = collect(pr.scan_hashes(redis_url, keys=["a*", "a?", "a[bx]"], schema={"v": pl.Int64}))
    assert_frame_equal(
        got, pl.DataFrame([key_series(["a*", "a?"]), series("v", pl.Int64(), [1, 3])])
    )


def test_empty_key_list(redis_url: str, redis_client: Any, collect: Collect) -> None:
    redis_client.hset("x:1", "a", "1")
    got = collect(pr.scan_hashes(redis_url, keys=[], schema={"a": pl.Int64}))
    assert got.shape == (0, 2)
    assert got.schema == pl.Schema({"_key": pl.String, "a": pl.Int64})


def test_pattern_matches_like_redis(redis_url: str, redis_client: Any, collect: Collect) -> None:
    keys = [
        "user:1",
        "user:2",
        "user:10",
        "user:x",
        "users:1",
        "order:1",
        "u:1",
        "user:[1]",
        "user:*",
    ]
    write_hashes(redis_client, {k: {"v": "1"} for k in keys})
    for pattern in [
        "user:*",
        "user:?",
        "user:[12]",
        "user:[^1]*",
        "*:1",
        "u*:1",
        "user:\\[1\\]",
        "user:\\*",
        "nomatch*",
    ]:
        truth = sorted(k.decode() for k in redis_client.scan_iter(match=pattern, _type="hash"))
        got = collect(pr.scan_hashes(redis_url, pattern, schema={"v": pl.Int64}))
        assert sorted(got["_key"].to_list()) == truth, pattern


def test_other_types_under_a_pattern_are_skipped(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    write_hashes(redis_client, {"w:h1": {"a": "1"}, "w:h2": {"a": "2"}})
    redis_client.set("w:str", "1")
    redis_client.rpush("w:list", "a")
    redis_client.sadd("w:set", "a")
    redis_client.zadd("w:zset", {"a": 1})
    redis_client.xadd("w:stream", {"a": "1"})
    lf = pr.scan_hashes(redis_url, "w:*", schema={"a": pl.Int64}, include_ttl=True)
    got = collect(lf.sort("_key"))
    expected = pl.DataFrame(
        [
            key_series(["w:h1", "w:h2"]),
            series("a", pl.Int64(), [1, 2]),
            pl.Series("_ttl", [None, None], dtype=pl.Int64),
        ]
    )
    assert_frame_equal(got, expected)
    # Pushed-down key predicates turn into direct lookups: still skipped.
    assert collect(lf.filter(pl.col("_key") == "w:str")).height == 0
    picked = collect(lf.filter(pl.col("_key").is_in(["w:list", "w:h2", "w:zset"])))
    assert_frame_equal(picked, expected.tail(1))


def test_explicit_key_of_another_type_raises(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    redis_client.hset("h:1", "a", "1")
    redis_client.rpush("l:1", "x")
    with pytest.raises(WrongTypeError) as info:
        collect(pr.scan_hashes(redis_url, keys=["h:1", "l:1"], schema={"a": pl.Int64}))
    assert "l:1" in str(info.value) and "list" in str(info.value)


def test_empty_result_keeps_schema(redis_url: str, redis_client: Any, collect: Collect) -> None:
    redis_client.hset("elsewhere:1", "a", "1")
    redis_client.set("nothing:str", "x")
    schema = {
        "i": pl.Int16,
        "s": pl.String,
        "b": pl.Binary,
        "c": pl.Categorical(),
        "e": pl.Enum(["x", "y"]),
        "d": pl.Decimal(12, 3),
        "t": pl.Datetime("ns", "Europe/Amsterdam"),
        "du": pl.Duration("ms"),
        "tm": pl.Time,
        "dt": pl.Date,
        "f": pl.Float32,
        "ok": pl.Boolean,
    }
    expected = pl.Schema(
        {"_index": pl.UInt32, "_key": pl.String, **schema, "_ttl": pl.Int64}  # type: ignore[dict-item]
    )
    for lf in [
        pr.scan_hashes(
            redis_url, "nothing:*", schema=schema, include_ttl=True, include_row_index=True
        ),
        pr.scan_hashes(
            redis_url,
            keys=["nope", "nothing:str2"],
            schema=schema,
            include_ttl=True,
            include_row_index=True,
        ),
        pr.scan_hashes(
            redis_url, "elsewhere:*", schema=schema, include_ttl=True, include_row_index=True
        ).filter(pl.col("_key") == "nope"),
    ]:
        got = collect(lf)
        assert got.height == 0
        assert got.schema == expected
        assert lf.collect_schema() == expected
    batches = list(pr.iter_hashes(redis_url, "nothing:*", schema))
    assert sum(b.height for b in batches) == 0
    for b in batches:
        assert b.schema == pl.Schema({"_key": pl.String, **schema})  # type: ignore[dict-item]


# --------------------------------------------------------------------------
# batching, iteration, limits
# --------------------------------------------------------------------------


@pytest.fixture
def hundred(redis_client: Any) -> pl.DataFrame:
    """100 hashes `b:NNN` (plus decoys of other types); returns the truth."""
    data = {f"b:{i:03d}": {"n": str(i), "s": f"s{i % 7}", "zz": "extra"} for i in range(100)}
    write_hashes(redis_client, data)
    redis_client.set("b:string", "x")
    redis_client.sadd("b:set", "x")
    return pl.DataFrame(
        [
            key_series(data),
            series("n", pl.Int64(), list(range(100))),
            series("s", pl.String(), [f"s{i % 7}" for i in range(100)]),
        ]
    )


@pytest.mark.parametrize(
    ("batch_size", "parallelism", "count_hint"), [(7, 3, None), (7, 1, 1), (1, 8, 5), (1000, 2, 10)]
)
def test_small_batches_read_every_key_once(
    redis_url: str,
    hundred: pl.DataFrame,
    collect: Collect,
    batch_size: int,
    parallelism: int,
    count_hint: int | None,
) -> None:
    lf = pr.scan_hashes(
        redis_url,
        "b:*",
        schema={"n": pl.Int64, "s": pl.String},
        batch_size=batch_size,
        parallelism=parallelism,
        count_hint=count_hint,
    )
    got = collect(lf)
    assert got["_key"].n_unique() == got.height == 100
    assert_frame_equal(got.sort("_key"), hundred)


def test_iter_hashes_batches(redis_url: str, hundred: pl.DataFrame) -> None:
    batches = list(pr.iter_hashes(redis_url, "b:*", {"n": pl.Int64, "s": pl.String}, batch_size=7))
    assert len(batches) >= 15
    for batch in batches:
        assert 0 < batch.height <= 7
        assert batch.schema == pl.Schema({"_key": pl.String, "n": pl.Int64, "s": pl.String})
    assert_frame_equal(pl.concat(batches).sort("_key"), hundred)


def test_iter_hashes_options_and_row_index(redis_url: str, hundred: pl.DataFrame) -> None:
    batches = list(
        pr.iter_hashes(
            redis_url,
            schema={"n": pl.Int64},
            keys=hundred["_key"].to_list()[::-1],
            batch_size=9,
            include_row_index=True,
            key_column_name="id",
        )
    )
    assert all(0 < b.height <= 9 for b in batches)
    both = pl.concat(batches)
    assert both.columns == ["_index", "id", "n"]
    assert both["_index"].to_list() == list(range(100))
    assert both["n"].to_list() == list(range(99, -1, -1))


def test_iter_hashes_stops_early(
    redis_url: str, hundred: pl.DataFrame, redis_server: RedisServer
) -> None:
    it = pr.iter_hashes(redis_url, "b:*", {"n": pl.Int64}, batch_size=5)
    first = next(it)
    assert first.height == 5
    it.close()  # type: ignore[attr-defined]
    # The server is still fine and a new scan reads everything.
    assert pr.read_hashes(redis_url, "b:*", {"n": pl.Int64}).height == 100


@pytest.mark.parametrize("n", [0, 1, 5, 99, 100, 1000])
def test_head_returns_real_rows(
    redis_url: str, hundred: pl.DataFrame, collect: Collect, n: int
) -> None:
    lf = pr.scan_hashes(redis_url, "b:*", schema={"n": pl.Int64, "s": pl.String}, batch_size=10)
    got = collect(lf.head(n))
    assert got.height == min(n, 100)
    assert got["_key"].n_unique() == got.height
    # every row is a real row, with its own values
    joined = got.join(hundred, on="_key", how="inner", suffix="_truth")
    assert joined.height == got.height
    assert (joined["n"] == joined["n_truth"]).all() and (joined["s"] == joined["s_truth"]).all()
    assert got.schema == hundred.schema
    assert collect(lf.limit(n)).height == min(n, 100)


def test_head_with_row_index_and_filter(
    redis_url: str, hundred: pl.DataFrame, collect: Collect
) -> None:
    lf = pr.scan_hashes(
        redis_url, "b:*", schema={"n": pl.Int64}, include_row_index=True, batch_size=8
    )
    head = collect(lf.head(5))
    assert head["_index"].to_list() == [0, 1, 2, 3, 4]
    even = collect(lf.filter(pl.col("n") % 2 == 0).head(3))
    assert even.height == 3 and (even["n"] % 2 == 0).all()
    assert even["_key"].to_list() == [f"b:{n:03d}" for n in even["n"]]


# --------------------------------------------------------------------------
# projection and fetch modes, HMGET phantom rows
# --------------------------------------------------------------------------

PROJ_SCHEMA = {"a": pl.Int64, "b": pl.String, "c": pl.Float64, "d": pl.Boolean}


@pytest.fixture
def projection_truth(redis_client: Any) -> pl.DataFrame:
    rows = {
        "pj:1": {"a": "1", "b": "one", "c": "1.5", "d": "true"},
        "pj:2": {"a": "2", "c": "2.5"},
        "pj:3": {"b": "three", "d": "no", "zz": "x"},
        "pj:4": {"a": "4", "b": "four", "c": "-4", "d": "0"},
    }
    write_hashes(redis_client, rows)
    redis_client.expire("pj:2", 500)
    return pl.DataFrame(
        [
            key_series(rows),
            series("a", pl.Int64(), [1, 2, None, 4]),
            series("b", pl.String(), ["one", None, "three", "four"]),
            series("c", pl.Float64(), [1.5, 2.5, None, -4.0]),
            series("d", pl.Boolean(), [True, None, False, False]),
        ]
    )


@pytest.mark.parametrize("fetch", ["auto", "hgetall", "hmget"])
@pytest.mark.parametrize(
    "columns",
    [["c"], ["_key", "b"], ["d", "_key"], ["a", "b", "c", "d"], ["b", "a"], ["_key"]],
    ids=lambda c: "+".join(c),
)
def test_projection(
    redis_url: str, projection_truth: pl.DataFrame, collect: Collect, fetch: str, columns: list[str]
) -> None:
    lf = pr.scan_hashes(redis_url, "pj:*", schema=PROJ_SCHEMA, fetch=fetch)  # type: ignore[arg-type]
    sort_by = "_key" if "_key" in columns else columns
    got = collect(lf.select(columns).sort(sort_by))
    expected = projection_truth.select(columns).sort(sort_by)
    assert got.columns == columns
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("fetch", ["auto", "hgetall", "hmget"])
def test_projection_with_expressions_and_filters(
    redis_url: str, projection_truth: pl.DataFrame, redis_client: Any, collect: Collect, fetch: str
) -> None:
    lf = pr.scan_hashes(redis_url, "pj:*", schema=PROJ_SCHEMA, fetch=fetch, include_ttl=True)  # type: ignore[arg-type]

    def query(frame: Any) -> Any:
        return frame.filter(pl.col("c") > 0).select((pl.col("a") * 10).alias("a10"), "_key")

    assert_frame_equal(collect(query(lf).sort("_key")), query(projection_truth).sort("_key"))
    ttl = collect(lf.select("_key", "_ttl").sort("_key"))
    assert ttl["_key"].to_list() == projection_truth["_key"].to_list()
    _check_ttls(ttl, redis_client)


@pytest.mark.parametrize("fetch", ["auto", "hmget"])
def test_hmget_hash_without_projected_fields_is_one_null_row(
    redis_url: str, redis_client: Any, collect: Collect, fetch: str
) -> None:
    """HMGET cannot tell a missing key from a hash without the asked fields;
    the reader must: an existing hash gives an all-null row, a missing key
    none, and rows stay in key order."""
    write_hashes(
        redis_client,
        {
            "ph:has": {"a": "1", "b": "x"},
            "ph:none": {"other": "1"},
            "ph:has2": {"a": "2"},
            "ph:none2": {"zzz": "2"},
        },
    )
    redis_client.expire("ph:none2", 300)
    schema = {"a": pl.Int64, "b": pl.String, "c": pl.Int64, "d": pl.Int64, "e": pl.Int64}
    keys = ["ph:has", "ph:none", "ph:missing", "ph:has2", "ph:gone", "ph:none2"]
    lf = pr.scan_hashes(redis_url, keys=keys, schema=schema, fetch=fetch, include_ttl=True)  # type: ignore[arg-type]
    got = collect(lf.select("_key", "a", "_ttl"))
    assert got["_key"].to_list() == ["ph:has", "ph:none", "ph:has2", "ph:none2"]
    assert got["a"].to_list() == [1, None, 2, None]
    _check_ttls(got, redis_client)
    assert got["_ttl"][3] is not None

    only_missing = collect(
        pr.scan_hashes(
            redis_url, keys=["ph:missing", "ph:gone"], schema=schema, fetch=fetch
        ).select("_key", "c")  # type: ignore[arg-type]
    )
    assert only_missing.height == 0

    scanned = collect(
        pr.scan_hashes(redis_url, "ph:*", schema=schema, fetch=fetch)
        .select("_key", "b")
        .sort("_key")
    )  # type: ignore[arg-type]
    expected = pl.DataFrame(
        [
            key_series(["ph:has", "ph:has2", "ph:none", "ph:none2"]),
            series("b", pl.String(), ["x", None, None, None]),
        ]
    )
    assert_frame_equal(scanned, expected)


# --------------------------------------------------------------------------
# predicates: pushdown must never change the result
# --------------------------------------------------------------------------


def test_key_predicates_match_full_read(
    redis_url: str, hundred: pl.DataFrame, collect: Collect
) -> None:
    lf = pr.scan_hashes(redis_url, "b:*", schema={"n": pl.Int64, "s": pl.String})
    predicates = [
        pl.col("_key") == "b:042",
        pl.lit("b:042") == pl.col("_key"),
        pl.col("_key") == "b:string",
        pl.col("_key") == "nope",
        pl.col("_key").is_in(["b:001", "b:050", "b:set", "zz"]),
        pl.col("_key").str.starts_with("b:01"),
        pl.col("_key").str.starts_with("b:"),
        pl.col("_key").str.starts_with("x"),
        pl.col("_key").str.starts_with(""),
        (pl.col("_key").str.starts_with("b:0")) & (pl.col("n") > 5),
        (pl.col("_key") == "b:003") | (pl.col("n") > 97),
        (pl.col("_key") == "b:003") | pl.col("_key").str.starts_with("b:09"),
        (pl.col("_key") == "b:003") & (pl.col("_key") == "b:004"),
        pl.col("_key") != "b:003",
        ~(pl.col("_key") == "b:003"),
        pl.col("_key").str.starts_with("b:1") & pl.col("_key").str.starts_with("b:0"),
        pl.col("s") == "s3",
    ]
    for predicate in predicates:
        got = collect(lf.filter(predicate).sort("_key"))
        assert_frame_equal(got, hundred.filter(predicate).sort("_key"), check_row_order=True)


KEY_CHARS = "ab1*?[]\\-^"
# Mostly `a`, `b`, `1` so that keys, patterns and predicates collide often.
key_text = st.text(alphabet=st.sampled_from("aaabbb111" + KEY_CHARS), min_size=1, max_size=3)


@st.composite
def key_predicates(draw: st.DrawFn, keys: list[str]) -> pl.Expr:
    some_key = st.sampled_from(keys) | key_text if keys else key_text

    def leaf() -> st.SearchStrategy[pl.Expr]:
        return st.one_of(
            some_key.map(lambda k: pl.col("_key") == k),
            some_key.map(lambda k: pl.lit(k) == pl.col("_key")),
            some_key.map(lambda k: pl.col("_key") != k),
            st.lists(some_key, min_size=1, max_size=4).map(lambda ks: pl.col("_key").is_in(ks)),
            st.text(alphabet=KEY_CHARS, max_size=3).map(
                lambda p: pl.col("_key").str.starts_with(p)
            ),
            st.integers(-6, 6).map(lambda v: pl.col("n") > v),
            st.just(pl.col("s").is_null()),
        )

    tree = st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda ab: ab[0] & ab[1]),
            st.tuples(inner, inner).map(lambda ab: ab[0] | ab[1]),
            inner.map(lambda a: ~a),
        ),
        max_leaves=5,
    )
    return draw(tree)


row_values = st.fixed_dictionaries(
    {"n": st.none() | st.integers(-5, 5), "s": st.none() | st.sampled_from(["x", "y", ""])}
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.dictionaries(key_text, row_values, min_size=1, max_size=15))
    others = draw(st.lists(key_text.filter(lambda k: k not in data), max_size=3, unique=True))
    keys = list(data)
    use_list = draw(st.booleans())
    scenario: dict[str, Any] = {"data": data, "others": others}
    if use_list:
        scenario["keys"] = (
            draw(
                st.lists(
                    st.sampled_from(keys) | key_text.filter(lambda k: k not in others), max_size=8
                )
            )
            if keys
            else draw(st.lists(key_text.filter(lambda k: k not in others), max_size=3))
        )
        scenario["pattern"] = None
    else:
        scenario["keys"] = None
        scenario["pattern"] = draw(
            st.sampled_from([None, "*", "a*", "a1*", "?*", "[ab]*", "*1", "a\\**", "b?", "[^a]*"])
        )
    scenario["predicate"] = draw(key_predicates(keys + others))
    scenario["columns"] = draw(
        st.sampled_from([None, ["_key"], ["_key", "n"], ["_key", "s"], ["s", "_key", "n"]])
    )
    scenario["fetch"] = draw(st.sampled_from(["auto", "hgetall", "hmget"]))
    scenario["batch_size"] = draw(st.sampled_from([1, 2, 1000]))
    return scenario


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_property_predicates_equal_full_read_then_filter(
    redis_server: RedisServer, scenario: dict[str, Any]
) -> None:
    client = redis_server.client()
    try:
        redis_server.flushall()
        data: dict[str, dict[str, Any]] = scenario["data"]
        pipe = client.pipeline(transaction=False)
        for key, row in data.items():
            mapping = {"other": "not in schema"}
            mapping.update({f: str(v) for f, v in row.items() if v is not None})
            pipe.hset(key, mapping=mapping)
        for key in scenario["others"]:
            pipe.set(key, "not a hash")
        pipe.execute()

        # Ground truth: which hashes a plain client sees, then Polars filters.
        if scenario["keys"] is not None:
            selected = list(dict.fromkeys(k for k in scenario["keys"] if k in data))
        else:
            pattern = scenario["pattern"] or "*"
            selected = sorted(k.decode() for k in client.scan_iter(match=pattern, _type="hash"))
        truth = pl.DataFrame(
            [
                key_series(selected),
                series("n", pl.Int64(), [data[k]["n"] for k in selected]),
                series("s", pl.String(), [data[k]["s"] for k in selected]),
            ]
        )
        predicate = scenario["predicate"]
        expected = truth.filter(predicate)
        some = {True: "none", False: "some"}
        event(f"rows selected: {some[expected.is_empty()]} of {some[truth.is_empty()]}")
        lf = pr.scan_hashes(
            redis_server.url,
            scenario["pattern"],
            {"n": pl.Int64, "s": pl.String},
            keys=scenario["keys"],
            fetch=scenario["fetch"],
            batch_size=scenario["batch_size"],
        ).filter(predicate)
        if scenario["columns"] is not None:
            lf = lf.select(scenario["columns"])
            expected = expected.select(scenario["columns"])
        for engine in ("auto", "streaming"):
            got = lf.collect(engine=engine)  # type: ignore[call-overload]
            assert_frame_equal(got.sort("_key"), expected.sort("_key"))
            if scenario["keys"] is not None:
                # an explicit key list keeps its order
                assert got["_key"].to_list() == expected["_key"].to_list()
    finally:
        client.close()


# --------------------------------------------------------------------------
# volume and concurrency (small: correctness, not speed)
# --------------------------------------------------------------------------


def test_two_thousand_keys(redis_url: str, redis_client: Any, collect: Collect) -> None:
    data = {
        f"v:{i:04d}": {"n": str(i), "t": f"2024-01-01T00:00:{i % 60:02d}Z", "pad": "x" * (i % 50)}
        for i in range(2000)
    }
    write_hashes(redis_client, data)
    got = collect(
        pr.scan_hashes(
            redis_url,
            "v:*",
            schema={"n": pl.Int64, "t": pl.Datetime("ms", "UTC"), "pad": pl.String},
        )
    )
    assert got.height == 2000 and got["_key"].n_unique() == 2000
    got = got.sort("_key")
    assert got["n"].to_list() == list(range(2000))
    assert got["pad"].to_list() == ["x" * (i % 50) for i in range(2000)]
    base = epoch(datetime(2024, 1, 1, tzinfo=UTC), "ms")
    expected_t = series(
        "t", pl.Datetime("ms", "UTC"), [base + (i % 60) * 1000 for i in range(2000)]
    )
    assert got["t"].equals(expected_t)


def test_concurrent_reads_from_threads(redis_url: str, hundred: pl.DataFrame) -> None:
    results: list[pl.DataFrame] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            df = pr.read_hashes(redis_url, "b:*", {"n": pl.Int64, "s": pl.String}, batch_size=3 + i)
            results.append(df.sort("_key"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == 6
    for df in results:
        assert_frame_equal(df, hundred)


def test_lazy_frame_rescans_on_every_collect(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    lf = pr.scan_hashes(redis_url, "lz:*", schema={"a": pl.Int64})
    assert collect(lf).height == 0
    redis_client.hset("lz:1", "a", "1")
    assert collect(lf)["a"].to_list() == [1]
    redis_client.hset("lz:1", "a", "5")
    redis_client.hset("lz:2", "a", "6")
    assert sorted(collect(lf)["a"].to_list()) == [5, 6]


def test_expectation_helpers() -> None:
    """Sanity check of the helpers that build expected values."""
    assert epoch(datetime(1970, 1, 2, tzinfo=UTC), "ms") == 86_400_000
    assert epoch(datetime(2024, 1, 1, 1, tzinfo=AMS), "ms") == 1_704_067_200_000
    assert series("x", pl.Datetime("ms", "UTC"), [0]).item() == datetime(1970, 1, 1, tzinfo=UTC)
    assert series("x", pl.Time(), [s("01:00:00")]).item().hour == 1
    assert series("x", pl.Duration("ms"), [1500]).item() == timedelta(milliseconds=1500)


# --------------------------------------------------------------------------
# pushdown really happens: the commands the server saw (SLOWLOG, threshold 0)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def observed_server() -> Any:
    server = RedisServer.plain(
        extra_args=["--slowlog-log-slower-than", "0", "--slowlog-max-len", "100000"],
        name="observed",
    )
    try:
        yield server
    finally:
        server.stop()


class Observed:
    """Seeds data with a named redis-py client, then lists the commands that
    other clients (polars-redis) sent."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.url = server.url
        self.client = server.client(client_name="truth")
        self.client.flushall()

    def reset(self) -> None:
        self.client.slowlog_reset()

    def commands(self) -> list[list[str]]:
        entries = self.client.execute_command("SLOWLOG", "GET", "-1")
        out = []
        for entry in reversed(entries):  # oldest first
            args, name = entry[3], entry[5]
            if name != b"truth":
                out.append([a.decode(errors="replace") for a in args])
        return out

    def named(self, *names: str) -> list[list[str]]:
        return [c for c in self.commands() if c[0].upper() in names]


@pytest.fixture
def observed(observed_server: RedisServer) -> Any:
    obs = Observed(observed_server)
    write_hashes(
        obs.client,
        {f"b:{i:03d}": {"n": str(i), "s": f"s{i}", "t": "x", "u": "y"} for i in range(100)},
    )
    obs.client.set("b:string", "x")
    obs.reset()
    try:
        yield obs
    finally:
        obs.client.close()


FETCH_COMMANDS = ("HGETALL", "HMGET", "TYPE")
SCHEMA4 = {"n": pl.Int64, "s": pl.String, "t": pl.String, "u": pl.String}


def test_equality_on_key_is_a_direct_lookup(observed: Observed) -> None:
    lf = pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4)
    got = lf.filter(pl.col("_key") == "b:042").collect()
    assert got["n"].to_list() == [42]
    assert observed.named("SCAN") == []
    assert [c[1] for c in observed.named(*FETCH_COMMANDS)] == ["b:042"]


def test_is_in_on_key_is_a_direct_lookup(observed: Observed) -> None:
    lf = pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4)
    wanted = ["b:001", "b:050", "b:string", "a:1"]
    got = lf.filter(pl.col("_key").is_in(wanted)).collect()
    assert sorted(got["_key"].to_list()) == ["b:001", "b:050"]
    assert observed.named("SCAN") == []
    fetched = {c[1] for c in observed.named(*FETCH_COMMANDS)}
    # `a:1` cannot match the pattern b:* and need not be read
    assert fetched <= {"b:001", "b:050", "b:string"} and {"b:001", "b:050"} <= fetched


def test_starts_with_on_key_narrows_the_scan(observed: Observed) -> None:
    lf = pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4)
    got = lf.filter(pl.col("_key").str.starts_with("b:04")).collect()
    assert sorted(got["n"].to_list()) == list(range(40, 50))
    scans = observed.named("SCAN")
    assert scans, "expected a SCAN"
    for scan in scans:
        upper = [a.upper() for a in scan]
        assert scan[upper.index("MATCH") + 1] == "b:04*"
        assert scan[upper.index("TYPE") + 1].lower() == "hash"
    fetched = [c[1] for c in observed.named(*FETCH_COMMANDS)]
    assert sorted(fetched) == [f"b:{i:03d}" for i in range(40, 50)]


def test_head_stops_scanning_early(observed: Observed) -> None:
    got = pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4).head(5).collect()
    assert got.height == 5
    fetched = observed.named(*FETCH_COMMANDS)
    assert 5 <= len(fetched) <= 50, len(fetched)


@pytest.mark.parametrize(
    ("fetch", "columns", "command", "fields"),
    [
        ("auto", ["_key", "s"], "HMGET", ["s"]),
        ("auto", ["_key", "n", "s"], "HMGET", ["n", "s"]),  # half of the fields
        ("auto", ["_key", "n", "s", "t"], "HGETALL", []),
        ("hgetall", ["_key", "s"], "HGETALL", []),
        ("hmget", ["_key", "n", "s", "t", "u"], "HMGET", ["n", "s", "t", "u"]),
        ("hmget", ["u", "n"], "HMGET", ["n", "u"]),
        ("auto", ["_key"], "TYPE", []),
        ("hgetall", ["_key"], "TYPE", []),
    ],
)
def test_projection_fetches_only_needed_fields(
    observed: Observed, fetch: str, columns: list[str], command: str, fields: list[str]
) -> None:
    lf = pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4, fetch=fetch)  # type: ignore[arg-type]
    got = lf.select(columns).collect()
    assert got.height == 100 and got.columns == columns
    sent = observed.named(*FETCH_COMMANDS)
    assert len(sent) == 100
    assert {c[0].upper() for c in sent} == {command}
    for c in sent:
        assert c[2:] == fields
    assert observed.named("TTL") == []


def test_ttl_is_only_asked_for_when_requested(observed: Observed) -> None:
    pr.scan_hashes(observed.url, "b:*", schema=SCHEMA4, include_ttl=True).collect()
    assert len(observed.named("TTL")) == 100


GLOB_KEYS = ["a", "b", "-", "]", "^", "\\", "[", "ab", "a-", "-a", "a]", "x", "c", "[a", "a[b", "d"]
GLOB_PATTERNS = [
    "[a-]",
    "[-a]",
    "[^-]",
    "[a\\]]",
    "[]a]",
    "[a-c-e]",
    "[c-a]",
    "[^a-c]",
    "\\",
    "a\\",
    "[",
    "[a",
    "a[b",
    "[^]",
    "?",
    "*[",
    "\\[a",
    "[\\-]",
]


@pytest.mark.parametrize("pattern", GLOB_PATTERNS)
def test_key_lookup_under_odd_patterns_agrees_with_redis(
    redis_url: str, redis_client: Any, pattern: str
) -> None:
    """`_key == k` becomes a direct lookup of k if k matches the pattern:
    the client-side glob must agree with Redis's own on every key."""
    write_hashes(redis_client, {k: {"v": "1"} for k in GLOB_KEYS})
    truth = {k.decode() for k in redis_client.scan_iter(match=pattern, _type="hash")}
    lf = pr.scan_hashes(redis_url, pattern, schema={"v": pl.Int64})
    assert set(lf.collect()["_key"].to_list()) == truth
    for key in GLOB_KEYS:
        got = lf.filter(pl.col("_key") == key).collect()["_key"].to_list()
        assert got == ([key] if key in truth else []), (pattern, key)
    many = lf.filter(pl.col("_key").is_in(GLOB_KEYS)).collect()["_key"].to_list()
    assert sorted(many) == sorted(truth)


def test_categorical_and_enum_across_batches(
    redis_url: str, redis_client: Any, collect: Collect
) -> None:
    colors = ["red", "green", "blue", "cyan", "magenta"]
    data = {f"cat:{i:02d}": {"c": colors[i % 5], "e": colors[(i * 3) % 5]} for i in range(50)}
    write_hashes(redis_client, data)
    schema = {"c": pl.Categorical(), "e": pl.Enum(colors)}
    keys = sorted(data)
    expected = pl.DataFrame(
        [
            key_series(keys),
            series("c", pl.Categorical(), [data[k]["c"] for k in keys]),
            series("e", pl.Enum(colors), [data[k]["e"] for k in keys]),
        ]
    )
    got = collect(pr.scan_hashes(redis_url, "cat:*", schema=schema, batch_size=3).sort("_key"))
    assert_frame_equal(got, expected)
    batches = list(pr.iter_hashes(redis_url, "cat:*", schema, batch_size=4))
    assert all(b.schema == expected.schema for b in batches)
    assert_frame_equal(pl.concat(batches).sort("_key"), expected)


def test_bytes_pattern_with_non_utf8_prefix(redis_url: str, redis_client: Any) -> None:
    write_hashes(redis_client, {b"\xfe:1": {"v": "1"}, b"\xfe:2": {"v": "2"}, b"ok:1": {"v": "3"}})
    got = pr.read_hashes(redis_url, b"\xfe:*", {"v": pl.Int64}, include_key=False).sort("v")
    assert got["v"].to_list() == [1, 2]
