"""scan_json / read_json / iter_json against a real Redis Stack server.

Ground truth is written with redis-py's ``json().set``; expected frames are
built by Polars itself from the same Python values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import string
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from redis_servers import RedisServer

import polars_redis as pr

UTC = dt.timezone.utc

USER_SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "age": pl.Int64,
    "score": pl.Float64,
    "active": pl.Boolean,
    "address": pl.Struct({"city": pl.String, "zip": pl.String}),
    "tags": pl.List(pl.String),
    "created": pl.Datetime("ms", "UTC"),
}

USERS = {
    "user:1": {
        "name": "Alice",
        "age": 36,
        "score": 9.5,
        "active": True,
        "address": {"city": "Oslo", "zip": "0150"},
        "tags": ["admin", "ops"],
        "created": "2024-01-02T03:04:05.123Z",
        "extra": {"ignored": [1, 2, 3]},
    },
    "user:2": {
        "name": "Bob",
        "age": 7,
        "score": -1.25,
        "active": False,
        "address": {"zip": "9"},
        "tags": [],
        "created": "2023-12-31T23:59:59+01:00",
    },
    "user:3": {"name": None, "age": None, "address": None, "tags": None},
}


def expected_users(keys: list[str]) -> pl.DataFrame:
    rows = []
    for key in keys:
        doc = USERS[key]
        row: dict[str, Any] = {"_key": key}
        for name in USER_SCHEMA:
            value = doc.get(name)
            if name == "created" and value is not None:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            if name == "address" and value is not None:
                value = {"city": value.get("city"), "zip": value.get("zip")}
            row[name] = value
        rows.append(row)
    return pl.DataFrame(rows, schema={"_key": pl.String, **USER_SCHEMA}, orient="row")


@pytest.fixture
def users(stack_client: Any, stack_url: str) -> str:
    for key, doc in USERS.items():
        stack_client.json().set(key, "$", doc)
    return stack_url


@pytest.fixture
def command_log(stack_server: RedisServer) -> Iterator[CommandLog]:
    log = CommandLog(stack_server)
    try:
        yield log
    finally:
        log.close()


class CommandLog:
    """Every command the server runs, with its arguments, via SLOWLOG
    (threshold 0 logs everything)."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.saved = server.execute("CONFIG", "GET", "slowlog-*")
        server.execute("CONFIG", "SET", "slowlog-log-slower-than", "0")
        server.execute("CONFIG", "SET", "slowlog-max-len", "100000")
        server.execute("SLOWLOG", "RESET")

    def commands(self, name: str) -> list[list[bytes]]:
        entries = self.server.execute("SLOWLOG", "GET", "-1")
        found = [[bytes(a) for a in e[3]] for e in reversed(entries)]
        return [args for args in found if args[0].upper() == name.encode()]

    def close(self) -> None:
        saved = dict(zip(self.saved[::2], self.saved[1::2]))
        for name, value in saved.items():
            self.server.execute("CONFIG", "SET", name, value)
        self.server.execute("SLOWLOG", "RESET")


def collect_both(lf: pl.LazyFrame) -> pl.DataFrame:
    """Collect with both engines, check they agree with each other and with
    the declared schema, and return the result."""
    default = lf.collect()
    streaming = lf.collect(engine="streaming")
    assert default.schema == lf.collect_schema()
    assert_frame_equal(default, streaming)
    return default


# --- reading documents -------------------------------------------------------


def test_reads_documents_with_nested_fields(users: str) -> None:
    df = collect_both(pr.scan_json(users, "user:*", USER_SCHEMA)).sort("_key")
    assert_frame_equal(df, expected_users(["user:1", "user:2", "user:3"]))


@pytest.mark.parametrize("fetch", ["auto", "document", "paths"])
def test_fetch_modes_agree(users: str, fetch: str) -> None:
    df = collect_both(pr.scan_json(users, "user:*", USER_SCHEMA, fetch=fetch))  # type: ignore[arg-type]
    assert_frame_equal(df.sort("_key"), expected_users(["user:1", "user:2", "user:3"]))


