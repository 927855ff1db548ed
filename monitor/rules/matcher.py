"""Compile rules into one matcher: one automaton pass per field, then only the rules whose terms occur.

The terms of every rule go into one Aho-Corasick automaton over the field's word stream
(see `text.WordStream`); regexes go into one RE2 set per case mode. A rule is evaluated only
when one of its anchor terms occurred: for `all`/`near` one child's terms are enough to rule
it out, for `any` every child's terms are needed (the presearch of Lucene Monitor / Luwak).
"""

from __future__ import annotations

import math
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeAlias, assert_never
from urllib.parse import urlsplit

import ahocorasick
import numpy as np
import re2

from monitor.document import Document
from monitor.language import detect_language
from monitor.rules.frequency import TermFrequency, shipped
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
    UnitNode,
    bulk_build,
)
from monitor.rules.text import (
    EXACT,
    FORMS_LANGUAGES,
    INFIX,
    PREFIX,
    SUFFIX,
    TermWord,
    WordStream,
    cased_words,
    forms_language,
    stems,
    stream_starts,
    term_variants,
    terms_stems,
    word_matches,
)

SNIPPET_CHARS = 160

# A raw hit: (field index, first word, last word, char start or -1, char end or -1).
RawHit: TypeAlias = tuple[int, int, int, int, int]
# What a node reports: the term id and the raw hit of every term that made it hold.
Found: TypeAlias = list[tuple[int, RawHit]]
# A hit as placed in its stream: (where it ends there, whether it may repeat another (a compound
# segment repeats words, a key inside a word can occur twice in it), the hit).
_Placed: TypeAlias = tuple[int, bool, RawHit]
_NO_HITS: list[RawHit] = []  # what a term not found has (shared: never changed)


def _words_of_hit(found: tuple[int, RawHit]) -> tuple[int, int]:
    return found[1][1], found[1][2]


class HitTable(dict[int, list[RawHit]]):
    """The hits of each term found in a document (or in one of its units); a term not found has none."""

    __slots__ = ()

    def __missing__(self, tid: int) -> list[RawHit]:
        return _NO_HITS

    @property
    def present(self) -> AbstractSet[int]:
        """The terms certainly found."""
        return self.keys()

    @property
    def maybe(self) -> AbstractSet[int]:
        """Terms that may be found (their keys occur, with more to check): found where they have hits."""
        return _NONE

    def occurs(self, tid: int, lim: Limits) -> bool:
        """The term has a hit that counts under `lim`."""
        return any(h[1] < lim[h[0]] for h in self[tid])

    def in_field(self, tids: list[int], field: int) -> tuple[Found, list[int]]:
        """The hits of these terms in one field, sorted by their words (a tie in the terms' order),
        and the first word of each (to find the hits in a window by bisection)."""
        group = sorted(((t, h) for t in tids for h in self[t] if h[0] == field), key=_words_of_hit)
        return group, [th[1][1] for th in group]


_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term that made a rule match: the term as the rule wrote it, the field,
    the character offsets in the field's original text, and the words there as written."""

    term: str
    field: str
    start: int
    end: int
    text: str = ""


class Match:
    """A rule that matched a document, with every hit that made it true and a snippet of the text.

    The matcher works out the hits and the snippet when they are first read: at scale a document
    matches hundreds of rules, and only those that raise an alert need them.
    """

    __slots__ = ("_hits", "_report", "_snippet", "rule")

    def __init__(self, rule: Rule, hits: tuple[Hit, ...], snippet: str) -> None:
        self.rule = rule
        self._hits = hits
        self._snippet = snippet
        self._report: Callable[[], tuple[tuple[Hit, ...], str]] | None = None

    @classmethod
    def reported_later(cls, rule: Rule, report: Callable[[], tuple[tuple[Hit, ...], str]]) -> Match:
        """A match whose hits and snippet `report` gives when they are first read."""
        # Made without a call of __init__: a long text at 350,000 rules holds thousands of matches.
        match = object.__new__(cls)
        match.rule, match._hits, match._snippet, match._report = rule, (), "", report
        return match

    def _reported(self) -> None:
        report = self._report
        if report is not None:
            # Two threads reading at once both work them out, the same: no lock needed.
            self._hits, self._snippet = report()
            self._report = None

    @property
    def hits(self) -> tuple[Hit, ...]:
        self._reported()
        return self._hits

    @property
    def snippet(self) -> str:
        self._reported()
        return self._snippet

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return (self.rule, self.hits, self.snippet) == (other.rule, other.hits, other.snippet)

    def __hash__(self) -> int:
        return hash((self.rule, self.hits, self.snippet))

    def __repr__(self) -> str:
        return f"Match(rule={self.rule!r}, hits={self.hits!r}, snippet={self.snippet!r})"


# Compiled nodes -------------------------------------------------------------------------------
#
# Every node is evaluated against the hit table with `lim`: for each field (title, text), the
# word index below which a hit counts (0: the field is out of scope; the lead's length: only
# the lead of the text). A hit `h` counts when h[1] < lim[h[0]].

Limits: TypeAlias = tuple[int, int]

_ALL_WORDS = 1 << 62
_EVERYWHERE: Limits = (_ALL_WORDS, _ALL_WORDS)  # the usual scope: checked by identity, the fast path
_TITLE, _TEXT, _LEAD = 1, 2, 4
_SCOPE_CODES = {"title": _TITLE, "text": _TEXT, "lead": _LEAD}


# The keys of one layer, and a stream of entries to place their hits in.
_Placing: TypeAlias = tuple["_Keys", "_Entries"]


@dataclass(slots=True)
class _FieldScan:
    """What the hits of one field are placed from: its literal layers and its word forms (stemmed)."""

    field: int
    layers: list[_Placing]
    forms: list[_Placing]
    # The title's terms found or maybe found, to place no term where it is not: nearly every term
    # placed is in the text alone (the text's own set would cost more to keep than it saves).
    terms: set[int] | None = None


class _DocHits(HitTable):
    """The hits of one document, each term's placed when first asked for: the automata tell which
    terms occur, and most of those are never asked for (no candidate needs where they are).

    A term whose keys need checking (words after a prefix, case, a key inside a word) is only
    `maybe` found until it is asked for: checking every such key where it occurs would cost more
    than the few terms any candidate asks about."""

    __slots__ = (
        "__weakref__",
        "_possible",
        "fields",
        "forms_terms",
        "found",
        "groups",
        "maybe",
        "memo",
        "present",
        "start_masks",
    )

    def __init__(self, title_words: int, forms_terms: AbstractSet[int] = frozenset()) -> None:
        super().__init__()
        self.forms_terms = forms_terms  # terms that ask for word forms (placed in the stemmed words too)
        self.found: set[int] = set()
        self.present: set[int] = self.found  # an attribute here (a property in HitTable): the hot path
        self.maybe: set[int] = set()  # a slot here, a property in HitTable
        self._possible: set[int] | None = None
        self.fields: list[_FieldScan] = []
        self.memo: dict[tuple[int, Limits], Found | None] = {}  # what each `near` chose, by scope
        # `in_field` of each group of terms asked for: many `near`s share a word or a list.
        self.groups: dict[tuple[tuple[int, ...], int], tuple[Found, list[int]]] = {}
        # Per term: the words where its hits start, as bits, in the title and in the text.
        # (It reads the hits through a weak proxy: no cycle, so a document's hits are freed by reference
        # counting when its matches go, not left for the cyclic collector to walk, match after match.)
        self.start_masks = _StartMasks(weakref.proxy(self), title_words)

    def in_field(self, tids: list[int], field: int) -> tuple[Found, list[int]]:
        key = (tuple(tids), field)
        got = self.groups.get(key)
        if got is None:
            got = self.groups[key] = HitTable.in_field(self, tids, field)
        return got

    @property
    def possible(self) -> set[int]:
        """The terms found or maybe found (what the presearch picks candidates by; kept once asked
        for, which is after the fields were scanned)."""
        got = self._possible
        if got is None:
            got = self._possible = self.found | self.maybe if self.maybe else self.found
        return got

    def __missing__(self, tid: int) -> list[RawHit]:
        if tid not in self.found and tid not in self.maybe:
            return _NO_HITS
        placed = self[tid] = self._place(tid)
        return placed

    def occurs(self, tid: int, lim: Limits) -> bool:
        # A term found by keys inside one word alone (a suffix or infix wildcard's) is not placed to
        # say whether it occurs: most `at_least` and lead candidates ask that of such a term.
        if tid not in self and tid not in self.found and tid in self.maybe and tid not in self.forms_terms:
            inside = self._occurs_inside(tid, lim)
            if inside is not None:
                return inside
        return any(h[1] < lim[h[0]] for h in self[tid])

    def _occurs_inside(self, tid: int, lim: Limits) -> bool | None:
        """Whether a key of the term inside a word occurs in a word that counts under `lim` (None:
        the term has keys with other checks). Such a key's hit is the word it occurs in, where no
        compound segment holds it: its first place in a field's stream, if before the segments and
        the words that do not count, is a hit; a later place is in a later word."""
        for scan in self.fields:
            limit = lim[scan.field]
            if not limit or (scan.terms is not None and tid not in scan.terms):
                continue
            for keys, entries in scan.layers:
                own = keys.inside_words.get(tid)
                if own is None:
                    if tid in keys.checked_of:
                        return None
                    continue
                # The stream before this place holds the words that count (each key within one).
                bound = entries.starts[min(entries.main, limit)]
                stream = entries.stream
                for key in own:
                    if stream.find(key, 0, bound) != -1:
                        return True
        return False

    def _place(self, tid: int) -> list[RawHit]:
        got = self._place_one_key(tid) if tid not in self.forms_terms else None
        return got if got is not None else self._place_by_layers(tid)

    def _place_by_layers(self, tid: int) -> list[RawHit]:
        """The term's hits from every key of every layer, literal and stemmed (any term)."""
        out: list[RawHit] = []
        for scan in self.fields:
            if scan.terms is not None and tid not in scan.terms:
                continue
            placed, keys_found = _gather(tid, scan.field, scan.layers)
            out += _unique(placed, keys_found > 1)
            if not scan.forms:
                continue
            placed, keys_found = _gather(tid, scan.field, scan.forms)
            if placed:
                known = set(out)
                out.extend(h for h in _unique(placed, keys_found > 1) if h not in known)
        return out

    def _place_one_key(self, tid: int) -> list[RawHit] | None:
        """The hits of a term found by one key alone, one word or a word's start (most terms a
        near asks for), without the general path's sorting and merging; None for any other term,
        or where the key occurs in a compound's segment (whose words may repeat another hit's)."""
        out: list[RawHit] = []
        for scan in self.fields:
            if scan.terms is not None and tid not in scan.terms:
                continue
            for layer in scan.layers:
                key = layer[0].one_key.get(tid)
                if key is not None:
                    break
            else:
                if scan.layers:
                    return None  # a term of other keys (a term's keys are all in one layer)
                continue  # an empty field
            entries = layer[1]
            found = entries.spaced(key)
            if found and found[-1] >= entries.main:
                return None
            # An entry before the compounds' segments is the word of the same index.
            field = scan.field
            out += [(field, entry, entry, -1, -1) for entry in found]
        return out


# In a document's start masks the text's bits come this far after the title's last word: a near
# within fewer words cannot find a title hit near a text hit by them (one within more may: its
# test then lets it through to be walked hit by hit, which decides).
_FIELD_GAP = 64
# A term's bits are spread hit by hit up to this many hits (else the mask is doubled out).
_SPREAD_BY_HITS = 8


