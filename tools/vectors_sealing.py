"""Vectors for sealed containers (``spec/vectors/sealing/``).

HPKE encapsulation is randomised and ``cryptography`` takes no fixed ephemeral key, so
the containers are assembled here from fixed parts with ``sealing._write_container``:
a fixed content key per case, and recipient stanzas that are

* for ``x25519``: RFC 9180 ``SealBase`` computed by the small independent HPKE below
  with a fixed ephemeral ``ikm_e`` (RFC 9180 §7.1.3 ``DeriveKeyPair``), so every byte of
  these containers is reproducible by another implementation;
* for ``mlkem768-x25519``: made once with ``swapproto`` and stored below (regenerate with
  ``--new-hybrid-stanzas`` only if the content key, keys or context change).

``containers.json`` holds valid containers (open them); ``rejected.json`` holds
containers built from pieces of those, each with the error code opening must raise and
the code (or ``null``) of the keyless structure check ``inspect_sealed``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from swapproto.encoding import encode
from swapproto.errors import ErrorCode, SwapprotoError
from swapproto.keys import DecryptionKey, EncryptionSuite
from swapproto.sealing import (
    CHUNK_SIZE,
    MAX_HEADER,
    SEALED_FORMAT,
    RecipientStanza,
    SealingContext,
    _write_container,
    inspect_sealed,
    open_bytes,
)

X25519 = EncryptionSuite.X25519
XWING = EncryptionSuite.MLKEM768_X25519

SEEDS = {
    "a": bytes(range(32)),
    "m": bytes([0xA5]) * 32,
    "n": bytes([0x77]) * 32,  # never a recipient
}
EXCHANGE_ID = hashlib.sha256(b"swapproto sealing vectors: exchange").digest()
OTHER_EXCHANGE_ID = hashlib.sha256(b"swapproto sealing vectors: another exchange").digest()
CONTEXT = SealingContext(EXCHANGE_ID, "a-to-b", "reveal")
OTHER_CONTEXTS = {
    "another exchange id": SealingContext(OTHER_EXCHANGE_ID, "a-to-b", "reveal"),
    "another list name (swapped between lists)": SealingContext(EXCHANGE_ID, "b-to-a", "reveal"),
    "another message type": SealingContext(EXCHANGE_ID, "a-to-b", "transfer"),
}
PLAINTEXT_RULE = "plaintext byte i is i mod 251"
PAYLOAD_KEY_INFO = b"swapproto/v1/sealed/payload-key"
HEADER_MAC_INFO = b"swapproto/v1/sealed/header-mac"

# ---------------------------------------------------------------------------------------
# An independent RFC 9180 DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305,
# mode_base, single shot (aad empty). Only for vectors and conformance tests.

_KEM_SUITE_ID = b"KEM" + (0x0020).to_bytes(2, "big")
_HPKE_SUITE_ID = b"HPKE" + bytes.fromhex("002000010003")


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, b"HPKE-v1" + suite_id + label + ikm, hashlib.sha256).digest()


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, n: int) -> bytes:
    labeled = n.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return HKDFExpand(algorithm=hashes.SHA256(), length=n, info=labeled).derive(prk)


def hpke_derive_x25519(ikm: bytes) -> x25519.X25519PrivateKey:
    """RFC 9180 §7.1.3 ``DeriveKeyPair`` for X25519."""
    prk = _labeled_extract(_KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = _labeled_expand(_KEM_SUITE_ID, prk, b"sk", b"", 32)
    return x25519.X25519PrivateKey.from_private_bytes(sk)


def _key_schedule(dh: bytes, enc: bytes, pk_r: bytes, info: bytes) -> tuple[bytes, bytes]:
    eae_prk = _labeled_extract(_KEM_SUITE_ID, b"", b"eae_prk", dh)
    shared = _labeled_expand(_KEM_SUITE_ID, eae_prk, b"shared_secret", enc + pk_r, 32)
    psk_id_hash = _labeled_extract(_HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(_HPKE_SUITE_ID, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(_HPKE_SUITE_ID, shared, b"secret", b"")
    key = _labeled_expand(_HPKE_SUITE_ID, secret, b"key", context, 32)
    nonce = _labeled_expand(_HPKE_SUITE_ID, secret, b"base_nonce", context, 12)
    return key, nonce


def hpke_seal_x25519(pk_r: bytes, ikm_e: bytes, info: bytes, plaintext: bytes) -> bytes:
    """``enc || ct`` of RFC 9180 ``SealBase`` with the ephemeral key from ``ikm_e``."""
    sk_e = hpke_derive_x25519(ikm_e)
    enc = sk_e.public_key().public_bytes_raw()
    dh = sk_e.exchange(x25519.X25519PublicKey.from_public_bytes(pk_r))
    key, nonce = _key_schedule(dh, enc, pk_r, info)
    return enc + ChaCha20Poly1305(key).encrypt(nonce, plaintext, b"")


def hpke_open_x25519(sk_r: bytes, wrapped: bytes, info: bytes) -> bytes:
    """RFC 9180 ``OpenBase`` (raises ``InvalidTag`` on failure)."""
    priv = x25519.X25519PrivateKey.from_private_bytes(sk_r)
    pk_r = priv.public_key().public_bytes_raw()
    enc, ct = wrapped[:32], wrapped[32:]
    dh = priv.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
    key, nonce = _key_schedule(dh, enc, pk_r, info)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, b"")


def x25519_private(seed: bytes, suite: EncryptionSuite) -> bytes:
    """The X25519 private key of ``DecryptionKey.from_seed(seed, suite)`` (keys.md §3)."""
    info = f"swapproto/v1/key-seed/{suite.value}/x25519".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(seed)


# ---------------------------------------------------------------------------------------
# fixed parts

# Wrapped content keys of case "small-mlkem768-x25519" (ML-KEM encapsulation is randomised):
# HPKE SealBase of content_key("small-mlkem768-x25519") to the hybrid keys of seeds "a"
# and "m", info = CONTEXT.digest. Printed by ``--new-hybrid-stanzas``.
HYBRID_WRAPPED: dict[str, bytes] = {
    "a": bytes.fromhex(
        "8a8351e4c1dab14b741c66b5a62966d68e0d2a5ea89c82889de00418794a3a4e55c54aecd6ac39670e297f67"
        "178d19c2233aeca544268fcf316a020e889478963e1e120368c7f86daab57871a842d7be891f1dcdbabb7cfa"
        "fb785ca44e5a4c4b8280d806653caf374af80c0fbc7d7e36270715959b4d3202571b36f9d4366636f4f08de4"
        "06585d031b146b26efba0dd48dee358d7f75f043cf7bed4e3da8a289d54f4927e1dc81dd1f55daa3424fa479"
        "798c04faf5ea77de0299f1a7409d048e829f87b52090ccb063c7848f5de9bbab5fecb70cc27d3426c0ac7ab2"
        "c4a5e16874c8f0edd4132685a11c0c14e0aa55cb8700276d60a653ddf81958e5aa177c457ca58fa6e2fc6921"
        "9f7a60770eeb0d8dd4a6d9fbfed53bf048b56dcd4f3937eb7f3c1f2e844b5dea0294389e83d3f9aa3423c7f9"
        "ae34a2695c28539fc2106faef164704f661ca18412d9db00538b407b4285fdc657ce885b786ccfa04bf34336"
        "a5b1516b6e70a3272de17bf113c653099922d191654322d404fdb6779852410cff6141d6ed1e2c95a9bae594"
        "1d5090b91f0e8014be780a73178a1cd72f01f63e7832dc18d6830aa2c6462fbeef2875a3f2d91ae8632d3d5c"
        "b341ac4c51e56e7b0ad1ce86e07d4d309e1a93ac36dfaa2693a25c562fafc10cab081bdcc846c902018a39f8"
        "ad4cbbb90f55b153a18de33fda5f80806044ee5d6ef87d9c145628de3fb9b93b2f00a583f20b539426bd72c4"
        "bc6164725bd331e302064606b6100d44d6809492876c2a7f0f899ec5bd7acfaaa44a78c7e8ead548a5fbd1a0"
        "061a638813dbb60d24ba3661a3ad9b7f0235128cc9281fc1a9c7355774ac158ce78396afda58f285228a694e"
        "42596d21bc004605634926066e17c862a4b0fc6115d253fdbc52772f46d09d5d7372e37a8bcff73b999db740"
        "9d3ccdd68dd2075a4c0faee78faf6f138fd119c7533823780b738950f58fd8e86a60a87d0d8227c6a5e5d328"
        "6ecf55b8ce811cea53253e2450b1f343982be28df2d11e652f579baaa27ccc56d78fe0ca8a2b7efc88a017ba"
        "c8c5278092c170f12830b5562e1044faf0d7a2e7c3fc960cb4bee2937a59795f924b134708b23afedecb4638"
        "6f3c763b6cd8dab6da90f49d5fd26915f7128ca02da1e28c85450626b9a832db12977a099e846802e2c6c90a"
        "be37520952a08b2bd325cfc6cf774449f6795d04678e0041018dc50464fdaaac64820c5d1243dfd55b04e0d2"
        "b16010c2be94e9ded762ad39583dd07372f9dfc1c7c5440358dae82e7223febbd9caff10ac925d77189182e6"
        "4517096671d39ce3d289f6211687eeb89201bc24467ca6be21046186b29725f705823b93337c13ab0390db7c"
        "34e9c7c582db966afd281f5bbf0a9b3f6a93d7bf96f6ad6b45dc0ab8c65611eab14a7c9f7840ca0a9d1cb026"
        "6d0f9ffa0dc2273780b36c1f92d997910d2e2a6fba371da3dea7ef1e3ee5fb5b30d3614da720eaa866db47db"
        "76383cdeb294624d53d991527e83858813da7f9765f1c9a0120d766b6ab5fd2f180d2b8c47ea37661c0317a5"
        "f0c81d349d48c5f2a8a10e5af2c01449617555487503f9b91abecdc7fa354e4410b1aafe04fc950f0034191d"
        "dd1e371b738a14e69db2e538f90ebc2cb4cddac64a840c21"
    ),
    "m": bytes.fromhex(
        "48926796344d87449ae7498da7aec9686f5cabf62ac62dc5dcf564a6c41a6283b76e5bf2b717615229451d7c"
        "5f9d307568322af87ddcbb3c5433a4eccc37ec72633c32da3960d20217539e93cc19b2884394e5427f0a0838"
        "83c252d6a2266d038d4d880f66140cf825555a3b74cef920feadf595a4b79465fbf0c3e53e2383b4ab456041"
        "2792eca5181c61bf9b9257acd22395ae51ec2ec2786208c0994effc59a2a49939cce093f766254257d32938b"
        "769d87d1b690d9c2975c6c98d28c05d69b190860ae2cd762d9e61453ec13dcec3e22a202f67f5deccdbae817"
        "5debab45369863ab7ff138b13f1c88874be57a20984d9f0a6fd1115ed7a2f21b9a2396315cc04e5050a35554"
        "ab8a4f9aff1c6c165d51e9322f6dc474e45147f17fcbfd59f25163c8385c7c297dc4a25900dad43c9c3d26c9"
        "ff1a807efdd6837f45455f1e0f89f22350f32613666c926782e64e0b67206446ee37d54c401662846b5d525f"
        "8ab16dfdc876ee202977fb0e3daffeb1a31cda51c1f08de29fb359c23203d5170d9a2aecbdf90419a14f030d"
        "7149ab9e7aa09fc7c85478c7619b683851fce163f78d500d6995de9d1f992cecaa5eae533601a02f2ba6a556"
        "f16152f75236d3bc90928adf187309683b9ba698eb01fb1997746f73f5d2157debc86a0240ace9480a6a66af"
        "efa7c16a9f315309447bcf72242c4cda8ae7e5fa3144267bb3f2646613c95260a079cacc11e1e17f6750f5c0"
        "673433a5782402712433756acaa3696047d5d9e0d02de83e2f33cc930da4748eb1ed5210a7419114d0172a8f"
        "7db2d9b5c0275f92d1f323613ba7634d4023f81532cc2d1d38c03dd3c3eb8a128192c038772aa818603bdee2"
        "01b291a1b11e705c480d6d859af4e72edc0d16e51defdde04a9bc1a8d8cf6ec36728d8ffe312befcd41c3321"
        "023bf5744440cc1bc165f59a21210cc2ed9399e1d6a09823527d984cc0c189798d041ba87695efd609437d44"
        "933e476a67f773a22a18c48a25522c37f53474776486739790d91c1e0a7a593e51b2cbb892312f28613b5165"
        "1f717f43a93ae9b6d3067151850b884810dfd66ec0c88ff6a40faa011bac5cd9a0da6cf660db400c7f8b343c"
        "b3c3628f71adc80b3342c4d1998b5da080cada264b1925e1a9906aa1f4b37c7642570c1aeb2de9a55ffd6a73"
        "de7d0db9f5e2780017790937a1ad5280e6bd9a118f652bbe276ff18a0da976a200f45d554ce70dd5028899d7"
        "3f3d7d3e6b5af0b1d1c988696e20d1afae4d2d76da7b85e69b32d872806973ceb5383de9c0cd21752a9ece31"
        "a397a4d5a3f9e6a1a225fa995be124ba1f0392f9ef94d6b7463c2241b1323179d2baa7516a235fec322a1d50"
        "bc767f29ba87e740c78e2793cd0dfc48f5c18e38d9e554271c5a0a7994cf0082164899c8d1af04546e4664cc"
        "8450b106fe1577f443168fc29f47ef4cfcc76a9ced4b11dcbc6565bad1e6e54d8a4debe020a15e9ab07b9d53"
        "1bc06427cccb01fc5f42fa3432f565bc182aff0ef6a332d7ced9e26b5a947dd2e0a152cb87af464e522a11dd"
        "4e00d409b9386a7e0a008e5892b76f7eb9466e362f134bf4ff82a40cdf3fdaf561470d9354059f2be3d746d0"
        "9c872ea3cb98bfc10045013d42a2bac0a3e41f2fa5d1cf20"
    ),
}


def plaintext(n: int) -> bytes:
    """The plaintext of ``n`` bytes: byte i is i mod 251."""
    pattern = bytes(range(251))
    return (pattern * (n // 251 + 1))[:n]


def content_key(case: str) -> bytes:
    """The fixed content key of a case."""
    return hashlib.sha256(b"swapproto sealing vectors: content key " + case.encode()).digest()


def ikm_e(case: str, recipient: str) -> bytes:
    """The fixed HPKE ephemeral input keying material of one x25519 stanza."""
    return hashlib.sha256(f"swapproto sealing vectors: ikm_e {case} {recipient}".encode()).digest()


def dkey(name: str, suite: EncryptionSuite) -> DecryptionKey:
    """The decryption key of a named seed."""
    return DecryptionKey.from_seed(SEEDS[name], suite)


def subkey(key: bytes, info: bytes) -> bytes:
    """HKDF-Expand-SHA256(key, info, 32)."""
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(key)


@dataclass(frozen=True, slots=True)
class Case:
    """One valid container."""

    name: str
    desc: str
    suite: EncryptionSuite
    size: int
    recipients: tuple[str, ...]


CASES = (
    Case("empty-x25519", "empty plaintext: one empty final chunk", X25519, 0, ("a",)),
    Case("one-byte-x25519", "1 byte to the counterparty and a mediator", X25519, 1, ("a", "m")),
    Case(
        "small-mlkem768-x25519", "300 bytes, hybrid suite, two recipients", XWING, 300, ("a", "m")
    ),
    Case("full-chunk-x25519", "exactly one chunk: a full final chunk", X25519, CHUNK_SIZE, ("a",)),
    Case(
        "two-chunks-x25519",
        "a full chunk, then a 1-byte final chunk",
        X25519,
        CHUNK_SIZE + 1,
        ("a", "m"),
    ),
)


def stanzas(case: Case, key: bytes | None = None) -> list[tuple[str, RecipientStanza]]:
    """The case's recipient stanzas in key id order, with the recipient names."""
    key = content_key(case.name) if key is None else key
    out: list[tuple[str, RecipientStanza]] = []
    for name in case.recipients:
        pub = dkey(name, case.suite).public_key
        if case.suite is X25519:
            wrapped = hpke_seal_x25519(pub.x25519, ikm_e(case.name, name), CONTEXT.digest, key)
        else:
            wrapped = HYBRID_WRAPPED[name]
        out.append((name, RecipientStanza(pub.key_id, wrapped)))
    return sorted(out, key=lambda item: item[1].key_id)


