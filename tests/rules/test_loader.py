"""Rule loading: every error as FILE:LINE: message, all of them at once, nothing half-loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import monitor.rules.loader as loader_module
from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules, parse_duration
from monitor.rules.model import AllNode, AnyNode, NearNode, NotNode, Term, TermNode
from tests.conftest import RULES

WriteRules = Callable[[dict[str, str]], Path]


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory)
    return caught.value.errors


GOOD = "id: good\ntitle: Good\nwhen: Putin\n"


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("id: r\ntitle: R\nwhen: [Putin\n", 3, "is not closed as written"),
        ("id: r\ntitle: R\nwhen: Putin\nseverity: high\nsevrity: low\n", 5, "unknown key 'sevrity' in a rule"),
        ("id: r\ntitle: R\nwhen:\n  all:\n    - {regex: '(unclosed'}\n", 5, "invalid regex '(unclosed'"),
        ("id: r\ntitle: R\nwhen:\n  - Putin\n  - $leaders\n", 5, "undefined list '$leaders'"),
        ("id: r\ntitle: R\nwhen:\n  not: Putin\n", 3, "no positive term"),
        ("id: r\ntitle: R\nwhen:\n  none: [Putin, Macron]\n", 3, "no positive term"),
        ("id: r\ntitle: R\nwhen: [Putin, {not: Macron}]\n", 3, "can hold through 'not' alone"),
        ("id: r\ntitle: R\nwhen:\n  at_least: 1\n  of: [Putin, {not: Macron}]\n", 3, "no positive term"),
        ("id: r\ntitle: R\nwhen:\n  near: [a, b]\n  within: 0\n", 5, "'within' must be an integer >= 1"),
        ("id: r\ntitle: R\nwhen: Putin\nscope: []\n", 4, "scope is empty"),
        ("id: r\ntitle: R\nwhen: {regex: '(a)\\1'}\n", 3, "invalid regex"),
        ("title: R\nwhen: Putin\n", 1, "missing 'id'"),
        ("id: r\nwhen: Putin\n", 1, "missing 'title'"),
        ("id: r\ntitle: R\n", 1, "missing 'when'"),
        ("id: Bad Id\ntitle: R\nwhen: Putin\n", 1, "invalid id 'Bad Id'"),
        ("id: r\ntitle: R\nseverity: urgent\nwhen: Putin\n", 3, "severity must be one of"),
        ("id: r\ntitle: R\nwhen: Putin\nalert:\n  realert: soon\n", 5, "'realert' must be a duration"),
        ("id: r\ntitle: R\nwhen: Putin\nalert:\n  digest: 0m\n", 5, "'digest' must be a duration such as 1h"),
        ("id: r\ntitle: R\nwhen: Putin\nfilters:\n  max_age: 2 days\n", 5, "'max_age' must be a duration"),
        ("id: r\ntitle: R\nwhen: Putin\nalert:\n  realert: 99999999999999w\n", 5, "'realert' must be a duration"),
        ("id: r\ntitle: R\nwhen: Putin\nfilters:\n  max_age: 522w\n", 5, "'max_age' must be a duration"),
        ("id: r\ntitle: R\nwhen: Putin\nscope: [body]\n", 4, "scope may name only title, text and lead"),
        ("id: r\ntitle: R\nwhen:\n  at_least: 3\n  of: [a, b]\n", 4, "can never hold"),
        ("id: r\ntitle: R\nwhen:\n  near: [a, b]\n", 4, "missing 'within'"),
        ("id: r\ntitle: R\nwhen:\n  near: [a]\n  within: 3\n", 4, "at least two"),
        ("id: r\ntitle: R\nwhen:\n  count: a\n  min: 0\n", 5, "'min' must be an integer >= 1"),
        ("id: r\ntitle: R\nwhen:\n  alll: [a, b]\n", 4, "unknown key 'alll' in a condition"),
        ("id: r\ntitle: R\nwhen:\n  - {term: US, case: yes please}\n", 4, "'case' must be true or false"),
        ("id: r\ntitle: R\nwhen: ne*gotiate\n", 3, "'*' may only begin or end a word"),
        ("id: r\ntitle: R\nwhen: '*'\n", 3, "needs at least one letter"),
        ("id: r\ntitle: R\nwhen: '--'\n", 3, "has no letters or digits"),
        ("id: r\ntitle: R\nwhen: 42\n", 3, "expected a condition"),
        ("", 1, "file is empty"),
        ("rules:\n  - id: a\n    title: A\n    when: x\n  - id: b\n    title: B\n", 5, "missing 'when'"),
    ],
)
def test_each_error_names_file_and_line(write_rules: WriteRules, content: str, line: int, message: str) -> None:
    directory = write_rules({"bad.yaml": content})
    errors = errors_of(directory)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{directory / 'bad.yaml'}:{line}: "), errors
    assert message in errors[0]
    assert "\n" not in errors[0]


def test_duplicate_rule_id_names_both_places(write_rules: WriteRules) -> None:
    directory = write_rules({"a.yaml": GOOD, "b.yaml": "# same id\n" + GOOD})
    errors = errors_of(directory)
    assert errors == [f"{directory / 'b.yaml'}:2: duplicate rule id 'good' (first defined at {directory / 'a.yaml'}:1)"]


def test_every_error_in_every_file_at_once_and_nothing_half_loaded(write_rules: WriteRules) -> None:
    directory = write_rules(
        {
            "a.yaml": "id: a\ntitle: A\nwhen: $nope\ncolour: red\n",
            "b.yaml": "id: b\ntitle: B\nwhen: {regex: '['}\n",
            "c.yaml": GOOD,
            "lists/l.yaml": "leaders: Macron\n",
        }
    )
    errors = errors_of(directory)
    assert [e.split(":", 2)[:2] for e in errors] == [
        [str(directory / "lists/l.yaml"), "1"],
        [str(directory / "a.yaml"), "4"],
        [str(directory / "a.yaml"), "3"],
        [str(directory / "b.yaml"), "3"],
    ]


def test_non_utf8_rule_file(write_rules: WriteRules) -> None:
    directory = write_rules({"good.yaml": GOOD})
    (directory / "latin1.yaml").write_bytes("id: r\ntitle: Élysée\nwhen: x\n".encode("latin-1"))
    errors = errors_of(directory)
    assert errors == [f"{directory / 'latin1.yaml'}:2: not UTF-8 text"]


def test_missing_directory() -> None:
    errors = errors_of(Path("/nonexistent/rules"))
    assert errors == ["/nonexistent/rules:0: rules directory not found"]


def test_a_list_may_not_hold_a_list(write_rules: WriteRules) -> None:
    directory = write_rules({"r.yaml": "id: r\ntitle: R\nlists:\n  a: [x, $b]\n  b: [y]\nwhen: $a\n"})
    errors = errors_of(directory)
    assert len(errors) == 1 and "a list holds terms, not other lists" in errors[0]


def test_shared_list_defined_twice(write_rules: WriteRules) -> None:
    directory = write_rules({"lists/a.yaml": "x: [a]\n", "lists/b.yaml": "x: [b]\n", "r.yaml": GOOD})
    errors = errors_of(directory)
    assert len(errors) == 1 and f"list 'x' is already defined at {directory / 'lists/a.yaml'}:1" in errors[0]


def test_lists_and_tests_are_not_rules(write_rules: WriteRules) -> None:
    directory = write_rules({"lists/l.yaml": "people: [Macron]\n", "tests/t.yaml": "cases: []\n", "sub/r.yaml": GOOD})
    assert [r.id for r in load_rules(directory).rules] == ["good"]


def test_several_rules_in_one_file(write_rules: WriteRules) -> None:
    directory = write_rules(
        {"many.yml": "rules:\n  - id: a\n    title: A\n    when: x\n  - id: b\n    title: B\n    when: y\n"}
    )
    rules = load_rules(directory).rules
    assert [(r.id, r.line) for r in rules] == [("a", 2), ("b", 5)]


def test_a_full_rule_is_loaded_into_its_model(write_rules: WriteRules) -> None:
    directory = write_rules(
        {
            "r.yaml": """\
                id: eu-special-envoy
                title: EU moves to appoint a special envoy to Russia
                description: free text
                severity: high
                tags: [russia, eu]
                enabled: true
                lists:
                  appoint: [appoint*, named]
                when:
                  all:
                    - near: [[special envoy, special representative], $appoint]
                      within: 8
                  not: football
                scope: [title, text]
                filters:
                  sources: {include: [Example.org], exclude: [spam.example]}
                  languages: [EN]
                  max_age: 48h
                alert:
                  channels: ["#russia-watch"]
                  realert: 12h
                  digest: 1h
                """
        }
    )
    (rule,) = load_rules(directory).rules
    assert rule.severity == "high" and rule.tags == ("russia", "eu")
    assert rule.when == AllNode(
        (
            NearNode(
                (
                    (Term("special envoy"), Term("special representative")),
                    (Term("appoint*"), Term("named")),
                ),
                8,
            ),
            NotNode(TermNode(Term("football"))),
        )
    )
    assert rule.filters.sources_include == ("example.org",)
    assert rule.filters.languages == ("en",)
    assert rule.filters.max_age == timedelta(hours=48)
    assert rule.alert.channels == ("#russia-watch",) and rule.alert.realert == timedelta(hours=12)
    assert rule.alert.digest == timedelta(hours=1)


def test_bare_list_and_list_reference_become_any(write_rules: WriteRules) -> None:
    directory = write_rules({"r.yaml": "id: r\ntitle: R\nlists:\n  l: [a, b]\nwhen: [$l, c]\n"})
    (rule,) = load_rules(directory).rules
    assert rule.when == AnyNode((AnyNode((TermNode(Term("a")), TermNode(Term("b")))), TermNode(Term("c"))))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", timedelta(hours=48)),
        ("1h30m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "12", "12x", "soon", "1h and 2m"])
def test_bad_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_shipped_rules_load() -> None:
    ids = {r.id for r in load_rules(RULES).rules}
    assert ids == {"macron-putin-dialogue", "eu-special-envoy", "frozen-russian-assets"}


def test_hidden_files_and_directories_are_not_read(write_rules: WriteRules) -> None:
    # A ConfigMap mounted by Kubernetes keeps a second copy of every file under ..data.
    directory = write_rules({"r.yaml": GOOD, "..2026_11_23/r.yaml": GOOD, ".r.yaml.swp.yaml": "broken: ["})
    assert [r.id for r in load_rules(directory).rules] == ["good"]


# Every shape of the rule language, as rules of one `rules:` file (each item read by the plain
# readers, most of them the short way), with a shared list of word forms.
EVERY_SHAPE = """\
rules:
  - id: words
    title: "  Words  "
    description: Putin and Macron
    severity: high
    tags: energy
    enabled: false
    when: [Putin, "Emmanuel Macron", "sanction*", "*krieg", "l'Élysée", re-engage, $leaders]
  - id: combined
    title: Combined
    tags: [a, b]
    when:
      all:
        - any: [Putin, {term: US, case: true}]
        - none: [Trump, $leaders]
        - not: {term: Biden}
      any: [Kyiv, Kiev]
      not: Moscow
  - id: near
    title: Near
    scope: [title, lead]
    when:
      near: [[Putin, Poutine], $leaders, "*grad*"]
      within: 8
      ordered: true
  - id: units
    title: Units
    when:
      all:
        - sentence: {all: [Putin, {not: Trump}]}
        - paragraph: {near: [talks, Macron], within: 5}
        - title: {any: [Kyiv, $leaders]}
        - lead: "envoy*"
        - text: {count: [sanction, Sanktion], min: 2}
  - id: at-least
    title: At least
    scope: lead
    when:
      at_least: 2
      of: [gas, oil, {term: LNG, case: true}, "pipe*"]
  - id: forms
    title: Forms
    forms: [de, EN]
    lists:
      local: [Gespräch, "Treffen*", {term: G7, case: true}]
      other: [Krieg]
    when:
      all: [verhandeln, $local, $other, $leaders, {term: Frieden}]
    filters:
      languages: [de, en]
      max_age: 1h30m
    alert:
      channels: ["#alerts"]
      realert: 12h
      digest: 1h
  - id: forms-everywhere
    title: Forms everywhere
    forms: true
    when: {any: [run, $leaders]}
    filters: {}
  - id: left-to-the-parser
    title: Left to the parser
    forms: false
    when:
      all:
        - {regex: "Put[iy]n", case: true}
        - {term: talks, forms: fr}
        - $listed
    filters:
      sources: {include: [Example.com], exclude: [.bad.example]}
