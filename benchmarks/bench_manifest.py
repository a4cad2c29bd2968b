"""Manifest benchmark: build, verify and disclose from a 1,000,000-row CSV.

Run from the repository root::

    python benchmarks/bench_manifest.py                  # 100,000 and 1,000,000 (minutes)
    python benchmarks/bench_manifest.py --sizes 100000   # quicker; time targets scale with n
    python benchmarks/bench_manifest.py --pymerkle-size 200000   # pymerkle on fewer leaves
    python benchmarks/bench_manifest.py --json           # one JSON object instead of the table

Every stage runs in a fresh Python process (``--stage NAME``, normally started by this
script itself) that prints one JSON object: wall seconds, CPU seconds and the peak
resident set size of that process alone. The parent only orchestrates and prints the
table, so one stage's memory never shows up in another's peak. Each stage but ``csv``
runs ``--repeat`` times (default 3) and the median time is reported. Every stage runs at
every size of ``--sizes``; the time targets are checked at the largest size (scaled
linearly, and marked ``~``, if that is not 1,000,000), the memory targets at every size,
and "flat" compares the verify peaks at the smallest and the largest size.

Peak RSS is read from ``VmHWM`` in ``/proc/self/status``, not from
``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux a child's ``ru_maxrss`` keeps the
high-water mark of the process it was forked from (the kernel carries it across
``execve``), so it would report the parent's peak rather than the stage's. Elsewhere
``ru_maxrss`` is the fallback.

Stages (see ``benchmarks/README.md``): ``csv``, ``build``, ``build-serial``,
``straightforward``, ``verify-full``, ``verify-structural``, ``floor``, ``tree``,
``pymerkle``, ``disclose``, ``check``.
The targets are those of issue 3, at 1,000,000 entries. Wall time is what the targets
judge; CPU time is printed beside it because on a shared machine the wall time of a
single-threaded stage also counts the time other processes held the CPU (``load1`` in
the JSON is the load average when each stage started).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import _measure
from _measure import MB, Timing, children_usage, peak_rss_mb, timed

Result = dict[str, Any]

STAGES: Final = (
    "csv",
    "build",
    "build-serial",
    "straightforward",
    "verify-full",
    "verify-structural",
    "floor",
    "tree",
    "pymerkle",
    "disclose",
    "check",
)
TABLE_ORDER: Final = ("csv", "floor", *(s for s in STAGES if s not in ("csv", "floor")))

TARGET_N: Final = 1_000_000
"""The issue's targets are stated for this many entries; time targets scale linearly."""
TARGET_SECONDS: Final = {"build": 13.0, "verify-full": 10.0, "verify-structural": 4.0}
TARGET_VERIFY_RSS_MB: Final = 150.0
TARGET_CHECK_US: Final = 1000.0
TARGET_SPEEDUP: Final = 15.0
FLAT_TOLERANCE: Final = 0.10
"""Verify peak RSS is "flat" if it grows by at most this fraction from small n to n."""
RATIO_STAGES: Final = ("build", "build-serial", "verify-full", "verify-structural", "tree")

DISCLOSED_INDEX: Final = 17
KEY_SEED: Final = b"\x01" * 32
CREATED_AT: Final = 1748822400
LOAD_AT_START: Final = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
"""The 1-minute load average when this process started (other work on the machine)."""


# --------------------------------------------------------------------------------------
# measurement inside a stage process


@dataclass(frozen=True, slots=True)
class Paths:
    """The files of one benchmark size inside the work directory."""

    csv: Path
    manifest: Path
    disclosure: Path

    @classmethod
    def of(cls, workdir: Path, n: int) -> Paths:
        return cls(
            workdir / f"prisoners-{n}.csv",
            workdir / f"manifest-{n}.spm",
            workdir / f"disclosure-{n}.bin",
        )


def _result(stage: str, n: int, timing: Timing, setup_rss: float, **extra: Any) -> Result:
    return {
        "stage": stage,
        "n": n,
        "seconds": timing.seconds,
        "cpu_seconds": timing.cpu,
        "worker_cpu_seconds": timing.children_cpu,
        "rss_mb": peak_rss_mb(),
        "worker_rss_mb": children_usage()[1] if timing.children_cpu else 0.0,
        "setup_rss_mb": setup_rss,
        "load1": LOAD_AT_START,
        **extra,
    }


