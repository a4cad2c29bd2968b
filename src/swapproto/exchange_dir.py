"""An exchange directory: the file layer under the handshake and transcript.

The transport is any way of moving files (courier, e-mail, a relay). A directory holds
one file per signed message (suffix ``.spmsg``), revealed content as ``.spblob`` files,
and the unsigned terms proposal ``terms.spterms``. Verification gives file names no
meaning: every ``.spmsg`` is read, blobs are found by the SHA-256 their reveal names
and re-hashed while read (``spec/handshake.md`` §6).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, InputError, SwapprotoError
from swapproto.handshake import PARTIES, Observer, Party
from swapproto.keys import KeyBundle, SigningKey
from swapproto.manifest_file import atomic_writer
from swapproto.messages import MessageType
from swapproto.reveal import Content, write_reveal_content
from swapproto.sealing import SealedReader, SealingContext
from swapproto.terms import TERMS_LIMITS, Terms
from swapproto.transcript import ordered_messages

__all__ = [
    "MAX_MESSAGE_FILE",
    "MESSAGE_SUFFIX",
    "ExchangeDir",
    "Opening",
    "RecipientOpener",
    "StagedContent",
]

MESSAGE_SUFFIX: Final = ".spmsg"
BLOB_SUFFIX: Final = ".spblob"
TERMS_FILE: Final = "terms.spterms"
MAX_MESSAGE_FILE: Final = 8 * 1024 * 1024
_CHUNK: Final = 1 << 20
_SHORT: Final = {
    MessageType.TERMS_SIGN: "terms-sign",
    MessageType.COMMIT: "commit",
    MessageType.REVEAL: "reveal",
    MessageType.VERDICT: "verdict",
    MessageType.ABORT: "abort",
}


def _check_naming(envelope: SignedEnvelope, sender: str, seq: int, mtype: MessageType) -> None:
    try:
        value = envelope.unverified_value()
    except SwapprotoError:
        value = None
    own = (
        (value.get("sender"), value.get("seq"), envelope.payload_type)
        if type(value) is dict
        else None
    )
    if (
        sender not in PARTIES
        or type(seq) is not int
        or seq < 0
        or own != (sender, seq, mtype.value)
    ):
        raise InputError(
            "sender, seq and mtype must be the message's own (a party, a number from 0)",
            code=ErrorCode.INPUT_INVALID,
        )


@dataclass(frozen=True, slots=True)
class ExchangeDir:
    """Reading and writing the files of one exchange directory (``path`` a ``Path`` or
    a ``str``)."""

    path: Path

    def __post_init__(self) -> None:
        if isinstance(self.path, str):  # frozen: set once, here
            object.__setattr__(self, "path", Path(self.path))
        elif not isinstance(self.path, Path):
            raise TypeError(f"path must be a Path or str, not {type(self.path).__name__}")

    def require(self) -> ExchangeDir:
        """Fail clearly if the directory does not exist."""
        if not self.path.is_dir():
            raise InputError(f"{self.path} is not an exchange directory", code=ErrorCode.INPUT_IO)
        return self

    # terms
    def write_terms(self, terms: Terms) -> Path:
        """Store the unsigned terms proposal, starting a new exchange directory.

        A directory holds one exchange: if it already has terms, ``InputError``
        (``input.io``) and nothing is changed (messages in it are bound to those terms).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / TERMS_FILE
        if target.exists() or target.is_symlink():
            raise InputError(
                f"{self.path} already holds an exchange ({TERMS_FILE} exists);"
                " start a new directory",
                code=ErrorCode.INPUT_IO,
            )
        with atomic_writer(target) as out:
            out.write(terms.to_bytes())
        return target

    def terms(self) -> Terms:
        """The terms proposal stored in the directory.

        UNTRUSTED: the file is unsigned, and whoever can write to the directory can
        replace it (together with messages signed for those terms). Before relying on
        it, compare its :attr:`~swapproto.terms.Terms.fingerprint` with the fingerprint
        read aloud when the terms were agreed, or use terms compiled from your own copy.
        Raises :class:`~swapproto.errors.InputError` for a missing or unreadable file
        and :class:`~swapproto.errors.DecodeError`/:class:`~swapproto.errors.PolicyError`
        for one that is not valid terms.
        """
        target = self.require().path / TERMS_FILE
        limit = TERMS_LIMITS.max_input
        data = _read_regular(target, limit)
        if data is None:
            raise InputError(
                f"cannot read {target}: missing, unreadable or not a regular file",
                code=ErrorCode.INPUT_IO,
            )
        if len(data) > limit:
            raise InputError(f"{target} is larger than terms can be ({limit:,} bytes)")
        return Terms.from_bytes(data)

    # messages
    def message_files(self) -> list[Path]:
        """Every entry named ``*.spmsg``, in a stable order (names carry no meaning).

        Entries that are not regular files (directories, devices, dangling links) are
        included: :meth:`messages` hands them over as empty bytes, so verification
        reports them as malformed instead of silently ignoring them.
        """
        return sorted(p for p in self.require().path.iterdir() if p.suffix == MESSAGE_SUFFIX)

    def messages(self) -> list[tuple[str, bytes]]:
        """(file name, bytes) of every message file.

        At most ``MAX_MESSAGE_FILE + 1`` bytes are read from each file: an oversized
        file then fails to parse and is reported like any malformed message, so a
        file dropped into the directory cannot stop verification. An entry that is
        not a regular file, or cannot be read, yields empty bytes (also malformed).
        """
        return [(path.name, _read_message_file(path)) for path in self.message_files()]

    def write_message(
        self, envelope: SignedEnvelope, *, sender: str, seq: int, mtype: MessageType
    ) -> Path:
        """Store a new message; never replaces an existing file.

        ``sender``, ``seq`` and ``mtype`` name the file and must be the message's own
        (``InputError``, ``input.invalid``, otherwise: a sender that is not a party
        would also put the file outside the directory); ``mtype`` a
        :class:`~swapproto.messages.MessageType`.
        """
        if not isinstance(mtype, MessageType):
            raise TypeError(f"mtype must be a MessageType, not {type(mtype).__name__}")
        _check_naming(envelope, sender, seq, mtype)
        name = (
            f"{sender}-{seq:03d}-{_SHORT[mtype]}-{envelope.envelope_id.hex()[:12]}{MESSAGE_SUFFIX}"
        )
        target = self.require().path / name
        with atomic_writer(target) as out:
            out.write(envelope.to_bytes())
        return target

    def observer(self) -> tuple[Observer, list[str]]:
        """An observer brought up to date with the directory, and the files skipped.

        The same replay as :meth:`party` (``spec/handshake.md`` §6.2), without keys.
        """
        terms = self.terms()
        observer = Observer(terms)
        ordered, skipped = ordered_messages(terms, self.messages())
        for envelope in ordered:
            observer.receive(envelope)
        return observer, skipped

    def party(self, role: str, keys: list[SigningKey]) -> tuple[Party, list[str]]:
        """A party object brought up to date with the directory, and the files skipped.

        Files that do not verify under the terms or belong to another exchange are
        skipped (and named); among valid messages, one that breaks the protocol stops
        the replay with its protocol error. ``swapproto verify`` reports everything.
        """
        terms = self.terms()
        party = Party(terms, role, keys)
        ordered, skipped = ordered_messages(terms, self.messages())
        for envelope in ordered:
            party.receive(envelope)
        return party, skipped

    # blobs
    @contextmanager
    def staged_content(
        self, src: BinaryIO, terms: Terms, role: str, list_name: str
    ) -> Iterator[StagedContent]:
        """Prepare ``role``'s reveal content for ``list_name`` without publishing it.

        The manifest is sealed to the recipients the terms name (or copied, when the
        terms are unsealed) into a hidden temporary file, synced, and hashed. Call
        ``publish()`` once the reveal message is made; if the block exits without it,
        or with an error, nothing is left in the directory.
        """
        fd, tmp = tempfile.mkstemp(prefix=".reveal.", suffix=".tmp", dir=self.require().path)
        staged: StagedContent | None = None
        try:
            with os.fdopen(fd, "wb") as out:
                content = write_reveal_content(src, out, terms, role, list_name)
                out.flush()
                os.fsync(out.fileno())
            staged = StagedContent(content, Path(tmp), self.blob_path(content["sha256"]))
            yield staged
        finally:
            if staged is None or not staged.published:
                Path(tmp).unlink(missing_ok=True)

    def store_content(self, src: BinaryIO, terms: Terms, role: str, list_name: str) -> Content:
        """Stage and publish reveal content at once; returns the reveal's ``content``."""
        with self.staged_content(src, terms, role, list_name) as staged:
            staged.publish()
        return staged.content

    def blob_path(self, sha256: bytes) -> Path:
        """Where the content with this digest is stored."""
        return self.path / f"{sha256.hex()}{BLOB_SUFFIX}"

    def open(self, sha256: bytes) -> BinaryIO | None:
        """The content with this digest, if present (its hash is checked by the reader)."""
        path = self.blob_path(sha256)
        return path.open("rb") if path.is_file() else None


