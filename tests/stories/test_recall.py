"""Reports of one event that tell it with other details, or in other words, still join its story."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from monitor.document import Document
from monitor.stories.events import Report, _other_figures, report_of
from monitor.stories.names import figures, names_of, spelled_figures

VECTOR = np.ones(4, dtype=np.float32) / 2


def record(report_id: str, title: str, text: str, language: str = "en") -> Report:
    published = datetime(2026, 3, 2, 9, tzinfo=UTC)
    doc = Document(id=report_id, title=title, text=text, published=published, language=language)
    return report_of(doc, report_id, VECTOR, 60)


def test_an_ordinal_counts_events_and_is_no_figure_of_this_one() -> None:
    assert figures("It is the 12th stoppage, the 21st package, la 12e fois, le 3ème, zum 2nd, 12-й раз, il 3º") == set()
    # Figures beside them are still figures, as are a decimal and a temperature.
    assert figures("the 14th stoppage; now 40 ships wait, 2.5 million tonnes, 46°C") == {40.0, 2.5e6, 46.0}
    assert figures("1990-е, 25-го числа, the 112th time") == set()
    # A Russian unit written on the number is no ordinal: those take a hyphen.
    assert figures("Глубина очага 700м, высота 120м") == {700.0, 120.0}


# A wire that counts the event among its kind ("the 14th stoppage"), and another outlet's report of it that leads with
# the crane's height and the ships waiting: one event.
WIRE = record(
    "wire",
    "Rotterdam port halts container traffic after crane collapse",
    "ROTTERDAM, March 2 (Reuters) - The port of Rotterdam halted container handling at its Maasvlakte terminal on "
    "Monday after a crane collapsed onto a quay, the port authority said.\n\n"
    "It is the 14th stoppage at the terminal this year, a spokeswoman said, adding that no ship had been damaged.",
)
REPORT = record(
    "report",
    "Kran stürzt in Rotterdam auf Kai",
    "Im Hafen von Rotterdam ist am Montag ein 90 Meter hoher Containerkran auf einen Kai gestürzt; 40 Schiffe "
    "warten nun auf ihre Abfertigung, teilte die Hafenbehörde mit.",
)
# Another event of the same place and day, leading with figures of its own.
OTHER = record(
    "other",
    "Crane incident in Rotterdam: 12 workers hurt, 25 ships wait",
    "Twelve workers were hurt when a 60-metre crane tipped over at another Rotterdam terminal on Monday evening; 25 "
    "ships are waiting, the operator said.",
)


def test_a_report_that_counts_its_event_among_others_of_its_kind_is_not_told_apart_by_that_count() -> None:
    assert WIRE.lede_figures == frozenset() and REPORT.lede_figures == {90.0, 40.0}
    assert not _other_figures(WIRE, [REPORT]) and not _other_figures(REPORT, [WIRE])
    # Two reports that lead with figures, none of which the other gives, still report two events.
    assert _other_figures(OTHER, [REPORT]) and _other_figures(REPORT, [OTHER])


def test_an_international_body_is_one_name_in_every_language() -> None:
    assert names_of("x ECB") == names_of("x BCE") == names_of("x EZB") == names_of("x ЕЦБ") != frozenset()
    assert names_of("x IAEA") == names_of("x AIEA") == names_of("x IAEO") == names_of("x МАГАТЭ") != frozenset()
    assert names_of("x IMF") == names_of("x FMI") == names_of("x IWF") == names_of("x МВФ") != frozenset()
    assert names_of("x OPEC") == names_of("x OPEP") == names_of("x ОПЕК") != names_of("x ECB")
    # Looked up only as written: a word that happens to be spelt like one is no body.
    assert names_of("x Who") != names_of("x WHO")


def test_a_french_j_is_the_zh_of_other_languages() -> None:
    zaporizhzhia = names_of("x Zaporizhzhia", language="en") | names_of("x Запорожье", language="ru")
    assert names_of("x Zaporijjia", language="fr") & zaporizhzhia
    assert names_of("x Jitomir", language="fr") & names_of("x Zhytomyr", language="en")
    # A place of the table keys as its English name, and a name in another language as written.
    assert names_of("x Japon", language="fr") == names_of("x Japan", language="en")
    assert not names_of("x Zaporijjia", language="it") & zaporizhzhia


def test_a_figure_written_in_words_is_the_figure_other_outlets_write_in_digits() -> None:
    assert spelled_figures("Twenty-six countries have committed to it", "en") == {26.0}
    assert spelled_figures("Vingt-six pays, soixante-dix navires et quatre-vingt-dix-neuf avions", "fr") == {26, 70, 99}
    assert spelled_figures("sechsundzwanzig Staaten und zwölf Schiffe", "de") == {26.0, 12.0}
    assert spelled_figures("veintiséis países, treinta y seis buques", "es") == {26.0, 36.0}
    assert spelled_figures("ventisei paesi e ventotto navi", "it") == {26.0, 28.0}
    assert spelled_figures("vingt millions d'euros", "fr") == {20e6}
    # Words of other kinds, in the language or another, and ordinals are none.
    assert spelled_figures("they seize the ship once", "en") == set()
    assert spelled_figures("la dix-septième fois, une vingtaine", "fr") == set()
    assert spelled_figures("Twenty-six countries", "ru") == set()
    # A report that writes a figure in words states it: it is not told apart from one that leads with it in digits.
    words = record("words", "Coalition agrees on a headquarters", "Twenty-six countries agreed on one within 90 days.")
    digits = record("digits", "26 countries back a headquarters", "The 26 countries back it, 30 days on.")
    assert words.figures == {26.0, 90.0} and not _other_figures(digits, [words])
