"""Agreed terms: the TOML form, the canonical value, the exchange id, roles and rules.

Normative text: ``spec/terms.md``; vectors: ``spec/vectors/terms/``.
"""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vectors_terms
from helpers import load_vectors
from swapproto import records
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.errors import ErrorCode, InputError, PolicyError, SwapprotoError
from swapproto.hashing import Tag, fingerprint, tagged_hash
from swapproto.keys import (
    DecryptionKey,
    KeyAlgorithm,
    PublicKey,
    SigningKey,
    write_key_pair,
    write_public_key,
)
from swapproto.records import DateSpec, RecordModel, SetOf, TextSpec
from swapproto.terms import (
    TERMS_FORMAT,
    TERMS_LIMITS,
    FindingCode,
    ListEvaluation,
    ListRule,
    ListTerms,
    PinnedKey,
    RoleTerms,
    Terms,
    age_band,
    age_on,
    category_vocabulary,
    compile_terms,
    evaluate_list,
    terms_from_toml,
    verify_list,
)

# The terms of issue 4 §1, verbatim (they must be accepted as they are).
ISTANBUL = vectors_terms.ISTANBUL

COMMIT_BY = 1749427200  # 2025-06-09T00:00:00Z
REVEAL_BY = 1749686400  # 2025-06-12T00:00:00Z
REFERENCE = date(2025, 6, 2)
ED = KeyAlgorithm.ED25519
HYBRID = KeyAlgorithm.ED25519_ML_DSA_65


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"test_terms " + label.encode()).digest()


def signing(label: str, alg: KeyAlgorithm = ED) -> SigningKey:
    return SigningKey.from_seed(_seed(f"sign {label}"), alg)


def decryption(label: str) -> DecryptionKey:
    return DecryptionKey.from_seed(_seed(f"decrypt {label}"))


def pinned(label: str, *, encryption: bool = True, alg: KeyAlgorithm = ED) -> PinnedKey:
    enc = decryption(label).public_key if encryption else None
    return PinnedKey(signing(label, alg).public_key, enc, source=label)


# key names usable in TOML texts given to ``from_toml`` (no files involved)
PINNED: dict[str, PinnedKey] = {
    **{f"keys/{n}.pub": pinned(n) for n in ("ua", "ru", "tr", "ua2", "ua3", "ch", "m1", "m2")},
    "keys/plain.pub": pinned("plain", encryption=False),
    "keys/plain2.pub": pinned("plain2", encryption=False),
    "keys/same-enc.pub": PinnedKey(
        signing("same-enc").public_key, decryption("ua").public_key, source="same-enc"
    ),
    "keys/hybrid.pub": pinned("hybrid", alg=HYBRID),
    **{
        f"keys/{n}-pq.pub": PinnedKey(
            signing(f"{n}-pq").public_key,
            DecryptionKey.from_seed(_seed(f"decrypt {n}-pq"), "mlkem768-x25519").public_key,
            source=f"{n}-pq",
        )
        for n in ("ua", "ru", "tr")
    },
}


def load(path: str, where: str) -> PinnedKey:
    try:
        return PINNED[path]
    except KeyError:
        raise InputError(f"{where}: no key {path!r}", code=ErrorCode.INPUT_IO) from None


