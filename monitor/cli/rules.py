"""`monitor rules check` and `monitor rules test`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli.common import DEFAULT_RULES, EXIT_FAILED, EXIT_OK, EXIT_USAGE, progress, warn
from monitor.cli.feedback import feedback
from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.testing import FileResult, RuleScore, find_test_files, load_cases, run_test_file, score


@click.group()
def rules() -> None:
    """Check rule files and run rule tests."""


rules.add_command(feedback)


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
        # The errors are this command's output (stdout, for grep and editors); the count is a note.
        for error in exc.errors:
            click.echo(error)
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(EXIT_FAILED)
    disabled = len(ruleset.rules) - len(ruleset.enabled)
    note = f" ({disabled} disabled)" if disabled else ""
    click.echo(f"{directory}: {len(ruleset.rules)} rules OK{note}")


@rules.command("test")
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_dir",
    default=None,
    type=click.Path(path_type=Path),
    help="Rules directory to test (default: the one each test file names, else the folder above its tests/).",
)
@click.option("--scores/--no-scores", default=True, show_default=True, help="Print precision and recall per rule.")
def rules_test(targets: tuple[Path, ...], rules_dir: Path | None, scores: bool) -> None:
    """Run rule tests and labelled corpora: each case's input must match exactly the rules it lists.

    TARGETS are rule-test files, or directories: a rules directory (its tests/ folder) or a folder of
    labelled cases. Default: every test file in rules/tests/. Prints every case that differs, then per
    rule its cases, true and false positives and negatives, precision and recall. Exit 1 when a case
    differs.

    \b
    Example:
      monitor rules test
      monitor rules test rules/
      monitor rules test --rules my-rules/ corpus/labelled.yaml
    """
    paths: list[Path] = []
    for target in targets or (Path(DEFAULT_RULES),):
        if not target.exists():
            click.echo(f"error: {target}: no such file or directory", err=True)
            sys.exit(EXIT_USAGE)
        paths.extend(find_test_files(target))
    if not paths:
        where = ", ".join(str(t) for t in targets) if targets else f"{DEFAULT_RULES}/tests/"
        click.echo(f"error: no rule tests found in {where}", err=True)
        sys.exit(EXIT_USAGE)
    matchers: dict[Path, Matcher] = {}
    failed = errors = total = 0
    results = []
    with progress("testing cases", sum(len(load_cases(path)[1]) for path in paths)) as advance:
        for path in paths:
            result = run_test_file(path, matchers, rules_dir, on_case=advance)
            results.append(result)
            total += len(result.cases)
            errors += len(result.errors)
            failed += _print_test_file(result)
    if scores and total:
        known = {r.id for m in matchers.values() for r in m.rules}
        _print_scores(score(results, known))
    verdict = "FAILED" if failed or errors else "OK"
    tail = f", {errors} error(s)" if errors else ""
    click.echo(f"{total} cases: {total - failed} passed, {failed} failed{tail}: {verdict}")
    sys.exit(EXIT_FAILED if failed or errors else EXIT_OK)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_scores(scores: dict[str, RuleScore]) -> None:
    width = max([len(r) for r in scores] + [len("RULE")])
    click.echo(click.style(f"{'RULE':<{width}}  CASES  POSITIVE   TP   FP   FN  PRECISION  RECALL", bold=True))
    for rule, entry in scores.items():
        click.echo(
            f"{rule:<{width}}  {entry.cases:>5}  {entry.positives:>8}  {entry.tp:>3}  {entry.fp:>3}  {entry.fn:>3}"
            f"  {_ratio(entry.precision):>9}  {_ratio(entry.recall):>6}"
        )
    for rule, entry in scores.items():
        for failure in entry.failures:
            click.echo(f"  {rule}: {failure}")


def _print_test_file(result: FileResult) -> int:
    """Print the errors and every case that differs in one test file; return how many differ."""
    for error in result.errors:
        click.echo(error)
    failed = 0
    for outcome in result.cases:
        case = outcome.case
        for problem in outcome.problems:
            warn(problem)
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
                terms = ", ".join(f"{h.text!r} ({h.field} {h.start}-{h.end})" for h in match.hits)
                click.echo(f"    unexpected {rule_id}: {terms}")
                click.echo(f"    {match.snippet}")
    return failed
