"""Ed25519 verification is the strict, cofactorless check of ``spec/keys.md`` §1.1 item 4.

The signatures in ``spec/vectors/keys/ed25519_strict.json`` are made by hand
(``tools/ed25519_forge.py``), so each refused one is valid under a laxer rule.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import ed25519_forge as forge
from helpers import load_vectors
from swapproto.errors import SignatureError
from swapproto.keys import KeyAlgorithm, PublicKey

SEED = bytes(range(32))
MESSAGE = b"swapproto strict verification"
CASES = load_vectors("keys", "ed25519_strict")["cases"]


def test_the_hand_made_signer_agrees_with_rfc_8032() -> None:
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    assert forge.public(SEED) == private.public_key().public_bytes_raw()
    assert forge.sign(SEED, MESSAGE) == private.sign(MESSAGE)


def test_the_forgeries_are_what_they_claim() -> None:
    small = forge.small_order_r(SEED, MESSAGE, 123456789)
    assert small[:32] != forge.encode(forge.mul(123456789, forge.B))
    assert int.from_bytes(forge.s_plus_l(SEED, MESSAGE)[32:], "little") >= forge.L
    assert forge.non_canonical_r(SEED, MESSAGE)[:32] != forge.encode(forge.IDENTITY)


@pytest.mark.parametrize("case", CASES, ids=[c["desc"] for c in CASES])
def test_vector(case: dict[str, str | bool]) -> None:
    key = PublicKey(KeyAlgorithm.ED25519, bytes.fromhex(str(case["public_key"])))
    message, signature = bytes.fromhex(str(case["message"])), bytes.fromhex(str(case["signature"]))
    if case["valid"]:
        key.verify(message, signature, None)
    else:
        with pytest.raises(SignatureError) as info:
            key.verify(message, signature, None)
        assert info.value.code == case["want_error"]


def test_keys_with_a_small_order_component_are_refused() -> None:
    """``keys.md`` §2.1 rule 4: ``[L]A`` must be the identity."""
    from swapproto._edwards25519 import decode_point, in_prime_order_subgroup
    from swapproto.errors import KeyFileError

    good = forge.public(SEED)
    point = decode_point(good)
    assert point is not None
    assert forge.encode(point) == good
    assert in_prime_order_subgroup(good)
    mixed = forge.encode(forge.add(point, forge.ORDER_2))  # A + T, T of order 2
    assert forge.mul(forge.L, forge.add(point, forge.ORDER_2)) == forge.ORDER_2
    assert not in_prime_order_subgroup(mixed)
    with pytest.raises(KeyFileError) as info:
        PublicKey(KeyAlgorithm.ED25519, mixed)
    assert "small-order component" in str(info.value)
    assert not in_prime_order_subgroup((2).to_bytes(32, "little"))  # no point at all
