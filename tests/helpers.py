"""Shared test helpers (imported as `helpers`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from swapproto.cli import app

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"


def load_vectors(area: str, name: str) -> Any:
    """Load ``spec/vectors/<area>/<name>.json``."""
    return json.loads((VECTORS / area / f"{name}.json").read_text(encoding="utf-8"))


_runner = CliRunner()


def run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; an exception other than SystemExit is a test failure."""
    result = _runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


class RefusingContext:
    """A multiprocessing context whose processes cannot start (no worker to be had)."""

    def Pipe(self, duplex: bool) -> Any:  # the context's API
        import multiprocessing

        return multiprocessing.get_context("spawn").Pipe(duplex=duplex)

    def Process(self, **options: Any) -> Any:
        class NoStart:
            def start(self) -> None:
                raise OSError("no processes left")

        return NoStart()
