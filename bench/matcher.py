"""Benchmark the rule matcher against a naive regex matcher and a bare Aho-Corasick pass.

Run from the project root:

    .venv/bin/python bench/matcher.py           # full run (a few minutes), writes docs/benchmarks.md
    .venv/bin/python bench/matcher.py --quick   # short run (under a minute), prints only

For 10, 1,000 and 10,000 generated rules it times, per document of a corpus of real news text:

- ours:  `monitor.rules.matcher.Matcher.match(doc)`;
- naive: every rule checked term by term with Python `re` (one compiled regex per term, word
  boundaries), evaluating each rule's boolean structure;
- bare:  one pass of a pyahocorasick automaton holding every term, lower-cased, over the
  lower-cased title and text (the floor: no folding, no word stream, no rule evaluation).

It prints a table and the headline ratios, and (full run) writes docs/benchmarks.md. Timings are
never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import io
import json
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TypeVar, assert_never

import ahocorasick
from common import (
    BENCHMARKS,
    ROOT,
    SEEDS,
    Corpus,
    add_corpus_option,
    articles,
    load_average,
    load_span,
    machine,
    verdict,
    write_section,
)
from common import git_state as git_state_of

from monitor.document import Document
from monitor.ingest.files import Problem, read_file
from monitor.language import detect_language
from monitor.rules.matcher import Matcher, terms_of
from monitor.rules.model import (
    AllNode,
    AnyNode,
    AtLeastNode,
    CountNode,
    FieldNode,
    NearNode,
    Node,
    NotNode,
    Rule,
    Term,
    TermNode,
    UnitNode,
)
from monitor.rules.text import WORD_RE, WordStream, fold, paragraph_starts, sentence_starts, split_elisions

SIZES = (10, 1_000, 10_000)
PROFILE_SIZE = 10_000

R = TypeVar("R")

# Targets from the issue.
TARGET_VS_NAIVE = 100.0  # at 10,000 rules: naive / ours >= 100
TARGET_VS_BARE = 5.0  # at 10,000 rules: ours / bare <= 5
TARGET_SCALING = 10.0  # ours@10,000 / ours@10 <= 10


@dataclass(frozen=True, slots=True)
class Settings:
    """How much work a run does."""

    name: str
    docs: int | None  # documents timed, spread over the corpus by length (None: all)
    reps: int  # timed passes over the documents (the median per document is kept)
    naive_reps: int
    naive_docs: dict[int, int | None]  # rules -> documents the naive matcher is timed on (None: all)


FULL = Settings("full", docs=None, reps=7, naive_reps=3, naive_docs={10: None, 1_000: 24, 10_000: 8})
QUICK = Settings("quick", docs=30, reps=3, naive_reps=1, naive_docs={10: None, 1_000: 6, 10_000: 2})


# Documents ------------------------------------------------------------------------------------


def load_documents(corpus: Corpus) -> list[Document]:
    """The seed articles, then the articles extracted from the HTML pages (extracted once, here)."""

    def ignore(problem: Problem) -> None:
        print(f"  skipped: {problem}", file=sys.stderr)

    docs: list[Document] = []
    for path in sorted(SEEDS.glob("*.txt")):
        docs.extend(read_file(path, ignore))
    for path, article in articles(corpus.html_pages()):
        docs.append(Document(id=path.name, title=article.title, text=article.text, origin=str(path)))
    return docs


def spread(docs: Sequence[Document], count: int | None) -> list[int]:
    """Indices of `count` documents spread evenly over the corpus sorted by length (all if None)."""
    if count is None or count >= len(docs):
        return list(range(len(docs)))
    by_length = sorted(range(len(docs)), key=lambda i: len(docs[i].title) + len(docs[i].text))
    step = len(by_length) / count
    return sorted(by_length[int(step * (k + 0.5))] for k in range(count))


# Vocabulary and rules -------------------------------------------------------------------------

TOKEN_RE = re.compile(r"[^\W\d_]+")


@dataclass(slots=True)
class Vocabulary:
    """Words of the corpus: per document (in order, for phrases and near), common, rare, acronyms."""

    tokens: list[list[str]]  # every document's words in text order (title first)
    content: list[list[str]]  # every document's content words (no very frequent words)
    titles: list[list[str]]  # every document's content words of the title
    common: list[str]  # content words in two documents or more
    rare: list[str]  # words of one document only, and invented words found in none
    acronyms: list[str]  # all-capitals words (for case-sensitive terms)
    stop: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, docs: Sequence[Document], rng: random.Random) -> Vocabulary:
        tokens = [TOKEN_RE.findall(doc.title + "\n" + doc.text) for doc in docs]
        df: Counter[str] = Counter()
        for words in tokens:
            df.update({w.lower() for w in words})
        # Words in more than a fifth of the documents are function words here ("the", "und").
        stop = {w for w, n in df.items() if n > max(2, len(docs) // 5)}

        def is_content(word: str) -> bool:
            return len(word) >= 4 and word.lower() not in stop

        content = [[w for w in words if is_content(w)] for words in tokens]
        titles = [[w for w in TOKEN_RE.findall(doc.title) if is_content(w)] for doc in docs]
        seen: dict[str, str] = {}
        for words in content:
            for w in words:
                seen.setdefault(w.lower(), w)
        common = sorted(seen[w] for w in seen if df[w] >= 2)
        rare = sorted(seen[w] for w in seen if df[w] == 1)
        # Invented words (half of one word, half of another): plausible, and in no document.
        invented: set[str] = set()
        pool = [w for w in seen.values() if len(w) >= 6]
        while pool and len(invented) < len(rare):
            a, b = rng.choice(pool), rng.choice(pool)
            word = a[: len(a) // 2] + b[len(b) // 2 :].lower()
            if word.lower() not in df:
                invented.add(word)
        acronyms = sorted({w for words in tokens for w in words if 2 <= len(w) <= 5 and w.isupper()})
        return cls(tokens, content, titles, common, rare + sorted(invented), acronyms, stop)


class RuleGenerator:
    """Realistic rules: 2 to 6 terms, phrases, wildcards, near, not, at_least, count and fields.

    Each rule is written around one source document (as a rule is written around a story): most
    of its positive terms come from that document, the rest from the whole corpus or from rare and
    invented words. So a rule matches its own story some of the time and other documents rarely.
    """

    def __init__(self, vocab: Vocabulary, rng: random.Random) -> None:
        self.vocab = vocab
        self.rng = rng
        self.doc = 0

    # Terms

    def word(self) -> str:
        """A positive word: mostly from the source document."""
        roll = self.rng.random()
        if roll < 0.55 and self.vocab.content[self.doc]:
            return self.rng.choice(self.vocab.content[self.doc])
        if roll < 0.8:
            return self.rng.choice(self.vocab.common)
        return self.rng.choice(self.vocab.rare)

    def excluded(self) -> str:
        """A word for `not`: from the corpus or rare, so it excludes now and then."""
        return self.rng.choice(self.vocab.common if self.rng.random() < 0.5 else self.vocab.rare)

    def term(self) -> Term:
        return Term(self.word())

    def wildcard(self, word: str | None = None) -> Term:
        if word is None:
            word = self.word()
            for _ in range(5):
                if len(word) >= 7:
                    break
                word = self.word()
        keep = max(5, len(word) - self.rng.randint(1, 4))
        return Term(word[:keep] + "*") if keep < len(word) else Term(word)

    def phrase(self) -> Term:
        """Two or three words that follow each other in the source document, or (a fifth) an invented phrase."""
        tokens = self.vocab.tokens[self.doc]
        length = 3 if self.rng.random() < 0.3 else 2
        if self.rng.random() < 0.8 and len(tokens) > length:
            for _ in range(20):
                i = self.rng.randrange(len(tokens) - length + 1)
                words = tokens[i : i + length]
                if all(len(w) >= 3 for w in words) and sum(w.lower() not in self.vocab.stop for w in words) >= 1:
                    return Term(" ".join(words))
        return Term(f"{self.word()} {self.rng.choice(self.vocab.rare)}")

    def near_pair(self) -> tuple[str, str]:
        """Two content words a few words apart in the source document."""
        tokens = self.vocab.tokens[self.doc]
        for _ in range(20):
            if len(tokens) < 8:
                break
            i = self.rng.randrange(len(tokens) - 7)
            j = i + self.rng.randint(1, 6)
            a, b = tokens[i], tokens[j]
            if len(a) >= 4 and len(b) >= 5 and a.lower() not in self.vocab.stop and b.lower() not in self.vocab.stop:
                return a, b
        return self.word(), self.word()

    def acronym(self) -> Term:
        if not self.vocab.acronyms:
            return self.term()
        return Term(self.rng.choice(self.vocab.acronyms), case=True)

    # Rules

    def rule(self, index: int) -> Rule:
        self.doc = self.rng.randrange(len(self.vocab.tokens))
        shapes: list[Callable[[], Node]] = [
            self.all_any_not,
            self.near,
            self.two_anys_not,
            self.phrase_and_word,
            self.near_ordered_and_any,
            self.at_least,
            self.title_and_text,
            self.count_and_none,
            self.phrases_and_word,
        ]
        when = self.rng.choice(shapes)()
        return Rule(id=f"bench-{index:05d}", title=f"Benchmark rule {index}", when=when)

    def all_any_not(self) -> Node:
        # all: [term, any: [phrase, wildcard*], not: term]
        return AllNode(
            (
                TermNode(self.term()),
                AnyNode((TermNode(self.phrase()), TermNode(self.wildcard()))),
                NotNode(TermNode(Term(self.excluded()))),
            )
        )

    def near(self) -> Node:
        # near: [[a, b], c*], within: 6
        a, c = self.near_pair()
        return NearNode(((Term(a), self.term()), (self.wildcard(c),)), within=6)

    def two_anys_not(self) -> Node:
        # all: [any: [a, b, c], any: [d, e*], not: f]
        return AllNode(
            (
                AnyNode(tuple(TermNode(self.term()) for _ in range(3))),
                AnyNode((TermNode(self.term()), TermNode(self.wildcard()))),
                NotNode(TermNode(Term(self.excluded()))),
            )
        )

    def phrase_and_word(self) -> Node:
        # all: [phrase, term]
        return AllNode((TermNode(self.phrase()), TermNode(self.term())))

    def near_ordered_and_any(self) -> Node:
        # all: [near: [a, b*], within: 8, ordered: true, any: [{term: ACR, case: true}, term]]
        a, b = self.near_pair()
        near = NearNode(((Term(a),), (self.wildcard(b),)), within=8, ordered=True)
        return AllNode((near, AnyNode((TermNode(self.acronym()), TermNode(self.term())))))

    def at_least(self) -> Node:
        # at_least: 2, of: [a, b, phrase, d*]
        children = (TermNode(self.term()), TermNode(self.term()), TermNode(self.phrase()), TermNode(self.wildcard()))
        return AtLeastNode(2, children)

    def title_and_text(self) -> Node:
        # all: [title: any: [a, b*], text: c]
        titles = self.vocab.titles[self.doc]
        a = self.rng.choice(titles) if titles else self.word()
        return AllNode(
            (
                FieldNode("title", AnyNode((TermNode(Term(a)), TermNode(self.wildcard())))),
                FieldNode("text", TermNode(self.term())),
            )
        )

    def count_and_none(self) -> Node:
        # all: [count: a, min: 2, b, none: [c, d]]
        return AllNode(
            (
                CountNode((self.term(),), min=2),
                TermNode(self.term()),
                NotNode(AnyNode((TermNode(Term(self.excluded())), TermNode(Term(self.excluded()))))),
            )
        )

    def phrases_and_word(self) -> Node:
        # all: [any: [phrase, phrase], term]
        return AllNode((AnyNode((TermNode(self.phrase()), TermNode(self.phrase()))), TermNode(self.term())))


# The naive matcher and the bare pass ----------------------------------------------------------

WORD_START_RE = re.compile(r"\w+")


def naive_pattern(term: Term) -> re.Pattern[str]:
    r"""One regex for a term: `\bword\b`; phrase words joined by `\W+`; `word*` as `word\w*`."""
    parts = []
    for chunk in term.text.split():
        body = r"[-\s]?".join(re.escape(p) for p in chunk.rstrip("*").split("-"))
        parts.append(body + (r"\w*" if chunk.endswith("*") else ""))
    return re.compile(r"\b" + r"\W+".join(parts) + r"\b", 0 if term.case else re.IGNORECASE)


class NaiveMatcher:
    """Every rule, every term, one regex search at a time."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.enabled]
        self.patterns: dict[Term, re.Pattern[str]] = {}
        for rule in self.rules:
            for term in terms_of(rule.when):
                if term not in self.patterns:
                    self.patterns[term] = naive_pattern(term)

    def match(self, doc: Document) -> list[str]:
        texts = {"title": doc.title, "text": doc.text}
        starts: dict[str, list[int]] = {}
        return [rule.id for rule in self.rules if self._eval(rule.when, rule.scope, texts, starts)]

    def _eval(self, node: Node, fields: Sequence[str], texts: dict[str, str], starts: dict[str, list[int]]) -> bool:
        if isinstance(node, TermNode):
            pattern = self.patterns[node.term]
            return any(pattern.search(texts[f]) for f in fields)
        if isinstance(node, AllNode):
            return all(self._eval(c, fields, texts, starts) for c in node.children)
        if isinstance(node, AnyNode):
            return any(self._eval(c, fields, texts, starts) for c in node.children)
        if isinstance(node, NotNode):
            return not self._eval(node.child, fields, texts, starts)
        if isinstance(node, AtLeastNode):
            return sum(self._eval(c, fields, texts, starts) for c in node.children) >= node.count
        if isinstance(node, CountNode):
            found = sum(len(self.patterns[t].findall(texts[f])) for t in node.terms for f in fields)
            return found >= node.min
        if isinstance(node, FieldNode):
            return self._eval(node.child, (node.field,), texts, starts)
        if isinstance(node, UnitNode):
            return any(self._in_some_unit(node, f, texts[f]) for f in fields)
        return any(self._near(node, texts[f], f, starts) for f in fields)

    def _in_some_unit(self, node: UnitNode, field_name: str, text: str) -> bool:
        """The child holds in one sentence (or paragraph) of the field, each tried on its own."""
        bounds = sentence_starts(text) if node.unit == "sentence" else paragraph_starts(text)
        return any(
            self._eval(node.child, (field_name,), {field_name: text[a:b]}, {})
            for a, b in zip(bounds, [*bounds[1:], len(text)], strict=True)
        )

    def _near(self, node: NearNode, text: str, field_name: str, starts: dict[str, list[int]]) -> bool:
        if field_name not in starts:
            starts[field_name] = [m.start() for m in WORD_START_RE.finditer(text)]
        word_starts = starts[field_name]
        positions: list[list[int]] = []
        for group in node.groups:
            found = sorted(
                bisect.bisect_right(word_starts, m.start()) - 1
                for term in group
                for m in self.patterns[term].finditer(text)
            )
            if not found:
                return False
            positions.append(found)
        if node.ordered:
            for anchor in positions[0]:
                last = anchor
                for group_positions in positions[1:]:
                    nxt = next((p for p in group_positions if p > last), None)
                    if nxt is None or nxt - anchor > node.within:
                        break
                    last = nxt
                else:
                    return True
            return False
        # Unordered: a window of at most `within` words holding a hit of every group.
        hits = sorted((p, g) for g, group_positions in enumerate(positions) for p in group_positions)
        held: Counter[int] = Counter()
        lo = 0
        for p, g in hits:
            held[g] += 1
            while hits[lo][0] < p - node.within:
                held[hits[lo][1]] -= 1
                if not held[hits[lo][1]]:
                    del held[hits[lo][1]]
                lo += 1
            if len(held) == len(positions):
                return True
        return False