def build(case: Case) -> bytes:
    """The case's container."""
    out = io.BytesIO()
    parts = [s for _, s in stanzas(case)]
    key = content_key(case.name)
    _write_container(io.BytesIO(plaintext(case.size)), out, case.suite, CONTEXT.digest, parts, key)
    return out.getvalue()


def layout(container: bytes) -> dict[str, int]:
    """Offsets: ``mac`` (start of the MAC), ``chunks`` (start of chunk 0), ``end``."""
    n = int.from_bytes(container[:4], "big")
    return {"mac": 4 + n, "chunks": 4 + n + 32, "end": len(container)}


def chunk_spans(container: bytes) -> list[tuple[int, int]]:
    """``[start, end)`` of every chunk frame (length prefix included)."""
    pos, spans = layout(container)["chunks"], []
    while pos < len(container):
        end = pos + 4 + int.from_bytes(container[pos : pos + 4], "big")
        spans.append((pos, end))
        pos = end
    return spans


def _context_json(ctx: SealingContext) -> dict[str, object]:
    return {
        "exchange_id": ctx.exchange_id.hex(),
        "list_name": ctx.list_name,
        "message_type": ctx.message_type,
        "encoded": ctx.to_bytes().hex(),
        "digest": ctx.digest.hex(),
    }


