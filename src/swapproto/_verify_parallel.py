"""Full verification of a manifest file on two cores, for
:func:`swapproto.manifest_file.verify_manifest_file`.

The entries go in chunks of :data:`CHUNK`. This process reads the file once, as the
in-process verification does: every frame, every leaf hashed into the root, and the full
check (:func:`~swapproto.manifest.check_entry`) of the entries of even chunks. A worker
process (``spawn`` context) checks the entries of odd chunks. It gets the file's
descriptor and reads it with ``os.pread`` from the offset it is given, never through the
descriptor's shared offset, and splits it into frames with the same reader
(:mod:`swapproto._manifest_frames`). The messages are per chunk (a digest, an error),
never leaves, and both processes stream: memory does not grow with the file.

The worker reads the file a second time, so it could check other bytes than those hashed
here (a file changed between the two reads). For each odd chunk both processes digest
the leaf hashes of the entries they read; any difference fails the verification
(``verify.manifest_invalid``, "the file changed during verification").

The outcome is that of the in-process verification of the same file:

* The worker's results are taken in chunk order, all those before an entry ahead of
  anything this process finds at that entry: the invalid entry with the smallest index
  wins, and a file that ends early, an oversized frame or trailing bytes (which this
  process meets as in-process) come after every invalid entry before them.
* The root is compared by the caller, after every chunk is settled.
* Manifests of fewer than :data:`PARALLEL_AFTER` entries never start a worker. A worker
  that cannot start leaves the checks here (without ``wait``, the entries are checked
  here until it is ready). One that dies once it has the file is a
  ``ChildProcessError``. The worker ignores SIGINT; on any error or interrupt this
  process terminates it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any, BinaryIO, Final

from swapproto._manifest_frames import FrameReader, PositionalFile, corrupt
from swapproto._manifest_parallel import end_process, start_process
from swapproto.errors import VerificationError
from swapproto.hashing import Tag, digest_equal, tagged_hasher
from swapproto.manifest import check_entry
from swapproto.merkle import leaf_hash

__all__ = ["CHUNK", "PARALLEL_AFTER", "check_entries", "plain_file"]

PARALLEL_AFTER: Final = 50_000
"""Entries from which a full verification may use a worker process."""
CHUNK: Final = 4096
"""Entries per chunk: the worker checks the odd chunks, this process the even ones."""
_CONTEXT: Final = "spawn"

Progress = Callable[[int], object]
Error = tuple[BaseException, BaseException | None]
"""An exception and its cause (which pickling alone would drop)."""


def plain_file(stream: BinaryIO) -> tuple[int, int] | None:
    """``(descriptor, position)`` for a stream that reads a regular file straight from its
    descriptor (what ``open(path, "rb")`` returns), else None: the worker reads the
    descriptor, so it must hold exactly what ``stream`` reads."""
    buffered = type(stream) in (io.BufferedReader, io.BufferedRandom)
    raw: object = getattr(stream, "raw", None) if buffered else stream
    if type(raw) is not io.FileIO or os.name != "posix":
        return None
    try:
        fd = raw.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fd, stream.tell()
    except (OSError, ValueError):
        return None


def check_entries(
    reader: FrameReader,
    file: tuple[int, int],
    *,
    count: int,
    kind: str,
    add_hash: Callable[[bytes], object],
    progress: Progress | None,
    progress_every: int,
    wait: bool,
) -> bool:
    """Check entries 0 to ``count - 1`` from ``reader``, hashing each into ``add_hash``,
    then require the end of the file, with a worker; False if none could be started
    (then nothing was read: check in-process).

    ``file`` is :func:`plain_file` of the stream ``reader`` reads, taken before the
    reader read anything. With ``wait`` the entries wait for the worker to be ready.
    Raises what the in-process verification raises for the same file (see the module
    docs), or a ``ChildProcessError`` if the worker died.
    """
    worker = _Worker.start()
    if worker is None:
        return False
    try:
        if wait and not worker.ready(block=True):
            return False
        checks = _Checks(reader, worker, file, count, kind, add_hash)
        checks.run(progress, progress_every)
    finally:
        worker.stop()
    return True


class _Checks:
    """This process's side: read, hash, check even chunks, settle odd ones in order."""

    def __init__(
        self,
        reader: FrameReader,
        worker: _Worker,
        file: tuple[int, int],
        count: int,
        kind: str,
        add_hash: Callable[[bytes], object],
    ) -> None:
        self._reader = reader
        self._worker: _Worker | None = worker
        self._fd, self._origin = file
        self._count = count
        self._kind = kind
        self._add_hash = add_hash
        self._size = CHUNK
        self._shared = False  # the worker has the odd chunks from here on
        self._read: deque[tuple[int, int, bytes]] = deque()  # odd chunks to settle

    def run(self, progress: Progress | None, every: int) -> None:
        count, size, kind, add_hash = self._count, self._size, self._kind, self._add_hash
        frames = self._reader.frames(0, count)
        index = start = 0
        digest = None  # of the odd chunk being read
        failure = found = None  # this process's first, the worker's (or a change)
        try:
            while index < count:
                start, end = index, min(index + size, count)
                if (found := self._settle(block=False)) is not None:
                    break
                if not self._shared:
                    self._share(start)
                if progress is not None:
                    for at in range(start - start % -every, end, every):
                        progress(at)
                if self._shared and start // size % 2:
                    digest = _chunk_digest(start)
                    update = digest.update
                    for leaf in islice(frames, end - start):
                        hashed = leaf_hash(leaf)
                        add_hash(hashed)
                        update(hashed)
                        index += 1
                    self._read.append((start, index, digest.digest()))
                    digest = None
                    continue
                for leaf in islice(frames, end - start):
                    check_entry(leaf, index=index, kind=kind)
                    add_hash(leaf_hash(leaf))
                    index += 1
            else:
                self._reader.require_end()
        except VerificationError as exc:  # an invalid entry, or the file's framing
            failure = exc
            if digest is not None and index > start:
                self._read.append((start, index, digest.digest()))
        if found is None:  # the worker's failures, at earlier entries, come first
            found = self._settle(block=True)
        if found is not None:
            raise found
        if failure is not None:
            raise failure

    def _share(self, start: int) -> None:
        """Give the worker the file from entry ``start``, if it is ready."""
        worker = self._worker
        if worker is None or not worker.ready(block=False):
            if worker is not None and worker.gone:
                self._worker = None
            return
        offset = self._origin + self._reader.position
        if worker.hand_over(self._fd, (offset, start, self._count, self._size, self._kind)):
            self._shared = True
        else:
            self._worker = None

    def _settle(self, *, block: bool) -> BaseException | None:
        """Compare the worker's results with the chunks read here, in order, until the
        first failure, which is returned. Without ``block``, only those that have come."""
        read, worker = self._read, self._worker
        while read and worker is not None and (block or worker.poll()):
            start, end, digest = read.popleft()
            message = worker.receive()
            if message[0] == "fail":
                return _rebuilt(message[1])
            if message[0] != "chunk" or message[1] != start or not digest_equal(message[2], digest):
                return corrupt(
                    f"the file changed during verification: entries {start} to {end - 1} "
                    "differ between two reads",
                    index=start,
                )
            if message[3] is not None:
                return _rebuilt(message[3])
        return None


