"""The canonical value of the agreed terms, its bytes and its exchange id.

Private helper of :mod:`swapproto.terms` (which re-exports the public names).
:class:`Terms` is validated on construction; its canonical SP-CMP bytes pin every key
record, the deadlines as seconds since the epoch and every list's rule, and the
exchange id is their tagged hash (``spec/terms.md`` §4 and §5). Reading canonical
bytes back is strict: anything that would not re-encode to the same bytes is refused.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from types import MappingProxyType
from typing import Final, NoReturn

from swapproto._rules import (
    SIDES,
    ListTerms,
    check_ascending,
    expect_array,
    expect_map,
    expect_type,
)
from swapproto._terms_roles import (
    EncryptionKey,
    PinnedKey,
    RoleTerms,
    check_name,
    key_components,
    parse_role,
    role_path,
)
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.errors import EncodeError, ErrorCode, PolicyError
from swapproto.hashing import Tag, fingerprint, tagged_hash
from swapproto.keys import TrustPolicy

__all__ = ["TERMS_FORMAT", "TERMS_LIMITS", "Terms", "parse_date"]

TERMS_FORMAT: Final = "swapproto-terms/1"
TERMS_LIMITS: Final = DecodeLimits(
    max_input=1024 * 1024, max_depth=8, max_str=4096, max_bin=4096, max_array=1024, max_map=64
)
"""Decoding limits for terms carried in messages."""
_MAX_ROLES: Final = 32
_MAX_LISTS: Final = 256
_MAX_TIME: Final = 2**63 - 1
_MIN_DATE: Final = date(1900, 1, 1)


def _invalid(message: str) -> NoReturn:
    raise PolicyError(message, code=ErrorCode.POLICY_INVALID)


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
        check_name(self.label, "exchange.label")
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
                    f"{role_path(role.role)}.keys: the terms are sealed and this role "
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
                for what, part in key_components(key):
                    if part in owner:
                        other, other_key = owner[part]
                        first = f"{role_path(other)}.keys ({other_key.label()})"
                        _invalid(
                            f"{role_path(role)}.keys: {key.label()} shares its {what} key "
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
                _invalid(f"{role_path(role.role)}: no encryption key pinned; cannot seal to it")
            out.extend(found)
        return tuple(out)

    def _sender_check(self, list_name: str, sender: str) -> ListTerms:
        lt = self.list(list_name)
        if sender not in lt.submitters:
            _invalid(f"role {sender!r} does not submit list {list_name!r}")
        return lt


# ---------------------------------------------------------------------------------------
# the canonical value (strict reading)


def parse_date(value: object, where: str) -> date:
    """A ``date``, or a string in the exact form ``YYYY-MM-DD``; else ``PolicyError``."""
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
        groups[kind] = [parse_role(r, kind, f"terms.{kind}s[{i}]") for i, r in enumerate(raw)]
        check_ascending([r.name for r in groups[kind]], f"terms.{kind}s", "name")
    raw_lists = expect_array(doc["lists"], "terms.lists", _MAX_LISTS)
    lists = [ListTerms.from_value(lt, f"terms.lists[{i}]") for i, lt in enumerate(raw_lists)]
    check_ascending([lt.name for lt in lists], "terms.lists", "name")
    return Terms(
        label=expect_type(ex["label"], str, "terms.exchange.label"),
        reference_date=parse_date(reference, "terms.exchange.reference_date"),
        commit_by=expect_type(ex["commit_by"], int, "terms.exchange.commit_by"),
        reveal_by=expect_type(ex["reveal_by"], int, "terms.exchange.reveal_by"),
        sealed=expect_type(ex["sealed"], bool, "terms.exchange.sealed"),
        a=parse_role(parties["a"], "a", "terms.parties.a"),
        b=parse_role(parties["b"], "b", "terms.parties.b"),
        mediators=tuple(groups["mediator"]),
        commissions=tuple(groups["commission"]),
        lists=tuple(lists),
    )
