"""The error hierarchy of swapproto.

Every rejection of input data raises a subclass of :class:`SwapprotoError` whose
``code`` is a stable, machine-readable string from :class:`ErrorCode`. Codes are a
contract: scripts and other implementations match on them, so a code is never
renamed or reused for another meaning (see ``spec/errors.md``).

Messages never contain secret material (keys, salts, passphrases, sealed content).

The sealing errors (:class:`~swapproto.sealing.SealingError`,
:class:`~swapproto.sealing.SealedDataError`, a :class:`VerificationError`, and
:class:`~swapproto.sealing.NotARecipientError`) are defined in :mod:`swapproto.sealing`;
they and every class here are re-exported from :mod:`swapproto`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = [
    "DecodeError",
    "EncodeError",
    "ErrorCode",
    "InputError",
    "KeyFileError",
    "LocalProtocolError",
    "PolicyError",
    "ProofError",
    "ProtocolError",
    "RemoteProtocolError",
    "SignatureError",
    "SwapprotoError",
    "ThresholdError",
    "VerificationError",
]


class ErrorCode(StrEnum):
    """Every stable error code. The part before the dot names the family."""

    # encoding: values the encoder refuses
    ENCODE_TYPE = "encode.unsupported_type"
    ENCODE_FLOAT = "encode.float"
    ENCODE_KEY_TYPE = "encode.non_str_key"
    ENCODE_NOT_NFC = "encode.non_nfc_string"
    ENCODE_NOT_UTF8 = "encode.non_utf8_string"
    ENCODE_INT_RANGE = "encode.int_out_of_range"
    ENCODE_DEPTH = "encode.too_deep"
    # decoding: bytes the decoder rejects
    DECODE_TRUNCATED = "decode.truncated"
    DECODE_TRAILING = "decode.trailing_bytes"
    DECODE_DUPLICATE_KEY = "decode.duplicate_key"
    DECODE_UNSORTED_KEYS = "decode.unsorted_keys"
    DECODE_KEY_TYPE = "decode.non_str_key"
    DECODE_FLOAT = "decode.float"
    DECODE_EXT = "decode.ext_type"
    DECODE_NON_SHORTEST = "decode.non_shortest_form"
    DECODE_INVALID_UTF8 = "decode.invalid_utf8"
    DECODE_NOT_NFC = "decode.non_nfc_string"
    DECODE_RESERVED = "decode.reserved_byte"
    DECODE_DEPTH = "decode.too_deep"
    DECODE_LIMIT = "decode.limit_exceeded"
    DECODE_SCHEMA = "decode.schema"
    # verification: signatures, thresholds, proofs, signed objects
    VERIFY_SIGNATURE = "verify.bad_signature"
    VERIFY_THRESHOLD = "verify.threshold_not_met"
    VERIFY_UNKNOWN_KEY = "verify.unknown_key"
    VERIFY_PAYLOAD_TYPE = "verify.wrong_payload_type"
    VERIFY_KEY_ID = "verify.key_id_mismatch"
    VERIFY_PROOF = "verify.proof_invalid"
    VERIFY_ROOT = "verify.root_mismatch"
    VERIFY_RANGE = "verify.out_of_range"
    VERIFY_MANIFEST = "verify.manifest_invalid"
    VERIFY_DISCLOSURE = "verify.disclosure_invalid"
    VERIFY_AMENDMENT = "verify.amendment_invalid"
    VERIFY_DIGEST = "verify.digest_mismatch"
    VERIFY_MESSAGE = "verify.message_invalid"
    VERIFY_COMMITMENT = "verify.commitment_mismatch"
    VERIFY_TRANSCRIPT = "verify.transcript_failed"
    # keys and key files
    KEY_FORMAT = "key.bad_format"
    KEY_PERMISSIONS = "key.insecure_permissions"
    KEY_PASSPHRASE = "key.bad_passphrase"  # noqa: S105 (an error code, not a secret)
    KEY_ALGORITHM = "key.unsupported_algorithm"
    KEY_EXISTS = "key.file_exists"
    # trust policies and agreed terms
    POLICY_INVALID = "policy.invalid"
    POLICY_RULE = "policy.rule_violated"
    # protocol state machines
    PROTOCOL_LOCAL = "protocol.local"
    PROTOCOL_REMOTE = "protocol.remote"
    # input files (CSV, JSON Lines, TOML) and record validation
    INPUT_INVALID = "input.invalid"
    INPUT_RECORD = "input.invalid_record"
    INPUT_DUPLICATE = "input.duplicate"
    INPUT_UNKNOWN_KIND = "input.unknown_kind"
    INPUT_KIND_EXISTS = "input.kind_exists"
    INPUT_IO = "input.io"
    INPUT_USAGE = "input.usage"
    INPUT_INTERRUPTED = "input.interrupted"
    # sealing: HPKE-sealed containers (spec/sealing.md)
    SEAL_INVALID = "seal.invalid"
    SEAL_TRUNCATED = "seal.truncated"
    SEAL_CONTEXT = "seal.context_mismatch"
    SEAL_AUTH = "seal.authentication_failed"
    SEAL_HEADER_MAC = "seal.header_mac_mismatch"
    SEAL_NOT_RECIPIENT = "seal.not_a_recipient"
    SEAL_REQUEST = "seal.invalid_request"


class SwapprotoError(Exception):
    """Base class of every error swapproto raises for bad input or failed checks.

    ``code`` is stable and machine-readable; ``details`` holds non-secret context
    (counts, indices, hex digests) for reports.
    """

    default_code: ErrorCode = ErrorCode.INPUT_INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code: ErrorCode = code if code is not None else self.default_code
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


class EncodeError(SwapprotoError):
    """A value is outside the SP-CMP canonical encoding profile."""

    default_code = ErrorCode.ENCODE_TYPE


class DecodeError(SwapprotoError):
    """Bytes are not a canonical SP-CMP encoding, or exceed a decoding limit."""

    default_code = ErrorCode.DECODE_SCHEMA

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, offset: int | None = None, **d: Any
    ) -> None:
        super().__init__(message, code=code, offset=offset, **d)
        self.offset = offset


class VerificationError(SwapprotoError):
    """A signature, threshold, proof or signed object failed verification."""

    default_code = ErrorCode.VERIFY_SIGNATURE


class SignatureError(VerificationError):
    """A signature does not verify, or is by a key the verifier does not know."""

    default_code = ErrorCode.VERIFY_SIGNATURE


class ThresholdError(VerificationError):
    """Fewer distinct trusted keys signed than the policy's threshold requires."""

    default_code = ErrorCode.VERIFY_THRESHOLD

    def __init__(self, message: str, *, valid: int, threshold: int, **d: Any) -> None:
        super().__init__(
            message, code=ErrorCode.VERIFY_THRESHOLD, valid=valid, threshold=threshold, **d
        )
        self.valid = valid
        self.threshold = threshold


