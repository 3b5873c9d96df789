"""Geo sets: sorted sets written by ``GEOADD``, read as frames of positions,
written from frames, and searched with the radius or box and the count
pushed to Redis (``GEOSEARCH``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType, dtype_spec
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import collect, lazy_scan, scan_args, selection, to_bytes
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError
from polars_redis.keys import as_given, byte_list

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: A distance unit.
GeoUnit = Literal["m", "km", "mi", "ft"]
#: Nearest first (``"asc"``) or farthest first (``"desc"``).
GeoSort = Literal["asc", "desc"]
#: Members as a list or a Series.
Members = Union[Sequence[Union[str, bytes]], pl.Series]


class GeoScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_geo` (those of :func:`scan_geo`)."""

    member_type: DType
    member_column_name: str


@dataclass(frozen=True)
class GeoAddResult:
    """What :func:`geo_add` did. ``added + updated`` is the number of rows."""

    added: int
    """Members new to the set."""
    updated: int
    """Rows whose member was already in the set (its position rewritten)."""


@checked
@with_scan_options
def scan_geo(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    member_type: DType = pl.String,
    member_column_name: str = "member",
    keys: Sequence[str | bytes] | None = None,
    include_key: bool = True,
    key_column_name: str = "_key",
    key_dtype: DType = pl.String,
    include_ttl: bool = False,
    ttl_column_name: str = "_ttl",
    include_row_index: bool = False,
    row_index_column_name: str = "_index",
    batch_size: int = _internal.DEFAULT_BATCH_SIZE,
    count_hint: int | None = None,
    strict: bool = True,
    formats: Mapping[str, str] | None = None,
    parallelism: int = _internal.DEFAULT_PARALLELISM,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    deadline: float | None = None,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
    read_from: ReadFrom = "primary",
    progress: ProgressLike = False,
) -> pl.LazyFrame:
    """Lazily read geo sets into a LazyFrame, one row per member, with its position.

    The sets are read as sorted sets (``SCAN ... TYPE zset`` or ``keys``,
    then ``ZRANGE ... WITHSCORES`` in pages), and each score, the 52-bit
    geohash ``GEOADD`` stored, is decoded in Rust into exactly the
    longitude and latitude ``GEOPOS`` replies with (the centre of the
    geohash cell, to 17 decimals). Filters and projections apply after reading.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS)
        or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    member_type
        Polars dtype of the members (default ``pl.String``).
    member_column_name
        Name of the member column (default ``member``).
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the
        member, ``longitude``, ``latitude`` (Float64), ``_ttl`` (if requested).

    Raises
    ------
    ParseError
        A score ``GEOADD`` cannot have written (the key is a plain sorted set).

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> cities = pl.DataFrame(
    ...     {"city": ["Oslo", "Paris"], "lon": [10.75, 2.35], "lat": [59.91, 48.86]}
    ... )
    >>> _ = redis.geo_add(url, "cities", cities, "city", "lon", "lat")
    >>> redis.scan_geo(url, "cities").filter(pl.col("latitude") > 50).select("member").collect()
    shape: (1, 1)
    ┌────────┐
    │ member │
    │ ---    │
    │ str    │
    ╞════════╡
    │ Oslo   │
    └────────┘
    """
    args = locals()
    dtype = member_type() if isinstance(member_type, type) else member_type
    spec = dtype_spec(member_column_name, dtype)
    scanner = _internal.geo_scanner(scan_args(args), member_column_name, spec)
    schema = pl.DataFrame(scanner.empty()).schema
    return lazy_scan(scanner, schema, f"geo sets {selection(args)}", url, progress)


