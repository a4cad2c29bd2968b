"""Attack: a party signs the terms and then never commits, stalling the exchange (it
waits for the other's commitment, or simply lets the deadline pass).

Commitments hide the lists, so the staller learns nothing, but the exchange cannot
proceed. Verified after ``commit_by`` with the terms agreed, every list a party owes and
did not commit is reported by "no withheld commits", naming that party; the party that
did commit is not blamed for the reveal it could not make.
"""

from __future__ import annotations

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.handshake import completeness_statement


def test_a_party_that_never_commits_is_named_after_commit_by() -> None:
    x = kit.honest("committed")
    items = x.without("b-commit")
    report = kit.verify(x, items, now=kit.COMMIT_BY + 1)
    assert list(kit.failures(report)) == ["no withheld commits"]
    assert kit.evidence_of(report, "no withheld commits") == (
        f"b did not commit to pows by {kit.COMMIT_BY}"
    )
    assert report.state == "terms-agreed"


def test_before_commit_by_a_missing_commit_is_not_yet_withheld() -> None:
    x = kit.honest("committed")
    report = kit.verify(x, x.without("b-commit"), now=kit.COMMIT_BY)
    assert report.ok, kit.failures(report)
    assert "no withheld commits" not in {c.name for c in report.checks}


def test_a_late_commit_is_late_not_withheld() -> None:
    """A commit exists, dated after commit_by: "commits by the deadline" says so."""
    x = kit.honest("terms-agreed")
    when = kit.COMMIT_BY + 60
    commits: list[tuple[str, SignedEnvelope]] = []
    for role in "ab":
        party = x.party(role)
        for _, earlier in commits:
            party.receive(earlier)
        statement = completeness_statement(x.terms, role, kit.LIST, when)
        envelope = party.commit(
            kit.LIST, x.lists[role].digest, nonce=kit.nonce_for(role), now=when, statement=statement
        )
        commits.append((f"{role}-commit", envelope))
    items = [*x.items(), *((label, env.to_bytes()) for label, env in commits)]
    report = kit.verify(x, items, now=kit.REVEAL_BY)
    assert list(kit.failures(report)) == ["commits by the deadline"]
    assert next(c for c in report.checks if c.name == "no withheld commits").ok
    assert report.state == "committed"


def test_a_stalled_exchange_names_the_staller_and_not_the_committer() -> None:
    """After reveal_by too: a committed and could not reveal (b never committed)."""
    x = kit.honest("committed")
    report = kit.verify(x, x.without("b-commit"), now=kit.AFTER_REVEAL_BY)
    failures = kit.failures(report)
    assert list(failures) == ["no withheld commits"]
    assert all(e.startswith("b ") for e in failures["no withheld commits"].evidence)
