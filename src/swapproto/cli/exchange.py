"""Exchange commands: ``terms new|sign``, ``commit``, ``reveal``, ``verify``, ``accept``,
``dispute``, ``abort``, ``disclose`` and ``check``."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from swapproto.cli._common import JsonOpt, PassEnvOpt, PassFileOpt, exchange_terms, key_bundle
from swapproto.cli._exchange_check import check_cmd
from swapproto.cli._output import (
    Mode,
    handle_errors,
    progress_bar,
    safe,
    stderr,
    stdout,
)
from swapproto.cli._transcript_view import check_expected, render_report, with_expectations
from swapproto.errors import (
    ErrorCode,
    InputError,
    LocalProtocolError,
    VerificationError,
)
from swapproto.exchange_dir import ExchangeDir, Opening, RecipientOpener
from swapproto.handshake import Party, Phase, completeness_statement, other_party
from swapproto.hashing import fingerprint
from swapproto.keys import KeyBundle
from swapproto.manifest import ManifestHeader, VerifiedHeader
from swapproto.manifest_file import ManifestReader, View, verify_manifest_file
from swapproto.messages import MessageType
from swapproto.terms import compile_terms
from swapproto.transcript import verify_transcript

terms_app = typer.Typer(
    help="Write and sign the agreed terms of an exchange.", no_args_is_help=True
)

XchArg = Annotated[
    Path,
    typer.Argument(metavar="XCH", help="Exchange directory (one .spmsg file per signed message)."),
]
KeyOpt = Annotated[Path, typer.Option("--key", help="This party's private key file.")]
NowOpt = Annotated[
    int | None, typer.Option("--now", help="Unix seconds to use as the current time.")
]


def _now(value: int | None) -> int:
    return int(time.time()) if value is None else value


def _party(xch: Path, bundle: KeyBundle) -> Party:
    directory = ExchangeDir(xch)
    terms = exchange_terms(directory)
    role = terms.role_of_key(bundle.signing.key_id)
    if role not in ("a", "b"):
        raise InputError("this key is not a party's key in the terms of this exchange")
    party, skipped = directory.party(role, [bundle.signing])
    _warn_skipped(skipped)
    return party


def _warn_skipped(skipped: list[str]) -> None:
    for name in skipped:
        stderr.print(
            f"[yellow]warning[/] skipped {safe(name)}: not a valid message of this exchange"
        )


def _warn(text: str) -> None:
    stderr.print(f"[yellow]warning[/] {safe(text)}")


def _utc(seconds: int) -> str:
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (Unix seconds)"


def _late(what: str, when: int, deadline: int, name: str) -> bool:
    """Warn (never refuse) when a move is dated after its deadline: the transcript
    reports it as late (``spec/handshake.md`` §7.4)."""
    if when <= deadline:
        return False
    _warn(
        f"this {what} is dated {_utc(when)}, after the terms' {name} {_utc(deadline)}:"
        " it is accepted, and the transcript reports it as late"
    )
    return True


def _own_manifest(party: Party, manifest: Path) -> ManifestHeader:
    """The manifest's header as it claims to be, refused (exit 2) unless it is this
    party's list of this exchange, in the private view; nothing is trusted yet."""
    with manifest.open("rb") as stream:
        reader = ManifestReader(stream)
        claimed, view = reader.unverified_header(), reader.view
    what = f"{manifest} (party {claimed.issuer!r}'s list {claimed.list_name!r})"
    if claimed.exchange != party.exchange_id:
        raise InputError(f"{what} was not built for this exchange (use manifest build --exchange)")
    if claimed.issuer != party.role:
        raise InputError(
            f"{what} is not this party's list: the key is party {party.role!r}'s"
            " (give each party's own manifest and key)"
        )
    if view is not View.PRIVATE:
        raise InputError(f"{manifest} is a blinded view: commit and reveal the private view")
    return claimed


def _verify_manifest(
    party: Party, manifest: Path, claimed: ManifestHeader, as_json: bool
) -> VerifiedHeader:
    """Verify the whole manifest (header, every entry, root) before anything irreversible."""
    policy = party.terms.trust_policy().role(party.role)
    try:
        with (
            manifest.open("rb") as stream,
            progress_bar("verifying", claimed.count, enabled=not as_json) as tick,
        ):
            return verify_manifest_file(
                stream, policy, full=True, progress=tick, parallel=None
            ).verified
    except VerificationError as exc:
        raise VerificationError(
            f"{manifest} does not verify, nothing was sent: {exc.args[0]}", code=exc.code
        ) from exc


def _write(xch: Path, party: Party, envelope: Any, mtype: MessageType) -> Path:
    seq = party.next_seq(party.role) - 1
    return ExchangeDir(xch).write_message(envelope, sender=party.role, seq=seq, mtype=mtype)


