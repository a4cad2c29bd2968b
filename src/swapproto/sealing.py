"""Sealed payloads: one content key wrapped per recipient with HPKE, STREAM-encrypted content.

A sealed container (``spec/sealing.md``) is::

    u32be(len(header)) || header || header_mac (32) || chunk_0 || ... || chunk_{n-1}
    chunk_i = u32be(len(ct_i)) || ct_i

The header is the SP-CMP map ``{"chunk_size", "context", "format", "recipients",
"suite"}``; each recipient entry holds its encryption key id and the 32-byte content
key wrapped to it with HPKE (RFC 9180, ``info`` = the context digest). The content is
cut into 64 KiB chunks sealed with ChaCha20-Poly1305 under a key derived from the
content key, nonce = 11-byte big-endian chunk counter || last-chunk flag, AAD = the
context digest (the STREAM construction). The header MAC, keyed from the content key,
makes every recipient check that it holds the same content key and the same header.

Anyone can read the public parts (:func:`sealed_recipients`, :func:`inspect_sealed`);
only a recipient can read the content (:class:`SealedReader`, :func:`open_stream`).
Everything streams in bounded memory: a few chunks at a time, whatever the size.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from swapproto._binary_stream import require_bytes, require_reader, require_writer
from swapproto._sealed_container import (
    CHUNK_SIZE,
    CONTENT_KEY_SIZE,
    MAX_HEADER,
    MAX_RECIPIENTS,
    PAYLOAD_KEY_INFO,
    SEALED_FORMAT,
    TAG_SIZE,
    Chunk,
    ChunkKind,
    Framer,
    NotARecipientError,
    RecipientStanza,
    SealedDataError,
    SealedHeader,
    SealingError,
    Source,
    chunk_nonce,
    encode_header,
    fail,
    header_mac,
    read_full,
    read_header,
    subkey,
)
from swapproto.encoding import encode
from swapproto.errors import EncodeError, ErrorCode, SwapprotoError, VerificationError
from swapproto.hashing import DIGEST_SIZE, Tag, digest_equal, tagged_hash
from swapproto.keys import DecryptionKey, EncryptionPublicKey, EncryptionSuite

__all__ = [
    "CHUNK_SIZE",
    "MAX_HEADER",
    "MAX_RECIPIENTS",
    "SEALED_FORMAT",
    "NotARecipientError",
    "RecipientStanza",
    "SealedDataError",
    "SealedHeader",
    "SealedInfo",
    "SealedReader",
    "SealingContext",
    "SealingError",
    "inspect_sealed",
    "open_bytes",
    "open_stream",
    "seal_bytes",
    "seal_stream",
    "sealed_recipients",
]

_Emit = Callable[[bytes], None]


# ---------------------------------------------------------------------------------------
# values


@dataclass(frozen=True, slots=True)
class SealingContext:
    """What a sealed payload is bound to: exchange id, list name and message type."""

    exchange_id: bytes
    list_name: str
    message_type: str
    _digest: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.exchange_id) is not bytes:
            raise TypeError("exchange_id must be bytes")
        if type(self.list_name) is not str or type(self.message_type) is not str:
            raise TypeError("list_name and message_type must be str")
        if len(self.exchange_id) != DIGEST_SIZE:
            raise SealingError("an exchange id is 32 bytes")
        if not self.list_name or not self.message_type:
            raise SealingError("list name and message type must not be empty")
        try:
            data = self.to_bytes()
        except EncodeError as exc:
            raise SealingError(f"sealing context is not encodable ({exc.code})") from exc
        object.__setattr__(self, "_digest", tagged_hash(Tag.SEALING_INFO, data))

    def to_bytes(self) -> bytes:
        """``encode([exchange_id, list_name, message_type])``."""
        return encode([self.exchange_id, self.list_name, self.message_type])

    @property
    def digest(self) -> bytes:
        """``tagged_hash(Tag.SEALING_INFO, to_bytes())``: the HPKE ``info`` and chunk AAD."""
        return self._digest


@dataclass(frozen=True, slots=True)
class SealedInfo:
    """What anyone can tell about a sealed container."""

    digest: bytes
    """SHA-256 of the whole container, as named by a reveal."""
    size: int
    """Bytes of the container."""
    plaintext_size: int
    suite: EncryptionSuite
    context: bytes
    recipients: tuple[bytes, ...]


def sealed_recipients(src: BinaryIO) -> SealedHeader:
    """Read only the public header (suite, context digest, recipient key ids); no key
    needed. Raises :class:`SealedDataError` if it is malformed."""
    return read_header(Source(src, hashing=False))


# ---------------------------------------------------------------------------------------
# sealing


def _check_recipients(recipients: Sequence[EncryptionPublicKey]) -> EncryptionSuite:
    if not recipients:
        raise SealingError("a sealed payload needs at least one recipient")
    if len(recipients) > MAX_RECIPIENTS:
        raise SealingError(f"at most {MAX_RECIPIENTS} recipients")
    for r in recipients:
        if not isinstance(r, EncryptionPublicKey):
            raise TypeError("recipients must be EncryptionPublicKey objects")
    suites = {r.suite for r in recipients}
    if len(suites) != 1:
        raise SealingError("all recipients of one sealed payload must use the same suite")
    if len({r.key_id for r in recipients}) != len(recipients):
        raise SealingError("a recipient is named twice")
    return suites.pop()


def seal_stream(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[EncryptionPublicKey],
    context: SealingContext,
) -> SealedInfo:
    """Seal everything ``src`` holds to ``recipients``, writing the container to ``dst``.

    Memory stays bounded (a few chunks) whatever the size. All recipients must
    share one suite. The content key comes from the OS CSPRNG.
    """
    suite = _check_recipients(recipients)
    content_key = secrets.token_bytes(CONTENT_KEY_SIZE)
    stanzas = [
        RecipientStanza(r.key_id, r.hpke_seal(content_key, context.digest))
        for r in sorted(recipients, key=lambda r: r.key_id)
    ]
    return _write_container(src, dst, suite, context.digest, stanzas, content_key)


def _write_container(
    src: BinaryIO,
    dst: BinaryIO,
    suite: EncryptionSuite,
    context: bytes,
    stanzas: Sequence[RecipientStanza],
    content_key: bytes,
) -> SealedInfo:
    """Write a container from its parts (stanzas already wrapped, in key id order).

    Deterministic given its arguments: tests and ``tools/vectors_sealing.py`` call it
    with fixed stanzas and a fixed content key, since HPKE wrapping is randomised.
    """
    require_reader(src, "the plaintext")
    require_writer(dst, "the container's destination")
    header = encode_header(suite, context, stanzas)
    hasher = hashlib.sha256()
    written = 0

    def emit(data: bytes) -> None:
        nonlocal written
        hasher.update(data)
        dst.write(data)
        written += len(data)

    emit(len(header).to_bytes(4, "big") + header + header_mac(content_key, header))
    size = _seal_chunks(src, emit, subkey(content_key, PAYLOAD_KEY_INFO), context)
    ids = tuple(s.key_id for s in stanzas)
    return SealedInfo(hasher.digest(), written, size, suite, context, ids)


def _seal_chunks(src: BinaryIO, emit: _Emit, payload_key: bytes, aad: bytes) -> int:
    aead = ChaCha20Poly1305(payload_key)
    index = size = 0
    current = read_full(src, CHUNK_SIZE)
    while True:
        following = read_full(src, CHUNK_SIZE) if len(current) == CHUNK_SIZE else b""
        final = not following
        ct = aead.encrypt(chunk_nonce(index, final), current, aad)
        emit(len(ct).to_bytes(4, "big"))
        emit(ct)
        size += len(current)
        index += 1
        if final:
            return size
        current = following


def seal_bytes(
    plaintext: bytes, recipients: Sequence[EncryptionPublicKey], context: SealingContext
) -> bytes:
    """:func:`seal_stream` for data in memory: the container's bytes."""
    require_bytes(plaintext, "plaintext")
    out = io.BytesIO()
    seal_stream(io.BytesIO(plaintext), out, recipients, context)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# checking without a key


