"""Disclosure and amendment vectors (``disclosure.json``, ``amendment.json``).

``manifests`` maps a manifest vector's name (``small``, ``seven``) to its header
envelope, leaves, records and first salt number.
"""

from __future__ import annotations

from typing import Any

from _manifest_vectors import (
    CITES,
    CREATED_AT,
    KEY,
    build,
    case,
    container,
    find_once,
    fixed_salt,
    flip,
    flip_signature,
    inputs,
    resign,
    resign_header,
)
from swapproto.amendment import (
    AmendmentMode,
    Removal,
    RemovalReason,
    make_amendment,
    verify_amendment,
)
from swapproto.disclosure import make_disclosure, verify_disclosure
from swapproto.encoding import decode
from swapproto.envelope import SignedEnvelope
from swapproto.manifest import ManifestHeader, header_digest
from swapproto.merkle import MerkleTree
from swapproto.multiproof import multi_inclusion_proof
from typed_json import to_typed

Manifests = dict[str, tuple[bytes, list[bytes], list[dict[str, Any]], int]]
PUB = KEY.public_key
AMENDED_AT = CREATED_AT + 86400
ADDED: dict[str, Any] = {
    "citizenship": "RU",
    "date_of_birth": "2001-03-09",
    "family_name": "Попов",
    "given_names": "Илья",
    "person_id": "UA-0004",
    "sex": "male",
}
SEVEN_ADDED: dict[str, Any] = {
    "citizenship": "UA",
    "date_of_birth": "1999-12-31",
    "family_name": "Лисенко",
    "given_names": "Микола",
    "person_id": "RU-0008",
    "sex": "male",
}


def _disclose(data: bytes) -> object:
    return verify_disclosure(data, PUB)


def _amend(data: bytes) -> object:
    return verify_amendment(data, PUB)


def _with(data: bytes, **changes: Any) -> bytes:
    """A container (disclosure or amendment file) with members replaced."""
    value: Any = decode(data)
    value.update(changes)
    return container(value)


def disclosure_vectors(manifests: Manifests) -> dict[str, Any]:
    """``disclosure.json``: disclosures of small and seven, and rejected ones."""
    made: dict[str, Any] = {}
    raw: dict[str, bytes] = {}
    plan = [
        ("small_1", "small", [1], "one entry, RFC 9162 PATH(1, D[3])"),
        ("small_0_2", "small", [0, 2], "two entries, batch proof"),
        ("seven_3", "seven", [3], "one entry; PATH order differs from the walk order"),
        ("seven_6", "seven", [6], "the last entry of an odd-sized tree: PATH order"),
        ("seven_1_4_6", "seven", [1, 4, 6], "three non-adjacent entries, batch proof"),
    ]
    for name, manifest, indices, desc in plan:
        header, leaves, _, _ = manifests[manifest]
        data = make_disclosure(header, MerkleTree(leaves), {i: leaves[i] for i in indices})
        value: Any = decode(data)
        raw[name] = data
        made[name] = {
            "desc": desc,
            "manifest": manifest,
            "indices": indices,
            "proof": [p.hex() for p in value["proof"]],
            "disclosure": data.hex(),
        }
    return {
        "desc": (
            "Disclosures of the small and seven manifests (verify under their issuer key), "
            "and edits of them that must be rejected with want_error."
        ),
        "disclosures": made,
        "rejected": {
            "desc": "Each edit of the named disclosure must be rejected with want_error.",
            "cases": _disclosure_cases(raw, manifests),
        },
    }


