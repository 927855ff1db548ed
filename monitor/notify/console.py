"""The console sink: alerts printed instead of posted, when no sink is configured and in dry runs.

On a terminal each notice is drawn as readable text (the matched words in bold); otherwise it is
one JSON object a line (for pipes, files, jq). It renders from the alerts, as every sink does.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO, assert_never

from monitor.notify.alerts import Alert
from monitor.notify.base import ArticleNotice, BurstNotice, DigestNotice, Notice, Posted, notice_alerts, notice_record

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"
# Terminal control sequences and characters in article text would be run by the terminal: dropped.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class ConsoleMessage:
    """What the console prints for a notice: its lines, and its JSON record."""

    lines: tuple[str, ...]
    record: dict[str, Any]
    keys: tuple[str, ...]


def clean(text: str) -> str:
    """Article text safe to print on a terminal: no control characters, no escape sequences."""
    return _CONTROL.sub("", text)


def bold_spans(snippet: str, spans: Sequence[tuple[int, int]], bold: bool) -> str:
    """The snippet with the spans the hits cover in bold (ANSI) when `bold`, else plain."""
    if not bold:
        return clean(snippet)
    out, position = [], 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(snippet))
        if start < end:
            out += [clean(snippet[position:start]), BOLD, clean(snippet[start:end]), PLAIN]
            position = end
    return "".join([*out, clean(snippet[position:])])


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC") if epoch is not None else ""


def _article_lines(notice: ArticleNotice, bold: bool) -> list[str]:
    lead = notice.lead
    lines = [] if notice.followup else [f"{lead.severity.upper()} · {clean(lead.rule_title)}"]
    news = lead.development if notice.followup else None
    reply = f"↳ new development ({clean(news)}): " if news else "↳ also reported: "
    lines.append((reply if notice.followup else "") + clean(lead.title or "(untitled)"))
    if lead.url:
        lines.append(clean(lead.url))
    if lead.snippet:
        lines.append(bold_spans(lead.snippet, lead.highlights, bold))
    language = lead.language.upper() if lead.language else ""
    where = [clean(part) for part in (lead.source, language, f"via {lead.feed}" if lead.feed else "") if part]
    lines.append(" · ".join([*where, _when(lead.published)] if lead.published else where))
    for alert in notice.alerts:
        matched = f" · matched {', '.join(clean(w) for w in alert.matched)}" if alert.matched else ""
        followup = " (follow-up)" if alert.followup else ""
        lines.append(f"rule {alert.rule_id} [{alert.severity}]{followup}{matched}")
    if notice.story is not None and notice.story.reports > 1:
        lines.append(str(notice.story))
    if notice.mention:
        lines.insert(0, f"@{notice.mention}")
    return lines


def _list_lines(heading: str, articles: Sequence[Sequence[Alert]]) -> list[str]:
    lines = [heading]
    for alerts in articles:
        lead = alerts[0]
        rules = ", ".join(alert.rule_id for alert in alerts)
        lines.append(f"• {clean(lead.title or '(untitled)')} ({clean(lead.label)}) [{rules}]")
    return lines


def render_lines(notice: Notice, bold: bool = False) -> list[str]:
    """The notice as lines of text."""
    match notice:
        case ArticleNotice():
            return _article_lines(notice, bold)
        case BurstNotice(articles=articles):
            return _list_lines(f"{len(articles)} more alert(s) in this burst", articles)
        case DigestNotice(alerts=alerts, period=period):
            heading = f"digest of {alerts[0].rule_title}: {len(alerts)} alert(s) in {period / 3600:g}h"
            return _list_lines(heading, [[alert] for alert in alerts])
        case _:
            assert_never(notice)


class ConsoleSink:
    """Prints notices to a stream; returns a made-up ts so that threads and receipts work as with Slack.

    Args:
        stream: where to print (stdout by default).
        pretty: readable text; None picks it when the stream is a terminal, JSON lines otherwise.
    """

    name = "console"
    threads = True

    def __init__(self, stream: TextIO | None = None, pretty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.pretty = self.stream.isatty() if pretty is None else pretty
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def render(self, notice: Notice) -> list[ConsoleMessage]:
        keys = tuple(alert.alert_id for alert in notice_alerts(notice))
        record = {**notice_record(notice), "alert_ids": list(keys)}
        return [ConsoleMessage(tuple(render_lines(notice, bold=self.pretty)), record, keys)]

    def post(self, channel: str, message: ConsoleMessage, thread_ts: str | None = None) -> Posted:
        with self._lock:
            ts = f"{time.time():.0f}.{next(self._counter):06d}"
            if self.pretty:
                where = f"{channel} (reply to {thread_ts})" if thread_ts else channel
                lines = [f"── {where} " + "─" * max(0, 60 - len(where))]
                lines += [f"  {line}" for text in message.lines for line in text.splitlines()]
                self.stream.write("\n".join(lines) + "\n\n")
            else:
                self._write({"channel": channel, "ts": ts, "thread_ts": thread_ts, **message.record})
            self.stream.flush()
        return Posted(channel, ts)

    def update(self, posted: Posted, message: ConsoleMessage) -> None:
        with self._lock:
            if self.pretty:
                self.stream.write(f"   (updated {posted.channel} {posted.ts}: {message.lines[-1]})\n")
            else:
                self._write({"update": posted.ts, "channel": posted.channel, **message.record})
            self.stream.flush()

    def _write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        return {}
