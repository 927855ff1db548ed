"""Names that mean one place or body whatever the language: Moskau, Moscou, Москва and Moscow; Bruxelles and
Brussels; Франция and France.

A name's key (`names.name_key`) survives transliteration and inflection, not translation: Moskau keys as
"msk", Moscow as "mskv", Bruxelles as "brks", Brussels as "brsl", so two reports of one event in two
languages lose the credit of the city they both name. The names of countries and of the cities of time
zones in the languages of the press come from the Unicode CLDR, through Babel (its data ships in the
wheel: nothing is fetched); each stands for its English name. Abbreviations (NATO and OTAN, in Cyrillic
too; USA and US) are in no such data: the few the press uses are listed here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from anyascii import anyascii
from babel import Locale
from babel.core import get_global

# The languages of the press whose names are capitalised (names of scripts without case are never read as
# names): their CLDR names of countries and cities.
LANGUAGES = ("en", "de", "fr", "ru", "uk", "es", "it", "pt", "pl", "cs", "nl", "tr")
# What the press writes for organisations and for the two countries of several English words it names
# most, in those languages (CLDR has the organisations' full names only, and those countries' as phrases).
ABBREVIATIONS = {
    "=eu": ("EU", "UE", "ЕС", "ЄС", "Евросоюз", "Євросоюз"),  # noqa: RUF001 (Cyrillic on purpose)
    "=nato": ("NATO", "OTAN", "НАТО"),  # noqa: RUF001
    "=un": ("UN", "ONU", "ООН", "UNO"),  # noqa: RUF001
    "=us": ("US", "USA", "США"),
    "=gb": ("UK", "Britain", "Großbritannien", "Grande-Bretagne"),
}
_VOWELS_AT_END = re.compile(r"[aeiouy]+\Z")
# A stem shorter than this is no name: an abbreviation is looked up whole (EU, UE, ONU).
MIN_STEM = 3
# A place's name of this many letters or more with an s added is its genitive (German, Dutch: Russlands).
GENITIVE_MIN_LETTERS = 6


def place_of(word: str) -> str | None:
    """The English name of the country, time-zone city or organisation a capitalised word names in one of
    LANGUAGES ("Moskau", "Москве", "Russlands": Moscow, Moscow, Russia), "=" and a code for those of
    several English words ("Royaume-Uni", "Великобритания": "=gb"; "OTAN": "=nato"); None for any other word."""
    places = exonyms()
    place = places.get(form(word))
    if place is None and len(word) >= GENITIVE_MIN_LETTERS and word[-1] == "s":
        place = places.get(form(word[:-1]))
    return place


@functools.lru_cache(maxsize=1 << 16)  # the same words recur in report after report
def form(word: str) -> str:
    """A name as the table looks it up: Latin letters, lower case, no accents, without its final vowels
    (Москва, Москве, Москву: "moskv"; Франция, Франции: "frants"; Rosja, Rosji: "rosj")."""
    latin = re.sub(r"[^a-z\-]", "", anyascii(word).lower())
    stem = _VOWELS_AT_END.sub("", latin)
    return stem if len(stem) >= MIN_STEM else latin


@functools.cache
def exonyms() -> dict[str, str]:
    """The forms (`form`) of the one-word names of countries and time-zone cities in LANGUAGES, and of
    ABBREVIATIONS, each with what `place_of` gives for it; a form of two places is left out."""
    places: dict[str, set[str]] = {}
    for place, names in _places():
        for name in names:
            if " " not in name and (found := form(name)):
                places.setdefault(found, set()).add(place)
    for place, abbreviations in ABBREVIATIONS.items():
        for abbreviation in abbreviations:
            places.setdefault(form(abbreviation), set()).add(place)
    return {found: next(iter(named)) for found, named in places.items() if len(named) == 1}


# Words of a name of several words compared by this many letters of their forms at most (an inflected word
# starts with its name's form: "Соединенных Штатов" with "soedinenn", "shtat"); shorter ones must be equal.
PHRASE_PREFIX = 4


@functools.cache
def phrases() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The names of several words of countries and organisations in LANGUAGES ("United States", "Union
    européenne", "Соединенные Штаты"), by the first PHRASE_PREFIX letters of their first word's form: the
    forms of their words, longest name first, and what `place_of` gives for them."""
    named: dict[tuple[str, ...], set[str]] = {}
    for place, names in _places():
        for name in names:
            if " " in name:
                named.setdefault(tuple(form(word) for word in name.split()), set()).add(place)
    found: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for words, places in named.items():
        if len(places) == 1:
            found.setdefault(words[0][:PHRASE_PREFIX], []).append((words, next(iter(places))))
    for entries in found.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return found


def phrase_at(words: list[str]) -> tuple[int, str] | None:
    """How many of these words (the first capitalised, the others after it with a space between each) name a
    country or an organisation in a name of several words, and what `place_of` gives for it."""
    candidates = phrases().get(form(words[0])[:PHRASE_PREFIX])
    if not candidates:
        return None
    forms = [form(word) for word in words]
    for names, place in candidates:
        if len(names) <= len(forms) and all(
            found.startswith(name) if len(name) >= PHRASE_PREFIX else found == name
            for found, name in zip(forms, names, strict=False)
        ):
            return len(names), place
    return None


def _places() -> Iterator[tuple[str, list[str]]]:
    """Each country and time-zone city: its English name (or "=" and its code), and its names in LANGUAGES."""
    locales = [Locale.parse(language) for language in LANGUAGES]
    english = locales[0]
    for code, name in english.territories.items():
        if code.isalpha():  # not the regions by number ("Western Europe")
            yield (
                (name if " " not in name else f"={code.lower()}"),
                [locale.territories.get(code, name) for locale in locales],
            )
    for zone in get_global("zone_territories"):
        city = _city(zone, english)
        if not zone.startswith("Etc/") and " " not in city:
            yield city, [_city(zone, locale) for locale in locales]


def _city(zone: str, locale: Locale) -> str:
    """The exemplar city of a time zone in a locale: CLDR's name, else the zone's own ("Europe/Kyiv": Kyiv)."""
    city = locale.time_zones.get(zone, {}).get("city")
    return str(city) if city else zone.rsplit("/", 1)[-1].replace("_", " ")