def _container_case(case: Case) -> dict[str, object]:
    data = build(case)
    key = content_key(case.name)
    pt = plaintext(case.size)
    for name in case.recipients:
        assert open_bytes(data, dkey(name, case.suite), CONTEXT) == pt, (case.name, name)
    lay = layout(data)
    spans = chunk_spans(data)
    return {
        "desc": case.desc,
        "suite": case.suite.value,
        "recipients": [
            {
                "name": name,
                "seed": SEEDS[name].hex(),
                "key_id": s.key_id.hex(),
                "ikm_e": ikm_e(case.name, name).hex() if case.suite is X25519 else None,
                "wrapped": s.wrapped.hex(),
            }
            for name, s in stanzas(case)
        ],
        "content_key": key.hex(),
        "payload_key": subkey(key, PAYLOAD_KEY_INFO).hex(),
        "header_mac_key": subkey(key, HEADER_MAC_INFO).hex(),
        "header": data[4 : lay["mac"]].hex(),
        "header_mac": data[lay["mac"] : lay["chunks"]].hex(),
        "chunks": [
            {
                "offset": start,
                "ciphertext_length": end - start - 4,
                "nonce": (i.to_bytes(11, "big") + bytes([i == len(spans) - 1])).hex(),
            }
            for i, (start, end) in enumerate(spans)
        ],
        "plaintext_size": case.size,
        "plaintext": pt.hex() if case.size <= 1024 else None,
        "plaintext_sha256": hashlib.sha256(pt).hexdigest(),
        "container_sha256": hashlib.sha256(data).hexdigest(),
        "container": data.hex(),
    }