@terms_app.command("new")
@handle_errors
def terms_new(
    toml: Annotated[Path, typer.Argument(metavar="TOML", help="Terms written by people, in TOML.")],
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
    party = _party(xch, key_bundle(key, passphrase_file, passphrase_env))
    _check_move(party, MessageType.TERMS_SIGN)
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
        Path,
        typer.Argument(
            metavar="MANIFEST", help="This party's manifest for one list of the exchange."
        ),
    ],
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Commit to a manifest (hiding it) before seeing the other party's list."""
    bundle = key_bundle(key, passphrase_file, passphrase_env)
    party = _party(xch, bundle)
    claimed = _own_manifest(party, manifest)
    # Before verifying every entry: committing twice, or too early, is refused at once.
    _check_move(party, MessageType.COMMIT, claimed.list_name)
    verified = _verify_manifest(party, manifest, claimed, json_output)
    header = verified.header
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
        "late": _late("commit", when, party.terms.commit_by, "commit_by"),
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
    manifest: Annotated[
        Path, typer.Argument(metavar="MANIFEST", help="The manifest committed earlier.")
    ],
    key: KeyOpt,
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Reveal a committed manifest (sealed to the counterparty and mediators if agreed).

    Refused until both parties' commits are in the exchange directory.
    """
    bundle = key_bundle(key, passphrase_file, passphrase_env)
    party = _party(xch, bundle)
    claimed = _own_manifest(party, manifest)
    opening = Opening.read(manifest)
    if claimed.digest != opening.header_digest:
        raise InputError(f"{manifest} is not the manifest that was committed")
    # Check the move before sealing anything: the table refuses a reveal before both commits.
    _check_move(party, MessageType.REVEAL, claimed.list_name)
    verified = _verify_manifest(party, manifest, claimed, json_output)
    if verified.digest != opening.header_digest:
        raise InputError(f"{manifest} is not the manifest that was committed")
    list_name = verified.header.list_name
    when = _now(now)
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
            now=when,
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
        "late": _late("reveal", when, party.terms.reveal_by, "reveal_by"),
    }
    Mode(json_output).emit(
        info, lambda: stdout.print(f"revealed {safe(repr(list_name))}: {safe(path)}")
    )


def _check_move(party: Party, mtype: MessageType, list_name: str | None = None) -> None:
    """Ask the table whether the move is legal before any slow or irreversible work, and
    say why not in plain words for the usual mistakes (a step repeated, or taken before
    this party or the other one got there); other refusals keep the table's words."""
    try:
        party.check_move(mtype, list_name)
    except LocalProtocolError as exc:
        reason = None if party.aborted else _refusal(party, mtype, list_name)
        if reason is None:
            raise
        raise LocalProtocolError(reason, code=exc.code) from None


_DONE_WORDS = {
    MessageType.TERMS_SIGN: "signed the terms",
    MessageType.COMMIT: "committed",
    MessageType.REVEAL: "revealed",
}


def _refusal(party: Party, mtype: MessageType, list_name: str | None) -> str | None:
    me = party.role
    other = other_party(me)
    mine, theirs = party.phase(me), party.phase(other)
    if mine is Phase.DONE:
        return f"party {me} has already given its verdict; nothing more may be sent"
    if mtype is MessageType.TERMS_SIGN:
        return f"party {me} has already signed the terms" if mine > Phase.START else None
    if mine is Phase.START:
        return f"party {me} has not signed the terms yet (swapproto terms sign)"
    if theirs is Phase.START:
        return f"the other party ({other}) has not signed the terms yet"
    if mtype in (MessageType.COMMIT, MessageType.REVEAL):
        sent = party.commits(me) if mtype is MessageType.COMMIT else party.reveals(me)
        if list_name in sent:
            return f"party {me} has already {_DONE_WORDS[mtype]} list {list_name!r}"
    if mtype is MessageType.COMMIT and mine >= Phase.COMMITTED:
        return f"party {me} has already committed all its lists"
    if mtype is MessageType.REVEAL and mine < Phase.COMMITTED:
        return f"party {me} has not committed all its lists yet; commit them first"
    if mtype is MessageType.REVEAL and theirs < Phase.COMMITTED:
        return "the other party has not committed yet; a reveal must wait for both commits"
    if mtype is MessageType.VERDICT and mine < Phase.REVEALED:
        return f"party {me} has not revealed all its lists yet; a verdict comes after"
    if mtype is MessageType.VERDICT and theirs < Phase.REVEALED:
        return (
            f"the other party ({other}) has not revealed all its lists yet;"
            " a verdict must wait for both reveals"
        )
    return None


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
    check_expected(expect)
    directory = ExchangeDir(xch).require()
    opener = None
    if key is not None:
        bundle = key_bundle(key, passphrase_file, passphrase_env)
        if bundle.decryption is None:
            raise InputError(
                f"{key} holds no decryption key: it cannot open sealed lists",
                code=ErrorCode.KEY_FORMAT,
            )
        opener = RecipientOpener(bundle)
    terms = exchange_terms(directory)
    report = verify_transcript(
        directory.messages(), terms=terms, blobs=directory, opener=opener, now=_now(now)
    )
    report = with_expectations(report, expect)
    Mode(json_output).emit(report.to_json(), lambda: render_report(report))
    if not report.ok:
        raise typer.Exit(1)