class _StartMasks(dict[int, int]):
    """Per term, the words where its hits start as bits of one int (bit i: a hit starts at title
    word i; bit `offset` + i: at text word i), worked out when first asked for; and those spread
    `within` words either way. A `near`'s test before its hits are walked."""

    __slots__ = ("hits", "offset", "spreads")

    def __init__(self, hits: HitTable, title_words: int) -> None:
        super().__init__()
        self.hits = hits
        self.offset = title_words + _FIELD_GAP
        self.spreads: dict[tuple[int, int], int] = {}

    def __missing__(self, tid: int) -> int:
        offset, mask = self.offset, 0
        for hit in self.hits[tid]:
            mask |= 1 << (hit[1] + offset if hit[0] else hit[1])
        self[tid] = mask
        return mask

    def spread(self, tid: int, within: int) -> int:
        """The term's bits spread `within` places either way (many nears share a term and a within)."""
        key = (tid, within)
        got = self.spreads.get(key)
        if got is None:
            hits = self.hits[tid]
            if len(hits) > _SPREAD_BY_HITS:
                got = _spread(self[tid], within)
            else:
                # A few hits (most terms): each one's window of bits set at once, fewer operations on
                # the document's long ints than doubling the mask out step by step.
                window, offset, got = (1 << (2 * within + 1)) - 1, self.offset, 0
                for hit in hits:
                    low = (hit[1] + offset if hit[0] else hit[1]) - within
                    got |= window << low if low >= 0 else window >> -low
            self.spreads[key] = got
        return got

    def in_scope(self, lim: Limits) -> int:
        """The bits of the words that count under `lim` (all of a field, none, or its first words)."""
        title, text = lim
        mask = (1 << min(title, self.offset)) - 1 if title else 0
        if text >= _ALL_WORDS:
            mask |= -1 << self.offset
        elif text:
            mask |= ((1 << text) - 1) << self.offset
        return mask


class _Context:
    """What nodes need of one document beyond its hits: the lead's length, sentences, paragraphs."""

    __slots__ = ("_limits", "streams")

    def __init__(self, streams: list[WordStream]) -> None:
        self.streams = streams
        self._limits: dict[int, Limits] = {}

    def limits(self, code: int) -> Limits:
        got = self._limits.get(code)
        if got is None:
            title = _ALL_WORDS if code & (_TITLE | _LEAD) else 0
            if code & _TEXT:
                text = _ALL_WORDS
            elif code & _LEAD:
                text = self.streams[1].lead_words()
            else:
                text = 0
            got = self._limits[code] = _EVERYWHERE if (title, text) == _EVERYWHERE else (title, text)
        return got


class _CTerm:
    __slots__ = ("tid",)

    def __init__(self, tid: int) -> None:
        self.tid = tid

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        if lim is _EVERYWHERE:
            found = [(self.tid, h) for h in hits[self.tid]]
        else:
            found = [(self.tid, h) for h in hits[self.tid] if h[1] < lim[h[0]]]
        return found or None

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        if lim is _EVERYWHERE:
            # Where it was found does not matter: a term certainly found needs no placing.
            tid = self.tid
            return tid in hits.present or (tid in hits.maybe and hits.occurs(tid, lim))
        return hits.occurs(self.tid, lim)


class _CAll:
    __slots__ = ("children",)

    def __init__(self, children: list[_CNode]) -> None:
        self.children = children

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        out: Found = []
        for child in self.children:
            got = child.eval(hits, lim, ctx)
            if got is None:
                return None
            out.extend(got)
        return out

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        for child in self.children:  # noqa: SIM110  (a loop: no generator per call, on the hot path)
            if not child.holds(hits, lim, ctx):
                return False
        return True


class _CAny:
    """Any child; a list of terms (most `any`s: shared lists, a term's translations) is looked up
    as a set, the few of its terms found taken in the list's order."""

    __slots__ = ("children", "terms")

    def __init__(self, children: list[_CNode]) -> None:
        self.children = children
        tids = [c.tid for c in children if isinstance(c, _CTerm)]
        self.terms = _TermList(tids) if len(tids) == len(children) else None

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        terms = self.terms
        if terms is not None:
            if lim is _EVERYWHERE:
                out = [(t, h) for t in terms.found(hits) for h in hits[t]]
            else:
                out = [(t, h) for t in terms.found(hits) for h in hits[t] if h[1] < lim[h[0]]]
            return out or None
        got_any: Found | None = None
        for child in self.children:
            got = child.eval(hits, lim, ctx)
            if got is not None:
                got_any = got if got_any is None else got_any + got
        return got_any

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        terms = self.terms
        if terms is not None:
            if lim is _EVERYWHERE:
                if not terms.tid_set.isdisjoint(hits.present):
                    return True
                maybe = hits.maybe
                return bool(maybe) and any(hits.occurs(t, lim) for t in terms.tid_set.intersection(maybe))
            return any(hits.occurs(t, lim) for t in terms.found(hits))
        for child in self.children:  # noqa: SIM110  (a loop: no generator per call, on the hot path)
            if child.holds(hits, lim, ctx):
                return True
        return False


class _CNot:
    __slots__ = ("child",)

    def __init__(self, child: _CNode) -> None:
        self.child = child

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        return None if self.child.holds(hits, lim, ctx) else []

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        return not self.child.holds(hits, lim, ctx)


class _CAtLeast:
    __slots__ = ("children", "count", "tids")

    def __init__(self, count: int, children: list[_CNode]) -> None:
        self.count = count
        self.children = children
        # Terms only (most: `at_least: 2, of: [a, b, phrase, d*]`): counted without a call per child.
        tids = [c.tid for c in children if isinstance(c, _CTerm)]
        self.tids = tids if len(tids) == len(children) else None

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        out: Found = []
        held = 0
        for child in self.children:
            got = child.eval(hits, lim, ctx)
            if got is not None:
                held += 1
                out.extend(got)
        return out if held >= self.count else None

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        tids = self.tids
        if tids is not None and lim is _EVERYWHERE:
            # As each term child's holds: certainly found, or maybe found and placed with hits.
            present = hits.present
            held = sum([tid in present for tid in tids])
            if held >= self.count:
                return True
            maybe = hits.maybe
            if not maybe:
                return False
            unsure = [tid for tid in tids if tid not in present and tid in maybe]
            if held + len(unsure) < self.count:
                return False  # not enough even if every one has hits: none placed
            for tid in unsure:
                if hits.occurs(tid, lim):
                    held += 1
                    if held >= self.count:
                        return True
            return False
        held = 0
        for child in self.children:
            if child.holds(hits, lim, ctx):
                held += 1
                if held >= self.count:
                    return True
        return False


class _CCount:
    __slots__ = ("minimum", "tids")

    def __init__(self, tids: list[int], minimum: int) -> None:
        self.tids = tids
        self.minimum = minimum

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        found = [(t, h) for t in self.tids for h in hits[t] if h[1] < lim[h[0]]]
        return found if len(found) >= self.minimum else None

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        return sum(1 for t in self.tids for h in hits[t] if h[1] < lim[h[0]]) >= self.minimum


class _CField:
    """The child in one field, or in the lead, whatever the scope around it."""

    __slots__ = ("child", "code", "title_anchors")

    def __init__(self, code: int, child: _CNode, title_anchors: frozenset[int] | None = None) -> None:
        self.code = code
        self.child = child
        # In the title: terms of which one is found in the title whenever the child holds there
        # (None: not known). Most terms found are in the text alone: their hits need not be placed.
        self.title_anchors = title_anchors

    def _ruled_out(self, hits: HitTable) -> bool:
        anchors = self.title_anchors
        if anchors is None or type(hits) is not _DocHits:
            return False
        title = hits.fields[0].terms
        return title is not None and anchors.isdisjoint(title)

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        if self._ruled_out(hits):
            return None
        return self.child.eval(hits, ctx.limits(self.code), ctx)

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        if self._ruled_out(hits):
            return False
        return self.child.holds(hits, ctx.limits(self.code), ctx)


class _CUnit:
    """The child within one sentence or paragraph: tried on each unit where an anchor term occurs,
    with only the hits of that unit."""

    __slots__ = ("anchor_set", "anchors", "child", "monotone", "near", "parts", "tid_set", "tids", "unit")

    def __init__(self, unit: str, child: _CNode, tids: list[int], anchors: list[int]) -> None:
        self.unit = unit
        self.child = child
        self.tids = tids  # sorted
        self.anchors = anchors  # sorted
        self.tid_set = frozenset(tids)
        self.anchor_set = frozenset(anchors)
        # Without `not`, a condition that holds in one unit holds in the whole text: where it does
        # not hold in the whole text (most candidates), no unit needs trying.
        self.monotone = not _contains(child, _CNot)
        # A near alone (most unit conditions at scale): tried in each unit on the slices of its groups'
        # hits sorted for the whole document, without a table per unit.
        self.near = child if isinstance(child, _CNear) else None
        # An `all` of terms and lists (`sentence: {all: [a, [b, c], d]}`): it holds in a unit where each
        # part has a hit, told by the units of the parts' hits, without a table per unit. Worked out
        # when first asked for (see `_parts_of`), not at every build.
        self.parts: list[frozenset[int]] | bool | None = False  # False: not yet worked out

    def _parts_of(self) -> list[frozenset[int]] | None:
        """The term sets of the `all` child's parts, each a term or a list of terms (None: another child)."""
        child = self.child
        if not isinstance(child, _CAll) or not child.children:
            return None
        parts = []
        for c in child.children:
            if isinstance(c, _CTerm):
                parts.append(frozenset((c.tid,)))
            elif isinstance(c, _CAny) and c.terms is not None and c.terms.tids:
                parts.append(c.terms.tid_set)
            else:
                return None
        return parts

    def _tables(self, hits: HitTable, lim: Limits, ctx: _Context) -> list[HitTable]:
        """The hits of each unit that holds an anchor hit in scope, one table per unit, in text order
        (one pass over the hits: a long text has many units)."""
        starts = [ctx.streams[0].unit_starts(self.unit), ctx.streams[1].unit_starts(self.unit)]
        anchored: set[tuple[int, int]] = set()
        for tid in _among(hits, self.anchor_set):
            for h in hits[tid]:
                if h[1] < lim[h[0]]:
                    anchored.add((h[0], bisect_right(starts[h[0]], h[1])))
        tables: dict[tuple[int, int], HitTable] = {}
        for tid in _among(hits, self.tid_set):
            for h in hits[tid]:
                unit = (h[0], bisect_right(starts[h[0]], h[1]))
                if unit in anchored:
                    tables.setdefault(unit, HitTable()).setdefault(tid, []).append(h)
        return [tables[unit] for unit in sorted(anchored)]

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        if self.monotone and not self.child.holds(hits, lim, ctx):
            return None
        if self.near is not None and type(hits) is _DocHits:
            return self.near.in_units(hits, lim, ctx.streams, self.unit)
        for table in self._tables(hits, lim, ctx):
            got = self.child.eval(table, lim, ctx)
            if got is not None:
                return got
        return None

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        if self.monotone and not self.child.holds(hits, lim, ctx):
            return False
        if type(hits) is _DocHits:
            if self.near is not None:
                return self.near.in_units(hits, lim, ctx.streams, self.unit) is not None
            parts = self.parts
            if parts is False:
                parts = self.parts = self._parts_of()
            if isinstance(parts, list):
                return self._parts_meet(parts, hits, lim, ctx)
        return any(self.child.holds(table, lim, ctx) for table in self._tables(hits, lim, ctx))

    def _parts_meet(self, parts: list[frozenset[int]], hits: _DocHits, lim: Limits, ctx: _Context) -> bool:
        """Whether some unit holds a hit in scope of each of the `all`'s parts: where it holds in that
        unit's table (its anchors, one part's terms, are among them)."""
        starts = [ctx.streams[0].unit_starts(self.unit), ctx.streams[1].unit_starts(self.unit)]
        common: set[tuple[int, int]] | None = None
        possible = hits.possible
        for part in parts:
            units = {
                (h[0], bisect_right(starts[h[0]], h[1]))
                for tid in part.intersection(possible)
                for h in hits[tid]
                if h[1] < lim[h[0]]
            }
            common = units if common is None else common & units
            if not common:
                return False
        return True


def _among(hits: HitTable, tids: frozenset[int]) -> list[int]:
    """Those of `tids` found or maybe found, in order (the others have no hits)."""
    found = tids.intersection(hits.present)
    if hits.maybe:
        found |= tids.intersection(hits.maybe)
    return sorted(found)


