"""The store interface: everything the service keeps between polls, restarts and replicas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from monitor.errors import MonitorError

DEFAULT_SEEN_TTL = timedelta(days=30)


class StoreError(MonitorError):
    """The store could not be reached or used; the message names it (never its password)."""


class Store(Protocol):
    """What every store implementation provides. All check-and-set operations are atomic.

    Keys given to the store are opaque strings chosen by the caller (a canonical URL, a
    GUID, a text fingerprint); the store bounds and prefixes them itself.
    """

    description: str

    def ping(self) -> None:
        """Raise StoreError if the store cannot be used right now."""

    def close(self) -> None: ...

    # Seen items --------------------------------------------------------------------------------

    def claim(self, items: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> list[bool]:
        """For each item (its keys, the first one deciding), mark it seen; True if it was new.

        An item is new when none of its keys was seen before. When several processes claim
        the same first key at once, exactly one of them gets True.
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

    # Alert marks -------------------------------------------------------------------------------

    def mark_alert(self, rule: str, story: str, alert_id: str, window: timedelta) -> str | None:
        """Record `alert_id` as the alert of (rule, story) for `window`, unless one is in force.

        Returns None when this call set the mark (raise a new alert), else the alert id in force.
        """
        ...
