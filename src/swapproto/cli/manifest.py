"""``swapproto manifest build|verify|show|disclose|check|amend|blind``.

``disclose`` and ``amend`` are in their own modules; this one registers all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.table import Table
from rich.text import Text

from swapproto import records
from swapproto._recordspec import FieldError, check_text
from swapproto.amendment import AMENDMENT_FORMAT, AMENDMENT_LIMITS, verify_amendment
from swapproto.cli._common import (
    ForceOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    distinct_outputs,
    exchange_terms,
    now,
    public_keys,
    signing_keys,
)
from swapproto.cli._manifest_common import KeyOpt, header_info
from swapproto.cli._output import Mode, handle_errors, plain, progress_bar, stdout
from swapproto.cli.amend import amend, amendment_info
from swapproto.cli.disclose import disclose, disclosure_info
from swapproto.disclosure import DISCLOSURE_FORMAT, DISCLOSURE_LIMITS, verify_disclosure
from swapproto.encoding import DecodeLimits, decode
from swapproto.errors import DecodeError, ErrorCode, InputError
from swapproto.keys import RolePolicy
from swapproto.manifest import MAX_LABEL, VerifiedHeader
from swapproto.manifest_file import (
    ManifestReader,
    build_manifest_file,
    verify_manifest_file,
    write_blinded_file,
)
from swapproto.tabular import RowReport, TableFormat, iter_records, open_table, parse_mapping

app = typer.Typer(help="Build, verify, show and disclose signed manifests.", no_args_is_help=True)

"""Longest --list or --issuer label, as for names in the terms."""
MAX_SHOWN_WARNINGS: Final = 20
"""Build warnings shown in human output; ``--json`` lists every one."""

PubOpt = Annotated[
    list[Path], typer.Option("--pub", help="Issuer public key file (repeat for k-of-n issuers).")
]
ThresholdOpt = Annotated[
    int | None,
    typer.Option("--threshold", help="Signatures required among --pub keys (default: all)."),
]


def _policy(pubs: list[Path], threshold: int | None) -> RolePolicy:
    keys = public_keys(pubs)
    return RolePolicy.of(
        keys, threshold if threshold is not None else len({k.key_id for k in keys})
    )


def _print_header(title: str, info: dict[str, Any], signers: list[str] | None) -> None:
    table = Table(title=plain(title), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        table.add_row(key, plain("—" if value is None else value))
    if signers is not None:
        table.add_row("signed by", plain(", ".join(signers) or "—"))
    stdout.print(table)


def _signers(verified: VerifiedHeader) -> list[str]:
    return [kid.hex() for kid in verified.verified.signer_key_ids]


def _exchange_binding(
    exchange: Path, list_name: str | None, kind: str | None, key_id: bytes
) -> tuple[bytes, str, str]:
    """(exchange id, kind, issuer role) for a list of the exchange's terms."""
    from swapproto.exchange_dir import ExchangeDir

    terms = exchange_terms(ExchangeDir(exchange))
    if list_name is None:
        raise InputError("--exchange needs --list: which list of the terms this is")
    spec = terms.list(list_name)
    role = terms.role_of_key(key_id)
    if role is None or role not in spec.submitters:
        raise InputError(f"this key's party does not submit list {list_name!r} in these terms")
    if kind is not None and kind != spec.kind:
        raise InputError(f"list {list_name!r} is of kind {spec.kind!r}, not {kind!r}")
    return terms.exchange_id, spec.kind, role


def _label(option: str, value: str) -> str:
    """A list name or issuer label for the signed header: shown to people, so checked
    as the terms check names (non-empty, printable, NFC, no outer space, bounded)."""
    try:
        return check_text(value, MAX_LABEL)
    except FieldError as exc:
        raise InputError(f"{option} {value[:64]!r} {exc.reason}") from None


