"""Near-duplicate quality of `monitor.stories.copies.CopyGrouper` on real news pages.

Run from the project root:

    .venv/bin/python bench/stories.py                    # full run (about a minute), prints markdown
    .venv/bin/python bench/stories.py --quick            # short run (fewer pages, small sweep)
    .venv/bin/python bench/stories.py --output docs/benchmarks.md   # also write its section there

Each page of the corpus (`--corpus`: trafilatura/tests/cache/*.html) with an article of at least
MIN_WORDS words is extracted once. Every original is assigned, one by one, to a fresh
`CopyGrouper(SQLiteStore(":memory:"))`; then variants of each page are assigned to the same index and
we check which story they joined:

- (a) retitled:    the text unchanged, another headline (assign() only looks at the text);
- (b) boilerplate: site furniture added around the text (cookie notice, newsletter box, related
      links, share line), drawn per page from a pool of realistic snippets;
- (c) edited:      a few words (2-4) of one paragraph replaced;
- (d) dropped:     one paragraph removed;
- (e) mixed:       the first half of this page's paragraphs and the second half of another page's.

Recall is the fraction of (a)-(d) copies whose story is their original's id (target >= 0.95). A false
merge is an original that joined another original's story (target <= 0.5%); (e) is reported apart,
since joining either source is defensible. Misses are explained with the estimated Jaccard and
containment (`Signature.similarity`), the exact ones on the shingle sets, and how many LSH bands the
copy shares with its original. A sweep over SHINGLE_WORDS, BANDS x ROWS, JACCARD and CONTAINMENT
(monkeypatched module constants; monitor/stories/copies.py is never edited) shows which settings would meet
both targets. Nothing is asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    SEEDS,
    Corpus,
    add_corpus_option,
    add_output_option,
    git_state,
    machine,
    machine_line,
    verdict,
    write_section,
)
from event_cost import ROUNDS as COST_ROUNDS
from event_cost import main_cost
from events import CORPUS, main_events, main_misses, settings_overrides

import monitor.stories.copies as stories_mod
from monitor.document import Document
from monitor.ingest.extract import extract_article
from monitor.rules.text import words_of
from monitor.store import SQLiteStore
from monitor.stories.copies import CopyGrouper, Signature
from monitor.stories.embed import DEFAULT_MODEL

MIN_WORDS = 80
RECALL_TARGET = 0.95
FALSE_MERGE_TARGET = 0.005
COPY_KINDS = ("a", "b", "c", "d")
KIND_NAMES = {
    "a": "(a) retitled",
    "b": "(b) boilerplate added",
    "c": "(c) one paragraph edited",
    "d": "(d) one paragraph dropped",
    "e": "(e) two stories mixed",
}

# Site furniture, as it survives extraction on real pages. English and German (most pages are one
# or the other); each page's copy draws one of each kind, so copies of different pages often share
# some of it, as pages of one site do.
COOKIE = {
    "en": [
        "We use cookies and similar technologies to personalise content and ads, to provide social media features "
        "and to analyse our traffic. We also share information about your use of our site with our social media, "
        "advertising and analytics partners. You can change your preferences at any time in the cookie settings.",
        "This website uses cookies to improve your experience. Some of them are essential for the site to work, "
        "others help us understand how you use it so that we can make it better. By clicking Accept all you consent "
        "to the use of all cookies; choose Settings to decide which ones we may set.",
    ],
    "de": [
        "Wir verwenden Cookies und ähnliche Technologien, um Inhalte und Anzeigen zu personalisieren, Funktionen für "
        "soziale Medien anzubieten und die Zugriffe auf unsere Website zu analysieren. Außerdem geben wir "
        "Informationen zu Ihrer Nutzung unserer Website an unsere Partner für soziale Medien, Werbung und Analysen "
        "weiter. Sie können Ihre Auswahl jederzeit in den Einstellungen ändern.",
        "Diese Website verwendet Cookies, um Ihnen das bestmögliche Nutzererlebnis zu bieten. Einige sind für den "
        "Betrieb der Seite notwendig, andere helfen uns, das Angebot zu verbessern. Mit einem Klick auf Alle "
        "akzeptieren stimmen Sie der Verwendung aller Cookies zu.",
    ],
}
NEWSLETTER = {
    "en": [
        "Sign up for our morning briefing: the day's most important stories, delivered to your inbox before 7am. "
        "You can unsubscribe at any time. By signing up you agree to our terms of use and privacy policy.",
        "Get the best of our journalism in your inbox. Subscribe to the free weekly newsletter for analysis, "
        "features and exclusive interviews. We will never share your email address with third parties.",
        "Enjoyed this article? Support independent journalism: become a member from just 5 a month and get "
        "ad-free reading, early access to our investigations and invitations to reader events.",
    ],
    "de": [
        "Melden Sie sich für unseren Newsletter an: Jeden Morgen die wichtigsten Nachrichten des Tages direkt in "
        "Ihr Postfach. Die Abmeldung ist jederzeit möglich. Mit der Anmeldung akzeptieren Sie unsere "
        "Datenschutzerklärung.",
        "Keine Nachricht mehr verpassen: Abonnieren Sie unseren kostenlosen Newsletter und erhalten Sie einmal pro "
        "Woche die besten Analysen, Reportagen und Interviews der Redaktion.",
        "Hat Ihnen dieser Artikel gefallen? Unterstützen Sie unabhängigen Journalismus und werden Sie Mitglied, "
        "schon ab 5 Euro im Monat, ohne Werbung und mit exklusiven Inhalten.",
    ],
}
RELATED = {
    "en": ["Related articles", "Read more", "More from this section", "You may also like"],
    "de": ["Mehr zum Thema", "Das könnte Sie auch interessieren", "Weitere Artikel", "Lesen Sie auch"],
}
SHARE = {
    "en": "Share this article on Facebook, Twitter, LinkedIn or by email. Copy link. Print.",
    "de": "Artikel teilen auf Facebook, Twitter, LinkedIn oder per E-Mail. Link kopieren. Drucken.",
}
GERMAN_WORDS = {"und", "der", "die", "das", "nicht", "ist", "mit", "sich", "auf", "ein", "eine", "für"}
ENGLISH_WORDS = {"the", "and", "of", "to", "is", "in", "that", "for", "with", "on", "it", "was"}


# Pages and variants ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    title: str
    text: str
    language: str

    @property
    def words(self) -> int:
        return len(words_of(self.text))


def language_of(text: str) -> str:
    counts = Counter(words_of(text))
    german = sum(counts[w] for w in GERMAN_WORDS)
    english = sum(counts[w] for w in ENGLISH_WORDS)
    return "de" if german > english else "en"


def load_pages(corpus: Corpus, limit: int | None = None) -> tuple[list[Page], int]:
    """Pages with an article of at least MIN_WORDS words (each extracted once), and how many were skipped."""
    pages: list[Page] = []
    skipped = 0
    for path in corpus.html_pages():
        article = extract_article(path.read_bytes())
        if article is None or len(words_of(article.text)) < MIN_WORDS:
            skipped += 1
            continue
        pages.append(Page(path.name, article.title, article.text, language_of(article.text)))
        if limit is not None and len(pages) >= limit:
            break
    return pages, skipped


def load_seeds() -> list[Page]:
    """The five seed articles: five outlets on one theme, the hardest negatives we have."""
    seeds = []
    for path in sorted(SEEDS.glob("*.txt")):
        title, text = path.read_text(encoding="utf-8").strip().split("\n", 1)
        seeds.append(Page(path.name, title, text.strip(), "en"))
    return seeds


def units(text: str) -> list[str]:
    """The text's paragraphs; a text of one or two paragraphs is cut into sentence groups instead."""
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if len(paragraphs) >= 3:
        return paragraphs
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(paragraphs)) if s]
    if len(sentences) < 2:
        words = " ".join(paragraphs).split()
        size = max(1, len(words) // 4)
        return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    groups = min(4, len(sentences))
    total = sum(len(s.split()) for s in sentences)
    chunks: list[list[str]] = [[]]
    done = 0
    for sentence in sentences:
        if chunks[-1] and done >= total * len(chunks) / groups:
            chunks.append([])
        chunks[-1].append(sentence)
        done += len(sentence.split())
    return [" ".join(chunk) for chunk in chunks]


@dataclass(frozen=True, slots=True)
class Variant:
    kind: str
    page: int  # index of the source page (for (e): the page whose first half it holds)
    other: int | None  # (e): the page whose second half it holds
    doc: Document
    note: str = ""  # what was changed, for the failure listing


def retitled(page: Page, index: int, other: Page) -> Variant:
    doc = Document(id=f"{page.name}#a", title=f"{other.title} | {page.title[::-1]}", text=page.text)
    return Variant("a", index, None, doc, "headline replaced")


def with_boilerplate(page: Page, index: int, rep: int, pages: Sequence[Page], rng: random.Random) -> Variant:
    lang = page.language
    related = [pages[i].title for i in rng.sample(range(len(pages)), 3) if i != index][:2] or ["Top stories"]
    head = [rng.choice(COOKIE[lang])]
    tail = [SHARE[lang], rng.choice(NEWSLETTER[lang]), rng.choice(RELATED[lang]), *related]
    text = "\n".join([*head, page.text, *tail])
    added = len(words_of("\n".join(head + tail)))
    doc = Document(id=f"{page.name}#b{rep}", title=page.title, text=text)
    return Variant("b", index, None, doc, f"+{added} words of boilerplate on {page.words}")


def edited(page: Page, index: int, rep: int, donor: Page, rng: random.Random) -> Variant:
    parts = units(page.text)
    longest = max(range(len(parts)), key=lambda i: len(parts[i]))
    eligible = [i for i, p in enumerate(parts) if len(p.split()) >= 10] or [longest]
    target = rng.choice(eligible)
    tokens = parts[target].split()
    positions = [i for i, t in enumerate(tokens) if len(t) >= 3] or list(range(len(tokens)))
    changes = min(len(positions), rng.randint(2, 4))
    replacements = [w for w in donor.text.split() if len(w) >= 4] or ["changed"]
    for position in rng.sample(positions, changes):
        tokens[position] = rng.choice(replacements)
    parts[target] = " ".join(tokens)
    doc = Document(id=f"{page.name}#c{rep}", title=page.title, text="\n".join(parts))
    return Variant("c", index, None, doc, f"{changes} words changed in a paragraph of {len(tokens)} words")


def dropped(page: Page, index: int, rep: int, rng: random.Random) -> Variant:
    parts = units(page.text)
    target = rng.randrange(len(parts))
    share = len(words_of(parts[target])) / max(1, page.words)
    kept = parts[:target] + parts[target + 1 :]
    doc = Document(id=f"{page.name}#d{rep}", title=page.title, text="\n".join(kept))
    return Variant("d", index, None, doc, f"paragraph {target + 1}/{len(parts)} dropped ({share:.0%} of the words)")


def mixed(page: Page, index: int, rep: int, other: Page, other_index: int) -> Variant:
    first, second = units(page.text), units(other.text)
    left = first[: max(1, len(first) // 2)]
    right = second[len(second) // 2 :] or second[-1:]
    doc = Document(id=f"{page.name}#e{rep}", title=page.title, text="\n".join(left + right))
    return Variant("e", index, other_index, doc, f"half of {page.name} + half of {other.name}")


def make_variants(pages: Sequence[Page], reps: int, seed: int) -> list[Variant]:
    """All variants, grouped by kind (a, then b, c, d, e), pages in a shuffled order within each kind."""
    rng = random.Random(seed)
    n = len(pages)
    order = list(range(n))
    variants: list[Variant] = []
    rng.shuffle(order)
    variants.extend(retitled(pages[i], i, pages[(i + 1) % n]) for i in order)
    for kind in ("b", "c", "d", "e"):
        for rep in range(reps):
            rng.shuffle(order)
            for i in order:
                if kind == "b":
                    variants.append(with_boilerplate(pages[i], i, rep, pages, rng))
                elif kind == "c":
                    variants.append(edited(pages[i], i, rep, pages[(i + 1 + rng.randrange(n - 1)) % n], rng))
                elif kind == "d":
                    variants.append(dropped(pages[i], i, rep, rng))
                else:
                    j = (i + 1 + rng.randrange(n - 1)) % n
                    variants.append(mixed(pages[i], i, rep, pages[j], j))
    return variants


# Running one configuration --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    shingle_words: int = stories_mod.SHINGLE_WORDS
    bands: int = stories_mod.BANDS
    rows: int = stories_mod.ROWS
    jaccard: float = stories_mod.JACCARD
    containment: float = stories_mod.CONTAINMENT

    def label(self) -> str:
        return (
            f"SHINGLE_WORDS={self.shingle_words} BANDS={self.bands}x{self.rows} "
            f"JACCARD={self.jaccard} CONTAINMENT={self.containment}"
        )

    def changes(self, base: Config) -> str:
        parts = []
        if self.shingle_words != base.shingle_words:
            parts.append(f"SHINGLE_WORDS={self.shingle_words}")
        if (self.bands, self.rows) != (base.bands, base.rows):
            parts.append(f"BANDS={self.bands}, ROWS={self.rows}")
        if self.jaccard != base.jaccard:
            parts.append(f"JACCARD={self.jaccard}")
        if self.containment != base.containment:
            parts.append(f"CONTAINMENT={self.containment}")
        return ", ".join(parts) or "current"


CURRENT = Config()


@contextmanager
def configured(config: Config, cache: dict[tuple[int, str], Signature] | None = None) -> Iterator[None]:
    """Set monitor.stories' constants (and optionally memoise Signature.of) for the duration."""
    names = ("SHINGLE_WORDS", "BANDS", "ROWS", "JACCARD", "CONTAINMENT")
    saved = {name: getattr(stories_mod, name) for name in names}
    original_of = Signature.__dict__["of"]
    values = (config.shingle_words, config.bands, config.rows, config.jaccard, config.containment)
    for name, value in zip(names, values, strict=True):
        setattr(stories_mod, name, value)
    if cache is not None:
        compute: Callable[[str], Signature] = original_of.__get__(None, Signature)

        def of(cls: type[Signature], text: str) -> Signature:
            key = (config.shingle_words, text)
            found = cache.get(key)
            if found is None:
                found = cache[key] = compute(text)
            return found

        Signature.of = classmethod(of)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        Signature.of = original_of  # type: ignore[method-assign]
        for name, value in saved.items():
            setattr(stories_mod, name, value)


@dataclass(slots=True)
class Outcome:
    variant: Variant
    story: str
    new: bool

    def status(self, pages: Sequence[Page]) -> str:
        v = self.variant
        if v.kind == "e":
            if self.story == pages[v.page].name:
                return "first source"
            if v.other is not None and self.story == pages[v.other].name:
                return "second source"
            return "new story" if self.new else "other story"
        if self.story == pages[v.page].name:
            return "joined"
        if self.new:
            return "new story"
        if self.story.startswith(pages[v.page].name + "#"):
            return "joined a missed copy of its page"
        return "joined another page's story"


@dataclass(slots=True)
class RunResult:
    config: Config
    originals: int
    original_merges: list[tuple[str, str]]
    outcomes: list[Outcome]
    pages: Sequence[Page]
    seconds: float
    pairs: PairStats = field(default_factory=lambda: PairStats(0, 0, 0.0, 0.0))
    site_pairs: PairStats = field(default_factory=lambda: PairStats(0, 0, 0.0, 0.0))
    heavy_site_pairs: PairStats = field(default_factory=lambda: PairStats(0, 0, 0.0, 0.0))
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for outcome in self.outcomes:
            self.by_kind.setdefault(outcome.variant.kind, Counter())[outcome.status(self.pages)] += 1

    def recall(self, kind: str | None = None) -> float:
        kinds = [kind] if kind else list(COPY_KINDS)
        total = sum(sum(self.by_kind.get(k, Counter()).values()) for k in kinds)
        joined = sum(self.by_kind.get(k, Counter())["joined"] for k in kinds)
        return joined / total if total else 0.0

    def copies(self, kind: str | None = None) -> int:
        kinds = [kind] if kind else list(COPY_KINDS)
        return sum(sum(self.by_kind.get(k, Counter()).values()) for k in kinds)

    @property
    def false_merge_rate(self) -> float:
        return len(self.original_merges) / self.originals if self.originals else 0.0

    def wrong_copies(self) -> int:
        return sum(self.by_kind.get(k, Counter())["joined another page's story"] for k in COPY_KINDS)

    def mixed_rate(self) -> float:
        counts = self.by_kind.get("e", Counter())
        total = sum(counts.values())
        return (counts["first source"] + counts["second source"]) / total if total else 0.0

    def meets(self) -> bool:
        return self.recall() >= RECALL_TARGET and self.false_merge_rate <= FALSE_MERGE_TARGET


def run(
    config: Config,
    pages: Sequence[Page],
    variants: Sequence[Variant],
    cache: dict[tuple[int, str], Signature] | None = None,
) -> RunResult:
    """Assign every original, then every variant, to one fresh in-memory index under `config`."""
    with configured(config, cache):
        started = time.perf_counter()
        store = SQLiteStore(":memory:")
        stories = CopyGrouper(store)
        merges: list[tuple[str, str]] = []
        for page in pages:
            assignment = stories.assign(Document(id=page.name, title=page.title, text=page.text))
            if not assignment.new:
                merges.append((page.name, assignment.story_id))
        outcomes = []
        for variant in variants:
            assignment = stories.assign(variant.doc)
            outcomes.append(Outcome(variant, assignment.story_id, assignment.new))
        seconds = time.perf_counter() - started
        store.close()
        result = RunResult(config, len(pages), merges, outcomes, pages, seconds)
        result.pairs = pairwise(config, [Signature.of(p.text) for p in pages])
        result.site_pairs = pairwise(config, [Signature.of(same_site(p)) for p in pages])
        result.heavy_site_pairs = pairwise(config, [Signature.of(same_site(p, heavy=True)) for p in pages])
    return result


def same_site(page: Page, heavy: bool = False) -> str:
    """The page as one site would serve it: the same furniture (per language) around every article.

    Light: a cookie notice, a share line, a newsletter box and a related-links heading (about 100 words).
    Heavy: every snippet of the pool (about 200-230 words), as when extraction keeps a site's furniture.
    """
    lang = page.language
    if heavy:
        return "\n".join([*COOKIE[lang], page.text, SHARE[lang], *NEWSLETTER[lang], *RELATED[lang]])
    return "\n".join([COOKIE[lang][0], page.text, SHARE[lang], NEWSLETTER[lang][0], RELATED[lang][0]])


@dataclass(frozen=True, slots=True)
class PairStats:
    """Pairs of different pages that would merge if both were indexed (share a band and pass a threshold)."""

    merges: int
    pairs: int
    max_jaccard: float
    max_containment: float
    candidates: int = 0  # pairs sharing at least one band: LSH candidates, checked against the thresholds

    def __str__(self) -> str:
        return f"{self.merges}/{self.pairs}"


def pairwise(config: Config, signatures: Sequence[Signature]) -> PairStats:
    n = len(signatures)
    if n < 2:
        return PairStats(0, 0, 0.0, 0.0)
    values = np.stack([s.values for s in signatures])
    sizes = np.array([s.size for s in signatures], dtype=float)
    jaccard = (values[:, None, :] == values[None, :, :]).mean(axis=2)
    common = jaccard * (sizes[:, None] + sizes[None, :]) / (1 + jaccard)
    containment = np.minimum(1.0, common / np.maximum(1.0, np.minimum(sizes[:, None], sizes[None, :])))
    banded = values[:, : config.bands * config.rows].reshape(n, config.bands, config.rows)
    shared = (banded[:, None] == banded[None, :]).all(axis=3).any(axis=2)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    merge = shared & ((jaccard >= config.jaccard) | (containment >= config.containment)) & upper
    return PairStats(
        int(merge.sum()),
        int(upper.sum()),
        float(jaccard[upper].max()),
        float(containment[upper].max()),
        int((shared & upper).sum()),
    )


# Explaining misses ----------------------------------------------------------------------------


def exact_similarity(a: str, b: str) -> tuple[float, float]:
    x, y = set(stories_mod.shingles(a)), set(stories_mod.shingles(b))
    if not x or not y:
        return 0.0, 0.0
    common = len(x & y)
    return common / len(x | y), common / min(len(x), len(y))


def shared_bands(a: Signature, b: Signature) -> int:
    return sum(x == y for x, y in zip(a.bands(), b.bands(), strict=True))


@dataclass(frozen=True, slots=True)
class Miss:
    kind: str
    page: str
    status: str
    note: str
    words: tuple[int, int]
    estimated: tuple[float, float]
    exact: tuple[float, float]
    bands: int
    reason: str


def explain(result: RunResult) -> list[Miss]:
    """Each copy (a)-(d) that did not join its original's story, with the why."""
    misses = []
    with configured(result.config):
        for outcome in result.outcomes:
            v = outcome.variant
            status = outcome.status(result.pages)
            if v.kind == "e" or status == "joined":
                continue
            page = result.pages[v.page]
            ours, theirs = Signature.of(v.doc.text), Signature.of(page.text)
            estimated = ours.similarity(theirs)
            bands = shared_bands(ours, theirs)
            if bands == 0:
                reason = "LSH miss: no band shared with the original"
            elif estimated[0] < result.config.jaccard and estimated[1] < result.config.containment:
                reason = "found, but below both thresholds"
            elif not outcome.new:
                reason = "found, but a more similar story won"
            else:
                reason = f"original not among the top {stories_mod.MAX_CANDIDATES} candidates"
            misses.append(
                Miss(
                    v.kind,
                    page.name,
                    status,
                    v.note,
                    (page.words, len(words_of(v.doc.text))),
                    estimated,
                    exact_similarity(v.doc.text, page.text),
                    bands,
                    reason,
                )
            )
    return misses


# Sweep ----------------------------------------------------------------------------------------


def sweep_configs(quick: bool) -> list[Config]:
    layouts = [(16, 8), (32, 4), (42, 3), (64, 2)]
    if quick:
        configs = [CURRENT]
        configs += [Config(shingle_words=s) for s in (3, 4)]
        configs += [Config(bands=b, rows=r) for b, r in layouts if (b, r) != (CURRENT.bands, CURRENT.rows)]
        configs += [Config(jaccard=0.4), Config(containment=0.6), Config(containment=0.8)]
        configs += [Config(bands=42, rows=3, containment=0.8)]
        return configs
    # Every shingle size and band layout with the current, a looser and two stricter pairs of thresholds; the
    # other threshold changes one at a time.
    grid = itertools.product((3, 4, 5), layouts, [(0.5, 0.7), (0.4, 0.6), (0.6, 0.8), (0.5, 0.8)])
    configs = [Config(s, b, r, j, c) for s, (b, r), (j, c) in grid]
    return configs + [Config(jaccard=j, containment=c) for j, c in [(0.4, 0.7), (0.6, 0.7), (0.5, 0.6)]]


def sweep(
    pages: Sequence[Page], variants: Sequence[Variant], quick: bool
) -> tuple[list[RunResult], dict[tuple[int, str], Signature]]:
    cache: dict[tuple[int, str], Signature] = {}
    results = []
    configs = sweep_configs(quick)
    for number, config in enumerate(configs, 1):
        results.append(run(config, pages, variants, cache))
        if number % 12 == 0 or number == len(configs):
            print(f"  sweep: {number}/{len(configs)} configurations", file=sys.stderr)
    return results, cache


# Report ---------------------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


WRONG = "joined another page's story"


def sweep_row(r: RunResult) -> str:
    kinds = " | ".join(pct(r.recall(k)) for k in COPY_KINDS)
    return (
        f"| {r.config.changes(CURRENT)} | {pct(r.recall())} | {kinds} | {len(r.original_merges)}/{r.originals} "
        f"| {r.wrong_copies()} | {r.pairs.candidates} | {r.pairs} | {r.site_pairs.merges} / "
        f"{r.heavy_site_pairs.merges} | {pct(r.mixed_rate())} "
        f"| {verdict(r.meets())} |"
    )


def sweep_table(results: Sequence[RunResult]) -> list[str]:
    if not results:
        return []
    head = "| change from current | recall (a-d) | " + " | ".join(f"({k})" for k in COPY_KINDS)
    return [
        head + " | originals merged | copies in a wrong story | page pairs sharing a band | page pairs that would "
        f"merge | same-site pairs that would merge, light / heavy furniture (of {results[0].pairs.pairs}) "
        "| (e) joins a source | targets |",
        "|---|---:|" + "---:|" * len(COPY_KINDS) + "---:|---:|---:|---:|---:|---:|---|",
        *(sweep_row(r) for r in results),
    ]


def report(
    main: RunResult,
    misses: Sequence[Miss],
    seeds: RunResult,
    results: Sequence[RunResult],
    skipped: int,
    reps: int,
    quick: bool,
    source: str,
) -> str:
    lines = ["## Stories: near-duplicate quality", ""]
    lines += [
        f"`bench/stories.py{' --quick' if quick else ''}`: {main.originals} real pages of {source} "
        f"(articles of at least {MIN_WORDS} words; {skipped} pages skipped), each original assigned one by one "
        f"to a fresh `CopyGrouper(SQLiteStore(':memory:'))`, then {len(main.outcomes)} variants assigned to the same "
        f"index (kinds in order a, b, c, d, e; {reps} random variant(s) per page for b-e). Constants: "
        f"{CURRENT.label()}, NUM_PERM={stories_mod.NUM_PERM}, MAX_CANDIDATES={stories_mod.MAX_CANDIDATES}.",
        "",
        "### Targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| recall on true copies (a)-(d) >= {RECALL_TARGET:.0%} | {pct(main.recall())} "
        f"({sum(main.by_kind[k]['joined'] for k in COPY_KINDS)}/{main.copies()}) | "
        f"{verdict(main.recall() >= RECALL_TARGET)} |",
        f"| false merges between different pages <= {FALSE_MERGE_TARGET:.1%} | {pct(main.false_merge_rate)} "
        f"({len(main.original_merges)}/{main.originals} originals) | "
        f"{verdict(main.false_merge_rate <= FALSE_MERGE_TARGET)} |",
        "",
        "### Per variant kind",
        "",
        "| variant | copies | joined its original | new story | joined a missed copy of its page "
        "| joined another page's story | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in COPY_KINDS:
        c = main.by_kind.get(kind, Counter())
        lines.append(
            f"| {KIND_NAMES[kind]} | {sum(c.values())} | {c['joined']} | {c['new story']} "
            f"| {c['joined a missed copy of its page']} | {c[WRONG]} | "
            f"{pct(main.recall(kind))} |"
        )
    e = main.by_kind.get("e", Counter())
    total_e = sum(e.values())
    lines += [
        "",
        "Mixed copies (e), ambiguous (half of each source), reported apart:",
        "",
        "| variant | copies | joined the first source | joined the second source | new story | other story |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {KIND_NAMES['e']} | {total_e} | {e['first source']} | {e['second source']} | {e['new story']} "
        f"| {e['other story']} |",
        "",
        "False merges:",
        "",
        f"- originals that joined another original's story: {len(main.original_merges)}/{main.originals}"
        + (f" ({', '.join(f'{a} -> {b}' for a, b in main.original_merges)})" if main.original_merges else ""),
        f"- pairs of originals that would merge if both were indexed (share a band and pass a threshold): "
        f"{main.pairs} ({main.pairs.candidates} share a band); highest estimated Jaccard between two pages "
        f"{main.pairs.max_jaccard:.3f}, "
        f"highest estimated containment {main.pairs.max_containment:.3f}",
        f"- the same pairs with one site's furniture around every page (cookie notice, share line, newsletter box,"
        f" related-links heading; about 100 words, the same for every page of a language): {main.site_pairs} would "
        f"merge ({main.site_pairs.candidates} share a band); highest estimated Jaccard "
        f"{main.site_pairs.max_jaccard:.3f}, containment "
        f"{main.site_pairs.max_containment:.3f}",
        f"- the same with heavy furniture (every snippet of the pool, about 200-230 words): "
        f"{main.heavy_site_pairs} would merge ({main.heavy_site_pairs.candidates} share a band); highest estimated"
        " Jaccard "
        f"{main.heavy_site_pairs.max_jaccard:.3f}, containment {main.heavy_site_pairs.max_containment:.3f}",
        f"- copies (a)-(d) that joined another page's story: {main.wrong_copies()}/{main.copies()}",
        f"- hard negatives, the {seeds.originals} seed articles (different outlets on one story): "
        f"{len(seeds.original_merges)} merged; highest estimated Jaccard {seeds.pairs.max_jaccard:.3f}, "
        f"containment {seeds.pairs.max_containment:.3f}",
        "",
    ]
    if misses:
        reasons = Counter(m.reason for m in misses)
        lines += [
            "### Misses",
            "",
            "Why copies (a)-(d) missed their original's story: "
            + "; ".join(f"{reason}: {count}" for reason, count in reasons.most_common())
            + ". Estimated similarity is `Signature.similarity` (Jaccard, containment), exact is on the"
            " shingle sets; bands = LSH bands (of "
            f"{stories_mod.BANDS}) the copy shares with its original.",
            "",
            "| variant | page | words (orig -> copy) | change | est. J | est. C | exact J | exact C | bands | outcome "
            "| why |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for m in sorted(misses, key=lambda m: (m.kind, m.estimated[1])):
            lines.append(
                f"| ({m.kind}) | {m.page} | {m.words[0]} -> {m.words[1]} | {m.note} | {m.estimated[0]:.2f} "
                f"| {m.estimated[1]:.2f} | {m.exact[0]:.2f} | {m.exact[1]:.2f} | {m.bands} | {m.status} | {m.reason} |"
            )
        lines.append("")
    lines += sweep_section(main, results)
    lines += [f"Machine: {machine_line(machine('datasketch', 'numpy'))}; {git_state('monitor/stories.py')}.", ""]
    return "\n".join(lines) + "\n"


def sweep_section(main: RunResult, results: Sequence[RunResult]) -> list[str]:
    if not results:
        return []
    lines = [
        "### Parameter sweep",
        "",
        f"{len(results)} configurations, the same pages and variants, each on a fresh index (module constants"
        " monkeypatched in the benchmark; monitor/stories.py unchanged). 'Page pairs that would merge' checks every"
        " pair of originals directly, a finer view of false merges than the insertion order gives ('sharing a band':"
        " LSH candidates, which cost a signature fetch and grow with the index); 'same-site"
        " pairs' does the same with one site's furniture around every page (the hard case for false merges).",
        "",
    ]
    current = next((r for r in results if r.config == CURRENT), None)
    single = [r for r in results if distance(r.config) == 1]
    lines += ["One change at a time:", "", *sweep_table([r for r in [current, *single] if r is not None]), ""]
    meeting = sorted(
        (r for r in results if r.meets()),
        key=lambda r: (
            r.pairs.merges + r.site_pairs.merges + r.heavy_site_pairs.merges,
            -r.recall(),
            r.wrong_copies(),
            distance(r.config),
        ),
    )
    if meeting:
        lines += [
            f"Configurations meeting both targets ({len(meeting)} of {len(results)}), fewest pair merges (page and"
            " same-site, light and heavy) first, then best recall (top 12):",
            "",
            *sweep_table(meeting[:12]),
            "",
        ]
    else:
        best = sorted(results, key=lambda r: (-r.recall(), r.false_merge_rate))[:8]
        lines += ["No configuration meets both targets; the best recall:", "", *sweep_table(best), ""]
    return lines


def fields_of(config: Config) -> tuple[Any, ...]:
    return (config.shingle_words, (config.bands, config.rows), config.jaccard, config.containment)


def distance(config: Config) -> int:
    return sum(a != b for a, b in zip(fields_of(config), fields_of(CURRENT), strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run: 30 pages, 1 variant each, small sweep")
    parser.add_argument("--seed", type=int, default=1, help="seed for the variants (default 1)")
    parser.add_argument("--reps", type=int, default=None, help="random variants per page for b-e (default 3; quick 1)")
    add_corpus_option(parser)
    parser.add_argument("--no-sweep", action="store_true", help="skip the parameter sweep")
    add_output_option(parser)
    parser.add_argument(
        "--events", action="store_true", help="event grouping on the labelled event corpus instead (bench/events.py)"
    )
    parser.add_argument(
        "--events-corpus", type=Path, default=CORPUS, help="the labelled event corpus (default: tests/data/events)"
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="with --events: the embedding model, as `stories.model` names it (default: use-multilingual)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --events: an event-layer constant for this run instead of its default (threshold=0.875, "
        "across_languages=0.25, names_weight=1, lede_words=40, sentence_weight=0, sentences=5, "
        "untimed_threshold=...); may be repeated",
    )
    parser.add_argument(
        "--misses",
        action="store_true",
        help="with --events: each report that missed its event's earlier story, with that story's score and the "
        "checks that told it apart, and the counts of those causes (instead of the figures)",
    )
    parser.add_argument(
        "--cost", action="store_true", help="what the event layer costs in the pipeline instead (bench/event_cost.py)"
    )
    args = parser.parse_args(argv)
    if args.cost:
        markdown, status = main_cost(args.corpus, 1 if args.quick else COST_ROUNDS)
        print(markdown)
        if args.output:
            write_section(args.output, "stories-cost", markdown)
        return status
    if args.events:
        try:
            overrides = settings_overrides(args.set)
        except ValueError as exc:
            parser.error(str(exc))
        if args.misses:
            print(main_misses(args.events_corpus, args.model, overrides))
            return 0
        markdown, status = main_events(args.events_corpus, args.quick, not args.no_sweep, args.model, overrides)
        print(markdown)
        if args.output:
            write_section(args.output, "stories-events", markdown)
        return status
    reps = args.reps or (1 if args.quick else 3)

    started = time.perf_counter()
    pages, skipped = load_pages(args.corpus, 30 if args.quick else None)
    print(f"extracted {len(pages)} pages ({skipped} skipped) in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if len(pages) < 3:
        print("need at least 3 pages with articles", file=sys.stderr)
        return 1
    variants = make_variants(pages, reps, args.seed)
    main_result = run(CURRENT, pages, variants)
    print(
        f"current constants: {len(variants) + len(pages)} assignments in {main_result.seconds:.1f}s "
        f"({main_result.seconds / (len(variants) + len(pages)) * 1e3:.2f} ms each)",
        file=sys.stderr,
    )
    misses = explain(main_result)
    seeds = load_seeds()
    seed_result = run(CURRENT, seeds, [])
    results: list[RunResult] = []
    if not args.no_sweep:
        results, _ = sweep(pages, variants, args.quick)
    markdown = report(main_result, misses, seed_result, results, skipped, reps, args.quick, args.corpus.describe())
    print(markdown)
    if args.output:
        write_section(args.output, "stories", markdown)
    print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
