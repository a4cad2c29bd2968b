"""Exchange commands: ``terms new|sign``, ``commit``, ``reveal``, ``verify``, ``accept``,
``dispute``, ``abort``, ``disclose`` and ``check``."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from swapproto.cli._common import JsonOpt, PassEnvOpt, PassFileOpt, passphrase
from swapproto.cli._output import Mode, handle_errors, plain, safe, stderr, stdout
from swapproto.cli.disclose import disclosure_info
from swapproto.disclosure import verify_disclosure
from swapproto.errors import ErrorCode, InputError, VerificationError
from swapproto.exchange_dir import ExchangeDir, Opening, RecipientOpener
from swapproto.handshake import Party, completeness_statement
from swapproto.hashing import fingerprint
from swapproto.keys import KeyBundle, load_key_bundle
from swapproto.manifest_file import ManifestReader
from swapproto.messages import MessageType
from swapproto.terms import compile_terms
from swapproto.transcript import Check, TranscriptReport, verify_transcript

terms_app = typer.Typer(
    help="Write and sign the agreed terms of an exchange.", no_args_is_help=True
)

XchArg = Annotated[
    Path, typer.Argument(help="Exchange directory (one .spmsg file per signed message).")
]
KeyOpt = Annotated[Path, typer.Option("--key", help="This party's private key file.")]
NowOpt = Annotated[
    int | None, typer.Option("--now", help="Unix seconds to use as the current time.")
]


def _now(value: int | None) -> int:
    return int(time.time()) if value is None else value


def _bundle(key: Path, pfile: Path | None, penv: str | None) -> KeyBundle:
    return load_key_bundle(key, passphrase(pfile, penv))


def _party(xch: Path, bundle: KeyBundle) -> Party:
    directory = ExchangeDir(xch)
    terms = directory.terms()
    role = terms.role_of_key(bundle.signing.key_id)
    if role not in ("a", "b"):
        raise InputError("this key is not a party's key in the terms of this exchange")
    party, skipped = directory.party(role, [bundle.signing])
    for name in skipped:
        stderr.print(
            f"[yellow]warning[/] skipped {safe(name)}: not a valid message of this exchange"
        )
    return party


def _write(xch: Path, party: Party, envelope: Any, mtype: MessageType) -> Path:
    seq = party.next_seq(party.role) - 1
    return ExchangeDir(xch).write_message(envelope, sender=party.role, seq=seq, mtype=mtype)


@terms_app.command("new")
@handle_errors
def terms_new(
    toml: Annotated[Path, typer.Argument(help="Terms written by people, in TOML.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Exchange directory to create.")],
    json_output: JsonOpt = False,
) -> None:
    """Compile the TOML terms and start an exchange directory with them."""
    terms = compile_terms(toml)
    path = ExchangeDir(out).write_terms(terms)
    info = {
        "ok": True,
        "file": str(path),
        "exchange_id": terms.exchange_id.hex(),
        "fingerprint": fingerprint(terms.exchange_id),
    }
    Mode(json_output).emit(
        info,
        lambda: stdout.print(
            f"wrote {safe(path)}\nexchange id {terms.exchange_id.hex()}\n"
            f"fingerprint [bold]{fingerprint(terms.exchange_id)}[/]"
            " (read it aloud; write it into the minutes)"
        ),
    )


@terms_app.command("sign")
@handle_errors
def terms_sign(
    xch: XchArg,
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Sign the terms in the exchange directory as the party this key belongs to."""
    party = _party(xch, _bundle(key, passphrase_file, passphrase_env))
    envelope = party.sign_terms(now=_now(now))
    path = _write(xch, party, envelope, MessageType.TERMS_SIGN)
    info = {
        "ok": True,
        "file": str(path),
        "role": party.role,
        "exchange_id": party.exchange_id.hex(),
    }
    Mode(json_output).emit(
        info, lambda: stdout.print(f"party {party.role} signed the terms: {safe(path)}")
    )


