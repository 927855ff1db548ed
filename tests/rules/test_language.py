"""Every bullet of the rule language (version 1, docs/rules.md), each against real matching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from monitor.rules.matcher import Match

Matches = Callable[..., Match | None]


# Terms -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("Putin", "Talks with Putin resumed.", True),
        ("Putin", "Talks with PUTIN resumed.", True),
        ("putin", "Vladimir Putin said", True),
        ("Putin", "Putinism is a doctrine.", False),
        ("Putin", "the putinist line", False),
        ("Elysee", "A statement from the Élysée palace.", True),
        ("Élysée", "A statement from the Elysee palace.", True),
        ("Zurich", "Talks in Zürich.", True),
    ],
)
def test_terms_are_whole_words_case_and_accent_insensitive(
    matches: Matches, term: str, text: str, expected: bool
) -> None:
    assert (matches(f"- {term}", text) is not None) is expected


@pytest.mark.parametrize("text", ["Putin's envoy", "Putin’s envoy", "PUTIN'S envoy"])
def test_possessive_matches_the_bare_name(matches: Matches, text: str) -> None:
    found = matches("- Putin", text)
    assert found is not None
    assert found.hits[0].start == 0 and found.hits[0].end == 5


def test_nfkc_normalisation_matches_compatibility_forms(matches: Matches) -> None:
    # Full-width letters and the "fi" ligature are the same word after NFKC.
    assert matches("- Putin", "Ｐｕｔｉｎ spoke") is not None
    assert matches("- financial", "the ﬁnancial markets") is not None


def test_typographic_apostrophes_count_as_ascii(matches: Matches) -> None:
    assert matches('- "don\'t"', "We don’t agree") is not None
    assert matches('- "don’t"', "We don't agree") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a special envoy to Moscow", True),
        ('a "special envoy" to Moscow', True),
        ("a special\nenvoy", True),
        ("a Special  Envoy", True),
        ("a special economic envoy", False),
        ("special envoys", False),
        ("the envoy special", False),
    ],
)
def test_phrase_words_follow_each_other(matches: Matches, text: str, expected: bool) -> None:
    assert (matches("- special envoy", text) is not None) is expected


def test_phrase_hit_spans_the_whole_phrase(matches: Matches) -> None:
    text = 'calling for a European "special envoy" to speak'
    found = matches("- special envoy", text)
    assert found is not None
    hit = found.hits[0]
    assert text[hit.start : hit.end] == "special envoy"
    assert (hit.term, hit.field) == ("special envoy", "text")


@pytest.mark.parametrize("text", ["to re-engage with", "to re engage with", "to reengage with", "to re‑engage with"])
def test_hyphen_in_term_matches_hyphen_space_or_nothing(matches: Matches, text: str) -> None:
    assert matches("- re-engage", text) is not None


@pytest.mark.parametrize("term", ["reengage", "re engage", "re-engage"])
def test_hyphen_in_text_matches_term_written_any_way(matches: Matches, term: str) -> None:
    found = matches(f"- {term}", "Europe must re-engage with Moscow")
    assert found is not None
    text = "Europe must re-engage with Moscow"
    assert text[found.hits[0].start : found.hits[0].end] == "re-engage"


def test_hyphen_does_not_join_unrelated_words(matches: Matches) -> None:
    assert matches("- reengage", "they re engage") is None
    assert matches("- reengage", "pre-engage") is None


def test_parts_of_a_hyphenated_word_are_words(matches: Matches) -> None:
    assert matches("- Russian", "the Franco-Russian summit") is not None


def test_squashed_compound_inside_a_phrase(matches: Matches) -> None:
    assert matches("- EU reengagement talks", "calls for EU re-engagement talks") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("negotiate", True), ("negotiations", True), ("Negotiator", True), ("renegotiate", False), ("negotia", False)],
)
def test_prefix_wildcard(matches: Matches, text: str, expected: bool) -> None:
    assert (matches("- negotiat*", f"They {text} now") is not None) is expected


def test_wildcard_inside_a_phrase(matches: Matches) -> None:
    assert matches("- appoint* envoy", "the appointed envoy") is not None
    assert matches("- appoint* envoy", "the appointed special envoy") is None
    assert matches("- special envoy*", "two special envoys") is not None


def test_lists_local_and_shared(matches: Matches, write_rules: Callable[..., object]) -> None:
    extra = "lists:\n  leaders: [Macron, Scholz]\n"
    assert matches("- $leaders", "Scholz said", extra=extra) is not None
    assert matches("- $leaders", "Merz said", extra=extra) is None


def test_shared_list_from_lists_directory(write_rules: Callable[..., object]) -> None:
    from pathlib import Path

    from monitor.rules.loader import load_rules
    from monitor.rules.matcher import Matcher
    from tests.conftest import doc

    directory = write_rules(
        {
            "lists/people.yaml": "leaders: [Macron, Meloni]\n",
            "r.yaml": "id: r\ntitle: R\nwhen: $leaders\n",
        }
    )
    assert isinstance(directory, Path)
    matcher = Matcher(load_rules(directory).rules)
    assert matcher.match(doc("Meloni spoke")) and not matcher.match(doc("Merz spoke"))


def test_case_sensitive_term(matches: Matches) -> None:
    when = "- {term: US, case: true}"
    assert matches(when, "the US president") is not None
    assert matches(when, "tell us more") is None
    assert matches(when, "the Us army") is None


def test_case_sensitive_term_still_folds_accents(matches: Matches) -> None:
    assert matches("- {term: Elysee, case: true}", "the Élysée said") is not None
    assert matches("- {term: Elysee, case: true}", "the élysée said") is None


def test_regex_case_insensitive_by_default(matches: Matches) -> None:
    text = "Sanctions package 19 adopted"
    found = matches(r"- {regex: 'package \d+'}", text)
    assert found is not None
    hit = found.hits[0]
    assert text[hit.start : hit.end] == "package 19"
    assert matches(r"- {regex: 'PACKAGE \d+'}", text) is not None
    assert matches(r"- {regex: 'PACKAGE \d+', case: true}", text) is None


def test_regex_counts_for_near_by_its_words(matches: Matches) -> None:
    when = r"""
    near: [{regex: '\d+ billion'}, assets]
    within: 4
    """
    # "210" (the regex hit's first word) to "assets": 4 words.
    assert matches(when, "use 210 billion in frozen assets") is not None
    assert matches(when, "use 210 billion for the loan, not the frozen Russian assets") is None


# Nodes -----------------------------------------------------------------------------------------


def test_all_any_not_none(matches: Matches) -> None:
    when = """
    all: [Macron, Putin]
    any: [talks, dialogue]
    none: [football]
    """
    assert matches(when, "Macron and Putin held talks") is not None
    assert matches(when, "Macron and Putin met") is None
    assert matches(when, "Macron and Putin held talks about football") is None
    assert matches("all: [Macron, {not: Putin}]", "Macron alone") is not None
    assert matches("all: [Macron, {not: Putin}]", "Macron and Putin") is None


def test_bare_list_is_any(matches: Matches) -> None:
    assert matches("[talks, dialogue]", "a dialogue") is not None
    assert matches("[talks, dialogue]", "a meeting") is None


def test_at_least(matches: Matches) -> None:
    when = """
    at_least: 2
    of: [Macron, Putin, Meloni]
    """
    assert matches(when, "Macron and Meloni") is not None
    assert matches(when, "Macron alone") is None


def test_count(matches: Matches) -> None:
    assert matches("count: Putin\nmin: 3", "Putin, Putin and Putin's envoy") is not None
    assert matches("count: Putin\nmin: 3", "Putin and Putin") is None
    assert matches("count: [Putin, Kremlin]\nmin: 2", "Putin and the Kremlin") is not None


@pytest.mark.parametrize(
    ("text", "within", "expected"),
    [
        ("they designate a special representative", 2, True),
        ("they designate a special representative", 1, False),
        ("the appointment of a European special envoy", 4, True),
        ("the appointment of a European special envoy", 3, False),
        ("a special envoy, they will designate", 5, True),
    ],
)
def test_near_unordered_counts_first_word_to_first_word(
    matches: Matches, text: str, within: int, expected: bool
) -> None:
    when = f"""
    near: [[designat*, appoint*], [special envoy, special representative]]
    within: {within}
    """
    assert (matches(when, text) is not None) is expected


def test_near_ordered(matches: Matches) -> None:
    when = """
    near: [appoint*, envoy]
    within: 5
    ordered: true
    """
    assert matches(when, "to appoint an envoy") is not None
    assert matches(when, "the envoy they appoint") is None


def test_near_hits_may_not_overlap(matches: Matches) -> None:
    when = """
    near: [special envoy, envoy]
    within: 5
    """
    assert matches(when, "a special envoy arrived") is None
    assert matches(when, "a special envoy and another envoy") is not None


def test_near_stays_within_one_field(matches: Matches) -> None:
    when = """
    near: [Macron, Putin]
    within: 3
    """
    assert matches(when, "Putin said", title="Macron") is None
    assert matches(when, "Macron met Putin") is not None


def test_near_picks_the_closest_pair(matches: Matches) -> None:
    when = """
    near: [Macron, Putin]
    within: 2
    """
    text = "Macron spoke first. Many words later, far away, Macron and Putin met."
    found = matches(when, text)
    assert found is not None
    assert {text[h.start : h.end] for h in found.hits} == {"Macron", "Putin"}


def test_title_and_text_scopes(matches: Matches) -> None:
    assert matches("title: Putin", "Putin in the text", title="Nothing") is None
    assert matches("title: Putin", "nothing", title="Putin speaks") is not None
    assert matches("text: Putin", "nothing", title="Putin speaks") is None
    assert matches("- Putin", "nothing", title="Putin", extra="scope: [text]\n") is None
    assert matches("- Putin", "Putin", extra="scope: [text]\n") is not None


def test_combined_mapping_keys_are_anded(matches: Matches) -> None:
    when = """
    any: [Macron, Meloni]
    not: football
    """
    assert matches(when, "Meloni spoke") is not None
    assert matches(when, "Meloni spoke about football") is None


def test_at_least_with_a_not_among_its_conditions(matches: Matches) -> None:
    when = """
    at_least: 2
    of: [Macron, Putin, {not: football}]
    """
    assert matches(when, "Macron, and no sport") is not None
    assert matches(when, "Macron at the football") is None
    assert matches(when, "Putin and Macron at the football") is not None


# Filters ---------------------------------------------------------------------------------------


def test_source_filters_by_domain_and_subdomain(matches: Matches) -> None:
    extra = "filters:\n  sources: {include: [example.org], exclude: [spam.example.org]}\n"
    assert matches("- Putin", "Putin", extra=extra, url="https://www.example.org/a") is not None
    assert matches("- Putin", "Putin", extra=extra, url="https://spam.example.org/a") is None
    assert matches("- Putin", "Putin", extra=extra, url="https://other.net/a") is None
    assert matches("- Putin", "Putin", extra=extra) is None


def test_language_filter(matches: Matches) -> None:
    extra = "filters:\n  languages: [en]\n"
    assert matches("- Putin", "Putin", extra=extra, language="en-GB") is not None
    assert matches("- Putin", "Putin", extra=extra, language="fr") is None
    assert matches("- Putin", "Putin", extra=extra) is not None


def test_max_age_filter(matches: Matches) -> None:
    extra = "filters:\n  max_age: 48h\n"
    now = datetime.now(UTC)
    assert matches("- Putin", "Putin", extra=extra, published=now - timedelta(hours=1)) is not None
    assert matches("- Putin", "Putin", extra=extra, published=now - timedelta(days=3)) is None
    # A recorded item is judged by when it was seen, not by when it is replayed.
    seen = now - timedelta(days=30)
    old = seen - timedelta(hours=1)
    assert matches("- Putin", "Putin", extra=extra, published=old, seen=seen) is not None


def test_disabled_rule_is_not_matched(matches: Matches) -> None:
    assert matches("- Putin", "Putin", extra="enabled: false\n") is None


# Reports ---------------------------------------------------------------------------------------


def test_match_reports_every_hit_and_a_snippet(matches: Matches) -> None:
    text = ("Filler words come first here. " * 10) + "Macron called Putin to restart dialogue. " + ("More. " * 40)
    found = matches("all: [Macron, Putin, dialogue]", text, title="Macron and Putin")
    assert found is not None
    assert {(h.term, h.field) for h in found.hits} == {
        ("Macron", "title"),
        ("Putin", "title"),
        ("Macron", "text"),
        ("Putin", "text"),
        ("dialogue", "text"),
    }
    for hit in found.hits:
        source = "Macron and Putin" if hit.field == "title" else text
        assert source[hit.start : hit.end].lower() == hit.term.lower()
    assert "Macron called Putin" in found.snippet
    assert 100 <= len(found.snippet) <= 180
    assert found.snippet.startswith("…") and found.snippet.endswith("…")


def test_only_rules_whose_terms_occur_are_evaluated(compile_when: Callable[..., object]) -> None:
    from monitor.rules.matcher import Matcher
    from tests.conftest import doc

    matcher = compile_when("all: [Macron, {not: Putin}]")
    assert isinstance(matcher, Matcher)
    # Presearch: a rule anchored on "Macron" cannot match a text without it.
    assert matcher.match(doc("Putin alone")) == []
    assert [m.rule.id for m in matcher.match(doc("Macron alone"))] == ["r"]
