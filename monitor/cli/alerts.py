"""`monitor alerts`: deliver the outbox, list dead letters, send them again."""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import FrameType

import click

from monitor.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from monitor.errors import MonitorError
from monitor.notify.console import ConsoleSink
from monitor.notify.outbox import Notifier, NotifierSettings, delivery_key
from monitor.notify.slack import Sink, sink_from_env
from monitor.store import Store, open_store

DEFAULT_STORE = "sqlite:monitor.db"

_store_option = click.option(
    "--store",
    "store_url",
    default=DEFAULT_STORE,
    show_default=True,
    envvar="MONITOR_STORE",
    help="Store URL: redis://HOST:PORT/DB or sqlite:PATH.",
)


def _open(url: str, prefix: str | None = None) -> Store:
    try:
        return open_store(url, prefix)
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@click.group()
def alerts() -> None:
    """Deliver alerts from the outbox, and deal with the ones Slack refused.

    \b
    Examples:
      monitor alerts run --store redis://localhost:6379/0
      monitor alerts run --drain --dry-run      # print what is pending, then exit
      monitor alerts dead
      monitor alerts retry                      # every dead letter
      monitor alerts retry 3 7                  # just these
    """


@alerts.command("dead")
@_store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def dead(store_url: str, as_json: bool) -> None:
    """List the alerts Slack refused for good, with the reason.

    \b
    Example:
      monitor alerts dead --store sqlite:monitor.db
    """
    store = _open(store_url)
    try:
        letters = store.dead_list()
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        store.close()
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
@_store_option
def retry(ids: tuple[str, ...], store_url: str) -> None:
    """Send dead letters again: put them back in the outbox (all of them, or the IDs given).

    \b
    Example:
      monitor alerts retry            # after fixing the token or inviting the bot to the channel
      monitor alerts retry 12 13
    """
    store = _open(store_url)
    try:
        letters = store.dead_list()
        wanted = [letter for letter in letters if not ids or letter.id in ids]
        unknown = set(ids) - {letter.id for letter in letters}
        for missing in sorted(unknown):
            click.echo(f"warning: no dead letter {missing}", err=True)
        if wanted:
            # Forget the failed delivery so the notifier posts instead of skipping.
            for letter in wanted:
                for channel in letter.payload.get("channels") or []:
                    key = delivery_key(str(letter.payload.get("alert_id")), channel)
                    store.save_receipt(key, json.dumps({"state": "retry"}))
            store.outbox_add([letter.payload for letter in wanted])
            store.dead_remove([letter.id for letter in wanted])
        click.echo(f"re-queued {len(wanted)} alert(s)")
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        store.close()
    sys.exit(EXIT_FAILED if unknown else EXIT_OK)


@alerts.command("run")
@_store_option
@click.option("--prefix", default=None, envvar="MONITOR_REDIS_PREFIX", help="Redis key prefix (default monitor:).")
@click.option("--drain", is_flag=True, help="Deliver what is pending, then exit (burst mode).")
@click.option("--dry-run", is_flag=True, help="Print alerts to the console instead of posting them.")
@click.option("--default-channel", default="#news-alerts", show_default=True, envvar="MONITOR_SLACK_CHANNEL")
@click.option("--mention", default=None, envvar="MONITOR_CRITICAL_MENTION", help="User group id for critical alerts.")
@click.option("--consumer", default=None, help="This notifier's name in the outbox (unique per replica).")
@click.option("--pace", default=1.0, show_default=True, help="Seconds between messages to one channel.")
@click.option("--burst-size", default=20, show_default=True, help="Messages per channel a minute before folding.")
@click.option("--claim-idle", default=60.0, show_default=True, help="Seconds before a dead replica's alerts are taken.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for Slack's answer.")
def run(
    store_url: str,
    prefix: str | None,
    drain: bool,
    dry_run: bool,
    default_channel: str,
    mention: str | None,
    consumer: str | None,
    pace: float,
    burst_size: int,
    claim_idle: float,
    timeout: float,
) -> None:
    """Deliver alerts from the outbox to Slack (SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL), or to the console.

    \b
    Example:
      SLACK_BOT_TOKEN=xoxb-... monitor alerts run --store redis://localhost:6379/0 --default-channel C0123
    """
    try:
        sink: Sink = (None if dry_run else sink_from_env(timeout=timeout)) or ConsoleSink()
    except MonitorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    settings = NotifierSettings(
        default_channel=default_channel,
        critical_mention=mention,
        pace=pace,
        burst_size=burst_size,
        claim_idle=timedelta(seconds=claim_idle),
    )
    if consumer:
        settings = replace(settings, consumer=consumer)
    store = _open(store_url, prefix)
    notifier = Notifier(store, sink, settings)

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
