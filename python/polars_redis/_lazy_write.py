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

from collections.abc import Iterator

import polars as pl

from polars_redis.exceptions import InvalidInputError

#: Rows per batch asked from the streaming engine.
LAZY_BATCH_ROWS = 100_000

ROW_KEY_COLUMN = "__polars_redis_row_key"


def lazy_batches(
    lf: pl.LazyFrame,
    key_column: str | None,
    if_exists: str,
    grouped: bool,
) -> tuple[Iterator[pl.DataFrame], str | None]:
    """The batches to write, and the key column they carry (a row-index
    column when keys come from the row index)."""
    if key_column is None:
        key_column = ROW_KEY_COLUMN
        lf = lf.with_row_index(key_column)
    if if_exists == "fail":
        return iter([lf.collect()]), key_column
    return _checked_batches(lf, key_column, grouped, if_exists == "append"), key_column


def _checked_batches(
    lf: pl.LazyFrame, key: str, grouped: bool, append: bool
) -> Iterator[pl.DataFrame]:
    seen = pl.Series("hash", [], dtype=pl.UInt64)
    carry: pl.DataFrame | None = None
    track = not (grouped and append)
    for batch in lf.collect_batches(chunk_size=LAZY_BATCH_ROWS):
        if carry is not None:
            batch = pl.concat([carry, batch])
            carry = None
        if grouped and batch.height:
            batch, carry = _split_last_key(batch, key)
        if batch.height == 0:
            continue
        if track:
            seen = _check_new_keys(batch[key], seen, grouped)
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


def _check_new_keys(keys: pl.Series, seen: pl.Series, grouped: bool) -> pl.Series:
    """Raise if a key of this batch was written by an earlier one; the
    hashes of every key written so far."""
    hashes = keys.hash()
    repeated = hashes.is_in(seen)
    if repeated.any():
        key = keys.filter(repeated)[0]
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
    unique = hashes.unique() if grouped else hashes
    return pl.concat([seen, unique.rename("hash")])
