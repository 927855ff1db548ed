"""The notifier: takes alerts from the durable outbox, routes, paces, folds bursts, delivers, acks.

Exactly once at the sink, from at-least-once delivery out of the outbox:

1. before posting, an intent ("posting") is stored under the alert's delivery key (alert id + channel);
2. the message carries the alert id in its metadata;
3. once Slack answered, the receipt (channel, ts) is stored, and only then is the outbox entry acked.

A redelivered alert with a receipt is skipped. One with only an intent (the process died, or the
answer never came, after Slack may have accepted it) is first looked up in the channel's history
by its metadata; it is posted only when it is not there.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from monitor.errors import MonitorError
from monitor.metrics import ALERT_LATENCY, DELIVERIES
from monitor.notify.alerts import Alert
from monitor.notify.blocks import Message, alert_message, digest_messages, followup_message, summary_messages
from monitor.notify.slack import DeliveryError, Posted, Sink, elapsed_ms
from monitor.store.base import OutboxEntry, Store

log = structlog.get_logger("monitor.notify")

# How far back the history is searched for a message whose answer was lost (before the alert was raised).
LOOKUP_MARGIN = 300.0
# How long a follow-up waits for another replica redrawing the same story's first message.
THREAD_LEASE_WAIT = 10.0


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class NotifierSettings:
    """How the notifier delivers.

    Args:
        default_channel: where alerts of rules without `alert.channels` go.
        critical_mention: a user group id (`S0123ABC`) mentioned in critical alerts; None: no mention.
        pace: seconds between two messages to one channel (Slack allows about one a second per channel).
        burst_size: messages one channel may get within `burst_window`; the rest are folded into summaries.
        burst_window: seconds of the burst window.
        fold_interval: seconds between two summaries to one channel while a burst lasts.
        batch: alerts taken from the outbox at a time.
        claim_idle: an alert another consumer held unacknowledged this long is taken over (a dead replica's).
        consumer: this notifier's name in the outbox (unique per replica).
        retry_initial, retry_max: backoff (seconds) after a retryable failure.
        poll_interval: seconds to wait when the outbox is empty.
    """

    default_channel: str = "#alerts"
    critical_mention: str | None = None
    pace: float = 1.0
    burst_size: int = 20
    burst_window: float = 60.0
    fold_interval: float = 10.0
    batch: int = 100
    claim_idle: timedelta = timedelta(seconds=60)
    consumer: str = field(default_factory=_consumer_name)
    retry_initial: float = 0.5
    retry_max: float = 30.0
    poll_interval: float = 1.0


@dataclass(frozen=True, slots=True)
class _Work:
    entry: str
    alert: Alert
    channel: str


@dataclass(slots=True)
class _Outcome:
    done: set[tuple[str, str]] = field(default_factory=set)
    retry: DeliveryError | None = None


def delivery_key(alert_id: str, channel: str) -> str:
    return f"slack:{alert_id}:{channel}"


def _thread_key(parent: str, channel: str) -> str:
    return f"slack-thread:{parent}:{channel}"


class _ChannelPace:
    """One channel's pace: the next time it may get a message, and the posts of the burst window."""

    __slots__ = ("last_fold", "lock", "next_at", "posts")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.posts: deque[float] = deque()
        self.last_fold = float("-inf")


class Notifier:
    """Delivers the outbox to a sink, in order per channel, each channel at its own pace.

    Args:
        store: the store holding the outbox, receipts and dead letters.
        sink: Slack (Web API or webhook) or the console.
        settings: routing, pacing, folding and retry settings.
        clock: monotonic clock (seconds); `sleep` waits and returns early when the notifier stops.
    """

    def __init__(
        self,
        store: Store,
        sink: Sink,
        settings: NotifierSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.sink = sink
        self.settings = settings or NotifierSettings()
        self.clock = clock
        self._stop = threading.Event()
        self._paces: dict[str, _ChannelPace] = {}
        self._paces_lock = threading.Lock()
        self._backoff = 0.0
        self._held = False

    # Life cycle --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to stop after the message in flight (safe from a signal handler or thread)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Deliver until `stop()`: the live loop of the service."""
        log.info("notifier.started", consumer=self.settings.consumer, sink=self.sink.name)
        failures = 0
        while not self._stop.is_set():
            try:
                taken = self.run_once()
                self.flush_digests()
            except Exception as exc:  # a stage boundary: the loop must outlive a store outage or a bug
                failures += 1
                # What was taken stays in the outbox unacknowledged: it is taken again, nothing is lost.
                delay = min(self.settings.retry_max, self.settings.retry_initial * 2 ** min(failures - 1, 10))
                fields = {"consumer": self.settings.consumer, "error": str(exc), "retry_in_s": round(delay, 2)}
                if isinstance(exc, MonitorError):
                    log.error("notifier.failed", **fields)
                else:
                    log.exception("notifier.failed", **fields)
                self._stop.wait(delay)
                continue
            failures = 0
            if taken == 0:
                self._stop.wait(self.settings.poll_interval)
        log.info("notifier.stopped", consumer=self.settings.consumer)

    def drain(self, timeout: float | None = None, digests: bool = False) -> int:
        """Deliver everything pending, then return how many alerts were settled (burst mode, for tests and cron).

        Retryable failures are retried with backoff until the outbox is empty, `timeout` passes or `stop()`.
        With `digests`, every open digest is posted at the end, due or not.
        """
        deadline = None if timeout is None else self.clock() + timeout
        settled = 0
        while not self._stop.is_set():
            before = self.store.outbox_depth()[0]
            taken = self.run_once()
            if taken == 0 and not self._held:
                break
            settled += max(0, before - self.store.outbox_depth()[0])
            if deadline is not None and self.clock() > deadline:
                break
            if self._held and self._backoff == 0:
                self._stop.wait(min(self.settings.pace, 0.05) or 0.01)
        if digests and not self._stop.is_set():
            self.flush_digests(force=True)
        return settled

    # One round ---------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Take one batch, deliver it, ack what is settled; returns how many alerts were taken."""
        if self._backoff:
            self._stop.wait(self._backoff)
        entries = self.store.outbox_take(self.settings.consumer, self.settings.batch, self.settings.claim_idle)
        self._held = False
        if not entries:
            self._backoff = 0.0
            return 0
        works = self._plan(entries)
        by_channel: dict[str, list[_Work]] = {}
        for work in works:
            by_channel.setdefault(work.channel, []).append(work)
        outcome = _Outcome()
        if by_channel:
            # Channels are independent: each has its own pace, so they are delivered side by side.
            with ThreadPoolExecutor(max_workers=min(16, len(by_channel)), thread_name_prefix="notify") as pool:
                results = list(pool.map(lambda item: self._deliver_channel(*item), by_channel.items()))
            for result in results:
                outcome.done |= result.done
                outcome.retry = outcome.retry or result.retry
        pending = {(w.entry, w.channel) for w in works} - outcome.done
        unfinished = {entry for entry, _ in pending}
        self.store.outbox_ack([e.id for e in entries if e.id not in unfinished])
        if outcome.retry is not None:
            self._backoff = min(self.settings.retry_max, max(self.settings.retry_initial, self._backoff * 2))
            log.warning(
                "alerts.retrying",
                error=str(outcome.retry),
                channel=outcome.retry.channel,
                pending=len(unfinished),
                backoff_s=self._backoff,
            )
        else:
            self._backoff = 0.0
            self._held = bool(unfinished)
        return len(entries)

    def _plan(self, entries: Sequence[OutboxEntry]) -> list[_Work]:
        """The deliveries this batch needs; entries settled without one (malformed, digests) need none."""
        works: list[_Work] = []
        for entry in entries:
            try:
                alert = Alert.from_payload(entry.payload)
            except ValueError as exc:
                self.store.dead_add(entry.payload, f"malformed: {exc}")
                log.error("alert.dead", outbox_id=entry.id, reason=f"malformed: {exc}")
                continue
            channels = alert.channels or (self.settings.default_channel,)
            if alert.digest and not alert.followup:
                self._add_to_digest(alert, channels)
                continue
            works += [_Work(entry.id, alert, channel) for channel in channels]
        return works

    # One channel -------------------------------------------------------------------------------

    def _pace(self, channel: str) -> _ChannelPace:
        with self._paces_lock:
            return self._paces.setdefault(channel, _ChannelPace())

    def _deliver_channel(self, channel: str, works: list[_Work]) -> _Outcome:
        outcome = _Outcome()
        pace = self._pace(channel)
        with pace.lock:
            now = self.clock()
            while pace.posts and pace.posts[0] <= now - self.settings.burst_window:
                pace.posts.popleft()
            room = max(0, self.settings.burst_size - len(pace.posts))
            singles, folded = works[:room], works[room:]
            try:
                for work in singles:
                    if self._stop.is_set():
                        return outcome
                    self._deliver(work, pace)
                    outcome.done.add((work.entry, channel))
                if folded and self.clock() - pace.last_fold >= self.settings.fold_interval:
                    self._fold(channel, folded, pace)
                    outcome.done |= {(w.entry, channel) for w in folded}
            except DeliveryError as exc:
                outcome.retry = exc
        return outcome

    def _wait_turn(self, pace: _ChannelPace) -> None:
        delay = pace.next_at - self.clock()
        if delay > 0:
            self._stop.wait(delay)

    def _posted(self, pace: _ChannelPace) -> None:
        now = self.clock()
        pace.next_at = now + self.settings.pace
        pace.posts.append(now)

    def _state(self, key: str) -> dict[str, Any]:
        raw = self.store.receipt(key)
        if not raw:
            return {}
        try:
            state = json.loads(raw)
        except ValueError:
            return {"state": "posted", "ts": raw}
        return state if isinstance(state, dict) else {}

    def _deliver(self, work: _Work, pace: _ChannelPace) -> None:
        """Post one alert to one channel unless it is there already; dead-letter it on a permanent error."""
        alert, channel = work.alert, work.channel
        key = delivery_key(alert.alert_id, channel)
        state = self._state(key)
        fields = {"rule": alert.rule_id, "alert_id": alert.alert_id, "story_id": alert.story_id, "channel": channel}
        if state.get("state") in ("posted", "dead"):
            log.info("alert.skipped", reason=f"already {state['state']}", **fields)
            DELIVERIES.labels("skipped").inc()
            return
        parent = self._parent(alert, channel)
        thread_ts = parent.ts if parent is not None else None
        target = parent.channel if parent is not None else channel
        start = time.monotonic()
        try:
            posted = None
            if state.get("state") == "posting" and self.sink.threads:
                oldest = alert.created - LOOKUP_MARGIN
                posted = self.sink.find(state.get("channel") or target, [alert.alert_id], thread_ts, oldest).get(
                    alert.alert_id
                )
                if posted is not None:
                    log.info("alert.found", ts=posted.ts, **fields)
                    DELIVERIES.labels("found").inc()
            if posted is None:
                message = self._message(alert)
                self.store.save_receipt(key, json.dumps({"state": "posting", "channel": target, "at": time.time()}))
                self._wait_turn(pace)
                posted = self.sink.post(target, message, thread_ts)
                self._posted(pace)
                DELIVERIES.labels("replied" if thread_ts else "posted").inc()
                if alert.created:
                    ALERT_LATENCY.observe(max(0.0, time.time() - alert.created))
                log.info(
                    "alert.posted",
                    ts=posted.ts,
                    thread_ts=thread_ts,
                    duration_ms=elapsed_ms(start),
                    latency_ms=int((time.time() - alert.created) * 1000) if alert.created else None,
                    **fields,
                )
            if parent is not None:
                self._update_parent(alert, channel, parent)
        except DeliveryError as exc:
            if exc.retryable:
                DELIVERIES.labels("retried").inc()
                raise
            self._dead(alert, channel, key, exc.reason)
            DELIVERIES.labels("dead").inc()
            return
        receipt: dict[str, Any] = {"state": "posted", "channel": posted.channel, "ts": posted.ts}
        if not alert.followup:
            receipt["payload"] = alert.to_payload()  # kept to redraw the message when its follow-up count changes
        self.store.save_receipt(key, json.dumps(receipt))

    def _dead(self, alert: Alert, channel: str, key: str, reason: str) -> None:
        payload = {**alert.to_payload(), "channels": [channel]}
        dead_id = self.store.dead_add(payload, reason)
        self.store.save_receipt(key, json.dumps({"state": "dead", "reason": reason}))
        log.error(
            "alert.dead",
            rule=alert.rule_id,
            alert_id=alert.alert_id,
            story_id=alert.story_id,
            channel=channel,
            reason=reason,
            dead_id=dead_id,
        )

    def _message(self, alert: Alert) -> Message:
        if alert.followup:
            return followup_message(alert)
        mention = self.settings.critical_mention if alert.severity == "critical" else None
        return alert_message(alert, mention=mention)

    def _parent(self, alert: Alert, channel: str) -> Posted | None:
        """Where a follow-up replies: its story's first message in this channel, when there is one."""
        if not alert.followup or not self.sink.threads or alert.parent is None:
            return None
        state = self._state(delivery_key(alert.parent, channel))
        if state.get("state") != "posted" or not state.get("ts"):
            return None
        return Posted(str(state.get("channel") or channel), str(state["ts"]))

    def _update_parent(self, alert: Alert, channel: str, parent: Posted) -> None:
        """Redraw the story's first message with its "also reported by N sources" count.

        The thread's follow-up list is read, extended and saved under a lease, so that replicas
        adding follow-ups to one story at once do not lose each other's.
        """
        assert alert.parent is not None
        lease = f"thread:{alert.parent}:{channel}"
        deadline = time.monotonic() + THREAD_LEASE_WAIT
        while not self.store.acquire_lease(lease, self.settings.consumer, timedelta(seconds=30)):
            if time.monotonic() > deadline or self._stop.is_set():
                log.warning("alert.update_skipped", alert_id=alert.parent, channel=channel, reason="thread busy")
                return
            self._stop.wait(0.05)
        try:
            self._redraw_parent(alert, channel, parent)
        finally:
            self.store.release_lease(lease, self.settings.consumer)

    def _redraw_parent(self, alert: Alert, channel: str, parent: Posted) -> None:
        assert alert.parent is not None
        parent_state = self._state(delivery_key(alert.parent, channel))
        payload = parent_state.get("payload")
        if not isinstance(payload, dict) or parent_state.get("folded"):
            return
        thread_key = _thread_key(alert.parent, channel)
        thread = self._state(thread_key) or {"followups": {}}
        followups: dict[str, str] = thread.setdefault("followups", {})
        if alert.alert_id in followups:
            return
        followups[alert.alert_id] = alert.label
        self.store.save_receipt(thread_key, json.dumps(thread))
        parent_alert = Alert.from_payload(payload)
        sources = {source for source in followups.values() if source != parent_alert.label}
        mention = self.settings.critical_mention if parent_alert.severity == "critical" else None
        try:
            self.sink.update(parent, alert_message(parent_alert, len(sources), mention))
        except DeliveryError as exc:
            if exc.retryable:
                raise
            log.warning("alert.update_failed", alert_id=alert.parent, channel=channel, reason=exc.reason)
            return
        log.info("alert.updated", alert_id=alert.parent, channel=channel, sources=len(sources))

    # Bursts ------------------------------------------------------------------------------------

    def _fold(self, channel: str, works: list[_Work], pace: _ChannelPace) -> None:
        """Post one summary listing every alert of the rest of the burst (more when Slack's limits need)."""
        keys = {w.alert.alert_id: delivery_key(w.alert.alert_id, channel) for w in works}
        states = {alert_id: self._state(key) for alert_id, key in keys.items()}
        todo = [w for w in works if states[w.alert.alert_id].get("state") not in ("posted", "dead")]
        uncertain = [w.alert.alert_id for w in todo if states[w.alert.alert_id].get("state") == "posting"]
        if uncertain and self.sink.threads:
            oldest = min(w.alert.created for w in todo) - LOOKUP_MARGIN
            for alert_id, posted in self.sink.find(channel, uncertain, None, oldest).items():
                self.store.save_receipt(keys[alert_id], json.dumps(self._folded_receipt(posted)))
                todo = [w for w in todo if w.alert.alert_id != alert_id]
        if not todo:
            return
        for message in summary_messages([w.alert for w in todo]):
            intent = json.dumps({"state": "posting", "channel": channel, "at": time.time()})
            for alert_id in message.keys:
                self.store.save_receipt(keys[alert_id], intent)
            self._wait_turn(pace)
            try:
                posted = self.sink.post(channel, message)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                for work in todo:
                    if work.alert.alert_id in message.keys:
                        self._dead(work.alert, channel, keys[work.alert.alert_id], exc.reason)
                continue
            self._posted(pace)
            pace.last_fold = self.clock()
            for alert_id in message.keys:
                self.store.save_receipt(keys[alert_id], json.dumps(self._folded_receipt(posted)))
            log.info("alerts.folded", channel=channel, count=len(message.keys), ts=posted.ts)

    @staticmethod
    def _folded_receipt(posted: Posted) -> dict[str, Any]:
        return {"state": "posted", "channel": posted.channel, "ts": posted.ts, "folded": True}

    # Digests -----------------------------------------------------------------------------------

    @staticmethod
    def _bucket(alert: Alert, channel: str) -> str:
        """`rule|channel|start|period`: periods are aligned to the clock, so every replica names the same bucket."""
        period = int(alert.digest or 3600)
        start = int(alert.created // period * period)
        return f"{alert.rule_id}|{channel}|{start}|{period}"

    def _add_to_digest(self, alert: Alert, channels: Sequence[str]) -> None:
        """Keep a digest rule's alert for its period's message (in the store: it survives restarts)."""
        for channel in channels:
            self.store.digest_add(self._bucket(alert, channel), alert.alert_id, alert.to_payload())
        log.info("alert.digested", rule=alert.rule_id, alert_id=alert.alert_id, story_id=alert.story_id)

    def flush_digests(self, force: bool = False) -> int:
        """Post the digests whose period is over (all of them with `force`); returns how many were posted.

        One replica at a time flushes a bucket (a lease); like an alert, a digest records its intent
        before posting, so that after a crash it is looked up in the channel instead of posted twice.
        """
        posted = 0
        for bucket in self.store.digest_buckets():
            _rule, channel, start, period = bucket.rsplit("|", 3)
            if not force and time.time() < int(start) + int(period):
                continue
            if not self.store.acquire_lease(f"digest:{bucket}", self.settings.consumer, timedelta(minutes=5)):
                continue
            try:
                if self._flush_bucket(bucket, channel, float(period)):
                    posted += 1
            finally:
                self.store.release_lease(f"digest:{bucket}", self.settings.consumer)
        return posted

    def _flush_bucket(self, bucket: str, channel: str, period: float) -> bool:
        items = self.store.digest_items(bucket)
        alerts = sorted((Alert.from_payload(p) for p in items.values()), key=lambda a: a.created)
        if not alerts:
            return False
        for message in digest_messages(alerts, period):
            key = f"digest:{bucket}:{','.join(message.keys)}"
            state = self._state(key)
            if state.get("state") == "posted":
                continue
            if state.get("state") == "posting" and self.sink.threads:
                found = self.sink.find(channel, list(message.keys), None, alerts[0].created - LOOKUP_MARGIN)
                if found:
                    self.store.save_receipt(key, json.dumps({"state": "posted"}))
                    continue
            self.store.save_receipt(key, json.dumps({"state": "posting", "at": time.time()}))
            self._wait_turn(self._pace(channel))
            try:
                self.sink.post(channel, message)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                for alert in alerts:
                    if alert.alert_id in message.keys:
                        self._dead(alert, channel, delivery_key(alert.alert_id, channel), exc.reason)
            else:
                self._posted(self._pace(channel))
            self.store.save_receipt(key, json.dumps({"state": "posted"}))
        self.store.digest_remove(bucket, list(items))
        log.info("digest.posted", rule=alerts[0].rule_id, channel=channel, count=len(alerts))
        return True
