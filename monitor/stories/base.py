"""What every story grouper provides: a Document in, the story it joined out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.document import Document
from monitor.rules.matcher import Match


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """The story a Document joined: new (it is the first report) or an existing one, and why.

    Attributes:
        jaccard: the estimated Jaccard similarity with the copy it joined (1.0 when new).
        via: how it was decided: "new", "copy" (a near-duplicate), "event" (another report of the
            same event), "retry" (the story this document was given by an earlier try).
        score: the event layer's score against the story it joined (0.0 when not joined by event).
        development: for a document joining an open story, what it brings that the story's earlier
            reports did not ("marked as an update", "new figure 3", "new voice Kiper"), else None.
    """

    story_id: str
    new: bool
    jaccard: float = 1.0
    via: str = "new"
    score: float = 0.0
    development: str | None = None


class StoryGrouper(Protocol):
    """Puts a new Document into a story: an open one it belongs to, else a story of its own.

    The Pipeline calls `assign` once for each Document that is not a duplicate, and again with the
    same Document when a hand-off is retried after a store failure: a retried Document must get the
    story it got the first time (its story id names its alerts).
    """

    name: str

    def assign(self, doc: Document, matches: Sequence[Match]) -> StoryAssignment:
        """The story of `doc`; `matches` are the rules it matched (a grouper may skip costly work without)."""
        ...
