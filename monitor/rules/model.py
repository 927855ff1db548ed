"""What a loaded rule is: immutable data, built by the loader and compiled by the matcher."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

SEVERITIES = ("info", "low", "medium", "high", "critical")
FIELDS = ("title", "text")
# What a rule or a field condition may search: a field, or the lead (the title and the start of the text).
SCOPES = ("title", "text", "lead")
UNITS = ("sentence", "paragraph")


@dataclass(frozen=True, slots=True)
class Term:
    """One term as the rule wrote it: a word or phrase, or an RE2 regex.

    `forms`: also match the inflected forms of its words in the document's language, in the
    languages `forms_languages` names (every language with a stemmer when empty).
    """

    text: str
    case: bool = False
    regex: bool = False
    forms: bool = False
    forms_languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TermNode:
    term: Term


@dataclass(frozen=True, slots=True)
class AllNode:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyNode:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class NotNode:
    child: Node


@dataclass(frozen=True, slots=True)
class AtLeastNode:
    count: int
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class NearNode:
    """Every group occurs, within `within` words (first word to first word)."""

    groups: tuple[tuple[Term, ...], ...]
    within: int
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class CountNode:
    terms: tuple[Term, ...]
    min: int


@dataclass(frozen=True, slots=True)
class FieldNode:
    """The child must hold in this one field, or in the lead (one of SCOPES)."""

    field: str
    child: Node


@dataclass(frozen=True, slots=True)
class UnitNode:
    """The child must hold within one sentence or one paragraph (one of UNITS)."""

    unit: str
    child: Node


Node = TermNode | AllNode | AnyNode | NotNode | AtLeastNode | NearNode | CountNode | FieldNode | UnitNode


@dataclass(frozen=True, slots=True)
class Filters:
    sources_include: tuple[str, ...] = ()
    sources_exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    max_age: timedelta | None = None


@dataclass(frozen=True, slots=True)
class AlertOptions:
    channels: tuple[str, ...] = ()
    realert: timedelta | None = None
    digest: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    when: Node
    severity: str = "medium"
    description: str = ""
    tags: tuple[str, ...] = ()
    enabled: bool = True
    scope: tuple[str, ...] = FIELDS
    filters: Filters = Filters()
    alert: AlertOptions = AlertOptions()
    path: str = ""
    line: int = 0

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def at_line(self, line: int) -> Rule:
        """This rule found at another line of its file (a line added above it): `replace(rule,
        line=line)` without its look-ups by name, for the 175,000 rules after a line added in the
        middle of a file of 350,000."""
        return Rule(
            self.id, self.title, self.when, self.severity, self.description, self.tags, self.enabled,
            self.scope, self.filters, self.alert, self.path, line,
        )  # fmt: skip


@contextlib.contextmanager
def bulk_build() -> Iterator[None]:
    """Pause the cyclic garbage collector while rules are built in bulk, then leave what was built
    out of its collections.

    Loading or compiling 100,000 rules allocates millions of objects, none in a cycle; the
    collector would otherwise scan the growing heap again and again (a third of the build time),
    and then walk every rule in each full collection, a pause of a second at 350,000 rules in the
    middle of matching. So the objects alive at the end are frozen (`gc.freeze`): rules hold no
    cycles, and reference counting frees them when a reload drops them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
