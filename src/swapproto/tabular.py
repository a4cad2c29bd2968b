"""Importing records from CSV and JSON Lines, with column mapping and row reports.

Rows stream: records are validated and converted to canonical values in small batches
(CSV rows column by column, see :class:`swapproto._recordplan.RowsConverter`) and
yielded one at a time, in order. Bad rows do not stop the reading: every one is
reported with its line number and reason, and :class:`RowReport` raises once at the
end, so a build that consumes the rows fails as a whole and writes nothing
(``spec/records.md`` §5).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TextIO, TypeVar

from swapproto import records
from swapproto._input_files import open_input
from swapproto._recordplan import FastPlan, RowsConverter
from swapproto.errors import ErrorCode, InputError

__all__ = ["RowError", "RowReport", "TableFormat", "iter_records", "parse_mapping"]

MAX_REPORTED: Final = 1000
MAX_FIELD: Final = 64 * 1024
MAX_LINE: Final = 1024 * 1024
"""Longest line, and longest CSV record (which may span lines), in characters: a row of
many full fields fits, and no line is ever held in memory whole beyond it."""
BATCH: Final = 256
"""Rows converted together; records are still yielded one at a time."""


class TableFormat(StrEnum):
    """Input formats."""

    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row."""

    line: int
    reason: str


@dataclass(slots=True)
class RowReport:
    """Collects row errors; :meth:`raise_if_any` turns them into one :class:`InputError`."""

    source: str
    errors: list[RowError] = field(default_factory=list)
    total_errors: int = 0
    rows: int = 0

    def add(self, line: int, reason: str) -> None:
        """Record a bad row (the first ``MAX_REPORTED`` are kept in full)."""
        self.total_errors += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(line, reason))

    def raise_if_any(self) -> None:
        """Raise an :class:`InputError` listing the bad rows, if there were any."""
        if not self.total_errors:
            return
        shown = "; ".join(f"line {e.line}: {e.reason}" for e in self.errors[:5])
        more = f" (and {self.total_errors - 5} more)" if self.total_errors > 5 else ""
        raise InputError(
            f"{self.source}: {self.total_errors} bad row(s): {shown}{more}",
            code=ErrorCode.INPUT_RECORD,
            rows=[{"line": e.line, "reason": e.reason} for e in self.errors],
            total=self.total_errors,
        )


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """Parse ``old=new`` column renames."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(f"column mapping {pair!r} is not of the form old=new")
        if old.strip() in mapping:
            raise InputError(f"column {old.strip()!r} is mapped twice")
        mapping[old.strip()] = new.strip()
    return mapping


Row = dict[str, str] | list[str] | str
"""A row of text cells (by name, or in header order), or why a line is not one."""
_T = TypeVar("_T")


class _BadRowError(Exception):
    """A line that is not a row; ``args[0]`` is the reason (never a cell value)."""


def _rename(header: list[str], mapping: Mapping[str, str]) -> list[str]:
    stripped = [name.strip() for name in header]
    unknown = set(mapping) - set(stripped)
    if unknown:
        raise InputError(f"--map names columns that are not in the file: {sorted(unknown)}")
    renamed = [mapping.get(name, name) for name in stripped]
    duplicated = {n for n in renamed if renamed.count(n) > 1}
    if duplicated:
        raise InputError(f"duplicate column names after mapping: {sorted(duplicated)}")
    return renamed


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _too_long(line: int) -> InputError:
    return InputError(
        f"line {line} is longer than {MAX_LINE:,} characters; reading stopped there",
        code=ErrorCode.INPUT_INVALID,
    )


class _BoundedLines:
    """The lines of a text with their endings, each at most :data:`MAX_LINE` characters,
    and at most that many since :meth:`mark`: a CSV record of many quoted cells that
    span lines is bounded too. An over-long line raises where it starts."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._held = 0
        self._line = 0

    def mark(self) -> None:
        """A record ended: count its successor's characters from zero."""
        self._held = 0

    def __iter__(self) -> Iterator[str]:
        # readline(MAX_LINE + 2) reads a longest line with its CR LF whole, so a cut never
        # falls between CR and LF (which would add a line and shift every later number).
        readline, limit = self._text.readline, MAX_LINE
        while line := readline(limit + 2):
            self._line += 1
            held = self._held + len(line)
            # a record's first line is judged without its ending; later lines with theirs,
            # which are then part of a quoted cell
            if held > limit and (held > len(line) or len(line.rstrip("\r\n")) > limit):
                raise _too_long(self._line)
            self._held = held
            yield line


