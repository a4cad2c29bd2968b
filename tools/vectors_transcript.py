"""Vectors for transcript verification (``spec/vectors/transcript/``).

* ``valid``: one complete unsealed exchange (both parties sign the terms, commit,
  reveal and accept) with its terms, messages, revealed blobs and the expected report;
  plus copies of every message carrying an extra signature by an unknown key, which
  change nothing (message ids do not cover signatures);
* ``invalid``: transcripts built from the valid one by dropping, replacing or adding
  messages, or by verifying under other terms, each with ``desc``, the name of the
  check that must fail and that check's detail and evidence;
* ``scenarios``: a sealed exchange (commission co-signed headers, ``equal-count``)
  verified without a key, with the mediator's and with b's; an aborted and a disputed
  exchange.

Everything is fixed: keys come from one-byte seeds, manifest salts and commitment
nonces are derived from labels, every time is a constant, Ed25519 is deterministic and
sealed containers are assembled from fixed content keys and HPKE ephemeral inputs (as in
``vectors_sealing``), so every byte is stable.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any, Final

from swapproto.envelope import Signature, SignedEnvelope, sign_envelope
from swapproto.exchange_dir import RecipientOpener
from swapproto.handshake import Party, completeness_statement
from swapproto.key_files import KeyBundle
from swapproto.keys import DecryptionKey, EncryptionSuite, SigningKey
from swapproto.manifest_file import build_manifest
from swapproto.messages import MessageType, commitment, make_message, message_id
from swapproto.sealing import RecipientStanza, SealingContext, _write_container
from swapproto.terms import PinnedKey, Terms, terms_from_toml
from swapproto.transcript import TranscriptReport, verify_transcript
from vectors_sealing import hpke_seal_x25519

NOW: Final = 1748908800  # 2025-06-03T00:00:00Z
COMMIT_BY: Final = 1749427200  # 2025-06-09T00:00:00Z
REVEAL_BY: Final = 1749686400  # 2025-06-12T00:00:00Z
AFTER_REVEAL_BY: Final = 1749772800  # 2025-06-13T00:00:00Z
LIST: Final = "pows"
SEEDS: Final = {
    "a": 0x61,
    "a2": 0x62,
    "b": 0x63,
    "mediator": 0x64,
    "outsider": 0x65,
    "commission": 0x66,
}

TERMS: Final = """\
[exchange]
label = "{label}"
reference_date = "2025-06-02"
commit_by = "2025-06-09T00:00:00Z"
reveal_by = "2025-06-12T00:00:00Z"
sealed = {sealed}

[parties.a]
name = "Ukraine"
keys = [{a_keys}]
threshold = {threshold}

[parties.b]
name = "Russian Federation"
keys = ["b"]

