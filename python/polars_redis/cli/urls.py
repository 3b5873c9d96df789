"""Where the command line finds its server and password: the URL argument or
``REDIS_URL``, and a password from ``--password-file`` (never from the
command line, where other users of the machine could read it)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit


class UsageError(Exception):
    """A mistake on the command line; the message says how to fix it."""


def looks_like_url(text: str) -> bool:
    """URLs have a scheme; key patterns and file names never contain ``://``."""
    return "://" in text


def server_url(given: str | None, password_file: str | None) -> str:
    """The URL to use: ``given``, else ``$REDIS_URL``, with the password of
    ``password_file`` (its first line) put in."""
    url = given or os.environ.get("REDIS_URL")
    if not url:
        raise UsageError("no server given: pass a URL (redis://host:6379) or set REDIS_URL")
    if password_file is not None:
        url = with_password(url, _read_password(password_file))
    return url


def _read_password(path: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise UsageError(f"--password-file: cannot read {path}: {exc.strerror}") from None
    if not lines or not lines[0]:
        raise UsageError(f"--password-file: {path} is empty")
    return lines[0]


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` (percent-encoded) and its user name, if any."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        raise UsageError("--password-file works with redis:// and rediss:// URLs")
    if parts.password is not None:
        raise UsageError("the URL already has a password: drop it or --password-file")
    user = quote(unquote(parts.username), safe="") if parts.username else ""
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