class _TermList:
    """Terms (a list, in its order), to pick those found in a document by set operations."""

    __slots__ = ("order", "tid_set", "tids")

    def __init__(self, tids: list[int]) -> None:
        self.tids = tids
        self.tid_set = frozenset(tids)
        distinct = len(self.tid_set) == len(tids)
        self.order: dict[int, int] | None = {tid: i for i, tid in enumerate(tids)} if distinct else None

    def found(self, hits: HitTable) -> list[int]:
        """The terms found or maybe found, in the list's order (repeats kept)."""
        present, maybe = hits.present, hits.maybe
        if self.order is None:
            return [t for t in self.tids if t in present or t in maybe]
        found = self.tid_set.intersection(present)
        if maybe:
            found |= self.tid_set.intersection(maybe)
        return sorted(found, key=self.order.__getitem__) if len(found) > 1 else list(found)


class _CNear:
    __slots__ = ("groups", "lists", "ordered", "within")

    def __init__(self, groups: list[list[int]], within: int, ordered: bool) -> None:
        self.groups = groups
        self.lists = [_TermList(tids) for tids in groups]
        self.within = within
        self.ordered = ordered

    def eval(self, hits: HitTable, lim: Limits, ctx: _Context) -> Found | None:
        if type(hits) is _DocHits:
            # `match` asks whether it holds, then for its hits: what it chose is kept for the document.
            # Most nears tried do not hold: a test on bit masks of the groups' hits rules out nearly
            # all of them before their hits are walked one by one.
            key = (id(self), lim)
            memo = hits.memo
            if key in memo:
                return memo[key]
            got = memo[key] = self._eval(hits, lim) if self._may_hold(hits, lim) else None
            return got
        return self._eval(hits, lim)

    def _eval(self, hits: HitTable, lim: Limits) -> Found | None:
        for _, lists, starts in self._in_scope(hits, lim):
            chosen = self._choose(lists, starts)
            if chosen is not None:
                return chosen
        return None

    def _in_scope(self, hits: HitTable, lim: Limits) -> Iterator[tuple[int, list[Found], list[list[int]]]]:
        """For each field in scope (title, then text) where every group has hits: the field, each group's
        hits there and their first words (in the words in scope)."""
        # A term maybe found but without hits adds none below: the near cannot hold by it.
        groups = [terms.found(hits) for terms in self.lists]
        if not all(groups):
            return
        for field in (0, 1):
            limit = lim[field]
            if not limit:
                continue
            lists: list[Found] = []
            starts: list[list[int]] = []
            for tids in groups:
                group, group_starts = hits.in_field(tids, field)
                if limit < _ALL_WORDS:
                    cut = bisect_left(group_starts, limit)
                    group, group_starts = group[:cut], group_starts[:cut]
                if not group:
                    break
                lists.append(group)
                starts.append(group_starts)
            else:
                yield field, lists, starts

    def _choose(self, lists: list[Found], starts: list[list[int]]) -> Found | None:
        return self._ordered(lists, starts) if self.ordered else self._unordered(lists, starts)

    def holds(self, hits: HitTable, lim: Limits, ctx: _Context) -> bool:
        return self.eval(hits, lim, ctx) is not None

    def in_units(self, hits: HitTable, lim: Limits, streams: list[WordStream], unit: str) -> Found | None:
        """What the near chooses within one sentence or paragraph (`unit`), in the first unit in text
        order where it holds: what `_eval` chooses on that unit's hits alone. Every choice holds a
        hit of the first group, so only the units of its hits are tried; a unit's hits are a slice
        of each group's (sorted by their first words, which say the unit a hit is in)."""
        for field, lists, starts in self._in_scope(hits, lim):
            unit_starts = streams[field].unit_starts(unit)
            tried = 0  # units are numbered from 1 (bisect_right of a word in their starts)
            for first in starts[0]:
                number = bisect_right(unit_starts, first)
                if number == tried:
                    continue
                tried = number
                low = unit_starts[number - 1]
                high = unit_starts[number] if number < len(unit_starts) else _ALL_WORDS
                unit_lists: list[Found] = []
                unit_starts_of: list[list[int]] = []
                for group, group_starts in zip(lists, starts, strict=True):
                    begin, end = bisect_left(group_starts, low), bisect_left(group_starts, high)
                    if begin == end:
                        break
                    unit_lists.append(group[begin:end])
                    unit_starts_of.append(group_starts[begin:end])
                else:
                    chosen = self._choose(unit_lists, unit_starts_of)
                    if chosen is not None:
                        return chosen
        return None

    def _may_hold(self, hits: _DocHits, lim: Limits) -> bool:
        """Whether, for every two groups, hits start at most `within` words apart in the words in
        scope: a choice of one hit per group (ordered or not) starts within `within` words of its
        first hit, so this holds whenever the near does (and seldom when it does not). A group's
        bits are its terms' (found or maybe found); in the usual scope, its spread bits too."""
        possible, masks = hits.possible, hits.start_masks
        within = self.within
        if lim is _EVERYWHERE:
            spreads = masks.spreads
            if len(self.groups) == 2:
                # Two groups (most nears): the first's bits against each spread term of the second,
                # the first that meets them enough.
                first, second = self.groups
                mask = 0
                for tid in first:
                    if tid in possible:
                        mask |= masks[tid]
                if not mask:
                    return False
                for tid in second:
                    if tid in possible:
                        got = spreads.get((tid, within))
                        if mask & (masks.spread(tid, within) if got is None else got):
                            return True
                return False
            earlier: list[int] = []
            for tids in self.groups:
                mask = spread = 0
                for tid in tids:
                    if tid in possible:
                        mask |= masks[tid]
                        if earlier:
                            got = spreads.get((tid, within))
                            spread |= masks.spread(tid, within) if got is None else got
                if not mask:
                    return False
                for other in earlier:
                    if not other & spread:
                        return False
                earlier.append(mask)
            return True
        scope = masks.in_scope(lim)
        group_masks: list[int] = []
        for tids in self.groups:
            mask = 0
            for tid in tids:
                if tid in possible:
                    mask |= masks[tid]
            mask &= scope
            if not mask:
                return False
            group_masks.append(mask)
        return _near_pairs(group_masks, within)

    def nearest(self, hits: HitTable, lim: Limits) -> int | None:
        """The smallest distance any choice of one hit per group reaches (ignoring order), for
        explaining a near that did not hold; None when a group has no hit at all."""
        best: int | None = None
        for field in (0, 1):
            limit = lim[field]
            starts = [
                sorted({h[1] for t in tids for h in hits[t] if h[0] == field and h[1] < limit}) for tids in self.groups
            ]
            if not all(starts):
                continue
            for anchor in starts[0]:
                spread = [min(abs(s - anchor) for s in other) for other in starts[1:]]
                distance = max(spread)
                best = distance if best is None else min(best, distance)
        return best

    # Each group's hits are sorted by their words; `starts` holds each hit's first word, to find
    # the hits in a window by bisection.

    def _ordered(self, lists: list[Found], starts: list[list[int]]) -> Found | None:
        for anchor in lists[0]:
            limit = anchor[1][1] + self.within
            chosen = [anchor]
            for group, group_starts in zip(lists[1:], starts[1:], strict=True):
                at = bisect_right(group_starts, chosen[-1][1][2])  # the first hit after the last word chosen
                if at == len(group) or group_starts[at] > limit:
                    break
                chosen.append(group[at])
            else:
                return chosen
        return None

    def _unordered(self, lists: list[Found], starts: list[list[int]]) -> Found | None:
        for gi, group in enumerate(lists):
            for anchor in group:
                start = anchor[1][1]
                window = [
                    other[bisect_left(starts[oi], start) : bisect_right(starts[oi], start + self.within)]
                    for oi, other in enumerate(lists)
                    if oi != gi
                ]
                chosen = _pick_disjoint(window, [anchor])
                if chosen is not None:
                    return chosen
        return None


def _near_pairs(masks: list[int], within: int) -> bool:
    """Every two of these masks have bits at most `within` places apart."""
    if len(masks) == 2:
        return bool(masks[0] & _spread(masks[1], within))
    spreads = [_spread(mask, within) for mask in masks]
    return all(masks[i] & spreads[j] for i in range(len(masks) - 1) for j in range(i + 1, len(masks)))


def _spread(mask: int, within: int) -> int:
    """`mask` with every bit copied up to `within` places either way (doubling the reach each step)."""
    reach = 0
    while reach < within:
        step = min(reach + 1, within - reach)
        mask |= (mask << step) | (mask >> step)
        reach += step
    return mask


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


_CNode: TypeAlias = _CTerm | _CAll | _CAny | _CNot | _CAtLeast | _CCount | _CField | _CUnit | _CNear


# Literal terms in the automaton -----------------------------------------------------------------


class _KeyTarget(NamedTuple):
    """What an automaton key stands for: a term, and the words to check after the key. (A named
    tuple: made and compared in C, for each of the keys of 350,000 rules' terms.)"""

    tid: int
    key_words: int
    spaced: bool  # the key starts with the space before its first word (else: inside the word)
    rest: tuple[TermWord, ...]
    cased: tuple[TermWord, ...] | None
    simple: bool  # no words after the key, no case check, starts at a word: the key alone is the hit


def _key_of(variant: list[TermWord]) -> tuple[str, int, bool]:
    """The automaton key for a word sequence, how many of its words the key covers, and whether it
    starts at a word's start. A key runs over exact words, and ends inside a word at a prefix
    wildcard; a leading suffix (or infix) wildcard starts it inside a word."""
    word, mode = variant[0]
    spaced = mode in (EXACT, PREFIX)
    key = (" " if spaced else "") + word
    if mode in (PREFIX, INFIX):
        return key, 1, spaced
    key += " "
    count = 1
    for word, mode in variant[1:]:
        if mode in (SUFFIX, INFIX):
            break
        key += word
        count += 1
        if mode == PREFIX:
            break
        key += " "
    return key, count, spaced


def _words_match(entries: Sequence[str], pattern: Sequence[TermWord]) -> bool:
    if len(entries) != len(pattern):
        return False
    return all(e == p[0] if p[1] == EXACT else word_matches(e, p) for e, p in zip(entries, pattern, strict=True))


