"""YAML files that people write (rules, lists, rule tests, config): parsed safely, errors located by line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError


@dataclass(slots=True)
class ErrorList:
    """Errors collected while validating, each as `FILE:LINE: message`."""

    items: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, message: str) -> None:
        self.items.append(f"{path}:{line}: {message}")


def read_yaml(path: Path, errors: ErrorList) -> Any:
    """Parse one YAML file; report unreadable files and syntax errors with their line.

    The round-trip loader builds no arbitrary objects (it is safe) and keeps line numbers.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        errors.add(path, 0, f"cannot read file: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.add(path, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text")
        return None
    try:
        return YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        hint = _syntax_hint(text, exc)
        if hint is not None:
            line, likely = hint
            message += f" ({likely})"
        errors.add(path, line, message)
    except YAMLError as exc:
        errors.add(path, 1, f"invalid YAML: {str(exc).splitlines()[0]}")
    return None


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


def line_of(container: Any, key: Any = None) -> int:
    """1-based line of `container[key]` (or of the container itself); 0 when unknown."""
    lc = getattr(container, "lc", None)
    if lc is None:
        return 0
    try:
        if key is None:
            position = lc.line
        elif isinstance(container, CommentedSeq):
            position = lc.item(key)[0]
        else:
            position = lc.key(key)[0]
    except (KeyError, IndexError, TypeError):
        position = lc.line
    # A mapping built in code (not parsed) has no position.
    return int(position) + 1 if position is not None else 0


def unknown_keys(mapping: CommentedMap, allowed: set[str], what: str) -> Iterator[tuple[int, str]]:
    """(line, message) for every key of `mapping` not in `allowed`: a typo must not pass silently."""
    expected = ", ".join(sorted(allowed))
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.7)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield line_of(mapping, key), f"unknown key {key!r} in {what} ({hint}expected one of: {expected})"
