"""Field specifications of record kinds: one table drives both validation paths.

A record kind is declared once, as a pydantic model whose fields use the annotations
below (:class:`TextSpec`, :class:`DateSpec`, :class:`SetOf`, ``Literal``, ``bool``,
``int``, :class:`Evidence`). :func:`compile_fields` reads the model and derives a
:class:`FieldSpec` per field; the fast paths (:mod:`swapproto._recordplan`) are built
from those specs and from the *same* check functions the pydantic annotations call, so
the model path and the fast path cannot drift apart. Spec: ``spec/records.md``.
"""

from __future__ import annotations

import re
import types
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    ValidationError,
    model_validator,
)
from pydantic_core import CoreSchema, ErrorDetails, PydanticCustomError, core_schema

from swapproto.errors import ErrorCode, InputError

__all__ = [
    "DIGEST_ALGORITHMS",
    "EVIDENCE_PURPOSES",
    "FORBIDDEN",
    "FORBIDDEN_RANGES",
    "LIST_SEPARATOR",
    "MIN_DATE",
    "ColumnError",
    "DateSpec",
    "Evidence",
    "FieldError",
    "FieldSpec",
    "FieldType",
    "SetOf",
    "TextSpec",
    "check_date",
    "check_evidence",
    "check_int",
    "check_text",
    "clean_text",
    "compile_fields",
    "evidence_key",
    "parse_bool",
    "parse_date",
    "parse_evidence",
    "parse_int",
    "split_list",
]

MIN_DATE: Final = date(1900, 1, 1)
_MIN_DATE_ISO: Final = "1900-01-01"
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
LIST_SEPARATOR: Final = ";"

# Code points no text field may contain (spec/records.md, "Text"): C0 and C1 controls,
# DEL, invisible formatting characters, bidirectional controls, line and paragraph
# separators, the byte order mark, noncharacters U+FFFE/U+FFFF, surrogates, tag
# characters. ZWNJ/ZWJ (U+200C/U+200D) are allowed: Persian and Indic names need them.
FORBIDDEN_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xFFFE, 0xFFFF),
    (0xE0000, 0xE007F),
)
FORBIDDEN: Final = re.compile(
    "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in FORBIDDEN_RANGES) + "]"
)
_HEX: Final = re.compile("[0-9a-fA-F]+")
_DECIMAL: Final = re.compile("0|-?[1-9][0-9]*")

DigestAlgorithm = Literal["sha256", "sha3-256", "sha512"]
DIGEST_ALGORITHMS: Final[Mapping[str, int]] = types.MappingProxyType(
    {"sha256": 32, "sha3-256": 32, "sha512": 64}
)
"""Digest algorithms an evidence item may name, with their digest sizes in bytes."""
EvidencePurpose = Literal[
    "anthropology_report",
    "autopsy_report",
    "dental_record",
    "dna_profile",
    "document_scan",
    "fingerprints",
    "personal_effects_photo",
    "photo",
    "tag_photo",
]
EVIDENCE_PURPOSES: Final[tuple[str, ...]] = get_args(EvidencePurpose)


class FieldError(ValueError):
    """One field value is invalid; ``reason`` completes "field X ...". Never the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ColumnError(FieldError):
    """A :class:`FieldError` that knows its column."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column[:64]


# ---------------------------------------------------------------------------- text


def has_forbidden(text: str) -> bool:
    """Whether ``text`` contains a forbidden code point."""
    return FORBIDDEN.search(text) is not None


def clean_text(raw: str, max_length: int, pattern: re.Pattern[str] | None = None) -> str:
    """Edge normalisation of one text value: the only transformation the library makes.

    Rejects forbidden code points anywhere, removes leading and trailing white space,
    applies NFC, rejects the empty string, strings over ``max_length`` code points and
    strings ``pattern`` does not match in full.
    """
    if FORBIDDEN.search(raw):
        raise FieldError("contains a control, formatting or bidirectional character")
    value = raw.strip()
    if not value:
        raise FieldError("is empty")
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if len(value) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise FieldError(f"does not match {pattern.pattern}")
    return value


def check_text(value: object, max_length: int, pattern: re.Pattern[str] | None = None) -> str:
    """Canonical text check (no transformation): the output of :func:`clean_text`."""
    if type(value) is not str:
        raise FieldError("must be a string")
    if not value:
        raise FieldError("is empty")
    if len(value) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if FORBIDDEN.search(value):
        raise FieldError("contains a control, formatting or bidirectional character")
    if value[0].isspace() or value[-1].isspace():
        raise FieldError("has leading or trailing white space")
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        raise FieldError("is not in Unicode NFC")
    if pattern is not None and not pattern.fullmatch(value):
        raise FieldError(f"does not match {pattern.pattern}")
    return value


# ---------------------------------------------------------------------------- dates


