"""Two acts of one day told apart by what the report says of the other: the same body's other decision ("where it also
chose ..."), an event that happened at the same time ("the protest coincides with the rail strike")."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from monitor.document import Document
from monitor.stories import events
from monitor.stories.events import Report, _other_recalled, report_of
from monitor.stories.names import name_key, recalled

VECTOR = np.ones(4, dtype=np.float32) / 2


def record(report_id: str, title: str, text: str, language: str = "en") -> Report:
    published = datetime(2026, 10, 1, 15, tzinfo=UTC)
    doc = Document(id=report_id, title=title, text=text, published=published, language=language)
    return report_of(doc, report_id, VECTOR, 60)


# The first decision of the council's meeting: the final awarded to a stadium, as two outlets lead with it.
FINAL = [
    record(
        "wire",
        "Council picks Orvanto's Castel Brenna for the 2030 final",
        "ZURICH, Oct 1 (Reuters) - The Castel Brenna stadium of Orvanto will host the 2030 final, the federation's "
        "ruling council decided on Thursday, choosing it over Velmar's planned arena.\n\n"
        "Velmar was awarded the opening match. Castel Brenna last hosted a final in 1982.",
    ),
    record(
        "report",
        "El Castel Brenna acogerá la final de 2030",
        "El Castel Brenna de Orvanto acogerá la final de 2030, decidió este jueves en Zúrich el consejo de la "
        "federación, que lo prefirió al estadio de Velmar. Velmar tendrá el partido inaugural; el Castel Brenna ya "
        "acogió una final en 1982.",
        "es",
    ),
]


def test_the_same_bodys_other_decision_told_as_also_decided_is_another_event_in_any_language() -> None:
    cases = [
        (
            "Council keeps Dranov ban but lets under-17 teams return",
            "ZURICH (AP) - The federation's council kept Dranov's national team suspended on Thursday but will let "
            "its under-17 teams enter youth tournaments. The council met in Zurich, where it also chose Orvanto's "
            "Castel Brenna for the 2030 final.",
            "en",
        ),
        (
            "Le conseil maintient la suspension de Dranov mais rouvre la porte aux moins de 17 ans",
            "Le conseil de la fédération a maintenu jeudi la suspension de l'équipe nationale de Dranov, mais ses "
            "équipes de moins de 17 ans pourront disputer les tournois de jeunes. Réuni à Zurich, le conseil a "
            "également choisi le Castel Brenna d'Orvanto pour la finale de 2030.",
            "fr",
        ),
        (
            "Il consiglio conferma lo stop a Dranov, via libera agli under 17",
            "Il consiglio della federazione ha confermato giovedì la sospensione della nazionale di Dranov, ma le "
            "squadre under 17 potranno giocare i tornei giovanili. A Zurigo il consiglio ha anche scelto il Castel "
            "Brenna di Orvanto per la finale del 2030.",
            "it",
        ),
    ]
    for title, text, language in cases:
        assert _other_recalled(record("other", title, text, language), FINAL), language


def test_a_report_of_the_decision_itself_with_other_details_still_joins() -> None:
    # Another outlet leads with the same decision and adds what the council also said: it names the stadium in its
    # own lede, so the sentence that tells the council's other business takes nothing of the story's from it.
    same = record(
        "same",
        "Castel Brenna to host 2030 final",
        "ZURICH (AP) - Orvanto's Castel Brenna will host the 2030 final, the federation's council decided on "
        "Thursday. The council also said the opening match goes to Velmar, and it also chose a new referees' chief.",
    )
    assert not _other_recalled(same, FINAL)
    # "Also" alone, and a decision that matched expectations ("совпало с ожиданиями"), mark no other event.  # noqa: RUF003
    for text in (
        "The stadium will host the 2030 final. The council also said Castel Brenna would be renovated by 2029.",
        "Ставка сохранена на уровне 2%. Решение совпало с ожиданиями аналитиков, опрошенных агентством Бренна.",
    ):
        assert recalled("Headline", text) == (frozenset(), frozenset(), frozenset()), text


# The national rail strike's wire, as it leads with the unions that called it.
RAIL_STRIKE = record(
    "rail",
    "Velmar rail strike cancels half of regional trains",
    "VELMAR, June 12 (Reuters) - A 24-hour national rail strike called by the unions Sarno and Tevi cancelled "
    "around half of regional trains on Friday, operator Ferrovel said. Sarno and Tevi protest over pay.",
)

TAXI_TEXT = (
    "Circa tremila tassisti hanno partecipato al presidio davanti a Palazzo Orsetti contro il decreto sulle "
    "piattaforme. A Palazzo Orsetti la polizia ha respinto un gruppo di manifestanti. La protesta coincide con lo "
    "sciopero nazionale dei treni proclamato da Sarno e Tevi."
)


def test_a_protest_that_coincides_with_the_storys_strike_is_another_event(monkeypatch: pytest.MonkeyPatch) -> None:
    strike = [
        RAIL_STRIKE,
        record(
            "rail-it",
            "Sciopero dei treni, Sarno e Tevi: cancellato un regionale su due",
            "È in corso lo sciopero nazionale dei treni proclamato da Sarno e Tevi: Ferrovel ha cancellato un "
            "regionale su due. Sarno e Tevi chiedono aumenti.",
            "it",
        ),
    ]
    taxi = record("taxi", "Taxi, sciopero e presidio a Palazzo Orsetti contro il decreto", TAXI_TEXT, "it")
    told, _, lede = recalled(taxi.report_id, TAXI_TEXT)
    # The strike's unions are told only in the sentence of the coinciding event, not in the taxi report's own lede.
    assert name_key("Sarno") in told and name_key("Sarno") not in lede
    # The strike's reports lead with its unions; the taxi report names them only there: another event.
    assert _other_recalled(taxi, strike)
    monkeypatch.setattr(events, "COINCIDES", False)
    assert not _other_recalled(taxi, strike)  # the recall checks alone ask for a lead of its own the story shares


def test_a_report_of_the_strike_that_tells_the_protest_beside_it_still_joins() -> None:
    # A report of the strike itself leads with the unions, and tells the taxi drivers' protest as what coincided.
    strike = [RAIL_STRIKE]
    same = record(
        "rail-2",
        "Sarno and Tevi strike halts Ferrovel trains",
        "The unions Sarno and Tevi halted half of Ferrovel's regional trains on Friday. The strike coincided with a "
        "protest of taxi drivers at Palazzo Orsetti, which Ferrovel said made travel harder.",
    )
    assert not _other_recalled(same, strike)


def test_the_markers_never_raise_on_any_language_or_script() -> None:
    for text in (
        "",
        "also",
        "coincides with",
        "where it also chose",
        "совпало по времени с",
        "同时 it also chose 🏟 Castel",
        "قرر المجلس أيضا",
        "Ο σύλλογος also decided Κάστελ.",
    ):
        recalled("T", text)
        assert isinstance(_other_recalled(record("x", "T", text), FINAL), bool)
