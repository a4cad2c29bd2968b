"""``swapproto check P --exchange XCH``: a disclosure or an amendment, tied to what the
issuer committed and revealed in that exchange.

A disclosure (or an amendment) verifies alone against the issuer's keys; that only says
the issuer signed *some* version of a list. Here the directory is replayed (as every
party command does, ``spec/handshake.md`` §6.2) and the file must belong to the list the
issuer committed to and revealed: a disclosure's header digest must be the revealed
header's, an amendment must cite the issuer's commit of that list and start from the
revealed version. ``--after`` gives earlier amendments of the same list, oldest first,
so that later versions are tied too. Before the list is revealed nothing can be tied:
the commitment hides the header (§3.4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from swapproto.amendment import (
    AMENDMENT_FORMAT,
    AMENDMENT_LIMITS,
    VerifiedAmendment,
    verify_amendment,
)
from swapproto.cli._common import JsonOpt, exchange_terms
from swapproto.cli._output import Mode, plain, safe, stderr, stdout
from swapproto.cli.amend import amendment_info
from swapproto.cli.disclose import disclosure_info
from swapproto.cli.manifest import _proof_format, _read_proof
from swapproto.disclosure import VerifiedDisclosure, disclosure_issuer, verify_disclosure
from swapproto.encoding import decode
from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, SwapprotoError, VerificationError
from swapproto.exchange_dir import ExchangeDir
from swapproto.handshake import Observer
from swapproto.hashing import fingerprint
from swapproto.manifest import ManifestHeader, VerifiedHeader

__all__ = ["check_cmd"]

Human = Callable[[], None]


@dataclass(frozen=True, slots=True)
class _Tie:
    """The versions of one list tied to an exchange: the revealed one, then each
    amended version given with ``--after``, in order."""

    xch: Path
    terms_name: str
    issuer: str
    list_name: str
    commit_id: bytes
    versions: tuple[VerifiedHeader, ...]

    def describe(self, digest: bytes) -> str:
        """How a version is tied, for people."""
        index = [v.digest for v in self.versions].index(digest)
        if index == 0:
            return f"as revealed in {self.xch}"
        return f"amended {index} time(s) from the version revealed in {self.xch} (--after)"


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


def _revealed(observer: Observer, xch: Path, issuer: str, list_name: str, what: str) -> _Tie:
    """The revealed version of ``issuer``'s list, or a clear refusal."""
    code = ErrorCode.VERIFY_AMENDMENT if what == "amendment" else ErrorCode.VERIFY_DISCLOSURE
    name = f"party {issuer}'s list {list_name!r}"
    if list_name not in observer.commits(issuer):
        raise _fail(f"{name} was never committed in {xch}: the {what} is not of it", code)
    if list_name not in observer.reveals(issuer):
        raise _fail(
            f"{name} is committed but not revealed yet in {xch}: the {what} cannot be tied"
            " to the committed list until it is revealed (the commitment hides the header)",
            code,
        )
    return _Tie(
        xch,
        observer.terms.party_name(issuer),
        issuer,
        list_name,
        observer.commits(issuer)[list_name].id,
        (observer.revealed_header(issuer, list_name),),
    )


def _link(tie: _Tie, issuer: str, amendment: VerifiedAmendment, label: str) -> _Tie:
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
            f" in {tie.xch} ({tie.commit_id.hex()[:16]})",
            code,
        )
    latest = tie.versions[-1]
    if amendment.previous.digest != latest.digest:
        where = "the revealed version" if len(tie.versions) == 1 else "the last --after version"
        raise _fail(
            f"{label} starts from version {previous.version} (header"
            f" {fingerprint(amendment.previous.digest)}), not from {where}, version"
            f" {latest.header.version} (header {fingerprint(latest.digest)}); give the"
            " earlier amendments with --after, oldest first",
            code,
        )
    return _Tie(
        tie.xch,
        tie.terms_name,
        tie.issuer,
        tie.list_name,
        tie.commit_id,
        (*tie.versions, amendment.current),
    )


def _chain(
    observer: Observer, xch: Path, issuer: str, list_name: str, what: str, after: list[Path]
) -> _Tie:
    """The revealed version of the list, extended by each ``--after`` amendment."""
    tie = _revealed(observer, xch, issuer, list_name, what)
    for path in after:
        earlier_issuer, earlier = _verified_amendment(observer, _read_proof(path))
        tie = _link(tie, earlier_issuer, earlier, f"--after {path}")
    return tie


def _check_disclosure(
    observer: Observer, xch: Path, data: bytes, after: list[Path]
) -> tuple[VerifiedDisclosure, _Tie]:
    code = ErrorCode.VERIFY_DISCLOSURE
    issuer = _party_of(disclosure_issuer(data), "disclosure", code)
    result = verify_disclosure(data, observer.terms.trust_policy().role(issuer))
    header = result.verified.header
    if header.exchange != observer.exchange_id:
        raise _fail("the disclosed list belongs to another exchange", code)
    tie = _chain(observer, xch, issuer, header.list_name, "disclosure", after)
    if result.verified.digest not in {v.digest for v in tie.versions}:
        revealed = tie.versions[0]
        raise _fail(
            f"the disclosure is from a version of party {issuer}'s list {header.list_name!r}"
            f" that was not revealed in {xch}: header {fingerprint(result.verified.digest)}"
            f" (version {header.version}), revealed header {fingerprint(revealed.digest)}"
            f" (version {revealed.header.version}); an amended version is tied by giving its"
            " amendments with --after",
            code,
        )
    return result, tie


