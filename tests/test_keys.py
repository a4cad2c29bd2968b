"""Keys: derivation, records, key ids, key files and trust policies."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, mlkem, x25519

from helpers import load_vectors
from swapproto.encoding import encode
from swapproto.errors import (
    ErrorCode,
    KeyFileError,
    PolicyError,
    SignatureError,
    SwapprotoError,
    VerificationError,
)
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import (
    HPKE_SUITE_IDS,
    DecryptionKey,
    EncryptionPublicKey,
    EncryptionSuite,
    KeyAlgorithm,
    KeyBundle,
    PublicKey,
    PublicKeyBundle,
    RolePolicy,
    SigningKey,
    TrustPolicy,
    load_key_bundle,
    load_public_key,
    load_public_key_bundle,
    load_signing_key,
    parse_public_key_bundle,
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


@pytest.mark.parametrize("mode", [0o644, 0o600])
@pytest.mark.parametrize("load", [load_signing_key, load_key_bundle])
def test_a_public_key_file_given_as_private_key_is_named(
    tmp_path: Path, mode: int, load: Any
) -> None:
    key = _key(1)
    _, pub_path = write_key_pair(
        tmp_path, "tr", key, decryption_key=DecryptionKey.generate(EncryptionSuite.X25519)
    )
    pub_path.chmod(mode)
    with pytest.raises(KeyFileError) as info:
        load(pub_path)
    assert info.value.code == ErrorCode.KEY_FORMAT
    assert str(info.value.args[0]) == (
        f"{pub_path} is a public key file; give the private key (NAME.key)"
    )
    assert "chmod" not in str(info.value)


@pytest.mark.parametrize("passphrase", [None, "pw-for-test"])
@pytest.mark.parametrize("load", [load_public_key, load_public_key_bundle])
def test_a_private_key_file_given_as_public_key_is_named(
    tmp_path: Path, passphrase: str | None, load: Any
) -> None:
    key = _key(1, HYBRID)
    key_path, _ = write_key_pair(
        tmp_path,
        "ua",
        key,
        passphrase,
        decryption_key=DecryptionKey.generate(EncryptionSuite.X25519),
    )
    with pytest.raises(KeyFileError) as info:
        load(key_path)
    assert info.value.code == ErrorCode.KEY_FORMAT
    message = str(info.value.args[0])
    assert message == f"{key_path} is a private key file; give the public key (NAME.pub)"
    assert "JSONDecodeError" not in message
    pem = key_path.read_bytes().decode()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert not any(line[:16] in message for line in body)  # no key material


def test_other_json_given_as_private_key_is_still_a_permissions_error(tmp_path: Path) -> None:
    path = tmp_path / "x.key"
    path.write_text('{"format": "something-else/1"}\n', encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(KeyFileError) as info:
        load_signing_key(path)
    assert info.value.code == ErrorCode.KEY_PERMISSIONS


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


# ---------------------------------------------------------------------------------------
# encryption keys (HPKE)

X25519 = EncryptionSuite.X25519
XWING = EncryptionSuite.MLKEM768_X25519
SUITES = (X25519, XWING)


def _dkey(n: int, suite: EncryptionSuite = X25519) -> DecryptionKey:
    return DecryptionKey.from_seed(bytes([n]) * 32, suite)


@pytest.mark.parametrize("case", _cases("encryption_key_ids"), ids=lambda c: c["desc"])
def test_encryption_key_id_vectors(case: dict[str, Any]) -> None:
    key = DecryptionKey.from_seed(bytes.fromhex(case["seed"]), case["suite"])
    pub = key.public_key
    # the component seeds give the stated public keys through the primitives directly
    x_priv = x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(case["x25519_seed"]))
    assert x_priv.public_key().public_bytes_raw().hex() == case["x25519_public"] == pub.x25519.hex()
    if case["mlkem768_seed"] is None:
        assert pub.mlkem768 is None
        assert case["mlkem768_public"] is None
    else:
        ml_priv = mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes.fromhex(case["mlkem768_seed"]))
        ml_pub = ml_priv.public_key().public_bytes_raw().hex()
        assert ml_pub == case["mlkem768_public"] == (pub.mlkem768 or b"").hex()
    record = bytes.fromhex(case["record"])
    assert pub.to_bytes() == record
    assert pub.key_id.hex() == case["key_id"] == key.key_id.hex()
    assert pub.key_id == tagged_hash(Tag.KEY_ID, record)
    assert EncryptionPublicKey.from_bytes(record) == pub


@pytest.mark.parametrize("case", _cases("encryption_key_records"), ids=lambda c: c["desc"])
def test_encryption_key_record_vectors(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["record"])
    if "want_error" in case:
        with pytest.raises(SwapprotoError) as info:
            EncryptionPublicKey.from_bytes(data)
        assert info.value.code == case["want_error"]
    else:
        key = EncryptionPublicKey.from_bytes(data)
        assert key.key_id.hex() == case["key_id"]
        assert key.to_bytes() == data


@pytest.mark.parametrize("case", _cases("public_key_bundles"), ids=lambda c: c["desc"])
def test_public_key_bundle_vectors(case: dict[str, Any]) -> None:
    if "want_error" in case:
        for parse in (parse_public_key_bundle, parse_public_key_document):
            with pytest.raises(KeyFileError) as info:
                parse(case["document"])
            assert info.value.code == case["want_error"]
        return
    bundle = parse_public_key_bundle(case["document"])
    assert bundle.name == case["name"]
    assert bundle.signing.key_id.hex() == case["key_id"]
    assert bundle.encryption is not None
    assert bundle.encryption.key_id.hex() == case["encryption_key_id"]
    assert public_key_document(bundle.name, bundle.signing, bundle.encryption) == case["document"]
    assert parse_public_key_document(case["document"]) == (bundle.name, bundle.signing)


def test_hpke_suite_ids() -> None:
    assert HPKE_SUITE_IDS[X25519] == (0x0020, 0x0001, 0x0003)
    assert HPKE_SUITE_IDS[XWING] == (0x647A, 0x0001, 0x0003)


@pytest.mark.parametrize("suite", SUITES)
def test_decryption_key_seeds_and_hpke(suite: EncryptionSuite) -> None:
    key = _dkey(4, suite)
    assert _dkey(4, suite).key_id == key.key_id
    assert key.suite is suite
    assert key.public_key.suite is suite
    assert DecryptionKey.generate(suite).key_id != DecryptionKey.generate(suite).key_id
    wrapped = key.public_key.hpke_seal(b"k" * 32, b"info")
    assert key.hpke_open(wrapped, b"info") == b"k" * 32
    for bad_info, bad_ct in [(b"other", wrapped), (b"info", wrapped[:-1]), (b"info", b"")]:
        with pytest.raises(VerificationError) as info:
            key.hpke_open(bad_ct, bad_info)
        assert info.value.code == ErrorCode.SEAL_AUTH
    with pytest.raises(VerificationError):
        _dkey(5, suite).hpke_open(wrapped, b"info")


def test_encryption_seeds_are_domain_separated() -> None:
    plain, hybrid, signing = _dkey(9, X25519), _dkey(9, XWING), _key(9)
    assert plain.public_key.x25519 != hybrid.public_key.x25519
    assert signing.public_key.ed25519 not in (plain.public_key.x25519, hybrid.public_key.x25519)
    for seed in (b"", bytes(31), bytes(33)):
        with pytest.raises(KeyFileError) as info:
            DecryptionKey.from_seed(seed)
        assert info.value.code == ErrorCode.KEY_FORMAT
    with pytest.raises(KeyFileError) as info:
        DecryptionKey.from_seed(bytes(32), "rsa")
    assert info.value.code == ErrorCode.KEY_ALGORITHM


def test_encryption_public_key_validation() -> None:
    hy = _dkey(1, XWING).public_key
    ml = hy.mlkem768
    assert ml is not None
    bad: list[tuple[Any, ...]] = [
        (X25519, bytes(31)),
        (X25519, hy.x25519, ml),  # x25519 suite with an ML-KEM part
        (XWING, hy.x25519),  # hybrid without ML-KEM part
        (XWING, hy.x25519, ml[:-1]),
        (X25519, bytes(32)),  # low-order point
        (X25519, bytes([1]) + bytes(31)),  # low-order point
        (X25519, hy.x25519.hex()),
    ]
    for args in bad:
        with pytest.raises(KeyFileError) as info:
            EncryptionPublicKey(*args)
        assert info.value.code == ErrorCode.KEY_FORMAT
    with pytest.raises(KeyFileError) as info:
        EncryptionPublicKey("ed25519", hy.x25519)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.KEY_ALGORITHM
    assert EncryptionPublicKey("x25519", hy.x25519).suite is X25519  # type: ignore[arg-type]


def test_encryption_and_signing_records_never_mix() -> None:
    enc, sig = _dkey(1).public_key, _key(1).public_key
    with pytest.raises(SwapprotoError):
        PublicKey.from_bytes(enc.to_bytes())
    with pytest.raises(SwapprotoError):
        EncryptionPublicKey.from_bytes(sig.to_bytes())
    # The same 32 bytes as signing and as encryption key get different key ids.
    assert enc.key_id != tagged_hash(Tag.KEY_ID, PublicKey(ED, sig.ed25519).to_bytes())
    rec = enc.record()
    mutations: list[tuple[bytes, ErrorCode]] = [
        (encode({**rec, "alg": "ed25519"}), ErrorCode.KEY_FORMAT),
        (encode({**rec, "suite": "X25519"}), ErrorCode.KEY_ALGORITHM),
        (encode({"x25519": enc.x25519}), ErrorCode.KEY_ALGORITHM),
        (encode({**rec, "mlkem768": None}), ErrorCode.KEY_FORMAT),
        (encode([rec["suite"], enc.x25519]), ErrorCode.KEY_FORMAT),
        (enc.to_bytes() + b"\x00", ErrorCode.DECODE_TRAILING),
    ]
    for data, code in mutations:
        with pytest.raises(SwapprotoError) as info:
            EncryptionPublicKey.from_bytes(data)
        assert info.value.code == code


def test_decryption_key_hides_secrets() -> None:
    seed = bytes([0x42]) * 32
    key = DecryptionKey.from_seed(seed, XWING)
    assert key._ml is not None
    secrets = [seed.hex(), key._x.private_bytes_raw().hex(), key._ml.private_bytes_raw().hex()]
    bundle = KeyBundle(_key(1), key)
    for text in (repr(key), str(key), repr(key.public_key), repr(bundle)):
        assert key.public_key.short_id in text
        for s in secrets:
            assert s[:16] not in text
    for obj in (key, bundle):
        with pytest.raises(TypeError):
            pickle.dumps(obj)


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("passphrase", [None, "correct horse"])
def test_key_pair_with_encryption_round_trip(
    tmp_path: Path, alg: KeyAlgorithm, suite: EncryptionSuite, passphrase: str | None
) -> None:
    signing, decryption = SigningKey.generate(alg), DecryptionKey.generate(suite)
    key_path, pub_path = write_key_pair(
        tmp_path, "ua", signing, passphrase, decryption_key=decryption
    )
    assert _mode(key_path) == 0o600
    text = key_path.read_bytes()
    assert text.count(b"-----BEGIN") == (1 if alg is ED else 2) + (1 if suite is X25519 else 2)
    assert (b"ENCRYPTED" in text) == (passphrase is not None)
    bundle = load_key_bundle(key_path, passphrase)
    assert bundle.signing.key_id == signing.key_id
    assert bundle.decryption is not None
    assert bundle.decryption.key_id == decryption.key_id
    assert load_signing_key(key_path, passphrase).key_id == signing.key_id  # unchanged API
    wrapped = decryption.public_key.hpke_seal(b"secret", b"ctx")
    assert bundle.decryption.hpke_open(wrapped, b"ctx") == b"secret"
    pub = load_public_key_bundle(pub_path)
    assert pub == PublicKeyBundle("ua", signing.public_key, decryption.public_key)
    assert load_public_key(pub_path) == signing.public_key
    # the stated key id is the signing key's, with or without the encryption key
    doc = json.loads(pub_path.read_text())
    assert doc["key_id"] == signing.key_id.hex()
    assert set(doc["encryption"]) == {"suite", "x25519"} | (
        {"mlkem768"} if suite is XWING else set()
    )


def test_key_files_without_encryption_key(tmp_path: Path) -> None:
    key_path, pub_path = write_key_pair(tmp_path, "old", _key(1))
    assert load_key_bundle(key_path).decryption is None
    bundle = load_public_key_bundle(pub_path)
    assert bundle.encryption is None
    assert "encryption" not in json.loads(pub_path.read_text())
    assert public_key_document("old", _key(1).public_key) == pub_path.read_text()


def test_signing_key_id_unchanged_by_encryption_key(tmp_path: Path) -> None:
    key = _key(2)
    plain = public_key_document("a", key.public_key)
    with_enc = public_key_document("a", key.public_key, _dkey(2, XWING).public_key)
    assert json.loads(plain)["key_id"] == json.loads(with_enc)["key_id"] == key.key_id.hex()
    assert parse_public_key_document(plain) == parse_public_key_document(with_enc)


def test_encryption_key_swapped_in_public_file_changes_nothing_signed(tmp_path: Path) -> None:
    # The encryption section is not covered by the key id: a swapped encryption key
    # parses (it must be authenticated by pinning, spec/keys.md §5) but keeps its own id.
    pub = write_public_key(
        tmp_path / "a.pub", "a", _key(1).public_key, encryption=_dkey(1).public_key
    )
    doc = json.loads(pub.read_text())
    doc["encryption"]["x25519"] = _dkey(2).public_key.x25519.hex()
    bundle = parse_public_key_bundle(json.dumps(doc))
    assert bundle.encryption == _dkey(2).public_key
    assert bundle.encryption.key_id != _dkey(1).key_id


@pytest.mark.parametrize(
    ("blocks", "code"),
    [
        (lambda: _key(1).to_pem() + _mlkem_pem(), ErrorCode.KEY_FORMAT),
        (lambda: _key(1).to_pem() + _dkey(1).to_pem() + _dkey(2).to_pem(), ErrorCode.KEY_FORMAT),
        (lambda: _key(1).to_pem() + _dkey(1, XWING).to_pem() + _mlkem_pem(), ErrorCode.KEY_FORMAT),
        (lambda: _dkey(1, XWING).to_pem(), ErrorCode.KEY_ALGORITHM),
        (lambda: _key(1).to_pem() + _dkey(1).to_pem("pw"), ErrorCode.KEY_FORMAT),
    ],
    ids=["ml-kem without x25519", "two x25519", "two ml-kem", "no ed25519", "mixed encryption"],
)
def test_bad_key_files_with_encryption_blocks(tmp_path: Path, blocks: Any, code: ErrorCode) -> None:
    path = _write_private(tmp_path, blocks())
    for load in (load_signing_key, load_key_bundle):
        with pytest.raises(KeyFileError) as info:
            load(path)
        assert info.value.code == code


def _mlkem_pem() -> bytes:
    return _pem(mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes(64)))


def test_reserved_x25519_block_is_now_the_decryption_key(tmp_path: Path) -> None:
    raw = x25519.X25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    path = _write_private(tmp_path, _key(3, HYBRID).to_pem() + _pem(raw))
    bundle = load_key_bundle(path)
    assert bundle.decryption is not None
    assert bundle.decryption.suite is X25519
    assert bundle.decryption.public_key.x25519 == raw.public_key().public_bytes_raw()


def test_key_bundle_passphrase_errors(tmp_path: Path) -> None:
    path = write_signing_key(
        tmp_path / "k.key", _key(1), "s3cret-pass", decryption_key=_dkey(1, XWING)
    )
    for passphrase in ("wrong-pass", None):
        with pytest.raises(KeyFileError) as info:
            load_key_bundle(path, passphrase)
        assert info.value.code == ErrorCode.KEY_PASSPHRASE
        assert "s3cret" not in str(info.value)
    bundle = KeyBundle.from_pem(path.read_bytes(), b"s3cret-pass")
    assert bundle.decryption is not None
    assert bundle.decryption.key_id == _dkey(1, XWING).key_id


# ---------------------------------------------------------------------------------------
# weak and non-canonical public keys

P25519 = 2**255 - 19
# The eight edwards25519 points of small order (curve25519-dalek EIGHT_TORSION).
ED_TORSION = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
# The u coordinates of small order on curve25519 (RFC 7748 section 6.1 "all-zero output").
X_LOW_ORDER_U = [
    0,
    1,
    325606250916557431795983626356110631294008115727848805560023387167927233504,
    39382357235489614581723060781553021112529911719440698176882885853963445705823,
    P25519 - 1,
    P25519,
    P25519 + 1,
]


def _flip_sign(raw: bytes) -> bytes:
    return raw[:31] + bytes([raw[31] ^ 0x80])


@pytest.mark.parametrize("point", ED_TORSION)
@pytest.mark.parametrize("alg", ALGS)
def test_small_order_ed25519_key_is_refused(point: str, alg: KeyAlgorithm) -> None:
    # Such a key verifies signatures nobody made (the identity accepts R = B, S = 1 for
    # every message), so whoever pinned it could later disown everything "it" signed.
    hy = _key(1, HYBRID).public_key
    ml = None if alg is ED else hy.ml_dsa_65
    for raw in (bytes.fromhex(point), _flip_sign(bytes.fromhex(point))):
        with pytest.raises(KeyFileError) as info:
            PublicKey(alg, raw, ml)
        assert info.value.code == ErrorCode.KEY_FORMAT
        record = encode({"alg": alg.value, "ed25519": raw} | ({"ml-dsa-65": ml} if ml else {}))
        with pytest.raises(KeyFileError):
            PublicKey.from_bytes(record)


def test_non_canonical_ed25519_key_is_refused() -> None:
    for y in range(P25519, 2**255):  # y >= p: a second encoding of y - p
        for raw in (y.to_bytes(32, "little"), _flip_sign(y.to_bytes(32, "little"))):
            with pytest.raises(KeyFileError) as info:
                PublicKey(ED, raw)
            assert info.value.code == ErrorCode.KEY_FORMAT
    good = _key(1).public_key.ed25519
    assert PublicKey(ED, good).ed25519 == good  # honest keys are untouched


@pytest.mark.parametrize("suite", SUITES)
def test_low_order_x25519_key_is_refused(suite: EncryptionSuite) -> None:
    ml = _dkey(1, XWING).public_key.mlkem768 if suite is XWING else None
    for u in X_LOW_ORDER_U:
        for raw in (u.to_bytes(32, "little"), (u + 2**255).to_bytes(32, "little")):
            with pytest.raises(KeyFileError) as info:
                EncryptionPublicKey(suite, raw, ml)
            assert info.value.code == ErrorCode.KEY_FORMAT


@pytest.mark.parametrize("suite", SUITES)
def test_non_canonical_x25519_key_is_refused(suite: EncryptionSuite) -> None:
    # X25519 ignores bit 255 and reduces u mod p, so these name a key that has another,
    # canonical record: accepting them would give one key two key ids.
    pub = _dkey(3, suite).public_key
    variants = [_flip_sign(pub.x25519)]
    variants += [u.to_bytes(32, "little") for u in range(P25519 + 2, 2**255)]
    for raw in variants:
        with pytest.raises(KeyFileError) as info:
            EncryptionPublicKey(suite, raw, pub.mlkem768)
        assert info.value.code == ErrorCode.KEY_FORMAT
    assert EncryptionPublicKey(suite, pub.x25519, pub.mlkem768) == pub


def test_mlkem768_key_must_pass_the_modulus_check() -> None:
    pub = _dkey(1, XWING).public_key
    ml = pub.mlkem768
    assert ml is not None
    q_first = bytes([0x01, (ml[1] & 0xF0) | 0x0D]) + ml[2:]  # first coefficient = q = 3329
    with pytest.raises(KeyFileError) as info:
        EncryptionPublicKey(XWING, pub.x25519, q_first)
    assert info.value.code == ErrorCode.KEY_FORMAT


@pytest.mark.parametrize(
    "extra",
    [
        {"key_id": "00" * 32},
        {"alg": "ed25519"},
        {"ed25519": "00" * 32},
        {"mlkem768": None},
        {"comment": "hello"},
    ],
    ids=["key_id", "alg", "ed25519", "null mlkem768", "comment"],
)
def test_encryption_member_takes_no_extra_fields(extra: dict[str, object]) -> None:
    text = public_key_document("a", _key(1).public_key, _dkey(1).public_key)
    doc = json.loads(text)
    doc["encryption"].update(extra)
    for parse in (parse_public_key_bundle, parse_public_key_document):
        with pytest.raises(KeyFileError) as info:
            parse(json.dumps(doc))
        assert info.value.code == ErrorCode.KEY_FORMAT


def test_signing_member_takes_no_null() -> None:
    doc = json.loads(public_key_document("a", _key(1).public_key))
    doc["signing"]["ml-dsa-65"] = None
    with pytest.raises(KeyFileError) as info:
        parse_public_key_bundle(json.dumps(doc))
    assert info.value.code == ErrorCode.KEY_FORMAT


def test_signing_and_encryption_records_differ_in_their_first_member() -> None:
    # The first map key of a signing record is "alg"; of an encryption record "mlkem768"
    # or "suite": the SP-CMP bytes differ from byte 1 on, so the key ids cannot collide.
    for sig in (_key(1).public_key, _key(1, HYBRID).public_key):
        assert sig.to_bytes()[1:5] == bytes.fromhex("a3616c67")
    assert _dkey(1).public_key.to_bytes()[1:7] == b"\xa5suite"
    assert _dkey(1, XWING).public_key.to_bytes()[1:10] == b"\xa8mlkem768"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_a_public_key_file_in_another_encoding_is_refused(tmp_path: Path, encoding: str) -> None:
    """``json.loads`` would guess the encoding of bytes; the format is UTF-8 only."""
    text = public_key_document("ua", SigningKey.from_seed(bytes(32)).public_key)
    assert parse_public_key_bundle(text.encode("utf-8")).name == "ua"
    with pytest.raises(KeyFileError) as info:
        parse_public_key_bundle(text.encode(encoding))
    assert info.value.code == ErrorCode.KEY_FORMAT
    path = tmp_path / "ua.pub"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(KeyFileError):
        load_public_key(path)
