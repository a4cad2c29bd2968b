"""Transcript content checks: what a reveal names is read once, hashed and verified.

Private helper of :mod:`swapproto.transcript` (which re-exports :class:`BlobSource`).
For each revealed list, :func:`check_content` finds the content by the SHA-256 its
reveal names, checks a sealed container's framing, binding and recipients without a
key, decrypts it with an :class:`Opener` when one is given, and streams the manifest
once: header as revealed, entries hashing to the signed root, records under the
list's rules, digest and size as named (``spec/handshake.md`` §7). Sealed content that
is not opened (no key, or the sender's own key) is said to be so, and its rules check is
emitted as skipped; a key that is neither a recipient nor the sender's fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, Protocol, cast

from swapproto._transcript_report import Check, ListSummary, ReportBuilder, counted
from swapproto.errors import ErrorCode, SwapprotoError, VerificationError
from swapproto.handshake import Observer, other_party
from swapproto.manifest import VerifiedHeader, check_entry
from swapproto.manifest_file import ManifestReader
from swapproto.merkle import StreamingRootBuilder, leaf_hash
from swapproto.messages import MessageType
from swapproto.sealing import NotARecipientError, SealingContext, inspect_sealed
from swapproto.terms import ListEvaluation, Terms, evaluate_list

__all__ = ["BlobSource", "Opener", "check_content"]


class BlobSource(Protocol):
    """Where revealed content is found, by the SHA-256 its reveal names."""

    def open(self, sha256: bytes) -> BinaryIO | None:
        """A stream of the content, or ``None`` if it is not available."""


class Opener(Protocol):
    """Decrypts sealed content for one recipient (see :mod:`swapproto.sealing`)."""

    def reader(self, src: BinaryIO, exchange_id: bytes, list_name: str) -> BinaryIO:
        """A stream of the plaintext manifest."""

    @property
    def key_ids(self) -> frozenset[bytes]:
        """The ids of the keys the opener holds (signing and encryption): a list that
        is not sealed to it is "not opened" when they are its sender's, else a failure."""


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


def check_content(
    terms: Terms,
    observer: Observer,
    role: str,
    list_name: str,
    blobs: BlobSource | None,
    opener: Opener | None,
    report: ReportBuilder,
) -> None:
    """Check one revealed list's content and rules; add the two checks and its summary.

    The rules check follows every content check: evaluated when the content was read,
    else ok and marked skipped, with the reason it was not evaluated.
    """
    header = observer.revealed_header(role, list_name)
    check = f"content {role}/{list_name}"
    rules = f"rules {role}/{list_name}"
    opened = _open_content(terms, role, list_name, blobs, observer, opener)
    evaluation = None
    if isinstance(opened, _NotOpened):
        outcome, why = _not_opened(check, opened.reason), opened.reason
    elif isinstance(opened, Check):
        outcome, why = opened, ""
    else:
        try:
            evaluation = _read_content(terms, observer, role, list_name, opened, opener)
        except NotARecipientError:
            assert opener is not None  # only an opener raises it
            outcome, why = _not_a_recipient(terms, role, list_name, opener)
        except SwapprotoError as exc:
            outcome, why = Check(check, False, f"[{exc.code}] {exc.args[0]}"), ""
        else:
            detail = f"{header.header.count} entries verified against the signed root"
            outcome = Check(check, True, detail)
    report.checks.append(outcome)
    listed = _summary(list_name, role, header, evaluation)
    if evaluation is not None:
        findings = listed.findings
        report.add(
            rules,
            evaluation.ok,
            f"{terms.list(list_name).rule}: "
            + ("all rules hold" if evaluation.ok else counted(len(findings), "finding")),
            *findings[:50],
        )
    elif why:
        report.skip(rules, f"not evaluated: the sealed list was not opened ({why})")
    else:
        report.skip(rules, "not evaluated: the content check failed")
    report.lists.append(listed)


def _summary(
    list_name: str, role: str, header: VerifiedHeader, evaluation: ListEvaluation | None
) -> ListSummary:
    """What one party revealed for one list; contents checked if it was evaluated."""
    return ListSummary(
        list_name=list_name,
        side=role,
        count=header.header.count,
        root=header.header.root.hex(),
        content_checked=evaluation is not None,
        per_category=dict(evaluation.per_category) if evaluation else {},
        findings=tuple(f"{f.code}: {f.message}" for f in evaluation.findings) if evaluation else (),
    )


