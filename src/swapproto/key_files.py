"""Key files: ``NAME.key`` (private keys, PEM) and ``NAME.pub`` (public keys, JSON).

``spec/keys.md`` §4: a private key file is a sequence of PEM PKCS#8 blocks (the signing
key's, then the decryption key's, if any), all encrypted with one passphrase or none,
written atomically with mode 0600 and refused on load if group or others can access it.
§5: a public key file is a JSON document (``format``, ``name``, ``key_id``, ``signing``
and optional ``encryption``) whose stated key id is recomputed on load. The keys of one
file come together as :class:`KeyBundle` and :class:`PublicKeyBundle`. Failures are
:class:`~swapproto.errors.KeyFileError` with the codes of §7. The ``write_*``/``load_*``
functions are the only I/O of the key modules; ``public_key_document`` and the
``parse_*`` functions are pure. The names are also exported by :mod:`swapproto.keys`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swapproto._key_material import fail, parse_key_file
from swapproto._signing_keys import PublicKey, SigningKey, parse_alg
from swapproto.encryption_keys import DecryptionKey, EncryptionPublicKey, parse_suite
from swapproto.errors import ErrorCode, KeyFileError

__all__ = [
    "PUBLIC_KEY_FORMAT",
    "KeyBundle",
    "PublicKeyBundle",
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

PUBLIC_KEY_FORMAT: Final = "swapproto-public-key/1"
"""The ``format`` member of a public key file."""
_MAX_KEY_FILE: Final = 64 * 1024
_MAX_SHOWN_PATH: Final = 4096
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


# ---------------------------------------------------------------------------------------
# the keys of one file


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
        found = parse_key_file(data, passphrase)
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
        fail("a key name is 1-64 of A-Z a-z 0-9 . _ - and starts with a letter or digit")


def _hex_record(record: dict[str, object]) -> dict[str, object]:
    return {k: v.hex() if isinstance(v, bytes) else v for k, v in record.items()}


def _require(value: object, kind: type | tuple[type, ...], what: str) -> None:
    # A key of another kind would be written, and the file refused when loaded.
    if not isinstance(value, kind):
        raise TypeError(f"{what}, not {type(value).__name__}")


def public_key_document(
    name: str, key: PublicKey, encryption: EncryptionPublicKey | None = None
) -> str:
    """The JSON text of the public key file ``NAME.pub`` (sorted keys, 2-space indent).

    ``key_id`` is the signing key's id whether or not an encryption key is present.
    """
    _check_name(name)
    _require(key, PublicKey, "key must be a PublicKey")
    _require(
        encryption, (EncryptionPublicKey, type(None)), "encryption must be an EncryptionPublicKey"
    )
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
        fail("duplicate member in public key file")
    for key, value in pairs:
        # a \ud800 escape decodes to a lone surrogate: not Unicode text, so not JSON text
        if _has_surrogate(key) or (isinstance(value, str) and _has_surrogate(value)):
            fail("public key file holds an escaped lone surrogate")
    return dict(pairs)


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and any("\ud800" <= ch <= "\udfff" for ch in text)


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
    if isinstance(text, bytes):
        try:  # json.loads would guess UTF-16 or UTF-32 from bytes; the format is UTF-8
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            fail("public key file is not UTF-8 text")
    if text[:1] == "\ufeff":
        fail("public key file starts with a byte order mark")
    try:
        doc = _PublicKeyFile.model_validate(json.loads(text, object_pairs_hook=_no_duplicates))
    except (ValueError, ValidationError, RecursionError) as exc:  # JSON, UTF-8 and schema errors
        fail(f"public key file is malformed ({type(exc).__name__})")
    s = doc.signing
    if "ml_dsa_65" in s.model_fields_set and s.ml_dsa_65 is None:
        fail("a signing member is absent, never null")
    ml = None if s.ml_dsa_65 is None else bytes.fromhex(s.ml_dsa_65)
    key = PublicKey(parse_alg(s.alg), bytes.fromhex(s.ed25519), ml)
    if key.key_id.hex() != doc.key_id:
        fail("the key id in the public key file does not match its key", ErrorCode.VERIFY_KEY_ID)
    encryption = None
    if "encryption" in doc.model_fields_set:
        encryption = _encryption_key(doc.encryption)
    return PublicKeyBundle(doc.name, key, encryption)


def _encryption_key(section: _EncryptionSection | None) -> EncryptionPublicKey:
    if section is None or ("mlkem768" in section.model_fields_set and section.mlkem768 is None):
        fail("an encryption member is absent, never null")
    ml = None if section.mlkem768 is None else bytes.fromhex(section.mlkem768)
    return EncryptionPublicKey(parse_suite(section.suite), bytes.fromhex(section.x25519), ml)


# ---------------------------------------------------------------------------------------
# reading and writing key files (the only I/O of the key modules)


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
                fail(f"{path} exists; refusing to overwrite it", ErrorCode.KEY_EXISTS)
    finally:
        tmp.unlink(missing_ok=True)
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _is_public_key_file(data: bytes) -> bool:
    """Whether ``data`` is a swapproto public key file (JSON with our ``format``)."""
    if not data.lstrip().startswith(b"{"):
        return False
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == PUBLIC_KEY_FORMAT


def _is_private_key_file(data: bytes) -> bool:
    """Whether ``data`` starts as a PEM private key block (what ``NAME.key`` holds)."""
    head = data.lstrip()[:64]
    return head.startswith(b"-----BEGIN ") and b"PRIVATE KEY-----" in head


def _check_kind(path: Path, data: bytes, private: bool) -> None:
    """Name the mix-up of a public key file given for a private one, or the reverse
    (``spec/keys.md`` §7, ``key.bad_format``); the message shows no key material."""
    if private and _is_public_key_file(data):
        fail(f"{path} is a public key file; give the private key (NAME.key)")
    if not private and _is_private_key_file(data):
        fail(f"{path} is a private key file; give the public key (NAME.pub)")


def _shown_path(path: Path) -> str:
    """``path`` for an error message, unless it looks like what a path never holds: a
    key's PEM text given in the path's place would otherwise be echoed, secret and all."""
    text = str(path)
    if "-----BEGIN" in text or "PRIVATE KEY" in text or len(text) > _MAX_SHOWN_PATH:
        return "the path given (not shown: it is no path; key file contents?)"
    return text if text.isprintable() else repr(text)


def _read_limited(path: Path, private: bool) -> bytes:
    # non-blocking, so a FIFO in the key's place is refused by the fstat below, not waited on
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    problem = None
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        problem = exc.strerror or "cannot be opened"
    except ValueError:  # a NUL in the path
        problem = "not a valid path"
    if problem is not None:
        # Raised here, outside the except: the OSError as context would still carry the
        # path as its filename, key text and all, if a key was given in its place.
        message = f"cannot open {_shown_path(path)}: {problem}"
        raise KeyFileError(message, code=ErrorCode.INPUT_IO)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            fail(f"{path} is not a regular file")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}", code=ErrorCode.INPUT_IO) from None
    finally:
        os.close(fd)
    # a mixed-up file is named first: "chmod 600" is the wrong advice for a public key
    _check_kind(path, data, private)
    if private and os.name == "posix" and st.st_mode & 0o077:
        fail(
            f"private key file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {path}",
            ErrorCode.KEY_PERMISSIONS,
        )
    if len(data) > _MAX_KEY_FILE:
        fail(f"{path} is larger than a key file can be")
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
    _require(key, SigningKey, "key must be a SigningKey")
    _require(decryption_key, (DecryptionKey, type(None)), "decryption_key must be a DecryptionKey")
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
    _require(signing_key, SigningKey, "signing_key must be a SigningKey")
    _require(decryption_key, (DecryptionKey, type(None)), "decryption_key must be a DecryptionKey")
    key_path, pub_path = Path(directory) / f"{name}.key", Path(directory) / f"{name}.pub"
    if not overwrite and (key_path.exists() or pub_path.exists()):
        fail(f"{key_path} or {pub_path} exists; refusing to overwrite", ErrorCode.KEY_EXISTS)
    encryption = None if decryption_key is None else decryption_key.public_key
    write_signing_key(
        key_path, signing_key, passphrase, overwrite=overwrite, decryption_key=decryption_key
    )
    write_public_key(
        pub_path, name, signing_key.public_key, overwrite=overwrite, encryption=encryption
    )
    return key_path, pub_path
