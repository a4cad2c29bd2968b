"""Opening a file the caller named for reading: one error for every way that fails."""

from __future__ import annotations

import os
from typing import BinaryIO, TextIO, overload

from swapproto.errors import ErrorCode, InputError

__all__ = ["open_input"]


@overload
def open_input(path: str | os.PathLike[str]) -> BinaryIO: ...


@overload
def open_input(
    path: str | os.PathLike[str], *, encoding: str, newline: str | None = None
) -> TextIO: ...


def open_input(
    path: str | os.PathLike[str], *, encoding: str | None = None, newline: str | None = None
) -> BinaryIO | TextIO:
    """``open(path)``, binary unless ``encoding`` is given. A path that cannot be opened
    (missing, a directory, no permission, a NUL in its name) is an ``InputError``
    (``input.io``) naming it."""
    try:
        if encoding is None:
            return open(path, "rb")
        return open(path, encoding=encoding, newline=newline)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", code=ErrorCode.INPUT_IO) from exc
    except ValueError as exc:  # a NUL in the path
        message = f"cannot read {path!r}: not a valid path"
        raise InputError(message, code=ErrorCode.INPUT_IO) from exc
