"""What every command shares: exit codes, defaults, how problems are printed, loading rules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from monitor.errors import RuleLoadError
from monitor.ingest.files import Problem
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_RULES = os.environ.get("MONITOR_RULES", "rules")


def warn(problem: Problem | str) -> None:
    click.echo(f"warning: {problem}", err=True)


def load_matcher(rules_dir: Path) -> Matcher:
    try:
        return Matcher(load_rules(rules_dir).rules)
    except RuleLoadError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        click.echo(f"error: {len(exc.errors)} problem(s) in rules under {rules_dir}", err=True)
        sys.exit(EXIT_USAGE)
