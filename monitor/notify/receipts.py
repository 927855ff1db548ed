"""The notifier's one record of what it did: a typed receipt per alert and channel, read and written here only.

The protocol that makes delivery exactly once at the sink, out of an at-least-once outbox:

1. before posting, an intent (`posting`) is stored under each alert's delivery key (alert id + channel);
2. the message carries the alert ids (in its metadata, where the sink has any);
3. once the sink answered, the receipt (`posted`: channel, ts) is stored, and only then is the entry acked.

A redelivered alert with a `posted` (or `dead`) receipt is skipped; one with only an intent is looked up
in the channel first, where the sink can look, and posted only when it is not there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from monitor.notify.base import Posted
from monitor.store.base import Store

State = Literal["posting", "posted", "dead", "retry"]
STATES: tuple[State, ...] = ("posting", "posted", "dead", "retry")


def delivery_key(alert_id: str, channel: str) -> str:
    """The receipt of one alert in one channel."""
    return f"slack:{alert_id}:{channel}"


def thread_key(parent: Posted) -> str:
    """The follow-ups of one posted message: the outlets that reported its story again."""
    return f"slack-thread:{parent.channel}:{parent.ts}"


@dataclass(frozen=True, slots=True)
class Followup:
    """One report replied under a story's first message: the article, its outlet and language."""

    doc: str
    outlet: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What is known of one delivery.

    Attributes:
        state: None (never tried), `posting` (intent stored: it may have reached the sink), `posted`,
            `dead` (refused for good), `retry` (a dead letter sent again: deliver it as new).
        channel, ts: where the message landed (`posted`), or where it was going (`posting`).
        at: when the intent was stored (epoch seconds).
        reason: why it is dead.
        folded: posted as a line of a burst summary, not as a message of its own.
        message: the payloads of every alert of a top-level message, to redraw it when its story grows.
    """

    state: State | None = None
    channel: str | None = None
    ts: str | None = None
    at: float | None = None
    reason: str | None = None
    folded: bool = False
    message: tuple[dict[str, Any], ...] = field(default=())

    @property
    def settled(self) -> bool:
        return self.state in ("posted", "dead")

    @property
    def posted(self) -> Posted | None:
        """Where the message is, when it was posted and the sink gave it an address."""
        if self.state != "posted" or not self.ts:
            return None
        return Posted(self.channel or "", self.ts)

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, False, ())}
        if self.message:
            data["message"] = list(self.message)
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | None) -> Receipt:
        """A stored receipt; a bare ts (the oldest format) is `posted`; anything unreadable is no receipt."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            return cls("posted", ts=raw)
        if not isinstance(data, dict) or data.get("state") not in STATES:
            return cls()
        message = data.get("message")
        if message is None and isinstance(data.get("payload"), dict):
            message = [data["payload"]]  # receipts written before messages listed several rules
        return cls(
            state=data["state"],
            channel=data.get("channel") if isinstance(data.get("channel"), str) else None,
            ts=str(data["ts"]) if data.get("ts") is not None else None,
            at=data.get("at") if isinstance(data.get("at"), int | float) else None,
            reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
            folded=bool(data.get("folded")),
            message=tuple(p for p in message or () if isinstance(p, dict)),
        )


class Receipts:
    """Receipts and thread follow-ups in the store: the only code that writes them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> Receipt:
        return Receipt.from_json(self.store.receipt(key))

    def save(self, keys: Iterable[str], receipt: Receipt) -> None:
        raw = receipt.to_json()
        for key in keys:
            self.store.save_receipt(key, raw)

    def followups(self, parent: Posted) -> dict[str, Followup]:
        """The follow-ups replied under a message, by alert id."""
        try:
            data = json.loads(self.store.receipt(thread_key(parent)) or "{}")
        except ValueError:
            return {}
        found = data.get("followups") if isinstance(data, dict) else None
        if not isinstance(found, dict):
            return {}
        followups = {}
        for alert_id, value in found.items():
            if isinstance(value, dict):
                language = value.get("language")
                followups[str(alert_id)] = Followup(
                    str(value.get("doc", alert_id)),
                    str(value.get("outlet", "")),
                    language if isinstance(language, str) else None,
                )
            else:  # written before follow-ups kept their article and language: the outlet alone
                followups[str(alert_id)] = Followup(str(alert_id), str(value))
        return followups

    def save_followups(self, parent: Posted, followups: dict[str, Followup]) -> None:
        data = {alert_id: asdict(followup) for alert_id, followup in followups.items()}
        self.store.save_receipt(thread_key(parent), json.dumps({"followups": data}))
