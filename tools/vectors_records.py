"""Vectors for record kinds (``spec/vectors/records/``): canonical values that a verifier
MUST accept, and values it MUST reject, one broken rule each, naming the field."""

from __future__ import annotations

from typing import Any

from swapproto.encoding import encode
from swapproto.errors import InputError
from swapproto.records import validate_canonical
from typed_json import to_typed

PRISONER: dict[str, Any] = {
    "categories": ["long_captivity", "seriously_wounded"],
    "citizenship": "UA",
    "date_of_birth": "1994-03-09",
    "family_name": "Шевченко",
    "given_names": "Тарас Григорович",
    "person_id": "UA-2024-000123",
    "place_of_detention": "Camp 4",
    "rank": "sergeant",
    "service_number": "A123456",
    "sex": "male",
    "unit": "3rd brigade",
}
MINIMAL_PRISONER: dict[str, Any] = {
    "citizenship": "XXA",
    "date_of_birth": "1900-01-01",
    "family_name": "Doe",
    "given_names": "J",
    "person_id": "p",
    "sex": "unknown",
}
REMAINS: dict[str, Any] = {
    "evidence": [
        {"alg": "sha256", "digest": bytes([0xA1]) * 32, "purpose": "dna_profile"},
        {"alg": "sha256", "digest": bytes([0x5D]) * 32, "purpose": "tag_photo"},
    ],
    "family_name": "Kovalenko",
    "given_names": "Olha",
    "identification_status": "presumed",
    "recovery_date": "2023-03-02",
    "recovery_place": "Field 2 km north of village K.",
    "remains_id": "R-0077",
    "service_number": "B-99812",
}
UNIDENTIFIED: dict[str, Any] = {
    "evidence": [
        {"alg": "sha256", "digest": bytes(32)},
        {"alg": "sha3-256", "digest": bytes(32), "purpose": "dental_record"},
        {"alg": "sha512", "digest": bytes(64), "purpose": "dental_record"},
    ],
    "identification_status": "unidentified",
    "recovery_date": "2024-02-29",
    "recovery_place": "Sector 7",
    "remains_id": "R-0078",
}
CHILD: dict[str, Any] = {
    "case_id": "TR-2022-0042",
    "contact_reference": "Tracing request 42, national society office",
    "date_of_birth": "2015-07-01",
    "date_of_separation": "2022-03-10",
    "family_name": "الحداد",
    "given_names": "لينا",
    "last_known_place": "Shelter 3, district 5",
}
MEDICAL: dict[str, Any] = {
    "assessed_by": "Mixed Medical Commission 2",
    "assessed_on": "2024-01-15",
    "condition_category": "seriously_wounded",
    "person_ref": "UA-2024-000123",
}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with fields replaced; a value of ``...`` removes the field."""
    out = dict(base)
    for name, value in changes.items():
        if value is ...:
            out.pop(name, None)
        else:
            out[name] = value
    return out


VALID: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("prisoner example (records.md 4.5)", "prisoner", PRISONER),
    ("prisoner with only the required fields", "prisoner", MINIMAL_PRISONER),
    ("text of exactly 200 code points", "prisoner", _with(PRISONER, family_name="Ж" * 200)),
    ("inner white space kept", "prisoner", _with(PRISONER, given_names="Taras  Hryhorovych")),
    ("ZWNJ allowed (Persian)", "prisoner", _with(PRISONER, family_name="می\u200cخواهم")),
    ("private-use code point allowed", "prisoner", _with(PRISONER, rank="\ue000")),
    ("citizenship alpha-3", "prisoner", _with(PRISONER, citizenship="UKR")),
    ("remains example (records.md 4.5)", "remains", REMAINS),
    ("unidentified remains, evidence of every alg", "remains", UNIDENTIFIED),
    ("child_case example (records.md 4.5)", "child_case", CHILD),
    ("separated on the day of birth", "child_case", _with(CHILD, date_of_separation="2015-07-01")),
    ("medical_case example (records.md 4.5)", "medical_case", MEDICAL),
)

REJECTED: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("required field missing", "prisoner", _with(PRISONER, sex=...), "sex"),
    ("optional field nil", "prisoner", _with(PRISONER, rank=None), "rank"),
    ("text empty", "prisoner", _with(PRISONER, unit=""), "unit"),
    ("empty choice set", "prisoner", _with(PRISONER, categories=[]), "categories"),
    ("unknown field", "prisoner", _with(PRISONER, nickname="T"), "nickname"),
    ("text an int", "prisoner", _with(PRISONER, person_id=123), "person_id"),
    ("text as bin", "prisoner", _with(PRISONER, person_id=b"p"), "person_id"),
    ("date an int", "prisoner", _with(PRISONER, date_of_birth=19940309), "date_of_birth"),
    ("text of 201 code points", "prisoner", _with(PRISONER, family_name="Ж" * 201), "family_name"),
    ("leading white space", "prisoner", _with(PRISONER, rank=" sergeant"), "rank"),
    ("trailing no-break space", "prisoner", _with(PRISONER, rank="sergeant\u00a0"), "rank"),
    ("zero width space", "prisoner", _with(PRISONER, family_name="Шев\u200bченко"), "family_name"),
    ("right-to-left override", "prisoner", _with(PRISONER, unit="3rd \u202ebrigade"), "unit"),
    ("soft hyphen", "prisoner", _with(PRISONER, unit="bri\u00adgade"), "unit"),
    ("tab", "prisoner", _with(PRISONER, unit="3rd\tbrigade"), "unit"),
    ("citizenship lower case", "prisoner", _with(PRISONER, citizenship="ua"), "citizenship"),
    ("citizenship of 4 letters", "prisoner", _with(PRISONER, citizenship="UKRA"), "citizenship"),
    (
        "29 February of a common year",
        "prisoner",
        _with(PRISONER, date_of_birth="2023-02-29"),
        "date_of_birth",
    ),
    ("date before 1900", "prisoner", _with(PRISONER, date_of_birth="1899-12-31"), "date_of_birth"),
    ("date basic format", "prisoner", _with(PRISONER, date_of_birth="19940309"), "date_of_birth"),
    (
        "date not zero-padded",
        "prisoner",
        _with(PRISONER, date_of_birth="1994-3-9"),
        "date_of_birth",
    ),
    ("choice in another case", "prisoner", _with(PRISONER, sex="Male"), "sex"),
    (
        "choice set unsorted",
        "prisoner",
        _with(PRISONER, categories=["seriously_wounded", "long_captivity"]),
        "categories",
    ),
    (
        "choice set with a duplicate",
        "prisoner",
        _with(PRISONER, categories=["civilian", "civilian"]),
        "categories",
    ),
    (
        "choice set with an unknown item",
        "prisoner",
        _with(PRISONER, categories=["brave"]),
        "categories",
    ),
    ("choice set a string", "prisoner", _with(PRISONER, categories="civilian"), "categories"),
    (
        "evidence digest of the wrong size",
        "remains",
        _with(REMAINS, evidence=[{"alg": "sha256", "digest": bytes(31)}]),
        "evidence",
    ),
    (
        "evidence alg unknown",
        "remains",
        _with(REMAINS, evidence=[{"alg": "md5", "digest": bytes(16)}]),
        "evidence",
    ),
    (
        "evidence purpose unknown",
        "remains",
        _with(REMAINS, evidence=[{"alg": "sha256", "digest": bytes(32), "purpose": "selfie"}]),
        "evidence",
    ),
    (
        "evidence item with an extra key",
        "remains",
        _with(REMAINS, evidence=[{"alg": "sha256", "digest": bytes(32), "note": "x"}]),
        "evidence",
    ),
    (
        "evidence digest as a str",
        "remains",
        _with(REMAINS, evidence=[{"alg": "sha256", "digest": "00" * 32}]),
        "evidence",
    ),
    (
        "evidence unsorted (purpose order)",
        "remains",
        _with(REMAINS, evidence=list(reversed(REMAINS["evidence"]))),
        "evidence",
    ),
    (
        "identified without names",
        "remains",
        _with(REMAINS, identification_status="identified", family_name=..., given_names=...),
        "family_name",
    ),
    (
        "recovered before birth",
        "remains",
        _with(REMAINS, date_of_birth="2023-03-03"),
        "recovery_date",
    ),
    (
        "separated before birth",
        "child_case",
        _with(CHILD, date_of_separation="2015-06-30"),
        "date_of_separation",
    ),
    (
        "condition category of another kind",
        "medical_case",
        _with(MEDICAL, condition_category="civilian"),
        "condition_category",
    ),
)


def _valid_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for desc, kind, value in VALID:
        validate_canonical(kind, value)  # the implementation must agree with the vector
        cases.append(
            {"desc": desc, "kind": kind, "value": to_typed(value), "encoded": encode(value).hex()}
        )
    return cases


def _rejected_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for desc, kind, value, field in REJECTED:
        try:
            validate_canonical(kind, value)
        except InputError as exc:
            if exc.details.get("field") != field:
                raise AssertionError(
                    f"{desc}: refused for {exc.details.get('field')!r}, not {field!r}"
                ) from None
            cases.append(
                {
                    "desc": desc,
                    "kind": kind,
                    "value": to_typed(value),
                    "encoded": encode(value).hex(),
                    "want_error": str(exc.code),
                    "field": field,
                }
            )
            continue
        raise AssertionError(f"{desc}: accepted")
    return cases


def generate() -> dict[str, object]:
    """Accepted and rejected canonical values of the built-in kinds."""
    return {
        "canonical": {
            "desc": (
                "validate_canonical(kind, decode(encoded)): every valid case is accepted, "
                "every rejected case raises want_error naming field"
            ),
            "valid": _valid_cases(),
            "rejected": _rejected_cases(),
        }
    }
