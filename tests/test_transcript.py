"""Transcript verification: report structure and JSON per state, content and rule checks."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

import exchange_kit as kit
from swapproto.exchange_dir import RecipientOpener
from swapproto.hashing import fingerprint
from swapproto.messages import MessageType, message_id
from swapproto.terms import Terms
from swapproto.transcript import (
    STATES,
    Check,
    TranscriptReport,
    ordered_messages,
    verify_transcript,
)

BASE_CHECKS = [
    "well-formed messages",
    "terms",
    "signatures and thresholds",
    "exchange binding",
    "no equivocation",
    "protocol order (commit-then-reveal)",
    "terms signed by both parties",
]


def verify(x: kit.Exchange, items: list[tuple[str, bytes]] | None = None, **kw: Any) -> Any:
    kw.setdefault("terms", x.terms)
    kw.setdefault("blobs", x.blob_source())
    return verify_transcript(x.items() if items is None else items, **kw)


def check(report: TranscriptReport, name: str) -> Check:
    found = [c for c in report.checks if c.name == name]
    assert len(found) == 1, [c.name for c in report.checks]
    return found[0]


def failed(report: TranscriptReport) -> list[str]:
    return [c.name for c in report.checks if not c.ok]


def opener(name: str) -> RecipientOpener:
    return RecipientOpener(kit.keys().bundle(name))


# --- states and the report's structure --------------------------------------------------------


def abort_after_commits() -> kit.Exchange:
    x = kit.honest("committed")
    party = x.party("a")
    abort = party.abort("talks broke down", now=kit.NOW)
    return kit.Exchange(x.terms, (*x.messages, ("a-abort", abort)), x.blobs, x.lists)


STATE_CASES = {
    "terms-proposed": lambda: kit.honest("terms-proposed"),
    "terms-agreed": lambda: kit.honest("terms-agreed"),
    "committed": lambda: kit.honest("committed"),
    "revealed": lambda: kit.honest("revealed"),
    "agreed": lambda: kit.honest("agreed"),
    "disputed": lambda: kit.run_exchange(kit.make_terms(), accept=(True, False)),
    "aborted": abort_after_commits,
}


def test_the_states_are_the_documented_ones() -> None:
    assert set(STATES) == set(STATE_CASES)


@pytest.mark.parametrize("state", list(STATE_CASES))
def test_report_structure_and_json_for_each_state(state: str) -> None:
    x = STATE_CASES[state]()
    report = verify(x, now=kit.NOW)
    assert report.state == state
    # Only a one-sided signature is a failure: every other state is a valid stopping point.
    assert report.ok is (state != "terms-proposed")
    assert failed(report) == ([] if report.ok else ["terms signed by both parties"])
    assert report.exchange_id == x.terms.exchange_id
    assert report.messages == len(x.messages)
    assert [c.name for c in report.checks][: len(BASE_CHECKS)] == BASE_CHECKS
    doc = json.loads(json.dumps(report.to_json()))
    assert set(doc) == {
        "ok",
        "state",
        "exchange_id",
        "exchange_fingerprint",
        "messages",
        "checks",
        "lists",
        "fingerprints",
    }
    assert doc["fingerprints"] == dict(report.named_fingerprints)
    assert doc["fingerprints"]["exchange"] == x.terms.fingerprint
    assert doc["ok"] is report.ok
    assert doc["state"] == state
    assert doc["exchange_id"] == x.terms.exchange_id.hex()
    assert doc["exchange_fingerprint"] == x.terms.fingerprint
    assert doc["messages"] == len(x.messages)
    for item, c in zip(doc["checks"], report.checks, strict=True):
        assert item == {
            "name": c.name,
            "ok": c.ok,
            "detail": c.detail,
            "evidence": [],
            "skipped": False,
        }
        assert isinstance(item["detail"], str)
        assert item["detail"]
    revealed = state in ("revealed", "agreed", "disputed")
    assert [(s["list"], s["side"]) for s in doc["lists"]] == (
        [("pows", "a"), ("pows", "b")] if revealed else []
    )


DEADLINE_CHECKS = {
    "commits by the deadline",
    "reveals by the deadline",
    "no withheld commits",
    "no withholding",
}


def test_deadline_checks_only_with_a_time(exchange: kit.Exchange) -> None:
    without = verify(exchange)
    assert not {c.name for c in without.checks} & DEADLINE_CHECKS
    before = [c.name for c in verify(exchange, now=kit.COMMIT_BY).checks]
    assert [n for n in before if n in DEADLINE_CHECKS] == [
        "commits by the deadline",
        "reveals by the deadline",
    ]
    between = [c.name for c in verify(exchange, now=kit.REVEAL_BY).checks]
    assert [n for n in between if n in DEADLINE_CHECKS] == [
        "commits by the deadline",
        "reveals by the deadline",
        "no withheld commits",
    ]
    after = verify(exchange, now=kit.AFTER_REVEAL_BY)
    assert [c.name for c in after.checks][-4:] == [
        "commits by the deadline",
        "reveals by the deadline",
        "no withheld commits",
        "no withholding",
    ]
    assert after.ok
    assert check(after, "no withheld commits").detail == "every list was committed by commit_by"


def test_an_empty_transcript_with_terms(terms: Terms) -> None:
    report = verify_transcript([], terms=terms)
    assert report.state == "terms-proposed"
    assert report.exchange_id == terms.exchange_id
    assert not check(report, "terms signed by both parties").ok
    assert report.messages == 0


def test_an_empty_transcript_without_terms() -> None:
    report = verify_transcript([])
    assert (report.state, report.exchange_id, report.ok) == ("terms-proposed", None, False)
    assert [c.name for c in report.checks] == ["well-formed messages", "terms"]
    assert report.to_json()["exchange_id"] is None
    assert report.to_json()["exchange_fingerprint"] is None


def test_terms_are_taken_from_the_messages_when_not_given(exchange: kit.Exchange) -> None:
    report = verify_transcript(exchange.items(), blobs=exchange.blob_source())
    assert report.ok
    assert report.state == "agreed"
    assert report.exchange_id == exchange.terms.exchange_id
    assert "carried in the messages" in check(report, "terms").detail
    assert "given by the verifier" in check(verify(exchange), "terms").detail


def test_garbage_is_reported_with_its_label(exchange: kit.Exchange) -> None:
    report = verify(exchange, [*exchange.items(), ("junk.spmsg", b"\x93\x01\x02")])
    c = check(report, "well-formed messages")
    assert not c.ok
    assert c.detail == "8 of 9 parse"
    assert len(c.evidence) == 1
    assert c.evidence[0].startswith("junk.spmsg: ")
    assert report.state == "agreed"  # the rest still verifies
    assert failed(report) == ["well-formed messages"]


def test_labels_carry_no_meaning(exchange: kit.Exchange) -> None:
    shuffled = [(f"m{i}", data) for i, (_, data) in enumerate(exchange.items())]
    random.Random(7).shuffle(shuffled)
    report = verify(exchange, shuffled)
    assert report.ok
    assert report.state == "agreed"


def test_copies_of_a_message_are_not_equivocation(exchange: kit.Exchange) -> None:
    items = exchange.items()
    padded = exchange["a-commit"].add_signature(kit.keys().outsider)
    report = verify(exchange, [*items, items[2], ("padded", padded.to_bytes())])
    assert report.ok, failed(report)
    assert report.state == "agreed"


def test_fingerprints_cover_exchange_commitments_roots_headers_and_transcript(
    exchange: kit.Exchange,
) -> None:
    report = verify(exchange)
    assert report.fingerprints[0] == exchange.terms.fingerprint
    named = dict(report.named_fingerprints)
    assert list(named) == [
        "exchange",
        "commitment a/pows",
        "root a/pows",
        "header a/pows",
        "commitment b/pows",
        "root b/pows",
        "header b/pows",
        "transcript",
    ]
    assert named["exchange"] == exchange.terms.fingerprint
    for role in "ab":
        built = exchange.lists[role]
        header = exchange.observer().revealed_header(role, kit.LIST)
        assert named[f"header {role}/pows"] == fingerprint(built.digest)
        assert named[f"root {role}/pows"] == fingerprint(header.header.root)
        commit = kit.payload_of(exchange[f"{role}-commit"])["body"]["commitment"]
        assert named[f"commitment {role}/pows"] == fingerprint(commit)
    # What `swapproto accept` prints: the digest the party signed in its verdict.
    seen = kit.payload_of(exchange["a-verdict"])["body"]["seen"]
    assert (
        named["transcript"] == fingerprint(seen) == fingerprint(exchange.party("a").seen_digest())
    )
    assert report.fingerprints == tuple(named.values())
    assert report.to_json()["fingerprints"] == named


@pytest.mark.parametrize("state", ["terms-agreed", "committed"])
def test_fingerprints_follow_what_was_accepted(state: str) -> None:
    x = kit.honest(state)
    named = dict(verify(x).named_fingerprints)
    commits = [k for k in named if k.startswith("commitment")]
    assert commits == (
        [] if state == "terms-agreed" else ["commitment a/pows", "commitment b/pows"]
    )
    assert not [k for k in named if k.startswith(("root", "header"))]
    assert named["transcript"] == fingerprint(x.observer().seen_digest())


def test_a_transcript_fingerprint_changes_with_what_was_shown(exchange: kit.Exchange) -> None:
    full = dict(verify(exchange).named_fingerprints)["transcript"]
    partial = dict(verify(exchange, exchange.without("b-reveal")).named_fingerprints)
    assert partial["transcript"] != full
    assert "root b/pows" not in partial


def test_no_fingerprints_without_terms() -> None:
    report = verify_transcript([])
    assert report.fingerprints == ()
    assert report.to_json()["fingerprints"] == {}


def test_a_verdict_without_a_digest_fails_the_verdict_check(exchange: kit.Exchange) -> None:
    """A verdict whose ``seen`` is not a digest covers no transcript: check 10 fails."""
    bad = kit.resign(exchange["b-verdict"], kit.keys().signing("b"), body={"seen": "all"})
    items = [*exchange.without("b-verdict"), ("b-verdict", bad.to_bytes())]
    report = verify(exchange, items)
    assert failed(report) == [
        "protocol order (commit-then-reveal)",
        "verdicts cover the same transcript",
    ]
    assert check(report, "verdicts cover the same transcript").evidence == ("b signed no digest",)


# --- withholding ----------------------------------------------------------------------------


def with_messages(x: kit.Exchange, *extra: tuple[str, Any]) -> kit.Exchange:
    return kit.Exchange(x.terms, (*x.messages, *extra), x.blobs, x.lists, x.contents)


def test_nobody_committing_names_both_parties_after_commit_by() -> None:
    x = kit.honest("terms-agreed")
    report = verify(x, now=kit.COMMIT_BY + 1)
    assert failed(report) == ["no withheld commits"]
    assert check(report, "no withheld commits").evidence == (
        f"a did not commit to pows by {kit.COMMIT_BY}",
        f"b did not commit to pows by {kit.COMMIT_BY}",
    )
    assert report.state == "terms-agreed"


def test_commit_by_itself_is_still_in_time() -> None:
    report = verify(kit.honest("terms-agreed"), now=kit.COMMIT_BY)
    assert report.ok
    assert "no withheld commits" not in {c.name for c in report.checks}


def test_unsigned_terms_owe_no_commits() -> None:
    """Terms signed by one party are not in force: nobody owes a commit (check 7 fails)."""
    report = verify(kit.honest("terms-proposed"), now=kit.AFTER_REVEAL_BY)
    assert failed(report) == ["terms signed by both parties"]
    assert "no withheld commits" not in {c.name for c in report.checks}
    detail = check(report, "terms signed by both parties").detail
    assert detail == "signed by: a (terms are in force only once both sign)"
    # one message accepted: the count and its verb are singular (handshake.md §7.2)
    assert check(report, "protocol order (commit-then-reveal)").detail == (
        "1 message follows the protocol"
    )


def test_an_abort_before_signing_is_not_a_signature() -> None:
    x = kit.honest("terms-proposed")
    abort = x.party("b").abort("no deal", now=kit.NOW)
    report = verify(with_messages(x, ("b-abort", abort)), now=kit.AFTER_REVEAL_BY)
    assert report.state == "aborted"
    assert failed(report) == ["terms signed by both parties"]
    assert check(report, "terms signed by both parties").detail.startswith("signed by: a ")


@pytest.mark.parametrize(
    ("aborter", "dated", "named"),
    [
        ("a", kit.NOW, ["a"]),  # its own abort does not excuse a; it cut b off
        ("b", kit.NOW, ["b"]),
        ("a", kit.COMMIT_BY, ["a"]),  # dated on the deadline: b was cut off in time
        ("a", kit.COMMIT_BY + 1, ["a", "b"]),  # b's time had run out before a aborted
    ],
    ids=["a aborts", "b aborts", "a aborts at commit_by", "a aborts after commit_by"],
)
def test_an_abort_excuses_only_the_other_party_and_only_before_the_deadline(
    aborter: str, dated: int, named: list[str]
) -> None:
    x = kit.honest("terms-agreed")
    abort = x.party(aborter).abort("talks broke down", now=dated)
    report = verify(with_messages(x, (f"{aborter}-abort", abort)), now=kit.AFTER_REVEAL_BY)
    assert report.state == "aborted"
    assert failed(report) == ["no withheld commits"]
    evidence = check(report, "no withheld commits").evidence
    assert [e.split()[0] for e in evidence] == named


def test_an_abort_after_both_commits_excuses_the_other_from_revealing() -> None:
    x = kit.honest("committed")
    abort = x.party("a").abort("talks broke down", now=kit.NOW)
    report = verify(with_messages(x, ("a-abort", abort)), now=kit.AFTER_REVEAL_BY)
    assert failed(report) == ["no withholding"]
    assert check(report, "no withholding").evidence == (
        f"a committed to pows but did not reveal by {kit.REVEAL_BY}",
    )
    assert check(report, "no withheld commits").ok


def test_an_abort_instead_of_the_second_reveal_is_withholding() -> None:
    """a revealed; b saw a's list and aborted rather than reveal its own."""
    x = kit.honest("revealed")
    party = x.party("b", upto=5)
    abort = party.abort("we changed our mind", now=kit.NOW)
    items = [*x.without("b-reveal"), ("b-abort", abort.to_bytes())]
    report = verify(x, items, now=kit.AFTER_REVEAL_BY)
    assert report.state == "aborted"
    assert failed(report) == ["no withholding"]
    assert check(report, "no withholding").evidence == (
        f"b committed to pows but did not reveal by {kit.REVEAL_BY}",
    )


