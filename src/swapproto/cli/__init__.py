"""The ``swapproto`` command line. It holds no logic that the library lacks.

Exit codes: 0 success; 1 a verification failed; 2 usage, input or I/O error.
"""

from __future__ import annotations

import signal

import typer

from swapproto.cli import exchange, manifest
from swapproto.cli.demo import demo
from swapproto.cli.disclose import disclose
from swapproto.cli.keygen import keygen

app = typer.Typer(
    name="swapproto",
    help=(
        "Secure bilateral exchanges of lists between parties who do not trust each other.\n\n"
        "Exit codes: 0 success; 1 verification failed; 2 usage, input or I/O error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(keygen)
app.command()(demo)
app.add_typer(manifest.app, name="manifest")
exchange.register(app)
app.command("disclose")(disclose)


@app.command()
def version() -> None:
    """Print the swapproto version."""
    from swapproto import __version__

    typer.echo(__version__)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C does: cleanup (temporary files, the
    build's worker) runs on the way out, and the exit code is 128 + the signal."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    app()
