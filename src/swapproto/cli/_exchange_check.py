"""``swapproto check P --exchange XCH``: a disclosure or an amendment, tied to what the
issuer committed and revealed in that exchange (:mod:`swapproto.exchange_tie`), shown to
people or as JSON. ``--after`` gives earlier amendments of the same list, oldest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from swapproto.amendment import AMENDMENT_FORMAT, VerifiedAmendment
from swapproto.cli._common import JsonOpt, exchange_terms
from swapproto.cli._output import Mode, plain, safe, stderr, stdout
from swapproto.cli.amend import amendment_info
from swapproto.cli.disclose import disclosure_info
from swapproto.cli.manifest import _proof_format, _read_proof
from swapproto.disclosure import VerifiedDisclosure
from swapproto.exchange_dir import ExchangeDir
from swapproto.exchange_tie import ListVersions, tie_amendment, tie_disclosure
from swapproto.hashing import fingerprint
from swapproto.manifest import VerifiedHeader

__all__ = ["check_cmd"]

Human = Callable[[], None]


def _disclosure_report(
    result: VerifiedDisclosure, tie: ListVersions
) -> tuple[dict[str, Any], Human]:
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
                plain(f"the list {tie.list_name!r} of party {tie.issuer} ({tie.party_name})"),
                plain(f", version {verified.header.version}, {tie.describe(verified.digest)}"),
            )
        )
        _print_fingerprints(verified)
        for entry in result.entries:
            stdout.print(plain(f"entry {entry.index}"))
            for line in _field_lines(entry.record):
                stdout.print(line)

    return info, human


def _amendment_report(
    amendment: VerifiedAmendment, tie: ListVersions
) -> tuple[dict[str, Any], Human]:
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
                f" ({tie.party_name})'s list {tie.list_name!r}, version"
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


def _tie_info(tie: ListVersions, verified: VerifiedHeader) -> dict[str, Any]:
    return {
        "party": tie.party_name,
        "issuer": tie.issuer,
        "list": tie.list_name,
        "version": verified.header.version,
        "revealed": tie.is_revealed(verified.digest),
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
    proof: Annotated[Path, typer.Argument(metavar="PROOF", help="A disclosure or amendment file.")],
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
    earlier = [(f"--after {path}", _read_proof(path)) for path in after]
    where = str(exchange)
    if kind == AMENDMENT_FORMAT:
        info, human = _amendment_report(*tie_amendment(observer, data, after=earlier, where=where))
    else:
        info, human = _disclosure_report(
            *tie_disclosure(observer, data, after=earlier, where=where)
        )
    Mode(json_output).emit({"ok": True, **info}, human)
