"""Timestamps given as ``datetime`` or integer milliseconds, as the core takes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Union

from polars_redis.exceptions import InvalidInputError

TimeLike = Union[int, datetime, date]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(value: TimeLike, name: str) -> int:
    """Milliseconds since the Unix epoch. A naive ``datetime`` (or a ``date``)
    is taken as UTC, as Polars does for a ``Datetime`` without time zone;
    sub-millisecond parts are dropped."""
    if isinstance(value, bool):
        msg = f"{name} must be an int (milliseconds) or a datetime, got {value!r}"
        raise InvalidInputError(msg)
    if isinstance(value, int):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return (value - _EPOCH) // timedelta(milliseconds=1)
    msg = f"{name} must be an int (milliseconds) or a datetime, got {type(value).__name__}"
    raise InvalidInputError(msg)
