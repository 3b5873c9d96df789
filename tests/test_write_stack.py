"""write_json and write_timeseries against Redis Stack; ground truth read
with redis-py (JSON.GET, TS.RANGE, TS.INFO)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import redis

import polars_redis as pr


def _doc(client: Any, key: str) -> Any:
    raw = client.execute_command("JSON.GET", key)
    return None if raw is None else json.loads(raw)


# -- JSON ------------------------------------------------------------------------


def test_json_documents_from_every_dtype(stack_url: str, stack_client: Any) -> None:
    df = pl.DataFrame(
        {
            "_key": ["doc:1", "doc:2"],
            "name": ['Ann "quoted" \n', None],
            "age": pl.Series([36, None], dtype=pl.Int32),
            "big": pl.Series([2**64 - 1, 0], dtype=pl.UInt64),
            "score": [0.1, -2.5e-300],
            "ok": [True, False],
            "born": [dt.date(1988, 2, 29), None],
            "seen": pl.Series([dt.datetime(2024, 1, 1, 12), dt.datetime(1960, 1, 1)])
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Europe/Amsterdam"),
            "at": [dt.time(8, 0), dt.time(23, 59, 59)],
            "wait": [dt.timedelta(seconds=1), dt.timedelta(0)],
            "money": pl.Series([Decimal("12.30"), Decimal("-0.01")], dtype=pl.Decimal(8, 2)),
            "tags": [["a", "b"], []],
            "addr": [{"city": "Delft", "zip": None, "geo": [52.0, 4.3]}, None],
            "cat": pl.Series(["x", "y"], dtype=pl.Categorical),
            "bin": [b"utf8 bytes", None],
        }
    )
    result = pr.write_json(df, stack_url, ttl=100)
    assert result.written == 2
    assert _doc(stack_client, "doc:1") == {
        "name": 'Ann "quoted" \n',
        "age": 36,
        "big": 2**64 - 1,
        "score": 0.1,
        "ok": True,
        "born": "1988-02-29",
        "seen": "2024-01-01T13:00:00+01:00",
        "at": "08:00:00",
        "wait": 1_000_000,
        "money": "12.30",
        "tags": ["a", "b"],
        "addr": {"city": "Delft", "zip": None, "geo": [52.0, 4.3]},
        "cat": "x",
        "bin": "utf8 bytes",
    }
    doc2 = _doc(stack_client, "doc:2")
    assert doc2["name"] is None and doc2["addr"] is None and doc2["tags"] == []
    assert doc2["score"] == -2.5e-300 and doc2["seen"] == "1960-01-01T01:00:00+01:00"
    assert 90 < stack_client.ttl("doc:1") <= 100


def test_json_replace_append_skip(stack_url: str, stack_client: Any) -> None:
    stack_client.execute_command("JSON.SET", "d", "$", '{"keep": 1, "n": 0, "nested": {"a": 1}}')
    df = pl.DataFrame({"_key": ["d"], "n": [5], "note": [None], "nested": [{"b": 2}]})
    pr.write_json(df, stack_url, if_exists="append")
    # Merge: attributes updated, nested objects merged, null attributes left out.
    assert _doc(stack_client, "d") == {"keep": 1, "n": 5, "nested": {"a": 1, "b": 2}}
    pr.write_json(df, stack_url)
    assert _doc(stack_client, "d") == {"n": 5, "note": None, "nested": {"b": 2}}
    result = pr.write_json(df, stack_url, if_exists="skip")
    assert result.skipped_keys == ["d"]


def test_json_rejects_values_json_cannot_hold(stack_url: str, stack_client: Any) -> None:
    df = pl.DataFrame({"_key": ["a", "b"], "x": [1.0, float("inf")]})
    with pytest.raises(pr.InvalidInputError, match=r"row 1, key \"b\", column `x`"):
        pr.write_json(df, stack_url)
    df = pl.DataFrame({"_key": ["a"], "x": [b"\xff"]})
    with pytest.raises(pr.InvalidInputError, match="not valid UTF-8"):
        pr.write_json(df, stack_url)
    assert stack_client.dbsize() == 0


def test_json_wrongtype_on_append(stack_url: str, stack_client: Any) -> None:
    stack_client.set("s", "text")
    df = pl.DataFrame({"_key": ["s", "t"], "x": [1, 2]})
    result = pr.write_json(df, stack_url, if_exists="append", raise_on_error=False)
    assert [f.key for f in result.failures] == ["s"] and result.written == 1
    assert stack_client.get("s") == b"text"


# -- time series -----------------------------------------------------------------


def test_timeseries_samples_labels_and_retention(stack_url: str, stack_client: Any) -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    df = pl.DataFrame(
        {
            "_key": ["t:1", "t:1", "t:2", "t:1"],
            "_ts": [start + dt.timedelta(seconds=s) for s in (2, 1, 0, 3)],
            "value": [2.5, 1.0, -7.0, 3.0],
        }
    )
    result = pr.write_timeseries(
        df, stack_url, retention=dt.timedelta(days=3650), labels={"room": "kitchen"}
    )
    assert (result.written, result.keys_written) == (4, 2)
    base = int(start.timestamp() * 1000)
    samples = stack_client.execute_command("TS.RANGE", "t:1", "-", "+")
    assert [(int(t), float(v)) for t, v in samples] == [
        (base + 1000, 1.0),
        (base + 2000, 2.5),
        (base + 3000, 3.0),
    ]
    conn = stack_client.connection_pool.connection_kwargs
    with redis.Redis(host=conn["host"], port=conn["port"], decode_responses=True) as text_client:
        info = text_client.ts().info("t:2")
    assert info.retention_msecs == 3650 * 86_400_000
    assert info.labels == {"room": "kitchen"}


def test_timeseries_append_and_replace(stack_url: str, stack_client: Any) -> None:
    df = pl.DataFrame({"_key": ["t"] * 2, "_ts": [1000, 2000], "value": [1, 2]})
    pr.write_timeseries(df, stack_url, labels={"a": "b"})
    more = pl.DataFrame({"_key": ["t"], "_ts": [3000], "value": [3]})
    pr.write_timeseries(more, stack_url, if_exists="append")
    assert len(stack_client.execute_command("TS.RANGE", "t", "-", "+")) == 3
    pr.write_timeseries(more, stack_url)
    assert stack_client.execute_command("TS.RANGE", "t", "-", "+") == [[3000, 3.0]]
    # Appending an existing timestamp is refused by the series (DUPLICATE_POLICY BLOCK).
    with pytest.raises(pr.WriteError) as raised:
        pr.write_timeseries(more, stack_url, if_exists="append")
    assert "TSDB" in raised.value.result.failures[0].message


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pl.DataFrame({"_key": ["t", "t"], "_ts": [1, 1], "value": [1.0, 2.0]}),
            r"row 1, key \"t\", column `_ts`: the timestamp appears twice",
        ),
        (
            pl.DataFrame(
                {"_key": ["t"], "_ts": [1], "value": [None]},
                schema_overrides={"value": pl.Float64},
            ),
            r"row 0, key \"t\", column `value`: the sample value is null",
        ),
        (
            pl.DataFrame(
                {"_key": ["t"], "_ts": [dt.datetime(2024, 1, 1, 0, 0, 0, 1)], "value": [1.0]}
            ),
            "sub-millisecond",
        ),
    ],
)
def test_timeseries_bad_samples_are_rejected(
    stack_url: str, stack_client: Any, frame: pl.DataFrame, message: str
) -> None:
    with pytest.raises(pr.InvalidInputError, match=message):
        pr.write_timeseries(frame, stack_url)
    assert stack_client.dbsize() == 0


def test_timeseries_round_trip_through_read_timeseries(stack_url: str) -> None:
    start = dt.datetime(2024, 3, 1)
    source = pl.DataFrame(
        {
            "_key": ["s:1", "s:1", "s:2"],
            "_ts": pl.Series(
                [start, start + dt.timedelta(milliseconds=1), start], dtype=pl.Datetime("ms")
            ),
            "value": [0.1, -1e10, 3.0],
        }
    )
    pr.write_timeseries(source, stack_url)
    back = pr.read_timeseries(stack_url, "s:*").sort("_key", "_ts")
    assert back.equals(source)
    pr.write_timeseries(back, stack_url)
    assert pr.read_timeseries(stack_url, "s:*").sort("_key", "_ts").equals(source)


def test_json_round_trip_through_read_json(stack_url: str) -> None:
    df = pl.DataFrame(
        {
            "_key": ["doc:1", "doc:2", "doc:3"],
            "name": ["Ann", None, 'quote " and \\ backslash'],
            "age": pl.Series([36, None, -1], dtype=pl.Int64),
            "big": pl.Series([2**64 - 1, 0, 7], dtype=pl.UInt64),
            "score": [0.1, -2.5e-300, None],
            "ok": [True, False, None],
            "born": [dt.date(1988, 2, 29), None, dt.date(1, 1, 1)],
            "seen": pl.Series(
                [dt.datetime(2024, 1, 1, 12), dt.datetime(1960, 1, 1, 0, 0, 0, 1000), None],
                dtype=pl.Datetime("ms"),
            )
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Europe/Amsterdam"),
            "at": [dt.time(8, 0), None, dt.time(23, 59, 59, 999999)],
            "wait": pl.Series([1, None, -5], dtype=pl.Duration("ms")),
            "money": pl.Series([Decimal("12.30"), Decimal("-0.01"), None], dtype=pl.Decimal(8, 2)),
            "bin": [b"utf8 bytes", None, b""],
            "tags": [["a", "b"], [], None],
            "addr": [{"city": "Delft", "zip": None}, None, {"city": None, "zip": 2611}],
        }
    )
    result = pr.write_json(df, stack_url)
    assert result.written == 3
    schema = {name: dtype for name, dtype in df.schema.items() if name != "_key"}
    back = pr.read_json(stack_url, "doc:*", schema).sort("_key")
    assert back.equals(df)
