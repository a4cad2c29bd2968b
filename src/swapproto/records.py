"""Typed record kinds: what one entry of an exchanged list says, and its canonical value.

A *kind* is a name (``prisoner``, ``remains``, ``child_case``, ``medical_case``, or one
an embedding system registers) bound to a strict, frozen pydantic model. Each record
has one **canonical value**: a plain ``dict`` (str keys; str, bytes, bool, int, lists
and maps; dates as ``YYYY-MM-DD``; absent optional fields and empty lists omitted;
order-free lists sorted) that the manifest encodes into its Merkle leaves.

Two paths lead to a canonical value and agree by construction (one field-spec table,
derived from the model, drives both; see :mod:`swapproto._recordspec`):

* the **model path** for API users: :func:`from_row`, :func:`from_canonical`,
  :func:`to_canonical`, or constructing a model directly;
* the **fast path** for million-entry manifests, which builds no model:
  :func:`canonical_from_row` and :func:`validate_canonical`.

Every rejection is an :class:`~swapproto.errors.InputError` (``input.invalid_record``)
naming the kind, the field and the reason, never the value. Normative text:
``spec/records.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from swapproto._recordplan import (
    FastPlan,
    Rule,
    model_to_value,
    row_to_model_input,
    value_to_model_input,
    value_to_row,
)
from swapproto._recordspec import (
    DIGEST_ALGORITHMS,
    EVIDENCE_PURPOSES,
    MIN_DATE,
    ColumnError,
    DateSpec,
    Evidence,
    FieldSpec,
    FieldType,
    SetOf,
    TextSpec,
    compile_fields,
    pydantic_reason,
)
from swapproto.errors import ErrorCode, InputError

__all__ = [
    "BUILTIN_KINDS",
    "CONDITION_CATEGORIES",
    "DIGEST_ALGORITHMS",
    "EVIDENCE_PURPOSES",
    "IDENTIFICATION_STATUSES",
    "MIN_DATE",
    "PRISONER_CATEGORIES",
    "SEXES",
    "ChildCase",
    "DateSpec",
    "Evidence",
    "FieldSpec",
    "FieldType",
    "MedicalCase",
    "Prisoner",
    "RecordKind",
    "RecordModel",
    "Remains",
    "Rule",
    "SetOf",
    "TextSpec",
    "canonical_from_row",
    "canonical_to_row",
    "check_not_future",
    "from_canonical",
    "from_row",
    "get_kind",
    "id_from",
    "identity_from",
    "identity_key",
    "identity_text",
    "is_builtin_kind",
    "kinds",
    "record_id",
    "register_kind",
    "to_canonical",
    "validate_canonical",
]

# ------------------------------------------------------------------ field types

Identifier = Annotated[str, TextSpec(max_length=128)]
"""A party-local identifier (person id, case id, remains id)."""
Name = Annotated[str, TextSpec(max_length=200)]
"""A family name or the given names, in any script."""
Label = Annotated[str, TextSpec(max_length=200)]
"""A short free text: rank, unit, service number, assessing body."""
Place = Annotated[str, TextSpec(max_length=500)]
"""A place description or a contact reference."""
IsoDate = Annotated[date, DateSpec()]
"""A calendar date, 1900-01-01 or later, canonical ``YYYY-MM-DD``."""

Sex = Literal["female", "male", "unknown"]
PrisonerCategory = Literal[
    "age_18_25",
    "civilian",
    "journalist",
    "long_captivity",
    "medical_personnel",
    "parent_of_young_child",
    "pregnant",
    "religious_personnel",
    "seriously_ill",
    "seriously_wounded",
]
IdentificationStatus = Literal["identified", "presumed", "unidentified"]
ConditionCategory = Literal[
    "chronic",
    "incurable",
    "mental_health",
    "permanent_disability",
    "seriously_ill",
    "seriously_wounded",
]
SEXES: Final[tuple[str, ...]] = get_args(Sex)
PRISONER_CATEGORIES: Final[tuple[str, ...]] = get_args(PrisonerCategory)
IDENTIFICATION_STATUSES: Final[tuple[str, ...]] = get_args(IdentificationStatus)
CONDITION_CATEGORIES: Final[tuple[str, ...]] = get_args(ConditionCategory)


# ------------------------------------------------------------------ models


class RecordModel(BaseModel):
    """Base of the built-in kinds; embedding systems may use it for their own.

    Strict, frozen, no extra fields, inputs hidden in error texts. Construction raises
    :class:`InputError` (never a pydantic ``ValidationError``), and the kind's
    ``canonical_rules`` run on the canonical value, exactly as on the fast path.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", hide_input_in_errors=True)

    canonical_rules: ClassVar[tuple[Rule, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _as_input_error(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            model = handler(data)
        except ValidationError as exc:
            raise _validation_error(_kind_label(cls), exc) from exc
        except InputError as exc:  # an evidence item, built through Evidence.__init__
            if exc.details.get("item") != "evidence":
                raise
            raise _record_error(_kind_label(cls), "evidence", exc.details["reason"]) from None
        for rule in cls.canonical_rules:
            violation = rule(model_to_value(model, compile_fields(cls)))
            if violation is not None:
                raise _record_error(_kind_label(cls), *violation)
        return model


def _not_before(later: str, earlier: str) -> Rule:
    def rule(value: Mapping[str, Any]) -> tuple[str, str] | None:
        if later in value and earlier in value and value[later] < value[earlier]:
            return (later, f"is before {earlier}")
        return None

    return rule


def _identified_rule(value: Mapping[str, Any]) -> tuple[str, str] | None:
    if value["identification_status"] == "identified":
        for field in ("family_name", "given_names"):
            if field not in value:
                return (field, "is required when identification_status is identified")
    return None


class Prisoner(RecordModel):
    """A prisoner of war or detained civilian (GC III art. 17, 70, 109-110)."""

    person_id: Identifier
    family_name: Name
    given_names: Name
    date_of_birth: IsoDate
    sex: Sex
    citizenship: Annotated[str, TextSpec(max_length=3, pattern="[A-Z]{2,3}")]
    service_number: Label | None = None
    rank: Label | None = None
    unit: Label | None = None
    place_of_detention: Place | None = None
    categories: Annotated[tuple[PrisonerCategory, ...], SetOf()] = ()


class Remains(RecordModel):
    """Human remains held for return, identified or not (GC I art. 16-17)."""

    canonical_rules = (_identified_rule, _not_before("recovery_date", "date_of_birth"))

    remains_id: Identifier
    recovery_date: IsoDate
    recovery_place: Place
    identification_status: IdentificationStatus
    person_id: Identifier | None = None
    family_name: Name | None = None
    given_names: Name | None = None
    date_of_birth: IsoDate | None = None
    service_number: Label | None = None
    evidence: Annotated[tuple[Evidence, ...], SetOf(max_items=64)] = ()


class ChildCase(RecordModel):
    """A child separated from the family, to be traced and reunited (GC IV art. 24-26)."""

    canonical_rules = (_not_before("date_of_separation", "date_of_birth"),)

    case_id: Identifier
    family_name: Name
    given_names: Name
    date_of_birth: IsoDate
    last_known_place: Place
    date_of_separation: IsoDate
    contact_reference: Place


class MedicalCase(RecordModel):
    """A medical assessment qualifying a person for repatriation (GC III art. 110-112)."""

    person_ref: Identifier
    condition_category: ConditionCategory
    assessed_on: IsoDate
    assessed_by: Label


# ------------------------------------------------------------------ registry

_KIND_NAME: Final = re.compile("[a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)*")
_IDENTITY: Final = ("family_name", "given_names", "date_of_birth")


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A registered kind: its model, field table, id field and identity fields."""

    name: str
    model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    id_field: str
    identity_fields: tuple[str, ...] | None
    list_fields: frozenset[str]
    rules: tuple[Rule, ...]
    plan: FastPlan

    @property
    def field_names(self) -> tuple[str, ...]:
        """Field names in declaration order (the CSV header)."""
        return tuple(spec.name for spec in self.fields)


_KINDS: dict[str, RecordKind] = {}
_BY_MODEL: dict[type[BaseModel], RecordKind] = {}


def register_kind(
    name: str,
    model: type[BaseModel],
    *,
    id_field: str,
    identity_fields: tuple[str, ...] | None = None,
    rules: tuple[Rule, ...] = (),
) -> RecordKind:
    """Register a record kind; refuse a taken name or model (``input.kind_exists``).

    ``model`` must be strict, frozen, forbid extra fields and hide inputs in errors, and
    its fields must use the annotations of this module (else ``TypeError``).
    ``identity_fields`` (text or date fields) default to (family_name, given_names,
    date_of_birth) when the model has all three. The kind's cross-field rules are the
    model's ``canonical_rules`` followed by ``rules``; every function of this module
    applies them, on both paths.
    """
    if not _KIND_NAME.fullmatch(name) or len(name) > 64:
        raise InputError(f"invalid kind name {name[:64]!r}", code=ErrorCode.INPUT_INVALID)
    if name in _KINDS or model in _BY_MODEL:
        raise InputError(
            f"kind {name!r} or its model is already registered", code=ErrorCode.INPUT_KIND_EXISTS
        )
    fields = compile_fields(model)
    by_name = {spec.name: spec for spec in fields}
    id_spec = by_name.get(id_field)
    if id_spec is None or not id_spec.required or id_spec.type is not FieldType.TEXT:
        raise TypeError(f"id field {id_field!r} must be a required text field of {model.__name__}")
    if identity_fields is None and all(field in by_name for field in _IDENTITY):
        identity_fields = _IDENTITY
    if identity_fields is not None and not all(
        field in by_name and by_name[field].type in (FieldType.TEXT, FieldType.DATE)
        for field in identity_fields
    ):
        raise TypeError(f"identity fields {identity_fields!r} must be text or date fields")
    rules = (*getattr(model, "canonical_rules", ()), *rules)
    kind = RecordKind(
        name=name,
        model=model,
        fields=fields,
        id_field=id_field,
        identity_fields=identity_fields,
        list_fields=frozenset(
            spec.name
            for spec in fields
            if spec.type in (FieldType.CHOICE_SET, FieldType.EVIDENCE_SET)
        ),
        rules=rules,
        plan=FastPlan(name, fields, rules),
    )
    _KINDS[name] = kind
    _BY_MODEL[model] = kind
    return kind


def get_kind(name: str | RecordKind) -> RecordKind:
    """The registered kind ``name``; ``InputError`` (``input.unknown_kind``) if none."""
    if isinstance(name, RecordKind):
        return name
    kind = _KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        shown = name[:64] if isinstance(name, str) else type(name).__name__
        raise InputError(f"unknown record kind {shown!r}", code=ErrorCode.INPUT_UNKNOWN_KIND)
    return kind


def kinds() -> tuple[str, ...]:
    """The names of all registered kinds, sorted."""
    return tuple(sorted(_KINDS))


# ------------------------------------------------------------------ conversions


def _kind_label(model: type[BaseModel]) -> str:
    kind = _BY_MODEL.get(model)
    return kind.name if kind is not None else model.__name__


def _record_error(kind: str, field: str, reason: str) -> InputError:
    return InputError(
        f"{kind} record: field {field!r} {reason}",
        code=ErrorCode.INPUT_RECORD,
        kind=kind,
        field=field,
        reason=reason,
    )


def _validation_error(kind: str, exc: ValidationError) -> InputError:
    """The first pydantic error as an InputError (type and location only, no input)."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = first["loc"]
    field = str(loc[0])[:64] if loc else "?"
    return _record_error(kind, field, pydantic_reason(first, item=len(loc) > 1))


def _model_validate(kind: RecordKind, data: dict[str, object]) -> BaseModel:
    try:
        model = kind.model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(kind.name, exc) from exc
    kind.plan.check(model_to_value(model, kind.fields))
    return model


def to_canonical(model: BaseModel) -> dict[str, object]:
    """The canonical value of a record model of a registered kind (validated).

    What :func:`~swapproto.manifest_file.build_manifest` takes. Raises
    :class:`~swapproto.errors.InputError` (``input.invalid_record``, naming the field;
    ``input.unknown_kind`` for an unregistered kind).
    """
    kind = _BY_MODEL.get(type(model))
    if kind is None:
        raise TypeError(f"{type(model).__name__} is not the model of a registered kind")
    try:
        value = model_to_value(model, kind.fields)
    except (AttributeError, TypeError):  # a model built with model_construct()
        raise InputError(
            f"{kind.name} record holds values of the wrong types", code=ErrorCode.INPUT_RECORD
        ) from None
    kind.plan.check(value)
    return value


def from_canonical(kind: str | RecordKind, value: object) -> BaseModel:
    """The model of a canonical value, which must be canonical exactly.

    Raises :class:`~swapproto.errors.InputError` (``input.invalid_record``, naming the
    field; ``input.unknown_kind`` for an unregistered kind).
    """
    record_kind = get_kind(kind)
    record_kind.plan.check(value)
    return _model_validate(record_kind, value_to_model_input(value))  # type: ignore[arg-type]


def validate_canonical(kind: str | RecordKind, value: object) -> None:
    """Check a canonical value without building a model; raise ``InputError``."""
    get_kind(kind).plan.check(value)


def canonical_from_row(kind: str | RecordKind, row: Mapping[str, object]) -> dict[str, object]:
    """Normalise and validate one CSV / JSON Lines row of text cells (fast path).

    Returns the canonical value (what :func:`~swapproto.manifest_file.build_manifest`
    takes). Raises :class:`~swapproto.errors.InputError` (``input.invalid_record``, naming the
    field; ``input.unknown_kind`` for an unregistered kind); ``TypeError`` if ``row``
    is not a mapping.
    """
    if not isinstance(row, Mapping):
        raise TypeError(f"row must be a mapping of column names to cells, not {type(row).__name__}")
    return get_kind(kind).plan.from_row(row)


def from_row(kind: str | RecordKind, row: Mapping[str, object]) -> BaseModel:
    """The model of one row of text cells (model path; agrees with the fast path).

    Raises :class:`~swapproto.errors.InputError` (``input.invalid_record``, naming the
    field; ``input.unknown_kind`` for an unregistered kind).
    """
    record_kind = get_kind(kind)
    try:
        data = row_to_model_input(row, record_kind.fields)
    except ColumnError as exc:
        raise _record_error(record_kind.name, exc.column, exc.reason) from None
    return _model_validate(record_kind, data)


def canonical_to_row(kind: str | RecordKind, value: Mapping[str, object]) -> dict[str, str]:
    """A canonical value as a row of text cells (every field; empty when absent)."""
    record_kind = get_kind(kind)
    plain = dict(value)
    record_kind.plan.check(plain)
    return value_to_row(plain, record_kind.fields)


# ------------------------------------------------------------------ manifest helpers


def _fold(text: str) -> str:
    if text.isascii():
        return " ".join(text.casefold().split())
    folded = unicodedata.normalize("NFD", text).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())


def identity_key(kind: str | RecordKind, value: Mapping[str, object]) -> tuple[str, ...] | None:
    """The duplicate-detection key of a canonical value, or None if it has none.

    For kinds with identity fields: casefolded, space-collapsed NFC names and the date
    of birth; None when one of them is absent (for example unidentified remains).
    """
    return identity_from(value, get_kind(kind).identity_fields)


def identity_from(
    value: Mapping[str, object], fields: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """:func:`identity_key` given the kind's identity fields (no registry lookup)."""
    if fields is None:
        return None
    items = list(map(value.get, fields))
    if list(map(type, items)).count(str) != len(items):
        for item in items:
            if not isinstance(item, str):
                return None
    return tuple(map(_fold, items))  # type: ignore[arg-type]


def identity_text(value: Mapping[str, object], fields: tuple[str, ...] | None) -> str | None:
    """A text equal for two values exactly when their :func:`identity_key` are equal.

    The parts of the key in NFD instead of NFC (canonically equivalent texts are equal
    in either form; NFD is the faster to compute), joined by NUL. None when the key is.
    """
    if fields is None:
        return None
    items = list(map(value.get, fields))
    if list(map(type, items)).count(str) != len(items):
        for item in items:
            if not isinstance(item, str):
                return None
    return "\x00".join(map(_fold_nfd, items))  # type: ignore[arg-type]


def _fold_nfd(text: str) -> str:
    """``unicodedata.normalize("NFD", _fold(text))``, computed without NFC."""
    if text.isascii():
        return " ".join(text.casefold().split())
    folded = unicodedata.normalize("NFD", text).casefold()
    return " ".join(unicodedata.normalize("NFD", folded).split())


def record_id(kind: str | RecordKind, value: Mapping[str, object]) -> str:
    """The value of the kind's id field (unique within one list)."""
    record_kind = get_kind(kind)
    return id_from(value, record_kind.name, record_kind.id_field)


def id_from(value: Mapping[str, object], kind: str, id_field: str) -> str:
    """:func:`record_id` given the kind's name and id field (no registry lookup)."""
    item = value.get(id_field)
    if not isinstance(item, str):
        raise _record_error(kind, id_field, "is missing")
    return item


def check_not_future(kind: str | RecordKind, value: Mapping[str, object], *, today: date) -> None:
    """Refuse dates after ``today`` in a canonical value (the core reads no clock).

    Raises :class:`~swapproto.errors.InputError` (``input.invalid_record``).
    """
    record_kind = get_kind(kind)
    limit = today.isoformat()
    for spec in record_kind.fields:
        item = value.get(spec.name)
        if spec.type is FieldType.DATE and isinstance(item, str) and item > limit:
            raise _record_error(record_kind.name, spec.name, "is in the future")


BUILTIN_KINDS: Final = frozenset({"prisoner", "remains", "child_case", "medical_case"})
"""The kinds registered when this module is imported (and so in any fresh process)."""


def is_builtin_kind(name: str) -> bool:
    """Whether ``name`` is one of :data:`BUILTIN_KINDS` (a worker process knows it)."""
    return name in BUILTIN_KINDS


def _register_builtins() -> None:
    register_kind("prisoner", Prisoner, id_field="person_id")
    register_kind("remains", Remains, id_field="remains_id")
    register_kind("child_case", ChildCase, id_field="case_id")
    register_kind("medical_case", MedicalCase, id_field="person_ref")


_register_builtins()
