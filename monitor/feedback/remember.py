"""Before alerts go to the outbox, keep what a click on them will need: rule, story, channels, article."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from monitor.notify.alerts import build_alerts
from monitor.pipeline import Processed
from monitor.store.base import DEFAULT_SEEN_TTL, Store

Handoff = Callable[[Processed], object]


def remember_alerts(store: Store, processed: Processed, default_channel: str, keep: timedelta) -> int:
    """Keep, for `keep`, the record a click on each of this result's alerts looks up; returns how many."""
    alerts = build_alerts(processed)
    article = processed.doc.to_record()
    for alert in alerts:
        record = {
            "alert_id": alert.alert_id,
            "rule": alert.rule_id,
            "rule_title": alert.rule_title,
            "story": alert.story_id,
            "doc": alert.doc_id,
            "title": alert.title,
            "routes": list(alert.channels or (default_channel,)),
            "article": article,
        }
        store.remember_alert(alert.alert_id, alert.rule_id, record, alert.created, keep)
    return len(alerts)


def remembering(handoff: Handoff, store: Store, default_channel: str, keep: timedelta = DEFAULT_SEEN_TTL) -> Handoff:
    """The hand-off to the outbox, each result's alerts remembered first (so no click finds an alert unknown)."""

    def remember_then_hand_off(processed: Processed) -> object:
        remember_alerts(store, processed, default_channel, keep)
        return handoff(processed)

    return remember_then_hand_off
