"""Options and loaders shared by several commands."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from swapproto.errors import ErrorCode, InputError
from swapproto.keys import PublicKey, SigningKey, load_public_key, load_signing_key

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
PassFileOpt = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the key passphrase from this file (first line)."),
]
PassEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase-env", help="Read the key passphrase from this environment variable."
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]


def passphrase(file: Path | None, env: str | None) -> str | None:
    """The passphrase from a file or an environment variable, if one was named."""
    if file is not None and env is not None:
        raise InputError("give --passphrase-file or --passphrase-env, not both")
    if file is not None:
        lines = file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise InputError(f"environment variable {env} is not set")
        return value
    return None


def signing_keys(paths: list[Path], file: Path | None, env: str | None) -> list[SigningKey]:
    """Load one or more private keys (all with the same passphrase, if any)."""
    secret = passphrase(file, env)
    if not paths:
        raise InputError("at least one --key is required")
    return [load_signing_key(p, secret) for p in paths]


def public_keys(paths: list[Path]) -> list[PublicKey]:
    """Load public key files."""
    if not paths:
        raise InputError("at least one --pub is required")
    return [load_public_key(p) for p in paths]


def now(created_at: int | None) -> int:
    """The time to stamp: the option if given (reproducible runs), else the clock."""
    if created_at is not None:
        if created_at < 0:
            raise InputError("--created-at must be non-negative", code=ErrorCode.INPUT_INVALID)
        return created_at
    return int(time.time())
