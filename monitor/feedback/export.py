"""The loop back to the rules: "not relevant" marks as labelled cases for `monitor rules test`.

Each rejected article is written as a recorded item (`.jsonl`, read back exactly as the rule saw
it) and becomes a case saying the rules it was rejected for must not match it. The other rules'
matches at export time are written as its `match` (rule tests name the exact set), so the case
fails while a rejected rule still matches, and passes once the rule is fixed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.document import Document
from monitor.rules.matcher import Matcher
from monitor.store.feedback import Mark


@dataclass(slots=True)
class Rejected:
    """One article and every rule it was marked not relevant for."""

    article: Document
    rules: set[str] = field(default_factory=set)
    marks: list[Mark] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Exported:
    """What an export wrote: the test file, the article files, and how many cases."""

    test_file: Path
    inputs: tuple[Path, ...]
    cases: int


def rejected_articles(marks: Sequence[Mark]) -> list[Rejected]:
    """The marked articles, each once with all its rejected rules, in the order they were first marked.

    Marks whose article cannot be read back (a record from an older version) are left out.
    """
    found: dict[str, Rejected] = {}
    for mark in marks:
        try:
            article = Document.from_record(dict(mark.article))
        except (ValueError, TypeError):
            continue
        entry = found.setdefault(article.id, Rejected(article))
        entry.rules.add(mark.rule)
        entry.marks.append(mark)
    return list(found.values())


def _comment(text: str) -> str:
    return " ".join(text.split())[:160]


def _who(marks: Sequence[Mark]) -> str:
    names = sorted({name or user for mark in marks for user, name in mark.by.items()})
    day = datetime.fromtimestamp(min(m.at for m in marks), UTC).date().isoformat()
    return f"marked not relevant by {', '.join(names)} on {day} in {', '.join(sorted({m.channel for m in marks}))}"


def export_cases(rejected: Sequence[Rejected], test_file: Path, rules_dir: Path, matcher: Matcher) -> Exported:
    """Write the articles beside `test_file` (in a directory named after it) and the cases into it.

    Args:
        rejected: the articles and the rules they were rejected for.
        test_file: the rule-test file to write (`rules/tests/feedback.yaml`); replaced whole.
        rules_dir: the rules the cases are for (written into the file unless it is the default,
            the parent of the test file's directory).
        matcher: those rules, compiled: what the other rules match goes into each case's `match`.
    """
    inputs_dir = test_file.parent / test_file.stem
    lines = [
        '# Articles subscribers marked "Not relevant" in Slack, written by `monitor rules feedback export`.',
        "# Each case: the rules in `not` must not match the article; `match` is what the other rules matched",
        "# when it was exported. Run: monitor rules test " + str(test_file),
    ]
    if rules_dir.resolve() != test_file.parent.parent.resolve():
        lines.append(f"rules: {json.dumps(_relative(rules_dir, test_file.parent))}")
    lines.append("cases:")
    known = {rule.id for rule in matcher.rules}
    written: list[Path] = []
    for entry in rejected:
        not_ = sorted(entry.rules & known)
        if not not_:
            continue  # every rule it was rejected for is gone: nothing left to test
        inputs_dir.mkdir(parents=True, exist_ok=True)
        path = inputs_dir / f"{entry.article.id}.jsonl"
        record = json.dumps(entry.article.to_record(), ensure_ascii=False, separators=(",", ":"))
        path.write_text(record + "\n", encoding="utf-8")
        written.append(path)
        others = sorted({m.rule.id for m in matcher.match(entry.article)} - entry.rules)
        lines += [
            f"  # {_comment(entry.article.title)}",
            f"  # {_comment(entry.article.url or '(no URL)')}: {_who(entry.marks)}",
            f"  - input: {json.dumps(f'{inputs_dir.name}/{path.name}')}",
            f"    match: {json.dumps(others)}",
            f"    not: {json.dumps(not_)}",
        ]
    if written:  # a test file with no case is an error to `monitor rules test`: none is written
        test_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Exported(test_file, tuple(written), len(written))


def _relative(target: Path, start: Path) -> str:
    return os.path.relpath(target.resolve(), start.resolve())
