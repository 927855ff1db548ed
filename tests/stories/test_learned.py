"""The learned same-event decision (`stories.decision: learned`): what it keeps apart, what it joins, its weights."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.config import load_config
from monitor.document import Document
from monitor.errors import ConfigFileError
from monitor.ingest.files import read_documents
from monitor.rules.matcher import Match
from monitor.store import SQLiteStore
from monitor.stories import StoriesConfig, build_grouper
from monitor.stories import learned as learned_module
from monitor.stories.embed import Embedder, load_embedder
from monitor.stories.events import EventGrouper, EventSettings
from monitor.stories.learned import DEFAULT_WEIGHTS, FEATURES, DecisionFileError, load_decision
from tests.conftest import DATA, SEEDS

MATCHED: Sequence[Match] = [None]  # type: ignore[list-item]
EVENTS = DATA / "events"
LEARNED = EventSettings(decision="learned")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder()


def corpus_docs(*events: str) -> list[Document]:
    docs = [doc for _, doc in read_documents([EVENTS / e for e in events], lambda problem: None)]
    return sorted(docs, key=lambda d: d.published.timestamp() if d.published else 0.0)


def stories_of(grouper: EventGrouper, docs: Sequence[Document]) -> dict[str, str]:
    return {doc.id: grouper.assign(doc, MATCHED).story_id for doc in docs}


def test_two_strikes_on_one_city_a_day_apart_stay_two_stories_and_each_joins_its_reports(embedder: Embedder) -> None:
    # Glide bombs on Kharkiv, then drones on Kharkiv the next day: the drones' reports score up to 1.12 with the
    # bombs' story (one city, one war, the same officials quoted), which the learned decision keeps apart.
    bombs, drones = corpus_docs("e049-kharkiv-glide-bombs"), corpus_docs("d038-kharkiv-drones-next-day")
    grouper = EventGrouper(SQLiteStore(":memory:"), embedder, LEARNED)
    stories = stories_of(grouper, sorted([*bombs, *drones], key=lambda d: d.published.timestamp()))  # type: ignore[union-attr]
    assert {stories[d.id] for d in bombs}.isdisjoint({stories[d.id] for d in drones})
    assert len({stories[d.id] for d in bombs}) == 1, "the four reports of the bombing are one story"
    assert len({stories[d.id] for d in drones}) == 1, "the four reports of the drones are one story"


def test_reports_of_one_event_in_four_languages_join_one_story(embedder: Embedder) -> None:
    docs = corpus_docs("e001-macron-putin-call-march")
    stories = stories_of(EventGrouper(SQLiteStore(":memory:"), embedder, LEARNED), docs)
    assert len({d.language for d in docs}) >= 3
    assert set(stories.values()) == {docs[0].id}


def test_undated_reports_are_decided_by_the_rules_seeds_000_and_001_one_story_002_to_004_apart(
    embedder: Embedder,
) -> None:
    docs = [doc for _, doc in read_documents([SEEDS], lambda problem: None)]
    stories = list(stories_of(EventGrouper(SQLiteStore(":memory:"), embedder, LEARNED), docs).values())
    assert stories[0] == stories[1]
    assert len({stories[0], stories[2], stories[3], stories[4]}) == 4


def test_the_shipped_weights_are_for_the_features_the_code_computes() -> None:
    decision = load_decision()
    assert len(decision.weights) == len(FEATURES)
    assert 0 < decision.cutoff < 1 and decision.fitted_on.startswith("bench/decide_fit.py")
    assert json.loads(DEFAULT_WEIGHTS.read_text(encoding="utf-8"))["features"] == list(FEATURES)


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda text: text[: len(text) // 2], "not JSON"),
        (lambda text: text.replace('"story_size"', '"story_sizes"'), "the code computes"),
        (lambda text: text.replace('"bias": ', '"bias": "x", "was": '), "'bias' must be a finite number"),
        (lambda text: "[]", "expected an object"),
        (lambda text: text.replace('"cutoff": 0.45', '"cutoff": 5'), "'cutoff' is a probability"),
        (lambda text: text.replace('"floor": 0.6', '"floor": 3'), "'floor' is an average score"),
    ],
)
def test_a_corrupt_weights_file_fails_naming_the_file_and_what_is_wrong(
    tmp_path: Path, mangle: object, says: str
) -> None:
    path = tmp_path / "learned.json"
    path.write_text(mangle(DEFAULT_WEIGHTS.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(DecisionFileError) as failed:
        load_decision(path)
    assert str(path) in str(failed.value) and says in str(failed.value)
    with pytest.raises(DecisionFileError, match="cannot be read"):
        load_decision(tmp_path / "missing.json")


def test_a_service_whose_weights_are_corrupt_logs_one_error_and_decides_by_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrupt = tmp_path / "learned.json"
    corrupt.write_text(DEFAULT_WEIGHTS.read_text(encoding="utf-8")[:40], encoding="utf-8")
    monkeypatch.setattr(learned_module, "DEFAULT_WEIGHTS", corrupt)
    with capture_logs() as logs:
        grouper = build_grouper(StoriesConfig(events=LEARNED), SQLiteStore(":memory:"))
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event"] for e in errors] == ["stories.decision_failed"] and str(corrupt) in errors[0]["error"]
    assert isinstance(grouper, EventGrouper) and grouper.settings.decision == "rules" and grouper.learned is None


def test_the_config_chooses_the_decision_and_refuses_another(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds: []\nstories:\n  decision: learned\n", encoding="utf-8")
    assert load_config(path, env={}).stories.events.decision == "learned"
    path.write_text("feeds: []\nstories:\n  decision: neural\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as failed:
        load_config(path, env={})
    assert any(":3:" in e and "'decision' must be one of rules, learned" in e for e in failed.value.errors)
