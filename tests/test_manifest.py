"""Manifests: building, streaming verification, views, tampering, duplicates, vectors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import load_vectors
from swapproto.errors import ErrorCode, InputError, SwapprotoError, VerificationError
from swapproto.keys import PublicKey, RolePolicy, SigningKey
from swapproto.manifest import (
    ManifestBuilder,
    ManifestHeader,
    check_entry,
    encode_entry,
    header_digest,
    verify_header,
)
from swapproto.manifest_file import (
    ManifestReader,
    View,
    build_manifest,
    build_manifest_file,
    verify_manifest_file,
    write_blinded_file,
)
from swapproto.merkle import root

KEY = SigningKey.from_seed(b"\x07" * 32)
OTHER = SigningKey.from_seed(b"\x08" * 32)
SMALL = load_vectors("manifest", "small")


def prisoner(i: int, **extra: Any) -> dict[str, Any]:
    record = {
        "citizenship": "RU",
        "date_of_birth": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 10}",
        "family_name": f"Иванов{i}",
        "given_names": "Алексей",
        "person_id": f"P-{i:05d}",
        "sex": "male",
    }
    record.update(extra)
    return record


def build(records: list[Any], key: SigningKey = KEY, **options: Any) -> bytes:
    out = io.BytesIO()
    build_manifest(
        out,
        records,
        kind=options.pop("kind", "prisoner"),
        list_name="pows",
        issuer="a",
        keys=[key],
        created_at=1748822400,
        **options,
    )
    return out.getvalue()


def verify(data: bytes, pub: PublicKey | RolePolicy = KEY.public_key, full: bool = True) -> Any:
    return verify_manifest_file(io.BytesIO(data), pub, full=full)


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 64, 100])
def test_build_then_verify_full_and_structural(n: int) -> None:
    data = build([prisoner(i) for i in range(n)])
    for full in (True, False):
        report = verify(data, full=full)
        assert report.count == n
        assert report.full is full
        assert report.verified.header.kind == "prisoner"


def test_root_is_rfc9162_root_of_the_leaves() -> None:
    records = [prisoner(i) for i in range(5)]
    data = build(records)
    reader = ManifestReader(io.BytesIO(data))
    header = reader.verify_header(KEY.public_key).header
    leaves = list(reader.leaves(header.count))
    assert root(leaves) == header.root
    for i, leaf in enumerate(leaves):
        entry = check_entry(leaf, index=i, kind="prisoner")
        assert entry.record == records[i]
        assert leaf == encode_entry(i, "prisoner", records[i], entry.salt)


def test_two_builds_of_the_same_records_have_unrelated_roots() -> None:
    records = [prisoner(i) for i in range(10)]
    a = verify(build(records)).verified.header.root
    b = verify(build(records)).verified.header.root
    assert a != b


def test_salts_are_fresh_and_distinct() -> None:
    data = build([prisoner(i) for i in range(50)])
    reader = ManifestReader(io.BytesIO(data))
    count = reader.unverified_header().count
    salts = [
        check_entry(leaf, index=i, kind="prisoner").salt
        for i, leaf in enumerate(reader.leaves(count))
    ]
    assert len(set(salts)) == 50
    assert all(len(s) == 32 for s in salts)


def test_header_digest_covers_signed_payload() -> None:
    data = build([prisoner(0)])
    verified = verify(data).verified
    assert verified.digest == header_digest(verified.verified.payload)
    assert verified.digest == verified.header.digest


# --- rejection paths -------------------------------------------------------------------------


def test_wrong_key_is_refused() -> None:
    data = build([prisoner(0)])
    with pytest.raises(VerificationError) as info:
        verify(data, OTHER.public_key)
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


def test_k_of_n_issuer_policy() -> None:
    out = io.BytesIO()
    build_manifest(
        out,
        [prisoner(0)],
        kind="prisoner",
        list_name="l",
        issuer="commission",
        keys=[KEY, OTHER],
        created_at=1,
    )
    policy = RolePolicy.of(
        [KEY.public_key, OTHER.public_key, SigningKey.from_seed(b"\x09" * 32).public_key], 2
    )
    assert verify(out.getvalue(), policy).count == 1
    strict = RolePolicy.of([KEY.public_key, SigningKey.from_seed(b"\x09" * 32).public_key], 2)
    with pytest.raises(VerificationError):
        verify(out.getvalue(), strict)


def test_truncated_and_extended_files_are_refused() -> None:
    data = build([prisoner(i) for i in range(3)])
    for bad in (data[:-1], data + b"\x00", data[:20]):
        with pytest.raises(VerificationError) as info:
            verify(bad)
        assert info.value.code == ErrorCode.VERIFY_MANIFEST


def test_oversized_frame_lengths_fail_before_reading() -> None:
    data = bytearray(build([prisoner(0)]))
    data[6:10] = (2**31).to_bytes(4, "big")
    with pytest.raises(VerificationError, match="exceeds"):
        verify(bytes(data))


def test_entry_index_and_kind_must_match() -> None:
    leaf = encode_entry(3, "prisoner", prisoner(0), b"\x00" * 32)
    with pytest.raises(VerificationError, match="claims index"):
        check_entry(leaf, index=2, kind="prisoner")
    with pytest.raises(VerificationError, match="differs"):
        check_entry(leaf, index=3, kind="remains")


@pytest.mark.parametrize(
    "bad_leaf",
    [
        b"\x84\xa1i\x00\xa1k\xa8prisoner\xa1r\x80\xa1s\xc4\x20" + b"\x00" * 32,  # empty record
        b"\xcc\x01",  # not a map
        b"\x83\xa1i\x00\xa1k\xa8prisoner\xa1s\xc4\x20" + b"\x00" * 32,  # no record
    ],
)
def test_malformed_entries_are_refused(bad_leaf: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        check_entry(bad_leaf, index=0, kind="prisoner")
    assert info.value.code == ErrorCode.VERIFY_MANIFEST


def test_non_canonical_entry_is_refused_even_if_it_hashes_into_the_tree() -> None:
    # A record whose keys are out of order: the issuer's own signature over the root
    # cannot make a non-canonical leaf acceptable.
    record = prisoner(0)
    good = encode_entry(0, "prisoner", record, b"\x01" * 32)
    import msgpack

    swapped = msgpack.packb(
        {"i": 0, "k": "prisoner", "r": dict(reversed(list(record.items()))), "s": b"\x01" * 32},
        use_bin_type=True,
    )
    assert swapped != good
    with pytest.raises(VerificationError) as info:
        check_entry(swapped, index=0, kind="prisoner")
    assert info.value.details["cause"] == ErrorCode.DECODE_UNSORTED_KEYS


def test_invalid_record_in_entry_is_refused() -> None:
    leaf = encode_entry(0, "prisoner", prisoner(0, sex="robot"), b"\x01" * 32)
    with pytest.raises(VerificationError) as info:
        check_entry(leaf, index=0, kind="prisoner")
    assert info.value.details["cause"] == ErrorCode.INPUT_RECORD


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_byte_change_of_a_manifest_is_detected(data: st.DataObject) -> None:
    original = bytes.fromhex(SMALL["file"])
    pub = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))
    pos = data.draw(st.integers(0, len(original) - 1))
    delta = data.draw(st.integers(1, 255))
    mutated = bytearray(original)
    mutated[pos] ^= delta
    for full in (True, False):
        with pytest.raises(SwapprotoError):
            verify(bytes(mutated), pub, full=full)


# --- duplicates --------------------------------------------------------------------------------


def test_duplicate_person_id_is_refused() -> None:
    with pytest.raises(InputError) as info:
        build([prisoner(1), prisoner(2), prisoner(1)])
    assert info.value.code == ErrorCode.INPUT_DUPLICATE
    assert info.value.details["indices"] == (0, 2)


def test_same_person_under_two_ids_is_a_warning() -> None:
    builder = ManifestBuilder(kind="prisoner", list_name="l", issuer="a", sink=lambda leaf: None)
    builder.add(prisoner(1))
    # Same names (after NFC and case folding) and birth date, another id.
    builder.add(prisoner(1, person_id="OTHER-1", family_name="ИВАНОВ1"))
    builder.add(prisoner(2))
    assert [w.indices for w in builder.warnings] == [(0, 1)]
    assert builder.warning_count == 1


def test_builder_refuses_unknown_kind_and_wrong_salt() -> None:
    with pytest.raises(InputError):
        ManifestBuilder(kind="no_such_kind", list_name="l", issuer="a", sink=print)
    builder = ManifestBuilder(kind="prisoner", list_name="l", issuer="a", sink=lambda leaf: None)
    with pytest.raises(InputError):
        builder.add(prisoner(0), salt=b"short")


def test_salt_source_returning_too_little_is_refused() -> None:
    with pytest.raises(InputError):
        build([prisoner(0)], salt_source=lambda n: b"\x00" * (n - 1))


# --- views and files ---------------------------------------------------------------------------


def test_blinded_view_verifies_structurally_and_holds_no_records(tmp_path: Path) -> None:
    src = tmp_path / "m"
    build_manifest_file(
        src,
        [prisoner(i) for i in range(9)],
        kind="prisoner",
        list_name="l",
        issuer="a",
        keys=[KEY],
        created_at=1,
    )
    dst = tmp_path / "m.blind"
    with src.open("rb") as stream:
        write_blinded_file(stream, dst, KEY.public_key)
    blinded = dst.read_bytes()
    assert "Иванов".encode() not in blinded
    report = verify(blinded)
    assert report.view is View.BLINDED
    assert report.full is False
    assert report.count == 9
    with pytest.raises(VerificationError):
        verify(blinded[:-1])


def test_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out.manifest"
    with pytest.raises(InputError):
        build_manifest_file(
            target,
            [prisoner(1), prisoner(1)],
            kind="prisoner",
            list_name="l",
            issuer="a",
            keys=[KEY],
            created_at=1,
        )
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "out.manifest"
    target.write_bytes(b"precious")
    with pytest.raises(InputError):
        build_manifest_file(
            target, [], kind="prisoner", list_name="l", issuer="a", keys=[KEY], created_at=1
        )
    assert target.read_bytes() == b"precious"


def test_header_payload_parsing_rejects_bad_fields() -> None:
    good = ManifestHeader(
        exchange=None, issuer="a", list_name="l", kind="prisoner", count=0, root=b"\x00" * 32
    ).to_payload()
    bad_cases = [
        {**good, "format": 2},
        {**good, "count": -1},
        {**good, "root": b"\x00"},
        {**good, "version": 2},  # version 2 without previous
        {**good, "previous": b"\x00" * 32},  # version 1 with previous
        {**good, "exchange": b"\x00"},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "kind"},
    ]
    for bad in bad_cases:
        with pytest.raises(VerificationError) as info:
            ManifestHeader.from_payload(bad)
        assert info.value.code == ErrorCode.VERIFY_MANIFEST


# --- vectors -----------------------------------------------------------------------------------


def test_small_vector_verifies_and_reproduces() -> None:
    pub = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))
    assert pub == SigningKey.from_seed(bytes.fromhex(SMALL["issuer_seed"])).public_key
    report = verify(bytes.fromhex(SMALL["file"]), pub)
    assert report.verified.header.root.hex() == SMALL["root"]
    assert report.verified.digest.hex() == SMALL["header_digest"]
    leaves = [bytes.fromhex(h) for h in SMALL["leaves"]]
    assert root(leaves).hex() == SMALL["root"]
    for i, (leaf, salt) in enumerate(zip(leaves, SMALL["salts"], strict=True)):
        assert check_entry(leaf, index=i, kind="prisoner").salt.hex() == salt
    verified = verify_header(bytes.fromhex(SMALL["header_envelope"]), pub)
    assert verified.verified.payload.hex() == SMALL["header_payload"]


@pytest.mark.parametrize("case", SMALL["tampered_files"]["cases"], ids=lambda c: c["desc"])
def test_small_vector_tampered_files(case: dict[str, str]) -> None:
    pub = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))
    with pytest.raises(SwapprotoError):
        verify(bytes.fromhex(case["data"]), pub)


@pytest.mark.parametrize(
    "label", ["", " pows", "pows ", "a\x1bb", "a\u202eb", "x" * 201, "e\u0301"]
)
def test_header_labels_are_checked_when_building(label: str) -> None:
    from swapproto.manifest import ManifestBuilder

    with pytest.raises(InputError) as info:
        ManifestBuilder(kind="prisoner", list_name=label, issuer="a", sink=lambda _: None)
    assert info.value.code == ErrorCode.INPUT_INVALID
    with pytest.raises(InputError):
        ManifestBuilder(kind="prisoner", list_name="pows", issuer=label, sink=lambda _: None)


def test_header_labels_are_checked_when_parsing() -> None:
    from swapproto.manifest import ManifestHeader

    good = ManifestHeader(
        exchange=None, issuer="a", list_name="pows", kind="prisoner", count=0, root=bytes(32)
    ).to_payload()
    assert ManifestHeader.from_payload(good).list_name == "pows"
    for field in ("issuer", "list", "kind"):
        bad = dict(good, **{field: "x\x1b[31m"})
        with pytest.raises(VerificationError) as info:
            ManifestHeader.from_payload(bad)
        assert info.value.code == ErrorCode.VERIFY_MANIFEST
