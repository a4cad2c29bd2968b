"""Vectors for keys (``spec/vectors/keys/``): key derivation, key ids, records, key files."""

from __future__ import annotations

import json
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import ed25519_forge as forge
from swapproto._edwards25519 import decode_point
from swapproto.encoding import encode
from swapproto.errors import ErrorCode, SwapprotoError
from swapproto.keys import (
    DecryptionKey,
    EncryptionPublicKey,
    EncryptionSuite,
    KeyAlgorithm,
    PublicKey,
    SigningKey,
    parse_public_key_bundle,
    parse_public_key_document,
    public_key_document,
)

SEEDS = (bytes(range(32)), bytes([0xA5]) * 32)
P25519 = 2**255 - 19
ONE = (1).to_bytes(32, "little")
OFF_CURVE = (2).to_bytes(32, "little")  # (y^2 - 1) / (d y^2 + 1) is not a square mod p
P_PLUS_2 = (P25519 + 2).to_bytes(32, "little")
ED_ORDER_8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
X_ORDER_8 = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
ED = KeyAlgorithm.ED25519
HYBRID = KeyAlgorithm.ED25519_ML_DSA_65
X25519 = EncryptionSuite.X25519
XWING = EncryptionSuite.MLKEM768_X25519


def _component_seed(
    seed: bytes, alg: KeyAlgorithm | EncryptionSuite, component: str, length: int = 32
) -> bytes:
    info = f"swapproto/v1/key-seed/{alg.value}/{component}".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(seed)


def _key_id_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for seed in SEEDS:
        for alg in (ED, HYBRID):
            key = SigningKey.from_seed(seed, alg)
            pub = key.public_key
            ml_seed = _component_seed(seed, alg, "ml-dsa-65") if alg is HYBRID else None
            cases.append(
                {
                    "desc": f"{alg.value} key from seed {seed[:2].hex()}..",
                    "seed": seed.hex(),
                    "alg": alg.value,
                    "ed25519_seed": _component_seed(seed, alg, "ed25519").hex(),
                    "ml_dsa_65_seed": None if ml_seed is None else ml_seed.hex(),
                    "ed25519_public": pub.ed25519.hex(),
                    "ml_dsa_65_public": None if pub.ml_dsa_65 is None else pub.ml_dsa_65.hex(),
                    "record": pub.to_bytes().hex(),
                    "key_id": pub.key_id.hex(),
                    "short_id": pub.short_id,
                }
            )
    return cases


def _error_of(fn: Callable[[], object]) -> str:
    try:
        fn()
    except SwapprotoError as exc:
        return str(exc.code)
    raise AssertionError("mutation was accepted")


