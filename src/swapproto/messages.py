"""The signed messages of an exchange (``spec/handshake.md`` §3).

Every message is a signed envelope whose payload is the SP-CMP map::

    {"body": {...}, "created_at": int, "deps": [bin32...], "exchange": bin32,
     "sender": str, "seq": int}

``deps`` are the envelope ids of earlier messages this one depends on (sorted,
distinct), ``seq`` counts the sender's messages from 0, and ``body`` depends on the
payload type. :func:`parse_message` verifies the signature under the sender's role
policy *before* it interprets the payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from swapproto.encoding import DecodeLimits, encode
from swapproto.envelope import ENVELOPE_VERSION, SignedEnvelope, sign_envelope, verify_envelope
from swapproto.errors import DecodeError, ErrorCode, InputError, PolicyError, VerificationError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import SigningKey, TrustPolicy

__all__ = [
    "MESSAGE_LIMITS",
    "Message",
    "MessageType",
    "commitment",
    "make_message",
    "message_id",
    "parse_message",
    "transcript_digest",
]

MESSAGE_LIMITS: Final = DecodeLimits(
    max_input=4 * 1024 * 1024,
    max_depth=8,
    max_str=64 * 1024,
    max_bin=2 * 1024 * 1024,
    max_array=4096,
    max_map=64,
)
_PAYLOAD_KEYS: Final = ["body", "created_at", "deps", "exchange", "sender", "seq"]


class MessageType(Enum):
    """Payload types of exchange messages, with the body fields each must carry."""

    TERMS_SIGN = "swapproto/terms-sign/v1"
    COMMIT = "swapproto/commit/v1"
    REVEAL = "swapproto/reveal/v1"
    VERDICT = "swapproto/verdict/v1"
    ABORT = "swapproto/abort/v1"

    @property
    def body_keys(self) -> tuple[str, ...]:
        """The exact keys of this type's body, in canonical order."""
        return _BODY_KEYS[self]


_BODY_KEYS: Final = {
    MessageType.TERMS_SIGN: ("terms",),
    MessageType.COMMIT: ("commitment", "list", "statement"),
    MessageType.REVEAL: ("content", "header", "list", "nonce"),
    MessageType.VERDICT: ("reasons", "seen", "verdict"),
    MessageType.ABORT: ("reason",),
}


