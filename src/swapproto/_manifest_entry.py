"""Manifest entries: the leaf encoding of ``(index, kind, record, salt)`` and its checks.

Each entry's SP-CMP encoding ``{"i": index, "k": kind, "r": record, "s": salt}`` is one
Merkle leaf (``spec/manifest.md`` §4). :func:`check_entry` is the full check a verifier
runs on every leaf, with a fast path that accepts exactly what the strict decoder
accepts. Re-exported by :mod:`swapproto.manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import msgpack

from swapproto import records
from swapproto._manifest_header import invalid
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.errors import DecodeError, ErrorCode, InputError, VerificationError

__all__ = [
    "ENTRY_I",
    "ENTRY_K",
    "ENTRY_LIMITS",
    "ENTRY_R",
    "ENTRY_S",
    "SALT_SIZE",
    "Entry",
    "check_entry",
    "decode_entry",
    "encode_entry",
]

_unpackb: Final = msgpack.unpackb
_packb: Final = msgpack.packb
_UnpackException: Final = msgpack.UnpackException
# The fixed bytes of an entry {"i": index, "k": kind, "r": record, "s": salt} (a map
# of 4, its keys, the bin 8 header of the salt), between which the values go.
ENTRY_I: Final = b"\x84\xa1i"
ENTRY_K: Final = b"\xa1k"
ENTRY_R: Final = b"\xa1r"
ENTRY_S: Final = b"\xa1s\xc4\x20"
SALT_SIZE: Final = 32
_ENTRY_KEYS: Final = ["i", "k", "r", "s"]
ENTRY_LIMITS: Final = DecodeLimits(
    max_input=64 * 1024, max_depth=8, max_str=4096, max_bin=4096, max_array=256, max_map=64
)
"""Bounds for one entry: records are small, so anything larger is hostile."""


def encode_entry(index: int, kind: str, record: dict[str, Any], salt: bytes) -> bytes:
    """The leaf bytes of one entry: ``encode({"i": index, "k": kind, "r": record, "s": salt})``."""
    if len(salt) != SALT_SIZE:
        raise InputError("salt must be 32 bytes", code=ErrorCode.INPUT_INVALID)
    return encode({"i": index, "k": kind, "r": record, "s": salt})


@dataclass(frozen=True, slots=True)
class Entry:
    """One decoded manifest entry, checked for form (not for authenticity).

    An entry is trusted only when it comes out of a verifier that also checked it
    against a signed root (:func:`~swapproto.disclosure.verify_disclosure`,
    :func:`~swapproto.manifest_file.verify_manifest_file`).
    """

    index: int
    kind: str
    record: dict[str, Any]
    salt: bytes = field(repr=False)


def decode_entry(leaf: bytes) -> Entry:
    """Decode leaf bytes into an entry, checking canonical form and entry structure.

    The record is not checked against its kind (:func:`check_entry` does that) and the
    leaf against no root. Raises :class:`~swapproto.errors.VerificationError`
    (``verify.manifest_invalid``).
    """
    value = decode(leaf, limits=ENTRY_LIMITS)
    if type(value) is not dict or list(value) != _ENTRY_KEYS:
        raise invalid("an entry must be a map with exactly the keys i, k, r, s")
    index, kind, record, salt = value["i"], value["k"], value["r"], value["s"]
    if type(index) is not int or index < 0:
        raise invalid("entry index must be a non-negative integer")
    if type(kind) is not str or type(record) is not dict:
        raise invalid("entry kind must be a string and its record a map")
    if type(salt) is not bytes or len(salt) != SALT_SIZE:
        raise invalid("entry salt must be 32 bytes")
    return Entry(index, kind, record, salt)


def check_entry(leaf: bytes, *, index: int, kind: str) -> Entry:
    """Full check of one entry: canonical, well-formed, at ``index``, of ``kind``, valid record.

    Raises :class:`~swapproto.errors.VerificationError` (code ``verify.manifest_invalid``)
    naming the entry; the underlying decode or schema error is chained.
    """
    entry = _check_entry_fast(leaf, index, kind)
    if entry is not None:
        return entry
    try:
        entry = decode_entry(leaf)
        if entry.index != index:
            raise invalid(f"entry at position {index} claims index {entry.index}")
        if entry.kind != kind:
            raise invalid(f"entry kind {entry.kind!r} differs from the header's {kind!r}")
        records.validate_canonical(kind, entry.record)
    except VerificationError:
        raise
    except (DecodeError, InputError) as exc:
        raise VerificationError(
            f"entry {index} is invalid: {exc}",
            code=ErrorCode.VERIFY_MANIFEST,
            index=index,
            cause=exc.code,
        ) from exc
    return entry


def _check_entry_fast(leaf: bytes, index: int, kind: str) -> Entry | None:
    """The hot path of :func:`check_entry`; ``None`` means "let the slow path decide".

    It accepts exactly what the slow path accepts: msgpack's C decoder reads the leaf,
    re-encoding must give the identical bytes (shortest forms, no duplicate keys, no
    trailing bytes), the entry's shape is fixed, the record's keys must be sorted (a
    record with nested maps is left to the slow path), and
    the record validator checks every field's exact type, NFC and vocabulary (so
    floats, ext values, non-str keys and nesting cannot pass).
    """
    if len(leaf) > ENTRY_LIMITS.max_input:
        return None
    try:
        value = _unpackb(leaf, raw=False)
        if type(value) is not dict or _packb(value, use_bin_type=True) != leaf:
            return None
        if list(value) != _ENTRY_KEYS:
            return None
        i, k, r, salt = value["i"], value["k"], value["r"], value["s"]
        if i != index or type(i) is not int or k != kind or type(k) is not str:
            return None
        if type(salt) is not bytes or len(salt) != SALT_SIZE or type(r) is not dict:
            return None
        keys = list(r)
        if keys != sorted(keys):
            return None
        # msgpack keeps a map's key order, so only the top-level and record maps are
        # checked for sorted keys here; a record with nested maps (evidence items) goes
        # to the strict decoder, which checks every map
        for v in r.values():
            if type(v) is dict or (type(v) is list and any(type(x) is dict for x in v)):
                return None
        records.validate_canonical(kind, r)
    except (ValueError, TypeError, OverflowError, InputError, _UnpackException):
        return None
    return Entry(i, k, r, salt)
