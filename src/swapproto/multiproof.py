"""Batch inclusion proofs over RFC 9162 trees: many leaves, shared proof nodes.

The proof for a set of leaf indices is the list of subtree roots that a verifier needs
and cannot compute, in the order a left-to-right depth-first walk of the RFC 9162
split meets them (``spec/merkle.md`` §6)::

    walk(lo, hi):                      # the subtree over leaves [lo, hi)
        if no disclosed index in [lo, hi): emit MTH(D[lo:hi]); return
        if hi - lo == 1: return        # a disclosed leaf: the verifier hashes it
        k = largest power of two < hi - lo
        walk(lo, lo + k); walk(lo + k, hi)

For one index the node set equals the RFC 9162 audit path (in another order); for many
it shares every node two paths have in common. Recursion depth is at most log2(n) + 1.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence

from swapproto.errors import ErrorCode, ProofError
from swapproto.hashing import digest_equal
from swapproto.merkle import MerkleTree, node_hash

__all__ = ["multi_inclusion_proof", "verify_multi_inclusion"]


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def multi_inclusion_proof(tree: MerkleTree, indices: Sequence[int]) -> tuple[bytes, ...]:
    """The shared proof for the sorted, distinct ``indices`` of ``tree``."""
    wanted = sorted(set(indices))
    if not wanted or wanted[0] < 0 or wanted[-1] >= tree.size:
        raise ProofError("indices out of range", code=ErrorCode.VERIFY_RANGE)
    out: list[bytes] = []

    def walk(lo: int, hi: int, first: int, last: int) -> None:
        # wanted[first:last] are the disclosed indices inside [lo, hi)
        if first == last:
            out.append(tree.subtree_root(lo, hi - lo))
            return
        if hi - lo == 1:
            return
        mid = lo + _split(hi - lo)
        cut = bisect_left(wanted, mid, first, last)
        walk(lo, mid, first, cut)
        walk(mid, hi, cut, last)

    walk(0, tree.size, 0, len(wanted))
    return tuple(out)


def verify_multi_inclusion(
    leaf_hashes: Mapping[int, bytes], size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the hashed leaves (index -> leaf hash) are in the tree with ``root``.

    Raises :class:`~swapproto.errors.ProofError` for indices out of range, a proof with
    too few, too many or wrongly sized elements, or a root mismatch.
    """
    wanted = sorted(leaf_hashes)
    if not wanted or wanted[0] < 0 or wanted[-1] >= size:
        raise ProofError("indices out of range", code=ErrorCode.VERIFY_RANGE)
    if any(len(p) != 32 for p in proof):
        raise ProofError("proof elements must be 32 bytes", code=ErrorCode.VERIFY_PROOF)
    position = 0

    def walk(lo: int, hi: int, first: int, last: int) -> bytes:
        nonlocal position
        if first == last:
            if position >= len(proof):
                raise ProofError("proof has too few elements", code=ErrorCode.VERIFY_PROOF)
            position += 1
            return proof[position - 1]
        if hi - lo == 1:
            return leaf_hashes[lo]
        mid = lo + _split(hi - lo)
        cut = bisect_left(wanted, mid, first, last)
        left = walk(lo, mid, first, cut)
        return node_hash(left, walk(mid, hi, cut, last))

    calculated = walk(0, size, 0, len(wanted))
    if position != len(proof):
        raise ProofError("proof has too many elements", code=ErrorCode.VERIFY_PROOF)
    if not digest_equal(calculated, root):
        raise ProofError(
            "batch proof does not lead to the root",
            code=ErrorCode.VERIFY_ROOT,
            expected=root,
            calculated=calculated,
        )
