"""The Document: the one type every stage after extraction sees."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Document:
    """An article, however it reached us.

    Attributes:
        id: stable identifier (derived from the URL, else from the origin and content).
        title: headline.
        text: article body as plain text.
        url: canonical URL of the article, when known.
        published: publication time (UTC), when known.
        source: where it was published: a feed's name or the site's domain.
        language: ISO 639-1 code, when known.
        origin: where this copy came from: a file path or a feed URL.
        seen: when the service first saw it (UTC); None for files read by replay.
        author: byline, when known.
        guid: the feed entry's GUID / Atom id, when it came from a feed.
        feed_date: the entry's date exactly as the feed wrote it.
        page_date: the publication date found on the article page (UTC).
        content_from: where `text` came from: "file", "page" (extracted), or the feed
            entry's "content" or "summary" when the page could not be used.
        republished: an old article that appeared as new (a regenerated GUID, a re-syndication).
        outlet: who published it, when the article says: the page's site name (`og:site_name`), the
            feed entry's `<source>`, a file's front matter `source`. (An aggregator's feed, such as a
            Google News search, carries many outlets: `source` is then the feed, `outlet` the publisher.)
    """

    id: str
    title: str
    text: str
    url: str | None = None
    published: datetime | None = None
    source: str | None = None
    language: str | None = None
    origin: str = ""
    seen: datetime | None = None
    author: str | None = None
    guid: str | None = None
    feed_date: str | None = None
    page_date: datetime | None = None
    content_from: str = "file"
    republished: bool = False
    outlet: str | None = None

    @staticmethod
    def make_id(*parts: str | None) -> str:
        """A short stable id from the given parts (URL, or origin and content)."""
        digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8"))
        return digest.hexdigest()[:16]

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready mapping; `from_record` reads it back unchanged."""
        record = asdict(self)
        for key in ("published", "seen", "page_date"):
            value = record[key]
            record[key] = value.isoformat() if value is not None else None
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Document:
        """Rebuild a Document from `to_record` output; raises ValueError when it is malformed."""
        unknown = set(record) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        title = record.get("title")
        text = record.get("text")
        if not isinstance(title, str) or not isinstance(text, str):
            raise ValueError("'title' and 'text' must be strings")
        values = dict(record)
        for key in ("published", "seen", "page_date"):
            values[key] = parse_time(values.get(key))
        if not values.get("id"):
            values["id"] = cls.make_id(values.get("url"), title, text)
        return cls(**values)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string, datetime or date as an aware UTC datetime; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    else:
        raise ValueError(f"not a time: {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
