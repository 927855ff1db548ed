"""Rule tests (`monitor rules test`): inputs and the exact set of rules each must match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import RuleLoadError
from monitor.ingest.files import Problem, read_documents
from monitor.rules.loader import load_rules, yaml_files
from monitor.rules.matcher import Match, Matcher
from monitor.yamlfile import ErrorList, YamlList, YamlMap, line_of, read_yaml, unknown_keys

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


def _ids(value: object, container: YamlMap, key: str, errors: ErrorList, path: Path) -> frozenset[str] | None:
    if isinstance(value, str):
        value = [value]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(path, line_of(container, key), f"{key!r} must be a list of rule ids")
        return None
    return frozenset(value)


def default_rules_dir(path: Path) -> Path:
    """The rules a test file tests when it names none: the directory holding its `tests/` folder
    (`rules/tests/corpus/en.yaml` tests `rules/`), else the parent of the file's folder."""
    for parent in path.parents:
        if parent.name == "tests":
            return parent.parent
    return path.parent.parent


def find_test_files(target: Path) -> list[Path]:
    """The rule-test files `monitor rules test TARGET` runs: a file itself; for a directory, the
    test files under its `tests/` folder if it has one (a rules directory), else under it."""
    if not target.is_dir():
        return [target]
    folder = target / "tests" if (target / "tests").is_dir() else target
    return [p for p in yaml_files(folder) if _looks_like_test_file(p)]


def _looks_like_test_file(path: Path) -> bool:
    """Rule files and lists can sit beside tests in a corpus folder: only files with `cases` count."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # reported when it is read
    return any(line.startswith("cases:") for line in head.splitlines())


def load_cases(path: Path) -> tuple[Path, list[Case], list[str]]:
    """Parse a rule-test file: its rules directory, its cases, and every error found."""
    errors = ErrorList()
    data = read_yaml(path, errors)
    rules_dir = default_rules_dir(path)
    cases: list[Case] = []
    if errors.items:
        return rules_dir, cases, errors.items
    if not isinstance(data, YamlMap):
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
    if not isinstance(items, YamlList) or not items:
        errors.add(path, line_of(data, "cases") if "cases" in data else 1, "'cases' must be a non-empty list")
        return rules_dir, cases, errors.items
    for i, item in enumerate(items):
        line = line_of(items, i)
        if not isinstance(item, YamlMap):
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


def run_test_file(
    path: Path,
    matchers: dict[Path, Matcher] | None = None,
    rules_dir: Path | None = None,
    on_case: Callable[[], object] | None = None,
) -> FileResult:
    """Run every case of one rule-test file against the rules it names (or `rules_dir`); `on_case` is
    called after each case (a progress bar)."""
    result = FileResult(path)
    named_dir, cases, errors = load_cases(path)
    rules_dir = rules_dir if rules_dir is not None else named_dir
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
        if on_case is not None:
            on_case()
    return result


@dataclass(slots=True)
class RuleScore:
    """How one rule did over labelled cases: true and false positives and negatives."""

    rule: str
    cases: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def score(results: list[FileResult], rule_ids: set[str] | None = None) -> dict[str, RuleScore]:
    """Per rule, over every case that could be read: a case labelled with the rule in `match` is a
    positive, any other a negative; a match is predicted positive."""
    ids = set(rule_ids or ())
    for result in results:
        for outcome in result.cases:
            ids |= outcome.case.match | set(outcome.got)
    scores = {rule: RuleScore(rule) for rule in sorted(ids)}
    for result in results:
        for outcome in result.cases:
            if not outcome.documents:
                continue
            where = f"{result.path}:{outcome.case.line}"
            for rule, entry in scores.items():
                expected, got = rule in outcome.case.match, rule in outcome.got
                entry.cases += 1
                if expected and got:
                    entry.tp += 1
                elif got:
                    entry.fp += 1
                    entry.failures.append(f"false positive: {where}: {outcome.case.input}")
                elif expected:
                    entry.fn += 1
                    entry.failures.append(f"false negative: {where}: {outcome.case.input}")
    return scores
