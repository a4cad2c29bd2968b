"""Attack: a party changes its list after committing (e.g. after seeing the other's).

The commitment binds the signed header, which binds the Merkle root and count, so a
changed list cannot open the commitment; and content that does not hash to the
committed root is caught when the content is read.
"""

from __future__ import annotations

import hashlib

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.messages import MessageType, message_id


def changed_list(x: kit.Exchange) -> kit.BuiltList:
    """Party a's list with one prisoner replaced by another (same count)."""
    records = kit.prisoner_records("a")
    records[7] = kit.prisoner_records("b", 8)[7]
    return kit.build_list(x.terms, "a", records=records, label="changed")


def forged_reveal(x: kit.Exchange, built: kit.BuiltList) -> bytes:
    content, _ = kit.content_for(x.terms, "a", built.data)
    body = {
        "content": content,
        "header": built.header,
        "list": kit.LIST,
        "nonce": kit.nonce_for("a"),
    }
    deps = [message_id(x["a-commit"]), message_id(x["b-commit"])]
    return kit.forge(MessageType.REVEAL, body, sender="a", seq=2, deps=deps).to_bytes()


def test_the_party_object_will_not_reveal_another_list() -> None:
    x = kit.honest("committed")
    party = x.party("a")
    changed = changed_list(x)
    content, _ = kit.content_for(x.terms, "a", changed.data)
    with pytest.raises(LocalProtocolError, match="does not open the commitment") as info:
        party.reveal(
            kit.LIST, changed.header, nonce=kit.nonce_for("a"), content=content, now=kit.NOW
        )
    assert info.value.code == ErrorCode.PROTOCOL_LOCAL


def test_the_counterparty_refuses_the_changed_list() -> None:
    x = kit.honest("committed")
    receiver = x.party("b")
    with pytest.raises(RemoteProtocolError, match="list changed after commit") as info:
        receiver.receive(forged_reveal(x, changed_list(x)))
    assert info.value.details["cause"] == ErrorCode.VERIFY_COMMITMENT


def test_the_transcript_shows_the_changed_list() -> None:
    x = kit.honest("revealed")
    items = [*x.without("a-reveal"), ("a-reveal", forged_reveal(x, changed_list(x)))]
    report = kit.verify(x, items)
    assert list(kit.failures(report)) == ["protocol order (commit-then-reveal)"]
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence.startswith("a-reveal: the revealed header does not open the commitment")
    assert report.state == "committed"  # a's reveal does not count


def test_content_changed_behind_the_committed_header() -> None:
    """The header is the committed one, but the entries delivered are another list's."""
    x = kit.honest("committed")
    honest, changed = x.lists["a"], changed_list(x)
    cut = honest.data.index(honest.header) + len(honest.header)
    cut_changed = changed.data.index(changed.header) + len(changed.header)
    blob = honest.data[:cut] + changed.data[cut_changed:]
    sha = hashlib.sha256(blob).digest()
    content = {"sealed": False, "sha256": sha, "size": len(blob)}
    party = x.party("a")  # the party object cannot know what the content holds
    reveal = party.reveal(
        kit.LIST, honest.header, nonce=kit.nonce_for("a"), content=content, now=kit.NOW
    )
    blobs = kit.MemoryBlobs({sha: blob})
    report = kit.verify(x, [*x.items(), ("a-reveal", reveal.to_bytes())], blobs=blobs)
    failed = kit.failures(report)
    assert list(failed) == ["content a/pows"]
    assert failed["content a/pows"].detail.startswith("[verify.root_mismatch]")
