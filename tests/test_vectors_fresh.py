"""Regenerating the vectors must not change a byte (python-tuf's discipline)."""

from __future__ import annotations

import pytest

import gen_vectors


@pytest.mark.parametrize("area", gen_vectors.available_areas())
def test_vectors_are_fresh(area: str) -> None:
    for rel, text in gen_vectors.generate_area(area).items():
        path = gen_vectors.VECTORS / rel
        assert path.exists(), f"missing vector file {rel}: run tools/gen_vectors.py"
        assert path.read_text(encoding="utf-8") == text, f"{rel} is stale"
