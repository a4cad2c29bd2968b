"""Mistakes an operator makes at the command line: each is refused with a clear message
and exit 2, before anything slow or irreversible, and nothing an input held is lost."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from helpers import run
from swapproto.cli._output import Terminated
from swapproto.demo_data import demo_terms, write_prisoner_csv
from swapproto.keys import DecryptionKey

COUNT = 20


def ok(*args: str | Path) -> None:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)


def error(*args: str | Path, exit_code: int = 2) -> dict[str, Any]:
    """Run with --json; one error object on stdout, no traceback anywhere."""
    result = run(*args, "--json")
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert result.stdout.count("\n") == 1
    obj = json.loads(result.stdout)
    assert obj["ok"] is False
    assert "Traceback" not in result.stdout + result.stderr
    message = obj["error"]["message"]
    assert isinstance(message, str)
    assert "Errno" not in message
    human = run(*args)
    assert human.exit_code == exit_code
    assert message in " ".join(human.stderr.split())  # the same words, wrapped or not
    return dict(obj["error"])


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys, terms (not signed) and both parties' manifests of a small exchange."""
    monkeypatch.chdir(tmp_path)
    for name in ("ua", "ru", "tr"):
        ok("keygen", name, "-o", "keys/")
    today = dt.datetime.now(dt.UTC).date()
    Path("terms.toml").write_text(demo_terms(today, COUNT), encoding="utf-8")
    for side in ("ua", "ru"):
        with open(f"{side}.csv", "w", encoding="utf-8", newline="") as f:
            write_prisoner_csv(f, COUNT, side=side, reference=today)
    ok("terms", "new", "terms.toml", "-o", "xch/")
    for side in ("ua", "ru"):
        ok(
            "manifest", "build", "--exchange", "xch/", "--list", "pows", "--from", f"{side}.csv",
            "--key", f"keys/{side}.key", "-o", f"{side}.manifest",
        )  # fmt: skip
    return tmp_path


def sign_both() -> None:
    for side in ("ua", "ru"):
        ok("terms", "sign", "xch/", "--key", f"keys/{side}.key")


# ---------------------------------------------------------------------------------------
# protocol steps out of order, in plain words


def test_commit_before_signing_the_terms_says_so(session: Path) -> None:
    err = error("commit", "xch/", "ua.manifest", "--key", "keys/ua.key")
    assert err == {
        "code": "protocol.local",
        "message": "party a has not signed the terms yet (swapproto terms sign)",
    }
    ok("terms", "sign", "xch/", "--key", "keys/ua.key")
    err = error("commit", "xch/", "ua.manifest", "--key", "keys/ua.key")
    assert err["message"] == "the other party (b) has not signed the terms yet"
    assert not Path("ua.manifest.opening").exists()


def test_signing_twice_says_so(session: Path) -> None:
    ok("terms", "sign", "xch/", "--key", "keys/ua.key")
    err = error("terms", "sign", "xch/", "--key", "keys/ua.key")
    assert err["message"] == "party a has already signed the terms"


def test_commit_twice_is_refused_in_plain_words_and_keeps_the_opening(session: Path) -> None:
    sign_both()
    ok("commit", "xch/", "ua.manifest", "--key", "keys/ua.key")
    opening = Path("ua.manifest.opening").read_bytes()
    err = error("commit", "xch/", "ua.manifest", "--key", "keys/ua.key")
    assert err == {"code": "protocol.local", "message": "party a has already committed list 'pows'"}
    assert Path("ua.manifest.opening").read_bytes() == opening


def test_accept_too_early_and_twice_say_why(session: Path) -> None:
    sign_both()
    for side in ("ua", "ru"):
        ok("commit", "xch/", f"{side}.manifest", "--key", f"keys/{side}.key")
    err = error("accept", "xch/", "--key", "keys/ua.key")
    assert err["message"] == "party a has not revealed all its lists yet; a verdict comes after"
    ok("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key")
    err = error("accept", "xch/", "--key", "keys/ua.key")
    assert err["message"] == (
        "the other party (b) has not revealed all its lists yet;"
        " a verdict must wait for both reveals"
    )
    ok("reveal", "xch/", "ru.manifest", "--key", "keys/ru.key")
    ok("accept", "xch/", "--key", "keys/ua.key")
    err = error("accept", "xch/", "--key", "keys/ua.key")
    assert err["message"] == "party a has already given its verdict; nothing more may be sent"
    err = error("dispute", "xch/", "--key", "keys/ua.key", "--reason", "changed my mind")
    assert err["code"] == "protocol.local"


