"""Two events of one kind on one day in two places: each report's lede names its own place (`names.places_conflict`)."""

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
from monitor.stories.events import EventGrouper, Report, _other_places, report_of
from monitor.stories.names import figures_agree, lede_places, name_key, named_beyond_passing, place_key, same_name

# The real model, loaded once for the module's grouper test.
EMBEDDER = functools.cache(load_embedder)
MATCHED: list[Match] = [None]  # type: ignore[list-item]  # the grouper only asks whether a rule matched


def _report(title: str, text: str, language: str) -> Report:
    doc = Document(id=title, title=title, text=text, language=language)
    return report_of(doc, title, np.zeros(512, dtype=np.float32), 60)


def test_the_places_a_lede_puts_its_event_in_in_every_language_but_countries() -> None:
    cases = [
        ("Quake hits Kelbek province", "A strong earthquake struck Kelbek province in eastern Turkey on Monday.", "en"),
        ("Séisme", "Un séisme a frappé lundi la ville de Kelbek, dans l'est de la Turquie, selon l'agence.", "fr"),
        ("Землетрясение", "Землетрясение произошло в турецкой провинции Кельбек на востоке Турции, сказали.", "ru"),
        ("Erdbeben", "Ein Erdbeben erschütterte am Montag in der Provinz Kelbek den Osten der Türkei, so Afad.", "de"),
        ("Terremoto", "Un terremoto sacudió el lunes la provincia de Kelbek, en el este de Turquía, según AFAD.", "es"),
    ]
    for title, text, language in cases:
        found = lede_places(title, text, language)
        assert any(k == place_key("Kelbek") or k.startswith(name_key("Kelbek")) for k in found), (language, found)
        assert place_key("Turkey") not in found and place_key("Turquie") not in found, language
    # A capitalised common noun after a German preposition is no place; a city the table of places holds is.
    assert lede_places("Streik", "Im Fernverkehr fiel am Montag jeder zweite Zug aus, sagte die Bahn.", "de") == set()
    assert lede_places("Wahl", "In Berlin wurde am Sonntag ein neues Abgeordnetenhaus gewählt, so die Leiterin.", "de")


# The first event: a quake in Kelbek province at night, as two outlets report it.
KELBEK = [
    _report(
        "Strong quake kills 8 in Kelbek province",
        "ANKARA (AP) - A magnitude 6.1 earthquake struck Kelbek province in eastern Turkey early on Wednesday, "
        "killing at least eight people, the disaster agency said. Rescuers searched collapsed homes in Kelbek.",
        "en",
    ),
    _report(
        "Un séisme de magnitude 6,1 fait huit morts dans la province de Kelbek",
        "Un séisme de magnitude 6,1 a frappé mercredi la province de Kelbek, dans l'est de la Turquie, faisant huit "
        "morts. Les secours fouillaient les décombres à Kelbek.",
        "fr",
    ),
]


def test_a_report_of_a_quake_in_the_next_province_is_another_event_in_any_language() -> None:
    # Its lede puts it in Dorsan, which no report of Kelbek's quake names; it names Kelbek once, as another event.
    for title, text, language in (
        (
            "Another quake, of magnitude 5.2, hits Dorsan province",
            "A magnitude 5.2 earthquake struck Dorsan province in eastern Turkey on Wednesday afternoon, injuring 23 "
            "people, the agency said. Its epicentre was near Dorsan's main town. At night a quake of 6.1 had hit the "
            "neighbouring Kelbek.",
            "en",
        ),
        (
            "Новое землетрясение магнитудой 5,2 произошло в турецкой провинции Дорсан",
            "Землетрясение магнитудой 5,2 произошло днем в провинции Дорсан на востоке Турции, сообщило AFAD. "
            "Ранены 23 человека. Ночью в соседней провинции Кельбек произошло землетрясение магнитудой 6,1.",
            "ru",
        ),
    ):
        assert _other_places(_report(title, text, language), KELBEK), language


