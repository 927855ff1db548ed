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

    @property
    def event_log(self) -> str:
        """The stream of the event layer's reports in the order they were added (id, time, record, expiry)."""
        return f"{self.prefix}events:log"

    def paragraph(self, source: str, paragraph: str) -> str:
        """The mark of a paragraph of a source's items: the item that had it first."""
        return f"{self.prefix}para:{digest(source)}:{paragraph}"

    def item_paragraphs(self, source: str, item: str) -> str:
        return f"{self.prefix}paras:{digest(source)}:{digest(item)}"

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

    # Feedback from Slack (monitor/store/feedback.py) ------------------------------------------

    def fb_alert(self, alert_id: str) -> str:
        """What a click on this alert needs (its id comes back from Slack: hashed, never trusted)."""
        return f"{self.prefix}fb:alert:{digest(alert_id)}"

    def fb_raised(self, rule: str) -> str:
        """A sorted set of the rule's alert ids by the time they were raised."""
        return f"{self.prefix}fb:raised:{digest(rule)}"

    @property
    def fb_raised_rules(self) -> str:
        """The hash of rule -> time of its last alert, so that every rule's tally can be found."""
        return f"{self.prefix}fb:raised-rules"

    def fb_mute(self, story: str, channel: str) -> str:
        return f"{self.prefix}fb:mute:{digest(story + chr(31) + channel)}"

    def fb_snooze(self, rule: str, channel: str) -> str:
        return f"{self.prefix}fb:snooze:{digest(rule + chr(31) + channel)}"

    def fb_held(self, record_key: str) -> str:
        """The set of alert ids a mute or snooze (named by its key) held back."""
        return f"{record_key}:held"

    @property
    def fb_mutes(self) -> str:
        """The hash of story+channel -> end of every mute, for listings."""
        return f"{self.prefix}fb:mutes"

    @property
    def fb_snoozes(self) -> str:
        return f"{self.prefix}fb:snoozes"

    def fb_mark(self, rule: str, doc_id: str) -> str:
        return f"{self.prefix}fb:mark:{digest(rule + chr(31) + doc_id)}"

    def fb_mark_by(self, rule: str, doc_id: str) -> str:
        """The hash of user id -> who and when, of one mark."""
        return f"{self.prefix}fb:mark:{digest(rule + chr(31) + doc_id)}:by"

    @property
    def fb_marks(self) -> str:
        """The sorted set of rule+doc of every mark, by the time it was first made."""
        return f"{self.prefix}fb:marks"
