"""SP-CMP: the canonical msgpack profile every hash and signature is computed over.

A value is one of ``None``, ``bool``, ``int`` (in ``[-2**63, 2**64)``), ``str`` (NFC),
``bytes``, ``list`` (``tuple`` is accepted on encode) or ``dict`` with ``str`` keys.
Its encoding is unique: maps sorted by the UTF-8 bytes of their keys, no duplicate
keys, every integer and length in its shortest msgpack form, strings as ``str``
family, bytes as ``bin`` family. See ``spec/encoding.md``.

:func:`decode` accepts exactly the outputs of :func:`encode`: anything that would not
re-encode to the identical bytes is a :class:`~swapproto.errors.DecodeError` whose
code says why. Decoding is bounded: every length is checked against the configured
:class:`DecodeLimits` and against the bytes actually remaining *before* anything is
allocated, and nesting depth is capped.

Two decoders stand behind :func:`decode`. The reference decoder (:func:`decode_strict`)
walks the bytes token by token and is the normative behaviour. A fast path runs the
msgpack C extension with validating hooks and then re-encodes and compares bytes; it is
used only to *accept* (anything it doubts is handed to the reference decoder, whose
answer, value or error, is final). The test suite checks that both agree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import msgpack

from swapproto.errors import DecodeError, EncodeError, ErrorCode

__all__ = [
    "DEFAULT_LIMITS",
    "DecodeLimits",
    "Value",
    "decode",
    "decode_strict",
    "encode",
    "is_plain_map",
    "strict_packer",
]

Value = None | bool | int | str | bytes | list["Value"] | dict[str, "Value"]
"""A decoded SP-CMP value."""

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
_DEPTH_CAP: Final = 512  # the C extension's own stack is 1024 deep; stay well below


_PLAIN: Final = frozenset({type(None), bool, bytes})
_is_nfc: Final = unicodedata.is_normalized


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeLimits:
    """Bounds applied while decoding untrusted bytes.

    ``max_depth`` counts nested containers (a top-level map is depth 1). Sizes are in
    bytes for ``str``/``bin`` and in elements (pairs for maps) for containers.
    """

    max_input: int = 64 * 1024 * 1024
    max_depth: int = 32
    max_str: int = 1024 * 1024
    max_bin: int = 64 * 1024 * 1024
    max_array: int = 4 * 1024 * 1024
    max_map: int = 4096

    def __post_init__(self) -> None:
        for name in ("max_input", "max_depth", "max_str", "max_bin", "max_array", "max_map"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise TypeError(f"DecodeLimits.{name} must be a non-negative int")
        if self.max_depth > _DEPTH_CAP:
            raise TypeError(f"DecodeLimits.max_depth must be at most {_DEPTH_CAP}")


DEFAULT_LIMITS: Final = DecodeLimits()

# ---------------------------------------------------------------------------------------
# encoding


def encode(obj: object) -> bytes:
    """Return the unique SP-CMP encoding of ``obj``.

    Raises :class:`~swapproto.errors.EncodeError` for anything outside the profile
    (floats, non-``str`` keys, non-NFC strings, sets, out-of-range integers, values
    nested deeper than ``DEFAULT_LIMITS.max_depth``); nothing is converted silently.
    """
    try:
        try:
            return _pack_strict(_canonical(obj, 0, True))
        except TypeError:
            # A subclass of str inside a map taken as plain: the full walk refuses it.
            return _pack_strict(_canonical(obj, 0, False))
    except UnicodeEncodeError:
        # Python strings may hold lone surrogates, which UTF-8 (and SP-CMP) cannot.
        raise EncodeError(
            "a string holds a lone surrogate: it has no UTF-8 encoding",
            code=ErrorCode.ENCODE_NOT_UTF8,
        ) from None


def strict_packer() -> Callable[[object], bytes]:
    """A reusable msgpack packer for canonical values (not thread-safe: one per user).

    It packs exact types only (``strict_types``) and raises ``TypeError`` for anything
    else, subclasses of ``str`` and ``list`` included: what :func:`is_plain_map` leaves
    to the packer. Its output for a canonical value is that of :func:`encode`. It checks
    nothing else: floats and strings not in NFC are packed, a lone surrogate is msgpack's
    ``UnicodeEncodeError`` and an integer out of range its ``OverflowError``. Use it
    only on maps :func:`is_plain_map` accepted; :func:`encode` is the checked form.
    """
    pack: Callable[[object], bytes] = msgpack.Packer(use_bin_type=True, strict_types=True).pack
    return pack


def _packb(obj: object) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def _pack_strict(obj: object) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True, strict_types=True)
    return data


def is_plain_map(obj: Mapping[Any, object]) -> bool:
    """Whether :func:`encode` may pack the map ``obj`` as it stands: the record fast path.

    True when every key is a ``str``, the keys are in canonical order, every value is a
    ``str`` or a ``list`` of ``str``, and every one of these strings is in NFC. Values
    are checked for exact types; keys and list items only to be ``str``: pack the map
    with :func:`strict_packer`, which refuses subclasses with a ``TypeError``, and on
    that error encode it with :func:`encode`. False means "not that simple":
    :func:`encode` checks such a map field by field.
    """
    try:
        # NUL is a starter that composes with nothing: a join is NFC iff each part is.
        key_text = "\x00".join(obj)
        value_text = "\x00".join(
            [
                v if type(v) is str else "\x00".join(v) if type(v) is list else None  # type: ignore[misc]
                for v in obj.values()
            ]
        )
    except TypeError:  # a key, value or item that is not a str
        return False
    if not (value_text.isascii() or _is_nfc("NFC", value_text)):
        return False
    # Without NUL in a key, the joined keys tell the keys: known ones need no check.
    if key_text in _PLAIN_KEYS and key_text.count("\x00") == len(obj) - 1:
        return True
    keys = list(obj)
    if list(map(type, keys)).count(str) != len(keys) or keys != sorted(keys):
        return False
    if not (key_text.isascii() or _is_nfc("NFC", key_text)):
        return False
    if len(_PLAIN_KEYS) < _PLAIN_KEYS_MAX:
        _PLAIN_KEYS.add(key_text)
    return True


_PLAIN_KEYS: Final[set[str]] = set()
"""Joined key lists of plain maps seen (bounded): the records of a kind share a few."""
_PLAIN_KEYS_MAX: Final = 1024


def _canonical(obj: object, depth: int, plain: bool) -> object:
    t = type(obj)
    if t is str:
        if not _is_nfc("NFC", obj):  # type: ignore[arg-type]
            raise EncodeError("string is not in Unicode NFC", code=ErrorCode.ENCODE_NOT_NFC)
        return obj
    if t in _PLAIN:
        return obj
    if t is int:
        if not _INT_MIN <= obj <= _INT_MAX:  # type: ignore[operator]
            raise EncodeError("integer outside the 64-bit range", code=ErrorCode.ENCODE_INT_RANGE)
        return obj
    if t is dict:
        return _canonical_map(obj, depth, plain)  # type: ignore[arg-type]
    if t is list or t is tuple:
        _check_depth(depth)
        return [_canonical(item, depth + 1, plain) for item in obj]  # type: ignore[attr-defined]
    if t is float:
        raise EncodeError("floats are not encodable; use integers", code=ErrorCode.ENCODE_FLOAT)
    raise EncodeError(f"type {t.__name__} is not encodable", code=ErrorCode.ENCODE_TYPE)


def _canonical_map(obj: dict[object, object], depth: int, plain: bool) -> dict[str, object]:
    _check_depth(depth)
    if plain and depth + 1 < DEFAULT_LIMITS.max_depth and is_plain_map(obj):
        return obj  # type: ignore[return-value]  # packed strictly by the caller
    for key in obj:
        if type(key) is not str:
            raise EncodeError("map key is not a str", code=ErrorCode.ENCODE_KEY_TYPE)
        if not _is_nfc("NFC", key):
            raise EncodeError("map key is not in Unicode NFC", code=ErrorCode.ENCODE_NOT_NFC)
    out: dict[str, object] = {}
    # Python orders str by code point, which is the order of their UTF-8 bytes.
    for key in sorted(obj):  # type: ignore[type-var]
        value = obj[key]
        t = type(value)
        # Inline the common scalars: records are flat maps of strings, and this is the
        # manifest builder's hot path.
        if t is str and _is_nfc("NFC", value):  # type: ignore[arg-type]
            out[key] = value  # type: ignore[index]
        else:
            out[key] = _canonical(value, depth + 1, plain)  # type: ignore[index]
    return out


def _check_depth(depth: int) -> None:
    if depth >= DEFAULT_LIMITS.max_depth:
        raise EncodeError("value nested too deeply", code=ErrorCode.ENCODE_DEPTH)


# ---------------------------------------------------------------------------------------
# decoding: public entry point and fast path


def decode(data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> Value:
    """Decode canonical SP-CMP bytes, rejecting anything non-canonical or over limits."""
    if not isinstance(data, bytes):
        raise TypeError("decode() takes bytes")
    if not isinstance(limits, DecodeLimits):
        raise TypeError(f"limits must be DecodeLimits, not {type(limits).__name__}")
    if len(data) > limits.max_input:
        raise DecodeError(
            f"input of {len(data)} bytes exceeds the limit of {limits.max_input}",
            code=ErrorCode.DECODE_LIMIT,
            offset=0,
        )
    value = _decode_fast(data, limits)
    if value is _REJECTED:
        return decode_strict(data, limits=limits)
    return value  # type: ignore[return-value]


class _Doubt(Exception):  # noqa: N818 (control flow, never seen by callers)
    """Raised inside the fast path's hooks; the reference decoder decides."""


