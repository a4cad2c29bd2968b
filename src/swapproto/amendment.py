"""Amendments: version n+1 of a manifest, linked to version n and signed.

An *append* amendment only adds entries: the old tree is a prefix of the new one and
the amendment carries an RFC 9162 consistency proof. A *revise* amendment removes
entries, each with a reason code, and may add others: the new manifest holds the old
entries that were not removed, in order, with their salts, then the additions; anyone
holding both private views checks that with :func:`check_revision`
(``spec/manifest.md`` §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.envelope import SignedEnvelope, sign_envelope, verify_envelope
from swapproto.errors import DecodeError, ErrorCode, InputError, VerificationError
from swapproto.hashing import digest_equal
from swapproto.keys import PublicKey, RolePolicy, SigningKey
from swapproto.manifest import (
    VerifiedHeader,
    decode_entry,
    role_policy_for,
    signers_policy,
    verify_header,
)
from swapproto.merkle import StreamingRootBuilder, verify_consistency
from swapproto.records import record_id

__all__ = [
    "AMENDMENT_FORMAT",
    "AMENDMENT_TYPE",
    "AmendmentMode",
    "Removal",
    "RemovalReason",
    "VerifiedAmendment",
    "check_revision",
    "make_amendment",
    "require_citation",
    "verify_amendment",
]

AMENDMENT_TYPE: Final = "swapproto/manifest-amendment/v1"
AMENDMENT_FORMAT: Final = "swapproto-amendment/1"
AMENDMENT_LIMITS: Final = DecodeLimits(
    max_input=64 * 1024 * 1024,
    max_depth=5,
    max_str=4096,
    max_bin=32 * 1024 * 1024,
    max_array=1_000_000,
    max_map=8,
)
_FILE_KEYS: Final = ["amendment", "current", "format", "previous"]
_PAYLOAD_KEYS: Final = ["cites", "consistency", "current", "mode", "previous", "removed"]


class AmendmentMode(StrEnum):
    """How version n+1 relates to version n."""

    APPEND = "append"
    REVISE = "revise"


class RemovalReason(StrEnum):
    """Why an entry left the list (signed with each :class:`Removal`)."""

    RELEASED_EARLIER = "released_earlier"
    DECEASED = "deceased"
    TRANSFERRED = "transferred"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Removal:
    """One removed entry of version n, with its record id and the signed reason.

    ``index`` is the entry's 0-based index in version n.
    """

    index: int
    record_id: str
    reason: RemovalReason

    def __post_init__(self) -> None:
        if type(self.index) is not int:
            raise TypeError("a removal's index is an int (the entry's position from 0)")
        if self.index < 0:
            raise InputError("a removal's index counts from 0", code=ErrorCode.INPUT_INVALID)
        if type(self.record_id) is not str:
            raise TypeError("a removal's record_id is a str")
        if not isinstance(self.reason, RemovalReason):
            raise TypeError("a removal's reason is a RemovalReason")

    def to_value(self) -> dict[str, Any]:
        """Canonical value."""
        return {"id": self.record_id, "index": self.index, "reason": self.reason.value}


@dataclass(frozen=True, slots=True)
class VerifiedAmendment:
    """An amendment whose three signatures and links verified.

    ``previous`` and ``current`` are the verified headers of versions n and n+1 (their
    ``digest`` names those exact versions); ``removed`` is ascending by index; ``cites``
    is the message id of the commit the amendment answers to, or None for a list bound
    to no exchange.
    """

    previous: VerifiedHeader
    current: VerifiedHeader
    mode: AmendmentMode
    removed: tuple[Removal, ...]
    cites: bytes | None


def _invalid(message: str) -> VerificationError:
    return VerificationError(message, code=ErrorCode.VERIFY_AMENDMENT)


def require_citation(previous: VerifiedHeader, cites: bytes | None) -> None:
    """An amendment of a list bound to an exchange must cite the commit it amends.

    The commit carried the issuer's signed statement (under ``all-for-all``, that the
    list was complete); citing its message id makes every later change answer to it.
    ``InputError`` when making such an amendment without ``cites``.
    """
    if previous.header.exchange is not None and cites is None:
        raise InputError(
            "an amendment of a list bound to an exchange must cite the id of the commit"
            " that carried the list's statement",
            code=ErrorCode.INPUT_INVALID,
        )
    if cites is not None and (type(cites) is not bytes or len(cites) != 32):
        raise InputError("cites must be a 32-byte message id", code=ErrorCode.INPUT_INVALID)


def make_amendment(
    previous_header: bytes,
    current_header: bytes,
    *,
    mode: AmendmentMode,
    keys: Sequence[SigningKey],
    consistency: Sequence[bytes] = (),
    removed: Iterable[Removal] = (),
    cites: bytes | None = None,
) -> bytes:
    """Sign the link from version n to n+1 and bundle the three envelopes.

    Low level: :func:`swapproto.amendment_file.amend_manifest_file` writes version n+1
    and calls this. Both header envelopes must be signed by every one of ``keys``
    (else :class:`~swapproto.errors.ThresholdError`); ``consistency`` is the RFC 9162
    consistency proof an ``append`` amendment carries; ``removed`` what a ``revise``
    amendment lists. Raises :class:`~swapproto.errors.InputError` when a list bound to
    an exchange is amended without ``cites`` (:func:`require_citation`). Nothing checks
    here that the mode's evidence holds: verify the result with
    :func:`verify_amendment`.
    """
    if not isinstance(mode, AmendmentMode):
        raise TypeError(f"mode must be an AmendmentMode, not {type(mode).__name__}")
    issuer = signers_policy(keys)
    prev = verify_header(previous_header, issuer)
    cur = verify_header(current_header, issuer)
    require_citation(prev, cites)
    payload = {
        "cites": cites,
        "consistency": list(consistency),
        "current": cur.digest,
        "mode": mode.value,
        "previous": prev.digest,
        "removed": [r.to_value() for r in sorted(removed, key=lambda r: r.index)],
    }
    envelope = sign_envelope(AMENDMENT_TYPE, payload, list(keys))
    return encode(
        {
            "amendment": envelope.to_bytes(),
            "current": current_header,
            "format": AMENDMENT_FORMAT,
            "previous": previous_header,
        }
    )


def _parse_file(data: bytes) -> dict[str, Any]:
    try:
        value: Any = decode(data, limits=AMENDMENT_LIMITS)
    except DecodeError as exc:
        raise VerificationError(
            f"amendment is not canonical: {exc}", code=ErrorCode.VERIFY_AMENDMENT
        ) from exc
    if type(value) is not dict or list(value) != _FILE_KEYS or value["format"] != AMENDMENT_FORMAT:
        raise _invalid("not a swapproto amendment of format 1")
    if any(type(value[k]) is not bytes for k in ("amendment", "current", "previous")):
        raise _invalid("amendment parts must be byte strings")
    return value


def _parse_removed(items: object, old_count: int) -> tuple[Removal, ...]:
    if type(items) is not list:
        raise _invalid("removed must be a list")
    result: list[Removal] = []
    for item in items:
        if type(item) is not dict or list(item) != ["id", "index", "reason"]:
            raise _invalid("each removal must be {id, index, reason}")
        index, rid, reason = item["index"], item["id"], item["reason"]
        # type checks first: a list or map would make the membership test raise
        if (
            type(index) is not int
            or type(rid) is not str
            or type(reason) is not str
            or reason not in set(RemovalReason)
        ):
            raise _invalid("removal fields have the wrong types or an unknown reason")
        if not 0 <= index < old_count or (result and index <= result[-1].index):
            raise _invalid("removed indices must be in range and strictly increasing")
        result.append(Removal(index, rid, RemovalReason(reason)))
    return tuple(result)


def _check_link(prev: VerifiedHeader, cur: VerifiedHeader) -> None:
    p, c = prev.header, cur.header
    if c.previous != prev.digest or c.version != p.version + 1:
        raise _invalid("the new header does not link to the previous version")
    same = (p.exchange, p.issuer, p.list_name, p.kind) == (
        c.exchange,
        c.issuer,
        c.list_name,
        c.kind,
    )
    if not same:
        raise _invalid("an amendment cannot change the exchange, issuer, list or kind")


def verify_amendment(data: bytes, issuer: PublicKey | RolePolicy) -> VerifiedAmendment:
    """Verify an amendment file: signatures, the version link and the mode's evidence.

    ``issuer`` is the issuer's public key or role policy; both headers and the
    amendment itself must meet it. Returns a :class:`VerifiedAmendment`; raises
    :class:`~swapproto.errors.VerificationError` (``verify.amendment_invalid`` for a
    malformed file, a broken link, a changed exchange, issuer, list or kind, or a
    missing citation; :class:`~swapproto.errors.ThresholdError` for a signature that
    does not meet ``issuer``; :class:`~swapproto.errors.ProofError` for an ``append``
    whose consistency proof fails) or :class:`~swapproto.errors.DecodeError` for a
    malformed header envelope.

    Security: this says only that the issuer signed a link between two versions. It
    does not say that the manifest files you hold are those versions: compare their
    verified header digests with ``result.previous.digest`` and
    ``result.current.digest``. For a ``revise`` amendment only the counts are checked
    here; that the kept entries really were kept needs both private views
    (:func:`check_revision`). ``cites`` is not checked against any exchange (the
    ``swapproto check --exchange`` command does that), and ``created_at`` is not
    compared: version n+1 may claim an earlier time than version n.
    """
    value = _parse_file(data)
    policy = role_policy_for(issuer)
    prev = verify_header(value["previous"], policy)
    cur = verify_header(value["current"], policy)
    _check_link(prev, cur)
    envelope = SignedEnvelope.from_bytes(value["amendment"])
    payload: Any = verify_envelope(envelope, policy, payload_type=AMENDMENT_TYPE).value
    if type(payload) is not dict or list(payload) != _PAYLOAD_KEYS:
        raise _invalid("amendment payload fields are not those of format 1")
    if payload["previous"] != prev.digest or payload["current"] != cur.digest:
        raise _invalid("the amendment names other header versions")
    if type(payload["mode"]) is not str or payload["mode"] not in set(AmendmentMode):
        raise _invalid("unknown amendment mode")
    mode = AmendmentMode(payload["mode"])
    cites = payload["cites"]
    if cites is not None and (type(cites) is not bytes or len(cites) != 32):
        raise _invalid("cites must be nil or a 32-byte digest")
    if prev.header.exchange is not None and cites is None:
        raise _invalid("an amendment of a list bound to an exchange must cite its commit")
    removed = _parse_removed(payload["removed"], prev.header.count)
    proof = payload["consistency"]
    if type(proof) is not list or any(type(p) is not bytes for p in proof):
        raise _invalid("consistency must be a list of byte strings")
    if mode is AmendmentMode.APPEND:
        if removed:
            raise _invalid("an append amendment removes nothing")
        verify_consistency(
            prev.header.count, cur.header.count, proof, prev.header.root, cur.header.root
        )
    else:
        if proof or not removed:
            raise _invalid("a revise amendment lists removals and carries no consistency proof")
        if cur.header.count < prev.header.count - len(removed):
            raise _invalid("the new version lost entries that were not listed as removed")
    return VerifiedAmendment(prev, cur, mode, removed, cites)


def check_revision(
    amendment: VerifiedAmendment, old_leaves: Iterable[bytes], new_leaves: Iterable[bytes]
) -> None:
    """With both private views, check that a revision kept every entry not removed.

    The leaves are first tied to the signed headers: the old leaves must be exactly
    ``amendment.previous``'s (their count and Merkle root), the new ones exactly
    ``amendment.current``'s, additions included (``verify.root_mismatch`` otherwise).
    Then old entries not removed must appear first in the new version, in order, with
    the same kind, record and salt (their index changes), and removed entries' ids must
    match (``verify.amendment_invalid`` naming the first entry that breaks this;
    ``verify.manifest_invalid`` for a leaf that is not a canonical entry). Entries are
    not schema-checked here: :func:`swapproto.manifest_file.verify_manifest_file` does
    that.
    """
    old_tree, new_tree = StreamingRootBuilder(), StreamingRootBuilder()
    removed = {r.index: r for r in amendment.removed}
    new_iter = iter(new_leaves)
    for old_index, old_leaf in enumerate(old_leaves):
        old_tree.add_leaf(old_leaf)
        old = decode_entry(old_leaf)
        if old_index in removed:
            if removed[old_index].record_id != record_id(old.kind, old.record):
                raise _invalid(f"removal of entry {old_index} names the wrong record id")
            continue
        new_leaf = next(new_iter, None)
        if new_leaf is None:
            raise _invalid(f"entry {old_index} is missing from the new version")
        new_tree.add_leaf(new_leaf)
        new = decode_entry(new_leaf)
        if (new.kind, new.record, new.salt) != (old.kind, old.record, old.salt):
            raise _invalid(f"entry {old_index} changed without being removed")
    new_tree.add_leaves(new_iter)  # the additions
    for tree, verified, which in (
        (old_tree, amendment.previous, "old"),
        (new_tree, amendment.current, "new"),
    ):
        header = verified.header
        if tree.size != header.count or not digest_equal(tree.root(), header.root):
            raise VerificationError(
                f"the {which} leaves are not those of the signed {which} header",
                code=ErrorCode.VERIFY_ROOT,
            )
