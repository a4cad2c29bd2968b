"""The ``swapproto`` command line: the documented session, exit codes, JSON output."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from helpers import run
from swapproto import __version__, records
from swapproto.cli import manifest as cli_manifest
from swapproto.demo_data import PRISONER_COLUMNS, prisoner_rows, write_prisoner_csv
from swapproto.encoding import DecodeLimits, decode, encode
from swapproto.keys import load_signing_key
from swapproto.manifest import decode_entry
from swapproto.manifest_file import build_manifest_file
from swapproto.tabular import RowReport, iter_records, open_table

CREATED_AT = "1700000000"
DOCUMENTED_COLUMNS = (
    "person_id", "family_name", "given_names", "date_of_birth", "sex", "service_number",
    "rank", "unit", "citizenship", "categories", "place_of_detention",
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# helpers


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def run_json(*args: str | Path, exit_code: int = 0) -> dict[str, Any]:
    """Run with --json; stdout must be exactly one JSON object."""
    result = run(*args, "--json")
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert result.stdout.count("\n") == 1
    obj = json.loads(result.stdout)
    assert isinstance(obj, dict)
    assert obj["ok"] is (exit_code == 0)
    return obj


def error_code(*args: str | Path, exit_code: int) -> str:
    """Run with --json, expect failure, return the error code."""
    obj = run_json(*args, exit_code=exit_code)
    assert set(obj) == {"ok", "error"}
    assert set(obj["error"]) == {"code", "message"}
    code = obj["error"]["code"]
    assert isinstance(code, str)
    return code


def write_prisoners(path: Path, n: int = 50) -> list[dict[str, str]]:
    """Write ``n`` generated prisoners as CSV; return the rows written."""
    buf = io.StringIO()
    write_prisoner_csv(buf, n)
    text = buf.getvalue()
    path.write_text(text, encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def jsonable(value: Any) -> Any:
    """A canonical value as ``manifest check --json`` prints it (bytes as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def expected_record(kind: str, row: dict[str, str]) -> Any:
    return jsonable(records.canonical_from_row(kind, row))


def entry_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each leaf in a private-view manifest file."""
    pos = 6  # magic "SPMF" 0x01 and the view byte
    pos += 4 + int.from_bytes(data[pos : pos + 4], "big")
    spans = []
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        spans.append((pos + 4, pos + 4 + length))
        pos += 4 + length
    assert pos == len(data)
    return spans


def flip(path: Path, offset: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    out = path.with_name("tampered-" + path.name)
    out.write_bytes(bytes(data))
    return out


def listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


class Session:
    """A party "ua" with a key pair, 50 prisoners and a signed manifest, in tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = Path("keys/ua.key")
        self.pub = Path("keys/ua.pub")
        self.csv = Path("prisoners.csv")
        self.manifest = Path("ua.manifest")
        ok("keygen", "ua", "-o", "keys")
        self.rows = write_prisoners(root / self.csv)
        self.built = run_json(
            "manifest", "build", "--kind", "prisoner", "--from", self.csv,
            "--key", self.key, "-o", self.manifest, "--created-at", CREATED_AT,
        )  # fmt: skip


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.chdir(tmp_path)
    return Session(tmp_path)


@pytest.fixture
def other_pub(session: Session) -> Path:
    """Another party's public key."""
    ok("keygen", "ru", "-o", "keys")
    return Path("keys/ru.pub")


# ---------------------------------------------------------------------------------------
# the documented session


def test_documented_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = write_prisoners(tmp_path / "prisoners.csv", 50)
    assert tuple(rows[0]) == PRISONER_COLUMNS == DOCUMENTED_COLUMNS
    assert any("age_18_25" in row["categories"].split(";") for row in rows)

    ok("keygen", "ua", "-o", "keys/")
    key, pub = tmp_path / "keys" / "ua.key", tmp_path / "keys" / "ua.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert pub.is_file()

    ok("manifest", "build", "--kind", "prisoner", "--from", "prisoners.csv",
       "--key", "keys/ua.key", "-o", "ua.manifest")  # fmt: skip
    assert (tmp_path / "ua.manifest").is_file()

    verified = ok("manifest", "verify", "ua.manifest", "--pub", "keys/ua.pub")
    assert "OK" in verified.stdout
    assert "full" in verified.stdout

    shown = json.loads(ok("manifest", "show", "ua.manifest", "--json").stdout)
    assert shown["ok"] is True
    assert shown["header"]["count"] == 50
    assert shown["header"]["kind"] == "prisoner"
    assert shown["header"]["issuer"] == "ua"

    ok("manifest", "disclose", "ua.manifest", "--entry", "17", "-o", "e17.proof")
    assert (tmp_path / "e17.proof").is_file()

    checked = ok("manifest", "check", "e17.proof", "--pub", "keys/ua.pub")
    assert "OK" in checked.stdout
    assert rows[17]["person_id"] in checked.stdout
    assert rows[16]["person_id"] not in checked.stdout

    entry = run_json("manifest", "check", "e17.proof", "--pub", "keys/ua.pub")
    assert entry["kind"] == "disclosure"
    assert entry["header"] == shown["header"]
    assert entry["entries"] == [{"index": 17, "record": expected_record("prisoner", rows[17])}]


# ---------------------------------------------------------------------------------------
# help, version, demo

SUBCOMMANDS = ("build", "verify", "show", "disclose", "check", "amend", "blind")
COMMANDS = [["keygen"], ["version"], ["demo"], ["manifest"]]
COMMANDS += [["manifest", sub] for sub in SUBCOMMANDS]


@pytest.mark.parametrize("command", [[], *COMMANDS], ids=lambda c: " ".join(c) or "swapproto")
def test_help(command: list[str]) -> None:
    result = ok(*command, "--help")
    assert "Usage: swapproto " + " ".join(command) in " ".join(result.stdout.split())


def test_top_level_help_lists_commands_and_exit_codes() -> None:
    text = ok("--help").stdout
    for name in ("keygen", "manifest", "version", "demo"):
        assert name in text
    assert "Exit codes" in text


def test_manifest_help_lists_subcommands() -> None:
    text = ok("manifest", "--help").stdout
    for name in SUBCOMMANDS:
        assert name in text


def test_no_arguments_shows_help_with_usage_exit_code() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Usage" in result.stdout + result.stderr


def test_version() -> None:
    assert ok("version").stdout == __version__ + "\n"


def test_version_json() -> None:
    assert json.loads(ok("version", "--json").stdout) == {"ok": True, "version": __version__}


@pytest.mark.parametrize(
    "args",
    [
        ["manifest", "build", "--kind", "prisoner"],  # required options missing
        ["manifest", "verify", "--bogus"],
        ["manifest", "nosuchcommand"],
        ["keygen"],  # NAME missing
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------
# JSON output of every command


def test_every_command_prints_one_json_object(session: Session) -> None:
    gen = run_json("keygen", "extra", "-o", "keys")
    assert gen["name"] == "extra"
    assert gen["algorithm"] == "ed25519"
    assert gen["encrypted"] is False
    assert len(gen["key_id"]) == 64
    assert Path(gen["private_key"]) == Path("keys/extra.key")
    assert Path(gen["public_key"]) == Path("keys/extra.pub")

    built = session.built
    assert built["file"] == "ua.manifest"
    assert built["warnings"] == []
    header = built["header"]
    assert header["count"] == 50
    assert header["created_at"] == int(CREATED_AT)
    assert header["version"] == 1
    assert header["previous"] is None
    assert header["list"] == header["kind"] == "prisoner"
    assert header["issuer"] == "ua"

    verified = run_json("manifest", "verify", session.manifest, "--pub", session.pub)
    assert (verified["mode"], verified["view"]) == ("full", "private")
    assert verified["header"] == header
    pub = ("--pub", session.pub)
    structural = run_json("manifest", "verify", "--structural", session.manifest, *pub)
    assert structural["mode"] == "structural"

    shown = run_json("manifest", "show", session.manifest, "--pub", session.pub)
    assert shown["signature_checked"] is True
    assert shown["header"] == header
    key_id = json.loads(session.pub.read_text(encoding="utf-8"))["key_id"]
    assert shown["signers"] == [key_id]

    disclosed = run_json(
        "manifest", "disclose", session.manifest, "--entry", "9", "--entry", "2", "-o", "two.proof"
    )
    assert disclosed["entries"] == [2, 9]
    assert disclosed["file"] == "two.proof"
    assert disclosed["bytes"] == Path("two.proof").stat().st_size

    checked = run_json("manifest", "check", "two.proof", "--pub", session.pub)
    assert [e["index"] for e in checked["entries"]] == [2, 9]
    assert [e["record"] for e in checked["entries"]] == [
        expected_record("prisoner", session.rows[2]),
        expected_record("prisoner", session.rows[9]),
    ]

    amended = run_json(
        "manifest", "amend", session.manifest, "--key", session.key, "-o", "v2.manifest",
        "--amendment", "v2.amend", "--remove", "0:duplicate", "--created-at", CREATED_AT,
    )  # fmt: skip
    assert amended["kind"] == "amendment"
    assert amended["mode"] == "revise"
    assert amended["file"] == "v2.manifest"
    assert amended["amendment_file"] == "v2.amend"

    assert Path("v2.amend").is_file()  # its check: test_amend_*_check_of_the_amendment_file

    blinded = run_json("manifest", "blind", session.manifest, "--pub", session.pub, "-o", "b.mf")
    assert blinded == {"ok": True, "file": "b.mf", "count": 50}


def test_json_mode_prints_nothing_on_stderr(session: Session) -> None:
    result = run("manifest", "verify", session.manifest, "--pub", session.pub, "--json")
    assert result.exit_code == 0
    assert result.stderr == ""


# ---------------------------------------------------------------------------------------
# verification failures: exit 1


def _tampered_salt(manifest: Path, index: int) -> Path:
    data = manifest.read_bytes()
    start, end = entry_spans(data)[index]
    leaf = data[start:end]
    salt_at = leaf.index(decode_entry(leaf).salt)
    return flip(manifest, start + salt_at + 5)


def test_flipped_salt_byte_fails_full_verification(session: Session) -> None:
    bad = _tampered_salt(session.manifest, 17)
    result = run("manifest", "verify", bad, "--pub", session.pub)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "verify.root_mismatch" in result.stderr
    assert error_code("manifest", "verify", bad, "--pub", session.pub, exit_code=1) == (
        "verify.root_mismatch"
    )


def test_flipped_salt_byte_fails_structural_verification(session: Session) -> None:
    bad = _tampered_salt(session.manifest, 0)
    code = error_code("manifest", "verify", bad, "--pub", session.pub, "--structural", exit_code=1)
    assert code == "verify.root_mismatch"


def test_malformed_entry_fails_full_verification(session: Session) -> None:
    start, _ = entry_spans(session.manifest.read_bytes())[3]
    bad = flip(session.manifest, start)  # the entry's map header
    code = error_code("manifest", "verify", bad, "--pub", session.pub, exit_code=1)
    assert code == "verify.manifest_invalid"
    code = error_code("manifest", "verify", bad, "--pub", session.pub, "--structural", exit_code=1)
    assert code == "verify.root_mismatch"


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_any_flipped_record_byte_fails_verification(session: Session, where: str) -> None:
    data = session.manifest.read_bytes()
    spans = entry_spans(data)
    start, end = {"first": spans[0], "middle": spans[25], "last": spans[-1]}[where]
    bad = flip(session.manifest, (start + end) // 2)
    assert run("manifest", "verify", bad, "--pub", session.pub).exit_code == 1


def test_trailing_garbage_fails_verification(session: Session) -> None:
    bad = Path("trailing.manifest")
    bad.write_bytes(session.manifest.read_bytes() + b"\0")
    code = error_code("manifest", "verify", bad, "--pub", session.pub, exit_code=1)
    assert code == "verify.manifest_invalid"


def test_manifest_verified_with_another_partys_key(session: Session, other_pub: Path) -> None:
    code = error_code("manifest", "verify", session.manifest, "--pub", other_pub, exit_code=1)
    assert code.startswith("verify.")
    code = error_code("manifest", "show", session.manifest, "--pub", other_pub, exit_code=1)
    assert code.startswith("verify.")


def test_disclosure_checked_with_another_partys_key(session: Session, other_pub: Path) -> None:
    ok("manifest", "disclose", session.manifest, "--entry", "17", "-o", "e17.proof")
    result = run("manifest", "check", "e17.proof", "--pub", other_pub)
    assert result.exit_code == 1
    assert "error [verify." in result.stderr
    code = error_code("manifest", "check", "e17.proof", "--pub", other_pub, exit_code=1)
    assert code.startswith("verify.")


def test_disclosure_with_an_altered_record_fails(session: Session) -> None:
    ok("manifest", "disclose", session.manifest, "--entry", "17", "-o", "e17.proof")
    data = Path("e17.proof").read_bytes()
    real, fake = session.rows[17]["person_id"].encode(), session.rows[18]["person_id"].encode()
    assert data.count(real) == 1
    Path("forged.proof").write_bytes(data.replace(real, fake))
    code = error_code("manifest", "check", "forged.proof", "--pub", session.pub, exit_code=1)
    assert code.startswith("verify.")


@pytest.mark.parametrize("tampered", [17, 3])
def test_disclose_refuses_a_manifest_whose_entries_miss_its_root(
    session: Session, tampered: int
) -> None:
    # whether or not the disclosed entry is the altered one, the root does not match
    bad = _tampered_salt(session.manifest, tampered)
    before = listing(session.root)
    result = run("manifest", "disclose", bad, "--entry", "17", "-o", "bad.proof")
    assert result.exit_code == 1
    assert "verify.root_mismatch" in result.stderr
    args = ("manifest", "disclose", bad, "--entry", "17", "-o", "bad.proof")
    assert error_code(*args, exit_code=1) == "verify.root_mismatch"
    assert listing(session.root) == before


def test_check_needs_a_known_file_format(session: Session) -> None:
    code = error_code("manifest", "check", session.csv, "--pub", session.pub, exit_code=2)
    assert code == "input.invalid"


@pytest.mark.parametrize("entry", ["50", "-1"])
def test_disclose_entry_out_of_range_is_a_usage_error(session: Session, entry: str) -> None:
    result = run("manifest", "disclose", session.manifest, "--entry", entry, "-o", "x.proof")
    assert result.exit_code == 2
    assert not Path("x.proof").exists()
    args = ("manifest", "disclose", session.manifest, "--entry", "3", "--entry", entry)
    obj = run_json(*args, "-o", "x.proof", exit_code=2)
    assert obj["error"]["code"] == "input.invalid"
    assert f"--entry {entry} is outside a manifest of 50 entries" in obj["error"]["message"]
    assert not Path("x.proof").exists()


def test_disclose_from_a_blinded_view_is_a_usage_error(session: Session) -> None:
    ok("manifest", "blind", session.manifest, "--pub", session.pub, "-o", "b.manifest")
    before = listing(session.root)
    args = ("manifest", "disclose", "b.manifest", "--entry", "3", "-o", "x.proof")
    assert error_code(*args, exit_code=2) == "input.invalid"
    assert "blinded" in run(*args).stderr
    assert listing(session.root) == before


def _not_a_proof(session: Session, case: str) -> bytes:
    if case == "disclosure-with-trailing-byte":
        ok("manifest", "disclose", session.manifest, "--entry", "3", "-o", "e3.proof")
        return Path("e3.proof").read_bytes() + b"\x00"
    values: dict[str, object] = {
        "unknown-format": {"format": "swapproto-other/1", "header": b"x"},
        "format-not-a-string": {"format": 1},
        "no-format": {"header": b"x", "leaves": []},
        "not-a-map": ["swapproto-amendment/1"],
        "format-string-only": "swapproto-disclosure/1",
    }
    if case in values:
        return encode(values[case])
    return {"empty": b"", "too-deep": b"\x91" * 40 + b"\x90", "text": b"hello\n"}[case]


@pytest.mark.parametrize(
    "case",
    [
        "disclosure-with-trailing-byte", "unknown-format", "format-not-a-string", "no-format",
        "not-a-map", "format-string-only", "empty", "too-deep", "text",
    ],
)  # fmt: skip
def test_check_of_a_file_that_is_neither_format(session: Session, case: str) -> None:
    Path("odd.proof").write_bytes(_not_a_proof(session, case))
    obj = run_json("manifest", "check", "odd.proof", "--pub", session.pub, exit_code=2)
    assert obj["error"]["code"] == "input.invalid"
    assert "neither a disclosure nor an amendment" in obj["error"]["message"]


def test_check_dispatches_on_the_format_member_not_on_a_prefix(session: Session) -> None:
    # an amendment whose 'format' says disclosure is checked, and refused, as a disclosure
    _amend_revise(session)
    value = decode(Path("v2.amend").read_bytes())
    assert isinstance(value, dict)
    assert value["format"] == "swapproto-amendment/1"
    Path("odd.proof").write_bytes(encode({**value, "format": "swapproto-disclosure/1"}))
    code = error_code("manifest", "check", "odd.proof", "--pub", session.pub, exit_code=1)
    assert code == "verify.disclosure_invalid"


def test_check_refuses_an_oversized_file_before_decoding(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("manifest", "disclose", session.manifest, "--entry", "3", "-o", "e3.proof")
    size = Path("e3.proof").stat().st_size
    monkeypatch.setattr(cli_manifest, "_PROOF_LIMITS", DecodeLimits(max_input=size - 1))
    obj = run_json("manifest", "check", "e3.proof", "--pub", session.pub, exit_code=2)
    assert obj["error"]["code"] == "input.invalid"
    assert "larger than" in obj["error"]["message"]


def test_disclose_entry_out_of_range_writes_nothing(session: Session) -> None:
    before = listing(session.root)
    result = run("manifest", "disclose", session.manifest, "--entry", "50", "-o", "x.proof")
    assert result.exit_code != 0
    assert listing(session.root) == before


# ---------------------------------------------------------------------------------------
# input errors: exit 2, nothing written


def test_bad_csv_row_writes_nothing(session: Session) -> None:
    rows = [dict(r) for r in session.rows[:5]]
    rows[2]["sex"] = "robot"
    rows[4]["date_of_birth"] = "1990-13-01"
    write_csv(Path("bad.csv"), rows)
    before = listing(session.root)
    args = ("manifest", "build", "--kind", "prisoner", "--from", "bad.csv",
            "--key", session.key, "-o", "bad.manifest")  # fmt: skip
    result = run(*args)
    assert result.exit_code == 2
    assert "input.invalid_record" in result.stderr
    assert "line 4" in result.stderr
    assert "line 6" in result.stderr
    obj = run_json(*args, exit_code=2)
    assert obj["error"]["code"] == "input.invalid_record"
    assert "2 bad row(s)" in obj["error"]["message"]
    assert listing(session.root) == before  # no manifest, no temporary file
    assert listing(session.root / "keys") == {"ua.key", "ua.pub"}


def test_bad_row_does_not_replace_an_existing_manifest_with_force(session: Session) -> None:
    original = session.manifest.read_bytes()
    rows = [dict(r) for r in session.rows[:3]]
    rows[1]["citizenship"] = "Ukraine"
    write_csv(Path("bad.csv"), rows)
    before = listing(session.root)
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", "bad.csv", "--key", session.key,
        "-o", session.manifest, "--force", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid_record"
    assert session.manifest.read_bytes() == original
    assert listing(session.root) == before


def test_non_utf8_csv_is_an_input_error(session: Session) -> None:
    Path("cp1251.csv").write_bytes(session.csv.read_text(encoding="utf-8").encode("cp1251"))
    before = listing(session.root)
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", "cp1251.csv",
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"
    assert listing(session.root) == before


def test_missing_input_file(session: Session) -> None:
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", "nope.csv",
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert code == "input.io"
    assert not Path("x.manifest").exists()


def test_missing_manifest_file(session: Session) -> None:
    code = error_code("manifest", "verify", "nope.manifest", "--pub", session.pub, exit_code=2)
    assert code == "input.io"


def test_unknown_kind(session: Session) -> None:
    code = error_code(
        "manifest", "build", "--kind", "hostage", "--from", session.csv,
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert code == "input.unknown_kind"
    assert not Path("x.manifest").exists()


def test_build_refuses_to_overwrite_unless_forced(session: Session) -> None:
    original = session.manifest.read_bytes()
    args = ("manifest", "build", "--kind", "prisoner", "--from", session.csv,
            "--key", session.key, "-o", session.manifest, "--created-at", "1700000001")  # fmt: skip
    assert error_code(*args, exit_code=2) == "input.io"
    assert session.manifest.read_bytes() == original
    rebuilt = run_json(*args, "--force")
    assert rebuilt["header"]["created_at"] == 1700000001
    assert session.manifest.read_bytes() != original


def test_duplicate_record_id_is_refused(session: Session) -> None:
    rows = [dict(r) for r in session.rows[:3]]
    rows[2]["person_id"] = rows[0]["person_id"]
    write_csv(Path("dup.csv"), rows)
    obj = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", "dup.csv",
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert obj["error"]["code"] == "input.invalid_record"
    assert "line 4: record id" in obj["error"]["message"]
    assert "appears on an earlier line" in obj["error"]["message"]
    assert not Path("x.manifest").exists()


def test_a_duplicate_id_does_not_hide_other_bad_rows(session: Session) -> None:
    rows = [dict(r) for r in session.rows[:5]]
    rows[1]["date_of_birth"] = "1980-02-30"
    rows[2]["sex"] = "alien"
    rows[3]["person_id"] = rows[0]["person_id"]
    rows[4]["person_id"] = rows[0]["person_id"]
    write_csv(Path("bad.csv"), rows)
    result = run("manifest", "build", "--kind", "prisoner", "--from", "bad.csv",
                 "--key", session.key, "-o", "x.manifest")  # fmt: skip
    assert result.exit_code == 2
    text = " ".join(result.stderr.split())
    for line in (3, 4, 5, 6):
        assert f"line {line}:" in text
    assert "4 bad row(s)" in text


def test_possible_duplicate_person_is_a_warning(session: Session) -> None:
    rows = [dict(r) for r in session.rows[:3]]
    rows[2] = {**rows[0], "person_id": "OTHER-1"}
    write_csv(Path("twins.csv"), rows)
    built = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", "twins.csv",
        "--key", session.key, "-o", "t.manifest",
    )  # fmt: skip
    (warning,) = built["warnings"]
    assert warning["entries"] == [0, 2]
    assert warning["code"] == "possible_duplicate_person"


@pytest.mark.parametrize(("twins", "shown"), [(20, 20), (25, 20)])
def test_build_shows_at_most_20_warnings_and_json_lists_all(
    session: Session, twins: int, shown: int
) -> None:
    rows = [dict(r) for r in session.rows]
    rows += [{**rows[i], "person_id": f"TWIN-{i}"} for i in range(twins)]
    write_csv(Path("twins.csv"), rows)
    args = ("manifest", "build", "--kind", "prisoner", "--from", "twins.csv", "--key", session.key)
    text = ok(*args, "-o", "h.manifest").stdout
    lines = [ln for ln in text.splitlines() if ln.startswith("warning ")]
    assert len(lines) == shown + (twins > shown)
    if twins > shown:
        assert lines[-1] == f"warning … and {twins - shown} more (see --json)"
    else:
        assert "more (see --json)" not in text
    built = run_json(*args, "-o", "j.manifest")
    assert len(built["warnings"]) == twins
    assert {w["code"] for w in built["warnings"]} == {"possible_duplicate_person"}


def test_negative_created_at(session: Session) -> None:
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv,
        "--key", session.key, "-o", "x.manifest", "--created-at", "-1", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"


def test_created_at_beyond_the_signed_64_bit_range(session: Session) -> None:
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv,
        "--key", session.key, "-o", "x.manifest", "--created-at", str(2**63), exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"
    assert not Path("x.manifest").exists()


@pytest.mark.parametrize("option", ["--list", "--issuer"])
@pytest.mark.parametrize(
    "label",
    ["", " ", "a\nb", "a\x00b", "\x1b[31mred", "\u202eab", "x" * 201, " a", "a ", "e\u0301"],
    ids=["empty", "space", "newline", "nul", "esc", "bidi", "long", "lead", "trail", "nfd"],
)
def test_bad_header_labels_are_refused(session: Session, option: str, label: str) -> None:
    before = listing(session.root)
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv,
        "--key", session.key, "-o", "x.manifest", option, label, exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"
    assert listing(session.root) == before


def test_good_header_labels_are_kept(session: Session) -> None:
    built = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv, "--key", session.key,
        "-o", "x.manifest", "--list", "Полонені 2024", "--issuer", "x" * 200,
    )  # fmt: skip
    assert built["header"]["list"] == "Полонені 2024"
    assert built["header"]["issuer"] == "x" * 200


# ---------------------------------------------------------------------------------------
# hostile text in files from the counterparty reaches the terminal as plain text


def _hostile_manifest(session: Session, out: str) -> None:
    """A manifest whose (library-accepted) labels hold markup (controls are refused)."""
    with open_table(session.csv) as text:
        rows = iter_records(text, kind="prisoner", report=RowReport("p"))
        build_manifest_file(
            Path(out), rows, kind="prisoner", list_name="[red]red[bold]x",
            issuer="[/x]", keys=[load_signing_key(session.key, None)], created_at=1,
        )  # fmt: skip


def test_show_renders_hostile_labels_as_plain_text(session: Session) -> None:
    _hostile_manifest(session, "h.manifest")
    for args in (("show", "h.manifest"), ("verify", "h.manifest", "--pub", session.pub)):
        out = ok("manifest", *args).stdout
        assert "[/x]" in out  # shown, not read as markup (which used to crash)
        assert "[red]red[bold]x" in out


def test_check_and_disclose_render_hostile_text_as_plain_text(session: Session) -> None:
    _hostile_manifest(session, "h.manifest")
    out = ok("manifest", "disclose", "h.manifest", "--entry", "1", "-o", "[red]e1.proof").stdout
    assert "wrote [red]e1.proof" in out
    out = ok("manifest", "check", "[red]e1.proof", "--pub", session.pub).stdout
    assert "OK: disclosure [red]e1.proof verified" in out
    assert "[/x]" in out
    assert "\x1b" not in out


# ---------------------------------------------------------------------------------------
# keys


def test_keygen_writes_private_key_0600_and_public_key(tmp_path: Path) -> None:
    info = run_json("keygen", "ua", "-o", tmp_path / "nested" / "keys")
    key = Path(info["private_key"])
    pub = Path(info["public_key"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pub.stat().st_mode) == 0o644
    doc = json.loads(pub.read_text(encoding="utf-8"))
    assert doc["key_id"] == info["key_id"]
    assert doc["name"] == "ua"
    assert b"PRIVATE KEY" in key.read_bytes()
    assert listing(key.parent) == {"ua.key", "ua.pub"}  # no temporary files left


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask_000")
def test_keygen_creates_directories_0700_whatever_the_umask(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    ok("keygen", "ua", "-o", shared / "keys" / "ua")
    assert stat.S_IMODE((shared / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "keys" / "ua").stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # an existing directory is left alone
    assert stat.S_IMODE((shared / "keys" / "ua" / "ua.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("below", ["", "sub"])
def test_keygen_into_a_regular_file_is_an_input_error(tmp_path: Path, below: str) -> None:
    (tmp_path / "afile").write_text("mine\n", encoding="utf-8")
    obj = run_json("keygen", "q", "-o", tmp_path / "afile" / below, exit_code=2)
    assert obj["error"]["code"] == "input.invalid"
    assert obj["error"]["message"] == f"{tmp_path / 'afile'} exists and is not a directory"
    assert "Errno" not in obj["error"]["message"]
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine\n"
    assert listing(tmp_path) == {"afile"}


def test_a_public_key_given_for_key_is_named(session: Session) -> None:
    args = ("manifest", "build", "--kind", "prisoner", "--from", session.csv)
    result = run(*args, "--key", session.pub, "-o", "x.manifest")
    assert result.exit_code == 2
    expected = "keys/ua.pub is a public key file; give the private key (NAME.key)"
    assert f"[key.bad_format] {expected}" in result.stderr
    assert "chmod" not in result.stderr
    obj = run_json(*args, "--key", session.pub, "-o", "x.manifest", exit_code=2)
    assert obj["error"] == {"code": "key.bad_format", "message": expected}
    assert not Path("x.manifest").exists()


def test_a_private_key_given_for_pub_is_named(session: Session) -> None:
    result = run("manifest", "verify", session.manifest, "--pub", session.key)
    assert result.exit_code == 2
    expected = "keys/ua.key is a private key file; give the public key (NAME.pub)"
    assert f"[key.bad_format] {expected}" in result.stderr
    assert "JSONDecodeError" not in result.stderr
    assert "PRIVATE KEY" not in result.stderr


def test_keygen_human_output(tmp_path: Path) -> None:
    text = ok("keygen", "ua", "-o", tmp_path).stdout
    assert "0600" in text
    assert "ua.key" in text


def test_keygen_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    first = run_json("keygen", "ua", "-o", tmp_path)
    key_bytes = (tmp_path / "ua.key").read_bytes()
    result = run("keygen", "ua", "-o", tmp_path)
    assert result.exit_code == 2
    assert "key.file_exists" in result.stderr
    assert error_code("keygen", "ua", "-o", tmp_path, exit_code=2) == "key.file_exists"
    assert (tmp_path / "ua.key").read_bytes() == key_bytes
    second = run_json("keygen", "ua", "-o", tmp_path, "--force")
    assert second["key_id"] != first["key_id"]
    assert (tmp_path / "ua.key").read_bytes() != key_bytes
    assert stat.S_IMODE((tmp_path / "ua.key").stat().st_mode) == 0o600
    assert listing(tmp_path) == {"ua.key", "ua.pub"}


def test_keygen_refuses_when_only_the_public_key_exists(tmp_path: Path) -> None:
    (tmp_path / "ua.pub").write_text("x", encoding="utf-8")
    assert error_code("keygen", "ua", "-o", tmp_path, exit_code=2) == "key.file_exists"
    assert not (tmp_path / "ua.key").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "x" * 65])
def test_keygen_rejects_bad_names(tmp_path: Path, name: str) -> None:
    assert error_code("keygen", name, "-o", tmp_path, exit_code=2) == "key.bad_format"
    assert not list(tmp_path.rglob("*.key"))


def test_keygen_hybrid(tmp_path: Path) -> None:
    info = run_json("keygen", "pq", "-o", tmp_path, "--hybrid")
    assert info["algorithm"] != "ed25519"
    assert "ml" in info["algorithm"].lower()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_insecure_key_file_is_refused(session: Session, mode: int) -> None:
    session.key.chmod(mode)
    before = listing(session.root)
    result = run("manifest", "build", "--kind", "prisoner", "--from", session.csv,
                 "--key", session.key, "-o", "x.manifest")  # fmt: skip
    assert result.exit_code == 2
    assert "key.insecure_permissions" in result.stderr
    assert "chmod 600" in result.stderr
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv,
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert code == "key.insecure_permissions"
    assert listing(session.root) == before


def test_missing_key_file(session: Session) -> None:
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv,
        "--key", "keys/none.key", "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert code == "input.io"


def test_passphrase_env_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UA_PASS", "correct horse battery staple")
    monkeypatch.setenv("WRONG_PASS", "incorrect horse")
    info = run_json("keygen", "ua", "-o", "keys", "--passphrase-env", "UA_PASS")
    assert info["encrypted"] is True
    assert b"ENCRYPTED" in Path("keys/ua.key").read_bytes()
    write_prisoners(tmp_path / "p.csv", 5)
    build = ("manifest", "build", "--kind", "prisoner", "--from", "p.csv",
             "--key", "keys/ua.key")  # fmt: skip

    built = run_json(*build, "-o", "a.manifest", "--passphrase-env", "UA_PASS")
    assert built["header"]["count"] == 5
    ok("manifest", "verify", "a.manifest", "--pub", "keys/ua.pub")

    assert error_code(*build, "-o", "b.manifest", exit_code=2) == "key.bad_passphrase"
    code = error_code(*build, "-o", "c.manifest", "--passphrase-env", "WRONG_PASS", exit_code=2)
    assert code == "key.bad_passphrase"
    code = error_code(*build, "-o", "d.manifest", "--passphrase-env", "UNSET_VAR_X", exit_code=2)
    assert code == "input.invalid"
    assert not any(Path(n).exists() for n in ("b.manifest", "c.manifest", "d.manifest"))


def test_passphrase_file_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pass.txt").write_text("s3cret phrase\nignored second line\n", encoding="utf-8")
    monkeypatch.setenv("SAME_PASS", "s3cret phrase")
    run_json("keygen", "ua", "-o", "keys", "--passphrase-file", "pass.txt")
    write_prisoners(tmp_path / "p.csv", 3)
    build = ("manifest", "build", "--kind", "prisoner", "--from", "p.csv", "--key", "keys/ua.key")
    run_json(*build, "-o", "a.manifest", "--passphrase-env", "SAME_PASS")
    code = error_code(
        *build, "-o", "b.manifest", "--passphrase-env", "SAME_PASS",
        "--passphrase-file", "pass.txt", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"


def test_passphrase_for_an_unencrypted_key_is_refused(session: Session) -> None:
    Path("pass.txt").write_text("superfluous\n", encoding="utf-8")
    code = error_code(
        "manifest", "build", "--kind", "prisoner", "--from", session.csv, "--key", session.key,
        "-o", "x.manifest", "--passphrase-file", "pass.txt", exit_code=2,
    )  # fmt: skip
    assert code == "key.bad_passphrase"


def test_non_utf8_passphrase_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "pass.bin").write_bytes(b"\xff\xfe\n")
    code = error_code(
        "keygen", "ua", "-o", tmp_path, "--passphrase-file", tmp_path / "pass.bin", exit_code=2
    )
    assert code == "input.invalid"


def test_non_utf8_passphrase_env_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAD_PASS", "\udcff")  # the byte 0xff, as POSIX decodes it
    code = error_code("keygen", "ua", "-o", tmp_path, "--passphrase-env", "BAD_PASS", exit_code=2)
    assert code == "input.invalid"
    assert not (tmp_path / "ua.key").exists()


def test_passphrase_file_line_over_64_kib_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "pass.txt").write_bytes(b"x" * (64 * 1024 + 1))
    code = error_code(
        "keygen", "ua", "-o", tmp_path, "--passphrase-file", tmp_path / "pass.txt", exit_code=2
    )
    assert code == "input.invalid"
    assert not (tmp_path / "ua.key").exists()


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_passphrase_file_first_line_is_the_whole_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: bytes
) -> None:
    # only CR / LF end the line: a form feed or U+2028 inside is part of the passphrase
    phrase = "ab\x0ccd\u2028ef"
    monkeypatch.chdir(tmp_path)
    Path("pass.txt").write_bytes(phrase.encode() + end + b"second line")
    monkeypatch.setenv("SAME", phrase)
    monkeypatch.setenv("CUT", "ab")
    ok("keygen", "ua", "-o", "keys", "--passphrase-file", "pass.txt")
    write_prisoners(tmp_path / "p.csv", 2)
    build = ("manifest", "build", "--kind", "prisoner", "--from", "p.csv", "--key", "keys/ua.key")
    run_json(*build, "-o", "a.manifest", "--passphrase-env", "SAME")
    code = error_code(*build, "-o", "b.manifest", "--passphrase-env", "CUT", exit_code=2)
    assert code == "key.bad_passphrase"


# ---------------------------------------------------------------------------------------
# show


def test_show_without_pub_says_the_signature_is_not_checked(session: Session) -> None:
    shown = run_json("manifest", "show", session.manifest)
    assert shown["signature_checked"] is False
    assert shown["view"] == "private"
    assert shown["header"] == session.built["header"]
    text = ok("manifest", "show", session.manifest).stdout
    assert "NOT checked" in text


def test_show_with_pub_says_the_signature_is_verified(session: Session) -> None:
    text = ok("manifest", "show", session.manifest, "--pub", session.pub).stdout
    assert "signature verified" in text
    assert "NOT checked" not in text


# ---------------------------------------------------------------------------------------
# amend


def _more_prisoners() -> list[dict[str, str]]:
    more = list(prisoner_rows(3, seed=2))
    write_csv(Path("more.csv"), more)
    return more


def _amend_append(session: Session) -> dict[str, Any]:
    return run_json(
        "manifest", "amend", session.manifest, "--key", session.key, "--add", "more.csv",
        "-o", "ua.v2.manifest", "--amendment", "ua.v2.amend", "--created-at", "1700000100",
    )  # fmt: skip


def _amend_revise(session: Session) -> dict[str, Any]:
    return run_json(
        "manifest", "amend", session.manifest, "--key", session.key, "--remove", "3:deceased",
        "--remove", "10:released_earlier", "-o", "v2.manifest", "--amendment", "v2.amend",
    )  # fmt: skip


def test_amend_append(session: Session) -> None:
    more = _more_prisoners()
    amended = _amend_append(session)
    assert amended["kind"] == "amendment"
    assert amended["mode"] == "append"
    assert amended["removed"] == []
    assert amended["previous"] == session.built["header"]
    assert amended["current"]["count"] == 53
    assert amended["current"]["version"] == 2
    assert amended["current"]["previous"] == session.built["header"]["header_digest"]
    assert Path("ua.v2.amend").is_file()

    verified = run_json("manifest", "verify", "ua.v2.manifest", "--pub", session.pub)
    assert verified["header"] == amended["current"]
    ok("manifest", "disclose", "ua.v2.manifest", "--entry", "51", "-o", "e51.proof")
    disclosed = run_json("manifest", "check", "e51.proof", "--pub", session.pub)
    assert disclosed["entries"][0]["record"] == expected_record("prisoner", more[1])
    # old entries keep their salts: an old disclosure's leaf is the same in version 2
    ok("manifest", "disclose", "ua.v2.manifest", "--entry", "5", "-o", "new5.proof")
    ok("manifest", "disclose", session.manifest, "--entry", "5", "-o", "old5.proof")
    new5 = run_json("manifest", "check", "new5.proof", "--pub", session.pub)["entries"]
    old5 = run_json("manifest", "check", "old5.proof", "--pub", session.pub)["entries"]
    assert new5 == old5


def test_amend_append_check_of_the_amendment_file(session: Session) -> None:
    _more_prisoners()
    amended = _amend_append(session)
    result = run("manifest", "check", "ua.v2.amend", "--pub", session.pub)
    assert result.exit_code == 0, result.stderr
    assert "append" in result.stdout
    checked = run_json("manifest", "check", "ua.v2.amend", "--pub", session.pub)
    assert checked["kind"] == "amendment"
    assert checked["mode"] == "append"
    assert checked["previous"]["count"] == 50
    assert checked["current"] == amended["current"]


def test_amend_revise(session: Session) -> None:
    amended = _amend_revise(session)
    assert amended["mode"] == "revise"
    assert amended["current"]["count"] == 48
    assert amended["removed"] == [
        {"index": 3, "id": session.rows[3]["person_id"], "reason": "deceased"},
        {"index": 10, "id": session.rows[10]["person_id"], "reason": "released_earlier"},
    ]
    verified = run_json("manifest", "verify", "v2.manifest", "--pub", session.pub)
    assert verified["header"]["count"] == 48
    assert verified["header"]["version"] == 2
    assert verified["header"]["previous"] == session.built["header"]["header_digest"]
    ok("manifest", "disclose", "v2.manifest", "--entry", "3", "-o", "e3.proof")
    (entry,) = run_json("manifest", "check", "e3.proof", "--pub", session.pub)["entries"]
    assert entry["record"] == expected_record("prisoner", session.rows[4])


def test_amend_revise_check_of_the_amendment_file(session: Session) -> None:
    _amend_revise(session)
    result = run("manifest", "check", "v2.amend", "--pub", session.pub)
    assert result.exit_code == 0, result.stderr
    assert "revise" in result.stdout
    assert "deceased" in result.stdout
    checked = run_json("manifest", "check", "v2.amend", "--pub", session.pub)
    assert checked["mode"] == "revise"
    assert checked["removed"] == [
        {"index": 3, "id": session.rows[3]["person_id"], "reason": "deceased"},
        {"index": 10, "id": session.rows[10]["person_id"], "reason": "released_earlier"},
    ]


def test_amendment_checked_with_another_partys_key(session: Session, other_pub: Path) -> None:
    _amend_revise(session)
    code = error_code("manifest", "check", "v2.amend", "--pub", other_pub, exit_code=1)
    assert code.startswith("verify.")


@pytest.mark.parametrize(
    "removals",
    [
        ["3:bogus"],
        ["x:deceased"],
        ["3"],
        ["50:deceased"],
        ["3:deceased", "3:duplicate"],
        ["-1:deceased"],
        ["+3:deceased"],
        ["1_0:deceased"],
        ["\uff13:deceased"],
        [" 3:deceased"],
        ["3:deceased "],
        ["9" * 5000 + ":deceased"],
    ],
)
def test_amend_bad_removals(session: Session, removals: list[str]) -> None:
    before = listing(session.root)
    args = [a for r in removals for a in ("--remove", r)]
    code = error_code(
        "manifest", "amend", session.manifest, "--key", session.key, *args,
        "-o", "v2.manifest", "--amendment", "v2.amend", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid"
    assert listing(session.root) == before


def test_amend_with_a_bad_addition_writes_nothing(session: Session) -> None:
    rows = [dict(r) for r in session.rows[:2]]
    rows[0]["person_id"] = "NEW-1"
    rows[1]["person_id"] = "NEW-2"
    rows[1]["sex"] = "robot"
    write_csv(Path("more.csv"), rows)
    before = listing(session.root)
    code = error_code(
        "manifest", "amend", session.manifest, "--key", session.key, "--add", "more.csv",
        "-o", "v2.manifest", "--amendment", "v2.amend", exit_code=2,
    )  # fmt: skip
    assert code == "input.invalid_record"
    assert listing(session.root) == before


@pytest.mark.parametrize("add", [None, "", "header-only"])
def test_amend_that_changes_nothing_writes_nothing(session: Session, add: str | None) -> None:
    args: list[str | Path] = []
    if add is not None:
        header = ",".join(session.rows[0]) + "\n"
        Path("more.csv").write_text(header if add else "", encoding="utf-8")
        args = ["--add", "more.csv"]
    before = listing(session.root)
    obj = run_json(
        "manifest", "amend", session.manifest, "--key", session.key, *args,
        "-o", "v2.manifest", "--amendment", "v2.amend", exit_code=2,
    )  # fmt: skip
    assert obj["error"]["code"] == "input.invalid"
    # a 0-byte file is refused as empty before anything else; a header-only one adds nothing
    expected = "the file is empty" if add == "" else "nothing to amend"
    assert obj["error"]["message"].startswith(expected)
    assert listing(session.root) == before


def test_amend_with_another_key_is_refused(session: Session, other_pub: Path) -> None:
    before = listing(session.root)
    result = run(
        "manifest", "amend", session.manifest, "--key", "keys/ru.key", "--remove", "1:deceased",
        "-o", "v2.manifest", "--amendment", "v2.amend",
    )  # fmt: skip
    assert result.exit_code == 1
    assert listing(session.root) == before


# ---------------------------------------------------------------------------------------
# blind


def test_blind_then_verify(session: Session) -> None:
    blinded = run_json("manifest", "blind", session.manifest, "--pub", session.pub, "-o", "b.mf")
    assert blinded["count"] == 50
    size = Path("b.mf").stat().st_size
    assert size < session.manifest.stat().st_size
    verified = run_json("manifest", "verify", "b.mf", "--pub", session.pub)
    assert verified["mode"] == "structural"
    assert verified["view"] == "blinded"
    assert verified["header"] == session.built["header"]
    assert "blinded view" in ok("manifest", "verify", "b.mf", "--pub", session.pub).stdout
    shown = run_json("manifest", "show", "b.mf")
    assert shown["view"] == "blinded"
    # a blinded file holds no records: nothing of the CSV is in it
    data = Path("b.mf").read_bytes()
    assert session.rows[0]["family_name"].encode() not in data
    assert session.rows[0]["person_id"].encode() not in data


def test_tampered_blinded_file_fails(session: Session) -> None:
    ok("manifest", "blind", session.manifest, "--pub", session.pub, "-o", "b.mf")
    bad = flip(Path("b.mf"), Path("b.mf").stat().st_size - 40)
    assert error_code("manifest", "verify", bad, "--pub", session.pub, exit_code=1) == (
        "verify.root_mismatch"
    )


def test_blind_with_another_partys_key_writes_nothing(session: Session, other_pub: Path) -> None:
    before = listing(session.root)
    code = error_code(
        "manifest", "blind", session.manifest, "--pub", other_pub, "-o", "b.mf", exit_code=1
    )
    assert code.startswith("verify.")
    assert listing(session.root) == before


def test_blind_of_a_tampered_manifest_writes_nothing(session: Session) -> None:
    bad = _tampered_salt(session.manifest, 7)
    before = listing(session.root)
    code = error_code("manifest", "blind", bad, "--pub", session.pub, "-o", "b.mf", exit_code=1)
    assert code == "verify.root_mismatch"
    assert listing(session.root) == before


# ---------------------------------------------------------------------------------------
# input formats and mapping


def test_map_renames_a_column(session: Session) -> None:
    rename = {"family_name": "surname"}
    rows = [{rename.get(k, k): v for k, v in r.items()} for r in session.rows[:4]]
    write_csv(Path("renamed.csv"), rows)
    args = ["manifest", "build", "--kind", "prisoner", "--from", "renamed.csv"]
    args += ["--key", str(session.key)]
    code = error_code(*args, "-o", "unmapped.manifest", exit_code=2)
    assert code == "input.invalid_record"
    assert not Path("unmapped.manifest").exists()
    run_json(*args, "-o", "m.manifest", "--map", "surname=family_name")
    ok("manifest", "disclose", "m.manifest", "--entry", "1", "-o", "e1.proof")
    checked = run_json("manifest", "check", "e1.proof", "--pub", session.pub)
    assert checked["entries"][0]["record"] == expected_record("prisoner", session.rows[1])


@pytest.mark.parametrize(
    ("mapping", "word"),
    [("nickname=family_name", "nickname"), ("surname", "old=new"), ("rank=unit", "duplicate")],
)
def test_bad_map_options(session: Session, mapping: str, word: str) -> None:
    result = run("manifest", "build", "--kind", "prisoner", "--from", session.csv,
                 "--key", session.key, "-o", "x.manifest", "--map", mapping, "--json")  # fmt: skip
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "input.invalid"
    assert word in error["message"]
    assert not Path("x.manifest").exists()


@pytest.mark.parametrize("name", ["people.jsonl", "people.ndjson", "people.txt"])
def test_json_lines_input(session: Session, name: str) -> None:
    lines = []
    for row in session.rows[:6]:
        obj: dict[str, Any] = {k: v for k, v in row.items() if v}
        if "categories" in obj:
            obj["categories"] = obj["categories"].split(";")
        lines.append(json.dumps(obj, ensure_ascii=False))
    lines.insert(3, "")  # a blank line is skipped
    Path(name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    fmt = ["--format", "jsonl"] if name.endswith(".txt") else []
    built = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", name, *fmt,
        "--key", session.key, "-o", "j.manifest",
    )  # fmt: skip
    assert built["header"]["count"] == 6
    ok("manifest", "disclose", "j.manifest", "--entry", "4", "-o", "e4.proof")
    checked = run_json("manifest", "check", "e4.proof", "--pub", session.pub)
    assert checked["entries"][0]["record"] == expected_record("prisoner", session.rows[4])


def test_same_records_from_csv_and_jsonl_give_the_same_records(session: Session) -> None:
    lines = [json.dumps({k: v for k, v in r.items() if v}) for r in session.rows[:3]]
    Path("p.jsonl").write_text("\n".join(lines), encoding="utf-8")
    write_csv(Path("p.csv"), session.rows[:3])
    for src in ("p.jsonl", "p.csv"):
        ok("manifest", "build", "--kind", "prisoner", "--from", src, "--key", session.key,
           "-o", src + ".manifest")  # fmt: skip
        ok("manifest", "disclose", src + ".manifest", "--entry", "0", "--entry", "1",
           "--entry", "2", "-o", src + ".proof")  # fmt: skip
    a = run_json("manifest", "check", "p.jsonl.proof", "--pub", session.pub)["entries"]
    b = run_json("manifest", "check", "p.csv.proof", "--pub", session.pub)["entries"]
    assert a == b
    assert len(a) == 3


def test_csv_with_bom_builds(session: Session) -> None:
    Path("bom.csv").write_bytes(b"\xef\xbb\xbf" + session.csv.read_bytes())
    built = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", "bom.csv",
        "--key", session.key, "-o", "bom.manifest", "--created-at", CREATED_AT,
    )  # fmt: skip
    assert built["header"]["count"] == 50


def test_bad_jsonl_line_is_reported_with_its_line(session: Session) -> None:
    good = json.dumps({k: v for k, v in session.rows[0].items() if v})
    Path("p.jsonl").write_text(f"{good}\n[1]\n", encoding="utf-8")
    obj = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", "p.jsonl",
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert obj["error"]["code"] == "input.invalid_record"
    assert "line 2" in obj["error"]["message"]
    assert not Path("x.manifest").exists()


# ---------------------------------------------------------------------------------------
# every record kind round-trips through build, verify, disclose and check

HEX = "ab" * 32
KIND_ROWS: dict[str, list[dict[str, str]]] = {
    "prisoner": [
        {
            "person_id": "P-1", "family_name": "Шевченко", "given_names": "Тарас Григорович",
            "date_of_birth": "1990-03-09", "sex": "male", "service_number": "123456",
            "rank": "sergeant", "unit": "24 brigade", "citizenship": "UA",
            "categories": "seriously_wounded;long_captivity", "place_of_detention": "IK-10",
        },
        {
            "person_id": "P-2", "family_name": "Doe", "given_names": "Jane",
            "date_of_birth": "1975-01-31", "sex": "female", "service_number": "", "rank": "",
            "unit": "", "citizenship": "GB", "categories": "journalist", "place_of_detention": "",
        },
    ],
    "remains": [
        {
            "remains_id": "R-1", "recovery_date": "2024-05-01", "recovery_place": "Sector 4",
            "identification_status": "identified", "person_id": "P-77", "family_name": "Коваль",
            "given_names": "Андрій", "date_of_birth": "1988-07-14", "service_number": "77",
            "evidence": f"dna_profile=sha256:{HEX};photo=sha512:{'cd' * 64}",
        },
        {
            "remains_id": "R-2", "recovery_date": "2024-06-11", "recovery_place": "Field 9",
            "identification_status": "unidentified", "person_id": "", "family_name": "",
            "given_names": "", "date_of_birth": "", "service_number": "",
            "evidence": f"sha3-256:{HEX}",
        },
    ],
    "child_case": [
        {
            "case_id": "C-1", "family_name": "Бондаренко", "given_names": "Марія",
            "date_of_birth": "2015-02-02", "last_known_place": "Mariupol",
            "date_of_separation": "2022-03-16", "contact_reference": "ICRC CTA ref 42",
        },
        {
            "case_id": "C-2", "family_name": "Ivanova", "given_names": "Olha",
            "date_of_birth": "2012-12-12", "last_known_place": "Kherson",
            "date_of_separation": "2022-11-01", "contact_reference": "UA ombudsman 7",
        },
    ],
    "medical_case": [
        {
            "person_ref": "P-1", "condition_category": "seriously_wounded",
            "assessed_on": "2024-01-10", "assessed_by": "Mixed Medical Commission",
        },
        {
            "person_ref": "P-9", "condition_category": "mental_health",
            "assessed_on": "2023-08-30", "assessed_by": "Mixed Medical Commission",
        },
    ],
}  # fmt: skip


def test_every_builtin_kind_is_covered() -> None:
    # other tests register kinds of their own: compare with the library's models only
    module = records.__name__
    builtin = {k for k in records.kinds() if records.get_kind(k).model.__module__ == module}
    assert set(KIND_ROWS) == builtin


@pytest.mark.parametrize("kind", sorted(KIND_ROWS))
def test_every_kind_round_trips(session: Session, kind: str) -> None:
    rows = KIND_ROWS[kind]
    assert set(rows[0]) == set(records.get_kind(kind).field_names)  # every column of the kind
    write_csv(Path(f"{kind}.csv"), rows)
    built = run_json(
        "manifest", "build", "--kind", kind, "--from", f"{kind}.csv", "--key", session.key,
        "-o", f"{kind}.manifest", "--list", f"{kind}-list", "--issuer", "UA ministry",
    )  # fmt: skip
    header = built["header"]
    assert (header["kind"], header["list"]) == (kind, f"{kind}-list")
    assert header["issuer"] == "UA ministry"
    assert header["count"] == 2
    run_json("manifest", "verify", f"{kind}.manifest", "--pub", session.pub)

    ok("manifest", "disclose", f"{kind}.manifest", "--entry", "1", "-o", "one.proof")
    one = run_json("manifest", "check", "one.proof", "--pub", session.pub)
    assert one["entries"] == [{"index": 1, "record": expected_record(kind, rows[1])}]

    ok("manifest", "disclose", f"{kind}.manifest", "--entry", "1", "--entry", "0", "-o", "b.proof")
    both = run_json("manifest", "check", "b.proof", "--pub", session.pub)
    assert both["entries"] == [
        {"index": i, "record": expected_record(kind, row)} for i, row in enumerate(rows)
    ]
    assert both["header"] == header


def test_kind_mismatch_is_reported(session: Session) -> None:
    write_csv(Path("medical.csv"), KIND_ROWS["medical_case"])
    obj = run_json(
        "manifest", "build", "--kind", "prisoner", "--from", "medical.csv",
        "--key", session.key, "-o", "x.manifest", exit_code=2,
    )  # fmt: skip
    assert obj["error"]["code"] == "input.invalid_record"
    # said once, for the header, not once per row
    assert "line 1: column 'person_ref' is not a field of prisoner" in obj["error"]["message"]
    assert "1 bad row(s)" in obj["error"]["message"]
