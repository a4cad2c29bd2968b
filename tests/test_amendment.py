"""Amendments: append with consistency proofs, revisions with signed removals."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_vectors import AMENDMENT, MANIFESTS, SEVEN, SMALL, edited, error_code, rebuild
from swapproto.amendment import (
    AmendmentMode,
    Removal,
    RemovalReason,
    check_revision,
    make_amendment,
    verify_amendment,
)
from swapproto.amendment_file import amend_manifest_file
from swapproto.encoding import decode, encode
from swapproto.errors import ErrorCode, InputError, SwapprotoError, VerificationError
from swapproto.keys import PublicKey, SigningKey
from swapproto.manifest import decode_entry
from swapproto.manifest_file import ManifestReader, build_manifest_file
from swapproto.merkle import MerkleTree
from test_manifest import KEY, OTHER, prisoner
from typed_json import from_typed, to_typed

AMENDS = AMENDMENT["amendments"]
AMENDS_REJECTED = AMENDMENT["rejected"]["cases"]
APPEND = AMENDS["append"]["amendment"]
REVISE = AMENDS["revise"]["amendment"]


def _write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    columns = sorted({k for r in records for k in r})
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _first_version(path: Path, n: int, list_name: str, exchange: bytes | None = None) -> Path:
    build_manifest_file(
        path,
        [prisoner(i) for i in range(n)],
        kind="prisoner",
        list_name=list_name,
        issuer="a",
        keys=[KEY],
        created_at=1,
        exchange=exchange,
    )
    return path


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    return _first_version(tmp_path / "v1.manifest", 10, "l")


def _leaves(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        reader = ManifestReader(f)
        return list(reader.leaves(reader.unverified_header().count))


def test_append_amendment(v1: Path, tmp_path: Path) -> None:
    extra = _write_csv(tmp_path / "more.csv", [prisoner(i) for i in range(10, 13)])
    result = amend_manifest_file(
        v1,
        tmp_path / "v2.manifest",
        tmp_path / "a.amend",
        keys=[KEY],
        additions=extra,
        created_at=2,
    )
    assert result.mode is AmendmentMode.APPEND
    assert result.current.header.count == 13
    assert result.current.header.version == 2
    assert result.current.header.previous == result.previous.digest
    # Old leaves are a prefix of the new ones.
    assert _leaves(tmp_path / "v2.manifest")[:10] == _leaves(v1)
    again = verify_amendment((tmp_path / "a.amend").read_bytes(), KEY.public_key)
    assert again.current.digest == result.current.digest


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_append_from_json_lines(v1: Path, tmp_path: Path, suffix: str) -> None:
    extra = tmp_path / f"more{suffix}"
    added = [prisoner(i) for i in range(10, 12)]
    extra.write_text("".join(json.dumps(r) + "\n" for r in added), encoding="utf-8")
    result = amend_manifest_file(
        v1,
        tmp_path / "v2.manifest",
        tmp_path / "a.amend",
        keys=[KEY],
        additions=extra,
        created_at=2,
    )
    assert result.current.header.count == 12
    csv_twin = _write_csv(tmp_path / "more.csv", added)
    again = amend_manifest_file(
        v1, tmp_path / "v2c", tmp_path / "c.amend", keys=[KEY], additions=csv_twin, created_at=2
    )
    assert again.current.header.count == 12


def test_revise_amendment_signs_each_removal(v1: Path, tmp_path: Path) -> None:
    result = amend_manifest_file(
        v1,
        tmp_path / "v2.manifest",
        tmp_path / "r.amend",
        keys=[KEY],
        removals=[(3, RemovalReason.DECEASED), (7, RemovalReason.DUPLICATE)],
        created_at=2,
    )
    assert result.mode is AmendmentMode.REVISE
    assert [(r.index, r.record_id, r.reason) for r in result.removed] == [
        (3, "P-00003", RemovalReason.DECEASED),
        (7, "P-00007", RemovalReason.DUPLICATE),
    ]
    assert result.current.header.count == 8
    check_revision(result, _leaves(v1), _leaves(tmp_path / "v2.manifest"))


def _transfer_first(v1: Path, tmp_path: Path) -> tuple[Any, list[bytes], list[bytes]]:
    """Version 2 of ``v1`` without its entry 0: the amendment, old and new leaves."""
    result = amend_manifest_file(
        v1,
        tmp_path / "v2.manifest",
        tmp_path / "r.amend",
        keys=[KEY],
        removals=[(0, RemovalReason.TRANSFERRED)],
        created_at=2,
    )
    return result, _leaves(v1), _leaves(tmp_path / "v2.manifest")


def test_check_revision_detects_silent_changes(v1: Path, tmp_path: Path) -> None:
    result, old, new = _transfer_first(v1, tmp_path)
    with pytest.raises(VerificationError):
        check_revision(result, old, new[:-1])  # an entry vanished without a removal
    with pytest.raises(VerificationError):
        check_revision(result, old, [new[1], new[0], *new[2:]])  # entries swapped
    forged = Removal(0, "SOMEONE-ELSE", RemovalReason.TRANSFERRED)
    with pytest.raises(VerificationError):
        check_revision(
            type(result)(result.previous, result.current, result.mode, (forged,), None), old, new
        )


def test_check_revision_ties_the_leaves_to_the_signed_headers(v1: Path, tmp_path: Path) -> None:
    result, old, new = _transfer_first(v1, tmp_path)
    check_revision(result, old, new)
    extra = encode({"i": len(new), "k": "prisoner", "r": prisoner(99), "s": bytes(32)})
    root, entries = ErrorCode.VERIFY_ROOT, ErrorCode.VERIFY_AMENDMENT
    for old_leaves, new_leaves, code in (
        (old, [*new, extra], root),  # an entry added that the signed new header does not count
        (old[:-1], new[:-1], root),  # both versions short of their last entry
        ([*old, extra], new, entries),  # an old entry not carried over (met first, streaming)
    ):
        with pytest.raises(VerificationError) as info:
            check_revision(result, old_leaves, new_leaves)
        assert info.value.code == code


def test_amendment_refuses_bad_requests(v1: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        amend_manifest_file(
            v1,
            tmp_path / "x",
            tmp_path / "y",
            keys=[KEY],
            removals=[(99, RemovalReason.DECEASED)],
            created_at=2,
        )
    with pytest.raises(InputError):
        amend_manifest_file(
            v1,
            tmp_path / "x",
            tmp_path / "y",
            keys=[KEY],
            removals=[(1, RemovalReason.DECEASED), (1, RemovalReason.DUPLICATE)],
            created_at=2,
        )
    with pytest.raises(VerificationError):  # not the issuer's key
        amend_manifest_file(
            v1,
            tmp_path / "x",
            tmp_path / "y",
            keys=[OTHER],
            removals=[(1, RemovalReason.DECEASED)],
            created_at=2,
        )
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()


@pytest.mark.parametrize("content", [None, "", "\ufeff", "person_id,family_name\n"])
def test_an_amendment_that_changes_nothing_is_refused(
    v1: Path, tmp_path: Path, content: str | None
) -> None:
    additions = None
    if content is not None:
        additions = tmp_path / "empty.csv"
        additions.write_text(content, encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(InputError) as info:
        amend_manifest_file(
            v1, tmp_path / "v2", tmp_path / "a.amend", keys=[KEY], additions=additions, created_at=2
        )
    assert info.value.code == ErrorCode.INPUT_INVALID
    # a file with no header line at all is refused as empty; a header alone adds nothing
    expected = "file is empty" if content in ("", "\ufeff") else "nothing to amend"
    assert expected in str(info.value)
    assert sorted(tmp_path.iterdir()) == before


def test_an_empty_addition_with_a_removal_is_a_revision(v1: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("person_id,family_name\n", encoding="utf-8")
    result = amend_manifest_file(
        v1,
        tmp_path / "v2",
        tmp_path / "a.amend",
        keys=[KEY],
        additions=empty,
        removals=[(4, RemovalReason.DECEASED)],
        created_at=2,
    )
    assert result.mode is AmendmentMode.REVISE
    assert result.current.header.count == 9


def _rewrite_payload(data: bytes, **changes: Any) -> bytes:
    """Re-sign an amendment with changed payload fields (an issuer lying about the link)."""
    from swapproto.envelope import SignedEnvelope, sign_envelope

    outer: Any = decode(data)
    env = SignedEnvelope.from_bytes(outer["amendment"])
    payload: Any = env.unverified_value()
    payload.update(changes)
    outer["amendment"] = sign_envelope(env.payload_type, payload, [KEY_V]).to_bytes()
    return encode(outer)


KEY_V = SigningKey.from_seed(bytes.fromhex(SMALL["inputs"]["issuer_seed"]))
PUB_V = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))


def test_vectors_verify() -> None:
    append = verify_amendment(bytes.fromhex(APPEND), PUB_V)
    assert append.mode is AmendmentMode.APPEND
    assert (append.previous.header.count, append.current.header.count) == (3, 4)
    assert append.previous.digest.hex() == SMALL["header_digest"]
    revise = verify_amendment(bytes.fromhex(REVISE), PUB_V)
    assert [r.record_id for r in revise.removed] == ["UA-0002"]
    assert [to_typed(r.to_value()) for r in revise.removed] == AMENDS["revise"]["removed"]
    cited = verify_amendment(bytes.fromhex(AMENDS["cited_append"]["amendment"]), PUB_V)
    assert cited.cites is not None
    assert cited.cites.hex() == AMENDS["cited_append"]["cites"]
    assert cited.current.header.exchange == bytes.fromhex(SEVEN["inputs"]["exchange"])


@pytest.mark.parametrize("name", ["append", "revise", "cited_append"])
def test_vectors_rebuild_from_their_inputs(name: str) -> None:
    vector = AMENDS[name]
    old = MANIFESTS[vector["manifest"]]
    new = vector["new_inputs"]
    removed = [
        Removal(r["index"], r["id"], RemovalReason(r["reason"]))
        for r in map(from_typed, vector.get("removed", []))
    ]
    gone = {r.index for r in removed}
    pairs = zip(old["inputs"]["records"], old["inputs"]["salts"], strict=True)
    carried = [(rec, bytes.fromhex(salt)) for i, (rec, salt) in enumerate(pairs) if i not in gone]
    labels = {k: old["inputs"][k] for k in ("issuer", "list", "kind", "exchange")}
    inputs = {**new, **labels, "previous": old["header_digest"]}
    data, result = rebuild(inputs, [*carried, *new["records"]])
    header = result.verified.envelope.to_bytes()
    if "new_manifest" in vector:
        assert data.hex() == vector["new_manifest"]
    if "new_header_envelope" in vector:
        assert header.hex() == vector["new_header_envelope"]
    mode = AmendmentMode(vector["mode"])
    proof: tuple[bytes, ...] = ()
    if mode is AmendmentMode.APPEND:
        proof = MerkleTree.from_leaf_hashes(result.leaf_hashes or ()).consistency_proof(
            len(old["leaves"])
        )
    cites = bytes.fromhex(vector["cites"]) if "cites" in vector else None
    made = make_amendment(
        bytes.fromhex(old["header_envelope"]),
        header,
        mode=mode,
        keys=[KEY_V],
        consistency=proof,
        removed=removed,
        cites=cites,
    )
    assert made.hex() == vector["amendment"]


@pytest.mark.parametrize("case", AMENDS_REJECTED, ids=lambda c: c["desc"])
def test_vector_rejected(case: dict[str, Any]) -> None:
    data = edited(bytes.fromhex(AMENDS[case["base"]]["amendment"]), case)
    assert error_code(lambda d: verify_amendment(d, PUB_V), data) == case["want_error"]


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"mode": "revise"}, "append proof presented as revision"),
        ({"mode": "sideways"}, "unknown mode"),
        ({"consistency": []}, "missing consistency proof"),
        ({"previous": b"\x00" * 32}, "names another previous version"),
        ({"current": b"\x00" * 32}, "names another current version"),
        ({"removed": [{"id": "x", "index": 0, "reason": "deceased"}]}, "append that removes"),
        ({"cites": b"\x00"}, "short citation"),
    ],
)
def test_forged_append_payloads_are_refused(changes: dict[str, Any], what: str) -> None:
    with pytest.raises(VerificationError):
        verify_amendment(_rewrite_payload(bytes.fromhex(APPEND), **changes), PUB_V)


@pytest.mark.parametrize(
    "removed",
    [
        [],
        [{"id": "x", "index": 5, "reason": "deceased"}],
        [{"id": "x", "index": 1, "reason": "bored"}],
        [
            {"id": "x", "index": 1, "reason": "deceased"},
            {"id": "y", "index": 1, "reason": "deceased"},
        ],
        [{"index": 1, "reason": "deceased"}],
    ],
)
def test_forged_removals_are_refused(removed: list[Any]) -> None:
    with pytest.raises(VerificationError):
        verify_amendment(_rewrite_payload(bytes.fromhex(REVISE), removed=removed), PUB_V)


def test_links_between_versions_are_checked() -> None:
    outer: Any = decode(bytes.fromhex(APPEND))
    swapped = encode({**outer, "previous": outer["current"], "current": outer["previous"]})
    with pytest.raises(VerificationError):
        verify_amendment(swapped, PUB_V)
    with pytest.raises(VerificationError) as info:
        verify_amendment(encode({**outer, "format": "x"}), PUB_V)
    assert info.value.code == ErrorCode.VERIFY_AMENDMENT
    with pytest.raises(VerificationError):
        make_amendment(outer["previous"], outer["current"], mode=AmendmentMode.APPEND, keys=[OTHER])


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_single_byte_change_of_an_amendment_is_detected(data: st.DataObject) -> None:
    original = bytes.fromhex(data.draw(st.sampled_from([APPEND, REVISE])))
    pos = data.draw(st.integers(0, len(original) - 1))
    mutated = bytearray(original)
    mutated[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SwapprotoError):
        verify_amendment(bytes(mutated), PUB_V)


def test_revision_vector_entries() -> None:
    revise = verify_amendment(bytes.fromhex(REVISE), PUB_V)
    old = io.BytesIO(bytes.fromhex(SMALL["file"]))
    new = io.BytesIO(bytes.fromhex(AMENDS["revise"]["new_manifest"]))
    old_reader, new_reader = ManifestReader(old), ManifestReader(new)
    check_revision(revise, old_reader.leaves(3), new_reader.leaves(2))


# ---------------------------------------------------------------------------------------
# lists bound to an exchange answer to their commit


@pytest.fixture
def bound_v1(tmp_path: Path) -> Path:
    return _first_version(tmp_path / "bound.manifest", 6, "pows", exchange=bytes(range(32)))


def test_amending_a_bound_list_requires_citing_its_commit(bound_v1: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        amend_manifest_file(
            bound_v1,
            tmp_path / "v2",
            tmp_path / "a.amend",
            keys=[KEY],
            removals=[(0, RemovalReason.DECEASED)],
            created_at=2,
        )
    assert info.value.code == ErrorCode.INPUT_INVALID
    assert not (tmp_path / "v2").exists()
    commit_id = b"\x07" * 32
    result = amend_manifest_file(
        bound_v1,
        tmp_path / "v2",
        tmp_path / "a.amend",
        keys=[KEY],
        removals=[(0, RemovalReason.DECEASED)],
        created_at=2,
        cites=commit_id,
    )
    assert result.cites == commit_id
    assert verify_amendment((tmp_path / "a.amend").read_bytes(), KEY.public_key).cites == commit_id


def test_a_bound_amendment_without_citation_does_not_verify(bound_v1: Path, tmp_path: Path) -> None:
    amend_manifest_file(
        bound_v1,
        tmp_path / "v2",
        tmp_path / "a.amend",
        keys=[KEY],
        removals=[(1, RemovalReason.TRANSFERRED)],
        created_at=2,
        cites=b"\x01" * 32,
    )
    value: Any = decode((tmp_path / "a.amend").read_bytes())
    from swapproto.envelope import SignedEnvelope, sign_envelope

    payload: Any = SignedEnvelope.from_bytes(value["amendment"]).unverified_value()
    payload["cites"] = None
    value["amendment"] = sign_envelope("swapproto/manifest-amendment/v1", payload, [KEY]).to_bytes()
    with pytest.raises(VerificationError) as info:
        verify_amendment(encode(value), KEY.public_key)
    assert info.value.code == ErrorCode.VERIFY_AMENDMENT


def test_citation_must_be_a_message_id(bound_v1: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        amend_manifest_file(
            bound_v1,
            tmp_path / "v2",
            tmp_path / "a.amend",
            keys=[KEY],
            removals=[(0, RemovalReason.DUPLICATE)],
            created_at=2,
            cites=b"short",
        )


def test_amend_reports_progress(v1: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    amend_manifest_file(
        v1,
        tmp_path / "v2",
        tmp_path / "a.amend",
        keys=[KEY],
        removals=[(0, RemovalReason.DECEASED)],
        created_at=2,
        progress=seen.append,
    )
    assert seen
    assert seen[-1] == 9  # the final count: ten entries less the removed one


def test_removal_reasons_by_value_and_unknown_ones(v1: Path, tmp_path: Path) -> None:
    options: dict[str, Any] = {"keys": [KEY], "created_at": 2}
    by_value = amend_manifest_file(
        v1, tmp_path / "v2", tmp_path / "a2", removals=[(1, "deceased")], **options
    )
    assert by_value.removed[0].reason is RemovalReason.DECEASED
    with pytest.raises(InputError) as info:
        amend_manifest_file(v1, tmp_path / "v3", tmp_path / "a3", removals=[(1, "lost")], **options)
    assert "deceased" in str(info.value)  # the known reasons are listed
    assert not (tmp_path / "v3").exists()


def test_additions_as_records_are_checked_before_anything_is_written(
    v1: Path, tmp_path: Path
) -> None:
    options: dict[str, Any] = {"keys": [KEY], "created_at": 2}
    added = amend_manifest_file(
        v1, tmp_path / "v2", tmp_path / "a2", additions=[prisoner(100)], **options
    )
    assert added.mode is AmendmentMode.APPEND
    assert added.current.header.count == added.previous.header.count + 1
    bad = {**prisoner(101), "sex": "Male"}
    with pytest.raises(InputError) as info:
        amend_manifest_file(
            v1, tmp_path / "v3", tmp_path / "a3", additions=[prisoner(102), bad], **options
        )
    assert info.value.code == ErrorCode.INPUT_RECORD
    assert str(info.value).startswith("[input.invalid_record] added record 1:")
    assert "Male" not in str(info.value)
    assert not (tmp_path / "v3").exists()
    assert not (tmp_path / "a3").exists()
    with pytest.raises(InputError, match="nothing to amend: the additions"):
        amend_manifest_file(v1, tmp_path / "v4", tmp_path / "a4", additions=[], **options)


def test_added_entries_take_their_salts_from_the_salt_source(v1: Path, tmp_path: Path) -> None:
    def fixed(n: int) -> bytes:
        return bytes([0x5A]) * n

    amend_manifest_file(
        v1, tmp_path / "v2", tmp_path / "a2", keys=[KEY], created_at=2,
        additions=[prisoner(100)], salt_source=fixed,
    )  # fmt: skip
    added = decode_entry(_leaves(tmp_path / "v2")[-1])
    assert added.salt == bytes([0x5A]) * 32
    kept = decode_entry(_leaves(tmp_path / "v2")[0])
    assert kept.salt == decode_entry(_leaves(v1)[0]).salt  # carried entries keep theirs
