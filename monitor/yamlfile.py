"""YAML files that people write (rules, lists, rule tests, feeds, config): parsed safely, errors located by line.

Files are parsed by libyaml (PyYAML's C parser) into plain dicts and lists that remember the
line of every key and item (`YamlMap`, `YamlList`); scalars are typed as YAML 1.2 types them
(`yes` and `no` stay strings). A file the fast reader does not take as it is (a syntax error, a
duplicate key, anchors, tags, dates, non-decimal numbers) is read again by ruamel.yaml, the
reader this project has always used, so that its values and every error message are exactly
what they were.

Rule files are first offered to `plain_items` (a file that is one `rules:` block sequence, cut
into the texts of its items, which yaml-rs parses a few hundred at a time, and on a reload only
those whose text changed) or `read_plain` (any other file): plain YAML parsed by yaml-rs into plain
dicts and lists, with only the line of each rule, several times faster; the rule loader reads a
file again with `read_yaml` when it has an error to locate, and both refuse whatever they might
read otherwise than the readers above.
"""

from __future__ import annotations

import difflib
import functools
import io
import itertools
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml_rs
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.resolver import implicit_resolvers
from ruamel.yaml.util import load_yaml_guess_indent
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

# Larger than any file a person writes (350,000 rules in one file are about 75 MB): a file over
# this is refused before it is read, so that a stray dump cannot exhaust the service's memory.
MAX_YAML_BYTES = 128 * 1024 * 1024


class YamlMap(dict[Any, Any]):
    """A parsed YAML mapping: `line` is its own 1-based line, `lines[key]` the line of each key."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}


class YamlList(list[Any]):
    """A parsed YAML sequence: `line` is its own 1-based line, `lines[i]` the line of each item."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


@dataclass(slots=True)
class ErrorList:
    """Errors collected while validating, each as `FILE:LINE: message`."""

    items: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, message: str) -> None:
        self.items.append(f"{path}:{line}: {message}")


@dataclass(frozen=True, slots=True)
class Stream:
    """Hand the items of the top-level sequence `key` to `each(item, line)` as they are parsed,
    instead of keeping them (the sequence keeps None in their place): a file of 100,000 rules is
    never held whole. `reset()` is called before the items are handed over again from the first
    (when the file has to be read a second time)."""

    key: str
    each: Callable[[Any, int], None]
    reset: Callable[[], None]


def read_yaml(path: Path, errors: ErrorList, stream: Stream | None = None) -> Any:
    """Parse one YAML file; report unreadable, oversized and invalid files with their line (None then)."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            errors.add(
                path,
                0,
                f"file is {size:,} bytes, over the limit for a YAML file ({MAX_YAML_BYTES // 1024**2} MiB):"
                " split it into several files",
            )
            return None
        raw = path.read_bytes()
    except OSError as exc:
        errors.add(path, 0, f"cannot read file: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.add(path, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text")
        return None
    del raw
    try:
        return _FastReader(text, stream).document()
    except (_NotFast, yaml.YAMLError):
        pass
    if stream is not None:
        stream.reset()
    return _read_ruamel(text, path, errors, stream)


# The fast reader ---------------------------------------------------------------------------------


class _NotFast(Exception):
    """The file uses something the fast reader leaves to ruamel.yaml."""


def _plain_resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """ruamel.yaml's YAML 1.2 implicit types of plain scalars, by first character."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first or [""]:
                # ruamel compiles its patterns lazily: compile them here, once.
                compiled = re.compile(regexp.pattern, regexp.flags)
                table.setdefault(char, []).append((tag.rsplit(":", 1)[-1], compiled))
    return table


_RESOLVERS = _plain_resolvers()
_DECIMAL_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"[-+]?[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?\Z")


# Plain scalars starting with a letter are typed only if they are one of these words (the bool
# and null resolvers); only those starting with a digit, a sign or a mark need the patterns.
_WORDS: dict[str, bool | None] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("null", "Null", "NULL", "~", ""), None),
}
_PATTERNED = frozenset(first for first in _RESOLVERS if first and not first.isalpha() and first != "~")


