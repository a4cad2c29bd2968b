"""Private key material below the key classes: seeds, PEM PKCS#8 blocks, the key error.

Private helper of :mod:`swapproto._signing_keys`, :mod:`swapproto.encryption_keys` and
:mod:`swapproto.key_files`; it knows ``cryptography`` key types, never swapproto's key
classes, so all three can use it without importing each other. It holds the seed
derivation of ``spec/keys.md`` §3 and the PEM PKCS#8 blocks of a private key file
(§4: passphrase encryption, block parsing and the checks on the set of blocks). Every
failure is a :class:`~swapproto.errors.KeyFileError` with the codes of §7.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final, NoReturn

from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from swapproto.errors import ErrorCode, KeyFileError
from swapproto.hashing import KdfLabel

__all__ = [
    "SEED_SIZE",
    "check_seed",
    "derive_seed",
    "fail",
    "parse_key_file",
    "pem_encryption",
]

SEED_SIZE: Final = 32
"""The size of a key seed (``spec/keys.md`` §3)."""
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


def fail(message: str, code: ErrorCode = ErrorCode.KEY_FORMAT) -> NoReturn:
    """Raise :class:`~swapproto.errors.KeyFileError` (``KEY_FORMAT`` unless told)."""
    raise KeyFileError(message, code=code)


# ---------------------------------------------------------------------------------------
# seeds (spec/keys.md §3)


def derive_seed(seed: bytes, alg: StrEnum, component: str, length: int = SEED_SIZE) -> bytes:
    """``HKDF-SHA256(ikm=seed, info="swapproto/v1/key-seed/<alg>/<component>")``."""
    info = KdfLabel.KEY_SEED.info(alg.value, component)
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(seed)


def check_seed(seed: bytes) -> None:
    """Refuse a seed that is not 32 bytes."""
    if type(seed) is not bytes or len(seed) != SEED_SIZE:
        fail("a key seed is 32 bytes")


# ---------------------------------------------------------------------------------------
# PEM PKCS#8 blocks (spec/keys.md §4)


def pem_encryption(passphrase: bytes | str | None) -> serialization.KeySerializationEncryption:
    """The PKCS#8 encryption for ``passphrase`` (none without one)."""
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(_passphrase_bytes(passphrase))


def parse_key_file(data: bytes, passphrase: bytes | str | None) -> dict[str, Any]:
    """Every key of a private key file by kind, checked as ``spec/keys.md`` §4 says."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)  # a mutable buffer, held so that it can be wiped: read a copy
    if not isinstance(data, bytes):
        raise TypeError(
            f"key file content is bytes (from a file opened 'rb'), not {type(data).__name__};"
            " load_signing_key(path) reads the file"
        )
    blocks = _pem_blocks(data)
    encrypted = {_PEM_LABELS[label] for label, _ in blocks}
    if len(encrypted) != 1:
        fail("key file mixes encrypted and unencrypted blocks")
    password = None if passphrase is None else _passphrase_bytes(passphrase)
    if encrypted == {True} and password is None:
        fail("the key file is encrypted: a passphrase is needed", ErrorCode.KEY_PASSPHRASE)
    if encrypted == {False} and password is not None:
        fail(
            "the key file is not encrypted, but a passphrase was given",
            ErrorCode.KEY_PASSPHRASE,
        )
    found: dict[str, Any] = {}
    for _, block in blocks:
        kind, key = _load_block(block, password)
        if kind in found:
            fail("key file holds two keys of the same type")
        found[kind] = key
    if "ed25519" not in found:
        fail("key file holds no Ed25519 key", ErrorCode.KEY_ALGORITHM)
    if "mlkem768" in found and "x25519" not in found:
        fail("key file holds an ML-KEM-768 key without its X25519 key")
    return found


def _passphrase_bytes(passphrase: bytes | str) -> bytes:
    try:
        raw = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    except UnicodeEncodeError:  # its .object would hold the passphrase: never raised
        raw = None
    if raw is None:
        fail(
            "the passphrase holds a lone surrogate: it has no UTF-8 form", ErrorCode.KEY_PASSPHRASE
        )
    if type(raw) is not bytes or not raw:
        fail("a passphrase is a non-empty str or bytes", ErrorCode.KEY_PASSPHRASE)
    return raw


def _pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    blocks: list[tuple[bytes, bytes]] = []
    pos = 0
    for m in _PEM_RE.finditer(data):
        if data[pos : m.start()].strip() or m.group(1) not in _PEM_LABELS:
            fail("key file is not a sequence of PEM PKCS#8 private key blocks")
        blocks.append((m.group(1), m.group(0)))
        pos = m.end()
    if data[pos:].strip() or not blocks:
        fail("key file is not a sequence of PEM PKCS#8 private key blocks")
    return blocks


def _load_block(block: bytes, password: bytes | None) -> tuple[str, object]:
    try:
        key = serialization.load_pem_private_key(block, password)
    except (UnsupportedAlgorithm, InternalError):
        # OpenSSL knows some key types (X448) that it cannot set up from PKCS#8 here
        fail("key file holds an unsupported key type", ErrorCode.KEY_ALGORITHM)
    except (ValueError, TypeError):
        if password is not None:
            fail(
                "cannot decrypt the key file: wrong passphrase or damaged file",
                ErrorCode.KEY_PASSPHRASE,
            )
        fail("key file block is not a valid PKCS#8 private key")
    for kind, cls in _BLOCK_KINDS:
        if isinstance(key, cls):
            return kind, key
    fail("key file holds an unsupported key type", ErrorCode.KEY_ALGORITHM)