class _Keys:
    """Automaton keys and what each stands for, built into one Aho-Corasick automaton, which only
    tells which terms occur (in C, without a step in Python per hit: a text finds a key at nearly
    every word): the terms that keys find on their own (most: a whole word or phrase), and those
    whose keys have more to check (words after a prefix, case, a key inside a word), checked when
    the term is placed. A term found is placed (its hits located) when a rule asks."""

    __slots__ = (
        "_inside",
        "alone",
        "automaton",
        "checked_keys",
        "checked_of",
        "inside_words",
        "keys_of",
        "one_key",
        "targets",
        "to_check",
    )

    def __init__(self) -> None:
        self.targets: dict[str, list[_KeyTarget]] = {}
        self.keys_of: dict[int, list[str]] = {}  # per term: the keys that find it on their own
        self.checked_of: dict[int, list[str]] = {}  # per term: the keys with more to check
        self.automaton: Any = None
        # Per key (the automaton's value is its number): the terms it finds alone, those it finds
        # with more to check, and the numbers of the keys that have any of the latter.
        self.alone: list[tuple[int, ...]] = []
        self.to_check: list[tuple[int, ...]] = []
        self.checked_keys: frozenset[int] = frozenset()
        # The terms found by one key alone, " word " or " prefix" (no other key, nothing to check).
        self.one_key: dict[int, str] = {}
        # The terms whose keys with more to check are all inside one word, with no other check (one
        # word's suffix or infix wildcard): see _DocHits.occurs.
        self.inside_words: dict[int, tuple[str, ...]] = {}
        self._inside: Any = False  # see inside()

    def add(self, tid: int, variant: list[TermWord], cased: list[TermWord] | None) -> None:
        key, key_words, spaced = _key_of(variant)
        rest = tuple(variant[key_words:])
        target = _KeyTarget(
            tid,
            key_words,
            spaced,
            rest,
            tuple(cased) if cased is not None else None,
            simple=not rest and cased is None and spaced,
        )
        targets = self.targets.setdefault(key, [])
        if target not in targets:
            targets.append(target)
            keys = (self.keys_of if target.simple else self.checked_of).setdefault(tid, [])
            if key not in keys:
                keys.append(key)

    def add_words(self, tid: int, words: list[str]) -> None:
        """`add(tid, [(word, EXACT) for word in words], None)`: a term of exact words, no case."""
        self.add_simple(tid, " " + " ".join(words) + " ", len(words))

    def add_simple(self, tid: int, key: str, key_words: int) -> None:
        """A key starting at a word that finds `tid` alone, over `key_words` words (as `add` adds it)."""
        target = _KeyTarget(tid, key_words, True, (), None, True)
        targets = self.targets.setdefault(key, [])
        if target not in targets:
            targets.append(target)
            keys = self.keys_of.setdefault(tid, [])
            if key not in keys:
                keys.append(key)

    def build(self) -> None:
        # Per key, in order: most keys stand for one target (no generator for those).
        alone: list[tuple[int, ...]] = []
        to_check: list[tuple[int, ...]] = []
        for targets in self.targets.values():
            if len(targets) == 1:
                one = targets[0]
                if one.simple:
                    alone.append((one.tid,))
                    to_check.append(())
                else:
                    alone.append(())
                    to_check.append((one.tid,))
            else:
                alone.append(tuple([t.tid for t in targets if t.simple]))
                to_check.append(tuple(dict.fromkeys([t.tid for t in targets if not t.simple])))
        self.alone, self.to_check = alone, to_check
        self.checked_keys = frozenset(i for i, others in enumerate(self.to_check) if others)
        checked = self.checked_of
        self.one_key = {
            tid: keys[0]
            for tid, keys in self.keys_of.items()
            if len(keys) == 1 and " " not in keys[0][1:-1] and tid not in checked
        }
        self.inside_words = {
            tid: tuple(keys)
            for tid, keys in checked.items()
            if all(_inside_one_word(key, tid, self.targets[key]) for key in keys)
        }
        self.automaton = _automaton(self.targets)
        self._inside = self._inside_automaton()

    @property
    def empty(self) -> bool:
        return self.automaton is None

    def inside(self) -> Any:
        """An automaton of the keys with more to check that start inside a word (a suffix or infix
        wildcard's), each its own value; False if there are none: where those keys occur in a
        stream is found in one pass over it, not a `str.find` per key."""
        return self._inside

    def _inside_automaton(self) -> Any:
        # Built with the keys (7 ms at 100,000 rules), not by a document's match.
        inside = {key for keys in self.checked_of.values() for key in keys if not key.startswith(" ")}
        if not inside:
            return False
        automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        for key in inside:
            automaton.add_word(key, key)
        automaton.make_automaton()
        return automaton

    def scan(self, stream: str) -> tuple[set[int], set[int]]:
        """The terms that keys alone find somewhere in `stream`, and those whose keys with more to
        check occur there (checked when placed)."""
        if self.automaton is None:
            return set(), set()
        # The keys found, each once (a text finds a common word's key many times), then their terms.
        keys = set(map(_VALUE, self.automaton.iter(stream)))
        checked = keys & self.checked_keys
        maybe = set().union(*map(self.to_check.__getitem__, checked)) if checked else set()
        return set().union(*map(self.alone.__getitem__, keys)), maybe

    def place(self, tid: int, field: int, entries: _Entries) -> list[_Placed]:
        """Where the keys that find `tid` on their own occur in the entries' stream."""
        first_of, last_of, main, starts = entries.first_of, entries.last_of, entries.main, entries.starts
        placed: list[_Placed] = []
        for key in self.keys_of.get(tid, ()):
            found = entries.spaced(key)
            if not found:
                continue
            # A spaced key, " w1 w2 " or " w1 pre", ends this far after its first entry starts.
            width, more = len(key) - 2, key.count(" ") - key.endswith(" ") - 1
            placed += [(starts[e] + width, e >= main, (field, first_of[e], last_of[e + more], -1, -1)) for e in found]
        return placed

    def place_checked(self, tid: int, field: int, entries: _Entries) -> list[_Placed]:
        """Where the keys of `tid` with more to check occur in the entries' stream and their checks
        pass, in the order an automaton pass finds them."""
        keys = self.checked_of.get(tid)
        if not keys:
            return []
        occurs: list[tuple[int, int, str]] = []  # (where the key ends, minus its length, the key)
        inside: dict[str, list[int]] | None = None  # the ends of keys inside a word, once many are asked for
        for key in keys:
            if key.startswith(" "):
                occurs += [(entries.starts[e] + len(key) - 2, -len(key), key) for e in entries.spaced(key)]
                continue
            if inside is None:
                inside = entries.inside_ends(self)
            if inside is not None:
                occurs += [(end, -len(key), key) for end in inside.get(key, ())]
                continue
            stream, width = entries.stream, len(key) - 1
            at = stream.find(key)
            while at != -1:
                occurs.append((at + width, -len(key), key))
                at = stream.find(key, at + 1)
        if len(keys) > 1:
            occurs.sort()  # an automaton reports the keys ending at one place longest first
        words, first_of, last_of, main, text_stream = (
            entries.words,
            entries.first_of,
            entries.last_of,
            entries.main,
            entries.text,
        )
        starts = entries.starts
        seen: set[tuple[int, int]] = set()
        out: list[_Placed] = []
        for end, _, key in occurs:
            # Where the key's first word starts, from the key's end: a spaced key starts with the
            # space before it, so its word starts one character later.
            back = len(key) - key.startswith(" ")
            entry = bisect_right(starts, end - back + 1) - 1
            for target in self.targets[key]:
                if target.tid != tid or target.simple:
                    continue
                if entry >= main and not target.spaced:
                    continue  # a word's ending is found in the word itself, not in a compound segment
                last_entry = entry + target.key_words + len(target.rest) - 1
                if target.rest and not _words_match(words[entry + target.key_words : last_entry + 1], target.rest):
                    continue
                if last_entry >= len(first_of) or first_of[entry] < 0 or last_of[last_entry] < 0:
                    continue
                first, last = first_of[entry], last_of[last_entry]
                if target.cased is not None and (
                    text_stream is None or not _cased_match(text_stream, first, last, target.cased)
                ):
                    continue
                repeats = entry >= main or not target.spaced
                if repeats:
                    if (first, last) in seen:
                        continue
                    seen.add((first, last))
                out.append((end, repeats, (field, first, last, -1, -1)))
        return out


_VALUE = itemgetter(1)


def _inside_one_word(key: str, tid: int, targets: list[_KeyTarget]) -> bool:
    """The key starts inside a word and ends in it or at its end, and finds `tid` with no check
    after it: where it occurs before a stream's compound segments, the word it is in is a hit."""
    if key.startswith(" ") or " " in key[:-1]:
        return False
    mine = [t for t in targets if t.tid == tid and not t.simple]
    return all(not t.spaced and not t.rest and t.cased is None and t.key_words == 1 for t in mine)