class _CsvRows:
    """Rows of a CSV text as lists of cells in header order, with the line each *starts*
    on (a quoted cell may span lines). :attr:`names` is set once the header is read."""

    def __init__(self, text: TextIO, mapping: Mapping[str, str]) -> None:
        self._lines = _BoundedLines(text)
        self._reader = csv.reader(self._lines, strict=True)
        self._mapping = mapping
        self.names: list[str] | None = None

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        reader = self._reader
        try:
            header = next(reader, None)
            if header is None:  # an empty list still names its columns; an empty file is a slip
                raise InputError("the file is empty: a CSV list starts with its header line")
            self._lines.mark()
            if _blank(header):
                raise InputError("the first line, the header, is empty")
            self.names = _rename(header, self._mapping)
            width = len(self.names)
            start = reader.line_num + 1
            for row in reader:
                self._lines.mark()
                line, start = start, reader.line_num + 1
                if len(row) < 2 and _blank(row):
                    continue
                if len(row) != width:
                    yield line, f"{len(row)} columns, expected {width}"
                    continue
                yield line, row
        except csv.Error as exc:
            raise InputError(f"CSV syntax error at line {reader.line_num}: {exc}") from exc


class _NotText:
    """What a JSON number or constant parses to: never a cell, never converted.

    Not converting avoids ``int`` parsing limits (``ValueError`` over 4300 digits) and
    ``float`` overflow; every number is refused as a cell anyway.
    """


_NOT_TEXT: Final = _NotText()


def _not_text(_: str) -> _NotText:
    return _NOT_TEXT


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _BadRowError(f"duplicate key {key[:64]!r}")
        obj[key] = value
    return obj


