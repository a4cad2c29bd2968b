"""The transcript report: every check, its result and evidence, and what was revealed.

Private helper of :mod:`swapproto.transcript` (which re-exports the public names):
:class:`TranscriptReport` is what :func:`~swapproto.transcript.verify_transcript`
returns and what ``swapproto verify --json`` prints (``spec/handshake.md`` §7);
:data:`STATES` are the states it may name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swapproto.hashing import fingerprint

__all__ = ["STATES", "Check", "ListSummary", "ReportBuilder", "TranscriptReport", "counted"]

STATES = (
    "terms-proposed",
    "terms-agreed",
    "committed",
    "revealed",
    "agreed",
    "disputed",
    "aborted",
)


def counted(n: int, noun: str) -> str:
    """``1 commit``, ``2 commits``: how check details name a count (``handshake.md`` §7.2)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Check:
    """One check: its name, result, a human detail and, on failure, evidence.

    ``skipped`` marks a check that could not be evaluated (a sealed list that was not
    opened): it is ``ok`` (nothing failed) and its detail says why it was not evaluated.
    """

    name: str
    ok: bool
    detail: str
    evidence: tuple[str, ...] = ()
    skipped: bool = False

    def __post_init__(self) -> None:
        if self.skipped and not self.ok:
            raise ValueError("a skipped check is not a failure: ok must be True")

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class ListSummary:
    """What one party revealed for one list."""

    list_name: str
    side: str
    count: int
    root: str
    content_checked: bool
    per_category: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "list": self.list_name,
            "side": self.side,
            "count": self.count,
            "root": self.root,
            "root_fingerprint": fingerprint(bytes.fromhex(self.root)),
            "content_checked": self.content_checked,
            "per_category": dict(self.per_category),
            "findings": list(self.findings),
        }


@dataclass(frozen=True, slots=True)
class TranscriptReport:
    """The outcome of verifying one exchange's transcript."""

    state: str
    exchange_id: bytes | None
    checks: tuple[Check, ...]
    lists: tuple[ListSummary, ...]
    messages: int
    named_fingerprints: tuple[tuple[str, str], ...] = ()
    """(what, fingerprint) pairs: the exchange id (``exchange``), every accepted
    commitment (``commitment <role>/<list>``), every revealed root and header digest
    (``root <role>/<list>``, ``header <role>/<list>``) and the transcript digest that
    verdicts sign (``transcript``), in that order."""

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Every fingerprint of this transcript (what ``--expect`` may name)."""
        return tuple(fp for _, fp in self.named_fingerprints)

    @property
    def ok(self) -> bool:
        """Whether every check passed (a skipped check is not a failure)."""
        return all(c.ok for c in self.checks)

    @property
    def skipped(self) -> tuple[Check, ...]:
        """The checks that could not be evaluated (sealed lists not opened)."""
        return tuple(c for c in self.checks if c.skipped)

    def to_json(self) -> dict[str, Any]:
        """The ``swapproto verify --json`` object."""
        return {
            "ok": self.ok,
            "state": self.state,
            "exchange_id": self.exchange_id.hex() if self.exchange_id else None,
            "exchange_fingerprint": fingerprint(self.exchange_id) if self.exchange_id else None,
            "messages": self.messages,
            "checks": [c.to_json() for c in self.checks],
            "lists": [s.to_json() for s in self.lists],
            "fingerprints": dict(self.named_fingerprints),
        }


class ReportBuilder:
    """The checks and list summaries of a verification in progress, in order."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.lists: list[ListSummary] = []

    def add(self, name: str, ok: bool, detail: str, *evidence: str) -> None:
        """Record one check."""
        self.checks.append(Check(name, ok, detail, tuple(evidence)))

    def skip(self, name: str, detail: str) -> None:
        """Record a check that could not be evaluated (ok, and marked as skipped)."""
        self.checks.append(Check(name, True, detail, skipped=True))
