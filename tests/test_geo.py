"""Geo sets against real servers (standalone and a 3-master cluster), with
redis-py as the ground truth: positions, searches and distances must equal
what redis-py reads, including members absent from the set."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest

import polars_redis as redis
from polars_redis import ArgumentTypeError, InvalidInputError, ParseError

LAT_MAX = 85.05112878

CITIES = {
    "Oslo": (10.75, 59.91),
    "Paris": (2.35, 48.86),
    "Berlin": (13.405, 52.52),
    "Madrid": (-3.7038, 40.4168),
    "Rome": (12.4964, 41.9028),
    "Lisbon": (-9.1393, 38.7223),
    "Amsterdam": (4.9041, 52.3676),
}


@pytest.fixture(params=["standalone", "cluster"])
def target(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """``(url, redis-py client)`` of an empty standalone server or cluster."""
    if request.param == "standalone":
        return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_client")
    return request.getfixturevalue("cluster_url"), request.getfixturevalue("cluster_client")


def _cities(client: Any, key: str = "cities") -> None:
    for name, (lon, lat) in CITIES.items():
        client.geoadd(key, (lon, lat, name))


def _rows(reply: list[Any], with_distance: bool) -> list[tuple[Any, ...]]:
    """redis-py's GEOSEARCH ... WITHDIST WITHCOORD reply as our rows."""
    rows = []
    for item in reply:
        if with_distance:
            member, dist, (lon, lat) = item
            rows.append((member.decode(), lon, lat, dist))
        else:
            member, (lon, lat) = item
            rows.append((member.decode(), lon, lat))
    return rows


def test_geo_add_from_a_frame(target: tuple[str, Any]) -> None:
    url, client = target
    df = pl.DataFrame(
        {
            "city": list(CITIES),
            "lon": [p[0] for p in CITIES.values()],
            "lat": [p[1] for p in CITIES.values()],
        }
    )
    assert redis.geo_add(url, "cities", df, "city", "lon", "lat") == redis.GeoAddResult(7, 0)
    again = redis.geo_add(url, "cities", df.head(2), "city", "lon", "lat")
    assert again == redis.GeoAddResult(added=0, updated=2)
    for name, (lon, lat) in CITIES.items():
        (got,) = client.geopos("cities", name)
        assert got == pytest.approx((lon, lat), abs=1e-5)
    assert redis.geo_add(url, "t", [("a", 1.0, 2.0)]).added == 1


def test_geo_add_refuses_bad_positions_before_writing(redis_url: str, redis_client: Any) -> None:
    df = pl.DataFrame({"member": ["a", "b"], "longitude": [1.0, 1.0], "latitude": [2.0, 86.0]})
    with pytest.raises(InvalidInputError, match=r'row 1 \(member "b"\).*not a valid position'):
        redis.geo_add(redis_url, "g", df)
    nulls = df.with_columns(pl.Series("latitude", [None, 1.0]))
    with pytest.raises(InvalidInputError, match=r"row 0.*null"):
        redis.geo_add(redis_url, "g", nulls)
    with pytest.raises(InvalidInputError, match="no column 'lon'"):
        redis.geo_add(redis_url, "g", df, longitude_column="lon")
    with pytest.raises(InvalidInputError, match="numeric"):
        redis.geo_add(redis_url, "g", df.with_columns(pl.lit("x").alias("latitude")))
    assert not redis_client.exists("g")


def test_read_geo_equals_geopos_exactly(target: tuple[str, Any]) -> None:
    """The decoded 52-bit geohash scores equal GEOPOS as redis-py parses it,
    bit for bit, over the whole valid range, the edges and tiny magnitudes."""
    url, client = target
    rng = random.Random(16)
    points = [(rng.uniform(-180, 180), rng.uniform(-LAT_MAX, LAT_MAX)) for _ in range(3000)]
    points += [(180, LAT_MAX), (-180, -LAT_MAX), (0, 0), (1e-9, -1e-9), (1e-4, 3e-5)]
    keys = [f"geo:{i}" for i in range(4)]
    for i, (lon, lat) in enumerate(points):
        client.geoadd(keys[i % 4], (lon, lat, f"m{i}"))
    df = redis.read_geo(url, "geo:*")
    assert df.columns == ["_key", "member", "longitude", "latitude"]
    assert df.height == len(points)
    for key in keys:
        part = df.filter(pl.col("_key") == key)
        truth = client.geopos(key, *part["member"].to_list())
        assert list(zip(part["longitude"], part["latitude"])) == [tuple(p) for p in truth]


def test_scan_geo_is_lazy_and_filters(redis_url: str, redis_client: Any) -> None:
    _cities(redis_client)
    lf = redis.scan_geo(redis_url, keys=["cities"], include_key=False)
    assert lf.collect_schema().names() == ["member", "longitude", "latitude"]
    north = lf.filter(pl.col("latitude") > 50).select("member").collect()
    assert sorted(north["member"]) == ["Amsterdam", "Berlin", "Oslo"]
    assert lf.head(2).collect().height == 2


def test_read_geo_refuses_plain_sorted_sets(redis_url: str, redis_client: Any) -> None:
    redis_client.zadd("board", {"ann": 1.5})
    with pytest.raises(ParseError, match=r'"board".*"ann".*geohash'):
        redis.read_geo(redis_url, keys=["board"])


