"""What ``polars_redis.ray`` and ``polars_redis.dask`` share: checking a
write's arguments on the driver, and writing one part of a frame on a worker."""

from __future__ import annotations

from typing import Any, Callable

import polars as pl

from polars_redis.exceptions import InvalidInputError
from polars_redis.partition import check_picklable
from polars_redis.write import (
    WriteResult,
    write_hashes,
    write_json,
    write_lists,
    write_sets,
    write_streams,
    write_strings,
    write_timeseries,
    write_zsets,
)

_WRITERS: dict[str, Callable[..., WriteResult]] = {
    "hashes": write_hashes,
    "json": write_json,
    "streams": write_streams,
    "strings": write_strings,
    "sets": write_sets,
    "lists": write_lists,
    "zsets": write_zsets,
    "timeseries": write_timeseries,
}


def check_write(kind: str, write_options: dict[str, Any]) -> None:
    """Refuse an unknown ``kind`` or an option workers cannot receive, on the driver."""
    if kind not in _WRITERS:
        names = ", ".join(repr(k) for k in _WRITERS)
        raise InvalidInputError(f"kind must be one of {names}, got {kind!r}")
    for name, value in write_options.items():
        check_picklable(name, value)


def write_part(df: pl.DataFrame, kind: str, url: str, write_options: dict[str, Any]) -> WriteResult:
    """Write one part of a frame with ``write_<kind>`` (on a worker)."""
    return _WRITERS[kind](df, url, **write_options)