# ---------------------------------------------------------------------------------------
# rejected containers

Piece = tuple[int, int] | bytes


@dataclass(frozen=True, slots=True)
class Rejection:
    """A container assembled from pieces of a base case, and how it must fail."""

    desc: str
    base: str
    pieces: tuple[Piece, ...]
    want: ErrorCode
    inspect: ErrorCode | None
    key: str = "a"
    suite: EncryptionSuite | None = None
    context: SealingContext = CONTEXT
    expected_digest: bytes | None = None


def assemble(base: bytes, pieces: Sequence[Piece]) -> bytes:
    """Concatenate ranges of ``base`` and literal bytes."""
    return b"".join(base[p[0] : p[1]] if isinstance(p, tuple) else p for p in pieces)


def _code_of(fn: Callable[[], object]) -> ErrorCode | None:
    try:
        fn()
    except SwapprotoError as exc:
        return exc.code
    return None


def _flip(offset: int, base: bytes, mask: int = 0x01) -> tuple[Piece, ...]:
    return ((0, offset), bytes([base[offset] ^ mask]), (offset + 1, len(base)))


def _header_variant(base: bytes, header: object) -> tuple[Piece, ...]:
    """Replace the header (and its length), keep the MAC and the chunks."""
    raw = header if isinstance(header, bytes) else encode(header)
    return (len(raw).to_bytes(4, "big") + raw, (layout(base)["mac"], len(base)))


