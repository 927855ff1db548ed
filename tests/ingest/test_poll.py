"""One poll of one feed, against a real server on 127.0.0.1 serving feeds made from the seed articles
and feedparser's own test corpus."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.ingest.entries import Entries
from monitor.ingest.feeds import canonical_url
from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import HttpClient, HttpSettings
from monitor.ingest.parsing import FeedParser
from monitor.ingest.poll import (
    FeedState,
    PollResult,
    PollSettings,
    backoff_delay,
    poll_feed,
    retry_after,
)
from monitor.store import SQLiteStore
from monitor.store.base import Store
from tests.conftest import CORPORA, DATA, SEEDS
from tests.httpserver import HttpServer, Item, Reply, Seen, rss, seed_items

LOOPBACK = HttpSettings(allow_networks=("127.0.0.0/8",), timeout=5.0)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
CORPUS = CORPORA / "feedparser" / "tests"


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


@pytest.fixture
def store() -> Store:
    return SQLiteStore(":memory:")


# The parsing workers, started once for the module (as the service starts them once).
_PARSERS: list[FeedParser] = []


@pytest.fixture(scope="module", autouse=True)
def parser() -> Iterator[FeedParser]:
    with closing(FeedParser(workers=2)) as made:
        _PARSERS.append(made)
        yield made
        _PARSERS.clear()


def feed_at(url: str, **options: object) -> FeedConfig:
    return FeedConfig(url=url, name="test feed", full_text=False, **options)  # type: ignore[arg-type]


def poll(feed: FeedConfig, store: Store, *, now: float | None = None, force: bool = False) -> PollResult:
    async def run() -> PollResult:
        async with HttpClient(LOOPBACK) as client:
            leases = Entries(store, "test")
            return await poll_feed(feed, client, leases, _PARSERS[0], PollSettings(), now=now, force=force)

    return asyncio.run(run())


def conditional(body: str, etag: str, modified: str) -> object:
    """A feed that answers 304 when the client presents its current validators."""

    def handler(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, {"ETag": etag})
        return Reply(200, {**RSS, "ETag": etag, "Last-Modified": modified}, body.encode())

    return handler


def test_second_poll_is_conditional_and_a_304_ingests_nothing(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)
    modified = "Mon, 02 Feb 2026 10:00:00 GMT"
    url = server.route("/feed.xml", conditional(rss(items), '"v1"', modified))  # type: ignore[arg-type]
    feed = feed_at(url)
    first = poll(feed, store)
    assert first.status == 200 and len(first.new) == len(items) == 5
    assert first.state.etag == '"v1"' and first.state.last_modified == modified
    second = poll(feed, store)
    request = server.seen("/feed.xml")[1]
    assert request.headers["if-none-match"] == '"v1"'
    assert request.headers["if-modified-since"] == modified
    assert second.status == 304 and second.entries == [] and second.new == []
    # A 304 is trusted: the validators stay for the next poll.
    assert second.state.etag == '"v1"' and second.state.failures == 0


def test_changed_feed_yields_only_its_new_entries(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)
    feed = feed_at(server.route("/feed.xml", Reply(200, {**RSS, "ETag": '"a"'}, rss(items[:3]).encode())))
    assert len(poll(feed, store).new) == 3
    server.route("/feed.xml", Reply(200, {**RSS, "ETag": '"b"'}, rss(items[1:]).encode()))
    result = poll(feed, store)
    assert [d.guid for d in result.new] == [items[3].guid, items[4].guid]
    assert [e.new for e in result.entries] == [False, False, True, True]
    assert result.state.etag == '"b"'


def test_a_200_without_validators_forgets_the_old_ones(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)
    feed = feed_at(server.route("/feed.xml", Reply(200, {**RSS, "ETag": '"a"'}, rss(items).encode())))
    poll(feed, store)
    server.route("/feed.xml", Reply(200, RSS, rss(items).encode()))
    assert poll(feed, store).state.etag is None
    poll(feed, store)
    assert "if-none-match" not in server.seen("/feed.xml")[2].headers


def test_entry_urls_are_canonical_and_tracking_is_ignored(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)[:1]
    feed = feed_at(server.route("/feed.xml", Reply(200, RSS, rss(items).encode())))
    doc = poll(feed, store).new[0]
    assert doc.url == server.url("/articles/000_0102f49cf8e594e8.html")
    # The same article again under another GUID and other tracking parameters is not new.
    again = replace(items[0], guid="regenerated", link=items[0].link.replace("utm_source=rss", "utm_source=x&fbclid=9"))
    server.route("/feed.xml", Reply(200, RSS, rss([again]).encode()))
    assert poll(feed, store).new == []
    assert canonical_url("HTTP://Example.COM:80/a?b=1&utm_campaign=z#frag") == "http://example.com/a?b=1"


def test_charset_declared_only_in_the_http_header(server: HttpServer, store: Store) -> None:
    title = "Путин и Макрон: переговоры"
    body = rss([Item(title, server.url("/ru/1"), "Москва — Париж", "ru-1")], encoding=None).encode("windows-1251")
    feed = feed_at(
        server.route("/ru.xml", Reply(200, {"Content-Type": "application/rss+xml; charset=windows-1251"}, body))
    )
    doc = poll(feed, store).new[0]
    assert doc.title == title and doc.text == "Москва — Париж"


def test_gzip_and_redirected_feed(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)
    server.route("/old.xml", Reply(301, {"Location": "/new.xml"}))
    server.route("/new.xml", Reply(200, RSS, rss(items).encode(), gzip=True))
    result = poll(feed_at(server.url("/old.xml")), store)
    assert result.status == 200 and len(result.new) == 5


def test_retry_after_is_honoured(server: HttpServer, store: Store) -> None:
    feed = feed_at(server.route("/busy.xml", Reply(429, {"Retry-After": "120"})))
    now = time.time()
    result = poll(feed, store, now=now)
    assert result.status == 429 and result.state.next_poll == pytest.approx(now + 120)
    assert poll(feed, store, now=now + 60).skipped
    assert len(server.seen("/busy.xml")) == 1
    later = datetime.fromtimestamp(now + 3600, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.route("/busy.xml", Reply(503, {"Retry-After": later}))
    result = poll(feed, store, now=now + 121)
    assert result.state.next_poll == pytest.approx(now + 3600, abs=1)
    assert len(server.seen("/busy.xml")) == 2
    assert retry_after("soon", now) is None


def test_backoff_grows_and_resets_on_success(server: HttpServer, store: Store) -> None:
    feed = feed_at(server.route("/flaky.xml", Reply(500, body=b"oops")), interval=timedelta(minutes=5))
    backoffs = [poll(feed, store, force=True).state.backoff for _ in range(4)]
    assert backoffs == sorted(backoffs) and len(set(backoffs)) == 4
    state = FeedState.from_dict(store.feed_state(feed.url))
    assert state.failures == 4 and state.last_error == "HTTP 500" and state.next_poll is not None
    server.route("/flaky.xml", Reply(200, RSS, rss(seed_items(server.url(""), SEEDS)).encode()))
    result = poll(feed, store, force=True)
    assert result.state.failures == 0 and result.state.backoff == 0 and result.state.next_poll is None
    assert result.state.last_error == "HTTP 500" and result.state.last_success is not None


def test_backoff_is_capped_and_never_gives_up() -> None:
    feed = feed_at("http://example.org/feed", interval=timedelta(minutes=5))
    settings = PollSettings()
    delays = [backoff_delay(feed, n, settings, random.Random(n)) for n in [*range(1, 60), 5000]]
    assert max(delays) <= 6 * 3600
    assert all(0.8 * 6 * 3600 <= d <= 6 * 3600 for d in delays[-10:])


def test_unreachable_feed_backs_off(store: Store) -> None:
    with HttpServer() as closed:
        url = closed.url("/feed.xml")
    result = poll(feed_at(url), store)
    assert result.error is not None and "cannot connect" in result.error
    assert result.state.failures == 1 and result.state.next_poll is not None


def test_dates_are_utc_and_missing_or_future_ones_are_first_seen(server: HttpServer, store: Store) -> None:
    items = [
        Item("Eastern", server.url("/1"), "a", "1", "Mon, 02 Feb 2026 10:00:00 EST"),
        Item("Future", server.url("/2"), "b", "2", "Fri, 01 Jan 2100 00:00:00 GMT"),
        Item("Undated", server.url("/3"), "c", "3", None),
    ]
    feed = feed_at(server.route("/dates.xml", Reply(200, RSS, rss(items).encode())))
    now = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)
    eastern, future, undated = poll(feed, store, now=now.timestamp()).new
    assert eastern.published == datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
    assert eastern.feed_date == "Mon, 02 Feb 2026 10:00:00 EST"
    assert future.published == now and future.feed_date == "Fri, 01 Jan 2100 00:00:00 GMT"
    assert undated.published == now and undated.feed_date is None
    assert all(d.seen == now for d in (eastern, future, undated))


def test_old_article_appearing_as_new_is_marked_republished(server: HttpServer, store: Store) -> None:
    first = datetime(2026, 2, 10, tzinfo=UTC)
    items = [Item("Fresh", server.url("/1"), "a", "1", "Mon, 09 Feb 2026 10:00:00 GMT")]
    feed = feed_at(server.route("/r.xml", Reply(200, RSS, rss(items).encode())))
    assert not poll(feed, store, now=first.timestamp()).new[0].republished
    items += [
        Item("Old again", server.url("/old"), "b", "regenerated-guid", "Sun, 01 Feb 2026 10:00:00 GMT"),
        Item("New today", server.url("/new"), "c", "3", "Thu, 19 Feb 2026 09:00:00 GMT"),
    ]
    server.route("/r.xml", Reply(200, RSS, rss(items).encode()))
    old, new = poll(feed, store, now=(first + timedelta(days=9)).timestamp()).new
    assert old.republished and old.published == datetime(2026, 2, 1, 10, tzinfo=UTC)
    assert not new.republished


def test_malformed_feed_keeps_recovered_entries_with_a_warning(server: HttpServer, store: Store) -> None:
    body = (DATA / "feeds" / "rdf_channel_empty_textinput.xml").read_bytes()
    feed = feed_at(server.route("/bozo.xml", Reply(200, {"Content-Type": "application/xml"}, body)))
    with capture_logs() as logs:
        result = poll(feed, store)
    assert result.new and result.problem and result.error is None
    assert any(e["event"] == "feed.malformed" and e["url"] == feed.url for e in logs)


def test_not_a_feed_is_a_failure(server: HttpServer, store: Store) -> None:
    feed = feed_at(server.route("/page", Reply(200, {"Content-Type": "text/html"}, b"<html><p>hello")))
    result = poll(feed, store)
    assert result.error == "not an RSS or Atom feed (Content-Type: text/html)" and result.state.failures == 1
    # A well-formed page parses without an XML error, and is no more a feed.
    xhtml = b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Moved</title></head><body/></html>'
    page = feed_at(server.route("/moved", Reply(200, {"Content-Type": "application/xhtml+xml"}, xhtml)))
    result = poll(page, store)
    assert result.error == "not an RSS or Atom feed (Content-Type: application/xhtml+xml)"
    # A feed with no items yet is a feed.
    empty = feed_at(server.route("/empty.xml", Reply(200, RSS, rss([]).encode())))
    result = poll(empty, store)
    assert result.error is None and result.problem is None and result.entries == []


def test_auto_interval_follows_cadence_within_bounds_and_hints(server: HttpServer, store: Store) -> None:
    hourly = [Item(f"t{h}", server.url(f"/{h}"), "x", str(h), f"Mon, 02 Feb 2026 {h:02d}:00:00 GMT") for h in range(6)]
    url = server.route("/auto.xml", Reply(200, RSS, rss(hourly).encode()))
    bounds = {"interval": None, "min_interval": timedelta(minutes=2), "max_interval": timedelta(hours=2)}
    result = poll(feed_at(url, **bounds), store, now=1_800_000_000)
    assert result.state.cadence == 3600 and result.state.interval == 1800
    assert result.state.next_poll == 1_800_000_000 + 1800
    server.route("/auto.xml", Reply(200, RSS, rss(hourly, extra="<ttl>90</ttl>").encode()))
    assert poll(feed_at(url, **bounds), store, force=True).state.interval == 90 * 60
    server.route("/auto.xml", Reply(200, {**RSS, "Cache-Control": "public, max-age=86400"}, rss(hourly).encode()))
    assert poll(feed_at(url, **bounds), store, force=True).state.interval == 2 * 3600


def test_silent_feed_is_logged_as_stale_once(server: HttpServer, store: Store) -> None:
    items = seed_items(server.url(""), SEEDS)
    feed = feed_at(server.route("/quiet.xml", Reply(200, RSS, rss(items).encode())))
    start = 1_800_000_000.0
    poll(feed, store, now=start)
    with capture_logs() as logs:
        poll(feed, store, now=start + 3600)
        poll(feed, store, now=start + 3 * 86400)
        # The seeds are a day apart: silent for more than four times that is stale, and said once.
        poll(feed, store, now=start + 5 * 86400)
        poll(feed, store, now=start + 6 * 86400)
    stale = [e for e in logs if e["event"] == "feed.stale"]
    assert len(stale) == 1 and stale[0]["feed"] == "test feed"
    assert FeedState.from_dict(store.feed_state(feed.url)).stale


def test_state_round_trips_through_the_store(store: Store) -> None:
    state = FeedState(name="x", etag='"e"', failures=2, new_times=(1.0, 2.0))
    store.save_feed_state("u", state.to_dict())
    assert FeedState.from_dict(store.feed_state("u")) == state
    assert FeedState.from_dict({**state.to_dict(), "from_the_future": 1}) == state


def _corpus_files() -> list[Path]:
    return sorted(p for d in ("wellformed", "illformed") for p in (CORPUS / d).rglob("*") if p.is_file())


def test_every_feedparser_corpus_file_is_ingested_without_an_exception(server: HttpServer) -> None:
    files = _corpus_files()
    assert len(files) > 1500
    by_path = {f"/{i}": p for i, p in enumerate(files)}
    for path, file in by_path.items():
        server.route(path, Reply(200, {"Content-Type": "application/xml"}, file.read_bytes()))
    store = SQLiteStore(":memory:")

    async def run() -> list[PollResult]:
        # 1,500 fetches 32 at a time on a machine that may be busy: the timeout is not what this test is about.
        async with HttpClient(replace(LOOPBACK, per_host=16, timeout=60.0)) as client:
            gate = asyncio.Semaphore(32)

            async def one(path: str) -> PollResult:
                async with gate:
                    return await poll_feed(feed_at(server.url(path)), client, Entries(store, "test"), _PARSERS[0])

            return await asyncio.gather(*(one(p) for p in by_path))

    with capture_logs():
        results = asyncio.run(run())
    assert len(results) == len(files)
    failed = {path: r.status for path, r in zip(by_path, results, strict=True) if r.status != 200}
    assert not failed, f"not fetched: {failed}"
    assert sum(len(r.entries) for r in results) > 300
    # Whatever the file, every entry that came through is a usable Document.
    for result in results:
        for entry in result.entries:
            assert entry.doc.published is not None and entry.doc.seen is not None
            assert entry.doc.title or entry.doc.text
