"""scan_timeseries / read_timeseries / iter_timeseries against Redis Stack
(RedisTimeSeries).

Ground truth is written and read back with redis-py (``ts().create`` with
labels, ``ts().madd``, ``ts().range``, ``ts().queryindex``).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any, get_args

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import polars_redis as pr
from polars_redis.timeseries import Aggregation

# Every aggregation the facade accepts: all thirteen of RedisTimeSeries.
AGGREGATIONS: list[str] = list(get_args(Aggregation))
assert len(AGGREGATIONS) == 13
TS = pl.Datetime("ms")

SERIES: dict[str, dict[str, str]] = {
    "ts:kitchen": {"sensor": "temp", "room": "kitchen", "floor": "0"},
    "ts:office": {"sensor": "temp", "room": "office"},
    "ts:hum": {"sensor": "hum", "room": "kitchen"},
}


def calls(client: Any, command: str) -> int:
    """How often the server ran ``command`` (INFO commandstats)."""
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def value(key: str, i: int) -> float:
    """Sample ``i`` of a seeded series: a trend plus per-series jitter."""
    return round(i * 0.25 + ((i * 7919 + len(key)) % 11) - 5, 2)


def seed(client: Any, key: str, n: int, labels: dict[str, Any], step: int = 7) -> None:
    """A series of ``n`` samples every ``step`` ms from 1000."""
    client.ts().create(key, labels=labels)
    for start in range(0, n, 10_000):
        chunk = range(start, min(n, start + 10_000))
        client.ts().madd([(key, 1000 + step * i, value(key, i)) for i in chunk])


def truth(client: Any, keys: list[str], labels: list[str], **range_args: Any) -> pl.DataFrame:
    """What scan_timeseries should return, from redis-py ``ts().range``."""
    rows: dict[str, list[Any]] = {"_key": [], "_ts": [], "value": []}
    rows.update({label: [] for label in labels})
    start, end = range_args.pop("start", "-"), range_args.pop("end", "+")
    for key in keys:
        for ts, v in client.ts().range(key, start, end, **range_args):
            rows["_key"].append(key)
            rows["_ts"].append(ts)
            rows["value"].append(float(v))
            for label in labels:
                rows[label].append(SERIES.get(key, {}).get(label))
    frame = pl.DataFrame(
        rows,
        schema={"_key": pl.String, "_ts": pl.Int64, "value": pl.Float64}
        | dict.fromkeys(labels, pl.String),
    )
    return frame.with_columns(pl.col("_ts").cast(TS))


@pytest.fixture
def series(stack_client: Any) -> list[str]:
    """Three series with labels, plus keys of other types under the same prefix."""
    for n, (key, labels) in enumerate(SERIES.items()):
        seed(stack_client, key, 40 + 13 * n, labels)
    stack_client.hset("ts:hash", mapping={"a": "1"})
    stack_client.xadd("ts:stream", {"a": "1"})
    stack_client.set("ts:string", "x")
    return sorted(SERIES)


def test_reads_samples_like_ts_range(stack_url: str, stack_client: Any, series: list[str]) -> None:
    info_before = calls(stack_client, "ts.info")
    others = ("hgetall", "xlen", "xrange", "get", "type")
    others_before = {c: calls(stack_client, c) for c in others}
    lf = pr.scan_timeseries(stack_url, "ts:*", include_labels=["room", "floor"], batch_size=16)
    expected = truth(stack_client, series, ["room", "floor"])
    assert expected.height == 40 + 53 + 66
    for engine in ("auto", "streaming"):
        got = lf.collect(engine=engine)  # type: ignore[call-overload]
        assert_frame_equal(got.sort("_key", "_ts"), expected.sort("_key", "_ts"))
    # SCAN ... TYPE TSDB-TYPE: only the three series were probed, twice.
    assert calls(stack_client, "ts.info") - info_before == 6
    for other in others:
        assert calls(stack_client, other) == others_before[other], other


def test_missing_keys_give_no_row_and_other_types_raise(
    stack_url: str, stack_client: Any, series: list[str]
) -> None:
    got = pr.read_timeseries(stack_url, keys=["ts:gone", "ts:office", "ts:office"])
    assert_frame_equal(got, truth(stack_client, ["ts:office"], []))
    with pytest.raises(pr.WrongTypeError, match='"ts:stream" holds a stream, not a time series'):
        pr.read_timeseries(stack_url, keys=["ts:office", "ts:stream"])


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_aggregations_equal_ts_range_aggregation(
    stack_url: str, stack_client: Any, aggregation: str
) -> None:
    seed(stack_client, "agg:1", 2000, {})
    seed(stack_client, "agg:2", 300, {}, step=3)
    keys = ["agg:1", "agg:2"]
    start, end, bucket = 1234, 12_345, 60
    expected = truth(
        stack_client,
        keys,
        [],
        start=start,
        end=end,
        aggregation_type=aggregation,
        bucket_size_msec=bucket,
    )
    assert expected.height > 150
    before = calls(stack_client, "ts.range")
    # Pages of 25 buckets: each series is read in several TS.RANGE calls.
    got = pr.read_timeseries(
        stack_url,
        keys=keys,
        start=start,
        end=end,
        aggregation=aggregation,  # type: ignore[arg-type]
        bucket_size_ms=bucket,
        batch_size=25,
    )
    assert_frame_equal(got, expected)
    assert calls(stack_client, "ts.range") - before >= expected.height // 25


def test_aggregation_arguments_are_validated(stack_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="needs bucket_size_ms"):
        pr.scan_timeseries(stack_url, aggregation="avg")
    with pytest.raises(pr.InvalidInputError, match="needs an aggregation"):
        pr.scan_timeseries(stack_url, bucket_size_ms=1000)
    for bucket in (0, -5):
        with pytest.raises(pr.InvalidInputError, match="bucket size of at least 1 ms"):
            pr.scan_timeseries(stack_url, aggregation="sum", bucket_size_ms=bucket)
    with pytest.raises(pr.InvalidInputError, match=r"aggregation must be one of .* got 'median'"):
        pr.scan_timeseries(stack_url, aggregation="median", bucket_size_ms=10)  # type: ignore[arg-type]
    # Names are case-insensitive, like the server's.
    lf = pr.scan_timeseries(stack_url, aggregation="STD.P", bucket_size_ms=10)  # type: ignore[arg-type]
    assert lf.collect().height == 0


@pytest.mark.parametrize(
    "filter_",
    [
        ["sensor=temp"],
        ["sensor=temp", "room=(kitchen,office)"],
        ["room=kitchen", "sensor!=temp"],
        ["sensor=(temp,hum)", "floor="],
        "room=office",
        ["sensor=pressure"],
    ],
)
def test_label_filter_selects_the_queryindex_keys(
    stack_url: str, stack_client: Any, series: list[str], filter_: str | list[str]
) -> None:
    expressions = [filter_] if isinstance(filter_, str) else filter_
    wanted = sorted(
        k.decode() if isinstance(k, bytes) else k for k in stack_client.ts().queryindex(expressions)
    )
    got = pr.read_timeseries(stack_url, filter=filter_, include_labels=["room"])
    assert sorted(got["_key"].unique().to_list()) == wanted
    assert_frame_equal(got.sort("_key", "_ts"), truth(stack_client, wanted, ["room"]))


def test_selection_is_one_of_pattern_keys_or_filter(
    stack_url: str, stack_client: Any, series: list[str]
) -> None:
    for chosen in (
        {"pattern": "ts:*", "keys": ["a"]},
        {"pattern": "ts:*", "filter": ["a=b"]},
        {"keys": ["a"], "filter": ["a=b"]},
    ):
        with pytest.raises(pr.InvalidInputError, match="pass one of pattern, keys or filter"):
            pr.scan_timeseries(stack_url, **chosen)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="filter needs at least one"):
        pr.scan_timeseries(stack_url, filter=[])
    with pytest.raises(pr.RedisServerError, match=r"TS\.QUERYINDEX"):
        pr.read_timeseries(stack_url, filter=["room!=kitchen"])  # needs one `=` matcher
    # None of them: every series.
    assert pr.read_timeseries(stack_url)["_key"].n_unique() == 3


@pytest.mark.parametrize(
    ("include_key", "include_ttl", "include_row_index", "labels", "aggregated"),
    list(
        itertools.product(
            [True, False], [True, False], [True, False], [[], ["room", "x"]], [True, False]
        )
    ),
)
def test_declared_schema_matches_frames_for_every_option(
    stack_url: str,
    stack_client: Any,
    include_key: bool,
    include_ttl: bool,
    include_row_index: bool,
    labels: list[str],
    aggregated: bool,
) -> None:
    seed(stack_client, "o", 5, {"room": "r"})
    stack_client.expire("o", 1000)
    lf = pr.scan_timeseries(
        stack_url,
        "o",
        include_key=include_key,
        include_ttl=include_ttl,
        include_row_index=include_row_index,
        include_labels=labels or False,
        aggregation="max" if aggregated else None,
        bucket_size_ms=100 if aggregated else None,
        value_column_name="v",
        timestamp_column_name="t",
    )
    expected_columns = [
        name
        for name, on in [
            ("_index", include_row_index),
            ("_key", include_key),
            ("t", True),
            ("v", True),
            *[(label, True) for label in labels],
            ("_ttl", include_ttl),
        ]
        if on
    ]
    declared = lf.collect_schema()
    assert declared.names() == expected_columns
    assert declared["t"] == TS and declared["v"] == pl.Float64
    for engine in ("auto", "streaming"):
        df = lf.collect(engine=engine)  # type: ignore[call-overload]
        assert df.schema == declared
        assert df.height == 1 if aggregated else 5
        # Counting reads only the first column (the row index, if any).
        assert lf.select(pl.len()).collect(engine=engine).item() == (1 if aggregated else 5)  # type: ignore[call-overload]
        empty = lf.filter(pl.col("v") > 1e9).collect(engine=engine)  # type: ignore[call-overload]
        assert empty.schema == declared and empty.height == 0
    nothing = lf.filter(pl.col("t") > datetime(2100, 1, 1)).collect()
    assert nothing.schema == declared and nothing.height == 0
    if labels:
        assert df["room"].to_list() == ["r"] * df.height and df["x"].null_count() == df.height
    if include_ttl:
        assert 0 < df["_ttl"][0] <= 1000


def test_timestamp_pushdown_returns_exactly_full_read_then_filter(
    stack_url: str, stack_client: Any
) -> None:
    seed(stack_client, "p:1", 3000, {})
    seed(stack_client, "p:2", 700, {}, step=11)

    def instant(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).replace(tzinfo=None)

    def scan(aggregation: str | None) -> pl.LazyFrame:
        return pr.scan_timeseries(
            stack_url,
            "p:*",
            aggregation=aggregation,  # type: ignore[arg-type]
            bucket_size_ms=50 if aggregation else None,
            batch_size=200,
        )

    frames = {agg: (scan(agg), scan(agg).collect()) for agg in (None, "avg", "twa")}
    bound = st.integers(min_value=900, max_value=23_000)
    op = st.sampled_from([">", ">=", "<", "<=", "=="])

    def comparison(symbol: str, ms: int) -> pl.Expr:
        ts, at = pl.col("_ts"), instant(ms)
        return {">": ts > at, ">=": ts >= at, "<": ts < at, "<=": ts <= at, "==": ts == at}[symbol]

    @settings(max_examples=60, deadline=None)
    @given(
        parts=st.lists(st.tuples(op, bound), min_size=1, max_size=3),
        conjunction=st.sampled_from(["and", "or"]),
        aggregation=st.sampled_from([None, "avg", "twa"]),
    )
    def check(parts: list[tuple[str, int]], conjunction: str, aggregation: str | None) -> None:
        expr = comparison(*parts[0])
        for part in parts[1:]:
            expr = expr & comparison(*part) if conjunction == "and" else expr | comparison(*part)
        lf, full = frames[aggregation]
        assert_frame_equal(lf.filter(expr).collect(), full.filter(expr))

    check()
    # The pushdown narrows the read: one page per series for a small window.
    lf, full = frames[None]
    window = pl.col("_ts").is_between(instant(5000), instant(5300))
    before = calls(stack_client, "ts.range")
    assert_frame_equal(lf.filter(window).collect(), full.filter(window))
    assert calls(stack_client, "ts.range") - before == 2
    # Aggregated: narrowed to whole buckets, values unchanged.
    lf, full = frames["sum"] = (scan("sum"), scan("sum").collect())
    window = (pl.col("_ts") > instant(5010)) & (pl.col("_ts") <= instant(5190))
    assert_frame_equal(lf.filter(window).collect(), full.filter(window))


def test_long_series_are_paged(stack_url: str, stack_client: Any) -> None:
    seed(stack_client, "long", 25_000, {"k": "v"})
    before = calls(stack_client, "ts.range")
    batches = list(pr.iter_timeseries(stack_url, keys=["long"], include_labels=["k"]))
    assert all(b.height <= 1000 for b in batches)
    assert 25 <= calls(stack_client, "ts.range") - before <= 26
    got = pl.concat(batches)
    expected = truth(stack_client, ["long"], ["k"]).with_columns(pl.lit("v").alias("k"))
    assert_frame_equal(got, expected)
    assert got["_ts"].is_sorted() and got["_ts"].n_unique() == 25_000
    # head() stops after the rows it needs: one page.
    before = calls(stack_client, "ts.range")
    assert pr.scan_timeseries(stack_url, keys=["long"]).head(5).collect().height == 5
    assert calls(stack_client, "ts.range") - before == 1


def test_start_and_end_bound_the_samples(stack_url: str, stack_client: Any) -> None:
    seed(stack_client, "b", 100, {})
    expected = truth(stack_client, ["b"], [], start=1070, end=1300)
    for start, end in [
        (1070, 1300),
        (datetime(1970, 1, 1, 0, 0, 1, 70000), datetime(1970, 1, 1, 0, 0, 1, 300000)),
        (datetime(1970, 1, 1, 1, 0, 1, 70000, tzinfo=timezone.utc).replace(hour=0), 1300),
    ]:
        got = pr.read_timeseries(stack_url, keys=["b"], start=start, end=end)
        assert_frame_equal(got, expected)
    assert pr.read_timeseries(stack_url, keys=["b"], start=5000).height == 0
    with pytest.raises(pr.InvalidInputError, match="start must be"):
        pr.scan_timeseries(stack_url, keys=["b"], start="now")  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="end must be a timestamp of at least 0"):
        pr.scan_timeseries(stack_url, keys=["b"], end=-1)


def test_label_values_that_are_not_utf8(stack_url: str, stack_client: Any) -> None:
    stack_client.execute_command("TS.CREATE", "bin", "LABELS", "tag", b"\xff\xfe", "ok", "v")
    stack_client.ts().add("bin", 1000, 1.0)
    with pytest.raises(pr.ParseError, match=r'key "bin", field `tag`: cannot parse "\\xff\\xfe"'):
        pr.read_timeseries(stack_url, keys=["bin"], include_labels=["tag", "ok"])
    got = pr.read_timeseries(stack_url, keys=["bin"], include_labels=["tag", "ok"], strict=False)
    assert got.select("tag", "ok").rows() == [(None, "v")]


def test_include_labels_arguments(stack_url: str) -> None:
    with pytest.raises(pr.ArgumentTypeError, match="include_labels must be False, a str or"):
        pr.scan_timeseries(stack_url, include_labels=True)  # type: ignore[arg-type]
    with pytest.raises(pr.InvalidInputError, match="label `value` has the name"):
        pr.scan_timeseries(stack_url, include_labels=["value"])
    one_label = pr.scan_timeseries(stack_url, include_labels="room")
    assert one_label.collect_schema().names()[-1] == "room"


def test_series_with_compaction_rules(stack_server: Any, stack_url: str, stack_client: Any) -> None:
    """TS.INFO of a rule's source and destination has nested rule arrays and a
    source key: both are read like any series."""
    ts = stack_client.ts()
    ts.create("raw", labels={"kind": "raw"})
    ts.create("avg", labels={"kind": "avg"})
    ts.createrule("raw", "avg", "avg", 100)
    ts.madd([("raw", 1000 + 7 * i, value("raw", i)) for i in range(500)])
    info = stack_server.execute("TS.INFO", "raw")  # raw RESP: a flat name/value list
    rules = info[info.index("rules") + 1]
    assert rules == [[b"avg", 100, "AVG", 0]], rules
    got = pr.read_timeseries(stack_url, keys=["raw", "avg"], include_labels=["kind"])
    expected = truth(stack_client, ["raw", "avg"], []).with_columns(pl.col("_key").alias("kind"))
    assert expected.filter(pl.col("_key") == "avg").height > 10
    assert_frame_equal(got, expected)


def test_key_filters_with_label_selection(
    stack_url: str, stack_client: Any, series: list[str]
) -> None:
    lf = pr.scan_timeseries(stack_url, filter=["sensor=temp"])
    got = lf.filter(pl.col("_key") == "ts:office").collect()
    assert_frame_equal(got, truth(stack_client, ["ts:office"], []))
    assert lf.filter(pl.col("_key") == "ts:hum").collect().height == 0
