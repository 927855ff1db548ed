"""Plain-text articles without front matter get a headline-like title: not a call to action, a date, a paragraph."""

from __future__ import annotations

import pytest

from monitor.ingest.files import read_documents
from monitor.ingest.headline import headline, looks_like_headline, sentence_title
from tests.conftest import SEEDS


def test_every_seed_gets_its_headline() -> None:
    titles = {path.name[:3]: doc.title for path, doc in read_documents([SEEDS], print)}
    assert titles == {
        # No headline line: the first paragraph's first clause.
        "000": "French President Emmanuel Macron has called for the European Union to reengage in talks with "
        "Russian President Vladimir Putin",
        # "Support The Moscow Times!" (a call to action) comes first.
        "001": "France’s Macron Calls for Re-Engagement With Putin",
        "002": "Macron Seeks European Dialogue With Russia’s Putin",
        # " date 2026-02-02 403" (a date line) comes first.
        "003": "France Urges EU to Reopen Talks with Russia",
        # A one-sentence standfirst: cut at its clause.
        "004": 'France\'s president says discussions are underway at "the technical level"',
    }


def test_the_line_taken_as_title_leaves_the_text_and_the_lines_before_it_stay() -> None:
    title, rest = headline(["Support The Moscow Times!", "", "France’s Macron Calls for Re-Engagement", "Body."])
    assert title == "France’s Macron Calls for Re-Engagement"
    assert rest == ["Support The Moscow Times!", "", "Body."]
    assert headline(["Headline", "Body"]) == ("Headline", ["Body"])  # short, and nothing better
    # Nothing headline-like: the first sentence of the first paragraph, past a date line; the text stays whole.
    lines = [" date 2026-02-02 403", "The minister said talks would resume. More to come."]
    assert headline(lines) == ("The minister said talks would resume", lines)


@pytest.mark.parametrize(
    ("line", "headline_like"),
    [
        ("EU names a special envoy for Russia", True),
        ("Is Europe ready to talk to Putin?", True),
        ("Macron: 'We must talk to Russia'", True),
        ("Support The Moscow Times!", False),
        ("Subscribe to our newsletter", False),
        ("date 2026-02-02 403", False),
        ("12.05.2024 14:30 | 3 min", False),
        ("Breaking", False),  # one word
        ("The minister said on Friday that talks would resume next week in Geneva.", False),  # a sentence
        ("x " * 30, False),
    ],
)
def test_what_reads_like_a_headline(line: str, headline_like: bool) -> None:
    assert looks_like_headline(line) is headline_like


def test_a_title_from_a_sentence_stops_at_its_end_not_at_an_abbreviation_and_is_cut_when_long() -> None:
    assert sentence_title("U.S. President Donald Trump pushes for a deal. Then more.") == (
        "U.S. President Donald Trump pushes for a deal"
    )
    assert sentence_title("He said “no.” Then he left.") == "He said “no.”"
    long = "word " * 60
    cut = sentence_title(long)
    assert cut.endswith("…") and len(cut) <= 141
