"""A grouper of one's own: one class and one registration, then selectable from the config like the shipped ones."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.document import Document
from monitor.errors import ConfigFileError
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Match, Matcher
from monitor.store import SQLiteStore, Store
from monitor.stories import GROUPERS, StoriesConfig, StoryAssignment, build_grouper, register_grouper
from tests.conftest import RULES, SEEDS


class BySource:
    """A grouper written in this test module: one story per source, whatever the text."""

    name = "by-source"

    def __init__(self) -> None:
        self.first: dict[str, str] = {}
        self.asked: list[str] = []

    def assign(self, doc: Document, matches: Sequence[Match]) -> StoryAssignment:
        self.asked.append(doc.id)
        story = self.first.setdefault(doc.source or "", doc.id)
        return StoryAssignment(story, story == doc.id, via="source")


def _by_source(config: StoriesConfig, store: Store, copy_ttl: timedelta) -> BySource:
    return BySource()


@pytest.fixture
def registered() -> Iterator[None]:
    register_grouper("by-source", _by_source)
    yield
    del GROUPERS["by-source"]


def test_a_grouper_registered_once_is_chosen_in_the_config_and_groups_the_pipelines_documents(
    registered: None, tmp_path: Path
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds: []\nstories:\n  grouper: by-source\n", encoding="utf-8")
    config = load_config(path, env={})
    assert config.stories.grouper == "by-source"
    store = SQLiteStore(":memory:")
    grouper = build_grouper(config.stories, store)
    assert isinstance(grouper, BySource)
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store, grouper)
    docs = []
    for seed, source in zip(sorted(SEEDS.glob("00*.txt"))[:3], ("one", "one", "two"), strict=True):
        title, text = seed.read_text(encoding="utf-8").split("\n", 1)
        docs.append(Document(id=seed.stem, title=title, text=text, source=source))
    results = [pipeline.process(doc) for doc in docs]
    assert grouper.asked == [doc.id for doc in docs]
    assert [r.story.story_id for r in results if r.story] == [docs[0].id, docs[0].id, docs[2].id]


def test_the_config_names_the_registered_groupers_when_it_is_given_another(registered: None, tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds: []\nstories:\n  grouper: topics\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as failed:
        load_config(path, env={})
    assert any(":3:" in e and "copies, events, by-source" in e for e in failed.value.errors), failed.value.errors
