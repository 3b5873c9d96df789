"""The Python <-> Rust seam is typed: ``mypy --strict`` rejects unknown
options and wrong option types of ``read_*``/``iter_*``/``search_*``, and
each options TypedDict lists exactly the keyword parameters of its
``scan_*`` (or ``*_hashes``) function, with the same annotations."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import _internal
from polars_redis._dtypes import dtype_spec, spec_dtype
from polars_redis.hashes import HashReadOptions, HashScanOptions
from polars_redis.json import JsonScanOptions
from polars_redis.lists import ListScanOptions
from polars_redis.search import AggregateOptions, JsonSearchOptions
from polars_redis.sets import SetScanOptions
from polars_redis.streams import StreamScanOptions
from polars_redis.strings import StringScanOptions
from polars_redis.timeseries import TimeSeriesScanOptions
from polars_redis.zsets import ZsetScanOptions

HEADER = 'import polars as pl\nimport polars_redis as pr\nURL = "redis://127.0.0.1"\n'

#: Snippet -> the error mypy must report for it.
REJECTED = {
    'pr.read_hashes(URL, "u:*", {"a": pl.Int64}, batchsize=5)': (
        'Unexpected keyword argument "batchsize" for "read_hashes"'
    ),
    'pr.iter_hashes(URL, "u:*", {"a": pl.Int64}, batch_size="5")': (
        'Argument "batch_size" to "iter_hashes" has incompatible type "str"; expected "int"'
    ),
    'pr.read_json(URL, "d:*", fetch="hgetall")': 'Argument "fetch" to "read_json"',
    "pr.iter_strings(URL, value_column=1)": 'Unexpected keyword argument "value_column"',
    "pr.read_sets(URL, strict=None)": 'Argument "strict" to "read_sets"',
    "pr.read_lists(URL, include_position=1.5)": 'Argument "include_position" to "read_lists"',
    'pr.iter_zsets(URL, include_rank="yes")': 'Argument "include_rank" to "iter_zsets"',
    'pr.read_streams(URL, "s:*", {"a": pl.Int64}, count_per_stream="3")': (
        'Argument "count_per_stream" to "read_streams"'
    ),
    'pr.read_timeseries(URL, aggregation="median")': 'Argument "aggregation" to "read_timeseries"',
    'pr.search_hashes(URL, "idx", keys=["a"])': 'Unexpected keyword argument "keys"',
    'pr.search_json(URL, "idx", descending="yes")': 'Argument "descending" to "search_json"',
    'pr.aggregate_json(URL, "idx", limit="10")': 'Argument "limit" to "aggregate_json"',
}

ACCEPTED = """
frames = [
    pr.read_hashes(URL, "u:*", {"a": pl.Int64}, batch_size=5, fetch="hmget", index=None),
    pr.read_json(URL, "d:*", {"a": pl.Int64}, path="$.x", paths={"a": "$.a"}, deadline=2.0),
    pr.read_strings(URL, value_type=pl.Int64, keys=["a", b"b"], include_ttl=True),
    pr.read_sets(URL, member_type=pl.Int64, member_column_name="m"),
    pr.read_lists(URL, include_position=True, parallelism=2),
    pr.read_zsets(URL, include_rank=True, count_hint=None),
    pr.read_streams(URL, "s:*", {"a": pl.Int64}, start_id=0, count_per_stream=3),
    pr.read_timeseries(URL, filter="a=b", aggregation="avg", bucket_size_ms=10),
]
for batch in pr.iter_hashes(URL, "u:*", {"a": pl.Int64}, batch_size=5, strict=False):
    frames.append(batch)
