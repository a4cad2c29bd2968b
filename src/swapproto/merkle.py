"""RFC 9162 §2.1 Merkle trees: hashes, roots, inclusion and consistency proofs.

The tree is exactly the one of RFC 9162 (and RFC 6962)::

    leaf_hash(d)   = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    MTH({})        = SHA-256("")
    MTH({d0})      = leaf_hash(d0)
    MTH(D[n])      = node_hash(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of two < n

Building level by level, where a level's odd last node is promoted unchanged to the next
level, yields exactly this tree (the split at the largest power of two keeps every complete
subtree aligned), so :class:`MerkleTree` hashes each node once, without recursion. For the
same reason the leaves can be taken in aligned chunks of 4,096: each chunk is a complete
subtree (only the last may be partial, and it is the right edge), so its levels are built
while its digests are fresh in the cache and then appended to the tree's levels, which are
stored as contiguous bytes (32 bytes per node) rather than as one object per digest.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. Every rejection raises
:class:`~swapproto.errors.ProofError` with one of three codes: ``VERIFY_RANGE`` (index or
sizes out of range), ``VERIFY_PROOF`` (malformed proof: wrong element count or length) and
``VERIFY_ROOT`` (the proof is well formed but leads to another root). The normative text is
``spec/merkle.md``.
"""

from __future__ import annotations

import hashlib
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from swapproto.errors import ErrorCode, ProofError
from swapproto.hashing import DIGEST_SIZE, digest_equal

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MAX_TREE_SIZE",
    "MerkleTree",
    "StreamingRootBuilder",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_hash",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree, ``SHA-256("")``."""
MAX_TREE_SIZE = 2**64 - 1
"""Largest accepted tree size: RFC 9162 sizes are uint64, so other implementations agree."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one raw leaf."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``; inputs of any length are hashed as given."""
    return _sha256(NODE_PREFIX + left + right).digest()


_CHUNK_HEIGHT: Final = 12
_CHUNK: Final = 1 << _CHUNK_HEIGHT
"""Leaves per chunk: a power of two, so that every chunk but the last is a complete,
aligned subtree whose levels are the tree's own."""


def _leaf_hash_chunks(leaves: Iterable[bytes]) -> Iterator[list[bytes]]:
    sha, prefix = _sha256, LEAF_PREFIX
    it = iter(leaves)
    while chunk := [sha(prefix + d).digest() for d in islice(it, _CHUNK)]:
        yield chunk


def _checked_chunks(hashes: Iterable[bytes]) -> Iterator[list[bytes]]:
    # bytes only: a buffer's len() counts items, not bytes (a memoryview cast to 8-byte
    # items has len 32 and holds 256 bytes), and an int is no digest at all. The checks
    # run over a whole chunk at C speed (sets of types and lengths).
    it = iter(hashes)
    while chunk := list(islice(it, _CHUNK)):
        if set(map(type, chunk)) != {bytes} or set(map(len, chunk)) != {DIGEST_SIZE}:
            raise ProofError("every leaf hash must be 32 bytes", code=ErrorCode.VERIFY_PROOF)
        yield chunk


def _next_level(level: list[bytes]) -> list[bytes]:
    # zip(it, it) pairs neighbours without slicing copies; it is the fastest pure-Python form.
    sha, prefix = _sha256, NODE_PREFIX
    it = iter(level)
    parents = [sha(prefix + a + b).digest() for a, b in zip(it, it, strict=False)]
    if len(level) & 1:
        parents.append(level[-1])  # promoted unchanged: RFC 9162 never pads
    return parents


def _build_levels(hashes: list[bytes]) -> list[list[bytes]]:
    levels = [hashes]
    while len(levels[-1]) > 1:
        levels.append(_next_level(levels[-1]))
    return levels


