"""Attack: the parties are shown different transcripts, so that each accepts something
else (here b signs two versions of its reveal, and the mediator relays one to a and
publishes the other).

Each verdict signs the digest of everything its party saw and depends on each of those
messages: a verdict over another transcript than the published one is reported (and
cannot be applied, since it rests on a message the transcript lacks); if both
versions surface, so does the equivocation.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.errors import RemoteProtocolError
from swapproto.messages import message_id, transcript_digest


def split_views() -> tuple[kit.Exchange, list[tuple[str, bytes]], SignedEnvelope]:
    """The published transcript with both verdicts, and the reveal version a saw."""
    x = kit.honest("revealed")
    b = x.party("b", upto=6)  # b's view: its published reveal
    b_verdict = b.verdict(accept=True, now=kit.NOW)
    a = x.party("a", upto=5)
    shown_to_a = kit.resign(x["b-reveal"], [kit.keys().b], created_at=kit.NOW + 60)
    a.receive(shown_to_a)
    a_verdict = a.verdict(accept=True, now=kit.NOW)
    published = [
        *x.items(),
        ("a-verdict", a_verdict.to_bytes()),
        ("b-verdict", b_verdict.to_bytes()),
    ]
    return x, published, shown_to_a


def test_a_verdict_over_another_transcript_is_reported() -> None:
    x, published, _ = split_views()
    report = kit.verify(x, published)
    failed = kit.failures(report)
    assert list(failed) == [
        "protocol order (commit-then-reveal)",
        "verdicts cover the same transcript",
    ]
    evidence = kit.evidence_of(report, "verdicts cover the same transcript")
    assert evidence.startswith("a signed ")
    assert "b signed" not in evidence
    assert kit.evidence_of(report, "protocol order (commit-then-reveal)") == (
        "a-verdict: VERDICT seq 3 never became legal (missing messages)"
    )
    assert report.state == "revealed"  # only b's verdict applies


def test_the_published_view_refuses_the_other_verdict() -> None:
    x, published, _ = split_views()
    observer = x.observer()
    with pytest.raises(RemoteProtocolError, match="not seen yet"):
        observer.receive(published[6][1])


def test_what_each_party_signed_differs() -> None:
    x, published, shown_to_a = split_views()
    seen = {
        label: kit.payload_of(SignedEnvelope.from_bytes(data))["body"]["seen"]
        for label, data in published[6:]
    }
    assert seen["b-verdict"] == x.observer().seen_digest()
    ids = [message_id(e) for e in x.envelopes()[:5]] + [message_id(shown_to_a)]
    assert seen["a-verdict"] == transcript_digest(ids)


def test_when_both_versions_surface_the_equivocation_is_reported() -> None:
    x, published, shown_to_a = split_views()
    report = kit.verify(x, [*published, ("b-reveal-shown-to-a", shown_to_a.to_bytes())])
    assert "b-reveal-shown-to-a" in kit.evidence_of(report, "no equivocation")
    assert "verdicts cover the same transcript" in kit.failures(report)


def test_a_party_lying_about_what_it_saw_is_reported() -> None:
    x = kit.honest()
    lie = kit.resign(x["b-verdict"], [kit.keys().b], body={"seen": b"\x11" * 32})
    report = kit.verify(x, [*x.without("b-verdict"), ("b-verdict", lie.to_bytes())])
    assert list(kit.failures(report)) == ["verdicts cover the same transcript"]
    assert kit.evidence_of(report, "verdicts cover the same transcript") == f"b signed {'11' * 32}"