def from_toml(text: str) -> Terms:
    return terms_from_toml(text, load_key=load)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def write_seeded_keys(directory: Path, *names: str, encryption: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        dec = decryption(name) if encryption else None
        write_key_pair(directory, name, signing(name), decryption_key=dec)


FULL = """\
[exchange]
label = "Geneva, medical cases"
reference_date = 2025-09-01
commit_by = 2025-09-05T12:00:00+02:00
reveal_by = 2025-09-08T00:00:00Z
sealed = false

[parties.a]
name = "Ukraine"
keys = ["keys/ua.pub", "keys/ua2.pub", "keys/ua3.pub"]
threshold = 2

[parties.b]
name = "Russian Federation"
keys = ["keys/ru.pub"]

[[mediators]]
name = "Switzerland"
keys = ["keys/ch.pub"]

[[mediators]]
name = "ICRC"
keys = ["keys/tr.pub"]

[[commissions]]
name = "Mixed Medical Commission"
keys = ["keys/m1.pub", "keys/m2.pub"]
threshold = 2

[[lists]]
name = "wounded"
kind = "prisoner"
from = "both"
rule = "equal-count"
eligible_any = ["seriously_wounded", "seriously_ill"]
signed_by = "Mixed Medical Commission"

[[lists]]
name = "remains"
kind = "remains"
from = "b"
rule = "exact-count"
count = 250

[[lists]]
name = "young"
kind = "prisoner"
from = "a"
rule = "min-count"
count = 10
eligible_all = ["age_18_25", "male"]
"""


@pytest.fixture(scope="module")
def istanbul() -> Terms:
    return from_toml(ISTANBUL)


@pytest.fixture(scope="module")
def full() -> Terms:
    return from_toml(FULL)


def code_of(fn: Callable[[], object]) -> ErrorCode:
    with pytest.raises(SwapprotoError) as err:
        fn()
    return err.value.code


# ---------------------------------------------------------------------------------------
# the TOML form


def test_the_issue_example_is_the_vector_example() -> None:
    assert ISTANBUL == vectors_terms.ISTANBUL


def test_istanbul_example_is_accepted_as_is(tmp_path: Path) -> None:
    """Keys made as ``swapproto keygen NAME -o keys/`` makes them, paths relative."""
    made: dict[str, tuple[SigningKey, DecryptionKey]] = {}
    (tmp_path / "keys").mkdir()
    for name in ("ua", "ru", "tr"):
        made[name] = (SigningKey.generate(), DecryptionKey.generate())
        write_key_pair(tmp_path / "keys", name, made[name][0], decryption_key=made[name][1])
    (tmp_path / "terms.toml").write_text(ISTANBUL, encoding="utf-8")
    terms = compile_terms(tmp_path / "terms.toml")

    assert terms.label == "Istanbul 2025-06, stage 1"
    assert terms.reference_date == REFERENCE
    assert (terms.commit_by, terms.reveal_by, terms.sealed) == (COMMIT_BY, REVEAL_BY, True)
    assert list(terms.roles) == ["a", "b", "mediator:Turkiye"]
    assert terms.commissions == ()
    for role, name, key in (("a", "Ukraine", "ua"), ("b", "Russian Federation", "ru")):
        assert terms.party_name(role) == name
        (only,) = terms.role(role).keys
        assert only.signing == made[key][0].public_key
        assert only.encryption == made[key][1].public_key
        assert only.source == f"keys/{key}.pub"
        assert terms.role(role).threshold == 1
    (mediator,) = terms.mediators
    assert (mediator.role, mediator.name, mediator.threshold) == ("mediator:Turkiye", "Turkiye", 1)
    (pows,) = terms.lists
    assert pows == ListTerms(
        name="pows",
        kind="prisoner",
        from_="both",
        rule=ListRule.ALL_FOR_ALL,
        min_count=1000,
        eligible_any=("age_18_25", "seriously_ill", "seriously_wounded"),
    )
    assert pows.submitters == ("a", "b")
    assert terms.list("pows") is pows
    assert len(terms.exchange_id) == 32


def test_compile_terms_equals_the_in_memory_form(tmp_path: Path) -> None:
    write_seeded_keys(tmp_path / "keys", "ua", "ru", "tr")
    (tmp_path / "terms.toml").write_text(ISTANBUL, encoding="utf-8")
    compiled = compile_terms(str(tmp_path / "terms.toml"))
    assert compiled.to_bytes() == from_toml(ISTANBUL).to_bytes()


def test_key_paths_are_relative_to_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_seeded_keys(tmp_path / "keys", "ua", "ru", "tr")
    (tmp_path / "sub").mkdir()
    text = ISTANBUL.replace('"keys/', '"../keys/')
    text = text.replace('"../keys/tr.pub"', f'"{tmp_path / "keys" / "tr.pub"}"')  # absolute
    (tmp_path / "sub" / "terms.toml").write_text(text, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    terms = compile_terms(tmp_path / "sub" / "terms.toml")
    assert terms.to_bytes() == from_toml(ISTANBUL).to_bytes()  # key file paths are not pinned


def test_native_toml_dates_and_times(full: Terms) -> None:
    assert full.reference_date == date(2025, 9, 1)
    assert full.commit_by == int(datetime(2025, 9, 5, 10, tzinfo=UTC).timestamp())
    assert full.reveal_by == int(datetime(2025, 9, 8, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ('"2025-06-09T00:00:00Z"', COMMIT_BY),
        ('"2025-06-09t00:00:00z"', COMMIT_BY),
        ('"2025-06-09 00:00:00Z"', COMMIT_BY),
        ('"2025-06-09T02:00:00+02:00"', COMMIT_BY),
        ('"2025-06-08T19:00:00-05:00"', COMMIT_BY),
        ('"2025-06-09T00:00:00-00:00"', COMMIT_BY),
        ('"2025-06-09T00:00:00.000Z"', COMMIT_BY),
        ('"2025-06-09T00:00:00.0000009Z"', COMMIT_BY),  # read at microseconds, truncated
        ("2025-06-09T00:00:00.0000009Z", COMMIT_BY),
        ("2025-06-09T00:00:00Z", COMMIT_BY),
        ("2025-06-09 03:00:00+03:00", COMMIT_BY),
        ('"1970-01-01T00:00:00Z"', 0),
    ],
)
def test_deadline_forms(written: str, seconds: int) -> None:
    text = edit(ISTANBUL, '"2025-06-09T00:00:00Z"', written)
    if seconds == 0:
        text = edit(text, '"2025-06-12T00:00:00Z"', '"1970-01-01T00:00:01Z"')
    assert from_toml(text).commit_by == seconds


def test_defaults_and_unsealed_terms_without_encryption_keys() -> None:
    text = edit(ISTANBUL, "sealed = true", "sealed = false")
    text = edit(text, END_OF_PARTY_A, "\n[parties.b]")  # threshold defaults to 1
    text = edit(text, '"keys/ua.pub"', '"keys/plain.pub"')
    text = edit(text, '"keys/ru.pub"', '"keys/plain2.pub"')
    terms = from_toml(text)
    assert terms.a.threshold == 1
    assert terms.a.keys[0].encryption is None
    assert not terms.sealed
    with pytest.raises(PolicyError) as err:  # nothing to seal to
        terms.recipients_for("pows", "a")
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "parties.b: no encryption key pinned" in str(err.value)


def test_mediators_and_commissions_are_optional() -> None:
    text = ISTANBUL[: ISTANBUL.index("[[mediators]]")] + ISTANBUL[ISTANBUL.index("[[lists]]") :]
    terms = from_toml(text)
    assert terms.mediators == terms.commissions == ()
    assert list(terms.roles) == ["a", "b"]
    assert [k.key_id for k in terms.recipients_for("pows", "a")] == [
        PINNED["keys/ru.pub"].encryption.key_id  # type: ignore[union-attr]
    ]


def test_text_is_normalised_at_the_edge() -> None:
    nfd = unicodedata.normalize("NFD", "Türkiye")
    text = edit(ISTANBUL, 'label = "Istanbul 2025-06, stage 1"', 'label = "  Istanbul  "')
    text = edit(text, 'name = "Turkiye"', f'name = " {nfd} "')
    terms = from_toml(text)
    assert terms.label == "Istanbul"
    assert terms.mediators[0].name == "Türkiye"
    assert list(terms.roles)[-1] == "mediator:Türkiye"


def test_order_of_writing_does_not_matter(full: Terms) -> None:
    """Keys, mediators, lists and categories are sorted: equal terms, equal bytes."""
    lists = FULL[FULL.index("[[lists]]") :]
    blocks = ["[[lists]]" + b for b in lists.split("[[lists]]")[1:]]
    head = FULL[: FULL.index("[[lists]]")]
    head = head.replace(
        '"keys/ua.pub", "keys/ua2.pub", "keys/ua3.pub"',
        '"keys/ua3.pub", "keys/ua.pub", "keys/ua2.pub"',
    )
    mediators = head[head.index("[[mediators]]") : head.index("[[commissions]]")]
    first, second = ("[[mediators]]" + m for m in mediators.split("[[mediators]]")[1:])
    head = head.replace(mediators, second + first)
    text = head + "".join(reversed(blocks))
    text = edit(text, '["age_18_25", "male"]', '["male", "age_18_25"]')
    assert text != FULL
    again = from_toml(text)
    assert again.to_bytes() == full.to_bytes()
    assert again == full
    assert [m.name for m in again.mediators] == ["ICRC", "Switzerland"]
    assert [lt.name for lt in again.lists] == ["remains", "wounded", "young"]


# ---------------------------------------------------------------------------------------
# TOML rejections: every one a PolicyError (policy.invalid) naming the key

END_OF_PARTY_A = "threshold = 1\n\n[parties.b]"
MEDIATOR_2 = '[[mediators]]\nname = "Turkiye"\nkeys = ["keys/ch.pub"]\n\n[[lists]]'
COMMISSION = '[[commissions]]\nname = "C"\nkeys = ["keys/m1.pub"]\n\n[[lists]]'
POWS = ISTANBUL[ISTANBUL.index("[[lists]]") :]

TOML_REJECTIONS: list[tuple[str, str, str, str]] = [
    # (description, old, new, part of the message)
    ("unknown top-level table", "[exchange]", "[nonce]\nx = 1\n\n[exchange]", "nonce: unknown key"),
    ("unknown exchange field", "sealed = true", "sealed = true\nround = 2", "exchange.round"),
    ("unknown party field", END_OF_PARTY_A, "country = 'UA'\n" + END_OF_PARTY_A, "country"),
    ("unknown list field", "min_count = 1000", "min = 1000", "lists[0].min: unknown key"),
    ("party c", "[parties.b]", "[parties.c]", "parties.b: is required"),
    ("label missing", 'label = "Istanbul 2025-06, stage 1"', "", "exchange.label: is required"),
    ("sealed missing", "sealed = true ", "", "exchange.sealed: is required"),
    ("sealed a string", "sealed = true", 'sealed = "yes"', "exchange.sealed"),
    ("lists missing", POWS, "", "lists: is required"),
    ("label empty", '"Istanbul 2025-06, stage 1"', '"  "', "exchange.label: is empty"),
    ("label with a newline", '"Istanbul 2025-06, stage 1"', '"a\\nb"', "exchange.label"),
    ("label too long", '"Istanbul 2025-06, stage 1"', f'"{"x" * 201}"', "longer than 200"),
    ("reference date 30 Feb", '"2025-06-02"', '"2025-02-30"', "exchange.reference_date"),
    ("reference date not padded", '"2025-06-02"', '"2025-6-2"', "exchange.reference_date"),
    ("reference date a time", '"2025-06-02"', "2025-06-02T00:00:00Z", "exchange.reference_date"),
    ("reference date a number", '"2025-06-02"', "20250602", "exchange.reference_date"),
    ("reference date before 1900", '"2025-06-02"', '"1899-12-31"', "1900-01-01 or later"),
    ("deadline without offset", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00:00"', "RFC 3339"),
    ("deadline native local", '"2025-06-09T00:00:00Z"', "2025-06-09T00:00:00", "UTC offset"),
    ("deadline a date", '"2025-06-09T00:00:00Z"', '"2025-06-09"', "exchange.commit_by"),
    ("deadline native date", '"2025-06-09T00:00:00Z"', "2025-06-09", "exchange.commit_by"),
    ("deadline a number", '"2025-06-09T00:00:00Z"', "1749427200", "exchange.commit_by"),
    ("deadline ISO week", '"2025-06-09T00:00:00Z"', '"2025-W24-1T00:00:00Z"', "RFC 3339"),
    ("deadline basic format", '"2025-06-09T00:00:00Z"', '"20250609T000000Z"', "RFC 3339"),
    ("deadline without seconds", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00Z"', "RFC 3339"),
    ("deadline offset +0200", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00:00+0200"', "RFC 3339"),
    ("deadline offset 24h", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00:00+24:00"', "RFC 3339"),
    ("deadline leap second", '"2025-06-09T00:00:00Z"', '"2025-06-30T23:59:60Z"', "RFC 3339"),
    ("deadline with fraction", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00:00.5Z"', "fraction"),
    ("native fraction", '"2025-06-09T00:00:00Z"', "2025-06-09T00:00:00.5Z", "fraction"),
    ("one microsecond", '"2025-06-09T00:00:00Z"', '"2025-06-09T00:00:00.000001Z"', "fraction"),
    ("deadline before 1970", '"2025-06-09T00:00:00Z"', '"1969-12-31T23:59:59Z"', "before 1970"),
    ("reveal_by = commit_by", '"2025-06-12T00:00:00Z"', '"2025-06-09T00:00:00Z"', "after"),
    ("reveal_by < commit_by", '"2025-06-12T00:00:00Z"', '"2025-06-08T23:59:59Z"', "after"),
    ("threshold 0", END_OF_PARTY_A, "threshold = 0\n\n[parties.b]", "parties.a.threshold"),
    ("threshold > keys", END_OF_PARTY_A, "threshold = 2\n\n[parties.b]", "from 1 to 1"),
    ("threshold a string", END_OF_PARTY_A, 'threshold = "1"\n\n[parties.b]', "threshold"),
    ("threshold true", END_OF_PARTY_A, "threshold = true\n\n[parties.b]", "threshold"),
    ("no keys", '["keys/ua.pub"]', "[]", "parties.a.keys: a role needs 1 to 64 keys"),
    ("keys a string", '["keys/ua.pub"]', '"keys/ua.pub"', "parties.a.keys"),
    ("key file twice", '["keys/ua.pub"]', '["keys/ua.pub", "keys/ua.pub"]', "listed twice"),
    ("party names equal", '"Russian Federation"', '"Ukraine"', "different names"),
    ("party name empty", '"Russian Federation"', '""', "parties.b.name"),
    ("mediator name twice", "[[lists]]", MEDIATOR_2, "mediators['Turkiye']: name used twice"),
    ("kind unknown", '"prisoner"', '"hostage"', "unknown record kind 'hostage'"),
    ("from unknown", 'from = "both"', 'from = "c"', "lists[0].from"),
    ("rule unknown", '"all-for-all"', '"some-for-some"', "lists[0].rule"),
    ("rule with a count in it", '"all-for-all"', '"exact-count 5"', "lists[0].rule"),
    ("category unknown", '"age_18_25"]', '"age_18_25", "brave"]', "unknown category 'brave'"),
    ("category from another kind", '"age_18_25"]', '"chronic"]', "unknown category 'chronic'"),
    ("category twice", '"age_18_25"]', '"age_18_25", "seriously_ill"]', "listed twice"),
    ("age band reversed", '"age_18_25"]', '"age_26_25"]', "not a valid age band"),
    ("age band over 150", '"age_18_25"]', '"age_18_151"]', "not a valid age band"),
    ("age band zero-padded", '"age_18_25"]', '"age_018_25"]', "unknown category"),
    ("eligible_any empty", '["seriously_ill", "seriously_wounded", "age_18_25"]', "[]", "empty"),
    ("categories not strings", '"age_18_25"]', "18]", "lists[0].eligible_any"),
    ("count with all-for-all", "min_count = 1000", "count = 5", "only rules exact-count"),
    ("min_count 0", "min_count = 1000", "min_count = 0", "from 1 to 4294967295"),
    ("min_count negative", "min_count = 1000", "min_count = -1", "from 1 to 4294967295"),
    ("min_count 2**32", "min_count = 1000", "min_count = 4294967296", "from 1 to 4294967295"),
    ("min_count a string", "min_count = 1000", 'min_count = "1000"', "lists[0].min_count"),
    ("list name with a space", 'name = "pows"', 'name = "po ws"', "lists['po ws'].name"),
    ("list name too long", 'name = "pows"', f'name = "{"p" * 65}"', ".name: 1-64"),
    ("list name not ASCII", 'name = "pows"', 'name = "пленные"', ".name: 1-64"),
    ("signed_by no commission", "min_count = 1000", 'signed_by = "C"', "no commission named 'C'"),
    ("two lists of one name", POWS, POWS + "\n" + POWS, "lists['pows']: list name used twice"),
    ("a and b share a key", '["keys/ru.pub"]', '["keys/ua.pub"]', "parties.b.keys: 'ua' shares"),
    ("party and mediator share", '["keys/tr.pub"]', '["keys/ua.pub"]', "mediators['Turkiye']"),
    ("shared encryption key", '["keys/ru.pub"]', '["keys/same-enc.pub"]', "its encryption key"),
    (
        "two keys of one role share one",
        '["keys/ua.pub"]',
        '["keys/ua.pub", "keys/same-enc.pub"]',
        "parties.a.keys: 'same-enc' shares its encryption key with parties.a.keys ('ua')",
    ),
    (
        "sealed, a receiving party without encryption key",
        '["keys/ru.pub"]',
        '["keys/plain.pub"]',
        "parties.b.keys: the terms are sealed",
    ),
    (
        "sealed, a mediator without encryption key",
        '["keys/tr.pub"]',
        '["keys/plain.pub"]',
        "mediators['Turkiye'].keys: the terms are sealed",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [pytest.param(old, new, msg, id=desc) for desc, old, new, msg in TOML_REJECTIONS],
)
def test_toml_rejections(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        from_toml(edit(ISTANBUL, old, new))
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert message in str(err.value)


LIST_REJECTIONS: list[tuple[str, str, str]] = [
    # (description, a second list's lines after its name, part of the message)
    ("exact-count without count", 'from = "a"\nrule = "exact-count"', "count: required by"),
    ("min-count without count", 'from = "a"\nrule = "min-count"', "count: required by"),
    ("exact-count 0", 'from = "a"\nrule = "exact-count"\ncount = 0', "integer from 1"),
    ("min-count 2**32", 'from = "a"\nrule = "min-count"\ncount = 4294967296', "from 1 to"),
    ("count with equal-count", 'from = "both"\nrule = "equal-count"\ncount = 3', "only rules"),
    (
        "min_count with exact-count",
        'from = "a"\nrule = "exact-count"\ncount = 3\nmin_count = 2',
        "min_count: not allowed with rule exact-count",
    ),
    (
        "min_count with min-count",
        'from = "a"\nrule = "min-count"\ncount = 3\nmin_count = 2',
        "min_count: not allowed with rule min-count",
    ),
    ("equal-count from one side", 'from = "a"\nrule = "equal-count"', "needs from = 'both'"),
    ("count a float", 'from = "a"\nrule = "exact-count"\ncount = 3.0', "lists[1].count"),
    ("from missing", 'rule = "all-for-all"', "lists[1].from: is required"),
    ("rule missing", 'from = "a"', "lists[1].rule: is required"),
    (
        "eligible_all empty",
        'from = "a"\nrule = "all-for-all"\neligible_all = []',
        "eligible_all: must not be empty",
    ),
    (
        "age band for a kind without a birth date",
        'kind = "medical_case"\nfrom = "a"\nrule = "all-for-all"\neligible_all = ["age_18_25"]',
        "needs a kind with a date_of_birth field",
    ),
]


@pytest.mark.parametrize(
    ("lines", "message"),
    [pytest.param(lines, msg, id=desc) for desc, lines, msg in LIST_REJECTIONS],
)
def test_list_rule_rejections(lines: str, message: str) -> None:
    kind = "" if "kind =" in lines else 'kind = "prisoner"\n'
    text = f'{ISTANBUL}\n[[lists]]\nname = "second"\n{kind}{lines}\n'
    with pytest.raises(PolicyError) as err:
        from_toml(text)
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert message in str(err.value)


def test_no_lists() -> None:
    text = "lists = []\n" + ISTANBUL.replace(POWS, "")
    with pytest.raises(PolicyError) as err:
        from_toml(text)
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "lists: need 1 to 256 lists" in str(err.value)


def test_hybrid_key_sharing_its_ed25519_component() -> None:
    """A hybrid key whose Ed25519 part is another role's key: the key ids differ."""
    ua = PINNED["keys/ua.pub"].signing
    other = PINNED["keys/hybrid.pub"].signing
    assert other.ml_dsa_65 is not None
    sneaky = PublicKey(HYBRID, ua.ed25519, other.ml_dsa_65)
    assert sneaky.key_id != ua.key_id
    keys = {**PINNED, "sneaky": PinnedKey(sneaky, None, source="sneaky")}
    text = edit(edit(ISTANBUL, '["keys/tr.pub"]', '["sneaky"]'), "true ", "false ")
    with pytest.raises(PolicyError) as err:
        terms_from_toml(text, load_key=lambda path, where: keys[path])
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "shares its signing key with parties.a.keys" in str(err.value)


def test_hybrid_keys_are_accepted() -> None:
    terms = from_toml(edit(ISTANBUL, '["keys/tr.pub"]', '["keys/hybrid.pub"]'))
    assert terms.mediators[0].keys[0].signing.alg is HYBRID
    assert Terms.from_bytes(terms.to_bytes()) == terms


def test_sealed_terms_need_encryption_keys_only_for_receivers() -> None:
    """Party a submits the only list, so only b and the mediators receive sealed lists."""
    text = edit(ISTANBUL, '["keys/ua.pub"]', '["keys/plain.pub"]')
    with pytest.raises(PolicyError):
        from_toml(text)
    terms = from_toml(edit(text, 'from = "both"', 'from = "a"'))
    assert terms.sealed
    assert len(terms.recipients_for("pows", "a")) == 2


def test_sealed_terms_need_one_encryption_suite_for_all_recipients() -> None:
    mixed = edit(ISTANBUL, '["keys/tr.pub"]', '["keys/tr-pq.pub"]')
    with pytest.raises(PolicyError) as err:
        from_toml(mixed)
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "mlkem768-x25519: mediator:Turkiye; x25519: a, b" in str(err.value)
    post_quantum = edit(
        edit(mixed, '["keys/ua.pub"]', '["keys/ua-pq.pub"]'),
        '["keys/ru.pub"]',
        '["keys/ru-pq.pub"]',
    )
    terms = from_toml(post_quantum)
    assert {k.suite.value for k in terms.recipients_for("pows", "a")} == {"mlkem768-x25519"}
    assert from_toml(edit(mixed, "sealed = true", "sealed = false")).sealed is False


def test_a_role_needs_one_encryption_key_among_several() -> None:
    text = edit(ISTANBUL, '["keys/ru.pub"]', '["keys/plain.pub", "keys/ru.pub"]')
    terms = from_toml(text)
    assert [k.key_id for k in terms.recipients_for("pows", "a")] == [
        PINNED["keys/ru.pub"].encryption.key_id,  # type: ignore[union-attr]
        PINNED["keys/tr.pub"].encryption.key_id,  # type: ignore[union-attr]
    ]


def test_invalid_toml_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        from_toml(ISTANBUL + "\n[[[")
    assert err.value.code is ErrorCode.INPUT_INVALID
    with pytest.raises(InputError) as err:
        from_toml(ISTANBUL.replace("[parties.b]", "[parties.a]"))  # a table defined twice
    assert err.value.code is ErrorCode.INPUT_INVALID


def test_the_pydantic_error_names_the_key_in_details() -> None:
    with pytest.raises(PolicyError) as err:
        from_toml(edit(ISTANBUL, "min_count = 1000", "min_count = 1000\nmax_count = 3"))
    assert err.value.details["key"] == "lists[0].max_count"
    assert "unknown key" in str(err.value)


def test_compile_terms_file_errors(tmp_path: Path) -> None:
    cases: list[tuple[str, bytes, ErrorCode, str]] = [
        ("missing.toml", b"", ErrorCode.INPUT_IO, "cannot read"),
        ("latin1.toml", "label = 'Türkiye'".encode("latin-1"), ErrorCode.INPUT_INVALID, "UTF-8"),
        ("big.toml", b"#" * (1024 * 1024 + 1), ErrorCode.INPUT_INVALID, "larger than"),
        ("bad.toml", b"[[[", ErrorCode.INPUT_INVALID, "not valid TOML"),
    ]
    for name, data, code, message in cases:
        if data:
            (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError) as err:
            compile_terms(tmp_path / name)
        assert err.value.code is code, name
        assert message in str(err.value), name


def test_compile_terms_key_file_errors(tmp_path: Path) -> None:
    write_seeded_keys(tmp_path / "keys", "ua", "tr")
    (tmp_path / "terms.toml").write_text(ISTANBUL, encoding="utf-8")
    with pytest.raises(InputError) as err:
        compile_terms(tmp_path / "terms.toml")  # keys/ru.pub is missing
    assert err.value.code is ErrorCode.INPUT_IO
    assert "parties.b.keys[0]: key file 'keys/ru.pub'" in str(err.value)

    (tmp_path / "keys" / "ru.pub").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError) as err:
        compile_terms(tmp_path / "terms.toml")
    assert err.value.code is ErrorCode.KEY_FORMAT
    assert "parties.b.keys[0]" in str(err.value)

    (tmp_path / "keys" / "ru.pub").unlink()
    (tmp_path / "keys" / "ru.pub").mkdir()
    assert code_of(lambda: compile_terms(tmp_path / "terms.toml")) is ErrorCode.KEY_FORMAT

    (tmp_path / "terms.toml").write_text(edit(ISTANBUL, '"keys/ru.pub"', '""'), encoding="utf-8")
    with pytest.raises(PolicyError) as perr:
        compile_terms(tmp_path / "terms.toml")
    assert perr.value.code is ErrorCode.POLICY_INVALID
    assert "empty key file path" in str(perr.value)


def test_compile_terms_reads_the_encryption_key_from_the_pub_file(tmp_path: Path) -> None:
    write_seeded_keys(tmp_path / "keys", "ua", "ru", "tr")
    write_seeded_keys(tmp_path / "keys", "plain", encryption=False)
    text = edit(edit(ISTANBUL, "keys/ru.pub", "keys/plain.pub"), "sealed = true", "sealed = false")
    (tmp_path / "terms.toml").write_text(text, encoding="utf-8")
    terms = compile_terms(tmp_path / "terms.toml")
    assert terms.b.keys[0].encryption is None
    assert terms.a.keys[0].encryption == decryption("ua").public_key


# ---------------------------------------------------------------------------------------
# direct construction


def test_direct_construction_is_validated(istanbul: Terms) -> None:
    x = pinned("x")
    ok = RoleTerms(role="b", name="B", threshold=1, keys=(x,))
    assert ok.policy().threshold == 1
    bad: list[Callable[[], object]] = [
        lambda: RoleTerms(role="b", name="B", threshold=1, keys=[x]),  # type: ignore[arg-type]
        lambda: RoleTerms(role="b", name="B", threshold=1, keys=()),
        lambda: RoleTerms(role="b", name=" B", threshold=1, keys=(pinned("x"),)),
        lambda: RoleTerms(role="b", name="B", threshold=True, keys=(pinned("x"),)),
        lambda: dataclasses.replace(istanbul, a=ok),
        lambda: dataclasses.replace(istanbul, b=istanbul.a),
        lambda: dataclasses.replace(istanbul, mediators=(ok,)),
        lambda: dataclasses.replace(istanbul, commit_by=-1),
        lambda: dataclasses.replace(istanbul, commit_by=2**63),
        lambda: dataclasses.replace(istanbul, sealed=1),  # type: ignore[arg-type]
        lambda: dataclasses.replace(istanbul, reference_date=datetime(2025, 6, 2)),
        lambda: dataclasses.replace(istanbul, lists=()),
        lambda: ListTerms(name="x", kind="prisoner", from_="a", rule="x"),  # type: ignore[arg-type]
        lambda: ListTerms(name="x", kind="prisoner", from_="both", rule=ListRule.ALL_FOR_ALL,
                          eligible_any=["male"]),  # type: ignore[arg-type]
        lambda: ListTerms(name="x", kind="prisoner", from_="both", rule=ListRule.ALL_FOR_ALL,
                          signed_by=3),  # type: ignore[arg-type]
    ]  # fmt: skip
    for i, fn in enumerate(bad):
        assert code_of(fn) is ErrorCode.POLICY_INVALID, i


def test_list_terms_accept_a_rule_string() -> None:
    rule: Any = "min-count"
    lt = ListTerms(name="x", kind="prisoner", from_="a", rule=rule, count=2)
    assert lt.rule is ListRule.MIN_COUNT
    assert lt.submitters == ("a",)


def test_terms_that_would_not_decode_are_refused(istanbul: Terms) -> None:
    """A value over ``TERMS_LIMITS.max_input`` could be signed but never read back."""
    hybrids = [pinned(f"big {i}", alg=HYBRID, encryption=False) for i in range(9 * 64)]
    commissions = tuple(
        RoleTerms(
            role=f"commission:c{i}", name=f"c{i}", threshold=1, keys=tuple(hybrids[64 * i :][:64])
        )
        for i in range(9)
    )
    big = dataclasses.replace(istanbul, commissions=commissions[:7])
    assert TERMS_LIMITS.max_input // 2 < len(big.to_bytes()) < TERMS_LIMITS.max_input
    assert Terms.from_bytes(big.to_bytes()) == big
    with pytest.raises(PolicyError) as err:
        dataclasses.replace(istanbul, commissions=commissions)
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "TERMS_LIMITS" in str(err.value)


# ---------------------------------------------------------------------------------------
# the canonical value, its bytes and the exchange id


def test_canonical_value(istanbul: Terms) -> None:
    value = istanbul.to_value()
    assert list(value) == ["commissions", "exchange", "format", "lists", "mediators", "parties"]
    assert value["format"] == TERMS_FORMAT == "swapproto-terms/1"
    assert value["commissions"] == []
    assert value["exchange"] == {
        "commit_by": COMMIT_BY,
        "label": "Istanbul 2025-06, stage 1",
        "reference_date": "2025-06-02",
        "reveal_by": REVEAL_BY,
        "sealed": True,
    }
    ua = PINNED["keys/ua.pub"]
    assert ua.encryption is not None
    assert value["parties"] == {
        "a": {
            "keys": [{"encryption": ua.encryption.record(), "signing": ua.signing.record()}],
            "name": "Ukraine",
            "threshold": 1,
        },
        "b": istanbul.b.to_value(),
    }
    assert value["mediators"] == [istanbul.mediators[0].to_value()]
    assert value["lists"] == [
        {
            "eligible_any": ["age_18_25", "seriously_ill", "seriously_wounded"],
            "from": "both",
            "kind": "prisoner",
            "min_count": 1000,
            "name": "pows",
            "rule": "all-for-all",
        }
    ]
    assert encode(value) == istanbul.to_bytes()
    assert decode(istanbul.to_bytes()) == value
    assert istanbul.to_value() is not istanbul.to_value()  # a fresh dict every time


def test_absent_options_are_omitted(full: Terms) -> None:
    lists = {lt["name"]: lt for lt in full.to_value()["lists"]}  # type: ignore[attr-defined]
    assert lists["remains"] == {
        "count": 250,
        "from": "b",
        "kind": "remains",
        "name": "remains",
        "rule": "exact-count",
    }
    assert lists["wounded"]["signed_by"] == "Mixed Medical Commission"
    assert lists["young"]["eligible_all"] == ["age_18_25", "male"]
    keys = full.to_value()["parties"]["a"]["keys"]  # type: ignore[index]
    assert [k["signing"]["ed25519"] for k in keys] == [k.signing.ed25519 for k in full.a.keys]
    assert [k.key_id for k in full.a.keys] == sorted(k.key_id for k in full.a.keys)


@pytest.mark.parametrize("name", ["istanbul", "full"])
def test_round_trip(name: str, request: pytest.FixtureRequest) -> None:
    terms: Terms = request.getfixturevalue(name)
    again = Terms.from_bytes(terms.to_bytes())
    assert again == terms
    assert again.to_bytes() == terms.to_bytes()
    assert again.exchange_id == terms.exchange_id
    assert Terms.from_value(terms.to_value()) == terms
    assert again.a.keys[0].source is None  # the key file name is not part of the terms


def test_exchange_id_is_the_tagged_hash(istanbul: Terms) -> None:
    data = istanbul.to_bytes()
    tag = hashlib.sha256(b"swapproto/v1/exchange-id").digest()
    assert istanbul.exchange_id == hashlib.sha256(tag + tag + data).digest()
    assert istanbul.exchange_id == tagged_hash(Tag.EXCHANGE_ID, data)
    assert istanbul.fingerprint == fingerprint(istanbul.exchange_id)
    assert len(istanbul.fingerprint) == 19


def _mutations(full: Terms) -> Iterator[tuple[str, dict[str, Any]]]:
    def changed(path: tuple[Any, ...], new: Any) -> dict[str, Any]:
        value: Any = decode(full.to_bytes())
        node = value
        for step in path[:-1]:
            node = node[step]
        if new is None:
            del node[path[-1]]
        else:
            node[path[-1]] = new
        return value  # type: ignore[no-any-return]

    lists = {lt.name: i for i, lt in enumerate(full.lists)}
    wounded, remains, young = lists["wounded"], lists["remains"], lists["young"]
    a_keys = full.to_value()["parties"]["a"]["keys"]  # type: ignore[index]
    plain = {"signing": PINNED["keys/plain.pub"].signing.record()}
    yield "label", changed(("exchange", "label"), "Geneva, stage 2")
    yield "reference date", changed(("exchange", "reference_date"), "2025-09-02")
    yield "commit_by", changed(("exchange", "commit_by"), full.commit_by + 1)
    yield "reveal_by", changed(("exchange", "reveal_by"), full.reveal_by + 1)
    yield "sealed", changed(("exchange", "sealed"), True)
    yield "party name", changed(("parties", "a", "name"), "Ukraina")
    yield "threshold", changed(("parties", "a", "threshold"), 3)
    yield "one key fewer", changed(("parties", "a", "keys"), a_keys[:2])
    yield "another key", changed(("parties", "b", "keys"), [plain])
    yield "no encryption key", changed(("parties", "b", "keys", 0, "encryption"), None)
    yield "mediator name", changed(("mediators", 0, "name"), "ICRC Geneva")
    decoded: Any = decode(full.to_bytes())
    one_mediator = decoded["mediators"][:1]
    yield "one mediator fewer", changed(("mediators",), one_mediator)
    yield "commission threshold", changed(("commissions", 0, "threshold"), 1)
    yield "list name", changed(("lists", young, "name"), "youth")
    yield "list kind", changed(("lists", remains, "kind"), "prisoner")
    yield "list from", changed(("lists", young, "from"), "b")
    yield "list rule", changed(("lists", remains, "rule"), "min-count")
    yield "list count", changed(("lists", remains, "count"), 251)
    yield "min_count added", changed(("lists", wounded, "min_count"), 1)
    yield "eligible_any", changed(("lists", wounded, "eligible_any"), ["seriously_ill"])
    yield "eligible_all", changed(("lists", young, "eligible_all"), ["age_18_25"])
    yield "eligible_all to any", changed(("lists", young, "eligible_all"), None)
    yield "signed_by removed", changed(("lists", wounded, "signed_by"), None)


def test_exchange_id_changes_with_any_field(full: Terms) -> None:
    ids = {full.exchange_id: "original"}
    for desc, value in _mutations(full):
        terms = Terms.from_value(value)
        assert terms.exchange_id not in ids, (desc, ids.get(terms.exchange_id))
        ids[terms.exchange_id] = desc
        assert Terms.from_bytes(terms.to_bytes()).exchange_id == terms.exchange_id
    assert len(ids) == 24


def _non_canonical(istanbul: Terms, full: Terms) -> list[tuple[str, bytes, ErrorCode]]:
    good = istanbul.to_bytes()
    value: Any = istanbul.to_value()
    unsorted: bytes = msgpack.packb(dict(reversed(list(value.items()))), use_bin_type=True)
    commit = encode("commit_by") + encode(COMMIT_BY)
    long_int = encode("commit_by") + b"\xcf" + COMMIT_BY.to_bytes(8, "big")
    assert good.count(commit) == 1

    def semantic(mutate: Callable[[Any], None], base: Terms = istanbul) -> bytes:
        copy: Any = decode(base.to_bytes())
        mutate(copy)
        return encode(copy)

    def swap(node: list[Any]) -> None:
        node[0], node[1] = node[1], node[0]

    def put(*path: Any) -> Callable[[Any], None]:
        def mutate(value: Any) -> None:
            for step in path[:-2]:
                value = value[step]
            value[path[-2]] = path[-1]

        return mutate

    invalid = ErrorCode.POLICY_INVALID
    A0 = ("parties", "a", "keys", 0)  # noqa: N806
    return [
        ("empty", b"", ErrorCode.DECODE_TRUNCATED),
        ("truncated", good[:-1], ErrorCode.DECODE_TRUNCATED),
        ("trailing byte", good + b"\xc0", ErrorCode.DECODE_TRAILING),
        ("map keys unsorted", unsorted, ErrorCode.DECODE_UNSORTED_KEYS),
        ("integer not shortest", good.replace(commit, long_int), ErrorCode.DECODE_NON_SHORTEST),
        ("not a map", encode([1, 2]), invalid),
        ("format missing", semantic(lambda v: v.pop("format")), invalid),
        ("format 2", semantic(put("format", "swapproto-terms/2")), invalid),
        ("label with trailing space", semantic(put("exchange", "label", "x ")), invalid),
        ("label not a string", semantic(put("exchange", "label", b"x")), invalid),
        ("date not padded", semantic(put("exchange", "reference_date", "2025-6-2")), invalid),
        ("date as an integer", semantic(put("exchange", "reference_date", 20250602)), invalid),
        ("deadline a string", semantic(put("exchange", "commit_by", "1749427200")), invalid),
        ("deadline over 2**63-1", semantic(put("exchange", "reveal_by", 2**63)), invalid),
        ("sealed nil", semantic(put("exchange", "sealed", None)), invalid),
        ("threshold true", semantic(put("parties", "a", "threshold", True)), invalid),
        ("role keys unsorted", semantic(lambda v: swap(v["parties"]["a"]["keys"]), full), invalid),
        ("mediators unsorted", semantic(lambda v: swap(v["mediators"]), full), invalid),
        ("lists unsorted", semantic(lambda v: swap(v["lists"]), full), invalid),
        ("key without signing", semantic(lambda v: v["mediators"][0]["keys"][0].clear()), invalid),
        ("unknown key member", semantic(put("mediators", 0, "keys", 0, "note", "x")), invalid),
        ("encryption suite", semantic(put(*A0, "encryption", "suite", "p256")), invalid),
        ("encryption short", semantic(put(*A0, "encryption", "x25519", b"1")), invalid),
        ("signing key short", semantic(put(*A0, "signing", "ed25519", b"1")), invalid),
        ("list field unknown", semantic(put("lists", 0, "priority", 1)), invalid),
        ("list rule absent", semantic(lambda v: v["lists"][0].pop("rule")), invalid),
        ("list min_count nil", semantic(put("lists", 0, "min_count", None)), invalid),
        ("list count a bool", semantic(put("lists", 0, "min_count", True)), invalid),
        ("categories not strings", semantic(put("lists", 0, "eligible_any", [1])), invalid),
        ("categories repeated", semantic(put("lists", 0, "eligible_any", ["male"] * 2)), invalid),
        ("signed_by not a string", semantic(put("lists", 0, "signed_by", 1)), invalid),
        ("parties a list", semantic(put("parties", [])), invalid),
        ("mediators a map", semantic(put("mediators", {})), invalid),
    ]  # fmt: skip


def test_from_bytes_rejects_non_canonical_and_malformed_terms(istanbul: Terms, full: Terms) -> None:
    for desc, data, code in _non_canonical(istanbul, full):
        assert code_of(lambda data=data: Terms.from_bytes(data)) is code, desc  # type: ignore[misc]


def test_from_bytes_applies_limits(istanbul: Terms) -> None:
    data = istanbul.to_bytes()
    small = DecodeLimits(max_input=len(data) - 1)
    assert code_of(lambda: Terms.from_bytes(data, limits=small)) is ErrorCode.DECODE_LIMIT
    shallow = DecodeLimits(max_depth=5)  # terms > parties > a > keys > key > signing: 6
    assert code_of(lambda: Terms.from_bytes(data, limits=shallow)) is ErrorCode.DECODE_DEPTH
    assert Terms.from_bytes(data, limits=DecodeLimits(max_depth=6)) == istanbul


def test_from_bytes_takes_bytes_only(istanbul: Terms) -> None:
    with pytest.raises(TypeError):
        Terms.from_bytes(bytearray(istanbul.to_bytes()))  # type: ignore[arg-type]


def test_from_value_is_strict_about_python_types(istanbul: Terms) -> None:
    value: Any = istanbul.to_value()
    value["lists"][0]["eligible_any"] = ("age_18_25",)  # the decoder never makes tuples
    assert code_of(lambda: Terms.from_value(value)) is ErrorCode.POLICY_INVALID


# ---------------------------------------------------------------------------------------
# roles and keys


def test_roles(full: Terms) -> None:
    assert list(full.roles) == [
        "a",
        "b",
        "mediator:ICRC",
        "mediator:Switzerland",
        "commission:Mixed Medical Commission",
    ]
    assert full.role("a") is full.a
    assert full.role("mediator:ICRC").name == "ICRC"
    assert full.party_name("b") == "Russian Federation"
    assert full.party_name("commission:Mixed Medical Commission") == "Mixed Medical Commission"
    for unknown in ("c", "mediator", "mediator:Nobody", "commission:ICRC", "A"):
        with pytest.raises(PolicyError) as err:
            full.role(unknown)
        assert err.value.code is ErrorCode.POLICY_INVALID
    with pytest.raises(TypeError):
        full.roles["x"] = full.a  # type: ignore[index]


def test_trust_policy(full: Terms) -> None:
    policy = full.trust_policy()
    assert set(policy.roles) == set(full.roles)
    a = policy.role("a")
    assert a.threshold == 2
    assert list(a.keys) == sorted(PINNED[f"keys/{n}.pub"].key_id for n in ("ua", "ua2", "ua3"))
    commission = policy.role("commission:Mixed Medical Commission")
    assert commission.threshold == 2
    assert set(commission.keys) == {PINNED["keys/m1.pub"].key_id, PINNED["keys/m2.pub"].key_id}
    assert policy.role("b").threshold == 1
    assert code_of(lambda: policy.role("mediator:Nobody")) is ErrorCode.POLICY_INVALID


def test_role_of_key(full: Terms) -> None:
    expected = {
        "ua": "a",
        "ua2": "a",
        "ua3": "a",
        "ru": "b",
        "ch": "mediator:Switzerland",
        "tr": "mediator:ICRC",
        "m1": "commission:Mixed Medical Commission",
        "m2": "commission:Mixed Medical Commission",
    }
    for name, role in expected.items():
        assert full.role_of_key(PINNED[f"keys/{name}.pub"].key_id) == role
    assert full.role_of_key(PINNED["keys/plain.pub"].key_id) is None
    enc = PINNED["keys/ua.pub"].encryption
    assert enc is not None
    assert full.role_of_key(enc.key_id) is None  # encryption keys do not sign
    assert full.role_of_key(b"") is None


def test_list_lookup(full: Terms) -> None:
    assert full.list("young").rule is ListRule.MIN_COUNT
    assert code_of(lambda: full.list("nope")) is ErrorCode.POLICY_INVALID
    assert code_of(lambda: full.list("Young")) is ErrorCode.POLICY_INVALID


def test_signers_for(full: Terms) -> None:
    commission = "commission:Mixed Medical Commission"
    assert full.signers_for("wounded", "a") == ("a", commission)
    assert full.signers_for("wounded", "b") == ("b", commission)
    assert full.signers_for("young", "a") == ("a",)
    assert full.signers_for("remains", "b") == ("b",)
    for list_name, sender in [
        ("young", "b"),
        ("remains", "a"),
        ("wounded", "mediator:ICRC"),
        ("wounded", commission),
        ("nope", "a"),
    ]:
        with pytest.raises(PolicyError) as err:
            full.signers_for(list_name, sender)
        assert err.value.code is ErrorCode.POLICY_INVALID


def test_recipients_for(istanbul: Terms) -> None:
    def ids(*names: str) -> list[bytes]:
        keys = [PINNED[f"keys/{n}.pub"].encryption for n in names]
        return [k.key_id for k in keys if k is not None]

    assert [k.key_id for k in istanbul.recipients_for("pows", "a")] == ids("ru", "tr")
    assert [k.key_id for k in istanbul.recipients_for("pows", "b")] == ids("ua", "tr")
    for sender in ("mediator:Turkiye", "c"):
        with pytest.raises(PolicyError) as err:
            istanbul.recipients_for("pows", sender)
        assert err.value.code is ErrorCode.POLICY_INVALID
    assert code_of(lambda: istanbul.recipients_for("nope", "a")) is ErrorCode.POLICY_INVALID


def test_recipients_for_two_mediators_and_k_of_n(full: Terms) -> None:
    got = [k.key_id for k in full.recipients_for("wounded", "b")]
    a_keys = [k.encryption.key_id for k in full.a.keys if k.encryption is not None]
    mediators = [m.keys[0].encryption.key_id for m in full.mediators]  # type: ignore[union-attr]
    assert got == a_keys + mediators
    assert len(got) == 5  # three keys of a, ICRC, Switzerland; never the commission


# ---------------------------------------------------------------------------------------
# rule evaluation


def prisoner(
    i: int, dob: str = "1990-01-01", *categories: str, sex: str = "male"
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "citizenship": "RU",
        "date_of_birth": dob,
        "family_name": "Petrov",
        "given_names": f"Ivan {i}",
        "person_id": f"P-{i:04d}",
        "sex": sex,
    }
    if categories:
        record["categories"] = sorted(categories)
    return record


def pows(rule: ListRule = ListRule.ALL_FOR_ALL, *, from_: str = "both", **kw: Any) -> ListTerms:
    return ListTerms(name="pows", kind=kw.pop("kind", "prisoner"), from_=from_, rule=rule, **kw)


def terms_with(base: Terms, lt: ListTerms, reference: date | None = None) -> Terms:
    return dataclasses.replace(base, lists=(lt,), reference_date=reference or base.reference_date)


def findings(ev: ListEvaluation) -> list[tuple[str, int | None]]:
    return [(f.code, f.entry) for f in ev.findings]


def many(n: int) -> list[dict[str, Any]]:
    return [prisoner(i) for i in range(n)]


def test_all_for_all_has_no_count_of_its_own(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows())
    for n in (0, 1, 3):
        ev = evaluate_list(terms, "pows", "a", many(n))
        assert (ev.ok, ev.count, ev.eligible, ev.findings, ev.total_findings) == (True, n, n, (), 0)
        assert ev.rule is ListRule.ALL_FOR_ALL
        assert (ev.list_name, ev.side) == ("pows", "a")


def test_min_count_floor(istanbul: Terms) -> None:
    for rule in (ListRule.ALL_FOR_ALL, ListRule.EQUAL_COUNT):
        terms = terms_with(istanbul, pows(rule, min_count=3))
        below = evaluate_list(terms, "pows", "b", many(2), counterpart_count=2)
        assert findings(below) == [(FindingCode.BELOW_MIN_COUNT.value, None)]
        assert "has 2 entries; at least 3 are required" in below.findings[0].message
        for n in (3, 4):
            assert evaluate_list(terms, "pows", "b", many(n), counterpart_count=n).ok


def test_the_istanbul_floor(istanbul: Terms) -> None:
    ev = evaluate_list(istanbul, "pows", "a", [prisoner(0, "1990-01-01", "seriously_ill")])
    assert findings(ev) == [("below_min_count", None)]
    assert ev.eligible == 1


def test_equal_count(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.EQUAL_COUNT))
    unknown = evaluate_list(terms, "pows", "a", many(3))
    assert findings(unknown) == [(FindingCode.COUNTERPART_UNKNOWN.value, None)]
    assert not unknown.ok
    assert evaluate_list(terms, "pows", "a", many(3), counterpart_count=3).ok
    assert evaluate_list(terms, "pows", "b", [], counterpart_count=0).ok
    for other in (2, 4, 0):
        ev = evaluate_list(terms, "pows", "a", many(3), counterpart_count=other)
        assert findings(ev) == [(FindingCode.COUNT_MISMATCH.value, None)]
        assert f"has 3 entries; the counterpart's has {other}" in ev.findings[0].message


def test_equal_count_with_floor_reports_both(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.EQUAL_COUNT, min_count=5))
    ev = evaluate_list(terms, "pows", "a", many(3), counterpart_count=4)
    assert findings(ev) == [("below_min_count", None), ("count_mismatch", None)]
    assert ev.total_findings == 2


def test_exact_count(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.EXACT_COUNT, from_="a", count=3))
    assert evaluate_list(terms, "pows", "a", many(3)).ok
    for n in (2, 4, 0):
        ev = evaluate_list(terms, "pows", "a", many(n))
        assert findings(ev) == [(FindingCode.COUNT_MISMATCH.value, None)]
        assert f"has {n} entries; exact-count requires 3" in ev.findings[0].message
    assert evaluate_list(terms, "pows", "a", many(3), counterpart_count=9).ok  # ignored


def test_min_count(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.MIN_COUNT, from_="b", count=3))
    assert findings(evaluate_list(terms, "pows", "b", many(2))) == [("below_min_count", None)]
    assert evaluate_list(terms, "pows", "b", many(3)).ok
    assert evaluate_list(terms, "pows", "b", many(30)).ok


def test_counts_are_of_entries_not_of_eligible_entries(istanbul: Terms) -> None:
    """The count rules count every entry; ineligible and invalid ones are findings."""
    terms = terms_with(istanbul, pows(ListRule.EXACT_COUNT, count=3, eligible_any=("civilian",)))
    entries = [prisoner(0, "1990-01-01", "civilian"), prisoner(1), {"person_id": "x"}]
    ev = evaluate_list(terms, "pows", "a", entries)
    assert (ev.count, ev.eligible) == (3, 1)
    assert findings(ev) == [("not_eligible", 1), ("invalid_record", 2)]


def test_eligible_any_and_all(istanbul: Terms) -> None:
    entries = [
        prisoner(0, "1990-01-01", "seriously_ill"),
        prisoner(1, "1990-01-01", "seriously_ill", "civilian"),
        prisoner(2, "1990-01-01", "civilian", sex="female"),
        prisoner(3),
    ]
    any_ = terms_with(istanbul, pows(eligible_any=("seriously_ill", "civilian")))
    ev = evaluate_list(any_, "pows", "a", entries)
    assert findings(ev) == [("not_eligible", 3)]
    assert ev.findings[0].message == "entry 3: has none of civilian, seriously_ill"
    all_ = terms_with(istanbul, pows(eligible_all=("civilian", "seriously_ill")))
    ev = evaluate_list(all_, "pows", "a", entries)
    assert findings(ev) == [("not_eligible", 0), ("not_eligible", 2), ("not_eligible", 3)]
    assert ev.findings[0].message == "entry 0: lacks civilian"
    assert ev.eligible == 1
    both = terms_with(istanbul, pows(eligible_any=("female",), eligible_all=("civilian",)))
    ev = evaluate_list(both, "pows", "a", entries)
    assert findings(ev) == [("not_eligible", 0), ("not_eligible", 1), ("not_eligible", 3)]
    assert ev.eligible == 1  # entry 2: female (any) and civilian (all)


def test_per_category(istanbul: Terms) -> None:
    entries = [
        prisoner(0, "2000-01-01", "seriously_ill"),
        prisoner(1, "1950-01-01", "seriously_ill", "long_captivity", sex="female"),
        {"not": "valid"},
    ]
    terms = terms_with(istanbul, pows(eligible_any=("age_60_plus", "age_18_25")))
    ev = evaluate_list(terms, "pows", "a", entries)
    assert dict(ev.per_category) == {
        "age_18_25": 1,
        "age_60_plus": 1,
        "female": 1,
        "long_captivity": 1,
        "male": 1,
        "seriously_ill": 2,
    }
    assert list(ev.per_category) == sorted(ev.per_category)


# -- ages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "reference", "age"),
    [
        ("2007-06-02", "2025-06-02", 18),  # 18th birthday on the reference date
        ("2007-06-03", "2025-06-02", 17),  # the day after
        ("2007-06-01", "2025-06-02", 18),
        ("1999-06-02", "2025-06-02", 26),  # 26th birthday on the reference date
        ("1999-06-03", "2025-06-02", 25),  # last day of being 25
        ("2025-06-02", "2025-06-02", 0),  # born on the reference date
        ("2025-06-03", "2025-06-02", -1),  # born after it
        ("2004-02-29", "2022-02-28", 17),  # leap-day birthday: not yet in a common year
        ("2004-02-29", "2022-03-01", 18),  # ... reached on 1 March
        ("2004-02-29", "2024-02-28", 19),
        ("2004-02-29", "2024-02-29", 20),  # ... and on 29 February in a leap year
        ("2006-02-28", "2024-02-29", 18),  # reference date is a leap day
        ("2006-03-01", "2024-02-29", 17),
        ("1900-01-01", "2050-12-31", 150),
    ],
)
def test_age_on(dob: str, reference: str, age: int) -> None:
    assert age_on(date.fromisoformat(dob), date.fromisoformat(reference)) == age


@pytest.mark.parametrize(
    ("dob", "reference", "in_band"),
    [
        ("2007-06-02", "2025-06-02", True),
        ("2007-06-03", "2025-06-02", False),
        ("1999-06-03", "2025-06-02", True),
        ("1999-06-02", "2025-06-02", False),
        ("2004-02-29", "2022-02-28", False),
        ("2004-02-29", "2022-03-01", True),
        ("1996-02-29", "2022-02-28", True),  # 25 until 1 March 2022
        ("1996-02-29", "2022-03-01", False),
        ("2006-02-28", "2024-02-29", True),
        ("2006-03-01", "2024-02-29", False),
    ],
)
def test_age_band_on_the_reference_date(
    istanbul: Terms, dob: str, reference: str, in_band: bool
) -> None:
    terms = terms_with(istanbul, pows(eligible_any=("age_18_25",)), date.fromisoformat(reference))
    unclaimed = evaluate_list(terms, "pows", "a", [prisoner(0, dob)])
    assert unclaimed.eligible == int(in_band)
    assert findings(unclaimed) == ([] if in_band else [("not_eligible", 0)])
    claimed = evaluate_list(terms, "pows", "a", [prisoner(0, dob, "age_18_25")])
    assert claimed.eligible == int(in_band)
    expected = [] if in_band else [("age_claim_mismatch", 0), ("not_eligible", 0)]
    assert findings(claimed) == expected


def test_wrong_age_claim_is_an_entry_finding_with_its_index(istanbul: Terms) -> None:
    entries = [
        prisoner(0, "2000-01-01", "age_18_25"),  # 25: right
        prisoner(1, "1990-01-01", "age_18_25", "seriously_ill"),  # 35: wrong
        prisoner(2, "2010-01-01"),  # 15: no claim
        prisoner(3, "2008-06-03", "age_18_25"),  # 17 until the day after the reference
    ]
    ev = evaluate_list(istanbul, "pows", "a", entries)
    assert findings(ev) == [
        ("below_min_count", None),
        ("age_claim_mismatch", 1),
        ("not_eligible", 2),
        ("age_claim_mismatch", 3),
        ("not_eligible", 3),
    ]
    assert ev.findings[1].message == (
        "entry 1: claims age_18_25 but is 35 years old on the reference date 2025-06-02"
    )
    assert "is 16 years old" in ev.findings[3].message
    assert ev.eligible == 2  # entry 1 is seriously ill: eligible, but its claim is wrong
    assert ev.per_category["age_18_25"] == 1  # computed, not claimed


def test_claims_are_checked_even_when_the_terms_do_not_name_the_band(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows())
    ev = evaluate_list(terms, "pows", "a", [prisoner(0, "1980-05-05", "age_18_25")])
    assert findings(ev) == [("age_claim_mismatch", 0)]
    assert ev.eligible == 1


def test_other_age_bands(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(eligible_any=("age_0_17", "age_60_plus", "age_40_40")))
    entries = [prisoner(i, dob) for i, dob in enumerate(
        ["2007-06-03", "2007-06-02", "1965-06-02", "1965-06-03", "1985-06-02", "1984-06-03"]
    )]  # fmt: skip
    ev = evaluate_list(terms, "pows", "a", entries)
    assert findings(ev) == [("not_eligible", 1), ("not_eligible", 3)]
    assert dict(ev.per_category) == {
        "age_0_17": 1,
        "age_18_25": 1,
        "age_40_40": 2,
        "age_60_plus": 1,
        "male": 6,
    }


def test_age_band_parsing() -> None:
    assert age_band("age_18_25") == (18, 25)
    assert age_band("age_0_0") == (0, 0)
    assert age_band("age_65_plus") == (65, None)
    assert age_band("age_150_150") == (150, 150)
    for name in ("age_26_25", "age_151_plus", "age_18_151", "age_018_25", "age_18", "age_a_b"):
        assert age_band(name) is None
    assert age_band("seriously_ill") is None


def test_category_vocabulary() -> None:
    vocabulary = category_vocabulary("prisoner")
    assert {"male", "female", "unknown", "seriously_ill", "age_18_25"} <= vocabulary
    assert "age_0_17" not in vocabulary  # computed, not a vocabulary word
    assert category_vocabulary("medical_case") >= {"chronic", "seriously_ill"}
    assert category_vocabulary("child_case") == frozenset()


# -- a kind of our own: an optional birth date and an ambiguous word ------------------


class _Card(RecordModel):
    card_id: Annotated[str, TextSpec(max_length=16)]
    status: Literal["held", "wounded"]
    date_of_birth: Annotated[date, DateSpec()] | None = None
    tags: Annotated[
        tuple[Literal["age_18_25", "age_60_plus", "officer", "wounded"], ...], SetOf()
    ] = ()


CARD = "org.example.terms_card"
if CARD not in records.kinds():
    records.register_kind(CARD, _Card, id_field="card_id")


def test_ambiguous_categories_are_refused() -> None:
    assert category_vocabulary(CARD) == {"held", "officer", "age_18_25", "age_60_plus"}
    with pytest.raises(PolicyError) as err:
        pows(kind=CARD, eligible_any=("wounded",))
    assert err.value.code is ErrorCode.POLICY_INVALID
    assert "ambiguous" in str(err.value)


def test_an_age_claim_without_a_birth_date_is_unverifiable(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(kind=CARD, eligible_any=("age_18_25", "officer")))
    entries = [
        {"card_id": "C-0", "status": "held", "tags": ["age_18_25"]},
        {"card_id": "C-1", "status": "held", "tags": ["age_18_25"], "date_of_birth": "2001-01-01"},
        {"card_id": "C-2", "status": "wounded", "tags": ["officer"]},
    ]
    ev = evaluate_list(terms, "pows", "b", entries)
    assert findings(ev) == [("age_unverifiable", 0), ("not_eligible", 0)]
    assert ev.findings[0].message == "entry 0: claims age_18_25 but has no date of birth"
    assert ev.eligible == 2


def test_several_wrong_claims_are_reported_in_name_order(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(kind=CARD))
    card = {"card_id": "C-0", "status": "held", "date_of_birth": "1985-01-01"}
    ev = evaluate_list(terms, "pows", "a", [{**card, "tags": ["age_18_25", "age_60_plus"]}])
    assert findings(ev) == [("age_claim_mismatch", 0)] * 2
    assert [f.message.split()[3] for f in ev.findings] == ["age_18_25", "age_60_plus"]
    assert dict(ev.per_category) == {"held": 1}  # 40 years old: in neither band


# -- invalid records, validate=False --------------------------------------------------


def test_invalid_records(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows())
    entries: list[object] = [
        [1, 2],
        prisoner(1, "1899-12-31"),
        {**prisoner(2), "colour": "blue"},
        prisoner(3, "1990-01-01", "brave"),
        prisoner(4),
    ]
    ev = evaluate_list(terms, "pows", "a", entries)
    assert findings(ev) == [("invalid_record", i) for i in range(4)]
    assert ev.findings[0].message == "entry 0: not a map"
    assert (ev.count, ev.eligible) == (5, 1)


def test_validate_false_skips_the_record_check(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(eligible_any=("age_18_25",)))
    entries: list[object] = [
        {"date_of_birth": "2000-01-01", "colour": "blue"},  # not a prisoner, in the band
        {"categories": ["age_18_25"]},  # claim without a birth date
        {"categories": 5},  # not even a list
        "text",
    ]
    ev = evaluate_list(terms, "pows", "a", entries, validate=False)
    assert findings(ev) == [
        ("age_unverifiable", 1),
        ("not_eligible", 1),
        ("invalid_record", 2),
        ("invalid_record", 3),
    ]
    assert ev.findings[2].message == "entry 2: bad category field"
    assert ev.eligible == 1


def test_records_are_read_once_from_any_iterable(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.EXACT_COUNT, count=1000))
    ev = evaluate_list(terms, "pows", "a", (prisoner(i) for i in range(1000)))
    assert ev.ok
    assert ev.count == 1000


# -- the cap on findings --------------------------------------------------------------


def test_findings_are_capped_and_counted(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.MIN_COUNT, count=20, eligible_any=("civilian",)))
    entries = many(10)
    full_ev = evaluate_list(terms, "pows", "a", entries)
    assert full_ev.total_findings == 11
    assert not full_ev.truncated
    capped = evaluate_list(terms, "pows", "a", entries, max_findings=3)
    assert findings(capped) == [("below_min_count", None)] + [("not_eligible", i) for i in range(3)]
    assert capped.total_findings == 11
    assert capped.truncated
    assert not capped.ok
    none = evaluate_list(terms, "pows", "a", entries, max_findings=0)
    assert findings(none) == [("below_min_count", None)]  # list findings are never capped
    assert none.truncated
    assert none.total_findings == 11
    exact = evaluate_list(terms, "pows", "a", entries, max_findings=10)
    assert not exact.truncated
    assert len(exact.findings) == 11


def test_to_dict(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.EXACT_COUNT, count=2, eligible_all=("civilian",)))
    ev = evaluate_list(terms, "pows", "a", [prisoner(0)], max_findings=0)
    assert ev.to_dict() == {
        "list": "pows",
        "side": "a",
        "rule": "exact-count",
        "count": 1,
        "eligible": 0,
        "ok": False,
        "total_findings": 2,
        "findings": [{"code": "count_mismatch", "message": ev.findings[0].message, "entry": None}],
        "per_category": {"male": 1},
    }


