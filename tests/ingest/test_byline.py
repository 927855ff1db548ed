"""The byline search selects what trafilatura's own author search selects, and finds the same name."""

from __future__ import annotations

from functools import cache
from itertools import product

import lxml.html
import pytest
import trafilatura
from lxml.html import HtmlElement
from trafilatura.metadata import extract_author
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from monitor.ingest.byline import (
    BYLINE_DISCARD_XPATHS,
    BYLINE_XPATHS,
    TRANSCRIBED_DIGEST,
    TRANSCRIBED_FROM,
    expressions_digest,
    find_byline,
)
from tests.conftest import CORPORA

CORPUS = CORPORA / "trafilatura" / "tests" / "cache"

# Every literal of trafilatura's expressions, and near misses of them.
VALUES = [
    "author",
    "authorname",
    "author-name",
    "AuthorName",
    "authorName",
    "AuthorCard",
    "AuthorURL",
    "byline",
    "Byline",
    "username",
    "byl",
    "BBL",
    "zuozhe",
    "bianji",
    "xiaobian",
    "channel-name",
    "submitted-by",
    "posted-by",
    "journalist-name",
    "screenname",
    "writer",
    "Author",
    "comments",
    "Comments",
    "commentlist",
    "comment-list",
    "comments-list",
    "ProductReviews",
    "title",
    "date",
    "sidebar",
    "is-hidden",
    "quote",
    "embedly-instagram",
    "article-share",
    "article-support",
    "print",
    "category",
    "meta-date",
    "meta-reviewer",
    "Figure",
    "me",
    "AUTHOR",
    "auth",
    "byl-ine",
    "comment",
]
TAGS = ["a", "address", "div", "link", "p", "span", "strong", "h3", "h4", "section", "li", "time", "figure"]
ATTRIBUTES = ["rel", "id", "class", "itemprop", "data-testid", "data-component"]


@cache
def synthetic_page() -> HtmlElement:
    """One element per tag, attribute and value (alone, then with text before or after it)."""
    elements = []
    for tag, attribute, value in product(TAGS, ATTRIBUTES, [*VALUES, "author name"]):
        for shown in (value, f"x {value}", f"{value} x", f"x{value}"):
            elements.append(f'<{tag} {attribute}="{shown}">Jane Roe</{tag}>')
    elements += ["<div><rel>me</rel>Jane Roe</div>", "<span><rel>you</rel></span>", "<author>Jane Roe</author>"]
    page = f'<html class="author"><body><div class="comments">{"".join(elements)}</div></body></html>'
    return lxml.html.fromstring(page)


@cache
def corpus_pages() -> tuple[HtmlElement, ...]:
    pages = sorted(CORPUS.glob("*.html"))
    assert pages, f"no pages in {CORPUS}: the trafilatura subset ships with the tests"
    trees = [trafilatura.load_html(page.read_bytes()) for page in pages]
    return tuple(tree for tree in trees if tree is not None)


def small_pages() -> list[str]:
    """Bylines among sections that are pruned first, with dates and figures inside, too short or long."""
    bylines = [
        '<span class="author">Jane Roe</span>',
        '<p class="byline">By Jane Roe</p>',
        '<a rel="author" href="/jr">Jane Roe</a>',
        '<div itemprop="author">Jane Roe</div>',
        '<section data-component="Byline">Jane Roe</section>',
        '<li class="writer">Jane Roe</li>',
        '<span class="author">By <time>today</time> Jane Roe</span>',
        '<div class="byline">Jane<span class="date">1 May</span>Roe</div>',
        '<div class="byline">Jane <figure>photo</figure>Roe and <b>John</b> Doe</div>',
        '<span class="author">JR</span>',
        f'<span class="author">{"Jane Roe " * 20}</span>',
        '<span class="author">jane@example.org</span>',
        "<div><rel>me</rel>Jane Roe</div>",
        "<author>Jane Roe</author>",
        '<h3 class="channel-name">The Channel</h3>',
    ]
    sections = ["{}", '<div class="comments">{}</div>', '<span class="sidebar">x {} y</span>', "<figure>{}</figure>"]
    return [
        f"<html><body><main>{section.format(first)}<p>Text.</p>{second}</main></body></html>"
        for first, second in product(bylines, repeat=2)
        for section in sections
    ]


def test_trafilatura_expressions_are_still_the_transcribed_ones() -> None:
    digest = expressions_digest(AUTHOR_XPATHS + AUTHOR_DISCARD_XPATHS)
    assert digest == TRANSCRIBED_DIGEST, (
        f"trafilatura's AUTHOR_XPATHS or AUTHOR_DISCARD_XPATHS changed since {TRANSCRIBED_FROM}:"
        " transcribe them again in monitor/ingest/byline.py"
    )


@pytest.mark.parametrize("index", range(len(AUTHOR_XPATHS + AUTHOR_DISCARD_XPATHS)))
def test_each_expression_selects_what_trafilaturas_selects(index: int) -> None:
    theirs = (AUTHOR_XPATHS + AUTHOR_DISCARD_XPATHS)[index]
    ours = (BYLINE_XPATHS + BYLINE_DISCARD_XPATHS)[index]
    synthetic = synthetic_page()
    assert len(theirs(synthetic)) > 10  # the synthetic page exercises the expression
    assert ours(synthetic) == theirs(synthetic)
    # A fragment's root element is its first element, which the relative discard expression leaves.
    fragment = lxml.html.fromstring('<div class="comments"><span class="author">Jane Roe</span></div>')
    assert ours(fragment) == theirs(fragment)
    for tree in corpus_pages():
        assert ours(tree) == theirs(tree)


def test_the_byline_found_is_trafilaturas_on_every_corpus_page() -> None:
    found = [(find_byline(tree), extract_author(tree)) for tree in corpus_pages()]
    assert [ours for ours, _ in found] == [theirs for _, theirs in found]
    assert sum(ours is not None for ours, _ in found) >= 15  # the subset has bylines to find


def test_the_byline_found_is_trafilaturas_among_pruned_sections() -> None:
    for html in small_pages():
        tree = lxml.html.fromstring(html)
        assert find_byline(tree) == extract_author(tree), html
