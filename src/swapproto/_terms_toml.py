"""Terms as people write them: TOML and the public key files it names.

Private helper of :mod:`swapproto.terms` (which re-exports the public names).
:func:`compile_terms` reads a terms TOML file and the key files it names (relative to
it); :func:`terms_from_toml` does the same for TOML text with a caller's key loader.
pydantic checks the schema at this boundary only; the result is a
:class:`~swapproto.terms.Terms` value, whose rules are checked on construction.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swapproto._input_files import open_input
from swapproto._recordspec import FieldError, clean_text
from swapproto._rules import SIDES, ListRule, ListTerms
from swapproto._terms_roles import MAX_TEXT, PinnedKey, RoleTerms
from swapproto._terms_value import Terms, parse_date
from swapproto.errors import ErrorCode, InputError, KeyFileError, PolicyError
from swapproto.keys import load_public_key_bundle

__all__ = ["KeyLoader", "compile_terms", "terms_from_toml"]

_MAX_TOML: Final = 1024 * 1024
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
"""An RFC 3339 ``date-time`` (section 5.6), the only string form of a deadline."""


def _invalid(message: str) -> NoReturn:
    raise PolicyError(message, code=ErrorCode.POLICY_INVALID)


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True, frozen=True, extra="forbid", hide_input_in_errors=True, populate_by_name=False
    )


class _TomlExchange(_Strict):
    label: str
    reference_date: object
    commit_by: object
    reveal_by: object
    sealed: bool


class _TomlRole(_Strict):
    name: str
    keys: list[str]
    threshold: int = 1


class _TomlParties(_Strict):
    a: _TomlRole
    b: _TomlRole


class _TomlList(_Strict):
    name: str
    kind: str
    from_: Literal["a", "b", "both"] = Field(alias="from")
    rule: Literal["all-for-all", "equal-count", "exact-count", "min-count"]
    count: int | None = None
    min_count: int | None = None
    eligible_any: list[str] | None = None
    eligible_all: list[str] | None = None
    signed_by: str | None = None


class _TomlTerms(_Strict):
    exchange: _TomlExchange
    parties: _TomlParties
    mediators: list[_TomlRole] = []
    commissions: list[_TomlRole] = []
    lists: list[_TomlList]


KeyLoader = Callable[[str, str], PinnedKey]
"""``(path as written in the TOML, TOML key naming it) -> PinnedKey``."""


def _pydantic_error(exc: ValidationError) -> PolicyError:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])[1:]
    reason = {"extra_forbidden": "unknown key", "missing": "is required"}.get(
        first["type"], first["msg"]
    )
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return PolicyError(f"terms file: {path or '(top)'}: {reason}{more}", key=path)


def _text(value: str, where: str) -> str:
    try:
        return clean_text(value, MAX_TEXT)
    except FieldError as exc:
        _invalid(f"{where}: {exc.reason}")


def _toml_time(value: object, where: str) -> int:
    moment = value
    if isinstance(value, str):
        try:
            if not _RFC3339.fullmatch(value):
                raise ValueError(value)
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            _invalid(f"{where}: must be an RFC 3339 time such as 2025-06-09T00:00:00Z")
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        _invalid(f"{where}: must be a time with a UTC offset, e.g. 2025-06-09T00:00:00Z")
    if moment.microsecond:
        _invalid(f"{where}: fractions of a second are not allowed")
    seconds = int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    if seconds < 0:
        _invalid(f"{where}: must not be before 1970-01-01T00:00:00Z")
    return seconds


def _toml_role(role: str, doc: _TomlRole, where: str, load: KeyLoader) -> RoleTerms:
    paths = [p for p in doc.keys]
    if len(set(paths)) != len(paths):
        _invalid(f"{where}.keys: a key file is listed twice")
    keys = tuple(load(p, f"{where}.keys[{i}]") for i, p in enumerate(paths))
    name = _text(doc.name, f"{where}.name")
    role = role if role in SIDES else f"{role}:{name}"
    return RoleTerms(role=role, name=name, threshold=doc.threshold, keys=keys)


def _toml_list(doc: _TomlList, where: str) -> ListTerms:
    for key in ("eligible_any", "eligible_all"):
        if getattr(doc, key) == []:
            _invalid(f"{where}.{key}: must not be empty; leave it out to make all eligible")
    return ListTerms(
        name=doc.name,
        kind=doc.kind,
        from_=doc.from_,
        rule=ListRule(doc.rule),
        count=doc.count,
        min_count=doc.min_count,
        eligible_any=tuple(doc.eligible_any or ()),
        eligible_all=tuple(doc.eligible_all or ()),
        signed_by=None if doc.signed_by is None else _text(doc.signed_by, f"{where}.signed_by"),
    )


def terms_from_toml(text: str, *, load_key: KeyLoader) -> Terms:
    """Terms from TOML text; ``load_key`` resolves each key file named in it.

    ``load_key(path, where)`` (a :data:`KeyLoader`) receives each key path exactly as
    written in the TOML and the TOML key naming it (``"parties.a.keys[0]"``, for
    messages), and returns a :class:`~swapproto.terms.PinnedKey`: the signing key and,
    for a role that receives sealed lists, its encryption key. Keys held in memory
    work too, e.g. ``lambda path, where: PinnedKey(keys[path].public_key, ...)``;
    :func:`compile_terms` loads public key files relative to the TOML file. Raises as
    :func:`compile_terms` does (errors from ``load_key`` propagate).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"terms file is not valid TOML: {exc}") from exc
    except RecursionError:
        raise InputError("terms file is not valid TOML: nested too deeply") from None
    except ValueError:  # an integer over Python's 4300-digit conversion limit
        raise InputError("terms file is not valid TOML: a number is too long") from None
    try:
        doc = _TomlTerms.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(exc) from None
    ex = doc.exchange
    mediators = [
        _toml_role("mediator", m, f"mediators[{i}]", load_key) for i, m in enumerate(doc.mediators)
    ]
    commissions = [
        _toml_role("commission", c, f"commissions[{i}]", load_key)
        for i, c in enumerate(doc.commissions)
    ]
    return Terms(
        label=_text(ex.label, "exchange.label"),
        reference_date=parse_date(ex.reference_date, "exchange.reference_date"),
        commit_by=_toml_time(ex.commit_by, "exchange.commit_by"),
        reveal_by=_toml_time(ex.reveal_by, "exchange.reveal_by"),
        sealed=ex.sealed,
        a=_toml_role("a", doc.parties.a, "parties.a", load_key),
        b=_toml_role("b", doc.parties.b, "parties.b", load_key),
        mediators=tuple(mediators),
        commissions=tuple(commissions),
        lists=tuple(_toml_list(lt, f"lists[{i}]") for i, lt in enumerate(doc.lists)),
    )


