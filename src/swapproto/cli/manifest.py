"""``swapproto manifest build|verify|show|disclose|check|amend|blind``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from swapproto import records
from swapproto.amendment import (
    AMENDMENT_FORMAT,
    RemovalReason,
    VerifiedAmendment,
    verify_amendment,
)
from swapproto.amendment_file import amend_manifest_file
from swapproto.cli._common import (
    ForceOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    now,
    public_keys,
    signing_keys,
)
from swapproto.cli._output import Mode, handle_errors, progress_bar, stdout
from swapproto.disclosure import (
    DISCLOSURE_FORMAT,
    VerifiedDisclosure,
    collect_for_disclosure,
    make_disclosure,
    verify_disclosure,
)
from swapproto.errors import ErrorCode, InputError
from swapproto.hashing import fingerprint
from swapproto.keys import RolePolicy
from swapproto.manifest import ManifestHeader, VerifiedHeader
from swapproto.manifest_file import (
    ManifestReader,
    build_manifest_file,
    verify_manifest_file,
    write_blinded_file,
)
from swapproto.tabular import RowReport, TableFormat, iter_records, open_table, parse_mapping

app = typer.Typer(help="Build, verify, show and disclose signed manifests.", no_args_is_help=True)

KeyOpt = Annotated[
    list[Path], typer.Option("--key", help="Private key file (repeat for co-signers).")
]
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


def header_info(header: ManifestHeader, digest: bytes) -> dict[str, Any]:
    """The JSON form of a header."""
    return {
        "issuer": header.issuer,
        "list": header.list_name,
        "kind": header.kind,
        "count": header.count,
        "root": header.root.hex(),
        "root_fingerprint": fingerprint(header.root),
        "version": header.version,
        "previous": header.previous.hex() if header.previous else None,
        "exchange": header.exchange.hex() if header.exchange else None,
        "created_at": header.created_at,
        "header_digest": digest.hex(),
    }


def _print_header(title: str, info: dict[str, Any], signers: list[str] | None) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        table.add_row(key, "—" if value is None else str(value))
    if signers is not None:
        table.add_row("signed by", ", ".join(signers) or "—")
    stdout.print(table)


def _signers(verified: VerifiedHeader) -> list[str]:
    return [kid.hex() for kid in verified.verified.signer_key_ids]


def _exchange_binding(
    exchange: Path, list_name: str | None, kind: str | None, key_id: bytes
) -> tuple[bytes, str, str]:
    """(exchange id, kind, issuer role) for a list of the exchange's terms."""
    from swapproto.exchange_dir import ExchangeDir

    terms = ExchangeDir(exchange).terms()
    if list_name is None:
        raise InputError("--exchange needs --list: which list of the terms this is")
    spec = terms.list(list_name)
    role = terms.role_of_key(key_id)
    if role is None or role not in spec.submitters:
        raise InputError(f"this key's party does not submit list {list_name!r} in these terms")
    if kind is not None and kind != spec.kind:
        raise InputError(f"list {list_name!r} is of kind {spec.kind!r}, not {kind!r}")
    return terms.exchange_id, spec.kind, role


@app.command()
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
    keys = signing_keys(key, passphrase_file, passphrase_env)
    exchange_id = None
    if exchange is not None:
        binding = _exchange_binding(exchange, list_name, kind, keys[0].key_id)
        exchange_id, kind, issuer = binding
    if kind is None:
        raise InputError("--kind is required without --exchange")
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
            list_name=list_name or kind,
            issuer=issuer or key[0].stem,
            keys=keys,
            created_at=now(created_at),
            exchange=exchange_id,
            overwrite=force,
            progress=tick,
        )
    info = header_info(result.verified.header, result.verified.digest)
    warnings = [
        {"code": w.code, "message": w.message, "entries": list(w.indices)} for w in result.warnings
    ]

    def human() -> None:
        _print_header(f"wrote {out}", info, _signers(result.verified))
        for w in warnings:
            stdout.print(f"[yellow]warning[/] {w['message']}")

    Mode(json_output).emit(
        {"ok": True, "file": str(out), "header": info, "warnings": warnings}, human
    )


