"""Attack: a message signed for another exchange (same keys) is replayed into this one.

Every message carries the exchange id, which the signature covers.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import RemoteProtocolError


def other_exchange() -> kit.Exchange:
    return kit.run_exchange(kit.make_terms(label="Istanbul, stage 2"))


def test_a_party_refuses_a_message_of_another_exchange() -> None:
    x, other = kit.honest(), other_exchange()
    for label in ("a-terms-sign", "a-commit"):
        receiver = x.party("b", upto=2 if label == "a-commit" else 0)
        with pytest.raises(RemoteProtocolError, match=r"another exchange \(replay\?\)"):
            receiver.receive(other[label])


def test_the_transcript_names_the_replayed_message() -> None:
    x, other = kit.honest(), other_exchange()
    items = [*x.without("a-commit"), ("replayed-a-commit", other["a-commit"].to_bytes())]
    report = kit.verify(x, items)
    failed = kit.failures(report)
    assert "exchange binding" in failed
    evidence = kit.evidence_of(report, "exchange binding")
    assert evidence == f"replayed-a-commit: bound to exchange {other.terms.exchange_id.hex()}"
    # Without a's real commit, a's reveal and everything after it never become legal.
    assert "protocol order (commit-then-reveal)" in failed
    assert report.state == "terms-agreed"


def test_a_whole_transcript_of_another_exchange_verifies_nothing_here() -> None:
    x, other = kit.honest(), other_exchange()
    report = kit.verify(x, other.items(), blobs=other.blob_source())
    assert len(kit.failures(report)["exchange binding"].evidence) == 8
    assert report.state == "terms-proposed"
