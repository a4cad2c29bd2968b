"""``swapproto manifest build|verify|show|disclose|check|amend|blind``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.table import Table
from rich.text import Text

from swapproto import records
from swapproto._recordspec import FieldError, check_text
from swapproto.amendment import (
    AMENDMENT_FORMAT,
    AMENDMENT_LIMITS,
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
from swapproto.cli._output import Mode, handle_errors, plain, progress_bar, stdout
from swapproto.disclosure import (
    DISCLOSURE_FORMAT,
    DISCLOSURE_LIMITS,
    VerifiedDisclosure,
    collect_for_disclosure,
    make_disclosure,
    verify_disclosure,
)
from swapproto.encoding import DecodeLimits, decode
from swapproto.errors import DecodeError, ErrorCode, InputError
from swapproto.hashing import fingerprint
from swapproto.keys import RolePolicy, SigningKey
from swapproto.manifest import ManifestHeader, VerifiedHeader
from swapproto.manifest_file import (
    ManifestReader,
    View,
    build_manifest_file,
    verify_manifest_file,
    write_blinded_file,
)
from swapproto.tabular import RowReport, TableFormat, iter_records, open_table, parse_mapping

app = typer.Typer(help="Build, verify, show and disclose signed manifests.", no_args_is_help=True)

MAX_LABEL: Final = 200
"""Longest --list or --issuer label, as for names in the terms."""

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


def _label(option: str, value: str) -> str:
    """A list name or issuer label for the signed header: shown to people, so checked
    as the terms check names (non-empty, printable, NFC, no outer space, bounded)."""
    try:
        return check_text(value, MAX_LABEL)
    except FieldError as exc:
        raise InputError(f"{option} {value[:64]!r} {exc.reason}") from None


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
        )
    info = header_info(result.verified.header, result.verified.digest)
    warnings = [
        {"code": w.code, "message": w.message, "entries": list(w.indices)} for w in result.warnings
    ]

    def human() -> None:
        _print_header(f"wrote {out}", info, _signers(result.verified))
        for w in warnings:
            stdout.print(Text.assemble(("warning", "yellow"), " ", plain(w["message"])))

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
        if reader.view is not View.PRIVATE:
            raise InputError(
                f"{manifest} is a blinded view, without records: disclose from the private view",
                code=ErrorCode.INPUT_INVALID,
            )
        count = reader.unverified_header().count
        outside = sorted({i for i in entry if not 0 <= i < count})
        if outside:
            # the caller named entries the manifest does not have: a usage error
            raise InputError(
                f"--entry {outside[0]} is outside a manifest of {count} entries"
                f" (valid: 0 to {count - 1})"
                if count
                else f"--entry {outside[0]}: the manifest has no entries",
                code=ErrorCode.INPUT_INVALID,
            )
        tree, leaves = collect_for_disclosure(reader.leaves(count), entry)
    data = make_disclosure(reader.header_bytes, tree, leaves)
    with atomic_writer(out, overwrite=force) as f:
        f.write(data)
    obj = {"ok": True, "file": str(out), "entries": sorted(leaves), "bytes": len(data)}
    Mode(json_output).emit(
        obj,
        lambda: stdout.print(plain(f"wrote {out}: entries {sorted(leaves)}, {len(data)} bytes")),
    )


def disclosure_info(result: VerifiedDisclosure) -> dict[str, Any]:
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


@app.command()
@handle_errors
def check(
    proof: Annotated[Path, typer.Argument(help="Disclosure or amendment file.")],
    pub: PubOpt,
    threshold: ThresholdOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Check a disclosure or an amendment offline against the issuer's public key."""
    data = _read_proof(proof)
    policy = _policy(pub, threshold)
    if _proof_format(proof, data) == AMENDMENT_FORMAT:
        info = _amendment_info(verify_amendment(data, policy))
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


_INDEX: Final = re.compile(r"[0-9]{1,19}")


def _parse_removal(text: str) -> tuple[int, RemovalReason]:
    """``INDEX:REASON``; INDEX is plain ASCII digits (no sign, ``_`` or other digits)."""
    index, _, reason = text.partition(":")
    if _INDEX.fullmatch(index) and reason in set(RemovalReason):
        return int(index), RemovalReason(reason)
    reasons = ", ".join(r.value for r in RemovalReason)
    raise InputError(
        f"--remove {text[:64]!r}: expected INDEX:REASON with INDEX a non-negative integer"
        f" and REASON one of {reasons}"
    )


def _citation(
    manifest: Path, keys: list[SigningKey], exchange: Path | None, cites: str | None
) -> bytes | None:
    """The commit message id an amendment cites, from --cites or the exchange directory."""
    if cites is not None and exchange is not None:
        raise InputError("give --exchange or --cites, not both")
    if cites is not None:
        try:
            cited = bytes.fromhex(cites)
        except ValueError:
            raise InputError("--cites must be a message id in hex") from None
        if len(cited) != 32:
            raise InputError("--cites must be a 32-byte message id (64 hex digits)")
        return cited
    if exchange is None:
        return None
    from swapproto.exchange_dir import ExchangeDir

    with manifest.open("rb") as stream:
        header = ManifestReader(stream).unverified_header()
    directory = ExchangeDir(exchange)
    terms = directory.terms()
    role = terms.role_of_key(keys[0].key_id)
    if role not in ("a", "b") or header.exchange != terms.exchange_id:
        raise InputError(f"{manifest} is not this party's list of that exchange")
    party, _ = directory.party(role, keys)
    commit = party.commits(role).get(header.list_name)
    if commit is None:
        raise InputError(f"there is no commit of list {header.list_name!r} to cite in {exchange}")
    return commit.id


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
    exchange: Annotated[
        Path | None,
        typer.Option(
            "--exchange",
            help="Exchange directory: cite this party's commit of the list (its statement).",
        ),
    ] = None,
    cites: Annotated[
        str | None, typer.Option("--cites", help="Message id (hex) of the commit to cite.")
    ] = None,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write version n+1 of a manifest and the signed amendment linking it to version n.

    A list bound to an exchange must cite the commit that carried its statement: give
    --exchange (the commit is found there) or --cites.
    """
    keys = signing_keys(key, passphrase_file, passphrase_env)
    cited = _citation(manifest, keys, exchange, cites)
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
        cites=cited,
    )
    info = _amendment_info(result)
    Mode(json_output).emit(
        {"ok": True, "file": str(out), "amendment_file": str(amendment), **info},
        lambda: stdout.print(
            plain(
                f"wrote {out} (version {result.current.header.version}, "
                f"{result.mode.value}) and {amendment}"
            )
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
        lambda: stdout.print(plain(f"wrote {out}: blinded view of {report.count} entries")),
    )