def inspect_sealed(src: BinaryIO, context: SealingContext | None = None) -> SealedInfo:
    """Check a container's public structure without a key and describe it.

    Verifies header, recipient list and chunk framing (not the content: that needs a
    recipient key), and, if ``context`` is given, that the header is bound to it.
    Raises :class:`SealedDataError`.
    """
    source = Source(src, hashing=True)
    header = read_header(source)
    if context is not None:
        _check_context(header, context)
    framer = Framer(source, header.chunk_size)
    plaintext_size = 0
    while (chunk := framer.next()) is not None:
        if chunk.kind is ChunkKind.DANGLING:
            if len(chunk.ct) < framer.full:  # a short chunk is the last: trailing bytes
                fail("bytes after the final chunk", chunk=chunk.index)
            fail("the container ends inside a chunk length", ErrorCode.SEAL_TRUNCATED)
        plaintext_size += len(chunk.ct) - TAG_SIZE
    assert source.hasher is not None
    digest = source.hasher.digest()
    return SealedInfo(
        digest, source.consumed, plaintext_size, header.suite, header.context, header.recipients
    )


def _check_context(header: SealedHeader, context: SealingContext) -> None:
    if not digest_equal(header.context, context.digest):
        fail(
            "the container is sealed for another exchange, list or message type",
            ErrorCode.SEAL_CONTEXT,
        )


