"""A small edwards25519 (RFC 8032) for making Ed25519 signatures by hand.

Only for vectors and tests: it builds signatures that a lax verifier accepts and the
strict, cofactorless check of ``spec/keys.md`` §1.1 must refuse (a small-order
component in ``R``, ``S >= L``, a non-canonical encoding of ``R``). Not constant time,
never for real keys.
"""

from __future__ import annotations

import hashlib
from typing import Final

P: Final = 2**255 - 19
L: Final = 2**252 + 27742317777372353535851937790883648493
D: Final = -121665 * pow(121666, -1, P) % P
Point = tuple[int, int]
IDENTITY: Final[Point] = (0, 1)
ORDER_2: Final[Point] = (0, P - 1)


def add(a: Point, b: Point) -> Point:
    """Twisted Edwards addition (a = -1)."""
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P
    return x3, y3


def mul(k: int, point: Point) -> Point:
    """``[k]point`` by double-and-add."""
    out = IDENTITY
    while k:
        if k & 1:
            out = add(out, point)
        point = add(point, point)
        k >>= 1
    return out


def _base() -> Point:
    y = 4 * pow(5, -1, P) % P
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    return (x if x % 2 == 0 else P - x), y


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
