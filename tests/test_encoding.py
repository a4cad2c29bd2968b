"""SP-CMP canonical encoding: round trips, rejections, bounds, fuzzing."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import load_vectors
from swapproto.encoding import DEFAULT_LIMITS, DecodeLimits, decode, decode_strict, encode
from swapproto.errors import DecodeError, EncodeError, ErrorCode, SwapprotoError
from typed_json import from_typed

nfc_text = st.text(max_size=40).map(lambda s: unicodedata.normalize("NFC", s))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | nfc_text
    | st.binary(max_size=300)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(nfc_text, children, max_size=6)
    ),
    max_leaves=30,
)


def _both(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> tuple[str, Any]:
    """Decode with the public decoder and the reference; they must agree exactly."""
    outcomes = []
    for fn in (decode, decode_strict):
        try:
            outcomes.append(("ok", fn(data, limits=limits)))
        except DecodeError as exc:
            outcomes.append(("err", exc.code))
    assert outcomes[0] == outcomes[1], (data.hex(), outcomes)
    return outcomes[0]


@given(values)
def test_round_trip(value: Any) -> None:
    data = encode(value)
    assert decode(data) == value
    assert decode_strict(data) == value
    assert encode(decode(data)) == data


@given(st.dictionaries(nfc_text, scalars, max_size=10), st.randoms(use_true_random=False))
def test_encoding_is_key_order_independent(mapping: dict[str, Any], rnd: random.Random) -> None:
    items = list(mapping.items())
    rnd.shuffle(items)
    assert encode(dict(items)) == encode(mapping)


def _key_sorted(value: Any) -> Any:
    """``value`` with every map's keys in UTF-8 byte order (plain msgpack keeps order)."""
    if isinstance(value, dict):
        ordered = sorted(value.items(), key=lambda kv: kv[0].encode("utf-8"))
        return {k: _key_sorted(v) for k, v in ordered}
    if isinstance(value, list):
        return [_key_sorted(v) for v in value]
    return value


@given(values)
def test_encoding_is_deterministic_and_matches_plain_msgpack_when_sorted(value: Any) -> None:
    expected = msgpack.packb(_key_sorted(value), use_bin_type=True)
    assert encode(value) == expected
    assert encode(value) == encode(value)


@given(values, st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_single_byte_mutation_reencodes_or_is_rejected(value: Any, data: st.DataObject) -> None:
    original = encode(value)
    pos = data.draw(st.integers(0, len(original) - 1))
    byte = data.draw(st.integers(0, 255))
    mutated = original[:pos] + bytes([byte]) + original[pos + 1 :]
    status, result = _both(mutated)
    if status == "ok":
        assert encode(result) == mutated


def test_tuples_encode_as_arrays() -> None:
    assert encode((1, 2)) == encode([1, 2]) == b"\x92\x01\x02"


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5, ErrorCode.ENCODE_FLOAT),
        ({1: 2}, ErrorCode.ENCODE_KEY_TYPE),
        ({b"k": 2}, ErrorCode.ENCODE_KEY_TYPE),
        ("e\u0301", ErrorCode.ENCODE_NOT_NFC),
        ({"e\u0301": 1}, ErrorCode.ENCODE_NOT_NFC),
        ({1, 2}, ErrorCode.ENCODE_TYPE),
        (bytearray(b"x"), ErrorCode.ENCODE_TYPE),
        (2**64, ErrorCode.ENCODE_INT_RANGE),
        (-(2**63) - 1, ErrorCode.ENCODE_INT_RANGE),
        (_nested(33), ErrorCode.ENCODE_DEPTH),
        (object(), ErrorCode.ENCODE_TYPE),
    ],
)
def test_encoder_refuses_values_outside_the_profile(value: object, code: ErrorCode) -> None:
    with pytest.raises(EncodeError) as info:
        encode(value)
    assert info.value.code == code
    assert isinstance(info.value, SwapprotoError)


def test_integer_boundaries_use_shortest_forms() -> None:
    cases = {
        0: "00",
        127: "7f",
        128: "cc80",
        255: "ccff",
        256: "cd0100",
        65536: "ce00010000",
        2**32: "cf0000000100000000",
        -1: "ff",
        -32: "e0",
        -33: "d0df",
        -129: "d1ff7f",
        -(2**63): "d38000000000000000",
    }
    for value, hexed in cases.items():
        assert encode(value).hex() == hexed
        assert decode(bytes.fromhex(hexed)) == value


