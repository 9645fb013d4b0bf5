"""A Dask object pickled by name: made in whichever process unpickles it."""

from __future__ import annotations

from typing import Any


class Named:
    """An adapter pickled by its constructor's arguments; its Dask object is made
    (and, for locks, registered) lazily in the process that uses it."""

    def __init__(self, *args: Any) -> None:
        self._args = args
        self._obj: Any = None

    def __reduce__(self) -> Any:
        return (type(self), self._args)

    @property
    def obj(self) -> Any:
        if self._obj is None:
            self._obj = self._make(*self._args)
        return self._obj

    def _make(self, *args: Any) -> Any:
        raise NotImplementedError
