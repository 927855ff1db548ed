"""Feed entries from claim to hand-over: at-least-once from a feed entry to the outbox.

An entry is claimed under a processing lease when its feed is parsed, and counts as seen only once
its Document was handed over (its alerts are in the outbox, or it was decided to raise none). While
this process works on an entry it renews the lease; a process that dies lets its leases run out, and
its entries are taken up again, by the next poll listing them or by the sweep of expired leases, on
this or another replica. Each hand-off of an entry carries the same `attempt` key, so that a document
processed again gets the same story and alert ids (and the sink drops the copy).

async with Entries(store, "replica-1", EntrySettings()) as entries:
    held = await entries.claim(feed, docs)       # when a feed is parsed: Held, or None if not ours
    with entries.working(held[0]):               # its lease is renewed meanwhile
        ...                                      # page, extraction, pipeline
        await entries.finish(held[0])            # handed over: seen from now on
    await entries.take_expired()                 # the sweep: entries whose holder died, to work on alike
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import TypeVar

import structlog

from monitor.document import Document
from monitor.ingest.feedsfile import FeedConfig
from monitor.metrics import ENTRIES_RETAKEN
from monitor.store.base import DEFAULT_SEEN_TTL, PendingEntry, Store, StoreError
from monitor.store.keys import digest

log = structlog.get_logger("monitor.ingest.entries")

DEFAULT_LEASE = timedelta(seconds=60)
# How long an entry must have waited, over all its holders, before it may be given up: a deploy's crash
# loop or a flapping node kills every holder of every entry in flight, and must lose none of them.
DEFAULT_GIVE_UP_AFTER = timedelta(hours=1)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EntrySettings:
    """How entries are held.

    Args:
        lease: how long an entry stays with its holder without a renewal; after a crash, its entries
            are taken up again within about this long (plus `sweep_every`).
        max_takeovers, give_up_after: an entry taken over more than `max_takeovers` times (every process
            that worked on it died or stalled) is given up, with an error (`entry.abandoned`), once it
            has also waited `give_up_after` since it was first claimed. Processes killed for reasons
            of their own (a crash loop, a node lost) are not told from an entry that kills them by
            their count, only by how long it lasts.
        sweep_every: how often expired leases are looked for; default half the lease.
        sweep_batch: entries taken over per sweep at most.
        seen_ttl: how long a finished entry is remembered.
    """

    lease: timedelta = DEFAULT_LEASE
    max_takeovers: int = 5
    give_up_after: timedelta = DEFAULT_GIVE_UP_AFTER
    sweep_every: timedelta | None = None
    sweep_batch: int = 100
    seen_ttl: timedelta = DEFAULT_SEEN_TTL

    @property
    def sweep_interval(self) -> timedelta:
        return self.sweep_every or max(self.lease / 2, timedelta(seconds=1))


def entry_keys(feed: FeedConfig, doc: Document) -> list[str]:
    """The keys an entry is known by: its canonical URL first, then its GUID (scoped to the feed).

    Prefixed apart from the pipeline's own `url:`/`text:` keys, so that detecting a new entry here
    does not make the pipeline take it for a duplicate.
    """
    keys = []
    if doc.url:
        keys.append(f"entry-url:{doc.url}")
    if doc.guid:
        keys.append(f"entry-guid:{feed.url}:{doc.guid}")
    if not keys:
        keys.append(f"entry-id:{feed.url}:{doc.id}")
    return keys


@dataclass(frozen=True, slots=True)
class Held:
    """An entry this process holds the lease of: what to process and which feed it came from.

    `feed` is the feed's URL; `takeovers` counts how often the entry was taken up again before;
    `pending` is how long (seconds) it has waited since it was first claimed, when it was taken up again.
    """

    keys: tuple[str, ...]
    doc: Document
    feed: str
    takeovers: int = 0
    pending: float = 0.0

    @property
    def attempt(self) -> str:
        """The hand-off key of this entry: the same in every process that ever works on it."""
        return digest(self.keys[0])


class Entries:
    """This process's leases on feed entries: claimed, renewed while held, finished or released.

    Args:
        store: where leases live (shared by the replicas).
        holder: this process's name in the leases (unique per process, also across restarts).
        settings: lease length, takeover limit, sweep.
    """

    def __init__(self, store: Store, holder: str, settings: EntrySettings | None = None) -> None:
        self.store = store
        self.holder = holder
        self.settings = settings or EntrySettings()
        self._held: dict[str, Held] = {}
        self._renewing: asyncio.Task[None] | None = None
        # The leases' own thread: renewals must not queue behind the pipeline's work in the default
        # executor, or a busy process lets the leases of entries it is working on run out.
        self._leases = ThreadPoolExecutor(max_workers=1, thread_name_prefix="entry-leases")

    async def __aenter__(self) -> Entries:
        self._renewing = asyncio.create_task(self._keep_renewing())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop renewing (the leases still held run out: another replica, or the next run, takes them)."""
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
            self._renewing = None

    async def _call(self, function: Callable[..., T], *args: object) -> T:
        """A store call on the leases' thread."""
        return await asyncio.get_running_loop().run_in_executor(self._leases, lambda: function(*args))

    @property
    def working_on(self) -> int:
        """Entries being worked on now."""
        return len(self._held)

    async def claim(self, feed: FeedConfig, docs: Sequence[Document]) -> list[Held | None]:
        """Claim the entries of one poll: for each, the entry held (new, or taken over), or None (seen
        before, or being processed elsewhere). What is held is the caller's to process `working` it,
        then to finish or release."""
        keyed = [(entry_keys(feed, doc), doc) for doc in docs]
        records = [(keys, {"feed": feed.url, "doc": doc.to_record()}) for keys, doc in keyed]
        claims = await self._call(
            self.store.claim_entries, records, self.holder, self.settings.lease, self.settings.seen_ttl
        )
        found: list[Held | None] = []
        for (keys, doc), claim in zip(keyed, claims, strict=True):
            held = Held(tuple(keys), doc, feed.url, claim.takeovers, claim.pending) if claim.held else None
            if held is not None and claim.status == "retaken":
                if held.keys[0] in self._held:  # still worked on here, its lease lapsed: see take_expired
                    log.warning("entry.lease_lapsed", feed=held.feed, url=held.doc.url, doc_id=held.doc.id)
                    held = None
                else:
                    _retaken(held, claim.previous, "poll")
            found.append(held)
        return found

    @contextlib.contextmanager
    def working(self, held: Held) -> Iterator[None]:
        """Renew the entry's lease while the block runs (a held entry nobody works on lets it run out)."""
        self._held[held.keys[0]] = held
        try:
            yield
        finally:
            if self._held.get(held.keys[0]) is held:  # not already taken up again here, once released
                del self._held[held.keys[0]]

    async def finish(self, held: Held) -> None:
        """The entry was handed over: seen under each of its keys from now on."""
        await self._call(self.store.finish_entries, [held.keys], self.settings.seen_ttl)

    async def release(self, held: Held) -> None:
        """The entry was not handed over: give its lease back, so that it is taken up again at once."""
        # Renewed no more: a renewal sent after this call would lease it to this process again for a whole
        # lease (the leases' thread runs the calls in the order they are sent).
        if self._held.get(held.keys[0]) is held:
            del self._held[held.keys[0]]
        await self._call(self.store.release_entries, [held.keys[0]], self.holder)

    async def take_expired(self) -> list[Held]:
        """Take over the entries whose holders let their leases run out; those taken over too often for
        too long are given up (finished, with an error)."""
        pending = await self._call(
            self.store.take_expired_entries, self.holder, self.settings.lease, self.settings.sweep_batch
        )
        taken: list[Held] = []
        for entry in pending:
            held = _held_of(entry)
            if held is None:
                log.error("entry.abandoned", keys=list(entry.keys), reason="its record cannot be read")
                ENTRIES_RETAKEN.labels("abandoned").inc()
                await self._call(self.store.finish_entries, [entry.keys], self.settings.seen_ttl)
                continue
            if held.keys[0] in self._held:
                # Still being worked on here (this process was too busy to renew in time): the sweep
                # just gave the lease back to its holder; a second processing would be one too many.
                log.warning("entry.lease_lapsed", feed=held.feed, url=held.doc.url, doc_id=held.doc.id)
                continue
            if self._give_up(held):
                log.error(
                    "entry.abandoned", feed=held.feed, url=held.doc.url, doc_id=held.doc.id,
                    takeovers=held.takeovers, pending_s=round(held.pending),
                    reason="every process that took it up died or stalled on it",
                )  # fmt: skip
                ENTRIES_RETAKEN.labels("abandoned").inc()
                await self._call(self.store.finish_entries, [held.keys], self.settings.seen_ttl)
                continue
            _retaken(held, entry.previous, "sweep")
            taken.append(held)
        return taken

    def _give_up(self, held: Held) -> bool:
        """Taken over too often, and for long enough that its holders' deaths are not a passing crash loop."""
        return (
            held.takeovers > self.settings.max_takeovers and held.pending >= self.settings.give_up_after.total_seconds()
        )

    async def renew(self) -> None:
        """Extend the leases of every entry being worked on; one lost meanwhile (taken over) is logged."""
        held = list(self._held.values())
        if not held:
            return
        kept = await self._call(self.store.renew_entries, [h.keys[0] for h in held], self.holder, self.settings.lease)
        for entry, ok in zip(held, kept, strict=True):
            if not ok and entry.keys[0] in self._held:
                log.warning("entry.lease_lost", feed=entry.feed, url=entry.doc.url, doc_id=entry.doc.id)

    async def _keep_renewing(self) -> None:
        every = self.settings.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.renew()
            except StoreError as exc:  # the store is down: leases may run out; the next renewal tries again
                log.error("entry.renew_failed", held=len(self._held), error=str(exc))


def _held_of(entry: PendingEntry) -> Held | None:
    try:
        doc = Document.from_record(dict(entry.record["doc"]))
        feed = str(entry.record["feed"])
    except (KeyError, TypeError, ValueError):
        return None
    return Held(entry.keys, doc, feed, entry.takeovers, entry.pending)


def _retaken(held: Held, previous: str | None, by: str) -> None:
    log.warning(
        "entry.retaken", feed=held.feed, url=held.doc.url, doc_id=held.doc.id, previous=previous,
        takeovers=held.takeovers, by=by,
    )  # fmt: skip
    ENTRIES_RETAKEN.labels("retried").inc()
