"""The hold stage of notification: an alert bound for a channel where subscribers muted its story or
snoozed its rule is counted there, not posted."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from monitor.metrics import ALERTS_HELD
from monitor.notify.alerts import Alert
from monitor.notify.base import secret_from_env
from monitor.store.base import Store
from monitor.store.feedback import Held

log = structlog.get_logger("monitor.feedback")


class HoldStage:
    """Asks the store, for each alert and channel, whether a mute or a snooze holds it.

    Args:
        store: where the mutes and snoozes live (every replica sees the same).
    """

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, alert: Alert, channel: str) -> Held | None:
        reason = self.store.hold(alert.alert_id, alert.rule_id, alert.story_id, channel)
        if reason is not None:
            ALERTS_HELD.labels(reason).inc()
            log.info(
                "alert.held",
                reason=reason,
                rule=alert.rule_id,
                alert_id=alert.alert_id,
                story_id=alert.story_id,
                channel=channel,
            )
        return reason


def hold_from_env(env: Mapping[str, str], store: Store) -> HoldStage | None:
    """The hold stage when subscribers can answer alerts (SLACK_APP_TOKEN); None otherwise: nothing is held."""
    return HoldStage(store) if secret_from_env(env, "SLACK_APP_TOKEN") is not None else None
