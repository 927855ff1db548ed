"""The story view in Slack: one event's reports from the real pipeline, through the outbox, to the fake Slack."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace

from monitor.ingest.files import read_documents
from monitor.notify.alerts import enqueue
from monitor.notify.base import Posted
from monitor.notify.outbox import Notifier, story_count
from monitor.notify.receipts import Followup, Receipts, thread_key
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import Store
from monitor.stories.embed import load_embedder
from monitor.stories.events import EventGrouper
from tests.conftest import DATA, RULES
from tests.fakeslack import FakeSlack
from tests.notify.conftest import make_alert

EVENT = DATA / "events" / "e001-macron-putin-call-march"


def test_an_event_is_one_alert_its_reports_are_replies_and_the_first_message_counts_them(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    pipeline = Pipeline(
        Matcher(load_rules(RULES).rules),
        store,
        EventGrouper(store, load_embedder()),
        handoff=functools.partial(enqueue, store),
    )
    reports = sorted(
        (doc for _, doc in read_documents([EVENT], lambda problem: None)),
        key=lambda d: d.published.timestamp() if d.published else 0.0,
    )
    reuters = next(d for d in reports if d.outlet == "Reuters")
    # Reuters updates its story: the same text under an "UPDATE 1" headline, a new URL.
    update = replace(reuters, id="reuters-update", title=f"UPDATE 1-{reuters.title}", url=f"{reuters.url}?update=1")
    for doc in [*reports, update]:
        pipeline.process(doc)
    notifier().drain()

    messages = slack.posted()
    [parent] = [m for m in messages if m.thread_ts is None]
    replies = [m for m in messages if m.thread_ts == parent.ts]
    assert len(replies) == len(reports) and len(messages) == len(reports) + 1
    assert reports[0].title in json.dumps(parent.blocks, ensure_ascii=False)
    # Each reply says who reported it, in which language, under which headline, with a link.
    for doc in [*reports[1:], update]:
        [reply] = [m for m in replies if f"<{doc.url}|" in json.dumps(m.blocks, ensure_ascii=False)]
        text = json.dumps(reply.blocks, ensure_ascii=False)
        assert doc.outlet is not None and doc.language is not None
        assert doc.outlet in text and f" · {doc.language.upper()} · " in text and doc.title[:40] in text
        marked = "New development" in text
        assert marked == (doc is update), text
    # The first message, redrawn as its story grew: 6 reports (Reuters twice), 5 outlets, 4 languages.
    last = slack.calls("chat.update")[-1]
    assert last.body["ts"] == parent.ts
    assert "6 reports from 5 outlets, 4 languages" in json.dumps(last.body["blocks"], ensure_ascii=False)


def test_thread_follow_ups_written_before_they_kept_article_and_language_still_count(store: Store) -> None:
    parent = Posted("CALERTS", "1.000001")
    store.save_receipt(thread_key(parent), json.dumps({"followups": {"a2": "Reuters", "a3": "TASS"}}))
    receipts = Receipts(store)
    assert receipts.followups(parent) == {"a2": Followup("a2", "Reuters"), "a3": Followup("a3", "TASS")}
    first = make_alert(1, source="Le Monde", language="fr")
    assert str(story_count(first, receipts.followups(parent).values())) == "3 reports from 3 outlets, 1 language"
