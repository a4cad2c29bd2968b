"""How ``swapproto verify`` shows a transcript report, and its ``--expect`` checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from rich.table import Table
from rich.text import Text

from swapproto.cli._output import plain, stdout
from swapproto.errors import ErrorCode, InputError
from swapproto.hashing import fingerprint
from swapproto.transcript import Check, TranscriptReport

__all__ = ["check_expected", "render_report", "with_expectations"]

MAX_EVIDENCE_SHOWN: Final = 10
_BASE32: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_FINGERPRINT_CHARS: Final = 16


def render_report(report: TranscriptReport) -> None:
    """Print a transcript report: checks, fingerprints, lists and the verdict."""
    stdout.print(f"exchange {report.exchange_id.hex() if report.exchange_id else '—'}")
    if report.exchange_id:
        stdout.print(
            f"fingerprint [bold]{fingerprint(report.exchange_id)}[/]"
            f"   state [bold]{report.state}[/]"
        )
    table = Table(title="checks", title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for check in report.checks:
        if check.skipped:
            mark = "[yellow]skipped[/]"
        else:
            mark = "[green]ok[/]" if check.ok else "[bold red]FAIL[/]"
        table.add_row(plain(check.name), mark, _detail_cell(check))
    stdout.print(table)
    if report.named_fingerprints:
        prints = Table(title="fingerprints (read aloud; check with --expect)", title_justify="left")
        prints.add_column("of")
        prints.add_column("fingerprint")
        for name, fp in report.named_fingerprints:
            prints.add_row(plain(name), fp)
        stdout.print(prints)
    if report.lists:
        lists = Table(title="lists", title_justify="left")
        for column in ("list", "side", "entries", "root", "per category"):
            lists.add_column(column)
        for s in report.lists:
            cats = ", ".join(f"{k} {v}" for k, v in sorted(s.per_category.items())) or (
                "—" if s.content_checked else "sealed (not decrypted)"
            )
            lists.add_row(
                plain(s.list_name),
                s.side,
                str(s.count),
                fingerprint(bytes.fromhex(s.root)),
                plain(cats),
            )
        stdout.print(lists)
    skipped = len(report.skipped)
    if not report.ok:
        stdout.print("[bold red]VERIFICATION FAILED[/]")
    elif skipped:
        stdout.print(
            f"[bold green]ALL CHECKS PASS[/] [yellow]({skipped} not evaluated: sealed lists"
            " not opened; give a recipient's --key to check them)[/]"
        )
    else:
        stdout.print("[bold green]ALL CHECKS PASS[/]")


def _detail_cell(check: Check) -> Text:
    """The detail and evidence on separate lines, each part escaped on its own (a
    newline inside one part is shown escaped, never as a line break)."""
    cell = plain(check.detail)
    for item in check.evidence[:MAX_EVIDENCE_SHOWN]:
        cell.append("\n  • ")
        cell.append_text(plain(item))
    more = len(check.evidence) - MAX_EVIDENCE_SHOWN
    if more > 0:
        cell.append(f"\n  … and {more} more (see --json)")
    return cell


def with_expectations(report: TranscriptReport, expected: list[str]) -> TranscriptReport:
    """``report`` with one check per expected fingerprint: is it in the transcript?"""
    if not expected:
        return report
    known = {_normalise(fp) for fp in report.fingerprints}
    checks = [
        Check(
            f"expected fingerprint {fp}",
            _normalise(fp) in known,
            "found" if _normalise(fp) in known else "not in this transcript",
        )
        for fp in expected
    ]
    return replace(report, checks=report.checks + tuple(checks))


def check_expected(expected: list[str]) -> None:
    """Refuse an ``--expect`` value that cannot be a fingerprint (a typo, a hex digest):
    a usage error (exit 2), not a failed check of the transcript (exit 1)."""
    for fp in expected:
        norm = _normalise(fp)
        if len(norm) != _FINGERPRINT_CHARS or not set(norm) <= _BASE32:
            raise InputError(
                f"--expect {fp[:64]!r} is not a fingerprint: 16 letters A-Z and digits 2-7,"
                " as verify prints them (e.g. K5QW-3JDA-ZT7B-M2XE)",
                code=ErrorCode.INPUT_INVALID,
            )


def _normalise(fp: str) -> str:
    """Fingerprints as people write them: any case, with or without separators."""
    return "".join(ch for ch in fp.upper() if ch.isalnum())
