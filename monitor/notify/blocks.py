"""Slack messages (Block Kit) for notices: alerts, thread replies, burst summaries and digests, within Slack's limits.

Every message has a plain-text `text` too: Slack shows it in notifications and where blocks cannot
be drawn. Text from articles and rules is escaped for mrkdwn (`&`, `<`, `>`, and the formatting
characters `*`, `_`, `~` and backticks); the words the matcher reported are bold, found by the
offsets of its hits; times use Slack's date formatting so each reader sees their own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, assert_never

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from monitor.notify.alerts import Alert
from monitor.notify.base import ArticleNotice, BurstNotice, DigestNotice, Notice

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
CONTEXT_CHARS = 2000
FALLBACK_CHARS = 3000
TITLE_CHARS = 300
SNIPPET_CHARS = 1500
LIST_TITLE_CHARS = 150
# A message lists at most this many rules in full; the rest are named in one line.
RULE_LINES = 8

SEVERITY_MARK = {"info": "⚪", "low": "🔵", "medium": "🟡", "high": "🟠", "critical": "🔴"}

METADATA_ALERT = "monitor_alert"
METADATA_SUMMARY = "monitor_alert_summary"

# Slack has no escape for its formatting characters: a zero-width space on each side keeps one from
# opening or closing bold, italics, strike-through or code, and leaves it visible (and copyable).
_FORMATTING = re.compile(r"([*_~`])")
_ZERO_WIDTH = "\u200b"


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
    """Text as it reads in Slack mrkdwn: `&`, `<`, `>` as entities, `*` `_` `~` and backticks inert."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _FORMATTING.sub(rf"{_ZERO_WIDTH}\1{_ZERO_WIDTH}", text)


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


def highlight(snippet: str, spans: Sequence[tuple[int, int]], limit: int = SNIPPET_CHARS) -> str:
    """The snippet (at most `limit` characters) escaped for mrkdwn, the spans the hits cover in bold.

    Bold needs a word boundary on both sides in mrkdwn: a span inside a word stays plain.
    """
    if len(snippet) > limit:
        snippet = snippet[: limit - 1].rstrip() + "…"
    out: list[str] = []
    position = 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(snippet))
        if start >= end:
            continue
        out.append(escape(snippet[position:start]))
        before_ok = start == 0 or not snippet[start - 1].isalnum()
        after_ok = end == len(snippet) or not snippet[end].isalnum()
        word = escape(snippet[start:end])
        out.append(f"*{word}*" if before_ok and after_ok and snippet[start:end].strip() else word)
        position = end
    out.append(escape(snippet[position:]))
    return "".join(out)


def _where(alert: Alert) -> str:
    parts = [escape(cut(alert.source, 200))] if alert.source else []
    if alert.language:
        parts.append(escape(alert.language.upper()))
    if alert.feed and alert.feed != alert.source:
        parts.append(f"via {escape(cut(alert.feed, 100))}")
    if alert.published is not None:
        parts.append(slack_date(alert.published))
    return " · ".join(parts)


def _severity(alert: Alert) -> str:
    return f"{SEVERITY_MARK.get(alert.severity, '⚪')} {alert.severity.upper()}"


def _matched(alert: Alert) -> str:
    return ", ".join(f"*{escape(cut(words, 60))}*" for words in alert.matched[:10])


def _rule_line(alert: Alert) -> str:
    """One rule of a message listing several: severity, title, id, follow-up or not, the words it matched."""
    line = f"{SEVERITY_MARK.get(alert.severity, '⚪')} {escape(cut(alert.rule_title, 120))} (`{escape(alert.rule_id)}`)"
    if alert.followup:
        line += " · follow-up"
    return line + (f" · matched {_matched(alert)}" if alert.matched else "")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_CHARS]))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=t[:CONTEXT_CHARS]) for t in texts if t][:10])


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks[:MAX_BLOCKS]]


def _metadata(keys: Sequence[str], event_type: str = METADATA_ALERT) -> dict[str, Any]:
    if len(keys) == 1:
        return {"event_type": event_type, "event_payload": {"alert_id": keys[0]}}
    return {"event_type": event_type, "event_payload": {"alert_ids": list(keys)}}


def metadata_keys(metadata: Any) -> list[str]:
    """The alert ids a message's metadata carries (empty for messages that are not ours)."""
    if not isinstance(metadata, dict) or metadata.get("event_type") not in (METADATA_ALERT, METADATA_SUMMARY):
        return []
    payload = metadata.get("event_payload") or {}
    if isinstance(payload.get("alert_id"), str):
        return [payload["alert_id"]]
    ids = payload.get("alert_ids")
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def render(notice: Notice) -> list[Message]:
    """The Slack messages that say a notice (Web API and incoming webhooks alike)."""
    match notice:
        case ArticleNotice():
            return [article_message(notice)]
        case BurstNotice(articles=articles):
            return summary_messages(articles)
        case DigestNotice(alerts=alerts, period=period):
            return digest_messages(alerts, period)
        case _:
            assert_never(notice)


