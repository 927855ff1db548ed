"""Benchmark rules at scale: 1,000 to 350,000 generated rules, loaded, reloaded and matched.

Run from the project root:

    .venv/bin/python bench/rules_scale.py                 # full run (about half an hour; needs ~4 GiB)
    .venv/bin/python bench/rules_scale.py --quick         # 1,000 and 10,000 rules, prints only
    .venv/bin/python bench/rules_scale.py --sizes 100000  # some sizes only, prints only (unless --output)

For each size, with the rules in one file and spread over 1,000 files (bench/rules_gen.py writes
them: realistic shapes using the whole rule language), a fresh process measures:

- cold load (`load_rules`: YAML and validation) and build (`Matcher(rules)`);
- a one-file reload: one rule file edited, `load_rules(dir, previous)` then `matcher.updated(rules)`;
- a broken reload: two errors in one file, refused whole (every error listed, the matcher kept);
- per-document match time (mean and p99 over every timed call) over real page texts, and the
  bare Aho-Corasick pass over the same texts (bench/matcher.py's floor);
- candidates evaluated per document (rules whose anchor terms occur), anchored by rarity (ours)
  and, in a second process, by fewest terms (`TermFrequency.uniform()`, the matcher before);
- peak RSS and the memory the rules keep (RSS after build minus RSS before load, per rule).

It prints a table and, on a full run, writes its section of docs/benchmarks.md. Timings are never
asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BENCHMARKS,
    ROOT,
    add_corpus_option,
    git_state,
    load_average,
    load_span,
    machine,
    verdict,
    write_section,
)
from matcher import BarePass, Vocabulary, load_documents
from rules_gen import RuleWriter, write_directory

from monitor.document import Document
from monitor.errors import RuleLoadError
from monitor.rules.frequency import TermFrequency
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.yamlfile import MAX_YAML_BYTES

SIZES = (1_000, 10_000, 100_000, 350_000)
QUICK_SIZES = (1_000, 10_000)
FILES = 1_000  # the "many files" layout
REPS = 3  # timed passes over the documents

# Targets from the issue (#17).
BIG = 350_000
TARGET_COLD = 30.0  # s: cold load and build at 350,000 rules
TARGET_RELOAD = 2.0  # s: a one-file reload at 350,000 rules
TARGET_RSS = 3 * 1024**3  # bytes: peak RSS at 350,000 rules
TARGET_P99 = 0.100  # s: match p99 per document at 350,000 rules
SMALL = 10_000
TARGET_SMALL_LOAD = 1.0  # s: load at 10,000 rules
TARGET_VS_BARE = 8.0  # ours / bare pass at 10,000 rules


# The measuring child ---------------------------------------------------------------------------


def rss() -> int:
    """Resident memory now (bytes)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# Matching is timed in the process's CPU time: on a machine shared with other work (two cores and a
# team's test suites), the wall clock of a few milliseconds measures the neighbours as much as the code.
cpu = time.process_time


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def edit_one_file(directory: Path, round_: int) -> Path:
    """Change the title of the first rule of the middle rule file (as an analyst's edit would)."""
    files = sorted(p for p in directory.rglob("*.yaml") if "lists" not in p.parts)
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    marker = "title: "
    at = text.index(marker) + len(marker)
    path.write_text(text[:at] + f'"Edited {round_}: ' + text[at + 1 :], encoding="utf-8")
    return path


