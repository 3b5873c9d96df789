"""scan_streams / read_streams / iter_streams against a real Redis 7.0.

Ground truth is written and read back with redis-py (``xadd`` / ``xrange``).
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from datetime import datetime, timezone
from typing import Any

import polars as pl
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from redis_servers import cli_binary

import polars_redis as pr

SCHEMA = {"user": pl.String, "amount": pl.Float64, "n": pl.Int64}
TS = pl.Datetime("ms")


def calls(client: Any, command: str) -> int:
    """How often the server ran ``command`` (INFO commandstats)."""
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def truth(client: Any, keys: list[str], schema: dict[str, Any], **xrange: Any) -> pl.DataFrame:
    """What scan_streams should return, from redis-py ``xrange``."""
    rows: dict[str, list[Any]] = {"_key": [], "_id": [], "_ts": [], "_seq": []}
    rows.update({name: [] for name in schema})
    for key in keys:
        for entry_id, fields in client.xrange(key, **xrange):
            ms, seq = entry_id.decode().split("-")
            rows["_key"].append(key)
            rows["_id"].append(entry_id.decode())
            rows["_ts"].append(int(ms))
            rows["_seq"].append(int(seq))
            for name, dtype in schema.items():
                value = fields.get(name.encode())
                rows[name].append(value if dtype == pl.Binary or value is None else value.decode())
    frame = pl.DataFrame(rows, schema_overrides={"_ts": pl.Int64, "_seq": pl.UInt64})
    return frame.with_columns(
        pl.col("_ts").cast(TS),
        *[pl.col(name).cast(dtype) for name, dtype in schema.items() if dtype != pl.Binary],
    )


@pytest.fixture
def events(redis_client: Any) -> list[str]:
    """Three streams (one emptied), plus keys of other types under the same prefix."""
    r = redis_client
    for i in range(1, 26):
        fields = {"user": f"u{i % 4}", "amount": str(i * 1.25), "n": str(i)}
        if i % 5 == 0:
            del fields["amount"]  # missing field -> null
        if i % 7 == 0:
            fields["extra"] = "ignored"
        r.xadd("ev:a", fields, id=f"{1000 + i // 3}-{i % 3}")
    for i in range(1, 4):
        r.xadd("ev:b", {"user": f"b{i}", "n": str(-i)}, id=f"{2000 + i}-0")
    r.xadd("ev:empty", {"n": "1"}, id="1-1")
    r.xdel("ev:empty", "1-1")
    r.hset("ev:hash", mapping={"user": "h"})
    r.set("ev:string", "s")
    r.rpush("ev:list", "x")
    return ["ev:a", "ev:b", "ev:empty"]


def test_reads_entries_like_xrange(redis_url: str, redis_client: Any, events: list[str]) -> None:
    xlen_before = calls(redis_client, "xlen")
    others = ("hgetall", "get", "lrange", "type")
    others_before = {c: calls(redis_client, c) for c in others}
    lf = pr.scan_streams(redis_url, "ev:*", SCHEMA, include_sequence=True, batch_size=4)
    expected = truth(redis_client, events, SCHEMA)
    assert expected.height == 28
    for engine in ("auto", "streaming"):
        got = lf.collect(engine=engine)  # type: ignore[call-overload]
        assert_frame_equal(got.sort("_key", "_id"), expected.sort("_key", "_id"))
    # SCAN ... TYPE stream: only the three streams were probed, twice.
    assert calls(redis_client, "xlen") - xlen_before == 6
    for other in others:
        assert calls(redis_client, other) == others_before[other], other


def test_rows_come_stream_by_stream_in_id_order(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    got = pr.read_streams(redis_url, keys=["ev:b", "ev:a"], schema=SCHEMA, batch_size=3)
    expected = pl.concat([truth(redis_client, [k], SCHEMA) for k in ("ev:b", "ev:a")])
    assert_frame_equal(got, expected.drop("_seq"))


def test_missing_keys_give_no_row_and_other_types_raise(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    got = pr.read_streams(redis_url, keys=["nope", "ev:b", "ev:b"], schema=SCHEMA)
    assert got["_key"].to_list() == ["ev:b"] * 3
    with pytest.raises(pr.WrongTypeError, match='key "ev:hash" holds a hash, not a stream'):
        pr.read_streams(redis_url, keys=["ev:b", "ev:hash"], schema=SCHEMA)


@pytest.mark.parametrize(
    ("include_key", "include_id", "include_timestamp", "include_sequence", "include_ttl"),
    list(itertools.product([True, False], repeat=5)),
)
@pytest.mark.parametrize("include_row_index", [True, False])
def test_declared_schema_matches_frames_for_every_option(
    redis_url: str,
    redis_client: Any,
    include_key: bool,
    include_id: bool,
    include_timestamp: bool,
    include_sequence: bool,
    include_ttl: bool,
    include_row_index: bool,
) -> None:
    redis_client.xadd("s", {"n": "1", "c": "x"}, id="5-1")
    redis_client.expire("s", 1000)
    options = {
        "include_key": include_key,
        "include_id": include_id,
        "include_timestamp": include_timestamp,
        "include_sequence": include_sequence,
        "include_ttl": include_ttl,
        "include_row_index": include_row_index,
    }
    schema = {"n": pl.Int64, "c": pl.Categorical, "e": pl.Enum(["x", "y"])}
    lf = pr.scan_streams(redis_url, "s", schema, **options)
    expected_columns = [
        name
        for name, on in [
            ("_index", include_row_index),
            ("_key", include_key),
            ("_id", include_id),
            ("_ts", include_timestamp),
            ("_seq", include_sequence),
            ("n", True),
            ("c", True),
            ("e", True),
            ("_ttl", include_ttl),
        ]
        if on
    ]
    declared = lf.collect_schema()
    assert declared.names() == expected_columns
    for engine in ("auto", "streaming"):
        df = lf.collect(engine=engine)  # type: ignore[call-overload]
        assert df.schema == declared
        assert df.height == 1
        # Counting reads only the first column (the row index, if any).
        assert lf.select(pl.len()).collect(engine=engine).item() == 1  # type: ignore[call-overload]
        empty = lf.filter(pl.col("n") > 5).collect(engine=engine)  # type: ignore[call-overload]
        assert empty.schema == declared and empty.height == 0
    nothing = pr.scan_streams(redis_url, "none:*", schema, **options).collect()
    assert nothing.schema == declared and nothing.height == 0
    if include_ttl:
        assert 0 < df["_ttl"][0] <= 1000


def test_values_parse_by_the_type_table_and_binary_keeps_bytes(
    redis_url: str, redis_client: Any
) -> None:
    raw = b"\xff\x00caf\xc3\xa9"
    redis_client.xadd(
        "t", {"b": raw, "s": "ok", "d": "2024-02-29", "f": "1e3", "flag": "yes"}, id="1-1"
    )
    redis_client.xadd("t", {"b": b"", "s": raw}, id="1-2")
    schema = {"b": pl.Binary, "s": pl.String, "d": pl.Date, "f": pl.Float32, "flag": pl.Boolean}
    with pytest.raises(pr.ParseError) as info:
        pr.read_streams(redis_url, keys=["t"], schema=schema)
    message = str(info.value)
    assert 'key "t"' in message and "field `s`" in message
    assert 'cannot parse "\\xff\\u{0}café" as String (entry 1-2)' in message
    got = pr.read_streams(redis_url, keys=["t"], schema=schema, strict=False)
    assert got["b"].to_list() == [raw, b""]
    assert got["s"].to_list() == ["ok", None]
    assert got["d"].to_list()[0].isoformat() == "2024-02-29"
    assert got["f"].to_list() == [1000.0, None]
    assert got["flag"].to_list() == [True, None]


def test_id_ranges_and_counts_match_xrange(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    schema = {"n": pl.Int64}
    cases = [
        ({"start_id": "1003", "end_id": "(1006-1"}, {"min": "1003", "max": "(1006-1"}),
        ({"start_id": "(1004-2", "end_id": "+"}, {"min": "(1004-2", "max": "+"}),
        ({"start_id": "(1004", "end_id": "(1005"}, {"min": "(1004", "max": "(1005"}),
        ({"end_id": 1002}, {"max": "1002"}),
        ({"start_id": datetime(1970, 1, 1, 0, 0, 2, 2000)}, {"min": "2002"}),
        ({"count_per_stream": 2}, {"count": 2}),
        ({"start_id": "1007", "count_per_stream": 4}, {"min": "1007", "count": 4}),
    ]
    for options, xrange in cases:
        got = pr.read_streams(redis_url, keys=events, schema=schema, batch_size=2, **options)
        assert_frame_equal(got, truth(redis_client, events, schema, **xrange).drop("_seq"))


def test_id_bounds_are_read_like_redis(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    """Any XRANGE bound spelling selects what XRANGE itself selects."""
    ms = st.integers(min_value=999, max_value=1010).map(str)
    full = st.tuples(ms, st.integers(min_value=0, max_value=3)).map(lambda t: f"{t[0]}-{t[1]}")
    bound = st.tuples(st.sampled_from(["", "("]), st.one_of(ms, full)).map("".join)

    @settings(max_examples=60, deadline=None)
    @given(start=st.one_of(st.just("-"), bound), end=st.one_of(st.just("+"), bound))
    def check(start: str, end: str) -> None:
        read = {"keys": ["ev:a"], "schema": {}, "start_id": start, "end_id": end}
        try:
            expected = [i.decode() for i, _ in redis_client.xrange("ev:a", min=start, max=end)]
        except Exception:  # Redis rejects it: so must we
            with pytest.raises(pr.InvalidInputError):
                pr.read_streams(redis_url, **read)
            return
        assert pr.read_streams(redis_url, **read)["_id"].to_list() == expected

    check()


def test_timestamp_pushdown_returns_exactly_full_read_then_filter(
    redis_url: str, redis_client: Any
) -> None:
    pipe = redis_client.pipeline(transaction=False)
    for i in range(3000):
        pipe.xadd("p:1", {"i": str(i)}, id=f"{1000 + i // 2}-{i % 2}")
        if i % 3 == 0:
            pipe.xadd("p:2", {"i": str(i)}, id=f"{1000 + i}-7")
    pipe.execute()
    lf = pr.scan_streams(redis_url, "p:*", {"i": pl.Int64}, batch_size=250)
    before = calls(redis_client, "xrange")
    full = lf.collect()
    full_pages = calls(redis_client, "xrange") - before
    counted = pr.scan_streams(redis_url, "p:*", {"i": pl.Int64}, count_per_stream=700)
    counted_full = counted.collect()

    def instant(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).replace(tzinfo=None)

    bound = st.integers(min_value=900, max_value=4100)
    op = st.sampled_from([">", ">=", "<", "<=", "=="])

    def predicate(parts: list[tuple[str, int]], conjunction: str) -> pl.Expr:
        ts = pl.col("_ts")
        exprs = []
        for symbol, ms in parts:
            value = instant(ms)
            exprs.append(
                {
                    ">": ts > value,
                    ">=": ts >= value,
                    "<": ts < value,
                    "<=": ts <= value,
                    "==": ts == value,
                }[symbol]
            )
        combined = exprs[0]
        for expr in exprs[1:]:
            combined = combined & expr if conjunction == "and" else combined | expr
        return combined

    @settings(max_examples=80, deadline=None)
    @given(
        parts=st.lists(st.tuples(op, bound), min_size=1, max_size=3),
        conjunction=st.sampled_from(["and", "or"]),
        between=st.one_of(st.none(), st.tuples(bound, bound)),
    )
    def check(
        parts: list[tuple[str, int]], conjunction: str, between: tuple[int, int] | None
    ) -> None:
        expr = predicate(parts, conjunction)
        if between is not None:
            expr = expr & pl.col("_ts").is_between(instant(between[0]), instant(between[1]))
        xrange_before = calls(redis_client, "xrange")
        pushed = lf.filter(expr).collect()
        assert_frame_equal(pushed, full.filter(expr))
        if pushed.is_empty():
            return
        # Narrower bounds never read more pages than the full read.
        assert calls(redis_client, "xrange") - xrange_before <= full_pages
        assert_frame_equal(counted.filter(expr).collect(), counted_full.filter(expr))

    check()
    # And the pushdown does narrow: one page per stream for a 50 ms window.
    window = pl.col("_ts").is_between(instant(1100), instant(1149))
    before = calls(redis_client, "xrange")
    assert_frame_equal(lf.filter(window).collect(), full.filter(window))
    assert calls(redis_client, "xrange") - before == 2
    assert full_pages > 10


def test_limit_counts_rows_and_stops_reading(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    lf = pr.scan_streams(redis_url, keys=events, schema=SCHEMA, batch_size=10)
    before = calls(redis_client, "xrange")
    head = lf.head(3).collect()
    assert head["_id"].to_list() == ["1000-1", "1000-2", "1001-0"]
    assert calls(redis_client, "xrange") - before == 1
    assert lf.head(27).collect().height == 27  # across two streams
    indexed = pr.scan_streams(redis_url, keys=events, schema=SCHEMA, include_row_index=True).head(4)
    assert indexed.collect()["_index"].to_list() == [0, 1, 2, 3]


def test_key_predicates_read_only_matching_streams(
    redis_url: str, redis_client: Any, events: list[str]
) -> None:
    lf = pr.scan_streams(redis_url, "ev:*", SCHEMA)
    before = calls(redis_client, "xlen")
    got = lf.filter(pl.col("_key") == "ev:b").collect()
    assert got.height == 3
    assert calls(redis_client, "xlen") - before == 1


def test_invalid_arguments_raise_clear_errors(redis_url: str) -> None:
    # schema=None infers (tests/test_infer_streams.py); no stream to sample is an error.
    with pytest.raises(pr.SchemaInferenceError, match="no stream matches"):
        pr.scan_streams(redis_url, "s:*")
    with pytest.raises(pr.InvalidInputError, match="start_id"):
        pr.scan_streams(redis_url, "s:*", SCHEMA, start_id="yesterday")
    with pytest.raises(pr.InvalidInputError, match="end_id"):
        pr.scan_streams(redis_url, "s:*", SCHEMA, end_id="(+")
    for count in (0, -1, 2.5):
        with pytest.raises(pr.InvalidInputError, match="count_per_stream"):
            pr.scan_streams(redis_url, "s:*", SCHEMA, count_per_stream=count)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="not both"):
        pr.scan_streams(redis_url, "s:*", SCHEMA, keys=["a"])
    with pytest.raises(pr.InvalidInputError, match="`_id` appears twice"):
        pr.scan_streams(redis_url, "s:*", {"_id": pl.String})
    # Without the id column, an entry field may take its name.
    assert pr.scan_streams(redis_url, "s:*", {"_id": pl.String}, include_id=False).collect_schema()


def _pipe_entries(port: int, key: str, count: int) -> None:
    """Write ``count`` entries with ``redis-cli --pipe``: ids 1-0 ... count-0,
    ``n`` = 0 ... count-1 and a 40-byte payload."""
    cli = subprocess.Popen(
        [cli_binary(), "-p", str(port), "--pipe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert cli.stdin is not None
    payload = b"p" * 40
    k = key.encode()
    chunk: list[bytes] = []
    for i in range(count):
        entry_id, n = f"{i + 1}-0".encode(), str(i).encode()
        parts = [b"XADD", k, entry_id, b"n", n, b"payload", payload]
        chunk.append(b"*7\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        if len(chunk) == 10_000:
            cli.stdin.write(b"".join(chunk))
            chunk.clear()
    cli.stdin.write(b"".join(chunk))
    cli.stdin.close()
    out = cli.stdout.read().decode() if cli.stdout else ""
    assert cli.wait() == 0, out
    assert "errors: 0" in out, out


def test_a_million_entries_read_with_bounded_memory(
    redis_server: Any, redis_url: str, redis_client: Any
) -> None:
    entries = 1_000_000
    _pipe_entries(redis_server.port, "big", entries)
    assert redis_client.xlen("big") == entries
    schema = {"n": pl.Int64, "payload": pl.String}

    def check(batch: pl.DataFrame, first: int) -> None:
        assert batch.height <= 1000
        # Every entry once, in order: no gap or repeat at page boundaries.
        n = batch["n"]
        assert n[0] == first and n[-1] == first + batch.height - 1
        assert (n.diff().drop_nulls() == 1).all()

    # Warm up (thread pools, allocator arenas) on the first 50k entries, so
    # the baseline includes what any read costs once.
    warm = 0
    for batch in pr.iter_streams(redis_url, keys=["big"], schema=schema, end_id="50000"):
        check(batch, warm)
        warm += batch.height
    assert warm == 50_000
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            stop.wait(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    xrange_before = calls(redis_client, "xrange")
    rows = data_bytes = 0
    expected_next = 0
    sampler.start()
    try:
        for batch in pr.iter_streams(redis_url, keys=["big"], schema=schema):
            check(batch, expected_next)
            expected_next += batch.height
            rows += batch.height
            data_bytes += batch.estimated_size()
    finally:
        stop.set()
        sampler.join()
    assert rows == entries
    # Paged: XRANGE ... COUNT 1000 about once per 1000 entries, never all at once.
    xranges = calls(redis_client, "xrange") - xrange_before
    assert entries // 1000 <= xranges <= entries // 1000 + 2
    growth = peak - baseline
    assert data_bytes > 50_000_000
    assert growth < data_bytes / 10, f"RSS grew {growth / 1e6:.1f} MB for {data_bytes / 1e6:.0f} MB"
    # Closing the iterator early stops the scan: a handful of pages, not a thousand.
    before = calls(redis_client, "xrange")
    batches = pr.iter_streams(redis_url, keys=["big"], schema=schema)
    next(batches)
    batches.close()
    time.sleep(0.2)
    assert calls(redis_client, "xrange") - before <= 8
