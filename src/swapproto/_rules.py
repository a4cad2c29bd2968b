"""List rules and eligibility: the per-list part of the agreed terms and its evaluation.

Private helper of :mod:`swapproto.terms` (which re-exports the public names). Pure: no
I/O, no clock; the reference date comes from the terms. Normative text:
``spec/terms.md`` §8-§10.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Final, NoReturn

from swapproto.errors import ErrorCode, InputError, PolicyError
from swapproto.records import FieldType, RecordKind, get_kind

__all__ = [
    "AGE_BAND",
    "MAX_COUNT",
    "SIDES",
    "Finding",
    "FindingCode",
    "ListEvaluation",
    "ListRule",
    "ListTerms",
    "age_band",
    "age_on",
    "category_vocabulary",
    "check_ascending",
    "evaluate",
    "expect_array",
    "expect_map",
    "expect_type",
]

SIDES: Final = ("a", "b")
MAX_COUNT: Final = 2**32 - 1
_MAX_CATEGORIES: Final = 64
_LIST_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
AGE_BAND: Final = re.compile(r"age_(0|[1-9][0-9]{0,2})_(0|[1-9][0-9]{0,2}|plus)")
"""Computed categories: ``age_<lo>_<hi>`` (inclusive) and ``age_<lo>_plus``."""
_MAX_AGE: Final = 150
_DOB: Final = "date_of_birth"
_LIST_OPTIONAL: Final = ("count", "eligible_all", "eligible_any", "min_count", "signed_by")


def _invalid(message: str, **details: Any) -> NoReturn:
    raise PolicyError(message, code=ErrorCode.POLICY_INVALID, **details)


class ListRule(StrEnum):
    """How many entries a list must have (``spec/terms.md`` §8)."""

    ALL_FOR_ALL = "all-for-all"
    EQUAL_COUNT = "equal-count"
    EXACT_COUNT = "exact-count"
    MIN_COUNT = "min-count"


class FindingCode(StrEnum):
    """The stable codes of evaluation findings (``spec/terms.md`` §10.3)."""

    INVALID_RECORD = "invalid_record"
    NOT_ELIGIBLE = "not_eligible"
    AGE_CLAIM_MISMATCH = "age_claim_mismatch"
    AGE_UNVERIFIABLE = "age_unverifiable"
    COUNT_MISMATCH = "count_mismatch"
    BELOW_MIN_COUNT = "below_min_count"
    COUNTERPART_UNKNOWN = "counterpart_unknown"


# ---------------------------------------------------------------------------------------
# ages and categories


def age_band(name: str) -> tuple[int, int | None] | None:
    """``(lo, hi)`` of an age-band category (``hi`` None for ``_plus``), else None."""
    m = AGE_BAND.fullmatch(name)
    if m is None:
        return None
    lo = int(m.group(1))
    hi = None if m.group(2) == "plus" else int(m.group(2))
    if lo > _MAX_AGE or (hi is not None and not lo <= hi <= _MAX_AGE):
        return None
    return lo, hi


def age_on(date_of_birth: date, reference: date) -> int:
    """Completed years at ``reference``; a 29 February birthday is reached on 1 March."""
    before_birthday = (reference.month, reference.day) < (date_of_birth.month, date_of_birth.day)
    return reference.year - date_of_birth.year - before_birthday


def _shifted(reference: date, years: int) -> str:
    """``reference`` moved back ``years`` as a (possibly non-calendar) YYYY-MM-DD string.

    ``age_on(dob, reference) >= n`` iff ``dob.isoformat() <= _shifted(reference, n)``:
    both compare (year, month, day) lexicographically, and so do the fixed-width strings.
    """
    return f"{reference.year - years:04d}-{reference.month:02d}-{reference.day:02d}"


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    fields: tuple[tuple[str, bool], ...]  # (field name, is a choice set)
    categories: frozenset[str]
    ambiguous: frozenset[str]
    has_dob: bool


@cache
def _vocabulary(kind_name: str) -> _Vocabulary:
    kind: RecordKind = get_kind(kind_name)
    fields: list[tuple[str, bool]] = []
    seen: set[str] = set()
    ambiguous: set[str] = set()
    for spec in kind.fields:
        if spec.type in (FieldType.CHOICE, FieldType.CHOICE_SET):
            fields.append((spec.name, spec.type is FieldType.CHOICE_SET))
            ambiguous |= seen & set(spec.choices)
            seen |= set(spec.choices)
    has_dob = any(spec.name == _DOB and spec.type is FieldType.DATE for spec in kind.fields)
    return _Vocabulary(tuple(fields), frozenset(seen - ambiguous), frozenset(ambiguous), has_dob)


def category_vocabulary(kind: str) -> frozenset[str]:
    """The categories records of ``kind`` carry in their choice and choice-set fields.

    Values that occur in two fields of the kind are ambiguous and left out. Age bands
    (:data:`AGE_BAND`) are computed categories on top, for kinds with a date of birth.
    """
    return _vocabulary(kind).categories


def _check_category(kind: str, category: str, where: str) -> None:
    vocabulary = _vocabulary(kind)
    if age_band(category) is not None:
        if not vocabulary.has_dob:
            _invalid(f"{where}: age band {category!r} needs a kind with a date_of_birth field")
        return
    if AGE_BAND.fullmatch(category):
        _invalid(f"{where}: {category!r} is not a valid age band (0 <= lo <= hi <= 150)")
    if category in vocabulary.ambiguous:
        _invalid(f"{where}: category {category!r} is ambiguous for kind {kind!r}")
    if category not in vocabulary.categories:
        _invalid(f"{where}: unknown category {category!r} for kind {kind!r}")


# ---------------------------------------------------------------------------------------
# strict reading of canonical values (shared with the terms modules)


def expect_map(
    value: object, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if type(value) is not dict:
        _invalid(f"{where}: must be a map")
    for key in required:
        if key not in value:
            _invalid(f"{where}.{key}: is required")
    for key in value:
        if key not in required and key not in optional:
            _invalid(f"{where}.{str(key)[:64]}: unknown field")
    return value


def expect_array(value: object, where: str, limit: int) -> list[Any]:
    if type(value) is not list:
        _invalid(f"{where}: must be an array")
    if len(value) > limit:
        _invalid(f"{where}: more than {limit} items")
    return value


def expect_type(value: object, kind: type, where: str) -> Any:
    if type(value) is not kind:
        _invalid(f"{where}: must be of type {kind.__name__}")
    return value


def check_ascending(items: list[Any], where: str, what: str) -> None:
    for i in range(1, len(items)):
        if not items[i - 1] < items[i]:
            _invalid(f"{where}: must be sorted by {what}, without repeats")


# ---------------------------------------------------------------------------------------
# the terms of one list


@dataclass(frozen=True, slots=True, kw_only=True)
class ListTerms:
    """The agreed terms of one list; validated on construction (``PolicyError``).

    ``from_`` is the TOML key ``from``: ``a``, ``b`` or ``both``. ``count`` belongs to
    ``exact-count`` and ``min-count`` only; ``min_count`` to the other two rules.
    """

    name: str
    kind: str
    from_: str
    rule: ListRule
    count: int | None = None
    min_count: int | None = None
    eligible_any: tuple[str, ...] = ()
    eligible_all: tuple[str, ...] = ()
    signed_by: str | None = None

    def __post_init__(self) -> None:
        where = f"lists[{self.name!r}]"
        if not isinstance(self.name, str) or not _LIST_NAME.fullmatch(self.name):
            _invalid(f"{where}.name: 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit")
        try:
            get_kind(self.kind)
        except InputError as exc:
            _invalid(f"{where}.kind: {exc.args[0]}")
        if self.from_ not in ("a", "b", "both"):
            _invalid(f"{where}.from: must be 'a', 'b' or 'both'")
        try:
            object.__setattr__(self, "rule", ListRule(self.rule))
        except ValueError:
            _invalid(f"{where}.rule: must be one of {', '.join(r.value for r in ListRule)}")
        self._check_counts(where)
        for key in ("eligible_any", "eligible_all"):
            self._check_categories(key, f"{where}.{key}")
        if self.signed_by is not None and not isinstance(self.signed_by, str):
            _invalid(f"{where}.signed_by: must be a commission name")

    def _check_counts(self, where: str) -> None:
        for key in ("count", "min_count"):
            value = getattr(self, key)
            if value is not None and (type(value) is not int or not 1 <= value <= MAX_COUNT):
                _invalid(f"{where}.{key}: must be an integer from 1 to {MAX_COUNT}")
        with_count = self.rule in (ListRule.EXACT_COUNT, ListRule.MIN_COUNT)
        if with_count and self.count is None:
            _invalid(f"{where}.count: required by rule {self.rule.value}")
        if not with_count and self.count is not None:
            _invalid(f"{where}.count: only rules exact-count and min-count take a count")
        if with_count and self.min_count is not None:
            _invalid(f"{where}.min_count: not allowed with rule {self.rule.value}; use count")
        if self.rule is ListRule.EQUAL_COUNT and self.from_ != "both":
            _invalid(f"{where}.rule: equal-count needs from = 'both'")

    def _check_categories(self, key: str, where: str) -> None:
        items = getattr(self, key)
        if type(items) is not tuple or not all(isinstance(c, str) for c in items):
            _invalid(f"{where}: must be a list of category names")
        if len(items) > _MAX_CATEGORIES:
            _invalid(f"{where}: more than {_MAX_CATEGORIES} categories")
        if len(set(items)) != len(items):
            _invalid(f"{where}: a category is listed twice")
        for category in items:
            _check_category(self.kind, category, where)
        object.__setattr__(self, key, tuple(sorted(items)))

    @classmethod
    def from_value(cls, value: object, where: str = "list") -> ListTerms:
        """A list's terms from its canonical value; strict (order, types, fields)."""
        doc = expect_map(value, where, ("from", "kind", "name", "rule"), _LIST_OPTIONAL)
        text = {k: expect_type(doc[k], str, f"{where}.{k}") for k in ("from", "kind", "name")}
        rule = expect_type(doc["rule"], str, f"{where}.rule")
        if rule not in {r.value for r in ListRule}:
            _invalid(f"{where}.rule: must be one of {', '.join(r.value for r in ListRule)}")
        sets: dict[str, tuple[str, ...]] = {}
        for key in ("eligible_any", "eligible_all"):
            items = expect_array(doc.get(key, []), f"{where}.{key}", _MAX_CATEGORIES)
            if key in doc and not items:
                _invalid(f"{where}.{key}: an empty list must be omitted")
            for item in items:
                expect_type(item, str, f"{where}.{key}")
            check_ascending(items, f"{where}.{key}", "name")
            sets[key] = tuple(items)
        opt = {
            k: expect_type(doc[k], int, f"{where}.{k}") for k in ("count", "min_count") if k in doc
        }
        if "signed_by" in doc:
            expect_type(doc["signed_by"], str, f"{where}.signed_by")
        return cls(
            name=text["name"],
            kind=text["kind"],
            from_=text["from"],
            rule=ListRule(rule),
            count=opt.get("count"),
            min_count=opt.get("min_count"),
            eligible_any=sets["eligible_any"],
            eligible_all=sets["eligible_all"],
            signed_by=doc.get("signed_by"),
        )

    @property
    def submitters(self) -> tuple[str, ...]:
        """The sides that submit this list: ``("a",)``, ``("b",)`` or ``("a", "b")``."""
        return SIDES if self.from_ == "both" else (self.from_,)

    def to_value(self) -> dict[str, object]:
        """The list's canonical value (absent options and empty lists omitted)."""
        value: dict[str, object] = {
            "from": self.from_,
            "kind": self.kind,
            "name": self.name,
            "rule": self.rule.value,
        }
        optional = {
            "count": self.count,
            "min_count": self.min_count,
            "eligible_any": list(self.eligible_any) or None,
            "eligible_all": list(self.eligible_all) or None,
            "signed_by": self.signed_by,
        }
        value.update({k: v for k, v in optional.items() if v is not None})
        return value


