"""The byline search in a page's body: trafilatura's, with its XPath expressions written attribute-first.

trafilatura (`metadata.extract_author`) looks for the author in elements whose class, id, rel or
itemprop names one, with expressions of the form `//*[tag tests][attribute tests]`: libxml2 then
evaluates every predicate on every element of the page, and the `re:test` regexes call back into
Python for each one. That search was the costliest part of reading a page's metadata (a quarter of
an extraction on the pages that need it). The expressions below select exactly the same elements,
in the same (document) order, but start from the attributes (`//@class[...]/parent::*`), which
libxml2 evaluates two to four times faster; the regexes are spelled out as `contains` and `starts-with`.

They are transcriptions of trafilatura's `AUTHOR_XPATHS` and `AUTHOR_DISCARD_XPATHS`; the tests
check that both select the same elements, and that trafilatura's expressions are still the ones
transcribed here (TRANSCRIBED_FROM), so an upgrade that changes them fails loudly instead of
drifting. The pruning, the choice among the selected elements and the normalisation of the names
are trafilatura's own functions.
"""

from __future__ import annotations

import hashlib
from copy import deepcopy

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import extract_metainfo


def _attribute(name: str, equals: str = "", contains: str = "", starts: str = "") -> str:
    """`//@name[. = 'e1' or contains(., 'c1') or starts-with(., 's1') ...]`: space-separated values."""
    terms = [f". = '{value}'" for value in equals.split()]
    terms += [f"contains(., '{value}')" for value in contains.split()]
    terms += [f"starts-with(., '{value}')" for value in starts.split()]
    return f"//@{name}[{' or '.join(terms)}]"


def _union(*steps: str) -> str:
    return "(" + " | ".join(steps) + ")"


# A page element named in one of these (and not inside a discarded section) holds the byline.
# Tried in turn; the first holding a plausible name wins (trafilatura's extract_metainfo).
BYLINE_XPATHS = [
    # specific and almost specific
    XPath(
        _union(
            _attribute("rel", equals="author"),
            _attribute("id", equals="author"),
            _attribute("class", equals="author", contains="authorname author-name AuthorName authorName"),
            "//@itemprop[. = 'author name']",
            _attribute("data-testid", equals="AuthorCard AuthorURL"),
            # trafilatura's `rel='me'` (no @) compares a child element named rel
            "//rel[. = 'me']",
        )
        + "/parent::*[self::a or self::address or self::div or self::link or self::p or self::span or self::strong]"
        " | //author"
    ),
    # almost generic and generic
    XPath(
        _union(
            _attribute(
                "class",
                equals="byline username byl BBL",
                contains="author channel-name zuozhe bianji xiaobian submitted-by posted-by journalist-name",
            ),
            _attribute("itemprop", contains="author"),
            _attribute("id", contains="author zuozhe bianji xiaobian"),
        )
        + "/parent::*[self::a or self::div or self::h3 or self::h4 or self::p or self::span]"
    ),
    # last resort: any element
    XPath(
        _union(
            _attribute("class", contains="Author author screenname writer Byline byline"),
            _attribute("id", contains="Author author"),
            _attribute("itemprop", contains="author"),
            _attribute("data-component", contains="Byline"),
        )
        + "/parent::*"
    ),
]

# Sections removed before the search: comments, sidebars, quotes, dates, figures.
BYLINE_DISCARD_XPATHS = [
    XPath(
        # below the root only (trafilatura's is relative, `.//*`): the root element itself is never removed
        _union(
            _attribute(
                "class",
                equals="comments title date",
                starts="Comments comments",
                contains="commentlist comments-list sidebar is-hidden quote embedly-instagram article-share"
                " article-support print category meta-date meta-reviewer",
            ),
            _attribute("id", starts="comments", contains="commentlist comment-list ProductReviews"),
            _attribute("data-component", contains="Figure"),
        ).replace("//@", "descendant::*/@")
        + "/parent::*[self::a or self::div or self::section or self::span]"
    ),
    XPath("//time|//figure"),
]

# SHA-256 of trafilatura's AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS sources (see expressions_digest).
TRANSCRIBED_FROM = "trafilatura 2.3.1"
TRANSCRIBED_DIGEST = "bd5f280624916a837f627a558a6f87d6ebde80d97a00908c8a856c7b7b9eae82"


def expressions_digest(expressions: list[XPath]) -> str:
    """A digest of XPath expressions' source text, to notice when trafilatura changes its own."""
    return hashlib.sha256("\n".join(expression.path for expression in expressions).encode()).hexdigest()


def find_byline(tree: HtmlElement) -> str | None:
    """The author named in the page body, as trafilatura's extract_author finds it."""
    subtree = prune_unwanted_nodes(deepcopy(tree), BYLINE_DISCARD_XPATHS)
    author = extract_metainfo(subtree, BYLINE_XPATHS, len_limit=120)
    return normalize_authors(None, author) if author else None