def _verdict(
    xch: Path,
    bundle: KeyBundle,
    accept: bool,
    reasons: list[str],
    when: int,
    as_json: bool,
    *,
    party: Party | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    party = party if party is not None else _party(xch, bundle)
    _check_move(party, MessageType.VERDICT)
    envelope = party.verdict(accept=accept, reasons=reasons, now=when)
    path = _write(xch, party, envelope, MessageType.VERDICT)
    word = "accepted" if accept else "disputed"
    info = {
        "ok": True,
        "file": str(path),
        "verdict": "accept" if accept else "dispute",
        "seen": party.seen_digest().hex(),
        **(extra or {}),
    }
    Mode(as_json).emit(
        info,
        lambda: stdout.print(
            f"party {party.role} {word}; "
            f"signed transcript {fingerprint(party.seen_digest())}: {safe(path)}"
        ),
    )


def _checks_before_accepting(xch: Path, party: Party, bundle: KeyBundle, when: int) -> list[str]:
    """Verify the directory as this party (its own key opens the list sealed to it) and
    return the names of the failed checks; checks not evaluated are named on stderr."""
    directory = ExchangeDir(xch)
    opener = RecipientOpener(bundle) if bundle.decryption is not None else None
    report = verify_transcript(
        directory.messages(), terms=party.terms, blobs=directory, opener=opener, now=when
    )
    own = f"rules {party.role}/"  # its own list is not sealed to it: nothing to say
    for check in report.skipped:
        if not check.name.startswith(own):
            _warn(f"{check.name}: {check.detail}")
    failed = [c.name for c in report.checks if not c.ok]
    # The verdict signs the party's own replay: it must be what was verified.
    if dict(report.named_fingerprints).get("transcript") != fingerprint(party.seen_digest()):
        failed.append("the transcript verified is the one to be signed")
    return failed


def accept_cmd(
    xch: XchArg,
    key: KeyOpt,
    now: NowOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Accept even though the exchange does not verify (the failed checks are"
            " printed on stderr and listed in --json output).",
        ),
    ] = False,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Accept the revealed lists, signing the digest of everything seen.

    The exchange is verified first, as ``swapproto verify XCH --key KEY --now T`` would
    (the other party's sealed list is opened with this key): if any check fails, nothing
    is signed and the exit code is 1, unless --force is given.
    """
    bundle = key_bundle(key, passphrase_file, passphrase_env)
    party = _party(xch, bundle)
    _check_move(party, MessageType.VERDICT)  # before verifying the whole transcript
    when = _now(now)
    failed = _checks_before_accepting(xch, party, bundle, when)
    if failed and not force:
        raise VerificationError(
            f"not accepted: {len(failed)} check(s) of this exchange fail: {', '.join(failed)}"
            f" (see swapproto verify {xch} --key {key}); dispute, or accept anyway with --force",
            code=ErrorCode.VERIFY_TRANSCRIPT,
            failed=failed,
        )
    if failed:
        _warn(f"accepting although {len(failed)} check(s) fail (--force): {', '.join(failed)}")
    extra = {"failed_checks": failed, "forced": bool(failed)}
    _verdict(xch, bundle, True, [], when, json_output, party=party, extra=extra)


def dispute_cmd(
    xch: XchArg,
    key: KeyOpt,
    reason: Annotated[list[str], typer.Option("--reason", help="Why (repeatable).")],
    now: NowOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Dispute the revealed lists, with reasons (no verification needed to dispute)."""
    bundle = key_bundle(key, passphrase_file, passphrase_env)
    _verdict(xch, bundle, False, reason, _now(now), json_output)


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
    party = _party(xch, key_bundle(key, passphrase_file, passphrase_env))
    _check_move(party, MessageType.ABORT)
    envelope = party.abort(reason, now=_now(now))
    path = _write(xch, party, envelope, MessageType.ABORT)
    Mode(json_output).emit(
        {"ok": True, "file": str(path)},
        lambda: stdout.print(f"party {party.role} aborted: {safe(path)}"),
    )


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
