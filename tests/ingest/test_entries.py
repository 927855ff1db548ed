"""Entry leases in the Ingestor: an entry is seen only once handed over; one whose holder died, or that
was not handed over, is taken up again with the same attempt key; each goes on as its own page is done."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from monitor.document import Document
from monitor.ingest.entries import Entries, EntrySettings
from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import HttpClient, HttpSettings
from monitor.ingest.parsing import FeedParser
from monitor.ingest.poll import poll_feed
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.metrics import ENTRIES_RETAKEN
from monitor.store import SQLiteStore
from monitor.store.base import Store
from tests.conftest import SEEDS
from tests.httpserver import HttpServer, Reply, seed_page
from tests.ingest.conftest import seeds_server

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
LOOPBACK = HttpSettings(allow_networks=("127.0.0.0/8",), timeout=10.0)
SHORT = EntrySettings(lease=timedelta(milliseconds=600))


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with seeds_server() as s:
        yield s


@pytest.fixture
def store() -> Store:
    return SQLiteStore(":memory:")


def settings(entries: EntrySettings = SHORT) -> IngestSettings:
    return IngestSettings(http=LOOPBACK, workers=1, first_run_spread=timedelta(0), entries=entries)


class Handed:
    """An on_document that keeps (doc id, attempt) of each Document handed on, failing the first `fail`."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, doc: Document, attempt: str) -> None:
        with self.lock:
            self.calls.append((doc.id, attempt))
            if len(self.calls) <= self.fail:
                raise RuntimeError("not handed over")


def feed_of(server: HttpServer, **options: object) -> FeedConfig:
    return FeedConfig(url=server.url("/feed.xml"), name="Seeds", **options)  # type: ignore[arg-type]


def test_an_entry_is_seen_only_once_handed_over(server: HttpServer, store: Store) -> None:
    handed = Handed(fail=2)

    async def run() -> None:
        async with Ingestor([feed_of(server, full_text=False)], store, settings(), handed) as ing:
            (first,) = await ing.poll_all()
            assert len(first.documents) == 5
            # The two not handed over were given back: taken up again at once, with the same attempt key.
            with capture_logs() as logs:
                again = await ing.recover()
            assert len(again) == 2
            assert [e["by"] for e in logs if e["event"] == "entry.retaken"] == ["sweep", "sweep"]
            (second,) = await ing.poll_all()
            assert second.documents == [] and await ing.recover() == []

    asyncio.run(run())
    assert len(handed.calls) == 7
    by_doc: dict[str, set[str]] = {}
    for doc_id, attempt in handed.calls:
        by_doc.setdefault(doc_id, set()).add(attempt)
    assert len(by_doc) == 5 and all(len(attempts) == 1 for attempts in by_doc.values())


def test_a_dead_holders_entries_are_taken_up_after_its_lease_with_their_attempt_keys(
    server: HttpServer, store: Store
) -> None:
    feed = feed_of(server, full_text=False)

    # Longer than the Ingestor takes to start on a busy machine (3 s was not): its poll must find them leased.
    seconds = 6.0
    lease = EntrySettings(lease=timedelta(seconds=seconds))

    async def die_after_parsing() -> list[str]:
        # A process that claimed the poll's entries and died before handing any over.
        async with HttpClient(LOOPBACK) as client, FeedParser(workers=1) as parser:
            result = await poll_feed(feed, client, Entries(store, "dead-replica", lease), parser)
        return sorted(h.attempt for h in result.held)

    attempts = asyncio.run(die_after_parsing())
    died = time.monotonic()
    assert len(attempts) == 5
    handed = Handed()
    retaken_before = ENTRIES_RETAKEN.labels("retried")._value.get()

    async def run() -> None:
        async with Ingestor([feed], store, settings(), handed) as ing:
            (poll,) = await ing.poll_all()
            assert poll.documents == []  # still leased by the dead process
            assert await ing.recover() == []
            await asyncio.sleep(max(0.0, died + seconds + 0.2 - time.monotonic()))
            with capture_logs() as logs:
                assert len(await ing.recover()) == 5
            assert {e["previous"] for e in logs if e["event"] == "entry.retaken"} == {"dead-replica"}

    asyncio.run(run())
    assert sorted(a for _, a in handed.calls) == attempts
    assert ENTRIES_RETAKEN.labels("retried")._value.get() == retaken_before + 5


def test_a_poll_listing_an_expired_entry_takes_it_up_itself(server: HttpServer, store: Store) -> None:
    feed = feed_of(server, full_text=False)

    async def die_after_parsing() -> None:
        async with HttpClient(LOOPBACK) as client, FeedParser(workers=1) as parser:
            await poll_feed(feed, client, Entries(store, "dead-replica", SHORT), parser)

    asyncio.run(die_after_parsing())
    time.sleep(0.8)
    handed = Handed()

    async def run() -> None:
        async with Ingestor([feed], store, settings(), handed) as ing:
            with capture_logs() as logs:
                (poll,) = await ing.poll_all()
            assert len(poll.documents) == 5
            assert [e["by"] for e in logs if e["event"] == "entry.retaken"] == ["poll"] * 5

    asyncio.run(run())
    assert len(handed.calls) == 5


