"""The completeness statement an ``all-for-all`` commit carries (``spec/handshake.md`` §3.6)."""

from __future__ import annotations

from datetime import UTC, datetime

from swapproto.errors import InputError, ProtocolError
from swapproto.messages import Message
from swapproto.terms import Terms

__all__ = ["check_statement", "completeness_statement"]


def completeness_statement(terms: Terms, role: str, list_name: str, now: int) -> str | None:
    """The exact words a commit under ``all-for-all`` carries (``None`` under other rules).

    The issuer signs that its list names everyone it holds who is eligible under the
    agreed terms, as of the commit's date; amendments cite this commit. A receiver
    accepts these words only, dated by the commit (``spec/handshake.md`` §3.6).
    """
    if terms.list(list_name).rule != "all-for-all":
        return None
    try:
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        raise InputError(f"time {now} cannot be written as a UTC calendar date") from None
    return (
        f"{terms.party_name(role)} declares list '{list_name}' complete: it names every person "
        f"it holds who is eligible under the agreed terms, as of {day}."
    )


def check_statement(terms: Terms, message: Message, error: type[ProtocolError]) -> None:
    """A commit's statement: under ``all-for-all`` exactly the words of
    :func:`completeness_statement` dated by the commit; under other rules none."""
    body = message.body
    statement = body["statement"]
    rule = terms.list(body["list"]).rule
    if rule != "all-for-all":
        if statement is not None:
            raise error(f"a commit under {rule} carries no completeness statement")
        return
    if statement is None:
        raise error("an all-for-all commit must carry the completeness statement")
    if (
        type(statement) is not dict
        or list(statement) != ["as_of", "text"]
        or type(statement["as_of"]) is not int
        or type(statement["text"]) is not str
    ):
        raise error("statement must be {as_of: int, text: str}")
    if statement["as_of"] != message.created_at:
        raise error("the completeness statement must be dated as its commit (as_of = created_at)")
    expected = completeness_statement(terms, message.sender, body["list"], message.created_at)
    if statement["text"] != expected:
        raise error(f"the completeness statement is not the agreed wording (expected {expected!r})")
