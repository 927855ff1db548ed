"""Stories and alert decisions against real stores: one alert per story per rule, follow-ups after."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.document import Document
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import RedisStore, SQLiteStore, Store
from monitor.stories.copies import MIN_STORY_WORDS, CopyGrouper, Signature, item_keys, text_fingerprint
from tests.conftest import RULES, SEEDS

BOILERPLATE = (
    "Sign up for our free weekly newsletter. Our weekly newsletter contains a hand-picked selection of news, "
    "features and analysis. Subscribers agree to the Privacy Policy. Follow us on social media for updates."
)


@pytest.fixture(params=["redis", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "redis":
        made: Store = RedisStore(request.getfixturevalue("redis_url"), prefix=f"t-{uuid.uuid4().hex[:8]}:")
    else:
        made = SQLiteStore(tmp_path / "state.db")
    yield made
    made.close()


def seed(name: str, **fields: object) -> Document:
    title, text = (SEEDS / name).read_text(encoding="utf-8").strip().split("\n", 1)
    values: dict[str, object] = {"id": name, "title": title, "text": text.strip(), **fields}
    return Document(**values)  # type: ignore[arg-type]


def syndicated(doc: Document, site: str) -> Document:
    """Another outlet's copy: its own headline, its boilerplate around the text, the last paragraph dropped."""
    paragraphs = [p for p in doc.text.split("\n") if p.strip()]
    text = f"{site} staff\n" + "\n".join(paragraphs[:-1]) + "\n" + BOILERPLATE
    return Document(id=f"{doc.id}@{site}", title=f"{site}: Macron wants talks", text=text, url=f"https://{site}/a")


def test_fingerprint_ignores_case_accents_and_spacing() -> None:
    assert text_fingerprint("Élysée  says\nHELLO") == text_fingerprint("elysee says hello")
    assert text_fingerprint("Elysee says hello") != text_fingerprint("Elysee says goodbye")


def test_signature_round_trips_through_bytes() -> None:
    signature = Signature.of((SEEDS / "000_0102f49cf8e594e8.txt").read_text(encoding="utf-8"))
    again = Signature.from_bytes(signature.to_bytes())
    assert again.size == signature.size and signature.similarity(again) == (1.0, 1.0)


def test_a_syndicated_copy_joins_the_story_of_the_first(store: Store) -> None:
    stories = CopyGrouper(store)
    first = seed("000_0102f49cf8e594e8.txt")
    assert stories.assign(first).new
    copy = stories.assign(syndicated(first, "example.net"))
    assert (copy.story_id, copy.new) == (first.id, False)
    assert copy.jaccard > 0.5


def test_different_articles_are_different_stories(store: Store) -> None:
    stories = CopyGrouper(store)
    assignments = [stories.assign(seed(p.name)) for p in sorted(SEEDS.glob("*.txt"))]
    # The seeds are five outlets' own articles on one theme: none is a copy of another.
    assert all(a.new for a in assignments)
    assert len({a.story_id for a in assignments}) == 5


def test_items_sharing_only_a_short_boilerplate_text_are_different_stories(store: Store) -> None:
    # Hacker News' feed: every item's text is "Comments"; another feed's: one line of furniture.
    stories = CopyGrouper(store)
    texts = ["Comments", "Comments", "Read more on our website.", "Read more on our website."]
    assigned = [stories.assign(Document(id=f"item{i}", title=f"Headline {i}", text=t)) for i, t in enumerate(texts)]
    assert all(a.new for a in assigned) and len({a.story_id for a in assigned}) == 4
    # A text long enough to tell stories apart still joins its copy.
    long_text = " ".join(f"word{i}" for i in range(MIN_STORY_WORDS))
    first = stories.assign(Document(id="long1", title="One", text=long_text))
    copy = stories.assign(Document(id="long2", title="Another headline", text=long_text))
    assert first.new and (copy.story_id, copy.new) == ("long1", False)


def test_first_match_alerts_then_follow_ups_then_alerts_again_after_the_window(store: Store) -> None:
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store)
    first = seed("003_cc65a377a44d1016.txt", url="https://example.org/1")
    result = pipeline.process(first)
    assert {(d.rule, d.decision) for d in result.decisions} == {
        ("macron-putin-dialogue", "new"),
        ("eu-special-envoy", "new"),
    }
    parent = {d.rule: d.alert_id for d in result.decisions}

    copy = pipeline.process(syndicated(first, "example.net"))
    assert copy.story is not None and copy.story.story_id == first.id
    assert {(d.rule, d.decision, d.parent) for d in copy.decisions} == {
        ("macron-putin-dialogue", "follow-up", parent["macron-putin-dialogue"]),
        ("eu-special-envoy", "follow-up", parent["eu-special-envoy"]),
    }


def test_realert_window_expiry_raises_a_new_alert(store: Store, write_rules: Callable[..., Path]) -> None:
    rules = write_rules({"r.yaml": "id: macron\ntitle: Macron\nwhen: Macron\nalert:\n  realert: 1s\n"})
    pipeline = Pipeline(Matcher(load_rules(rules).rules), store)
    first = seed("004_55a7f2790308b870.txt")
    assert [d.decision for d in pipeline.process(first).decisions] == ["new"]
    assert [d.decision for d in pipeline.process(syndicated(first, "example.net")).decisions] == ["follow-up"]
    time.sleep(1.2)
    assert [d.decision for d in pipeline.process(syndicated(first, "example.com")).decisions] == ["new"]


def test_the_same_article_by_another_road_is_suppressed(store: Store) -> None:
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store)
    first = seed("001_4ecc056e6f873ff1.txt", url="https://example.org/a")
    pipeline.process(first)
    # Same text, other URL and case/spacing: exact duplicate by text fingerprint.
    again = Document(id="other", title=first.title.upper(), text=first.text.replace(" ", "  "), url="https://x.test/b")
    result = pipeline.process(again)
    assert result.duplicate and result.story is None
    assert {d.decision for d in result.decisions} == {"suppressed"}
    # Same URL, new text: seen by URL.
    assert pipeline.process(Document(id="u", title="T", text="new", url="https://example.org/a")).duplicate


def test_item_keys_text_first_then_url() -> None:
    keys = item_keys(Document(id="x", title="T", text="Body", url="https://example.org/a"))
    assert keys[0].startswith("text:") and keys[1] == "url:https://example.org/a"


def test_a_retried_document_keeps_its_decisions(store: Store) -> None:
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store)
    doc = seed("003_cc65a377a44d1016.txt", url="https://example.org/3")
    first = pipeline.process(doc, attempt="hand-off-1")
    # The store failed after some of the marks were made; the service retries the same hand-off.
    again = pipeline.process(doc, attempt="hand-off-1")
    assert not again.duplicate
    assert [(d.rule, d.decision, d.alert_id) for d in again.decisions] == [
        (d.rule, d.decision, d.alert_id) for d in first.decisions
    ]
    # Another hand-off of the same article is a duplicate.
    assert pipeline.process(doc, attempt="hand-off-2").duplicate
