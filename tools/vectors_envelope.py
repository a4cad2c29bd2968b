"""Vectors for signed envelopes (``spec/vectors/envelope/``).

Ed25519 signing is deterministic, so ``ed25519.json`` holds exact envelope bytes that a
re-signing test must reproduce. ML-DSA-65 signing is randomized: the hybrid vectors use
the fixed signature below (made once with ``--new-ml-dsa-signature``) and are verify-only.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from swapproto.encoding import encode
from swapproto.envelope import (
    SignedEnvelope,
    pre_authentication_encoding,
    sign_envelope,
    verify_envelope,
)
from swapproto.errors import SwapprotoError
from swapproto.keys import KeyAlgorithm, PublicKey, RolePolicy, SigningKey

PAYLOAD_TYPE = "test/statement"
PAYLOAD_VALUE = {"n": 1, "text": "hello"}
PAYLOAD = encode(PAYLOAD_VALUE)
SEEDS = {
    "alice": (bytes([1]) * 32, KeyAlgorithm.ED25519),
    "bob": (bytes([2]) * 32, KeyAlgorithm.ED25519),
    "carol": (bytes([3]) * 32, KeyAlgorithm.ED25519),
    "henry": (bytes([4]) * 32, KeyAlgorithm.ED25519_ML_DSA_65),
    "mallory": (bytes([0x66]) * 32, KeyAlgorithm.ED25519),
}

# henry's ML-DSA-65 signature over pre_authentication_encoding(PAYLOAD_TYPE, PAYLOAD, henry)
HENRY_ML_DSA_65 = bytes.fromhex(
    "a4e8fabc23d3093f2b3325d51c2aff1fe02cb62ae9fb1fcad0c451b49afc58b218801b3a16bab93e2c8c109c"
    "af3410b5f03acb633fb3abc75f58525381284e6bdc46666fcf691cbbae7a121ab10018f10b3d7ae862a4b053"
    "b0dbad5a94ff5abc74757bc5bc4b11411774fb9f959ccea8e3c040ff7e40eff6afb2c68ae088acf9c96113b6"
    "c0a3399127043cab0d82e90047a3f7538d17ed4489d2bd81ec42151217b3a6b5b865dc7d470885a3f8707859"
    "27f06b0583020bba477d619d7803d335f89976f4b0214931f13764715bcffafb728fb89ef9113dcd3b114889"
    "5fcae491692f43e73c4b3ed146899718ea5b4f441d2d80f4d674a3b6cebcde3d1955812fbecf369100ceb7b2"
    "21fad644706313ab311e1dbf73c1bc941aba2e7c200bfb17c9c7db7e95077f24bee2433b4d21f3af739522b7"
    "78ed7df21d1158b95c3984b90d6e09874074804658c2d45dd23c52e2b26900a12686226bdfff2fe73821ff69"
    "879a0825bed4d05987057a5f4b17d8ade1574f9fdb60b4007978e41edf4c0eb6fe4718566cb3d277c826f9f0"
    "2fd5d14b37314f716ed7edfe04677969dc174b192c5adeae471a8ee85ed4906b7fcdfc59fcd731fe1637a6df"
    "9fcc9b3dd983a5171b76fc95ce14baa481ffcfc87384cbdad0a4a672f61ea79fc52476cb1c312c672a8d5005"
    "76d0b22aa0b0aaf96c3b23783597d5677702288b7994254e748b4a23e6e2e461b96882edddd5166d1f38854e"
    "1ce61e2871fcbff114c18026442a5757c18f475d4cb48cbbce3922f24049dd732245611fe6c02b17c36d5d9d"
    "123faf139511c70379d869e412d172bbf9daa8282af9e83239529eb9044115ad445c7cb0766506cbd083d7ec"
    "0910ce1ae44ec8e2667a704022c95723d2968895bfd51e0dc6ecfabecfd173b3c80672b164e7772c7fa56f65"
    "a4f2175114adcfbb024c8460cb7b0bb30409c0cb8a981a1941e3764b80fbb413523f135eda31b45ef569b51d"
    "30a46405efa8035d275a255c50a43b46f52eef6cdd8a9d0001ed36872f51b5e5fe581d67f4f9a03809fb4300"
    "dea67256318409c1acc6a0b0e99115422ae3f19cccbbc0fa8cff8d46f9b752d8146992ebe322238e1914e7ca"
    "a3f2afc8b58560c850db5dae415c75e7c7cecc92e3f4e6a55c297c8212f2ebf2e433a2cd38a4d44eae5305d4"
    "89690e9574b738b56c7a4f2e5a91fffa0598fa4a8e08afe85cfe85f8a4d62da723d213b8f397a39ab3ec8e5a"
    "569198b161a2271124fb398efe34ecc8106936e5ef2ea7fc2fc8e7cb077f1038f72980589396db38c4f45178"
    "8a605785f3d7637cb121db160af31293ce2df8ebfcf09a34b91c80dc73a4fccdc8bd5359ba3eab2df51c9251"
    "a8065b66547f84a50e565bd8dcd382a550b9f0dca57abbc9c63216c9d4f72bd5fc973a13cdba7040ddd27c00"
    "4c1a935def7b830876049de266afd010f44d593252133a4619a233997941164a880ca4d3a56c1b6eb9edb043"
    "dab2cfce91c35554fa4e61539d0845557bc9bcc38c40f2521f31550d63676e7c043b189e7235ccd199206235"
    "64f34f645972800e0671aeb6f4972cafb7f4b384f0f022c55efef2724d5181951b514669c9731359f49c4023"
    "647f5f00616793208b04ae049f78c69f63e0a50c5399746ddace5a84123ebff26f982c5eb73bc5642a1356cd"
    "b9657ca0d1ccba9d86361607258003e55eb54f15d18e49d98bc1afbe7d8ce2b0d53fb78df8f62f58e7d181d0"
    "fb5c486725b8b0f704c6ae2eb094ffd1a3fa4c78443f8de0bf3ea52bc41e6c537ae84f1e2ff4953582b2ed8b"
    "715f6d840e5db7e41bf3f84093f1dea60b8b8abe3d360108b3c714148940067a5e58bf1b4ed7d2aade628cc9"
    "4ea595d5494c4c06b176a112605f2c2d36b812067316e95bbb3947f46f6c87d3016e2ba525e2a808ebea68eb"
    "4a79f42b99b41482ecf489af10a3666af6f8996afa134383670d35c67ed5a27c58caa7b204fcf53fcc4e860e"
    "427d2f40a12b395d68b00ff33aabc2ebdb9ff4ae2b4fdd4fe24ddd03b16120135314b885710e92b2dae88f5a"
    "0a705fd365ae1693a2c21b35b2b4174c33de97674db7c88b3e261787817590cef4f8353199654fefe7de2209"
    "b2fbe9b682b9beb946aed89dc015f5d8541dd3b9d4f7afda0a3a9dbff93a5ba58864766f3a391265aed59af2"
    "1ada8ca81937cf0e2339872b6239c8e638e78ab88f92f7d841004c4bb51daabce54a82f31680271796d0f2e3"
    "63ca7af0ba08050d49d975bf62402cca970cbf16b0b0850ea62165bbfb239e64fc36d156562c9f3be5e8706a"
    "f923ed61628e7b303c9ffcc61425ccc46133973dd0849176420ab73c1cffcccde3111fdd93f40023d9fa8a4e"
    "9daab669af64fc8cc874a3139acbe5d76b6d6e2b570451c03fca3266e1b784858929edfbbed63fc6aa9b775a"
    "d7f05ce8674b5b6286a66c1f73f35713b5ad860f3066dd0c870e6d923c90441170bf7c097142274943aa87f2"
    "5bcdd1f0812a0442fcd0816694a12cb556013eefb456a0efdf59734d6a82d567bd3c080d91557e65db88d99c"
    "38101928fc67c797b5b39a1962b90b2a6b75f80238628c7e9aacf0eb80a5ab0e4f4bc07e06758fba4993c81b"
    "f5c00a4d25c9b3c9b926cce77257f3fdf796ef45eb895f01724b7831d19144deacca56e27ca0a8c741fbce0d"
    "69fe99b731051546258f32969ea6ebcd65f8856e32350971528cc14ddcc4c2518c5f00298ef71bf729ed601a"
    "2ce2a6a4f3cd9e3e67cfe7bcf0a262e89368c51fb62656270a8cc85c3e90ef8cdd618313f85d3a3b710b77ba"
    "45379fca2567945af418ee180f937c7e427ebc98d3c794415a20dc909a10c4c284ee325f4e59f0a8634f5eeb"
    "c6bec48619429e233bedf63ae7b5e7a1657bccba4a3c53963ce58daebc501565128702293d161e8c98b5b3c9"
    "fdedc47d7afe64952feb8923fb45c91725ff101fdeed14b07ede6400987ca0c94a8c9be4991b76984542075a"
    "5a326b3f888c537e6ddaa94b916d948bfba7629dccd17249b099cf8feef8b05128cf7f19b8a7732b4c5d0140"
    "2bf3381d13855e116ce80c2120790462087b8aebe6233906b35fe8dba63fe6516495b449933e5b943dd97111"
    "644e753bba18d561584df77ce8e3a663ada65c97e89401d14fd04d90a887a0a6b06d7fb6d46a147c3dcc44a5"
    "293abf8747f0f077a8c149e386f0cd65b4ea85759e874d22ee19d1fb056501d6b48f2386eef7b9e8399f80ed"
    "0119a3c58f9ef4d6ea1bdee49434b03578bd20d23751e14f25306a535435cb8fa96b0fa9791da97a44122306"
    "ab5cfa12850bbc81701374df46b0ba24633edc1fa68a1c87a1d00ea1bcfbba417741cdaeb917cec0c1c14c6e"
    "e6f8cc0056b45ccf1557a3d5f3bebf11e092d3a44bb5124b5c4d3a4754e12cb03f27ff1aca56213dfafbe4ff"
    "e5e43fb153dcc99e54aca721d8e57b14cd6518c9ebd1883ac643d2f65e5d77dd4265a502de59af62f3f622f9"
    "dd70dede01fa109a3a9eb93971934ba993a32073c122081c097dc1880d9cc74e74ca873f7f2b4ec04a094867"
    "113479527735bbcffeea12410d4eb5c548d85ee412c8bf02d61486ff1ac33d5353d3e26e07c591cd6036057c"
    "97dae037e087d6d34afa9e4ea20b7577af6d1382a4295f52125d35e75bf5b5de5960c4d9fd8204262a60b160"
    "d9b70667f5f4226dee86c520103a1fa99cc74ba8eada1ac1eb82eb627f7079df00a057c1d3e1d340fb7263f8"
    "0e7822548d5c00ca767f5683c5858ba239a550b0a6582808997e2c04243ff7c4d4e9066ded69bfac73a106c2"
    "8064d0d63577997913ce9bcc274236bbea8ffa5d6cc5b1abba34f50e9cfbaa21750ba40b6cf45a1cf1149db1"
    "c9eb8dc952bac169493b458ced571a90c22ab3fb05bfbddc6225c1ebca88abd1b619fac05b402176f42f6f98"
    "2e43d41689f5106a3761cb5c4a0c687d07e80a4b7a400360ddd390037a6f4ef5cc8c4c4eda8177cdfe6e41d3"
    "a23f06acb022cb7cf75ffba88c35b4fc3217647f9b2daac0ea0ef9eaa8272252af48bcb0da2ff1e3b8873e69"
    "5fc1e694422d6bc8e698c47e320566c077f3b10f53ace50c4c8b7e54ce3012869d94315ac707c5b60d2d8fb1"
    "5de0f65b0e4a2349529f46f7c1aaf2da5ea425ae7eb6388e6ec44ae6d8464555a3141d07e2dadc77a0db99dc"
    "4a7cc313f1918528942b215884ec648d4d87a21cbabd4f0ed3990c7ba32d52c2ec02b5cb997ed6ea8a2f2722"
    "14a83ffc6ec0622af3f9fe0f9ac2fb11b259e9ca7b702d9cee3a93d086549c0cd048c1fb996201887fd2a4f2"
    "e5854ba8444ae0253f592d93498fec0715ed8a9d52dcf89548acc3dfcf632372f689db1fe2b4938ccffe9670"
    "f5c873bfd7458b305e79226a8c8f58364d68c1b88f43a9084cc8ab84c323f9039b768cb76ab04d458e3cf9b8"
    "ce22408618bf4b3dd2aae58161c981472c078811fd1783e21ff5a7978080d761a3cab34a4cabd7df31a53a60"
    "2849c7d83e308dbe2f87d7cd858149004262746d479a1ed80b9c07dd980607b9f4b67ef7cbc0a483fd9a5caf"
    "fb8e15a0dd3b29cb0f18eeea57cee6ed9339def75a30b58dc1e3599cba6021a6daa503b80f2b58407793a9b4"
    "b6bee7132e3f6ffb1423a6ff040b152d3da2c811a7eff6000000000000000000000000000000000000000000"
    "000000030b10141b1f"
)


def signing_key(name: str) -> SigningKey:
    """The test key called ``name``."""
    seed, alg = SEEDS[name]
    return SigningKey.from_seed(seed, alg)


def public_keys() -> dict[str, PublicKey]:
    """Every named public key, plus henry's Ed25519 part re-labelled as an ed25519 key."""
    keys = {name: signing_key(name).public_key for name in SEEDS}
    keys["henry-ed25519-only"] = PublicKey(KeyAlgorithm.ED25519, keys["henry"].ed25519)
    return keys