def break_one_file(directory: Path) -> tuple[Path, str]:
    """Put two errors in one file (an unknown key, a wrong severity); returns it and its old text."""
    files = sorted(p for p in directory.rglob("*.yaml") if "lists" not in p.parts)
    path = files[len(files) // 3]
    old = path.read_text(encoding="utf-8")
    lines = old.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("title:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines.insert(at + 1, f"{indent}colour: red")
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("severity:"))
    lines[at] = lines[at].split("severity:")[0] + "severity: urgent"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, old


def child(directory: Path, docs_path: Path, uniform: bool, profile: bool) -> dict[str, Any]:
    """Everything measured in one fresh process (printed as JSON by `main`)."""
    texts = json.loads(docs_path.read_text(encoding="utf-8"))
    docs = [Document(id=str(i), title=t, text=x, language=lang) for i, (t, x, lang) in enumerate(texts)]
    gc.collect()
    before = rss()
    out: dict[str, Any] = {}
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    start, start_cpu = time.perf_counter(), cpu()
    ruleset = load_rules(directory)
    out["load"], out["load_cpu"] = time.perf_counter() - start, cpu() - start_cpu
    start, start_cpu = time.perf_counter(), cpu()
    matcher = Matcher(ruleset.rules, TermFrequency.uniform() if uniform else None)
    out["build"], out["build_cpu"] = time.perf_counter() - start, cpu() - start_cpu
    if profiler:
        profiler.disable()
        out["profile"] = profile_text(profiler)
    gc.collect()
    out["rules"] = len(matcher.rules)
    out["kept_bytes"] = rss() - before
    if profiler:
        # And one pass of matching over the documents (after an untimed one, as below).
        for doc in docs:
            matcher.match(doc)
        profiler = cProfile.Profile()
        profiler.enable()
        for doc in docs:
            matcher.match(doc)
        profiler.disable()
        out["match_profile"] = profile_text(profiler)
        return out
    out["candidates"] = statistics.fmean(len(matcher.candidates(doc)) for doc in docs)
    out["candidates_one"] = statistics.fmean(len(matcher.candidates(doc, anchors=1)) for doc in docs)
    out.update(anchor_shape(matcher))
    if uniform:
        out["peak_rss"] = peak_rss()
        return out

    # Matching and the bare pass over the same documents, after one untimed pass of each: each
    # document goes through both, one right after the other (the order alternating), so that both
    # are timed under the same conditions. Timed in passes of their own, one after the other, the
    # bare pass ran with its automaton hot in the caches and took half the time it takes between
    # matches (0.29 against 0.65 ms at 10,000 rules): the ratio measured the caches, 22x against 9.6x.
    bare = BarePass(ruleset.rules)
    for doc in docs:
        matcher.match(doc)
        bare.match(doc)
    samples: list[float] = []
    bare_samples: list[float] = []
    matches = 0
    for rep in range(REPS):
        for i, doc in enumerate(docs):
            if (rep + i) % 2:
                start = cpu()
                bare.match(doc)
                bare_samples.append(cpu() - start)
            start = cpu()
            matches += len(matcher.match(doc))
            samples.append(cpu() - start)
            if not (rep + i) % 2:
                start = cpu()
                bare.match(doc)
                bare_samples.append(cpu() - start)
    out["match_mean"] = statistics.fmean(samples)
    out["match_p99"] = percentile(samples, 0.99)
    out["matches"] = matches / (REPS * len(docs))
    out["bare_mean"] = statistics.fmean(bare_samples)
    del bare

    # One-file reloads (three edits; the median), then a broken file refused whole.
    reloads = []
    for round_ in range(3):
        edit_one_file(directory, round_)
        start, start_cpu = time.perf_counter(), cpu()
        ruleset = load_rules(directory, previous=ruleset)
        updated = matcher.updated(ruleset.rules)
        reloads.append((time.perf_counter() - start, cpu() - start_cpu, ruleset.read))
        matcher = updated
    out["reload"] = statistics.median(r[0] for r in reloads)
    out["reload_cpu"] = statistics.median(r[1] for r in reloads)
    out["reload_files_read"] = reloads[0][2]
    path, old = break_one_file(directory)
    start = time.perf_counter()
    try:
        load_rules(directory, previous=ruleset)
        out["broken_errors"] = []
    except RuleLoadError as exc:
        out["broken_errors"] = exc.errors
    out["broken_refused"] = time.perf_counter() - start
    path.write_text(old, encoding="utf-8")
    out["kept_matching"] = len(matcher.rules) == out["rules"]
    out["peak_rss"] = peak_rss()
    return out


def anchor_shape(matcher: Matcher) -> dict[str, float]:
    """How likely the rules' anchors are to be found in an article: the median, and the share of
    rules anchored on terms found in a tenth of articles or more (common words)."""
    likely = matcher.anchor_likelihoods()
    return {
        "anchor_rules": len(likely),
        "anchor_median": statistics.median(likely) if likely else 0.0,
        "anchor_common": sum(x >= 0.1 for x in likely) / max(1, len(likely)),
    }


def shipped_anchor_shape() -> dict[str, float]:
    """`anchor_shape` of the rules that ship in rules/ (written by analysts), for comparison."""
    return anchor_shape(Matcher(load_rules(ROOT / "rules").rules))


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def profile_text(profiler: cProfile.Profile, top: int = 18) -> str:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    lines = stream.getvalue().splitlines()
    first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    prefixes = sorted({str(ROOT) + "/", sys.prefix + "/", sys.base_prefix + "/"}, key=len, reverse=True)
    kept = []
    for line in lines[first:]:
        for prefix in prefixes:
            line = line.replace(prefix, "")
        if line.strip():
            kept.append(line.rstrip())
    return "\n".join(kept)


# The parent ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    size: int
    layout: str  # "one file" or "1,000 files"
    ours: dict[str, Any]
    uniform: dict[str, Any] | None


def measure(directory: Path, docs_path: Path, uniform: bool = False, profile: bool = False) -> dict[str, Any]:
    """Run the child in a fresh process and return what it measured."""
    command = [sys.executable, __file__, "--child", str(directory), str(docs_path)]
    command += ["--uniform"] if uniform else []
    command += ["--profile"] if profile else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the measuring process failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def oversized_refusal(workdir: Path) -> tuple[str, float]:
    """A 200 MB rule file (real YAML, written once) beside a good one: the message and the time to refuse."""
    directory = workdir / "oversized"
    directory.mkdir(exist_ok=True)
    (directory / "ok.yaml").write_text("id: ok\ntitle: OK\nwhen: Putin\n", encoding="utf-8")
    rule = "  - id: r{n:09d}\n    title: A rule of a very large file\n    when: {{all: [Putin, Macron]}}\n"
    big = directory / "huge.yaml"
    with big.open("w", encoding="utf-8") as f:
        f.write("rules:\n")
        n = 0
        while f.tell() < 200 * 1000**2:
            f.write("".join(rule.format(n=n + k) for k in range(1000)))
            n += 1000
    start = time.perf_counter()
    try:
        load_rules(directory)
        message = "loaded (not refused!)"
    except RuleLoadError as exc:
        message = "; ".join(exc.errors)
    elapsed = time.perf_counter() - start
    big.unlink()
    return message, elapsed


def size_label(n: int) -> str:
    return f"{n:,}"


def seconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def mib(value: float) -> str:
    return f"{value / 1024**2:,.0f}"


@dataclass(slots=True)
class Report:
    runs: list[Run]
    docs: list[Document]  # the documents matched
    corpus: int  # documents in all (every other one is a source of rules)
    source: str
    machine: dict[str, str]
    oversized: tuple[str, float] | None
    profile: str | None
    shipped: dict[str, float] | None = None  # anchor_shape of the shipped rules
    match_profile: str | None = None
    profiled: int = 0  # how many rules the profiles are of

    def run(self, size: int, layout: str) -> Run | None:
        return next((r for r in self.runs if r.size == size and r.layout == layout), None)

    def targets(self) -> list[tuple[str, str, bool]]:
        rows: list[tuple[str, str, bool]] = []
        for layout in ("one file", f"{FILES:,} files"):
            big = self.run(BIG, layout)
            if big is None:
                continue
            o = big.ours
            cold = o["load_cpu"] + o["build_cpu"]
            rows += [
                (f"{BIG:,} rules ({layout}): cold load and build under {TARGET_COLD:.0f} s",
                 f"{cold:.1f} s CPU ({o['load'] + o['build']:.1f} s wall)",
                 cold < TARGET_COLD),
                (f"{BIG:,} rules ({layout}): one-file reload under {TARGET_RELOAD:.0f} s",
                 f"{o['reload_cpu']:.2f} s CPU ({o['reload']:.2f} s wall)", o["reload_cpu"] < TARGET_RELOAD),
                (f"{BIG:,} rules ({layout}): peak RSS under 3 GiB", f"{mib(o['peak_rss'])} MiB",
                 o["peak_rss"] < TARGET_RSS),
                (f"{BIG:,} rules ({layout}): match p99 under 100 ms", f"{ms(o['match_p99'])} ms",
                 o["match_p99"] < TARGET_P99),
            ]  # fmt: skip
        small = self.run(SMALL, f"{FILES:,} files") or self.run(SMALL, "one file")
        if small is not None:
            o = small.ours
            ratio = o["match_mean"] / o["bare_mean"]
            rows += [
                (f"{SMALL:,} rules: load under {TARGET_SMALL_LOAD:.0f} s",
                 f"{o['load_cpu']:.2f} s CPU ({o['load']:.2f} s wall)", o["load_cpu"] < TARGET_SMALL_LOAD),
                (f"{SMALL:,} rules: matcher within {TARGET_VS_BARE:.0f}x a bare automaton pass", f"{ratio:.1f}x",
                 ratio <= TARGET_VS_BARE),
            ]  # fmt: skip
        return rows

    def table(self) -> list[str]:
        rows = [
            "| rules | layout | cold load s (CPU) | build s (CPU) | one-file reload s (CPU; files read) "
            "| broken reload refused s | match mean ms | match p99 ms | bare pass ms | ours / bare "
            "| candidates/doc (one anchor; before #17) | matches/doc | kept bytes/rule | peak RSS MiB |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.runs:
            o = r.ours
            before = f"; {r.uniform['candidates_one']:,.1f}" if r.uniform else ""
            before = f" ({o['candidates_one']:,.1f}{before})"
            rows.append(
                f"| {size_label(r.size)} | {r.layout} | {seconds(o['load'])} ({seconds(o['load_cpu'])})"
                f" | {seconds(o['build'])} ({seconds(o['build_cpu'])}) "
                f"| {o['reload']:.2f} ({o['reload_cpu']:.2f}; {o['reload_files_read']}) | {o['broken_refused']:.2f} "
                f"| {ms(o['match_mean'])} | {ms(o['match_p99'])} | {ms(o['bare_mean'])} "
                f"| {o['match_mean'] / o['bare_mean']:.1f}x | {o['candidates']:,.1f}{before} | {o['matches']:.1f} "
                f"| {o['kept_bytes'] / r.size:,.0f} | {mib(o['peak_rss'])} |"
            )
        return rows

    def print(self) -> None:
        print()
        print("\n".join(self.table()))
        print()
        for text, value, ok in self.targets():
            print(f"- {text}: {value}: {'met' if ok else 'MISSED'}")
        for r in self.runs:
            errors = r.ours["broken_errors"]
            print(f"- broken reload at {r.size:,} ({r.layout}): {len(errors)} errors: {' | '.join(errors)[:300]}")
        if self.oversized:
            print(f"- 200 MB rule file: refused in {self.oversized[1]:.3f} s: {self.oversized[0]}")
        if self.profile:
            print()
            print(self.profile)
        if self.match_profile:
            print()
            print(self.match_profile)

    def breadth(self) -> list[str]:
        """How broad the generated rules are, beside the shipped ones (the realism of the presearch's task)."""
        if not self.runs:
            return []
        r = max(self.runs, key=lambda run: run.size)
        o = r.ours
        text = (
            f"**How broad they are**: at {r.size:,} rules, the generated rules' first anchor sets are found in a"
            f" median {o['anchor_median']:.1%} of articles (by `frequency.tsv`, terms taken as independent),"
            f" and {o['anchor_common']:.0%} of the rules are anchored on words found in a tenth of articles or more;"
        )
        if self.shipped:
            text += (
                f" the {self.shipped['anchor_rules']:.0f} rules that ship in `rules/` (written by analysts, each"
                f" anchored on a long multilingual list): {self.shipped['anchor_median']:.0%} and"
                f" {self.shipped['anchor_common']:.0%}, which is why the presearch cannot rule them out and"
                " evaluates them on most documents."
            )
        text += (
            f" A document matches {1000 * o['matches'] / r.size:.2f} generated rules per 1,000 (matches/doc above):"
            " broader than analysts' rules, which are written to match one kind of story; narrower than a"
            " rule set in which many subscribers follow the same names (Luwak's stored searches). Anchors all"
            " on rare words would flatter the presearch, all on common words would be unfair to it; these mix"
            " words of one document (55%), of two documents or more (25%) and rare or invented ones (20%)."
        )
        return textwrap.wrap(text, 100, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)

    def markdown(self) -> str:
        chars = [len(d.title) + len(d.text) for d in self.docs]
        sizes = sorted({r.size for r in self.runs})
        lines = [
            "## Rules at scale",
            "",
            f"Generated rules ({', '.join(size_label(s) for s in sizes)}), in one file and in {FILES:,} files:"
            " cold load, build, reloads, matching and memory, each size and layout in a fresh process.",
            "Produced by `bench/rules_scale.py` (this section is written by the script; rerun it rather than editing"
            " the numbers by hand):",
            "",
            "```",
            ".venv/bin/python bench/rules_scale.py          # full run, about half an hour; rewrites this section",
            ".venv/bin/python bench/rules_scale.py --quick  # 1,000 and 10,000 rules; prints only",
            "```",
            "",
            *(
                [
                    f"**A partial run** ({', '.join(size_label(n) for n in sizes)} rules): the targets at"
                    f" {BIG:,} rules are measured by the full run (`bench/rules_scale.py` without options).",
                    "",
                ]
                if BIG not in sizes
                else []
            ),
            "### Targets",
            "",
            "| target | measured | |",
            "|---|---:|---|",
            *[f"| {text} | {value} | {verdict(ok)} |" for text, value, ok in self.targets()],
            "",
            "### Results",
            "",
            *self.table(),
            "",
            "- **cold load**: `load_rules(directory)` in a fresh process (YAML parsed by yaml-rs, files over",
            "  32 MiB by libyaml; every rule validated); **build**: `Matcher(rules)` (terms compiled, one",
            "  Aho-Corasick automaton, rules indexed by anchor term). Wall clock and, in brackets, the process's",
            "  CPU time: what a machine of its own would take, near enough (the files are in the page cache);",
            "  the targets are judged on it.",
            "- **one-file reload**: the title of one rule edited in the middle file, then",
            "  `load_rules(directory, previous=ruleset)` and `matcher.updated(ruleset.rules)`: the median of three",
            "  such edits, wall clock and (in brackets, as the target is judged) CPU time. In the one-file layout",
            "  the one file is every rule, so that reload reads them all.",
            "- **broken reload**: two errors put in one file (an unknown key, a wrong severity); the load is",
            "  refused whole with both listed, and the matcher in force is kept (see below).",
            f"- **match**: `matcher.match(doc)` over {len(self.docs)} documents, {REPS} passes; mean and 99th",
            "  percentile of every call, in the process's CPU time (the machine is shared: its wall clock would",
            "  count the neighbours' work too). **bare pass**: one pass of a pyahocorasick automaton holding",
            "  every term lower-cased over the lower-cased title and text (`bench/matcher.py`'s floor), timed",
            "  on each document right before or after its match (alternately), not in passes of its own: so",
            "  timed, its automaton stayed hot in the caches and the ratio measured them (22x against 9.6x).",
            "- **candidates/doc**: rules evaluated per document: a rule is anchored on the two least likely",
            "  (`monitor/rules/frequency.tsv`) of the term sets its condition needs one term of each of, and",
            "  evaluated only when a term of both is found; in brackets, anchored on the first set alone, and",
            "  on the first set with every term equally likely (`TermFrequency.uniform()`, the fewest terms:",
            "  the matcher before #17), measured in a second process.",
            "- **kept bytes/rule**: resident memory after the build (garbage collected) minus before the load,",
            "  per rule: the compiled rules, their terms and the automaton; nothing of the YAML parse is kept.",
            "- **peak RSS**: the process's high-water mark (`ru_maxrss`), documents and interpreter included.",
            "",
        ]
        broken = [r for r in self.runs if r.ours["broken_errors"]]
        if broken:
            r = broken[-1]
            lines += [
                f"Broken reload at {r.size:,} rules ({r.layout}), every error listed"
                f" (refused in {r.ours['broken_refused']:.2f} s; the matcher in force kept its"
                f" {r.ours['rules']:,} rules):",
                "",
                "```",
                *r.ours["broken_errors"],
                "```",
                "",
            ]
        if self.oversized:
            message, elapsed = self.oversized
            lines += [
                f"A rule file of 200 MB beside a good one is refused unread in {elapsed * 1000:.1f} ms"
                f" (the limit is {MAX_YAML_BYTES // 1024**2} MiB per YAML file):",
                "",
                "```",
                message,
                "```",
                "",
            ]
        lines += [
            "### Machine",
            "",
            "| | |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in self.machine.items()],
            "",
            "### Method",
            "",
            f"- **Documents**: {self.corpus} real articles (the seed articles and the text extracted"
            f" from {self.source}), sorted by name; the rules are written from the words of every other one, and",
            f" the other {len(self.docs)} are the documents matched (a rule set is written before the articles it"
            f" meets). Those are {statistics.fmean(chars):,.0f} characters long on average"
            f" (median {statistics.median(chars):,.0f}), mostly German and English, a few in other languages.",
            "- **Rules**: written as YAML by `bench/rules_gen.py` from a fixed seed, each around one source",
            "  document (most of its words from it, the rest common, rare or invented words), in ten shapes",
            "  using the whole rule language: `all`/`any`/`not` with phrases and prefix wildcards; `near`;",
            "  a sentence condition with a shared list and an elided article (`l'…`); the lead with a",
            "  case-sensitive acronym or a suffix wildcard (`*…`); `at_least` with an infix wildcard (`*…*`);",
            "  title and text fields; an ordered `near` in a paragraph with a shared list; `count` with",
            "  `none`; word forms with a local list, a language filter and `max_age`; phrases and a word.",
            "  Rules carry tags, severities and alert options as real ones do; 200 shared lists",
            "  (`lists/generated.yaml`, some with word forms).",
            *self.breadth(),
        ]
        if self.profile:
            lines += [
                "",
                "### Profile",
                "",
                f"Cold load and build of {self.profiled:,} rules in {FILES:,} files (`cProfile`, top functions by own",
                "time; the profiler inflates small Python calls, read shares, not seconds):",
                "",
                "```",
                self.profile,
                "```",
            ]
        if self.match_profile:
            lines += [
                "",
                f"Matching the {len(self.docs)} documents once against the same {self.profiled:,} rules:",
                "",
                "```",
                self.match_profile,
                "```",
            ]
        return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 rules only; print only")
    parser.add_argument("--sizes", help="comma-separated sizes (default: 1000,10000,100000,350000); print only")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated rules (default 1)")
    parser.add_argument("--workdir", type=Path, help="where to write the rule directories (default: a temp dir)")
    add_corpus_option(parser)
    parser.add_argument("--output", type=Path, help=f"markdown file (default: {BENCHMARKS.relative_to(ROOT)})")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("RULES", "DOCS"), help=argparse.SUPPRESS)
    parser.add_argument("--uniform", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="profile cold load and build at the largest size")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.uniform, args.profile)))
        return 0

    sizes: tuple[int, ...] = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    # A full run writes its section; a partial one only when given --output.
    output = args.output or (None if (args.quick or args.sizes) else BENCHMARKS)
    if args.no_write:
        output = None
    started = time.perf_counter()
    load_at_start = load_average()
    code = git_state("monitor/rules", "monitor/yamlfile.py")
    print("Extracting documents...", flush=True)
    docs = load_documents(args.corpus)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rules-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    docs_path = workdir / "docs.json"
    # The language as the pipeline fills it in (some rules filter on it, and word forms need it).
    from monitor.language import detect_language

    # Rules are written around half of the documents and matched against the other half: a rule
    # set is written before the articles it is matched against, not from them.
    sources, docs = docs[0::2], docs[1::2]
    writer = RuleWriter(Vocabulary.build(sources, random.Random(args.seed)), args.seed)
    docs_path.write_text(
        json.dumps([(d.title, d.text, d.language or detect_language(d.title, d.text)) for d in docs]),
        encoding="utf-8",
    )
    runs: list[Run] = []
    profile: str | None = None
    match_profile: str | None = None
    profiled = min(max(sizes), 100_000)
    try:
        for size in sizes:
            for layout, files in (("one file", 1), (f"{FILES:,} files", min(FILES, size))):
                directory = workdir / f"rules-{size}-{files}"
                shutil.rmtree(directory, ignore_errors=True)
                write_directory(writer, directory, size, files)
                print(f"{size:,} rules, {layout}: measuring...", flush=True)
                ours = measure(directory, docs_path)
                uniform = measure(directory, docs_path, uniform=True) if files > 1 else None
                runs.append(Run(size, layout, ours, uniform))
                print(
                    f"  load {ours['load']:.2f} s, build {ours['build']:.2f} s, reload {ours['reload']:.2f} s",
                    flush=True,
                )
                shutil.rmtree(directory, ignore_errors=True)
        oversized = oversized_refusal(workdir)
        report = Report(runs, docs, len(sources) + len(docs), args.corpus.describe(), {}, oversized, None)
        if args.profile or not all(ok for _, _, ok in report.targets()):
            directory = workdir / "profile"
            write_directory(writer, directory, profiled, FILES)
            print(f"Profiling cold load, build and matching at {profiled:,} rules...", flush=True)
            profiled_run = measure(directory, docs_path, profile=True)
            profile, match_profile = profiled_run["profile"], profiled_run["match_profile"]
            shutil.rmtree(directory, ignore_errors=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    info = {
        **machine("PyYAML", "yaml-rs", "pyahocorasick", "google-re2"),
        "Code": code,
        "Load average (1 min)": load_span(load_at_start),
        "Run": f"{'quick' if args.quick else 'partial' if args.sizes else 'full'}: {REPS} timed passes;"
        f" seed {args.seed}; {time.perf_counter() - started:.0f} s in all",
    }
    report = Report(
        runs,
        docs,
        len(sources) + len(docs),
        args.corpus.describe(),
        info,
        oversized,
        profile,
        shipped_anchor_shape(),
        match_profile,
        profiled,
    )
    report.print()
    if output is not None:
        write_section(output, "rules-scale", report.markdown())
        print(f"\nWrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