def _header_value(case: Case, entries: list[RecipientStanza], **changes: object) -> object:
    value: dict[str, object] = {
        "chunk_size": CHUNK_SIZE,
        "context": CONTEXT.digest,
        "format": SEALED_FORMAT,
        "recipients": [{"key_id": s.key_id, "wrapped": s.wrapped} for s in entries],
        "suite": case.suite.value,
    }
    value.update(changes)
    return value


def _truncations(one: bytes, two: bytes) -> list[Rejection]:
    lay1, lay2, trunc = layout(one), layout(two), ErrorCode.SEAL_TRUNCATED
    chunk1 = chunk_spans(two)[1][0]
    cuts = [
        ("empty input", "one-byte-x25519", 0, trunc),
        ("ends inside the header length", "one-byte-x25519", 3, trunc),
        ("ends inside the header", "one-byte-x25519", lay1["mac"] - 1, trunc),
        ("ends inside the header MAC", "one-byte-x25519", lay1["chunks"] - 1, trunc),
        ("ends after the header MAC (no chunk)", "one-byte-x25519", lay1["chunks"], trunc),
        ("ends inside the first chunk length", "one-byte-x25519", lay1["chunks"] + 2, trunc),
        ("last byte of the final chunk missing", "one-byte-x25519", lay1["end"] - 1, trunc),
        ("ends after chunk 0 of 2 (a chunk boundary)", "two-chunks-x25519", chunk1, None),
        ("ends inside the length of chunk 1", "two-chunks-x25519", chunk1 + 2, trunc),
        ("ends inside chunk 1", "two-chunks-x25519", lay2["end"] - 1, trunc),
    ]
    return [
        Rejection(f"truncated: {desc}", base, ((0, cut),), trunc, inspect)
        for desc, base, cut, inspect in cuts
    ]


