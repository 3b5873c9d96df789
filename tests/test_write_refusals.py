"""Writes refuse, before anything is sent, what they cannot store faithfully:
a ``pl.Object`` column in any role, and a TTL that would expire the key at
once (not positive, or an expiry time in the past), so ``written`` always
equals what exists afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

import polars_redis as pr


def _objects(n: int = 2) -> pl.Series:
    return pl.Series([object() for _ in range(n)], dtype=pl.Object)


def _connections(client: Any) -> int:
    return int(client.info("stats")["total_connections_received"])


Writer = Callable[..., pr.WriteResult]

# (writer, a valid two-row frame, extra keyword arguments, its column roles)
WRITES: list[tuple[Writer, dict[str, Any], dict[str, Any], list[str]]] = [
    (pr.write_hashes, {"_key": ["a", "b"], "v": [1, 2]}, {}, ["_key", "v"]),
    (pr.write_json, {"_key": ["a", "b"], "v": [1, 2]}, {}, ["_key", "v"]),
    (pr.write_strings, {"_key": ["a", "b"], "value": ["x", "y"]}, {}, ["_key", "value"]),
    (pr.write_sets, {"_key": ["a", "a"], "member": ["x", "y"]}, {}, ["_key", "member"]),
    (
        pr.write_lists,
        {"_key": ["a", "a"], "element": ["x", "y"], "pos": [1, 2]},
        {"order_column": "pos"},
        ["_key", "element", "pos"],
    ),
    (
        pr.write_zsets,
        {"_key": ["a", "a"], "member": ["x", "y"], "score": [1.0, 2.0]},
        {},
        ["_key", "member", "score"],
    ),
    (
        pr.write_streams,
        {"_key": ["a", "a"], "_id": ["1-1", "1-2"], "f": ["x", "y"]},
        {},
        ["_key", "_id", "f"],
    ),
    (
        pr.write_timeseries,
        {"_key": ["a", "a"], "_ts": [1000, 2000], "value": [1.0, 2.0]},
        {},
        ["_key", "_ts", "value"],
    ),
]

OBJECT_CASES = [
    pytest.param(writer, data, kwargs, role, id=f"{writer.__name__}-{role}")
    for writer, data, kwargs, roles in WRITES
    for role in [*roles, "ttl"]
]


@pytest.mark.parametrize(("writer", "data", "kwargs", "role"), OBJECT_CASES)
def test_object_column_is_refused_in_every_role(
    stack_url: str,
    stack_client: Any,
    writer: Writer,
    data: dict[str, Any],
    kwargs: dict[str, Any],
    role: str,
) -> None:
    frame = pl.DataFrame(data)
    if role == "ttl":
        frame = frame.with_columns(_objects(frame.height).alias("ttl"))
        kwargs = {**kwargs, "ttl_column": "ttl"}
    else:
        frame = frame.with_columns(_objects(frame.height).alias(role))
    connections = _connections(stack_client)
    with pytest.raises(pr.InvalidInputError) as info:
        writer(frame, stack_url, **kwargs)
    message = str(info.value)
    assert repr(role) in message and "Object" in message, message
    assert isinstance(info.value, pr.InvalidInputError)
    # Nothing reached the server: not even a connection was opened.
    assert _connections(stack_client) == connections
    assert stack_client.dbsize() == 0


def test_object_column_not_written_is_still_refused(stack_url: str, stack_client: Any) -> None:
    """write_strings writes one column, but the frame is checked whole."""
    frame = pl.DataFrame({"_key": ["a"], "value": ["x"]}).with_columns(_objects(1).alias("o"))
    with pytest.raises(pr.InvalidInputError, match="'o'"):
        pr.write_strings(frame, stack_url)
    assert stack_client.dbsize() == 0


NOW = datetime.now(timezone.utc)

# TTL columns whose row 1 would expire its key at once.
EXPIRED_COLUMNS = {
    "past datetime": pl.Series("t", [NOW + timedelta(hours=1), NOW - timedelta(hours=1)]),
    "past naive datetime": pl.Series(
        "t", [None, NOW.replace(tzinfo=None) - timedelta(days=400)], dtype=pl.Datetime("ms")
    ),
    "epoch datetime": pl.Series("t", [None, datetime(1970, 1, 1)], dtype=pl.Datetime("us")),
    "zero seconds": pl.Series("t", [60, 0]),
    "negative seconds": pl.Series("t", [60, -5]),
    "zero duration": pl.Series("t", [timedelta(seconds=5), timedelta(0)]),
    "negative duration": pl.Series("t", [None, timedelta(milliseconds=-1500)]),
}


@pytest.mark.parametrize(
    ("writer", "data", "kwargs"),
    [pytest.param(w, d, k, id=w.__name__) for w, d, k, _ in WRITES],
)
@pytest.mark.parametrize("case", list(EXPIRED_COLUMNS))
def test_expired_ttl_rows_are_refused(
    stack_url: str,
    stack_client: Any,
    writer: Writer,
    data: dict[str, Any],
    kwargs: dict[str, Any],
    case: str,
) -> None:
    frame = pl.DataFrame(data).with_columns(EXPIRED_COLUMNS[case])
    if writer in (pr.write_sets, pr.write_lists, pr.write_zsets, pr.write_streams,
                  pr.write_timeseries):  # fmt: skip
        # One key per group: give row 1 its own key so the rows do not disagree.
        frame = frame.with_columns(pl.Series("_key", ["a", "b"]))
    connections = _connections(stack_client)
    with pytest.raises(pr.InvalidInputError) as info:
        writer(frame, stack_url, ttl_column="t", **kwargs)
    message = str(info.value)
    assert "row 1" in message and "`t`" in message and "nothing was written" in message, message
    assert _connections(stack_client) == connections
    assert stack_client.dbsize() == 0


def test_expired_rows_are_all_named(stack_url: str, stack_client: Any) -> None:
    past = NOW - timedelta(minutes=5)
    frame = pl.DataFrame({"_key": [f"k{i}" for i in range(14)], "v": list(range(14))}).with_columns(
        pl.Series("t", [past if i % 4 == 1 or i > 10 else None for i in range(14)])
    )
    with pytest.raises(pr.InvalidInputError) as info:
        pr.write_hashes(frame, stack_url, ttl_column="t")
    assert "rows 1, 5, 9, 11, 12, 13" in str(info.value)
    assert "in the past" in str(info.value)
    assert stack_client.dbsize() == 0


def test_future_ttls_are_written_and_exist(stack_url: str, stack_client: Any) -> None:
    now = datetime.now(timezone.utc)
    frame = pl.DataFrame({"_key": ["a", "b", "c"], "v": [1, 2, 3]}).with_columns(
        pl.Series("t", [now + timedelta(hours=1), None, now + timedelta(minutes=10)])
    )
    result = pr.write_hashes(frame, stack_url, ttl_column="t")
    assert result.written == 3 == stack_client.exists("a", "b", "c")
    assert 3500 < stack_client.ttl("a") <= 3600
    assert stack_client.ttl("b") == -1


@pytest.mark.parametrize("ttl", [0, -1, timedelta(0), timedelta(seconds=-3)])
@pytest.mark.parametrize("writer", [w for w, *_ in WRITES], ids=lambda w: w.__name__)
def test_scalar_ttl_that_expires_at_once_is_refused(
    stack_url: str, stack_client: Any, writer: Writer, ttl: Any
) -> None:
    spec = next(s for s in WRITES if s[0] is writer)
    with pytest.raises(pr.InvalidInputError, match="ttl must be at least 1 second"):
        writer(pl.DataFrame(spec[1]), stack_url, ttl=ttl, **spec[2])
    assert stack_client.dbsize() == 0


def test_scalar_ttl_datetime_is_refused(stack_url: str, stack_client: Any) -> None:
    with pytest.raises(pr.InvalidInputError, match="ttl"):
        pr.write_hashes(pl.DataFrame({"_key": ["a"], "v": [1]}), stack_url, ttl=NOW)  # type: ignore[typeddict-item]
    assert stack_client.dbsize() == 0