def _typed(value: str) -> Any:
    """A plain scalar as YAML 1.2 types it (as ruamel.yaml does), or _NotFast for rare types."""
    if value in _WORDS:
        return _WORDS[value]
    if value[:1] not in _PATTERNED:
        return value
    for tag, regexp in _RESOLVERS[value[:1]]:
        if regexp.match(value):
            if tag == "int" and _DECIMAL_RE.match(value):
                return int(value)
            if tag == "float" and _FLOAT_RE.match(value):
                return float(value)
            raise _NotFast(tag)
    return value


# Containers made without a call to their __init__ (two Python calls each, for 60,000 containers
# in 10,000 rules): the reader sets `line` and `lines` itself.
_new_map = dict.__new__
_new_list = list.__new__


class _FastReader:
    """Builds YamlMap / YamlList / scalars from libyaml's events."""

    __slots__ = ("get", "parser", "stream")

    def __init__(self, text: str, stream: Stream | None) -> None:
        self.parser = yaml.CSafeLoader(text)
        # Events are read untyped: the stubs allow None where libyaml gives none.
        self.get: Callable[[], Any] = self.parser.get_event
        self.stream = stream

    def document(self) -> Any:
        try:
            self.get()  # stream start
            if self.parser.check_event(StreamEndEvent):
                return None
            self.get()  # document start
            root = self.node(self.get(), top=True)
            self.get()  # document end
            if not self.parser.check_event(StreamEndEvent):
                raise _NotFast("several documents")
            return root
        finally:
            self.parser.dispose()

    def node(self, event: Any, top: bool = False) -> Any:
        kind = type(event)
        if event.anchor is not None or getattr(event, "tag", None) is not None:
            raise _NotFast("anchor or tag")
        if kind is ScalarEvent:
            return _typed(event.value) if event.implicit[0] else event.value
        if kind is MappingStartEvent:
            return self.mapping(event, top)
        if kind is SequenceStartEvent:
            return self.sequence(event, None)
        if kind is AliasEvent:
            raise _NotFast("alias")
        raise _NotFast(kind.__name__)

    def mapping(self, start: Any, top: bool) -> YamlMap:
        get = self.get
        node = self.node
        words, patterned = _WORDS, _PATTERNED
        out: YamlMap = _new_map(YamlMap)
        out.line = start.start_mark.line + 1
        lines: dict[Any, int] = {}
        out.lines = lines
        while True:
            event: Any = get()
            kind = type(event)
            if kind is MappingEndEvent:
                return out
            if kind is not ScalarEvent or event.anchor is not None or event.tag is not None:
                raise _NotFast("complex key, anchor or tag")
            key = event.value
            # Typed only if it may be other than text: most keys and values are words.
            if event.implicit[0] and (key in words or key[:1] in patterned):
                key = _typed(key)
            if key in out or key == "<<":
                raise _NotFast("duplicate or merge key")
            lines[key] = event.start_mark.line + 1
            value = get()
            kind = type(value)
            # Scalars inline: most values are, and a call each is a good share of the time.
            if kind is ScalarEvent:
                if value.anchor is not None or value.tag is not None:
                    raise _NotFast("anchor or tag")
                text = value.value
                if value.implicit[0] and (text in words or text[:1] in patterned):
                    out[key] = _typed(text)
                else:
                    out[key] = text
                continue
            if value.anchor is not None or getattr(value, "tag", None) is not None:
                out[key] = node(value)  # refused there
            elif kind is MappingStartEvent:
                out[key] = self.mapping(value, False)
            elif kind is SequenceStartEvent:
                stream = self.stream if top else None
                out[key] = self.sequence(value, stream.each if stream is not None and key == stream.key else None)
            else:
                out[key] = node(value)

    def sequence(self, start: Any, each: Callable[[Any, int], None] | None) -> YamlList:
        get = self.get
        node = self.node
        words, patterned = _WORDS, _PATTERNED
        out: YamlList = _new_list(YamlList)
        out.line = start.start_mark.line + 1
        lines: list[int] = []
        out.lines = lines
        line_append, append = lines.append, out.append
        while True:
            event: Any = get()
            kind = type(event)
            if kind is SequenceEndEvent:
                return out
            line = event.start_mark.line + 1
            line_append(line)
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _NotFast("anchor or tag")
                value = event.value
                if event.implicit[0] and (value in words or value[:1] in patterned):
                    value = _typed(value)
            elif kind is MappingStartEvent and event.anchor is None and event.tag is None:
                value = self.mapping(event, False)
            else:
                value = node(event)
            if each is None:
                append(value)
            else:
                each(value, line)
                append(None)