class BarePass:
    """The floor: one Aho-Corasick pass over the lower-cased fields, with every term lower-cased."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.automaton = ahocorasick.Automaton()
        for rule in rules:
            for term in terms_of(rule.when):
                key = term.text.lower().rstrip("*")  # a wildcard's literal prefix is what occurs
                self.automaton.add_word(key, key)
        self.automaton.make_automaton()
        self.keys = len(self.automaton)

    def match(self, doc: Document) -> None:
        for _ in self.automaton.iter(doc.title.lower()):
            pass
        for _ in self.automaton.iter(doc.text.lower()):
            pass


# Timing ---------------------------------------------------------------------------------------


def time_call(fn: Callable[[Document], R], doc: Document, samples: list[float]) -> R:
    """Call `fn(doc)`, append its duration (seconds) to `samples`, return its result."""
    start = time.perf_counter()
    result = fn(doc)
    samples.append(time.perf_counter() - start)
    return result


def timed(build: Callable[[], R]) -> tuple[R, float]:
    start = time.perf_counter()
    built = build()
    return built, time.perf_counter() - start


def mean_of(values: Sequence[float], indices: Sequence[int] | None = None) -> float:
    return statistics.fmean(values if indices is None else [values[i] for i in indices])


@dataclass(slots=True)
class SizeResult:
    rules: int
    terms: int
    keys: int
    build_ours: float
    build_naive: float
    build_bare: float
    ours: list[float]  # per-document median seconds, every document
    bare: list[float]
    naive: list[float]  # per-document median seconds, documents `naive_idx`
    ours_paired: list[float]  # ours, timed right beside naive on the same documents
    naive_idx: list[int]
    ours_matches: float  # matches per document
    naive_matches: float  # matches per document, on `naive_idx`
    agree: float  # share of (document, rule) decisions on which ours and naive agree

    @property
    def ours_mean(self) -> float:
        return mean_of(self.ours)

    @property
    def bare_mean(self) -> float:
        return mean_of(self.bare)

    @property
    def naive_mean(self) -> float:
        return mean_of(self.naive)

    @property
    def ours_on_naive_docs(self) -> float:
        return mean_of(self.ours_paired)

    @property
    def vs_naive(self) -> float:
        return self.naive_mean / self.ours_on_naive_docs

    @property
    def vs_bare(self) -> float:
        return self.ours_mean / self.bare_mean


@dataclass(slots=True)
class _Contenders:
    rules: int
    ours: Matcher
    naive: NaiveMatcher
    bare: BarePass
    builds: tuple[float, float, float]


def run_all(rules: Sequence[Rule], docs: Sequence[Document], settings: Settings) -> list[SizeResult]:
    """Time every contender at every size.

    The passes over the documents take turns (bare then ours, at each size, then again), and ours is
    timed again right beside naive, so that other work on the machine, which comes and goes, weighs
    on every number alike while each pass runs with its own data warm in the caches.
    """
    sets: list[_Contenders] = []
    for n in SIZES:
        print(f"{n:,} rules: building...", flush=True)
        ours, build_ours = timed(partial(Matcher, rules[:n]))
        naive, build_naive = timed(partial(NaiveMatcher, rules[:n]))
        bare, build_bare = timed(partial(BarePass, rules[:n]))
        sets.append(_Contenders(n, ours, naive, bare, (build_ours, build_naive, build_bare)))

    print(f"Timing ours and the bare pass: {plural(settings.reps, 'pass')} over {len(docs)} documents", flush=True)
    ours_samples: list[list[list[float]]] = [[[] for _ in docs] for _ in sets]
    bare_samples: list[list[list[float]]] = [[[] for _ in docs] for _ in sets]
    ours_results: list[list[list[str]]] = [[[] for _ in docs] for _ in sets]
    for c in sets:  # warm up
        c.ours.match(docs[0])
        c.bare.match(docs[0])
    gc.collect()
    for _ in range(settings.reps):
        for k, c in enumerate(sets):
            for i, doc in enumerate(docs):
                time_call(c.bare.match, doc, bare_samples[k][i])
            for i, doc in enumerate(docs):
                found = time_call(c.ours.match, doc, ours_samples[k][i])
                ours_results[k][i] = [m.rule.id for m in found]

    subsets = [spread(docs, settings.naive_docs[c.rules]) for c in sets]
    print(
        f"Timing naive: {plural(settings.naive_reps, 'pass')} over "
        + ", ".join(f"{len(sub)} documents at {c.rules:,} rules" for sub, c in zip(subsets, sets, strict=True)),
        flush=True,
    )
    paired_samples: list[list[list[float]]] = [[[] for _ in sub] for sub in subsets]
    naive_samples: list[list[list[float]]] = [[[] for _ in sub] for sub in subsets]
    naive_results: list[list[list[str]]] = [[[] for _ in sub] for sub in subsets]
    for c in sets:
        c.naive.match(docs[0])
    gc.collect()
    for _ in range(settings.naive_reps):
        for k, c in enumerate(sets):
            for j, i in enumerate(subsets[k]):
                time_call(c.ours.match, docs[i], paired_samples[k][j])
                naive_results[k][j] = time_call(c.naive.match, docs[i], naive_samples[k][j])

    def medians(samples: list[list[float]]) -> list[float]:
        return [statistics.median(s) for s in samples]

    results = []
    for k, c in enumerate(sets):
        disagree = sum(len(set(ours_results[k][i]) ^ set(naive_results[k][j])) for j, i in enumerate(subsets[k]))
        results.append(
            SizeResult(
                rules=c.rules,
                terms=len(c.naive.patterns),
                keys=c.bare.keys,
                build_ours=c.builds[0],
                build_naive=c.builds[1],
                build_bare=c.builds[2],
                ours=medians(ours_samples[k]),
                bare=medians(bare_samples[k]),
                naive=medians(naive_samples[k]),
                ours_paired=medians(paired_samples[k]),
                naive_idx=subsets[k],
                ours_matches=statistics.fmean(len(r) for r in ours_results[k]),
                naive_matches=statistics.fmean(len(r) for r in naive_results[k]),
                agree=1 - disagree / (c.rules * len(subsets[k])),
            )
        )
    return results


# What version 2 of the rule language costs ------------------------------------------------------

TARGET_VS_V1 = 1.25  # at 10,000 rules, per-document time at most 25% over the version 1 matcher
# The last revision of main with the version 1 matcher (before the version 2 analysis landed).
V1_REF = "6412d1c"


def node_json(node: Node) -> dict[str, object]:
    """A version 1 condition as JSON, for the baseline worker (bench/baseline_worker.py)."""

    def term(t: Term) -> dict[str, object]:
        return {"text": t.text, "case": t.case, "regex": t.regex}

    match node:
        case TermNode():
            return {"kind": "term", "term": term(node.term)}
        case AllNode() | AnyNode():
            kind = "all" if isinstance(node, AllNode) else "any"
            return {"kind": kind, "children": [node_json(c) for c in node.children]}
        case NotNode():
            return {"kind": "not", "child": node_json(node.child)}
        case AtLeastNode():
            return {"kind": "at_least", "count": node.count, "children": [node_json(c) for c in node.children]}
        case CountNode():
            return {"kind": "count", "terms": [term(t) for t in node.terms], "min": node.min}
        case FieldNode():
            return {"kind": "field", "field": node.field, "child": node_json(node.child)}
        case NearNode():
            groups = [[term(t) for t in g] for g in node.groups]
            return {"kind": "near", "groups": groups, "within": node.within, "ordered": node.ordered}
        case UnitNode():
            raise ValueError("the version 1 language has no sentence or paragraph conditions")
        case _:
            assert_never(node)


class Baseline:
    """Another version's matcher (a git revision's `monitor/`), timed in a worker process.

    Args:
        ref: the git revision whose `monitor/` package is timed.
        rules: the rules (version 1 conditions only).
        docs: the documents, addressed by index afterwards.
    """

    def __init__(self, ref: str, rules: Sequence[Rule], docs: Sequence[Document]) -> None:
        self.ref = ref
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-baseline-")
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "monitor"], check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(self._tmp.name, filter="data")
        self.worker = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "baseline_worker.py")],
            cwd=self._tmp.name,
            env={**os.environ, "PYTHONPATH": self._tmp.name},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.worker.stdin is not None and self.worker.stdout is not None
        setup = {
            "rules": [{"id": r.id, "when": node_json(r.when)} for r in rules],
            "docs": [[d.title, d.text] for d in docs],
        }
        self.worker.stdin.write(json.dumps(setup) + "\n")
        self.worker.stdin.flush()
        if self.worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the baseline worker for {ref} did not start")

    def time(self, index: int) -> float:
        assert self.worker.stdin is not None and self.worker.stdout is not None
        self.worker.stdin.write(f"{index}\n")
        self.worker.stdin.flush()
        return float(self.worker.stdout.readline())

    def close(self) -> None:
        if self.worker.stdin is not None:
            self.worker.stdin.write("\n")
            self.worker.stdin.close()
        self.worker.wait(timeout=60)
        self._tmp.cleanup()


def with_forms(rules: Sequence[Rule]) -> list[Rule]:
    """The rules with word forms asked for on every term that can take them (no wildcard, case or regex)."""

    def term(t: Term) -> Term:
        return t if t.regex or t.case or "*" in t.text else replace(t, forms=True)

    def node(n: Node) -> Node:
        match n:
            case TermNode():
                return TermNode(term(n.term))
            case AllNode():
                return AllNode(tuple(node(c) for c in n.children))
            case AnyNode():
                return AnyNode(tuple(node(c) for c in n.children))
            case AtLeastNode():
                return AtLeastNode(n.count, tuple(node(c) for c in n.children))
            case NotNode() | FieldNode() | UnitNode():
                return replace(n, child=node(n.child))
            case CountNode():
                return CountNode(tuple(term(t) for t in n.terms), n.min)
            case NearNode():
                return NearNode(tuple(tuple(term(t) for t in g) for g in n.groups), n.within, n.ordered)
            case _:
                assert_never(n)

    return [replace(r, when=node(r.when)) for r in rules]


def in_sentences(rules: Sequence[Rule]) -> list[Rule]:
    """The rules with each condition asked to hold within one sentence."""
    return [replace(r, when=UnitNode("sentence", r.when)) for r in rules]


@dataclass(frozen=True, slots=True)
class V2Costs:
    """Per-document times (mean of per-document medians, seconds) of the version 2 variants at one size."""

    rules: int
    baseline_ref: str | None
    baseline: float | None  # the version 1 matcher on the same rules
    plain: float  # this matcher on the same rules
    forms: float  # every term with word forms (documents in their detected language)
    sentences: float  # every condition within one sentence
    detect: float  # detect_language(title, text)
    elision: float  # splitting elided articles off the words
    boundaries: float  # finding the sentences of title and text
    forms_matches: float
    plain_matches: float


def run_v2_costs(rules: Sequence[Rule], docs: Sequence[Document], reps: int, baseline_ref: str | None) -> V2Costs:
    """Time the version 2 analysis on `rules` (one size), every variant in turn on each document."""
    print(f"Version 2 costs at {len(rules):,} rules: building...", flush=True)
    languages = [detect_language(d.title, d.text) for d in docs]
    with_language = [replace(d, language=lang) for d, lang in zip(docs, languages, strict=True)]
    plain, forms, sentences = Matcher(rules), Matcher(with_forms(rules)), Matcher(in_sentences(rules))
    baseline = Baseline(baseline_ref, rules, docs) if baseline_ref else None
    for doc in with_language:  # warm up: each language's stemmed keys are built on first use
        plain.match(doc), forms.match(doc), sentences.match(doc)
    samples: dict[str, list[list[float]]] = {
        k: [[] for _ in docs] for k in ("baseline", "plain", "forms", "sentences", "detect", "elision", "bounds")
    }
    print(f"Timing version 2 costs: {plural(reps, 'pass')} over {len(docs)} documents", flush=True)
    try:
        for _ in range(reps):
            for i, doc in enumerate(docs):
                if baseline is not None:
                    samples["baseline"][i].append(baseline.time(i))
                time_call(plain.match, with_language[i], samples["plain"][i])
                time_call(forms.match, with_language[i], samples["forms"][i])
                time_call(sentences.match, with_language[i], samples["sentences"][i])
                time_call(lambda d: detect_language(d.title, d.text), doc, samples["detect"][i])
                words = _words_with_apostrophes(doc)
                time_call(partial(_split_all, words), doc, samples["elision"][i])
                streams = [WordStream.build(doc.title, 0), WordStream.build(doc.text, 0)]
                for stream in streams:
                    stream.word_spans()  # already computed when a match is reported: not this step's cost
                time_call(partial(_sentences_of, streams), doc, samples["bounds"][i])
    finally:
        if baseline is not None:
            baseline.close()

    def mean(key: str) -> float:
        return statistics.fmean(statistics.median(s) for s in samples[key])

    return V2Costs(
        rules=len(rules),
        baseline_ref=baseline_ref,
        baseline=mean("baseline") if baseline is not None else None,
        plain=mean("plain"),
        forms=mean("forms"),
        sentences=mean("sentences"),
        detect=mean("detect"),
        elision=mean("elision"),
        boundaries=mean("bounds"),
        forms_matches=statistics.fmean(len(forms.match(d)) for d in with_language),
        plain_matches=statistics.fmean(len(plain.match(d)) for d in with_language),
    )


def _split_all(words: list[list[str]], _doc: Document) -> None:
    for field_words in words:
        split_elisions(field_words)


def _sentences_of(streams: list[WordStream], _doc: Document) -> None:
    for stream in streams:
        stream.unit_starts("sentence")


def _words_with_apostrophes(doc: Document) -> list[list[str]]:
    """The folded words of each field that has an apostrophe: those the elision step looks at."""
    folded = [fold(text) for text in (doc.title, doc.text)]
    return [WORD_RE.findall(f) for f in folded if "'" in f]


def v2_lines(costs: V2Costs) -> list[str]:
    """The markdown (and printed) section on what version 2 costs."""
    n = f"{costs.rules:,}"
    rows = [
        "| variant, at " + n + " rules | µs/doc | vs this matcher, version 1 rules |",
        "|---|---:|---:|",
    ]
    if costs.baseline is not None:
        rows.append(
            f"| the version 1 matcher (`{costs.baseline_ref}`), same rules | {us(costs.baseline)} "
            f"| {ratio(costs.baseline / costs.plain)} |"
        )
    rows += [
        f"| this matcher, same rules (elision, German spellings and the word stream always on) "
        f"| {us(costs.plain)} | 1.0x |",
        f"| every term with `forms: true` (documents in their detected language) | {us(costs.forms)} "
        f"| {ratio(costs.forms / costs.plain)} |",
        f"| every condition inside `sentence:` | {us(costs.sentences)} | {ratio(costs.sentences / costs.plain)} |",
    ]
    parts = [
        "| step, per document | µs/doc |",
        "|---|---:|",
        f"| language detection (`detect_language`, once per document in the pipeline) | {us(costs.detect)} |",
        f"| elision (splitting elided articles off the words, title and text) | {us(costs.elision)} |",
        f"| sentence boundaries (title and text, computed once per document when a sentence rule is tried)"
        f" | {us(costs.boundaries)} |",
    ]
    lines = ["### Version 2: what word forms, elision and sentence boundaries cost", "", *rows, "", *parts, ""]
    if costs.baseline is not None:
        growth = costs.plain / costs.baseline
        ok = growth <= TARGET_VS_V1
        lines += [
            f"Target: at {n} rules, per-document time at most {TARGET_VS_V1:.2f}x the version 1 matcher's: "
            f"**{growth:.2f}x** ({verdict(ok)}).",
            "",
        ]
    lines += [
        f"Matches per document: {costs.plain_matches:.1f} with the rules as written, {costs.forms_matches:.1f} with "
        "word forms (forms also match inflected words, so more rules hold).",
        "",
    ]
    return lines


# Where a call of Matcher.match spends its time: (label, file, function), by cumulative time.
PHASES = (
    ("folding and word streams (`WordStream.build`)", "monitor/rules/text.py", "build"),
    ("automaton pass and hit collection (`Matcher._scan`)", "monitor/rules/matcher.py", "_scan"),
    ("source, language and age filters (`passes_filters`)", "monitor/rules/matcher.py", "passes_filters"),
    ("building the reported matches: hits and snippets (`Matcher._report`)", "monitor/rules/matcher.py", "_report"),
)


def profile_ours(rules: Sequence[Rule], docs: Sequence[Document], top: int = 15) -> str:
    """cProfile of one pass of Matcher.match over every document: time by phase, then the top functions."""
    matcher = Matcher(rules)
    profiler = cProfile.Profile()
    profiler.enable()
    for doc in docs:
        matcher.match(doc)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)

    # Cumulative time of each phase, as a share of Matcher.match.
    def cumulative(path: str, name: str) -> float:
        raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
        return sum(v[3] for (file, _, func), v in raw.items() if func == name and file.endswith(path))

    total = cumulative("monitor/rules/matcher.py", "match")
    phases = [(label, cumulative(path, name)) for label, path, name in PHASES]
    rest = total - sum(t for _, t in phases)
    phases.append(("the rest of `match`: candidate selection and rule evaluation (`eval`)", rest))
    lines = [f"Matcher.match, {len(docs)} documents: {total:.2f} s under the profiler"]
    if total > 0:
        lines += [f"  {t / total:6.1%}  {t:6.2f} s  {label}" for label, t in phases]
    lines.append("")

    stats.sort_stats("tottime").print_stats(top)
    printed = out.getvalue().splitlines()
    # Keep the table (from its header line on), with paths made relative.
    start = next((i for i, line in enumerate(printed) if line.lstrip().startswith("ncalls")), 0)
    prefixes = sorted({str(ROOT) + "/", sys.prefix + "/", sys.base_prefix + "/"}, key=len, reverse=True)
    for line in printed[start:]:
        for prefix in prefixes:
            line = line.replace(prefix, "")
        if line.strip():
            lines.append(line.rstrip())
    return "\n".join(lines)


# Machine --------------------------------------------------------------------------------------


def machine_info(load_at_start: float | None, code_at_start: str) -> dict[str, str]:
    code_now = git_state()
    return {
        **machine("pyahocorasick", "google-re2"),
        "Code": code_at_start if code_now == code_at_start else f"{code_at_start}; at the end: {code_now}",
        "Load average (1 min)": load_span(load_at_start),
    }


def git_state() -> str:
    # The code timed: the rule matcher and the Document type.
    return git_state_of("monitor/rules", "monitor/document.py")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "es" if noun.endswith("s") else "s")


def us(seconds: float) -> str:
    value = seconds * 1e6
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


@dataclass(slots=True)
class Report:
    settings: Settings
    corpus: list[Document]
    docs: list[Document]
    source: str
    results: list[SizeResult]
    machine: dict[str, str]
    seed: int
    profile: str | None = None
    v2: V2Costs | None = None

    def at(self, n: int) -> SizeResult:
        return next(r for r in self.results if r.rules == n)

    @property
    def scaling(self) -> float:
        return self.results[-1].ours_mean / self.results[0].ours_mean

    def targets(self) -> list[tuple[str, str, bool]]:
        big = self.results[-1]
        return [
            (
                f"at {big.rules:,} rules, at least {TARGET_VS_NAIVE:.0f}x faster than the naive matcher",
                ratio(big.vs_naive),
                big.vs_naive >= TARGET_VS_NAIVE,
            ),
            (
                f"at {big.rules:,} rules, within {TARGET_VS_BARE:.0f}x of the bare pass",
                ratio(big.vs_bare),
                big.vs_bare <= TARGET_VS_BARE,
            ),
            (
                f"{self.results[0].rules:,} -> {big.rules:,} rules costs at most {TARGET_SCALING:.0f}x per document",
                ratio(self.scaling),
                self.scaling <= TARGET_SCALING,
            ),
        ]

    @property
    def missed(self) -> bool:
        return not all(ok for _, _, ok in self.targets())

    def table(self) -> list[str]:
        rows = [
            "| rules | distinct terms | ours µs/doc | bare pass µs/doc | naive µs/doc (docs) "
            "| naive / ours | ours / bare | ours / ours@10 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        base = self.results[0].ours_mean
        for r in self.results:
            rows.append(
                f"| {r.rules:,} | {r.terms:,} | {us(r.ours_mean)} | {us(r.bare_mean)} "
                f"| {us(r.naive_mean)} ({len(r.naive_idx)}) | {ratio(r.vs_naive)} | {ratio(r.vs_bare)} "
                f"| {ratio(r.ours_mean / base)} |"
            )
        return rows

    def detail_table(self) -> list[str]:
        rows = [
            "| rules | ours median doc µs | ours on naive's docs µs | ours build s | naive build s | bare build s "
            "| matches/doc (ours) | matches/doc (naive) | decisions agreeing |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.results:
            rows.append(
                f"| {r.rules:,} | {us(statistics.median(r.ours))} | {us(r.ours_on_naive_docs)} "
                f"| {r.build_ours:.2f} | {r.build_naive:.2f} | {r.build_bare:.2f} "
                f"| {r.ours_matches:.1f} | {r.naive_matches:.1f} | {r.agree:.2%} |"
            )
        return rows

    def headline(self) -> list[str]:
        big = self.results[-1]
        return [
            f"- ours vs naive at {big.rules:,} rules: **{ratio(big.vs_naive)} faster** "
            f"({us(big.ours_on_naive_docs)} vs {us(big.naive_mean)} µs/doc on {len(big.naive_idx)} documents)",
            f"- ours vs bare pass at {big.rules:,} rules: **{ratio(big.vs_bare)}** the bare pass "
            f"({us(big.ours_mean)} vs {us(big.bare_mean)} µs/doc)",
            f"- ours at {big.rules:,} rules vs ours at {self.results[0].rules:,}: **{ratio(self.scaling)}** "
            f"({us(big.ours_mean)} vs {us(self.results[0].ours_mean)} µs/doc)",
        ]

    def print(self) -> None:
        print()
        print("\n".join(self.table()))
        print()
        print("\n".join(self.detail_table()))
        print()
        print("Headline:")
        print("\n".join(line.replace("**", "") for line in self.headline()))
        print()
        print("Targets:")
        for text, value, ok in self.targets():
            print(f"- {text}: {value}: {'met' if ok else 'MISSED'}")
        if self.v2 is not None:
            print()
            print("\n".join(line.replace("**", "") for line in v2_lines(self.v2)))
        if self.profile:
            print()
            print(f"Profile of ours at {PROFILE_SIZE:,} rules (one pass over every document, top by own time):")
            print(self.profile)

    def markdown(self) -> str:
        chars = [len(d.title) + len(d.text) for d in self.docs]
        seeds = sum(1 for d in self.corpus if not d.origin.endswith(".html"))
        timed_docs = (
            "Every one is timed"
            if len(self.docs) == len(self.corpus)
            else f"{len(self.docs)} of them are timed, chosen evenly over the corpus sorted by length"
        )
        naive_notes = []
        for r in self.results:
            if len(r.naive_idx) < len(self.docs):
                sub = [chars[i] for i in r.naive_idx]
                naive_notes.append(
                    f"at {r.rules:,} rules on {len(r.naive_idx)} of the {len(self.docs)} documents "
                    f"(mean {statistics.fmean(sub):,.0f} characters)"
                )
        s = self.settings
        lines = [
            "## Rule matcher",
            "",
            "Per-document matching time of `monitor.rules.matcher.Matcher` with 10, 1,000 and 10,000 generated rules,",
            "against a naive regex matcher and a bare Aho-Corasick pass, all measured in the same run.",
            "Produced by `bench/matcher.py` (this section is written by the script; rerun it rather than editing the",
            "numbers by hand):",
            "",
            "```",
            ".venv/bin/python bench/matcher.py          # full run, a few minutes; rewrites this section",
            ".venv/bin/python bench/matcher.py --quick  # under a minute; prints only",
            "```",
            "",
            "### Headline",
            "",
            *self.headline(),
            "",
            "### Targets",
            "",
            "| target | measured | |",
            "|---|---:|---|",
            *[f"| {text} | {value} | {verdict(ok)} |" for text, value, ok in self.targets()],
            "",
        ]
        if self.missed:
            missed = [text for text, _, ok in self.targets() if not ok]
            lines += [
                f"**Missed: {'; '.join(missed)}.** The profile below shows where the matcher spends its time.",
                "",
            ]
            small, big = self.results[0], self.results[-1]
            if big.vs_bare > TARGET_VS_BARE:
                fixed = small.ours_mean / big.bare_mean
                share = "exceeds the whole budget" if fixed > TARGET_VS_BARE else "uses up much of the budget"
                lines += [
                    f"The cost that does not grow with the rules {share} on its own: at"
                    f" {small.rules:,} rules ours takes {us(small.ours_mean)} µs/doc, already"
                    f" {fixed:.2f}x the bare pass at {big.rules:,} rules"
                    f" ({TARGET_VS_BARE:.0f}x allowed).",
                    "",
                ]
        lines += [
            "### Results",
            "",
            "Mean over the documents of each document's median time, in microseconds per document",
            "(title and text). Ratios: naive / ours is computed on the documents the naive matcher was timed on,",
            'with ours timed beside it ("ours on naive\'s docs" below); ours / bare and ours / ours@10 on every',
            "document.",
            "",
            *self.table(),
            "",
            *self.detail_table(),
            "",
            '"Decisions agreeing" compares, on the naive matcher\'s documents, every (document, rule) decision of',
            "ours and naive: they can differ where the rule language is richer than a plain regex (accent folding,",
            "possessives, hyphenated compounds, non-overlapping near hits), so it is a sanity check that both do",
            "the same job, not a correctness test.",
            "",
            "### Machine",
            "",
            "| | |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in self.machine.items()],
            f"| Run | `{s.name}`: {s.reps} timed passes (ours, bare), {s.naive_reps} (naive); seed {self.seed} |",
            "",
            "### Method",
            "",
            f"- **Documents**: {len(self.corpus)} real news and web articles: {seeds} seed articles from",
            "  `seeds/*.txt` (read as `monitor replay` reads them) and the text extracted with",
            "  `monitor.ingest.extract.extract_article` from the HTML pages of the trafilatura test corpus",
            f"  ({self.source}, read in place, extracted once before timing);",
            f"  mostly German and English, a few in other languages. {timed_docs}.",
            "  Length of the timed documents (title and text): mean"
            f" {statistics.fmean(chars):,.0f} characters, median {statistics.median(chars):,.0f},"
            f" from {min(chars):,} to {max(chars):,}.",
            "- **Vocabulary**: the words of all those documents. Words in more than a fifth of the documents",
            "  are treated as function words and not used alone; the rest is split into common words (two documents",
            "  or more) and rare words (one document), plus as many invented words (half of one word joined to",
            "  half of another) that occur nowhere. All-capitals words give case-sensitive acronym terms.",
            "- **Rules**: 10,000 generated from a fixed seed; the 10- and 1,000-rule sets are their first 10 and",
            "  1,000. Each rule is written around one source document and has 2 to 6 terms: over half of its",
            "  positive words come from that document, the rest from common, rare or invented words; phrases are",
            "  2 or 3 words that follow each other in the source document (or an invented pair); wildcards cut a",
            "  word to a prefix of 5 letters or more; `not` terms are common or rare words. Shapes, in equal",
            "  shares: `all: [t, any: [phrase, w*], not: t]`; `near: [[a, b], c*], within: 6`;",
            "  `all: [any: [a, b, c], any: [d, e*], not: f]`; `all: [phrase, t]`;",
            "  `all: [near: [a, b*], within: 8, ordered: true, any: [{term: ACR, case: true}, t]]`;",
            "  `at_least: 2, of: [a, b, phrase, d*]`; `all: [title: any: [a, b*], text: c]`;",
            "  `all: [count: a, min: 2, b, none: [c, d]]`; `all: [any: [phrase, phrase], t]`.",
            "  They are built directly as `monitor.rules.model` objects (what `load_rules` returns).",
            "  Most rules match no given document; the matches per document are in the table above.",
            "- **Ours**: `Matcher(rules).match(Document(...))`, the whole call: folding and word stream,",
            "  automaton pass, rule evaluation and building the reported matches (hits, snippet).",
            "- **Naive**: for every rule, its condition evaluated with short-circuit `all`/`any`, each term",
            "  searched with its own compiled Python `re` regex (`\\bword\\b`, phrase words joined by `\\W+`,",
            "  `w*` as `w\\w*`, case-insensitive unless `case: true`) in each field of the rule's scope; `near`",
            "  finds every hit of its terms and checks the word distance; `count` counts every hit.",
            "- **Bare pass**: one `ahocorasick.Automaton` holding every term lower-cased (a wildcard by its",
            "  prefix), and per document `for _ in A.iter(title.lower()): pass` and the same for the text. This is",
            "  the floor: no Unicode folding, no word boundaries, no rule evaluation.",
            "- **Timing**: `time.perf_counter` around each call, one call at a time on one core; each document",
            f"  is timed in {s.reps} passes ({s.naive_reps} for naive) and its median kept; the table shows the mean",
            "  of those medians (so long documents weigh as they would in a stream of articles). The passes take",
            "  turns (a pass of bare then one of ours at 10 rules, the same at 1,000 and 10,000, then again), and",
            "  ours is timed again right beside naive on naive's documents (one document each in turn), so that",
            "  other work on the machine weighs on both sides of every ratio alike. One",
            "  untimed warm-up call each; garbage collection is left on (it is part of the real cost); builds",
            "  are timed once. The load average above says how busy the machine was: other work makes the",
            "  absolute numbers larger, the ratios much less so.",
            "- **Naive on a subset**: the naive matcher is slow at scale, so it is timed "
            + ("; ".join(naive_notes) if naive_notes else "on every document")
            + ", chosen evenly over the documents sorted by length; ours is timed beside it on the same documents.",
            "",
        ]
        if self.v2 is not None:
            lines += [
                *v2_lines(self.v2),
                "How: the same 10,000 rules and documents, each variant timed on each document in turn"
                f" ({s.reps} passes, the median per document kept, the mean of those shown). The version 1 matcher"
                " is the `monitor/` package of that git revision, extracted with `git archive` and timed in a worker"
                " process (`bench/baseline_worker.py`) on the same document right before this one. Word forms:"
                " every term without a wildcard, case or regex gets `forms: true`; the documents get the language"
                " `detect_language` finds, as the pipeline gives them. Sentences: every rule's condition wrapped in"
                " `sentence:`. The steps below the variants are timed on their own.",
                "",
            ]
        if self.profile:
            lines += [
                "### Profile",
                "",
                f"`cProfile` of `Matcher.match` at {PROFILE_SIZE:,} rules, one pass over every timed document:",
                "first the share of each phase (cumulative time of the function named), then the top functions",
                "by own time. The profiler inflates the cost of small Python calls, so read shares, not seconds.",
                "",
                "```",
                self.profile,
                "```",
                "",
            ]
        return "\n".join(lines)


# Main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (fewer documents and passes)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated rules (default 1)")
    add_corpus_option(parser)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"markdown file to write (default: {BENCHMARKS.relative_to(ROOT)} for a full run, none for --quick)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only, write no markdown file")
    parser.add_argument("--profile", action="store_true", help="profile ours even if every target is met")
    parser.add_argument(
        "--baseline",
        default=V1_REF,
        metavar="REF",
        help=f"git revision of the version 1 matcher to compare with ('none' to skip; default {V1_REF})",
    )
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    output: Path | None = args.output if args.output is not None else (None if args.quick else BENCHMARKS)
    if args.no_write:
        output = None
    started = time.perf_counter()
    load_at_start = load_average()
    code_at_start = git_state()  # the matcher is imported already: this is the code timed

    print("Extracting documents...", flush=True)
    corpus = load_documents(args.corpus)
    if not corpus:
        print("no documents found", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    vocab = Vocabulary.build(corpus, rng)
    generator = RuleGenerator(vocab, rng)
    rules = [generator.rule(i) for i in range(max(SIZES))]
    docs = [corpus[i] for i in spread(corpus, settings.docs)]
    print(
        f"{len(corpus)} documents ({len(docs)} timed), "
        f"{len(vocab.common):,} common and {len(vocab.rare):,} rare words, "
        f"{len(rules):,} rules ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    results = run_all(rules, docs, settings)
    source = args.corpus.describe(len(corpus) - len(list(SEEDS.glob("*.txt"))))
    report = Report(settings, corpus, docs, source, results, machine_info(load_at_start, code_at_start), args.seed)
    baseline = None if args.baseline.lower() == "none" else args.baseline
    report.v2 = run_v2_costs(rules[: max(SIZES)], docs, settings.reps, baseline)
    if report.missed or args.profile:
        print(f"Profiling ours at {PROFILE_SIZE:,} rules...", flush=True)
        report.profile = profile_ours(rules[:PROFILE_SIZE], docs)
    report.print()
    if output is not None:
        write_section(output, "matcher", report.markdown())
        print(f"\nWrote {output}")
    print(f"Total time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
