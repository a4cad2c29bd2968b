"""A newcomer's tour of the library API, written from the README and the docstrings.

Three small programs, each ending in the checks a user would make: a remains list with
evidence digests and one disclosed entry; a child-case list amended by one removal; a
whole two-party exchange with sans-IO ``Party`` objects, an ``Observer`` and
``verify_transcript``. Keys and salts come from fixed seeds; nothing touches the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
from pathlib import Path
from typing import BinaryIO

import pytest

import swapproto
from swapproto import (
    DecryptionKey,
    KeyBundle,
    ManifestReader,
    Observer,
    Party,
    ProofError,
    RecipientOpener,
    RemoteProtocolError,
    RemovalReason,
    SigningKey,
    SwapprotoError,
    ThresholdError,
    VerificationError,
    amend_manifest_file,
    build_manifest_file,
    check_revision,
    collect_for_disclosure,
    completeness_statement,
    make_disclosure,
    verify_amendment,
    verify_disclosure,
    verify_manifest_file,
    verify_transcript,
)
from swapproto.demo_data import demo_terms, prisoner_rows
from swapproto.errors import ErrorCode
from swapproto.handshake import Committed, Phase, Revealed, TermsAgreed, VerdictGiven
from swapproto.manifest_file import build_manifest
from swapproto.messages import MessageType
from swapproto.records import ChildCase, Remains, canonical_from_row, to_canonical
from swapproto.sealing import SealingContext, seal_bytes
from swapproto.terms import PinnedKey, terms_from_toml

CREATED = 1_700_000_000


def _disclose(path: Path, index: int) -> bytes:
    """The issuer's side: one entry of its own manifest file, with its proof."""
    with path.open("rb") as stream:
        reader = ManifestReader(stream)
        count = reader.unverified_header().count
        tree, leaves = collect_for_disclosure(reader.leaves(count), [index])
        return make_disclosure(reader.header_bytes, tree, leaves)


# --- 1. a remains list with evidence digests, one entry disclosed ----------------------------


def test_remains_manifest_with_evidence_and_one_disclosure(tmp_path: Path) -> None:
    issuer = SigningKey.from_seed(bytes(32))
    dna = hashlib.sha256(b"dna profile R-1").digest()
    tag = hashlib.sha256(b"tag photo R-1").hexdigest()
    photo = hashlib.sha256(b"photo R-2").hexdigest()
    rows: list[dict[str, object]] = [
        {
            "remains_id": "R-1",
            "recovery_date": "2024-03-01",
            "recovery_place": "Field 7",
            "identification_status": "identified",
            "family_name": "Kovalenko",
            "given_names": "Ivan",
            "date_of_birth": "1990-01-02",
            "evidence": [
                {"alg": "sha256", "digest": dna, "purpose": "dna_profile"},
                {"alg": "sha256", "digest": tag, "purpose": "tag_photo"},  # hex text works too
            ],
        },
        {
            "remains_id": "R-2",
            "recovery_date": "2024-03-02",
            "recovery_place": "Field 8",
            "identification_status": "unidentified",
            "evidence": [f"photo=sha256:{photo}"],  # the string form
        },
    ]
    records = [to_canonical(Remains(**row)) for row in rows]  # type: ignore[arg-type]
    evidence = records[0]["evidence"]
    assert isinstance(evidence, list)
    assert {e["digest"] for e in evidence} == {dna, bytes.fromhex(tag)}

    path = tmp_path / "remains.manifest"
    built = build_manifest_file(
        path,
        records,
        kind="remains",
        list_name="remains-2024",
        issuer="ua",
        keys=[issuer],
        created_at=CREATED,
        salt_source=random.Random(1).randbytes,
    )
    assert built.warnings == ()
    with path.open("rb") as stream:
        report = verify_manifest_file(stream, issuer.public_key)
    assert report.full
    assert report.count == 2
    assert report.verified.digest == built.verified.digest

    proof = _disclose(path, 1)
    # the checker holds only the disclosure and the issuer's public key
    disclosed = verify_disclosure(proof, issuer.public_key)
    (entry,) = disclosed.entries
    assert entry.index == 1
    assert entry.kind == "remains"
    assert entry.record["remains_id"] == "R-2"
    assert entry.record["evidence"][0]["digest"] == bytes.fromhex(photo)
    # the disclosure proves "on *some* list signed by this key": check which one
    header = disclosed.verified.header
    assert (header.issuer, header.list_name, header.kind) == ("ua", "remains-2024", "remains")
    assert disclosed.verified.digest == report.verified.digest

    with pytest.raises(ThresholdError) as wrong_key:
        verify_disclosure(proof, SigningKey.from_seed(b"\x01" * 32).public_key)
    assert wrong_key.value.code == ErrorCode.VERIFY_THRESHOLD
    tampered = bytearray(proof)
    tampered[-5] ^= 1  # inside the last proof hash
    with pytest.raises(ProofError):
        verify_disclosure(bytes(tampered), issuer.public_key)


