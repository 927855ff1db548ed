"""Two events of one day, actor and topic: the report of the second says so, by a recall or a briefing."""

from __future__ import annotations

import functools
from datetime import datetime

import numpy as np
import pytest

from monitor.document import Document
from monitor.rules.matcher import Match
from monitor.store import SQLiteStore
from monitor.stories import events
from monitor.stories.embed import load_embedder
from monitor.stories.events import EventGrouper, Report, _other_marked, _other_recalled, report_of
from monitor.stories.marks import marked_past
from monitor.stories.names import name_key

# The real model, loaded once for the module's grouper test.
EMBEDDER = functools.cache(load_embedder)
MATCHED: list[Match] = [None]  # type: ignore[list-item]  # the grouper only asks whether a rule matched


def _report(title: str, text: str, language: str) -> Report:
    doc = Document(id=title, title=title, text=text, language=language)
    return report_of(doc, title, np.zeros(512, dtype=np.float32), 60)


# The first event: a refinery in Volgodar struck at dawn, as three outlets report it.
VOLGODAR = [
    _report(
        "Drones strike Volgodar refinery, governor Alexei Petrenko says",
        "MOSCOW, May 4 (Reuters) - Ukrainian drones struck the oil refinery of Volgodar early on Monday, starting a "
        "fire at a distillation unit, regional governor Alexei Petrenko said. Petrenko said no one was hurt and the "
        "fire at Volgodar was put out by 9 a.m.",
        "en",
    ),
    _report(
        "Incendie à la raffinerie de Volgodar après une attaque de drones",
        "Une attaque de drones ukrainiens a provoqué lundi à l'aube un incendie à la raffinerie de Volgodar, a "
        "annoncé le gouverneur Alexeï Petrenko. Selon Petrenko, il n'y a pas de victimes à Volgodar.",
        "fr",
    ),
    _report(
        "Губернатор Петренко сообщил о пожаре на НПЗ в Волгодаре",
        "Беспилотники атаковали нефтеперерабатывающий завод в Волгодаре утром в понедельник, сообщил губернатор "
        "Алексей Петренко. По словам Петренко, пострадавших в Волгодаре нет.",
        "ru",
    ),
]


def test_a_report_of_a_second_strike_that_recalls_the_first_is_another_event_in_any_language() -> None:
    # Same governor, same day, another town: its report names Volgodar only in a sentence that tells another event.
    for title, text, language in (
        (
            "Petrenko: drones hit a fuel depot in Krasnobor",
            "Drones set a fuel depot in Krasnobor on fire on Monday evening, governor Alexei Petrenko said. Petrenko "
            "said Krasnobor's depot was evacuated. Earlier in the day drones struck the refinery of Volgodar.",
            "en",
        ),
        (
            "Петренко: в Красноборе после атаки беспилотников загорелась нефтебаза",
            "В Красноборе вечером в понедельник после атаки беспилотников загорелась нефтебаза, сообщил губернатор "
            "Алексей Петренко. Жителей Краснобора эвакуировали. Ранее в тот же день атаке подвергся НПЗ в Волгодаре.",
            "ru",
        ),
    ):
        assert _other_recalled(_report(title, text, language), VOLGODAR), language


def test_a_report_of_the_same_strike_that_recalls_another_act_of_its_actor_still_joins() -> None:
    # It names the town as the others do (no lead of its own they lack), and recalls the governor's other news.
    same = _report(
        "Volgodar refinery fire put out after drone attack",
        "The fire at the Volgodar refinery started by a drone attack at dawn was put out on Monday, governor Alexei "
        "Petrenko said. Earlier in the day Petrenko had announced new air-raid shelters for the region.",
        "en",
    )
    assert not _other_recalled(same, VOLGODAR)
    # A brief that recalls nothing and names fewer people.
    brief = _report(
        "Raffinerie de Volgodar : l'incendie maîtrisé",
        "L'incendie de la raffinerie de Volgodar, touchée par des drones lundi, a été maîtrisé, selon Petrenko.",
        "fr",
    )
    assert not _other_recalled(brief, VOLGODAR)


# The first event: the two presidents' call, as three outlets report it.
CALL = [
    _report(
        "Moreau and Halvorsen speak for two hours by phone",
        "PARIS (AP) - President Claire Moreau and Norwegian Prime Minister Erik Halvorsen spoke by phone for two "
        "hours on Tuesday about a fisheries accord, Moreau's office said. Moreau was due to call Polish President "
        "Jan Wisniewski later in the day.",
        "en",
    ),
    _report(
        "Claire Moreau et Erik Halvorsen se sont entretenus deux heures",
        "La présidente Claire Moreau et le premier ministre norvégien Erik Halvorsen se sont entretenus mardi au "
        "téléphone pendant deux heures d'un accord sur la pêche.",
        "fr",
    ),
    _report(
        "Моро и Хальворсен провели телефонный разговор",
        "Президент Клер Моро и премьер-министр Норвегии Эрик Хальворсен провели во вторник двухчасовой телефонный "
        "разговор о соглашении по рыболовству.",
        "ru",
    ),
]


