"""The notifier: takes alerts from the durable outbox and delivers them, exactly once at the sink.

A chain of small stages over each batch, as Alertmanager's notify pipeline:
route (each alert to its channels) -> digest (rules that ask for one keep their alerts for it) ->
group (one message per article and channel, every rule it matched) -> pace and fold (about one
message a second per channel; the rest of a burst becomes a summary) -> dedupe (the intent/receipt
protocol of monitor/notify/receipts.py) -> deliver and retry (the sink renders and posts) -> record.

The sink renders every message itself (monitor/notify/base.py): the notifier only says what to say.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from monitor.errors import MonitorError
from monitor.metrics import ALERT_LATENCY, DELIVERIES
from monitor.notify.alerts import Alert, payload_alerts
from monitor.notify.base import (
    BurstNotice,
    DeliveryError,
    DigestNotice,
    Keyed,
    Posted,
    Sink,
    StoryCount,
    article_notice,
    elapsed_ms,
)
from monitor.notify.receipts import Followup, Receipt, Receipts, delivery_key
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


class _ChannelPace:
    """One channel's pace: the next time it may get a message, and the posts of the burst window."""

    __slots__ = ("last_fold", "lock", "next_at", "posts")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.posts: deque[float] = deque()
        self.last_fold = float("-inf")


def _articles(works: Sequence[_Work]) -> list[list[_Work]]:
    """The works grouped by article (an outbox entry holds one article's alerts), in order."""
    grouped: dict[str, list[_Work]] = {}
    for work in works:
        grouped.setdefault(work.entry, []).append(work)
    return list(grouped.values())


def _payloads(alerts: Sequence[Alert]) -> tuple[dict[str, Any], ...]:
    return tuple(alert.to_payload() for alert in alerts)


