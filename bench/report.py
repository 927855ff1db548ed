"""Benchmark results go into docs/benchmarks.md, one section per script, replaced on each run."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nResults of the scripts in `bench/` (see bench/README.md), each with the machine it ran on.\n"


def write_section(path: Path, name: str, markdown: str) -> None:
    """Put `markdown` between the `name` markers of `path`, replacing what was there (or append it)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = f"{before}{block}\n{after}" if after else f"{before}{block}"
    else:
        text = f"{text.rstrip()}\n\n{block}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine() -> dict[str, str]:
    """What every result is measured on: date, CPU, cores, memory, OS and Python."""
    cpu, ram = "unknown", "unknown"
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total = next((line.split()[1] for line in meminfo if line.startswith("MemTotal:")), None)
        ram = f"{int(total) / 1024**2:.1f} GiB" if total else ram
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "Cores (`nproc`)": str(cores),
        "RAM": ram,
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def git_state(*paths: str) -> str:
    """The commit measured, and whether `paths` (the code timed) had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown"
    dirty = git("status", "--porcelain", "--", *(paths or ("monitor",)))
    where = ", ".join(paths or ("monitor",))
    return f"commit {commit}" + (f" with uncommitted changes in {where}" if dirty else f", {where} as committed")
