"""The sans-IO handshake: the transition table row by row, events, sequence numbers, deps.

Every legal move is accepted and every illegal one refused, on both sides: a
:class:`Party` refuses to *make* an illegal move (``LocalProtocolError``), and a party
or :class:`Observer` refuses to *receive* one (``RemoteProtocolError``), which the
tests forge with :func:`exchange_kit.forge`. Any error is terminal for that object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import exchange_kit as kit
from swapproto.envelope import SignedEnvelope
from swapproto.errors import (
    ErrorCode,
    InputError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from swapproto.handshake import (
    PARTIES,
    TRANSITIONS,
    Aborted,
    Committed,
    Event,
    Observer,
    Party,
    Phase,
    Revealed,
    TermsAgreed,
    TermsSigned,
    VerdictGiven,
    completeness_statement,
)
from swapproto.messages import MessageType, commitment, message_id, transcript_digest
from swapproto.terms import Terms

COMMIT, REVEAL, VERDICT, ABORT, SIGN = (
    MessageType.COMMIT,
    MessageType.REVEAL,
    MessageType.VERDICT,
    MessageType.ABORT,
    MessageType.TERMS_SIGN,
)


def ids(x: kit.Exchange, *labels: str) -> list[bytes]:
    return [message_id(x[label]) for label in labels]


def remote_refuses(
    receiver: Observer, envelope: SignedEnvelope, match: str
) -> pytest.ExceptionInfo[RemoteProtocolError]:
    with pytest.raises(RemoteProtocolError, match=match) as info:
        receiver.receive(envelope)
    assert info.value.code == ErrorCode.PROTOCOL_REMOTE
    assert receiver.errored
    return info


def local_refuses(
    action: Callable[[], object], match: str
) -> pytest.ExceptionInfo[LocalProtocolError]:
    with pytest.raises(LocalProtocolError, match=match) as info:
        action()
    assert info.value.code == ErrorCode.PROTOCOL_LOCAL
    return info


def reveal_body(x: kit.Exchange, role: str, **changes: Any) -> dict[str, Any]:
    content, _ = kit.content_for(x.terms, role, x.lists[role].data)
    body = {
        "content": content,
        "header": x.lists[role].header,
        "list": kit.LIST,
        "nonce": kit.nonce_for(role),
    }
    body.update(changes)
    return body


def statement_of(role: str, when: int = kit.NOW, terms: Terms | None = None) -> dict[str, Any]:
    """The completeness statement ``role`` must sign in a commit dated ``when``."""
    text = completeness_statement(terms or kit.make_terms(), role, kit.LIST, when)
    return {"as_of": when, "text": text}


def commit_body(
    digest: bytes, *, nonce: bytes | None = None, role: str = "a", **changes: Any
) -> dict[str, Any]:
    statement = statement_of(role)
    body = {
        "commitment": commitment(nonce or kit.nonce_for("x"), digest),
        "list": kit.LIST,
        "statement": statement,
    }
    body.update(changes)
    return body


# --- the table --------------------------------------------------------------------------------


def test_one_row_per_message_type() -> None:
    assert sorted(t.message.value for t in TRANSITIONS) == sorted(m.value for m in MessageType)


def test_table_rows() -> None:
    rows = {t.message: t for t in TRANSITIONS}
    assert rows[SIGN].sender_in == {Phase.START}
    assert rows[COMMIT].sender_in == {Phase.TERMS_SIGNED, Phase.COMMITTING}
    assert rows[COMMIT].other_at_least is Phase.TERMS_SIGNED
    assert rows[REVEAL].sender_in == {Phase.COMMITTED, Phase.REVEALING}
    assert rows[REVEAL].other_at_least is Phase.COMMITTED  # commit-then-reveal
    assert rows[VERDICT].sender_in == {Phase.REVEALED}
    assert rows[VERDICT].other_at_least is Phase.REVEALED
    assert rows[ABORT].sender_in == {p for p in Phase if p < Phase.DONE}
    assert [t.per_list for t in TRANSITIONS] == [False, True, True, False, False]


# Which moves each party may make after the first n messages of an honest exchange.
LEGAL: list[tuple[set[MessageType], set[MessageType]]] = [
    ({SIGN, ABORT}, {SIGN, ABORT}),  # nothing yet
    ({ABORT}, {SIGN, ABORT}),  # a signed; a may not commit before b signs
    ({COMMIT, ABORT}, {COMMIT, ABORT}),
    ({ABORT}, {COMMIT, ABORT}),  # a committed; a may not reveal before b commits
    ({REVEAL, ABORT}, {REVEAL, ABORT}),
    ({ABORT}, {REVEAL, ABORT}),  # a revealed; no verdict before b reveals
    ({VERDICT, ABORT}, {VERDICT, ABORT}),
    (set(), {VERDICT, ABORT}),  # a gave its verdict: done, it cannot even abort
    (set(), set()),
]
PHASES: list[tuple[Phase, Phase]] = [
    (Phase.START, Phase.START),
    (Phase.TERMS_SIGNED, Phase.START),
    (Phase.TERMS_SIGNED, Phase.TERMS_SIGNED),
    (Phase.COMMITTED, Phase.TERMS_SIGNED),
    (Phase.COMMITTED, Phase.COMMITTED),
    (Phase.REVEALED, Phase.COMMITTED),
    (Phase.REVEALED, Phase.REVEALED),
    (Phase.DONE, Phase.REVEALED),
    (Phase.DONE, Phase.DONE),
]


@pytest.mark.parametrize("step", range(len(LEGAL)))
def test_every_move_is_legal_exactly_where_the_table_says(
    exchange: kit.Exchange, step: int
) -> None:
    for index, role in enumerate(PARTIES):
        party = exchange.party(role, upto=step)
        assert party.phase(role) is PHASES[step][index]
        for mtype in MessageType:
            list_name = kit.LIST if mtype in (COMMIT, REVEAL) else None
            if mtype in LEGAL[step][index]:
                party.check_move(mtype, list_name)
            else:
                with pytest.raises(LocalProtocolError, match=mtype.name) as info:
                    party.check_move(mtype, list_name)
                assert info.value.code == ErrorCode.PROTOCOL_LOCAL
        assert not party.errored  # check_move asks; it never breaks the object


@pytest.mark.parametrize("step", range(len(kit.STEPS)))
def test_each_honest_move_is_accepted_by_everyone(exchange: kit.Exchange, step: int) -> None:
    label, envelope = exchange.messages[step]
    receivers = [exchange.party("a", step), exchange.party("b", step), exchange.observer(step)]
    for receiver in receivers:
        assert receiver.receive(envelope)  # at least one event
        assert receiver.phase(label[0]) is PHASES[step + 1]["ab".index(label[0])]


# --- events: two parties and an observer on one link (h11 style) ------------------------------

EXPECTED_EVENTS: list[list[type[Event]]] = [
    [TermsSigned],
    [TermsSigned, TermsAgreed],
    [Committed],
    [Committed],
    [Revealed],
    [Revealed],
    [VerdictGiven],
    [VerdictGiven],
]


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_parties_and_observer_see_the_same_events(sealed: bool) -> None:
    terms = kit.make_terms(sealed=sealed)
    link = kit.Link(terms, {r: kit.keys().signing(r) for r in PARTIES})
    x = kit.run_exchange(terms, link=link)
    assert [d.sender for d in link.log] == [label[0] for label in kit.STEPS]
    for delivery, expected in zip(link.log, EXPECTED_EVENTS, strict=True):
        own, other, observer = delivery.events
        assert own == other == observer
        assert [type(e) for e in own] == expected
        assert all(e.sender == delivery.sender for e in own)
        assert all(e.message_id == message_id(delivery.envelope) for e in own)
    a, b, obs = link.endpoints()
    assert a.events == b.events == obs.events
    assert len(obs.events) == 9
    assert obs.seen_digest() == a.seen_digest() == b.seen_digest()
    assert all(p is Phase.DONE for p in (obs.phase("a"), obs.phase("b")))
    assert x.terms is terms


def test_event_contents(exchange: kit.Exchange) -> None:
    events = exchange.observer().events
    agreed = [e for e in events if isinstance(e, TermsAgreed)]
    assert [e.exchange_id for e in agreed] == [exchange.terms.exchange_id]
    commits = [e for e in events if isinstance(e, Committed)]
    for event in commits:
        digest = exchange.lists[event.sender].digest
        assert event.commitment == commitment(kit.nonce_for(event.sender), digest)
        assert event.list_name == kit.LIST
    reveals = [e for e in events if isinstance(e, Revealed)]
    for reveal in reveals:
        assert reveal.header.digest == exchange.lists[reveal.sender].digest
        assert reveal.header.header.count == kit.ENTRIES
        assert reveal.content == exchange.contents[reveal.sender]
    verdicts = [e for e in events if isinstance(e, VerdictGiven)]
    assert [(v.sender, v.accepted, v.matches, v.reasons) for v in verdicts] == [
        ("a", True, True, ()),
        ("b", True, True, ()),
    ]


def test_a_dispute_carries_its_reasons() -> None:
    x = kit.run_exchange(kit.make_terms(), accept=(True, False))
    verdict = x.observer().events[-1]
    assert isinstance(verdict, VerdictGiven)
    assert (verdict.sender, verdict.accepted) == ("b", False)
    assert verdict.reasons == ("the list is incomplete",)


def test_an_abort_is_an_event_for_everyone() -> None:
    terms = kit.make_terms()
    link = kit.Link(terms, {r: kit.keys().signing(r) for r in PARTIES})
    kit.run_exchange(terms, until="committed", link=link)
    link.send("b", lambda party: party.abort("talks broke down", now=kit.NOW))
    own, other, observer = link.log[-1].events
    assert own == other == observer
    assert [(type(e), e.sender) for e in own] == [(Aborted, "b")]
    assert isinstance(own[0], Aborted)
    assert own[0].reason == "talks broke down"
    assert all(e.aborted for e in link.endpoints())
    assert all(e.phase("b") is Phase.ABORTED for e in link.endpoints())


# --- sequence numbers and deps ----------------------------------------------------------------


def test_sequence_numbers_count_each_senders_messages(exchange: kit.Exchange) -> None:
    observer = Observer(exchange.terms)
    expected = {"a": 0, "b": 0}
    for label, envelope in exchange.messages:
        assert kit.payload_of(envelope)["seq"] == expected[label[0]]
        observer.receive(envelope)
        expected[label[0]] += 1
        assert (observer.next_seq("a"), observer.next_seq("b")) == (expected["a"], expected["b"])
    assert expected == {"a": 4, "b": 4}


def test_deps_name_what_each_move_rests_on(exchange: kit.Exchange) -> None:
    def deps(label: str) -> set[bytes]:
        return set(kit.payload_of(exchange[label])["deps"])

    signs = set(ids(exchange, "a-terms-sign", "b-terms-sign"))
    commits = set(ids(exchange, "a-commit", "b-commit"))
    reveals = set(ids(exchange, "a-reveal", "b-reveal"))
    assert deps("a-terms-sign") == deps("b-terms-sign") == set()
    assert deps("a-commit") == deps("b-commit") == signs
    assert deps("a-reveal") == deps("b-reveal") == commits  # held both commits first
    assert deps("a-verdict") == deps("b-verdict") == signs | commits | reveals


def test_verdicts_sign_the_digest_of_terms_commits_and_reveals(exchange: kit.Exchange) -> None:
    substantive = ids(exchange, *kit.STEPS[:6])
    for label in ("a-verdict", "b-verdict"):
        assert kit.payload_of(exchange[label])["body"]["seen"] == transcript_digest(substantive)


def test_an_abort_depends_on_everything_its_sender_saw(exchange: kit.Exchange) -> None:
    party = exchange.party("b", upto=5)
    envelope = party.abort("no", now=kit.NOW)
    assert kit.payload_of(envelope)["deps"] == sorted(ids(exchange, *kit.STEPS[:5]))


def test_a_skipped_sequence_number_is_refused(exchange: kit.Exchange) -> None:
    observer = exchange.observer(2)
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    forged = kit.forge(
        COMMIT, commit_body(exchange.lists["a"].digest), sender="a", seq=2, deps=deps
    )
    remote_refuses(observer, forged, "a sent seq 2, expected 1")


def test_a_dependency_not_seen_is_refused(exchange: kit.Exchange) -> None:
    observer = exchange.observer(2)
    deps = [*ids(exchange, "a-terms-sign", "b-terms-sign"), b"\x07" * 32]
    forged = kit.forge(
        COMMIT, commit_body(exchange.lists["a"].digest), sender="a", seq=1, deps=deps
    )
    remote_refuses(observer, forged, r"depends on 1 message\(s\) not seen")


def test_a_copy_of_a_message_already_applied_changes_nothing(exchange: kit.Exchange) -> None:
    observer = exchange.observer(4)
    before = list(observer.events)
    assert observer.receive(exchange["a-commit"]) == []
    padded = exchange["a-commit"].add_signature(kit.keys().outsider)  # same statement
    assert observer.receive(padded) == []
    assert observer.events == before
    assert observer.receive(exchange["a-reveal"])  # still usable


def test_another_message_with_a_used_sequence_number_is_equivocation(
    exchange: kit.Exchange,
) -> None:
    observer = exchange.observer(4)
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    other = commit_body(exchange.lists["a"].digest, nonce=b"\x09" * 32)
    forged = kit.forge(COMMIT, other, sender="a", seq=1, deps=deps)
    remote_refuses(observer, forged, "equivocation")


# --- terms signatures -------------------------------------------------------------------------


def test_signing_twice_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=2)
    local_refuses(lambda: party.sign_terms(now=kit.NOW), "TERMS_SIGN is illegal for a")
    body = {"terms": exchange.terms.to_bytes()}
    forged = kit.forge(SIGN, body, sender="a", seq=1)
    remote_refuses(exchange.observer(2), forged, "TERMS_SIGN is illegal for a in phase")


def test_a_signature_of_other_terms_is_refused(terms: Terms) -> None:
    other = kit.make_terms(label="Another exchange")
    forged = kit.forge(SIGN, {"terms": other.to_bytes()}, sender="a", seq=0, terms=terms)
    remote_refuses(Observer(terms), forged, "signed terms differ")


# --- commits ----------------------------------------------------------------------------------


def test_committing_before_the_other_signed_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=1)
    digest = exchange.lists["a"].digest
    local_refuses(
        lambda: party.commit(kit.LIST, digest, nonce=kit.nonce_for("a"), now=kit.NOW),
        "needs the other party at TERMS_SIGNED",
    )
    forged = kit.forge(
        COMMIT, commit_body(digest), sender="a", seq=1, deps=ids(exchange, "a-terms-sign")
    )
    remote_refuses(exchange.observer(1), forged, "needs the other party at TERMS_SIGNED")


def test_committing_twice_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=4)
    digest = exchange.lists["a"].digest
    local_refuses(
        lambda: party.commit(
            kit.LIST, digest, nonce=b"\x01" * 32, now=kit.NOW, statement=statement_of("a")["text"]
        ),
        "COMMIT is illegal for a in phase COMMITTED",
    )
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    forged = kit.forge(COMMIT, commit_body(digest), sender="a", seq=2, deps=deps)
    remote_refuses(exchange.observer(4), forged, "COMMIT is illegal for a in phase COMMITTED")


@pytest.mark.parametrize(("nonce", "digest"), [(b"\1" * 31, None), (None, b"\0" * 16)])
def test_a_commitment_needs_32_byte_inputs(
    exchange: kit.Exchange, nonce: bytes | None, digest: bytes | None
) -> None:
    party = exchange.party("a", upto=2)
    info = local_refuses(
        lambda: party.commit(
            kit.LIST,
            digest or exchange.lists["a"].digest,
            nonce=nonce or kit.nonce_for("a"),
            now=kit.NOW,
            statement=statement_of("a")["text"],
        ),
        "commitment inputs must be 32 bytes",
    )
    assert info.value.details["cause"] == ErrorCode.VERIFY_DIGEST
    assert party.errored
    assert party.next_seq("a") == 1  # nothing was made


def test_committing_to_a_list_not_in_the_terms_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=2)
    local_refuses(
        lambda: party.commit("other", b"\0" * 32, nonce=b"\1" * 32, now=kit.NOW),
        "submits no list named 'other'",
    )
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    forged = kit.forge(COMMIT, commit_body(b"\0" * 32, list="other"), sender="a", seq=1, deps=deps)
    remote_refuses(exchange.observer(2), forged, "submits no list named 'other'")


def test_a_commit_must_rest_on_both_signatures(exchange: kit.Exchange) -> None:
    forged = kit.forge(
        COMMIT,
        commit_body(exchange.lists["a"].digest),
        sender="a",
        seq=1,
        deps=ids(exchange, "a-terms-sign"),
    )
    remote_refuses(exchange.observer(2), forged, "depend on both parties' signatures")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"commitment": b"\0" * 31}, "commitment must be 32 bytes"),
        ({"statement": None}, "must carry the completeness statement"),
        ({"statement": {"as_of": kit.NOW, "text": ""}}, "not the agreed wording"),
        ({"statement": "complete"}, "statement must be"),
        ({"statement": {"as_of": kit.NOW}}, "statement must be"),
        ({"statement": {"as_of": str(kit.NOW), "text": "x"}}, "statement must be"),
        (
            {"statement": {"as_of": kit.NOW, "text": "Ukraine declares list 'pows' complete."}},
            "not the agreed wording",
        ),
        ({"statement": statement_of("b")}, "not the agreed wording"),  # b's words, a's commit
        ({"statement": statement_of("a", kit.NOW - 86400)}, r"as_of = created_at"),
        ({"statement": {**statement_of("a"), "as_of": kit.NOW + 1}}, r"as_of = created_at"),
    ],
    ids=[
        "short commitment",
        "no statement",
        "empty statement",
        "statement as text",
        "statement without text",
        "as_of not an int",
        "weaker words",
        "the other party's words",
        "dated the day before",
        "as_of a second off",
    ],
)
def test_malformed_commits_are_refused(
    exchange: kit.Exchange, changes: dict[str, Any], match: str
) -> None:
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    body = commit_body(exchange.lists["a"].digest, **changes)
    forged = kit.forge(COMMIT, body, sender="a", seq=1, deps=deps)
    remote_refuses(exchange.observer(2), forged, match)


def test_an_all_for_all_commit_needs_the_completeness_statement(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=2)
    local_refuses(
        lambda: party.commit(
            kit.LIST, exchange.lists["a"].digest, nonce=kit.nonce_for("a"), now=kit.NOW
        ),
        "completeness statement",
    )


@pytest.mark.parametrize(
    ("statement", "match"),
    [
        ("Ukraine declares list 'pows' complete.", "not the agreed wording"),
        ("", "not the agreed wording"),
        (statement_of("a", kit.NOW - 86400)["text"], "not the agreed wording"),
    ],
    ids=["weaker words", "empty", "another day's words"],
)
def test_a_party_cannot_sign_other_words(
    exchange: kit.Exchange, statement: str, match: str
) -> None:
    party = exchange.party("a", upto=2)
    local_refuses(
        lambda: party.commit(
            kit.LIST,
            exchange.lists["a"].digest,
            nonce=kit.nonce_for("a"),
            now=kit.NOW,
            statement=statement,
        ),
        match,
    )
    assert party.errored


def test_a_statement_dated_when_the_commit_is_accepted() -> None:
    """The words follow the commit's date: a commit on another day says that day."""
    x = kit.honest("terms-agreed")
    later = kit.NOW + 3 * 86400
    party = x.party("a")
    text = completeness_statement(x.terms, "a", kit.LIST, later)
    assert text is not None
    assert text.endswith("as of 2025-06-06.")
    envelope = party.commit(
        kit.LIST, x.lists["a"].digest, nonce=kit.nonce_for("a"), now=later, statement=text
    )
    assert kit.payload_of(envelope)["body"]["statement"] == {"as_of": later, "text": text}
    assert x.observer().receive(envelope)


