"""`monitor rules check` and `monitor rules test`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli.common import DEFAULT_RULES, EXIT_FAILED, EXIT_OK, EXIT_USAGE, warn
from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.testing import FileResult, run_test_file


@click.group()
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
        # The errors are this command's output (stdout, for grep and editors); the count is a note.
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
                terms = ", ".join(f"{h.term!r} ({h.field} {h.start}-{h.end})" for h in match.hits)
                click.echo(f"    unexpected {rule_id}: {terms}")
                click.echo(f"    {match.snippet}")
    return failed
