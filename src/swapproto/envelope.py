"""Signed envelopes: a payload type, canonical payload bytes and signatures over them.

Wire form (``spec/envelope.md``) is the SP-CMP map::

    {"payload": bin, "signatures": [{"ed25519": bin64, "key_id": bin32
                                     [, "ml-dsa-65": bin3309]}, ...],
     "type": str, "v": 1}

with signatures strictly ascending by key id. Each signature covers the
pre-authentication encoding ``encode(["swapproto/v1/envelope", type, payload, key_id])``.
A parsed envelope keeps its exact bytes; the decoded payload is handed out only by
:func:`verify_envelope` (or, explicitly untrusted, by :meth:`SignedEnvelope.unverified_value`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, NoReturn

from swapproto.encoding import DEFAULT_LIMITS, DecodeLimits, Value, decode, encode
from swapproto.errors import (
    DecodeError,
    ErrorCode,
    SignatureError,
    ThresholdError,
    VerificationError,
)
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import RolePolicy, SigningKey

__all__ = [
    "ENVELOPE_VERSION",
    "PAE_LABEL",
    "Signature",
    "SignedEnvelope",
    "ThresholdResult",
    "VerifiedPayload",
    "evaluate_envelope",
    "pre_authentication_encoding",
    "sign_envelope",
    "verify_envelope",
]

ENVELOPE_VERSION: Final = 1
"""The value of the ``v`` member."""
PAE_LABEL: Final = "swapproto/v1/envelope"
"""The first element of every pre-authentication encoding."""
_PAYLOAD_TYPE_RE: Final = re.compile(r"[a-z0-9][a-z0-9._/-]{0,127}")
_KEY_ID_SIZE: Final = 32
_ED_SIG_SIZE: Final = 64
_ML_SIG_SIZE: Final = 3309
_ENVELOPE_FIELDS: Final = frozenset({"payload", "signatures", "type", "v"})
_SIG_FIELDS: Final = frozenset({"ed25519", "key_id"})
_HYBRID_SIG_FIELDS: Final = _SIG_FIELDS | {"ml-dsa-65"}


def _schema(message: str) -> NoReturn:
    raise DecodeError(message, code=ErrorCode.DECODE_SCHEMA)


def _check_payload_type(payload_type: object) -> str:
    if not isinstance(payload_type, str) or not _PAYLOAD_TYPE_RE.fullmatch(payload_type):
        _schema("payload type must be 1-128 of a-z 0-9 . _ / - starting with a-z or 0-9")
    return payload_type


def pre_authentication_encoding(payload_type: str, payload: bytes, key_id: bytes) -> bytes:
    """The bytes each signature covers: ``encode([PAE_LABEL, type, payload, key_id])``."""
    return encode([PAE_LABEL, payload_type, payload, key_id])


@dataclass(frozen=True, slots=True)
class Signature:
    """One signer's signature: its key id, the Ed25519 part and, if hybrid, the ML-DSA-65 part."""

    key_id: bytes
    ed25519: bytes
    ml_dsa_65: bytes | None = None

    def __post_init__(self) -> None:
        if type(self.key_id) is not bytes or len(self.key_id) != _KEY_ID_SIZE:
            _schema("a signature's key id is 32 bytes")
        if type(self.ed25519) is not bytes or len(self.ed25519) != _ED_SIG_SIZE:
            _schema("an Ed25519 signature is 64 bytes")
        ml = self.ml_dsa_65
        if ml is not None and (type(ml) is not bytes or len(ml) != _ML_SIG_SIZE):
            _schema("an ML-DSA-65 signature is 3309 bytes")

    def record(self) -> dict[str, object]:
        """The wire map of this signature."""
        rec: dict[str, object] = {"ed25519": self.ed25519, "key_id": self.key_id}
        if self.ml_dsa_65 is not None:
            rec["ml-dsa-65"] = self.ml_dsa_65
        return rec

    @classmethod
    def from_record(cls, rec: object) -> Signature:
        """Parse a wire map strictly (exact members, exact sizes)."""
        if not isinstance(rec, dict) or set(rec) not in (_SIG_FIELDS, _HYBRID_SIG_FIELDS):
            _schema("a signature is a map of ed25519, key_id and optionally ml-dsa-65")
        return cls(rec["key_id"], rec["ed25519"], rec.get("ml-dsa-65"))

    def __repr__(self) -> str:
        kind = "ed25519" if self.ml_dsa_65 is None else "ed25519+ml-dsa-65"
        return f"Signature(key_id={self.key_id[:8].hex()!r}, parts={kind!r})"