def _disclosure_cases(raw: dict[str, bytes], manifests: Manifests) -> list[dict[str, Any]]:
    small_header = manifests["small"][0]
    seven_tree = MerkleTree(manifests["seven"][1])
    seven_leaves = manifests["seven"][1]

    def c(desc: str, base: str, mutated: bytes) -> dict[str, Any]:
        return case(desc, base, raw[base], mutated, _disclose)

    def parts(name: str) -> Any:
        return decode(raw[name])

    s1, s3, s6, b = raw["small_1"], raw["seven_3"], raw["seven_6"], raw["seven_1_4_6"]
    p3, p6, pb = parts("seven_3")["proof"], parts("seven_6")["proof"], parts("seven_1_4_6")["proof"]
    walk3 = list(multi_inclusion_proof(seven_tree, [3]))
    walk6 = list(multi_inclusion_proof(seven_tree, [6]))
    assert walk3 != p3
    assert sorted(walk3) == sorted(p3)
    assert walk6 != p6
    salt3 = fixed_salt(manifests["seven"][3] + 3)
    return [
        c(
            "bit flipped in the header envelope's Ed25519 signature",
            "small_1",
            flip_signature(s1, small_header),
        ),
        c(
            "header bin length: low byte 0x35 changed to 0x34 (container not canonical)",
            "small_1",
            flip(s1, find_once(s1, b"\xa6header\xc5\x01\x35") + 9),
        ),
        c(
            "bit flipped in the last byte of the last proof element",
            "small_1",
            flip(s1, len(s1) - 1),
        ),
        c("one byte 00 appended after the container", "small_1", s1 + b"\x00"),
        c("format 'swapproto-disclosure/2'", "small_1", _with(s1, format="swapproto-disclosure/2")),
        c("no leaves", "small_1", _with(s1, leaves=[])),
        c(
            "proof element of 31 bytes",
            "small_1",
            _with(s1, proof=[p[:31] for p in parts("small_1")["proof"]]),
        ),
        c("proof in walk order instead of PATH order", "seven_3", _with(s3, proof=walk3)),
        c("proof in walk order instead of PATH order", "seven_6", _with(s6, proof=walk6)),
        c(
            "surplus proof element (the first repeated at the end)",
            "seven_3",
            _with(s3, proof=[*p3, p3[0]]),
        ),
        c("last proof element missing", "seven_3", _with(s3, proof=p3[:-1])),
        c("batch proof elements in reverse order", "seven_1_4_6", _with(b, proof=pb[::-1])),
        c(
            "surplus batch proof element (the first repeated at the end)",
            "seven_1_4_6",
            _with(b, proof=[*pb, pb[0]]),
        ),
        c("last batch proof element missing", "seven_1_4_6", _with(b, proof=pb[:-1])),
        c(
            "disclosed indices not increasing (entry 4 listed before entry 1)",
            "seven_1_4_6",
            _with(b, leaves=[parts("seven_1_4_6")["leaves"][i] for i in (1, 0, 2)]),
        ),
        c(
            "index 6 changed to 7 = count (range is checked before the entry)",
            "seven_6",
            _with(s6, leaves=[[7, seven_leaves[6]]]),
        ),
        c(
            "index 6 changed to -1 (an index below 0 is out of range too)",
            "seven_6",
            _with(s6, leaves=[[-1, seven_leaves[6]]]),
        ),
        c(
            "index 7 and a bit flipped in the header signature (the signature is checked first)",
            "seven_6",
            flip_signature(_with(s6, leaves=[[7, seven_leaves[6]]]), manifests["seven"][0]),
        ),
        c(
            "entry 3's leaf disclosed as index 2 (entries are checked before the proof)",
            "seven_3",
            _with(s3, leaves=[[2, seven_leaves[3]]]),
        ),
        c(
            "bit flipped in the last byte of the disclosed entry's salt",
            "seven_3",
            flip(s3, s3.find(salt3) + 31),
        ),
    ]


def _v2(manifests: Manifests, name: str, rows: list[Any], salt_first: int) -> tuple[bytes, Any]:
    header = manifests[name][0]
    old = ManifestHeader.from_payload(SignedEnvelope.from_bytes(header).unverified_value())
    return build(
        rows,
        salt_first=salt_first,
        list_name=old.list_name,
        issuer=old.issuer,
        exchange=old.exchange,
        version=2,
        previous=header_digest(SignedEnvelope.from_bytes(header).payload),
        created_at=AMENDED_AT,
    )


def _carried(manifests: Manifests, name: str) -> list[tuple[dict[str, Any], bytes]]:
    _, _, records, salt_first = manifests[name]
    return [(r, fixed_salt(salt_first + i)) for i, r in enumerate(records)]


