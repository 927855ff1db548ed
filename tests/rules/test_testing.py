"""Rule tests (monitor rules test): exact sets of rules per input, located errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from monitor.rules.testing import run_test_file
from tests.conftest import RULES, SEEDS

WriteRules = Callable[[dict[str, str]], Path]

TWO_RULES = {
    "putin.yaml": "id: putin\ntitle: Putin\nwhen: Putin\n",
    "envoy.yaml": "id: envoy\ntitle: Envoy\nwhen: special envoy\n",
}


def test_shipped_seed_expectations_hold() -> None:
    result = run_test_file(RULES / "tests" / "seeds.yaml")
    assert result.errors == []
    assert len(result.cases) == 5
    assert all(c.passed for c in result.cases), [(c.case.input, sorted(c.got)) for c in result.cases]


def test_a_case_passes_only_on_the_exact_set(write_rules: WriteRules) -> None:
    directory = write_rules(
        {
            **TWO_RULES,
            "tests/t.yaml": """\
                cases:
                  - input: ../../a.txt
                    match: [putin]
                  - input: ../../a.txt
                    match: [putin, envoy]
                  - input: ../../a.txt
                    match: []
                """,
        }
    )
    (directory.parent / "a.txt").write_text("Title\nPutin spoke.\n", encoding="utf-8")
    result = run_test_file(directory / "tests" / "t.yaml")
    assert [c.passed for c in result.cases] == [True, False, False]
    assert [c.case.line for c in result.cases] == [2, 4, 6]
    assert not result.passed


def test_not_fails_a_case_that_matches_a_forbidden_rule(write_rules: WriteRules) -> None:
    directory = write_rules(
        {
            **TWO_RULES,
            "tests/t.yaml": "cases:\n  - input: ../../a.txt\n    match: [putin]\n    not: [envoy]\n",
        }
    )
    (directory.parent / "a.txt").write_text("Title\nPutin's special envoy.\n", encoding="utf-8")
    (case,) = run_test_file(directory / "tests" / "t.yaml").cases
    assert not case.passed and set(case.got) == {"putin", "envoy"}


def test_a_feed_input_matches_the_union_of_its_entries(write_rules: WriteRules) -> None:
    directory = write_rules(
        {**TWO_RULES, "tests/t.yaml": "cases:\n  - input: ../../feed.rss\n    match: [putin, envoy]\n"}
    )
    (directory.parent / "feed.rss").write_text(
        """<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>
        <item><title>One</title><link>https://example.org/1</link><description>Putin spoke.</description></item>
        <item><title>Two</title><link>https://example.org/2</link><description>A special envoy.</description></item>
        </channel></rss>""",
        encoding="utf-8",
    )
    (case,) = run_test_file(directory / "tests" / "t.yaml").cases
    assert case.documents == 2 and case.passed


def test_rules_key_points_at_another_directory(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "elsewhere")
    test_file = tmp_path / "t.yaml"
    seed = SEEDS / "002_0ce464d2b3789fd5.txt"
    test_file.write_text(f"rules: elsewhere\ncases:\n  - input: {seed}\n    match: [macron-putin-dialogue]\n")
    result = run_test_file(test_file)
    assert result.errors == [] and result.passed


def test_a_rules_key_naming_no_directory_is_an_error_at_its_line(tmp_path: Path) -> None:
    test_file = tmp_path / "t.yaml"
    test_file.write_text(f"cases:\n  - input: {SEEDS / '002_0ce464d2b3789fd5.txt'}\n    match: []\nrules: nowhere\n")
    result = run_test_file(test_file)
    assert result.errors == [f"{test_file}:4: rules directory not found: {tmp_path / 'nowhere'}"]
    assert not result.passed


def test_errors_are_located(write_rules: WriteRules) -> None:
    directory = write_rules(
        {
            **TWO_RULES,
            "tests/t.yaml": """\
                cases:
                  - input: ../../a.txt
                    match: [putin, nobody]
                  - match: [putin]
                  - input: ../../a.txt
                    match: [putin]
                    expect: [envoy]
                """,
        }
    )
    (directory.parent / "a.txt").write_text("Title\nPutin\n", encoding="utf-8")
    path = directory / "tests" / "t.yaml"
    result = run_test_file(path)
    assert result.errors == [
        f"{path}:4: a case needs 'input': a file path relative to this file",
        f"{path}:7: unknown key 'expect' in a case (expected one of: input, match, not)",
    ]
    assert not result.passed


def test_unknown_rule_ids_are_errors(write_rules: WriteRules) -> None:
    directory = write_rules({**TWO_RULES, "tests/t.yaml": "cases:\n  - input: ../../a.txt\n    match: [nobody]\n"})
    (directory.parent / "a.txt").write_text("Title\nPutin\n", encoding="utf-8")
    path = directory / "tests" / "t.yaml"
    assert run_test_file(path).errors == [f"{path}:2: unknown rule ids: nobody"]


def test_a_missing_input_fails_its_case(write_rules: WriteRules) -> None:
    directory = write_rules({**TWO_RULES, "tests/t.yaml": "cases:\n  - input: ../../gone.txt\n    match: []\n"})
    (case,) = run_test_file(directory / "tests" / "t.yaml").cases
    assert not case.passed
    assert [p.message for p in case.problems] == ["no such file or directory"]
