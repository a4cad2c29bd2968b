"""Attack: the terms say a commission must co-sign a list (e.g. a medical commission for
the seriously wounded), and a party reveals a list signed by itself alone."""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from swapproto.messages import MessageType, message_id


def test_a_list_without_the_commissions_signature_is_refused() -> None:
    terms = kit.make_terms(commission=True)
    k = kit.keys()
    lists = {
        "a": kit.build_list(terms, "a"),  # not co-signed
        "b": kit.build_list(terms, "b", signers=[k.b, k.commission]),
    }
    x = kit.run_exchange(terms, until="committed", lists=lists)
    content, blob = kit.content_for(terms, "a", lists["a"].data)
    body = {
        "content": content,
        "header": lists["a"].header,
        "list": kit.LIST,
        "nonce": kit.nonce_for("a"),
    }
    deps = [message_id(x["a-commit"]), message_id(x["b-commit"])]
    reveal = kit.forge(MessageType.REVEAL, body, sender="a", seq=2, deps=deps, terms=terms)
    with pytest.raises(RemoteProtocolError) as info:
        x.party("b").receive(reveal)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD
    blobs = kit.MemoryBlobs({content["sha256"]: blob})
    report = kit.verify(x, [*x.items(), ("a-reveal", reveal.to_bytes())], blobs=blobs)
    evidence = kit.evidence_of(report, "protocol order (commit-then-reveal)")
    assert evidence == (
        "a-reveal: list 'pows' must also be signed by commission:Mixed Medical Commission:"
        " 0 of the required 1 trusted signatures are valid"
    )
    assert report.state == "committed"


def test_the_party_object_will_not_reveal_it_either() -> None:
    terms = kit.make_terms(commission=True)
    lists = {r: kit.build_list(terms, r) for r in "ab"}
    with pytest.raises(LocalProtocolError, match="must also be signed by commission") as info:
        kit.run_exchange(terms, lists=lists)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD
