"""The store interface: everything the service keeps between polls, restarts and replicas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol

from monitor.errors import MonitorError
from monitor.store.feedback import FeedbackStore

DEFAULT_SEEN_TTL = timedelta(days=30)


class StoreError(MonitorError):
    """The store could not be reached or used; the message names it (never its password)."""


class StoreURLError(StoreError):
    """The store's URL itself is wrong (no master name, a port that is not a number): retrying cannot help."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An alert waiting in the outbox: its outbox id, its payload, and how often it was handed out."""

    id: str
    payload: dict[str, Any]
    deliveries: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An alert that can never be delivered as it is, and why."""

    id: str
    payload: dict[str, Any]
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One report's record of the event layer as the store keeps it."""

    report_id: str
    at: float  # the report's time (epoch seconds), by which the index orders and bounds reports
    record: bytes
    expires: float  # when the store drops the record (epoch seconds)


@dataclass(frozen=True, slots=True)
class EventReports:
    """What a replica reads of the event layer's state: the reports added since its last read, or all.

    Attributes:
        records: oldest added first.
        position: where the next read starts (pass it to `event_reports_since`).
        everything: whether these are every report kept (the first read, or a reader so far behind that
            the store no longer knows what was added since): the reader forgets the reports it had.
    """

    records: list[EventRecord]
    position: str
    everything: bool


# The lease under which a replica decides a report's story and records it (`EventState.event_lease`).
EVENT_LEASE = "stories:events"


class EventState(Protocol):
    """Story state of the event layer: one record per report (its story, names, embedding, time).

    Records are written once and never changed; they expire after their TTL, and the index keeps at
    most `cap` of them (the latest by time), so the state stays bounded however much is reported. The
    store also logs the order in which reports were added, so that a replica reads only the new ones.
    """

    def event_report_ids(self, since: float, until: float, limit: int) -> list[str]:
        """The reports timed within [since, until] (epoch seconds), latest first, at most `limit`."""
        ...

    def event_reports_since(self, position: str | None) -> EventReports:
        """The reports added after `position` (a position an earlier read returned), with their records;
        every report kept when `position` is None or the log no longer reaches back to it."""
        ...

    def event_lease(self, holder: str, ttl: timedelta, position: str | None) -> EventReports | None:
        """Take the lease EVENT_LEASE for `holder` (for `ttl`, unless another holder has it) and, if it is
        taken, the reports added since `position` (as `event_reports_since`), in one round trip; None
        when another holder has the lease."""
        ...

    def event_report(self, report_id: str) -> bytes | None:
        """One report's record, if it is still kept."""
        ...

    def add_event_report(
        self, report_id: str, at: float, record: bytes, ttl: timedelta, cap: int, release: str | None = None
    ) -> None:
        """Keep a report's record, timed `at`, for `ttl`; the latest `cap` reports are kept, older ones
        (and those older than `ttl` before the latest) dropped. A reader that applies the same rules to
        what it has read (`monitor.stories.window`) has the store's reports without asking for them.
        With `release`, the lease EVENT_LEASE is then given back if that holder has it (in one round trip)."""
        ...


ClaimStatus = Literal["new", "retaken", "seen", "busy"]


