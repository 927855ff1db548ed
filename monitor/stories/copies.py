"""The copy layer: exact fingerprints and near-duplicate grouping (MinHash LSH), the "copies" grouper.

The same news reaches us many times: one URL in two feeds, a wire story syndicated with
other headlines, a story updated through the day. A copy joins the story of the text it copies.

Two tests decide, against the stories whose LSH bands (or opening band) the text shares: MinHash
similarity (estimated Jaccard or containment of word 5-grams), and the opening sentences. A feed item
that carries only the lede, or an excerpt, is a fifth of its article's words or less: MinHash
estimates its containment too roughly to decide (one lede in eight was missed), so each story also
keeps the hashes of its first sentences, and a text whose sentences are all among them (or whose
sentences include all of a short story's) is its copy, whatever the estimate.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from monitor.document import Document
from monitor.rules.matcher import Match
from monitor.rules.text import words_of
from monitor.store.base import DEFAULT_SEEN_TTL, Store
from monitor.stories.base import StoryAssignment
from monitor.stories.boilerplate import without_furniture
from monitor.stories.developments import marked_update

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_WORDS = 5
NUM_PERM = 128
# 42 bands of 3 rows: a pair with Jaccard 0.4 meets in some band with p = 0.94, 0.5 with p = 0.996
# (bench/stories.py: 100% recall on copies of real pages, no false merge even with shared site furniture).
BANDS = 42
ROWS = NUM_PERM // BANDS
# Same story when the estimated Jaccard similarity reaches JACCARD, or when one text is
# mostly contained in the other (a copy with boilerplate added, a shortened copy).
JACCARD = 0.5
CONTAINMENT = 0.8
MAX_CANDIDATES = 8
OPENING_WORDS = 12
# Sentences whose hashes a story keeps; of a new text, the sentences that must all be among them.
KEPT_SENTENCES = 32
COMPARED_SENTENCES = 8
# A sentence of fewer words ("Read more.") says nothing about which story a text is.
MIN_SENTENCE_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# Fewer words than a long headline make too few shingles to tell two stories apart: a feed whose
# entries all say "Comments" or "Read more" would put every item in one story, and each new
# item's alert would become a follow-up. Such a text starts a story of its own and is not indexed.
MIN_STORY_WORDS = 15


@functools.cache
def _template() -> MinHash:
    """The permutations every signature shares (datasketch is imported on first use: it loads scipy,
    half a second that CLI commands which never build a signature should not pay)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1)


def text_fingerprint(text: str) -> str:
    """A fingerprint of the normalised words: equal for texts that differ only in case, accents, spacing."""
    return hashlib.sha256(" ".join(words_of(text)).encode("utf-8")).hexdigest()[:32]


def item_keys(doc: Document) -> list[str]:
    """The keys under which a Document counts as seen: its text first, then its URL."""
    keys = [f"text:{text_fingerprint(doc.title + chr(10) + doc.text)}"]
    if doc.url:
        keys.append(f"url:{doc.url}")
    return keys


def opening_band(text: str) -> str:
    """A band for the text's first OPENING_WORDS words: a lede-only feed item or an excerpt starts as its
    article does, so the article is always a candidate (then the signatures' containment decides),
    not only when MinHash bands happen to meet (a lede of a fifth of the words would meet 1 time in 6)."""
    opening = " ".join(words_of(text)[:OPENING_WORDS])
    return f"open:{hashlib.blake2b(opening.encode('utf-8'), digest_size=8).hexdigest()}"


