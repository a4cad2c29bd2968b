"""The transcript vectors (``spec/vectors/transcript/``): one case per vector."""

from __future__ import annotations

import io
from typing import Any

import pytest

from helpers import load_vectors
from swapproto.envelope import SignedEnvelope
from swapproto.hashing import fingerprint
from swapproto.keys import SigningKey
from swapproto.messages import message_id, transcript_digest
from swapproto.terms import Terms
from swapproto.transcript import TranscriptReport, verify_transcript

VALID: Any = load_vectors("transcript", "valid")
INVALID: Any = load_vectors("transcript", "invalid")


class Blobs:
    """Blobs by SHA-256."""

    def __init__(self, blobs: dict[bytes, bytes]) -> None:
        self.blobs = blobs

    def open(self, sha256: bytes) -> io.BytesIO | None:
        data = self.blobs.get(sha256)
        return None if data is None else io.BytesIO(data)


def valid_blobs() -> dict[bytes, bytes]:
    return {bytes.fromhex(k): bytes.fromhex(v) for k, v in VALID["blobs"].items()}


def valid_items() -> list[tuple[str, bytes]]:
    return [(m["label"], bytes.fromhex(m["data"])) for m in VALID["messages"]]


def summary(report: TranscriptReport) -> dict[str, Any]:
    return {
        "fingerprints": dict(report.named_fingerprints),
        "ok": report.ok,
        "state": report.state,
        "exchange_id": report.exchange_id.hex() if report.exchange_id else None,
        "checks": [{"name": c.name, "ok": c.ok} for c in report.checks],
        "lists": [
            {"list": s.list_name, "side": s.side, "count": s.count, "root": s.root}
            for s in report.lists
        ],
    }


def test_valid_terms_and_exchange_id() -> None:
    terms = Terms.from_bytes(bytes.fromhex(VALID["terms"]))
    assert terms.exchange_id.hex() == VALID["exchange_id"]
    seeds = {name: bytes.fromhex(seed) for name, seed in VALID["key_seeds"].items()}
    pinned = {k.key_id for role in ("a", "b") for k in terms.role(role).keys}
    assert pinned == {SigningKey.from_seed(seeds[n]).key_id for n in ("a", "b")}


def test_valid_message_ids_and_seen_digest() -> None:
    ids = []
    for message in VALID["messages"]:
        envelope = SignedEnvelope.from_bytes(bytes.fromhex(message["data"]))
        assert message_id(envelope).hex() == message["id"]
        ids.append(bytes.fromhex(message["id"]))
    assert transcript_digest(ids[:6]).hex() == VALID["seen_digest"]


def test_valid_report() -> None:
    terms = Terms.from_bytes(bytes.fromhex(VALID["terms"]))
    report = verify_transcript(
        valid_items(), terms=terms, blobs=Blobs(valid_blobs()), now=VALID["now"]
    )
    assert summary(report) == VALID["expected"]


def test_valid_report_with_terms_from_the_messages() -> None:
    report = verify_transcript(valid_items(), blobs=Blobs(valid_blobs()), now=VALID["now"])
    assert summary(report) == VALID["expected"]


def test_valid_fingerprints_name_the_exchange_and_the_signed_transcript() -> None:
    fingerprints = VALID["expected"]["fingerprints"]
    assert fingerprints["exchange"] == fingerprint(bytes.fromhex(VALID["exchange_id"]))
    assert fingerprints["transcript"] == fingerprint(bytes.fromhex(VALID["seen_digest"]))
    assert sorted(fingerprints) == sorted(
        ["exchange", "transcript"]
        + [f"{what} {role}/pows" for what in ("commitment", "root", "header") for role in "ab"]
    )


def test_valid_with_copies() -> None:
    copies = [(c["label"], bytes.fromhex(c["data"])) for c in VALID["copies"]]
    terms = Terms.from_bytes(bytes.fromhex(VALID["terms"]))
    report = verify_transcript(
        [*valid_items(), *copies], terms=terms, blobs=Blobs(valid_blobs()), now=VALID["now"]
    )
    assert (report.ok, report.state) == (True, "agreed")
    assert report.messages == 16


@pytest.mark.parametrize("case", INVALID["cases"], ids=[c["desc"] for c in INVALID["cases"]])
def test_invalid(case: dict[str, Any]) -> None:
    pool = {m["label"]: bytes.fromhex(m["data"]) for m in VALID["messages"]}
    pool.update({k: bytes.fromhex(v) for k, v in INVALID["extra_messages"].items()})
    terms_hex = INVALID["extra_terms"][case["terms"]] if "terms" in case else VALID["terms"]
    terms = Terms.from_bytes(bytes.fromhex(terms_hex))
    blobs = valid_blobs()
    if "blobs" in case:
        blobs = {bytes.fromhex(k): blobs[bytes.fromhex(v)] for k, v in case["blobs"].items()}
    items = [(label, pool[label]) for label in case["messages"]]
    report = verify_transcript(
        items, terms=terms, blobs=Blobs(blobs), now=case.get("now", VALID["now"])
    )
    failed = [c.name for c in report.checks if not c.ok]
    assert case["fails"] in failed
    assert not report.ok
    if "state" in case:
        assert report.state == case["state"]


def test_every_invalid_case_is_distinct() -> None:
    keys = [(tuple(c["messages"]), c.get("terms"), str(c.get("blobs"))) for c in INVALID["cases"]]
    assert len(set(keys)) == len(keys)
    assert len({c["desc"] for c in INVALID["cases"]}) == len(INVALID["cases"])