# ---------------------------------------------------------------------------------------
# outputs that would destroy an input


@pytest.mark.parametrize(
    "args",
    [
        ("disclose", "ua.manifest", "--entry", "1", "-o", "ua.manifest"),
        ("manifest", "disclose", "ua.manifest", "--entry", "1", "-o", "./ua.manifest"),
        ("disclose", "ua.manifest", "--entry", "1", "-o", "ua.manifest.opening"),
        ("manifest", "blind", "ua.manifest", "--pub", "keys/ua.pub", "-o", "ua.manifest"),
        ("manifest", "build", "--kind", "prisoner", "--from", "ua.csv", "--key", "keys/ua.key",
         "-o", "ua.csv"),
        ("manifest", "build", "--kind", "prisoner", "--from", "ua.csv", "--key", "keys/ua.key",
         "-o", "keys/ua.key"),
        ("manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "--remove", "1:deceased",
         "-o", "ua.manifest", "--amendment", "v2.amend"),
        ("manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "--remove", "1:deceased",
         "-o", "v2.manifest", "--amendment", "keys/ua.key"),
    ],
)  # fmt: skip
def test_force_never_overwrites_an_input(session: Path, args: tuple[str, ...]) -> None:
    Path("ua.manifest.opening").write_bytes(b"opening")
    before = {p: p.read_bytes() for p in session.rglob("*") if p.is_file()}
    err = error(*args, "--force")
    assert err["code"] == "input.invalid"
    assert "is an input of this command; write elsewhere" in err["message"]
    assert {p: p.read_bytes() for p in session.rglob("*") if p.is_file()} == before


def test_amend_refuses_one_file_for_both_outputs(session: Path) -> None:
    err = error(
        "manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "--remove", "1:deceased",
        "-o", "v2", "--amendment", "./v2", "--force",
    )  # fmt: skip
    assert err["message"] == "-o and --amendment name the same file v2"
    assert not Path("v2").exists()


# ---------------------------------------------------------------------------------------
# files, passphrases and fingerprints


def test_a_missing_file_is_named_without_python_errno_text(session: Path) -> None:
    err = error("manifest", "verify", "nope.manifest", "--pub", "keys/ua.pub")
    assert err == {"code": "input.io", "message": "nope.manifest: No such file or directory"}
    err = error("commit", "xch/", "keys", "--key", "keys/ua.key")
    assert err == {"code": "input.io", "message": "keys: Is a directory"}


def test_a_damaged_terms_file_is_named(session: Path) -> None:
    Path("junk").mkdir()
    Path("junk/terms.spterms").write_bytes(b"x\n")
    for args in (("verify", "junk"), ("terms", "sign", "junk", "--key", "keys/ua.key")):
        err = error(*args)
        assert err["code"].startswith("decode.")
        assert err["message"].startswith(f"{Path('junk/terms.spterms')}: ")


