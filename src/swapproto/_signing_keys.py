"""Signing keys: the algorithms, public key records and key ids, private signing keys.

Private home of the signing-key names that :mod:`swapproto.keys` exports
(``KeyAlgorithm``, ``PublicKey``, ``SigningKey``, ``ML_DSA_CONTEXT``); import them from
there. Two signature algorithms exist: ``ed25519`` and the hybrid ``ed25519+ml-dsa-65``,
whose signatures verify only when *both* components verify (``spec/keys.md`` §1.1). A
public key is named by its key id, the tagged hash of its canonical public key record
(§2.1, §2.3); a signing key is derived from a 32-byte seed (§3) and written as PEM
PKCS#8 blocks (§4). Pure: no I/O.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Final, NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from swapproto._edwards25519 import Y_MASK, P, decode_point, in_prime_order_subgroup
from swapproto._key_material import (
    SEED_SIZE,
    check_seed,
    derive_seed,
    fail,
    parse_key_file,
    pem_encryption,
)
from swapproto.encoding import DEFAULT_LIMITS, DecodeLimits, decode, encode
from swapproto.errors import ErrorCode, SignatureError
from swapproto.hashing import Tag, tagged_hash

__all__ = [
    "ML_DSA_CONTEXT",
    "KeyAlgorithm",
    "PublicKey",
    "SigningKey",
    "parse_alg",
]


class KeyAlgorithm(StrEnum):
    """The signature algorithms of a swapproto key."""

    ED25519 = "ed25519"
    ED25519_ML_DSA_65 = "ed25519+ml-dsa-65"


ML_DSA_CONTEXT: Final = b"swapproto/v1"
"""The FIPS 204 context string of every ML-DSA-65 signature swapproto makes."""
_ED_PUBLIC_SIZE: Final = 32
_ML_PUBLIC_SIZE: Final = 1952
_ED_Y8: Final = int.from_bytes(
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), "little"
)
# The y coordinates of the eight edwards25519 points of small order (orders 1, 2, 4, 8).
_ED_SMALL_ORDER_Y: Final = frozenset({1, P - 1, 0, _ED_Y8, P - _ED_Y8})


def parse_alg(alg: object) -> KeyAlgorithm:
    """The algorithm named ``alg``; ``KeyFileError`` (``KEY_ALGORITHM``) if unknown."""
    if isinstance(alg, str) and alg in {a.value for a in KeyAlgorithm}:
        return KeyAlgorithm(alg)
    fail("unsupported key algorithm", ErrorCode.KEY_ALGORITHM)


def _check_ed25519_point(raw: bytes) -> None:
    """Refuse non-canonical encodings (``y >= p``), the points of small order, ``y`` of
    no curve point, and points with a small-order component.

    A small-order key verifies signatures that nobody made (e.g. the identity accepts
    ``R = B, S = 1`` for every message); a non-canonical one is a second name for a key;
    a ``y`` with no ``x`` is no key at all. A key ``A + T`` with ``T`` of small order
    is one that verifiers of the two kinds (cofactored, cofactorless) can disagree on;
    keys made by key generation are ``[a]B``, in the prime-order subgroup.
    """
    y = int.from_bytes(raw, "little") & Y_MASK
    if y >= P or y in _ED_SMALL_ORDER_Y:
        fail("an Ed25519 public key must be a canonical point of large order")
    if decode_point(raw) is None:
        fail("an Ed25519 public key must be a point of the curve")
    if not in_prime_order_subgroup(raw):
        fail("an Ed25519 public key must have no small-order component")


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
        object.__setattr__(self, "alg", alg := parse_alg(self.alg))
        if type(self.ed25519) is not bytes or len(self.ed25519) != _ED_PUBLIC_SIZE:
            fail("an Ed25519 public key is 32 bytes")
        if alg is KeyAlgorithm.ED25519:
            if self.ml_dsa_65 is not None:
                fail("an ed25519 key has no ML-DSA-65 component")
        elif type(self.ml_dsa_65) is not bytes or len(self.ml_dsa_65) != _ML_PUBLIC_SIZE:
            fail("an ML-DSA-65 public key is 1952 bytes")
        _check_ed25519_point(self.ed25519)
        try:
            _ed_public(self.ed25519)
            if self.ml_dsa_65 is not None:
                _ml_public(self.ml_dsa_65)
        except (ValueError, UnsupportedAlgorithm):
            fail("public key bytes are not a valid key")
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
            fail("a public key record is a map")
        alg = parse_alg(record.get("alg"))
        want = {"alg", "ed25519"} | ({"ml-dsa-65"} if alg != KeyAlgorithm.ED25519 else set())
        if set(record) != want:
            fail("public key record fields do not match its algorithm")
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
        return cls.from_seed(secrets.token_bytes(SEED_SIZE), alg)

    @classmethod
    def from_seed(cls, seed: bytes, alg: KeyAlgorithm | str = KeyAlgorithm.ED25519) -> SigningKey:
        """The key derived from a secret 32-byte seed (``spec/keys.md`` §3).

        Component seed = ``HKDF-SHA256(ikm=seed, info="swapproto/v1/key-seed/<alg>/<c>")``.
        """
        alg = parse_alg(alg)
        check_seed(seed)
        ed = ed25519.Ed25519PrivateKey.from_private_bytes(derive_seed(seed, alg, "ed25519"))
        ml = None
        if alg is KeyAlgorithm.ED25519_ML_DSA_65:
            ml = mldsa.MLDSA65PrivateKey.from_seed_bytes(derive_seed(seed, alg, "ml-dsa-65"))
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
        enc = pem_encryption(passphrase)
        args = (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        return self._ed.private_bytes(*args) + (
            b"" if self._ml is None else self._ml.private_bytes(*args)
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | str | None = None) -> SigningKey:
        """Parse private key file content (errors as :func:`swapproto.keys.load_signing_key`).

        Decryption key blocks, if any, are checked and ignored.
        """
        found = parse_key_file(data, passphrase)
        return cls(found["ed25519"], found.get("ml-dsa-65"))

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg.value!r}, key_id={self._public.short_id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("SigningKey cannot be pickled; use to_pem()")
