"""`monitor run`: the stages wired into one long-running service, and its lifecycle.

scheduler -> poll -> extract -> (thread) Pipeline: dedupe/match/story/outbox -> (thread) notifier -> Slack

Signals: SIGTERM/SIGINT stop scheduling, let in-flight polls and the outbox finish within the grace
period, and exit 0; a second signal stops at once. SIGHUP reloads the rules and the feeds file; so
does a change to either. A reload that fails validation keeps the old rules or feeds in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from monitor import __version__, crashpoint
from monitor.config import Config
from monitor.errors import ConfigError, FeedsFileError, RuleLoadError
from monitor.feedback.hold import hold_from_env
from monitor.feedback.receiver import Receiver, receiver_from_env
from monitor.feedback.remember import Handoff, remembering
from monitor.ingest.entries import EntrySettings
from monitor.ingest.feedsfile import load_feeds
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.metrics import REGISTRY, RELOADS, HealthServer, StoreCollector
from monitor.notify.alerts import enqueue
from monitor.notify.base import Sink
from monitor.notify.console import ConsoleSink
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.sinks import sink_from_env
from monitor.pipeline import Pipeline, Processed
from monitor.rules.loader import RuleSet, load_rules, yaml_files
from monitor.rules.matcher import Matcher
from monitor.store import Store, StoreError, StoreURLError, open_store, redact_url
from monitor.stories import build_grouper

log = structlog.get_logger("monitor.service")

RULES_CHECK_EVERY = 5.0
STORE_RETRY_MAX = 30.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How this run differs from the config: recording, one pass, the environment."""

    record: Path | None = None
    once: bool = False


