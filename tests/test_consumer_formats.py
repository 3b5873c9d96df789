"""``formats=`` on the consumer-group and tailing reads (``read_stream``,
``scan_stream``, ``iter_stream``, ``StreamConsumer``): temporal entry fields
stored as strftime text or epoch counts parse to their dtype, and a bad
``formats`` is refused as ``scan_streams`` refuses it.

Ground truth is written with redis-py (``xadd``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

import polars_redis as pr

SCHEMA = {"day": pl.Date, "at": pl.Datetime("ms"), "n": pl.Int64}
FORMATS = {"day": "%d/%m/%Y", "at": "epoch_s"}
DAYS = [date(2026, 12, 3), date(2025, 1, 31)]
TIMES = [datetime(2026, 12, 3, 18, 0, 0), datetime(2024, 2, 29, 23, 59, 59)]


def produce(client: Any, stream: str) -> None:
    for n, (day, at) in enumerate(zip(DAYS, TIMES)):
        epoch = int((at - datetime(1970, 1, 1)).total_seconds())
        client.xadd(stream, {"day": day.strftime("%d/%m/%Y"), "at": epoch, "n": n})


def check(df: pl.DataFrame) -> None:
    df = df.sort("n")
    assert df["day"].to_list() == DAYS
    assert df["at"].to_list() == TIMES
    assert df.schema["day"] == pl.Date and df.schema["at"] == pl.Datetime("ms")


def test_read_stream_in_a_group_parses_formats(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "fmt:g")
    df = pr.read_stream(
        redis_url, "fmt:g", schema=SCHEMA, formats=FORMATS, group="g", consumer="c", ack=True
    )
    check(df)
    assert redis_client.xpending("fmt:g", "g")["pending"] == 0


def test_without_formats_the_same_entries_do_not_parse(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "fmt:none")
    with pytest.raises(pr.ParseError, match="day"):
        pr.read_stream(redis_url, "fmt:none", schema=SCHEMA, group="g", consumer="c")


def test_iter_stream_parses_formats_in_a_group_and_tailing(
    redis_url: str, redis_client: Any
) -> None:
    produce(redis_client, "fmt:i")
    with pr.iter_stream(
        redis_url, "fmt:i", schema=SCHEMA, formats=FORMATS, group="g", consumer="c",
        follow=False, block_ms=100,
    ) as batches:  # fmt: skip
        check(pl.concat(list(batches)))
    with pr.iter_stream(
        redis_url, "fmt:i", schema=SCHEMA, formats=FORMATS, start_id="0", follow=False,
        block_ms=100,
    ) as batches:  # fmt: skip
        check(pl.concat(list(batches)))


def test_scan_stream_parses_formats_in_every_mode(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "fmt:s")
    snapshot = pr.scan_stream(redis_url, "fmt:s", schema=SCHEMA, formats=FORMATS)
    check(snapshot.collect())
    group = pr.scan_stream(
        redis_url, "fmt:s", schema=SCHEMA, formats=FORMATS, group="g", consumer="c"
    )
    check(group.collect())
    waited = pr.scan_stream(
        redis_url, "fmt:s", schema=SCHEMA, formats=FORMATS, start_id="0", block_ms=100
    )
    check(waited.collect())


def test_stream_consumer_parses_formats(redis_url: str, redis_client: Any) -> None:
    produce(redis_client, "fmt:c")
    with pr.StreamConsumer(
        redis_url, "fmt:c", "g", "c", schema=SCHEMA, formats=FORMATS, block_ms=100
    ) as consumer:
        frames = list(consumer)
    check(pl.concat(frames))
    assert consumer.checkpoint.entries == 2


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        ({"missing": "epoch_s"}, "missing"),
        ({"n": "epoch_s"}, "n"),
        ({"day": "%Q-nonsense"}, "day"),
        ({"_ts": "epoch_s"}, "_ts"),
    ],
)
def test_bad_formats_are_refused_before_reading(
    redis_url: str, redis_client: Any, formats: dict[str, str], message: str
) -> None:
    produce(redis_client, "fmt:bad")
    for read in (
        lambda: pr.read_stream(
            redis_url, "fmt:bad", schema=SCHEMA, formats=formats, group="g", consumer="c"
        ),
        lambda: pr.iter_stream(redis_url, "fmt:bad", schema=SCHEMA, formats=formats),
    ):
        with pytest.raises(pr.InvalidInputError, match=message):
            read()
    # Nothing was delivered to the group: the entries are all still new.
    groups = redis_client.xinfo_groups("fmt:bad")
    assert all(g["pending"] == 0 for g in groups)


def test_formats_of_the_wrong_type_are_refused(redis_url: str) -> None:
    with pytest.raises(pr.InvalidInputError, match="formats"):
        pr.iter_stream(redis_url, "fmt:x", schema=SCHEMA, formats=["day"])  # type: ignore[arg-type]
