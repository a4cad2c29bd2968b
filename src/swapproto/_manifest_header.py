"""The signed header of a manifest version (``spec/manifest.md`` §3).

The header names the exchange, issuer, list and record kind and carries the entry
count and the Merkle root; the issuer signs it in an envelope of type
:data:`HEADER_TYPE`. Re-exported by :mod:`swapproto.manifest`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from swapproto._recordspec import FieldError, check_text
from swapproto.encoding import encode
from swapproto.envelope import SignedEnvelope, VerifiedPayload, verify_envelope
from swapproto.errors import ErrorCode, InputError, VerificationError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import PublicKey, RolePolicy, SigningKey

__all__ = [
    "FORMAT_VERSION",
    "HEADER_TYPE",
    "MAX_LABEL",
    "ManifestHeader",
    "VerifiedHeader",
    "check_label",
    "header_digest",
    "invalid",
    "role_policy_for",
    "signers_policy",
    "verify_header",
]

HEADER_TYPE: Final = "swapproto/manifest-header/v1"
"""The envelope payload type of a signed manifest header."""
FORMAT_VERSION: Final = 1
MAX_LABEL: Final = 200
"""The longest list name, issuer or kind label, in characters."""
_HEADER_KEYS: Final = frozenset(
    {
        "count",
        "created_at",
        "exchange",
        "format",
        "issuer",
        "kind",
        "list",
        "previous",
        "root",
        "version",
    }
)


def invalid(message: str) -> VerificationError:
    """A :class:`VerificationError` with code ``verify.manifest_invalid``."""
    return VerificationError(message, code=ErrorCode.VERIFY_MANIFEST)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestHeader:
    """The signed header of a manifest version."""

    exchange: bytes | None
    issuer: str
    list_name: str
    kind: str
    count: int
    root: bytes
    version: int = 1
    previous: bytes | None = None
    created_at: int = 0

    def to_payload(self) -> dict[str, Any]:
        """The canonical payload value (``spec/manifest.md`` §3)."""
        return {
            "count": self.count,
            "created_at": self.created_at,
            "exchange": self.exchange,
            "format": FORMAT_VERSION,
            "issuer": self.issuer,
            "kind": self.kind,
            "list": self.list_name,
            "previous": self.previous,
            "root": self.root,
            "version": self.version,
        }

    @classmethod
    def from_payload(cls, value: object) -> ManifestHeader:
        """Parse a *verified* payload value; raises on any structural problem.

        Raises :class:`~swapproto.errors.VerificationError` (``verify.manifest_invalid``).
        Parsing is not verifying: for a header from outside use :func:`verify_header`,
        which checks the signatures first and calls this on what they cover.
        """
        if type(value) is not dict or set(value) != _HEADER_KEYS:
            raise invalid("header fields are not exactly those of format 1")
        # type first: True == 1, and would be a second signed encoding of format 1
        if type(value["format"]) is not int or value["format"] != FORMAT_VERSION:
            raise invalid(f"unsupported manifest format {value['format']!r}")
        checks = (
            ("count", int, None),
            ("created_at", int, None),
            ("version", int, None),
            ("issuer", str, None),
            ("kind", str, None),
            ("list", str, None),
            ("root", bytes, 32),
        )
        for name, typ, size in checks:
            if type(value[name]) is not typ or (size is not None and len(value[name]) != size):
                raise invalid(f"header field {name!r} has the wrong type or size")
        for name in ("issuer", "kind", "list"):
            try:
                check_label(value[name])
            except InputError as exc:
                raise invalid(f"header field {name!r} {exc.details['reason']}") from None
        for name in ("exchange", "previous"):
            if value[name] is not None and (
                type(value[name]) is not bytes or len(value[name]) != 32
            ):
                raise invalid(f"header field {name!r} must be nil or 32 bytes")
        if value["count"] < 0 or value["version"] < 1 or value["created_at"] < 0:
            raise invalid("header count, version or created_at out of range")
        if (value["version"] == 1) != (value["previous"] is None):
            raise invalid("version 1 has no previous header; later versions must have one")
        return cls(
            exchange=value["exchange"],
            issuer=value["issuer"],
            list_name=value["list"],
            kind=value["kind"],
            count=value["count"],
            root=value["root"],
            version=value["version"],
            previous=value["previous"],
            created_at=value["created_at"],
        )

    @property
    def digest(self) -> bytes:
        """``tagged_hash(MANIFEST_HEADER, encode(payload))``: what amendments link to."""
        return header_digest(encode(self.to_payload()))


def check_label(value: str) -> str:
    """Check a list name, issuer or kind label as shown to people (``spec/manifest.md`` §3).

    Non-empty, at most 200 characters, NFC, no control, formatting or bidirectional
    characters, no leading or trailing white space. ``InputError`` otherwise
    (``TypeError`` for anything but a ``str``).
    """
    if not isinstance(value, str):
        raise TypeError(f"a label is a str, not {type(value).__name__}")
    try:
        return check_text(value, MAX_LABEL)
    except FieldError as exc:
        raise InputError(
            f"label {value[:64]!r} {exc.reason}", code=ErrorCode.INPUT_INVALID, reason=exc.reason
        ) from None


def header_digest(payload_bytes: bytes) -> bytes:
    """The digest of a header's canonical payload bytes."""
    return tagged_hash(Tag.MANIFEST_HEADER, payload_bytes)


