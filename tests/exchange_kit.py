"""A kit for handshake, transcript and attack tests (imported as ``exchange_kit``).

Everything is deterministic: keys come from fixed seeds, manifest salts and commitment
nonces are derived from fixed labels, times are constants and Ed25519 is deterministic,
so an unsealed exchange is byte-for-byte the same on every run (sealing draws a fresh
content key, so sealed blobs differ between runs; their checks do not).

* :func:`make_terms`: small terms (one list ``pows`` from both parties), sealed or not,
  with a mediator, optionally a second key and threshold for party a, another rule, or
  a commission that must co-sign the lists;
* :func:`build_list`: a party's signed manifest (20 prisoner records by default), bound
  to the terms, built in memory;
* :func:`run_exchange`: an honest exchange up to a given step, returning the message
  envelopes in order, the revealed blobs and the terms;
* :class:`Link`: two parties and an observer joined by a fake link (h11 style);
* :func:`forge` and :func:`resign`: signed messages with any content, for attacks
  (:func:`statement_for` gives the commit statement a receiver accepts);
* :func:`verify`, :func:`failures`, :func:`evidence_of`: transcript reports, briefly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, BinaryIO, Final

from swapproto.demo_data import prisoner_rows
from swapproto.encoding import decode
from swapproto.envelope import SignedEnvelope, sign_envelope
from swapproto.handshake import Event, Observer, Party, completeness_statement
from swapproto.keys import DecryptionKey, KeyBundle, SigningKey
from swapproto.manifest_file import build_manifest
from swapproto.messages import MessageType, make_message
from swapproto.records import canonical_from_row
from swapproto.reveal import reveal_content
from swapproto.terms import PinnedKey, Terms, terms_from_toml
from swapproto.transcript import Check, TranscriptReport, verify_transcript

# --- time -------------------------------------------------------------------------------

REFERENCE: Final = dt.date(2025, 6, 2)
NOW: Final = 1748908800  # 2025-06-03T00:00:00Z: before both deadlines
COMMIT_BY: Final = 1749427200  # 2025-06-09T00:00:00Z
REVEAL_BY: Final = 1749686400  # 2025-06-12T00:00:00Z
AFTER_REVEAL_BY: Final = 1749772800  # 2025-06-13T00:00:00Z
LIST: Final = "pows"
ENTRIES: Final = 20
SIDE_OF: Final = {"a": "ua", "b": "ru"}

# --- keys -------------------------------------------------------------------------------


def seed(label: str) -> bytes:
    """A fixed 32-byte seed derived from ``label`` (never do this outside tests)."""
    return hashlib.sha256(b"swapproto test seed " + label.encode()).digest()


@dataclass(frozen=True, slots=True)
class Keys:
    """The signing and decryption keys of everyone in the kit's exchanges."""

    a: SigningKey
    a2: SigningKey
    b: SigningKey
    mediator: SigningKey
    commission: SigningKey
    outsider: SigningKey
    a_dec: DecryptionKey
    a2_dec: DecryptionKey
    b_dec: DecryptionKey
    mediator_dec: DecryptionKey
    commission_dec: DecryptionKey
    outsider_dec: DecryptionKey

    def signing(self, role: str) -> list[SigningKey]:
        """The keys a party signs with by default."""
        return [self.a] if role == "a" else [self.b] if role == "b" else [self.mediator]

    def bundle(self, name: str) -> KeyBundle:
        """A key bundle (signing + decryption) as a recipient opener needs."""
        return KeyBundle(getattr(self, name), getattr(self, f"{name}_dec"))

    def pinned(self, name: str) -> PinnedKey:
        """The pinned (public) form of a key, as the terms name it."""
        signing: SigningKey = getattr(self, name)
        decryption: DecryptionKey = getattr(self, f"{name}_dec")
        return PinnedKey(signing.public_key, decryption.public_key, source=name)