def _top(level: list[bytes]) -> bytes:
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _stored_levels(chunks: Iterable[list[bytes]]) -> list[bytearray]:
    """Every level of the tree over the chunks' leaf hashes, leaf level first, each as
    contiguous 32-byte nodes; ``[bytearray()]`` for no leaves."""
    levels = [bytearray() for _ in range(_CHUNK_HEIGHT + 1)]
    tops: list[bytes] = []
    for chunk in chunks:
        sub = _build_levels(chunk)
        highest = len(sub) - 1  # below _CHUNK_HEIGHT only for a partial last chunk,
        for height, stored in enumerate(levels):  # whose top is promoted up to it
            stored += b"".join(sub[min(height, highest)])
        tops.append(sub[highest][0])
    if not tops:
        return [bytearray()]
    levels += (bytearray(b"".join(level)) for level in _build_levels(tops)[1:])
    size = len(levels[0]) // DIGEST_SIZE
    return levels[: (size - 1).bit_length() + 1]


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH of the raw leaves; the empty tree's root is :data:`EMPTY_ROOT`.

    Memory is one chunk's digests plus one digest per 4,096 leaves.
    """
    tops = [_top(chunk) for chunk in _leaf_hash_chunks(leaves)]
    return _top(tops) if tops else EMPTY_ROOT


def inclusion_proof(leaves: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The RFC 9162 audit path ``PATH(index, D[n])`` of leaf ``index``, leaf upward."""
    return MerkleTree(leaves).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> tuple[bytes, ...]:
    """The RFC 9162 consistency proof ``PROOF(old_size, D[n])`` (empty if 0 or n)."""
    return MerkleTree(leaves).consistency_proof(old_size)


def _range_error(message: str, **details: Any) -> ProofError:
    return ProofError(message, code=ErrorCode.VERIFY_RANGE, **details)