# -- errors of the caller -------------------------------------------------------------


def test_evaluate_list_refuses_unknown_lists_and_sides(full: Terms) -> None:
    for list_name, side in [("nope", "a"), ("young", "b"), ("remains", "a"), ("young", "c")]:
        with pytest.raises(PolicyError) as err:
            evaluate_list(full, list_name, side, [])
        assert err.value.code is ErrorCode.POLICY_INVALID


def test_evaluate_list_argument_types(istanbul: Terms) -> None:
    for kw in ({"counterpart_count": -1}, {"counterpart_count": True}, {"max_findings": -1}):
        with pytest.raises(TypeError):
            evaluate_list(istanbul, "pows", "a", [], **kw)


def test_verify_list(istanbul: Terms) -> None:
    terms = terms_with(istanbul, pows(ListRule.MIN_COUNT, count=2, eligible_any=("civilian",)))
    good = [prisoner(i, "1990-01-01", "civilian") for i in range(2)]
    assert verify_list(terms, "pows", "a", good).ok
    with pytest.raises(PolicyError) as err:
        verify_list(terms, "pows", "a", many(3))
    assert err.value.code is ErrorCode.POLICY_RULE
    evaluation = err.value.details["evaluation"]
    assert isinstance(evaluation, ListEvaluation)
    assert evaluation.total_findings == 3
    assert "entry 0: has none of civilian (3 finding(s))" in str(err.value)
    with pytest.raises(PolicyError) as err:  # no finding kept: still a rejection
        verify_list(terms, "pows", "a", many(3), max_findings=0)
    assert err.value.code is ErrorCode.POLICY_RULE
    assert "(3 finding(s))" in str(err.value)
    with pytest.raises(PolicyError) as err:
        verify_list(terms, "pows", "b", many(1))
    assert "at least 2 are required" in str(err.value)


