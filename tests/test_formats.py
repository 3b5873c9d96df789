"""Temporal text forms (issue 11, item 2): bare integers are not dates, and
``formats=`` declares how a temporal column is stored, in both directions.

Ground truth is written and read with redis-py; frames are compared whole.
"""

from __future__ import annotations

import json
import time as time_module
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis.exceptions import InvalidInputError, ParseError

UTC = timezone.utc


def one_hash(client: Any, url: str, value: str, dtype: Any, **options: Any) -> pl.DataFrame:
    client.hset("h", mapping={"v": value})
    return pr.read_hashes(url, keys=["h"], schema={"v": dtype}, include_key=False, **options)


# --------------------------------------------------------------------------
# the default form: ISO-8601, never a bare integer
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "stored"),
    [
        (pl.Date, "202401"),
        (pl.Datetime("ms"), "2024013"),
        (pl.Datetime("ms"), "1706659200000"),
        (pl.Datetime("us", "UTC"), "1706659200"),
        (pl.Time, "3600000000000"),
        (pl.Date, "19"),
    ],
)
def test_bare_integers_are_not_dates(
    redis_url: str, redis_client: Any, dtype: Any, stored: str
) -> None:
    with pytest.raises(ParseError) as raised:
        one_hash(redis_client, redis_url, stored, dtype)
    message = str(raised.value)
    for part in ('key "h"', "`v`", stored, "formats="):
        assert part in message, message
    df = one_hash(redis_client, redis_url, stored, dtype, strict=False)
    assert df["v"].to_list() == [None]


def test_the_issue_example_reads_as_the_date_it_is(redis_url: str, redis_client: Any) -> None:
    # "20240131" is the ISO-8601 basic form of 2024-01-31 (it used to read
    # as year 57385 in a Date column and as 1970-01-01 05:37 in Datetime(ms)).
    assert one_hash(redis_client, redis_url, "20240131", pl.Date)["v"].to_list() == [
        date(2024, 1, 31)
    ]
    assert one_hash(redis_client, redis_url, "20240131", pl.Datetime("ms"))["v"].to_list() == [
        datetime(2024, 1, 31)
    ]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
        ("20240131", datetime(2024, 1, 31, tzinfo=UTC)),
        ("20240131T101500Z", datetime(2024, 1, 31, 10, 15, tzinfo=UTC)),
        ("20240131T1015Z", datetime(2024, 1, 31, 10, 15, tzinfo=UTC)),
        ("20240131T111500.250+0100", datetime(2024, 1, 31, 10, 15, 0, 250000, tzinfo=UTC)),
        ("20240131T101500,5", datetime(2024, 1, 31, 10, 15, 0, 500000, tzinfo=UTC)),
        ("2024-01-31T08:15:00.123456-02:00", datetime(2024, 1, 31, 10, 15, 0, 123456, tzinfo=UTC)),
        ("2024-01-31 10:15", datetime(2024, 1, 31, 10, 15, tzinfo=UTC)),
    ],
)
def test_iso_extended_and_basic_forms(
    redis_url: str, redis_client: Any, stored: str, expected: datetime
) -> None:
    df = one_hash(redis_client, redis_url, stored, pl.Datetime("us", "UTC"))
    assert df["v"].to_list() == [expected]


def test_times_read_iso_extended_and_basic(redis_url: str, redis_client: Any) -> None:
    for stored in ("10:15:30.5", "101530.5"):
        assert one_hash(redis_client, redis_url, stored, pl.Time)["v"].to_list() == [
            time(10, 15, 30, 500000)
        ]
    assert one_hash(redis_client, redis_url, "1015", pl.Time)["v"].to_list() == [time(10, 15)]


def test_default_write_form_is_iso_extended(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": ["h"],
            "d": [date(2024, 1, 31)],
            "t": [datetime(2024, 1, 31, 10, 15, 0, 500000)],
            "z": [datetime(2024, 1, 31, 10, 15, tzinfo=UTC)],
            "tod": [time(10, 15)],
            "far": [date(1, 1, 1)],
        }
    )
    pr.write_hashes(df, redis_url)
    assert redis_client.hgetall("h") == {
        b"d": b"2024-01-31",
        b"t": b"2024-01-31T10:15:00.500000",
        b"z": b"2024-01-31T10:15:00Z",
        b"tod": b"10:15:00",
        b"far": b"0001-01-01",
    }
    back = pr.read_hashes(redis_url, keys=["h"], schema=df.drop("_key").schema)
    assert_frame_equal(back, df)