def _sig(name: str, payload_type: str = PAYLOAD_TYPE, payload: bytes = PAYLOAD) -> dict[str, bytes]:
    key = signing_key(name)
    ed, ml = key.sign(pre_authentication_encoding(payload_type, payload, key.key_id))
    rec = {"ed25519": ed, "key_id": key.key_id}
    if ml is not None:
        assert (payload_type, payload) == (PAYLOAD_TYPE, PAYLOAD), "no fixed ML-DSA signature"
        rec["ml-dsa-65"] = HENRY_ML_DSA_65
    return rec


def _wire(sigs: Sequence[object], **changes: object) -> bytes:
    wire: dict[str, object] = {
        "payload": PAYLOAD,
        "signatures": list(sigs),
        "type": PAYLOAD_TYPE,
        "v": 1,
    }
    wire.update(changes)
    return encode(wire)


def _sorted(*sigs: dict[str, bytes]) -> list[dict[str, bytes]]:
    return sorted(sigs, key=lambda s: s["key_id"])


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def _policy(names: Sequence[str], threshold: int) -> RolePolicy:
    keys = public_keys()
    return RolePolicy.of([keys[n] for n in names], threshold)


def _keys_section() -> dict[str, object]:
    out: dict[str, object] = {}
    for name, key in public_keys().items():
        seed = SEEDS[name][0].hex() if name in SEEDS else None
        out[name] = {
            "alg": key.alg.value,
            "seed": seed,
            "record": key.to_bytes().hex(),
            "key_id": key.key_id.hex(),
        }
    return out


