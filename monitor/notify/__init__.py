"""Notify: alerts built from pipeline results, a durable outbox, and delivery to a sink.

alerts (payloads) -> outbox (store) -> Notifier (route, digest, group, pace/fold, dedupe, deliver, record)
-> sink (renders and posts: Slack, a JSON webhook, the console)
"""

from __future__ import annotations

from monitor.notify.alerts import Alert, build_alerts, enqueue
from monitor.notify.base import DeliveryError, Posted, Sink
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.sinks import sink_from_env

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
