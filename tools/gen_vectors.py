"""Regenerate (or check) the test vectors under ``spec/vectors/``.

Each area has a module ``tools/vectors_<area>.py`` with ``generate() -> dict[str, object]``
mapping a case-file name (without ``.json``) to its JSON content. Generation is fully
deterministic (fixed seeds, fixed salts, deterministic Ed25519), so running this script
on an unchanged tree rewrites identical bytes; ``tests/test_vectors_fresh.py`` fails if it
would not.

Usage::

    python tools/gen_vectors.py            # rewrite every vector file
    python tools/gen_vectors.py --check    # exit 1 if any file would change
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "spec" / "vectors"
AREAS = (
    "encoding",
    "hashing",
    "merkle",
    "keys",
    "envelope",
    "records",
    "manifest",
    "terms",
    "transcript",
    "sealing",
)


def render(obj: object) -> str:
    """The exact text of a vector file."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate_area(area: str) -> dict[str, str]:
    """Map ``<area>/<case>.json`` relative paths to their rendered text."""
    module = importlib.import_module(f"vectors_{area}")
    files: dict[str, object] = module.generate()
    return {f"{area}/{name}.json": render(content) for name, content in sorted(files.items())}


def available_areas() -> list[str]:
    """The areas whose generator module exists."""
    here = Path(__file__).resolve().parent
    return [a for a in AREAS if (here / f"vectors_{a}.py").exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report files that would change")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    stale = []
    for area in available_areas():
        for rel, text in generate_area(area).items():
            path = VECTORS / rel
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(rel)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for rel in stale:
        print(("stale: " if args.check else "wrote: ") + rel)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