def commit_cmd(
    xch: XchArg,
    manifest: Annotated[
        Path, typer.Argument(help="This party's manifest for one list of the exchange.")
    ],
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Commit to a manifest (hiding it) before seeing the other party's list."""
    bundle = _bundle(key, passphrase_file, passphrase_env)
    party = _party(xch, bundle)
    with manifest.open("rb") as stream:
        verified = ManifestReader(stream).verify_header(party.terms.trust_policy().role(party.role))
    header = verified.header
    if header.exchange != party.exchange_id:
        raise InputError(
            f"{manifest} was not built for this exchange (use manifest build --exchange)"
        )
    when = _now(now)
    nonce = secrets.token_bytes(32)
    envelope = party.commit(
        header.list_name,
        verified.digest,
        nonce=nonce,
        now=when,
        statement=completeness_statement(party.terms, party.role, header.list_name, when),
    )
    Opening(nonce, verified.digest).write(manifest)
    path = _write(xch, party, envelope, MessageType.COMMIT)
    digest = party.commits(party.role)[header.list_name].body["commitment"]
    info = {
        "ok": True,
        "file": str(path),
        "list": header.list_name,
        "commitment": digest.hex(),
        "fingerprint": fingerprint(digest),
    }
    Mode(json_output).emit(
        info,
        lambda: stdout.print(
            f"committed to {safe(repr(header.list_name))} ({header.count} entries): {safe(path)}\n"
            f"commitment fingerprint [bold]{fingerprint(digest)}[/]"
        ),
    )


def reveal_cmd(
    xch: XchArg,
    manifest: Annotated[Path, typer.Argument(help="The manifest committed earlier.")],
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Reveal a committed manifest (sealed to the counterparty and mediators if agreed).

    Refused until both parties' commits are in the exchange directory.
    """
    bundle = _bundle(key, passphrase_file, passphrase_env)
    party = _party(xch, bundle)
    opening = Opening.read(manifest)
    with manifest.open("rb") as stream:
        reader = ManifestReader(stream)
        verified = reader.verify_header(party.terms.trust_policy().role(party.role))
    if verified.digest != opening.header_digest:
        raise InputError(f"{manifest} is not the manifest that was committed")
    list_name = verified.header.list_name
    # Check the move before sealing anything: the table refuses a reveal before both commits.
    party.check_move(MessageType.REVEAL, list_name)
    directory = ExchangeDir(xch)
    with (
        manifest.open("rb") as src,
        directory.staged_content(src, party.terms, party.role, list_name) as staged,
    ):
        content = staged.content
        # Every check of the reveal runs before the content becomes visible.
        envelope = party.reveal(
            list_name,
            verified.envelope.to_bytes(),
            nonce=opening.nonce,
            content=content,
            now=_now(now),
        )
        staged.publish()
        try:
            path = _write(xch, party, envelope, MessageType.REVEAL)
        except BaseException:
            staged.withdraw()
            raise
    info = {
        "ok": True,
        "file": str(path),
        "list": list_name,
        "sealed": content["sealed"],
        "content": content["sha256"].hex(),
    }
    Mode(json_output).emit(
        info, lambda: stdout.print(f"revealed {safe(repr(list_name))}: {safe(path)}")
    )


def _render(report: TranscriptReport) -> None:
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
        mark = "[green]ok[/]" if check.ok else "[bold red]FAIL[/]"
        detail = check.detail + "".join(f"\n  • {e}" for e in check.evidence[:10])
        table.add_row(plain(check.name), mark, plain(detail))
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
    stdout.print(
        "[bold green]ALL CHECKS PASS[/]" if report.ok else "[bold red]VERIFICATION FAILED[/]"
    )


def verify_cmd(
    xch: XchArg,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="A recipient's private key: decrypt and check sealed lists."),
    ] = None,
    expect: Annotated[
        list[str],
        typer.Option(
            "--expect",
            help="A fingerprint (exchange, commitment, header, root or transcript) that must"
            " appear; case and dashes do not matter. Repeatable.",
        ),
    ] = [],  # noqa: B006
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Verify an exchange transcript offline: the mediator's verification script.

    Exit 0 when every check passes, 1 when any fails.
    """
    directory = ExchangeDir(xch).require()
    opener = None
    if key is not None:
        bundle = _bundle(key, passphrase_file, passphrase_env)
        if bundle.decryption is None:
            raise InputError(
                f"{key} holds no decryption key: it cannot open sealed lists",
                code=ErrorCode.KEY_FORMAT,
            )
        opener = RecipientOpener(bundle)
    terms = directory.terms()
    report = verify_transcript(
        directory.messages(), terms=terms, blobs=directory, opener=opener, now=_now(now)
    )
    report = _expectations(report, expect)
    Mode(json_output).emit(report.to_json(), lambda: _render(report))
    if not report.ok:
        raise typer.Exit(1)


def _expectations(report: TranscriptReport, expected: list[str]) -> TranscriptReport:
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


def _normalise(fp: str) -> str:
    """Fingerprints as people write them: any case, with or without separators."""
    return "".join(ch for ch in fp.upper() if ch.isalnum())


def _verdict(
    xch: Path,
    key: Path,
    accept: bool,
    reasons: list[str],
    now: int | None,
    pfile: Path | None,
    penv: str | None,
    as_json: bool,
) -> None:
    party = _party(xch, _bundle(key, pfile, penv))
    envelope = party.verdict(accept=accept, reasons=reasons, now=_now(now))
    path = _write(xch, party, envelope, MessageType.VERDICT)
    word = "accepted" if accept else "disputed"
    info = {
        "ok": True,
        "file": str(path),
        "verdict": "accept" if accept else "dispute",
        "seen": party.seen_digest().hex(),
    }
    Mode(as_json).emit(
        info,
        lambda: stdout.print(
            f"party {party.role} {word}; "
            f"signed transcript {fingerprint(party.seen_digest())}: {safe(path)}"
        ),
    )


def accept_cmd(
    xch: XchArg,
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Accept the revealed lists, signing the digest of everything seen."""
    _verdict(xch, key, True, [], now, passphrase_file, passphrase_env, json_output)


def dispute_cmd(
    xch: XchArg,
    key: KeyOpt,
    reason: Annotated[list[str], typer.Option("--reason", help="Why (repeatable).")],
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Dispute the revealed lists, with reasons."""
    _verdict(xch, key, False, reason, now, passphrase_file, passphrase_env, json_output)


def abort_cmd(
    xch: XchArg,
    key: KeyOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why the exchange is abandoned.")],
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Abandon the exchange (nothing may be sent after an abort)."""
    party = _party(xch, _bundle(key, passphrase_file, passphrase_env))
    envelope = party.abort(reason, now=_now(now))
    path = _write(xch, party, envelope, MessageType.ABORT)
    Mode(json_output).emit(
        {"ok": True, "file": str(path)},
        lambda: stdout.print(f"party {party.role} aborted: {safe(path)}"),
    )


def check_cmd(
    proof: Annotated[Path, typer.Argument(help="A disclosure file.")],
    exchange: Annotated[
        Path, typer.Option("--exchange", help="The exchange directory whose terms pin the keys.")
    ],
    json_output: JsonOpt = False,
) -> None:
    """Check a disclosure against the keys pinned in an exchange's terms."""
    terms = ExchangeDir(exchange).terms()
    data = proof.read_bytes()
    from swapproto.disclosure import disclosure_issuer

    issuer = disclosure_issuer(data)
    if issuer not in ("a", "b"):
        raise VerificationError(
            f"the disclosure's issuer {issuer!r} is not a party", code=ErrorCode.VERIFY_DISCLOSURE
        )
    result = verify_disclosure(data, terms.trust_policy().role(issuer))
    if result.verified.header.exchange != terms.exchange_id:
        raise VerificationError(
            "the disclosed list belongs to another exchange", code=ErrorCode.VERIFY_DISCLOSURE
        )
    info = disclosure_info(result)
    info["party"] = terms.party_name(issuer)

    def human() -> None:
        stdout.print(
            f"OK: on the list {safe(repr(result.verified.header.list_name))}"
            f" signed by {safe(terms.party_name(issuer))}"
        )
        for e in info["entries"]:
            stdout.print(plain(f"entry {e['index']}: {e['record']}"))

    Mode(json_output).emit({"ok": True, **info}, human)


def register(app: typer.Typer) -> None:
    """Add the exchange commands to the root app."""
    app.add_typer(terms_app, name="terms")
    for name, func in (
        ("commit", commit_cmd),
        ("reveal", reveal_cmd),
        ("verify", verify_cmd),
        ("accept", accept_cmd),
        ("dispute", dispute_cmd),
        ("abort", abort_cmd),
        ("check", check_cmd),
    ):
        app.command(name)(handle_errors(func))