def test_an_encrypted_key_without_passphrase_names_the_file_and_the_options(
    session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("pw.txt").write_text("s3cret-pass\n", encoding="utf-8")
    ok("keygen", "enc", "-o", "ekeys", "--passphrase-file", "pw.txt")
    err = error("terms", "sign", "xch/", "--key", "ekeys/enc.key")
    assert err["code"] == "key.bad_passphrase"
    assert err["message"].startswith(f"{Path('ekeys/enc.key')}: the key file is encrypted")
    assert err["message"].endswith("give it with --passphrase-file or --passphrase-env")
    Path("wrong.txt").write_text("wrong\n", encoding="utf-8")
    err = error("terms", "sign", "xch/", "--key", "ekeys/enc.key", "--passphrase-file", "wrong.txt")
    assert err["code"] == "key.bad_passphrase"
    assert "wrong" not in err["message"].replace("wrong passphrase", "")
    assert "s3cret" not in err["message"]


def test_an_empty_passphrase_is_named_as_such(
    session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWAPPROTO_PW", "")
    err = error("keygen", "x", "-o", "k2", "--passphrase-env", "SWAPPROTO_PW")
    assert err == {
        "code": "input.invalid",
        "message": "environment variable SWAPPROTO_PW is empty: it holds no passphrase",
    }
    Path("empty.txt").write_text("\nsecond line\n", encoding="utf-8")
    err = error("keygen", "x", "-o", "k2", "--passphrase-file", "empty.txt")
    assert err["message"] == "empty.txt: the first line is empty: it holds no passphrase"
    assert not Path("k2").exists()


@pytest.mark.parametrize("typo", ["garbage", "", "ABCD-EFGH-IJKL-MNO", "ABCD-EFGH-IJKL-MN01"])
def test_expect_with_something_that_is_no_fingerprint_is_a_usage_error(
    session: Path, typo: str
) -> None:
    err = error("verify", "xch", "--expect", typo)
    assert err["code"] == "input.invalid"
    assert "is not a fingerprint" in err["message"]


def test_expect_with_a_wrong_fingerprint_is_a_failed_check(session: Path) -> None:
    result = run("verify", "xch", "--expect", "AAAA-BBBB-CCCC-DDDD", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    assert "expected fingerprint AAAA-BBBB-CCCC-DDDD" in failed


def test_no_progress_bar_residue_when_stderr_is_not_a_terminal(session: Path) -> None:
    result = run("manifest", "verify", "ua.manifest", "--pub", "keys/ua.pub")
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("raised", "exit_code", "name"),
    [(KeyboardInterrupt, 130, "SIGINT"), (Terminated, 143, "SIGTERM")],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupted_command_reports_once_and_exits_128_plus_the_signal(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raised: type[BaseException],
    exit_code: int,
    name: str,
) -> None:
    def stop(*_: object) -> None:
        raise raised

    monkeypatch.setattr(DecryptionKey, "generate", staticmethod(stop))
    result = run("keygen", "ua", "-o", tmp_path / "keys", "--json")
    assert result.exit_code == exit_code
    obj = json.loads(result.stdout)  # exactly one JSON object
    assert obj["ok"] is False
    assert obj["error"]["code"] == "input.interrupted"
    assert name in obj["error"]["message"]
    assert not (tmp_path / "keys" / "ua.key").exists()
    human = run("keygen", "ua", "-o", tmp_path / "keys")
    assert human.exit_code == exit_code
    assert "interrupted" in human.stderr


def test_a_file_that_is_not_a_manifest_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("list.csv").write_text("person_id,family_name\nP1,X\n", encoding="utf-8")
    result = run("disclose", "list.csv", "--entry", "0", "-o", "p.proof", "--json")
    obj = json.loads(result.stdout)
    assert obj["error"]["code"] == "verify.manifest_invalid"
    assert obj["error"]["message"].startswith("list.csv is not a swapproto manifest file")
    assert not Path("p.proof").exists()


def test_verifying_with_another_key_says_who_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ua", "other"):
        assert run("keygen", name, "-o", "keys").exit_code == 0
    Path("list.csv").write_text("person_id,family_name,given_names,date_of_birth,sex,citizenship\n")
    built = run(
        "manifest",
        "build",
        "--kind",
        "prisoner",
        "--from",
        "list.csv",
        "--key",
        "keys/ua.key",
        "-o",
        "m",
    )
    assert built.exit_code == 0
    signer = json.loads(Path("keys/ua.pub").read_text())["key_id"][:16]
    result = run("manifest", "verify", "m", "--pub", "keys/other.pub", "--json")
    assert result.exit_code == 1
    message = json.loads(result.stdout)["error"]["message"]
    assert f"signed by key {signer}" in message
