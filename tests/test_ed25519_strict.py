"""Ed25519 verification is the strict, cofactorless check of ``spec/keys.md`` §1.1 item 4.

The signatures below are made by hand with a small edwards25519 implementation, so each
one is valid under a laxer rule and must still be refused.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from swapproto.errors import SignatureError
from swapproto.keys import KeyAlgorithm, PublicKey

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
Point = tuple[int, int]
IDENTITY: Point = (0, 1)
ORDER_2: Point = (0, P - 1)


def _add(a: Point, b: Point) -> Point:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P  # a = -1
    return x3, y3


def _mul(k: int, point: Point) -> Point:
    out = IDENTITY
    while k:
        if k & 1:
            out = _add(out, point)
        point = _add(point, point)
        k >>= 1
    return out


def _base() -> Point:
    y = 4 * pow(5, -1, P) % P
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    return (x if x % 2 == 0 else P - x), y


B = _base()


def _encode(point: Point) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _h(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


SEED = bytes(range(32))
MESSAGE = b"swapproto strict verification"


def _secret() -> tuple[int, bytes]:
    digest = hashlib.sha512(SEED).digest()
    a = int.from_bytes(digest[:32], "little")
    a = (a & ~7 & ((1 << 254) - 1)) | (1 << 254)
    return a, digest[32:]


def _public() -> PublicKey:
    raw = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    return PublicKey(KeyAlgorithm.ED25519, raw)


def _sign(r_point: Point, r: int) -> bytes:
    """``(R, S)`` with ``R`` given and ``S = r + k a`` for ``k = H(R || A || M)``."""
    a, _ = _secret()
    big_a = _encode(_mul(a, B))
    r_bytes = _encode(r_point)
    k = _h(r_bytes, big_a, MESSAGE) % L
    return r_bytes + ((r + k * a) % L).to_bytes(32, "little")


def test_the_hand_made_signer_agrees_with_rfc_8032() -> None:
    a, prefix = _secret()
    assert _encode(_mul(a, B)) == _public().ed25519
    r = _h(prefix, MESSAGE) % L
    expected = Ed25519PrivateKey.from_private_bytes(SEED).sign(MESSAGE)
    assert _sign(_mul(r, B), r) == expected
    _public().verify(MESSAGE, expected, None)


def test_small_order_component_in_r_is_refused() -> None:
    # [8]R' = [8][r]B, so the cofactored equation accepts this; the cofactorless one not
    r = 123456789
    forged = _sign(_add(_mul(r, B), ORDER_2), r)
    with pytest.raises(SignatureError):
        _public().verify(MESSAGE, forged, None)


def test_non_canonical_s_is_refused() -> None:
    r = 987654321
    good = _sign(_mul(r, B), r)
    _public().verify(MESSAGE, good, None)
    s = int.from_bytes(good[32:], "little")
    assert s + L < 2**256
    malleated = good[:32] + (s + L).to_bytes(32, "little")
    with pytest.raises(SignatureError):
        _public().verify(MESSAGE, malleated, None)


def test_non_canonical_r_encoding_is_refused() -> None:
    # R = the identity (y = 1) written as y = 1 + p, which is < 2^255: same point
    r_bytes = (1 + P).to_bytes(32, "little")
    a, _ = _secret()
    big_a = _encode(_mul(a, B))
    k = _h(r_bytes, big_a, MESSAGE) % L
    forged = r_bytes + (k * a % L).to_bytes(32, "little")  # [S]B - [k]A = identity
    canonical = _encode(IDENTITY) + forged[32:]
    assert canonical != forged
    with pytest.raises(SignatureError):
        _public().verify(MESSAGE, forged, None)
