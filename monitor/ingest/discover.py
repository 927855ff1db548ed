"""The feeds a site declares or links: `<link rel="alternate">` (RSS, Atom, JSON Feed), else links that
look like feeds, else the news sitemaps its robots.txt names and the paths sites commonly serve their
feeds at.

Which links are feeds is trafilatura's feed discovery (trafilatura.feeds.determine_feed, at the HTML
level); every page and candidate is fetched by the project's own client (monitor.ingest.http), so
that the SSRF guard, the size cap, the timeouts and the per-host limits apply as to any feed. Each
candidate is fetched and read as a feed (monitor.ingest.kinds) before it is reported: what is
reported can be polled.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from trafilatura.feeds import FeedParameters, determine_feed

from monitor.errors import InputError
from monitor.ingest import kinds
from monitor.ingest.http import Allowed, Fetched, FetchError, HttpClient
from monitor.ingest.opml import normalized_url

# A page that links more candidates than this (a directory of feeds) has only these checked: each is
# a request to the site, and a person adds a handful of a site's feeds, not hundreds.
MAX_CANDIDATES = 25
# Where sites commonly serve their feeds, tried when the page declares and links none.
COMMON_PATHS = (
    "/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json",
    "/news-sitemap.xml", "/sitemap_news.xml",
)  # fmt: skip
# Of the sitemaps robots.txt names, at most this many are checked (a site may name hundreds).
MAX_ROBOTS_SITEMAPS = 10
_FIRST_ELEMENT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_SITEMAP_KIND = "news-sitemap"


class DiscoveryError(InputError):
    """The page itself could not be fetched: the message names the URL and says why."""


@dataclass(frozen=True, slots=True)
class Found:
    """A feed found: its URL (after redirects), title, the feeds-file kind it is read as, and its format
    (rss, atom, rdf, jsonfeed, news-sitemap)."""

    url: str
    title: str | None
    kind: str
    format: str


@dataclass(slots=True)
class Discovery:
    """What a site gave: the feeds found in the order the page lists them, and one line per
    candidate that was no feed or could not be fetched (`URL: why`)."""

    page: str
    feeds: list[Found] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    probed: bool = False


async def discover(
    url: str, client: HttpClient, allow: Sequence[Allowed] = (), limit: int = MAX_CANDIDATES
) -> Discovery:
    """Fetch `url` and find its feeds. Raises DiscoveryError when the page cannot be fetched."""
    try:
        page = await client.fetch(url, allow=allow)
    except FetchError as exc:
        raise DiscoveryError(str(exc)) from None
    if page.status != 200:
        raise DiscoveryError(f"{url}: HTTP {page.status}")
    result = Discovery(page.url)
    itself = identify(page)
    if itself is not None:  # the URL is a feed already
        result.feeds.append(itself)
        return result
    candidates = feed_links(page)
    if len(candidates) > limit:
        result.problems.append(f"{page.url}: the page links {len(candidates)} feeds; the first {limit} were checked")
        candidates = candidates[:limit]
    if not candidates:
        result.probed = True
        common = [urljoin(page.url, path) for path in COMMON_PATHS]
        candidates = list(dict.fromkeys([*await _robots_sitemaps(client, page.url, allow), *common]))
    checked = await asyncio.gather(*(_check(client, candidate, allow) for candidate in candidates))
    seen: set[str] = set()
    for candidate, outcome in zip(candidates, checked, strict=True):
        if isinstance(outcome, Found):
            if normalized_url(outcome.url) not in seen:  # two links that redirect to one feed
                seen.add(normalized_url(outcome.url))
                result.feeds.append(outcome)
        elif not result.probed:  # a common path that is no feed is no news; a link the page gives is
            result.problems.append(f"{candidate}: {outcome}")
    return result


def feed_links(page: Fetched) -> list[str]:
    """The feed URLs a page declares (or, declaring none, links), absolute, in page order."""
    html = page.body.decode(_charset(page) or "utf-8", errors="replace")
    parts = urlsplit(page.url)
    params = FeedParameters(page.url, parts.hostname or "", page.url)
    return [link for link in determine_feed(html, params) if urlsplit(link).scheme in ("http", "https")]


def identify(fetched: Fetched) -> Found | None:
    """The feed a response holds, or None when it is none (a web page, an error page)."""
    if fetched.status != 200 or not fetched.body.strip():
        return None
    content_type = fetched.header("content-type") or ""
    head = fetched.body[: kinds.SNIFF_BYTES]
    if b"<html" in head[:512].lower() and "html" in content_type:
        return None  # a page, not a feed (feedparser would take an HTML page with a title for one)
    kind = kinds.sniffed(fetched.body, content_type) or kinds.KINDS[kinds.DEFAULT]
    try:
        parsed = kind.parse(fetched.body, fetched.headers)
    except Exception:
        return None
    if not parsed.feed:
        return None
    if kind.name == _SITEMAP_KIND and not parsed.entries and not (parsed.children and "news" in fetched.url.lower()):
        return None  # a sitemap of the whole site, not of its news (or an index that does not say it lists news)
    return Found(fetched.url, (parsed.title or "").strip() or None, kind.name, _format(kind.name, head))


async def _check(client: HttpClient, url: str, allow: Sequence[Allowed]) -> Found | str:
    """The feed at `url`, or why it is none."""
    try:
        fetched = await client.fetch(url, allow=allow)
    except FetchError as exc:
        return exc.reason
    if fetched.status != 200:
        return f"HTTP {fetched.status}"
    found = identify(fetched)
    if found is None:
        content_type = fetched.header("content-type") or "no Content-Type"
        return f"not a feed ({content_type})"
    return found


async def _robots_sitemaps(client: HttpClient, page: str, allow: Sequence[Allowed]) -> list[str]:
    """The sitemaps the site's robots.txt names, those that say they are news first (many outlets
    publish a Google News sitemap and no feed)."""
    try:
        robots = await client.fetch(urljoin(page, "/robots.txt"), allow=allow)
    except FetchError:
        return []
    if robots.status != 200:
        return []
    named = _SITEMAP_LINE.findall(robots.body.decode("utf-8", errors="replace"))
    urls = [u for u in dict.fromkeys(named) if urlsplit(u).scheme in ("http", "https")]
    urls.sort(key=lambda u: "news" not in u.lower())
    return urls[:MAX_ROBOTS_SITEMAPS]


def _format(kind: str, head: bytes) -> str:
    if kind != kinds.DEFAULT:
        return kind
    first = _FIRST_ELEMENT.search(head)
    name = first.group(1).decode("ascii", "replace").lower() if first else ""
    return {"feed": "atom", "rdf:rdf": "rdf"}.get(name, "rss")


def _charset(page: Fetched) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", page.header("content-type") or "", re.IGNORECASE)
    if match is None:
        return None
    try:
        "".encode(match.group(1))
    except LookupError:
        return None
    return match.group(1)
