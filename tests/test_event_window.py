"""A replica's window of the event layer's reports is the store's, though it reads only the reports added since."""

from __future__ import annotations

import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.store import RedisStore, SQLiteStore, Store
from monitor.store.base import EventReports
from monitor.stories.events import EventGrouper, EventSettings, Report
from monitor.stories.window import ReportWindow

SETTINGS = EventSettings(window=timedelta(hours=12), cap=20, ttl=timedelta(days=1))
HOUR = 3600.0


@pytest.fixture(params=["redis", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "redis":
        opened: Store = RedisStore(request.getfixturevalue("redis_url"), prefix=f"window-{uuid.uuid4().hex[:8]}:")
    else:
        opened = SQLiteStore(tmp_path / "state.db")
    yield opened
    opened.close()


def _report(i: int, at: float, rng: random.Random) -> Report:
    vector = np.array([rng.random() for _ in range(8)], dtype=np.float32)
    names = frozenset(rng.sample(["Macron", "Putin", "Kyiv", "Brussels", "Scholz", "Tusk", "Rome", "Minsk"], 3))
    return Report(f"r{i}", f"s{i // 2}", at, names, vector / np.linalg.norm(vector))


def test_each_replica_sees_the_stores_window_reading_only_what_was_added_since(store: Store) -> None:
    rng = random.Random(15)
    now = time.time()
    replicas = [EventGrouper(store, None, SETTINGS) for _ in range(2)]
    reads = [0, 0]
    for i in range(400):
        # Mostly reports of the last hours, some from days ago or ahead (a feed's clock), out of time order.
        at = now + rng.choice([rng.uniform(-20 * HOUR, HOUR), rng.uniform(-80 * HOUR, 30 * HOUR)])
        store.add_event_report(f"r{i}", at, _report(i, at, rng).to_bytes(), SETTINGS.ttl, SETTINGS.cap)
        # The second replica reads rarely: the store's log no longer reaches back to its last read.
        for n, replica in enumerate(replicas):
            if rng.random() < (0.5 if n == 0 else 0.02):
                reads[n] += 1
                asked = at + rng.uniform(-10 * HOUR, 10 * HOUR)
                span = SETTINGS.window.total_seconds()
                slots = replica._recent(asked)
                assert replica.window.report_ids(slots) == store.event_report_ids(asked - span, asked + span, 100)
                assert len(replica.window) <= SETTINGS.cap
    assert min(reads) >= 3


def test_a_replica_reads_each_record_once(store: Store) -> None:
    rng = random.Random(3)
    now = time.time()
    replica = EventGrouper(store, None, SETTINGS)
    for i in range(5):
        store.add_event_report(f"r{i}", now - i, _report(i, now - i, rng).to_bytes(), SETTINGS.ttl, SETTINGS.cap)
    replica._recent(now)
    store.add_event_report("late", now, _report(9, now, rng).to_bytes(), SETTINGS.ttl, SETTINGS.cap)
    read: list[str] = []
    since = store.event_reports_since

    def counted(position: str | None) -> EventReports:
        added = since(position)
        read.extend(r.report_id for r in added.records)
        return added

    store.event_reports_since = counted  # type: ignore[method-assign]
    slots = replica._recent(now)
    assert read == ["late"] and len(slots) == 6
    replica._recent(now)
    assert read == ["late"]


def test_a_long_running_replicas_window_stays_bounded_and_scores_as_a_fresh_one() -> None:
    rng = random.Random(7)
    settings = EventSettings(cap=30)
    kept: ReportWindow[Report] = ReportWindow(settings.cap, settings.ttl.total_seconds())
    for i in range(3000):  # each report with names of its own: the vocabulary would grow without end
        report = _report(i, 1000.0 + i, rng)
        kept.add(replace(report, names=report.names | {f"Name{i}", f"Place{i}"}), float("inf"))
    # Not 6,008 names and 15,000 name entries: what the 30 reports kept name, and some slack before a compaction.
    assert len(kept) == 30 and len(kept._vocabulary) < 1200 and kept._names_used < 1500
    fresh: ReportWindow[Report] = ReportWindow(settings.cap, settings.ttl.total_seconds())
    for slot in kept.window(0, 1e9, 0):
        report = kept._reports[slot]
        assert report is not None
        fresh.add(report, float("inf"))
    new = _report(5000, 4000.0, rng)
    ours = kept.score(new.vector, new.names | {"Name2990"}, kept.window(0, 1e9, 0), 0.75)
    theirs = fresh.score(new.vector, new.names | {"Name2990"}, fresh.window(0, 1e9, 0), 0.75)
    assert [ours.stories[i] for i in range(len(ours.stories))] == [
        theirs.stories[i] for i in range(len(theirs.stories))
    ]
    assert np.allclose(ours.averages, theirs.averages)


def _expected_averages(window: ReportWindow[Report], new: Report, slots: np.ndarray, weight: float) -> dict[str, float]:
    """The scores of `ReportWindow.score`'s docstring, report by report: cosine + weight * the share of the
    names in common, each name weighing log((reports + 2) / reports naming it, the new one counted)."""
    reports = [r for s in slots if (r := window._reports[s]) is not None]
    naming = Counter(n for r in [*reports, new] for n in r.names)
    rarity = {n: math.log((len(reports) + 2) / count) for n, count in naming.items()}
    own = sum(rarity[n] for n in new.names)
    scores: dict[str, list[float]] = {}
    for r in reports:
        smaller = min(sum(rarity[n] for n in r.names), own)
        overlap = sum(rarity[n] for n in r.names & new.names) / smaller if smaller > 0 else 0.0
        scores.setdefault(r.story_id, []).append(float(r.vector @ new.vector) + weight * overlap)
    return {story: sum(s) / len(s) for story, s in scores.items()}


def test_a_windows_scores_are_those_of_its_reports_one_by_one_as_reports_come_and_go() -> None:
    rng = random.Random(11)
    # A small cap and a few names: slots are reused, the names' entries compacted, names shared by many.
    kept: ReportWindow[Report] = ReportWindow(60, 400.0)
    asked = 0
    for i in range(1500):
        report = _report(i, i + rng.uniform(-30, 30), rng)
        kept.add(replace(report, names=report.names | {f"Rare{rng.randrange(400)}"}), float("inf"))
        if rng.random() < 0.3:
            # Windows that move on by a report or two (their counts updated), and far jumps (counted again).
            at = i + (rng.uniform(-5, 5) if rng.random() < 0.8 else rng.uniform(-300, 0))
            span = rng.choice([20.0, 80.0, 400.0])
            slots = kept.window(at - span, at + span, 0)
            new = replace(_report(10_000 + i, at, rng), names=frozenset({"Putin", "Kyiv", f"Rare{rng.randrange(400)}"}))
            scores = kept.score(new.vector, new.names, slots, 0.75)
            expected = _expected_averages(kept, new, slots, 0.75)
            assert {scores.stories[s]: float(scores.averages[s]) for s in range(len(scores.stories))} == pytest.approx(
                expected,
                abs=1e-6,  # the cosines in 32 bits
            )
            asked += 1
    assert asked > 300
