"""Transcript deadline checks: late commits and reveals, withheld commits and reveals.

Private helper of :mod:`swapproto.transcript`. Deadlines are the terms' ``commit_by``
and ``reveal_by``; the time of the check is passed in (``now``), never read from a
clock. A party that the other's abort cut off before a deadline is not the one
withholding (``spec/handshake.md`` §7).
"""

from __future__ import annotations

from swapproto._transcript_report import ReportBuilder, counted
from swapproto.handshake import PARTIES, Observer, other_party
from swapproto.terms import Terms

__all__ = ["check_deadlines"]


def check_deadlines(
    terms: Terms, observer: Observer, now: int | None, report: ReportBuilder
) -> None:
    """Add the deadline checks, or none if ``now`` is None (the time was not given).

    Dates are the senders' claims (``created_at``); withholding is checked only once a
    deadline has passed at ``now``.
    """
    if now is None:
        return
    late = [
        f"{m.sender} commit for {m.list_name} at {m.created_at} after {terms.commit_by}"
        for role in PARTIES
        for m in observer.commits(role).values()
        if m.created_at > terms.commit_by
    ]
    report.add(
        "commits by the deadline",
        not late,
        _detail(late, "every commit is dated before commit_by", "commit", "dated after commit_by"),
        *late,
    )
    late_reveals = [
        f"{m.sender} reveal of {m.list_name} at {m.created_at} after {terms.reveal_by}"
        for role in PARTIES
        for m in observer.reveals(role).values()
        if m.created_at > terms.reveal_by
    ]
    report.add(
        "reveals by the deadline",
        not late_reveals,
        _detail(
            late_reveals,
            "every reveal is dated before reveal_by",
            "reveal",
            "dated after reveal_by",
        ),
        *late_reveals,
    )
    if now > terms.commit_by and observer.terms_agreed:
        _check_withheld_commits(terms, observer, report)
    if now > terms.reveal_by:
        _check_withheld_reveals(terms, observer, report)


def _cut_off(observer: Observer, role: str, deadline: int) -> bool:
    """Whether the other party's abort, dated by the deadline, left ``role`` no legal move
    before its time ran out (the abort's date is its sender's claim)."""
    abort = observer.abort_of(other_party(role))
    return abort is not None and abort.created_at <= deadline


def _check_withheld_commits(terms: Terms, observer: Observer, report: ReportBuilder) -> None:
    # Emitted once the terms are agreed and commit_by has passed: each party owes a commit
    # for every list it submits. Its own abort does not excuse it; the other's does.
    withheld = [
        f"{role} did not commit to {name} by {terms.commit_by}"
        for role in PARTIES
        if not _cut_off(observer, role, terms.commit_by)
        for name in observer.lists_of(role)
        if name not in observer.commits(role)
    ]
    report.add(
        "no withheld commits",
        not withheld,
        _detail(
            withheld, "every list was committed by commit_by", "list", "not committed by commit_by"
        ),
        *withheld,
    )


def _check_withheld_reveals(terms: Terms, observer: Observer, report: ReportBuilder) -> None:
    # Withholding needs a reveal that was possible: the reveal row wants both parties to
    # have committed every list they submit, and the other party's abort must not have cut
    # the sender off by reveal_by. A party that cannot reveal because a commit is missing
    # (the other's, or its own) is not named here: "no withheld commits" names the one
    # that stalled, so nobody is named twice for one missing commit.
    could_reveal = [
        role
        for role in PARTIES
        if _committed_all(observer, role)
        and _committed_all(observer, other_party(role))
        and not _cut_off(observer, role, terms.reveal_by)
    ]
    withheld = [
        f"{role} committed to {name} but did not reveal by {terms.reveal_by}"
        for role in could_reveal
        for name in observer.commits(role)
        if name not in observer.reveals(role)
    ]
    report.add(
        "no withholding",
        not withheld,
        _detail(
            withheld,
            "every commitment was opened by reveal_by",
            "commitment",
            "not opened by reveal_by",
        ),
        *withheld,
    )


def _committed_all(observer: Observer, role: str) -> bool:
    """Whether ``role`` has an accepted commit for every list it submits."""
    return set(observer.commits(role)) >= set(observer.lists_of(role))


def _detail(failures: list[str], passed: str, noun: str, what: str) -> str:
    """The check's detail: ``passed`` if nothing failed, else how many ``noun`` failed
    and how (``1 commit dated after commit_by``); the evidence lines name each one."""
    return f"{counted(len(failures), noun)} {what}" if failures else passed