def test_years_beyond_9999_are_written_as_expanded_iso(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"_key": ["h"], "d": [-800_000], "e": [3_000_000]}).with_columns(
        pl.col("d", "e").cast(pl.Date)
    )
    pr.write_hashes(df, redis_url)
    assert redis_client.hgetall("h") == {b"d": b"-0221-09-04", b"e": b"+10183-09-21"}
    back = pr.read_hashes(redis_url, keys=["h"], schema={"d": pl.Date, "e": pl.Date})
    assert_frame_equal(back, df)


# --------------------------------------------------------------------------
# formats=: reading declared forms
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "form", "stored", "expected"),
    [
        (pl.Date, "epoch_s", "1706659200", date(2024, 1, 31)),
        (pl.Date, "epoch_ms", "1706659200000", date(2024, 1, 31)),
        (pl.Date, "%d/%m/%Y", "31/01/2024", date(2024, 1, 31)),
        (pl.Date, "%Y%m%d", "20240131", date(2024, 1, 31)),
        (pl.Datetime("ms"), "epoch_ms", "1706696100123", datetime(2024, 1, 31, 10, 15, 0, 123000)),
        (pl.Datetime("us"), "epoch_s", "1706696100", datetime(2024, 1, 31, 10, 15)),
        (
            pl.Datetime("us"),
            "epoch_ns",
            "1706696100123456789",
            datetime(2024, 1, 31, 10, 15, 0, 123456),
        ),
        (pl.Datetime("us"), "epoch_us", "-1", datetime(1969, 12, 31, 23, 59, 59, 999999)),
        (pl.Datetime("ms"), "%d.%m.%Y %H:%M", "31.01.2024 10:15", datetime(2024, 1, 31, 10, 15)),
        (
            pl.Datetime("ms", "UTC"),
            "%Y-%m-%d %H:%M:%S %z",
            "2024-01-31 11:15:00 +0100",
            datetime(2024, 1, 31, 10, 15, tzinfo=UTC),
        ),
        (pl.Datetime("ms", "UTC"), "%s", "1706696100", datetime(2024, 1, 31, 10, 15, tzinfo=UTC)),
        (pl.Time, "epoch_s", "36900", time(10, 15)),
        (pl.Time, "%I:%M %p", "10:15 PM", time(22, 15)),
        (pl.Duration("ms"), "epoch_s", "90", timedelta(seconds=90)),
    ],
)
def test_declared_forms_are_read(
    redis_url: str, redis_client: Any, dtype: Any, form: str, stored: str, expected: Any
) -> None:
    df = one_hash(redis_client, redis_url, stored, dtype, formats={"v": form})
    assert df["v"].to_list() == [expected]


def test_a_value_not_in_the_declared_form_is_a_parse_error(
    redis_url: str, redis_client: Any
) -> None:
    with pytest.raises(ParseError, match=r'key "h", field `v`: cannot parse "2024-01-31" as Date'):
        one_hash(redis_client, redis_url, "2024-01-31", pl.Date, formats={"v": "epoch_s"})
    df = one_hash(
        redis_client, redis_url, "2024-01-31", pl.Date, formats={"v": "epoch_s"}, strict=False
    )
    assert df["v"].to_list() == [None]


@pytest.mark.parametrize(
    ("formats", "match"),
    [
        ({"nope": "epoch_ms"}, r"`nope`.*not a value column"),
        ({"n": "epoch_ms"}, r"`n`.*Int64.*Date, Datetime, Time and Duration"),
        ({"d": "%Q"}, r"`d`.*not a valid strftime"),
        ({"d": "epoch_hours"}, r"`d`.*unknown epoch unit"),
        ({"d": "no fields"}, r"`d`.*no % field"),
        ({"span": "%H"}, r"`span`.*Duration.*integer count"),
        ({"d": 5}, r"formats"),
        (["d"], r"formats must be a mapping"),
    ],
)
def test_formats_are_validated_up_front(redis_url: str, formats: Any, match: str) -> None:
    schema = {"d": pl.Date, "n": pl.Int64, "span": pl.Duration("ms")}
    with pytest.raises(InvalidInputError, match=match):
        pr.scan_hashes(redis_url, "*", schema, formats=formats)
    frame = pl.DataFrame({"_key": ["k"], "d": [date(2024, 1, 1)], "n": [1]}).with_columns(
        span=pl.duration(milliseconds=1)
    )
    if "nope" in str(formats):
        match = r"`nope`.*not in the frame"
    with pytest.raises(InvalidInputError, match=match):
        pr.write_hashes(frame, redis_url, formats=formats)


