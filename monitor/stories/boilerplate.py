"""Site furniture: paragraphs that recur across items of one source, taken out before stories are made.

A donation appeal, a "Read more" block or a legal notice that a site appends to every item would
make two different items of that site look like copies, and would pull their embeddings together.
A paragraph of an item is furniture when another item of the same source had it first (within
FURNITURE_TTL), unless that item's paragraphs are all in this one: a site that publishes a lede and
then the full article, or an item and then its longer version, repeats its own text, not furniture.
Furniture is dropped from the text that fingerprints and embeddings are made of (the Document
itself, and what alerts show, are unchanged). The marks name the item that had each paragraph
first (`store.ParagraphMarks`), so a retried document finds its own paragraphs new again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from monitor.document import Document
from monitor.rules.text import words_of
from monitor.store.base import Store

FURNITURE_TTL = timedelta(days=3)
# Paragraphs looked at per item: furniture sits at the start and the end.
EDGE_PARAGRAPHS = 12
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")


def source_of(doc: Document) -> str | None:
    """The outlet an item belongs to: its own outlet name (an aggregator's feed carries many outlets,
    each with its own furniture), else its feed, else its URL's host."""
    if doc.outlet or doc.source:
        return doc.outlet or doc.source
    return urlsplit(doc.url).hostname if doc.url else None


def without_furniture(store: Store, doc: Document, ttl: timedelta = FURNITURE_TTL) -> Document:
    """`doc` with the paragraphs other items of its source already had taken out of its text."""
    source = source_of(doc)
    paragraphs = [p for p in _PARAGRAPHS.split(doc.text) if words_of(p)]
    if source is None or len(paragraphs) < 2:
        return doc
    edges = sorted(
        set(range(min(EDGE_PARAGRAPHS, len(paragraphs))))
        | set(range(max(0, len(paragraphs) - EDGE_PARAGRAPHS), len(paragraphs)))
    )
    digests = [_digest(paragraphs[i]) for i in edges]
    firsts = store.mark_paragraphs(source, doc.id, digests, ttl)
    earlier = sorted({first for first in firsts if first != doc.id})
    if not earlier:
        return doc
    own = set(digests)
    # An earlier item with none but this one's paragraphs is its lede or an earlier version of it.
    versions = {item for item, had in store.item_paragraphs(source, earlier).items() if set(had) <= own}
    recurring = {i for i, first in zip(edges, firsts, strict=True) if first != doc.id and first not in versions}
    kept = [p for i, p in enumerate(paragraphs) if i not in recurring]
    if not recurring or not kept:  # nothing recurs, or all of it does (a repost): the text as it is
        return doc
    return replace(doc, text="\n\n".join(kept))


def _digest(paragraph: str) -> str:
    return hashlib.blake2b(" ".join(words_of(paragraph)).encode("utf-8"), digest_size=12).hexdigest()
