"""The exchange session of issue 4 through the ``swapproto`` command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from swapproto.cli import app
from swapproto.demo_data import write_prisoner_csv
from swapproto.keys import load_public_key_bundle
from vectors_terms import ISTANBUL  # the terms of issue 4, verbatim

JUNE_3 = "1748908800"  # 2025-06-03T00:00:00Z: before both deadlines
JUNE_13 = "1749772800"  # after reveal_by
STATES = {"terms-proposed", "terms-agreed", "committed", "revealed", "agreed", "disputed"}
runner = CliRunner()


def run(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def verify_json(*args: str, exit_code: int = 0) -> dict[str, Any]:
    result = run("verify", "xch", "--json", "--now", JUNE_3, *args)
    assert result.exit_code == exit_code, result.stdout
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in report["checks"] if c["name"] == name]
    assert found, [c["name"] for c in report["checks"]]
    result = found[0]
    assert isinstance(result, dict)
    return result


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keys, terms and both parties' manifests, up to (not including) the commits."""
    monkeypatch.chdir(tmp_path)
    for name in ("ua", "ru", "tr"):
        ok("keygen", name, "-o", "keys/")
    Path("terms.toml").write_text(ISTANBUL, encoding="utf-8")
    for side in ("ua", "ru"):
        with open(f"{side}.csv", "w", encoding="utf-8", newline="") as f:
            write_prisoner_csv(f, 1000, side=side)
    ok("terms", "new", "terms.toml", "-o", "xch/")
    report = verify_json(exit_code=1)  # unsigned terms are not yet in force
    assert report["state"] == "terms-proposed"
    assert check(report, "terms signed by both parties")["ok"] is False
    for side in ("ua", "ru"):
        ok("terms", "sign", "xch/", "--key", f"keys/{side}.key", "--now", JUNE_3)
    for side in ("ua", "ru"):
        ok(
            "manifest", "build", "--exchange", "xch/", "--list", "pows", "--from", f"{side}.csv",
            "--key", f"keys/{side}.key", "-o", f"{side}.manifest", "--created-at", JUNE_3,
        )  # fmt: skip
    return tmp_path


def commit_both() -> None:
    for side in ("ua", "ru"):
        ok("commit", "xch/", f"{side}.manifest", "--key", f"keys/{side}.key", "--now", JUNE_3)


def reveal_both() -> None:
    for side in ("ua", "ru"):
        ok("reveal", "xch/", f"{side}.manifest", "--key", f"keys/{side}.key", "--now", JUNE_3)


def test_keygen_public_file_holds_both_keys(session: Path) -> None:
    bundle = load_public_key_bundle(session / "keys" / "ua.pub")
    assert bundle.encryption is not None
    assert os.stat(session / "keys" / "ua.key").st_mode & 0o777 == 0o600


