"""`monitor run`: the service."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from monitor.cli.common import exit_invalid
from monitor.config import load_config
from monitor.errors import ValidationError
from monitor.logging import configure_logging
from monitor.service import RunOptions, Service


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
    try:
        config = load_config(config_path)
    except ValidationError as exc:
        exit_invalid(exc, "the configuration")
    if ctx.parent is None or ctx.parent.params.get("log_level") is None:
        configure_logging(config.log_level)
    sys.exit(asyncio.run(Service(config, RunOptions(record=record, once=once)).run()))
