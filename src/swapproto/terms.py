"""The agreed terms of an exchange, their canonical value and exchange id, and list rules.

People write terms as TOML (:func:`compile_terms`); the library turns them into a
:class:`Terms` value whose canonical SP-CMP bytes pin every key *record* (not key
files), the deadlines as seconds since the epoch and every list's rule. Both parties
sign those bytes; the exchange id is their tagged hash and binds every later message.
:func:`evaluate_list` checks one side's records against a list's rule and eligibility
(age bands computed from the date of birth at the reference date, never trusted as
claimed); :func:`verify_list` is its raising twin. Normative text: ``spec/terms.md``.
"""

from __future__ import annotations

import builtins
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swapproto._recordspec import FieldError, check_text, clean_text
from swapproto._rules import (
    AGE_BAND,
    SIDES,
    Finding,
    FindingCode,
    ListEvaluation,
    ListRule,
    ListTerms,
    age_band,
    age_on,
    category_vocabulary,
    check_ascending,
    evaluate,
    expect_array,
    expect_map,
    expect_type,
)
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.errors import EncodeError, ErrorCode, InputError, KeyFileError, PolicyError
from swapproto.hashing import Tag, fingerprint, tagged_hash
from swapproto.keys import (
    EncryptionPublicKey,
    PublicKey,
    RolePolicy,
    TrustPolicy,
    load_public_key_bundle,
)

__all__ = [
    "AGE_BAND",
    "TERMS_FORMAT",
    "TERMS_LIMITS",
    "EncryptionKey",
    "Finding",
    "FindingCode",
    "ListEvaluation",
    "ListRule",
    "ListTerms",
    "PinnedKey",
    "RoleTerms",
    "Terms",
    "age_band",
    "age_on",
    "category_vocabulary",
    "compile_terms",
    "evaluate_list",
    "terms_from_toml",
    "verify_list",
]

TERMS_FORMAT: Final = "swapproto-terms/1"
TERMS_LIMITS: Final = DecodeLimits(
    max_input=1024 * 1024, max_depth=8, max_str=4096, max_bin=4096, max_array=1024, max_map=64
)
"""Decoding limits for terms carried in messages."""
_MAX_KEYS: Final = 64
_MAX_ROLES: Final = 32
_MAX_LISTS: Final = 256
_MAX_TEXT: Final = 200
_MAX_TOML: Final = 1024 * 1024
_MAX_TIME: Final = 2**63 - 1
_MIN_DATE: Final = date(1900, 1, 1)
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
"""An RFC 3339 ``date-time`` (section 5.6), the only string form of a deadline."""


def _invalid(message: str) -> NoReturn:
    raise PolicyError(message, code=ErrorCode.POLICY_INVALID)


EncryptionKey = EncryptionPublicKey
"""An encryption public key pinned by the terms (alias kept for readability)."""


def _encryption_key_from_record(record: object, where: str) -> EncryptionPublicKey:
    try:
        return EncryptionPublicKey.from_record(record)
    except KeyFileError as exc:
        raise PolicyError(f"{where}: {exc.args[0]}", code=ErrorCode.POLICY_INVALID) from exc


# ---------------------------------------------------------------------------------------
# roles and their keys


@dataclass(frozen=True, slots=True)
class PinnedKey:
    """One key of a role: its signing key and, for sealing, its encryption key.

    ``source`` (the key file named in the TOML, if any) is for messages only: it is not
    part of the canonical value and not compared.
    """

    signing: PublicKey
    encryption: EncryptionKey | None = None
    source: str | None = field(default=None, compare=False)

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


def _role_path(role: str) -> str:
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
        where = _role_path(self.role)
        _check_name(self.name, f"{where}.name")
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


def _check_name(name: object, where: str) -> None:
    try:
        check_text(name, _MAX_TEXT)
    except FieldError as exc:
        _invalid(f"{where}: {exc.reason}")


def _components(key: PinnedKey) -> list[tuple[str, bytes]]:
    parts = [("signing", key.signing.ed25519)]
    if key.signing.ml_dsa_65 is not None:
        parts.append(("signing", key.signing.ml_dsa_65))
    if key.encryption is not None:
        parts.append(("encryption", key.encryption.key_id))
    return parts


# ---------------------------------------------------------------------------------------
# the terms


