"""The streaming manifest file: header first, then entries (``spec/manifest.md`` §5).

Layout::

    magic "SPMF" | format 0x01 | view ("P" private, "B" blinded)
    u32be header length | signed header envelope
    P: count x (u32be leaf length | leaf)        B: count x 32-byte leaf hash

Writers are atomic (temporary file in the same directory, fsync, rename): a failed
build leaves nothing behind. Readers stream in fixed-size chunks, so verifying uses
memory that does not grow with the number of entries.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar, cast

from swapproto import records
from swapproto._binary_stream import require_writer
from swapproto._input_files import open_input
from swapproto._manifest_frames import MAX_ENTRY as MAX_ENTRY  # the limit, as before
from swapproto._manifest_frames import READ_SIZE, FrameReader
from swapproto._manifest_frames import corrupt as _corrupt
from swapproto._manifest_parallel import PARALLEL_AFTER, EntryPipeline
from swapproto._verify_parallel import PARALLEL_AFTER as VERIFY_PARALLEL_AFTER
from swapproto._verify_parallel import check_entries, plain_file
from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, InputError, VerificationError
from swapproto.hashing import digest_equal
from swapproto.keys import PublicKey, RolePolicy, SigningKey
from swapproto.manifest import (
    BuildWarning,
    ManifestBuilder,
    ManifestHeader,
    VerifiedHeader,
    check_entry,
    signers_policy,
    verify_header,
)
from swapproto.merkle import StreamingRootBuilder, leaf_hash

__all__ = [
    "MAGIC",
    "BuildResult",
    "ManifestReader",
    "ManifestReport",
    "Progress",
    "View",
    "atomic_writer",
    "build_manifest",
    "build_manifest_file",
    "validated_rows",
    "verify_manifest_file",
    "write_blinded_file",
]

MAGIC: Final = b"SPMF\x01"
MAX_HEADER: Final = 1024 * 1024
_CHUNK: Final = READ_SIZE
PROGRESS_EVERY: Final = 1 << 14
Progress = Callable[[int], object]


class View(StrEnum):
    """Which view of a manifest a file holds."""

    PRIVATE = "P"
    """Records and salts: the issuer's copy, and what is sealed for recipients."""
    BLINDED = "B"
    """Header and leaf hashes only: structure without content."""


_REPLACE: Final = "(replace it with --force, or overwrite=True in the API)"


