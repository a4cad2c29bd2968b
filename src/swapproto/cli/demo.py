"""``swapproto demo`` (placeholder until the handshake lands)."""

from __future__ import annotations


def demo() -> None:
    """Run the demo exchange (a manifest round trip until the handshake lands)."""
    print("swapproto demo: the full exchange demo arrives with the handshake issue.")
