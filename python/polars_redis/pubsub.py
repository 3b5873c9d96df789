"""Pub/sub: subscribe to channels (or patterns) and gather the messages into
DataFrames. Messages are fire-and-forget: one published while nobody is
subscribed is never seen. For durable delivery, append to a stream and read
it with a consumer group (:func:`iter_stream`).

The option names of polars-redis 0.1.x are accepted too, with their meaning:
``count`` (``max_messages``), ``timeout_ms`` and ``window_seconds``
(``timeout_s``, in milliseconds and seconds; both given: the earlier end, as
0.1.x did) and ``parser`` (a function of each message's channel and payload
bytes returning its row as a dict). Giving one of them with the name it
stands for raises :class:`InvalidInputError`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, Union

import polars as pl

from polars_redis import _internal
from polars_redis._closing import ClosesOnExit
from polars_redis._dtypes import SchemaLike, field_specs
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError, ParseError

Channels = Union[str, bytes, Sequence[Union[str, bytes]]]
PayloadFormat = Literal["raw", "binary", "json"]
#: A 0.1.x ``parser``: the message's channel and payload bytes to its row.
Parser = Callable[[str, bytes], Mapping[str, Any]]


class PubSubBatches(ClosesOnExit, Iterator[pl.DataFrame]):
    """The batches of :func:`iter_pubsub`; usable as a context manager.
    Closing it (or leaving the ``with`` block) unsubscribes."""

    def __init__(
        self,
        subscription: _internal.PubSubSubscription,
        json_payload: bool,
        batch_size: int,
        batch_timeout_ms: int,
        max_messages: int | None,
        timeout_s: float | None,
        parser: Parser | None = None,
        schema: SchemaLike | None = None,
        strict: bool = True,
    ) -> None:
        self._subscription: _internal.PubSubSubscription | None = subscription
        self._json = json_payload
        self._parser = parser
        self._parsed_schema = schema
        self._strict = strict
        self._batch_size = batch_size
        self._batch_timeout = batch_timeout_ms / 1000
        self._left = max_messages
        self._deadline = None if timeout_s is None else time.monotonic() + timeout_s

    def __iter__(self) -> PubSubBatches:
        return self

    def __next__(self) -> pl.DataFrame:
        while (subscription := self._subscription) is not None:
            wait = self._batch_timeout
            if self._deadline is not None:
                wait = min(wait, self._deadline - time.monotonic())
            most = self._batch_size if self._left is None else min(self._batch_size, self._left)
            if wait <= 0 or most <= 0:
                self.close()
                break
            table = subscription.next_batch(most, wait)
            if table is None:
                break
            batch = pl.DataFrame(table)
            if self._left is not None:
                self._left -= batch.height
            if batch.height:
                return self._shape(batch)
        raise StopIteration

    def _shape(self, batch: pl.DataFrame) -> pl.DataFrame:
        if self._parser is not None:
            return _parsed(batch, self._parser, self._parsed_schema, self._strict)
        return batch.unnest("payload") if self._json else batch

    def close(self) -> None:
        """Unsubscribe."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.close()


def _parsed(
    batch: pl.DataFrame, parser: Parser, schema: SchemaLike | None, strict: bool
) -> pl.DataFrame:
    """The batch with its (binary) payload replaced by the columns ``parser``
    makes of each message: the ``schema`` fields (a missing one is null), or
    every key the rows hold."""
    rows = []
    for channel, payload in zip(batch["channel"], batch["payload"]):
        row = parser(channel, payload)
        if not isinstance(row, Mapping):
            msg = f"parser must return a dict (a row), got {type(row).__name__} on {channel!r}"
            raise InvalidInputError(msg)
        rows.append(row)
    fields = pl.DataFrame(rows, infer_schema_length=None)
    if schema is not None:
        fields = pl.DataFrame([_field(fields, name, dtype, strict, batch.height)
                               for name, dtype in schema.items()])  # fmt: skip
    taken = [c for c in fields.columns if c in batch.columns]
    if taken:
        msg = f"parser rows must not hold {taken}: those columns are the message's own"
        raise InvalidInputError(msg)
    return batch.drop("payload").hstack(fields.get_columns())


