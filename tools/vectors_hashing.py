"""Vectors for tagged hashes (``spec/vectors/hashing/``)."""

from __future__ import annotations

from swapproto.hashing import Tag, tagged_hash

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
    return {
        "tagged": {
            "desc": "tagged_hash(tag, m) = SHA-256(SHA-256(tag) || SHA-256(tag) || m)",
            "cases": cases,
        }
    }