# --- content ----------------------------------------------------------------------------------


def test_unsealed_content_is_checked_against_the_signed_root(exchange: kit.Exchange) -> None:
    report = verify(exchange)
    for role in "ab":
        assert check(report, f"content {role}/pows").detail == (
            "20 entries verified against the signed root"
        )
        assert check(report, f"rules {role}/pows").ok
    summaries = {s.side: s for s in report.lists}
    for role in "ab":
        s = summaries[role]
        assert (s.list_name, s.count, s.content_checked, s.findings) == ("pows", 20, True, ())
        claimed = Counter(c for r in kit.prisoner_records(role) for c in r.get("categories", []))
        assert dict(s.per_category) == {**claimed, "male": 20}
        js = s.to_json()
        assert js["root_fingerprint"] == fingerprint(bytes.fromhex(js["root"]))


def test_an_opener_changes_nothing_for_unsealed_content(exchange: kit.Exchange) -> None:
    with_key = verify(exchange, opener=opener("mediator"))
    assert with_key.to_json() == verify(exchange).to_json()
    assert [s.content_checked for s in with_key.lists] == [True, True]


def test_content_missing_from_the_transcript_fails(exchange: kit.Exchange) -> None:
    report = verify(exchange, blobs=None)
    for role in "ab":
        c = check(report, f"content {role}/pows")
        assert not c.ok
        assert c.evidence == (exchange.contents[role]["sha256"].hex(),)
    assert all(not s.content_checked for s in report.lists)
    for role in "ab":
        rules = check(report, f"rules {role}/pows")
        assert (rules.ok, rules.skipped) == (True, True)
        assert rules.detail == "not evaluated: the content check failed"


