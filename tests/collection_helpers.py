"""Checks shared by the string, set, list and sorted-set tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from polars.testing import assert_frame_equal

#: The shared column options, every combination of them.
SHARED_OPTIONS: list[dict[str, Any]] = [
    {"include_key": key, "include_ttl": ttl, "include_row_index": index}
    for key, ttl, index in itertools.product([True, False], repeat=3)
]


def collect_both(lf: pl.LazyFrame) -> pl.DataFrame:
    """Collect with the in-memory and the streaming engine; both must agree
    with each other and with the declared schema (dtypes and column order).

    Rows are compared as a multiset: two scans of an unchanged keyspace may
    still see keys (and set members) in another order while Redis rehashes."""
    declared = lf.collect_schema()
    df = lf.collect()
    streamed = lf.collect(engine="streaming")
    assert df.schema == declared, (df.schema, declared)
    assert streamed.schema == declared, (streamed.schema, declared)
    assert_frame_equal(df, streamed, check_row_order=False)
    return df


def check_schema_combinations(
    scan: Callable[..., pl.LazyFrame], extra_options: list[dict[str, Any]]
) -> None:
    """Every shared option combination, crossed with ``extra_options``, emits
    exactly the declared schema, for full reads, projections and empty reads."""
    for shared, extra in itertools.product(SHARED_OPTIONS, extra_options):
        lf = scan(**shared, **extra)
        df = collect_both(lf)
        assert df.height > 0
        names = lf.collect_schema().names()
        # Every single-column projection, and the reversed full projection.
        for name in names:
            assert collect_both(lf.select(name)).columns == [name]
        assert collect_both(lf.select(reversed(names))).columns == names[::-1]
        assert collect_both(lf.head(1)).height == 1
        empty = scan(**shared, **extra, keys=["no-such-key"])
        assert collect_both(empty).shape == (0, len(names))


def command_calls(client: Any) -> dict[str, int]:
    """Calls per command name (lower case) from ``INFO commandstats``."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def calls_during(client: Any, action: Callable[[], Any]) -> dict[str, int]:
    """How often each command ran while ``action`` ran."""
    client.config_resetstat()
    action()
    calls = command_calls(client)
    # The INFO call itself is not the action's.
    calls.pop("info", None)
    return calls


def rows_of(batches: Iterator[pl.DataFrame]) -> pl.DataFrame:
    """All batches of an ``iter_*`` call as one frame."""
    return pl.concat(list(batches), how="vertical")


def _days(n: int) -> date:
    return date(1970, 1, 1) + timedelta(days=n)


#: (dtype, stored texts, the values they read as): one case per dtype of the
#: type table. The texts of a case are distinct, so they can be set members.
DTYPE_CASES: list[tuple[Any, list[bytes], list[Any]]] = [
    (pl.String, [b"plain", "\u00e9t\u00e9".encode()], ["plain", "\u00e9t\u00e9"]),
    (pl.Binary, [b"\x00\xff\xfe", b""], [b"\x00\xff\xfe", b""]),
    (pl.Boolean, [b"true", b"0"], [True, False]),
    (pl.Int8, [b"-128", b"127"], [-128, 127]),
    (pl.Int16, [b"-32768", b"32767"], [-32768, 32767]),
    (pl.Int32, [b"-2147483648", b"7"], [-2147483648, 7]),
    (pl.Int64, [b"-9223372036854775808", b"9223372036854775807"], [-(2**63), 2**63 - 1]),
    (pl.UInt8, [b"0", b"255"], [0, 255]),
    (pl.UInt16, [b"65535", b"1"], [65535, 1]),
    (pl.UInt32, [b"4294967295", b"2"], [4294967295, 2]),
    (pl.UInt64, [b"18446744073709551615", b"3"], [2**64 - 1, 3]),
    (pl.Float32, [b"1.5", b"-inf"], [1.5, float("-inf")]),
    (pl.Float64, [b"2.25e10", b"inf"], [2.25e10, float("inf")]),
    (pl.Date, [b"2024-02-29", b"20220108"], [date(2024, 2, 29), _days(19000)]),
    (
        pl.Datetime("ms"),
        [b"2024-01-02T03:04:05.678Z", b"19700101T000001"],
        [datetime(2024, 1, 2, 3, 4, 5, 678000), datetime(1970, 1, 1, 0, 0, 1)],
    ),
    (
        pl.Datetime("us", "Europe/Amsterdam"),
        [b"2024-07-01 12:00:00", b"2024-01-01T00:00:00+00:00"],
        [
            datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam")),
            datetime(2024, 1, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")),
        ],
    ),
    (pl.Time, [b"12:34:56.5", b"00:00"], [time(12, 34, 56, 500000), time(0, 0)]),
    (pl.Duration("ms"), [b"1500", b"-2"], [timedelta(milliseconds=1500), timedelta(0, 0, -2000)]),
    (pl.Decimal(10, 2), [b"12.34", b"-0.5"], [Decimal("12.34"), Decimal("-0.50")]),
    (pl.Categorical, [b"red", b"blue"], ["red", "blue"]),
    (pl.Enum(["lo", "hi"]), [b"lo", b"hi"], ["lo", "hi"]),
]

DTYPE_IDS = [str(case[0]) for case in DTYPE_CASES]


def assert_dtype_round_trip(series: pl.Series, dtype: Any, expected: list[Any]) -> None:
    """The column has exactly ``dtype`` and the expected values, in order."""
    wanted = dtype() if isinstance(dtype, type) else dtype
    assert series.dtype == wanted, (series.dtype, wanted)
    assert series.to_list() == expected
