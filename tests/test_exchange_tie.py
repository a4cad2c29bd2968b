"""Tying a disclosure or an amendment to an exchange, with the library alone
(``swapproto.exchange_tie``; the CLI's ``swapproto check --exchange`` uses it)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import exchange_kit as kit
from swapproto.amendment import RemovalReason
from swapproto.amendment_file import amend_manifest_file
from swapproto.disclosure import collect_for_disclosure, make_disclosure
from swapproto.errors import ErrorCode, VerificationError
from swapproto.exchange_tie import tie_amendment, tie_disclosure
from swapproto.manifest_file import ManifestReader


def _disclose(data: bytes, *indices: int) -> bytes:
    reader = ManifestReader(io.BytesIO(data))
    count = reader.unverified_header().count
    tree, kept = collect_for_disclosure(reader.leaves(count), indices)
    return make_disclosure(reader.header_bytes, tree, kept)


def test_a_disclosure_of_the_revealed_list_is_tied() -> None:
    x = kit.honest("revealed")
    disclosure = _disclose(x.lists["a"].data, 3)
    result, tie = tie_disclosure(x.observer(), disclosure, where="xch/")
    assert [e.index for e in result.entries] == [3]
    assert (tie.issuer, tie.list_name) == ("a", kit.LIST)
    assert tie.is_revealed(result.verified.digest)
    assert tie.describe(result.verified.digest) == "as revealed in xch/"
    assert tie.commit_id == x.observer().commits("a")[kit.LIST].id


@pytest.mark.parametrize("until", ["terms-agreed", "committed"])
def test_nothing_is_tied_before_the_list_is_revealed(until: str) -> None:
    x = kit.honest(until)
    with pytest.raises(VerificationError) as info:
        tie_disclosure(x.observer(), _disclose(kit.honest().lists["a"].data, 0))
    assert info.value.code == ErrorCode.VERIFY_DISCLOSURE
    expected = "never committed" if until == "terms-agreed" else "not revealed yet"
    assert expected in str(info.value)


def test_a_list_signed_but_never_revealed_is_not_tied() -> None:
    x = kit.honest("revealed")
    other = kit.build_list(x.terms, "a", label="a second list, never committed")
    with pytest.raises(VerificationError) as info:
        tie_disclosure(x.observer(), _disclose(other.data, 0))
    assert info.value.code == ErrorCode.VERIFY_DISCLOSURE
    assert "not revealed in the exchange" in str(info.value)


def test_an_amendment_must_cite_the_commit_and_then_ties_later_versions(tmp_path: Path) -> None:
    x = kit.honest("revealed")
    v1 = tmp_path / "v1.manifest"
    v1.write_bytes(x.lists["a"].data)
    commit_id = x.observer().commits("a")[kit.LIST].id
    keys = kit.keys().signing("a")
    removed = [(2, RemovalReason.DECEASED)]
    wrong = x.observer().commits("b")[kit.LIST].id  # b's commit, not a's
    amend_manifest_file(
        v1, tmp_path / "w2", tmp_path / "w.amend", keys=keys, removals=removed,
        created_at=kit.NOW, cites=wrong,
    )  # fmt: skip
    with pytest.raises(VerificationError) as info:
        tie_amendment(x.observer(), (tmp_path / "w.amend").read_bytes())
    assert info.value.code == ErrorCode.VERIFY_AMENDMENT
    assert f"cites {wrong.hex()[:16]}, not party a's commit" in str(info.value)

    amend_manifest_file(
        v1, tmp_path / "v2", tmp_path / "v2.amend", keys=keys, removals=removed,
        created_at=kit.NOW, cites=commit_id,
    )  # fmt: skip
    amendment, tie = tie_amendment(x.observer(), (tmp_path / "v2.amend").read_bytes())
    assert tie.versions[-1].digest == amendment.current.digest
    assert (
        tie.describe(amendment.current.digest)
        == "amended 1 time(s) from the version revealed in the exchange"
    )

    disclosure = _disclose((tmp_path / "v2").read_bytes(), 0)
    with pytest.raises(VerificationError):  # version 2 alone is not what was revealed
        tie_disclosure(x.observer(), disclosure)
    earlier = [("v2.amend", (tmp_path / "v2.amend").read_bytes())]
    result, tie = tie_disclosure(x.observer(), disclosure, after=earlier)
    assert not tie.is_revealed(result.verified.digest)
    assert result.verified.digest == tie.versions[1].digest