COUNT_RULES = [("exact-count", 20), ("min-count", 1), ("equal-count", None)]


@pytest.mark.parametrize(("rule", "count"), COUNT_RULES, ids=[r for r, _ in COUNT_RULES])
def test_other_rules_carry_no_statement(rule: str, count: int | None) -> None:
    terms = kit.make_terms(rule=rule, count=count)
    x = kit.run_exchange(terms, until="terms-agreed")
    assert completeness_statement(terms, "a", kit.LIST, kit.NOW) is None
    party = x.party("a")
    local_refuses(
        lambda: party.commit(
            kit.LIST,
            x.lists["a"].digest,
            nonce=kit.nonce_for("a"),
            now=kit.NOW,
            statement=statement_of("a", terms=kit.make_terms())["text"],
        ),
        f"a commit under {rule} carries no completeness statement",
    )
    deps = ids(x, "a-terms-sign", "b-terms-sign")
    body = commit_body(x.lists["a"].digest)  # carries the all-for-all words
    forged = kit.forge(COMMIT, body, sender="a", seq=1, deps=deps, terms=terms)
    remote_refuses(x.observer(), forged, "carries no completeness statement")
    honest = kit.run_exchange(terms)  # the kit commits with statement None under these rules
    assert honest.observer().phase("b") is Phase.DONE
    assert kit.payload_of(honest["a-commit"])["body"]["statement"] is None