def _record_cases() -> list[dict[str, object]]:
    ed = SigningKey.from_seed(SEEDS[0], ED).public_key
    hy = SigningKey.from_seed(SEEDS[0], HYBRID).public_key
    ed_rec, hy_rec = ed.record(), hy.record()
    ml = hy_rec["ml-dsa-65"]
    fmt, alg_err = ErrorCode.KEY_FORMAT, ErrorCode.KEY_ALGORITHM
    good = encode(ed_rec)
    mutations: list[tuple[str, bytes, ErrorCode]] = [
        ("unknown algorithm", encode({**ed_rec, "alg": "ed448"}), alg_err),
        ("algorithm name in upper case", encode({**ed_rec, "alg": "ED25519"}), alg_err),
        ("algorithm missing", encode({"ed25519": ed.ed25519}), alg_err),
        ("Ed25519 key of 31 bytes", encode({**ed_rec, "ed25519": ed.ed25519[:31]}), fmt),
        ("Ed25519 key as str", encode({**ed_rec, "ed25519": ed.ed25519.hex()}), fmt),
        ("unknown extra field", encode({**ed_rec, "encryption": b"\x00" * 32}), fmt),
        ("ed25519 key with an ML-DSA-65 part", encode({**ed_rec, "ml-dsa-65": ml}), fmt),
        ("hybrid key without ML-DSA-65 part", encode({**hy_rec, "ml-dsa-65": None}), fmt),
        (
            "hybrid key, ML-DSA field absent",
            encode({"alg": HYBRID.value, "ed25519": hy.ed25519}),
            fmt,
        ),
        ("ML-DSA-65 key of 1951 bytes", encode({**hy_rec, "ml-dsa-65": hy.ml_dsa_65[:-1]}), fmt),  # type: ignore[index]
        ("Ed25519 key is the identity (small order)", encode({**ed_rec, "ed25519": ONE}), fmt),
        ("Ed25519 key of order 8", encode({**ed_rec, "ed25519": ED_ORDER_8}), fmt),
        (
            "Ed25519 small-order key with the sign bit set",
            encode({**ed_rec, "ed25519": bytes(31) + b"\x80"}),
            fmt,
        ),
        ("Ed25519 key not canonical (y = p + 2)", encode({**ed_rec, "ed25519": P_PLUS_2}), fmt),
        ("Ed25519 key y = 2: no point has it", encode({**ed_rec, "ed25519": OFF_CURVE}), fmt),
        *(
            (
                f"Ed25519 key A + T, T of order {order} (a small-order component)",
                encode({**ed_rec, "ed25519": _with_torsion(ed.ed25519, order)}),
                fmt,
            )
            for order in (2, 4, 8)
        ),
        ("record is an array", encode([ed_rec["alg"], ed.ed25519]), fmt),
        ("trailing byte", good + b"\x00", ErrorCode.DECODE_TRAILING),
        ("truncated", good[:-1], ErrorCode.DECODE_TRUNCATED),
        (
            "keys unsorted",
            b"\x82\xa7ed25519\xc4\x20" + ed.ed25519 + b"\xa3alg\xa7ed25519",
            ErrorCode.DECODE_UNSORTED_KEYS,
        ),
    ]
    cases: list[dict[str, object]] = [
        {"desc": "valid ed25519 record", "record": good.hex(), "key_id": ed.key_id.hex()},
        {"desc": "valid hybrid record", "record": hy.to_bytes().hex(), "key_id": hy.key_id.hex()},
    ]
    for desc, data, code in mutations:
        got = _error_of(lambda data=data: PublicKey.from_bytes(data))  # type: ignore[misc]
        assert got == code, (desc, got)
        cases.append({"desc": desc, "record": data.hex(), "want_error": str(code)})
    return cases


def _file_cases() -> list[dict[str, object]]:
    ed = SigningKey.from_seed(SEEDS[0], ED).public_key
    hy = SigningKey.from_seed(SEEDS[1], HYBRID).public_key
    cases: list[dict[str, object]] = []
    for name, key in (("party-a", ed), ("commission.1", hy)):
        text = public_key_document(name, key)
        cases.append(
            {
                "desc": f"{key.alg.value} public key file",
                "document": text,
                "name": name,
                "key_id": key.key_id.hex(),
            }
        )
    base = json.loads(public_key_document("party-a", ed))
    other = SigningKey.from_seed(SEEDS[1], ED).public_key

    def doc(**changes: object) -> str:
        return json.dumps({**base, **changes}, indent=2, sort_keys=True) + "\n"

    mutations: list[tuple[str, str, ErrorCode]] = [
        ("stated key id of another key", doc(key_id=other.key_id.hex()), ErrorCode.VERIFY_KEY_ID),
        (
            "signing key replaced, key id kept",
            doc(signing={**base["signing"], "ed25519": other.ed25519.hex()}),
            ErrorCode.VERIFY_KEY_ID,
        ),
        ("key id in upper-case hex", doc(key_id=base["key_id"].upper()), ErrorCode.KEY_FORMAT),
        ("unknown format", doc(format="swapproto-public-key/2"), ErrorCode.KEY_FORMAT),
        ("empty encryption section", doc(encryption={}), ErrorCode.KEY_FORMAT),
        (
            "ML-DSA-65 member null",
            doc(signing={**base["signing"], "ml-dsa-65": None}),
            ErrorCode.KEY_FORMAT,
        ),
        (
            "Ed25519 key of small order",
            doc(signing={**base["signing"], "ed25519": ONE.hex()}),
            ErrorCode.KEY_FORMAT,
        ),
        (
            "unknown algorithm",
            doc(signing={**base["signing"], "alg": "ed448"}),
            ErrorCode.KEY_ALGORITHM,
        ),
        (
            "Ed25519 key y = 2: no point has it",
            doc(signing={**base["signing"], "ed25519": OFF_CURVE.hex()}),
            ErrorCode.KEY_FORMAT,
        ),
        (
            "Ed25519 key A + T, T of order 8 (a small-order component)",
            doc(signing={**base["signing"], "ed25519": _with_torsion(ed.ed25519, 8).hex()}),
            ErrorCode.KEY_FORMAT,
        ),
        ("name with a slash", doc(name="../party-a"), ErrorCode.KEY_FORMAT),
        ("starts with a UTF-8 byte order mark", "\ufeff" + doc(), ErrorCode.KEY_FORMAT),
        (
            "algorithm an escaped lone surrogate (decodes to no Unicode text)",
            doc().replace('"alg": "ed25519"', '"alg": "\\ud800"'),
            ErrorCode.KEY_FORMAT,
        ),
        (
            "two faults: key id of another key and an unknown algorithm (the key comes first)",
            doc(key_id=other.key_id.hex(), signing={**base["signing"], "alg": "ed448"}),
            ErrorCode.KEY_ALGORITHM,
        ),
        ("not JSON", "format = 1\n", ErrorCode.KEY_FORMAT),
        ("duplicate member", '{"name": "a", "name": "b"}', ErrorCode.KEY_FORMAT),
    ]
    for desc, text, code in mutations:
        got = _error_of(lambda text=text: parse_public_key_document(text))  # type: ignore[misc]
        assert got == code, (desc, got)
        cases.append({"desc": desc, "document": text, "want_error": str(code)})
    return cases