# ---------------------------------------------------------------------------------------
# properties


def naive_age(dob: date, reference: date) -> int:
    """Birthdays passed: a 29 February birthday falls on 1 March in common years."""
    if dob > reference:
        return -1  # not born yet: in no age band
    age = 0
    for year in range(dob.year + 1, reference.year + 1):
        leap_day = (dob.month, dob.day) == (2, 29) and not calendar.isleap(year)
        birthday = date(year, 3, 1) if leap_day else date(year, dob.month, dob.day)
        age += birthday <= reference
    return age


DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
LEAP_DAYS = st.integers(1900, 2100).filter(calendar.isleap).map(lambda y: date(y, 2, 29))


@settings(max_examples=400, deadline=None)
@given(dob=DATES | LEAP_DAYS, reference=DATES | LEAP_DAYS)
def test_age_on_agrees_with_counting_birthdays(dob: date, reference: date) -> None:
    if dob <= reference:
        assert age_on(dob, reference) == naive_age(dob, reference)
    else:
        assert age_on(dob, reference) < 0


BANDS = ("age_18_25", "age_0_17", "age_26_plus", "age_20_20", "age_60_plus")
WORDS = ("seriously_ill", "civilian", "journalist", "male", "female")


def band_of(name: str) -> tuple[int, int | None]:
    found = age_band(name)
    assert found is not None
    return found


