"""RediSearch: explicit searches, aggregations, a query builder and index management.

Filters on :func:`scan_hashes` already run inside Redis when an index covers
the key pattern; this module is for when you want to name the index and the
query yourself, aggregate inside Redis, or manage indexes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from polars_redis import _internal
from polars_redis._dtypes import SchemaLike, field_specs, format_pairs
from polars_redis._options import SearchQueryOptions
from polars_redis._plugin import bind, explain_pushdown, lazy_scan, output_schema, scan_search
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError
from polars_redis.hashes import HashReadOptions, hash_scanner, read_hashes, scan_hashes
from polars_redis.json import JsonReadOptions, json_scanner, read_json, scan_json
from polars_redis.vectors import KnnQuery, VectorIndexOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "IndexMatch",
    "Query",
    "aggregate_hashes",
    "aggregate_json",
    "create_index",
    "drop_index",
    "explain_pushdown",
    "field",
    "find_index_for_pattern",
    "index_exists",
    "index_info",
    "knn_join",
    "list_indexes",
    "raw",
    "search_hashes",
    "search_json",
]


class Query:
    """A RediSearch query built from comparisons; combine with ``&``, ``|``, ``~``.

    The core renders it against the index's attribute types: ``==`` is a tag
    match on a TAG attribute, a phrase match on a TEXT attribute and an exact
    range on a NUMERIC one. Values always travel as query parameters (or
    escaped), so they can never change the query's shape.

    Examples
    --------
    >>> from polars_redis import field
    >>> q = (field("age") >= 30) & field("city").is_in(["ams", "ber"]) & ~(field("name") == "bob")
    """

    def __init__(self, tree: dict[str, Any]) -> None:
        self._tree = tree

    def to_json(self) -> str:
        """The tree the core reads."""
        return json.dumps(self._tree)

    def __and__(self, other: Query) -> Query:
        return Query({"and": [self._tree, _tree(other)]})

    def __or__(self, other: Query) -> Query:
        return Query({"or": [self._tree, _tree(other)]})

    def __invert__(self) -> Query:
        return Query({"not": self._tree})

    def __repr__(self) -> str:
        return f"Query({self.to_json()})"


def _tree(query: object) -> dict[str, Any]:
    if not isinstance(query, Query):
        msg = f"expected a Query, got {type(query).__name__}"
        raise InvalidInputError(msg)
    return query._tree


class field:
    """One index attribute, by its query name or its hash field / JSON path.

    Lower-case because it reads like a function: ``field("age") > 3``.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def _op(self, op: str, value: Any = None, **extra: Any) -> Query:
        return Query({"field": self.name, "op": op, "value": value, **extra})

    def __eq__(self, value: object) -> Query:  # type: ignore[override]
        return self._op("eq", value)

    def __ne__(self, value: object) -> Query:  # type: ignore[override]
        return self._op("ne", value)

    def __gt__(self, value: float) -> Query:
        return self._op("gt", value)

    def __ge__(self, value: float) -> Query:
        return self._op("ge", value)

    def __lt__(self, value: float) -> Query:
        return self._op("lt", value)

    def __le__(self, value: float) -> Query:
        return self._op("le", value)

    __hash__ = None  # type: ignore[assignment]

    def between(
        self,
        low: float,
        high: float,
        closed: Literal["both", "left", "right", "none"] = "both",
    ) -> Query:
        """A NUMERIC range."""
        return self._op("between", None, low=low, high=high, closed=closed)

    def is_in(self, values: Iterable[Any]) -> Query:
        """Any of these values (tags, phrases or numbers)."""
        return self._op("in", list(values))

    def prefix(self, text: str) -> Query:
        """Tags or words starting with ``text`` (RediSearch caps the expansion)."""
        return self._op("prefix", text)

    def is_missing(self) -> Query:
        """Documents without this attribute (it needs ``INDEXMISSING``)."""
        return self._op("missing")

    def within(
        self, lon: float, lat: float, radius: float, unit: Literal["m", "km", "mi", "ft"] = "km"
    ) -> Query:
        """GEO points within ``radius`` of ``(lon, lat)``."""
        return Query(
            {
                "field": self.name,
                "op": "geo",
                "lon": lon,
                "lat": lat,
                "radius": radius,
                "unit": unit,
            }
        )


@checked
def raw(text: str) -> Query:
    """Query text used as written (combine it with builder clauses).

    Examples
    --------
    >>> from polars_redis import field, raw
    >>> query = raw("@city:{ams}") & (field("age") > 32)
    >>> redis.search_hashes(url, "users", query, {"name": pl.String}).collect()
    shape: (1, 2)
    ┌────────┬───────┐
    │ _key   ┆ name  │
    │ ---    ┆ ---   │
    │ str    ┆ str   │
    ╞════════╪═══════╡
    │ user:1 ┆ Alice │
    └────────┴───────┘
    """
    return Query({"raw": text})