@app.command()
@handle_errors
def verify(
    manifest: Annotated[Path, typer.Argument(help="Manifest file.")],
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
        report = verify_manifest_file(stream, policy, full=not structural, progress=tick)
    info = header_info(report.verified.header, report.verified.digest)
    mode = "full" if report.full else "structural"

    def human() -> None:
        _print_header(
            f"OK: {manifest} verified ({mode}, {report.view.name.lower()} view)",
            info,
            _signers(report.verified),
        )

    Mode(json_output).emit(
        {"ok": True, "mode": mode, "view": report.view.value, "header": info}, human
    )


@app.command()
@handle_errors
def show(
    manifest: Annotated[Path, typer.Argument(help="Manifest file.")],
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
        "view": reader.view.value,
        "header": info,
        "signers": signer_ids,
    }

    def human() -> None:
        status = "signature verified" if checked else "signature NOT checked: pass --pub"
        title = f"{manifest} ({status})"
        _print_header(title, info, signer_ids)

    Mode(json_output).emit(obj, human)


@app.command()
@handle_errors
def disclose(
    manifest: Annotated[Path, typer.Argument(help="Private-view manifest file.")],
    entry: Annotated[
        list[int], typer.Option("--entry", help="Entry index to disclose (repeatable).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Disclosure file to write.")],
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write a disclosure: entries with their salts, inclusion proof and signed header."""
    from swapproto.manifest_file import atomic_writer

    with manifest.open("rb") as stream:
        reader = ManifestReader(stream)
        count = reader.unverified_header().count
        tree, leaves = collect_for_disclosure(reader.leaves(count), entry)
    data = make_disclosure(reader.header_bytes, tree, leaves)
    with atomic_writer(out, overwrite=force) as f:
        f.write(data)
    obj = {"ok": True, "file": str(out), "entries": sorted(leaves), "bytes": len(data)}
    Mode(json_output).emit(
        obj, lambda: stdout.print(f"wrote {out}: entries {sorted(leaves)}, {len(data)} bytes")
    )


def _disclosure_info(result: VerifiedDisclosure) -> dict[str, Any]:
    return {
        "kind": "disclosure",
        "header": header_info(result.verified.header, result.verified.digest),
        "entries": [{"index": e.index, "record": _jsonable(e.record)} for e in result.entries],
    }


def _amendment_info(result: VerifiedAmendment) -> dict[str, Any]:
    return {
        "kind": "amendment",
        "mode": result.mode.value,
        "previous": header_info(result.previous.header, result.previous.digest),
        "current": header_info(result.current.header, result.current.digest),
        "removed": [
            {"index": r.index, "id": r.record_id, "reason": r.reason.value} for r in result.removed
        ],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@app.command()
@handle_errors
def check(
    proof: Annotated[Path, typer.Argument(help="Disclosure or amendment file.")],
    pub: PubOpt,
    threshold: ThresholdOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Check a disclosure or an amendment offline against the issuer's public key."""
    data = proof.read_bytes()
    policy = _policy(pub, threshold)
    if AMENDMENT_FORMAT.encode() in data[:64]:
        info = _amendment_info(verify_amendment(data, policy))
    elif DISCLOSURE_FORMAT.encode() in data[:64]:
        info = _disclosure_info(verify_disclosure(data, policy))
    else:
        raise InputError(
            f"{proof} is neither a disclosure nor an amendment", code=ErrorCode.INPUT_INVALID
        )

    def human() -> None:
        if info["kind"] == "disclosure":
            _print_header(f"OK: disclosure {proof} verified", info["header"], None)
            for e in info["entries"]:
                stdout.print(f"entry {e['index']}: {e['record']}")
        else:
            stdout.print(f"OK: {info['mode']} amendment {proof} verified")
            _print_header("previous", info["previous"], None)
            _print_header("current", info["current"], None)
            for r in info["removed"]:
                stdout.print(f"removed entry {r['index']} ({r['id']}): {r['reason']}")

    Mode(json_output).emit({"ok": True, **info}, human)


def _parse_removal(text: str) -> tuple[int, RemovalReason]:
    index, _, reason = text.partition(":")
    try:
        return int(index), RemovalReason(reason)
    except ValueError:
        reasons = ", ".join(r.value for r in RemovalReason)
        raise InputError(
            f"--remove {text!r}: expected INDEX:REASON with REASON one of {reasons}"
        ) from None


@app.command()
@handle_errors
def amend(
    manifest: Annotated[Path, typer.Argument(help="The current version (private view).")],
    key: KeyOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="New manifest version to write.")],
    amendment: Annotated[Path, typer.Option("--amendment", help="Amendment file to write.")],
    add: Annotated[
        Path | None, typer.Option("--add", help="CSV or JSON Lines of records to append.")
    ] = None,
    remove: Annotated[
        list[str], typer.Option("--remove", help="INDEX:REASON to remove (repeatable).")
    ] = [],  # noqa: B006
    mapping: Annotated[
        list[str], typer.Option("--map", help="Rename a column of --add: old=new.")
    ] = [],  # noqa: B006
    created_at: Annotated[
        int | None, typer.Option("--created-at", help="Unix seconds (default: now).")
    ] = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write version n+1 of a manifest and the signed amendment linking it to version n."""
    keys = signing_keys(key, passphrase_file, passphrase_env)
    removals = [_parse_removal(r) for r in remove]
    result = amend_manifest_file(
        manifest,
        out,
        amendment,
        keys=keys,
        additions=add,
        mapping=parse_mapping(mapping),
        removals=removals,
        created_at=now(created_at),
        overwrite=force,
    )
    info = _amendment_info(result)
    Mode(json_output).emit(
        {"ok": True, "file": str(out), "amendment_file": str(amendment), **info},
        lambda: stdout.print(
            f"wrote {out} (version {result.current.header.version}, "
            f"{result.mode.value}) and {amendment}"
        ),
    )


@app.command()
@handle_errors
def blind(
    manifest: Annotated[Path, typer.Argument(help="Private-view manifest file.")],
    pub: PubOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="Blinded manifest to write.")],
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write the blinded view: header and leaf hashes, no records or salts."""
    with manifest.open("rb") as stream:
        report = write_blinded_file(stream, out, _policy(pub, None), overwrite=force)
    Mode(json_output).emit(
        {"ok": True, "file": str(out), "count": report.count},
        lambda: stdout.print(f"wrote {out}: blinded view of {report.count} entries"),
    )
