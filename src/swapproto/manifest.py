"""Signed manifests: salted entries in an RFC 9162 tree under a signed header.

A manifest is a list of *entries* ``(index, kind, record, salt)``; each entry's SP-CMP
encoding is a Merkle leaf, and the issuer signs a *header* carrying the root, the
count and what the list is (``spec/manifest.md``). Everything here streams: entries are
written and read one at a time, so building or verifying a 1,000,000-entry manifest
never holds the records as Python objects, and verification keeps only O(log n)
hashes.

The file layout (:mod:`swapproto.manifest_file`) puts the header first; this module
holds the values, the leaf encoding, the streaming builder and the entry checks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import msgpack

from swapproto import records
from swapproto._recordspec import FieldError, check_text
from swapproto.encoding import DecodeLimits, decode, encode, is_plain_map, strict_packer
from swapproto.envelope import SignedEnvelope, VerifiedPayload, sign_envelope, verify_envelope
from swapproto.errors import DecodeError, ErrorCode, InputError, VerificationError
from swapproto.hashing import Tag, tagged_hash
from swapproto.keys import PublicKey, RolePolicy, SigningKey
from swapproto.merkle import LEAF_PREFIX, StreamingRootBuilder

__all__ = [
    "HEADER_TYPE",
    "SALT_SIZE",
    "BuildWarning",
    "BuilderState",
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

_unpackb: Final = msgpack.unpackb
_packb: Final = msgpack.packb
_UnpackException: Final = msgpack.UnpackException
_sha256: Final = hashlib.sha256
_blake2b: Final = hashlib.blake2b
# The fixed bytes of an entry {"i": index, "k": kind, "r": record, "s": salt} (a map
# of 4, its keys, the bin 8 header of the salt), between which the values go.
_ENTRY_I: Final = b"\x84\xa1i"
_ENTRY_K: Final = b"\xa1k"
_ENTRY_R: Final = b"\xa1r"
_ENTRY_S: Final = b"\xa1s\xc4\x20"

HEADER_TYPE: Final = "swapproto/manifest-header/v1"
"""The envelope payload type of a signed manifest header."""
FORMAT_VERSION: Final = 1
SALT_SIZE: Final = 32
_SALT_BATCH: Final = 4096
MAX_WARNINGS: Final = 1000
"""Warnings kept in full; :attr:`ManifestBuilder.warning_count` counts them all."""
_ENTRY_KEYS: Final = ["i", "k", "r", "s"]
_HEADER_KEYS: Final = frozenset(
    {
        "count",
        "created_at",
        "exchange",
        "format",
        "issuer",
        "kind",
        "list",
        "previous",
        "root",
        "version",
    }
)
ENTRY_LIMITS: Final = DecodeLimits(
    max_input=64 * 1024, max_depth=8, max_str=4096, max_bin=4096, max_array=256, max_map=64
)
"""Bounds for one entry: records are small, so anything larger is hostile."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestHeader:
    """The signed header of a manifest version."""

    exchange: bytes | None
    issuer: str
    list_name: str
    kind: str
    count: int
    root: bytes
    version: int = 1
    previous: bytes | None = None
    created_at: int = 0

    def to_payload(self) -> dict[str, Any]:
        """The canonical payload value (``spec/manifest.md`` §3)."""
        return {
            "count": self.count,
            "created_at": self.created_at,
            "exchange": self.exchange,
            "format": FORMAT_VERSION,
            "issuer": self.issuer,
            "kind": self.kind,
            "list": self.list_name,
            "previous": self.previous,
            "root": self.root,
            "version": self.version,
        }

    @classmethod
    def from_payload(cls, value: object) -> ManifestHeader:
        """Parse a *verified* payload value; raises on any structural problem."""
        if type(value) is not dict or set(value) != _HEADER_KEYS:
            raise _invalid("header fields are not exactly those of format 1")
        # type first: True == 1, and would be a second signed encoding of format 1
        if type(value["format"]) is not int or value["format"] != FORMAT_VERSION:
            raise _invalid(f"unsupported manifest format {value['format']!r}")
        checks = (
            ("count", int, None),
            ("created_at", int, None),
            ("version", int, None),
            ("issuer", str, None),
            ("kind", str, None),
            ("list", str, None),
            ("root", bytes, 32),
        )
        for name, typ, size in checks:
            if type(value[name]) is not typ or (size is not None and len(value[name]) != size):
                raise _invalid(f"header field {name!r} has the wrong type or size")
        for name in ("issuer", "kind", "list"):
            try:
                check_label(value[name])
            except InputError as exc:
                raise _invalid(f"header field {name!r} {exc.details['reason']}") from None
        for name in ("exchange", "previous"):
            if value[name] is not None and (
                type(value[name]) is not bytes or len(value[name]) != 32
            ):
                raise _invalid(f"header field {name!r} must be nil or 32 bytes")
        if value["count"] < 0 or value["version"] < 1 or value["created_at"] < 0:
            raise _invalid("header count, version or created_at out of range")
        if (value["version"] == 1) != (value["previous"] is None):
            raise _invalid("version 1 has no previous header; later versions must have one")
        return cls(
            exchange=value["exchange"],
            issuer=value["issuer"],
            list_name=value["list"],
            kind=value["kind"],
            count=value["count"],
            root=value["root"],
            version=value["version"],
            previous=value["previous"],
            created_at=value["created_at"],
        )

    @property
    def digest(self) -> bytes:
        """``tagged_hash(MANIFEST_HEADER, encode(payload))``: what amendments link to."""
        return header_digest(encode(self.to_payload()))