# ---------------------------------------------------------------------------------------
# opening


def _unwrap(header: SealedHeader, key: DecryptionKey, context: SealingContext) -> bytes:
    if not isinstance(key, DecryptionKey):
        raise TypeError(
            f"key must be a DecryptionKey (a key bundle's .decryption), not {type(key).__name__}"
        )
    stanza = header.stanza_for(key.key_id) if key.suite is header.suite else None
    if stanza is None:
        raise NotARecipientError(
            f"the container is not sealed to encryption key {key.public_key.short_id}"
        )
    try:
        content_key = key.hpke_open(stanza.wrapped, context.digest)
    except VerificationError as exc:
        raise SealedDataError(
            "the wrapped content key does not open with this key", code=ErrorCode.SEAL_AUTH
        ) from exc
    if len(content_key) != CONTENT_KEY_SIZE:
        fail("the wrapped content key has the wrong size")
    if not digest_equal(header_mac(content_key, header.header_bytes), header.mac):
        fail(
            "the header does not match its MAC (altered, or recipients got different keys)",
            ErrorCode.SEAL_HEADER_MAC,
        )
    return content_key


class SealedReader(io.BufferedIOBase, BinaryIO):
    """A readable binary stream of the plaintext of a sealed container, chunk by chunk.

    The header is checked and the content key unwrapped on construction. Every byte
    :meth:`read` returns is authenticated and in order, but the *whole* content is
    authentic only once a read returns ``b""`` (end of data) without error: a
    truncated container fails at its end. Errors are :class:`SealedDataError`
    (:class:`NotARecipientError` if the key is not a recipient) and are final.
    With ``expected_digest`` the SHA-256 of the container is checked at the end too.
    """

    def __init__(
        self,
        src: BinaryIO,
        key: DecryptionKey,
        context: SealingContext,
        *,
        expected_digest: bytes | None = None,
    ) -> None:
        super().__init__()
        self._source = Source(src, hashing=expected_digest is not None)
        self._expected = expected_digest
        self._failed: SwapprotoError | None = None
        self.header = read_header(self._source)
        _check_context(self.header, context)
        content_key = _unwrap(self.header, key, context)
        self._aead = ChaCha20Poly1305(subkey(content_key, PAYLOAD_KEY_INFO))
        self._aad = context.digest
        self._framer = Framer(self._source, self.header.chunk_size)
        self._buf = b""
        self._pos = 0
        self.plaintext_size = 0
        """Plaintext bytes decrypted so far (the total once the end is reached)."""

    @property
    def mode(self) -> str:
        """``"rb"``."""
        return "rb"

    @property
    def name(self) -> str:
        """A display name."""
        return "<sealed>"

    def readable(self) -> bool:
        """Always true."""
        return True

    def _fill(self) -> bool:
        """Make buffered plaintext available; ``False`` at the authenticated end."""
        if self.closed:
            raise ValueError("I/O operation on closed sealed reader")
        if self._failed is not None:
            raise self._failed
        while self._pos == len(self._buf):
            try:
                chunk = self._framer.next()
                if chunk is None:
                    return False
                self._buf, self._pos = self._open(chunk), 0
            except SwapprotoError as exc:
                self._failed, self._buf = exc, b""
                raise
        return True

    def _open(self, chunk: Chunk) -> bytes:
        final = chunk.kind is not ChunkKind.MIDDLE
        try:
            plain = self._aead.decrypt(chunk_nonce(chunk.index, final), chunk.ct, self._aad)
        except InvalidTag:
            _diagnose(self._aead, self._aad, chunk)
        if chunk.kind is ChunkKind.DANGLING:
            fail("bytes after the final chunk", chunk=chunk.index)
        self.plaintext_size += len(plain)
        if final:
            self._check_digest()
        return plain

    def _check_digest(self) -> None:
        hasher = self._source.hasher
        if self._expected is not None and hasher is not None:
            calculated = hasher.digest()
            if not digest_equal(calculated, self._expected):
                fail(
                    "the container is not the one whose digest was expected",
                    ErrorCode.VERIFY_DIGEST,
                    expected=self._expected.hex(),
                    calculated=calculated.hex(),
                )

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` plaintext bytes (all remaining if negative); fewer only at the end."""
        if size is None or size < 0:
            size = -1
        parts: list[bytes] = []
        while size != 0 and self._fill():
            end = len(self._buf) if size < 0 else min(len(self._buf), self._pos + size)
            parts.append(self._buf[self._pos : end])
            if size > 0:
                size -= end - self._pos
            self._pos = end
        return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from at most one chunk; ``b""`` only at the end."""
        if size == 0 or not self._fill():
            return b""
        end = len(self._buf) if size < 0 else min(len(self._buf), self._pos + size)
        data = self._buf[self._pos : end]
        self._pos = end
        return data

    def close(self) -> None:
        """Drop buffered plaintext; the source stream is left open."""
        self._buf = b""
        super().close()


def _diagnose(aead: ChaCha20Poly1305, aad: bytes, chunk: Chunk) -> NoReturn:
    """Name why a chunk failed: truncation and trailing data show as the other flag."""
    other_final = chunk.kind is ChunkKind.MIDDLE
    try:
        aead.decrypt(chunk_nonce(chunk.index, other_final), chunk.ct, aad)
    except InvalidTag:
        fail(f"chunk {chunk.index} fails authentication", ErrorCode.SEAL_AUTH, chunk=chunk.index)
    if other_final:
        fail("data follows the final chunk", chunk=chunk.index)
    fail(
        f"the container ends after chunk {chunk.index}, which is not the last",
        ErrorCode.SEAL_TRUNCATED,
        chunk=chunk.index,
    )


def open_stream(
    src: BinaryIO,
    dst: BinaryIO | None,
    key: DecryptionKey,
    context: SealingContext,
    *,
    expected_digest: bytes | None = None,
) -> int:
    """Decrypt a container to ``dst`` (or only verify it if ``None``); the plaintext size.

    On error ``dst`` may hold a prefix of the plaintext: discard it.
    """
    if dst is not None:
        require_writer(dst, "the plaintext's destination")
    reader = SealedReader(src, key, context, expected_digest=expected_digest)
    while chunk := reader.read1(CHUNK_SIZE):
        if dst is not None:
            dst.write(chunk)
    return reader.plaintext_size


def open_bytes(
    sealed: bytes,
    key: DecryptionKey,
    context: SealingContext,
    *,
    expected_digest: bytes | None = None,
) -> bytes:
    """:func:`open_stream` for a container in memory: the plaintext."""
    require_bytes(sealed, "sealed")
    out = io.BytesIO()
    open_stream(io.BytesIO(sealed), out, key, context, expected_digest=expected_digest)
    return out.getvalue()
