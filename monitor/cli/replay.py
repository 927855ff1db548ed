"""`monitor replay`: saved articles through the pipeline, with a throwaway store."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from monitor.cli.common import DEFAULT_RULES, EXIT_USAGE, load_matcher, progress, warn
from monitor.document import Document
from monitor.ingest.files import FEED_SUFFIXES, RECORD_SUFFIXES, Problem, expand_paths, read_documents
from monitor.pipeline import Pipeline, Processed
from monitor.rules.matcher import Hit, Match
from monitor.rules.text import fold
from monitor.rules.why import explain as explain_rule
from monitor.store import SQLiteStore
from monitor.stories import StoriesConfig, build_grouper

TITLE_WIDTH = 44
CONTEXT_CHARS = 60


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


@click.command()
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
@click.option(
    "--why",
    "why_rule",
    metavar="RULE",
    default=None,
    help="For each document, why rule RULE matched or not: its filters and each condition, with the nearest hits.",
)
def replay(paths: tuple[Path, ...], rules_dir: Path, fmt: str, explain: bool, why_rule: str | None) -> None:
    """Match saved articles against the rules and show the alerts the service would raise.

    PATHS are .txt files (optional YAML front matter), .html pages, saved feeds
    (.xml/.rss/.atom: RSS, Atom or a news sitemap; .json: a JSON Feed), .jsonl files
    recorded by the service, or directories of them. A feed's entries get the ids and
    URLs the service gives them. They are
    processed in order as the service would see them, with a throwaway store: the
    first match of a rule in a story is a new alert, later ones in its realert window
    are follow-ups, and a document seen before (same text or URL) is suppressed.

    \b
    Example:
      monitor replay seeds/ --explain
      monitor replay --why eu-special-envoy articles/envoy.txt
      monitor replay --format json recordings/2026-11-23.jsonl | jq .matches
    """
    matcher = load_matcher(rules_dir)
    if why_rule is not None and why_rule not in {r.id for r in matcher.rules}:
        known = ", ".join(sorted(r.id for r in matcher.rules)) or "none"
        click.echo(f"error: --why {why_rule}: no enabled rule with that id in {rules_dir} (rules: {known})", err=True)
        sys.exit(EXIT_USAGE)
    store = SQLiteStore(":memory:")
    pipeline = Pipeline(matcher, store, build_grouper(StoriesConfig(), store))
    raised_by: dict[str, str] = {}
    results: list[_Replayed] = []
    problems = 0

    def report(problem: Problem) -> None:
        nonlocal problems
        problems += 1
        warn(problem)

    counts: Counter[Path] = Counter()
    # Files, not documents: a feed or a recording holds many, but counting them would read it twice.
    with progress("replaying files", len(expand_paths(paths, lambda _problem: None))) as advance:
        for path, doc in read_documents(paths, report):
            if path not in counts:
                advance()
            counts[path] += 1
            multi = path.suffix.lower() in FEED_SUFFIXES | RECORD_SUFFIXES
            entry = counts[path] if multi else None
            label = f"{path}#{entry}" if entry else str(path)
            processed = pipeline.process(doc)
            alerts = []
            for decision in processed.decisions:
                if decision.decision == "new":
                    raised_by[decision.alert_id] = label
                    alerts.append("new")
                elif decision.decision == "follow-up" and decision.parent is not None:
                    news = processed.story.development if processed.story is not None else None
                    marked = f" (new development: {news})" if news else ""
                    alerts.append(f"follow-up of {raised_by.get(decision.parent, decision.parent)}{marked}")
                else:
                    alerts.append("suppressed: seen before")
            result = _Replayed(label, path, entry, processed, alerts)
            why = explain_rule(matcher, why_rule, processed.doc) if why_rule is not None else None
            if fmt == "json":
                line = _json_line(result)
                if why is not None:
                    line["why"] = {"rule": why.rule.id, "matched": why.matched, "lines": why.lines()}
                click.echo(json.dumps(line, ensure_ascii=False))
            elif why is not None:
                click.echo(click.style(f"{label}: {_clip(processed.doc.title, 2 * TITLE_WIDTH)}", bold=True))
                for text in why.lines():
                    click.echo(f"  {text}")
                click.echo()
                results.append(result)
            else:
                results.append(result)
    if fmt == "text":
        if why_rule is None:
            _print_table(results, explain)
        _print_summary(results, sum(counts.values()), problems)
    if not counts:
        click.echo("error: no input could be read", err=True)
        sys.exit(EXIT_USAGE)


def _json_line(result: _Replayed) -> dict[str, Any]:
    doc = result.doc
    story = result.processed.story
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
                "hits": [
                    {"term": h.term, "field": h.field, "start": h.start, "end": h.end, "text": h.text} for h in m.hits
                ],
                "snippet": m.snippet,
            }
            for m in result.matches
        ],
        story=story.story_id if story else None,
        joined=(
            {"via": story.via, "score": round(story.score, 3), "development": story.development} if story else None
        ),
        language=doc.language,
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
    """Each matched term once, at its first hit, in context, as the article writes it; repeats are counted."""
    by_term: dict[str, list[Hit]] = {}
    for hit in match.hits:
        by_term.setdefault(hit.term, []).append(hit)
    for term, hits in by_term.items():
        hit = hits[0]
        source = doc.title if hit.field == "title" else doc.text
        lo, hi = max(0, hit.start - CONTEXT_CHARS), min(len(source), hit.end + CONTEXT_CHARS)
        before = ("…" if lo else "") + _one_line(source[lo : hit.start])
        after = _one_line(source[hit.end : hi]) + ("…" if hi < len(source) else "")
        found = click.style(_one_line(hit.text), fg="yellow", bold=True)
        more = f", +{len(hits) - 1} more" if len(hits) > 1 else ""
        written = _one_line(hit.text)
        pattern = f" (term {term!r}{more})" if fold(written) != fold(term) else f" ({more[2:]})" if more else ""
        label = click.style(f"{written!r} in {hit.field}{pattern}:", dim=True)
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
