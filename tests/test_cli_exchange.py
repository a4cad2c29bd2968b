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


# --- review fixes -----------------------------------------------------------------------------


def fails(*args: str, exit_code: int = 1) -> dict[str, Any]:
    """Run with --json, expect the exit code, return the error object."""
    result = run(*args, "--json")
    assert result.exit_code == exit_code, (args, result.stdout, result.stderr)
    error = json.loads(result.stdout)["error"]
    assert isinstance(error, dict)
    return error


def rebuild(side: str, out: str, rows: int = 1000) -> None:
    with open(f"{side}-{out}.csv", "w", encoding="utf-8", newline="") as f:
        write_prisoner_csv(f, rows, side=side)
    ok(
        "manifest", "build", "--exchange", "xch/", "--list", "pows", "--from", f"{side}-{out}.csv",
        "--key", f"keys/{side}.key", "-o", out, "--created-at", JUNE_3, "--force",
    )  # fmt: skip


def damage_last_entry(path: str) -> None:
    data = bytearray(Path(path).read_bytes())
    data[-3] ^= 0x20
    Path(path).write_bytes(bytes(data))


def test_check_ties_a_disclosure_to_the_revealed_list(session: Path) -> None:
    commit_both()
    ok("disclose", "ua.manifest", "--entry", "17", "-o", "p17.proof")
    early = fails("check", "p17.proof", "--exchange", "xch/")
    assert early["code"] == "verify.disclosure_invalid"
    assert "until it is revealed" in early["message"]
    reveal_both()
    checked = json.loads(ok("check", "p17.proof", "--exchange", "xch/", "--json").stdout)
    named = verify_json()["fingerprints"]
    assert checked["root_fingerprint"] == named["root a/pows"]
    assert checked["header_fingerprint"] == named["header a/pows"]
    assert (checked["issuer"], checked["list"], checked["revealed"]) == ("a", "pows", True)
    human = ok("check", "p17.proof", "--exchange", "xch/").stdout
    assert named["root a/pows"] in human
    assert named["header a/pows"] in human
    record = checked["entries"][0]["record"]
    assert f"  family_name: {record['family_name']}" in human.splitlines()
    assert "{'" not in human  # records are not printed as a Python dict

    # A second manifest of the same list, signed by the same party, was never committed.
    rebuild("ua", "ua-second.manifest")
    ok("disclose", "ua-second.manifest", "--entry", "17", "-o", "other.proof")
    other = fails("check", "other.proof", "--exchange", "xch/")
    assert other["code"] == "verify.disclosure_invalid"
    assert "not revealed" in other["message"]


def test_check_ties_amendments_to_the_commit_and_the_revealed_version(session: Path) -> None:
    commit_both()
    amend = ("manifest", "amend", "--key", "keys/ua.key", "--exchange", "xch/")
    ok(*amend, "ua.manifest", "-o", "ua.v2", "--amendment", "v2.amend", "--remove", "3:deceased")
    early = fails("check", "v2.amend", "--exchange", "xch/")
    assert early["code"] == "verify.amendment_invalid"
    assert "until it is revealed" in early["message"]
    reveal_both()
    checked = json.loads(ok("check", "v2.amend", "--exchange", "xch/", "--json").stdout)
    from swapproto.exchange_dir import ExchangeDir

    observer, _ = ExchangeDir(Path("xch")).observer()
    assert checked["cites"] == observer.commits("a")["pows"].id.hex()
    assert checked["version"] == 2
    assert checked["previous_header_fingerprint"] == verify_json()["fingerprints"]["header a/pows"]
    assert "revise amendment" in ok("check", "v2.amend", "--exchange", "xch/").stdout

    # Citing another message than a's commit of the list: refused.
    b_commit = observer.commits("b")["pows"].id.hex()
    ok(
        "manifest", "amend", "ua.manifest", "--key", "keys/ua.key", "--cites", b_commit,
        "-o", "bad.v2", "--amendment", "bad.amend", "--remove", "4:deceased",
    )  # fmt: skip
    wrong = fails("check", "bad.amend", "--exchange", "xch/")
    assert "not party a's commit" in wrong["message"]

    # Version 3 ties to the revealed version only through the amendment to version 2.
    ok(*amend, "ua.v2", "-o", "ua.v3", "--amendment", "v3.amend", "--remove", "5:deceased")
    loose = fails("check", "v3.amend", "--exchange", "xch/")
    assert "--after" in loose["message"]
    chained = ok("check", "v3.amend", "--exchange", "xch/", "--after", "v2.amend", "--json")
    assert json.loads(chained.stdout)["version"] == 3

    # A disclosure from an amended version, tied through its amendment.
    ok("disclose", "ua.v2", "--entry", "7", "-o", "v2.proof")
    assert "not revealed" in fails("check", "v2.proof", "--exchange", "xch/")["message"]
    tied = ok("check", "v2.proof", "--exchange", "xch/", "--after", "v2.amend", "--json")
    assert (json.loads(tied.stdout)["version"], json.loads(tied.stdout)["revealed"]) == (2, False)