[[mediators]]
name = "Turkiye"
keys = ["mediator"]
{commissions}
[[lists]]
name = "pows"
kind = "prisoner"
from = "both"
rule = "{rule}"
{count}{signed_by}eligible_any = ["seriously_ill", "seriously_wounded", "age_18_25"]
"""
COMMISSION: Final = """
[[commissions]]
name = "Mixed Medical Commission"
keys = ["commission"]
"""

RECORDS: Final[dict[str, list[dict[str, Any]]]] = {
    "a": [
        {
            "categories": ["seriously_wounded"],
            "citizenship": "RU",
            "date_of_birth": "1990-01-31",
            "family_name": "Иванов",
            "given_names": "Алексей Петрович",
            "person_id": "UA-0001",
            "sex": "male",
        },
        {
            "categories": ["age_18_25"],
            "citizenship": "RU",
            "date_of_birth": "2003-07-15",
            "family_name": "Smirnov",
            "given_names": "Dmitrii",
            "person_id": "UA-0002",
            "sex": "male",
        },
        {
            "categories": ["seriously_ill"],
            "citizenship": "RU",
            "date_of_birth": "1975-11-02",
            "family_name": "Кузнецов",
            "given_names": "Сергей",
            "person_id": "UA-0003",
            "sex": "male",
        },
    ],
    "b": [
        {
            "categories": ["seriously_ill"],
            "citizenship": "UA",
            "date_of_birth": "1982-04-12",
            "family_name": "Шевченко",
            "given_names": "Тарас Андрійович",
            "person_id": "RU-0001",
            "sex": "male",
        },
        {
            "categories": ["age_18_25"],
            "citizenship": "UA",
            "date_of_birth": "2004-02-29",
            "family_name": "Koval",
            "given_names": "Andrii",
            "person_id": "RU-0002",
            "sex": "male",
        },
        {
            "categories": ["seriously_wounded"],
            "citizenship": "UA",
            "date_of_birth": "1969-09-09",
            "family_name": "Бондаренко",
            "given_names": "Олег",
            "person_id": "RU-0003",
            "sex": "male",
        },
    ],
}
OTHER_PRISONER: Final = {
    "categories": ["seriously_wounded"],
    "citizenship": "RU",
    "date_of_birth": "1988-05-05",
    "family_name": "Петров",
    "given_names": "Павел",
    "person_id": "UA-0009",
    "sex": "male",
}


def key(name: str) -> SigningKey:
    """The vector key ``name`` (seed: 32 times the byte of :data:`SEEDS`)."""
    return SigningKey.from_seed(bytes([SEEDS[name]]) * 32)


def dkey(name: str) -> DecryptionKey:
    """The vector decryption key ``name``: the same seed, suite ``x25519``."""
    return DecryptionKey.from_seed(bytes([SEEDS[name]]) * 32, EncryptionSuite.X25519)


def make_terms(
    *,
    label: str = "Vector exchange",
    a_keys: tuple[str, ...] = ("a",),
    threshold: int = 1,
    rule: str = "all-for-all",
    count: str = "",
    sealed: bool = False,
    commission: bool = False,
) -> Terms:
    """The vector terms; key names are those of :data:`SEEDS`. Sealed terms pin every
    key's encryption key too; with ``commission`` the commission co-signs every list."""
    text = TERMS.format(
        label=label,
        a_keys=", ".join(f'"{k}"' for k in a_keys),
        threshold=threshold,
        rule=rule,
        count=count,
        sealed="true" if sealed else "false",
        commissions=COMMISSION if commission else "",
        signed_by='signed_by = "Mixed Medical Commission"\n' if commission else "",
    )

    def pinned(name: str, _where: str) -> PinnedKey:
        return PinnedKey(key(name).public_key, dkey(name).public_key if sealed else None)

    return terms_from_toml(text, load_key=pinned)


