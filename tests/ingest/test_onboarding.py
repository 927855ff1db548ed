"""Bringing feeds in and out as a new user would: `monitor feeds import`, `export` (OPML), through the
command line's entry point (in this process: tests/cli.py), on OPML files of tests/data/opml/ and copies
of the shipped feeds file."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.errors import FeedsFileError
from monitor.ingest.feedsfile import FeedConfig, load_feeds
from monitor.ingest.kinds import KINDS
from monitor.ingest.opml import OpmlError, OpmlFeed, normalized_url, parse_opml, read_opml
from monitor.ingest.subscribe import add_feeds
from tests.cli import run_monitor
from tests.conftest import ROOT
from tests.httpserver import HttpServer, Reply, file_reply

OPML = ROOT / "tests" / "data" / "opml"
EXAMPLE = ROOT / "deploy" / "feeds.example.yaml"
READER = OPML / "reader-export.opml"


def monitor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_monitor(*args, cwd=cwd)


@pytest.fixture
def feeds_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    shutil.copy(EXAMPLE, path)
    return path


@dataclass(frozen=True)
class Imported:
    """The shipped feeds file (a copy) after importing reader-export.opml into it, once for the module."""

    path: Path
    before: str
    out: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    path = tmp_path_factory.mktemp("imported") / "feeds.yaml"
    shutil.copy(EXAMPLE, path)
    return Imported(
        path, EXAMPLE.read_text(encoding="utf-8"), monitor("feeds", "import", str(READER), "--feeds", str(path))
    )


def removed_lines(before: str, after: str) -> list[str]:
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line for line in diff if line.startswith("- ")]


def described(feed: FeedConfig) -> tuple[object, ...]:
    return (feed.url, feed.name, feed.site, feed.tags, feed.language, feed.kind)


def test_import_adds_the_feeds_keeping_the_files_comments_and_order(imported: Imported) -> None:
    after = imported.path.read_text(encoding="utf-8")
    # Not a line of the file changed or moved: its comments, blank lines and flow lists are as they were.
    assert removed_lines(imported.before, after) == []
    assert after.startswith(imported.before)
    feeds = {f.url: f for f in load_feeds(imported.path).feeds}
    assert len(feeds) == 7 + 4
    monde = feeds["https://www.lemonde.fr/international/rss_full.xml"]
    assert described(monde) == (
        monde.url, "Le Monde International", "https://www.lemonde.fr/international/", ("News", "Europe"), "fr", "rss"
    )  # fmt: skip
    # `xmlurl` and `htmlurl` in lower case are read as well.
    assert feeds["https://www.tagesschau.de/xml/rss2/"].site == "https://www.tagesschau.de/"
    assert feeds["https://feeds.arstechnica.com/arstechnica/index"].tags == ("Tech",)
    summary = f"{imported.path}: added 4 feed(s), 3 already there, 3 outline(s) reported"
    assert imported.out.stdout.splitlines()[-1] == summary
    assert imported.out.returncode == 1


def test_import_skips_and_reports_duplicates_by_normalised_url(imported: Imported) -> None:
    skipped = [line for line in imported.out.stdout.splitlines() if line.startswith("skip")]
    # feed://rss.dw.com/... is the http URL of a feed the file has (https there); the BBC's is the same
    # URL; NPR's is listed twice in the OPML, the second time with http and its host in capitals.
    assert skipped == [
        f"skip  http://rss.dw.com/rdf/rss-en-world  (already in {imported.path}:25)",
        f"skip  https://feeds.bbci.co.uk/news/world/rss.xml  (already in {imported.path}:10)",
        f"skip  http://FEEDS.NPR.ORG/1004/rss.xml  (already in {READER}:21)",
    ]


def test_importing_again_adds_nothing(feeds_file: Path) -> None:
    assert monitor("feeds", "import", str(READER), "--feeds", str(feeds_file)).returncode == 1
    again = monitor("feeds", "import", str(READER), "--feeds", str(feeds_file))
    assert f"{feeds_file}: added 0 feed(s), 7 already there" in again.stdout
    assert len(load_feeds(feeds_file).feeds) == 11


def test_import_reports_each_bad_outline_with_its_line(imported: Imported) -> None:
    assert imported.out.stderr.splitlines() == [
        f"{READER}:25: outline 'Hacker News front page' is a link, not a feed (no xmlUrl): left out",
        f"{READER}:26: xmlUrl 'javascript:alert(1)' is not an http or https URL: left out",
        f"{READER}:27: outline 'Lost its URL' has no xmlUrl: left out",
    ]
    assert "example.org" not in imported.path.read_text(encoding="utf-8")


def test_a_file_that_is_not_well_formed_changes_nothing(feeds_file: Path) -> None:
    before = feeds_file.read_bytes()
    broken = OPML / "listparser" / "html-entity-attribute.xml"
    out = monitor("feeds", "import", str(broken), "--feeds", str(feeds_file))
    assert out.returncode == 2
    assert out.stderr == f"error: {broken}:11: not well-formed XML: Entity 'aelig' not defined (nothing written)\n"
    assert feeds_file.read_bytes() == before
    assert [p.name for p in feeds_file.parent.iterdir()] == ["feeds.yaml"]  # no temporary file left either


def test_entity_declarations_are_refused_unexpanded(tmp_path: Path, feeds_file: Path) -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE opml [\n<!ENTITY l0 "ha">{laughs}]>\n'
        '<opml version="2.0"><body><outline text="&l9;" xmlUrl="https://a.example.org/rss"/></body></opml>\n',
        encoding="utf-8",
    )
    before = feeds_file.read_bytes()
    out = monitor("feeds", "import", str(bomb), "--feeds", str(feeds_file))
    assert (out.returncode, out.stderr) == (
        2, f"error: {bomb}:3: entity declarations are not allowed in an OPML file (nothing written)\n"
    )  # fmt: skip
    assert feeds_file.read_bytes() == before


def test_dry_run_shows_the_change_and_writes_nothing(feeds_file: Path) -> None:
    before = feeds_file.read_bytes()
    out = monitor("feeds", "import", "--dry-run", str(READER), "--feeds", str(feeds_file))
    assert feeds_file.read_bytes() == before
    assert f"--- {feeds_file}\n+++ {feeds_file}\n" in out.stdout
    assert "+  - url: https://www.lemonde.fr/international/rss_full.xml\n" in out.stdout
    assert out.stdout.splitlines()[-1].endswith("(dry run: nothing written)")
    assert "would add 4 feed(s)" in out.stdout.splitlines()[-1]


def test_export_then_import_gives_every_feed_back(tmp_path: Path, imported: Imported) -> None:
    feeds_file = imported.path
    exported = tmp_path / "out.opml"
    out = monitor("feeds", "export", "--feeds", str(feeds_file), "-o", str(exported))
    assert out.returncode == 0 and out.stderr == f"{exported}: 11 feed(s) from {feeds_file}\n"
    fresh = tmp_path / "new" / "feeds.yaml"
    fresh.parent.mkdir()
    back = monitor("feeds", "import", str(exported), "--feeds", str(fresh))
    assert back.returncode == 0, back.stderr
    # Every feed with its URL, name, site, tags, language and kind (filed by first tag: the order may differ).
    assert sorted(described(f) for f in load_feeds(fresh).feeds) == sorted(
        described(f) for f in load_feeds(feeds_file).feeds
    )
    # Without -o, stdout is the same document (but for the moment it was made).
    printed = monitor("feeds", "export", "--feeds", str(feeds_file)).stdout
    assert undated(printed) == undated(exported.read_text(encoding="utf-8"))


def undated(opml: str) -> str:
    return re.sub(r"<dateCreated>[^<]*</dateCreated>", "", opml)


def test_every_kind_and_key_an_opml_holds_comes_back(tmp_path: Path) -> None:
    source = tmp_path / "kinds.yaml"
    source.write_text(
        "feeds:\n"
        "  - {url: https://gazette.example.org/feed.json, name: Harbour Gazette, kind: jsonfeed,"
        " site: https://gazette.example.org/, language: en, tags: [harbour]}\n"
        "  - {url: https://www.courier.example.com/news-sitemap.xml, kind: news-sitemap, tags: [world, news]}\n"
        "  - {url: https://feeds.example.net/rss}\n",
        encoding="utf-8",
    )
    exported = tmp_path / "kinds.opml"
    assert monitor("feeds", "export", "--feeds", str(source), "-o", str(exported)).returncode == 0
    text = exported.read_text(encoding="utf-8")
    assert 'kind="jsonfeed"' in text and 'kind="news-sitemap"' in text and text.count('type="rss"') == 3
    back = tmp_path / "back.yaml"
    assert monitor("feeds", "import", str(exported), "--feeds", str(back)).returncode == 0
    assert [described(f) for f in load_feeds(back).feeds] == [described(f) for f in load_feeds(source).feeds]
    # A feed named by its host has no name of its own, there as here.
    assert "name:" not in back.read_text(encoding="utf-8").split("news-sitemap.xml")[1]


def test_import_into_a_new_file_creates_it_loadable(tmp_path: Path) -> None:
    out = monitor("feeds", "import", str(READER), cwd=tmp_path)  # default: ./feeds.yaml
    created = tmp_path / "feeds.yaml"
    assert out.returncode == 1 and created.is_file()
    assert len(load_feeds(created).feeds) == 6
    assert monitor("feeds", "check", str(created)).returncode == 0


def test_names_taken_are_made_unique(tmp_path: Path, feeds_file: Path) -> None:
    opml = tmp_path / "same-names.opml"
    opml.write_text(
        '<opml version="2.0"><body>\n'
        '<outline text="BBC World" xmlUrl="https://www.bbc.com/other.xml"/>\n'
        '<outline text="BBC World" xmlUrl="https://www.bbc.com/again.xml"/>\n'
        "</body></opml>\n",
        encoding="utf-8",
    )
    out = monitor("feeds", "import", str(opml), "--feeds", str(feeds_file))
    assert out.returncode == 0, out.stderr
    names = [f.name for f in load_feeds(feeds_file).feeds[-2:]]
    assert names == ["BBC World (www.bbc.com)", "BBC World (www.bbc.com) 2"]
    assert "(renamed: 'BBC World' is taken)" in out.stdout


def test_import_into_the_configs_feeds_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "my-feeds.yaml")
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds: my-feeds.yaml\n", encoding="utf-8")
    out = monitor("feeds", "import", str(READER), "--config", str(config))
    assert out.returncode == 1 and f"{tmp_path / 'my-feeds.yaml'}: added 4 feed(s)" in out.stdout
    assert len(load_feeds(tmp_path / "my-feeds.yaml").feeds) == 11


def test_a_broken_feeds_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example.org/rss\n    interval: sometimes\n", encoding="utf-8")
    out = monitor("feeds", "import", str(READER), "--feeds", str(path))
    assert out.returncode == 2
    assert f"{path}:3: 'interval' must be a duration" in out.stderr
    assert "interval: sometimes" in path.read_text(encoding="utf-8") and "lemonde" not in path.read_text()


# The reader itself, on listparser's samples ------------------------------------------------------


def test_folders_and_categories_become_tags() -> None:
    (feed,) = read_opml(OPML / "listparser" / "hier-4-mixed.xml", ["rss"]).feeds
    assert (feed.url, feed.name, feed.tags) == (
        "http://domain/feed",
        "feedname",
        ("grouping", "tag", "parent", "child"),
    )
    (feed,) = read_opml(OPML / "listparser" / "tags-4-bad.xml", ["rss"]).feeds
    assert feed.tags == ("tag1", "tag2")


def test_xml_url_in_any_case_is_read() -> None:
    (feed,) = read_opml(OPML / "listparser" / "outline_xmlUrl-miscapitalized.xml", ["rss"]).feeds
    assert feed.url == "http://domain/feed" and feed.line == 12


def test_kind_is_read_when_the_feeds_file_has_it() -> None:
    opml = (
        b'<opml version="2.0"><body>\n<outline type="json" text="J" xmlUrl="https://a.example.org/feed.json"/>\n'
        b'<outline kind="news-sitemap" text="S" xmlUrl="https://a.example.org/news.xml"/>\n</body></opml>'
    )
    both = parse_opml(opml, "x.opml", KINDS)
    assert [f.kind for f in both.feeds] == ["jsonfeed", "news-sitemap"] and not both.problems
    rss_only = parse_opml(opml, "x.opml", ["rss"])
    assert rss_only.feeds == []
    assert rss_only.problems[1] == "x.opml:3: feed kind 'news-sitemap' is not one this version reads (rss): left out"


def test_what_is_not_opml_is_one_error() -> None:
    with pytest.raises(OpmlError, match=r"^x.xml:1: not an OPML file \(the root element is <rss>\)$"):
        parse_opml(b"<rss><channel/></rss>", "x.xml", ["rss"])
    with pytest.raises(OpmlError, match=r"^x.opml:3: not well-formed XML: "):
        parse_opml(b"<opml>\n<body>\n<outline text='a'></body></opml>", "x.opml", ["rss"])


def test_normalised_urls() -> None:
    same = ["https://Example.org/feed/", "http://example.org:80/feed", "HTTP://EXAMPLE.ORG/feed#top"]
    assert len({normalized_url(u) for u in same}) == 1
    assert normalized_url("https://example.org/feed?a=1") != normalized_url("https://example.org/feed?a=2")
    assert normalized_url("https://example.org:8443/feed") != normalized_url("https://example.org/feed")


def test_an_edit_that_does_not_load_is_never_written(feeds_file: Path) -> None:
    before = feeds_file.read_bytes()
    existing = load_feeds(feeds_file).feeds
    edit = add_feeds(feeds_file, existing, [OpmlFeed("https://new.example.org/rss", "New", line=3)], "x.opml")
    assert "  - url: https://new.example.org/rss\n    name: New\n" in edit.after

    def refuse(path: Path) -> None:
        assert path.parent == feeds_file.parent and path.read_text(encoding="utf-8") == edit.after
        raise FeedsFileError([f"{path}:48: refused"])

    with pytest.raises(FeedsFileError) as raised:
        edit.write(refuse)
    assert raised.value.errors == [f"{feeds_file}:48: refused"]  # the file's name, not the temporary one's
    assert feeds_file.read_bytes() == before
    assert [p.name for p in feeds_file.parent.iterdir()] == ["feeds.yaml"]
    edit.write(load_feeds)
    assert load_feeds(feeds_file).feeds[-1].url == "https://new.example.org/rss"


# Discovery: a site on a real HTTP server on 127.0.0.1 -------------------------------------------

FEEDS = ROOT / "tests" / "data" / "feeds"
HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}


def home_page(*links: str, body: str = "") -> Reply:
    head = "".join(links)
    return Reply(200, HTML, f"<html><head><title>A site</title>{head}</head><body>{body}</body></html>".encode())


@pytest.fixture(scope="module")
def site() -> Iterator[HttpServer]:
    with HttpServer() as server:
        server.route(
            "/",
            home_page(
                '<link rel="alternate" type="application/rss+xml" title="Bookmarks" href="/feeds/bookmarks.rss">',
                '<link rel="alternate" type="application/atom+xml" href="feeds/replies.atom">',
                '<link rel="alternate" type="application/rss+xml" href="/feeds/gone.rss">',
                '<link rel="alternate" type="application/feed+json" title="JSON" href="/feeds/all.json">',
            ),
        )
        server.route("/feeds/all.json", file_reply(FEEDS / "jsonfeed-1.1.json", "application/feed+json"))
        server.route("/news-sitemap.xml", file_reply(FEEDS / "news-sitemap.xml", "application/xml"))
        server.route("/feeds/bookmarks.rss", file_reply(FEEDS / "rss2.0withAtomNS.rss", "application/rss+xml"))
        server.route("/feeds/replies.atom", file_reply(FEEDS / "atomthreadingwithentry.atom", "application/atom+xml"))
        # No feed declared: a link that looks like one, and a feed at a common path.
        server.route("/plain/", home_page(body='<a href="/plain/news.rss">RSS</a> <a href="/about">About</a>'))
        server.route("/plain/news.rss", file_reply(FEEDS / "rss2.0withAtomNS.rss", "application/rss+xml"))
        server.route("/bare/", home_page(body="<p>no feed links here</p>"))
        server.route("/rss.xml", file_reply(FEEDS / "atomthreadingwithentry.atom", "application/xml"))
        many = "".join(f'<link rel="alternate" type="application/rss+xml" href="/many/{i}.xml">' for i in range(500))
        server.route("/many/", home_page(many))
        yield server


def test_discover_lists_the_feeds_a_page_declares_with_title_and_kind(site: HttpServer) -> None:
    out = monitor("feeds", "discover", "--allow-private", site.url("/"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"rss           Delicious/wearehugh  {site.url('/feeds/bookmarks.rss')}",
        f"atom          Comments on salmon-test: Test post  {site.url('/feeds/replies.atom')}",
        f"jsonfeed      Harbour Gazette  {site.url('/feeds/all.json')}",
    ]
    # The declared link that is no feed is named, once, on stderr.
    assert out.stderr == f"warning: {site.url('/feeds/gone.rss')}: HTTP 404\n"


def test_discover_follows_feed_like_links_then_common_paths(site: HttpServer) -> None:
    linked = monitor("feeds", "discover", "--allow-private", site.url("/plain/"))
    assert linked.stdout.splitlines() == [f"rss           Delicious/wearehugh  {site.url('/plain/news.rss')}"]
    probed = monitor("feeds", "discover", "--allow-private", site.url("/bare/"))
    assert probed.returncode == 0, probed.stderr
    assert probed.stdout.splitlines() == [
        f"atom          Comments on salmon-test: Test post  {site.url('/rss.xml')}",
        f"news-sitemap  -  {site.url('/news-sitemap.xml')}",
    ]
    assert probed.stderr == ""  # the common paths that are no feed are not news


def test_discover_of_a_feed_is_the_feed(site: HttpServer) -> None:
    out = monitor("feeds", "discover", "--allow-private", site.url("/feeds/bookmarks.rss"))
    assert out.stdout.splitlines() == [f"rss           Delicious/wearehugh  {site.url('/feeds/bookmarks.rss')}"]


def test_a_page_linking_500_feeds_has_25_checked_and_says_so(site: HttpServer) -> None:
    before = len(site.requests)
    out = monitor("feeds", "discover", "--allow-private", site.url("/many/"))
    warnings = [line for line in out.stderr.splitlines() if "the page links" in line]
    assert warnings == [f"warning: {site.url('/many/')}: the page links 500 feeds; the first 25 were checked"]
    assert len(site.requests) - before == 1 + 25
    assert out.returncode == 1 and "no feed found" in out.stderr


def test_discover_fetches_through_the_ssrf_guard(site: HttpServer) -> None:
    refused = monitor("feeds", "discover", site.url("/"))
    assert refused.returncode == 1 and refused.stderr.startswith(f"error: {site.url('/')}: refused")
    # --allow-private opens the site's own host and port, not another private one its page links.
    with HttpServer() as other:
        other.route("/feed.xml", file_reply(FEEDS / "rss2.0withAtomNS.rss", "application/rss+xml"))
        site.route(
            "/elsewhere/",
            home_page(f'<link rel="alternate" type="application/rss+xml" href="{other.url("/feed.xml")}">'),
        )
        out = monitor("feeds", "discover", "--allow-private", site.url("/elsewhere/"))
        assert other.requests == []
    assert out.returncode == 1 and f"warning: {other.url('/feed.xml')}: refused" in out.stderr


def test_discover_add_puts_the_feeds_in_the_feeds_file(site: HttpServer, feeds_file: Path) -> None:
    before = feeds_file.read_text(encoding="utf-8")
    out = monitor("feeds", "discover", "--add", "--allow-private", site.url("/"), "--feeds", str(feeds_file))
    assert out.returncode == 0, out.stderr
    after = feeds_file.read_text(encoding="utf-8")
    assert after.startswith(before)
    added = load_feeds(feeds_file).feeds[-3:]
    assert [(f.url, f.name, f.site, f.kind) for f in added] == [
        (site.url("/feeds/bookmarks.rss"), "Delicious/wearehugh", site.url("/"), "rss"),
        (site.url("/feeds/replies.atom"), "Comments on salmon-test: Test post", site.url("/"), "rss"),
        (site.url("/feeds/all.json"), "Harbour Gazette", site.url("/"), "jsonfeed"),
    ]
    again = monitor("feeds", "discover", "--add", "--allow-private", site.url("/"), "--feeds", str(feeds_file))
    assert f"{feeds_file}: added 0 feed(s), 3 already there" in again.stdout


def test_a_missing_opml_file_is_one_line(tmp_path: Path) -> None:
    out = monitor("feeds", "import", str(tmp_path / "none.opml"), "--feeds", str(tmp_path / "feeds.yaml"))
    assert out.returncode == 2
    assert (
        out.stderr
        == f"error: {tmp_path / 'none.opml'}: cannot read file: No such file or directory (nothing written)\n"
    )
    assert not (tmp_path / "feeds.yaml").exists()


def test_discover_finds_the_news_sitemap_robots_txt_names(tmp_path: Path) -> None:
    plain = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://www.courier.example.com/about</loc></url></urlset>'
    with HttpServer() as outlet:
        outlet.route("/", home_page(body="<p>an outlet with no feed</p>"))
        robots = (
            "User-agent: *\nDisallow: /search\n"
            f"Sitemap: {outlet.url('/sitemaps/pages.xml')}\nsitemap: {outlet.url('/sitemaps/google-news.xml')}\n"
        )
        outlet.route("/robots.txt", Reply(200, {"Content-Type": "text/plain"}, robots.encode()))
        outlet.route("/sitemaps/google-news.xml", file_reply(FEEDS / "news-sitemap.xml", "application/xml"))
        outlet.route("/sitemaps/pages.xml", Reply(200, XML, plain))
        out = monitor("feeds", "discover", "--allow-private", outlet.url("/"))
        assert out.returncode == 0, out.stderr
        # The whole site's sitemap is no feed of its news: it is not listed.
        assert out.stdout.splitlines() == [f"news-sitemap  -  {outlet.url('/sitemaps/google-news.xml')}"]
        feeds_file = tmp_path / "feeds.yaml"
        added = monitor("feeds", "discover", "--add", "--allow-private", outlet.url("/"), "--feeds", str(feeds_file))
        assert added.returncode == 0, added.stderr
    (feed,) = load_feeds(feeds_file).feeds
    assert (feed.url, feed.kind, feed.site) == (
        outlet.url("/sitemaps/google-news.xml"),
        "news-sitemap",
        outlet.url("/"),
    )
