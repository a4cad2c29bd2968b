"""Record kinds: models, canonical values, rows, the fast paths and their agreement."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from helpers import load_vectors
from swapproto import records
from swapproto._recordplan import model_to_value, row_to_model_input, value_to_model_input
from swapproto._recordspec import (
    DIGEST_ALGORITHMS,
    FORBIDDEN_RANGES,
    ColumnError,
    FieldError,
    check_text,
    clean_text,
)
from swapproto.encoding import decode
from swapproto.errors import ErrorCode, InputError
from swapproto.records import (
    ChildCase,
    Evidence,
    Prisoner,
    RecordModel,
    Remains,
    SetOf,
    TextSpec,
)
from typed_json import from_typed

SHA_A = "ab" * 32
SHA_B = "0f" * 32


def prisoner_row(**changes: str) -> dict[str, str]:
    row = {
        "person_id": "A-000123",
        "family_name": "Ivanov",
        "given_names": "Ivan Petrovich",
        "date_of_birth": "1990-05-17",
        "sex": "male",
        "citizenship": "UA",
        "service_number": "123456",
        "rank": "sergeant",
        "unit": "3rd brigade",
        "place_of_detention": "Camp 4",
        "categories": "seriously_ill;civilian",
    }
    row.update(changes)
    return row


def remains_row(**changes: str) -> dict[str, str]:
    row = {
        "remains_id": "R-77",
        "recovery_date": "2023-03-02",
        "recovery_place": "Field near village K.",
        "identification_status": "identified",
        "family_name": "Kovalenko",
        "given_names": "Olha",
        "date_of_birth": "1985-01-30",
        "evidence": f"dna_profile=sha256:{SHA_A};sha256:{SHA_B.upper()}",
    }
    row.update(changes)
    return row


def child_row(**changes: str) -> dict[str, str]:
    row = {
        "case_id": "C-1",
        "family_name": "Haddad",
        "given_names": "Lina",
        "date_of_birth": "2015-07-01",
        "last_known_place": "Shelter 3",
        "date_of_separation": "2022-03-10",
        "contact_reference": "ICRC tracing request 42",
    }
    row.update(changes)
    return row


def medical_row(**changes: str) -> dict[str, str]:
    row = {
        "person_ref": "A-000123",
        "condition_category": "seriously_wounded",
        "assessed_on": "2024-01-15",
        "assessed_by": "Mixed Medical Commission 2",
    }
    row.update(changes)
    return row


ROWS: dict[str, Callable[..., dict[str, str]]] = {
    "prisoner": prisoner_row,
    "remains": remains_row,
    "child_case": child_row,
    "medical_case": medical_row,
}


def both_paths(kind: str, row: Mapping[str, object]) -> dict[str, object]:
    """Run the fast and the model path; they must agree; return the canonical value."""
    fast = records.canonical_from_row(kind, row)
    assert records.to_canonical(records.from_row(kind, row)) == fast
    return fast


def rejected(kind: str, row: Mapping[str, object]) -> tuple[str, str]:
    """Both paths must reject ``row``; return (code, field) and check they agree."""
    with pytest.raises(InputError) as fast:
        records.canonical_from_row(kind, row)
    with pytest.raises(InputError) as model:
        records.from_row(kind, row)
    assert fast.value.code == model.value.code
    assert fast.value.details.get("field") == model.value.details.get("field")
    return fast.value.code, fast.value.details.get("field", "")


# ------------------------------------------------------------------ registry


def test_builtin_kinds_are_registered() -> None:
    assert {"prisoner", "remains", "child_case", "medical_case"} <= set(records.kinds())
    assert list(records.kinds()) == sorted(records.kinds())
    kind = records.get_kind("prisoner")
    assert kind.model is Prisoner
    assert kind.id_field == "person_id"
    assert kind.list_fields == frozenset({"categories"})
    assert records.get_kind(kind) is kind
    assert kind.field_names[:3] == ("person_id", "family_name", "given_names")


def test_unknown_kind() -> None:
    with pytest.raises(InputError) as err:
        records.get_kind("spaceship")
    assert err.value.code is ErrorCode.INPUT_UNKNOWN_KIND
    for call in (records.canonical_from_row, records.from_row, records.validate_canonical):
        with pytest.raises(InputError) as err:
            call("spaceship", {})
        assert err.value.code is ErrorCode.INPUT_UNKNOWN_KIND


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(InputError) as err:
        records.register_kind("prisoner", Detainee, id_field="card_id")
    assert err.value.code is ErrorCode.INPUT_KIND_EXISTS
    with pytest.raises(InputError) as err:
        records.register_kind("other_prisoner", Prisoner, id_field="person_id")
    assert err.value.code is ErrorCode.INPUT_KIND_EXISTS


@pytest.mark.parametrize("name", ["", "Prisoner", "1abc", "a b", "a..b", "x" * 65, "a/b"])
def test_bad_kind_names(name: str) -> None:
    with pytest.raises(InputError) as err:
        records.register_kind(name, Detainee, id_field="card_id")
    assert err.value.code is ErrorCode.INPUT_INVALID


# ------------------------------------------------------------------ valid records


def test_prisoner_latin() -> None:
    value = both_paths("prisoner", prisoner_row())
    assert value == {
        "person_id": "A-000123",
        "family_name": "Ivanov",
        "given_names": "Ivan Petrovich",
        "date_of_birth": "1990-05-17",
        "sex": "male",
        "citizenship": "UA",
        "service_number": "123456",
        "rank": "sergeant",
        "unit": "3rd brigade",
        "place_of_detention": "Camp 4",
        "categories": ["civilian", "seriously_ill"],
    }


def test_prisoner_cyrillic_and_arabic() -> None:
    value = both_paths(
        "prisoner", prisoner_row(family_name="Шевченко", given_names="Тарас Григорович")
    )
    assert value["family_name"] == "Шевченко"
    value = both_paths("prisoner", prisoner_row(family_name="الحداد", given_names="محمد علي"))
    assert value["given_names"] == "محمد علي"


def test_persian_zwnj_is_allowed() -> None:
    value = both_paths("prisoner", prisoner_row(given_names="مهر\u200cناز"))
    assert value["given_names"] == "مهر\u200cناز"


def test_nfc_normalisation_and_stripping() -> None:
    decomposed = "Jose\u0301 Mari\u0301a"
    assert not unicodedata.is_normalized("NFC", decomposed)
    value = both_paths(
        "prisoner", prisoner_row(given_names=f"  {decomposed}\u00a0", rank=" ", unit="")
    )
    assert value["given_names"] == "José María"
    assert unicodedata.is_normalized("NFC", str(value["given_names"]))
    assert "rank" not in value
    assert "unit" not in value


def test_categories_are_sorted_and_deduplicated() -> None:
    value = both_paths(
        "prisoner", prisoner_row(categories=" seriously_wounded; civilian;;civilian ;")
    )
    assert value["categories"] == ["civilian", "seriously_wounded"]
    assert "categories" not in both_paths("prisoner", prisoner_row(categories=" ; "))
    model = Prisoner.model_validate(
        {**both_paths("prisoner", prisoner_row()), "categories": ["seriously_ill", "civilian"]}
    )
    assert model.categories == ("civilian", "seriously_ill")


def test_optional_fields_are_omitted() -> None:
    row = {k: v for k, v in prisoner_row().items() if k not in {"rank", "unit", "categories"}}
    row["service_number"] = ""
    value = both_paths("prisoner", row)
    assert set(value) == {
        "person_id",
        "family_name",
        "given_names",
        "date_of_birth",
        "sex",
        "citizenship",
        "place_of_detention",
    }


def test_none_cells_are_absent() -> None:
    value = both_paths("prisoner", {**prisoner_row(), "rank": None})
    assert "rank" not in value


def test_remains_evidence() -> None:
    value = both_paths("remains", remains_row())
    assert value["evidence"] == [
        {"alg": "sha256", "digest": bytes.fromhex(SHA_B)},
        {"alg": "sha256", "digest": bytes.fromhex(SHA_A), "purpose": "dna_profile"},
    ]
    model = records.from_canonical("remains", value)
    assert isinstance(model, Remains)
    assert model.evidence[1].to_text() == f"dna_profile=sha256:{SHA_A}"


def test_remains_unidentified_without_names() -> None:
    row = remains_row(identification_status="unidentified", family_name="", given_names="")
    value = both_paths("remains", row)
    assert "family_name" not in value
    assert records.identity_key("remains", value) is None


def test_remains_evidence_deduplicated_and_other_algorithms() -> None:
    sha512 = "cd" * 64
    cell = f"tag_photo=sha512:{sha512}; tag_photo=sha512:{sha512.upper()}; photo=sha3-256:{SHA_A}"
    value = both_paths("remains", remains_row(evidence=cell))
    assert value["evidence"] == [
        {"alg": "sha3-256", "digest": bytes.fromhex(SHA_A), "purpose": "photo"},
        {"alg": "sha512", "digest": bytes.fromhex(sha512), "purpose": "tag_photo"},
    ]


def test_child_case_and_medical_case() -> None:
    value = both_paths("child_case", child_row())
    assert value["date_of_separation"] == "2022-03-10"
    assert both_paths("child_case", child_row(date_of_separation="2015-07-01"))
    value = both_paths("medical_case", medical_row())
    assert value == {
        "person_ref": "A-000123",
        "condition_category": "seriously_wounded",
        "assessed_on": "2024-01-15",
        "assessed_by": "Mixed Medical Commission 2",
    }
    assert records.identity_key("medical_case", value) is None
    assert records.record_id("medical_case", value) == "A-000123"


def test_utf8_bom_in_a_row_is_rejected_not_hidden() -> None:
    # readers decode with utf-8-sig; a BOM that reaches a cell is an error
    code, field = rejected("prisoner", prisoner_row(family_name="\ufeffIvanov"))
    assert (code, field) == (ErrorCode.INPUT_RECORD, "family_name")


# ------------------------------------------------------------------ row rejections

BAD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("prisoner", {"family_name": ""}, "family_name"),
    ("prisoner", {"family_name": "   "}, "family_name"),
    ("prisoner", {"date_of_birth": "1990-5-17"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "17.05.1990"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "19900517"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "1990-02-30"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "1899-12-31"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "2020-W01-1"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "２０２０-01-01"}, "date_of_birth"),
    ("prisoner", {"date_of_birth": "1990-05-17T00:00"}, "date_of_birth"),
    ("prisoner", {"sex": "Male"}, "sex"),
    ("prisoner", {"sex": "m"}, "sex"),
    ("prisoner", {"categories": "civilian;minor"}, "categories"),
    ("prisoner", {"categories": "Civilian"}, "categories"),
    ("prisoner", {"citizenship": "ua"}, "citizenship"),
    ("prisoner", {"citizenship": "U1"}, "citizenship"),
    ("prisoner", {"citizenship": "UKRA"}, "citizenship"),
    ("prisoner", {"citizenship": "Ü"}, "citizenship"),
    ("prisoner", {"family_name": "Iva\tnov"}, "family_name"),
    ("prisoner", {"family_name": "Ivanov\n"}, "family_name"),
    ("prisoner", {"family_name": "Iva\u202enov"}, "family_name"),
    ("prisoner", {"family_name": "Iva\u200bnov"}, "family_name"),
    ("prisoner", {"family_name": "Iva\u00adnov"}, "family_name"),
    ("prisoner", {"family_name": "I" * 201}, "family_name"),
    ("prisoner", {"person_id": "x" * 129}, "person_id"),
    ("prisoner", {"nickname": "Vanya"}, "nickname"),
    ("remains", {"identification_status": "identified", "family_name": ""}, "family_name"),
    ("remains", {"identification_status": "identified", "given_names": ""}, "given_names"),
    ("remains", {"identification_status": "maybe"}, "identification_status"),
    ("remains", {"recovery_date": "1980-01-01"}, "recovery_date"),
    ("remains", {"evidence": "sha256:abcd"}, "evidence"),
    ("remains", {"evidence": f"sha1:{SHA_A[:40]}"}, "evidence"),
    ("remains", {"evidence": f"sha256:{SHA_A[:-1]}x"}, "evidence"),
    ("remains", {"evidence": f"sha256:{SHA_A[:-1]}"}, "evidence"),
    ("remains", {"evidence": f"sha256: {SHA_A}"}, "evidence"),
    ("remains", {"evidence": f"sha256:{'ab ' * 32}"}, "evidence"),
    ("remains", {"evidence": SHA_A}, "evidence"),
    ("remains", {"evidence": f"selfie=sha256:{SHA_A}"}, "evidence"),
    ("remains", {"evidence": f"DNA_PROFILE=sha256:{SHA_A}"}, "evidence"),
    ("child_case", {"date_of_separation": "2015-06-30"}, "date_of_separation"),
    ("child_case", {"contact_reference": ""}, "contact_reference"),
    ("medical_case", {"condition_category": "flu"}, "condition_category"),
    ("medical_case", {"assessed_on": "2024-13-01"}, "assessed_on"),
]


@pytest.mark.parametrize(("kind", "changes", "field"), BAD_ROWS)
def test_row_rejections(kind: str, changes: dict[str, Any], field: str) -> None:
    code, got = rejected(kind, ROWS[kind](**changes))
    assert code is ErrorCode.INPUT_RECORD
    assert got == field


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_missing_required_column(kind: str) -> None:
    for spec in records.get_kind(kind).fields:
        if spec.required:
            row = {k: v for k, v in ROWS[kind]().items() if k != spec.name}
            assert rejected(kind, row) == (ErrorCode.INPUT_RECORD, spec.name)


def test_non_text_cells_and_keys() -> None:
    assert rejected("prisoner", {**prisoner_row(), "rank": 5})[1] == "rank"
    assert rejected("prisoner", {**prisoner_row(), None: ["x"]})[1] == "?"  # type: ignore[dict-item]
    assert rejected("prisoner", {**prisoner_row(), "rank": b"x"})[1] == "rank"


def test_messages_never_show_values() -> None:
    secret = "Секретенко"
    row = prisoner_row(family_name=secret, date_of_birth="1990-02-30", given_names="x\u202e")
    for call in (records.canonical_from_row, records.from_row):
        with pytest.raises(InputError) as err:
            call("prisoner", row)
        chain: BaseException | None = err.value
        while chain is not None:
            assert secret not in str(chain)
            assert "1990-02-30" not in str(chain)
            chain = chain.__cause__ or chain.__context__


def test_direct_construction_raises_input_error() -> None:
    data: dict[str, Any] = {**records.canonical_from_row("prisoner", prisoner_row())}
    with pytest.raises(InputError) as err:
        Prisoner(**{**data, "family_name": ""})
    assert err.value.details["field"] == "family_name"
    with pytest.raises(InputError) as err:
        Remains(
            remains_id="R-1",
            recovery_date=date(2023, 1, 1),
            recovery_place="P",
            identification_status="identified",
        )
    assert err.value.details["field"] == "family_name"
    with pytest.raises(InputError):
        ChildCase.model_validate({**child_row(), "date_of_birth": date(1899, 12, 31)})


def test_model_accepts_dates_and_evidence_forms() -> None:
    model = Remains(
        remains_id="R-1",
        recovery_date=date(2023, 1, 1),
        recovery_place="P",
        identification_status="unidentified",
        evidence=(
            Evidence(alg="sha256", digest=bytes(32), purpose="dna_profile"),
            f"tag_photo=sha256:{SHA_A}",  # type: ignore[arg-type]
            {"alg": "sha256", "digest": SHA_B},
        ),
    )
    value = records.to_canonical(model)
    assert [item.get("purpose") for item in value["evidence"]] == [  # type: ignore[attr-defined]
        None,
        "dna_profile",
        "tag_photo",
    ]
    with pytest.raises(InputError):
        Remains.model_validate({**value, "evidence": [{"alg": "sha256", "digest": bytes(31)}]})
    with pytest.raises(InputError):
        Remains.model_validate({**value, "recovery_date": "2023-1-1"})


# ------------------------------------------------------------------ canonical values


def canonical(kind: str) -> dict[str, object]:
    return records.canonical_from_row(kind, ROWS[kind]())


BAD_VALUES: list[tuple[str, str, object]] = [
    ("prisoner", "family_name", 5),
    ("prisoner", "family_name", b"Ivanov"),
    ("prisoner", "family_name", ""),
    ("prisoner", "family_name", " Ivanov"),
    ("prisoner", "family_name", "Ivanov\u00a0"),
    ("prisoner", "family_name", "Jose\u0301"),
    ("prisoner", "family_name", "Iva\x00nov"),
    ("prisoner", "family_name", "Iva\u2066nov"),
    ("prisoner", "family_name", None),
    ("prisoner", "date_of_birth", date(1990, 5, 17)),
    ("prisoner", "date_of_birth", "1990-05-17 "),
    ("prisoner", "date_of_birth", 19900517),
    ("prisoner", "sex", "MALE"),
    ("prisoner", "sex", True),
    ("prisoner", "citizenship", "ua"),
    ("prisoner", "categories", []),
    ("prisoner", "categories", ["seriously_ill", "civilian"]),
    ("prisoner", "categories", ["civilian", "civilian"]),
    ("prisoner", "categories", "civilian"),
    ("prisoner", "categories", ["minor"]),
    ("prisoner", "categories", [1]),
    ("prisoner", "rank", None),
    ("prisoner", "nickname", "Vanya"),
    ("remains", "evidence", [{"alg": "sha256", "digest": SHA_A}]),
    ("remains", "evidence", [{"alg": "sha256", "digest": bytearray(32)}]),
    ("remains", "evidence", [{"alg": "sha256", "digest": bytes(31)}]),
    ("remains", "evidence", [{"alg": "sha256", "digest": bytes(32), "purpose": None}]),
    ("remains", "evidence", [{"alg": "sha256", "digest": bytes(32), "note": "x"}]),
    ("remains", "evidence", [{"alg": "SHA256", "digest": bytes(32)}]),
    ("remains", "evidence", [{"digest": bytes(32)}]),
    ("remains", "evidence", ["sha256:" + SHA_A]),
    (
        "remains",
        "evidence",
        [{"alg": "sha256", "digest": bytes([1] * 32)}, {"alg": "sha256", "digest": bytes(32)}],
    ),
    ("remains", "evidence", [{"alg": "sha256", "digest": bytes(32)}] * 2),
    ("remains", "given_names", None),
    ("child_case", "date_of_separation", "2000-01-01"),
    ("medical_case", "assessed_by", ["x"]),
]


@pytest.mark.parametrize(("kind", "field", "bad"), BAD_VALUES)
def test_canonical_rejections(kind: str, field: str, bad: object) -> None:
    value = canonical(kind)
    if bad is None and field in {"given_names", "rank"}:
        value.pop(field, None)
        value[field] = None
    else:
        value[field] = bad
    for call in (records.validate_canonical, records.from_canonical):
        with pytest.raises(InputError) as err:
            call(kind, value)
        assert err.value.code is ErrorCode.INPUT_RECORD
        assert err.value.details["field"] == field
    assert not pydantic_agrees_it_is_canonical(kind, value)


@pytest.mark.parametrize("bad", [[], "x", None, 5, ("a",)])
def test_canonical_value_must_be_a_dict(bad: object) -> None:
    with pytest.raises(InputError) as err:
        records.validate_canonical("prisoner", bad)
    assert err.value.code is ErrorCode.INPUT_RECORD


def test_canonical_non_text_key() -> None:
    bad: dict[object, object] = {key: item for key, item in canonical("prisoner").items()}
    bad[1] = "x"
    with pytest.raises(InputError) as err:
        records.validate_canonical("prisoner", bad)
    assert err.value.details["field"] == "?"


def test_canonical_accepts_tuples_for_lists() -> None:
    value = canonical("prisoner")
    value["categories"] = ("civilian", "seriously_ill")
    records.validate_canonical("prisoner", value)


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_round_trips(kind: str) -> None:
    value = canonical(kind)
    records.validate_canonical(kind, value)
    model = records.from_canonical(kind, value)
    assert isinstance(model, records.get_kind(kind).model)
    assert records.to_canonical(model) == value
    row = records.canonical_to_row(kind, value)
    assert set(row) == set(records.get_kind(kind).field_names)
    assert records.canonical_from_row(kind, row) == value
    assert model.model_validate(model.model_dump()) == model


def test_to_canonical_needs_a_registered_model() -> None:
    with pytest.raises(TypeError):
        records.to_canonical(Evidence(alg="sha256", digest=bytes(32)))


def test_to_canonical_refuses_an_unvalidated_model() -> None:
    value = canonical("prisoner")
    fields: dict[str, Any] = {**value, "family_name": " x"}
    model = Prisoner.model_construct(**fields)
    with pytest.raises(InputError):
        records.to_canonical(model)
    fields = {**dict(Prisoner.model_validate(value)), "family_name": " x"}
    model = Prisoner.model_construct(**fields)
    with pytest.raises(InputError) as err:
        records.to_canonical(model)
    assert err.value.details["field"] == "family_name"


# ------------------------------------------------------------------ helpers


def test_identity_key() -> None:
    a = canonical("prisoner")
    b = {**a, "family_name": "IVANOV", "given_names": "ivan  petrovich", "person_id": "B-1"}
    assert records.identity_key("prisoner", a) == records.identity_key("prisoner", b)
    assert records.identity_key("prisoner", a) == ("ivanov", "ivan petrovich", "1990-05-17")
    c = {**a, "date_of_birth": "1990-05-18"}
    assert records.identity_key("prisoner", a) != records.identity_key("prisoner", c)
    d = {**a, "family_name": "STRAẞE", "given_names": "Ǆemal"}
    e = {**a, "family_name": "strasse", "given_names": "ǆemal"}
    assert records.identity_key("prisoner", d) == records.identity_key("prisoner", e)
    f = {**a, "family_name": "ШЕВЧЕНКО", "given_names": "Тарас"}
    key = records.identity_key("prisoner", f)
    assert key is not None
    assert key[0] == "шевченко"
    assert all(unicodedata.is_normalized("NFC", part) for part in key)
    assert records.identity_key("child_case", canonical("child_case")) is not None


def test_record_id() -> None:
    assert records.record_id("prisoner", canonical("prisoner")) == "A-000123"
    assert records.record_id("remains", canonical("remains")) == "R-77"
    assert records.record_id("child_case", canonical("child_case")) == "C-1"
    with pytest.raises(InputError):
        records.record_id("prisoner", {})


def test_check_not_future() -> None:
    value = canonical("child_case")
    records.check_not_future("child_case", value, today=date(2022, 3, 10))
    with pytest.raises(InputError) as err:
        records.check_not_future("child_case", value, today=date(2022, 3, 9))
    assert err.value.details["field"] == "date_of_separation"
    remains = canonical("remains")
    records.check_not_future("remains", remains, today=date(2023, 3, 2))
    with pytest.raises(InputError):
        records.check_not_future("remains", remains, today=date(2000, 1, 1))


# ------------------------------------------------------------------ text rules


def test_forbidden_code_points() -> None:
    for low, high in FORBIDDEN_RANGES:
        for point in {low, high, (low + high) // 2}:
            char = chr(point)
            # the fast paths use isprintable() as a prefilter: it must hold
            assert not char.isprintable(), hex(point)
            with pytest.raises(FieldError):
                clean_text(f"a{char}b", 10)
            with pytest.raises(FieldError):
                check_text(f"a{char}b", 10)
    for allowed in ("\u200c", "\u200d", "\ue000", "\u00a0x"):
        assert check_text(clean_text(f"a{allowed}", 10), 10)


def test_vocabularies_agree() -> None:
    assert set(get_args(Evidence.model_fields["alg"].annotation)) == set(DIGEST_ALGORITHMS)
    assert tuple(sorted(records.PRISONER_CATEGORIES)) == records.PRISONER_CATEGORIES
    assert records.get_kind("prisoner").fields[-1].choices == records.PRISONER_CATEGORIES


def test_every_forbidden_code_point_is_non_printable() -> None:
    for low, high in FORBIDDEN_RANGES:
        assert not any(chr(point).isprintable() for point in range(low, high + 1))


def test_whitespace_is_stripped() -> None:
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    for space in spaces:
        try:
            cleaned = clean_text(f"{space}x{space}", 10)
        except FieldError:
            assert not space.isprintable()
        else:
            assert cleaned == "x"


# ------------------------------------------------------------------ custom kinds


class Detainee(RecordModel):
    """An embedding system's own kind: ints, bools, a choice set, a rule."""

    canonical_rules = (
        lambda value: (
            ("visits", "must be 0 without consent")
            if value["visits"] and not value["consent"]
            else None
        ),
    )

    card_id: Annotated[str, TextSpec(max_length=16, pattern="[A-Z]{2}-[0-9]+")]
    visits: Annotated[int, Field(ge=0, le=1000)]
    consent: bool
    note: Annotated[str, TextSpec(max_length=50)] | None = None
    tags: Annotated[tuple[Literal["blue", "green"], ...], SetOf()] = ()