def _encryption_key_id_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for seed in SEEDS:
        for suite in (X25519, XWING):
            pub = DecryptionKey.from_seed(seed, suite).public_key
            ml_seed = _component_seed(seed, suite, "mlkem768", 64) if suite is XWING else None
            cases.append(
                {
                    "desc": f"{suite.value} key from seed {seed[:2].hex()}..",
                    "seed": seed.hex(),
                    "suite": suite.value,
                    "x25519_seed": _component_seed(seed, suite, "x25519").hex(),
                    "mlkem768_seed": None if ml_seed is None else ml_seed.hex(),
                    "x25519_public": pub.x25519.hex(),
                    "mlkem768_public": None if pub.mlkem768 is None else pub.mlkem768.hex(),
                    "record": pub.to_bytes().hex(),
                    "key_id": pub.key_id.hex(),
                }
            )
    return cases


def _bundle_cases() -> list[dict[str, object]]:
    ed = SigningKey.from_seed(SEEDS[0], ED).public_key
    x = DecryptionKey.from_seed(SEEDS[0], X25519).public_key
    xw = DecryptionKey.from_seed(SEEDS[1], XWING).public_key
    cases: list[dict[str, object]] = []
    for name, enc in (("party-a", x), ("party-b", xw)):
        cases.append(
            {
                "desc": f"ed25519 signing key with {enc.suite.value} encryption key",
                "document": public_key_document(name, ed, enc),
                "name": name,
                "key_id": ed.key_id.hex(),
                "encryption_key_id": enc.key_id.hex(),
            }
        )
    base = json.loads(public_key_document("party-a", ed, x))
    enc = base["encryption"]
    ml_hex = xw.mlkem768.hex()  # type: ignore[union-attr]

    def doc(**changes: object) -> str:
        return doc_text(base, {**enc, **changes})

    def without(member: str) -> str:
        return doc_text(base, {k: v for k, v in enc.items() if k != member})

    fmt, alg_err = ErrorCode.KEY_FORMAT, ErrorCode.KEY_ALGORITHM
    mutations: list[tuple[str, str, ErrorCode]] = [
        ("unknown suite", doc(suite="p256"), alg_err),
        ("suite missing", without("suite"), fmt),
        ("X25519 key missing", without("x25519"), fmt),
        ("X25519 key of 31 bytes", doc(x25519=enc["x25519"][:62]), fmt),
        ("X25519 key in upper-case hex", doc(x25519=enc["x25519"].upper()), fmt),
        ("X25519 key is a low-order point", doc(x25519="00" * 32), fmt),
        ("X25519 key is a point of order 8", doc(x25519=X_ORDER_8.hex()), fmt),
        ("X25519 key with the high bit set", doc(x25519=_high_bit(x.x25519).hex()), fmt),
        ("X25519 key not canonical (u = p + 2)", doc(x25519=P_PLUS_2.hex()), fmt),
        ("x25519 suite with an ML-KEM-768 key", doc(mlkem768=ml_hex), fmt),
        ("hybrid suite without ML-KEM-768 key", doc(suite=XWING.value), fmt),
        ("hybrid suite, ML-KEM-768 key null", doc(suite=XWING.value, mlkem768=None), fmt),
        ("ML-KEM-768 key of 1183 bytes", doc(suite=XWING.value, mlkem768=ml_hex[:-2]), fmt),
        (
            "ML-KEM-768 key fails the modulus check",
            doc(suite=XWING.value, mlkem768=_coefficient_q(xw.mlkem768).hex()),  # type: ignore[arg-type]
            fmt,
        ),
        ("unknown member", doc(key_id=x.key_id.hex()), fmt),
        ("encryption section is a string", doc_text(base, enc["x25519"]), fmt),
        ("encryption section null", doc_text(base, None), fmt),
        (
            "two faults: key id of another key and an unknown suite (the key id comes first)",
            doc_text(
                {**base, "key_id": SigningKey.from_seed(SEEDS[1], ED).public_key.key_id.hex()},
                {**enc, "suite": "p256"},
            ),
            ErrorCode.VERIFY_KEY_ID,
        ),
    ]
    for desc, text, code in mutations:
        got = _error_of(lambda text=text: parse_public_key_bundle(text))  # type: ignore[misc]
        assert got == code, (desc, got)
        cases.append({"desc": desc, "document": text, "want_error": str(code)})
    return cases


