"""Usage errors (a command line that does not parse) under ``--json``: one JSON object on
stdout and exit 2, like every other failure; without ``--json``, click's usage text."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from helpers import run
from swapproto.cli import main
from swapproto.cli._output import json_requested
from swapproto.errors import ErrorCode
from swapproto.keys import SigningKey


def usage_error(*args: str | Path) -> dict[str, Any]:
    """Run ``args`` (which include ``--json``); expect exactly one usage-error object."""
    result = run(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout.count("\n") == 1, result.stdout
    obj = json.loads(result.stdout)
    assert obj == {"ok": False, "error": obj["error"]}
    assert set(obj["error"]) == {"code", "message"}
    assert obj["error"]["code"] == "input.usage"
    assert "Usage" not in result.stderr
    error: dict[str, Any] = obj["error"]
    return error


@pytest.fixture
def existing_file(tmp_path: Path) -> Path:
    """A file that exists, so that only the argument under test can be wrong."""
    path = tmp_path / "some.manifest"
    path.write_bytes(b"not parsed: the command line fails first")
    return path


def test_the_code_is_registered() -> None:
    assert ErrorCode.INPUT_USAGE.value == "input.usage"


def test_unknown_option_with_json(existing_file: Path) -> None:
    error = usage_error("manifest", "verify", existing_file, "--json", "--bogus")
    assert error["message"] == "No such option: --bogus"


def test_unknown_option_before_json_still_counts(existing_file: Path) -> None:
    error = usage_error("manifest", "verify", existing_file, "--bogus", "--json")
    assert "--bogus" in error["message"]


def test_missing_argument_with_json() -> None:
    error = usage_error("keygen", "--json")
    assert error["message"].startswith("Missing argument")
    assert "name" in error["message"].lower()


def test_invalid_option_value_with_json(existing_file: Path, tmp_path: Path) -> None:
    args = ("manifest", "disclose", existing_file, "--entry", "abc")
    error = usage_error(*args, "-o", tmp_path / "out.proof", "--json")
    assert error["message"].startswith("Invalid value for '--entry'")
    assert not (tmp_path / "out.proof").exists()


def test_nested_subcommand_with_json() -> None:
    error = usage_error("manifest", "show", "--json", "--bogus")
    assert error["message"] == "No such option: --bogus"


def test_unknown_subcommand_with_json() -> None:
    error = usage_error("manifest", "nosuchcommand", "--json")
    assert "nosuchcommand" in error["message"]


def test_json_at_the_root_is_itself_the_unknown_option() -> None:
    error = usage_error("--json")
    assert error["message"] == "No such option: --json"


@pytest.mark.parametrize(
    "args",
    [
        ["manifest", "verify", "FILE", "--bogus"],
        ["keygen"],
        ["manifest", "disclose", "FILE", "--entry", "abc", "-o", "out.proof"],
        ["manifest", "show", "--bogus"],
        ["manifest", "nosuchcommand"],
    ],
)
def test_without_json_click_prints_its_usage_text(args: list[str], existing_file: Path) -> None:
    result = run(*[str(existing_file) if a == "FILE" else a for a in args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Usage" in result.stderr
    assert "input.usage" not in result.stderr


def test_json_after_double_dash_does_not_count() -> None:
    result = run("keygen", "alice", "--", "--json", "--bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Usage" in result.stderr
    assert "unexpected extra argument" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--json"], True),
        (["manifest", "show", "x", "--json"], True),
        (["--json", "--"], True),
        (["--", "--json"], False),
        (["manifest", "show", "--jsonx"], False),
        ([], False),
    ],
)
def test_json_requested(args: list[str], expected: bool) -> None:
    assert json_requested(args) is expected


def test_console_entry_point_reports_usage_as_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["swapproto", "manifest", "show", "--json", "--bogus"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "ok": False,
        "error": {"code": "input.usage", "message": "No such option: --bogus"},
    }
    assert err == ""


@pytest.mark.parametrize(
    ("interrupt", "exit_code"),
    [(KeyboardInterrupt, 130), (typer.Abort, 1)],
)
def test_interrupts_with_json_are_not_usage_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, interrupt: type[BaseException], exit_code: int
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> SigningKey:
        raise interrupt

    monkeypatch.setattr(SigningKey, "generate", interrupted)
    result = run("keygen", "alice", "-o", tmp_path, "--json")
    assert result.exit_code == exit_code
    assert "input.usage" not in result.stdout + result.stderr
    assert not (tmp_path / "alice.key").exists()
