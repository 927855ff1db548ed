"""Reports of one event that tell it with other details, or in other words, still join its story."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from monitor.document import Document
from monitor.stories.events import Report, _other_figures, report_of
from monitor.stories.names import figures, names_of

VECTOR = np.ones(4, dtype=np.float32) / 2


def record(report_id: str, title: str, text: str) -> Report:
    doc = Document(id=report_id, title=title, text=text, published=datetime(2026, 3, 2, 9, tzinfo=UTC))
    return report_of(doc, report_id, VECTOR, 60)


def test_an_ordinal_counts_events_and_is_no_figure_of_this_one() -> None:
    assert figures("It is the 12th stoppage, the 21st package, la 12e fois, le 3ème, zum 2nd, 12-й раз, il 3º") == set()
    # Figures beside them are still figures, as are a decimal and a temperature.
    assert figures("the 14th stoppage; now 40 ships wait, 2.5 million tonnes, 46°C") == {40.0, 2.5e6, 46.0}
    assert figures("1990-е, 25-го числа, the 112th time") == set()


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
