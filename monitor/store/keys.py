"""Every Redis key name, built in one place under a configurable prefix.

Caller-supplied keys (URLs, GUIDs) are hashed, so key length is bounded and no
caller text is interpreted as a Redis hash tag. No operation needs two keys in one
slot, so the layout works unchanged on Redis Cluster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_PREFIX = "monitor:"
OUTBOX_GROUP = "notifiers"


def digest(text: str) -> str:
    """A short, stable digest of caller text, for use inside key names."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def seen(self, key: str) -> str:
        return f"{self.prefix}seen:{digest(key)}"

    def entry(self, key: str) -> str:
        """A feed entry's processing state under one of its keys (a hash: state, holder, lease, record)."""
        return self.entry_by_digest(digest(key))

    def entry_by_digest(self, hashed: str) -> str:
        return f"{self.prefix}entry:{hashed}"

    @property
    def pending_entries(self) -> str:
        """The sorted set of leased entries (digest of their first key) by lease expiry, for the sweep."""
        return f"{self.prefix}entries:pending"

    def feed(self, feed: str) -> str:
        return f"{self.prefix}feed:{digest(feed)}"

    @property
    def feeds(self) -> str:
        """The hash of feed URL -> state key, so that every feed's state can be listed."""
        return f"{self.prefix}feeds"

    def band(self, band: str) -> str:
        return f"{self.prefix}lsh:{band}"

    def signature(self, story_id: str) -> str:
        return f"{self.prefix}story:{story_id}:sig"

    @property
    def event_index(self) -> str:
        """The sorted set of report id -> time of the event layer's reports."""
        return f"{self.prefix}events"

    def event_report(self, report_id: str) -> str:
        return f"{self.prefix}event:{digest(report_id)}"

    def alerted(self, rule: str, story: str) -> str:
        return f"{self.prefix}alerted:{rule}:{story}"

    def lease(self, name: str) -> str:
        return f"{self.prefix}lease:{digest(name)}"

    @property
    def outbox(self) -> str:
        """The outbox stream, read by the consumer group OUTBOX_GROUP."""
        return f"{self.prefix}outbox"

    def receipt(self, key: str) -> str:
        return f"{self.prefix}receipt:{digest(key)}"

    def digest(self, bucket: str) -> str:
        return f"{self.prefix}digest:{digest(bucket)}"

    @property
    def digests(self) -> str:
        """The hash of bucket name -> key of every digest bucket holding alerts."""
        return f"{self.prefix}digests"

    @property
    def dead(self) -> str:
        """Dead letters: a stream, so that they keep their order and an id each."""
        return f"{self.prefix}dead"
