"""Feed kinds (RSS/Atom, JSON Feed, news sitemaps) polled from a real server on 127.0.0.1, and replayed
from the same bytes through the same entry-to-Document code."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli.feeds import poll as feeds_poll
from monitor.cli.replay import replay
from monitor.document import Document
from monitor.ingest.entries import Entries
from monitor.ingest.feeds import read_feed
from monitor.ingest.feedsfile import FeedConfig, load_feeds
from monitor.ingest.files import Problem, read_documents
from monitor.ingest.http import HttpClient, HttpSettings
from monitor.ingest.parsing import FeedParser
from monitor.ingest.poll import MAX_CHILDREN, PollResult, PollSettings, poll_feed
from monitor.ingest.scheduler import Ingestor
from monitor.store import SQLiteStore
from monitor.store.base import Store
from tests.conftest import DATA, SEEDS
from tests.httpserver import HttpServer, Reply, Seen, seed_page
from tests.ingest.test_scheduler import collect, settings

FEEDS = DATA / "feeds"
LOOPBACK = HttpSettings(allow_networks=("127.0.0.0/8",), timeout=5.0)
TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".xml": "application/xml",
}
NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"

_PARSERS: list[FeedParser] = []


@pytest.fixture(scope="module", autouse=True)
def parser() -> Iterator[FeedParser]:
    with closing(FeedParser(workers=1)) as made:
        _PARSERS.append(made)
        yield made
        _PARSERS.clear()


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


@pytest.fixture
def store() -> Store:
    return SQLiteStore(":memory:")


def poll(feed: FeedConfig, store: Store, *, force: bool = True) -> PollResult:
    async def run() -> PollResult:
        async with HttpClient(LOOPBACK) as client:
            return await poll_feed(feed, client, Entries(store, "test"), _PARSERS[0], PollSettings(), force=force)

    return asyncio.run(run())


def feed_at(url: str, kind: str = "rss") -> FeedConfig:
    return FeedConfig(url=url, name="test feed", full_text=False, kind=kind)


def news_url(loc: str, title: str, name: str = "The Example Courier", language: str = "en") -> str:
    return (
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>{name}</news:name>"
        f"<news:language>{language}</news:language></news:publication>"
        f"<news:publication_date>2026-11-30T08:00:00Z</news:publication_date><news:title>{title}</news:title>"
        "</news:news></url>"
    )


def urlset(*urls: str) -> bytes:
    return f'<?xml version="1.0"?><urlset xmlns="{SITEMAP}" xmlns:news="{NEWS}">{"".join(urls)}</urlset>'.encode()


def index(*locs: str) -> bytes:
    listed = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP}">{listed}</sitemapindex>'.encode()


def identity(doc: Document) -> tuple[str | None, ...]:
    """What a document is known and shown by: the same live and in replay."""
    return (doc.id, doc.url, doc.title, doc.outlet, doc.language, doc.guid, doc.text)


# Live == replay ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rss2.0withAtomNS.rss", "rss"),
        ("rss-unlinked.rss", "rss"),
        ("atomthreadingwithentry.atom", "rss"),
        ("jsonfeed-1.1.json", "jsonfeed"),
        ("jsonfeed-1.0.json", "jsonfeed"),
        ("news-sitemap.xml", "news-sitemap"),
    ],
)
def test_replay_of_a_saved_feed_gives_the_documents_the_service_got(
    name: str, kind: str, server: HttpServer, store: Store
) -> None:
    path = FEEDS / name
    url = server.route(f"/{name}", Reply(200, {"Content-Type": TYPES[path.suffix]}, path.read_bytes()))
    live = poll(feed_at(url, kind), store)
    assert live.error is None and live.new
    replayed: list[Problem] = []
    from_file = [doc for _, doc in read_documents([path], replayed.append)]
    assert replayed == []
    assert [identity(d) for d in from_file] == [identity(d) for d in live.new]


def test_the_replay_command_shows_those_documents(tmp_path: Path) -> None:
    paths = [FEEDS / name for name in ("rss-unlinked.rss", "jsonfeed-1.1.json", "news-sitemap.xml")]
    out = CliRunner().invoke(replay, ["--format", "json", *map(str, paths)])
    assert out.exit_code == 0, out.output
    shown = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]  # not the log lines
    expected = [doc for _, doc in read_documents(paths, lambda problem: None)]
    assert len(shown) == 2 + 3 + 3
    assert [(x["id"], x["url"], x["title"]) for x in shown] == [(d.id, d.url, d.title) for d in expected]


# JSON Feed -----------------------------------------------------------------------------------------------


def test_json_feed_items_become_documents() -> None:
    feed = read_feed((FEEDS / "jsonfeed-1.1.json").read_bytes(), "https://gazette.example.org/feed.json")
    assert feed.title == "Harbour Gazette" and feed.problem is None
    strike, budget, letter = feed.documents
    # url without its tracking parameter; content_html as text; both authors; the feed's language, primary subtag.
    assert strike.url == "https://gazette.example.org/2026/11/30/ferry-strike"
    assert strike.guid == "https://gazette.example.org/2026/11/30/ferry-strike"
    paragraphs = [
        "Crews on the island ferries stopped work at dawn on Monday.",
        "The operator said talks would resume on Wednesday.",
    ]
    assert strike.text == "\n".join(paragraphs)
    assert strike.content_from == "content" and strike.author == "Morag Innes, Tom Reid"
    assert (
        strike.language == "en"
        and strike.published is not None
        and strike.published.isoformat() == "2026-11-30T06:45:00+00:00"
    )
    # A relative url is resolved against the feed's URL; content_text kept; a date with an offset in UTC.
    assert budget.url == "https://gazette.example.org/2026/11/29/port-budget"
    assert budget.text.startswith("The harbour board approved") and budget.published is not None
    assert budget.published.isoformat() == "2026-11-29T17:00:00+00:00"
    # Only a summary: it is the text; the item's own language wins over the feed's.
    assert letter.text == "Les pêcheurs demandent une révision des quotas." and letter.content_from == "summary"
    assert letter.language == "fr"


def test_json_feed_1_0_numeric_ids_author_and_external_url() -> None:
    bridge, works = read_feed((FEEDS / "jsonfeed-1.0.json").read_bytes(), "x").documents
    assert bridge.guid == "1042" and bridge.author == "Dana Ortiz"
    assert works.url == "https://council.example.gov/notices/road-works" and works.title == ""


def test_a_json_feed_served_at_an_rss_feed_url_is_read_as_one(server: HttpServer, store: Store) -> None:
    body = (FEEDS / "jsonfeed-1.1.json").read_bytes()
    # By its media type, and, served as plain JSON, by its version key.
    by_type = server.route("/a", Reply(200, {"Content-Type": "application/feed+json"}, body))
    by_body = server.route("/b", Reply(200, {"Content-Type": "application/json"}, body))
    assert len(poll(feed_at(by_type), store).new) == 3
    assert len(poll(feed_at(by_body), SQLiteStore(":memory:")).new) == 3
    # Its version after its items, beyond what is sniffed: served as JSON, it is still read as a JSON Feed.
    data = json.loads(body)
    late = json.dumps({"items": data["items"] * 20, "version": data["version"]}).encode()
    by_json = server.route("/c", Reply(200, {"Content-Type": "application/json; charset=utf-8"}, late))
    assert len(poll(feed_at(by_json), SQLiteStore(":memory:")).new) == 3


def test_a_saved_json_feed_whose_version_comes_last_is_replayed(tmp_path: Path) -> None:
    data = json.loads((FEEDS / "jsonfeed-1.1.json").read_bytes())
    path = tmp_path / "late.json"
    path.write_text(json.dumps({"items": data["items"] * 20, "version": data["version"]}), encoding="utf-8")
    problems: list[Problem] = []
    assert len([doc for _, doc in read_documents([path], problems.append)]) == 60 and problems == []


def test_a_malformed_json_feed_is_one_line_naming_where_and_it_backs_off(server: HttpServer, store: Store) -> None:
    broken = b'{"version": "https://jsonfeed.org/version/1.1",\n "items": [\n  {"id": "1", "title": "A"\n]}'
    bad = server.route("/bad.json", Reply(200, {"Content-Type": "application/feed+json"}, broken))
    good_body = (FEEDS / "jsonfeed-1.0.json").read_bytes()
    good = server.route("/good.json", Reply(200, {"Content-Type": "application/feed+json"}, good_body))
    failed = poll(feed_at(bad, "jsonfeed"), store)
    assert failed.error is not None and "\n" not in failed.error
    assert failed.error.startswith("line 4: JSON Feed is not valid JSON: ")
    assert failed.state.failures == 1 and failed.state.next_poll is not None
    assert len(poll(feed_at(good, "jsonfeed"), store).new) == 2  # the other feed goes on


def test_json_feed_items_of_the_wrong_types_are_named_and_the_rest_kept() -> None:
    items = [
        {"id": "1", "url": "https://ex.org/1", "title": "Kept"},
        {"id": "2", "url": "https://ex.org/2", "title": ["not", "a", "string"]},
        "not an object",
        {"id": "4", "url": "https://ex.org/4", "title": "Also kept", "authors": {"name": "not a list"}},
        {"id": "5", "url": "https://ex.org/5", "title": "Kept too", "date_published": "yesterday"},
    ]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    feed = read_feed(body, "https://ex.org/feed.json", kind="jsonfeed")
    assert [d.title for d in feed.documents] == ["Kept"]
    assert (
        feed.problem == "JSON Feed item 2 (id '2'): 'title' must be a string, not a list (and 3 more item(s) skipped)"
    )
    not_listed = read_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "x", kind="jsonfeed")
    assert not_listed.documents == [] and not_listed.problem == "JSON Feed 'items' must be a list, not an object"
    huge = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": ' + b"9" * 5000 + b"}]}"
    assert (read_feed(huge, "x", kind="jsonfeed").problem or "").startswith("JSON Feed is not valid JSON: ")
    deep = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert read_feed(deep, "x", kind="jsonfeed").problem == "JSON Feed is not valid JSON: nested too deeply"
    other_json = read_feed(b'{"type": "FeatureCollection"}', "x", kind="jsonfeed")
    assert not other_json.feed and other_json.problem is not None and "not a JSON Feed" in other_json.problem


# News sitemaps ------------------------------------------------------------------------------------------


def test_news_sitemap_entries_carry_title_date_outlet_and_language() -> None:
    feed = read_feed((FEEDS / "news-sitemap.xml").read_bytes(), "https://www.courier.example.com/news.xml")
    assert feed.problem is None
    summit, grain, port = feed.documents  # the <url> without <news:news> is no news entry
    assert summit.title == 'Summit talks resume after a night of "hard bargaining"'
    assert summit.url == "https://www.courier.example.com/world/2026/11/30/summit-talks-resume"
    assert summit.outlet == "The Example Courier" and summit.language == "en"
    assert summit.published is not None and summit.published.isoformat() == "2026-11-30T08:15:00+00:00"
    assert grain.feed_date == "2026-11-30" and summit.text == ""
    assert port.language == "zh" and port.outlet == "The Example Courier 中文"


def test_a_sitemap_needs_its_kind_and_a_plain_sitemap_is_no_news(server: HttpServer, store: Store) -> None:
    body = (FEEDS / "news-sitemap.xml").read_bytes()
    as_rss = poll(feed_at(server.route("/s.xml", Reply(200, {"Content-Type": "application/xml"}, body))), store)
    assert (
        as_rss.error
        == "not an RSS or Atom feed but a news sitemap (set kind: news-sitemap) (Content-Type: application/xml)"
    )
    plain = urlset("<url><loc>https://ex.org/about</loc></url>")
    feed = read_feed(plain, "x", kind="news-sitemap")
    assert not feed.feed and feed.problem == "not a news sitemap: no <url> has a <news:news>"


def test_sitemap_entries_get_their_pages_full_text(tmp_path: Path) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))[:2]
    got: list[Document] = []
    with HttpServer() as server:
        urls = []
        for path in seeds:
            urls.append(
                server.route(f"/a/{path.stem}.html", Reply(200, {"Content-Type": "text/html"}, seed_page(path)))
            )
        body = urlset(*(news_url(u, f"Seed {i}") for i, u in enumerate(urls)))
        feed = FeedConfig(url=server.route("/news.xml", Reply(200, {}, body)), name="Courier", kind="news-sitemap")

        async def run() -> None:
            async with Ingestor([feed], SQLiteStore(":memory:"), settings(), collect(got)) as ingestor:
                await ingestor.poll_all()

        asyncio.run(run())
    assert sorted(d.url or "" for d in got) == sorted(urls)
    assert all(d.content_from == "page" and len(d.text) > 200 and d.outlet == "The Example Courier" for d in got)


def test_a_sitemap_index_is_followed_one_level_each_sitemap_polled_conditionally(
    server: HttpServer, store: Store
) -> None:
    def conditional(body: bytes, etag: str) -> object:
        def handler(seen: Seen) -> Reply:
            if seen.headers.get("if-none-match") == etag:
                return Reply(304, {"ETag": etag})
            return Reply(200, {"Content-Type": "application/xml", "ETag": etag}, body)

        return handler

    first = server.url("/news-1.xml")
    second = server.url("/news-2.xml")
    nested = server.url("/nested.xml")
    server.route("/news-1.xml", conditional(urlset(news_url(server.url("/a/1"), "One")), '"n1"'))  # type: ignore[arg-type]
    server.route("/news-2.xml", conditional(urlset(news_url(server.url("/a/2"), "Two")), '"n2"'))  # type: ignore[arg-type]
    server.route("/nested.xml", Reply(200, {}, index(server.url("/never.xml"))))
    url = server.url("/index.xml")
    # The index lists itself (a loop), a nested index (not followed) and a sitemap that is missing.
    listed = index(first, second, url, nested, server.url("/missing.xml"))
    server.route("/index.xml", conditional(listed, '"i1"'))  # type: ignore[arg-type]
    feed = feed_at(url, "news-sitemap")
    result = poll(feed, store)
    assert sorted(d.title for d in result.new) == ["One", "Two"]
    assert result.error is None and result.problem is not None
    assert f"{url}: listed twice, or the index itself" in result.problem
    assert f"{nested}: a sitemap index listed by a sitemap index: not read" in result.problem
    assert f"{server.url('/missing.xml')}: HTTP 404" in result.problem
    assert server.seen("/never.xml") == []
    # Polled again: the index answers 304, and its sitemaps are asked for with their own validators.
    server.route(
        "/news-2.xml", Reply(200, {"Content-Type": "application/xml"}, urlset(news_url(server.url("/a/3"), "Three")))
    )
    again = poll(feed, store)
    assert again.status == 304 and [d.title for d in again.new] == ["Three"]
    assert server.seen("/news-1.xml")[1].headers["if-none-match"] == '"n1"'
    assert server.seen("/news-2.xml")[1].headers["if-none-match"] == '"n2"'


def test_an_index_none_of_whose_sitemaps_can_be_read_backs_off(server: HttpServer, store: Store) -> None:
    url = server.route("/index.xml", Reply(200, {}, index(server.url("/gone-1.xml"), server.url("/gone-2.xml"))))
    result = poll(feed_at(url, "news-sitemap"), store)
    assert result.error is not None and "\n" not in result.error
    assert f"{server.url('/gone-1.xml')}: HTTP 404; {server.url('/gone-2.xml')}: HTTP 404" in result.error
    assert result.state.failures == 1 and result.state.next_poll is not None


def test_an_index_listing_too_many_sitemaps_reads_the_newest(server: HttpServer, store: Store) -> None:
    entries = []
    for number in range(MAX_CHILDREN + 5):
        loc = server.route(
            f"/s{number}.xml", Reply(200, {}, urlset(news_url(server.url(f"/a/{number}"), f"T{number}")))
        )
        entries.append(f"<sitemap><loc>{loc}</loc><lastmod>2026-11-{number + 1:02d}</lastmod></sitemap>")
    body = f'<sitemapindex xmlns="{SITEMAP}">{"".join(entries)}</sitemapindex>'.encode()
    result = poll(feed_at(server.route("/index.xml", Reply(200, {}, body)), "news-sitemap"), store)
    titles = {d.title for d in result.new}
    assert len(titles) == MAX_CHILDREN and "T24" in titles and "T0" not in titles
    assert result.problem is not None and "the 20 newest are read" in result.problem


def test_a_malformed_sitemap_names_its_line_and_keeps_what_it_could_read() -> None:
    body = urlset(news_url("https://ex.org/1", "One")).replace(b"</urlset>", b"\n<url><loc>https://ex.org/2</loc>")
    feed = read_feed(body, "x", kind="news-sitemap")
    assert [d.title for d in feed.documents] == ["One"]
    assert (
        feed.problem is not None and feed.problem.startswith("sitemap is not well-formed: ") and feed.problem_line == 2
    )


def test_sitemap_entities_are_never_expanded() -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 8))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "ha">{laughs}<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    ).encode() + urlset(news_url("https://ex.org/1", "Laugh &l7; &xxe;"))[len(b'<?xml version="1.0"?>') :]
    feed = read_feed(body, "x", kind="news-sitemap")
    (doc,) = feed.documents
    assert "root:" not in doc.title and len(doc.title) < 100


def test_gzipped_sitemaps_are_read_within_a_bound() -> None:
    body = urlset(news_url("https://ex.org/1", "Zipped"))
    assert [d.title for d in read_feed(gzip.compress(body), "x", kind="news-sitemap").documents] == ["Zipped"]
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 2**20))
    problem = read_feed(bomb, "x", kind="news-sitemap").problem
    assert problem == "gzipped sitemap cannot be read: more than 50 MiB unzipped"


def test_replay_of_a_sitemap_index_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "index.xml"
    path.write_bytes(index("https://ex.org/a.xml", "https://ex.org/b.xml"))
    problems: list[Problem] = []
    assert list(read_documents([path], problems.append)) == []
    (problem,) = problems
    assert str(problem).startswith(f"{path}: a sitemap index (2 sitemaps: https://ex.org/a.xml, https://ex.org/b.xml)")


# The feeds file -------------------------------------------------------------------------------------------


def test_kind_in_the_feeds_file_defaults_to_rss_and_a_typo_is_named(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - url: https://ex.org/rss\n  - url: https://ex.org/feed.json\n    kind: jsonfeed\n"
        "  - url: https://ex.org/news.xml\n    kind: news-sitemap\n",
        encoding="utf-8",
    )
    assert [f.kind for f in load_feeds(path).feeds] == ["rss", "jsonfeed", "news-sitemap"]
    path.write_text("feeds:\n  - url: https://ex.org/news.xml\n    kind: news_sitemap\n", encoding="utf-8")
    with pytest.raises(Exception) as raised:
        load_feeds(path)
    assert str(raised.value).strip() == (
        f"{path}:3: 'kind' must be one of rss, jsonfeed, news-sitemap, not 'news_sitemap'"
        " (did you mean 'news-sitemap'?)"
    )


def test_feeds_poll_reads_the_kind_it_is_given(server: HttpServer) -> None:
    body = (FEEDS / "news-sitemap.xml").read_bytes()
    url = server.route("/news.xml", Reply(200, {"Content-Type": "application/xml"}, body))
    out = CliRunner().invoke(feeds_poll, ["--allow-private", "--no-full-text", "--kind", "news-sitemap", url])
    assert out.exit_code == 0, out.output
    assert "Grain prices fall for a third week" in out.stdout
