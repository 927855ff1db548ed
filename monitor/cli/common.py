"""What every command shares: exit codes, defaults, how problems are printed, loading rules, the deployment."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from monitor.config import DEFAULT_STORE, Config, load_config
from monitor.errors import MonitorError, RuleLoadError, ValidationError
from monitor.ingest.files import Problem
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import Store, open_store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_RULES = os.environ.get("MONITOR_RULES", "rules")
# Work of fewer items than this is over before a progress bar would help.
PROGRESS_MIN_ITEMS = 100


def warn(problem: Problem | str) -> None:
    click.echo(f"warning: {problem}", err=True)


@contextmanager
def progress(what: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while long work runs: shown when stderr is a terminal and there are at
    least PROGRESS_MIN_ITEMS items, gone when the work is done; yields the call to make per item done.

    Lines printed meanwhile go above the bar (stdout's too, when stdout is the same terminal).
    """
    if total < PROGRESS_MIN_ITEMS or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console  # only when a bar is drawn: rich costs an import otherwise
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, redirect_stdout=sys.stdout.isatty()) as bar:
        task = bar.add_task(what, total=total)
        yield lambda: bar.advance(task)


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


# The deployment: which config, which store -------------------------------------------------------
#
# Every command that touches the store finds it the way `monitor run` does (docs/configuration.md,
# "Naming a deployment"): the command line, then the environment, then the config file, then the
# embedded defaults.

Command = TypeVar("Command", bound=Callable[..., Any])
Result = TypeVar("Result")

POINT_AT_IT = "name the deployment with --config FILE (or MONITOR_CONFIG), REDIS_URL or --store URL"


def config_option(command: Command) -> Command:
    """`--config FILE`, else $MONITOR_CONFIG: the same option as `monitor run`'s."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="MONITOR_CONFIG",
        help="The deployment's config file (default: $MONITOR_CONFIG, else the embedded defaults).",
    )(command)


def store_option(command: Command) -> Command:
    """`--store URL`: a store named on the command line, over REDIS_URL and the config's `store`."""
    return click.option(
        "--store",
        "store_url",
        default=None,
        metavar="URL",
        help="The store, over REDIS_URL and the config's 'store': redis://HOST:PORT/DB or sqlite:PATH.",
    )(command)


@dataclass(frozen=True, slots=True)
class Deployment:
    """The config a command works with, and where its store came from (for errors: never the URL's password).

    Attributes:
        config: the config file's settings (the feeds file left unread), `store` already resolved.
        store_from: what named the store: `--store`, `REDIS_URL`, the config file, or the default.
    """

    config: Config
    store_from: str

    @property
    def store(self) -> str:
        return self.config.store

    def open_store(self, must_exist: bool) -> Store:
        """Open the store; exits 2 with a one-line error when it cannot, or when `must_exist` and an
        SQLite store's file is not there (an empty new file would report nothing, falsely)."""
        url = self.config.store
        if must_exist and url.startswith("sqlite:") and url not in ("sqlite::memory:", "sqlite:"):
            path = Path(url.removeprefix("sqlite:").removeprefix("//"))
            if not path.is_file():
                click.echo(f"error: no store at {path.absolute()} ({self.store_from}): {POINT_AT_IT}", err=True)
                sys.exit(EXIT_USAGE)
        try:
            return open_store(url, self.config.store_prefix)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)

    def read(self, query: Callable[[Store], Result]) -> Result:
        """Run a read on the store (which must exist) and close it; exits 1 with a one-line error when it fails."""
        store = self.open_store(must_exist=True)
        try:
            return query(store)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        finally:
            store.close()


def load_config_or_exit(config_path: Path | None) -> Config:
    """The config file without its feeds (defaults and the environment where there is none); exits 2 when
    the file named does not exist, or with every problem of the file (or of REDIS_URL) listed."""
    if config_path is not None and not config_path.is_file():
        click.echo(f"error: config file {config_path} not found", err=True)
        sys.exit(EXIT_USAGE)
    try:
        return load_config(config_path, feeds=False)
    except ValidationError as exc:
        exit_invalid(exc, "the configuration")


def load_deployment(config_path: Path | None, store_url: str | None = None) -> Deployment:
    """The deployment `monitor run` would use with this config file and environment; `--store` over both.

    Exits 2 with every problem of the config file (or of REDIS_URL) listed.
    """
    config = load_config_or_exit(config_path)
    if store_url is not None:
        return Deployment(replace(config, store=store_url), "from --store")
    if os.environ.get("REDIS_URL"):
        return Deployment(config, "from REDIS_URL")
    if config.path is not None and "store" not in config.defaults_used:
        return Deployment(config, f"the 'store' of {config.path}")
    if config.path is not None:
        return Deployment(config, f"the default store, {DEFAULT_STORE}: {config.path} names none")
    return Deployment(config, f"the default store, {DEFAULT_STORE}: no --config, MONITOR_CONFIG or REDIS_URL")