def _automaton(keys: Iterable[str]) -> Any:
    """An automaton whose value for each key is the key's number, in order (None if no keys)."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for number, key in enumerate(keys):
        automaton.add_word(key, number)
    if not len(automaton):
        return None
    automaton.make_automaton()
    return automaton


def _gather(tid: int, field: int, layers: list[_Placing]) -> tuple[list[_Placed], int]:
    """Term `tid`'s hits in one field from these layers (the keys that find it alone, then those
    with more to check), and how many keys gave them (more than one: they need sorting into stream
    order)."""
    placed: list[_Placed] = []
    checked: list[_Placed] = []
    keys_found = 0
    for keys, entries in layers:
        own = keys.keys_of.get(tid)
        if own:
            placed += keys.place(tid, field, entries)
            keys_found += len(own)
    for keys, entries in layers:
        if tid in keys.checked_of:
            checked += keys.place_checked(tid, field, entries)
    if checked:
        placed += checked
        keys_found += 2  # in order with the others
    return placed, keys_found


def _unique(placed: list[_Placed], sort: bool) -> list[RawHit]:
    """The hits in stream order, a repeat of the same words dropped."""
    if sort:
        placed.sort(key=_END)
    if not any(map(_REPEATS, placed)):
        return list(map(_HIT, placed))
    seen: set[tuple[int, int]] = set()
    out: list[RawHit] = []
    for _, repeats, hit in placed:
        if repeats:
            words = (hit[1], hit[2])
            if words in seen:
                continue
            seen.add(words)
        out.append(hit)
    return out


_END = itemgetter(0)
_REPEATS = itemgetter(1)
_HIT = itemgetter(2)


# Keys looked for with str.find in a stream before its index is built (which costs about as much as
# twenty finds; most documents ask for few keys at a few rules, many at many).
_FINDS_BEFORE_INDEX = 16


# Repeated words whose entries are listed one by one (a scan of the stream each) before every
# word's are listed in one pass.
_REPEATS_BEFORE_INDEX = 24


class _Entries:
    """A stream of entries (" e0 e1 e2 ... ", see `text.WordStream`) to place hits in, and where
    its entries are found by their words (an index built on first use: a `str.find` of a key
    that starts with a space stops at every space of the stream)."""

    __slots__ = (
        "_asked",
        "_first",
        "_inside",
        "_inside_asked",
        "_last",
        "_repeated",
        "_sorted",
        "_starts",
        "first_of",
        "last_of",
        "main",
        "stream",
        "text",
        "words",
    )

    def __init__(
        self,
        words: list[str],
        first_of: list[int],
        last_of: list[int],
        main: int,
        text: WordStream | None,
        stream: str | None = None,
        starts: list[int] | None = None,
    ) -> None:
        self.words = words  # each entry's word
        self.first_of = first_of  # the first word of the text each entry covers (-1: none)
        self.last_of = last_of  # ... and the last
        self.main = main  # entries from here on are compound segments
        self.text = text  # the field's words, for case checks (None: stemmed entries)
        self.stream = " " + " ".join(words) + " " if stream is None else stream
        self._starts = starts  # where each entry starts (computed on first use: placing hits needs it)
        # The index: each word's first and last entry (two dicts built in C), and the entries of
        # words found more than once, listed when first asked for.
        self._first: dict[str, int] = {}
        self._last: dict[str, int] | None = None
        self._repeated: dict[str, list[int]] = {}
        self._sorted: list[str] | None = None
        self._asked = 0
        self._inside: dict[int, dict[str, list[int]]] = {}  # per layer of keys (by id): see inside_ends()
        self._inside_asked = 0

    @property
    def starts(self) -> list[int]:
        """Where each entry starts in the stream."""
        if self._starts is None:
            self._starts = stream_starts(self.words)
        return self._starts

    def inside_ends(self, keys: _Keys) -> dict[str, list[int]] | None:
        """Where each of the keys that start inside a word (`keys.inside()`) ends in the stream, in
        stream order (overlaps too: what a `str.find` from each place found would find), in one pass
        over it; None for the first keys asked for (found with `str.find`: a pass over the stream
        finds every such key of every rule, costing as much as tens of finds)."""
        got = self._inside.get(id(keys))
        if got is None:
            if self._inside_asked < _FINDS_BEFORE_INDEX:
                self._inside_asked += 1
                return None
            got = self._inside[id(keys)] = {}
            automaton = keys.inside()
            if automaton:
                for end, key in automaton.iter(self.stream):
                    ends = got.get(key)
                    if ends is None:
                        got[key] = [end]
                    else:
                        ends.append(end)
        return got

    def _at(self, word: str) -> list[int]:
        """The entries holding `word`, in stream order."""
        if self._last is None:
            words = self.words
            self._last = dict(zip(words, range(len(words)), strict=True))
            self._first = dict(zip(reversed(words), range(len(words) - 1, -1, -1), strict=True))
        first = self._first.get(word)
        if first is None:
            return []
        last = self._last[word]
        if first == last:
            return [first]
        repeated = self._repeated
        found = repeated.get(word)
        if found is None:
            if len(repeated) == _REPEATS_BEFORE_INDEX:
                # A document that asks for many repeated words (a long text, many candidates): every
                # word's entries listed in one pass, rather than a scan of the stream per word.
                every: dict[str, list[int]] = {}
                for entry, each in enumerate(self.words):
                    got = every.get(each)
                    if got is None:
                        every[each] = [entry]
                    else:
                        got.append(entry)
                repeated.update(every)
                return every[word]
            found = repeated[word] = [first]
            at, index = first, self.words.index
            while at != last:
                at = index(word, at + 1)
                found.append(at)
        return found

    def spaced(self, key: str) -> list[int]:
        """The entries where `key` (" w1 w2 ": these words; " w1 pre": then a word starting with
        "pre") occurs in the stream, in stream order: what `str.find` would find."""
        if self._last is not None and key[-1] == " " and key.count(" ") == 2:
            return self._at(key[1:-1])  # one whole word (most keys)
        if self._last is None and self._asked < _FINDS_BEFORE_INDEX:
            self._asked += 1
            stream, starts, found = self.stream, self.starts, []
            at = stream.find(key)
            while at != -1:
                found.append(bisect_right(starts, at + 1) - 1)
                at = stream.find(key, at + 1)
            return found
        parts = key[1:].split(" ")
        exact = parts[-1] == ""  # the key ends with a whole word
        if exact:
            parts.pop()
        if len(parts) == 1:
            if exact:
                return self._at(parts[0])
            return self._starting(parts[0])
        words, last = self.words, len(parts) - 1
        out = []
        for entry in self._at(parts[0]):
            end = entry + last
            if end >= len(words):
                break
            ends = words[end] == parts[last] if exact else words[end].startswith(parts[last])
            if ends and (last == 1 or words[entry + 1 : end] == parts[1:last]):
                out.append(entry)
        return out

    def _starting(self, prefix: str) -> list[int]:
        """The entries whose word starts with `prefix`, in stream order."""
        if self._sorted is None:
            self._at("")  # the index built
            self._sorted = sorted(self._first)
        words = self._sorted
        at = bisect_left(words, prefix)
        found: list[int] = []
        count = 0
        while at < len(words) and words[at].startswith(prefix):
            found += self._at(words[at])
            at += 1
            count += 1
        return sorted(found) if count > 1 else found


# The matcher ----------------------------------------------------------------------------------

# From this many rules on, the presearch picks candidates with NumPy arrays (below: with sets, whose
# cost per article is smaller when there are few rules to pick from).
BULK_PRESEARCH_RULES = 20_000


class _Presearch:
    """The rules' anchor sets as arrays, to pick the candidates for the terms found in bulk: for each
    term, the rules (by position in rule order) whose first anchor set holds it, and those whose
    second does. A rule is a candidate when a term of its first set is found and, if it has a
    second, one of that too (what `Matcher._candidates` picks with sets)."""

    __slots__ = (
        "always",
        "counted",
        "counted_need",
        "counted_rules",
        "counted_sure",
        "exact",
        "first",
        "has_second",
        "keys",
        "second",
    )

    def __init__(
        self,
        keys: np.ndarray,
        always: np.ndarray,
        has_second: np.ndarray,
        first: tuple[np.ndarray, np.ndarray],
        second: tuple[np.ndarray, np.ndarray],
        counted: tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]],
        sure: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.keys = keys  # each position's order key (increasing)
        self.always = always  # positions of the rules always evaluated
        self.has_second = has_second
        self.first = first  # (per term: where its positions start, the positions)
        self.second = second
        # The rules that need N of their terms found (positions), each N, and per term the
        # indices into those of the rules that count it (as often as they list it).
        self.counted_rules, self.counted_need, self.counted = counted
        # What decides a candidate with no evaluation (see `picks`): per position, the rule is its
        # anchor sets alone (`_CompiledRule.exact`); per rule counted, it is its `at_least` alone.
        self.exact, self.counted_sure = sure

    @classmethod
    def of(cls, matcher: Matcher) -> _Presearch:
        compiled = list(matcher._in_order())
        terms = len(matcher._terms)
        keys = np.array(matcher._order, dtype=np.int64)
        always = np.array([i for i, c in enumerate(compiled) if c.anchors is None], dtype=np.int64)
        has_second = np.array([c.second is not None for c in compiled], dtype=bool)
        first = _by_term([c.anchors or () for c in compiled], terms)
        second = _by_term([c.second or () for c in compiled], terms)
        counted = [(i, c.counted) for i, c in enumerate(compiled) if c.counted is not None]
        counted_rules = np.array([i for i, _ in counted], dtype=np.int64)
        counted_need = np.array([need for _, (_, need) in counted], dtype=np.int64)
        by_term = _by_term([tids for _, (tids, _) in counted], terms)
        exact = np.array([c.exact for c in compiled], dtype=bool)
        counted_sure = np.array([_decided_by_count(compiled[i]) for i, _ in counted], dtype=bool)
        counted_by = (counted_rules, counted_need, by_term)
        return cls(keys, always, has_second, first, second, counted_by, (exact, counted_sure))

    def patched(self, matcher: Matcher, first: int, removed: int, added: int) -> _Presearch:
        """These arrays for `matcher`, whose rules are this one's with the `removed` rules from position
        `first` on replaced by `added` others (an updated matcher): the arrays as `of` builds them,
        patched in bulk (the rules before and after keep their entries, shifted) rather than built from
        every rule again."""
        compiled = [matcher._compiled[key] for key in matcher._order[first : first + added]]
        terms = len(matcher._terms)
        end = first + removed  # the first position after the rules removed, before
        shift = added - removed
        keys = np.array(matcher._order, dtype=np.int64)
        always = self.always
        always = np.concatenate(
            (
                always[always < first],
                np.array([first + i for i, c in enumerate(compiled) if c.anchors is None], dtype=np.int64),
                always[always >= end] + shift,
            )
        )
        has_second = np.concatenate(
            (
                self.has_second[:first],
                np.array([c.second is not None for c in compiled], dtype=bool),
                self.has_second[end:],
            )
        )
        firsts = _patched_rows(self.first, terms, first, end, [c.anchors or () for c in compiled])
        seconds = _patched_rows(self.second, terms, first, end, [c.second or () for c in compiled])
        # The rules counted are indexed by their place among the counted rules, not by position.
        counted_rules, counted_need = self.counted_rules, self.counted_need
        low, high = np.searchsorted(counted_rules, (first, end))
        counted = [(first + i, c.counted) for i, c in enumerate(compiled) if c.counted is not None]
        by_term = _patched_rows(self.counted, terms, int(low), int(high), [tids for _, (tids, _) in counted])
        counted_rules = np.concatenate(
            (counted_rules[:low], np.array([i for i, _ in counted], dtype=np.int64), counted_rules[high:] + shift)
        )
        counted_need = np.concatenate(
            (counted_need[:low], np.array([need for _, (_, need) in counted], dtype=np.int64), counted_need[high:])
        )
        exact = np.concatenate(
            (self.exact[:first], np.array([c.exact for c in compiled], dtype=bool), self.exact[end:])
        )
        counted_sure = np.concatenate(
            (
                self.counted_sure[:low],
                np.array([_decided_by_count(compiled[i - first]) for i, _ in counted], dtype=bool),
                self.counted_sure[high:],
            )
        )
        return _Presearch(
            keys, always, has_second, firsts, seconds, (counted_rules, counted_need, by_term), (exact, counted_sure)
        )

    def candidates(self, present: AbstractSet[int]) -> list[int]:
        """The order keys of the candidates for the terms `present`, in rule order."""
        found = np.fromiter(present, dtype=np.int64, count=len(present))
        rules = len(self.keys)
        picked = np.zeros(rules, dtype=bool)
        picked[_gather_rows(self.first, found)] = True
        if self.has_second.any():
            second = np.zeros(rules, dtype=bool)
            second[_gather_rows(self.second, found)] = True
            picked &= second | ~self.has_second
        picked[self.always] = True
        if len(self.counted_rules):
            counts = np.bincount(_gather_rows(self.counted, found), minlength=len(self.counted_rules))
            picked[self.counted_rules[counts < self.counted_need]] = False
        return self.keys[np.flatnonzero(picked)].tolist()  # type: ignore[no-any-return]

    def picks(self, found: AbstractSet[int], maybe: AbstractSet[int]) -> tuple[list[int], list[bool]]:
        """The order keys of the candidates for the terms `found` and `maybe` found (those `candidates`
        gives for both), and for each whether it holds with no evaluation: a rule that is its anchor
        sets alone with a term of each certainly found (what `match` checks of an exact rule), or an
        `at_least N` of terms alone (in the usual scope) with N of them certainly found. Decided in
        bulk: a long text at 350,000 rules has thousands of such candidates."""
        sure_terms = np.fromiter(found, dtype=np.int64, count=len(found))
        unsure: AbstractSet[int] = maybe - found if maybe else frozenset()
        unsure_terms = np.fromiter(unsure, dtype=np.int64, count=len(unsure))
        rules = len(self.keys)
        sure = np.zeros(rules, dtype=bool)
        sure[_gather_rows(self.first, sure_terms)] = True
        picked = sure.copy()
        picked[_gather_rows(self.first, unsure_terms)] = True
        if self.has_second.any():
            second_sure = np.zeros(rules, dtype=bool)
            second_sure[_gather_rows(self.second, sure_terms)] = True
            second = second_sure.copy()
            second[_gather_rows(self.second, unsure_terms)] = True
            picked &= second | ~self.has_second
            sure &= second_sure | ~self.has_second
        sure &= self.exact
        picked[self.always] = True
        sure[self.always] = False
        if len(self.counted_rules):
            count = len(self.counted_rules)
            counts_sure = np.bincount(_gather_rows(self.counted, sure_terms), minlength=count)
            counts = counts_sure + np.bincount(_gather_rows(self.counted, unsure_terms), minlength=count)
            picked[self.counted_rules[counts < self.counted_need]] = False
            sure[self.counted_rules[(counts_sure >= self.counted_need) & self.counted_sure]] = True
        sure &= picked
        positions = np.flatnonzero(picked)
        return self.keys[positions].tolist(), sure[positions].tolist()


def _decided_by_count(compiled: _CompiledRule) -> bool:
    """The rule is an `at_least N` of terms alone, in the usual scope (N >= 2): it holds when N of its
    terms (as often as it lists them) are certainly found, what `_CAtLeast.holds` checks first."""
    node = compiled.node
    return compiled.scope == _TITLE | _TEXT and type(node) is _CAtLeast and compiled.counted is not None


def _by_term(sets: list[tuple[int, ...]], terms: int) -> tuple[np.ndarray, np.ndarray]:
    """For each term id below `terms`: the positions of the sets that hold it, ascending (CSR)."""
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    tids = np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=int(lengths.sum()))
    positions = np.repeat(np.arange(len(sets), dtype=np.int64), lengths)
    order = np.argsort(tids, kind="stable")  # stable: each term's positions stay ascending
    starts = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(tids, minlength=terms), out=starts[1:])
    return starts, positions[order]


def _patched_rows(
    index: tuple[np.ndarray, np.ndarray], terms: int, low: int, high: int, sets: list[tuple[int, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """`_by_term` of sets from which those at positions `low` to `high` (excluded) were replaced by
    `sets`, from `index` (`_by_term` of the sets before) and those alone: the other entries are kept
    in their order, those after the change moved by the difference, and the new ones put in place."""
    starts, positions = index
    rows = np.repeat(np.arange(len(starts) - 1, dtype=np.int64), np.diff(starts))
    kept = (positions < low) | (positions >= high)
    rows, positions = rows[kept], positions[kept]
    positions = np.where(positions >= high, positions + (len(sets) - (high - low)), positions)
    lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    new_rows = np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=int(lengths.sum()))
    new_positions = np.repeat(np.arange(low, low + len(sets), dtype=np.int64), lengths)
    if len(new_rows):
        # Entries are ordered by term, then by position: the new ones go where that order puts them.
        width = max(int(positions.max(initial=0)), int(new_positions.max())) + 1
        order = np.lexsort((new_positions, new_rows))
        new_rows, new_positions = new_rows[order], new_positions[order]
        at = np.searchsorted(rows * width + positions, new_rows * width + new_positions)
        rows = np.insert(rows, at, new_rows)
        positions = np.insert(positions, at, new_positions)
    starts = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=terms), out=starts[1:])
    return starts, positions


def _gather_rows(index: tuple[np.ndarray, np.ndarray], tids: np.ndarray) -> np.ndarray:
    """Every position listed under these terms (CSR rows concatenated, in bulk)."""
    starts, positions = index
    tids = tids[tids < len(starts) - 1]
    begin, end = starts[tids], starts[tids + 1]
    lengths = end - begin
    total = int(lengths.sum())
    if not total:
        return positions[:0]
    # Each row's offsets: a running index shifted, row by row, to where the row starts.
    shift = np.repeat(begin - (np.cumsum(lengths) - lengths), lengths)
    return positions[shift + np.arange(total, dtype=np.int64)]


class _CompiledRule(NamedTuple):
    """A rule as compiled (a named tuple: made in C, 350,000 times in a build)."""

    rule: Rule
    node: _CNode
    scope: int
    anchors: tuple[int, ...] | None  # the rule is evaluated when one of these terms occurs (None: always)
    # ... and, when it has a second condition that needs a term of its own, one of these too.
    second: tuple[int, ...] | None = None
    # The condition is its anchor sets and nothing more (`all: [t, any: [...]]` in the usual scope):
    # it holds when a term of each is certainly found, with no evaluation.
    exact: bool = False
    # The condition needs at least this many of these terms found (`at_least N` of terms, N >= 2;
    # a term listed twice counts twice): a rule picked by its anchors is evaluated only then.
    counted: tuple[tuple[int, ...], int] | None = None
    # The rule has source, language or age filters (most have none: no check per match).
    filtered: bool = True


_new_tuple = tuple.__new__


def scope_code(fields: Iterable[str]) -> int:
    """The bit mask of a rule's scope or a field condition (title, text, lead)."""
    if type(fields) is tuple:
        found = _SCOPE_CODE_OF.get(fields)
        if found is None:
            found = _SCOPE_CODE_OF[fields] = scope_code(iter(fields))
        return found
    code = 0
    for name in fields:
        code |= _SCOPE_CODES[name]
    return code


