"""The deadline checks of a transcript report (``spec/handshake.md`` §7, checks 11-14):
a failing check's detail says what failed, never the passing sentence."""

from __future__ import annotations

from collections.abc import Callable

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.handshake import Party, completeness_statement
from swapproto.terms import terms_from_toml
from swapproto.transcript import Check, TranscriptReport, verify_transcript

PASSING = {
    "commits by the deadline": "every commit is dated before commit_by",
    "reveals by the deadline": "every reveal is dated before reveal_by",
    "no withheld commits": "every list was committed by commit_by",
    "no withholding": "every commitment was opened by reveal_by",
}


def check(report: TranscriptReport, name: str) -> Check:
    return next(c for c in report.checks if c.name == name)


def test_passing_deadline_checks_say_so() -> None:
    x = kit.honest()
    report = kit.verify(x, now=kit.AFTER_REVEAL_BY)
    assert report.ok
    for name, detail in PASSING.items():
        assert check(report, name).detail == detail
        assert check(report, name).evidence == ()


def test_late_commits_detail_counts_them() -> None:
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
    late = check(kit.verify(x, items, now=kit.REVEAL_BY), "commits by the deadline")
    assert not late.ok
    assert late.detail == "2 commits dated after commit_by"
    assert late.evidence == (
        f"a commit for pows at {when} after {kit.COMMIT_BY}",
        f"b commit for pows at {when} after {kit.COMMIT_BY}",
    )


def test_a_late_reveal_detail_counts_it() -> None:
    revealed = kit.honest("revealed")
    party = revealed.party("b", upto=5)  # a revealed; b waited
    content, _ = kit.content_for(revealed.terms, "b", revealed.lists["b"].data)
    late = party.reveal(
        kit.LIST,
        revealed.lists["b"].header,
        nonce=kit.nonce_for("b"),
        content=content,
        now=kit.AFTER_REVEAL_BY,
    )
    items = [*revealed.without("b-reveal"), ("b-reveal", late.to_bytes())]
    report = kit.verify(revealed, items, now=kit.AFTER_REVEAL_BY)
    result = check(report, "reveals by the deadline")
    assert not result.ok
    assert result.detail == "1 reveal dated after reveal_by"
    assert result.evidence == (f"b reveal of pows at {kit.AFTER_REVEAL_BY} after {kit.REVEAL_BY}",)
    assert check(report, "commits by the deadline").detail == PASSING["commits by the deadline"]


def test_a_withheld_commit_detail_counts_it() -> None:
    x = kit.honest("committed")
    report = kit.verify(x, x.without("b-commit"), now=kit.COMMIT_BY + 1)
    result = check(report, "no withheld commits")
    assert not result.ok
    assert result.detail == "1 list not committed by commit_by"
    assert result.evidence == (f"b did not commit to pows by {kit.COMMIT_BY}",)


def test_withholding_detail_counts_the_unopened_commitments() -> None:
    x = kit.honest("committed")
    result = check(kit.verify(x, now=kit.AFTER_REVEAL_BY), "no withholding")
    assert not result.ok
    assert result.detail == "2 commitments not opened by reveal_by"
    assert len(result.evidence) == 2


def test_a_party_that_did_not_finish_committing_is_named_for_the_commit_only() -> None:
    """The reveal row needs the sender itself COMMITTED too: a party that committed one of
    its two lists could not reveal it, so check 14 does not name it (nor the other party,
    which could not reveal either); check 13 names the missing commit (§7.4)."""
    text = kit.terms_text(rule="exact-count", count=3).replace(
        "[[lists]]",
        '[[lists]]\nname = "pows2"\nkind = "prisoner"\nfrom = "a"\n'
        'rule = "min-count"\ncount = 1\n\n[[lists]]',
        1,
    )
    terms = terms_from_toml(text, load_key=lambda name, _where: kit.keys().pinned(name))
    assert [spec.name for spec in terms.lists] == ["pows", "pows2"]
    parties = {r: Party(terms, r, kit.keys().signing(r)) for r in "ab"}
    sent: list[tuple[str, SignedEnvelope]] = []

    def move(role: str, label: str, make: Callable[[Party], SignedEnvelope]) -> None:
        envelope = make(parties[role])
        parties["b" if role == "a" else "a"].receive(envelope)
        sent.append((label, envelope))

    for role in "ab":
        move(role, f"{role}-terms-sign", lambda p: p.sign_terms(now=kit.NOW))
    for role in "ab":
        move(
            role,
            f"{role}-commit",
            lambda p: p.commit("pows", bytes(32), nonce=kit.nonce_for(p.role), now=kit.NOW),
        )
    report = verify_transcript(
        [(label, env.to_bytes()) for label, env in sent], terms=terms, now=kit.AFTER_REVEAL_BY
    )
    assert check(report, "no withholding").ok
    withheld = check(report, "no withheld commits")
    assert withheld.evidence == (f"a did not commit to pows2 by {kit.COMMIT_BY}",)
    assert [c.name for c in report.checks if not c.ok] == ["no withheld commits"]