# The plain reader --------------------------------------------------------------------------------

# Files up to this size may be parsed first into plain containers by yaml-rs (a parser in Rust, ten
# times PyYAML's events from Python); a larger one is read item by item as above, never held whole.
PLAIN_MAX_BYTES = 32 * 1024 * 1024

# What the plain reader leaves to the readers above, so that the values are what they would give:
# anchors, aliases, tags, merge keys, complex keys, directives and document markers, tabs, line
# breaks other than "\n" (which libyaml counts as lines), a byte-order mark, and plain scalars that
# ruamel.yaml's YAML 1.2 types otherwise than yaml-rs does (dates, "0X1F", "+0x1F", "0b1", "1_000",
# ".5e3", "=").
# Each pattern starts with a literal (a fast scan); those that cannot are tried only where their
# character occurs at all. They may refuse a file needlessly (inside quotes): it is only read slower.
_REFUSED_CHARS = "\t\r\x85\u2028\u2029\ufeff"
_REFUSED_RE = re.compile(
    r"\*(?<=[\s\[{,]\*)|<<|\n(?:---|\.\.\.|%)|-\d(?<=\d\d\d\d-\d)|_(?:\d|(?<=\d_))|0[xXoObB]|\.\d[\d_]*[eE]"
)
_REFUSED_IF_RE = {
    "&": re.compile(r"(?:^|[\s\[{,])&", re.MULTILINE),
    "!": re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE),
    "?": re.compile(r"(?:^|[\s\[{,])\?(?:\s|$)", re.MULTILINE),
    "=": re.compile(r"(?:^|[\s\[{,])=(?:[\s,\]}]|$)", re.MULTILINE),
}


def _plain_refused(text: str) -> bool:
    if text.startswith(("*", "---", "...", "%")) or any(char in text for char in _REFUSED_CHARS):
        return True
    if _REFUSED_RE.search(text):
        return True
    return any(char in text and pattern.search(text) for char, pattern in _REFUSED_IF_RE.items())


