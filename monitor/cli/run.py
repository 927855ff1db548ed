"""`monitor run`: the service."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from monitor.cli.common import EXIT_USAGE, exit_invalid
from monitor.config import Config, load_config, with_feeds
from monitor.errors import ValidationError
from monitor.logging import configure_logging
from monitor.service import RunOptions, Service

HINT_DEFAULTS = (
    "hint: without a config file `monitor run` uses ./rules and ./deploy/feeds.example.yaml (run it in a"
    " checkout of the project), or pass --config FILE or set MONITOR_CONFIG (docs/configuration.md)"
)
HINT_FILE = "hint: fix the path in the config file, or create what it names (docs/configuration.md)"


def missing_files(config: Config) -> list[str]:
    """One line per file or directory the service needs that is not there, saying what named it."""

    def named_by(key: str) -> str:
        if config.path is None:
            return "the embedded default: no --config or MONITOR_CONFIG"
        if key in config.defaults_used:
            return f"the default beside {config.path}, which has no '{key}'"
        return f"'{key}' in {config.path}"

    lines = []
    if not config.rules.is_dir():
        lines.append(f"rules directory {config.rules.absolute()} not found ({named_by('rules')})")
    if config.feeds_path is not None and not config.feeds_path.is_file():
        lines.append(f"feeds file {config.feeds_path.absolute()} not found ({named_by('feeds')})")
    return lines


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="MONITOR_CONFIG",
    help="The config file (default: $MONITOR_CONFIG, else the embedded defaults).",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path, file_okay=False),
    help="Append every Document to DIR/YYYY-MM-DD.jsonl, for `monitor replay`.",
)
@click.option("--once", is_flag=True, help="Poll every feed once, deliver the alerts, and exit.")
@click.pass_context
def run(ctx: click.Context, config_path: Path | None, record: Path | None, once: bool) -> None:
    """Run the service: poll the feeds, match the rules, alert Slack.

    With no config it still starts, on the embedded defaults: the rules in ./rules, the
    feeds of ./deploy/feeds.example.yaml, an SQLite store in ./monitor.db, and alerts
    printed to the console unless SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL is set.
    REDIS_URL, SLACK_BOT_TOKEN, SLACK_WEBHOOK_URL and SLACK_API_URL override the config.

    \b
    Example:
      monitor run --config deploy/monitor.example.yaml
      REDIS_URL=redis://localhost:6379/0 SLACK_BOT_TOKEN=xoxb-... monitor run
    """
    if config_path is not None and not config_path.is_file():
        from_env = ctx.get_parameter_source("config_path") is ParameterSource.ENVIRONMENT
        click.echo(
            f"error: config file {config_path} not found (from {'MONITOR_CONFIG' if from_env else '--config'})",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    try:
        config = load_config(config_path, feeds=False)
        missing = missing_files(config)
        if missing:
            for line in missing:
                click.echo(f"error: {line}", err=True)
            click.echo(HINT_DEFAULTS if config.path is None else HINT_FILE, err=True)
            sys.exit(EXIT_USAGE)
        config = with_feeds(config)
    except ValidationError as exc:
        exit_invalid(exc, "the configuration")
    if ctx.parent is None or ctx.parent.params.get("log_level") is None:
        configure_logging(config.log_level)
    sys.exit(asyncio.run(Service(config, RunOptions(record=record, once=once)).run()))