CUSTOM = "org.example.detainee_card"
if CUSTOM not in records.kinds():
    records.register_kind(CUSTOM, Detainee, id_field="card_id")


def detainee_row(**changes: str) -> dict[str, str]:
    return {"card_id": "AB-12", "visits": "3", "consent": "true", "tags": "green;blue", **changes}


def test_custom_kind() -> None:
    kind = records.get_kind(CUSTOM)
    assert kind.identity_fields is None
    assert [spec.type.value for spec in kind.fields] == [
        "text",
        "int",
        "bool",
        "text",
        "choice-set",
    ]
    value = both_paths(CUSTOM, detainee_row())
    assert value == {"card_id": "AB-12", "visits": 3, "consent": True, "tags": ["blue", "green"]}
    assert records.canonical_to_row(CUSTOM, value)["consent"] == "true"
    assert records.from_canonical(CUSTOM, value) == Detainee(
        card_id="AB-12", visits=3, consent=True, tags=("green", "blue")
    )
    assert records.record_id(CUSTOM, value) == "AB-12"
    assert records.identity_key(CUSTOM, value) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"visits": "007"}, "visits"),
        ({"visits": "-0"}, "visits"),
        ({"visits": "+3"}, "visits"),
        ({"visits": "1001"}, "visits"),
        ({"visits": "-1"}, "visits"),
        ({"visits": "3.0"}, "visits"),
        ({"visits": "٣"}, "visits"),
        ({"consent": "yes"}, "consent"),
        ({"consent": "True"}, "consent"),
        ({"consent": "false"}, "visits"),
        ({"card_id": "ab-12"}, "card_id"),
        ({"tags": "red"}, "tags"),
    ],
)
def test_custom_kind_row_rejections(changes: dict[str, str], field: str) -> None:
    assert rejected(CUSTOM, detainee_row(**changes)) == (ErrorCode.INPUT_RECORD, field)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("visits", True),
        ("visits", False),
        ("visits", "3"),
        ("visits", 3.0),
        ("visits", 2**70),
        ("consent", 1),
        ("consent", "true"),
        ("card_id", "AB-12 "),
    ],
)
def test_custom_kind_canonical_rejections(field: str, bad: object) -> None:
    value = {"card_id": "AB-12", "visits": 0, "consent": False, field: bad}
    with pytest.raises(InputError) as err:
        records.validate_canonical(CUSTOM, value)
    assert err.value.details["field"] == field
    assert not pydantic_agrees_it_is_canonical(CUSTOM, value)