def test_a_report_of_a_briefing_on_a_call_is_another_event_than_the_call() -> None:
    for title, text, language in (
        (
            "Wisniewski and Moreau discuss fisheries accord",
            "Polish President Jan Wisniewski said he spoke with Claire Moreau, who briefed him on her call with "
            "Erik Halvorsen, for an hour on Tuesday evening.",
            "en",
        ),
        (
            "Вишневский поговорил с Моро",
            "Ян Вишневский сообщил, что час разговаривал с Клер Моро, которая рассказала ему о своей беседе с Эриком "
            "Хальворсеном.",
            "ru",
        ),
        (
            "Wisniewski s'est entretenu avec Claire Moreau",
            "Le président polonais Jan Wisniewski s'est entretenu mardi soir avec Claire Moreau, qui l'a informé de "
            "son entretien avec Erik Halvorsen.",
            "fr",
        ),
    ):
        briefing = _report(title, text, language)
        assert _other_marked(briefing, CALL), language
    # Whom she told is of the briefing's own event, not of the call it tells of.
    marks = marked_past(
        "Moreau informiert Wisniewski", "Moreau informierte Wisniewski über ihr Telefonat mit Halvorsen"
    )
    assert name_key("Halvorsen") in marks.marked
    assert name_key("Wisniewski") in marks.lede and name_key("Wisniewski") not in marks.marked


def test_a_report_of_the_call_itself_that_names_the_later_call_still_joins() -> None:
    later = _report(
        "Halvorsen: « deux heures » avec Claire Moreau sur la pêche",
        "Erik Halvorsen a dit mardi avoir parlé deux heures avec Claire Moreau d'un accord sur la pêche. La "
        "présidente devait ensuite appeler Jan Wisniewski.",
        "fr",
    )
    assert not _other_marked(later, CALL)
    assert not _other_recalled(later, CALL)
    # A briefing on something that is no call or meeting marks nothing.
    assert not marked_past("Moreau briefed on fisheries", "Moreau was briefed on the situation by Halvorsen.").marked


def _dated(title: str, text: str, language: str, at: str) -> Document:
    return Document(id=title, title=title, text=text, language=language, published=datetime.fromisoformat(at))


def test_the_grouper_keeps_the_second_strike_apart_and_joins_the_first_strikes_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = [
        _dated(
            "Drones strike Volgodar refinery, governor Alexei Petrenko says",
            "MOSCOW, May 4 (Reuters) - Ukrainian drones struck the oil refinery of Volgodar early on Monday, starting "
            "a fire at a distillation unit, regional governor Alexei Petrenko said. Petrenko said no one was hurt and "
            "the fire at Volgodar was put out by 9 a.m.",
            "en",
            "2026-05-04T06:30:00+00:00",
        ),
        _dated(
            "Incendie à la raffinerie de Volgodar après une attaque de drones",
            "Une attaque de drones ukrainiens a provoqué lundi à l'aube un incendie à la raffinerie de Volgodar, a "
            "annoncé le gouverneur Alexeï Petrenko. Selon Petrenko, il n'y a pas de victimes à Volgodar. Les pompiers "
            "ont maîtrisé le feu dans la matinée.",
            "fr",
            "2026-05-04T07:10:00+00:00",
        ),
    ]
    second = _dated(
        "Petrenko: drones hit a fuel depot in Krasnobor",
        "Drones set a fuel depot in Krasnobor on fire on Monday evening, governor Alexei Petrenko said. Petrenko said "
        "Krasnobor's depot was evacuated and no one was hurt. Earlier in the day drones struck the refinery of "
        "Volgodar.",
        "en",
        "2026-05-04T18:40:00+00:00",
    )
    same = _dated(
        "Беспилотники атаковали НПЗ в Волгодаре",
        "Украинские беспилотники утром в понедельник атаковали нефтеперерабатывающий завод в Волгодаре, сообщил "
        "губернатор Алексей Петренко. По словам Петренко, пострадавших в Волгодаре нет, пожар потушен.",
        "ru",
        "2026-05-04T19:00:00+00:00",
    )

    def stories(recalled_leads: bool) -> list[str]:
        monkeypatch.setattr(events, "RECALLED_LEADS", recalled_leads)
        grouper = EventGrouper(SQLiteStore(":memory:"), EMBEDDER())
        return [grouper.assign(doc, MATCHED).story_id for doc in [*first, second, same]]

    volgodar, volgodar_fr, krasnobor, volgodar_ru = stories(True)
    assert volgodar == volgodar_fr == volgodar_ru  # a translation-like report of the first strike still joins
    assert krasnobor != volgodar  # the second strike starts its own story (its own alert)
    # What keeps it apart is the check: without it the two strikes were one story.
    assert stories(False)[2] == volgodar