@cache
def keys() -> Keys:
    """The kit's keys, from fixed seeds."""
    names = ("a", "a2", "b", "mediator", "commission", "outsider")
    found: dict[str, Any] = {n: SigningKey.from_seed(seed(f"sign {n}")) for n in names}
    found.update({f"{n}_dec": DecryptionKey.from_seed(seed(f"decrypt {n}")) for n in names})
    return Keys(**found)


# --- terms ------------------------------------------------------------------------------

TERMS_TOML: Final = """\
[exchange]
label = "{label}"
reference_date = "2025-06-02"
commit_by = "2025-06-09T00:00:00Z"
reveal_by = "2025-06-12T00:00:00Z"
sealed = {sealed}

[parties.a]
name = "Ukraine"
keys = [{a_keys}]
threshold = {a_threshold}

[parties.b]
name = "Russian Federation"
keys = ["b"]

[[mediators]]
name = "Turkiye"
keys = ["mediator"]

{commissions}[[lists]]
name = "pows"
kind = "prisoner"
from = "both"
rule = "{rule}"
{count}{signed_by}eligible_any = ["seriously_ill", "seriously_wounded", "age_18_25"]
"""

COMMISSION_NAME: Final = "Mixed Medical Commission"
COMMISSION: Final = f"""\
[[commissions]]
name = "{COMMISSION_NAME}"
keys = ["commission"]

"""


def terms_text(
    *,
    sealed: bool = False,
    a_keys: Sequence[str] = ("a",),
    a_threshold: int = 1,
    rule: str = "all-for-all",
    count: int | None = None,
    label: str = "Kit exchange",
    commission: bool = False,
) -> str:
    """The TOML of the kit's terms; key names are attributes of :class:`Keys`."""
    count_line = ""
    if count is not None:
        key = "count" if rule in ("exact-count", "min-count") else "min_count"
        count_line = f"{key} = {count}\n"
    return TERMS_TOML.format(
        label=label,
        sealed="true" if sealed else "false",
        a_keys=", ".join(f'"{k}"' for k in a_keys),
        a_threshold=a_threshold,
        rule=rule,
        count=count_line,
        commissions=COMMISSION if commission else "",
        signed_by=f'signed_by = "{COMMISSION_NAME}"\n' if commission else "",
    )


@cache
def make_terms(
    *,
    sealed: bool = False,
    a_keys: tuple[str, ...] = ("a",),
    a_threshold: int = 1,
    rule: str = "all-for-all",
    count: int | None = None,
    label: str = "Kit exchange",
    commission: bool = False,
) -> Terms:
    """Terms for one list ``pows`` from both parties, with mediator ``Turkiye`` (and,
    with ``commission``, a commission that must co-sign every list)."""
    text = terms_text(
        sealed=sealed,
        a_keys=a_keys,
        a_threshold=a_threshold,
        rule=rule,
        count=count,
        label=label,
        commission=commission,
    )
    return terms_from_toml(text, load_key=lambda name, _where: keys().pinned(name))


# --- lists ------------------------------------------------------------------------------


