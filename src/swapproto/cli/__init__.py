"""The ``swapproto`` command line. It holds no logic that the library lacks.

Exit codes: 0 success; 1 a verification failed; 2 usage, input or I/O error; 130 or 143
interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any, Final

import typer
from typer.core import TyperGroup

from swapproto.cli import exchange, manifest
from swapproto.cli._common import JsonOpt
from swapproto.cli._output import Mode, Terminated, json_requested, usage_errors_as_json
from swapproto.cli.demo import demo
from swapproto.cli.disclose import disclose
from swapproto.cli.keygen import keygen

if TYPE_CHECKING:
    from typer._click import Context

_JSON_REQUESTED: Final = "swapproto.json_requested"


class _RootGroup(TyperGroup):
    """The ``swapproto`` group: with ``--json`` among the arguments, a command line that
    does not parse is reported as one JSON object on stdout, like any other failure.

    Usage errors surface in two places: the root's own parsing, and :meth:`invoke`, which
    resolves and parses every subcommand (nested groups included) below it. Hooking both
    here covers every command without touching them.
    """

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parse the root's arguments, noting first whether ``--json`` was asked for."""
        # The first call sees the whole command line; click may call it again on the rest.
        ctx.meta.setdefault(_JSON_REQUESTED, json_requested(args))
        with usage_errors_as_json(ctx.meta[_JSON_REQUESTED]):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        """Run the subcommand, reporting its usage errors as JSON if asked to."""
        with usage_errors_as_json(ctx.meta.get(_JSON_REQUESTED, False)):
            return super().invoke(ctx)


app = typer.Typer(
    name="swapproto",
    help=(
        "Secure bilateral exchanges of lists between parties who do not trust each other.\n\n"
        "Exit codes: 0 success; 1 verification failed; 2 usage, input or I/O error;"
        " 130 or 143 interrupted (Ctrl-C, SIGTERM)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # reflows docstring paragraphs; ``x`` shows as code
    cls=_RootGroup,
)
app.command()(keygen)
app.command()(demo)
app.add_typer(manifest.app, name="manifest")
exchange.register(app)
app.command("disclose")(disclose)


@app.command()
def version(json_output: JsonOpt = False) -> None:
    """Print the swapproto version."""
    from swapproto import __version__

    Mode(json_output).emit({"ok": True, "version": __version__}, lambda: typer.echo(__version__))


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C does: cleanup (temporary files, the
    build's worker) runs on the way out, and the exit code is 128 + the signal."""
    raise Terminated


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app()
    except Terminated:  # outside a command (commands report it themselves)
        raise SystemExit(128 + signal.SIGTERM) from None