@dataclass(frozen=True, slots=True, kw_only=True)
class Terms:
    """The agreed terms of one exchange. Validated on construction (``PolicyError``).

    Lists, mediators and commissions are kept sorted by name, keys by key id, so equal
    terms have equal canonical bytes however they were written.
    """

    label: str
    reference_date: date
    commit_by: int
    reveal_by: int
    sealed: bool
    a: RoleTerms
    b: RoleTerms
    mediators: tuple[RoleTerms, ...] = ()
    commissions: tuple[RoleTerms, ...] = ()
    lists: tuple[ListTerms, ...] = ()
    _roles: Mapping[str, RoleTerms] = field(init=False, repr=False, compare=False)
    _bytes: bytes = field(init=False, repr=False, compare=False)
    _id: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_exchange()
        by_name = lambda item: item.name  # noqa: E731
        for attr in ("mediators", "commissions", "lists"):
            object.__setattr__(self, attr, tuple(sorted(getattr(self, attr), key=by_name)))
        roles = self._check_roles()
        self._check_lists()
        self._check_shared_keys(roles)
        self._check_sealing()
        object.__setattr__(self, "_roles", MappingProxyType(roles))
        object.__setattr__(self, "_bytes", encode(self.to_value()))
        if len(self._bytes) > TERMS_LIMITS.max_input:
            _invalid(
                f"terms: the canonical terms are {len(self._bytes)} bytes, more than "
                f"{TERMS_LIMITS.max_input} (TERMS_LIMITS); pin fewer or smaller keys"
            )
        object.__setattr__(self, "_id", tagged_hash(Tag.EXCHANGE_ID, self._bytes))

    def _check_exchange(self) -> None:
        _check_name(self.label, "exchange.label")
        if type(self.reference_date) is not date or self.reference_date < _MIN_DATE:
            _invalid("exchange.reference_date: must be a date, 1900-01-01 or later")
        for key in ("commit_by", "reveal_by"):
            value = getattr(self, key)
            if type(value) is not int or not 0 <= value <= _MAX_TIME:
                _invalid(f"exchange.{key}: must be seconds since the epoch (0 or more)")
        if self.reveal_by <= self.commit_by:
            _invalid("exchange.reveal_by: must be after exchange.commit_by")
        if type(self.sealed) is not bool:
            _invalid("exchange.sealed: must be true or false")

    def _check_roles(self) -> dict[str, RoleTerms]:
        if not isinstance(self.a, RoleTerms) or self.a.role != "a":
            _invalid("parties.a: must be the role terms of party a")
        if not isinstance(self.b, RoleTerms) or self.b.role != "b":
            _invalid("parties.b: must be the role terms of party b")
        if self.a.name == self.b.name:
            _invalid("parties.b.name: the two parties must have different names")
        roles = {"a": self.a, "b": self.b}
        for kind, group in (("mediator", self.mediators), ("commission", self.commissions)):
            if len(group) > _MAX_ROLES:
                _invalid(f"{kind}s: more than {_MAX_ROLES}")
            for role in group:
                if not isinstance(role, RoleTerms) or role.role != f"{kind}:{role.name}":
                    _invalid(f"{kind}s: role names must be '{kind}:<name>'")
                if role.role in roles:
                    _invalid(f"{kind}s[{role.name!r}]: name used twice")
                roles[role.role] = role
        return roles

    def _check_lists(self) -> None:
        if not 1 <= len(self.lists) <= _MAX_LISTS:
            _invalid(f"lists: need 1 to {_MAX_LISTS} lists")
        names = [lt.name for lt in self.lists if isinstance(lt, ListTerms)]
        if len(names) != len(self.lists):
            _invalid("lists: must hold list terms")
        for previous, name in pairwise(names):
            if previous == name:
                _invalid(f"lists[{name!r}]: list name used twice")
        commissions = {c.name for c in self.commissions}
        for lt in self.lists:
            if lt.signed_by is not None and lt.signed_by not in commissions:
                _invalid(f"lists[{lt.name!r}].signed_by: no commission named {lt.signed_by!r}")

    def _check_sealing(self) -> None:
        """Sealed terms: every role that receives a sealed list pins an encryption key."""
        if not self.sealed:
            return
        sides = {side for lt in self.lists for side in lt.submitters}
        receivers = [r for r in (self.a, self.b) if ({"a", "b"} - {r.role}) & sides]
        suites: dict[str, list[str]] = {}
        for role in (*receivers, *self.mediators):
            if all(k.encryption is None for k in role.keys):
                _invalid(
                    f"{_role_path(role.role)}.keys: the terms are sealed and this role "
                    "receives sealed lists, but none of its keys has an encryption key"
                )
            for k in role.keys:
                if k.encryption is not None:
                    suites.setdefault(k.encryption.suite.value, []).append(role.role)
        if len(suites) > 1:
            # One classical stanza would void the post-quantum protection of the others,
            # so a sealed payload has one suite for all its recipients (spec/sealing.md).
            held = "; ".join(
                f"{suite}: {', '.join(roles)}" for suite, roles in sorted(suites.items())
            )
            _invalid(
                "the terms are sealed, so every recipient's encryption key must use one "
                f"suite (make the keys again with the same --encryption); found {held}"
            )

    @staticmethod
    def _check_shared_keys(roles: Mapping[str, RoleTerms]) -> None:
        owner: dict[bytes, tuple[str, PinnedKey]] = {}
        for role, terms in roles.items():
            for key in terms.keys:
                for what, part in _components(key):
                    if part in owner:
                        other, other_key = owner[part]
                        first = f"{_role_path(other)}.keys ({other_key.label()})"
                        _invalid(
                            f"{_role_path(role)}.keys: {key.label()} shares its {what} key "
                            f"with {first}; every key belongs to one role, once"
                        )
                    owner[part] = (role, key)

    # ---------------------------------------------------------------- canonical form

    def to_value(self) -> dict[str, object]:
        """The canonical terms value (``spec/terms.md`` §4), a fresh plain dict."""
        return {
            "commissions": [c.to_value() for c in self.commissions],
            "exchange": {
                "commit_by": self.commit_by,
                "label": self.label,
                "reference_date": self.reference_date.isoformat(),
                "reveal_by": self.reveal_by,
                "sealed": self.sealed,
            },
            "format": TERMS_FORMAT,
            "lists": [lt.to_value() for lt in self.lists],
            "mediators": [m.to_value() for m in self.mediators],
            "parties": {"a": self.a.to_value(), "b": self.b.to_value()},
        }

    def to_bytes(self) -> bytes:
        """The canonical SP-CMP bytes both parties sign."""
        return self._bytes

    @property
    def exchange_id(self) -> bytes:
        """``tagged_hash(Tag.EXCHANGE_ID, to_bytes())``: 32 bytes."""
        return self._id

    @property
    def fingerprint(self) -> str:
        """The exchange id's short fingerprint, for reading aloud."""
        return fingerprint(self.exchange_id)

    @classmethod
    def from_value(cls, value: object) -> Terms:
        """Terms from a canonical value; strict: order, types and fields as in §4."""
        terms = _parse_terms(value)
        try:
            same = encode(value) == terms.to_bytes()
        except EncodeError as exc:
            raise PolicyError(f"terms: {exc.args[0]}", code=ErrorCode.POLICY_INVALID) from exc
        if not same:
            _invalid("terms: not in canonical form (spec/terms.md §4)")
        return terms

    @classmethod
    def from_bytes(cls, data: bytes, *, limits: DecodeLimits = TERMS_LIMITS) -> Terms:
        """Terms from canonical bytes (e.g. carried in a signed message); strict."""
        if not isinstance(data, bytes):
            raise TypeError("Terms.from_bytes() takes bytes")
        terms = cls.from_value(decode(data, limits=limits))
        if terms.to_bytes() != data:  # cannot happen after the checks; kept as a guard
            _invalid("terms: bytes are not canonical")
        return terms

    # ---------------------------------------------------------------- roles and keys

    @property
    def roles(self) -> Mapping[str, RoleTerms]:
        """Every role: ``a``, ``b``, ``mediator:<name>``, ``commission:<name>``."""
        return self._roles

    def role(self, role: str) -> RoleTerms:
        """The terms of one role; ``PolicyError`` if there is no such role."""
        found = self._roles.get(role)
        if found is None:
            _invalid(f"no role {role!r} in these terms")
        return found

    def party_name(self, role: str) -> str:
        """The display name of a role (for ``a``/``b`` the party's name)."""
        return self.role(role).name

    def trust_policy(self) -> TrustPolicy:
        """A :class:`~swapproto.keys.TrustPolicy` with one role policy per role."""
        return TrustPolicy({name: r.policy() for name, r in self._roles.items()})

    def role_of_key(self, key_id: bytes) -> str | None:
        """The role whose signing key has ``key_id``, or None."""
        for name, role in self._roles.items():
            if any(k.key_id == key_id for k in role.keys):
                return name
        return None

    def list(self, name: str) -> ListTerms:
        """The terms of the list ``name``; ``PolicyError`` if none."""
        for lt in self.lists:
            if lt.name == name:
                return lt
        _invalid(f"no list {name!r} in these terms")

    def signers_for(self, list_name: str, sender: str) -> tuple[str, ...]:
        """The roles whose thresholds a list's header must meet: sender [+ commission]."""
        lt = self._sender_check(list_name, sender)
        return (sender,) if lt.signed_by is None else (sender, f"commission:{lt.signed_by}")

    def recipients_for(self, list_name: str, sender_role: str) -> tuple[EncryptionKey, ...]:
        """Encryption keys a sealed list is encrypted to: the counterparty's, mediators'.

        ``PolicyError`` if a recipient role has no encryption key pinned.
        """
        self._sender_check(list_name, sender_role)
        counterparty = self.b if sender_role == "a" else self.a
        out: builtins.list[EncryptionKey] = []
        for role in (counterparty, *self.mediators):
            found = [k.encryption for k in role.keys if k.encryption is not None]
            if not found:
                _invalid(f"{_role_path(role.role)}: no encryption key pinned; cannot seal to it")
            out.extend(found)
        return tuple(out)

    def _sender_check(self, list_name: str, sender: str) -> ListTerms:
        lt = self.list(list_name)
        if sender not in lt.submitters:
            _invalid(f"role {sender!r} does not submit list {list_name!r}")
        return lt


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


