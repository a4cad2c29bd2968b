"""Vectors for manifests, disclosures and amendments (``spec/vectors/manifest/``).

``small.json``: a 3-entry standalone manifest (private and blinded files, header, and
rejected files and headers). ``seven.json``: a 7-entry manifest bound to an exchange.
``disclosure.json`` and ``amendment.json`` (:mod:`_manifest_vectors_links`) build on
both. Inputs and helpers are in :mod:`_manifest_vectors`.
"""

from __future__ import annotations

import io
from typing import Any

from _manifest_vectors import (
    CREATED_AT,
    EXCHANGE,
    KEY,
    OTHER_KEY,
    build,
    case,
    find_once,
    flip,
    flip_signature,
    inputs,
    put,
    resign,
    resign_header,
)
from _manifest_vectors_links import amendment_vectors, disclosure_vectors
from swapproto.keys import PublicKey
from swapproto.manifest import header_digest, verify_header
from swapproto.manifest_file import BuildResult, verify_manifest_file, write_blinded_file
from swapproto.merkle import leaf_hash
from typed_json import to_typed

PUB = KEY.public_key

SMALL_RECORDS: list[dict[str, Any]] = [
    {
        "categories": ["seriously_wounded"],
        "citizenship": "RU",
        "date_of_birth": "1990-01-31",
        "family_name": "Иванов",
        "given_names": "Алексей Петрович",
        "person_id": "UA-0001",
        "sex": "male",
    },
    {
        "citizenship": "RU",
        "date_of_birth": "2003-07-15",
        "family_name": "Smirnov",
        "given_names": "Dmitrii",
        "person_id": "UA-0002",
        "rank": "private",
        "sex": "male",
        "unit": "12 brigade",
    },
    {
        "categories": ["seriously_ill"],
        "citizenship": "RU",
        "date_of_birth": "1975-11-02",
        "family_name": "Кузнецов",
        "given_names": "Сергей",
        "person_id": "UA-0003",
        "place_of_detention": "Camp 1",
        "sex": "male",
    },
]
SEVEN_RECORDS: list[dict[str, Any]] = [
    {
        "citizenship": "UA",
        "date_of_birth": f"19{80 + i}-0{1 + i}-1{i}",
        "family_name": name,
        "given_names": given,
        "person_id": f"RU-{i + 1:04d}",
        "sex": "male" if i != 4 else "female",
    }
    for i, (name, given) in enumerate(
        [
            ("Шевченко", "Тарас"),
            ("Коваленко", "Андрій"),
            ("Бондаренко", "Олег"),
            ("Ткаченко", "Іван"),
            ("Кравченко", "Олена"),
            ("Мельник", "Василь"),
            ("Бойко", "Петро"),
        ]
    )
]
SMALL_HEADER = {"issuer": "a", "list": "pows", "kind": "prisoner", "exchange": None}
SEVEN_HEADER = {"issuer": "b", "list": "detainees", "kind": "prisoner", "exchange": EXCHANGE}
SEVEN_CREATED_AT = CREATED_AT + 3600
SEVEN_SALT_FIRST = 16


def _verify_file(full: bool) -> Any:
    def check(data: bytes) -> object:
        return verify_manifest_file(io.BytesIO(data), PUB, full=full)

    return check


def _verify_header(data: bytes) -> object:
    return verify_header(data, PUB)


def _description(records: list[Any], salt_first: int, created_at: int, header: Any) -> Any:
    fields = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in header.items()}
    return inputs(
        records,
        salt_first=salt_first,
        created_at=created_at,
        version=1,
        previous=None,
        **fields,
    )


def _outputs(file_bytes: bytes, result: BuildResult) -> dict[str, Any]:
    verified = result.verified
    assert result.leaf_hashes is not None
    return {
        "issuer_public_key": PUB.to_bytes().hex(),
        "leaf_hashes": [h.hex() for h in result.leaf_hashes],
        "root": verified.header.root.hex(),
        "header": to_typed(verified.header.to_payload()),
        "header_payload": verified.verified.payload.hex(),
        "header_digest": header_digest(verified.verified.payload).hex(),
        "header_envelope": verified.envelope.to_bytes().hex(),
        "file": file_bytes.hex(),
    }


