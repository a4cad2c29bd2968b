"""Attack: under ``all-for-all`` a party signs weaker words than the completeness
statement (or dates it otherwise), to deny later that it declared its list complete.

Every receiver compares the statement with the exact words of
:func:`swapproto.handshake.completeness_statement` for the sender, list and the commit's
own date: a party object refuses to sign other words, an observer refuses to apply
them, and transcript verification reports the commit as an illegal move.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.messages import MessageType, message_id

WEAKER = "Ukraine declares list 'pows' complete as far as it knows."


def test_a_party_object_refuses_to_sign_weaker_words() -> None:
    x = kit.honest("terms-agreed")
    party = x.party("a")
    with pytest.raises(LocalProtocolError, match="not the agreed wording") as info:
        party.commit(
            kit.LIST, x.lists["a"].digest, nonce=kit.nonce_for("a"), now=kit.NOW, statement=WEAKER
        )
    assert info.value.code == ErrorCode.PROTOCOL_LOCAL


@pytest.mark.parametrize(
    "statement",
    [
        {"as_of": kit.NOW, "text": WEAKER},
        kit.statement_for(kit.make_terms(), "a", kit.NOW - 7 * 86400),
        kit.statement_for(kit.make_terms(), "b"),
    ],
    ids=["weaker words", "backdated", "the other party's words"],
)
def test_weaker_or_backdated_words_are_refused_and_reported(statement: dict[str, object]) -> None:
    x = kit.honest("agreed")
    signs = [message_id(x["a-terms-sign"]), message_id(x["b-terms-sign"])]
    honest_body = kit.payload_of(x["a-commit"])["body"]
    forged = kit.forge(
        MessageType.COMMIT, {**honest_body, "statement": statement}, sender="a", seq=1, deps=signs
    )
    with pytest.raises(RemoteProtocolError) as info:
        x.observer(2).receive(forged)
    assert info.value.code == ErrorCode.PROTOCOL_REMOTE
    items = [
        ("a-commit", forged.to_bytes()) if label == "a-commit" else (label, data)
        for label, data in x.items()
    ]
    report = kit.verify(x, items)
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence.startswith("a-commit: the completeness statement")
    assert report.state == "terms-agreed"  # nothing after the refused commit applies
