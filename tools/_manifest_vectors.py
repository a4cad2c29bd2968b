"""Shared inputs and helpers of the manifest, disclosure and amendment vectors.

Everything is fixed: the issuer key comes from a seed, salts are derived from a counter
(:func:`fixed_salt`), times are constants and Ed25519 is deterministic, so every byte
is stable. Every rejected case records the code the reference implementation reports
(``want_error``), computed here by running it, and is stored as an edit of a named
valid byte string (:func:`edit`) to keep the files small.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

from swapproto.encoding import decode, encode
from swapproto.envelope import SignedEnvelope, sign_envelope
from swapproto.errors import SwapprotoError
from swapproto.keys import SigningKey
from swapproto.manifest import HEADER_TYPE
from swapproto.manifest_file import BuildResult, build_manifest

CREATED_AT = 1748822400  # 2025-06-02T00:00:00Z
ISSUER_SEED = bytes(range(32))
OTHER_SEED = b"\x42" * 32
KEY = SigningKey.from_seed(ISSUER_SEED)
OTHER_KEY = SigningKey.from_seed(OTHER_SEED)
SALT_RULE = 'salt(n) = SHA-256("swapproto vector salt" || u32be(n)), n = salt_first + position'
EXCHANGE = hashlib.sha256(b"swapproto vector exchange").digest()
CITES = hashlib.sha256(b"swapproto vector commit").digest()

Check = Callable[[bytes], object]


def fixed_salt(n: int) -> bytes:
    """Salt number ``n`` of the vectors (never do this outside vectors)."""
    return hashlib.sha256(b"swapproto vector salt" + n.to_bytes(4, "big")).digest()


def salt_source(first: int) -> Callable[[int], bytes]:
    """A salt source handing out ``fixed_salt(first)``, ``fixed_salt(first + 1)``, ..."""
    counter = iter(range(first, 1 << 30))

    def source(n: int) -> bytes:
        return b"".join(fixed_salt(next(counter)) for _ in range(n // 32))

    return source


def build(
    rows: list[Any],
    *,
    salt_first: int,
    list_name: str = "pows",
    issuer: str = "a",
    exchange: bytes | None = None,
    version: int = 1,
    previous: bytes | None = None,
    created_at: int = CREATED_AT,
) -> tuple[bytes, BuildResult]:
    """A private-view manifest file of ``rows`` (records, or ``(record, salt)`` pairs)."""
    out = io.BytesIO()
    result = build_manifest(
        out,
        rows,
        kind="prisoner",
        list_name=list_name,
        issuer=issuer,
        keys=[KEY],
        created_at=created_at,
        exchange=exchange,
        version=version,
        previous=previous,
        salt_source=salt_source(salt_first),
        keep_hashes=True,
        parallel=False,
    )
    return out.getvalue(), result


def inputs(records: list[dict[str, Any]], *, salt_first: int, **header: Any) -> dict[str, Any]:
    """The inputs of a build, as a vector file lists them."""
    return {
        "issuer_seed": ISSUER_SEED.hex(),
        "records": records,
        "salt_first": salt_first,
        "salt_rule": SALT_RULE,
        "salts": [fixed_salt(salt_first + i).hex() for i in range(len(records))],
        **header,
    }


def error_code(check: Check, data: bytes) -> str | None:
    """The code ``check(data)`` fails with, or None if it accepts."""
    try:
        check(data)
    except SwapprotoError as exc:
        return str(exc.code)
    return None


def edit(base: bytes, mutated: bytes) -> dict[str, Any]:
    """The smallest single edit turning ``base`` into ``mutated``:
    ``mutated = base[:offset] + insert + base[offset + delete:]``."""
    offset, limit = 0, min(len(base), len(mutated))
    while offset < limit and base[offset] == mutated[offset]:
        offset += 1
    tail = 0
    while tail < limit - offset and base[-1 - tail] == mutated[-1 - tail]:
        tail += 1
    return {
        "offset": offset,
        "delete": len(base) - offset - tail,
        "insert": mutated[offset : len(mutated) - tail].hex(),
    }


def case(
    desc: str, base_name: str, base: bytes, mutated: bytes, check: Check, **more: Check
) -> dict[str, Any]:
    """A rejected case: the edit, and the code each named check reports."""
    assert mutated != base, desc
    out: dict[str, Any] = {"desc": desc, "base": base_name, **edit(base, mutated)}
    for name, fn in (("want_error", check), *((f"want_error_{k}", f) for k, f in more.items())):
        code = error_code(fn, mutated)
        assert code is not None, f"{desc}: accepted by {name}"
        out[name] = code
    return out


def flip(data: bytes, pos: int, mask: int = 0x01) -> bytes:
    """``data`` with byte ``pos`` xor ``mask``."""
    out = bytearray(data)
    out[pos] ^= mask
    return bytes(out)


def put(data: bytes, pos: int, new: bytes) -> bytes:
    """``data`` with ``new`` written over it at ``pos``."""
    return data[:pos] + new + data[pos + len(new) :]


def find_once(data: bytes, part: bytes) -> int:
    """The offset of the only occurrence of ``part`` in ``data``."""
    pos = data.find(part)
    assert pos >= 0, part.hex()
    assert data.find(part, pos + 1) < 0, part.hex()
    return pos


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the only occurrence of ``old`` replaced by ``new``."""
    pos = find_once(data, old)
    return data[:pos] + new + data[pos + len(old) :]


def signature_of(envelope: bytes) -> bytes:
    """The (first) Ed25519 signature of an envelope."""
    return SignedEnvelope.from_bytes(envelope).signatures[0].ed25519


def flip_signature(data: bytes, envelope: bytes) -> bytes:
    """``data`` with a bit flipped in the first byte of ``envelope``'s Ed25519 signature."""
    return flip(data, find_once(data, signature_of(envelope)))


def resign(
    envelope: bytes,
    *,
    key: SigningKey = KEY,
    payload_type: str | None = None,
    **changes: Any,
) -> bytes:
    """``envelope`` with payload fields set to new values and signed again."""
    env = SignedEnvelope.from_bytes(envelope)
    value: Any = decode(env.payload)
    value.update(changes)
    return sign_envelope(payload_type or env.payload_type, value, [key]).to_bytes()


def resign_header(envelope: bytes, **changes: Any) -> bytes:
    """A manifest header envelope with changed fields, signed by the issuer."""
    return resign(envelope, payload_type=HEADER_TYPE, **changes)


def container(value: dict[str, Any]) -> bytes:
    """``encode(value)``, for rebuilt disclosure and amendment containers."""
    return encode(value)
