"""Keys: derivation, records, key ids, key files and trust policies."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, x25519

from helpers import load_vectors
from swapproto.errors import ErrorCode, KeyFileError, PolicyError, SignatureError, SwapprotoError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import (
    KeyAlgorithm,
    PublicKey,
    RolePolicy,
    SigningKey,
    TrustPolicy,
    load_public_key,
    load_signing_key,
    parse_public_key_document,
    public_key_document,
    write_key_pair,
    write_public_key,
    write_signing_key,
)

ED = KeyAlgorithm.ED25519
HYBRID = KeyAlgorithm.ED25519_ML_DSA_65
ALGS = (ED, HYBRID)


def _cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = load_vectors("keys", name)["cases"]
    return cases


def _key(n: int, alg: KeyAlgorithm = ED) -> SigningKey:
    return SigningKey.from_seed(bytes([n]) * 32, alg)


# ---------------------------------------------------------------------------------------
# vectors


@pytest.mark.parametrize("case", _cases("key_ids"), ids=lambda c: c["desc"])
def test_key_id_vectors(case: dict[str, Any]) -> None:
    key = SigningKey.from_seed(bytes.fromhex(case["seed"]), case["alg"])
    pub = key.public_key
    assert pub.ed25519.hex() == case["ed25519_public"]
    assert (pub.ml_dsa_65.hex() if pub.ml_dsa_65 else None) == case["ml_dsa_65_public"]
    assert pub.to_bytes().hex() == case["record"]
    assert pub.key_id.hex() == case["key_id"] == key.key_id.hex()
    assert pub.short_id == case["short_id"]
    record = bytes.fromhex(case["record"])
    assert pub.key_id == tagged_hash(Tag.KEY_ID, record)
    assert PublicKey.from_bytes(record) == pub


@pytest.mark.parametrize("case", _cases("public_key_records"), ids=lambda c: c["desc"])
def test_public_key_record_vectors(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["record"])
    if "want_error" in case:
        with pytest.raises(SwapprotoError) as info:
            PublicKey.from_bytes(data)
        assert info.value.code == case["want_error"]
    else:
        key = PublicKey.from_bytes(data)
        assert key.key_id.hex() == case["key_id"]
        assert key.to_bytes() == data


@pytest.mark.parametrize("case", _cases("public_key_files"), ids=lambda c: c["desc"])
def test_public_key_file_vectors(case: dict[str, Any]) -> None:
    if "want_error" in case:
        with pytest.raises(KeyFileError) as info:
            parse_public_key_document(case["document"])
        assert info.value.code == case["want_error"]
    else:
        name, key = parse_public_key_document(case["document"])
        assert name == case["name"]
        assert key.key_id.hex() == case["key_id"]
        assert public_key_document(name, key) == case["document"]


# ---------------------------------------------------------------------------------------
# keys and raw signatures


@pytest.mark.parametrize("alg", ALGS)
def test_sign_and_verify_raw(alg: KeyAlgorithm) -> None:
    key = SigningKey.generate(alg)
    ed, ml = key.sign(b"message")
    assert (ml is None) == (alg is ED)
    key.public_key.verify(b"message", ed, ml)
    with pytest.raises(SignatureError):
        key.public_key.verify(b"messagE", ed, ml)


def test_hybrid_needs_both_components() -> None:
    key = _key(7, HYBRID)
    ed, ml = key.sign(b"m")
    assert ml is not None
    with pytest.raises(SignatureError):
        key.public_key.verify(b"m", ed, None)
    with pytest.raises(SignatureError):
        key.public_key.verify(b"m", ed, ml[:-1] + bytes([ml[-1] ^ 1]))
    with pytest.raises(SignatureError):
        key.public_key.verify(b"m", bytes(64), ml)
    ed_only = PublicKey(ED, key.public_key.ed25519)
    with pytest.raises(SignatureError):
        ed_only.verify(b"m", ed, ml)  # an ed25519 key refuses an ML-DSA part


def test_seed_derivation_is_domain_separated() -> None:
    ed, hy = _key(9, ED), _key(9, HYBRID)
    assert ed.public_key.ed25519 != hy.public_key.ed25519
    assert _key(9, ED).key_id == ed.key_id
    assert SigningKey.generate().key_id != SigningKey.generate().key_id


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_seed_must_be_32_bytes(seed: bytes) -> None:
    with pytest.raises(KeyFileError) as info:
        SigningKey.from_seed(seed)
    assert info.value.code == ErrorCode.KEY_FORMAT


def test_public_key_validation() -> None:
    hy = _key(1, HYBRID).public_key
    with pytest.raises(KeyFileError) as info:
        PublicKey("rsa", bytes(32))  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.KEY_ALGORITHM
    for args in [(ED, bytes(31)), (ED, hy.ed25519, hy.ml_dsa_65), (HYBRID, hy.ed25519)]:
        with pytest.raises(KeyFileError):
            PublicKey(*args)  # type: ignore[arg-type]
    assert PublicKey("ed25519", hy.ed25519).alg is ED  # type: ignore[arg-type]


def test_no_secret_in_repr_or_str() -> None:
    seed = bytes([0x42]) * 32
    key = SigningKey.from_seed(seed, HYBRID)
    secrets = [seed.hex(), key._ed.private_bytes_raw().hex()]
    assert key._ml is not None
    secrets.append(key._ml.private_bytes_raw().hex())
    for text in (repr(key), str(key), repr(key.public_key), f"{key}"):
        assert key.public_key.short_id in text
        for s in secrets:
            assert s[:16] not in text
    with pytest.raises(TypeError):
        pickle.dumps(key)


# ---------------------------------------------------------------------------------------
# key files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("passphrase", [None, "correct horse", b"\xffbytes"])
def test_key_pair_round_trip(
    tmp_path: Path, alg: KeyAlgorithm, passphrase: str | bytes | None
) -> None:
    key = SigningKey.generate(alg)
    key_path, pub_path = write_key_pair(tmp_path, "ua", key, passphrase)
    assert (key_path.name, pub_path.name) == ("ua.key", "ua.pub")
    assert _mode(key_path) == 0o600
    assert _mode(pub_path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ua.key", "ua.pub"]  # no temp files
    loaded = load_signing_key(key_path, passphrase)
    assert loaded.key_id == key.key_id
    ed, ml = loaded.sign(b"x")
    key.public_key.verify(b"x", ed, ml)
    assert load_public_key(pub_path) == key.public_key
    text = key_path.read_bytes()
    assert text.count(b"-----BEGIN") == (1 if alg is ED else 2)
    assert (b"ENCRYPTED" in text) == (passphrase is not None)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o700])
def test_refuses_accessible_key_file(tmp_path: Path, mode: int) -> None:
    path = write_signing_key(tmp_path / "k.key", _key(1))
    os.chmod(path, mode)
    if not mode & 0o077:
        load_signing_key(path)
        return
    with pytest.raises(KeyFileError) as info:
        load_signing_key(path)
    assert info.value.code == ErrorCode.KEY_PERMISSIONS
    assert f"chmod 600 {path}" in str(info.value)


def test_passphrase_errors(tmp_path: Path) -> None:
    enc = write_signing_key(tmp_path / "enc.key", _key(1, HYBRID), "s3cret-pass")
    plain = write_signing_key(tmp_path / "plain.key", _key(1))
    for path, passphrase in [(enc, "Tr0ub4dor&3"), (enc, None), (plain, "xyzzy-extra")]:
        with pytest.raises(KeyFileError) as info:
            load_signing_key(path, passphrase)
        assert info.value.code == ErrorCode.KEY_PASSPHRASE
        assert "s3cret" not in str(info.value)
        assert passphrase is None or passphrase not in str(info.value)
        assert info.value.__cause__ is None or isinstance(info.value.__cause__, SwapprotoError)
    with pytest.raises(KeyFileError) as info:
        _key(1).to_pem(b"")
    assert info.value.code == ErrorCode.KEY_PASSPHRASE


def test_overwrite_refused(tmp_path: Path) -> None:
    first, second = _key(1), _key(2)
    key_path, pub_path = write_key_pair(tmp_path, "ua", first)
    before = key_path.read_bytes(), pub_path.read_bytes()
    with pytest.raises(KeyFileError) as info:
        write_key_pair(tmp_path, "ua", second)
    assert info.value.code == ErrorCode.KEY_EXISTS
    with pytest.raises(KeyFileError) as info:
        write_signing_key(key_path, second)
    assert info.value.code == ErrorCode.KEY_EXISTS
    with pytest.raises(KeyFileError) as info:
        write_public_key(pub_path, "ua", second.public_key)
    assert info.value.code == ErrorCode.KEY_EXISTS
    assert (key_path.read_bytes(), pub_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ua.key", "ua.pub"]
    write_key_pair(tmp_path, "ua", second, overwrite=True)
    assert load_signing_key(key_path).key_id == second.key_id
    assert _mode(key_path) == 0o600


def _write_private(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "x.key"
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def _pem(key: Any) -> bytes:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return data


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", ErrorCode.KEY_FORMAT),
        (b"garbage\n", ErrorCode.KEY_FORMAT),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ErrorCode.KEY_FORMAT),
        (
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            ErrorCode.KEY_FORMAT,
        ),
        (_pem(ec.generate_private_key(ec.SECP256R1())), ErrorCode.KEY_ALGORITHM),
        (_pem(mldsa.MLDSA65PrivateKey.generate()), ErrorCode.KEY_ALGORITHM),
        (_pem(x25519.X25519PrivateKey.generate()), ErrorCode.KEY_ALGORITHM),
        (_key(1).to_pem() + _key(2).to_pem(), ErrorCode.KEY_FORMAT),
        (b"comment\n" + _key(1).to_pem(), ErrorCode.KEY_FORMAT),
        (_key(1).to_pem() + _key(2).to_pem("pw"), ErrorCode.KEY_FORMAT),
        (b"x" * 70000, ErrorCode.KEY_FORMAT),
    ],
    ids=range(11),
)
def test_bad_key_files(tmp_path: Path, content: bytes, code: ErrorCode) -> None:
    path = _write_private(tmp_path, content)
    with pytest.raises(KeyFileError) as info:
        load_signing_key(path)
    assert info.value.code == code


def test_key_file_with_reserved_x25519_block(tmp_path: Path) -> None:
    key = _key(3, HYBRID)
    path = _write_private(tmp_path, key.to_pem() + _pem(x25519.X25519PrivateKey.generate()))
    assert load_signing_key(path).key_id == key.key_id


def test_missing_and_non_regular_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        load_signing_key(tmp_path / "absent.key")
    assert info.value.code == ErrorCode.INPUT_IO
    with pytest.raises(KeyFileError):
        load_public_key(tmp_path)
    real = write_signing_key(tmp_path / "real.key", _key(1))
    (tmp_path / "link.key").symlink_to(real)
    with pytest.raises(KeyFileError):
        load_signing_key(tmp_path / "link.key")


def test_public_key_file_key_id_checked(tmp_path: Path) -> None:
    key, other = _key(1).public_key, _key(2).public_key
    path = write_public_key(tmp_path / "a.pub", "a", key)
    path.write_text(path.read_text().replace(key.key_id.hex(), other.key_id.hex()))
    with pytest.raises(KeyFileError) as info:
        load_public_key(path)
    assert info.value.code == ErrorCode.VERIFY_KEY_ID


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x" * 65, "sp ace"])
def test_bad_key_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(KeyFileError):
        write_key_pair(tmp_path, name, _key(1))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# trust policies


def test_role_policy() -> None:
    keys = [_key(i).public_key for i in range(3)]
    policy = RolePolicy.of(keys, 2)
    assert list(policy.keys) == sorted(k.key_id for k in keys)
    with pytest.raises(TypeError):
        policy.keys[b"x"] = keys[0]  # type: ignore[index]


@pytest.mark.parametrize("threshold", [0, -1, 4, True])
def test_role_policy_threshold_bounds(threshold: int) -> None:
    with pytest.raises(PolicyError):
        RolePolicy.of([_key(i).public_key for i in range(3)], threshold)


def test_role_policy_rejects_bad_keys() -> None:
    a, b = _key(1).public_key, _key(2).public_key
    with pytest.raises(PolicyError):
        RolePolicy({a.key_id: b}, 1)
    with pytest.raises(PolicyError):
        RolePolicy({}, 1)
    with pytest.raises(PolicyError):
        RolePolicy({a.key_id: "not a key"}, 1)  # type: ignore[dict-item]
    hybrid = _key(3, HYBRID).public_key
    relabelled = PublicKey(ED, hybrid.ed25519)
    with pytest.raises(PolicyError):  # one holder must not count twice
        RolePolicy.of([hybrid, relabelled], 1)


def test_trust_policy_roles() -> None:
    role = RolePolicy.of([_key(1).public_key], 1)
    policy = TrustPolicy({"party-a": role})
    assert policy.role("party-a") is role
    with pytest.raises(PolicyError):
        policy.role("mediator")
    with pytest.raises(PolicyError):
        TrustPolicy({"": role})
    with pytest.raises(PolicyError):
        TrustPolicy({"x": "nope"})  # type: ignore[dict-item]


def test_ed25519_malleated_s_is_rejected() -> None:
    key = _key(5)
    ed, _ = key.sign(b"m")
    order = 2**252 + 27742317777372353535851937790883648493
    s_plus_l = (int.from_bytes(ed[32:], "little") + order).to_bytes(32, "little")
    with pytest.raises(SignatureError):
        key.public_key.verify(b"m", ed[:32] + s_plus_l, None)
