"""OPML subscription lists, the format feed readers exchange: read into feeds, written from the feeds file.

Read with lxml, entities never expanded and nothing fetched (a DOCTYPE declaring entities is
refused), so that every outline keeps its line (`sourceline`) for the messages. listparser, the
well-kept OPML reader, was considered: it recovers from files that are not well-formed (where this
must write nothing) and keeps no lines.

What an outline gives a feed: `xmlUrl` (the feed), `title` or `text` (its name), `htmlUrl` (its
site), `language`, the titles of the folders it sits in and its `category` attribute (its tags),
and `kind` (this project's attribute) or `type="json"` for a feed that is not RSS/Atom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from monitor.errors import InputError
from monitor.ingest.feedsfile import FeedConfig, http_host

# A subscription list of 100,000 feeds is some 20 MB; anything larger is no list a person keeps.
MAX_OPML_BYTES = 32 * 1024 * 1024
RSS_KINDS = ("auto", "rss")
# OPML `type` values that mean a JSON Feed (readers write either).
JSON_TYPES = ("json", "jsonfeed")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_LANGUAGE = re.compile(r"([a-z]{2})(?:[-_][a-z0-9]+)*\Z")
_SPACES = re.compile(r"\s+")


class OpmlError(InputError):
    """The file is no OPML this can read (not well-formed, not OPML): nothing of it is used."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline.

    Attributes:
        name: its title (None when it has none, or the one it has is the URL's host, the default).
        site: the website the feed belongs to (`htmlUrl`).
        tags: the folders it sits in, outermost first, then its `category` attribute's.
        kind: how it is read when not as RSS/Atom ("jsonfeed", "news-sitemap"); None for RSS/Atom.
        line: the outline's line in the file.
    """

    url: str
    name: str | None = None
    site: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    kind: str | None = None
    line: int = 0


@dataclass(slots=True)
class OpmlList:
    """What a file gave: its feeds in file order, and each outline that could not be taken as it is,
    as `FILE:LINE: message` (left out, or taken without the attribute the message names)."""

    title: str | None
    feeds: list[OpmlFeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_opml(path: Path, kinds: Iterable[str]) -> OpmlList:
    """Read an OPML file; `kinds` are the feed kinds the feeds file takes. Raises OpmlError (one line)."""
    try:
        size = path.stat().st_size
        if size > MAX_OPML_BYTES:
            raise OpmlError(f"{path}: file is {size:,} bytes, over the {MAX_OPML_BYTES // 1024**2} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    return parse_opml(data, str(path), kinds)


def parse_opml(data: bytes, name: str, kinds: Iterable[str]) -> OpmlList:
    """Parse the bytes of an OPML file called `name` (for the messages)."""
    first = _FIRST_ELEMENT.search(data)
    declared = _ENTITY_DECLARATION.search(data, 0, first.start() if first else len(data))
    if declared:
        line = data.count(b"\n", 0, declared.start()) + 1
        raise OpmlError(f"{name}:{line}: entity declarations are not allowed in an OPML file")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 1)
        message = _SPACES.sub(" ", str(exc.msg or exc)).strip()
        message = re.sub(r",? line \d+, column \d+\Z", "", message)
        raise OpmlError(f"{name}:{line}: not well-formed XML: {message}") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"{name}:{root.sourceline}: not an OPML file (the root element is <{_local(root.tag)}>)")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OpmlError(f"{name}:{root.sourceline}: an OPML file needs a <body> with the outlines")
    head = next((child for child in root if _local(child.tag) == "head"), None)
    title = next((_text(c.text) for c in head if _local(c.tag) == "title"), None) if head is not None else None
    result = OpmlList(title=title or None)
    _Walker(name, result, frozenset(kinds) - set(RSS_KINDS)).outlines(body, ())
    return result


class _Walker:
    def __init__(self, name: str, result: OpmlList, kinds: frozenset[str]) -> None:
        self.name = name
        self.result = result
        self.kinds = kinds

    def problem(self, line: int, message: str) -> None:
        self.result.problems.append(f"{self.name}:{line}: {message}")

    def outlines(self, parent: etree._Element, folders: tuple[str, ...]) -> None:
        for element in parent:
            if isinstance(element.tag, str) and _local(element.tag) == "outline":
                self.outline(element, folders)

    def outline(self, element: etree._Element, folders: tuple[str, ...]) -> None:
        # Attribute names as readers write them vary in case (xmlUrl, xmlurl, XMLURL).
        attributes = {_local(str(k)).lower(): str(v) for k, v in element.attrib.items()}
        line = element.sourceline or 0
        label = _text(attributes.get("title")) or _text(attributes.get("text"))
        kind_of_outline = attributes.get("type", "").strip().lower()
        xml_url = attributes.get("xmlurl", "").strip()
        children = any(isinstance(c.tag, str) and _local(c.tag) == "outline" for c in element)
        if not xml_url:
            if children:
                self.outlines(element, (*folders, label) if label else folders)
            elif kind_of_outline == "include":
                included = attributes.get("url", "")
                self.problem(line, f"outline {label!r} includes another list ({included}): not followed")
            elif kind_of_outline == "link":
                self.problem(line, f"outline {label!r} is a link, not a feed (no xmlUrl): left out")
            elif kind_of_outline or "htmlurl" in attributes or "url" in attributes:
                self.problem(line, f"outline {label!r} has no xmlUrl: left out")
            # An outline with a title alone is an empty folder or a note: nothing to import.
            return
        feed = self.feed(attributes, label, folders, line)
        if feed is not None:
            self.result.feeds.append(feed)
        if children:  # a feed with outlines inside: they are read as in a folder of its name
            self.outlines(element, (*folders, label) if label else folders)

    def feed(self, attributes: dict[str, str], label: str, folders: tuple[str, ...], line: int) -> OpmlFeed | None:
        url = _from_feed_scheme(attributes["xmlurl"].strip())
        host = http_host(url)
        if host is None:
            self.problem(line, f"xmlUrl {attributes['xmlurl'].strip()!r} is not an http or https URL: left out")
            return None
        kind = self.kind(attributes, line)
        if kind is None:
            return None
        site = attributes.get("htmlurl", "").strip() or None
        if site is not None and http_host(site) is None:
            self.problem(line, f"htmlUrl {site!r} is not an http or https URL: taken without it")
            site = None
        language = attributes.get("language", "").strip().lower() or None
        if language is not None:
            match = _LANGUAGE.match(language)
            if match is None:
                self.problem(line, f"language {language!r} is not a code such as en or en-US: taken without it")
            language = match.group(1) if match else None
        # A tag given twice (a folder and a category alike, in any case) is kept once, as first written.
        tags: dict[str, str] = {}
        for tag in (*folders, *_categories(attributes.get("category", ""))):
            tags.setdefault(tag.casefold(), tag)
        return OpmlFeed(
            url=url,
            name=label if label and label != host else None,
            site=site,
            tags=tuple(tags.values()),
            language=language,
            kind=kind or None,
            line=line,
        )

    def kind(self, attributes: dict[str, str], line: int) -> str | None:
        """The outline's feed kind ("" for RSS/Atom), or None when it names one that is not read here."""
        named = attributes.get("kind", "").strip().lower()
        if not named and attributes.get("type", "").strip().lower() in JSON_TYPES:
            named = "jsonfeed"
        if not named or named in RSS_KINDS:
            return ""
        if named not in self.kinds:
            known = ", ".join(sorted({"rss", *self.kinds}))
            self.problem(line, f"feed kind {named!r} is not one this version reads ({known}): left out")
            return None
        return named


def _local(tag: str) -> str:
    """An element or attribute name without its namespace."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def _categories(raw: str) -> list[str]:
    """OPML's `category`: comma-separated tags, or slash-delimited paths ("/world/europe") of them."""
    tags: list[str] = []
    for item in raw.split(","):
        tags.extend(_text(part) for part in item.split("/") if _text(part))
    return tags


def _from_feed_scheme(url: str) -> str:
    """`feed://host/x` and `feed:https://host/x` (a pseudo-scheme some sites link) as the http(s) URL."""
    if url[:5].lower() != "feed:":
        return url
    rest = url[5:]
    return rest if rest[:7].lower() in ("http://", "https:/") else "http:" + rest


def normalized_url(url: str) -> str:
    """The URL as compared for duplicates: http and https alike, host in lower case, default port,
    fragment and a trailing slash of the path dropped (one feed listed twice is polled twice)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    if ":" in host:  # IPv6
        netloc = f"[{host}]" if port in (None, 80, 443) else f"[{host}]:{port}"
    return urlunsplit(("http", netloc, parts.path.rstrip("/") or "/", parts.query, ""))


# Writing -------------------------------------------------------------------------------------------


def write_opml(feeds: Sequence[FeedConfig], title: str, now: datetime | None = None) -> bytes:
    """OPML 2.0 of these feeds: each in a folder of its first tag (as readers file feeds), its other
    tags in `category`, and `kind` when it is not RSS/Atom; so that reading it back gives each
    feed's URL, name, site, tags, language and kind again."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for feed in feeds:
        parent = body
        if feed.tags:
            folder = feed.tags[0]
            if folder not in folders:
                folders[folder] = etree.SubElement(body, "outline", text=folder, title=folder)
            parent = folders[folder]
        outline = etree.SubElement(parent, "outline", type="rss", text=feed.name, title=feed.name, xmlUrl=feed.url)
        if feed.site:
            outline.set("htmlUrl", feed.site)
        if feed.language:
            outline.set("language", feed.language)
        if len(feed.tags) > 1:
            outline.set("category", ",".join(feed.tags[1:]))
        if feed.kind not in RSS_KINDS:
            outline.set("kind", feed.kind)
    etree.indent(root, space="  ")
    text: str = etree.tostring(root, encoding="unicode", pretty_print=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")