QueryLike = Union[str, Query]


def _query_args(query: QueryLike, params: Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(query, Query):
        if params:
            msg = "params apply to query strings; the query builder passes its own values"
            raise InvalidInputError(msg)
        return {"query": None, "builder": query.to_json(), "params": []}
    if not isinstance(query, str):
        msg = f"query must be a string or a Query, got {type(query).__name__}"
        raise InvalidInputError(msg)
    pairs = [(str(k), str(v)) for k, v in (params or {}).items()]
    return {"query": query, "builder": None, "params": pairs}


def _sort_pairs(
    sort_by: str | Sequence[str] | None, descending: bool | Sequence[bool]
) -> list[tuple[str, bool]]:
    if sort_by is None:
        return []
    names = [sort_by] if isinstance(sort_by, str) else list(sort_by)
    flags = [descending] * len(names) if isinstance(descending, bool) else list(descending)
    if len(flags) != len(names):
        msg = "descending must be a bool or one bool per sort_by column"
        raise InvalidInputError(msg)
    return list(zip(names, flags))


def _index_columns(
    url: str | Client, index: str, on: str
) -> tuple[dict[str, pl.DataType], dict[str, str]]:
    """Every attribute of the index as a column (NUMERIC as Float64, others
    String), and for JSON the paths of columns that are not root members."""
    info = _internal.index_info(url, index)
    if info["on"] != on:
        msg = f"index {index!r} is on {info['on']} documents; use search_{info['on']}"
        raise InvalidInputError(msg)
    schema: dict[str, pl.DataType] = {}
    paths: dict[str, str] = {}
    for attribute in info["attributes"]:
        identifier = str(attribute["identifier"])
        member = identifier[2:] if identifier.startswith("$.") else ""
        if on == "hash":
            column = identifier
        elif member and member.replace("_", "").isalnum():
            column = member
        else:
            column = str(attribute["name"])
            paths[column] = identifier
        schema[column] = _attribute_dtype(attribute)
    return schema, paths


def _attribute_dtype(attribute: Mapping[str, Any]) -> pl.DataType:
    """The dtype a column of an index attribute reads as: NUMERIC Float64,
    VECTOR a float array of its type and dimension, others String."""
    if attribute["type"] == "NUMERIC":
        return pl.Float64()
    if attribute["type"] == "VECTOR" and "dim" in attribute:
        inner = pl.Float32() if attribute["vector_type"] == "FLOAT32" else pl.Float64()
        return pl.Array(inner, int(attribute["dim"]))
    return pl.String()


@checked
def search_hashes(
    url: str | Client,
    index: str,
    query: QueryLike = "*",
    schema: SchemaLike | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    knn: KnnQuery | None = None,
    sort_by: str | Sequence[str] | None = None,
    descending: bool | Sequence[bool] = False,
    search_timeout: float = _internal.DEFAULT_SEARCH_TIMEOUT,
    **options: Unpack[HashReadOptions],
) -> pl.LazyFrame:
    """Lazily read the hashes a RediSearch query matches, one row per hash.

    The documents come from ``FT.AGGREGATE ... WITHCURSOR`` (so results are not
    capped by ``MAXSEARCHRESULTS``), then their fields are fetched like
    :func:`scan_hashes` does. Filters added to the LazyFrame are pushed into the
    query where that is sound, and always re-applied to the rows; ``head(n)``
    becomes ``LIMIT`` (``SORTBY ... MAX n`` with ``sort_by``).

    Results are complete: a sorted search returns every matching document
    (not RediSearch's default of 10), in order, or raises
    :class:`SearchError`. Sorting happens on the server, which holds the
    whole sorted result (and 8 bytes per row of ``MAX``) while it is read;
    a sort of more than 100,000 rows is asked twice (the first reply says
    how many rows matched).

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_hashes`.
    index
        The index to search.
    query
        RediSearch query text (with ``$name`` parameters from ``params``), or a
        :class:`Query` built with :func:`field`.
    schema
        Hash field name to Polars dtype. ``None`` reads every indexed attribute:
        NUMERIC as Float64, VECTOR as ``pl.Array`` of its type and dimension,
        others as String.
    params
        Values for ``$name`` parameters of a query string (dialect 2).
    knn
        A KNN search (:func:`knn`): only the ``k`` documents nearest to its
        vector among those ``query`` matches (a hybrid search, exact for a
        FLAT attribute, approximate for HNSW), nearest first, with their
        distance in a ``_distance`` column (Float64, after the key column).
        The KNN query runs when the frame is collected; filters added to
        the LazyFrame apply to those ``k`` rows. Not with ``sort_by``.
    sort_by, descending
        Sort by these attributes (and directions) inside Redis; every matching
        document is kept.
    search_timeout
        ``TIMEOUT`` sent with each search request, in seconds. A search that
        runs out of time raises :class:`RedisTimeoutError` instead of returning
        a partial result.
    **options
        The reading options of :func:`scan_hashes` (``include_key``,
        ``include_ttl``, ``batch_size``, ``strict``, ``parallelism``, ``fetch``,
        timeouts, ...); the keys come from the index, so not ``pattern``,
        ``keys`` or ``index``.

    Returns
    -------
    LazyFrame
        The key column (if included), the schema fields, and TTL / row index
        columns when requested.

    Raises
    ------
    SearchError
        When collected, if the server sends fewer rows than it counted: it cuts
        a sorted result at its ``MAXAGGREGATERESULTS`` setting. Ask for fewer
        rows (``head``) or raise the setting.

    Examples
    --------
    >>> import polars_redis as redis
    >>> from polars_redis import field
    >>> lf = redis.search_hashes(url, "users", field("age") > 30, {"name": pl.String})
    >>> lf.sort("name").collect()
    shape: (2, 2)
    ┌────────┬───────┐
    │ _key   ┆ name  │
    │ ---    ┆ ---   │
    │ str    ┆ str   │
    ╞════════╪═══════╡
    │ user:1 ┆ Alice │
    │ user:2 ┆ Bob   │
    └────────┴───────┘
    """
    return _search(
        "hash", url, index, query, schema, params, knn, sort_by, descending, search_timeout, options
    )


class JsonSearchOptions(SearchQueryOptions, JsonReadOptions, total=False):
    """The keyword options of :func:`search_json`."""

    knn: KnnQuery | None


@checked
def search_json(
    url: str | Client,
    index: str,
    query: QueryLike = "*",
    schema: SchemaLike | None = None,
    **options: Unpack[JsonSearchOptions],
) -> pl.LazyFrame:
    """Lazily read the JSON documents a RediSearch query matches (index ``ON JSON``).

    Takes the arguments of :func:`search_hashes`, with the reading options of
    :func:`scan_json` (``path``, ``paths``, ``fetch``, ...). ``schema=None``
    reads every indexed attribute: a root member ``$.name`` as column
    ``name``, another path as a column named after the attribute (with
    ``paths`` set for it); NUMERIC as Float64, others as String.

    Examples
    --------
    >>> from polars_redis import field
    >>> lf = redis.search_json(url, "docs", field("price") < 10, {"name": pl.String})
    >>> lf.sort("name").collect()
    shape: (2, 2)
    ┌───────┬─────────┐
    │ _key  ┆ name    │
    │ ---   ┆ ---     │
    │ str   ┆ str     │
    ╞═══════╪═════════╡
    │ doc:1 ┆ pen     │
    │ doc:3 ┆ stapler │
    └───────┴─────────┘
    """
    return _search("json", **bind(search_hashes, url, index, query, schema, **options))


def _search(
    on: str,
    url: str | Client,
    index: str,
    query: QueryLike,
    schema: SchemaLike | None,
    params: Mapping[str, Any] | None,
    knn: KnnQuery | None,
    sort_by: str | Sequence[str] | None,
    descending: bool | Sequence[bool],
    search_timeout: float,
    options: Mapping[str, Any],
) -> pl.LazyFrame:
    for name in ("pattern", "keys", "index"):
        if name in options:
            msg = f"a search reads the keys the index returns: {name}= does not apply"
            raise InvalidInputError(msg)
    if schema is None:
        schema, paths = _index_columns(url, index, on)
        if paths:
            options = {**options, "paths": {**paths, **(options.get("paths") or {})}}
    if knn is not None:
        if sort_by is not None:
            msg = "a KNN search returns its rows nearest first: sort_by does not apply"
            raise InvalidInputError(msg)
        filter_args = _query_args(query, params)
        return _knn_search(on, url, index, knn, filter_args, schema, search_timeout, options)
    search = {
        "index": index,
        "query": _query_args(query, params),
        "timeout": search_timeout,
        "sort_by": _sort_pairs(sort_by, descending),
    }
    if on == "hash":
        args = bind(scan_hashes, url, None, schema, **options)
        scanner, polars_schema = hash_scanner(args, search)
    else:
        args = bind(scan_json, url, None, schema, **options)
        scanner, polars_schema = json_scanner(args, search)
    detail = f"search {index!r}: {query!r}"
    return lazy_scan(scanner, polars_schema, detail, url, args["progress"])


def _neighbours(
    url: str | Client,
    index: str,
    field: str,
    k: int,
    vectors: pl.DataFrame,
    filter_args: dict[str, Any] | None,
    ef_runtime: int | None,
    search_timeout: float,
) -> pl.DataFrame:
    """``(_query, _key, _distance)``: the neighbours of each row of the one
    column of ``vectors``, nearest first within each query row."""
    table = _internal.knn_search(
        url, index, field, k, vectors.rechunk(), filter_args, ef_runtime, search_timeout
    )
    return pl.DataFrame(table)


def _read_documents(
    on: str, url: str | Client, keys: list[str], schema: SchemaLike, options: Mapping[str, Any]
) -> pl.DataFrame:
    """The documents of ``keys`` (an existing key at most once), keyed by ``_key``."""
    reader = read_hashes if on == "hash" else read_json
    wanted = {**options, "include_key": True, "key_column_name": "_key"}
    wanted.pop("include_row_index", None)
    wanted.pop("key_dtype", None)
    return reader(url, keys=keys, schema=schema, **wanted)


def _knn_search(
    on: str,
    url: str | Client,
    index: str,
    knn: KnnQuery,
    filter_args: dict[str, Any],
    schema: SchemaLike,
    search_timeout: float,
    options: Mapping[str, Any],
) -> pl.LazyFrame:
    include_key = options.get("include_key", True)
    key_name = options.get("key_column_name", "_key")
    with_index = options.get("include_row_index", False)
    row_index = options.get("row_index_column_name", "_index")
    # The columns a plain read of the documents has (the scanner is not run).
    if on == "hash":
        args = bind(scan_hashes, url, None, schema, **options)
        _, fetched = hash_scanner(args, scan_search(args))
    else:
        args = bind(scan_json, url, None, schema, **options)
        _, fetched = json_scanner(args, scan_search(args))
    # The scan's columns, `_distance` after the key (first without one).
    out_schema: dict[str, pl.DataType] = {} if include_key else {"_distance": pl.Float64()}
    for name, dtype in fetched.items():
        if not (with_index and name == row_index):
            out_schema[name] = dtype
        if include_key and name == key_name:
            out_schema["_distance"] = pl.Float64()
    columns = list(out_schema)
    if with_index:
        out_schema = {row_index: pl.UInt32(), **out_schema}

    def run() -> pl.DataFrame:
        hits = _neighbours(
            url, index, knn.field, knn.k, knn.vectors(), filter_args, knn.ef_runtime, search_timeout
        )
        rows = _read_documents(on, url, hits["_key"].to_list(), schema, options)
        found = hits.join(rows, on="_key", how="inner", maintain_order="left")
        if include_key:
            found = found.rename({"_key": key_name})
        found = found.select(columns).cast({c: out_schema[c] for c in columns})
        return found.with_row_index(row_index) if with_index else found

    return pl.defer(run, schema=out_schema)


@checked
def knn_join(
    df: pl.DataFrame,
    url: str | Client,
    index: str,
    vector_column: str,
    *,
    k: int,
    field: str | None = None,
    filter: QueryLike = "*",
    params: Mapping[str, Any] | None = None,
    schema: SchemaLike | None = None,
    ef_runtime: int | None = None,
    search_timeout: float = _internal.DEFAULT_SEARCH_TIMEOUT,
    **options: Unpack[HashReadOptions],
) -> pl.DataFrame:
    """For every row of ``df``, its ``k`` nearest documents in a vector index.

    The KNN queries (one ``FT.SEARCH`` per row) are pipelined by the core,
    many in flight on one connection; the neighbours' fields are then fetched
    like :func:`read_hashes` (or :func:`read_json` for an index on JSON) does.

    Parameters
    ----------
    df
        The left side; ``vector_column`` holds each row's query vector
        (``pl.Array`` or ``pl.List`` of floats, no nulls).
    url
        Connection URL.
    index
        A RediSearch index with a VECTOR attribute.
    vector_column
        The column of ``df`` holding the query vectors.
    k
        Neighbours per row.
    field
        The VECTOR attribute to search (its name or hash field / JSON path);
        by default the index's only VECTOR attribute.
    filter
        Which documents compete, as for :func:`search_hashes` ``query`` (a
        string with ``params``, or a :class:`Query`): a hybrid search.
    schema
        The right columns: document field to dtype. ``None`` reads every
        indexed attribute, as :func:`search_hashes` does.
    ef_runtime
        HNSW only: candidates kept while searching.
    search_timeout
        ``TIMEOUT`` of each KNN query, in seconds.
    **options
        Reading options of the right side (``fetch``, ``strict``, ``batch_size``,
        timeouts, ...) as for :func:`search_hashes`.

    Returns
    -------
    DataFrame
        ``(left columns..., _key, _distance, right columns...)``: one row per
        (left row, neighbour), in left row order, nearest first. A right
        column named like a left one gets the suffix ``_right``.

    Examples
    --------
    >>> users = pl.DataFrame({"user": ["u1", "u2"], "taste": [[1.0, 0, 0, 0], [0.0, 0, 1, 0]]})
    >>> matches = redis.knn_join(users, url, "items", "taste", k=2, schema={"title": pl.String})
    >>> matches.drop("taste")
    shape: (4, 4)
    ┌──────┬────────┬───────────┬───────┐
    │ user ┆ _key   ┆ _distance ┆ title │
    │ ---  ┆ ---    ┆ ---       ┆ ---   │
    │ str  ┆ str    ┆ f64       ┆ str   │
    ╞══════╪════════╪═══════════╪═══════╡
    │ u1   ┆ item:1 ┆ 0.0       ┆ pen   │
    │ u1   ┆ item:2 ┆ 0.25      ┆ ink   │
    │ u2   ┆ item:3 ┆ 1.0       ┆ lamp  │
    │ u2   ┆ item:2 ┆ 1.25      ┆ ink   │
    └──────┴────────┴───────────┴───────┘
    """
    if vector_column not in df.columns:
        msg = f"knn_join: vector_column {vector_column!r} is not a column of df ({df.columns})"
        raise InvalidInputError(msg)
    for reserved in ("_key", "_distance"):
        if reserved in df.columns:
            msg = f"knn_join: df has a column {reserved!r}, which the result adds; rename it"
            raise InvalidInputError(msg)
    info = _internal.index_info(url, index)
    if field is None:
        vectors = [a["name"] for a in info["attributes"] if a["type"] == "VECTOR"]
        if len(vectors) != 1:
            msg = (
                f"knn_join: index {index!r} has {len(vectors)} VECTOR attributes "
                f"({vectors}); pass field="
            )
            raise InvalidInputError(msg)
        field = str(vectors[0])
    if schema is None:
        schema, paths = _index_columns(url, index, info["on"])
        if paths:
            options = {**options, "paths": paths}  # type: ignore[typeddict-unknown-key]
    hits = _neighbours(
        url,
        index,
        field,
        k,
        df.select(vector_column),
        _query_args(filter, params),
        ef_runtime,
        search_timeout,
    )
    right = _read_documents(info["on"], url, hits["_key"].unique().to_list(), schema, options)
    left = df.with_row_index("__knn_row")
    joined = hits.join(right, on="_key", how="inner", maintain_order="left")
    out = left.join(
        joined, left_on="__knn_row", right_on="_query", how="inner", maintain_order="left_right"
    )
    return out.drop("__knn_row")


Reduction = Union[str, Sequence[Any]]


def _reducers(reduce: Mapping[str, Reduction]) -> list[tuple[str, list[str], str]]:
    out = []
    for name, spec in reduce.items():
        function, *args = [spec] if isinstance(spec, str) else list(spec)
        if not isinstance(function, str):
            msg = f"reducer {name!r}: the function name must be a string, got {function!r}"
            raise InvalidInputError(msg)
        texts = []
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
                msg = f"reducer {name!r}: arguments are attribute names or numbers, got {arg!r}"
                raise InvalidInputError(msg)
            if isinstance(arg, str):
                texts.append(arg if arg.startswith("@") else f"@{arg}")
            else:
                texts.append(repr(arg))
        out.append((function, texts, str(name)))
    return out


@checked
def aggregate_hashes(
    url: str | Client,
    index: str,
    query: QueryLike = "*",
    *,
    group_by: str | Sequence[str] = (),
    reduce: Mapping[str, Reduction] | None = None,
    apply: Mapping[str, str | tuple[str, Any]] | None = None,
    sort_by: str | Sequence[str] | None = None,
    descending: bool | Sequence[bool] = False,
    limit: int | None = None,
    params: Mapping[str, Any] | None = None,
    schema: SchemaLike | None = None,
    formats: Mapping[str, str] | None = None,
    search_timeout: float = _internal.DEFAULT_SEARCH_TIMEOUT,
) -> pl.LazyFrame:
    """Aggregate hashes inside Redis (``FT.AGGREGATE``) into typed columns.

    Parameters
    ----------
    url
        Connection URL.
    index
        The index to aggregate over.
    query
        Which documents: query text or a :class:`Query`.
    group_by
        Attributes to group by (none: one group of every matching document).
    reduce
        Output column -> reducer: ``"count"``, or ``(function, *args)`` with
        attribute names and numbers as arguments, e.g. ``("avg", "age")`` or
        ``("quantile", "age", 0.5)``. Counts are Int64; sum, min, max, avg,
        stddev and quantile Float64; first_value String.
    apply
        Output column -> ``APPLY`` expression (Float64), or ``(expression, dtype)``.
    sort_by, descending, limit
        ``SORTBY`` and ``LIMIT`` inside Redis. A sorted result keeps every row
        (``SORTBY ... MAX`` is sized from the index, not RediSearch's default
        of 10); the server holds it whole while it is read, and a sort of more
        than 100,000 rows is asked twice.
    params
        Values for ``$name`` parameters of a query string.
    schema
        Dtype overrides for output columns; a grouped attribute is Float64 when
        NUMERIC and String otherwise.
    formats
        Output column -> stored form of a Date, Datetime, Time or Duration
        column declared in ``schema`` when its values are not ISO-8601: a
        strftime format or ``"epoch_s"``, ``"epoch_ms"``, ``"epoch_us"``,
        ``"epoch_ns"`` (e.g. ``{"last_seen": "epoch_ms"}`` over a ``max``
        reducer of epoch milliseconds), as for :func:`scan_hashes`.
    search_timeout
        ``TIMEOUT`` in seconds; running out raises instead of returning a partial result.

    Returns
    -------
    LazyFrame
        Group columns, then reducer columns, then APPLY columns.

    Raises
    ------
    SearchError
        When collected, if the server sends fewer rows than it counted (a sort
        beyond its ``MAXAGGREGATERESULTS`` setting), or refuses a ``limit``
        above that setting.

    Examples
    --------
    >>> redis.aggregate_hashes(
    ...     url, "users", group_by="city", reduce={"n": "count", "avg_age": ("avg", "age")}
    ... ).sort("city").collect()
    shape: (2, 3)
    ┌──────┬─────┬─────────┐
    │ city ┆ n   ┆ avg_age │
    │ ---  ┆ --- ┆ ---     │
    │ str  ┆ i64 ┆ f64     │
    ╞══════╪═════╪═════════╡
    │ ams  ┆ 2   ┆ 33.0    │
    │ ber  ┆ 1   ┆ 41.0    │
    └──────┴─────┴─────────┘
    """
    return _aggregate("hash", **locals())


class AggregateOptions(SearchQueryOptions, total=False):
    """The keyword options of :func:`aggregate_json` (those of :func:`aggregate_hashes`)."""

    group_by: str | Sequence[str]
    reduce: Mapping[str, Reduction] | None
    apply: Mapping[str, str | tuple[str, Any]] | None
    limit: int | None
    schema: SchemaLike | None
    formats: Mapping[str, str] | None


@checked
def aggregate_json(
    url: str | Client, index: str, query: QueryLike = "*", **options: Unpack[AggregateOptions]
) -> pl.LazyFrame:
    """Aggregate JSON documents inside Redis (``FT.AGGREGATE`` over an index ``ON JSON``).

    Takes the same arguments as :func:`aggregate_hashes`; ``group_by``,
    ``reduce`` and ``apply`` name the index's attributes (their aliases).

    Examples
    --------
    >>> lf = redis.aggregate_json(url, "docs", group_by="kind", reduce={"n": "count"})
    >>> lf.sort("kind").collect()
    shape: (2, 2)
    ┌────────┬─────┐
    │ kind   ┆ n   │
    │ ---    ┆ --- │
    │ str    ┆ i64 │
    ╞════════╪═════╡
    │ home   ┆ 1   │
    │ office ┆ 2   │
    └────────┴─────┘
    """
    return _aggregate("json", **bind(aggregate_hashes, url, index, query, **options))


def _aggregate(
    on: str,
    url: str | Client,
    index: str,
    query: QueryLike,
    group_by: str | Sequence[str],
    reduce: Mapping[str, Reduction] | None,
    apply: Mapping[str, str | tuple[str, Any]] | None,
    sort_by: str | Sequence[str] | None,
    descending: bool | Sequence[bool],
    limit: int | None,
    params: Mapping[str, Any] | None,
    schema: SchemaLike | None,
    formats: Mapping[str, str] | None,
    search_timeout: float,
) -> pl.LazyFrame:
    groups = [group_by] if isinstance(group_by, str) else list(group_by)
    applies: list[tuple[str, str]] = []
    dtypes: dict[str, Any] = dict(schema or {})
    for name, spec in (apply or {}).items():
        if isinstance(spec, tuple):
            expression, dtype = spec
            dtypes[name] = dtype
        else:
            expression = spec
        applies.append((str(expression), str(name)))
    aggregation = _internal.aggregation(
        url,
        index,
        _query_args(query, params),
        groups,
        _reducers(reduce or {}),
        applies,
        _sort_pairs(sort_by, descending),
        limit,
        field_specs(dtypes),
        format_pairs(formats),
        search_timeout,
        on,
    )
    return lazy_scan(aggregation, output_schema(aggregation, dtypes), f"aggregate {index!r}", url)


@checked
def create_index(
    url: str | Client,
    name: str,
    prefix: str | Sequence[str],
    schema: SchemaLike | pl.DataFrame,
    on: Literal["hash", "json"] = "hash",
    *,
    types: Mapping[str, Literal["TEXT", "TAG", "NUMERIC", "GEO", "VECTOR"]] | None = None,
    aliases: Mapping[str, str] | None = None,
    sortable: Sequence[str] = (),
    case_sensitive: Sequence[str] = (),
    vectors: Mapping[str, VectorIndexOptions] | None = None,
    wait: bool | float = True,
) -> dict[str, Any]:
    """Create a RediSearch index over hashes (or JSON documents) from a Polars schema.

    Numeric columns become NUMERIC attributes, string / categorical / enum
    columns TAG (exact match; ask for ``TEXT`` in ``types`` for full-text
    search), ``pl.Array(pl.Float32 | pl.Float64, dim)`` columns VECTOR
    (FLAT, COSINE, the array's type and dimension; ``vectors`` changes
    that). Other dtypes need an explicit type in ``types``.

    Parameters
    ----------
    url
        Connection URL.
    name
        Index name.
    prefix
        Key prefix(es) to index (``""`` for every key).
    schema
        Column -> dtype mapping, a ``pl.Schema``, or a DataFrame (its schema).
    on
        ``"hash"`` or ``"json"`` (columns become ``$.column``).
    types
        Column -> ``TEXT`` / ``TAG`` / ``NUMERIC`` / ``GEO`` / ``VECTOR``,
        overriding the default.
    aliases
        Column -> attribute name used in queries.
    sortable, case_sensitive
        Columns to make ``SORTABLE`` / TAG columns to make ``CASESENSITIVE``.
    vectors
        Column -> its VECTOR attribute (:class:`VectorIndexOptions`):
        ``algorithm`` (``"FLAT"``, exact, or ``"HNSW"``, approximate),
        ``metric`` (``"COSINE"``, ``"L2"``, ``"IP"``), ``type``, ``dim``
        (needed for a ``pl.List`` column), and HNSW's ``m``,
        ``ef_construction``, ``ef_runtime``. A column named here is VECTOR.
    wait
        Wait until existing keys are indexed: True (up to 60 s), False, or seconds.

    Returns
    -------
    dict
        :func:`index_info` of the new index.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> schema = {"name": pl.String, "age": pl.Int64}
    >>> info = redis.create_index(url, "people", "user:", schema, types={"name": "TEXT"})
    >>> [(a["name"], a["type"]) for a in info["attributes"]], info["num_docs"]
    ([('name', 'TEXT'), ('age', 'NUMERIC')], 3)

    A vector index over embeddings (HNSW, inner product):

    >>> schema = {"title": pl.String, "emb": pl.Array(pl.Float32, 4)}
    >>> hnsw: redis.VectorIndexOptions = {"algorithm": "HNSW", "metric": "IP"}
    >>> info = redis.create_index(url, "items_hnsw", "item:", schema, vectors={"emb": hnsw})
    >>> [(a["name"], a["type"], a.get("dim")) for a in info["attributes"]]
    [('title', 'TAG', None), ('emb', 'VECTOR', 4)]
    """
    if isinstance(schema, pl.DataFrame):
        schema = schema.schema
    types = dict(types or {})
    aliases = dict(aliases or {})
    vectors = dict(vectors or {})
    specs = field_specs(schema)
    attributes = []
    for column, spec in specs:
        declared = vectors.pop(column, None)
        kind = (
            types.pop(column, None)
            or ("VECTOR" if declared is not None else None)
            or _internal.default_attribute_type(spec)
        )
        if kind is None:
            msg = (
                f"column {column!r}: no default index type for dtype {spec[0]}; "
                "pass types={column: 'TEXT' | 'TAG' | 'NUMERIC' | 'GEO' | 'VECTOR'} or leave it out"
            )
            raise InvalidInputError(msg)
        if declared is not None and kind.upper() != "VECTOR":
            msg = f"column {column!r}: vectors= declares a VECTOR attribute, but types= says {kind}"
            raise InvalidInputError(msg)
        vector = None
        if kind.upper() == "VECTOR":
            vector = {
                "dtype": spec,
                **{key: None for key in VectorIndexOptions.__annotations__},
                **(declared or {}),
            }
        attributes.append(
            (
                column,
                aliases.get(column),
                kind,
                column in sortable,
                column in case_sensitive,
                vector,
            )
        )
    for option, unused in (("types", types), ("vectors", vectors)):
        if unused:
            msg = f"{option} given for columns not in the schema: {sorted(unused)}"
            raise InvalidInputError(msg)
    prefixes = [prefix] if isinstance(prefix, str) else list(prefix)
    seconds = (60.0 if wait else None) if isinstance(wait, bool) else float(wait)
    return _internal.create_index(
        url, name, on, [p.encode() for p in prefixes if p], attributes, seconds
    )


@checked
def drop_index(url: str | Client, name: str, *, delete_documents: bool = False) -> None:
    """Drop an index; with ``delete_documents`` also delete the keys it indexes.

    Examples
    --------
    >>> redis.drop_index(url, "users")
    >>> redis.index_exists(url, "users")
    False
    """
    _internal.drop_index(url, name, delete_documents)


@checked
def index_info(url: str | Client, name: str) -> dict[str, Any]:
    """What ``FT.INFO`` says: key type, prefixes, attributes (identifier,
    name, type, flags), document count, indexing progress and failures.

    Examples
    --------
    >>> info = redis.index_info(url, "users")
    >>> info["on"], info["prefixes"], info["num_docs"]
    ('hash', ['user:'], 3)
    """
    return _internal.index_info(url, name)


@checked
def index_exists(url: str | Client, name: str) -> bool:
    """Whether an index of this name exists.

    Examples
    --------
    >>> redis.index_exists(url, "users"), redis.index_exists(url, "nope")
    (True, False)
    """
    return _internal.index_exists(url, name)


# ------------------------------------------------------------ index listing

_ATTRIBUTE = pl.Struct({"identifier": pl.String, "name": pl.String, "type": pl.String})
_INDEX_COLUMNS: dict[str, pl.DataType] = {
    "name": pl.String(),
    "on": pl.String(),
    "prefixes": pl.List(pl.String()),
    "filter": pl.String(),
    "num_docs": pl.UInt64(),
    "indexing": pl.Boolean(),
    "percent_indexed": pl.Float64(),
    "indexing_failures": pl.UInt64(),
    "attributes": pl.List(_ATTRIBUTE),
}
_INDEX_SCHEMA = pl.Schema(_INDEX_COLUMNS)


@checked
def list_indexes(url: str | Client) -> pl.DataFrame:
    """Every RediSearch index, one row each: ``name``, ``on`` (``hash`` or
    ``json``), ``prefixes``, ``filter``, ``num_docs``, ``indexing``,
    ``percent_indexed``, ``indexing_failures`` and ``attributes`` (a list of
    ``{identifier, name, type}``).

    Examples
    --------
    >>> redis.list_indexes(url).select("name", "on", "prefixes", "num_docs").sort("name")
    shape: (3, 4)
    ┌───────┬──────┬───────────┬──────────┐
    │ name  ┆ on   ┆ prefixes  ┆ num_docs │
    │ ---   ┆ ---  ┆ ---       ┆ ---      │
    │ str   ┆ str  ┆ list[str] ┆ u64      │
    ╞═══════╪══════╪═══════════╪══════════╡
    │ docs  ┆ json ┆ ["doc:"]  ┆ 3        │
    │ items ┆ hash ┆ ["item:"] ┆ 3        │
    │ users ┆ hash ┆ ["user:"] ┆ 3        │
    └───────┴──────┴───────────┴──────────┘
    """
    rows = [
        {
            **{name: info[name] for name in _INDEX_SCHEMA if name != "attributes"},
            "attributes": [
                {"identifier": a["identifier"], "name": a["name"], "type": a["type"]}
                for a in info["attributes"]
            ],
        }
        for info in _internal.list_indexes(url)
    ]
    return pl.DataFrame(rows, schema=_INDEX_SCHEMA)


class IndexMatch:
    """Which index ``index="auto"`` would read a key pattern's keys from.

    True when there is one. ``name``, ``prefixes`` and ``on_type`` describe
    it (``None`` / empty when there is none), ``info`` is its full
    :func:`index_info` dict, ``reason`` says why no index is chosen, and
    ``rejected`` maps every other index to why ``auto`` does not use it.
    ``auto`` uses the index when the scan's filter can be pushed into it.
    """

    def __init__(self, found: dict[str, Any]) -> None:
        self.info: dict[str, Any] | None = found["index"]
        self.reason: str | None = found["reason"]
        self.rejected: dict[str, str] = dict(found["rejected"])

    @property
    def name(self) -> str | None:
        """The index's name."""
        return None if self.info is None else str(self.info["name"])

    @property
    def prefixes(self) -> list[str]:
        """The key prefixes it indexes."""
        return [] if self.info is None else list(self.info["prefixes"])

    @property
    def on_type(self) -> str | None:
        """``hash`` or ``json``."""
        return None if self.info is None else str(self.info["on"])

    def __bool__(self) -> bool:
        return self.info is not None

    def __repr__(self) -> str:
        if self.info is None:
            return f"IndexMatch(None, reason={self.reason!r})"
        return f"IndexMatch({self.name!r}, prefixes={self.prefixes!r})"


@checked
def find_index_for_pattern(
    url: str | Client, pattern: str, on: Literal["hash", "json"] = "hash"
) -> IndexMatch:
    """The index a scan of ``pattern`` with ``index="auto"`` would use, and
    why every other index (or any index at all) would not be used.

    The same survey the scan runs: an index qualifies when it is on the same
    key type, its prefixes cover the pattern's literal prefix, it has no
    ``FILTER``, no indexing failures, and it is fully indexed; the first in
    ``FT._LIST`` order wins.

    Examples
    --------
    >>> found = redis.find_index_for_pattern(url, "user:*")
    >>> bool(found), found.name, found.prefixes
    (True, 'users', ['user:'])
    >>> missing = redis.find_index_for_pattern(url, "order:*")
    >>> bool(missing), missing.rejected["users"]
    (False, 'its prefixes do not cover the key pattern')
    """
    return IndexMatch(_internal.find_index_for_pattern(url, pattern.encode(), on))
