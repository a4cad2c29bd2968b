"""``swapproto demo``: a complete 1,000-for-1,000 prisoner exchange in a temporary
directory, run step by step with the same commands a person would type."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.rule import Rule

from swapproto.cli._common import JsonOpt
from swapproto.cli._output import Mode, handle_errors, safe, stdout
from swapproto.demo_data import demo_terms, write_prisoner_csv
from swapproto.errors import InputError

DISCLOSED: Final = 17
"""The entry the demo discloses (the last one for a smaller demo)."""

STEPS: Final = [
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
"""The demo's steps for the default count; :func:`steps` adapts them to any count."""


def steps(count: int) -> list[tuple[str, list[str]]]:
    """The demo's steps for ``count`` prisoners per side: entry ``min(17, count - 1)``
    is the one disclosed."""
    entry = min(DISCLOSED, count - 1)
    if entry == DISCLOSED:
        return STEPS
    old = (f"--entry {DISCLOSED} ", f"p{DISCLOSED}.proof")
    new = (f"--entry {entry} ", f"p{entry}.proof")
    return [
        (title, [c.replace(old[0], new[0]).replace(old[1], new[1]) for c in commands])
        for title, commands in STEPS
    ]


@handle_errors
def demo(
    count: Annotated[int, typer.Option("--count", min=1, help="Prisoners per side.")] = 1000,
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Run here (a new or empty directory) instead of a temporary one."
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Run a complete exchange (1,000 prisoners for 1,000) and print every step.

    With ``--json``, every step runs with ``--json`` too and one object is printed at the
    end: ``ok``, ``count``, ``dir`` (null for a temporary directory), ``steps`` (each with
    its ``title``, ``command``, ``exit_code`` and the command's own JSON ``output``) and
    ``report``, the final ``swapproto verify --json`` object.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="swapproto-demo-") as tmp:
            _run(Path(tmp), count, None, json_output)
    else:
        _prepare(workdir)
        _run(workdir, count, workdir, json_output)


def _prepare(workdir: Path) -> None:
    """Create ``workdir``, or check that it is an empty directory: the demo writes keys,
    lists and an exchange there and refuses to mix them with anything else."""
    if workdir.exists() or workdir.is_symlink():
        if not workdir.is_dir():
            raise InputError(f"--dir {workdir} exists and is not a directory")
        if any(workdir.iterdir()):
            raise InputError(
                f"--dir {workdir} is not empty: give a new or empty directory"
                " (the demo writes its keys, lists and exchange there)"
            )
        return
    workdir.mkdir(parents=True, exist_ok=True)


def _invoke(command: str, as_json: bool) -> tuple[int, object]:
    """Run one CLI command; with ``as_json``, return the JSON object it printed."""
    from swapproto.cli import app

    args = shlex.split(command)
    if not as_json:
        code = app(args, standalone_mode=False, prog_name="swapproto")
        return (code if isinstance(code, int) else 0), None
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = app([*args, "--json"], standalone_mode=False, prog_name="swapproto")
    lines = captured.getvalue().splitlines()
    return (code if isinstance(code, int) else 0), json.loads(lines[-1]) if lines else None


def _quiet(_: object) -> None:
    """Print nothing: under ``--json`` the demo prints one object at the end."""


def _run(root: Path, count: int, shown_dir: Path | None, as_json: bool) -> None:
    import os

    say: Callable[[object], None] = _quiet if as_json else stdout.print
    say(f"[bold]swapproto demo[/]: {count}-for-{count} prisoner exchange in {safe(root)}")
    today = dt.datetime.now(dt.UTC).date()
    for side in ("ua", "ru"):
        with (root / f"{side}.csv").open("w", encoding="utf-8", newline="") as f:
            write_prisoner_csv(f, count, side=side, reference=today)
    (root / "terms.toml").write_text(demo_terms(today, count), encoding="utf-8")
    done: list[dict[str, object]] = []
    failed = 0
    previous = Path.cwd()
    os.chdir(root)
    try:
        for number, (title, commands) in enumerate(steps(count), start=1):
            say(Rule(f"{number}. {title}"))
            for command in commands:
                say(f"[dim]$ swapproto {safe(command)}[/]")
                code, output = _invoke(command, as_json)
                done.append(
                    {"title": title, "command": f"swapproto {command}", "exit_code": code}
                    | ({"output": output} if as_json else {})
                )
                if code != 0:
                    failed = code
                    say(f"[bold red]step failed with exit code {code}[/]")
                    break
            if failed:
                break
    finally:
        os.chdir(previous)
    if as_json:
        report = done[-1].get("output") if not failed else None
        Mode(json=True).emit(
            {
                "ok": not failed,
                "count": count,
                "dir": str(shown_dir) if shown_dir is not None else None,
                "steps": done,
                "report": report,
            },
            lambda: None,
        )
    if failed:
        raise typer.Exit(failed)
    say(Rule("done"))
    say(
        "The exchange is agreed. The mediator's verification opened both sealed lists and"
        " checked every signature, commitment, root and rule; the last verification, without"
        " a key, re-checked everything but the sealed contents."
    )