# ---------------------------------------------------------------------------------------
# evaluation results


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a list breaks the terms; ``entry`` is the 0-based index, or None."""

    code: str
    message: str
    entry: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListEvaluation:
    """The result of evaluating one side's list against its rule and eligibility.

    ``findings`` holds the list-level findings, then at most ``max_findings`` entry
    findings in entry order; ``total_findings`` counts all of them. ``ok`` is true iff
    there are none. ``per_category`` counts entries per (computed) category.
    """

    list_name: str
    side: str
    rule: ListRule
    count: int
    eligible: int
    ok: bool
    findings: tuple[Finding, ...]
    total_findings: int
    per_category: Mapping[str, int] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """Whether findings were left out because of the cap."""
        return self.total_findings > len(self.findings)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary for reports."""
        return {
            "list": self.list_name,
            "side": self.side,
            "rule": self.rule.value,
            "count": self.count,
            "eligible": self.eligible,
            "ok": self.ok,
            "total_findings": self.total_findings,
            "findings": [
                {"code": f.code, "message": f.message, "entry": f.entry} for f in self.findings
            ],
            "per_category": dict(self.per_category),
        }


# ---------------------------------------------------------------------------------------
# evaluation


class _Evaluator:
    """Per-list state: bounded by the vocabulary and the findings cap, not by n."""

    __slots__ = (
        "all_",
        "any_",
        "bands",
        "check",
        "claimable",
        "count",
        "eligible",
        "fields",
        "findings",
        "max_findings",
        "per_category",
        "reference",
        "total",
    )

    def __init__(self, terms: ListTerms, reference: date, max_findings: int) -> None:
        vocabulary = _vocabulary(terms.kind)
        self.check = get_kind(terms.kind).plan.check
        self.fields = vocabulary.fields
        self.reference = reference
        self.any_ = frozenset(terms.eligible_any)
        self.all_ = frozenset(terms.eligible_all)
        # every age band the terms name or the kind's vocabulary could claim
        names = {c for c in self.any_ | self.all_ | vocabulary.categories if age_band(c)}
        self.bands: dict[str, tuple[str, str | None]] = {}
        for name in sorted(names):
            lo, hi = age_band(name) or (0, None)
            upper = None if hi is None else _shifted(reference, hi + 1)
            self.bands[name] = (_shifted(reference, lo), upper)
        self.claimable = frozenset(self.bands) & vocabulary.categories
        self.max_findings = max_findings
        self.findings: list[Finding] = []
        self.per_category: dict[str, int] = {}
        self.count = self.eligible = self.total = 0

    def add(self, code: FindingCode, message: str, entry: int) -> None:
        self.total += 1
        if len(self.findings) < self.max_findings:
            self.findings.append(Finding(code.value, message, entry))

    def in_band(self, dob: str, band: str) -> bool:
        lower, upper = self.bands[band]
        return dob <= lower and (upper is None or dob > upper)

    def categories(self, record: Mapping[str, Any]) -> set[str]:
        found: set[str] = set()
        for name, is_set in self.fields:
            value = record.get(name)
            if value is None:
                continue
            if is_set:
                found.update(value)
            else:
                found.add(value)
        return found

    def entry(self, index: int, record: object, validate: bool) -> None:
        self.count += 1
        if type(record) is not dict:
            self.add(FindingCode.INVALID_RECORD, f"entry {index}: not a map", index)
            return
        if validate:
            try:
                self.check(record)
            except InputError as exc:
                self.add(FindingCode.INVALID_RECORD, f"entry {index}: {exc.args[0]}", index)
                return
        try:
            found = self.categories(record)
        except TypeError:  # only reachable with validate=False
            self.add(FindingCode.INVALID_RECORD, f"entry {index}: bad category field", index)
            return
        dob = record.get(_DOB)
        dob = dob if type(dob) is str else None
        for band in sorted(found & self.claimable):  # claims are checked, never trusted
            found.discard(band)
            if dob is None:
                self.add(
                    FindingCode.AGE_UNVERIFIABLE,
                    f"entry {index}: claims {band} but has no date of birth",
                    index,
                )
            elif not self.in_band(dob, band):
                self.add(FindingCode.AGE_CLAIM_MISMATCH, self._mismatch(index, band, dob), index)
        if dob is not None:
            found.update(band for band in self.bands if self.in_band(dob, band))
        for category in found:
            self.per_category[category] = self.per_category.get(category, 0) + 1
        self._eligibility(index, found)

    def _mismatch(self, index: int, band: str, dob: str) -> str:
        try:
            age = str(age_on(date.fromisoformat(dob), self.reference))
        except ValueError:
            age = "unknown"
        return (
            f"entry {index}: claims {band} but is {age} years old "
            f"on the reference date {self.reference.isoformat()}"
        )

    def _eligibility(self, index: int, found: set[str]) -> None:
        if self.any_ and not (found & self.any_):
            wanted = ", ".join(sorted(self.any_))
            self.add(FindingCode.NOT_ELIGIBLE, f"entry {index}: has none of {wanted}", index)
        elif self.all_ and not self.all_ <= found:
            missing = ", ".join(sorted(self.all_ - found))
            self.add(FindingCode.NOT_ELIGIBLE, f"entry {index}: lacks {missing}", index)
        else:
            self.eligible += 1


