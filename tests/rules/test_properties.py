"""Properties over arbitrary Unicode: folding is idempotent, matching never raises, hits point at the term."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from monitor.errors import RuleLoadError
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.model import Rule, Term, TermNode
from monitor.rules.text import (
    _ELIDED_RE,
    WORD_RE,
    WordStream,
    _array_words,
    _elided,
    _fold_few,
    _fold_offsets,
    _fold_runs,
    _mapped_spans,
    _regex_words,
    _split_elided_spans,
    fold,
    fold_for_matching,
    fold_offsets,
    has_elisions,
    split_elisions,
    words_of,
)
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


# Words with elided articles, apostrophes, possessives and hyphens between them.
elision_texts = st.lists(
    st.one_of(words, st.sampled_from(["l'", "qu'", "L'", "d’", "'", "'s", "-", " ", "ſ'", "don't", "¼"])),
    max_size=30,
).map("".join)


@given(st.one_of(texts, elision_texts))
def test_words_and_their_offsets_are_those_the_word_pattern_finds(text: str) -> None:
    # The stream splits the text in one pass and looks for elisions around apostrophes only: the
    # same words, spans and elisions as the plain patterns, which are slower.
    folded = fold(text)
    elided = {m.start(): m.end() - 1 for m in _ELIDED_RE.finditer(folded)}
    assert dict(_elided(folded)) == elided
    assert has_elisions(folded) == bool(elided)
    words = WORD_RE.findall(folded)
    spans = [m.span(1) for m in WORD_RE.finditer(folded)]
    if elided:
        words, spans = split_elisions(words), _split_elided_spans(folded, spans)
    stream = WordStream.build(text, context=2)
    assert stream.words == words
    assert stream.folded_spans == spans
    assert fold_offsets(text) == [i for i, char in enumerate(text) for _ in range(len(fold(char)))]


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


EVERY_V2_NODE = """\
id: every-v2-node
title: Every kind of version 2 condition
forms: true
lists:
  envoy: {forms: [de, ru, uk], terms: [Sondergesandter, посланник, посланець]}
when:
  any:
    - sentence: {all: [Macron, Putin], not: Trump}
    - paragraph: {near: [$envoy, "*gesandt*"], within: 5}
    - lead: ["*verhandl*", "l'Élysée", Brüssel]
    - {term: négociation, forms: [fr]}
