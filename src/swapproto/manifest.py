"""Signed manifests: salted entries in an RFC 9162 tree under a signed header.

A manifest is a list of *entries* ``(index, kind, record, salt)``; each entry's SP-CMP
encoding is a Merkle leaf, and the issuer signs a *header* carrying the root, the
count and what the list is (``spec/manifest.md``). Everything here streams: entries are
written and read one at a time, so building or verifying a 1,000,000-entry manifest
never holds the records as Python objects, and verification keeps only O(log n)
hashes.

The file layout (:mod:`swapproto.manifest_file`) puts the header first; this module
holds the streaming builder and re-exports the header (:mod:`swapproto._manifest_header`)
and the entry encoding and checks (:mod:`swapproto._manifest_entry`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from swapproto import records
from swapproto._manifest_entry import (
    ENTRY_I,
    ENTRY_K,
    ENTRY_LIMITS,
    ENTRY_R,
    ENTRY_S,
    SALT_SIZE,
    Entry,
    check_entry,
    decode_entry,
    encode_entry,
)
from swapproto._manifest_header import (
    FORMAT_VERSION,
    HEADER_TYPE,
    MAX_LABEL,
    ManifestHeader,
    VerifiedHeader,
    check_label,
    header_digest,
    role_policy_for,
    signers_policy,
    verify_header,
)
from swapproto.encoding import decode, is_plain_map, strict_packer
from swapproto.envelope import SignedEnvelope, sign_envelope
from swapproto.errors import EncodeError, ErrorCode, InputError, VerificationError
from swapproto.keys import SigningKey
from swapproto.merkle import LEAF_PREFIX, StreamingRootBuilder

__all__ = [
    "ENTRY_LIMITS",
    "FORMAT_VERSION",
    "HEADER_TYPE",
    "MAX_LABEL",
    "SALT_SIZE",
    "BuildWarning",
    "BuilderState",
    "Entry",
    "ManifestBuilder",
    "ManifestHeader",
    "VerifiedHeader",
    "check_entry",
    "check_label",
    "decode_entry",
    "encode_entry",
    "header_digest",
    "identity_fingerprint",
    "role_policy_for",
    "signers_policy",
    "verify_header",
]

_sha256: Final = hashlib.sha256
_blake2b: Final = hashlib.blake2b
_SALT_BATCH: Final = 4096
MAX_WARNINGS: Final = 1000
"""Warnings kept in full; :attr:`ManifestBuilder.warning_count` counts them all."""


# --- building --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildWarning:
    """Something worth a human look, that does not stop the build."""

    code: str
    message: str
    indices: tuple[int, ...]


SaltSource = Callable[[int], bytes]


@dataclass(slots=True)
class BuilderState:
    """What a :class:`ManifestBuilder` has accumulated, and its kind's id and identity
    fields: everything but its sink and labels.

    Picklable (with a picklable salt source), so a build can move to another process
    and go on exactly where it was (:mod:`swapproto._manifest_parallel`), even for a
    kind registered only in this one.
    """

    id_field: str
    identity_fields: tuple[str, ...] | None
    ids: dict[str, int]
    identities: dict[bytes, int]
    tree: StreamingRootBuilder
    salts: bytes
    salt_pos: int
    salt_source: SaltSource
    warnings: list[BuildWarning]
    warning_count: int


def _decoded_record(encoded: bytes) -> dict[str, Any]:
    """A record from its canonical encoding: strictly decoded, so malformed or
    non-canonical bytes are a ``DecodeError``, and anything but a map an ``EncodeError``
    (as encoding it would be)."""
    value = decode(encoded)
    if type(value) is not dict:
        raise EncodeError("a record encodes a map", code=ErrorCode.ENCODE_TYPE)
    return value


def identity_fingerprint(identity: str) -> bytes:
    """8 bytes standing for an identity (:func:`swapproto.records.identity_text`).

    Stable across processes (unlike ``hash()``). Different identities collide with
    negligible probability, and a collision can only add a spurious warning.
    """
    return _blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class ManifestBuilder:
    """Streams entries into a sink and produces the signed header at the end.

    ``sink`` receives each leaf as it is made (the file layer frames and writes it);
    only O(log n) hashes, the set of record ids and one small fingerprint per identity
    are kept. Salts come from ``salt_source`` (default ``os.urandom``), drawn in batches.
    """

    def __init__(
        self,
        *,
        kind: str,
        list_name: str,
        issuer: str,
        sink: Callable[[bytes], object],
        exchange: bytes | None = None,
        salt_source: SaltSource = os.urandom,
        version: int = 1,
        previous: bytes | None = None,
    ) -> None:
        record_kind = records.get_kind(kind)
        self._setup(kind, list_name, issuer, sink, exchange, version, previous)
        self.restore(
            BuilderState(
                record_kind.id_field,
                record_kind.identity_fields,
                {},
                {},
                StreamingRootBuilder(),
                b"",
                0,
                salt_source,
                [],
                0,
            )
        )

    @classmethod
    def resume(
        cls,
        state: BuilderState,
        *,
        kind: str,
        list_name: str,
        issuer: str,
        sink: Callable[[bytes], object],
        exchange: bytes | None = None,
        version: int = 1,
        previous: bytes | None = None,
    ) -> ManifestBuilder:
        """A builder going on from ``state``, with the labels of the one it came from.

        The kind's fields come with the state: the kind need not be registered here.
        """
        builder = cls.__new__(cls)
        builder._setup(kind, list_name, issuer, sink, exchange, version, previous)
        builder.restore(state)
        return builder

    def _setup(
        self,
        kind: str,
        list_name: str,
        issuer: str,
        sink: Callable[[bytes], object],
        exchange: bytes | None,
        version: int,
        previous: bytes | None,
    ) -> None:
        self.kind = kind
        self._kind_name = str(getattr(kind, "name", kind))
        self.list_name = check_label(list_name)
        self.issuer = check_label(issuer)
        self.exchange = exchange
        self.version = version
        self.previous = previous
        self._sink = sink
        # The entry fast path packs {"i", "k", "r", "s"} directly (see _leaf).
        self._pack = strict_packer() if type(kind) is str else None
        self._packed_kind = self._pack(kind) if self._pack is not None else None

    def state(self) -> BuilderState:
        """The accumulated state (shared, not copied): to continue the build elsewhere."""
        return BuilderState(
            self._id_field,
            self._identity_fields,
            self._ids,
            self._identities,
            self._tree,
            self._salts,
            self._salt_pos,
            self._salt_source,
            self.warnings,
            self.warning_count,
        )

    def restore(self, state: BuilderState) -> None:
        """Continue from ``state``, taken from a builder with the same kind and labels."""
        self._id_field = state.id_field
        self._identity_fields = state.identity_fields
        self._ids = state.ids
        self._identities = state.identities
        self._tree = state.tree
        self._salts = state.salts
        self._salt_pos = state.salt_pos
        self._salt_source = state.salt_source
        self.warnings = state.warnings
        self.warning_count = state.warning_count

    @property
    def count(self) -> int:
        """Entries added so far."""
        return self._tree.size

    def _salt(self) -> bytes:
        if self._salt_pos >= len(self._salts):
            salts = self._salt_source(SALT_SIZE * _SALT_BATCH)
            if type(salts) is not bytes or len(salts) != SALT_SIZE * _SALT_BATCH:
                raise InputError("salt source must return exactly the bytes asked for")
            self._salts = salts
            self._salt_pos = 0
        start = self._salt_pos
        self._salt_pos += SALT_SIZE
        return self._salts[start : self._salt_pos]

    def add(self, record: dict[str, Any], *, salt: bytes | None = None) -> bytes:
        """Add one canonical record (already validated for this kind); return its leaf.

        Raises :class:`~swapproto.errors.InputError` (``input.duplicate``) when its id
        repeats; the same identity under another id is recorded as a warning.
        """
        index = self._tree.size
        self._check_duplicates(index, record)
        leaf = self._leaf(index, record, self._salt() if salt is None else salt)
        self._tree.add_leaf_hash(_sha256(LEAF_PREFIX + leaf).digest())
        self._sink(leaf)
        return leaf

    @property
    def checked_fields(self) -> tuple[str, ...]:
        """The fields the duplicate checks read: the id field, then the identity fields."""
        return (self._id_field, *(self._identity_fields or ()))

    def add_encoded(
        self,
        encodings: Sequence[bytes],
        *,
        salts: Sequence[bytes | None] | None = None,
        values: Sequence[Mapping[str, object]] | None = None,
    ) -> None:
        """:meth:`add` for records given as their canonical encodings, ``encode(record)``.

        Each goes through the steps of :meth:`add` in the same order with the same errors
        and gives the same leaf; an error for one is raised once the ones before it are
        added. ``salts`` holds a salt to keep, or None, per record. The leaves are
        assembled around the encodings, which are trusted to be canonical (they come
        from :func:`~swapproto.encoding.encode` in the caller, for example in another
        process). ``values`` are the records, or mappings holding at least their
        :attr:`checked_fields`, for the duplicate checks; without them the encodings
        are decoded.
        """
        if values is None:
            values = [_decoded_record(e) for e in encodings]
        start = self._tree.size
        check, draw, entry = self._check_duplicates, self._salt, self._entry_around
        leaves: list[bytes] = []
        error: Exception | None = None
        try:
            for offset, value in enumerate(values):
                check(start + offset, value)
                salt = draw() if salts is None or salts[offset] is None else salts[offset]
                leaves.append(entry(start + offset, encodings[offset], salt))  # type: ignore[arg-type]
        except Exception as exc:  # raised once the entries before it are added
            error = exc
        sha = _sha256
        self._tree.add_leaf_hashes([sha(LEAF_PREFIX + leaf).digest() for leaf in leaves])
        sink = self._sink
        for leaf in leaves:
            sink(leaf)
        if error is not None:
            raise error

    def _entry_around(self, index: int, encoded: bytes, salt: bytes) -> bytes:
        """:func:`encode_entry` of the record whose canonical encoding is ``encoded``.

        An entry is the map ``{"i", "k", "r", "s"}``: its bytes are the fixed ones of
        the map and its keys, around the encodings of the values.
        """
        pack, kind = self._pack, self._packed_kind
        if pack is None or kind is None or type(salt) is not bytes or len(salt) != SALT_SIZE:
            return encode_entry(index, self.kind, _decoded_record(encoded), salt)  # may refuse
        return b"".join((ENTRY_I, pack(index), ENTRY_K, kind, ENTRY_R, encoded, ENTRY_S, salt))

    def add_all(self, rows: Iterable[dict[str, Any]]) -> None:
        """Add many records."""
        add = self.add
        for record in rows:
            add(record)

    def _leaf(self, index: int, record: dict[str, Any], salt: bytes) -> bytes:
        """:func:`encode_entry`, packing plain records directly (the same bytes)."""
        pack = self._pack
        if (
            pack is not None
            and type(salt) is bytes
            and len(salt) == SALT_SIZE
            and type(record) is dict
            and is_plain_map(record)
        ):
            try:
                return pack({"i": index, "k": self.kind, "r": record, "s": salt})
            except (TypeError, UnicodeEncodeError):
                pass  # a str subclass, a lone surrogate: encode_entry refuses it, typed
        return encode_entry(index, self.kind, record, salt)

    def _check_duplicates(self, index: int, record: Mapping[str, Any]) -> None:
        rid = record.get(self._id_field) if type(record) is dict else None
        if type(rid) is not str:
            rid = records.id_from(record, self._kind_name, self._id_field)  # raises if missing
        first = self._ids.setdefault(rid, index)
        if first != index:
            raise InputError(
                f"record id ({self._id_field}) of entry {index} repeats entry {first}'s",
                code=ErrorCode.INPUT_DUPLICATE,
                indices=(first, index),
            )
        identity = records.identity_text(record, self._identity_fields)
        if identity is not None:
            # A fingerprint of the identity keeps memory small; a collision can only
            # produce a spurious warning, never a missed duplicate id.
            other = self._identities.setdefault(identity_fingerprint(identity), index)
            if other != index:
                self.warning_count += 1
                if len(self.warnings) >= MAX_WARNINGS:
                    return
                self.warnings.append(
                    BuildWarning(
                        "possible_duplicate_person",
                        f"entries {other} and {index} have the same names and date of birth",
                        (other, index),
                    )
                )

    def header(self, *, created_at: int) -> ManifestHeader:
        """The header for everything added so far."""
        return ManifestHeader(
            exchange=self.exchange,
            issuer=self.issuer,
            list_name=self.list_name,
            kind=self.kind,
            count=self._tree.size,
            root=self._tree.root(),
            version=self.version,
            previous=self.previous,
            created_at=created_at,
        )

    def sign(self, keys: Iterable[SigningKey], *, created_at: int) -> SignedEnvelope:
        """Sign the header for everything added so far.

        A header that verification would refuse (``created_at`` before 1970, say) is an
        ``InputError`` (``input.invalid``): it is never signed.
        """
        payload = self.header(created_at=created_at).to_payload()
        try:
            ManifestHeader.from_payload(payload)
        except VerificationError as exc:
            message = f"the header would be refused: {exc.args[0]}"
            raise InputError(message, code=ErrorCode.INPUT_INVALID) from None
        return sign_envelope(HEADER_TYPE, payload, list(keys))
