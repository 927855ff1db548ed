"""Scheduling: one APScheduler job per feed; each poll's new entries completed, recorded and handed on.

async with Ingestor(feeds, store, IngestSettings(), pipeline.process) as ingestor:
    ingestor.start()                      # the service: poll every feed at its interval, sweep leases
    ingestor.watch(Path("feeds.yaml"))    # ...and follow edits of the feeds file
async with Ingestor(...) as ingestor:
    await ingestor.recover()              # entries left by a process that died
    await ingestor.poll_all()             # tests and `monitor feeds poll`: every feed once

Each entry goes on as soon as its own page is done (entries.py: claimed, worked on under a renewed
lease, finished only once `on_document` returned).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.document import Document
from monitor.errors import FeedsFileError, MonitorError
from monitor.ingest import parsing
from monitor.ingest.entries import Entries, EntrySettings, Held
from monitor.ingest.feedsfile import FeedConfig, load_feeds
from monitor.ingest.http import HttpClient, HttpSettings
from monitor.ingest.pages import DEFAULT_TIME_LIMIT, Extractor, complete
from monitor.ingest.parsing import FeedParser
from monitor.ingest.poll import FeedState, PollResult, PollSettings, poll_feed
from monitor.ingest.record import Recorder
from monitor.metrics import FETCH_SECONDS, POLLS
from monitor.store.base import Store, StoreError

log = structlog.get_logger("monitor.ingest.scheduler")

WATCH_JOB = "feeds-file"
SWEEP_JOB = "entry-sweep"
# A replica holds a feed's poll lease for this share of the feed's interval.
LEASE_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """How live ingestion runs.

    Args:
        http: the HTTP client's rules (timeouts, caps, which addresses may be fetched).
        poll: backoff and stale detection.
        entries: processing leases on entries, how long entries are remembered.
        workers: extraction processes; default one per CPU core.
        page_time_limit: seconds one page's extraction may take.
        parse_workers, parse_memory, parse_time_limit: feed parsing processes, the memory (bytes) one
            parse may take in one, and the seconds (see monitor.ingest.parsing).
        record_dir: when set, every Document is appended to a JSONL file per day there.
        search_page_body: search each page's body for a byline and its text for a date when the
            entry has neither (see pages.complete); always done when recording.
        jitter: each run of a feed's job moves by up to this fraction of its interval.
        first_run_spread: first polls are spread over up to this long (capped by each interval).
        misfire_grace: a run late by more than this is skipped (coalesced into the next).
        watch_every: how often a watched feeds file is checked for changes.
        replica: this process's name; with it, a scheduled poll first takes the feed's lease in the
            store, so that replicas sharing a store poll each feed once per interval between them.
    """

    http: HttpSettings = field(default_factory=HttpSettings)
    poll: PollSettings = field(default_factory=PollSettings)
    entries: EntrySettings = field(default_factory=EntrySettings)
    workers: int | None = None
    page_time_limit: float = DEFAULT_TIME_LIMIT
    parse_workers: int = parsing.DEFAULT_WORKERS
    parse_memory: int = parsing.DEFAULT_MEMORY
    parse_time_limit: float = parsing.DEFAULT_TIME_LIMIT
    record_dir: Path | None = None
    search_page_body: bool = False
    jitter: float = 0.1
    first_run_spread: timedelta = timedelta(seconds=30)
    misfire_grace: timedelta = timedelta(minutes=1)
    watch_every: timedelta = timedelta(seconds=10)
    replica: str | None = None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """One poll of a feed and the Documents it produced (pages fetched and extracted where asked)."""

    poll: PollResult
    documents: list[Document]


@dataclass(frozen=True, slots=True)
class FeedChanges:
    added: list[str]
    changed: list[str]
    removed: list[str]


class Ingestor:
    """Polls feeds, completes new entries from their pages, records them and hands each to `on_document`.

    Args:
        feeds: the feeds to poll.
        store: entry leases and per-feed HTTP state.
        settings: how to fetch, poll, extract, record and schedule.
        on_document: called with each new Document and its entry's attempt key, in a worker thread
            (`Pipeline.process`); it returns once the Document is handed over (its alerts are in the
            outbox), and only then is the entry seen. An exception it raises means "not handed over":
            it is logged, the entry is given back to be taken up again, and the next Document goes on.
    """

    def __init__(
        self,
        feeds: Sequence[FeedConfig],
        store: Store,
        settings: IngestSettings,
        on_document: Callable[[Document, str], object],
    ) -> None:
        self.feeds: dict[str, FeedConfig] = {f.url: f for f in feeds}
        self.store = store
        self.settings = settings
        self.on_document = on_document
        self.recorder = Recorder(settings.record_dir) if settings.record_dir else None
        self.scheduler: AsyncIOScheduler | None = None
        self._client: HttpClient | None = None
        self._extractor: Extractor | None = None
        self._parser: FeedParser | None = None
        self._watched: tuple[Path, float | None] | None = None
        self._inflight = 0
        # Unique per process, so that a restarted replica never takes its dead self's leases for its own.
        replica = settings.replica or f"{socket.gethostname()}-{os.getpid()}"
        self.entries = Entries(store, f"{replica}/{uuid.uuid4().hex[:8]}", settings.entries)

    async def __aenter__(self) -> Ingestor:
        self._client = HttpClient(self.settings.http)
        await self.entries.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the schedule, then close the client and the worker pools."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.entries.close()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._extractor is not None:
            self._extractor.close()
            self._extractor = None
        if self._parser is not None:
            self._parser.close()
            self._parser = None

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            raise RuntimeError("use the Ingestor as `async with Ingestor(...) as ingestor`")
        return self._client

    def extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = Extractor(self.settings.workers, self.settings.page_time_limit)
        return self._extractor

    def parser(self) -> FeedParser:
        if self._parser is None:
            settings = self.settings
            self._parser = FeedParser(settings.parse_workers, settings.parse_memory, settings.parse_time_limit)
        return self._parser

    # Scheduling -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling every feed at its interval (call from the running event loop)."""
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.start()
        for feed in self.feeds.values():
            self._add_job(feed)
        self.scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self.settings.entries.sweep_interval.total_seconds(),
            id=SWEEP_JOB,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now().astimezone(),
        )

    def _add_job(self, feed: FeedConfig) -> None:
        assert self.scheduler is not None
        seconds = feed.schedule_interval.total_seconds()
        spread = min(seconds, self.settings.first_run_spread.total_seconds())
        self.scheduler.add_job(
            self._run,
            "interval",
            seconds=seconds,
            jitter=max(1, int(seconds * self.settings.jitter)),
            args=[feed.url],
            id=feed.url,
            name=feed.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(self.settings.misfire_grace.total_seconds()),
            next_run_time=datetime.now().astimezone() + timedelta(seconds=random.uniform(0, spread)),
            replace_existing=True,
        )

    def set_feeds(self, feeds: Sequence[FeedConfig]) -> FeedChanges:
        """Replace the feed list: jobs of new feeds are added, changed ones rescheduled, dropped ones removed."""
        new = {f.url: f for f in feeds}
        added = [u for u in new if u not in self.feeds]
        removed = [u for u in self.feeds if u not in new]
        changed = [u for u in new if u in self.feeds and not new[u].same_job(self.feeds[u])]
        self.feeds = new
        if self.scheduler is not None:
            for url in removed:
                self.scheduler.remove_job(url)
            for url in added + changed:
                self._add_job(new[url])
        if added or changed or removed:
            log.info("feeds.updated", added=len(added), changed=len(changed), removed=len(removed))
        return FeedChanges(added, changed, removed)

    def reload(self, path: Path) -> FeedChanges | None:
        """Load the feeds file and apply it; a broken file is logged and the current feeds stay."""
        try:
            loaded = load_feeds(path)
        except FeedsFileError as exc:
            for error in exc.errors:
                log.error("feeds.rejected", file=str(path), error=error)
            return None
        return self.set_feeds(loaded.feeds)

    def watch(self, path: Path) -> None:
        """Check `path` every `watch_every` and reload it when it changes."""
        self._watched = (path, _mtime(path))
        if self.scheduler is not None:
            self.scheduler.add_job(
                self.check_feeds_file,
                "interval",
                seconds=self.settings.watch_every.total_seconds(),
                id=WATCH_JOB,
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )

    def check_feeds_file(self) -> FeedChanges | None:
        """Reload the watched feeds file if it changed since the last check."""
        if self._watched is None:
            return None
        path, seen = self._watched
        current = _mtime(path)
        if current == seen:
            return None
        self._watched = (path, current)
        return self.reload(path)

    def job_ids(self) -> list[str]:
        return (
            sorted(j.id for j in self.scheduler.get_jobs() if j.id not in (WATCH_JOB, SWEEP_JOB))
            if self.scheduler
            else []
        )

    def job(self, url: str) -> Any:
        return self.scheduler.get_job(url) if self.scheduler else None

    async def _run(self, url: str) -> None:
        feed = self.feeds.get(url)
        if feed is None:
            return
        replica = self.settings.replica
        if replica is not None:
            # Held for most of an interval and not given back: the other replicas' runs in this
            # interval find it taken; if this replica dies, the lease simply runs out.
            ttl = feed.schedule_interval * LEASE_SHARE
            try:
                leased = await asyncio.to_thread(self.store.acquire_lease, f"poll:{url}", replica, ttl)
            except StoreError as exc:  # the store is down: this round is skipped, the next tries again
                log.error("feed.lease_failed", feed=feed.name, url=url, error=str(exc))
                return
            except asyncio.CancelledError:  # the service stopped while the store was asked: nothing polled
                log.warning("feed.poll_interrupted", feed=feed.name, url=url, entries_held=0)
                return
            if not leased:
                log.debug("feed.leased_elsewhere", feed=feed.name, url=url)
                return
        try:
            await self.poll(feed)
        except asyncio.CancelledError:
            # The service stopped before the poll was done (past its grace): one line, not the scheduler's
            # traceback. The entries it held are taken up again once their leases run out.
            log.warning("feed.poll_interrupted", feed=feed.name, url=url, entries_held=self.entries.working_on)

    async def _sweep(self) -> None:
        """The scheduled sweep of expired entry leases (see recover)."""
        try:
            await self.recover()
        except asyncio.CancelledError:  # stopped mid-sweep: what it took is taken up again after the lease
            log.warning("entries.sweep_interrupted", entries_held=self.entries.working_on)

    @property
    def busy(self) -> int:
        """Polls in progress (for a graceful stop)."""
        return self._inflight

    # Polling --------------------------------------------------------------------------------------

    async def poll_all(self, force: bool = True) -> list[FeedOutcome]:
        """Poll every feed once, concurrently (a slow feed delays none of the others)."""
        return list(await asyncio.gather(*(self.poll(f, force) for f in list(self.feeds.values()))))

    async def poll(self, feed: FeedConfig, force: bool = False) -> FeedOutcome:
        """Poll one feed; complete, record and hand on its new entries. Never raises for a feed's problems."""
        self._inflight += 1
        try:
            started = time.monotonic()
            result = await poll_feed(feed, self.client, self.entries, self.parser(), self.settings.poll, force=force)
            if not result.skipped:
                FETCH_SECONDS.labels("feed").observe(time.monotonic() - started)
                POLLS.labels(_outcome(result)).inc()
            docs = await asyncio.gather(*(self._process(feed, held) for held in result.held))
            return FeedOutcome(result, list(docs))
        except Exception as exc:  # a stage boundary: one feed's surprise must not stop the others
            log.exception("feed.crashed", feed=feed.name, url=feed.url, error=str(exc))
            return FeedOutcome(PollResult(feed, FeedState(name=feed.name), error=f"internal error: {exc}"), [])
        finally:
            self._inflight -= 1

    async def recover(self) -> list[Document]:
        """Take up the entries whose holders let their leases run out (a process died), and process them."""
        self._inflight += 1
        try:
            try:
                taken = await self.entries.take_expired()
            except StoreError as exc:  # the store is down: the next sweep tries again
                log.error("entries.sweep_failed", error=str(exc))
                return []
            return list(await asyncio.gather(*(self._process(self.feeds.get(h.feed), h) for h in taken)))
        finally:
            self._inflight -= 1

    async def _process(self, feed: FeedConfig | None, held: Held) -> Document:
        """Complete one held entry from its page, hand it on, and finish it (or give it back).

        `feed` is None for an entry of a feed no longer in the feeds file: it goes on with its own text.
        """
        with self.entries.working(held):
            doc = held.doc
            if feed is not None and feed.full_text:
                doc = await self._complete(doc, feed)
            handed = await asyncio.to_thread(self._deliver, doc, held.attempt)
            try:
                await (self.entries.finish(held) if handed else self.entries.release(held))
            except StoreError as exc:  # its lease runs out: the entry is taken up again, its alerts not doubled
                log.error("entry.finish_failed", feed=doc.source, url=doc.url, doc_id=doc.id, error=str(exc))
        return doc

    async def _complete(self, doc: Document, feed: FeedConfig) -> Document:
        try:
            search_body = self.recorder is not None or self.settings.search_page_body
            headers = feed.header_map() or None
            extractor = self.extractor()
            return await complete(doc, self.client, extractor, headers, search_body=search_body, allow=feed.allowed())
        except Exception as exc:  # a stage boundary: the entry is held, so it goes on with its own text
            log.exception("page.failed", url=doc.url, feed=doc.source, error=f"internal error: {exc}")
            return doc

    def _deliver(self, doc: Document, attempt: str) -> bool:
        """Record and hand on one Document; False when it was not handed over."""
        if self.recorder is not None:
            try:
                self.recorder.write(doc)
            except OSError as exc:
                log.error("document.record_failed", doc_id=doc.id, url=doc.url, error=str(exc))
        try:
            self.on_document(doc, attempt)
        except MonitorError as exc:  # said why already (e.g. dropped at shutdown): one line
            log.error("document.failed", doc_id=doc.id, url=doc.url, feed=doc.source, error=str(exc))
            return False
        except Exception as exc:  # a stage boundary: the next Document must still be handed on
            log.exception("document.failed", doc_id=doc.id, url=doc.url, feed=doc.source, error=str(exc))
            return False
        return True


def _outcome(result: PollResult) -> str:
    if result.status == 304:
        return "not_modified"
    return "ok" if result.error is None else "error"


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return None
