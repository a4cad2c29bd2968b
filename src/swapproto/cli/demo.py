"""``swapproto demo``: a complete 1,000-for-1,000 prisoner exchange in a temporary
directory, run step by step with the same commands a person would type."""

from __future__ import annotations

import datetime as dt
import shlex
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule

from swapproto.cli._output import safe, stdout
from swapproto.demo_data import demo_terms, write_prisoner_csv

STEPS = [
    (
        "Each side and the mediator make keys (signing + HPKE encryption)",
        ["keygen ua -o keys/", "keygen ru -o keys/", "keygen tr -o keys/"],
    ),
    ("The negotiated terms become an exchange directory", ["terms new terms.toml -o xch/"]),
    (
        "Both parties sign the terms",
        ["terms sign xch/ --key keys/ua.key", "terms sign xch/ --key keys/ru.key"],
    ),
    (
        "Each party builds its signed, salted list",
        [
            "manifest build --exchange xch/ --list pows --from ua.csv --key keys/ua.key"
            " -o ua.manifest",
            "manifest build --exchange xch/ --list pows --from ru.csv --key keys/ru.key"
            " -o ru.manifest",
        ],
    ),
    (
        "Both commit before either sees the other's list",
        ["commit xch/ ua.manifest --key keys/ua.key", "commit xch/ ru.manifest --key keys/ru.key"],
    ),
    (
        "Both reveal, sealed to the counterparty and the mediator",
        ["reveal xch/ ua.manifest --key keys/ua.key", "reveal xch/ ru.manifest --key keys/ru.key"],
    ),
    (
        "The mediator verifies everything, decrypting with its own key",
        ["verify xch/ --key keys/tr.key"],
    ),
    (
        "Both parties accept, each signing the digest of what it saw",
        ["accept xch/ --key keys/ua.key", "accept xch/ --key keys/ru.key"],
    ),
    (
        "One entry is shown to be on Ukraine's signed list without revealing the rest",
        ["disclose ua.manifest --entry 17 -o p17.proof", "check p17.proof --exchange xch/"],
    ),
    ("Anyone holding the transcript re-checks it offline", ["verify xch/"]),
]


def demo(
    count: Annotated[int, typer.Option("--count", help="Prisoners per side.")] = 1000,
    workdir: Annotated[
        Path | None, typer.Option("--dir", help="Run here instead of a temporary directory.")
    ] = None,
) -> None:
    """Run a complete exchange (1,000 prisoners for 1,000) and print every step."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="swapproto-demo-") as tmp:
            _run(Path(tmp), count)
    else:
        workdir.mkdir(parents=True, exist_ok=True)
        _run(workdir, count)


def _run(root: Path, count: int) -> None:
    import os

    from swapproto.cli import app

    stdout.print(f"[bold]swapproto demo[/]: {count}-for-{count} prisoner exchange in {safe(root)}")
    today = dt.datetime.now(dt.UTC).date()
    for side in ("ua", "ru"):
        with (root / f"{side}.csv").open("w", encoding="utf-8", newline="") as f:
            write_prisoner_csv(f, count, side=side, reference=today)
    (root / "terms.toml").write_text(demo_terms(today, count), encoding="utf-8")
    previous = Path.cwd()
    os.chdir(root)
    try:
        for number, (title, commands) in enumerate(STEPS, start=1):
            stdout.print(Rule(f"{number}. {title}"))
            for command in commands:
                stdout.print(f"[dim]$ swapproto {safe(command)}[/]")
                code = app(shlex.split(command), standalone_mode=False, prog_name="swapproto")
                if isinstance(code, int) and code != 0:
                    stdout.print(f"[bold red]step failed with exit code {code}[/]")
                    raise typer.Exit(code)
    finally:
        os.chdir(previous)
    stdout.print(Rule("done"))
    stdout.print("The exchange verified end to end: every signature, commitment, root and rule.")
