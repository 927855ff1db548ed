"""Version 2 mistakes: each one line, naming the file and line, saying what is likely wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules

WriteRules = Callable[..., Path]
RULE = "id: r\ntitle: R\n"


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory)
    return caught.value.errors


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (RULE + "when: Putin\nfilters:\n  languages: [english]\n", 5, "did you mean 'en'?"),
        (RULE + "when: Putin\nfilters:\n  languages: [Deutsch]\n", 5, "did you mean 'de'?"),
        (RULE + "when: Putin\nfilters:\n  languages: [xx]\n", 5, "'xx' is not an ISO 639-1 language code"),
        (RULE + "when: Putin\nseverty: high\n", 4, "did you mean 'severity'?"),
        (RULE + "when:\n  al: [a, b]\n", 4, "did you mean 'all'?"),
        (RULE + "when: Putin\nfilters:\n  langauges: [en]\n", 5, "did you mean 'languages'?"),
        (RULE + "when:\n  - {term: Putin, forms: [xx]}\n", 4, "'xx' is not an ISO 639-1 language code"),
        (RULE + "when:\n  - {term: Putin, forms: [ja]}\n", 4, "no word forms for 'ja'"),
        (RULE + "when:\n  - {term: Putin, forms: maybe}\n", 4, "'maybe' is not an ISO 639-1 language code"),
        (RULE + "forms: [zu]\nwhen: Putin\n", 3, "no word forms for 'zu'"),
        (RULE + "when:\n  - {term: 'negotiat*', forms: true}\n", 4, "cannot be combined with a '*' wildcard"),
        (RULE + "when:\n  - {term: US, case: true, forms: true}\n", 4, "cannot be combined with 'case: true'"),
        (RULE + "when:\n  - {regex: 'a+b', forms: true}\n", 4, "a regex has no word forms"),
        (RULE + "when: '*ab'\n", 3, "a leading '*' needs at least 3 letters"),
        (RULE + "when: '**abc'\n", 3, "'*' may only begin or end a word"),
        (
            RULE + "when:\n  all:\n    - Putin\n    - sentence: {not: Macron}\n",
            6,
            "the sentence condition has no positive term",
        ),
        (RULE + "when:\n  paragraph: {none: [a]}\n", 4, "the paragraph condition has no positive term"),
        (RULE + "when:\n  lead: {near: [a, b], within: 500}\n", 4, "larger than the lead"),
        (RULE + "scope: [lead]\nwhen: {near: [a, b], within: 500}\n", 3, "larger than the lead"),
        (
            RULE + "when:\n  sentence: Putin\n  all: [Macron]\n",
            4,
            "a sentence or paragraph condition takes no other keys",
        ),
        (RULE + "when: [Putin, Paris: talks]\n", 3, 'quote the term, as "Paris: talks"'),
        (RULE + "scope: [titel]\nwhen: Putin\n", 3, "did you mean 'title'?"),
        (RULE + "lists:\n  people: {terms: [a], form: true}\nwhen: $people\n", 4, "did you mean 'forms'?"),
    ],
)
def test_each_v2_mistake_names_file_and_line(write_rules: WriteRules, content: str, line: int, message: str) -> None:
    directory = write_rules({"bad.yaml": content})
    errors = errors_of(directory)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{directory / 'bad.yaml'}:{line}: "), errors
    assert message in errors[0], errors


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (RULE + "when: [Putin,\n  #ukraine, Kremlin]\n", 4, "an unquoted '#' inside [...]"),
        (RULE + "when: [Putin, Kyiv #tag]\nseverity: high\n", 3, "an unquoted '#' inside [...]"),
        (RULE + "when:\n\t- Putin\n", 4, "a tab: indent with spaces"),
        (RULE + 'when:\n  all: [Putin, "Macron]\n', 4, "a quote opened on this line is never closed"),
    ],
)
def test_yaml_syntax_errors_say_what_is_likely_wrong(
    write_rules: WriteRules, content: str, line: int, message: str
) -> None:
    directory = write_rules({"bad.yaml": content})
    errors = errors_of(directory)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{directory / 'bad.yaml'}:{line}: invalid YAML"), errors
    assert message in errors[0], errors


@pytest.mark.parametrize("codes", ["[en]", "[en, fr, de-AT]", "[pt-BR]", "uk"])
def test_language_codes_load(write_rules: WriteRules, codes: str) -> None:
    directory = write_rules({"ok.yaml": RULE + f"when: Putin\nfilters:\n  languages: {codes}\n"})
    assert load_rules(directory).rules