"""
SHARED_LISTS = "leaders: [Putin, Macron]\nlisted:\n  forms: true\n  terms: [meeting, summit]\n"


def test_rules_read_the_same_by_the_plain_and_the_careful_readers(
    write_rules: WriteRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plain readers read most items the short way; a file they refuse (a '!' in a comment) is
    # read by the careful reader, with lines for every node. Both must give the same rules.
    quick = write_rules({"r.yaml": EVERY_SHAPE, "lists/shared.yaml": SHARED_LISTS})
    careful_parse = loader_module._parse_rule
    left_to_the_parser: list[str] = []

    def parse_rule(data: Any, parser: Any, line: int) -> Any:
        left_to_the_parser.append(data.get("id"))
        return careful_parse(data, parser, line)

    monkeypatch.setattr(loader_module, "_parse_rule", parse_rule)
    loaded = load_rules(quick)
    # Only the rule of a shape the short reader leaves (a regex, forms on one term, source filters) was parsed
    # the careful way: the others were read the short way, and must come out the same.
    assert left_to_the_parser == ["left-to-the-parser"]
    monkeypatch.undo()
    (quick / "r.yaml").write_text("# ! (a tag) sends it to the careful reader\n" + EVERY_SHAPE, encoding="utf-8")
    careful = load_rules(quick)
    assert len(loaded.rules) == 8
    assert [replace(r, line=r.line + 1) for r in loaded.rules] == list(careful.rules)
    assert {p: f.lists for p, f in loaded.files.items()} == {p: f.lists for p, f in careful.files.items()}
    forms = loaded.rules[5]
    assert forms.filters.languages == ("de", "en") and forms.alert.realert == timedelta(hours=12)