def test_every_scalar_dtype(stack_client: Any, stack_url: str) -> None:
    doc = {
        "i8": -128,
        "i16": 32767,
        "i32": -2147483648,
        "i64": -9223372036854775808,
        "u8": 255,
        "u16": 65535,
        "u32": 4294967295,
        "u64": 18446744073709551615,
        "f32": 1.5,
        "f64": 0.1,
        "f64_int": 3,
        "b": True,
        "s": 'tab\t "quote" é 😀',
        "date_s": "2024-02-29",
        "date_n": 19000 * 86400,  # epoch seconds (formats= below)
        "dt_ms": "2024-01-02T03:04:05.123Z",
        "dt_us": "2024-01-02 03:04:05.123456",
        "dt_ns_n": 1_700_000_000_123_456_789,
        "dt_tz": "2024-07-01T12:00:00",
        "time_s": "12:34:56.789",
        "time_n": 3_600_000_000_000,
        "dur": 1500,
        "dec_n": 12.34,
        "dec_s": "-0.05",
        "cat": "x",
        "enum": "b",
        "bin": "bytes",
    }
    schema: dict[str, Any] = {
        "i8": pl.Int8,
        "i16": pl.Int16,
        "i32": pl.Int32,
        "i64": pl.Int64,
        "u8": pl.UInt8,
        "u16": pl.UInt16,
        "u32": pl.UInt32,
        "u64": pl.UInt64,
        "f32": pl.Float32,
        "f64": pl.Float64,
        "f64_int": pl.Float64,
        "b": pl.Boolean,
        "s": pl.String,
        "date_s": pl.Date,
        "date_n": pl.Date,
        "dt_ms": pl.Datetime("ms", "UTC"),
        "dt_us": pl.Datetime("us"),
        "dt_ns_n": pl.Datetime("ns"),
        "dt_tz": pl.Datetime("ms", "Europe/Amsterdam"),
        "time_s": pl.Time,
        "time_n": pl.Time,
        "dur": pl.Duration("ms"),
        "dec_n": pl.Decimal(10, 2),
        "dec_s": pl.Decimal(10, 2),
        "cat": pl.Categorical,
        "enum": pl.Enum(["a", "b"]),
        "bin": pl.Binary,
        "missing": pl.Int64,
    }
    stack_client.json().set("t:1", "$", doc)
    stack_client.json().set("t:2", "$", {name: None for name in doc})
    expected = pl.DataFrame(
        [
            {
                **{k: doc[k] for k in ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")},
                "f32": 1.5,
                "f64": 0.1,
                "f64_int": 3.0,
                "b": True,
                "s": doc["s"],
                "date_s": dt.date(2024, 2, 29),
                "date_n": dt.date(1970, 1, 1) + dt.timedelta(days=19000),
                "dt_ms": dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC),
                "dt_us": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
                "dt_ns_n": None,
                "dt_tz": dt.datetime(2024, 7, 1, 10, 0, tzinfo=UTC),
                "time_s": dt.time(12, 34, 56, 789000),
                "time_n": dt.time(1),
                "dur": dt.timedelta(milliseconds=1500),
                "dec_n": Decimal("12.34"),
                "dec_s": Decimal("-0.05"),
                "cat": "x",
                "enum": "b",
                "bin": b"bytes",
                "missing": None,
            },
            dict.fromkeys(schema),
        ],
        schema=schema,
        orient="row",
    ).with_columns(
        # Nanosecond precision survives only as an integer count.
        pl.Series("dt_ns_n", [1_700_000_000_123_456_789, None], pl.Int64).cast(pl.Datetime("ns"))
    )
    # JSON numbers are epoch counts only where formats= says so.
    formats = {"date_n": "epoch_s", "dt_ns_n": "epoch_ns", "time_n": "epoch_ns"}
    lf = pr.scan_json(stack_url, "t:*", schema, include_key=False, formats=formats)
    df = collect_both(lf).sort("i8", nulls_last=True)
    assert_frame_equal(df, expected)


