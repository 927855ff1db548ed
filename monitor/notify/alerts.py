"""The alert payload: everything a message needs, built from one pipeline result, JSON-able for the outbox.

One outbox entry holds one article's alerts (one per rule it matched), so that the notifier can post
one message per article and channel however the entries are taken.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.document import Document
from monitor.pipeline import Processed
from monitor.rules.matcher import Hit, Match
from monitor.store.base import Store
from monitor.stories import AlertDecision

PAYLOAD_VERSION = 2
SEVERITIES = ("info", "low", "medium", "high", "critical")
# The excerpt shown with an alert: the text around the first hit, this much before it and in all.
EXCERPT_LEAD = 120
EXCERPT_CHARS = 400
MAX_MATCHED = 12


def severity_rank(severity: str) -> int:
    """info 0 ... critical 4 (an unknown severity sorts first, as info)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (or follow-up) of one rule for one article, as it travels through the outbox.

    Attributes:
        alert_id: the idempotency key (stable for this rule, story and document).
        decision: "new" or "follow-up".
        parent: for a follow-up, the alert_id of the story's first alert.
        channels: the rule's `alert.channels` (empty: the notifier's default channel).
        source: the outlet that published the article: the page's site name, the feed entry's source
            element, else the domain of its URL.
        feed: the feed it came through (its configured name), when it came from one.
        published: the article's publication time as epoch seconds, when known.
        snippet: an excerpt of the article's text around the rule's first hit.
        highlights: the (start, end) spans of `snippet` the rule's hits cover.
        matched: the matched words as the article writes them, distinct, in order of first hit.
        digest: the rule's digest period in seconds, when it asks for digests.
        created: when the alert was raised (epoch seconds), for latency and digests.
        language: the article's language (ISO 639-1), when known.
        development: for a follow-up, what the article brings that its story's earlier reports did
            not ("marked as an update", "new figure 3", "new voice Oleh Kiper"), else None.
    """

    alert_id: str
    decision: str
    rule_id: str
    rule_title: str
    severity: str
    story_id: str
    doc_id: str
    title: str
    url: str | None = None
    source: str | None = None
    feed: str | None = None
    published: float | None = None
    snippet: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    matched: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    parent: str | None = None
    digest: float | None = None
    created: float = 0.0
    language: str | None = None
    development: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready mapping; `from_payload` reads it back unchanged."""
        payload = asdict(self)
        for key in ("matched", "channels"):
            payload[key] = list(payload[key])
        payload["highlights"] = [list(span) for span in self.highlights]
        payload["v"] = PAYLOAD_VERSION
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Alert:
        """Rebuild an Alert from `to_payload` output (or a version 1 payload); raises ValueError when malformed."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in payload.items() if key in known}
        for key in ("alert_id", "decision", "rule_id", "title"):
            if not isinstance(values.get(key), str):
                raise ValueError(f"alert payload: {key!r} missing or not a string")
        # Version 1 had the rule's terms as written in the rule, and no highlights.
        matched = values.get("matched") if "matched" in payload else payload.get("terms")
        values["matched"] = tuple(matched or ())
        values["channels"] = tuple(values.get("channels") or ())
        try:
            values["highlights"] = tuple((int(start), int(end)) for start, end in values.get("highlights") or ())
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"alert payload: {exc}") from None

    @property
    def followup(self) -> bool:
        return self.decision == "follow-up" and self.parent is not None

    @property
    def label(self) -> str:
        """Where the article came from, for lists: its outlet, else its URL, else its id."""
        return self.source or self.url or self.doc_id


def article_payload(alerts: Sequence[Alert]) -> dict[str, Any]:
    """One outbox entry: an article's alerts."""
    return {"v": PAYLOAD_VERSION, "alerts": [alert.to_payload() for alert in alerts]}


def payload_alerts(payload: dict[str, Any]) -> list[Alert]:
    """The alerts of one outbox entry: an article's (`article_payload`) or a single alert's (a dead
    letter sent again, or an entry written before articles were grouped); raises ValueError."""
    items = payload.get("alerts")
    if items is None:
        return [Alert.from_payload(payload)]
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("article payload: 'alerts' must be a non-empty list of alerts")
    return [Alert.from_payload(item) for item in items]


