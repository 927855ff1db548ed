"""The stages after extraction, wired once: dedupe -> match -> story -> alert decisions.

Replay runs it on files with a throwaway store; the service runs it on what it polls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.document import Document
from monitor.rules.matcher import Match, Matcher
from monitor.store.base import DEFAULT_SEEN_TTL, Store
from monitor.stories import DEFAULT_REALERT, AlertDecision, Stories, StoryAssignment, decide, item_keys


@dataclass(frozen=True, slots=True)
class Processed:
    """What the pipeline made of one Document."""

    doc: Document
    matches: list[Match]
    duplicate: bool
    story: StoryAssignment | None
    decisions: list[AlertDecision] = field(default_factory=list)


class Pipeline:
    """Dedupe, match, group into stories, decide alerts.

    Args:
        matcher: the compiled rules; replaced whole on reload (`pipeline.matcher = new`).
        store: where seen items, stories and alert marks live.
        seen_ttl: how long an item is remembered as seen.
        default_realert: the realert window of rules that set none.
    """

    def __init__(
        self,
        matcher: Matcher,
        store: Store,
        seen_ttl: timedelta = DEFAULT_SEEN_TTL,
        default_realert: timedelta = DEFAULT_REALERT,
    ) -> None:
        self.matcher = matcher
        self.store = store
        self.stories = Stories(store, seen_ttl)
        self.seen_ttl = seen_ttl
        self.default_realert = default_realert

    def process(self, doc: Document, attempt: str | None = None) -> Processed:
        """Run the stages on one Document.

        `attempt` names one hand-off of the document: pass the same value when retrying after a
        store failure part-way, so that the document's own marks do not make it a duplicate.
        """
        matcher = self.matcher  # one matcher for the whole document, even if a reload swaps it
        owner = attempt or uuid.uuid4().hex
        new = self.store.claim([item_keys(doc)], self.seen_ttl, owners=[owner])[0]
        matches = matcher.match(doc)
        if not new:
            return Processed(doc, matches, True, None, decide(self.store, matches, doc, None))
        story = self.stories.assign(doc)
        return Processed(doc, matches, False, story, decide(self.store, matches, doc, story, self.default_realert))
