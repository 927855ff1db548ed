"""Load and validate rule files: every error as `FILE:LINE: message`, all at once, nothing half-loaded."""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from itertools import chain, repeat
from pathlib import Path
from typing import Any, assert_never

import numpy as np
import re2

from monitor.errors import RuleLoadError
from monitor.language import language_code_error
from monitor.rules.model import (
    SCOPES,
    SEVERITIES,
    UNITS,
    AlertOptions,
    AllNode,
    AnyNode,
    AtLeastNode,
    CountNode,
    FieldNode,
    Filters,
    NearNode,
    Node,
    NotNode,
    Rule,
    Term,
    TermNode,
    UnitNode,
    bulk_build,
)
from monitor.rules.text import FORMS_LANGUAGES, LEAD_MAX_WORDS, words_of
from monitor.yamlfile import (
    ITEMS_PER_PARSE,
    MAX_YAML_BYTES,
    ErrorList,
    PlainFile,
    PlainItems,
    Stream,
    YamlList,
    YamlMap,
    line_of,
    plain_items,
    read_plain,
    read_yaml,
    unknown_keys,
)

RULE_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
LIST_NAME_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_ASCII_ALNUM_RE = re.compile(r"[A-Za-z0-9]")
_DURATION_RE = re.compile(r"(\d+)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST_DURATION = timedelta(days=3650)

RULE_KEYS = {
    "id", "title", "description", "severity", "tags", "enabled", "lists", "when", "scope",
    "filters", "alert", "forms",
}  # fmt: skip
TERM_KEYS = {"term", "regex", "case", "forms"}
# A leading '*' needs this many letters after it: a shorter suffix matches too many words.
MIN_SUFFIX_LETTERS = 3
FILTER_KEYS = {"sources", "languages", "max_age"}
SOURCE_KEYS = {"include", "exclude"}
ALERT_KEYS = {"channels", "realert", "digest"}
COMBINING_KEYS = {"all", "any", "not", "none"}
CONDITION_KEYS = COMBINING_KEYS | {"near", "count", "at_least", "term", "regex", *SCOPES, *UNITS}
_SCOPE_KEYS = frozenset(SCOPES)
_UNIT_KEYS = frozenset(UNITS)
# Word forms asked for: (asked, languages; empty = every language with a stemmer).
Forms = tuple[bool, tuple[str, ...]]
NO_FORMS: Forms = (False, ())


def parse_duration(value: object) -> timedelta | None:
    """`"48h"`, `"30m"`, `"1h30m"`, `"7d"`, `"2w"`, `"90s"` -> timedelta; None if malformed or over 10 years."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    parts = _DURATION_RE.findall(text)
    if not parts or _DURATION_RE.sub("", text).strip():
        return None
    seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in parts)
    # Past this, time arithmetic overflows (a date past year 9999) long before anything is useful.
    return timedelta(seconds=seconds) if seconds <= LONGEST_DURATION.total_seconds() else None


def literal_problem(text: str) -> str | None:
    """What is wrong with a literal term as written (its wildcards, its letters), if anything."""
    if text.isascii() and text.replace(" ", "").isalnum():
        return None  # plain words (most terms): nothing to check
    if "*" not in text:
        # No wildcard to check (the loop below would find nothing): only its letters.
        return None if _has_words(text) else f"term {text!r} has no letters or digits to match"
    for chunk in text.split():
        if "*" in chunk.strip("*") or chunk.endswith("**") or chunk.startswith("**"):
            return f"term {text!r}: '*' may only begin or end a word (a wildcard)"
        if chunk.endswith("*") and not _has_words(chunk.strip("*")):
            return f"term {text!r}: a wildcard needs at least one letter before '*'"
        if chunk.startswith("*"):
            first = chunk.strip("*").split("-")[0]
            if sum(ch.isalnum() for ch in first) < MIN_SUFFIX_LETTERS:
                return (
                    f"term {text!r}: a leading '*' needs at least {MIN_SUFFIX_LETTERS} letters after it"
                    " (a shorter ending matches too many words)"
                )
    if not _has_words(text.replace("*", " ")):
        return f"term {text!r} has no letters or digits to match"
    return None


def _has_words(text: str) -> bool:
    """Does `text` hold a word (`words_of(text)` is not empty)? An ASCII letter or digit is one
    (folding keeps it, and it is a word character), found without folding the text."""
    return _ASCII_ALNUM_RE.search(text) is not None or bool(words_of(text))


class _Terms:
    """Terms seen during one load: each literal checked once, each distinct Term kept once
    (350,000 rules share most of their words)."""

    __slots__ = ("_expanded", "_literals", "_nodes", "_problems", "_singles", "_terms", "plain")

    def __init__(self) -> None:
        self._problems: dict[str, str | None] = {}
        self._terms: dict[Term, Term] = {}
        self._literals: dict[tuple[str, bool, Forms], Term] = {}
        self._singles: dict[int, tuple[Term]] = {}
        # The condition of a literal written as a string, by the string and the word forms asked for.
        self.plain: dict[tuple[str, Forms], Node] = {}  # by the term's id (the tuple keeps it alive)
        # A list's terms with the word forms asked for, by the list (its tuple's id, kept alive here).
        self._expanded: dict[tuple[int, Forms], tuple[tuple[Term, ...], tuple[Term, ...]]] = {}
        # The condition "any of these terms", by the tuple of terms (its id, the tuple kept alive here):
        # nodes are immutable, so the rules that use the same list or word share one.
        self._nodes: dict[int, tuple[tuple[Term, ...], Node]] = {}

    def problem(self, text: str) -> str | None:
        try:
            return self._problems[text]
        except KeyError:
            found = self._problems[text] = literal_problem(text)
            return found

    def intern(self, term: Term) -> Term:
        return self._terms.setdefault(term, term)

    def single(self, term: Term) -> tuple[Term, ...]:
        """`(term,)`, one tuple per term (so that its node is made once, by `any_of`)."""
        found = self._singles.get(id(term))
        if found is None or found[0] is not term:
            found = self._singles[id(term)] = (term,)
        return found

    def known(self, text: str, case: bool, forms: Forms) -> Term | None:
        """The Term of a literal already seen (so already checked), if it was."""
        return self._literals.get((text, case, forms))

    def expanded(self, terms: tuple[Term, ...], forms: Forms) -> tuple[Term, ...]:
        """A list's terms with the word forms of the rule that uses it (once per list and forms)."""
        key = (id(terms), forms)
        found = self._expanded.get(key)
        if found is None or found[0] is not terms:
            found = self._expanded[key] = (terms, tuple(self.intern(_with_forms(t, forms)) for t in terms))
        return found[1]

    def any_of(self, terms: tuple[Term, ...]) -> Node:
        """The condition that holds when one of `terms` occurs (one node per tuple of terms)."""
        found = self._nodes.get(id(terms))
        if found is None or found[0] is not terms:
            found = self._nodes[id(terms)] = (terms, _any_of(terms))
        return found[1]

    def literal(self, text: str, case: bool, forms: Forms) -> Term:
        """The Term of a literal as written, with the word forms asked for (one object per term)."""
        key = (text, case, forms)
        term = self._literals.get(key)
        if term is None:
            term = self._literals[key] = self.intern(_with_forms(Term(text=text, case=case), forms))
        return term


class _RuleParser:
    """Builds one rule's nodes, reporting errors against its file."""

    __slots__ = ("errors", "forms", "lists", "path", "terms", "used")

    def __init__(
        self, path: Path, errors: ErrorList, lists: dict[str, tuple[Term, ...]], terms: _Terms | None = None
    ) -> None:
        self.path = path
        self.errors = errors
        self.lists = lists
        self.terms = terms or _Terms()
        # The rule's (or list's) own `forms`, given to every term that can take it.
        self.forms: Forms = NO_FORMS
        # The shared lists the rule uses (a change to one of them reloads the rule).
        self.used: set[str] = set()

    def error(self, line: int, message: str) -> None:
        self.errors.add(self.path, line, message)

    # Terms ---------------------------------------------------------------------------------

    def term(self, value: Any, line: int) -> tuple[Term, ...] | None:
        """A term, a `$list` or a term mapping -> the terms it stands for."""
        if isinstance(value, str):
            if value.startswith("$"):
                name = value[1:]
                self.used.add(name)
                if name not in self.lists:
                    self.error(line, f"undefined list {value!r}")
                    return None
                return self.terms.expanded(self.lists[name], self.forms)
            known = self.terms.known(value, False, self.forms)
            if known is not None:
                return self.terms.single(known)
            checked = self._literal(value, False, line, None)
            return self.terms.single(checked) if checked else None
        if isinstance(value, dict) and ("term" in value or "regex" in value):
            return self._term_mapping(value)
        self.error(
            line,
            f"expected a term (a string, $list, {{term: ...}} or {{regex: ...}}), got {_kind(value)}",
        )
        return None

    def forms_value(self, container: dict[Any, Any], key: str) -> Forms | None:
        """`forms: true`, `forms: false`, `forms: de` or `forms: [de, fr]`; None if invalid."""
        value = container[key]
        line = line_of(container, key)
        if isinstance(value, bool):
            return (value, ())
        codes = [value] if isinstance(value, str) else value
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            self.error(line, f"'forms' must be true, false or a list of language codes, got {value!r}")
            return None
        ok = True
        for code in codes:
            problem = language_code_error(code)
            if problem is not None:
                self.error(line, f"forms: {problem}")
                ok = False
            elif code.lower() not in FORMS_LANGUAGES:
                available = ", ".join(sorted(FORMS_LANGUAGES))
                self.error(line, f"forms: no word forms for {code!r} (there are for: {available})")
                ok = False
        return (True, tuple(sorted({c.lower() for c in codes}))) if ok else None

    def _term_mapping(self, value: dict[Any, Any]) -> tuple[Term, ...] | None:
        line = line_of(value)
        ok = True
        for key_line, message in unknown_keys(value, TERM_KEYS, "a term"):
            self.error(key_line, message)
            ok = False
        if "term" in value and "regex" in value:
            self.error(line, "a term has either 'term' or 'regex', not both")
            return None
        case = value.get("case", False)
        if not isinstance(case, bool):
            self.error(line_of(value, "case"), f"'case' must be true or false, got {case!r}")
            ok = False
        key = "term" if "term" in value else "regex"
        text = value[key]
        if not isinstance(text, str) or not text:
            self.error(line_of(value, key), f"{key!r} must be a non-empty string")
            return None
        forms: Forms | None = None
        if "forms" in value:
            forms = self.forms_value(value, "forms")
            ok = ok and forms is not None
        if not ok:
            return None
        if key == "regex":
            if forms is not None and forms[0]:
                self.error(line_of(value, "forms"), "a regex has no word forms: 'forms' is for terms")
                return None
            valid = self._regex_ok(text, line_of(value, key))
            return (Term(text=text, case=bool(case), regex=True),) if valid else None
        if forms is not None and forms[0] and (case or "*" in text):
            what = "'case: true'" if case else "a '*' wildcard (it already matches other endings)"
            self.error(line_of(value, "forms"), f"term {text!r}: 'forms' cannot be combined with {what}")
            return None
        checked = self._literal(text, bool(case), line_of(value, key), forms)
        return self.terms.single(checked) if checked else None

    def _literal(self, text: str, case: bool, line: int, forms: Forms | None) -> Term | None:
        problem = self.terms.problem(text)
        if problem is not None:
            self.error(line, problem)
            return None
        return self.terms.literal(text, case, forms if forms is not None else self.forms)

    def _regex_ok(self, pattern: str, line: int) -> bool:
        options = re2.Options()
        options.log_errors = False
        try:
            re2.compile(pattern, options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            self.error(line, f"invalid regex {pattern!r}: {reason}")
            return False
        return True

    def group(self, value: Any, line: int) -> tuple[Term, ...] | None:
        """A term, `$list` or a YAML list of them (used by near and count)."""
        if isinstance(value, list):
            if not value:
                self.error(line, "an empty list of terms")
                return None
            terms: list[Term] = []
            ok = True
            for i, item in enumerate(value):
                got = self.term(item, line_of(value, i))
                if got is None:
                    ok = False
                else:
                    terms.extend(got)
            return tuple(terms) if ok else None
        return self.term(value, line)

    # Nodes ---------------------------------------------------------------------------------

    def node(self, value: Any, line: int) -> Node | None:
        if isinstance(value, str):
            if value[:1] != "$":
                # A literal seen before, in one look-up (a `$list` depends on the rule's own lists).
                node = self.terms.plain.get((value, self.forms))
                if node is not None:
                    return node
            terms = self.term(value, line)
            if terms is None:
                return None
            node = self.terms.any_of(terms)
            if value[:1] != "$":
                self.terms.plain[(value, self.forms)] = node
            return node
        if isinstance(value, list):
            children = self.children(value, line)
            return AnyNode(children) if children is not None else None
        if not isinstance(value, dict):
            self.error(line, f"expected a condition (a term, a list or a mapping), got {_kind(value)}")
            return None
        line = value.line if type(value) is YamlMap else line
        if len(value) == 1:
            key = next(iter(value))
            if key not in CONDITION_KEYS:
                item = value[key]
                if isinstance(item, str | None):
                    written = f"{key}: {item}" if item is not None else f"{key}:"
                    self.error(
                        line, f"{written!r} reads as a mapping (an unquoted ': '): quote the term, as \"{written}\""
                    )
                    return None
            # One key (most conditions): its kind at once, as the tests below would find it.
            return _ONE_KEY.get(key, _RuleParser._combined)(self, value, line)
        if "term" in value or "regex" in value:
            return self._term_node(value, line)
        if "near" in value:
            return self._near(value, line)
        if "count" in value:
            return self._count(value, line)
        if "at_least" in value:
            return self._at_least(value, line)
        if not _SCOPE_KEYS.isdisjoint(value):
            return self._field(value, line)
        if not _UNIT_KEYS.isdisjoint(value):
            return self._unit(value, line)
        return self._combined(value, line)

    def _term_node(self, value: dict[Any, Any], line: int) -> Node | None:
        terms = self._term_mapping(value)
        return self.terms.any_of(terms) if terms is not None else None

    def children(self, value: Any, line: int) -> tuple[Node, ...] | None:
        if not isinstance(value, list):
            self.error(line, f"expected a list of conditions, got {_kind(value)}")
            return None
        if not value:
            self.error(line, "an empty list of conditions")
            return None
        lines = value.lines if type(value) is YamlList else repeat(line)
        nodes = [self.node(item, line) for item, line in zip(value, lines, strict=False)]
        for node in nodes:
            if node is None:
                return None
        return tuple(nodes)  # type: ignore[arg-type]  # no None in it

    def check_keys(self, value: dict[Any, Any], allowed: set[str], what: str) -> bool:
        if value.keys() <= allowed:
            return True  # the common case, without a look at each key
        ok = True
        for key_line, message in unknown_keys(value, allowed, what):
            self.error(key_line, message)
            ok = False
        return ok

    def _positive_int(self, value: dict[Any, Any], key: str, minimum: int) -> int | None:
        if key not in value:
            self.error(line_of(value), f"missing {key!r}")
            return None
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
            self.error(line_of(value, key), f"{key!r} must be an integer >= {minimum}, got {number!r}")
            return None
        return number

    def _near(self, value: dict[Any, Any], line: int) -> Node | None:
        ok = self.check_keys(value, {"near", "within", "ordered"}, "a near condition")
        # 0 could never hold: the hits of different terms may not overlap.
        within = self._positive_int(value, "within", 1)
        ordered = value.get("ordered", False)
        if not isinstance(ordered, bool):
            self.error(line_of(value, "ordered"), f"'ordered' must be true or false, got {ordered!r}")
            ok = False
        items = value["near"]
        if not isinstance(items, list) or len(items) < 2:
            self.error(line_of(value, "near"), "'near' needs a list of at least two terms or term lists")
            return None
        groups = [self.group(item, line_of(items, i)) for i, item in enumerate(items)]
        if not ok or within is None or any(g is None for g in groups):
            return None
        return NearNode(tuple(g for g in groups if g is not None), within, ordered)

    def _count(self, value: dict[Any, Any], line: int) -> Node | None:
        ok = self.check_keys(value, {"count", "min"}, "a count condition")
        minimum = self._positive_int(value, "min", 1)
        terms = self.group(value["count"], line_of(value, "count"))
        if not ok or minimum is None or terms is None:
            return None
        return CountNode(terms, minimum)

    def _at_least(self, value: dict[Any, Any], line: int) -> Node | None:
        ok = self.check_keys(value, {"at_least", "of"}, "an at_least condition")
        count = self._positive_int(value, "at_least", 1)
        if "of" not in value:
            self.error(line, "'at_least' needs 'of': a list of conditions")
            return None
        children = self.children(value["of"], line_of(value, "of"))
        if not ok or count is None or children is None:
            return None
        if count > len(children):
            self.error(
                line_of(value, "at_least"),
                f"'at_least: {count}' of only {len(children)} conditions can never hold",
            )
            return None
        return AtLeastNode(count, children)

    def _field(self, value: dict[Any, Any], line: int) -> Node | None:
        if len(value) != 1:
            self.error(line, "a field condition ({title: ...}, {text: ...} or {lead: ...}) takes no other keys")
            return None
        name = next(iter(value))
        child = self.node(value[name], line_of(value, name))
        if child is None:
            return None
        if name == "lead":
            self.check_lead_distance(child, line_of(value, name))
        return FieldNode(name, child)

    def check_lead_distance(self, node: Node, line: int) -> None:
        """A near asking for more words than a lead has can only be met by a long lead: say so."""
        widest = _widest_near(node)
        if widest > LEAD_MAX_WORDS:
            self.error(
                line,
                f"'within: {widest}' is larger than the lead ({LEAD_MAX_WORDS} words at most): "
                "use a smaller 'within' or search the text",
            )

    def _unit(self, value: dict[Any, Any], line: int) -> Node | None:
        if len(value) != 1:
            self.error(line, "a sentence or paragraph condition takes no other keys: put it inside 'all'")
            return None
        name = next(iter(value))
        child = self.node(value[name], line_of(value, name))
        if child is None:
            return None
        if not has_positive_term(child):
            self.error(
                line_of(value, name),
                f"the {name} condition has no positive term: it would hold in almost every {name}",
            )
            return None
        return UnitNode(name, child)

    def _combined(self, value: dict[Any, Any], line: int) -> Node | None:
        if not value:
            self.error(line, "an empty condition")
            return None
        if not self.check_keys(value, CONDITION_KEYS, "a condition"):
            return None
        parts: list[Node] = []
        ok = True
        for key in ("all", "any", "none"):
            if key in value:
                children = self.children(value[key], line_of(value, key))
                if children is None:
                    ok = False
                elif key == "all":
                    parts.extend(children)
                elif key == "any":
                    parts.append(AnyNode(children))
                else:
                    parts.append(NotNode(AnyNode(children)))
        if "not" in value:
            child = self.node(value["not"], line_of(value, "not"))
            if child is None:
                ok = False
            else:
                parts.append(NotNode(child))
        if not ok:
            return None
        return parts[0] if len(parts) == 1 else AllNode(tuple(parts))


# The kind of a condition of one key, by its key (node() tests the keys in this order when there are more).
_ONE_KEY: dict[Any, Callable[[_RuleParser, dict[Any, Any], int], Node | None]] = {
    "term": _RuleParser._term_node,
    "regex": _RuleParser._term_node,
    "near": _RuleParser._near,
    "count": _RuleParser._count,
    "at_least": _RuleParser._at_least,
    **dict.fromkeys(SCOPES, _RuleParser._field),
    **dict.fromkeys(UNITS, _RuleParser._unit),
}


def _with_forms(term: Term, forms: Forms) -> Term:
    """The term with the rule's (or list's) word forms, if it can take them and has none of its own."""
    if not forms[0] or term.forms or term.regex or term.case or "*" in term.text:
        return term
    return Term(term.text, forms=True, forms_languages=forms[1])


def _widest_near(node: Node) -> int:
    match node:
        case NearNode():
            return node.within
        case AllNode() | AnyNode() | AtLeastNode():
            return max((_widest_near(c) for c in node.children), default=0)
        case NotNode() | FieldNode() | UnitNode():
            return _widest_near(node.child)
        case TermNode() | CountNode():
            return 0
        case _:
            assert_never(node)


def _any_of(terms: tuple[Term, ...]) -> Node:
    if len(terms) == 1:
        return TermNode(terms[0])
    return AnyNode(tuple(TermNode(t) for t in terms))


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def has_positive_term(node: Node) -> bool:
    """True if the node can only hold when some term occurs, never through `not` alone.

    `[Putin, {not: Macron}]` fails this: it holds for every text without "Macron".
    """
    # The common kinds by their type first (a rule's tree is walked once per rule and unit).
    if type(node) is TermNode:
        return True
    if type(node) is AnyNode:
        # Mostly terms (a list): no call for those.
        return all(type(c) is TermNode or has_positive_term(c) for c in node.children)
    if type(node) is AllNode:
        return any(type(c) is TermNode or has_positive_term(c) for c in node.children)
    if type(node) is NotNode:
        return False
    if isinstance(node, TermNode | NearNode | CountNode):
        return True
    if isinstance(node, NotNode):
        return False
    if isinstance(node, FieldNode | UnitNode):
        return has_positive_term(node.child)
    if isinstance(node, AllNode):
        return any(has_positive_term(c) for c in node.children)
    if isinstance(node, AnyNode):
        return all(has_positive_term(c) for c in node.children)
    # at_least N holds without a term only if N of its conditions can.
    return sum(not has_positive_term(c) for c in node.children) < node.count


def _string_list(parser: _RuleParser, container: dict[Any, Any], key: str) -> tuple[str, ...] | None:
    value = container[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        parser.error(line_of(container, key), f"{key!r} must be a list of strings")
        return None
    return tuple(value)


def _parse_lists(parser: _RuleParser, value: Any, line: int) -> dict[str, tuple[Term, ...]]:
    """A mapping `name: [term, ...]` (a rule's own lists or a shared list file).

    A list with errors is still defined (with the terms that were valid), so that its
    uses do not each report "undefined list" on top of the real error.
    """
    lists: dict[str, tuple[Term, ...]] = {}
    if not isinstance(value, dict):
        parser.error(line, f"lists must be a mapping of name: [terms], got {_kind(value)}")
        return lists
    rule_forms = parser.forms
    for name, items in value.items():
        name_line = line_of(value, name)
        if not isinstance(name, str) or not LIST_NAME_RE.match(name):
            parser.error(name_line, f"invalid list name {name!r} (letters, digits, '_' and '-')")
            continue
        terms: list[Term] = []
        lists[name] = ()
        parser.forms = NO_FORMS
        if isinstance(items, dict):
            # {forms: ..., terms: [...]}: a list whose terms match their word forms.
            if not parser.check_keys(items, {"terms", "forms"}, f"list {name!r}"):
                continue
            if "forms" in items:
                parser.forms = parser.forms_value(items, "forms") or NO_FORMS
            items = items.get("terms")
        if not isinstance(items, list) or not items:
            parser.error(name_line, f"list {name!r} must be a non-empty list of terms")
            continue
        for i, item in enumerate(items):
            if isinstance(item, str) and item.startswith("$"):
                parser.error(line_of(items, i), f"list {name!r}: a list holds terms, not other lists ({item})")
                continue
            terms.extend(parser.term(item, line_of(items, i)) or ())
        lists[name] = tuple(terms)
    parser.forms = rule_forms
    return lists


def _parse_filters(parser: _RuleParser, value: Any, line: int) -> Filters | None:
    if not isinstance(value, dict):
        parser.error(line, f"'filters' must be a mapping, got {_kind(value)}")
        return None
    ok = parser.check_keys(value, FILTER_KEYS, "filters")
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    max_age = None
    if "sources" in value:
        sources = value["sources"]
        if not isinstance(sources, dict):
            parser.error(line_of(value, "sources"), "'sources' must be a mapping with include and/or exclude")
            ok = False
        else:
            ok = parser.check_keys(sources, SOURCE_KEYS, "filters.sources") and ok
            if "include" in sources:
                got = _string_list(parser, sources, "include")
                include = tuple(d.lower().lstrip(".") for d in got) if got is not None else ()
                ok = ok and got is not None
            if "exclude" in sources:
                got = _string_list(parser, sources, "exclude")
                exclude = tuple(d.lower().lstrip(".") for d in got) if got is not None else ()
                ok = ok and got is not None
    if "languages" in value:
        got = _string_list(parser, value, "languages")
        languages = tuple(lang.lower() for lang in got) if got is not None else ()
        ok = ok and got is not None
        for lang in got or ():
            problem = language_code_error(lang)
            if problem is not None:
                parser.error(line_of(value, "languages"), f"languages: {problem}")
                ok = False
    if "max_age" in value:
        max_age = parse_duration(value["max_age"])
        if max_age is None or max_age <= timedelta(0):
            parser.error(
                line_of(value, "max_age"),
                f"'max_age' must be a duration such as 48h or 7d, got {value['max_age']!r}",
            )
            ok = False
    return Filters(include, exclude, languages, max_age) if ok else None


def _parse_alert(parser: _RuleParser, value: Any, line: int) -> AlertOptions | None:
    if not isinstance(value, dict):
        parser.error(line, f"'alert' must be a mapping, got {_kind(value)}")
        return None
    ok = parser.check_keys(value, ALERT_KEYS, "alert")
    channels: tuple[str, ...] = ()
    durations: dict[str, timedelta | None] = {"realert": None, "digest": None}
    if "channels" in value:
        got = _string_list(parser, value, "channels")
        channels = got or ()
        ok = ok and got is not None
    for key, example in (("realert", "12h"), ("digest", "1h")):
        if key in value:
            durations[key] = parse_duration(value[key])
            if not durations[key]:
                parser.error(
                    line_of(value, key),
                    f"'{key}' must be a duration such as {example}, got {value[key]!r}",
                )
                ok = False
    return AlertOptions(channels, durations["realert"], durations["digest"]) if ok else None


def _parse_rule(data: Any, parser: _RuleParser, line: int) -> Rule | None:
    """The rule (None when it has errors, each reported to the parser)."""
    errors, shared, path = parser.errors, parser.lists, parser.path
    if not isinstance(data, dict):
        parser.error(line, f"a rule must be a mapping, got {_kind(data)}")
        return None
    line = line_of(data) or line  # a plain mapping (the fast reader's) has no line of its own
    before = len(errors.items)
    parser.check_keys(data, RULE_KEYS, "a rule")
    rule_id = data.get("id")
    if rule_id is None:
        parser.error(line, "missing 'id'")
    elif not isinstance(rule_id, str) or not RULE_ID_RE.match(rule_id):
        parser.error(line_of(data, "id"), f"invalid id {rule_id!r}: use lowercase letters, digits, '-' and '_'")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        parser.error(line_of(data, "title") if "title" in data else line, "missing 'title' (shown in alerts)")
    severity = data.get("severity", "medium")
    if severity not in SEVERITIES:
        parser.error(
            line_of(data, "severity"),
            f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}",
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        parser.error(line_of(data, "description"), "'description' must be text")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        parser.error(line_of(data, "enabled"), f"'enabled' must be true or false, got {enabled!r}")
    tags: tuple[str, ...] = ()
    if "tags" in data:
        tags = _string_list(parser, data, "tags") or ()
    scope: tuple[str, ...] = ("title", "text")
    if "scope" in data:
        got = _string_list(parser, data, "scope")
        if got is not None:
            bad = [f for f in got if f not in SCOPES]
            if bad:
                parser.error(
                    line_of(data, "scope"),
                    f"scope may name only title, text and lead, got {', '.join(bad)}{_suggest(bad[0], SCOPES)}",
                )
            elif not got:
                parser.error(line_of(data, "scope"), "scope is empty: the rule could never match")
            scope = tuple(f for f in SCOPES if f in got)
    if "forms" in data:
        parser.forms = parser.forms_value(data, "forms") or NO_FORMS
    if "lists" in data:
        parser.lists = {**shared, **_parse_lists(parser, data["lists"], line_of(data, "lists"))}
    when: Node | None = None
    if "when" not in data:
        parser.error(line, "missing 'when' (the condition)")
    else:
        when = parser.node(data["when"], line_of(data, "when"))
        if when is not None and scope == ("lead",):
            parser.check_lead_distance(when, line_of(data, "scope"))
        if when is not None and not has_positive_term(when):
            parser.error(
                line_of(data, "when"),
                "the condition has no positive term: it can hold through 'not' alone and would match almost everything",
            )
    filters = Filters()
    if "filters" in data:
        filters = _parse_filters(parser, data["filters"], line_of(data, "filters")) or filters
    alert = AlertOptions()
    if "alert" in data:
        alert = _parse_alert(parser, data["alert"], line_of(data, "alert")) or alert
    if len(errors.items) > before or when is None:
        return None
    return Rule(
        id=str(rule_id),
        title=str(title).strip(),
        when=when,
        severity=str(severity),
        description=str(description),
        tags=tags,
        enabled=bool(enabled),
        scope=scope,
        filters=filters,
        alert=alert,
        path=str(path),
        line=line,
    )


# The quick reading of plain rules ---------------------------------------------------------------


class _Unsure(Exception):
    """The quick reading leaves this rule to `_parse_rule` (an error, or something it does not read)."""


_NO_FILTERS = Filters()
_NO_TIME = timedelta(0)
_NO_ALERT = AlertOptions()
_NEAR_KEYS = frozenset({"near", "within", "ordered"})
_COUNT_KEYS = frozenset({"count", "min"})
_AT_LEAST_KEYS = frozenset({"at_least", "of"})
_PLAIN_TERM_KEYS = frozenset({"term", "case"})
_RULE_KEYS = frozenset(RULE_KEYS)
_FILTER_KEYS = frozenset({"languages", "max_age"})
_ALERT_KEYS = frozenset(ALERT_KEYS)


class _QuickReader:
    """Reads a rule of plain dicts and lists (the plain readers' items) the short way: the common
    shapes of the rule language, without lines (a rule read this way has no error, and the plain
    readers' items have no lines below the rule's), an error list or a parser per rule. Whatever has
    an error, or is not common (a regex, word forms on a term, sources filters, lists with word
    forms), raises _Unsure: `_parse_rule` reads the rule then, as it reads every rule, and reports
    what is wrong. A rule read here is the one `_parse_rule` gives, field by field, sharing the same
    terms and nodes (`_Terms`), and uses the same lists."""

    __slots__ = ("forms", "lists", "path", "shared", "terms", "used")

    def __init__(self, path: Path, shared: dict[str, tuple[Term, ...]], terms: _Terms) -> None:
        self.path = str(path)
        self.shared = shared
        self.lists = shared
        self.terms = terms
        self.forms: Forms = NO_FORMS
        self.used: set[str] = set()

    def rule(self, data: dict[Any, Any], line: int) -> Rule | None:
        """The rule, or None when `_parse_rule` must read it; `used` is then the lists it uses."""
        self.forms, self.lists, self.used = NO_FORMS, self.shared, set()
        try:
            return self._rule(data, line)
        except _Unsure:
            return None

    def _rule(self, data: dict[Any, Any], line: int) -> Rule:
        if not data.keys() <= _RULE_KEYS or "when" not in data:
            raise _Unsure
        rule_id = data.get("id")
        if type(rule_id) is not str or not RULE_ID_RE.match(rule_id):
            raise _Unsure
        title = data.get("title")
        if type(title) is not str or not (title := title.strip()):
            raise _Unsure
        severity = data.get("severity", "medium")
        description = data.get("description", "")
        enabled = data.get("enabled", True)
        if type(severity) is not str or severity not in SEVERITIES or type(description) is not str:
            raise _Unsure
        if type(enabled) is not bool:
            raise _Unsure
        tags = _strings(data["tags"]) if "tags" in data else ()
        scope: tuple[str, ...] = ("title", "text")
        if "scope" in data:
            got = _strings(data["scope"])
            if not got or not all(f in SCOPES for f in got):
                raise _Unsure
            scope = tuple(f for f in SCOPES if f in got)
        if "forms" in data:
            self.forms = _forms(data["forms"])
        if "lists" in data:
            self.lists = {**self.shared, **self._lists(data["lists"])}
        when = self.node(data["when"])
        if scope == ("lead",) and _widest_near(when) > LEAD_MAX_WORDS:
            raise _Unsure
        if not has_positive_term(when):
            raise _Unsure
        filters = self._filters(data["filters"]) if "filters" in data else _NO_FILTERS
        alert = self._alert(data["alert"]) if "alert" in data else _NO_ALERT
        return _new_rule(
            rule_id, title, when, severity, description, tags, enabled, scope, filters, alert, self.path, line
        )

    def _lists(self, value: Any) -> dict[str, tuple[Term, ...]]:
        if type(value) is not dict:
            raise _Unsure
        lists: dict[str, tuple[Term, ...]] = {}
        for name, items in value.items():
            if type(name) is not str or not LIST_NAME_RE.match(name) or type(items) is not list or not items:
                raise _Unsure
            found: list[Term] = []
            for item in items:
                if type(item) is str:
                    if item.startswith("$"):
                        raise _Unsure
                    found.append(self._literal(item, False, NO_FORMS))
                elif type(item) is dict:
                    found.append(self._term_mapping(item, NO_FORMS))
                else:
                    raise _Unsure
            lists[name] = tuple(found)
        return lists

    def _literal(self, text: str, case: bool, forms: Forms) -> Term:
        terms = self.terms
        known = terms.known(text, case, forms)
        if known is not None:
            return known
        if not text or terms.problem(text) is not None:
            raise _Unsure
        return terms.literal(text, case, forms)

    def _term_mapping(self, value: dict[Any, Any], forms: Forms) -> Term:
        if not value.keys() <= _PLAIN_TERM_KEYS or "term" not in value:
            raise _Unsure
        case = value.get("case", False)
        text = value["term"]
        if type(case) is not bool or type(text) is not str or not text:
            raise _Unsure
        return self._literal(text, case, forms)

    def term(self, value: Any) -> tuple[Term, ...]:
        """A term, a `$list` or a term mapping -> the terms it stands for."""
        if type(value) is str:
            if value.startswith("$"):
                name = value[1:]
                self.used.add(name)
                found = self.lists.get(name)
                if found is None:
                    raise _Unsure
                return self.terms.expanded(found, self.forms)
            return self.terms.single(self._literal(value, False, self.forms))
        if type(value) is dict:
            return self.terms.single(self._term_mapping(value, self.forms))
        raise _Unsure

    def group(self, value: Any) -> tuple[Term, ...]:
        if type(value) is list:
            if not value:
                raise _Unsure
            return tuple(t for item in value for t in self.term(item))
        return self.term(value)

    def children(self, value: Any) -> tuple[Node, ...]:
        if type(value) is not list or not value:
            raise _Unsure
        return tuple([self.node(item) for item in value])

    def node(self, value: Any) -> Node:
        if type(value) is str:
            if value[:1] == "$":
                return self.terms.any_of(self.term(value))
            terms, key = self.terms, (value, self.forms)
            node = terms.plain.get(key)
            if node is None:
                node = terms.plain[key] = terms.any_of(terms.single(self._literal(value, False, self.forms)))
            return node
        if type(value) is list:
            return AnyNode(self.children(value))
        if type(value) is not dict or not value:
            raise _Unsure
        if len(value) == 1:
            key = next(iter(value))
            # A combining key alone (most mappings in a rule): what `_combined` makes of it.
            if key == "all":
                parts = self.children(value[key])
                return parts[0] if len(parts) == 1 else AllNode(parts)
            if key == "any":
                return AnyNode(self.children(value[key]))
            if key == "not":
                return NotNode(self.node(value[key]))
            if key == "none":
                return NotNode(AnyNode(self.children(value[key])))
            if key in _SCOPE_KEYS:
                child = self.node(value[key])
                if key == "lead" and _widest_near(child) > LEAD_MAX_WORDS:
                    raise _Unsure
                return FieldNode(key, child)
            if key in _UNIT_KEYS:
                child = self.node(value[key])
                if not has_positive_term(child):
                    raise _Unsure
                return UnitNode(key, child)
        if "term" in value or "regex" in value:
            return self.terms.any_of(self.terms.single(self._term_mapping(value, self.forms)))
        if "near" in value:
            return self._near(value)
        if "count" in value:
            if not value.keys() <= _COUNT_KEYS:
                raise _Unsure
            return CountNode(self.group(value["count"]), _positive(value.get("min")))
        if "at_least" in value:
            if not value.keys() <= _AT_LEAST_KEYS or "of" not in value:
                raise _Unsure
            count = _positive(value["at_least"])
            children = self.children(value["of"])
            if count > len(children):
                raise _Unsure
            return AtLeastNode(count, children)
        return self._combined(value)

    def _near(self, value: dict[Any, Any]) -> Node:
        if not value.keys() <= _NEAR_KEYS:
            raise _Unsure
        within = _positive(value.get("within"))
        ordered = value.get("ordered", False)
        items = value["near"]
        if type(ordered) is not bool or type(items) is not list or len(items) < 2:
            raise _Unsure
        return NearNode(tuple([self.group(item) for item in items]), within, ordered)

    def _combined(self, value: dict[Any, Any]) -> Node:
        if not value.keys() <= COMBINING_KEYS:
            raise _Unsure  # a field or unit among other keys, or a key that is none
        parts: list[Node] = []
        if "all" in value:
            parts.extend(self.children(value["all"]))
        if "any" in value:
            parts.append(AnyNode(self.children(value["any"])))
        if "none" in value:
            parts.append(NotNode(AnyNode(self.children(value["none"]))))
        if "not" in value:
            parts.append(NotNode(self.node(value["not"])))
        return parts[0] if len(parts) == 1 else AllNode(tuple(parts))

    def _filters(self, value: Any) -> Filters:
        if type(value) is not dict or not value.keys() <= _FILTER_KEYS:
            raise _Unsure  # sources: read by _parse_filters
        languages: tuple[str, ...] = ()
        if "languages" in value:
            got = _strings(value["languages"])
            if any(language_code_error(lang) is not None for lang in got):
                raise _Unsure
            languages = tuple(lang.lower() for lang in got)
        max_age = None
        if "max_age" in value:
            max_age = _quick_duration(value["max_age"])
            if max_age is None or max_age <= _NO_TIME:
                raise _Unsure
        return Filters((), (), languages, max_age)

    def _alert(self, value: Any) -> AlertOptions:
        if type(value) is not dict or not value.keys() <= _ALERT_KEYS:
            raise _Unsure
        channels = _strings(value["channels"]) if "channels" in value else ()
        realert = _duration(value["realert"]) if "realert" in value else None
        digest = _duration(value["digest"]) if "digest" in value else None
        return AlertOptions(channels, realert, digest)


def _rule_maker() -> Callable[..., Rule]:
    """`Rule(...)` of every field in order, for the quick reader: each slot set through its descriptor,
    not by the frozen dataclass's `__init__` (`object.__setattr__` per field): half the time, for
    each of 350,000 rules. The same object (Rule has no `__post_init__`), equal and hashed alike."""
    names = tuple(f.name for f in fields(Rule))
    assert names == Rule.__slots__ and not hasattr(Rule, "__post_init__")
    new = object.__new__
    s_id, s_title, s_when, s_severity, s_description, s_tags, s_enabled, s_scope, s_filters, s_alert, s_path, s_line = (
        getattr(Rule, name).__set__ for name in names
    )

    def make(
        rule_id: str, title: str, when: Node, severity: str, description: str, tags: tuple[str, ...],
        enabled: bool, scope: tuple[str, ...], filters: Filters, alert: AlertOptions, path: str, line: int,
    ) -> Rule:  # fmt: skip
        rule: Rule = new(Rule)
        s_id(rule, rule_id)
        s_title(rule, title)
        s_when(rule, when)
        s_severity(rule, severity)
        s_description(rule, description)
        s_tags(rule, tags)
        s_enabled(rule, enabled)
        s_scope(rule, scope)
        s_filters(rule, filters)
        s_alert(rule, alert)
        s_path(rule, path)
        s_line(rule, line)
        return rule

    return make


_new_rule = _rule_maker()


def _strings(value: Any) -> tuple[str, ...]:
    """A string or a list of non-empty strings, as `_string_list` takes them."""
    if type(value) is str:
        value = [value]
    if type(value) is not list or not all(type(v) is str and v for v in value):
        raise _Unsure
    return tuple(value)


def _positive(value: Any) -> int:
    """An integer >= 1 (`_positive_int`'s check, for the minimums that are 1)."""
    if type(value) is not int or value < 1:
        raise _Unsure
    return value


def _duration(value: Any) -> timedelta:
    found = _quick_duration(value)
    if not found:
        raise _Unsure
    return found


# `parse_duration` of each string met by the quick reader, once (a few: "48h", "6h", ... in 350,000 rules).
_string_duration = functools.lru_cache(maxsize=4096)(parse_duration)


def _quick_duration(value: Any) -> timedelta | None:
    return _string_duration(value) if type(value) is str else parse_duration(value)


@functools.cache
def _forms_of(value: str | bool | tuple[str, ...]) -> Forms | None:
    """`forms_value`'s reading of a rule's `forms` that has no error (None: it has one)."""
    if type(value) is bool:
        return (value, ())
    codes = (value,) if type(value) is str else value
    if not codes or not all(type(c) is str for c in codes):
        return None
    if any(language_code_error(c) is not None or c.lower() not in FORMS_LANGUAGES for c in codes):
        return None
    return (True, tuple(sorted({c.lower() for c in codes})))


def _forms(value: Any) -> Forms:
    if type(value) is list:
        value = tuple(value)
    if type(value) not in (str, bool, tuple):
        raise _Unsure
    try:
        found = _forms_of(value)
    except TypeError:  # an unhashable item
        raise _Unsure from None
    if found is None:
        raise _Unsure
    return found


# Files and directories ------------------------------------------------------------------------------

# What tells that a file changed: (modification time in ns, size, inode). A Kubernetes ConfigMap
# update replaces the files (new inodes); an editor's save changes the time.
Signature = tuple[int, int, int]


def yaml_files(directory: Path) -> list[Path]:
    """Every *.yaml / *.yml file under `directory`, sorted; hidden files and directories are skipped
    (editors' backups, and the `..data` copies Kubernetes keeps in a mounted ConfigMap)."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
        and p.is_file()
    )


def rule_files(directory: Path) -> list[Path]:
    """Every rule file under `directory`; `lists/` and `tests/` at its top hold no rules."""
    return [p for p in yaml_files(directory) if p.relative_to(directory).parts[0] not in ("lists", "tests")]


def list_files(directory: Path) -> list[Path]:
    """The shared list files, `lists/*.yaml` / `lists/*.yml`."""
    lists_dir = directory / "lists"
    if not lists_dir.is_dir():
        return []
    return sorted(p for p in lists_dir.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def _contents(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            return None  # never read: read_yaml refuses it
        return path.read_bytes()
    except OSError:
        return None  # read_yaml reports it


def _digest(raw: bytes | None) -> bytes | None:
    return hashlib.blake2b(raw, digest_size=16).digest() if raw is not None else None


def _signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # read_yaml reports it
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@dataclass(frozen=True, slots=True)
class SharedLists:
    """The shared lists of a rules directory, and the files they were read from."""

    lists: Mapping[str, tuple[Term, ...]]
    files: tuple[tuple[Path, Signature | None], ...]


@dataclass(frozen=True, slots=True)
class RuleFile:
    """The rules of one file as loaded, and what they depend on."""

    signature: Signature | None
    digest: bytes | None  # of the file's bytes: a file rewritten as it was (a ConfigMap update) is not read again
    rules: tuple[Rule, ...]
    lists: frozenset[str]  # names of the lists they use ($name): a change to one reloads the file
    # A file of `rules: [...]` read item by item: its items (an item whose text did not change is not
    # parsed again), whose rules are `rules`, in order.
    items: _Items | None = None


@dataclass(frozen=True, slots=True)
class _Items:
    """The items of a file read item by item, in order: the hash of each one's text, its line, and the
    names of the lists its rule uses (arrays: a reload matches 350,000 of them with the new ones in bulk)."""

    keys: np.ndarray  # int64
    lines: np.ndarray  # int64
    used: tuple[frozenset[str], ...]

    def find(self, keys: np.ndarray) -> np.ndarray:
        """For each key, the index of an item of this file with that key, else -1."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        order = np.argsort(self.keys, kind="stable")
        ordered = self.keys[order]
        at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
        return np.where(ordered[at] == keys, order[at], -1)


_NO_LISTS: frozenset[str] = frozenset()


def load_shared_lists(directory: Path, errors: ErrorList, terms: _Terms | None = None) -> SharedLists:
    """Every list of `lists/*.yaml`, each name defined once."""
    lists: dict[str, tuple[Term, ...]] = {}
    where: dict[str, str] = {}
    paths = list_files(directory)
    files = tuple((path, _signature(path)) for path in paths)
    terms = terms or _Terms()
    for path in paths:
        data = read_yaml(path, errors)
        if data is None:
            continue
        parser = _RuleParser(path, errors, {}, terms)
        parsed = _parse_lists(parser, data, line_of(data) or 1)
        for name, found in parsed.items():
            if name in lists:
                errors.add(path, line_of(data, name), f"list {name!r} is already defined at {where[name]}")
                continue
            lists[name] = found
            where[name] = f"{path}:{line_of(data, name)}"
    return SharedLists(lists, files)


# One entry of a freshly read file: a rule, or the errors of an item that is none.
_Entry = tuple[Rule | None, Sequence[str]]


class _FileReader:
    """Reads one rule file, rule by rule as the YAML parser hands them over."""

    def __init__(
        self,
        path: Path,
        shared: Mapping[str, tuple[Term, ...]],
        terms: _Terms,
        known: RuleFile | None = None,
        changed_lists: AbstractSet[str] = frozenset(),
    ) -> None:
        self.path = path
        self.shared = dict(shared)
        self.terms = terms
        self.quick = _QuickReader(path, self.shared, terms)
        # The file as loaded before: a rule that is as it was is kept as it was (and the copy just
        # read is dropped at once, so a big file read again is not held twice); an item whose text
        # is as it was is not parsed again, unless it uses a shared list that changed.
        self.known = known
        self.changed_lists = changed_lists
        self._before: dict[str, Rule] | None = None
        self.entries: list[_Entry] = []
        self.used: set[str] = set()
        self.items: _Items | None = None
        self.parsed_items = 0  # items validated (the others were as they were)

    def _was(self, rule_id: str, index: int) -> Rule | None:
        """The rule loaded before with this id: most often the one at the same place in the file (an
        edit in place), which spares a table of the ids of a big file's rules."""
        assert self.known is not None
        rules = self.known.rules
        if index < len(rules) and rules[index].id == rule_id:
            return rules[index]
        if self._before is None:
            self._before = {rule.id: rule for rule in rules}
        return self._before.get(rule_id)

    def parsed(self, data: Any, line: int, index: int) -> tuple[_Entry, frozenset[str]]:
        """The entry of the file's item `index`, and the lists it uses."""
        self.parsed_items += 1
        # A plain item (the plain readers') read the short way first; the others, and any it leaves.
        rule = self.quick.rule(data, line) if type(data) is dict else None
        problems: Sequence[str] = ()
        used = self.quick.used
        if rule is None:
            errors = ErrorList()
            parser = _RuleParser(self.path, errors, self.shared, self.terms)
            rule = _parse_rule(data, parser, line)
            problems, used = errors.items, parser.used
        if rule is not None and self.known is not None:
            rule = _as_before(rule, self._was(rule.id, index))
        return (rule, problems), frozenset(used) if used else _NO_LISTS

    def item(self, data: Any, line: int) -> None:
        entry, used = self.parsed(data, line, len(self.entries))
        self.used |= used
        self.entries.append(entry)

    def reset(self) -> None:
        self.entries.clear()
        self.used.clear()
        self.items = None
        self.parsed_items = 0

    def read(self, errors: ErrorList, raw: bytes | None = None) -> list[_Entry]:
        """The file's entries in order (from its bytes `raw` if they were read); the file's own errors
        (syntax, layout) go to `errors`."""
        items = plain_items(self.path, "rules", raw)
        if items is not None:
            if self._read_items(items):
                return self.entries
        else:
            plain = read_plain(self.path, "rules")
            if plain is not None and self._read_plain(plain):
                return self.entries
        self.reset()
        before = len(errors.items)
        data = read_yaml(self.path, errors, Stream("rules", self.item, self.reset))
        if data is None:
            if len(errors.items) == before:
                errors.add(self.path, 1, "file is empty: expected a rule or 'rules: [...]'")
            return []
        if isinstance(data, dict) and "rules" in data:
            for key_line, message in unknown_keys(data, {"rules"}, "a file of several rules"):
                errors.add(self.path, key_line, message)
            items_read = data["rules"]
            if not isinstance(items_read, list) or not items_read:
                errors.add(self.path, line_of(data, "rules"), "'rules' must be a non-empty list of rules")
                return []
            return self.entries
        self.item(data, line_of(data) or 1)
        return self.entries

    def _read_items(self, items: PlainItems) -> bool:
        """The rules of a file cut into items (see PlainItems), if none has an error (an error needs
        its line, which only the careful reading has: the file is read again then). The items whose
        text is as it was are the rules they were (moved to their new line if they moved), unless
        they use a shared list that changed."""
        keys = np.array(items.keys(), dtype=np.int64)
        lines = np.array(items.lines, dtype=np.int64)
        known = self.known
        before = known.items if known is not None else None
        found = before.find(keys) if before is not None else np.full(len(keys), -1, dtype=np.int64)
        if before is not None and self.changed_lists:
            changed = self.changed_lists
            stale = np.array([not changed.isdisjoint(used) for used in before.used], dtype=bool)
            found[(found >= 0) & stale[found]] = -1
        rules: list[Rule | None] = [None] * len(keys)
        used: list[frozenset[str]] = [_NO_LISTS] * len(keys)
        if known is not None and before is not None and (found >= 0).any():
            old_rules, old_used = known.rules, before.used
            rules = [old_rules[j] if j >= 0 else None for j in found.tolist()]
            used = [old_used[j] if j >= 0 else _NO_LISTS for j in found.tolist()]
            for i in np.flatnonzero((found >= 0) & (before.lines[found] != lines)).tolist():
                rules[i] = old_rules[found[i]].at_line(items.lines[i])
        fresh = np.flatnonzero(found < 0).tolist()
        for at in range(0, len(fresh), ITEMS_PER_PARSE):
            batch = fresh[at : at + ITEMS_PER_PARSE]
            parsed = items.parse(batch)
            if parsed is None:
                return False
            for i, data in zip(batch, parsed, strict=True):
                (rule, problems), used[i] = self.parsed(data, items.lines[i], i)
                if problems or rule is None:
                    return False
                rules[i] = rule
        self.used = set().union(*filter(None, used))
        self.items = _Items(keys, lines, tuple(used))
        self.entries = [(rule, ()) for rule in rules]
        return True

    def _read_plain(self, plain: PlainFile) -> bool:
        """The rules of a file read by the plain reader, if none has an error: an error needs its line,
        which only the careful reading has (the file is read again then)."""
        data = plain.data
        items = [data] if "rules" not in data else data["rules"] if len(data) == 1 else None
        if type(items) is not list or len(items) != len(plain.lines):
            return False
        for item, line in zip(items, plain.lines, strict=True):
            self.item(item, line)
            if self.entries[-1][1]:
                return False
        return True


def _as_before(rule: Rule, was: Rule | None) -> Rule:
    """`rule` read again: the rule loaded before with its id (`was`) if it is as it was (same
    content), else with the condition loaded before if that is as it was, so that the matcher keeps
    what it compiled. (One rule edited in a file of thousands.)"""
    if was is None:
        return rule
    if rule == was:
        return was
    return replace(rule, when=was.when) if rule.when == was.when else rule


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every rule of a directory (enabled or not), and what each file gave (for reloading)."""

    rules: tuple[Rule, ...]
    directory: Path
    files: Mapping[Path, RuleFile] = field(default_factory=dict)
    shared: SharedLists = SharedLists({}, ())
    read: int = 0  # rule files parsed to build this set (the others were unchanged since `previous`)
    parsed: int = 0  # rules parsed and validated (the others' YAML text was as it was: their rules were kept)

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)


def load_rules(directory: Path | str, previous: RuleSet | None = None) -> RuleSet:
    """Load every rule under `directory`; raise RuleLoadError listing every problem found.

    With `previous` (the set loaded before from the same directory), only the files that changed
    since are read again, with those whose rules use a shared list that changed; the other files
    keep their rules (the same objects, which the matcher keeps compiled).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise RuleLoadError([f"{directory}:0: rules directory not found"])
    if previous is not None and previous.directory != directory:
        previous = None
    with bulk_build():
        return _load(directory, previous)


def _load(directory: Path, previous: RuleSet | None) -> RuleSet:
    errors = ErrorList()
    terms = _Terms()
    changed_lists: set[str] = set()
    if previous is not None and previous.shared.files == tuple((p, _signature(p)) for p in list_files(directory)):
        shared = previous.shared
    else:
        shared = load_shared_lists(directory, errors, terms)
        if previous is not None:
            old = previous.shared.lists
            changed_lists = {n for n in old.keys() | shared.lists.keys() if old.get(n) != shared.lists.get(n)}
    files: dict[Path, RuleFile] = {}
    loaded: list[_Loaded] = []
    read = parsed = 0
    paths = rule_files(directory)
    if not paths:
        errors.add(directory, 0, "no rule files (*.yaml, *.yml) in this directory")
    for path in paths:
        signature = _signature(path)
        known = previous.files.get(path) if previous is not None else None
        stale = known is not None and not known.lists.isdisjoint(changed_lists)  # its rules must be built again
        raw = None
        if known is not None and known.signature == signature and not stale:
            digest = known.digest
        else:
            raw = _contents(path)
            digest = _digest(raw)
        if known is not None and not stale and digest is not None and digest == known.digest:
            files[path] = known if known.signature == signature else replace(known, signature=signature)
            loaded.append((path, files[path], [], []))
        else:
            reader = _FileReader(path, shared.lists, terms, known, changed_lists)
            file_errors = ErrorList()
            entries = reader.read(file_errors, raw)
            loaded.append((path, None, entries, file_errors.items))
            files[path] = RuleFile(signature, digest, (), frozenset(reader.used), reader.items)
            read += 1
            parsed += reader.parsed_items
    kept = _unique_ids(loaded, previous) if previous is not None and not errors.items else None
    if kept is None:
        kept = _checked_ids(loaded, errors)
    for (path, _, _, _), rules in zip(loaded, kept, strict=True):
        if files[path].rules is not rules:
            files[path] = replace(files[path], rules=rules)
    if errors.items:
        raise RuleLoadError(errors.items)
    return RuleSet(tuple(chain.from_iterable(kept)), directory, files, shared, read, parsed)


# One file as `_load` found it: its path, its rules kept from before (None when read), the
# entries read and the file's own errors.
_Loaded = tuple[Path, RuleFile | None, list[_Entry], list[str]]


def _checked_ids(loaded: list[_Loaded], errors: ErrorList) -> list[tuple[Rule, ...]]:
    """Every file's rules with unique ids, in order; each error (the files' own, the rules', a
    repeated id) added to `errors` where a reader meets it."""
    seen: dict[str, Rule] = {}
    kept: list[tuple[Rule, ...]] = []
    for path, known, entries, file_errors in loaded:
        errors.items.extend(file_errors)
        rules: list[Rule] = []
        for rule, problems in entries if known is None else ((r, ()) for r in known.rules):
            errors.items.extend(problems)
            if rule is None:
                continue
            first = seen.get(rule.id)
            if first is not None:
                errors.add(path, rule.line, f"duplicate rule id {rule.id!r} (first defined at {first.location})")
                continue
            seen[rule.id] = rule
            rules.append(rule)
        kept.append(known.rules if known is not None and len(rules) == len(known.rules) else tuple(rules))
    return kept


def _unique_ids(loaded: list[_Loaded], previous: RuleSet) -> list[tuple[Rule, ...]] | None:
    """The files' rules when nothing read has an error and no id repeats, checking only the rules
    read against the others (the rules kept had unique ids before); None otherwise (then
    `_checked_ids` finds the errors, in order)."""
    kept_files = {path for path, known, _, _ in loaded if known is not None}
    seen = {rule.id for path, was in previous.files.items() if path in kept_files for rule in was.rules}
    kept: list[tuple[Rule, ...]] = []
    for _, known, entries, file_errors in loaded:
        if known is not None:
            kept.append(known.rules)
            continue
        if file_errors:
            return None
        rules: list[Rule] = []
        for rule, problems in entries:
            if problems or rule is None or rule.id in seen:
                return None
            seen.add(rule.id)
            rules.append(rule)
        kept.append(tuple(rules))
    return kept