def test_a_manifest_with_a_damaged_entry_is_never_committed_or_revealed(session: Path) -> None:
    Path("ua.keep").write_bytes(Path("ua.manifest").read_bytes())
    damage_last_entry("ua.manifest")
    error = fails("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert error["code"].startswith("verify.")
    assert "nothing was sent" in error["message"]
    assert not list(Path("xch").glob("a-*commit*.spmsg"))
    assert not Path("ua.manifest.opening").exists()

    Path("ua.manifest").write_bytes(Path("ua.keep").read_bytes())
    commit_both()
    damage_last_entry("ua.manifest")  # the header, and so the opening, still match
    error = fails("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert error["code"].startswith("verify.")
    assert not list(Path("xch").glob("*reveal*.spmsg"))
    assert not list(Path("xch").glob("*.spblob"))


def test_accept_verifies_first_and_refuses_a_failing_exchange(session: Path) -> None:
    rebuild("ru", "ru.manifest", rows=999)  # below the terms' min_count of 1000
    commit_both()
    reveal_both()
    error = fails("accept", "xch/", "--key", "keys/ua.key", "--now", JUNE_3)
    assert error["code"] == "verify.transcript_failed"
    assert "rules b/pows" in error["message"]
    assert "--force" in error["message"]
    assert not list(Path("xch").glob("*verdict*.spmsg"))
    # ru cannot open its own list (sealed to ua and tr): not checked, not a failure.
    own = run("accept", "xch/", "--key", "keys/ru.key", "--now", JUNE_3, "--json")
    assert own.exit_code == 0, own.stdout
    assert json.loads(own.stdout)["failed_checks"] == []
    assert "not evaluated" not in own.stderr  # a party's own list: nothing to warn about
    forced = ok("accept", "xch/", "--key", "keys/ua.key", "--now", JUNE_3, "--force", "--json")
    info = json.loads(forced.stdout)
    assert (info["forced"], info["failed_checks"]) == (True, ["rules b/pows"])
    assert "rules b/pows" in forced.stderr
    assert verify_json("--key", "keys/tr.key", exit_code=1)["state"] == "agreed"


def test_dispute_needs_no_verification(session: Path) -> None:
    Path("xch/zz-junk.spmsg").write_bytes(b"junk")
    commit_both()
    reveal_both()
    assert fails("accept", "xch/", "--key", "keys/ua.key", "--now", JUNE_3)["code"]
    ok("dispute", "xch/", "--key", "keys/ua.key", "--reason", "junk", "--now", JUNE_3)


def test_human_report_puts_evidence_on_its_own_lines(session: Path) -> None:
    Path("xch/zz-junk.spmsg").write_bytes(b"\x93\x01\x02")
    human = run("verify", "xch/", "--now", JUNE_3)
    assert human.exit_code == 1
    assert "\\n" not in human.stdout
    assert any(
        line.strip(" │|").startswith("• zz-junk.spmsg") for line in human.stdout.splitlines()
    )


def test_sealed_lists_not_opened_are_unmistakable(session: Path) -> None:
    commit_both()
    reveal_both()
    public = verify_json()
    assert public["ok"] is True
    for role in "ab":
        content = check(public, f"content {role}/pows")
        assert content["detail"].startswith("sealed: not opened (no recipient key given)")
        assert content["skipped"] is False
        rules = check(public, f"rules {role}/pows")
        assert (rules["ok"], rules["skipped"]) == (True, True)
        assert rules["detail"].startswith("not evaluated")
    human = ok("verify", "xch/", "--now", JUNE_3).stdout
    assert "skipped" in human
    assert "2 not evaluated" in human

    party = verify_json("--key", "keys/ua.key")
    assert "sender's own" in check(party, "content a/pows")["detail"]
    assert check(party, "rules b/pows")["skipped"] is False
    assert check(party, "rules a/pows")["skipped"] is True

    ok("keygen", "stranger", "-o", "keys/")
    stranger = verify_json("--key", "keys/stranger.key", exit_code=1)
    for role in "ab":
        content = check(stranger, f"content {role}/pows")
        assert content["ok"] is False
        assert content["detail"] == "the given key is not a recipient of this list"


def test_the_other_partys_manifest_is_a_usage_error(session: Path) -> None:
    error = fails("commit", "xch/", "ru.manifest", "--key", "keys/ua.key", exit_code=2)
    assert error["code"] == "input.invalid"
    assert "party 'b'" in error["message"]
    assert "'pows'" in error["message"]
    commit_both()
    error = fails("reveal", "xch/", "ru.manifest", "--key", "keys/ua.key", exit_code=2)
    assert "party 'b'" in error["message"]


def test_reveal_before_the_other_commit_says_so_plainly(session: Path) -> None:
    ok("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    error = fails("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key", exit_code=2)
    assert error == {
        "code": "protocol.local",
        "message": "the other party has not committed yet; a reveal must wait for both commits",
    }


def test_late_moves_are_accepted_with_a_warning(session: Path) -> None:
    on_time = ok("commit", "xch/", "ru.manifest", "--key", "keys/ru.key", "--now", JUNE_3, "--json")
    assert json.loads(on_time.stdout)["late"] is False
    assert "warning" not in on_time.stderr
    late = ok("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_13, "--json")
    assert json.loads(late.stdout)["late"] is True
    assert "after the terms' commit_by 2025-06-09T00:00:00Z" in late.stderr
    human = ok("reveal", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_13)
    assert "reveal_by 2025-06-12T00:00:00Z" in human.stderr
    report = json.loads(run("verify", "xch", "--json", "--now", JUNE_13).stdout)
    assert check(report, "commits by the deadline")["ok"] is False


def test_every_spmsg_entry_is_a_message_file(session: Path) -> None:
    Path("xch/dir.spmsg").mkdir()
    os.symlink("/dev/zero", "xch/zero.spmsg")
    os.mkfifo("xch/fifo.spmsg")
    from swapproto.exchange_dir import ExchangeDir

    directory = ExchangeDir(Path("xch"))
    odd = {"dir.spmsg", "fifo.spmsg", "zero.spmsg"}
    assert odd <= {p.name for p in directory.message_files()}
    assert {name: data for name, data in directory.messages() if name in odd} == dict.fromkeys(
        odd, b""
    )
    report = verify_json(exit_code=1)
    evidence = check(report, "well-formed messages")["evidence"]
    assert sorted(e.split(":")[0] for e in evidence) == ["dir.spmsg", "fifo.spmsg", "zero.spmsg"]
    result = run("commit", "xch/", "ua.manifest", "--key", "keys/ua.key", "--now", JUNE_3)
    assert result.exit_code == 0
    assert "skipped zero.spmsg" in result.stderr


def test_terms_new_never_replaces_an_exchange(session: Path) -> None:
    before = Path("xch/terms.spterms").read_bytes()
    error = fails("terms", "new", "terms.toml", "-o", "xch/", exit_code=2)
    assert (
        "already holds an exchange (terms.spterms exists); start a new directory"
        in (error["message"])
    )
    assert "--force" not in error["message"]
    assert Path("xch/terms.spterms").read_bytes() == before