@dataclass(frozen=True, slots=True)
class Message:
    """A verified message: who sent what, in which exchange, after which messages."""

    type: MessageType
    exchange: bytes
    sender: str
    seq: int
    deps: tuple[bytes, ...]
    created_at: int
    body: dict[str, Any]
    envelope: SignedEnvelope
    payload: bytes
    id: bytes = field(init=False)
    """The message id (:func:`message_id`): what ``deps`` and verdicts refer to."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", message_id(self.envelope))

    @property
    def list_name(self) -> str | None:
        """The list a commit or reveal is about."""
        value = self.body.get("list")
        return value if isinstance(value, str) else None


def message_id(envelope: SignedEnvelope) -> bytes:
    """The id of what the sender signed: ``tagged_hash(MESSAGE_ID, encode(envelope with
    an empty signature list))``.

    Signatures are left out so that a relay cannot change a message's id by adding,
    dropping or altering signatures while a threshold still holds (the same statement
    keeps one id, and verdicts and ``deps`` stay valid). The tag is the message id's
    own, so no message id can be confused with an envelope id.
    """
    unsigned = {
        "payload": envelope.payload,
        "signatures": [],
        "type": envelope.payload_type,
        "v": ENVELOPE_VERSION,
    }
    return tagged_hash(Tag.MESSAGE_ID, encode(unsigned))


def commitment(nonce: bytes, header_digest: bytes) -> bytes:
    """``tagged_hash(COMMITMENT, nonce || header_digest)``: hiding (32-byte nonce), binding."""
    if len(nonce) != 32 or len(header_digest) != 32:
        raise VerificationError("commitment inputs must be 32 bytes", code=ErrorCode.VERIFY_DIGEST)
    return tagged_hash(Tag.COMMITMENT, nonce, header_digest)


def transcript_digest(ids: list[bytes]) -> bytes:
    """The digest of a set of message ids (sorted), signed in verdicts."""
    return tagged_hash(Tag.TRANSCRIPT, encode(sorted(set(ids))))


def make_message(
    mtype: MessageType,
    *,
    exchange: bytes,
    sender: str,
    seq: int,
    deps: list[bytes],
    created_at: int,
    body: dict[str, Any],
    keys: list[SigningKey],
) -> SignedEnvelope:
    """Sign a message. The body must have exactly the type's keys (``TypeError``); a
    payload that every receiver would refuse (an exchange id that is not 32 bytes, a
    negative ``seq``) is an ``InputError`` (``input.invalid``), never signed."""
    if not isinstance(mtype, MessageType):
        raise TypeError(f"mtype must be a MessageType, not {type(mtype).__name__}")
    if tuple(sorted(body)) != mtype.body_keys:
        raise TypeError(f"{mtype.name} body needs exactly {mtype.body_keys}")
    payload = {
        "body": dict(sorted(body.items())),  # the order the encoding gives it
        "created_at": created_at,
        "deps": sorted(set(deps)),
        "exchange": exchange,
        "sender": sender,
        "seq": seq,
    }
    try:  # never sign what every receiver would refuse
        _check_payload(mtype, payload)
    except VerificationError as exc:
        message = f"the message would be refused: {exc.args[0]}"
        raise InputError(message, code=ErrorCode.INPUT_INVALID) from None
    return sign_envelope(mtype.value, payload, keys)


def _invalid(message: str) -> VerificationError:
    return VerificationError(message, code=ErrorCode.VERIFY_MESSAGE)


def message_type_of(envelope: SignedEnvelope) -> MessageType:
    """The message type an envelope claims; ``verify.message_invalid`` if unknown."""
    try:
        return MessageType(envelope.payload_type)
    except ValueError:
        raise _invalid(f"unknown message type {envelope.payload_type!r}") from None


def claimed_sender(envelope: SignedEnvelope) -> str:
    """The sender an envelope claims, to choose the policy that must verify it."""
    try:
        value: Any = envelope.unverified_value(limits=MESSAGE_LIMITS)
    except DecodeError as exc:
        raise _invalid(f"message payload exceeds the message limits: {exc}") from exc
    sender = value.get("sender") if type(value) is dict else None
    if type(sender) is not str:
        raise _invalid("message names no sender")
    return sender


def parse_message(data: bytes | SignedEnvelope, policy: TrustPolicy) -> Message:
    """Verify a message's signatures under its sender's role policy, then parse it."""
    if not isinstance(policy, TrustPolicy):
        raise TypeError(
            f"policy must be a TrustPolicy (terms.trust_policy()), not {type(policy).__name__}"
        )
    try:
        envelope = (
            data
            if isinstance(data, SignedEnvelope)
            else SignedEnvelope.from_bytes(data, limits=MESSAGE_LIMITS)
        )
    except DecodeError as exc:
        raise VerificationError(
            f"not a signed message: {exc}", code=ErrorCode.VERIFY_MESSAGE
        ) from exc
    mtype = message_type_of(envelope)
    sender = claimed_sender(envelope)
    try:
        role = policy.role(sender)
    except PolicyError:
        raise VerificationError(
            f"sender {sender!r} has no keys in the terms", code=ErrorCode.VERIFY_UNKNOWN_KEY
        ) from None
    verified = verify_envelope(envelope, role, payload_type=mtype.value, limits=MESSAGE_LIMITS)
    value: Any = verified.value
    _check_payload(mtype, value)
    return Message(
        mtype,
        value["exchange"],
        sender,
        value["seq"],
        tuple(value["deps"]),
        value["created_at"],
        value["body"],
        envelope,
        verified.payload,
    )


def _check_payload(mtype: MessageType, value: Any) -> None:
    """The structure of a message payload (``verify.message_invalid`` if broken): what
    :func:`parse_message` checks after the signatures, and :func:`make_message` before
    signing."""
    if type(value) is not dict or list(value) != _PAYLOAD_KEYS:
        raise _invalid("message fields are not body, created_at, deps, exchange, sender, seq")
    body, deps = value["body"], value["deps"]
    if type(body) is not dict or tuple(body) != mtype.body_keys:
        raise _invalid(f"{mtype.name} body must have exactly {mtype.body_keys}")
    if type(deps) is not list or any(type(d) is not bytes or len(d) != 32 for d in deps):
        raise _invalid("deps must be 32-byte message ids")
    if deps != sorted(set(deps)):
        raise _invalid("deps must be sorted and distinct")
    exchange, seq, created_at = value["exchange"], value["seq"], value["created_at"]
    if type(exchange) is not bytes or len(exchange) != 32:
        raise _invalid("exchange must be a 32-byte id")
    if type(seq) is not int or seq < 0 or type(created_at) is not int or created_at < 0:
        raise _invalid("seq and created_at must be non-negative integers")
    if type(value["sender"]) is not str:
        raise _invalid("sender must be a role name")
