"""The command line: parse, call, print, exit codes. Nothing else lives here."""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from monitor import __version__
from monitor.document import Document
from monitor.errors import RuleLoadError
from monitor.ingest.files import Problem, read_documents
from monitor.logging import configure_logging
from monitor.pipeline import Pipeline, Processed
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Hit, Match, Matcher
from monitor.rules.testing import FileResult, run_test_file
from monitor.store import SQLiteStore

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_RULES = os.environ.get("MONITOR_RULES", "rules")
TITLE_WIDTH = 44
CONTEXT_CHARS = 60


def _warn(problem: Problem | str) -> None:
    click.echo(f"warning: {problem}", err=True)


def _load_matcher(rules_dir: Path) -> Matcher:
    try:
        return Matcher(load_rules(rules_dir).rules)
    except RuleLoadError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        click.echo(f"error: {len(exc.errors)} problem(s) in rules under {rules_dir}", err=True)
        sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="monitor")
@click.option("--log-level", default="warning", show_default=True, help="debug, info, warning or error.")
def cli(log_level: str) -> None:
    """Watch news and alert when a story matching your rules breaks.

    \b
    Try the rules on saved articles:
      monitor replay seeds/
      monitor replay --explain seeds/003_cc65a377a44d1016.txt
      monitor rules check
      monitor rules test
    """
    configure_logging(log_level)


# replay ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Replayed:
    label: str
    path: Path
    entry: int | None
    processed: Processed
    # What each match's alert decision reads as in the table ("new", "follow-up of ...").
    alerts: list[str]

    @property
    def doc(self) -> Document:
        return self.processed.doc

    @property
    def matches(self) -> list[Match]:
        return self.processed.matches


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_dir",
    default=DEFAULT_RULES,
    show_default=True,
    type=click.Path(path_type=Path),
    help="Rules directory.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A table for people, or one JSON object a line.",
)
@click.option("--explain", is_flag=True, help="Show every hit in its context.")
def replay(paths: tuple[Path, ...], rules_dir: Path, fmt: str, explain: bool) -> None:
    """Match saved articles against the rules and show the alerts the service would raise.

    PATHS are .txt files (optional YAML front matter), .html pages, .xml/.rss/.atom
    feeds, .jsonl files recorded by the service, or directories of them. They are
    processed in order as the service would see them, with a throwaway store: the
    first match of a rule in a story is a new alert, later ones in its realert window
    are follow-ups, and a document seen before (same text or URL) is suppressed.

    \b
    Example:
      monitor replay seeds/ --explain
      monitor replay --format json recordings/2026-11-23.jsonl | jq .matches
    """
    pipeline = Pipeline(_load_matcher(rules_dir), SQLiteStore(":memory:"))
    raised_by: dict[str, str] = {}
    results: list[_Replayed] = []
    problems = 0

    def report(problem: Problem) -> None:
        nonlocal problems
        problems += 1
        _warn(problem)

    counts: Counter[Path] = Counter()
    for path, doc in read_documents(paths, report):
        counts[path] += 1
        multi = path.suffix.lower() in {".xml", ".rss", ".atom", ".jsonl"}
        entry = counts[path] if multi else None
        label = f"{path}#{entry}" if entry else str(path)
        processed = pipeline.process(doc)
        alerts = []
        for decision in processed.decisions:
            if decision.decision == "new":
                raised_by[decision.alert_id] = label
                alerts.append("new")
            elif decision.decision == "follow-up" and decision.parent is not None:
                alerts.append(f"follow-up of {raised_by.get(decision.parent, decision.parent)}")
            else:
                alerts.append("suppressed: seen before")
        result = _Replayed(label, path, entry, processed, alerts)
        if fmt == "json":
            click.echo(json.dumps(_json_line(result), ensure_ascii=False))
        else:
            results.append(result)
    if fmt == "text":
        _print_table(results, explain)
        _print_summary(results, sum(counts.values()), problems)
    if not counts:
        click.echo("error: no input could be read", err=True)
        sys.exit(EXIT_USAGE)


def _json_line(result: _Replayed) -> dict[str, Any]:
    doc = result.doc
    line: dict[str, Any] = {"path": str(result.path)}
    if result.entry is not None:
        line["entry"] = result.entry
    line.update(
        id=doc.id,
        title=doc.title,
        url=doc.url,
        published=doc.published.isoformat() if doc.published else None,
        matches=[
            {
                "rule": m.rule.id,
                "title": m.rule.title,
                "severity": m.rule.severity,
                "hits": [{"term": h.term, "field": h.field, "start": h.start, "end": h.end} for h in m.hits],
                "snippet": m.snippet,
            }
            for m in result.matches
        ],
        story=result.processed.story.story_id if result.processed.story else None,
        duplicate=result.processed.duplicate,
        alerts=[
            {
                "rule": d.rule,
                "decision": d.decision,
                "alert_id": d.alert_id or None,
                "story": d.story_id or None,
                "parent": d.parent,
            }
            for d in result.processed.decisions
        ],
    )
    return line


def _clip(text: str, width: int, keep_end: bool = False) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    # A long path keeps its end: the file name and entry number tell its rows apart.
    return "…" + text[-(width - 1) :] if keep_end else text[: width - 1] + "…"


_SEVERITY_COLOURS = {
    "critical": "red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "white",
}


