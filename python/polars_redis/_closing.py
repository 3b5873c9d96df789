"""``with`` support for the objects that hold connections or threads."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

_Self = TypeVar("_Self", bound="ClosesOnExit")


class ClosesOnExit:
    """A mixin: leaving a ``with`` block calls the object's ``close()``,
    whether or not the block raised."""

    if TYPE_CHECKING:

        def close(self) -> None: ...

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
