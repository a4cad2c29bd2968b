"""Transcript verification: every check anyone holding the messages can make, offline.

:func:`verify_transcript` is a pure function from (messages, optional terms, content
source, optional recipient key, optional time) to a :class:`TranscriptReport` listing
each check with its result and, on failure, its evidence (``spec/handshake.md`` §7).
It never stops at the first failure: a mediator or auditor needs the whole picture.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol, cast

from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, SwapprotoError, VerificationError
from swapproto.handshake import PARTIES, Observer, Phase, VerdictGiven
from swapproto.hashing import digest_equal, fingerprint
from swapproto.manifest import check_entry
from swapproto.manifest_file import ManifestReader
from swapproto.merkle import StreamingRootBuilder, leaf_hash
from swapproto.messages import MESSAGE_LIMITS, Message, MessageType, parse_message
from swapproto.sealing import NotARecipientError, SealingContext, inspect_sealed
from swapproto.terms import ListEvaluation, Terms, evaluate_list

__all__ = [
    "STATES",
    "BlobSource",
    "Check",
    "ListSummary",
    "TranscriptReport",
    "verify_transcript",
]

STATES = (
    "terms-proposed",
    "terms-agreed",
    "committed",
    "revealed",
    "agreed",
    "disputed",
    "aborted",
)


class BlobSource(Protocol):
    """Where revealed content is found, by the SHA-256 its reveal names."""

    def open(self, sha256: bytes) -> BinaryIO | None:
        """A stream of the content, or ``None`` if it is not available."""


class Opener(Protocol):
    """Decrypts sealed content for one recipient (see :mod:`swapproto.sealing`)."""

    def reader(self, src: BinaryIO, exchange_id: bytes, list_name: str) -> BinaryIO:
        """A stream of the plaintext manifest."""


@dataclass(frozen=True, slots=True)
class Check:
    """One check: its name, result, a human detail and, on failure, evidence."""

    name: str
    ok: bool
    detail: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class ListSummary:
    """What one party revealed for one list."""

    list_name: str
    side: str
    count: int
    root: str
    content_checked: bool
    per_category: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "list": self.list_name,
            "side": self.side,
            "count": self.count,
            "root": self.root,
            "root_fingerprint": fingerprint(bytes.fromhex(self.root)),
            "content_checked": self.content_checked,
            "per_category": dict(self.per_category),
            "findings": list(self.findings),
        }


@dataclass(frozen=True, slots=True)
class TranscriptReport:
    """The outcome of verifying one exchange's transcript."""

    state: str
    exchange_id: bytes | None
    checks: tuple[Check, ...]
    lists: tuple[ListSummary, ...]
    messages: int
    named_fingerprints: tuple[tuple[str, str], ...] = ()
    """(what, fingerprint) pairs: the exchange id (``exchange``), every accepted
    commitment (``commitment <role>/<list>``), every revealed root and header digest
    (``root <role>/<list>``, ``header <role>/<list>``) and the transcript digest that
    verdicts sign (``transcript``), in that order."""

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Every fingerprint of this transcript (what ``--expect`` may name)."""
        return tuple(fp for _, fp in self.named_fingerprints)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The ``swapproto verify --json`` object."""
        return {
            "ok": self.ok,
            "state": self.state,
            "exchange_id": self.exchange_id.hex() if self.exchange_id else None,
            "exchange_fingerprint": fingerprint(self.exchange_id) if self.exchange_id else None,
            "messages": self.messages,
            "checks": [c.to_json() for c in self.checks],
            "lists": [s.to_json() for s in self.lists],
            "fingerprints": dict(self.named_fingerprints),
        }


class _Report:
    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.lists: list[ListSummary] = []

    def add(self, name: str, ok: bool, detail: str, *evidence: str) -> None:
        self.checks.append(Check(name, ok, detail, tuple(evidence)))


# --- finding the terms ----------------------------------------------------------------------