def rules_signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a rule, list or rule-test file is edited, added or removed."""
    found = []
    for path in yaml_files(directory):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class Service:
    """The running service. `run()` returns the process exit code.

    Args:
        config: the validated config (load_config).
        options: per-run options (record directory, one pass).
        env: where Slack credentials are read from (the process environment by default).
    """

    def __init__(self, config: Config, options: RunOptions | None = None, env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.env = os.environ if env is None else env
        self.replica = config.replica or f"{socket.gethostname()}-{os.getpid()}"
        self._stop = asyncio.Event()
        self._force = False
        self._stopping = threading.Event()
        self._reload_requested = asyncio.Event()
        self.store: Store | None = None
        self.pipeline: Pipeline | None = None
        # The rules last loaded and their matcher: a reload reads and compiles only what changed since.
        self._rules: tuple[RuleSet, Matcher] | None = None
        self.ingestor: Ingestor | None = None

    # Signals ---------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        if self._stop.is_set():
            log.warning("service.stopping_now")
            self._force = True
        else:
            log.info("service.stopping", grace_s=self.config.shutdown_grace.total_seconds())
        self._stop.set()
        self._stopping.set()

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self._reload_requested.set)

    # Start-up ----------------------------------------------------------------------------------------

    def _announce(self, sink: Sink[Any]) -> None:
        config = self.config
        log.info(
            "service.starting",
            version=__version__,
            config=str(config.path) if config.path else "none: embedded defaults",
            replica=self.replica,
        )
        store = self.store.description if self.store is not None else redact_url(config.store)
        log.info(
            "service.settings",
            store=store,
            sink=sink.name,
            rules=str(config.rules),
            feeds=str(config.feeds_path) if config.feeds_path else f"{len(config.feeds)} inline",
            metrics=":".join(map(str, config.metrics_listen)) if config.metrics_listen else "off",
        )
        if config.defaults_used:
            log.warning(
                "service.defaults",
                note="not configured, using the embedded defaults",
                settings=list(config.defaults_used),
            )
        if isinstance(sink, ConsoleSink):
            log.warning(
                "service.console_sink",
                note="no SLACK_BOT_TOKEN, SLACK_WEBHOOK_URL or MONITOR_WEBHOOK_URL: alerts go to stdout",
            )

    async def _open_store(self) -> Store | None:
        """Open the store, waiting (with a one-line error per try) until it answers or we are stopped."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                store = open_store(self.config.store, self.config.store_prefix)
                await asyncio.to_thread(store.ping)
                return store
            except StoreURLError:
                raise
            except StoreError as exc:
                log.error("store.unavailable", error=str(exc), retry_in_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
            delay = min(delay * 2, STORE_RETRY_MAX)
        return None

    def _load_matcher(self) -> Matcher | None:
        previous = self._rules
        try:
            ruleset = load_rules(self.config.rules, previous=previous[0] if previous else None)
        except RuleLoadError as exc:
            for error in exc.errors:
                log.error("rules.rejected", error=error)
            return None
        matcher = previous[1].updated(ruleset.rules) if previous else Matcher(ruleset.rules)
        self._rules = (ruleset, matcher)
        log.info("rules.loaded", directory=str(self.config.rules), rules=len(matcher.rules), files_read=ruleset.read)
        return matcher

    # Reloads -----------------------------------------------------------------------------------------

    def reload_rules(self) -> bool:
        matcher = self._load_matcher()
        if matcher is None or self.pipeline is None:
            RELOADS.labels("rules", "rejected").inc()
            log.error("rules.kept", note="the rules in force stay until the files are fixed")
            return False
        self.pipeline.matcher = matcher
        RELOADS.labels("rules", "ok").inc()
        return True

    def reload_feeds(self) -> bool:
        path = self.config.feeds_path
        if path is None or self.ingestor is None:
            return False
        try:
            feeds = load_feeds(path).feeds
        except FeedsFileError as exc:
            for error in exc.errors:
                log.error("feeds.rejected", error=error)
            RELOADS.labels("feeds", "rejected").inc()
            return False
        self.ingestor.set_feeds(feeds)
        RELOADS.labels("feeds", "ok").inc()
        return True

    async def _watch(self) -> None:
        """Reload on SIGHUP, and when the rules change on disk (the ingestor watches the feeds file)."""
        seen = await asyncio.to_thread(rules_signature, self.config.rules)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_requested.wait(), timeout=RULES_CHECK_EVERY)
            hup = self._reload_requested.is_set()
            self._reload_requested.clear()
            try:
                current = await asyncio.to_thread(rules_signature, self.config.rules)
                if hup or current != seen:
                    seen = current
                    log.info("service.reloading", reason="SIGHUP" if hup else "rules changed")
                    await asyncio.to_thread(self.reload_rules)
                    if hup:
                        await asyncio.to_thread(self.reload_feeds)
            except Exception as exc:  # a stage boundary: the watcher must outlive any one reload
                RELOADS.labels("rules", "rejected").inc()
                log.exception("service.reload_failed", error=str(exc), note="what was in force stays")

    # Readiness ---------------------------------------------------------------------------------------

    def ready(self) -> tuple[bool, str]:
        if self.store is None:
            return False, "store not open"
        try:
            self.store.ping()
        except StoreError as exc:
            return False, f"store unreachable: {exc}"
        scheduler = self.ingestor.scheduler if self.ingestor is not None else None
        if scheduler is None or not scheduler.running:
            return False, "scheduler not running"
        return True, "ready"

    # The run -----------------------------------------------------------------------------------------

    async def run(self) -> int:
        self._install_signals(asyncio.get_running_loop())
        try:
            sink: Sink[Any] = sink_from_env(self.env, timeout=self.config.slack.timeout) or ConsoleSink()
        except ConfigError as exc:
            log.error("service.config_error", error=str(exc))
            return 2
        self._announce(sink)
        health = None
        if self.config.metrics_listen is not None:
            host, port = self.config.metrics_listen
            try:
                health = HealthServer(host, port, self.ready)
            except OSError as exc:
                # Alerts matter more than metrics: the service runs on without them.
                log.error("metrics.unavailable", address=f"{host}:{port}", error=exc.strerror or str(exc))
            else:
                health.start()
                log.info("metrics.listening", address=f"{host}:{health.port}")
        try:
            return await self._run(sink)
        finally:
            if health is not None:
                health.stop()

    async def _run(self, sink: Sink[Any]) -> int:
        try:
            store = await self._open_store()
        except StoreURLError as exc:
            log.error("store.invalid", error=str(exc), note="fix the store URL (config 'store' or REDIS_URL)")
            return 2
        if store is None:
            return 0
        self.store = store
        collector = StoreCollector(store, feeds=lambda: self.ingestor.feeds if self.ingestor is not None else ())
        REGISTRY.register(collector)
        try:
            matcher = self._load_matcher()
            if matcher is None:
                return 2
            record_dir = self.options.record or self.config.record
            if record_dir is not None:
                try:
                    record_dir.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    log.error("service.cannot_record", directory=str(record_dir), error=exc.strerror or str(exc))
                    return 2
            handoff: Handoff = functools.partial(_enqueue, store)
            # Feedback from Slack (SLACK_APP_TOKEN): alerts are remembered for the clicks on their buttons.
            receiver = receiver_from_env(self.env, store, self.config.seen_ttl)
            if receiver is not None:
                handoff = remembering(handoff, store, self.config.slack.default_channel, self.config.seen_ttl)
            self.pipeline = Pipeline(
                matcher,
                store,
                await asyncio.to_thread(build_grouper, self.config.stories, store, self.config.seen_ttl),
                handoff=handoff,
                seen_ttl=self.config.seen_ttl,
                default_realert=self.config.realert,
                stopping=self._stopping,
            )
            notifier = Notifier(store, sink, self._notifier_settings(), hold=hold_from_env(self.env, store))
            settings = IngestSettings(
                http=self.config.http,
                entries=EntrySettings(lease=self.config.entry_lease, seen_ttl=self.config.seen_ttl),
                workers=self.config.extract_workers,
                page_time_limit=self.config.extract_time_limit,
                record_dir=record_dir,
                replica=self.replica,
            )
            async with Ingestor(self.config.feeds, store, settings, self.pipeline.process) as ingestor:
                self.ingestor = ingestor
                if self.options.once:
                    await ingestor.recover()
                    await ingestor.poll_all()
                    await asyncio.to_thread(notifier.drain, self.config.shutdown_grace.total_seconds(), True)
                    log.info("service.stopped", reason="one pass done")
                    return 0
                return await self._serve(ingestor, notifier, receiver)
        finally:
            REGISTRY.unregister(collector)
            store.close()

    async def _serve(self, ingestor: Ingestor, notifier: Notifier, receiver: Receiver | None) -> int:
        notifying = threading.Thread(target=notifier.run, name="notifier", daemon=True)
        notifying.start()
        if receiver is not None:
            receiver.start()  # in the background: alerts flow whether or not Slack's socket is up
        ingestor.start()
        if self.config.feeds_path is not None:
            ingestor.watch(self.config.feeds_path)
        watcher = asyncio.create_task(self._watch())
        log.info(
            "service.started", feeds=len(ingestor.feeds), rules=len(self.pipeline.matcher.rules) if self.pipeline else 0
        )
        await self._stop.wait()
        watcher.cancel()
        scheduler = ingestor.scheduler if ingestor.scheduler is not None and ingestor.scheduler.running else None
        if scheduler is not None:
            scheduler.pause()  # no new polls; shutting it down now would cancel the running ones
        deadline = time.monotonic() + self.config.shutdown_grace.total_seconds()
        # In-flight polls finish (their entries are claimed: their documents must reach the outbox), then
        # the outbox is flushed, unless the store is shared: other replicas deliver what is left.
        while ingestor.busy and not self._force and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        while self.store is not None and not self.store.shared and not self._force and time.monotonic() < deadline:
            depth, _ = await asyncio.to_thread(self.store.outbox_depth) if self.store else (0, None)
            if depth == 0:
                break
            await asyncio.sleep(0.2)
        notifier.stop()
        if receiver is not None:
            await asyncio.to_thread(receiver.stop)
        await asyncio.to_thread(notifying.join, 0 if self._force else max(0.0, deadline - time.monotonic()) + 5)
        if self._force:
            log.warning("service.stopped", reason="second signal")
            return 1
        log.info("service.stopped", reason="signal")
        return 0

    def _notifier_settings(self) -> NotifierSettings:
        slack = self.config.slack
        return NotifierSettings(
            default_channel=slack.default_channel,
            critical_mention=slack.critical_mention,
            pace=slack.pace,
            burst_size=slack.burst_size,
            consumer=self.replica,
        )


def _enqueue(store: Store, processed: Processed) -> None:
    """The pipeline's hand-off: its alerts into the outbox (a crash test may stop the process first)."""
    crashpoint.reached("decided", doc_id=processed.doc.id)
    enqueue(store, processed)
