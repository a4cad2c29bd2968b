"""Test vectors for ``swapproto.merkle`` (RFC 9162 §2.1): ``spec/vectors/merkle/*.json``.

Happy cases come from the implementation; every one of them is also checked here against
the RFC definitions, and the 8-leaf roots are the published RFC 6962 test roots. Each
negative case's ``want_error`` is derived from the rules of ``spec/merkle.md`` §6 (range,
then element length, then element count, then root) independently of the verifier, and
generation fails if the verifier disagrees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from swapproto.errors import ErrorCode, ProofError
from swapproto.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

RFC6962_LEAVES = tuple(
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
)
"""The leaves of the RFC 6962 test trees used by transparency-dev/merkle."""

Case = dict[str, Any]


def counter_leaves(n: int) -> list[bytes]:
    """Leaves ``0..n-1`` as 4-byte big-endian integers."""
    return [i.to_bytes(4, "big") for i in range(n)]


def _hexes(items: Sequence[bytes]) -> list[str]:
    return [x.hex() for x in items]


def _largest_pow2_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def path_length(index: int, size: int) -> int:
    """``len(PATH(index, D[size]))`` from the RFC 9162 recursion."""
    if size <= 1:
        return 0
    k = _largest_pow2_below(size)
    if index < k:
        return 1 + path_length(index, k)
    return 1 + path_length(index - k, size - k)


def proof_length(m: int, n: int, whole: bool = True) -> int:
    """``len(SUBPROOF(m, D[n], whole))`` from the RFC 9162 recursion (0 < m <= n)."""
    if m == n:
        return 0 if whole else 1
    k = _largest_pow2_below(n)
    if m <= k:
        return proof_length(m, k, whole) + 1
    return proof_length(m - k, n - k, False) + 1


def _flip(data: bytes, byte: int = 0, bit: int = 3) -> bytes:
    b = bytearray(data)
    b[byte] ^= 1 << bit
    return bytes(b)


def _inclusion_code(index: int, size: int, proof: list[bytes]) -> str:
    if not 0 <= index < size:
        return ErrorCode.VERIFY_RANGE.value
    if any(len(p) != 32 for p in proof) or len(proof) != path_length(index, size):
        return ErrorCode.VERIFY_PROOF.value
    return ErrorCode.VERIFY_ROOT.value


def _consistency_code(
    old: int, new: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> str:
    if not 0 <= old <= new:
        return ErrorCode.VERIFY_RANGE.value
    if len(old_root) != 32 or len(new_root) != 32:
        return ErrorCode.VERIFY_ROOT.value
    if any(len(p) != 32 for p in proof):
        return ErrorCode.VERIFY_PROOF.value
    want = 0 if old in (0, new) else proof_length(old, new)
    if len(proof) != want:
        return ErrorCode.VERIFY_PROOF.value
    return ErrorCode.VERIFY_ROOT.value


def _observed(verify: Callable[..., None], *args: object) -> str | None:
    try:
        verify(*args)
    except ProofError as exc:
        return exc.code.value
    return None


# -- roots -------------------------------------------------------------------------------


def _roots() -> dict[str, object]:
    cases: list[Case] = []
    for n in range(len(RFC6962_LEAVES) + 1):
        leaves = list(RFC6962_LEAVES[:n])
        cases.append(
            {
                "desc": f"RFC 6962 test leaves, first {n}",
                "leaves": _hexes(leaves),
                "root": MerkleTree(leaves).root.hex(),
            }
        )
    for n in (13, 100):
        leaves = counter_leaves(n)
        cases.append(
            {
                "desc": f"{n} leaves i.to_bytes(4, 'big')",
                "leaves": _hexes(leaves),
                "root": MerkleTree(leaves).root.hex(),
            }
        )
    return {"desc": "MTH(D[n]) of raw leaves (RFC 9162 §2.1.1)", "cases": cases}


# -- inclusion ---------------------------------------------------------------------------


def _inclusion_mutations(leaves: list[bytes], index: int) -> list[Case]:
    tree = MerkleTree(leaves)
    size, root = tree.size, tree.root
    leaf, proof = leaves[index], list(tree.inclusion_proof(index))
    other_root = MerkleTree(leaves[:-1]).root
    variants: list[tuple[str, bytes, int, int, list[bytes], bytes]] = []
    for i in range(len(proof)):
        flipped = [*proof[:i], _flip(proof[i]), *proof[i + 1 :]]
        variants.append((f"proof[{i}] bit 3 of byte 0 flipped", leaf, index, size, flipped, root))
    variants += [
        ("trailing extra element (the root)", leaf, index, size, [*proof, root], root),
        ("preceding extra element (the root)", leaf, index, size, [root, *proof], root),
        ("root of the tree without its last leaf", leaf, index, size, proof, other_root),
        ("empty-tree root", leaf, index, size, proof, EMPTY_ROOT),
        ("wrong leaf data", leaf + b"\x00", index, size, proof, root),
        ("index + 1", leaf, index + 1, size, proof, root),
        ("index ^ 2", leaf, index ^ 2, size, proof, root),
        ("size * 2", leaf, index, size * 2, proof, root),
        ("index == size", leaf, size, size, proof, root),
        ("negative index", leaf, -1, size, proof, root),
    ]
    if proof:
        variants.append(("empty proof", leaf, index, size, [], root))
        variants.append(("missing last element", leaf, index, size, proof[:-1], root))
        variants.append(
            ("element truncated to 31 bytes", leaf, index, size, [proof[0][:31], *proof[1:]], root)
        )
        variants.append(
            (
                "element extended to 33 bytes",
                leaf,
                index,
                size,
                [proof[0] + b"\x00", *proof[1:]],
                root,
            )
        )
    if index > 0:
        variants.append(("index - 1", leaf, index - 1, size, proof, root))
    if size // 2 > 0:
        variants.append(("size / 2", leaf, index, size // 2, proof, root))
    cases = []
    for what, v_leaf, v_index, v_size, v_proof, v_root in variants:
        want = _inclusion_code(v_index, v_size, v_proof)
        got = _observed(verify_inclusion, v_leaf, v_index, v_size, v_proof, v_root)
        if got != want:
            raise AssertionError(
                f"inclusion {index}/{size} {what}: verifier says {got}, rule {want}"
            )
        cases.append(
            {
                "desc": f"leaf {index} of {size}: {what}",
                "leaf": v_leaf.hex(),
                "index": v_index,
                "size": v_size,
                "proof": _hexes(v_proof),
                "root": v_root.hex(),
                "want_error": want,
            }
        )
    return cases


def _inclusion_happy(leaves: list[bytes], index: int, what: str) -> Case:
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(index)
    assert len(proof) == path_length(index, tree.size)
    verify_inclusion(leaves[index], index, tree.size, proof, tree.root)
    return {
        "desc": f"leaf {index} of {tree.size} ({what})",
        "leaves": _hexes(leaves),
        "leaf": leaves[index].hex(),
        "index": index,
        "size": tree.size,
        "proof": _hexes(proof),
        "root": tree.root.hex(),
    }


def _inclusion() -> dict[str, object]:
    rfc = list(RFC6962_LEAVES)
    cases = [
        _inclusion_happy(rfc[:n], i, "RFC 6962 test leaves") for n in range(1, 9) for i in range(n)
    ]
    cases += [_inclusion_happy(counter_leaves(13), i, "counter leaves") for i in (0, 7, 8, 12)]
    cases += [_inclusion_happy(counter_leaves(100), i, "counter leaves") for i in (0, 63, 64, 99)]
    for n, i in ((8, 0), (8, 5), (3, 2), (5, 1), (7, 6), (1, 0)):
        cases += _inclusion_mutations(rfc[:n], i)
    cases += _inclusion_mutations(counter_leaves(13), 12)
    return {
        "desc": "Inclusion proofs PATH(index, D[size]) and verification (RFC 9162 §2.1.3)",
        "cases": cases,
    }


# -- consistency -------------------------------------------------------------------------


def _consistency_case(
    what: str, old: int, new: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> Case:
    want = _consistency_code(old, new, proof, old_root, new_root)
    got = _observed(verify_consistency, old, new, proof, old_root, new_root)
    if got != want:
        raise AssertionError(f"consistency {what}: verifier says {got}, rule {want}")
    return {
        "desc": what,
        "old_size": old,
        "new_size": new,
        "proof": _hexes(proof),
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "want_error": want,
    }


def _consistency_mutations(leaves: list[bytes], old: int) -> list[Case]:
    tree = MerkleTree(leaves)
    new, new_root = tree.size, tree.root
    old_root = MerkleTree(leaves[:old]).root
    proof = list(tree.consistency_proof(old))
    tag = f"{old} -> {new}:"
    variants: list[tuple[str, int, int, list[bytes], bytes, bytes]] = []
    for i in range(len(proof)):
        flipped = [*proof[:i], _flip(proof[i], bit=4), *proof[i + 1 :]]
        variants.append(
            (f"proof[{i}] bit 4 of byte 0 flipped", old, new, flipped, old_root, new_root)
        )
    variants += [
        ("trailing extra element (old root)", old, new, [*proof, old_root], old_root, new_root),
        ("preceding extra element (new root)", old, new, [new_root, *proof], old_root, new_root),
        ("preceding copy of proof[0]", old, new, [proof[0], *proof], old_root, new_root),
        ("missing last element", old, new, proof[:-1], old_root, new_root),
        ("empty proof", old, new, [], old_root, new_root),
        ("swapped roots", old, new, proof, new_root, old_root),
        ("wrong old root (empty-tree root)", old, new, proof, EMPTY_ROOT, new_root),
        ("new root with a bit flipped", old, new, proof, old_root, _flip(new_root, 31, 0)),
        ("old root truncated to 31 bytes", old, new, proof, old_root[:31], new_root),
        (
            "element truncated to 31 bytes",
            old,
            new,
            [proof[0][:31], *proof[1:]],
            old_root,
            new_root,
        ),
        ("old size - 1", old - 1, new, proof, old_root, new_root),
        ("old size + 1", old + 1, new, proof, old_root, new_root),
        ("new size * 2", old, new * 2, proof, old_root, new_root),
        ("old size > new size", new + 1, new, proof, old_root, new_root),
        ("negative old size", -1, new, proof, old_root, new_root),
    ]
    return [
        _consistency_case(f"{tag} {what}", o, n, p, r1, r2) for what, o, n, p, r1, r2 in variants
    ]


def _consistency_happy(leaves: list[bytes], old: int, what: str) -> Case:
    tree = MerkleTree(leaves)
    old_root = MerkleTree(leaves[:old]).root
    proof = tree.consistency_proof(old)
    assert len(proof) == (0 if old in (0, tree.size) else proof_length(old, tree.size))
    verify_consistency(old, tree.size, proof, old_root, tree.root)
    return {
        "desc": f"{old} -> {tree.size} ({what})",
        "leaves": _hexes(leaves),
        "old_size": old,
        "new_size": tree.size,
        "proof": _hexes(proof),
        "old_root": old_root.hex(),
        "new_root": tree.root.hex(),
    }


def _consistency_edges() -> list[Case]:
    rfc = list(RFC6962_LEAVES)
    r5, r4 = MerkleTree(rfc[:5]).root, MerkleTree(rfc[:4]).root
    other = leaf_hash(b"")
    return [
        _consistency_case("0 -> 5: non-empty proof", 0, 5, [r5], EMPTY_ROOT, r5),
        _consistency_case("0 -> 5: old root is not the empty-tree root", 0, 5, [], other, r5),
        _consistency_case("0 -> 0: new root is not the empty-tree root", 0, 0, [], EMPTY_ROOT, r5),
        _consistency_case("5 -> 5: non-empty proof", 5, 5, [r5], r5, r5),
        _consistency_case("5 -> 5: roots differ", 5, 5, [], r5, r4),
        _consistency_case("5 -> 4: old size > new size", 5, 4, [], r5, r4),
    ]


def _consistency() -> dict[str, object]:
    rfc = list(RFC6962_LEAVES)
    cases = [
        _consistency_happy(rfc[:n], m, "RFC 6962 test leaves")
        for n in range(9)
        for m in range(n + 1)
    ]
    big = counter_leaves(100)
    cases += [_consistency_happy(big, m, "counter leaves") for m in (1, 13, 63, 64, 65, 99)]
    for n, m in ((8, 1), (8, 6), (5, 2), (7, 6), (7, 3), (8, 4), (3, 2)):
        cases += _consistency_mutations(rfc[:n], m)
    cases += _consistency_mutations(big, 13)
    cases += _consistency_edges()
    return {
        "desc": "Consistency proofs PROOF(m, D[n]) and verification (RFC 9162 §2.1.4)",
        "cases": cases,
    }


def generate() -> dict[str, object]:
    """The merkle vector files, by case-file name."""
    return {"roots": _roots(), "inclusion": _inclusion(), "consistency": _consistency()}