def _print_table(results: Sequence[_Replayed], explain: bool) -> None:
    if not results:
        return
    doc_width = min(max(len(r.label) for r in results), 48)
    rule_width = max([len(m.rule.id) for r in results for m in r.matches] + [len("RULE")])
    header = f"{'DOCUMENT':<{doc_width}}  {'TITLE':<{TITLE_WIDTH}}  {'RULE':<{rule_width}}  SEVERITY  ALERT"
    click.echo(click.style(header, bold=True))
    for result in results:
        label = _clip(result.label, doc_width, keep_end=True)
        left = f"{label:<{doc_width}}  {_clip(result.doc.title, TITLE_WIDTH):<{TITLE_WIDTH}}"
        if not result.matches:
            click.echo(f"{left}  " + click.style("-", dim=True))
            continue
        for i, (match, alert) in enumerate(zip(result.matches, result.alerts, strict=True)):
            prefix = left if i == 0 else " " * len(left)
            severity = click.style(f"{match.rule.severity:<8}", fg=_SEVERITY_COLOURS[match.rule.severity])
            alert_text = click.style(alert, bold=True) if alert == "new" else click.style(alert, dim=True)
            click.echo(f"{prefix}  {match.rule.id:<{rule_width}}  {severity}  {alert_text}")
            if explain:
                _print_hits(result.doc, match)


def _print_hits(doc: Document, match: Match) -> None:
    """Each matched term once, at its first hit, in context; repeats are counted."""
    by_term: dict[str, list[Hit]] = {}
    for hit in match.hits:
        by_term.setdefault(hit.term, []).append(hit)
    for term, hits in by_term.items():
        hit = hits[0]
        source = doc.title if hit.field == "title" else doc.text
        lo, hi = max(0, hit.start - CONTEXT_CHARS), min(len(source), hit.end + CONTEXT_CHARS)
        before = ("…" if lo else "") + _one_line(source[lo : hit.start])
        after = _one_line(source[hit.end : hi]) + ("…" if hi < len(source) else "")
        found = click.style(source[hit.start : hit.end], fg="yellow", bold=True)
        more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
        label = click.style(f"{term!r} in {hit.field}{more}:", dim=True)
        click.echo(f"    {label} {before}{found}{after}")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _print_summary(results: Sequence[_Replayed], documents: int, problems: int) -> None:
    per_rule = Counter(m.rule.id for r in results for m in r.matches)
    matched = sum(1 for r in results if r.matches)
    rules = ", ".join(f"{rule} {n}" for rule, n in per_rule.most_common())
    decisions = Counter(d.decision for r in results for d in r.processed.decisions)
    line = f"\n{documents} document{'s' if documents != 1 else ''}, {matched} matched"
    if rules:
        line += f" ({rules})"
    if decisions:
        line += "; alerts: " + ", ".join(f"{decisions[k]} {k}" for k in ("new", "follow-up", "suppressed"))
    if problems:
        line += f"; {problems} problem(s), see above"
    click.echo(line)


# rules check / rules test --------------------------------------------------------------------------


@cli.group()
def rules() -> None:
    """Check rule files and run rule tests."""


@rules.command("check")
@click.argument("directory", required=False, default=DEFAULT_RULES, type=click.Path(path_type=Path))
def rules_check(directory: Path) -> None:
    """Validate every rule file in DIRECTORY (default: rules/); exit 1 on any error.

    \b
    Example:
      monitor rules check rules/
    """
    try:
        ruleset = load_rules(directory)
        Matcher(ruleset.rules)
    except RuleLoadError as exc:
        for error in exc.errors:
            click.echo(error)
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(EXIT_FAILED)
    disabled = len(ruleset.rules) - len(ruleset.enabled)
    note = f" ({disabled} disabled)" if disabled else ""
    click.echo(f"{directory}: {len(ruleset.rules)} rules OK{note}")


@rules.command("test")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def rules_test(files: tuple[Path, ...]) -> None:
    """Run rule tests: each case's input must match exactly the rules it lists.

    FILES default to every rules/tests/*.yaml. Exit 1 when a case differs.

    \b
    Example:
      monitor rules test rules/tests/seeds.yaml
    """
    paths = list(files) or sorted(Path(DEFAULT_RULES, "tests").glob("*.y*ml"))
    if not paths:
        click.echo(f"error: no rule tests found in {DEFAULT_RULES}/tests/", err=True)
        sys.exit(EXIT_USAGE)
    matchers: dict[Path, Matcher] = {}
    failed = errors = total = 0
    for path in paths:
        result = run_test_file(path, matchers)
        total += len(result.cases)
        errors += len(result.errors)
        failed += _print_test_file(result)
    verdict = "FAILED" if failed or errors else "OK"
    tail = f", {errors} error(s)" if errors else ""
    click.echo(f"{total} cases: {total - failed} passed, {failed} failed{tail}: {verdict}")
    sys.exit(EXIT_FAILED if failed or errors else EXIT_OK)


def _print_test_file(result: FileResult) -> int:
    """Print the errors and every case that differs in one test file; return how many differ."""
    for error in result.errors:
        click.echo(error)
    failed = 0
    for outcome in result.cases:
        case = outcome.case
        for problem in outcome.problems:
            _warn(problem)
        if outcome.passed:
            continue
        failed += 1
        got = sorted(outcome.got)
        where = f"{result.path}:{case.line}"
        if not outcome.documents:
            click.echo(f"{where}: {case.input}: no document could be read")
            continue
        click.echo(f"{where}: {case.input}: expected [{', '.join(sorted(case.match))}], got [{', '.join(got)}]")
        for rule_id in got:
            if rule_id not in case.match:
                match = outcome.got[rule_id]
                terms = ", ".join(f"{h.term!r} ({h.field} {h.start}-{h.end})" for h in match.hits)
                click.echo(f"    unexpected {rule_id}: {terms}")
                click.echo(f"    {match.snippet}")
    return failed


def main() -> None:
    """Entry point of the `monitor` console script."""
    cli(prog_name="monitor")
