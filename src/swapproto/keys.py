"""Signing and encryption keys, public key records, key ids, key files, trust policies.

Two signature algorithms exist (``spec/keys.md``): ``ed25519`` and the hybrid
``ed25519+ml-dsa-65``, whose signatures verify only when *both* components verify.
Two HPKE (RFC 9180) encryption suites exist for sealing: ``x25519`` (the default) and
the hybrid ``mlkem768-x25519``. A public key is named by its key id, the tagged hash of
its canonical public key record. Everything here is pure except the
``write_*``/``load_*`` file helpers.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swapproto.encoding import DEFAULT_LIMITS, DecodeLimits, decode, encode
from swapproto.errors import (
    ErrorCode,
    KeyFileError,
    PolicyError,
    SignatureError,
    VerificationError,
)
from swapproto.hashing import Tag, tagged_hash

__all__ = [
    "HPKE_SUITE_IDS",
    "ML_DSA_CONTEXT",
    "PUBLIC_KEY_FORMAT",
    "DecryptionKey",
    "EncryptionPublicKey",
    "EncryptionSuite",
    "KeyAlgorithm",
    "KeyBundle",
    "PublicKey",
    "PublicKeyBundle",
    "RolePolicy",
    "SigningKey",
    "TrustPolicy",
    "load_key_bundle",
    "load_public_key",
    "load_public_key_bundle",
    "load_signing_key",
    "parse_public_key_bundle",
    "parse_public_key_document",
    "public_key_document",
    "write_key_pair",
    "write_public_key",
    "write_signing_key",
]


class KeyAlgorithm(StrEnum):
    """The signature algorithms of a swapproto key."""

    ED25519 = "ed25519"
    ED25519_ML_DSA_65 = "ed25519+ml-dsa-65"


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
ML_DSA_CONTEXT: Final = b"swapproto/v1"
"""The FIPS 204 context string of every ML-DSA-65 signature swapproto makes."""
PUBLIC_KEY_FORMAT: Final = "swapproto-public-key/1"
"""The ``format`` member of a public key file."""
_ED_PUBLIC_SIZE: Final = 32
_ML_PUBLIC_SIZE: Final = 1952
_SEED_SIZE: Final = 32
_X_PUBLIC_SIZE: Final = 32
_MLKEM_PUBLIC_SIZE: Final = 1184
_MLKEM_SEED_SIZE: Final = 64
_SEED_INFO: Final = "swapproto/v1/key-seed/{alg}/{component}"
_MAX_KEY_FILE: Final = 64 * 1024
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PEM_RE: Final = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]*?-----END \1-----"
)
_PEM_LABELS: Final = {b"PRIVATE KEY": False, b"ENCRYPTED PRIVATE KEY": True}
_BLOCK_KINDS: Final = (
    ("ed25519", ed25519.Ed25519PrivateKey),
    ("ml-dsa-65", mldsa.MLDSA65PrivateKey),
    ("x25519", x25519.X25519PrivateKey),
    ("mlkem768", mlkem.MLKEM768PrivateKey),
)
# X25519 with any clamped scalar maps exactly the low-order points to zero.
_LOW_ORDER_PROBE: Final = x25519.X25519PrivateKey.from_private_bytes(bytes([0x5A]) * 32)
_P25519: Final = 2**255 - 19
_Y_MASK: Final = (1 << 255) - 1
_ED_Y8: Final = int.from_bytes(
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), "little"
)
# The y coordinates of the eight edwards25519 points of small order (orders 1, 2, 4, 8).
_ED_SMALL_ORDER_Y: Final = frozenset({1, _P25519 - 1, 0, _ED_Y8, _P25519 - _ED_Y8})


def _fail(message: str, code: ErrorCode = ErrorCode.KEY_FORMAT) -> NoReturn:
    raise KeyFileError(message, code=code)


def _parse_alg(alg: object) -> KeyAlgorithm:
    if isinstance(alg, str) and alg in {a.value for a in KeyAlgorithm}:
        return KeyAlgorithm(alg)
    _fail("unsupported key algorithm", ErrorCode.KEY_ALGORITHM)


def _check_ed25519_point(raw: bytes) -> None:
    """Refuse non-canonical encodings (``y >= p``) and the points of small order.

    A small-order key verifies signatures that nobody made (e.g. the identity accepts
    ``R = B, S = 1`` for every message); a non-canonical one is a second name for a key.
    """
    y = int.from_bytes(raw, "little") & _Y_MASK
    if y >= _P25519 or y in _ED_SMALL_ORDER_Y:
        _fail("an Ed25519 public key must be a canonical point of large order")


@lru_cache(maxsize=1024)
def _ed_public(raw: bytes) -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


@lru_cache(maxsize=256)
def _ml_public(raw: bytes) -> mldsa.MLDSA65PublicKey:
    return mldsa.MLDSA65PublicKey.from_public_bytes(raw)


# ---------------------------------------------------------------------------------------
# public keys


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public signing key: ``alg``, the raw Ed25519 key and, if hybrid, ML-DSA-65."""

    alg: KeyAlgorithm
    ed25519: bytes
    ml_dsa_65: bytes | None = None
    _key_id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "alg", alg := _parse_alg(self.alg))
        if type(self.ed25519) is not bytes or len(self.ed25519) != _ED_PUBLIC_SIZE:
            _fail("an Ed25519 public key is 32 bytes")
        if alg is KeyAlgorithm.ED25519:
            if self.ml_dsa_65 is not None:
                _fail("an ed25519 key has no ML-DSA-65 component")
        elif type(self.ml_dsa_65) is not bytes or len(self.ml_dsa_65) != _ML_PUBLIC_SIZE:
            _fail("an ML-DSA-65 public key is 1952 bytes")
        _check_ed25519_point(self.ed25519)
        try:
            _ed_public(self.ed25519)
            if self.ml_dsa_65 is not None:
                _ml_public(self.ml_dsa_65)
        except (ValueError, UnsupportedAlgorithm):
            _fail("public key bytes are not a valid key")
        object.__setattr__(self, "_key_id", tagged_hash(Tag.KEY_ID, self.to_bytes()))

    def record(self) -> dict[str, object]:
        """The public key record: ``{"alg", "ed25519"[, "ml-dsa-65"]}``."""
        rec: dict[str, object] = {"alg": self.alg.value, "ed25519": self.ed25519}
        if self.ml_dsa_65 is not None:
            rec["ml-dsa-65"] = self.ml_dsa_65
        return rec

    def to_bytes(self) -> bytes:
        """The SP-CMP encoding of :meth:`record`."""
        return encode(self.record())

    @classmethod
    def from_record(cls, record: object) -> PublicKey:
        """Build a key from a decoded record; missing or unknown fields are refused."""
        if not isinstance(record, dict):
            _fail("a public key record is a map")
        alg = _parse_alg(record.get("alg"))
        want = {"alg", "ed25519"} | ({"ml-dsa-65"} if alg != KeyAlgorithm.ED25519 else set())
        if set(record) != want:
            _fail("public key record fields do not match its algorithm")
        return cls(alg, record["ed25519"], record.get("ml-dsa-65"))

    @classmethod
    def from_bytes(cls, data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> PublicKey:
        """Parse the SP-CMP bytes of a public key record (strict, as :meth:`from_record`)."""
        return cls.from_record(decode(data, limits=limits))

    @property
    def key_id(self) -> bytes:
        """``tagged_hash(Tag.KEY_ID, to_bytes())``, 32 bytes."""
        return self._key_id

    @property
    def short_id(self) -> str:
        """The first 8 bytes of the key id in hex, for display only."""
        return self._key_id[:8].hex()

    def verify(self, message: bytes, ed25519_sig: bytes, ml_dsa_65_sig: bytes | None) -> None:
        """Check a raw signature over ``message``; raise :class:`SignatureError` if bad.

        A hybrid key needs both components; an ``ed25519`` key refuses an ML-DSA part.
        """
        if (ml_dsa_65_sig is None) != (self.ml_dsa_65 is None):
            raise SignatureError(f"signature components do not match key {self.short_id}")
        try:
            _ed_public(self.ed25519).verify(ed25519_sig, message)
            if self.ml_dsa_65 is not None and ml_dsa_65_sig is not None:
                _ml_public(self.ml_dsa_65).verify(ml_dsa_65_sig, message, ML_DSA_CONTEXT)
        except (InvalidSignature, ValueError) as exc:
            raise SignatureError(f"bad signature by key {self.short_id}") from exc

    def __repr__(self) -> str:
        return f"PublicKey(alg={self.alg.value!r}, key_id={self.short_id!r})"


# ---------------------------------------------------------------------------------------
# signing keys


def _derive_seed(
    seed: bytes, alg: KeyAlgorithm | EncryptionSuite, component: str, length: int = _SEED_SIZE
) -> bytes:
    info = _SEED_INFO.format(alg=alg.value, component=component).encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(seed)


def _check_seed(seed: bytes) -> None:
    if type(seed) is not bytes or len(seed) != _SEED_SIZE:
        _fail("a key seed is 32 bytes")


def _pem_encryption(passphrase: bytes | str | None) -> serialization.KeySerializationEncryption:
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(_passphrase_bytes(passphrase))


class SigningKey:
    """A private signing key (both components if hybrid). Its repr shows the key id only."""

    __slots__ = ("_ed", "_ml", "_public")

    def __init__(
        self, ed25519_key: ed25519.Ed25519PrivateKey, ml_dsa_65_key: mldsa.MLDSA65PrivateKey | None
    ) -> None:
        """Wrap ``cryptography`` private keys; prefer :meth:`generate` or :meth:`from_seed`."""
        self._ed = ed25519_key
        self._ml = ml_dsa_65_key
        alg = KeyAlgorithm.ED25519 if ml_dsa_65_key is None else KeyAlgorithm.ED25519_ML_DSA_65
        ml_pub = None if ml_dsa_65_key is None else ml_dsa_65_key.public_key().public_bytes_raw()
        self._public = PublicKey(alg, ed25519_key.public_key().public_bytes_raw(), ml_pub)

    @classmethod
    def generate(cls, alg: KeyAlgorithm | str = KeyAlgorithm.ED25519) -> SigningKey:
        """A fresh key from the OS CSPRNG."""
        return cls.from_seed(secrets.token_bytes(_SEED_SIZE), alg)

    @classmethod
    def from_seed(cls, seed: bytes, alg: KeyAlgorithm | str = KeyAlgorithm.ED25519) -> SigningKey:
        """The key derived from a secret 32-byte seed (``spec/keys.md`` §3).

        Component seed = ``HKDF-SHA256(ikm=seed, info="swapproto/v1/key-seed/<alg>/<c>")``.
        """
        alg = _parse_alg(alg)
        _check_seed(seed)
        ed = ed25519.Ed25519PrivateKey.from_private_bytes(_derive_seed(seed, alg, "ed25519"))
        ml = None
        if alg is KeyAlgorithm.ED25519_ML_DSA_65:
            ml = mldsa.MLDSA65PrivateKey.from_seed_bytes(_derive_seed(seed, alg, "ml-dsa-65"))
        return cls(ed, ml)

    @property
    def alg(self) -> KeyAlgorithm:
        """The key's algorithm."""
        return self._public.alg

    @property
    def public_key(self) -> PublicKey:
        """The matching public key."""
        return self._public

    @property
    def key_id(self) -> bytes:
        """The public key's id."""
        return self._public.key_id

    def sign(self, message: bytes) -> tuple[bytes, bytes | None]:
        """Raw ``(ed25519, ml_dsa_65 or None)`` signatures over ``message``.

        Low level: protocol code signs through :func:`swapproto.envelope.sign_envelope`,
        which applies the pre-authentication encoding.
        """
        ml = None if self._ml is None else self._ml.sign(message, ML_DSA_CONTEXT)
        return self._ed.sign(message), ml

    def to_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """The private key file content: PEM PKCS#8 blocks, Ed25519 first."""
        enc = _pem_encryption(passphrase)
        args = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        return self._ed.private_bytes(*args) + (
            b"" if self._ml is None else self._ml.private_bytes(*args)
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | str | None = None) -> SigningKey:
        """Parse private key file content (errors as :func:`load_signing_key`).

        Decryption key blocks, if any, are checked and ignored.
        """
        found = _parse_key_file(data, passphrase)
        return cls(found["ed25519"], found.get("ml-dsa-65"))

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg.value!r}, key_id={self._public.short_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey cannot be pickled; use to_pem()")


def _parse_key_file(data: bytes, passphrase: bytes | str | None) -> dict[str, Any]:
    """Every key of a private key file by kind, checked as ``spec/keys.md`` §4 says."""
    blocks = _pem_blocks(data)
    encrypted = {_PEM_LABELS[label] for label, _ in blocks}
    if len(encrypted) != 1:
        _fail("key file mixes encrypted and unencrypted blocks")
    password = None if passphrase is None else _passphrase_bytes(passphrase)
    if encrypted == {True} and password is None:
        _fail("the key file is encrypted: a passphrase is needed", ErrorCode.KEY_PASSPHRASE)
    if encrypted == {False} and password is not None:
        _fail(
            "the key file is not encrypted, but a passphrase was given",
            ErrorCode.KEY_PASSPHRASE,
        )
    found: dict[str, Any] = {}
    for _, block in blocks:
        kind, key = _load_block(block, password)
        if kind in found:
            _fail("key file holds two keys of the same type")
        found[kind] = key
    if "ed25519" not in found:
        _fail("key file holds no Ed25519 key", ErrorCode.KEY_ALGORITHM)
    if "mlkem768" in found and "x25519" not in found:
        _fail("key file holds an ML-KEM-768 key without its X25519 key")
    return found


def _passphrase_bytes(passphrase: bytes | str) -> bytes:
    raw = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if type(raw) is not bytes or not raw:
        _fail("a passphrase is a non-empty str or bytes", ErrorCode.KEY_PASSPHRASE)
    return raw


def _pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    blocks: list[tuple[bytes, bytes]] = []
    pos = 0
    for m in _PEM_RE.finditer(data):
        if data[pos : m.start()].strip() or m.group(1) not in _PEM_LABELS:
            _fail("key file is not a sequence of PEM PKCS#8 private key blocks")
        blocks.append((m.group(1), m.group(0)))
        pos = m.end()
    if data[pos:].strip() or not blocks:
        _fail("key file is not a sequence of PEM PKCS#8 private key blocks")
    return blocks


def _load_block(block: bytes, password: bytes | None) -> tuple[str, object]:
    try:
        key = serialization.load_pem_private_key(block, password)
    except UnsupportedAlgorithm:
        _fail("key file holds an unsupported key type", ErrorCode.KEY_ALGORITHM)
    except (ValueError, TypeError):
        if password is not None:
            _fail(
                "cannot decrypt the key file: wrong passphrase or damaged file",
                ErrorCode.KEY_PASSPHRASE,
            )
        _fail("key file block is not a valid PKCS#8 private key")
    for kind, cls in _BLOCK_KINDS:
        if isinstance(key, cls):
            return kind, key
    _fail("key file holds an unsupported key type", ErrorCode.KEY_ALGORITHM)


# ---------------------------------------------------------------------------------------
# encryption keys (HPKE, for sealing)


def _parse_suite(suite: object) -> EncryptionSuite:
    if isinstance(suite, str) and suite in {s.value for s in EncryptionSuite}:
        return EncryptionSuite(suite)
    _fail("unsupported encryption suite", ErrorCode.KEY_ALGORITHM)


_HPKE_KEMS: Final = {
    EncryptionSuite.X25519: hpke.KEM.X25519,
    EncryptionSuite.MLKEM768_X25519: hpke.KEM.MLKEM768_X25519,
}


@cache
def _hpke_suite(suite: EncryptionSuite) -> hpke.Suite:
    try:
        return hpke.Suite(_HPKE_KEMS[suite], hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    except UnsupportedAlgorithm:  # pragma: no cover - depends on the OpenSSL build
        _fail(f"this build of cryptography lacks HPKE suite {suite.value}", ErrorCode.KEY_ALGORITHM)


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
        object.__setattr__(self, "suite", suite := _parse_suite(self.suite))
        if type(self.x25519) is not bytes or len(self.x25519) != _X_PUBLIC_SIZE:
            _fail("an X25519 public key is 32 bytes")
        if suite is EncryptionSuite.X25519:
            if self.mlkem768 is not None:
                _fail("an x25519 encryption key has no ML-KEM-768 component")
        elif type(self.mlkem768) is not bytes or len(self.mlkem768) != _MLKEM_PUBLIC_SIZE:
            _fail("an ML-KEM-768 public key is 1184 bytes")
        try:
            _hpke_public(self.x25519, self.mlkem768)
        except (ValueError, UnsupportedAlgorithm):
            _fail("encryption public key bytes are not a valid key")
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
            _fail("an encryption key record is a map")
        suite = _parse_suite(record.get("suite"))
        want = {"suite", "x25519"} | ({"mlkem768"} if suite != EncryptionSuite.X25519 else set())
        if set(record) != want:
            _fail("encryption key record fields do not match its suite")
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
        return cls.from_seed(secrets.token_bytes(_SEED_SIZE), suite)

    @classmethod
    def from_seed(
        cls, seed: bytes, suite: EncryptionSuite | str = EncryptionSuite.X25519
    ) -> DecryptionKey:
        """The key derived from a secret 32-byte seed (``spec/keys.md`` §3).

        Component seed = ``HKDF-SHA256(ikm=seed, info="swapproto/v1/key-seed/<suite>/<c>")``,
        32 bytes for ``x25519``, 64 bytes (``d || z``) for ``mlkem768``.
        """
        suite = _parse_suite(suite)
        _check_seed(seed)
        x = x25519.X25519PrivateKey.from_private_bytes(_derive_seed(seed, suite, "x25519"))
        ml = None
        if suite is EncryptionSuite.MLKEM768_X25519:
            ml_seed = _derive_seed(seed, suite, "mlkem768", _MLKEM_SEED_SIZE)
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
        enc = _pem_encryption(passphrase)
        return self._x.private_bytes(*args, enc) + (
            b"" if self._ml is None else self._ml.private_bytes(*args, enc)
        )

    def __repr__(self) -> str:
        return f"DecryptionKey(suite={self.suite.value!r}, key_id={self._public.short_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("DecryptionKey cannot be pickled; use to_pem()")


@dataclass(frozen=True, slots=True, eq=False)
class KeyBundle:
    """The keys of one private key file: a signing key and, optionally, a decryption key."""

    signing: SigningKey
    decryption: DecryptionKey | None = None

    def to_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """The private key file content (``spec/keys.md`` §4 block order)."""
        tail = b"" if self.decryption is None else self.decryption.to_pem(passphrase)
        return self.signing.to_pem(passphrase) + tail

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | str | None = None) -> KeyBundle:
        """Parse private key file content (errors as :func:`load_signing_key`)."""
        found = _parse_key_file(data, passphrase)
        signing = SigningKey(found["ed25519"], found.get("ml-dsa-65"))
        decryption = None
        if "x25519" in found:
            decryption = DecryptionKey(found["x25519"], found.get("mlkem768"))
        return cls(signing, decryption)


@dataclass(frozen=True, slots=True)
class PublicKeyBundle:
    """The content of a public key file: name, signing key, optional encryption key."""

    name: str
    signing: PublicKey
    encryption: EncryptionPublicKey | None = None


# ---------------------------------------------------------------------------------------
# public key documents (JSON)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class _SigningSection(_Strict):
    alg: str
    ed25519: str = Field(pattern=r"^[0-9a-f]{64}$")
    ml_dsa_65: str | None = Field(default=None, alias="ml-dsa-65", pattern=r"^(?:[0-9a-f]{2})+$")


class _EncryptionSection(_Strict):
    suite: str
    x25519: str = Field(pattern=r"^[0-9a-f]{64}$")
    mlkem768: str | None = Field(default=None, pattern=r"^(?:[0-9a-f]{2})+$")


class _PublicKeyFile(_Strict):
    format: Literal["swapproto-public-key/1"]
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    key_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    signing: _SigningSection
    encryption: _EncryptionSection | None = None


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        _fail("a key name is 1-64 of A-Z a-z 0-9 . _ - and starts with a letter or digit")


def _hex_record(record: dict[str, object]) -> dict[str, object]:
    return {k: v.hex() if isinstance(v, bytes) else v for k, v in record.items()}


def public_key_document(
    name: str, key: PublicKey, encryption: EncryptionPublicKey | None = None
) -> str:
    """The JSON text of the public key file ``NAME.pub`` (sorted keys, 2-space indent).

    ``key_id`` is the signing key's id whether or not an encryption key is present.
    """
    _check_name(name)
    doc: dict[str, object] = {
        "format": PUBLIC_KEY_FORMAT,
        "name": name,
        "key_id": key.key_id.hex(),
        "signing": _hex_record(key.record()),
    }
    if encryption is not None:
        doc["encryption"] = _hex_record(encryption.record())
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        _fail("duplicate member in public key file")
    return dict(pairs)


def parse_public_key_document(text: str | bytes) -> tuple[str, PublicKey]:
    """Parse a public key file: ``(name, key)``. The stated key id is recomputed.

    A stated key id that differs raises ``KeyFileError`` with code ``VERIFY_KEY_ID``.
    An ``encryption`` section, if present, is checked as in
    :func:`parse_public_key_bundle` and left out of the result.
    """
    bundle = parse_public_key_bundle(text)
    return bundle.name, bundle.signing


def parse_public_key_bundle(text: str | bytes) -> PublicKeyBundle:
    """Parse a public key file with its optional encryption key (``spec/keys.md`` §5)."""
    try:
        doc = _PublicKeyFile.model_validate(json.loads(text, object_pairs_hook=_no_duplicates))
    except (ValueError, ValidationError, RecursionError) as exc:  # JSON, UTF-8 and schema errors
        _fail(f"public key file is malformed ({type(exc).__name__})")
    s = doc.signing
    if "ml_dsa_65" in s.model_fields_set and s.ml_dsa_65 is None:
        _fail("a signing member is absent, never null")
    ml = None if s.ml_dsa_65 is None else bytes.fromhex(s.ml_dsa_65)
    key = PublicKey(_parse_alg(s.alg), bytes.fromhex(s.ed25519), ml)
    if key.key_id.hex() != doc.key_id:
        _fail("the key id in the public key file does not match its key", ErrorCode.VERIFY_KEY_ID)
    encryption = None
    if "encryption" in doc.model_fields_set:
        encryption = _encryption_key(doc.encryption)
    return PublicKeyBundle(doc.name, key, encryption)


def _encryption_key(section: _EncryptionSection | None) -> EncryptionPublicKey:
    if section is None or ("mlkem768" in section.model_fields_set and section.mlkem768 is None):
        _fail("an encryption member is absent, never null")
    ml = None if section.mlkem768 is None else bytes.fromhex(section.mlkem768)
    return EncryptionPublicKey(_parse_suite(section.suite), bytes.fromhex(section.x25519), ml)


# ---------------------------------------------------------------------------------------
# key files (the only I/O in this module)


def _write_atomic(path: Path, data: bytes, mode: int, overwrite: bool) -> None:
    """Write via a 0600/O_EXCL temporary in the same directory, fsync, then link/rename."""
    try:
        _write_atomic_unchecked(path, data, mode, overwrite)
    except OSError as exc:
        raise KeyFileError(
            f"cannot write {path}: {exc.strerror}", code=ErrorCode.INPUT_IO
        ) from None


def _write_atomic_unchecked(path: Path, data: bytes, mode: int, overwrite: bool) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails atomically if path exists
            except FileExistsError:
                _fail(f"{path} exists; refusing to overwrite it", ErrorCode.KEY_EXISTS)
    finally:
        tmp.unlink(missing_ok=True)
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _read_limited(path: Path, private: bool) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise KeyFileError(f"cannot open {path}: {exc.strerror}", code=ErrorCode.INPUT_IO) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            _fail(f"{path} is not a regular file")
        if private and os.name == "posix" and st.st_mode & 0o077:
            _fail(
                f"private key file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {path}",
                ErrorCode.KEY_PERMISSIONS,
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}", code=ErrorCode.INPUT_IO) from None
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_FILE:
        _fail(f"{path} is larger than a key file can be")
    return data


def write_signing_key(
    path: str | os.PathLike[str],
    key: SigningKey,
    passphrase: bytes | str | None = None,
    *,
    overwrite: bool = False,
    decryption_key: DecryptionKey | None = None,
) -> Path:
    """Write a private key file atomically with mode 0600; ``KEY_EXISTS`` if present.

    With ``decryption_key`` the file also holds its blocks (``spec/keys.md`` §4).
    """
    target = Path(path)
    _write_atomic(target, KeyBundle(key, decryption_key).to_pem(passphrase), 0o600, overwrite)
    return target


def load_signing_key(
    path: str | os.PathLike[str], passphrase: bytes | str | None = None
) -> SigningKey:
    """Load a private key file.

    Raises ``KeyFileError``: ``KEY_PERMISSIONS`` if group/other can access it,
    ``KEY_PASSPHRASE`` for a wrong, missing or superfluous passphrase, ``KEY_FORMAT``
    for anything that is not PEM PKCS#8 blocks, ``KEY_ALGORITHM`` for other key types.
    """
    return SigningKey.from_pem(_read_limited(Path(path), private=True), passphrase)


def load_key_bundle(
    path: str | os.PathLike[str], passphrase: bytes | str | None = None
) -> KeyBundle:
    """Load a private key file with its decryption key, if any (errors as
    :func:`load_signing_key`)."""
    return KeyBundle.from_pem(_read_limited(Path(path), private=True), passphrase)


def write_public_key(
    path: str | os.PathLike[str],
    name: str,
    key: PublicKey,
    *,
    overwrite: bool = False,
    encryption: EncryptionPublicKey | None = None,
) -> Path:
    """Write a public key file (JSON, mode 0644) atomically; ``KEY_EXISTS`` if present."""
    target = Path(path)
    text = public_key_document(name, key, encryption)
    _write_atomic(target, text.encode("utf-8"), 0o644, overwrite)
    return target


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Load a public key file, recomputing and checking its key id."""
    return load_public_key_bundle(path).signing


def load_public_key_bundle(path: str | os.PathLike[str]) -> PublicKeyBundle:
    """Load a public key file with its encryption key, if any."""
    return parse_public_key_bundle(_read_limited(Path(path), private=False))


def write_key_pair(
    directory: str | os.PathLike[str],
    name: str,
    signing_key: SigningKey,
    passphrase: bytes | str | None = None,
    *,
    overwrite: bool = False,
    decryption_key: DecryptionKey | None = None,
) -> tuple[Path, Path]:
    """Write ``NAME.key`` (0600) and ``NAME.pub`` into ``directory``; return both paths.

    With ``decryption_key``, ``NAME.key`` also holds it and ``NAME.pub`` gets its
    public key as the ``encryption`` member.
    """
    _check_name(name)
    key_path, pub_path = Path(directory) / f"{name}.key", Path(directory) / f"{name}.pub"
    if not overwrite and (key_path.exists() or pub_path.exists()):
        _fail(f"{key_path} or {pub_path} exists; refusing to overwrite", ErrorCode.KEY_EXISTS)
    encryption = None if decryption_key is None else decryption_key.public_key
    write_signing_key(
        key_path, signing_key, passphrase, overwrite=overwrite, decryption_key=decryption_key
    )
    write_public_key(
        pub_path, name, signing_key.public_key, overwrite=overwrite, encryption=encryption
    )
    return key_path, pub_path


# ---------------------------------------------------------------------------------------
# trust policies


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """The keys trusted for one role (key id -> key) and how many must sign."""

    keys: Mapping[bytes, PublicKey]
    threshold: int

    def __post_init__(self) -> None:
        keys = dict(self.keys)
        seen: set[bytes] = set()
        for key_id, key in keys.items():
            if not isinstance(key, PublicKey) or key_id != key.key_id:
                raise PolicyError("a role policy maps each key id to the key it names")
            parts = {key.ed25519} | ({key.ml_dsa_65} if key.ml_dsa_65 is not None else set())
            if seen & parts:
                raise PolicyError("two keys of one role share a component key")
            seen |= parts
        if type(self.threshold) is not int or not 1 <= self.threshold <= len(keys):
            raise PolicyError(f"threshold must be between 1 and the number of keys ({len(keys)})")
        object.__setattr__(self, "keys", MappingProxyType(dict(sorted(keys.items()))))

    @classmethod
    def of(cls, keys: Iterable[PublicKey], threshold: int) -> RolePolicy:
        """A policy from a list of keys (each indexed by its key id)."""
        return cls({k.key_id: k for k in keys}, threshold)


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """The role policies of one exchange (e.g. party A, party B, mediator, commission)."""

    roles: Mapping[str, RolePolicy]

    def __post_init__(self) -> None:
        roles = dict(self.roles)
        for name, policy in roles.items():
            if not isinstance(name, str) or not name or not isinstance(policy, RolePolicy):
                raise PolicyError("a trust policy maps role names to role policies")
        object.__setattr__(self, "roles", MappingProxyType(roles))

    def role(self, name: str) -> RolePolicy:
        """The policy of role ``name``; ``PolicyError`` if the role is unknown."""
        try:
            return self.roles[name]
        except KeyError:
            raise PolicyError(f"unknown role {name!r}") from None
