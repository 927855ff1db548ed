"""What every story grouper provides: a Document in, the story it joined out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitor.document import Document
from monitor.rules.matcher import Match


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """The story a Document joined: new (it is the first report) or an existing one, and how similar."""

    story_id: str
    new: bool
    jaccard: float = 1.0


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