# The code of each rule scope met (a few: most rules have the default one).
_SCOPE_CODE_OF: dict[tuple[str, ...], int] = {}


# A reload compiles only the terms that are new into a second, small automaton; once it holds
# more than this share of all terms (and more than DELTA_MIN_TERMS), the next reload builds one
# automaton again from scratch.
DELTA_SHARE = 0.1
DELTA_MIN_TERMS = 20_000
# Rules are indexed by order keys this far apart, so that a reload can give the rules of a changed
# stretch keys between those of the rules around it (and leave the others where they are).
KEY_GAP = 1024


class Matcher:
    """Every enabled rule compiled into one automaton; immutable once built.

    Args:
        rules: the rules to compile (disabled rules are left out).
        frequency: how likely each term is to occur (default: the shipped table); each rule is
            anchored on its least likely terms.
    """

    def __init__(self, rules: Iterable[Rule], frequency: TermFrequency | None = None) -> None:
        with bulk_build():
            self._frequency = frequency or shipped()
            self._terms: list[Term] = []
            self._term_ids: dict[Term, int] = {}
            # While compiling: the term id of each Term object, and the compiled condition of each
            # node object, by its id (the loader hands over one object per distinct term, and one
            # node per literal and per list: most are met many times). See `_compile`.
            self._seen_terms: dict[int, tuple[Term, int]] = {}
            self._seen_nodes: dict[int, tuple[Node, _CNode]] = {}
            self._seen_variants: dict[str, list[list[TermWord]]] = {}
            self._likely: list[float] = []  # per term id: the share of articles it occurs in
            self._regexes: dict[int, object] = {}
            self._max_words = 1
            # Terms that ask for word forms, and their stemmed keys per language.
            self._forms_terms: list[int] = []
            self._building = _Keys()
            self._install(tuple(r for r in rules if r.enabled))
            self._seen_terms.clear()
            self._seen_nodes.clear()
            self._seen_variants.clear()
            self._forms_set = frozenset(self._forms_terms)
            self._forms_keys = self._every_forms_keys({}, self._forms_terms)
            self._building.build()
            self._layers: tuple[_Keys, ...] = (self._building,)
            self._delta_tids: tuple[int, ...] = ()
            self._regex_sets = self._built_regex_sets()
            self._presearch = _Presearch.of(self) if len(self.rules) >= BULK_PRESEARCH_RULES else None

    def updated(self, rules: Iterable[Rule]) -> Matcher:
        """A matcher for `rules` (this one is left as it is) that reuses what this one compiled.

        The rules before and after the ones that changed (the same objects, as the loader hands
        back for the files that did not change, or the same conditions and scopes) keep their
        places, compiled conditions and index entries: only the changed stretch is compiled and
        indexed. A changed rule whose condition
        is the same object as before keeps its compiled condition too, and the automaton keeps its
        keys; only new terms are compiled, into a second automaton that holds every term added
        since the first was built. This is what makes a reload after editing one file of 350,000
        rules cheap.
        """
        enabled = tuple(r for r in rules if r.enabled)
        if len(self._delta_tids) > max(DELTA_MIN_TERMS, DELTA_SHARE * len(self._terms)):
            return Matcher(enabled, self._frequency)
        old = self.rules
        same = min(len(old), len(enabled))
        # The rules the same at the start and at the end; a rule that changed but not its condition
        # or scope (most often: moved to another line, when a line was added above it in its file)
        # stays where it was with its compiled condition and index entries (`moved`: its place
        # before, and the rule now).
        moved: list[tuple[int, Rule]] = []
        first = 0
        while first < same:
            was, now = old[first], enabled[first]
            if was is not now:
                if was.when is not now.when or was.scope != now.scope:
                    break
                moved.append((first, now))
            first += 1
        last = 0
        while last < same - first:
            was, now = old[-1 - last], enabled[-1 - last]
            if was is not now:
                if was.when is not now.when or was.scope != now.scope:
                    break
                moved.append((len(old) - 1 - last, now))
            last += 1
        # The changed stretch gets order keys between those of the rules around it.
        count = len(enabled) - first - last
        low = self._order[first - 1] if first else -1
        step = (self._order[len(old) - last] - low) // (count + 1) if last else KEY_GAP
        if step < 1:
            return Matcher(enabled, self._frequency)  # no room left between them: keys afresh
        with bulk_build():
            new = object.__new__(Matcher)
            new._frequency = self._frequency
            new._terms = list(self._terms)
            new._term_ids = dict(self._term_ids)
            new._likely = list(self._likely)
            new._regexes = dict(self._regexes)
            new._max_words = self._max_words
            new._forms_terms = list(self._forms_terms)
            new._building = _Keys()
            new._seen_terms, new._seen_nodes, new._seen_variants = {}, {}, {}
            first_new = len(new._terms)
            removed = self._order[first : len(old) - last]
            reuse = {(id(c.rule.when), c.scope): c for c in map(self._compiled.__getitem__, removed)}
            added_keys = [low + step * (i + 1) for i in range(count)]
            new._patch(self, enabled, removed, added_keys, first, last, reuse)
            new._seen_terms.clear()
            new._seen_nodes.clear()
            new._seen_variants.clear()
            for place, rule in moved:
                key = self._order[place]
                c = new._compiled[key]
                new._compiled[key] = _CompiledRule(
                    rule, c.node, c.scope, c.anchors, c.second, c.exact, c.counted, _filtered(rule)
                )
            added = range(first_new, len(new._terms))
            new._delta_tids = (*self._delta_tids, *added)
            if added:
                for tid in self._delta_tids:
                    new._add_keys(new._building, tid)
                new._seen_variants.clear()
                new._building.build()
                new._layers = (self._layers[0], new._building)
            else:
                new._layers = self._layers
            new._regex_sets = new._built_regex_sets() if any(t in new._regexes for t in added) else self._regex_sets
            if len(new.rules) < BULK_PRESEARCH_RULES:
                new._presearch = None
            elif self._presearch is not None:
                new._presearch = self._presearch.patched(new, first, len(removed), count)
            else:
                new._presearch = _Presearch.of(new)
            forms = [t for t in added if new._terms[t].forms]
            new._forms_set = self._forms_set.union(forms)
            new._forms_keys = new._every_forms_keys(self._forms_keys, forms) if forms else self._forms_keys
        return new

    def _install(self, rules: tuple[Rule, ...]) -> None:
        """Compile `rules` and index them by anchor term, each under its order key."""
        self.rules = rules
        self._order = [i * KEY_GAP for i in range(len(rules))]
        self._compiled: dict[int, _CompiledRule] = {}
        # Rules with one anchor set are candidates when one of its terms occurs (`_by_anchor`); rules
        # with two, when a term of the first occurs (`_by_first`) and one of the second (`_seconds`).
        self._by_anchor: dict[int, list[int]] = {}
        self._by_first: dict[int, list[int]] = {}
        self._seconds: dict[int, tuple[int, ...] | None] = {}
        self._counted: dict[int, tuple[tuple[int, ...], int]] = {}
        self._always: list[int] = []
        for key, rule in zip(self._order, rules, strict=True):
            self._add_rule(key, self._compile_rule(rule))
        self._uses_language = bool(self._forms_terms) or any(r.filters.languages for r in rules)

    def _in_order(self) -> Iterable[_CompiledRule]:
        return map(self._compiled.__getitem__, self._order)

    def _add_rule(self, key: int, each: _CompiledRule) -> None:
        self._compiled[key] = each
        self._seconds[key] = each.second
        if each.counted is not None:
            self._counted[key] = each.counted
        if each.anchors is None:
            self._always.append(key)
        elif each.second is None:
            _index(self._by_anchor, each.anchors, key)
        else:
            _index(self._by_first, each.anchors, key)

    def _patch(
        self,
        old: Matcher,
        rules: tuple[Rule, ...],
        removed: list[int],
        added: list[int],
        first: int,
        last: int,
        reuse: dict[tuple[int, int], _CompiledRule],
    ) -> None:
        """`old`'s rules with those under the keys `removed` replaced by `rules[first:-last]` under
        the keys `added` (compiled anew unless their condition is in `reuse`). What is shared with
        `old` is copied before it is changed."""
        self.rules = rules
        self._order = [*old._order[:first], *added, *old._order[len(old._order) - last :]]
        self._compiled = dict(old._compiled)
        self._seconds = dict(old._seconds)
        self._counted = dict(old._counted)
        self._by_anchor = dict(old._by_anchor)
        self._by_first = dict(old._by_first)
        gone = set(removed)
        self._always = [k for k in old._always if k not in gone]
        # The index lists of the terms touched, copied (without the keys gone) before they change.
        fresh: tuple[set[int], set[int]] = (set(), set())
        for key in removed:
            each = self._compiled.pop(key)
            del self._seconds[key]
            self._counted.pop(key, None)
            if each.anchors is not None:
                fresh[each.second is not None].update(each.anchors)
        for index, tids in zip((self._by_anchor, self._by_first), fresh, strict=True):
            for tid in tids:
                kept = [k for k in index[tid] if k not in gone]
                if kept:
                    index[tid] = kept
                else:
                    del index[tid]
        for key, rule in zip(added, rules[first : len(rules) - last], strict=True):
            done = reuse.get((id(rule.when), scope_code(rule.scope)))
            if done is None:
                done = self._compile_rule(rule)
            elif done.rule is not rule:
                done = _CompiledRule(
                    rule, done.node, done.scope, done.anchors, done.second, done.exact, done.counted, _filtered(rule)
                )
            if done.anchors is not None:
                which = done.second is not None
                index = self._by_first if which else self._by_anchor
                for tid in done.anchors:
                    if tid not in fresh[which]:
                        fresh[which].add(tid)
                        index[tid] = list(index.get(tid, ()))
            self._add_rule(key, done)
        self._uses_language = bool(self._forms_terms) or any(r.filters.languages for r in rules)

    def _compile_rule(self, rule: Rule) -> _CompiledRule:
        node = self._compile(rule.when)
        # The requirements and the counted terms in one walk (`_requirements` and `_counted`).
        needs: list[Anchors] = []
        counted = _needs(node, self._likely, needs)
        if len(needs) > 1:
            needs.sort(key=_cost)
        anchors = tuple(sorted(needs[0][0])) if needs else None
        second = tuple(sorted(needs[1][0])) if len(needs) > 1 else None
        scope = scope_code(rule.scope)
        exact = scope == _TITLE | _TEXT and len(needs) <= 2 and _of_anchor_sets(node)
        # tuple.__new__: the named tuple's own __new__ is a Python call with defaults, 350,000 times.
        return _new_tuple(_CompiledRule, (rule, node, scope, anchors, second, exact, counted, _filtered(rule)))

    # Compilation ------------------------------------------------------------------------------

    def _term_id(self, term: Term) -> int:
        seen = self._seen_terms.get(id(term))
        if seen is not None and seen[0] is term:
            return seen[1]
        tid = len(self._terms)
        known = self._term_ids.setdefault(term, tid)  # one hash of the term, new or not
        self._seen_terms[id(term)] = (term, known)
        if known != tid:
            return known
        self._terms.append(term)
        self._likely.append(self._frequency.term(term))
        if term.regex:
            options = re2.Options()
            options.case_sensitive = term.case
            options.log_errors = False
            self._regexes[tid] = re2.compile(term.text, options)
            return tid
        self._add_keys(self._building, tid)
        if term.forms:
            self._forms_terms.append(tid)
        return tid

    def _add_keys(self, keys: _Keys, tid: int) -> None:
        term = self._terms[tid]
        text = term.text
        if not term.case and text.isascii() and text.replace(" ", "").isalnum():
            # Plain ASCII words (most terms): `term_variants` gives one variant of exact words, so
            # one key of them all, found alone (what `keys.add` makes of it, without the variant).
            words = text.lower().split()
            if words:
                self._max_words = max(self._max_words, len(words))
                keys.add_words(tid, words)
                return
        if not term.case and text[-1:] == "*" and text.isascii() and text[:-1].isalnum():
            # One plain ASCII word's prefix (`word*`): `term_variants` gives [(word, PREFIX)], one
            # key " word" found alone (as `keys.add` makes it).
            keys.add_simple(tid, " " + text[:-1].lower(), 1)
            return
        # A word of several terms (with and without word forms, in several cases) is split once.
        variants = self._seen_variants.get(term.text)
        if variants is None:
            variants = self._seen_variants[term.text] = term_variants(term.text)
        cased = term_variants(term.text, casefold=False) if term.case else None
        for i, variant in enumerate(variants):
            self._max_words = max(self._max_words, len(variant))
            keys.add(tid, variant, cased[i] if cased is not None else None)

    def _compile(self, node: Node) -> _CNode:
        """The compiled condition; a term or `any` node object met before (a literal's or a list's,
        which the loader makes once and every rule using it shares) gives the object compiled then:
        compiled conditions are immutable, and one compiled object may stand in several rules."""
        if type(node) is TermNode or type(node) is AnyNode:
            seen = self._seen_nodes.get(id(node))
            if seen is not None and seen[0] is node:
                return seen[1]
            compiled: _CNode
            if isinstance(node, TermNode):
                compiled = _CTerm(self._term_id(node.term))
            else:
                compiled = _CAny([self._compile(c) for c in node.children])
            self._seen_nodes[id(node)] = (node, compiled)
            return compiled
        if type(node) is AllNode:
            return _CAll([self._compile(c) for c in node.children])
        if type(node) is NearNode:
            term_id = self._term_id
            return _CNear([[term_id(t) for t in group] for group in node.groups], node.within, node.ordered)
        match node:
            case TermNode() | AnyNode():
                raise AssertionError("compiled above")
            case AllNode():
                return _CAll([self._compile(c) for c in node.children])
            case NotNode():
                return _CNot(self._compile(node.child))
            case AtLeastNode():
                return _CAtLeast(node.count, [self._compile(c) for c in node.children])
            case CountNode():
                return _CCount([self._term_id(t) for t in node.terms], node.min)
            case FieldNode():
                code = _SCOPE_CODES[node.field]
                inner = self._compile(node.child)
                # A field inside sets its own scope: the title's terms then say nothing.
                title = _anchors(inner, self._likely) if code == _TITLE and not _contains(inner, _CField) else None
                return _CField(code, inner, frozenset(title[0]) if title is not None else None)
            case UnitNode():
                child = self._compile(node.child)
                tids = sorted(_tids_of(child))
                anchors = _anchors(child, self._likely)
                return _CUnit(node.unit, child, tids, sorted(anchors[0]) if anchors is not None else tids)
            case NearNode():
                return _CNear([[self._term_id(t) for t in group] for group in node.groups], node.within, node.ordered)
            case _:
                assert_never(node)

    def _built_regex_sets(self) -> list[tuple[object, list[int]]]:
        sets: list[tuple[object, list[int]]] = []
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
            sets.append((regex_set, tids))
        return sets

    def _every_forms_keys(self, before: dict[str, tuple[_Keys, ...]], tids: list[int]) -> dict[str, tuple[_Keys, ...]]:
        """The stemmed keys of every language word forms apply to: `before`'s layers and one of the
        word-form terms `tids` (all of them for a language `before` has none of). Built with the
        rules, not on a language's first document: that match would wait for them (0.2 s at
        100,000 rules for a language many terms ask for), after each start and reload."""
        if not tids:
            return dict(before)
        new = self._by_forms_language(tids)
        every = new if tids is self._forms_terms else self._by_forms_language(self._forms_terms)
        return {
            language: (*before[language], self._forms_keys_of(new[language], language))
            if language in before
            else (self._forms_keys_of(every[language], language),)
            for language in sorted(FORMS_LANGUAGES)
        }

    def _by_forms_language(self, tids: Iterable[int]) -> dict[str, list[int]]:
        """Per language word forms apply to, the terms of `tids` that ask for its forms, in order."""
        by: dict[str, list[int]] = {language: [] for language in FORMS_LANGUAGES}
        for tid in tids:
            for language in self._terms[tid].forms_languages or FORMS_LANGUAGES:
                if language in by:
                    by[language].append(tid)
        return by

    def _forms_keys_of(self, tids: list[int], language: str) -> _Keys:
        keys = _Keys()
        terms = self._terms
        for tid, variants in zip(tids, terms_stems([terms[tid].text for tid in tids], language), strict=True):
            for variant in variants:
                if all([mode == EXACT for _, mode in variant]):
                    keys.add_words(tid, [word for word, _ in variant])  # most: stems of plain words
                else:
                    keys.add(tid, variant, None)
        keys.build()
        return keys

    # Matching ---------------------------------------------------------------------------------

    def language_of(self, doc: Document) -> str | None:
        """The document's language: as declared, else detected when some rule needs it."""
        if doc.language or not self._uses_language:
            return doc.language
        return detect_language(doc.title, doc.text)

    def analyse(self, doc: Document, language: str | None) -> tuple[HitTable, _Context]:
        """Every term hit in the document, and the document's context (for `why`)."""
        hits, ctx = self._found(doc, language)
        return HitTable({tid: hits[tid] for tid in hits.possible if hits[tid]}), ctx

    def _found(self, doc: Document, language: str | None) -> tuple[_DocHits, _Context]:
        """The terms found in the document (each placed when first asked for), and its context."""
        streams = [
            WordStream.build(doc.title, self._max_words - 1),
            WordStream.build(doc.text, self._max_words - 1),
        ]
        forms = forms_language(language) if self._forms_terms else None
        # Without a language's word forms, a word-form term is placed as any other.
        hits = _DocHits(len(streams[0].words), self._forms_set if forms is not None else _NONE)
        for field, stream in enumerate(streams):
            scan = _FieldScan(field, [], [])
            self._scan(scan, stream, hits)
            if forms is not None and stream.words:
                self._scan_forms(scan, stream, forms, hits)
            hits.fields.append(scan)
        return hits, _Context(streams)

    def match(self, doc: Document, now: datetime | None = None) -> list[Match]:
        """Every enabled rule that matches `doc`, in rule order."""
        language = self.language_of(doc)
        hits, ctx = self._found(doc, language)
        matches = []
        certain = hits.found.isdisjoint
        # A filter's verdict depends on the document and the filter's values alone: rules of the same
        # filters (a language, an age) are checked once per document.
        verdicts: dict[tuple[object, ...], bool] = {}
        # With the arrays, the candidates that hold by their anchors alone are told in bulk.
        decided: Iterable[bool]
        if self._presearch is not None:
            order, decided = self._presearch.picks(hits.found, hits.maybe)
        else:
            order, decided = self._candidates(hits), repeat(False)
        rules, everywhere, limits = self._compiled, _EVERYWHERE, ctx.limits
        later, report, bulk = Match.reported_later, self._report, self._presearch is not None
        for index, sure in zip(order, decided, strict=False):  # `decided` may repeat without end
            compiled = rules[index]
            scope = compiled.scope
            lim = everywhere if scope == _TITLE | _TEXT else limits(scope)
            # A yes/no only: most candidates fail, and a match's hits are gathered when they are read.
            node = compiled.node
            if sure:
                held = True
            elif bulk or not compiled.exact or certain(compiled.anchors or ()):
                held = node.holds(hits, lim, ctx)
            elif compiled.second is None or not certain(compiled.second):
                held = True  # a term of each anchor set certainly found: what holds() would say
            else:
                held = node.holds(hits, lim, ctx)
            if held and compiled.filtered:
                filters = compiled.rule.filters
                key = (filters.sources_include, filters.sources_exclude, filters.languages, filters.max_age)
                verdict = verdicts.get(key)
                if verdict is None:
                    verdict = verdicts[key] = passes_filters(compiled.rule, doc, now, language)
                held = verdict
            if held:
                matches.append(later(compiled.rule, partial(report, node, hits, lim, ctx)))
        return matches

    def candidates(self, doc: Document, anchors: int = 2) -> tuple[Rule, ...]:
        """The rules the presearch picks for `doc` (a term of each of their anchor sets occurs), which
        `match` evaluates; with `anchors=1`, those it would pick on their first anchor set alone."""
        hits, _ = self._found(doc, self.language_of(doc))
        if anchors == 1:
            present = hits.possible
            picked = set(self._always)
            for index in (self._by_anchor, self._by_first):
                picked.update(*map(index.__getitem__, index.keys() & present))
            return tuple(self._compiled[i].rule for i in sorted(picked))
        return tuple(self._compiled[i].rule for i in self._candidates(hits))

    def anchor_likelihoods(self) -> list[float]:
        """For each rule, how likely a term of its first anchor set is to be found in an article (its
        terms taken as independent; 1.0 for a rule that has none and is always evaluated)."""
        likely = self._likely
        return [1.0 - math.prod(1.0 - likely[t] for t in c.anchors) if c.anchors else 1.0 for c in self._in_order()]

    def _candidates(self, hits: _DocHits) -> list[int]:
        if self._presearch is not None:
            return self._presearch.candidates(hits.possible)
        # Set operations over the terms found, in C: a long text at 350,000 rules finds thousands
        # of terms and picks tens of thousands of rules.
        present = hits.possible
        by_anchor, by_first = self._by_anchor, self._by_first
        candidates = set(self._always).union(*map(by_anchor.__getitem__, by_anchor.keys() & present))
        if by_first:
            # The second sets are more likely: checking those of the rules picked by their first is
            # cheaper than gathering every rule whose second set occurs.
            first = set().union(*map(by_first.__getitem__, by_first.keys() & present))
            disjoint, seconds = present.isdisjoint, self._seconds
            candidates.update([i for i in first if not disjoint(seconds[i] or ())])
        counted = self._counted
        if counted:
            # `at_least N` of terms: N of them (or N mentions of one listed twice) must be found.
            return [i for i in sorted(candidates) if i not in counted or _count_found(counted[i], present)]
        return sorted(candidates)

    def compiled(self, rule_id: str) -> tuple[Rule, _CNode, int]:
        """A rule, its compiled condition and its scope code (for explaining it)."""
        for compiled in self._in_order():
            if compiled.rule.id == rule_id:
                return compiled.rule, compiled.node, compiled.scope
        raise KeyError(rule_id)

    def term_text(self, tid: int) -> str:
        return self._terms[tid].text

    def _scan(self, scan: _FieldScan, stream: WordStream, hits: _DocHits) -> None:
        field = scan.field
        if stream.words:
            entries = _Entries(
                stream.entry_words,
                stream.entry_first,
                stream.entry_last,
                len(stream.words),
                stream,
                stream.stream,
            )
            for keys in self._layers:
                found, maybe = keys.scan(stream.stream)
                hits.found |= found
                hits.maybe |= maybe
                scan.layers.append((keys, entries))
                if field == 0:
                    scan.terms = (scan.terms or set()).union(found, maybe)
        for regex_set, tids in self._regex_sets:
            for i in regex_set.Match(stream.text) or ():  # type: ignore[attr-defined]
                tid = tids[i]
                for m in self._regexes[tid].finditer(stream.text):  # type: ignore[attr-defined]
                    start, end = m.span()
                    if start == end:
                        continue
                    words = stream.word_range(start, end) or (0, 0)
                    hits.setdefault(tid, []).append((field, words[0], words[1], start, end))
                    hits.found.add(tid)
                    if scan.terms is not None:
                        scan.terms.add(tid)  # the title's terms (field 0's alone have a set)

    def _scan_forms(self, scan: _FieldScan, stream: WordStream, language: str, hits: _DocHits) -> None:
        layers = [keys for keys in self._forms_keys.get(language, ()) if not keys.empty]
        if not layers:
            return
        # Stemmers see the words as written (with their accents); an ASCII word's stem is its lower
        # case's, which is the word the stream holds.
        written = stream.words if stream.text.isascii() else stream.written_words()
        stemmed = stems(written, language)
        index = list(range(len(stemmed)))
        entries = _Entries(stemmed, index, index, len(stemmed), None)
        for keys in layers:
            found, maybe = keys.scan(entries.stream)
            hits.found |= found
            hits.maybe |= maybe
            scan.forms.append((keys, entries))
            if scan.terms is not None:
                scan.terms |= found | maybe

    def _report(self, node: _CNode, hits: HitTable, lim: Limits, ctx: _Context) -> tuple[tuple[Hit, ...], str]:
        """The hits (in text order) and snippet of a condition that holds."""
        found = node.eval(hits, lim, ctx)
        if found is None:
            raise AssertionError("a condition that holds reports no hits")  # holds() and eval() disagree
        streams = ctx.streams
        # One hit per stretch of text: when several terms found the same words (a word and its
        # forms, two lists), the first the condition reported names it.
        spans: dict[tuple[int, int, int], str] = {}
        terms = self._terms
        word_spans: list[list[tuple[int, int]] | None] = [None, None]
        for tid, (field, first, last, start, end) in found:
            if start < 0:
                of = word_spans[field]
                if of is None:
                    of = word_spans[field] = streams[field].word_spans()
                start, end = of[first][0], of[last][1]
            key = (field, start, end)
            if key not in spans:
                spans[key] = terms[tid].text
        ordered = sorted(spans)
        reported = tuple(
            Hit(spans[span], FIELDS[span[0]], span[1], span[2], streams[span[0]].text[span[1] : span[2]])
            for span in ordered
        )
        # The snippet shows the first hit the condition reported, in the text if it has one:
        # for `all: [near: ..., ...]` that is the near, the heart of the rule.
        # (A rule can hold through `not` alone, with no hit: then the text's start.)
        field, start, end = next((s for s in spans if s[0] == 1), next(iter(spans), (1, 0, 0)))
        return reported, make_snippet(streams[field].text, start, end)


