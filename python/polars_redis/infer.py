"""Schema inference: sample keys and tell which type each field most likely has."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import dtype_spec, normalize, spec_dtype
from polars_redis._plugin import selection, to_bytes
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError


@dataclass(frozen=True)
class FieldInference:
    """What inference concluded about one field.

    Attributes
    ----------
    name
        Field name.
    dtype
        The chosen Polars dtype.
    present
        Sampled keys that have the field.
    matching
        Values whose narrowest type is the chosen one.
    candidates
        Every narrowest type seen, with how many values had it.
    confidence
        ``matching / present``: 1.0 when every value pointed at the chosen type.
    note
        Why a wider type was chosen (``"mixed Int64, Float64 -> Float64"``), or
        that the user set it.
    """

    name: str
    dtype: pl.DataType
    present: int
    matching: int
    candidates: dict[str, int]
    confidence: float
    note: str | None = None


@dataclass(frozen=True)
class InferredSchema(Mapping[str, pl.DataType]):
    """The result of :func:`infer_hash_schema` (and of :func:`infer_json_schema`,
    :func:`infer_stream_schema`); a mapping of field name to dtype,
    so it can be passed as ``schema=`` to the scan functions.

    Attributes
    ----------
    fields
        Per-field detail, by name.
    sample_count
        Keys actually sampled.
    keys_seen
        Distinct matching keys seen while walking the keyspace.
    complete_scan
        False when the time budget ended the walk before the keyspace did.
    """

    fields: dict[str, FieldInference]
    sample_count: int
    keys_seen: int
    complete_scan: bool
    _schema: pl.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = pl.Schema({name: f.dtype for name, f in self.fields.items()})
        object.__setattr__(self, "_schema", schema)

    @property
    def schema(self) -> pl.Schema:
        """The inferred schema as a ``pl.Schema``."""
        return self._schema

    def __getitem__(self, name: str) -> pl.DataType:
        return self._schema[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._schema)

    def __len__(self) -> int:
        return len(self._schema)

    def low_confidence(self, threshold: float = 1.0) -> list[FieldInference]:
        """Fields whose confidence is below ``threshold``."""
        return [f for f in self.fields.values() if f.confidence < threshold]

    def with_overwrite(self, dtypes: Mapping[str, Any]) -> InferredSchema:
        """A copy with some fields' dtypes set by hand (no re-sampling).

        Unknown field names are added, so a field the sample missed can be declared too.
        """
        fields = dict(self.fields)
        for name, dtype in dtypes.items():
            dtype_spec(name, dtype)  # validate
            dtype = normalize(dtype)
            old = fields.get(name)
            fields[name] = (
                replace(old, dtype=dtype, note="type set by the user")
                if old is not None
                else FieldInference(name, dtype, 0, 0, {}, 1.0, "added by the user")
            )
        return replace(self, fields=fields)

    def describe(self) -> pl.DataFrame:
        """One row per field: dtype, presence, confidence and notes."""
        return pl.DataFrame(
            {
                "field": list(self.fields),
                "dtype": [str(f.dtype) for f in self.fields.values()],
                "present": [f.present for f in self.fields.values()],
                "confidence": [f.confidence for f in self.fields.values()],
                "note": [f.note for f in self.fields.values()],
            },
            schema_overrides={"present": pl.UInt64},
        )

    def parse_hint(self) -> str:
        """Advice appended to parse errors of scans using this schema."""
        return (
            f"the dtype was inferred from a sample of {self.sample_count} keys; "
            "pass schema= or the inferred schema's .with_overwrite({...}) to correct it"
        )


@checked
@with_scan_options
def infer_hash_schema(
    url: str | Client,
    pattern: str | bytes = "*",
    *,
    sample_size: int = _internal.DEFAULT_INFER_SAMPLE_SIZE,
    scan_budget: float = _internal.DEFAULT_INFER_SCAN_BUDGET,
    count_hint: int = _internal.DEFAULT_INFER_COUNT_HINT,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
) -> InferredSchema:
    """Infer the field types of the hashes matching ``pattern`` from a sample.

    The keyspace is walked with ``SCAN ... TYPE hash`` and a uniform random sample
    of ``sample_size`` keys is kept (spread over the whole keyspace, not just the
    first page); the walk stops after ``scan_budget`` seconds. Each value votes
    for its narrowest type (Boolean ``true``/``false``, Int64, Float64, Date,
    Datetime with or without offset, String); a field whose values disagree gets
    the widest sound type (Int64 + Float64 -> Float64, anything else -> String),
    with a note and a lower confidence.

    Parameters
    ----------
    url
        Redis URL, as for :func:`scan_hashes`.
    {infer_options}

    Returns
    -------
    InferredSchema
        A mapping of field name to dtype with per-field detail.

    Raises
    ------
    SchemaInferenceError
        When no hash matches the pattern.

    Examples
    --------
    >>> import polars_redis as redis
    >>> inferred = redis.infer_hash_schema(url, "user:*")
    >>> inferred.sample_count
    3
    >>> dict(inferred)
    {'active': Boolean, 'age': Int64, 'city': String, 'name': String}
    >>> lf = redis.scan_hashes(url, "user:*", schema=inferred.with_overwrite({"age": pl.Int32}))
    """
    budget = (rate_limit, latency_budget_ms)
    return _infer("hash", url, pattern, sample_size, scan_budget, count_hint, budget, retries)


@checked
@with_scan_options
def infer_json_schema(
    url: str | Client,
    pattern: str | bytes = "*",
    *,
    sample_size: int = _internal.DEFAULT_INFER_SAMPLE_SIZE,
    scan_budget: float = _internal.DEFAULT_INFER_SCAN_BUDGET,
    count_hint: int = _internal.DEFAULT_INFER_COUNT_HINT,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
) -> InferredSchema:
    """Infer the types of the top-level members of the JSON documents matching ``pattern``.

    Sampling works as for :func:`infer_hash_schema` (``SCAN ... TYPE ReJSON-RL``).
    JSON values carry their own types: numbers are Int64 or Float64, booleans
    Boolean, strings String (or Date / Datetime when every sampled string is
    ISO-8601; digits in quotes stay String), nested objects Struct and arrays
    List with their element type. Nulls make a field nullable without choosing
    its type. Disagreeing values widen (Int64 + Float64 -> Float64, anything
    else -> String, which reads any JSON value as its text), with a note and a
    lower confidence.

    Parameters
    ----------
    url
        Redis URL, as for :func:`scan_json`.
    {infer_options}

    Returns
    -------
    InferredSchema
        A mapping of member name to dtype with per-member detail.

    Raises
    ------
    SchemaInferenceError
        When no JSON document matches the pattern, or a document's root is not an object.
    UnsupportedError
        When the server has no RedisJSON module.

    Examples
    --------
    >>> import polars_redis as redis
    >>> inferred = redis.infer_json_schema(url, "doc:*")
    >>> inferred["address"]
    Struct({'city': String, 'zip': String})
    """
    budget = (rate_limit, latency_budget_ms)
    return _infer("json", url, pattern, sample_size, scan_budget, count_hint, budget, retries)


@checked
@with_scan_options
def infer_stream_schema(
    url: str | Client,
    pattern: str | bytes = "*",
    *,
    sample_size: int = _internal.DEFAULT_INFER_SAMPLE_SIZE,
    scan_budget: float = _internal.DEFAULT_INFER_SCAN_BUDGET,
    count_hint: int = _internal.DEFAULT_INFER_COUNT_HINT,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
) -> InferredSchema:
    """Infer the types of the entry fields of the streams matching ``pattern``.

    Streams are sampled as hashes are by :func:`infer_hash_schema`
    (``SCAN ... TYPE stream``); each sampled stream gives its first and its
    last 50 entries (``XRANGE``, ``XREVRANGE``), so fields added or dropped
    over the stream's life are seen. Entry values are text and vote for
    their type as hash values do.

    Parameters
    ----------
    url
        Redis URL, as for :func:`scan_streams`.
    {infer_options}

    Returns
    -------
    InferredSchema
        A mapping of entry field name to dtype with per-field detail;
        ``sample_count`` counts streams, each field's ``present`` and
        ``matching`` count entries.

    Raises
    ------
    SchemaInferenceError
        When no stream matches the pattern.

    Examples
    --------
    >>> import polars_redis as redis
    >>> inferred = redis.infer_stream_schema(url, "events:*")
    >>> dict(inferred)
    {'amount': Float64, 'user': String}
    """
    budget = (rate_limit, latency_budget_ms)
    return _infer("stream", url, pattern, sample_size, scan_budget, count_hint, budget, retries)


def _infer(
    kind: str,
    url: str | Client,
    pattern: str | bytes,
    sample_size: int,
    scan_budget: float,
    count_hint: int,
    budget: tuple[float | None, float | None],
    retries: int,
) -> InferredSchema:
    raw = _internal.infer_schema(
        url,
        kind,
        to_bytes(pattern),
        sample_size=sample_size,
        scan_budget=scan_budget,
        count_hint=count_hint,
        rate_limit=budget[0],
        latency_budget_ms=budget[1],
        retries=retries,
    )
    return _from_raw(raw)


def _from_raw(raw: dict[str, Any]) -> InferredSchema:
    fields = {
        f["name"]: FieldInference(
            name=f["name"],
            dtype=spec_dtype(tuple(f["dtype"])),
            present=f["present"],
            matching=f["matching"],
            candidates=dict(f["candidates"]),
            confidence=f["confidence"],
            note=f["note"],
        )
        for f in raw["fields"]
    }
    return InferredSchema(
        fields=fields,
        sample_count=raw["sample_count"],
        keys_seen=raw["keys_seen"],
        complete_scan=raw["complete_scan"],
    )


def schema_for_scan(kind: str, args: dict[str, Any]) -> Mapping[str, Any]:
    """The schema a ``scan_*`` call reads with: the given one, or one inferred
    now (once) from ``args["infer_sample_size"]`` keys of the pattern. Sets
    ``args["parse_hint"]`` when the schema was inferred, so parse errors say so."""
    schema = args["schema"]
    if schema is None:
        if args["keys"] is not None:
            msg = "schema inference samples a pattern: pass schema= when reading explicit keys"
            raise InvalidInputError(msg)
        infer = {
            "hash": infer_hash_schema,
            "json": infer_json_schema,
            "stream": infer_stream_schema,
        }[kind]
        schema = infer(
            args["url"],
            args["pattern"] or "*",
            sample_size=args["infer_sample_size"],
            rate_limit=args.get("rate_limit"),
            latency_budget_ms=args.get("latency_budget_ms"),
            retries=args.get("retries", _internal.DEFAULT_RETRIES),
        )
        for f in schema.low_confidence():
            if f.dtype == pl.String and f.note:
                warnings.warn(
                    f"field {f.name!r} was inferred as String ({f.note}); pass schema= to choose",
                    stacklevel=5,
                )
    if isinstance(schema, InferredSchema):
        args["parse_hint"] = schema.parse_hint()
    return schema  # type: ignore[no-any-return]


def explain_detail(what: str, args: dict[str, Any], schema: Mapping[str, Any]) -> str:
    """The ``explain()`` line of a scan: what it reads, and where its schema came from."""
    detail = f"{what} {selection(args)}"
    if isinstance(schema, InferredSchema):
        detail += f"; schema inferred from {schema.sample_count} keys"
    return detail
