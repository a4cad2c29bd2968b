"""Encryption keys: the HPKE suites, encryption key records and private decryption keys.

Sealed lists (:mod:`swapproto.sealing`) are encrypted to these keys with HPKE
(RFC 9180). Two suites exist (``spec/keys.md`` §1.2): ``x25519`` (the default) and the
hybrid ``mlkem768-x25519``. An encryption key has its own record and key id (§2.2,
§2.3), kept apart from a signing key's by the record's ``suite`` member; it is derived
from a 32-byte seed (§3) and stored in a private key file after the signing key (§4).
X25519 public keys must be canonical and not of low order. Pure: no I/O. The names are
also exported by :mod:`swapproto.keys`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Final, NoReturn

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from swapproto._key_material import (
    SEED_SIZE,
    check_seed,
    derive_seed,
    fail,
    pem_encryption,
)
from swapproto.encoding import DEFAULT_LIMITS, DecodeLimits, decode, encode
from swapproto.errors import ErrorCode, VerificationError
from swapproto.hashing import Tag, tagged_hash

__all__ = [
    "HPKE_SUITE_IDS",
    "DecryptionKey",
    "EncryptionPublicKey",
    "EncryptionSuite",
    "parse_suite",
]


class EncryptionSuite(StrEnum):
    """The HPKE suites of a swapproto encryption key (all: HKDF-SHA256, ChaCha20-Poly1305)."""

    X25519 = "x25519"
    """DHKEM(X25519, HKDF-SHA256): the default."""
    MLKEM768_X25519 = "mlkem768-x25519"
    """The hybrid ML-KEM-768 + X25519 KEM (X-Wing, HPKE KEM id 0x647A)."""


HPKE_SUITE_IDS: Final[Mapping[EncryptionSuite, tuple[int, int, int]]] = MappingProxyType(
    {
        EncryptionSuite.X25519: (0x0020, 0x0001, 0x0003),
        EncryptionSuite.MLKEM768_X25519: (0x647A, 0x0001, 0x0003),
    }
)
"""RFC 9180 ``(kem_id, kdf_id, aead_id)`` of each suite."""
_X_PUBLIC_SIZE: Final = 32
_MLKEM_PUBLIC_SIZE: Final = 1184
_MLKEM_SEED_SIZE: Final = 64
# X25519 with any clamped scalar maps exactly the low-order points to zero.
_LOW_ORDER_PROBE: Final = x25519.X25519PrivateKey.from_private_bytes(bytes([0x5A]) * 32)
_P25519: Final = 2**255 - 19


def parse_suite(suite: object) -> EncryptionSuite:
    """The suite named ``suite``; ``KeyFileError`` (``KEY_ALGORITHM``) if unknown."""
    if isinstance(suite, str) and suite in {s.value for s in EncryptionSuite}:
        return EncryptionSuite(suite)
    fail("unsupported encryption suite", ErrorCode.KEY_ALGORITHM)


_HPKE_KEMS: Final = {
    EncryptionSuite.X25519: hpke.KEM.X25519,
    EncryptionSuite.MLKEM768_X25519: hpke.KEM.MLKEM768_X25519,
}


@cache
def _hpke_suite(suite: EncryptionSuite) -> hpke.Suite:
    try:
        return hpke.Suite(_HPKE_KEMS[suite], hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    except UnsupportedAlgorithm:  # pragma: no cover - depends on the OpenSSL build
        fail(f"this build of cryptography lacks HPKE suite {suite.value}", ErrorCode.KEY_ALGORITHM)


_HpkePublic = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
_HpkePrivate = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


@lru_cache(maxsize=256)
def _hpke_public(x25519_raw: bytes, mlkem768_raw: bytes | None) -> _HpkePublic:
    if x25519_raw[31] & 0x80 or int.from_bytes(x25519_raw, "little") >= _P25519:
        raise ValueError("non-canonical X25519 public key")  # a second name for a key
    x = x25519.X25519PublicKey.from_public_bytes(x25519_raw)
    _LOW_ORDER_PROBE.exchange(x)  # ValueError for the low-order points
    if mlkem768_raw is None:
        return x
    ml = mlkem.MLKEM768PublicKey.from_public_bytes(mlkem768_raw)
    return hpke.MLKEM768X25519PublicKey(ml, x)


@dataclass(frozen=True, slots=True)
class EncryptionPublicKey:
    """A public HPKE key: ``suite``, the raw X25519 key and, if hybrid, ML-KEM-768.

    Its key id is ``tagged_hash(Tag.KEY_ID, to_bytes())`` like a signing key's: the
    record's ``suite`` member, which no signing record has, keeps the two apart.
    """

    suite: EncryptionSuite
    x25519: bytes
    mlkem768: bytes | None = None
    _key_id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "suite", suite := parse_suite(self.suite))
        if type(self.x25519) is not bytes or len(self.x25519) != _X_PUBLIC_SIZE:
            fail("an X25519 public key is 32 bytes")
        if suite is EncryptionSuite.X25519:
            if self.mlkem768 is not None:
                fail("an x25519 encryption key has no ML-KEM-768 component")
        elif type(self.mlkem768) is not bytes or len(self.mlkem768) != _MLKEM_PUBLIC_SIZE:
            fail("an ML-KEM-768 public key is 1184 bytes")
        try:
            _hpke_public(self.x25519, self.mlkem768)
        except (ValueError, UnsupportedAlgorithm):
            fail("encryption public key bytes are not a valid key")
        object.__setattr__(self, "_key_id", tagged_hash(Tag.KEY_ID, self.to_bytes()))

    def record(self) -> dict[str, object]:
        """The encryption key record: ``{"suite", "x25519"[, "mlkem768"]}``."""
        rec: dict[str, object] = {"suite": self.suite.value, "x25519": self.x25519}
        if self.mlkem768 is not None:
            rec["mlkem768"] = self.mlkem768
        return rec

    def to_bytes(self) -> bytes:
        """The SP-CMP encoding of :meth:`record`."""
        return encode(self.record())

    @classmethod
    def from_record(cls, record: object) -> EncryptionPublicKey:
        """Build a key from a decoded record; missing or unknown fields are refused."""
        if not isinstance(record, dict):
            fail("an encryption key record is a map")
        suite = parse_suite(record.get("suite"))
        want = {"suite", "x25519"} | ({"mlkem768"} if suite != EncryptionSuite.X25519 else set())
        if set(record) != want:
            fail("encryption key record fields do not match its suite")
        return cls(suite, record["x25519"], record.get("mlkem768"))

    @classmethod
    def from_bytes(
        cls, data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS
    ) -> EncryptionPublicKey:
        """Parse the SP-CMP bytes of an encryption key record (strict)."""
        return cls.from_record(decode(data, limits=limits))

    @property
    def key_id(self) -> bytes:
        """``tagged_hash(Tag.KEY_ID, to_bytes())``, 32 bytes."""
        return self._key_id

    @property
    def short_id(self) -> str:
        """The first 8 bytes of the key id in hex, for display only."""
        return self._key_id[:8].hex()

    def hpke_seal(self, plaintext: bytes, info: bytes) -> bytes:
        """RFC 9180 single-shot ``SealBase`` to this key: ``enc || ciphertext``.

        Low level: sealed payloads go through :mod:`swapproto.sealing`.
        """
        return _hpke_suite(self.suite).encrypt(
            plaintext, _hpke_public(self.x25519, self.mlkem768), info=info
        )

    def __repr__(self) -> str:
        return f"EncryptionPublicKey(suite={self.suite.value!r}, key_id={self.short_id!r})"


class DecryptionKey:
    """A private HPKE key (both components if hybrid). Its repr shows the key id only."""

    __slots__ = ("_hpke", "_ml", "_public", "_x")

    def __init__(
        self, x25519_key: x25519.X25519PrivateKey, mlkem768_key: mlkem.MLKEM768PrivateKey | None
    ) -> None:
        """Wrap ``cryptography`` private keys; prefer :meth:`generate` or :meth:`from_seed`."""
        self._x = x25519_key
        self._ml = mlkem768_key
        x_pub = x25519_key.public_key().public_bytes_raw()
        if mlkem768_key is None:
            self._hpke: _HpkePrivate = x25519_key
            self._public = EncryptionPublicKey(EncryptionSuite.X25519, x_pub)
        else:
            self._hpke = hpke.MLKEM768X25519PrivateKey(mlkem768_key, x25519_key)
            ml_pub = mlkem768_key.public_key().public_bytes_raw()
            self._public = EncryptionPublicKey(EncryptionSuite.MLKEM768_X25519, x_pub, ml_pub)

    @classmethod
    def generate(cls, suite: EncryptionSuite | str = EncryptionSuite.X25519) -> DecryptionKey:
        """A fresh key from the OS CSPRNG."""
        return cls.from_seed(secrets.token_bytes(SEED_SIZE), suite)

    @classmethod
    def from_seed(
        cls, seed: bytes, suite: EncryptionSuite | str = EncryptionSuite.X25519
    ) -> DecryptionKey:
        """The key derived from a secret 32-byte seed (``spec/keys.md`` §3).

        Component seed = ``HKDF-SHA256(ikm=seed, info="swapproto/v1/key-seed/<suite>/<c>")``,
        32 bytes for ``x25519``, 64 bytes (``d || z``) for ``mlkem768``.
        """
        suite = parse_suite(suite)
        check_seed(seed)
        x = x25519.X25519PrivateKey.from_private_bytes(derive_seed(seed, suite, "x25519"))
        ml = None
        if suite is EncryptionSuite.MLKEM768_X25519:
            ml_seed = derive_seed(seed, suite, "mlkem768", _MLKEM_SEED_SIZE)
            ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(ml_seed)
        return cls(x, ml)

    @property
    def suite(self) -> EncryptionSuite:
        """The key's suite."""
        return self._public.suite

    @property
    def public_key(self) -> EncryptionPublicKey:
        """The matching public key."""
        return self._public

    @property
    def key_id(self) -> bytes:
        """The public key's id."""
        return self._public.key_id

    def hpke_open(self, ciphertext: bytes, info: bytes) -> bytes:
        """RFC 9180 single-shot ``OpenBase``; ``VerificationError`` (``SEAL_AUTH``) if bad."""
        try:
            return _hpke_suite(self.suite).decrypt(ciphertext, self._hpke, info=info)
        except (InvalidTag, ValueError) as exc:
            raise VerificationError(
                f"HPKE ciphertext does not open with key {self._public.short_id}",
                code=ErrorCode.SEAL_AUTH,
            ) from exc

    def to_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """PEM PKCS#8 blocks: X25519, then ML-KEM-768 (seed form) if hybrid."""
        args = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8)
        enc = pem_encryption(passphrase)
        return self._x.private_bytes(*args, enc) + (
            b"" if self._ml is None else self._ml.private_bytes(*args, enc)
        )

    def __repr__(self) -> str:
        return f"DecryptionKey(suite={self.suite.value!r}, key_id={self._public.short_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("DecryptionKey cannot be pickled; use to_pem()")
