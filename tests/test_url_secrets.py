"""No message, repr, traceback, warning or log line ever shows a password,
whatever the shape of the URL (well formed, malformed, or with the password
where a host, port, database or option should be)."""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest

import polars_redis as pr

SECRET = "Hunter2-s3cret"
# Passwords as a URL may spell them: plain, with reserved characters, and
# percent-encoded (the decoded form must not show either).
PASSWORDS = [SECRET, f"{SECRET}@x", f"{SECRET}/x", f"{SECRET}:x", f"{SECRET}?x", f"{SECRET}#x"]

MALFORMED = [
    # No `://`.
    "redis:/:{pw}@h",
    "redis:{pw}@h",
    "redis//:{pw}@h",
    ":{pw}@h",
    "{pw}@h:6379",
    "{pw}",
    "redis:{pw}",
    # A password where something else should be.
    "redis://:{pw}",
    "redis://alice:{pw}",
    "redis://h:{pw}",
    "redis://h/{pw}",
    "redis://h?{pw}",
    "redis://h?pasword={pw}",
    "redis://h?password={pw}&bogus=1",
    "redis://[::1]:{pw}",
    "redis://[{pw}",
    "{pw}://h",
    "redis:/:{pw}@h://x",
    "http://:{pw}@h",
    # Bad ports, databases and options with a password in the userinfo.
    "redis://:{pw}@h:0",
    "redis://:{pw}@h:99999",
    "redis://:{pw}@h:-1",
    "redis://:{pw}@h:port",
    "redis://alice:{pw}@h/x",
    "redis://alice:{pw}@h/-1",
    "redis://:{pw}@h?db=x",
    "redis://:{pw}@h?unknown=1",
    "redis://:{pw}@h?ca_file=/ca.pem",
    "rediss://alice:{pw}@[::1]:x",
    "rediss://:{pw}@h?db=1&nope",
    "unix://",
    "unix://?password={pw}",
    "unix:///tmp/x.sock?password={pw}&bogus=1",
    "unix:///tmp/x.sock?db=z&password={pw}",
    "redis+unix://:{pw}@?db=1",
    "redis://:{pw}@",
]


def _corpus() -> list[tuple[str, str]]:
    out = []
    for template in MALFORMED:
        for pw in PASSWORDS:
            out.append((template.format(pw=pw), pw))
            out.append((template.format(pw=quote(pw, safe="")), pw))
    return out


def _shown(exc: BaseException) -> str:
    """Everything an exception can show: str, repr, the formatted traceback
    (with the chain), and its arguments."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc), *map(str, exc.args)])


def _assert_hidden(text: str, pw: str) -> None:
    for secret in {pw, SECRET, quote(pw, safe=""), quote(SECRET, safe="")}:
        assert secret not in text, text


ENTRY_POINTS: list[Callable[[str], Any]] = [
    lambda url: pr.read_hashes(url, "*", {"a": pl.String}),
    lambda url: pr.scan_hashes(url, "*", {"a": pl.String}).collect(),
    lambda url: pr.write_hashes(pl.DataFrame({"_key": ["k"], "v": [1]}), url),
    lambda url: pr.infer_hash_schema(url, "*"),
    lambda url: pr.index_exists(url, "idx"),
]


@pytest.mark.parametrize(("url", "pw"), _corpus())
def test_malformed_urls_never_show_the_password(
    url: str, pw: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pr.read_hashes(url, "*", {"a": pl.String}, connect_timeout=0.5)
        except pr.PolarsRedisError as exc:
            _assert_hidden(_shown(exc), pw)
        else:  # pragma: no cover - a URL of the corpus that parses
            pytest.fail(f"{url!r} connected")
    _assert_hidden(caplog.text, pw)
    _assert_hidden("\n".join(str(w.message) for w in caught), pw)


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=["read", "scan", "write", "infer", "search"])
@pytest.mark.parametrize("template", ["redis:/:{pw}@h", ":{pw}@h", "redis://alice:{pw}"])
def test_every_entry_point_hides_it(entry: Callable[[str], Any], template: str) -> None:
    url = template.format(pw=SECRET)
    with pytest.raises(pr.InvalidInputError) as info:
        entry(url)
    _assert_hidden(_shown(info.value), SECRET)


def test_the_message_still_helps() -> None:
    with pytest.raises(pr.InvalidInputError) as info:
        pr.read_hashes(f"redis:/:{SECRET}@cache.internal", "*", {"a": pl.String})
    assert "redis://" in str(info.value) and "cache.internal" in str(info.value)
    with pytest.raises(pr.InvalidInputError) as info:
        pr.read_hashes(f"redis://:{SECRET}@cache:99999", "*", {"a": pl.String})
    assert "99999" in str(info.value) and "cache" in str(info.value)


def test_well_formed_urls_hide_it_everywhere(
    redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A good URL with a wrong password, against a real server: the error,
    the lazy frame's repr and its plan."""
    caplog.set_level(logging.DEBUG)
    port = redis_server.port
    for pw in PASSWORDS:
        url = f"redis://alice:{quote(pw, safe='')}@127.0.0.1:{port}/0"
        lf = pr.scan_hashes(url, "*", {"a": pl.String})
        _assert_hidden(repr(lf) + str(lf) + lf.explain(), pw)
        with pytest.raises(pr.AuthenticationError) as info:
            lf.collect()
        _assert_hidden(_shown(info.value), pw)
    _assert_hidden(caplog.text, SECRET)
