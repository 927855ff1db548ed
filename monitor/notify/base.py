"""The seam between the notifier and the sinks: what a sink is asked to say, and what a sink is.

The notifier decides what to say and when (routing, digests, folding, pacing, the intent/receipt
protocol); a sink renders each notice into its own messages (Slack Block Kit, console text, a JSON
document) and delivers them. No sink reads another's markup: each renders from the alerts.

A new sink is one module with a class that has the `Sink` members and a `from_env(env, timeout)`
that returns one when the environment configures it, plus one line in `monitor.notify.sinks.SINKS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, assert_never

from monitor.errors import ConfigError, MonitorError
from monitor.notify.alerts import Alert, severity_rank
from monitor.redact import add_secret, redact


@dataclass(frozen=True, slots=True)
class StoryCount:
    """How widely a story has been reported so far: its reports (articles), their outlets and languages."""

    reports: int
    outlets: int
    languages: int

    def __str__(self) -> str:
        """ "5 reports from 4 outlets, 2 languages" (the languages left out while they are not known)."""

        def count(n: int, noun: str) -> str:
            return f"{n} {noun}{'' if n == 1 else 's'}"

        text = f"{count(self.reports, 'report')} from {count(self.outlets, 'outlet')}"
        return text + (f", {count(self.languages, 'language')}" if self.languages else "")


@dataclass(frozen=True, slots=True)
class ArticleNotice:
    """One article for one channel: every rule it matched there, the highest severity first.

    Attributes:
        alerts: the article's alerts bound for the channel (one per rule), highest severity first.
        reply: posted as a reply in the story's thread (its first alert's message).
        story: how widely the story has been reported, for its first message redrawn as it grows.
        mention: a user group id (`S0123...`) to mention: some alert is critical.
    """

    alerts: tuple[Alert, ...]
    reply: bool = False
    story: StoryCount | None = None
    mention: str | None = None

    @property
    def lead(self) -> Alert:
        """The alert the message leads with: the highest severity."""
        return self.alerts[0]

    @property
    def followup(self) -> bool:
        """Every rule saw this story before: the article is a follow-up of it."""
        return all(alert.followup for alert in self.alerts)


@dataclass(frozen=True, slots=True)
class BurstNotice:
    """The rest of a burst to one channel, folded: every article listed, none left out."""

    articles: tuple[tuple[Alert, ...], ...]


@dataclass(frozen=True, slots=True)
class DigestNotice:
    """A rule's digest: the alerts of one period, oldest first."""

    alerts: tuple[Alert, ...]
    period: float


Notice = ArticleNotice | BurstNotice | DigestNotice


def article_notice(alerts: Sequence[Alert], **fields: Any) -> ArticleNotice:
    """The notice of one article's alerts, sorted highest severity first (ties keep their order)."""
    ordered = sorted(alerts, key=lambda alert: -severity_rank(alert.severity))
    return ArticleNotice(tuple(ordered), **fields)


def notice_alerts(notice: Notice) -> tuple[Alert, ...]:
    """Every alert a notice carries, in the order it lists them."""
    match notice:
        case ArticleNotice(alerts=alerts) | DigestNotice(alerts=alerts):
            return alerts
        case BurstNotice(articles=articles):
            return tuple(alert for article in articles for alert in article)
        case _:
            assert_never(notice)


def notice_record(notice: Notice) -> dict[str, Any]:
    """A notice as plain JSON-able data (no markup): what the JSON sinks send."""

    def article(alerts: Sequence[Alert]) -> dict[str, Any]:
        lead = alerts[0]
        return {
            "doc_id": lead.doc_id,
            "title": lead.title,
            "url": lead.url,
            "source": lead.source,
            "feed": lead.feed,
            "published": lead.published,
            "snippet": lead.snippet,
            "highlights": [list(span) for span in lead.highlights],
            "story_id": lead.story_id,
            "language": lead.language,
            "development": lead.development,
            "rules": [
                {
                    "rule": alert.rule_id,
                    "title": alert.rule_title,
                    "severity": alert.severity,
                    "decision": alert.decision,
                    "alert_id": alert.alert_id,
                    "parent": alert.parent,
                    "matched": list(alert.matched),
                }
                for alert in alerts
            ],
        }

    match notice:
        case ArticleNotice():
            kind = "follow-up" if notice.followup else "alert"
            record = {"kind": kind, **article(notice.alerts)}
            if notice.story is not None:
                story = notice.story
                record["story"] = {"reports": story.reports, "outlets": story.outlets, "languages": story.languages}
            if notice.mention:
                record["mention"] = notice.mention
            return record
        case BurstNotice(articles=articles):
            return {"kind": "summary", "articles": [article(alerts) for alerts in articles]}
        case DigestNotice(alerts=alerts, period=period):
            return {"kind": "digest", "period": period, "articles": [article([alert]) for alert in alerts]}
        case _:
            assert_never(notice)


class DeliveryError(MonitorError):
    """A sink did not take a message. `retryable` says whether trying again later can help.

    Args:
        method: what was called (`chat.postMessage`, `webhook`, `POST`).
        channel: where the message was going.
        reason: the service's error code (`channel_not_found`) or what went wrong (`HTTP 503`, `TimeoutError`).
        retryable: False for errors that no retry can fix (the alert is dead-lettered).
        sink: the sink's name, first in the message.
    """

    def __init__(self, method: str, channel: str, reason: str, retryable: bool, sink: str = "slack") -> None:
        self.method = method
        self.channel = channel
        self.reason = redact(reason)
        self.retryable = retryable
        super().__init__(f"{sink} {method} to {channel}: {self.reason}")


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message landed: the channel id and the message ts (None where the sink has none)."""

    channel: str
    ts: str | None


class Keyed(Protocol):
    """A rendered message: it carries these alert ids (for receipts and look-ups)."""

    @property
    def keys(self) -> tuple[str, ...]: ...


MessageT = TypeVar("MessageT", bound=Keyed)


class Sink(Protocol[MessageT]):
    """Where notices go. `threads`: it can reply in threads, update and find messages."""

    name: str
    threads: bool

    def render(self, notice: Notice) -> list[MessageT]:
        """The messages that say this notice, within the sink's limits; together they carry every alert id."""
        ...

    def post(self, channel: str, message: MessageT, thread_ts: str | None = None) -> Posted:
        """Post a message; raises DeliveryError."""
        ...

    def update(self, posted: Posted, message: MessageT) -> None:
        """Replace a posted message's content; raises DeliveryError."""
        ...

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        """The messages already posted for these alert ids, by alert id (empty where it cannot look)."""
        ...


def secret_from_env(env: Mapping[str, str], name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (a mounted secret); masked in logs from then on."""
    if env.get(name):
        secret: str | None = env[name].strip()
    elif path := env.get(f"{name}_FILE"):
        secret = _read_secret(name, path)
    else:
        return None
    if secret:
        add_secret(secret)  # masked in every log line and error from here on, whatever its shape
    return secret or None


def _read_secret(name: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}_FILE: {path} is not UTF-8 text") from None


def elapsed_ms(start: float) -> int:
    """Milliseconds since `start` (a time.monotonic() value), for duration_ms fields."""
    return int((time.monotonic() - start) * 1000)
