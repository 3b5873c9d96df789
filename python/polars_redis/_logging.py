"""Python's ``logging`` for the Rust core: its records arrive on the logger
``polars_redis`` and its children (``polars_redis.net.connection``,
``polars_redis.read.engine``, ...), one per module of the core.

The core drops a record below the level the ``polars_redis`` loggers want
before formatting it, so disabled logging costs nothing; that level is read
again at the start of every public call (:func:`refresh_levels`), so a level
set between calls applies to the next one."""

from __future__ import annotations

import logging

from polars_redis import _internal

LOGGER_NAME = "polars_redis"


def refresh_levels() -> None:
    """Tell the core the lowest level any ``polars_redis`` logger handles now."""
    manager = logging.Logger.manager
    level = logging.getLogger(LOGGER_NAME).getEffectiveLevel()
    prefix = LOGGER_NAME + "."
    for name, logger in list(manager.loggerDict.items()):
        if name.startswith(prefix) and isinstance(logger, logging.Logger):
            level = min(level, logger.getEffectiveLevel())
    # logging.disable(n) turns off every record at n and below.
    _internal.refresh_log_levels(max(level, manager.disable + 1))