class StagedContent:
    """Reveal content written and hashed, not yet visible in the exchange directory."""

    def __init__(self, content: Content, staged: Path, target: Path) -> None:
        self.content = content
        self.published = False
        self.withdrawn = False
        self._staged = staged
        self._target = target

    def publish(self) -> Path:
        """Move the content to its blob name (its SHA-256); again, the same path.

        ``InputError`` (``input.usage``) once withdrawn.
        """
        if self.withdrawn:
            raise InputError("withdrawn content cannot be published", code=ErrorCode.INPUT_USAGE)
        if not self.published:
            os.replace(self._staged, self._target)
            self.published = True
        return self._target

    def withdraw(self) -> None:
        """Remove the content, published or not (when its reveal message could not be
        written); it cannot be published after."""
        if self.published:
            self._target.unlink(missing_ok=True)
            self.published = False
        else:
            self._staged.unlink(missing_ok=True)
        self.withdrawn = True


def _read_message_file(path: Path) -> bytes:
    """Up to ``MAX_MESSAGE_FILE + 1`` bytes of a regular file; ``b""`` for anything else."""
    return _read_regular(path, MAX_MESSAGE_FILE) or b""


def _read_regular(path: Path, limit: int) -> bytes | None:
    """Up to ``limit + 1`` bytes of a regular file; ``None`` for anything else.

    Opened non-blocking and checked with ``fstat`` on the open descriptor, so a FIFO or
    device put in its place can neither block nor feed endless data.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, _CHUNK))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Opening:
    """A commitment's secret opening, kept by its party until the reveal (mode 0600)."""

    nonce: bytes = field(repr=False)  # secret until the reveal: never in logs or tracebacks
    header_digest: bytes

    def __post_init__(self) -> None:
        # Written as 64 bytes and read back split at 32: other sizes would not come back.
        for name in ("nonce", "header_digest"):
            value = getattr(self, name)
            if type(value) is not bytes or len(value) != 32:
                raise TypeError(f"{name} must be 32 bytes")

    @staticmethod
    def path_for(manifest: Path) -> Path:
        """The opening file next to a manifest."""
        return manifest.with_name(manifest.name + ".opening")

    def write(self, manifest: Path) -> Path:
        """Write the opening durably (synced, renamed into place), readable by its owner only.

        A stale opening (from a commit that was never stored) is replaced: the
        protocol refuses a second commit, so a stored commit's opening is never
        overwritten by this path.
        """
        target = self.path_for(Path(manifest))
        with atomic_writer(target, overwrite=True) as out:
            out.write(self.nonce + self.header_digest)
        return target

    @classmethod
    def read(cls, manifest: Path) -> Opening:
        """Read the opening saved when committing ``manifest``."""
        target = cls.path_for(Path(manifest))
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise InputError(
                f"no commitment opening at {target}: commit this manifest first",
                code=ErrorCode.INPUT_IO,
            ) from exc
        if len(data) != 64:
            raise InputError(f"{target} is not a commitment opening")
        return cls(data[:32], data[32:])


