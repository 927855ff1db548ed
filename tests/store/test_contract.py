"""One contract, two stores: every test runs against a real redis-server and a real SQLite file."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from monitor.store import RedisStore, SQLiteStore, Store, StoreError, open_store
from monitor.store.base import EVENT_LEASE
from monitor.store.feedback import Mark, Mute, Snooze
from monitor.store.keys import OUTBOX_GROUP


@pytest.fixture(params=["redis", "redis-cluster", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param.startswith("redis"):
        url = request.getfixturevalue("redis_cluster_url" if request.param == "redis-cluster" else "redis_url")
        # A prefix of its own per test: tests share the server, never each other's keys.
        made: Store = RedisStore(url, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    else:
        made = SQLiteStore(tmp_path / "state.db")
    yield made
    made.close()


def test_claim_is_true_once(store: Store) -> None:
    assert store.claim([["https://example.org/a"]]) == [True]
    assert store.claim([["https://example.org/a"]]) == [False]
    assert store.claim([["https://example.org/b"]]) == [True]


def test_an_item_is_new_only_when_none_of_its_keys_was_seen(store: Store) -> None:
    assert store.claim([["url-1", "guid-1"]]) == [True]
    # The same GUID under another URL (a re-published entry) is not new ...
    assert store.claim([["url-2", "guid-1"]]) == [False]
    # ... and now its URL is known too.
    assert store.claim([["url-2"]]) == [False]


def test_a_retried_item_is_new_again_for_its_owner_only(store: Store) -> None:
    assert store.claim([["url-9", "guid-9"]], owners=["doc-9"]) == [True]
    # The same document retried after a failure part-way: still new for it ...
    assert store.claim([["url-9", "guid-9"]], owners=["doc-9"]) == [True]
    # ... but seen for anything else that reaches the same keys.
    assert store.claim([["url-9", "guid-9"]], owners=["other"]) == [False]
    assert store.claim([["guid-9"]]) == [False]


def test_claim_batches_many_items_in_one_call(store: Store) -> None:
    items = [[f"u{i}", f"g{i}"] for i in range(50)]
    assert store.claim(items) == [True] * 50
    assert store.claim([*items[:10], ["new", "g-new"]]) == [False] * 10 + [True]


def test_duplicates_within_one_batch(store: Store) -> None:
    assert store.claim([["same"], ["same"]]) == [True, False]


def test_seen_marks_expire(store: Store) -> None:
    assert store.claim([["short-lived"]], ttl=timedelta(milliseconds=200)) == [True]
    assert store.claim([["short-lived"]], ttl=timedelta(milliseconds=200)) == [False]
    time.sleep(0.5)
    assert store.claim([["short-lived"]]) == [True]


def test_feed_state_round_trips(store: Store) -> None:
    assert store.feed_state("https://example.org/feed") is None
    state = {"etag": '"abc"', "last_modified": "Mon, 23 Nov 2026 03:00:00 GMT", "failures": 2}
    store.save_feed_state("https://example.org/feed", state)
    store.save_feed_state("https://example.org/other", {"failures": 0})
    assert store.feed_state("https://example.org/feed") == state
    assert store.all_feed_states() == {"https://example.org/feed": state, "https://example.org/other": {"failures": 0}}


def test_story_bands_and_signatures(store: Store) -> None:
    store.add_to_story("story-a", ["0:aa", "1:bb", "2:cc"], b"sig-a")
    store.add_to_story("story-b", ["0:aa", "3:dd"], b"sig-b")
    assert store.story_candidates(["0:aa", "1:bb", "9:zz"]) == {"story-a": 2, "story-b": 1}
    assert store.story_candidates(["9:zz"]) == {}
    # A later member adds bands but keeps the story's first signature.
    store.add_to_story("story-a", ["5:ee"], b"other")
    assert store.story_signatures(["story-a", "story-b", "story-x"]) == {"story-a": b"sig-a", "story-b": b"sig-b"}
    assert store.story_candidates(["5:ee"]) == {"story-a": 1}


def test_event_reports_by_time_latest_first_bounded_and_expiring(store: Store) -> None:
    day = timedelta(days=1)
    for i, at in enumerate([1000.0, 2000.0, 3000.0, 4000.0]):
        store.add_event_report(f"r{i}", at, f"record-{i}".encode(), day, cap=10)
    assert store.event_report_ids(1500, 3500, 10) == ["r2", "r1"]
    assert store.event_report_ids(0, 5000, 2) == ["r3", "r2"]
    assert store.event_report("r0") == b"record-0" and store.event_report("nope") is None
    # The index keeps the latest `cap` reports by time, and none older than the TTL before the newest.
    store.add_event_report("r4", 5000.0, b"record-4", day, cap=3)
    assert store.event_report_ids(0, 10_000, 10) == ["r4", "r3", "r2"]
    # What the index drops is not kept either: the state is bounded by `cap`, not only by the TTL.
    assert store.event_report("r1") is None and store.event_report("r0") is None
    store.add_event_report("r5", 5000.0 + 2 * 86400, b"record-5", day, cap=3)
    assert store.event_report_ids(0, 1e9, 10) == ["r5"]
    store.add_event_report("short", 9e8, b"brief", timedelta(milliseconds=200), cap=3)
    time.sleep(0.5)
    assert store.event_report("short") is None and "short" not in store.event_report_ids(0, 1e9, 10)
    assert "short" not in [r.report_id for r in store.event_reports_since(None).records]


def test_a_reader_of_event_reports_gets_those_added_since_its_last_read_else_all(store: Store) -> None:
    day = timedelta(days=1)
    store.add_event_report("first", 1500.0, b"record-first", day, cap=10)
    start = store.event_reports_since(None)
    assert [r.report_id for r in start.records] == ["first"] and start.everything
    store.add_event_report("r0", 2000.0, b"record-0", day, cap=10)
    store.add_event_report("r1", 1000.0, b"record-1", day, cap=10)
    added = store.event_reports_since(start.position)
    # In the order added (not by time), each with its time and when the store drops it.
    assert not added.everything
    assert [(r.report_id, r.at, r.record) for r in added.records] == [
        ("r0", 2000.0, b"record-0"),
        ("r1", 1000.0, b"record-1"),
    ]
    soon = time.time() + day.total_seconds()
    assert all(soon - 60 < r.expires <= soon for r in added.records)
    nothing = store.event_reports_since(added.position)
    assert nothing.records == [] and not nothing.everything
    store.add_event_report("r2", 3000.0, b"record-2", day, cap=10)
    later = store.event_reports_since(nothing.position)
    assert [r.report_id for r in later.records] == ["r2"] and not later.everything
    every = store.event_reports_since(None)
    assert every.everything and sorted(r.report_id for r in every.records) == ["first", "r0", "r1", "r2"]
    # A reader so far behind that the log no longer reaches back to it reads every report kept.
    for i in range(250):
        store.add_event_report(f"n{i}", 4000.0 + i, b"n", day, cap=3)
    behind = store.event_reports_since(later.position)
    assert behind.everything and sorted(r.report_id for r in behind.records) == ["n247", "n248", "n249"]
    assert store.event_reports_since(behind.position).records == []


def test_paragraph_marks_name_the_first_item_and_keep_each_items_paragraphs(store: Store) -> None:
    day = timedelta(days=1)
    assert store.mark_paragraphs("site", "a", ["p1", "p2"], day) == ["a", "a"]
    assert store.mark_paragraphs("site", "b", ["p2", "p3"], day) == ["a", "b"]
    assert store.mark_paragraphs("site", "a", ["p1", "p2"], day) == ["a", "a"]  # a retry finds its own marks
    assert store.mark_paragraphs("other", "c", ["p1"], day) == ["c"]  # marks are per source
    assert store.item_paragraphs("site", ["a", "b", "nope"]) == {"a": ["p1", "p2"], "b": ["p2", "p3"]}
    assert store.item_paragraphs("other", ["a"]) == {} and store.item_paragraphs("site", []) == {}
    store.mark_paragraphs("site", "short", ["p9"], timedelta(milliseconds=200))
    time.sleep(0.5)
    assert store.mark_paragraphs("site", "later", ["p9"], day) == ["later"]
    assert store.item_paragraphs("site", ["short"]) == {}


def test_mark_alert_returns_the_alert_in_force(store: Store) -> None:
    window = timedelta(milliseconds=300)
    assert store.mark_alert("rule", "story", "alert-1", window) is None
    assert store.mark_alert("rule", "story", "alert-2", window) == "alert-1"
    assert store.mark_alert("other-rule", "story", "alert-3", window) is None
    time.sleep(0.6)
    assert store.mark_alert("rule", "story", "alert-4", window) is None
    assert store.mark_alert("rule", "story", "alert-5", window) == "alert-4"


def _race(url: str, prefix: str, start: float, results: multiprocessing.Queue[list[bool]], entries: bool) -> None:
    store = open_store(url, prefix)
    while time.time() < start:
        time.sleep(0.001)
    if entries:
        # A lease longer than the race: one that ran out would rightly be taken over by a later claim.
        keys = [_entry(i, f"entry-guid:feed:{i}") for i in range(200)]
        claims = store.claim_entries(keys, uuid.uuid4().hex, timedelta(minutes=5))
        results.put([c.held for c in claims])
    else:
        results.put(store.claim([[f"item-{i}", f"guid-{i}"] for i in range(200)]))


def _wins_when_racing(url: str, entries: bool) -> list[int]:
    """Four processes claim the same 200 items (or entries) at once: how many won each."""
    prefix = f"race-{uuid.uuid4().hex[:8]}:"
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[list[bool]] = context.Queue()
    start = time.time() + 1.5
    workers = [context.Process(target=_race, args=(url, prefix, start, results, entries)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return [sum(outcome[i] for outcome in outcomes) for i in range(200)]


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
def test_replicas_racing_for_the_same_items_each_win_exactly_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else f"sqlite:{tmp_path / 'shared.db'}"
    assert _wins_when_racing(url, entries=False) == [1] * 200


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
def test_clients_claiming_items_of_several_keys_at_once_each_win_each_item_exactly_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # Threads interleave their commands far more often than processes started a second apart: a claim whose
    # first key won but whose second key another claim of the same item had just set must still win.
    url = request.getfixturevalue("redis_url") if backend == "redis" else f"sqlite:{tmp_path / 'shared.db'}"
    prefix = f"threads-{uuid.uuid4().hex[:8]}:"
    stores = [open_store(url, prefix) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    for round_ in range(6):
        items = [
            [f"text-{round_}-{i}", f"url-{round_}-{i}", f"guid-{round_}-{i}", f"alt-{round_}-{i}"] for i in range(2000)
        ]

        def claim(store: Store, items: list[list[str]] = items) -> list[bool]:
            barrier.wait()
            return store.claim(items)

        with ThreadPoolExecutor(len(stores)) as pool:
            outcomes = list(pool.map(claim, stores))
        assert [sum(o[i] for o in outcomes) for i in range(len(items))] == [1] * len(items)


def test_redis_keys_live_under_the_prefix(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix="pfx-test:")
    store.claim([["https://example.org/a"]])
    store.save_feed_state("https://example.org/feed", {"etag": "x"})
    store.add_to_story("s", ["0:aa"], b"sig")
    store.mark_alert("r", "s", "a", timedelta(minutes=1))
    client = redis.Redis.from_url(redis_url)
    keys = {k.decode() for k in client.scan_iter("pfx-test:*")}
    assert len(keys) == 6
    assert all(k.startswith("pfx-test:") for k in keys)
    # Caller text is hashed, never used raw in key names.
    assert not any("example.org" in k for k in keys)


@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
def test_redis_keeps_no_record_of_a_report_its_index_dropped_past_the_next_addition(
    server: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(server)
    store = RedisStore(url, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    day = timedelta(days=1)
    for i in range(8):
        store.add_event_report(f"r{i}", 1000.0 + i, f"record-{i}".encode(), day, cap=3)
    # r0 - r4 dropped from the index and their records deleted; r5 dropped by the last addition.
    assert store.event_report_ids(0, 1e9, 10) == ["r7", "r6", "r5"]
    assert store.event_report("r4") is None and store.event_report("r5") == b"record-5"
    store.add_event_report("r8", 1008.0, b"record-8", day, cap=3)
    assert store.event_report("r5") is None  # out of the index: not returned, its record on its way
    store.add_event_report("r5", 1009.0, b"record-5 again", day, cap=3)  # a report added again is kept
    assert store.event_report("r5") == b"record-5 again"
    client = (
        redis.RedisCluster.from_url(url.replace("+cluster", "")) if "cluster" in server else redis.Redis.from_url(url)
    )
    records = {k.decode() for k in client.scan_iter(match=f"{store.keys.prefix}*", count=1000)} & {
        store.keys.event_report(f"r{i}") for i in range(9)
    }
    # The three kept, and r6, which the last addition dropped (deleted with the next one).
    assert records == {store.keys.event_report(r) for r in ("r5", "r6", "r7", "r8")}
    store.close()


def test_redis_down_is_a_clear_error_without_the_password() -> None:
    from tests.servers import free_port

    store = RedisStore(f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store.ping()
    message = str(caught.value)
    assert "redis store redis://:***@127.0.0.1" in message and "s3cret-pass" not in message
    assert "\n" not in message
    assert time.monotonic() - started < 30


def test_corrupt_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value).startswith(f"sqlite store {path}: ")


def test_unknown_store_url() -> None:
    with pytest.raises(StoreError, match="unknown store URL 'postgres://u:\\*\\*\\*@db/x'"):
        open_store("postgres://u:pw@db/x")


def test_redis_restarted_mid_run_reconnects_and_forgets_nothing(tmp_path: Path) -> None:
    from tests.servers import free_port, redis_server

    port = free_port()
    with redis_server(tmp_path / "redis", port=port, appendonly=True) as url:
        store = RedisStore(url, prefix="restart:")
        assert store.claim([["before-restart"]]) == [True]
        store.mark_alert("rule", "story", "alert-1", timedelta(hours=1))
    # The same server comes back on the same port with its append-only file.
    with redis_server(tmp_path / "redis", port=port, appendonly=True):
        assert store.claim([["before-restart"], ["after-restart"]]) == [False, True]
        assert store.mark_alert("rule", "story", "alert-2", timedelta(hours=1)) == "alert-1"


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store: Store) -> None:
    ttl = timedelta(milliseconds=300)
    assert store.acquire_lease("poll:feed-a", "replica-1", ttl)
    assert not store.acquire_lease("poll:feed-a", "replica-2", ttl)
    assert store.acquire_lease("poll:feed-a", "replica-1", ttl)  # its holder still has it
    assert store.acquire_lease("poll:feed-b", "replica-2", ttl)
    time.sleep(0.5)
    assert store.acquire_lease("poll:feed-a", "replica-2", ttl)  # expired: a dead holder lets go
    store.release_lease("poll:feed-a", "replica-1")  # not the holder: no effect
    assert not store.acquire_lease("poll:feed-a", "replica-1", ttl)
    store.release_lease("poll:feed-a", "replica-2")
    assert store.acquire_lease("poll:feed-a", "replica-1", ttl)


# Outbox ------------------------------------------------------------------------------------------


def test_outbox_hands_out_in_order_and_forgets_acked(store: Store) -> None:
    ids = store.outbox_add([{"n": i} for i in range(5)])
    assert len(set(ids)) == 5
    taken = store.outbox_take("a", 3, timedelta(minutes=5))
    assert [e.payload["n"] for e in taken] == [0, 1, 2]
    assert [e.id for e in taken] == ids[:3]
    store.outbox_ack([e.id for e in taken])
    assert [e.payload["n"] for e in store.outbox_take("a", 10, timedelta(minutes=5))] == [3, 4]
    assert store.outbox_depth()[0] == 2


def test_unacked_alerts_come_back_to_their_consumer(store: Store) -> None:
    store.outbox_add([{"n": 1}, {"n": 2}])
    first = store.outbox_take("a", 10, timedelta(minutes=5))
    assert [e.deliveries for e in first] == [1, 1]
    # Not acked (a failed attempt, or a restart under the same name): handed out again, counted.
    again = store.outbox_take("a", 10, timedelta(minutes=5))
    assert [e.id for e in again] == [e.id for e in first]
    assert [e.deliveries for e in again] == [2, 2]
    # Another consumer does not get them while they are fresh.
    assert store.outbox_take("b", 10, timedelta(minutes=5)) == []


def test_a_dead_consumers_alerts_are_claimed_by_another(store: Store) -> None:
    store.outbox_add([{"n": 1}, {"n": 2}, {"n": 3}])
    held = store.outbox_take("dead-replica", 2, timedelta(milliseconds=100))
    assert [e.payload["n"] for e in held] == [1, 2]
    time.sleep(0.3)
    taken = store.outbox_take("live-replica", 10, timedelta(milliseconds=100))
    assert [e.payload["n"] for e in taken] == [1, 2, 3]
    store.outbox_ack([e.id for e in taken])
    assert store.outbox_depth() == (0, None)
    assert store.outbox_take("dead-replica", 10, timedelta(milliseconds=100)) == []


def test_outbox_depth_and_age(store: Store) -> None:
    assert store.outbox_depth() == (0, None)
    store.outbox_add([{"n": 1}])
    time.sleep(0.2)
    store.outbox_add([{"n": 2}])
    depth, age = store.outbox_depth()
    assert depth == 2 and age is not None and age >= 0.15


def test_receipts(store: Store) -> None:
    assert store.receipt("alert-1") is None
    store.save_receipt("alert-1", "1700000000.000100")
    assert store.receipt("alert-1") == "1700000000.000100"
    store.save_receipt("alert-2", "x", ttl=timedelta(milliseconds=100))
    time.sleep(0.3)
    assert store.receipt("alert-2") is None


def test_digest_buckets(store: Store) -> None:
    assert store.digest_buckets() == []
    store.digest_add("rule|#news|1000|3600", "alert-1", {"n": 1})
    store.digest_add("rule|#news|1000|3600", "alert-2", {"n": 2})
    store.digest_add("rule|#news|1000|3600", "alert-1", {"n": 1})  # added twice (a redelivery): kept once
    store.digest_add("rule|#desk|1000|3600", "alert-1", {"n": 1})
    assert store.digest_buckets() == ["rule|#desk|1000|3600", "rule|#news|1000|3600"]
    assert store.digest_items("rule|#news|1000|3600") == {"alert-1": {"n": 1}, "alert-2": {"n": 2}}
    store.digest_remove("rule|#news|1000|3600", ["alert-1", "alert-2"])
    assert store.digest_buckets() == ["rule|#desk|1000|3600"]
    assert store.digest_items("rule|#news|1000|3600") == {}


def test_dead_letters(store: Store) -> None:
    assert store.dead_list() == [] and store.dead_count() == 0
    first = store.dead_add({"alert": 1}, "channel_not_found")
    store.dead_add({"alert": 2}, "is_archived")
    letters = store.dead_list()
    assert [(d.payload, d.reason) for d in letters] == [
        ({"alert": 1}, "channel_not_found"),
        ({"alert": 2}, "is_archived"),
    ]
    assert store.dead_count() == 2
    store.dead_remove([first])
    assert [d.reason for d in store.dead_list()] == ["is_archived"] and store.dead_count() == 1


def test_outbox_survives_reopening_the_sqlite_file(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "state.db").outbox_add([{"n": 1}])
    reopened = SQLiteStore(tmp_path / "state.db")
    assert [e.payload for e in reopened.outbox_take("a", 5, timedelta(minutes=1))] == [{"n": 1}]


def test_a_master_watched_by_sentinel(redis_url: str, tmp_path: Path) -> None:
    from tests.servers import redis_sentinel

    with redis_sentinel(tmp_path / "sentinel", redis_url) as url:
        store = open_store(url, prefix=f"sentinel-{uuid.uuid4().hex[:8]}:")
        assert store.description == f"redis store {url}"
        assert store.claim([["via-sentinel"]]) == [True]
        assert store.claim([["via-sentinel"]]) == [False]
        store.outbox_add([{"n": 1}])
        assert [e.payload for e in store.outbox_take("a", 5, timedelta(minutes=1))] == [{"n": 1}]
        store.close()


def test_the_metrics_show_the_outbox_and_dead_letters(store: Store) -> None:
    from monitor.metrics import StoreCollector

    store.outbox_add([{"alert": 1}])
    store.dead_add({"alert": 2}, "is_archived")
    store.dead_add({"alert": 3}, "is_archived")
    values = {family.name: family.samples[0].value for family in StoreCollector(store).collect() if family.samples}
    assert values["monitor_outbox_depth"] == 1 and values["monitor_dead_letters"] == 2


def test_the_metrics_show_only_the_feeds_in_force(store: Store) -> None:
    from monitor.metrics import StoreCollector

    store.save_feed_state("https://kept.example/rss", {"name": "Kept", "failures": 2})
    store.save_feed_state("https://removed.example/rss", {"name": "Removed", "failures": 7})
    collector = StoreCollector(store, feeds=lambda: {"https://kept.example/rss"})
    (failures,) = [family for family in collector.collect() if family.name == "monitor_feed_failures"]
    assert [(s.labels["feed"], s.value) for s in failures.samples] == [("Kept", 2.0)]


@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
def test_restarts_leave_no_idle_consumers_behind_in_the_redis_outbox(
    server: str, request: pytest.FixtureRequest
) -> None:
    redis_url: str = request.getfixturevalue(server)
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    earlier = RedisStore(redis_url, prefix=prefix)
    earlier.outbox_add([{"alert": 1}])
    assert [e.payload for e in earlier.outbox_take("host-101", 10, timedelta(hours=1))] == [{"alert": 1}]
    assert earlier.outbox_take("host-102", 10, timedelta(hours=1)) == []  # a run that took nothing
    earlier.close()
    restarted = RedisStore(redis_url, prefix=prefix)
    restarted.idle_consumer = timedelta(0)
    restarted.outbox_depth()
    restarted.outbox_add([{"alert": 2}])
    consumers = restarted.client.xinfo_consumers(restarted.keys.outbox, OUTBOX_GROUP)
    names = {c["name"].decode(): c["pending"] for c in consumers}
    # The run holding an undelivered alert stays until another takes it over; the idle one is gone.
    assert names == {"host-101": 1}
    taken = restarted.outbox_take("host-103", 10, timedelta(0))
    assert sorted(e.payload["alert"] for e in taken) == [1, 2]
    restarted.close()


# Entry leases ------------------------------------------------------------------------------------

LEASE = timedelta(milliseconds=400)


def _entry(n: int, *extra: str) -> tuple[list[str], dict[str, object]]:
    return [f"entry-url:https://example.org/{n}", *extra], {"n": n}


def test_an_entry_is_held_by_one_holder_and_seen_only_once_finished(store: Store) -> None:
    a, b = _entry(1, "entry-guid:feed:g1"), _entry(2)
    assert [c.status for c in store.claim_entries([a, b], "one", timedelta(minutes=1))] == ["new", "new"]
    busy = store.claim_entries([a], "two", timedelta(minutes=1))[0]
    assert (busy.status, busy.previous, busy.held) == ("busy", "one", False)
    store.finish_entries([a[0]])
    assert store.claim_entries([a, b], "two", timedelta(minutes=1))[0].status == "seen"
    # Finished under its GUID: another URL with that GUID (a link that changed) is the same entry.
    moved = (["entry-url:https://example.org/moved", "entry-guid:feed:g1"], {"n": 3})
    assert store.claim_entries([moved], "two", timedelta(minutes=1))[0].status == "seen"


def test_an_expired_lease_is_taken_over_by_the_next_claim(store: Store) -> None:
    entry = _entry(1)
    assert store.claim_entries([entry], "dead", LEASE)[0].status == "new"
    time.sleep(0.6)
    claim = store.claim_entries([entry], "alive", timedelta(minutes=1))[0]
    assert (claim.status, claim.takeovers, claim.previous, claim.held) == ("retaken", 1, "dead", True)
    assert store.claim_entries([entry], "third", LEASE)[0].status == "busy"


def test_the_sweep_takes_over_expired_entries_with_their_records(store: Store) -> None:
    store.claim_entries([_entry(1, "entry-guid:feed:g1"), _entry(2)], "dead", LEASE)
    store.claim_entries([_entry(3)], "alive", timedelta(minutes=1))
    assert store.take_expired_entries("sweeper", LEASE, 10) == []
    time.sleep(0.6)
    taken = sorted(store.take_expired_entries("sweeper", timedelta(minutes=1), 10), key=lambda p: p.record["n"])
    assert [(p.keys, p.record, p.takeovers, p.previous) for p in taken] == [
        (("entry-url:https://example.org/1", "entry-guid:feed:g1"), {"n": 1}, 1, "dead"),
        (("entry-url:https://example.org/2",), {"n": 2}, 1, "dead"),
    ]
    # Held by the sweeper now: not taken twice, and busy for a claim.
    assert store.take_expired_entries("other", LEASE, 10) == []
    assert store.claim_entries([_entry(1)], "other", LEASE)[0].status == "busy"
    store.finish_entries([p.keys for p in taken])
    time.sleep(0.6)
    assert store.take_expired_entries("other", LEASE, 10) == []


def test_a_renewed_lease_holds_and_a_released_one_is_taken_at_once(store: Store) -> None:
    first = _entry(1)[0][0]
    store.claim_entries([_entry(1), _entry(2)], "one", LEASE)
    for _ in range(3):
        time.sleep(0.2)
        assert store.renew_entries([first], "one", LEASE) == [True]
    assert store.claim_entries([_entry(1)], "two", LEASE)[0].status == "busy"
    assert store.renew_entries([first], "two", LEASE) == [False]  # not the holder
    assert [p.record for p in store.take_expired_entries("two", LEASE, 10)] == [{"n": 2}]
    store.release_entries([first], "one")
    (taken,) = store.take_expired_entries("two", LEASE, 10)
    assert taken.record == {"n": 1} and taken.previous == "one"


def test_an_entry_taken_over_tells_how_long_it_has_waited_since_its_first_claim(store: Store) -> None:
    # The first claim's time is kept by every takeover, by a claim and by the sweep alike: it is how
    # long the entry has waited in all, however many holders died meanwhile.
    entry = _entry(1)
    assert store.claim_entries([entry], "first", LEASE)[0].pending == 0
    time.sleep(0.5)
    by_claim = store.claim_entries([entry], "second", LEASE)[0]
    assert by_claim.status == "retaken" and 0.4 < by_claim.pending < 5
    time.sleep(0.5)
    (by_sweep,) = store.take_expired_entries("third", LEASE, 10)
    assert by_sweep.takeovers == 2 and by_claim.pending + 0.4 < by_sweep.pending < 10
    store.finish_entries([entry[0]])
    assert store.claim_entries([_entry(2)], "fourth", LEASE)[0].pending == 0


def test_an_sqlite_file_from_before_the_first_claim_time_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE entry (key TEXT PRIMARY KEY, state TEXT NOT NULL, holder TEXT, until REAL, "
        "takeovers INTEGER NOT NULL DEFAULT 0, keys TEXT, record TEXT, expires REAL NOT NULL)"
    )
    old.execute(
        "INSERT INTO entry VALUES ('k', 'lease', 'dead', 0, 3, '[\"entry-url:x\"]', '{\"n\": 1}', ?)",
        (time.time() + 60,),
    )
    old.commit()
    old.close()
    store = SQLiteStore(path)
    # An entry leased by the old version counts from its first takeover by the new one.
    (taken,) = store.take_expired_entries("new", LEASE, 10)
    assert (taken.record, taken.takeovers, taken.pending) == ({"n": 1}, 4, 0)
    assert [c.status for c in store.claim_entries([_entry(5)], "new", LEASE)] == ["new"]
    store.close()


def test_entries_seen_before_leases_existed_stay_seen(store: Store) -> None:
    keys, record = _entry(1, "entry-guid:feed:g1")
    store.claim([keys])  # how entries were marked seen until now
    assert store.claim_entries([(keys, record)], "one", LEASE)[0].status == "seen"
    assert store.claim_entries([(["entry-url:x", keys[1]], record)], "one", LEASE)[0].status == "seen"


@pytest.mark.parametrize("backend", ["redis", "sqlite"])
def test_replicas_racing_for_the_same_entries_each_hold_it_exactly_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else f"sqlite:{tmp_path / 'shared.db'}"
    assert _wins_when_racing(url, entries=True) == [1] * 200


def test_every_redis_key_of_an_entry_expires(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"ttl-{uuid.uuid4().hex[:8]}:")
    store.claim_entries([_entry(1, "entry-guid:feed:g1"), _entry(2)], "one", LEASE, ttl=timedelta(hours=1))
    store.finish_entries([_entry(1, "entry-guid:feed:g1")[0]], ttl=timedelta(hours=1))
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{store.keys.prefix}*"))
    assert len(keys) == 4  # two entries' first keys, one GUID key, the pending index
    assert all(0 < client.pttl(k) <= 3_600_000 for k in keys)


# Feedback from Slack (the FeedbackStore role) ------------------------------------------------


def _mute(story: str = "story-1", channel: str = "#alerts", until: float | None = None, by: str = "U1") -> Mute:
    now = time.time()
    return Mute(story, channel, by, "alice", now, until or now + 3600, "alert-1", "Mine halts output")


def test_a_remembered_alert_is_found_by_its_id_until_it_expires(store: Store) -> None:
    record = {"rule": "lithium", "story": "s1", "routes": ["#alerts"], "article": {"title": "Étude", "text": "x"}}
    store.remember_alert("a1", "lithium", record, time.time(), timedelta(milliseconds=300))
    assert store.remembered_alert("a1") == record
    assert store.remembered_alert("a2") is None
    time.sleep(0.5)
    assert store.remembered_alert("a1") is None


def test_alerts_raised_are_counted_once_per_alert_and_by_time(store: Store) -> None:
    now = time.time()
    store.remember_alert("a1", "lithium", {}, now - 7200, timedelta(hours=1))
    store.remember_alert("a2", "lithium", {}, now - 60, timedelta(hours=1))
    store.remember_alert("a2", "lithium", {}, now - 30, timedelta(hours=1))  # a retried document
    store.remember_alert("b1", "envoy", {}, now - 60, timedelta(hours=1))
    assert store.alerts_raised(0) == {"lithium": 2, "envoy": 1}
    assert store.alerts_raised(now - 3600) == {"lithium": 1, "envoy": 1}


def test_a_mute_holds_the_story_in_its_channel_only_and_counts_each_alert_once(store: Store) -> None:
    assert store.hold("a1", "lithium", "story-1", "#alerts") is None
    assert store.set_mute(_mute()) is True
    assert store.set_mute(_mute()) is False  # the same click delivered twice
    assert store.hold("a2", "lithium", "story-1", "#alerts") == "muted"
    assert store.hold("a2", "lithium", "story-1", "#alerts") == "muted"
    assert store.hold("a3", "other-rule", "story-1", "#alerts") == "muted"
    assert store.hold("a4", "lithium", "story-1", "#elsewhere") is None
    assert store.hold("a5", "lithium", "story-2", "#alerts") is None
    (mute,) = store.mutes()
    assert (mute.story, mute.channel, mute.by, mute.by_name, mute.held) == ("story-1", "#alerts", "U1", "alice", 2)
    assert store.lift_mute("story-1", "#alerts") is True
    assert store.lift_mute("story-1", "#alerts") is False
    assert store.hold("a6", "lithium", "story-1", "#alerts") is None
    assert store.mutes() == []


def test_a_mute_lapses_at_its_end(store: Store) -> None:
    # Long enough that a busy machine still holds before the end; then past it.
    until = time.time() + 2.0
    store.set_mute(_mute(until=until))
    assert store.hold("a1", "r", "story-1", "#alerts") == "muted"
    time.sleep(max(0.0, until - time.time()) + 0.2)
    assert store.hold("a2", "r", "story-1", "#alerts") is None
    assert store.mutes() == []
    assert store.set_mute(_mute()) is True
    assert store.mutes()[0].held == 0  # a new mute counts from zero


def test_a_snooze_holds_the_rule_in_its_channel_until_it_ends(store: Store) -> None:
    # Two seconds: the calls below must all come before the snooze ends, even on a loaded machine.
    now = time.time()
    snooze = Snooze("lithium", "C0123", "U2", "bob", now, now + 2.0)
    assert store.set_snooze(snooze) is True
    assert store.set_snooze(snooze) is False
    assert store.hold("a1", "lithium", "story-9", "C0123") == "snoozed"
    assert store.hold("a2", "lithium", "story-9", "#other") is None
    assert store.hold("a3", "envoy", "story-9", "C0123") is None
    (listed,) = store.snoozes()
    assert (listed.rule, listed.channel, listed.held, round(listed.until, 3)) == (
        "lithium",
        "C0123",
        1,
        round(now + 2.0, 3),
    )
    time.sleep(max(0.0, now + 2.2 - time.time()))
    assert store.hold("a4", "lithium", "story-9", "C0123") is None
    assert store.snoozes() == []


def test_a_longer_snooze_replaces_the_end_and_lifting_ends_it(store: Store) -> None:
    now = time.time()
    store.set_snooze(Snooze("lithium", "#a", "U2", "bob", now, now + 60))
    store.set_snooze(Snooze("envoy", "#a", "U2", "bob", now, now + 30))
    store.set_snooze(Snooze("lithium", "#a", "U3", "carol", now, now + 600))
    assert [(s.rule, s.by_name, round(s.until)) for s in store.snoozes()] == [
        ("envoy", "bob", round(now + 30)),
        ("lithium", "carol", round(now + 600)),
    ]
    assert store.lift_snooze("lithium", "#a") is True
    assert store.lift_snooze("lithium", "#a") is False
    assert [s.rule for s in store.snoozes()] == ["envoy"]


def _mark(user: str, name: str, doc: str = "doc-1", rule: str = "lithium", at: float | None = None) -> Mark:
    article = {
        "id": doc,
        "title": "Lithium: a recipe",
        "text": "Lithium grease for bikes.",
        "url": "https://x.example/1",
    }
    return Mark(rule, doc, "alert-1", "#alerts", at or time.time(), article, {user: name})


def test_marks_keep_the_article_and_everyone_who_marked_it(store: Store) -> None:
    assert store.add_mark(_mark("U1", "alice")) is True
    assert store.add_mark(_mark("U1", "alice")) is False  # a duplicate delivery
    assert store.add_mark(_mark("U2", "bob")) is True
    store.add_mark(_mark("U1", "alice", doc="doc-2", rule="envoy"))
    first, second = store.marks()
    assert (first.rule, first.doc_id, first.by) == ("lithium", "doc-1", {"U1": "alice", "U2": "bob"})
    assert first.article["text"] == "Lithium grease for bikes."
    assert (second.rule, second.doc_id) == ("envoy", "doc-2")
    assert store.remove_mark("lithium", "doc-1", "U1") is True
    assert store.remove_mark("lithium", "doc-1", "U1") is False
    assert store.marks()[0].by == {"U2": "bob"}
    store.remove_mark("lithium", "doc-1", "U2")
    assert [m.rule for m in store.marks()] == ["envoy"]


def test_marks_are_listed_since_a_time_and_expire(store: Store) -> None:
    now = time.time()
    store.add_mark(_mark("U1", "alice", doc="old", at=now - 86400))
    store.add_mark(_mark("U1", "alice", doc="new", at=now - 60))
    assert [m.doc_id for m in store.marks(since=now - 3600)] == ["new"]
    store.add_mark(_mark("U1", "alice", doc="brief"), ttl=timedelta(milliseconds=300))
    time.sleep(0.5)
    assert [m.doc_id for m in store.marks()] == ["old", "new"]


def test_the_event_lease_comes_with_the_reports_added_since_and_goes_with_a_record(store: Store) -> None:
    day, lease = timedelta(days=1), timedelta(seconds=10)
    store.add_event_report("r0", 1000.0, b"record-0", day, cap=10)
    first = store.event_lease("a", lease, None)
    assert first is not None and first.everything and [r.report_id for r in first.records] == ["r0"]
    assert store.event_lease("b", lease, first.position) is None  # "a" holds it
    store.add_event_report("r1", 2000.0, b"record-1", day, cap=10, release="a")
    taken = store.event_lease("b", lease, first.position)
    assert taken is not None and not taken.everything and [r.report_id for r in taken.records] == ["r1"]
    # Only its holder gives it back.
    store.add_event_report("r2", 3000.0, b"record-2", day, cap=10, release="a")
    assert store.event_lease("a", lease, taken.position) is None
    store.release_lease(EVENT_LEASE, "b")
    again = store.event_lease("a", lease, taken.position)
    assert again is not None and [r.report_id for r in again.records] == ["r2"]


def test_the_copy_layers_write_takes_the_event_lease_in_its_round_trip_and_is_written_when_it_is_busy(
    store: Store,
) -> None:
    day, lease = timedelta(days=1), timedelta(seconds=10)
    store.add_event_report("r0", 1000.0, b"record-0", day, cap=10)
    first = store.add_to_story_and_lease("s1", ["0:aa", "1:bb"], b"signature-1", day, "a", lease, None)
    assert first is not None and first.everything and [r.report_id for r in first.records] == ["r0"]
    assert store.story_candidates(["0:aa", "1:bb"]) == {"s1": 2}
    assert store.story_signatures(["s1"]) == {"s1": b"signature-1"}
    # "a" holds the lease: the write goes in all the same, and the lease is not given.
    assert store.add_to_story_and_lease("s1", ["2:cc"], None, day, "b", lease, first.position) is None
    assert store.story_candidates(["2:cc"]) == {"s1": 1}
    store.add_event_report("r1", 2000.0, b"record-1", day, cap=10, release="a")
    taken = store.add_to_story_and_lease("s2", ["3:dd"], b"signature-2", day, "b", lease, first.position)
    assert taken is not None and not taken.everything and [r.report_id for r in taken.records] == ["r1"]
    assert store.event_lease("a", lease, taken.position) is None  # "b" holds it now