@handle_errors
def build(
    source: Annotated[Path, typer.Option("--from", help="CSV or JSON Lines file of records.")],
    key: KeyOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="Manifest file to write.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Record kind: " + ", ".join(records.kinds()) + " (default: from the terms).",
        ),
    ] = None,
    exchange: Annotated[
        Path | None,
        typer.Option(
            "--exchange", help="Exchange directory: bind the manifest to its terms (needs --list)."
        ),
    ] = None,
    fmt: Annotated[
        TableFormat | None, typer.Option("--format", help="Input format (default: by suffix).")
    ] = None,
    mapping: Annotated[list[str], typer.Option("--map", help="Rename a column: old=new.")] = [],  # noqa: B006
    list_name: Annotated[
        str | None, typer.Option("--list", help="List name (default: the kind).")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="Issuer label (default: key file name).")
    ] = None,
    created_at: Annotated[
        int | None, typer.Option("--created-at", help="Unix seconds (default: now).")
    ] = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Build and sign a manifest from a CSV or JSON Lines file."""
    distinct_outputs([("-o", out)], [source, passphrase_file, *key])
    keys = signing_keys(key, passphrase_file, passphrase_env)
    exchange_id = None
    if exchange is not None:
        binding = _exchange_binding(exchange, list_name, kind, keys[0].key_id)
        exchange_id, kind, issuer = binding
    if kind is None:
        raise InputError("--kind is required without --exchange")
    list_label = _label("--list", list_name if list_name is not None else kind)
    issuer_label = _label("--issuer", issuer if issuer is not None else key[0].stem)
    table_format = fmt or (
        TableFormat.JSONL if source.suffix in (".jsonl", ".ndjson") else TableFormat.CSV
    )
    report = RowReport(str(source))
    with (
        open_table(source) as text,
        progress_bar("building", None, enabled=not json_output) as tick,
    ):
        rows = iter_records(
            text, kind=kind, fmt=table_format, mapping=parse_mapping(mapping), report=report
        )
        result = build_manifest_file(
            out,
            rows,
            kind=kind,
            list_name=list_label,
            issuer=issuer_label,
            keys=keys,
            created_at=now(created_at),
            exchange=exchange_id,
            overwrite=force,
            progress=tick,
            validate=False,  # iter_records validated every row (and reports bad ones by line)
            parallel=None,  # a second process from 50,000 rows, if there are two CPUs
        )
    info = header_info(result.verified.header, result.verified.digest)
    warnings = [
        {"code": w.code, "message": w.message, "entries": list(w.indices)} for w in result.warnings
    ]

    def human() -> None:
        _print_header(f"wrote {out}", info, _signers(result.verified))
        for w in warnings[:MAX_SHOWN_WARNINGS]:
            stdout.print(Text.assemble(("warning", "yellow"), " ", plain(w["message"])))
        if len(warnings) > MAX_SHOWN_WARNINGS:
            more = len(warnings) - MAX_SHOWN_WARNINGS
            stdout.print(Text.assemble(("warning", "yellow"), f" … and {more} more (see --json)"))

    Mode(json_output).emit(
        {"ok": True, "file": str(out), "header": info, "warnings": warnings}, human
    )


@handle_errors
def verify(
    manifest: Annotated[Path, typer.Argument(metavar="MANIFEST", help="Manifest file.")],
    pub: PubOpt,
    threshold: ThresholdOpt = None,
    structural: Annotated[
        bool, typer.Option("--structural", help="Only signature and root, no per-entry checks.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Verify a manifest: header signature, every entry, and the Merkle root."""
    policy = _policy(pub, threshold)
    with (
        manifest.open("rb") as stream,
        progress_bar("verifying", None, enabled=not json_output) as tick,
    ):
        report = verify_manifest_file(
            stream, policy, full=not structural, progress=tick, parallel=None
        )
    info = header_info(report.verified.header, report.verified.digest)
    mode = "full" if report.full else "structural"

    def human() -> None:
        _print_header(
            f"OK: {manifest} verified ({mode}, {report.view.name.lower()} view)",
            info,
            _signers(report.verified),
        )

    Mode(json_output).emit(
        {"ok": True, "mode": mode, "view": report.view.name.lower(), "header": info}, human
    )


@handle_errors
def show(
    manifest: Annotated[Path, typer.Argument(metavar="MANIFEST", help="Manifest file.")],
    pub: Annotated[
        list[Path], typer.Option("--pub", help="Check the header signature with this key.")
    ] = [],  # noqa: B006
    json_output: JsonOpt = False,
) -> None:
    """Show a manifest's header (its signature is checked when --pub is given)."""
    with manifest.open("rb") as stream:
        reader = ManifestReader(stream)
        if pub:
            verified = reader.verify_header(_policy(pub, None))
            header, digest, checked = verified.header, verified.digest, True
        else:
            # Shown to a person as "unverified"; nothing is trusted or acted upon.
            header, checked = reader.unverified_header(), False
            digest = header.digest
    info = header_info(header, digest)
    signer_ids = [kid.hex() for kid in reader.envelope.signer_key_ids]
    obj = {
        "ok": True,
        "signature_checked": checked,
        "view": reader.view.name.lower(),
        "header": info,
        "signers": signer_ids,
    }

    def human() -> None:
        status = "signature verified" if checked else "signature NOT checked: pass --pub"
        title = f"{manifest} ({status})"
        _print_header(title, info, signer_ids)

    Mode(json_output).emit(obj, human)