def _with_torsion(ed25519: bytes, order: int) -> bytes:
    """The encoding of ``A + T``, ``T`` of the given small order (2, 4 or 8)."""
    point = decode_point(ed25519)
    eight = decode_point(ED_ORDER_8)
    assert point is not None
    assert eight is not None
    torsion = forge.mul(8 // order, eight)  # [8/order] of a point of order 8
    return forge.encode(forge.add(point, torsion))


def _high_bit(x25519: bytes) -> bytes:
    """The same X25519 key with the (ignored) bit 255 set: a non-canonical encoding."""
    return x25519[:31] + bytes([x25519[31] | 0x80])


def _coefficient_q(mlkem768: bytes) -> bytes:
    """An ML-KEM-768 key whose first coefficient is 3329 = q (FIPS 203 modulus check)."""
    return bytes([0x01, (mlkem768[1] & 0xF0) | 0x0D]) + mlkem768[2:]


def _encryption_record_cases() -> list[dict[str, object]]:
    x = DecryptionKey.from_seed(SEEDS[0], X25519).public_key
    xw = DecryptionKey.from_seed(SEEDS[0], XWING).public_key
    x_rec, xw_rec = x.record(), xw.record()
    ml = xw.mlkem768
    assert ml is not None
    sig = SigningKey.from_seed(SEEDS[0], ED).public_key
    fmt, alg_err = ErrorCode.KEY_FORMAT, ErrorCode.KEY_ALGORITHM
    good = encode(x_rec)
    mutations: list[tuple[str, bytes, ErrorCode]] = [
        ("unknown suite", encode({**x_rec, "suite": "p256"}), alg_err),
        ("suite name in upper case", encode({**x_rec, "suite": "X25519"}), alg_err),
        ("suite missing", encode({"x25519": x.x25519}), alg_err),
        ("a signing key record", sig.to_bytes(), alg_err),
        ("signing alg member added", encode({**x_rec, "alg": "ed25519"}), fmt),
        ("X25519 key of 31 bytes", encode({**x_rec, "x25519": x.x25519[:31]}), fmt),
        ("X25519 key as str", encode({**x_rec, "x25519": x.x25519.hex()}), fmt),
        ("X25519 key is zero (low order)", encode({**x_rec, "x25519": bytes(32)}), fmt),
        ("X25519 key is a point of order 8", encode({**x_rec, "x25519": X_ORDER_8}), fmt),
        ("X25519 key with the high bit set", encode({**x_rec, "x25519": _high_bit(x.x25519)}), fmt),
        ("X25519 key not canonical (u = p + 2)", encode({**x_rec, "x25519": P_PLUS_2}), fmt),
        ("x25519 suite with an ML-KEM-768 part", encode({**x_rec, "mlkem768": ml}), fmt),
        ("x25519 suite, ML-KEM-768 nil", encode({**x_rec, "mlkem768": None}), fmt),
        ("hybrid suite, ML-KEM-768 absent", encode({**x_rec, "suite": XWING.value}), fmt),
        ("hybrid suite, ML-KEM-768 nil", encode({**xw_rec, "mlkem768": None}), fmt),
        ("ML-KEM-768 key of 1183 bytes", encode({**xw_rec, "mlkem768": ml[:-1]}), fmt),
        ("ML-KEM-768 key of 1216 bytes", encode({**xw_rec, "mlkem768": ml + x.x25519}), fmt),
        (
            "ML-KEM-768 key fails the modulus check",
            encode({**xw_rec, "mlkem768": _coefficient_q(ml)}),
            fmt,
        ),
        ("record is an array", encode([x_rec["suite"], x.x25519]), fmt),
        ("trailing byte", good + b"\x00", ErrorCode.DECODE_TRAILING),
        ("truncated", good[:-1], ErrorCode.DECODE_TRUNCATED),
        (
            "keys unsorted",
            b"\x82\xa6x25519\xc4\x20" + x.x25519 + b"\xa5suite\xa6x25519",
            ErrorCode.DECODE_UNSORTED_KEYS,
        ),
    ]
    cases: list[dict[str, object]] = [
        {"desc": "valid x25519 record", "record": good.hex(), "key_id": x.key_id.hex()},
        {"desc": "valid hybrid record", "record": xw.to_bytes().hex(), "key_id": xw.key_id.hex()},
    ]
    for desc, data, code in mutations:
        got = _error_of(lambda data=data: EncryptionPublicKey.from_bytes(data))  # type: ignore[misc]
        assert got == code, (desc, got)
        cases.append({"desc": desc, "record": data.hex(), "want_error": str(code)})
    return cases


def doc_text(base: dict[str, object], encryption: object) -> str:
    """A public key file whose ``encryption`` member is ``encryption``."""
    return json.dumps({**base, "encryption": encryption}, indent=2, sort_keys=True) + "\n"


STRICT_SEED = bytes(range(32))
STRICT_MESSAGE = b"swapproto strict verification"


def _strict_cases() -> list[dict[str, object]]:
    """One valid signature and three that only a laxer verifier accepts."""
    seed, message = STRICT_SEED, STRICT_MESSAGE
    made = (
        ("RFC 8032 signature", forge.sign(seed, message), True),
        (
            "R = [r]B + T, T of order 2 (cofactored check accepts)",
            forge.small_order_r(seed, message, 123456789),
            False,
        ),
        ("S + L in place of S (S >= L)", forge.s_plus_l(seed, message), False),
        (
            "R = identity written y = 1 + p (non-canonical R)",
            forge.non_canonical_r(seed, message),
            False,
        ),
    )
    key = PublicKey(ED, forge.public(seed))
    cases: list[dict[str, object]] = []
    for desc, signature, valid in made:
        try:
            key.verify(message, signature, None)
            got = None
        except SwapprotoError as exc:
            got = str(exc.code)
        if (got is None) != valid:
            raise AssertionError(f"{desc}: the implementation disagrees with the vector")
        case: dict[str, object] = {
            "desc": desc,
            "seed": seed.hex(),
            "public_key": key.ed25519.hex(),
            "message": message.hex(),
            "signature": signature.hex(),
            "valid": valid,
        }
        if not valid:
            case["want_error"] = got
        cases.append(case)
    return cases


def generate() -> dict[str, object]:
    """Key ids from fixed seeds, public key record mutations, public key file mutations."""
    return {
        "ed25519_strict": {
            "desc": (
                "PublicKey(ed25519).verify(message, signature): the cofactorless check of "
                "keys.md 1.1; refused signatures pass a laxer (cofactored or non-strict) check"
            ),
            "cases": _strict_cases(),
        },
        "key_ids": {
            "desc": "SigningKey.from_seed(seed, alg): component seeds, public keys, record, key id",
            "cases": _key_id_cases(),
        },
        "public_key_records": {
            "desc": "PublicKey.from_bytes(record): valid records and rejected mutations",
            "cases": _record_cases(),
        },
        "public_key_files": {
            "desc": "parse_public_key_document(text): NAME.pub files and rejected mutations",
            "cases": _file_cases(),
        },
        "encryption_key_ids": {
            "desc": (
                "DecryptionKey.from_seed(seed, suite): component seeds, public keys, "
                "encryption key record, key id"
            ),
            "cases": _encryption_key_id_cases(),
        },
        "encryption_key_records": {
            "desc": (
                "EncryptionPublicKey.from_bytes(record): valid encryption key records and "
                "rejected mutations"
            ),
            "cases": _encryption_record_cases(),
        },
        "public_key_bundles": {
            "desc": (
                "parse_public_key_bundle(text): NAME.pub files with an encryption key "
                "and rejected mutations of the encryption section"
            ),
            "cases": _bundle_cases(),
        },
    }