def test_content_replaced_under_its_name_fails(exchange: kit.Exchange) -> None:
    blobs = exchange.blob_source()
    blobs.blobs[exchange.contents["a"]["sha256"]] = exchange.lists["b"].data
    report = verify(exchange, blobs=blobs)
    assert failed(report) == ["content a/pows"]
    assert "header is not the revealed header" in check(report, "content a/pows").detail


def test_content_with_trailing_bytes_fails(exchange: kit.Exchange) -> None:
    blobs = exchange.blob_source()
    sha = exchange.contents["b"]["sha256"]
    blobs.blobs[sha] = exchange.lists["b"].data + b"\0"
    report = verify(exchange, blobs=blobs)
    assert failed(report) == ["content b/pows"]


def test_sealed_content_without_a_key_is_checked_as_far_as_possible(
    sealed_exchange: kit.Exchange,
) -> None:
    report = verify(sealed_exchange, now=kit.NOW)
    assert report.ok, failed(report)
    for role in "ab":
        content = check(report, f"content {role}/pows")
        assert (content.ok, content.skipped) == (True, False)  # the container was checked
        assert content.detail == (
            "sealed: not opened (no recipient key given); "
            "container, recipients, header and commitment checked"
        )
        rules = check(report, f"rules {role}/pows")
        assert (rules.ok, rules.skipped) == (True, True)
        assert rules.detail == (
            "not evaluated: the sealed list was not opened (no recipient key given)"
        )
        assert rules.to_json()["skipped"] is True
    assert [c.name for c in report.skipped] == ["rules a/pows", "rules b/pows"]
    assert [s.content_checked for s in report.lists] == [False, False]
    assert [s.count for s in report.lists] == [20, 20]  # from the signed headers