def _chunk_edits(one: bytes, two: bytes, full: bytes) -> list[Rejection]:
    (h0, h1), (c0, c1) = (0, layout(two)["chunks"]), chunk_spans(two)
    auth, invalid = ErrorCode.SEAL_AUTH, ErrorCode.SEAL_INVALID
    empty_frame = (16).to_bytes(4, "big") + bytes(16)
    whole1: tuple[Piece] = ((0, len(one)),)
    whole_full: tuple[Piece] = ((0, len(full)),)
    return [
        Rejection("chunk 0 dropped", "two-chunks-x25519", ((h0, h1), c1), auth, None),
        Rejection("chunk 0 duplicated", "two-chunks-x25519", ((h0, h1), c0, c0, c1), auth, None),
        Rejection("chunks reordered", "two-chunks-x25519", ((h0, h1), c1, c0), invalid, invalid),
        Rejection(
            "1 byte after a short final chunk",
            "one-byte-x25519",
            (*whole1, b"\x00"),
            invalid,
            invalid,
        ),
        Rejection(
            "4 bytes after a short final chunk",
            "one-byte-x25519",
            (*whole1, bytes(4)),
            invalid,
            invalid,
        ),
        Rejection(
            "1 byte after a full final chunk (keyless: looks truncated)",
            "full-chunk-x25519",
            (*whole_full, b"\x00"),
            invalid,
            ErrorCode.SEAL_TRUNCATED,
        ),
        Rejection(
            "an empty chunk frame after a full final chunk",
            "full-chunk-x25519",
            (*whole_full, empty_frame),
            invalid,
            invalid,
        ),
    ]


def _bit_flips(one: bytes) -> list[Rejection]:
    lay = layout(one)
    header = one[4 : lay["mac"]]
    case = CASES[1]
    entries = [s for _, s in stanzas(case)]
    a_id = dkey("a", X25519).key_id
    own = next(i for i, s in enumerate(entries) if s.key_id == a_id)
    other = 1 - own

    def at(needle: bytes, index: int = 0) -> int:
        return 4 + header.index(needle) + index

    inv, auth, hmac_, trunc = (
        ErrorCode.SEAL_INVALID,
        ErrorCode.SEAL_AUTH,
        ErrorCode.SEAL_HEADER_MAC,
        ErrorCode.SEAL_TRUNCATED,
    )
    flips: list[tuple[str, int, int, ErrorCode, ErrorCode | None]] = [
        ("header length", 3, 1, inv, inv),
        ("format string", at(SEALED_FORMAT.encode(), 5), 1, inv, inv),
        ("context digest", at(CONTEXT.digest), 1, ErrorCode.SEAL_CONTEXT, ErrorCode.SEAL_CONTEXT),
        (
            "own recipient key id",
            at(entries[own].key_id, 31),
            1,
            ErrorCode.SEAL_NOT_RECIPIENT,
            None,
        ),
        ("own wrapped key, enc", at(entries[own].wrapped, 5), 1, auth, None),
        ("own wrapped key, tag", at(entries[own].wrapped, 79), 1, auth, None),
        ("other recipient's wrapped key", at(entries[other].wrapped, 40), 1, hmac_, None),
        ("other recipient's key id", at(entries[other].key_id, 31), 1, hmac_, None),
        ("header MAC", lay["mac"] + 7, 1, hmac_, None),
        ("chunk length 17 -> 19", lay["chunks"] + 3, 2, trunc, trunc),
        ("chunk length 17 -> 16", lay["chunks"] + 3, 1, auth, inv),
        ("chunk ciphertext", lay["chunks"] + 4, 1, auth, None),
        ("chunk tag", lay["end"] - 1, 1, auth, None),
    ]
    return [
        Rejection(f"bit flipped: {desc}", case.name, _flip(offset, one, mask), want, inspect)
        for desc, offset, mask, want, inspect in flips
    ]


def _x25519_stanza(case: Case, name: str, key: bytes) -> RecipientStanza:
    pub = dkey(name, X25519).public_key
    wrapped = hpke_seal_x25519(pub.x25519, ikm_e(case.name, name), CONTEXT.digest, key)
    return RecipientStanza(pub.key_id, wrapped)


def _header_edits(one: bytes) -> list[Rejection]:
    """Well-formed headers that differ from the one the MAC covers."""
    case = CASES[1]
    named = stanzas(case)
    entries = [s for _, s in named]
    m_stanza = next(s for name, s in named if name == "m")
    extra = _x25519_stanza(case, "n", content_key(case.name))
    m_other = _x25519_stanza(case, "m", content_key("another content key"))
    without_m = [s for s in entries if s is not m_stanza]
    with_n = sorted([*entries, extra], key=lambda s: s.key_id)
    split_keys = [m_other if s is m_stanza else s for s in entries]
    other_list = OTHER_CONTEXTS["another list name (swapped between lists)"]
    mac = ErrorCode.SEAL_HEADER_MAC
    rows: list[tuple[str, object, ErrorCode, str, SealingContext]] = [
        ("stanza of mediator m removed", _header_value(case, without_m), mac, "a", CONTEXT),
        ("stanza of non-recipient n added", _header_value(case, with_n), mac, "a", CONTEXT),
        (
            "m's stanza wraps another content key (multi-key container, salamander)",
            _header_value(case, split_keys),
            mac,
            "m",
            CONTEXT,
        ),
        (
            "context rewritten to another list's, opened as that list",
            _header_value(case, entries, context=other_list.digest),
            ErrorCode.SEAL_AUTH,
            "a",
            other_list,
        ),
    ]
    return [
        Rejection(
            f"header: {desc}", case.name, _header_variant(one, header), want, None, key, context=ctx
        )
        for desc, header, want, key, ctx in rows
    ]