def test_the_documented_session(session: Path) -> None:
    assert verify_json()["state"] == "terms-agreed"
    ok("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    refused = run("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert refused.exit_code == 2
    assert not list(Path("xch").glob("*.spblob"))  # nothing sealed before the refusal
    ok("commit", "xch/", "ru.manifest", "--key", "keys/ru.key", "--now", JUNE_3)
    assert verify_json()["state"] == "committed"
    reveal_both()

    public = verify_json()
    assert public["ok"] is True
    assert public["state"] == "revealed"
    assert len(bytes.fromhex(public["exchange_id"])) == 32
    assert all({"name", "ok", "detail"} <= set(c) for c in public["checks"])
    assert [s["content_checked"] for s in public["lists"]] == [False, False]

    mediator = verify_json("--key", "keys/tr.key")
    assert mediator["ok"] is True
    assert check(mediator, "content a/pows")["ok"] is True
    assert check(mediator, "rules b/pows")["ok"] is True
    assert [s["count"] for s in mediator["lists"]] == [1000, 1000]

    ok("accept", "xch/", "--key", "keys/ua.key", "--now", JUNE_3)
    ok("dispute", "xch/", "--key", "keys/ru.key", "--reason", "entry 3 unknown", "--now", JUNE_3)
    assert verify_json()["state"] == "disputed"

    ok("disclose", "ua.manifest", "--entry", "17", "-o", "p17.proof")
    checked = json.loads(ok("check", "p17.proof", "--exchange", "xch/", "--json").stdout)
    assert checked["ok"] is True
    assert checked["party"] == "Ukraine"


def test_human_report_and_fingerprints(session: Path) -> None:
    commit_both()
    reveal_both()
    human = ok("verify", "xch/", "--key", "keys/tr.key", "--now", JUNE_3).stdout
    assert "ALL CHECKS PASS" in human
    report = verify_json()
    fingerprint = report["exchange_fingerprint"]
    assert verify_json("--expect", fingerprint)["ok"] is True
    wrong = verify_json("--expect", "AAAA-AAAA-AAAA-AAAA", exit_code=1)
    assert check(wrong, "expected fingerprint AAAA-AAAA-AAAA-AAAA")["ok"] is False


def test_both_accept_is_agreed(session: Path) -> None:
    commit_both()
    reveal_both()
    for side in ("ua", "ru"):
        ok("accept", "xch/", "--key", f"keys/{side}.key", "--now", JUNE_3)
    assert verify_json()["state"] == "agreed"


def test_withheld_reveal_is_reported_after_the_deadline(session: Path) -> None:
    commit_both()
    ok("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    result = run("verify", "xch", "--json", "--now", JUNE_13)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    withheld = check(report, "no withholding")
    assert withheld["ok"] is False


def test_tampered_message_fails_verification(session: Path) -> None:
    commit_both()
    target = sorted(Path("xch").glob("*commit*.spmsg"))[0]
    data = bytearray(target.read_bytes())
    data[-5] ^= 1
    target.write_bytes(bytes(data))
    report = verify_json(exit_code=1)
    assert report["ok"] is False
    assert any(not c["ok"] for c in report["checks"])


def test_commit_twice_is_refused(session: Path) -> None:
    commit_both()
    again = run("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert again.exit_code == 2


def test_nothing_after_abort(session: Path) -> None:
    ok("abort", "xch/", "--key", "keys/ru.key", "--reason", "talks broke down", "--now", JUNE_3)
    refused = run("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert refused.exit_code == 2
    assert verify_json()["state"] == "aborted"


def test_mediator_key_cannot_act_as_a_party(session: Path) -> None:
    result = run("terms", "sign", "xch/", "--key", "keys/tr.key", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["ok"] is False


def test_manifest_of_another_exchange_cannot_be_committed(session: Path) -> None:
    ok(
        "manifest", "build", "--kind", "prisoner", "--from", "ua.csv", "--key", "keys/ua.key",
        "-o", "loose.manifest",
    )  # fmt: skip
    result = run("commit", "xch/", "loose.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert result.exit_code == 2


def test_every_exchange_command_has_help() -> None:
    for command in (
        ["terms", "new"], ["terms", "sign"], ["commit"], ["reveal"], ["verify"], ["accept"],
        ["dispute"], ["abort"], ["check"], ["disclose"], ["keygen"], ["demo"],
    ):  # fmt: skip
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert "Usage" in result.stdout


def test_demo_runs(tmp_path: Path) -> None:
    result = run("demo", "--count", "60", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.stdout
    assert "ALL CHECKS PASS" in result.stdout
    report = json.loads(
        run("verify", str(tmp_path / "xch"), "--json").stdout,
    )
    assert report["state"] == "agreed"
    assert report["ok"] is True


def test_verify_key_without_decryption_key_is_a_usage_error(session: Path) -> None:
    from swapproto.keys import SigningKey, write_key_pair

    write_key_pair(session / "keys", "plain", SigningKey.generate())
    result = run("verify", "xch", "--key", "keys/plain.key", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "key.bad_format"


def test_expect_accepts_fingerprints_as_people_write_them(session: Path) -> None:
    fingerprint = verify_json()["exchange_fingerprint"]
    spoken = fingerprint.replace("-", " ").lower()
    assert verify_json("--expect", spoken)["ok"] is True


def test_an_oversized_message_file_is_reported_not_fatal(session: Path) -> None:
    Path("xch/zz-junk.spmsg").write_bytes(b"\x00" * (8 * 1024 * 1024 + 10))
    report = verify_json(exit_code=1)
    assert check(report, "well-formed messages")["ok"] is False
    # The parties still work: the junk is skipped, and --json output stays one object.
    result = run("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["ok"] is True
    assert "skipped zz-junk.spmsg" in result.stderr


def test_staged_content_leaves_nothing_unless_published(session: Path) -> None:
    from swapproto.exchange_dir import ExchangeDir

    directory = ExchangeDir(Path("xch"))
    terms = directory.terms()
    with (
        Path("ua.manifest").open("rb") as src,
        pytest.raises(RuntimeError),
        directory.staged_content(src, terms, "a", "pows"),
    ):
        raise RuntimeError("the reveal was refused")
    with Path("ua.manifest").open("rb") as src, directory.staged_content(src, terms, "a", "pows"):
        pass
    assert sorted(p.name for p in Path("xch").iterdir() if not p.name.endswith(".spmsg")) == [
        "terms.spterms"
    ]
    with Path("ua.manifest").open("rb") as src:
        content = directory.store_content(src, terms, "a", "pows")
    assert directory.blob_path(content["sha256"]).stat().st_size == content["size"]


def test_names_from_files_are_never_read_as_markup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = ok("keygen", "k", "-o", "d[/x]\x1b[31m")
    assert "d[/x]" in result.stdout
    assert "\x1b" not in result.stdout


def test_amendment_of_a_committed_list_cites_the_commit(session: Path) -> None:
    commit_both()
    args = ("manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "-o", "ua.v2")
    refused = run(*args, "--amendment", "ua.v2.amend", "--remove", "3:deceased", "--json")
    assert refused.exit_code == 2
    assert "cite" in json.loads(refused.stdout)["error"]["message"]
    assert not Path("ua.v2").exists()
    made = json.loads(
        ok(*args, "--amendment", "ua.v2.amend", "--remove", "3:deceased", "--exchange", "xch/",
           "--json").stdout
    )  # fmt: skip
    assert made["ok"] is True
    from swapproto.amendment import verify_amendment
    from swapproto.exchange_dir import ExchangeDir

    directory = ExchangeDir(Path("xch"))
    terms = directory.terms()
    amendment = verify_amendment(Path("ua.v2.amend").read_bytes(), terms.trust_policy().role("a"))
    from swapproto.handshake import Observer
    from swapproto.transcript import ordered_messages

    watcher = Observer(terms)
    for envelope in ordered_messages(terms, directory.messages())[0]:
        watcher.receive(envelope)
    assert amendment.cites == watcher.commits("a")["pows"].id


def test_amend_cites_must_be_a_message_id(session: Path) -> None:
    args = ("manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "-o", "v2")
    bad = run(*args, "--amendment", "v2.amend", "--remove", "1:duplicate", "--cites", "zz")
    assert bad.exit_code == 2
    short = run(*args, "--amendment", "v2.amend", "--remove", "1:duplicate", "--cites", "00ff")
    assert short.exit_code == 2
    none_yet = run(*args, "--amendment", "v2.amend", "--remove", "1:duplicate", "--exchange", "xch")
    assert none_yet.exit_code == 2  # nothing committed yet


def test_expect_checks_the_transcript_fingerprint_a_verdict_printed(session: Path) -> None:
    commit_both()
    reveal_both()
    verdict = json.loads(ok("accept", "xch/", "--key", "keys/ua.key", "--json").stdout)
    from swapproto.hashing import fingerprint

    spoken = fingerprint(bytes.fromhex(verdict["seen"]))
    report = verify_json("--expect", spoken)
    assert report["ok"] is True
    assert spoken in report["fingerprints"].values()
    human = ok("verify", "xch/", "--now", JUNE_3).stdout
    assert spoken in human


def test_post_quantum_sealing_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from swapproto.demo_data import demo_terms

    monkeypatch.chdir(tmp_path)
    today = dt.datetime.now(dt.UTC).date()
    for name in ("ua", "ru", "tr"):
        ok("keygen", name, "-o", "keys/", "--encryption", "mlkem768-x25519")
    Path("terms.toml").write_text(demo_terms(today, 40), encoding="utf-8")
    ok("terms", "new", "terms.toml", "-o", "xch/")
    for side in ("ua", "ru"):
        with open(f"{side}.csv", "w", encoding="utf-8", newline="") as f:
            write_prisoner_csv(f, 40, side=side, reference=today)
        ok("terms", "sign", "xch/", "--key", f"keys/{side}.key")
        ok(
            "manifest", "build", "--exchange", "xch/", "--list", "pows", "--from", f"{side}.csv",
            "--key", f"keys/{side}.key", "-o", f"{side}.manifest",
        )  # fmt: skip
    for step in ("commit", "reveal"):
        for side in ("ua", "ru"):
            ok(step, "xch/", f"{side}.manifest", "--key", f"keys/{side}.key")
    report = json.loads(run("verify", "xch/", "--key", "keys/tr.key", "--json").stdout)
    assert report["ok"] is True, [c for c in report["checks"] if not c["ok"]]
    assert all(s["content_checked"] for s in report["lists"])