"""
# Apostrophes, elided articles, full stops, umlauts, Cyrillic and line breaks, mixed at random.
pieces = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=4),
    st.sampled_from(["'", "’", ".", "l'", "dell'", " ", "\n", "\n\n", "ü", "Путин", "M. ", "Dr. ", "Macron"]),
)
v2_texts = st.lists(pieces, max_size=60).map("".join)
languages = st.sampled_from([None, "en", "fr", "de", "ru", "uk", "pl", "it", "xx", "de-AT"])


@pytest.fixture(scope="module")
def every_v2_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "r.yaml").write_text(EVERY_V2_NODE, encoding="utf-8")
    return Matcher(load_rules(directory).rules)


@given(v2_texts, v2_texts, languages)
@example(title="", text="𗀀", language="uk")  # a letter without a Unicode name, lemmatised
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_version_2_conditions_never_raise_and_hits_point_into_the_field(
    every_v2_matcher: Matcher, title: str, text: str, language: str | None
) -> None:
    for match in every_v2_matcher.match(doc(text, title, language=language)):
        for hit in match.hits:
            source = title if hit.field == "title" else text
            assert 0 <= hit.start < hit.end <= len(source)
            assert hit.text == source[hit.start : hit.end]


@given(st.lists(v2_texts, min_size=2, max_size=4))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_hits_read_late_are_those_read_at_once(every_v2_matcher: Matcher, texts_: list[str]) -> None:
    # A match's hits are worked out when first read: matching other documents in between changes nothing.
    docs = [doc(text, language="de") for text in texts_]
    later = [every_v2_matcher.match(d) for d in docs]
    for d, matches in zip(docs, later, strict=True):
        at_once = [(m.rule.id, m.hits, m.snippet) for m in every_v2_matcher.match(d)]
        assert [(m.rule.id, m.hits, m.snippet) for m in matches] == at_once


@given(v2_texts)
def test_every_word_has_a_span_and_sentences_start_at_words(text: str) -> None:
    stream = WordStream.build(text, context=2)
    spans = stream.word_spans()
    assert len(spans) == len(stream.words)
    # Each word comes from its span ("¼" folds to two words, "1" and "4", from one character).
    assert all(w in words_of(text[s:e]) for w, (s, e) in zip(stream.words, spans, strict=True))
    for kind in ("sentence", "paragraph"):
        starts = stream.unit_starts(kind)
        assert starts[0] == 0 and starts == sorted(set(starts))
        assert all(0 <= s <= len(stream.words) for s in starts)
    assert 0 <= stream.lead_words() <= len(stream.words)


# Rules of the shapes the matcher decides by shortcuts (a near's bit-mask test, a title field's
# terms, at_least over terms, conditions that are their anchor sets), over a small vocabulary.
SHORTCUT_RULES = """\
rules:
  - {id: near-unordered, title: t, when: {near: [[alpha, beta], "gam*"], within: 3}}
  - {id: near-ordered, title: t, when: {near: [alpha, [delta, "eps*"]], within: 2, ordered: true}}
  - {id: near-lead, title: t, scope: [lead], when: {near: [beta, delta], within: 1}}
  - {id: paragraph-near, title: t, when: {paragraph: {near: [alpha, gamma], within: 4}}}
  - {id: sent-near, title: t, when: {sentence: {near: [[gamma, "eps*"], [alpha, delta]], within: 3, ordered: true}}}
  - {id: paragraph-near-lead, title: t, scope: [lead], when: {paragraph: {near: [[beta, delta], alpha], within: 2}}}
  - {id: title-any, title: t, when: {all: [{title: [alpha, "bet*"]}, delta]}}
  - {id: title-near, title: t, when: {title: {near: [alpha, beta], within: 2}}}
  - {id: title-not, title: t, when: {title: {all: [gamma], not: beta}}}
  - {id: title-in-text, title: t, when: {title: {any: [{text: alpha}, gamma]}}}
  - {id: at-least, title: t, when: {at_least: 2, of: [alpha, beta, "alpha beta", "eps*"]}}
  - {id: at-least-cased, title: t, when: {at_least: 2, of: [{term: ALPHA, case: true}, gamma, delta]}}
  - {id: all-any, title: t, when: {all: [alpha, {any: [gamma, "delta epsilon", "bet*"]}]}}
  - {id: all-any-text, title: t, scope: [text], when: {all: [alpha, {any: [gamma, delta]}]}}
  - {id: one-list, title: t, when: {any: ["*silon", {term: Gamma, case: true}]}}
  - {id: near-wide, title: t, when: {near: [alpha, delta], within: 70}}
  - {id: near-three, title: t, when: {near: [alpha, [beta, "eps*"], delta], within: 5}}
  - {id: at-least-twice, title: t, when: {at_least: 2, of: [gamma, gamma, "*silon"]}}
  - {id: at-least-sentence, title: t, when: {sentence: {at_least: 2, of: [alpha, delta, x]}}}
  - {id: sent-all, title: t, when: {sentence: {all: [alpha, [gamma, "eps*"], "delt*"]}}}
  - {id: paragraph-all-lead, title: t, scope: [lead], when: {paragraph: {all: [beta, [delta, Gamm*]]}}}
  - {id: sent-all-title, title: t, when: {title: {sentence: {all: [alpha, beta]}}}}
  - {id: at-least-inside, title: t, when: {at_least: 2, of: [x, "*amma*", "*silon"]}}
  - {id: lead-inside, title: t, scope: [lead], when: {any: ["*amma", "*psilo*"]}}