def _model(**fields: Any) -> type[BaseModel]:
    namespace = {"__annotations__": fields, "model_config": Detainee.model_config}
    return type("Custom", (BaseModel,), namespace)


@pytest.mark.parametrize(
    "model",
    [
        _model(card_id=Annotated[str, TextSpec(max_length=9)], score=float),
        _model(card_id=Annotated[str, TextSpec(max_length=9)], name=str),
        _model(card_id=Annotated[str, TextSpec(max_length=9)], data=dict[str, str]),
        _model(card_id=Annotated[str, TextSpec(max_length=9)], when=date),
        _model(card_id=Annotated[str, TextSpec(max_length=9)] | None),
        _model(card_id=Annotated[str, TextSpec(max_length=9)], tags=tuple[str, ...]),
        _model(
            card_id=Annotated[str, TextSpec(max_length=9)],
            tags=Annotated[tuple[Literal["a"], ...], SetOf()],
        ),
    ],
)
def test_unsupported_models_are_refused(model: type[BaseModel]) -> None:
    with pytest.raises(TypeError):
        records.register_kind("org.example.bad", model, id_field="card_id")
    assert "org.example.bad" not in records.kinds()


def test_lax_model_is_refused() -> None:
    class Lax(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        card_id: Annotated[str, TextSpec(max_length=9)]

    with pytest.raises(TypeError):
        records.register_kind("org.example.lax", Lax, id_field="card_id")


def test_id_field_must_be_required_text() -> None:
    class Model(RecordModel):
        card_id: Annotated[str, TextSpec(max_length=9)] | None = None
        visits: int

    for id_field in ("card_id", "visits", "nope"):
        with pytest.raises(TypeError):
            records.register_kind("org.example.ids", Model, id_field=id_field)


def test_plain_pydantic_model_kind() -> None:
    class Plain(BaseModel):
        model_config = ConfigDict(
            strict=True, frozen=True, extra="forbid", hide_input_in_errors=True
        )
        ref: Annotated[str, TextSpec(max_length=9)]
        family_name: Annotated[str, TextSpec(max_length=9)]
        given_names: Annotated[str, TextSpec(max_length=9)]
        date_of_birth: Annotated[date, records.DateSpec()]

    name = "org.example.plain"
    kind = records.get_kind(name) if name in records.kinds() else None
    kind = kind or records.register_kind(name, Plain, id_field="ref")
    value = both_paths(
        name, {"ref": "1", "family_name": "A", "given_names": "B", "date_of_birth": "2000-01-01"}
    )
    assert kind.identity_fields == ("family_name", "given_names", "date_of_birth")
    assert records.identity_key(name, value) == ("a", "b", "2000-01-01")
    assert (
        rejected(name, {"ref": "1", "family_name": "A", "given_names": "B"})[1] == "date_of_birth"
    )


# ------------------------------------------------------------------ properties

SPECIAL = [" ", "\u00a0", "\t", "\n", ";", "=", ":", "-", "\u0301", "\u0308", "\u200b", "\u202e"]
SPECIAL += ["\u200c", "\ufeff", "\x00", "\x85", "ǰ", "\u0344", "\u212b", "Å", "ﬁ", "\ud7ff"]
ALPHABET = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from("aeiouxyzAZ019_"),
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
)
ANY_TEXT = st.text(ALPHABET, max_size=12)
NAME = st.text(st.characters(codec="utf-8", categories=["L", "M", "Zs"]), min_size=1, max_size=12)
DATES = st.dates(min_value=date(1890, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)


def _cell_strategy(kind: str, name: str) -> st.SearchStrategy[str]:
    spec = {s.name: s for s in records.get_kind(kind).fields}.get(name)
    if spec is None:
        return ANY_TEXT
    typed: list[st.SearchStrategy[str]] = [ANY_TEXT, NAME]
    if spec.type.value == "date":
        typed.append(DATES)
    if spec.choices:
        choices = st.sampled_from(spec.choices)
        typed.append(st.lists(choices, max_size=4).map(";".join))
        typed.append(choices.map(lambda c: f" {c} "))
    if spec.type.value == "evidence-set":
        item = st.tuples(
            st.sampled_from(["", "dna_profile=", "photo=", "bad="]),
            st.sampled_from(["sha256", "sha512", "sha1"]),
            st.binary(min_size=31, max_size=33),
        ).map(lambda t: f"{t[0]}{t[1]}:{t[2].hex()}")
        typed.append(st.lists(item, max_size=3).map(";".join))
    return st.one_of(typed)


@st.composite
def mutated_rows(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    kind = draw(st.sampled_from([*sorted(ROWS), CUSTOM]))
    row: dict[str, object] = dict(ROWS[kind]() if kind in ROWS else detainee_row())
    for name in draw(st.lists(st.sampled_from([*row, "extra"]), max_size=3, unique=True)):
        action = draw(st.integers(0, 9))
        if action == 0:
            row.pop(name, None)
        elif action == 1:
            row[name] = None
        else:
            row[name] = draw(_cell_strategy(kind, name))
    return kind, row


def fast_row_outcome(kind: str, row: Mapping[str, object]) -> object:
    try:
        return records.canonical_from_row(kind, row)
    except InputError as exc:
        return exc.code


def pydantic_row_outcome(kind: str, row: Mapping[str, object]) -> object:
    """The model path without the fast-check guard: pydantic alone decides."""
    record_kind = records.get_kind(kind)
    try:
        data = row_to_model_input(row, record_kind.fields)
        model = record_kind.model.model_validate(data)
    except ColumnError:
        return ErrorCode.INPUT_RECORD
    except InputError as exc:
        return exc.code
    except ValueError:  # pydantic's ValidationError, for models not based on RecordModel
        return ErrorCode.INPUT_RECORD
    value = model_to_value(model, record_kind.fields)
    record_kind.plan.apply_rules(value)
    return value


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_rows())
def test_fast_row_path_agrees_with_pydantic(case: tuple[str, dict[str, object]]) -> None:
    kind, row = case
    assert fast_row_outcome(kind, row) == pydantic_row_outcome(kind, row)


def _lists_as_lists(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_lists_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _lists_as_lists(item) for key, item in value.items()}
    return value


def pydantic_agrees_it_is_canonical(kind: str, value: object) -> bool:
    """Pydantic accepts ``value`` and gives it back unchanged (so it was canonical)."""
    record_kind = records.get_kind(kind)
    if not isinstance(value, dict):
        return False
    try:
        model = record_kind.model.model_validate(value_to_model_input(value))
        out = model_to_value(model, record_kind.fields)
        record_kind.plan.apply_rules(out)
    except (InputError, ValueError):
        return False
    return out == _lists_as_lists(value)


LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    ANY_TEXT,
    NAME,
    DATES,
    st.binary(max_size=33),
    st.sampled_from(["civilian", "seriously_ill", "male", "identified", "chronic", "sha256"]),
)
VALUES = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["alg", "digest", "purpose", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def mutated_values(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    kind, row = draw(mutated_rows())
    try:
        value = records.canonical_from_row(kind, row)
    except InputError:
        value = records.canonical_from_row(kind, ROWS[kind]() if kind in ROWS else detainee_row())
    for name in draw(st.lists(st.sampled_from([*value, "extra"]), max_size=2, unique=True)):
        if draw(st.booleans()):
            value.pop(name, None)
        else:
            value[name] = draw(VALUES)
    return kind, value


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_values())
def test_fast_validator_agrees_with_pydantic(case: tuple[str, dict[str, object]]) -> None:
    kind, value = case
    try:
        records.validate_canonical(kind, value)
        fast_ok = True
    except InputError as exc:
        code = exc.code
        fast_ok = False
    else:
        code = ErrorCode.INPUT_RECORD
    assert code is ErrorCode.INPUT_RECORD
    assert fast_ok == pydantic_agrees_it_is_canonical(kind, value)
    if fast_ok:
        assert records.to_canonical(records.from_canonical(kind, value)) == _lists_as_lists(value)
        assert records.canonical_from_row(kind, records.canonical_to_row(kind, value)) == value


@given(st.text(ALPHABET, max_size=20))
def test_clean_text_output_is_canonical(raw: str) -> None:
    try:
        cleaned = clean_text(raw, 20)
    except FieldError:
        return
    assert check_text(cleaned, 20) == cleaned
    assert clean_text(cleaned, 20) == cleaned


# ------------------------------------------------------------------ batches of rows


@st.composite
def row_batches(draw: st.DrawFn) -> tuple[str, list[str], list[list[list[str]]]]:
    """A kind, a header (some optional columns left out, any order) and batches of rows:
    mostly valid rows, some with a mutated cell."""
    kind = draw(st.sampled_from([*sorted(ROWS), CUSTOM]))
    base = dict(ROWS[kind]() if kind in ROWS else detainee_row())
    required = {s.name for s in records.get_kind(kind).fields if s.required}
    names = [name for name in base if name in required or draw(st.booleans())]
    names = draw(st.permutations(names))
    batches = []
    for _ in range(draw(st.integers(1, 3))):
        batch = []
        for _ in range(draw(st.integers(0, 6))):
            row = dict(base)
            for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
                row[name] = draw(_cell_strategy(kind, name))
            batch.append([row[name] for name in names])
        batches.append(batch)
    return kind, list(names), batches


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(row_batches())
def test_rows_converter_agrees_with_from_row(
    case: tuple[str, list[str], list[list[list[str]]]],
) -> None:
    kind, names, batches = case
    plan = records.get_kind(kind).plan
    converter = plan.rows_converter(names, max_cell=40)
    assert converter is not None
    for batch in batches:
        values = converter(batch)
        expected = [fast_row_outcome(kind, dict(zip(names, row, strict=True))) for row in batch]
        if any(len(cell) > 40 for row in batch for cell in row):
            assert values is None
        if values is None:
            continue
        assert values == expected
        for value, want in zip(values, expected, strict=True):
            assert list(value) == sorted(value) == list(want)  # type: ignore[call-overload]


def test_rows_converter_takes_clean_batches_and_refuses_doubtful_ones() -> None:
    names = list(prisoner_row())
    good = [list(prisoner_row(person_id=f"A-{i}").values()) for i in range(5)]
    converter = records.get_kind("prisoner").plan.rows_converter(names, max_cell=100)
    assert converter is not None
    values = converter(good)
    assert values == [
        records.canonical_from_row("prisoner", prisoner_row(person_id=f"A-{i}")) for i in range(5)
    ]
    for bad in ({"sex": "x"}, {"family_name": " "}, {"rank": "a\u202eb"}, {"unit": "u" * 101}):
        assert converter([*good, list(prisoner_row(**bad).values())]) is None
    assert converter([]) == []


def test_rows_converter_needs_a_header_some_row_could_pass() -> None:
    plan = records.get_kind("prisoner").plan
    names = list(prisoner_row())
    assert plan.rows_converter([*names, "extra"], max_cell=10) is None
    assert plan.rows_converter([n for n in names if n != "sex"], max_cell=10) is None
    assert plan.rows_converter([n for n in names if n != "rank"], max_cell=10) is not None


def test_rows_converter_memo_of_converted_cells_stays_correct_when_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import swapproto._recordplan as plan_module

    monkeypatch.setattr(plan_module, "_COLUMN_MEMO_LIMIT", 3)
    names = list(prisoner_row())
    converter = records.get_kind("prisoner").plan.rows_converter(names, max_cell=100)
    assert converter is not None
    for start in range(0, 40, 4):
        rows = [
            prisoner_row(date_of_birth=f"1990-01-{day:02d}")
            for day in range(1 + start % 28, 5 + start % 28)
        ]
        assert converter([list(row.values()) for row in rows]) == [
            records.canonical_from_row("prisoner", row) for row in rows
        ]


# ------------------------------------------------------------------ identities

IDENTITY_PARTS = st.text(
    st.one_of(
        st.sampled_from(" \t\u3000AaİiıÅåǰJ\u030cßSsΣσςﬁ\u0345\u0301\u0308ЙйИи\u0306ДЖ"),
        st.characters(codec="utf-8", categories=["L", "M", "Zs"]),
    ),
    max_size=6,
)


@settings(max_examples=500)
@given(
    st.lists(IDENTITY_PARTS, min_size=3, max_size=3),
    st.lists(IDENTITY_PARTS, min_size=3, max_size=3),
)
def test_identity_text_is_equal_exactly_when_the_identity_key_is(
    a: list[str], b: list[str]
) -> None:
    fields = records.get_kind("prisoner").identity_fields
    assert fields is not None
    value_a = dict(zip(fields, a, strict=True))
    value_b = dict(zip(fields, b, strict=True))
    for x, y in (
        (value_a, value_b),
        (value_a, {k: unicodedata.normalize("NFD", v).upper() for k, v in value_a.items()}),
    ):
        same_key = records.identity_key("prisoner", x) == records.identity_key("prisoner", y)
        same_text = records.identity_text(x, fields) == records.identity_text(y, fields)
        assert same_key == same_text


def test_identity_text_and_id_helpers_need_no_registry_lookup() -> None:
    value = {"person_id": "A-1", "family_name": "ШЕВЧЕНКО", "given_names": "Тарас"}
    fields = ("family_name", "given_names")
    assert records.identity_text(value, fields) == unicodedata.normalize("NFD", "шевченко\x00тарас")
    assert records.identity_text(value, None) is None
    assert records.identity_text({"family_name": "x"}, fields) is None
    assert records.id_from(value, "prisoner", "person_id") == "A-1"
    with pytest.raises(InputError) as info:
        records.id_from({}, "prisoner", "person_id")
    assert str(info.value) == "[input.invalid_record] prisoner record: field 'person_id' is missing"


def test_rows_become_values_with_keys_in_canonical_order() -> None:
    value = records.canonical_from_row("prisoner", prisoner_row())
    assert list(value) == sorted(value)


# --------------------------------------------------------------------------------------
# vectors (spec/vectors/records/canonical.json)

_RECORD_VECTORS = load_vectors("records", "canonical")


@pytest.mark.parametrize(
    "case", _RECORD_VECTORS["valid"], ids=[c["desc"] for c in _RECORD_VECTORS["valid"]]
)
def test_record_vector_accepted(case: dict[str, Any]) -> None:
    value = decode(bytes.fromhex(case["encoded"]))
    assert value == from_typed(case["value"])
    records.validate_canonical(case["kind"], value)
    assert records.to_canonical(records.from_canonical(case["kind"], value)) == value


@pytest.mark.parametrize(
    "case", _RECORD_VECTORS["rejected"], ids=[c["desc"] for c in _RECORD_VECTORS["rejected"]]
)
def test_record_vector_rejected(case: dict[str, Any]) -> None:
    value = decode(bytes.fromhex(case["encoded"]))
    assert value == from_typed(case["value"])
    for check in (records.validate_canonical, records.from_canonical):
        with pytest.raises(InputError) as info:
            check(case["kind"], value)
        assert info.value.code == case["want_error"]
        assert info.value.details["field"] == case["field"]
