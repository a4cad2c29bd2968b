"""Tests for swapproto.merkle against a naive RFC 9162 reference, published values and vectors."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import load_vectors
from swapproto.errors import ErrorCode, ProofError, VerificationError
from swapproto.merkle import (
    EMPTY_ROOT,
    MAX_TREE_SIZE,
    MerkleTree,
    StreamingRootBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
    verify_inclusion_hash,
)

# -- a naive reference: RFC 9162 §2.1 MTH / PATH / PROOF, transcribed literally ---------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH, PATH and PROOF over one list of leaves, recursing on ranges ``[lo, hi)``.

    MTH is memoised per range so that checking every proof of a 300-leaf tree stays fast;
    the definitions themselves are the RFC's, recursion and all.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        if (lo, hi) not in self._memo:
            n = hi - lo
            if n == 0:
                value = _sha(b"")
            elif n == 1:
                value = _sha(b"\x00" + self.leaves[lo])
            else:
                k = _k(n)
                value = _sha(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))
            self._memo[(lo, hi)] = value
        return self._memo[(lo, hi)]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        if m in (0, n):
            return []
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


def counter(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") for i in range(n)]


def flip(data: bytes, byte: int = 0, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[byte] ^= 1 << bit
    return bytes(b)


def assert_code(code: ErrorCode, call: Callable[..., object], *args: Any) -> ProofError:
    with pytest.raises(ProofError) as info:
        call(*args)
    assert info.value.code == code, str(info.value)
    return info.value


# -- published RFC 6962 test values (transparency-dev/merkle testonly & proof tests) ---------

RFC_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Published proofs: (index, size, path) and (old, new, proof).
RFC_INCLUSION = [
    (0, 8, ("96a296d2", "5f083f0a", "6b47aaf2")),
    (5, 8, ("bc1a0643", "ca854ea1", "d37ee418")),
    (2, 3, ("fac54203",)),
    (1, 5, ("6e340b9c", "5f083f0a", "bc1a0643")),
]
RFC_CONSISTENCY = [
    (1, 8, ("96a296d2", "5f083f0a", "6b47aaf2")),
    (6, 8, ("0ebc5d34", "ca854ea1", "d37ee418")),
    (2, 5, ("5f083f0a", "bc1a0643")),
    (6, 7, ("0ebc5d34", "b08693ec", "d37ee418")),
]
# Their full values, level 0 = leaf hashes; prefixes above are of these.
RFC_NODES = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
]


def _full(prefixes: tuple[str, ...]) -> list[bytes]:
    out = []
    for p in prefixes:
        (match,) = [h for h in RFC_NODES if h.startswith(p)]
        out.append(bytes.fromhex(match))
    return out


def test_published_roots() -> None:
    assert EMPTY_ROOT.hex() == RFC_ROOTS[0]
    builder = StreamingRootBuilder()
    for n, want in enumerate(RFC_ROOTS):
        assert root(RFC_LEAVES[:n]).hex() == want
        assert MerkleTree(RFC_LEAVES[:n]).root.hex() == want
        assert builder.root().hex() == want
        if n < len(RFC_LEAVES):
            builder.add_leaf(RFC_LEAVES[n])


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION)
def test_published_inclusion_proofs(index: int, size: int, path: tuple[str, ...]) -> None:
    want = _full(path)
    assert list(inclusion_proof(RFC_LEAVES[:size], index)) == want
    verify_inclusion(RFC_LEAVES[index], index, size, want, bytes.fromhex(RFC_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), RFC_CONSISTENCY)
def test_published_consistency_proofs(old: int, new: int, proof: tuple[str, ...]) -> None:
    want = _full(proof)
    assert list(consistency_proof(RFC_LEAVES[:new], old)) == want
    verify_consistency(old, new, want, bytes.fromhex(RFC_ROOTS[old]), bytes.fromhex(RFC_ROOTS[new]))


def test_hash_primitives() -> None:
    assert leaf_hash(b"") == _sha(b"\x00")
    assert node_hash(b"ab", b"c") == _sha(b"\x01abc")  # any lengths, no framing
    assert node_hash(b"", b"") == _sha(b"\x01")


# -- exhaustive agreement with the reference for every size 0..300 --------------------------


def _old_sizes(n: int) -> list[int]:
    if n <= 64:
        return list(range(n + 1))
    picks = {0, 1, 2, 3, n - 2, n - 1, n}
    picks |= {p for j in range(9) for p in (2**j - 1, 2**j, 2**j + 1) if p <= n}
    picks |= set(random.Random(n).sample(range(n + 1), 12))
    return sorted(picks)


@pytest.mark.parametrize("n", range(301))
def test_agrees_with_reference(n: int) -> None:
    leaves = [bytes([i % 251]) * (i % 5) + i.to_bytes(2, "big") for i in range(n)]
    ref = Reference(leaves)
    tree = MerkleTree(leaves)
    want_root = ref.mth(0, n)
    assert tree.root == want_root
    assert tree.size == n
    assert root(leaves) == want_root
    assert MerkleTree.from_leaf_hashes(map(leaf_hash, leaves)).root == want_root
    builder = StreamingRootBuilder()
    builder.add_leaves(leaves)
    assert builder.root() == want_root
    assert builder.size == n
    for index in range(n):
        proof = tree.inclusion_proof(index)
        assert list(proof) == ref.path(index, 0, n)
        verify_inclusion(leaves[index], index, n, proof, want_root)
    for old in _old_sizes(n):
        proof = tree.consistency_proof(old)
        assert list(proof) == ref.proof(old, n)
        verify_consistency(old, n, proof, ref.mth(0, old), want_root)


def test_module_functions_match_tree() -> None:
    leaves = counter(21)
    tree = MerkleTree(leaves)
    assert inclusion_proof(leaves, 17) == tree.inclusion_proof(17)
    assert consistency_proof(leaves, 9) == tree.consistency_proof(9)
    assert tree.leaf_hash(4) == leaf_hash(leaves[4])


def test_streaming_mixed_adds() -> None:
    leaves = counter(77)
    builder = StreamingRootBuilder()
    builder.add_leaf(leaves[0])
    builder.add_leaf_hash(leaf_hash(leaves[1]))
    builder.add_leaf_hashes(leaf_hash(x) for x in leaves[2:40])
    builder.add_leaves(leaves[40:])
    assert builder.size == 77
    assert builder.root() == root(leaves)
    assert len(builder._stack) == bin(77).count("1")  # O(log n) state


@pytest.mark.slow
def test_streaming_one_million() -> None:
    n, old = 1_000_000, 999_937
    leaves = counter(n)
    builder = StreamingRootBuilder()
    builder.add_leaves(leaves[:old])
    old_root = builder.root()  # a snapshot does not disturb the stream
    builder.add_leaves(leaves[old:])
    tree = MerkleTree(leaves)
    assert builder.root() == tree.root == root(leaves)
    assert len(builder._stack) == bin(n).count("1")  # O(log n) state
    for index in (0, 524_287, 524_288, n - 1):
        verify_inclusion(leaves[index], index, n, tree.inclusion_proof(index), tree.root)
    verify_consistency(old, n, tree.consistency_proof(old), old_root, tree.root)


# -- rejection paths: inclusion --------------------------------------------------------------

INCLUSION_CASES = [(0, 1), (0, 8), (5, 8), (2, 3), (1, 5), (6, 7), (12, 13), (64, 100)]


def _ref_shape(index: int, size: int) -> list[bool]:
    """Per proof element, leaf upward: is the sibling on the right? (RFC PATH recursion)."""
    if size <= 1:
        return []
    k = _k(size)
    if index < k:
        return [*_ref_shape(index, k), True]
    return [*_ref_shape(index - k, size - k), False]


def _wrong_position_code(index: int, size: int, shape: list[bool]) -> ErrorCode | None:
    """The code verification must raise for a proof of ``shape`` checked at (index, size).

    ``None`` when (index, size) has the very same shape: then the hashing is identical and
    the proof verifies, because the size is bound only by the root (spec/merkle.md §8).
    """
    if not 0 <= index < size:
        return ErrorCode.VERIFY_RANGE
    wrong = _ref_shape(index, size)
    if len(wrong) != len(shape):
        return ErrorCode.VERIFY_PROOF
    return None if wrong == shape else ErrorCode.VERIFY_ROOT


def _check_position(code: ErrorCode | None, *args: Any) -> None:
    if code is None:
        verify_inclusion(*args)
    else:
        assert_code(code, verify_inclusion, *args)


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_inclusion_rejections(index: int, size: int) -> None:
    leaves = counter(size)
    tree = MerkleTree(leaves)
    leaf, head, proof = leaves[index], tree.root, list(tree.inclusion_proof(index))
    verify_inclusion(leaf, index, size, proof, head)
    root_err = ErrorCode.VERIFY_ROOT
    for i in range(len(proof)):
        for byte, bit in ((0, 0), (31, 7), (17, 3)):
            bad = [*proof[:i], flip(proof[i], byte, bit), *proof[i + 1 :]]
            assert_code(root_err, verify_inclusion, leaf, index, size, bad, head)
    err = assert_code(root_err, verify_inclusion, leaf + b"!", index, size, proof, head)
    assert err.expected == head
    assert err.calculated is not None
    assert err.calculated != head
    assert_code(root_err, verify_inclusion, leaf, index, size, proof, flip(head))
    assert_code(root_err, verify_inclusion, leaf, index, size, proof, root(leaves[:-1]))
    assert_code(root_err, verify_inclusion, leaf, index, size, proof, head[:31])
    bad_proof = ErrorCode.VERIFY_PROOF
    assert_code(bad_proof, verify_inclusion, leaf, index, size, [*proof, head], head)
    assert_code(bad_proof, verify_inclusion, leaf, index, size, [head, *proof], head)
    if proof:
        assert_code(bad_proof, verify_inclusion, leaf, index, size, proof[:-1], head)
        assert_code(bad_proof, verify_inclusion, leaf, index, size, [], head)
        for bad_len in (b"", proof[0][:31], proof[0] + b"\x00"):
            bad = [bad_len, *proof[1:]]
            assert_code(bad_proof, verify_inclusion, leaf, index, size, bad, head)
    h = leaf_hash(leaf)
    assert_code(bad_proof, verify_inclusion_hash, h[:31], index, size, proof, head)
    assert_code(bad_proof, verify_inclusion_hash, h + b"\x00", index, size, proof, head)
    shape = _ref_shape(index, size)
    for wrong_index in {index - 1, index + 1, index ^ 1, index ^ 2} - {index}:
        code = _wrong_position_code(wrong_index, size, shape)
        # The leaf stays the one at ``index``: only the claimed position changes.
        assert code is not None  # two positions in one tree never share a path shape
        assert_code(code, verify_inclusion, leaf, wrong_index, size, proof, head)
    for wrong_size in {size * 2, size // 2, size - 1, size + 1} - {size}:
        code = _wrong_position_code(index, wrong_size, shape)
        _check_position(code, leaf, index, wrong_size, proof, head)
    out = ErrorCode.VERIFY_RANGE
    for bad_index, bad_size in ((size, size), (size + 5, size), (-1, size), (0, 0), (0, -1)):
        assert_code(out, verify_inclusion, leaf, bad_index, bad_size, proof, head)
    assert_code(out, verify_inclusion, leaf, index, MAX_TREE_SIZE + 1, proof, head)


def test_inclusion_wrong_size_can_share_a_shape() -> None:
    # Not a bug but worth pinning: leaf 1 has the same audit path shape in trees of 5 and 6
    # leaves, so size is only bound by the root it is checked against (spec/merkle.md §8).
    leaves = counter(5)
    tree = MerkleTree(leaves)
    verify_inclusion(leaves[1], 1, 6, tree.inclusion_proof(1), tree.root)


def test_proof_error_is_a_verification_error() -> None:
    err = assert_code(ErrorCode.VERIFY_RANGE, verify_inclusion, b"x", 0, 0, [], EMPTY_ROOT)
    assert isinstance(err, VerificationError)


# -- rejection paths: consistency ------------------------------------------------------------

CONSISTENCY_CASES = [(1, 8), (6, 8), (2, 5), (6, 7), (3, 7), (4, 8), (1, 2), (13, 100), (64, 100)]


def _wrong_sizes_code(old: int, new: int, proof_len: int) -> ErrorCode:
    if not 0 <= old <= new:
        return ErrorCode.VERIFY_RANGE
    want = len(Reference(counter(new)).proof(old, new))
    return ErrorCode.VERIFY_PROOF if want != proof_len else ErrorCode.VERIFY_ROOT


@pytest.mark.parametrize(("old", "new"), CONSISTENCY_CASES)
def test_consistency_rejections(old: int, new: int) -> None:
    leaves = counter(new)
    tree = MerkleTree(leaves)
    r1, r2, proof = root(leaves[:old]), tree.root, list(tree.consistency_proof(old))
    verify_consistency(old, new, proof, r1, r2)
    root_err, bad_proof = ErrorCode.VERIFY_ROOT, ErrorCode.VERIFY_PROOF
    for i in range(len(proof)):
        for byte, bit in ((0, 4), (31, 0), (9, 6)):
            bad = [*proof[:i], flip(proof[i], byte, bit), *proof[i + 1 :]]
            assert_code(root_err, verify_consistency, old, new, bad, r1, r2)
    err = assert_code(root_err, verify_consistency, old, new, proof, r2, r1)  # swapped
    assert err.expected is not None
    assert err.calculated is not None
    assert_code(root_err, verify_consistency, old, new, proof, r1, flip(r2, 5))
    assert_code(root_err, verify_consistency, old, new, proof, flip(r1, 5), r2)
    assert_code(root_err, verify_consistency, old, new, proof, r1[:31], r2)
    assert_code(root_err, verify_consistency, old, new, proof, r1, r2 + b"\x00")
    for extra in ([*proof, r1], [*proof, r2], [r1, *proof], [proof[0], *proof]):
        assert_code(bad_proof, verify_consistency, old, new, extra, r1, r2)
    assert_code(bad_proof, verify_consistency, old, new, proof[:-1], r1, r2)
    assert_code(bad_proof, verify_consistency, old, new, [], r1, r2)
    for bad_len in (b"", proof[-1][:31], proof[-1] + b"\x00"):
        assert_code(bad_proof, verify_consistency, old, new, [*proof[:-1], bad_len], r1, r2)
    for o, n in ((old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)):
        if (o, n) != (old, new) and o >= 0:
            code = _wrong_sizes_code(o, n, len(proof))
            assert_code(code, verify_consistency, o, n, proof, r1, r2)
    out = ErrorCode.VERIFY_RANGE
    for o, n in ((new + 1, new), (-1, new), (old, -1), (-2, -1), (old, MAX_TREE_SIZE + 1)):
        assert_code(out, verify_consistency, o, n, proof, r1, r2)


def test_consistency_edge_cases() -> None:
    leaves = counter(5)
    r5, r4, empty = root(leaves), root(leaves[:4]), EMPTY_ROOT
    # Accepted: nothing to prove.
    verify_consistency(0, 0, [], empty, empty)
    verify_consistency(0, 5, [], empty, r5)
    verify_consistency(5, 5, [], r5, r5)
    bad_proof, root_err = ErrorCode.VERIFY_PROOF, ErrorCode.VERIFY_ROOT
    assert_code(bad_proof, verify_consistency, 0, 5, [r5], empty, r5)
    assert_code(bad_proof, verify_consistency, 0, 0, [empty], empty, empty)
    assert_code(bad_proof, verify_consistency, 5, 5, [r5], r5, r5)
    assert_code(bad_proof, verify_consistency, 5, 5, [b"short"], r5, r5)
    assert_code(root_err, verify_consistency, 0, 5, [], r4, r5)
    assert_code(root_err, verify_consistency, 0, 0, [], empty, r5)
    assert_code(root_err, verify_consistency, 0, 0, [], r5, r5)
    err = assert_code(root_err, verify_consistency, 5, 5, [], r5, r4)
    assert (err.expected, err.calculated) == (r4, r5)
    assert_code(ErrorCode.VERIFY_RANGE, verify_consistency, 5, 4, [], r5, r4)
    assert_code(ErrorCode.VERIFY_RANGE, verify_consistency, 1, 0, [], r5, empty)


def test_generation_range_errors() -> None:
    tree = MerkleTree(counter(4))
    out = ErrorCode.VERIFY_RANGE
    for index in (-1, 4):
        assert_code(out, tree.inclusion_proof, index)
        assert_code(out, tree.leaf_hash, index)
    for old in (-1, 5):
        assert_code(out, tree.consistency_proof, old)
    assert_code(out, MerkleTree().inclusion_proof, 0)
    assert MerkleTree().root == EMPTY_ROOT
    assert MerkleTree().consistency_proof(0) == ()


def test_bad_leaf_hashes_rejected() -> None:
    bad_proof = ErrorCode.VERIFY_PROOF
    assert_code(bad_proof, MerkleTree.from_leaf_hashes, [leaf_hash(b"a"), b"\x00" * 31])
    builder = StreamingRootBuilder()
    assert_code(bad_proof, builder.add_leaf_hashes, [leaf_hash(b"a"), leaf_hash(b"b"), b"x"])
    assert builder.size == 2  # the good prefix stays, state consistent
    assert builder.root() == root([b"a", b"b"])
    assert_code(bad_proof, builder.add_leaf_hash, b"\x00" * 33)


# -- chunks: MerkleTree builds aligned chunks of 4,096 leaves and stores levels as bytes --------

CHUNK = 4096


@pytest.mark.parametrize(
    "n", [CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 1, 3 * CHUNK + 5]
)
def test_chunk_boundaries_agree_with_reference(n: int) -> None:
    leaves = counter(n)
    ref = Reference(leaves)
    want_root = ref.mth(0, n)
    tree = MerkleTree(iter(leaves))  # a one-shot iterator: read once, in chunks
    assert (tree.size, tree.root) == (n, want_root)
    assert root(iter(leaves)) == want_root
    assert MerkleTree.from_leaf_hashes(leaf_hash(x) for x in leaves).root == want_root
    edges = {0, 1, CHUNK - 2, CHUNK - 1, CHUNK, CHUNK + 1, n // 2, n - 2, n - 1}
    for index in sorted(i for i in edges if 0 <= i < n):
        assert tree.leaf_hash(index) == leaf_hash(leaves[index])
        assert list(tree.inclusion_proof(index)) == ref.path(index, 0, n)
    for old in sorted({1, CHUNK - 1, CHUNK, CHUNK + 1, n - 1, n} & set(range(n + 1))):
        assert list(tree.consistency_proof(old)) == ref.proof(old, n)


def test_proof_elements_are_bytes() -> None:
    tree = MerkleTree(counter(CHUNK + 3))
    elements = [*tree.inclusion_proof(CHUNK + 1), *tree.consistency_proof(CHUNK - 1)]
    assert elements
    assert all(type(e) is bytes and len(e) == 32 for e in [*elements, tree.root])
    assert type(tree.leaf_hash(7)) is bytes


def test_bad_leaf_hash_in_a_later_chunk_rejected() -> None:
    hashes = [leaf_hash(x) for x in counter(CHUNK + 2)]
    hashes[CHUNK + 1] = hashes[CHUNK + 1][:31]
    assert_code(ErrorCode.VERIFY_PROOF, MerkleTree.from_leaf_hashes, iter(hashes))


def test_subtree_root_of_every_split_range() -> None:
    for n in (1, 2, 5, 13, CHUNK + 3):
        leaves = counter(n)
        ref, tree = Reference(leaves), MerkleTree(leaves)
        for height in range((n - 1).bit_length() + 1):
            span = 1 << height
            for start in range(0, n, span)[:40]:
                size = min(span, n - start)
                assert tree.subtree_root(start, size) == ref.mth(start, start + size)


@pytest.mark.parametrize(
    ("start", "size"),
    [(0, 0), (-1, 1), (-2, 2), (8, 1), (5, 1), (4, 2), (1, 2), (2, 3), (0, 7), (4, 3), (0, 6)],
)
def test_subtree_root_refuses_other_ranges(start: int, size: int) -> None:
    tree = MerkleTree(counter(5))  # 5 leaves: (4, 1) and (0, 5) are split ranges, not these
    assert_code(ErrorCode.VERIFY_RANGE, tree.subtree_root, start, size)
    assert_code(ErrorCode.VERIFY_RANGE, MerkleTree().subtree_root, 0, 1)


@pytest.mark.parametrize(
    "fake",
    [memoryview(bytes(256)).cast("Q"), bytearray(32), memoryview(bytes(32)), 32, "x" * 32],
    ids=["memoryview-of-64-bit-items", "bytearray", "memoryview", "int", "str"],
)
def test_only_bytes_are_leaf_hashes(fake: Any) -> None:
    hashes = [leaf_hash(b"a"), fake]
    assert_code(ErrorCode.VERIFY_PROOF, MerkleTree.from_leaf_hashes, hashes)
    assert_code(ErrorCode.VERIFY_PROOF, StreamingRootBuilder().add_leaf_hashes, hashes)
    assert_code(ErrorCode.VERIFY_PROOF, StreamingRootBuilder().add_leaf_hash, fake)


# -- property tests --------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_property_inclusion(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1))
    head = root(leaves)
    proof = list(inclusion_proof(leaves, index))
    verify_inclusion(leaves[index], index, n, proof, head)
    builder = StreamingRootBuilder()
    builder.add_leaves(leaves)
    assert builder.root() == head
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        mask = data.draw(st.integers(1, 255))
        bad = bytearray(proof[i])
        bad[byte] ^= mask
        proof[i] = bytes(bad)
        assert_code(ErrorCode.VERIFY_ROOT, verify_inclusion, leaves[index], index, n, proof, head)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_property_consistency(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    old = data.draw(st.integers(0, n))
    r1, r2 = root(leaves[:old]), root(leaves)
    proof = list(consistency_proof(leaves, old))
    verify_consistency(old, n, proof, r1, r2)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        mask = data.draw(st.integers(1, 255))
        bad = bytearray(proof[i])
        bad[byte] ^= mask
        proof[i] = bytes(bad)
        assert_code(ErrorCode.VERIFY_ROOT, verify_consistency, old, n, proof, r1, r2)


# -- vectors ---------------------------------------------------------------------------------


def _cases(name: str) -> list[Any]:
    cases: list[Any] = load_vectors("merkle", name)["cases"]
    return [pytest.param(c, id=f"{i}-{c['desc']}") for i, c in enumerate(cases)]


def _hx(items: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in items]


@pytest.mark.parametrize("case", _cases("roots"))
def test_vector_roots(case: dict[str, Any]) -> None:
    leaves = _hx(case["leaves"])
    assert root(leaves).hex() == case["root"]


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_vector_inclusion(case: dict[str, Any]) -> None:
    leaf, proof, head = bytes.fromhex(case["leaf"]), _hx(case["proof"]), bytes.fromhex(case["root"])
    args = (case["index"], case["size"], proof, head)
    if "want_error" in case:
        assert_code(ErrorCode(case["want_error"]), verify_inclusion, leaf, *args)
        assert_code(ErrorCode(case["want_error"]), verify_inclusion_hash, leaf_hash(leaf), *args)
        return
    leaves = _hx(case["leaves"])
    assert len(leaves) == case["size"]
    assert list(inclusion_proof(leaves, case["index"])) == proof
    assert root(leaves) == head
    verify_inclusion(leaf, *args)
    verify_inclusion_hash(leaf_hash(leaf), *args)


@pytest.mark.parametrize("case", _cases("consistency"))
def test_vector_consistency(case: dict[str, Any]) -> None:
    old, new, proof = case["old_size"], case["new_size"], _hx(case["proof"])
    r1, r2 = bytes.fromhex(case["old_root"]), bytes.fromhex(case["new_root"])
    if "want_error" in case:
        assert_code(ErrorCode(case["want_error"]), verify_consistency, old, new, proof, r1, r2)
        return
    leaves = _hx(case["leaves"])
    assert list(consistency_proof(leaves, old)) == proof
    assert (root(leaves[:old]), root(leaves)) == (r1, r2)
    verify_consistency(old, new, proof, r1, r2)
