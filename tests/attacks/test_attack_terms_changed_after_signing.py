"""Attack: the terms are changed after the parties signed them (a count raised, a rule
relaxed), and the changed terms are presented as the agreed ones.

The exchange id is the hash of the canonical terms and every message is bound to it;
a terms signature carries the exact terms bytes.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import RemoteProtocolError
from swapproto.handshake import Observer
from swapproto.messages import MessageType
from swapproto.terms import Terms


def changed() -> Terms:
    return kit.make_terms(rule="exact-count", count=15)


def test_the_signed_transcript_does_not_verify_under_changed_terms() -> None:
    x = kit.honest()
    other = changed()
    report = kit.verify(x, terms=other)
    failed = kit.failures(report)
    assert {"exchange binding", "terms signed by both parties"} <= set(failed)
    assert len(failed["exchange binding"].evidence) == 8
    assert report.exchange_id == other.exchange_id
    assert report.state == "terms-proposed"


def test_parties_that_signed_different_terms_have_no_agreed_terms() -> None:
    x = kit.honest("terms-agreed")
    other = changed()
    b_signed_other = kit.forge(
        MessageType.TERMS_SIGN, {"terms": other.to_bytes()}, sender="b", seq=0, terms=other
    )
    items = [*x.without("b-terms-sign"), ("b-terms-sign", b_signed_other.to_bytes())]
    report = kit.verify(x, items, terms=None)
    assert list(kit.failures(report)) == ["terms"]
    evidence = kit.evidence_of(report, "terms")
    assert set(evidence.split("\n")) == {x.terms.exchange_id.hex(), other.exchange_id.hex()}
    assert report.exchange_id is None
    # Anchored on the agreed terms, b's signature is for another exchange.
    anchored = kit.verify(x, items)
    assert "b-terms-sign: bound to exchange" in kit.evidence_of(anchored, "exchange binding")
    assert "terms signed by both parties" in kit.failures(anchored)


def test_a_signature_that_carries_other_terms_is_refused() -> None:
    """Bound to this exchange's id but carrying other terms bytes."""
    x = kit.honest()
    sign = kit.forge(
        MessageType.TERMS_SIGN, {"terms": changed().to_bytes()}, sender="a", seq=0, terms=x.terms
    )
    with pytest.raises(RemoteProtocolError, match="signed terms differ from these terms"):
        Observer(x.terms).receive(sign)
    report = kit.verify(x, [*x.without("a-terms-sign"), ("a-terms-sign", sign.to_bytes())])
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence.startswith("a-terms-sign: signed terms differ from these terms")