def test_formats_on_columns_not_read_from_text_are_refused(stack_url: str) -> None:
    with pytest.raises(InvalidInputError, match=r"`_ts`.*not read from stored text"):
        pr.scan_streams(stack_url, "*", {"v": pl.String}, formats={"_ts": "epoch_ms"})
    with pytest.raises(InvalidInputError, match=r"`_ts`.*not read from stored text"):
        pr.scan_timeseries(stack_url, "*", formats={"_ts": "epoch_ms"})


def test_formats_on_columns_not_written_as_text_are_refused(
    stack_url: str, stack_client: Any
) -> None:
    samples = pl.DataFrame({"_key": ["ts:1"], "_ts": [datetime(2024, 1, 1)], "value": [1.5]})
    with pytest.raises(InvalidInputError, match=r"`_ts` is written as the samples' timestamps"):
        pr.write_timeseries(samples, stack_url, formats={"_ts": "epoch_s"})
    expiring = pl.DataFrame({"_key": ["h"], "v": ["x"], "exp": [datetime(2999, 1, 1)]})
    with pytest.raises(InvalidInputError, match=r"`exp` is written as the keys' expiry"):
        pr.write_hashes(expiring, stack_url, ttl_column="exp", formats={"exp": "epoch_s"})
    scores = pl.DataFrame({"_key": ["z"], "member": ["m"], "score": [1.0]})
    with pytest.raises(InvalidInputError, match=r"`score` is Float64"):
        pr.write_zsets(scores, stack_url, formats={"score": "epoch_s"})
    assert stack_client.dbsize() == 0


# --------------------------------------------------------------------------
# formats=: round trips through every writer that stores text
# --------------------------------------------------------------------------

ROUND_TRIP_FORMS = {
    "d": "%d/%m/%Y",
    "ms": "epoch_ms",
    "s": "epoch_s",
    "zoned": "%Y%m%dT%H%M%S%.6f%z",
    "tod": "epoch_us",
    "span": "epoch_ns",
}


def round_trip_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_key": ["k1", "k2", "k3"],
            "d": [date(2024, 1, 31), date(1969, 12, 31), None],
            "ms": [datetime(2024, 1, 31, 10, 15, 0, 123000), datetime(1960, 5, 1), None],
            "s": [datetime(2024, 1, 31, 10, 15), None, datetime(1970, 1, 1)],
            "zoned": [datetime(2024, 7, 1, 12, 0, 0, 250), None, datetime(2024, 1, 1)],
            "tod": [time(0, 0), time(23, 59, 59, 999999), None],
            "span": [timedelta(days=-1, microseconds=1), None, timedelta(0)],
        },
        schema_overrides={
            "ms": pl.Datetime("ms"),
            "s": pl.Datetime("us"),
            "zoned": pl.Datetime("us"),
            "span": pl.Duration("us"),
        },
    ).with_columns(pl.col("zoned").dt.replace_time_zone("Europe/Amsterdam"))


def test_hashes_round_trip_with_formats(redis_url: str, redis_client: Any) -> None:
    df = round_trip_frame()
    pr.write_hashes(df, redis_url, formats=ROUND_TRIP_FORMS)
    assert redis_client.hgetall("k1") == {
        b"d": b"31/01/2024",
        b"ms": b"1706696100123",
        b"s": b"1706696100",
        b"zoned": b"20240701T120000.000250+0200",
        b"tod": b"0",
        b"span": b"-86399999999000",
    }
    schema = df.drop("_key").schema
    back = pr.read_hashes(redis_url, "k*", schema, formats=ROUND_TRIP_FORMS).sort("_key")
    assert_frame_equal(back, df)
    # Without formats= the epoch counts are not dates: a clear error.
    with pytest.raises(ParseError, match="formats="):
        pr.read_hashes(redis_url, "k*", schema)