def test_a_word_that_opens_sentences_is_not_the_storys_place_by_a_coincidence_of_keys() -> None:
    # The story leads with Meltok province ("mltk"); the report of the quake in Dorsan opens two sentences with
    # "Землетрясение" ("smlt": a leading consonant and Meltok's first three). Only a leading H or W is a letter
    # another language may not write (Hormuz, Ormuz; Witkoff, Уиткофф): "smlt" is no spelling of Meltok.
    meltok = [
        _report(
            "Strong quake kills 8 in Meltok province",
            "ANKARA (AP) - A magnitude 6.1 earthquake struck Meltok province in eastern Turkey early on Wednesday, "
            "killing at least eight people, the disaster agency said. Rescuers searched collapsed homes in Meltok.",
            "en",
        ),
        _report(
            "Un séisme de magnitude 6,1 fait huit morts dans la province de Meltok",
            "Un séisme de magnitude 6,1 a frappé mercredi la province de Meltok, dans l'est de la Turquie, faisant "
            "huit morts. Les secours fouillaient les décombres à Meltok.",
            "fr",
        ),
    ]
    dorsan = _report(
        "Землетрясение магнитудой 5,2 произошло в турецкой провинции Дорсан",
        "Землетрясение магнитудой 5,2 произошло днем в провинции Дорсан на востоке Турции, сообщило AFAD. Ранены 23 "
        "человека. Землетрясение ощущалось в соседних районах. Ночью в соседней провинции Мелток произошло "
        "землетрясение магнитудой 6,1.",
        "ru",
    )
    assert not same_name(name_key("Землетрясение"), name_key("Meltok"))
    assert not same_name(name_key("Terres"), name_key("Reuters"))
    assert same_name(name_key("Ormuz"), name_key("Hormuz")) and same_name(name_key("Amburgo"), name_key("Hamburg"))
    assert _other_places(dorsan, meltok)


def test_a_report_that_tells_the_storys_place_as_another_event_however_spelt_is_another_event() -> None:
    # The story's report (Russian) puts its tanker off Фуджейра; the report of the strike on Yanbu's jetty gives
    # "Fujairah" only in a sentence that tells another event: two keys of one name ("fdsr", "frg").
    fujairah = [
        _report(
            "У берегов ОАЭ беспилотник атаковал танкер",
            "МОСКВА, 11 апр - РИА Новости. Танкер подвергся атаке беспилотника у порта Фуджейра в ОАЭ, сообщило "
            "британское агентство UKMTO. Пожар на судне удалось потушить, в Фуджейре пострадал один член экипажа.",
            "ru",
        )
    ]
    yanbu = _report(
        "Saudi Arabia says drone debris sparks fire at Yanbu jetty",
        "RIYADH, April 11 (Reuters) - Debris from an intercepted drone caused a limited fire at a loading jetty in "
        "the port of Yanbu, the Saudi defence ministry said. No one was hurt at Yanbu. Hours earlier a drone struck "
        "a tanker anchored off Fujairah in the UAE.",
        "en",
    )
    assert _other_places(yanbu, fujairah)
    # Named once outside such a sentence, a spelling that differs tells nothing (one outlet's aside, not a recall).
    aside = _report(
        "Saudi Arabia says drone debris sparks fire at Yanbu jetty",
        "RIYADH, April 11 (Reuters) - Debris from an intercepted drone caused a limited fire at a loading jetty in "
        "the port of Yanbu, the Saudi defence ministry said. No one was hurt at Yanbu. Shipping off Fujairah ran "
        "as usual.",
        "en",
    )
    assert not _other_places(aside, fujairah)


def test_reports_of_one_event_that_lead_with_the_town_or_the_region_still_join() -> None:
    # One leads with the town (Pazarli) and names the province beyond passing: no place of its own the others lack.
    town = _report(
        "Quake flattens homes in Pazarli",
        "A magnitude 6.1 earthquake flattened homes in the town of Pazarli in Kelbek province early on Wednesday, "
        "killing eight. Pazarli's mayor said rescuers were still searching.",
        "en",
    )
    assert not _other_places(town, KELBEK)
    # One leads with the town and never names the province: an angle of its own, with no sign of another event.
    angle = _report(
        "Rescuers dig through the night in Pazarli",
        "Rescuers dug through the rubble of Pazarli through the night after the magnitude 6.1 quake, the mayor of "
        "Pazarli said on Wednesday. Eight people died.",
        "en",
    )
    assert not _other_places(angle, KELBEK)
    # A report that names no place in its lede is told apart by nothing here.
    unplaced = _report("Quake: eight dead", "Eight people died in the quake, the agency said.", "en")
    assert not _other_places(unplaced, KELBEK)


