"""Domain-separated SHA-256.

Every hash swapproto computes, except the RFC 9162 Merkle tree hashes (which are
domain-separated by their own 0x00/0x01 prefixes, see :mod:`swapproto.merkle`), is a
*tagged hash*::

    tagged_hash(tag, data) = SHA-256(SHA-256(tag) || SHA-256(tag) || data)

with ``tag`` the ASCII bytes of one :class:`Tag`. The 64-byte prefix fills exactly one
SHA-256 block, so the hasher state after the prefix is computed once per tag and
copied (the construction of BIP-340). Two uses never share a tag, so a digest made
for one purpose can never be presented as a digest for another.

The registry below is normative and mirrored in ``spec/hashing.md``; a test fails if
the two disagree. The same holds for :class:`KdfLabel`, the HKDF ``info`` labels of
every derived key, so tags and labels are all listed in one place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "DIGEST_SIZE",
    "KdfLabel",
    "Tag",
    "digest_equal",
    "fingerprint",
    "sha256",
    "tagged_hash",
    "tagged_hasher",
]

DIGEST_SIZE = 32


class Tag(Enum):
    """The registry of domain tags, one per use."""

    KEY_ID = "swapproto/v1/key-id"
    """Key id: the digest of a canonical public key record."""
    ENVELOPE_ID = "swapproto/v1/envelope-id"
    """Envelope id: the digest of a signed envelope's exact bytes (names files)."""
    MESSAGE_ID = "swapproto/v1/message-id"
    """Message id: the digest of an exchange message's envelope with no signatures."""
    MANIFEST_HEADER = "swapproto/v1/manifest-header"
    """The digest of a manifest header's canonical payload (amendment links)."""
    COMMITMENT = "swapproto/v1/commitment"
    """A hiding, binding commitment to a signed manifest header."""
    EXCHANGE_ID = "swapproto/v1/exchange-id"
    """The exchange id: the digest of the canonical agreed terms."""
    TRANSCRIPT = "swapproto/v1/transcript"
    """The digest of everything a party saw, signed in its verdict."""
    SEALING_INFO = "swapproto/v1/sealing-info"
    """The HPKE ``info`` binding a sealed payload to its exchange, list and type."""
    FINGERPRINT = "swapproto/v1/fingerprint"
    """The short human fingerprint read aloud by negotiators."""
    VERIFY_CHUNK = "swapproto/v1/verify-chunk"
    """Internal: one chunk of leaf hashes as one process of a parallel verification read
    them, compared with the other process's; never stored, sent or shown."""

    @property
    def encoded(self) -> bytes:
        """The tag's ASCII bytes."""
        return self.value.encode("ascii")


class KdfLabel(Enum):
    """The registry of HKDF ``info`` labels, one per derived key (``spec/hashing.md`` §5)."""

    KEY_SEED = "swapproto/v1/key-seed"
    """A key component from a seed; ``info`` is ``<label>/<alg or suite>/<component>``."""
    SEALED_PAYLOAD_KEY = "swapproto/v1/sealed/payload-key"
    """The chunk AEAD key of a sealed container, from its content key."""
    SEALED_HEADER_MAC = "swapproto/v1/sealed/header-mac"
    """The header MAC key of a sealed container, from its content key."""

    def info(self, *suffix: str) -> bytes:
        """The ASCII ``info`` bytes: the label, then each ``suffix`` after a ``/``."""
        return "/".join((self.value, *suffix)).encode("ascii")


@cache
def _prefix_state(tag: Tag) -> hashlib._Hash:
    if not isinstance(tag, Tag):  # a bare str would be a tag outside the registry
        raise TypeError(f"tag must be a registered Tag, not {type(tag).__name__}")
    tag_digest = hashlib.sha256(tag.encoded).digest()
    return hashlib.sha256(tag_digest + tag_digest)


def tagged_hasher(tag: Tag) -> hashlib._Hash:
    """A SHA-256 hasher already fed the tag prefix, for hashing streams."""
    return _prefix_state(tag).copy()


def tagged_hash(tag: Tag, *parts: bytes) -> bytes:
    """``SHA-256(SHA-256(tag) || SHA-256(tag) || parts[0] || parts[1] || ...)``.

    Callers that pass more than one part must make the concatenation unambiguous
    themselves (fixed-length parts or a canonical encoding).
    """
    h = _prefix_state(tag).copy()
    for part in parts:
        h.update(part)
    return h.digest()


def sha256(data: bytes | Iterable[bytes]) -> bytes:
    """Plain SHA-256 (for evidence digests and RFC 9162 trees only)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return hashlib.sha256(data).digest()
    h = hashlib.sha256()
    for chunk in data:
        h.update(chunk)
    return h.digest()


def fingerprint(digest: bytes) -> str:
    """A short fingerprint people can read aloud and write into signed minutes.

    ``base32(tagged_hash(FINGERPRINT, digest)[:10])`` in four groups of four letters
    and digits (80 bits), e.g. ``K5QW-3JDA-ZT7B-M2XE``.
    """
    text = base64.b32encode(tagged_hash(Tag.FINGERPRINT, digest)[:10]).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def digest_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of digests, signatures or other secrets."""
    return hmac.compare_digest(a, b)
