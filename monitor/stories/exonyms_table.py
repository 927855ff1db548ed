# ruff: noqa: RUF001, RUF002 (the names and endings of places in Cyrillic, on purpose)
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

from monitor.stories.exonyms import form, key
from monitor.stories.names import name_key

# The languages of the press whose names are capitalised (names of scripts without case are never read as
# names): their CLDR names of countries and cities.
LANGUAGES = ("en", "de", "fr", "ru", "uk", "es", "it", "pt", "pl", "cs", "nl", "tr")
# Endings of the names of places in the languages of the press that decline them, by what a name ends with (the
# longest first): what replaces that ending in the name's other cases. A name ending otherwise, or with a vowel
# before its ending (Самоа), does not decline (Токио, Мали, Chile) but in the rule for a last letter that is a
# consonant (CONSONANT). The regular declensions only: a few names decline otherwise (IRREGULAR).
CONSONANT = ""
DECLENSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {
        "ия": ("ии", "ию", "ией"),
        "я": ("и", "е", "ю", "ей"),
        "га": ("ги", "ге", "гу", "гой"), "ка": ("ки", "ке", "ку", "кой"), "ха": ("хи", "хе", "ху", "хой"),
        "жа": ("жи", "же", "жу", "жей"), "ша": ("ши", "ше", "шу", "шей"), "ща": ("щи", "ще", "щу", "щей"),
        "ча": ("чи", "че", "чу", "чей"), "ца": ("цы", "це", "цу", "цей"),
        "а": ("ы", "е", "у", "ой"),
        "ы": ("", "ов", "ам", "ах", "ами"),
        "й": ("я", "ю", "е", "ем"),
        "ь": ("и", "ью", "я", "ю", "е", "ем"),
        "ж": ("жа", "жу", "же", "жем"), "ш": ("ша", "шу", "ше", "шем"), "ч": ("ча", "чу", "че", "чем"),
        "щ": ("ща", "щу", "ще", "щем"), "ц": ("ца", "цу", "це", "цем"),
        CONSONANT: ("а", "у", "е", "ом"),
    },
    "uk": {
        "ія": ("ії", "ію", "ією"),
        "я": ("і", "ю", "ею"),
        "ка": ("ки", "ці", "ку", "кою"), "га": ("ги", "зі", "гу", "гою"), "ха": ("хи", "сі", "ху", "хою"),
        "а": ("и", "і", "у", "ою"),
        "и": ("ів", "ам", "ах"),
        "й": ("ю", "я", "ї", "єм"),
        "ь": ("і", "ю", "я", "ем", "ею"),
        "їв": ("єва", "єві", "євом"), "ів": ("ова", "ові", "овом"),
        CONSONANT: ("у", "а", "і", "ом", "ові"),
    },
    "pl": {
        "ia": ("ii", "ię", "ią"),
        "ja": ("ji", "ję", "ją"),
        "ka": ("ki", "ce", "kę", "ką"), "ga": ("gi", "dze", "gę", "gą"), "cha": ("chy", "sze", "chę", "chą"),
        "sta": ("sty", "ście", "stę", "stą"), "ra": ("ry", "rze", "rę", "rą"), "ta": ("ty", "cie", "tę", "tą"),
        "da": ("dy", "dzie", "dę", "dą"), "ła": ("ły", "le", "łę", "łą"), "la": ("li", "lę", "lą"),
        "a": ("y", "ie", "ę", "ą"),
        "ko": ("ka", "ku", "kiem"), "go": ("ga", "gu", "giem"),
        "o": ("a", "u", "ie", "em"),
        "ie": ("ii", "iach"),
        "y": ("ach", "ów"),
        "ów": ("owa", "owie", "owem"),
        "k": ("ku", "ka", "kiem"), "g": ("gu", "ga", "giem"), "ch": ("chu", "cha", "chem"),
        "t": ("tu", "ta", "cie", "tem"), "st": ("stu", "sta", "ście", "stem"), "d": ("du", "da", "dzie", "dem"),
        "r": ("ru", "ra", "rze", "rem"), "ł": ("łu", "ła", "le", "łem"),
        "ż": ("żu", "ża", "żem"), "sz": ("szu", "sza", "szem"), "cz": ("czu", "cza", "czem"),
        "rz": ("rzu", "rza", "rzem"), "l": ("lu", "la", "lem"), "j": ("ju", "ja", "jem"),
        CONSONANT: ("u", "a", "ie", "em", "owi"),
    },
}  # fmt: skip
# Names of places whose cases the rules above do not make (a vowel that drops, a stem that changes).
IRREGULAR = {
    "Египет": ("Египта", "Египте", "Египту", "Египтом"),
    "Єгипет": ("Єгипту", "Єгипті", "Єгиптом"),
    "Niemcy": ("Niemiec", "Niemczech", "Niemcom"),
    "Węgry": ("Węgier", "Węgrzech"),
    "Włochy": ("Włoch", "Włoszech"),
    "Czechy": ("Czechach",),
}
# Cases of names (the keys of what `inflected` makes) that are common words of another language of the press, with
# another meaning, left out: those among the 30,000 most common words of en fr de ru es it (wordfreq 3.1.1) that
# name neither the place nor its people (Italiens, the Italians in French, and Irans, Iran's, are kept).
WORDS = frozenset(
    {
        "anguille", "antiguas", "berlina", "chiles", "fortalezas", "gaze", "gents", "guineas", "islands", "jerseys",
        "lime", "regine", "reunions", "roms", "salte", "salty", "гавани",
    }
)  # fmt: skip
# German writes a name's genitive with an s (Russlands, Irans). Czech's cases and Dutch's genitive are left out:
# no corpus has a report in Czech, and those cases of Latin names are words of other languages (Čína, Číně: Cine;
# Čad, Čade: Cade; Řím, Říma: Rima), as Dutch's genitives are (Indias, Antiguas).
GENITIVE_S = ("de",)
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ"
_VOWELS = "аеёиоуыэюяіїєaeiouyąęóáéíúůýě"
# What the press writes for organisations and for the two countries of several English words it names
# most, in those languages (CLDR has the organisations' full names only, and those countries' as phrases).
# An abbreviation (in capitals, or of four letters or fewer: Nato, Onu and Ue as British, French and Italian
# papers write them) is looked up only as written: "Es", "Un" and "Uno" are words too.
ABBREVIATIONS = {
    "=eu": ("EU", "UE", "ЕС", "ЄС", "Ue", "Евросоюз", "Євросоюз"),
    "=nato": ("NATO", "OTAN", "НАТО", "Nato", "Otan"),
    "=un": ("UN", "ONU", "ООН", "UNO", "Onu"),
    "=us": ("US", "USA", "США", "Usa"),
    "=gb": ("UK", "Britain", "Großbritannien", "Grande-Bretagne"),
    # International bodies whose abbreviation each language of the press writes its own way.
    "=ecb": ("ECB", "BCE", "EZB", "ЕЦБ"),
    "=imf": ("IMF", "FMI", "IWF", "МВФ"),
    "=iaea": ("IAEA", "AIEA", "IAEO", "OIEA", "МАГАТЭ"),
    "=who": ("WHO", "OMS", "ВОЗ"),
    "=opec": ("OPEC", "OPEP", "ОПЕК", "Opec", "Opep"),
    "=wto": ("WTO", "OMC", "ВТО"),
    "=osce": ("OSCE", "OSZE", "ОБСЕ"),
    "=iea": ("IEA", "AIE", "МЭА"),
    "=echr": ("ECHR", "CEDH", "EGMR", "ЕСПЧ"),
    "=cjeu": ("CJEU", "CJUE", "EuGH", "TJUE"),
}
# Names of countries and cities the press writes that CLDR no longer gives (Turkey, the English name of Türkiye
# until 2022 and still most papers'; Молдавия; Таллинн, the older Russian spelling), with the place of each.
OTHER_NAMES: dict[str, tuple[str, ...]] = {"Türkiye": ("Turkey",), "Moldova": ("Молдавия",), "Tallinn": ("Таллинн",)}
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
    """The lines of the table, from the installed Babel's CLDR and CITIES: each name of one word in each of its
    cases (`inflected`) by its `key`, the abbreviations as written, the names of several words by their words'
    forms. A key that names several places names the one that more of LANGUAGES name so than all the others
    together (Cuba: Cuba in five languages, Juba in Turkish), else none; a form of a name of several words of two
    places is left out; one of CLDR's is not a city's of CITIES."""
    named: dict[str, set[str]] = {}
    languages: dict[str, dict[str, set[str]]] = {}  # each key's places, with the languages that name each so
    for place, names in _places():
        for language, name in zip(LANGUAGES, names, strict=True):
            if " " in name:
                named.setdefault(" ".join(form(word) for word in name.split()), set()).add(place)
            else:
                for written in inflected(name, language):
                    languages.setdefault(key(written), {}).setdefault(place, set()).add(language)
    rows = {found: next(iter(places)) for found, places in named.items() if len(places) == 1}
    for place, abbreviations in ABBREVIATIONS.items():
        for abbreviation in abbreviations:
            if _is_abbreviation(abbreviation):
                rows[abbreviation] = place
            else:
                for written in inflected(abbreviation, _language_of(abbreviation)):
                    languages.setdefault(key(written), {}).setdefault(place, set()).add(abbreviation)
    for place, others in OTHER_NAMES.items():
        for name in others:
            for written in inflected(name, _language_of(name)):
                languages.setdefault(key(written), {}).setdefault(place, set()).add(name)
    for found, places in languages.items():
        counts = sorted(((len(named_so), place) for place, named_so in places.items()), reverse=True)
        if found and 2 * counts[0][0] > sum(count for count, _ in counts):
            rows[found] = counts[0][1]
    for city, place, others in _cities(set(rows.values())):
        for name in (city, *others):
            for written in inflected(name, "en" if name == city else _language_of(name)):
                if key(written) not in languages:
                    rows[key(written)] = place
    return [
        f"# babel {babel.__version__}; CLDR names in {' '.join(LANGUAGES)}",
        *sorted(f"{f}\t{p}" for f, p in rows.items()),
    ]


