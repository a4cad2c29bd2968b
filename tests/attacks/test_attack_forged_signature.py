"""Attack: a message carries a signature that is not the claimed key's signature over it
(a random or transplanted signature)."""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.envelope import Signature, SignedEnvelope
from swapproto.errors import ErrorCode, RemoteProtocolError


def with_signature(envelope: SignedEnvelope, ed25519: bytes) -> SignedEnvelope:
    key_id = envelope.signatures[0].key_id
    return SignedEnvelope(envelope.payload_type, envelope.payload, (Signature(key_id, ed25519),))


def forgeries(x: kit.Exchange) -> dict[str, SignedEnvelope]:
    target = x["b-commit"]
    transplanted = x["b-terms-sign"].signatures[0].ed25519  # b's key, another message
    return {
        "random": with_signature(target, bytes(range(64))),
        "transplanted": with_signature(target, transplanted),
        "zero": with_signature(target, b"\0" * 64),
    }


@pytest.mark.parametrize("kind", ["random", "transplanted", "zero"])
def test_a_forged_signature_is_refused(kind: str) -> None:
    x = kit.honest()
    forged = forgeries(x)[kind]
    receiver = x.party("a", upto=3)
    with pytest.raises(RemoteProtocolError) as info:
        receiver.receive(forged)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


@pytest.mark.parametrize("kind", ["random", "transplanted", "zero"])
def test_a_forged_signature_is_reported_in_the_transcript(kind: str) -> None:
    x = kit.honest()
    forged = forgeries(x)[kind]
    report = kit.verify(x, [*x.without("b-commit"), ("b-commit", forged.to_bytes())])
    evidence = kit.evidence_of(report, "signatures and thresholds")
    assert evidence == (
        "b-commit: [verify.threshold_not_met] 0 of the required 1 trusted signatures are valid"
    )
    assert report.state == "terms-agreed"
