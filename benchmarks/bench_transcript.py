"""Transcript benchmark: verify a whole N-for-N exchange, sealed lists included.

Run from the repository root::

    python benchmarks/bench_transcript.py                 # 1,000,000 per side (minutes)
    python benchmarks/bench_transcript.py --size 100000   # quicker
    python benchmarks/bench_transcript.py --json          # one JSON object instead of the table

The exchange is the demo's (``swapproto demo``, ``examples/demo.sh``) at ``--size``
prisoners per side: CSVs and terms, keys, terms signed by both parties, both lists built,
committed, revealed sealed to the counterparty and the mediator, and accepted by both.
Then the two measured commands run, each in a fresh process:

* ``swapproto verify xch/ --key keys/tr.key --json``: the mediator's verification,
  decrypting both sealed lists and checking every entry of both (signatures, canonical
  form and schema of every entry, roots, rules, eligibility);
* ``swapproto verify xch/ --json``: the same without a key (sealed content not opened).

Every command, setup included, runs as its own process (``--cli-child``, normally
started by this script) that calls the ``swapproto`` command in-process, exactly as the
console script does, and records its wall and CPU seconds and its peak RSS (``VmHWM``
from ``/proc/self/status``; see ``bench_manifest.py`` for why not ``ru_maxrss``). The
parent also reports the wall time of the whole process, interpreter start-up included.
All commands get ``--now`` (a fixed time inside the terms' deadlines) so the run is
reproducible; keys are fresh, so file bytes differ from run to run, timings do not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from _measure import MB, machine_info, peak_rss_mb, timed

Result = dict[str, Any]

DEFAULT_SIZE: Final = 1_000_000
REFERENCE: Final = dt.date(2025, 6, 2)
"""The terms' reference date (ages are computed at it); the deadlines follow it."""
NOW: Final = int(dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC).timestamp())
"""``--now`` of every command: after the reference date, before the commit deadline."""
SIDES: Final = ("ua", "ru")
MEDIATOR: Final = "tr"
CLI_CHILD: Final = "--cli-child"
SETUP_MARKER: Final = "setup.json"
LOAD_AT_START: Final = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0


@dataclass(frozen=True, slots=True)
class Step:
    """One ``swapproto`` command of the exchange."""

    name: str
    argv: tuple[str, ...]
    measured: bool = False


def setup_steps() -> list[Step]:
    """The exchange up to both parties' acceptance (the demo's STEPS, with ``--now``)."""
    now = ("--now", str(NOW), "--json")
    steps = [
        Step(f"keygen {name}", ("keygen", name, "-o", "keys/", "--json"))
        for name in (*SIDES, MEDIATOR)
    ]
    steps.append(Step("terms new", ("terms", "new", "terms.toml", "-o", "xch/", "--json")))
    steps += [
        Step(f"terms sign {side}", ("terms", "sign", "xch/", "--key", f"keys/{side}.key", *now))
        for side in SIDES
    ]
    steps += [
        Step(
            f"manifest build {side}",
            (
                "manifest",
                "build",
                "--exchange",
                "xch/",
                "--list",
                "pows",
                "--from",
                f"{side}.csv",
                "--key",
                f"keys/{side}.key",
                "-o",
                f"{side}.manifest",
                "--created-at",
                str(NOW),
                "--json",
            ),
        )
        for side in SIDES
    ]
    for verb in ("commit", "reveal"):
        steps += [
            Step(
                f"{verb} {side}",
                (verb, "xch/", f"{side}.manifest", "--key", f"keys/{side}.key", *now),
            )
            for side in SIDES
        ]
    steps += [
        Step(f"accept {side}", ("accept", "xch/", "--key", f"keys/{side}.key", *now))
        for side in SIDES
    ]
    return steps


MEASURED_STEPS: Final = (
    Step(
        "verify --key (mediator)",
        ("verify", "xch/", "--key", f"keys/{MEDIATOR}.key", "--now", str(NOW), "--json"),
        measured=True,
    ),
    Step("verify (no key)", ("verify", "xch/", "--now", str(NOW), "--json"), measured=True),
)


# --------------------------------------------------------------------------------------
# measurement inside a child process


def cli_child(out: Path, argv: list[str]) -> int:
    """Child mode: run one ``swapproto`` command in-process, then record the measurement.

    The command's own output goes to this process's stdout; the measurement goes to
    ``out`` as JSON.
    """
    from swapproto.cli import app

    setup_rss = peak_rss_mb()
    code: object = None
    with timed() as timing:
        try:
            code = app(argv, prog_name="swapproto", standalone_mode=False)
        except SystemExit as exc:  # click usage errors, in case
            code = exc.code
    sys.stdout.flush()
    exit_code = code if isinstance(code, int) else 0
    out.write_text(
        json.dumps(
            {
                "seconds": timing.seconds,
                "cpu_seconds": timing.cpu,
                "rss_mb": peak_rss_mb(),
                "setup_rss_mb": setup_rss,
                "exit_code": exit_code,
                "load1": LOAD_AT_START,
            }
        ),
        encoding="utf-8",
    )
    return exit_code


