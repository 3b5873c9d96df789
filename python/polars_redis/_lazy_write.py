"""Writing a LazyFrame batch by batch as Polars' streaming engine produces
it (``LazyFrame.collect_batches``), so memory follows the batch size, not
the frame.

The rules that keep the per-key guarantees of an eager write:

* Keys from the row index (``key_column=None``) are numbered across batches.
* A type that groups rows by key (sets, lists, sorted sets, streams, time
  series) never has one key split over two writes: the trailing rows of each
  batch's last key are carried into the next batch, so a key whose rows are
  contiguous (sorted input) is written whole. A key whose rows come back
  after other keys were written would be split: with ``if_exists="append"``
  that is harmless (its rows are added), otherwise it raises
  :class:`InvalidInputError` naming the key (sort the frame by key).
* A one-row-per-key type (hashes, JSON, strings) refuses a key repeated in
  two batches, as an eager write refuses a repeated key. Keys of earlier
  batches are remembered by their 64-bit hash (8 bytes a key): a hash
  collision, about one chance in 10^6 for 6M keys, would refuse a frame
  whose keys are in fact distinct, never write a wrong value.
* ``if_exists="fail"`` must see every key before writing any: the frame is
  collected whole.

Unlike an eager write, a mistake found in a later batch (a bad value, a
repeated key) is raised after the earlier batches were written.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

import polars as pl

from polars_redis._closing import ClosesOnExit
from polars_redis.exceptions import InvalidInputError

#: Rows per batch asked from the streaming engine.
LAZY_BATCH_ROWS = 50_000

ROW_KEY_COLUMN = "__polars_redis_row_key"

T = TypeVar("T")


def lazy_batches(
    lf: pl.LazyFrame,
    key_column: str | None,
    if_exists: str,
    grouped: bool,
) -> tuple[Iterator[pl.DataFrame], str | None]:
    """The batches to write, and the key column they carry (a row-index
    column when keys come from the row index)."""
    from_index = key_column is None
    if key_column is None:
        key_column = ROW_KEY_COLUMN
        lf = lf.with_row_index(key_column)
    if if_exists == "fail":
        return iter([lf.collect()]), key_column
    # Row-index keys are distinct by construction: nothing to remember.
    track = not from_index and not (grouped and if_exists == "append")
    return _checked_batches(lf, key_column, grouped, track), key_column


def _checked_batches(
    lf: pl.LazyFrame, key: str, grouped: bool, track: bool
) -> Iterator[pl.DataFrame]:
    seen = SeenKeys()
    carry: pl.DataFrame | None = None
    for batch in lf.collect_batches(chunk_size=LAZY_BATCH_ROWS):
        if carry is not None:
            batch = pl.concat([carry, batch])
            carry = None
        if grouped and batch.height:
            batch, carry = _split_last_key(batch, key)
        if batch.height == 0:
            continue
        if track:
            _check_new_keys(batch[key], seen, grouped)
        yield batch
    if carry is not None and carry.height:
        if track:
            _check_new_keys(carry[key], seen, grouped)
        yield carry


def _split_last_key(batch: pl.DataFrame, key: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``batch`` without the trailing rows of its last key, and those rows."""
    keys = batch[key]
    other = (keys != keys[-1]).fill_null(True)
    if not other.any():
        return batch.clear(), batch
    start = batch.height - int(other.reverse().arg_max() or 0)
    return batch.slice(0, start), batch.slice(start)


class SeenKeys:
    """The 64-bit hashes of the keys written so far.

    A bitmap indexed by the hash (8 to 16 bits a key) answers most lookups
    at once; the hashes it lets through (at most about one new key in 8)
    are looked up exactly, by binary search, in sorted runs of the earlier
    hashes, merged like the digits of a binary counter (a run is merged
    into the one before it once that one is no larger), so there are at
    most about log2(keys / batch) runs and each hash is merged that many
    times in all. A batch thus costs about its own size and a few Polars
    calls, not the number of keys written before it."""

    def __init__(self) -> None:
        self._bits = pl.repeat(False, 1 << 20, eager=True)
        self._runs: list[pl.Series] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _slots(self, hashes: pl.Series) -> pl.Series:
        return (hashes % len(self._bits)).cast(pl.UInt32)

    def seen(self, hashes: pl.Series) -> pl.Series:
        """Which of ``hashes`` were added before (a Boolean mask)."""
        maybe = self._bits.gather(self._slots(hashes))
        found = pl.repeat(False, len(hashes), eager=True)
        if not maybe.any():
            return found
        candidates = hashes.filter(maybe).sort()
        hit = pl.repeat(False, len(candidates), eager=True)
        for run in self._runs:
            at = run.search_sorted(candidates).clip(upper_bound=len(run) - 1)
            hit = hit | (run.gather(at) == candidates)
        if not hit.any():
            return found
        return hashes.is_in(candidates.filter(hit).implode())

    def add(self, hashes: pl.Series) -> None:
        """Remember ``hashes`` (distinct, none added before)."""
        run = hashes.sort().rename("hash")
        while self._runs and len(self._runs[-1]) <= len(run):
            merged = self._runs.pop().to_frame().merge_sorted(run.to_frame(), key="hash")
            run = merged["hash"]
        self._runs.append(run)
        self._count += len(hashes)
        if len(self._bits) < 8 * self._count:
            size = len(self._bits)
            while size < 16 * self._count:
                size *= 2
            self._bits = pl.repeat(False, size, eager=True)
            for run in self._runs:
                self._bits.scatter(self._slots(run), True)
        else:
            self._bits.scatter(self._slots(hashes), True)


def _check_new_keys(keys: pl.Series, seen: SeenKeys, grouped: bool) -> None:
    """Raise if a key of this batch was written by an earlier one; then
    remember this batch's keys."""
    hashes = keys.hash().rename("hash")
    if grouped:
        hashes = hashes.unique()
    repeated = seen.seen(hashes)
    if repeated.any():
        key = keys.filter(keys.hash() == hashes.filter(repeated)[0])[0]
        if grouped:
            msg = (
                f"the rows of key {key!r} are not contiguous in the LazyFrame: they would be "
                "split over two writes (the first one replaced). Sort the frame by the key "
                "column, or use if_exists='append' (earlier batches were written)"
            )
        else:
            msg = (
                f"key {key!r} appears in two batches of the LazyFrame: each key is written "
                "from one row (earlier batches were written)"
            )
        raise InvalidInputError(msg)
    seen.add(hashes)


class Prefetched(ClosesOnExit, Generic[T]):
    """Items of ``source`` taken on a background thread, at most one ahead
    of the caller: while the caller writes one batch (the native write
    releases the GIL), the next is pulled from Polars and checked.
    :meth:`close` (also on leaving a ``with`` block) stops the thread;
    an exception of ``source`` is raised to the caller at its place."""

    _END = object()

    def __init__(self, source: Iterator[T]) -> None:
        self._queue: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="polars-redis-lazy-write", daemon=True
        )
        self._thread.start()

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._offer(item, None):
                    return
        except BaseException as err:  # handed to the caller, raised there
            self._offer(self._END, err)
            return
        self._offer(self._END, None)

    def _offer(self, item: object, error: BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((item, error), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is self._END:
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the thread (after the item it is producing) and drop what it holds."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
        self._thread.join()