def naive_evaluation(
    entries: list[dict[str, Any] | None],
    reference: date,
    any_: tuple[str, ...],
    all_: tuple[str, ...],
) -> tuple[int, list[tuple[str, int]], dict[str, int]]:
    eligible, found, per = 0, [], dict[str, int]()
    named = set(any_) | set(all_) | {"age_18_25"}
    for i, record in enumerate(entries):
        if record is None:
            found.append(("invalid_record", i))
            continue
        age = naive_age(date.fromisoformat(record["date_of_birth"]), reference)
        claims = set(record.get("categories", ()))
        cats = (claims - {"age_18_25"}) | {record["sex"]}
        for band in filter(age_band, named):
            lo, hi = band_of(band)
            if lo <= age and (hi is None or age <= hi):
                cats.add(band)
        if "age_18_25" in claims and not 18 <= age <= 25:
            found.append(("age_claim_mismatch", i))
        for c in cats:
            per[c] = per.get(c, 0) + 1
        if (any_ and not cats & set(any_)) or (all_ and not set(all_) <= cats):
            found.append(("not_eligible", i))
        else:
            eligible += 1
    return eligible, found, per


RECORDS = st.lists(
    st.none()
    | st.builds(
        lambda dob, cats, sex: prisoner(0, dob.isoformat(), *cats, sex=sex),
        DATES | LEAP_DAYS,
        st.sets(st.sampled_from(("age_18_25", "seriously_ill", "civilian", "journalist"))),
        st.sampled_from(("male", "female")),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    entries=RECORDS,
    reference=DATES | LEAP_DAYS,
    any_=st.sets(st.sampled_from(BANDS + WORDS), max_size=3),
    all_=st.sets(st.sampled_from(BANDS + WORDS), max_size=2),
    cap=st.integers(0, 15),
)
def test_evaluation_agrees_with_a_naive_evaluation(
    entries: list[dict[str, Any] | None],
    reference: date,
    any_: set[str],
    all_: set[str],
    cap: int,
) -> None:
    base = from_toml(ISTANBUL)
    lt = pows(eligible_any=tuple(any_), eligible_all=tuple(all_))
    terms = terms_with(base, lt, reference)
    given_records = [{"broken": True} if r is None else r for r in entries]
    ev = evaluate_list(terms, "pows", "a", given_records, max_findings=cap)
    eligible, found, per = naive_evaluation(entries, reference, lt.eligible_any, lt.eligible_all)
    assert ev.count == len(entries)
    assert ev.eligible == eligible
    assert ev.total_findings == len(found)
    assert findings(ev) == found[:cap]
    assert ev.truncated == (len(found) > cap)
    assert ev.ok == (not found)
    assert dict(ev.per_category) == per


@settings(max_examples=150, deadline=None)
@given(
    rule=st.sampled_from(list(ListRule)),
    n=st.integers(0, 8),
    count=st.integers(1, 8),
    floor=st.none() | st.integers(1, 8),
    counterpart=st.none() | st.integers(0, 8),
)
def test_count_findings_agree_with_a_naive_count(
    rule: ListRule, n: int, count: int, floor: int | None, counterpart: int | None
) -> None:
    with_count = rule in (ListRule.EXACT_COUNT, ListRule.MIN_COUNT)
    lt = pows(rule, count=count if with_count else None, min_count=None if with_count else floor)
    ev = evaluate_list(
        terms_with(from_toml(ISTANBUL), lt), "pows", "a", many(n), counterpart_count=counterpart
    )
    expected = []
    if rule is ListRule.EXACT_COUNT and n != count:
        expected.append("count_mismatch")
    if (rule is ListRule.MIN_COUNT and n < count) or (not with_count and floor and n < floor):
        expected.append("below_min_count")
    if rule is ListRule.EQUAL_COUNT and counterpart is None:
        expected.append("counterpart_unknown")
    elif rule is ListRule.EQUAL_COUNT and counterpart != n:
        expected.append("count_mismatch")
    assert [f.code for f in ev.findings] == expected
    assert all(f.entry is None for f in ev.findings)
    assert ev.ok == (not expected)


# ---------------------------------------------------------------------------------------
# vectors (spec/vectors/terms/)


def _write_vector_keys(directory: Path, table: dict[str, dict[str, Any]]) -> None:
    for rel, spec in table.items():
        key = SigningKey.from_seed(bytes.fromhex(spec["seed"]), spec["alg"]).public_key
        enc = None
        if spec["encryption_seed"] is not None:
            enc = DecryptionKey.from_seed(bytes.fromhex(spec["encryption_seed"])).public_key
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_public_key(path, path.stem, key, encryption=enc)


COMPILED = load_vectors("terms", "compiled")
REJECTED = load_vectors("terms", "rejected")["cases"]
EVALUATION = load_vectors("terms", "evaluation")


@pytest.mark.parametrize("case", COMPILED["cases"], ids=lambda c: c["desc"])
def test_compiled_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    _write_vector_keys(tmp_path, COMPILED["keys"])
    (tmp_path / "terms.toml").write_text(case["toml"], encoding="utf-8")
    terms = compile_terms(tmp_path / "terms.toml")
    assert terms.to_bytes().hex() == case["canonical"]
    assert terms.exchange_id.hex() == case["exchange_id"]
    assert terms.fingerprint == case["fingerprint"]
    again = Terms.from_bytes(bytes.fromhex(case["canonical"]))
    assert again == terms
    assert (
        tagged_hash(Tag.EXCHANGE_ID, bytes.fromhex(case["canonical"])).hex()
        == (case["exchange_id"])
    )


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c["desc"])
def test_rejected_vectors(case: dict[str, Any]) -> None:
    with pytest.raises(SwapprotoError) as err:
        Terms.from_bytes(bytes.fromhex(case["terms"]))
    assert err.value.code == case["want_error"]


