"""Output, errors and exit codes shared by every command.

Exit codes (documented in the README and ``spec/handshake.md`` §8): 0 success; 1 a
verification failed (the input is well-formed but does not check out); 2 usage, input or
I/O error; 128 + the signal when interrupted (130 Ctrl-C, 143 SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, Final, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from swapproto.errors import ErrorCode, SwapprotoError, VerificationError

try:
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    # Typer before it vendored click (pyproject allows typer>=0.12) raises click's own.
    from click.exceptions import UsageError  # type: ignore[import-not-found,no-redef]

EXIT_OK: Final = 0
EXIT_VERIFY_FAILED: Final = 1
EXIT_USAGE: Final = 2


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup runs as for Ctrl-C."""

    signum: int = signal.SIGTERM


P = ParamSpec("P")
R = TypeVar("R")

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class Mode:
    """How a command reports: human-readable or one JSON object."""

    json: bool = False

    def emit(self, obj: dict[str, Any], human: Callable[[], None]) -> None:
        """Print ``obj`` as JSON, or call ``human`` to render it."""
        if self.json:
            sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n")
        else:
            human()


def fail(exc: BaseException, *, as_json: bool) -> typer.Exit:
    """Report an error and return the matching exit.

    A click usage error (a command line that does not parse) is ``input.usage``.
    """
    if isinstance(exc, SwapprotoError):
        code = EXIT_VERIFY_FAILED if isinstance(exc, VerificationError) else EXIT_USAGE
        payload = {"code": str(exc.code), "message": str(exc.args[0]) + _hint(exc)}
    elif isinstance(exc, UsageError):
        code = EXIT_USAGE
        payload = {"code": str(ErrorCode.INPUT_USAGE), "message": exc.format_message()}
    else:
        code = EXIT_USAGE
        payload = {"code": "input.io", "message": _os_message(exc)}
    if as_json:
        sys.stdout.write(json.dumps({"ok": False, "error": payload}, ensure_ascii=False) + "\n")
    else:
        text = safe(f"[{payload['code']}] {payload['message']}")
        stderr.print(f"[bold red]error[/] {text}")
    return typer.Exit(code)


def _hint(exc: SwapprotoError) -> str:
    """What most often causes this error on the command line, when that is clear."""
    unknown = exc.details.get("unknown")
    if exc.code == ErrorCode.VERIFY_THRESHOLD and not exc.details.get("valid") and unknown:
        signers = ", ".join(str(k)[:16] for k in unknown[:4])
        return f" (signed by key {signers}, which the keys given do not include: another key?)"
    return ""


def _os_message(exc: BaseException) -> str:
    """``path: reason`` for an I/O error, as other tools word it, not Python's
    ``[Errno 2] No such file or directory: 'path'``."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        name = _file_name(exc.filename)
        if exc.filename2 is not None:
            name = f"{name} -> {_file_name(exc.filename2)}"
        return f"{name}: {exc.strerror}"
    return str(exc)


def _file_name(value: object) -> str:
    if isinstance(value, str | bytes | os.PathLike):
        return os.fsdecode(value)
    return str(value)  # a file descriptor


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn swapproto and I/O errors into a message and a documented exit code, and an
    interruption (Ctrl-C, SIGTERM), once cleanup has run, into exit 128 + the signal."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("json_output"))
        try:
            return func(*args, **kwargs)
        except (SwapprotoError, OSError) as exc:
            raise fail(exc, as_json=as_json) from None
        except KeyboardInterrupt:
            raise interrupted(signal.SIGINT, as_json=as_json) from None
        except Terminated:
            raise interrupted(signal.SIGTERM, as_json=as_json) from None

    return wrapper


def interrupted(signum: int, *, as_json: bool) -> typer.Exit:
    """Report a command stopped by ``signum`` (``input.interrupted``); exit 128 + signum."""
    message = f"interrupted by {signal.Signals(signum).name} before the command finished"
    if as_json:
        error = {"code": str(ErrorCode.INPUT_INTERRUPTED), "message": message}
        sys.stdout.write(json.dumps({"ok": False, "error": error}) + "\n")
    else:
        stderr.print(f"[bold red]interrupted[/] {message}")
    return typer.Exit(128 + signum)


def json_requested(args: Sequence[str]) -> bool:
    """Whether ``--json`` is among ``args`` as an option: before any literal ``--``."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


@contextmanager
def usage_errors_as_json(as_json: bool) -> Iterator[None]:
    """With ``as_json``, report a command line that does not parse as :func:`fail` does
    (one JSON object on stdout, exit 2); otherwise leave it to click's usage message.

    The exit is raised as :class:`typer.Exit`, which typer turns into the exit code
    whether it comes from parsing or from a command.
    """
    try:
        yield
    except UsageError as exc:
        if not as_json:
            raise
        raise fail(exc, as_json=True) from None


@contextmanager
def progress_bar(
    label: str, total: int | None, *, enabled: bool
) -> Iterator[Callable[[int], object]]:
    """A progress bar on stderr; yields a callback taking the number done so far.

    Only on a terminal: in a pipe or a log file a bar is noise (a stray blank line).
    """
    if not enabled or not stderr.is_terminal:
        yield lambda done: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def _printable(value: object) -> str:
    text = str(value)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text


def plain(value: object) -> Text:
    """``value`` as plain terminal text: never read as rich markup or emoji codes, and
    every non-printable character (ESC, other controls, bidi overrides) shown escaped.

    Labels, record fields and file names come from files a counterparty wrote.
    """
    return Text(_printable(value))


def safe(value: object) -> str:
    """``value`` escaped for embedding in a rich markup string (see :func:`plain`)."""
    return escape(_printable(value))