def parse_date(text: str) -> date:
    """Parse exactly ``YYYY-MM-DD`` (ASCII digits, a real calendar day, >= 1900-01-01)."""
    if len(text) != 10 or not text.isascii() or text[4] != "-" or text[7] != "-":
        raise FieldError("is not a date in YYYY-MM-DD form")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        # not chained: the cause's message repeats the (personal) value
        raise FieldError("is not a valid calendar date") from None
    if parsed.isoformat() != text:
        raise FieldError("is not a date in YYYY-MM-DD form")
    if text < _MIN_DATE_ISO:
        raise FieldError("is before 1900-01-01")
    return parsed


_VALID_DATES: dict[str, None] = {}
_VALID_DATES_LIMIT: Final = 1 << 17  # every day from 1900 to 2258; about 10 MB at most


def check_date(value: object) -> str:
    """Canonical date check: an ISO 8601 ``YYYY-MM-DD`` string.

    Valid dates are remembered (up to a bound): a million records hold few distinct days.
    """
    if type(value) is not str:
        raise FieldError("must be a YYYY-MM-DD string")
    if value not in _VALID_DATES:
        parse_date(value)
        if len(_VALID_DATES) < _VALID_DATES_LIMIT:
            _VALID_DATES[value] = None
    return value


# ---------------------------------------------------------------------------- integers


def parse_int(text: str, minimum: int, maximum: int) -> int:
    """Parse a decimal integer cell in its one canonical spelling (no ``+``, no 0-padding)."""
    if len(text) > 21 or not _DECIMAL.fullmatch(text):
        raise FieldError("is not a decimal integer")
    return check_int(int(text), minimum, maximum)


def check_int(value: object, minimum: int, maximum: int) -> int:
    """Canonical integer check: an ``int`` (never a ``bool``) within bounds."""
    if type(value) is not int:
        raise FieldError("must be an integer")
    if not minimum <= value <= maximum:
        raise FieldError(f"is outside {minimum}..{maximum}")
    return value


def parse_bool(text: str) -> bool:
    """Parse a boolean cell: exactly ``true`` or ``false``."""
    if text == "true":
        return True
    if text == "false":
        return False
    raise FieldError("must be true or false")


def split_list(cell: str) -> list[str]:
    """Split a list cell on ``;``; items are stripped, empty items dropped."""
    return [item for item in (part.strip() for part in cell.split(LIST_SEPARATOR)) if item]


# ---------------------------------------------------------------------------- evidence


def evidence_key(item: dict[str, Any]) -> tuple[str, str, bytes]:
    """Canonical order of evidence items: purpose (absent first), algorithm, digest."""
    return (item.get("purpose", ""), item["alg"], item["digest"])


def parse_evidence(text: str) -> dict[str, Any]:
    """Parse ``[purpose=]alg:hex`` into a canonical evidence map."""
    purpose, sep, rest = text.partition("=")
    if not sep:
        purpose, rest = "", text
    alg, sep, hexdigits = rest.partition(":")
    if not sep:
        raise FieldError("item is not of the form [purpose=]alg:hex")
    if not _HEX.fullmatch(hexdigits) or len(hexdigits) % 2:
        raise FieldError("item digest is not hexadecimal")
    item: dict[str, Any] = {"alg": alg, "digest": bytes.fromhex(hexdigits)}
    if purpose:
        item["purpose"] = purpose
    check_evidence(item)
    return item


def check_evidence(item: object) -> dict[str, Any]:
    """Canonical evidence item check: ``{"alg", "digest"[, "purpose"]}``."""
    if type(item) is not dict:
        raise FieldError("item must be a map")
    alg = item.get("alg")
    digest = item.get("digest")
    if type(alg) is not str or alg not in DIGEST_ALGORITHMS:
        raise FieldError("item names no known digest algorithm")
    if type(digest) is not bytes or len(digest) != DIGEST_ALGORITHMS[alg]:
        raise FieldError(f"item digest must be {DIGEST_ALGORITHMS[alg]} bytes")
    size = 2
    if "purpose" in item:
        size = 3
        if type(item["purpose"]) is not str or item["purpose"] not in EVIDENCE_PURPOSES:
            raise FieldError("item purpose is not in the vocabulary")
    if len(item) != size:
        raise FieldError("item has fields other than alg, digest, purpose")
    return item


_PYDANTIC_REASONS: Final = {
    "missing": "is missing",
    "extra_forbidden": "is not a field of this kind",
    "literal_error": "is not in the vocabulary",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be a boolean",
    "bytes_type": "must be bytes",
    "tuple_type": "must be a list",
    "model_type": "must be a map",
    "model_attributes_type": "must be a map",
    "dict_type": "must be a map",
}