def _parse_role(value: object, kind: str, where: str) -> RoleTerms:
    doc = expect_map(value, where, ("keys", "name", "threshold"))
    raw = expect_array(doc["keys"], f"{where}.keys", _MAX_KEYS)
    keys = [_parse_key(k, f"{where}.keys[{i}]") for i, k in enumerate(raw)]
    check_ascending([k.key_id for k in keys], f"{where}.keys", "key id")
    name = expect_type(doc["name"], str, f"{where}.name")
    role = kind if kind in SIDES else f"{kind}:{name}"
    threshold = expect_type(doc["threshold"], int, f"{where}.threshold")
    return RoleTerms(role=role, name=name, threshold=threshold, keys=tuple(keys))


def _parse_terms(value: object) -> Terms:
    top = ("commissions", "exchange", "format", "lists", "mediators", "parties")
    doc = expect_map(value, "terms", top)
    if doc["format"] != TERMS_FORMAT:
        _invalid(f"terms.format: must be {TERMS_FORMAT!r}")
    ex = expect_map(
        doc["exchange"],
        "terms.exchange",
        ("commit_by", "label", "reference_date", "reveal_by", "sealed"),
    )
    reference = expect_type(ex["reference_date"], str, "terms.exchange.reference_date")
    parties = expect_map(doc["parties"], "terms.parties", SIDES)
    groups: dict[str, list[RoleTerms]] = {}
    for kind in ("mediator", "commission"):
        raw = expect_array(doc[f"{kind}s"], f"terms.{kind}s", _MAX_ROLES)
        groups[kind] = [_parse_role(r, kind, f"terms.{kind}s[{i}]") for i, r in enumerate(raw)]
        check_ascending([r.name for r in groups[kind]], f"terms.{kind}s", "name")
    raw_lists = expect_array(doc["lists"], "terms.lists", _MAX_LISTS)
    lists = [ListTerms.from_value(lt, f"terms.lists[{i}]") for i, lt in enumerate(raw_lists)]
    check_ascending([lt.name for lt in lists], "terms.lists", "name")
    return Terms(
        label=expect_type(ex["label"], str, "terms.exchange.label"),
        reference_date=_toml_date(reference, "terms.exchange.reference_date"),
        commit_by=expect_type(ex["commit_by"], int, "terms.exchange.commit_by"),
        reveal_by=expect_type(ex["reveal_by"], int, "terms.exchange.reveal_by"),
        sealed=expect_type(ex["sealed"], bool, "terms.exchange.sealed"),
        a=_parse_role(parties["a"], "a", "terms.parties.a"),
        b=_parse_role(parties["b"], "b", "terms.parties.b"),
        mediators=tuple(groups["mediator"]),
        commissions=tuple(groups["commission"]),
        lists=tuple(lists),
    )