def _count_findings(terms: ListTerms, count: int, counterpart: int | None) -> list[Finding]:
    out: list[Finding] = []
    rule, name = terms.rule, terms.name
    if rule is ListRule.EXACT_COUNT and count != terms.count:
        out.append(
            Finding(
                FindingCode.COUNT_MISMATCH.value,
                f"list {name!r} has {count} entries; exact-count requires {terms.count}",
            )
        )
    floor = terms.count if rule is ListRule.MIN_COUNT else terms.min_count
    if floor is not None and count < floor:
        out.append(
            Finding(
                FindingCode.BELOW_MIN_COUNT.value,
                f"list {name!r} has {count} entries; at least {floor} are required",
            )
        )
    if rule is ListRule.EQUAL_COUNT:
        if counterpart is None:
            message = f"list {name!r}: equal-count needs the counterpart's count"
            out.append(Finding(FindingCode.COUNTERPART_UNKNOWN.value, message))
        elif count != counterpart:
            message = f"list {name!r} has {count} entries; the counterpart's has {counterpart}"
            out.append(Finding(FindingCode.COUNT_MISMATCH.value, message))
    return out


def evaluate(
    terms: ListTerms,
    reference: date,
    side: str,
    records: Iterable[object],
    *,
    counterpart_count: int | None,
    max_findings: int,
    validate: bool,
) -> ListEvaluation:
    """Evaluate one side's records (canonical values) against ``terms`` in one pass."""
    if counterpart_count is not None and (
        type(counterpart_count) is not int or counterpart_count < 0
    ):
        raise TypeError("counterpart_count must be a non-negative int or None")
    if type(max_findings) is not int or max_findings < 0:
        raise TypeError("max_findings must be a non-negative int")
    ev = _Evaluator(terms, reference, max_findings)
    for index, record in enumerate(records):
        ev.entry(index, record, validate)
    list_findings = _count_findings(terms, ev.count, counterpart_count)
    total = ev.total + len(list_findings)
    return ListEvaluation(
        list_name=terms.name,
        side=side,
        rule=terms.rule,
        count=ev.count,
        eligible=ev.eligible,
        ok=total == 0,
        findings=(*list_findings, *ev.findings),
        total_findings=total,
        per_category=MappingProxyType(dict(sorted(ev.per_category.items()))),
    )
