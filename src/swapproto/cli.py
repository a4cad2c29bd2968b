"""The ``swapproto`` command line. It holds no logic that the library lacks."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="swapproto",
    help="Secure bilateral exchanges of lists between parties who do not trust each other.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the swapproto version."""
    from swapproto import __version__

    typer.echo(__version__)


@app.command()
def demo() -> None:
    """Run the demo exchange (placeholder until the handshake lands)."""
    typer.echo("swapproto demo: the full exchange demo arrives with the handshake issue.")


def main() -> None:
    """Console-script entry point."""
    app()