def _check_signatures(signatures: object) -> tuple[Signature, ...]:
    if not isinstance(signatures, tuple) or not signatures:
        _schema("an envelope carries a non-empty tuple of signatures")
    for i, sig in enumerate(signatures):
        if not isinstance(sig, Signature):
            _schema("signatures must be Signature values")
        if i and signatures[i - 1].key_id >= sig.key_id:
            _schema("signatures must be strictly ascending by key id (no duplicates)")
    return signatures


@dataclass(frozen=True, slots=True)
class SignedEnvelope:
    """A payload type, canonical payload bytes and signatures. Unverified until checked.

    ``payload`` is raw bytes; decode it only through :func:`verify_envelope`.
    """

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]
    _raw: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_payload_type(self.payload_type)
        if type(self.payload) is not bytes:
            _schema("payload must be bytes")
        decode(self.payload)  # must be canonical SP-CMP
        _check_signatures(self.signatures)
        object.__setattr__(self, "_raw", encode(self._wire()))

    def _wire(self) -> dict[str, object]:
        sigs = [s.record() for s in self.signatures]
        return {"payload": self.payload, "signatures": sigs, "type": self.payload_type, "v": 1}

    @classmethod
    def from_bytes(cls, data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> SignedEnvelope:
        """Parse an envelope strictly, keeping ``data`` as its exact bytes.

        Raises :class:`DecodeError`: an SP-CMP code for non-canonical bytes (envelope or
        payload) and ``DECODE_SCHEMA`` for a wrong structure or version.
        """
        wire = decode(data, limits=limits)
        if not isinstance(wire, dict) or set(wire) != _ENVELOPE_FIELDS:
            _schema("an envelope is a map of payload, signatures, type and v")
        if type(wire["v"]) is not int or wire["v"] != ENVELOPE_VERSION:
            _schema("unsupported envelope version")
        payload, sigs = wire["payload"], wire["signatures"]
        if type(payload) is not bytes or not isinstance(sigs, list):
            _schema("payload must be bin and signatures an array")
        decode(payload, limits=limits)
        signatures = _check_signatures(tuple(Signature.from_record(s) for s in sigs))
        return _assemble(_check_payload_type(wire["type"]), payload, signatures, data)

    def to_bytes(self) -> bytes:
        """The envelope's exact bytes (as parsed, or as encoded when built)."""
        return self._raw

    @property
    def envelope_id(self) -> bytes:
        """``tagged_hash(Tag.ENVELOPE_ID, to_bytes())``: the id of these exact bytes."""
        return tagged_hash(Tag.ENVELOPE_ID, self._raw)

    @property
    def signer_key_ids(self) -> tuple[bytes, ...]:
        """The key ids the signatures *claim* (unverified), ascending."""
        return tuple(s.key_id for s in self.signatures)

    def unverified_value(self, *, limits: DecodeLimits = DEFAULT_LIMITS) -> Value:
        """The decoded payload WITHOUT any signature check: for diagnostics only."""
        return decode(self.payload, limits=limits)

    def add_signature(self, key: SigningKey) -> SignedEnvelope:
        """A copy co-signed by ``key`` (unchanged if that key id already signed)."""
        if not isinstance(key, SigningKey):
            raise TypeError(f"key must be a SigningKey, not {type(key).__name__}")
        if key.key_id in self.signer_key_ids:
            return self
        sigs = sorted((*self.signatures, _sign(key, self.payload_type, self.payload)), key=_by_id)
        return _assemble(self.payload_type, self.payload, tuple(sigs), None)

    def __repr__(self) -> str:
        signers = [k[:8].hex() for k in self.signer_key_ids]
        size = len(self.payload)
        return (
            f"SignedEnvelope(type={self.payload_type!r}, payload=<{size} bytes>, signers={signers})"
        )


def _assemble(
    payload_type: str, payload: bytes, signatures: tuple[Signature, ...], raw: bytes | None
) -> SignedEnvelope:
    """Build an envelope from already validated parts (no second payload decode)."""
    env = object.__new__(SignedEnvelope)
    object.__setattr__(env, "payload_type", payload_type)
    object.__setattr__(env, "payload", payload)
    object.__setattr__(env, "signatures", signatures)
    object.__setattr__(env, "_raw", encode(env._wire()) if raw is None else raw)
    return env


def _by_id(sig: Signature) -> bytes:
    return sig.key_id


def _sign(key: SigningKey, payload_type: str, payload: bytes) -> Signature:
    ed, ml = key.sign(pre_authentication_encoding(payload_type, payload, key.key_id))
    return Signature(key.key_id, ed, ml)


def sign_envelope(
    payload_type: str, payload_value: object, keys: Sequence[SigningKey]
) -> SignedEnvelope:
    """Encode ``payload_value`` canonically and sign it with every key (each once)."""
    _check_payload_type(payload_type)
    keys = list(keys)  # read once: a generator would be empty after the check
    if not all(isinstance(k, SigningKey) for k in keys):
        raise TypeError("keys must be SigningKey objects: private keys sign, public keys check")
    payload = encode(payload_value)
    unique = {k.key_id: k for k in keys}
    if not unique:
        raise TypeError("sign_envelope needs at least one key")
    sigs = sorted((_sign(k, payload_type, payload) for k in unique.values()), key=_by_id)
    return _assemble(payload_type, payload, tuple(sigs), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdResult:
    """How an envelope fares against a role policy, for reports (never raises).

    ``valid`` are distinct policy keys whose signatures verify over the expected type;
    ``invalid`` are policy keys whose signatures do not; ``unknown`` are key ids outside
    the policy (they count for nothing).
    """

    threshold: int
    valid: tuple[bytes, ...]
    invalid: tuple[bytes, ...]
    unknown: tuple[bytes, ...]
    payload_type_ok: bool

    @property
    def ok(self) -> bool:
        """True when the payload type matches and at least ``threshold`` keys signed."""
        return self.payload_type_ok and len(self.valid) >= self.threshold


def evaluate_envelope(
    envelope: SignedEnvelope, role_policy: RolePolicy, *, payload_type: str
) -> ThresholdResult:
    """Check every signature of ``envelope`` against ``role_policy`` over ``payload_type``.

    Signatures are checked over the *expected* type, so under a wrong type none is valid.
    ``TypeError`` if ``role_policy`` is not a :class:`~swapproto.keys.RolePolicy`.
    """
    if not isinstance(role_policy, RolePolicy):
        raise TypeError(
            f"role_policy must be a RolePolicy (one key: RolePolicy.of([key], 1)), not "
            f"{type(role_policy).__name__}"
        )
    valid: list[bytes] = []
    invalid: list[bytes] = []
    unknown: list[bytes] = []
    for sig in envelope.signatures:
        key = role_policy.keys.get(sig.key_id)
        if key is None:
            unknown.append(sig.key_id)
            continue
        try:
            pae = pre_authentication_encoding(payload_type, envelope.payload, sig.key_id)
            key.verify(pae, sig.ed25519, sig.ml_dsa_65)
        except SignatureError:
            invalid.append(sig.key_id)
        else:
            valid.append(sig.key_id)
    return ThresholdResult(
        threshold=role_policy.threshold,
        valid=tuple(sorted(set(valid))),
        invalid=tuple(invalid),
        unknown=tuple(unknown),
        payload_type_ok=envelope.payload_type == payload_type,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedPayload:
    """A payload whose envelope met its role policy: the only trusted way to the value."""

    payload_type: str
    payload: bytes
    value: Value
    signer_key_ids: tuple[bytes, ...]
    envelope_id: bytes


def verify_envelope(
    envelope: SignedEnvelope | bytes,
    role_policy: RolePolicy,
    *,
    payload_type: str,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> VerifiedPayload:
    """Verify an envelope (or its bytes) against a role policy and return its payload.

    Raises :class:`DecodeError` for malformed bytes, :class:`VerificationError` with
    ``VERIFY_PAYLOAD_TYPE`` for another payload type, and :class:`ThresholdError` when
    fewer than ``threshold`` distinct policy keys signed validly; ``TypeError`` if
    ``role_policy`` is not a :class:`~swapproto.keys.RolePolicy` (for one key:
    ``RolePolicy.of([key], 1)``).
    """
    env = (
        envelope
        if isinstance(envelope, SignedEnvelope)
        else SignedEnvelope.from_bytes(envelope, limits=limits)
    )
    if env.payload_type != payload_type:
        raise VerificationError(
            f"payload type {env.payload_type!r} is not the expected {payload_type!r}",
            code=ErrorCode.VERIFY_PAYLOAD_TYPE,
        )
    result = evaluate_envelope(env, role_policy, payload_type=payload_type)
    if not result.ok:
        raise ThresholdError(
            f"{len(result.valid)} of the required {result.threshold} trusted signatures are valid",
            valid=len(result.valid),
            threshold=result.threshold,
            invalid=[k.hex() for k in result.invalid],
            unknown=[k.hex() for k in result.unknown],
        )
    return VerifiedPayload(
        payload_type=env.payload_type,
        payload=env.payload,
        value=decode(env.payload, limits=limits),
        signer_key_ids=result.valid,
        envelope_id=env.envelope_id,
    )