def salts(label: str) -> Callable[[int], bytes]:
    """Salts ``sha256(label || " salt " || i)`` (never do this outside vectors)."""
    counter = iter(range(1 << 30))

    def source(n: int) -> bytes:
        return b"".join(
            hashlib.sha256(f"{label} salt {next(counter)}".encode()).digest()
            for _ in range(n // 32)
        )

    return source


Move = Callable[[Party], SignedEnvelope]


def _honest_moves(
    commit: Callable[[str], Move], reveal: Callable[[str], Move]
) -> list[tuple[str, str, Move]]:
    """The eight moves of an honest exchange, each ``(label, sender, move)``."""
    return [
        ("a-terms-sign", "a", lambda p: p.sign_terms(now=NOW)),
        ("b-terms-sign", "b", lambda p: p.sign_terms(now=NOW)),
        ("a-commit", "a", commit("a")),
        ("b-commit", "b", commit("b")),
        ("a-reveal", "a", reveal("a")),
        ("b-reveal", "b", reveal("b")),
        ("a-verdict", "a", lambda p: p.verdict(accept=True, now=NOW)),
        ("b-verdict", "b", lambda p: p.verdict(accept=True, now=NOW)),
    ]


def nonce(label: str) -> bytes:
    """A commitment nonce derived from ``label`` (never do this outside vectors)."""
    return hashlib.sha256(f"swapproto vector nonce {label}".encode()).digest()


def build(terms: Terms, role: str, records: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """A signed manifest: its bytes, header envelope bytes and header digest."""
    out = io.BytesIO()
    result = build_manifest(
        out,
        records,
        kind="prisoner",
        list_name=LIST,
        issuer=role,
        keys=[key(role)],
        created_at=NOW,
        exchange=terms.exchange_id,
        salt_source=salts(label),
    )
    data = out.getvalue()
    return {
        "data": data,
        "header": result.verified.envelope.to_bytes(),
        "digest": result.verified.digest,
        "content": {"sealed": False, "sha256": hashlib.sha256(data).digest(), "size": len(data)},
    }


class _Run:
    """The valid exchange and everything the invalid cases are made from."""

    def __init__(self) -> None:
        self.terms = make_terms()
        self.lists = {r: build(self.terms, r, RECORDS[r], f"{r}/pows") for r in "ab"}
        self.messages: dict[str, SignedEnvelope] = {}
        parties = {r: Party(self.terms, r, [key(r)]) for r in "ab"}
        for label, role, move in self._moves():
            envelope = move(parties[role])
            parties["b" if role == "a" else "a"].receive(envelope)
            self.messages[label] = envelope
        self.seen = parties["a"].seen_digest()

    def _moves(self) -> list[tuple[str, str, Callable[[Party], SignedEnvelope]]]:
        def commit(role: str) -> Callable[[Party], SignedEnvelope]:
            statement = completeness_statement(self.terms, role, LIST, NOW)
            digest = self.lists[role]["digest"]
            return lambda p: p.commit(LIST, digest, nonce=nonce(role), now=NOW, statement=statement)

        def reveal(role: str) -> Callable[[Party], SignedEnvelope]:
            built = self.lists[role]
            return lambda p: p.reveal(
                LIST, built["header"], nonce=nonce(role), content=built["content"], now=NOW
            )

        return _honest_moves(commit, reveal)

    def id(self, label: str) -> bytes:
        return message_id(self.messages[label])

    def blobs(self) -> dict[bytes, bytes]:
        return {b["content"]["sha256"]: b["data"] for b in self.lists.values()}


class _Blobs:
    """Blobs by SHA-256 (a :class:`swapproto.transcript.BlobSource`)."""

    def __init__(self, blobs: dict[bytes, bytes]) -> None:
        self.blobs = blobs

    def open(self, sha256: bytes) -> io.BytesIO | None:
        data = self.blobs.get(sha256)
        return None if data is None else io.BytesIO(data)


def _payload(envelope: SignedEnvelope) -> dict[str, Any]:
    value = envelope.unverified_value()
    assert isinstance(value, dict)
    return value


def _resign(envelope: SignedEnvelope, signer: str, **changes: Any) -> SignedEnvelope:
    payload = _payload(envelope)
    body = changes.pop("body", {})
    payload.update(changes)
    payload["body"] = {**payload["body"], **body}
    return sign_envelope(envelope.payload_type, payload, [key(signer)])


def _flip(data: bytes, position: int) -> bytes:
    mutated = bytearray(data)
    mutated[position] ^= 0x01
    return bytes(mutated)


def _report_json(report: TranscriptReport) -> dict[str, Any]:
    """The whole report, as ``swapproto verify --json`` prints it (handshake.md §7.5)."""
    return report.to_json()


def _valid(run: _Run) -> dict[str, Any]:
    items = [(label, env.to_bytes()) for label, env in run.messages.items()]

    report = verify_transcript(items, terms=run.terms, blobs=_Blobs(run.blobs()), now=NOW)
    assert report.ok, report
    assert report.state == "agreed", report
    outsider = key("outsider")
    copies = [
        {"label": f"{label}-copy", "data": env.add_signature(outsider).to_bytes().hex()}
        for label, env in run.messages.items()
    ]
    return {
        "desc": (
            "A complete unsealed exchange: both parties sign the terms, commit, reveal and "
            "accept. Verified with the terms, the blobs (by SHA-256) and now, the report "
            "must be `expected`. Adding the `copies` (each message with an extra signature "
            "by a key outside the terms) must change neither ok nor state: a message id "
            "covers the payload type and payload, not the signatures."
        ),
        "key_seeds": {name: (bytes([s]) * 32).hex() for name, s in SEEDS.items()},
        "terms": run.terms.to_bytes().hex(),
        "exchange_id": run.terms.exchange_id.hex(),
        "now": NOW,
        "nonces": {r: nonce(r).hex() for r in "ab"},
        "messages": [
            {"label": label, "data": env.to_bytes().hex(), "id": message_id(env).hex()}
            for label, env in run.messages.items()
        ],
        "blobs": {sha.hex(): data.hex() for sha, data in sorted(run.blobs().items())},
        "seen_digest": run.seen.hex(),
        "copies": copies,
        "expected": _report_json(report),
    }


def _statement(as_of: int) -> dict[str, Any]:
    """a's completeness statement for the vector list, dated ``as_of``."""
    return {"as_of": as_of, "text": completeness_statement(make_terms(), "a", LIST, as_of)}


def _extras(run: _Run) -> tuple[dict[str, SignedEnvelope], dict[str, Terms]]:
    m, terms = run.messages, run.terms
    signs = sorted([run.id("a-terms-sign"), run.id("b-terms-sign")])
    changed = build(terms, "a", [*RECORDS["a"][:2], OTHER_PRISONER], "a/changed")
    other_terms = make_terms(label="Another vector exchange")
    other_commit = make_message(
        MessageType.COMMIT,
        exchange=other_terms.exchange_id,
        sender="a",
        seq=1,
        deps=[],
        created_at=NOW,
        body=_payload(m["a-commit"])["body"],
        keys=[key("a")],
    )
    commit_body = _payload(m["b-commit"])["body"]
    second_commit = {
        **commit_body,
        "commitment": commitment(b"\x42" * 32, run.lists["b"]["digest"]),
    }
    b_commit = m["b-commit"].to_bytes()
    zero_signature = SignedEnvelope(
        m["b-commit"].payload_type,
        m["b-commit"].payload,
        (Signature(key("b").key_id, b"\0" * 64),),
    )
    two_of_a = make_terms(a_keys=("a", "a2"), threshold=2)
    extras = {
        "a-reveal-changed-list": _resign(
            m["a-reveal"],
            "a",
            body={"header": changed["header"], "content": changed["content"]},
        ),
        "a-reveal-early": _resign(m["a-reveal"], "a", deps=[run.id("a-commit")]),
        "a-commit-other-exchange": other_commit,
        "b-commit-altered": SignedEnvelope.from_bytes(
            _flip(b_commit, b_commit.index(commit_body["commitment"]))
        ),
        "b-commit-by-mediator": _resign(m["b-commit"], "mediator"),
        "mediator-commit": _resign(m["b-commit"], "mediator", sender="mediator:Turkiye"),
        "b-commit-second": _resign(m["b-commit"], "b", body=second_commit, deps=signs),
        "b-reveal-late": _resign(m["b-reveal"], "b", created_at=AFTER_REVEAL_BY),
        "b-commit-zero-signature": zero_signature,
        "a-commit-by-outsider": _resign(m["a-commit"], "outsider"),
        "b-verdict-other-digest": _resign(m["b-verdict"], "b", body={"seen": b"\x11" * 32}),
        "a-commit-late": _resign(
            m["a-commit"],
            "a",
            created_at=COMMIT_BY + 1,
            body={"statement": _statement(COMMIT_BY + 1)},
        ),
        "a-commit-weaker-statement": _resign(
            m["a-commit"],
            "a",
            body={"statement": {"as_of": NOW, "text": "Ukraine declares list 'pows' complete."}},
        ),
        "a-commit-statement-other-date": _resign(
            m["a-commit"], "a", body={"statement": _statement(NOW - 86400)}
        ),
        "a-terms-sign-other-terms": _resign(
            m["a-terms-sign"], "a", body={"terms": two_of_a.to_bytes()}
        ),
        "two-of-a-a-terms-sign-one-key": make_message(
            MessageType.TERMS_SIGN,
            exchange=two_of_a.exchange_id,
            sender="a",
            seq=0,
            deps=[],
            created_at=NOW,
            body={"terms": two_of_a.to_bytes()},
            keys=[key("a")],
        ),
    }
    terms_extra = {
        "two-of-a": two_of_a,
        "changed-count": make_terms(rule="exact-count", count="count = 2\n"),
    }
    return extras, terms_extra


ALL: Final = (
    "a-terms-sign",
    "b-terms-sign",
    "a-commit",
    "b-commit",
    "a-reveal",
    "b-reveal",
    "a-verdict",
    "b-verdict",
)


def _replace(old: str, new: str, *, drop: tuple[str, ...] = ()) -> list[str]:
    return [new if label == old else label for label in ALL if label not in drop]


def _cases(run: _Run) -> list[dict[str, Any]]:
    a_sha = run.lists["a"]["content"]["sha256"].hex()
    b_sha = run.lists["b"]["content"]["sha256"].hex()
    protocol = "protocol order (commit-then-reveal)"
    return [
        {
            "desc": "list changed after commit: a reveals another list under its nonce",
            "messages": _replace("a-reveal", "a-reveal-changed-list"),
            "fails": protocol,
        },
        {
            "desc": "reveal before both commits: a's reveal does not depend on b's commit",
            "messages": _replace("a-reveal", "a-reveal-early"),
            "fails": protocol,
        },
        {
            "desc": "replay: a's commit signed for another exchange with the same keys",
            "messages": _replace("a-commit", "a-commit-other-exchange"),
            "fails": "exchange binding",
        },
        {
            "desc": "substitution: one bit of b's commitment altered in transit",
            "messages": _replace("b-commit", "b-commit-altered"),
            "fails": "signatures and thresholds",
        },
        {
            "desc": "substitution: b's commit re-signed by the mediator's key in b's name",
            "messages": _replace("b-commit", "b-commit-by-mediator"),
            "fails": "signatures and thresholds",
        },
        {
            "desc": "substitution: the mediator signs b's commit as its own move",
            "messages": _replace("b-commit", "mediator-commit"),
            "fails": protocol,
        },
        {
            "desc": "equivocation: b signed two different commits with seq 1",
            "messages": [*ALL, "b-commit-second"],
            "fails": "no equivocation",
        },
        {
            "desc": "withheld reveal: b committed, never revealed, verified after reveal_by",
            "messages": [x for x in ALL if x not in ("b-reveal", "a-verdict", "b-verdict")],
            "now": AFTER_REVEAL_BY,
            "fails": "no withholding",
            "state": "committed",
        },
        {
            "desc": "withheld commit: b signed the terms, never committed, verified after"
            " commit_by",
            "messages": ["a-terms-sign", "b-terms-sign", "a-commit"],
            "now": AFTER_REVEAL_BY,
            "fails": "no withheld commits",
            "state": "terms-agreed",
        },
        {
            "desc": "late reveal: b's reveal is dated after reveal_by",
            "messages": _replace("b-reveal", "b-reveal-late", drop=("a-verdict", "b-verdict")),
            "now": AFTER_REVEAL_BY,
            "fails": "reveals by the deadline",
        },
        {
            "desc": "late commit: a's commit is dated after commit_by",
            "messages": _replace("a-commit", "a-commit-late", drop=ALL[4:]),
            "fails": "commits by the deadline",
        },
        {
            "desc": "weaker words: a's all-for-all commit signs another statement text",
            "messages": _replace("a-commit", "a-commit-weaker-statement", drop=ALL[4:]),
            "fails": protocol,
        },
        {
            "desc": "statement dated otherwise: as_of is not the commit's created_at",
            "messages": _replace("a-commit", "a-commit-statement-other-date", drop=ALL[4:]),
            "fails": protocol,
        },
        {
            "desc": "forged signature: b's commit carries a signature of 64 zero bytes",
            "messages": _replace("b-commit", "b-commit-zero-signature"),
            "fails": "signatures and thresholds",
        },
        {
            "desc": "key outside the terms: a's commit signed by a key the terms do not pin",
            "messages": _replace("a-commit", "a-commit-by-outsider"),
            "fails": "signatures and thresholds",
        },
        {
            "desc": "wrong threshold: terms need two of a's keys, a signed with one",
            "terms": "two-of-a",
            "messages": ["two-of-a-a-terms-sign-one-key"],
            "fails": "signatures and thresholds",
        },
        {
            "desc": "terms changed after signing: verified under terms with another rule",
            "terms": "changed-count",
            "messages": list(ALL),
            "fails": "exchange binding",
            "state": "terms-proposed",
        },
        {
            "desc": "terms changed after signing: a's signature carries other terms bytes",
            "messages": _replace("a-terms-sign", "a-terms-sign-other-terms"),
            "fails": protocol,
        },
        {
            "desc": "content swapped: a's list is served under the digest b's reveal names",
            "messages": list(ALL),
            "blobs": {a_sha: a_sha, b_sha: a_sha},
            "fails": "content b/pows",
        },
        {
            "desc": "content missing: no blobs at all",
            "messages": list(ALL),
            "blobs": {},
            "fails": "content a/pows",
        },
        {
            "desc": "different transcripts: b's verdict signs another digest",
            "messages": _replace("b-verdict", "b-verdict-other-digest"),
            "fails": "verdicts cover the same transcript",
        },
    ]


def _invalid(run: _Run) -> dict[str, Any]:
    extras, terms_extra = _extras(run)
    cases = _cases(run)
    pool = {**run.messages, **extras}
    for case in cases:  # every case must fail as stated when generated
        terms = terms_extra.get(case.get("terms", ""), run.terms)
        mapping = case.get("blobs")
        served = (
            {bytes.fromhex(k): run.blobs()[bytes.fromhex(v)] for k, v in mapping.items()}
            if mapping is not None
            else run.blobs()
        )
        items = [(label, pool[label].to_bytes()) for label in case["messages"]]
        report = verify_transcript(
            items, terms=terms, blobs=_Blobs(served), now=case.get("now", NOW)
        )
        failing = [c.name for c in report.checks if not c.ok]
        assert case["fails"] in failing, (case["desc"], failing)
        assert case.get("state", report.state) == report.state, (case["desc"], report.state)
        failed = next(c for c in report.checks if c.name == case["fails"])
        case["detail"], case["evidence"] = failed.detail, list(failed.evidence)
    return {
        "desc": (
            "Invalid transcripts. Each case lists the labels of its messages (from the valid "
            "vector's messages and `extra_messages`), optionally the terms to verify under "
            "(`terms`: a key of `extra_terms`; default: the valid vector's terms), the blobs "
            "(`blobs`: the SHA-256 a reveal names -> the SHA-256 of the valid vector's blob "
            "served under it; default: the valid blobs) and "
            "`now` (default: the valid vector's). verify_transcript must report the check "
            "named in `fails` as failed (and the report as not ok), and the state `state` "
            "when given. `detail` and `evidence` are that check's, as the reference gives "
            "them (handshake.md §7.7 says which parts are normative: the error code in "
            "brackets and the evidence formats of §7.2)."
        ),
        "extra_messages": {label: env.to_bytes().hex() for label, env in sorted(extras.items())},
        "extra_terms": {name: t.to_bytes().hex() for name, t in sorted(terms_extra.items())},
        "cases": cases,
    }


# --- scenarios: a sealed exchange, an abort, a dispute -------------------------------------


def sealed_terms() -> Terms:
    """Sealed terms: encryption keys pinned for everyone, a commission that co-signs every
    list header, and the rule ``equal-count``."""
    return make_terms(
        label="Sealed vector exchange", rule="equal-count", sealed=True, commission=True
    )


def content_key(role: str) -> bytes:
    """The fixed content key of ``role``'s sealed container (never do this outside vectors)."""
    return hashlib.sha256(f"swapproto transcript vector content key {role}".encode()).digest()


def ikm_e(role: str, recipient: bytes) -> bytes:
    """The fixed HPKE ephemeral input of one stanza (RFC 9180 §7.1.3 DeriveKeyPair)."""
    label = f"swapproto transcript vector ikm_e {role} {recipient.hex()}"
    return hashlib.sha256(label.encode()).digest()


def seal_fixed(terms: Terms, role: str, data: bytes) -> bytes:
    """``role``'s manifest file sealed to its recipients, every random input fixed."""
    context = SealingContext(terms.exchange_id, LIST, MessageType.REVEAL.value)
    stanzas = sorted(
        (
            RecipientStanza(
                r.key_id,
                hpke_seal_x25519(
                    r.x25519, ikm_e(role, r.key_id), context.digest, content_key(role)
                ),
            )
            for r in terms.recipients_for(LIST, role)
        ),
        key=lambda stanza: stanza.key_id,
    )
    out = io.BytesIO()
    _write_container(
        io.BytesIO(data), out, EncryptionSuite.X25519, context.digest, stanzas, content_key(role)
    )
    return out.getvalue()


def _play(
    terms: Terms, moves: list[tuple[str, str, Callable[[Party], SignedEnvelope]]]
) -> dict[str, SignedEnvelope]:
    """Play ``moves`` between two parties that check each other's messages."""
    parties = {r: Party(terms, r, [key(r)]) for r in "ab"}
    played: dict[str, SignedEnvelope] = {}
    for label, role, move in moves:
        envelope = move(parties[role])
        parties["b" if role == "a" else "a"].receive(envelope)
        played[label] = envelope
    return played


def _sealed_exchange() -> tuple[Terms, dict[str, SignedEnvelope], dict[bytes, bytes]]:
    terms = sealed_terms()
    lists, blobs = {}, {}
    for role in "ab":
        out = io.BytesIO()
        result = build_manifest(
            out,
            RECORDS[role],
            kind="prisoner",
            list_name=LIST,
            issuer=role,
            keys=[key(role), key("commission")],
            created_at=NOW,
            exchange=terms.exchange_id,
            salt_source=salts(f"sealed {role}/pows"),
        )
        blob = seal_fixed(terms, role, out.getvalue())
        blobs[hashlib.sha256(blob).digest()] = blob
        lists[role] = (result.verified, blob)

    def commit(role: str) -> Callable[[Party], SignedEnvelope]:
        digest = lists[role][0].digest
        return lambda p: p.commit(LIST, digest, nonce=nonce(f"sealed {role}"), now=NOW)

    def reveal(role: str) -> Callable[[Party], SignedEnvelope]:
        header, blob = lists[role]
        content = {"sealed": True, "sha256": hashlib.sha256(blob).digest(), "size": len(blob)}
        return lambda p: p.reveal(
            LIST,
            header.envelope.to_bytes(),
            nonce=nonce(f"sealed {role}"),
            content=content,
            now=NOW,
        )

    messages = _play(terms, _honest_moves(commit, reveal))
    return terms, messages, blobs


def _scenario(
    desc: str,
    terms: Terms,
    messages: dict[str, SignedEnvelope],
    blobs: dict[bytes, bytes],
    now: int,
    openers: tuple[str | None, ...] = (None,),
) -> dict[str, Any]:
    items = [(label, env.to_bytes()) for label, env in messages.items()]
    reports = []
    for name in openers:
        opener = None if name is None else RecipientOpener(KeyBundle(key(name), dkey(name)))
        report = verify_transcript(items, terms=terms, blobs=_Blobs(blobs), opener=opener, now=now)
        reports.append({"opener": name, "expected": _report_json(report)})
    return {
        "desc": desc,
        "terms": terms.to_bytes().hex(),
        "exchange_id": terms.exchange_id.hex(),
        "now": now,
        "messages": [
            {"label": label, "data": env.to_bytes().hex(), "id": message_id(env).hex()}
            for label, env in messages.items()
        ],
        "blobs": {sha.hex(): data.hex() for sha, data in sorted(blobs.items())},
        "reports": reports,
    }


def _scenarios(run: _Run) -> dict[str, Any]:
    terms, sealed, sealed_blobs = _sealed_exchange()
    m = run.messages
    signed = {"a-terms-sign": m["a-terms-sign"], "b-terms-sign": m["b-terms-sign"]}

    a = Party(run.terms, "a", [key("a")])
    for earlier in signed.values():
        a.receive(earlier)
    aborted = {**signed, "a-abort": a.abort("talks broke down", now=NOW)}
    b = Party(run.terms, "b", [key("b")])
    for label in ALL[:7]:
        b.receive(m[label])
    dispute = b.verdict(accept=False, reasons=["the list is incomplete"], now=NOW)
    disputed = {**{label: m[label] for label in ALL[:7]}, "b-verdict-dispute": dispute}
    return {
        "desc": (
            "Whole exchanges other than valid.json's, each self-contained (terms, messages, "
            "blobs by SHA-256, now). For each element of `reports`, verify_transcript with "
            "the terms, the blobs, now and, when `opener` names a key (seed of key_seeds: "
            "its signing key and its x25519 decryption key), that recipient's key must give "
            "`expected` (the swapproto verify --json object, handshake.md §7.5)."
        ),
        "key_seeds": {name: (bytes([s]) * 32).hex() for name, s in SEEDS.items()},
        "nonces": {
            "sealed": {r: nonce(f"sealed {r}").hex() for r in "ab"},
            "aborted": {},
            "disputed": {r: nonce(r).hex() for r in "ab"},
        },
        "cases": {
            "sealed": _scenario(
                "A sealed exchange (x25519): a commission co-signs both headers (signed_by), "
                "rule equal-count, both accept. Each blob is the sealed container of the "
                "manifest file, built with fixed content keys "
                "(sha256('swapproto transcript vector content key <role>')) and stanzas "
                "SealBase with ikm_e = sha256('swapproto transcript vector ikm_e <role> "
                "<recipient key id hex>'). Without a key the containers, recipients, headers "
                "and commitments are checked and the rules skipped; the mediator's key opens "
                "both lists; b's key opens a's list, and b's own list is not opened.",
                terms,
                sealed,
                sealed_blobs,
                AFTER_REVEAL_BY,
                (None, "mediator", "b"),
            ),
            "aborted": _scenario(
                "Both sign the terms, then a aborts (dated before commit_by). Verified after "
                "reveal_by: state aborted; a is named for the commit it owed (its own abort "
                "does not excuse it), b is not (a's abort cut it off in time).",
                run.terms,
                aborted,
                {},
                AFTER_REVEAL_BY,
            ),
            "disputed": _scenario(
                "valid.json's exchange up to a's verdict, then b disputes with one reason: "
                "state disputed, and every check passes (a dispute is a legal move).",
                run.terms,
                disputed,
                run.blobs(),
                NOW,
            ),
        },
    }


def generate() -> dict[str, object]:
    """The transcript vector files."""
    run = _Run()
    return {"valid": _valid(run), "invalid": _invalid(run), "scenarios": _scenarios(run)}
