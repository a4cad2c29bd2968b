"""Shared test helpers (imported as `helpers`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"


def load_vectors(area: str, name: str) -> Any:
    """Load ``spec/vectors/<area>/<name>.json``."""
    return json.loads((VECTORS / area / f"{name}.json").read_text(encoding="utf-8"))
