"""Newcomer mistakes with the library API: each is refused with a typed error that says
what was expected (``TypeError`` for an argument of the wrong type), none signs, writes
or echoes what it should not."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import exchange_kit as kit
from swapproto.amendment_file import amend_manifest_file
from swapproto.errors import (
    DecodeError,
    EncodeError,
    ErrorCode,
    InputError,
    KeyFileError,
    LocalProtocolError,
)
from swapproto.exchange_dir import TERMS_FILE, ExchangeDir
from swapproto.handshake import Observer, Party, other_party
from swapproto.key_files import load_signing_key, write_key_pair
from swapproto.manifest import ManifestBuilder
from swapproto.manifest_file import build_manifest, verify_manifest_file
from swapproto.messages import MessageType
from swapproto.records import Evidence
from swapproto.terms import compile_terms
from test_amendment import _first_version
from test_manifest import KEY, build, prisoner


def _build_into(out: Any, **options: Any) -> None:
    """build_manifest of one prisoner into ``out`` (of any type: what is under test)."""
    build_manifest(
        out,
        [prisoner(1)],
        kind="prisoner",
        list_name="pows",
        issuer="a",
        keys=[KEY],
        created_at=1,
        **options,
    )


def _builder() -> ManifestBuilder:
    return ManifestBuilder(kind="prisoner", list_name="pows", issuer="a", sink=lambda _: None)


# -- keys -------------------------------------------------------------------------------


def test_key_text_given_as_a_path_is_not_echoed() -> None:
    pem = kit.keys().a.to_pem().decode()
    with pytest.raises(KeyFileError) as info:
        load_signing_key(pem)
    assert info.value.code == ErrorCode.INPUT_IO
    text = str(info.value)
    assert "PRIVATE KEY" not in text
    assert not any(line and line in text for line in pem.splitlines()[1:-1])
    assert "not shown" in text


def test_a_path_with_a_nul_is_shown_escaped() -> None:
    with pytest.raises(KeyFileError) as info:
        load_signing_key("keys/a\x00.key")
    assert info.value.code == ErrorCode.INPUT_IO
    assert "'keys/a\\x00.key'" in str(info.value)


def test_a_passphrase_without_utf8_form_is_refused_without_echo(tmp_path: Path) -> None:
    secret = "correct horse \ud800 battery"
    with pytest.raises(KeyFileError) as info:
        write_key_pair(tmp_path, "a", kit.keys().a, passphrase=secret)
    assert info.value.code == ErrorCode.KEY_PASSPHRASE
    assert "horse" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None  # the UnicodeEncodeError held the passphrase
    with pytest.raises(KeyFileError) as info:
        kit.keys().a.to_pem(passphrase=secret)
    assert info.value.code == ErrorCode.KEY_PASSPHRASE


# -- the handshake ------------------------------------------------------------------------


def _party_after_reveals() -> Party:
    return kit.run_exchange(until="revealed").party("a")


@pytest.mark.parametrize("accept", ["false", "no", 0, 1, None])
def test_verdict_takes_a_bool_only(accept: Any) -> None:
    party = _party_after_reveals()
    with pytest.raises(TypeError, match="accept must be True or False"):
        party.verdict(accept=accept, reasons=["x"], now=kit.NOW)
    party.verdict(accept=False, reasons=["a reason"], now=kit.NOW)  # still usable


@pytest.mark.parametrize("reasons", ["bad list", b"bad", [1], ["ok", None]])
def test_verdict_reasons_are_a_sequence_of_str(reasons: Any) -> None:
    with pytest.raises(TypeError, match="reasons must be a sequence of str"):
        _party_after_reveals().verdict(accept=False, reasons=reasons, now=kit.NOW)


def test_abort_reason_is_a_str() -> None:
    party = kit.run_exchange(until="terms-agreed").party("a")
    with pytest.raises(TypeError, match="reason must be a str"):
        party.abort(["no"], now=kit.NOW)  # type: ignore[arg-type]


def test_a_party_needs_private_keys() -> None:
    terms = kit.make_terms()
    with pytest.raises(TypeError, match="SigningKey"):
        Party(terms, "a", [kit.keys().a.public_key])  # type: ignore[list-item]


def test_check_move_takes_a_message_type() -> None:
    party = kit.run_exchange(until="terms-agreed").party("a")
    with pytest.raises(TypeError, match="MessageType"):
        party.check_move("swapproto/verdict/v1")  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["c", "A", "", None, "mediator"])
def test_observer_questions_about_a_role_that_is_no_party(role: Any) -> None:
    obs = kit.run_exchange(until="revealed").observer()
    for ask in (obs.phase, obs.next_seq, obs.commits, obs.reveals, obs.terms_signed):
        with pytest.raises(LocalProtocolError, match="is not a party"):
            ask(role)
    with pytest.raises(LocalProtocolError, match="is not a party"):
        obs.abort_of(role)
    with pytest.raises(LocalProtocolError, match="is not a party"):
        other_party(role)


def test_revealed_header_before_the_reveal() -> None:
    obs = kit.run_exchange(until="committed").observer()
    with pytest.raises(LocalProtocolError, match="has not revealed"):
        obs.revealed_header("a", kit.LIST)
    revealed = kit.run_exchange(until="revealed").observer()
    assert revealed.revealed_header("a", kit.LIST).header.list_name == kit.LIST
    with pytest.raises(LocalProtocolError, match="has not revealed"):
        revealed.revealed_header("a", "no such list")
    assert other_party("a") == "b"
    assert other_party("b") == "a"
    assert isinstance(Observer(kit.make_terms()).phase("a").name, str)


# -- the exchange directory ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "seq"),
    [("../../evil", 0), ("b", 0), ("a", -1), ("a", 7), ("a\x00", 0), ("a", True)],
)
def test_write_message_names_must_be_the_messages_own(
    tmp_path: Path, sender: str, seq: int
) -> None:
    xch = kit.run_exchange(until="terms-proposed")
    directory = tmp_path / "deep" / "xch"
    directory.mkdir(parents=True)
    (directory / "terms.toml").write_text("", encoding="utf-8")
    envelope = xch.envelopes()[0]  # a's terms-sign, seq 0
    store = ExchangeDir(directory)
    with pytest.raises(InputError) as info:
        store.write_message(envelope, sender=sender, seq=seq, mtype=MessageType.TERMS_SIGN)
    assert info.value.code == ErrorCode.INPUT_INVALID
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "terms.toml", "xch"]


def test_write_message_needs_a_message_type(tmp_path: Path) -> None:
    envelope = kit.run_exchange(until="terms-proposed").envelopes()[0]
    with pytest.raises(TypeError, match="MessageType"):
        ExchangeDir(tmp_path).write_message(
            envelope,
            sender="a",
            seq=0,
            mtype="terms-sign",  # type: ignore[arg-type]
        )


# -- manifests ------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", [lambda n: "x" * n, lambda n: [0] * n, lambda n: bytearray(n)])
def test_a_salt_source_must_return_bytes(wrong: Any) -> None:
    with pytest.raises(InputError, match="salt source"):
        _build_into(io.BytesIO(), salt_source=wrong)


def test_a_lone_surrogate_in_an_unvalidated_record_is_an_encode_error() -> None:
    with pytest.raises(EncodeError) as info:
        _builder().add({**prisoner(1), "person_id": "P-\ud800"})
    assert info.value.code == ErrorCode.ENCODE_NOT_UTF8


@pytest.mark.parametrize(
    ("encoded", "error"),
    [
        (b"\xc1", DecodeError),
        (b"\x81", DecodeError),
        (b"\x80\x00", DecodeError),
        (b"\x01", EncodeError),
    ],
)
def test_add_encoded_refuses_what_is_no_canonical_record(encoded: bytes, error: type) -> None:
    with pytest.raises(error):
        _builder().add_encoded([encoded])


@pytest.mark.parametrize(
    "fields", [{"alg": "md5", "digest": bytes(32)}, {"alg": "sha256", "digest": bytes(3)}]
)
def test_evidence_built_directly_is_an_input_error(fields: dict[str, Any]) -> None:
    with pytest.raises(InputError) as info:
        Evidence(**fields)
    assert info.value.code == ErrorCode.INPUT_RECORD
    with pytest.raises(InputError) as info:
        Evidence.model_validate("junk")
    assert info.value.code == ErrorCode.INPUT_RECORD
    assert Evidence.model_validate("sha256:" + "00" * 32).digest == bytes(32)


def _v1(tmp_path: Path) -> Path:
    return _first_version(tmp_path / "v1.manifest", 3, "l")


@pytest.mark.parametrize("clash", ["outputs", "out-is-current", "amendment-is-current"])
def test_amend_never_writes_over_an_input_or_its_other_output(tmp_path: Path, clash: str) -> None:
    v1 = _v1(tmp_path)
    before = v1.read_bytes()
    out, amendment = {
        "outputs": (tmp_path / "v2", tmp_path / "v2"),
        "out-is-current": (v1, tmp_path / "a.amend"),
        "amendment-is-current": (tmp_path / "v2", v1),
    }[clash]
    with pytest.raises(InputError):
        amend_manifest_file(
            v1, out, amendment, keys=[KEY], removals=[(1, "deceased")], created_at=2, overwrite=True
        )
    assert v1.read_bytes() == before
    assert not (tmp_path / "v2").exists()


@pytest.mark.parametrize("name", ["missing.manifest", "a\x00b"])
def test_paths_that_cannot_be_read_are_input_errors(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    for call in (
        lambda: verify_manifest_file(str(path), KEY.public_key),
        lambda: amend_manifest_file(
            path,
            tmp_path / "v2",
            tmp_path / "a",
            keys=[KEY],
            removals=[(0, "deceased")],
            created_at=2,
        ),
        lambda: compile_terms(path),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert info.value.code == ErrorCode.INPUT_IO


# -- second sweep: formats, indices, key and policy types ---------------------------------


def test_iter_records_checks_its_arguments_when_called() -> None:
    from swapproto.tabular import RowReport, TableFormat, iter_records

    csv_text = "person_id,family_name,given_names,date_of_birth,sex,citizenship\n"
    csv_text += "P-1,Shevchenko,Taras,1990-03-09,male,UA\n"
    rows = list(
        iter_records(io.StringIO(csv_text), kind="prisoner", fmt="csv", report=RowReport("t"))
    )
    assert [r["person_id"] for r in rows] == ["P-1"]  # "csv" is CSV, not JSON Lines
    with pytest.raises(InputError) as info:
        iter_records(io.StringIO(csv_text), kind="prisoner", fmt="xlsx", report=RowReport("t"))
    assert info.value.code == ErrorCode.INPUT_USAGE
    with pytest.raises(TypeError, match="fmt"):
        iter_records(io.StringIO(csv_text), kind="prisoner", fmt=1, report=RowReport("t"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text stream"):
        iter_records(csv_text, kind="prisoner", report=RowReport("t"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="RowReport"):
        iter_records(io.StringIO(csv_text), kind="prisoner", report=None)  # type: ignore[arg-type]
    assert TableFormat("jsonl") is TableFormat.JSONL


@pytest.mark.parametrize("index", [1.0, True])
def test_indices_are_ints(tmp_path: Path, index: Any) -> None:
    from swapproto.disclosure import collect_for_disclosure
    from swapproto.merkle import MerkleTree

    v1 = _v1(tmp_path)
    with pytest.raises(TypeError, match="int"):
        amend_manifest_file(
            v1,
            tmp_path / "v2",
            tmp_path / "a",
            keys=[KEY],
            removals=[(index, "deceased")],
            created_at=2,
        )
    assert not (tmp_path / "v2").exists()
    with pytest.raises(TypeError, match="int"):
        collect_for_disclosure([b"a", b"b"], [index])
    tree = MerkleTree([b"a", b"b", b"c"])
    with pytest.raises(TypeError, match="int"):
        tree.inclusion_proof(index)
    with pytest.raises(TypeError, match="int"):
        tree.consistency_proof(index)


def test_bytes_arguments_are_bytes(tmp_path: Path) -> None:
    from swapproto.reveal import reveal_content
    from swapproto.sealing import SealingContext, seal_bytes

    context = SealingContext(b"\x01" * 32, "l", "reveal")
    with pytest.raises(TypeError, match="plaintext must be bytes"):
        seal_bytes(None, [kit.keys().b_dec.public_key], context)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="manifest must be bytes"):
        reveal_content(None, kit.make_terms(), "a", kit.LIST)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary stream"):
        _build_into(str(tmp_path / "out.bin"))
    assert not (tmp_path / "out.bin").exists()


def test_exchange_dir_takes_a_str_or_a_path(tmp_path: Path) -> None:
    assert ExchangeDir(str(tmp_path)).path == tmp_path  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Path or str"):
        ExchangeDir(5)  # type: ignore[arg-type]


def test_keys_and_policies_of_the_wrong_kind() -> None:
    from swapproto.envelope import sign_envelope, verify_envelope
    from swapproto.sealing import SealingContext, open_bytes, seal_bytes

    data = build([prisoner(1)])
    terms = kit.make_terms()
    with pytest.raises(TypeError, match="PublicKey or a RolePolicy"):
        verify_manifest_file(io.BytesIO(data), terms.trust_policy())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SigningKey"):
        sign_envelope("swapproto/test/v1", {"x": 1}, [KEY.public_key])  # type: ignore[list-item]
    envelope = sign_envelope("swapproto/test/v1", {"x": 1}, [KEY])
    with pytest.raises(TypeError, match="RolePolicy"):
        verify_envelope(envelope, KEY.public_key, payload_type="swapproto/test/v1")  # type: ignore[arg-type]
    context = SealingContext(b"\x01" * 32, "l", "reveal")
    sealed = seal_bytes(b"x", [kit.keys().b_dec.public_key], context)
    with pytest.raises(TypeError, match="DecryptionKey"):
        open_bytes(sealed, kit.keys().b, context)  # type: ignore[arg-type]


def test_verify_transcript_arguments() -> None:
    from swapproto.transcript import verify_transcript

    exchange = kit.run_exchange(until="terms-agreed")
    items = exchange.items()
    assert verify_transcript(items, terms=exchange.terms, now=kit.NOW).ok
    for now in (True, 1.5e9, "1"):
        with pytest.raises(TypeError, match="now"):
            verify_transcript(items, terms=exchange.terms, now=now)  # type: ignore[arg-type]
    with pytest.raises(InputError) as info:
        verify_transcript(items, terms=exchange.terms, now=-1)
    assert info.value.code == ErrorCode.INPUT_USAGE
    with pytest.raises(TypeError, match="pairs"):
        verify_transcript([data for _, data in items], terms=exchange.terms)  # type: ignore[misc]


# -- third part: nothing signed or written that would be refused -------------------------


@pytest.mark.parametrize("created_at", [-1, True, 1.5])
def test_a_header_verification_would_refuse_is_never_signed(created_at: Any) -> None:
    with pytest.raises(InputError) as info:
        _builder().sign([KEY], created_at=created_at)
    assert info.value.code == ErrorCode.INPUT_INVALID


@pytest.mark.parametrize(
    "change", [{"exchange": b"x"}, {"seq": -1}, {"created_at": -5}, {"deps": [b"short"]}]
)
def test_a_message_every_receiver_would_refuse_is_never_signed(change: dict[str, Any]) -> None:
    from swapproto.messages import make_message

    fields: dict[str, Any] = {
        "exchange": b"\x01" * 32,
        "sender": "a",
        "seq": 0,
        "deps": [],
        "created_at": 1,
        "body": {"reason": "x"},
        "keys": [KEY],
    }
    make_message(MessageType.ABORT, **fields)  # the unchanged message is fine
    with pytest.raises(InputError) as info:
        make_message(MessageType.ABORT, **{**fields, **change})
    assert info.value.code == ErrorCode.INPUT_INVALID


def test_removals_and_modes_are_checked_when_made() -> None:
    from swapproto.amendment import AmendmentMode, Removal, RemovalReason, make_amendment

    with pytest.raises(TypeError, match="index"):
        Removal(True, "P-1", RemovalReason.DECEASED)
    with pytest.raises(TypeError, match="reason"):
        Removal(0, "P-1", "deceased")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AmendmentMode"):
        make_amendment(b"", b"", mode="revise", keys=[KEY])  # type: ignore[arg-type]
    assert AmendmentMode("append") is AmendmentMode.APPEND


def test_keys_of_the_wrong_kind_are_not_written(tmp_path: Path) -> None:
    from swapproto._terms_roles import PinnedKey
    from swapproto.key_files import write_public_key

    keys = kit.keys()
    with pytest.raises(TypeError, match="signing_key must be a SigningKey"):
        write_key_pair(tmp_path, "n", keys.a_dec)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decryption_key must be a DecryptionKey"):
        write_key_pair(tmp_path, "n", keys.a, decryption_key=keys.b)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a PublicKey"):
        write_public_key(tmp_path / "n.pub", "n", keys.a_dec.public_key)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EncryptionPublicKey"):
        write_public_key(tmp_path / "n.pub", "n", keys.a.public_key, encryption=keys.b.public_key)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="EncryptionPublicKey"):
        PinnedKey(keys.a.public_key, keys.b.public_key)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PublicKey"):
        PinnedKey(keys.a_dec.public_key)  # type: ignore[arg-type]


def test_staged_content_is_published_once_and_never_after_withdrawal(tmp_path: Path) -> None:
    terms = kit.make_terms()
    manifest = kit.build_list(terms, "a").data
    xch = ExchangeDir(tmp_path)
    xch.write_terms(terms)
    with xch.staged_content(io.BytesIO(manifest), terms, "a", kit.LIST) as staged:
        first = staged.publish()
        assert staged.publish() == first  # again: the same path, no error
        staged.withdraw()
        assert not first.exists()
        with pytest.raises(InputError) as info:
            staged.publish()
        assert info.value.code == ErrorCode.INPUT_USAGE
    with xch.staged_content(io.BytesIO(manifest), terms, "a", kit.LIST) as staged:
        staged.withdraw()  # before publishing: the staged file goes, publishing is refused
        with pytest.raises(InputError):
            staged.publish()
    assert sorted(p.name for p in tmp_path.iterdir()) == [TERMS_FILE]


def test_an_opening_holds_two_32_byte_values(tmp_path: Path) -> None:
    from swapproto.exchange_dir import Opening

    with pytest.raises(TypeError, match="nonce must be 32 bytes"):
        Opening(b"x", bytes(32))
    with pytest.raises(TypeError, match="header_digest must be 32 bytes"):
        Opening(bytes(32), b"y")
    opening = Opening(b"\x01" * 32, b"\x02" * 32)
    opening.write(tmp_path / "a.manifest")
    assert Opening.read(tmp_path / "a.manifest") == opening


def test_describe_a_version_that_is_not_tied() -> None:
    from swapproto.exchange_tie import ListVersions

    versions = ListVersions.__new__(ListVersions)
    object.__setattr__(versions, "versions", ())
    object.__setattr__(versions, "where", "the exchange")
    with pytest.raises(InputError) as info:
        versions.describe(bytes(32))
    assert info.value.code == ErrorCode.INPUT_INVALID


def test_more_wrong_types_say_what_was_expected() -> None:
    from swapproto.keys import SigningKey
    from swapproto.messages import parse_message
    from swapproto.transcript import verify_transcript

    pem = KEY.to_pem()
    with pytest.raises(TypeError, match="key file content is bytes"):
        SigningKey.from_pem(pem.decode())  # type: ignore[arg-type]
    assert SigningKey.from_pem(pem).key_id == KEY.key_id
    exchange = kit.run_exchange(until="terms-agreed")
    with pytest.raises(TypeError, match="TrustPolicy"):
        parse_message(exchange.envelopes()[0], exchange.terms)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="RecipientOpener"):
        verify_transcript(exchange.items(), opener=kit.keys().b)  # type: ignore[arg-type]


# -- fourth part: what a review of the above found ------------------------------------------


def test_make_message_takes_a_body_in_any_key_order() -> None:
    from swapproto.messages import make_message

    envelope = make_message(
        MessageType.VERDICT,
        exchange=b"\x01" * 32,
        sender="a",
        seq=3,
        deps=[],
        created_at=1,
        body={"verdict": "accept", "seen": b"\x00" * 32, "reasons": []},
        keys=[KEY],
    )
    value: Any = envelope.unverified_value()
    assert list(value["body"]) == ["reasons", "seen", "verdict"]


def test_an_evidence_item_inside_a_record_names_the_record_and_field() -> None:
    from swapproto.records import Remains

    fields: dict[str, Any] = {
        "remains_id": "R1",
        "recovery_date": "2024-01-01",
        "recovery_place": "X",
        "identification_status": "unidentified",
        "evidence": ({"alg": "sha256", "digest": b"x"},),
    }
    with pytest.raises(InputError) as info:
        Remains(**fields)
    assert str(info.value).startswith("[input.invalid_record] remains record: field 'evidence'")
    assert info.value.details["kind"] == "remains"
    assert info.value.details["field"] == "evidence"


def test_generators_are_read_once() -> None:
    from swapproto.envelope import sign_envelope

    envelope = sign_envelope("swapproto/test/v1", {"x": 1}, (k for k in [KEY]))  # type: ignore[arg-type]
    assert envelope.signer_key_ids == (KEY.key_id,)
    exchange = kit.run_exchange(until="revealed")
    party = Party(exchange.terms, "a", (k for k in kit.keys().signing("a")))  # type: ignore[arg-type]
    for envelope in exchange.envelopes():
        party.receive(envelope)
    verdict = party.verdict(accept=False, reasons=(r for r in ["x"]), now=kit.NOW)  # type: ignore[arg-type]
    value: Any = verdict.unverified_value()
    assert value["body"]["reasons"] == ["x"]


def test_a_role_given_as_a_str_subclass_is_the_plain_role() -> None:
    from enum import StrEnum

    class Role(StrEnum):
        A = "a"

    party = Party(kit.make_terms(), Role.A, kit.keys().signing("a"))
    assert type(party.role) is str
    assert party.phase(party.role).name


def test_key_text_as_a_mutable_buffer_loads(tmp_path: Path) -> None:
    from swapproto.keys import SigningKey

    assert SigningKey.from_pem(bytearray(KEY.to_pem())).key_id == KEY.key_id  # type: ignore[arg-type]
    with pytest.raises(KeyFileError) as info:
        load_signing_key(KEY.to_pem().decode())
    assert info.value.__context__ is None  # the OSError's filename would hold the key


def test_text_streams_that_are_no_text_io_base_are_caught(tmp_path: Path) -> None:
    import tempfile

    from swapproto.tabular import RowReport, iter_records

    with tempfile.NamedTemporaryFile("w+", dir=tmp_path) as text_file:
        with pytest.raises(TypeError, match="binary stream"):
            _build_into(text_file)
        assert text_file.tell() == 0
    with pytest.raises(TypeError, match="text stream"):
        iter_records(io.BytesIO(b"person_id\n"), kind="prisoner", report=RowReport("t"))  # type: ignore[arg-type]


def test_more_sibling_checks() -> None:
    from swapproto.amendment import Removal, RemovalReason
    from swapproto.sealing import SealingContext, open_bytes
    from swapproto.transcript import verify_transcript

    with pytest.raises(TypeError, match="sealed must be bytes"):
        open_bytes(None, kit.keys().b_dec, SealingContext(b"\x01" * 32, "l", "reveal"))  # type: ignore[arg-type]
    with pytest.raises(InputError) as info:
        Removal(-1, "P-1", RemovalReason.DECEASED)
    assert info.value.code == ErrorCode.INPUT_INVALID
    items = kit.run_exchange(until="terms-agreed").items()
    with pytest.raises(TypeError, match="terms must be a Terms"):
        verify_transcript(items, terms="terms.toml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="BlobSource"):
        verify_transcript(items, blobs={})  # type: ignore[arg-type]


def test_the_last_wrong_types_named() -> None:
    from swapproto.envelope import evaluate_envelope, sign_envelope
    from swapproto.hashing import Tag, tagged_hash
    from swapproto.messages import make_message

    envelope = sign_envelope("swapproto/test/v1", {"x": 1}, [KEY])
    with pytest.raises(TypeError, match="SigningKey"):
        envelope.add_signature(KEY.public_key)  # type: ignore[arg-type]
    policy: Any = kit.make_terms().trust_policy()
    with pytest.raises(TypeError, match="RolePolicy"):
        evaluate_envelope(envelope, policy, payload_type="swapproto/test/v1")
    with pytest.raises(TypeError, match="registered Tag"):
        tagged_hash("swapproto/v1/key-id", b"")  # type: ignore[arg-type]
    assert len(tagged_hash(Tag.KEY_ID, b"")) == 32
    with pytest.raises(TypeError, match="MessageType"):
        make_message(
            "swapproto/abort/v1",  # type: ignore[arg-type]
            exchange=b"\x01" * 32,
            sender="a",
            seq=0,
            deps=[],
            created_at=1,
            body={"reason": "x"},
            keys=[KEY],
        )


def test_labels_rows_and_limits_of_the_wrong_type() -> None:
    from swapproto.encoding import decode
    from swapproto.manifest import check_label
    from swapproto.records import canonical_from_row

    with pytest.raises(TypeError, match="a label is a str"):
        check_label(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="row must be a mapping"):
        canonical_from_row("prisoner", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DecodeLimits"):
        decode(b"\x01", limits=None)  # type: ignore[arg-type]
    assert decode(b"\x01") == 1
