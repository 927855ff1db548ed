"""Version 2 of the rule language: elision, German spellings, word forms, suffix and infix wildcards."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.rules.matcher import Match
from monitor.rules.text import WordStream, stems, term_stems, term_variants, terms_stems, words_at, words_of

Matches = Callable[..., Match | None]


def matched_words(found: Match | None) -> list[str]:
    assert found is not None
    return [hit.text for hit in found.hits]


# Elision -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "written"),
    [
        ("Elysee", "Selon l'Élysée, rien n'est décidé.", "Élysée"),
        ("Elysee", "Selon l’Élysée, rien n’est décidé.", "Élysée"),
        ("Union européenne", "Les ministres de l'Union européenne se réunissent.", "Union européenne"),
        ("Ukraine", "Le soutien d'Ukraine", "Ukraine"),
        ("il", "Il dit qu'il viendra.", "Il"),
        ("Unione", "I ministri dell'Unione europea", "Unione"),
        ("UE", "Le sanzioni nell'UE", "UE"),
        ("Europa", "Ho parlat d'Europa", "Europa"),
    ],
)
def test_elided_articles_are_words_of_their_own(matches: Matches, term: str, text: str, written: str) -> None:
    assert matched_words(matches(f"- {term}", text))[0] == written


def test_an_elided_term_matches_its_own_spelling(matches: Matches) -> None:
    assert matched_words(matches('- "l\'Élysée"', "Un conseiller de l’Elysee")) == ["l’Elysee"]


@pytest.mark.parametrize("text", ["Mr O'Brien said", "We don't agree", "aujourd'hui"])
def test_other_apostrophes_keep_a_word_whole(text: str) -> None:
    assert len(words_of(text)) == len(text.split())


# German spellings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["in Brüssel", "in Bruessel", "in Brussel", "in BRUESSEL"])
def test_an_umlaut_also_matches_its_e_spelling(matches: Matches, text: str) -> None:
    assert matches("- Brüssel", text) is not None


def test_sharp_s_matches_ss(matches: Matches) -> None:
    assert matches("- Außenminister", "der Aussenminister sagte") is not None


# Word forms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "text", "language", "written"),
    [
        ("{term: Putin, forms: true}", "Putins Rede", "de", "Putins"),
        ("{term: Путин, forms: true}", "Встреча с Путиным в Кремле", "ru", "Путиным"),
        ("{term: négocier, forms: true}", "les négociations reprennent", "fr", "négociations"),
        ("{term: nommée, forms: true}", "elle a été nommé", "fr", "nommé"),
        ("{term: negotiation, forms: true}", "negotiations resumed", "en", "negotiations"),
        ("{term: congelare, forms: true}", "beni congelati", "it", "congelati"),
        ("{term: congelar, forms: true}", "activos congelados", "es", "congelados"),
        ("{term: wysłannik, forms: true}", "z wysłannikiem UE", "pl", "wysłannikiem"),
        ("{term: Путін, forms: true}", "розмова з Путіним", "uk", "Путіним"),
        ("{term: special envoy, forms: true}", "two special envoys", "en", "special envoys"),
    ],
)
def test_forms_match_inflections_in_the_documents_language(
    matches: Matches, when: str, text: str, language: str, written: str
) -> None:
    assert matched_words(matches(f"- {when}", text, language=language)) == [written]


@pytest.mark.parametrize("language", ["en", "de", "fr", "ru", "uk"])
@pytest.mark.parametrize("text", ["Putin", "special envoys", "Holdings", "G7 summit", "B2B Reservations"])
def test_a_plain_term_stems_as_its_words_read_one_by_one(text: str, language: str) -> None:
    # Plain ASCII terms skip the general reading (spellings, hyphens, the text's word splitter).
    def analyse(chunk: str) -> list[str]:
        return stems(words_at(chunk, WordStream.build(chunk, 0).word_spans()), language)

    assert term_stems(text, language) == term_variants(text, analyse=analyse)


@pytest.mark.parametrize("language", ["en", "de", "fr", "ru", "uk"])
def test_terms_stemmed_together_give_each_term_stems(language: str) -> None:
    # The matcher stems a language's word-form terms in one call; each must come out as alone.
    texts = ["Putin", "special envoys", "re-engage", "Zaporizhzhia", "G7 summit", "Rückzug", "l'envoyé", "Holdings"]
    assert terms_stems(texts, language) == [term_stems(text, language) for text in texts]


@pytest.mark.parametrize(
    ("term", "text", "language"),
    [
        ("holdings", "the ministers will hold talks", "en"),
        ("reserves", "Paris has reservations about the plan", "en"),
        ("parler", "le Parlement européen a voté", "fr"),
        ("avoirs", "il faut avoir le courage", "fr"),
        ("fonds", "sur le fond du dossier", "fr"),
        ("envoyé", "l'envoi de troupes", "fr"),
        ("Botschafter", "eine klare Botschaft an Moskau", "de"),
        ("посла", "после встречи в Кремле", "ru"),
        ("parlare", "il Parlamento europeo", "it"),
        ("inviato", "l'invio di truppe", "it"),
        ("mostra", "Macron si è mostrato aperto", "it"),
        ("enviado", "el envío de tropas", "es"),
    ],
)
def test_forms_keep_apart_unrelated_words_that_snowball_gives_one_stem(
    matches: Matches, term: str, text: str, language: str
) -> None:
    assert matches(f"- {{term: {term}, forms: true}}", text, language=language) is None


@pytest.mark.parametrize(
    ("term", "text", "language", "written"),
    [
        ("holdings", "its holdings of Russian bonds", "en", "holdings"),
        ("parler", "il faut parlé avec Moscou", "fr", "parlé"),
        ("Botschafter", "die Rede des Botschafters", "de", "Botschafters"),
        ("посла", "встреча с послом", "ru", "послом"),
        ("envoyé", "les envoyés spéciaux", "fr", "envoyés"),
    ],
)
def test_the_words_kept_apart_still_match_their_own_forms(
    matches: Matches, term: str, text: str, language: str, written: str
) -> None:
    assert matched_words(matches(f"- {{term: {term}, forms: true}}", text, language=language)) == [written]


def test_forms_follow_the_detected_language_when_none_is_declared(matches: Matches) -> None:
    text = "Президент встретился с Путиным в Кремле во вторник, сообщили журналисты."
    assert matches("- {term: Путин, forms: true}", text) is not None


def test_without_forms_an_inflection_does_not_match(matches: Matches) -> None:
    assert matches("- Putin", "Putins Rede", language="de") is None


def test_forms_limited_to_languages_apply_only_to_them(matches: Matches) -> None:
    when = "- {term: Putin, forms: [ru]}"
    assert matches(when, "Putins Rede", language="de") is None
    assert matches(when, "Putin spoke", language="de") is not None


def test_rule_level_forms_reach_every_term_and_list(matches: Matches) -> None:
    extra = "forms: true\nlists:\n  leader: [Putin]\n"
    assert matches("all: [$leader, Gespräch]", "Putins Gespräche", extra=extra, language="de") is not None


def test_a_list_can_ask_for_forms(write_rules: Callable[..., object]) -> None:
    from pathlib import Path

    from monitor.rules.loader import load_rules
    from monitor.rules.matcher import Matcher
    from tests.conftest import doc

    directory = write_rules(
        {
            "lists/people.yaml": "leader: {forms: [de, ru], terms: [Putin, Путин]}\n",
            "r.yaml": "id: r\ntitle: R\nwhen: $leader\n",
        }
    )
    assert isinstance(directory, Path)
    matcher = Matcher(load_rules(directory).rules)
    assert matcher.match(doc("Putins Rede", language="de"))
    assert not matcher.match(doc("Putins Rede", language="fr"))


def test_stemmers_see_accents_and_stems_are_folded() -> None:
    # French needs its accents to find the ending; Russian й is a letter, not an и with a mark.
    assert stems(["nommée", "nommé"], "fr") == ["nomm", "nomm"]
    assert stems(["российский", "российского"], "ru")[0] == stems(["российского"], "ru")[0]


# Wildcards -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("*gesandter", "der Sondergesandter der EU", "Sondergesandter"),
        ("*gesandter", "der Gesandter", "Gesandter"),
        ("*gesandt*", "die Sondergesandten", "Sondergesandten"),
        ("*gesandt*", "EU-Sondergesandte", "Sondergesandte"),
        ("negotiat*", "renegotiate", None),
        ("*negotiat*", "renegotiate", "renegotiate"),
        ("*gesandter", "Gesandterin", None),
    ],
)
def test_leading_and_both_sided_wildcards(matches: Matches, term: str, text: str, expected: str | None) -> None:
    found = matches(f"- '{term}'", text)
    assert (matched_words(found)[0] if found else None) == expected


def test_a_wildcard_inside_a_word_counts_where_its_word_does(matches: Matches) -> None:
    # `at_least` and the lead ask whether such a term occurs, without its hits: the same answers.
    at_least = "{at_least: 2, of: [talks, '*gesandt*']}"
    assert matches(at_least, "talks with the Sondergesandten") is not None
    assert matches(at_least, "talks with the ambassador") is None
    # In a compound's segment alone ("reengagement" of "Re-Engagement") a key is no word's.
    assert matches("{at_least: 2, of: [talks, '*eeng*']}", "Re-Engagement talks") is None
    assert matches("{at_least: 2, of: [talks, '*gage*']}", "Re-Engagement talks") is not None
    first = "Die Regierung in Berlin hat am Dienstag lange über den Haushalt des kommenden Jahres beraten."
    text = f"{first}\n\nSpäter kam der Sondergesandte."
    assert matches("lead: '*gesandte'", text) is None
    assert matches("lead: '*gesandte'", text, title="Ein Sondergesandter") is None  # its own word only
    assert matches("lead: '*gesandte'", text, title="Der Sondergesandte") is not None
    assert matches("lead: '*gesandte'", f"Der Sondergesandte kam. {first}\n\nMehr.") is not None


def test_a_suffix_wildcard_in_a_phrase(matches: Matches) -> None:
    assert matched_words(matches("- '*gesandter für Russland'", "ein Sondergesandter für Russland")) == [
        "Sondergesandter für Russland"
    ]
    assert matches("- 'EU *gesandter'", "der EU Sondergesandter") is not None
    assert matches("- 'EU *gesandter'", "der EU Botschafter") is None


def test_a_case_sensitive_suffix_wildcard(matches: Matches) -> None:
    assert matches("- {term: '*Bank', case: true}", "die Zentralbank") is None
    assert matches("- {term: '*Bank', case: true}", "die ZentralBank") is not None


# The word stream --------------------------------------------------------------------------------------


def test_elided_words_have_their_own_spans() -> None:
    text = "Selon l'Élysée"
    stream = WordStream.build(text, 0)
    assert stream.words == ["selon", "l", "elysee"]
    assert [text[s:e] for s, e in stream.word_spans()] == ["Selon", "l", "Élysée"]