# ---------------------------------------------------------------------------------------
# TOML (the authored form)


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", hide_input_in_errors=True, populate_by_name=False
    )


class _TomlExchange(_Strict):
    label: str
    reference_date: object
    commit_by: object
    reveal_by: object
    sealed: bool


class _TomlRole(_Strict):
    name: str
    keys: list[str]
    threshold: int = 1


class _TomlParties(_Strict):
    a: _TomlRole
    b: _TomlRole


class _TomlList(_Strict):
    name: str
    kind: str
    from_: Literal["a", "b", "both"] = Field(alias="from")
    rule: Literal["all-for-all", "equal-count", "exact-count", "min-count"]
    count: int | None = None
    min_count: int | None = None
    eligible_any: list[str] | None = None
    eligible_all: list[str] | None = None
    signed_by: str | None = None


class _TomlTerms(_Strict):
    exchange: _TomlExchange
    parties: _TomlParties
    mediators: list[_TomlRole] = []
    commissions: list[_TomlRole] = []
    lists: list[_TomlList]


KeyLoader = Callable[[str, str], PinnedKey]
"""``(path as written in the TOML, TOML key naming it) -> PinnedKey``."""


def _pydantic_error(exc: ValidationError) -> PolicyError:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])[1:]
    reason = {"extra_forbidden": "unknown key", "missing": "is required"}.get(
        first["type"], first["msg"]
    )
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return PolicyError(f"terms file: {path or '(top)'}: {reason}{more}", key=path)


