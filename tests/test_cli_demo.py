"""``swapproto demo`` and the README's two commands (what ``.ci/run`` runs)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from helpers import run
from swapproto.cli.demo import STEPS, steps

ROOT = Path(__file__).resolve().parents[1]


def test_demo_dir_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("mine\n", encoding="utf-8")
    result = run("demo", "--count", "3", "--dir", target)
    assert result.exit_code == 2
    assert "[input.invalid]" in result.stderr
    assert "exists and is not a directory" in result.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"


def test_demo_refuses_a_non_empty_dir_before_writing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep\n", encoding="utf-8")
    result = run("demo", "--count", "3", "--dir", tmp_path)
    assert result.exit_code == 2
    assert "[input.invalid]" in result.stderr
    assert "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_rerun_in_the_same_dir_is_refused_up_front(tmp_path: Path) -> None:
    work = tmp_path / "new" / "demo"
    assert run("demo", "--count", "2", "--dir", work).exit_code == 0
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    result = run("demo", "--count", "2", "--dir", work)
    assert result.exit_code == 2
    assert "is not empty" in result.stderr
    assert "key.file_exists" not in result.stderr + result.stdout
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before


@pytest.mark.parametrize("count", ["0", "-1"])
def test_demo_count_must_be_positive(tmp_path: Path, count: str) -> None:
    result = run("demo", "--count", count, "--dir", tmp_path / "d")
    assert result.exit_code == 2
    assert "--count" in result.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(("count", "entry"), [(1, 0), (5, 4), (17, 16)])
def test_small_demo_discloses_its_last_entry(tmp_path: Path, count: int, entry: int) -> None:
    result = run("demo", "--count", str(count), "--dir", tmp_path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"disclose ua.manifest --entry {entry} -o p{entry}.proof" in result.stdout
    assert f"check p{entry}.proof --exchange xch/" in result.stdout
    assert (tmp_path / f"p{entry}.proof").is_file()
    assert "The exchange is agreed" in result.stdout


def test_steps_disclose_entry_17_from_18_prisoners_on() -> None:
    assert steps(1000) == STEPS
    assert steps(18) == STEPS
    commands = [c for _, cs in steps(3) for c in cs]
    assert "disclose ua.manifest --entry 2 -o p2.proof" in commands
    assert "check p2.proof --exchange xch/" in commands
    assert not any("17" in c for c in commands)


# ---------------------------------------------------------------------------------------
# the README's test command is what CI runs, and it needs no system-wide pip install


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = re.findall(r"^    (\S.*)$", section, flags=re.MULTILINE)
    (command,) = [c for c in commands if "tox" in c]
    return command


def test_ci_runs_exactly_the_readme_test_command() -> None:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    assert body[0] == "set -euo pipefail"
    assert body[1] == 'cd "$(dirname "$0")/.."'
    assert body[2:] == [_readme_test_command()]


def test_readme_test_command_installs_into_a_venv() -> None:
    # PEP 668: a system Python refuses "python3 -m pip install" (externally managed)
    command = _readme_test_command()
    assert command.startswith("python3 -m venv .venv && ")
    assert "python3 -m pip" not in command
    assert re.search(r"(^|\s)pip ", command) is None


def test_sigterm_unwinds_like_an_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    from swapproto import cli
    from swapproto.cli._output import Terminated

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, cli._exit_on_sigterm)
        with pytest.raises(Terminated):  # unwinds through every finally, as Ctrl-C does
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)

    def terminated() -> None:  # outside any command: main() still exits 128 + SIGTERM
        raise Terminated

    monkeypatch.setattr(cli, "app", terminated)
    try:
        with pytest.raises(SystemExit) as info:
            cli.main()
    finally:
        signal.signal(signal.SIGTERM, previous)  # main() installed its handler
    assert info.value.code == 128 + signal.SIGTERM


def test_demo_json_prints_one_object_with_every_step_and_the_report(tmp_path: Path) -> None:
    result = run("demo", "--count", "4", "--dir", tmp_path / "d", "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    out = json.loads(line)
    assert out["ok"] is True
    assert out["count"] == 4
    assert out["dir"] == str(tmp_path / "d")
    expected = [f"swapproto {c}" for _, commands in steps(4) for c in commands]
    assert [s["command"] for s in out["steps"]] == expected
    assert all(s["exit_code"] == 0 and isinstance(s["output"], dict) for s in out["steps"])
    assert out["report"] == out["steps"][-1]["output"]
    assert out["report"]["state"] == "agreed"
    assert out["report"]["ok"] is True


def test_demo_json_in_a_temporary_dir_names_no_dir() -> None:
    result = run("demo", "--count", "1", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["dir"] is None
    assert out["ok"] is True


def test_demo_json_stops_at_a_failing_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = [("Keys", ["keygen ua -o keys/"]), ("Broken", ["verify missing/"]), *STEPS[1:]]
    # the package re-exports the command under the module's name: patch the module itself
    monkeypatch.setattr(sys.modules["swapproto.cli.demo"], "steps", lambda _count: broken)
    result = run("demo", "--count", "2", "--dir", tmp_path / "d", "--json")
    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert out["report"] is None
    assert [s["exit_code"] for s in out["steps"]] == [0, 2]
    assert out["steps"][-1]["output"]["ok"] is False


def test_demo_json_input_error_is_json(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep\n", encoding="utf-8")
    result = run("demo", "--count", "2", "--dir", tmp_path, "--json")
    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert out["error"]["code"] == "input.invalid"
