"""Tagged hashes: known answers, separation between tags, the registry is documented."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from helpers import load_vectors
from swapproto.hashing import (
    DIGEST_SIZE,
    KdfLabel,
    Tag,
    digest_equal,
    fingerprint,
    sha256,
    tagged_hash,
    tagged_hasher,
)

SPEC = Path(__file__).resolve().parent.parent / "spec" / "hashing.md"
CASES = load_vectors("hashing", "tagged")["cases"]
FINGERPRINTS = load_vectors("hashing", "fingerprints")["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["desc"] for c in CASES])
def test_tagged_hash_vectors(case: dict[str, Any]) -> None:
    tag = Tag(case["tag"])
    assert tagged_hash(tag, bytes.fromhex(case["message"])).hex() == case["digest"]


@pytest.mark.parametrize("case", FINGERPRINTS, ids=[c["desc"] for c in FINGERPRINTS])
def test_fingerprint_vectors(case: dict[str, Any]) -> None:
    assert fingerprint(bytes.fromhex(case["digest"])) == case["fingerprint"]


def test_definition_from_first_principles() -> None:
    t = hashlib.sha256(b"swapproto/v1/key-id").digest()
    assert tagged_hash(Tag.KEY_ID, b"abc") == hashlib.sha256(t + t + b"abc").digest()


def test_tags_separate_domains() -> None:
    digests = {tagged_hash(tag, b"same input") for tag in Tag}
    assert len(digests) == len(Tag)
    assert hashlib.sha256(b"same input").digest() not in digests


def test_tag_values_unique_and_versioned() -> None:
    values = [tag.value for tag in Tag]
    assert len(set(values)) == len(values)
    assert all(v.startswith("swapproto/v1/") and v.isascii() for v in values)


def test_parts_are_concatenated_and_hasher_streams() -> None:
    h = tagged_hasher(Tag.TRANSCRIPT)
    h.update(b"ab")
    h.update(b"c")
    assert (
        h.digest()
        == tagged_hash(Tag.TRANSCRIPT, b"a", b"bc")
        == tagged_hash(Tag.TRANSCRIPT, b"abc")
    )
    assert len(h.digest()) == DIGEST_SIZE


def test_hasher_copies_do_not_share_state() -> None:
    tagged_hasher(Tag.COMMITMENT).update(b"polluted")
    assert tagged_hash(Tag.COMMITMENT, b"") == tagged_hasher(Tag.COMMITMENT).digest()


def test_every_tag_is_documented_in_the_spec() -> None:
    text = SPEC.read_text(encoding="utf-8")
    for tag in Tag:
        assert f"`{tag.value}`" in text, tag


def test_the_registry_table_lists_exactly_the_tags() -> None:
    """``spec/hashing.md`` §2 has one row per tag, in the enum's order, and no other."""
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 2. Registry", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `swapproto/")]
    listed = [row.split("`")[1] for row in rows]
    assert listed == [tag.value for tag in Tag]


def test_message_ids_and_envelope_ids_have_their_own_tags() -> None:
    assert Tag.MESSAGE_ID.value == "swapproto/v1/message-id"
    assert Tag.ENVELOPE_ID.value == "swapproto/v1/envelope-id"
    assert tagged_hash(Tag.MESSAGE_ID, b"m") != tagged_hash(Tag.ENVELOPE_ID, b"m")


def test_sha256_and_digest_equal() -> None:
    assert sha256(b"abc") == hashlib.sha256(b"abc").digest()
    assert sha256([b"a", b"bc"]) == sha256(b"abc")
    assert digest_equal(b"\x01" * 32, b"\x01" * 32)
    assert not digest_equal(b"\x01" * 32, b"\x01" * 31 + b"\x02")


def test_fingerprint_known_answer_from_the_spec() -> None:
    from swapproto.hashing import fingerprint

    assert fingerprint(bytes(32)) == "7AWZ-BE5Q-N3BR-GHSC"
    assert fingerprint(b"\x01" + bytes(31)) != fingerprint(bytes(32))


def test_the_kdf_label_table_lists_exactly_the_labels() -> None:
    """``spec/hashing.md`` §5 has one row per KDF label, in the enum's order, and no other."""
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 5. Key derivation labels", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `swapproto/")]
    assert [row.split("`")[1] for row in rows] == [label.value for label in KdfLabel]


def test_kdf_labels_are_versioned_and_distinct_from_every_tag() -> None:
    labels = [label.value for label in KdfLabel]
    tags = {tag.value for tag in Tag}
    assert len(set(labels)) == len(labels)
    assert all(v.startswith("swapproto/v1/") and v.isascii() for v in labels)
    # no label is a tag, nor a prefix of a tag or of another label (the seed label is
    # extended with "/..." and must not run into a neighbour)
    for label in labels:
        assert label not in tags
        assert not any(t.startswith(label + "/") for t in tags)
        assert not any(o != label and o.startswith(label + "/") for o in labels)


def test_kdf_label_info_joins_with_slashes() -> None:
    assert KdfLabel.KEY_SEED.info("ed25519", "ed25519") == b"swapproto/v1/key-seed/ed25519/ed25519"
    assert KdfLabel.SEALED_PAYLOAD_KEY.info() == b"swapproto/v1/sealed/payload-key"
