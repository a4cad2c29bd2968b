"""Refusing, with a plain ``TypeError``, an argument that is not a binary stream.

Manifests and sealed containers are bytes. A path, a ``bytes`` object or a text-mode
file handed where a stream opened with ``"rb"`` (or ``"wb"``) belongs would otherwise
fail deep inside with an ``AttributeError`` or a ``UnicodeDecodeError`` that names
neither the argument nor the fix. A wrong argument type is the caller's programming
error, so it is a ``TypeError``, not a :class:`~swapproto.errors.SwapprotoError`.
"""

from __future__ import annotations

import io

__all__ = ["read_bytes", "require_bytes", "require_reader", "require_writer"]


def _refuse(obj: object, what: str, mode: str) -> TypeError:
    return TypeError(
        f"{what} must be a binary stream, such as open(path, {mode!r}), not {type(obj).__name__}"
    )


def require_reader(obj: object, what: str) -> None:
    """Raise ``TypeError`` unless ``obj`` has ``read`` and is not a text stream."""
    if isinstance(obj, io.TextIOBase) or not callable(getattr(obj, "read", None)):
        raise _refuse(obj, what, "rb")


def require_writer(obj: object, what: str) -> None:
    """Raise ``TypeError`` unless ``obj`` has ``write`` and is not a text stream.

    A text stream that is no ``io.TextIOBase`` (``tempfile.NamedTemporaryFile("w")``)
    is caught by writing nothing to it: ``write(b"")`` changes no stream, and a text
    stream refuses bytes at once.
    """
    write = getattr(obj, "write", None)
    if isinstance(obj, io.TextIOBase) or not callable(write):
        raise _refuse(obj, what, "wb")
    try:
        write(b"")
    except TypeError:
        raise _refuse(obj, what, "wb") from None


def require_bytes(obj: object, what: str) -> None:
    """Raise ``TypeError`` unless ``obj`` is bytes-like: data held in memory, which the
    ``*_bytes`` helpers wrap in a stream (``None`` would read as empty data)."""
    if not isinstance(obj, bytes | bytearray | memoryview):
        raise TypeError(f"{what} must be bytes, not {type(obj).__name__}")


def read_bytes(obj: object, what: str) -> bytes:
    """A chunk ``read`` returned, as ``bytes``: bytes-like data is copied, anything else
    (a stream that reads text) is refused with ``TypeError``."""
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    raise TypeError(f"{what} must read bytes, not {type(obj).__name__}")
