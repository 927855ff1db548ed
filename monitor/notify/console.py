"""The console sink: alerts printed instead of posted, when no Slack credentials are set and in dry runs.

On a terminal each message is drawn readably; otherwise it is one JSON object a line (for pipes, files, jq).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from monitor.notify.blocks import Message
from monitor.notify.slack import Posted

_LINK = re.compile(r"<([^|<>]+)\|([^<>]*)>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")
_MENTION = re.compile(r"<!subteam\^([A-Z0-9]+)>")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as terminal text: links as `label (url)`, dates as their fallback, entities decoded."""
    text = _DATE.sub(r"\1", mrkdwn)
    text = _MENTION.sub(r"@\1", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1).replace('&amp;', '&')})", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_texts(blocks: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            lines.append(plain(str(block["text"].get("text", ""))))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                lines.append(plain(str(element["text"])))
    return lines


class ConsoleSink:
    """Prints messages to a stream; returns a made-up ts so that threads and receipts work as with Slack.

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

    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> Posted:
        with self._lock:
            ts = f"{time.time():.0f}.{next(self._counter):06d}"
            if self.pretty:
                where = f"{channel} (reply to {thread_ts})" if thread_ts else channel
                lines = [f"── {where} " + "─" * max(0, 60 - len(where))]
                lines += [f"  {line}" for text in _block_texts(message.blocks) for line in text.splitlines()]
                self.stream.write("\n".join(lines) + "\n\n")
            else:
                record = {
                    "channel": channel,
                    "ts": ts,
                    "thread_ts": thread_ts,
                    "text": message.text,
                    "alert_ids": list(message.keys),
                    "blocks": message.blocks,
                }
                self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.stream.flush()
        return Posted(channel, ts)

    def update(self, posted: Posted, message: Message) -> None:
        with self._lock:
            if self.pretty:
                self.stream.write(f"   (updated {posted.channel} {posted.ts}: {plain(message.text)})\n")
            else:
                record = {"update": posted.ts, "channel": posted.channel, "text": message.text}
                self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.stream.flush()

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        return {}
