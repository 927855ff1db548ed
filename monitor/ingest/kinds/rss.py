"""RSS, Atom and RDF feeds, read by feedparser, with entity declarations left unexpanded."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from monitor.ingest.kinds.base import EntryData, Parsed
from monitor.ingest.markup import html_to_text

# The prolog runs to the first element; entity declarations live in it (the DOCTYPE's internal subset).
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s+)?[^\s>]+\s+(\"[^\"]*\"|'[^']*'|[^>]*?)\s*>", re.DOTALL)
# A character reference expands to one character: no declaration of one can blow a feed up.
_CHARACTER = re.compile(rb"[\"']&#(?:[0-9]+|x[0-9A-Fa-f]+);[\"']\Z")
_DECLARED_WIDE = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])(utf-?(?:16|32)[^\"']*)", re.IGNORECASE)
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")


class RssKind:
    """RSS 0.9x-2.0, Atom and RDF (RSS 1.0), by feedparser."""

    name = "rss"
    label = "an RSS or Atom feed"
    read_under_rss = True

    def sniff(self, head: bytes, content_type: str) -> bool:
        return True  # the default: whatever else it is, feedparser says whether it is a feed

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Parsed:
        body, dropped = without_entity_declarations(body)
        body, headers = _narrow_encoding(body, headers)
        parsed = feedparser.parse(body, response_headers=dict(headers))
        problem, line = _problem(parsed, body)
        if dropped:
            # The references to them are what the XML parser then stumbles on: that is no news.
            declared = f"feed declares {dropped} entit{'y' if dropped == 1 else 'ies'}: not expanded"
            keep = problem is not None and "undefined entity" not in problem
            problem, line = (f"{declared}; {problem}", line) if keep else (declared, None)
        is_feed = bool(parsed.entries) or bool(parsed.get("version"))
        if not is_feed:
            problem, line = "not an RSS or Atom feed", None
        title = parsed.feed.get("title") or None
        ttl = None
        raw_ttl = parsed.feed.get("ttl")
        if isinstance(raw_ttl, str) and raw_ttl.strip().isdigit():
            ttl = float(raw_ttl.strip()) * 60
        entries = [e for e in (_entry(item) for item in parsed.entries) if e is not None]
        return Parsed(title, entries, is_feed, problem, line, ttl)


KIND = RssKind()


def without_entity_declarations(body: bytes) -> tuple[bytes, int]:
    """The body with its entity declarations removed (but those of one character reference), and how many.

    An entity may stand for text holding other entities, and a few hundred bytes of declarations
    then expand to gigabytes (the "billion laughs"); one long entity used many times grows the text
    quadratically. expat refuses both, but feedparser then falls back to a parser that expands them.
    Without the declarations, references to them stay as they are written.
    """
    first = _FIRST_ELEMENT.search(body)
    end = first.start() if first else len(body)
    head = body[:end]
    if b"<!ENTITY" not in head:
        return body, 0
    dropped = 0

    def keep_characters(match: re.Match[bytes]) -> bytes:
        nonlocal dropped
        if match.group(1) is None and _CHARACTER.match(match.group(2)):
            return match.group(0)
        dropped += 1
        return b""

    return _ENTITY.sub(keep_characters, head) + body[end:], dropped


def _narrow_encoding(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, Mapping[str, str]]:
    """A body declared UTF-16 or UTF-32 whose bytes are 8-bit (no byte order mark, no NUL byte in its
    markup) is read as UTF-8, or windows-1252 when it is not UTF-8: decoded as declared it is noise."""
    declared = _DECLARED_WIDE.match(body)
    content_type = headers.get("content-type", "")
    wide_header = re.search(r"charset\s*=\s*[\"']?utf-?(16|32)", content_type, re.IGNORECASE)
    if (declared is None and wide_header is None) or body.startswith(_WIDE_BOMS) or b"\x00" in body[:512]:
        return body, headers
    try:
        body.decode("utf-8")
        encoding = b"utf-8"
    except UnicodeDecodeError:
        encoding = b"windows-1252"
    if declared is not None:
        body = declared.group(1) + encoding + body[declared.end() :]
    if wide_header is not None:
        headers = {**headers, "content-type": content_type[: wide_header.start()] + f"charset={encoding.decode()}"}
    return body, headers


def _problem(parsed: Any, body: bytes) -> tuple[str | None, int | None]:
    if not parsed.get("bozo"):
        return None, None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return None, None  # another encoding than declared, and it read fine
    detail: object = exc
    line = None
    # An XML error's message starts "<unknown>:LINE:COL:"; the line is reported apart, as in the file:
    # feedparser parses the data with one line prepended when it does not begin with an XML declaration.
    if isinstance(exc, SAXParseException):
        detail = exc.getMessage()
        number = exc.getLineNumber()
        if number:
            line = max(1, number - (0 if body.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 1))
    return (f"feed is not well-formed: {detail}" if detail else "feed is not well-formed"), line


def _time(entry: Any) -> datetime | None:
    """The entry's date in UTC (feedparser reads RFC 822 with zone abbreviations such as EST, and ISO 8601)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _entry(entry: Any) -> EntryData | None:
    """An entry's own title, text (its longest "content", else its "summary"), link and dates."""
    title = html_to_text(entry.get("title", "") or "")
    contents = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    if contents:
        text, content_from = html_to_text(max(contents, key=len)), "content"
    else:
        text, content_from = html_to_text(entry.get("summary", "") or ""), "summary"
    if not title and not text:
        return None
    return EntryData(
        title=title,
        text=text,
        link=entry.get("link") or None,
        guid=entry.get("id") or None,
        published=_time(entry),
        feed_date=entry.get("published") or entry.get("updated") or None,
        author=entry.get("author") or None,
        language=entry.get("language") or None,
        content_from=content_from,
        outlet=(entry.get("source") or {}).get("title") or None,  # an aggregator's entry names its outlet
    )
