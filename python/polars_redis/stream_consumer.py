"""A checkpointed consumer-group reader: processing that resumes where it
stopped, with its state committed to Redis in the same transaction as the
acknowledgement of the entries it was computed from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from polars_redis._dtypes import SchemaLike
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.consumer import StreamBatches, iter_stream
from polars_redis.exceptions import InvalidInputError
from polars_redis.hashes import read_hashes


@dataclass(frozen=True)
class Checkpoint:
    """What a :class:`StreamConsumer` committed last.

    Attributes
    ----------
    last_id
        The greatest entry id of the last committed batch (``None`` before
        the first commit).
    entries
        Entries committed so far, over every run.
    state
        The JSON-serializable state given to the last :meth:`StreamConsumer.commit`.
    """

    last_id: str | None = None
    entries: int = 0
    state: dict[str, Any] = field(default_factory=dict)


def default_checkpoint_key(stream: str, group: str, consumer: str) -> str:
    """``<tag>:checkpoint:<group>:<consumer>``, where ``<tag>`` is the
    stream's hash tag, or the stream name in braces: the key then lives in
    the stream's hash slot, so the checkpoint and the ``XACK`` share one
    transaction on a cluster too."""
    start = stream.find("{")
    end = stream.find("}", start + 1)
    tag = stream if start >= 0 and end > start + 1 else "{" + stream + "}"
    return f"{tag}:checkpoint:{group}:{consumer}"


def _id_key(entry_id: bytes) -> tuple[int, int]:
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


class StreamConsumer(StreamBatches):
    """Consume one stream in a consumer group, committing each batch together
    with a checkpoint of the caller's state, so processing resumes exactly
    where it stopped after a restart or a crash.

    Iterate to get batches of entries; after processing one, call
    :meth:`commit` with the state computed so far (any JSON-serializable
    mapping, e.g. running totals). ``commit`` acknowledges the batch
    (``XACK``) and stores the checkpoint (a hash: ``last_id``, ``entries``,
    ``state``) in one ``MULTI``/``EXEC``, so after a crash either both
    happened or neither. Asking for the next batch commits the previous one
    with the state last given. A batch not committed stays pending and is
    read again, first, by the next run of the same consumer: with the state
    restored from :attr:`checkpoint`, every entry counts in the state once.

    Parameters
    ----------
    url
        ``redis://...`` URL.
    stream
        The stream name.
    group, consumer
        The consumer group and this consumer's name within it (keep the
        name across restarts to resume).
    schema
        Entry field name to Polars dtype; ``None`` infers it.
    batch_size, block_ms, follow, claim_min_idle_ms
        As for :func:`iter_stream` (``follow`` defaults to False here).
    create_group, group_start_id, strict, formats, connect_timeout, command_timeout
        As for :func:`iter_stream`.
    checkpoint_key
        The checkpoint hash (default :func:`default_checkpoint_key`: in the
        stream's hash slot). On a cluster it must share the stream's slot.

    Attributes
    ----------
    checkpoint
        The checkpoint committed last (read at start, then updated by each commit).

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> with redis.StreamConsumer(
    ...     url, "events:1", "totals", "worker-1", schema={"amount": pl.Float64},
    ...     block_ms=100,
    ... ) as consumer:
    ...     total = consumer.checkpoint.state.get("total", 0.0)
    ...     for batch in consumer:
    ...         total += batch["amount"].sum()
    ...         _ = consumer.commit({"total": total})
    >>> consumer.checkpoint.state, consumer.checkpoint.entries
    ({'total': 36.5}, 3)
    """

    @checked
    def __init__(
        self,
        url: str | Client,
        stream: str,
        group: str,
        consumer: str,
        *,
        schema: SchemaLike | None = None,
        batch_size: int = 100,
        block_ms: int | None = 1000,
        follow: bool = False,
        claim_min_idle_ms: int | None = None,
        create_group: bool = True,
        group_start_id: str = "0",
        checkpoint_key: str | None = None,
        strict: bool = True,
        formats: Mapping[str, str] | None = None,
        connect_timeout: float | None = None,
        command_timeout: float | None = None,
    ) -> None:
        self._key = checkpoint_key or default_checkpoint_key(stream, group, consumer)
        self.checkpoint = self._load(url)
        self._state = dict(self.checkpoint.state)
        self._uncommitted = False
        batches = iter_stream(
            url, stream, schema=schema, group=group, consumer=consumer,
            batch_size=batch_size, block_ms=block_ms, follow=follow,
            claim_min_idle_ms=claim_min_idle_ms, create_group=create_group,
            group_start_id=group_start_id, strict=strict, formats=formats,
            connect_timeout=connect_timeout, command_timeout=command_timeout,
        )  # fmt: skip
        super().__init__(batches._reading, batches._schema, follow)  # type: ignore[arg-type]

    def _load(self, url: str | Client) -> Checkpoint:
        stored = read_hashes(
            url,
            keys=[self._key],
            schema={"last_id": pl.String, "entries": pl.Int64, "state": pl.String},
            include_key=False,
        )
        if stored.height == 0:
            return Checkpoint()
        row = stored.row(0, named=True)
        try:
            state = json.loads(row["state"]) if row["state"] is not None else {}
        except json.JSONDecodeError as err:
            msg = f"checkpoint {self._key!r} holds a state that is not JSON: {err}"
            raise InvalidInputError(msg) from None
        return Checkpoint(row["last_id"], row["entries"] or 0, state)

    def __next__(self) -> pl.DataFrame:
        if self._uncommitted:
            self.commit()
        batch = super().__next__()
        self._uncommitted = True
        return batch

    def commit(self, state: Mapping[str, Any] | None = None) -> Checkpoint:
        """Acknowledge the batches read since the last commit and store the
        checkpoint, in one transaction.

        Parameters
        ----------
        state
            The state to store (JSON-serializable); ``None`` keeps the last one.

        Returns
        -------
        Checkpoint
            The new checkpoint.
        """
        if state is not None:
            self._state = dict(state)
        try:
            text = json.dumps(self._state)
        except TypeError as err:
            msg = f"the checkpoint state must be JSON-serializable: {err}"
            raise InvalidInputError(msg) from None
        reading = self._reading
        if reading is None:
            return self.checkpoint
        ids = [i for _, stream_ids in reading.delivered() for i in stream_ids]
        last = max(ids, key=_id_key).decode() if ids else self.checkpoint.last_id
        entries = self.checkpoint.entries + len(ids)
        fields = [(b"entries", str(entries).encode()), (b"state", text.encode())]
        if last is not None:
            fields.append((b"last_id", last.encode()))
        reading.commit(self._key.encode(), fields)
        self._uncommitted = False
        self.checkpoint = Checkpoint(last, entries, dict(self._state))
        return self.checkpoint

    def close(self) -> None:
        """Commit what was read (with the last state given) and stop reading."""
        if self._uncommitted:
            self.commit()
        super().close()
