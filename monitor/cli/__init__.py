"""The command line: parse, call, print, exit codes. Each command group has its module here."""

from __future__ import annotations

import click

from monitor import __version__
from monitor.cli.alerts import alerts
from monitor.cli.feeds import feeds
from monitor.cli.replay import replay
from monitor.cli.rules import rules
from monitor.cli.run import run
from monitor.logging import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="monitor")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Log level (default: warning; for `run`, the config's log_level).",
)
def cli(log_level: str | None) -> None:
    """Watch news and alert when a story matching your rules breaks.

    \b
    Try the rules on saved articles:
      monitor replay seeds/
      monitor replay --explain seeds/003_cc65a377a44d1016.txt
      monitor rules check
      monitor rules test
    Run the service:
      monitor run --config deploy/monitor.example.yaml
    """
    configure_logging(log_level or "warning")


cli.add_command(alerts)
cli.add_command(feeds)
cli.add_command(replay)
cli.add_command(rules)
cli.add_command(run)


def main() -> None:
    """Entry point of the `monitor` console script."""
    cli(prog_name="monitor")
