"""Disclosures and batch proofs: round trips, privacy, tampering, vectors."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_vectors import DISCLOSURE, ISSUER, MANIFESTS, edited, error_code
from swapproto.disclosure import collect_for_disclosure, make_disclosure, verify_disclosure
from swapproto.encoding import decode, encode
from swapproto.errors import ErrorCode, InputError, ProofError, SwapprotoError, VerificationError
from swapproto.manifest_file import ManifestReader
from swapproto.merkle import MerkleTree, leaf_hash
from swapproto.multiproof import multi_inclusion_proof, verify_multi_inclusion
from test_manifest import KEY, OTHER, build, prisoner


def disclose(data: bytes, indices: list[int]) -> bytes:
    reader = ManifestReader(io.BytesIO(data))
    count = reader.unverified_header().count
    tree, leaves = collect_for_disclosure(reader.leaves(count), indices)
    return make_disclosure(reader.header_bytes, tree, leaves)


@pytest.fixture(scope="module")
def manifest() -> bytes:
    return build([prisoner(i) for i in range(37)])


def test_single_disclosure_round_trip(manifest: bytes) -> None:
    proof = disclose(manifest, [17])
    result = verify_disclosure(proof, KEY.public_key)
    assert [e.index for e in result.entries] == [17]
    assert result.entries[0].record == prisoner(17)
    assert result.verified.header.count == 37
    assert len(proof) < 2048


def test_batch_disclosure_round_trip_and_shares_nodes(manifest: bytes) -> None:
    indices = [0, 1, 2, 3, 20, 36]
    proof = disclose(manifest, indices)
    result = verify_disclosure(proof, KEY.public_key)
    assert [e.index for e in result.entries] == indices
    shared = len(_fields(proof)["proof"])
    separate = sum(len(_fields(disclose(manifest, [i]))["proof"]) for i in indices)
    assert shared < separate


def test_disclosure_reveals_no_other_record(manifest: bytes) -> None:
    proof = disclose(manifest, [5])
    for i in range(37):
        if i != 5:
            assert f"P-{i:05d}".encode() not in proof
            assert f"Иванов{i}".encode() not in proof
    assert b"P-00005" in proof


def test_disclosure_under_another_key_fails(manifest: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        verify_disclosure(disclose(manifest, [3]), OTHER.public_key)
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


def _fields(data: bytes) -> Any:
    return decode(data)


def _rewrite(original: bytes, **changes: Any) -> bytes:
    value: Any = decode(original)
    value.update(changes)
    return encode(value)


def test_disclosure_rejection_paths(manifest: bytes) -> None:
    single = disclose(manifest, [4])
    batch = disclose(manifest, [4, 9])
    value: Any = decode(batch)
    leaves = value["leaves"]
    cases = {
        "unsorted": _rewrite(batch, leaves=[leaves[1], leaves[0]]),
        "duplicated": _rewrite(batch, leaves=[leaves[0], leaves[0]]),
        "empty": _rewrite(batch, leaves=[]),
        "wrong format": _rewrite(single, format="other/1"),
        "proof not bytes": _rewrite(single, proof=[1]),
        "extra proof element": _rewrite(batch, proof=[*value["proof"], b"\x00" * 32]),
        "missing proof element": _rewrite(batch, proof=value["proof"][:-1]),
        "index moved": _rewrite(single, leaves=[[5, _fields(single)["leaves"][0][1]]]),
        "index outside": _rewrite(single, leaves=[[99, _fields(single)["leaves"][0][1]]]),
        "trailing bytes": single + b"\x00",
    }
    for desc, bad in cases.items():
        with pytest.raises(VerificationError):
            verify_disclosure(bad, KEY.public_key)
        assert desc


def test_make_disclosure_refuses_misuse(manifest: bytes) -> None:
    reader = ManifestReader(io.BytesIO(manifest))
    tree, leaves = collect_for_disclosure(reader.leaves(37), [1])
    with pytest.raises(InputError):
        make_disclosure(reader.header_bytes, tree, {})
    with pytest.raises(InputError):
        make_disclosure(reader.header_bytes, tree, {2: leaves[1]})
    with pytest.raises(VerificationError) as info:
        collect_for_disclosure(iter([b"x"]), [5])
    assert info.value.code == ErrorCode.VERIFY_RANGE


def test_make_disclosure_refuses_a_tree_that_is_not_the_headers(manifest: bytes) -> None:
    reader = ManifestReader(io.BytesIO(manifest))
    leaves = list(reader.leaves(37))
    header = reader.header_bytes
    altered = [*leaves[:5], leaves[5] + b"\x00", *leaves[6:]]
    for desc, tree in {
        "an altered leaf": MerkleTree(altered),
        "a leaf short": MerkleTree(leaves[:36]),
        "a leaf more": MerkleTree([*leaves, leaves[0]]),
    }.items():
        with pytest.raises(VerificationError) as info:
            make_disclosure(header, tree, {1: leaves[1]})
        assert info.value.code == ErrorCode.VERIFY_ROOT, desc
    # the tree of the manifest's own leaves still works
    good = make_disclosure(header, MerkleTree(leaves), {1: leaves[1]})
    assert verify_disclosure(good, KEY.public_key).entries[0].record == prisoner(1)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_single_byte_change_of_a_disclosure_is_detected(data: st.DataObject) -> None:
    pub = ISSUER
    disclosures = [d["disclosure"] for d in DISCLOSURE["disclosures"].values()]
    original = bytes.fromhex(data.draw(st.sampled_from(disclosures)))
    pos = data.draw(st.integers(0, len(original) - 1))
    mutated = bytearray(original)
    mutated[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SwapprotoError):
        verify_disclosure(bytes(mutated), pub)


@pytest.mark.parametrize("name", sorted(DISCLOSURE["disclosures"]))
def test_vectors(name: str) -> None:
    vector = DISCLOSURE["disclosures"][name]
    manifest = MANIFESTS[vector["manifest"]]
    data = bytes.fromhex(vector["disclosure"])
    verified = verify_disclosure(data, ISSUER)
    assert [e.index for e in verified.entries] == vector["indices"]
    leaves = [bytes.fromhex(x) for x in manifest["leaves"]]
    tree = MerkleTree(leaves)
    header = bytes.fromhex(manifest["header_envelope"])
    assert make_disclosure(header, tree, {i: leaves[i] for i in vector["indices"]}) == data
    proof = [bytes.fromhex(p) for p in vector["proof"]]
    if len(vector["indices"]) == 1:  # RFC 9162 PATH order
        assert proof == list(tree.inclusion_proof(vector["indices"][0]))
    else:  # the walk order of manifest.md §6
        assert proof == list(multi_inclusion_proof(tree, vector["indices"]))


@pytest.mark.parametrize("case", DISCLOSURE["rejected"]["cases"], ids=lambda c: c["desc"])
def test_vector_rejected(case: dict[str, Any]) -> None:
    base = bytes.fromhex(DISCLOSURE["disclosures"][case["base"]]["disclosure"])
    data = edited(base, case)
    assert error_code(lambda d: verify_disclosure(d, ISSUER), data) == case["want_error"]


# --- batch proofs over RFC 9162 trees -------------------------------------------------------


def _naive_root(hashes: list[bytes]) -> bytes:
    from swapproto.merkle import node_hash

    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_naive_root(hashes[:k]), _naive_root(hashes[k:]))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 80).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1))
    )
)
def test_multiproof_verifies_for_any_index_set(case: tuple[int, set[int]]) -> None:
    n, indices = case
    leaves = [i.to_bytes(2, "big") for i in range(n)]
    tree = MerkleTree(leaves)
    assert tree.root == _naive_root([leaf_hash(x) for x in leaves])
    proof = multi_inclusion_proof(tree, sorted(indices))
    hashes = {i: leaf_hash(leaves[i]) for i in indices}
    verify_multi_inclusion(hashes, n, proof, tree.root)
    if len(indices) == 1:
        assert sorted(proof) == sorted(tree.inclusion_proof(next(iter(indices))))
    for j in range(len(proof)):
        broken = list(proof)
        broken[j] = bytes([proof[j][0] ^ 1]) + proof[j][1:]
        with pytest.raises(ProofError):
            verify_multi_inclusion(hashes, n, broken, tree.root)
    with pytest.raises(ProofError):
        verify_multi_inclusion(hashes, n, [*proof, b"\x00" * 32], tree.root)
    if proof:
        with pytest.raises(ProofError):
            verify_multi_inclusion(hashes, n, proof[:-1], tree.root)


def test_multiproof_rejects_bad_arguments() -> None:
    tree = MerkleTree([b"a", b"b", b"c"])
    with pytest.raises(ProofError):
        multi_inclusion_proof(tree, [])
    with pytest.raises(ProofError):
        multi_inclusion_proof(tree, [3])
    with pytest.raises(ProofError) as info:
        verify_multi_inclusion({5: b"\x00" * 32}, 3, [], tree.root)
    assert info.value.code == ErrorCode.VERIFY_RANGE
    with pytest.raises(ProofError) as info:
        verify_multi_inclusion({0: leaf_hash(b"a")}, 3, [b"\x00"], tree.root)
    assert info.value.code == ErrorCode.VERIFY_PROOF