# --- 2. a child-case list amended: one case removed with a reason ----------------------------


def test_child_case_list_amended_by_one_removal(tmp_path: Path) -> None:
    issuer = SigningKey.from_seed(b"\x07" * 32)
    cases = [
        ChildCase(
            case_id=f"C-{i}",
            family_name="Shevchenko",
            given_names=f"Child {i}",
            date_of_birth=f"2015-05-0{i + 1}",  # type: ignore[arg-type]
            last_known_place="Mariupol",
            date_of_separation="2022-04-01",  # type: ignore[arg-type]
            contact_reference=f"ICRC-{i}",
        )
        for i in range(4)
    ]
    v1, v2, amendment = tmp_path / "v1.manifest", tmp_path / "v2.manifest", tmp_path / "v2.amend"
    build_manifest_file(
        v1,
        [to_canonical(case) for case in cases],
        kind="child_case",
        list_name="children",
        issuer="ua",
        keys=[issuer],
        created_at=CREATED,
        salt_source=random.Random(2).randbytes,
    )
    made = amend_manifest_file(
        v1,
        v2,
        amendment,
        keys=[issuer],
        removals=[(2, RemovalReason.DUPLICATE)],  # 0-based entry index, signed reason
        created_at=CREATED + 100,
    )
    assert made.current.header.count == 3

    checked = verify_amendment(amendment.read_bytes(), issuer.public_key)
    assert checked.mode.value == "revise"
    assert [(r.index, r.record_id, r.reason) for r in checked.removed] == [
        (2, "C-2", RemovalReason.DUPLICATE)
    ]
    assert (checked.previous.header.version, checked.current.header.version) == (1, 2)
    # the amendment names two versions by digest: tie it to the files actually held
    with v1.open("rb") as old, v2.open("rb") as new:
        old_reader, new_reader = ManifestReader(old), ManifestReader(new)
        old_header = old_reader.verify_header(issuer.public_key)
        new_header = new_reader.verify_header(issuer.public_key)
        assert old_header.digest == checked.previous.digest
        assert new_header.digest == checked.current.digest
        check_revision(
            checked,
            old_reader.leaves(old_header.header.count),
            new_reader.leaves(new_header.header.count),
        )
    with v2.open("rb") as stream:
        ids = [e.record["case_id"] for e in _entries(stream, issuer)]
    assert ids == ["C-0", "C-1", "C-3"]

    with pytest.raises(ThresholdError):
        verify_amendment(amendment.read_bytes(), SigningKey.from_seed(b"\x08" * 32).public_key)
    old_stream, same_stream = v1.open("rb"), v1.open("rb")  # a "new" view that removed nothing
    with old_stream, same_stream, pytest.raises(VerificationError) as kept:
        check_revision(
            checked, ManifestReader(old_stream).leaves(4), ManifestReader(same_stream).leaves(4)
        )
    assert kept.value.code == ErrorCode.VERIFY_AMENDMENT


def _entries(stream: BinaryIO, issuer: SigningKey) -> list[swapproto.manifest.Entry]:
    """Every entry of a manifest, disclosed in one multi-proof and verified."""
    reader = ManifestReader(stream)
    count = reader.verify_header(issuer.public_key).header.count
    tree, leaves = collect_for_disclosure(reader.leaves(count), range(count))
    return list(
        verify_disclosure(
            make_disclosure(reader.header_bytes, tree, leaves), issuer.public_key
        ).entries
    )


# --- 3. a sealed two-party exchange, sans-IO, checked offline --------------------------------

SIDES = {"a": "ua", "b": "ru"}
SEEDS = {"ua": 1, "ru": 2, "tr": 3}


