"""The Ingestor: every feed once, scheduled jobs, feeds file reloads, recording, one bad feed delaying none."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.document import Document
from monitor.ingest.feedsfile import FeedConfig, load_feeds
from monitor.ingest.http import HttpSettings
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.store import SQLiteStore, StoreError
from tests.conftest import PAGES, SEEDS
from tests.httpserver import HttpServer, Item, Reply, file_reply, rss, seed_items
from tests.ingest.conftest import seeds_server

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def settings(**extra: object) -> IngestSettings:
    http = HttpSettings(allow_networks=("127.0.0.0/8",), timeout=float(extra.pop("timeout", 10.0)))  # type: ignore[arg-type]
    return IngestSettings(http=http, workers=1, first_run_spread=timedelta(0), **extra)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with seeds_server() as s:
        yield s


def collect(into: list[Document]) -> Callable[[Document, str], None]:
    """An on_document that keeps each Document handed on."""
    return lambda doc, attempt: into.append(doc)


def feed(url: str, name: str, **options: object) -> FeedConfig:
    return FeedConfig(url=url, name=name, **options)  # type: ignore[arg-type]


def test_poll_all_completes_records_and_hands_on_new_documents(server: HttpServer, tmp_path: Path) -> None:
    got: list[Document] = []
    store = SQLiteStore(":memory:")

    async def run() -> None:
        seeds = feed(server.url("/feed.xml"), "Seeds", headers=(("X-Feed-Token", "t0k"),))
        async with Ingestor([seeds], store, settings(record_dir=tmp_path), collect(got)) as ing:
            (first,) = await ing.poll_all()
            assert len(first.documents) == 5
            (second,) = await ing.poll_all()
            assert second.documents == []

    asyncio.run(run())
    assert len(got) == 5 and all(d.content_from == "page" and d.source == "Seeds" for d in got)
    assert all("Macron" in d.text or "Russia" in d.text for d in got)
    # The feed's own headers go with its article pages too (a paywall token, a language).
    pages = [r for r in server.requests if r.path.startswith("/articles/")]
    assert len(pages) == 5 and all(r.headers.get("x-feed-token") == "t0k" for r in pages)
    (day,) = list(tmp_path.glob("*.jsonl"))
    assert [Document.from_record(json.loads(x)) for x in day.read_text(encoding="utf-8").splitlines()] == got


def test_recorded_documents_carry_the_byline_found_in_the_page_body(server: HttpServer, tmp_path: Path) -> None:
    # The byline search costs time and only records keep what it finds: it runs when recording.
    boingboing = file_reply(PAGES / "boingboing.net.millenials.html", "text/html; charset=utf-8")
    page = server.route("/articles/boingboing.html", boingboing)
    item = Item(title="Millennials", link=page, description="A post about millennials.", guid="bb-1")
    feed_url = server.route("/byline.xml", Reply(200, RSS, rss([item]).encode()))

    def ingest(**extra: object) -> Document:
        got: list[Document] = []

        async def run() -> None:
            store = SQLiteStore(":memory:")
            async with Ingestor([feed(feed_url, "BB")], store, settings(**extra), collect(got)) as ing:
                await ing.poll_all()

        asyncio.run(run())
        (doc,) = got
        return doc

    recorded = ingest(record_dir=tmp_path)
    assert recorded.content_from == "page" and recorded.author == "Cory Doctorow"
    (day,) = list(tmp_path.glob("*.jsonl"))
    assert json.loads(day.read_text(encoding="utf-8"))["author"] == "Cory Doctorow"
    unrecorded = ingest()
    assert unrecorded.content_from == "page" and unrecorded.text == recorded.text
    assert unrecorded.author is None


def test_an_entry_with_a_malformed_link_loses_none_of_the_others(server: HttpServer) -> None:
    items = seed_items(server.url(""), SEEDS)
    items[0] = replace(items[0], link="http://[::1/broken")  # urlsplit: "Invalid IPv6 URL"
    server.route("/mixed.xml", Reply(200, RSS, rss(items).encode()))
    got: list[Document] = []

    async def run() -> None:
        async with Ingestor(
            [feed(server.url("/mixed.xml"), "Mixed")], SQLiteStore(":memory:"), settings(), collect(got)
        ) as ing:
            await ing.poll_all()

    with capture_logs() as logs:
        asyncio.run(run())
    assert len(got) == 5
    assert [d.content_from for d in got].count("page") == 4
    (failed,) = [e for e in logs if e["event"] == "page.failed"]
    assert failed["url"] == "http://[::1/broken" and "invalid URL" in failed["error"]
    assert not [e for e in logs if e["event"] == "feed.crashed"]


def test_a_feed_that_never_answers_delays_no_other(server: HttpServer) -> None:
    hang = server.route("/hang.xml", Reply(hang=True))
    broken = server.route("/broken.xml", Reply(500))
    delivered: list[bool] = []
    with capture_logs() as logs:

        def on_document(doc: Document, attempt: str) -> None:
            # Each Document must arrive while the hung feed is still waiting for its answer.
            delivered.append(any(e["event"] == "feed.failed" and e["url"] == hang for e in logs))

        async def run() -> list[str | None]:
            feeds = [feed(hang, "Hang", full_text=False), feed(server.url("/feed.xml"), "Good", full_text=False)]
            feeds.append(feed(broken, "Broken", full_text=False))
            # 8 s for the hung feed: the good feed's poll starts its parsing worker first (3 s was too short on a
            # busy machine).
            async with Ingestor(feeds, SQLiteStore(":memory:"), settings(timeout=8.0), on_document) as ing:
                return [o.poll.error for o in await ing.poll_all()]

        errors = asyncio.run(run())
    assert delivered == [False] * 5
    assert errors[0] is not None and "timed out" in errors[0]
    assert errors[1] is None and errors[2] == "HTTP 500"


def test_a_failing_on_document_does_not_stop_the_others(server: HttpServer) -> None:
    seen: list[str] = []

    def on_document(doc: Document, attempt: str) -> None:
        seen.append(doc.id)
        if len(seen) == 1:
            raise RuntimeError("pipeline hiccup")

    async def run() -> None:
        async with Ingestor(
            [feed(server.url("/feed.xml"), "S", full_text=False)], SQLiteStore(":memory:"), settings(), on_document
        ) as ing:
            await ing.poll_all()

    with capture_logs() as logs:
        asyncio.run(run())
    assert len(seen) == 5
    assert any(e["event"] == "document.failed" and e["error"] == "pipeline hiccup" for e in logs)


def write_feeds(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_jobs_follow_the_feeds_file(server: HttpServer, tmp_path: Path) -> None:
    path = write_feeds(
        tmp_path / "feeds.yaml",
        f"""
        feeds:
          - url: {server.url("/feed.xml")}
            interval: 5m
          - url: {server.url("/other.xml")}
            interval: auto
            min_interval: 2m
        """,
    )

    async def run() -> None:
        async with Ingestor(load_feeds(path).feeds, SQLiteStore(":memory:"), settings(), lambda d, a: None) as ing:
            ing.start()
            ing.watch(path)
            assert ing.job_ids() == sorted([server.url("/feed.xml"), server.url("/other.xml")])
            job = ing.job(server.url("/feed.xml"))
            assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time == 60
            assert job.trigger.interval == timedelta(minutes=5) and job.trigger.jitter == 30
            assert ing.job(server.url("/other.xml")).trigger.interval == timedelta(minutes=2)
            assert ing.check_feeds_file() is None  # unchanged
            write_feeds(
                path,
                f"""
                feeds:
                  - url: {server.url("/feed.xml")}
                    interval: 10m
                  - url: {server.url("/third.xml")}
                """,
            )
            changes = ing.check_feeds_file()
            assert changes is not None
            assert changes.added == [server.url("/third.xml")] and changes.removed == [server.url("/other.xml")]
            assert changes.changed == [server.url("/feed.xml")]
            assert ing.job_ids() == sorted([server.url("/feed.xml"), server.url("/third.xml")])
            assert ing.job(server.url("/feed.xml")).trigger.interval == timedelta(minutes=10)
            # A broken edit is refused whole: the jobs in force stay.
            write_feeds(path, "feeds:\n  - url: nope\n")
            with capture_logs() as logs:
                assert ing.check_feeds_file() is None
            assert ing.job_ids() == sorted([server.url("/feed.xml"), server.url("/third.xml")])
            assert any(e["event"] == "feeds.rejected" and f"{path}:2:" in e["error"] for e in logs)

    asyncio.run(run())


def test_scheduled_job_polls_the_feed(server: HttpServer) -> None:
    async def run() -> list[Document]:
        got: list[Document] = []
        done = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_document(doc: Document, attempt: str) -> None:
            got.append(doc)
            if len(got) == 5:
                loop.call_soon_threadsafe(done.set)

        async with Ingestor(
            [feed(server.url("/feed.xml"), "S", full_text=False)], SQLiteStore(":memory:"), settings(), on_document
        ) as ing:
            ing.start()
            await asyncio.wait_for(done.wait(), 30)
        return got

    assert len(asyncio.run(run())) == 5
    assert len(server.seen("/feed.xml")) >= 1


class _StoreDown(SQLiteStore):
    """A store whose leases cannot be taken: Redis is down."""

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        raise StoreError("redis store redis://127.0.0.1:1/0: ConnectionError: connection refused")


def test_a_poll_lease_the_store_cannot_give_is_one_line_not_a_traceback(
    server: HttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        feeds = [feed(server.url("/feed.xml"), "S", full_text=False)]
        async with Ingestor(feeds, _StoreDown(":memory:"), settings(replica="r1"), collect([])) as ing:
            ing.start()
            for _ in range(300):
                if any(e["event"] == "feed.lease_failed" for e in logs):
                    break
                await asyncio.sleep(0.05)

    with capture_logs() as logs:
        asyncio.run(run())
    failed = [e for e in logs if e["event"] == "feed.lease_failed"]
    assert failed and "connection refused" in failed[0]["error"]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelname == "ERROR"]
    assert server.seen("/feed.xml") == []


class _SlowLease(SQLiteStore):
    """A store whose poll leases take until `answer` is set to be given (a store slow to answer)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.asked = threading.Event()
        self.answer = threading.Event()

    def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        self.asked.set()
        self.answer.wait(10)
        return super().acquire_lease(name, holder, ttl)