def test_length_boundaries_use_shortest_forms() -> None:
    assert encode("a" * 31)[:1] == b"\xbf"
    assert encode("a" * 32)[:2] == b"\xd9\x20"
    assert encode("a" * 256)[:3] == b"\xda\x01\x00"
    assert encode(b"")[:2] == b"\xc4\x00"
    assert encode(list(range(16)))[:3] == b"\xdc\x00\x10"
    assert encode({str(i): 0 for i in range(16)})[:3] == b"\xde\x00\x10"


def test_keys_sorted_by_utf8_bytes() -> None:
    # "Z" < "a" < "é" < "ж" < "😀" in both code points and UTF-8 bytes.
    data = encode({"ж": 1, "a": 2, "😀": 3, "Z": 4, "é": 5})
    assert list(decode(data)) == ["Z", "a", "é", "ж", "😀"]  # type: ignore[arg-type]


# --- rejections, one per code -----------------------------------------------------------

REJECTED = load_vectors("encoding", "rejected")["cases"]


@pytest.mark.parametrize("case", REJECTED, ids=[c["desc"] for c in REJECTED])
def test_decoder_rejects(case: dict[str, str]) -> None:
    for fn in (decode, decode_strict):
        with pytest.raises(DecodeError) as info:
            fn(bytes.fromhex(case["encoded"]))
        assert info.value.code == case["want_error"], case["desc"]


def test_nesting_at_the_limit_is_accepted() -> None:
    data = b"\x91" * 31 + b"\x90"
    assert _both(data)[0] == "ok"


@pytest.mark.parametrize(
    ("limits", "value"),
    [
        (DecodeLimits(max_str=3), "abcd"),
        (DecodeLimits(max_bin=3), b"abcd"),
        (DecodeLimits(max_array=3), [1, 2, 3, 4]),
        (DecodeLimits(max_map=1), {"a": 1, "b": 2}),
        (DecodeLimits(max_depth=2), [[[]]]),
        (DecodeLimits(max_input=4), "abcd"),
    ],
)
def test_configured_limits(limits: DecodeLimits, value: Any) -> None:
    data = encode(value)
    assert decode(data) == value
    status, code = _both(data, limits)
    assert status == "err"
    assert code in (ErrorCode.DECODE_LIMIT, ErrorCode.DECODE_DEPTH)


def test_limits_must_be_sane() -> None:
    with pytest.raises(TypeError):
        DecodeLimits(max_depth=-1)
    with pytest.raises(TypeError):
        DecodeLimits(max_depth=100_000)


def test_decode_requires_bytes() -> None:
    with pytest.raises(TypeError):
        decode(bytearray(b"\x00"))  # type: ignore[arg-type]


def test_error_carries_offset() -> None:
    with pytest.raises(DecodeError) as info:
        decode(bytes.fromhex("92" + "01" + "cc01"))
    assert info.value.offset == 2


# --- fuzzing ------------------------------------------------------------------------------


def _seeds() -> list[bytes]:
    return [
        encode(v)
        for v in (
            {"a": 1, "b": [1, 2, {"c": b"\x00" * 40}], "d": "жёлтый", "e": None, "f": True},
            [2**63, -(2**63), 65536, -129, "x" * 40, b"y" * 300],
            {"k" * 40: {"n": [[], {}, [[[]]]]}, "z": -1},
        )
    ]


@pytest.mark.slow
def test_fuzz_decode_sees_only_values_or_decode_errors() -> None:
    rnd = random.Random(20251125)
    seeds = _seeds()
    accepted = 0
    for i in range(100_000):
        if i % 4 == 0:
            data = bytearray(rnd.randbytes(rnd.randint(0, 24)))
        else:
            data = bytearray(rnd.choice(seeds))
            for _ in range(rnd.randint(1, 3)):
                op = rnd.randint(0, 2)
                pos = rnd.randint(0, len(data) - 1) if data else 0
                if op == 0 and data:
                    data[pos] = rnd.randint(0, 255)
                elif op == 1:
                    data.insert(pos, rnd.randint(0, 255))
                elif data:
                    del data[pos]
        blob = bytes(data)
        try:
            value = decode(blob)
        except DecodeError:
            continue
        accepted += 1
        assert encode(value) == blob
    assert accepted > 0


