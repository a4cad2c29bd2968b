"""The SHA-256 call-cost benchmark runs, and its two-process tree agrees with MerkleTree.

Only that it works is tested here, on tiny sizes: the numbers are in RESULTS.md.
"""

from __future__ import annotations

import json
import os

import bench_sha256_calls as bench
import pytest

from swapproto.merkle import MerkleTree


def test_json_report_has_every_measure(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--calls", "40", "--leaves", "33", "--pymerkle-leaves", "5", "--repeat", "1"]
    assert bench.main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    calls = report["ns_per_call"]
    assert {"call", "constructor", "digest", "compression", "copy", "map"} <= calls.keys()
    assert all(ns > 0 for ns in calls.values())
    assert report["leaves"] == 33
    assert report["floor_seconds"] > 0
    assert report["cheapest_node_call"]["key"] not in bench.PARTS
    assert "MerkleTree(leaves), one process" in report["tree_seconds"]
    assert (len(report["tree_seconds"]) == 2) == hasattr(os, "fork")


def test_text_report_states_the_budget(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--calls", "40", "--leaves", "9", "--pymerkle-leaves", "3", "--repeat", "1"]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    assert "the floor's node call" in out
    if bench.pymerkle_per_leaf([b"x"]) is not None:
        assert "ns per hash. The cheapest call measured:" in out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("count", [2, 3, 5, 8, 33])
def test_two_process_root_is_the_rfc_9162_root(count: int) -> None:
    leaves = bench.make_leaves(count, 40)
    assert bench._two_process_root(leaves) == MerkleTree(leaves).root


def test_leaves_are_seeded() -> None:
    assert bench.make_leaves(4, 50) == bench.make_leaves(4, 50)
    assert all(40 <= len(leaf) <= 60 for leaf in bench.make_leaves(50, 50))


@pytest.mark.parametrize("option", ["--calls", "--leaves", "--leaf-bytes", "--repeat"])
def test_counts_below_one_are_refused(option: str) -> None:
    with pytest.raises(SystemExit) as refused:
        bench.parse_args([option, "0"])
    assert refused.value.code == 2
