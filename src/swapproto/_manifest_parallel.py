"""Building a manifest on two cores, for :func:`swapproto.manifest_file.build_manifest`.

A build starts in-process: each row goes to :meth:`ManifestBuilder.add`. Once ``after``
rows have come, a worker process is started (``spawn`` context); the rows keep going
to ``add`` until it is ready. Then the builder's state (ids, identity fingerprints,
tree, salts and salt source) goes to the worker, which continues the same build and
writes to the spool through its file descriptor. From then on this process, which
reads the rows (any iterable: the CSV reader, a generator of amendment rows), encodes
each record, the part of an entry that depends on the record alone, and sends the
encodings in batches, in order, to
:meth:`~swapproto.manifest.ManifestBuilder.add_encoded` in the worker: duplicate checks,
salts, entry bytes, leaf hashes, Merkle root. The output is byte for byte that of
``add`` on each row with the same salt source, and every error is the one ``add``
raises, for the same entry:

* Small inputs (fewer than ``after`` rows) never start a worker.
* A row that cannot be sent as an encoding (not a plain canonical record, or a salt
  that is not 32 bytes) makes this process take the state back, once the worker has
  added every row before it, and go on in-process from that row.
* An error while reading the rows is raised only after the rows before it are added
  (:meth:`EntryPipeline.finish`), so an error for an earlier entry wins.
* The worker ignores SIGINT; on any error or interrupt this process terminates it. A
  worker that cannot start (as with any ``spawn`` process, the main module must be
  importable without side effects) leaves the build in-process.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import recv_handle, send_handle
from typing import IO, Any, Final

import msgpack

from swapproto.encoding import encode, is_plain_map, strict_packer
from swapproto.manifest import SALT_SIZE, BuilderState, ManifestBuilder

__all__ = ["PARALLEL_AFTER", "EntryPipeline", "end_process", "start_process"]

PARALLEL_AFTER: Final = 50_000
"""Rows added in-process before a worker is started (when parallel builds are on)."""
BATCH: Final = 1024
"""Encoded records per message to the worker; also how often a starting one is polled."""
_BUFFER: Final = 1 << 20
_SEND_BUFFER: Final = 4 << 20
_CONTEXT: Final = "spawn"
_unpackb: Final = msgpack.unpackb

Row = dict[str, Any] | tuple[dict[str, Any], bytes]
Frame = Callable[[bytes], bytes]
"""A leaf to the bytes the spool holds for it: a module-level function (the worker gets
it by reference)."""


class EntryPipeline:
    """Adds rows to ``builder``, in-process or through a worker (see the module docs).

    ``after`` is the number of rows after which a worker is started (None: never);
    with ``wait`` the pipeline waits for it to be ready instead of adding rows
    in-process meanwhile. ``frame`` turns a leaf into the bytes the spool holds for it.
    Call :meth:`finish` after the last row (and before raising an error the rows
    raised), and :meth:`close` in any case.
    """

    def __init__(
        self,
        builder: ManifestBuilder,
        spool: IO[bytes],
        frame: Frame,
        *,
        after: int | None,
        wait: bool = False,
    ) -> None:
        self._builder = builder
        self._spool = spool
        self._frame = frame
        self._after = after if type(builder.kind) is str else None
        self._wait = wait
        self._pack = strict_packer()
        self._fields = builder.checked_fields
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self._running = False  # the worker has the state (else it is starting up)
        self._batch = _Batch()
        self._sent = 0

    @property
    def count(self) -> int:
        """Rows taken so far (the worker may not have added them all yet)."""
        return self._sent + len(self._batch.encodings) if self._running else self._builder.count

    @property
    def parallel(self) -> bool:
        """Whether rows currently go to a worker."""
        return self._running

    def add(self, row: Row) -> None:
        """Add one row: a canonical record, or ``(record, salt)`` to keep a salt."""
        if not self._running:
            self._add_here(row)
            count = self._builder.count
            if self._after is not None and count >= self._after:
                self._start()
            elif self._conn is not None and count % BATCH == 0 and self._conn.poll():
                self._hand_over()
            return
        batch = self._batch
        try:  # the common case, inline
            encoded = type(row) is dict and is_plain_map(row) and self._pack(row)
        except Exception:  # a str subclass, a lone surrogate: _take decides
            encoded = False
        if encoded:
            batch.encodings.append(encoded)
            batch.checked.extend(map(row.get, self._fields))  # type: ignore[union-attr]
            if batch.salts is not None:
                batch.salts.append(None)
        elif not self._take(row):
            self._take_back()
            self._add_here(row)
            return
        if len(batch.encodings) >= BATCH:
            self._send_batch()

    def _add_here(self, row: Row) -> None:
        if type(row) is tuple:
            self._builder.add(row[0], salt=row[1])
        else:
            self._builder.add(row)  # type: ignore[arg-type]

    def _take(self, row: Row) -> bool:
        """Put the row in the batch, if it can be sent as an encoding; else False."""
        salt = None
        record: object = row
        if type(row) is tuple:
            if len(row) != 2 or type(row[1]) is not bytes or len(row[1]) != SALT_SIZE:
                return False
            record, salt = row
        if type(record) is not dict:
            return False
        checked = list(map(record.get, self._fields))
        if list(map(type, checked)).count(str) + checked.count(None) != len(checked):
            return False  # the duplicate checks could read such values differently
        try:
            encoded = self._pack(record) if is_plain_map(record) else encode(record)
        except Exception:
            return False
        self._batch.add(encoded, checked, salt)
        return True

    def finish(self) -> None:
        """Wait for the worker to add every row taken; raise its error, if it had one.

        Afterwards the builder holds the final tree and warnings (not the sets of
        ids). A worker still starting is stopped. Does nothing more when called again.
        """
        if not self._running:
            self.close()
            return
        state = self._last(["F"])
        self._builder.restore(state)

    # ---------------------------------------------------------------- the worker

    def _start(self) -> None:
        """Start a worker; the state goes to it once it is ready (:meth:`_hand_over`)."""
        self._after = None
        if current_process().daemon:
            return  # a daemonic process may not have children: build here
        try:
            pickle.dumps(self._builder.state().salt_source)
        except Exception:  # an unpicklable salt source: build here
            return
        started = start_process(get_context(_CONTEXT), _work, "swapproto-build")
        if started is None:
            return
        conn, self._process = started
        self._conn = conn
        _widen(conn)
        if self._wait:
            self._hand_over()

    def _hand_over(self) -> None:
        """The worker said it is ready (or died): give it the state and the spool."""
        assert self._conn is not None
        assert self._process is not None
        try:
            self._conn.recv()
        except (EOFError, OSError):
            self.close()  # it could not start (an unguarded __main__?): build here
            return
        builder = self._builder
        labels = {
            "kind": builder.kind,
            "list_name": builder.list_name,
            "issuer": builder.issuer,
            "exchange": builder.exchange,
            "version": builder.version,
            "previous": builder.previous,
        }
        self._spool.flush()
        try:
            send_handle(self._conn, self._spool.fileno(), self._process.pid)
            self._conn.send_bytes(pickle.dumps((builder.state(), labels, self._frame)))
        except OSError:
            self.close()  # it died before adding anything: the state is still ours
            return
        self._running = True
        self._sent = builder.count

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, _Batch()
        self._send(batch.message())
        self._sent += len(batch.encodings)

    def _send(self, message: list[object]) -> None:
        """Send a message to the worker; raise its error instead, if it sent one."""
        assert self._conn is not None
        if self._conn.poll():
            self._receive()  # only an error can be waiting
        try:
            self._conn.send_bytes(self._pack(message))
        except OSError:
            self._receive()
            raise

    def _receive(self) -> BuilderState:
        """The worker's next message: its state, or its error raised here."""
        assert self._conn is not None
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError):
            raise self._crashed() from None
        if kind == "error":
            self._stop()
            raise value
        state: BuilderState = value
        return state

    def _crashed(self) -> ChildProcessError:
        code = self._stop()
        return ChildProcessError(f"the manifest build worker ended unexpectedly (exit {code})")

    def _last(self, message: list[object]) -> BuilderState:
        """Send the rows taken and ``message``; return the state the worker answers."""
        if self._batch.encodings:
            self._send_batch()
        self._send(message)
        state = self._receive()
        self._stop()
        return state

    def _take_back(self) -> None:
        """Bring the state back from the worker, after every row taken, and stop it."""
        self._builder.restore(self._last(["T"]))
        self._spool.seek(0, os.SEEK_END)  # the worker wrote through the shared descriptor

    def _stop(self) -> int | None:
        """End the worker (it ends by itself once told so), forget it; its exit code."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        self._running = False
        if conn is not None:
            conn.close()
        if process is None:
            return None
        return end_process(process, grace=5)

    def close(self) -> None:
        """Terminate the worker, if there is one (after an error or an interrupt)."""
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
        self._stop()


def start_process(
    context: Any, target: Callable[[Connection], None], name: str
) -> tuple[Connection, BaseProcess] | None:
    """Start a daemonic ``target(connection)`` in ``context``; this end of the connection
    and the process, or None if no process is to be had (resources, an embedded
    interpreter, ...)."""
    conn, child = context.Pipe(duplex=True)
    process: BaseProcess = context.Process(target=target, args=(child,), daemon=True, name=name)
    try:
        with _sigint_ignored():
            process.start()
    except Exception:
        conn.close()
        return None
    finally:
        child.close()
    return conn, process


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a process starts, so that it starts ignoring it: a fresh
    interpreter whose SIGINT is ignored installs no KeyboardInterrupt handler, so a
    Ctrl-C during its start-up cannot print a traceback from it (this process decides
    when it stops). A Ctrl-C in these few milliseconds is lost; outside the main thread
    nothing changes (signal handlers belong to it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def end_process(process: BaseProcess, *, grace: float) -> int | None:
    """Give ``process`` ``grace`` seconds to end, then terminate it (kill it if it ignores
    that), and release it; its exit code."""
    process.join(timeout=grace)
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)
    if process.is_alive():  # pragma: no cover (ignored SIGTERM)
        process.kill()
        process.join()
    code = process.exitcode
    process.close()
    return code


def _widen(conn: Connection) -> None:
    """Let several batches be on their way, so neither side waits on the other's jitter
    (as far as the system allows; the default is about one batch)."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
    except OSError:  # pragma: no cover (not a socket: the default will do)
        pass