def _text(value: str, where: str) -> str:
    try:
        return clean_text(value, _MAX_TEXT)
    except FieldError as exc:
        _invalid(f"{where}: {exc.reason}")


def _toml_date(value: object, where: str) -> date:
    if type(value) is date:
        return value
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.isoformat() == value:
            return parsed
    _invalid(f"{where}: must be a date YYYY-MM-DD")


def _toml_time(value: object, where: str) -> int:
    moment = value
    if isinstance(value, str):
        try:
            if not _RFC3339.fullmatch(value):
                raise ValueError(value)
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            _invalid(f"{where}: must be an RFC 3339 time such as 2025-06-09T00:00:00Z")
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        _invalid(f"{where}: must be a time with a UTC offset, e.g. 2025-06-09T00:00:00Z")
    if moment.microsecond:
        _invalid(f"{where}: fractions of a second are not allowed")
    seconds = int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    if seconds < 0:
        _invalid(f"{where}: must not be before 1970-01-01T00:00:00Z")
    return seconds


def _toml_role(role: str, doc: _TomlRole, where: str, load: KeyLoader) -> RoleTerms:
    paths = [p for p in doc.keys]
    if len(set(paths)) != len(paths):
        _invalid(f"{where}.keys: a key file is listed twice")
    keys = tuple(load(p, f"{where}.keys[{i}]") for i, p in enumerate(paths))
    name = _text(doc.name, f"{where}.name")
    role = role if role in SIDES else f"{role}:{name}"
    return RoleTerms(role=role, name=name, threshold=doc.threshold, keys=keys)


def _toml_list(doc: _TomlList, where: str) -> ListTerms:
    for key in ("eligible_any", "eligible_all"):
        if getattr(doc, key) == []:
            _invalid(f"{where}.{key}: must not be empty; leave it out to make all eligible")
    return ListTerms(
        name=doc.name,
        kind=doc.kind,
        from_=doc.from_,
        rule=ListRule(doc.rule),
        count=doc.count,
        min_count=doc.min_count,
        eligible_any=tuple(doc.eligible_any or ()),
        eligible_all=tuple(doc.eligible_all or ()),
        signed_by=None if doc.signed_by is None else _text(doc.signed_by, f"{where}.signed_by"),
    )