@dataclass(frozen=True, slots=True)
class EntryClaim:
    """What claiming one feed entry for processing found.

    Attributes:
        status: "new" (never seen: the caller holds its lease now), "retaken" (a holder let its lease
            expire before finishing: the caller holds it now), "seen" (finished before), "busy" (another
            holder's lease is in force).
        takeovers: how often the entry's lease has been taken over (retaken) so far.
        previous: the holder the lease was taken from, for "retaken" and "busy".
        pending: seconds since the entry was first claimed, for "retaken" (by the store's clock).
    """

    status: ClaimStatus
    takeovers: int = 0
    previous: str | None = None
    pending: float = 0.0

    @property
    def held(self) -> bool:
        """The caller holds the entry's lease: it is to be processed."""
        return self.status in ("new", "retaken")


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An entry whose holder let its lease expire, taken over by the caller: its keys and what it was.

    `pending` is how long ago (seconds, by the store's clock) the entry was first claimed: how long it
    has been waiting to be finished, across all its holders.
    """

    keys: tuple[str, ...]
    record: dict[str, Any]
    takeovers: int
    previous: str | None
    pending: float = 0.0


class EntryLeases(Protocol):
    """Processing leases on feed entries: an entry counts as seen only once it is finished.

    An entry is named by its keys (its canonical URL, its GUID...); the first decides, the others
    only say "seen" when an entry finished under them. A claimed entry is held under a lease that its
    holder renews while it works; one whose lease ran out (the holder died) is taken over by the next
    claim of it, or by `take_expired_entries`, with its record (what the holder stored to redo it).
    """

    def claim_entries(
        self,
        entries: Sequence[tuple[Sequence[str], Mapping[str, Any]]],
        holder: str,
        lease: timedelta,
        ttl: timedelta = DEFAULT_SEEN_TTL,
    ) -> list[EntryClaim]:
        """Claim each (keys, record) for `holder` for `lease`; the record is kept until it is finished,
        and so is the time of the first claim (a claim that takes an entry over keeps it).

        Atomic per entry: of several holders claiming one entry at once, one gets "new" (or "retaken").
        Everything is kept for `ttl` at most.
        """
        ...

    def renew_entries(self, firsts: Sequence[str], holder: str, lease: timedelta) -> list[bool]:
        """Extend `holder`'s leases on these entries (by first key); False where it no longer holds one."""
        ...

    def finish_entries(self, entries: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        """These entries (their keys) are done: seen under every key for `ttl`, their records dropped."""
        ...

    def release_entries(self, firsts: Sequence[str], holder: str) -> None:
        """Give `holder`'s leases back unfinished: the entries are taken up again at once."""
        ...

    def take_expired_entries(self, holder: str, lease: timedelta, count: int) -> list[PendingEntry]:
        """Take over up to `count` entries whose leases ran out, oldest expiry first."""
        ...


class ParagraphMarks(Protocol):
    """Which item of a source had each paragraph first, and which paragraphs each item had: how site
    furniture (text that recurs across a source's items) is told from an item's own text.

    Paragraphs are digests chosen by the caller. A paragraph's mark lasts `ttl` from the last item that
    had it (furniture that keeps recurring stays known); an item's record lasts `ttl` from when it was made.
    """

    def mark_paragraphs(self, source: str, item: str, paragraphs: Sequence[str], ttl: timedelta) -> list[str]:
        """Record that `item` of `source` has these paragraphs; for each, the item that had it first
        (`item` itself when no other item did: a retried item finds its own marks)."""
        ...

    def item_paragraphs(self, source: str, items: Sequence[str]) -> dict[str, list[str]]:
        """The paragraphs recorded for these items of `source` (an item whose record expired is left out)."""
        ...


class Store(EventState, EntryLeases, ParagraphMarks, FeedbackStore, Protocol):
    """What every store implementation provides. All check-and-set operations are atomic.

    Roles beyond the core: FeedbackStore (monitor/store/feedback.py).

    Keys given to the store are opaque strings chosen by the caller (a canonical URL, a
    GUID, a text fingerprint); the store bounds and prefixes them itself.
    """

    description: str
    # Shared by several processes (replicas): what one leaves in the outbox, another delivers.
    shared: bool

    def ping(self) -> None:
        """Raise StoreError if the store cannot be used right now."""

    def close(self) -> None: ...

    # Seen items --------------------------------------------------------------------------------

    def claim(
        self,
        items: Sequence[Sequence[str]],
        ttl: timedelta = DEFAULT_SEEN_TTL,
        owners: Sequence[str] | None = None,
    ) -> list[bool]:
        """For each item (its keys, the first one deciding), mark it seen; True if it was new.

        An item is new when none of its keys was seen before. When several processes claim
        the same first key at once, exactly one of them gets True. With `owners` (one per
        item, e.g. the document id), a key already marked by the same owner counts as unseen,
        so that retrying an item after a failure part-way finds it new again.
        """
        ...

    # Per-feed state ----------------------------------------------------------------------------

    def feed_state(self, feed: str) -> dict[str, Any] | None:
        """The state saved for this feed (ETag, Last-Modified, failures, next poll...), if any."""
        ...

    def save_feed_state(self, feed: str, state: Mapping[str, Any]) -> None: ...

    def all_feed_states(self) -> dict[str, dict[str, Any]]: ...

    # Stories -----------------------------------------------------------------------------------

    def story_candidates(self, bands: Sequence[str]) -> dict[str, int]:
        """Stories sharing at least one LSH band with these, with how many bands they share."""
        ...

    def story_signatures(self, story_ids: Sequence[str]) -> dict[str, bytes]: ...

    def add_to_story(
        self, story_id: str, bands: Sequence[str], signature: bytes | None, ttl: timedelta = DEFAULT_SEEN_TTL
    ) -> None:
        """Index these bands under the story; `signature` is kept when the story is new."""
        ...

    def add_to_story_and_lease(
        self,
        story_id: str,
        bands: Sequence[str],
        signature: bytes | None,
        ttl: timedelta,
        holder: str,
        lease_ttl: timedelta,
        position: str | None,
    ) -> EventReports | None:
        """`add_to_story`, then `event_lease(holder, lease_ttl, position)`, in one round trip: the event layer
        takes its lease with the copy layer's write (None when another holder has the lease)."""
        ...

    # Alert marks -------------------------------------------------------------------------------

    def mark_alert(self, rule: str, story: str, alert_id: str, window: timedelta) -> str | None:
        """Record `alert_id` as the alert of (rule, story) for `window`, unless one is in force.

        Returns None when this call set the mark (raise a new alert), else the alert id in force.
        """
        ...

    # Leases: one replica at a time does a piece of work ---------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the lease `name` for `ttl` unless another holder has it; True if `holder` has it now.

        A holder that dies simply lets its lease expire.
        """
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease back early, if `holder` still has it."""
        ...

    # Outbox: at-least-once delivery, made idempotent at the sink by delivery receipts -----------

    def outbox_add(self, payloads: Sequence[Mapping[str, Any]]) -> list[str]:
        """Append alerts to the durable outbox, in order; returns their outbox ids."""
        ...

    def outbox_take(self, consumer: str, count: int, idle: timedelta) -> list[OutboxEntry]:
        """Hand out up to `count` alerts to `consumer`, oldest first.

        First the consumer's own unacknowledged alerts (after a restart, or a failed
        attempt), then alerts another consumer has held unacknowledged for `idle`
        (a dead replica's), then new ones. An alert stays in the outbox until acked.
        """
        ...

    def outbox_ack(self, ids: Sequence[str]) -> None:
        """These alerts are done (delivered, or dead-lettered): remove them from the outbox."""
        ...

    def outbox_depth(self) -> tuple[int, float | None]:
        """How many alerts wait in the outbox, and the age in seconds of the oldest (None if empty)."""
        ...

    def receipt(self, key: str) -> str | None:
        """The receipt stored for an idempotency key (e.g. the Slack message ts), if any."""
        ...

    def save_receipt(self, key: str, receipt: str, ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        """Store the receipt of a delivered alert; kept for `ttl`."""
        ...

    def digest_add(self, bucket: str, member: str, payload: Mapping[str, Any]) -> None:
        """Add (or replace) one alert in a digest bucket; atomic, so replicas adding at once lose nothing."""
        ...

    def digest_buckets(self) -> list[str]:
        """Every bucket holding alerts."""
        ...

    def digest_items(self, bucket: str) -> dict[str, dict[str, Any]]:
        """The alerts of a bucket, by member."""
        ...

    def digest_remove(self, bucket: str, members: Sequence[str]) -> None:
        """Forget delivered alerts; a bucket left empty disappears."""
        ...

    def dead_add(self, payload: Mapping[str, Any], reason: str) -> str:
        """Keep an undeliverable alert with the reason; returns its id."""
        ...

    def dead_list(self) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        ...

    def dead_count(self) -> int:
        """How many dead letters there are (without reading them: the metrics ask at every scrape)."""
        ...

    def dead_remove(self, ids: Sequence[str]) -> None: ...
