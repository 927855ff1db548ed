"""The analyst's workbench: scores per rule over labelled corpora, `rules test DIR`, `replay --why`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.testing import find_test_files, run_test_file, score
from monitor.rules.why import explain
from tests.conftest import RULES, doc

WriteRules = Callable[[dict[str, str]], Path]

RULES_AND_CORPUS = {
    "putin.yaml": "id: putin\ntitle: Putin\nwhen: {term: Putin, forms: true}\n",
    "envoy.yaml": "id: envoy\ntitle: Envoy\nwhen:\n  near: [appoint*, special envoy]\n  within: 4\n",
    "tests/corpus/labels.yaml": """\
        cases:
          - input: articles/a.txt
            match: [putin]
          - input: articles/b.txt
            match: [putin, envoy]
          - input: articles/c.txt
            match: [envoy]
            not: [putin]
          - input: articles/d.txt
            match: []
        """,
    "tests/corpus/articles/a.txt": "---\ntitle: Putins Rede\nlanguage: de\n---\nDie Rede war lang.\n",
    "tests/corpus/articles/b.txt": "Putin\nMoscow will appoint a special envoy.\n",
    "tests/corpus/articles/c.txt": "Envoy\nThey appointed, after months, a new special envoy.\n",
    "tests/corpus/articles/d.txt": "Nothing\nPutin was not named; a special envoy was.\n",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_scores_count_true_and_false_positives_and_negatives(write_rules: WriteRules) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    results = [run_test_file(p) for p in find_test_files(directory)]
    scores = score(results)
    putin, envoy = scores["putin"], scores["envoy"]
    # d.txt mentions Putin: a false positive of "putin"; in c.txt the envoy is 5 words from "appointed".
    assert (putin.cases, putin.tp, putin.fp, putin.fn) == (4, 2, 1, 0)
    assert (envoy.tp, envoy.fp, envoy.fn) == (1, 0, 1)
    assert putin.precision == 2 / 3 and putin.recall == 1.0
    assert envoy.precision == 1.0 and envoy.recall == 0.5
    assert any("d.txt" in f and f.startswith("false positive") for f in putin.failures)


def test_a_test_file_deep_in_tests_tests_the_rules_above_it(write_rules: WriteRules) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    result = run_test_file(directory / "tests" / "corpus" / "labels.yaml")
    assert result.errors == []
    assert len(result.cases) == 4


def test_rules_test_on_a_rules_directory_prints_scores_and_fails(write_rules: WriteRules) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    code, output = run("rules", "test", str(directory))
    assert code == 1
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("RULE"))
    assert lines[header + 1].split() == ["envoy", "4", "2", "1", "0", "1", "1.00", "0.50"]
    assert lines[header + 2].split() == ["putin", "4", "2", "2", "1", "0", "0.67", "1.00"]
    assert "false negative" in output and "c.txt" in output
    assert output.rstrip().endswith("4 cases: 2 passed, 2 failed: FAILED")


def test_rules_test_with_another_rules_directory(write_rules: WriteRules, tmp_path: Path) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    other = tmp_path / "other"
    other.mkdir()
    (other / "putin.yaml").write_text("id: putin\ntitle: P\nwhen: Putins\n", encoding="utf-8")
    (other / "envoy.yaml").write_text("id: envoy\ntitle: E\nwhen: special envoy\n", encoding="utf-8")
    code, output = run("rules", "test", "--rules", str(other), str(directory / "tests" / "corpus"))
    assert code == 1
    assert "putin  " in output and "4 cases:" in output


def test_the_shipped_rules_directory_runs_its_tests() -> None:
    code, output = run("rules", "test", str(RULES))
    assert code == 0, output
    assert output.rstrip().endswith(": OK")


def test_a_missing_target_is_a_usage_error(tmp_path: Path) -> None:
    code, output = run("rules", "test", str(tmp_path / "nope"))
    assert code == 2
    assert "no such file or directory" in output


def test_why_names_the_condition_that_failed_and_the_nearest_hits(write_rules: WriteRules) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    matcher = Matcher(load_rules(directory).rules)
    text = "They appointed, after months, a new special envoy."
    why = explain(matcher, "envoy", doc(text))
    assert not why.matched
    lines = "\n".join(why.lines())
    assert "near, within 4 words: the nearest hits are 5 words apart" in lines
    assert "'appointed' (text, word 2)" in lines


def test_why_names_an_absent_term_and_a_language_filter(write_rules: WriteRules) -> None:
    directory = write_rules({"r.yaml": "id: r\ntitle: R\nwhen: {all: [Putin, Macron]}\nfilters:\n  languages: [fr]\n"})
    matcher = Matcher(load_rules(directory).rules)
    why = explain(matcher, "r", doc("Putin spoke.", language="en"))
    lines = why.lines()
    assert "the rule wants languages fr; the article is in en" in "\n".join(lines)
    assert any(line.strip() == "NO  'Macron': not found" for line in lines)
    assert any(line.strip().startswith("yes 'Putin': found: 'Putin'") for line in lines)


def test_why_on_a_sentence_condition_says_it_held_in_no_single_sentence(write_rules: WriteRules) -> None:
    directory = write_rules({"r.yaml": "id: r\ntitle: R\nwhen:\n  sentence: {all: [Putin, Macron]}\n"})
    matcher = Matcher(load_rules(directory).rules)
    lines = explain(matcher, "r", doc("Putin spoke. Macron listened.")).lines()
    assert "but in no single sentence" in "\n".join(lines)


def test_replay_why_and_json_hits_show_the_words_as_written(write_rules: WriteRules, tmp_path: Path) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    article = directory / "tests" / "corpus" / "articles" / "a.txt"
    code, output = run("replay", "--rules", str(directory), "--why", "putin", str(article))
    assert code == 0, output
    assert "putin matched (language: de)" in output
    assert "'Putins' (title, word 1)" in output
    code, output = run("replay", "--rules", str(directory), "--format", "json", str(article))
    line = json.loads(output.splitlines()[0])
    assert line["matches"][0]["hits"][0] == {"term": "Putin", "field": "title", "start": 0, "end": 6, "text": "Putins"}


def test_replay_why_an_unknown_rule_is_a_usage_error(write_rules: WriteRules) -> None:
    directory = write_rules(RULES_AND_CORPUS)
    code, output = run("replay", "--rules", str(directory), "--why", "nope", str(directory))
    assert code == 2
    assert "no enabled rule with that id" in output