def inflected(name: str, language: str) -> set[str]:
    """A name of one word of a place in a language and its other cases there: Москва, Москвы, Москве, Москву,
    Москвой (DECLENSIONS); Russland, Russlands (GENITIVE_S); Kuba, Kuby, Kubie, Kubę, Kubą; France alone."""
    forms = {name, *IRREGULAR.get(name, ())}
    if language in GENITIVE_S and name[-1] not in "sxzß":
        forms.add(name + "s")
    declension = DECLENSIONS.get(language, {})
    for ending in sorted(declension, key=len, reverse=True):
        if ending == CONSONANT:
            if name[-1].isalpha() and name[-1].lower() not in _VOWELS:
                forms |= {name + case for case in declension[ending]}
        elif name.endswith(ending):
            if ending in _VOWELS and name[: -len(ending)][-1:].lower() in _VOWELS:
                break  # Самоа, Гоа: a vowel before the ending, a name that does not decline
            forms |= {name[: -len(ending)] + case for case in declension[ending]}
        else:
            continue
        break
    return {written for written in forms if written == name or key(written) not in WORDS}


def _is_abbreviation(written: str) -> bool:
    """Whether a name of ABBREVIATIONS is an abbreviation, looked up only as written (EU, ООН, Nato), not a
    name looked up in its cases (Britain, Евросоюз)."""
    return written.isupper() or len(written) <= 4


def _language_of(name: str) -> str:
    """The language whose cases a name of CITIES or ABBREVIATIONS takes, by its letters: Ukrainian's, Russian's,
    Polish's; German's genitive for another ending in a consonant (Münchens, Genfs; not Hayes, which is a word);
    none ("") for the rest."""
    letters = set(name.lower())
    for language, alphabet in (("uk", "іїєґ"), ("ru", _CYRILLIC), ("pl", "ąćęłńśźż")):
        if letters & set(alphabet):
            return language
    return "de" if name[-1].lower() not in _VOWELS else ""


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
        if "/" in zone and not zone.startswith("Etc/") and " " not in city:  # not CST6CDT, Etc/GMT+1
            yield city, [_city(zone, locale) for locale in locales]


def _city(zone: str, locale: Locale) -> str:
    """The exemplar city of a time zone in a locale: CLDR's name, else the zone's own ("Europe/Kyiv": Kyiv)."""
    city = locale.time_zones.get(zone, {}).get("city")
    return str(city) if city else zone.rsplit("/", 1)[-1].replace("_", " ")


if __name__ == "__main__":
    sys.stdout.write("\n".join(table_lines()) + "\n")
