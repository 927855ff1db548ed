"""What a report marks as another, earlier event of a short while before (`marks`)."""

from __future__ import annotations

import numpy as np

from monitor.document import Document
from monitor.stories.events import Report, _other_lead, report_of
from monitor.stories.marks import Marks, marked_past, marks_conflict
from monitor.stories.names import (
    _first_names,
    background,
    exclusive_conflict,
    figures,
    leads,
    mentioned,
    name_key,
    named_leads,
    recalled,
)


def _report(title: str, text: str) -> Report:
    return report_of(Document(id=title, title=title, text=text), title, np.zeros(512, dtype=np.float32), 60)


def _story(*reports: tuple[str, str]) -> list[Marks]:
    return [marked_past(title, text) for title, text in reports]


ICBM = _story(
    (
        "North Korea fires ICBM into sea off Japan",
        "SEOUL, March 3 (Reuters) - North Korea fired an ICBM into the sea off Japan's west coast on Tuesday, "
        "South Korea's military said.",
    ),
    (
        "Северная Корея запустила МБР",
        "Северная Корея во вторник запустила межконтинентальную баллистическую ракету ICBM, сообщили в Сеуле.",
    ),
)


def test_a_report_that_names_what_a_story_leads_with_as_hours_before_its_own_event_is_another_event() -> None:
    cruise = marked_past(
        "La Corée du Nord tire des missiles de croisière, quelques heures après l'ICBM",
        "SÉOUL - La Corée du Nord a tiré mardi soir plusieurs missiles de croisière en mer Jaune.",
    )
    assert name_key("ICBM") in cruise.marked and name_key("ICBM") not in cruise.lede
    assert marks_conflict(*cruise, ICBM)
    # The same mark in the press's other phrasings.
    for title, text in (
        ("Nuovo lancio nordcoreano a poche ore dall'ICBM", "Pyongyang ha lanciato missili da crociera martedì sera."),
        (
            "Neuer Raketentest",
            "Wenige Stunden, nachdem Pjöngjang eine ICBM abgefeuert hatte, folgten Marschflugkörper.",
        ),
        ("Nouveau tir", "Quelques heures seulement après l'ICBM, Pyongyang a tiré des missiles de croisière."),
        ("Cruise missiles follow", "Pyongyang fired cruise missiles less than 24 hours after its ICBM test."),
        ("Nouveau tir au lendemain d'ICBM", "Pyongyang a tiré des missiles de croisière mercredi."),
    ):
        assert marks_conflict(*marked_past(title, text), ICBM), title
    # And the other way round: a late report of the ICBM launch against the story of the cruise missiles.
    late = marked_past("North Korea's ICBM flew 1,000 km", "North Korea's ICBM flew 1,000 km, Japan said.")
    assert marks_conflict(*late, [cruise])


def test_a_report_of_the_same_event_that_names_the_topics_earlier_events_is_not_told_apart() -> None:
    # A repetition ("again", "erneut", "un nouvel appel") or a bare "after" is what the reports of one event say
    # of the topic's earlier events, weeks before: no mark of a short while before.
    for title, text in (
        ("North Korea fires ICBM again", "North Korea fired an ICBM on Tuesday, after talks with Seoul collapsed."),
        ("Nordkorea feuert erneut eine ICBM ab", "Nordkorea hat erneut eine Interkontinentalrakete ICBM abgefeuert."),
        ("La Corée du Nord tire un nouvel ICBM", "Deux mois après son dernier ICBM, Pyongyang a récidivé mardi."),
    ):
        assert not marks_conflict(*marked_past(title, text), ICBM)


