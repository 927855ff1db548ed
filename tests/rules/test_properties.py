"""Properties over arbitrary Unicode: folding is idempotent, matching never raises, hits point at the term."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.model import Rule, Term, TermNode
from monitor.rules.text import WordStream, fold, fold_for_matching, fold_offsets, words_of
from tests.conftest import doc

texts = st.text(st.characters(codec="utf-8"), max_size=300)
# Words drawn from letters of many scripts, plus accents, apostrophes and hyphens between them.
words = st.text(st.characters(categories=["L", "Nd"]), min_size=1, max_size=8)

EVERY_NODE = """\
id: every-node
title: Every kind of node
lists:
  envoy: [special envoy*, special representative]
when:
  all:
    - any: [Macron, Élysée, {term: EU, case: true}, {regex: 'package \\d+'}, re-engage]
    - at_least: 1
      of: [{near: [$envoy, appoint*], within: 4}, {count: Putin, min: 2}, {title: talks}]
  none: [football]
"""


@pytest.fixture(scope="module")
def every_node_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "r.yaml").write_text(EVERY_NODE, encoding="utf-8")
    return Matcher(load_rules(directory).rules)


@given(texts)
def test_folding_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert fold(fold(text, casefold=False), casefold=False) == fold(text, casefold=False)


@given(texts)
def test_offsets_map_every_folded_character_back(text: str) -> None:
    folded, moved = fold_for_matching(text)
    assert folded == fold(text)
    offsets = fold_offsets(text)
    assert len(offsets) == len(folded)
    assert offsets == sorted(offsets) and all(0 <= o < len(text) for o in offsets)
    if not moved:
        assert offsets == list(range(len(text)))


@given(texts, texts)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_matching_arbitrary_text_never_raises(every_node_matcher: Matcher, title: str, text: str) -> None:
    for match in every_node_matcher.match(doc(text, title)):
        for hit in match.hits:
            source = title if hit.field == "title" else text
            assert 0 <= hit.start < hit.end <= len(source)


@given(st.lists(words, min_size=1, max_size=3), texts, texts)
@settings(max_examples=60, deadline=None)
def test_a_phrase_always_matches_a_text_that_contains_it(phrase_words: list[str], before: str, after: str) -> None:
    phrase = " ".join(phrase_words)
    text = f"{before} {phrase} {after}"
    expected = words_of(phrase)
    skip = len(words_of(before))
    # Only clean occurrences: the surroundings must not glue onto the phrase's words.
    assume(expected and words_of(text)[skip : skip + len(expected)] == expected)
    matcher = Matcher([Rule(id="r", title="R", when=TermNode(Term(phrase)))])
    found = matcher.match(doc(text))
    assert found, (phrase, text)
    assert any(words_of(text[h.start : h.end]) == expected for h in found[0].hits)


@given(st.text(max_size=40))
@settings(max_examples=80, deadline=None)
def test_any_term_either_loads_or_is_refused_with_a_located_error(term: str) -> None:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.yaml"
        path.write_text(f"id: r\ntitle: R\nwhen: {json.dumps(term)}\n", encoding="utf-8")
        try:
            matcher = Matcher(load_rules(Path(tmp)).rules)
        except RuleLoadError as exc:
            assert all(e.startswith(f"{path}:") for e in exc.errors)
            return
        matcher.match(doc(term, term))


def test_word_stream_maps_entries_to_words() -> None:
    stream = WordStream.build("EU re-engagement talks", context=2)
    assert stream.words == ["eu", "re", "engagement", "talks"]
    assert "reengagement" in stream.entry_words
    index = stream.entry_words.index("reengagement")
    assert (stream.entry_first[index], stream.entry_last[index]) == (1, 2)
    assert stream.char_span(1, 2) == (3, 16)


def test_a_character_first_folded_in_mostly_ascii_text_still_moves_offsets() -> None:
    # "ß" folds to two characters: whichever way it was first folded, offsets must follow.
    fold_for_matching("a" * 50 + "ß")
    folded, moved = fold_for_matching("ß")
    assert (folded, moved) == ("ss", True)
    assert fold_offsets("ß") == [0, 0]