def _cased_match(stream: WordStream, first: int, last: int, cased: tuple[TermWord, ...]) -> bool:
    start, end = stream.char_span(first, last)
    words = cased_words(stream.text[start:end])
    if _words_match(words, cased):
        return True
    # A compound written with hyphens in the text ("Re-Engage") against a term without.
    joined = "".join(words)
    if len(cased) == 1:
        return word_matches(joined, cased[0])
    return joined == "".join(w for w, _ in cased)


def terms_of(node: Node) -> list[Term]:
    """Every term of a condition, in order (those under `not` too)."""
    match node:
        case TermNode():
            return [node.term]
        case AllNode() | AnyNode() | AtLeastNode():
            return [t for c in node.children for t in terms_of(c)]
        case NotNode() | FieldNode() | UnitNode():
            return terms_of(node.child)
        case CountNode():
            return list(node.terms)
        case NearNode():
            return [t for group in node.groups for t in group]
        case _:
            assert_never(node)


# Anchor terms, and how likely it is that one of them occurs (the sum of their likelihoods).
Anchors: TypeAlias = tuple[set[int], float]


def _anchors(node: _CNode, likely: Sequence[float]) -> Anchors | None:
    """Terms of which at least one occurs whenever `node` holds, the least likely such set
    that can be found; None if there are none.

    `all` and `near` need one child (one group) only: the one least likely to occur. `any` needs
    every child's terms, `at_least N` those of all but N - 1 children.
    """
    # The commonest first, by type (a build asks this of millions of nodes).
    if type(node) is _CTerm:
        return {node.tid}, likely[node.tid]
    if type(node) is _CAny and node.terms is not None:
        tids = node.terms.tids
        return set(tids), sum(sorted([likely[t] for t in tids]))
    match node:
        case _CTerm():
            return {node.tid}, likely[node.tid]
        case _CField() | _CUnit():
            return _anchors(node.child, likely)
        case _CNot():
            return None
        case _CCount():
            return _of_terms(node.tids, likely)
        case _CNear():
            return min((_of_terms(group, likely) for group in node.groups), key=_cost)
        case _CAll():
            found = [a for a in (_anchors(c, likely) for c in node.children) if a is not None]
            return min(found, key=_cost) if found else None
        case _CAny() if node.terms is not None:
            # Terms only (a list): all of them; their likelihoods summed in the order _union would
            # sum them sorted by cost (equal likelihoods are equal floats: the same sum).
            tids = node.terms.tids
            return set(tids), sum(sorted([likely[t] for t in tids]))
        case _CAny() | _CAtLeast():
            children = [_anchors(c, likely) for c in node.children]
            anchored = [a for a in children if a is not None]
            # any: every child must be anchored. at_least N: the anchored children must be needed,
            # i.e. fewer than N children can hold without a term; the N - 1 likeliest can be left out.
            needed = len(children) if isinstance(node, _CAny) else len(children) - node.count + 1
            if len(anchored) < needed or not anchored:
                return None
            return _union(sorted(anchored, key=_cost)[:needed])
        case _:
            assert_never(node)


