"""The sealed container format, shared by :mod:`swapproto.sealing`'s writer and readers.

A sealed container (``spec/sealing.md``) is::

    u32be(len(header)) || header || header_mac (32) || chunk_0 || ... || chunk_{n-1}
    chunk_i = u32be(len(ct_i)) || ct_i

This module holds its constants and errors, the header (encoding, strict parsing,
bounded reading), the keys and nonces derived for it, and the chunk framing; what to
seal and how to open it is :mod:`swapproto.sealing`, which re-exports the public names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import BinaryIO, Final, NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from swapproto._binary_stream import read_bytes, require_reader
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.errors import DecodeError, ErrorCode, SwapprotoError, VerificationError
from swapproto.hashing import DIGEST_SIZE, KdfLabel
from swapproto.keys import EncryptionSuite

__all__ = [
    "CHUNK_SIZE",
    "CONTENT_KEY_SIZE",
    "MAC_SIZE",
    "MAX_HEADER",
    "MAX_RECIPIENTS",
    "PAYLOAD_KEY_INFO",
    "SEALED_FORMAT",
    "TAG_SIZE",
    "Chunk",
    "ChunkKind",
    "Framer",
    "NotARecipientError",
    "RecipientStanza",
    "SealedDataError",
    "SealedHeader",
    "SealingError",
    "Source",
    "chunk_nonce",
    "encode_header",
    "fail",
    "header_mac",
    "read_full",
    "read_header",
    "subkey",
]

SEALED_FORMAT: Final = "swapproto-sealed/1"
"""The ``format`` member of a sealed header."""
CHUNK_SIZE: Final = 64 * 1024
"""Plaintext bytes per chunk (every chunk but the last is exactly this long)."""
MAX_RECIPIENTS: Final = 256
"""The most recipients one container may name."""
MAX_HEADER: Final = 1024 * 1024
"""The largest header a reader accepts, in bytes."""
TAG_SIZE: Final = 16
CONTENT_KEY_SIZE: Final = 32
MAC_SIZE: Final = 32
PAYLOAD_KEY_INFO: Final = KdfLabel.SEALED_PAYLOAD_KEY.info()
_HEADER_MAC_INFO: Final = KdfLabel.SEALED_HEADER_MAC.info()
_WRAPPED_SIZE: Final = {  # HPKE enc + wrapped content key + AEAD tag
    EncryptionSuite.X25519: 32 + CONTENT_KEY_SIZE + TAG_SIZE,
    EncryptionSuite.MLKEM768_X25519: 1120 + CONTENT_KEY_SIZE + TAG_SIZE,
}
_HEADER_MEMBERS: Final = frozenset({"chunk_size", "context", "format", "recipients", "suite"})
_HEADER_LIMITS: Final = DecodeLimits(
    max_input=MAX_HEADER, max_depth=3, max_str=64, max_bin=4096, max_array=MAX_RECIPIENTS, max_map=8
)


class SealingError(SwapprotoError):
    """A sealing request the sealer refuses (recipients, context); base of this module's errors."""

    default_code = ErrorCode.SEAL_REQUEST


class NotARecipientError(SealingError):
    """The container is not sealed to this key: its content cannot be checked with it."""

    default_code = ErrorCode.SEAL_NOT_RECIPIENT


class SealedDataError(SealingError, VerificationError):
    """A sealed container is malformed, truncated, bound elsewhere or fails authentication."""

    default_code = ErrorCode.SEAL_INVALID


def fail(message: str, code: ErrorCode = ErrorCode.SEAL_INVALID, **details: object) -> NoReturn:
    raise SealedDataError(message, code=code, **details)


# ---------------------------------------------------------------------------------------
# header values


@dataclass(frozen=True, slots=True)
class RecipientStanza:
    """One recipient entry of a header: encryption key id and the wrapped content key."""

    key_id: bytes
    wrapped: bytes

    def __repr__(self) -> str:
        return f"RecipientStanza(key_id={self.key_id.hex()!r}, wrapped={len(self.wrapped)} bytes)"


@dataclass(frozen=True, slots=True)
class SealedHeader:
    """The public header of a sealed container, as read (nothing here is authenticated)."""

    suite: EncryptionSuite
    context: bytes
    chunk_size: int
    stanzas: tuple[RecipientStanza, ...]
    header_bytes: bytes = field(repr=False)
    mac: bytes = field(repr=False)

    @property
    def recipients(self) -> tuple[bytes, ...]:
        """The recipients' encryption key ids, ascending."""
        return tuple(s.key_id for s in self.stanzas)

    def stanza_for(self, key_id: bytes) -> RecipientStanza | None:
        """The entry of ``key_id``, or ``None``."""
        return next((s for s in self.stanzas if s.key_id == key_id), None)

    def __repr__(self) -> str:
        ids = ", ".join(repr(k[:8].hex()) for k in self.recipients)
        return (
            f"SealedHeader(suite={self.suite.value!r}, context={self.context.hex()!r}, "
            f"recipients=({ids}))"
        )


# ---------------------------------------------------------------------------------------
# primitives