def test_a_stop_while_a_poll_waits_for_its_lease_is_one_line_not_a_traceback(
    server: HttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = _SlowLease(":memory:")

    async def run() -> None:
        async with Ingestor(
            [feed(server.url("/feed.xml"), "S", full_text=False)], store, settings(replica="r1"), collect([])
        ) as ing:
            ing.start()
            for _ in range(300):
                if store.asked.is_set():
                    break
                await asyncio.sleep(0.05)
        # Leaving the loop now cancelled the poll still waiting for the store's answer (as a stop does).
        store.answer.set()

    try:
        with capture_logs() as logs:
            asyncio.run(run())
    finally:
        store.answer.set()
    assert store.asked.is_set()
    assert [e["feed"] for e in logs if e["event"] == "feed.poll_interrupted"] == ["S"]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelname == "ERROR"]
    assert server.seen("/feed.xml") == []


def test_a_poll_cut_short_by_the_stop_is_one_line_not_a_traceback(
    server: HttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    held = threading.Event()
    path = next(iter(sorted(SEEDS.glob("*.txt")))).stem
    server.route(f"/articles/{path}.html", lambda _: (held.wait(10), Reply(200, HTML, b"late"))[1])

    async def run() -> None:
        async with Ingestor(
            [feed(server.url("/feed.xml"), "S")], SQLiteStore(":memory:"), settings(), collect([])
        ) as ing:
            ing.start()
            for _ in range(300):
                if server.seen(f"/articles/{path}.html"):
                    break
                await asyncio.sleep(0.05)
        # Leaving the loop now cancels the poll still waiting on its page (as a stop past its grace does).

    try:
        with capture_logs() as logs:
            asyncio.run(run())
    finally:
        held.set()
    assert [e["feed"] for e in logs if e["event"] == "feed.poll_interrupted"] == ["S"]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelname == "ERROR"]


