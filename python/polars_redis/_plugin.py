"""The LazyFrame plumbing shared by every ``scan_*`` function.

Polars' IO plugin callback receives ``(with_columns, predicate, n_rows,
batch_size)`` and, in Polars 2.x, does not re-apply any of them: the source
applies the projection, the predicate and the row limit itself, always.
The ``batch_size`` hint is ignored in favour of the user's own.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import polars as pl
from polars.io.plugins import register_io_source

from polars_redis import _internal, _predicate
from polars_redis._closing import ClosesOnExit
from polars_redis._dtypes import dtype_spec, format_pairs, needs_cast, normalize
from polars_redis._logging import refresh_levels
from polars_redis._progress import ProgressLike, Tracker, tracker
from polars_redis._validate import Parameters, checked
from polars_redis.client import Client
from polars_redis.exceptions import PolarsRedisError

K = TypeVar("K")
V = TypeVar("V")

# Polars 1.x cannot label its plugin scans in explain() (2.x can).
_EXPLAIN_LABELS = "explain_name" in inspect.signature(register_io_source).parameters

# Polars 1.x turns an error raised by a source into a ComputeError holding its
# text; the last few are kept here so that `collect` can raise them as they were.
_source_errors: collections.deque[PolarsRedisError] = collections.deque(maxlen=16)


class _Batches(Protocol):
    def __iter__(self) -> Iterator[Any]: ...
    def __next__(self) -> Any: ...
    def read_all(self) -> Any: ...
    def close(self) -> None: ...


class _StreamBatches(_Batches, Protocol):
    """Batches that are also an Arrow C stream (``_internal.BatchIterator``)."""

    def started(self) -> bool: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


# While `explain_pushdown` runs, sources record their plans here instead of reading.
_explain_lock = threading.Lock()
_explained: list[str] | None = None


class Scanner(Protocol):
    """What a LazyFrame source needs: its empty frame and its batches."""

    def empty(self) -> Any: ...
    def batches(
        self,
        projection: list[str] | None = None,
        limit: int | None = None,
        predicate: str | None = None,
    ) -> _Batches: ...


class StreamScanner(Scanner, Protocol):
    """What ``_internal.Scanner`` provides: also its Arrow schema, and
    batches that are an Arrow stream (what a :class:`BatchStream` needs)."""

    def schema(self) -> Any: ...
    def batches(
        self,
        projection: list[str] | None = None,
        limit: int | None = None,
        predicate: str | None = None,
    ) -> _StreamBatches: ...


# The hash slots the scanners made in this context read: set by a
# `ScanPartition` (polars_redis.partition) around the scan_* / iter_* call
# that makes its scanner; None (every slot) otherwise.
_partition_slots: contextvars.ContextVar[Sequence[tuple[int, int]] | None] = contextvars.ContextVar(
    "partition_slots", default=None
)


@contextlib.contextmanager
def partition_slots(slots: Sequence[tuple[int, int]]) -> Iterator[None]:
    """Make the scanners created inside the block read only the keys of ``slots``."""
    token = _partition_slots.set(slots)
    try:
        yield
    finally:
        _partition_slots.reset(token)


def scan_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """The options every scan shares, from the bound arguments of a public
    ``scan_*`` function, in the form ``_internal`` reads them."""
    pattern, keys = args["pattern"], args["keys"]
    return {
        "url": args["url"],
        "pattern": to_bytes(pattern) if pattern is not None else None,
        "keys": [to_bytes(k) for k in keys] if keys is not None else None,
        "key_column": args["key_column_name"] if args["include_key"] else None,
        "key_dtype": dtype_spec("key_dtype", args["key_dtype"])[0],
        "ttl_column": args["ttl_column_name"] if args["include_ttl"] else None,
        "row_index_column": (args["row_index_column_name"] if args["include_row_index"] else None),
        "batch_size": args["batch_size"],
        "count_hint": args["count_hint"],
        "strict": args["strict"],
        "formats": format_pairs(args["formats"]),
        "parallelism": args["parallelism"],
        "connect_timeout": args["connect_timeout"],
        "command_timeout": args["command_timeout"],
        "deadline": args["deadline"],
        "rate_limit": args["rate_limit"],
        "latency_budget_ms": args["latency_budget_ms"],
        "retries": args["retries"],
        "read_from": args["read_from"],
        "parse_hint": args.get("parse_hint"),
        "slots": _partition_slots.get(),
    }


def scan_search(args: Mapping[str, Any]) -> dict[str, Any]:
    """How a ``scan_*`` call uses RediSearch (its ``index`` and ``search_timeout``),
    in the form ``_internal`` reads it."""
    return {"index": args["index"], "query": None, "timeout": args["search_timeout"], "sort_by": []}


def to_bytes(value: str | bytes) -> bytes:
    """Keys and patterns as bytes (str is UTF-8 encoded); their type was
    checked by the public function's ``@checked``."""
    return value if isinstance(value, bytes) else value.encode()