def _positive(
    desc: str, envelope: bytes, names: Sequence[str], threshold: int
) -> dict[str, object]:
    env = SignedEnvelope.from_bytes(envelope)
    verified = verify_envelope(env, _policy(names, threshold), payload_type=PAYLOAD_TYPE)
    keys = public_keys()
    return {
        "desc": desc,
        "payload_type": PAYLOAD_TYPE,
        "payload": PAYLOAD.hex(),
        "signers": [n for n in sorted(SEEDS) if keys[n].key_id in env.signer_key_ids],
        "pae": [
            pre_authentication_encoding(PAYLOAD_TYPE, PAYLOAD, k).hex() for k in env.signer_key_ids
        ],
        "policy": {"keys": list(names), "threshold": threshold},
        "envelope": envelope.hex(),
        "envelope_id": verified.envelope_id.hex(),
        "valid_key_ids": [k.hex() for k in verified.signer_key_ids],
    }


def _ed25519_cases() -> list[dict[str, object]]:
    def signed(*names: str) -> bytes:
        return sign_envelope(
            PAYLOAD_TYPE, PAYLOAD_VALUE, [signing_key(n) for n in names]
        ).to_bytes()

    return [
        _positive("one signer, threshold 1", signed("alice"), ["alice"], 1),
        _positive("two of three", signed("alice", "bob"), ["alice", "bob", "carol"], 2),
        _positive(
            "two of three plus an unknown co-signer",
            signed("alice", "bob", "mallory"),
            ["alice", "bob", "carol"],
            2,
        ),
    ]


