"""Feedback from Slack on the command line: `monitor alerts snoozed`, `monitor rules feedback [export]`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from monitor.cli.common import EXIT_USAGE, config_option, load_deployment, load_matcher, store_option
from monitor.feedback.export import export_cases, rejected_articles
from monitor.rules.loader import parse_duration
from monitor.store import Store
from monitor.store.feedback import MARK_KEEP, Mark

DEFAULT_PERIOD = "30d"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _period(value: str) -> timedelta:
    period = parse_duration(value)
    if not period:
        click.echo(f"error: --since must be a duration such as 24h, 7d or 30d, got {value!r}", err=True)
        sys.exit(EXIT_USAGE)
    return min(period, MARK_KEEP)


@click.command("snoozed")
@config_option
@store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def snoozed(config_path: Path | None, store_url: str | None, as_json: bool) -> None:
    """List the rules snoozed and the stories muted from Slack, with how many alerts each held back.

    \b
    Example:
      monitor alerts snoozed --config /etc/monitor/monitor.yaml
    """
    snoozes, mutes = load_deployment(config_path, store_url).read(lambda store: (store.snoozes(), store.mutes()))
    for snooze in snoozes:
        if as_json:
            click.echo(json.dumps({"kind": "snooze", **asdict(snooze)}, ensure_ascii=False))
            continue
        click.echo(
            f"snoozed\trule {snooze.rule}\t{snooze.channel}\tuntil {_when(snooze.until)}\tby {snooze.by_name}"
            f"\theld {snooze.held}"
        )
    for mute in mutes:
        if as_json:
            click.echo(json.dumps({"kind": "mute", **asdict(mute)}, ensure_ascii=False))
            continue
        click.echo(
            f"muted\tstory {mute.story}\t{mute.channel}\tuntil {_when(mute.until)}\tby {mute.by_name}"
            f"\theld {mute.held}\t{mute.title[:60]}"
        )
    if not as_json:
        click.echo(f"{len(snoozes)} snooze(s), {len(mutes)} mute(s) in force", err=True)


def _marks(store: Store, since: str, rules: tuple[str, ...]) -> tuple[list[Mark], dict[str, int]]:
    start = time.time() - _period(since).total_seconds()
    marks = [m for m in store.marks(start) if not rules or m.rule in rules]
    return marks, store.alerts_raised(start)


def _selection(command: Callable[..., None]) -> Callable[..., None]:
    """The options choosing which marks: the store, the period, the rules."""
    for option in reversed(
        (
            config_option,
            store_option,
            click.option("--since", default=DEFAULT_PERIOD, show_default=True, help="Marks made since then."),
            click.option("--rule", "rules", multiple=True, help="Only this rule (repeatable)."),
        )
    ):
        command = option(command)
    return command


@click.group("feedback", invoke_without_command=True)
@_selection
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line per rule.")
@click.pass_context
def feedback(
    ctx: click.Context,
    config_path: Path | None,
    store_url: str | None,
    since: str,
    rules: tuple[str, ...],
    as_json: bool,
) -> None:
    """List what subscribers marked "Not relevant" in Slack, per rule, with the share of its alerts.

    \b
    Examples:
      monitor rules feedback --store redis://localhost:6379/0 --since 7d
      monitor rules feedback export --out rules/tests/feedback.yaml && monitor rules test
    """
    if ctx.invoked_subcommand is not None:
        return
    marks, raised = load_deployment(config_path, store_url).read(lambda store: _marks(store, since, rules))
    by_rule: dict[str, list[Mark]] = {}
    for mark in marks:
        by_rule.setdefault(mark.rule, []).append(mark)
    for rule in sorted(by_rule, key=lambda r: (-len(by_rule[r]), r)):
        rule_marks = by_rule[rule]
        alerts = max(raised.get(rule, 0), len(rule_marks))
        share = len(rule_marks) / alerts if alerts else 0.0
        if as_json:
            items = [{"doc_id": m.doc_id, "title": m.article.get("title"), "url": m.article.get("url"),
                      "by": m.by, "at": m.at, "channel": m.channel} for m in rule_marks]  # fmt: skip
            record = {"rule": rule, "alerts": alerts, "marked": len(rule_marks), "share": round(share, 4)}
            click.echo(json.dumps({**record, "marks": items}, ensure_ascii=False))
            continue
        click.echo(f"{rule}: {len(rule_marks)} of {alerts} alert(s) marked not relevant ({share:.0%}) since {since}")
        for mark in rule_marks:
            who = ", ".join(sorted(mark.by.values()))
            title = str(mark.article.get("title") or "")[:70]
            click.echo(f"  {_when(mark.at)}\t{who}\t{mark.channel}\t{title}\t{mark.article.get('url') or ''}")
    if not as_json:
        click.echo(f"{len(marks)} mark(s) on {len(by_rule)} rule(s) since {since}", err=True)


@feedback.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The rule-test file to write (replaced; default RULES/tests/feedback.yaml); the articles go beside it.",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules the cases are for (default: the config's 'rules', else ./rules).",
)
@_selection
def export(
    out: Path | None,
    rules_dir: Path | None,
    config_path: Path | None,
    store_url: str | None,
    since: str,
    rules: tuple[str, ...],
) -> None:
    """Write the marked articles as rule-test cases: the rules they were rejected for must not match them.

    Then fix the rule and prove it on the very articles subscribers rejected:

    \b
    Example:
      monitor rules feedback export --store redis://localhost:6379/0
      monitor rules test rules/tests/feedback.yaml     # fails while the rule still matches them
    """
    deployment = load_deployment(config_path, store_url)
    rules_dir = rules_dir or deployment.config.rules
    out = out or rules_dir / "tests" / "feedback.yaml"
    matcher = load_matcher(rules_dir)
    marks, _ = deployment.read(lambda store: _marks(store, since, rules))
    try:
        exported = export_cases(rejected_articles(marks), out, rules_dir, matcher)
    except OSError as exc:
        click.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    if not exported.cases:
        click.echo(f"no marks since {since} for rules in {rules_dir}: nothing written", err=True)
        return
    click.echo(f"wrote {exported.cases} case(s) to {out} (articles in {out.parent / out.stem}/)")
    click.echo(f"run: monitor rules test {out}", err=True)
