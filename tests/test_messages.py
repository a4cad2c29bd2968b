"""Messages: building, parsing, ids, commitments and transcript digests."""

from __future__ import annotations

from typing import Any

import pytest

import exchange_kit as kit
from swapproto.encoding import encode
from swapproto.envelope import SignedEnvelope, sign_envelope
from swapproto.errors import ErrorCode, VerificationError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import SigningKey
from swapproto.messages import (
    Message,
    MessageType,
    commitment,
    message_id,
    parse_message,
    transcript_digest,
)
from swapproto.terms import Terms

ID1, ID2, ID3 = (bytes([i]) * 32 for i in (1, 2, 3))


def abort_payload(terms: Terms, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "body": {"reason": "stop"},
        "created_at": kit.NOW,
        "deps": [],
        "exchange": terms.exchange_id,
        "sender": "a",
        "seq": 0,
    }
    payload.update(changes)
    return payload


def signed(payload: object, *, mtype: str = MessageType.ABORT.value, signer: str = "a") -> bytes:
    key: SigningKey = getattr(kit.keys(), signer)
    return sign_envelope(mtype, payload, [key]).to_bytes()


# --- building and parsing ------------------------------------------------------------------


def test_make_then_parse_gives_back_every_field(terms: Terms) -> None:
    envelope = kit.forge(
        MessageType.ABORT, {"reason": "stop"}, sender="b", seq=3, deps=[ID2, ID1, ID2]
    )
    message = parse_message(envelope.to_bytes(), terms.trust_policy())
    assert isinstance(message, Message)
    assert message.type is MessageType.ABORT
    assert (message.sender, message.seq, message.created_at) == ("b", 3, kit.NOW)
    assert message.exchange == terms.exchange_id
    assert message.deps == (ID1, ID2)  # sorted, distinct
    assert message.body == {"reason": "stop"}
    assert message.payload == envelope.payload
    assert message.envelope == envelope
    assert message.list_name is None


def test_parse_accepts_an_envelope_object_as_well_as_bytes(terms: Terms) -> None:
    envelope = kit.forge(MessageType.ABORT, {"reason": "x"}, sender="a", seq=0)
    policy = terms.trust_policy()
    assert parse_message(envelope, policy).id == parse_message(envelope.to_bytes(), policy).id


def test_list_name_of_a_commit(terms: Terms) -> None:
    body = {"commitment": ID1, "list": "pows", "statement": None}
    envelope = kit.forge(MessageType.COMMIT, body, sender="a", seq=1)
    assert parse_message(envelope, terms.trust_policy()).list_name == "pows"


def test_make_message_refuses_a_body_with_other_keys() -> None:
    with pytest.raises(TypeError, match="ABORT body"):
        kit.forge(MessageType.ABORT, {"reason": "x", "extra": 1}, sender="a", seq=0)
    with pytest.raises(TypeError, match="COMMIT body"):
        kit.forge(MessageType.COMMIT, {"commitment": ID1}, sender="a", seq=0)


def test_body_keys_are_sorted_per_type() -> None:
    for mtype in MessageType:
        assert list(mtype.body_keys) == sorted(mtype.body_keys)
    assert MessageType.REVEAL.body_keys == ("content", "header", "list", "nonce")


# --- ids -------------------------------------------------------------------------------------


def test_message_id_is_the_unsigned_envelope_hash_under_its_own_tag(terms: Terms) -> None:
    envelope = kit.forge(MessageType.ABORT, {"reason": "x"}, sender="a", seq=0)
    unsigned = encode(
        {"payload": envelope.payload, "signatures": [], "type": envelope.payload_type, "v": 1}
    )
    expected = tagged_hash(Tag.MESSAGE_ID, unsigned)
    assert message_id(envelope) == expected
    assert message_id(envelope) != envelope.envelope_id
    assert message_id(envelope) != tagged_hash(Tag.ENVELOPE_ID, unsigned)  # domain separated
    assert parse_message(envelope, terms.trust_policy()).id == expected


