"""Stream arguments: a path, bytes or a text-mode file where a binary stream belongs is a
TypeError that says so, before anything is read or written; a path is accepted where the
API says so (``verify_manifest_file``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

import exchange_kit as kit
from swapproto.errors import ErrorCode, InputError
from swapproto.keys import DecryptionKey, EncryptionSuite, SigningKey
from swapproto.manifest_file import (
    ManifestReader,
    build_manifest,
    verify_manifest_file,
    write_blinded_file,
)
from swapproto.reveal import write_reveal_content
from swapproto.sealing import (
    SealedReader,
    SealingContext,
    inspect_sealed,
    open_stream,
    seal_bytes,
    seal_stream,
    sealed_recipients,
)

KEY = SigningKey.from_seed(b"\x05" * 32)
DEC = DecryptionKey.from_seed(b"\x06" * 32, EncryptionSuite.X25519)
CTX = SealingContext(b"\x01" * 32, "a-to-b", "reveal")
RECORD = {
    "person_id": "P-1",
    "family_name": "Шевченко",
    "given_names": "Тарас",
    "date_of_birth": "1990-03-09",
    "sex": "male",
    "citizenship": "UA",
}


def manifest_bytes() -> bytes:
    out = io.BytesIO()
    build_manifest(
        out, [RECORD], kind="prisoner", list_name="pows", issuer="a", keys=[KEY], created_at=1
    )
    return out.getvalue()


class TextReading(io.RawIOBase):
    """A stream that is not a TextIOBase but whose read returns text."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> Any:
        return "not bytes"


class ByteArrayReading(io.RawIOBase):
    """A stream whose read returns a bytearray: bytes-like, so accepted."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> Any:
        return bytearray(self._data.read(size))


@pytest.fixture
def not_binary_readers(tmp_path: Path) -> Iterator[list[Any]]:
    """A path as str and as Path, bytes, text streams (in memory and a file), an int."""
    text = tmp_path / "text"
    text.write_text("x", encoding="utf-8")
    with text.open(encoding="utf-8") as text_file:
        yield [str(text), text, b"bytes", io.StringIO("x"), text_file, 7]


def assert_type_error(
    call: Callable[..., object], *args: Any, says: str = "binary stream", **kwargs: Any
) -> None:
    with pytest.raises(TypeError, match=says):
        call(*args, **kwargs)


def test_verify_manifest_file_takes_a_path(tmp_path: Path) -> None:
    path = tmp_path / "a.manifest"
    path.write_bytes(manifest_bytes())
    for source in (path, str(path)):
        assert verify_manifest_file(source, KEY.public_key).count == 1


@pytest.mark.parametrize("name", ["missing.manifest", "."])
def test_verify_manifest_file_path_that_cannot_be_read(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError) as info:
        verify_manifest_file(tmp_path / name, KEY.public_key)
    assert info.value.code == ErrorCode.INPUT_IO


def test_manifest_readers_refuse_what_is_not_a_binary_stream(
    tmp_path: Path, not_binary_readers: list[Any]
) -> None:
    for wrong in not_binary_readers:
        if not isinstance(wrong, str | Path):  # verify_manifest_file opens paths
            assert_type_error(verify_manifest_file, wrong, KEY.public_key)
        assert_type_error(ManifestReader, wrong)
        assert_type_error(write_blinded_file, wrong, tmp_path / "b", KEY.public_key)
    assert not (tmp_path / "b").exists()
    assert_type_error(ManifestReader, TextReading(), says="must read bytes")


def test_a_stream_of_bytearrays_is_read_as_bytes() -> None:
    report = verify_manifest_file(
        cast(BinaryIO, ByteArrayReading(manifest_bytes())), KEY.public_key
    )
    assert report.count == 1


def test_sealing_refuses_what_is_not_a_binary_stream(not_binary_readers: list[Any]) -> None:
    container = seal_bytes(b"payload", [DEC.public_key], CTX)
    out = io.BytesIO()
    for wrong in not_binary_readers:
        assert_type_error(sealed_recipients, wrong)
        assert_type_error(inspect_sealed, wrong)
        assert_type_error(SealedReader, wrong, DEC, CTX)
        assert_type_error(open_stream, wrong, out, DEC, CTX)
        assert_type_error(seal_stream, wrong, out, [DEC.public_key], CTX)
    for wrong_dst in [b"", io.StringIO(), 7]:
        assert_type_error(seal_stream, io.BytesIO(b"x"), wrong_dst, [DEC.public_key], CTX)
        assert_type_error(open_stream, io.BytesIO(container), wrong_dst, DEC, CTX)
    assert out.getvalue() == b""  # nothing was written by any refused call
    assert_type_error(sealed_recipients, TextReading(), says="must read bytes")
    recipients = sealed_recipients(cast(BinaryIO, ByteArrayReading(container))).recipients
    assert recipients == (DEC.public_key.key_id,)


@pytest.mark.parametrize("sealed", [False, True])
def test_reveal_refuses_what_is_not_a_binary_stream(
    sealed: bool, not_binary_readers: list[Any]
) -> None:
    terms = kit.make_terms(sealed=sealed)
    manifest = kit.build_list(terms, "a").data
    for wrong in not_binary_readers:
        assert_type_error(write_reveal_content, wrong, io.BytesIO(), terms, "a", kit.LIST)
    for wrong_dst in [b"", io.StringIO(), 7]:
        assert_type_error(
            write_reveal_content, io.BytesIO(manifest), wrong_dst, terms, "a", kit.LIST
        )