def test_sealed_content_with_the_mediators_key_is_fully_checked(
    sealed_exchange: kit.Exchange,
) -> None:
    report = verify(sealed_exchange, opener=opener("mediator"))
    assert report.ok, failed(report)
    for role in "ab":
        assert check(report, f"content {role}/pows").detail.startswith("20 entries verified")
        assert check(report, f"rules {role}/pows").ok
    assert [s.content_checked for s in report.lists] == [True, True]


@pytest.mark.parametrize("role", ["a", "b"])
def test_a_party_checks_the_list_sealed_to_it(sealed_exchange: kit.Exchange, role: str) -> None:
    """A party's own list is not sealed to itself: that is "not checked", not a failure."""
    other = "b" if role == "a" else "a"
    report = verify(sealed_exchange, opener=opener(role))
    assert report.ok, failed(report)
    own = check(report, f"content {role}/pows")
    assert own.detail.startswith("sealed: not opened (the given key is the sender's own")
    assert check(report, f"content {other}/pows").detail.startswith("20 entries verified")
    assert check(report, f"rules {other}/pows").ok
    assert not check(report, f"rules {other}/pows").skipped
    assert [c.name for c in report.skipped] == [f"rules {role}/pows"]


def test_a_key_that_is_neither_recipient_nor_sender_fails(sealed_exchange: kit.Exchange) -> None:
    """An outsider's key opens nothing: the verifier asked for contents it cannot check."""
    report = verify(sealed_exchange, opener=opener("outsider"))
    assert failed(report) == ["content a/pows", "content b/pows"]
    for role in "ab":
        content = check(report, f"content {role}/pows")
        assert content.detail == "the given key is not a recipient of this list"
        rules = check(report, f"rules {role}/pows")
        assert (rules.ok, rules.skipped) == (True, True)
    assert [s.content_checked for s in report.lists] == [False, False]