"""
shortcut_words = st.sampled_from(
    ["alpha", "ALPHA", "beta", "betamax", "gamma", "Gamma", "gammas", "delta", "epsilon", "upsilon", "x", "y"]
)
shortcut_texts = st.lists(st.one_of(shortcut_words, st.sampled_from([" ", " ", ". ", "\n\n", "-"])), max_size=40).map(
    " ".join
)


@pytest.fixture(scope="module")
def shortcut_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "r.yaml").write_text(SHORTCUT_RULES, encoding="utf-8")
    return Matcher(load_rules(directory).rules)


@pytest.fixture(scope="module")
def bulk_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    # The same rules, candidates picked by the arrays a large rule set has (matcher.BULK_PRESEARCH_RULES).
    from monitor.rules import matcher as matcher_module

    directory = tmp_path_factory.mktemp("rules")
    (directory / "r.yaml").write_text(SHORTCUT_RULES, encoding="utf-8")
    matcher = Matcher(load_rules(directory).rules)
    matcher._presearch = matcher_module._Presearch.of(matcher)
    return matcher


@given(shortcut_texts, shortcut_texts)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=300)
def test_shortcuts_decide_as_the_conditions_over_every_hit(shortcut_matcher: Matcher, title: str, text: str) -> None:
    # Every term's hits placed at once (analyse) and each condition asked over them, without the
    # presearch or any shortcut: the rules that hold are the rules match() reports.
    # The hits and snippets too: those the conditions report over every hit.
    document = doc(text, title)
    hits, ctx = shortcut_matcher.analyse(document, None)
    expected = []
    for rule in shortcut_matcher.rules:
        _, node, scope = shortcut_matcher.compiled(rule.id)
        if node.holds(hits, ctx.limits(scope), ctx):
            expected.append((rule.id, *shortcut_matcher._report(node, hits, ctx.limits(scope), ctx)))
    assert [(m.rule.id, m.hits, m.snippet) for m in shortcut_matcher.match(document)] == expected


# The characters the word splitter treats apart: apostrophes (a possessive "'s", "o'brien"), hyphens,
# "_" (a word character for \b but not a letter), letters folded to several or none, other scripts.
tricky = st.text(st.sampled_from([*"as'-_ .1éßSʼ\u0301\u00ad…ﬁ日𝐀", "\ud800"]), max_size=60)


@given(st.one_of(tricky, texts))
@example("a's's-b o'brien's-x l'a_s's")
@example("jones's_ a'b's'c -s's- x'-y z's'")
@settings(max_examples=400)
def test_long_and_short_texts_split_into_the_same_words(text: str) -> None:
    # Long texts are split by array operations, short ones by the regex: the same words, joins and spans.
    assume(text)
    for hyphens in (False, True):
        assert _array_words(text, hyphens) == _regex_words(text, hyphens)


@given(st.one_of(tricky, texts), st.booleans())
def test_folding_by_replacement_is_folding_by_runs(text: str, casefold: bool) -> None:
    # Texts with few non-ASCII characters are folded one distinct character at a time.
    assume(not text.isascii())
    by_runs = _fold_runs(text, casefold)
    by_replacement = _fold_few(text, casefold)
    assert by_replacement is None or by_replacement == by_runs


@given(st.lists(st.one_of(tricky, words), min_size=1, max_size=60))
def test_spans_mapped_by_arrays_are_the_folded_offsets(parts: list[str]) -> None:
    text = " ".join(parts)
    stream = WordStream.build(text, 2)
    offsets = _fold_offsets(text)
    expected = [(offsets[start], offsets[end - 1] + 1) for start, end in stream.folded_spans]
    assert _mapped_spans(text, stream.folded_spans) == expected


@given(shortcut_texts, shortcut_texts)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=100)
def test_the_presearch_in_arrays_picks_the_rules_the_sets_pick(
    shortcut_matcher: Matcher, title: str, text: str
) -> None:
    # Large rule sets pick candidates with NumPy arrays (matcher.BULK_PRESEARCH_RULES); small ones with sets.
    from monitor.rules import matcher as matcher_module

    assert shortcut_matcher._presearch is None
    bulk = matcher_module._Presearch.of(shortcut_matcher)
    hits, ctx = shortcut_matcher._found(doc(text, title), None)
    assert bulk.candidates(hits.possible) == shortcut_matcher._candidates(hits)
    # The candidates it decides with no evaluation (anchors certainly found, an `at_least` counted) hold.
    picked, decided = bulk.picks(hits.found, hits.maybe)
    assert picked == shortcut_matcher._candidates(hits)
    for key, sure in zip(picked, decided, strict=True):
        compiled = shortcut_matcher._compiled[key]
        assert not sure or compiled.node.holds(hits, ctx.limits(compiled.scope), ctx), compiled.rule.id


@given(shortcut_texts, shortcut_texts)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=150)
def test_matching_with_the_presearch_in_arrays_gives_what_the_sets_give(
    shortcut_matcher: Matcher, bulk_matcher: Matcher, title: str, text: str
) -> None:
    # With the arrays, candidates decided in bulk skip their evaluation: the same matches, hits and snippets.
    document = doc(text, title)
    assert bulk_matcher._presearch is not None
    got = [(m.rule.id, m.hits, m.snippet) for m in bulk_matcher.match(document)]
    assert got == [(m.rule.id, m.hits, m.snippet) for m in shortcut_matcher.match(document)]


# Terms of one key and of several (a word, a word's start, a phrase, a hyphenated compound, an
# elided article, word forms, case), placed by the one-key path where it applies and by every layer.
PLACING_RULES = """\
rules:
  - id: words
    title: t
    forms: true
    when:
      any: [alpha, "bet*", "gamma delta", re-engage, reengage, "l'union", union, {term: Alpha, case: true},
            "*silon", "*lph*", "engag*", alphas, x-y]
