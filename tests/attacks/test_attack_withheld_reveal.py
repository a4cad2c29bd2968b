"""Attack: a party commits, sees the other's reveal, and never opens its own commitment
(or opens it after the deadline).

Verified after ``reveal_by``, a commitment without a reveal is reported as withholding;
a reveal dated after the deadline is reported as late.
"""

from __future__ import annotations

import exchange_kit as kit
from swapproto.handshake import completeness_statement


def test_a_commit_without_reveal_is_withholding_after_the_deadline() -> None:
    x = kit.honest("revealed")
    items = x.without("b-reveal")
    report = kit.verify(x, items, now=kit.AFTER_REVEAL_BY)
    assert list(kit.failures(report)) == ["no withholding"]
    assert kit.evidence_of(report, "no withholding") == (
        f"b committed to pows but did not reveal by {kit.REVEAL_BY}"
    )
    assert report.state == "committed"


def test_before_the_deadline_a_missing_reveal_is_not_yet_withholding() -> None:
    x = kit.honest("revealed")
    report = kit.verify(x, x.without("b-reveal"), now=kit.REVEAL_BY)
    assert report.ok
    assert "no withholding" not in {c.name for c in report.checks}


def test_both_withholding_is_reported_for_both() -> None:
    x = kit.honest("committed")
    report = kit.verify(x, now=kit.AFTER_REVEAL_BY)
    assert len(kit.failures(report)["no withholding"].evidence) == 2


def test_a_reveal_dated_after_the_deadline_is_late() -> None:
    revealed = kit.honest("revealed")
    party = revealed.party("b", upto=5)  # a revealed; b waited
    content, blob = kit.content_for(revealed.terms, "b", revealed.lists["b"].data)
    late = party.reveal(
        kit.LIST,
        revealed.lists["b"].header,
        nonce=kit.nonce_for("b"),
        content=content,
        now=kit.AFTER_REVEAL_BY,
    )
    items = [*revealed.without("b-reveal"), ("b-reveal", late.to_bytes())]
    report = kit.verify(revealed, items, now=kit.AFTER_REVEAL_BY)
    assert list(kit.failures(report)) == ["reveals by the deadline"]
    assert kit.evidence_of(report, "reveals by the deadline") == (
        f"b reveal of pows at {kit.AFTER_REVEAL_BY} after {kit.REVEAL_BY}"
    )
    assert blob in revealed.blobs.values()  # the content itself is the honest one


def test_a_commit_dated_after_its_deadline_is_late() -> None:
    x = kit.honest("terms-agreed")
    party = x.party("a")
    late = party.commit(
        kit.LIST,
        x.lists["a"].digest,
        nonce=kit.nonce_for("a"),
        now=kit.COMMIT_BY + 1,
        statement=completeness_statement(x.terms, "a", kit.LIST, kit.COMMIT_BY + 1),
    )
    report = kit.verify(x, [*x.items(), ("a-commit", late.to_bytes())], now=kit.NOW)
    assert list(kit.failures(report)) == ["commits by the deadline"]


def test_a_party_that_could_not_reveal_is_not_blamed() -> None:
    """a committed, b never did: a could not reveal, so a is not withholding; b is named
    for the commit it withheld."""
    x = kit.honest("committed")
    report = kit.verify(x, x.without("b-commit"), now=kit.AFTER_REVEAL_BY)
    assert list(kit.failures(report)) == ["no withheld commits"]
    assert kit.evidence_of(report, "no withheld commits") == (
        f"b did not commit to pows by {kit.COMMIT_BY}"
    )
    assert next(c for c in report.checks if c.name == "no withholding").ok
    assert report.state == "terms-agreed"  # b stalled
