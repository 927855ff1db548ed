"""From a feed's bytes to its entries' Documents: the same path live and in replay, whatever the kind.

The kind (monitor.ingest.kinds) reads the body; here each entry becomes a Document with a canonical
URL, a stable id, its date in UTC and bounded size. Limits: a feed gives at most MAX_ENTRIES entries,
a title at most MAX_TITLE_CHARS characters, a text at most MAX_TEXT_CHARS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import courlan

from monitor.document import Document
from monitor.ingest.kinds import AUTO, read
from monitor.ingest.kinds.base import EntryData

MAX_ENTRIES = 1000
MAX_TITLE_CHARS = 1000
MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class FeedDocuments:
    """One body read: the feed's title, its entries as Documents, and what the kind said about it."""

    title: str | None
    documents: list[Document] = field(default_factory=list)
    feed: bool = True
    problem: str | None = None
    problem_line: int | None = None
    ttl: float | None = None
    children: list[str] = field(default_factory=list)


def canonical_url(url: str) -> str:
    """The URL entries are compared by: lower-case host, default port and fragment removed, tracking
    parameters (utm_*, fbclid...) dropped, query sorted (courlan)."""
    try:
        parts = urlsplit(courlan.normalize_url(url.strip()))
    except (ValueError, TypeError):
        return url.strip()
    # courlan keeps fragments unless `strict`, which also drops ordinary query parameters; a "#!" route is content.
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit(parts._replace(fragment=fragment))


def read_feed(
    body: bytes,
    origin: str,
    headers: Mapping[str, str] | None = None,
    kind: str = AUTO,
    source: str | None = None,
    language: str | None = None,
    seen: datetime | None = None,
) -> FeedDocuments:
    """The entries of one body as Documents.

    Args:
        origin: where the body came from (the feed's URL, or a file), kept as each Document's origin.
        headers: the response's headers (a charset given only by HTTP is used).
        kind: the feed's kind (monitor.ingest.kinds), or "auto" (files) to tell it from the body.
        source: the Documents' source (the feed's name); None: the feed's own title.
        language: the feed's language, when the feeds file says (else each entry's own).
        seen: when the feed was fetched: a missing or future date becomes it. None (replay): kept as is.
    """
    parsed = read(body, headers or {}, kind)
    docs = [document_of(e, source or parsed.title, origin, language, seen) for e in parsed.entries[:MAX_ENTRIES]]
    return FeedDocuments(
        parsed.title, docs, parsed.feed, parsed.problem, parsed.problem_line, parsed.ttl, parsed.children
    )


def document_of(
    entry: EntryData, source: str | None, origin: str, language: str | None, seen: datetime | None
) -> Document:
    """A Document of one entry: canonical URL, an id from it (or the GUID), dates made safe, sizes bounded."""
    url = canonical_url(entry.link) if entry.link else None
    title = entry.title[:MAX_TITLE_CHARS]
    text = entry.text[:MAX_TEXT_CHARS]
    published = entry.published
    if seen is not None and (published is None or published > seen):
        published = seen
    named = url or entry.guid
    # Not from `origin`: an entry without link or GUID gets the same id from a file (replay) as live.
    return Document(
        id=Document.make_id(named, title, "" if named else text),
        title=title,
        text=text,
        url=url,
        published=published,
        source=source,
        language=language or entry.language,
        origin=origin,
        seen=seen,
        author=entry.author,
        guid=entry.guid,
        feed_date=entry.feed_date,
        content_from=entry.content_from,
        outlet=entry.outlet,
    )
