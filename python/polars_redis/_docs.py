"""Docstring pieces shared by the ``scan_*`` functions.

A docstring line holding only ``{scan_options}`` is replaced by
:data:`SCAN_OPTIONS`, one holding only ``{scan_warns}`` by :data:`SCAN_WARNS`,
and one holding only ``{infer_options}`` (the ``infer_*`` functions) by
:data:`INFER_OPTIONS`, indented like that line; then ``{batch_size_bounds}``
(and the other names of :data:`BOUNDS`) by the core's size limits.
"""

from __future__ import annotations

import textwrap
from typing import Callable, TypeVar

from polars_redis import _internal

F = TypeVar("F", bound=Callable[..., object])


def _bounds(limit: tuple[int, int]) -> str:
    return f"{limit[0]:,} to {limit[1]:,}"


#: The core's size limits in words, by their docstring placeholder.
BOUNDS = {
    "{batch_size_bounds}": _bounds(_internal.BATCH_SIZE_LIMIT),
    "{count_hint_bounds}": _bounds(_internal.COUNT_HINT_LIMIT),
    "{parallelism_bounds}": _bounds(_internal.PARALLELISM_LIMIT),
    "{retries_bounds}": _bounds(_internal.RETRIES_LIMIT),
    "{default_retries}": str(_internal.DEFAULT_RETRIES),
    "{infer_sample_size_bounds}": _bounds(_internal.INFER_SAMPLE_SIZE_LIMIT),
    "{write_batch_size_bounds}": _bounds(_internal.WRITE_BATCH_SIZE_LIMIT),
    "{write_parallelism_bounds}": _bounds(_internal.WRITE_PARALLELISM_LIMIT),
}

LOAD_BUDGET = """\
How much of a live server the scan may use (default: no limit; see
``docs/production.md``). ``rate_limit``: keys read per second, over all
connections of the call together. ``latency_budget_ms``: the longest one
pipeline of the scan may occupy a server, so that an online command queued
behind it waits about that long at most: pipelines are sized from the time
per key observed on each node and only one is in flight per node, which
costs throughput (measured: ``bench/bench_online_latency.py``)."""

RETRIES = """\
Attempts after a pipeline or ``SCAN`` step failed on a dropped connection,
a timeout or a restarting server (default {default_retries},
{retries_bounds}), with exponential backoff (50 ms, doubling, at most 2 s)
within ``deadline``. A ``SCAN`` resumes from its cursor; after a server
restart (a new ``run_id``) it walks the keyspace again and every key is
still read exactly once."""

READ_FROM = """\
Which servers the keys are listed and read on: ``"primary"`` (default;
writes always go there), ``"replica"`` (only replicas, spread over every
live replica of each shard: ``READONLY`` replicas of a Redis Cluster, the
replicas a standalone primary's ``ROLE`` lists, or those the sentinels know;
a shard without a live replica raises :class:`RedisConnectionError` naming
it) or ``"prefer_replica"`` (its primary for a shard without a live replica).
A replica may lag behind its primary: a replica read can miss the newest
writes (see ``docs/production.md``)."""

