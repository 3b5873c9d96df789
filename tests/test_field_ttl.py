"""Hash-field TTLs (issue 15): ``field_ttl=`` on hash reads adds ``<field>_ttl``
columns read with HTTL; ``field_ttl=`` / ``field_ttl_column=`` on
``write_hashes`` set HEXPIRE in the key's atomic unit. Needs Redis 7.4+ (the
Redis Stack fixture); the plain fixture (Redis 7.0) must refuse both. Ground
truth is written and read with redis-py (HEXPIRE / HTTL).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis.exceptions import InvalidInputError, UnsupportedError, WrongTypeError

SCHEMA = {"price": pl.Float64, "qty": pl.Int64, "name": pl.String}


def seed(client: Any) -> None:
    """item:1 price expires in 100 s, qty in 300 s; item:2 price never expires,
    qty is missing; item:3 only name (no expiry)."""
    client.hset("item:1", mapping={"price": "9.5", "qty": "3", "name": "a"})
    client.hexpire("item:1", 100, "price")
    client.hexpire("item:1", 300, "qty")
    client.hset("item:2", mapping={"price": "1.0", "name": "b"})
    client.hset("item:3", mapping={"name": "c"})


def httl(client: Any, key: str, field: str) -> int | None:
    ttl = client.httl(key, field)[0]
    return ttl if ttl >= 0 else None


@pytest.mark.parametrize("fetch", ["auto", "hgetall", "hmget"])
def test_ttl_columns_equal_httl(stack_url: str, stack_client: Any, fetch: str) -> None:
    seed(stack_client)
    df = pr.read_hashes(stack_url, "item:*", SCHEMA, field_ttl=True, fetch=fetch).sort("_key")
    assert df.columns == ["_key", "price", "qty", "name", "price_ttl", "qty_ttl", "name_ttl"]
    assert df.schema["price_ttl"] == pl.Int64
    for row in df.iter_rows(named=True):
        for field in SCHEMA:
            truth = httl(stack_client, row["_key"], field)
            got = row[f"{field}_ttl"]
            if truth is None:
                assert got is None, (row, field)
            else:
                assert got is not None and abs(got - truth) <= 1, (row, field, truth)
    assert df["price_ttl"][0] is not None and 98 <= df["price_ttl"][0] <= 100
    assert df["qty_ttl"].to_list()[1:] == [None, None]


def test_field_list_and_projection(stack_url: str, stack_client: Any) -> None:
    seed(stack_client)
    lf = pr.scan_hashes(stack_url, "item:*", SCHEMA, field_ttl=["qty"])
    assert lf.collect_schema().names() == ["_key", "price", "qty", "name", "qty_ttl"]
    before = httl_calls(stack_client)
    values = lf.select("_key", "qty").collect()
    assert httl_calls(stack_client) == before, "an unselected TTL column sent HTTL"
    assert values.height == 3
    only_ttl = lf.select("_key", "qty_ttl").sort("_key").collect()
    assert httl_calls(stack_client) > before
    assert only_ttl["_key"].to_list() == ["item:1", "item:2", "item:3"]
    got = only_ttl["qty_ttl"].to_list()
    assert got[0] is not None and 298 <= got[0] <= 300
    assert got[1:] == [None, None]
    # A filter on a TTL column: keys stay right (it is no index attribute).
    fresh = lf.filter(pl.col("qty_ttl") > 10).select("_key").collect()
    assert fresh["_key"].to_list() == ["item:1"]


def httl_calls(client: Any) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_httl", {}).get("calls", 0))


def test_iter_hashes_with_field_ttl(stack_url: str, stack_client: Any) -> None:
    seed(stack_client)
    batches = list(pr.iter_hashes(stack_url, "item:*", SCHEMA, field_ttl=["price"], batch_size=1))
    df = pl.concat(batches).sort("_key")
    assert df["price_ttl"].is_null().to_list() == [False, True, True]


def test_expired_field_reads_missing(stack_url: str, stack_client: Any) -> None:
    stack_client.hset("e:1", mapping={"price": "1", "name": "x"})
    stack_client.hpexpire("e:1", 30, "price")
    time.sleep(0.1)
    df = pr.read_hashes(stack_url, keys=["e:1"], schema=SCHEMA, field_ttl=True)
    assert df.select("price", "price_ttl", "name").row(0) == (None, None, "x")


def test_fields_expiring_during_reads_never_show_a_value_without_its_ttl(
    stack_url: str, stack_client: Any
) -> None:
    """Fields expire while the scan runs: a row never has a value whose TTL
    column is null (it had an expiry), nor a TTL beside a missing value."""
    pipe = stack_client.pipeline(transaction=False)
    for i in range(2000):
        pipe.hset(f"r:{i}", mapping={"price": str(i), "name": "n"})
        pipe.hpexpire(f"r:{i}", 1 + (i * 7) % 400, "price")
    pipe.execute()
    seen_expired = seen_alive = 0
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        df = pr.read_hashes(stack_url, "r:*", SCHEMA, field_ttl=["price"], batch_size=50)
        value, ttl = df["price"].is_null(), df["price_ttl"].is_null()
        assert (value == ttl).all(), df.filter(value != ttl)
        seen_expired += int(value.sum())
        seen_alive += int((~value).sum())
    assert seen_expired > 0 and seen_alive > 0


def test_name_collisions_and_unknown_fields_are_refused(stack_url: str) -> None:
    schema = {"price": pl.Float64, "price_ttl": pl.Int64}
    with pytest.raises(InvalidInputError, match="`price_ttl`"):
        pr.scan_hashes(stack_url, "item:*", schema, field_ttl=True)
    with pytest.raises(InvalidInputError, match="`nope`"):
        pr.scan_hashes(stack_url, "item:*", SCHEMA, field_ttl=["nope"])
    with pytest.raises(InvalidInputError, match="used twice"):
        pr.scan_hashes(
            stack_url,
            "item:*",
            SCHEMA,
            field_ttl=["qty"],
            ttl_column_name="qty_ttl",
            include_ttl=True,
        )


def test_wrong_type_key_with_field_ttl(stack_url: str, stack_client: Any) -> None:
    stack_client.set("item:s", "text")
    seed(stack_client)
    with pytest.raises(WrongTypeError, match="item:s"):
        pr.read_hashes(stack_url, keys=["item:1", "item:s"], schema=SCHEMA, field_ttl=True)
    # A pattern scan skips it, as always.
    assert pr.read_hashes(stack_url, "item:*", SCHEMA, field_ttl=True).height == 3


def test_old_server_refuses_reads_and_writes(redis_url: str, redis_client: Any) -> None:
    version = redis_client.info("server")["redis_version"]
    assert not version.startswith(("7.4", "8"))
    redis_client.hset("item:1", "price", "1")
    with pytest.raises(UnsupportedError, match=f"Redis {version}"):
        pr.read_hashes(redis_url, "item:*", SCHEMA, field_ttl=True)
    df = pl.DataFrame({"_key": ["w:1"], "price": [1.0], "price_ttl": [5]})
    with pytest.raises(UnsupportedError, match=f"Redis {version}"):
        pr.write_hashes(df.drop("price_ttl"), redis_url, field_ttl={"price": 60})
    with pytest.raises(UnsupportedError, match=r"7\.4"):
        pr.write_hashes(df, redis_url, field_ttl_column={"price": "price_ttl"})
    assert redis_client.exists("w:1") == 0


ITEMS = pl.DataFrame(
    {"_key": ["w:1", "w:2"], "price": [1.5, None], "qty": [3, 4], "name": ["a", "b"]}
)


@pytest.mark.parametrize("if_exists", ["replace", "append", "skip", "fail"])
def test_write_constant_field_ttl(stack_url: str, stack_client: Any, if_exists: str) -> None:
    result = pr.write_hashes(
        ITEMS,
        stack_url,
        field_ttl={"price": 60, "qty": timedelta(seconds=90.5)},
        if_exists=if_exists,
    )
    assert result.written == 2
    assert 59 <= httl(stack_client, "w:1", "price") <= 60  # type: ignore[operator]
    assert 90 <= httl(stack_client, "w:1", "qty") <= 91  # type: ignore[operator]
    assert httl(stack_client, "w:1", "name") is None
    # A null value is not written, so it gets no expiry.
    assert stack_client.hexists("w:2", "price") == 0
    assert 89 <= httl(stack_client, "w:2", "qty") <= 91  # type: ignore[operator]
    assert stack_client.hget("w:1", "price") == b"1.5"


def test_write_field_ttl_column_per_row(stack_url: str, stack_client: Any) -> None:
    future = datetime.now(timezone.utc) + timedelta(seconds=500)
    df = ITEMS.with_columns(
        price_ttl=pl.Series([30, 40]),
        qty_ttl=pl.Series([None, timedelta(seconds=70)], dtype=pl.Duration("ms")),
        name_at=pl.Series([future, None], dtype=pl.Datetime("ms", "UTC")),
    )
    pr.write_hashes(
        df,
        stack_url,
        field_ttl_column={"price": "price_ttl", "qty": "qty_ttl", "name": "name_at"},
    )
    assert set(stack_client.hkeys("w:1")) == {b"price", b"qty", b"name"}
    assert 29 <= httl(stack_client, "w:1", "price") <= 30  # type: ignore[operator]
    assert httl(stack_client, "w:1", "qty") is None
    assert 498 <= httl(stack_client, "w:1", "name") <= 500  # type: ignore[operator]
    assert 69 <= httl(stack_client, "w:2", "qty") <= 70  # type: ignore[operator]
    assert httl(stack_client, "w:2", "name") is None


def test_append_keeps_other_fields_and_sets_expiry(stack_url: str, stack_client: Any) -> None:
    stack_client.hset("w:1", mapping={"price": "0", "other": "kept"})
    stack_client.hexpire("w:1", 1000, "other")
    pr.write_hashes(ITEMS.head(1), stack_url, if_exists="append", field_ttl={"price": 20})
    assert stack_client.hget("w:1", "other") == b"kept"
    assert 998 <= httl(stack_client, "w:1", "other") <= 1000  # type: ignore[operator]
    assert 19 <= httl(stack_client, "w:1", "price") <= 20  # type: ignore[operator]


def test_round_trip_through_ttl_columns(stack_url: str, stack_client: Any) -> None:
    seed(stack_client)
    df = pr.read_hashes(stack_url, "item:*", SCHEMA, field_ttl=["price", "qty"])
    copy = df.with_columns(pl.col("_key").str.replace("item:", "copy:"))
    pr.write_hashes(copy, stack_url, field_ttl_column={"price": "price_ttl", "qty": "qty_ttl"})
    for key in ["1", "2", "3"]:
        assert stack_client.hgetall(f"copy:{key}") == stack_client.hgetall(f"item:{key}")
        for field in SCHEMA:
            a, b = (
                httl(stack_client, f"item:{key}", field),
                httl(stack_client, f"copy:{key}", field),
            )
            assert (a is None) == (b is None) and abs((a or 0) - (b or 0)) <= 1


def test_bad_field_ttls_are_refused_before_writing(stack_url: str, stack_client: Any) -> None:
    with pytest.raises(InvalidInputError, match="price"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"price": 0})
    with pytest.raises(InvalidInputError, match="price"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"price": -3})
    with pytest.raises(InvalidInputError, match="field_ttl must be a mapping"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"price": 1.5})  # type: ignore[dict-item]
    bad = ITEMS.with_columns(t=pl.Series([10, 0]))
    with pytest.raises(
        InvalidInputError, match=r'row 1, key "w:2", column `t`: a field TTL of 0 s .* field `qty`'
    ):
        pr.write_hashes(bad, stack_url, field_ttl_column={"qty": "t"})
    past = ITEMS.with_columns(t=pl.Series([datetime(2000, 1, 1)] * 2, dtype=pl.Datetime("ms")))
    with pytest.raises(InvalidInputError, match="row 0"):
        pr.write_hashes(past, stack_url, field_ttl_column={"qty": "t"})
    with pytest.raises(InvalidInputError, match="`missing`"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"missing": 5})
    with pytest.raises(InvalidInputError, match="`_key`"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"_key": 5})
    texts = ITEMS.with_columns(t=pl.lit("soon"))
    with pytest.raises(InvalidInputError, match="`t`"):
        pr.write_hashes(texts, stack_url, field_ttl_column={"qty": "t"})
    with pytest.raises(InvalidInputError, match="`qty`"):
        pr.write_hashes(ITEMS, stack_url, field_ttl={"qty": 5}, field_ttl_column={"qty": "price"})
    assert stack_client.dbsize() == 0


def test_field_ttl_on_a_key_of_another_type_fails_that_key(
    stack_url: str, stack_client: Any
) -> None:
    stack_client.set("w:1", "text")
    result = pr.write_hashes(
        ITEMS, stack_url, if_exists="append", field_ttl={"qty": 50}, raise_on_error=False
    )
    assert (result.written, result.failed) == (1, 1)
    assert stack_client.get("w:1") == b"text"
    assert stack_client.ttl("w:1") == -1


def test_cluster_reads_and_writes_field_ttls(
    stack_cluster_url: str, stack_cluster_client: Any
) -> None:
    df = pl.DataFrame(
        {"_key": [f"c:{i}" for i in range(50)], "price": [float(i) for i in range(50)]}
    )
    pr.write_hashes(df, stack_cluster_url, field_ttl={"price": 120})
    back = pr.read_hashes(stack_cluster_url, "c:*", {"price": pl.Float64}, field_ttl=True)
    assert back.height == 50
    assert back["price_ttl"].min() >= 118  # type: ignore[operator]
    for key in ["c:0", "c:17", "c:49"]:
        assert 118 <= stack_cluster_client.httl(key, "price")[0] <= 120


def test_feature_store_page_runs(stack_url: str) -> None:
    """The examples of docs/feature-store.md run, in order, and their asserts hold."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "feature-store.md").read_text()
    namespace: dict[str, Any] = {"url": stack_url}
    for code in re.findall(r"```python\n(.*?)```", page, re.S):
        exec(compile(code, "feature-store.md", "exec"), namespace)
    assert namespace["recommend"].height >= 1