def test_completeness_statement() -> None:
    terms = kit.make_terms()
    text = completeness_statement(terms, "a", kit.LIST, kit.NOW)
    assert text == (
        "Ukraine declares list 'pows' complete: it names every person it holds who is "
        "eligible under the agreed terms, as of 2025-06-03."
    )
    other = completeness_statement(terms, "b", kit.LIST, kit.NOW)
    assert other is not None
    assert other.startswith("Russian Federation declares list 'pows' complete")
    counted = kit.make_terms(rule="exact-count", count=20)
    assert completeness_statement(counted, "a", kit.LIST, kit.NOW) is None


def test_a_commit_dated_past_the_calendar_is_refused(exchange: kit.Exchange) -> None:
    with pytest.raises(InputError) as info:
        completeness_statement(exchange.terms, "a", kit.LIST, 2**62)
    assert info.value.code == ErrorCode.INPUT_INVALID
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    body = commit_body(exchange.lists["a"].digest, statement={"as_of": 2**62, "text": "x"})
    forged = kit.forge(COMMIT, body, sender="a", seq=1, deps=deps, created_at=2**62)
    info2 = remote_refuses(exchange.observer(2), forged, "UTC calendar date")
    assert info2.value.details["cause"] == ErrorCode.INPUT_INVALID