_REJECTED: Final = object()
# Map keys repeat across millions of entries; remembering the ones already found in NFC
# saves a normalisation check per key. Bounded, so hostile input cannot grow it.
_NFC_KEYS: Final[set[str]] = set()
_KNOWN_KEYS_MAX: Final = 4096
_CONTAINERS: Final = (list, dict)
_SCALARS: Final = frozenset({type(None), bool, int, str, bytes})


def _decode_fast(data: bytes, limits: DecodeLimits) -> object:
    heights: dict[int, int] = {}  # id(container) -> nesting height, filled bottom-up
    is_nfc = unicodedata.is_normalized
    known_keys = _NFC_KEYS
    max_depth = limits.max_depth

    def check(value: object, height: int) -> int:
        """Check one element; return the height its container needs so far."""
        t = type(value)
        if t is str:
            if not (value.isascii() or is_nfc("NFC", value)):  # type: ignore[attr-defined,arg-type]
                raise _Doubt
        elif t is dict or t is list:
            child = heights[id(value)] + 1
            if child > max_depth:
                raise _Doubt
            return child if child > height else height
        elif t not in _SCALARS:
            raise _Doubt
        return height

    def on_map(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
        previous = None
        height = 1
        for key, value in pairs:
            if type(key) is not str or (previous is not None and key <= previous):
                raise _Doubt
            if key not in known_keys:
                if not is_nfc("NFC", key):
                    raise _Doubt
                if len(known_keys) < _KNOWN_KEYS_MAX:
                    known_keys.add(key)
            previous = key
            if type(value) is str:
                if not (value.isascii() or is_nfc("NFC", value)):
                    raise _Doubt
            else:
                height = check(value, height)
        result = dict(pairs)
        heights[id(result)] = height
        return result

    def on_list(items: list[Any]) -> list[Any]:
        height = 1
        for item in items:
            height = check(item, height)
        heights[id(items)] = height
        return items

    def on_ext(code: int, payload: bytes) -> object:
        raise _Doubt

    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=False,
            object_pairs_hook=on_map,
            list_hook=on_list,
            ext_hook=on_ext,
            max_str_len=limits.max_str,
            max_bin_len=limits.max_bin,
            max_array_len=limits.max_array,
            max_map_len=limits.max_map,
            max_ext_len=0,
        )
        if type(value) in _CONTAINERS:
            if heights[id(value)] > max_depth:
                return _REJECTED
        else:
            check(value, 0)
        if _packb(value) != data:
            return _REJECTED
    except (_Doubt, ValueError, TypeError, OverflowError, KeyError, msgpack.UnpackException):
        return _REJECTED
    return value


