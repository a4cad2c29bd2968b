"""Manifests: building, streaming verification, views, tampering, duplicates, vectors."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_vectors import ISSUER, SEVEN, SMALL, assemble, edited, error_code, rebuild
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
from typed_json import from_typed

KEY = SigningKey.from_seed(b"\x07" * 32)
OTHER = SigningKey.from_seed(b"\x08" * 32)


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


def test_small_vector_rebuilds_from_its_inputs() -> None:
    inputs = SMALL["inputs"]
    pub = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))
    assert pub == SigningKey.from_seed(bytes.fromhex(inputs["issuer_seed"])).public_key
    first = inputs["salt_first"]
    salts = [
        hashlib.sha256(b"swapproto vector salt" + (first + i).to_bytes(4, "big")).hexdigest()
        for i in range(len(inputs["records"]))
    ]
    assert salts == inputs["salts"]
    data, result = rebuild(inputs)
    assert data.hex() == SMALL["file"]
    assert assemble(SMALL).hex() == SMALL["file"]
    assert [h.hex() for h in result.leaf_hashes or ()] == SMALL["leaf_hashes"]
    leaves = [bytes.fromhex(h) for h in SMALL["leaves"]]
    assert root(leaves).hex() == SMALL["root"]
    for i, (leaf, salt) in enumerate(zip(leaves, inputs["salts"], strict=True)):
        entry = check_entry(leaf, index=i, kind="prisoner")
        assert (entry.salt.hex(), entry.record) == (salt, inputs["records"][i])
        assert encode_entry(i, "prisoner", inputs["records"][i], bytes.fromhex(salt)) == leaf
    verified = verify_header(bytes.fromhex(SMALL["header_envelope"]), pub)
    assert verified.verified.payload.hex() == SMALL["header_payload"]
    assert verified.header.to_payload() == from_typed(SMALL["header"])
    assert verified.digest.hex() == SMALL["header_digest"]
    for full in (True, False):
        report = verify(bytes.fromhex(SMALL["file"]), pub, full=full)
        assert (report.verified.header.root.hex(), report.full) == (SMALL["root"], full)
    blinded = verify(bytes.fromhex(SMALL["blinded_file"]), pub)
    assert (blinded.view, blinded.full) == (View.BLINDED, False)
    blinded_head = len(SMALL["file"]) // 2 - sum(4 + len(x) // 2 for x in SMALL["leaves"])
    expected = bytes.fromhex(SMALL["file"])[:blinded_head]
    expected = (
        expected[:5] + b"B" + expected[6:] + b"".join(map(bytes.fromhex, SMALL["leaf_hashes"]))
    )
    assert bytes.fromhex(SMALL["blinded_file"]) == expected


def test_seven_vector_is_bound_to_an_exchange_and_rebuilds() -> None:
    inputs = SEVEN["inputs"]
    data, result = rebuild(inputs)
    assert data == assemble(SEVEN)
    assert result.verified.envelope.to_bytes().hex() == SEVEN["header_envelope"]
    report = verify(data, ISSUER)
    assert report.verified.header.exchange == bytes.fromhex(inputs["exchange"])
    assert report.verified.header.to_payload() == from_typed(SEVEN["header"])
    assert (report.count, report.verified.digest.hex()) == (7, SEVEN["header_digest"])


def _file_check(full: bool) -> Any:
    return lambda data: verify(data, ISSUER, full=full)


@pytest.mark.parametrize("case", SMALL["rejected"]["cases"], ids=lambda c: c["desc"])
def test_small_vector_rejected(case: dict[str, Any]) -> None:
    data = edited(bytes.fromhex(SMALL[case["base"]]), case)
    if case["base"] == "header_envelope":
        assert error_code(lambda d: verify_header(d, ISSUER), data) == case["want_error"]
        return
    assert case["base"] in ("file", "blinded_file")
    assert error_code(_file_check(True), data) == case["want_error"]
    assert error_code(_file_check(False), data) == case["want_error_structural"]


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


# --- encoded records and builder state ---------------------------------------------------------


def _salts(seed: int = 5) -> Any:
    """A deterministic salt source that pickles with its state (for worker processes)."""
    import random

    return random.Random(seed).randbytes


def _builder(sink: Any, **options: Any) -> ManifestBuilder:
    return ManifestBuilder(
        kind="prisoner",
        list_name="l",
        issuer="a",
        sink=sink,
        salt_source=options.pop("salt_source", _salts()),
        **options,
    )


def _mixed_records(n: int) -> list[dict[str, Any]]:
    """Records with repeated identities (warnings), lists and absent fields."""
    out = []
    for i in range(n):
        record = prisoner(i % 7, person_id=f"P-{i:05d}")
        if i % 3:
            record["categories"] = ["civilian", "seriously_ill"][: i % 3]
        if i % 5 == 0:
            record["rank"] = "ефрейтор"
        out.append(record)
    return out


def test_add_encoded_gives_the_leaves_and_warnings_of_add() -> None:
    from swapproto.encoding import encode

    records = _mixed_records(40)
    kept = {3: bytes(range(32)), 17: bytes(32)}
    one: list[bytes] = []
    many: list[bytes] = []
    a, b = _builder(one.append), _builder(many.append)
    for i, record in enumerate(records):
        a.add(record, salt=kept.get(i))
    encodings = [encode(record) for record in records]
    salts = [kept.get(i) for i in range(len(records))]
    b.add_encoded(encodings[:25], salts=salts[:25])
    b.add_encoded(encodings[25:], salts=salts[25:], values=records[25:])
    assert many == one
    assert a.header(created_at=1) == b.header(created_at=1)
    assert a.warnings == b.warnings
    assert a.warning_count == b.warning_count > 0
    assert one[3] == encode_entry(3, "prisoner", records[3], kept[3])


def test_add_encoded_raises_after_adding_the_entries_before_the_error() -> None:
    from swapproto.encoding import encode

    records = [prisoner(1), prisoner(2), prisoner(3), prisoner(2), prisoner(4)]
    leaves: list[bytes] = []
    builder = _builder(leaves.append)
    with pytest.raises(InputError) as info:
        builder.add_encoded([encode(r) for r in records])
    assert info.value.code == ErrorCode.INPUT_DUPLICATE
    assert info.value.details["indices"] == (1, 3)
    assert builder.count == len(leaves) == 3
    reference = _builder(lambda leaf: None)
    for record in records[:3]:
        reference.add(record)
    assert builder.header(created_at=1).root == reference.header(created_at=1).root
    with pytest.raises(InputError) as info:
        _builder(leaves.append).add_encoded([encode(prisoner(9))], salts=[b"short"])
    assert str(info.value) == "[input.invalid] salt must be 32 bytes"


def test_a_build_goes_on_from_its_state_in_another_builder() -> None:
    import pickle

    records = _mixed_records(30)
    whole: list[bytes] = []
    split: list[bytes] = []
    a = _builder(whole.append)
    for record in records:
        a.add(record)
    first = _builder(split.append)
    for record in records[:13]:
        first.add(record)
    state = pickle.loads(pickle.dumps(first.state()))
    second = ManifestBuilder.resume(
        state, kind="prisoner", list_name="l", issuer="a", sink=split.append
    )
    for record in records[13:]:
        second.add(record)
    assert split == whole
    assert second.header(created_at=1) == a.header(created_at=1)
    assert second.warnings == a.warnings
    with pytest.raises(InputError) as info:
        second.add(records[0])
    assert info.value.details["indices"] == (0, 30)


def test_identity_fingerprints_match_equal_identities_only() -> None:
    builder = _builder(lambda leaf: None)
    builder.add(prisoner(1, family_name="Ševčenko", given_names="Ivan  Petrovich"))
    builder.add(prisoner(1, person_id="X-1", family_name="ŠEVČENKO", given_names="ivan petrovich"))
    builder.add(prisoner(1, person_id="X-2", family_name="Sevcenko", given_names="Ivan Petrovich"))
    assert [w.indices for w in builder.warnings] == [(0, 1)]


# --- builds on two cores ------------------------------------------------------------------------
# A small parallel_after with parallel=True forces the worker process on small inputs; the
# output and the errors must be those of the in-process build with the same salt source.


HANDED_OVER: list[bool] = []


@pytest.fixture(autouse=True)
def _record_hand_overs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record each time a build hands its state to a worker (HANDED_OVER)."""
    from swapproto._manifest_parallel import EntryPipeline

    original = EntryPipeline._hand_over

    def hand_over(self: EntryPipeline) -> None:
        original(self)
        HANDED_OVER.append(self.parallel)

    HANDED_OVER.clear()
    monkeypatch.setattr(EntryPipeline, "_hand_over", hand_over)


