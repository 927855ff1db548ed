"""Stories: which reports belong together, and what each match of a rule raises.

Each new Document joins a story, chosen by the story grouper the Pipeline is given (`base.StoryGrouper`):
`copies` groups near-identical texts (`copies.py`); `events` runs the copy layer and then joins reports
of the same real-world event (`events.py`). For each (rule, story) the first match raises an alert and
later ones inside the rule's `realert` window become its follow-ups (`decisions.py`).

A new grouper is one module with a class that has `name` and `assign`, and one case in `build_grouper`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, assert_never

import structlog

from monitor.metrics import STORY_MODEL
from monitor.store.base import DEFAULT_SEEN_TTL, Store
from monitor.stories.base import StoryAssignment, StoryGrouper
from monitor.stories.copies import CopyGrouper, item_keys, text_fingerprint
from monitor.stories.decisions import DEFAULT_REALERT, AlertDecision, Decision, alert_id, decide
from monitor.stories.embed import DEFAULT_MODEL, ModelLoadError, load_embedder
from monitor.stories.events import EventGrouper, EventSettings

log = structlog.get_logger("monitor.stories")

GrouperName = Literal["copies", "events"]
GROUPERS: tuple[GrouperName, ...] = ("copies", "events")


@dataclass(frozen=True, slots=True)
class StoriesConfig:
    """The `stories:` section of the config: which grouper, which model, the event layer's constants."""

    grouper: GrouperName = "events"
    model: str = DEFAULT_MODEL
    events: EventSettings = field(default_factory=EventSettings)


def build_grouper(config: StoriesConfig, store: Store, copy_ttl: timedelta = DEFAULT_SEEN_TTL) -> StoryGrouper:
    """The grouper the config names. A model that fails to load is logged (one line naming the package)
    and the event grouper runs on with the copy layer alone; `monitor_story_model_loaded` says which."""
    match config.grouper:
        case "copies":
            return CopyGrouper(store, copy_ttl)
        case "events":
            try:
                embedder = load_embedder(config.model)
            except ModelLoadError as exc:
                log.error("stories.model_failed", error=str(exc), note="stories join copies only until restarted")
                STORY_MODEL.set(0)
                return EventGrouper(store, None, config.events, copy_ttl)
            STORY_MODEL.set(1)
            log.info("stories.model_loaded", model=embedder.name)
            return EventGrouper(store, embedder, config.events, copy_ttl)
        case unknown:
            assert_never(unknown)


__all__ = [
    "DEFAULT_REALERT",
    "GROUPERS",
    "AlertDecision",
    "CopyGrouper",
    "Decision",
    "EventGrouper",
    "EventSettings",
    "GrouperName",
    "StoriesConfig",
    "StoryAssignment",
    "StoryGrouper",
    "alert_id",
    "build_grouper",
    "decide",
    "item_keys",
    "text_fingerprint",
]