@contextmanager
def atomic_writer(path: Path, *, overwrite: bool = False) -> Iterator[BinaryIO]:
    """Write ``path`` via a 0600 temporary sibling that is synced and renamed on success.

    Failing to create, sync or rename the file is an ``InputError`` (``input.io``);
    on any failure nothing is left behind.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists {_REPLACE}", code=ErrorCode.INPUT_IO)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}", code=ErrorCode.INPUT_IO) from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            try:
                out.flush()
                os.fsync(out.fileno())
                if overwrite:
                    os.replace(tmp, path)
                else:
                    # link() fails if the target appeared meanwhile: never replace a file
                    # (a message of an exchange directory) that was not ours to replace.
                    os.link(tmp, path)
                    os.unlink(tmp)
            except FileExistsError:
                raise InputError(f"{path} exists {_REPLACE}", code=ErrorCode.INPUT_IO) from None
            except OSError as exc:
                raise InputError(
                    f"cannot write {path}: {exc.strerror}", code=ErrorCode.INPUT_IO
                ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


class ManifestReader(FrameReader):
    """Reads a manifest file from a binary stream, header first, entries lazily.

    Nothing read here is trusted until :meth:`verify_header` has checked the header's
    signatures; entries are trusted only once the root they hash to matches (which
    :func:`verify_manifest_file` checks; this reader does not).

    Attributes: ``view`` (:class:`View`), ``header_bytes`` (the header envelope's exact
    bytes, what :func:`~swapproto.disclosure.make_disclosure` and
    :meth:`~swapproto.handshake.Party.reveal` take) and ``envelope`` (the parsed,
    unverified :class:`~swapproto.envelope.SignedEnvelope`). The constructor reads the
    header and raises :class:`~swapproto.errors.VerificationError`
    (``verify.manifest_invalid``) for a stream that is not a manifest file, or a
    :class:`~swapproto.errors.DecodeError` for a malformed header envelope.
    """

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        if self._read_exact(len(MAGIC), "magic") != MAGIC:
            name = getattr(stream, "name", None)
            what = f"{name} is" if isinstance(name, str) else "this is"
            raise _corrupt(f"{what} not a swapproto manifest file (bad magic or format version)")
        view = self._read_exact(1, "view")
        try:
            self.view = View(view.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise _corrupt("unknown manifest view byte") from None
        length = int.from_bytes(self._read_exact(4, "header length"), "big")
        if length > MAX_HEADER:
            raise _corrupt(f"header of {length} bytes exceeds the {MAX_HEADER}-byte limit")
        self.header_bytes = self._read_exact(length, "header")
        self.envelope = SignedEnvelope.from_bytes(self.header_bytes)

    def unverified_header(self) -> ManifestHeader:
        """The header as it claims to be, signatures NOT checked (for display and for
        the issuer's own tools, e.g. to count entries before disclosing)."""
        return ManifestHeader.from_payload(self.envelope.unverified_value())

    def verify_header(self, issuer: PublicKey | RolePolicy) -> VerifiedHeader:
        """Verify the header envelope against the issuer's key or policy.

        Raises :class:`~swapproto.errors.ThresholdError` if ``issuer`` did not sign it
        (or :class:`~swapproto.errors.VerificationError` for another payload type or a
        malformed header). The entries are not checked: see :func:`verify_manifest_file`.
        """
        return verify_header(self.envelope, issuer)

    def leaves(self, count: int) -> Iterator[bytes]:
        """Yield ``count`` framed leaves (private view), then require end of file.

        UNVERIFIED: the leaves are the file's bytes, not yet hashed against any root.
        Raises :class:`~swapproto.errors.VerificationError` (``verify.manifest_invalid``)
        for a truncated or over-long file or a blinded view.
        """
        if self.view is not View.PRIVATE:
            raise _corrupt("a blinded manifest holds no entries")
        yield from self.frames(0, count)
        self.require_end()

    def leaf_hashes(self, count: int) -> Iterator[bytes]:
        """Yield ``count`` leaf hashes (blinded view), then require end of file.

        UNVERIFIED, as :meth:`leaves`.
        """
        if self.view is not View.BLINDED:
            raise _corrupt("a private manifest holds entries, not leaf hashes")
        for index in range(count):
            yield self._read_exact(32, f"leaf hash {index}")
        self.require_end()


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build produced."""

    path: Path | None
    verified: VerifiedHeader
    warnings: tuple[BuildWarning, ...]
    leaf_hashes: tuple[bytes, ...] | None = None


SaltedRecord = tuple[dict[str, Any], bytes]
"""A record carried over with its existing salt (amendments)."""


def build_manifest(
    out: BinaryIO,
    rows: Iterable[dict[str, Any] | SaltedRecord],
    *,
    kind: str,
    list_name: str,
    issuer: str,
    keys: list[SigningKey],
    created_at: int,
    exchange: bytes | None = None,
    version: int = 1,
    previous: bytes | None = None,
    keep_hashes: bool = False,
    progress: Progress | None = None,
    salt_source: Callable[[int], bytes] = os.urandom,
    spool_dir: Path | None = None,
    parallel: bool | None = False,
    parallel_after: int = PARALLEL_AFTER,
    validate: bool = True,
) -> BuildResult:
    """Build and sign a private-view manifest, writing it to ``out``.

    ``rows`` holds canonical records (a fresh salt is drawn for each) or
    ``(record, salt)`` pairs that keep their salt. Entries are spooled to a temporary
    file (in ``spool_dir``) until the header is signed, since the header comes first.
    With ``keep_hashes`` the leaf hashes are returned too (for consistency proofs).
    Every one of ``keys`` signs the header (for a k-of-n role, pass at least k of its
    keys); the returned :class:`BuildResult` holds the header as verified against them.

    Every record is checked as a canonical value of ``kind``
    (:func:`~swapproto.records.validate_canonical`) before it is signed: a record that
    every receiver's full verification would reject raises
    :class:`~swapproto.errors.InputError` (``input.invalid_record``, with the row's
    ``index`` and the ``field``) and nothing is written. ``validate=False`` skips that
    check, only for rows that were validated already (the CSV/JSON Lines importer's,
    entries read from a verified manifest). Also raises ``InputError``
    (``input.duplicate``) for a repeated record id, (``input.invalid``) for a bad label
    and (``input.unknown_kind``) for an unregistered ``kind``; a repeated identity under
    another id is a warning in the result, not an error.

    Security: ``salt_source`` must stay the OS CSPRNG outside tests. Salts hide each
    record behind the hashes a disclosure reveals; predictable salts let anyone holding
    a disclosure guess the other entries' records.

    After ``parallel_after`` entries the rest of the build may move to a worker process
    (:mod:`swapproto._manifest_parallel`): the same bytes and the same errors, but the
    salt source is then called in the worker, and, as with any ``spawn`` process, the
    main module must be importable without side effects (``if __name__ ==
    "__main__":``), which is why the library never does it unless asked: ``parallel``
    False (the default) never; None does so if this process may use two CPUs, once
    the worker has started (meanwhile the build goes on here); True always, waiting for
    the worker; False never. ``keep_hashes`` builds stay in-process. ``out`` must be a
    binary stream (``TypeError`` otherwise; :func:`build_manifest_file` takes a path).
    """
    require_writer(out, "out")
    hashes: list[bytes] | None = [] if keep_hashes else None
    with tempfile.TemporaryFile(dir=spool_dir, buffering=_CHUNK) as spool:
        write = spool.write

        def sink(leaf: bytes) -> None:
            write(_frame(leaf))
            if hashes is not None:
                hashes.append(leaf_hash(leaf))

        builder = ManifestBuilder(
            kind=kind,
            list_name=list_name,
            issuer=issuer,
            sink=sink,
            exchange=exchange,
            salt_source=salt_source,
            version=version,
            previous=previous,
        )
        use = (_cpus() >= 2 if parallel is None else parallel) and hashes is None
        use = use and os.name == "posix"  # the worker gets the spool's file descriptor
        after = parallel_after if use else None
        entries = EntryPipeline(builder, spool, _frame, after=after, wait=parallel is True)
        try:
            _add_rows(entries, validated_rows(rows, kind) if validate else rows, progress)
        finally:
            entries.close()
        envelope = builder.sign(keys, created_at=created_at)
        if progress is not None:
            progress(builder.count)
        spool.seek(0)
        out.write(MAGIC + View.PRIVATE.value.encode() + _frame(envelope.to_bytes()))
        while chunk := spool.read(_CHUNK):
            out.write(chunk)
    verified = verify_header(envelope, signers_policy(keys))
    return BuildResult(
        None, verified, tuple(builder.warnings), tuple(hashes) if hashes is not None else None
    )


def _add_rows(
    entries: EntryPipeline,
    rows: Iterable[dict[str, Any] | SaltedRecord],
    progress: Progress | None,
) -> None:
    add = entries.add
    try:
        for row in rows:
            add(row)
            if progress is not None and entries.count % PROGRESS_EVERY == 0:
                progress(entries.count)
    except Exception:
        entries.finish()  # an error for an earlier entry, raised by the worker, comes first
        raise
    entries.finish()


R = TypeVar("R")


def validated_rows(rows: Iterable[R], kind: str, label: str = "row") -> Iterator[R]:
    """``rows`` (records, or ``(record, salt)`` pairs), each checked as a canonical
    record of ``kind`` on its way; the first that fails raises its ``InputError``, named
    ``"<label> <index>"`` and with its ``index`` in the details."""
    check = records.get_kind(kind).plan.check
    for index, row in enumerate(rows):
        try:
            check(cast(tuple[Any, ...], row)[0] if type(row) is tuple else row)
        except InputError as exc:
            raise InputError(
                f"{label} {index}: {exc.args[0]}", code=exc.code, index=index, **exc.details
            ) from None
        yield row


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def build_manifest_file(
    path: Path,
    rows: Iterable[dict[str, Any] | SaltedRecord],
    *,
    overwrite: bool = False,
    **options: Any,
) -> BuildResult:
    """:func:`build_manifest` into ``path``, atomically: on any error nothing is written.

    ``options`` are :func:`build_manifest`'s keyword arguments (``kind``, ``list_name``,
    ``issuer``, ``keys``, ``created_at`` are required); its caveats apply (records are
    validated unless ``validate=False``; salts must come from the OS CSPRNG). An
    existing ``path`` is refused (``InputError``, ``input.io``) unless ``overwrite``.
    """
    path = Path(path)
    with atomic_writer(path, overwrite=overwrite) as out:
        result = build_manifest(out, rows, spool_dir=path.parent, **options)
    return BuildResult(path, result.verified, result.warnings, result.leaf_hashes)


@dataclass(frozen=True, slots=True)
class ManifestReport:
    """The outcome of a successful manifest verification."""

    verified: VerifiedHeader
    view: View
    full: bool

    @property
    def count(self) -> int:
        """Number of entries."""
        return self.verified.header.count


def verify_manifest_file(
    stream: BinaryIO | str | os.PathLike[str],
    issuer: PublicKey | RolePolicy,
    *,
    full: bool = True,
    progress: Progress | None = None,
    parallel: bool | None = False,
    parallel_after: int = VERIFY_PARALLEL_AFTER,
) -> ManifestReport:
    """Verify a manifest: header signature, then every entry, then the root.

    ``stream`` is a binary stream (``open(path, "rb")``) or a path, which is opened
    here (``InputError``, ``input.io``, if it cannot be read); anything else is a
    ``TypeError``.

    ``full`` also checks each entry's canonical form, structure, index and record
    schema; otherwise only the root is recomputed from the entry bytes (structural
    verification). A blinded file can only be verified structurally. Raises a
    :class:`~swapproto.errors.VerificationError` on the first failure.

    A full verification of a manifest of ``parallel_after`` entries or more, read from a
    regular file (``open(path, "rb")``), may check half of the entries in a worker
    process (:mod:`swapproto._verify_parallel`) that reads the file again through its
    descriptor: the same outcome and the same errors, plus a failure
    (``verify.manifest_invalid``) if the file changes between the two reads. As with
    any ``spawn`` process, the main module must be importable without side effects
    (``if __name__ == "__main__":``), so the library does it only when asked:
    ``parallel`` False (the default) never; None if this process may use two CPUs, once
    the worker has started (meanwhile the entries are checked here); True always,
    waiting for the worker. Only for the built-in record kinds: a kind registered at run
    time does not exist in a fresh worker process, so such lists are checked here. A
    worker that cannot start leaves the checks in-process; one that dies is a
    ``ChildProcessError``.
    """
    if isinstance(stream, str | os.PathLike):
        with open_input(stream) as opened:
            return verify_manifest_file(
                opened,
                issuer,
                full=full,
                progress=progress,
                parallel=parallel,
                parallel_after=parallel_after,
            )
    file = plain_file(stream) if full and parallel is not False else None
    reader = ManifestReader(stream)
    verified = reader.verify_header(issuer)
    header = verified.header
    builder = StreamingRootBuilder()
    if reader.view is View.BLINDED:
        builder.add_leaf_hashes(reader.leaf_hashes(header.count))
        full = False
    elif full:
        add_hash = builder.add_leaf_hash
        checked = (
            file is not None
            and header.count >= parallel_after
            and records.is_builtin_kind(header.kind)
            and (parallel is True or _cpus() >= 2)
            and check_entries(
                reader,
                file,
                count=header.count,
                kind=header.kind,
                add_hash=add_hash,
                progress=progress,
                progress_every=PROGRESS_EVERY,
                wait=parallel is True,
            )
        )
        if not checked:  # in-process
            for index, leaf in enumerate(reader.leaves(header.count)):
                check_entry(leaf, index=index, kind=header.kind)
                add_hash(leaf_hash(leaf))
                if progress is not None and index % PROGRESS_EVERY == 0:
                    progress(index)
    else:
        builder.add_leaves(reader.leaves(header.count))
    if progress is not None:
        progress(header.count)
    calculated = builder.root()
    if not digest_equal(calculated, header.root):
        raise VerificationError(
            "the entries do not hash to the signed root",
            code=ErrorCode.VERIFY_ROOT,
            expected=header.root.hex(),
            calculated=calculated.hex(),
        )
    return ManifestReport(verified, reader.view, full)


def write_blinded_file(
    src: BinaryIO,
    dst: Path,
    issuer: PublicKey | RolePolicy,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ManifestReport:
    """Write the blinded view (header + leaf hashes) of a verified private manifest."""
    reader = ManifestReader(src)
    verified = reader.verify_header(issuer)
    builder = StreamingRootBuilder()
    with atomic_writer(Path(dst), overwrite=overwrite) as out:
        out.write(MAGIC + View.BLINDED.value.encode() + _frame(reader.header_bytes))
        for index, leaf in enumerate(reader.leaves(verified.header.count)):
            h = leaf_hash(leaf)
            builder.add_leaf_hash(h)
            out.write(h)
            if progress is not None and index % PROGRESS_EVERY == 0:
                progress(index)
        if not digest_equal(builder.root(), verified.header.root):
            raise VerificationError(
                "the entries do not hash to the signed root", code=ErrorCode.VERIFY_ROOT
            )
    return ManifestReport(verified, View.BLINDED, False)