# --- reveals ----------------------------------------------------------------------------------


def test_revealing_before_holding_the_counterparts_commit_is_refused(
    exchange: kit.Exchange,
) -> None:
    party = exchange.party("a", upto=3)  # a committed, b has not
    local_refuses(lambda: party.check_move(REVEAL, kit.LIST), "needs the other party at COMMITTED")
    assert not party.errored
    body = reveal_body(exchange, "a")
    local_refuses(
        lambda: party.reveal(
            kit.LIST, body["header"], nonce=body["nonce"], content=body["content"], now=kit.NOW
        ),
        "needs the other party at COMMITTED",
    )
    forged = kit.forge(REVEAL, body, sender="a", seq=2, deps=ids(exchange, "a-commit"))
    remote_refuses(exchange.observer(3), forged, "needs the other party at COMMITTED")


def test_a_reveal_must_rest_on_both_commits(exchange: kit.Exchange) -> None:
    body = reveal_body(exchange, "a")
    forged = kit.forge(REVEAL, body, sender="a", seq=2, deps=ids(exchange, "a-commit"))
    remote_refuses(exchange.observer(4), forged, "depend on every commit of both parties")


def test_revealing_twice_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=6)
    body = reveal_body(exchange, "a")
    local_refuses(
        lambda: party.reveal(
            kit.LIST, body["header"], nonce=body["nonce"], content=body["content"], now=kit.NOW
        ),
        "REVEAL is illegal for a in phase REVEALED",
    )
    deps = ids(exchange, "a-commit", "b-commit")
    forged = kit.forge(REVEAL, body, sender="a", seq=3, deps=deps)
    remote_refuses(exchange.observer(6), forged, "REVEAL is illegal for a in phase REVEALED")