def _both_ways(rows: Any, **options: Any) -> tuple[Any, Any]:
    """(in-process outcome, parallel outcome): the file bytes and warnings, or the error."""
    import multiprocessing

    outcomes: list[tuple[Any, ...]] = []
    for parallel in (False, True):
        out = io.BytesIO()
        try:
            result = build_manifest(
                out,
                iter(rows),
                kind="prisoner",
                list_name="pows",
                issuer="a",
                keys=[KEY],
                created_at=1748822400,
                salt_source=options.get("salts", _salts)(),
                parallel=parallel,
                parallel_after=options.get("after", 5),
                validate=False,  # the pipeline's own handling of any row is under test
            )
        except Exception as exc:  # compared below
            outcomes.append(("error", type(exc), exc.args, getattr(exc, "details", None)))
        else:
            outcomes.append(("ok", out.getvalue(), result.warnings))
        assert multiprocessing.active_children() == []  # no worker left behind
    return outcomes[0], outcomes[1]


def test_parallel_build_gives_the_same_bytes() -> None:
    rows = _mixed_records(3000)
    serial, parallel = _both_ways(rows)
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[0] == "ok"
    assert serial[2]  # warnings, from both the in-process and the worker part
    assert verify(serial[1]).count == 3000


def test_parallel_build_keeps_given_salts() -> None:
    rows: list[Any] = _mixed_records(2500)
    for i in range(0, 2500, 7):
        rows[i] = (rows[i], bytes([i % 256]) * 32)
    serial, parallel = _both_ways(rows)
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[0] == "ok"