# Bounds for reading a file's top-level map to learn its format: the loosest of the
# two formats' own limits, which their verifiers then apply exactly.
_PROOF_LIMITS: Final = DecodeLimits(
    max_input=max(AMENDMENT_LIMITS.max_input, DISCLOSURE_LIMITS.max_input),
    max_depth=max(AMENDMENT_LIMITS.max_depth, DISCLOSURE_LIMITS.max_depth),
    max_str=max(AMENDMENT_LIMITS.max_str, DISCLOSURE_LIMITS.max_str),
    max_bin=max(AMENDMENT_LIMITS.max_bin, DISCLOSURE_LIMITS.max_bin),
    max_array=max(AMENDMENT_LIMITS.max_array, DISCLOSURE_LIMITS.max_array),
    max_map=max(AMENDMENT_LIMITS.max_map, DISCLOSURE_LIMITS.max_map),
)


def _read_proof(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(_PROOF_LIMITS.max_input + 1)
    if len(data) > _PROOF_LIMITS.max_input:
        raise InputError(
            f"{path} is larger than any disclosure or amendment ({_PROOF_LIMITS.max_input} bytes)",
            code=ErrorCode.INPUT_INVALID,
        )
    return data


def _proof_format(path: Path, data: bytes) -> str:
    """The ``format`` member of the file's top-level map: a disclosure or an amendment."""
    neither = f"{path} is neither a disclosure nor an amendment"
    try:
        value: Any = decode(data, limits=_PROOF_LIMITS)
    except DecodeError as exc:
        raise InputError(
            f"{neither}: not a canonical swapproto file ({exc.args[0]})",
            code=ErrorCode.INPUT_INVALID,
        ) from exc
    fmt = value.get("format") if type(value) is dict else None
    if type(fmt) is not str:
        raise InputError(f"{neither}: it names no format", code=ErrorCode.INPUT_INVALID)
    if fmt not in (AMENDMENT_FORMAT, DISCLOSURE_FORMAT):
        raise InputError(f"{neither}: unknown format {fmt[:64]!r}", code=ErrorCode.INPUT_INVALID)
    return fmt


@handle_errors
def check(
    proof: Annotated[Path, typer.Argument(metavar="PROOF", help="Disclosure or amendment file.")],
    pub: PubOpt,
    threshold: ThresholdOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Check a disclosure or an amendment offline against the issuer's public key."""
    data = _read_proof(proof)
    policy = _policy(pub, threshold)
    if _proof_format(proof, data) == AMENDMENT_FORMAT:
        info = amendment_info(verify_amendment(data, policy))
    else:
        info = disclosure_info(verify_disclosure(data, policy))

    def human() -> None:
        if info["kind"] == "disclosure":
            _print_header(f"OK: disclosure {proof} verified", info["header"], None)
            for e in info["entries"]:
                stdout.print(plain(f"entry {e['index']}: {e['record']}"))
        else:
            stdout.print(plain(f"OK: {info['mode']} amendment {proof} verified"))
            _print_header("previous", info["previous"], None)
            _print_header("current", info["current"], None)
            for r in info["removed"]:
                stdout.print(plain(f"removed entry {r['index']} ({r['id']}): {r['reason']}"))

    Mode(json_output).emit({"ok": True, **info}, human)


@handle_errors
def blind(
    manifest: Annotated[
        Path, typer.Argument(metavar="MANIFEST", help="Private-view manifest file.")
    ],
    pub: PubOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="Blinded manifest to write.")],
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write the blinded view: header and leaf hashes, no records or salts."""
    distinct_outputs([("-o", out)], [manifest, manifest.with_name(manifest.name + ".opening")])
    with (
        manifest.open("rb") as stream,
        progress_bar("blinding", None, enabled=not json_output) as tick,
    ):
        report = write_blinded_file(stream, out, _policy(pub, None), overwrite=force, progress=tick)
    Mode(json_output).emit(
        {"ok": True, "file": str(out), "count": report.count},
        lambda: stdout.print(plain(f"wrote {out}: blinded view of {report.count} entries")),
    )


# The subcommands, in the order that --help lists them.
for _command in (build, verify, show, disclose, check, amend, blind):
    app.command()(_command)