class _Blobs:
    """A BlobSource in memory: revealed content by its SHA-256."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def open(self, sha256: bytes) -> BinaryIO | None:
        blob = self.data.get(sha256)
        return None if blob is None else io.BytesIO(blob)


def test_two_party_exchange_with_an_observer_and_the_transcript() -> None:
    signing = {n: SigningKey.from_seed(bytes([s]) * 32) for n, s in SEEDS.items()}
    decryption = {n: DecryptionKey.from_seed(bytes([s + 10]) * 32) for n, s in SEEDS.items()}

    def load_key(path: str, where: str) -> PinnedKey:
        name = path.removeprefix("keys/").removesuffix(".pub")
        return PinnedKey(signing[name].public_key, decryption[name].public_key, source=path)

    reference = dt.date(2025, 6, 2)
    terms = terms_from_toml(demo_terms(reference, 5), load_key=load_key)
    now = int(dt.datetime(2025, 6, 3, tzinfo=dt.UTC).timestamp())
    parties = {role: Party(terms, role, [signing[name]]) for role, name in SIDES.items()}
    observer = Observer(terms)
    wire: list[tuple[str, bytes]] = []

    def deliver(sender: str, envelope: swapproto.SignedEnvelope) -> None:
        data = envelope.to_bytes()
        wire.append((f"{sender}-{len(wire)}", data))
        for role, party in parties.items():
            if role != sender:
                party.receive(data)
        observer.receive(data)

    for role, party in parties.items():
        deliver(role, party.sign_terms(now=now))
    assert observer.terms_agreed

    manifests: dict[str, bytes] = {}
    nonces: dict[str, bytes] = {}
    for role, party in parties.items():
        out = io.BytesIO()
        rows = prisoner_rows(5, side=SIDES[role], reference=reference)
        build_manifest(
            out,
            (canonical_from_row("prisoner", row) for row in rows),
            kind="prisoner",
            list_name="pows",
            issuer=role,
            keys=[signing[SIDES[role]]],
            created_at=now,
            exchange=terms.exchange_id,
            salt_source=random.Random(role).randbytes,
        )
        manifests[role] = out.getvalue()
        policy = terms.trust_policy().role(role)
        digest = verify_manifest_file(io.BytesIO(manifests[role]), policy).verified.digest
        nonces[role] = hashlib.sha256(b"test nonce " + role.encode()).digest()
        statement = completeness_statement(terms, role, "pows", now)
        deliver(
            role, party.commit("pows", digest, nonce=nonces[role], now=now, statement=statement)
        )

    blobs = _Blobs()
    context = SealingContext(terms.exchange_id, "pows", MessageType.REVEAL.value)
    for role, party in parties.items():
        sealed = seal_bytes(manifests[role], terms.recipients_for("pows", role), context)
        digest = hashlib.sha256(sealed).digest()
        blobs.data[digest] = sealed
        header = ManifestReader(io.BytesIO(manifests[role])).header_bytes
        content = {"sealed": True, "sha256": digest, "size": len(sealed)}
        deliver(role, party.reveal("pows", header, nonce=nonces[role], content=content, now=now))

    mediator = RecipientOpener(KeyBundle(signing["tr"], decryption["tr"]))
    report = verify_transcript(wire, terms=terms, blobs=blobs, opener=mediator, now=now)
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.state == "revealed"
    assert report.skipped == ()
    assert {(s.side, s.count, s.content_checked) for s in report.lists} == {
        ("a", 5, True),
        ("b", 5, True),
    }

    for role, party in parties.items():
        deliver(role, party.verdict(accept=True, now=now))
    final = verify_transcript(wire, terms=terms, blobs=blobs, opener=None, now=now)
    assert final.ok
    assert final.state == "agreed"
    assert final.exchange_id == terms.exchange_id
    assert observer.phase("a") == observer.phase("b") == Phase.DONE
    kinds = [type(e) for e in observer.events]
    assert kinds.count(TermsAgreed) == 1
    assert kinds.count(Committed) == 2
    assert kinds.count(Revealed) == 2
    verdicts = [e for e in observer.events if isinstance(e, VerdictGiven)]
    assert [(v.accepted, v.matches) for v in verdicts] == [(True, True), (True, True)]

    # a disclosure is tied to this exchange by the revealed header's digest
    reader = ManifestReader(io.BytesIO(manifests["a"]))
    tree, leaves = collect_for_disclosure(reader.leaves(reader.unverified_header().count), [3])
    disclosed = verify_disclosure(
        make_disclosure(reader.header_bytes, tree, leaves), terms.trust_policy().role("a")
    )
    assert disclosed.verified.digest == observer.revealed_header("a", "pows").digest

    # a blob swapped under a reveal fails its content check; the rest still passes
    swapped = next(iter(blobs.data))
    blobs.data[swapped] = blobs.data[swapped][:-1] + bytes([blobs.data[swapped][-1] ^ 1])
    broken = verify_transcript(wire, terms=terms, blobs=blobs, opener=mediator, now=now)
    assert not broken.ok
    assert [c.name for c in broken.checks if not c.ok] == ["content a/pows"]
    # a message replayed out of order is the peer's protocol error, and final
    late = Observer(terms)
    late.receive(wire[0][1])
    with pytest.raises(RemoteProtocolError):
        late.receive(wire[4][1])
    assert late.errored
    with pytest.raises(SwapprotoError):
        late.receive(wire[1][1])