def pydantic_reason(error: ErrorDetails, *, item: bool) -> str:
    """Why a field failed, from pydantic's first error (its type, never the input);
    ``item`` for an error inside a list or map field."""
    if error["type"] == "literal_error" and item:
        return "has an item that is not in the vocabulary"
    return _PYDANTIC_REASONS.get(error["type"], error["msg"])


def _evidence_error(exc: ValidationError) -> InputError:
    # As an item of a record's evidence list (where a record's model re-raises it, naming
    # its kind and field) or built directly.
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(map(str, first["loc"]))[:64]
    direct = pydantic_reason(first, item=False)
    return InputError(
        f"evidence item: {where} {direct}" if where else f"evidence item: {direct}",
        code=ErrorCode.INPUT_RECORD,
        item="evidence",
        reason=pydantic_reason(first, item=True),
    )


class Evidence(BaseModel):
    """A digest of a piece of evidence held elsewhere (a DNA profile, a tag photo, ...).

    Accepts the string form ``[purpose=]alg:hex`` and maps whose ``digest`` is bytes or
    hexadecimal text.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", hide_input_in_errors=True)

    alg: DigestAlgorithm
    digest: bytes
    purpose: EvidencePurpose | None = None

    # Built directly (not as a field of a record, whose model reports its fields), an
    # invalid item is an InputError like every rejection, not pydantic's ValidationError.
    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _evidence_error(exc) from None

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Evidence:
        """Pydantic's ``model_validate``, raising ``InputError`` (``input.invalid_record``)."""
        try:
            return super().model_validate(obj, **options)
        except ValidationError as exc:
            raise _evidence_error(exc) from None

    @model_validator(mode="before")
    @classmethod
    def _parse_edge_forms(cls, data: Any) -> Any:
        try:
            if isinstance(data, str):
                return parse_evidence(data.strip())
            if isinstance(data, dict) and isinstance(data.get("digest"), str):
                hexdigits = data["digest"]
                if not _HEX.fullmatch(hexdigits) or len(hexdigits) % 2:
                    raise FieldError("item digest is not hexadecimal")
                return {**data, "digest": bytes.fromhex(hexdigits)}
        except FieldError as exc:
            raise PydanticCustomError("swapproto_evidence", exc.reason) from None
        return data

    @model_validator(mode="after")
    def _check_size(self) -> Evidence:
        if len(self.digest) != DIGEST_ALGORITHMS[self.alg]:
            raise PydanticCustomError(
                "swapproto_evidence", f"item digest must be {DIGEST_ALGORITHMS[self.alg]} bytes"
            )
        return self

    def to_canonical(self) -> dict[str, Any]:
        """The canonical map of this item."""
        item: dict[str, Any] = {"alg": self.alg, "digest": self.digest}
        if self.purpose is not None:
            item["purpose"] = self.purpose
        return item

    def to_text(self) -> str:
        """The string form ``[purpose=]alg:hex``."""
        prefix = f"{self.purpose}=" if self.purpose else ""
        return f"{prefix}{self.alg}:{self.digest.hex()}"


# ---------------------------------------------------------------------------- annotations


def _custom(exc: FieldError) -> PydanticCustomError:
    return PydanticCustomError("swapproto_field", exc.reason)


@dataclass(frozen=True, slots=True)
class TextSpec:
    """Annotation for a text field: ``Annotated[str, TextSpec(max_length=200)]``.

    ``pattern``, if given, is a regular expression the whole (normalised) text must match.
    """

    max_length: int
    pattern: str | None = None

    def compiled(self) -> re.Pattern[str] | None:
        """The compiled ``pattern``."""
        return None if self.pattern is None else re.compile(self.pattern)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        pattern = self.compiled()

        def validate(value: str) -> str:
            try:
                return clean_text(value, self.max_length, pattern)
            except FieldError as exc:
                raise _custom(exc) from None

        return core_schema.no_info_after_validator_function(validate, handler(source))


