"""Bounded input: entity declarations are not expanded, entries are capped, feeds are parsed in worker
processes under a memory and a time bound, and a feed too large to parse backs off."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from monitor.ingest.feeds import MAX_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, read_feed
from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import HttpSettings
from monitor.ingest.parsing import FeedParser, ParseError
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.store import SQLiteStore
from tests.httpserver import HttpServer, Item, Reply, quadratic_blowup, rss

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY l0 "ha">\n'
    + b"".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">\n'.encode() for i in range(1, 10))
    + b']>\n<rss version="2.0"><channel><title>L</title>'
    b"<item><title>Laughs</title><link>http://x.example/l</link><description>&l9;</description></item>"
    b"</channel></rss>\n"
)


def test_entity_declarations_are_not_expanded() -> None:
    for body in (quadratic_blowup(40_000), BILLION_LAUGHS):
        parsed = read_feed(body, "test")
        (doc,) = parsed.documents
        assert len(doc.text) < len(body)
        assert parsed.problem is not None and "not expanded" in parsed.problem


def test_an_entity_for_one_character_is_still_read() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n]>\n<rss version="2.0"><channel>'
        b"<title>T</title><item><title>A&nbsp;B</title><link>http://x.example/1</link></item></channel></rss>"
    )
    parsed = read_feed(body, "test")
    assert parsed.documents[0].title == "A\xa0B" and parsed.problem is None


def test_entries_titles_and_texts_are_capped() -> None:
    items = [Item("T" * 5000 if i == 0 else f"t{i}", f"http://x.example/{i}", "w " * 150_000 if i == 0 else "x")
             for i in range(MAX_ENTRIES + 50)]  # fmt: skip
    parsed = read_feed(rss(items).encode(), "test", RSS)
    assert len(parsed.documents) == MAX_ENTRIES
    first = parsed.documents[0]
    assert len(first.title) == MAX_TITLE_CHARS and len(first.text) == MAX_TEXT_CHARS


def test_a_feed_declared_utf16_but_8bit_is_read() -> None:
    body = rss([Item("Café news", "http://x.example/1", "élan")], encoding="UTF-16").encode("utf-8")
    parsed = read_feed(body, "test", {"content-type": "application/rss+xml; charset=utf-16"})
    assert [d.title for d in parsed.documents] == ["Café news"]
    latin = rss([Item("Café news", "http://x.example/1", "élan")], encoding="UTF-16").encode("latin-1")
    assert [d.title for d in read_feed(latin, "test").documents] == ["Café news"]


def test_a_parse_past_the_memory_bound_fails_alone() -> None:
    big = rss([Item(f"t{i}", f"http://x.example/{i}", "word " * 400) for i in range(2500)]).encode()
    feed = FeedConfig(url="http://x.example/feed", name="big")

    async def run() -> None:
        async with FeedParser(workers=1, memory=8 * 2**20) as parser:
            with pytest.raises(ParseError, match="too large to parse: more than 8 MiB"):
                await parser.parse(big, RSS, feed, None)
            # The worker goes on with the next feed.
            small = rss([Item("ok", "http://x.example/ok", "fine")]).encode()
            assert len((await parser.parse(small, RSS, feed, None)).documents) == 1

    asyncio.run(run())


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


def test_a_feed_too_large_to_parse_fails_and_backs_off_instead_of_being_parsed_at_every_poll(
    server: HttpServer,
) -> None:
    big = rss([Item(f"t{i}", f"http://x.example/{i}", "word " * 400) for i in range(2500)]).encode()
    too_long = server.route("/big.xml", Reply(200, RSS, big))
    cut = server.route("/cut.xml", Reply(200, RSS, big[: 2 * 2**20]))
    big_feed, cut_feed = (
        FeedConfig(url=url, name=name, full_text=False) for url, name in ((too_long, "big"), (cut, "cut"))
    )
    loopback = HttpSettings(allow_networks=("127.0.0.0/8",))
    small_parses = IngestSettings(http=loopback, parse_workers=1, parse_memory=8 * 2**20)
    small_bodies = IngestSettings(http=HttpSettings(allow_networks=("127.0.0.0/8",), max_bytes=2**20))

    async def run() -> list[str | None]:
        async with Ingestor([big_feed], SQLiteStore(":memory:"), small_parses, lambda d, a: None) as ing:
            (first,) = await ing.poll_all()
            again = await ing.poll(big_feed)  # as the schedule polls: not yet due
            assert again.poll.skipped and first.poll.state.next_poll is not None
        async with Ingestor([cut_feed], SQLiteStore(":memory:"), small_bodies, lambda d, a: None) as ing:
            (truncated,) = await ing.poll_all()
        return [first.poll.error, truncated.poll.error]

    with capture_logs() as logs:
        errors = asyncio.run(run())
    assert errors == [
        "too large to parse: more than 8 MiB needed",
        "feed is larger than the 1 MiB limit (http.max_bytes)",
    ]
    assert len(server.seen("/big.xml")) == 1
    failed = [e for e in logs if e["event"] == "feed.failed"]
    assert [e["failures"] for e in failed] == [1, 1] and all(e["backoff_s"] > 0 for e in failed)
