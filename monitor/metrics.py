"""Prometheus metrics and the health endpoints, served on `metrics.listen`.

Counters and histograms are updated by the stages as work happens; outbox depth and
feed backoff state are read from the store when Prometheus scrapes.
"""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.store.base import Store, StoreError

REGISTRY = CollectorRegistry(auto_describe=True)
# The client library's own: process CPU, memory, open files and start time; the Python version; garbage collection.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

BUILD = Info(
    "monitor_build", "The running version of monitor and of Python (the value is always 1).", registry=REGISTRY
)
BUILD.info({"version": __version__, "python": platform.python_version()})

POLLS = Counter(
    "monitor_polls_total", "Feed polls by outcome (ok, not_modified, error).", ["outcome"], registry=REGISTRY
)
FETCH_SECONDS = Histogram(
    "monitor_fetch_seconds", "Time to fetch a feed or a page.", ["kind"], registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
HOST_WAIT_SECONDS = Histogram(
    "monitor_host_wait_seconds", "Time a request waited for one of its host's connection slots (http.per_host).",
    registry=REGISTRY, buckets=(0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
EXTRACT_SECONDS = Histogram(
    "monitor_extract_seconds", "Time to extract an article from its page.", registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 20),
)  # fmt: skip
DOCUMENTS = Counter(
    "monitor_documents_total", "Documents processed, by whether they were new.", ["kind"], registry=REGISTRY
)
MATCHES = Counter("monitor_matches_total", "Rule matches, by rule.", ["rule"], registry=REGISTRY)
ALERTS = Counter(
    "monitor_alerts_total", "Alert decisions (new, follow-up, suppressed).", ["decision"], registry=REGISTRY
)
DELIVERIES = Counter(
    "monitor_deliveries_total",
    "Alerts settled by the notifier, by outcome (posted, replied, found, skipped, dead, retried).",
    ["outcome"],
    registry=REGISTRY,
)
ALERT_LATENCY = Histogram(
    "monitor_alert_latency_seconds", "From the alert's creation (the match) to Slack accepting it.", registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
)  # fmt: skip
STORY_MODEL = Gauge(
    "monitor_story_model_loaded",
    "1 when the event layer's embedding model is loaded, 0 when stories join copies only (it failed to load).",
    registry=REGISTRY,
)
ENTRIES_RETAKEN = Counter(
    "monitor_entries_retaken_total",
    "Feed entries taken up again after their processing lease ran out (their process died or stalled), "
    "by outcome (retried, abandoned after too many takeovers).",
    ["outcome"],
    registry=REGISTRY,
)
RELOADS = Counter("monitor_reloads_total", "Rule and feed reloads by outcome.", ["what", "outcome"], registry=REGISTRY)
# Feedback from Slack (monitor/feedback/).
FEEDBACK_MARKS = Counter(
    "monitor_feedback_marks_total", "Alerts marked not relevant in Slack, by rule.", ["rule"], registry=REGISTRY
)
FEEDBACK_ACTIONS = Counter(
    "monitor_feedback_actions_total",
    "Clicks on alert buttons, by action and outcome (applied, repeated, rejected).",
    ["action", "outcome"],
    registry=REGISTRY,
)
ALERTS_HELD = Counter(
    "monitor_alerts_held_total",
    "Alerts not posted to a channel because their story is muted or their rule snoozed there.",
    ["reason"],
    registry=REGISTRY,
)


class StoreCollector(Collector):
    """Outbox depth and age, dead letters, feed health (per feed, and how many feeds are backing off),
    read from the store at scrape time.

    Args:
        feeds: the URLs of the feeds in force (called at each scrape); a feed removed from the feeds
            file keeps its state in the store, but its series are no longer exported. None: every feed.
    """

    def __init__(self, store: Store, feeds: Callable[[], Collection[str]] | None = None) -> None:
        self.store = store
        self.feeds = feeds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("monitor_outbox_depth", "Alerts waiting in the outbox.")
        age = GaugeMetricFamily("monitor_outbox_oldest_seconds", "Age of the oldest alert in the outbox.")
        dead = GaugeMetricFamily("monitor_dead_letters", "Alerts that could not be delivered.")
        failures = GaugeMetricFamily("monitor_feed_failures", "Consecutive failures of a feed.", labels=["feed"])
        backoff = GaugeMetricFamily(
            "monitor_feed_next_poll_seconds", "Seconds until a feed's next poll (backoff included).", labels=["feed"]
        )
        feeds = GaugeMetricFamily("monitor_feeds", "Feeds in force (with --feeds unknown: every feed with a state).")
        backing_off = GaugeMetricFamily(
            "monitor_feeds_in_backoff", "Feeds whose last poll failed: polled again only after their backoff."
        )
        stale = GaugeMetricFamily("monitor_feeds_stale", "Feeds that published nothing for much longer than usual.")
        try:
            count, oldest = self.store.outbox_depth()
            depth.add_metric([], count)
            age.add_metric([], oldest or 0.0)
            dead.add_metric([], self.store.dead_count())
            now = time.time()
            wanted = self.feeds() if self.feeds is not None else None
            states = {url: s for url, s in self.store.all_feed_states().items() if wanted is None or url in wanted}
            for state in states.values():
                name = str(state.get("name") or "")
                failures.add_metric([name], float(state.get("failures") or 0))
                next_poll = state.get("next_poll")
                if isinstance(next_poll, int | float):
                    backoff.add_metric([name], max(0.0, next_poll - now))
            feeds.add_metric([], len(wanted) if wanted is not None else len(states))
            backing_off.add_metric([], sum(1 for state in states.values() if (state.get("failures") or 0) > 0))
            stale.add_metric([], sum(1 for state in states.values() if state.get("stale")))
        except StoreError:
            return  # the store is down: /readyz says so; no stale numbers
        yield from (depth, age, dead, failures, backoff, feeds, backing_off, stale)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""


def health_app(ready: Callable[[], tuple[bool, str]]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app: /metrics, /healthz (the process answers) and /readyz (`ready()` says yes)."""
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/readyz":
            ok, reason = ready()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [f"{reason}\n".encode()]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return app


class HealthServer:
    """Serves `health_app` on HOST:PORT from a daemon thread."""

    def __init__(self, host: str, port: int, ready: Callable[[], tuple[bool, str]]) -> None:
        self.server: WSGIServer = make_server(host, port, health_app(ready), handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
