"""The table of `exonyms` (`exonyms.tsv`), made from the installed Babel's copy of the Unicode CLDR:

    python -m monitor.stories.exonyms_table > monitor/stories/exonyms.tsv

Only this module imports Babel: the service reads the shipped table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import babel
from babel import Locale
from babel.core import get_global

from monitor.stories.exonyms import form

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


def table_lines() -> list[str]:
    """The lines of the table, from the installed Babel's CLDR: a form (or the forms of a name of several
    words) of two places is left out."""
    named: dict[str, set[str]] = {}
    for place, names in _places():
        for name in names:
            if found := " ".join(form(word) for word in name.split()):
                named.setdefault(found, set()).add(place)
    for place, abbreviations in ABBREVIATIONS.items():
        for abbreviation in abbreviations:
            named.setdefault(form(abbreviation), set()).add(place)
    rows = sorted(f"{found}\t{next(iter(places))}" for found, places in named.items() if len(places) == 1)
    return [f"# babel {babel.__version__}; CLDR names in {' '.join(LANGUAGES)}", *rows]


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


if __name__ == "__main__":
    sys.stdout.write("\n".join(table_lines()) + "\n")
