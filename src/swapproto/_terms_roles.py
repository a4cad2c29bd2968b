"""The roles of the agreed terms and the keys they pin (``spec/terms.md`` §3 and §4).

Private helper of :mod:`swapproto.terms` (which re-exports the public names): a
:class:`RoleTerms` names a party, mediator or commission, its threshold and its
:class:`PinnedKey` records, and reads itself strictly from the canonical value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NoReturn

from swapproto._recordspec import FieldError, check_text
from swapproto._rules import SIDES, check_ascending, expect_array, expect_map, expect_type
from swapproto.errors import ErrorCode, KeyFileError, PolicyError
from swapproto.keys import EncryptionPublicKey, PublicKey, RolePolicy

__all__ = [
    "MAX_TEXT",
    "EncryptionKey",
    "PinnedKey",
    "RoleTerms",
    "check_name",
    "key_components",
    "parse_role",
    "role_path",
]

_MAX_KEYS: Final = 64
MAX_TEXT: Final = 200
"""The longest name or label, in code points."""


def _invalid(message: str) -> NoReturn:
    raise PolicyError(message, code=ErrorCode.POLICY_INVALID)


EncryptionKey = EncryptionPublicKey
"""An encryption public key pinned by the terms (alias kept for readability)."""


def _encryption_key_from_record(record: object, where: str) -> EncryptionPublicKey:
    try:
        return EncryptionPublicKey.from_record(record)
    except KeyFileError as exc:
        raise PolicyError(f"{where}: {exc.args[0]}", code=ErrorCode.POLICY_INVALID) from exc


@dataclass(frozen=True, slots=True)
class PinnedKey:
    """One key of a role: its signing key and, for sealing, its encryption key.

    ``source`` (the key file named in the TOML, if any) is for messages only: it is not
    part of the canonical value and not compared.
    """

    signing: PublicKey
    encryption: EncryptionKey | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # A key of the other kind would put a signing key where terms seal to one.
        if not isinstance(self.signing, PublicKey):
            raise TypeError(f"signing must be a PublicKey, not {type(self.signing).__name__}")
        if self.encryption is not None and not isinstance(self.encryption, EncryptionPublicKey):
            kind = type(self.encryption).__name__
            raise TypeError(f"encryption must be an EncryptionPublicKey or None, not {kind}")

    @property
    def key_id(self) -> bytes:
        """The signing key's id."""
        return self.signing.key_id

    def label(self) -> str:
        """How messages name this key."""
        return repr(self.source) if self.source else f"key {self.signing.short_id}"

    def to_value(self) -> dict[str, object]:
        """``{"signing": record[, "encryption": record]}``."""
        value: dict[str, object] = {"signing": self.signing.record()}
        if self.encryption is not None:
            value["encryption"] = dict(self.encryption.record())
        return value


def role_path(role: str) -> str:
    """Where a role is written in the terms (``parties.a``, ``mediators['un']``)."""
    if role in SIDES:
        return f"parties.{role}"
    kind, _, name = role.partition(":")
    return f"{kind}s[{name!r}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleTerms:
    """A role (``a``, ``b``, ``mediator:<name>``, ``commission:<name>``): name, keys, t."""

    role: str
    name: str
    threshold: int
    keys: tuple[PinnedKey, ...]

    def __post_init__(self) -> None:
        where = role_path(self.role)
        check_name(self.name, f"{where}.name")
        n = len(self.keys)
        if type(self.keys) is not tuple or not all(isinstance(k, PinnedKey) for k in self.keys):
            _invalid(f"{where}.keys: must be a tuple of pinned keys")
        if not 1 <= n <= _MAX_KEYS:
            _invalid(f"{where}.keys: a role needs 1 to {_MAX_KEYS} keys, not {n}")
        if type(self.threshold) is not int or not 1 <= self.threshold <= n:
            _invalid(f"{where}.threshold: must be an integer from 1 to {n} (the number of keys)")
        object.__setattr__(self, "keys", tuple(sorted(self.keys, key=lambda k: k.key_id)))

    def policy(self) -> RolePolicy:
        """The trust policy of this role."""
        return RolePolicy.of((k.signing for k in self.keys), self.threshold)

    def to_value(self) -> dict[str, object]:
        """``{"keys": [...], "name": ..., "threshold": ...}``; keys sorted by key id."""
        keys = [k.to_value() for k in self.keys]
        return {"keys": keys, "name": self.name, "threshold": self.threshold}


def check_name(name: object, where: str) -> None:
    """``PolicyError`` unless ``name`` is text of at most :data:`MAX_TEXT` code points."""
    try:
        check_text(name, MAX_TEXT)
    except FieldError as exc:
        _invalid(f"{where}: {exc.reason}")


def key_components(key: PinnedKey) -> list[tuple[str, bytes]]:
    """The parts of a pinned key no other key may share: (what, bytes) pairs."""
    parts = [("signing", key.signing.ed25519)]
    if key.signing.ml_dsa_65 is not None:
        parts.append(("signing", key.signing.ml_dsa_65))
    if key.encryption is not None:
        parts.append(("encryption", key.encryption.key_id))
    return parts


# ---------------------------------------------------------------------------------------
# the canonical value (strict reading)


def _parse_key(value: object, where: str) -> PinnedKey:
    doc = expect_map(value, where, ("signing",), ("encryption",))
    try:
        signing = PublicKey.from_record(doc["signing"])
    except KeyFileError as exc:
        raise PolicyError(f"{where}.signing: {exc.args[0]}", code=ErrorCode.POLICY_INVALID) from exc
    encryption = None
    if "encryption" in doc:
        encryption = _encryption_key_from_record(doc["encryption"], f"{where}.encryption")
    return PinnedKey(signing, encryption)


def parse_role(value: object, kind: str, where: str) -> RoleTerms:
    """A role of ``kind`` (``a``, ``b``, ``mediator``, ``commission``) from its value."""
    doc = expect_map(value, where, ("keys", "name", "threshold"))
    raw = expect_array(doc["keys"], f"{where}.keys", _MAX_KEYS)
    keys = [_parse_key(k, f"{where}.keys[{i}]") for i, k in enumerate(raw)]
    check_ascending([k.key_id for k in keys], f"{where}.keys", "key id")
    name = expect_type(doc["name"], str, f"{where}.name")
    role = kind if kind in SIDES else f"{kind}:{name}"
    threshold = expect_type(doc["threshold"], int, f"{where}.threshold")
    return RoleTerms(role=role, name=name, threshold=threshold, keys=tuple(keys))
