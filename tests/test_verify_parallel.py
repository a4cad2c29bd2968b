"""Full verification on two cores (``swapproto._verify_parallel``): for any file, the
outcome of the in-process verification, with a worker that never outlives it.

The manifests are small, with chunks of 4 entries and a threshold of 10, so that the
worker checks the odd chunks. Most tests start it with ``fork`` (fast); those marked so
use ``spawn``, as the library does.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.reduction import recv_handle, send_handle
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import swapproto._verify_parallel as vp
import swapproto.manifest_file as manifest_file
from helpers import RefusingContext
from swapproto import records
from swapproto.errors import ErrorCode, VerificationError
from swapproto.keys import SigningKey
from swapproto.manifest_file import build_manifest_file, verify_manifest_file
from swapproto.records import RecordModel, TextSpec

KEY = SigningKey.from_seed(b"\x09" * 32)
N = 50
CHUNK = 4  # 13 chunks: 1, 3, ..., 11 (entries 4-7, 12-15, ...) are the worker's
AFTER = 10
HANDED: list[int] = []  # the first entry of each worker's share
Edit = Callable[[bytes], bytes]


def _record(i: int) -> dict[str, Any]:
    return {
        "citizenship": "UA",
        "date_of_birth": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}",
        "family_name": f"Коваль{i}",
        "given_names": "Іван",
        "person_id": f"P-{i:04d}",
        "sex": "male",
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify-parallel")


@pytest.fixture(scope="module")
def manifest(workdir: Path) -> bytes:
    path = workdir / "original.manifest"
    labels: dict[str, Any] = {"kind": "prisoner", "list_name": "l", "issuer": "a", "created_at": 1}
    build_manifest_file(path, map(_record, range(N)), keys=[KEY], parallel=False, **labels)
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of CHUNK entries, a worker started with fork, HANDED recorded."""
    monkeypatch.setattr(vp, "CHUNK", CHUNK)
    monkeypatch.setattr(vp, "_CONTEXT", "fork")
    original = vp._Worker.hand_over

    def hand_over(self: vp._Worker, fd: int, task: tuple[int, int, int, int, str]) -> bool:
        HANDED.append(task[1])
        return original(self, fd, task)

    HANDED.clear()
    monkeypatch.setattr(vp._Worker, "hand_over", hand_over)


def _frames(data: bytes) -> list[int]:
    """The offset of each entry's frame (its u32 length) in a manifest file."""
    offset = 10 + int.from_bytes(data[6:10], "big")
    out = []
    for _ in range(N):
        out.append(offset)
        offset += 4 + int.from_bytes(data[offset : offset + 4], "big")
    return out


def _outcome(path: Path, parallel: bool | None, **options: Any) -> tuple[Any, ...]:
    """What verifying ``path`` gives: the report, or every observable of the error."""
    try:
        with path.open("rb") as stream:
            report = verify_manifest_file(
                stream, KEY.public_key, parallel=parallel, parallel_after=AFTER, **options
            )
    except Exception as exc:
        cause = exc.__cause__
        return (
            "error",
            type(exc),
            exc.args,
            getattr(exc, "code", None),
            getattr(exc, "details", None),
            type(cause),
            getattr(cause, "args", None),
            getattr(cause, "code", None),
        )
    finally:
        assert multiprocessing.active_children() == []  # no worker left behind
    return ("ok", report.count, report.full)


def _both(path: Path, data: bytes, parallel: bool | None = True) -> tuple[Any, Any]:
    """(in-process outcome, outcome with a worker) for a file holding ``data``."""
    path.write_bytes(data)
    return _outcome(path, False), _outcome(path, parallel)


def _set(offset: int, value: int) -> Edit:
    return lambda data: data[:offset] + bytes([value]) + data[offset + 1 :]


def _entry_byte(entry: int, at: int, value: int) -> Edit:
    """Set byte ``at`` of entry ``entry``'s leaf (``at`` -1: the last)."""

    def edit(data: bytes) -> bytes:
        frame = _frames(data)[entry]
        length = int.from_bytes(data[frame : frame + 4], "big")
        return _set(frame + 4 + at % length, value)(data)

    return edit


def _length(entry: int, length: int) -> Edit:
    def edit(data: bytes) -> bytes:
        frame = _frames(data)[entry]
        return data[:frame] + length.to_bytes(4, "big") + data[frame + 4 :]

    return edit


def _truncate(entry: int, extra: int) -> Edit:
    return lambda data: data[: _frames(data)[entry] + extra]


def _swap(a: int, b: int) -> Edit:
    def edit(data: bytes) -> bytes:
        frames = [*_frames(data), len(data)]
        pieces = [data[frames[i] : frames[i + 1]] for i in range(N)]
        pieces[a], pieces[b] = pieces[b], pieces[a]
        return data[: frames[0]] + b"".join(pieces)

    return edit