def _chunk_digest(start: int) -> hashlib._Hash:
    """A hasher for the leaf hashes of the chunk starting at entry ``start``."""
    hasher = tagged_hasher(Tag.VERIFY_CHUNK)
    hasher.update(start.to_bytes(8, "big"))
    return hasher


def _rebuilt(error: Error) -> BaseException:
    exc, cause = error
    exc.__cause__ = cause
    return exc


class _Worker:
    """The worker process, as seen from here."""

    def __init__(self, conn: Connection, process: BaseProcess) -> None:
        self._conn = conn
        self._process = process
        self.gone = False  # it could not start
        self._ready = False

    @classmethod
    def start(cls) -> _Worker | None:
        if current_process().daemon:
            return None  # a daemonic process may not have children: check here
        started = start_process(get_context(_CONTEXT), _work, "swapproto-verify")
        return None if started is None else cls(*started)

    def ready(self, *, block: bool) -> bool:
        """Whether it said it is ready (False: not yet, or it could not start)."""
        if self._ready:
            return True
        if self.gone or (not block and not self._conn.poll()):
            return False
        try:
            self._ready = self._conn.recv() == ("ready",)
            return self._ready
        except (EOFError, OSError):
            self.gone = True  # it could not start (an unguarded __main__?): check here
            return False

    def hand_over(self, fd: int, task: tuple[int, int, int, int, str]) -> bool:
        """Send it the file and its task; False if it is gone."""
        try:
            send_handle(self._conn, fd, self._process.pid)
            self._conn.send(task)
        except OSError:
            return False
        return True

    def poll(self) -> bool:
        return self._conn.poll()

    def receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._conn.recv()
        except (EOFError, OSError):
            code = self.stop()
            raise ChildProcessError(
                f"the manifest verification worker ended unexpectedly (exit {code})"
            ) from None
        return message

    def stop(self) -> int | None:
        """Terminate it (if it is still running); its exit code. Idempotent."""
        self._conn.close()
        try:
            return end_process(self._process, grace=0)
        except ValueError:  # stopped already
            return None


def _work(conn: Connection) -> None:
    """The worker: check the odd chunks of the file it is given."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the other process decides when to stop
    try:
        conn.send(("ready",))
        fd = recv_handle(conn)
        try:
            offset, first, count, size, kind = conn.recv()
            reader = FrameReader(PositionalFile(fd, offset))
            for message in _chunks(reader, first, count, size, kind):
                conn.send(message)
            conn.send(("end",))
        finally:
            os.close(fd)
    except (EOFError, OSError):
        return  # the other process went away


def _chunks(
    reader: FrameReader, first: int, count: int, size: int, kind: str
) -> Iterator[tuple[Any, ...]]:
    """Per odd chunk from ``first`` on: ``("chunk", start, digest, error)``, the digest
    of the leaf hashes read and the first invalid entry's error (None if there is none);
    a chunk the file ends in (or an oversized frame) gives the entries before, and is
    the last, as is one with an invalid entry. ``("fail", error)`` for an error other
    than the file's framing."""
    frames = reader.frames(first, count)
    start = first
    try:
        while start < count:
            end = min(start + size, count)
            if start // size % 2 == 0:
                for _ in islice(frames, end - start):  # this process checks those
                    pass
                start = end
                continue
            digest = _chunk_digest(start)
            error = None
            index = start
            ended = True
            try:
                for leaf in islice(frames, end - start):
                    digest.update(leaf_hash(leaf))
                    if error is None:
                        try:
                            check_entry(leaf, index=index, kind=kind)
                        except Exception as exc:  # the other process raises it
                            error = _portable(exc)
                    index += 1
                ended = False
            except VerificationError:  # the framing: the other process meets it too
                pass
            if index > start:
                yield ("chunk", start, digest.digest(), error)
            if ended or error is not None:
                return
            start = end
    except VerificationError:  # the framing, in an even chunk
        return
    except Exception as exc:  # reading the file: the other process raises it
        yield ("fail", _portable(exc))


def _portable(exc: BaseException) -> Error:
    """``exc`` and its cause, or a RuntimeError in their place if they do not pickle."""
    error = (exc, exc.__cause__)
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}"), None
    return error
