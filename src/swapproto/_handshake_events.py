"""What an observer of the handshake reports: frozen, keyword-only event values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swapproto.manifest import VerifiedHeader

__all__ = [
    "Aborted",
    "Committed",
    "Event",
    "Revealed",
    "TermsAgreed",
    "TermsSigned",
    "VerdictGiven",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened, as seen by an observer."""

    sender: str
    message_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TermsSigned(Event):
    """A party signed the terms."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TermsAgreed(Event):
    """Both parties have signed: the exchange is on."""

    exchange_id: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Committed(Event):
    """A party committed to its list."""

    list_name: str
    commitment: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Revealed(Event):
    """A party opened its commitment: the signed header is now known.

    ``header`` verified under the sender's policy and matches the commitment. The list
    itself is NOT checked yet: ``content`` (``{"sealed", "sha256", "size"}``) only names
    it. Its entries, root and rules are checked by
    :func:`~swapproto.transcript.verify_transcript` (with the content and, when sealed,
    a recipient's key); do not act on a reveal before that.
    """

    list_name: str
    header: VerifiedHeader
    content: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictGiven(Event):
    """A party accepted or disputed; ``matches`` says whether it saw what we saw.

    ``seen`` is the digest the sender signed of the messages it saw; an acceptance with
    ``matches`` false accepted another set of messages than this observer holds.
    """

    accepted: bool
    reasons: tuple[str, ...]
    seen: bytes
    matches: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Aborted(Event):
    """A party abandoned the exchange."""

    reason: str
