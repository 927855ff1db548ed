"""The command line: parse, call, print, exit codes. Each command group has its module here."""

from __future__ import annotations

import importlib
from typing import Any

import click

from monitor import __version__
from monitor.logging import configure_logging

# Each command's module is imported when the command runs, so that `monitor --help` or
# `monitor rules check` do not pay for the libraries the service needs.
COMMANDS = {
    "alerts": "monitor.cli.alerts:alerts",
    "feeds": "monitor.cli.feeds:feeds",
    "replay": "monitor.cli.replay:replay",
    "rules": "monitor.cli.rules:rules",
    "run": "monitor.cli.run:run",
}
# What `monitor --help` lists, without importing the commands (a test keeps these equal to each
# command's own first line of help).
SUMMARIES = {
    "alerts": "Deliver alerts from the outbox, and deal with the ones Slack refused.",
    "feeds": "Check the feeds file, bring feeds in and out, see how every feed is doing.",
    "replay": "Match saved articles against the rules and show the alerts the service would raise.",
    "rules": "Check rule files and run rule tests.",
    "run": "Run the service: poll the feeds, match the rules, alert Slack.",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = formatter.width - 6 - max(len(name) for name in COMMANDS)
        # Stand-ins carrying only the summary, shortened the way click shortens a command's help.
        rows = [
            (name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(width)) for name in sorted(COMMANDS)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command: Any = getattr(importlib.import_module(module), attribute)
        return command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Entry point of the `monitor` console script."""
    cli(prog_name="monitor")
