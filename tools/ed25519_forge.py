"""A small edwards25519 (RFC 8032) for making Ed25519 signatures by hand.

Only for vectors and tests: it builds signatures that a lax verifier accepts and the
strict, cofactorless check of ``spec/keys.md`` §1.1 must refuse (a small-order
component in ``R``, ``S >= L``, a non-canonical encoding of ``R``). Not constant time,
never for real keys.
"""

from __future__ import annotations

import hashlib
from typing import Final

from swapproto._edwards25519 import D, L, P, decode_point
from swapproto._edwards25519 import add as add
from swapproto._edwards25519 import multiply as mul

Point = tuple[int, int]
IDENTITY: Final[Point] = (0, 1)
ORDER_2: Final[Point] = (0, P - 1)
__all__ = ["IDENTITY", "ORDER_2", "B", "D", "L", "P", "add", "encode", "mul", "public", "sign"]


def _base() -> Point:
    """The base point, from its RFC 8032 encoding (y = 4/5, x even)."""
    point = decode_point(bytes.fromhex("58" + "66" * 31))
    assert point is not None
    return point


B: Final = _base()


def encode(point: Point) -> bytes:
    """RFC 8032 §5.1.2 point encoding."""
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def h(*parts: bytes) -> int:
    """SHA-512 of the concatenation, as a little-endian integer."""
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def secret(seed: bytes) -> tuple[int, bytes]:
    """The clamped scalar and the nonce prefix of an RFC 8032 seed."""
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a = (a & ~7 & ((1 << 254) - 1)) | (1 << 254)
    return a, digest[32:]


def public(seed: bytes) -> bytes:
    """The public key of ``seed``."""
    return encode(mul(secret(seed)[0], B))


def sign_with(seed: bytes, message: bytes, r_bytes: bytes, r: int) -> bytes:
    """``R || S`` with ``R`` given as bytes and ``S = r + k a`` for ``k = H(R || A || M)``."""
    a, _ = secret(seed)
    k = h(r_bytes, public(seed), message) % L
    return r_bytes + ((r + k * a) % L).to_bytes(32, "little")


def sign(seed: bytes, message: bytes) -> bytes:
    """The RFC 8032 signature (deterministic nonce)."""
    r = h(secret(seed)[1], message) % L
    return sign_with(seed, message, encode(mul(r, B)), r)


def small_order_r(seed: bytes, message: bytes, r: int) -> bytes:
    """``R = [r]B + T`` with ``T`` of order 2: the cofactored equation accepts it."""
    return sign_with(seed, message, encode(add(mul(r, B), ORDER_2)), r)


def s_plus_l(seed: bytes, message: bytes) -> bytes:
    """A valid signature with ``S + L`` in place of ``S`` (malleated, ``S >= L``)."""
    good = sign(seed, message)
    s = int.from_bytes(good[32:], "little") + L
    return good[:32] + s.to_bytes(32, "little")


def non_canonical_r(seed: bytes, message: bytes) -> bytes:
    """``R`` = the identity written as ``y = 1 + p``, ``S = k a``: ``[S]B - [k]A`` is the
    identity, whose canonical encoding differs from these bytes."""
    return sign_with(seed, message, (1 + P).to_bytes(32, "little"), 0)
