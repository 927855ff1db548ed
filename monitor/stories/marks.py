"""What a report marks as another event: "hours after the ICBM", "a day after Switzerland", "quelques heures après".

A report of the second of two like events of one day often says so up front: its headline or first sentence
tells its own event, then names the earlier one as past, hours or a day before ("North Korea fires cruise missiles,
hours after ICBM launch"; "Norway aligns with EU's 20th sanctions package, a day after Switzerland"; "Einen Tag nach
dem tödlichen Gleitbombenangriff ..."). What such a clause names is the other event's: when most of a story's reports
lead with it while the report's own words up front do not name it, the report is of another event than the story's,
whatever it scores (the report says so itself); and the other way round, when most of a story's reports name, in such
a clause, what the report leads with.

Only markers of a short time between two events count (hours, minutes, a day, "shortly", "the day after"): a bare
"after" ("after talks with Putin") and a repetition ("again", "erneut", "de nouveau", "new", "another") are what the
reports of one event say of the topic's earlier events too, weeks before ("Macron et Poutine : un nouvel appel").
"""

from __future__ import annotations

import functools
import re

from monitor.stories.exonyms import place_of
from monitor.stories.names import (
    LEAD_MIN_CONSONANTS,
    _alike,
    _capitals,
    countries,
    first_sentence,
    name_key,
    place_key,
    without_dateline,
)

# Words that say the event named next happened a short while before the report's own, in the languages of the press
# (no word of any event). The clause they open runs to the next comma, semicolon, colon, dash or sentence end.
_AFTER_MARKERS = (
    # English
    r"(?:(?:just |only |some |a few |several |two |three |\d+ )?hours|minutes|(?:a|one) day|the day|shortly|"
    r"moments|soon|just|hours and hours|the (?:morning|night|evening)|less than (?:a day|\d+ hours)) after",
    r"within (?:hours|minutes|a day|\d+ hours) of",
    # French
    r"(?:(?:quelques|plusieurs|deux|trois|\d+) )?heures (?:seulement |à peine |tout juste )?après",
    r"(?:quelques )?minutes après", r"peu après",
    r"(?:un|au) jour après", r"juste après", r"(?:au|le) lendemain (?:de|du|des|d(?=['\u2019]))",
    # German
    r"(?:(?:wenige|wenigen|einige|einigen|zwei|drei|\d+) )?stunden,? nach(?:dem)?", r"minuten nach",
    r"kurz nach(?:dem)?",
    r"(?:einen|ein|einem) tag nach", r"unmittelbar nach", r"tags nach",
    # Russian
    r"(?:через|спустя) (?:несколько |считанные |пару |два |три |\d+ )?(?:час|часа|часов|минут|сутки|день|дня)"
    r" после",
    r"на следующий день после", r"вскоре после", r"сразу после", r"вслед за",
    # Spanish
    r"(?:(?:pocas|unas|varias|dos|tres|\d+) )?horas después de", r"minutos después de", r"(?:un|al) día"
    r" (?:después|siguiente) de", r"poco después de",
    # Italian
    r"(?:(?:poche|alcune|due|tre|\d+) )?ore dopo", r"minuti dopo", r"(?:un|il) giorno dopo", r"poco dopo",
    r"a (?:poche|qualche|\d+) ore? d(?:a|al|alla|ai|agli|all(?=['\u2019]))",
    r"all['\u2019]indomani d(?:i|el|ella|ei|egli|ell(?=['\u2019]))",
)  # fmt: skip
_AFTER = re.compile(r"(?<!\w)(?:" + "|".join(_AFTER_MARKERS) + r")(?!\w)", re.IGNORECASE)
# Where the clause a marker opens ends.
_CLAUSE_END = re.compile(r"[,;:!?\n]|\.(?:\s|\Z)|\s[-\u2013\u2014]\s")


def _keys(text: str, countries_too: bool = True) -> frozenset[str]:
    """The keys of every capitalised word of a text, as written (`name_key`) and as a place (`place_key`); without
    `countries_too`, not those of a country's name (where the earlier event took place, "in western Türkiye", is the
    context of both events, not what tells them apart) nor those too short to tell names apart."""
    found: set[str] = set()
    for f in _capitals(text):
        word = f.group()
        if not countries_too and place_of(word) in countries():
            continue
        found.add(name_key(word))
        found.add(place_key(word))
    if not countries_too:
        found = {k for k in found if not k.startswith("~") and len(k) >= LEAD_MIN_CONSONANTS}
    return frozenset(found - {""})


def _split(text: str) -> tuple[str, str]:
    """The text without the clauses that a marker of a short while before opens, and those clauses."""
    own: list[str] = []
    marked: list[str] = []
    at = 0
    for found in _AFTER.finditer(text):
        if found.start() < at:
            continue
        own.append(text[at : found.start()])
        end = _CLAUSE_END.search(text, found.end())
        stop = end.start() if end is not None else len(text)
        marked.append(text[found.end() : stop])
        at = stop
    own.append(text[at:])
    return " ".join(own), " ".join(marked)


@functools.lru_cache(maxsize=8)
def _lede_parts(title: str, text: str) -> tuple[str, str]:
    """The report's headline and first sentence (its dateline aside) without the clauses that a marker of a short
    while before opens, and those clauses."""
    own_parts: list[str] = []
    marked_parts: list[str] = []
    for part in (title, first_sentence(without_dateline(text))):
        own, marked = _split(part)
        own_parts.append(own)
        marked_parts.append(marked)
    return "\n".join(own_parts), " ".join(p for p in marked_parts if p.strip())


def _only_marked(marked: frozenset[str], own: frozenset[str]) -> frozenset[str]:
    return frozenset(k for k in marked if not any(_alike(k, o) for o in own))


def marked_past(title: str, text: str) -> tuple[frozenset[str], frozenset[str]]:
    """What the report's headline and first sentence (its dateline aside) name as an event a short while before
    its own ("hours after the ICBM launch": ICBM), that they do not name outside such a clause, but a country
    (where both took place); and the names of its headline and first sentence outside those clauses (what it
    leads with)."""
    own, marked = _lede_parts(title, text)
    own_keys = _keys(own)
    return (_only_marked(_keys(marked, countries_too=False), own_keys) if marked else frozenset()), own_keys


def marked_names(title: str, text: str) -> frozenset[str]:
    """Every name the report's headline and first sentence give only in a clause of a short while before, countries
    too ("Norway aligns with EU's 20th sanctions package, a day after Switzerland": Switzerland): none of them is
    what the report leads with."""
    own, marked = _lede_parts(title, text)
    return _only_marked(_keys(marked), _keys(own)) if marked else frozenset()


def marks_conflict(
    own_marked: frozenset[str],
    own_lede: frozenset[str],
    theirs: list[tuple[frozenset[str], frozenset[str]]],
) -> bool:
    """Whether the report or most of a story's reports mark the other's event as another, earlier one: most of the
    story's reports lead with (name in their headline or first sentence outside such clauses) a name the report
    names only in a clause of a short while before (`marked_past`), or most of them name so a name the report
    leads with. `theirs`: each of the story's reports' marked names and lede names, as `marked_past` gives them."""
    if not theirs:
        return False
    if own_marked:
        told = sum(any(_alike(k, lead) for k in own_marked for lead in lede) for _, lede in theirs)
        if 2 * told > len(theirs):
            return True
    marking = sum(bool(marked) and any(_alike(k, lead) for k in marked for lead in own_lede) for marked, _ in theirs)
    return 2 * marking > len(theirs)