def _field(fields: pl.DataFrame, name: str, dtype: Any, strict: bool, height: int) -> pl.Series:
    """Column ``name`` of the parsed rows as ``dtype`` (null when no row has it)."""
    if name not in fields.columns:
        return pl.Series(name, [None] * height, dtype=dtype)
    try:
        return fields[name].cast(dtype, strict=strict)
    except pl.exceptions.InvalidOperationError as err:
        msg = f"parser column {name!r} does not convert to {dtype}: {err}"
        raise ParseError(msg) from None


def _legacy_options(
    max_messages: int | None,
    timeout_s: float | None,
    count: int | None,
    timeout_ms: int | None,
    window_seconds: float | None,
) -> tuple[int | None, float | None]:
    """``max_messages`` and ``timeout_s`` from ours or their 0.1.x names."""
    if count is not None:
        if max_messages is not None:
            msg = "count is the 0.1.x name of max_messages: pass one of them, not both"
            raise InvalidInputError(msg)
        max_messages = count
    ends: dict[str, float] = {}
    if timeout_ms is not None:
        ends["timeout_ms"] = timeout_ms / 1000
    if window_seconds is not None:
        ends["window_seconds"] = window_seconds
    if ends:
        if timeout_s is not None:
            names = " and ".join(ends)
            msg = f"{names} (0.1.x) and timeout_s set the same end: pass one of them, not both"
            raise InvalidInputError(msg)
        timeout_s = min(ends.values())
    return max_messages, timeout_s


def _channel_list(channels: Channels) -> list[bytes]:
    items = [channels] if isinstance(channels, (str, bytes)) else list(channels)
    return [c.encode() if isinstance(c, str) else bytes(c) for c in items]


@checked
def iter_pubsub(
    url: str | Client,
    channels: Channels,
    *,
    pattern: bool = False,
    schema: SchemaLike | None = None,
    format: PayloadFormat = "raw",
    batch_size: int = 1000,
    batch_timeout_ms: int = 1000,
    max_messages: int | None = None,
    timeout_s: float | None = None,
    strict: bool = True,
    connect_timeout: float | None = None,
    count: int | None = None,
    timeout_ms: int | None = None,
    window_seconds: float | None = None,
    parser: Parser | None = None,
) -> PubSubBatches:
    """Subscribe to channels and yield the messages in batches.

    The subscription is made (and confirmed by the server) when this is
    called: every message published afterwards is seen. A batch holds at
    most ``batch_size`` messages, or those received within
    ``batch_timeout_ms``; empty rounds are not yielded. Each wait releases
    the GIL and lasts at most ``batch_timeout_ms``, so Ctrl-C works. On a
    cluster, channels use sharded pub/sub (``SSUBSCRIBE`` on the master of
    each channel's slot; publish with ``SPUBLISH``); patterns use
    ``PSUBSCRIBE``.

    Pub/sub is fire-and-forget: messages published while not subscribed are
    lost. For durable delivery use a stream and :func:`iter_stream` with a
    consumer group.

    Parameters
    ----------
    url
        ``redis://...`` URL.
    channels
        A channel name or a list of them (glob patterns with ``pattern=True``).
    pattern
        Subscribe to patterns (``PSUBSCRIBE``); the ``pattern`` column then
        says which pattern matched.
    schema
        With ``format="json"``: the fields of the JSON object payloads to
        read, name to Polars dtype (read by the JSON rules of
        :func:`scan_json`; a missing field is null).
    format
        ``"raw"``: a ``payload`` String column (non-UTF-8 payloads raise
        :class:`ParseError`, or are null when not ``strict``); ``"binary"``:
        the payload bytes; ``"json"``: one column per ``schema`` field.
    batch_size
        Most messages per batch.
    batch_timeout_ms
        Longest wait for a batch to fill, in milliseconds.
    max_messages
        Stop after this many messages.
    timeout_s
        Stop after this many seconds.
    strict
        A payload that does not parse raises :class:`ParseError` naming the
        channel (True) or is null.
    connect_timeout
        Seconds allowed to connect.
    count
        The 0.1.x name of ``max_messages``.
    timeout_ms, window_seconds
        The 0.1.x names of ``timeout_s``, in milliseconds and in seconds
        (both given: the earlier end).
    parser
        As in 0.1.x: a function called with each message's channel (str) and
        payload (bytes), returning the message's row as a dict; its keys
        become the columns after ``_received_at`` (with ``schema``: the schema's
        fields, of its dtypes, a missing key null). Runs in Python for each
        message; with ``format`` left at ``"raw"``.

    Returns
    -------
    PubSubBatches
        An iterator of DataFrames: ``channel``, ``pattern`` (null without
        ``pattern=True``), ``_received_at`` (``Datetime("us", "UTC")``), then
        ``payload`` or the ``schema`` fields.

    Examples
    --------
    >>> import polars_redis as redis
    >>> with redis.iter_pubsub(url, "news", timeout_s=0.2) as batches:
    ...     print(sum(batch.height for batch in batches))
    0
    """
    max_messages, timeout_s = _legacy_options(
        max_messages, timeout_s, count, timeout_ms, window_seconds
    )
    if parser is not None and format != "raw":
        msg = f"parser= reads the payload itself: leave format= at 'raw', not {format!r}"
        raise InvalidInputError(msg)
    if format == "json" and schema is None:
        msg = "format='json' needs schema= (the payload fields to read)"
        raise InvalidInputError(msg)
    if format != "json" and parser is None and schema is not None:
        msg = "schema= describes JSON payloads: pass format='json'"
        raise InvalidInputError(msg)
    if batch_timeout_ms < 1:
        msg = f"batch_timeout_ms must be at least 1, got {batch_timeout_ms}"
        raise InvalidInputError(msg)
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise InvalidInputError(msg)
    native_format = "binary" if parser is not None else format
    native_schema = field_specs(schema) if schema is not None and parser is None else []
    subscription = _internal.pubsub_subscription(
        url, _channel_list(channels), pattern, native_format, native_schema, strict,
        connect_timeout,
    )  # fmt: skip
    return PubSubBatches(
        subscription, format == "json", batch_size, batch_timeout_ms, max_messages, timeout_s,
        parser, schema, strict,
    )  # fmt: skip