def test_a_mark_that_names_the_same_thing_the_report_leads_with_or_only_a_country_tells_nothing_apart() -> None:
    # What the report names up front outside the clause is its own ("ICBM" in both): not marked.
    follow_up = marked_past(
        "North Korea's ICBM: Japan protests", "Japan protested the ICBM launch, hours after the ICBM landed."
    )
    assert not follow_up.marked and not marks_conflict(*follow_up, ICBM)
    # Where the earlier event took place is context both events share ("hours after a deadly quake in western
    # Türkiye"): a country's name is not marked.
    van = marked_past(
        "5.4 magnitude quake strikes eastern Van province",
        "A magnitude 5.4 earthquake struck eastern Van province on Monday evening, hours after a deadly quake in "
        "western Türkiye.",
    )
    assert not van.marked
    # So a report leading with the country is not told apart from the story of Van's quake by it (it would be, were
    # the country marked: Турции is Türkiye); one leading with the earlier quake's province is.
    assert not marks_conflict(*marked_past("Землетрясение в Турции", "В Турции произошло землетрясение."), [van])
    sindirgi = marked_past("Earthquake in Sindirgi", "A deadly quake struck Sindirgi in western Türkiye.")
    van_sindirgi = marked_past("Van quake", "A quake struck Van, hours after a deadly quake in Sindirgi.")
    assert marks_conflict(*sindirgi, [van_sindirgi])
    # A country of several words is a country too ("United States", "Saudi Arabia", "North Korea", "South Sudan").
    for country in ("the United States", "Saudi Arabia", "North Korea", "South Sudan", "l'Arabie saoudite"):
        marks = marked_past("Iran fires missiles", f"Iran fired missiles on Monday, hours after {country} struck.")
        assert not marks.marked, country
    assert marked_past("Iran fires missiles", "Iran fired missiles, hours after a United States strike on Natanz.")[
        0
    ] == {name_key("Natanz")}


KHARKIV = _story(
    (
        "Russian missile strike on Kharkiv kills 30",
        "KYIV, Ukraine (AP) - A Russian missile strike on the northeastern city of Kharkiv killed 30 people on "
        "Tuesday, Ukrainian officials said.",
    ),
    (
        "Russian strike on Kharkiv apartment block kills 30",
        "A Russian missile hit an apartment block in Kharkiv on Tuesday, killing 30, the regional governor said.",
    ),
)


def test_a_follow_up_of_the_storys_event_a_day_after_it_joins_the_story() -> None:
    # "A day after", "au lendemain de": everyday phrasing of a follow-up of one event. Its own words lead with no
    # name of another event (a count, rescuers, a weekday), so what the clause names is the story's own event.
    for title, text in (
        (
            "Death toll rises to 41, a day after Russian strike on Kharkiv",
            "Rescuers pulled more bodies from the rubble on Wednesday, raising the toll to 41.",
        ),
        (
            "Le bilan monte à 41 morts au lendemain de la frappe russe sur Kharkiv",
            "Les secouristes ont retiré mercredi de nouveaux corps des décombres.",
        ),
    ):
        follow_up = marked_past(title, text)
        assert follow_up.day_marked & {name_key("Kharkiv")}, title
        assert not marks_conflict(*follow_up, KHARKIV), title
        assert not marks_conflict(*KHARKIV[0], [follow_up]), title
    # A weekday's name is never a name of the lede.
    assert name_key("Wednesday") not in marked_past("Toll rises", "The toll rose on Wednesday.").lede
    # A report whose own words lead with another subject is of another event, a day after the story's.
    visit = marked_past(
        "Zelensky visits Sumy front line, a day after Russian strike on Kharkiv",
        "Zelensky visited troops near Sumy on Wednesday.",
    )
    assert marks_conflict(*visit, KHARKIV)


