"""The handshake's states and its one transition table (``spec/handshake.md`` §4).

The table does not know which side is local: :mod:`swapproto.handshake` checks our
moves and the peer's by the same rows, and the spec's state diagram is drawn from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from swapproto.messages import MessageType

__all__ = ["BY_TYPE", "PARTIES", "TRANSITIONS", "Phase", "Transition"]

PARTIES: Final = ("a", "b")


class Phase(IntEnum):
    """Where one party stands. Ordered: later phases imply the earlier ones."""

    START = 0
    TERMS_SIGNED = 1
    COMMITTING = 2  # some of its lists committed
    COMMITTED = 3  # all of its lists committed
    REVEALING = 4
    REVEALED = 5
    DONE = 6  # verdict given
    ABORTED = 7


@dataclass(frozen=True, slots=True)
class Transition:
    """One legal move: ``message`` from a sender in ``sender_in`` while the other party
    is at least at ``other_at_least``; the sender moves to ``partial``, or to
    ``complete`` once it has made this move for every list it submits."""

    message: MessageType
    sender_in: frozenset[Phase]
    other_at_least: Phase
    partial: Phase
    complete: Phase
    per_list: bool


def _phases(*names: Phase) -> frozenset[Phase]:
    return frozenset(names)


TRANSITIONS: Final[tuple[Transition, ...]] = (
    Transition(
        MessageType.TERMS_SIGN,
        _phases(Phase.START),
        Phase.START,
        Phase.TERMS_SIGNED,
        Phase.TERMS_SIGNED,
        False,
    ),
    Transition(
        MessageType.COMMIT,
        _phases(Phase.TERMS_SIGNED, Phase.COMMITTING),
        Phase.TERMS_SIGNED,
        Phase.COMMITTING,
        Phase.COMMITTED,
        True,
    ),
    # Reveal only once the other party is COMMITTED: nobody sees a list before both are fixed.
    Transition(
        MessageType.REVEAL,
        _phases(Phase.COMMITTED, Phase.REVEALING),
        Phase.COMMITTED,
        Phase.REVEALING,
        Phase.REVEALED,
        True,
    ),
    Transition(
        MessageType.VERDICT, _phases(Phase.REVEALED), Phase.REVEALED, Phase.DONE, Phase.DONE, False
    ),
    Transition(
        MessageType.ABORT,
        _phases(*(p for p in Phase if p < Phase.DONE)),
        Phase.START,
        Phase.ABORTED,
        Phase.ABORTED,
        False,
    ),
)
"""The whole protocol. No row applies once either party has ABORTED."""
BY_TYPE: Final = {t.message: t for t in TRANSITIONS}