@checked
def collect_pubsub(
    url: str | Client,
    channels: Channels,
    *,
    pattern: bool = False,
    schema: SchemaLike | None = None,
    format: PayloadFormat = "raw",
    max_messages: int | None = None,
    timeout_s: float | None = None,
    batch_size: int = 1000,
    batch_timeout_ms: int = 1000,
    strict: bool = True,
    connect_timeout: float | None = None,
    count: int | None = None,
    timeout_ms: int | None = None,
    window_seconds: float | None = None,
    parser: Parser | None = None,
) -> pl.DataFrame:
    """Subscribe to channels and collect messages until ``max_messages``
    came or ``timeout_s`` passed, into one DataFrame.

    Takes the arguments of :func:`iter_pubsub`; at least one of
    ``max_messages`` and ``timeout_s`` is needed (a subscription never ends
    by itself).

    Parameters
    ----------
    url
        ``redis://...`` URL.
    channels
        A channel name or a list of them (glob patterns with ``pattern=True``).
    pattern, schema, format, batch_size, batch_timeout_ms, strict, connect_timeout
        As for :func:`iter_pubsub`.
    count, timeout_ms, window_seconds, parser
        The 0.1.x options, as for :func:`iter_pubsub`.
    max_messages
        Stop after this many messages.
    timeout_s
        Stop after this many seconds.

    Returns
    -------
    DataFrame
        ``channel``, ``pattern``, ``_received_at``, then ``payload`` or the
        ``schema`` fields.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.collect_pubsub(url, ["news", "sport"], timeout_s=0.1).columns
    ['channel', 'pattern', '_received_at', 'payload']
    """
    max_messages, timeout_s = _legacy_options(
        max_messages, timeout_s, count, timeout_ms, window_seconds
    )
    if max_messages is None and timeout_s is None:
        msg = "pass max_messages= or timeout_s=: a subscription never ends by itself"
        raise InvalidInputError(msg)
    with iter_pubsub(
        url, channels, pattern=pattern, schema=schema, format=format,
        batch_size=batch_size, batch_timeout_ms=batch_timeout_ms,
        max_messages=max_messages, timeout_s=timeout_s, strict=strict,
        connect_timeout=connect_timeout, parser=parser,
    ) as batches:  # fmt: skip
        frames = list(batches)
    if frames:
        return pl.concat(frames)
    columns: dict[str, pl.DataType] = {
        "channel": pl.String(),
        "pattern": pl.String(),
        "_received_at": pl.Datetime("us", "UTC"),
    }
    if format == "json" or parser is not None:
        return pl.DataFrame(schema={**columns, **dict(schema or {})})
    payload = pl.Binary() if format == "binary" else pl.String()
    return pl.DataFrame(schema={**columns, "payload": payload})