def test_two_shoals_are_two_places_not_one_shoal() -> None:
    # The noun that ends an English place's name ("Shoal", "City", "Sea") is what places of one kind share: the
    # place a report leads with is the words before it, so two incidents at two shoals lead with two names.
    scarborough = (
        "China coast guard fires water cannon at Philippine boat near Scarborough Shoal",
        "MANILA - China's coast guard fired water cannon at a Philippine fisheries vessel near Scarborough Shoal on "
        "Tuesday, the Philippine Coast Guard said.\n\nThe Scarborough Shoal lies 220 km off Luzon.",
    )
    second_thomas = (
        "Chinese vessels block Philippine resupply mission at Second Thomas Shoal",
        "MANILA - Chinese coast guard ships blocked a Philippine resupply mission to Second Thomas Shoal on "
        "Tuesday, the Philippine military said.\n\nManila keeps a handful of marines at Second Thomas Shoal.",
    )
    own, theirs = named_leads(*scarborough, "en"), named_leads(*second_thomas, "en")
    assert name_key("Scarborough") in own and name_key("Thomas") in theirs and not own & theirs
    assert name_key("Shoal") not in own | theirs
    assert name_key("Scarborough") not in _first_names("\n".join(scarborough))
    report = (own, (figures(scarborough[1]), figures(scarborough[1])), mentioned(*scarborough))
    story = [(theirs, figures(second_thomas[1]), mentioned(*second_thomas))]
    assert exclusive_conflict(*report, leads(*scarborough), background(*scarborough), story)


def test_a_wire_of_one_paragraph_that_recalls_the_storys_event_in_its_last_sentence_is_another_event() -> None:
    # A brief on Bosch's job cuts ends on the day's other news: Volkswagen had already announced the end of
    # Osnabrück's car production that morning. It has no background paragraph; what it names only in a sentence
    # that recalls another event ("hatte bereits", a pluperfect) is its background all the same.
    title = "Bosch streicht weitere 3500 Stellen in Deutschland"
    text = (
        "Der Autozulieferer Bosch baut erneut Arbeitsplätze ab. Bis Ende 2028 sollen an den Standorten Feuerbach "
        "und Bühl rund 3500 Stellen wegfallen, teilte Bosch am Dienstag mit. Am Vormittag hatte bereits "
        "Volkswagen das Aus für die Fahrzeugfertigung in Osnabrück bestätigt."
    )
    told, _, lede = recalled(title, text)
    assert {name_key("Volkswagen"), name_key("Osnabrück")} <= told - lede
    assert name_key("Bosch") in lede
    vw = [
        _report(
            "Volkswagen to end car production at Osnabrueck plant",
            "Volkswagen will end car production at its Osnabrueck plant by 2027, the carmaker said.\n\n"
            "Volkswagen employs 2,300 people in Osnabrueck. Later on Tuesday, supplier Bosch announced job cuts.",
        ),
        _report(
            "Volkswagen va cesser de produire des voitures à Osnabrück",
            "Volkswagen arrêtera l'assemblage de véhicules à Osnabrück d'ici à fin 2027, a annoncé Volkswagen.\n\n"
            "Le même jour, l'équipementier Bosch a annoncé des suppressions de postes.",
        ),
    ]
    bosch = _report(title, text)
    assert not bosch.background & {name_key("Volkswagen"), name_key("Osnabrück")}
    assert _other_lead(bosch, vw)
    # "already" in the present tense is no recall: the reports of one event say it of their own.
    assert not recalled("VW stoppt Produktion", "VW stoppt die Produktion. Die IG Metall ist bereits alarmiert.")[0]


def test_a_country_whose_name_holds_anothers_is_that_country_in_the_checks_in_every_language() -> None:
    # "South Sudan", "Soudan du Sud", "Южный Судан": the checks read South Sudan, not Sudan and a word, as the
    # score's names do; a country of several words that holds no other's ("United States") keys as before.
    south = [
        leads("South Sudan closes its border crossings", "South Sudan closed its border crossings on Monday."),
        leads("Le Soudan du Sud ferme ses frontières", "Le Soudan du Sud a fermé lundi ses postes-frontières."),
        leads("Южный Судан закрыл границу", "Южный Судан в понедельник закрыл пункты пропуска на границе."),
    ]
    sudan = leads("Sudan closes its border crossings", "Sudan closed its border crossings on Monday.")
    assert all(name_key("Sudan") not in found for found in south)
    assert south[0] & south[1] & south[2] and not any(found & sudan for found in south)
    assert name_key("United") in mentioned("Talks in the United States", "The United States hosted talks.")
