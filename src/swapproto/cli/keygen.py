"""``swapproto keygen``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swapproto.cli._common import ForceOpt, JsonOpt, PassEnvOpt, PassFileOpt, passphrase
from swapproto.cli._output import Mode, handle_errors, safe, stdout
from swapproto.errors import InputError
from swapproto.keys import (
    DecryptionKey,
    EncryptionSuite,
    KeyAlgorithm,
    SigningKey,
    write_key_pair,
)


@handle_errors
def keygen(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Key name: writes NAME.key and NAME.pub.")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory to write into.")] = Path(),
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="Ed25519 + ML-DSA-65 (both signatures required).")
    ] = False,
    encryption: Annotated[
        EncryptionSuite,
        typer.Option(
            "--encryption",
            help="HPKE suite of the encryption key (mlkem768-x25519: post-quantum hybrid).",
        ),
    ] = EncryptionSuite.X25519,
    passphrase_file: PassFileOpt = None,
    passphrase_env: PassEnvOpt = None,
    force: ForceOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Generate a signing key and an HPKE encryption key: NAME.key (0600) and NAME.pub.

    NAME.pub holds both public keys; it is what the terms pin for this signer.
    """
    secret = passphrase(passphrase_file, passphrase_env)
    alg = KeyAlgorithm.ED25519_ML_DSA_65 if hybrid else KeyAlgorithm.ED25519
    key = SigningKey.generate(alg)
    decryption = DecryptionKey.generate(encryption)
    _make_directory(out)
    key_path, pub_path = write_key_pair(
        out, name, key, secret, overwrite=force, decryption_key=decryption
    )
    info = {
        "ok": True,
        "name": name,
        "algorithm": alg.value,
        "key_id": key.key_id.hex(),
        "encryption_suite": encryption.value,
        "encryption_key_id": decryption.public_key.key_id.hex(),
        "private_key": str(key_path),
        "public_key": str(pub_path),
        "encrypted": secret is not None,
    }

    def human() -> None:
        stdout.print(
            f"wrote {safe(key_path)} (0600{', encrypted' if secret else ''}) and {safe(pub_path)}"
        )
        stdout.print(f"signing key    {key.key_id.hex()}  ({alg.value})")
        stdout.print(f"encryption key {decryption.public_key.key_id.hex()}  ({encryption.value})")

    Mode(json_output).emit(info, human)


def _make_directory(out: Path) -> None:
    """Create ``out`` and any missing parents with mode 0700 (a key directory is
    nobody else's business); directories that exist are left as they are."""
    for directory in (*reversed(out.parents), out):
        if directory.is_dir():
            continue
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            if not directory.is_dir():
                raise InputError(f"{directory} exists and is not a directory") from None
