"""Signed envelopes: wire form, pre-authentication encoding, threshold verification."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import load_vectors
from swapproto.encoding import DecodeLimits, encode
from swapproto.envelope import (
    PAE_LABEL,
    Signature,
    SignedEnvelope,
    evaluate_envelope,
    pre_authentication_encoding,
    sign_envelope,
    verify_envelope,
)
from swapproto.errors import (
    DecodeError,
    EncodeError,
    ErrorCode,
    ThresholdError,
    VerificationError,
)
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import KeyAlgorithm, PublicKey, RolePolicy, SigningKey

T = "test/statement"
VALUE = {"n": 1, "text": "hello"}
ED = KeyAlgorithm.ED25519
HYBRID = KeyAlgorithm.ED25519_ML_DSA_65


def _key(n: int, alg: KeyAlgorithm = ED) -> SigningKey:
    return SigningKey.from_seed(bytes([n]) * 32, alg)


def _policy(keys: list[SigningKey], threshold: int) -> RolePolicy:
    return RolePolicy.of([k.public_key for k in keys], threshold)


A, B, C, M = _key(1), _key(2), _key(3), _key(0x66)
H = _key(4, HYBRID)

# ---------------------------------------------------------------------------------------
# vectors


def _file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_vectors("envelope", name)
    return data


def _vector_policy(file: dict[str, Any], spec: dict[str, Any]) -> RolePolicy:
    keys = []
    for name in spec["keys"]:
        entry = file["keys"][name]
        key = PublicKey.from_bytes(bytes.fromhex(entry["record"]))
        assert key.key_id.hex() == entry["key_id"]
        keys.append(key)
    return RolePolicy.of(keys, spec["threshold"])


def _check_positive(file: dict[str, Any], case: dict[str, Any]) -> SignedEnvelope:
    data = bytes.fromhex(case["envelope"])
    env = SignedEnvelope.from_bytes(data)
    assert env.to_bytes() == data
    payload = bytes.fromhex(case["payload"])
    paes = [
        pre_authentication_encoding(case["payload_type"], payload, k) for k in env.signer_key_ids
    ]
    assert [p.hex() for p in paes] == case["pae"]
    got = verify_envelope(
        data, _vector_policy(file, case["policy"]), payload_type=case["payload_type"]
    )
    assert got.payload == payload
    assert encode(got.value) == payload
    assert got.envelope_id.hex() == case["envelope_id"]
    assert [k.hex() for k in got.signer_key_ids] == case["valid_key_ids"]
    return env


@pytest.mark.parametrize("case", _file("ed25519")["cases"], ids=lambda c: c["desc"])
def test_ed25519_vectors_are_reproduced(case: dict[str, Any]) -> None:
    file = _file("ed25519")
    _check_positive(file, case)
    keys = [SigningKey.from_seed(bytes.fromhex(file["keys"][n]["seed"])) for n in case["signers"]]
    resigned = sign_envelope(case["payload_type"], VALUE, keys)
    assert resigned.to_bytes().hex() == case["envelope"]


@pytest.mark.parametrize("case", _file("hybrid")["cases"], ids=lambda c: c["desc"])
def test_hybrid_vectors_verify(case: dict[str, Any]) -> None:
    _check_positive(_file("hybrid"), case)


@pytest.mark.parametrize("case", _file("mutations")["cases"], ids=lambda c: c["desc"])
def test_mutation_vectors_fail(case: dict[str, Any]) -> None:
    file = _file("mutations")
    policy = _vector_policy(file, case["policy"])
    with pytest.raises((DecodeError, VerificationError)) as info:
        verify_envelope(bytes.fromhex(case["envelope"]), policy, payload_type=case["payload_type"])
    assert info.value.code == case["want_error"]


# ---------------------------------------------------------------------------------------
# signing and verification


def test_round_trip() -> None:
    env = sign_envelope(T, VALUE, [A])
    data = env.to_bytes()
    parsed = SignedEnvelope.from_bytes(data)
    assert parsed == env
    assert parsed.to_bytes() == data
    assert parsed.envelope_id == tagged_hash(Tag.ENVELOPE_ID, data)
    got = verify_envelope(parsed, _policy([A], 1), payload_type=T)
    assert got.value == VALUE
    assert got.signer_key_ids == (A.key_id,)
    assert got.payload_type == T


def test_pae_layout() -> None:
    pae = pre_authentication_encoding(T, b"\x01", A.key_id)
    assert pae == encode([PAE_LABEL, T, b"\x01", A.key_id])
    assert PAE_LABEL == "swapproto/v1/envelope"


def test_no_trusted_accessor_on_unverified_envelope() -> None:
    env = sign_envelope(T, VALUE, [A])
    public = {n for n in dir(env) if not n.startswith("_")}
    assert not any(n in public for n in ("value", "decoded", "payload_value", "verified"))
    assert env.unverified_value() == VALUE
    assert "hello" not in repr(env)


def test_never_verifies_under_another_type_payload_or_key() -> None:
    env = sign_envelope(T, VALUE, [A])
    sig = env.signatures[0]
    with pytest.raises(VerificationError) as info:
        verify_envelope(env, _policy([A], 1), payload_type="test/other")
    assert info.value.code == ErrorCode.VERIFY_PAYLOAD_TYPE
    moved = SignedEnvelope("test/other", env.payload, (sig,))
    with pytest.raises(ThresholdError):
        verify_envelope(moved, _policy([A], 1), payload_type="test/other")
    changed = SignedEnvelope(T, encode({"n": 2, "text": "hello"}), (sig,))
    with pytest.raises(ThresholdError):
        verify_envelope(changed, _policy([A], 1), payload_type=T)
    with pytest.raises(ThresholdError):
        verify_envelope(env, _policy([B], 1), payload_type=T)


@pytest.mark.parametrize(
    ("signers", "threshold", "ok"),
    [([A], 1, True), ([A], 2, False), ([A, B], 2, True), ([A, B], 3, False), ([A, B, C], 3, True)],
)
def test_threshold_edges(signers: list[SigningKey], threshold: int, ok: bool) -> None:
    env = sign_envelope(T, VALUE, signers)
    policy = _policy([A, B, C], threshold)
    result = evaluate_envelope(env, policy, payload_type=T)
    assert result.ok is ok
    assert len(result.valid) == len(signers)
    if ok:
        verify_envelope(env, policy, payload_type=T)
        return
    with pytest.raises(ThresholdError) as info:
        verify_envelope(env, policy, payload_type=T)
    assert (info.value.valid, info.value.threshold) == (len(signers), threshold)
    assert info.value.code == ErrorCode.VERIFY_THRESHOLD


def test_unknown_keys_count_nothing() -> None:
    env = sign_envelope(T, VALUE, [A, M])
    result = evaluate_envelope(env, _policy([A, B], 2), payload_type=T)
    assert result.valid == (A.key_id,)
    assert result.unknown == (M.key_id,)
    assert not result.ok
    with pytest.raises(ThresholdError) as info:
        verify_envelope(env, _policy([A, B], 2), payload_type=T)
    assert info.value.details["unknown"] == [M.key_id.hex()]


def test_duplicates_count_once() -> None:
    env = sign_envelope(T, VALUE, [A, A])
    assert env.signer_key_ids == (A.key_id,)
    assert env.add_signature(A) is env
    with pytest.raises(DecodeError) as info:
        SignedEnvelope(T, env.payload, (env.signatures[0], env.signatures[0]))
    assert info.value.code == ErrorCode.DECODE_SCHEMA


def test_co_signing_matches_joint_signing() -> None:
    joint = sign_envelope(T, VALUE, [C, A, B])
    stepwise = sign_envelope(T, VALUE, [B]).add_signature(C).add_signature(A)
    assert stepwise.to_bytes() == joint.to_bytes()
    assert list(joint.signer_key_ids) == sorted(k.key_id for k in (A, B, C))


def test_hybrid_component_attacks() -> None:
    env = sign_envelope(T, VALUE, [H])
    sig = env.signatures[0]
    assert sig.ml_dsa_65 is not None
    policy = _policy([H], 1)
    verify_envelope(env, policy, payload_type=T)
    stripped = Signature(sig.key_id, sig.ed25519, None)
    bad_ml = Signature(sig.key_id, sig.ed25519, bytes([sig.ml_dsa_65[0] ^ 1]) + sig.ml_dsa_65[1:])
    bad_ed = Signature(sig.key_id, bytes([sig.ed25519[0] ^ 1]) + sig.ed25519[1:], sig.ml_dsa_65)
    for forged in (stripped, bad_ml, bad_ed):
        with pytest.raises(ThresholdError):
            verify_envelope(SignedEnvelope(T, env.payload, (forged,)), policy, payload_type=T)
    relabelled_key = PublicKey(ED, H.public_key.ed25519)
    relabelled = Signature(relabelled_key.key_id, sig.ed25519, None)
    with pytest.raises(ThresholdError):
        verify_envelope(
            SignedEnvelope(T, env.payload, (relabelled,)),
            RolePolicy.of([relabelled_key], 1),
            payload_type=T,
        )


def test_construction_and_parse_errors() -> None:
    env = sign_envelope(T, VALUE, [A])
    with pytest.raises(DecodeError):
        SignedEnvelope(T, env.payload, ())
    with pytest.raises(DecodeError):
        SignedEnvelope("Bad Type", env.payload, env.signatures)
    with pytest.raises(DecodeError):
        SignedEnvelope(T, b"\xcc\x01", env.signatures)  # non-canonical payload
    with pytest.raises(DecodeError):
        Signature(b"\x00" * 31, bytes(64))
    with pytest.raises(EncodeError):
        sign_envelope(T, {"f": 1.5}, [A])
    with pytest.raises(DecodeError) as info:
        SignedEnvelope.from_bytes(env.to_bytes(), limits=DecodeLimits(max_input=10))
    assert info.value.code == ErrorCode.DECODE_LIMIT
    with pytest.raises(DecodeError) as info:
        SignedEnvelope.from_bytes(encode([1, 2]))
    assert info.value.code == ErrorCode.DECODE_SCHEMA
    with pytest.raises(DecodeError):
        SignedEnvelope.from_bytes(
            encode({"payload": b"\x01", "signatures": [], "type": T, "v": True})
        )


# ---------------------------------------------------------------------------------------
# every single-byte mutation fails


def _assert_rejected(data: bytes, policy: RolePolicy) -> None:
    with pytest.raises((DecodeError, VerificationError)):
        verify_envelope(data, policy, payload_type=T)


@pytest.mark.slow
def test_every_single_byte_mutation_fails() -> None:
    env = sign_envelope(T, 1, [A]).to_bytes()
    policy = _policy([A], 1)
    for i in range(len(env)):
        for value in range(256):
            if value != env[i]:
                _assert_rejected(env[:i] + bytes([value]) + env[i + 1 :], policy)
    for cut in range(len(env)):
        _assert_rejected(env[:cut], policy)
        _assert_rejected(env[:cut] + env[cut + 1 :], policy)


HYBRID_ENV = sign_envelope(T, VALUE, [A, H]).to_bytes()


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, len(HYBRID_ENV) - 1), delta=st.integers(1, 255))
def test_hybrid_byte_mutations_fail(index: int, delta: int) -> None:
    mutated = bytearray(HYBRID_ENV)
    mutated[index] = (mutated[index] + delta) % 256
    _assert_rejected(bytes(mutated), _policy([A, H], 2))