def test_nested_lists_and_structs(stack_client: Any, stack_url: str) -> None:
    schema: dict[str, Any] = {
        "items": pl.List(pl.Struct({"sku": pl.String, "qty": pl.Int32})),
        "owner": pl.Struct({"name": pl.String, "phones": pl.List(pl.String)}),
        "matrix": pl.List(pl.List(pl.Int64)),
        "deep": pl.Struct({"a": pl.Struct({"b": pl.List(pl.Struct({"c": pl.Float64}))})}),
        "labels": pl.List(pl.Enum(["x", "y"])),
    }
    docs = [
        {
            "items": [{"sku": "a", "qty": 1}, {"qty": 2, "sku": "b", "other": 0}, {}],
            "owner": {"name": "Ann", "phones": ["1", "2"]},
            "matrix": [[1, 2], [], [3]],
            "deep": {"a": {"b": [{"c": 1.5}, {"c": None}]}},
            "labels": ["y", "x"],
        },
        {
            "items": [],
            "owner": {"phones": []},
            "matrix": [[None]],
            "deep": {"a": None},
            "labels": [],
        },
        {"items": None, "owner": None, "matrix": None, "deep": None, "labels": None},
    ]
    for i, doc in enumerate(docs):
        stack_client.json().set(f"n:{i}", "$", doc)
    expected = pl.DataFrame(
        [
            {
                "items": [
                    {"sku": "a", "qty": 1},
                    {"sku": "b", "qty": 2},
                    {"sku": None, "qty": None},
                ],
                "owner": {"name": "Ann", "phones": ["1", "2"]},
                "matrix": [[1, 2], [], [3]],
                "deep": {"a": {"b": [{"c": 1.5}, {"c": None}]}},
                "labels": ["y", "x"],
            },
            {
                "items": [],
                "owner": {"name": None, "phones": []},
                "matrix": [[None]],
                "deep": {"a": None},
                "labels": [],
            },
            docs[2],
        ],
        schema=schema,
    )
    df = collect_both(pr.scan_json(stack_url, "n:*", schema)).sort("_key").drop("_key")
    assert_frame_equal(df, expected)


def test_string_columns_hold_json_text_of_other_values(stack_client: Any, stack_url: str) -> None:
    stack_client.json().set(
        "j:1", "$", {"n": 12.5, "b": False, "o": {"k": [1, "x"]}, "a": [1, 2], "s": "plain"}
    )
    schema = dict.fromkeys(["n", "b", "o", "a", "s"], pl.String)
    df = pr.read_json(stack_url, keys=["j:1"], schema=schema, include_key=False)
    assert df.row(0) == ("12.5", "false", '{"k":[1,"x"]}', "[1,2]", "plain")


# --- paths ---------------------------------------------------------------------


def test_paths_give_columns_their_own_jsonpath(users: str) -> None:
    schema = {
        "name": pl.String,
        "city": pl.String,
        "first_tag": pl.String,
        "all_tags": pl.List(pl.String),
        "zips": pl.List(pl.String),
    }
    paths = {
        "city": "$.address.city",
        "first_tag": "$.tags[0]",
        "all_tags": "$.tags[*]",
        "zips": "$..zip",
    }
    lf = pr.scan_json(users, "user:*", schema, paths=paths)
    df = collect_both(lf).sort("_key")
    assert df.to_dicts() == [
        {
            "_key": "user:1",
            "name": "Alice",
            "city": "Oslo",
            "first_tag": "admin",
            "all_tags": ["admin", "ops"],
            "zips": ["0150"],
        },
        {
            "_key": "user:2",
            "name": "Bob",
            "city": None,
            "first_tag": None,
            "all_tags": [],
            "zips": ["9"],
        },
        {
            "_key": "user:3",
            "name": None,
            "city": None,
            "first_tag": None,
            "all_tags": [],
            "zips": [],
        },
    ]


@pytest.mark.parametrize("fetch", ["document", "paths"])
def test_columns_sharing_a_path(users: str, fetch: str) -> None:
    schema = {"name": pl.String, "age": pl.Int64, "alias": pl.String, "raw": pl.String}
    paths = {"alias": "$.name", "raw": "$"}
    lf = pr.scan_json(users, "user:*", schema, paths=paths, fetch=fetch)  # type: ignore[arg-type]
    df = collect_both(lf).sort("_key")
    assert df["alias"].to_list() == df["name"].to_list() == ["Alice", "Bob", None]
    assert df["age"].to_list() == [36, 7, None]
    assert [json.loads(raw) for raw in df["raw"]] == [USERS[k] for k in df["_key"]]


