"""Notify: alerts built from pipeline results, a durable outbox, and delivery to Slack or the console.

alerts (payloads) -> outbox (store) -> Notifier (routing, pacing, folding, digests) -> sink (Slack, console)
"""

from __future__ import annotations

from monitor.notify.alerts import Alert, build_alerts, enqueue
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.slack import DeliveryError, Posted, Sink, sink_from_env

__all__ = [
    "Alert",
    "DeliveryError",
    "Notifier",
    "NotifierSettings",
    "Posted",
    "Sink",
    "build_alerts",
    "enqueue",
    "sink_from_env",
]