def terms_from_toml(text: str, *, load_key: KeyLoader) -> Terms:
    """Terms from TOML text; ``load_key`` resolves each key file named in it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"terms file is not valid TOML: {exc}") from exc
    try:
        doc = _TomlTerms.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(exc) from None
    ex = doc.exchange
    mediators = [
        _toml_role("mediator", m, f"mediators[{i}]", load_key) for i, m in enumerate(doc.mediators)
    ]
    commissions = [
        _toml_role("commission", c, f"commissions[{i}]", load_key)
        for i, c in enumerate(doc.commissions)
    ]
    return Terms(
        label=_text(ex.label, "exchange.label"),
        reference_date=_toml_date(ex.reference_date, "exchange.reference_date"),
        commit_by=_toml_time(ex.commit_by, "exchange.commit_by"),
        reveal_by=_toml_time(ex.reveal_by, "exchange.reveal_by"),
        sealed=ex.sealed,
        a=_toml_role("a", doc.parties.a, "parties.a", load_key),
        b=_toml_role("b", doc.parties.b, "parties.b", load_key),
        mediators=tuple(mediators),
        commissions=tuple(commissions),
        lists=tuple(_toml_list(lt, f"lists[{i}]") for i, lt in enumerate(doc.lists)),
    )


def _load_pinned_key(path: Path, source: str) -> PinnedKey:
    """A public key file as a pinned key (with its encryption key when the file has one)."""
    bundle = load_public_key_bundle(path)
    return PinnedKey(bundle.signing, bundle.encryption, source=source)


def compile_terms(path: str | os.PathLike[str]) -> Terms:
    """Read a terms TOML file and the public key files it names (relative to it).

    Raises ``InputError`` (``input.io``, ``input.invalid``, or the key file's ``key.*``
    code) for unreadable files and ``PolicyError`` (``policy.invalid``) for terms that
    break the schema or the rules of ``spec/terms.md`` §3 and §5; messages name the TOML key.
    """
    source = Path(path)
    try:
        with source.open("rb") as f:
            data = f.read(_MAX_TOML + 1)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}", code=ErrorCode.INPUT_IO) from None
    if len(data) > _MAX_TOML:
        raise InputError(f"{source} is larger than {_MAX_TOML} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8") from None

    def load(written: str, where: str) -> PinnedKey:
        if not written:
            _invalid(f"{where}: empty key file path")
        try:
            return _load_pinned_key(source.parent / written, written)
        except KeyFileError as exc:
            raise InputError(
                f"{where}: key file {written!r}: {exc.args[0]}", code=exc.code
            ) from exc

    return terms_from_toml(text, load_key=load)


# ---------------------------------------------------------------------------------------
# rule evaluation


def evaluate_list(
    terms: Terms,
    list_name: str,
    side: str,
    records: Iterable[object],
    *,
    counterpart_count: int | None = None,
    max_findings: int = 1000,
    validate: bool = True,
) -> ListEvaluation:
    """Evaluate ``side``'s list ``list_name`` (canonical records, streamed once).

    Returns every finding (entry findings capped at ``max_findings``, all counted); never
    raises for what the records say. ``PolicyError`` if the list is unknown or ``side``
    does not submit it. ``validate=False`` skips the per-record schema check for records
    already verified (e.g. by the manifest verifier).
    """
    lt = terms._sender_check(list_name, side)
    return evaluate(
        lt,
        terms.reference_date,
        side,
        records,
        counterpart_count=counterpart_count,
        max_findings=max_findings,
        validate=validate,
    )


def verify_list(
    terms: Terms,
    list_name: str,
    side: str,
    records: Iterable[object],
    *,
    counterpart_count: int | None = None,
    max_findings: int = 1000,
    validate: bool = True,
) -> ListEvaluation:
    """As :func:`evaluate_list`, but raise ``PolicyError`` (``policy.rule_violated``).

    The evaluation is attached as ``exc.details["evaluation"]``.
    """
    result = evaluate_list(
        terms,
        list_name,
        side,
        records,
        counterpart_count=counterpart_count,
        max_findings=max_findings,
        validate=validate,
    )
    if not result.ok:
        # with max_findings=0 only list-level findings are kept; there may be none
        first = result.findings[0].message if result.findings else "findings not kept"
        raise PolicyError(
            f"list {list_name!r} of side {side} breaks the terms: {first} "
            f"({result.total_findings} finding(s))",
            code=ErrorCode.POLICY_RULE,
            evaluation=result,
        )
    return result
