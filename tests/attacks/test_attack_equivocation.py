"""Attack: a party signs two different messages with the same sequence number and shows
one to the counterparty and the other to the mediator.

Anyone holding both reports equivocation, with both messages as evidence; a protocol
object that receives both refuses the second.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import RemoteProtocolError
from swapproto.messages import MessageType, commitment, message_id


def second_commit(x: kit.Exchange) -> bytes:
    """b's other commit at seq 1: the same list under another nonce."""
    body = kit.payload_of(x["b-commit"])["body"]
    other = {**body, "commitment": commitment(b"\x42" * 32, x.lists["b"].digest)}
    deps = [message_id(x["a-terms-sign"]), message_id(x["b-terms-sign"])]
    return kit.forge(MessageType.COMMIT, other, sender="b", seq=1, deps=deps).to_bytes()


def test_a_protocol_object_refuses_the_second_version() -> None:
    x = kit.honest()
    for receiver in (x.observer(4), x.party("a", upto=4)):
        with pytest.raises(RemoteProtocolError, match="two different messages with seq 1"):
            receiver.receive(second_commit(x))


def test_the_transcript_reports_both_versions() -> None:
    x = kit.honest()
    other = second_commit(x)
    report = kit.verify(x, [*x.items(), ("b-commit-to-mediator", other)])
    evidence = kit.evidence_of(report, "no equivocation")
    assert evidence.startswith("b seq 1: ")
    assert f"b-commit ({message_id(x['b-commit']).hex()[:16]})" in evidence
    assert "b-commit-to-mediator (" in evidence
    assert report.ok is False


def test_two_verdicts_of_one_party_are_equivocation() -> None:
    x = kit.honest()
    dispute = kit.resign(
        x["a-verdict"], [kit.keys().a], body={"verdict": "dispute", "reasons": ["short"]}
    )
    report = kit.verify(x, [*x.items(), ("a-dispute", dispute.to_bytes())])
    assert kit.evidence_of(report, "no equivocation").startswith("a seq 3: a-verdict")
    # Neither version is trusted: a has given no verdict the verifier can rely on.
    assert report.state == "revealed"
