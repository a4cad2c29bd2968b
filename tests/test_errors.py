"""The error hierarchy and its stable codes."""

from __future__ import annotations

from pathlib import Path

import swapproto
from swapproto import errors
from swapproto.errors import ErrorCode, SwapprotoError, ThresholdError

SPEC = Path(__file__).resolve().parent.parent / "spec" / "errors.md"


def test_base_is_reexported() -> None:
    assert swapproto.SwapprotoError is SwapprotoError


def test_codes_are_unique_and_namespaced() -> None:
    values = [c.value for c in ErrorCode]
    assert len(values) == len(set(values))
    assert all("." in v and v == v.lower() for v in values)


def test_every_error_class_is_a_swapproto_error_with_a_code() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, SwapprotoError)
            assert isinstance(obj.default_code, ErrorCode)


def test_str_carries_the_code_and_details_are_kept() -> None:
    exc = ThresholdError("2 of 3 required", valid=2, threshold=3)
    assert str(exc).startswith("[verify.threshold_not_met]")
    assert exc.details == {"valid": 2, "threshold": 3}


def test_every_code_is_documented() -> None:
    text = SPEC.read_text(encoding="utf-8")
    for code in ErrorCode:
        assert f"`{code.value}`" in text, code