def _terms_candidates(envelopes: Sequence[tuple[str, SignedEnvelope]]) -> dict[bytes, Terms]:
    found: dict[bytes, Terms] = {}
    for _, env in envelopes:
        if env.payload_type != MessageType.TERMS_SIGN.value:
            continue
        try:
            value: Any = env.unverified_value(limits=MESSAGE_LIMITS)
            terms = Terms.from_bytes(value["body"]["terms"])
        except (SwapprotoError, KeyError, TypeError):
            continue
        found.setdefault(terms.exchange_id, terms)
    return found


def _choose_terms(
    given: Terms | None, envelopes: Sequence[tuple[str, SignedEnvelope]], report: _Report
) -> Terms | None:
    if given is not None:
        report.add(
            "terms", True, f"terms given by the verifier, exchange {fingerprint(given.exchange_id)}"
        )
        return given
    candidates = _terms_candidates(envelopes)
    if len(candidates) == 1:
        terms = next(iter(candidates.values()))
        report.add(
            "terms",
            True,
            f"terms carried in the messages, exchange {fingerprint(terms.exchange_id)}",
        )
        return terms
    if not candidates:
        report.add("terms", False, "no terms found: no valid terms signature in the transcript")
        return None
    ids = sorted(candidates)
    report.add(
        "terms",
        False,
        f"{len(ids)} different terms are signed in this transcript; pass the agreed terms",
        *(i.hex() for i in ids),
    )
    return None


# --- messages ----------------------------------------------------------------------------------


def _parse_all(
    items: Sequence[tuple[str, bytes]], report: _Report
) -> list[tuple[str, SignedEnvelope]]:
    envelopes = []
    bad = []
    for name, data in items:
        try:
            envelopes.append((name, SignedEnvelope.from_bytes(data, limits=MESSAGE_LIMITS)))
        except SwapprotoError as exc:
            bad.append(f"{name}: {exc}")
    report.add("well-formed messages", not bad, f"{len(envelopes)} of {len(items)} parse", *bad)
    return envelopes


def _verify_all(
    envelopes: Sequence[tuple[str, SignedEnvelope]], terms: Terms, report: _Report
) -> list[tuple[str, Message]]:
    policy = terms.trust_policy()
    verified, bad, foreign = [], [], []
    for name, env in envelopes:
        try:
            message = parse_message(env, policy)
        except SwapprotoError as exc:
            bad.append(f"{name}: [{exc.code}] {exc.args[0]}")
            continue
        if message.exchange != terms.exchange_id:
            foreign.append(f"{name}: bound to exchange {message.exchange.hex()}")
            continue
        verified.append((name, message))
    report.add(
        "signatures and thresholds",
        not bad,
        f"{len(envelopes) - len(bad)} of {len(envelopes)} messages signed by keys of the terms",
        *bad,
    )
    report.add(
        "exchange binding",
        not foreign,
        "every message is bound to this exchange"
        if not foreign
        else "messages from another exchange (replay?)",
        *foreign,
    )
    return verified


def _equivocation(
    messages: list[tuple[str, Message]], report: _Report
) -> list[tuple[str, Message]]:
    by_slot: dict[tuple[str, int], list[tuple[str, Message]]] = {}
    for item in messages:
        by_slot.setdefault((item[1].sender, item[1].seq), []).append(item)
    kept, evidence = [], []
    for (sender, seq), group in sorted(by_slot.items()):
        statements = {m.id for _, m in group}
        if len(statements) > 1:
            evidence.append(
                f"{sender} seq {seq}: " + ", ".join(f"{n} ({m.id.hex()[:16]})" for n, m in group)
            )
            continue  # neither version can be trusted
        kept.append(group[0])
    report.add(
        "no equivocation",
        not evidence,
        "one statement per sender and sequence number"
        if not evidence
        else "different signed messages with the same sender and sequence number",
        *evidence,
    )
    return kept