@checked
def read_geo(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[GeoScanOptions]
) -> pl.DataFrame:
    """Read geo sets into a DataFrame; ``scan_geo(...).collect()``.

    Takes the same arguments as :func:`scan_geo`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91)])
    >>> redis.read_geo(url, keys=["cities"])
    shape: (1, 4)
    ┌────────┬────────┬───────────┬───────────┐
    │ _key   ┆ member ┆ longitude ┆ latitude  │
    │ ---    ┆ ---    ┆ ---       ┆ ---       │
    │ str    ┆ str    ┆ f64       ┆ f64       │
    ╞════════╪════════╪═══════════╪═══════════╡
    │ cities ┆ Oslo   ┆ 10.750001 ┆ 59.909999 │
    └────────┴────────┴───────────┴───────────┘
    """
    return collect(scan_geo(url, pattern, **options))


@checked
def geo_add(
    url: str | Client,
    key: str | bytes,
    df: pl.DataFrame | Sequence[tuple[str | bytes, float, float]],
    member_column: str = "member",
    longitude_column: str = "longitude",
    latitude_column: str = "latitude",
) -> GeoAddResult:
    """Add members at their positions to a geo set (``GEOADD``), from a frame.

    Every position is checked first (longitude -180 to 180, latitude
    -85.05112878 to 85.05112878, no nulls): a bad one raises
    :class:`InvalidInputError` naming the row before anything is written.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    df
        The frame, or a list of ``(member, longitude, latitude)`` tuples (the
        form of polars-redis 0.1.6).
    member_column, longitude_column, latitude_column
        The frame's columns (defaults ``member``, ``longitude``, ``latitude``).

    Returns
    -------
    GeoAddResult

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"city": ["Oslo", "Paris"], "lon": [10.75, 2.35], "lat": [59.91, 48.86]})
    >>> redis.geo_add(url, "cities", df, "city", "lon", "lat")
    GeoAddResult(added=2, updated=0)
    """
    if isinstance(df, pl.DataFrame):
        for name in (member_column, longitude_column, latitude_column):
            if name not in df.columns:
                msg = f"geo_add: no column {name!r} in the frame (columns: {df.columns})"
                raise InvalidInputError(msg)
        for name in (longitude_column, latitude_column):
            if not df[name].dtype.is_numeric():
                msg = f"geo_add: column {name!r} must be numeric, got {df[name].dtype}"
                raise InvalidInputError(msg)
        members = byte_list(df[member_column], member_column)
        longitudes = df[longitude_column].cast(pl.Float64).to_list()
        latitudes = df[latitude_column].cast(pl.Float64).to_list()
    else:
        rows = list(df)
        members = [to_bytes(m) for m, _, _ in rows]
        longitudes = [float(lon) for _, lon, _ in rows]
        latitudes = [float(lat) for _, _, lat in rows]
    added, updated = _internal.geo_add_members(url, to_bytes(key), members, longitudes, latitudes)
    return GeoAddResult(added=added, updated=updated)


@checked
def geo_radius(
    url: str | Client,
    key: str | bytes,
    longitude: float,
    latitude: float,
    radius: float,
    unit: GeoUnit = "km",
    *,
    count: int | None = None,
    sort: GeoSort | None = None,
    with_distance: bool = True,
) -> pl.DataFrame:
    """The members within a radius of a point (``GEOSEARCH ... FROMLONLAT ... BYRADIUS``).

    The radius, the order and the count are sent to Redis, which returns
    only the members asked for.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    longitude, latitude
        The centre.
    radius
        The radius, in ``unit``.
    unit
        ``"m"``, ``"km"`` (default), ``"mi"`` or ``"ft"``; also the unit of ``distance``.
    count
        At most this many members, the nearest (``COUNT``).
    sort
        ``"asc"`` (nearest first), ``"desc"`` or None (Redis' order; nearest
        first when ``count`` is given).
    with_distance
        Add the ``distance`` column (``WITHDIST``).

    Returns
    -------
    DataFrame
        ``member``, ``longitude``, ``latitude`` and ``distance`` (if asked);
        empty when the set does not exist.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91), ("Paris", 2.35, 48.86)])
    >>> near = redis.geo_radius(url, "cities", 10.0, 60.0, 100, "km", sort="asc")
    >>> near.select("member", "distance")
    shape: (1, 2)
    ┌────────┬──────────┐
    │ member ┆ distance │
    │ ---    ┆ ---      │
    │ str    ┆ f64      │
    ╞════════╪══════════╡
    │ Oslo   ┆ 42.9493  │
    └────────┴──────────┘
    """
    return _search(
        url, key, (longitude, latitude), None, radius, None, unit, count, sort, with_distance
    )