def bind(function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Bind arguments to a public function's signature, defaults applied
    (unknown names raise TypeError, as a direct call would)."""
    return _parameters(function).bind(args, kwargs)


@functools.cache
def _parameters(function: Callable[..., Any]) -> Parameters:
    """The parameters of a public function, read once."""
    return Parameters(inspect.signature(function))


class _Memo(Generic[K, V]):
    """Values computed from hashable keys, the oldest forgotten past
    ``size`` entries; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value of ``key``, computed (and remembered) when new."""
        value = self._values.get(key)
        if value is None:
            value = compute()
            with self._lock:
                if len(self._values) >= self._size:
                    self._values.pop(next(iter(self._values)))
                self._values[key] = value
        return value


def output_schema(scanner: Scanner, declared: dict[str, Any]) -> pl.Schema:
    """The Polars schema of a scan: the core's Arrow schema, with declared
    dtypes that Arrow cannot carry (Categorical, Enum) put back.

    Scanners with an Arrow ``schema()`` have the conversion remembered by
    that schema's text and the declared dtypes (the schema returned is shared:
    callers never change it)."""
    arrow_schema = getattr(scanner, "schema", None)
    if arrow_schema is None:
        return _polars_schema(scanner, declared)
    # Dtype instances compare exactly (a dtype class equals its instances).
    key = (str(arrow_schema()), tuple((k, normalize(v)) for k, v in declared.items()))
    try:
        hash(key)
    except TypeError:  # a declared dtype that cannot be hashed
        return _polars_schema(scanner, declared)
    return _schemas.get(key, lambda: _polars_schema(scanner, declared))


def _polars_schema(scanner: Scanner, declared: dict[str, Any]) -> pl.Schema:
    arrow = pl.DataFrame(scanner.empty()).schema
    return pl.Schema({name: normalize(declared.get(name, dtype)) for name, dtype in arrow.items()})


def _finish(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    casted = _cast_columns(schema)
    casts = {name: casted[name] for name in df.columns if name in casted} if casted else {}
    return df.cast(casts) if casts else df  # type: ignore[arg-type]


def _cast_columns(schema: pl.Schema) -> dict[str, pl.DataType]:
    """The columns of ``schema`` that arrive as strings and are cast
    (Categorical, Enum), with their dtypes; remembered per schema."""
    columns = tuple(schema.items())

    def casts() -> dict[str, pl.DataType]:
        return {name: dtype for name, dtype in columns if needs_cast(dtype)}

    try:
        hash(columns)
    except TypeError:  # a dtype that cannot be hashed
        return casts()
    return _casts.get(columns, casts)


_schemas: _Memo[tuple[str, tuple[tuple[str, Any], ...]], pl.Schema] = _Memo(256)
_casts: _Memo[tuple[tuple[str, pl.DataType], ...], dict[str, pl.DataType]] = _Memo(256)


def selection(args: Mapping[str, Any]) -> str:
    """Which keys a scan reads, for ``explain()``: its pattern, or how many keys it lists."""
    keys, pattern = args["keys"], args["pattern"]
    return f"{len(keys)} listed keys" if keys is not None else repr(pattern or "*")


def lazy_scan(
    scanner: Scanner,
    schema: pl.Schema,
    detail: str,
    url: str | Client,
    progress: ProgressLike = False,
) -> pl.LazyFrame:
    """Wrap a scanner as a LazyFrame via ``register_io_source``; ``lf.explain()``
    shows ``detail`` and the server (without any secret).

    The source is pure: within one query Polars may read it once for every
    place it appears. Polars' in-memory engine does (``lf.join(lf, ...)
    .collect(engine="in-memory")`` reads Redis once, and both sides see the
    same rows); its streaming engine, in Polars 2.1, reads each occurrence.
    ``progress`` reports the rows of every run of the source.
    """

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        _batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        if _explained is not None:
            _explained.append(_explain(scanner, detail, schema, with_columns, predicate, n_rows))
            return iter([])
        refresh_levels()
        limit = n_rows if predicate is None else None
        reading = _read(
            scanner,
            schema,
            with_columns,
            predicate,
            n_rows,
            scan_tracker(progress, detail, scanner, limit),
        )
        return _remembering_errors(reading)

    labels = {
        "explain_name": "polars_redis",
        "explain_detail": f"{detail} on {_internal.redact_url(url)}",
    }
    return register_io_source(
        source,
        schema=schema,
        validate_schema=True,
        is_pure=True,
        **(labels if _EXPLAIN_LABELS else {}),
    )


@checked
def explain_pushdown(lf: pl.LazyFrame) -> str:
    """What each polars-redis source of ``lf`` would ask Redis, without reading data.

    Runs the query plan with every polars-redis source switched to "explain"
    and returns, per source: the predicate Polars hands over, the key filter,
    the RediSearch index and ``FT.AGGREGATE`` query pushed (or why none is),
    what was not pushed, and that the full predicate is re-applied
    client-side. Calls are serialized; sources of other threads' queries
    running at the same time would be explained too, so use it for
    inspection, not in concurrent production code.

    Examples
    --------
    >>> lf = redis.scan_hashes(url, "user:*", {"age": pl.Int64}).filter(pl.col("age") > 30)
    >>> print(redis.explain_pushdown(lf))
    polars_redis source: hashes 'user:*'
      predicate from Polars: [(col("age")) > (30)]
      search: index `users` on HASH prefixes ["user:"] (3 docs)
        FT.AGGREGATE query: @age:[($pp0 +inf]  PARAMS {pp0="30.0"}  DIALECT 2
        steps: LOAD 1 @__key
        predicate: pushed, exact
        client-side: the full predicate is applied to every row
    """
    global _explained
    with _explain_lock:
        _explained = []
        try:
            lf.collect()
            return "\n".join(_explained)
        finally:
            _explained = None


def _explain(
    scanner: Scanner,
    detail: str,
    schema: pl.Schema,
    with_columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
) -> str:
    lines = [f"polars_redis source: {detail}"]
    lines.append(
        f"  predicate from Polars: {predicate}" if predicate is not None else "  no predicate"
    )
    explain = getattr(scanner, "explain", None)
    if explain is not None:
        plan = explain(
            projection=_needed_columns(schema, with_columns, predicate),
            limit=n_rows if predicate is None else None,
            predicate=_predicate.serialize(predicate) if predicate is not None else None,
        )
        lines += ["  " + line for line in plan.splitlines()]
    return "\n".join(lines)


def read_frame(
    scanner: Scanner, schema: pl.Schema, detail: str, progress: ProgressLike
) -> pl.DataFrame:
    """Every row of a scan as one DataFrame: what ``lazy_scan(...).collect()``
    returns, read straight from the scanner (no Polars plan is built, as
    nothing is left for one to push down)."""
    tracking = scan_tracker(progress, detail, scanner)
    batches = scanner.batches()
    frames = []
    try:
        for table in batches:
            df = _finish(pl.DataFrame(table), schema)
            if tracking is not None:
                tracking.add(df.height)
            if df.height:
                frames.append(df)
    finally:
        batches.close()
        if tracking is not None:
            tracking.finish()
    if not frames:
        return pl.DataFrame(schema=schema)
    return frames[0] if len(frames) == 1 else pl.concat(frames)


def _remembering_errors(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    try:
        yield from batches
    except PolarsRedisError as exc:
        _source_errors.append(exc)
        raise


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """``lf.collect()``, raising an error of a polars-redis source as itself
    (Polars 1.x wraps it in a ``ComputeError`` holding its text)."""
    try:
        return lf.collect()
    except pl.exceptions.ComputeError as exc:
        text = str(exc)
        for original in reversed(_source_errors):
            if f"{type(original).__name__}: {original}" in text:
                raise original from None
        raise


def _read(
    scanner: Scanner,
    schema: pl.Schema,
    with_columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
    progress: Tracker | None,
) -> Iterator[pl.DataFrame]:
    needed = _needed_columns(schema, with_columns, predicate)
    batches = scanner.batches(
        projection=needed,
        # A limit can only be pushed when no rows are filtered out afterwards.
        limit=n_rows if predicate is None else None,
        predicate=_predicate.serialize(predicate) if predicate is not None else None,
    )
    remaining = n_rows
    try:
        for table in batches:
            df = _finish(pl.DataFrame(table), schema)
            if progress is not None:
                progress.add(df.height)
            if predicate is not None:
                df = df.filter(predicate)
            if with_columns is not None:
                df = df.select(with_columns)
            if remaining is not None:
                df = df.head(remaining)
                remaining -= df.height
            if remaining == 0:
                # Stop the scan before handing over the last rows: Polars may
                # never resume this generator once it has them, and an open
                # scan holds connections (and server-side search cursors).
                batches.close()
            if df.height:
                yield df
            if remaining == 0:
                return
    finally:
        batches.close()
        if progress is not None:
            progress.finish()


def _needed_columns(
    schema: pl.Schema, with_columns: list[str] | None, predicate: pl.Expr | None
) -> list[str] | None:
    if with_columns is None:
        return None
    needed = list(with_columns)
    if predicate is not None:
        needed += [c for c in predicate.meta.root_names() if c not in needed]
    if not needed:
        # Polars asked for no column (e.g. to count rows): read the cheapest one.
        needed = [next(iter(schema))] if schema else []
    return needed


def iter_batches(scanner: StreamScanner, schema: pl.Schema, args: Mapping[str, Any]) -> BatchStream:
    """The scan's batches as a :class:`BatchStream`; ``args`` are the scan's
    arguments (for its ``progress`` option)."""
    return BatchStream(scanner, schema, scan_tracker(args["progress"], selection(args), scanner))


def scan_tracker(
    progress: ProgressLike, what: str, scanner: Scanner, limit: int | None = None
) -> Tracker | None:
    """The tracker of one run of a scan (None when ``progress`` is off), with
    the rows it expects when the scanner can tell (``row_estimate``: listed
    keys, or an upper bound from ``DBSIZE``), capped by a pushed row ``limit``."""
    if progress is False:
        return None
    row_estimate = getattr(scanner, "row_estimate", None)
    estimate = row_estimate() if row_estimate is not None else None
    if estimate is None:
        return tracker(progress, what)
    total, exact = estimate
    if limit is not None and limit < total:
        total = limit
    return tracker(progress, what, total, total_estimated=not exact)


class BatchStream(ClosesOnExit, Iterator[pl.DataFrame]):
    """The batches of a scan, what every ``iter_*`` function returns.

    Iterate it for DataFrames of at most ``batch_size`` rows: only a few
    batches are read ahead, so memory follows the batch size, not the number
    of keys. ``close()`` (or leaving a ``with`` block) stops the scan.

    It is also an Arrow stream (``__arrow_c_stream__``, the Arrow PyCapsule
    interface): ``pyarrow.RecordBatchReader.from_stream(stream)``, DuckDB
    (``duckdb.sql("SELECT ... FROM stream")``) and other Arrow consumers pull
    the batches straight from the Rust scan, one at a time, without Polars.
    On that path the columns have the scan's Arrow types (a Categorical or
    Enum column arrives as strings), and neither scan warnings nor progress
    are reported. A stream is consumed once, either way.

    Examples
    --------
    >>> import pyarrow as pa
    >>> stream = redis.iter_hashes(url, "user:*", {"age": pl.Int64})
    >>> reader = pa.RecordBatchReader.from_stream(stream)
    >>> reader.read_all().num_rows
    3
    """

    def __init__(self, scanner: StreamScanner, schema: pl.Schema, progress: Tracker | None) -> None:
        self._scanner = scanner
        self._schema = schema
        self._progress = progress
        self._batches: _StreamBatches | None = None
        self._closed = False
        self._exported = False

    def _running(self) -> _StreamBatches | None:
        """The running scan (started on first use), or None once closed."""
        if self._batches is None and not self._closed:
            refresh_levels()
            self._batches = self._scanner.batches()
        return None if self._closed else self._batches

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> pl.DataFrame:
        batches = self._running()
        if batches is None:
            raise StopIteration
        try:
            table = next(batches)
        except BaseException:
            self.close()
            raise
        df = _finish(pl.DataFrame(table), self._schema)
        if self._progress is not None:
            self._progress.add(df.height)
        return df

    def close(self) -> None:
        """Stop the scan and release its connections."""
        self._closed = True
        if self._batches is not None:
            self._batches.close()
        if self._progress is not None:
            self._progress.finish()

    def __arrow_c_schema__(self) -> object:
        """The Arrow schema of the batches (a PyCapsule)."""
        return self._scanner.schema().__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export the remaining batches as an Arrow C stream (a PyCapsule).

        A stream handed out before whose consumer never asked for a batch
        (DuckDB reads the schema that way first) is replaced by a fresh scan.
        """
        if self._exported and self._batches is not None and not self._batches.started():
            self._batches, self._closed, self._exported = None, False, False
        batches = self._running()
        if batches is None:
            from polars_redis.exceptions import InvalidInputError

            raise InvalidInputError("this batch stream was already consumed or closed")
        self._closed = self._exported = True
        return batches.__arrow_c_stream__(requested_schema)