class ProofError(VerificationError):
    """A Merkle proof does not lead to the expected root, or is malformed."""

    default_code = ErrorCode.VERIFY_PROOF

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        expected: bytes | None = None,
        calculated: bytes | None = None,
        **d: Any,
    ) -> None:
        super().__init__(
            message,
            code=code,
            expected=expected.hex() if expected is not None else None,
            calculated=calculated.hex() if calculated is not None else None,
            **d,
        )
        self.expected = expected
        self.calculated = calculated


class KeyFileError(SwapprotoError):
    """A key or key file is malformed, unreadable, insecure or locked."""

    default_code = ErrorCode.KEY_FORMAT


class PolicyError(SwapprotoError):
    """A trust policy or the agreed terms are invalid, or a rule is violated."""

    default_code = ErrorCode.POLICY_INVALID


class ProtocolError(SwapprotoError):
    """An illegal move in the exchange protocol."""

    default_code = ErrorCode.PROTOCOL_LOCAL


class LocalProtocolError(ProtocolError):
    """The local side attempted an illegal move."""

    default_code = ErrorCode.PROTOCOL_LOCAL


class RemoteProtocolError(ProtocolError):
    """The peer sent a message that is illegal in the current state."""

    default_code = ErrorCode.PROTOCOL_REMOTE


class InputError(SwapprotoError):
    """Input files or records (CSV, JSON Lines, TOML, records) are invalid."""

    default_code = ErrorCode.INPUT_INVALID
