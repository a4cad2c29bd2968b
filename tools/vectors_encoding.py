"""Vectors for the SP-CMP canonical encoding (``spec/vectors/encoding/``)."""

from __future__ import annotations

from typing import Any

from swapproto.encoding import decode, encode
from swapproto.errors import DecodeError, ErrorCode
from typed_json import to_typed

VALID: list[tuple[str, Any]] = [
    ("nil", None),
    ("false", False),
    ("true", True),
    ("zero", 0),
    ("largest positive fixint", 127),
    ("smallest uint8", 128),
    ("largest uint8", 255),
    ("smallest uint16", 256),
    ("smallest uint32", 65536),
    ("smallest uint64", 2**32),
    ("largest uint64", 2**64 - 1),
    ("-1, negative fixint", -1),
    ("smallest negative fixint", -32),
    ("largest int8", -33),
    ("smallest int8", -128),
    ("largest int16", -129),
    ("smallest int64", -(2**63)),
    ("empty string", ""),
    ("ASCII string", "swapproto"),
    ("Cyrillic string", "Шевченко Тарас"),
    ("Arabic string", "عبد الله"),
    ("precomposed e-acute (NFC)", "é"),
    ("31-byte fixstr", "a" * 31),
    ("32-byte str8", "a" * 32),
    ("256-byte str16", "b" * 256),
    ("empty bin", b""),
    ("bin8", bytes(range(32))),
    ("bin16", b"\xab" * 256),
    ("empty array", []),
    ("nested arrays", [1, [2, [3, []]]]),
    ("16-element array16", list(range(16))),
    ("empty map", {}),
    ("map sorted by UTF-8 bytes", {"Z": 1, "a": 2, "é": 3, "ж": 4, "😀": 5}),
    ("key prefix sorts first", {"a": 1, "aa": 2, "ab": 3, "b": 4}),
    ("16-pair map16", {f"k{i:02d}": i for i in range(16)}),
    (
        "record-like map",
        {
            "family_name": "Коваленко",
            "given_names": "Олена",
            "date_of_birth": "1999-04-01",
            "categories": ["age_18_25", "seriously_wounded"],
        },
    ),
]

REJECTED: list[tuple[str, str, ErrorCode]] = [
    ("non-shortest uint8", "cc01", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest uint16", "cd00ff", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest uint64", "cf00000000ffffffff", ErrorCode.DECODE_NON_SHORTEST),
    ("positive int in int8 form", "d005", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest int16", "d1ff80", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest str8", "d90161", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest bin16", "c5000161", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest array16", "dc000101", ErrorCode.DECODE_NON_SHORTEST),
    ("non-shortest map16", "de0001a16101", ErrorCode.DECODE_NON_SHORTEST),
    ("duplicate keys", "82a16101a16102", ErrorCode.DECODE_DUPLICATE_KEY),
    ("unsorted keys", "82a16201a16102", ErrorCode.DECODE_UNSORTED_KEYS),
    ("integer key", "810102", ErrorCode.DECODE_KEY_TYPE),
    ("bin key", "81c4016102", ErrorCode.DECODE_KEY_TYPE),
    ("nil key", "81c002", ErrorCode.DECODE_KEY_TYPE),
    ("float32", "ca3f800000", ErrorCode.DECODE_FLOAT),
    ("float64", "cb3ff0000000000000", ErrorCode.DECODE_FLOAT),
    ("fixext1", "d40100", ErrorCode.DECODE_EXT),
    ("timestamp ext -1", "d6ff00000000", ErrorCode.DECODE_EXT),
    ("ext8", "c7010100", ErrorCode.DECODE_EXT),
    ("reserved byte 0xc1", "c1", ErrorCode.DECODE_RESERVED),
    ("invalid UTF-8", "a2fffe", ErrorCode.DECODE_INVALID_UTF8),
    ("overlong UTF-8", "a2c0af", ErrorCode.DECODE_INVALID_UTF8),
    ("UTF-8 encoded surrogate", "a3eda080", ErrorCode.DECODE_INVALID_UTF8),
    ("non-NFC string (e + combining acute)", "a365cc81", ErrorCode.DECODE_NOT_NFC),
    ("non-NFC key", "81a365cc8101", ErrorCode.DECODE_NOT_NFC),
    ("trailing byte", "0101", ErrorCode.DECODE_TRAILING),
    ("empty input", "", ErrorCode.DECODE_TRUNCATED),
    ("truncated uint32", "ce0001", ErrorCode.DECODE_TRUNCATED),
    ("truncated array", "9201", ErrorCode.DECODE_TRUNCATED),
    ("map missing its value", "81a161", ErrorCode.DECODE_TRUNCATED),
    ("truncated string", "a5616263", ErrorCode.DECODE_TRUNCATED),
    ("array16 longer than the input", "dc100001", ErrorCode.DECODE_TRUNCATED),
    ("bin8 longer than the input", "c4ff00", ErrorCode.DECODE_TRUNCATED),
    ("map16 longer than the input", "de0010a16101", ErrorCode.DECODE_TRUNCATED),
    ("1 GiB bin32 prefix in 10 bytes", "c6400000000102030405", ErrorCode.DECODE_LIMIT),
    ("1 GiB str32 prefix in 10 bytes", "db400000000102030405", ErrorCode.DECODE_LIMIT),
    ("1 GiB array32 prefix in 10 bytes", "dd400000000102030405", ErrorCode.DECODE_LIMIT),
    ("1 GiB map32 prefix in 10 bytes", "df400000000102030405", ErrorCode.DECODE_LIMIT),
    ("33 nested arrays (limit 32)", "91" * 33 + "c0", ErrorCode.DECODE_DEPTH),
]


def _check_rejected(hexed: str, want: ErrorCode) -> None:
    try:
        decode(bytes.fromhex(hexed))
    except DecodeError as exc:
        if exc.code != want:
            raise AssertionError(f"{hexed}: got {exc.code}, want {want}") from exc
        return
    raise AssertionError(f"{hexed} was accepted")


def generate() -> dict[str, object]:
    """Build the encoding vector files."""
    valid = [
        {"desc": desc, "value": to_typed(value), "encoded": encode(value).hex()}
        for desc, value in VALID
    ]
    for _, hexed, want in REJECTED:
        _check_rejected(hexed, want)
    rejected = [
        {"desc": desc, "encoded": hexed, "want_error": str(want)} for desc, hexed, want in REJECTED
    ]
    return {
        "valid": {
            "desc": "Values and their unique SP-CMP encodings (default limits).",
            "cases": valid,
        },
        "rejected": {
            "desc": "Byte strings a conforming decoder rejects with default limits, and the code.",
            "cases": rejected,
        },
    }