# X25519 public values of low order (RFC 7748 §6.1; every clamped scalar maps them to the
# all-zero shared secret): the zero point and a point of order 8.
LOW_ORDER_ENCS = {
    "the zero point": bytes(32),
    "a point of order 8": bytes.fromhex(
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"
    ),
}


def _low_order_enc(one: bytes) -> list[Rejection]:
    """The own stanza's ``enc`` is a low-order point and its ciphertext is made with the
    all-zero shared secret that point gives; the header MAC is recomputed with the real
    content key, so only the all-zero check (RFC 9180 §7.1.4) stops the opening."""
    case = CASES[1]
    key = content_key(case.name)
    a_id = dkey("a", X25519).key_id
    pk_a = dkey("a", X25519).public_key.x25519
    out = []
    for desc, enc in LOW_ORDER_ENCS.items():
        hpke_key, hpke_nonce = _key_schedule(bytes(32), enc, pk_a, CONTEXT.digest)
        wrapped = enc + ChaCha20Poly1305(hpke_key).encrypt(hpke_nonce, key, b"")
        entries = [
            RecipientStanza(s.key_id, wrapped) if s.key_id == a_id else s for _, s in stanzas(case)
        ]
        header = encode(_header_value(case, entries))
        mac = hmac.new(subkey(key, HEADER_MAC_INFO), header, hashlib.sha256).digest()
        pieces = (len(header).to_bytes(4, "big") + header + mac, (layout(one)["chunks"], len(one)))
        out.append(
            Rejection(
                f"own wrapped key: enc is {desc} (all-zero X25519 shared secret)",
                case.name,
                pieces,
                ErrorCode.SEAL_AUTH,
                None,
            )
        )
    return out


def _malformed_headers(one: bytes) -> list[Rejection]:
    """Headers that no reader may parse: ``seal.invalid`` with or without a key."""
    case = CASES[1]
    entries = [s for _, s in stanzas(case)]
    canonical = encode(_header_value(case, entries))
    needle = b"\xaachunk_size\xce"
    assert needle in canonical
    short_wrapped = [RecipientStanza(s.key_id, s.wrapped[:-1]) for s in entries]

    def changed(**changes: object) -> object:
        return _header_value(case, entries, **changes)

    rows: list[tuple[str, object]] = [
        ("non-shortest integer", canonical.replace(needle, b"\xaachunk_size\xcf\0\0\0\0", 1)),
        ("trailing byte", canonical + b"\xc0"),
        ("an array, not a map", encode([CONTEXT.digest])),
        ("extra member", changed(version=1)),
        ("unknown format", changed(format="swapproto-sealed/2")),
        ("unknown suite", changed(suite="p256")),
        ("hybrid suite named, x25519 stanzas", changed(suite=XWING.value)),
        ("other chunk size", changed(chunk_size=1024)),
        ("context of 31 bytes", changed(context=CONTEXT.digest[:31])),
        ("no recipients", _header_value(case, [])),
        ("recipients in descending order", _header_value(case, entries[::-1])),
        ("recipient named twice", _header_value(case, [entries[0], entries[0]])),
        ("wrapped key one byte short", _header_value(case, short_wrapped)),
    ]
    invalid = ErrorCode.SEAL_INVALID
    out = [
        Rejection(f"header: {desc}", case.name, _header_variant(one, h), invalid, invalid)
        for desc, h in rows
    ]
    for length in (MAX_HEADER + 1, 0xFFFFFFFF):
        pieces = (length.to_bytes(4, "big"), (4, len(one)))
        out.append(Rejection(f"header length {length:#x}", case.name, pieces, invalid, invalid))
    return out


