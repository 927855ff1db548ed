"""Names that mean one place or body whatever the language: Moskau, Moscou, Москва and Moscow; Bruxelles and
Brussels; Франция and France; les États-Unis and the United States.

A name's key (`names.name_key`) survives transliteration and inflection, not translation: Moskau keys as
"msk", Moscow as "mskv", Bruxelles as "brks", Brussels as "brsl", so two reports of one event in two
languages lose the credit of the city they both name. The names of countries and of the cities of time
zones in the languages of the press come from the Unicode CLDR; each stands for its English name.
Abbreviations (NATO and OTAN, in Cyrillic too; USA and US) are in no such data, nor other cities (München,
Мюнхен, Munich; Mailand, Milan; Peking, Beijing): the few the press uses are listed in `exonyms_table`.

The table ships beside this module (`exonyms.tsv`: loading CLDR's locales at run time would keep 16 MiB
more in every replica for a table of 44 KB). It is made from Babel's copy of CLDR with

    python -m monitor.stories.exonyms_table > monitor/stories/exonyms.tsv

after a header line naming Babel's version, one line per name, `forms<TAB>place`: the forms (`form`) of
its words, separated by spaces, and what `place_of` gives for it.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from anyascii import anyascii

TABLE = Path(__file__).with_name("exonyms.tsv")
_VOWELS_AT_END = re.compile(r"[aeiouy]+\Z")
# A stem shorter than this is no name: an abbreviation is looked up whole (EU, UE, ONU).
MIN_STEM = 3
# A place's name of this many letters or more with an s added is its genitive (German, Dutch: Russlands).
GENITIVE_MIN_LETTERS = 6
# Words of a name of several words compared by this many letters of their forms at most (an inflected word
# starts with its name's form: "Соединенных Штатов" with "soedinenn", "shtat"); shorter ones must be equal.
PHRASE_PREFIX = 4


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
def _table() -> tuple[dict[str, str], dict[str, list[tuple[tuple[str, ...], str]]]]:
    """The shipped table: names of one word by their form, and names of several words by the first
    PHRASE_PREFIX letters of their first word's form (longest name first)."""
    words: dict[str, str] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line:
            continue
        forms, _, place = line.partition("\t")
        if " " in forms:
            split = tuple(forms.split(" "))
            phrases.setdefault(split[0][:PHRASE_PREFIX], []).append((split, place))
        else:
            words[forms] = place
    for entries in phrases.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return words, phrases


def exonyms() -> dict[str, str]:
    """The forms (`form`) of the one-word names of countries, time-zone cities and abbreviations, each with
    what `place_of` gives for it."""
    return _table()[0]


def phrases() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The names of several words of countries and organisations ("United States", "Union européenne",
    "Соединенные Штаты"), by the first PHRASE_PREFIX letters of their first word's form: the forms of their
    words, longest name first, and what `place_of` gives for them."""
    return _table()[1]


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