def test_a_reveal_with_the_wrong_nonce_does_not_open_the_commitment(
    exchange: kit.Exchange,
) -> None:
    party = exchange.party("a", upto=4)
    body = reveal_body(exchange, "a")
    local_refuses(
        lambda: party.reveal(
            kit.LIST, body["header"], nonce=b"\x05" * 32, content=body["content"], now=kit.NOW
        ),
        "does not open the commitment",
    )
    assert party.errored
    forged = kit.forge(
        REVEAL,
        reveal_body(exchange, "a", nonce=b"\x05" * 32),
        sender="a",
        seq=2,
        deps=ids(exchange, "a-commit", "b-commit"),
    )
    info = remote_refuses(exchange.observer(4), forged, "does not open the commitment")
    assert info.value.details["cause"] == ErrorCode.VERIFY_COMMITMENT


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"sealed": False}, "reveal content must be"),
        ({"sealed": False, "sha256": b"\0" * 31, "size": 1}, "reveal content must be"),
        ({"sealed": 0, "sha256": b"\0" * 32, "size": 1}, "reveal content must be"),
        ({"sealed": False, "sha256": b"\0" * 32, "size": -1}, "reveal content must be"),
        ({"sealed": True, "sha256": b"\0" * 32, "size": 1}, "sealing does not follow the terms"),
    ],
    ids=[
        "missing fields",
        "short digest",
        "sealed not bool",
        "negative size",
        "sealed against the terms",
    ],
)
def test_malformed_reveal_content_is_refused(
    exchange: kit.Exchange, content: dict[str, Any], match: str
) -> None:
    body = reveal_body(exchange, "a", content=content)
    deps = ids(exchange, "a-commit", "b-commit")
    forged = kit.forge(REVEAL, body, sender="a", seq=2, deps=deps)
    remote_refuses(exchange.observer(4), forged, match)


