"""Rule tests (`monitor rules test`): inputs and the exact set of rules each must match."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.errors import RuleLoadError
from monitor.ingest.files import Problem, read_documents
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Match, Matcher
from monitor.yamlfile import ErrorList, line_of, read_yaml, unknown_keys

TEST_FILE_KEYS = {"rules", "cases"}
CASE_KEYS = {"input", "match", "not"}


@dataclass(frozen=True, slots=True)
class Case:
    input: Path
    match: frozenset[str]
    not_: frozenset[str]
    line: int


@dataclass(slots=True)
class CaseResult:
    case: Case
    got: dict[str, Match] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0

    @property
    def passed(self) -> bool:
        return self.documents > 0 and set(self.got) == self.case.match and not (set(self.got) & self.case.not_)


@dataclass(slots=True)
class FileResult:
    path: Path
    errors: list[str] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.passed for c in self.cases)


def _ids(value: object, container: CommentedMap, key: str, errors: ErrorList, path: Path) -> frozenset[str] | None:
    if isinstance(value, str):
        value = [value]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(path, line_of(container, key), f"{key!r} must be a list of rule ids")
        return None
    return frozenset(value)


def load_cases(path: Path) -> tuple[Path, list[Case], list[str]]:
    """Parse a rule-test file: its rules directory, its cases, and every error found."""
    errors = ErrorList()
    data = read_yaml(path, errors)
    rules_dir = path.parent.parent
    cases: list[Case] = []
    if errors.items:
        return rules_dir, cases, errors.items
    if not isinstance(data, CommentedMap):
        errors.add(path, 1, "a rule test file is a mapping with 'cases' (and optionally 'rules')")
        return rules_dir, cases, errors.items
    for key_line, message in unknown_keys(data, TEST_FILE_KEYS, "a rule test file"):
        errors.add(path, key_line, message)
    if "rules" in data:
        if not isinstance(data["rules"], str):
            errors.add(path, line_of(data, "rules"), "'rules' must be a directory path")
        else:
            rules_dir = path.parent / data["rules"]
            if not rules_dir.is_dir():
                errors.add(path, line_of(data, "rules"), f"rules directory not found: {rules_dir}")
    items = data.get("cases")
    if not isinstance(items, CommentedSeq) or not items:
        errors.add(path, line_of(data, "cases") if "cases" in data else 1, "'cases' must be a non-empty list")
        return rules_dir, cases, errors.items
    for i, item in enumerate(items):
        line = line_of(items, i)
        if not isinstance(item, CommentedMap):
            errors.add(path, line, "a case is a mapping with 'input' and 'match'")
            continue
        for key_line, message in unknown_keys(item, CASE_KEYS, "a case"):
            errors.add(path, key_line, message)
        if not isinstance(item.get("input"), str):
            errors.add(path, line, "a case needs 'input': a file path relative to this file")
            continue
        if "match" not in item:
            errors.add(path, line, "a case needs 'match': the rule ids it must match ([] for none)")
            continue
        match = _ids(item["match"], item, "match", errors, path)
        not_ = _ids(item.get("not"), item, "not", errors, path)
        if match is None or not_ is None:
            continue
        if match & not_:
            errors.add(path, line, f"rules both in 'match' and 'not': {', '.join(sorted(match & not_))}")
            continue
        cases.append(Case(path.parent / item["input"], match, not_, line))
    return rules_dir, cases, errors.items


def run_test_file(path: Path, matchers: dict[Path, Matcher] | None = None) -> FileResult:
    """Run every case of one rule-test file against the rules it names."""
    result = FileResult(path)
    rules_dir, cases, errors = load_cases(path)
    result.errors.extend(errors)
    if errors:
        return result
    cache = matchers if matchers is not None else {}
    key = rules_dir.resolve()
    if key not in cache:
        try:
            cache[key] = Matcher(load_rules(rules_dir).rules)
        except RuleLoadError as exc:
            result.errors.extend(exc.errors)
            return result
    matcher = cache[key]
    known = {r.id for r in matcher.rules}
    for case in cases:
        unknown = (case.match | case.not_) - known
        if unknown:
            result.errors.append(f"{path}:{case.line}: unknown rule ids: {', '.join(sorted(unknown))}")
            continue
        outcome = CaseResult(case)
        for _, doc in read_documents([case.input], outcome.problems.append):
            outcome.documents += 1
            for match in matcher.match(doc):
                outcome.got.setdefault(match.rule.id, match)
        result.cases.append(outcome)
    return result