# ---------------------------------------------------------------------------------------
# decoding: the reference decoder

_FIXED: Final = {0xC0: None, 0xC2: False, 0xC3: True}
_UINT: Final = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_SINT: Final = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_STR: Final = {0xD9: 1, 0xDA: 2, 0xDB: 4}
_BIN: Final = {0xC4: 1, 0xC5: 2, 0xC6: 4}
_ARRAY: Final = {0xDC: 2, 0xDD: 4}
_MAP: Final = {0xDE: 2, 0xDF: 4}
_EXT: Final = frozenset({0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8})
_FLOAT: Final = frozenset({0xCA, 0xCB})


class _Family(NamedTuple):
    """How one msgpack family encodes lengths, and which limit bounds it."""

    name: str
    fix_max: int  # largest length of the fix form; -1 when the family has none
    has_8bit_form: bool
    limit: str  # the DecodeLimits attribute
    min_item_size: int  # bytes each element takes at least: lets us refuse before allocating


_STR_FAMILY: Final = _Family("string", 31, True, "max_str", 1)
_BIN_FAMILY: Final = _Family("byte string", -1, True, "max_bin", 1)
_ARRAY_FAMILY: Final = _Family("array", 15, False, "max_array", 1)
_MAP_FAMILY: Final = _Family("map", 15, False, "max_map", 2)


