"""The table of `exonyms` (`exonyms.tsv`), made from the installed Babel's copy of the Unicode CLDR:

    python -m monitor.stories.exonyms_table > monitor/stories/exonyms.tsv

CLDR names countries and the cities of time zones; the other cities the press names in each language's own
way (München, Мюнхен: Munich) are listed here (`CITIES`). Only this module imports Babel: the service reads
the shipped table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import babel
from babel import Locale
from babel.core import get_global

from monitor.stories.exonyms import form
from monitor.stories.names import name_key

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
# Cities of no time zone (CLDR names none of them) whose names in the languages of the press key apart (München
# "mnsn", Мюнхен "mngn", Munich "mns"; Mailand and Milan; Peking and Beijing), or whose English name keys as a
# place of CLDR does (Frankfurt as France, "frnk"): each English name with the others, by their last word when
# the name has several ("Den Haag", "La Haye": Hague; "Sankt Petersburg": Petersburg).
CITIES = {
    "Munich": ("München", "Мюнхен", "Múnich", "Munique", "Monachium", "Mnichov"),
    "Cologne": ("Köln", "Кёльн", "Кельн", "Kolonia"),
    "Nuremberg": ("Nürnberg", "Нюрнберг", "Norimberga", "Núremberg", "Norymberga"),
    "Frankfurt": ("Francfort", "Франкфурт", "Francoforte", "Fráncfort"),
    "Hanover": ("Hannover", "Hanovre", "Ганновер"),
    "Milan": ("Mailand", "Милан", "Milano", "Milán", "Mediolan"),
    "Naples": ("Neapel", "Неаполь", "Napoli", "Nápoles", "Neapol"),
    "Florence": ("Florenz", "Флоренция", "Firenze", "Florencia", "Florencja"),
    "Venice": ("Venedig", "Venise", "Венеция", "Venezia", "Venecia", "Wenecja"),
    "Geneva": ("Genf", "Genève", "Женева", "Ginevra", "Ginebra", "Genewa"),
    "Basel": ("Bâle", "Базель", "Basilea", "Bazylea"),
    "Hague": ("Haag", "Haye", "Гаага", "Haya"),
    "Antwerp": ("Antwerpen", "Anvers", "Антверпен", "Anversa", "Amberes", "Antwerpia"),
    "Ghent": ("Gent", "Gand", "Гент"),
    "Bruges": ("Brügge", "Brugge", "Брюгге", "Brujas"),
    "Seville": ("Sevilla", "Séville", "Севилья", "Siviglia"),
    "Krakow": ("Kraków", "Krakau", "Cracovie", "Краков", "Cracovia"),
    "Gdansk": ("Gdańsk", "Danzig", "Гданьск", "Dantzig"),
    "Wroclaw": ("Wrocław", "Breslau", "Вроцлав", "Breslavia"),
    "Lviv": ("Lwiw", "Lemberg", "Lwów", "Львов", "Львів", "Leopoli"),
    "Mykolaiv": ("Mykolajiw", "Николаев", "Миколаїв", "Nikolaïev", "Nikolajew", "Mikołajów"),
    "Thessaloniki": ("Thessalonique", "Saloniki", "Салоники", "Salonicco", "Tesalónica"),
    "Marseille": ("Marseilles", "Marsella", "Марсель", "Marsiglia", "Marsylia"),
    "Beijing": ("Peking", "Pékin", "Пекин", "Pechino", "Pekín", "Pekin"),
    "Delhi": ("Нью-Дели", "Neu-Delhi"),
    "Gothenburg": ("Göteborg", "Гётеборг", "Гетеборг"),
    "Petersburg": ("Петербург", "Санкт-Петербург", "Saint-Pétersbourg", "Pietroburgo", "Petersburgo"),
}  # fmt: skip


def table_lines() -> list[str]:
    """The lines of the table, from the installed Babel's CLDR and CITIES: a form (or the forms of a name of
    several words) of two places of CLDR is left out; one of CLDR's is not a city's of CITIES."""
    named: dict[str, set[str]] = {}
    for place, names in _places():
        for name in names:
            if found := " ".join(form(word) for word in name.split()):
                named.setdefault(found, set()).add(place)
    for place, abbreviations in ABBREVIATIONS.items():
        for abbreviation in abbreviations:
            named.setdefault(form(abbreviation), set()).add(place)
    rows = {found: next(iter(places)) for found, places in named.items() if len(places) == 1}
    for city, place, others in _cities(set(rows.values())):
        rows |= {form(name): place for name in (city, *others) if form(name) not in named}
    return [
        f"# babel {babel.__version__}; CLDR names in {' '.join(LANGUAGES)}",
        *sorted(f"{f}\t{p}" for f, p in rows.items()),
    ]


def _cities(places: set[str]) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Each of CITIES: its English name, what `place_of` gives for it (that name; "=" and it when it keys as a
    place of CLDR does: Frankfurt as France), and its other names."""
    keys = {name_key(place) for place in places if not place.startswith("=")}
    for city, names in CITIES.items():
        yield city, (f"={city.lower()}" if name_key(city) in keys else city), names


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
