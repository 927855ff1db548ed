"""Feed parsing: feedparser turns bytes into entries, each entry becomes a Document."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from monitor.document import Document
from monitor.ingest.extract import html_to_text


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's title, its entries as Documents, and why (and at which line) it was not well-formed."""

    title: str | None
    documents: list[Document]
    problem: str | None
    problem_line: int | None = None


def parse_feed(data: bytes, origin: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse feed bytes; a feed that is not well-formed still yields what feedparser recovers."""
    parsed = feedparser.parse(data, response_headers=headers or {})
    title = parsed.feed.get("title") or None
    problem: str | None = None
    line: int | None = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        detail = exc
        # An XML error's message starts "<unknown>:LINE:COL:"; the line is reported apart, as in the file:
        # feedparser parses the data with one line prepended when it does not begin with an XML declaration.
        if isinstance(exc, SAXParseException):
            detail = exc.getMessage()
            number = exc.getLineNumber()
            if number:
                line = max(1, number - (0 if data.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 1))
        problem = f"feed is not well-formed: {detail}" if detail else "feed is not well-formed"
    docs = [entry_document(e, title, origin) for e in parsed.entries]
    return ParsedFeed(title, [d for d in docs if d is not None], problem, line)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def entry_text(entry: Any) -> tuple[str, str]:
    """The entry's own text, and which it is: its longest "content", else its "summary"."""
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    if contents:
        return html_to_text(max(contents, key=len)), "content"
    return html_to_text(entry.get("summary", "") or ""), "summary"


def entry_document(entry: Any, feed_title: str | None, origin: str) -> Document | None:
    """A Document from a feed entry's own title and content; None when the entry has neither."""
    title = html_to_text(entry.get("title", "") or "")
    text, content_from = entry_text(entry)
    if not title and not text:
        return None
    url = entry.get("link") or None
    guid = entry.get("id") or None
    return Document(
        id=Document.make_id(url or guid or origin, title, "" if (url or guid) else text),
        title=title,
        text=text,
        url=url,
        published=_entry_time(entry),
        source=feed_title,
        language=entry.get("language") or None,
        origin=origin,
        author=entry.get("author") or None,
        guid=guid,
        feed_date=entry.get("published") or entry.get("updated") or None,
        content_from=content_from,
        outlet=(entry.get("source") or {}).get("title") or None,  # an aggregator's entry names its outlet
    )