def shingles(text: str) -> list[bytes]:
    words = words_of(text)
    if len(words) <= SHINGLE_WORDS:
        return [" ".join(words).encode("utf-8")] if words else []
    return [" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)]


def sentence_hashes(text: str, limit: int) -> tuple[int, ...]:
    """Hashes of the text's first `limit` sentences of MIN_SENTENCE_WORDS words or more (normalised words)."""
    hashes = []
    for sentence in _SENTENCE_END.split(text):
        words = words_of(sentence)
        if len(words) >= MIN_SENTENCE_WORDS:
            hashes.append(int.from_bytes(hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()))
            if len(hashes) == limit:
                break
    return tuple(hashes)


@dataclass(frozen=True, slots=True)
class Signature:
    """A MinHash signature of a text's word shingles, how many distinct shingles it had, and the hashes
    of its first sentences (`complete` when they are all its sentences)."""

    values: np.ndarray
    size: int
    sentences: tuple[int, ...] = ()
    complete: bool = False

    @classmethod
    def of(cls, text: str) -> Signature:
        parts = set(shingles(text))
        minhash = _template().copy()
        minhash.clear()
        if parts:
            minhash.update_batch(list(parts))
        sentences = sentence_hashes(text, KEPT_SENTENCES + 1)
        complete = len(sentences) <= KEPT_SENTENCES
        return cls(minhash.hashvalues.astype(np.uint32), len(parts), sentences[:KEPT_SENTENCES], complete)

    def bands(self) -> list[str]:
        """LSH band keys: `index:digest` of each band of ROWS values."""
        raw = self.values.tobytes()
        width = ROWS * 4
        return [
            f"{i}:{hashlib.blake2b(raw[i * width : (i + 1) * width], digest_size=8).hexdigest()}" for i in range(BANDS)
        ]

    def to_bytes(self) -> bytes:
        sentences = np.array(self.sentences, dtype=np.uint64).tobytes()
        return int(self.size).to_bytes(4, "little") + self.values.tobytes() + bytes([self.complete]) + sentences

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        end = 4 + NUM_PERM * 4
        values = np.frombuffer(data[4:end], dtype=np.uint32)
        size = int.from_bytes(data[:4], "little")
        if len(data) <= end:  # kept before sentences were
            return cls(values, size)
        sentences = tuple(int(h) for h in np.frombuffer(data[end + 1 :], dtype=np.uint64))
        return cls(values, size, sentences, bool(data[end]))

    def similarity(self, other: Signature) -> tuple[float, float]:
        """(estimated Jaccard, estimated containment of the smaller text in the larger)."""
        if not self.size or not other.size:
            return 0.0, 0.0
        jaccard = float(np.mean(self.values == other.values))
        common = jaccard * (self.size + other.size) / (1 + jaccard)
        return jaccard, min(1.0, common / min(self.size, other.size))

    def opens_like(self, other: Signature) -> bool:
        """Whether one text's sentences are all among the other's first sentences: a lede-only item, an
        excerpt or an update of the same text (two sentences at least, so that one line says nothing)."""
        mine, theirs = self.sentences[:COMPARED_SENTENCES], other.sentences[:COMPARED_SENTENCES]
        return (len(mine) >= 2 and set(mine) <= set(other.sentences)) or (
            other.complete and len(theirs) >= 2 and set(other.sentences) <= set(self.sentences)
        )


@dataclass(frozen=True, slots=True)
class CopyFound:
    """The story the copy layer found for a text, and what the index keeps of it (`CopyGrouper.keep`):
    its bands under the story, and its signature when it starts one."""

    assignment: StoryAssignment
    bands: list[str]
    signature: bytes | None


class CopyGrouper:
    """The "copies" grouper: Documents with near-duplicate texts share a story; the LSH index is in the store.

    Args:
        store: where bands and signatures live (shared by every replica).
        ttl: how long a story stays joinable after its last copy was seen.
    """

    def __init__(self, store: Store, ttl: timedelta = DEFAULT_SEEN_TTL) -> None:
        self.store = store
        self.ttl = ttl

    name = "copies"

    def assign(self, doc: Document, matches: Sequence[Match] = ()) -> StoryAssignment:
        assigned = self.group(without_furniture(self.store, doc))
        if assigned.new:
            return assigned
        return replace(assigned, development=marked_update(doc.title, doc.text))

    def group(self, doc: Document) -> StoryAssignment:
        """The story of `doc` as it is (site furniture already taken out)."""
        found = self.find(doc)
        if found is None:
            return StoryAssignment(doc.id, True)
        self.keep(found)
        return found.assignment

    def find(self, doc: Document) -> CopyFound | None:
        """The story of `doc` (site furniture already taken out), not yet written to the index (`keep`);
        None for a text too short to be indexed (it starts a story of its own)."""
        text = doc.text or doc.title
        if len(words_of(text)) < MIN_STORY_WORDS:
            return None
        signature = Signature.of(text)
        bands = [*signature.bands(), opening_band(text)]
        candidates = self.store.story_candidates(bands)
        best = self._best(signature, candidates)
        if best is None:
            return CopyFound(StoryAssignment(doc.id, True), bands, signature.to_bytes())
        story_id, jaccard = best
        return CopyFound(StoryAssignment(story_id, False, jaccard, "copy"), bands, None)

    def keep(self, found: CopyFound) -> None:
        """Index the text `find` found under its story."""
        self.store.add_to_story(found.assignment.story_id, found.bands, found.signature, self.ttl)

    def _best(self, signature: Signature, candidates: dict[str, int]) -> tuple[str, float] | None:
        if not candidates:
            return None
        ranked = sorted(candidates, key=lambda s: (-candidates[s], s))[:MAX_CANDIDATES]
        stored = self.store.story_signatures(ranked)
        best: tuple[str, float] | None = None
        for story_id in ranked:
            if story_id not in stored:
                continue
            theirs = Signature.from_bytes(stored[story_id])
            jaccard, containment = signature.similarity(theirs)
            copy = jaccard >= JACCARD or containment >= CONTAINMENT or signature.opens_like(theirs)
            if copy and (best is None or jaccard > best[1]):
                best = (story_id, jaccard)
        return best