MAX_LABEL: Final = 200


def check_label(value: str) -> str:
    """Check a list name, issuer or kind label as shown to people (``spec/manifest.md`` §3).

    Non-empty, at most 200 characters, NFC, no control, formatting or bidirectional
    characters, no leading or trailing white space. ``InputError`` otherwise.
    """
    try:
        return check_text(value, MAX_LABEL)
    except FieldError as exc:
        raise InputError(
            f"label {value[:64]!r} {exc.reason}", code=ErrorCode.INPUT_INVALID, reason=exc.reason
        ) from None


def header_digest(payload_bytes: bytes) -> bytes:
    """The digest of a header's canonical payload bytes."""
    return tagged_hash(Tag.MANIFEST_HEADER, payload_bytes)


@dataclass(frozen=True, slots=True)
class VerifiedHeader:
    """A header whose envelope verified under the issuer's policy."""

    header: ManifestHeader
    envelope: SignedEnvelope
    verified: VerifiedPayload

    @property
    def digest(self) -> bytes:
        """The header digest, computed over the payload bytes that were signed."""
        return header_digest(self.verified.payload)


def role_policy_for(issuer: PublicKey | RolePolicy) -> RolePolicy:
    """A policy from one public key (threshold 1), or the policy given."""
    if isinstance(issuer, RolePolicy):
        return issuer
    return RolePolicy.of([issuer], 1)


def signers_policy(keys: Iterable[SigningKey]) -> RolePolicy:
    """The policy "every one of these keys signed" (to re-check one's own output)."""
    public = [k.public_key for k in keys]
    return RolePolicy.of(public, len({k.key_id for k in public}))


def verify_header(
    envelope: SignedEnvelope | bytes, issuer: PublicKey | RolePolicy
) -> VerifiedHeader:
    """Verify a header envelope's signatures, then parse the payload it signed."""
    env = envelope if isinstance(envelope, SignedEnvelope) else SignedEnvelope.from_bytes(envelope)
    verified = verify_envelope(env, role_policy_for(issuer), payload_type=HEADER_TYPE)
    return VerifiedHeader(ManifestHeader.from_payload(verified.value), env, verified)


# --- entries -------------------------------------------------------------------------


def encode_entry(index: int, kind: str, record: dict[str, Any], salt: bytes) -> bytes:
    """The leaf bytes of one entry: ``encode({"i": index, "k": kind, "r": record, "s": salt})``."""
    if len(salt) != SALT_SIZE:
        raise InputError("salt must be 32 bytes", code=ErrorCode.INPUT_INVALID)
    return encode({"i": index, "k": kind, "r": record, "s": salt})


@dataclass(frozen=True, slots=True)
class Entry:
    """One decoded, checked manifest entry."""

    index: int
    kind: str
    record: dict[str, Any]
    salt: bytes = field(repr=False)


def decode_entry(leaf: bytes) -> Entry:
    """Decode leaf bytes into an entry, checking canonical form and entry structure."""
    value = decode(leaf, limits=ENTRY_LIMITS)
    if type(value) is not dict or list(value) != _ENTRY_KEYS:
        raise _invalid("an entry must be a map with exactly the keys i, k, r, s")
    index, kind, record, salt = value["i"], value["k"], value["r"], value["s"]
    if type(index) is not int or index < 0:
        raise _invalid("entry index must be a non-negative integer")
    if type(kind) is not str or type(record) is not dict:
        raise _invalid("entry kind must be a string and its record a map")
    if type(salt) is not bytes or len(salt) != SALT_SIZE:
        raise _invalid("entry salt must be 32 bytes")
    return Entry(index, kind, record, salt)