def _load_pinned_key(path: Path, source: str) -> PinnedKey:
    """A public key file as a pinned key (with its encryption key when the file has one)."""
    bundle = load_public_key_bundle(path)
    return PinnedKey(bundle.signing, bundle.encryption, source=source)


def compile_terms(path: str | os.PathLike[str]) -> Terms:
    """Read a terms TOML file and the public key files it names (relative to it).

    Raises ``InputError`` (``input.io``, ``input.invalid``, or the key file's ``key.*``
    code) for unreadable files and ``PolicyError`` (``policy.invalid``) for terms that
    break the schema or the rules of ``spec/terms.md`` §3 and §5; messages name the TOML key.
    """
    source = Path(path)
    with open_input(source) as f:
        try:
            data = f.read(_MAX_TOML + 1)
        except OSError as exc:
            message = f"cannot read {source}: {exc.strerror}"
            raise InputError(message, code=ErrorCode.INPUT_IO) from None
    if len(data) > _MAX_TOML:
        raise InputError(f"{source} is larger than {_MAX_TOML} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8") from None

    def load(written: str, where: str) -> PinnedKey:
        if not written:
            _invalid(f"{where}: empty key file path")
        try:
            return _load_pinned_key(source.parent / written, written)
        except KeyFileError as exc:
            raise InputError(
                f"{where}: key file {written!r}: {exc.args[0]}", code=exc.code
            ) from exc

    return terms_from_toml(text, load_key=load)
