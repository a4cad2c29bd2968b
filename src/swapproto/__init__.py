"""swapproto: secure bilateral exchanges of lists between parties who do not trust each other.

The most used names are re-exported here; every module documents its own API:
``encoding`` (SP-CMP), ``hashing``, ``merkle`` (RFC 9162), ``keys``, ``envelope``,
``records``, ``manifest`` / ``manifest_file``, ``disclosure``, ``amendment`` /
``amendment_file``, ``terms``, ``sealing`` (HPKE), ``messages``, ``handshake``
(sans-IO), ``transcript`` and ``exchange_dir``. The specification is in ``spec/``.

Where to start:

* a list: records from :mod:`swapproto.records` (``to_canonical(Remains(...))``,
  ``canonical_from_row``), then :func:`build_manifest_file` and
  :func:`verify_manifest_file`;
* one entry proven on a list: :func:`collect_for_disclosure`, :func:`make_disclosure`,
  :func:`verify_disclosure`, and :func:`tie_disclosure` to tie it to the list revealed
  in an exchange (:func:`tie_amendment` for a later version);
* version n+1 of a list: :func:`amend_manifest_file`, :func:`verify_amendment`,
  :func:`check_revision`;
* an exchange: :class:`Party` and :class:`Observer` (sans-IO), :func:`reveal_content`
  (what a reveal publishes), :class:`ExchangeDir` (files), :func:`verify_transcript`
  with a :class:`RecipientOpener`.

Every ``verify_*`` returns a ``Verified*`` value or raises; every error raised for
input data is a :class:`SwapprotoError` with a stable ``code`` (the sealing errors
:class:`SealingError`, :class:`SealedDataError` and :class:`NotARecipientError` live in
:mod:`swapproto.sealing`, the others in :mod:`swapproto.errors`).
"""

from __future__ import annotations

from swapproto.amendment import (
    RemovalReason,
    VerifiedAmendment,
    check_revision,
    verify_amendment,
)
from swapproto.amendment_file import amend_manifest_file
from swapproto.disclosure import (
    VerifiedDisclosure,
    collect_for_disclosure,
    make_disclosure,
    verify_disclosure,
)
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
from swapproto.exchange_dir import ExchangeDir, RecipientOpener
from swapproto.exchange_tie import ListVersions, tie_amendment, tie_disclosure
from swapproto.handshake import Observer, Party, completeness_statement
from swapproto.hashing import Tag, fingerprint, tagged_hash
from swapproto.keys import (
    DecryptionKey,
    EncryptionPublicKey,
    KeyBundle,
    PublicKey,
    RolePolicy,
    SigningKey,
    TrustPolicy,
)
from swapproto.manifest import VerifiedHeader
from swapproto.manifest_file import ManifestReader, build_manifest_file, verify_manifest_file
from swapproto.merkle import MerkleTree, StreamingRootBuilder
from swapproto.reveal import reveal_content
from swapproto.sealing import NotARecipientError, SealedDataError, SealingError
from swapproto.terms import Terms, compile_terms, evaluate_list, verify_list
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
    "KeyBundle",
    "KeyFileError",
    "ListVersions",
    "LocalProtocolError",
    "ManifestReader",
    "MerkleTree",
    "NotARecipientError",
    "Observer",
    "Party",
    "PolicyError",
    "ProofError",
    "ProtocolError",
    "PublicKey",
    "RecipientOpener",
    "RemoteProtocolError",
    "RemovalReason",
    "RolePolicy",
    "SealedDataError",
    "SealingError",
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
    "VerifiedAmendment",
    "VerifiedDisclosure",
    "VerifiedHeader",
    "__version__",
    "amend_manifest_file",
    "build_manifest_file",
    "check_revision",
    "collect_for_disclosure",
    "compile_terms",
    "completeness_statement",
    "decode",
    "encode",
    "evaluate_list",
    "fingerprint",
    "make_disclosure",
    "reveal_content",
    "sign_envelope",
    "tagged_hash",
    "tie_amendment",
    "tie_disclosure",
    "verify_amendment",
    "verify_disclosure",
    "verify_envelope",
    "verify_list",
    "verify_manifest_file",
    "verify_transcript",
]

__version__ = "0.1.0"
