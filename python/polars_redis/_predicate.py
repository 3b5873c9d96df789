"""Serialize a Polars predicate for the core's pushdown translator.

``Expr.meta.serialize(format="json")`` stores ``is_in`` lists as Arrow IPC
bytes; this module evaluates those literals with Polars itself and replaces
them by ``{"Literal": {"Values": [...]}}`` so the core can read them.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl


def serialize(predicate: pl.Expr) -> str | None:
    """The predicate as JSON with list literals resolved, or None if it cannot be read."""
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except Exception:  # the format is Polars-internal: no pushdown, no error
        return None
    return json.dumps(_resolve(tree))


def _resolve(node: Any) -> Any:
    if isinstance(node, list):
        return [_resolve(item) for item in node]
    if not isinstance(node, dict):
        return node
    literal = node.get("Literal")
    if isinstance(literal, dict) and "List" in literal.get("Scalar", {}):
        values = _list_values(node)
        return {"Literal": {"Values": values}} if values is not None else node
    return {key: _resolve(value) for key, value in node.items()}


def _list_values(node: dict[str, Any]) -> list[Any] | None:
    try:
        expr = pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json")
        values = pl.select(expr).to_series().to_list()
    except Exception:
        return None
    flat = values[0] if len(values) == 1 and isinstance(values[0], list) else values
    if all(v is None or isinstance(v, (str, int, float, bool)) for v in flat):
        return list(flat)
    return None