SCAN_OPTIONS = """\
keys
    Read exactly these keys instead of scanning, in this order (on a Redis
    Cluster: master by master, in this order within each). Missing keys give
    no row; a key of another type raises :class:`WrongTypeError`.
include_key, key_column_name, key_dtype
    Add the key as a column (default ``_key``): ``pl.String`` (default; a key
    that is not UTF-8 raises :class:`ParseError`, or is null when not
    ``strict``) or ``pl.Binary`` (the raw bytes of every key).
include_ttl, ttl_column_name
    Add the seconds left before expiry as Int64 (default ``_ttl``);
    null when the key never expires.
include_row_index, row_index_column_name
    Add a UInt32 row number starting at 0 (default ``_index``), first column.
    Rows are numbered over the whole scan (in SCAN or ``keys`` order), so a
    filter keeps the numbers of the full read; key filters are then applied
    after reading rather than pushed down.
batch_size
    Keys fetched per pipeline, and rows per batch ({batch_size_bounds}).
count_hint
    ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100;
    {count_hint_bounds}).
strict
    If True, a value that does not parse as its dtype raises
    :class:`ParseError` naming the key, field and value; if False it becomes null.
formats
    Column name to stored form, for Date, Datetime, Time and Duration columns
    not stored as ISO-8601: a strftime format (``"%d/%m/%Y"``) or ``"epoch_s"``,
    ``"epoch_ms"``, ``"epoch_us"``, ``"epoch_ns"`` (an integer count since
    1970-01-01 UTC; since midnight for Time). Without it, dates, datetimes and
    times read ISO-8601 extended or basic (``2024-01-31``, ``20240131``,
    ``2024-01-31T10:15:00.5+01:00``, ``20240131T101500Z``), and a bare integer
    is a parse error, never an epoch count. ``write_*`` takes the same mapping.
parallelism
    Pipelines in flight, each on its own connection (per master on a Redis
    Cluster, whose masters are all scanned at once; {parallelism_bounds}).
connect_timeout, command_timeout
    Seconds allowed to connect (default 10) and to wait for one reply (default 60).
deadline
    Seconds allowed for the whole scan; exceeded raises :class:`RedisTimeoutError`.
"""
SCAN_OPTIONS += "\n".join(
    [
        "rate_limit, latency_budget_ms",
        textwrap.indent(LOAD_BUDGET, "    "),
        "retries",
        textwrap.indent(RETRIES, "    "),
        "read_from",
        textwrap.indent(READ_FROM, "    "),
    ]
)

PROGRESS_OPTION = """\
progress
    ``True`` draws a progress bar on stderr (tqdm when installed, else a
    plain line); a callable receives a :class:`Progress` after every batch
    and when the scan ends. Off by default."""

SCAN_OPTIONS += "\n" + PROGRESS_OPTION

KEY_CALL_OPTIONS = """\
connect_timeout, command_timeout
    Seconds to wait for a connection, and for each reply.
rate_limit
    Keys per second the call may touch, over all nodes together (its
    per-key commands are paced; the listing of a pattern is not), so a
    bulk change leaves a live server room for its other clients.
    Default: no limit."""

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
    How many keys to sample ({infer_sample_size_bounds}; more than the
    matching keys reads them all).
scan_budget
    Seconds allowed for walking the keyspace.
count_hint
    ``COUNT`` hint for ``SCAN`` ({count_hint_bounds}).
rate_limit, latency_budget_ms
    How much of a live server sampling may use (default: no limit; see
    ``docs/production.md``). ``rate_limit``: keys per second, counting the
    keys each ``SCAN`` page visits (its ``COUNT``) and the sampled keys read.
    ``latency_budget_ms``: the longest one ``SCAN`` page or pipeline of
    sampled reads may occupy a server; both are sized from the time per key
    observed on each node.
retries
    Attempts after one failed on a dropped connection, a timeout or a
    restarting server (default {default_retries}, {retries_bounds}), with
    exponential backoff (50 ms, doubling, at most 2 s); the sample is taken
    again from the start."""

_PIECES = {
    "{scan_options}": SCAN_OPTIONS,
    "{progress_option}": PROGRESS_OPTION,
    "{key_call_options}": KEY_CALL_OPTIONS,
    "{scan_warns}": SCAN_WARNS,
    "{infer_options}": INFER_OPTIONS,
    "{load_budget}": LOAD_BUDGET,
    "{retries}": RETRIES,
    "{read_from}": READ_FROM,
}


def with_scan_options(function: F) -> F:
    """Put each piece (:data:`SCAN_OPTIONS`, ...) where ``function``'s docstring
    names it (``{scan_options}``, ...), and the size limits where it names
    them (:data:`BOUNDS`)."""
    doc = function.__doc__ or ""
    lines = []
    for line in doc.splitlines():
        piece = _PIECES.get(line.strip())
        if piece is not None:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + text if text else text for text in piece.splitlines()]
        else:
            lines.append(line)
    doc = "\n".join(lines)
    for placeholder, text in BOUNDS.items():
        doc = doc.replace(placeholder, text)
    function.__doc__ = doc
    return function