@dataclass(frozen=True, slots=True)
class RecipientOpener:
    """Opens sealed reveals with one recipient's decryption key (for verification).

    The :class:`~swapproto.transcript.Opener` that
    :func:`~swapproto.transcript.verify_transcript` takes: ``RecipientOpener(
    load_key_bundle("keys/tr.key"))``, or ``RecipientOpener(KeyBundle(signing,
    decryption))`` for keys in memory. The signing key tells the verifier whose lists
    it should expect to be unable to open (its own).
    """

    bundle: KeyBundle

    @property
    def key_ids(self) -> frozenset[bytes]:
        """The ids of the bundle's signing key and, if any, its decryption key."""
        ids = {self.bundle.signing.key_id}
        if self.bundle.decryption is not None:
            ids.add(self.bundle.decryption.key_id)
        return frozenset(ids)

    def reader(self, src: BinaryIO, exchange_id: bytes, list_name: str) -> BinaryIO:
        """A plaintext stream of the sealed content, authenticated chunk by chunk.

        The whole content is authentic only once a read returns ``b""`` without error
        (:class:`~swapproto.sealing.SealedReader`). Raises
        :class:`~swapproto.errors.InputError` (``key.bad_format``) if the bundle holds no
        decryption key, :class:`~swapproto.sealing.NotARecipientError` if the content
        is not sealed to it, :class:`~swapproto.sealing.SealedDataError` otherwise.
        """
        if self.bundle.decryption is None:
            raise InputError("this key file holds no decryption key", code=ErrorCode.KEY_FORMAT)
        context = SealingContext(exchange_id, list_name, MessageType.REVEAL.value)
        return SealedReader(src, self.bundle.decryption, context)