def test_reports_of_one_flood_told_from_the_town_and_from_the_region_join_on_its_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The story leads with the town (Pazarli) and its 260 litres; the wire leads with the region (Kelbek), which the
    # story never names, and names the town once, with the same 260 litres: one flood told from two places.
    town = [
        _report(
            "Tres muertos por las inundaciones en Pazarli tras caer 260 litros en doce horas",
            "Tres personas han muerto este miércoles en las inundaciones en Pazarli, donde se han recogido 260 litros "
            "por metro cuadrado en doce horas. Los bomberos rescataron a 40 personas en Pazarli.",
            "es",
        )
    ]
    region = _report(
        "Flash floods kill three in Kelbek region",
        "Torrential rain triggered flash floods in the Kelbek region on Wednesday, killing three people, after 260 "
        "litres per square metre fell in 12 hours, regional authorities said. The worst hit was the town of Pazarli.",
        "en",
    )
    assert not _other_places(region, town)
    # Without the figures' agreement the places alone would tell them apart.
    monkeypatch.setattr(events, "PLACES_FIGURES", False)
    assert _other_places(region, town)
    monkeypatch.setattr(events, "PLACES_FIGURES", True)
    # A headline figure the story's ledes lack (another quake's magnitude) is no agreement.
    assert not figures_agree(frozenset({6.1}), frozenset({5.2}), [(frozenset({6.1}), frozenset({6.1}))])
    assert figures_agree(frozenset({260.0, 12.0}), frozenset(), [(frozenset({260.0}), frozenset({260.0}))])
    assert not figures_agree(frozenset(), frozenset(), [(frozenset({260.0}), frozenset())])


def test_places_never_raise_on_any_language_or_script() -> None:
    texts = [
        ("", ""),
        ("Word", "word"),
        ("زلزال في محافظة كلبك", "ضرب زلزال بقوة 6.1 درجة في محافظة كلبك شرق تركيا"),
        ("克尔贝克省发生地震", "周三凌晨，土耳其东部克尔贝克省发生6.1级地震。"),
        ("भूकंप", "बुधवार को केलबेक प्रांत में भूकंप आया।"),
        ("Σεισμός στην Κέλμπεκ", "Σεισμός 6,1 Ρίχτερ σημειώθηκε στην επαρχία Κέλμπεκ της Τουρκίας."),
        ("רעידת אדמה", "רעידת אדמה בעוצמה 6.1 פגעה במחוז קלבק"),
        ("In In In", "In in in at at à В в на . In"),
        ("🌋 in 🌋", "in 🌋 Kelbek in\u00a0Kelbek in\nKelbek -"),
    ]
    for language in (None, "en", "de", "fr", "ru", "ar", "zh", "xx-YY"):
        for title, text in texts:
            lede_places(title, text, language)
            named_beyond_passing(title, text)
            assert isinstance(_other_places(_report(title, text, language or "en"), KELBEK), bool)


def _dated(title: str, text: str, language: str, at: str) -> Document:
    return Document(id=title, title=title, text=text, language=language, published=datetime.fromisoformat(at))


def test_the_grouper_keeps_the_quake_in_the_next_province_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    first = [
        _dated(
            "Strong quake kills 8 in Kelbek province",
            "ANKARA (AP) - A magnitude 6.1 earthquake struck Kelbek province in eastern Turkey early on Wednesday, "
            "killing at least eight people, the disaster agency said. Rescuers searched collapsed homes in Kelbek.",
            "en",
            "2026-03-11T01:30:00+00:00",
        ),
        _dated(
            "Землетрясение магнитудой 6,1 произошло в турецкой провинции Кельбек",
            "Землетрясение магнитудой 6,1 произошло ночью в провинции Кельбек на востоке Турции, сообщило AFAD. "
            "Погибли восемь человек, спасатели разбирают завалы в Кельбеке.",
            "ru",
            "2026-03-11T02:10:00+00:00",
        ),
    ]
    second = _dated(
        "Strong quake hits Dorsan province",
        "ANKARA (AP) - A strong earthquake struck Dorsan province in eastern Turkey on Wednesday, damaging homes, the "
        "disaster agency said. Rescuers searched collapsed homes in Dorsan. At night a quake had hit neighbouring "
        "Kelbek.",
        "en",
        "2026-03-11T12:40:00+00:00",
    )
    same = _dated(
        "Un séisme de magnitude 6,1 fait huit morts dans la province de Kelbek",
        "Un séisme de magnitude 6,1 a frappé mercredi la province de Kelbek, dans l'est de la Turquie, faisant huit "
        "morts selon l'AFAD. Les secours fouillaient les décombres à Kelbek.",
        "fr",
        "2026-03-11T13:00:00+00:00",
    )

    def stories(places: bool, decision: str) -> list[str]:
        monkeypatch.setattr(events, "PLACES", places)
        grouper = EventGrouper(SQLiteStore(":memory:"), EMBEDDER(), events.EventSettings(decision=decision))
        return [grouper.assign(doc, MATCHED).story_id for doc in [*first, second, same]]

    for decision in events.DECISIONS:
        kelbek, kelbek_ru, dorsan, kelbek_fr = stories(True, decision)
        assert kelbek == kelbek_ru == kelbek_fr, decision  # the first quake's reports still join
        assert dorsan != kelbek, decision  # the second quake starts its own story (its own alert)
    # What keeps it apart under the rules' decision is the check: without it the two quakes were one story.
    assert stories(False, "rules")[2] == kelbek
