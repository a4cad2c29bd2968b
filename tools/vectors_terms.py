"""Vectors for the agreed terms (``spec/vectors/terms/``).

* ``compiled``: TOML terms files with key files made from fixed seeds, their canonical
  bytes (hex) and exchange ids;
* ``rejected``: canonical terms values with one defect each, and the error code
  ``Terms.from_bytes`` must raise;
* ``evaluation``: list terms, records and the expected evaluation (count, eligible,
  finding codes per entry).

Everything is derived from fixed seeds and constant texts, so every byte is stable.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swapproto.encoding import encode
from swapproto.errors import SwapprotoError
from swapproto.keys import DecryptionKey, KeyAlgorithm, SigningKey, write_public_key
from swapproto.terms import ListRule, ListTerms, Terms, compile_terms, evaluate_list

# (file name, signing seed byte, signing algorithm, encryption seed byte or None)
KEYS: dict[str, tuple[int, KeyAlgorithm, int | None]] = {
    "ua": (0x11, KeyAlgorithm.ED25519, 0x21),
    "ru": (0x12, KeyAlgorithm.ED25519, 0x22),
    "tr": (0x13, KeyAlgorithm.ED25519, 0x23),
    "ua2": (0x14, KeyAlgorithm.ED25519, 0x24),
    "ua3": (0x15, KeyAlgorithm.ED25519, None),
    "ch": (0x16, KeyAlgorithm.ED25519, None),
    "icrc": (0x17, KeyAlgorithm.ED25519_ML_DSA_65, None),
    "med1": (0x18, KeyAlgorithm.ED25519, None),
    "med2": (0x19, KeyAlgorithm.ED25519, None),
}

ISTANBUL = """\
[exchange]
label = "Istanbul 2025-06, stage 1"
reference_date = "2025-06-02"          # age bands are computed at this date
commit_by = "2025-06-09T00:00:00Z"
reveal_by = "2025-06-12T00:00:00Z"
sealed = true                          # reveals are encrypted to the counterparty and the mediators

[parties.a]
name = "Ukraine"
keys = ["keys/ua.pub"]                 # paths relative to the TOML file
threshold = 1

[parties.b]
name = "Russian Federation"
keys = ["keys/ru.pub"]
threshold = 1

[[mediators]]
name = "Turkiye"
keys = ["keys/tr.pub"]

[[lists]]
name = "pows"
kind = "prisoner"
from = "both"                          # each party submits its own list named "pows"
rule = "all-for-all"                   # or "equal-count", "exact-count", "min-count" (with count = N)
min_count = 1000                       # optional extra floor per party
eligible_any = ["seriously_ill", "seriously_wounded", "age_18_25"]
"""

FULL = """\
[exchange]
label = "Geneva 2025-09, medical cases and remains"
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
keys = ["keys/icrc.pub"]

[[commissions]]
name = "Mixed Medical Commission"
keys = ["keys/med1.pub", "keys/med2.pub"]
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

TOML_CASES = (
    ("the Istanbul example of spec/terms.md", ISTANBUL),
    ("k-of-n party, two mediators, a commission, four rules", FULL),
)


def write_keys(directory: Path) -> None:
    """Write every public key file of :data:`KEYS` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, (seed, alg, enc_seed) in KEYS.items():
        signing = SigningKey.from_seed(bytes([seed]) * 32, alg).public_key
        encryption = None
        if enc_seed is not None:
            encryption = DecryptionKey.from_seed(bytes([enc_seed]) * 32).public_key
        write_public_key(directory / f"{name}.pub", name, signing, encryption=encryption)


def compile_text(text: str) -> Terms:
    """Compile TOML text with the vector keys in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        write_keys(Path(tmp) / "keys")
        (Path(tmp) / "terms.toml").write_text(text, encoding="utf-8")
        return compile_terms(Path(tmp) / "terms.toml")


def _keys_table() -> dict[str, object]:
    return {
        f"keys/{name}.pub": {
            "seed": (bytes([seed]) * 32).hex(),
            "alg": alg.value,
            "encryption_seed": None if enc is None else (bytes([enc]) * 32).hex(),
        }
        for name, (seed, alg, enc) in KEYS.items()
    }


def _compiled() -> dict[str, object]:
    cases = []
    for desc, text in TOML_CASES:
        terms = compile_text(text)
        cases.append(
            {
                "desc": desc,
                "toml": text,
                "canonical": terms.to_bytes().hex(),
                "exchange_id": terms.exchange_id.hex(),
                "fingerprint": terms.fingerprint,
            }
        )
    return {"keys": _keys_table(), "cases": cases}


# ---------------------------------------------------------------------------------------
# rejected canonical values


def _error_of(fn: Callable[[], object]) -> str:
    try:
        fn()
    except SwapprotoError as exc:
        return str(exc.code)
    raise AssertionError("mutation was accepted")