def _min_uint_width(n: int) -> int:
    """Width in bytes of the shortest uint form (0 = fixint)."""
    if n < 0x80:
        return 0
    return 1 if n < 1 << 8 else 2 if n < 1 << 16 else 4 if n < 1 << 32 else 8


def _min_sint_width(n: int) -> int:
    """Width of the shortest form of a negative integer (0 = negative fixint)."""
    if n >= -32:
        return 0
    return 1 if n >= -(1 << 7) else 2 if n >= -(1 << 15) else 4 if n >= -(1 << 31) else 8


def _min_len_width(n: int, fix_max: int, has_8bit_form: bool) -> int:
    """Width of the shortest length prefix (0 = fix form; ``fix_max`` -1 = no fix form)."""
    if n <= fix_max:
        return 0
    if n < 1 << 8 and has_8bit_form:
        return 1
    return 2 if n < 1 << 16 else 4


def decode_strict(data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> Value:
    """The reference decoder: same contract as :func:`decode`, token by token."""
    if len(data) > limits.max_input:
        raise DecodeError(
            f"input of {len(data)} bytes exceeds the limit of {limits.max_input}",
            code=ErrorCode.DECODE_LIMIT,
            offset=0,
        )
    reader = _Reader(data, limits)
    value = reader.value(0)
    if reader.pos != len(data):
        raise DecodeError(
            f"{len(data) - reader.pos} trailing bytes after the value",
            code=ErrorCode.DECODE_TRAILING,
            offset=reader.pos,
        )
    return value


class _Reader:
    __slots__ = ("data", "limits", "pos")

    def __init__(self, data: bytes, limits: DecodeLimits) -> None:
        self.data = data
        self.limits = limits
        self.pos = 0

    def fail(self, code: ErrorCode, message: str, offset: int | None = None) -> DecodeError:
        return DecodeError(message, code=code, offset=self.pos if offset is None else offset)

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise self.fail(ErrorCode.DECODE_TRUNCATED, "input ends inside a value")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, width: int) -> int:
        return int.from_bytes(self.take(width), "big")

    def length(self, width: int, family: _Family) -> int:
        """Read a length prefix, check it is shortest, within limits and within input."""
        start = self.pos - 1
        n = self.uint(width)
        if _min_len_width(n, family.fix_max, family.has_8bit_form) != width:
            raise self.fail(
                ErrorCode.DECODE_NON_SHORTEST, f"{family.name} length not shortest", start
            )
        limit = getattr(self.limits, family.limit)
        if n > limit:
            raise self.fail(
                ErrorCode.DECODE_LIMIT, f"{family.name} of {n} exceeds limit {limit}", start
            )
        if n * family.min_item_size > len(self.data) - self.pos:
            raise self.fail(
                ErrorCode.DECODE_TRUNCATED, f"{family.name} longer than the input", start
            )
        return n

    def value(self, depth: int) -> Value:
        start = self.pos
        b = self.take(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, depth, start)
        if 0x90 <= b <= 0x9F:
            return self.array(b & 0x0F, depth, start)
        if 0xA0 <= b <= 0xBF:
            return self.string(b & 0x1F, start)
        if b in _FIXED:
            return _FIXED[b]
        if b in _UINT:
            n = self.uint(_UINT[b])
            if _min_uint_width(n) != _UINT[b]:
                raise self.fail(ErrorCode.DECODE_NON_SHORTEST, "integer not shortest", start)
            return n
        if b in _SINT:
            width = _SINT[b]
            n = int.from_bytes(self.take(width), "big", signed=True)
            if n >= 0 or _min_sint_width(n) != width:
                raise self.fail(ErrorCode.DECODE_NON_SHORTEST, "integer not shortest", start)
            return n
        if b in _STR:
            n = self.length(_STR[b], _STR_FAMILY)
            return self.string(n, start)
        if b in _BIN:
            n = self.length(_BIN[b], _BIN_FAMILY)
            return self.take(n)
        if b in _ARRAY:
            n = self.length(_ARRAY[b], _ARRAY_FAMILY)
            return self.array(n, depth, start)
        if b in _MAP:
            return self.map(self.length(_MAP[b], _MAP_FAMILY), depth, start)
        if b in _FLOAT:
            raise self.fail(ErrorCode.DECODE_FLOAT, "floats are not allowed", start)
        if b in _EXT:
            raise self.fail(ErrorCode.DECODE_EXT, "ext types are not allowed", start)
        raise self.fail(ErrorCode.DECODE_RESERVED, f"reserved type byte 0x{b:02x}", start)

    def string(self, n: int, start: int) -> str:
        if n > self.limits.max_str:
            raise self.fail(ErrorCode.DECODE_LIMIT, "string exceeds limit", start)
        raw = self.take(n)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(ErrorCode.DECODE_INVALID_UTF8, "invalid UTF-8", start) from None
        if not unicodedata.is_normalized("NFC", text):
            raise self.fail(ErrorCode.DECODE_NOT_NFC, "string is not in Unicode NFC", start)
        return text

    def enter(self, depth: int, start: int) -> None:
        if depth + 1 > self.limits.max_depth:
            raise self.fail(ErrorCode.DECODE_DEPTH, "nesting exceeds the depth limit", start)

    def array(self, n: int, depth: int, start: int) -> list[Value]:
        if n > self.limits.max_array:
            raise self.fail(ErrorCode.DECODE_LIMIT, "array exceeds limit", start)
        self.enter(depth, start)
        return [self.value(depth + 1) for _ in range(n)]

    def map(self, n: int, depth: int, start: int) -> dict[str, Value]:
        if n > self.limits.max_map:
            raise self.fail(ErrorCode.DECODE_LIMIT, "map exceeds limit", start)
        self.enter(depth, start)
        result: dict[str, Value] = {}
        previous: bytes | None = None
        for _ in range(n):
            key_start = self.pos
            key = self.value(depth + 1)
            if type(key) is not str:
                raise self.fail(ErrorCode.DECODE_KEY_TYPE, "map key is not a string", key_start)
            raw = key.encode("utf-8")
            if previous is not None and raw <= previous:
                if raw == previous:
                    raise self.fail(ErrorCode.DECODE_DUPLICATE_KEY, "duplicate map key", key_start)
                raise self.fail(ErrorCode.DECODE_UNSORTED_KEYS, "map keys not sorted", key_start)
            previous = raw
            result[key] = self.value(depth + 1)
        return result
