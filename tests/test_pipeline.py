"""The document stage: the grouper it is given, the hand-off, and retries while the store is down."""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.document import Document
from monitor.notify.alerts import enqueue, payload_alerts
from monitor.pipeline import DocumentDropped, Pipeline, Processed
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Match, Matcher
from monitor.store import RedisStore, SQLiteStore, StoreError
from monitor.stories import StoryAssignment
from tests.conftest import RULES, SEEDS
from tests.servers import free_port, redis_server


def seed_doc(name: str = "003_cc65a377a44d1016.txt") -> Document:
    title, text = (SEEDS / name).read_text(encoding="utf-8").strip().split("\n", 1)
    return Document(id=name, title=title, text=text, url=f"https://example.org/{name}")


class OneStory:
    """A grouper that puts every document into one story and notes what it was given."""

    name = "one"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def assign(self, doc: Document, matches: Sequence[Match]) -> StoryAssignment:
        self.calls.append((doc.id, [m.rule.id for m in matches]))
        return StoryAssignment("the-story", not self.calls[:-1])


def test_the_pipeline_uses_the_grouper_it_is_given_and_hands_each_result_over() -> None:
    store = SQLiteStore(":memory:")
    grouper = OneStory()
    handed: list[Processed] = []
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store, grouper, handoff=handed.append)
    first = pipeline.process(seed_doc("003_cc65a377a44d1016.txt"))
    second = pipeline.process(seed_doc("004_55a7f2790308b870.txt"))
    assert [p.doc.id for p in handed] == [first.doc.id, second.doc.id]
    assert grouper.calls[0] == ("003_cc65a377a44d1016.txt", [m.rule.id for m in first.matches])
    # The grouper said "one story": the second document's match of a shared rule is a follow-up.
    shared = {m.rule.id for m in first.matches} & {m.rule.id for m in second.matches}
    assert shared
    assert {d.rule for d in second.decisions if d.decision == "follow-up"} == shared
    # A duplicate is never given to the grouper.
    assert pipeline.process(seed_doc("004_55a7f2790308b870.txt")).duplicate
    assert len(grouper.calls) == 2


def test_a_store_outage_is_waited_out_and_the_alerts_reach_the_outbox(tmp_path: Path) -> None:
    port = free_port()
    with redis_server(tmp_path / "redis", port=port) as url:
        store = RedisStore(url)
        store.ping()
    stopping = threading.Event()
    pipeline = Pipeline(
        Matcher(load_rules(RULES).rules), store, handoff=functools.partial(enqueue, store), stopping=stopping
    )
    done: list[Processed] = []
    with capture_logs() as logs:
        worker = threading.Thread(target=lambda: done.append(pipeline.process(seed_doc(), "entry-1")))
        worker.start()
        try:
            # Redis is down: the document waits; then Redis comes back on the same port.
            while not any(e["event"] == "store.unavailable" for e in logs):
                worker.join(0.05)
            assert not done
            with redis_server(tmp_path / "redis", port=port):
                worker.join(60)
                assert done and not done[0].duplicate
                # One outbox entry: the article's alerts, one per new decision.
                [entry] = store.outbox_take("test", 10, timedelta(seconds=60))
                new = [d.alert_id for d in done[0].decisions if d.decision == "new"]
                assert [alert.alert_id for alert in payload_alerts(entry.payload)] == new and new
        finally:
            stopping.set()
            worker.join(60)
    unavailable = next(e for e in logs if e["event"] == "store.unavailable")
    assert unavailable["doc_id"] == seed_doc().id and "redis store" in unavailable["error"]


def test_a_store_failure_while_stopping_drops_the_document_loudly(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as url:
        store = RedisStore(url)
        store.ping()
    stopping = threading.Event()
    stopping.set()
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store, stopping=stopping)
    with capture_logs() as logs, pytest.raises(DocumentDropped, match=r"example\.org/003"):
        pipeline.process(seed_doc(), "entry-1")
    assert [e["event"] for e in logs] == ["document.dropped"]


def test_without_a_stop_event_a_store_failure_is_raised_at_once() -> None:
    store = SQLiteStore(":memory:")
    store.close()
    pipeline = Pipeline(Matcher(load_rules(RULES).rules), store)
    with pytest.raises(StoreError, match="sqlite store"):
        pipeline.process(seed_doc())
