"""RediSearch: predicate pushdown, explicit searches, aggregations, index management.

Every test runs against a real Redis Stack server; ground truth is written
with redis-py and, for pushdown, is the same scan with pushdown turned off
(``index=None``), which reads every key with SCAN and filters client-side.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polars_redis as pr
from polars_redis import field, raw

# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

SCHEMA = {
    "i": pl.Int64,
    "f": pl.Float64,
    "t": pl.String,
    "cs": pl.String,
    "s": pl.String,
    "plain": pl.Int64,
}
BIG = 2**53
TAGS = ["ams", "AMS", "ber", "a,b", "nobody", "user1", "user*", "nobody | user*", "x-y", "日本"]
INTS = [0, 1, -1, 5, 42, -42, 1000, BIG - 1, BIG, BIG + 1, BIG + 2, -BIG - 1, 2**62]
FLOATS = [0.0, -0.0, 0.5, 1.5, -2.25, 1e-300, 1e300, 3.0, 42.0]
TEXTS = ["hello world", "Hello, World!", "the end", "end", "foo-bar", "bar"]


def _row(n: int) -> dict[str, str]:
    """A deterministic, varied hash: some fields missing, some values odd."""
    row: dict[str, str] = {}
    if n % 11 != 3:
        row["i"] = str(INTS[n % len(INTS)] + (n // len(INTS)) % 3)
    if n % 17 == 5:
        row["i"] = "1.5"  # NUMERIC in the index, null (strict=False) as Int64
    if n % 13 != 7:
        row["f"] = repr(FLOATS[n % len(FLOATS)] * (1 + (n // len(FLOATS)) % 2))
    if n % 7 != 2:
        row["t"] = TAGS[n % len(TAGS)]
    if n % 5 != 4:
        row["cs"] = TAGS[(n * 3) % len(TAGS)]
    row["s"] = TEXTS[n % len(TEXTS)]
    row["plain"] = str(n)
    return row


def _seed(client: Any, prefix: str, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        pipe.hset(f"{prefix}{n}", mapping=_row(n))
    pipe.execute()


def _ft_create(client: Any, name: str, prefix: str, *schema: str) -> None:
    client.execute_command(
        "FT.CREATE", name, "ON", "HASH", "PREFIX", "1", prefix, "SCHEMA", *schema
    )
    _wait_indexed(client, name)


def _wait_indexed(client: Any, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = _info(client, name)
        if int(info["indexing"]) == 0 and float(info["percent_indexed"]) >= 1.0:
            return
        time.sleep(0.01)
    raise AssertionError(f"index {name} did not finish indexing")


def _info(client: Any, name: str) -> dict[str, Any]:
    reply = client.execute_command("FT.INFO", name)
    if isinstance(reply, dict):
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in reply.items()}
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in zip(reply[::2], reply[1::2])}


def _standard_index(client: Any) -> None:
    _ft_create(
        client,
        "idx",
        "d:",
        "i",
        "NUMERIC",
        "f",
        "NUMERIC",
        "t",
        "TAG",
        "cs",
        "TAG",
        "CASESENSITIVE",
        "s",
        "TEXT",
    )


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("_key")


def _pushed(lf: pl.LazyFrame) -> str:
    return pr.explain_pushdown(lf)


# --------------------------------------------------------------------------
# property: pushdown never changes a result
# --------------------------------------------------------------------------

ROWS = 420


@pytest.fixture
def seeded(stack_url: str, stack_client: Any) -> Iterator[str]:
    _seed(stack_client, "d:", ROWS)
    _standard_index(stack_client)
    assert int(_info(stack_client, "idx")["hash_indexing_failures"]) == 0
    yield stack_url


def _int_literal() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([v + d for v in INTS for d in (-1, 0, 1)]),
        st.integers(-2000, 2000),
    )


def _float_literal() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from([*FLOATS, -0.5, 2.0, 1e301]),
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    )


_OPS = ["==", "!=", ">", ">=", "<", "<="]


def _compare(column: pl.Expr, op: str, value: Any) -> pl.Expr:
    return {
        "==": column == value,
        "!=": column != value,
        ">": column > value,
        ">=": column >= value,
        "<": column < value,
        "<=": column <= value,
    }[op]


@st.composite
def _leaf(draw: st.DrawFn) -> pl.Expr:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return _compare(pl.col("i"), draw(st.sampled_from(_OPS)), draw(_int_literal()))
    if kind == 1:
        # A float literal against an integer column: Polars casts the column.
        return _compare(pl.col("i"), draw(st.sampled_from(_OPS)), draw(_float_literal()))
    if kind == 2:
        return _compare(pl.col("f"), draw(st.sampled_from(_OPS)), draw(_float_literal()))
    if kind == 3:
        column = draw(st.sampled_from(["t", "cs"]))
        value = draw(st.sampled_from([*TAGS, "Ber", "zzz", " ams", ""]))
        return _compare(pl.col(column), draw(st.sampled_from(["==", "!="])), value)
    if kind == 4:
        column = draw(st.sampled_from(["t", "cs"]))
        values = draw(st.lists(st.sampled_from([*TAGS, "Ber", None]), max_size=4))
        return pl.col(column).is_in(values)
    if kind == 5:
        values = draw(st.lists(_int_literal(), max_size=4))
        return pl.col("i").is_in(values)
    if kind == 6:
        low, high = sorted([draw(_float_literal()), draw(_float_literal())])
        closed = draw(st.sampled_from(["both", "left", "right", "none"]))
        column = draw(st.sampled_from(["i", "f"]))
        return pl.col(column).is_between(low, high, closed=closed)
    if kind == 7:
        value = draw(st.sampled_from([*TEXTS, "hello", "end"]))
        return pl.col("s") == value
    if kind == 8:
        return pl.col(draw(st.sampled_from(["i", "f", "t"]))).is_not_null()
    return _compare(pl.col("plain"), draw(st.sampled_from(_OPS)), draw(st.integers(0, ROWS)))


def _predicates() -> st.SearchStrategy[pl.Expr]:
    return st.recursive(
        _leaf(),
        lambda children: st.one_of(
            st.tuples(children, children).map(lambda p: p[0] & p[1]),
            st.tuples(children, children).map(lambda p: p[0] | p[1]),
            children.map(lambda p: ~p),
        ),
        max_leaves=5,
    )


def _json_doc(n: int) -> dict[str, Any]:
    """`_row(n)` as a JSON document: numbers as JSON numbers, text as strings."""
    doc: dict[str, Any] = {}
    for name, text in _row(n).items():
        if name in ("i", "plain"):
            doc[name] = float(text) if "." in text else int(text)
        elif name == "f":
            doc[name] = float(text)
        else:
            doc[name] = text
    return doc


@pytest.fixture
def seeded_json(stack_url: str, stack_client: Any) -> Iterator[str]:
    pipe = stack_client.pipeline(transaction=False)
    for n in range(ROWS):
        pipe.execute_command("JSON.SET", f"jd:{n}", "$", json.dumps(_json_doc(n)))
    pipe.execute()
    stack_client.execute_command(
        "FT.CREATE", "jidx", "ON", "JSON", "PREFIX", "1", "jd:", "SCHEMA",
        "$.i", "AS", "i", "NUMERIC", "$.f", "AS", "f", "NUMERIC",
        "$.t", "AS", "t", "TAG", "$.cs", "AS", "cs", "TAG", "CASESENSITIVE",
        "$.s", "AS", "s", "TEXT",
    )  # fmt: skip
    _wait_indexed(stack_client, "jidx")
    assert int(_info(stack_client, "jidx")["hash_indexing_failures"]) == 0
    yield stack_url


def _check_equivalence(scan: Any, url: str, pattern: str, index: str) -> None:
    seen = {"examples": 0, "pushed": 0}

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(predicate=_predicates(), projected=st.booleans())
    def check(predicate: pl.Expr, projected: bool) -> None:
        def query(choice: str | None) -> pl.LazyFrame:
            lf = scan(url, pattern, SCHEMA, strict=False, index=choice).filter(predicate)
            return lf.select("_key", "t") if projected else lf

        expected = _sorted(query(None).collect())
        assert _sorted(query("auto").collect()).equals(expected), str(predicate)
        assert _sorted(query(index).collect()).equals(expected), str(predicate)
        seen["examples"] += 1
        seen["pushed"] += "FT.AGGREGATE query" in _pushed(query("auto"))

    check()
    # The comparison means something only if the index really answered.
    assert seen["pushed"] >= seen["examples"] // 3, seen


def test_pushdown_equals_scan_and_filter(seeded: str) -> None:
    _check_equivalence(pr.scan_hashes, seeded, "d:*", "idx")


def test_pushdown_equals_scan_and_filter_json(seeded_json: str) -> None:
    _check_equivalence(pr.scan_json, seeded_json, "jd:*", "jidx")


def test_pushdown_is_used_and_explained(seeded: str) -> None:
    lf = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False).filter(
        (pl.col("i") > 40) & (pl.col("t") == "ams") & (pl.col("s") == "end")
    )
    text = _pushed(lf)
    assert "index `idx`" in text
    assert "FT.AGGREGATE query: (@i:[($pp0 +inf] @t:{$pp1})" in text
    assert 'pp1="ams"' in text
    assert "DIALECT 2" in text
    assert "TEXT equality" in text  # the part that stayed client-side, and why
    assert "pushed as a superset" in text
    assert "client-side: the full predicate" in text
    expected = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False, index=None).filter(
        (pl.col("i") > 40) & (pl.col("t") == "ams") & (pl.col("s") == "end")
    )
    assert _sorted(lf.collect()).equals(_sorted(expected.collect()))


def test_not_is_pushed_only_over_exact_parts(seeded: str) -> None:
    exact = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False).filter(~pl.col("i").is_in([1, 5]))
    assert "-((@i:[$pp0 $pp1] | @i:[$pp2 $pp3]))" in _pushed(exact)
    superset = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False).filter(
        ~pl.col("t").is_in(["ams"])
    )
    text = _pushed(superset)
    assert "NOT over a clause that is only a superset" in text
    assert "keys come from SCAN" in text


def test_no_index_means_scan(stack_url: str, stack_client: Any) -> None:
    _seed(stack_client, "d:", 30)
    lf = pr.scan_hashes(stack_url, "d:*", SCHEMA, strict=False).filter(pl.col("i") > 3)
    assert "there is no index" in _pushed(lf)
    assert lf.collect().height == sum(
        1 for n in range(30) if "i" in _row(n) and _row(n)["i"] != "1.5" and int(_row(n)["i"]) > 3
    )


# --------------------------------------------------------------------------
# values never widen a query
# --------------------------------------------------------------------------


def test_injection_values_return_nothing(stack_url: str, stack_client: Any) -> None:
    pipe = stack_client.pipeline(transaction=False)
    for n, tag in enumerate(["nobody", "user1", "user2", "admin"]):
        pipe.hset(f"u:{n}", mapping={"t": tag, "s": f"{tag} text", "n": n})
    pipe.execute()
    _ft_create(stack_client, "u", "u:", "t", "TAG", "s", "TEXT", "n", "NUMERIC")
    schema = {"t": pl.String, "s": pl.String, "n": pl.Int64}
    evil = ["nobody | user*", "user*", "*", "nobody} | @t:{user1", "-nobody", "(nobody|admin)"]
    for value in evil:
        lf = pr.scan_hashes(stack_url, "u:*", schema).filter(pl.col("t") == value)
        assert "index `u`" in _pushed(lf)
        assert lf.collect().height == 0, value
        assert pr.search_hashes(stack_url, "u", field("t") == value, schema).collect().height == 0
        if value != "*":
            # A TEXT value is a phrase of its words (punctuation separates
            # words); it never becomes an operator. Only rows holding the
            # phrase come back.
            words = re.findall(r"\w+", value.lower())
            phrase = pr.search_hashes(stack_url, "u", field("s") == value, schema).collect()
            for text in phrase["s"].to_list():
                assert " ".join(words) in " ".join(re.findall(r"\w+", text.lower())), value
            assert phrase.height <= 1, value
        assert (
            pr.search_hashes(stack_url, "u", "@t:{$v}", schema, params={"v": value})
            .collect()
            .height
            == 0
        )
        lf = pr.scan_hashes(stack_url, "u:*", schema).filter(pl.col("t").is_in([value, "zzz"]))
        assert lf.collect().height == 0, value
    with pytest.raises(pr.InvalidInputError, match="has no words"):
        pr.search_hashes(stack_url, "u", field("s") == "*", schema).collect()
    # A prefix built from a value is escaped, not a wildcard of its own.
    assert (
        pr.search_hashes(stack_url, "u", field("t").prefix("user*"), schema).collect().height == 0
    )
    assert pr.search_hashes(stack_url, "u", field("t").prefix("user"), schema).collect().height == 2


# --------------------------------------------------------------------------
# explicit search
# --------------------------------------------------------------------------


@pytest.fixture
def people(stack_url: str, stack_client: Any) -> Iterator[tuple[str, pl.DataFrame]]:
    rows = []
    cities = ["Amsterdam", "berlin", "Paris", "new york"]
    names = ["Hello World", "hello big world", "The End", "Ann-Marie", "bob"]
    pipe = stack_client.pipeline(transaction=False)
    for n in range(200):
        row = {
            "name": names[n % len(names)],
            "city": cities[n % len(cities)],
            "age": n % 70,
            "score": round(n * 0.37, 2),
            "loc": f"{4.9 + (n % 10) * 0.1},{52.3 + (n % 7) * 0.1}",
        }
        rows.append({"_key": f"p:{n}", **row})
        pipe.hset(f"p:{n}", mapping=row)
    pipe.execute()
    _ft_create(
        stack_client,
        "people",
        "p:",
        "name",
        "TEXT",
        "city",
        "TAG",
        "age",
        "NUMERIC",
        "SORTABLE",
        "score",
        "NUMERIC",
        "loc",
        "GEO",
    )
    truth = pl.DataFrame(rows).with_columns(pl.col("age").cast(pl.Int64))
    yield stack_url, truth


PEOPLE = {"name": pl.String, "city": pl.String, "age": pl.Int64, "score": pl.Float64}


def _keys(df: pl.DataFrame) -> list[str]:
    return sorted(df["_key"].to_list())


def test_builder_knows_attribute_types(people: tuple[str, pl.DataFrame]) -> None:
    url, truth = people

    def search(query: pr.Query) -> list[str]:
        return _keys(pr.search_hashes(url, "people", query, PEOPLE).collect())

    # TAG equality: a tag match, case-insensitive.
    assert search(field("city") == "AMSTERDAM") == _keys(
        truth.filter(pl.col("city") == "Amsterdam")
    )
    assert search(field("city") == "new york") == _keys(truth.filter(pl.col("city") == "new york"))
    # TEXT equality: a phrase match (tokenized, case-insensitive, adjacent words).
    assert search(field("name") == "hello world") == _keys(
        truth.filter(pl.col("name") == "Hello World")
    )
    # NUMERIC comparisons and ranges.
    assert search(field("age") >= 65) == _keys(truth.filter(pl.col("age") >= 65))
    assert search(field("age").between(10, 12, closed="left")) == _keys(
        truth.filter(pl.col("age").is_between(10, 12, closed="left"))
    )
    assert search((field("age") < 3) & ~(field("city") == "paris")) == _keys(
        truth.filter((pl.col("age") < 3) & (pl.col("city") != "Paris"))
    )
    assert search(field("age").is_in([1, 2]) | (field("name") == "bob")) == _keys(
        truth.filter(pl.col("age").is_in([1, 2]) | (pl.col("name") == "bob"))
    )
    assert search(field("city").prefix("ber")) == _keys(truth.filter(pl.col("city") == "berlin"))
    assert search(field("loc").within(4.9, 52.3, 1, "m")) == _keys(
        truth.filter(pl.col("loc") == "4.9,52.3")
    )
    assert search(raw("@age:[0 0]") & (field("city") == "amsterdam")) == _keys(
        truth.filter((pl.col("age") == 0) & (pl.col("city") == "Amsterdam"))
    )
    with pytest.raises(pr.InvalidInputError, match="no attribute `nope`"):
        search(field("nope") == 1)
    with pytest.raises(pr.InvalidInputError, match="does not apply to TAG"):
        search(field("city") > 1)


def test_search_with_filter_limit_and_sort(people: tuple[str, pl.DataFrame]) -> None:
    url, truth = people
    lf = pr.search_hashes(url, "people", field("city") == "berlin", PEOPLE)
    filtered = lf.filter(pl.col("age") > 30).collect()
    assert _keys(filtered) == _keys(
        truth.filter((pl.col("city") == "berlin") & (pl.col("age") > 30))
    )
    text = pr.explain_pushdown(lf.filter(pl.col("age") > 30))
    assert "(@city:{$qb0}) (@age:[($pp0 +inf])" in text
    assert lf.head(7).collect().height == 7
    assert "LIMIT 0 7" in pr.explain_pushdown(lf.head(7))
    top = pr.search_hashes(url, "people", "*", PEOPLE, sort_by="age", descending=True).head(5)
    assert "SORTBY 2 @age DESC MAX 5" in pr.explain_pushdown(top)
    assert top.collect()["age"].to_list() == truth["age"].sort(descending=True).head(5).to_list()
    bottom = pr.search_hashes(url, "people", "*", PEOPLE, sort_by="score").head(3).collect()
    assert bottom["score"].to_list() == truth["score"].sort().head(3).to_list()
    # schema=None reads the indexed attributes: NUMERIC as Float64.
    inferred = pr.search_hashes(url, "people", "@age:[5 5]").collect()
    assert inferred.schema["age"] == pl.Float64 and inferred.schema["city"] == pl.String
    assert _keys(inferred) == _keys(truth.filter(pl.col("age") == 5))


def test_results_are_not_capped(stack_url: str, stack_client: Any) -> None:
    pipe = stack_client.pipeline(transaction=False)
    for n in range(1500):
        pipe.hset(f"c:{n}", mapping={"n": n})
    pipe.execute()
    _ft_create(stack_client, "c", "c:", "n", "NUMERIC")
    before = stack_client.execute_command("FT.CONFIG", "GET", "MAXSEARCHRESULTS")
    stack_client.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", "100")
    try:
        df = pr.search_hashes(stack_url, "c", "@n:[-inf +inf]", {"n": pl.Int64}).collect()
        assert sorted(df["n"].to_list()) == list(range(1500))
        lf = pr.scan_hashes(stack_url, "c:*", {"n": pl.Int64}).filter(pl.col("n") >= 200)
        assert lf.collect().height == 1300
    finally:
        value = before[0][1] if isinstance(before, list) else next(iter(before.values()))
        stack_client.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", value)


def _open_cursors(client: Any, index: str) -> int:
    stats = _info(client, index)["cursor_stats"]
    stats = dict(zip(stats[::2], stats[1::2])) if isinstance(stats, list) else stats
    named = {k.decode() if isinstance(k, bytes) else k: v for k, v in stats.items()}
    return int(named["index_total"])


def test_cursor_is_deleted_when_the_consumer_stops(stack_url: str, stack_client: Any) -> None:
    stack_client.eval("for i=1,5000 do redis.call('HSET','k:'..i,'n',i) end", 0)
    _ft_create(stack_client, "k", "k:", "n", "NUMERIC")
    # 5000 matches, 1000 per cursor page: the cursor is still open after 10 rows.
    lf = pr.scan_hashes(stack_url, "k:*", {"n": pl.Int64}, batch_size=100).filter(pl.col("n") > 0)
    assert "index `k`" in _pushed(lf)
    for _ in range(3):
        assert lf.head(10).collect().height == 10
        deadline = time.monotonic() + 5
        while _open_cursors(stack_client, "k") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _open_cursors(stack_client, "k") == 0
    # Reading to the end leaves nothing open either.
    assert lf.collect().height == 5000
    assert _open_cursors(stack_client, "k") == 0


def test_timeout_is_an_error_not_a_partial_result(stack_url: str, stack_client: Any) -> None:
    stack_client.eval(
        "for i=1,60000 do redis.call('HSET','t:'..i,'n',i,'g','g'..(i%50)) end",
        0,
    )
    _ft_create(stack_client, "t", "t:", "n", "NUMERIC", "g", "TAG")
    with pytest.raises(pr.RedisTimeoutError, match="partial result"):
        pr.search_hashes(
            stack_url, "t", "*", {"n": pl.Int64}, sort_by="n", search_timeout=0.001
        ).collect()
    with pytest.raises(pr.RedisTimeoutError, match="partial result"):
        pr.aggregate_hashes(
            stack_url, "t", group_by="g", reduce={"n": "count"}, search_timeout=0.001
        ).collect()
    # With time to spare, the same requests are complete.
    full = pr.aggregate_hashes(stack_url, "t", group_by="g", reduce={"n": "count"}).collect()
    assert full["n"].sum() == 60000 and full.height == 50


def test_still_indexing_is_refused(stack_url: str, stack_client: Any) -> None:
    stack_client.eval("for i=1,400000 do redis.call('SET','pad:'..i,'v') end", 0)
    stack_client.hset("w:1", mapping={"n": 1})
    stack_client.execute_command(
        "FT.CREATE", "slow", "ON", "HASH", "PREFIX", "1", "w:", "SCHEMA", "n", "NUMERIC"
    )
    with pytest.raises(pr.SearchError, match="still indexing"):
        pr.search_hashes(stack_url, "slow", "*", {"n": pl.Int64}).collect()
    # Automatic pushdown falls back to SCAN, and says so.
    lf = pr.scan_hashes(stack_url, "w:*", {"n": pl.Int64}).filter(pl.col("n") == 1)
    text = _pushed(lf)
    assert "still indexing" in text or "index `slow`" in text
    assert lf.collect()["n"].to_list() == [1]


def test_cluster_without_coordinator_is_refused(cluster_url: str) -> None:
    # Its indexes would only hold one shard's keys: refused, never partial.
    with pytest.raises(pr.SearchError, match="without a search coordinator"):
        pr.index_info(cluster_url, "idx")
    with pytest.raises(pr.SearchError, match="without a search coordinator"):
        pr.aggregate_hashes(cluster_url, "idx", reduce={"n": "count"}).collect()
    with pytest.raises(pr.SearchError, match="without a search coordinator"):
        pr.create_index(cluster_url, "idx", "d:", {"n": pl.Int64})
    with pytest.raises(pr.SearchError, match="without a search coordinator"):
        pr.search_hashes(cluster_url, "idx", "*", {"n": pl.Int64}).collect()


def test_named_index_must_be_usable(seeded: str, stack_client: Any) -> None:
    with pytest.raises(pr.SearchError, match="no index named `nope`"):
        pr.scan_hashes(seeded, "d:*", SCHEMA, index="nope").filter(pl.col("i") > 1).collect()
    with pytest.raises(pr.SearchError, match="cannot answer a scan"):
        pr.scan_hashes(seeded, "x:*", SCHEMA, index="idx").filter(pl.col("i") > 1).collect()
    with pytest.raises(pr.SearchError, match="no index named"):
        pr.search_hashes(seeded, "nope", "*", SCHEMA).collect()
    with pytest.raises(pr.RedisServerError, match="Syntax error"):
        pr.search_hashes(seeded, "idx", "@i:[", SCHEMA).collect()


def test_index_with_failures_is_not_used_automatically(stack_url: str, stack_client: Any) -> None:
    stack_client.hset("e:1", mapping={"n": "5"})
    stack_client.hset("e:2", mapping={"n": "nan"})  # fails to index: missing from the index
    _ft_create(stack_client, "e", "e:", "n", "NUMERIC")
    schema = {"n": pl.Float64}
    lf = pr.scan_hashes(stack_url, "e:*", schema).filter(pl.col("n") > 1)
    assert "failed to index" in _pushed(lf)
    # NaN sorts above every number in Polars, so both rows are kept.
    assert sorted(lf.collect()["_key"].to_list()) == ["e:1", "e:2"]


# --------------------------------------------------------------------------
# aggregation
# --------------------------------------------------------------------------


def test_aggregate_typed_columns(people: tuple[str, pl.DataFrame]) -> None:
    url, truth = people
    df = (
        pr.aggregate_hashes(
            url,
            "people",
            "@age:[10 +inf]",
            group_by="city",
            reduce={
                "n": "count",
                "avg_age": ("avg", "age"),
                "total": ("sum", "score"),
                "oldest": ("max", "age"),
                "names": ("count_distinct", "name"),
            },
            apply={"double": "@total * 2"},
            sort_by="city",
        )
        .collect()
        .sort("city")
    )
    assert df.schema == pl.Schema(
        {
            "city": pl.String,
            "n": pl.Int64,
            "avg_age": pl.Float64,
            "total": pl.Float64,
            "oldest": pl.Float64,
            "names": pl.Int64,
            "double": pl.Float64,
        }
    )
    expected = (
        truth.filter(pl.col("age") >= 10)
        .group_by("city")
        .agg(
            n=pl.len().cast(pl.Int64),
            avg_age=pl.col("age").mean(),
            total=pl.col("score").sum(),
            oldest=pl.col("age").max().cast(pl.Float64),
            names=pl.col("name").n_unique().cast(pl.Int64),
        )
        .with_columns(double=pl.col("total") * 2)
        .sort("city")
    )
    assert df["city"].to_list() == expected["city"].to_list()
    for column in ["n", "oldest", "names"]:
        assert df[column].to_list() == expected[column].to_list(), column
    for column in ["avg_age", "total", "double"]:
        for got, want in zip(df[column].to_list(), expected[column].to_list()):
            assert got == pytest.approx(want, rel=1e-9), column


def test_aggregate_limit_params_and_overrides(people: tuple[str, pl.DataFrame]) -> None:
    url, truth = people
    top = pr.aggregate_hashes(
        url,
        "people",
        "@age:[$lo +inf]",
        params={"lo": 60},
        group_by="age",
        reduce={"n": "count"},
        sort_by="age",
        descending=True,
        limit=3,
        schema={"age": pl.Int64},
    ).collect()
    assert top.schema["age"] == pl.Int64
    assert top["age"].to_list() == [69, 68, 67]
    counts = truth.filter(pl.col("age") >= 67).group_by("age").len().sort("age", descending=True)
    assert top["n"].to_list() == counts["len"].to_list()
    everything = pr.aggregate_hashes(url, "people", reduce={"n": "count"}).collect()
    assert everything["n"].to_list() == [truth.height]
    with pytest.raises(pr.InvalidInputError, match="not supported"):
        pr.aggregate_hashes(url, "people", reduce={"x": ("tolist", "name")}).collect()
    with pytest.raises(pr.InvalidInputError, match="cannot group by"):
        pr.aggregate_hashes(url, "people", group_by="nope", reduce={"n": "count"}).collect()


# --------------------------------------------------------------------------
# index management
# --------------------------------------------------------------------------


def test_create_index_from_a_dataframe(stack_url: str, stack_client: Any) -> None:
    df = pl.DataFrame(
        {
            "name": ["Ann Lee", "Bob", "Cy"],
            "city": ["ams", "ber", "ams"],
            "age": [30, 40, 50],
            "when": [None, None, None],
        },
        schema_overrides={"when": pl.Datetime},
    )
    for n, row in enumerate(df.drop("when").iter_rows(named=True)):
        stack_client.hset(f"m:{n}", mapping=row)
    with pytest.raises(pr.InvalidInputError, match="no default index type"):
        pr.create_index(stack_url, "m", "m:", df)
    assert not pr.index_exists(stack_url, "m")
    info = pr.create_index(
        stack_url,
        "m",
        "m:",
        df.drop("when"),
        types={"name": "TEXT"},
        sortable=["age"],
        aliases={"city": "town"},
    )
    assert info["num_docs"] == 3 and info["prefixes"] == ["m:"] and info["on"] == "hash"
    kinds = {a["identifier"]: (a["name"], a["type"], a["sortable"]) for a in info["attributes"]}
    assert kinds == {
        "name": ("name", "TEXT", False),
        "city": ("town", "TAG", False),
        "age": ("age", "NUMERIC", True),
    }
    assert pr.index_exists(stack_url, "m")
    assert pr.index_info(stack_url, "m")["num_docs"] == 3
    # The alias is used in queries; the column keeps the hash field's name.
    lf = pr.scan_hashes(stack_url, "m:*", {"city": pl.String, "age": pl.Int64})
    assert "@town:{$pp0}" in pr.explain_pushdown(lf.filter(pl.col("city") == "ams"))
    assert sorted(lf.filter(pl.col("city") == "ams").collect()["age"].to_list()) == [30, 50]
    with pytest.raises(pr.SearchError, match="already exists"):
        pr.create_index(stack_url, "m", "m:", {"age": pl.Int64})
    pr.drop_index(stack_url, "m")
    assert not pr.index_exists(stack_url, "m")
    assert stack_client.exists("m:0") == 1
    with pytest.raises(pr.SearchError, match="no index named `m`"):
        pr.drop_index(stack_url, "m")
    pr.create_index(stack_url, "m2", ["m:"], {"age": pl.Int64})
    pr.drop_index(stack_url, "m2", delete_documents=True)
    assert stack_client.exists("m:0") == 0


def test_index_info_reads_flags(stack_url: str, stack_client: Any) -> None:
    stack_client.execute_command(
        "FT.CREATE",
        "f",
        "ON",
        "HASH",
        "PREFIX",
        "2",
        "a:",
        "b:",
        "FILTER",
        "@n > 1",
        "SCHEMA",
        "t",
        "AS",
        "tt",
        "TAG",
        "SEPARATOR",
        ";",
        "CASESENSITIVE",
        "n",
        "NUMERIC",
        "SORTABLE",
    )
    info = pr.index_info(stack_url, "f")
    assert info["prefixes"] == ["a:", "b:"] and info["filter"] == "@n > 1"
    tag = info["attributes"][0]
    assert (tag["identifier"], tag["name"], tag["type"]) == ("t", "tt", "TAG")
    assert tag["separator"] == ";" and tag["case_sensitive"]
    # An index with a FILTER leaves keys out: never used automatically.
    stack_client.hset("a:1", mapping={"n": 0, "t": "x"})
    lf = pr.scan_hashes(stack_url, "a:*", {"n": pl.Int64}).filter(pl.col("n") < 1)
    assert "FILTER" in pr.explain_pushdown(lf)
    assert lf.collect().height == 1


def test_aggregate_json_documents(stack_url: str, stack_client: Any) -> None:
    kinds = ["book", "film", "game"]
    for n in range(30):
        doc = {"kind": kinds[n % 3], "price": n + 0.5, "meta": {"year": 2000 + n % 4}}
        stack_client.execute_command("JSON.SET", f"j:{n}", "$", json.dumps(doc))
    info = pr.create_index(
        stack_url,
        "j",
        "j:",
        {"kind": pl.String, "price": pl.Float64},
        on="json",
    )
    assert {a["identifier"] for a in info["attributes"]} == {"$.kind", "$.price"}
    df = (
        pr.aggregate_json(
            stack_url,
            "j",
            "@price:[10 +inf]",
            group_by="kind",
            reduce={"n": "count", "total": ("sum", "price")},
        )
        .collect()
        .sort("kind")
    )
    prices = {k: [n + 0.5 for n in range(30) if kinds[n % 3] == k and n + 0.5 >= 10] for k in kinds}
    assert df["kind"].to_list() == kinds
    assert df["n"].to_list() == [len(prices[k]) for k in kinds]
    assert df["total"].to_list() == pytest.approx([sum(prices[k]) for k in kinds])
    with pytest.raises(pr.SearchError, match="is on JSON, not HASH"):
        pr.aggregate_hashes(stack_url, "j", reduce={"n": "count"}).collect()
    with pytest.raises(pr.SearchError, match="is on JSON, not HASH"):
        pr.search_hashes(stack_url, "j", "*", {"kind": pl.String}).collect()


def test_values_are_the_stored_ones_not_the_index_copies(stack_url: str, stack_client: Any) -> None:
    # FT.AGGREGATE LOAD would hand back the index's normalized numbers
    # ("0x10" as 16, 2^53 + 1 as 2^53): rows are fetched from the hashes.
    stack_client.hset("v:1", mapping={"i": str(BIG + 1), "h": "0x10", "f": "1.50"})
    _ft_create(stack_client, "v", "v:", "i", "NUMERIC", "h", "NUMERIC", "f", "NUMERIC", "SORTABLE")
    schema = {"i": pl.Int64, "h": pl.Int64, "f": pl.String}
    expected = {"_key": "v:1", "i": BIG + 1, "h": None, "f": "1.50"}
    searched = pr.search_hashes(stack_url, "v", "*", schema, strict=False).collect()
    assert searched.to_dicts() == [expected]
    pushed = pr.scan_hashes(stack_url, "v:*", schema, strict=False).filter(pl.col("i") > 0)
    assert "index `v`" in _pushed(pushed)
    assert pushed.collect().to_dicts() == [expected]


def test_key_filters_and_row_numbers_combine_with_the_index(seeded: str) -> None:
    predicate = pl.col("_key").str.starts_with("d:1") & (pl.col("f") > 1.0)
    pushed = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False).filter(predicate)
    plain = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False, index=None).filter(predicate)
    text = _pushed(pushed)
    assert "index `idx`" in text and "@f:[(" in text
    got = _sorted(pushed.collect())
    assert got.equals(_sorted(plain.collect()))
    assert got.height > 0 and all(k.startswith("d:1") for k in got["_key"])
    # A row index numbers every row of the scan: nothing narrows what is read.
    numbered = pr.scan_hashes(seeded, "d:*", SCHEMA, strict=False, include_row_index=True)
    assert "no predicate to push" in _pushed(numbered.filter(pl.col("f") > 1.0))
    unnumbered = pr.scan_hashes(
        seeded, "d:*", SCHEMA, strict=False, include_row_index=True, index=None
    )
    assert (
        numbered.filter(pl.col("f") > 1.0)
        .collect()
        .equals(unnumbered.filter(pl.col("f") > 1.0).collect())
    )


def test_bad_input_is_a_typed_error(people: tuple[str, pl.DataFrame]) -> None:
    url, _ = people
    bad: list[Any] = [
        lambda: pr.search_hashes(url, "people", 42, PEOPLE),  # type: ignore[arg-type]
        lambda: pr.search_hashes(url, "people", field("age") > 1, PEOPLE, params={"a": 1}),
        lambda: pr.search_hashes(url, "people", "*", PEOPLE, search_timeout=0),
        lambda: pr.search_hashes(url, "people", "*", PEOPLE, pattern="p:*"),
        lambda: pr.search_hashes(url, "people", "*", PEOPLE, sort_by=["age"], descending=[1, 2]),
        lambda: pr.search_hashes(url, "people", "*", PEOPLE, sort_by="nope").collect(),
        lambda: pr.search_hashes(url, "people", field("age") == None, PEOPLE).collect(),  # noqa: E711
        lambda: pr.search_hashes(url, "people", field("loc").within(1, 2, 3, "parsec")).collect(),  # type: ignore[arg-type]
        lambda: pr.search_hashes(url, "people", field("age").is_in([]), PEOPLE).collect(),
        lambda: pr.aggregate_hashes(url, "people", reduce={"n": (1, "age")}).collect(),
        lambda: pr.aggregate_hashes(url, "people", reduce={"n": ("sum", None)}).collect(),
        lambda: pr.aggregate_hashes(url, "people", reduce={"n": "count"}, schema={"x": pl.Int64}),
        lambda: pr.aggregate_hashes(url, "people").collect(),
        lambda: pr.create_index(url, "x", "x:", {"a": pl.Int64}, types={"a": "VECTOR"}),  # type: ignore[dict-item]
        lambda: pr.create_index(url, "x", "x:", {"a": pl.Int64}, types={"b": "TAG"}),
        lambda: pr.create_index(url, "x", "x:", {"a": pl.Int64}, on="zset"),  # type: ignore[arg-type]
        lambda: pr.create_index(url, "x", "x:", {"a": pl.Int64}, wait=-1),
        lambda: pr.create_index(url, "x", "x:", {}),
    ]
    for n, call in enumerate(bad):
        with pytest.raises(pr.InvalidInputError):
            call()
            pytest.fail(f"bad input #{n} was accepted")
    assert not pr.index_exists(url, "x")


def test_search_json(stack_url: str, stack_client: Any) -> None:
    docs = []
    for n in range(60):
        doc = {
            "name": ["Hello World", "The End", "bob"][n % 3],
            "kind": ["Book", "film", "game"][n % 3],
            "price": n * 1.5,
            "meta": {"year": 2000 + n % 5},
        }
        docs.append({"_key": f"js:{n}", **doc})
        stack_client.execute_command("JSON.SET", f"js:{n}", "$", json.dumps(doc))
    stack_client.execute_command(
        "FT.CREATE", "js", "ON", "JSON", "PREFIX", "1", "js:", "SCHEMA",
        "$.name", "AS", "name", "TEXT", "$.kind", "AS", "kind", "TAG",
        "$.price", "AS", "price", "NUMERIC", "SORTABLE", "$.meta.year", "AS", "year", "NUMERIC",
    )  # fmt: skip
    _wait_indexed(stack_client, "js")
    truth = pl.DataFrame(docs).with_columns(year=pl.col("meta").struct.field("year"))
    schema = {"name": pl.String, "kind": pl.String, "price": pl.Float64, "year": pl.Int64}
    paths = {"year": "$.meta.year"}

    def search(query: pr.Query) -> list[str]:
        return _keys(pr.search_json(stack_url, "js", query, schema, paths=paths).collect())

    assert search(field("kind") == "book") == _keys(truth.filter(pl.col("kind") == "Book"))
    assert search(field("name") == "hello world") == _keys(
        truth.filter(pl.col("name") == "Hello World")
    )
    assert search((field("price") >= 60) & (field("year") == 2001)) == _keys(
        truth.filter((pl.col("price") >= 60) & (pl.col("year") == 2001))
    )
    # A nested path column is indexed under its alias; filters on it are pushed.
    lf = pr.scan_json(stack_url, "js:*", schema, paths=paths).filter(pl.col("year") == 2003)
    assert "index `js`" in pr.explain_pushdown(lf)
    assert "@year:[$pp0 $pp1]" in pr.explain_pushdown(lf)
    assert _keys(lf.collect()) == _keys(truth.filter(pl.col("year") == 2003))
    top = pr.search_json(
        stack_url, "js", "*", schema, paths=paths, sort_by="price", descending=True
    )
    assert top.head(3).collect()["price"].to_list() == [88.5, 87.0, 85.5]
    # schema=None: root members by name, other paths by attribute name.
    inferred = pr.search_json(stack_url, "js", "@kind:{film}").collect()
    assert inferred.schema == pl.Schema(
        {
            "_key": pl.String,
            "name": pl.String,
            "kind": pl.String,
            "price": pl.Float64,
            "year": pl.Float64,
        }
    )
    assert sorted(inferred["year"].to_list()) == sorted(
        float(y) for y in truth.filter(pl.col("kind") == "film")["year"]
    )
    with pytest.raises(pr.InvalidInputError, match="use search_json"):
        pr.search_hashes(stack_url, "js")