@pytest.mark.parametrize(
    "odd",
    [
        prisoner(9, person_id="ODD", family_name=7),  # a value the checks cannot send
        (prisoner(9, person_id="ODD"), bytearray(32)),  # a salt that is not bytes
        prisoner(9, person_id="ODD", categories=("civilian",)),  # a tuple: encode() takes it
    ],
)
def test_parallel_build_takes_back_rows_it_cannot_send(odd: Any) -> None:
    rows: list[Any] = _mixed_records(2100)
    rows.insert(1700, odd)
    serial, parallel = _both_ways(rows)
    assert HANDED_OVER == [True]
    assert serial == parallel


def test_parallel_build_reports_a_duplicate_as_in_process() -> None:
    rows = _mixed_records(3000)
    rows.append(rows[2000])
    serial, parallel = _both_ways(rows)
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[1] is InputError
    assert serial[3]["indices"] == (2000, 3000)


def test_parallel_build_an_earlier_duplicate_wins_over_a_later_reading_error() -> None:
    def rows() -> Any:
        records = _mixed_records(2500)
        yield from records
        yield records[1500]  # entry 2500 repeats entry 1500
        yield from _mixed_records(2600)[2500:]
        raise InputError("the rows ended badly", code=ErrorCode.INPUT_RECORD)

    serial, parallel = _both_ways(_Replay(rows))
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[3]["indices"] == (1500, 2500)


class _Replay:
    """An iterable that runs a generator function afresh each time (for both builds)."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __iter__(self) -> Any:
        return self._make()


def test_parallel_build_raises_the_reading_error_after_the_rows_before_it() -> None:
    def rows() -> Any:
        yield from _mixed_records(2500)
        raise InputError("the rows ended badly", code=ErrorCode.INPUT_RECORD)

    serial, parallel = _both_ways(_Replay(rows))
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[1] is InputError
    assert serial[2] == ("the rows ended badly",)


class ShortSalts:
    """A salt source that returns too little from its third call (in any process)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, n: int) -> bytes:
        self.calls += 1
        return bytes(n if self.calls < 3 else n - 1)


