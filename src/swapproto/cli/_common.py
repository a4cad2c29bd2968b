"""Options and loaders shared by several commands."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Annotated, Final

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


MAX_PASSPHRASE_FILE: Final = 64 * 1024
MAX_CREATED_AT: Final = 2**63 - 1


def passphrase(file: Path | None, env: str | None) -> str | None:
    """The passphrase from a file (its first line) or an environment variable, if named.

    The passphrase must be UTF-8 text; only CR, LF or CR LF end the first line (no
    other character silently cuts it short).
    """
    if file is not None and env is not None:
        raise InputError("give --passphrase-file or --passphrase-env, not both")
    if file is not None:
        return _first_line(file)
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise InputError(f"environment variable {env} is not set")
        if not _is_text(value):
            # POSIX environments hold bytes: non-UTF-8 arrives as lone surrogates
            raise InputError(f"environment variable {env} is not valid UTF-8")
        return value
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_line(file: Path) -> str:
    with file.open("rb") as f:
        data = f.read(MAX_PASSPHRASE_FILE + 1)
    line = re.split(rb"\r\n|\r|\n", data, maxsplit=1)[0]
    if len(line) > MAX_PASSPHRASE_FILE:
        raise InputError(f"{file}: the passphrase line is longer than 64 KiB")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{file}: the passphrase is not valid UTF-8") from None


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
        if not 0 <= created_at <= MAX_CREATED_AT:
            raise InputError(
                f"--created-at must be between 0 and {MAX_CREATED_AT} (Unix seconds)",
                code=ErrorCode.INPUT_INVALID,
            )
        return created_at
    return int(time.time())
