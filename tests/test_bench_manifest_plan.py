"""The manifest benchmark runs the stages that write what a wanted stage reads."""

from __future__ import annotations

from pathlib import Path

import bench_manifest as bench
import pytest


def _plan(stages: list[str], workdir: Path, sizes: str = "10") -> list[tuple[str, int, bool]]:
    args = bench.parse_args(["--stages", ",".join(stages), "--sizes", sizes])
    return [(p.stage, p.n, p.wanted) for p in bench.plan(args, workdir)]


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (["tree"], ["csv", "build", "tree"]),
        (["build-serial"], ["csv", "build-serial"]),
        (["straightforward"], ["csv", "straightforward"]),
        (["build-serial", "tree"], ["csv", "build-serial", "tree"]),  # it writes the manifest
        (["check"], ["csv", "build", "disclose", "check"]),
        (["csv"], ["csv"]),
        (["pymerkle", "floor"], ["csv", "build", "floor", "pymerkle"]),
        (["build", "disclose", "check"], ["csv", "build", "disclose", "check"]),
    ],
)
def test_missing_inputs_bring_their_stages(
    stages: list[str], expected: list[str], tmp_path: Path
) -> None:
    # Only the stages asked for are reported; the others run once, to write an input.
    assert _plan(stages, tmp_path) == [(stage, 10, stage in stages) for stage in expected]


def test_inputs_present_add_nothing(tmp_path: Path) -> None:
    paths = bench.Paths.of(tmp_path, 10)
    for path in (paths.csv, paths.manifest, paths.disclosure):
        path.write_bytes(b"")
    assert _plan(["tree", "check"], tmp_path) == [("tree", 10, True), ("check", 10, True)]


def test_each_size_is_planned_on_its_own(tmp_path: Path) -> None:
    paths = bench.Paths.of(tmp_path, 10)
    paths.csv.write_bytes(b"")
    paths.manifest.write_bytes(b"")
    assert _plan(["tree"], tmp_path, "10,20") == [
        ("tree", 10, True),
        ("csv", 20, False),
        ("build", 20, False),
        ("tree", 20, True),
    ]
