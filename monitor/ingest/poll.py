"""One poll of one feed: conditional GET, backoff, adaptive interval, new-entry detection, dates to UTC.

The feed's job may run more often than the feed is fetched: `poll_feed` first checks the feed's
`next_poll` (set by backoff, Retry-After or an adaptive interval) and returns without a request
until it is due.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import random
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from monitor.document import Document
from monitor.ingest.entries import Entries, Held
from monitor.ingest.feeds import FeedDocuments
from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import Fetched, FetchError, HttpClient
from monitor.ingest.parsing import FeedParser, ParseError
from monitor.store.base import Store

log = structlog.get_logger("monitor.ingest.poll")

RETRY_STATUSES = {429, 503}
# Sitemaps an index may list that one poll reads (kinds.sitemap lists the newest first).
MAX_CHILDREN = 20
MAX_KEPT_TIMES = 500
WEEK = 7 * 86400.0
_MAX_AGE_RE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How feeds are polled.

    Args:
        max_backoff: the longest wait after failures (Retry-After included).
        stale_after: a feed with no new entry for this many times its cadence is logged as stale...
        stale_minimum: ...but never before this long.
        republished_grace: a new entry dated this long before the feed's previous successful poll is
            an old article appearing again (a regenerated GUID, a re-syndication).
    """

    max_backoff: timedelta = timedelta(hours=6)
    stale_after: float = 4.0
    stale_minimum: timedelta = timedelta(days=1)
    republished_grace: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FeedState:
    """What is kept for a feed between polls (stored as a JSON-able dict). Times are Unix seconds."""

    name: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_poll: float | None = None
    last_success: float | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    failures: int = 0
    backoff: float = 0.0
    next_poll: float | None = None
    interval: float | None = None
    cadence: float | None = None
    last_new_at: float | None = None
    first_poll: float | None = None
    stale: bool = False
    new_times: tuple[float, ...] = ()
    # The documents an index lists (a sitemap index's sitemaps) with their validators: (url, etag, last_modified).
    children: tuple[tuple[str, str | None, str | None], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["new_times"] = list(self.new_times)
        data["children"] = [list(child) for child in self.children]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FeedState:
        """Read a stored state; unknown keys (from a newer version) are ignored."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["new_times"] = tuple(float(t) for t in values.get("new_times") or ())
        values["children"] = tuple(
            (str(c[0]), c[1], c[2]) for c in values.get("children") or () if isinstance(c, list | tuple) and len(c) == 3
        )
        return cls(**values)

    def entries_per_day(self, now: float) -> float:
        """New entries per day over the last week (or since the first poll, when younger)."""
        if self.first_poll is None:
            return 0.0
        span = max(min(WEEK, now - self.first_poll), 3600.0)
        recent = [t for t in self.new_times if t >= now - WEEK]
        return len(recent) * 86400.0 / span


@dataclass(frozen=True, slots=True)
class Entry:
    """A feed entry as a Document (its own text), and its lease when this poll holds it (it is new, or
    it is taken up again after its holder died): then it is this process's to finish."""

    doc: Document
    held: Held | None = None

    @property
    def new(self) -> bool:
        return self.held is not None


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did: `status` None means no request was made (not due yet, or the request failed)."""

    feed: FeedConfig
    state: FeedState
    status: int | None = None
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None
    problem: str | None = None
    skipped: bool = False

    @property
    def new(self) -> list[Document]:
        return [e.doc for e in self.entries if e.new]

    @property
    def held(self) -> list[Held]:
        """The entries this poll holds, their Documents dated and marked (see `new`)."""
        return [e.held for e in self.entries if e.held is not None]


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def max_age(value: str | None) -> float | None:
    """Cache-Control max-age in seconds, when given."""
    match = _MAX_AGE_RE.search(value or "")
    return float(match.group(1)) if match else None


def backoff_delay(feed: FeedConfig, failures: int, settings: PollSettings, rng: random.Random | None = None) -> float:
    """Seconds before retrying after `failures` failures in a row: doubling from the interval, jittered, capped."""
    base = feed.schedule_interval.total_seconds()
    cap = settings.max_backoff.total_seconds()
    # The exponent is bounded: a feed failing for months must not overflow a float.
    delay = min(cap, base * 2.0 ** min(max(0, failures - 1), 40))
    jitter = (rng or random).uniform(0.8, 1.2)
    return min(cap, delay * jitter)


def _cadence(docs: Sequence[Document]) -> float | None:
    """Median gap between the entries' own dates: how often the feed publishes."""
    times = sorted({d.published.timestamp() for d in docs if d.published is not None and d.feed_date})
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return float(statistics.median(gaps)) if gaps else None


def _auto_interval(feed: FeedConfig, state: FeedState, fetched: Fetched, ttl: float | None, now: float) -> float:
    low = feed.min_interval.total_seconds()
    high = feed.max_interval.total_seconds()
    interval = state.cadence / 2 if state.cadence else (state.interval or low)
    interval = min(high, max(low, interval))
    # The publisher's own hints only ever lengthen the interval (never beyond the upper bound).
    hints = [ttl, max_age(fetched.header("cache-control")), retry_after(fetched.header("retry-after"), now)]
    for hint in hints:
        if hint is not None:
            interval = max(interval, min(hint, high))
    return interval


async def poll_feed(
    feed: FeedConfig,
    client: HttpClient,
    leases: Entries,
    parser: FeedParser,
    settings: PollSettings | None = None,
    *,
    force: bool = False,
    now: float | None = None,
) -> PollResult:
    """Poll `feed` once (unless not yet due and not `force`): fetch, parse in `parser`'s workers, claim
    its new entries in `leases`, save its state; never raises for feed problems."""
    settings = settings or PollSettings()
    now = time.time() if now is None else now
    store = leases.store
    state = FeedState.from_dict(await asyncio.to_thread(store.feed_state, feed.url))
    if not force and state.next_poll is not None and now < state.next_poll:
        return PollResult(feed, state, skipped=True)
    state = replace(state, name=feed.name, last_poll=now, first_poll=state.first_poll or now)
    headers = feed.header_map()
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        fetched = await client.fetch(feed.url, headers, feed.allowed())
    except FetchError as exc:
        return await _failed(feed, state, store, settings, now, exc.reason, None, None)
    if fetched.status == 304 and state.children:
        # The index is unchanged, the sitemaps it lists may not be: they are polled (conditionally) all the same.
        unchanged = FeedDocuments(None, children=[url for url, _, _ in state.children])
        return await _ingest(feed, state, leases, client, parser, settings, fetched, now, unchanged)
    if fetched.status == 304:
        state = _succeeded(feed, state, fetched, None, now)
        await asyncio.to_thread(store.save_feed_state, feed.url, state.to_dict())
        # Most polls end here: at debug, so that a quiet feed does not fill the logs (the metrics count them).
        log.debug(
            "feed.polled", feed=feed.name, url=feed.url, status=304, duration_ms=fetched.elapsed_ms,
            queued_ms=fetched.queued_ms, new=0,
        )  # fmt: skip
        return PollResult(feed, state, 304)
    if fetched.status != 200:
        wait = retry_after(fetched.header("retry-after"), now) if fetched.status in RETRY_STATUSES else None
        return await _failed(feed, state, store, settings, now, f"HTTP {fetched.status}", fetched.status, wait)
    return await _ingest(feed, state, leases, client, parser, settings, fetched, now)


def _located(parsed: FeedDocuments) -> str | None:
    """The body's problem, with its line when known."""
    if parsed.problem and parsed.problem_line:
        return f"line {parsed.problem_line}: {parsed.problem}"
    return parsed.problem


async def _read(
    feed: FeedConfig, parser: FeedParser, fetched: Fetched, now: float, origin: str | None = None
) -> FeedDocuments | str:
    """The body's Documents, or why they cannot be read (a failure of the feed)."""
    if fetched.truncated:
        # Cut at http.max_bytes: not the whole feed, and fetched and cut again at every poll but for the backoff.
        return f"feed is larger than the {len(fetched.body) / 2**20:g} MiB limit (http.max_bytes)"
    try:
        parsed = await parser.parse(fetched.body, fetched.headers, feed, datetime.fromtimestamp(now, UTC), origin)
    except ParseError as exc:
        return str(exc)
    if not parsed.feed:
        # A web page where the feed was (a site moved its feed): say so, rather than "0 entries".
        content_type = (fetched.header("content-type") or "").split(";", 1)[0].strip() or "none"
        return f"{parsed.problem} (Content-Type: {content_type})"
    if parsed.problem and not parsed.documents and not parsed.children:
        return _located(parsed) or "unreadable"
    return parsed


async def _ingest(
    feed: FeedConfig,
    state: FeedState,
    leases: Entries,
    client: HttpClient,
    parser: FeedParser,
    settings: PollSettings,
    fetched: Fetched,
    now: float,
    parsed: FeedDocuments | None = None,
) -> PollResult:
    """parsed: the body as read already (an unchanged index: the sitemaps it listed before)."""
    store = leases.store
    read = parsed if parsed is not None else await _read(feed, parser, fetched, now)
    if isinstance(read, str):
        return await _failed(feed, state, store, settings, now, read, 200, None)
    parsed = read
    problem = _located(parsed)
    if parsed.children:
        docs, children, read_ok, child_problem = await _read_children(feed, state, client, parser, parsed.children, now)
        problem = "; ".join(p for p in (problem, child_problem) if p) or None
        if not read_ok:
            # No listed sitemap could be read (nor was one unchanged): the index's poll failed.
            state = replace(state, children=children)
            return await _failed(feed, state, store, settings, now, problem or "unreadable", fetched.status, None)
        parsed = replace(parsed, documents=docs)
        state = replace(state, children=children)
    elif state.children:
        state = replace(state, children=())  # no index any more
    if problem:
        log.warning("feed.malformed", feed=feed.name, url=feed.url, problem=problem)
    docs = parsed.documents
    docs = [_mark_republished(d, state, settings) for d in docs]
    claimed = await leases.claim(feed, docs)
    entries = [Entry(d, held) for d, held in zip(docs, claimed, strict=True)]
    count = sum(e.new for e in entries)
    cadence = _cadence(docs)
    state = replace(state, cadence=cadence or state.cadence)
    if count:
        times = (*[t for t in state.new_times if t >= now - WEEK], *([now] * count))
        state = replace(state, last_new_at=now, stale=False, new_times=times[-MAX_KEPT_TIMES:])
    state = _succeeded(feed, state, fetched, parsed.ttl, now)
    state = _check_stale(feed, state, settings, now)
    await asyncio.to_thread(store.save_feed_state, feed.url, state.to_dict())
    log.info(
        "feed.polled", feed=feed.name, url=feed.url, status=fetched.status, duration_ms=fetched.elapsed_ms,
        queued_ms=fetched.queued_ms, entries=len(entries), new=count,
    )  # fmt: skip
    return PollResult(feed, state, fetched.status, entries, problem=problem)


@dataclass(frozen=True, slots=True)
class _Child:
    """One listed sitemap read: its Documents, its validators, whether it was read (or unchanged), its problem."""

    docs: list[Document]
    validators: tuple[str, str | None, str | None]
    ok: bool
    problem: str | None = None


async def _read_children(
    feed: FeedConfig, state: FeedState, client: HttpClient, parser: FeedParser, urls: Sequence[str], now: float
) -> tuple[list[Document], tuple[tuple[str, str | None, str | None], ...], int, str | None]:
    """The Documents of the sitemaps an index lists (one level: an index they list is not read), each
    fetched with its own conditional GET (together: the client keeps to its per-host limit); every one
    listed with its validators (none for one that failed); how many were read (or unchanged); what went
    wrong, naming each URL."""
    known = {url: (etag, modified) for url, etag, modified in state.children}
    problems: list[str] = []
    todo: list[str] = []
    for url in urls[:MAX_CHILDREN]:
        if url == feed.url or url in todo:
            problems.append(f"{url}: listed twice, or the index itself: read once")
        else:
            todo.append(url)

    async def child(url: str) -> _Child:
        etag, modified = known.get(url, (None, None))
        headers = feed.header_map()
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        try:
            fetched = await client.fetch(url, headers, feed.allowed())
        except FetchError as exc:
            return _Child([], (url, None, None), False, f"{url}: {exc.reason}")
        if fetched.status == 304:
            return _Child([], (url, etag, modified), True)
        if fetched.status != 200:
            return _Child([], (url, None, None), False, f"{url}: HTTP {fetched.status}")
        read = await _read(feed, parser, fetched, now, url)
        if isinstance(read, str):
            return _Child([], (url, None, None), False, f"{url}: {read}")
        problem = None
        if read.children:
            problem = f"{url}: a sitemap index listed by a sitemap index: not read (one level only)"
        elif read.problem:
            problem = f"{url}: {_located(read)}"
        return _Child(read.documents, (url, fetched.header("etag"), fetched.header("last-modified")), True, problem)

    children = await asyncio.gather(*(child(url) for url in todo))
    problems += [c.problem for c in children if c.problem]
    if len(urls) > MAX_CHILDREN:
        problems.append(f"{len(urls) - MAX_CHILDREN} more listed sitemaps not read (at most {MAX_CHILDREN})")
    docs = [doc for c in children for doc in c.docs]
    validators = tuple(c.validators for c in children)
    return docs, validators, sum(c.ok for c in children), "; ".join(problems) or None


def _mark_republished(doc: Document, state: FeedState, settings: PollSettings) -> Document:
    """A new entry dated well before the feed's previous successful poll is an old article seen again."""
    if state.last_success is None or doc.published is None or doc.seen is None or doc.published >= doc.seen:
        return doc
    if doc.published.timestamp() < state.last_success - settings.republished_grace.total_seconds():
        return replace(doc, republished=True)
    return doc


def _succeeded(feed: FeedConfig, state: FeedState, fetched: Fetched, ttl: float | None, now: float) -> FeedState:
    if fetched.status == 200:
        # A 200 replaces both validators: a header the server no longer sends must not be replayed.
        state = replace(state, etag=fetched.header("etag"), last_modified=fetched.header("last-modified"))
    interval = None
    next_poll = None
    if feed.auto:
        interval = _auto_interval(feed, state, fetched, ttl, now)
        next_poll = now + interval
    return replace(
        state, last_success=now, last_status=fetched.status, failures=0, backoff=0.0, next_poll=next_poll,
        interval=interval,
    )  # fmt: skip


async def _failed(
    feed: FeedConfig,
    state: FeedState,
    store: Store,
    settings: PollSettings,
    now: float,
    reason: str,
    status: int | None,
    wait: float | None,
) -> PollResult:
    failures = state.failures + 1
    delay = backoff_delay(feed, failures, settings)
    if wait is not None:
        delay = min(settings.max_backoff.total_seconds(), wait)
    interval = state.interval
    if feed.auto and wait is not None:
        interval = min(feed.max_interval.total_seconds(), max(interval or 0.0, wait))
    state = replace(
        state, last_status=status, last_error=reason, last_error_at=now, failures=failures, backoff=delay,
        next_poll=now + delay, interval=interval,
    )  # fmt: skip
    state = _check_stale(feed, state, settings, now)
    await asyncio.to_thread(store.save_feed_state, feed.url, state.to_dict())
    log.warning(
        "feed.failed", feed=feed.name, url=feed.url, status=status, error=reason, failures=failures,
        backoff_s=round(delay, 1),
    )  # fmt: skip
    return PollResult(feed, state, status, error=reason)


def _check_stale(feed: FeedConfig, state: FeedState, settings: PollSettings, now: float) -> FeedState:
    """Log once when a feed has been silent far longer than its cadence (or than a day, when unknown)."""
    since = state.last_new_at or state.first_poll
    if since is None or state.stale:
        return state
    limit = max(settings.stale_minimum.total_seconds(), settings.stale_after * (state.cadence or 0.0))
    if now - since <= limit:
        return state
    log.warning("feed.stale", feed=feed.name, url=feed.url, silent_h=round((now - since) / 3600, 1))
    return replace(state, stale=True)