def test_parallel_build_salt_source_errors_are_those_in_process() -> None:
    serial, parallel = _both_ways(_mixed_records(12000), salts=ShortSalts)
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[1] is InputError
    assert "salt source" in serial[2][0]


class DyingSalts:
    """A salt source that kills the process calling it, if not the one that made it."""

    def __init__(self) -> None:
        import os

        self.pid = os.getpid()

    def __call__(self, n: int) -> bytes:
        import os

        if os.getpid() != self.pid:
            os._exit(3)
        return bytes(n)


def test_parallel_build_worker_crash_is_an_error_and_nothing_is_left(tmp_path: Path) -> None:
    import multiprocessing

    target = tmp_path / "out.manifest"
    with pytest.raises(ChildProcessError):
        build_manifest_file(
            target,
            _mixed_records(9000),
            kind="prisoner",
            list_name="l",
            issuer="a",
            keys=[KEY],
            created_at=1,
            salt_source=DyingSalts(),
            parallel=True,
            parallel_after=100,
        )
    assert HANDED_OVER == [True]
    assert list(tmp_path.iterdir()) == []
    assert multiprocessing.active_children() == []


def test_parallel_build_interrupted_stops_its_worker(tmp_path: Path) -> None:
    import multiprocessing

    seen: list[bool] = []

    def progress(count: int) -> None:
        if count >= 4 * 16384:
            seen.append(bool(multiprocessing.active_children()))
            raise KeyboardInterrupt

    rows = (prisoner(i % 7, person_id=f"P-{i}") for i in range(200_000))
    with pytest.raises(KeyboardInterrupt):
        build_manifest_file(
            tmp_path / "out.manifest",
            rows,
            kind="prisoner",
            list_name="l",
            issuer="a",
            keys=[KEY],
            created_at=1,
            progress=progress,
            parallel=True,
            parallel_after=100,
        )
    assert seen == HANDED_OVER == [True]  # the worker was running
    assert multiprocessing.active_children() == []
    assert list(tmp_path.iterdir()) == []


def test_parallel_build_with_an_unpicklable_salt_source_stays_in_process() -> None:
    serial, parallel = _both_ways(_mixed_records(2000), salts=lambda: lambda n: bytes(n))
    assert HANDED_OVER == []
    assert serial == parallel


def test_small_builds_never_start_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import swapproto._manifest_parallel as parallel_module

    def no_worker(*args: Any) -> Any:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(parallel_module, "get_context", no_worker)
    data = build(_mixed_records(500), parallel=None, parallel_after=1000)
    assert verify(data).count == 500
    data = build(_mixed_records(500), parallel=True, parallel_after=1000)
    assert verify(data).count == 500


def _csv_build(path: Path, csv_text: str, parallel: bool) -> Any:
    from swapproto.tabular import RowReport, iter_records

    source = path / "in.csv"
    source.write_text(csv_text, encoding="utf-8")
    target = path / f"out-{parallel}.manifest"
    target.unlink(missing_ok=True)
    try:
        with source.open(encoding="utf-8", newline="") as text:
            build_manifest_file(
                target,
                iter_records(text, kind="prisoner", report=RowReport("in.csv")),
                kind="prisoner",
                list_name="l",
                issuer="a",
                keys=[KEY],
                created_at=1,
                salt_source=_salts(),
                parallel=parallel,
                parallel_after=100,
            )
    except InputError as exc:
        assert not target.exists()
        return exc.code, exc.details
    return target.read_bytes()