@checked
def geo_radius_by_member(
    url: str | Client,
    key: str | bytes,
    member: str | bytes,
    radius: float,
    unit: GeoUnit = "km",
    *,
    count: int | None = None,
    sort: GeoSort | None = None,
    with_distance: bool = True,
) -> pl.DataFrame:
    """The members within a radius of a member (``GEOSEARCH ... FROMMEMBER ... BYRADIUS``).

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    member
        The member at the centre (included in the result, at distance 0).
    radius, unit, count, sort, with_distance
        As for :func:`geo_radius`.

    Returns
    -------
    DataFrame
        As for :func:`geo_radius`.

    Raises
    ------
    InvalidInputError
        ``member`` is not in the set.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91), ("Paris", 2.35, 48.86)])
    >>> redis.geo_radius_by_member(url, "cities", "Paris", 2000, sort="desc")["member"].to_list()
    ['Oslo', 'Paris']
    """
    return _search(url, key, None, to_bytes(member), radius, None, unit, count, sort, with_distance)


@checked
def geo_search_box(
    url: str | Client,
    key: str | bytes,
    width: float,
    height: float,
    unit: GeoUnit = "km",
    *,
    longitude: float | None = None,
    latitude: float | None = None,
    member: str | bytes | None = None,
    count: int | None = None,
    sort: GeoSort | None = None,
    with_distance: bool = True,
) -> pl.DataFrame:
    """The members within a box centred on a point or a member (``GEOSEARCH ... BYBOX``).

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    width, height
        The box's east-west and north-south extents, in ``unit``.
    unit
        As for :func:`geo_radius`.
    longitude, latitude
        The centre; or give ``member``.
    member
        The member at the centre.
    count, sort, with_distance
        As for :func:`geo_radius`.

    Returns
    -------
    DataFrame
        As for :func:`geo_radius`.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91), ("Paris", 2.35, 48.86)])
    >>> box = redis.geo_search_box(url, "cities", 400, 400, longitude=3.0, latitude=49.0)
    >>> box["member"].to_list()
    ['Paris']
    """
    point = None
    if longitude is not None or latitude is not None:
        if longitude is None or latitude is None or member is not None:
            msg = "geo_search_box is centred on longitude and latitude, or on a member"
            raise InvalidInputError(msg)
        point = (longitude, latitude)
    elif member is None:
        msg = "geo_search_box needs a centre: longitude and latitude, or member"
        raise InvalidInputError(msg)
    return _search(
        url,
        key,
        point,
        None if member is None else to_bytes(member),
        None,
        (width, height),
        unit,
        count,
        sort,
        with_distance,
    )


@checked
def geo_dist(
    url: str | Client,
    key: str | bytes,
    member1: str | bytes,
    member2: str | bytes,
    unit: GeoUnit = "km",
) -> float | None:
    """The distance between two members (``GEODIST``), None when either is missing.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    member1, member2
        The members.
    unit
        ``"m"``, ``"km"`` (default), ``"mi"`` or ``"ft"``.

    Returns
    -------
    float or None
        As Redis gives it (to 4 decimals).

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91), ("Paris", 2.35, 48.86)])
    >>> redis.geo_dist(url, "cities", "Oslo", "Paris")
    1341.6181
    >>> redis.geo_dist(url, "cities", "Oslo", "Atlantis") is None
    True
    """
    pair = [(to_bytes(member1), to_bytes(member2))]
    return _internal.geo_distances(url, to_bytes(key), pair, unit)[0]


