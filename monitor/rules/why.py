"""Why a rule did (not) match a document: its filters and each condition, with the nearest hits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import assert_never

from monitor.document import Document
from monitor.rules.matcher import (
    HitTable,
    Limits,
    Matcher,
    _CAll,
    _CAny,
    _CAtLeast,
    _CCount,
    _CField,
    _CNear,
    _CNode,
    _CNot,
    _Context,
    _CTerm,
    _CUnit,
    passes_filters,
)
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
    TermNode,
    UnitNode,
)

# Hits shown per term: enough to see where it is, not the whole article.
SHOWN_HITS = 3
# Terms of a list shown when none of them was found.
SHOWN_TERMS = 5


@dataclass(slots=True)
class Step:
    """One condition of a rule, whether it held for the document, and what was found."""

    held: bool
    text: str
    children: list[Step] = field(default_factory=list)

    def lines(self, indent: int = 0) -> list[str]:
        mark = "yes" if self.held else "NO "
        out = [f"{'  ' * indent}{mark} {self.text}"]
        for child in self.children:
            out.extend(child.lines(indent + 1))
        return out


@dataclass(frozen=True, slots=True)
class Explanation:
    """Whether the rule matched, why its filters let the document through or not, and each condition."""

    rule: Rule
    matched: bool
    language: str | None
    filters: list[str]
    condition: Step

    def lines(self) -> list[str]:
        verdict = "matched" if self.matched else "did not match"
        language = self.language or "unknown"
        out = [f"{self.rule.id} {verdict} (language: {language})"]
        out.extend(f"  NO  {problem}" for problem in self.filters)
        out.extend(self.condition.lines(1))
        return out


def explain(matcher: Matcher, rule_id: str, doc: Document, now: datetime | None = None) -> Explanation:
    """Explain rule `rule_id` of `matcher` against `doc` (KeyError if there is no such enabled rule)."""
    rule, node, scope = matcher.compiled(rule_id)
    language = matcher.language_of(doc)
    hits, ctx = matcher.analyse(doc, language)
    lim = ctx.limits(scope)
    walker = _Walker(matcher, hits, ctx)
    condition = walker.step(rule.when, node, lim)
    problems = _filter_problems(rule, doc, now, language)
    return Explanation(rule, condition.held and not problems, language, problems, condition)


def _filter_problems(rule: Rule, doc: Document, now: datetime | None, language: str | None) -> list[str]:
    if passes_filters(rule, doc, now, language):
        return []
    filters = rule.filters
    problems = []
    if filters.languages and not passes_filters(_only_languages(rule), doc, now, language):
        problems.append(f"the rule wants languages {', '.join(filters.languages)}; the article is in {language}")
    if (filters.sources_include or filters.sources_exclude) and not passes_filters(_only_sources(rule), doc, now):
        problems.append(f"the article's source ({doc.url or 'no URL'}) is not one the rule's filters.sources allow")
    if filters.max_age is not None and not passes_filters(_only_age(rule), doc, now):
        problems.append(f"the article is older than the rule's max_age ({filters.max_age})")
    return problems


def _only_languages(rule: Rule) -> Rule:
    return replace(rule, filters=replace(rule.filters, sources_include=(), sources_exclude=(), max_age=None))


def _only_sources(rule: Rule) -> Rule:
    return replace(rule, filters=replace(rule.filters, languages=(), max_age=None))


def _only_age(rule: Rule) -> Rule:
    return replace(rule, filters=replace(rule.filters, languages=(), sources_include=(), sources_exclude=()))


class _Walker:
    """Walks a rule's condition and its compiled form side by side."""

    def __init__(self, matcher: Matcher, hits: HitTable, ctx: _Context) -> None:
        self.matcher = matcher
        self.hits = hits
        self.ctx = ctx

    def found(self, tid: int, lim: Limits) -> str:
        """Where a term was found, as written in the article ("'Putins' in text"), or why not."""
        all_hits = self.hits.get(tid, [])
        inside = [h for h in all_hits if h[1] < lim[h[0]]]
        if not all_hits:
            return "not found"
        if not inside:
            return "found only outside the scope searched (" + self._shown(all_hits) + ")"
        return "found: " + self._shown(inside)

    def _shown(self, hits: list[tuple[int, int, int, int, int]]) -> str:
        texts = []
        for field_index, first, last, start, end in hits[:SHOWN_HITS]:
            stream = self.ctx.streams[field_index]
            if start < 0:
                start, end = stream.char_span(first, last)
            texts.append(f"{stream.text[start:end]!r} ({FIELDS[field_index]}, word {first + 1})")
        more = f" and {len(hits) - SHOWN_HITS} more" if len(hits) > SHOWN_HITS else ""
        return ", ".join(texts) + more

    def terms(self, tids: list[int], lim: Limits) -> list[Step]:
        steps = []
        for tid in tids:
            text = self.matcher.term_text(tid)
            seen = self.found(tid, lim)
            steps.append(Step(seen.startswith("found:"), f"{text!r}: {seen}"))
        return steps

    def step(self, node: Node, compiled: _CNode, lim: Limits) -> Step:
        held = compiled.holds(self.hits, lim, self.ctx)
        match node:
            case TermNode():
                assert isinstance(compiled, _CTerm)
                return Step(held, f"{node.term.text!r}: {self.found(compiled.tid, lim)}")
            case AnyNode() if all(isinstance(c, TermNode) for c in node.children):
                # A list of terms: the ones found, and how many others were looked for.
                assert isinstance(compiled, _CAny)
                steps = self.children(node.children, compiled.children, lim)
                shown = [s for s in steps if s.held] or steps[:SHOWN_TERMS]
                rest = len(steps) - len(shown)
                plural = "s" if rest != 1 else ""
                others = ""
                if rest:
                    others = f" ({rest} other term{plural} not found)" if held else f" ({rest} more)"
                return Step(held, f"any of {len(steps)} terms{others}:", shown)
            case AnyNode():
                assert isinstance(compiled, _CAny)
                return Step(held, "any of:", self.children(node.children, compiled.children, lim))
            case AllNode():
                assert isinstance(compiled, _CAll)
                return Step(held, "all of:", self.children(node.children, compiled.children, lim))
            case AtLeastNode():
                assert isinstance(compiled, _CAtLeast)
                steps = self.children(node.children, compiled.children, lim)
                holding = sum(s.held for s in steps)
                return Step(held, f"at least {node.count} of ({holding} hold):", steps)
            case NotNode():
                assert isinstance(compiled, _CNot)
                inner = self.step(node.child, compiled.child, lim)
                return Step(held, "not (this must not hold):", [inner])
            case CountNode():
                assert isinstance(compiled, _CCount)
                count = sum(1 for t in compiled.tids for h in self.hits.get(t, ()) if h[1] < lim[h[0]])
                return Step(held, f"at least {node.min} mentions: {count} found", self.terms(compiled.tids, lim))
            case FieldNode():
                assert isinstance(compiled, _CField)
                inner = self.step(node.child, compiled.child, self.ctx.limits(compiled.code))
                return Step(held, f"in the {node.field}:", [inner])
            case UnitNode():
                assert isinstance(compiled, _CUnit)
                inner = self.step(node.child, compiled.child, lim)
                note = "" if held or not inner.held else f" (it holds in the article, but in no single {node.unit})"
                return Step(held, f"within one {node.unit}{note}:", [inner])
            case NearNode():
                assert isinstance(compiled, _CNear)
                return self.near(node, compiled, lim, held)
            case _:
                assert_never(node)

    def children(self, nodes: tuple[Node, ...], compiled: list[_CNode], lim: Limits) -> list[Step]:
        return [self.step(n, c, lim) for n, c in zip(nodes, compiled, strict=True)]

    def near(self, node: NearNode, compiled: _CNear, lim: Limits, held: bool) -> Step:
        order = ", in this order" if node.ordered else ""
        groups = []
        for group_terms, tids in zip(node.groups, compiled.groups, strict=True):
            found = [t for t in tids if any(h[1] < lim[h[0]] for h in self.hits.get(t, ()))]
            names = ", ".join(repr(t.text) for t in group_terms[:4]) + (" ..." if len(group_terms) > 4 else "")
            if found:
                groups.append(Step(True, f"[{names}]: " + self.found(found[0], lim)))
            else:
                groups.append(Step(False, f"[{names}]: none found"))
        text = f"near, within {node.within} words{order}"
        if not held and all(g.held for g in groups):
            nearest = compiled.nearest(self.hits, lim)
            if nearest is not None:
                text += f": the nearest hits are {nearest} words apart"
            else:
                text += ": the groups are found, but never in the same field"
        return Step(held, text + ":", groups)