def _replay(terms: Terms, messages: list[tuple[str, Message]], report: _Report) -> Observer:
    """Apply messages in dependency order; each refused move becomes a failed check."""
    pending = sorted(messages, key=lambda item: (item[1].seq, item[1].sender))
    accepted: list[Message] = []
    refused = [
        f"{name}: {m.sender!r} is not a party and cannot move"
        for name, m in pending
        if m.sender not in PARTIES
    ]
    pending = [item for item in pending if item[1].sender in PARTIES]
    observer = Observer(terms)
    progress = True
    while pending and progress:
        progress = False
        for item in list(pending):
            name, message = item
            if message.seq != observer.next_seq(message.sender):
                continue
            applied_ids = {m.id for m in accepted}
            if not set(message.deps) <= applied_ids:
                continue
            pending.remove(item)
            progress = True
            try:
                observer.receive(message.envelope)
                accepted.append(message)
            except SwapprotoError as exc:
                refused.append(f"{name}: {exc.args[0]}")
                observer = Observer(terms)
                for earlier in accepted:
                    observer.receive(earlier.envelope)
            break
    for name, message in pending:
        refused.append(
            f"{name}: {message.type.name} seq {message.seq} never became legal (missing messages)"
        )
    report.add(
        "protocol order (commit-then-reveal)",
        not refused,
        f"{len(accepted)} messages follow the protocol"
        if not refused
        else "illegal or out-of-order moves",
        *refused,
    )
    return observer


# --- content -------------------------------------------------------------------------------------


