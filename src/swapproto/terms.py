"""The agreed terms of an exchange, their canonical value and exchange id, and list rules.

People write terms as TOML (:func:`compile_terms`); the library turns them into a
:class:`Terms` value whose canonical SP-CMP bytes pin every key *record* (not key
files), the deadlines as seconds since the epoch and every list's rule. Both parties
sign those bytes; the exchange id is their tagged hash and binds every later message.
:func:`evaluate_list` checks one side's records against a list's rule and eligibility
(age bands computed from the date of birth at the reference date, never trusted as
claimed); :func:`verify_list` is its raising twin. Normative text: ``spec/terms.md``.

This module is the public face of the terms; the parts live in private modules, one
concept each: roles and pinned keys (``_terms_roles``), the canonical value
(``_terms_value``), the TOML authoring layer (``_terms_toml``) and the list rules with
their evaluation engine (``_rules``). Every public name is importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from swapproto._rules import (
    AGE_BAND,
    Finding,
    FindingCode,
    ListEvaluation,
    ListRule,
    ListTerms,
    age_band,
    age_on,
    category_vocabulary,
    evaluate,
)
from swapproto._terms_roles import EncryptionKey, PinnedKey, RoleTerms
from swapproto._terms_toml import KeyLoader, compile_terms, terms_from_toml
from swapproto._terms_value import TERMS_FORMAT, TERMS_LIMITS, Terms
from swapproto.errors import ErrorCode, PolicyError

__all__ = [
    "AGE_BAND",
    "TERMS_FORMAT",
    "TERMS_LIMITS",
    "EncryptionKey",
    "Finding",
    "FindingCode",
    "KeyLoader",
    "ListEvaluation",
    "ListRule",
    "ListTerms",
    "PinnedKey",
    "RoleTerms",
    "Terms",
    "age_band",
    "age_on",
    "category_vocabulary",
    "compile_terms",
    "evaluate_list",
    "terms_from_toml",
    "verify_list",
]


def evaluate_list(
    terms: Terms,
    list_name: str,
    side: str,
    records: Iterable[object],
    *,
    counterpart_count: int | None = None,
    max_findings: int = 1000,
    validate: bool = True,
) -> ListEvaluation:
    """Evaluate ``side``'s list ``list_name`` (canonical records, streamed once).

    Returns every finding (entry findings capped at ``max_findings``, all counted); never
    raises for what the records say. ``PolicyError`` if the list is unknown or ``side``
    does not submit it. ``validate=False`` skips the per-record schema check for records
    already verified (e.g. by the manifest verifier).
    """
    lt = terms._sender_check(list_name, side)
    return evaluate(
        lt,
        terms.reference_date,
        side,
        records,
        counterpart_count=counterpart_count,
        max_findings=max_findings,
        validate=validate,
    )


def verify_list(
    terms: Terms,
    list_name: str,
    side: str,
    records: Iterable[object],
    *,
    counterpart_count: int | None = None,
    max_findings: int = 1000,
    validate: bool = True,
) -> ListEvaluation:
    """As :func:`evaluate_list`, but raise ``PolicyError`` (``policy.rule_violated``).

    The evaluation is attached as ``exc.details["evaluation"]``.
    """
    result = evaluate_list(
        terms,
        list_name,
        side,
        records,
        counterpart_count=counterpart_count,
        max_findings=max_findings,
        validate=validate,
    )
    if not result.ok:
        # with max_findings=0 only list-level findings are kept; there may be none
        first = result.findings[0].message if result.findings else "findings not kept"
        raise PolicyError(
            f"list {list_name!r} of side {side} breaks the terms: {first} "
            f"({result.total_findings} finding(s))",
            code=ErrorCode.POLICY_RULE,
            evaluation=result,
        )
    return result