def _requirements(node: _CNode, likely: Sequence[float]) -> list[Anchors]:
    """Term sets of which each must have a term that occurs whenever `node` holds (the rule's
    anchors are the two least likely of them: both must be found for it to be evaluated).

    `all` needs every child's, `near` a term of each group; `any` and `at_least` one set, their
    anchors; `not` none.
    """
    match node:
        case _CTerm():
            return [({node.tid}, likely[node.tid])]
        case _CField() | _CUnit():
            return _requirements(node.child, likely)
        case _CNot():
            return []
        case _CNear():
            return [_of_terms(group, likely) for group in node.groups]
        case _CAll():
            return [need for child in node.children for need in _requirements(child, likely)]
        case _CCount() | _CAny() | _CAtLeast():
            anchors = _anchors(node, likely)
            return [anchors] if anchors is not None else []
        case _:
            assert_never(node)


def _needs(node: _CNode, likely: Sequence[float], needs: list[Anchors]) -> tuple[tuple[int, ...], int] | None:
    """`_requirements(node, likely)` added to `needs`, and `_counted(node)` returned: one walk of the
    compiled condition for both (a build walks 350,000 of them), the common kinds by their type."""
    if type(node) is _CTerm:
        needs.append(({node.tid}, likely[node.tid]))
        return None
    if type(node) is _CAll:
        counted = None
        for child in node.children:
            got = _needs(child, likely, needs)
            if counted is None:
                counted = got
        return counted
    if type(node) is _CField or type(node) is _CUnit:
        return _needs(node.child, likely, needs)
    if type(node) is _CNot:
        return None
    if type(node) is _CNear:
        needs.extend([_of_terms(group, likely) for group in node.groups])
        return None
    if type(node) is _CAny or type(node) is _CCount:
        anchors = _anchors(node, likely)
        if anchors is not None:
            needs.append(anchors)
        return None
    needs.extend(_requirements(node, likely))  # `at_least` (and any other kind): the general walks
    return _counted(node)


def _counted(node: _CNode) -> tuple[tuple[int, ...], int] | None:
    """Terms of which `node` needs at least N found (N >= 2), and N: an `at_least` of terms, on its
    own or within a field, a sentence or paragraph, or an `all` (None: no such need)."""
    match node:
        case _CAtLeast() if node.tids is not None and node.count >= 2:
            return tuple(node.tids), node.count
        case _CField() | _CUnit():
            return _counted(node.child)
        case _CAll():
            return next(filter(None, map(_counted, node.children)), None)
        case _:
            return None


def _count_found(counted: tuple[tuple[int, ...], int], present: AbstractSet[int]) -> bool:
    tids, need = counted
    return sum([tid in present for tid in tids]) >= need


def _index(index: dict[int, list[int]], tids: Iterable[int], rule: int) -> None:
    for tid in tids:
        found = index.get(tid)
        if found is None:
            index[tid] = [rule]
        else:
            found.append(rule)


def _contains(node: _CNode, kind: type) -> bool:
    """The condition has a node of this kind somewhere (`not`: it may hold in part of a text and not
    in the whole; a field condition: it sets the scope of what is below it)."""
    if isinstance(node, kind):
        return True
    if type(node) is _CTerm:
        return False
    if type(node) is _CAny and node.terms is not None:
        return any([isinstance(c, kind) for c in node.children])  # terms only: no call per term
    match node:
        case _CAll() | _CAny() | _CAtLeast():
            return any(_contains(c, kind) for c in node.children)
        case _CNot() | _CField() | _CUnit():
            return _contains(node.child, kind)
        case _CTerm() | _CCount() | _CNear():
            return False
        case _:
            assert_never(node)


def _terms_only(node: _CNode) -> bool:
    """The node is a term or an `any` of such: it holds when one of its terms is found (in scope)."""
    if isinstance(node, _CTerm):
        return True
    return isinstance(node, _CAny) and all(map(_terms_only, node.children))


def _of_anchor_sets(node: _CNode) -> bool:
    """The condition is one term set, or an `all` of them: it holds exactly when a term of each of
    its requirements is found (`_requirements` gives those sets)."""
    if isinstance(node, _CAll):
        return bool(node.children) and all(map(_terms_only, node.children))
    return _terms_only(node)


def _tids_of(node: _CNode) -> set[int]:
    """Every term of a compiled condition (those under `not` too)."""
    if type(node) is _CTerm:
        return {node.tid}
    if type(node) is _CAny and node.terms is not None:
        return set(node.terms.tids)  # terms only: no call per term
    match node:
        case _CTerm():
            return {node.tid}
        case _CAll() | _CAny() | _CAtLeast():
            return set().union(*(_tids_of(c) for c in node.children))
        case _CNot() | _CField() | _CUnit():
            return _tids_of(node.child)
        case _CCount():
            return set(node.tids)
        case _CNear():
            return {t for group in node.groups for t in group}
        case _:
            assert_never(node)


def _of_terms(tids: list[int], likely: Sequence[float]) -> Anchors:
    """`_union` of the terms' own anchors, in their order (the same set and sum)."""
    return set(tids), sum([likely[t] for t in tids])


def _union(parts: list[Anchors]) -> Anchors:
    tids: set[int] = set().union(*(p[0] for p in parts))
    return tids, sum(p[1] for p in parts)


def _cost(anchors: Anchors) -> tuple[float, int]:
    return anchors[1], len(anchors[0])


def _filtered(rule: Rule) -> bool:
    """The rule has a filter that `passes_filters` checks."""
    filters = rule.filters
    return bool(filters.sources_include or filters.sources_exclude or filters.languages or filters.max_age is not None)


def passes_filters(rule: Rule, doc: Document, now: datetime | None = None, language: str | None = None) -> bool:
    """The rule's source, language and age filters allow this document (in `language` when the
    document declares none)."""
    filters = rule.filters
    if filters.sources_include or filters.sources_exclude:
        host = (urlsplit(doc.url).hostname or "").lower() if doc.url else ""
        if filters.sources_include and not any(_in_domain(host, d) for d in filters.sources_include):
            return False
        if host and any(_in_domain(host, d) for d in filters.sources_exclude):
            return False
    lang = (doc.language or language or "").lower()
    codes = filters.languages
    if codes and lang and not any(lang == code or lang.startswith(code + "-") for code in codes):
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
