"""Sentence and paragraph conditions, the lead, and the sentence splitter they rely on."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from monitor.rules.matcher import Match
from monitor.rules.text import LEAD_WORDS, WordStream, sentence_starts

Matches = Callable[..., Match | None]

SENTENCE = "sentence: {all: [appoint*, special envoy]}"


def sentences(text: str) -> list[str]:
    starts = sentence_starts(text)
    return [text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The EU will appoint one. A special envoy exists.", ["The EU will appoint one.", "A special envoy exists."]),
        ("M. Macron a parlé. Le Kremlin écoute.", ["M. Macron a parlé.", "Le Kremlin écoute."]),
        ("Dr. Smith met Mr. Jones today.", ["Dr. Smith met Mr. Jones today."]),
        ("Das gilt z. B. für Gas. Dann kam Öl.", ["Das gilt z. B. für Gas.", "Dann kam Öl."]),
        ("Это т. е. важно. Путин ответил.", ["Это т. е. важно.", "Путин ответил."]),
        ("J. K. Rowling wrote it.", ["J. K. Rowling wrote it."]),
        ("Growth was 3.5 percent. Prices rose.", ["Growth was 3.5 percent.", "Prices rose."]),
        ("Am 24. Februar begann der Krieg.", ["Am 24. Februar begann der Krieg."]),
        ('He said: "We will talk." Then he left.', ['He said: "We will talk."', "Then he left."]),
        (
            "«Nous sommes prêts», a dit M. Barrot. Puis il est parti.",
            ["«Nous sommes prêts», a dit M. Barrot.", "Puis il est parti."],
        ),
        ("¿Habrá acuerdo? El Gobierno calla.", ["¿Habrá acuerdo?", "El Gobierno calla."]),
        ("Is it over? no, said one.", ["Is it over? no, said one."]),
        ("A line without a stop\nThe next line", ["A line without a stop", "The next line"]),
        ("Il sig. Rossi e il dott. Bianchi parlano.", ["Il sig. Rossi e il dott. Bianchi parlano."]),
        (
            "Prof. Nowak i dr Kowalski, tj. eksperci. Potem głos.",
            ["Prof. Nowak i dr Kowalski, tj. eksperci.", "Potem głos."],
        ),
    ],
)
def test_sentences_end_where_a_reader_would_end_them(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_a_sentence_condition_holds_only_within_one_sentence(matches: Matches) -> None:
    assert matches(SENTENCE, "Brussels will appoint a special envoy for Russia.") is not None
    assert matches(SENTENCE, "Washington appointed a new ambassador. The EU has a special envoy.") is None


def test_a_sentence_condition_reports_the_hits_of_that_sentence(matches: Matches) -> None:
    text = "The special envoy spoke. Later the EU appointed a special envoy for Russia."
    found = matches(SENTENCE, text)
    assert found is not None
    assert [h.text for h in found.hits] == ["appointed", "special envoy"]
    assert found.hits[0].start > text.index("Later")


def test_not_inside_a_sentence_looks_at_that_sentence_only(matches: Matches) -> None:
    when = "sentence: {all: [special envoy], not: Yemen}"
    assert matches(when, "A special envoy for Yemen. A special envoy for Russia.") is not None
    assert matches(when, "A special envoy for Yemen.") is None


def test_a_paragraph_condition(matches: Matches) -> None:
    when = "paragraph: {all: [Macron, Putin]}"
    assert matches(when, "Macron spoke. Then Putin replied.\n\nOther news.") is not None
    assert matches(when, "Macron spoke.\n\nPutin replied.") is None


def test_single_line_breaks_are_paragraphs_when_there_are_no_blank_lines(matches: Matches) -> None:
    when = "paragraph: {all: [Macron, Putin]}"
    assert matches(when, "Macron spoke.\nPutin replied.") is None


def test_a_near_inside_a_sentence(matches: Matches) -> None:
    when = "sentence: {near: [Macron, Putin], within: 20}"
    assert matches(when, "Macron, who met the press, said Putin must talk.") is not None
    assert matches(when, "Macron met the press. Putin must talk.") is None


def test_the_lead_is_the_title_and_the_first_paragraph(matches: Matches) -> None:
    first = "Emmanuel Macron said on Tuesday that Europe should prepare to talk to the Russian president directly."
    text = f"{first}\n\nMuch later, the article mentions Putin by name."
    assert matches("lead: Putin", text) is None
    assert matches("lead: Putin", text, title="Putin and Macron") is not None
    assert matches("lead: Macron", text) is not None


def test_a_short_first_paragraph_takes_the_next_one_in(matches: Matches) -> None:
    text = "PARIS (wire)\n\nMacron said he would call Putin this week.\n\nElsewhere, Scholz spoke."
    assert matches("lead: Putin", text) is not None
    assert matches("lead: Scholz", text) is None


def test_without_paragraphs_the_lead_is_the_first_words(matches: Matches) -> None:
    filler = "word " * (LEAD_WORDS - 1)
    assert matches("lead: Putin", filler + "Putin") is not None
    assert matches("lead: Putin", filler + "more Putin") is None


def test_lead_as_the_rules_scope(matches: Matches) -> None:
    text = "The story starts here and runs on for a while, about trade and tariffs and more trade.\n\nPutin."
    assert matches("- Putin", text, extra="scope: [lead]\n") is None
    assert matches("- Putin", text, title="Putin speaks", extra="scope: [lead]\n") is not None


def test_lead_words_of_a_stream() -> None:
    assert WordStream.build("One two three.\n\n" + "word " * 20, 0).lead_words() == 23


def test_a_long_article_in_many_scripts_is_matched_sentence_by_sentence(matches: Matches) -> None:
    # 15,000 sentences, most with a hit (quadratic grouping took minutes here; this takes a second).
    sentence = "Macron a parlé à Poutine. Путин ответил. Dr. Müller: „Gespräche“ – l'Élysée, 3.5 %. "
    text = sentence * 5_000
    found = matches("sentence: {all: [Macron, {term: Poutine, forms: true}]}", text, language="fr")
    assert found is not None
    assert [h.text for h in found.hits] == ["Macron", "Poutine"]


def sentence_starts_char_by_char(text: str) -> list[int]:
    """sentence_starts as it was written before one regex read the space and characters after each
    sentence end: the reference the property below holds it to."""
    from monitor.rules.text import _LINE_BREAK_RE, _OPENERS, ABBREVIATIONS, fold

    starts = [0, *(m.end() for m in _LINE_BREAK_RE.finditer(text))]
    for m in re.finditer(r"[.!?…]+[\"'»”’)\]]*(?=\s)", text):
        after = m.end()
        while after < len(text) and text[after].isspace():
            after += 1
        if after >= len(text) or "\n" in text[m.end() : after]:
            continue
        following = text[after]
        if following in _OPENERS:
            following = text[after + 1 : after + 3].lstrip(" -–—")[:1]
        if not following.isupper():
            continue
        if text[m.start()] == "." and m.group().startswith(".") and not m.group().startswith(".."):
            word_start = m.start()
            while word_start > 0 and text[word_start - 1].isalnum():
                word_start -= 1
            token = text[word_start : m.start()]
            if len(token) == 1 or fold(token) in ABBREVIATIONS or (token.isdigit() and len(token) <= 2):
                continue
        starts.append(after)
    return sorted(set(starts))


sentence_texts = st.lists(
    st.sampled_from([*"aZ1.!?…\"'»)( \n\t\u00a0-–«¿É\u2028", "Mr", "z", "24", "Dr"]), max_size=40
).map("".join)


@given(st.one_of(sentence_texts, st.text(max_size=80)))
@example("Dr. Smith. «— Non», dit-il.. Oui!\n Ja. Am 24. Mai.\u00a0B")
def test_sentence_starts_are_those_read_char_by_char(text: str) -> None:
    assert sentence_starts(text) == sentence_starts_char_by_char(text)
