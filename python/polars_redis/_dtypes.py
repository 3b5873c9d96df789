"""Translate Polars dtypes into the dtype specs the Rust core reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

import polars as pl

from polars_redis import _internal
from polars_redis.exceptions import ArgumentTypeError, InvalidInputError

SchemaLike = Union[Mapping[str, Any], pl.Schema]
DType = Union[pl.DataType, type[pl.DataType]]

#: The dtypes without parameters, by their spec name: the core's table
#: (``polars_redis::types::SIMPLE_TYPES``) names them as Polars does.
_SIMPLE: dict[str, type[pl.DataType]] = {
    name: getattr(pl, name) for name in _internal.simple_dtype_names()
}
_SIMPLE_NAMES: dict[type[pl.DataType], str] = {dtype: name for name, dtype in _SIMPLE.items()}


def normalize(dtype: Any) -> Any:
    """A dtype instance for a dtype class (``pl.Datetime`` -> ``pl.Datetime("us")``)."""
    if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
        return dtype()
    return dtype


def dtype_spec(name: str, dtype: Any) -> tuple[Any, ...]:
    """Return the core's spec tuple for one field, or raise naming the field."""
    dtype = normalize(dtype)
    if not isinstance(dtype, pl.DataType):
        msg = f"field {name!r}: expected a Polars dtype (e.g. pl.Int64), got {type(dtype).__name__}"
        raise ArgumentTypeError(msg)
    if isinstance(dtype, pl.Datetime):
        return ("Datetime", dtype.time_unit or "us", dtype.time_zone)
    if isinstance(dtype, pl.Duration):
        return ("Duration", dtype.time_unit or "us")
    if isinstance(dtype, pl.Decimal):
        return ("Decimal", dtype.precision or 38, dtype.scale)
    if isinstance(dtype, pl.Enum):
        return ("Enum", [str(c) for c in dtype.categories.to_list()])
    if isinstance(dtype, pl.List):
        return ("List", dtype_spec(name, dtype.inner))
    if isinstance(dtype, pl.Array):
        return ("Array", dtype_spec(name, dtype.inner), dtype.size)
    if isinstance(dtype, pl.Struct):
        return ("Struct", [(f.name, dtype_spec(name, f.dtype)) for f in dtype.fields])
    simple = _SIMPLE_NAMES.get(type(dtype))
    if simple is None:
        msg = (
            f"field {name!r}: dtype {dtype} is not supported for Redis values "
            f"(supported: {', '.join(sorted(_SIMPLE))}, Datetime, "
            "Duration, Decimal, Enum, List, Array and Struct)"
        )
        raise InvalidInputError(msg)
    return (simple,)


def field_specs(schema: SchemaLike) -> list[tuple[str, tuple[Any, ...]]]:
    """Specs for every field of a schema mapping, in order."""
    if not isinstance(schema, Mapping):
        msg = f"schema must be a mapping of field name to Polars dtype, got {type(schema).__name__}"
        raise InvalidInputError(msg)
    return [(str(name), dtype_spec(str(name), dtype)) for name, dtype in schema.items()]


def format_pairs(formats: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """The ``formats=`` mapping (column name to strftime format or epoch
    unit) as the ``(column, spec)`` pairs the core reads. Its shape was
    checked by the public function's ``@checked``; the core checks each
    spec and column."""
    return list((formats or {}).items())


def needs_cast(dtype: Any) -> bool:
    """Dtypes that cross the Arrow boundary as strings and are cast in Python
    (Categorical and Enum, also inside List and Struct)."""
    if isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype in (pl.Categorical,):
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        return needs_cast(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(needs_cast(f.dtype) for f in dtype.fields)
    return False


def spec_dtype(spec: tuple[Any, ...]) -> pl.DataType:
    """The Polars dtype of a core spec tuple (the inverse of :func:`dtype_spec`)."""
    name, *args = spec
    if name == "Datetime":
        return pl.Datetime(args[0], args[1])
    if name == "Duration":
        return pl.Duration(args[0])
    if name == "Decimal":
        return pl.Decimal(args[0], args[1])
    if name == "Enum":
        return pl.Enum(args[0])
    if name == "List":
        return pl.List(spec_dtype(args[0]))
    if name == "Array":
        return pl.Array(spec_dtype(args[0]), args[1])
    if name == "Struct":
        return pl.Struct({field: spec_dtype(inner) for field, inner in args[0]})
    simple = _SIMPLE.get(name)
    if simple is None:
        msg = f"unknown dtype spec {spec!r}"
        raise InvalidInputError(msg)
    return simple()