def _check_elements(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        if len(element) != DIGEST_SIZE:
            raise ProofError(
                f"proof element {i} is {len(element)} bytes, not 32",
                code=ErrorCode.VERIFY_PROOF,
                position=i,
            )


def _check_root(expected: bytes, calculated: bytes, what: str) -> None:
    if not digest_equal(expected, calculated):
        raise ProofError(
            f"{what} does not match",
            code=ErrorCode.VERIFY_ROOT,
            expected=expected,
            calculated=calculated,
        )


def _proof_length_error(too_many: bool) -> ProofError:
    which = "more" if too_many else "fewer"
    return ProofError(
        f"proof has {which} elements than the sizes require", code=ErrorCode.VERIFY_PROOF
    )


def _inclusion_root(hash_: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    # RFC 9162 §2.1.3.2 steps 2-5, with fn/sn the node's and the last node's position per level.
    sha, prefix = _sha256, NODE_PREFIX
    fn, sn = index, size - 1
    r = hash_
    for p in proof:
        if sn == 0:
            raise _proof_length_error(too_many=True)
        if fn & 1 or fn == sn:
            r = sha(prefix + p + r).digest()
            # A right-edge node with no sibling is promoted: skip those levels.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(prefix + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _proof_length_error(too_many=False)
    return r


def verify_inclusion_hash(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the leaf with hash ``leaf_hash`` is at ``index`` in the tree ``root``.

    Returns ``None``; raises :class:`ProofError` on any mismatch (see the module docstring).
    """
    if size < 0 or size > MAX_TREE_SIZE:
        raise _range_error("tree size out of range", size=size)
    if index < 0 or index >= size:
        raise _range_error("leaf index out of range", index=index, size=size)
    if len(leaf_hash) != DIGEST_SIZE:
        raise ProofError("leaf hash must be 32 bytes", code=ErrorCode.VERIFY_PROOF)
    _check_elements(proof)
    _check_root(root, _inclusion_root(leaf_hash, index, size, proof), "inclusion proof root")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that raw leaf data ``leaf`` is at ``index`` in the tree of ``size`` with ``root``.

    ``leaf`` is hashed here with :func:`leaf_hash`. Returns ``None``; raises
    :class:`ProofError` on any mismatch.
    """
    verify_inclusion_hash(leaf_hash(leaf), index, size, proof, root)


def _consistency_roots(old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    # RFC 9162 §2.1.4.2 steps 3-6 for 0 < old_size < new_size; returns (fr, sr).
    sha, prefix = _sha256, NODE_PREFIX
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise _proof_length_error(too_many=True)
        if fn & 1 or fn == sn:
            fr = sha(prefix + c + fr).digest()
            sr = sha(prefix + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha(prefix + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _proof_length_error(too_many=False)
    return fr, sr


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    Returns ``None``; raises :class:`ProofError` on any mismatch. ``old_size == new_size``
    needs an empty proof and equal roots; ``old_size == 0`` needs an empty proof and
    ``old_root == EMPTY_ROOT``.
    """
    if not 0 <= old_size <= new_size <= MAX_TREE_SIZE:
        raise _range_error("sizes out of range", old_size=old_size, new_size=new_size)
    for name, value in (("old", old_root), ("new", new_root)):
        if len(value) != DIGEST_SIZE:
            raise ProofError(f"{name} root must be 32 bytes", code=ErrorCode.VERIFY_ROOT)
    _check_elements(proof)
    if old_size == 0 or old_size == new_size:
        # Edge cases outside the RFC algorithm (which assumes 0 < old < new): nothing to prove.
        if proof:
            raise _proof_length_error(too_many=True)
        if old_size == 0:
            _check_root(old_root, EMPTY_ROOT, "old root of the empty tree")
        if old_size == new_size:
            _check_root(new_root, old_root, "new root of an unchanged tree")
        return
    if not proof:
        raise _proof_length_error(too_many=False)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # the old tree is one complete subtree: its root is implied
    fr, sr = _consistency_roots(old_size, new_size, path)
    _check_root(old_root, fr, "old root")
    _check_root(new_root, sr, "new root")


class MerkleTree:
    """An RFC 9162 tree holding every level, for many proofs over the same leaves.

    ``MerkleTree(leaves)`` hashes raw leaves; :meth:`from_leaf_hashes` takes leaf hashes.
    Both read their input once, in chunks, so a generator is never held whole. Building
    ``n`` leaves costs ``2n`` SHA-256 calls and stores about ``2n`` digests as
    ``64n`` contiguous bytes.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels = _stored_levels(_leaf_hash_chunks(leaves))

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MerkleTree:
        """A tree over already-hashed leaves (each 32 bytes, else ``ProofError``)."""
        tree = cls.__new__(cls)
        tree._levels = _stored_levels(_checked_chunks(hashes))
        return tree

    def _node(self, height: int, index: int) -> bytes:
        start = index * DIGEST_SIZE
        return bytes(self._levels[height][start : start + DIGEST_SIZE])

    def _width(self, height: int) -> int:
        return len(self._levels[height]) // DIGEST_SIZE

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._width(0)

    @property
    def root(self) -> bytes:
        """The tree head ``MTH(D[n])``."""
        return self._node(len(self._levels) - 1, 0) if self.size else EMPTY_ROOT

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        self._check_index(index)
        return self._node(0, index)

    def _check_index(self, index: int) -> None:
        if type(index) is not int:
            raise TypeError(f"a leaf index is an int, not {type(index).__name__}")
        if not 0 <= index < self.size:
            raise _range_error("leaf index out of range", index=index, size=self.size)

    def inclusion_proof(self, index: int) -> tuple[bytes, ...]:
        """The audit path of leaf ``index``: one sibling per level, leaf upward.

        A level where the node has no sibling (a promoted right-edge node) contributes
        nothing, which makes the path exactly RFC 9162 ``PATH(index, D[n])``.
        """
        self._check_index(index)
        path = []
        for height in range(len(self._levels) - 1):
            sibling = index ^ 1
            if sibling < self._width(height):
                path.append(self._node(height, sibling))
            index >>= 1
        return tuple(path)

    def consistency_proof(self, old_size: int) -> tuple[bytes, ...]:
        """RFC 9162 ``PROOF(old_size, D[n])``; empty for ``old_size`` 0 or ``n``."""
        if type(old_size) is not int:
            raise TypeError(f"a tree size is an int, not {type(old_size).__name__}")
        if not 0 <= old_size <= self.size:
            raise _range_error("old size out of range", old_size=old_size, size=self.size)
        out: list[bytes] = []
        if 0 < old_size < self.size:
            self._subproof(old_size, 0, self.size, True, out)
        return tuple(out)

    def _subproof(self, m: int, start: int, end: int, whole: bool, out: list[bytes]) -> None:
        # RFC 9162 SUBPROOF(m, D[start:end], whole); depth is at most log2(n).
        n = end - start
        if m == n:
            if not whole:
                out.append(self.subtree_root(start, n))
            return
        k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
        if m <= k:
            self._subproof(m, start, start + k, whole, out)
            out.append(self.subtree_root(start + k, n - k))
        else:
            self._subproof(m - k, start + k, end, False, out)
            out.append(self.subtree_root(start, k))

    def subtree_root(self, start: int, size: int) -> bytes:
        """``MTH(D[start:start+size])`` for a range the RFC 9162 split produces.

        Valid for a complete aligned subtree or a right-edge range ending at ``n``: both
        are the stored node at level ceil(log2(size)), index ``start >> level``. Any
        other range raises ``ProofError`` (``verify.out_of_range``).
        """
        height = (size - 1).bit_length() if size > 0 else 0
        span = 1 << height
        end = start + size
        if (
            size < 1
            or start < 0
            or end > self.size
            or start % span
            or (size != span and end != self.size)
        ):
            raise _range_error("not a subtree of this tree", start=start, size=size)
        return self._node(height, start >> height)


class StreamingRootBuilder:
    """Computes ``root`` of a leaf stream in O(log n) memory.

    The stack holds the roots of the complete subtrees that the leaves so far decompose
    into, largest (leftmost) first, like the set bits of a binary counter of the size.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """The number of leaves added."""
        return self._size

    def add_leaf(self, data: bytes) -> None:
        """Append one raw leaf."""
        self.add_leaf_hash(_sha256(LEAF_PREFIX + data).digest())

    def add_leaves(self, leaves: Iterable[bytes]) -> None:
        """Append raw leaves in order."""
        sha, prefix = _sha256, LEAF_PREFIX
        self.add_leaf_hashes(sha(prefix + d).digest() for d in leaves)

    def add_leaf_hash(self, hash_: bytes) -> None:
        """Append one leaf hash (32 bytes, else ``ProofError``)."""
        # Written out rather than delegating: callers use it in per-entry loops.
        if not isinstance(hash_, bytes) or len(hash_) != DIGEST_SIZE:
            raise ProofError("leaf hash must be 32 bytes", code=ErrorCode.VERIFY_PROOF)
        stack = self._stack
        carry = self._size
        while carry & 1:
            hash_ = _sha256(NODE_PREFIX + stack.pop() + hash_).digest()
            carry >>= 1
        stack.append(hash_)
        self._size += 1

    def add_leaf_hashes(self, hashes: Iterable[bytes]) -> None:
        """Append leaf hashes in order; each must be 32 bytes, else ``ProofError``.

        On error the leaves before the bad one stay added.
        """
        sha, prefix = _sha256, NODE_PREFIX
        stack = self._stack
        push, pop = stack.append, stack.pop
        size = self._size
        try:
            for h in hashes:
                if not isinstance(h, bytes) or len(h) != DIGEST_SIZE:
                    raise ProofError("leaf hash must be 32 bytes", code=ErrorCode.VERIFY_PROOF)
                # Adding a leaf is incrementing a binary counter: each trailing 1 bit of
                # the old size is a complete subtree that merges with the new one.
                carry = size
                while carry & 1:
                    h = sha(prefix + pop() + h).digest()
                    carry >>= 1
                push(h)
                size += 1
        finally:
            self._size = size

    def root(self) -> bytes:
        """The root of the leaves so far (folding the stack right to left, RFC 9162)."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        r = stack[-1]
        for h in reversed(stack[:-1]):
            r = node_hash(h, r)
        return r