def check_entry(leaf: bytes, *, index: int, kind: str) -> Entry:
    """Full check of one entry: canonical, well-formed, at ``index``, of ``kind``, valid record.

    Raises :class:`~swapproto.errors.VerificationError` (code ``verify.manifest_invalid``)
    naming the entry; the underlying decode or schema error is chained.
    """
    entry = _check_entry_fast(leaf, index, kind)
    if entry is not None:
        return entry
    try:
        entry = decode_entry(leaf)
        if entry.index != index:
            raise _invalid(f"entry at position {index} claims index {entry.index}")
        if entry.kind != kind:
            raise _invalid(f"entry kind {entry.kind!r} differs from the header's {kind!r}")
        records.validate_canonical(kind, entry.record)
    except VerificationError:
        raise
    except (DecodeError, InputError) as exc:
        raise VerificationError(
            f"entry {index} is invalid: {exc}",
            code=ErrorCode.VERIFY_MANIFEST,
            index=index,
            cause=exc.code,
        ) from exc
    return entry


def _check_entry_fast(leaf: bytes, index: int, kind: str) -> Entry | None:
    """The hot path of :func:`check_entry`; ``None`` means "let the slow path decide".

    It accepts exactly what the slow path accepts: msgpack's C decoder reads the leaf,
    re-encoding must give the identical bytes (shortest forms, no duplicate keys, no
    trailing bytes), the entry's shape is fixed, the record's keys must be sorted (a
    record with nested maps is left to the slow path), and
    the record validator checks every field's exact type, NFC and vocabulary (so
    floats, ext values, non-str keys and nesting cannot pass).
    """
    if len(leaf) > ENTRY_LIMITS.max_input:
        return None
    try:
        value = _unpackb(leaf, raw=False)
        if type(value) is not dict or _packb(value, use_bin_type=True) != leaf:
            return None
        if list(value) != _ENTRY_KEYS:
            return None
        i, k, r, salt = value["i"], value["k"], value["r"], value["s"]
        if i != index or type(i) is not int or k != kind or type(k) is not str:
            return None
        if type(salt) is not bytes or len(salt) != SALT_SIZE or type(r) is not dict:
            return None
        keys = list(r)
        if keys != sorted(keys):
            return None
        # msgpack keeps a map's key order, so only the top-level and record maps are
        # checked for sorted keys here; a record with nested maps (evidence items) goes
        # to the strict decoder, which checks every map
        for v in r.values():
            if type(v) is dict or (type(v) is list and any(type(x) is dict for x in v)):
                return None
        records.validate_canonical(kind, r)
    except (ValueError, TypeError, OverflowError, InputError, _UnpackException):
        return None
    return Entry(i, k, r, salt)


def _invalid(message: str) -> VerificationError:
    return VerificationError(message, code=ErrorCode.VERIFY_MANIFEST)


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
            self._salts = self._salt_source(SALT_SIZE * _SALT_BATCH)
            if len(self._salts) != SALT_SIZE * _SALT_BATCH:
                raise InputError("salt source returned the wrong number of bytes")
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
            values = list(map(_unpackb, encodings))
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
            return encode_entry(index, self.kind, _unpackb(encoded), salt)  # may refuse
        return b"".join((_ENTRY_I, pack(index), _ENTRY_K, kind, _ENTRY_R, encoded, _ENTRY_S, salt))

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
            except TypeError:
                pass  # a str subclass: encode_entry refuses it
        return encode_entry(index, self.kind, record, salt)

    def _check_duplicates(self, index: int, record: Mapping[str, Any]) -> None:
        rid = record.get(self._id_field) if type(record) is dict else None
        if type(rid) is not str:
            rid = records.id_from(record, self._kind_name, self._id_field)  # raises if missing
        first = self._ids.setdefault(rid, index)
        if first != index:
            raise InputError(
                f"record id {rid!r} appears at entries {first} and {index}",
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
        """Sign the header for everything added so far."""
        return sign_envelope(
            HEADER_TYPE, self.header(created_at=created_at).to_payload(), list(keys)
        )


def iter_checked_entries(leaves: Iterable[bytes], header: ManifestHeader) -> Iterator[Entry]:
    """Check every leaf in order against the header's kind; yield the entries."""
    for index, leaf in enumerate(leaves):
        yield check_entry(leaf, index=index, kind=header.kind)


def require(condition: bool, message: str, code: ErrorCode = ErrorCode.VERIFY_MANIFEST) -> None:
    """Raise a :class:`VerificationError` unless ``condition`` holds."""
    if not condition:
        raise VerificationError(message, code=code)
