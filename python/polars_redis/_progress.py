"""Progress of a running read or write: ``progress=True`` draws a bar on
stderr (with tqdm when it is installed, else a plain line at most once a
second); a callable receives a :class:`Progress` after every batch and once
more when the call ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class Progress:
    """How far a read or write has got.

    Attributes
    ----------
    what
        The call, e.g. ``"hashes 'user:*'"``.
    rows
        Rows read (before any client-side filter) or written so far.
    total
        The number of rows expected, when known in advance, else None: the
        listed keys of a one-row-per-key type (hashes, JSON, strings), the
        height of a frame being written, or, for a pattern scan of such a
        type, an estimate (see ``total_estimated``). A pushed-down row limit
        caps it.
    elapsed
        Seconds since the call started.
    finished
        True on the last report, when the call has ended.
    keys
        Keys written so far (writes; None for reads).
    total_estimated
        True when ``total`` is an upper bound, not a count: ``DBSIZE`` (summed
        over the masters of a cluster) counts every key of the database,
        whatever its type or name, so a pattern scan reads at most that many.

    Examples
    --------
    >>> seen = []
    >>> df = redis.read_hashes(url, "user:*", {"age": pl.Int64}, progress=seen.append)
    >>> seen[-1].finished, seen[-1].rows == df.height
    (True, True)
    """

    what: str
    rows: int
    total: int | None
    elapsed: float
    finished: bool
    keys: int | None = None
    total_estimated: bool = False

    @property
    def rate(self) -> float:
        """Rows per second so far."""
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0


ProgressLike = Union[bool, Callable[[Progress], Any]]


class Tracker:
    """Counts the rows of one call and reports them to a callable."""

    def __init__(
        self,
        what: str,
        report: Callable[[Progress], Any],
        total: int | None,
        total_estimated: bool = False,
    ) -> None:
        self._what = what
        self._report = report
        self._total = total
        self._total_estimated = total_estimated
        self._rows = 0
        self._keys: int | None = None
        self._started = time.monotonic()
        self._finished = False

    def add(self, rows: int, keys: int | None = None) -> None:
        self._rows += rows
        if keys is not None:
            self._keys = (self._keys or 0) + keys
        self._report(self._snapshot(finished=False))

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._report(self._snapshot(finished=True))

    def _snapshot(self, *, finished: bool) -> Progress:
        elapsed = time.monotonic() - self._started
        return Progress(
            self._what,
            self._rows,
            self._total,
            elapsed,
            finished,
            keys=self._keys,
            total_estimated=self._total_estimated,
        )


def tracker(
    progress: ProgressLike, what: str, total: int | None = None, total_estimated: bool = False
) -> Tracker | None:
    """The tracker for a call's ``progress`` option (None when it is off)."""
    if progress is False:
        return None
    report = progress if callable(progress) else renderer()
    return Tracker(what, report, total, total_estimated)


def renderer() -> Callable[[Progress], None]:
    """What ``progress=True`` draws with: a tqdm bar, or a plain line on stderr."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PlainLine()
    return _TqdmBar(tqdm)


class _TqdmBar:
    def __init__(self, tqdm: Any) -> None:
        self._tqdm = tqdm
        self._bar: Any = None

    def __call__(self, p: Progress) -> None:
        if self._bar is None:
            desc = f"{p.what} (total estimated)" if p.total_estimated else p.what
            self._bar = self._tqdm(total=p.total, desc=desc, unit=" rows", unit_scale=True)
        if p.keys is not None:
            self._bar.set_postfix(keys=p.keys, refresh=False)
        self._bar.update(p.rows - self._bar.n)
        if p.finished:
            if p.total_estimated:
                # The estimate was an upper bound: the bar ends full.
                self._bar.total = self._bar.n
                self._bar.refresh()
            self._bar.close()


class _PlainLine:
    """One line on stderr, rewritten at most once a second, and at the end."""

    def __init__(self) -> None:
        self._shown = 0.0

    def __call__(self, p: Progress) -> None:
        if not p.finished and p.elapsed - self._shown < 1.0:
            return
        self._shown = p.elapsed
        of = ""
        if p.total is not None:
            of = f" of at most {p.total:,} (estimated)" if p.total_estimated else f" of {p.total:,}"
        keys = f" ({p.keys:,} keys written)" if p.keys is not None else ""
        line = f"{p.what}: {p.rows:,}{of} rows{keys}, {p.rate:,.0f} rows/s, {p.elapsed:.1f} s"
        sys.stderr.write(f"\r{line}" + ("\n" if p.finished else ""))
        sys.stderr.flush()
