"""Attack: the mediator alters a message it relays, or substitutes one of its own.

It can neither change a signed byte nor sign for a party; a message it signs as
itself is not a party's move.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, RemoteProtocolError


def test_altered_bytes_are_refused_by_the_receiver() -> None:
    x = kit.honest()
    commitment = kit.payload_of(x["b-commit"])["body"]["commitment"]
    data = x["b-commit"].to_bytes()
    altered = kit.flip(data, data.index(commitment) + 5)
    receiver = x.party("a", upto=3)
    with pytest.raises(RemoteProtocolError) as info:
        receiver.receive(altered)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


def test_altered_bytes_are_reported_in_the_transcript() -> None:
    x = kit.honest()
    data = x["b-commit"].to_bytes()
    commitment = kit.payload_of(x["b-commit"])["body"]["commitment"]
    items = [*x.without("b-commit"), ("b-commit", kit.flip(data, data.index(commitment)))]
    report = kit.verify(x, items)
    evidence = kit.evidence_of(report, "signatures and thresholds")
    assert evidence.startswith("b-commit: [verify.threshold_not_met] 0 of the required 1")
    assert report.state == "terms-agreed"


def test_a_message_re_signed_by_the_mediator_in_a_partys_name_is_refused() -> None:
    x = kit.honest()
    substitute = kit.resign(x["b-commit"], [kit.keys().mediator], body={"commitment": b"\1" * 32})
    receiver = x.party("a", upto=3)
    with pytest.raises(RemoteProtocolError) as info:
        receiver.receive(substitute)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD
    items = [*x.without("b-commit"), ("b-commit", substitute.to_bytes())]
    report = kit.verify(x, items)
    evidence = kit.evidence_of(report, "signatures and thresholds")
    assert "b-commit: [verify.threshold_not_met]" in evidence


def test_a_message_the_mediator_signs_as_itself_is_not_a_move() -> None:
    x = kit.honest()
    own = kit.resign(x["b-commit"], [kit.keys().mediator], sender="mediator:Turkiye")
    receiver = x.party("a", upto=3)
    with pytest.raises(RemoteProtocolError, match="is not a party and cannot move"):
        receiver.receive(own)
    items = [*x.without("b-commit"), ("mediator-commit", own.to_bytes())]
    report = kit.verify(x, items)
    assert "signatures and thresholds" not in kit.failures(report)  # it is the mediator's
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert "mediator-commit: 'mediator:Turkiye' is not a party and cannot move" in evidence