def subkey(content_key: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(content_key)


def header_mac(content_key: bytes, header_bytes: bytes) -> bytes:
    mac_key = subkey(content_key, _HEADER_MAC_INFO)
    return hmac.new(mac_key, header_bytes, hashlib.sha256).digest()


def chunk_nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def read_full(src: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes; fewer only at the end of ``src``."""
    data = read_bytes(src.read(n) or b"", "a sealed container stream")
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = read_bytes(src.read(n - got) or b"", "a sealed container stream")
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class Source:
    """Reads a container, counting (and, if asked, hashing) every byte consumed."""

    __slots__ = ("consumed", "hasher", "src")

    def __init__(self, src: BinaryIO, hashing: bool) -> None:
        require_reader(src, "a sealed container")
        self.src = src
        self.hasher = hashlib.sha256() if hashing else None
        self.consumed = 0

    def read(self, n: int) -> bytes:
        data = read_full(self.src, n)
        self.consumed += len(data)
        if self.hasher is not None:
            self.hasher.update(data)
        return data

    def exact(self, n: int, what: str) -> bytes:
        data = self.read(n)
        if len(data) != n:
            fail(f"the container ends inside the {what}", ErrorCode.SEAL_TRUNCATED)
        return data


# ---------------------------------------------------------------------------------------
# header


def encode_header(
    suite: EncryptionSuite, context: bytes, stanzas: Sequence[RecipientStanza]
) -> bytes:
    return encode(
        {
            "chunk_size": CHUNK_SIZE,
            "context": context,
            "format": SEALED_FORMAT,
            "recipients": [{"key_id": s.key_id, "wrapped": s.wrapped} for s in stanzas],
            "suite": suite.value,
        }
    )


def _parse_header(data: bytes, mac: bytes) -> SealedHeader:
    try:
        value = decode(data, limits=_HEADER_LIMITS)
    except DecodeError as exc:
        raise SealedDataError(
            f"the sealed header is not canonical SP-CMP ({exc.code})", decode_error=str(exc.code)
        ) from exc
    if not isinstance(value, dict) or set(value) != _HEADER_MEMBERS:
        fail("the sealed header does not have the members of a sealed header")
    if value["format"] != SEALED_FORMAT:
        fail("unknown sealed container format")
    suite_name = value["suite"]
    if not isinstance(suite_name, str) or suite_name not in {s.value for s in EncryptionSuite}:
        fail("unsupported sealing suite")
    suite = EncryptionSuite(suite_name)
    context = value["context"]
    if type(context) is not bytes or len(context) != DIGEST_SIZE:
        fail("the sealed header's context is not a 32-byte digest")
    if type(value["chunk_size"]) is not int or value["chunk_size"] != CHUNK_SIZE:
        fail(f"unsupported chunk size (format 1 uses {CHUNK_SIZE})")
    stanzas = _parse_stanzas(value["recipients"], _WRAPPED_SIZE[suite])
    return SealedHeader(suite, context, CHUNK_SIZE, stanzas, data, mac)


def _parse_stanzas(value: object, wrapped_size: int) -> tuple[RecipientStanza, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RECIPIENTS:
        fail(f"a sealed header names 1 to {MAX_RECIPIENTS} recipients")
    stanzas: list[RecipientStanza] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"key_id", "wrapped"}:
            fail("a recipient entry is a map of key_id and wrapped")
        key_id, wrapped = item["key_id"], item["wrapped"]
        if type(key_id) is not bytes or len(key_id) != DIGEST_SIZE:
            fail("a recipient key id is 32 bytes")
        if type(wrapped) is not bytes or len(wrapped) != wrapped_size:
            fail(f"a wrapped content key of this suite is {wrapped_size} bytes")
        if stanzas and key_id <= stanzas[-1].key_id:
            fail("recipients are not in strictly ascending key id order")
        stanzas.append(RecipientStanza(key_id, wrapped))
    return tuple(stanzas)


def read_header(source: Source) -> SealedHeader:
    length = int.from_bytes(source.exact(4, "header length"), "big")
    if length > MAX_HEADER:
        fail(f"a sealed header of {length} bytes exceeds the limit of {MAX_HEADER}")
    header_bytes = source.exact(length, "header")
    return _parse_header(header_bytes, source.exact(MAC_SIZE, "header MAC"))


# ---------------------------------------------------------------------------------------
# chunk framing (shared by readers with and without a key)


class ChunkKind(Enum):
    MIDDLE = "more chunks follow"
    FINAL = "the container ends after it"
    DANGLING = "1 to 3 bytes follow it"


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    ct: bytes
    kind: ChunkKind


class Framer:
    """Splits the chunk stream into chunks, looking ahead one length prefix."""

    __slots__ = ("_pending", "_source", "full", "index")

    def __init__(self, source: Source, chunk_size: int) -> None:
        self._source = source
        self.full = chunk_size + TAG_SIZE
        self.index = 0
        self._pending: int | None = int.from_bytes(source.exact(4, "first chunk length"), "big")

    def next(self) -> Chunk | None:
        if self._pending is None:
            return None
        length, i = self._pending, self.index
        if not TAG_SIZE <= length <= self.full:
            fail(f"chunk {i} has an impossible length", chunk=i)
        ct = self._source.read(length)
        if len(ct) != length:
            fail(f"the container ends inside chunk {i}", ErrorCode.SEAL_TRUNCATED, chunk=i)
        peek = self._source.read(4)
        self.index += 1
        self._pending = int.from_bytes(peek, "big") if len(peek) == 4 else None
        kind = (
            ChunkKind.MIDDLE if len(peek) == 4 else ChunkKind.DANGLING if peek else ChunkKind.FINAL
        )
        if kind is ChunkKind.MIDDLE and length != self.full:
            fail(f"chunk {i} is short but not the last (lost chunk or trailing data)", chunk=i)
        if kind is not ChunkKind.MIDDLE and length == TAG_SIZE and i > 0:
            fail("an empty final chunk after data", chunk=i)
        return Chunk(i, ct, kind)