def amendment_vectors(manifests: Manifests) -> dict[str, Any]:
    """``amendment.json``: version 2 of small (append, revise), of seven (cited append)."""
    small = manifests["small"][0]
    seven = manifests["seven"][0]
    carried = _carried(manifests, "small")
    _, v2_result = _v2(manifests, "small", [*carried, ADDED], 3)
    v2_header = v2_result.verified.envelope.to_bytes()
    proof = MerkleTree.from_leaf_hashes(v2_result.leaf_hashes).consistency_proof(3)
    append = make_amendment(
        small, v2_header, mode=AmendmentMode.APPEND, keys=[KEY], consistency=proof
    )
    v2r, v2r_result = _v2(manifests, "small", [carried[0], carried[2]], 4)
    removal = Removal(1, "UA-0002", RemovalReason.RELEASED_EARLIER)
    revise = make_amendment(
        small,
        v2r_result.verified.envelope.to_bytes(),
        mode=AmendmentMode.REVISE,
        keys=[KEY],
        removed=[removal],
    )
    _, v7_result = _v2(manifests, "seven", [*_carried(manifests, "seven"), SEVEN_ADDED], 23)
    proof7 = MerkleTree.from_leaf_hashes(v7_result.leaf_hashes).consistency_proof(7)
    cited = make_amendment(
        seven,
        v7_result.verified.envelope.to_bytes(),
        mode=AmendmentMode.APPEND,
        keys=[KEY],
        consistency=proof7,
        cites=CITES,
    )
    lost = _v2(manifests, "small", [carried[0]], 4)[1].verified.envelope.to_bytes()
    raw = {"append": append, "revise": revise, "cited_append": cited}
    return {
        "desc": (
            "Version 2 of small (an append of one entry; a revision removing entry 1) and "
            "of seven (an append citing a commit); edits that must be rejected."
        ),
        "amendments": {
            "append": {
                "desc": "small v1 -> v2: entry UA-0004 appended",
                "manifest": "small",
                "mode": "append",
                "new_inputs": inputs([ADDED], salt_first=3, created_at=AMENDED_AT, version=2),
                "amendment": append.hex(),
            },
            "revise": {
                "desc": "small v1 -> v2: entry 1 (UA-0002) removed as released_earlier",
                "manifest": "small",
                "mode": "revise",
                "removed": [to_typed(removal.to_value())],
                "new_inputs": inputs([], salt_first=4, created_at=AMENDED_AT, version=2),
                "new_manifest": v2r.hex(),
                "amendment": revise.hex(),
            },
            "cited_append": {
                "desc": (
                    "seven v1 -> v2: entry RU-0008 appended; "
                    'cites = SHA-256("swapproto vector commit")'
                ),
                "manifest": "seven",
                "mode": "append",
                "cites": CITES.hex(),
                "new_inputs": inputs(
                    [SEVEN_ADDED], salt_first=23, created_at=AMENDED_AT, version=2
                ),
                "new_header_envelope": v7_result.verified.envelope.to_bytes().hex(),
                "amendment": cited.hex(),
            },
        },
        "rejected": {
            "desc": "Each edit of the named amendment file must be rejected with want_error.",
            "cases": _amendment_cases(raw, small, lost),
        },
    }