def test_fast_and_reference_decoders_agree_on_mutations() -> None:
    rnd = random.Random(7)
    for seed in _seeds():
        for _ in range(3000):
            data = bytearray(seed)
            data[rnd.randrange(len(data))] = rnd.randint(0, 255)
            _both(bytes(data))


# --- vectors ------------------------------------------------------------------------------


VALID = load_vectors("encoding", "valid")["cases"]


@pytest.mark.parametrize("case", VALID, ids=[c["desc"] for c in VALID])
def test_valid_vectors(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["encoded"])
    value = from_typed(case["value"])
    assert encode(value) == data
    assert decode(data) == value
    assert decode_strict(data) == value


def test_vector_decoder_matches_plain_msgpack_for_valid_cases() -> None:
    # An independent decoder (msgpack's own) reads the canonical bytes to the same value.
    for case in load_vectors("encoding", "valid")["cases"]:
        data = bytes.fromhex(case["encoded"])
        assert msgpack.unpackb(data, raw=False) == decode(data)


# --- the plain-map fast path --------------------------------------------------------------------
# encode() packs a map of str keys to str / list-of-str values as it stands once it has checked
# order and NFC; anything else takes the full walk. Both must give the same bytes or error.


class _Str(str):
    __slots__ = ()


def _reference(value: object) -> tuple[str, object]:
    """The full walk alone (no fast path): bytes, or the error code."""
    from swapproto.encoding import _canonical, _pack_strict

    try:
        return "ok", _pack_strict(_canonical(value, 0, False))
    except EncodeError as exc:
        return "err", exc.code


def _outcome(value: object) -> tuple[str, object]:
    try:
        return "ok", encode(value)
    except EncodeError as exc:
        return "err", exc.code


any_text = st.text(max_size=8)  # NFC or not
flat_values = st.one_of(any_text, st.lists(any_text, max_size=3))
flat_maps = st.dictionaries(any_text, flat_values, max_size=8)


@settings(max_examples=500)
@given(flat_maps, st.randoms(use_true_random=False))
def test_plain_maps_encode_as_the_full_walk_does(
    mapping: dict[str, Any], rnd: random.Random
) -> None:
    items = list(mapping.items())
    rnd.shuffle(items)
    for value in (mapping, dict(items), dict(sorted(items)), {"r": dict(sorted(items)), "i": 1}):
        assert _outcome(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {_Str("a"): "x"},
        {"a": _Str("x")},
        {"a": [_Str("x")]},
        {"a": ["x"], "b": _Str("y")},
        {"r": {"a": ["x", _Str("y")]}},
    ],
)
def test_str_subclasses_are_refused_as_before(value: object) -> None:
    assert _outcome(value) == _reference(value)
    assert _outcome(value)[0] == "err"


def test_known_key_lists_do_not_vouch_for_keys_holding_nul() -> None:
    from swapproto.encoding import is_plain_map

    assert is_plain_map({"b": "1", "b\x00a": "2"})  # sorted; its joined keys are remembered
    tricky = {"b\x00b": "1", "a": "2"}  # joins the same way, but is not sorted
    assert not is_plain_map(tricky)
    assert encode(tricky) == encode(dict(sorted(tricky.items())))
    assert list(decode(encode(tricky))) == ["a", "b\x00b"]  # type: ignore[arg-type]


def test_is_plain_map_cases() -> None:
    from swapproto.encoding import is_plain_map, strict_packer

    assert is_plain_map({})
    assert is_plain_map({"a": "x", "b": ["y", "z"], "c": []})
    assert not is_plain_map({"b": "x", "a": "y"})  # order
    assert not is_plain_map({"a": "e\u0301"})  # not NFC
    assert not is_plain_map({"e\u0301": "a"})
    assert not is_plain_map({"a": ["e\u0301"]})
    assert not is_plain_map({"a": 1})
    assert not is_plain_map({"a": ("x",)})
    assert not is_plain_map({"a": None})
    assert not is_plain_map({1: "x"})
    value = {"a": "x", "b": ["y"]}
    assert strict_packer()(value) == encode(value)
    with pytest.raises(TypeError):
        strict_packer()({"a": ("x",)})


@pytest.mark.parametrize("value", ["\ud800", {"a": "x\udfff"}, ["ok", "\ud800"], {"\udc00": 1}])
def test_lone_surrogates_are_refused_with_a_typed_error(value: object) -> None:
    with pytest.raises(EncodeError) as info:
        encode(value)
    assert info.value.code == ErrorCode.ENCODE_NOT_UTF8
