"""Sealed containers (spec/sealing.md): round trips, layout, every rejection, vectors."""

from __future__ import annotations

import hashlib
import hmac
import io
import math
from collections.abc import Callable
from functools import cache
from typing import Any, BinaryIO, cast

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

import vectors_sealing as vs
from helpers import load_vectors
from swapproto.encoding import decode, encode
from swapproto.errors import ErrorCode, SwapprotoError, VerificationError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import DecryptionKey, EncryptionPublicKey, EncryptionSuite
from swapproto.sealing import (
    CHUNK_SIZE,
    MAX_HEADER,
    MAX_RECIPIENTS,
    SEALED_FORMAT,
    NotARecipientError,
    RecipientStanza,
    SealedDataError,
    SealedInfo,
    SealedReader,
    SealingContext,
    SealingError,
    _write_container,
    inspect_sealed,
    open_bytes,
    open_stream,
    seal_bytes,
    seal_stream,
    sealed_recipients,
)

X25519 = EncryptionSuite.X25519
XWING = EncryptionSuite.MLKEM768_X25519
SUITES = (X25519, XWING)
TAG = 16
FULL = CHUNK_SIZE + TAG
EXCHANGE = hashlib.sha256(b"test exchange").digest()
CTX = SealingContext(EXCHANGE, "a-to-b", "reveal")
SEAL_CODES = {
    ErrorCode.SEAL_INVALID,
    ErrorCode.SEAL_TRUNCATED,
    ErrorCode.SEAL_CONTEXT,
    ErrorCode.SEAL_AUTH,
    ErrorCode.SEAL_HEADER_MAC,
    ErrorCode.SEAL_NOT_RECIPIENT,
}


def seed(n: int) -> bytes:
    return n.to_bytes(2, "big") * 16


@cache
def key(n: int, suite: EncryptionSuite = X25519) -> DecryptionKey:
    return DecryptionKey.from_seed(seed(n), suite)


def pubs(*ns: int, suite: EncryptionSuite = X25519) -> list[EncryptionPublicKey]:
    return [key(n, suite).public_key for n in ns]


def data(n: int) -> bytes:
    return vs.plaintext(n)


def error_of(fn: Callable[[], object]) -> SwapprotoError:
    with pytest.raises(SwapprotoError) as info:
        fn()
    return info.value


def open_code(container: bytes, k: DecryptionKey, ctx: SealingContext = CTX) -> ErrorCode:
    exc = error_of(lambda: open_bytes(container, k, ctx))
    assert isinstance(exc, SealingError)
    return exc.code


