"""Every mistake in a call is a clear error before any work starts.

* Wrong types (``batch_size="100"``, ``url=None``, ``keys="user:1"``, ...) raise
  :class:`ArgumentTypeError`: an :class:`InvalidInputError` (so a
  ``ValueError``) that is also a ``TypeError``, naming the function, the
  parameter, the expected type and what was given; an unknown option names the
  closest valid one. Checked for every public function and every parameter.
* Size options outside the core's documented bounds raise
  :class:`InvalidInputError` naming the bounds, and never abort the process,
  even under a memory cap.
"""

from __future__ import annotations

import functools
import inspect
import subprocess
import sys
import textwrap
from datetime import timedelta
from typing import Any, Callable

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import _internal

URL = "redis://127.0.0.1:1"  # never reached: arguments are checked first
SCHEMA = {"n": pl.Int64}

PUBLIC: dict[str, Callable[..., Any]] = {
    name: getattr(pr, name) for name in pr.__all__ if inspect.isfunction(getattr(pr, name))
}

#: The DataFrame cache's functions: ``scan_cached`` reads one cache key, not a key scan.
CACHE = {n for n in PUBLIC if PUBLIC[n].__module__ == "polars_redis.cache"}

#: A valid value for each required parameter of the public functions.
REQUIRED = {
    "url": URL,
    "df": pl.DataFrame({"_key": ["a"], "value": ["1"]}),
    "lf": pl.LazyFrame({"a": [1]}),
    "index": "idx",
    "key": "k",
    "kind": "hashes",
    "name": "idx",
    "pattern": "user:*",
    "prefix": "p:",
    "schema": SCHEMA,
    "text": "@a:{b}",
    # key management and geo sets
    "keys": ["a"],
    "ttl": 60,
    "key_column": "_key",
    "ttl_column": "value",
    "mapping": {"a": "b"},
    "member": "m",
    "members": ["m"],
    "member1": "m",
    "member2": "n",
    "longitude": 1.0,
    "latitude": 2.0,
    "radius": 1.0,
    "width": 1.0,
    "height": 1.0,
    # streams in motion and pub/sub
    "stream": "events",
    "group": "g",
    "entry_ids": ["1-0"],
    "channels": ["news"],
    "field": "emb",
    "vector": [1.0, 2.0],
    "k": 3,
    "vector_column": "value",
}


def required_args(function: Callable[..., Any]) -> list[Any]:
    return [
        REQUIRED[name]
        for name, p in inspect.signature(function).parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL, p.KEYWORD_ONLY)
    ]


def required_kwargs(function: Callable[..., Any]) -> dict[str, Any]:
    """Valid values of the required keyword-only parameters (``knn_join``'s ``k``)."""
    return {
        name: REQUIRED[name]
        for name, p in inspect.signature(function).parameters.items()
        if p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY
    }


def options_of(function: Callable[..., Any]) -> list[str]:
    """Every keyword a function takes: its parameters and its ``**options``' TypedDict keys."""
    names = []
    for name, p in inspect.signature(function).parameters.items():
        if p.kind is p.VAR_KEYWORD and p.annotation == "Any":
            continue  # forwarded options (partition_scan): checked by the callee's rules
        if p.kind is p.VAR_KEYWORD:
            typed_dict = str(p.annotation).removeprefix("Unpack[").removesuffix("]")
            names += list(vars(sys.modules[function.__module__])[typed_dict].__annotations__)
        elif p.kind is not p.VAR_POSITIONAL:
            names.append(name)
    return names


def raises_type_error(call: Callable[[], Any], *fragments: str) -> str:
    with pytest.raises(pr.ArgumentTypeError) as info:
        call()
    error = info.value
    assert isinstance(error, TypeError)
    assert isinstance(error, ValueError)
    assert isinstance(error, pr.InvalidInputError)
    assert isinstance(error, pr.PolarsRedisError)
    for fragment in fragments:
        assert fragment in str(error), str(error)
    return str(error)