def _load_object(line: str) -> dict[str, Any]:
    try:
        obj = json.loads(
            line,
            object_pairs_hook=_unique_keys,
            parse_int=_not_text,
            parse_float=_not_text,
            parse_constant=_not_text,
        )
    except json.JSONDecodeError as exc:
        raise _BadRowError(f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise _BadRowError("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise _BadRowError("a line must hold one JSON object")
    return obj


def _json_cell(key: str, value: Any, scalar: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if scalar:
        # an array for a text field would be joined into one text with ';' in it
        raise _BadRowError(f"field {key[:64]!r} must be a string")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadRowError(f"field {key[:64]!r} must be a string or a list of strings")
    if any(";" in v for v in value):
        # joined, the item would silently become several items
        raise _BadRowError(f"field {key[:64]!r}: a list item cannot contain ';'")
    return ";".join(value)


def _json_row(
    obj: dict[str, Any], mapping: Mapping[str, str], scalars: frozenset[str]
) -> dict[str, str]:
    row: dict[str, str] = {}
    for key, value in obj.items():
        name = mapping.get(key, key)
        if name in row:
            raise _BadRowError(f"field {name[:64]!r} appears twice after --map")
        row[name] = _json_cell(key, value, name in scalars)
    return row


def _jsonl_rows(
    text: TextIO, mapping: Mapping[str, str], scalars: frozenset[str]
) -> Iterator[tuple[int, Row]]:
    """Rows of a JSON Lines text; ``scalars`` are the fields whose value is one string."""
    used: set[str] = set()
    objects = 0
    lines = _BoundedLines(text)
    for line_no, line in enumerate(lines, start=1):
        lines.mark()
        if not line.strip():
            continue
        row: Row
        try:
            obj = _load_object(line)
            objects += 1
            used.update(mapping.keys() & obj.keys())
            row = _json_row(obj, mapping, scalars)
        except _BadRowError as exc:
            row = str(exc.args[0])
        yield line_no, row
    unused = set(mapping) - used
    if objects and unused:
        raise InputError(f"--map names fields that no line holds: {sorted(unused)}")


def iter_records(
    text: TextIO,
    *,
    kind: str,
    fmt: TableFormat | str = TableFormat.CSV,
    mapping: Mapping[str, str] | None = None,
    report: RowReport,
) -> Iterator[dict[str, Any]]:
    """Yield canonical records of ``kind`` from ``text``; bad rows go to ``report``.

    After the last row, raises :class:`InputError` (``input.invalid_record``) if any row
    was bad, so a consumer that is writing output can discard it. ``fmt`` is a
    :class:`TableFormat` or its value (``"csv"``, ``"jsonl"``; another is an
    ``InputError``, ``input.usage``); ``text`` a text stream (:func:`open_table`,
    ``io.StringIO``) and ``report`` a :class:`RowReport`, else ``TypeError``, raised by
    this call, before any row is read.
    """
    table_format = _table_format(fmt)
    # What the rows are read with; a binary stream is told apart without reading (a read
    # would decode, and a decoding error belongs to the rows, reported with their line).
    binary = isinstance(text, io.BufferedIOBase | io.RawIOBase) or "b" in str(
        getattr(text, "mode", "")
    )
    if isinstance(text, str | bytes) or binary or not callable(getattr(text, "readline", None)):
        raise TypeError(
            f"text must be a text stream such as open_table(path), not {type(text).__name__}"
        )
    if not isinstance(report, RowReport):
        raise TypeError(f"report must be a RowReport, not {type(report).__name__}")
    return _records(text, records.get_kind(kind), table_format, mapping or {}, report)


def _table_format(fmt: object) -> TableFormat:
    if isinstance(fmt, TableFormat):
        return fmt
    if isinstance(fmt, str) and fmt in TableFormat.__members__.values():
        return TableFormat(fmt)
    if isinstance(fmt, str):
        known = ", ".join(f.value for f in TableFormat)
        message = f"unknown table format {fmt[:20]!r}: one of {known}"
        raise InputError(message, code=ErrorCode.INPUT_USAGE)
    raise TypeError(f"fmt must be a TableFormat, not {type(fmt).__name__}")


def _records(
    text: TextIO,
    record_kind: records.RecordKind,
    fmt: TableFormat,
    mapping: Mapping[str, str],
    report: RowReport,
) -> Iterator[dict[str, Any]]:
    plan = record_kind.plan
    csv_rows = _CsvRows(text, mapping) if fmt is TableFormat.CSV else None
    if csv_rows is not None:
        rows: Iterable[tuple[int, Row]] = csv_rows
    else:
        scalars = frozenset(spec.name for spec in record_kind.fields) - record_kind.list_fields
        rows = _jsonl_rows(text, mapping, scalars)
    converter: RowsConverter | None = None
    # Record ids seen so far: a repeated id is a bad row like any other, reported with
    # its line (the manifest builder refuses duplicates too, but knows no lines).
    seen: set[str] = set()
    id_field = record_kind.id_field
    try:
        for batch, error in _batches(rows, BATCH):
            names = csv_rows.names if csv_rows is not None else None
            if converter is None and names is not None:
                converter = plan.rows_converter(names, max_cell=MAX_FIELD)
                if converter is None and (problem := plan.header_problem(names)) is not None:
                    # every row would fail the same way: say it once, for the header
                    report.add(1, f"{problem} (columns are field names; rename with a mapping)")
                    report.raise_if_any()
            for line, record in _convert(batch, plan, names, converter, report):
                rid = record[id_field]
                if rid in seen:
                    # the field, never its value: error texts carry no personal data
                    report.add(line, f"record id ({id_field}) appears on an earlier line")
                    continue
                seen.add(rid)
                yield record
            if error is not None:
                raise error
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{report.source} is not valid UTF-8 (after row {report.rows})",
            code=ErrorCode.INPUT_INVALID,
        ) from exc
    report.raise_if_any()


def _batches(items: Iterable[_T], size: int) -> Iterator[tuple[list[_T], Exception | None]]:
    """Lists of up to ``size`` items; an error the items raise comes with those before it.

    So the rows read before an error are still converted and yielded before it is raised,
    exactly as when rows are converted one at a time.
    """
    iterator = iter(items)
    while True:
        batch: list[_T] = []
        try:
            for item in iterator:
                batch.append(item)
                if len(batch) == size:
                    break
        except Exception as exc:  # re-raised by the caller after this batch
            yield batch, exc
            return
        if batch:
            yield batch, None
        if len(batch) < size:
            return


def _convert(
    batch: list[tuple[int, Row]],
    plan: FastPlan,
    names: list[str] | None,
    converter: RowsConverter | None,
    report: RowReport,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the batch's records with their lines, in order; report its bad rows."""
    rows = [row for _, row in batch if type(row) is list]
    if converter is not None and len(rows) == len(batch):
        values = converter(rows)
        if values is not None:
            for (line, _), value in zip(batch, values, strict=True):
                report.rows += 1
                yield line, value
            return
    for line, row in batch:
        report.rows += 1
        if isinstance(row, str):
            report.add(line, row)
            continue
        if isinstance(row, list):
            row = dict(zip(names or (), row, strict=True))
        if any(len(cell) > MAX_FIELD for cell in row.values()):
            report.add(line, "a field exceeds 64 KiB")
            continue
        try:
            record = plan.from_row(row)
        except InputError as exc:
            report.add(line, str(exc.args[0]))
            continue
        yield line, record


def open_table(path: Path) -> TextIO:
    """Open a UTF-8 table file, with or without a byte order mark."""
    return open_input(path, encoding="utf-8-sig", newline="")