def data_child(workdir: Path, size: int) -> int:
    """Child mode: both sides' CSVs and the terms, as ``swapproto demo`` writes them."""
    from swapproto.demo_data import demo_terms, write_prisoner_csv

    with timed() as timing:
        for side in SIDES:
            with (workdir / f"{side}.csv").open("w", encoding="utf-8", newline="") as out:
                write_prisoner_csv(out, size, side=side, reference=REFERENCE)
        (workdir / "terms.toml").write_text(demo_terms(REFERENCE, size), encoding="utf-8")
    print(
        json.dumps(
            {
                "seconds": timing.seconds,
                "cpu_seconds": timing.cpu,
                "rss_mb": peak_rss_mb(),
                "exit_code": 0,
                "load1": LOAD_AT_START,
            }
        )
    )
    return 0


# --------------------------------------------------------------------------------------
# orchestration in the parent process (it imports no swapproto: its memory stays small)


def _child_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def run_data(workdir: Path, size: int) -> Result:
    """Generate the CSVs and terms in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.run(
        _child_command("--data-child", "--size", str(size), "--workdir", str(workdir)),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"generating the data failed with exit code {proc.returncode}")
    result: Result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(step="csv + terms", process_seconds=time.perf_counter() - started)
    return result


def run_step(step: Step, workdir: Path) -> Result:
    """Run one command in a fresh process; return its measurement and its JSON output."""
    fd, measure_name = tempfile.mkstemp(prefix=".measure-", suffix=".json", dir=workdir)
    os.close(fd)
    measure = Path(measure_name)
    try:
        with tempfile.TemporaryFile(dir=workdir) as output:
            started = time.perf_counter()
            proc = subprocess.Popen(
                _child_command(CLI_CHILD, str(measure), *step.argv), cwd=workdir, stdout=output
            )
            # wait4 gives the child's rusage; its ru_maxrss also counts this (small)
            # parent's peak, since the child was spawned from it: a cross-check only.
            _, status, usage = os.wait4(proc.pid, 0)
            process_seconds = time.perf_counter() - started
            output.seek(0)
            text = output.read().decode("utf-8")
        exit_code = os.waitstatus_to_exitcode(status)
        proc.returncode = exit_code
        measured = measure.read_text(encoding="utf-8")
    finally:
        measure.unlink(missing_ok=True)
    command = "swapproto " + " ".join(step.argv)
    if exit_code != 0 or not measured:
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"{command} failed with exit code {exit_code}")
    result: Result = json.loads(measured)
    result.update(
        step=step.name,
        command=command,
        measured=step.measured,
        process_seconds=process_seconds,
        ru_maxrss_mb=usage.ru_maxrss / 1024,
    )
    if result["exit_code"] != 0:
        sys.stderr.write(text[-4000:])
        raise SystemExit(f"{command} failed with exit code {result['exit_code']}")
    if step.measured:
        result["report"] = summarise(json.loads(text))
    return result


def summarise(report: Result) -> Result:
    """What the table needs from a ``verify --json`` report."""
    failed = [c for c in report.get("checks", []) if not c.get("ok")]
    return {
        "ok": report.get("ok"),
        "state": report.get("state"),
        "messages": report.get("messages"),
        "checks": len(report.get("checks", [])),
        "failed_checks": failed,
        "lists": [
            {
                "list": s.get("list"),
                "side": s.get("side"),
                "count": s.get("count"),
                "content_checked": s.get("content_checked"),
            }
            for s in report.get("lists", [])
        ],
    }


def setup(workdir: Path, size: int, reuse: bool) -> list[Result]:
    """Run (or reuse) the exchange up to both acceptances; return the step results."""
    marker = workdir / SETUP_MARKER
    if reuse and marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if saved.get("size") == size:
            print(f"  reusing the exchange in {workdir}", file=sys.stderr)
            steps: list[Result] = saved["steps"]
            return steps
    marker.unlink(missing_ok=True)  # a failed set-up must not be reused
    for name in ("keys", "xch"):
        shutil.rmtree(workdir / name, ignore_errors=True)
    for pattern in ("*.manifest", "*.manifest.opening"):
        for path in workdir.glob(pattern):
            path.unlink()
    results = [_progress(partial(run_data, workdir, size), "csv + terms")]
    for step in setup_steps():
        results.append(_progress(partial(run_step, step, workdir), step.name))
    marker.write_text(json.dumps({"size": size, "steps": results}), encoding="utf-8")
    return results


def _progress(run: Callable[[], Result], name: str) -> Result:
    print(f"  {name:<26}", end="", file=sys.stderr, flush=True)
    result: Result = run()
    print(f" {result['seconds']:8.3f} s  peak RSS {result['rss_mb']:7.1f} MB", file=sys.stderr)
    return result


def measure(workdir: Path, repeat: int) -> list[Result]:
    """Each measured command ``repeat`` times; the run with the median time is kept."""
    results = []
    for step in MEASURED_STEPS:
        runs = [_progress(partial(run_step, step, workdir), step.name) for _ in range(repeat)]
        result = dict(sorted(runs, key=lambda r: float(r["seconds"]))[(len(runs) - 1) // 2])
        result["runs_seconds"] = [r["seconds"] for r in runs]
        result["rss_mb"] = max(r["rss_mb"] for r in runs)
        results.append(result)
    return results


def _disk_mb(workdir: Path) -> Result:
    files = {
        "csv (both)": sum(p.stat().st_size for p in workdir.glob("*.csv")),
        "manifests (both)": sum(p.stat().st_size for p in workdir.glob("*.manifest")),
        "sealed blobs (both)": sum(p.stat().st_size for p in (workdir / "xch").glob("*.spblob")),
    }
    return {name: size / MB for name, size in files.items()}


def format_table(results: Sequence[Result]) -> str:
    """A Markdown table of every step, the measured ones in bold."""
    header = ("step", "wall s", "CPU s", "process s", "peak RSS MB", "result")
    rows = [header]
    for r in results:
        verdict = ""
        if "report" in r:
            rep = r["report"]
            lists = ", ".join(
                f"{s['side']} {s['count']:,}{' checked' if s['content_checked'] else ' sealed'}"
                for s in rep["lists"]
            )
            verdict = (
                f"{'ok' if rep['ok'] else 'FAILED'}, state {rep['state']}, {rep['checks']} checks,"
                f" {rep['messages']} messages; {lists}"
            )
        name = f"**{r['step']}**" if r.get("measured") else r["step"]
        rows.append(
            (
                name,
                f"{r['seconds']:.3f}",
                f"{r['cpu_seconds']:.3f}",
                f"{r['process_seconds']:.3f}",
                f"{r['rss_mb']:.1f}",
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = (False, True, True, True, True, False)

    def line(row: Sequence[str]) -> str:
        cells = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        )
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in zip(widths, right, strict=True)
        )
        + "|"
    )
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def orchestrate(args: argparse.Namespace) -> int:
    """Parent mode: set the exchange up, time the two verifications, report."""
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="swapxch-"))
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    print(
        f"swapproto transcript benchmark, {args.size:,} per side, workdir {workdir}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    try:
        steps = setup(workdir, args.size, args.reuse)
        measured = measure(workdir, args.repeat)
        disk = _disk_mb(workdir)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - started
    ok = all(r["report"]["ok"] and r["report"]["state"] == "agreed" for r in measured)
    report = {
        "size": args.size,
        "repeat": args.repeat,
        "machine": info,
        "steps": steps,
        "verify": measured,
        "disk_mb": disk,
        "ok": ok,
        "total_seconds": total,
    }
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"\nswapproto transcript benchmark: {args.size:,}-for-{args.size:,} exchange;"
            f" Python {info['python']} on {info['cpu']} ({info['cpus']} CPUs), {info['date']};"
            f" verify: median of {args.repeat} fresh-process run(s); {total:.0f} s in all\n"
        )
        print(format_table([*steps, *measured]))
        print(
            "\nwall s / CPU s: the command inside its process; process s: the whole process,"
            " interpreter start-up and imports included."
        )
        print("files: " + "; ".join(f"{name} {size:.0f} MB" for name, size in disk.items()))
        print("transcript verified: " + ("yes, state agreed" if ok else "NO"))
    if args.keep or args.workdir:
        print(f"files kept in {workdir}", file=sys.stderr)
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--size", type=int, default=DEFAULT_SIZE, help="prisoners per side (default 1,000,000)"
    )
    parser.add_argument("--workdir", help="directory for the exchange (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --workdir: reuse an exchange set up there at the same --size",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="fresh-process runs of each verify (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--json-out", help="also write the JSON object to this file")
    parser.add_argument("--data-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size < 1 or args.repeat < 1:
        parser.error("--size and --repeat must be positive")
    if args.reuse and not args.workdir:
        parser.error("--reuse needs --workdir")
    if args.data_child and not args.workdir:
        parser.error("--data-child needs --workdir")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [CLI_CHILD]:
        return cli_child(Path(arguments[1]), arguments[2:])
    args = parse_args(arguments)
    if args.data_child:
        return data_child(Path(args.workdir), args.size)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