class _Batch:
    """Rows on their way to the worker: encodings, the values of the checked fields
    (one flat list, few objects for the garbage collector), kept salts."""

    __slots__ = ("checked", "encodings", "salts")

    def __init__(self) -> None:
        self.encodings: list[bytes] = []
        self.checked: list[object] = []
        self.salts: list[bytes | None] | None = None

    def add(self, encoded: bytes, checked: list[object], salt: bytes | None) -> None:
        if salt is not None and self.salts is None:
            self.salts = [None] * len(self.encodings)
        if self.salts is not None:
            self.salts.append(salt)
        self.encodings.append(encoded)
        self.checked.extend(checked)

    def message(self) -> list[object]:
        return ["B", self.encodings, self.checked, self.salts]


def _work(conn: Connection) -> None:
    """The worker: add the encoded records it is sent, to the spool it is given."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the reader decides when to stop
    try:
        conn.send(("ready", None))
        fd = recv_handle(conn)
        state, labels, frame = pickle.loads(conn.recv_bytes())  # noqa: S301 (our parent)
        with os.fdopen(fd, "wb", buffering=_BUFFER) as out:
            _serve(conn, state, labels, frame, out)
    except EOFError:
        return  # the reader went away
    except Exception as exc:
        _report(conn, exc)


def _serve(
    conn: Connection, state: BuilderState, labels: dict[str, Any], frame: Frame, out: IO[bytes]
) -> None:
    leaves: list[bytes] = []
    builder = ManifestBuilder.resume(state, **labels, sink=leaves.append)
    fields = builder.checked_fields
    while True:
        message = _unpackb(conn.recv_bytes())
        if message[0] == "B":
            encodings, checked, salts = message[1:]
            width = len(fields)
            values = [
                dict(zip(fields, checked[i : i + width], strict=True))
                for i in range(0, len(checked), width)
            ]
            try:
                builder.add_encoded(encodings, salts=salts, values=values)
            finally:  # the entries before an error are written too, as in-process
                out.write(b"".join(map(frame, leaves)))
                leaves.clear()
            continue
        out.flush()
        state = builder.state()
        if message[0] == "F":  # the reader needs the tree and the warnings, not the ids
            state.ids, state.identities = {}, {}
        conn.send(("state", state))
        return


def _report(conn: Connection, exc: Exception) -> None:
    """Send ``exc`` to the reader, then discard what it sends until it stops us."""
    try:
        pickle.dumps(exc)
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    try:
        conn.send(("error", exc))
        while conn.recv_bytes():
            pass
    except (EOFError, OSError):
        return
