"""Attack: a sealed blob is presented as another one: a party names the other party's
sealed list as its own (revealing nothing of its own), a blob sealed for another
list or exchange is slipped in, or the mediator replaces a blob file.

Without a key a verifier checks the container: its digest and size, its binding to
this exchange and list, and that it is sealed to exactly the recipients the terms
name. A recipient also checks that the plaintext is the revealed, committed list.
"""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.exchange_dir import RecipientOpener
from swapproto.messages import MessageType
from swapproto.sealing import SealingContext, seal_bytes


def sealed() -> kit.Exchange:
    return kit.run_exchange(kit.make_terms(sealed=True))


def with_b_content(x: kit.Exchange, content: dict[str, object]) -> list[tuple[str, bytes]]:
    """b's reveal re-signed (by b) to name other content; b's verdict dropped."""
    reveal = kit.resign(x["b-reveal"], [kit.keys().b], body={"content": content})
    return [*x.without("b-reveal", "a-verdict", "b-verdict"), ("b-reveal", reveal.to_bytes())]


OPENERS = {
    "no key": None,
    "mediator": "mediator",
    "party a": "a",
}


@pytest.mark.parametrize("who", list(OPENERS))
def test_the_other_partys_sealed_list_presented_as_ones_own(who: str) -> None:
    x = sealed()
    items = with_b_content(x, x.contents["a"])
    name = OPENERS[who]
    opener = RecipientOpener(kit.keys().bundle(name)) if name else None
    report = kit.verify(x, items, opener=opener)
    failed = kit.failures(report)
    assert list(failed) == ["content b/pows"]
    assert failed["content b/pows"].detail.startswith("sealed to other recipients")
    k = kit.keys()
    expected = sorted([k.a_dec.key_id, k.mediator_dec.key_id])
    found = sorted([k.b_dec.key_id, k.mediator_dec.key_id])
    assert failed["content b/pows"].evidence == (
        "expected " + ", ".join(k.hex()[:16] for k in expected),
        "found " + ", ".join(k.hex()[:16] for k in found),
    )


def test_the_other_partys_list_resealed_is_caught_by_any_recipient() -> None:
    """b decrypts a's list and seals it again to the right recipients: the container
    looks right, but its plaintext is not b's committed list."""
    x = sealed()
    context = SealingContext(x.terms.exchange_id, kit.LIST, MessageType.REVEAL.value)
    blob = seal_bytes(x.lists["a"].data, x.terms.recipients_for(kit.LIST, "b"), context)
    blobs = x.blob_source()
    sha = blobs.add(blob)
    items = with_b_content(x, {"sealed": True, "sha256": sha, "size": len(blob)})
    assert kit.verify(x, items, blobs=blobs).ok  # nobody without a key can tell
    for name in ("a", "mediator"):
        report = kit.verify(x, items, blobs=blobs, opener=RecipientOpener(kit.keys().bundle(name)))
        failed = kit.failures(report)
        assert list(failed) == ["content b/pows"]
        assert "the content's header is not the revealed header" in failed["content b/pows"].detail


@pytest.mark.parametrize("where", ["another exchange", "another list"])
def test_a_blob_sealed_for_another_exchange_or_list(where: str) -> None:
    x = sealed()
    exchange = kit.make_terms(sealed=True, label="Elsewhere").exchange_id
    context = (
        SealingContext(exchange, kit.LIST, MessageType.REVEAL.value)
        if where == "another exchange"
        else SealingContext(x.terms.exchange_id, "remains", MessageType.REVEAL.value)
    )
    blob = seal_bytes(x.lists["b"].data, x.terms.recipients_for(kit.LIST, "b"), context)
    blobs = x.blob_source()
    sha = blobs.add(blob)
    items = with_b_content(x, {"sealed": True, "sha256": sha, "size": len(blob)})
    for opener in (None, RecipientOpener(kit.keys().bundle("mediator"))):
        report = kit.verify(x, items, blobs=blobs, opener=opener)
        failed = kit.failures(report)
        assert list(failed) == ["content b/pows"]
        assert failed["content b/pows"].detail.startswith("[seal.context_mismatch]")


def test_a_blob_file_replaced_by_the_mediator() -> None:
    """Another container stored under the name (digest) the reveal gives."""
    x = sealed()
    blobs = x.blob_source()
    blobs.blobs[x.contents["b"]["sha256"]] = blobs.blobs[x.contents["a"]["sha256"]]
    for opener in (None, RecipientOpener(kit.keys().bundle("mediator"))):
        report = kit.verify(x, blobs=blobs, opener=opener)
        failed = kit.failures(report)
        assert list(failed) == ["content b/pows"]
        assert "digest or size differ" in failed["content b/pows"].detail