def _leaves(file_bytes: bytes, header_len: int, count: int) -> list[bytes]:
    pos, out = 10 + header_len, []
    for _ in range(count):
        n = int.from_bytes(file_bytes[pos : pos + 4], "big")
        out.append(file_bytes[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return out


def _file_cases(data: bytes, header: bytes, leaves: list[bytes]) -> list[dict[str, Any]]:
    full, structural = _verify_file(True), _verify_file(False)
    start = 10 + len(header)  # the first entry frame
    last = len(data) - 4 - len(leaves[-1])  # the last entry frame
    type_end = find_once(data, b"manifest-header/v1") + len(b"manifest-header/v1")
    sex = find_once(data[last:], b"\xa3sex\xa4male") + last + len(b"\xa3sex\xa4male")
    count4 = resign_header(header, count=4)

    def c(desc: str, mutated: bytes) -> dict[str, Any]:
        return case(desc, "file", data, mutated, full, structural=structural)

    return [
        c("magic byte 0 'S' changed to 'R'", flip(data, 0)),
        c("file format version byte (offset 4) 0x01 changed to 0x02", put(data, 4, b"\x02")),
        c("view byte 'P' changed to 'Q' (unknown view)", flip(data, 5)),
        c("view byte 'P' changed to 'B' (entries read as leaf hashes)", put(data, 5, b"B")),
        c(
            "header frame length one less (the envelope loses its last byte)",
            put(data, 6, (len(header) - 1).to_bytes(4, "big")),
        ),
        c("header frame length 0x00100001, above 1 MiB", put(data, 6, b"\x00\x10\x00\x01")),
        c("envelope type string: last byte '1' changed to '0'", flip(data, type_end - 1)),
        c("bit flipped in the header envelope's Ed25519 signature", flip_signature(data, header)),
        c(
            "bit flipped in the signed header's root",
            flip(data, find_once(data, bytes.fromhex("a4726f6f74c420")) + 7),
        ),
        c(
            "header re-signed with count 4 (one entry more than the file holds)",
            data[:6] + len(count4).to_bytes(4, "big") + count4 + data[start:],
        ),
        c(
            "first entry frame length one more",
            put(data, start, (len(leaves[0]) + 1).to_bytes(4, "big")),
        ),
        c("first entry frame length 0x00010001, above 65,536", put(data, start, b"\0\1\0\1")),
        c("last entry frame replaced by an empty frame 00000000", data[:last] + bytes(4)),
        c("first entry's index i changed from 0 to 1", put(data, start + 4 + 3, b"\x01")),
        c(
            "bit flipped in the last byte of the first entry's salt",
            flip(data, start + 3 + len(leaves[0])),
        ),
        c("last entry's sex 'male' changed to 'mald' (invalid record)", flip(data, sex - 1)),
        c("last byte removed (the file ends inside the last entry)", data[:-1]),
        c("one byte 00 appended after the last entry", data + b"\x00"),
    ]


def _blinded_cases(data: bytes) -> list[dict[str, Any]]:
    full, structural = _verify_file(True), _verify_file(False)

    def c(desc: str, mutated: bytes) -> dict[str, Any]:
        return case(desc, "blinded_file", data, mutated, full, structural=structural)

    return [
        c("bit flipped in the first byte of leaf hash 1", flip(data, len(data) - 64)),
        c("view byte 'B' changed to 'P' (leaf hashes read as entry frames)", put(data, 5, b"P")),
        c("last byte removed", data[:-1]),
        c("one byte 00 appended", data + b"\x00"),
    ]


def _header_cases(header: bytes) -> list[dict[str, Any]]:
    def c(desc: str, mutated: bytes) -> dict[str, Any]:
        return case(desc, "header_envelope", header, mutated, _verify_header)

    bad: list[tuple[str, dict[str, Any]]] = [
        ("format 2", {"format": 2}),
        ("format true (a bool, not the int 1)", {"format": True}),
        ("an extra field 'note'", {"note": "x"}),
        ("count -1", {"count": -1}),
        ("created_at -1", {"created_at": -1}),
        ("version 0", {"version": 0}),
        ("version 2 with previous nil", {"version": 2}),
        ("version 1 with a previous digest", {"previous": bytes(32)}),
        ("root of 31 bytes", {"root": bytes(31)}),
        ("issuer label empty", {"issuer": ""}),
        ("list label with trailing space 'pows '", {"list": "pows "}),
        ("list label with an ESC control character", {"list": "p\x1bows"}),
        ("kind label with U+202E RIGHT-TO-LEFT OVERRIDE", {"kind": "pris\u202eoner"}),
        ("issuer label of 201 characters", {"issuer": "a" * 201}),
    ]
    return [
        c("bit flipped in the Ed25519 signature", flip_signature(header, header)),
        c("bit flipped in the payload's count", flip(header, find_once(header, b"\xa5count") + 6)),
        c("signed by another key (seed 4242..42)", resign(header, key=OTHER_KEY)),
        c(
            "signed as payload type swapproto/manifest-header/v2",
            resign(header, payload_type="swapproto/manifest-header/v2"),
        ),
        c("one byte 00 appended after the envelope", header + b"\x00"),
        *(c(f"re-signed header with {desc}", resign_header(header, **ch)) for desc, ch in bad),
    ]


def _small() -> tuple[dict[str, Any], bytes, list[bytes]]:
    file_bytes, result = build(list(SMALL_RECORDS), salt_first=0)
    header = result.verified.envelope.to_bytes()
    leaves = _leaves(file_bytes, len(header), len(SMALL_RECORDS))
    assert [leaf_hash(x) for x in leaves] == list(result.leaf_hashes or ())
    blinded_path = io.BytesIO()
    _write_blinded(file_bytes, blinded_path)
    blinded = blinded_path.getvalue()
    content = {
        "desc": (
            "A 3-entry standalone prisoner manifest: its inputs, entries, header and private "
            "and blinded files; rejected files (want_error: full verification, "
            "want_error_structural: structural) and rejected header envelopes."
        ),
        "inputs": _description(SMALL_RECORDS, 0, CREATED_AT, SMALL_HEADER),
        "leaves": [x.hex() for x in leaves],
        **_outputs(file_bytes, result),
        "blinded_file": blinded.hex(),
        "rejected": {
            "desc": "Each edit of base must be rejected with want_error.",
            "cases": [
                *_file_cases(file_bytes, header, leaves),
                *_blinded_cases(blinded),
                *_header_cases(header),
            ],
        },
    }
    return content, header, leaves


def _write_blinded(file_bytes: bytes, out: io.BytesIO) -> None:
    """The blinded view of a private file (write_blinded_file writes paths: mirror it)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "blinded"
        write_blinded_file(io.BytesIO(file_bytes), path, PUB)
        out.write(path.read_bytes())


def _seven() -> tuple[dict[str, Any], bytes, list[bytes]]:
    file_bytes, result = build(
        list(SEVEN_RECORDS),
        salt_first=SEVEN_SALT_FIRST,
        list_name="detainees",
        issuer="b",
        exchange=EXCHANGE,
        created_at=SEVEN_CREATED_AT,
    )
    header = result.verified.envelope.to_bytes()
    leaves = _leaves(file_bytes, len(header), len(SEVEN_RECORDS))
    content = {
        "desc": (
            "A 7-entry prisoner manifest bound to an exchange (exchange = "
            'SHA-256("swapproto vector exchange")), issued by b; disclosures and an '
            "amendment use it."
        ),
        "inputs": _description(SEVEN_RECORDS, SEVEN_SALT_FIRST, SEVEN_CREATED_AT, SEVEN_HEADER),
        "leaves": [x.hex() for x in leaves],
        **_outputs(file_bytes, result),
    }
    del content["file"]  # magic, view, framed header_envelope, framed leaves (manifest.md §5)
    return content, header, leaves


def generate() -> dict[str, object]:
    """Build the manifest vector files."""
    assert PublicKey.from_bytes(PUB.to_bytes()) == PUB
    small, small_header, small_leaves = _small()
    seven, seven_header, seven_leaves = _seven()
    manifests = {
        "small": (small_header, small_leaves, SMALL_RECORDS, 0),
        "seven": (seven_header, seven_leaves, SEVEN_RECORDS, SEVEN_SALT_FIRST),
    }
    return {
        "small": small,
        "seven": seven,
        "disclosure": disclosure_vectors(manifests),
        "amendment": amendment_vectors(manifests),
    }