"""
placing_words = st.sampled_from(
    [
        "alpha",
        "Alpha",
        "alphas",
        "beta",
        "betamax",
        "gamma",
        "delta",
        "re-engage",
        "reengage",
        "engaged",
        "l'union",
        "union",
        "epsilon",
        "x-y",
        "x",
        "y",
        "xy",
    ]
)
placing_texts = st.lists(st.one_of(placing_words, st.sampled_from([" ", ". ", "\n\n", "-"])), max_size=40).map(" ".join)


@pytest.fixture(scope="module")
def placing_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "r.yaml").write_text(PLACING_RULES, encoding="utf-8")
    return Matcher(load_rules(directory).rules)


@given(placing_texts, placing_texts, st.sampled_from([None, "en", "fr"]))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=300)
def test_a_term_of_one_key_is_placed_where_every_layer_places_it(
    placing_matcher: Matcher, title: str, text: str, language: str | None
) -> None:
    hits, _ = placing_matcher._found(doc(text, title), language)
    for tid in hits.found | hits.maybe:
        # A word-form term in a language with forms is placed in the stemmed words too: every layer.
        one_key = hits._place_one_key(tid) if tid not in hits.forms_terms else None
        if one_key is not None:
            assert one_key == hits._place_by_layers(tid), placing_matcher.term_text(tid)


def test_the_one_key_path_places_words_and_word_starts(placing_matcher: Matcher) -> None:
    hits, _ = placing_matcher._found(doc("alpha and beta, and so re-engage", title="a betamax alpha, alphas"), None)
    placed = {placing_matcher.term_text(tid): hits._place_one_key(tid) for tid in hits.found | hits.maybe}
    # (field, first word, last word, -1, -1): the title's words, then the text's.
    assert placed["alpha"] == [(0, 2, 2, -1, -1), (1, 0, 0, -1, -1)]
    assert placed["bet*"] == [(0, 1, 1, -1, -1), (1, 2, 2, -1, -1)]
    assert placed["alphas"] == [(0, 3, 3, -1, -1)]
    assert placed["re-engage"] is None  # two keys (re engage, reengage): every layer places it
    assert placed["engag*"] == [(1, 6, 6, -1, -1)]  # "re-engage" is the words "re" and "engage"
    assert placed["reengage"] is None  # found in the compound's segment "reengage", not a word
    assert "gamma delta" not in placed


@given(st.lists(st.one_of(tricky, words), min_size=1, max_size=60), st.integers(1, 12))
def test_words_and_starts_from_arrays_are_those_of_the_spans(parts: list[str], times: int) -> None:
    # Long texts (split by arrays) give their words as written and their starts without a span per
    # word: the same as read off the spans.
    text = " ".join(parts * times)
    stream = WordStream.build(text, 2)
    written, starts = stream.written_words(), stream.word_starts()
    offsets = _fold_offsets(text)
    spans = [(offsets[start], offsets[end - 1] + 1) for start, end in stream.folded_spans]
    assert written == [text[start:end] for start, end in spans]
    assert starts == [start for start, _ in spans]
    assert stream.word_spans() == spans


def test_a_documents_hits_are_freed_without_the_cyclic_collector(shortcut_matcher: Matcher) -> None:
    # A document's hits (its terms placed, their start masks) hold no reference cycle: they are freed
    # when its matches go, not left for the collector to walk (at 350,000 rules, collections inside
    # matching were a fifth of its time).
    import gc

    from monitor.rules.matcher import _DocHits, _StartMasks

    document = doc("alpha beta gamma delta epsilon " * 20, "alpha beta")
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        matches = shortcut_matcher.match(document)
        assert matches and all(m.hits for m in matches)
        del matches
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, _DocHits | _StartMasks)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert not left
