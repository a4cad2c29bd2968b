"""Attack: a party reveals (or is made to reveal) before the other party committed.

A reveal must depend on every commit of both parties, so the transcript proves the
revealer held the other's commitment first; a party object refuses to reveal earlier.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.messages import MessageType, message_id


def early_reveal(x: kit.Exchange) -> bytes:
    """a's reveal made when only its own commit existed."""
    content, _ = kit.content_for(x.terms, "a", x.lists["a"].data)
    body = {
        "content": content,
        "header": x.lists["a"].header,
        "list": kit.LIST,
        "nonce": kit.nonce_for("a"),
    }
    deps = [message_id(x["a-commit"])]
    return kit.forge(MessageType.REVEAL, body, sender="a", seq=2, deps=deps).to_bytes()


def test_the_party_object_refuses_to_reveal_early() -> None:
    x = kit.honest("revealed")
    party = x.party("a", upto=3)  # a committed; b has not
    with pytest.raises(LocalProtocolError, match="needs the other party at COMMITTED") as info:
        party.check_move(MessageType.REVEAL, kit.LIST)
    assert info.value.code == ErrorCode.PROTOCOL_LOCAL
    content = x.contents["a"]
    with pytest.raises(LocalProtocolError, match="needs the other party at COMMITTED"):
        party.reveal(
            kit.LIST, x.lists["a"].header, nonce=kit.nonce_for("a"), content=content, now=kit.NOW
        )


def test_the_counterparty_refuses_an_early_reveal() -> None:
    x = kit.honest("revealed")
    receiver = x.party("b", upto=3)
    with pytest.raises(RemoteProtocolError, match="needs the other party at COMMITTED"):
        receiver.receive(early_reveal(x))


def test_the_transcript_shows_the_early_reveal() -> None:
    """Even with b's commit present, a's reveal does not rest on it."""
    x = kit.honest("revealed")
    items = [*x.without("a-reveal"), ("a-reveal", early_reveal(x))]
    report = kit.verify(x, items)
    assert list(kit.failures(report)) == ["protocol order (commit-then-reveal)"]
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence == (
        "a-reveal: a reveal must depend on every commit of both parties (commit-then-reveal)"
    )
    assert report.state == "committed"