def _mutations(base: dict[str, Any]) -> list[tuple[str, object]]:
    def with_(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
        copy: Any = encode_copy(base)
        node = copy
        for step in path[:-1]:
            node = node[step]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return copy  # type: ignore[no-any-return]

    pows = base["lists"][0]
    a_key = base["parties"]["a"]["keys"][0]
    return [
        ("unknown top-level field", with_(("nonce",), b"\x00" * 16)),
        ("format of another version", with_(("format",), "swapproto-terms/2")),
        ("reveal_by equal to commit_by", with_(("exchange", "reveal_by"), 1749427200)),
        ("commit_by negative", with_(("exchange", "commit_by"), -1)),
        ("reference date not a date", with_(("exchange", "reference_date"), "2025-02-30")),
        ("sealed as an integer", with_(("exchange", "sealed"), 1)),
        ("label with a newline", with_(("exchange", "label"), "stage\n1")),
        ("party c instead of b", with_(("parties",), {"a": base["parties"]["a"], "c": {}})),
        ("threshold 0", with_(("parties", "a", "threshold"), 0)),
        ("threshold above the number of keys", with_(("parties", "a", "threshold"), 2)),
        ("no keys", with_(("parties", "a", "keys"), [])),
        ("same key for both parties", with_(("parties", "b", "keys"), [a_key])),
        (
            "key record with an unknown algorithm",
            with_(("parties", "a", "keys", 0, "signing", "alg"), "ed448"),
        ),
        ("lists empty", with_(("lists",), [])),
        ("unknown rule", with_(("lists", 0, "rule"), "some-for-some")),
        ("count with all-for-all", with_(("lists", 0, "count"), 5)),
        ("unknown record kind", with_(("lists", 0, "kind"), "hostage")),
        ("unknown category", with_(("lists", 0, "eligible_any"), ["age_18_25", "brave"])),
        (
            "categories unsorted",
            with_(("lists", 0, "eligible_any"), ["seriously_ill", "age_18_25"]),
        ),
        ("empty eligible_all present", with_(("lists", 0, "eligible_all"), [])),
        ("signed_by names no commission", with_(("lists", 0, "signed_by"), "nobody")),
        ("two lists of one name", with_(("lists",), [pows, pows])),
        ("mediator without keys field", with_(("mediators", 0, "keys"), _DELETE)),
    ]


_DELETE: Any = object()


def encode_copy(value: Any) -> Any:
    """A deep copy of a canonical value (dicts and lists)."""
    if isinstance(value, dict):
        return {k: encode_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_copy(v) for v in value]
    return value


def _rejected() -> dict[str, object]:
    base = compile_text(ISTANBUL).to_value()
    good = encode(base)
    cases: list[dict[str, object]] = []
    for desc, value in _mutations(base):
        data = encode(value)
        code = _error_of(lambda data=data: Terms.from_bytes(data))  # type: ignore[misc]
        cases.append({"desc": desc, "terms": data.hex(), "want_error": code})
    cases.append(
        {
            "desc": "trailing byte",
            "terms": (good + b"\xc0").hex(),
            "want_error": _error_of(lambda: Terms.from_bytes(good + b"\xc0")),
        }
    )
    return {"cases": cases}


# ---------------------------------------------------------------------------------------
# evaluation


def _prisoner(n: int, dob: str, *categories: str, **extra: str) -> dict[str, object]:
    record: dict[str, object] = {
        "citizenship": "RU",
        "date_of_birth": dob,
        "family_name": "Petrov",
        "given_names": f"Ivan {n}",
        "person_id": f"P-{n:04d}",
        "sex": extra.get("sex", "male"),
    }
    if categories:
        record["categories"] = sorted(categories)
    return record


def _evaluation() -> dict[str, object]:
    reference = "2025-06-02"
    records = [
        _prisoner(0, "2007-06-02"),  # 18 today: eligible by age
        _prisoner(1, "2007-06-03"),  # 18 tomorrow: not eligible
        _prisoner(2, "2000-06-01"),  # 25 years and a day: eligible by age
        _prisoner(3, "1999-06-02"),  # 26 today: not eligible
        _prisoner(4, "1970-01-01", "seriously_ill"),
        _prisoner(5, "2004-02-29"),  # 21: eligible by age
        {"person_id": "P-0006", "sex": "male"},  # not a valid prisoner record
    ]
    scenarios: list[tuple[str, ListTerms, int | None]] = [
        (
            "all-for-all with age band and categories",
            ListTerms(
                name="pows",
                kind="prisoner",
                from_="both",
                rule=ListRule.ALL_FOR_ALL,
                min_count=5,
                eligible_any=("age_18_25", "seriously_ill", "seriously_wounded"),
            ),
            None,
        ),
        (
            "equal-count, counterpart has 6",
            ListTerms(name="pows", kind="prisoner", from_="both", rule=ListRule.EQUAL_COUNT),
            6,
        ),
        (
            "exact-count 7 with eligible_all",
            ListTerms(
                name="pows",
                kind="prisoner",
                from_="a",
                rule=ListRule.EXACT_COUNT,
                count=7,
                eligible_all=("age_18_25", "male"),
            ),
            None,
        ),
        (
            "min-count 10",
            ListTerms(name="pows", kind="prisoner", from_="a", rule=ListRule.MIN_COUNT, count=10),
            None,
        ),
    ]
    terms_text = ISTANBUL
    base = compile_text(terms_text).to_value()
    cases = []
    for desc, lt, counterpart in scenarios:
        value = encode_copy(base)
        value["lists"] = [lt.to_value()]
        terms = Terms.from_value(value)
        ev = evaluate_list(terms, "pows", "a", records, counterpart_count=counterpart)
        cases.append(
            {
                "desc": desc,
                "list": lt.to_value(),
                "counterpart_count": counterpart,
                "want": {
                    "count": ev.count,
                    "eligible": ev.eligible,
                    "ok": ev.ok,
                    "findings": [[f.code, f.entry] for f in ev.findings],
                    "per_category": dict(ev.per_category),
                },
            }
        )
    return {"reference_date": reference, "side": "a", "records": records, "cases": cases}


def generate() -> dict[str, object]:
    """Every terms vector file."""
    return {"compiled": _compiled(), "rejected": _rejected(), "evaluation": _evaluation()}