lazy = [
    pr.search_hashes(URL, "idx", "*", None, sort_by="a", fetch="hgetall"),
    pr.search_json(URL, "idx", params={"x": 1}, path="$", search_timeout=1.0),
    pr.aggregate_json(URL, "idx", group_by="a", reduce={"n": "count"}, limit=10),
]
"""


def mypy(files: list[Path], cache: Path) -> str:
    """Run ``mypy --strict`` on ``files`` and return its output. The cache is
    the caller's own: a shared one could answer for same-named files of an
    earlier run, under their old paths."""
    command = ["--strict", "--no-error-summary", "--cache-dir", str(cache), *map(str, files)]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *command], capture_output=True, text=True, timeout=600
    )
    assert 'module named "polars_redis"' not in done.stdout, done.stdout
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """mypy's output per snippet (``"accepted"`` for the correct calls), from one run."""
    folder = tmp_path_factory.mktemp("typing")
    files = {"accepted": folder / "accepted.py"}
    files["accepted"].write_text(HEADER + ACCEPTED)
    for i, snippet in enumerate(REJECTED):
        files[snippet] = folder / f"rejected_{i}.py"
        files[snippet].write_text(HEADER + snippet + "\n")
    output = mypy(list(files.values()), folder / ".mypy_cache")
    return {
        key: "\n".join(line for line in output.splitlines() if line.startswith(str(path)))
        for key, path in files.items()
    }


def test_correct_calls_type_check(mypy_output: dict[str, str]) -> None:
    assert mypy_output["accepted"] == ""


@pytest.mark.parametrize("snippet", list(REJECTED))
def test_wrong_options_are_rejected(mypy_output: dict[str, str], snippet: str) -> None:
    assert REJECTED[snippet] in mypy_output[snippet], mypy_output[snippet]


def keyword_parameters(function: Callable[..., Any]) -> dict[str, str]:
    """The keyword-only parameters of ``function`` with their annotation text."""
    return {
        name: str(p.annotation)
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def options_of(typed_dict: Any) -> dict[str, str]:
    """The keys of an options TypedDict with their annotation text."""
    return {
        name: getattr(annotation, "__forward_arg__", annotation)
        for name, annotation in typed_dict.__annotations__.items()
    }


@pytest.mark.parametrize(
    ("options", "scan"),
    [
        (HashScanOptions, pr.scan_hashes),
        (JsonScanOptions, pr.scan_json),
        (StringScanOptions, pr.scan_strings),
        (SetScanOptions, pr.scan_sets),
        (ListScanOptions, pr.scan_lists),
        (ZsetScanOptions, pr.scan_zsets),
        (StreamScanOptions, pr.scan_streams),
        (TimeSeriesScanOptions, pr.scan_timeseries),
        (AggregateOptions, pr.aggregate_hashes),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_options_match_the_signature(options: Any, scan: Callable[..., Any]) -> None:
    assert options_of(options) == keyword_parameters(scan)


def test_search_options_match_the_scans() -> None:
    hash_scan = keyword_parameters(pr.scan_hashes)
    assert options_of(HashReadOptions).items() <= hash_scan.items()
    assert {"keys", "index"}.isdisjoint(options_of(HashReadOptions))
    json_search = options_of(JsonSearchOptions)
    assert keyword_parameters(pr.search_hashes).items() <= json_search.items()
    assert json_search.keys() - keyword_parameters(pr.search_hashes).keys() <= set(
        keyword_parameters(pr.scan_json)
    )


def test_defaults_come_from_the_core() -> None:
    def default(function: Callable[..., Any], name: str) -> Any:
        return inspect.signature(function).parameters[name].default

    for scan in (pr.scan_hashes, pr.scan_strings, pr.scan_timeseries):
        assert default(scan, "batch_size") == _internal.DEFAULT_BATCH_SIZE == 1000
        assert default(scan, "parallelism") == _internal.DEFAULT_PARALLELISM == 3
    assert default(pr.scan_json, "search_timeout") == _internal.DEFAULT_SEARCH_TIMEOUT == 10.0
    assert default(pr.infer_hash_schema, "sample_size") == _internal.DEFAULT_INFER_SAMPLE_SIZE
    assert _internal.DEFAULT_WRITE_BATCH_SIZE == 2000


@pytest.mark.parametrize("name", _internal.simple_dtype_names())
def test_simple_dtypes_come_from_the_core_table(name: str) -> None:
    dtype = getattr(pl, name)
    assert dtype_spec("x", dtype) == (name,)
    assert spec_dtype((name,)) == dtype()
