"""The feedback role of the store: what subscribers said about alerts in Slack, seen by every replica.

Mutes (a story in a channel), snoozes (a rule in a channel, until a time), "not relevant" marks
(an article a rule should not have matched, with who said so), and what a click on an alert needs
to know about it (its rule, story, channels and article), kept for as long as a click is accepted.
Every write is idempotent: Slack may deliver one click twice, to two replicas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import timedelta
from typing import Any, Literal, Protocol, TypeVar

# How long marks, and the per-rule tally of alerts they are compared with, are kept.
MARK_KEEP = timedelta(days=180)

Held = Literal["muted", "snoozed"]


@dataclass(frozen=True, slots=True)
class Mute:
    """A story muted in one channel: its later reports there are counted (`held`), not posted.

    Attributes:
        channel: the channel as alerts are routed to it (`#russia-watch` or `C0123ABCD`).
        by, by_name: the Slack user id and name of who muted it.
        until: when the mute lapses (epoch seconds): the story has ended by then.
        alert_id, title: the alert clicked, for listings.
    """

    story: str
    channel: str
    by: str
    by_name: str
    at: float
    until: float
    alert_id: str = ""
    title: str = ""
    held: int = 0


@dataclass(frozen=True, slots=True)
class Snooze:
    """A rule snoozed in one channel until `until` (epoch seconds); what it raises meanwhile is `held`."""

    rule: str
    channel: str
    by: str
    by_name: str
    at: float
    until: float
    held: int = 0


@dataclass(frozen=True, slots=True)
class Mark:
    """An article marked "not relevant" for a rule, and by whom.

    Attributes:
        article: the Document as the rule saw it (`Document.to_record()`), for rule tests.
        by: who marked it: Slack user id -> name.
        at: when it was first marked (epoch seconds).
    """

    rule: str
    doc_id: str
    alert_id: str
    channel: str
    at: float
    article: dict[str, Any]
    by: dict[str, str] = field(default_factory=dict)


_Record = TypeVar("_Record", Mute, Snooze, Mark)


def dump(record: Mute | Snooze | Mark, *without: str) -> str:
    """A record as JSON, leaving out the fields the store keeps elsewhere (counts, markers)."""
    values = asdict(record)
    for name in without:
        values.pop(name, None)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def load(kind: type[_Record], raw: str | bytes, **extra: Any) -> _Record | None:
    """A record read back from `dump` (None when the stored text is not one: it is skipped, not fatal)."""
    try:
        values = json.loads(raw)
        known = {f.name for f in fields(kind)}
        return kind(**{k: v for k, v in values.items() if k in known}, **extra)
    except (ValueError, TypeError, AttributeError):
        return None


class FeedbackStore(Protocol):
    """Feedback from Slack. Channels are named as alerts are routed to them; times are epoch seconds."""

    def remember_alert(self, alert_id: str, rule: str, record: Mapping[str, Any], at: float, ttl: timedelta) -> None:
        """Keep what a click on this alert needs for `ttl`, and count it as raised by `rule` at `at`.

        Remembering the same alert again (a retried document) counts it once.
        """
        ...

    def remembered_alert(self, alert_id: str) -> dict[str, Any] | None:
        """The record kept for this alert id, or None (unknown, or older than its `ttl`)."""
        ...

    def alerts_raised(self, since: float) -> dict[str, int]:
        """How many alerts each rule raised since `since` (up to MARK_KEEP ago)."""
        ...

    def set_mute(self, mute: Mute) -> bool:
        """Mute a story in a channel until `mute.until`; True if it was not muted there already."""
        ...

    def lift_mute(self, story: str, channel: str) -> bool:
        """Unmute; True if it was muted."""
        ...

    def mutes(self) -> list[Mute]:
        """The mutes in force, with how many reports each held."""
        ...

    def set_snooze(self, snooze: Snooze) -> bool:
        """Snooze a rule in a channel until `snooze.until` (replacing an earlier end); True if it was not snoozed."""
        ...

    def lift_snooze(self, rule: str, channel: str) -> bool:
        """End a snooze now; True if one was in force."""
        ...

    def snoozes(self) -> list[Snooze]:
        """The snoozes in force, soonest end first, with how many alerts each held."""
        ...

    def hold(self, alert_id: str, rule: str, story: str, channel: str) -> Held | None:
        """Whether this alert must not be posted to `channel`: its story is muted or its rule snoozed there.

        A held alert is counted under the mute or snooze that held it (once, however often it is asked).
        """
        ...

    def add_mark(self, mark: Mark, ttl: timedelta = MARK_KEEP) -> bool:
        """Mark an article not relevant for a rule, by the one user in `mark.by`; True if that user's mark is new.

        The first mark of an article keeps its record; later users are added to `by`.
        """
        ...

    def remove_mark(self, rule: str, doc_id: str, user: str) -> bool:
        """Take back one user's mark (the mark goes when nobody is left); True if that user had marked it."""
        ...

    def marks(self, since: float = 0.0) -> list[Mark]:
        """Every mark first made since `since`, oldest first."""
        ...


def pair(first: str, second: str) -> str:
    """Two names in one key or index field (neither holds the separator)."""
    return f"{first}\x1f{second}"


def unpair(text: str) -> Sequence[str]:
    return text.split("\x1f", 1)
