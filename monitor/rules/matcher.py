"""Compile rules into one matcher: one automaton pass per field, then only the rules whose terms occur.

The terms of every rule go into one Aho-Corasick automaton over the field's word stream
(see `text.WordStream`); regexes go into one RE2 set per case mode. A rule is evaluated only
when one of its anchor terms occurred: for `all`/`near` one child's terms are enough to rule
it out, for `any` every child's terms are needed (the presearch of Lucene Monitor / Luwak).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias
from urllib.parse import urlsplit

import ahocorasick
import re2

from monitor.document import Document
from monitor.rules.model import (
    FIELDS,
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
)
from monitor.rules.text import WORD_RE, WordStream, fold

SNIPPET_CHARS = 160

# A raw hit: (field index, first word, last word, char start or -1, char end or -1).
RawHit: TypeAlias = tuple[int, int, int, int, int]
# What a node reports: the term id and the raw hit of every term that made it hold.
Found: TypeAlias = list[tuple[int, RawHit]]
HitTable: TypeAlias = dict[int, list[RawHit]]


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term that made a rule match."""

    term: str
    field: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched a document, with every hit that made it true."""

    rule: Rule
    hits: tuple[Hit, ...]
    snippet: str


# Compiled nodes -------------------------------------------------------------------------------


class _CTerm:
    __slots__ = ("tid",)

    def __init__(self, tid: int) -> None:
        self.tid = tid

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        found = [(self.tid, h) for h in hits.get(self.tid, ()) if h[0] in fields]
        return found or None

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        found = hits.get(self.tid)
        if not found:
            return False
        return len(fields) == len(FIELDS) or any(h[0] in fields for h in found)


class _CAll:
    __slots__ = ("children",)

    def __init__(self, children: list[_CNode]) -> None:
        self.children = children

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        out: Found = []
        for child in self.children:
            got = child.eval(hits, fields)
            if got is None:
                return None
            out.extend(got)
        return out

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return all(child.holds(hits, fields) for child in self.children)


class _CAny:
    __slots__ = ("children",)

    def __init__(self, children: list[_CNode]) -> None:
        self.children = children

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        out: Found | None = None
        for child in self.children:
            got = child.eval(hits, fields)
            if got is not None:
                out = got if out is None else out + got
        return out

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return any(child.holds(hits, fields) for child in self.children)


class _CNot:
    __slots__ = ("child",)

    def __init__(self, child: _CNode) -> None:
        self.child = child

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        return None if self.child.eval(hits, fields) is not None else []

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return not self.child.holds(hits, fields)


class _CAtLeast:
    __slots__ = ("children", "count")

    def __init__(self, count: int, children: list[_CNode]) -> None:
        self.count = count
        self.children = children

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        out: Found = []
        held = 0
        for child in self.children:
            got = child.eval(hits, fields)
            if got is not None:
                held += 1
                out.extend(got)
        return out if held >= self.count else None

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        held = 0
        for child in self.children:
            if child.holds(hits, fields):
                held += 1
                if held >= self.count:
                    return True
        return False


class _CCount:
    __slots__ = ("minimum", "tids")

    def __init__(self, tids: list[int], minimum: int) -> None:
        self.tids = tids
        self.minimum = minimum

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        found = [(t, h) for t in self.tids for h in hits.get(t, ()) if h[0] in fields]
        return found if len(found) >= self.minimum else None

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return sum(1 for t in self.tids for h in hits.get(t, ()) if h[0] in fields) >= self.minimum


class _CField:
    __slots__ = ("child", "field")

    def __init__(self, field: int, child: _CNode) -> None:
        self.field = (field,)
        self.child = child

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        return self.child.eval(hits, self.field)

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return self.child.holds(hits, self.field)


class _CNear:
    __slots__ = ("groups", "ordered", "within")

    def __init__(self, groups: list[list[int]], within: int, ordered: bool) -> None:
        self.groups = groups
        self.within = within
        self.ordered = ordered

    def eval(self, hits: HitTable, fields: tuple[int, ...]) -> Found | None:
        for field in fields:
            lists: list[Found] = []
            for tids in self.groups:
                group = sorted(
                    ((t, h) for t in tids for h in hits.get(t, ()) if h[0] == field),
                    key=lambda th: (th[1][1], th[1][2]),
                )
                if not group:
                    break
                lists.append(group)
            else:
                chosen = self._ordered(lists) if self.ordered else self._unordered(lists)
                if chosen is not None:
                    return chosen
        return None

    def holds(self, hits: HitTable, fields: tuple[int, ...]) -> bool:
        return self.eval(hits, fields) is not None

    def _ordered(self, lists: list[Found]) -> Found | None:
        for anchor in lists[0]:
            limit = anchor[1][1] + self.within
            chosen = [anchor]
            for group in lists[1:]:
                after = chosen[-1][1][2]
                nxt = next((th for th in group if th[1][1] > after), None)
                if nxt is None or nxt[1][1] > limit:
                    break
                chosen.append(nxt)
            else:
                return chosen
        return None

    def _unordered(self, lists: list[Found]) -> Found | None:
        for gi, group in enumerate(lists):
            for anchor in group:
                start = anchor[1][1]
                window = [
                    [th for th in other if start <= th[1][1] <= start + self.within]
                    for oi, other in enumerate(lists)
                    if oi != gi
                ]
                chosen = _pick_disjoint(window, [anchor])
                if chosen is not None:
                    return chosen
        return None


def _pick_disjoint(groups: list[Found], chosen: Found) -> Found | None:
    """Pick one hit per group, no two overlapping in words (backtracking; groups are small)."""
    if not groups:
        return chosen
    for candidate in groups[0]:
        first, last = candidate[1][1], candidate[1][2]
        if all(last < c[1][1] or first > c[1][2] for c in chosen):
            got = _pick_disjoint(groups[1:], [*chosen, candidate])
            if got is not None:
                return got
    return None


_CNode: TypeAlias = _CTerm | _CAll | _CAny | _CNot | _CAtLeast | _CCount | _CField | _CNear


# Literal terms in the automaton -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KeyTarget:
    """What an automaton key stands for: a term, and the words to check after the key."""

    tid: int
    key_words: int
    rest: tuple[tuple[str, bool], ...]
    cased: tuple[tuple[str, bool], ...] | None
    simple: bool  # no words after the key and no case check: the key alone is the hit


def term_variants(text: str, casefold: bool = True) -> list[list[tuple[str, bool]]]:
    """The word sequences a literal term stands for, as (word, is_prefix) pairs.

    A hyphen inside the term matches a space or nothing, so `re-engage` gives
    [re, engage] and [reengage].
    """
    words: list[tuple[str, bool, bool]] = []  # (word, prefix, hyphen-joined to the next)
    for chunk in text.split():
        prefix = chunk.endswith("*")
        parts = [p for p in fold(chunk.rstrip("*"), casefold).split("-")]
        chunk_words: list[tuple[str, bool, bool]] = []
        for i, part in enumerate(parts):
            found = WORD_RE.findall(part)
            for j, word in enumerate(found):
                joined = j == len(found) - 1 and i < len(parts) - 1
                chunk_words.append((word, False, joined))
        if chunk_words and prefix:
            word, _, joined = chunk_words[-1]
            chunk_words[-1] = (word, True, joined)
        words.extend(chunk_words)
    if words:
        last_word, last_prefix, _ = words[-1]
        words[-1] = (last_word, last_prefix, False)
    variants: list[list[tuple[str, bool]]] = [[]]
    for word, prefix, _ in words:
        variants = [[*v, (word, prefix)] for v in variants]
    joins = [i for i, w in enumerate(words) if w[2]]
    if not joins:
        return variants
    out: list[list[tuple[str, bool]]] = []
    # Each hyphen either separates two words or vanishes; at most 2**4 spellings per term.
    for squash in itertools.product((False, True), repeat=min(len(joins), 4)):
        squashed = {joins[i] for i, s in enumerate(squash) if s}
        variant: list[tuple[str, bool]] = []
        glue = False
        for i, (word, prefix, _) in enumerate(words):
            if glue:
                variant[-1] = (variant[-1][0] + word, prefix)
            else:
                variant.append((word, prefix))
            glue = i in squashed
        out.append(variant)
    return out


def _key_of(variant: list[tuple[str, bool]]) -> tuple[str, int]:
    """The automaton key for a word sequence: its words up to and including the first wildcard."""
    for i, (_, prefix) in enumerate(variant):
        if prefix:
            return " " + " ".join(w for w, _ in variant[: i + 1]), i + 1
    return " " + " ".join(w for w, _ in variant) + " ", len(variant)


def _words_match(entries: Sequence[str], pattern: Sequence[tuple[str, bool]]) -> bool:
    if len(entries) != len(pattern):
        return False
    return all(e.startswith(w) if prefix else e == w for e, (w, prefix) in zip(entries, pattern, strict=True))


# The matcher ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    node: _CNode
    fields: tuple[int, ...]


class Matcher:
    """Every enabled rule compiled into one automaton; immutable once built.

    Args:
        rules: the rules to compile (disabled rules are left out).
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(r for r in rules if r.enabled)
        self._terms: list[Term] = []
        self._term_ids: dict[Term, int] = {}
        self._automaton = ahocorasick.Automaton()
        self._keys: dict[str, list[_KeyTarget]] = {}
        self._regex_sets: list[tuple[object, list[int]]] = []
        self._regexes: dict[int, object] = {}
        self._max_words = 1
        self._compiled = [
            _CompiledRule(r, self._compile(r.when), tuple(FIELDS.index(f) for f in r.scope)) for r in self.rules
        ]
        self._by_anchor: dict[int, list[int]] = {}
        self._always: list[int] = []
        for index, rule in enumerate(self.rules):
            anchors = _anchors(rule.when, self._term_ids)
            if anchors is None:
                self._always.append(index)
            else:
                for tid in anchors:
                    self._by_anchor.setdefault(tid, []).append(index)
        for key, targets in self._keys.items():
            self._automaton.add_word(key, (len(key), tuple(targets)))
        if self._keys:
            self._automaton.make_automaton()
        self._build_regex_sets()

    # Compilation ------------------------------------------------------------------------------

    def _term_id(self, term: Term) -> int:
        tid = self._term_ids.get(term)
        if tid is not None:
            return tid
        tid = len(self._terms)
        self._terms.append(term)
        self._term_ids[term] = tid
        if term.regex:
            options = re2.Options()
            options.case_sensitive = term.case
            options.log_errors = False
            self._regexes[tid] = re2.compile(term.text, options)
            return tid
        cased = term_variants(term.text, casefold=False) if term.case else None
        for i, variant in enumerate(term_variants(term.text)):
            key, key_words = _key_of(variant)
            self._max_words = max(self._max_words, len(variant))
            rest = tuple(variant[key_words:])
            target = _KeyTarget(
                tid,
                key_words,
                rest,
                tuple(cased[i]) if cased is not None else None,
                simple=not rest and cased is None,
            )
            self._keys.setdefault(key, []).append(target)
        return tid

    def _compile(self, node: Node) -> _CNode:
        if isinstance(node, TermNode):
            return _CTerm(self._term_id(node.term))
        if isinstance(node, AllNode):
            return _CAll([self._compile(c) for c in node.children])
        if isinstance(node, AnyNode):
            return _CAny([self._compile(c) for c in node.children])
        if isinstance(node, NotNode):
            return _CNot(self._compile(node.child))
        if isinstance(node, AtLeastNode):
            return _CAtLeast(node.count, [self._compile(c) for c in node.children])
        if isinstance(node, CountNode):
            return _CCount([self._term_id(t) for t in node.terms], node.min)
        if isinstance(node, FieldNode):
            return _CField(FIELDS.index(node.field), self._compile(node.child))
        return _CNear([[self._term_id(t) for t in group] for group in node.groups], node.within, node.ordered)

    def _build_regex_sets(self) -> None:
        for case in (False, True):
            tids = [t for t in self._regexes if self._terms[t].case == case]
            if not tids:
                continue
            options = re2.Options()
            options.case_sensitive = case
            options.log_errors = False
            regex_set = re2.Set.SearchSet(options)
            for tid in tids:
                regex_set.Add(self._terms[tid].text)
            regex_set.Compile()
            self._regex_sets.append((regex_set, tids))

    # Matching ---------------------------------------------------------------------------------

    def match(self, doc: Document, now: datetime | None = None) -> list[Match]:
        """Every enabled rule that matches `doc`, in rule order."""
        streams = [
            WordStream.build(doc.title, self._max_words - 1),
            WordStream.build(doc.text, self._max_words - 1),
        ]
        hits: HitTable = {}
        for field, stream in enumerate(streams):
            self._scan(field, stream, hits)
        candidates = set(self._always)
        for tid in hits:
            candidates.update(self._by_anchor.get(tid, ()))
        matches = []
        for index in sorted(candidates):
            compiled = self._compiled[index]
            # A cheap yes/no first: most candidates fail, and only a match needs its hits.
            if not compiled.node.holds(hits, compiled.fields) or not passes_filters(compiled.rule, doc, now):
                continue
            found = compiled.node.eval(hits, compiled.fields)
            if found is not None:
                matches.append(self._report(compiled.rule, found, streams))
        return matches

    def _scan(self, field: int, stream: WordStream, hits: HitTable) -> None:
        if self._keys and stream.words:
            entries = stream.entry_words
            starts = stream.entry_starts
            first_of, last_of = stream.entry_first, stream.entry_last
            # Only the extra segments of hyphenated compounds repeat words: only their hits need deduping.
            main = len(stream.words)
            seen: set[tuple[int, int, int]] = set()
            for end, (key_len, targets) in self._automaton.iter(stream.stream):
                entry = bisect_left(starts, end - key_len + 2)
                for target in targets:
                    if target.simple:
                        first, last = first_of[entry], last_of[entry + target.key_words - 1]
                    else:
                        last_entry = entry + target.key_words + len(target.rest) - 1
                        if target.rest and not _words_match(
                            entries[entry + target.key_words : last_entry + 1], target.rest
                        ):
                            continue
                        first, last = first_of[entry], last_of[last_entry]
                        if target.cased is not None and not _cased_match(stream, first, last, target.cased):
                            continue
                    if entry >= main:
                        if (target.tid, first, last) in seen:
                            continue
                        seen.add((target.tid, first, last))
                    found = hits.get(target.tid)
                    if found is None:
                        hits[target.tid] = [(field, first, last, -1, -1)]
                    else:
                        found.append((field, first, last, -1, -1))
        for regex_set, tids in self._regex_sets:
            for i in regex_set.Match(stream.text) or ():  # type: ignore[attr-defined]
                tid = tids[i]
                for m in self._regexes[tid].finditer(stream.text):  # type: ignore[attr-defined]
                    start, end = m.span()
                    if start == end:
                        continue
                    words = stream.word_range(start, end) or (0, 0)
                    hits.setdefault(tid, []).append((field, words[0], words[1], start, end))

    def _report(self, rule: Rule, found: Found, streams: list[WordStream]) -> Match:
        spans: dict[tuple[int, str, int, int], None] = {}
        for tid, (field, first, last, start, end) in found:
            if start < 0:
                start, end = streams[field].char_span(first, last)
            spans[(field, self._terms[tid].text, start, end)] = None
        ordered = sorted(spans, key=lambda s: (s[0], s[2], s[3], s[1]))
        hits = tuple(Hit(term, FIELDS[field], start, end) for field, term, start, end in ordered)
        # The snippet shows the first hit the condition reported, in the text if it has one:
        # for `all: [near: ..., ...]` that is the near, the heart of the rule.
        # (A rule can hold through `not` alone, with no hit: then the text's start.)
        field, _, start, end = next((s for s in spans if s[0] == 1), next(iter(spans), (1, "", 0, 0)))
        return Match(rule, hits, make_snippet(streams[field].text, start, end))


