"""`monitor alerts`: deliver the outbox, list dead letters, send them again."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from monitor.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_option, load_deployment, store_option
from monitor.cli.feedback import snoozed
from monitor.errors import MonitorError
from monitor.feedback.hold import hold_from_env
from monitor.notify.alerts import regroup
from monitor.notify.base import Sink
from monitor.notify.console import ConsoleSink
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.receipts import Receipt, Receipts, delivery_key
from monitor.notify.sinks import sink_from_env


@click.group()
def alerts() -> None:
    """Deliver alerts from the outbox, and deal with the ones Slack refused.

    Each command finds the store as `monitor run` does: --store, else REDIS_URL, else the
    'store' of the config file (--config or MONITOR_CONFIG), else sqlite:monitor.db.

    \b
    Examples:
      monitor alerts dead --config /etc/monitor/monitor.yaml
      monitor alerts retry                      # every dead letter
      monitor alerts retry 3 7                  # just these
      monitor alerts run --drain --dry-run      # print what is pending, then exit
      REDIS_URL=redis://localhost:6379/0 monitor alerts run
      monitor alerts snoozed                    # rules snoozed, stories muted from Slack
    """


alerts.add_command(snoozed)


@alerts.command("dead")
@config_option
@store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def dead(config_path: Path | None, store_url: str | None, as_json: bool) -> None:
    """List the alerts Slack refused for good, with the reason.

    \b
    Example:
      monitor alerts dead --config /etc/monitor/monitor.yaml
      monitor alerts dead --store sqlite:/var/lib/monitor/monitor.db --json
    """
    letters = load_deployment(config_path, store_url).read(lambda store: store.dead_list())
    for letter in letters:
        if as_json:
            record = {"id": letter.id, "reason": letter.reason, "at": letter.at, "payload": letter.payload}
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        at = datetime.fromtimestamp(letter.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        payload = letter.payload
        channels = ",".join(payload.get("channels") or []) or "(default)"
        title = str(payload.get("title") or "")[:60]
        click.echo(f"{letter.id}\t{at}\t{payload.get('rule_id', '?')}\t{channels}\t{letter.reason}\t{title}")
    if not as_json:
        click.echo(f"{len(letters)} dead letter(s)", err=True)


@alerts.command("retry")
@click.argument("ids", nargs=-1)
@config_option
@store_option
def retry(ids: tuple[str, ...], config_path: Path | None, store_url: str | None) -> None:
    """Send dead letters again: put them back in the outbox (all of them, or the IDs given).

    \b
    Example:
      monitor alerts retry            # after fixing the token or inviting the bot to the channel
      monitor alerts retry 12 13
    """
    store = load_deployment(config_path, store_url).open_store(must_exist=True)
    try:
        letters = store.dead_list()
        wanted = [letter for letter in letters if not ids or letter.id in ids]
        unknown = set(ids) - {letter.id for letter in letters}
        for missing in sorted(unknown):
            click.echo(f"warning: no dead letter {missing}", err=True)
        if wanted:
            # Forget the failed delivery so the notifier posts instead of skipping.
            receipts = Receipts(store)
            for letter in wanted:
                channels = letter.payload.get("channels") or []
                receipts.save(
                    [delivery_key(str(letter.payload.get("alert_id")), c) for c in channels], Receipt("retry")
                )
            store.outbox_add(regroup([letter.payload for letter in wanted]))
            store.dead_remove([letter.id for letter in wanted])
        click.echo(f"re-queued {len(wanted)} alert(s)")
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        store.close()
    sys.exit(EXIT_FAILED if unknown else EXIT_OK)


@alerts.command("run")
@config_option
@store_option
@click.option("--prefix", default=None, help="Redis key prefix (default: the config's store_prefix, monitor:).")
@click.option("--drain", is_flag=True, help="Deliver what is pending, then exit (burst mode).")
@click.option("--dry-run", is_flag=True, help="Print alerts to the console instead of posting them.")
@click.option("--default-channel", default=None, help="Channel of rules without one (default: slack.default_channel).")
@click.option("--mention", default=None, help="User group id for critical alerts (default: slack.critical_mention).")
@click.option("--consumer", default=None, help="This notifier's name in the outbox (default: the config's replica).")
@click.option("--pace", type=float, default=None, help="Seconds between messages to one channel (default: slack.pace).")
@click.option("--burst-size", type=int, default=None, help="Messages per channel a minute before folding.")
@click.option("--claim-idle", default=60.0, show_default=True, help="Seconds before a dead replica's alerts are taken.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for Slack (default: slack.timeout).")
def run(
    config_path: Path | None,
    store_url: str | None,
    prefix: str | None,
    drain: bool,
    dry_run: bool,
    default_channel: str | None,
    mention: str | None,
    consumer: str | None,
    pace: float | None,
    burst_size: int | None,
    claim_idle: float,
    timeout: float | None,
) -> None:
    """Deliver alerts from the outbox to Slack (SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL), or to the console.

    The Slack settings are the config's `slack:` section (as `monitor run` delivers); an option given
    here wins over it.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-... monitor alerts run --config /etc/monitor/monitor.yaml
      monitor alerts run --drain --store redis://localhost:6379/0 --default-channel C0123ABCD
    """
    deployment = load_deployment(config_path, store_url)
    config = deployment.config
    slack = config.slack
    try:
        found = None if dry_run else sink_from_env(timeout=slack.timeout if timeout is None else timeout)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    sink: Sink[Any] = found or ConsoleSink()
    settings = NotifierSettings(
        default_channel=default_channel or slack.default_channel,
        critical_mention=mention or slack.critical_mention,
        pace=slack.pace if pace is None else pace,
        burst_size=burst_size or slack.burst_size,
        claim_idle=timedelta(seconds=claim_idle),
    )
    if consumer or config.replica:
        settings = replace(settings, consumer=consumer or config.replica or settings.consumer)
    if prefix:
        deployment = replace(deployment, config=replace(config, store_prefix=prefix))
    store = deployment.open_store(must_exist=False)
    # Subscribers' mutes and snoozes hold alerts here too (SLACK_APP_TOKEN: docs/slack.md).
    notifier = Notifier(store, sink, settings, hold=hold_from_env(os.environ, store))

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if notifier.stopped:
            raise KeyboardInterrupt  # a second signal: stop now
        notifier.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if drain:
            settled = notifier.drain(digests=True)
            click.echo(f"settled {settled} alert(s)", err=True)
        else:
            notifier.run()
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        store.close()