def test_a_feeds_own_allowed_range_opens_its_pages_and_no_other_port(tmp_path: Path) -> None:
    # An internal feed server on 127.0.0.1, allowed for its own feed; a link to another port there is not.
    with seeds_server() as own, HttpServer() as other:
        items = seed_items(own.url(""), SEEDS)
        items[0] = replace(items[0], link=other.route("/admin", Reply(200, HTML, b"<html>internal</html>")))
        own.route("/feed.xml", Reply(200, RSS, rss(items).encode()))
        internal = feed(own.url("/feed.xml"), "Internal", allow_networks=(f"127.0.0.1:{own.port}",))
        public = feed(own.url("/feed.xml"), "Public")
        got: list[Document] = []
        http = HttpSettings(timeout=10.0)  # no allow_networks of the service's own

        async def run() -> list[str | None]:
            errors = []
            for one in (public, internal):
                async with Ingestor([one], SQLiteStore(":memory:"), IngestSettings(http=http), collect(got)) as ing:
                    (outcome,) = await ing.poll_all()
                    errors.append(outcome.poll.error)
            return errors

        with capture_logs() as logs:
            errors = asyncio.run(run())
        assert other.seen("/admin") == []
    assert errors[0] is not None and "refused" in errors[0] and errors[1] is None
    assert sorted(d.content_from for d in got) == ["page"] * 4 + ["summary"]
    (refused,) = [e for e in logs if e["event"] == "page.failed"]
    assert f"non-public address 127.0.0.1:{other.port}" in refused["error"]
