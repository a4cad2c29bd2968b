"""The framed body of a manifest file (``spec/manifest.md`` §5): one reader for both the
:class:`~swapproto.manifest_file.ManifestReader` and the verification worker
(:mod:`swapproto._verify_parallel`), so that both split the same bytes into the same
leaves and fail on them with the same errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Final, Protocol

from swapproto._binary_stream import read_bytes, require_reader
from swapproto.errors import ErrorCode, VerificationError

__all__ = ["MAX_ENTRY", "READ_SIZE", "FrameReader", "PositionalFile", "corrupt"]

MAX_ENTRY: Final = 64 * 1024
READ_SIZE: Final = 1 << 20


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def corrupt(message: str, **details: Any) -> VerificationError:
    """A malformed manifest file (``verify.manifest_invalid``)."""
    return VerificationError(message, code=ErrorCode.VERIFY_MANIFEST, **details)


class FrameReader:
    """Reads a stream in chunks of :data:`READ_SIZE` bytes, hands them out in frames."""

    def __init__(self, stream: Readable) -> None:
        require_reader(stream, "a manifest")
        self._stream = stream
        self._buf = b""
        self._pos = 0
        self._taken = 0  # bytes read from the stream

    @property
    def position(self) -> int:
        """Bytes consumed so far (read from the stream and handed out)."""
        return self._taken - len(self._buf) + self._pos

    def _fill(self, need: int) -> bool:
        while len(self._buf) - self._pos < need:
            chunk = read_bytes(self._stream.read(READ_SIZE), "a manifest stream")
            if not chunk:
                return False
            self._taken += len(chunk)
            self._buf = self._buf[self._pos :] + chunk
            self._pos = 0
        return True

    def _read_exact(self, n: int, what: str) -> bytes:
        if not self._fill(n):
            raise corrupt(f"file ends inside the {what}")
        start = self._pos
        self._pos += n
        return self._buf[start : self._pos]

    def frames(self, first: int, count: int) -> Iterator[bytes]:
        """Yield the leaves of entries ``first`` to ``count - 1`` (``u32be length | leaf``
        each, the first at the current position); errors name the entry's index."""
        for index in range(first, count):
            if not self._fill(4):
                raise corrupt(f"file ends before entry {index}", index=index)
            pos = self._pos
            length = int.from_bytes(self._buf[pos : pos + 4], "big")
            if length > MAX_ENTRY:
                raise corrupt(f"entry {index} of {length} bytes exceeds the limit", index=index)
            if not self._fill(4 + length):
                raise corrupt(f"file ends inside entry {index}", index=index)
            pos = self._pos
            self._pos = pos + 4 + length
            yield self._buf[pos + 4 : self._pos]

    def require_end(self) -> None:
        """Raise unless the stream has no byte left."""
        if self._fill(1):
            raise corrupt("trailing bytes after the last entry")


class PositionalFile:
    """A file descriptor read with ``os.pread`` from ``offset`` on: the descriptor's own
    offset, which another process may share, is neither used nor moved."""

    def __init__(self, fd: int, offset: int) -> None:
        self._fd = fd
        self._offset = offset

    def read(self, size: int, /) -> bytes:
        data = os.pread(self._fd, size, self._offset)
        self._offset += len(data)
        return data
