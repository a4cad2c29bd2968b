"""Loaders for the manifest vectors (``spec/vectors/manifest/``, ``spec/manifest.md`` §9).

Imported by the manifest, disclosure and amendment tests as ``manifest_vectors``.
"""

from __future__ import annotations

import io
from typing import Any

from _manifest_vectors import error_code as error_code
from helpers import load_vectors
from swapproto.keys import PublicKey
from swapproto.manifest_file import MAGIC, BuildResult, build_manifest

SMALL = load_vectors("manifest", "small")
SEVEN = load_vectors("manifest", "seven")
DISCLOSURE = load_vectors("manifest", "disclosure")
AMENDMENT = load_vectors("manifest", "amendment")
MANIFESTS = {"small": SMALL, "seven": SEVEN}
ISSUER = PublicKey.from_bytes(bytes.fromhex(SMALL["issuer_public_key"]))


def edited(base: bytes, case: dict[str, Any]) -> bytes:
    """``base[:offset] + insert + base[offset + delete:]``: a rejected case's bytes."""
    start, end = case["offset"], case["offset"] + case["delete"]
    assert end <= len(base)
    return base[:start] + bytes.fromhex(case["insert"]) + base[end:]


def listed_salts(salts: list[str]) -> Any:
    """A salt source handing out the listed salts in order (then failing)."""
    pending = [bytes.fromhex(s) for s in salts]

    def source(n: int) -> bytes:
        out = b"".join(pending[: n // 32])
        del pending[: n // 32]
        return out + bytes(n - len(out))  # unused padding of the 4,096-salt batch

    return source


def rebuild(inputs: dict[str, Any], rows: list[Any] | None = None) -> tuple[bytes, BuildResult]:
    """Build a manifest file from a vector's ``inputs`` (``rows`` overrides the records)."""
    from swapproto.keys import SigningKey

    out = io.BytesIO()
    result = build_manifest(
        out,
        inputs["records"] if rows is None else rows,
        kind=inputs.get("kind", "prisoner"),
        list_name=inputs.get("list", "pows"),
        issuer=inputs.get("issuer", "a"),
        keys=[SigningKey.from_seed(bytes.fromhex(inputs["issuer_seed"]))],
        created_at=inputs["created_at"],
        exchange=bytes.fromhex(inputs["exchange"]) if inputs.get("exchange") else None,
        version=inputs["version"],
        previous=bytes.fromhex(inputs["previous"]) if inputs.get("previous") else None,
        salt_source=listed_salts(inputs["salts"]),
        keep_hashes=True,
        parallel=False,
    )
    return out.getvalue(), result


def assemble(manifest: dict[str, Any]) -> bytes:
    """The private-view file of a manifest vector, from its header envelope and leaves."""
    header = bytes.fromhex(manifest["header_envelope"])
    frames = b"".join(
        len(leaf).to_bytes(4, "big") + leaf for leaf in map(bytes.fromhex, manifest["leaves"])
    )
    return MAGIC + b"P" + len(header).to_bytes(4, "big") + header + frames
