"""Transcript verification: every check anyone holding the messages can make, offline.

:func:`verify_transcript` is a pure function from (messages, optional terms, content
source, optional recipient key, optional time) to a :class:`TranscriptReport` listing
each check with its result and, on failure, its evidence (``spec/handshake.md`` §7).
It never stops at the first failure: a mediator or auditor needs the whole picture.

This module holds the message-level checks (parsing, signatures, exchange binding,
equivocation, protocol order, verdicts) and :func:`ordered_messages`. The report types
live in ``_transcript_report``, the content checks (reading, hashing, decrypting and
evaluating revealed lists) in ``_transcript_content`` and the deadline and withholding
checks in ``_transcript_deadlines``; every public name is importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from swapproto._transcript_content import BlobSource, Opener, check_content
from swapproto._transcript_deadlines import check_deadlines
from swapproto._transcript_report import (
    STATES,
    Check,
    ListSummary,
    ReportBuilder,
    TranscriptReport,
    counted,
)
from swapproto.envelope import SignedEnvelope
from swapproto.errors import ErrorCode, InputError, SwapprotoError
from swapproto.handshake import PARTIES, Observer, Phase, VerdictGiven
from swapproto.hashing import digest_equal, fingerprint
from swapproto.messages import MESSAGE_LIMITS, Message, MessageType, parse_message
from swapproto.terms import Terms

__all__ = [
    "STATES",
    "BlobSource",
    "Check",
    "ListSummary",
    "Opener",
    "TranscriptReport",
    "ordered_messages",
    "verify_transcript",
]


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
    given: Terms | None, envelopes: Sequence[tuple[str, SignedEnvelope]], report: ReportBuilder
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
    items: Sequence[tuple[str, bytes]], report: ReportBuilder
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
    envelopes: Sequence[tuple[str, SignedEnvelope]], terms: Terms, report: ReportBuilder
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
    messages: list[tuple[str, Message]], report: ReportBuilder
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


def _replay(terms: Terms, messages: list[tuple[str, Message]], report: ReportBuilder) -> Observer:
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
    while pending:
        item = _next_ready(observer, pending, accepted)
        if item is None:
            break
        pending.remove(item)
        observer = _apply(terms, observer, item, accepted, refused)
    for name, message in pending:
        refused.append(
            f"{name}: {message.type.name} seq {message.seq} never became legal (missing messages)"
        )
    verb = "follows" if len(accepted) == 1 else "follow"
    report.add(
        "protocol order (commit-then-reveal)",
        not refused,
        f"{counted(len(accepted), 'message')} {verb} the protocol"
        if not refused
        else "illegal or out-of-order moves",
        *refused,
    )
    return observer


def _next_ready(
    observer: Observer, pending: list[tuple[str, Message]], accepted: list[Message]
) -> tuple[str, Message] | None:
    """The first pending message that is next in its sender's sequence and whose
    dependencies are all applied, or None."""
    applied_ids = {m.id for m in accepted}
    for item in pending:
        message = item[1]
        if message.seq == observer.next_seq(message.sender) and set(message.deps) <= applied_ids:
            return item
    return None


def _apply(
    terms: Terms,
    observer: Observer,
    item: tuple[str, Message],
    accepted: list[Message],
    refused: list[str],
) -> Observer:
    """Apply one message and note it as accepted or refused. A refusal is terminal for
    an observer, so the replay goes on with a new one fed the accepted messages."""
    name, message = item
    try:
        observer.receive(message.envelope)
        accepted.append(message)
    except SwapprotoError as exc:
        refused.append(f"{name}: {exc.args[0]}")
        observer = Observer(terms)
        for earlier in accepted:
            observer.receive(earlier.envelope)
    return observer


# --- verdicts and state -----------------------------------------------------------------------


def _check_verdicts(
    observer: Observer, messages: list[tuple[str, Message]], report: ReportBuilder
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
    the report says so); ``blobs`` finds revealed content by SHA-256 (an
    :class:`~swapproto.exchange_dir.ExchangeDir`, or any :class:`BlobSource`; None: no
    content checks); ``opener`` decrypts sealed content for a recipient
    (:class:`~swapproto.exchange_dir.RecipientOpener`; None: sealed lists are checked
    for their binding only and their content and rule checks are *skipped*); ``now``
    enables the deadline checks (None: they are not made).

    Never raises for what the messages or content say: every problem is a failed
    :class:`Check` in the report. Read ``report.ok`` first: ``report.state`` (one of
    :data:`STATES`) is the state the messages reach and is meaningful only when ``ok``
    (a transcript whose content check failed may still say ``agreed``); a skipped check
    is not a failure, so look at ``report.skipped`` before concluding that a list was
    checked.

    Security: terms read from the exchange directory
    (:meth:`~swapproto.exchange_dir.ExchangeDir.terms`) are as untrusted as the
    directory; compare ``terms.fingerprint`` with the one read aloud when the terms
    were agreed before relying on the report.

    Arguments of the wrong type are a ``TypeError`` (``now`` an ``int`` of Unix seconds,
    not a bool or a float; ``items`` pairs, not bare bytes), a negative ``now`` an
    ``InputError`` (``input.usage``).
    """
    if now is not None and type(now) is not int:
        raise TypeError(f"now must be an int of Unix seconds, or None, not {type(now).__name__}")
    if now is not None and now < 0:
        raise InputError("now is before 1970: Unix seconds from 0", code=ErrorCode.INPUT_USAGE)
    if terms is not None and not isinstance(terms, Terms):
        raise TypeError(f"terms must be a Terms or None, not {type(terms).__name__}")
    if blobs is not None and not callable(getattr(blobs, "open", None)):
        raise TypeError(
            f"blobs must be a BlobSource such as an ExchangeDir, not {type(blobs).__name__}"
        )
    if opener is not None and not callable(getattr(opener, "reader", None)):
        raise TypeError(
            f"opener must be an Opener such as RecipientOpener(bundle), not {type(opener).__name__}"
        )
    items = list(items)
    if not all(isinstance(item, tuple | list) and len(item) == 2 for item in items):
        raise TypeError("items must be (label, bytes) pairs, such as ExchangeDir.messages()")
    report = ReportBuilder()
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
            check_content(chosen, observer, role, list_name, blobs, opener, report)
    _check_verdicts(observer, messages, report)
    check_deadlines(chosen, observer, now, report)
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