def test_a_page_slower_than_the_lease_keeps_its_entry_and_the_others_do_not_wait_for_it(
    server: HttpServer, store: Store
) -> None:
    slow = sorted(SEEDS.glob("*.txt"))[0]
    answer = threading.Event()

    def held(seen: object) -> Reply:
        answer.wait(30)
        return Reply(200, HTML, seed_page(slow))

    server.route(f"/articles/{slow.stem}.html", held)
    handed: list[str] = []

    def on_document(doc: Document, attempt: str) -> None:
        handed.append(doc.url or "")

    async def run() -> None:
        async with Ingestor([feed_of(server)], store, settings(), on_document) as ing:
            other = Entries(store, "other-replica", SHORT)
            poll = asyncio.create_task(ing.poll_all())
            # The other four go on while the slow page is held, for three leases (0.6 s) and more:
            # its entry's lease is renewed meanwhile, so that no other replica takes it.
            waited = 0.0
            while len(handed) < 4 or waited < 1.8:
                await asyncio.sleep(0.1)
                waited += 0.1
                assert waited < 30, handed
                assert await other.take_expired() == []
            assert not any(slow.stem in url for url in handed)
            answer.set()
            await poll

    asyncio.run(run())
    assert len(handed) == 5 and slow.stem in handed[-1]


def test_leases_are_kept_while_the_pipeline_holds_every_worker_thread(server: HttpServer, store: Store) -> None:
    # A busy process: every thread of the default executor is in the pipeline and more Documents wait
    # for one. The leases of the entries it works on are still renewed: no other process takes them.
    lease = EntrySettings(lease=timedelta(seconds=1.5))
    go_on = threading.Event()
    handed = Handed()

    def busy(doc: Document, attempt: str) -> None:
        go_on.wait(30)
        handed(doc, attempt)

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(2))
        async with Ingestor([feed_of(server, full_text=False)], store, settings(lease), busy) as ing:
            poll = asyncio.create_task(ing.poll_all())
            other = Entries(store, "other", lease)
            waited = 0.0
            while ing.entries.working_on < 5:  # the poll claimed the feed's entries
                await asyncio.sleep(0.1)
                waited += 0.1
                assert waited < 30 and not poll.done()
            started = time.monotonic()
            while time.monotonic() - started < 4:  # more than two leases
                await asyncio.sleep(0.2)
                assert await other.take_expired() == []
            assert handed.calls == [] and ing.entries.working_on == 5
            go_on.set()
            await poll

    with capture_logs() as logs:
        asyncio.run(run())
    assert len(handed.calls) == 5
    assert not [e["event"] for e in logs if e["event"] in ("entry.lease_lost", "entry.lease_lapsed")]


def test_an_entry_whose_lease_lapsed_while_this_process_works_on_it_is_not_processed_twice(store: Store) -> None:
    feed = FeedConfig(url="http://127.0.0.1:9/feed.xml", name="Lapsed")
    doc = Document(id="d1", title="Lapsed", text="text", url="http://127.0.0.1:9/a1", guid="a1")
    short = EntrySettings(lease=timedelta(milliseconds=200))

    async def run() -> tuple[list[object], list[object]]:
        entries = Entries(store, "busy", short)  # not entered: it never renews, as if too busy to
        (held,) = await entries.claim(feed, [doc])
        assert held is not None
        with entries.working(held):
            await asyncio.sleep(0.3)
            again = await entries.claim(feed, [doc])
            await asyncio.sleep(0.3)
            swept = await entries.take_expired()
        return list(again), list(swept)

    with capture_logs() as logs:
        again, swept = asyncio.run(run())
    assert again == [None] and swept == []
    assert [e["event"] for e in logs if e["event"].startswith("entry.")] == ["entry.lease_lapsed"] * 2


def test_an_entry_that_every_process_dies_on_is_given_up(server: HttpServer, store: Store) -> None:
    feed = feed_of(server, full_text=False)
    limited = EntrySettings(lease=timedelta(milliseconds=300), max_takeovers=2, give_up_after=timedelta(seconds=2))

    async def die_again() -> tuple[int, list[Any]]:
        async with HttpClient(LOOPBACK) as client, FeedParser(workers=1) as parser:
            await poll_feed(feed, client, Entries(store, "first", limited), parser)
        started = time.monotonic()
        # A crash loop: taken over more than max_takeovers times, but for less than give_up_after.
        dies = 0
        while time.monotonic() - started < 1.5:
            await asyncio.sleep(0.35)
            assert len(await Entries(store, f"dies-{dies}", limited).take_expired()) == 5
            dies += 1
        # ... and the same for longer than give_up_after: every holder died on them, they are given up.
        await asyncio.sleep(max(0.35, 2.05 - (time.monotonic() - started)))
        with capture_logs() as logs:
            assert await Entries(store, "last", limited).take_expired() == []
        return dies, [e for e in logs if e["event"] == "entry.abandoned"]

    dies, abandoned = asyncio.run(die_again())
    assert dies > limited.max_takeovers and len(abandoned) == 5
    assert all(e["takeovers"] == dies + 1 and e["pending_s"] >= 2 for e in abandoned)
    # Given up means finished: no poll takes them up again either.
    handed = Handed()

    async def poll() -> None:
        async with Ingestor([feed], store, settings(limited), handed) as ing:
            await ing.poll_all()

    asyncio.run(poll())
    assert handed.calls == []


def test_an_entry_given_back_while_a_renewal_is_due_is_taken_up_at_once(store: Store) -> None:
    feed = FeedConfig(url="http://127.0.0.1:9/feed.xml", name="Given back")
    doc = Document(id="d1", title="Given back", text="text", url="http://127.0.0.1:9/a1", guid="a1")

    async def run() -> list[str]:
        entries = Entries(store, "here", EntrySettings(lease=timedelta(minutes=5)))
        (held,) = await entries.claim(feed, [doc])
        assert held is not None
        with entries.working(held):
            release = asyncio.ensure_future(entries.release(held))
            await asyncio.sleep(0)  # the release is sent to the leases' thread...
            await entries.renew()  # ... and the renewal due now after it: it must not lease the entry again
            await release
        return [h.doc.id for h in await entries.take_expired()]

    assert asyncio.run(run()) == ["d1"]
