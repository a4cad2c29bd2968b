"""The commit-then-reveal handshake as sans-IO state machines (``spec/handshake.md``).

:class:`Observer` follows the messages of one exchange without keys (the mediator's or
any auditor's view); :class:`Party` is an observer that can also sign its own moves.
Bytes go in, events come out; nothing here reads files, sockets or clocks: time is
passed in. Every legal move is one row of :data:`TRANSITIONS`, which does not know
which side is local, so both sides are checked by the same rules. An illegal move
raises :class:`~swapproto.errors.LocalProtocolError` (ours) or
:class:`~swapproto.errors.RemoteProtocolError` (theirs) and leaves the object in the
terminal error state: its ``errored`` attribute is set and every later call raises
(the parties' :meth:`~Observer.phase` keeps its last value).

The handshake checks messages, signatures and commitments, not the revealed lists:
those are checked by :func:`swapproto.transcript.verify_transcript`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from swapproto._handshake_events import (
    Aborted,
    Committed,
    Event,
    Revealed,
    TermsAgreed,
    TermsSigned,
    VerdictGiven,
)
from swapproto._handshake_statement import check_statement, completeness_statement
from swapproto._handshake_table import BY_TYPE, PARTIES, TRANSITIONS, Phase, Transition
from swapproto.envelope import SignedEnvelope, verify_envelope
from swapproto.errors import (
    ErrorCode,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    SwapprotoError,
    VerificationError,
)
from swapproto.hashing import digest_equal
from swapproto.keys import SigningKey
from swapproto.manifest import HEADER_TYPE, VerifiedHeader, verify_header
from swapproto.messages import (
    Message,
    MessageType,
    commitment,
    make_message,
    parse_message,
    transcript_digest,
)
from swapproto.terms import Terms

__all__ = [
    "PARTIES",
    "TRANSITIONS",
    "Aborted",
    "Committed",
    "Event",
    "Observer",
    "Party",
    "Phase",
    "Revealed",
    "TermsAgreed",
    "TermsSigned",
    "Transition",
    "VerdictGiven",
    "completeness_statement",
    "other_party",
]

# --- the observer ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Side:
    phase: Phase = Phase.START
    next_seq: int = 0
    commits: dict[str, Message] = field(default_factory=dict)
    reveals: dict[str, Message] = field(default_factory=dict)
    terms_sign: Message | None = None
    abort: Message | None = None


class Observer:
    """Follows one exchange's messages and checks every rule; holds no keys.

    ``terms`` must be the agreed terms, obtained out of band (their
    :attr:`~swapproto.terms.Terms.fingerprint` compared with the one read aloud):
    every signature is checked against the keys they pin. Attributes: ``terms``,
    ``exchange_id``, ``events`` (every event so far, in order) and ``errored`` (true
    once a protocol error was raised; the object then refuses everything).
    """

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.exchange_id = terms.exchange_id
        self._policy = terms.trust_policy()
        self._sides = {role: _Side() for role in PARTIES}
        self._seen: list[bytes] = []
        self._slots: dict[tuple[str, int], bytes] = {}
        self._substantive: list[bytes] = []
        self._headers: dict[tuple[str, str], VerifiedHeader] = {}
        self.events: list[Event] = []
        self.errored = False

    # read-only views
    def _side(self, role: str) -> _Side:
        side = self._sides.get(role) if type(role) is str else None
        if side is None:
            raise _not_a_party(role)
        return side

    def next_seq(self, role: str) -> int:
        """The sequence number expected next from ``role``."""
        return self._side(role).next_seq

    def revealed_header(self, role: str, list_name: str) -> VerifiedHeader:
        """The verified manifest header ``role`` revealed for ``list_name``.

        ``LocalProtocolError`` if ``role`` has not revealed that list (yet).
        """
        self._side(role)
        header = self._headers.get((role, list_name))
        if header is None:
            raise LocalProtocolError(f"party {role} has not revealed a list named {list_name!r}")
        return header

    def phase(self, role: str) -> Phase:
        """The phase of party ``role``."""
        return self._side(role).phase

    @property
    def aborted(self) -> bool:
        """Whether either party aborted."""
        return any(s.phase is Phase.ABORTED for s in self._sides.values())

    def terms_signed(self, role: str) -> bool:
        """Whether party ``role`` signed the terms (an abort is not a signature)."""
        return self._side(role).terms_sign is not None

    @property
    def terms_agreed(self) -> bool:
        """Whether both parties signed the terms: only then are they in force."""
        return all(s.terms_sign is not None for s in self._sides.values())

    def abort_of(self, role: str) -> Message | None:
        """The abort message of party ``role``, if it aborted."""
        return self._side(role).abort

    def commits(self, role: str) -> dict[str, Message]:
        """The commit messages of ``role`` by list."""
        return dict(self._side(role).commits)

    def reveals(self, role: str) -> dict[str, Message]:
        """The reveal messages of ``role`` by list."""
        return dict(self._side(role).reveals)

    def seen_digest(self) -> bytes:
        """The digest of the terms, commit and reveal messages seen (what verdicts sign)."""
        return transcript_digest(self._substantive)

    def lists_of(self, role: str) -> tuple[str, ...]:
        """Names of the lists ``role`` submits."""
        return tuple(spec.name for spec in self.terms.lists if role in spec.submitters)

    # applying messages
    def receive(self, data: bytes | SignedEnvelope) -> list[Event]:
        """Verify and apply a message from the network; return the events it caused.

        Any problem, from bytes that do not parse or signatures that do not meet the
        sender's policy to a move the protocol forbids, raises
        :class:`~swapproto.errors.RemoteProtocolError` (the underlying error's code in
        ``exc.details["cause"]`` when there is one) and is terminal for this object.
        Another copy of a message already applied returns ``[]``.
        """
        return self._guarded(
            RemoteProtocolError, lambda: self._apply(self._parse(data, RemoteProtocolError))
        )

    def _guarded(self, error: type[ProtocolError], action: Any) -> list[Event]:
        if self.errored:
            raise error("this protocol object failed earlier and accepts nothing more")
        try:
            result: list[Event] = action()
            return result
        except ProtocolError:
            self.errored = True
            raise
        except SwapprotoError as exc:
            self.errored = True
            code = (
                ErrorCode.PROTOCOL_LOCAL
                if error is LocalProtocolError
                else ErrorCode.PROTOCOL_REMOTE
            )
            raise error(str(exc.args[0]), code=code, cause=exc.code) from exc

    def _parse(self, data: bytes | SignedEnvelope, error: type[ProtocolError]) -> Message:
        message = parse_message(data, self._policy)
        if message.sender not in PARTIES:
            raise error(f"{message.sender!r} is not a party and cannot move")
        if not digest_equal(message.exchange, self.exchange_id):
            raise error("message belongs to another exchange (replay?)")
        return message

    def _apply(
        self, message: Message, error: type[ProtocolError] = RemoteProtocolError
    ) -> list[Event]:
        side = self._sides[message.sender]
        if message.seq < side.next_seq:
            if self._slots.get((message.sender, message.seq)) == message.id:
                return []  # another copy of a message already applied: nothing happens
            raise error(
                f"{message.sender} signed two different messages with seq {message.seq}"
                " (equivocation)"
            )
        if message.seq != side.next_seq:
            raise error(f"{message.sender} sent seq {message.seq}, expected {side.next_seq}")
        known = set(self._seen)
        missing = [d for d in message.deps if d not in known]
        if missing:
            raise error(f"message depends on {len(missing)} message(s) not seen yet")
        self._check_move(message.sender, message.type, message.list_name, error)
        events = _HANDLERS[message.type](self, message, error)
        side.next_seq += 1
        self._slots[(message.sender, message.seq)] = message.id
        self._seen.append(message.id)
        if message.type in (MessageType.TERMS_SIGN, MessageType.COMMIT, MessageType.REVEAL):
            self._substantive.append(message.id)
        self._settle()
        self.events.extend(events)
        return events

    def _check_move(
        self, role: str, mtype: MessageType, list_name: str | None, error: type[ProtocolError]
    ) -> None:
        rule = BY_TYPE[mtype]
        side = self._sides[role]
        other = self._sides[other_party(role)]
        if self.aborted:
            raise error("the exchange was aborted; nothing more may be sent")
        if side.phase not in rule.sender_in:
            raise error(f"{mtype.name} is illegal for {role} in phase {side.phase.name}")
        if other.phase < rule.other_at_least:
            raise error(
                f"{mtype.name} by {role} needs the other party at {rule.other_at_least.name}, "
                f"it is at {other.phase.name}"
            )
        if rule.per_list:
            done = side.commits if mtype is MessageType.COMMIT else side.reveals
            if list_name not in self.lists_of(role):
                raise error(f"{role} submits no list named {list_name!r}")
            if list_name in done:
                raise error(f"{role} already sent {mtype.name} for {list_name!r}")

    def _advance(self, role: str, mtype: MessageType) -> None:
        rule = BY_TYPE[mtype]
        side = self._sides[role]
        if rule.per_list:
            done = side.commits if mtype is MessageType.COMMIT else side.reveals
            side.phase = rule.complete if len(done) == len(self.lists_of(role)) else rule.partial
        else:
            side.phase = rule.complete

    def _settle(self) -> None:
        # A party that submits no list is committed and revealed as soon as the table allows.
        for role in PARTIES:
            if self.lists_of(role):
                continue
            for mtype in (MessageType.COMMIT, MessageType.REVEAL):
                rule = BY_TYPE[mtype]
                other = self._sides[other_party(role)]
                side = self._sides[role]
                if (
                    side.phase in rule.sender_in
                    and other.phase >= rule.other_at_least
                    and not self.aborted
                ):
                    side.phase = rule.complete

    # per-type semantics
    def _on_terms_sign(self, message: Message, error: type[ProtocolError]) -> list[Event]:
        if message.body["terms"] != self.terms.to_bytes():
            raise error("signed terms differ from these terms")
        side = self._sides[message.sender]
        side.terms_sign = message
        self._advance(message.sender, message.type)
        events: list[Event] = [TermsSigned(sender=message.sender, message_id=message.id)]
        if self.terms_agreed:
            events.append(
                TermsAgreed(
                    sender=message.sender, message_id=message.id, exchange_id=self.exchange_id
                )
            )
        return events

    def _on_commit(self, message: Message, error: type[ProtocolError]) -> list[Event]:
        body = message.body
        value = body["commitment"]
        if type(value) is not bytes or len(value) != 32:
            raise error("commitment must be 32 bytes")
        signs = [s.terms_sign.id for s in self._sides.values() if s.terms_sign is not None]
        if not set(signs) <= set(message.deps):
            raise error("a commit must depend on both parties' signatures of the terms")
        check_statement(self.terms, message, error)
        self._sides[message.sender].commits[body["list"]] = message
        self._advance(message.sender, message.type)
        return [
            Committed(
                sender=message.sender,
                message_id=message.id,
                list_name=body["list"],
                commitment=value,
            )
        ]

    def _on_reveal(self, message: Message, error: type[ProtocolError]) -> list[Event]:
        body = message.body
        role, list_name = message.sender, body["list"]
        side = self._sides[role]
        all_commits = {m.id for s in self._sides.values() for m in s.commits.values()}
        if not all_commits <= set(message.deps):
            raise error("a reveal must depend on every commit of both parties (commit-then-reveal)")
        commit = side.commits.get(list_name)
        if commit is None:
            raise error(f"{role} reveals {list_name!r} without having committed to it")
        header = _check_opening(self, message, commit, error)
        content = body["content"]
        if (
            type(content) is not dict
            or list(content) != ["sealed", "sha256", "size"]
            or type(content["sealed"]) is not bool
            or type(content["sha256"]) is not bytes
            or len(content["sha256"]) != 32
            or type(content["size"]) is not int
            or content["size"] < 0
        ):
            raise error("reveal content must be {sealed: bool, sha256: 32 bytes, size: int >= 0}")
        if content["sealed"] is not self.terms.sealed:
            raise error("reveal sealing does not follow the terms")
        side.reveals[list_name] = message
        self._headers[(role, list_name)] = header
        self._advance(role, message.type)
        return [
            Revealed(
                sender=role,
                message_id=message.id,
                list_name=list_name,
                header=header,
                content=content,
            )
        ]

    def _on_verdict(self, message: Message, error: type[ProtocolError]) -> list[Event]:
        body = message.body
        verdict, reasons, seen = body["verdict"], body["reasons"], body["seen"]
        if verdict not in ("accept", "dispute"):
            raise error("verdict must be accept or dispute")
        if type(reasons) is not list or any(type(r) is not str for r in reasons):
            raise error("reasons must be a list of strings")
        if verdict == "dispute" and not reasons:
            raise error("a dispute must give at least one reason")
        if type(seen) is not bytes or len(seen) != 32:
            raise error("seen must be a 32-byte digest")
        self._advance(message.sender, message.type)
        matches = digest_equal(seen, self.seen_digest())
        return [
            VerdictGiven(
                sender=message.sender,
                message_id=message.id,
                accepted=verdict == "accept",
                reasons=tuple(reasons),
                seen=seen,
                matches=matches,
            )
        ]

    def _on_abort(self, message: Message, error: type[ProtocolError]) -> list[Event]:
        if type(message.body["reason"]) is not str:
            raise error("abort reason must be a string")
        self._sides[message.sender].abort = message
        self._advance(message.sender, message.type)
        return [
            Aborted(sender=message.sender, message_id=message.id, reason=message.body["reason"])
        ]


_HANDLERS: Final = {
    MessageType.TERMS_SIGN: Observer._on_terms_sign,
    MessageType.COMMIT: Observer._on_commit,
    MessageType.REVEAL: Observer._on_reveal,
    MessageType.VERDICT: Observer._on_verdict,
    MessageType.ABORT: Observer._on_abort,
}


def other_party(role: str) -> str:
    """The party that is not ``role`` (``a`` or ``b``; ``LocalProtocolError`` otherwise)."""
    if role == "a":
        return "b"
    if role == "b":
        return "a"
    raise _not_a_party(role)


def _not_a_party(role: object) -> LocalProtocolError:
    return LocalProtocolError(f"{repr(role)[:40]} is not a party: a role is 'a' or 'b'")


def _check_opening(
    obs: Observer, message: Message, commit: Message, error: type[ProtocolError]
) -> VerifiedHeader:
    body = message.body
    nonce, header_bytes = body["nonce"], body["header"]
    if type(nonce) is not bytes or len(nonce) != 32 or type(header_bytes) is not bytes:
        raise error("reveal needs a 32-byte nonce and the header envelope")
    policy = obs.terms.trust_policy()
    header = verify_header(header_bytes, policy.role(message.sender))
    for cosigner in obs.terms.signers_for(body["list"], message.sender)[1:]:
        # A list the terms want signed by a commission needs its threshold too.
        try:
            verify_envelope(header.envelope, policy.role(cosigner), payload_type=HEADER_TYPE)
        except VerificationError as exc:
            raise VerificationError(
                f"list {body['list']!r} must also be signed by {cosigner}: {exc.args[0]}",
                code=exc.code,
            ) from exc
    if not digest_equal(commitment(nonce, header.digest), commit.body["commitment"]):
        raise VerificationError(
            "the revealed header does not open the commitment (list changed after commit?)",
            code=ErrorCode.VERIFY_COMMITMENT,
        )
    h = header.header
    spec = obs.terms.list(body["list"])
    if (
        h.exchange != obs.exchange_id
        or h.list_name != spec.name
        or h.issuer != message.sender
        or h.kind != spec.kind
    ):
        raise error("the revealed manifest is not this party's list of this exchange")
    return header


# --- the party -----------------------------------------------------------------------------------


class Party(Observer):
    """An observer that also makes ``role``'s moves, signed with ``keys``.

    Each move method (:meth:`sign_terms`, :meth:`commit`, :meth:`reveal`,
    :meth:`verdict`, :meth:`abort`) checks the move against the same table the peer is
    checked by, signs it, applies it locally and returns the envelope to send; the
    peer's messages go to :meth:`receive`. An illegal move raises
    :class:`~swapproto.errors.LocalProtocolError` and is terminal for this object
    (:meth:`check_move` asks first without that cost). The constructor raises
    ``LocalProtocolError`` if ``role`` is not ``a`` or ``b`` or a key is not one of
    the role's keys in ``terms``.
    """

    def __init__(self, terms: Terms, role: str, keys: Sequence[SigningKey]) -> None:
        super().__init__(terms)
        if role not in PARTIES:
            raise _not_a_party(role)
        keys = list(keys)  # read once: a generator would be empty after the check
        if not all(isinstance(k, SigningKey) for k in keys):
            raise TypeError("keys must be SigningKey objects: the party's private keys")
        self.role = PARTIES[PARTIES.index(role)]  # the plain str, not an equal subclass
        self._keys = keys
        role_keys = self._policy.role(role).keys
        if not all(k.key_id in role_keys for k in self._keys):
            raise LocalProtocolError(
                f"a signing key is not one of party {role}'s keys in the terms"
            )

    def _make(
        self,
        mtype: MessageType,
        make_body: Callable[[], dict[str, Any]],
        *,
        now: int,
        deps: list[bytes],
    ) -> SignedEnvelope:
        def build() -> list[Event]:
            body = make_body()  # inside the guard: a bad argument is a local protocol error
            self._check_move(self.role, mtype, body.get("list"), LocalProtocolError)
            envelope = make_message(
                mtype,
                exchange=self.exchange_id,
                sender=self.role,
                seq=self._sides[self.role].next_seq,
                deps=deps,
                created_at=now,
                body=body,
                keys=self._keys,
            )
            self._last = envelope
            return self._apply(self._parse(envelope, LocalProtocolError), LocalProtocolError)

        self._guarded(LocalProtocolError, build)
        return self._last

    def check_move(self, mtype: MessageType, list_name: str | None = None) -> None:
        """Ask whether our move would be legal now; raises ``LocalProtocolError`` if not.

        A question, not a move: the object stays usable either way.
        """
        if not isinstance(mtype, MessageType):
            raise TypeError(f"mtype must be a MessageType, not {type(mtype).__name__}")
        if self.errored:
            raise LocalProtocolError("this protocol object failed earlier and accepts nothing more")
        self._check_move(self.role, mtype, list_name, LocalProtocolError)

    def _signatures_of_terms(self) -> list[bytes]:
        return [s.terms_sign.id for s in self._sides.values() if s.terms_sign is not None]

    def sign_terms(self, *, now: int) -> SignedEnvelope:
        """Sign the terms."""
        return self._make(
            MessageType.TERMS_SIGN, lambda: {"terms": self.terms.to_bytes()}, now=now, deps=[]
        )

    def commit(
        self,
        list_name: str,
        header_digest: bytes,
        *,
        nonce: bytes,
        now: int,
        statement: str | None = None,
    ) -> SignedEnvelope:
        """Commit to a signed manifest header (by its digest) with a fresh 32-byte nonce.

        ``header_digest`` is :attr:`~swapproto.manifest.VerifiedHeader.digest` of the
        list's header, verified under this role's policy; verify the whole manifest
        first (:func:`~swapproto.manifest_file.verify_manifest_file`), since a list that
        fails verification cannot be taken back after the commit. ``statement`` is the
        completeness statement (:func:`completeness_statement`) under ``all-for-all``,
        and ``None`` under every other rule; it is dated ``now``.

        Security: ``nonce`` must be 32 bytes from ``secrets.token_bytes(32)``, secret
        until :meth:`reveal` and never reused: it is what hides the list from the other
        party until both have committed. Keep it durably
        (:class:`~swapproto.exchange_dir.Opening`); without it the commit cannot be
        opened.
        """

        def body() -> dict[str, Any]:
            return {
                "commitment": commitment(nonce, header_digest),
                "list": list_name,
                "statement": None if statement is None else {"as_of": now, "text": statement},
            }

        return self._make(MessageType.COMMIT, body, now=now, deps=self._signatures_of_terms())

    def reveal(
        self, list_name: str, header: bytes, *, nonce: bytes, content: dict[str, Any], now: int
    ) -> SignedEnvelope:
        """Open the commitment for ``list_name``; refused until both parties committed.

        ``header`` is the manifest's header envelope bytes
        (:attr:`~swapproto.manifest_file.ManifestReader.header_bytes`) and ``nonce`` the
        commit's. ``content`` names the list as published: ``{"sealed": bool, "sha256":
        32-byte SHA-256 of the published bytes, "size": their length}``, where the
        published bytes are the manifest file sealed with
        :func:`~swapproto.sealing.seal_stream` to ``terms.recipients_for(list_name,
        role)`` under ``SealingContext(exchange_id, list_name, MessageType.REVEAL.value)``
        when ``terms.sealed``, else the file itself.
        :func:`swapproto.reveal.reveal_content` (in memory) and
        :func:`~swapproto.reveal.write_reveal_content` (streams) make the
        published bytes and return the dict;
        :meth:`~swapproto.exchange_dir.ExchangeDir.store_content` also stores them in an
        exchange directory.
        """
        commits = [m.id for s in self._sides.values() for m in s.commits.values()]
        body = {"content": content, "header": header, "list": list_name, "nonce": nonce}
        return self._make(MessageType.REVEAL, lambda: body, now=now, deps=commits)

    def verdict(self, *, accept: bool, reasons: Sequence[str] = (), now: int) -> SignedEnvelope:
        """Accept, or dispute with reasons, signing the digest of what we saw.

        ``accept`` must be a ``bool`` and ``reasons`` a sequence of ``str`` (not one
        ``str``): anything else is a ``TypeError``, since a truthy ``"false"`` would sign
        an acceptance and a string would sign one reason per character.
        """
        if type(accept) is not bool:
            raise TypeError(f"accept must be True or False, not {type(accept).__name__}")
        if isinstance(reasons, str | bytes):
            raise TypeError("reasons must be a sequence of str, such as a list of str")
        reasons = list(reasons)  # read once: a generator would be empty after the check
        if not all(type(r) is str for r in reasons):
            raise TypeError("reasons must be a sequence of str, such as a list of str")
        body = {
            "reasons": list(reasons),
            "seen": self.seen_digest(),
            "verdict": "accept" if accept else "dispute",
        }
        return self._make(MessageType.VERDICT, lambda: body, now=now, deps=list(self._substantive))

    def abort(self, reason: str, *, now: int) -> SignedEnvelope:
        """Abandon the exchange (``reason`` a ``str``, else ``TypeError``)."""
        if type(reason) is not str:
            raise TypeError(f"reason must be a str, not {type(reason).__name__}")
        return self._make(
            MessageType.ABORT, lambda: {"reason": reason}, now=now, deps=list(self._seen)
        )
