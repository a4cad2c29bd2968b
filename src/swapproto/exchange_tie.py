"""Tie a disclosure or an amendment to what its issuer committed and revealed in an exchange.

A disclosure (or an amendment) verifies alone against the issuer's keys; that only says
the issuer signed *some* version of a list. Tied to an exchange, it must belong to the
list the issuer committed to and revealed there: a disclosure's header digest must be
the revealed header's (or an amended version's), an amendment must cite the issuer's
commit of that list and start from the revealed version. ``after`` gives earlier
amendments of the same list, oldest first, so that later versions are tied too. Before
the list is revealed nothing can be tied: the commitment hides the header
(``spec/handshake.md`` §3.4).

The observer is the exchange as replayed from its messages
(:meth:`swapproto.exchange_dir.ExchangeDir.observer`, or an
:class:`~swapproto.handshake.Observer` fed the messages). Every refusal is a
:class:`~swapproto.errors.VerificationError` (``verify.disclosure_invalid`` or
``verify.amendment_invalid``), or the error of the verification that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from swapproto.amendment import AMENDMENT_LIMITS, VerifiedAmendment, verify_amendment
from swapproto.disclosure import VerifiedDisclosure, disclosure_issuer, verify_disclosure
from swapproto.encoding import decode
from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, InputError, SwapprotoError, VerificationError
from swapproto.handshake import Observer
from swapproto.hashing import fingerprint
from swapproto.manifest import ManifestHeader, VerifiedHeader

__all__ = ["ListVersions", "tie_amendment", "tie_disclosure"]

Earlier = Sequence[tuple[str, bytes]]
"""Earlier amendments of the list, oldest first, each as ``(label for messages, bytes)``."""


@dataclass(frozen=True, slots=True)
class ListVersions:
    """The versions of one party's list tied to an exchange: the revealed one, then each
    amended version given as ``after``, in order."""

    where: str
    """How the exchange is named in messages (a directory, for example)."""
    party_name: str
    """The party's name in the terms."""
    issuer: str
    """``a`` or ``b``."""
    list_name: str
    commit_id: bytes
    """The message id of the issuer's commit of the list (what amendments cite)."""
    versions: tuple[VerifiedHeader, ...]

    def describe(self, digest: bytes) -> str:
        """How the version with header ``digest`` is tied, for people (``InputError``,
        ``input.invalid``, for a digest that is none of these versions)."""
        digests = [v.digest for v in self.versions]
        if digest not in digests:
            raise InputError("not one of the list's tied versions", code=ErrorCode.INPUT_INVALID)
        index = digests.index(digest)
        if index == 0:
            return f"as revealed in {self.where}"
        return f"amended {index} time(s) from the version revealed in {self.where}"

    def is_revealed(self, digest: bytes) -> bool:
        """Whether ``digest`` is the header digest of the revealed version itself."""
        return digest == self.versions[0].digest


def tie_disclosure(
    observer: Observer, data: bytes, *, after: Earlier = (), where: str = "the exchange"
) -> tuple[VerifiedDisclosure, ListVersions]:
    """Verify disclosure ``data`` under the terms' keys for its issuer and tie it to the
    list that issuer revealed in the exchange (or a version amended by ``after``)."""
    code = ErrorCode.VERIFY_DISCLOSURE
    issuer = _party_of(disclosure_issuer(data), "disclosure", code)
    result = verify_disclosure(data, observer.terms.trust_policy().role(issuer))
    header = result.verified.header
    if header.exchange != observer.exchange_id:
        raise _fail("the disclosed list belongs to another exchange", code)
    tie = _chain(observer, where, issuer, header.list_name, "disclosure", after)
    if result.verified.digest not in {v.digest for v in tie.versions}:
        revealed = tie.versions[0]
        raise _fail(
            f"the disclosure is from a version of party {issuer}'s list {header.list_name!r}"
            f" that was not revealed in {where}: header {fingerprint(result.verified.digest)}"
            f" (version {header.version}), revealed header {fingerprint(revealed.digest)}"
            f" (version {revealed.header.version}); an amended version is tied by giving its"
            " amendments (after=, or --after on the command line)",
            code,
        )
    return result, tie


def tie_amendment(
    observer: Observer, data: bytes, *, after: Earlier = (), where: str = "the exchange"
) -> tuple[VerifiedAmendment, ListVersions]:
    """Verify amendment ``data`` under the terms' keys for its issuer and tie it to the
    list that issuer committed and revealed: it must cite that commit and start from the
    revealed version (or the last of ``after``)."""
    issuer, amendment = _verified_amendment(observer, data)
    previous = amendment.previous.header
    if previous.exchange != observer.exchange_id:
        raise _fail("the amended list belongs to another exchange", ErrorCode.VERIFY_AMENDMENT)
    tie = _chain(observer, where, issuer, previous.list_name, "amendment", after)
    return amendment, _link(tie, issuer, amendment, "the amendment")


