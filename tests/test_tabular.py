"""Tabular import: CSV and JSON Lines, column mapping, row reports, BOM and encodings."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from swapproto.errors import ErrorCode, InputError, SwapprotoError
from swapproto.tabular import (
    BATCH,
    MAX_FIELD,
    MAX_LINE,
    MAX_REPORTED,
    RowError,
    RowReport,
    TableFormat,
    iter_records,
    open_table,
    parse_mapping,
)

CSV = TableFormat.CSV
JSONL = TableFormat.JSONL

HEADER = "person_id,family_name,given_names,date_of_birth,sex,citizenship"
GOOD = "P1,Коваль,Іван,1990-01-02,male,UA"
GOOD2 = "P2,Smith,John,1985-12-31,female,GB"
BAD_SEX = "P9,Bad,Row,1990-01-01,robot,UA"
BOM = "\ufeff"

RECORD1 = {
    "person_id": "P1",
    "family_name": "Коваль",
    "given_names": "Іван",
    "date_of_birth": "1990-01-02",
    "sex": "male",
    "citizenship": "UA",
}
RECORD2 = {
    "person_id": "P2",
    "family_name": "Smith",
    "given_names": "John",
    "date_of_birth": "1985-12-31",
    "sex": "female",
    "citizenship": "GB",
}


def _lines(*lines: str, end: str = "\n") -> str:
    return "".join(line + end for line in lines)


def _read(
    text: str,
    *,
    fmt: TableFormat = CSV,
    mapping: dict[str, str] | None = None,
    report: RowReport | None = None,
    kind: str = "prisoner",
) -> list[dict[str, Any]]:
    stream = io.StringIO(text, newline="")
    rep = report if report is not None else RowReport("input")
    return list(iter_records(stream, kind=kind, fmt=fmt, mapping=mapping, report=rep))


def _fail(text: str, **options: Any) -> InputError:
    with pytest.raises(InputError) as info:
        _read(text, **options)
    return info.value


def _rows(exc: InputError) -> list[tuple[int, str]]:
    return [(row["line"], row["reason"]) for row in exc.details["rows"]]


def _jsonl(*objs: object) -> str:
    return _lines(*(json.dumps(obj, ensure_ascii=False) for obj in objs))


def _read_file(path: Path, *, fmt: TableFormat = CSV) -> list[dict[str, Any]]:
    report = RowReport(str(path))
    with open_table(path) as text:
        return list(iter_records(text, kind="prisoner", fmt=fmt, report=report))


# ---------------------------------------------------------------------------------------
# parse_mapping


def test_parse_mapping_empty() -> None:
    assert parse_mapping([]) == {}


def test_parse_mapping_pairs_and_whitespace() -> None:
    assert parse_mapping(["surname=family_name", " dob = date_of_birth "]) == {
        "surname": "family_name",
        "dob": "date_of_birth",
    }


def test_parse_mapping_splits_at_first_equals_sign() -> None:
    assert parse_mapping(["a=b=c"]) == {"a": "b=c"}


@pytest.mark.parametrize("pair", ["surname", "=family_name", "surname=", " = ", "", "  =x"])
def test_parse_mapping_rejects_malformed_pairs(pair: str) -> None:
    with pytest.raises(InputError) as info:
        parse_mapping([pair])
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert "old=new" in str(info.value)


def test_parse_mapping_rejects_a_column_mapped_twice() -> None:
    with pytest.raises(InputError, match="mapped twice") as info:
        parse_mapping(["surname=family_name", " surname =given_names"])
    assert info.value.code is ErrorCode.INPUT_INVALID


def test_parse_mapping_allows_two_columns_to_one_target_until_the_header_is_seen() -> None:
    # the clash is detected against the file's header (see the duplicate tests below)
    assert parse_mapping(["a=x", "b=x"]) == {"a": "x", "b": "x"}


# ---------------------------------------------------------------------------------------
# CSV: happy paths


def test_csv_yields_canonical_records_in_order() -> None:
    report = RowReport("input")
    assert _read(_lines(HEADER, GOOD, GOOD2), report=report) == [RECORD1, RECORD2]
    assert report.rows == 2
    assert report.total_errors == 0
    assert report.errors == []


def test_csv_normalises_cells() -> None:
    header = HEADER + ",categories,rank"
    row = " P1 , Коваль ,Іван,1990-01-02,male,UA, seriously_ill;civilian ,"
    (record,) = _read(_lines(header, row))
    assert record["person_id"] == "P1"
    assert record["family_name"] == "Коваль"
    assert record["categories"] == ["civilian", "seriously_ill"]
    assert "rank" not in record  # empty optional cells are omitted


def test_csv_nfc_normalises_non_ascii_cells() -> None:
    decomposed = "Kova\u0301l"  # "a" + combining acute accent
    (record,) = _read(_lines(HEADER, f"P1,{decomposed},Ivan,1990-01-02,male,UA"))
    assert record["family_name"] == "Kov\u00e1l"


def test_csv_header_only_yields_nothing_and_an_empty_file_is_refused() -> None:
    assert _read(_lines(HEADER)) == []  # an empty list, on purpose: it names its columns
    # a 0-byte file is a failed export more often than an empty list, and a signed,
    # committed list cannot be taken back
    assert "empty" in str(_fail(""))


def test_csv_header_cells_are_stripped() -> None:
    header = " person_id , family_name,given_names ,date_of_birth,sex,citizenship"
    assert _read(_lines(header, GOOD)) == [RECORD1]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_csv_line_endings(end: str) -> None:
    exc = _fail(_lines(HEADER, GOOD, BAD_SEX, GOOD2, end=end))
    assert _rows(exc) == [(3, "prisoner record: field 'sex' is not in the vocabulary")]


def test_csv_without_trailing_newline() -> None:
    assert _read(f"{HEADER}\n{GOOD}") == [RECORD1]


def test_csv_columns_may_come_in_any_order() -> None:
    header = "citizenship,sex,date_of_birth,given_names,family_name,person_id"
    assert _read(_lines(header, "UA,male,1990-01-02,Іван,Коваль,P1")) == [RECORD1]


def test_unknown_kind_is_an_input_error() -> None:
    exc = _fail(_lines(HEADER, GOOD), kind="no_such_kind")
    assert exc.code is ErrorCode.INPUT_UNKNOWN_KIND


# ---------------------------------------------------------------------------------------
# BOM and encodings (through open_table, as the CLI reads files)


def test_bom_and_no_bom_give_the_same_records(tmp_path: Path) -> None:
    text = _lines(HEADER, GOOD, GOOD2)
    plain, marked = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_bytes(text.encode("utf-8"))
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert _read_file(plain) == _read_file(marked) == [RECORD1, RECORD2]


def test_bom_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _jsonl(RECORD1, RECORD2).encode("utf-8"))
    assert _read_file(path, fmt=JSONL) == [RECORD1, RECORD2]


def test_bom_is_only_stripped_at_the_start(tmp_path: Path) -> None:
    path = tmp_path / "inner.csv"
    path.write_bytes(_lines(HEADER, BOM + GOOD).encode("utf-8"))
    with pytest.raises(InputError) as info:
        _read_file(path)
    # U+FEFF inside a cell is a formatting character and refused, with its line
    assert [row["line"] for row in info.value.details["rows"]] == [2]


def test_open_table_keeps_line_endings_for_the_csv_reader(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(_lines(HEADER, 'P1,"Kov\r\nal",Ivan,1990-01-02,male,UA', end="\r\n").encode())
    with pytest.raises(InputError) as info:
        _read_file(path)
    # the embedded CR LF reaches the record check untranslated and is refused
    assert "control" in info.value.details["rows"][0]["reason"]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        pytest.param(_lines(HEADER, GOOD).encode("cp1251"), CSV, id="cp1251-body"),
        pytest.param(_lines(HEADER, GOOD).encode("utf-16"), CSV, id="utf16-with-bom"),
        pytest.param(_lines(HEADER, GOOD).encode() + b"P2,\xff\xfe,x\n", CSV, id="late-byte"),
        pytest.param(b"person_id\xff," + _lines(GOOD).encode(), CSV, id="header"),
        pytest.param(b'{"person_id": "\xc0\xaf"}\n', JSONL, id="jsonl-overlong"),
        pytest.param(b"\xef\xbb\xbf" + "Коваль".encode("koi8-r"), CSV, id="bom-then-koi8"),
    ],
)
def test_non_utf8_input_is_an_input_error(tmp_path: Path, data: bytes, fmt: TableFormat) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(SwapprotoError) as info:
        _read_file(path, fmt=fmt)
    assert isinstance(info.value, InputError)
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert "UTF-8" in str(info.value)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_open_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        open_table(tmp_path / "nope.csv")
    assert info.value.code is ErrorCode.INPUT_IO
    assert "nope.csv" in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_open_table_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        open_table(tmp_path)
    assert info.value.code is ErrorCode.INPUT_IO


# ---------------------------------------------------------------------------------------
# column mapping


def test_mapping_renames_a_column() -> None:
    header = HEADER.replace("family_name", "surname")
    assert _read(_lines(header, GOOD), mapping={"surname": "family_name"}) == [RECORD1]


def test_mapping_can_swap_two_columns() -> None:
    mapping = {"family_name": "given_names", "given_names": "family_name"}
    (record,) = _read(_lines(HEADER, GOOD), mapping=mapping)
    assert record["family_name"] == "Іван"
    assert record["given_names"] == "Коваль"


def test_mapping_unknown_column() -> None:
    exc = _fail(_lines(HEADER, GOOD), mapping={"surname": "family_name"})
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "surname" in str(exc)
    assert "rows" not in exc.details  # a file-level error, not a row report


def test_mapping_into_an_existing_column_is_a_duplicate() -> None:
    header = HEADER + ",surname"
    exc = _fail(_lines(header, GOOD + ",X"), mapping={"surname": "family_name"})
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "duplicate" in str(exc)
    assert "family_name" in str(exc)


def test_two_columns_mapped_to_one_name_are_duplicates() -> None:
    header = HEADER.replace("family_name", "a").replace("given_names", "b")
    exc = _fail(_lines(header, GOOD), mapping={"a": "family_name", "b": "family_name"})
    assert "duplicate" in str(exc)


def test_duplicate_header_without_mapping() -> None:
    exc = _fail(_lines(HEADER + ",sex", GOOD + ",male"))
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "duplicate" in str(exc)
    assert "sex" in str(exc)


def test_duplicate_header_after_stripping() -> None:
    exc = _fail(_lines(HEADER + ", sex", GOOD + ",male"))
    assert "duplicate" in str(exc)


def test_mapping_a_header_cell_with_surrounding_spaces() -> None:
    header = HEADER.replace("family_name", " surname ")
    assert _read(_lines(header, GOOD), mapping={"surname": "family_name"}) == [RECORD1]


def test_mapping_in_jsonl() -> None:
    obj = {**RECORD1}
    obj["surname"] = obj.pop("family_name")
    assert _read(_jsonl(obj), fmt=JSONL, mapping={"surname": "family_name"}) == [RECORD1]


def test_jsonl_mapping_into_an_existing_key_is_refused() -> None:
    obj = {**RECORD1, "surname": "Other"}
    exc = _fail(_jsonl(obj), fmt=JSONL, mapping={"surname": "family_name"})
    assert exc.details["total"] == 1
    assert _rows(exc)[0][0] == 1


def test_jsonl_duplicate_keys_are_refused() -> None:
    line = '{"person_id": "P2", ' + json.dumps(RECORD1, ensure_ascii=False)[1:]
    assert line.count('"person_id"') == 2
    exc = _fail(line + "\n", fmt=JSONL)
    assert _rows(exc)[0][0] == 1


# ---------------------------------------------------------------------------------------
# row reports: line numbers, reasons, the final InputError


def test_every_bad_row_is_reported_with_line_and_reason() -> None:
    text = _lines(
        HEADER,  # 1
        GOOD,  # 2
        BAD_SEX,  # 3
        "P3,Only,Five,1990-01-01,male",  # 4: too few columns
        GOOD2,  # 5
        "P4,Too,Many,1990-01-01,male,UA,extra",  # 6: too many columns
        "P5,Bad,Date,1990-02-30,male,UA",  # 7
        "P6,,Missing,1990-01-01,male,UA",  # 8
        "P7,Bad,Cit,1990-01-01,male,ua",  # 9
    )
    report = RowReport("people.csv")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text), kind="prisoner", report=report))
    exc = info.value
    assert got == [RECORD1, RECORD2]  # good rows still stream before the error
    assert exc.code is ErrorCode.INPUT_RECORD
    assert exc.details["total"] == 6
    lines = [line for line, _ in _rows(exc)]
    assert lines == [3, 4, 6, 7, 8, 9]
    reasons = dict(_rows(exc))
    assert reasons[3] == "prisoner record: field 'sex' is not in the vocabulary"
    assert reasons[4] == "5 columns, expected 6"
    assert reasons[6] == "7 columns, expected 6"
    assert "date_of_birth" in reasons[7]
    assert reasons[8] == "prisoner record: field 'family_name' is missing"
    assert "citizenship" in reasons[9]
    assert report.rows == 8
    assert report.total_errors == 6
    assert report.errors[0] == RowError(3, reasons[3])
    message = str(exc)
    assert message.startswith("[input.invalid_record] people.csv: 6 bad row(s): line 3: ")
    assert "line 8:" in message
    assert "line 9:" not in message  # only the first five are spelled out
    assert message.endswith("(and 1 more)")


def test_row_report_message_with_five_errors_has_no_tail() -> None:
    exc = _fail(_lines(HEADER, *[BAD_SEX] * 5))
    assert exc.details["total"] == 5
    assert "more)" not in str(exc)
    assert [line for line, _ in _rows(exc)] == [2, 3, 4, 5, 6]


def test_row_report_keeps_at_most_max_reported_rows() -> None:
    n = MAX_REPORTED + 7
    exc = _fail(_lines(HEADER, *["x"] * n))
    assert exc.details["total"] == n
    assert len(exc.details["rows"]) == MAX_REPORTED
    assert exc.details["rows"][-1] == {"line": MAX_REPORTED + 1, "reason": "1 columns, expected 6"}
    assert str(exc).endswith(f"(and {n - 5} more)")


def test_row_report_direct_use() -> None:
    report = RowReport("src")
    report.raise_if_any()  # nothing recorded: no error
    report.add(4, "why")
    with pytest.raises(InputError) as info:
        report.raise_if_any()
    assert info.value.details == {"rows": [{"line": 4, "reason": "why"}], "total": 1}
    assert str(info.value) == "[input.invalid_record] src: 1 bad row(s): line 4: why"


def test_row_errors_never_echo_the_cell_value() -> None:
    secret = "TopSecretValue"
    exc = _fail(_lines(HEADER, f"P1,Коваль,Іван,1990-01-02,{secret},UA"))
    assert secret not in str(exc)
    assert secret not in json.dumps(exc.details, ensure_ascii=False)


def test_a_header_no_row_can_satisfy_is_reported_once_for_line_1() -> None:
    exc = _fail(_lines(HEADER + ",nickname", GOOD + ",x", GOOD2 + ",y"))
    ((line, reason),) = _rows(exc)
    assert line == 1
    assert "column 'nickname' is not a field of prisoner" in reason
    without_sex = HEADER.replace(",sex", "")
    exc = _fail(_lines(without_sex, GOOD.replace(",male", "")))
    ((line, reason),) = _rows(exc)
    assert (line, "the required column 'sex' of prisoner is missing" in reason) == (1, True)


def test_blank_lines_are_skipped_but_counted() -> None:
    text = _lines(HEADER, "", GOOD, "   ", "", BAD_SEX, "", GOOD2)
    report = RowReport("input")
    with pytest.raises(InputError) as info:
        _read(text, report=report)
    assert _rows(info.value) == [(6, "prisoner record: field 'sex' is not in the vocabulary")]
    assert report.rows == 3  # blank lines are not rows


def test_row_of_only_empty_cells_is_a_row() -> None:
    exc = _fail(_lines(HEADER, ",,,,,"))
    assert _rows(exc) == [(2, "prisoner record: field 'person_id' is missing")]


def test_multiline_quoted_field_shifts_later_line_numbers() -> None:
    # a quoted field may hold a line break: the record spans lines 2-4 and the next
    # record starts on line 5
    text = _lines(HEADER, 'P1,Коваль,"Іван', "", 'Петрович",1990-01-02,male,UA', BAD_SEX, GOOD2)
    exc = _fail(text)
    # the newline inside the cell is a control character: that row is refused too
    lines = [line for line, _ in _rows(exc)]
    assert lines[-1] == 5
    assert len(lines) == 2


def test_quoted_field_with_separator_and_quotes_on_one_line() -> None:
    (record,) = _read(_lines(HEADER + ",unit", GOOD + ',"3rd ""Azov"", 2nd bn"'))
    assert record["unit"] == '3rd "Azov", 2nd bn'


def test_multiline_row_is_reported_at_its_first_line() -> None:
    text = _lines(HEADER, 'P1,Коваль,"Іван', "", 'Петрович",1990-01-02,male,UA', BAD_SEX)
    exc = _fail(text)
    assert [line for line, _ in _rows(exc)] == [2, 5]


def test_csv_syntax_error_stops_with_its_line() -> None:
    exc = _fail(_lines(HEADER, GOOD, 'P2,"Smi"th,John,1985-12-31,female,GB'))
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "line 3" in str(exc)


def test_csv_unterminated_quote() -> None:
    exc = _fail(_lines(HEADER, GOOD, 'P2,"Smith,John,1985-12-31,female,GB'))
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "CSV syntax error" in str(exc)


def test_field_over_64_kib_is_a_row_error() -> None:
    big = "K" * (MAX_FIELD + 1)
    text = _lines(HEADER, f"P1,{big},Ivan,1990-01-02,male,UA", GOOD2)
    report = RowReport("input")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text), kind="prisoner", report=report))
    assert _rows(info.value) == [(2, "a field exceeds 64 KiB")]
    assert got == [RECORD2]


def test_field_of_exactly_64_kib_reaches_the_record_check() -> None:
    exact = "K" * MAX_FIELD
    exc = _fail(_lines(HEADER, f"P1,{exact},Ivan,1990-01-02,male,UA"))
    assert "longer than" in _rows(exc)[0][1]


def test_csv_line_over_the_limit_stops_reading_without_holding_it() -> None:
    text = io.StringIO(_lines(HEADER, GOOD) + "P2," + "x" * (10 * MAX_LINE) + "\n" + GOOD2)
    with pytest.raises(InputError) as info:
        list(iter_records(text, kind="prisoner", report=RowReport("input")))
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert info.value.args[0].startswith(f"line 3 is longer than {MAX_LINE:,} characters")
    assert text.tell() < 2 * MAX_LINE  # the rest of the line was never read


def test_csv_record_spanning_many_short_lines_is_bounded() -> None:
    # every physical line is short; the record they make together is not
    cells = ",".join('"\n"' for _ in range(MAX_LINE // 2))
    exc = _fail(HEADER + "\n" + cells + "\n")
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "longer than" in str(exc)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_csv_line_of_exactly_the_limit_is_read_and_numbering_holds(end: str) -> None:
    cells = ["y" * 50_000] * 20  # csv's own field limit is 128 KiB
    long_line = ",".join(cells)
    long_line += "y" * (MAX_LINE - len(long_line))
    assert len(long_line) == MAX_LINE
    exc = _fail(_lines(HEADER, long_line, BAD_SEX, end=end))
    assert [line for line, _ in _rows(exc)] == [2, 3]


# ---------------------------------------------------------------------------------------
# JSON Lines


def test_jsonl_happy_path_with_lists_and_nulls() -> None:
    obj = {**RECORD1, "categories": ["seriously_ill", "civilian"], "rank": None, "unit": None}
    report = RowReport("input")
    (record,) = _read(_jsonl(obj), fmt=JSONL, report=report)
    assert record == {**RECORD1, "categories": ["civilian", "seriously_ill"]}
    assert report.rows == 1


def test_jsonl_list_equals_semicolon_cell() -> None:
    as_list = {**RECORD1, "categories": ["seriously_ill", "civilian"]}
    as_text = {**RECORD1, "categories": "civilian;seriously_ill"}
    assert _read(_jsonl(as_list), fmt=JSONL) == _read(_jsonl(as_text), fmt=JSONL)


def test_jsonl_blank_lines_are_skipped_and_counted() -> None:
    text = _jsonl(RECORD1) + "\n  \n" + _jsonl({**RECORD2, "sex": "robot"}) + "\n"
    exc = _fail(text, fmt=JSONL)
    assert _rows(exc) == [(4, "prisoner record: field 'sex' is not in the vocabulary")]


def test_jsonl_crlf() -> None:
    text = _jsonl(RECORD1).replace("\n", "\r\n") + "[]\r\n"
    exc = _fail(text, fmt=JSONL)
    assert _rows(exc) == [(2, "a line must hold one JSON object")]


NOT_STR = "field 'person_id' must be a string"
NOT_STRS = "field 'categories' must be a string or a list of strings"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param("{not json}", "invalid JSON: ", id="syntax"),
        pytest.param('{"person_id": "P1"', "invalid JSON: ", id="truncated"),
        pytest.param('{"a": 1} {"b": 2}', "invalid JSON: Extra data", id="two-objects"),
        pytest.param("[1, 2]", "a line must hold one JSON object", id="array"),
        pytest.param('"text"', "a line must hold one JSON object", id="string"),
        pytest.param("42", "a line must hold one JSON object", id="number"),
        pytest.param("null", "a line must hold one JSON object", id="null"),
        pytest.param('{"person_id": 1}', NOT_STR, id="int"),
        pytest.param('{"person_id": 1.5}', NOT_STR, id="float"),
        pytest.param('{"person_id": NaN}', NOT_STR, id="nan"),
        pytest.param('{"person_id": true}', NOT_STR, id="bool"),
        pytest.param('{"person_id": {"a": "b"}}', NOT_STR, id="object"),
        pytest.param(
            '{"family_name": ["Smith", "Jones"]}',
            "field 'family_name' must be a string",
            id="list-for-text",
        ),
        pytest.param('{"unit": []}', "field 'unit' must be a string", id="empty-list-for-text"),
        pytest.param('{"categories": ["civilian", 1]}', NOT_STRS, id="mixed-list"),
        pytest.param('{"categories": [["civilian"]]}', NOT_STRS, id="nested-list"),
        pytest.param('{"categories": [null]}', NOT_STRS, id="list-of-null"),
    ],
)
def test_jsonl_bad_lines(line: str, reason: str) -> None:
    text = _jsonl(RECORD1) + line + "\n" + _jsonl(RECORD2)
    report = RowReport("input")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text), kind="prisoner", fmt=JSONL, report=report))
    assert got == [RECORD1, RECORD2]
    assert info.value.code is ErrorCode.INPUT_RECORD
    assert info.value.details["total"] == 1
    ((line_no, got_reason),) = _rows(info.value)
    assert line_no == 2
    assert got_reason.startswith(reason)
    assert report.rows == 3


def test_jsonl_several_bad_lines() -> None:
    extra = json.dumps({**RECORD1, "x": "y"})
    text = _lines("[]", json.dumps(RECORD1), "{", '{"person_id": 7}', "", extra)
    exc = _fail(text, fmt=JSONL)
    assert [line for line, _ in _rows(exc)] == [1, 3, 4, 6]
    assert exc.details["total"] == 4
    assert "'x'" in _rows(exc)[-1][1]  # an unknown field is named


def test_jsonl_unknown_field_is_rejected() -> None:
    exc = _fail(_jsonl({**RECORD1, "nickname": "x"}), fmt=JSONL)
    assert _rows(exc)[0][0] == 1
    assert "nickname" in _rows(exc)[0][1]


def test_jsonl_missing_required_field() -> None:
    obj = dict(RECORD1)
    del obj["sex"]
    exc = _fail(_jsonl(obj), fmt=JSONL)
    assert _rows(exc) == [(1, "prisoner record: field 'sex' is missing")]


def test_jsonl_line_over_the_limit_stops_reading_without_holding_it() -> None:
    head = _jsonl(RECORD1)
    text = io.StringIO(head + '{"unit": "' + "x" * (10 * MAX_LINE) + '"}\n' + _jsonl(RECORD2))
    with pytest.raises(InputError) as info:
        list(iter_records(text, kind="prisoner", fmt=JSONL, report=RowReport("input")))
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert info.value.args[0].startswith(f"line 2 is longer than {MAX_LINE:,} characters")
    assert text.tell() < len(head) + 2 * MAX_LINE


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_jsonl_line_of_exactly_the_limit_is_read_and_numbering_holds(end: str) -> None:
    padded = json.dumps({**RECORD1, "unit": ""})
    long_line = padded[:-1] + " " * (MAX_LINE - len(padded)) + "}"
    assert len(long_line) == MAX_LINE
    text = _lines(long_line, json.dumps({**RECORD2, "sex": "robot"}), end=end)
    report = RowReport("input")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text), kind="prisoner", fmt=JSONL, report=report))
    assert got == [RECORD1]
    assert [line for line, _ in _rows(info.value)] == [2]


def test_jsonl_deeply_nested_line_is_a_row_error() -> None:
    line = "[" * 100_000 + "]" * 100_000
    exc = _fail(_lines(line), fmt=JSONL)
    assert _rows(exc)[0][0] == 1


def test_jsonl_huge_integer_is_a_row_error() -> None:
    exc = _fail(_lines('{"person_id": ' + "1" * 5000 + "}"), fmt=JSONL)
    assert _rows(exc)[0][0] == 1


# ---------------------------------------------------------------------------------------
# hostile input: every rejection is a row report or an InputError, never a crash


@pytest.mark.parametrize(
    "value",
    ["1" + "0" * 5000 + ".5", "1e99999", "-1e99999", "-Infinity", "Infinity", "-" + "9" * 5000],
)
def test_jsonl_numbers_are_never_converted(value: str) -> None:
    exc = _fail(_lines('{"person_id": ' + value + "}"), fmt=JSONL)
    ((line, reason),) = _rows(exc)
    assert line == 1
    assert reason.startswith(NOT_STR)


def test_jsonl_deep_nesting_inside_a_value_is_a_row_error() -> None:
    line = '{"categories": ' + "[" * 100_000 + "]" * 100_000 + "}"
    exc = _fail(_lines(json.dumps(RECORD1), line, json.dumps(RECORD2)), fmt=JSONL)
    assert _rows(exc) == [(2, "invalid JSON: nested too deeply")]


def test_jsonl_duplicate_key_in_a_nested_object_is_a_row_error() -> None:
    exc = _fail(_lines('{"person_id": {"a": "1", "a": "2"}}'), fmt=JSONL)
    assert _rows(exc) == [(1, "duplicate key 'a'")]


def test_jsonl_duplicate_key_reason_names_the_key() -> None:
    exc = _fail(_lines('{"sex": "male", "sex": "female"}'), fmt=JSONL)
    assert _rows(exc) == [(1, "duplicate key 'sex'")]


def test_jsonl_mapping_collision_reason_names_the_field() -> None:
    obj = {**RECORD1, "surname": "Other"}
    exc = _fail(_jsonl(obj), fmt=JSONL, mapping={"surname": "family_name"})
    assert _rows(exc) == [(1, "field 'family_name' appears twice after --map")]
    assert "Other" not in str(exc)


def test_jsonl_mapping_can_swap_two_fields() -> None:
    mapping = {"family_name": "given_names", "given_names": "family_name"}
    (record,) = _read(_jsonl(RECORD1), fmt=JSONL, mapping=mapping)
    assert (record["family_name"], record["given_names"]) == ("Іван", "Коваль")


def test_jsonl_mapping_a_field_no_line_holds_is_refused() -> None:
    exc = _fail(_jsonl(RECORD1, RECORD2), fmt=JSONL, mapping={"surname": "family_name"})
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "surname" in str(exc)
    assert "rows" not in exc.details  # a file-level error, as for CSV


def test_jsonl_mapping_a_field_only_some_lines_hold() -> None:
    renamed = {**RECORD2, "rank_name": "private"}
    got = _read(_jsonl(RECORD1, renamed), fmt=JSONL, mapping={"rank_name": "rank"})
    assert got == [RECORD1, {**RECORD2, "rank": "private"}]


def test_jsonl_list_item_holding_the_separator_is_a_row_error() -> None:
    # joined with ';' it would silently become two categories
    obj = {**RECORD1, "categories": ["civilian;seriously_ill"]}
    exc = _fail(_jsonl(obj), fmt=JSONL)
    assert _rows(exc) == [(1, "field 'categories': a list item cannot contain ';'")]


@pytest.mark.parametrize("key", ["\0error", "\0"])
def test_jsonl_key_cannot_pose_as_a_row_error(key: str) -> None:
    exc = _fail(_jsonl({**RECORD1, key: "TopSecretValue"}), fmt=JSONL)
    ((line, reason),) = _rows(exc)
    assert line == 1
    assert "not a field" in reason
    assert "TopSecretValue" not in str(exc)


def test_csv_column_cannot_pose_as_a_row_error() -> None:
    exc = _fail(_lines(HEADER + ",\0error", GOOD + ",TopSecretValue"))
    ((line, reason),) = _rows(exc)
    assert line == 1  # the header's fault, reported once
    assert "not a field" in reason
    assert "\0" not in reason  # the column name is shown escaped
    assert "TopSecretValue" not in str(exc)


@pytest.mark.parametrize("first", ["", "   ", ","])
def test_csv_empty_header_line_is_an_input_error(first: str) -> None:
    text = _lines(first, HEADER, GOOD)
    if first == ",":
        # two empty column names: a duplicate, refused before any row
        assert "duplicate" in str(_fail(text))
        return
    exc = _fail(text)
    assert exc.code is ErrorCode.INPUT_INVALID
    assert "header" in str(exc)
    assert "rows" not in exc.details


def test_multiline_row_with_wrong_column_count_is_reported_at_its_first_line() -> None:
    text = _lines(HEADER, GOOD, 'P3,"Multi', 'line",x', "", BAD_SEX)
    exc = _fail(text)
    assert _rows(exc)[0] == (3, "3 columns, expected 6")
    assert [line for line, _ in _rows(exc)] == [3, 6]


# ---------------------------------------------------------------------------------------
# batches: rows are converted BATCH at a time, column by column, and still come out (and
# are reported) one by one, in order, exactly as row by row


def _person(i: int) -> str:
    rank = "" if i % 4 else ",рядовий"
    return (
        f"P{i},Коваленко{i % 13},Іван Петрович,19{50 + i % 40}-0{1 + i % 9}-1{i % 10},male,UA"
        + (rank if rank else ",")
    )


def _many_rows(n: int) -> tuple[str, list[tuple[int, str]], list[str]]:
    """A CSV of n rows, with bad, blank and multi-line ones placed around the ends of
    every other batch (the others are clean: converted column by column); the row
    errors it must give (line, reason) and the good rows, in order."""
    lines = [HEADER + ",rank"]
    errors: list[tuple[int, str]] = []
    good: list[str] = []
    for i in range(n):
        at = len(lines) + 1
        flawed = (i // BATCH) % 2 == 1
        if flawed and i % BATCH in (0, BATCH - 1):
            lines.append(f"P{i},Bad,Row,1990-01-01,robot,UA,")
            errors.append((at, "prisoner record: field 'sex' is not in the vocabulary"))
        elif flawed and i % 97 == 5:
            lines.extend([f'P{i},"Two', 'Lines",X,1990-01-01,male,UA,'])  # a row on 2 lines
            reason = "contains a control, formatting or bidirectional character"
            errors.append((at, f"prisoner record: field 'family_name' {reason}"))
        elif i // BATCH == 1 and i % 101 == 7:
            lines.append(f"P{i},Short")
            errors.append((at, "2 columns, expected 7"))
        else:
            lines.append(_person(i))
            good.append(lines[-1])
        if i % 89 == 3:
            lines.append("")
    return _lines(*lines), errors, good


def test_batches_give_the_records_and_row_errors_of_row_by_row_conversion() -> None:
    from swapproto import records

    text, errors, good = _many_rows(4 * BATCH + 17)
    report = RowReport("input")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text, newline=""), kind="prisoner", report=report))
    names = (HEADER + ",rank").split(",")
    expected = [
        records.canonical_from_row("prisoner", dict(zip(names, row.split(","), strict=True)))
        for row in good
    ]
    assert got == expected
    assert all(list(record) == sorted(record) for record in got)
    assert _rows(info.value) == errors
    assert report.rows == 4 * BATCH + 17
    assert len(errors) >= 6


def test_rows_before_a_reading_error_still_come_out_first() -> None:
    rows = [_person(i) for i in range(2 * BATCH + 5)]
    text = _lines(HEADER + ",rank", *rows, 'P9,"Smi"th,John,1985-12-31,female,GB,')
    report = RowReport("input")
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info:
        got.extend(iter_records(io.StringIO(text, newline=""), kind="prisoner", report=report))
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert f"line {len(rows) + 2}" in str(info.value)
    assert len(got) == report.rows == len(rows)


def test_rows_before_bad_utf8_come_out_and_are_counted(tmp_path: Path) -> None:
    rows = [_person(i) for i in range(2 * BATCH + 5)]
    path = tmp_path / "people.csv"
    path.write_bytes(_lines(HEADER + ",rank", *rows).encode() + b"P9,\xff\xfe,x\n")
    report = RowReport(str(path))
    got: list[dict[str, Any]] = []
    with pytest.raises(InputError) as info, open_table(path) as text:
        got.extend(iter_records(text, kind="prisoner", report=report))
    assert info.value.code is ErrorCode.INPUT_INVALID
    assert 0 < len(got) == report.rows <= len(rows)
    assert f"(after row {report.rows})" in str(info.value)