def layout(container: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """(header, mac, chunk frames) read by the rules of spec/sealing.md alone."""
    n = int.from_bytes(container[:4], "big")
    header, mac = container[4 : 4 + n], container[4 + n : 4 + n + 32]
    frames, pos = [], 4 + n + 32
    while pos < len(container):
        end = pos + 4 + int.from_bytes(container[pos : pos + 4], "big")
        frames.append(container[pos:end])
        pos = end
    assert pos == len(container)
    return header, mac, frames


def join(header: bytes, mac: bytes, frames: list[bytes]) -> bytes:
    return len(header).to_bytes(4, "big") + header + mac + b"".join(frames)


def header_value(container: bytes) -> dict[str, Any]:
    value = decode(layout(container)[0])
    assert isinstance(value, dict)
    return value


def with_header(container: bytes, value: object) -> bytes:
    """The container with its header replaced (MAC and chunks kept)."""
    _, mac, frames = layout(container)
    return join(encode(value), mac, frames)


def subkey(content_key: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(content_key)


def fixed(
    plaintext: bytes,
    recipients: list[EncryptionPublicKey],
    content_key: bytes = b"K" * 32,
    ctx: SealingContext = CTX,
) -> bytes:
    """A container with a chosen content key (stanzas wrapped with the real HPKE)."""
    stanzas = [
        RecipientStanza(r.key_id, r.hpke_seal(content_key, ctx.digest))
        for r in sorted(recipients, key=lambda r: r.key_id)
    ]
    out = io.BytesIO()
    _write_container(
        io.BytesIO(plaintext), out, recipients[0].suite, ctx.digest, stanzas, content_key
    )
    return out.getvalue()


@cache
def sealed(n: int, suite: EncryptionSuite = X25519, recipients: tuple[int, ...] = (1, 2)) -> bytes:
    return seal_bytes(data(n), pubs(*recipients, suite=suite), CTX)


class Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read and counts what it hands out."""

    def __init__(self, payload: bytes, step: int = 1000) -> None:
        self.payload, self.pos, self.step = payload, 0, step
        self.largest_request = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_request = max(self.largest_request, size)
        size = len(self.payload) - self.pos if size < 0 else size
        out = self.payload[self.pos : self.pos + min(size, self.step)]
        self.pos += len(out)
        return out


def trickle(payload: bytes, step: int = 1000) -> BinaryIO:
    return cast(BinaryIO, Trickle(payload, step))


# ---------------------------------------------------------------------------------------
# round trips

SIZES = (0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_bytes(suite: EncryptionSuite, size: int) -> None:
    container = sealed(size, suite)
    for n in (1, 2):
        assert open_bytes(container, key(n, suite), CTX) == data(size)
    _, _, frames = layout(container)
    assert len(frames) == max(1, math.ceil(size / CHUNK_SIZE))
    assert all(len(f) == 4 + FULL for f in frames[:-1])
    assert len(frames[-1]) - 4 - TAG == size - CHUNK_SIZE * (len(frames) - 1)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_streams(suite: EncryptionSuite, size: int) -> None:
    out = io.BytesIO()
    info = seal_stream(trickle(data(size)), out, pubs(3, 1, 2, suite=suite), CTX)
    container = out.getvalue()
    assert info == SealedInfo(
        digest=hashlib.sha256(container).digest(),
        size=len(container),
        plaintext_size=size,
        suite=suite,
        context=CTX.digest,
        recipients=tuple(sorted(p.key_id for p in pubs(1, 2, 3, suite=suite))),
    )
    assert inspect_sealed(io.BytesIO(container), CTX) == info
    for n in (1, 2, 3):
        plain = io.BytesIO()
        got = open_stream(
            trickle(container, 777), plain, key(n, suite), CTX, expected_digest=info.digest
        )
        assert (got, plain.getvalue()) == (size, data(size))
    assert open_stream(io.BytesIO(container), None, key(1, suite), CTX) == size


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3000), st.sets(st.integers(1, 40), min_size=1, max_size=5))
def test_round_trip_property(plaintext: bytes, recipients: set[int]) -> None:
    container = seal_bytes(plaintext, pubs(*recipients), CTX)
    for n in recipients:
        assert open_bytes(container, key(n), CTX) == plaintext
    stranger = max(recipients) + 1
    assert open_code(container, key(stranger)) == ErrorCode.SEAL_NOT_RECIPIENT


def test_sealing_twice_gives_unrelated_containers() -> None:
    a, b = seal_bytes(b"same", pubs(1), CTX), seal_bytes(b"same", pubs(1), CTX)
    assert a != b
    assert layout(a)[2] != layout(b)[2]  # a fresh content key each time


@pytest.mark.parametrize("suite", SUITES)
def test_many_recipients_each_open_and_others_do_not(suite: EncryptionSuite) -> None:
    members = tuple(range(10, 16))
    container = sealed(1000, suite, members)
    for n in members:
        assert open_bytes(container, key(n, suite), CTX) == data(1000)
    exc = error_of(lambda: open_bytes(container, key(99, suite), CTX))
    assert isinstance(exc, NotARecipientError)
    assert exc.code == ErrorCode.SEAL_NOT_RECIPIENT
    other_suite = XWING if suite is X25519 else X25519
    assert open_code(container, key(10, other_suite)) == ErrorCode.SEAL_NOT_RECIPIENT


def test_public_parts_need_no_key() -> None:
    container = sealed(5000)
    header = sealed_recipients(io.BytesIO(container))
    ids = tuple(sorted(p.key_id for p in pubs(1, 2)))
    assert header.recipients == ids
    assert header.suite is X25519
    assert header.context == CTX.digest
    assert header.chunk_size == CHUNK_SIZE
    assert header.stanza_for(ids[1]) == header.stanzas[1]
    assert header.stanza_for(bytes(32)) is None
    for text in (repr(header), repr(header.stanzas[0])):
        assert header.stanzas[0].wrapped.hex() not in text
    info = inspect_sealed(io.BytesIO(container))
    assert (info.size, info.plaintext_size, info.recipients) == (len(container), 5000, ids)


# ---------------------------------------------------------------------------------------
# the byte layout, checked against the spec independently of the module


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE, 2 * CHUNK_SIZE + 3])
def test_layout_follows_the_spec(size: int) -> None:
    content_key = hashlib.sha256(b"content key").digest()
    container = fixed(data(size), pubs(1, 2), content_key)
    assert fixed(data(size), pubs(1, 2), content_key) != container  # HPKE is randomised
    header, mac, frames = layout(container)
    value = header_value(container)
    assert list(value) == ["chunk_size", "context", "format", "recipients", "suite"]
    assert value["format"] == SEALED_FORMAT == "swapproto-sealed/1"
    assert value["chunk_size"] == CHUNK_SIZE == 65536
    assert value["suite"] == "x25519"
    assert value["context"] == tagged_hash(Tag.SEALING_INFO, encode([EXCHANGE, "a-to-b", "reveal"]))
    assert value["context"] == CTX.digest
    mac_key = subkey(content_key, b"swapproto/v1/sealed/header-mac")
    assert mac == hmac.new(mac_key, header, hashlib.sha256).digest()
    aead = ChaCha20Poly1305(subkey(content_key, b"swapproto/v1/sealed/payload-key"))
    plain = b""
    for i, frame in enumerate(frames):
        nonce = i.to_bytes(11, "big") + bytes([i == len(frames) - 1])
        plain += aead.decrypt(nonce, frame[4:], CTX.digest)
    assert plain == data(size)
    for stanza in value["recipients"]:
        assert list(stanza) == ["key_id", "wrapped"]
        assert len(stanza["wrapped"]) == 32 + 32 + TAG
    by_id = {key(n).key_id: n for n in (1, 2)}
    for stanza in value["recipients"]:
        n = by_id[stanza["key_id"]]
        assert key(n).hpke_open(stanza["wrapped"], CTX.digest) == content_key
        sk = vs.x25519_private(seed(n), X25519)
        assert vs.hpke_open_x25519(sk, stanza["wrapped"], CTX.digest) == content_key
    assert [s["key_id"] for s in value["recipients"]] == sorted(by_id)


def test_write_container_is_deterministic() -> None:
    stanzas = [RecipientStanza(p.key_id, p.hpke_seal(b"C" * 32, CTX.digest)) for p in pubs(1)]

    def write(content_key: bytes) -> bytes:
        out = io.BytesIO()
        _write_container(io.BytesIO(data(70000)), out, X25519, CTX.digest, stanzas, content_key)
        return out.getvalue()

    assert write(b"C" * 32) == write(b"C" * 32)
    assert write(b"C" * 32) != write(b"D" * 32)
    assert open_bytes(write(b"C" * 32), key(1), CTX) == data(70000)


def test_hybrid_stanza_sizes() -> None:
    value = header_value(sealed(1, XWING))
    assert value["suite"] == "mlkem768-x25519"
    assert {len(s["wrapped"]) for s in value["recipients"]} == {1120 + 32 + TAG}


# ---------------------------------------------------------------------------------------
# truncation, dropped, reordered and duplicated chunks, trailing data

THREE = 2 * CHUNK_SIZE + 100  # chunks: full, full, 100 bytes


def boundaries(container: bytes) -> list[int]:
    """Every structural offset of a container, and its neighbours."""
    header, _, frames = layout(container)
    points = [0, 1, 3, 4, 5, 4 + len(header) - 1, 4 + len(header), 4 + len(header) + 31]
    pos = 4 + len(header) + 32
    for frame in frames:
        points += [pos, pos + 1, pos + 3, pos + 4, pos + 5, pos + len(frame) - 1]
        pos += len(frame)
    return sorted({p for p in points if 0 <= p < len(container)})


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, THREE])
def test_truncation_at_every_boundary(size: int) -> None:
    container = sealed(size)
    for cut in boundaries(container):
        assert open_code(container[:cut], key(1)) == ErrorCode.SEAL_TRUNCATED, cut


def test_truncation_after_each_full_chunk() -> None:
    container = sealed(3 * CHUNK_SIZE)  # three full chunks, the last one final
    header, mac, frames = layout(container)
    for keep in range(len(frames)):
        cut = join(header, mac, frames[:keep])
        assert open_code(cut, key(1)) == ErrorCode.SEAL_TRUNCATED, keep


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(sealed(THREE)) - 1))
def test_any_prefix_is_truncated(cut: int) -> None:
    assert open_code(sealed(THREE)[:cut], key(1)) == ErrorCode.SEAL_TRUNCATED


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ((1, 2), ErrorCode.SEAL_AUTH),  # chunk 0 dropped
        ((0, 2), ErrorCode.SEAL_AUTH),  # chunk 1 dropped
        ((1, 0, 2), ErrorCode.SEAL_AUTH),  # full chunks swapped
        ((0, 0, 1, 2), ErrorCode.SEAL_AUTH),  # chunk 0 duplicated
        ((0, 1, 1, 2), ErrorCode.SEAL_AUTH),  # chunk 1 duplicated
        ((0, 1, 2, 2), ErrorCode.SEAL_INVALID),  # final chunk duplicated: short, not last
        ((2, 0, 1), ErrorCode.SEAL_INVALID),  # short chunk moved to the front
        ((0, 1), ErrorCode.SEAL_TRUNCATED),  # final chunk dropped
    ],
)
def test_chunks_dropped_reordered_duplicated(order: tuple[int, ...], code: ErrorCode) -> None:
    header, mac, frames = layout(sealed(THREE))
    assert open_code(join(header, mac, [frames[i] for i in order]), key(1)) == code


def test_chunk_from_another_container_is_rejected() -> None:
    header, mac, frames = layout(sealed(THREE))
    _, _, foreign = layout(seal_bytes(data(THREE), pubs(1, 2), CTX))
    spliced = join(header, mac, [frames[0], foreign[1], frames[2]])
    assert open_code(spliced, key(1)) == ErrorCode.SEAL_AUTH


@pytest.mark.parametrize("size", [1, CHUNK_SIZE, THREE])
@pytest.mark.parametrize("extra", [1, 2, 3, 4, 5, 20, TAG + 4])
def test_trailing_data_after_the_final_chunk(size: int, extra: int) -> None:
    container = sealed(size)
    for filler in (bytes(extra), bytes([0xFF]) * extra, (TAG).to_bytes(4, "big") + bytes(extra)):
        assert open_code(container + filler, key(1)) == ErrorCode.SEAL_INVALID


def test_empty_final_chunk_after_data_is_rejected() -> None:
    header, mac, frames = layout(sealed(CHUNK_SIZE))
    content_key = b"E" * 32
    container = fixed(data(CHUNK_SIZE), pubs(1), content_key)
    header, mac, frames = layout(container)
    aead = ChaCha20Poly1305(subkey(content_key, b"swapproto/v1/sealed/payload-key"))
    # re-encrypt chunk 0 as non-final and append a valid empty final chunk
    middle = aead.encrypt(bytes(12), data(CHUNK_SIZE), CTX.digest)
    empty = aead.encrypt((1).to_bytes(11, "big") + b"\x01", b"", CTX.digest)
    frames = [len(middle).to_bytes(4, "big") + middle, len(empty).to_bytes(4, "big") + empty]
    exc = error_of(lambda: open_bytes(join(header, mac, frames), key(1), CTX))
    assert exc.code == ErrorCode.SEAL_INVALID
    assert "empty final chunk" in str(exc)


# ---------------------------------------------------------------------------------------
# single-byte mutations: every one is rejected with a typed error


def small_container() -> bytes:
    return sealed(10, X25519, (1, 2))


@pytest.mark.parametrize("mask", [0x01, 0x80])
def test_every_bit_flip_of_a_small_container_is_rejected(mask: int) -> None:
    container = small_container()
    for pos in range(len(container)):
        mutated = bytearray(container)
        mutated[pos] ^= mask
        assert open_code(bytes(mutated), key(1)) in SEAL_CODES, pos


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_rejected(draw: st.DataObject) -> None:
    container = draw.draw(
        st.sampled_from([small_container(), sealed(300, XWING), sealed(CHUNK_SIZE + 1)])
    )
    pos = draw.draw(st.integers(0, len(container) - 1))
    mutated = bytearray(container)
    mutated[pos] ^= draw.draw(st.integers(1, 255))
    suite = header_value(container)["suite"]
    exc = error_of(lambda: open_bytes(bytes(mutated), key(1, EncryptionSuite(suite)), CTX))
    assert isinstance(exc, SealingError)
    assert exc.code in SEAL_CODES


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_inserted_or_deleted_byte_is_rejected(draw: st.DataObject) -> None:
    container = small_container()
    pos = draw.draw(st.integers(0, len(container) - 1))
    if draw.draw(st.booleans()):
        mutated = container[:pos] + container[pos + 1 :]
    else:
        mutated = container[:pos] + bytes([draw.draw(st.integers(0, 255))]) + container[pos:]
    assert open_code(mutated, key(1)) in SEAL_CODES


# ---------------------------------------------------------------------------------------
# the header MAC: the recipient list cannot change, and all recipients share one key


def stanza_list(container: bytes) -> list[dict[str, bytes]]:
    recipients: list[dict[str, bytes]] = header_value(container)["recipients"]
    return recipients


def test_recipient_removed_added_or_changed() -> None:
    container = sealed(50, X25519, (1, 2))
    value = header_value(container)
    own = key(1).key_id
    others = [s for s in value["recipients"] if s["key_id"] != own]
    removed = {**value, "recipients": [s for s in value["recipients"] if s["key_id"] == own]}
    assert open_code(with_header(container, removed), key(1)) == ErrorCode.SEAL_HEADER_MAC
    intruder = key(3).public_key
    extra = {"key_id": intruder.key_id, "wrapped": intruder.hpke_seal(b"x" * 32, CTX.digest)}
    added = {
        **value,
        "recipients": sorted([*value["recipients"], extra], key=lambda s: s["key_id"]),
    }
    assert open_code(with_header(container, added), key(1)) == ErrorCode.SEAL_HEADER_MAC
    # the intruder unwraps what was wrapped to it, but it is not the key the MAC was made with
    assert open_code(with_header(container, added), key(3)) == ErrorCode.SEAL_HEADER_MAC
    changed = [
        {**s, "wrapped": s["wrapped"][:-1] + bytes([s["wrapped"][-1] ^ 1])} if s in others else s
        for s in value["recipients"]
    ]
    tampered = with_header(container, {**value, "recipients": changed})
    assert open_code(tampered, key(1)) == ErrorCode.SEAL_HEADER_MAC
    assert open_code(tampered, key(2)) == ErrorCode.SEAL_AUTH
    swapped = with_header(container, {**value, "recipients": value["recipients"][::-1]})
    assert open_code(swapped, key(1)) == ErrorCode.SEAL_INVALID  # not in key id order


def test_different_content_keys_per_recipient_are_caught() -> None:
    """A sender cannot show two recipients two plaintexts (key commitment, §9)."""
    ka, kb = b"A" * 32, b"B" * 32
    stanzas = sorted(
        [
            RecipientStanza(key(1).key_id, key(1).public_key.hpke_seal(ka, CTX.digest)),
            RecipientStanza(key(2).key_id, key(2).public_key.hpke_seal(kb, CTX.digest)),
        ],
        key=lambda s: s.key_id,
    )
    out = io.BytesIO()
    _write_container(io.BytesIO(b"for A"), out, X25519, CTX.digest, stanzas, ka)
    assert open_bytes(out.getvalue(), key(1), CTX) == b"for A"
    assert open_code(out.getvalue(), key(2)) == ErrorCode.SEAL_HEADER_MAC


def test_mac_flip_and_wrapped_key_garbage() -> None:
    container = sealed(20)
    header, _, frames = layout(container)
    assert open_code(join(header, bytes(32), frames), key(1)) == ErrorCode.SEAL_HEADER_MAC
    value = header_value(container)
    zeros = [{**s, "wrapped": bytes(80)} for s in value["recipients"]]  # low-order enc
    garbage = with_header(container, {**value, "recipients": zeros})
    assert open_code(garbage, key(1)) == ErrorCode.SEAL_AUTH


# ---------------------------------------------------------------------------------------
# context binding: another exchange, list or message type

OTHER_CONTEXTS = [
    SealingContext(hashlib.sha256(b"another exchange").digest(), "a-to-b", "reveal"),
    SealingContext(EXCHANGE, "b-to-a", "reveal"),
    SealingContext(EXCHANGE, "a-to-b", "transfer"),
]


@pytest.mark.parametrize("other", OTHER_CONTEXTS, ids=["exchange", "list", "message-type"])
def test_context_mismatch(other: SealingContext) -> None:
    container = sealed(100)
    assert open_code(container, key(1), other) == ErrorCode.SEAL_CONTEXT
    exc = error_of(lambda: inspect_sealed(io.BytesIO(container), other))
    assert exc.code == ErrorCode.SEAL_CONTEXT
    with pytest.raises(SealedDataError) as info:
        SealedReader(io.BytesIO(container), key(1), other)
    assert info.value.code == ErrorCode.SEAL_CONTEXT


def test_attack_sealed_payload_swapped_between_lists() -> None:
    """Issue 4 §3: A's sealed list "a-to-b" replayed as the content of list "b-to-a"."""
    a_list = seal_bytes(b"entries of a-to-b", pubs(1, 2), CTX)
    b_ctx = SealingContext(EXCHANGE, "b-to-a", "reveal")
    # as is: the header names the other binding (visible without a key)
    assert open_code(a_list, key(1), b_ctx) == ErrorCode.SEAL_CONTEXT
    assert error_of(lambda: inspect_sealed(io.BytesIO(a_list), b_ctx)).code == (
        ErrorCode.SEAL_CONTEXT
    )
    # header rewritten to the expected binding: HPKE info differs, the key does not unwrap
    rewritten = with_header(a_list, {**header_value(a_list), "context": b_ctx.digest})
    inspect_sealed(io.BytesIO(rewritten), b_ctx)  # the keyless check cannot see it...
    assert open_code(rewritten, key(1), b_ctx) == ErrorCode.SEAL_AUTH  # ...a recipient can
    # and the chunks are bound too: B's own header with A's chunks fails
    b_list = seal_bytes(b"entries of b-to-a", pubs(1, 2), b_ctx)
    bh, bmac, _ = layout(b_list)
    _, _, a_frames = layout(a_list)
    assert open_code(join(bh, bmac, a_frames), key(1), b_ctx) == ErrorCode.SEAL_AUTH


# ---------------------------------------------------------------------------------------
# requests the sealer refuses


@pytest.mark.parametrize(
    "recipients",
    [
        lambda: [],
        lambda: [key(1).public_key, key(2, XWING).public_key],
        lambda: [key(1).public_key, key(1).public_key],
        lambda: pubs(*range(1, MAX_RECIPIENTS + 2)),
    ],
    ids=["none", "mixed-suites", "twice", "too-many"],
)
def test_invalid_recipients(recipients: Callable[[], list[EncryptionPublicKey]]) -> None:
    out = io.BytesIO()
    exc = error_of(lambda: seal_stream(io.BytesIO(b"x"), out, recipients(), CTX))
    assert isinstance(exc, SealingError)
    assert exc.code == ErrorCode.SEAL_REQUEST
    assert out.getvalue() == b""


def test_max_recipients_is_allowed() -> None:
    container = seal_bytes(b"x", pubs(*range(1, MAX_RECIPIENTS + 1)), CTX)
    assert open_bytes(container, key(MAX_RECIPIENTS), CTX) == b"x"
    assert len(sealed_recipients(io.BytesIO(container)).stanzas) == MAX_RECIPIENTS


@pytest.mark.parametrize(
    ("exchange_id", "list_name", "message_type"),
    [
        (bytes(31), "a-to-b", "reveal"),
        (bytes(33), "a-to-b", "reveal"),
        (bytes(32), "", "reveal"),
        (bytes(32), "a-to-b", ""),
        (bytes(32), "e\u0301", "reveal"),  # not NFC
    ],
)
def test_invalid_context(exchange_id: bytes, list_name: str, message_type: str) -> None:
    exc = error_of(lambda: SealingContext(exchange_id, list_name, message_type))
    assert isinstance(exc, SealingError)
    assert exc.code == ErrorCode.SEAL_REQUEST


def test_wrong_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        SealingContext(EXCHANGE.hex(), "a", "b")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SealingContext(EXCHANGE, b"a", "b")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        seal_bytes(b"x", [key(1)], CTX)  # type: ignore[list-item]


def test_context_digest_and_equality() -> None:
    assert CTX.to_bytes() == encode([EXCHANGE, "a-to-b", "reveal"])
    assert SealingContext(EXCHANGE, "a-to-b", "reveal") == CTX
    assert len({CTX.digest, *(c.digest for c in OTHER_CONTEXTS)}) == 4


# ---------------------------------------------------------------------------------------
# malformed headers and bounded decoding


class Counting(io.RawIOBase):
    """Serves ``payload`` and counts the bytes handed out."""

    def __init__(self, payload: bytes) -> None:
        self.inner = io.BytesIO(payload)
        self.served = 0
        self.largest_request = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_request = max(self.largest_request, size)
        out = self.inner.read(size)
        self.served += len(out)
        return out


@pytest.mark.parametrize("length", [MAX_HEADER + 1, 0x7FFFFFFF, 0xFFFFFFFF])
def test_huge_header_length_fails_before_reading_it(length: int) -> None:
    src = Counting(length.to_bytes(4, "big") + bytes(100))
    exc = error_of(lambda: sealed_recipients(src))  # type: ignore[arg-type]
    assert exc.code == ErrorCode.SEAL_INVALID
    assert src.served == 4


@pytest.mark.parametrize("length", [0, TAG - 1, FULL + 1, 0xFFFFFFFF])
def test_impossible_chunk_length_fails_before_reading_it(length: int) -> None:
    header, mac, _ = layout(small_container())
    container = join(header, mac, [length.to_bytes(4, "big") + bytes(64)])
    for run in (
        lambda s: open_stream(s, None, key(1), CTX),
        lambda s: inspect_sealed(s),
    ):
        src = Counting(container)
        exc = error_of(lambda run=run, src=src: run(src))  # type: ignore[misc]
        assert exc.code == ErrorCode.SEAL_INVALID
        assert src.served <= 4 + len(header) + 32 + 4
        assert src.largest_request <= max(len(header), FULL)


def test_short_middle_chunk_is_rejected() -> None:
    header, mac, frames = layout(sealed(THREE))
    short = (FULL - 1).to_bytes(4, "big") + frames[0][4:-1]
    assert open_code(join(header, mac, [short, *frames[1:]]), key(1)) == ErrorCode.SEAL_INVALID


def _bad_headers() -> list[tuple[str, object]]:
    value = header_value(small_container())
    stanzas = value["recipients"]
    return [
        ("missing member", {k: v for k, v in value.items() if k != "chunk_size"}),
        ("format as bytes", {**value, "format": SEALED_FORMAT.encode()}),
        ("suite as int", {**value, "suite": 1}),
        ("chunk size as str", {**value, "chunk_size": str(CHUNK_SIZE)}),
        ("context as str", {**value, "context": CTX.digest.hex()}),
        ("recipients as map", {**value, "recipients": {"a": 1}}),
        ("stanza as array", {**value, "recipients": [list(s.values()) for s in stanzas]}),
        ("stanza extra member", {**value, "recipients": [{**s, "x": 1} for s in stanzas]}),
        ("key id short", {**value, "recipients": [{**s, "key_id": bytes(31)} for s in stanzas]}),
        ("too many recipients", {**value, "recipients": stanzas * 129}),
        ("too deep", {**value, "recipients": [{"key_id": [[1]], "wrapped": b""}]}),
        ("huge bin", {**value, "context": bytes(5000)}),
        ("empty header", b""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("desc", "value"), _bad_headers(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_malformed_header(desc: str, value: object) -> None:
    _, mac, frames = layout(small_container())
    raw = value if isinstance(value, bytes) else encode(value)
    container = join(raw, mac, frames)
    assert open_code(container, key(1)) == ErrorCode.SEAL_INVALID, desc
    assert error_of(lambda: inspect_sealed(io.BytesIO(container))).code == ErrorCode.SEAL_INVALID


def test_decode_error_is_wrapped_with_cause() -> None:
    _, mac, frames = layout(small_container())
    exc = error_of(lambda: sealed_recipients(io.BytesIO(join(b"\xc1", mac, frames))))
    assert isinstance(exc, SealedDataError)
    assert isinstance(exc, VerificationError)
    assert exc.details["decode_error"] == str(ErrorCode.DECODE_RESERVED)


# ---------------------------------------------------------------------------------------
# SealedReader: streaming, small reads, bounded memory, sticky errors


def test_reader_small_reads() -> None:
    container = sealed(THREE)
    for step in (1, 7, 1000, CHUNK_SIZE + 3):
        reader = SealedReader(io.BytesIO(container), key(2), CTX)
        assert reader.readable()
        assert (reader.mode, reader.name) == ("rb", "<sealed>")
        assert reader.header.recipients == tuple(sorted(p.key_id for p in pubs(1, 2)))
        parts = []
        if step == 1:  # byte-by-byte over the first chunk boundary only (speed)
            parts = [reader.read(1) for _ in range(CHUNK_SIZE + 2)]
            assert all(len(p) == 1 for p in parts)
        while chunk := reader.read(step):
            assert len(chunk) <= step
            parts.append(chunk)
        assert b"".join(parts) == data(THREE)
        assert reader.plaintext_size == THREE
        assert reader.read() == b""
        assert reader.read1(5) == b""


def test_reader_read1_readinto_and_lines() -> None:
    plain = b"line one\nline two\n" * 5000
    container = seal_bytes(plain, pubs(1), CTX)
    reader = SealedReader(io.BytesIO(container), key(1), CTX)
    first = reader.read1(-1)
    assert first == plain[:CHUNK_SIZE]  # at most one chunk
    buf = bytearray(33)
    assert reader.readinto(buf) == 33
    assert bytes(buf) == plain[CHUNK_SIZE : CHUNK_SIZE + 33]
    rest = reader.read()
    assert first + bytes(buf) + rest == plain
    with SealedReader(io.BytesIO(container), key(1), CTX) as lines:
        assert lines.readline() == b"line one\n"
        assert sum(1 for _ in lines) == 2 * 5000 - 1
    assert lines.closed
    with pytest.raises(ValueError, match="closed"):
        lines.read(1)


def test_reader_errors_are_final() -> None:
    container = sealed(THREE)
    header, mac, frames = layout(container)
    broken = join(header, mac, [frames[0], frames[2]])
    reader = SealedReader(io.BytesIO(broken), key(1), CTX)
    assert reader.read(CHUNK_SIZE) == data(CHUNK_SIZE)  # chunk 0 is authentic
    with pytest.raises(SealedDataError) as first:
        reader.read(1)
    assert first.value.code == ErrorCode.SEAL_AUTH
    with pytest.raises(SealedDataError) as again:
        reader.read1(1)
    assert again.value is first.value


def test_reader_expected_digest() -> None:
    container = sealed(THREE)
    good = hashlib.sha256(container).digest()
    assert open_bytes(container, key(1), CTX, expected_digest=good) == data(THREE)
    reader = SealedReader(io.BytesIO(container), key(1), CTX, expected_digest=bytes(32))
    assert reader.read(2 * CHUNK_SIZE) == data(2 * CHUNK_SIZE)  # checked at the end
    with pytest.raises(SealedDataError) as info:
        reader.read()
    assert info.value.code == ErrorCode.VERIFY_DIGEST
    assert info.value.details["calculated"] == good.hex()


def test_open_stream_leaves_a_prefix_on_error() -> None:
    header, mac, frames = layout(sealed(THREE))
    out = io.BytesIO()
    with pytest.raises(SealedDataError) as info:
        open_stream(io.BytesIO(join(header, mac, frames[:2])), out, key(1), CTX)
    assert info.value.code == ErrorCode.SEAL_TRUNCATED
    assert data(THREE).startswith(out.getvalue())


class Pattern(io.RawIOBase):
    """``size`` bytes of the plaintext pattern, produced on demand (never held whole)."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.largest_request = size, 0, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        assert n >= 0, "the sealer must never ask for everything"
        self.largest_request = max(self.largest_request, n)
        n = min(n, self.size - self.pos)
        out = bytes((self.pos + i) % 251 for i in range(n)) if n < 300 else _window(self.pos, n)
        self.pos += n
        return out


def _window(start: int, n: int) -> bytes:
    offset = start % 251
    return (vs.plaintext(251) * (n // 251 + 2))[offset : offset + n]


class Sink(io.RawIOBase):
    """Hashes what is written, keeps only the last write's size."""

    def __init__(self) -> None:
        self.hasher, self.largest_write, self.kept = hashlib.sha256(), 0, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.hasher.update(b)
        self.largest_write = max(self.largest_write, len(b))
        self.kept += b
        return len(b)


def test_memory_is_bounded_structurally() -> None:
    size = 20 * CHUNK_SIZE + 17
    src, sink = Pattern(size), Sink()
    info = seal_stream(src, sink, pubs(1, 2), CTX)  # type: ignore[arg-type]
    assert src.largest_request == CHUNK_SIZE
    assert sink.largest_write <= max(FULL, 4 + MAX_HEADER + 32)
    _, _, frames = layout(bytes(sink.kept))
    assert info.digest == sink.hasher.digest()
    assert len(frames) == 21
    header_end = info.size - sum(len(f) for f in frames)

    source = Counting(bytes(sink.kept))
    reader = SealedReader(source, key(1), CTX)  # type: ignore[arg-type]
    assert source.served == header_end + 4  # header, MAC and one length prefix only
    hasher, delivered = hashlib.sha256(), 0
    while chunk := reader.read(10_000):
        hasher.update(chunk)
        delivered += len(chunk)
        buffered = len(reader._buf)  # structural check of the buffer
        assert buffered <= CHUNK_SIZE
        chunks_opened = math.ceil(delivered / CHUNK_SIZE)
        assert source.served <= header_end + chunks_opened * (4 + FULL) + 4
    assert source.largest_request <= FULL
    assert hasher.digest() == hashlib.sha256(_window(0, size)).digest()


# ---------------------------------------------------------------------------------------
# vectors (spec/vectors/sealing)

CONTAINERS = load_vectors("sealing", "containers")
REJECTED = load_vectors("sealing", "rejected")


def _vector_context(node: dict[str, str]) -> SealingContext:
    ctx = SealingContext(
        bytes.fromhex(node["exchange_id"]), node["list_name"], node["message_type"]
    )
    assert ctx.to_bytes().hex() == node["encoded"]
    assert ctx.digest.hex() == node["digest"]
    return ctx


@pytest.mark.parametrize("name", sorted(CONTAINERS["cases"]))
def test_container_vectors(name: str) -> None:
    case = CONTAINERS["cases"][name]
    ctx = _vector_context(CONTAINERS["context"])
    suite = EncryptionSuite(case["suite"])
    container = bytes.fromhex(case["container"])
    assert hashlib.sha256(container).hexdigest() == case["container_sha256"]
    plain = vs.plaintext(case["plaintext_size"])
    assert hashlib.sha256(plain).hexdigest() == case["plaintext_sha256"]
    if case["plaintext"] is not None:
        assert bytes.fromhex(case["plaintext"]) == plain
    content_key = bytes.fromhex(case["content_key"])
    stanzas = []
    for r in case["recipients"]:
        k = DecryptionKey.from_seed(bytes.fromhex(r["seed"]), suite)
        assert k.key_id.hex() == r["key_id"]
        assert open_bytes(container, k, ctx) == plain
        wrapped = bytes.fromhex(r["wrapped"])
        assert k.hpke_open(wrapped, ctx.digest) == content_key
        if suite is X25519:  # an independent RFC 9180 implementation agrees
            sk = vs.x25519_private(bytes.fromhex(r["seed"]), suite)
            assert vs.hpke_open_x25519(sk, wrapped, ctx.digest) == content_key
            again = vs.hpke_seal_x25519(
                k.public_key.x25519, bytes.fromhex(r["ikm_e"]), ctx.digest, content_key
            )
            assert again == wrapped
        stanzas.append(RecipientStanza(k.key_id, wrapped))
    assert subkey(content_key, b"swapproto/v1/sealed/payload-key").hex() == case["payload_key"]
    assert subkey(content_key, b"swapproto/v1/sealed/header-mac").hex() == case["header_mac_key"]
    header, mac, frames = layout(container)
    assert (header.hex(), mac.hex()) == (case["header"], case["header_mac"])
    assert [len(f) - 4 for f in frames] == [c["ciphertext_length"] for c in case["chunks"]]
    out = io.BytesIO()
    _write_container(io.BytesIO(plain), out, suite, ctx.digest, stanzas, content_key)
    assert out.getvalue() == container  # sealing is reproducible from the fixed parts
    info = inspect_sealed(io.BytesIO(container), ctx)
    assert info.digest.hex() == case["container_sha256"]
    assert info.plaintext_size == case["plaintext_size"]
    assert [k.hex() for k in info.recipients] == [r["key_id"] for r in case["recipients"]]


def _assemble(base: bytes, pieces: list[Any]) -> bytes:
    return b"".join(base[p[0] : p[1]] if isinstance(p, list) else bytes.fromhex(p) for p in pieces)


@pytest.mark.parametrize("case", REJECTED["cases"], ids=lambda c: c["desc"])
def test_rejected_vectors(case: dict[str, Any]) -> None:
    base = bytes.fromhex(CONTAINERS["cases"][case["base"]]["container"])
    container = _assemble(base, case["pieces"])
    ctx = _vector_context(case["context"])
    k = DecryptionKey.from_seed(bytes.fromhex(case["key_seed"]), case["key_suite"])
    digest = case["expected_digest"]
    exc = error_of(
        lambda: open_bytes(
            container, k, ctx, expected_digest=None if digest is None else bytes.fromhex(digest)
        )
    )
    assert isinstance(exc, SealingError)
    assert exc.code == case["want_error"]
    if case["inspect_error"] is None:
        inspect_sealed(io.BytesIO(container), ctx)
    else:
        got = error_of(lambda: inspect_sealed(io.BytesIO(container), ctx))
        assert got.code == case["inspect_error"]


def test_rejected_vectors_cover_every_opening_code() -> None:
    codes = {c["want_error"] for c in REJECTED["cases"]}
    assert codes == {str(c) for c in SEAL_CODES} | {str(ErrorCode.VERIFY_DIGEST)}


def test_hybrid_stanzas_are_x_wing_in_hpke() -> None:
    """The ``mlkem768-x25519`` wrapped keys of the vectors open with an independent
    X-Wing (draft-connolly-cfrg-xwing-kem-06, KEM id 0x647A) and RFC 9180 key schedule
    (sealing.md §3): ``enc = ct_M || ct_X``, ``pkR = pk_M || pk_X``, shared secret
    ``SHA3-256(ss_M || ss_X || ct_X || pk_X || "\\.//^\\")``."""
    from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    case = CONTAINERS["cases"]["small-mlkem768-x25519"]
    ctx = _vector_context(CONTAINERS["context"])
    suite_id = b"HPKE" + bytes.fromhex("647a00010003")
    for r in case["recipients"]:
        seed_bytes = bytes.fromhex(r["seed"])
        info = b"swapproto/v1/key-seed/mlkem768-x25519/mlkem768"
        ml_seed = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=info).derive(
            seed_bytes
        )
        ml = mlkem.MLKEM768PrivateKey.from_seed_bytes(ml_seed)
        x = x25519.X25519PrivateKey.from_private_bytes(
            vs.x25519_private(seed_bytes, EncryptionSuite.MLKEM768_X25519)
        )
        wrapped = bytes.fromhex(r["wrapped"])
        assert len(wrapped) == 1120 + 48
        ct_m, ct_x, sealed_key = wrapped[:1088], wrapped[1088:1120], wrapped[1120:]
        pk_x = x.public_key().public_bytes_raw()
        ss_x = x.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
        shared = hashlib.sha3_256(ml.decapsulate(ct_m) + ss_x + ct_x + pk_x + b"\\.//^\\").digest()
        context = (
            b"\x00"
            + vs._labeled_extract(suite_id, b"", b"psk_id_hash", b"")
            + vs._labeled_extract(suite_id, b"", b"info_hash", ctx.digest)
        )
        secret = vs._labeled_extract(suite_id, shared, b"secret", b"")
        key = vs._labeled_expand(suite_id, secret, b"key", context, 32)
        nonce = vs._labeled_expand(suite_id, secret, b"base_nonce", context, 12)
        opened = ChaCha20Poly1305(key).decrypt(nonce, sealed_key, b"")
        assert opened.hex() == case["content_key"]
        public = DecryptionKey.from_seed(seed_bytes, EncryptionSuite.MLKEM768_X25519).public_key
        assert public.mlkem768 == ml.public_key().public_bytes_raw()
        assert public.x25519 == pk_x


@pytest.mark.parametrize("enc", sorted(vs.LOW_ORDER_ENCS.values()))
def test_a_low_order_enc_is_refused(enc: bytes) -> None:
    """RFC 9180 §7.1.4: an all-zero X25519 shared secret from a hostile ``enc`` MUST be
    refused, even when the wrapped key was made with that secret (sealing.md §3)."""
    k = DecryptionKey.from_seed(vs.SEEDS["a"], X25519)
    hpke_key, hpke_nonce = vs._key_schedule(bytes(32), enc, k.public_key.x25519, CTX.digest)
    wrapped = enc + ChaCha20Poly1305(hpke_key).encrypt(hpke_nonce, bytes(32), b"")
    with pytest.raises(VerificationError) as err:
        k.hpke_open(wrapped, CTX.digest)
    assert err.value.code is ErrorCode.SEAL_AUTH
