"""Measuring one benchmark stage inside its own process: wall and CPU time, peak RSS.

Shared by ``bench_manifest.py`` and ``bench_transcript.py``. Peak RSS is read from
``/proc/self/status`` (``VmHWM``): a child's ``ru_maxrss`` on Linux starts from its
parent's peak, which would hide the stage's own figure.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "MB",
    "Timing",
    "children_usage",
    "cpu_seconds",
    "machine_info",
    "peak_rss_mb",
    "timed",
]

MB: Final = 1024 * 1024


def peak_rss_mb() -> float:
    """Peak RSS of this process in MiB (VmHWM on Linux, else ``ru_maxrss``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / MB if sys.platform == "darwin" else maxrss / 1024


def cpu_seconds() -> float:
    """User plus system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_usage() -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the child processes this one has waited for
    (the build's worker); the peak is that of the largest child."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    maxrss = usage.ru_maxrss / MB if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return usage.ru_utime + usage.ru_stime, maxrss


@dataclass(slots=True)
class Timing:
    """Filled in by :func:`timed` when its block ends."""

    seconds: float = 0.0
    cpu: float = 0.0
    children_cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Measure wall and CPU seconds of a block (children's CPU separately)."""
    timing = Timing()
    cpu0, children0 = cpu_seconds(), children_usage()[0]
    t0 = time.perf_counter()
    try:
        yield timing
    finally:
        timing.seconds = time.perf_counter() - t0
        timing.cpu = cpu_seconds() - cpu0
        timing.children_cpu = children_usage()[0] - children0


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: Python, platform, CPU model and count, date."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
