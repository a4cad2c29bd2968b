"""Hostile inputs found by fuzzing: each is refused with a typed error, never a crash,
a hang, or a second accepted encoding of one signed value."""

from __future__ import annotations

import io
import os
from pathlib import Path

import msgpack
import pytest

from swapproto.amendment import AMENDMENT_TYPE, verify_amendment
from swapproto.disclosure import make_disclosure, verify_disclosure
from swapproto.encoding import encode
from swapproto.envelope import sign_envelope
from swapproto.errors import ErrorCode, InputError, KeyFileError, VerificationError
from swapproto.exchange_dir import TERMS_FILE, ExchangeDir
from swapproto.hashing import Tag, tagged_hash
from swapproto.key_files import load_public_key, load_signing_key
from swapproto.keys import SigningKey
from swapproto.manifest import HEADER_TYPE, verify_header
from swapproto.manifest_file import MAGIC, verify_manifest_file
from swapproto.merkle import MerkleTree
from swapproto.terms import terms_from_toml

KEY = SigningKey.from_seed(b"\x01" * 32)


def _header(version: int, previous: bytes | None, **changes: object) -> dict[str, object]:
    return {
        "count": 1,
        "created_at": 0,
        "exchange": None,
        "format": 1,
        "issuer": "ua",
        "kind": "prisoner",
        "list": "l",
        "previous": previous,
        "root": bytes(32),
        "version": version,
    } | changes


@pytest.mark.parametrize(
    ("mode", "removed"),
    [([], []), ({}, []), ("revise", [{"id": "x", "index": 0, "reason": []}])],
)
def test_amendment_with_unhashable_mode_or_reason_is_refused(
    mode: object, removed: list[object]
) -> None:
    p1 = _header(1, None)
    d1 = tagged_hash(Tag.MANIFEST_HEADER, encode(p1))
    p2 = _header(2, d1)
    d2 = tagged_hash(Tag.MANIFEST_HEADER, encode(p2))
    payload = {
        "cites": None,
        "consistency": [],
        "current": d2,
        "mode": mode,
        "previous": d1,
        "removed": removed,
    }
    data = encode(
        {
            "amendment": sign_envelope(AMENDMENT_TYPE, payload, [KEY]).to_bytes(),
            "current": sign_envelope(HEADER_TYPE, p2, [KEY]).to_bytes(),
            "format": "swapproto-amendment/1",
            "previous": sign_envelope(HEADER_TYPE, p1, [KEY]).to_bytes(),
        }
    )
    with pytest.raises(VerificationError) as info:
        verify_amendment(data, KEY.public_key)
    assert info.value.code is ErrorCode.VERIFY_AMENDMENT


def test_header_format_true_is_not_format_1() -> None:
    signed = sign_envelope(HEADER_TYPE, _header(1, None, format=True), [KEY]).to_bytes()
    with pytest.raises(VerificationError) as info:
        verify_header(signed, KEY.public_key)
    assert "format" in str(info.value)


def test_leaf_with_an_unsorted_nested_map_is_refused_by_full_verify_and_disclosure() -> None:
    record = {
        "evidence": [{"digest": bytes(32), "alg": "sha256"}],  # keys out of order
        "identification_status": "unidentified",
        "recovery_date": "2020-01-01",
        "recovery_place": "X",
        "remains_id": "R-1",
    }
    leaf = msgpack.packb({"i": 0, "k": "remains", "r": record, "s": b"\x11" * 32})
    tree = MerkleTree([leaf])
    header = _header(1, None, kind="remains", list="remains", root=tree.root)
    signed = sign_envelope(HEADER_TYPE, header, [KEY]).to_bytes()
    body = len(signed).to_bytes(4, "big") + signed + len(leaf).to_bytes(4, "big") + leaf
    with pytest.raises(VerificationError) as info:
        verify_manifest_file(io.BytesIO(MAGIC + b"P" + body), KEY.public_key)
    assert "unsorted" in str(info.value) or "not sorted" in str(info.value)
    with pytest.raises(VerificationError):
        verify_disclosure(make_disclosure(signed, tree, {0: leaf}), KEY.public_key)


X448_KEY = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VvBCIEIGDRRjHd08Q+xcgChIgbPyIFVLJESHfNpl3gWHWzeHLS\n"
    b"-----END PRIVATE KEY-----\n"
)


def test_x448_key_file_is_an_unsupported_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "x448.key"
    path.write_bytes(X448_KEY)
    path.chmod(0o600)
    with pytest.raises(KeyFileError) as info:
        load_signing_key(path)
    assert info.value.code is ErrorCode.KEY_ALGORITHM


def _no_keys(_path: str) -> object:
    raise AssertionError("never reached")


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 2000 + "]" * 2000,
        "a = " + "{b = " * 2000 + "1" + "}" * 2000,
        "[exchange]\nlabel = 'x'\nmin_count = " + "9" * 5000,
    ],
    ids=["deep-arrays", "deep-tables", "huge-integer"],
)
def test_hostile_toml_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as info:
        terms_from_toml(text, load_key=_no_keys)  # type: ignore[arg-type]
    assert "not valid TOML" in str(info.value)


def test_key_path_with_nul_is_an_io_error() -> None:
    with pytest.raises(KeyFileError) as info:
        load_public_key("keys/ua\x00.pub")
    assert info.value.code is ErrorCode.INPUT_IO


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_key_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "ua.pub"
    os.mkfifo(fifo)
    with pytest.raises(KeyFileError) as info:
        load_public_key(fifo)
    assert "not a regular file" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_terms_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / TERMS_FILE)
    with pytest.raises(InputError) as info:
        ExchangeDir(tmp_path).terms()
    assert info.value.code is ErrorCode.INPUT_IO


def test_oversized_terms_file_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    (tmp_path / TERMS_FILE).write_bytes(b"\x00" * (4 * 1024 * 1024))
    with pytest.raises(InputError) as info:
        ExchangeDir(tmp_path).terms()
    assert "larger than terms can be" in str(info.value)


def test_an_opening_never_shows_its_nonce() -> None:
    from swapproto.exchange_dir import Opening

    nonce = bytes(range(32))
    shown = repr(Opening(nonce=nonce, header_digest=bytes(32)))
    assert nonce.hex() not in shown
    assert repr(nonce) not in shown