def salt_source(label: str) -> Callable[[int], bytes]:
    """Salts derived from ``label`` and a counter (never do this outside tests)."""
    counter = iter(range(1 << 30))

    def source(n: int) -> bytes:
        return b"".join(
            hashlib.sha256(f"{label} salt {next(counter)}".encode()).digest()
            for _ in range(n // 32)
        )

    return source


def prisoner_records(role: str, n: int = ENTRIES) -> list[dict[str, Any]]:
    """``n`` canonical prisoner records of party ``role``, all eligible."""
    rows = prisoner_rows(n, side=SIDE_OF[role], reference=REFERENCE)
    return [canonical_from_row("prisoner", row) for row in rows]


def ineligible_record(role: str) -> dict[str, Any]:
    """A prisoner in none of the agreed categories (48 years old, neither ill nor wounded)."""
    row = next(prisoner_rows(1, side=SIDE_OF[role], seed=99, reference=REFERENCE))
    row = {**row, "categories": "", "date_of_birth": "1977-01-01"}
    return canonical_from_row("prisoner", row)


@dataclass(frozen=True, slots=True)
class BuiltList:
    """A party's manifest: file bytes, signed header envelope bytes and header digest."""

    data: bytes
    header: bytes
    digest: bytes
    count: int


def build_list(
    terms: Terms,
    role: str,
    *,
    records: Iterable[dict[str, Any]] | None = None,
    signers: Sequence[SigningKey] | None = None,
    list_name: str = LIST,
    exchange: bytes | None = None,
    label: str = "",
) -> BuiltList:
    """Build and sign ``role``'s manifest for ``list_name``, bound to the terms' exchange."""
    rows = list(prisoner_records(role) if records is None else records)
    out = io.BytesIO()
    result = build_manifest(
        out,
        rows,
        kind="prisoner",
        list_name=list_name,
        issuer=role,
        keys=list(signers or keys().signing(role)),
        created_at=NOW,
        exchange=terms.exchange_id if exchange is None else exchange,
        salt_source=salt_source(f"{role}/{list_name}/{label}"),
    )
    verified = result.verified
    return BuiltList(out.getvalue(), verified.envelope.to_bytes(), verified.digest, len(rows))


def nonce_for(role: str, label: str = "") -> bytes:
    """The commitment nonce of ``role`` in the kit (fixed; real nonces are random)."""
    return hashlib.sha256(f"swapproto test nonce {role} {label}".encode()).digest()


def statement_for(
    terms: Terms, role: str, when: int = NOW, list_name: str = LIST
) -> dict[str, Any] | None:
    """The ``statement`` member of ``role``'s commit dated ``when``: the completeness
    statement under ``all-for-all``, else ``None`` (``spec/handshake.md`` §3.6)."""
    text = completeness_statement(terms, role, list_name, when)
    return None if text is None else {"as_of": when, "text": text}


def content_for(
    terms: Terms, role: str, data: bytes, list_name: str = LIST
) -> tuple[dict[str, Any], bytes]:
    """A reveal's ``content`` member and the blob, sealed when the terms say so."""
    return reveal_content(data, terms, role, list_name)


class MemoryBlobs:
    """A :class:`~swapproto.transcript.BlobSource` over a dict of blobs by SHA-256."""

    def __init__(self, blobs: Mapping[bytes, bytes] | None = None) -> None:
        self.blobs: dict[bytes, bytes] = dict(blobs or {})

    def add(self, blob: bytes) -> bytes:
        """Store a blob under its SHA-256 and return the digest."""
        digest = hashlib.sha256(blob).digest()
        self.blobs[digest] = blob
        return digest

    def open(self, sha256: bytes) -> BinaryIO | None:
        """The blob with this digest, if any (the verifier re-hashes it)."""
        blob = self.blobs.get(sha256)
        return None if blob is None else io.BytesIO(blob)


# --- an honest exchange ---------------------------------------------------------------

STEPS: Final = (
    "a-terms-sign",
    "b-terms-sign",
    "a-commit",
    "b-commit",
    "a-reveal",
    "b-reveal",
    "a-verdict",
    "b-verdict",
)
"""The labels of an honest exchange's messages, in the order they are made."""
UNTIL: Final = {
    "terms-proposed": 1,
    "terms-agreed": 2,
    "committed": 4,
    "revealed": 6,
    "agreed": 8,
}
"""How many steps of :data:`STEPS` lead to each transcript state."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """The outcome of :func:`run_exchange`: what a transcript holds, and the secrets."""

    terms: Terms
    messages: tuple[tuple[str, SignedEnvelope], ...]
    blobs: Mapping[bytes, bytes]
    lists: Mapping[str, BuiltList]
    contents: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    def items(self, *labels: str) -> list[tuple[str, bytes]]:
        """``(label, bytes)`` pairs for :func:`verify_transcript` (all, or those named)."""
        chosen = labels or tuple(label for label, _ in self.messages)
        return [(label, self[label].to_bytes()) for label in chosen]

    def without(self, *labels: str) -> list[tuple[str, bytes]]:
        """Every item except those named."""
        return [item for item in self.items() if item[0] not in labels]

    def envelopes(self) -> list[SignedEnvelope]:
        """The envelopes in order."""
        return [env for _, env in self.messages]

    def __getitem__(self, label: str) -> SignedEnvelope:
        for name, env in self.messages:
            if name == label:
                return env
        raise KeyError(label)

    def blob_source(self) -> MemoryBlobs:
        """A fresh blob source holding every revealed blob."""
        return MemoryBlobs(self.blobs)

    def observer(self, upto: int | None = None) -> Observer:
        """A fresh observer that has received the first ``upto`` messages (all if None)."""
        obs = Observer(self.terms)
        for env in self.envelopes()[:upto]:
            obs.receive(env)
        return obs

    def party(self, role: str, upto: int | None = None) -> Party:
        """A fresh party object of ``role`` brought up to date with the first ``upto``."""
        party = Party(self.terms, role, keys().signing(role))
        for env in self.envelopes()[:upto]:
            party.receive(env)
        return party


def run_exchange(
    terms: Terms | None = None,
    *,
    until: str | int = "agreed",
    accept: tuple[bool, bool] = (True, True),
    signers: Mapping[str, Sequence[SigningKey]] | None = None,
    lists: Mapping[str, BuiltList] | None = None,
    link: Link | None = None,
) -> Exchange:
    """Run an honest exchange on a :class:`Link` up to ``until`` (a state name or a
    number of :data:`STEPS`), every party checking every message."""
    terms = terms or make_terms()
    steps = UNTIL[until] if isinstance(until, str) else until
    signing = {role: list((signers or {}).get(role, keys().signing(role))) for role in "ab"}
    link = link or Link(terms, signing)
    built = dict(lists) if lists is not None else {}
    for role in "ab":
        built.setdefault(role, build_list(terms, role, signers=signing[role]))
    messages: list[tuple[str, SignedEnvelope]] = []
    blobs: dict[bytes, bytes] = {}
    contents: dict[str, dict[str, Any]] = {}

    def move(label: str) -> Callable[[Party], SignedEnvelope]:
        role, _, action = label.partition("-")
        if action == "terms-sign":
            return lambda party: party.sign_terms(now=NOW)
        if action == "commit":
            statement = completeness_statement(terms, role, LIST, NOW)
            return lambda party: party.commit(
                LIST, built[role].digest, nonce=nonce_for(role), now=NOW, statement=statement
            )
        if action == "reveal":
            content, blob = content_for(terms, role, built[role].data)
            blobs[content["sha256"]] = blob
            contents[role] = content
            return lambda party: party.reveal(
                LIST, built[role].header, nonce=nonce_for(role), content=content, now=NOW
            )
        agree = accept["ab".index(role)]
        reasons = () if agree else ("the list is incomplete",)
        return lambda party: party.verdict(accept=agree, reasons=reasons, now=NOW)

    for label in STEPS[:steps]:
        messages.append((label, link.send(label[0], move(label))))
    return Exchange(terms, tuple(messages), blobs, built, contents)


@cache
def honest(until: str = "agreed", *, sealed: bool = False) -> Exchange:
    """A cached honest exchange on the default terms (do not mutate it)."""
    return run_exchange(make_terms(sealed=sealed), until=until)


# --- two parties and an observer on a fake link (h11 style) ---------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message on the link and the events each endpoint saw: the sender's own
    (from making it), then the other party's, then the observer's."""

    sender: str
    envelope: SignedEnvelope
    events: tuple[tuple[Event, ...], ...]


class Link:
    """Two parties and an observer joined by a fake link: every message a party makes is
    delivered to the other party and to the observer."""

    def __init__(self, terms: Terms, signing: Mapping[str, Sequence[SigningKey]]) -> None:
        self.parties = {role: Party(terms, role, list(signing[role])) for role in "ab"}
        self.observer = Observer(terms)
        self.log: list[Delivery] = []

    def send(self, sender: str, move: Callable[[Party], SignedEnvelope]) -> SignedEnvelope:
        """Let party ``sender`` make a move and deliver it; log what everyone saw."""
        party = self.parties[sender]
        before = len(party.events)
        envelope = move(party)
        own = tuple(party.events[before:])
        seen = self.deliver(sender, envelope)
        self.log.append(Delivery(sender, envelope, (own, *(tuple(e) for e in seen))))
        return envelope

    def deliver(self, sender: str, envelope: SignedEnvelope) -> list[list[Event]]:
        """Hand ``envelope`` to everyone but its sender; the events each one saw."""
        receivers: list[Observer] = [p for r, p in self.parties.items() if r != sender]
        return [r.receive(envelope) for r in [*receivers, self.observer]]

    def endpoints(self) -> list[Observer]:
        """Party a, party b and the observer."""
        return [self.parties["a"], self.parties["b"], self.observer]


# --- forging messages -------------------------------------------------------------------


def forge(
    mtype: MessageType,
    body: dict[str, Any],
    *,
    sender: str,
    seq: int,
    deps: Sequence[bytes] = (),
    terms: Terms | None = None,
    exchange: bytes | None = None,
    created_at: int = NOW,
    signers: Sequence[SigningKey] | None = None,
) -> SignedEnvelope:
    """A message with exactly these fields, signed by ``signers`` (default: the sender's
    key). For moves a party object would refuse to make."""
    exchange_id = exchange if exchange is not None else (terms or make_terms()).exchange_id
    return make_message(
        mtype,
        exchange=exchange_id,
        sender=sender,
        seq=seq,
        deps=list(deps),
        created_at=created_at,
        body=body,
        keys=list(signers or keys().signing(sender)),
    )


def payload_of(envelope: SignedEnvelope) -> dict[str, Any]:
    """The decoded payload of a message (unverified)."""
    value: Any = decode(envelope.payload)
    assert isinstance(value, dict)
    return value


def resign(
    envelope: SignedEnvelope,
    signers: Sequence[SigningKey],
    *,
    body: Mapping[str, Any] | None = None,
    payload_type: str | None = None,
    **changes: Any,
) -> SignedEnvelope:
    """A copy of ``envelope`` with payload fields (and body fields) changed, signed anew
    by ``signers`` (no field check: any payload can be made)."""
    payload = payload_of(envelope)
    payload.update(changes)
    if body is not None:
        payload["body"] = {**payload["body"], **body}
    return sign_envelope(payload_type or envelope.payload_type, payload, list(signers))


def flip(data: bytes, position: int) -> bytes:
    """``data`` with one bit flipped at ``position`` (negative counts from the end)."""
    mutated = bytearray(data)
    mutated[position] ^= 0x01
    return bytes(mutated)


# --- verifying ---------------------------------------------------------------------------


def verify(
    x: Exchange,
    items: Sequence[tuple[str, bytes]] | None = None,
    **options: Any,
) -> TranscriptReport:
    """:func:`verify_transcript` of ``items`` (default: all of ``x``'s messages) with
    ``x``'s terms and blobs unless ``options`` say otherwise."""
    options.setdefault("terms", x.terms)
    options.setdefault("blobs", x.blob_source())
    return verify_transcript(x.items() if items is None else list(items), **options)


def failures(report: TranscriptReport) -> dict[str, Check]:
    """The failed checks of a report, by name."""
    return {c.name: c for c in report.checks if not c.ok}


def evidence_of(report: TranscriptReport, name: str) -> str:
    """The evidence of the failed check ``name``, joined (fails if it passed)."""
    found = failures(report)
    assert name in found, f"{name!r} did not fail; failures: {sorted(found)}"
    return "\n".join(found[name].evidence)