def test_root_path_reads_members_of_a_nested_object(stack_client: Any, stack_url: str) -> None:
    stack_client.json().set("r:1", "$", {"user": {"name": "Ann", "id": 1}, "meta": 5})
    stack_client.json().set("r:2", "$", {"meta": 6})
    schema = {"name": pl.String, "id": pl.Int64, "meta": pl.Int64}
    for fetch in ("document", "paths"):
        lf = pr.scan_json(
            stack_url,
            "r:*",
            schema,
            path="$.user",
            paths={"meta": "$.meta"},
            fetch=fetch,  # type: ignore[arg-type]
        )
        df = collect_both(lf).sort("_key")
        assert df.rows() == [("r:1", "Ann", 1, 5), ("r:2", None, None, 6)], fetch


def test_odd_member_names_in_both_fetch_modes(stack_client: Any, stack_url: str) -> None:
    doc = {"na me": 1, 'q"t': 2, "1st": 3, "é": 4, "a.b": 5, "plain": 6}
    stack_client.json().set("odd:1", "$", doc)
    schema = dict.fromkeys(doc, pl.Int64)
    for fetch in ("document", "paths"):
        df = pr.read_json(stack_url, keys=["odd:1"], schema=schema, include_key=False, fetch=fetch)
        assert df.row(0) == (1, 2, 3, 4, 5, 6), fetch