def load_leaves(manifest: Path) -> tuple[list[bytes], bytes]:
    """All leaves of a manifest file and the root its header claims (not verified)."""
    from swapproto.manifest_file import ManifestReader

    with open(manifest, "rb") as stream:
        reader = ManifestReader(stream)
        header = reader.unverified_header()
        return list(reader.leaves(header.count)), header.root


def stage_csv(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """Generate the CSV with the demo data generator (not a target)."""
    from swapproto.demo_data import write_prisoner_csv

    setup_rss = peak_rss_mb()
    with timed() as timing, open(paths.csv, "w", encoding="utf-8", newline="") as out:
        write_prisoner_csv(out, n, side="ua", seed=1)
    return _result("csv", n, timing, setup_rss, file_mb=paths.csv.stat().st_size / MB)


def stage_build(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """CSV -> validated canonical records -> signed manifest file, as the CLI does it
    (on two cores from 50,000 rows on, if there are two)."""
    return _build("build", n, paths, parallel=None)


def stage_build_serial(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """The same build, kept in one process (``parallel=False``)."""
    return _build("build-serial", n, paths, parallel=False)


def _build(stage: str, n: int, paths: Paths, *, parallel: bool | None) -> Result:
    from swapproto.keys import SigningKey
    from swapproto.manifest_file import build_manifest_file
    from swapproto.tabular import RowReport, iter_records, open_table

    key = SigningKey.from_seed(KEY_SEED)
    paths.manifest.unlink(missing_ok=True)
    setup_rss = peak_rss_mb()
    with timed() as timing, open_table(paths.csv) as text:
        report = RowReport(str(paths.csv))
        result = build_manifest_file(
            paths.manifest,
            iter_records(text, kind="prisoner", report=report),
            kind="prisoner",
            list_name="pows",
            issuer="ua",
            keys=[key],
            created_at=CREATED_AT,
            parallel=parallel,
            validate=False,  # as the CLI: iter_records validated every row
        )
    count = result.verified.header.count
    if count != n:
        raise SystemExit(f"{stage}: {count} entries, expected {n}")
    return _result(
        stage,
        n,
        timing,
        setup_rss,
        file_mb=paths.manifest.stat().st_size / MB,
        warnings=len(result.warnings),
    )


def stage_straightforward(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """The issue's "straightforward pipeline", for scale: ``csv.DictReader``, a lenient
    pydantic model per row, ``msgpack``, ``hashlib``; entries written in order and the
    root computed from a list of leaf hashes. No NFC, no duplicate checks, no header,
    no signature: less than a build does, so what a build costs on this host's clock."""
    import csv
    import datetime
    from typing import Literal

    import msgpack
    from pydantic import BaseModel, ConfigDict, Field

    from swapproto.merkle import MerkleTree

    class Plain(BaseModel):
        model_config = ConfigDict(extra="forbid")
        person_id: str = Field(min_length=1, max_length=64)
        family_name: str = Field(min_length=1, max_length=200)
        given_names: str = Field(min_length=1, max_length=200)
        date_of_birth: datetime.date
        sex: Literal["male", "female", "other", "unknown"]
        citizenship: str = Field(pattern="^[A-Z]{2,3}$")
        service_number: str | None = None
        rank: str | None = None
        unit: str | None = None
        place_of_detention: str | None = None
        categories: list[str] = []

    out_path = paths.manifest.with_name(f"straightforward-{n}.bin")
    setup_rss = peak_rss_mb()
    with timed() as timing:
        salts = os.urandom(32 * n)
        hashes: list[bytes] = []
        with paths.csv.open(encoding="utf-8-sig", newline="") as text, out_path.open("wb") as out:
            for i, row in enumerate(csv.DictReader(text)):
                fields: dict[str, object] = {k: v for k, v in row.items() if v}
                if "categories" in fields:
                    fields["categories"] = row["categories"].split(";")
                record = Plain.model_validate(fields).model_dump(mode="json", exclude_none=True)
                entry = {"i": i, "k": "prisoner", "r": record, "s": salts[32 * i : 32 * i + 32]}
                leaf = msgpack.packb(entry)
                out.write(len(leaf).to_bytes(4, "big") + leaf)
                hashes.append(hashlib.sha256(b"\x00" + leaf).digest())
        count = len(hashes)
        MerkleTree.from_leaf_hashes(hashes)
    out_path.unlink()
    if count != n:
        raise SystemExit(f"straightforward: {count} rows, expected {n}")
    return _result("straightforward", n, timing, setup_rss)


def _verify(stage: str, full: bool, n: int, paths: Paths) -> Result:
    from swapproto.keys import SigningKey
    from swapproto.manifest_file import verify_manifest_file

    public_key = SigningKey.from_seed(KEY_SEED).public_key
    setup_rss = peak_rss_mb()
    with timed() as timing, open(paths.manifest, "rb") as stream:
        report = verify_manifest_file(stream, public_key, full=full, parallel=None)  # as the CLI
    if report.count != n:
        raise SystemExit(f"{stage}: {report.count} entries, expected {n}")
    return _result(stage, n, timing, setup_rss)


def stage_verify_full(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """Signature, canonical form and schema of every entry, root."""
    return _verify("verify-full", True, n, paths)


def stage_verify_structural(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """Signature and root from the entry bytes, no decoding."""
    return _verify("verify-structural", False, n, paths)


def stage_floor(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """n leaf hashes over the real leaf bytes plus n - 1 node hashes, in tight loops."""
    leaves, _root = load_leaves(paths.manifest)
    sha = hashlib.sha256
    leaf_prefix = b"\x00"
    node_input = b"\x01" + bytes(64)
    node_count = max(len(leaves) - 1, 0)
    setup_rss = peak_rss_mb()
    with timed() as timing:
        for leaf in leaves:
            sha(leaf_prefix + leaf).digest()
        for _ in range(node_count):
            sha(node_input).digest()
    return _result(
        "floor",
        n,
        timing,
        setup_rss,
        leaf_hashes=len(leaves),
        node_hashes=node_count,
        mean_leaf_bytes=sum(map(len, leaves)) / max(len(leaves), 1),
    )


def stage_tree(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """Our trees over the same leaves: full tree (the headline), hashes-only, streaming."""
    from swapproto.merkle import MerkleTree, StreamingRootBuilder, leaf_hash
    from swapproto.merkle import root as merkle_root

    leaves, root = load_leaves(paths.manifest)
    setup_rss = peak_rss_mb()
    with timed() as timing:
        tree = MerkleTree(leaves)
    if tree.root != root:
        raise SystemExit("tree: root differs from the manifest header's")
    del tree
    with timed() as root_only:
        if merkle_root(leaves) != root:
            raise SystemExit("tree: merkle.root differs from the manifest header's")
    hashes = [leaf_hash(leaf) for leaf in leaves]
    with timed() as from_hashes:
        tree = MerkleTree.from_leaf_hashes(hashes)
    del tree, hashes
    with timed() as streaming:
        builder = StreamingRootBuilder()
        builder.add_leaves(leaves)
        streamed = builder.root()
    if streamed != root:
        raise SystemExit("tree: streaming root differs from the manifest header's")
    return _result(
        "tree",
        n,
        timing,
        setup_rss,
        root_seconds=root_only.seconds,
        from_leaf_hashes_seconds=from_hashes.seconds,
        streaming_seconds=streaming.seconds,
    )


def stage_pymerkle(n: int, paths: Paths, args: argparse.Namespace) -> Result:
    """pymerkle's InmemoryTree over the same leaves (or the first ``--pymerkle-size``),
    then our MerkleTree over the same leaves in the same process."""
    import pymerkle

    from swapproto.merkle import MerkleTree

    leaves, root = load_leaves(paths.manifest)
    m = min(args.pymerkle_size or n, n)
    subset = leaves[:m]
    del leaves
    setup_rss = peak_rss_mb()
    with timed() as timing:
        tree = pymerkle.InmemoryTree()  # sha256 with RFC 9162 prefixes: the same tree
        append = tree.append_entry
        for leaf in subset:
            append(leaf)
        pm_root = tree.get_root()
    del tree, append  # its ~2n node objects would otherwise burden our run's allocator
    with timed() as ours:
        our_root = MerkleTree(subset).root
    if pm_root != our_root or (m == n and our_root != root):
        raise SystemExit("pymerkle: roots differ (both are RFC 9162 trees; they must agree)")
    return _result(
        "pymerkle",
        n,
        timing,
        setup_rss,
        measured_n=m,
        extrapolated=m != n,
        seconds_at_n=timing.seconds * n / m,
        ours_seconds_same_n=ours.seconds,
        speedup_same_n=timing.seconds / ours.seconds,
        version=_version("pymerkle"),
    )


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def stage_disclose(n: int, paths: Paths, _args: argparse.Namespace) -> Result:
    """Read the manifest, hash every leaf into a tree, disclose entry 17 with its proof."""
    from swapproto.disclosure import collect_for_disclosure, make_disclosure
    from swapproto.manifest_file import ManifestReader

    setup_rss = peak_rss_mb()
    with timed() as timing, open(paths.manifest, "rb") as stream:
        reader = ManifestReader(stream)
        count = reader.unverified_header().count
        tree, kept = collect_for_disclosure(reader.leaves(count), [DISCLOSED_INDEX])
        data = make_disclosure(reader.header_bytes, tree, kept)
    paths.disclosure.write_bytes(data)
    return _result("disclose", n, timing, setup_rss, disclosure_bytes=len(data))


def stage_check(n: int, paths: Paths, args: argparse.Namespace) -> Result:
    """Verify one disclosure (proof + signature), averaged over ``--check-reps`` runs."""
    from swapproto.disclosure import verify_disclosure
    from swapproto.keys import SigningKey

    public_key = SigningKey.from_seed(KEY_SEED).public_key
    data = paths.disclosure.read_bytes()
    reps: int = args.check_reps
    with timed() as first:
        verified = verify_disclosure(data, public_key)
    if verified.entries[0].index != DISCLOSED_INDEX:
        raise SystemExit("check: wrong entry disclosed")
    setup_rss = peak_rss_mb()
    with timed() as timing:
        for _ in range(reps):
            verify_disclosure(data, public_key)
    return _result(
        "check",
        n,
        timing,
        setup_rss,
        reps=reps,
        per_check_us=timing.seconds / reps * 1e6,
        first_check_us=first.seconds * 1e6,
    )


StageFn = Callable[[int, Paths, argparse.Namespace], Result]
STAGE_FUNCTIONS: Final[dict[str, StageFn]] = {
    "csv": stage_csv,
    "build": stage_build,
    "build-serial": stage_build_serial,
    "straightforward": stage_straightforward,
    "verify-full": stage_verify_full,
    "verify-structural": stage_verify_structural,
    "floor": stage_floor,
    "tree": stage_tree,
    "pymerkle": stage_pymerkle,
    "disclose": stage_disclose,
    "check": stage_check,
}


def run_stage_here(args: argparse.Namespace) -> int:
    """Child mode: run one stage and print its result as one JSON line."""
    workdir = Path(args.workdir)
    result = STAGE_FUNCTIONS[args.stage](args.n, Paths.of(workdir, args.n), args)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------
# orchestration in the parent process (it imports no swapproto: its memory stays small)


def run_stage_once(stage: str, n: int, workdir: Path, args: argparse.Namespace) -> Result:
    """Run one stage in a fresh interpreter and return what it reported."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--stage",
        stage,
        "--n",
        str(n),
        "--workdir",
        str(workdir),
        "--check-reps",
        str(args.check_reps),
        "--pymerkle-size",
        str(args.pymerkle_size),
    ]
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        print(" FAILED", file=sys.stderr)
        raise SystemExit(f"stage {stage} (n={n}) failed with exit code {proc.returncode}")
    result: Result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_stage(
    stage: str, n: int, workdir: Path, args: argparse.Namespace, *, once: bool = False
) -> Result:
    """Run a stage ``--repeat`` times (``csv``, or any stage with ``once``, one time),
    each in a fresh process.

    The result is the run with the median time (its own extra fields included), with
    ``runs_seconds`` listing every run and ``rss_mb`` the largest peak of any run.
    """
    repeat = 1 if once or stage == "csv" else args.repeat
    label = f"{stage} (input)" if once else stage
    print(f"  {label:<18} n={n:>9,} ", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    runs: list[Result] = []
    for _ in range(repeat):
        runs.append(run_stage_once(stage, n, workdir, args))
        print(f" {runs[-1]['seconds']:.3f}", end="", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print(f" s  ({elapsed:.1f} s in all)", file=sys.stderr)
    result = dict(sorted(runs, key=lambda r: float(r["seconds"]))[(len(runs) - 1) // 2])
    result["runs_seconds"] = [r["seconds"] for r in runs]
    result["rss_mb"] = max(r["rss_mb"] for r in runs)
    return result


def _scaled(target: float, n: int) -> float:
    return target * n / TARGET_N


def _fmt_seconds(value: float) -> str:
    return f"{value:.3f}" if value < 100 else f"{value:.1f}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the printed table."""

    stage: str
    n: str
    seconds: str
    cpu: str
    rss: str
    target: str
    ratio: str
    verdict: str


TABLE_HEADER: Final = Row(
    "stage", "n", "wall s", "CPU s", "peak RSS MB", "target", "ratio", "result"
)


class _Evaluation:
    """Turns stage results into table rows and target checks."""

    def __init__(self, results: list[Result], sizes: Sequence[int]) -> None:
        self.by_key = {(r["stage"], r["n"]): r for r in results}
        self.results = results
        self.sizes = sorted(sizes)
        self.target_n = self.sizes[-1]
        self.rows: list[Row] = []
        self.checks: list[Result] = []

    def check(self, name: str, value: float, target: str, ok: bool) -> str:
        self.checks.append({"check": name, "value": value, "target": target, "pass": ok})
        return _verdict(ok)

    def run(self) -> tuple[list[Row], list[Result]]:
        order = {stage: i for i, stage in enumerate(TABLE_ORDER)}
        for r in sorted(self.results, key=lambda r: (r["n"], order[r["stage"]])):
            self.rows.append(self.row(r))
        self.flatness()
        return self.rows, self.checks

    def row(self, r: Result) -> Row:
        stage, size = r["stage"], r["n"]
        floor = self.by_key.get(("floor", size))
        ratio = ""
        if stage in RATIO_STAGES and floor and floor["seconds"] > 0:
            ratio = f"{r['seconds'] / floor['seconds']:.1f}x floor"
        build = self.by_key.get(("build", size))
        if stage == "straightforward" and build and r["seconds"] > 0:
            ratio = f"build {build['seconds'] / r['seconds']:.2f}x this"
        seconds = _fmt_seconds(r["seconds"])
        cpu = _fmt_seconds(r["cpu_seconds"] + r.get("worker_cpu_seconds", 0.0))
        parts: list[str] = []
        verdicts: list[str] = []

        def target(name: str, value: float, text: str, ok: bool) -> None:
            parts.append(text)
            verdicts.append(self.check(f"{name} n={size:,}", value, text, ok))

        if stage in TARGET_SECONDS and size == self.target_n:
            limit = _scaled(TARGET_SECONDS[stage], size)
            approx = "" if size == TARGET_N else "~"
            target(
                f"{stage} seconds", r["seconds"], f"<= {approx}{limit:.3g} s", r["seconds"] <= limit
            )
        if stage.startswith("verify-"):  # per process: the worker's too, if there was one
            peak = max(r["rss_mb"], r.get("worker_rss_mb", 0.0))
            ok = peak < TARGET_VERIFY_RSS_MB
            target(f"{stage} peak RSS", peak, f"< {TARGET_VERIFY_RSS_MB:.0f} MB", ok)
        if stage == "check":
            seconds = f"{r['per_check_us']:.0f} us/check"
            cpu = ""
            ok = r["per_check_us"] < TARGET_CHECK_US
            target("disclosure check", r["per_check_us"], f"< {TARGET_CHECK_US:.0f} us", ok)
        if stage == "pymerkle":
            seconds, ratio, speedup = self.pymerkle(r)
            if size == self.target_n:
                text = f"tree >= {TARGET_SPEEDUP:.0f}x faster"
                target("tree speedup over pymerkle", speedup, text, speedup >= TARGET_SPEEDUP)
        return Row(
            stage,
            f"{size:,}",
            seconds,
            cpu,
            f"{r['rss_mb']:.1f}"
            + (f" + {r['worker_rss_mb']:.1f}" if r.get("worker_rss_mb") else ""),
            "; ".join(parts),
            ratio,
            "/".join(verdicts),
        )

    def pymerkle(self, r: Result) -> tuple[str, str, float]:
        """(seconds cell, ratio cell, speedup) of a pymerkle result."""
        tree = self.by_key.get(("tree", r["n"]))
        if r["extrapolated"]:
            # Both trees timed on the same measured_n leaves in the pymerkle process; the
            # per-leaf ratio is carried over to n (pymerkle's per-leaf cost grows with
            # log n, so this understates its time at n).
            speedup = r["speedup_same_n"]
            seconds = f"{_fmt_seconds(r['seconds'])} at {r['measured_n']:,}"
            ratio = f"tree {speedup:.1f}x faster (per-leaf, at {r['measured_n']:,})"
        elif tree:
            speedup = r["seconds"] / tree["seconds"]
            seconds = _fmt_seconds(r["seconds"])
            ratio = f"tree {speedup:.1f}x faster"
        else:
            speedup = r["speedup_same_n"]
            seconds = _fmt_seconds(r["seconds"])
            ratio = f"tree {speedup:.1f}x faster"
        return seconds, ratio, speedup

    def flatness(self) -> None:
        small_n, n = self.sizes[0], self.sizes[-1]
        if small_n == n:
            return
        for stage in ("verify-full", "verify-structural"):
            small, large = self.by_key.get((stage, small_n)), self.by_key.get((stage, n))
            if not small or not large:
                continue
            growth = large["rss_mb"] - small["rss_mb"]
            ok = growth <= FLAT_TOLERANCE * small["rss_mb"]
            target = f"flat (<= +{FLAT_TOLERANCE:.0%})"
            verdict = self.check(f"{stage} peak RSS flat {small_n:,}->{n:,}", growth, target, ok)
            self.rows.append(
                Row(
                    f"{stage} RSS growth",
                    f"{small_n:,}->{n:,}",
                    "",
                    "",
                    f"{growth:+.1f}",
                    target,
                    f"{large['rss_mb'] / small['rss_mb']:.2f}x",
                    verdict,
                )
            )


def evaluate(results: list[Result], sizes: Sequence[int]) -> tuple[list[Row], list[Result]]:
    """Table rows and target checks (time targets at the largest size, scaled to it)."""
    return _Evaluation(results, sizes).run()


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table, numbers right-aligned."""
    cells = [
        [r.stage, r.n, r.seconds, r.cpu, r.rss, r.target, r.ratio, r.verdict]
        for r in (TABLE_HEADER, *rows)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    right = (False, True, True, True, True, False, True, False)

    def line(row: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in zip(widths, right, strict=True)
    )
    return "\n".join([line(cells[0]), rule + "|", *(line(row) for row in cells[1:])])


def _source_revision() -> str:
    """The git commit of the checkout (``+dirty`` if ``src`` has changes), if known."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine_info() -> Result:
    """What the numbers were measured on."""
    return {
        **_measure.machine_info(),
        "swapproto": _source_revision(),
        "pymerkle": _version("pymerkle"),
    }


@dataclass(frozen=True, slots=True)
class Planned:
    """One stage to run at one size; ``wanted`` is False for a stage run only to write
    the input of a wanted one (run once, not reported)."""

    stage: str
    n: int
    wanted: bool = True


def plan(args: argparse.Namespace, workdir: Path) -> list[Planned]:
    """The stages to run, in order: every wanted stage at each size.

    A wanted stage whose input is not in ``workdir`` brings the stage that writes it:
    ``csv`` for the builds and ``straightforward``, ``build`` for the stages that read the
    manifest (unless ``build-serial``, which writes the same file, is wanted), ``disclose``
    for ``check``.
    """
    planned: list[Planned] = []
    for n in args.sizes:
        paths = Paths.of(workdir, n)
        wanted = set(args.stages)
        needed = set(wanted)
        if "check" in needed and not paths.disclosure.exists():
            needed.add("disclose")
        builds = {"build", "build-serial"}
        reads_manifest = needed - {"csv", "straightforward", *builds}
        if reads_manifest and not paths.manifest.exists() and not needed & builds:
            needed.add("build")
        if needed & {*builds, "straightforward"} and not paths.csv.exists():
            needed.add("csv")
        planned += [Planned(stage, n, stage in wanted) for stage in STAGES if stage in needed]
    return planned


def _print_details(results: list[Result]) -> None:
    for r in results:
        if r["stage"] in ("build", "verify-full") and r.get("worker_cpu_seconds"):
            print(
                f"{r['stage']} n={r['n']:,}: this process {r['cpu_seconds']:.2f} s CPU, peak RSS"
                f" {r['rss_mb']:.1f} MB; its worker {r['worker_cpu_seconds']:.2f} s CPU, peak"
                f" RSS {r['worker_rss_mb']:.1f} MB"
            )
        if r["stage"] == "tree":
            print(
                f"tree n={r['n']:,}: MerkleTree(leaves) {r['seconds']:.3f} s;"
                f" merkle.root {r['root_seconds']:.3f} s;"
                f" from_leaf_hashes {r['from_leaf_hashes_seconds']:.3f} s;"
                f" StreamingRootBuilder {r['streaming_seconds']:.3f} s"
            )
        elif r["stage"] == "pymerkle":
            scaled = (
                f" (extrapolated linearly to {r['n']:,}: {r['seconds_at_n']:.2f} s)"
                if r["extrapolated"]
                else ""
            )
            print(
                f"pymerkle {r['version']} InmemoryTree.append_entry over"
                f" {r['measured_n']:,} leaves: {r['seconds']:.3f} s{scaled};"
                f" our MerkleTree over the same leaves in the same process"
                f" {r['ours_seconds_same_n']:.3f} s ({r['speedup_same_n']:.1f}x); roots agree"
            )


def orchestrate(args: argparse.Namespace) -> int:
    """Parent mode: run every stage in its own process, then report."""
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="swapbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    sizes = ", ".join(f"{n:,}" for n in args.sizes)
    print(f"swapproto manifest benchmark, n = {sizes}, workdir {workdir}", file=sys.stderr)
    started = time.perf_counter()
    try:
        results = []
        for planned in plan(args, workdir):
            result = run_stage(planned.stage, planned.n, workdir, args, once=not planned.wanted)
            if planned.wanted:
                results.append(result)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    rows, checks = evaluate(results, args.sizes)
    total = time.perf_counter() - started
    report = {
        "sizes": args.sizes,
        "repeat": args.repeat,
        "pymerkle_size": args.pymerkle_size or None,
        "machine": info,
        "results": results,
        "checks": checks,
        "total_seconds": total,
    }
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"\nswapproto {info['swapproto']} manifest benchmark: n = {sizes};"
            f" Python {info['python']} on {info['cpu']} ({info['cpus']} CPUs), {info['date']};"
            f" median of {args.repeat} fresh-process run(s) per stage; {total:.0f} s in all\n"
        )
        print(format_table(rows))
        print()
        _print_details(results)
        missed = [c["check"] for c in checks if not c["pass"]]
        print(f"\n{len(checks) - len(missed)}/{len(checks)} targets met", end="")
        print(f"; missed: {', '.join(missed)}" if missed else "")
    if args.keep or args.workdir:
        print(f"files kept in {workdir}", file=sys.stderr)
    return 0


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[100_000, TARGET_N],
        help="comma-separated entry counts, every stage runs at each (default 100000,1000000)",
    )
    parser.add_argument("--workdir", help="directory for the files (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--json-out", help="also write the JSON object to this file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="fresh-process runs per stage, the median is reported (csv runs once; default 3)",
    )
    parser.add_argument(
        "--pymerkle-size",
        type=int,
        default=0,
        help="time pymerkle (and our tree, same process) on this many leaves and report the"
        " per-leaf ratio (default: all leaves)",
    )
    parser.add_argument(
        "--check-reps", type=int, default=1000, help="disclosure checks to average over"
    )
    parser.add_argument(
        "--stages",
        type=lambda text: [s.strip() for s in text.split(",") if s.strip()],
        default=list(STAGES),
        help="comma-separated subset of: " + ", ".join(STAGES),
    )
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    if min(args.check_reps, args.repeat) < 1 or args.pymerkle_size < 0:
        parser.error("counts must be positive")
    if args.stage and (not args.workdir or args.n < 1):
        parser.error("--stage needs --workdir and --n")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.stage:
        return run_stage_here(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