def _key_and_context(one: bytes) -> list[Rejection]:
    whole = ((0, len(one)),)
    out = [
        Rejection(
            f"opened as {desc}",
            "one-byte-x25519",
            whole,
            ErrorCode.SEAL_CONTEXT,
            ErrorCode.SEAL_CONTEXT,
            context=ctx,
        )
        for desc, ctx in OTHER_CONTEXTS.items()
    ]
    out += [
        Rejection(
            "opened with a key that is not a recipient",
            "one-byte-x25519",
            whole,
            ErrorCode.SEAL_NOT_RECIPIENT,
            None,
            key="n",
        ),
        Rejection(
            "opened with the recipient's seed in the hybrid suite",
            "one-byte-x25519",
            whole,
            ErrorCode.SEAL_NOT_RECIPIENT,
            None,
            suite=XWING,
        ),
        Rejection(
            "expected digest is another container's",
            "one-byte-x25519",
            whole,
            ErrorCode.VERIFY_DIGEST,
            None,
            expected_digest=hashlib.sha256(b"").digest(),
        ),
    ]
    return out


def _rejection_json(rej: Rejection, base: bytes) -> dict[str, object]:
    data = assemble(base, rej.pieces)
    suite = rej.suite or next(c.suite for c in CASES if c.name == rej.base)
    key = dkey(rej.key, suite)
    got = _code_of(lambda: open_bytes(data, key, rej.context, expected_digest=rej.expected_digest))
    assert got == rej.want, (rej.desc, got)
    got_inspect = _code_of(lambda: inspect_sealed(io.BytesIO(data), rej.context))
    assert got_inspect == rej.inspect, (rej.desc, got_inspect)
    return {
        "desc": rej.desc,
        "base": rej.base,
        "pieces": [list(p) if isinstance(p, tuple) else p.hex() for p in rej.pieces],
        "key_seed": SEEDS[rej.key].hex(),
        "key_suite": suite.value,
        "context": _context_json(rej.context),
        "expected_digest": None if rej.expected_digest is None else rej.expected_digest.hex(),
        "want_error": str(rej.want),
        "inspect_error": None if rej.inspect is None else str(rej.inspect),
    }


def _rejections(bases: dict[str, bytes]) -> list[dict[str, object]]:
    one, two, full = (
        bases["one-byte-x25519"],
        bases["two-chunks-x25519"],
        bases["full-chunk-x25519"],
    )
    rejections = [
        *_truncations(one, two),
        *_chunk_edits(one, two, full),
        *_bit_flips(one),
        *_header_edits(one),
        *_low_order_enc(one),
        *_malformed_headers(one),
        *_key_and_context(one),
    ]
    return [_rejection_json(r, bases[r.base]) for r in rejections]


def generate() -> dict[str, object]:
    """Valid sealed containers and rejected mutations of them."""
    bases = {case.name: build(case) for case in CASES}
    return {
        "containers": {
            "desc": (
                "open_bytes(container, DecryptionKey.from_seed(seed, suite), context) for every "
                f"recipient gives the plaintext ({PLAINTEXT_RULE}); stanzas, content key and "
                "derived keys shown; x25519 stanzas are RFC 9180 SealBase with the ephemeral "
                "key DeriveKeyPair(ikm_e). recipients[] are in stanza (key id) order; name is "
                "the seed's name (the seeds of rejected.json). chunks[].offset is the offset "
                "in the container of the frame's 4-byte length prefix; ciphertext_length "
                "excludes that prefix"
            ),
            "context": _context_json(CONTEXT),
            "cases": {case.name: _container_case(case) for case in CASES},
        },
        "rejected": {
            "desc": (
                "container = concatenation of pieces: [start, end) byte ranges of the "
                "base container (a case of containers.json) and hex literals; opening with "
                "(key_seed, key_suite, context, expected_digest) fails with want_error; "
                "inspect_sealed(container, context) fails with inspect_error (null: accepted). "
                "seeds: every recipient seed by name (DecryptionKey.from_seed); 'n' is never "
                "a recipient of a base container: it is the non-recipient opening key, and "
                "the stanza added in 'header: stanza of non-recipient n added' is an x25519 "
                "SealBase to n's key with ikm_e('one-byte-x25519', 'n') (it is carried in "
                "the hex literal, so the seed is needed only to rebuild it)"
            ),
            "seeds": {name: seed.hex() for name, seed in SEEDS.items()},
            "cases": _rejections(bases),
        },
    }


def _new_hybrid_stanzas() -> None:
    case = next(c for c in CASES if c.suite is XWING)
    key = content_key(case.name)
    print("HYBRID_WRAPPED: dict[str, bytes] = {")
    for name in case.recipients:
        wrapped = dkey(name, XWING).public_key.hpke_seal(key, CONTEXT.digest).hex()
        print(f'    "{name}": bytes.fromhex(')
        for i in range(0, len(wrapped), 88):
            print(f'        "{wrapped[i : i + 88]}"')
        print("    ),")
    print("}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--new-hybrid-stanzas"]:
        _new_hybrid_stanzas()
    else:
        print("usage: vectors_sealing.py --new-hybrid-stanzas", file=sys.stderr)
        raise SystemExit(2)