def _hybrid_cases() -> list[dict[str, object]]:
    return [
        _positive("hybrid signer alone", _wire([_sig("henry")]), ["henry"], 1),
        _positive(
            "hybrid and ed25519 co-signers",
            _wire(_sorted(_sig("henry"), _sig("alice"))),
            ["alice", "henry"],
            2,
        ),
    ]


def _mutations() -> list[tuple[str, bytes, Sequence[str], int, str]]:
    a, b, h = _sig("alice"), _sig("bob"), _sig("henry")
    base = _wire([a])
    other_payload = encode({"n": 2, "text": "hello"})
    loose = bytes.fromhex("82a16ecc01a474657874a568656c6c6f")  # {"n": 1, ...} with n as uint8
    ed_only = public_keys()["henry-ed25519-only"]
    relabelled = {"ed25519": h["ed25519"], "key_id": ed_only.key_id}
    return [
        (
            "Ed25519 signature bit flipped",
            _wire([{**a, "ed25519": _flip(a["ed25519"])}]),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "payload changed after signing",
            _wire([a], payload=other_payload),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        ("verified as another payload type", base, ["alice"], 1, "test/other"),
        (
            "type member changed after signing",
            _wire([a], type="test/other"),
            ["alice"],
            1,
            "test/other",
        ),
        (
            "key id replaced by an unknown key id",
            _wire([{**a, "key_id": _sig("mallory")["key_id"]}]),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "valid signature by a key outside the policy",
            _wire([_sig("mallory")]),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "signature re-labelled with another policy key's id",
            _wire([{**a, "key_id": b["key_id"]}]),
            ["alice", "bob"],
            1,
            PAYLOAD_TYPE,
        ),
        ("threshold 2, one valid signature", base, ["alice", "bob"], 2, PAYLOAD_TYPE),
        ("threshold 2, the same signature twice", _wire([a, a]), ["alice", "bob"], 2, PAYLOAD_TYPE),
        (
            "signatures not ascending by key id",
            _wire(_sorted(a, b)[::-1]),
            ["alice", "bob"],
            2,
            PAYLOAD_TYPE,
        ),
        ("no signatures", _wire([]), ["alice"], 1, PAYLOAD_TYPE),
        ("trailing byte", base + b"\xc0", ["alice"], 1, PAYLOAD_TYPE),
        ("truncated by one byte", base[:-1], ["alice"], 1, PAYLOAD_TYPE),
        ("version 2", _wire([a], v=2), ["alice"], 1, PAYLOAD_TYPE),
        ("extra top-level member", _wire([a], x=0), ["alice"], 1, PAYLOAD_TYPE),
        ("extra signature member", _wire([{**a, "x": 0}]), ["alice"], 1, PAYLOAD_TYPE),
        (
            "Ed25519 signature of 63 bytes",
            _wire([{**a, "ed25519": a["ed25519"][:63]}]),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        ("payload as str, not bin", _wire([a], payload=PAYLOAD.hex()), ["alice"], 1, PAYLOAD_TYPE),
        (
            "payload type not in the allowed alphabet",
            _wire([_sig("alice", "Test")], type="Test"),
            ["alice"],
            1,
            "Test",
        ),
        (
            "non-canonical payload, validly signed",
            _wire([_sig("alice", payload=loose)], payload=loose),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "two faults: type not allowed and payload not canonical (the payload comes first)",
            _wire([a], type="Test", payload=loose),
            ["alice"],
            1,
            "Test",
        ),
        (
            "two faults: version 2 and payload not canonical (the version comes first)",
            _wire([a], v=2, payload=loose),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "payload with a trailing byte, validly signed",
            _wire([_sig("alice", payload=PAYLOAD + b"\xc0")], payload=PAYLOAD + b"\xc0"),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid: ML-DSA-65 part stripped",
            _wire([{k: v for k, v in h.items() if k != "ml-dsa-65"}]),
            ["henry"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid: ML-DSA-65 part bit flipped",
            _wire([{**h, "ml-dsa-65": _flip(h["ml-dsa-65"], 100)}]),
            ["henry"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid: Ed25519 part bit flipped",
            _wire([{**h, "ed25519": _flip(h["ed25519"], 5)}]),
            ["henry"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid: ML-DSA-65 part of 3308 bytes",
            _wire([{**h, "ml-dsa-65": h["ml-dsa-65"][:-1]}]),
            ["henry"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid Ed25519 part presented as an ed25519 key's signature",
            _wire([relabelled]),
            ["henry-ed25519-only"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "ML-DSA-65 part grafted onto an ed25519 signature",
            _wire([{**a, "ml-dsa-65": h["ml-dsa-65"]}]),
            ["alice"],
            1,
            PAYLOAD_TYPE,
        ),
        (
            "hybrid co-signed, ML-DSA-65 part stripped, threshold 2",
            _wire(_sorted(a, {"ed25519": h["ed25519"], "key_id": h["key_id"]})),
            ["alice", "henry"],
            2,
            PAYLOAD_TYPE,
        ),
    ]


def _mutation_cases() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for desc, data, names, threshold, expected_type in _mutations():
        try:
            verify_envelope(data, _policy(names, threshold), payload_type=expected_type)
        except SwapprotoError as exc:
            code = str(exc.code)
        else:
            raise AssertionError(f"mutation accepted: {desc}")
        cases.append(
            {
                "desc": desc,
                "payload_type": expected_type,
                "policy": {"keys": list(names), "threshold": threshold},
                "envelope": data.hex(),
                "want_error": code,
            }
        )
    return cases


def generate() -> dict[str, object]:
    """Deterministic Ed25519 envelopes, verify-only hybrid envelopes, mutation families."""
    keys = _keys_section()
    return {
        "ed25519": {
            "desc": "sign_envelope with Ed25519 keys from fixed seeds: exact bytes, then verify",
            "keys": keys,
            "cases": _ed25519_cases(),
        },
        "hybrid": {
            "desc": "verify-only envelopes with a fixed (randomized) ML-DSA-65 signature",
            "keys": keys,
            "cases": _hybrid_cases(),
        },
        "mutations": {
            "desc": "verify_envelope(envelope, policy, payload_type) must fail with want_error",
            "keys": keys,
            "cases": _mutation_cases(),
        },
    }


def _new_ml_dsa_signature() -> str:
    key = signing_key("henry")
    _, ml = key.sign(pre_authentication_encoding(PAYLOAD_TYPE, PAYLOAD, key.key_id))
    assert ml is not None
    return ml.hex()


if __name__ == "__main__" and "--new-ml-dsa-signature" in sys.argv:
    print(_new_ml_dsa_signature())
