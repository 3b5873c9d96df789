"""Splitting a scan into independent, picklable partitions by hash slot, for
engines that run them in other processes (Ray, Dask, a process pool).

Every key has exactly one hash slot (CRC16 of the key or its hash tag, as
Redis Cluster computes it), and the partitions of a plan divide the 16384
slots between them, so their union reads every key of the scan exactly once.
On a cluster each master's slots are cut into consecutive ranges (at least
one partition per master); a partition reads its slots wherever they are
served when it runs, so a slot that moved since planning is read on its new
owner, and a layout that changes while it runs raises :class:`ClusterError`.
A standalone server's keys are sorted into the same slot ranges: each
partition walks the server's ``SCAN`` and keeps the keys of its own slots.
"""

from __future__ import annotations

import pickle
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Literal

import polars as pl

from polars_redis import _internal
from polars_redis._dtypes import SchemaLike
from polars_redis._plugin import BatchStream, collect, partition_slots
from polars_redis._validate import check_forwarded, checked
from polars_redis.exceptions import InvalidInputError
from polars_redis.hashes import iter_hashes, scan_hashes
from polars_redis.infer import schema_for_scan
from polars_redis.json import iter_json, scan_json
from polars_redis.lists import iter_lists, scan_lists
from polars_redis.sets import iter_sets, scan_sets
from polars_redis.streams import iter_streams, scan_streams
from polars_redis.strings import iter_strings, scan_strings
from polars_redis.timeseries import iter_timeseries, scan_timeseries
from polars_redis.zsets import iter_zsets, scan_zsets

ScanKind = Literal["hashes", "json", "streams", "strings", "sets", "lists", "zsets", "timeseries"]

#: Per kind: its scan_* and iter_* functions, and the type name schema
#: inference uses (None: the kind takes no ``schema``).
_KINDS: dict[str, tuple[Callable[..., pl.LazyFrame], Callable[..., BatchStream], str | None]] = {
    "hashes": (scan_hashes, iter_hashes, "hash"),
    "json": (scan_json, iter_json, "json"),
    "streams": (scan_streams, iter_streams, "stream"),
    "strings": (scan_strings, iter_strings, None),
    "sets": (scan_sets, iter_sets, None),
    "lists": (scan_lists, iter_lists, None),
    "zsets": (scan_zsets, iter_zsets, None),
    "timeseries": (scan_timeseries, iter_timeseries, None),
}


@dataclass(frozen=True, repr=False)
class ScanPartition:
    """One partition of a scan: small, picklable, and run anywhere.

    It holds what the scan needs (URL, pattern or its share of the listed
    keys, the schema resolved at planning, the options), never a connection.
    Made by :func:`partition_scan`.
    """

    kind: str
    """The Redis type read: ``"hashes"``, ``"json"``, ..."""
    url: str
    """The server's URL (with its credentials: ``repr`` hides them)."""
    pattern: str | bytes | None
    """The key pattern, or None when the partition reads listed keys."""
    schema: dict[str, Any] | None
    """The schema of the kinds that take one (resolved once, at planning)."""
    keys: tuple[str | bytes, ...] | None
    """The listed keys of this partition's slots, if the scan lists keys."""
    options: dict[str, Any]
    """The other keyword options of the scan."""
    node: str
    """``host:port`` serving the slots at planning (a locality hint)."""
    slots: tuple[tuple[int, int], ...]
    """The hash slot ranges read, ``(first, last)`` both included."""
    index: int
    """Position in the plan."""
    count: int
    """Partitions in the plan."""

    def __repr__(self) -> str:
        what = "keys" if self.keys is not None else self.pattern
        slots = ",".join(f"{a}-{b}" if a != b else str(a) for a, b in self.slots)
        return (
            f"ScanPartition({self.kind} {what!r}, {self.index + 1}/{self.count}, "
            f"node={self.node!r}, slots={slots!r}, url={_internal.redact_url(self.url)!r})"
        )

    def _arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args: tuple[Any, ...] = (self.url, self.pattern)
        if _KINDS[self.kind][2] is not None:
            args += (self.schema,)
        options = dict(self.options)
        if self.keys is not None:
            options["keys"] = list(self.keys)
        return args, options

    def scan(self) -> pl.LazyFrame:
        """This partition's rows as a LazyFrame, with the pushdown of ``scan_*``
        (projection, key filters, row limit, RediSearch where it applies).

        Examples
        --------
        >>> parts = redis.partition_scan("hashes", url, "user:*", {"age": pl.Int64})
        >>> sum(p.scan().filter(pl.col("age") > 30).collect().height for p in parts)
        2
        """
        args, options = self._arguments()
        with partition_slots(self.slots):
            return _KINDS[self.kind][0](*args, **options)

    def read(self) -> pl.DataFrame:
        """This partition's rows as a DataFrame.

        Examples
        --------
        >>> parts = redis.partition_scan("hashes", url, "user:*", {"age": pl.Int64})
        >>> sum(p.read().height for p in parts)
        3
        """
        return collect(self.scan())

    def iter_batches(self) -> BatchStream:
        """This partition's rows batch by batch (also an Arrow stream, see
        :class:`BatchStream`).

        Examples
        --------
        >>> parts = redis.partition_scan("hashes", url, "user:*", {"age": pl.Int64})
        >>> sum(batch.height for p in parts for batch in p.iter_batches())
        3
        """
        args, options = self._arguments()
        with partition_slots(self.slots):
            return _KINDS[self.kind][1](*args, **options)