def _amendment_cases(raw: dict[str, bytes], small: bytes, lost: bytes) -> list[dict[str, Any]]:
    def c(desc: str, base: str, mutated: bytes) -> dict[str, Any]:
        return case(desc, base, raw[base], mutated, _amend)

    a, r, ca = raw["append"], raw["revise"], raw["cited_append"]
    pa: Any = decode(a)
    pr: Any = decode(r)
    pc: Any = decode(ca)

    def payload(parts: Any, **changes: Any) -> bytes:
        """The file with its amendment payload changed and re-signed."""
        return container({**parts, "amendment": resign(parts["amendment"], **changes)})

    def current(parts: Any, **changes: Any) -> bytes:
        """The file with its current header changed and re-signed, and the amendment naming it."""
        cur = resign_header(parts["current"], **changes)
        digest = header_digest(SignedEnvelope.from_bytes(cur).payload)
        return container(
            {**parts, "current": cur, "amendment": resign(parts["amendment"], current=digest)}
        )

    amend_payload: Any = decode(SignedEnvelope.from_bytes(pa["amendment"]).payload)
    consistency = amend_payload["consistency"]
    removal = {"id": "UA-0002", "index": 1, "reason": "released_earlier"}
    lost_digest = header_digest(SignedEnvelope.from_bytes(lost).payload)
    return [
        c(
            "bit flipped in the amendment envelope's Ed25519 signature",
            "append",
            flip_signature(a, pa["amendment"]),
        ),
        c(
            "bit flipped in the previous header's Ed25519 signature",
            "append",
            flip_signature(a, pa["previous"]),
        ),
        c(
            "bit flipped in the current header's Ed25519 signature",
            "append",
            flip_signature(a, pa["current"]),
        ),
        c(
            "last byte: the previous header envelope's v changed from 1 to 0",
            "append",
            flip(a, len(a) - 1),
        ),
        c(
            "amendment bin length: low byte 0x98 changed to 0x99 (container not canonical)",
            "append",
            flip(a, find_once(a, b"\xa9amendment\xc5\x01\x98") + 12),
        ),
        c("one byte 00 appended after the container", "append", a + b"\x00"),
        c("format 'swapproto-amendment/2'", "append", _with(a, format="swapproto-amendment/2")),
        c(
            "previous and current headers swapped",
            "append",
            _with(a, previous=pa["current"], current=pa["previous"]),
        ),
        c(
            "current header re-signed with previous = 00..00; amendment re-signed for it",
            "append",
            current(pa, previous=bytes(32)),
        ),
        c(
            "current header re-signed with version 3; amendment re-signed for it",
            "append",
            current(pa, version=3),
        ),
        c(
            "current header re-signed with list 'pows2'; amendment re-signed for it",
            "append",
            current(pa, list="pows2"),
        ),
        c("amendment names 32 zero bytes as previous", "append", payload(pa, previous=bytes(32))),
        c("amendment names 32 zero bytes as current", "append", payload(pa, current=bytes(32))),
        c("amendment payload with an extra field 'note'", "append", payload(pa, note="x")),
        c("mode 'sideways'", "append", payload(pa, mode="sideways")),
        c("append with a removal", "append", payload(pa, removed=[removal])),
        c(
            "mode changed to revise (proof kept, nothing removed)",
            "append",
            payload(pa, mode="revise"),
        ),
        c(
            "bit flipped in the first consistency proof element",
            "append",
            payload(pa, consistency=[flip(consistency[0], 0), *consistency[1:]]),
        ),
        c(
            "consistency proof missing its last element",
            "append",
            payload(pa, consistency=consistency[:-1]),
        ),
        c("revise carrying a consistency proof", "revise", payload(pr, consistency=consistency)),
        c("revise removing nothing", "revise", payload(pr, removed=[])),
        c(
            "removal index 3 = the old count",
            "revise",
            payload(pr, removed=[{**removal, "index": 3}]),
        ),
        c("removal id an int", "revise", payload(pr, removed=[{**removal, "id": 2}])),
        c(
            "removal reason 'bored'",
            "revise",
            payload(pr, removed=[{**removal, "reason": "bored"}]),
        ),
        c("removal indices repeated", "revise", payload(pr, removed=[removal, removal])),
        c(
            "current version of 1 entry after removing 1 of 3 (an unlisted removal)",
            "revise",
            container(
                {**pr, "current": lost, "amendment": resign(pr["amendment"], current=lost_digest)}
            ),
        ),
        c("cites nil for a list bound to an exchange", "cited_append", payload(pc, cites=None)),
        c("cites of 31 bytes", "cited_append", payload(pc, cites=CITES[:31])),
        c("previous header of another list (small v1)", "cited_append", _with(ca, previous=small)),
        c(
            "a bit flipped in the amendment's payload (in cites)",
            "cited_append",
            flip(ca, ca.find(CITES)),
        ),
    ]


__all__ = ["amendment_vectors", "disclosure_vectors"]
