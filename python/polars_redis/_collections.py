"""What ``strings``, ``sets``, ``lists`` and ``zsets`` share: a scanner made
from the shared scan arguments plus one typed value column (the string value,
set member, list element or sorted-set member) and a few type-specific
column names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

import polars as pl

from polars_redis import _internal
from polars_redis._dtypes import dtype_spec, needs_cast
from polars_redis._plugin import lazy_scan, output_schema, read_frame, scan_args, selection

#: ``_internal.<type>_scanner(scan args, column name, dtype spec, *extra)``.
MakeScanner = Callable[..., _internal.Scanner]


def make_scanner(
    make: MakeScanner,
    args: Mapping[str, Any],
    column: str,
    extra: tuple[Any, ...] = (),
) -> tuple[_internal.Scanner, pl.Schema]:
    """The scanner and output schema of a scan whose typed value column is
    named by ``args[f"{column}_column_name"]`` with dtype ``args[f"{column}_type"]``."""
    name = str(args[f"{column}_column_name"])
    dtype = args[f"{column}_type"]
    if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
        dtype = dtype()  # e.g. pl.Categorical: a schema needs an instance
    scanner = make(scan_args(args), name, dtype_spec(name, dtype), *extra)
    declared = {name: dtype} if needs_cast(dtype) else {}
    return scanner, output_schema(scanner, declared)


def optional_column(args: Mapping[str, Any], option: str) -> str | None:
    """``args[f"{option}_column_name"]`` if ``args[f"include_{option}"]``."""
    return str(args[f"{option}_column_name"]) if args[f"include_{option}"] else None


def scan(
    kind: str, scanner: tuple[_internal.Scanner, pl.Schema], args: Mapping[str, Any]
) -> pl.LazyFrame:
    """The LazyFrame of a scan of ``kind`` (``"strings"``, ``"sets"``, ...)."""
    return lazy_scan(
        scanner[0], scanner[1], f"{kind} {selection(args)}", args["url"], args["progress"]
    )


def read(
    kind: str, scanner: tuple[_internal.Scanner, pl.Schema], args: Mapping[str, Any]
) -> pl.DataFrame:
    """Every row of a scan of ``kind``: what :func:`scan` collects to."""
    return read_frame(scanner[0], scanner[1], f"{kind} {selection(args)}", args["progress"])
