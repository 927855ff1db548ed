"""What every feed kind gives: the entries of one body, before they become Documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EntryData:
    """One entry as its feed gives it, before it becomes a Document.

    Attributes:
        text: the entry's own text (plain), and `content_from` where it came from ("content", "summary").
        published: the entry's date in UTC, when it has one; `feed_date` that date as written.
        outlet: who published it, when the entry says (an aggregator's entry names its publisher).
    """

    title: str
    text: str
    link: str | None = None
    guid: str | None = None
    published: datetime | None = None
    feed_date: str | None = None
    author: str | None = None
    language: str | None = None
    content_from: str = "summary"
    outlet: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a kind read from one body.

    Attributes:
        feed: False when the body is no feed of this kind at all (a web page where the feed was).
        problem, problem_line: why (and where) the body is not well-formed; what could be read is kept.
        ttl: seconds the feed asks readers to wait between polls, when it says.
        children: further documents to read (a sitemap index's sitemaps).
    """

    title: str | None
    entries: list[EntryData] = field(default_factory=list)
    feed: bool = True
    problem: str | None = None
    problem_line: int | None = None
    ttl: float | None = None
    children: list[str] = field(default_factory=list)


class Kind(Protocol):
    """One kind of feed."""

    name: str
    # What the kind reads, for messages ("a JSON Feed").
    label: str
    # True when a feed of kind "rss" serving a body of this kind is read as this kind (a feed URL may
    # serve JSON Feed, as feed readers expect); False when the kind must be named (a news sitemap).
    read_under_rss: bool

    def sniff(self, head: bytes, content_type: str) -> bool:
        """True when a body starting with `head` (served as `content_type`) looks like this kind."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Parsed:
        """Read one body; never raises for what the body holds (the problem says what was wrong)."""
        ...


def primary_language(code: object) -> str | None:
    """The primary subtag of a language tag, lower-case ("en-US" -> "en"), as the service's languages are named;
    None for anything that is not a tag."""
    if not isinstance(code, str):
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha() else None
