"""Article extraction from HTML pages (trafilatura)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import metadata as page_metadata

from monitor.document import parse_time
from monitor.ingest.byline import find_byline

# Less text than this after extraction means the page held no article.
MIN_ARTICLE_CHARS = 100

# A language tag's primary subtag: "de" of "de-DE", "pt" of "pt_BR".
_LANGUAGE = re.compile(r"\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")


@dataclass(frozen=True, slots=True)
class Article:
    """What extraction found on a page."""

    title: str
    text: str
    author: str | None
    published: datetime | None
    language: str | None
    url: str | None = None
    site_name: str | None = None


def extract_article(
    html: str | bytes, url: str | None = None, *, find_author: bool = True, search_date: bool = True
) -> Article | None:
    """Extract the main article of a page; None when it holds no article text.

    The page's metadata has cheap sources (meta tags, JSON-LD, <time>) and costly fallbacks, which
    a caller that already knows the answer from the feed entry can skip:
    find_author=False: no search for a byline in the page body (the costliest part of the metadata).
    search_date=False: the date only from the page's markup and URL, not guessed from its text
    (htmldate's extensive search, which also turns up copyright years).
    """
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    # One parse for everything: the metadata steps only read the tree (the byline search prunes a
    # copy), and bare_extraction works on its own copy.
    title, author, canonical = _meta(tree, url, find_author)
    language = page_language(tree)
    try:
        published = parse_time(find_date(tree, original_date=True, extensive_search=search_date, url=canonical))
    except ValueError:
        published = None
    result = trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=False, include_tables=False
    )
    text = (getattr(result, "text", None) or "").strip() if result is not None else ""
    if len(text) < MIN_ARTICLE_CHARS:
        return None
    return Article(
        title=title,
        text=text,
        author=author,
        published=published,
        language=language,
        url=canonical,
        site_name=site_name(tree),
    )


def _meta(tree: HtmlElement, url: str | None, find_author: bool) -> tuple[str, str | None, str | None]:
    """Title, author and canonical URL, the way trafilatura's extract_metadata finds them.

    Its steps are called one by one so that what the service never uses (site name, categories,
    tags) is not computed: together they cost about a tenth of an extraction.
    """
    found = page_metadata.examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None  # a lone word in a meta tag is mostly a site or a handle, not a person
    # trafilatura's own extract_metadata guards its JSON-LD parsing the same way.
    with contextlib.suppress(Exception):
        found = page_metadata.extract_meta_json(tree, found)
    title = found.title or page_metadata.extract_title(tree) or ""
    author = found.author or (find_byline(tree) if find_author else None)
    canonical = found.url or page_metadata.extract_url(tree, url)
    return title.strip(), author or None, canonical or None


def site_name(tree: HtmlElement) -> str | None:
    """The outlet's name as the page declares it (`og:site_name`), for the alert's source.

    Only that tag: the other places trafilatura looks (publisher, copyright, Twitter handles) give
    "@handle", a Facebook URL or a copyright line as often as a name.
    """
    for value in tree.xpath("//head/meta[@property='og:site_name']/@content"):
        name = " ".join(str(value).split())
        if name and "://" not in name and len(name) <= 80:
            return name
    return None


def page_language(tree: HtmlElement) -> str | None:
    """The page's declared language (html lang, Content-Language, og:locale) as a lower-case ISO 639 code."""
    candidates = [tree.get("lang"), tree.get("xml:lang")]
    candidates += tree.xpath(
        "//head/meta[translate(@http-equiv, 'CONTENTLAGU', 'contentlagu')='content-language']/@content"
        " | //head/meta[@property='og:locale']/@content"
    )
    for candidate in candidates:
        if candidate and (match := _LANGUAGE.match(str(candidate))):
            return match.group(1).lower()
    return None
