"""Docstring pieces shared by the ``scan_*`` functions.

A docstring line holding only ``{scan_options}`` is replaced by
:data:`SCAN_OPTIONS`, one holding only ``{scan_warns}`` by :data:`SCAN_WARNS`,
and one holding only ``{infer_options}`` (the ``infer_*`` functions) by
:data:`INFER_OPTIONS`, indented like that line.
"""

from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])

SCAN_OPTIONS = """\
keys
    Read exactly these keys instead of scanning, in this order (on a Redis
    Cluster: master by master, in this order within each). Missing keys give
    no row; a key of another type raises :class:`WrongTypeError`.
include_key, key_column_name
    Add the key as a String column (default ``_key``).
include_ttl, ttl_column_name
    Add the seconds left before expiry as Int64 (default ``_ttl``);
    null when the key never expires.
include_row_index, row_index_column_name
    Add a UInt32 row number starting at 0 (default ``_index``), first column.
    Rows are numbered over the whole scan (in SCAN or ``keys`` order), so a
    filter keeps the numbers of the full read; key filters are then applied
    after reading rather than pushed down.
batch_size
    Keys fetched per pipeline, and rows per batch.
count_hint
    ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100).
strict
    If True, a value that does not parse as its dtype raises
    :class:`ParseError` naming the key, field and value; if False it becomes null.
parallelism
    Pipelines in flight, each on its own connection (per master on a Redis
    Cluster, whose masters are all scanned at once).
connect_timeout, command_timeout
    Seconds allowed to connect (default 10) and to wait for one reply (default 60).
deadline
    Seconds allowed for the whole scan; exceeded raises :class:`RedisTimeoutError`."""

SCAN_WARNS = """\
Warns
-----
UserWarning
    Once a scan has read every key (also logged on the ``polars_redis``
    logger): for each declared field (schema field, JSON path, time series
    label) that no key read had, so that its column is all null, naming the
    closest names the keys do have; and when the pattern matched no key of
    the scanned type but keys of other types, naming those types."""

INFER_OPTIONS = """\
pattern
    Glob pattern of the keys to sample.
sample_size
    How many keys to sample.
scan_budget
    Seconds allowed for walking the keyspace.
count_hint
    ``COUNT`` hint for ``SCAN``."""

_PIECES = {
    "{scan_options}": SCAN_OPTIONS,
    "{scan_warns}": SCAN_WARNS,
    "{infer_options}": INFER_OPTIONS,
}


def with_scan_options(function: F) -> F:
    """Put each piece (:data:`SCAN_OPTIONS`, ...) where ``function``'s docstring
    names it (``{scan_options}``, ...)."""
    doc = function.__doc__ or ""
    lines = []
    for line in doc.splitlines():
        piece = _PIECES.get(line.strip())
        if piece is not None:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + text if text else text for text in piece.splitlines()]
        else:
            lines.append(line)
    function.__doc__ = "\n".join(lines)
    return function