def test_message_id_worked_example_of_the_spec() -> None:
    """``spec/handshake.md`` §3.3: the unsigned envelope bytes and the message id."""
    payload = {
        "body": {"reason": "stop"},
        "created_at": 1748908800,
        "deps": [],
        "exchange": b"\x11" * 32,
        "sender": "a",
        "seq": 0,
    }
    envelope = sign_envelope(MessageType.ABORT.value, payload, [kit.keys().a])
    assert len(envelope.payload) == 98
    unsigned = encode(
        {"payload": envelope.payload, "signatures": [], "type": "swapproto/abort/v1", "v": 1}
    )
    assert len(unsigned) == 148
    assert unsigned.startswith(bytes.fromhex("84a77061796c6f6164c462"))
    assert unsigned.endswith(
        bytes.fromhex("a474797065b27377617070726f746f2f61626f72742f7631a17601")
    )
    assert message_id(envelope).hex() == (
        "8f63f338b26960cf955b1c4a93350cc1ceaca1073b00e22071d201212daaa21b"
    )


def test_message_id_ignores_the_signature_set(terms: Terms) -> None:
    envelope = kit.forge(MessageType.ABORT, {"reason": "x"}, sender="a", seq=0)
    padded = envelope.add_signature(kit.keys().outsider)
    assert padded.envelope_id != envelope.envelope_id
    assert message_id(padded) == message_id(envelope)
    # An extra signature by an unknown key counts for nothing: the message still verifies.
    assert parse_message(padded, terms.trust_policy()).id == message_id(envelope)


def test_message_id_depends_on_payload_and_type() -> None:
    one = kit.forge(MessageType.ABORT, {"reason": "x"}, sender="a", seq=0)
    other = kit.forge(MessageType.ABORT, {"reason": "y"}, sender="a", seq=0)
    retyped = sign_envelope("swapproto/other/v1", kit.payload_of(one), [kit.keys().a])
    assert len({message_id(one), message_id(other), message_id(retyped)}) == 3


# --- commitments and transcript digests ---------------------------------------------------------


def test_commitment_is_a_tagged_hash_of_nonce_and_header_digest() -> None:
    assert commitment(ID1, ID2) == tagged_hash(Tag.COMMITMENT, ID1 + ID2)
    assert commitment(ID1, ID2) != commitment(ID3, ID2)  # hiding needs the nonce
    assert commitment(ID1, ID2) != commitment(ID1, ID3)  # binding to the header


