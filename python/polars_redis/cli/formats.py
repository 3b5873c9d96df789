"""Files the command line reads and writes, by extension, and the schemas
it takes (``--schema name:String,age:Int64`` or ``--schema @schema.json``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from polars_redis.cli.urls import UsageError

# Extension -> (lazy reader, LazyFrame sink method name)
FILE_FORMATS: dict[str, tuple[Callable[..., pl.LazyFrame], str]] = {
    "parquet": (pl.scan_parquet, "sink_parquet"),
    "csv": (pl.scan_csv, "sink_csv"),
    "ndjson": (pl.scan_ndjson, "sink_ndjson"),
    "jsonl": (pl.scan_ndjson, "sink_ndjson"),
    "arrow": (pl.scan_ipc, "sink_ipc"),
    "ipc": (pl.scan_ipc, "sink_ipc"),
    "feather": (pl.scan_ipc, "sink_ipc"),
}


def file_format(path: str) -> tuple[Callable[..., pl.LazyFrame], str]:
    """The reader and sink for ``path``'s extension."""
    extension = Path(path).suffix.lstrip(".").lower()
    if extension not in FILE_FORMATS:
        known = ", ".join(f".{e}" for e in FILE_FORMATS)
        raise UsageError(f"{path}: unknown file type {extension or '(none)'!r}; use one of {known}")
    return FILE_FORMATS[extension]


_DTYPE = re.compile(r"^\s*(\w+)\s*(?:\[\s*([^\]]*)\])?\s*$")


def parse_dtype(text: str) -> pl.DataType:
    """``Int64``, ``String``, ``Datetime[ms]``, ``Datetime[us, UTC]``, ``Decimal[12, 2]``..."""
    match = _DTYPE.match(text)
    dtype = getattr(pl, match.group(1), None) if match else None
    if not (isinstance(dtype, type) and issubclass(dtype, pl.DataType)):
        raise UsageError(f"--schema: unknown dtype {text!r} (Polars names: Int64, String, ...)")
    params = [p.strip() for p in match.group(2).split(",")] if match and match.group(2) else []
    try:
        return dtype(*(int(p) if p.isdigit() else p for p in params))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--schema: bad parameters in {text!r}: {exc}") from None


def parse_schema(text: str | None) -> dict[str, pl.DataType] | None:
    """``name:dtype,...`` or ``@file.json`` (an object of name to dtype text)."""
    if text is None:
        return None
    if text.startswith("@"):
        try:
            pairs: Any = json.loads(Path(text[1:]).read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(f"--schema: cannot read {text[1:]}: {exc}") from None
        if not isinstance(pairs, dict):
            raise UsageError(f"--schema: {text[1:]} must hold a JSON object of name to dtype")
        return {str(name): parse_dtype(str(dtype)) for name, dtype in pairs.items()}
    schema = {}
    for item in _split_top_level(text):
        name, sep, dtype = item.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--schema: expected name:dtype, got {item!r}")
        schema[name.strip()] = parse_dtype(dtype)
    return schema


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets (``a:Datetime[us, UTC],b:Int64``)."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item for item in items if item.strip()]