class Notifier:
    """Delivers the outbox to a sink, in order per channel, each channel at its own pace.

    Args:
        store: the store holding the outbox, receipts and dead letters.
        sink: where messages go (Slack, a JSON webhook, the console); it renders them.
        settings: routing, pacing, folding and retry settings.
        clock: monotonic clock (seconds); `sleep` waits and returns early when the notifier stops.
        hold: the hold stage of routing (monitor.feedback.hold): an alert it names a reason for is not
            delivered to that channel, and is settled there.
    """

    def __init__(
        self,
        store: Store,
        sink: Sink[Any],
        settings: NotifierSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        hold: Callable[[Alert, str], str | None] | None = None,
    ) -> None:
        self.store = store
        self.sink = sink
        self.settings = settings or NotifierSettings()
        self.clock = clock
        self.hold = hold
        self.receipts = Receipts(store)
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
        """Take one batch, deliver it, ack what is settled; returns how many entries were taken."""
        if self._backoff:
            self._stop.wait(self._backoff)
        entries = self.store.outbox_take(self.settings.consumer, self.settings.batch, self.settings.claim_idle)
        self._held = False
        if not entries:
            self._backoff = 0.0
            return 0
        works = self._route(entries)
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

    def _route(self, entries: Sequence[OutboxEntry]) -> list[_Work]:
        """Route: each alert of each entry to its channels; digest alerts (and malformed entries) need no delivery."""
        works: list[_Work] = []
        for entry in entries:
            try:
                alerts = payload_alerts(entry.payload)
            except ValueError as exc:
                self.store.dead_add(entry.payload, f"malformed: {exc}")
                log.error("alert.dead", outbox_id=entry.id, reason=f"malformed: {exc}")
                continue
            for alert in alerts:
                channels = alert.channels or (self.settings.default_channel,)
                if self.hold is not None:  # feedback from Slack: muted stories, snoozed rules (counted there)
                    channels = tuple(channel for channel in channels if not self.hold(alert, channel))
                    if not channels:
                        continue
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
        """Pace and fold: the burst's first articles one message each, the rest in a summary."""
        outcome = _Outcome()
        pace = self._pace(channel)
        with pace.lock:
            now = self.clock()
            while pace.posts and pace.posts[0] <= now - self.settings.burst_window:
                pace.posts.popleft()
            room = max(0, self.settings.burst_size - len(pace.posts))
            articles = _articles(works)
            singles, folded = articles[:room], articles[room:]
            try:
                for article in singles:
                    if self._stop.is_set():
                        return outcome
                    self._deliver(channel, [w.alert for w in article], pace)
                    outcome.done |= {(w.entry, channel) for w in article}
                if folded and self.clock() - pace.last_fold >= self.settings.fold_interval:
                    self._fold(channel, [[w.alert for w in article] for article in folded], pace)
                    outcome.done |= {(w.entry, channel) for article in folded for w in article}
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

    def _mention(self, alerts: Sequence[Alert]) -> str | None:
        return self.settings.critical_mention if any(a.severity == "critical" for a in alerts) else None

    def _record(self, channel: str, alerts: Sequence[Alert], receipt: Receipt) -> None:
        self.receipts.save([delivery_key(alert.alert_id, channel) for alert in alerts], receipt)

    def _deliver(self, channel: str, alerts: Sequence[Alert], pace: _ChannelPace) -> None:
        """One article in one channel: its unsettled alerts in one message per thread (top level for
        new alerts, the story's thread for follow-ups), then the thread's first message redrawn."""
        threads: dict[Posted | None, list[tuple[Alert, Receipt]]] = {}
        parents: dict[Posted, Receipt] = {}
        for alert in alerts:
            receipt = self.receipts.get(delivery_key(alert.alert_id, channel))
            if receipt.settled:
                log.info("alert.skipped", reason=f"already {receipt.state}", **_fields(alert, channel))
                DELIVERIES.labels("skipped").inc()
                continue
            parent = self._parent(alert, channel)
            if parent is not None:
                parents[parent[0]] = parent[1]
            threads.setdefault(parent[0] if parent else None, []).append((alert, receipt))
        for target, items in threads.items():
            self._post_article(channel, target, items, pace)
            if target is not None:
                self._update_parent(channel, target, parents[target], [alert for alert, _ in items])

    def _post_article(
        self, channel: str, target: Posted | None, items: Sequence[tuple[Alert, Receipt]], pace: _ChannelPace
    ) -> None:
        """Dedupe, deliver, record: look up what may have been posted, post the rest, keep the receipts."""
        thread_ts = target.ts if target is not None else None
        where = target.channel if target is not None else channel
        alerts = [alert for alert, _ in items]
        unsent = list(alerts)
        start = time.monotonic()
        try:
            uncertain = [(alert, receipt) for alert, receipt in items if receipt.state == "posting"]
            if uncertain and self.sink.threads:
                oldest = min(alert.created for alert, _ in uncertain) - LOOKUP_MARGIN
                lookup_in = uncertain[0][1].channel or where
                found = self.sink.find(lookup_in, [a.alert_id for a, _ in uncertain], thread_ts, oldest)
                for alert in [a for a in unsent if a.alert_id in found]:
                    posted = found[alert.alert_id]
                    log.info("alert.found", ts=posted.ts, **_fields(alert, channel))
                    DELIVERIES.labels("found").inc()
                    message = () if thread_ts else _payloads([alert])
                    self._record(channel, [alert], Receipt("posted", posted.channel, posted.ts, message=message))
                    unsent.remove(alert)
            if not unsent:
                return
            notice = article_notice(unsent, reply=thread_ts is not None, mention=self._mention(unsent))
            for message in self.sink.render(notice):
                sent = [alert for alert in unsent if alert.alert_id in message.keys]
                self._record(channel, sent, Receipt("posting", channel=where, at=time.time()))
                self._wait_turn(pace)
                posted = self.sink.post(where, message, thread_ts)
                self._posted(pace)
                # A top-level message keeps its alerts: it is redrawn when its story is reported again.
                message_payloads = () if thread_ts else _payloads(sent)
                self._record(channel, sent, Receipt("posted", posted.channel, posted.ts, message=message_payloads))
                for alert in sent:
                    unsent.remove(alert)
                    self._delivered(alert, channel, posted, thread_ts, start)
        except DeliveryError as exc:
            if exc.retryable:
                DELIVERIES.labels("retried").inc()
                raise
            for alert in unsent:
                self._dead(alert, channel, exc.reason)

    def _delivered(self, alert: Alert, channel: str, posted: Posted, thread_ts: str | None, start: float) -> None:
        DELIVERIES.labels("replied" if thread_ts else "posted").inc()
        latency = max(0.0, time.time() - alert.created) if alert.created else None
        if latency is not None:
            ALERT_LATENCY.observe(latency)
        log.info(
            "alert.posted",
            ts=posted.ts,
            thread_ts=thread_ts,
            duration_ms=elapsed_ms(start),
            latency_ms=int(latency * 1000) if latency is not None else None,
            **_fields(alert, channel),
        )

    def _dead(self, alert: Alert, channel: str, reason: str) -> None:
        payload = {**alert.to_payload(), "channels": [channel]}
        dead_id = self.store.dead_add(payload, reason)
        self._record(channel, [alert], Receipt("dead", reason=reason))
        DELIVERIES.labels("dead").inc()
        log.error("alert.dead", reason=reason, dead_id=dead_id, **_fields(alert, channel))

    def _parent(self, alert: Alert, channel: str) -> tuple[Posted, Receipt] | None:
        """Where a follow-up replies: its story's first message in this channel, when there is one."""
        if not alert.followup or not self.sink.threads or alert.parent is None:
            return None
        receipt = self.receipts.get(delivery_key(alert.parent, channel))
        posted = receipt.posted
        if posted is None:
            return None
        return Posted(posted.channel or channel, posted.ts), receipt

    def _update_parent(self, channel: str, parent: Posted, receipt: Receipt, alerts: Sequence[Alert]) -> None:
        """Redraw the story's first message with how widely it is reported ("5 reports from 4 outlets, 2 languages").

        The thread's follow-up list is read, extended and saved under a lease, so that replicas
        adding follow-ups to one story at once do not lose each other's.
        """
        lease = f"thread:{parent.channel}:{parent.ts}"
        deadline = time.monotonic() + THREAD_LEASE_WAIT
        while not self.store.acquire_lease(lease, self.settings.consumer, timedelta(seconds=30)):
            if time.monotonic() > deadline or self._stop.is_set():
                log.warning("alert.update_skipped", ts=parent.ts, channel=channel, reason="thread busy")
                return
            self._stop.wait(0.05)
        try:
            self._redraw_parent(channel, parent, receipt, alerts)
        finally:
            self.store.release_lease(lease, self.settings.consumer)

    def _redraw_parent(self, channel: str, parent: Posted, receipt: Receipt, alerts: Sequence[Alert]) -> None:
        if receipt.folded or not receipt.message:
            return
        followups = self.receipts.followups(parent)
        added = {
            alert.alert_id: Followup(alert.doc_id, alert.label, alert.language)
            for alert in alerts
            if alert.alert_id not in followups
        }
        if not added:
            return
        followups.update(added)
        self.receipts.save_followups(parent, followups)
        parent_alerts = [Alert.from_payload(payload) for payload in receipt.message]
        story = story_count(parent_alerts[0], followups.values())
        notice = article_notice(parent_alerts, story=story, mention=self._mention(parent_alerts))
        try:
            self.sink.update(parent, self.sink.render(notice)[0])
        except DeliveryError as exc:
            if exc.retryable:
                raise
            log.warning("alert.update_failed", ts=parent.ts, channel=channel, reason=exc.reason)
            return
        log.info("alert.updated", ts=parent.ts, channel=channel, reports=story.reports, outlets=story.outlets)

    # Bursts ------------------------------------------------------------------------------------

    def _fold(self, channel: str, articles: list[list[Alert]], pace: _ChannelPace) -> None:
        """Post one summary listing every article of the rest of the burst (more when the sink's limits need)."""
        receipts = {a.alert_id: self.receipts.get(delivery_key(a.alert_id, channel)) for art in articles for a in art}
        todo = [[a for a in article if not receipts[a.alert_id].settled] for article in articles]
        uncertain = [a for article in todo for a in article if receipts[a.alert_id].state == "posting"]
        if uncertain and self.sink.threads:
            oldest = min(alert.created for alert in uncertain) - LOOKUP_MARGIN
            found = self.sink.find(channel, [a.alert_id for a in uncertain], None, oldest)
            for alert in uncertain:
                if alert.alert_id in found:
                    self._record(channel, [alert], _folded(found[alert.alert_id]))
            todo = [[a for a in article if a.alert_id not in found] for article in todo]
        todo = [article for article in todo if article]
        if not todo:
            return
        everything = [alert for article in todo for alert in article]
        message: Keyed
        for message in self.sink.render(BurstNotice(tuple(tuple(article) for article in todo))):
            sent = [alert for alert in everything if alert.alert_id in message.keys]
            self._record(channel, sent, Receipt("posting", channel=channel, at=time.time()))
            self._wait_turn(pace)
            try:
                posted = self.sink.post(channel, message)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                for alert in sent:
                    self._dead(alert, channel, exc.reason)
                continue
            self._posted(pace)
            pace.last_fold = self.clock()
            self._record(channel, sent, _folded(posted))
            log.info("alerts.folded", channel=channel, count=len(sent), ts=posted.ts)

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
        message: Keyed
        for message in self.sink.render(DigestNotice(tuple(alerts), period)):
            key = digest_key(bucket, message.keys)
            receipt = self.receipts.get(key)
            if receipt.state == "posted":
                continue
            oldest = alerts[0].created - LOOKUP_MARGIN
            if receipt.state == "posting" and self.sink.threads and self.sink.find(channel, message.keys, None, oldest):
                self.receipts.save([key], Receipt("posted"))
                continue
            self.receipts.save([key], Receipt("posting", at=time.time()))
            self._wait_turn(self._pace(channel))
            try:
                self.sink.post(channel, message)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                for alert in alerts:
                    if alert.alert_id in message.keys:
                        self._dead(alert, channel, exc.reason)
            else:
                self._posted(self._pace(channel))
            self.receipts.save([key], Receipt("posted"))
        self.store.digest_remove(bucket, list(items))
        log.info("digest.posted", rule=alerts[0].rule_id, channel=channel, count=len(alerts))
        return True


def story_count(first: Alert, followups: Iterable[Followup]) -> StoryCount:
    """How widely the story of `first` (its first message's alert) is reported, with these follow-ups."""
    replies = list(followups)
    reports = {first.doc_id} | {f.doc for f in replies}
    outlets = {first.label} | {f.outlet for f in replies}
    languages = {lang for lang in (first.language, *(f.language for f in replies)) if lang}
    return StoryCount(len(reports), len(outlets), len(languages))


def digest_key(bucket: str, keys: Sequence[str]) -> str:
    """The receipt of one message of a digest."""
    return f"digest:{bucket}:{','.join(keys)}"


def _folded(posted: Posted) -> Receipt:
    return Receipt("posted", posted.channel, posted.ts, folded=True)


def _fields(alert: Alert, channel: str) -> dict[str, str]:
    return {"rule": alert.rule_id, "alert_id": alert.alert_id, "story_id": alert.story_id, "channel": channel}