def test_json_round_trip_with_formats(stack_url: str, stack_client: Any) -> None:
    df = round_trip_frame()
    pr.write_json(df, stack_url, formats=ROUND_TRIP_FORMS)
    document = json.loads(stack_client.execute_command("JSON.GET", "k1"))
    # Epoch counts are JSON numbers, strftime text is a JSON string.
    assert document["ms"] == 1706696100123 and document["d"] == "31/01/2024"
    schema = df.drop("_key").schema
    back = pr.read_json(stack_url, "k*", schema, formats=ROUND_TRIP_FORMS).sort("_key")
    assert_frame_equal(back, df)


def test_json_numbers_are_not_dates_without_formats(stack_url: str, stack_client: Any) -> None:
    stack_client.execute_command("JSON.SET", "doc", "$", '{"at": 1706696100123, "on": "20240131"}')
    schema = {"at": pl.Datetime("ms"), "on": pl.Date}
    with pytest.raises(ParseError, match=r'key "doc", field `at`.*1706696100123.*formats='):
        pr.read_json(stack_url, keys=["doc"], schema=schema)
    df = pr.read_json(stack_url, keys=["doc"], schema=schema, strict=False, include_key=False)
    assert df.to_dicts() == [{"at": None, "on": date(2024, 1, 31)}]
    df = pr.read_json(
        stack_url, keys=["doc"], schema=schema, formats={"at": "epoch_ms"}, include_key=False
    )
    assert df.to_dicts() == [
        {"at": datetime(2024, 1, 31, 10, 15, 0, 123000), "on": date(2024, 1, 31)}
    ]


def test_streams_round_trip_with_formats(redis_url: str, redis_client: Any) -> None:
    df = round_trip_frame().with_columns(pl.lit("s").alias("_key"))
    pr.write_streams(df, redis_url, formats=ROUND_TRIP_FORMS)
    _, first = redis_client.xrange("s")[0]
    assert first[b"ms"] == b"1706696100123"
    schema = df.drop("_key").schema
    back = pr.read_streams(
        redis_url, "s", schema, formats=ROUND_TRIP_FORMS, include_id=False, include_timestamp=False
    )
    assert_frame_equal(back, df)


@pytest.mark.parametrize(
    ("column", "form"), [("d", "%d/%m/%Y"), ("ms", "epoch_ms"), ("tod", "epoch_us")]
)
def test_single_column_types_round_trip_with_formats(
    redis_url: str, redis_client: Any, column: str, form: str
) -> None:
    values = round_trip_frame()[column].drop_nulls()
    dtype = values.dtype
    strings = pl.DataFrame({"_key": [f"str{i}" for i in range(len(values))], "value": values})
    pr.write_strings(strings, redis_url, formats={"value": form})
    back = pr.read_strings(redis_url, "str*", value_type=dtype, formats={"value": form})
    assert_frame_equal(back.sort("_key"), strings)

    members = pl.DataFrame({"_key": ["set"] * len(values), "member": values})
    pr.write_sets(members, redis_url, formats={"member": form})
    back = pr.read_sets(redis_url, "set", member_type=dtype, formats={"member": form})
    assert_frame_equal(back.sort("member"), members.sort("member"))

    elements = pl.DataFrame({"_key": ["list"] * len(values), "element": values})
    pr.write_lists(elements, redis_url, formats={"element": form})
    back = pr.read_lists(
        redis_url, "list", element_type=dtype, formats={"element": form}, include_position=False
    )
    assert_frame_equal(back, elements)
    stored = redis_client.lrange("list", 0, 0)[0].decode()
    assert "-" not in stored or form.startswith("%")


def test_a_form_that_cannot_hold_a_value_is_refused_before_sending(
    redis_url: str, redis_client: Any
) -> None:
    df = pl.DataFrame(
        {"_key": ["a", "b"], "at": [datetime(2024, 1, 1), datetime(2024, 1, 1, 0, 0, 0, 1000)]},
        schema_overrides={"at": pl.Datetime("ms")},
    )
    with pytest.raises(InvalidInputError, match=r"`at`.*epoch_s.*cannot hold"):
        pr.write_hashes(df, redis_url, formats={"at": "epoch_s"})
    with pytest.raises(InvalidInputError, match=r"`at`.*%Y-%m-%d.*cannot hold"):
        pr.write_hashes(df, redis_url, formats={"at": "%Y-%m-%d"})
    assert redis_client.keys("*") == []