def test_exception_hierarchy() -> None:
    assert issubclass(pr.InvalidInputError, ValueError)
    assert issubclass(pr.InvalidInputError, pr.PolarsRedisError)
    assert issubclass(pr.ArgumentTypeError, pr.InvalidInputError)
    assert issubclass(pr.ArgumentTypeError, TypeError)
    assert pr.exceptions.ArgumentTypeError is pr.ArgumentTypeError
    assert "ArgumentTypeError" in (pr.exceptions.__doc__ or "")
    # Errors the core reports are ValueErrors too.
    with pytest.raises(ValueError, match="batch_size must be between 1 and"):
        pr.scan_hashes(URL, "x:*", SCHEMA, batch_size=0)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_unknown_option_is_named_with_the_closest(name: str) -> None:
    function = PUBLIC[name]
    options = options_of(function)
    typo = options[-1] + "s"  # one letter off the last option
    message = raises_type_error(
        lambda: function(*required_args(function), **required_kwargs(function), **{typo: 1}),
        f"{name}()",
        repr(typo),
    )
    assert f"did you mean {options[-1]!r}?" in message


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_missing_argument_is_named(name: str) -> None:
    raises_type_error(PUBLIC[name], f"{name}(): missing a required argument")


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_parameter_checks_its_type(name: str) -> None:
    """An ``object()`` fits no annotation: every parameter and option refuses it."""
    function = PUBLIC[name]
    positional = required_args(function)
    required = list(inspect.signature(function).parameters)[: len(positional)]
    for option in options_of(function):
        kwargs: dict[str, Any] = required_kwargs(function)
        if option in required:
            args = [object() if p == option else v for p, v in zip(required, positional)]
        else:
            args, kwargs = positional, {**kwargs, option: object()}
        raises_type_error(
            lambda a=args, k=kwargs: function(*a, **k),  # type: ignore[misc]
            f"{name}(): {option} must be ",
            "got object",
        )


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (
            lambda: pr.scan_hashes(URL, "x:*", SCHEMA, batch_size="100"),
            ["scan_hashes(): batch_size must be an int, got str '100'"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", SCHEMA, batch_size=1.5),
            ["batch_size must be an int, got float 1.5"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", SCHEMA, parallelism=True),
            ["parallelism must be an int, got bool True"],
        ),
        (
            lambda: pr.read_hashes(None, "x:*", SCHEMA),
            ["url must be a str or a polars_redis.Client, got None"],
        ),
        (
            lambda: pr.read_strings(43520),
            ["read_strings(): url must be a str or a polars_redis.Client, got int 43520"],
        ),
        (
            lambda: pr.write_hashes(REQUIRED["df"], 43500),
            ["write_hashes(): url must be a str or a polars_redis.Client, got int 43500"],
        ),
        (
            lambda: pr.write_hashes(REQUIRED["df"], URL, key_column=0),
            ["key_column must be a str or None, got int 0"],
        ),
        (
            lambda: pr.aggregate_hashes(URL, "idx", reduce=[("count",)]),
            ["reduce must be a mapping of str to (str or a list of any value) or None, got list"],
        ),
        (
            lambda: pr.read_hashes(URL, keys={"a": 1}, schema=SCHEMA),
            ["keys must be a list of str or bytes or None, got dict"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", [("n", pl.Int64)]),
            ["schema must be a mapping of str to any value, a pl.Schema or None, got list"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", {1: pl.Int64}),
            ["schema must be a mapping of str to any value"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", {"n": "int"}),
            ["field 'n': expected a Polars dtype (e.g. pl.Int64), got str"],
        ),
        (
            lambda: pr.read_sets(URL, member_type="int"),
            ["member_type must be a pl.DataType or a pl.DataType class, got str 'int'"],
        ),
        (
            lambda: pr.write_hashes(REQUIRED["df"], URL, ttl=1.5),
            ["ttl must be an int, a timedelta or None, got float 1.5"],
        ),
        (
            lambda: pr.write_streams(REQUIRED["df"], URL, derived_columns="_ts"),
            ["derived_columns must be a list of str, not a string"],
        ),
        (
            lambda: pr.read_hashes(URL, "x:*", SCHEMA, batchsize=5),
            ["read_hashes() got an unknown option 'batchsize'; did you mean 'batch_size'?"],
        ),
        (
            lambda: pr.write_json(REQUIRED["df"], URL, ttl_colum="t"),
            ["did you mean 'ttl_column'?"],
        ),
    ],
)
def test_wrong_types_from_the_issue(call: Callable[[], Any], fragments: list[str]) -> None:
    raises_type_error(call, *fragments)


def test_a_wrong_choice_is_a_value_error_naming_the_closest() -> None:
    with pytest.raises(pr.InvalidInputError, match="did you mean 'hmget'") as info:
        pr.read_hashes(URL, "x:*", SCHEMA, fetch="hmgett")  # type: ignore[arg-type]
    assert not isinstance(info.value, TypeError)
    with pytest.raises(pr.InvalidInputError, match="if_exists must be one of 'fail', 'skip'"):
        pr.write_hashes(REQUIRED["df"], URL, if_exists="overwrite")  # type: ignore[typeddict-item]


def test_messages_never_show_a_url_given_in_the_wrong_place() -> None:
    secret_url = "redis://:hunter2@localhost:6379"
    message = raises_type_error(lambda: pr.write_hashes(secret_url, REQUIRED["df"]))  # type: ignore[arg-type]
    assert "hunter2" not in message
    message = raises_type_error(lambda: pr.read_hashes(secret_url.encode(), "x:*", SCHEMA))  # type: ignore[arg-type]
    assert "hunter2" not in message


# ------------------------------------------------------------ keys as a string

#: The functions taking a list of keys (``key_info`` takes a pattern as a string).
KEYED = sorted(
    name
    for name, function in PUBLIC.items()
    if "keys" in options_of(function) and name != "key_info"
)


#: Readers of named streams or channels as they arrive, not of keys by pattern.
IN_MOTION = {
    n for n in PUBLIC if PUBLIC[n].__module__ in ("polars_redis.consumer", "polars_redis.pubsub")
}


def test_every_reader_takes_keys() -> None:
    """Every reader of values (those with a ``batch_size``; ``scan_keys``
    lists keys by pattern only; consumer groups and pub/sub read named
    streams and channels)."""
    readers = {
        n
        for n in PUBLIC
        if n.split("_")[0] in ("scan", "read", "iter") and "batch_size" in options_of(PUBLIC[n])
    } - IN_MOTION
    assert readers <= set(KEYED)
    assert (
        readers | {"scan_keys"}
        == {n for n in PUBLIC if n.split("_")[0] in ("scan", "read", "iter")} - CACHE - IN_MOTION
    )


@pytest.mark.parametrize("name", KEYED)
@pytest.mark.parametrize("keys", ["user:1", b"user:1"], ids=["str", "bytes"])
def test_keys_as_a_string_is_refused(name: str, keys: str | bytes) -> None:
    function = PUBLIC[name]
    kwargs: dict[str, Any] = {"keys": keys}
    if "schema" in inspect.signature(function).parameters:
        kwargs["schema"] = SCHEMA
    for option, value in zip(inspect.signature(function).parameters, required_args(function)):
        kwargs.setdefault(option, value)
    raises_type_error(
        lambda: function(**kwargs), f"{name}(): keys must be a list of keys, not a string"
    )


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        # A string used to be searched as text: sortable="age" made "a" sortable too.
        (
            lambda: pr.create_index(URL, "i", "p:", {"a": pl.Int64}, sortable="age"),
            "sortable must be a list of str, not a string",
        ),
        (
            lambda: pr.create_index(URL, "i", "p:", {"a": pl.String}, case_sensitive="a"),
            "case_sensitive must be a list of str, not a string",
        ),
        (
            lambda: pr.read_hashes(URL, ["a:*", "b:*"], SCHEMA),  # type: ignore[arg-type]
            "pattern must be a str, bytes or None, got list",
        ),
    ],
    ids=["sortable", "case_sensitive", "pattern"],
)
def test_text_where_a_list_is_expected_and_back(call: Callable[[], Any], fragment: str) -> None:
    raises_type_error(call, fragment)


def test_keys_as_a_string_never_reads_single_characters(redis_url: str, redis_client: Any) -> None:
    redis_client.hset("user:1", mapping={"n": 1})
    redis_client.hset("u", mapping={"n": 2})
    with pytest.raises(pr.ArgumentTypeError, match="keys must be a list of keys"):
        pr.read_hashes(redis_url, keys="user:1", schema=SCHEMA)  # type: ignore[arg-type]
    assert pr.read_hashes(redis_url, keys=["user:1"], schema=SCHEMA).rows() == [("user:1", 1)]


# ------------------------------------------------------------------ size bounds

SCANS = sorted(n for n in PUBLIC if n.startswith("scan_") and "batch_size" in options_of(PUBLIC[n]))
WRITES = sorted(n for n in PUBLIC if n.startswith("write_"))


def scan_call(name: str, **options: Any) -> Callable[[], Any]:
    function = PUBLIC[name]
    if "schema" in inspect.signature(function).parameters:
        options.setdefault("schema", SCHEMA)
    return lambda: function(URL, **options)


def write_call(name: str, **options: Any) -> Callable[[], Any]:
    df = pl.DataFrame(
        {"_key": ["k"], "value": [1.0], "member": ["m"], "element": ["e"], "score": [1.0]},
    ).with_columns(_ts=pl.lit(1000))
    return lambda: PUBLIC[name](df, URL, **options)


def bounds_error(call: Callable[[], Any], option: str, limit: tuple[int, int], given: int) -> None:
    with pytest.raises(pr.InvalidInputError) as info:
        call()
    message = str(info.value)
    assert f"{option} must be between {limit[0]} and {limit[1]}, got {given}" in message
    assert isinstance(info.value, ValueError) and not isinstance(info.value, TypeError)


READ_LIMITS = {
    "batch_size": _internal.BATCH_SIZE_LIMIT,
    "parallelism": _internal.PARALLELISM_LIMIT,
    "count_hint": _internal.COUNT_HINT_LIMIT,
}
OUTSIDE = [0, -1, 10**9, 10**10, 10**30]


@pytest.mark.parametrize("name", SCANS)
@pytest.mark.parametrize("option", sorted(READ_LIMITS))
@pytest.mark.parametrize("given", OUTSIDE)
def test_scan_sizes_outside_the_bounds_are_refused(name: str, option: str, given: int) -> None:
    limit = READ_LIMITS[option]
    if given == 10**9 and limit[1] >= 10**9:
        return
    bounds_error(scan_call(name, **{option: given}), option, limit, given)


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("option", ["batch_size", "parallelism"])
@pytest.mark.parametrize("given", OUTSIDE)
def test_write_sizes_outside_the_bounds_are_refused(name: str, option: str, given: int) -> None:
    limit = {
        "batch_size": _internal.WRITE_BATCH_SIZE_LIMIT,
        "parallelism": _internal.WRITE_PARALLELISM_LIMIT,
    }[option]
    bounds_error(write_call(name, **{option: given}), option, limit, given)


@pytest.mark.parametrize("infer", [pr.infer_hash_schema, pr.infer_json_schema])
def test_inference_sizes_outside_the_bounds_are_refused(infer: Callable[..., Any]) -> None:
    sample = _internal.INFER_SAMPLE_SIZE_LIMIT
    for given in (0, -5, sample[1] + 1, 10**30):
        call = functools.partial(infer, URL, sample_size=given)
        bounds_error(call, "sample_size", sample, given)
    for given in (0, 10**10):
        call = functools.partial(infer, URL, count_hint=given)
        bounds_error(call, "count_hint", _internal.COUNT_HINT_LIMIT, given)
    # scan_* pass infer_sample_size on to inference.
    bounds_error(lambda: pr.scan_hashes(URL, "x:*", infer_sample_size=0), "sample_size", sample, 0)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: pr.aggregate_hashes(URL, "idx", limit=-1), "limit must be between 0 and"),
        (lambda: pr.aggregate_json(URL, "idx", limit=10**30), "limit must be between 0 and"),
        (
            lambda: pr.read_streams(URL, "s:*", SCHEMA, count_per_stream=10**30),
            "count_per_stream must be between 0 and",
        ),
        (
            lambda: pr.write_streams(REQUIRED["df"], URL, maxlen=-1),
            "maxlen must be between 0 and",
        ),
        (
            lambda: pr.write_timeseries(
                pl.DataFrame({"_key": ["t"], "_ts": [1], "value": [1.0]}), URL, retention=10**30
            ),
            "retention must be between 0 and",
        ),
    ],
    ids=["limit", "limit_huge", "count_per_stream", "maxlen", "retention"],
)
def test_counts_out_of_range_name_the_option(call: Callable[[], Any], fragment: str) -> None:
    """Not a bare ``OverflowError``: the option and its range are named."""
    with pytest.raises(pr.InvalidInputError, match=fragment):
        call()