_TOP_KEY_RE = re.compile(r"^(?!#)\S", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PlainFile:
    """A YAML file as plain dicts, lists and scalars (no lines), and `lines`: the line of each item of
    its top-level sequence `key` (a mapping holding only that), else of the top-level mapping."""

    data: Any
    lines: list[int]


def read_plain(path: Path, key: str) -> PlainFile | None:
    """`path` parsed fast into plain containers, with the lines of its top-level items; None when the
    file is anything but plain (see above), over PLAIN_MAX_BYTES, or not a mapping: `read_yaml` reads
    it then, and reports its errors. A plain file gives the values `read_yaml` would."""
    try:
        if path.stat().st_size > PLAIN_MAX_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if _plain_refused(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # whatever it refuses, read_yaml reads again and explains
        return None
    if type(data) is not dict or not data:
        return None
    items = data.get(key)
    if len(data) == 1 and type(items) is list and items:
        lines = _item_lines(text, key, items)
    else:
        first = _TOP_KEY_RE.search(text)
        lines = (
            [text.count("\n", 0, first.start()) + 1] if first and _starts_with_key(text, first.start(), data) else None
        )
    return PlainFile(data, lines) if lines is not None else None


def _starts_with_key(text: str, at: int, mapping: dict[Any, Any]) -> bool:
    """Does the mapping's first key, as a plain word, start `text` at `at` (its line, then)?"""
    first = next(iter(mapping))
    return type(first) is str and text.startswith(f"{first}:", at)


def _item_lines(text: str, key: str, items: list[Any]) -> list[int] | None:
    """The line of each item of the block sequence under the top-level `key:` line: the lines that
    start with "- " and the item's first key, at the first item's indent (a line at that indent
    can be nothing else in a block sequence; a count that differs means the layout is another)."""
    head = re.search(rf"^{re.escape(key)}:[ ]*(?:#.*)?$", text, re.MULTILINE)
    if head is None:
        return None
    first = re.compile(r"^( *)- ", re.MULTILINE).search(text, head.end())
    if first is None:
        return None
    starts = [m.start() for m in re.compile(rf"^{first.group(1)}- ", re.MULTILINE).finditer(text, head.end())]
    if len(starts) != len(items):
        return None
    lines: list[int] = []
    line, at = 1, 0
    width = len(first.group(1)) + 2
    for start, item in zip(starts, items, strict=True):
        if type(item) is not dict or not item or not _starts_with_key(text, start + width, item):
            return None
        line += text.count("\n", at, start)
        at = start
        lines.append(line)
    return lines


# The item reader ---------------------------------------------------------------------------------

# A file that is only `KEY:` and a block sequence under it: comment or blank lines, the key's line,
# comment or blank lines, then the first item's "- " (the group: the sequence's indent).
_SKIPPED_LINES = rb"(?:[ ]*(?:#[^\n]*)?\n)*"
# Items are parsed this many at a time: a big file is never held whole as nodes.
ITEMS_PER_PARSE = 500


@dataclass(frozen=True, slots=True)
class PlainItems:
    """A file of plain YAML that is one top-level key and a block sequence under it, cut into the
    texts of its items: each item starts at a line "- " at the sequence's indent and runs to the next
    (a line at that indent can be nothing else in a block sequence). Its items are parsed by yaml-rs
    a few hundred at a time, and only those asked for (`parse`): a reload parses only the items whose
    text changed (`keys`). An item is parsed standalone as it would be in the file; whatever the
    plain reader refuses, or any line at or left of the dashes that is neither an item's start nor a
    comment, and the items are not taken (`parse` gives None: read the file another way)."""

    raw: bytes
    starts: list[int]  # where each item's text starts, then where the last one ends
    lines: list[int]  # the line of each item
    width: int  # of each item's "- " with the indent before it

    def __len__(self) -> int:
        return len(self.lines)

    def text(self, index: int) -> bytes:
        return self.raw[self.starts[index] : self.starts[index + 1]]

    def keys(self) -> list[int]:
        """A hash of each item's text (the same text parses to the same item): Python's hash of the
        bytes, SipHash with a key drawn for the process, so that two texts share one by a chance of
        about 2**-64 (a digest of 16 bytes costs three times as much, at 350,000 items 0.3 s)."""
        raw = self.raw
        return [hash(raw[a:b]) for a, b in itertools.pairwise(self.starts)]

    def parse(self, indices: Sequence[int]) -> list[Any] | None:
        """The items at `indices` (ascending), parsed; None when any of them is not taken."""
        raw, starts = self.raw, self.starts
        if indices[-1] - indices[0] == len(indices) - 1:  # a run of items: one slice
            chunk = raw[starts[indices[0]] : starts[indices[-1] + 1]]
        else:
            chunk = b"".join([raw[starts[i] : starts[i + 1]] for i in indices])
        if _outdented_line(self.width - 2).search(chunk):
            return None
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if _plain_refused(text):
            return None
        # The items are followed by another, as in the file: what ends an item's block scalar there (at
        # the end of a text, yaml-rs reads an empty block scalar as a line break, ruamel.yaml as empty).
        ended = text.endswith("\n")
        if ended:
            text += " " * (self.width - 2) + "- _\n"
        try:
            items: Any = yaml_rs.loads(text, parse_datetime=False)
        except Exception:  # whatever it refuses, read_yaml reads again and explains
            return None
        if type(items) is not list or len(items) != len(indices) + ended or (ended and items.pop() != "_"):
            return None
        for i, item in zip(indices, items, strict=True):
            # Its first key right after its dash: the item starts where it was cut.
            if type(item) is not dict or not item or type(first := next(iter(item))) is not str:
                return None
            if not raw.startswith(f"{first}:".encode(), starts[i] + self.width):
                return None
        return items


@functools.cache
def _outdented_line(indent: int) -> re.Pattern[bytes]:
    """A line at or left of a sequence's dashes (at `indent`) that is neither a dash and a space there,
    a comment nor blank: where the sequence would end, or an item would not be where it is cut."""
    if indent == 0:
        return re.compile(rb"\n(?:[^ \n#-]|-[^ ])")
    return re.compile(rb"\n(?: {0,%d}[^ \n#]| {%d}(?:[^ \n#-]|-[^ ]))" % (indent - 1, indent))


def plain_items(path: Path, key: str, raw: bytes | None = None) -> PlainItems | None:
    """`path` (its bytes `raw`, if they were read) cut into the items of its top-level block sequence
    `key`, when that is all the file is (see PlainItems); None otherwise, or when it cannot be read
    (`read_yaml` reports that)."""
    if raw is None:
        try:
            if path.stat().st_size > MAX_YAML_BYTES:
                return None
            raw = path.read_bytes()
        except OSError:
            return None
    head = re.compile(
        rb"%s%s:(?:[ ]+#[^\n]*)?[ ]*\n%s( *)- " % (_SKIPPED_LINES, re.escape(key.encode()), _SKIPPED_LINES)
    )
    found = head.match(raw)
    if found is None:
        return None
    dash = found.group(1) + b"- "
    first = found.end() - len(dash)
    try:
        if _plain_refused(raw[:first].decode("utf-8")):
            return None
    except UnicodeDecodeError:
        return None
    starts = [first, *(m.start() + 1 for m in re.compile(re.escape(b"\n" + dash)).finditer(raw, first))]
    lines: list[int] = []
    line, at = 1, 0
    count = raw.count
    for start in starts:
        line += count(b"\n", at, start)
        at = start
        lines.append(line)
    starts.append(len(raw))
    return PlainItems(raw, starts, lines, len(dash))


# The careful reader (ruamel.yaml) -----------------------------------------------------------------


def _read_ruamel(text: str, path: Path, errors: ErrorList, stream: Stream | None) -> Any:
    """Parse with ruamel.yaml's round-trip loader (safe: it builds no arbitrary objects), which
    keeps line numbers and explains syntax errors well."""
    try:
        data = YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        hint = _syntax_hint(text, exc)
        if hint is not None:
            line, likely = hint
            message += f" ({likely})"
        errors.add(path, line, message)
        return None
    except YAMLError as exc:
        errors.add(path, 1, f"invalid YAML: {str(exc).splitlines()[0]}")
        return None
    converted = _converted(data)
    if stream is not None and isinstance(converted, YamlMap) and isinstance(converted.get(stream.key), YamlList):
        items: YamlList = converted[stream.key]
        for i, item in enumerate(items):
            stream.each(item, items.lines[i])
            items[i] = None
    return converted


def _converted(value: Any) -> Any:
    """ruamel.yaml's containers as YamlMap / YamlList, with their lines."""
    if isinstance(value, CommentedMap):
        out = YamlMap(value.lc.line + 1)
        for key, item in value.items():
            out[key] = _converted(item)
            out.lines[key] = value.lc.key(key)[0] + 1
        return out
    if isinstance(value, CommentedSeq):
        seq = YamlList(value.lc.line + 1)
        for i, item in enumerate(value):
            seq.append(_converted(item))
            seq.lines.append(value.lc.item(i)[0] + 1)
        return seq
    return value


def _comment_inside_brackets(lines: list[str]) -> int | None:
    """The 1-based line of the first comment that starts inside an open [ or {, if any."""
    depth = 0
    for number, line in enumerate(lines, 1):
        quote = ""
        for i, ch in enumerate(line):
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            elif ch == "#" and (i == 0 or line[i - 1].isspace()):
                if depth:
                    return number
                break
    return None


def _syntax_hint(text: str, exc: MarkedYAMLError) -> tuple[int, str] | None:
    """What is likely wrong, and on which line, for the mistakes people make most in rule files."""
    problem = exc.problem or ""
    lines = text.splitlines()
    if "\t" in problem or "'\\t'" in problem:
        return exc.problem_mark.line + 1 if exc.problem_mark else 1, "a tab: indent with spaces, not tabs"
    context = exc.context or ""
    if "quoted scalar" in context and exc.context_mark is not None:
        return exc.context_mark.line + 1, "a quote opened on this line is never closed"
    if "flow" in context and exc.problem_mark is not None:
        comment = _comment_inside_brackets(lines[: exc.problem_mark.line + 1])
        if comment is not None:
            return comment, "an unquoted '#' inside [...] or {...} starts a comment: quote the term, as '#tag'"
        if exc.context_mark is not None:
            return exc.context_mark.line + 1, "a list or mapping in [...] or {...} is not closed as written"
    return None


# Reading parsed files ------------------------------------------------------------------------------


def line_of(container: Any, key: Any = None) -> int:
    """1-based line of `container[key]` (or of the container itself); 0 when unknown."""
    if type(container) is YamlMap and key is not None:
        return container.lines.get(key, container.line)  # the commonest call, first
    if isinstance(container, YamlMap):
        return container.line if key is None else container.lines.get(key, container.line)
    if isinstance(container, YamlList):
        if key is None or not isinstance(key, int) or not 0 <= key < len(container.lines):
            return container.line
        return container.lines[key]
    # A value built in code (not parsed) has no position.
    return 0


def unknown_keys(mapping: dict[Any, Any], allowed: set[str], what: str) -> Iterator[tuple[int, str]]:
    """(line, message) for every key of `mapping` not in `allowed`: a typo must not pass silently."""
    expected = ", ".join(sorted(allowed))
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.7)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield line_of(mapping, key), f"unknown key {key!r} in {what} ({hint}expected one of: {expected})"


# Editing files that people wrote -----------------------------------------------------------------


@dataclass(slots=True)
class RoundTrip:
    """A YAML file loaded for editing: `data` is ruamel.yaml's round-trip tree (comments, order, quoting
    and flow style kept), `dumps()` writes it back indented as the file was."""

    data: Any
    yaml: YAML

    def dumps(self) -> str:
        buffer = io.StringIO()
        self.yaml.dump(self.data, buffer)
        return buffer.getvalue()


def round_trip(text: str) -> RoundTrip:
    """Load `text` for editing (MarkedYAMLError/YAMLError when it is no YAML: read it with read_yaml
    first for the located error). An empty text is an empty mapping."""
    _, indent, block_seq_indent = load_yaml_guess_indent(text) if text.strip() else (None, 2, 0)
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line (a URL) that the file had on one line
    # The guess is the indent of a sequence's items and how far their dash sits in it ("  - url:": 4, 2).
    sequence = indent or 2
    offset = block_seq_indent or 0
    yaml.indent(mapping=max(sequence - offset, 2), sequence=max(sequence, offset + 2), offset=offset)
    data = yaml.load(text) if text.strip() else CommentedMap()
    return RoundTrip(data if data is not None else CommentedMap(), yaml)


def replace_file(path: Path, text: str, check: Callable[[Path], None] | None = None) -> None:
    """Write `text` to `path` all at once: a temporary file beside it, then a rename (a reader, or a
    crash half-way, sees the old file or the new one, never half of one). The file's mode is kept.
    `check` is called with the temporary file before the rename: what it raises leaves `path` as it was."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)  # mkstemp's file is private (0600): a new file gets the usual mode
        if check is not None:
            check(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
