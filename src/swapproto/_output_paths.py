"""Outputs that must not be inputs, nor each other: shared by the library's writers and
the CLI, so that replacing an existing output (``overwrite=True``, ``--force``) never
replaces a file being read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from swapproto.errors import InputError

__all__ = ["distinct_outputs", "same_file"]


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file (a hard or symbolic link too), or would be."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL in the name
        return False


def distinct_outputs(outputs: Iterable[tuple[str, Path]], inputs: Iterable[Path | None]) -> None:
    """Refuse (``InputError``) an output that is one of the inputs or another output.

    ``outputs`` pairs each path with the name the caller knows it by (an option, a
    parameter), which the error names."""
    seen: list[tuple[str, Path]] = []
    sources = [p for p in inputs if p is not None]
    for name, path in outputs:
        for source in sources:
            if same_file(path, source):
                raise InputError(f"{name} {path} is an input of this command; write elsewhere")
        for other, earlier in seen:
            if same_file(path, earlier):
                raise InputError(f"{other} and {name} name the same file {path}")
        seen.append((name, path))
