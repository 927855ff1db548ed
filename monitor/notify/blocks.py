"""Block Kit messages for alerts, thread replies, burst summaries and digests, within Slack's limits.

Every message has a plain-text `text` too: Slack shows it in notifications and where blocks cannot
be drawn. Text from articles and rules is escaped for mrkdwn (`&`, `<`, `>`); matched terms are bold;
times use Slack's date formatting so each reader sees their own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from monitor.notify.alerts import Alert

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
CONTEXT_CHARS = 2000
FALLBACK_CHARS = 3000
TITLE_CHARS = 300
SNIPPET_CHARS = 1500
LIST_TITLE_CHARS = 150

SEVERITY_MARK = {"info": "⚪", "low": "🔵", "medium": "🟡", "high": "🟠", "critical": "🔴"}

METADATA_ALERT = "monitor_alert"
METADATA_SUMMARY = "monitor_alert_summary"


@dataclass(frozen=True, slots=True)
class Message:
    """A Slack message ready to post: fallback text, Block Kit blocks (as dicts), and metadata.

    `keys` are the alert ids this message carries: they go into the message metadata so that a
    redelivered alert can find its message in the channel history instead of posting again.
    """

    text: str
    blocks: list[dict[str, Any]]
    keys: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = field(default=None)


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: only `&`, `<` and `>` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """The text, shortened to at most `limit` characters with an ellipsis."""
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def link(url: str | None, label: str) -> str:
    """A mrkdwn link `<url|label>` (the label escaped), or just the escaped label without a URL."""
    if not url:
        return escape(label)
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe}|{escape(label)}>"


def slack_date(epoch: float, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A time every reader sees in their own time zone, with a UTC fallback for old clients."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime(fallback_format)
    return f"<!date^{int(epoch)}^{{date_short_pretty}} {{time}}|{fallback}>"


def highlight(snippet: str, terms: Sequence[str]) -> str:
    """The snippet escaped for mrkdwn, every occurrence of a matched term in bold."""
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term.strip():
            continue
        for found in re.finditer(re.escape(term.strip()), snippet, re.IGNORECASE):
            spans.append(found.span())
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    position = 0
    for start, end in merged:
        out.append(escape(snippet[position:start]))
        # Bold needs a word boundary on both sides in mrkdwn; a hit inside a word stays plain.
        before_ok = start == 0 or not snippet[start - 1].isalnum()
        after_ok = end == len(snippet) or not snippet[end].isalnum()
        word = escape(snippet[start:end])
        out.append(f"*{word}*" if before_ok and after_ok else word)
        position = end
    out.append(escape(snippet[position:]))
    return "".join(out)


def _where(alert: Alert) -> str:
    parts = [escape(cut(alert.source, 200))] if alert.source else []
    if alert.published is not None:
        parts.append(slack_date(alert.published))
    return " · ".join(parts)


def _severity(alert: Alert) -> str:
    return f"{SEVERITY_MARK.get(alert.severity, '⚪')} {alert.severity.upper()}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_CHARS]))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=t[:CONTEXT_CHARS]) for t in texts if t][:10])


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks[:MAX_BLOCKS]]


def _alert_metadata(keys: Sequence[str]) -> dict[str, Any]:
    if len(keys) == 1:
        return {"event_type": METADATA_ALERT, "event_payload": {"alert_id": keys[0]}}
    return {"event_type": METADATA_SUMMARY, "event_payload": {"alert_ids": list(keys)}}


def metadata_keys(metadata: Any) -> list[str]:
    """The alert ids a message's metadata carries (empty for messages that are not ours)."""
    if not isinstance(metadata, dict) or metadata.get("event_type") not in (METADATA_ALERT, METADATA_SUMMARY):
        return []
    payload = metadata.get("event_payload") or {}
    if isinstance(payload.get("alert_id"), str):
        return [payload["alert_id"]]
    ids = payload.get("alert_ids")
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def alert_message(alert: Alert, also_reported: int = 0, mention: str | None = None) -> Message:
    """The top-level message of a new alert.

    Args:
        alert: the alert.
        also_reported: how many other sources reported the story (shown once above zero).
        mention: a user group id (`S0123...`) to mention, for critical alerts.
    """
    title = cut(alert.title or "(untitled)", TITLE_CHARS)
    header = cut(f"{_severity(alert)} · {alert.rule_title}", HEADER_CHARS)
    body = f"*{link(alert.url, title)}*"
    if alert.snippet:
        body += "\n" + highlight(cut(alert.snippet, SNIPPET_CHARS), alert.terms)
    if mention:
        body = f"<!subteam^{mention}> " + body
    blocks: list[Block] = [HeaderBlock(text=header), _section(body)]
    details = [_where(alert), f"rule `{escape(alert.rule_id)}`"]
    if alert.terms:
        details.append("matched " + ", ".join(f"*{escape(cut(t, 60))}*" for t in alert.terms[:10]))
    blocks.append(_context(*details))
    if also_reported > 0:
        noun = "source" if also_reported == 1 else "sources"
        blocks.append(_context(f"📰 also reported by {also_reported} {noun} (see thread)"))
    fallback = f"[{alert.severity.upper()}] {alert.rule_title}: {title}"
    if alert.source:
        fallback += f" ({alert.source})"
    return Message(
        text=escape(cut(fallback, FALLBACK_CHARS)),
        blocks=_dicts(blocks),
        keys=(alert.alert_id,),
        metadata=_alert_metadata([alert.alert_id]),
    )


