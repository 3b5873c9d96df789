"""Every public ``scan_*`` function documents each of its parameters."""

from __future__ import annotations

import inspect
import re

import pytest

import polars_redis as redis

SCANS = [getattr(redis, name) for name in redis.__all__ if name.startswith("scan_")]


@pytest.mark.parametrize("scan", SCANS, ids=lambda f: f.__name__)
def test_every_parameter_is_documented(scan: object) -> None:
    doc = inspect.getdoc(scan) or ""
    assert "{scan_options}" not in doc
    section = doc.split("Parameters\n----------\n")[1].split("\n\nReturns")[0]
    documented = {
        name.strip()
        for line in section.splitlines()
        if line and not line.startswith(" ")
        for name in line.split(",")
    }
    parameters = set(inspect.signature(scan).parameters)  # type: ignore[arg-type]
    assert parameters == documented, parameters ^ documented
    assert re.search(r"^Examples\n--------\n>>> ", doc, re.MULTILINE)
