"""What a report marks as another event: "hours after the ICBM", "a day after Switzerland", "quelques heures après".

A report of the second of two like events of one day often says so up front: its headline or first sentence
tells its own event, then names the earlier one as past, hours or a day before ("North Korea fires cruise missiles,
hours after ICBM launch"; "Norway aligns with EU's 20th sanctions package, a day after Switzerland"; "Einen Tag nach
dem tödlichen Gleitbombenangriff ..."). What such a clause names is the other event's: when most of a story's reports
lead with it while the report's own words up front do not name it, the report is of another event than the story's,
whatever it scores (the report says so itself); and the other way round, when most of a story's reports name, in such
a clause, what the report leads with.

A briefing marks the call or meeting it tells of the same way ("Zelensky spoke with Trump, who told him about his
conversation with Putin"; "briefed him on his earlier call with", "l'a informé de son entretien avec"): the briefing is
the report's event, the conversation another, and whom they told is a name of the report's own.

Only markers of a short time between two events count (hours, minutes, a day, "shortly", "the day after"): a bare
"after" ("after talks with Putin") and a repetition ("again", "erneut", "de nouveau", "new", "another") are what the
reports of one event say of the topic's earlier events too, weeks before ("Macron et Poutine : un nouvel appel").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from monitor.stories.exonyms import place_of
from monitor.stories.names import (
    _MONTHS,
    _TOKEN,
    LEAD_MIN_CONSONANTS,
    PHRASE_WORDS,
    _alike,
    _phrase,
    _words,
    countries,
    first_sentence,
    name_key,
    place_key,
    starts_sentence,
    whole_places,
    without_dateline,
)

# Words that say the event named next happened hours or minutes before the report's own, in the languages of the
# press (no word of any event). The clause they open runs to the next comma, semicolon, colon, dash or sentence end.
_HOURS_MARKERS = (
    # English
    r"(?:(?:just |only |some |a few |several |two |three |\d+ )?hours|minutes|shortly|"
    r"moments|soon|just|hours and hours|less than \d+ hours) after",
    r"within (?:hours|minutes|\d+ hours) of",
    # French
    r"(?:(?:quelques|plusieurs|deux|trois|\d+) )?heures (?:seulement |à peine |tout juste )?après",
    r"(?:quelques )?minutes après", r"peu après", r"juste après",
    # German
    r"(?:(?:wenige|wenigen|einige|einigen|zwei|drei|\d+) )?stunden,? nach(?:dem)?", r"minuten nach",
    r"kurz nach(?:dem)?", r"unmittelbar nach",
    # Russian
    r"(?:через|спустя) (?:несколько |считанные |пару |два |три |\d+ )?(?:час|часа|часов|минут) после",
    r"вскоре после", r"сразу после", r"вслед за",
    # Spanish
    r"(?:(?:pocas|unas|varias|dos|tres|\d+) )?horas después de", r"minutos después de", r"poco después de",
    # Italian
    r"(?:(?:poche|alcune|due|tre|\d+) )?ore dopo", r"minuti dopo", r"poco dopo",
    r"a (?:poche|qualche|\d+) ore? d(?:a|al|alla|ai|agli|all(?=['\u2019]))",
)  # fmt: skip
# Words that say it happened the day before: everyday phrasing of a follow-up of one event too ("Death toll rises to
# 41, a day after Russian strike on Kharkiv"), so what they mark counts only when the report's own words up front
# lead with a name the story's do not give (the other event has its own subject: "Norway aligns with EU's 20th
# sanctions package, a day after Switzerland").
_DAY_MARKERS = (
    r"(?:a|one) day after", r"the day after", r"the (?:morning|night|evening) after", r"less than a day after",
    r"within a day of",
    r"(?:un|au) jour après", r"(?:au|le) lendemain (?:de|du|des|d(?=['\u2019]))",
    r"(?:einen|ein|einem) tag nach", r"tags nach",
    r"(?:через|спустя) (?:несколько |считанные |пару |два |три |\d+ )?(?:сутки|день|дня) после",
    r"на следующий день после",
    r"(?:un|al) día (?:después|siguiente) de",
    r"(?:un|il) giorno dopo", r"all['\u2019]indomani d(?:i|el|ella|ei|egli|ell(?=['\u2019]))",
)  # fmt: skip
# Words that say someone told another of a conversation or a meeting already held: what follows is that other event
# ("Trump, who told him about his conversation with Putin"; "Erdogan briefed Zelenskyy on his earlier call with Putin"),
# the report's own being the briefing. Only with the word for a call, talks or a meeting: "briefed on the situation" is
# no event.
_CONVERSATION = (
    r"(?:(?:his|her|their|the|an?) )?(?:earlier |previous |recent )?"
    r"(?:(?:phone |telephone )?call|conversation|talks|meeting)"
)
_TOLD_MARKERS = (
    # English
    rf"(?:briefed|debriefed|updated|informed|told) (?:\w+ ){{0,3}}(?:on|about|of) {_CONVERSATION}",
    # French
    r"(?:informée?s?|briefée?s?|rendu compte|parlé) (?:\w+ )?(?:de|du|sur) (?:(?:son|sa|leur|l['\u2019]|le|la) ?)?"
    r"(?:récent |précédent )?(?:entretien|appel|conversation|échange|rencontre|réunion)",
    # German
    r"(?:informierte|informiert|unterrichtete|unterrichtet|berichtete|erzählte) (?:\w+ ){0,3}(?:über|von) "
    r"(?:sein(?:em|en|e)?|ihr(?:em|en|e)?|das|den|dem|die) (?:vorherige[mn]? |frühere[mn]? )?"
    r"(?:telefonat|gespräch|treffen|unterredung)",
    # Russian
    r"(?:рассказал|рассказала|рассказали|проинформировал|проинформировала|информировал|информировала) "
    r"(?:\w+ ){0,2}об? (?:своей |своём |своем |его |её |ее |их |недавней |недавнем |состоявшейся |состоявшемся )?"  # noqa: RUF001
    r"(?:беседе|разговоре|переговорах|встрече)",
    # Spanish
    r"(?:informó|informado|informada|contó|habló) (?:\w+ ){0,2}(?:de|del|sobre) (?:su |la |el )?"
    r"(?:conversación|llamada|reunión|encuentro)",
    # Italian
    r"(?:informato|informata|aggiornato|aggiornata|raccontato|riferito) (?:\w+ ){0,2}(?:del|della|sul|sulla) "
    r"(?:sua |suo )?(?:telefonata|colloquio|conversazione|incontro)",
)  # fmt: skip
_AFTER = re.compile(
    r"(?<!\w)(?:(?P<day>"
    + "|".join(_DAY_MARKERS)
    + r")|"
    + "|".join(_HOURS_MARKERS)
    + r"|(?P<told>"
    + "|".join(_TOLD_MARKERS)
    + r"))(?!\w)",
    re.IGNORECASE,
)
# Weekday and month names, capitalised in English and German: a date, never a name.
_CALENDAR = _MONTHS | frozenset(
    _words(
        "monday tuesday wednesday thursday friday saturday sunday lundi mardi mercredi jeudi vendredi samedi dimanche "
        "montag dienstag mittwoch donnerstag freitag samstag sonntag понедельник вторник среда среду четверг пятница "
        "пятницу суббота субботу воскресенье lunes martes miércoles jueves viernes sábado domingo lunedì martedì "
        "mercoledì giovedì venerdì sabato domenica"
    )
)
# The codes of the table of places for names of several words that are no country ("=eu": European Union).
_NOT_COUNTRIES = frozenset({"=eu", "=un", "=nato", "=qo", "=zz"})
# Where the clause a marker opens ends.
_CLAUSE_END = re.compile(r"[,;:!?\n]|\.(?:\s|\Z)|\s[-\u2013\u2014]\s")


def _is_country(place: str | None) -> bool:
    """Whether a place of the table (`place_of`, a phrase's code) is a country or territory, not a city or an
    organisation."""
    if place is None:
        return False
    if place.startswith("="):
        return len(place) == 3 and place not in _NOT_COUNTRIES
    return place in countries()


def _keys(text: str, countries_too: bool = True) -> frozenset[str]:
    """The keys of every capitalised word of a text, as written (`name_key`) and as a place (`place_key`), but a
    weekday's or a month's name; without `countries_too`, not those of a country's name, of one word or several
    ("United States", "Soudan du Sud": where the earlier event took place, "in western Türkiye", is the context of
    both events, not what tells them apart) nor those too short to tell names apart."""
    found: set[str] = set()
    text = whole_places(text)
    tokens = list(_TOKEN.finditer(text))
    skip = 0
    for i, f in enumerate(tokens):
        word = f.group()
        if skip:
            skip -= 1
            continue
        if not word[0].isupper() or len(word) < 2 or word.lower() in _CALENDAR:
            continue
        if not countries_too:
            phrase = _phrase(text, tokens[i : i + PHRASE_WORDS])
            if phrase is not None and _is_country(phrase[1]):
                skip = phrase[0] - 1
                continue
            if _is_country(place_of(word)) or _is_country(name_key(word)):  # "South-Sudan" (`whole_places`)
                continue
        found.add(name_key(word))
        found.add(place_key(word))
    if not countries_too:
        found = {k for k in found if not k.startswith("~") and len(k) >= LEAD_MIN_CONSONANTS}
    return frozenset(found - {""})


def _subject(text: str) -> frozenset[str]:
    """The keys of the names that say who or what acts in a report's own words up front: its capitalised words but
    a country inside a sentence (where: "rescuers in Ukraine") and a word that starts one (a capital that says
    nothing: "Death toll rises") unless a place's, a country's or an abbreviation ("Norway aligns", "Pyongyang a
    tiré", "ICBM")."""
    found: set[str] = set()
    for line in text.split("\n"):
        line = whole_places(line)
        for f in _TOKEN.finditer(line):
            word = f.group()
            if not word[0].isupper():
                continue
            if not starts_sentence(line, f.start()):
                found |= _keys(word, countries_too=False)
            elif place_of(word) is not None or word.isupper():
                found |= _keys(word)
    return frozenset(k for k in found if not k.startswith("~") and len(k) >= LEAD_MIN_CONSONANTS)


class Marks(NamedTuple):
    """What a report's headline and first sentence mark as another, earlier event (`marked_past`)."""

    # Names given only in a clause of hours or minutes before ("hours after the ICBM launch").
    marked: frozenset[str]
    # Names given only in a clause of a day before ("a day after Switzerland").
    day_marked: frozenset[str]
    # The names of its headline and first sentence outside those clauses (what it leads with).
    lede: frozenset[str]
    # Those of them that say who or what acts (`_subject`).
    subject: frozenset[str]


def _split(text: str) -> tuple[str, str, str]:
    """The text without the clauses that a marker of a short while before opens, and those clauses: those of
    hours or minutes before, and those of a day before."""
    own: list[str] = []
    marked: list[str] = []
    day: list[str] = []
    at = 0
    for found in _AFTER.finditer(text):
        if found.start() < at:
            continue
        own.append(text[at : found.start()])
        if found.group("told"):
            own.append(found.group())  # whom they told is of the report's own event ("informierte Selenskyj über")
        end = _CLAUSE_END.search(text, found.end())
        stop = end.start() if end is not None else len(text)
        (day if found.group("day") else marked).append(text[found.end() : stop])
        at = stop
    own.append(text[at:])
    return " ".join(own), " ".join(marked), " ".join(day)


@functools.lru_cache(maxsize=8)
def _lede_parts(title: str, text: str) -> tuple[str, str, str]:
    """The report's headline and first sentence (its dateline aside) without the clauses that a marker of a short
    while before opens, and those clauses (of hours or minutes before, of a day before)."""
    own_parts: list[str] = []
    marked_parts: list[str] = []
    day_parts: list[str] = []
    for part in (title, first_sentence(without_dateline(text))):
        own, marked, day = _split(part)
        own_parts.append(own)
        marked_parts.append(marked)
        day_parts.append(day)
    return (
        "\n".join(own_parts),
        " ".join(p for p in marked_parts if p.strip()),
        " ".join(p for p in day_parts if p.strip()),
    )


def _only_marked(marked: frozenset[str], own: frozenset[str]) -> frozenset[str]:
    return frozenset(k for k in marked if not any(_alike(k, o) for o in own))


def marked_past(title: str, text: str) -> Marks:
    """What the report's headline and first sentence (its dateline aside) name as an event a short while before
    its own ("hours after the ICBM launch": ICBM; "a day after Switzerland": Switzerland), that they do not name
    outside such a clause, but a country (where both took place); the names of its headline and first sentence
    outside those clauses (what it leads with), and those of them that say who acts (`_subject`)."""
    own, marked, day = _lede_parts(title, text)
    own_keys = _keys(own)
    return Marks(
        _only_marked(_keys(marked, countries_too=False), own_keys) if marked else frozenset(),
        _only_marked(_keys(day, countries_too=False), own_keys) if day else frozenset(),
        own_keys,
        _subject(own),
    )


def marked_names(title: str, text: str) -> frozenset[str]:
    """Every name the report's headline and first sentence give only in a clause of a short while before, countries
    too ("Norway aligns with EU's 20th sanctions package, a day after Switzerland": Switzerland): none of them is
    what the report leads with."""
    own, marked, day = _lede_parts(title, text)
    both = f"{marked} {day}".strip()
    return _only_marked(_keys(both), _keys(own)) if both else frozenset()


def _marking(marks: Marks, others: frozenset[str]) -> frozenset[str]:
    """What a report marks as an earlier event against reports whose ledes name `others`: what it marks as hours
    before, and what it marks as a day before when its own words lead with a name they do not give."""
    if marks.day_marked and any(not any(_alike(k, o) for o in others) for k in marks.subject):
        return marks.marked | marks.day_marked
    return marks.marked


def marks_conflict(
    marked: frozenset[str],
    day_marked: frozenset[str],
    lede: frozenset[str],
    subject: frozenset[str],
    theirs: Sequence[Marks],
) -> bool:
    """Whether the report or most of a story's reports mark the other's event as another, earlier one: most of the
    story's reports lead with (name in their headline or first sentence outside such clauses) a name the report
    names only in a clause of a short while before (`marked_past`), or most of them name so a name the report
    leads with. A clause of a day before counts only when the report that gives it leads with a name the other
    does not give (the story's reports, for the report's). `theirs`: each of the story's reports' `Marks`."""
    if not theirs:
        return False
    own = Marks(marked, day_marked, lede, subject)
    if marked or day_marked:
        keys = _marking(own, frozenset().union(*(m.lede for m in theirs)))
        told = sum(any(_alike(k, lead) for k in keys for lead in m.lede) for m in theirs) if keys else 0
        if 2 * told > len(theirs):
            return True
    marking = sum(any(_alike(k, lead) for k in _marking(Marks(*m), lede) for lead in lede) for m in theirs)
    return 2 * marking > len(theirs)
