"""Options and report forms shared by the ``manifest`` commands and their modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from swapproto.hashing import fingerprint
from swapproto.manifest import ManifestHeader

KeyOpt = Annotated[
    list[Path], typer.Option("--key", help="Private key file (repeat for co-signers).")
]


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