@pytest.mark.parametrize("case", EVALUATION["cases"], ids=lambda c: c["desc"])
def test_evaluation_vectors(case: dict[str, Any]) -> None:
    value: Any = decode(bytes.fromhex(COMPILED["cases"][0]["canonical"]))
    value["lists"] = [case["list"]]
    terms = Terms.from_value(value)
    assert terms.reference_date.isoformat() == EVALUATION["reference_date"]
    ev = evaluate_list(
        terms,
        case["list"]["name"],
        EVALUATION["side"],
        EVALUATION["records"],
        counterpart_count=case["counterpart_count"],
    )
    want = case["want"]
    assert (ev.count, ev.eligible, ev.ok) == (want["count"], want["eligible"], want["ok"])
    assert [[f.code, f.entry] for f in ev.findings] == want["findings"]
    assert dict(ev.per_category) == want["per_category"]
    assert {f.code for f in ev.findings} <= {c.value for c in FindingCode}


SPEC = Path(__file__).resolve().parent.parent / "spec" / "terms.md"


def test_the_spec_example_is_the_first_compiled_vector() -> None:
    """The annotated bytes of ``spec/terms.md`` §4.5 are exactly the vector's bytes."""
    text = SPEC.read_text(encoding="utf-8")
    block = text.split("<!-- terms-example:", 1)[1].split("```", 2)[1]
    hex_parts: list[str] = []
    for line in block.splitlines():
        tokens = re.split(r"\s{2,}", line.strip())[0].split()
        if tokens and all(re.fullmatch(r"(?:[0-9a-f]{2})+", t) for t in tokens):
            hex_parts.extend(tokens)
    case = COMPILED["cases"][0]
    assert "".join(hex_parts) == case["canonical"]
    assert case["exchange_id"] in text
    assert case["fingerprint"] in text
    assert ISTANBUL in text  # the TOML of §3.1