def _fail(message: str, code: ErrorCode) -> VerificationError:
    return VerificationError(message, code=code)


def _party_of(claimed: str, what: str, code: ErrorCode) -> str:
    if claimed not in ("a", "b"):
        raise _fail(f"the {what}'s issuer {claimed!r} is not a party", code)
    return claimed


def _amendment_issuer(data: bytes) -> str:
    """The issuer an amendment's previous header *claims* (to choose the policy that
    must then verify all of it)."""
    try:
        value: Any = decode(data, limits=AMENDMENT_LIMITS)
        previous = value.get("previous") if type(value) is dict else None
        if type(previous) is not bytes:
            raise _fail("not a swapproto amendment of format 1", ErrorCode.VERIFY_AMENDMENT)
        envelope = SignedEnvelope.from_bytes(previous)
        return ManifestHeader.from_payload(envelope.unverified_value()).issuer
    except SwapprotoError as exc:
        raise _fail(
            f"not an amendment that can be read: {exc.args[0]}", ErrorCode.VERIFY_AMENDMENT
        ) from exc


def _verified_amendment(observer: Observer, data: bytes) -> tuple[str, VerifiedAmendment]:
    issuer = _party_of(_amendment_issuer(data), "amendment", ErrorCode.VERIFY_AMENDMENT)
    policy = observer.terms.trust_policy().role(issuer)
    return issuer, verify_amendment(data, policy)


def _revealed(
    observer: Observer, where: str, issuer: str, list_name: str, what: str
) -> ListVersions:
    """The revealed version of ``issuer``'s list, or a clear refusal."""
    code = ErrorCode.VERIFY_AMENDMENT if what == "amendment" else ErrorCode.VERIFY_DISCLOSURE
    name = f"party {issuer}'s list {list_name!r}"
    if list_name not in observer.commits(issuer):
        raise _fail(f"{name} was never committed in {where}: the {what} is not of it", code)
    if list_name not in observer.reveals(issuer):
        raise _fail(
            f"{name} is committed but not revealed yet in {where}: the {what} cannot be tied"
            " to the committed list until it is revealed (the commitment hides the header)",
            code,
        )
    return ListVersions(
        where,
        observer.terms.party_name(issuer),
        issuer,
        list_name,
        observer.commits(issuer)[list_name].id,
        (observer.revealed_header(issuer, list_name),),
    )


def _link(tie: ListVersions, issuer: str, amendment: VerifiedAmendment, label: str) -> ListVersions:
    """``tie`` extended by an amendment that must continue it: same issuer and list,
    citing the issuer's commit, starting from the latest tied version."""
    code = ErrorCode.VERIFY_AMENDMENT
    previous = amendment.previous.header
    if (issuer, previous.list_name) != (tie.issuer, tie.list_name):
        raise _fail(
            f"{label} amends party {issuer}'s list {previous.list_name!r}, not party"
            f" {tie.issuer}'s list {tie.list_name!r}",
            code,
        )
    if amendment.cites != tie.commit_id:
        cited = amendment.cites.hex()[:16] if amendment.cites else "nothing"
        raise _fail(
            f"{label} cites {cited}, not party {tie.issuer}'s commit of {tie.list_name!r}"
            f" in {tie.where} ({tie.commit_id.hex()[:16]})",
            code,
        )
    latest = tie.versions[-1]
    if amendment.previous.digest != latest.digest:
        where = "the revealed version" if len(tie.versions) == 1 else "the last earlier one"
        raise _fail(
            f"{label} starts from version {previous.version} (header"
            f" {fingerprint(amendment.previous.digest)}), not from {where}, version"
            f" {latest.header.version} (header {fingerprint(latest.digest)}); give the"
            " earlier amendments (after=, or --after on the command line), oldest first",
            code,
        )
    return ListVersions(
        tie.where,
        tie.party_name,
        tie.issuer,
        tie.list_name,
        tie.commit_id,
        (*tie.versions, amendment.current),
    )


def _chain(
    observer: Observer, where: str, issuer: str, list_name: str, what: str, after: Earlier
) -> ListVersions:
    """The revealed version of the list, extended by each earlier amendment."""
    tie = _revealed(observer, where, issuer, list_name, what)
    for label, data in after:
        earlier_issuer, earlier = _verified_amendment(observer, data)
        tie = _link(tie, earlier_issuer, earlier, label)
    return tie
