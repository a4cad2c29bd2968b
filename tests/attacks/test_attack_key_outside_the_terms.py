"""Attack: messages or a manifest signed by a key the terms do not pin for that role."""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.handshake import Party
from swapproto.messages import MessageType, commitment, message_id


def test_a_party_object_will_not_sign_with_a_foreign_key() -> None:
    with pytest.raises(LocalProtocolError, match="not one of party a's keys"):
        Party(kit.make_terms(), "a", [kit.keys().outsider])


def test_a_message_signed_by_a_foreign_key_is_refused() -> None:
    x = kit.honest()
    foreign = kit.resign(x["a-commit"], [kit.keys().outsider])
    receiver = x.party("b", upto=2)
    with pytest.raises(RemoteProtocolError) as info:
        receiver.receive(foreign)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD
    report = kit.verify(x, [*x.without("a-commit"), ("a-commit", foreign.to_bytes())])
    evidence = kit.evidence_of(report, "signatures and thresholds")
    assert evidence.startswith("a-commit: [verify.threshold_not_met] 0 of the required 1")


def test_another_roles_key_does_not_count() -> None:
    """b's key (pinned, but for b) cannot sign a's messages."""
    x = kit.honest()
    impersonation = kit.resign(x["a-commit"], [kit.keys().b])
    report = kit.verify(x, [*x.without("a-commit"), ("a-commit", impersonation.to_bytes())])
    assert "a-commit: [verify.threshold_not_met]" in kit.evidence_of(
        report, "signatures and thresholds"
    )


def test_a_manifest_signed_by_a_foreign_key_cannot_be_revealed() -> None:
    x = kit.honest("terms-agreed")
    foreign = kit.build_list(x.terms, "a", signers=[kit.keys().outsider], label="foreign")
    nonce = kit.nonce_for("a", "foreign")
    body = {
        "commitment": commitment(nonce, foreign.digest),
        "list": kit.LIST,
        "statement": kit.statement_for(x.terms, "a"),
    }
    signs = [message_id(x["a-terms-sign"]), message_id(x["b-terms-sign"])]
    commit = kit.forge(MessageType.COMMIT, body, sender="a", seq=1, deps=signs)
    b_commit = kit.honest()["b-commit"]
    content, _ = kit.content_for(x.terms, "a", foreign.data)
    reveal_body = {"content": content, "header": foreign.header, "list": kit.LIST, "nonce": nonce}
    reveal = kit.forge(
        MessageType.REVEAL,
        reveal_body,
        sender="a",
        seq=2,
        deps=[message_id(commit), message_id(b_commit)],
    )
    observer = x.observer()
    observer.receive(commit)
    observer.receive(b_commit)
    with pytest.raises(RemoteProtocolError) as info:
        observer.receive(reveal)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD
    items = [
        *x.items(),
        ("a-commit", commit.to_bytes()),
        ("b-commit", b_commit.to_bytes()),
        ("a-reveal", reveal.to_bytes()),
    ]
    report = kit.verify(x, items)
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence.startswith("a-reveal: 0 of the required 1 trusted signatures are valid")


def test_an_extra_foreign_signature_counts_for_nothing() -> None:
    """Not an attack by itself: the pinned key's signature is what counts."""
    x = kit.honest()
    padded = x["a-commit"].add_signature(kit.keys().outsider)
    report = kit.verify(x, [*x.without("a-commit"), ("a-commit", padded.to_bytes())])
    assert report.ok
