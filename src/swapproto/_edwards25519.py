"""Just enough edwards25519 (RFC 8032 §5.1) to check a public key: decoding a point and
testing that it lies in the prime-order subgroup. Public data only: nothing here needs to
run in constant time."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

__all__ = ["Y_MASK", "L", "P", "decode_point", "in_prime_order_subgroup"]

P: Final = 2**255 - 19
L: Final = 2**252 + 27742317777372353535851937790883648493
"""The order of the prime-order subgroup (and of the base point)."""
D: Final = -121665 * pow(121666, -1, P) % P
_SQRT_M1: Final = pow(2, (P - 1) // 4, P)
Y_MASK: Final = (1 << 255) - 1
"""The bits of an encoding that hold ``y`` (bit 255 is the sign of ``x``)."""

Extended = tuple[int, int, int, int]
"""A point ``(X, Y, Z, T)`` with ``x = X/Z``, ``y = Y/Z``, ``x y = T/Z``."""
_IDENTITY: Final[Extended] = (0, 1, 1, 0)


def decode_point(raw: bytes) -> tuple[int, int] | None:
    """The affine point ``(x, y)`` that 32 bytes encode (RFC 8032 §5.1.3), or None for
    ``y >= p``, a ``y`` of no point, or ``x = 0`` with the sign bit set."""
    value = int.from_bytes(raw, "little")
    y, sign = value & Y_MASK, value >> 255
    if y >= P:
        return None
    yy = y * y % P
    x2 = (yy - 1) * pow(D * yy + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * _SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x, y


def _add(a: Extended, b: Extended) -> Extended:
    # add-2008-hwcd-3 for a = -1 (complete: also doubles)
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * D * t1 * t2 % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % P, g * h % P, f * g % P, e * h % P


def _multiply(k: int, point: Extended) -> Extended:
    out = _IDENTITY
    while k:
        if k & 1:
            out = _add(out, point)
        point = _add(point, point)
        k >>= 1
    return out


Point = tuple[int, int]
"""An affine point ``(x, y)``."""


def _extended(point: Point) -> Extended:
    x, y = point
    return x, y, 1, x * y % P


def _affine(point: Extended) -> Point:
    x, y, z, _ = point
    inverse = pow(z, -1, P)
    return x * inverse % P, y * inverse % P


def add(a: Point, b: Point) -> Point:
    """``a + b`` in affine coordinates."""
    return _affine(_add(_extended(a), _extended(b)))


def multiply(k: int, point: Point) -> Point:
    """``[k]point`` in affine coordinates."""
    return _affine(_multiply(k, _extended(point)))


@lru_cache(maxsize=1024)
def in_prime_order_subgroup(raw: bytes) -> bool:
    """Whether ``raw`` encodes a point ``A`` with ``[L]A`` the identity: no component of
    small order. False for bytes that encode no point."""
    decoded = decode_point(raw)
    if decoded is None:
        return False
    rx, ry, rz, _ = _multiply(L, _extended(decoded))
    return rx % P == 0 and (ry - rz) % P == 0
