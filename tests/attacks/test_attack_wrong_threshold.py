"""Attack: terms that require two of party a's keys, and messages or a manifest signed by
only one of them (one official acting alone)."""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.handshake import Party, Phase


def two_of_two() -> kit.Exchange:
    terms = kit.make_terms(a_keys=("a", "a2"), a_threshold=2)
    both = [kit.keys().a, kit.keys().a2]
    lists = {"a": kit.build_list(terms, "a", signers=both)}
    return kit.run_exchange(terms, signers={"a": both}, lists=lists)


def one_signature(envelope: SignedEnvelope) -> SignedEnvelope:
    """The envelope with its second signature stripped."""
    keep = tuple(s for s in envelope.signatures if s.key_id == kit.keys().a.key_id)
    return SignedEnvelope(envelope.payload_type, envelope.payload, keep)


def test_with_both_signatures_the_exchange_verifies() -> None:
    x = two_of_two()
    assert x.observer().phase("a") is Phase.DONE
    report = kit.verify(x)
    assert report.ok, kit.failures(report)


def test_a_party_object_with_one_key_cannot_move() -> None:
    x = two_of_two()
    party = Party(x.terms, "a", [kit.keys().a])  # one of the two keys is allowed to hold
    with pytest.raises(LocalProtocolError) as info:
        party.sign_terms(now=kit.NOW)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


def test_a_message_with_one_signature_is_refused() -> None:
    x = two_of_two()
    receiver = x.party("b", upto=1)
    with pytest.raises(RemoteProtocolError, match="1 of the required 2") as info:
        receiver.receive(one_signature(x["a-terms-sign"]))
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


def test_the_transcript_reports_the_missing_signature() -> None:
    x = two_of_two()
    weak = one_signature(x["a-commit"])
    report = kit.verify(x, [*x.without("a-commit"), ("a-commit", weak.to_bytes())])
    evidence = kit.evidence_of(report, "signatures and thresholds")
    assert evidence == (
        "a-commit: [verify.threshold_not_met] 1 of the required 2 trusted signatures are valid"
    )


def test_the_same_key_twice_counts_once() -> None:
    """An envelope cannot even list one key twice; signing with a key twice adds nothing."""
    x = two_of_two()
    twice = x["a-commit"].add_signature(kit.keys().a)
    assert twice == x["a-commit"]
    doubled = one_signature(x["a-commit"]).add_signature(kit.keys().a)
    assert len(doubled.signatures) == 1


def test_a_manifest_with_one_signature_cannot_be_revealed() -> None:
    terms = kit.make_terms(a_keys=("a", "a2"), a_threshold=2)
    both = [kit.keys().a, kit.keys().a2]
    weak_list = {"a": kit.build_list(terms, "a", signers=[kit.keys().a])}
    with pytest.raises(LocalProtocolError, match="1 of the required 2"):
        kit.run_exchange(terms, signers={"a": both}, lists=weak_list)