def article_message(notice: ArticleNotice) -> Message:
    """One article in one channel: a new alert (top level) or a follow-up (a thread reply), every rule listed."""
    lead, alerts = notice.lead, notice.alerts
    title = cut(lead.title or "(untitled)", TITLE_CHARS)
    body = f"*{link(lead.url, title)}*"
    if lead.snippet:
        body += "\n" + highlight(lead.snippet, lead.highlights)
    if notice.mention:
        body = f"<!subteam^{notice.mention}> " + body
    blocks: list[Block] = []
    news = lead.development if notice.followup else None
    if news:
        blocks.append(_context(f"🆕 *New development:* {escape(cut(news, 200))}"))
    if not notice.followup:
        more = f" · +{len(alerts) - 1} more rule{'s' if len(alerts) > 2 else ''}" if len(alerts) > 1 else ""
        blocks.append(HeaderBlock(text=cut(f"{_severity(lead)} · {lead.rule_title}", HEADER_CHARS - len(more)) + more))
    blocks.append(_section(body))
    if len(alerts) == 1:
        details = [_where(lead), f"rule `{escape(lead.rule_id)}`"]
        if lead.matched:
            details.append("matched " + _matched(lead))
        blocks.append(_context(*details))
    else:
        lines = [_rule_line(alert) for alert in alerts[:RULE_LINES]]
        if len(alerts) > RULE_LINES:
            rest = ", ".join(f"`{escape(a.rule_id)}`" for a in alerts[RULE_LINES:])
            lines.append(f"and {len(alerts) - RULE_LINES} more: {rest}")
        blocks += [_context(_where(lead)), _section("\n".join(lines))]
    if notice.story is not None and notice.story.reports > 1:
        blocks.append(_context(f"📰 {notice.story} (see thread)"))
    source = f" ({lead.source})" if lead.source else ""
    if news:
        fallback = f"New development ({news}): {title}{source}"
    elif notice.followup:
        fallback = f"Also reported: {title}{source}"
    else:
        rules = ", ".join(a.rule_title for a in alerts)
        fallback = f"[{lead.severity.upper()}] {rules}: {title}{source}"
    keys = tuple(alert.alert_id for alert in alerts)
    return Message(
        text=escape(cut(fallback, FALLBACK_CHARS)), blocks=_dicts(blocks), keys=keys, metadata=_metadata(keys)
    )


def _line(alerts: Sequence[Alert], with_rule: bool) -> str:
    lead = alerts[0]
    title = link(lead.url, cut(lead.title or "(untitled)", LIST_TITLE_CHARS))
    source = f" ({escape(cut(lead.source, 60))})" if lead.source else ""
    rules = ""
    if with_rule:
        names = ", ".join(escape(cut(a.rule_title, 80)) for a in alerts[:3])
        rules = f"{SEVERITY_MARK.get(lead.severity, '⚪')} {names}{' …' if len(alerts) > 3 else ''}: "
    reply = "↳ " if all(a.followup for a in alerts) else ""
    return f"• {reply}{rules}{title}{source}"


def _listing(heading: str, articles: Sequence[Sequence[Alert]], with_rule: bool, fallback: str) -> list[Message]:
    """Articles listed one a line, split over as many messages as Slack's limits need: none left out."""
    sections: list[tuple[str, list[str]]] = []
    for alerts in articles:
        line = _line(alerts, with_rule)
        ids = [alert.alert_id for alert in alerts]
        if sections and len(sections[-1][0]) + 1 + len(line) <= SECTION_CHARS:
            text, section_keys = sections[-1]
            sections[-1] = (f"{text}\n{line}", [*section_keys, *ids])
        else:
            sections.append((line, ids))
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
                metadata=_metadata(batch_keys, METADATA_SUMMARY),
            )
        )
    return messages


def summary_messages(articles: Sequence[Sequence[Alert]]) -> list[Message]:
    """A burst folded into one message (more when Slack's limits need): every article listed."""
    count = len(articles)
    heading = f"📚 {count} more alert{'s' if count != 1 else ''} in this burst"
    return _listing(heading, articles, True, f"{count} more alerts (burst folded into one message)")


def digest_messages(alerts: Sequence[Alert], period: float) -> list[Message]:
    """A rule's digest: one message listing the period's alerts."""
    first = alerts[0]
    hours = period / 3600
    span = f"{hours:g}h" if hours >= 1 else f"{period / 60:g}min"
    heading = f"🗞 {first.rule_title}: {len(alerts)} alert{'s' if len(alerts) != 1 else ''} in the last {span}"
    fallback = f"Digest of {first.rule_title} ({len(alerts)} alerts, {span})"
    return _listing(heading, [[alert] for alert in alerts], False, fallback)
