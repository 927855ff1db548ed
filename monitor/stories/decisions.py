"""Alert decisions: for each (rule, story) the first match raises an alert, later ones within the
rule's `realert` window are its follow-ups."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from monitor.document import Document
from monitor.rules.matcher import Match
from monitor.store.base import Store
from monitor.stories.base import StoryAssignment

DEFAULT_REALERT = timedelta(hours=24)

Decision = Literal["new", "follow-up", "suppressed"]


@dataclass(frozen=True, slots=True)
class AlertDecision:
    """What the service does with one match: raise an alert, add a follow-up to one, or nothing."""

    decision: Decision
    rule: str
    doc_id: str
    story_id: str
    alert_id: str
    parent: str | None = None


def alert_id(rule: str, story_id: str, doc_id: str) -> str:
    """A stable id for the alert (or follow-up) of this rule, story and document: the idempotency key."""
    return hashlib.sha256(f"{rule}\x1f{story_id}\x1f{doc_id}".encode()).hexdigest()[:20]


def decide(
    store: Store,
    matches: Sequence[Match],
    doc: Document,
    story: StoryAssignment | None,
    default_realert: timedelta = DEFAULT_REALERT,
) -> list[AlertDecision]:
    """One decision per match; `story=None` means the document was a duplicate: suppressed."""
    decisions = []
    for match in matches:
        rule = match.rule.id
        if story is None:
            decisions.append(AlertDecision("suppressed", rule, doc.id, "", ""))
            continue
        new_id = alert_id(rule, story.story_id, doc.id)
        window = match.rule.alert.realert or default_realert
        parent = store.mark_alert(rule, story.story_id, new_id, window)
        # Our own mark (this document retried after a failure) is still a new alert.
        if parent is None or parent == new_id:
            decisions.append(AlertDecision("new", rule, doc.id, story.story_id, new_id))
        else:
            decisions.append(AlertDecision("follow-up", rule, doc.id, story.story_id, new_id, parent))
    return decisions