def test_a_reveal_needs_a_32_byte_nonce(exchange: kit.Exchange) -> None:
    body = reveal_body(exchange, "a", nonce=b"\0" * 16)
    forged = kit.forge(REVEAL, body, sender="a", seq=2, deps=ids(exchange, "a-commit", "b-commit"))
    remote_refuses(exchange.observer(4), forged, "32-byte nonce")


def test_a_manifest_of_another_exchange_is_refused(exchange: kit.Exchange) -> None:
    """A committed header that is not bound to this exchange cannot be revealed."""
    other = kit.make_terms(label="Another exchange")
    foreign = kit.build_list(other, "a")
    nonce = kit.nonce_for("a", "foreign")
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    body = commit_body(foreign.digest, nonce=nonce)
    commit = kit.forge(COMMIT, body, sender="a", seq=1, deps=deps)
    observer = exchange.observer(2)
    observer.receive(commit)
    observer.receive(exchange["b-commit"])
    reveal = reveal_body(exchange, "a", header=foreign.header, nonce=nonce)
    forged = kit.forge(
        REVEAL, reveal, sender="a", seq=2, deps=[message_id(commit), *ids(exchange, "b-commit")]
    )
    remote_refuses(observer, forged, "not this party's list of this exchange")


def test_a_commission_must_co_sign_a_list_the_terms_say_it_signs() -> None:
    terms = kit.make_terms(commission=True)
    k = kit.keys()
    cosigned = {r: kit.build_list(terms, r, signers=[*k.signing(r), k.commission]) for r in "ab"}
    agreed = kit.run_exchange(terms, lists=cosigned)
    assert agreed.observer().phase("b") is Phase.DONE
    alone = {**cosigned, "a": kit.build_list(terms, "a")}
    with pytest.raises(LocalProtocolError) as info:
        kit.run_exchange(terms, lists=alone)
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


# --- verdicts ---------------------------------------------------------------------------------


def test_a_verdict_before_the_reveals_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=4)
    local_refuses(lambda: party.verdict(accept=True, now=kit.NOW), "VERDICT is illegal for a")
    body = {"reasons": [], "seen": b"\0" * 32, "verdict": "accept"}
    forged = kit.forge(VERDICT, body, sender="a", seq=2, deps=[])
    remote_refuses(exchange.observer(4), forged, "VERDICT is illegal for a in phase COMMITTED")


def test_a_verdict_before_the_other_revealed_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=5)  # a revealed, b has not
    local_refuses(
        lambda: party.verdict(accept=True, now=kit.NOW), "needs the other party at REVEALED"
    )
    body = {"reasons": [], "seen": b"\0" * 32, "verdict": "accept"}
    forged = kit.forge(VERDICT, body, sender="a", seq=3, deps=[])
    remote_refuses(exchange.observer(5), forged, "needs the other party at REVEALED")


