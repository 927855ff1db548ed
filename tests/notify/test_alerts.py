"""Alerts from real matches: the words highlighted are the matcher's hits, the source is the outlet,
one outbox entry per article."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.document import Document
from monitor.ingest.feeds import read_feed
from monitor.notify.alerts import Alert, alert_of, enqueue, excerpt, outlet, payload_alerts
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Hit, Match, Matcher
from monitor.store import SQLiteStore
from monitor.stories import AlertDecision
from tests.conftest import RULES, SEEDS
from tests.httpserver import Item, rss

RULE = """
id: talks
title: Talks with Moscow
severity: high
when:
  all:
    - any: [re-engag*, Elysee, "special envoy"]
    - any: [Putin, Moscow]
"""


def spans_text(alert: Alert) -> list[str]:
    return [alert.snippet[start:end] for start, end in alert.highlights]


def test_highlights_and_matched_words_are_the_hits_as_the_article_writes_them(
    write_rules: Callable[..., Path], tmp_path: Path
) -> None:
    matcher = Matcher(load_rules(write_rules({"talks.yaml": RULE})).rules)
    text = (
        "Paris. The Élysée said Macron would re-engage with Putin, and a “special envoy” may follow; "
        "the Reengagement of Europe is near. Putinism is not the point."
    )
    doc = Document(id="d1", title="Macron and Putin", text=text, url="https://www.lemonde.fr/a")
    store = SQLiteStore(tmp_path / "monitor.db")
    processed = Pipeline(matcher, store).process(doc)
    [alert] = enqueue(store, processed, now=1000.0)
    # Accented, hyphenated, wildcard and quoted hits alike, by their offsets; never "Putinism".
    assert spans_text(alert) == ["Élysée", "re-engage", "Putin", "special envoy", "Reengagement"]
    assert alert.matched == ("Putin", "Élysée", "re-engage", "special envoy", "Reengagement")  # title first
    assert alert.source == "lemonde.fr" and alert.feed is None  # a file, not a feed
    [entry] = store.outbox_take("t", 10, timedelta(seconds=60))
    assert payload_alerts(entry.payload) == [alert]
    store.close()


def test_an_article_matching_several_rules_is_one_outbox_entry(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "monitor.db")
    doc = Document(id="s1", title="", text=(SEEDS / "000_0102f49cf8e594e8.txt").read_text(encoding="utf-8"))
    alerts = enqueue(store, Pipeline(Matcher(load_rules(RULES).rules), store).process(doc))
    assert sorted(a.rule_id for a in alerts) == ["frozen-russian-assets", "macron-putin-dialogue"]
    [entry] = store.outbox_take("t", 10, timedelta(seconds=60))
    assert [a.alert_id for a in payload_alerts(entry.payload)] == [a.alert_id for a in alerts]
    store.close()


def test_the_excerpt_starts_at_the_sentence_of_the_first_hit_and_keeps_offsets_right() -> None:
    filler = "Nothing to see here at all. " * 20
    doc = Document(id="e", title="t", text=filler + "Then Putin spoke.\nAnd then\tPutin left. " + filler)

    first = doc.text.index("Putin")
    second = doc.text.index("Putin", first + 1)
    snippet, spans = excerpt(doc, [Hit("Putin", "text", first, first + 5), Hit("Putin", "text", second, second + 5)])
    assert snippet.startswith("…Then Putin spoke. And then Putin left.") and snippet.endswith("…")
    assert [snippet[a:b] for a, b in spans] == ["Putin", "Putin"]
    assert len(snippet) <= 402
    assert excerpt(Document(id="x", title="Putin", text="short"), []) == ("short", ())


def test_the_source_is_the_outlet_and_the_feed_stays_the_feed() -> None:
    page = Document(id="p", title="t", text="x", url="https://www.example.org/a", outlet="Le Monde")
    assert outlet(page) == "Le Monde"
    assert outlet(Document(id="u", title="t", text="x", url="https://www.example.org/a")) == "example.org"
    assert outlet(Document(id="f", title="t", text="x", source="From the front matter")) == "From the front matter"
    # A Google News search feed: every entry names its outlet in <source>.
    item = Item("Macron urges talks - Le Monde", "https://news.google.com/articles/1", "Macron and Putin")
    feed = rss([item], "Google News - Macron Putin").replace(
        "</item>", '<source url="https://www.lemonde.fr">Le Monde</source></item>'
    )
    [doc] = read_feed(feed.encode(), "https://news.google.com/rss/search?q=macron").documents
    assert (doc.outlet, doc.source) == ("Le Monde", "Google News - Macron Putin")
    live = replace(doc, seen=datetime.now(UTC))  # as the service saw it, through the feed
    match = Match(load_rules(RULES).rules[0], (), "")
    alert = alert_of(live, match, AlertDecision("new", match.rule.id, live.id, "s", "a"))
    assert (alert.source, alert.feed) == ("Le Monde", "Google News - Macron Putin")


def test_a_version_1_payload_is_still_read() -> None:
    old = {"v": 1, "alert_id": "a", "decision": "new", "rule_id": "r", "rule_title": "R", "severity": "high"}
    alert = Alert.from_payload({**old, "story_id": "s", "doc_id": "d", "title": "T", "terms": ["re-engag*"]})
    assert alert.matched == ("re-engag*",) and alert.highlights == ()
    assert payload_alerts(alert.to_payload()) == [alert]
