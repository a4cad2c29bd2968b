"""Vectors for tagged hashes (``spec/vectors/hashing/``)."""

from __future__ import annotations

import hashlib

from swapproto.hashing import Tag, fingerprint, tagged_hash

MESSAGES = (b"", b"abc", bytes(range(64)))


def generate() -> dict[str, object]:
    """One case per tag and message."""
    cases = [
        {
            "desc": f"{tag.name} over {len(msg)} bytes",
            "tag": tag.value,
            "message": msg.hex(),
            "digest": tagged_hash(tag, msg).hex(),
        }
        for tag in Tag
        for msg in MESSAGES
    ]
    digests = (bytes(32), bytes(range(32)), hashlib.sha256(b"abc").digest(), bytes([0xFF]) * 32)
    prints = [
        {"desc": f"digest {d[:4].hex()}..", "digest": d.hex(), "fingerprint": fingerprint(d)}
        for d in digests
    ]
    return {
        "fingerprints": {
            "desc": "fingerprint(d): base32 of tagged_hash(FINGERPRINT, d)[0:10] in groups of 4",
            "cases": prints,
        },
        "tagged": {
            "desc": "tagged_hash(tag, m) = SHA-256(SHA-256(tag) || SHA-256(tag) || m)",
            "cases": cases,
        },
    }