@pytest.mark.parametrize(("nonce", "digest"), [(ID1[:31], ID2), (ID1, ID2 + b"\0"), (b"", b"")])
def test_commitment_refuses_inputs_that_are_not_32_bytes(nonce: bytes, digest: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        commitment(nonce, digest)
    assert info.value.code == ErrorCode.VERIFY_DIGEST


def test_transcript_digest_is_over_the_sorted_set_of_ids() -> None:
    assert transcript_digest([ID2, ID1]) == transcript_digest([ID1, ID2, ID1])
    assert transcript_digest([ID1, ID2]) == tagged_hash(Tag.TRANSCRIPT, encode([ID1, ID2]))
    assert transcript_digest([ID1, ID2]) != transcript_digest([ID1, ID2, ID3])
    assert transcript_digest([]) == tagged_hash(Tag.TRANSCRIPT, encode([]))


# --- rejections -----------------------------------------------------------------------------------

REJECTED: list[tuple[str, dict[str, Any], ErrorCode]] = [
    ("extra payload field", {"extra": 1}, ErrorCode.VERIFY_MESSAGE),
    ("body not a map", {"body": ["reason"]}, ErrorCode.VERIFY_MESSAGE),
    ("body with a missing key", {"body": {}}, ErrorCode.VERIFY_MESSAGE),
    ("body with an extra key", {"body": {"reason": "x", "why": "y"}}, ErrorCode.VERIFY_MESSAGE),
    ("deps not an array", {"deps": ID1}, ErrorCode.VERIFY_MESSAGE),
    ("dep of 31 bytes", {"deps": [ID1[:31]]}, ErrorCode.VERIFY_MESSAGE),
    ("dep not bytes", {"deps": ["x" * 32]}, ErrorCode.VERIFY_MESSAGE),
    ("deps unsorted", {"deps": [ID2, ID1]}, ErrorCode.VERIFY_MESSAGE),
    ("deps repeated", {"deps": [ID1, ID1]}, ErrorCode.VERIFY_MESSAGE),
    ("exchange of 31 bytes", {"exchange": ID1[:31]}, ErrorCode.VERIFY_MESSAGE),
    ("exchange as text", {"exchange": "x" * 32}, ErrorCode.VERIFY_MESSAGE),
    ("negative seq", {"seq": -1}, ErrorCode.VERIFY_MESSAGE),
    ("seq as text", {"seq": "0"}, ErrorCode.VERIFY_MESSAGE),
    ("negative created_at", {"created_at": -5}, ErrorCode.VERIFY_MESSAGE),
    ("created_at as bytes", {"created_at": b"\0"}, ErrorCode.VERIFY_MESSAGE),
    ("sender not a string", {"sender": 1}, ErrorCode.VERIFY_MESSAGE),
    ("sender with no role in the terms", {"sender": "c"}, ErrorCode.VERIFY_UNKNOWN_KEY),
    ("signed by the other party", {"sender": "b"}, ErrorCode.VERIFY_THRESHOLD),
]


@pytest.mark.parametrize(
    ("changes", "code"), [(c, code) for _, c, code in REJECTED], ids=[d for d, _, _ in REJECTED]
)
def test_parse_rejects_malformed_payloads(
    terms: Terms, changes: dict[str, Any], code: ErrorCode
) -> None:
    data = signed(abort_payload(terms, **changes))
    with pytest.raises(VerificationError) as info:
        parse_message(data, terms.trust_policy())
    assert info.value.code == code


def test_parse_rejects_a_missing_field(terms: Terms) -> None:
    payload = abort_payload(terms)
    del payload["created_at"]
    with pytest.raises(VerificationError) as info:
        parse_message(signed(payload), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_a_payload_that_is_not_a_map(terms: Terms) -> None:
    with pytest.raises(VerificationError) as info:
        parse_message(signed(["a", 0]), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_a_payload_without_sender(terms: Terms) -> None:
    payload = abort_payload(terms)
    del payload["sender"]
    with pytest.raises(VerificationError) as info:
        parse_message(signed(payload), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_an_unknown_message_type(terms: Terms) -> None:
    data = signed(abort_payload(terms), mtype="swapproto/other/v1")
    with pytest.raises(VerificationError) as info:
        parse_message(data, terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_a_message_moved_to_another_type(terms: Terms) -> None:
    """A signature covers the payload type: relabelling an abort as a verdict breaks it."""
    original = SignedEnvelope.from_bytes(signed(abort_payload(terms)))
    moved = SignedEnvelope(MessageType.VERDICT.value, original.payload, original.signatures)
    with pytest.raises(VerificationError) as info:
        parse_message(moved, terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


@pytest.mark.parametrize(
    "data", [b"", b"\x00", b"not a message", b"\x81\xa1a\x01"], ids=["empty", "nil", "text", "map"]
)
def test_parse_rejects_bytes_that_are_not_an_envelope(terms: Terms, data: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        parse_message(data, terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_trailing_bytes(terms: Terms) -> None:
    with pytest.raises(VerificationError) as info:
        parse_message(signed(abort_payload(terms)) + b"\0", terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_rejects_a_flipped_signature_bit(terms: Terms) -> None:
    data = signed(abort_payload(terms))
    at = data.index(SignedEnvelope.from_bytes(data).signatures[0].ed25519) + 10
    with pytest.raises(VerificationError) as info:
        parse_message(kit.flip(data, at), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


def test_parse_rejects_a_flipped_payload_bit(terms: Terms) -> None:
    envelope = SignedEnvelope.from_bytes(signed(abort_payload(terms)))
    body_at = envelope.to_bytes().index(b"stop")
    with pytest.raises(VerificationError) as info:
        parse_message(kit.flip(envelope.to_bytes(), body_at), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


def test_parse_rejects_a_signature_by_a_key_outside_the_terms(terms: Terms) -> None:
    with pytest.raises(VerificationError) as info:
        parse_message(signed(abort_payload(terms), signer="outsider"), terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD
    assert info.value.details["unknown"] == [kit.keys().outsider.key_id.hex()]


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "envelope"])
def test_parse_rejects_a_payload_nested_past_the_message_limit(
    terms: Terms, as_bytes: bool
) -> None:
    nested: Any = "x"
    for _ in range(10):
        nested = [nested]
    data = signed(abort_payload(terms, body={"reason": nested}))
    message: bytes | SignedEnvelope = data if as_bytes else SignedEnvelope.from_bytes(data)
    with pytest.raises(VerificationError) as info:
        parse_message(message, terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE


def test_parse_applies_the_message_limits_to_the_envelope(terms: Terms) -> None:
    deps = sorted(i.to_bytes(32, "big") for i in range(4097))  # over 4,096 elements
    data = signed(abort_payload(terms, deps=deps))
    with pytest.raises(VerificationError) as info:
        parse_message(data, terms.trust_policy())
    assert info.value.code == ErrorCode.VERIFY_MESSAGE
    assert "decode.limit_exceeded" in str(info.value)