def test_parallel_build_from_csv_reports_bad_rows_with_their_lines(tmp_path: Path) -> None:
    header = "person_id,family_name,given_names,date_of_birth,sex,citizenship"
    rows = [f"P{i},Коваль{i % 9},Іван,1990-01-0{1 + i % 9},male,UA" for i in range(3000)]
    good = "\n".join([header, *rows]) + "\n"
    assert _csv_build(tmp_path, good, False) == _csv_build(tmp_path, good, True)
    assert HANDED_OVER == [True]
    rows[2100] = "P2100,Коваль,Іван,1990-01-01,robot,UA"
    rows[2900] = "P2900,short"
    bad = "\n".join([header, *rows]) + "\n"
    serial = _csv_build(tmp_path, bad, False)
    assert serial == _csv_build(tmp_path, bad, True)
    assert serial[0] == ErrorCode.INPUT_RECORD
    assert [row["line"] for row in serial[1]["rows"]] == [2102, 2902]
    rows[1500] = rows[300]  # a repeated id is one more bad row, with its line
    dup = "\n".join([header, *rows]) + "\n"
    serial = _csv_build(tmp_path, dup, False)
    assert serial == _csv_build(tmp_path, dup, True)
    assert serial[0] == ErrorCode.INPUT_RECORD
    assert [row["line"] for row in serial[1]["rows"]] == [1502, 2102, 2902]
    reason = serial[1]["rows"][0]["reason"]
    assert "person_id" in reason
    assert "P300" not in reason  # a field's name, never its value (records.md §6.2)


def test_parallel_build_a_row_that_fails_to_encode_after_a_duplicate_id() -> None:
    rows: list[Any] = _mixed_records(2000)
    rows.append(prisoner(1, person_id=rows[1200]["person_id"], unit="\ud800"))
    serial, parallel = _both_ways(rows)
    assert HANDED_OVER == [True]
    assert serial == parallel
    assert serial[3]["indices"] == (1200, 2000)


def test_a_worker_that_cannot_start_leaves_the_build_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import swapproto._manifest_parallel as parallel_module
    from helpers import RefusingContext

    monkeypatch.setattr(parallel_module, "get_context", lambda name: RefusingContext())
    serial, parallel = _both_ways(_mixed_records(2000))
    assert HANDED_OVER == []
    assert serial == parallel


def test_atomic_writer_never_replaces_a_file_that_appears_meanwhile(tmp_path: Path) -> None:
    from swapproto.manifest_file import atomic_writer

    target = tmp_path / "m.spmsg"

    def race() -> None:
        with atomic_writer(target) as out:
            out.write(b"ours")
            target.write_bytes(b"theirs")  # another writer got there first

    with pytest.raises(InputError) as info:
        race()
    assert info.value.code == ErrorCode.INPUT_IO
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.spmsg"]


def test_blinding_reports_progress(tmp_path: Path) -> None:
    path = tmp_path / "p.manifest"
    build_manifest_file(
        path, [prisoner(i) for i in range(5)], kind="prisoner", list_name="l", issuer="a",
        keys=[KEY], created_at=1,
    )  # fmt: skip
    seen: list[int] = []
    with path.open("rb") as src:
        write_blinded_file(src, tmp_path / "b.manifest", KEY.public_key, progress=seen.append)
    assert seen == [0]


def test_build_refuses_a_record_every_receiver_would_reject(tmp_path: Path) -> None:
    """The library validates what it signs unless told the rows were validated already."""
    good, bad = prisoner(0), {**prisoner(1), "sex": "Male"}
    options: dict[str, Any] = {
        "kind": "prisoner",
        "list_name": "pows",
        "issuer": "ua",
        "keys": [KEY],
        "created_at": 1,
    }
    out = tmp_path / "refused.manifest"
    with pytest.raises(InputError) as info:
        build_manifest_file(out, [good, (bad, bytes(32))], **options)
    assert info.value.code == ErrorCode.INPUT_RECORD
    assert (info.value.details["index"], info.value.details["field"]) == (1, "sex")
    assert "Male" not in str(info.value)
    assert not out.exists()
    # validate=False trusts the caller: the signed manifest then fails full verification
    build_manifest_file(out, [good, bad], validate=False, **options)
    with pytest.raises(VerificationError) as failed:
        verify_manifest_file(io.BytesIO(out.read_bytes()), KEY.public_key)
    assert failed.value.code == ErrorCode.VERIFY_MANIFEST