def test_bounds_are_documented() -> None:
    low, high = _internal.BATCH_SIZE_LIMIT
    for name in SCANS:
        assert f"{low:,} to {high:,}" in (PUBLIC[name].__doc__ or ""), name


def test_the_largest_sizes_read_and_write(redis_url: str, redis_client: Any) -> None:
    for i in range(5):
        redis_client.hset(f"big:{i}", mapping={"n": i})
    batch, parallel = _internal.BATCH_SIZE_LIMIT[1], _internal.PARALLELISM_LIMIT[1]
    df = pr.read_hashes(
        redis_url, "big:*", SCHEMA, batch_size=batch, parallelism=parallel, count_hint=batch
    )
    assert sorted(df["n"].to_list()) == [0, 1, 2, 3, 4]
    frame = pl.DataFrame({"_key": ["w:1", "w:2"], "n": [1, 2]})
    written = pr.write_hashes(
        frame,
        redis_url,
        batch_size=_internal.WRITE_BATCH_SIZE_LIMIT[1],
        parallelism=_internal.WRITE_PARALLELISM_LIMIT[1],
        ttl=timedelta(minutes=1),
    )
    assert written.written == 2
    assert redis_client.hget("w:2", "n") == b"2"


def test_absurd_sizes_never_abort_under_a_memory_cap(redis_url: str, redis_client: Any) -> None:
    """A child process limited to 4 GiB of address space: huge sizes are
    errors, and the largest allowed ones read without allocating up front."""
    for i in range(3):
        redis_client.hset(f"cap:{i}", mapping={"n": i})
    child = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import polars as pl
        import polars_redis as pr
        from polars_redis import _internal
        url, schema = {redis_url!r}, {{"n": pl.Int64}}
        for size in (10**9, 10**10):
            for call in (
                lambda: pr.read_hashes(url, "cap:*", schema, batch_size=size),
                lambda: pr.read_lists(url, "cap:*", batch_size=size),
                lambda: pr.write_hashes(pl.DataFrame({{"_key": ["x"]}}), url, batch_size=size),
                lambda: pr.infer_hash_schema(url, "cap:*", sample_size=size * 10),
            ):
                try:
                    call()
                except pr.InvalidInputError as err:
                    assert "must be between" in str(err), err
                else:
                    raise AssertionError("accepted " + str(size))
        top = _internal.BATCH_SIZE_LIMIT[1]
        most = _internal.PARALLELISM_LIMIT[1]
        df = pr.read_hashes(url, "cap:*", schema, batch_size=top, parallelism=most)
        print(sorted(df["n"].to_list()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[0, 1, 2]"