class _HashingReader:
    """Passes reads through while hashing, so content is read once."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        self._hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    def digest(self) -> bytes:
        return self._hash.digest()


def _records(
    reader: ManifestReader, count: int, kind: str, root: StreamingRootBuilder
) -> Iterator[dict[str, Any]]:
    for index, leaf in enumerate(reader.leaves(count)):
        root.add_leaf_hash(leaf_hash(leaf))
        yield check_entry(leaf, index=index, kind=kind).record


def _check_content(
    terms: Terms,
    observer: Observer,
    role: str,
    list_name: str,
    blobs: BlobSource | None,
    opener: Opener | None,
    report: _Report,
) -> None:
    message = observer.reveals(role)[list_name]
    content = message.body["content"]
    header = observer.revealed_header(role, list_name)
    check = f"content {role}/{list_name}"

    def summary(checked: bool, evaluation: ListEvaluation | None = None) -> ListSummary:
        return ListSummary(
            list_name=list_name,
            side=role,
            count=header.header.count,
            root=header.header.root.hex(),
            content_checked=checked,
            per_category=dict(evaluation.per_category) if evaluation else {},
            findings=tuple(f"{f.code}: {f.message}" for f in evaluation.findings)
            if evaluation
            else (),
        )

    def fail(detail: str, *evidence: str) -> None:
        report.add(check, False, detail, *evidence)
        report.lists.append(summary(False))

    def not_checked(why: str) -> None:
        report.add(
            check,
            True,
            f"sealed: {why}; contents not checked (container, recipients,"
            " header and commitment are)",
        )
        report.lists.append(summary(False))

    stream = blobs.open(content["sha256"]) if blobs is not None else None
    if stream is None:
        fail("the revealed content is not in the transcript", content["sha256"].hex())
        return
    if content["sealed"]:
        with stream:
            problem = _container_problem(terms, role, list_name, content, stream)
        if problem is not None:
            fail(*problem)
            return
        if opener is None:
            not_checked("no recipient key given")
            return
        stream = blobs.open(content["sha256"]) if blobs is not None else None
        if stream is None:
            fail("the revealed content is not in the transcript", content["sha256"].hex())
            return
    try:
        evaluation = _read_content(terms, observer, role, list_name, stream, opener)
    except NotARecipientError:
        not_checked("the given key is not a recipient of this list")
        return
    except SwapprotoError as exc:
        fail(f"[{exc.code}] {exc.args[0]}")
        return
    listed = summary(True, evaluation)
    findings = listed.findings
    report.add(check, True, f"{header.header.count} entries verified against the signed root")
    report.add(
        f"rules {role}/{list_name}",
        evaluation.ok,
        f"{terms.list(list_name).rule}: "
        + ("all rules hold" if evaluation.ok else f"{len(findings)} finding(s)"),
        *findings[:50],
    )
    report.lists.append(listed)


def _read_content(
    terms: Terms,
    observer: Observer,
    role: str,
    list_name: str,
    stream: BinaryIO,
    opener: Opener | None,
) -> ListEvaluation:
    """Read revealed content once: its digest and size, header, root and rules."""
    message = observer.reveals(role)[list_name]
    content = message.body["content"]
    header = observer.revealed_header(role, list_name)
    hashing = _HashingReader(stream)
    with stream:
        plain: Any = hashing
        if content["sealed"]:
            assert opener is not None  # the caller checks
            plain = opener.reader(cast(BinaryIO, hashing), terms.exchange_id, list_name)
        reader = ManifestReader(plain)
        if reader.header_bytes != message.body["header"]:
            raise VerificationError(
                "the content's header is not the revealed header",
                code=ErrorCode.VERIFY_MANIFEST,
            )
        root = StreamingRootBuilder()
        evaluation = evaluate_list(
            terms,
            list_name,
            role,
            _records(reader, header.header.count, header.header.kind, root),
            counterpart_count=_counterpart_count(observer, role, list_name),
            # _records passes every record through check_entry (schema included) first.
            validate=False,
        )
        if root.root() != header.header.root:
            raise VerificationError(
                "the content does not hash to the signed root", code=ErrorCode.VERIFY_ROOT
            )
        hashing.drain()
    if hashing.digest() != content["sha256"] or hashing.size != content["size"]:
        raise VerificationError(
            "the content is not the one the reveal names (digest or size differ)",
            code=ErrorCode.VERIFY_DIGEST,
        )
    return evaluation


def _container_problem(
    terms: Terms, role: str, list_name: str, content: dict[str, Any], stream: BinaryIO
) -> tuple[str, ...] | None:
    """What anyone can check of a sealed reveal without a key: the container's framing,
    digest and size, its binding to this exchange and list, and its recipients."""
    context = SealingContext(terms.exchange_id, list_name, MessageType.REVEAL.value)
    try:
        info = inspect_sealed(stream, context)
        expected = sorted(k.key_id for k in terms.recipients_for(list_name, role))
    except SwapprotoError as exc:
        return (f"[{exc.code}] {exc.args[0]}",)
    if info.digest != content["sha256"] or info.size != content["size"]:
        return ("the content is not the one the reveal names (digest or size differ)",)
    if list(info.recipients) != expected:
        return (
            "sealed to other recipients than the terms name (the counterparty and the mediators)",
            "expected " + ", ".join(k.hex()[:16] for k in expected),
            "found " + ", ".join(k.hex()[:16] for k in info.recipients),
        )
    return None


def _other(role: str) -> str:
    return "b" if role == "a" else "a"


def _counterpart_count(observer: Observer, role: str, list_name: str) -> int | None:
    other = _other(role)
    if list_name not in observer.reveals(other):
        return None
    return observer.revealed_header(other, list_name).header.count


# --- verdicts, deadlines, state ---------------------------------------------------------------


def _check_verdicts(
    observer: Observer, messages: list[tuple[str, Message]], report: _Report
) -> None:
    # Every verified verdict counts, applied or not: one that rests on messages missing
    # here was given over another transcript, and says so in its digest.
    verdicts = [m for _, m in messages if m.type is MessageType.VERDICT]
    if not verdicts:
        return
    digest = observer.seen_digest()
    bad = [
        f"{m.sender} signed {_hex_or_nothing(m.body['seen'])}"
        for m in verdicts
        if type(m.body["seen"]) is not bytes or not digest_equal(m.body["seen"], digest)
    ]
    report.add(
        "verdicts cover the same transcript",
        not bad,
        "every verdict signs the digest of this transcript"
        if not bad
        else f"a verdict covers another transcript than {observer.seen_digest().hex()}"
        " (did a relay show the parties different messages?)",
        *bad,
    )


def _hex_or_nothing(value: object) -> str:
    return value.hex() if type(value) is bytes else "no digest"


def _check_deadlines(terms: Terms, observer: Observer, now: int | None, report: _Report) -> None:
    if now is None:
        return
    late = [
        f"{m.sender} commit for {m.list_name} at {m.created_at} after {terms.commit_by}"
        for role in PARTIES
        for m in observer.commits(role).values()
        if m.created_at > terms.commit_by
    ]
    report.add("commits by the deadline", not late, "every commit is dated before commit_by", *late)
    late_reveals = [
        f"{m.sender} reveal of {m.list_name} at {m.created_at} after {terms.reveal_by}"
        for role in PARTIES
        for m in observer.reveals(role).values()
        if m.created_at > terms.reveal_by
    ]
    report.add(
        "reveals by the deadline",
        not late_reveals,
        "every reveal is dated before reveal_by",
        *late_reveals,
    )
    if now > terms.commit_by and observer.terms_agreed:
        _check_withheld_commits(terms, observer, report)
    if now > terms.reveal_by:
        _check_withheld_reveals(terms, observer, report)


def _cut_off(observer: Observer, role: str, deadline: int) -> bool:
    """Whether the other party's abort, dated by the deadline, left ``role`` no legal move
    before its time ran out (the abort's date is its sender's claim)."""
    abort = observer.abort_of(_other(role))
    return abort is not None and abort.created_at <= deadline


def _check_withheld_commits(terms: Terms, observer: Observer, report: _Report) -> None:
    # Emitted once the terms are agreed and commit_by has passed: each party owes a commit
    # for every list it submits. Its own abort does not excuse it; the other's does.
    withheld = [
        f"{role} did not commit to {name} by {terms.commit_by}"
        for role in PARTIES
        if not _cut_off(observer, role, terms.commit_by)
        for name in observer.lists_of(role)
        if name not in observer.commits(role)
    ]
    report.add(
        "no withheld commits",
        not withheld,
        "every list was committed by commit_by",
        *withheld,
    )


def _check_withheld_reveals(terms: Terms, observer: Observer, report: _Report) -> None:
    # Withholding needs a reveal that was possible: the other party committed every list
    # it submits and did not abort before reveal_by (a party that cannot reveal because
    # the other never committed is not the one withholding; "no withheld commits" names
    # the one that stalled).
    could_reveal = [
        role
        for role in PARTIES
        if set(observer.commits(_other(role))) >= set(observer.lists_of(_other(role)))
        and not _cut_off(observer, role, terms.reveal_by)
    ]
    withheld = [
        f"{role} committed to {name} but did not reveal by {terms.reveal_by}"
        for role in could_reveal
        for name in observer.commits(role)
        if name not in observer.reveals(role)
    ]
    report.add(
        "no withholding", not withheld, "every commitment was opened by reveal_by", *withheld
    )


def _state(observer: Observer | None, verdicts: list[VerdictGiven]) -> str:
    if observer is None:
        return "terms-proposed"
    if observer.aborted:
        return "aborted"
    if any(not v.accepted for v in verdicts):
        return "disputed"
    phases = [observer.phase(r) for r in PARTIES]
    if all(p is Phase.DONE for p in phases):
        return "agreed"
    for phase, name in (
        (Phase.REVEALED, "revealed"),
        (Phase.COMMITTED, "committed"),
        (Phase.TERMS_SIGNED, "terms-agreed"),
    ):
        if all(p >= phase for p in phases):
            return name
    return "terms-proposed"


def verify_transcript(
    items: Sequence[tuple[str, bytes]],
    *,
    terms: Terms | None = None,
    blobs: BlobSource | None = None,
    opener: Opener | None = None,
    now: int | None = None,
) -> TranscriptReport:
    """Verify every message, rule and commitment of one exchange; see the module doc.

    ``items`` are (label, bytes) pairs: labels are only for evidence, never trusted.
    ``terms`` anchors the exchange (else the terms carried in the messages are used and
    the report says so); ``opener`` decrypts sealed content for a recipient; ``now``
    enables the deadline checks.
    """
    report = _Report()
    envelopes = _parse_all(items, report)
    chosen = _choose_terms(terms, envelopes, report)
    if chosen is None:
        return TranscriptReport("terms-proposed", None, tuple(report.checks), (), len(items))
    messages = _equivocation(_verify_all(envelopes, chosen, report), report)
    observer = _replay(chosen, messages, report)
    signed = [r for r in PARTIES if observer.terms_signed(r)]
    report.add(
        "terms signed by both parties",
        observer.terms_agreed,
        f"signed by: {', '.join(signed) or 'nobody'}"
        + ("" if observer.terms_agreed else " (terms are in force only once both sign)"),
    )
    verdicts = [e for e in observer.events if isinstance(e, VerdictGiven)]
    for role in PARTIES:
        for list_name in observer.reveals(role):
            _check_content(chosen, observer, role, list_name, blobs, opener, report)
    _check_verdicts(observer, messages, report)
    _check_deadlines(chosen, observer, now, report)
    return TranscriptReport(
        _state(observer, verdicts),
        chosen.exchange_id,
        tuple(report.checks),
        tuple(report.lists),
        len(items),
        _fingerprints(chosen, observer),
    )


def _fingerprints(terms: Terms, observer: Observer) -> tuple[tuple[str, str], ...]:
    digests = [("exchange", terms.exchange_id)]
    for role in PARTIES:
        digests += [
            (f"commitment {role}/{name}", m.body["commitment"])
            for name, m in observer.commits(role).items()
        ]
        for name in observer.reveals(role):
            header = observer.revealed_header(role, name)
            digests += [(f"root {role}/{name}", header.header.root)]
            digests += [(f"header {role}/{name}", header.digest)]
    digests.append(("transcript", observer.seen_digest()))
    return tuple((what, fingerprint(d)) for what, d in digests)


def ordered_messages(
    terms: Terms, items: Sequence[tuple[str, bytes]]
) -> tuple[list[SignedEnvelope], list[str]]:
    """The verified messages of this exchange in an order the protocol can apply
    (each sender's sequence order, dependencies first, each message once), and the
    labels of items skipped because they do not verify, belong to another exchange or
    were not sent by a party."""
    policy = terms.trust_policy()
    messages: list[Message] = []
    skipped: list[str] = []
    known: set[bytes] = set()
    for name, data in items:
        try:
            message = parse_message(data, policy)
        except SwapprotoError:
            skipped.append(name)
            continue
        if message.exchange != terms.exchange_id or message.sender not in PARTIES:
            skipped.append(name)  # not a move of this exchange: only verify reports it
            continue
        if message.id not in known:  # copies of one message are applied once
            known.add(message.id)
            messages.append(message)
    ordered: list[SignedEnvelope] = []
    done: set[bytes] = set()
    pending = sorted(messages, key=lambda m: (m.seq, m.sender, m.id))
    while pending:
        ready = next((m for m in pending if set(m.deps) <= done), None)
        if ready is None:
            ordered.extend(m.envelope for m in pending)  # let the protocol object refuse them
            break
        pending.remove(ready)
        done.add(ready.id)
        ordered.append(ready.envelope)
    return ordered, skipped