@pytest.mark.parametrize("unit", ["m", "km", "mi", "ft"])
def test_geo_radius_matches_geosearch(target: tuple[str, Any], unit: str) -> None:
    url, client = target
    _cities(client)
    radius = {"m": 1_500_000, "km": 1500, "mi": 900, "ft": 5_000_000}[unit]
    for count, sort in [(None, "ASC"), (3, None), (2, "DESC")]:
        df = redis.geo_radius(
            url, "cities", 8.0, 50.0, radius, unit,  # type: ignore[arg-type]
            count=count, sort=sort.lower() if sort else None,  # type: ignore[arg-type]
        )  # fmt: skip
        truth = client.geosearch(
            "cities", longitude=8.0, latitude=50.0, radius=radius, unit=unit,
            sort=sort, count=count, withdist=True, withcoord=True,
        )  # fmt: skip
        assert list(df.iter_rows()) == _rows(truth, True)
        assert len(truth) == (count or len(truth)) > 0


def test_geo_radius_by_member_and_box(target: tuple[str, Any]) -> None:
    url, client = target
    _cities(client)
    df = redis.geo_radius_by_member(url, "cities", "Paris", 1000, sort="asc", with_distance=False)
    truth = client.geosearch(
        "cities", member="Paris", radius=1000, unit="km", sort="ASC", withcoord=True
    )
    assert df.columns == ["member", "longitude", "latitude"]
    assert list(df.iter_rows()) == _rows(truth, False)

    box = redis.geo_search_box(
        url, "cities", 2000, 1200, "km", longitude=5.0, latitude=47.0, sort="asc"
    )
    truth = client.geosearch(
        "cities", longitude=5.0, latitude=47.0, width=2000, height=1200, unit="km",
        sort="ASC", withdist=True, withcoord=True,
    )  # fmt: skip
    assert list(box.iter_rows()) == _rows(truth, True)
    by_member = redis.geo_search_box(url, "cities", 600, 600, member="Berlin", count=2)
    truth = client.geosearch(
        "cities", member="Berlin", width=600, height=600, unit="km", count=2,
        withdist=True, withcoord=True,
    )  # fmt: skip
    assert list(by_member.iter_rows()) == _rows(truth, True)


def test_searches_of_a_missing_set_or_member(redis_url: str, redis_client: Any) -> None:
    _cities(redis_client)
    empty = redis.geo_radius(redis_url, "nothing", 0.0, 0.0, 10)
    assert empty.height == 0 and empty.columns == ["member", "longitude", "latitude", "distance"]
    with pytest.raises(InvalidInputError, match='member "Atlantis" is not in the geo set "cities"'):
        redis.geo_radius_by_member(redis_url, "cities", "Atlantis", 10)


def test_geo_pos_hash_and_dist_with_absent_members(target: tuple[str, Any]) -> None:
    url, client = target
    _cities(client)
    members = ["Oslo", "Atlantis", "Rome", "Lisbon", "El Dorado"]
    pos = redis.geo_pos(url, "cities", members)
    truth = client.geopos("cities", *members)
    assert pos["member"].to_list() == members
    assert list(zip(pos["longitude"], pos["latitude"])) == [
        tuple(p) if p else (None, None) for p in truth
    ]
    hashes = redis.geo_hash(url, "cities", pl.Series(members))
    assert hashes["geohash"].to_list() == client.geohash("cities", *members)
    for unit in ["m", "km", "mi", "ft"]:
        assert redis.geo_dist(url, "cities", "Oslo", "Rome", unit) == client.geodist(  # type: ignore[arg-type]
            "cities", "Oslo", "Rome", unit
        )
    assert redis.geo_dist(url, "cities", "Oslo", "Atlantis") is None
    assert redis.geo_pos(url, "nothing", ["a"])["longitude"].to_list() == [None]


def test_geo_dist_matrix_matches_geodist(target: tuple[str, Any]) -> None:
    url, client = target
    _cities(client)
    members = [*CITIES, "Atlantis"]
    df = redis.geo_dist_matrix(url, "cities", members, "mi")
    assert df.columns == ["member", *members]
    for i, a in enumerate(members):
        for b in members:
            assert df[b][i] == client.geodist("cities", a, b, "mi"), (a, b)


def test_units_and_extents_are_validated(redis_url: str) -> None:
    with pytest.raises(InvalidInputError, match="unit"):
        redis.geo_radius(redis_url, "c", 0.0, 0.0, 10, "yd")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="radius must be a finite number"):
        redis.geo_radius(redis_url, "c", 0.0, 0.0, -1)
    with pytest.raises(InvalidInputError, match="the centre: longitude 200"):
        redis.geo_radius(redis_url, "c", 200.0, 0.0, 1)
    with pytest.raises(InvalidInputError, match="count must be at least 1"):
        redis.geo_radius(redis_url, "c", 0.0, 0.0, 1, count=0)
    with pytest.raises(InvalidInputError, match="needs a centre"):
        redis.geo_search_box(redis_url, "c", 1, 1)
    with pytest.raises(InvalidInputError, match="distinct"):
        redis.geo_dist_matrix(redis_url, "c", ["a", "a"])
    with pytest.raises(ArgumentTypeError, match="members"):
        redis.geo_pos(redis_url, "c", "Oslo")  # type: ignore[arg-type]
