"""A reveal's content and blob, built with the library alone (``swapproto.reveal``)."""

from __future__ import annotations

import hashlib

import pytest

import exchange_kit as kit
from swapproto.errors import PolicyError
from swapproto.messages import MessageType
from swapproto.reveal import reveal_content
from swapproto.sealing import NotARecipientError, SealingContext, open_bytes


def test_unsealed_content_is_the_manifest_itself() -> None:
    terms = kit.make_terms()
    manifest = kit.build_list(terms, "a").data
    content, blob = reveal_content(manifest, terms, "a", kit.LIST)
    assert blob == manifest
    assert content == {"sealed": False, "sha256": hashlib.sha256(blob).digest(), "size": len(blob)}


def test_sealed_content_opens_for_the_counterparty_and_the_mediator_only() -> None:
    terms = kit.make_terms(sealed=True)
    manifest = kit.build_list(terms, "a").data
    content, blob = reveal_content(manifest, terms, "a", kit.LIST)
    assert content == {"sealed": True, "sha256": hashlib.sha256(blob).digest(), "size": len(blob)}
    context = SealingContext(terms.exchange_id, kit.LIST, MessageType.REVEAL.value)
    keys = kit.keys()
    for recipient in (keys.b_dec, keys.mediator_dec):
        assert open_bytes(blob, recipient, context, expected_digest=content["sha256"]) == manifest
    with pytest.raises(NotARecipientError):  # never sealed to its own sender
        open_bytes(blob, keys.a_dec, context)


@pytest.mark.parametrize("sealed", [False, True])
def test_a_list_the_terms_do_not_have_is_refused_either_way(sealed: bool) -> None:
    terms = kit.make_terms(sealed=sealed)
    with pytest.raises(PolicyError):
        reveal_content(b"any", terms, "a", "no such list")