def followup_message(alert: Alert) -> Message:
    """A follow-up of a story, posted as a reply in its first alert's thread."""
    title = cut(alert.title or "(untitled)", TITLE_CHARS)
    body = f"*{link(alert.url, title)}*"
    if alert.snippet:
        body += "\n" + highlight(cut(alert.snippet, SNIPPET_CHARS), alert.terms)
    blocks: list[Block] = [_section(body), _context(_where(alert), f"rule `{escape(alert.rule_id)}`")]
    fallback = f"Also reported: {title}" + (f" ({alert.source})" if alert.source else "")
    return Message(
        text=escape(cut(fallback, FALLBACK_CHARS)),
        blocks=_dicts(blocks),
        keys=(alert.alert_id,),
        metadata=_alert_metadata([alert.alert_id]),
    )


def _line(alert: Alert, with_rule: bool) -> str:
    title = link(alert.url, cut(alert.title or "(untitled)", LIST_TITLE_CHARS))
    source = f" ({escape(cut(alert.source, 60))})" if alert.source else ""
    rule = f"{SEVERITY_MARK.get(alert.severity, '⚪')} {escape(cut(alert.rule_title, 80))}: " if with_rule else ""
    reply = "↳ " if alert.followup else ""
    return f"• {reply}{rule}{title}{source}"


def _listing(heading: str, alerts: Sequence[Alert], with_rule: bool, fallback: str) -> list[Message]:
    """Alerts listed one a line, split over as many messages as Slack's limits need: none left out."""
    sections: list[tuple[str, list[str]]] = []
    for alert in alerts:
        line = _line(alert, with_rule)
        if sections and len(sections[-1][0]) + 1 + len(line) <= SECTION_CHARS:
            text, section_keys = sections[-1]
            sections[-1] = (f"{text}\n{line}", [*section_keys, alert.alert_id])
        else:
            sections.append((line, [alert.alert_id]))
    per_message = MAX_BLOCKS - 1
    batches = [
        ([text for text, _ in chunk], [key for _, keys in chunk for key in keys])
        for chunk in (sections[i : i + per_message] for i in range(0, len(sections), per_message))
    ]
    messages: list[Message] = []
    for number, (texts, batch_keys) in enumerate(batches, 1):
        part = f" ({number}/{len(batches)})" if len(batches) > 1 else ""
        blocks: list[Block] = [HeaderBlock(text=cut(heading + part, HEADER_CHARS))]
        blocks += [_section(text) for text in texts]
        messages.append(
            Message(
                text=escape(cut(fallback + part, FALLBACK_CHARS)),
                blocks=_dicts(blocks),
                keys=tuple(batch_keys),
                metadata=_alert_metadata(batch_keys),
            )
        )
    return messages


def summary_messages(alerts: Sequence[Alert]) -> list[Message]:
    """A burst folded into one message (more when Slack's limits need): every alert listed."""
    count = len(alerts)
    heading = f"📚 {count} more alert{'s' if count != 1 else ''} in this burst"
    return _listing(heading, alerts, True, f"{count} more alerts (burst folded into one message)")


def digest_messages(alerts: Sequence[Alert], period: float) -> list[Message]:
    """A rule's digest: one message listing the period's alerts."""
    first = alerts[0]
    hours = period / 3600
    span = f"{hours:g}h" if hours >= 1 else f"{period / 60:g}min"
    heading = f"🗞 {first.rule_title}: {len(alerts)} alert{'s' if len(alerts) != 1 else ''} in the last {span}"
    return _listing(heading, alerts, False, f"Digest of {first.rule_title} ({len(alerts)} alerts, {span})")
