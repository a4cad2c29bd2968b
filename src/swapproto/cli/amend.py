"""``swapproto manifest amend`` and the JSON form of a verified amendment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from swapproto.amendment import RemovalReason, VerifiedAmendment
from swapproto.amendment_file import amend_manifest_file
from swapproto.cli._common import (
    ForceOpt,
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    distinct_outputs,
    exchange_terms,
    now,
    signing_keys,
)
from swapproto.cli._manifest_common import KeyOpt, header_info
from swapproto.cli._output import Mode, handle_errors, plain, progress_bar, stdout
from swapproto.errors import InputError
from swapproto.keys import SigningKey
from swapproto.manifest_file import ManifestReader
from swapproto.tabular import parse_mapping


def amendment_info(result: VerifiedAmendment) -> dict[str, Any]:
    """The JSON form of a verified amendment."""
    return {
        "kind": "amendment",
        "mode": result.mode.value,
        "previous": header_info(result.previous.header, result.previous.digest),
        "current": header_info(result.current.header, result.current.digest),
        "removed": [
            {"index": r.index, "id": r.record_id, "reason": r.reason.value} for r in result.removed
        ],
    }


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
    terms = exchange_terms(directory)
    role = terms.role_of_key(keys[0].key_id)
    if role not in ("a", "b") or header.exchange != terms.exchange_id:
        raise InputError(f"{manifest} is not this party's list of that exchange")
    party, _ = directory.party(role, keys)
    commit = party.commits(role).get(header.list_name)
    if commit is None:
        raise InputError(f"there is no commit of list {header.list_name!r} to cite in {exchange}")
    return commit.id


@handle_errors
def amend(
    manifest: Annotated[
        Path, typer.Argument(metavar="MANIFEST", help="The current version (private view).")
    ],
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
    distinct_outputs(
        [("-o", out), ("--amendment", amendment)], [manifest, add, passphrase_file, *key]
    )
    keys = signing_keys(key, passphrase_file, passphrase_env)
    cited = _citation(manifest, keys, exchange, cites)
    removals = [_parse_removal(r) for r in remove]
    with progress_bar("amending", None, enabled=not json_output) as tick:
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
            progress=tick,
            parallel=None,
        )
    info = amendment_info(result)
    Mode(json_output).emit(
        {"ok": True, "file": str(out), "amendment_file": str(amendment), **info},
        lambda: stdout.print(
            plain(
                f"wrote {out} (version {result.current.header.version}, "
                f"{result.mode.value}) and {amendment}"
            )
        ),
    )
