"""Conversions between models, canonical values and rows; the fast paths of a kind.

:class:`FastPlan` is compiled once per kind from its :class:`FieldSpec` table and the
check functions of :mod:`swapproto._recordspec` (the same ones the pydantic annotations
call). It turns rows into canonical values and checks canonical values without building
pydantic models: the path a million-entry manifest takes. Spec: ``spec/records.md``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Final

from pydantic import BaseModel

from swapproto._recordspec import (
    FORBIDDEN,
    LIST_SEPARATOR,
    ColumnError,
    Evidence,
    FieldError,
    FieldSpec,
    FieldType,
    check_date,
    check_evidence,
    check_int,
    check_text,
    clean_text,
    evidence_key,
    parse_bool,
    parse_evidence,
    parse_int,
    split_list,
)
from swapproto.errors import ErrorCode, InputError

__all__ = [
    "FastPlan",
    "RowsConverter",
    "Rule",
    "model_to_value",
    "row_to_model_input",
    "value_to_model_input",
    "value_to_row",
]

Rule = Callable[[Mapping[str, Any]], "tuple[str, str] | None"]
"""A cross-field rule on a canonical value: ``(field, reason)`` of a violation, or None."""

FORBIDDEN_REASON: Final = "contains a control, formatting or bidirectional character"
_LISTS: Final = (FieldType.CHOICE_SET, FieldType.EVIDENCE_SET)

# ---------------------------------------------------------------------------- model path


def model_to_value(model: BaseModel, specs: tuple[FieldSpec, ...]) -> dict[str, object]:
    """The canonical value of a validated model (absent and empty fields omitted)."""
    out: dict[str, object] = {}
    for spec in specs:
        value = getattr(model, spec.name)
        if value is None or value == ():
            continue
        if spec.type is FieldType.DATE:
            out[spec.name] = value.isoformat()
        elif spec.type is FieldType.CHOICE_SET:
            out[spec.name] = list(value)
        elif spec.type is FieldType.EVIDENCE_SET:
            out[spec.name] = [item.to_canonical() for item in value]
        else:
            out[spec.name] = value
    return out


def value_to_model_input(value: Mapping[str, object]) -> dict[str, object]:
    """A validated canonical value as pydantic input (lists become tuples)."""
    return {name: tuple(item) if isinstance(item, list) else item for name, item in value.items()}


def _cell_to_input(spec: FieldSpec, cell: str) -> object:
    """One cell as pydantic input; None when the cell means "absent"."""
    kind = spec.type
    if kind in _LISTS:
        return split_list(cell) or None
    cell = cell.strip()
    if not cell:
        return None
    if kind is FieldType.INT:
        return parse_int(cell, spec.minimum, spec.maximum)
    if kind is FieldType.BOOL:
        return parse_bool(cell)
    return cell


def row_to_model_input(
    row: Mapping[Any, object], specs: tuple[FieldSpec, ...]
) -> dict[str, object]:
    """Model-path reading of a row of text cells into pydantic input.

    Cells are stripped; empty and ``None`` cells are left out; list cells are split; int
    and bool cells are parsed; unknown columns are passed on for pydantic to refuse.
    Raises :class:`ColumnError`.
    """
    by_name = {spec.name: spec for spec in specs}
    data: dict[str, object] = {}
    for key, cell in row.items():
        if not isinstance(key, str):
            raise ColumnError("?", "is not a text column or key")
        spec = by_name.get(key)
        if spec is None:
            data[key] = cell  # pydantic refuses it as an extra field
            continue
        if cell is None:
            continue
        if not isinstance(cell, str):
            raise ColumnError(key, "must be a text cell")
        if FORBIDDEN.search(cell):
            raise ColumnError(key, FORBIDDEN_REASON)
        try:
            value = _cell_to_input(spec, cell)
        except FieldError as exc:
            raise ColumnError(key, exc.reason) from None
        if value is not None:
            data[key] = value
    return data


def value_to_row(value: Mapping[str, object], specs: tuple[FieldSpec, ...]) -> dict[str, str]:
    """A validated canonical value as a row of text cells (every field; empty if absent)."""
    row: dict[str, str] = {}
    for spec in specs:
        item: Any = value.get(spec.name)
        if item is None:
            row[spec.name] = ""
        elif spec.type is FieldType.CHOICE_SET:
            row[spec.name] = LIST_SEPARATOR.join(item)
        elif spec.type is FieldType.EVIDENCE_SET:
            texts = (Evidence.model_validate(ev).to_text() for ev in item)
            row[spec.name] = LIST_SEPARATOR.join(texts)
        elif spec.type is FieldType.BOOL:
            row[spec.name] = "true" if item else "false"
        else:
            row[spec.name] = str(item)
    return row


# ---------------------------------------------------------------------------- row cells

_Convert = Callable[[str], object]
_MEMO_LIMIT: Final = 4096
_Check = Callable[[object], object]


def _choice_converter(choices: frozenset[str]) -> _Convert:
    def convert(cell: str) -> object:
        if cell not in choices:
            raise FieldError("is not in the vocabulary")
        return cell

    return convert


def _choice_set_converter(choices: frozenset[str], max_items: int) -> _Convert:
    # A vocabulary allows few distinct cells: remember the valid ones (bounded).
    seen: dict[str, tuple[str, ...]] = {}

    def convert(cell: str) -> object:
        items = seen.get(cell)
        if items is None:
            unique = set(split_list(cell))
            if not unique.issubset(choices):
                raise FieldError("has an item that is not in the vocabulary")
            if len(unique) > max_items:
                raise FieldError(f"has more than {max_items} items")
            items = tuple(sorted(unique))
            if len(seen) < _MEMO_LIMIT:
                seen[cell] = items
        return list(items) if items else None

    return convert


def _evidence_set_converter(max_items: int) -> _Convert:
    def convert(cell: str) -> object:
        items = {evidence_key(item): item for item in map(parse_evidence, split_list(cell))}
        if len(items) > max_items:
            raise FieldError(f"has more than {max_items} items")
        return [items[key] for key in sorted(items)] or None

    return convert


def _row_converter(spec: FieldSpec) -> _Convert:
    """Converter of a stripped, non-empty cell; None means absent."""
    kind = spec.type
    if kind is FieldType.DATE:
        return check_date
    if kind is FieldType.CHOICE:
        return _choice_converter(frozenset(spec.choices))
    if kind is FieldType.CHOICE_SET:
        return _choice_set_converter(frozenset(spec.choices), spec.max_items)
    if kind is FieldType.EVIDENCE_SET:
        return _evidence_set_converter(spec.max_items)
    if kind is FieldType.INT:
        return lambda cell: parse_int(cell, spec.minimum, spec.maximum)
    if kind is FieldType.BOOL:
        return parse_bool
    return lambda cell: clean_text(cell, spec.max_length, spec.pattern)


# ---------------------------------------------------------------------------- canonical values


def _check_list(value: object, max_items: int) -> list[Any] | tuple[Any, ...]:
    if type(value) is not list and type(value) is not tuple:
        raise FieldError("must be a list")
    if not value:
        raise FieldError("is empty (an empty list must be omitted)")
    if len(value) > max_items:
        raise FieldError(f"has more than {max_items} items")
    return value


def _choice_set_checker(choices: frozenset[str], max_items: int) -> _Check:
    def check(value: object) -> object:
        previous = ""
        for item in _check_list(value, max_items):
            if type(item) is not str or item not in choices:
                raise FieldError("has an item that is not in the vocabulary")
            if item <= previous:
                raise FieldError("is not sorted and free of duplicates")
            previous = item
        return value

    return check


def _evidence_set_checker(max_items: int) -> _Check:
    def check(value: object) -> object:
        previous: tuple[str, str, bytes] | None = None
        for item in _check_list(value, max_items):
            key = evidence_key(check_evidence(item))
            if previous is not None and key <= previous:
                raise FieldError("is not sorted and free of duplicates")
            previous = key
        return value

    return check


def _check_bool(value: object) -> object:
    if type(value) is not bool:
        raise FieldError("must be a boolean")
    return value


def _choice_checker(choices: frozenset[str]) -> _Check:
    def check(value: object) -> object:
        if type(value) is not str or value not in choices:
            raise FieldError("is not in the vocabulary")
        return value

    return check


def _canonical_checker(spec: FieldSpec) -> _Check:
    kind = spec.type
    if kind is FieldType.DATE:
        return check_date
    if kind is FieldType.CHOICE:
        return _choice_checker(frozenset(spec.choices))
    if kind is FieldType.CHOICE_SET:
        return _choice_set_checker(frozenset(spec.choices), spec.max_items)
    if kind is FieldType.EVIDENCE_SET:
        return _evidence_set_checker(spec.max_items)
    if kind is FieldType.INT:
        return lambda value: check_int(value, spec.minimum, spec.maximum)
    if kind is FieldType.BOOL:
        return _check_bool
    return lambda value: check_text(value, spec.max_length, spec.pattern)


# ---------------------------------------------------------------------------- the plan


class FastPlan:
    """The compiled fast paths of one kind: row -> canonical value, canonical check.

    Neither builds a pydantic model. Text fields, the hot case, are handled in their own
    loop with the cheap checks inline; the forbidden-character and NFC checks run once
    per record on the joined texts, and only a failure falls back to per-field checks.
    """

    __slots__ = ("_kind", "_lists", "_names", "_others", "_patterns", "_rules", "_texts")

    def __init__(self, kind: str, specs: tuple[FieldSpec, ...], rules: tuple[Rule, ...]) -> None:
        self._kind = kind
        self._rules = rules
        self._names = frozenset(spec.name for spec in specs)
        self._lists = frozenset(spec.name for spec in specs if spec.type in _LISTS)
        texts = [spec for spec in specs if spec.type is FieldType.TEXT]
        self._texts = tuple((spec.name, spec.max_length, spec.required) for spec in texts)
        self._patterns = tuple(
            (spec.name, spec.pattern) for spec in texts if spec.pattern is not None
        )
        self._others = tuple(
            (spec.name, _row_converter(spec), _canonical_checker(spec), spec.required)
            for spec in specs
            if spec.type is not FieldType.TEXT
        )

    def error(self, field: str, reason: str) -> InputError:
        """The :class:`InputError` for one field of this kind (the value is never shown)."""
        return InputError(
            f"{self._kind} record: field {field!r} {reason}",
            code=ErrorCode.INPUT_RECORD,
            kind=self._kind,
            field=field,
            reason=reason,
        )

    def _unknown_field(self, keys: Iterable[object]) -> InputError:
        for key in keys:
            if type(key) is not str:
                return self.error("?", "is not a text column or key")
            if key not in self._names:
                return self.error(key[:64], "is not a field of this kind")
        raise AssertionError("no unknown field")  # pragma: no cover

    def apply_rules(self, value: Mapping[str, Any]) -> None:
        """Run the kind's cross-field rules; raise InputError on the first violation."""
        for rule in self._rules:
            violation = rule(value)
            if violation is not None:
                raise self.error(*violation)

    def _check_patterns(self, value: Mapping[str, Any]) -> None:
        for name, pattern in self._patterns:
            if name in value and not pattern.fullmatch(value[name]):
                raise self.error(name, f"does not match {pattern.pattern}")

    # ------------------------------------------------------------------ rows

    def from_row(self, row: Mapping[Any, Any]) -> dict[str, object]:
        """Normalise and validate a row of text cells into a canonical value.

        The value's keys are in canonical (sorted) order, so the encoder packs it as is.
        """
        try:
            joined: str = "".join(row.values())
        except TypeError:
            return self._from_irregular_row(row)
        # every forbidden code point is non-printable: isprintable() is a fast prefilter
        if not joined.isprintable() and FORBIDDEN.search(joined):
            raise self._forbidden_cell(row)
        normalise = not joined.isascii()
        out: dict[str, object] = {}
        seen = 0
        name = ""
        try:
            for name, max_length, required in self._texts:
                cell = row.get(name)
                if cell is not None:
                    seen += 1
                    if value := cell.strip():
                        if normalise and not value.isascii():
                            value = unicodedata.normalize("NFC", value)
                        if len(value) > max_length:
                            raise FieldError(f"is longer than {max_length} characters")
                        out[name] = value
                        continue
                if required:
                    raise FieldError("is missing")
            for name, convert, _, required in self._others:
                cell = row.get(name)
                if cell is not None:
                    seen += 1
                    if (value := cell.strip()) and (value := convert(value)) is not None:
                        out[name] = value
                        continue
                if required:
                    raise FieldError("is missing")
        except FieldError as exc:
            raise self.error(name, exc.reason) from None
        if seen != len(row):
            raise self._unknown_field(row)
        self._check_patterns(out)
        self.apply_rules(out)
        return dict(sorted(out.items()))

    def rows_converter(self, names: Sequence[str], *, max_cell: int) -> RowsConverter | None:
        """A converter of batches of rows given as lists of cells under the header ``names``.

        None when no row under this header can be valid (a column that is not a field, a
        required field without a column): convert such rows one by one with
        :meth:`from_row`, which says why.
        """
        if len(set(names)) != len(names) or self.header_problem(names) is not None:
            return None
        return RowsConverter(self, names, max_cell)

    def header_problem(self, names: Sequence[str]) -> str | None:
        """Why no row under the header ``names`` can be valid (a column that is not a
        field, a required field without a column), or None. Names a column, never a value."""
        unknown = [name for name in names if name not in self._names]
        if unknown:
            return f"column {unknown[0][:64]!r} is not a field of {self._kind}"
        required = [name for name, _, req in self._texts if req]
        required += [name for name, _, _, req in self._others if req]
        columns = set(names)
        missing = [name for name in required if name not in columns]
        if missing:
            return f"the required column {missing[0]!r} of {self._kind} is missing"
        return None

    def _from_irregular_row(self, row: Mapping[Any, Any]) -> dict[str, object]:
        """Rows with ``None`` cells (absent) or non-text cells (rejected)."""
        for key, cell in row.items():
            if cell is not None and type(cell) is not str:
                raise self.error(key[:64] if isinstance(key, str) else "?", "must be a text cell")
            if key not in self._names:
                raise self._unknown_field((key,))
        return self.from_row({key: cell for key, cell in row.items() if cell is not None})

    def _forbidden_cell(self, row: Mapping[Any, str]) -> InputError:
        for key, cell in row.items():
            if FORBIDDEN.search(cell):
                return self.error(key[:64] if isinstance(key, str) else "?", FORBIDDEN_REASON)
        raise AssertionError("no forbidden character")  # pragma: no cover

    # ------------------------------------------------------------------ canonical values

    def check(self, value: object) -> None:
        """Validate a canonical value strictly (exact types, NFC, order); raise InputError."""
        if type(value) is not dict:
            raise InputError(
                f"{self._kind} record must be a map", code=ErrorCode.INPUT_RECORD, kind=self._kind
            )
        texts: list[str] = []
        seen = 0
        name = ""
        try:
            for name, max_length, required in self._texts:
                item = value.get(name)
                if item is None:
                    if required:
                        raise FieldError("is missing")
                    continue
                if (
                    type(item) is not str
                    or not item
                    or len(item) > max_length
                    or item.strip() is not item
                ):
                    check_text(item, max_length)
                texts.append(item)
            for name, _, check, required in self._others:
                item = value.get(name)
                if item is None:
                    if required:
                        raise FieldError("is missing")
                    continue
                seen += 1
                check(item)
        except FieldError as exc:
            raise self.error(name, exc.reason) from None
        if seen + len(texts) != len(value):
            self._unexpected_key(value)
        joined = "".join(texts)
        if not joined.isprintable() and FORBIDDEN.search(joined):
            self._check_texts_fully(value)
        if not joined.isascii():
            for item in texts:
                if not item.isascii() and not unicodedata.is_normalized("NFC", item):
                    self._check_texts_fully(value)
        self._check_patterns(value)
        self.apply_rules(value)

    def _check_texts_fully(self, value: dict[str, Any]) -> None:
        for name, max_length, _ in self._texts:
            if name in value:
                try:
                    check_text(value[name], max_length)
                except FieldError as exc:
                    raise self.error(name, exc.reason) from None

    def _unexpected_key(self, value: dict[Any, Any]) -> None:
        for key, item in value.items():
            if item is None and key in self._names:
                raise self.error(key, "is None (an absent field must be omitted)")
        raise self._unknown_field(value)


