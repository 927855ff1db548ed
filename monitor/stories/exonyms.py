# ruff: noqa: RUF001, RUF002 (names of places in Cyrillic, on purpose)
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

after a header line naming Babel's version, one line per name, `forms<TAB>place`: a name of one word in one
of its cases by its key (`key`: Kubą as "kuba", Москве as "москве"), an abbreviation as written ("EU",
"ООН"), or the forms (`form`) of the words of a name of several words, separated by spaces; and what
`place_of` gives for it.

A name of one word is looked up whole, in one of the cases its language gives it (`exonyms_table.inflected`:
Москва, Москвы, Москве...; Russlands): not by a stem, which other words share (Суд, a court, with Судан; Sir
with Сирия; Franco with France).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from anyascii import anyascii

TABLE = Path(__file__).with_name("exonyms.tsv")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_VOWELS_AT_END = re.compile(r"[aeiouy]+\Z")
# A stem shorter than this is no name: an abbreviation is looked up whole (EU, UE, ONU).
MIN_STEM = 3
# Words of a name of several words compared by this many letters of their forms at most (an inflected word
# starts with its name's form: "Соединенных Штатов" with "soedinenn", "shtat"); shorter ones must be equal.
PHRASE_PREFIX = 4


def place_of(word: str) -> str | None:
    """The English name of the country, time-zone city or organisation a capitalised word names in one of
    LANGUAGES, in any of its cases there ("Moskau", "Москве", "Russlands": Moscow, Moscow, Russia), "=" and a
    code for those of several English words ("Royaume-Uni", "Великобритания": "=gb"; "OTAN": "=nato"); None for
    any other word, however near a name's letters ("Суд", a court, is not Судан; "Franco" is not France)."""
    places = exonyms()
    return places.get(word) or places.get(key(word))


@functools.lru_cache(maxsize=1 << 16)  # the same words recur in report after report
def key(word: str) -> str:
    """A word of one word's name as the table looks it up, whole, in its own script: lower case, a Latin one in
    Latin letters without accents (Kubą: "kuba"; Zürich: "zurich"), a Cyrillic one in Cyrillic letters, ё as е
    (Москве: "москве"), so that a case of a name in one script is no word of another (Рима, Rome's, and rima)."""
    lower = word.lower()
    if _CYRILLIC.search(lower):
        return re.sub(r"[^\u0430-\u045f\u0491\-]", "", lower.replace("ё", "е"))
    return re.sub(r"[^a-z\-]", "", anyascii(lower))


@functools.lru_cache(maxsize=1 << 16)
def form(word: str) -> str:
    """A word of a name of several words as the table compares it (`phrase_at`): Latin letters, lower case, no
    accents, without its final vowels (Штаты, Штатов: "shtat"; Unione, Union: "union")."""
    latin = re.sub(r"[^a-z\-]", "", anyascii(word).lower())
    stem = _VOWELS_AT_END.sub("", latin)
    return stem if len(stem) >= MIN_STEM else latin


@functools.cache
def _table() -> tuple[dict[str, str], dict[str, list[tuple[tuple[str, ...], str]]]]:
    """The shipped table: names of one word by their key (abbreviations as written), and names of several
    words by the first PHRASE_PREFIX letters of their first word's form (longest name first)."""
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
    """The keys (`key`) of the one-word names of countries and time-zone cities in each of their cases, and the
    abbreviations as written, each with what `place_of` gives for it."""
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
