"""What every benchmark shares: the project's paths, the corpus it reads, the machine, the report.

A benchmark imports this module first (it puts the project root on `sys.path`, for `tests.*`):

    from common import Corpus, add_corpus_option, add_output_option, machine, write_section

- `--corpus DIR`: the real-world corpora, laid out as `../shared/corpora/` is (`trafilatura/tests/cache/*.html`,
  `feedparser/tests/...`). The default is `../shared/corpora` beside the project when it is there, else the
  subset that ships with the tests (`tests/data/corpora/`), so that a clone alone runs every benchmark.
- `--output FILE`: the markdown file whose section the results replace (docs/benchmarks.md).
- `machine()`: date, CPU, cores, memory, OS, Python and the versions of the packages named; `git_state()`
  the commit measured; `load_average()` how busy the machine was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
import redis.connection

if TYPE_CHECKING:
    from monitor.ingest.extract import Article

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.* (servers, HTTP server, fake Slack)

SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
SHARED_CORPORA = ROOT.parent / "shared" / "corpora"
SUBSET_CORPORA = ROOT / "tests" / "data" / "corpora"
HEADER = "# Benchmarks\n\nResults of the scripts in `bench/` (see bench/README.md), each with the machine it ran on.\n"


# The corpus ---------------------------------------------------------------------------------------


def default_corpus() -> Path:
    """../shared/corpora when it is beside the project, else the subset the tests ship."""
    return SHARED_CORPORA if SHARED_CORPORA.is_dir() else SUBSET_CORPORA


@dataclass(frozen=True, slots=True)
class Corpus:
    """A directory of corpora laid out as ../shared/corpora: `trafilatura/tests/cache/*.html`, `feedparser/tests/`."""

    root: Path

    @property
    def html_dir(self) -> Path:
        return self.root / "trafilatura" / "tests" / "cache"

    @property
    def is_subset(self) -> bool:
        return self.root.resolve() == SUBSET_CORPORA.resolve()

    def html_pages(self, limit: int | None = None) -> list[Path]:
        """The corpus's news pages, sorted by name (the first `limit`); exits with a one-line error when none."""
        pages = sorted(self.html_dir.glob("*.html"))
        if not pages:
            sys.exit(
                f"error: no pages in {self.html_dir}: pass --corpus DIR, a directory laid out as ../shared/corpora"
            )
        return pages[:limit] if limit else pages

    def describe(self, count: int | None = None) -> str:
        """Where the pages came from, for a report: "N pages of `DIR`" (just "`DIR`" without a count)."""
        shown = _shown(self.html_dir)
        pages = f"{count} pages of `{shown}`" if count is not None else f"`{shown}`"
        return pages + (" (the test subset: the full corpora were not beside the project)" if self.is_subset else "")


def _shown(path: Path) -> str:
    """A path relative to the project (../shared/... included) when it can be; else as given."""
    resolved = path.resolve()
    for base, prefix in ((ROOT, ""), (ROOT.parent, "../")):
        with contextlib.suppress(ValueError):
            return prefix + str(resolved.relative_to(base))
    return str(path)


def articles(pages: Iterable[Path]) -> Iterator[tuple[Path, Article]]:
    """The article of each page, extracted as the service extracts it (pages without one are left out)."""
    from monitor.ingest.extract import extract_article  # not for the benchmarks that read no pages

    for page in pages:
        article = extract_article(page.read_bytes())
        if article is not None:
            yield page, article


def add_corpus_option(parser: argparse.ArgumentParser) -> None:
    """`--corpus DIR` (parsed into a Corpus), defaulting to `default_corpus()`."""
    parser.add_argument(
        "--corpus",
        type=lambda value: Corpus(Path(value)),
        default=Corpus(default_corpus()),
        metavar="DIR",
        help="the corpora, laid out as ../shared/corpora (default: ../shared/corpora when present, "
        "else the tests' subset tests/data/corpora)",
    )


def add_output_option(parser: argparse.ArgumentParser, default: Path | None = None) -> None:
    """`--output FILE`: the markdown file whose section the results replace (none: print only)."""
    shown = f" (default: {default.relative_to(ROOT)})" if default is not None else " (default: print only)"
    parser.add_argument(
        "--output", type=Path, default=default, metavar="FILE", help="markdown file to write the results into" + shown
    )


# The machine ----------------------------------------------------------------------------------------


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def load_span(start: float | None) -> str:
    """The load average at the start of a run and now: `1.77 / 2.04 (start / end)`."""
    shown = (f"{x:.2f}" if x is not None else "unknown" for x in (start, load_average()))
    return " / ".join(shown) + " (start / end)"


def redis_server_version() -> str:
    """The version of the `redis-server` on PATH (the one tests.servers starts)."""
    try:
        done = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    version = next((word for word in done.stdout.split() if word.startswith("v=")), "v=unknown")
    return version.removeprefix("v=")


def machine(*packages: str) -> dict[str, str]:
    """What every result is measured on: date, CPU, cores, memory, OS, Python, and each package's version."""
    cpu, ram = "unknown", "unknown"
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total = next((line.split()[1] for line in meminfo if line.startswith("MemTotal:")), None)
        ram = f"{int(total) / 1024**2:.1f} GiB" if total else ram
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    info = {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu,
        "Cores (`nproc`)": str(cores),
        "RAM": ram,
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }
    for package in packages:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def machine_line(info: dict[str, str]) -> str:
    """The machine on one line: `Date ...; CPU ...; ...`."""
    return "; ".join(f"{key} {value}" for key, value in info.items())


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


# The report -----------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    """A target's row: met, or missed in bold."""
    return "met" if ok else "**MISSED**"


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


class RoundTrips:
    """Counts redis-py writes: one per command sent alone, one per pipeline execute (all its commands)."""

    count = 0

    @classmethod
    @contextmanager
    def installed(cls) -> Iterator[None]:
        original: Callable[..., None] = redis.connection.AbstractConnection.send_packed_command

        def counted(self: Any, command: Any, check_health: bool = True) -> None:
            cls.count += 1
            original(self, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        try:
            yield
        finally:
            redis.connection.AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