_nfc: Final = partial(unicodedata.normalize, "NFC")
_COLUMN_MEMO_LIMIT: Final = 1 << 16
_strip: Final = str.strip


class RowsConverter:
    """:meth:`FastPlan.from_row` for a batch of rows at once, column by column.

    It accepts a batch only when every row is plainly valid, and then returns exactly
    what :meth:`FastPlan.from_row` returns for each row (keys in canonical order). Any
    doubt (a forbidden character, a cell over ``max_cell``, a missing or invalid value,
    a rule) returns None: the caller converts that batch row by row, which finds the
    error and its reason. Built by :meth:`FastPlan.rows_converter`.
    """

    __slots__ = (
        "_keys",
        "_known",
        "_max_cell",
        "_order",
        "_others",
        "_patterns",
        "_plan",
        "_texts",
    )

    def __init__(self, plan: FastPlan, names: Sequence[str], max_cell: int) -> None:
        column = {name: i for i, name in enumerate(names)}
        self._plan = plan
        self._max_cell = max_cell
        self._texts = tuple(
            (column[name], max_length, required)
            for name, max_length, required in plan._texts
            if name in column
        )
        self._patterns = tuple(
            (column[name], pattern) for name, pattern in plan._patterns if name in column
        )
        self._others = tuple(
            (column[name], convert, name in plan._lists, required)
            for name, convert, _, required in plan._others
            if name in column
        )
        self._keys = tuple(sorted(names))
        self._order = tuple(column[name] for name in self._keys)
        # per column, the converted values of cells seen before (bounded): a million
        # records hold few distinct dates or vocabulary words
        self._known: list[dict[str, object]] = [{} for _ in names]

    def __call__(self, rows: Sequence[Sequence[str]]) -> list[dict[str, object]] | None:
        """The canonical values of ``rows`` (each with one cell per column), or None."""
        if not rows:
            return []
        cells = list(zip(*rows, strict=True))
        plain: list[bool] = []
        for column in cells:
            joined = "".join(column)
            if len(joined) > self._max_cell and max(map(len, column)) > self._max_cell:
                return None
            # every forbidden code point is non-printable: isprintable() is a prefilter
            if not joined.isprintable() and FORBIDDEN.search(joined):
                return None
            plain.append(joined.isascii())
        values: list[list[Any]] = [[] for _ in cells]
        absent = False
        for i, max_length, required in self._texts:
            texts = list(map(_strip, cells[i]))
            if not plain[i]:
                texts = list(map(_nfc, texts))
            if max(map(len, texts)) > max_length:
                return None
            if not all(texts):
                if required:
                    return None
                values[i] = [text or None for text in texts]
                absent = True
            else:
                values[i] = texts
        for i, pattern in self._patterns:
            if not all(pattern.fullmatch(text) for text in set(values[i]) if text is not None):
                return None
        for i, convert, is_list, required in self._others:
            converted = self._convert(cells[i], convert, is_list, self._known[i])
            if converted is None or (required and None in converted):
                return None
            absent = absent or None in converted
            values[i] = converted
        return self._records([values[i] for i in self._order], absent)

    @staticmethod
    def _convert(
        column: Sequence[str], convert: _Convert, is_list: bool, known: dict[str, object]
    ) -> list[Any] | None:
        """Converted cells (None where empty or converted to None), or None if one is invalid.

        Scalar converters are pure and never return None, so their results are reused.
        """
        texts = list(map(_strip, column))
        try:
            if is_list:  # a fresh list per record, as from_row makes
                return [convert(text) if text else None for text in texts]
            new = set(texts).difference(known)
            if len(known) + len(new) > _COLUMN_MEMO_LIMIT:
                known.clear()
                new = set(texts)
            new.discard("")
            known.update({text: convert(text) for text in new})
        except FieldError:
            return None
        return list(map(known.get, texts))

    def _records(self, columns: list[list[Any]], absent: bool) -> list[dict[str, object]] | None:
        keys = self._keys
        if absent:
            out = [
                {key: value for key, value in zip(keys, row, strict=False) if value is not None}
                for row in zip(*columns, strict=True)
            ]
        else:
            out = [dict(zip(keys, row, strict=False)) for row in zip(*columns, strict=True)]
        if self._plan._rules:
            try:
                for value in out:
                    self._plan.apply_rules(value)
            except InputError:
                return None
        return out