def _then(*edits: Edit) -> Edit:
    def edit(data: bytes) -> bytes:
        for one in edits:
            data = one(data)
        return data

    return edit


MAP_OF_5 = 0x85  # an entry's first byte is 0x84, a map of 4
EDITS: dict[str, Edit] = {
    "none": lambda data: data,
    "invalid entry 0 (here)": _entry_byte(0, 0, MAP_OF_5),
    "invalid entry 5 (worker)": _entry_byte(5, 0, MAP_OF_5),
    "invalid last entry (here)": _entry_byte(N - 1, 0, MAP_OF_5),
    "invalid entry 13 (worker)": _entry_byte(13, 0, MAP_OF_5),
    "invalid entry 47 (worker)": _entry_byte(47, 0, MAP_OF_5),
    "bad record field, entry 6 (worker)": _entry_byte(6, -40, ord("~")),
    "salt byte, entry 5 (root)": _entry_byte(5, -1, 0),
    "salt byte, entry 9 (root)": _entry_byte(9, -1, 0),
    "root mismatch, then an invalid entry": _then(
        _entry_byte(5, -1, 0), _entry_byte(30, 0, MAP_OF_5)
    ),
    "entries 5 and 9 swapped": _swap(5, 9),
    "entries 2 and 6 swapped": _swap(2, 6),
    "invalid entries 2 (here) and 6 (worker)": _then(
        _entry_byte(2, 0, MAP_OF_5), _entry_byte(6, 0, MAP_OF_5)
    ),
    "invalid entries 6 (worker) and 9 (here)": _then(
        _entry_byte(6, 0, MAP_OF_5), _entry_byte(9, 0, MAP_OF_5)
    ),
    "invalid entry 13 (worker), frame 14 oversized": _then(
        _entry_byte(13, 0, MAP_OF_5), _length(14, 70_000)
    ),
    "invalid entry 9 (here), file ends in 13": _then(
        _entry_byte(9, 0, MAP_OF_5), _truncate(13, 20)
    ),
    "oversized frame, entry 5 (worker)": _length(5, 0xFFFFFFFF),
    "oversized frame, entry 8 (here)": _length(8, 65_537),
    "empty frame, entry 5": _length(5, 0),
    "frame one byte longer, entry 6": _length(6, 1 + 300),
    "file ends before entry 4": _truncate(4, 0),
    "file ends inside entry 5": _truncate(5, 7),
    "file ends inside the length of entry 6": _truncate(6, 2),
    "file ends inside entry 10": _truncate(10, 50),
    "file ends inside the last entry": lambda data: data[:-1],
    "trailing byte": lambda data: data + b"\x00",
    "trailing frame": lambda data: data + data[_frames(data)[3] : _frames(data)[4]],
    "header length": _set(9, 0),
    "signature": lambda data: _set(20, data[20] ^ 1)(data),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_the_outcome_is_that_of_in_process_verification(
    name: str, manifest: bytes, workdir: Path
) -> None:
    serial, parallel = _both(workdir / "case.manifest", EDITS[name](manifest))
    assert serial == parallel
    if name == "none":
        assert serial == ("ok", N, True)
    elif name in ("header length", "signature"):
        assert HANDED == []  # the header fails first
    else:
        assert serial[0] == "error"
        assert HANDED == [0]


def test_the_errors_compared_are_the_ones_meant(manifest: bytes, workdir: Path) -> None:
    """A few of the cases above, spelled out: the first failure in file order."""

    def error(name: str) -> tuple[str, dict[str, Any]]:
        outcome = _both(workdir / "case.manifest", EDITS[name](manifest))[1]
        return outcome[2][0], outcome[4]

    message, details = error("invalid entries 6 (worker) and 9 (here)")
    assert message.startswith("entry 6 is invalid")
    assert details["index"] == 6
    assert error("invalid entries 2 (here) and 6 (worker)")[1]["index"] == 2
    assert error("invalid entry 13 (worker), frame 14 oversized")[1]["index"] == 13
    assert error("invalid entry 9 (here), file ends in 13")[1]["index"] == 9
    assert error("root mismatch, then an invalid entry")[1]["index"] == 30
    assert error("file ends inside entry 5") == ("file ends inside entry 5", {"index": 5})
    assert error("entries 5 and 9 swapped")[0] == "entry at position 5 claims index 9"
    assert error("salt byte, entry 5 (root)")[0] == "the entries do not hash to the signed root"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(where=st.integers(0, 1 << 30), value=st.integers(0, 255))
def test_any_changed_byte_of_the_body_fails_as_in_process(
    where: int, value: int, manifest: bytes, workdir: Path
) -> None:
    start = _frames(manifest)[0]
    offset = start + where % (len(manifest) - start)
    assume(manifest[offset] != value)
    serial, parallel = _both(workdir / "byte.manifest", _set(offset, value)(manifest))
    assert serial == parallel
    assert serial[0] == "error"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(where=st.integers(0, 1 << 30))
def test_any_truncation_fails_as_in_process(where: int, manifest: bytes, workdir: Path) -> None:
    start = _frames(manifest)[0] - 8
    length = start + where % (len(manifest) - start)
    serial, parallel = _both(workdir / "cut.manifest", manifest[:length])
    assert serial == parallel
    assert serial[0] == "error"


# --- a file changed between the two reads -------------------------------------------------


@pytest.fixture
def worker_reads(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Callable[[bytes], None]:
    """Make the worker read a file holding other bytes than the one verified."""
    other = workdir / "other.manifest"
    original = send_handle

    def send_other(conn: Any, fd: int, pid: int) -> None:
        with other.open("rb") as stream:
            original(conn, stream.fileno(), pid)

    monkeypatch.setattr(vp, "send_handle", send_other)
    return other.write_bytes  # type: ignore[return-value]


CHANGED = {
    "a valid entry in a worker's chunk": (_entry_byte(5, -1, 0), 4),
    "an invalid entry in a worker's chunk": (_entry_byte(13, 0, MAP_OF_5), 12),
    "a file cut short": (_truncate(10, 5), 12),
    "an entry longer": (_length(3, 301), 4),
}


@pytest.mark.parametrize("name", list(CHANGED))
def test_a_file_changed_between_the_two_reads_is_refused(
    name: str, manifest: bytes, workdir: Path, worker_reads: Callable[[bytes], None]
) -> None:
    edit, first = CHANGED[name]
    worker_reads(edit(manifest))
    path = workdir / "case.manifest"
    path.write_bytes(manifest)
    assert _outcome(path, False) == ("ok", N, True)
    outcome = _outcome(path, True)
    assert HANDED == [0]
    message = (
        f"the file changed during verification: entries {first} to {first + CHUNK - 1} "
        "differ between two reads"
    )
    assert outcome[1:5] == (
        VerificationError,
        (message,),
        ErrorCode.VERIFY_MANIFEST,
        {"index": first},
    )


def test_a_change_only_in_this_process_chunks_is_not_seen_by_the_worker(
    manifest: bytes, workdir: Path, worker_reads: Callable[[bytes], None]
) -> None:
    # The worker only splits those entries into frames; this process checks (and
    # hashes) the bytes it read itself, which are those of a valid file.
    worker_reads(_entry_byte(9, 0, MAP_OF_5)(manifest))
    assert _both(workdir / "case.manifest", manifest) == (("ok", N, True),) * 2
    assert HANDED == [0]


def test_a_change_is_reported_before_a_later_invalid_entry(
    manifest: bytes, workdir: Path, worker_reads: Callable[[bytes], None]
) -> None:
    worker_reads(_entry_byte(5, -1, 0)(manifest))
    serial, parallel = _both(workdir / "case.manifest", _entry_byte(9, 0, MAP_OF_5)(manifest))
    assert serial[4]["index"] == 9
    assert parallel[2][0].startswith("the file changed during verification: entries 4 to 7")


# --- the worker's life ----------------------------------------------------------------------


def test_a_worker_that_cannot_start_leaves_the_checks_here(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    monkeypatch.setattr(vp, "get_context", lambda name: RefusingContext())
    for name in ("none", "invalid entry 5 (worker)"):
        serial, parallel = _both(workdir / "case.manifest", EDITS[name](manifest))
        assert serial == parallel
    assert HANDED == []


@pytest.mark.parametrize("parallel", [True, None])
def test_a_worker_that_dies_before_it_is_ready_leaves_the_checks_here(
    parallel: bool | None, monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    monkeypatch.setattr(vp, "_work", lambda conn: os._exit(1))  # an unguarded __main__
    monkeypatch.setattr(manifest_file, "_cpus", lambda: 2)
    for name in ("none", "invalid entry 5 (worker)", "file ends inside entry 10"):
        serial, parallel_outcome = _both(workdir / "case.manifest", EDITS[name](manifest), parallel)
        assert serial == parallel_outcome
    assert HANDED == []


def test_a_worker_that_dies_with_the_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    def dying(conn: Any) -> None:
        conn.send(("ready",))
        recv_handle(conn)
        conn.recv()  # the task
        os._exit(3)

    monkeypatch.setattr(vp, "_work", dying)
    path = workdir / "case.manifest"
    path.write_bytes(manifest)
    outcome = _outcome(path, True)
    assert outcome[1:3] == (
        ChildProcessError,
        ("the manifest verification worker ended unexpectedly (exit 3)",),
    )
    assert HANDED == [0]


def test_the_worker_may_take_over_between_chunks(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    """``parallel=None`` checks here until the worker is ready (here: at chunk 3)."""
    original = vp._Worker.ready
    polls: list[bool] = []

    def ready(self: vp._Worker, *, block: bool) -> bool:
        polls.append(block)
        return len(polls) > 3 and original(self, block=True)

    monkeypatch.setattr(vp._Worker, "ready", ready)
    monkeypatch.setattr(manifest_file, "_cpus", lambda: 2)
    for name in ("none", "invalid entry 5 (worker)", "invalid entry 13 (worker)"):
        HANDED.clear()
        polls.clear()
        serial, parallel = _both(workdir / "case.manifest", EDITS[name](manifest), None)
        assert serial == parallel
        expected = [] if "5" in name else [3 * CHUNK]  # entry 5 fails here, before
        assert expected == HANDED
        assert True not in polls  # never waited


def test_progress_is_reported_as_in_process(manifest: bytes, workdir: Path) -> None:
    path = workdir / "case.manifest"
    path.write_bytes(manifest)
    seen: dict[bool, list[int]] = {True: [], False: []}
    for parallel in (False, True):
        _outcome(path, parallel, progress=seen[parallel].append)
    assert seen[True] == seen[False] == [0, N]


def test_small_or_unplain_inputs_never_start_a_worker(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    def no_worker(*args: Any) -> Any:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(vp, "get_context", no_worker)
    path = workdir / "case.manifest"
    path.write_bytes(manifest)
    assert _outcome(path, True, full=False) == ("ok", N, False)
    with path.open("rb") as stream:
        assert verify_manifest_file(stream, KEY.public_key, parallel=True).count == N
    in_memory = io.BytesIO(manifest)
    assert verify_manifest_file(in_memory, KEY.public_key, parallel=True, parallel_after=1).full


def _spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vp, "_CONTEXT", "spawn")


def test_spawned_worker_gives_the_same_outcomes(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    _spawned(monkeypatch)
    for name in ("none", "invalid entries 6 (worker) and 9 (here)", "file ends inside entry 5"):
        HANDED.clear()
        serial, parallel = _both(workdir / "case.manifest", EDITS[name](manifest))
        assert serial == parallel
        assert HANDED == [0]


def test_an_interrupt_stops_the_worker(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, workdir: Path
) -> None:
    _spawned(monkeypatch)
    path = workdir / "case.manifest"
    path.write_bytes(manifest)
    running: list[bool] = []

    def progress(count: int) -> None:
        running.append(bool(multiprocessing.active_children()))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), path.open("rb") as stream:
        verify_manifest_file(
            stream, KEY.public_key, parallel=True, parallel_after=AFTER, progress=progress
        )
    assert running == [True]
    assert HANDED == [0]
    assert multiprocessing.active_children() == []


class _Card(RecordModel):
    """A kind registered at run time: a fresh worker process would not know it."""

    card_id: Annotated[str, TextSpec(max_length=16)]


def test_a_kind_registered_at_run_time_is_checked_in_process(workdir: Path) -> None:
    name = "org.example.parallel_card"
    if name not in records.kinds():
        records.register_kind(name, _Card, id_field="card_id")
    path = workdir / "cards.manifest"
    cards = [{"card_id": f"C{i}"} for i in range(N)]
    build_manifest_file(
        path, cards, kind=name, list_name="l", issuer="a", keys=[KEY], created_at=1,
        overwrite=True,
    )  # fmt: skip
    with path.open("rb") as stream:
        report = verify_manifest_file(stream, KEY.public_key, parallel=True, parallel_after=10)
    assert report.count == N
    assert HANDED == []  # no worker was given the file
    assert multiprocessing.active_children() == []


def test_the_library_starts_no_worker_unless_asked(manifest: bytes, workdir: Path) -> None:
    path = workdir / "default.manifest"
    path.write_bytes(manifest)
    with path.open("rb") as stream:
        assert verify_manifest_file(stream, KEY.public_key, parallel_after=10).count == N
    assert HANDED == []


def test_a_worker_starts_with_sigint_ignored_and_the_handler_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ctrl-C while a worker starts up must not print a traceback from it: the worker
    is started while SIGINT is ignored, which a fresh interpreter keeps."""
    import signal

    from swapproto._manifest_parallel import start_process

    seen: list[object] = []

    class Recording:
        def Pipe(self, duplex: bool) -> Any:  # the context's API
            return multiprocessing.get_context("spawn").Pipe(duplex=duplex)

        def Process(self, **options: Any) -> Any:
            class Start:
                def start(self) -> None:
                    seen.append(signal.getsignal(signal.SIGINT))
                    raise OSError("not really")

            return Start()

    before = signal.getsignal(signal.SIGINT)
    assert start_process(Recording(), print, "test") is None
    assert seen == [signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is before
