"""News sitemaps (Google News: https://www.google.com/schemas/sitemap-news/0.9), read by lxml.

A `<urlset>` gives one entry per `<url>` with a `<news:news>`: its `<loc>`, `news:title`,
`news:publication_date`, `news:publication/news:name` (the outlet) and `news:language`. A sitemap
carries no article text: the service fetches each new entry's page (full_text). A `<sitemapindex>`
gives no entries but the sitemaps it lists (`children`, at most MAX_SITEMAPS, the newest first), which
the poller reads in turn, one level deep. Gzipped sitemaps are read up to MAX_UNZIPPED bytes.

The XML is parsed without entity expansion, DTD loading or network access.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any

from lxml import etree

from monitor.document import parse_time
from monitor.ingest.kinds.base import EntryData, Parsed, primary_language
from monitor.ingest.kinds.rss import without_entity_declarations

MAX_SITEMAPS = 20
MAX_UNZIPPED = 50 * 1024 * 1024
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(urlset|sitemapindex)[\s>]")
_GZIP = b"\x1f\x8b"
_POSITION = re.compile(r",\s*line \d+,\s*column \d+\s*\Z")


class _TooLarge(Exception):
    pass


class NewsSitemapKind:
    """Google News sitemaps and the sitemap indexes that list them."""

    name = "news-sitemap"
    label = "a news sitemap"
    read_under_rss = False

    def sniff(self, head: bytes, content_type: str) -> bool:
        return bool(_ROOT.search(head))

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Parsed:
        if body.startswith(_GZIP):
            try:
                body = _gunzip(body)
            except (zlib.error, _TooLarge) as exc:
                return Parsed(None, problem=f"gzipped sitemap cannot be read: {exc}")
        body, _ = without_entity_declarations(body)
        problem, line = None, None
        try:
            root = etree.fromstring(body, _parser(recover=False))
        except etree.XMLSyntaxError as exc:
            message = _POSITION.sub("", str(exc.msg))  # the line is reported apart
            problem, line = f"sitemap is not well-formed: {message}", exc.lineno or None
            try:
                root = etree.fromstring(body, _parser(recover=True))  # what can be read is kept
            except etree.XMLSyntaxError:
                root = None
        if root is None:
            return Parsed(None, problem=problem or "sitemap is empty", problem_line=line)
        top = _local(root)
        if top == "sitemapindex":
            children, more = _children(root)
            if more:
                note = f"sitemap index lists {more + len(children)} sitemaps: the {len(children)} newest are read"
                problem = f"{problem}; {note}" if problem else note
            return Parsed(None, problem=problem, problem_line=line, children=children)
        if top != "urlset":
            return Parsed(None, feed=False, problem=f"not a sitemap (its root element is <{top}>)")
        entries: list[EntryData] = []
        plain = 0
        untitled: int | None = None
        for number, url in enumerate((c for c in root if _local(c) == "url"), start=1):
            news = _child(url, "news")
            if news is None:
                plain += 1
                continue
            entry = _entry(url, news)
            if entry is None:
                untitled = untitled or number
                continue
            entries.append(entry)
        if not entries and plain and untitled is None:
            return Parsed(None, feed=False, problem="not a news sitemap: no <url> has a <news:news>")
        if untitled is not None:
            note = f"<url> {untitled}: no <loc> or no <news:title>, skipped"
            problem = f"{problem}; {note}" if problem else note
        return Parsed(None, entries, problem=problem, problem_line=line)


KIND = NewsSitemapKind()


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover,
        remove_comments=True, remove_pis=True,
    )  # fmt: skip


def _gunzip(body: bytes) -> bytes:
    """The body ungzipped, at most MAX_UNZIPPED bytes (a small gzip can stand for gigabytes)."""
    inflater = zlib.decompressobj(wbits=31)
    data = inflater.decompress(body, MAX_UNZIPPED + 1)
    if len(data) > MAX_UNZIPPED:
        raise _TooLarge(f"more than {MAX_UNZIPPED // 2**20} MiB unzipped")
    return data


def _local(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child(element: Any, name: str) -> Any:
    return next((c for c in element if _local(c) == name), None)


def _text(element: Any, *path: str) -> str:
    for name in path:
        if element is None:
            return ""
        element = _child(element, name)
    return " ".join((element.text or "").split()) if element is not None else ""


def _children(root: Any) -> tuple[list[str], int]:
    """The sitemaps an index lists, newest first (by lastmod, undated last), at most MAX_SITEMAPS; and how
    many more it lists."""
    listed: list[tuple[str, str]] = []
    for sitemap in root:
        if _local(sitemap) == "sitemap" and (loc := _text(sitemap, "loc")):
            listed.append((_text(sitemap, "lastmod"), loc))
    dated = [(str(_sortable(mod)), loc) for mod, loc in listed]
    ordered = sorted(range(len(listed)), key=lambda i: dated[i][0], reverse=True)
    locs = list(dict.fromkeys(listed[i][1] for i in ordered))
    return locs[:MAX_SITEMAPS], max(0, len(locs) - MAX_SITEMAPS)


def _sortable(lastmod: str) -> str:
    try:
        moment = parse_time(lastmod)
    except ValueError:
        return ""
    return moment.isoformat() if moment else ""


def _entry(url: Any, news: Any) -> EntryData | None:
    loc = _text(url, "loc")
    title = _text(news, "title")
    if not loc or not title:
        return None
    raw_date = _text(news, "publication_date") or None
    try:
        published = parse_time(raw_date)
    except ValueError:
        published = None
    return EntryData(
        title=title,
        text="",
        link=loc,
        published=published,
        feed_date=raw_date,
        language=primary_language(_text(news, "publication", "language")),
        content_from="summary",
        outlet=_text(news, "publication", "name") or None,
    )