@checked
def geo_pos(url: str | Client, key: str | bytes, members: Members) -> pl.DataFrame:
    """The positions of members (``GEOPOS``); null for a member not in the set.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    members
        The members (a list or a Series).

    Returns
    -------
    DataFrame
        ``member``, ``longitude``, ``latitude``.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91)])
    >>> redis.geo_pos(url, "cities", ["Oslo", "Atlantis"])
    shape: (2, 3)
    ┌──────────┬───────────┬───────────┐
    │ member   ┆ longitude ┆ latitude  │
    │ ---      ┆ ---       ┆ ---       │
    │ str      ┆ f64       ┆ f64       │
    ╞══════════╪═══════════╪═══════════╡
    │ Oslo     ┆ 10.750001 ┆ 59.909999 │
    │ Atlantis ┆ null      ┆ null      │
    └──────────┴───────────┴───────────┘
    """
    listed = byte_list(members, "members")
    found = _internal.geo_positions(url, to_bytes(key), listed)
    return pl.DataFrame(
        {
            "member": as_given(members, listed).alias("member"),
            "longitude": pl.Series([p[0] if p else None for p in found], dtype=pl.Float64),
            "latitude": pl.Series([p[1] if p else None for p in found], dtype=pl.Float64),
        }
    )


@checked
def geo_hash(url: str | Client, key: str | bytes, members: Members) -> pl.DataFrame:
    """The geohash strings of members (``GEOHASH``); null for a member not in the set.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    members
        The members (a list or a Series).

    Returns
    -------
    DataFrame
        ``member``, ``geohash`` (11 characters).

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91)])
    >>> redis.geo_hash(url, "cities", ["Oslo", "Atlantis"])["geohash"].to_list()
    ['u4xsud7cj10', None]
    """
    listed = byte_list(members, "members")
    hashes = _internal.geo_hashes(url, to_bytes(key), listed)
    return pl.DataFrame(
        {
            "member": as_given(members, listed).alias("member"),
            "geohash": pl.Series(hashes, dtype=pl.String),
        }
    )


@checked
def geo_dist_matrix(
    url: str | Client, key: str | bytes, members: Members, unit: GeoUnit = "km"
) -> pl.DataFrame:
    """The distance between every pair of members (``GEODIST``, each pair once).

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_geo`.
    key
        The geo set.
    members
        The members (a list or a Series of text).
    unit
        ``"m"``, ``"km"`` (default), ``"mi"`` or ``"ft"``.

    Returns
    -------
    DataFrame
        ``member``, then one Float64 column per member (named after it): the
        distances, null where either member is not in the set.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.geo_add(url, "cities", [("Oslo", 10.75, 59.91), ("Paris", 2.35, 48.86)])
    >>> redis.geo_dist_matrix(url, "cities", ["Oslo", "Paris"])
    shape: (2, 3)
    ┌────────┬───────────┬───────────┐
    │ member ┆ Oslo      ┆ Paris     │
    │ ---    ┆ ---       ┆ ---       │
    │ str    ┆ f64       ┆ f64       │
    ╞════════╪═══════════╪═══════════╡
    │ Oslo   ┆ 0.0       ┆ 1341.6181 │
    │ Paris  ┆ 1341.6181 ┆ 0.0       │
    └────────┴───────────┴───────────┘
    """
    listed = byte_list(members, "members")
    names = [m.decode(errors="replace") for m in listed]
    if len(set(names)) != len(names):
        msg = "geo_dist_matrix: the members must be distinct (they name the columns)"
        raise InvalidInputError(msg)
    matrix = _internal.geo_distance_matrix(url, to_bytes(key), listed, unit)
    columns: dict[str, Any] = {"member": pl.Series(names, dtype=pl.String)}
    for j, name in enumerate(names):
        columns[name] = pl.Series([row[j] for row in matrix], dtype=pl.Float64)
    return pl.DataFrame(columns)


def _search(
    url: str | Client,
    key: str | bytes,
    point: tuple[float, float] | None,
    member: bytes | None,
    radius: float | None,
    box: tuple[float, float] | None,
    unit: str,
    count: int | None,
    sort: str | None,
    with_distance: bool,
) -> pl.DataFrame:
    table = _internal.geo_search_table(
        url, to_bytes(key), point, member, radius, box, unit, count, sort, with_distance
    )
    return pl.DataFrame(table)
