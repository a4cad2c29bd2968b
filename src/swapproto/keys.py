"""Keys: signing and encryption keys, key ids, key files, trust policies (one import).

Normative text: ``spec/keys.md``. This module holds no code of its own; it re-exports
the four key modules, so ``from swapproto.keys import ...`` keeps working for every
name below:

- signing keys (``KeyAlgorithm``, ``PublicKey``, ``SigningKey``, ``ML_DSA_CONTEXT``;
  §1.1, §2.1, §2.3, §3): ``ed25519`` and the hybrid ``ed25519+ml-dsa-65``, whose
  signatures verify only when *both* components verify. They live in the private
  :mod:`swapproto._signing_keys`; import them from here.
- encryption keys (``EncryptionSuite``, ``EncryptionPublicKey``, ``DecryptionKey``,
  ``HPKE_SUITE_IDS``; §1.2, §2.2, §2.3, §3): :mod:`swapproto.encryption_keys`, the HPKE
  (RFC 9180) suites ``x25519`` (the default) and the hybrid ``mlkem768-x25519``.
- key files (``NAME.key``, ``NAME.pub``, ``KeyBundle``, ``PublicKeyBundle`` and the
  ``load_*``/``write_*``/``parse_*`` functions; §4, §5): :mod:`swapproto.key_files`.
- trust policies (``RolePolicy``, ``TrustPolicy``; §6): :mod:`swapproto.trust_policy`.

A public key is named by its key id, the tagged hash of its canonical public key record.
Everything is pure except the ``write_*``/``load_*`` file helpers.
"""

from __future__ import annotations

from swapproto._signing_keys import ML_DSA_CONTEXT, KeyAlgorithm, PublicKey, SigningKey
from swapproto.encryption_keys import (
    HPKE_SUITE_IDS,
    DecryptionKey,
    EncryptionPublicKey,
    EncryptionSuite,
)
from swapproto.key_files import (
    PUBLIC_KEY_FORMAT,
    KeyBundle,
    PublicKeyBundle,
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
from swapproto.trust_policy import RolePolicy, TrustPolicy

__all__ = [
    "HPKE_SUITE_IDS",
    "ML_DSA_CONTEXT",
    "PUBLIC_KEY_FORMAT",
    "DecryptionKey",
    "EncryptionPublicKey",
    "EncryptionSuite",
    "KeyAlgorithm",
    "KeyBundle",
    "PublicKey",
    "PublicKeyBundle",
    "RolePolicy",
    "SigningKey",
    "TrustPolicy",
    "load_key_bundle",
    "load_public_key",
    "load_public_key_bundle",
    "load_signing_key",
    "parse_public_key_bundle",
    "parse_public_key_document",
    "public_key_document",
    "write_key_pair",
    "write_public_key",
    "write_signing_key",
]
