"""The transcript vectors (``spec/vectors/transcript/``): one case per vector."""

from __future__ import annotations

import io
from typing import Any

import pytest

from helpers import load_vectors
from swapproto.envelope import SignedEnvelope
from swapproto.exchange_dir import RecipientOpener
from swapproto.hashing import fingerprint
from swapproto.key_files import KeyBundle
from swapproto.keys import DecryptionKey, SigningKey
from swapproto.messages import message_id, transcript_digest
from swapproto.terms import Terms
from swapproto.transcript import verify_transcript

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
    assert report.to_json() == VALID["expected"]


def test_valid_report_with_terms_from_the_messages() -> None:
    """Only check 2's detail differs: it says where the terms came from (§7.2)."""
    report = verify_transcript(valid_items(), blobs=Blobs(valid_blobs()), now=VALID["now"])
    got, want = report.to_json(), VALID["expected"]
    (terms_check,) = [c for c in got["checks"] if c["name"] == "terms"]
    fp = want["exchange_fingerprint"]
    assert terms_check["detail"] == f"terms carried in the messages, exchange {fp}"
    terms_check["detail"] = f"terms given by the verifier, exchange {fp}"
    assert got == want


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
    (check,) = [c for c in report.checks if c.name == case["fails"]]
    assert (check.detail, list(check.evidence)) == (case["detail"], case["evidence"])


def test_every_invalid_case_is_distinct() -> None:
    keys = [(tuple(c["messages"]), c.get("terms"), str(c.get("blobs"))) for c in INVALID["cases"]]
    assert len(set(keys)) == len(keys)
    assert len({c["desc"] for c in INVALID["cases"]}) == len(INVALID["cases"])


SCENARIOS: Any = load_vectors("transcript", "scenarios")


def _scenario_reports() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (name, case, report)
        for name, case in SCENARIOS["cases"].items()
        for report in case["reports"]
    ]


@pytest.mark.parametrize(
    ("name", "case", "want"),
    _scenario_reports(),
    ids=[f"{n}-{r['opener'] or 'keyless'}" for n, _, r in _scenario_reports()],
)
def test_scenario(name: str, case: dict[str, Any], want: dict[str, Any]) -> None:
    terms = Terms.from_bytes(bytes.fromhex(case["terms"]))
    assert terms.exchange_id.hex() == case["exchange_id"]
    items = []
    for message in case["messages"]:
        data = bytes.fromhex(message["data"])
        assert message_id(SignedEnvelope.from_bytes(data)).hex() == message["id"]
        items.append((message["label"], data))
    blobs = {bytes.fromhex(k): bytes.fromhex(v) for k, v in case["blobs"].items()}
    opener = None
    if want["opener"] is not None:
        seed = bytes.fromhex(SCENARIOS["key_seeds"][want["opener"]])
        bundle = KeyBundle(SigningKey.from_seed(seed), DecryptionKey.from_seed(seed))
        opener = RecipientOpener(bundle)
    report = verify_transcript(
        items, terms=terms, blobs=Blobs(blobs), opener=opener, now=case["now"]
    )
    assert report.to_json() == want["expected"], name


def test_scenarios_cover_the_states_and_the_sealed_paths() -> None:
    states = {r["expected"]["state"] for c in SCENARIOS["cases"].values() for r in c["reports"]}
    assert {"agreed", "aborted", "disputed"} <= states
    sealed = SCENARIOS["cases"]["sealed"]["reports"]
    checked = [[s["content_checked"] for s in r["expected"]["lists"]] for r in sealed]
    assert checked == [[False, False], [True, True], [True, False]]  # keyless, mediator, b