def _cased_match(stream: WordStream, first: int, last: int, cased: tuple[tuple[str, bool], ...]) -> bool:
    start, end = stream.char_span(first, last)
    words = WORD_RE.findall(fold(stream.text[start:end], casefold=False))
    if _words_match(words, cased):
        return True
    # A compound written with hyphens in the text ("Re-Engage") against a term without.
    joined = "".join(words)
    if len(cased) == 1:
        word, prefix = cased[0]
        return joined.startswith(word) if prefix else joined == word
    return joined == "".join(w for w, _ in cased)


def _anchors(node: Node, term_ids: dict[Term, int]) -> set[int] | None:
    """Terms of which at least one occurs whenever `node` holds; None if there are none."""
    if isinstance(node, TermNode):
        return {term_ids[node.term]}
    if isinstance(node, FieldNode):
        return _anchors(node.child, term_ids)
    if isinstance(node, NotNode):
        return None
    if isinstance(node, CountNode):
        return {term_ids[t] for t in node.terms}
    if isinstance(node, NearNode):
        options = [{term_ids[t] for t in group} for group in node.groups]
        return min(options, key=len)
    if isinstance(node, AllNode):
        found = [a for a in (_anchors(c, term_ids) for c in node.children) if a is not None]
        return min(found, key=len) if found else None
    children = [_anchors(c, term_ids) for c in node.children]
    anchored = [a for a in children if a is not None]
    # any: every child must be anchored. at_least N: the anchored children must be needed,
    # i.e. fewer than N children can hold without a term.
    needed = len(children) if isinstance(node, AnyNode) else len(children) - node.count + 1
    if len(anchored) < needed or not anchored:
        return None
    return set().union(*anchored)


def passes_filters(rule: Rule, doc: Document, now: datetime | None = None) -> bool:
    """The rule's source, language and age filters allow this document."""
    filters = rule.filters
    if filters.sources_include or filters.sources_exclude:
        host = (urlsplit(doc.url).hostname or "").lower() if doc.url else ""
        if filters.sources_include and not any(_in_domain(host, d) for d in filters.sources_include):
            return False
        if host and any(_in_domain(host, d) for d in filters.sources_exclude):
            return False
    if filters.languages and doc.language:
        lang = doc.language.lower()
        if not any(lang == code or lang.startswith(code + "-") for code in filters.languages):
            return False
    if filters.max_age is not None and doc.published is not None:
        reference = doc.seen or now or datetime.now(UTC)
        if reference - doc.published > filters.max_age:
            return False
    return True


def _in_domain(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def make_snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around [start, end), cut at word boundaries."""
    before = max(0, (width - (end - start)) // 3)
    lo = max(0, start - before)
    hi = min(len(text), max(end, lo + width))
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")