def _disclosure_report(result: VerifiedDisclosure, tie: _Tie) -> tuple[dict[str, Any], Human]:
    verified = result.verified
    info = {
        **disclosure_info(result),
        **_tie_info(tie, verified),
    }

    def human() -> None:
        n = len(result.entries)
        stdout.print(
            Text.assemble(
                f"OK: {n} {'entry' if n == 1 else 'entries'} on ",
                plain(f"the list {tie.list_name!r} of party {tie.issuer} ({tie.terms_name})"),
                plain(f", version {verified.header.version}, {tie.describe(verified.digest)}"),
            )
        )
        _print_fingerprints(verified)
        for entry in result.entries:
            stdout.print(plain(f"entry {entry.index}"))
            for line in _field_lines(entry.record):
                stdout.print(line)

    return info, human


def _check_amendment(
    observer: Observer, xch: Path, data: bytes, after: list[Path]
) -> tuple[VerifiedAmendment, _Tie]:
    issuer, amendment = _verified_amendment(observer, data)
    previous = amendment.previous.header
    if previous.exchange != observer.exchange_id:
        raise _fail("the amended list belongs to another exchange", ErrorCode.VERIFY_AMENDMENT)
    tie = _chain(observer, xch, issuer, previous.list_name, "amendment", after)
    return amendment, _link(tie, issuer, amendment, "the amendment")


def _amendment_report(amendment: VerifiedAmendment, tie: _Tie) -> tuple[dict[str, Any], Human]:
    current = amendment.current
    info = {
        **amendment_info(amendment),
        **_tie_info(tie, current),
        "cites": tie.commit_id.hex(),
        "previous_header_fingerprint": fingerprint(amendment.previous.digest),
    }

    def human() -> None:
        stdout.print(
            plain(
                f"OK: {amendment.mode.value} amendment of party {tie.issuer}"
                f" ({tie.terms_name})'s list {tie.list_name!r}, version"
                f" {amendment.previous.header.version} -> {current.header.version};"
                f" cites party {tie.issuer}'s commit {tie.commit_id.hex()[:16]}"
            )
        )
        stdout.print(
            plain(
                f"previous version: header {fingerprint(amendment.previous.digest)}"
                f" ({tie.describe(amendment.previous.digest)})"
            )
        )
        stdout.print(plain(f"new version: {current.header.count} entries"))
        _print_fingerprints(current)
        for r in amendment.removed:
            stdout.print(plain(f"removed entry {r.index} ({r.record_id}): {r.reason.value}"))

    return info, human


def _tie_info(tie: _Tie, verified: VerifiedHeader) -> dict[str, Any]:
    return {
        "party": tie.terms_name,
        "issuer": tie.issuer,
        "list": tie.list_name,
        "version": verified.header.version,
        "revealed": verified.digest == tie.versions[0].digest,
        "root_fingerprint": fingerprint(verified.header.root),
        "header_fingerprint": fingerprint(verified.digest),
    }


def _print_fingerprints(verified: VerifiedHeader) -> None:
    stdout.print(f"root fingerprint   [bold]{fingerprint(verified.header.root)}[/]")
    stdout.print(f"header fingerprint [bold]{fingerprint(verified.digest)}[/]")


def _field_lines(record: Mapping[str, Any]) -> Iterator[Text]:
    """``  field: value`` lines for people (lists joined, bytes in hex), as plain text."""
    for name, value in record.items():
        yield plain(f"  {name}: {_value_text(value)}")


def _value_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={_value_text(v)}" for k, v in value.items()) or "—"
    return str(value)


def check_cmd(
    proof: Annotated[Path, typer.Argument(help="A disclosure or amendment file.")],
    exchange: Annotated[
        Path,
        typer.Option("--exchange", help="The exchange directory the list was revealed in."),
    ],
    after: Annotated[
        list[Path],
        typer.Option(
            "--after",
            help="An earlier amendment of the same list (repeatable, oldest first): ties"
            " amended versions to the revealed one.",
        ),
    ] = [],  # noqa: B006
    json_output: JsonOpt = False,
) -> None:
    """Check a disclosure or an amendment against an exchange.

    The file must verify under the keys the terms pin for its issuer and belong to the
    list the issuer committed and revealed in the exchange: a disclosure's header must be
    the revealed one (or an amended version tied with --after); an amendment must cite
    the issuer's commit of the list and start from the revealed version (or the last
    --after one). Exit 1 when it does not, including before the list is revealed.
    """
    data = _read_proof(proof)
    kind = _proof_format(proof, data)
    directory = ExchangeDir(exchange)
    exchange_terms(directory)  # an error in the terms names their file
    observer, skipped = directory.observer()
    for name in skipped:
        stderr.print(
            f"[yellow]warning[/] skipped {safe(name)}: not a valid message of this exchange"
        )
    if kind == AMENDMENT_FORMAT:
        info, human = _amendment_report(*_check_amendment(observer, exchange, data, after))
    else:
        info, human = _disclosure_report(*_check_disclosure(observer, exchange, data, after))
    Mode(json_output).emit({"ok": True, **info}, human)