def regroup(payloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outbox entries for alert payloads sent again (dead letters): one entry per article and channels,
    so that an article's alerts come back as one message; anything that is not an alert, as it was."""
    articles: dict[tuple[str, str], list[dict[str, Any]]] = {}
    others: list[dict[str, Any]] = []
    for payload in payloads:
        if isinstance(payload.get("alert_id"), str):
            where = (str(payload.get("doc_id")), "\x1f".join(map(str, payload.get("channels") or ())))
            articles.setdefault(where, []).append(payload)
        else:
            others.append(payload)
    return [{"v": PAYLOAD_VERSION, "alerts": alerts} for alerts in articles.values()] + others


# From a pipeline result -------------------------------------------------------------------------


def outlet(doc: Document) -> str | None:
    """Who published the article: its own outlet name, else its URL's domain, else what the file said."""
    if doc.outlet:
        return doc.outlet
    host = urlsplit(doc.url).hostname if doc.url else None
    if host:
        return host.removeprefix("www.")
    return doc.source


def _field(doc: Document, field: str) -> str:
    return doc.title if field == "title" else doc.text


def matched_words(doc: Document, hits: Iterable[Hit]) -> tuple[str, ...]:
    """The words of the hits as the article writes them (`Hit.text`, else the field's text at the hit's
    offsets), each once (case aside), in order of first hit."""
    seen: dict[str, str] = {}
    for hit in hits:
        words = " ".join((hit.text or _field(doc, hit.field)[hit.start : hit.end]).split())
        if words:
            seen.setdefault(words.casefold(), words)
    return tuple(seen.values())[:MAX_MATCHED]


def excerpt(doc: Document, hits: Sequence[Hit]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The text around the first hit in the article's text, and the spans of it the hits cover.

    The excerpt starts at the sentence or word before the first hit and ends at a word boundary; an
    article whose hits are all in its title gets the start of its text, with nothing highlighted.
    """
    text = doc.text
    spans = sorted((h.start, h.end) for h in hits if h.field == "text" and 0 <= h.start < h.end <= len(text))
    first = spans[0][0] if spans else 0
    begin = max(0, first - EXCERPT_LEAD)
    if begin > 0:  # from the start of the sentence holding the hit, else of a word
        sentence = max(text.rfind(". ", begin, first), text.rfind("\n", begin, first))
        space = text.find(" ", begin, first)
        begin = sentence + 1 if sentence >= 0 else (space + 1 if space >= 0 else begin)
    while begin < first and text[begin].isspace():
        begin += 1
    end = min(len(text), begin + EXCERPT_CHARS)
    if end < len(text):  # to the end of a word
        space = text.rfind(" ", first + 1, end)
        end = space if space > begin else end
    while end > begin and text[end - 1].isspace():
        end -= 1
    lead = "…" if begin > 0 else ""
    # White space runs (line breaks, blank lines) become one space; `at` maps text offsets to the snippet's.
    kept: list[str] = []
    at: dict[int, int] = {}
    for index in range(begin, end):
        at[index] = len(lead) + len(kept)
        if not (text[index].isspace() and kept and kept[-1] == " "):
            kept.append(" " if text[index].isspace() else text[index])
    at[end] = len(lead) + len(kept)
    snippet = lead + "".join(kept) + ("…" if end < len(text) else "")
    covered: list[list[int]] = []
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        if covered and at[start] <= covered[-1][1]:
            covered[-1][1] = max(covered[-1][1], at[stop])
        else:
            covered.append([at[start], at[stop]])
    return snippet, tuple((start, stop) for start, stop in covered)


def _digest_period(match: Match) -> float | None:
    period = match.rule.alert.digest
    return period.total_seconds() if isinstance(period, timedelta) and period.total_seconds() > 0 else None


def alert_of(
    doc: Document, match: Match, decision: AlertDecision, now: float | None = None, development: str | None = None
) -> Alert:
    """The alert for one match of one document and the decision taken on it (`development`: what the
    document brings to its story, for a follow-up)."""
    rule = match.rule
    snippet, highlights = excerpt(doc, match.hits)
    return Alert(
        alert_id=decision.alert_id,
        decision=decision.decision,
        rule_id=rule.id,
        rule_title=rule.title,
        severity=rule.severity,
        story_id=decision.story_id,
        doc_id=doc.id,
        title=doc.title,
        url=doc.url,
        source=outlet(doc),
        feed=doc.source if doc.seen is not None else None,
        published=doc.published.timestamp() if doc.published else None,
        snippet=snippet,
        highlights=highlights,
        matched=matched_words(doc, match.hits),
        channels=rule.alert.channels,
        parent=decision.parent,
        digest=_digest_period(match),
        created=time.time() if now is None else now,
        language=doc.language,
        development=development if decision.decision == "follow-up" else None,
    )


def build_alerts(processed: Processed, now: float | None = None) -> list[Alert]:
    """One alert per "new" or "follow-up" decision; suppressed matches raise none."""
    by_rule = {match.rule.id: match for match in processed.matches}
    development = processed.story.development if processed.story is not None else None
    return [
        alert_of(processed.doc, by_rule[decision.rule], decision, now, development)
        for decision in processed.decisions
        if decision.decision in ("new", "follow-up") and decision.rule in by_rule
    ]


def enqueue(store: Store, processed: Processed, now: float | None = None) -> list[Alert]:
    """Build the alerts of one pipeline result and append them to the store's outbox, as one entry."""
    alerts = build_alerts(processed, now)
    if alerts:
        store.outbox_add([article_payload(alerts)])
    return alerts
