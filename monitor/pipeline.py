"""The document stage, wired once: dedupe -> match -> story -> alert decisions -> hand-off to the outbox.

Replay runs it on files with a throwaway store; the service runs it on what it polls (in worker
threads), with a hand-off to the outbox and retries while the store is unavailable.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import structlog

from monitor.document import Document
from monitor.errors import MonitorError
from monitor.language import detect_language
from monitor.metrics import ALERTS, DOCUMENTS, MATCHES
from monitor.rules.matcher import Match, Matcher
from monitor.store.base import DEFAULT_SEEN_TTL, Store, StoreError
from monitor.stories import (
    DEFAULT_REALERT,
    AlertDecision,
    CopyGrouper,
    StoryAssignment,
    StoryGrouper,
    decide,
    item_keys,
)

log = structlog.get_logger("monitor.pipeline")

STORE_RETRY_FIRST = 0.5
STORE_RETRY_MAX = 30.0


class DocumentDropped(MonitorError):
    """The store failed and the service is stopping: the document was not handed over (it is not lost:
    its feed entry is not marked done, so a replica or the next run takes it again)."""


@dataclass(frozen=True, slots=True)
class Processed:
    """What the pipeline made of one Document."""

    doc: Document
    matches: list[Match]
    duplicate: bool
    story: StoryAssignment | None
    decisions: list[AlertDecision] = field(default_factory=list)


class Pipeline:
    """Dedupe, match, group into stories, decide alerts, hand the result over.

    Args:
        matcher: the compiled rules; replaced whole on reload (`pipeline.matcher = new`).
        store: where seen items, stories and alert marks live.
        grouper: puts each new Document into a story (default: the copies grouper on `store`).
        handoff: called with each result once its decisions are made (the service: append its
            alerts to the outbox); None for replay, which only looks at the results.
        seen_ttl: how long an item is remembered as seen.
        default_realert: the realert window of rules that set none.
        stopping: set when the service stops. With it, a store failure is retried (with backoff)
            until the store answers or it is set; without it, the StoreError is raised at once.
    """

    def __init__(
        self,
        matcher: Matcher,
        store: Store,
        grouper: StoryGrouper | None = None,
        *,
        handoff: Callable[[Processed], object] | None = None,
        seen_ttl: timedelta = DEFAULT_SEEN_TTL,
        default_realert: timedelta = DEFAULT_REALERT,
        stopping: threading.Event | None = None,
    ) -> None:
        self.matcher = matcher
        self.store = store
        self.grouper: StoryGrouper = grouper if grouper is not None else CopyGrouper(store, seen_ttl)
        self.handoff = handoff
        self.seen_ttl = seen_ttl
        self.default_realert = default_realert
        self.stopping = stopping

    def process(self, doc: Document, attempt: str | None = None) -> Processed:
        """Run the stages on one Document and hand the result over; returns once it is handed over.

        `attempt` names one hand-off of the document and must stay the same when the same hand-off is
        tried again (after a crash, on another replica): the document's own marks then do not make it a
        duplicate, and it gets the same story and the same alert ids. None: a fresh one.

        Raises DocumentDropped when the store fails while the service is stopping, and StoreError
        at once when the pipeline was made without `stopping`.
        """
        key = attempt or uuid.uuid4().hex
        if doc.language is None:
            # Once, here, so that matching, stories and alerts all see the same language.
            doc = replace(doc, language=detect_language(doc.title, doc.text))
        delay = STORE_RETRY_FIRST
        while True:
            try:
                processed = self._stages(doc, key)
                if self.handoff is not None:
                    self.handoff(processed)
                break
            except StoreError as exc:
                if self.stopping is None:
                    raise
                if self.stopping.is_set():
                    log.error("document.dropped", doc_id=doc.id, url=doc.url, error=str(exc))
                    raise DocumentDropped(f"{doc.url or doc.id}: not handed over: {exc}") from exc
                log.error("store.unavailable", doc_id=doc.id, url=doc.url, error=str(exc), retry_in_s=delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, STORE_RETRY_MAX)
        _count(processed)
        log.info(
            "document.processed",
            doc_id=doc.id,
            url=doc.url,
            feed=doc.source,
            story_id=processed.story.story_id if processed.story else None,
            duplicate=processed.duplicate,
            rules=[m.rule.id for m in processed.matches],
        )
        return processed

    def _stages(self, doc: Document, attempt: str) -> Processed:
        matcher = self.matcher  # one matcher for the whole document, even if a reload swaps it
        new = self.store.claim([item_keys(doc)], self.seen_ttl, owners=[attempt])[0]
        matches = matcher.match(doc)
        if not new:
            return Processed(doc, matches, True, None, decide(self.store, matches, doc, None))
        story = self.grouper.assign(doc, matches)
        return Processed(doc, matches, False, story, decide(self.store, matches, doc, story, self.default_realert))


def _count(processed: Processed) -> None:
    DOCUMENTS.labels("duplicate" if processed.duplicate else "new").inc()
    for match in processed.matches:
        MATCHES.labels(match.rule.id).inc()
    for decision in processed.decisions:
        ALERTS.labels(decision.decision).inc()
