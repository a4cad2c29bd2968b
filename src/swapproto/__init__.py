"""swapproto: secure bilateral exchanges of lists between parties who do not trust each other.

The most used names are re-exported here; every module documents its own API:
``encoding`` (SP-CMP), ``hashing``, ``merkle`` (RFC 9162), ``keys``, ``envelope``,
``records``, ``manifest`` / ``manifest_file``, ``disclosure``, ``amendment``, ``terms``,
``sealing`` (HPKE), ``messages``, ``handshake`` (sans-IO), ``transcript`` and
``exchange_dir``. The specification is in ``spec/``.
"""

from __future__ import annotations

from swapproto.disclosure import make_disclosure, verify_disclosure
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.envelope import SignedEnvelope, sign_envelope, verify_envelope
from swapproto.errors import (
    DecodeError,
    EncodeError,
    ErrorCode,
    InputError,
    KeyFileError,
    LocalProtocolError,
    PolicyError,
    ProofError,
    ProtocolError,
    RemoteProtocolError,
    SignatureError,
    SwapprotoError,
    ThresholdError,
    VerificationError,
)
from swapproto.exchange_dir import ExchangeDir
from swapproto.handshake import Observer, Party
from swapproto.hashing import Tag, fingerprint, tagged_hash
from swapproto.keys import (
    DecryptionKey,
    EncryptionPublicKey,
    PublicKey,
    RolePolicy,
    SigningKey,
    TrustPolicy,
)
from swapproto.manifest_file import ManifestReader, build_manifest_file, verify_manifest_file
from swapproto.merkle import MerkleTree, StreamingRootBuilder
from swapproto.terms import Terms, compile_terms, evaluate_list
from swapproto.transcript import TranscriptReport, verify_transcript

__all__ = [
    "DecodeError",
    "DecodeLimits",
    "DecryptionKey",
    "EncodeError",
    "EncryptionPublicKey",
    "ErrorCode",
    "ExchangeDir",
    "InputError",
    "KeyFileError",
    "LocalProtocolError",
    "ManifestReader",
    "MerkleTree",
    "Observer",
    "Party",
    "PolicyError",
    "ProofError",
    "ProtocolError",
    "PublicKey",
    "RemoteProtocolError",
    "RolePolicy",
    "SignatureError",
    "SignedEnvelope",
    "SigningKey",
    "StreamingRootBuilder",
    "SwapprotoError",
    "Tag",
    "Terms",
    "ThresholdError",
    "TranscriptReport",
    "TrustPolicy",
    "VerificationError",
    "__version__",
    "build_manifest_file",
    "compile_terms",
    "decode",
    "encode",
    "evaluate_list",
    "fingerprint",
    "make_disclosure",
    "sign_envelope",
    "tagged_hash",
    "verify_disclosure",
    "verify_envelope",
    "verify_manifest_file",
    "verify_transcript",
]

__version__ = "0.1.0"
