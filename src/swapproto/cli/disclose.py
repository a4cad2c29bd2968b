"""``swapproto manifest disclose`` (also ``swapproto disclose``) and the JSON form of a
verified disclosure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from swapproto.cli._common import ForceOpt, JsonOpt, distinct_outputs
from swapproto.cli._manifest_common import header_info
from swapproto.cli._output import Mode, handle_errors, plain, stdout
from swapproto.disclosure import VerifiedDisclosure, collect_for_disclosure, make_disclosure
from swapproto.errors import ErrorCode, InputError
from swapproto.manifest_file import ManifestReader, View, atomic_writer


@handle_errors
def disclose(
    manifest: Annotated[
        Path, typer.Argument(metavar="MANIFEST", help="Private-view manifest file.")
    ],
    entry: Annotated[
        list[int], typer.Option("--entry", help="Entry index to disclose (repeatable).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Disclosure file to write.")],
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write a disclosure: entries with their salts, inclusion proof and signed header."""
    distinct_outputs([("-o", out)], [manifest, manifest.with_name(manifest.name + ".opening")])
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
    """The JSON form of a verified disclosure (records with bytes as hex)."""
    return {
        "kind": "disclosure",
        "header": header_info(result.verified.header, result.verified.digest),
        "entries": [{"index": e.index, "record": _jsonable(e.record)} for e in result.entries],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
