"""Selective disclosure: some entries of a signed manifest, provably on the list.

A disclosure carries the signed header, the disclosed entries (with their salts) and
the Merkle hashes needed to recompute the root: for one entry the RFC 9162 audit
path, for several a shared multi-proof (``spec/manifest.md`` §6). Verifying it needs
only the issuer's public key; it reveals nothing about other entries but the hashes of
the subtrees that hold them, which are salted and so say nothing about their records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.envelope import SignedEnvelope
from swapproto.errors import DecodeError, ErrorCode, InputError, ProofError, VerificationError
from swapproto.hashing import digest_equal
from swapproto.keys import PublicKey, RolePolicy
from swapproto.manifest import Entry, ManifestHeader, VerifiedHeader, check_entry, verify_header
from swapproto.merkle import MerkleTree, leaf_hash, verify_inclusion
from swapproto.multiproof import multi_inclusion_proof, verify_multi_inclusion

__all__ = [
    "DISCLOSURE_FORMAT",
    "VerifiedDisclosure",
    "collect_for_disclosure",
    "disclosure_issuer",
    "make_disclosure",
    "verify_disclosure",
]

DISCLOSURE_FORMAT: Final = "swapproto-disclosure/1"
DISCLOSURE_LIMITS: Final = DecodeLimits(
    max_input=16 * 1024 * 1024,
    max_depth=4,
    max_str=256,
    max_bin=1024 * 1024,
    max_array=100_000,
    max_map=8,
)
_KEYS: Final = ["format", "header", "leaves", "proof"]


@dataclass(frozen=True, slots=True)
class VerifiedDisclosure:
    """A disclosure whose header signature, entries and proof all verified.

    ``verified`` is the manifest's signed header (``verified.header`` says which list:
    issuer, list name, kind, exchange, version; ``verified.digest`` names that exact
    version); ``entries`` are the disclosed entries, ascending by index, each checked
    against the kind's schema.
    """

    verified: VerifiedHeader
    entries: tuple[Entry, ...]


def make_disclosure(header_bytes: bytes, tree: MerkleTree, leaves: dict[int, bytes]) -> bytes:
    """Encode a disclosure of ``leaves`` (index -> leaf bytes) from a manifest's tree.

    ``header_bytes`` is the manifest's header envelope
    (:attr:`~swapproto.manifest_file.ManifestReader.header_bytes`); ``tree`` and
    ``leaves`` come from :func:`collect_for_disclosure`. One leaf gives an RFC 9162
    audit path, several a shared multi-proof.

    Raises :class:`~swapproto.errors.VerificationError` (``verify.root_mismatch``; a
    :class:`~swapproto.errors.ProofError` for a root that differs) when the tree's size
    or root differs from the header's count and root: such a disclosure could never
    verify (``spec/manifest.md`` §6); :class:`~swapproto.errors.InputError` when
    ``leaves`` is empty or holds a leaf that is not in ``tree``. The header's signature
    is not checked here: the issuer's own tools may disclose from an unverified file,
    and every checker verifies with :func:`verify_disclosure`.
    """
    if not leaves:
        raise InputError("nothing to disclose: name at least one entry")
    _check_tree_matches_header(header_bytes, tree)
    indices = sorted(leaves)
    for index in indices:
        if leaf_hash(leaves[index]) != tree.leaf_hash(index):
            raise InputError(f"leaf {index} does not belong to this tree")
    if len(indices) == 1:
        proof: Sequence[bytes] = tree.inclusion_proof(indices[0])
    else:
        proof = multi_inclusion_proof(tree, indices)
    return encode(
        {
            "format": DISCLOSURE_FORMAT,
            "header": header_bytes,
            "leaves": [[i, leaves[i]] for i in indices],
            "proof": list(proof),
        }
    )


def _check_tree_matches_header(header_bytes: bytes, tree: MerkleTree) -> None:
    header = ManifestHeader.from_payload(SignedEnvelope.from_bytes(header_bytes).unverified_value())
    if tree.size != header.count:
        raise VerificationError(
            f"the manifest has {tree.size} entries but its header says {header.count}",
            code=ErrorCode.VERIFY_ROOT,
        )
    if not digest_equal(tree.root, header.root):
        raise ProofError(
            "the manifest's entries do not hash to the root in its signed header",
            code=ErrorCode.VERIFY_ROOT,
            expected=header.root,
            calculated=tree.root,
        )


def _invalid(message: str) -> VerificationError:
    return VerificationError(message, code=ErrorCode.VERIFY_DISCLOSURE)


def _parse(data: bytes) -> tuple[bytes, list[tuple[int, bytes]], list[bytes]]:
    try:
        value: Any = decode(data, limits=DISCLOSURE_LIMITS)
    except DecodeError as exc:
        raise VerificationError(
            f"disclosure is not canonical: {exc}", code=ErrorCode.VERIFY_DISCLOSURE
        ) from exc
    if type(value) is not dict or list(value) != _KEYS or value["format"] != DISCLOSURE_FORMAT:
        raise _invalid("not a swapproto disclosure of format 1")
    header, leaves, proof = value["header"], value["leaves"], value["proof"]
    if type(header) is not bytes or type(leaves) is not list or type(proof) is not list:
        raise _invalid("disclosure fields have the wrong types")
    pairs: list[tuple[int, bytes]] = []
    for item in leaves:
        if (
            type(item) is not list
            or len(item) != 2
            or type(item[0]) is not int
            or type(item[1]) is not bytes
        ):
            raise _invalid("each disclosed leaf must be [index, leaf bytes]")
        pairs.append((item[0], item[1]))
    if not pairs or any(b[0] <= a[0] for a, b in pairwise(pairs)):
        raise _invalid("disclosed indices must be non-empty and strictly increasing")
    if any(type(p) is not bytes for p in proof):
        raise _invalid("proof elements must be byte strings")
    return header, pairs, proof


def disclosure_issuer(data: bytes) -> str:
    """The issuer a disclosure *claims*, to pick the policy that must then verify it.

    UNTRUSTED: nothing is verified here. Use the name only to choose which policy to
    pass to :func:`verify_disclosure`, never as a fact. Raises
    :class:`~swapproto.errors.VerificationError` (``verify.disclosure_invalid``) or
    :class:`~swapproto.errors.DecodeError` for bytes that are not a disclosure.
    """
    header_bytes, _, _ = _parse(data)
    return ManifestHeader.from_payload(
        SignedEnvelope.from_bytes(header_bytes).unverified_value()
    ).issuer


def verify_disclosure(data: bytes, issuer: PublicKey | RolePolicy) -> VerifiedDisclosure:
    """Verify a disclosure: header signature, each entry, then the proof to the root.

    ``issuer`` is the issuer's public key, or its role policy (for an exchange:
    ``terms.trust_policy().role("a")``; k-of-n for a commission). Returns the
    :class:`VerifiedDisclosure`; raises :class:`~swapproto.errors.VerificationError`:
    ``verify.disclosure_invalid`` for a malformed disclosure (a
    :class:`~swapproto.errors.DecodeError` for a malformed header envelope in it),
    :class:`~swapproto.errors.ThresholdError` when the header is not signed by
    ``issuer``, ``verify.out_of_range`` or ``verify.manifest_invalid`` for a bad
    entry, and :class:`~swapproto.errors.ProofError` when the proof does not lead to the
    signed root.

    Security: a disclosure proves only "on *some* list this issuer signed". Check which
    list before relying on it: ``result.verified.header`` (``list_name``, ``kind``,
    ``exchange``, ``version``), or tie it to an exchange by comparing
    ``result.verified.digest`` with the revealed header's digest
    (:meth:`swapproto.handshake.Observer.revealed_header`). A later amendment may have
    removed the entry; this function cannot know.
    """
    header_bytes, pairs, proof = _parse(data)
    verified = verify_header(header_bytes, issuer)
    header = verified.header
    bad = pairs[0][0] if pairs[0][0] < 0 else pairs[-1][0] if pairs[-1][0] >= header.count else None
    if bad is not None:
        raise VerificationError(
            f"disclosed index {bad} is outside a manifest of {header.count}",
            code=ErrorCode.VERIFY_RANGE,
        )
    entries = tuple(check_entry(leaf, index=i, kind=header.kind) for i, leaf in pairs)
    if len(pairs) == 1:
        verify_inclusion(pairs[0][1], pairs[0][0], header.count, proof, header.root)
    else:
        hashes = {i: leaf_hash(leaf) for i, leaf in pairs}
        verify_multi_inclusion(hashes, header.count, proof, header.root)
    return VerifiedDisclosure(verified, entries)


def collect_for_disclosure(
    leaves: Iterable[bytes], wanted: Iterable[int]
) -> tuple[MerkleTree, dict[int, bytes]]:
    """Hash every leaf of a manifest into a tree, keeping the wanted leaves' bytes.

    ``leaves`` are a manifest's leaves in order, typically
    ``ManifestReader(stream).leaves(count)``; ``wanted`` are 0-based entry indices. The
    result feeds :func:`make_disclosure`, which refuses a tree that does not match the
    signed header. Nothing here verifies the leaves. Raises
    :class:`~swapproto.errors.VerificationError` (``verify.out_of_range``) for a
    wanted index past the last leaf.
    """
    want = set(wanted)
    if any(type(index) is not int for index in want):
        raise TypeError("entry indices must be int (0-based positions)")
    kept: dict[int, bytes] = {}

    def keeping() -> Iterator[bytes]:
        # The tree reads the leaves once, in chunks; no list of all leaves or hashes.
        for index, leaf in enumerate(leaves):
            if index in want:
                kept[index] = leaf
            yield leaf

    tree = MerkleTree(keeping())
    missing = want - kept.keys()
    if missing:
        raise VerificationError(
            f"entry {min(missing)} is outside a manifest of {tree.size}",
            code=ErrorCode.VERIFY_RANGE,
        )
    return tree, kept