@dataclass(frozen=True, slots=True)
class DateSpec:
    """Annotation for a date field: accepts a ``date`` or an exact ``YYYY-MM-DD`` string."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        def validate(value: object) -> date:
            if type(value) is date:
                if value < MIN_DATE:
                    raise _custom(FieldError("is before 1900-01-01"))
                return value
            if isinstance(value, str):
                try:
                    return parse_date(value)
                except FieldError as exc:
                    raise _custom(exc) from None
            raise _custom(FieldError("must be a date or a YYYY-MM-DD string"))

        return core_schema.no_info_plain_validator_function(validate)


@dataclass(frozen=True, slots=True)
class SetOf:
    """Annotation for an order-free list field (``tuple[X, ...]``): sorted, deduplicated.

    Accepts a list, tuple, set or frozenset; the model holds a sorted tuple.
    """

    max_items: int = 64

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        def to_tuple(value: object) -> object:
            if isinstance(value, list | set | frozenset):
                return tuple(value)
            return value

        def canonicalise(value: tuple[Any, ...]) -> tuple[Any, ...]:
            unique = set(value)
            if len(unique) > self.max_items:
                raise _custom(FieldError(f"has more than {self.max_items} items"))
            if unique and isinstance(value[0], Evidence):
                return tuple(sorted(unique, key=lambda ev: evidence_key(ev.to_canonical())))
            return tuple(sorted(unique))

        inner = core_schema.no_info_after_validator_function(canonicalise, handler(source))
        return core_schema.no_info_before_validator_function(to_tuple, inner)


# ---------------------------------------------------------------------------- field specs


class FieldType(Enum):
    """The types a record field can have in a canonical value."""

    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    CHOICE_SET = "choice-set"
    EVIDENCE_SET = "evidence-set"
    INT = "int"
    BOOL = "bool"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One field of a record kind, as the fast validators see it."""

    name: str
    type: FieldType
    required: bool
    max_length: int = 0
    pattern: re.Pattern[str] | None = None
    choices: tuple[str, ...] = ()
    max_items: int = 0
    minimum: int = INT_MIN
    maximum: int = INT_MAX


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip ``X | None`` and ``Annotated``; return (base type, metadata, optional)."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata = [*metadata, *extra]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                raise TypeError(f"unsupported union type {annotation!r}")
            optional = True
            annotation = args[0]
        else:
            return annotation, metadata, optional


def _literal_choices(annotation: Any) -> tuple[str, ...] | None:
    if get_origin(annotation) is not Literal:
        return None
    choices = get_args(annotation)
    if not all(type(choice) is str for choice in choices):
        raise TypeError("Literal fields must have str values")
    return tuple(sorted(choices))


def _int_bounds(metadata: list[Any]) -> tuple[int, int]:
    low, high = INT_MIN, INT_MAX
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = max(low, int(item.ge))  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Gt):
            low = max(low, int(item.gt) + 1)  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Le):
            high = min(high, int(item.le))  # type: ignore[call-overload]
        elif isinstance(item, annotated_types.Lt):
            high = min(high, int(item.lt) - 1)  # type: ignore[call-overload]
    return low, high


def _field_spec(name: str, annotation: Any, metadata: list[Any], required: bool) -> FieldSpec:
    base, metadata, optional = _unwrap(annotation, metadata)
    is_list = get_origin(base) is tuple
    if (optional or required) if is_list else optional == required:
        raise TypeError(
            f"field {name!r}: write required fields as X, optional ones as X | None = None, "
            "list fields as tuple[X, ...] = ()"
        )
    markers = {type(item): item for item in metadata}
    if base is str and TextSpec in markers:
        text: TextSpec = markers[TextSpec]
        return FieldSpec(
            name=name,
            type=FieldType.TEXT,
            required=required,
            max_length=text.max_length,
            pattern=text.compiled(),
        )
    if base is date and DateSpec in markers:
        return FieldSpec(name=name, type=FieldType.DATE, required=required)
    if (choices := _literal_choices(base)) is not None:
        return FieldSpec(name=name, type=FieldType.CHOICE, required=required, choices=choices)
    if base is bool:
        return FieldSpec(name=name, type=FieldType.BOOL, required=required)
    if base is int:
        low, high = _int_bounds(metadata)
        return FieldSpec(
            name=name, type=FieldType.INT, required=required, minimum=low, maximum=high
        )
    args = get_args(base)
    if is_list and SetOf in markers and len(args) == 2 and args[1] is Ellipsis:
        max_items = markers[SetOf].max_items
        if args[0] is Evidence:
            return FieldSpec(
                name=name, type=FieldType.EVIDENCE_SET, required=False, max_items=max_items
            )
        if (choices := _literal_choices(args[0])) is not None:
            return FieldSpec(
                name=name,
                type=FieldType.CHOICE_SET,
                required=False,
                choices=choices,
                max_items=min(max_items, len(choices)),
            )
    raise TypeError(f"field {name!r}: type {annotation!r} has no canonical form")


@cache
def compile_fields(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """Derive the field specs of a record model; ``TypeError`` if it does not qualify."""
    config = model.model_config
    wanted = {"strict": True, "frozen": True, "extra": "forbid", "hide_input_in_errors": True}
    if any(config.get(key) != setting for key, setting in wanted.items()):
        raise TypeError(f"{model.__name__}: model_config must set {wanted}")
    specs = []
    for name, info in model.model_fields.items():
        if info.alias is not None and info.alias != name:
            raise TypeError(f"field {name!r}: aliases are not supported")
        required = info.is_required()
        spec = _field_spec(name, info.annotation, list(info.metadata), required)
        default = None if required else info.get_default(call_default_factory=True)
        if not required and default not in (None, ()):
            raise TypeError(f"field {name!r}: an optional field must default to None or ()")
        specs.append(spec)
    return tuple(specs)
