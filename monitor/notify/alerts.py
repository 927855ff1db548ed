"""The alert payload: everything a message needs, built from one pipeline result, JSON-able for the outbox."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from monitor.document import Document
from monitor.pipeline import Processed
from monitor.rules.matcher import Match
from monitor.store.base import Store
from monitor.stories import AlertDecision

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (or follow-up) as it travels through the outbox.

    Attributes:
        alert_id: the idempotency key (stable for this rule, story and document).
        decision: "new" or "follow-up".
        parent: for a follow-up, the alert_id of the story's first alert.
        channels: the rule's `alert.channels` (empty: the notifier's default channel).
        published: the article's publication time as epoch seconds, when known.
        terms: the distinct matched terms, in order of first hit.
        digest: the rule's digest period in seconds, when it asks for digests.
        created: when the alert was raised (epoch seconds), for latency and digests.
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
    published: float | None = None
    snippet: str = ""
    terms: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    parent: str | None = None
    digest: float | None = None
    created: float = 0.0

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready mapping; `from_payload` reads it back unchanged."""
        payload = asdict(self)
        payload["terms"] = list(self.terms)
        payload["channels"] = list(self.channels)
        payload["v"] = PAYLOAD_VERSION
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Alert:
        """Rebuild an Alert from `to_payload` output; raises ValueError when it is malformed."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in payload.items() if key in known}
        for key in ("alert_id", "decision", "rule_id", "title"):
            if not isinstance(values.get(key), str):
                raise ValueError(f"alert payload: {key!r} missing or not a string")
        values["terms"] = tuple(values.get("terms") or ())
        values["channels"] = tuple(values.get("channels") or ())
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(f"alert payload: {exc}") from None

    @property
    def followup(self) -> bool:
        return self.decision == "follow-up" and self.parent is not None

    @property
    def label(self) -> str:
        """Where the article came from, for lists: its source, else its URL's host, else its id."""
        return self.source or self.url or self.doc_id


def _terms(match: Match) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for hit in match.hits:
        seen.setdefault(hit.term, None)
    return tuple(seen)


def _digest_period(match: Match) -> float | None:
    # `alert.digest` (a timedelta) arrives with the rule language; rules without it post at once.
    period = match.rule.alert.digest
    return period.total_seconds() if isinstance(period, timedelta) and period.total_seconds() > 0 else None


def alert_of(doc: Document, match: Match, decision: AlertDecision, now: float | None = None) -> Alert:
    """The alert for one match of one document and the decision taken on it."""
    rule = match.rule
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
        source=doc.source,
        published=doc.published.timestamp() if doc.published else None,
        snippet=match.snippet,
        terms=_terms(match),
        channels=rule.alert.channels,
        parent=decision.parent,
        digest=_digest_period(match),
        created=time.time() if now is None else now,
    )


def build_alerts(processed: Processed, now: float | None = None) -> list[Alert]:
    """One alert per "new" or "follow-up" decision; suppressed matches raise none."""
    by_rule = {match.rule.id: match for match in processed.matches}
    return [
        alert_of(processed.doc, by_rule[decision.rule], decision, now)
        for decision in processed.decisions
        if decision.decision in ("new", "follow-up") and decision.rule in by_rule
    ]


def enqueue(store: Store, processed: Processed, now: float | None = None) -> list[Alert]:
    """Build the alerts of one pipeline result and append them to the store's outbox."""
    alerts = build_alerts(processed, now)
    if alerts:
        store.outbox_add([alert.to_payload() for alert in alerts])
    return alerts