def test_several_matches_for_a_scalar_column(users: str) -> None:
    lf = pr.scan_json(users, keys=["user:1"], schema={"tag": pl.String}, paths={"tag": "$.tags[*]"})
    with pytest.raises(
        pr.ParseError, match=r'"user:1", field `tag`: cannot parse \["admin","ops"\]'
    ):
        lf.collect()
    lenient = pr.scan_json(
        users,
        keys=["user:1", "user:2"],
        schema={"tag": pl.String},
        paths={"tag": "$.tags[*]"},
        strict=False,
    )
    assert lenient.collect()["tag"].to_list() == [None, None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paths": {"nope": "$.x"}}, "column `nope` is not in the schema"),
        ({"paths": {"name": "name"}}, "must start with `\\$`"),
        ({"path": "$..user"}, "can select several values"),
        ({"path": "user"}, "must start with `\\$`"),
        ({"fetch": "hgetall"}, "fetch must be"),
        ({"paths": ["name"]}, "paths must be a mapping"),
    ],
)
def test_invalid_path_arguments(stack_url: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(pr.InvalidInputError, match=message):
        pr.scan_json(stack_url, "x:*", {"name": pl.String}, **kwargs)


# --- pushdown --------------------------------------------------------------------

ALL_COLUMNS = ["_key", *USER_SCHEMA]


@pytest.mark.parametrize(
    "columns",
    [
        list(c)
        for n in (1, 2, 3)
        for c in itertools.combinations(["_key", "name", "address", "tags", "created"], n)
    ],
)
def test_every_projection_is_right(users: str, columns: list[str]) -> None:
    lf = pr.scan_json(users, "user:*", USER_SCHEMA)
    df = collect_both(lf.select(columns))
    expected = expected_users(["user:1", "user:2", "user:3"]).select(columns)
    assert_frame_equal(df.sort(columns, nulls_last=True), expected.sort(columns, nulls_last=True))


def json_get_paths(log: CommandLog) -> set[tuple[bytes, ...]]:
    return {tuple(args[2:]) for args in log.commands("JSON.GET")}


def test_projection_sends_only_needed_paths(users: str, command_log: CommandLog) -> None:
    lf = pr.scan_json(users, "user:*", USER_SCHEMA)
    lf.select("name", "age").collect()
    assert json_get_paths(command_log) == {(b"$.name", b"$.age")}

    command_log.server.execute("SLOWLOG", "RESET")
    lf.select("age").collect()
    assert json_get_paths(command_log) == {(b"$.age",)}

    # Most fields needed: one path, the whole document.
    command_log.server.execute("SLOWLOG", "RESET")
    lf.collect()
    assert json_get_paths(command_log) == {(b"$",)}
    assert len(command_log.commands("JSON.GET")) == len(USERS)

    # Only the key: TYPE tells existence, no document is read.
    command_log.server.execute("SLOWLOG", "RESET")
    assert sorted(lf.select("_key").collect()["_key"]) == sorted(USERS)
    assert command_log.commands("JSON.GET") == []
    assert len(command_log.commands("TYPE")) == len(USERS)


def test_column_paths_are_pushed_down(users: str, command_log: CommandLog) -> None:
    schema = {"name": pl.String, "city": pl.String}
    lf = pr.scan_json(users, "user:*", schema, paths={"city": "$.address.city"})
    df = lf.select("city").collect()
    assert df["city"].sort(nulls_last=True).to_list() == ["Oslo", None, None]
    assert json_get_paths(command_log) == {(b"$.address.city",)}


def test_key_filter_becomes_a_lookup(users: str, command_log: CommandLog) -> None:
    lf = pr.scan_json(users, "user:*", USER_SCHEMA)
    df = lf.filter(pl.col("_key") == "user:2").select("name").collect()
    assert df["name"].to_list() == ["Bob"]
    assert [args[1] for args in command_log.commands("JSON.GET")] == [b"user:2"]
    assert command_log.commands("SCAN") == []


# --- keys, types, options ----------------------------------------------------------


def test_empty_result_keeps_schema(stack_url: str) -> None:
    lf = pr.scan_json(stack_url, "none:*", USER_SCHEMA, include_ttl=True, include_row_index=True)
    df = collect_both(lf)
    assert df.height == 0
    assert df.schema == pl.Schema(
        {"_index": pl.UInt32, "_key": pl.String, **USER_SCHEMA, "_ttl": pl.Int64}
    )
    assert list(pr.iter_json(stack_url, "none:*", USER_SCHEMA)) == []


def test_wrong_type_keys_under_the_pattern_are_not_fetched(
    users: str, stack_client: Any, command_log: CommandLog
) -> None:
    stack_client.set("user:str", "x")
    stack_client.hset("user:hash", mapping={"name": "h"})
    stack_client.rpush("user:list", "a")
    command_log.server.execute("SLOWLOG", "RESET")
    df = pr.read_json(users, "user:*", USER_SCHEMA)
    assert sorted(df["_key"]) == sorted(USERS)
    fetched = {args[1] for args in command_log.commands("JSON.GET")}
    assert fetched == {k.encode() for k in USERS}


def test_explicit_wrong_type_key_is_an_error(users: str, stack_client: Any) -> None:
    stack_client.hset("user:hash", mapping={"name": "h"})
    lf = pr.scan_json(users, keys=["user:1", "user:hash"], schema=USER_SCHEMA)
    with pytest.raises(pr.WrongTypeError, match='key "user:hash" holds a hash, not a ReJSON-RL'):
        lf.collect()
    # Also when no value column is read (TYPE only).
    with pytest.raises(pr.WrongTypeError, match="user:hash"):
        lf.select("_key").collect()


def test_missing_keys_give_no_row(users: str) -> None:
    keys = ["user:2", "user:404", "user:1", "user:2", "gone"]
    df = collect_both(pr.scan_json(users, keys=keys, schema=USER_SCHEMA))
    assert_frame_equal(df, expected_users(["user:2", "user:1"]))
    only_key = pr.scan_json(users, keys=keys, schema=USER_SCHEMA).select("_key").collect()
    assert only_key["_key"].to_list() == ["user:2", "user:1"]


def test_non_utf8_keys(stack_client: Any, stack_url: str) -> None:
    key = b"bin:\xff\x00"
    stack_client.json().set(key, "$", {"name": "raw"})
    schema = {"name": pl.String}
    with pytest.raises(pr.ParseError, match=r'key "bin:\\xff'):
        pr.read_json(stack_url, keys=[key], schema=schema)
    assert pr.read_json(stack_url, keys=[key], schema=schema, strict=False).rows() == [
        (None, "raw")
    ]
    assert pr.read_json(stack_url, b"bin:*", schema, include_key=False).rows() == [("raw",)]


def test_strict_errors_name_key_field_and_value(stack_client: Any, stack_url: str) -> None:
    stack_client.json().set(
        "bad:1",
        "$",
        {
            "n": 1.5,
            "big": 300,
            "tags": [1, "x", 3],
            "o": {"when": "2024-13-01", "ok": 1},
            "flag": "yes",
            "e": "zzz",
        },
    )
    schema: dict[str, Any] = {
        "n": pl.Int64,
        "big": pl.UInt8,
        "tags": pl.List(pl.Int64),
        "o": pl.Struct({"when": pl.Date, "ok": pl.Int64}),
        "flag": pl.Boolean,
        "e": pl.Enum(["a"]),
    }
    cases = {
        "n": '"bad:1", field `n`: cannot parse 1.5 as Int64',
        "big": '"bad:1", field `big`: cannot parse 300 as UInt8',
        "tags": '"bad:1", field `tags\\[1\\]`: cannot parse "x" as Int64',
        "o": '"bad:1", field `o.when`: cannot parse "2024-13-01" as Date',
        "flag": '"bad:1", field `flag`: cannot parse "yes" as Boolean',
        "e": '"bad:1", field `e`: cannot parse "zzz" as Enum',
    }
    lf = pr.scan_json(stack_url, keys=["bad:1"], schema=schema)
    for column, message in cases.items():
        with pytest.raises(pr.ParseError, match=message):
            lf.select(column).collect()
    lenient = pr.scan_json(stack_url, keys=["bad:1"], schema=schema, strict=False)
    row = collect_both(lenient).row(0, named=True)
    assert row == {
        "_key": "bad:1",
        "n": None,
        "big": None,
        "tags": [1, None, 3],
        "o": {"when": None, "ok": 1},
        "flag": None,
        "e": None,
    }


def test_root_that_is_not_an_object(stack_client: Any, stack_url: str) -> None:
    stack_client.json().set("scalar:1", "$", [1, 2])
    lf = pr.scan_json(stack_url, keys=["scalar:1"], schema={"a": pl.Int64}, fetch="document")
    with pytest.raises(pr.ParseError, match=r"field `\$`: cannot parse \[1,2\] as Object"):
        lf.collect()
    lenient = pr.scan_json(
        stack_url, keys=["scalar:1"], schema={"a": pl.Int64}, fetch="document", strict=False
    )
    assert lenient.collect().rows() == [("scalar:1", None)]


def test_row_limit_stops_early(stack_client: Any, stack_url: str, command_log: CommandLog) -> None:
    pipe = stack_client.pipeline()
    for i in range(200):
        pipe.json().set(f"many:{i:03}", "$", {"i": i})
    pipe.execute()
    command_log.server.execute("SLOWLOG", "RESET")
    lf = pr.scan_json(stack_url, "many:*", {"i": pl.Int64}, batch_size=10, parallelism=1)
    df = lf.head(5).collect()
    assert df.height == 5
    assert all(stack_client.json().get(k, "$.i")[0] == v for k, v in df.iter_rows())
    assert len(command_log.commands("JSON.GET")) < 50


def test_ttl_and_row_index(users: str, stack_client: Any) -> None:
    stack_client.expire("user:2", 1000)
    lf = pr.scan_json(
        users,
        "user:*",
        {"age": pl.Int64},
        include_ttl=True,
        ttl_column_name="left",
        include_row_index=True,
        row_index_column_name="i",
    )
    df = collect_both(lf)
    assert df.columns == ["i", "_key", "age", "left"]
    assert df["i"].to_list() == [0, 1, 2]
    ttl = dict(zip(df["_key"], df["left"]))
    assert ttl["user:1"] is None and ttl["user:3"] is None
    assert 990 <= ttl["user:2"] <= 1000
    assert lf.head(2).collect()["i"].to_list() == [0, 1]


def test_row_index_alone(users: str) -> None:
    lf = pr.scan_json(users, "user:*", USER_SCHEMA, include_row_index=True)
    assert collect_both(lf.select("_index"))["_index"].to_list() == [0, 1, 2]
    assert lf.select(pl.len()).collect().item() == len(USERS)


@pytest.mark.parametrize(
    ("include_key", "include_ttl", "include_row_index", "projection"),
    list(
        itertools.product(
            [True, False], [True, False], [True, False], [None, ["age"], ["tags", "name"]]
        )
    ),
)
def test_declared_schema_matches_every_option_combination(
    users: str,
    include_key: bool,
    include_ttl: bool,
    include_row_index: bool,
    projection: list[str] | None,
) -> None:
    lf = pr.scan_json(
        users,
        "user:*",
        USER_SCHEMA,
        include_key=include_key,
        include_ttl=include_ttl,
        include_row_index=include_row_index,
    )
    if projection is not None:
        lf = lf.select(projection)
    df = collect_both(lf)
    assert df.height == len(USERS)
    assert df.schema == lf.collect_schema()


def test_iter_json_yields_bounded_batches(stack_client: Any, stack_url: str) -> None:
    pipe = stack_client.pipeline()
    for i in range(25):
        pipe.json().set(f"it:{i}", "$", {"i": i, "l": [i]})
    pipe.execute()
    schema = {"i": pl.Int64, "l": pl.List(pl.Int64)}
    batches = list(pr.iter_json(stack_url, "it:*", schema, batch_size=4))
    assert all(b.height <= 4 for b in batches)
    df = pl.concat(batches)
    assert sorted(df["i"]) == list(range(25))
    assert all(row["l"] == [row["i"]] for row in df.iter_rows(named=True))


def test_set_members_reject_nested_dtypes(redis_url: str) -> None:
    # Hash fields read nested dtypes from JSON text (issue 11, item 10,
    # tests/test_nested_hashes.py); set members stay flat text.
    for dtype in (pl.List(pl.Int64), pl.Struct({"a": pl.Int64})):
        with pytest.raises(pr.InvalidInputError, match="field `member`"):
            pr.scan_sets(redis_url, "h:*", member_type=dtype)


def test_without_a_schema_nothing_to_infer_is_a_clear_error(stack_url: str) -> None:
    with pytest.raises(pr.SchemaInferenceError, match=r'no JSON document matches pattern "x:\*"'):
        pr.scan_json(stack_url, "x:*")
    with pytest.raises(pr.SchemaInferenceError):
        next(pr.iter_json(stack_url, "x:*"))


def test_unsupported_nested_dtype_names_the_field(stack_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="field `arr`"):
        pr.scan_json(stack_url, "x:*", {"arr": pl.Array(pl.Int64, 0)})
    with pytest.raises(pr.InvalidInputError, match="field 'deep'"):
        pr.scan_json(stack_url, "x:*", {"deep": pl.List(pl.Object)})


# --- property test -----------------------------------------------------------------

TEXT = st.text(alphabet=string.printable + "é😀\u2028\x00", max_size=12)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "k": st.none() | TEXT,
        "v": st.none() | st.integers(-(2**63), 2**63 - 1),
    },
)
DOC = st.fixed_dictionaries(
    {},
    optional={
        "s": st.none() | TEXT,
        "f": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "b": st.none() | st.booleans(),
        "items": st.none() | st.lists(ITEM, max_size=4),
        "nested": st.none()
        | st.fixed_dictionaries({}, optional={"xs": st.lists(TEXT, max_size=3)}),
    },
)
PROPERTY_SCHEMA: dict[str, Any] = {
    "s": pl.String,
    "f": pl.Float64,
    "b": pl.Boolean,
    "items": pl.List(pl.Struct({"k": pl.String, "v": pl.Int64})),
    "nested": pl.Struct({"xs": pl.List(pl.String)}),
}


def normalize(doc: dict[str, Any]) -> dict[str, Any]:
    items = doc.get("items")
    nested = doc.get("nested")
    return {
        "s": doc.get("s"),
        "f": doc.get("f"),
        "b": doc.get("b"),
        "items": None if items is None else [{"k": i.get("k"), "v": i.get("v")} for i in items],
        "nested": None if nested is None else {"xs": nested.get("xs")},
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=st.lists(DOC, min_size=1, max_size=6))
def test_random_documents_round_trip(
    stack_server: RedisServer, stack_client: Any, docs: list[dict[str, Any]]
) -> None:
    stack_server.flushall()
    for i, doc in enumerate(docs):
        stack_client.json().set(f"p:{i}", "$", doc)
    expected = pl.DataFrame([normalize(d) for d in docs], schema=PROPERTY_SCHEMA, orient="row")
    for fetch in ("document", "paths"):
        df = pr.read_json(
            stack_server.url,
            keys=[f"p:{i}" for i in range(len(docs))],
            schema=PROPERTY_SCHEMA,
            include_key=False,
            fetch=fetch,
        )
        assert_frame_equal(df, expected)