def test_a_second_verdict_is_refused(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=8)
    local_refuses(lambda: party.verdict(accept=False, reasons=["x"], now=kit.NOW), "phase DONE")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"reasons": [], "seen": b"\0" * 32, "verdict": "maybe"}, "accept or dispute"),
        ({"reasons": [], "seen": b"\0" * 32, "verdict": "dispute"}, "at least one reason"),
        ({"reasons": [1], "seen": b"\0" * 32, "verdict": "dispute"}, "list of strings"),
        ({"reasons": [], "seen": b"\0" * 31, "verdict": "accept"}, "32-byte digest"),
    ],
    ids=["unknown verdict", "dispute without reason", "reason not text", "short digest"],
)
def test_malformed_verdicts_are_refused(
    exchange: kit.Exchange, body: dict[str, Any], match: str
) -> None:
    forged = kit.forge(VERDICT, body, sender="a", seq=3, deps=[])
    remote_refuses(exchange.observer(6), forged, match)


def test_a_dispute_without_reasons_is_refused_locally(exchange: kit.Exchange) -> None:
    party = exchange.party("b", upto=6)
    local_refuses(lambda: party.verdict(accept=False, now=kit.NOW), "at least one reason")


def test_a_verdict_over_another_digest_is_flagged(exchange: kit.Exchange) -> None:
    body = {"reasons": [], "seen": b"\x0e" * 32, "verdict": "accept"}
    forged = kit.forge(VERDICT, body, sender="a", seq=3, deps=[])
    events = exchange.observer(6).receive(forged)
    assert len(events) == 1
    assert isinstance(events[0], VerdictGiven)
    assert events[0].matches is False


# --- aborts -----------------------------------------------------------------------------------


MOVES: dict[str, Callable[[Party, kit.Exchange], object]] = {
    "sign": lambda p, x: p.sign_terms(now=kit.NOW),
    "commit": lambda p, x: p.commit(
        kit.LIST, x.lists[p.role].digest, nonce=kit.nonce_for(p.role), now=kit.NOW
    ),
    "reveal": lambda p, x: p.reveal(
        kit.LIST, x.lists[p.role].header, nonce=kit.nonce_for(p.role), content={}, now=kit.NOW
    ),
    "verdict": lambda p, x: p.verdict(accept=True, now=kit.NOW),
    "abort": lambda p, x: p.abort("again", now=kit.NOW),
}


@pytest.mark.parametrize("step", range(7))
def test_either_party_may_abort_before_its_verdict(exchange: kit.Exchange, step: int) -> None:
    for role in PARTIES:
        party = exchange.party(role, upto=step)
        envelope = party.abort("stop", now=kit.NOW)
        assert party.aborted
        assert party.phase(role) is Phase.ABORTED
        observer = exchange.observer(step)
        assert [type(e) for e in observer.receive(envelope)] == [Aborted]


@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("aborter", PARTIES)
def test_nothing_is_accepted_after_an_abort(
    exchange: kit.Exchange, move: str, aborter: str
) -> None:
    parties = {r: exchange.party(r, upto=2) for r in PARTIES}
    observer = exchange.observer(2)
    abort = parties[aborter].abort("stop", now=kit.NOW)
    observer.receive(abort)
    other = "b" if aborter == "a" else "a"
    parties[other].receive(abort)
    for party in parties.values():
        with pytest.raises(LocalProtocolError, match="was aborted"):
            MOVES[move](party, exchange)
    deps = ids(exchange, "a-terms-sign", "b-terms-sign")
    forged = kit.forge(
        COMMIT,
        commit_body(exchange.lists[other].digest, role=other),
        sender=other,
        seq=1,
        deps=deps,
    )
    remote_refuses(observer, forged, "aborted")


def test_terms_signatures_and_aborts_are_tracked_apart_from_phases(
    exchange: kit.Exchange,
) -> None:
    """ABORTED is a later phase than TERMS_SIGNED, but an abort is not a signature."""
    observer = exchange.observer(1)  # a signed
    assert (observer.terms_signed("a"), observer.terms_signed("b")) == (True, False)
    assert not observer.terms_agreed
    abort = exchange.party("b", upto=1).abort("no deal", now=kit.NOW)
    observer.receive(abort)
    assert observer.phase("b") is Phase.ABORTED
    assert observer.phase("b") >= Phase.TERMS_SIGNED
    assert not observer.terms_signed("b")
    assert not observer.terms_agreed
    aborted = observer.abort_of("b")
    assert aborted is not None
    assert aborted.id == message_id(abort)
    assert observer.abort_of("a") is None
    assert exchange.observer(2).terms_agreed


def test_no_abort_after_the_verdict(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=7)
    local_refuses(lambda: party.abort("late", now=kit.NOW), "ABORT is illegal for a in phase DONE")
    forged = kit.forge(ABORT, {"reason": "late"}, sender="a", seq=4, deps=[])
    remote_refuses(exchange.observer(7), forged, "ABORT is illegal for a in phase DONE")


