"""Stories: which reports belong together, and what each match of a rule raises.

Each new Document joins a story, chosen by the story grouper the Pipeline is given (`base.StoryGrouper`):
`copies` groups near-identical texts (`copies.py`); `events` runs the copy layer and then joins reports
of the same real-world event (`events.py`). For each (rule, story) the first match raises an alert and
later ones inside the rule's `realert` window become its follow-ups (`decisions.py`).

A new grouper is one module with a class that has `name` and `assign`, and one entry in GROUPERS (or a call of
`register_grouper`): its name is then what `stories.grouper` accepts, and `build_grouper` makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import structlog

from monitor.metrics import STORY_MODEL
from monitor.store.base import DEFAULT_SEEN_TTL, Store
from monitor.stories.base import StoryAssignment, StoryGrouper
from monitor.stories.copies import CopyGrouper, item_keys, text_fingerprint
from monitor.stories.decisions import DEFAULT_REALERT, AlertDecision, Decision, alert_id, decide
from monitor.stories.embed import DEFAULT_MODEL, ModelLoadError, load_embedder
from monitor.stories.events import EventGrouper, EventSettings
from monitor.stories.learned import DecisionFileError

log = structlog.get_logger("monitor.stories")

# The name of a grouper: a key of GROUPERS ("copies", "events").
GrouperName = str


@dataclass(frozen=True, slots=True)
class StoriesConfig:
    """The `stories:` section of the config: which grouper, which model, the event layer's constants."""

    grouper: GrouperName = "events"
    model: str = DEFAULT_MODEL
    events: EventSettings = field(default_factory=EventSettings)


# What makes a grouper from the `stories:` section, the store and how long a copy's story is kept.
GrouperFactory = Callable[[StoriesConfig, Store, timedelta], StoryGrouper]


def _copies(config: StoriesConfig, store: Store, copy_ttl: timedelta) -> StoryGrouper:
    return CopyGrouper(store, copy_ttl)


def _events(config: StoriesConfig, store: Store, copy_ttl: timedelta) -> StoryGrouper:
    """The event grouper with the model the config names; without it (logged as one line naming the package,
    `monitor_story_model_loaded` 0) the copy layer alone."""
    try:
        embedder = load_embedder(config.model)
    except ModelLoadError as exc:
        log.error("stories.model_failed", error=str(exc), note="stories join copies only until restarted")
        STORY_MODEL.set(0)
        return EventGrouper(store, None, _rules(config.events), copy_ttl)
    STORY_MODEL.set(1)
    log.info("stories.model_loaded", model=embedder.name)
    try:
        return EventGrouper(store, embedder, config.events, copy_ttl)
    except DecisionFileError as exc:
        log.error("stories.decision_failed", error=str(exc), note="stories are decided by the rules until restarted")
        return EventGrouper(store, embedder, _rules(config.events), copy_ttl)


def _rules(settings: EventSettings) -> EventSettings:
    """The settings with the rules' decision (no model: the learned decision's weights are not needed)."""
    return replace(settings, decision="rules")


# The groupers `stories.grouper` may name, each with what makes it: the config accepts these names and no other.
GROUPERS: dict[GrouperName, GrouperFactory] = {"copies": _copies, "events": _events}


def register_grouper(name: GrouperName, factory: GrouperFactory) -> None:
    """Make a grouper selectable as `stories.grouper: NAME` (a grouper of another package registers itself
    when it is imported)."""
    GROUPERS[name] = factory


def build_grouper(config: StoriesConfig, store: Store, copy_ttl: timedelta = DEFAULT_SEEN_TTL) -> StoryGrouper:
    """The grouper the config names (the config accepts only the names of GROUPERS)."""
    factory = GROUPERS.get(config.grouper)
    if factory is None:
        raise ValueError(f"unknown stories.grouper {config.grouper!r}: one of {', '.join(GROUPERS)}")
    return factory(config, store, copy_ttl)


__all__ = [
    "DEFAULT_REALERT",
    "GROUPERS",
    "AlertDecision",
    "CopyGrouper",
    "Decision",
    "EventGrouper",
    "EventSettings",
    "GrouperFactory",
    "GrouperName",
    "StoriesConfig",
    "StoryAssignment",
    "StoryGrouper",
    "alert_id",
    "build_grouper",
    "decide",
    "item_keys",
    "register_grouper",
    "text_fingerprint",
]
