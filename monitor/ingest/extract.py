"""Article extraction from HTML pages (trafilatura) and plain text from feed HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import lxml.html
import trafilatura
from lxml.etree import ParserError

from monitor.document import parse_time

# Less text than this after extraction means the page held no article.
MIN_ARTICLE_CHARS = 100


@dataclass(frozen=True, slots=True)
class Article:
    """What extraction found on a page."""

    title: str
    text: str
    author: str | None
    published: datetime | None
    language: str | None
    url: str | None = None


def extract_article(html: str | bytes, url: str | None = None) -> Article | None:
    """Extract the main article of a page; None when it holds no article text."""
    result = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    if result is None:
        return None
    text = (getattr(result, "text", None) or "").strip()
    if len(text) < MIN_ARTICLE_CHARS:
        return None
    try:
        published = parse_time(getattr(result, "date", None))
    except ValueError:
        published = None
    return Article(
        title=(getattr(result, "title", None) or "").strip(),
        text=text,
        author=getattr(result, "author", None) or None,
        published=published,
        language=getattr(result, "language", None) or None,
        url=getattr(result, "url", None) or None,
    )


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content or summary)."""
    if "<" not in fragment:
        return fragment.strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return fragment.strip()
    for block in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr"):
        block.tail = "\n" + (block.tail or "")
    text: str = root.text_content()
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