@dataclass(frozen=True, slots=True)
class VerifiedHeader:
    """A header whose envelope verified under the issuer's policy.

    ``header`` is the parsed payload, ``envelope`` the signed envelope as received and
    ``verified`` the envelope check's result (signer key ids, exact payload bytes).
    """

    header: ManifestHeader
    envelope: SignedEnvelope
    verified: VerifiedPayload

    @property
    def digest(self) -> bytes:
        """The header digest, computed over the payload bytes that were signed."""
        return header_digest(self.verified.payload)


def role_policy_for(issuer: PublicKey | RolePolicy) -> RolePolicy:
    """A policy from one public key (threshold 1), or the policy given; ``TypeError``
    for anything else (a whole trust policy: pick the role, ``policy.role("a")``)."""
    if isinstance(issuer, RolePolicy):
        return issuer
    if not isinstance(issuer, PublicKey):
        raise TypeError(
            "the issuer is a PublicKey or a RolePolicy (such as"
            f' terms.trust_policy().role("a")), not {type(issuer).__name__}'
        )
    return RolePolicy.of([issuer], 1)


def signers_policy(keys: Iterable[SigningKey]) -> RolePolicy:
    """The policy "every one of these keys signed" (to re-check one's own output)."""
    public = [k.public_key for k in keys]
    return RolePolicy.of(public, len({k.key_id for k in public}))


def verify_header(
    envelope: SignedEnvelope | bytes, issuer: PublicKey | RolePolicy
) -> VerifiedHeader:
    """Verify a header envelope's signatures, then parse the payload it signed.

    ``issuer`` is one public key (threshold 1) or a role policy. Raises
    :class:`~swapproto.errors.DecodeError` for malformed envelope bytes,
    :class:`~swapproto.errors.ThresholdError` when ``issuer`` did not sign,
    :class:`~swapproto.errors.VerificationError` for another payload type
    (``verify.wrong_payload_type``) or a malformed header (``verify.manifest_invalid``). The
    header says which list this is; the caller checks that it is the list expected.
    """
    env = envelope if isinstance(envelope, SignedEnvelope) else SignedEnvelope.from_bytes(envelope)
    verified = verify_envelope(env, role_policy_for(issuer), payload_type=HEADER_TYPE)
    return VerifiedHeader(ManifestHeader.from_payload(verified.value), env, verified)