@checked
def partition_scan(
    kind: ScanKind,
    url: str,
    pattern: str | bytes = "*",
    schema: SchemaLike | None = None,
    *,
    partitions: int | None = None,
    keys: Sequence[str | bytes] | None = None,
    **scan_options: Any,
) -> list[ScanPartition]:
    """Plan a scan as independent partitions by hash slot.

    The union of the partitions' rows equals ``read_<kind>`` with the same
    arguments: every key exactly once. Each partition is small and picklable
    (no connection; with ``keys``, only its own keys) and runs anywhere
    (:meth:`ScanPartition.read`, :meth:`~ScanPartition.iter_batches`,
    :meth:`~ScanPartition.scan`); give them to Ray, Dask or a process pool
    (``polars_redis.ray`` and ``polars_redis.dask`` do).

    On a Redis Cluster, each master's slots are cut into consecutive ranges,
    at least one partition per master; a partition reads its slots wherever
    they are served when it runs (a slot moved since planning is read on its
    new owner; a layout changing during the read raises
    :class:`ClusterError`). A standalone server's keys are sorted into the
    same slot ranges (CRC16 of the key, as a cluster would): each partition
    walks the server's ``SCAN`` and keeps the keys of its own slots, so the
    server is walked once per partition, and the fetches are split.

    Parameters
    ----------
    kind
        ``"hashes"``, ``"json"``, ``"streams"``, ``"strings"``, ``"sets"``,
        ``"lists"``, ``"zsets"`` or ``"timeseries"``.
    url
        The server or any cluster node, as for ``scan_*``.
    pattern
        Glob pattern of the keys (ignored when ``keys`` is given).
    schema
        The schema (hashes, JSON, streams only); None infers it once, now,
        so every partition reads with the same one.
    partitions
        How many partitions at least (1 to 16384): spread evenly over the
        masters, each master's slots cut into ``ceil(partitions / masters)``
        ranges. Default: one per master (one on a standalone server).
    keys
        Read exactly these keys instead of a pattern; each partition holds
        the keys of its own slots (partitions with none are left out).
    **scan_options
        The keyword options of ``scan_<kind>`` (``batch_size``,
        ``include_ttl``, ``formats``, ...); they must be picklable.

    Returns
    -------
    list of ScanPartition

    Raises
    ------
    InvalidInputError
        An unknown ``kind``, ``schema`` for a kind without one, a pattern
        together with ``keys``, or an option that cannot be pickled.

    Examples
    --------
    >>> parts = redis.partition_scan("hashes", url, "user:*", {"age": pl.Int64}, partitions=4)
    >>> len(parts)
    4
    >>> pl.concat(p.read() for p in parts).sort("_key")["age"].to_list()
    [36, 41, 30]
    """
    scan, _, schema_type = _KINDS[kind]
    if schema is not None and schema_type is None:
        raise InvalidInputError(f"schema= applies to hashes, json and streams, not {kind}")
    if keys is not None and pattern != "*":
        raise InvalidInputError("pass either a pattern or keys, not both")
    chosen = None if keys is not None else pattern
    args: tuple[Any, ...] = (url, chosen) + ((schema,) if schema_type is not None else ())
    check_forwarded("partition_scan", scan, *args, keys=keys, **scan_options)
    for name, value in scan_options.items():
        check_picklable(name, value)
    args = (url, chosen)
    resolved: dict[str, Any] | None = None
    if schema_type is not None:
        inferred = schema_for_scan(
            schema_type,
            {
                "schema": schema,
                "keys": keys,
                "url": url,
                "pattern": chosen,
                "infer_sample_size": scan_options.get(
                    "infer_sample_size", _internal.DEFAULT_INFER_SAMPLE_SIZE
                ),
            },
        )
        resolved = dict(inferred)
        args += (resolved,)
    # The scan function checks the option values (sizes, formats, ...) now.
    scan(*args, keys=keys, **scan_options)
    planned = _internal.plan_partitions(
        url,
        partitions,
        scan_options.get("connect_timeout"),
        scan_options.get("command_timeout"),
    )
    shares = _share_keys(keys, [ranges for _, ranges in planned])
    kept = [(node, ranges, share) for (node, ranges), share in zip(planned, shares)]
    if keys is not None:
        # Partitions without a key of their own have nothing to read (one is
        # kept when no key was listed, for the empty result's columns).
        kept = [part for part in kept if part[2]] or kept[:1]
    return [
        ScanPartition(
            kind=kind,
            url=url,
            pattern=chosen,
            schema=resolved,
            keys=share,
            options=dict(scan_options),
            node=node,
            slots=tuple((int(a), int(b)) for a, b in ranges),
            index=i,
            count=len(kept),
        )
        for i, (node, ranges, share) in enumerate(kept)
    ]


def check_picklable(name: str, value: Any) -> None:
    """Refuse an option that cannot be sent to another process, naming it."""
    try:
        pickle.dumps(value)
    except Exception as err:
        msg = (
            f"option {name!r} cannot be pickled ({type(err).__name__}: {err}); "
            "it is sent to other processes, so it must be picklable"
        )
        raise InvalidInputError(msg) from None


def _share_keys(
    keys: Sequence[str | bytes] | None, plan: list[list[tuple[int, int]]]
) -> list[tuple[str | bytes, ...] | None]:
    """Each partition's share of ``keys`` (by slot), or None per partition
    when the scan reads a pattern."""
    if keys is None:
        return [None] * len(plan)
    slots = _internal.key_slots([k if isinstance(k, bytes) else k.encode() for k in keys])
    shares: list[list[str | bytes]] = [[] for _ in plan]
    bounds = sorted((first, last, i) for i, ranges in enumerate(plan) for first, last in ranges)
    starts = [first for first, _, _ in bounds]
    for key, slot in zip(keys, slots):
        shares[bounds[bisect_right(starts, slot) - 1][2]].append(key)
    return [tuple(share) for share in shares]