def test_a_skipped_check_is_never_a_failure() -> None:
    with pytest.raises(ValueError, match="skipped"):
        Check("rules a/pows", False, "x", skipped=True)


def test_a_key_without_decryption_part_fails_the_sealed_checks(
    sealed_exchange: kit.Exchange,
) -> None:
    from swapproto.keys import KeyBundle

    report = verify(sealed_exchange, opener=RecipientOpener(KeyBundle(kit.keys().mediator)))
    assert failed(report) == ["content a/pows", "content b/pows"]
    assert "[key.bad_format]" in check(report, "content a/pows").detail


def test_a_truncated_sealed_container_fails_without_a_key(sealed_exchange: kit.Exchange) -> None:
    blobs = sealed_exchange.blob_source()
    sha = sealed_exchange.contents["a"]["sha256"]
    blobs.blobs[sha] = blobs.blobs[sha][:-1]
    report = verify(sealed_exchange, blobs=blobs)
    assert failed(report) == ["content a/pows"]
    assert check(report, "content a/pows").detail.startswith("[seal.")


# --- rules ------------------------------------------------------------------------------------


def test_rule_findings_appear_in_the_report() -> None:
    terms = kit.make_terms()
    records = [*kit.prisoner_records("a", 19), kit.ineligible_record("a")]
    lists = {"a": kit.build_list(terms, "a", records=records)}
    x = kit.run_exchange(terms, lists=lists)
    report = verify(x)
    assert failed(report) == ["rules a/pows"]
    rules = check(report, "rules a/pows")
    assert rules.detail == "all-for-all: 1 finding"
    assert len(rules.evidence) == 1
    assert rules.evidence[0].startswith("not_eligible: ")
    summary = next(s for s in report.lists if s.side == "a")
    assert summary.findings == rules.evidence
    assert summary.content_checked
    assert report.to_json()["lists"][0]["findings"] == list(rules.evidence)