NO_KEY: Final = "no recipient key given"
OWN_KEY: Final = "the given key is the sender's own: a list is not sealed to its sender"


@dataclass(frozen=True, slots=True)
class _NotOpened:
    """Sealed content whose container checked out but that is not opened, and why."""

    reason: str


def _not_opened(check: str, why: str) -> Check:
    """Ok, and unmistakably not a verification of the entries."""
    return Check(
        check,
        True,
        f"sealed: not opened ({why}); container, recipients, header and commitment checked",
    )


def _not_a_recipient(terms: Terms, role: str, list_name: str, opener: Opener) -> tuple[Check, str]:
    """The opener's key cannot open this list: the sender's own key is "not opened"
    (a list is not sealed to its sender); any other key is a failure (the verifier
    asked for contents it cannot check with the key it gave)."""
    check = f"content {role}/{list_name}"
    if _holds_key_of(terms, role, opener):
        return _not_opened(check, OWN_KEY), OWN_KEY
    return Check(check, False, "the given key is not a recipient of this list"), ""


def _holds_key_of(terms: Terms, role: str, opener: Opener) -> bool:
    """Whether the opener holds a signing or encryption key pinned for ``role``."""
    held = opener.key_ids
    return any(
        k.key_id in held or (k.encryption is not None and k.encryption.key_id in held)
        for k in terms.role(role).keys
    )


def _open_content(
    terms: Terms,
    role: str,
    list_name: str,
    blobs: BlobSource | None,
    observer: Observer,
    opener: Opener | None,
) -> BinaryIO | Check | _NotOpened:
    """A stream of the revealed content to read, or where the content check ends:
    content missing or a sealed container that fails (a check), or sealed content with
    no recipient key (not opened)."""
    content = observer.reveals(role)[list_name].body["content"]
    check = f"content {role}/{list_name}"
    stream = blobs.open(content["sha256"]) if blobs is not None else None
    if stream is None:
        return _missing(check, content)
    if not content["sealed"]:
        return stream
    with stream:
        problem = _container_problem(terms, role, list_name, content, stream)
    if problem is not None:
        return Check(check, False, problem[0], problem[1:])
    if opener is None:
        return _NotOpened(NO_KEY)
    stream = blobs.open(content["sha256"]) if blobs is not None else None
    return _missing(check, content) if stream is None else stream


def _missing(check: str, content: dict[str, Any]) -> Check:
    detail = "the revealed content is not in the transcript"
    return Check(check, False, detail, (content["sha256"].hex(),))


def _records(
    reader: ManifestReader, count: int, kind: str, root: StreamingRootBuilder
) -> Iterator[dict[str, Any]]:
    for index, leaf in enumerate(reader.leaves(count)):
        root.add_leaf_hash(leaf_hash(leaf))
        yield check_entry(leaf, index=index, kind=kind).record


def _read_content(
    terms: Terms,
    observer: Observer,
    role: str,
    list_name: str,
    stream: BinaryIO,
    opener: Opener | None,
) -> ListEvaluation:
    """Read revealed content once: its digest and size, header, root and rules."""
    content = observer.reveals(role)[list_name].body["content"]
    hashing = _HashingReader(stream)
    with stream:
        plain: Any = hashing
        if content["sealed"]:
            assert opener is not None  # the caller checks
            plain = opener.reader(cast(BinaryIO, hashing), terms.exchange_id, list_name)
        evaluation = _read_manifest(terms, observer, role, list_name, plain)
        hashing.drain()
    if hashing.digest() != content["sha256"] or hashing.size != content["size"]:
        raise VerificationError(
            "the content is not the one the reveal names (digest or size differ)",
            code=ErrorCode.VERIFY_DIGEST,
        )
    return evaluation


def _read_manifest(
    terms: Terms, observer: Observer, role: str, list_name: str, plain: BinaryIO
) -> ListEvaluation:
    """Stream the plaintext manifest: the revealed header, entries that hash to the
    signed root, and every record evaluated under the list's rules."""
    header = observer.revealed_header(role, list_name)
    reader = ManifestReader(plain)
    if reader.header_bytes != observer.reveals(role)[list_name].body["header"]:
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


def _counterpart_count(observer: Observer, role: str, list_name: str) -> int | None:
    other = other_party(role)
    if list_name not in observer.reveals(other):
        return None
    return observer.revealed_header(other, list_name).header.count
