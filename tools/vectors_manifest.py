"""Vectors for manifests, disclosures and amendments (``spec/vectors/manifest/``).

Everything is fixed: the issuer key comes from a seed, salts are ``sha256(i)``-derived,
``created_at`` is a constant and Ed25519 is deterministic, so every byte is stable.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from swapproto.amendment import AmendmentMode, Removal, RemovalReason, make_amendment
from swapproto.disclosure import make_disclosure
from swapproto.keys import SigningKey
from swapproto.manifest import encode_entry, header_digest
from swapproto.manifest_file import build_manifest
from swapproto.merkle import MerkleTree, leaf_hash

CREATED_AT = 1748822400  # 2025-06-02T00:00:00Z
ISSUER_SEED = bytes(range(32))

RECORDS: list[dict[str, Any]] = [
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
ADDED: dict[str, Any] = {
    "citizenship": "RU",
    "date_of_birth": "2001-03-09",
    "family_name": "Попов",
    "given_names": "Илья",
    "person_id": "UA-0004",
    "sex": "male",
}


def fixed_salt(i: int) -> bytes:
    """The salt of entry ``i`` in the vectors (never do this outside vectors)."""
    return hashlib.sha256(b"swapproto vector salt" + i.to_bytes(4, "big")).digest()


def _salts() -> Any:
    counter = iter(range(1 << 30))

    def source(n: int) -> bytes:
        return b"".join(fixed_salt(next(counter)) for _ in range(n // 32))

    return source


def _build(rows: list[Any], **options: Any) -> tuple[bytes, Any]:
    out = io.BytesIO()
    result = build_manifest(
        out,
        rows,
        kind="prisoner",
        list_name="pows",
        issuer="a",
        keys=[SigningKey.from_seed(ISSUER_SEED)],
        created_at=CREATED_AT,
        salt_source=_salts(),
        keep_hashes=True,
        **options,
    )
    return out.getvalue(), result


def _mutations(data: bytes, positions: list[tuple[str, int]]) -> list[dict[str, Any]]:
    cases = []
    for desc, pos in positions:
        mutated = bytearray(data)
        mutated[pos] ^= 0x01
        cases.append({"desc": desc, "data": bytes(mutated).hex()})
    return cases


def generate() -> dict[str, object]:
    """Build the manifest vector files."""
    key = SigningKey.from_seed(ISSUER_SEED)
    file_bytes, result = _build(list(RECORDS))
    header_bytes = result.verified.envelope.to_bytes()
    leaves = [encode_entry(i, "prisoner", r, fixed_salt(i)) for i, r in enumerate(RECORDS)]
    tree = MerkleTree(leaves)
    single = make_disclosure(header_bytes, tree, {1: leaves[1]})
    batch = make_disclosure(header_bytes, tree, {0: leaves[0], 2: leaves[2]})

    carried = [(r, fixed_salt(i)) for i, r in enumerate(RECORDS)]
    v2_bytes, v2 = _build([*carried, ADDED], version=2, previous=result.verified.digest)
    append = make_amendment(
        header_bytes,
        v2.verified.envelope.to_bytes(),
        mode=AmendmentMode.APPEND,
        keys=[key],
        consistency=MerkleTree.from_leaf_hashes(v2.leaf_hashes).consistency_proof(3),
    )
    kept = [carried[0], carried[2]]
    v2r_bytes, v2r = _build(kept, version=2, previous=result.verified.digest)
    revise = make_amendment(
        header_bytes,
        v2r.verified.envelope.to_bytes(),
        mode=AmendmentMode.REVISE,
        keys=[key],
        removed=[Removal(1, "UA-0002", RemovalReason.RELEASED_EARLIER)],
    )
    entry_start = len(file_bytes) - sum(4 + len(leaf) for leaf in leaves)
    return {
        "small": {
            "desc": (
                "A 3-entry prisoner manifest from fixed salts, key seed 00..1f, "
                "created_at 1748822400."
            ),
            "issuer_seed": ISSUER_SEED.hex(),
            "issuer_public_key": key.public_key.to_bytes().hex(),
            "salts": [fixed_salt(i).hex() for i in range(3)],
            "leaves": [leaf.hex() for leaf in leaves],
            "leaf_hashes": [leaf_hash(leaf).hex() for leaf in leaves],
            "root": tree.root.hex(),
            "header_payload": result.verified.verified.payload.hex(),
            "header_digest": header_digest(result.verified.verified.payload).hex(),
            "header_envelope": header_bytes.hex(),
            "file": file_bytes.hex(),
            "tampered_files": {
                "desc": "Each must fail verification with a swapproto error.",
                "cases": _mutations(
                    file_bytes,
                    [
                        ("flip in magic", 0),
                        ("flip in view byte", 5),
                        ("flip in header length", 9),
                        ("flip in header signature", entry_start - 10),
                        ("flip in first entry length", entry_start + 3),
                        ("flip in first entry salt", entry_start + 4 + len(leaves[0]) - 1),
                        ("flip in last entry record", len(file_bytes) - 60),
                    ],
                ),
            },
        },
        "disclosure": {
            "desc": (
                "Disclosures from the small manifest: entry 1 alone (RFC 9162 path), "
                "entries 0 and 2 (batch proof)."
            ),
            "single": single.hex(),
            "batch": batch.hex(),
            "tampered": {
                "desc": "Each must fail verification with a swapproto error.",
                "cases": _mutations(
                    single, [("flip in header", 40), ("flip at end of proof", len(single) - 1)]
                ),
            },
        },
        "amendment": {
            "desc": (
                "Version 2 of the small manifest: append of one entry, "
                "and a revision removing entry 1."
            ),
            "append_manifest": v2_bytes.hex(),
            "append": append.hex(),
            "revise_manifest": v2r_bytes.hex(),
            "revise": revise.hex(),
            "tampered": {
                "desc": "Each must fail verification with a swapproto error.",
                "cases": _mutations(
                    append, [("flip in amendment", 60), ("flip at end", len(append) - 1)]
                ),
            },
        },
    }