def test_an_abort_reason_must_be_text(exchange: kit.Exchange) -> None:
    forged = kit.forge(ABORT, {"reason": 5}, sender="a", seq=1, deps=[])
    remote_refuses(exchange.observer(2), forged, "abort reason must be a string")


# --- bindings: exchange, sender, keys ---------------------------------------------------------


def test_a_message_for_another_exchange_is_refused(exchange: kit.Exchange) -> None:
    other = kit.make_terms(label="Another exchange")
    forged = kit.forge(
        SIGN, {"terms": exchange.terms.to_bytes()}, sender="a", seq=0, exchange=other.exchange_id
    )
    remote_refuses(Observer(exchange.terms), forged, "another exchange")


def test_a_mediator_cannot_move(exchange: kit.Exchange) -> None:
    forged = kit.forge(ABORT, {"reason": "I decide"}, sender="mediator:Turkiye", seq=0)
    remote_refuses(exchange.observer(2), forged, "not a party")


def test_a_badly_signed_message_is_refused_with_its_cause(exchange: kit.Exchange) -> None:
    forged = kit.forge(ABORT, {"reason": "x"}, sender="a", seq=1, signers=[kit.keys().b])
    info = remote_refuses(exchange.observer(2), forged, "trusted signatures")
    assert info.value.details["cause"] == ErrorCode.VERIFY_THRESHOLD


def test_a_party_needs_its_own_keys_and_a_party_role(terms: Terms) -> None:
    local_refuses(lambda: Party(terms, "a", [kit.keys().b]), "not one of party a's keys")
    local_refuses(lambda: Party(terms, "a", [kit.keys().outsider]), "not one of party a's keys")
    local_refuses(lambda: Party(terms, "mediator:Turkiye", [kit.keys().mediator]), "not a party")


# --- any error is terminal --------------------------------------------------------------------


def test_a_party_after_a_local_error_accepts_nothing(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=3)
    local_refuses(lambda: party.verdict(accept=True, now=kit.NOW), "VERDICT")
    assert party.errored
    # Not even the legal next message, nor the moves that were legal before.
    with pytest.raises(RemoteProtocolError, match="failed earlier") as info:
        party.receive(exchange["b-commit"])
    assert info.value.code == ErrorCode.PROTOCOL_REMOTE
    local_refuses(lambda: party.abort("x", now=kit.NOW), "failed earlier")
    local_refuses(lambda: party.check_move(ABORT), "failed earlier")
    assert party.next_seq("b") == 1  # nothing was applied


def test_a_party_after_a_remote_error_accepts_nothing(exchange: kit.Exchange) -> None:
    party = exchange.party("a", upto=2)
    remote_refuses(party, exchange["a-reveal"], "a sent seq 2, expected 1")
    local_refuses(
        lambda: party.commit(kit.LIST, exchange.lists["a"].digest, nonce=b"\1" * 32, now=kit.NOW),
        "failed earlier",
    )
    with pytest.raises(RemoteProtocolError, match="failed earlier"):
        party.receive(exchange["b-commit"])


def test_an_observer_after_an_error_accepts_nothing(exchange: kit.Exchange) -> None:
    observer = exchange.observer(2)
    remote_refuses(observer, exchange["a-reveal"], "a sent seq 2, expected 1")
    for envelope in exchange.envelopes()[2:]:
        with pytest.raises(RemoteProtocolError, match="failed earlier"):
            observer.receive(envelope)


def test_protocol_errors_are_one_family() -> None:
    assert issubclass(LocalProtocolError, ProtocolError)
    assert issubclass(RemoteProtocolError, ProtocolError)
    assert LocalProtocolError("x").code == ErrorCode.PROTOCOL_LOCAL
    assert RemoteProtocolError("x").code == ErrorCode.PROTOCOL_REMOTE


# --- free text from the counterparty ---------------------------------------------------------

HOSTILE_TEXT = "\x1b[2J\x1b[31mACCEPTED\x1b[0m \u202edetcepta\u202c\x00"


def test_reasons_are_free_text_kept_exactly_and_escaped_for_display() -> None:
    """Verdict and abort reasons are the sender's signed words: no character is refused
    or changed (§4.5), and displays escape what is not printable (§3.2, the CLI's
    ``plain``)."""
    from swapproto.cli._output import plain

    x = kit.honest("revealed")
    b = x.party("b")
    a = x.party("a")
    verdict = b.verdict(accept=False, reasons=[HOSTILE_TEXT], now=kit.NOW)
    (given,) = a.receive(verdict)
    assert isinstance(given, VerdictGiven)
    assert given.reasons == (HOSTILE_TEXT,)
    abort = kit.honest("committed").party("a").abort(HOSTILE_TEXT, now=kit.NOW)
    (aborted,) = kit.honest("committed").observer().receive(abort)
    assert isinstance(aborted, Aborted)
    assert aborted.reason == HOSTILE_TEXT
    shown = plain(HOSTILE_TEXT).plain
    assert shown.isprintable()
    for escaped in ("\\x1b", "\\u202e", "\\x00"):
        assert escaped in shown