def test_search_reads_declared_forms(stack_url: str, stack_client: Any) -> None:
    stack_client.hset("ev:1", mapping={"at": "1706696100", "n": "1"})
    stack_client.execute_command(
        "FT.CREATE", "ev_idx", "ON", "HASH", "PREFIX", "1", "ev:", "SCHEMA", "n", "NUMERIC"
    )
    deadline = time_module.monotonic() + 30
    while time_module.monotonic() < deadline:
        info = stack_client.ft("ev_idx").info()
        if int(info["indexing"]) == 0 and float(info["percent_indexed"]) >= 1.0:
            break
        time_module.sleep(0.01)
    df = pr.search_hashes(
        stack_url, "ev_idx", "*", {"at": pl.Datetime("ms")}, formats={"at": "epoch_s"}
    ).collect()
    assert df["at"].to_list() == [datetime(2024, 1, 31, 10, 15)]


def test_aggregations_read_declared_forms(stack_url: str, stack_client: Any) -> None:
    seen = {"a": [1706696100000, 1706782500000], "b": [1706868900000]}
    for city, stamps in seen.items():
        for i, stamp in enumerate(stamps):
            stack_client.hset(f"vis:{city}{i}", mapping={"city": city, "at": str(stamp)})
    stack_client.execute_command(
        "FT.CREATE", "vis_idx", "ON", "HASH", "PREFIX", "1", "vis:",
        "SCHEMA", "city", "TAG", "at", "NUMERIC",
    )  # fmt: skip
    deadline = time_module.monotonic() + 30
    while time_module.monotonic() < deadline:
        info = stack_client.ft("vis_idx").info()
        if int(info["indexing"]) == 0 and int(info["num_docs"]) == 3:
            break
        time_module.sleep(0.01)
    lf = pr.aggregate_hashes(
        stack_url,
        "vis_idx",
        group_by="city",
        reduce={"last": ("max", "at")},
        schema={"last": pl.Datetime("ms")},
        formats={"last": "epoch_ms"},
    )
    got = lf.sort("city").collect()
    expected = {
        city: datetime.fromtimestamp(max(s) / 1000, timezone.utc) for city, s in seen.items()
    }
    assert got["last"].to_list() == [
        expected["a"].replace(tzinfo=None),
        expected["b"].replace(tzinfo=None),
    ]
    # Without the declared form the epoch count is not taken for a datetime.
    with pytest.raises(ParseError, match="formats="):
        pr.aggregate_hashes(
            stack_url, "vis_idx", group_by="city", reduce={"last": ("max", "at")},
            schema={"last": pl.Datetime("ms")},
        ).collect()  # fmt: skip
    with pytest.raises(InvalidInputError, match="`nope` is not a value column of this aggregation"):
        pr.aggregate_hashes(
            stack_url,
            "vis_idx",
            group_by="city",
            reduce={"n": "count"},
            formats={"nope": "epoch_s"},
        )


# --------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------


def test_inference_never_calls_integers_dates(redis_url: str, redis_client: Any) -> None:
    for i in range(20):
        redis_client.hset(
            f"h:{i}",
            mapping={
                "day": f"202401{i + 10:02d}",
                "ms": str(1706696100123 + i),
                "at": f"20240131T1015{i + 10:02d}Z",
                "on": f"2024-01-{i + 10:02d}",
            },
        )
    schema = pr.infer_hash_schema(redis_url, "h:*")
    assert schema["day"] == pl.Int64
    assert schema["ms"] == pl.Int64
    assert schema["at"] == pl.Datetime("us", "UTC")
    assert schema["on"] == pl.Date
    df = pr.read_hashes(redis_url, "h:*")
    assert df.filter(pl.col("_key") == "h:0")["at"].to_list() == [
        datetime(2024, 1, 31, 10, 15, 10, tzinfo=UTC)
    ]
