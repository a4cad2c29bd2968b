"""Attack: the mediator re-wraps a party's message with an extra signature.

An extra signature by an unknown key counts for nothing, so the envelope still
verifies, but its bytes (and envelope id) change. If messages were named by envelope
id, the relay could show each party a different "copy", make the parties' verdicts
disagree, and make an honest party's later messages depend on an id missing from the
published transcript. Messages are named by what the sender signed
(:func:`swapproto.messages.message_id`), so such copies are one and the same message.
"""

from __future__ import annotations

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.handshake import Observer, Party
from swapproto.messages import message_id


def test_a_re_wrapped_message_keeps_its_id() -> None:
    x = kit.honest()
    padded = x["b-commit"].add_signature(kit.keys().outsider)
    assert padded.envelope_id != x["b-commit"].envelope_id
    assert message_id(padded) == message_id(x["b-commit"])


def test_re_wrapping_cannot_split_the_parties_or_frame_one() -> None:
    terms = kit.make_terms()
    k = kit.keys()
    parties = {r: Party(terms, r, k.signing(r)) for r in "ab"}
    published: list[tuple[str, SignedEnvelope]] = []
    mediator_view = Observer(terms)
    x = kit.honest()  # the same honest moves, replayed by the relay

    for label, envelope in x.messages:
        sender, receiver = label[0], "b" if label[0] == "a" else "a"
        parties[sender].receive(envelope)  # the sender's own state (it made this message)
        # The relay hands the receiver a re-wrapped copy and publishes the original.
        parties[receiver].receive(envelope.add_signature(k.outsider))
        mediator_view.receive(envelope)
        published.append((label, envelope))

    assert parties["a"].seen_digest() == parties["b"].seen_digest()
    assert parties["a"].seen_digest() == mediator_view.seen_digest()
    report = kit.verify(x, [(label, env.to_bytes()) for label, env in published])
    assert report.ok, kit.failures(report)
    assert report.state == "agreed"


def test_a_transcript_holding_both_copies_verifies() -> None:
    x = kit.honest()
    copies = [
        (f"{label}-copy", env.add_signature(kit.keys().outsider).to_bytes())
        for label, env in x.messages
    ]
    report = kit.verify(x, [*x.items(), *copies])
    assert report.ok, kit.failures(report)
    assert report.state == "agreed"
