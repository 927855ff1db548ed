"""What every command shares: exit codes, defaults, how problems are printed, loading rules."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from monitor.errors import RuleLoadError, ValidationError
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
        exit_invalid(exc, f"rules under {rules_dir}")


def exit_invalid(exc: ValidationError, what: str) -> NoReturn:
    """Print every `FILE:LINE: message` of a failed validation and a count, and exit as a usage error."""
    for error in exc.errors:
        click.echo(error, err=True)
    click.echo(f"error: {len(exc.errors)} problem(s) in {what}", err=True)
    sys.exit(EXIT_USAGE)