def test_count_rules_compare_with_the_terms() -> None:
    x = kit.run_exchange(kit.make_terms(rule="exact-count", count=25))
    report = verify(x)
    assert failed(report) == ["rules a/pows", "rules b/pows"]
    for role in "ab":
        assert any(
            e.startswith("count_mismatch") for e in check(report, f"rules {role}/pows").evidence
        )


def test_equal_count_compares_the_two_lists() -> None:
    terms = kit.make_terms(rule="equal-count")
    lists = {"b": kit.build_list(terms, "b", records=kit.prisoner_records("b", 18))}
    report = verify(kit.run_exchange(terms, lists=lists))
    assert "rules a/pows" in failed(report) or "rules b/pows" in failed(report)
    evidence = [e for c in report.checks if c.name.startswith("rules") for e in c.evidence]
    assert any(e.startswith("count_mismatch") for e in evidence)


def test_rules_are_checked_in_sealed_lists_by_a_recipient() -> None:
    terms = kit.make_terms(sealed=True)
    records = [*kit.prisoner_records("b", 19), kit.ineligible_record("b")]
    x = kit.run_exchange(terms, lists={"b": kit.build_list(terms, "b", records=records)})
    assert verify(x).ok  # nobody can see the finding without a key
    report = verify(x, opener=opener("a"))
    assert failed(report) == ["rules b/pows"]


# --- ordering for replay ----------------------------------------------------------------------


def test_ordered_messages_puts_dependencies_first(exchange: kit.Exchange) -> None:
    items = exchange.items()[::-1]
    other = kit.honest("terms-agreed")
    foreign = kit.forge(
        MessageType.ABORT,
        {"reason": "x"},
        sender="a",
        seq=0,
        exchange=kit.make_terms(label="Elsewhere").exchange_id,
    )
    extra = [("junk", b"\0"), ("foreign", foreign.to_bytes()), ("copy", items[0][1])]
    ordered, skipped = ordered_messages(exchange.terms, [*items, *extra])
    assert skipped == ["junk", "foreign"]
    assert [message_id(e) for e in ordered] == [message_id(e) for e in exchange.envelopes()]
    observer = other.observer(0)
    for envelope in ordered:
        observer.receive(envelope)
    assert observer.seen_digest() == exchange.observer().seen_digest()
