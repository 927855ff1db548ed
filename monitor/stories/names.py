"""What a report names: people, places, organisations, numbers and dates, as keys comparable across languages.

An embedding says what a text is about; two reports of the same topic a week apart are about the same
thing. What tells two events apart is who and what they name: the minister interviewed, the city
struck, the sum lent, the day. Cheap signals do: capitalised words that do not start a sentence, and
numbers. Each name becomes a key that survives the usual differences between languages: every script is
transliterated (anyascii), accents and case are dropped, vowels (which transliterations disagree on: Poutine,
Putin, Путин) are dropped, common spelling pairs are merged (sch/sh/ch, c/k, w/v, z/s), and inflection
is cut by keeping the first consonants (Macrons, Макрона -> "mkrn"). Numbers keep their digits
("18,2" and "18.2" -> "#18.2"; "1 000" and "1,000" -> "#1000"). What a report names for its score
(`names_of`) keys a country, a city or an organisation translated into another language as its English
name (`place_key`: Moskau, Moscou, Москве -> Moscow's "mskv"); the checks below compare a report's names
as written.

Protagonists (`protagonists`) are the people a report is about: the names of its headline that it
writes, somewhere, as the last of two or more capitalised words ("Keir Starmer", "Benjamin Netanjahu",
"Владимир Путин": a surname after a first name or a title) and names more than once. Two events of one
topic on one day can share every other name and most of their words (one prime minister's calls to
two leaders, one minister's two meetings); what they do not share is the second protagonist.

Figures (`figures`) are the numbers a report states as facts: a toll, a sum, a magnitude, a rate.
Reports of one event give the same figures, however rounded or written ("140 000", "140,000",
"140 тысяч"; "Twenty-six" and 26, `spelled_figures`); two events of one kind on one day give different
ones (2 dead and 62 drones, or one dead and 140,000 homes without power). Dates, times of day and years
are not figures (two events of one day share them), nor are small whole numbers without a unit ("two
leaders", "Nord Stream 2"), nor ordinals ("the 12th time").
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from anyascii import anyascii

from monitor.rules.text import sentence_starts
from monitor.stories.exonyms import PHRASE_PREFIX, form, phrase_at, phrases, place_of

# Spellings that transliterations of one name disagree on, longest first.
_SPELLINGS = (
    ("tsch", "s"), ("shch", "s"), ("sch", "s"), ("ch", "s"), ("sh", "s"), ("zh", "s"), ("kh", "h"),
    ("ph", "f"), ("th", "t"), ("ts", "s"), ("tz", "s"), ("ck", "k"), ("c", "k"), ("q", "k"), ("x", "ks"),
    ("w", "v"), ("z", "s"), ("j", "i"), ("y", "i"),
    # Russian writes an H of other languages as G (Гамбург, Гаага), English a Ukrainian G as H (Sybiha, Сибига).
    ("h", "g"),
)  # fmt: skip
KEY_CONSONANTS = 4
SHORT_NAMES = True
# Russian case endings that add a consonant to a name (the instrumental, "with Macron", Макроном; the dative and
# locative plural): cut from a Cyrillic word of this many letters or more before it is keyed.
_INSTRUMENTAL = re.compile(r"(?:ом|ем|ым|им|ами|ями|ам|ям|ах|ях)\Z")  # noqa: RUF001 (Cyrillic on purpose)
INFLECTED_MIN_LETTERS = 6
_VOWELS = "aeiouy"
# A word, or a number with its separators (18,2  1 000  2.5).
_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:['\u2019\-][^\W_]+)*|\d+(?:[.,\u202f\xa0 ]\d+)*")
# What precedes a word that starts a sentence (or a quote, or a headline), whose capital says nothing.
_STARTS = re.compile(r"(?:\A|[.!?\n:;]\s*[«\"“„(\u2018']?\s*|[«\"“„(\u2018]\s*)\Z")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,\u202f\xa0 ]\d{3})+")


# An apostrophe that joins a name to a word of another kind: French and Italian elision before a name
# ("l'Ukraine", "d'Istanbul", "dell'Ucraina", "qu'Emmanuel"), an English possessive or a Turkish case ending
# after one ("Ukraine's", "Türkiye'nin"). Read as a space (the text keeps its length), so that the name is
# the name it is in every other language; an apostrophe inside a name ("O'Brien", Ukrainian "Мар'їна") stays.  # noqa: RUF003
_ELISION = re.compile(
    r"(?<![^\W\d_])(?:[ldjnsctm]|qu|lorsqu|jusqu|puisqu|dell|dall|nell|sull|all|coll|un|quest|nessun)['\u2019]"
    r"(?=[^\W\d_])",
    re.IGNORECASE,
)
_SUFFIX = re.compile(
    r"(?<=[a-zà-ÿ])['\u2019](?:s|nin|nın|nun|nün|in|ın|un|ün|da|de|ta|te|dan|den|tan|ten|ya|ye|a|e|na|ne)(?![^\W\d_])",  # noqa: RUF001
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=64)  # a report's checks read the same headline and text again
def unelided(text: str) -> str:
    """The text with the apostrophes of elisions, possessives and case endings around a name read as spaces."""
    text = _ELISION.sub(lambda m: m.group()[:-1] + " ", text)
    return _SUFFIX.sub(lambda m: " " + m.group()[1:], text)


def _latin(word: str) -> str:
    """The word in Latin letters, lower case, without accents (anyascii: every script, one spelling per letter)."""
    return anyascii(word).lower()


@functools.lru_cache(maxsize=1 << 16)  # the same names recur in report after report
def place_key(word: str) -> str:
    """The key of one capitalised word (`name_key`), but a country's, a city's or an organisation's name in any
    of the press's languages has the key of its English name (`exonyms`: Moskau, Москве, Moscow: "mskv")."""
    if "CYRILLIC" in unicodedata.name(word[-1], "") and len(word) >= INFLECTED_MIN_LETTERS:
        word = _INSTRUMENTAL.sub("", word)  # Берлином ("with Berlin"): Berlin
    place = place_of(word)
    if place is None:
        key = name_key(word)
        # A short name's key (`name_key`: "~so") is for the checks, which compare the names of a few reports: in the
        # score's overlap every "La" and "Le" of a paper's name would weigh.
        return "" if key.startswith("~") else key
    return place if place.startswith("=") else name_key(place)


@functools.lru_cache(maxsize=1 << 16)
def name_key(word: str) -> str:
    """The key of one capitalised word ("" when too little of it is left to tell names apart); a country's name of
    several words that holds another's, joined by hyphens (`whole_places`: "South-Sudan"), has the key of the
    country (`place_key`'s, "=ss")."""
    if "-" in word and (country := country_phrase(tuple(word.split("-")))) is not None:
        return country
    return _word_key(word)


@functools.lru_cache(maxsize=1 << 16)
def _word_key(word: str) -> str:
    """The key of one capitalised word, its letters alone (`name_key`)."""
    if "CYRILLIC" in unicodedata.name(word[-1], "") and len(word) >= INFLECTED_MIN_LETTERS:
        word = _INSTRUMENTAL.sub("", word)  # Путиным, Фиданом ("with Putin", "with Fidan"): Putin, Fidan
    latin = re.sub(r"[^a-z]", "", _latin(word))
    if latin[:1] == "u" and latin[1:2] in _VOWELS and "CYRILLIC" in unicodedata.name(word[0], ""):
        latin = "w" + latin[1:]  # Russian writes an English W as U and a vowel (Witkoff, William)
    for spelling, common in _SPELLINGS:
        latin = latin.replace(spelling, common)
    if latin.endswith("ng"):  # Chinese names: Wang, Ван; Zhang, Чжан
        latin = latin[:-1]
    consonants = re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou]", "", latin))
    if len(consonants) >= 2:
        return consonants[:KEY_CONSONANTS]
    # A name of one consonant (Cho, Чо; Lee; Wu): its letters, vowels and all, marked apart from the consonants' keys;
    # not an abbreviation (the UN's in Russian, UE: the press spells those its own way in each language), nor a place
    # of the table (Hague: its place key stands for it).
    short = SHORT_NAMES and len(latin) >= 2 and not word.isupper() and place_of(word) is None
    return "~" + latin if short else ""


def number_key(token: str) -> str:
    """The key of a number as written: its digits, thousands separators dropped, a decimal comma as a point."""
    if _THOUSANDS.fullmatch(token):
        return "#" + re.sub(r"\D", "", token)
    return "#" + re.sub(r"[\u202f\xa0 ]", "", token).replace(",", ".")


# Languages that write the sound other languages write Kh (Russian Kha) as Ch: Charkiw, Chamenei, Chodorkowski
# (German), Charkov (Dutch), Charków (Polish), Chersoň (Czech, Slovak). Their "ch" but in "sch" is keyed both ways.
CH_AS_KH = frozenset({"de", "nl", "pl", "cs", "sk"})
_CH = re.compile(r"(?<![sS])([Cc])h")
# Spanish writes it as J (Járkov, Jamenei, Jodorkovski, Jersón): its "j" is keyed both ways.
J_AS_KH = frozenset({"es"})
_J = re.compile(r"([Jj])")


# French writes the Zh of Russian and Ukrainian names as J (Zaporijjia, Jitomir, Joukov, Rjev): its "j" is keyed as Zh
# too, in a name the table of places does not hold (Japon is Japan's).
J_AS_ZH = frozenset({"fr"})


def _as_kh(found: re.Match[str]) -> str:
    return "Kh" if found.group(1).isupper() else "kh"


def _as_zh(found: re.Match[str]) -> str:
    return "Zh" if found.group(1).isupper() else "zh"


def names_of(*texts: str, language: str | None = None) -> frozenset[str]:
    """The name and number keys of the texts (a title, a lede, a body); in a language that writes Kh as Ch
    (`CH_AS_KH`: "Charkiw") or J (`J_AS_KH`: "Járkov"), a name with one has the key of its Kh spelling too
    (Kharkiv's), and in one that writes Zh as J (`J_AS_ZH`: "Zaporijjia") that of its Zh spelling."""
    keys: set[str] = set()
    code = language.split("-")[0].lower() if language is not None else None
    kh = _CH if code in CH_AS_KH else _J if code in J_AS_KH else None
    zh = code in J_AS_ZH
    for text in texts:
        for token, key in _keys(text, place_key):
            keys.add(key)
            if key.startswith("#"):
                continue
            if kh is not None and kh.search(token):
                keys.add(place_key(kh.sub(_as_kh, token)) or key)
            elif zh and _J.search(token) and " " not in token and place_of(token) is None:
                keys.add(place_key(_J.sub(_as_zh, token)) or key)
    return frozenset(keys)


def own_name(source: str | None) -> frozenset[str]:
    """The name keys of an outlet's name ("РИА Новости", "Reuters"), which its datelines and credits repeat in
    report after report: a name its reports share with each other, not with other outlets' reports of an event."""
    return frozenset(
        k for f in _TOKEN.finditer(source or "") if not f.group()[0].isdigit() and (k := name_key(f.group()))
    )


def name_words(text: str) -> dict[str, str]:
    """The names of a text (numbers aside): each key with the word it was first written as."""
    words: dict[str, str] = {}
    for token, key in _keys(text, place_key):
        if not key.startswith("#"):
            words.setdefault(key, token)
    return words


def starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` starts a sentence, a quotation or the text (its capital says nothing)."""
    return _STARTS.search(text[max(0, start - 4) : start]) is not None


# The most words of a name of several words (`exonyms.phrase_at`: "Organisation der Vereinten Nationen").
PHRASE_WORDS = 4


@functools.lru_cache(maxsize=1 << 12)
def country_phrase(words: tuple[str, ...]) -> str | None:
    """The key of the country these words name, when they are all of its name and one of them names another
    country or place ("South Sudan", "Soudan du Sud", "Южный Судан", "North Korea"): else None."""
    if len(words) < 2 or form(words[0])[:PHRASE_PREFIX] not in phrases():
        return None
    found = phrase_at(list(words))
    if found is None or found[0] != len(words):
        return None
    place = found[1] if found[1].startswith("=") else _word_key(found[1])
    inner = (place_of(word) for word in words if word[:1].isupper())
    return place if any(p is not None and (p if p.startswith("=") else _word_key(p)) != place for p in inner) else None


@functools.lru_cache(maxsize=64)  # a report's checks read the same headline and text again
def whole_places(text: str) -> str:
    """The text (`unelided`) with the words of a country's name that holds another's joined by hyphens, so that the
    checks read "South Sudan" as South Sudan, not as Sudan and a word (`country_phrase`); the text keeps its
    length. (The score's names key such names whole already: `_keys` with `place_key`.)"""
    text = unelided(text)
    tokens = list(_TOKEN.finditer(text))
    chars: list[str] | None = None
    for i, found in enumerate(tokens):
        if not found.group()[0].isupper() or (phrase := _phrase(text, tokens[i : i + PHRASE_WORDS])) is None:
            continue
        named = tokens[i : i + phrase[0]]
        if country_phrase(tuple(t.group() for t in named)) is None:
            continue
        chars = chars if chars is not None else list(text)
        for following in named[1:]:
            chars[following.start() - 1] = "-"
    return "".join(chars) if chars is not None else text


def _keys(text: str, key_of: Callable[[str], str] = name_key) -> Iterator[tuple[str, str]]:
    text = unelided(text) if key_of is place_key else whole_places(text)
    tokens = list(_TOKEN.finditer(text))
    skip = 0
    for i, found in enumerate(tokens):
        token = found.group()
        if skip:
            skip -= 1
            continue
        if key_of is place_key and token[0].isupper() and (phrase := _phrase(text, tokens[i : i + PHRASE_WORDS])):
            words, place = phrase
            skip = words - 1
            yield text[found.start() : tokens[i + skip].end()], place
        elif token[0].isdigit():
            yield token, number_key(token)
        elif (
            token[0].isupper()
            and len(token) > 1
            and not _STARTS.search(text[max(0, found.start() - 4) : found.start()])
        ):
            key = key_of(token)
            if key:
                yield token, key


def _phrase(text: str, tokens: list[re.Match[str]]) -> tuple[int, str] | None:
    """The number of tokens of a country's or an organisation's name of several words at the first of these
    tokens (written with one space between each), and its key."""
    words = [tokens[0].group()]
    if form(words[0])[:PHRASE_PREFIX] not in phrases():
        return None
    for before, found in itertools.pairwise(tokens):
        if text[before.end() : found.start()] not in (" ", "\xa0"):
            break
        words.append(found.group())
    if len(words) < 2:
        return None
    found_phrase = phrase_at(words)
    if found_phrase is None:
        return None
    count, place = found_phrase
    return count, place if place.startswith("=") else name_key(place)


def prominent(title: str, text: str) -> frozenset[str]:
    """The name keys a report names more than once (a name it gives once, it names in passing)."""
    named = Counter(
        name_key(t.group()) for t in _TOKEN.finditer(whole_places(f"{title}\n{text}")) if t.group()[0].isupper()
    )
    return frozenset(k for k, count in named.items() if count >= 2 and k)


def protagonists(title: str, text: str, named: frozenset[str] | None = None) -> frozenset[str]:
    """The name keys of the people the report is about: names of its headline that the report writes at
    least once as the last of two or more capitalised words in a row, and names more than once. (Not the
    first sentence too: there German nouns and Russian institutions, "Odesaer Hafen", "Банк России", pass
    for people; a headline names the one or two the report is about.)"""
    full = unelided(f"{title}\n{text}")
    people: set[str] = set()
    previous: re.Match[str] | None = None
    for found in _TOKEN.finditer(full):
        token = found.group()
        capital = token[0].isupper() and len(token) > 1
        if (
            capital
            and previous is not None
            and previous.group()[0].isupper()
            and full[previous.end() : found.start()] in (" ", "\xa0")
        ):
            people.add(name_key(token))
        previous = found if capital else None
    headline = {name_key(t.group()) for t in _TOKEN.finditer(unelided(title)) if t.group()[0].isupper()}
    named = prominent(title, text) if named is None else named
    kept = headline & (people - _first_names(full)) & named & full_names(title, text)
    return frozenset(k for k in kept if not k.startswith("~"))  # a short name's key: Sea of "Black Sea" too


def protagonists_conflict(
    own: frozenset[str], own_prominent: frozenset[str], heads: list[frozenset[str]], named: frozenset[str]
) -> bool:
    """Whether a report and a story are about different people: they share a protagonist (the minister
    who met two counterparts, the leader who made two calls), the report is about someone none of the
    story's reports is about or names more than once (`named`: what they name more than once), and most
    of the story's reports are about someone the report is not about and names at most once."""
    heads = [h for h in heads if h]
    if not own or not heads:
        return False
    theirs = frozenset().union(*heads)
    if not _meets(own, theirs) or not _beyond(own, theirs | named):
        return False
    counts = Counter(k for h in heads for k in h)
    core = frozenset(k for k, count in counts.items() if 2 * count >= len(heads))
    return bool(_beyond(core, own | own_prominent))


# Leading consonants of a key that another language may not write at all: an H (keyed "g": Hormuz, French Ormuz;
# Hamburg, Italian Amburgo) and a W (keyed "v": Witkoff, Russian Уиткофф, whose У reads as a vowel).  # noqa: RUF003
_UNWRITTEN_LEADS = frozenset("gv")


def same_name(a: str, b: str) -> bool:
    """Whether two name keys may be one name spelt in two languages: equal, or the same first three
    consonants, one of them maybe after a leading H or W the other lacks (`_UNWRITTEN_LEADS`: Hormuz "grms", Ormuz
    "rms"; Witkoff "vtkf", Уиткофф "tkf"). Not after any other consonant: "Землетрясение" ("smlt") is not Malatya
    ("mlt"), nor "Terres" ("trs") Reuters ("rtrs")."""
    if a == b:
        return True
    if len(a) < 3 or len(b) < 3:
        return False
    return (
        a[:3] == b[:3]
        or (a[0] in _UNWRITTEN_LEADS and a[1:4] == b[:3])
        or (b[0] in _UNWRITTEN_LEADS and b[1:4] == a[:3])
    )


def _meets(some: frozenset[str], others: frozenset[str]) -> bool:
    return any(same_name(a, b) for a in some for b in others)


def _beyond(some: frozenset[str], others: frozenset[str]) -> frozenset[str]:
    """The keys of `some` that are no name of `others`."""
    return frozenset(a for a in some if not any(same_name(a, b) for b in others))


@functools.lru_cache(maxsize=8)  # a report's checks ask about the same text again
def _first_names(text: str) -> frozenset[str]:
    """Keys of words that only ever come right before another capitalised word (first names, titles); not before
    the noun that ends a place's name (`PLACE_HEADS`: "Scarborough" of "Scarborough Shoal")."""
    text = whole_places(text)
    before: set[str] = set()
    alone: set[str] = set()
    tokens = list(_TOKEN.finditer(text))
    for i, found in enumerate(tokens):
        token = found.group()
        if not (token[0].isupper() and len(token) > 1):
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        paired = (
            following is not None
            and following.group()[0].isupper()
            and text[found.end() : following.start()] in (" ", "\xa0")
            and not _place_head(following.group())
        )
        (before if paired else alone).add(name_key(token))
    return frozenset(before - alone)


_FIGURE_TOKEN = re.compile(r"[^\W\d_]+|\d+(?:[.,\u202f\xa0 ]\d+)*|[:/%]")


def _words(text: str) -> list[str]:
    return text.split()


# The common nouns that end an English place's name of several words ("Scarborough Shoal", "Second Thomas Shoal",
# "Gaza City", "Black Sea"): the place is the words before them (which are no first names nor titles), not the noun
# that places of one kind share.
PLACE_HEADS = frozenset(
    _words(
        "shoal shoals reef reefs island islands isle atoll strait straits sea bay gulf lake river city province "
        "region district county strip valley peninsula canal oblast mountains"
    )
)


def _place_head(word: str) -> bool:
    return word.lower() in PLACE_HEADS


# Month names and their abbreviations, by month, in the languages of the press: a day's number beside one is
# no figure, and with one it is a date.
_MONTH_NAMES = (
    "january jan janvier januar jänner января январь янв enero gennaio janv gen",
    "february feb février fevrier februar февраля февраль фев febrero febbraio févr",
    "march mar mars märz maerz марта март мар marzo",
    "april apr avril апреля апрель апр abril aprile avr",
    "may mai мая май mayo maggio mag",
    "june jun juin juni июня июнь июн junio giugno giu",
    "july jul juillet juli июля июль июл julio luglio juil lug",
    "august aug août aout августа август авг agosto ago",
    "september sep sept septembre сентября сентябрь сен septiembre setiembre settembre",
    "october oct octobre oktober октября октябрь окт octubre ottobre okt ott",
    "november nov novembre ноября ноябрь ноя noviembre",
    "december dec décembre decembre dezember декабря декабрь дек diciembre dicembre dez dic",
)
_MONTH = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_MONTHS = frozenset(_MONTH)

_SCALES = {
    **dict.fromkeys(_words("thousand thousands mille milliers tausend тысяч тысячи тысяча тыс mila migliaia"), 1e3),
    **dict.fromkeys(
        _words("million millions mio millionen млн миллион миллиона миллионов millón millones milione milioni"), 1e6
    ),
    **dict.fromkeys(
        _words(
            "billion billions bn milliard milliards mrd milliarde milliarden млрд миллиард миллиарда миллиардов "
            "miliardo miliardi"
        ),
        1e9,
    ),
}
# Words before or after a number that make it a time of day ("13 heures", "um 9 Uhr", "alle ore 13").
_CLOCK = frozenset(_words("h heure heures uhr ч часов часа am pm horas ore"))
# A clock time given with its time zone or "a.m."/"p.m." ("8 a.m. (0700 GMT)", "10.00 мск", "21.40 MEZ", "4.05 p.m.",
# "9am"): no fact of the event's size (one outlet gives it in GMT, another in local time), taken out before the
# figures are read. Not "ET" nor "EST": French "et", "est".
_CLOCK_TIME = re.compile(
    r"(?<![\w.,])(?:\d{1,2}(?:[.:h]\d{2})?(?:\s*[ap]\.m\.|[ap]m\b)"
    r"|\d{1,4}(?:[.:]\d{2})?\s*(?:gmt|utc|мск|msk|cet|cest|bst|mez|mesz|eet|eest|edt|pdt|pst|cdt)\b)",
    re.IGNORECASE,
)
_PERCENT = frozenset(_words("% percent per prozent процент процента процентов pour por cento pct"))
_NOT_FIGURES = _MONTHS | _CLOCK | {":", "/"}
# Figures that differ by less than this are one figure rounded ("677" and "knapp 680").
FIGURE_TOLERANCE = 0.05
FIGURE_MIN = 10


# An ordinal written in digits ("the 12th time", "21st package", "la 12e fois", "12-й раз", "il 3º"): it counts events
# of a kind, it is no fact of this one's size, and other outlets write it in words ("douzième", "zum zwölften Mal").
# Russian ones take a hyphen ("700м" is 700 metres), and none is followed by a digit ("1e6" is a number).
_ORDINAL = re.compile(
    r"(?<![\d.,])\d+(?:st|nd|rd|th|e|er|re|ème|eme|ᵉ|º|ª|-(?:й|я|е|го|му|м|х))(?!\w)",  # noqa: RUF001
    re.IGNORECASE,
)


def figures(text: str) -> frozenset[float]:
    """The figures a text states: numbers that are not dates, times, years or ordinals, scaled by the word after
    them ("140 тысяч" -> 140000), and either a decimal, a percentage or at least FIGURE_MIN."""
    text = _CLOCK_TIME.sub(" ", _ORDINAL.sub(" ", text))
    tokens = [found.group().lower() for found in _FIGURE_TOKEN.finditer(text)]
    found: set[float] = set()
    for i, token in enumerate(tokens):
        if not token[0].isdigit():
            continue
        before = tokens[i - 1] if i else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if {before, after} & _NOT_FIGURES:
            continue
        key = number_key(token)[1:]
        try:
            value = float(key)
        except ValueError:  # "1.2.3": not one number
            continue
        if value.is_integer() and 1900 <= value <= 2100:
            continue
        decimal = "." in key
        value *= _SCALES.get(after, 1.0)
        if value >= FIGURE_MIN or decimal or after in _PERCENT:
            found.add(value)
    return frozenset(found)


def figures_conflict(
    lede_a: frozenset[float], all_a: frozenset[float], lede_b: frozenset[float], all_b: frozenset[float]
) -> bool:
    """Whether two reports state different facts: both ledes give figures, neither gives one the other has, and
    their whole texts share no figure beyond round ones (`telling`): two outlets lead with different figures of
    one event (one the share of trains cancelled, the other the number of staff on strike) and give the same one
    further down (the pay rise offered)."""
    if not lede_a or not lede_b:
        return False
    return not (_shares(lede_a, all_b) or _shares(lede_b, all_a) or _shares(telling(all_a), all_b))


def telling(found: frozenset[float]) -> frozenset[float]:
    """The figures that say which event a text reports when another text gives them too: not the round ones that
    texts of any event give (a power of ten, a multiple of ten under 100: "10", "50%", "1,000", "a million").
    Years, dates, times, ordinals and counts under FIGURE_MIN are no figures at all (`figures`)."""
    return frozenset(f for f in found if not _round(f))


def _round(value: float) -> bool:
    if value.is_integer() and value < 100 and value % 10 == 0:
        return True
    return value >= 1 and 10 ** round(math.log10(value)) == value


# Numbers written in words --------------------------------------------------------------------------

_NUMBER_WORDS = {
    # units (in compounds only: "one", "un", "uno" alone are no figures), 10-19, tens 20-90
    "en": (
        "one two three four five six seven eight nine",
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen",
        "twenty thirty forty fifty sixty seventy eighty ninety",
    ),
    "fr": (
        "un deux trois quatre cinq six sept huit neuf",
        "dix onze douze treize quatorze quinze seize dix-sept dix-huit dix-neuf",
        "vingt trente quarante cinquante soixante septante huitante nonante",
    ),
    "de": (
        "ein zwei drei vier fünf sechs sieben acht neun",
        "zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn",
        "zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig",
    ),
    "es": (
        "uno dos tres cuatro cinco seis siete ocho nueve",
        "diez once doce trece catorce quince dieciséis diecisiete dieciocho diecinueve",
        "veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa",
    ),
    "it": (
        "uno due tre quattro cinque sei sette otto nove",
        "dieci undici dodici tredici quattordici quindici sedici diciassette diciotto diciannove",
        "venti trenta quaranta cinquanta sessanta settanta ottanta novanta",
    ),
}


def _compounds(language: str, units: list[str], teens: list[str], tens: list[str]) -> dict[str, int]:
    """The spellings of 10-99 in one language, each with its value."""
    found = {word: 10 + i for i, word in enumerate(teens)} | {ten: 20 + 10 * i for i, ten in enumerate(tens)}
    for i, ten in enumerate(tens):
        for j, unit in enumerate(units):
            value = 21 + 10 * i + j
            match language:
                case "en":
                    found |= {f"{ten}-{unit}": value, f"{ten} {unit}": value}
                case "fr":
                    found |= {f"{ten} et un": value, f"{ten}-et-un": value} if j == 0 else {f"{ten}-{unit}": value}
                case "de":
                    found[f"{unit}und{ten}"] = value
                case "es":
                    found[f"veinti{unit}" if i == 0 else f"{ten} y {unit}"] = value
                case _:
                    found[(ten[:-1] if unit[0] in "uo" else ten) + unit] = value  # ventuno, ventotto
    if language == "fr":  # 70-99 of France: soixante-dix, soixante et onze, quatre-vingts, quatre-vingt-dix-neuf
        found |= {"quatre-vingts": 80, "quatre-vingt": 80, "soixante et onze": 71, "quatre-vingt-un": 81}
        for sixty, base in (("soixante", 60), ("quatre-vingt", 80)):
            found |= {f"{sixty}-{teen}": base + 10 + j for j, teen in enumerate(teens)}
            found |= {f"{sixty}-{unit}": base + 1 + j for j, unit in enumerate(units) if j and base == 80}
    if language == "es":  # the accented twenties
        found |= {"veintidós": 22, "veintitrés": 23, "veintiséis": 26}
    return found


@functools.cache
def _spelled(language: str) -> tuple[dict[str, int], re.Pattern[str]]:
    units, teens, tens = (words.split() for words in _NUMBER_WORDS[language])
    spellings = _compounds(language, units, teens, tens)
    alternatives = "|".join(sorted(map(re.escape, spellings), key=len, reverse=True))
    return spellings, re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])(?!-[^\W\d_])", re.IGNORECASE)


def spelled_figures(text: str, language: str | None) -> frozenset[float]:
    """The figures of 10 to 99 a text writes in words, in its language ("Twenty-six countries", "vingt-six pays",
    "sechsundzwanzig Staaten", "veintiséis"), scaled by the word after them ("vingt millions"): other outlets
    write them in digits."""
    code = language.split("-")[0].lower() if language is not None else None
    if code not in _NUMBER_WORDS:
        return frozenset()
    spellings, pattern = _spelled(code)
    found: set[float] = set()
    for number in pattern.finditer(text):
        after = text[number.end() :].split(maxsplit=1)
        scale = _SCALES.get(after[0].lower().strip(".,;:") if after else "", 1.0)
        found.add(spellings[number.group().lower()] * scale)
    return frozenset(found)


# Dates ------------------------------------------------------------------------------------------

_MONTH_ALTERNATIVES = "|".join(sorted(map(re.escape, _MONTH), key=len, reverse=True))
# "23 June", "le 1er juin", "23. Juni", "23 de junio", and a holiday's "8-Mai" (the French bridge of 8 May).
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\.?(?:\s+|-)(?:de\s+)?({_MONTH_ALTERNATIVES})\b", re.IGNORECASE
)
_MONTH_DAY = re.compile(rf"\b({_MONTH_ALTERNATIVES})\.?\s+(\d{{1,2}})\b(?![.,]?\d)", re.IGNORECASE)
# A dateline: a place (and a date, an agency) before a dash, at the start of the text ("MOSCOW, June 23
# (Reuters) - ", "ROMA, 28 APR - "). Its date is the day of publication, not of the event.
_DATELINE = re.compile(r"\A[^\n]{0,80}?\s?[-\u2013\u2014]\s")
DATELINE_WORDS = 8


def without_dateline(text: str) -> str:
    """The text without a leading dateline: at most DATELINE_WORDS words before a dash ("ROMA, 28 APR - "), or
    short sentences ("MOSCOW, 4 April. /TASS/.", "YEREVAN, JUNE 23, ARMENPRESS.")."""
    found = _DATELINE.match(text)
    if found and len(found.group().split()) <= DATELINE_WORDS:
        return text[found.end() :]
    start = 0
    for following in sentence_starts(text)[1:]:
        sentence = text[start:following]
        if len(sentence.split()) >= LEDE_MIN_WORDS or "\n" in sentence:
            break
        start = following
    return text[start:]


def lede_dates(title: str, text: str) -> frozenset[tuple[int, int]]:
    """The days (month, day) that the headline and the first sentence state ("23 June", "June 23", "23 июня",
    "le 23 juin"), the dateline's aside: the day of the event, as its reports give it."""
    lede = f"{title}\n{first_sentence(without_dateline(text))}"
    found = {(_MONTH[m.lower()], int(d)) for d, m in _DAY_MONTH.findall(lede)}
    found |= {(_MONTH[m.lower()], int(d)) for m, d in _MONTH_DAY.findall(lede)}
    return frozenset((month, day) for month, day in found if 1 <= day <= 31)


def dates_conflict(own: frozenset[tuple[int, int]], theirs: frozenset[tuple[int, int]]) -> bool:
    """Whether two ledes give the event different days: both state days, and none of them is the other's."""
    return bool(own and theirs and not own & theirs)


def shares(some: frozenset[float], others: frozenset[float]) -> bool:
    """Whether a figure of `some` is one of `others` (within FIGURE_TOLERANCE)."""
    return _shares(some, others)


def _shares(some: frozenset[float], others: frozenset[float]) -> bool:
    return any(abs(a - b) <= FIGURE_TOLERANCE * max(abs(a), abs(b)) for a in some for b in others)


# Counterparts ------------------------------------------------------------------------------------

# A first "sentence" shorter than this is a dateline ("MOSCOW, 17 February. /TASS/."): the next one is read too.
LEDE_MIN_WORDS = 8


def first_sentence(text: str) -> str:
    """The first sentence of the text's first paragraph, its dateline included."""
    paragraph = next((p for p in text.split("\n") if p.strip()), "")
    for following in sentence_starts(paragraph)[1:]:  # the rule language's sentences (abbreviations, initials)
        if len(paragraph[:following].split()) >= LEDE_MIN_WORDS:
            return paragraph[:following].rstrip()
    return paragraph


def _capitals(text: str) -> Iterator[re.Match[str]]:
    text = whole_places(text)
    return (f for f in _TOKEN.finditer(text) if f.group()[0].isupper() and len(f.group()) > 1)


# What comes between two words of one name: a space, maybe initials ("Subrahmanyam S Jaishankar", "Donald J. Trump").
_IN_A_NAME = re.compile(r"[ \xa0](?:[^\W\d_]\.?[ \xa0])*")


@functools.lru_cache(maxsize=8)  # a report's checks ask about the same text again
def full_names(title: str, text: str) -> frozenset[str]:
    """Keys of the words a text writes as the name of someone: in a run of capitalised words, after a first
    name or a title (a word the headline and text only ever write right before another capitalised word:
    "Sergei", "President", "Хаканом"), and not one itself. "Russian President Vladimir Putin", "Хаканом
    Фиданом", "President Prabowo Subianto", "Arktika Shipping"; not "Russia", "Euroclear Bank" or "Ukrainian". The
    words before the noun that ends a place's name are its name ("Second Thomas" of "Second Thomas Shoal": Thomas;
    `PLACE_HEADS`), not the noun."""
    text = whole_places(text)
    first = _first_names(f"{title}\n{text}")
    found: set[str] = set()
    run: list[str] = []

    def close() -> None:
        # After the run's last first name or title ("Russian Foreign Minister Sergey Lavrov": Lavrov).
        after = max((i for i, key in enumerate(run) if key in first), default=len(run))
        found.update(key for key in run[after + 1 :] if key not in first)

    previous: re.Match[str] | None = None
    for token in _capitals(text):
        gap = text[previous.end() : token.start()] if previous is not None else ""
        # Initials are capitals: a lowercase letter between two names is a word ("и", "y", "e": and).
        if previous is not None and (not _IN_A_NAME.fullmatch(gap) or any(c.islower() for c in gap)):
            close()
            run = []
        if run and _place_head(token.group()):
            found.add(run[-1])
            close()
            run, previous = [], None
            continue
        run.append(name_key(token.group()))
        previous = token
    close()
    return frozenset(found - {""})


# Words shorter than this say little up front ("EU", "der", "mars"): `upfront` leaves them out.
UPFRONT_MIN_LETTERS = 4


def upfront(title: str, text: str) -> frozenset[str]:
    """The keys of every word of the headline and the first sentence, capitalised or not: who and what the
    report puts first ("ukrainien", "российский" name a country there as much as "Ukraine" does)."""
    lede = unelided(f"{title}\n{first_sentence(text)}")
    return frozenset(
        k
        for f in _TOKEN.finditer(lede)
        if (len(f.group()) >= UPFRONT_MIN_LETTERS or (f.group()[0].isupper() and len(f.group()) >= 3))
        and (k := name_key(f.group()))
    )


def principals(title: str, text: str) -> frozenset[str]:
    """The principal participants of a report: the names of its first sentence that it writes as a full
    name somewhere (`full_names`) and names at least twice (its headline counts): the minister and the
    counterpart received, the two leaders of a call, the company a court ruled on. Not the names of a
    background sentence further down, nor those of a headline alone ("Erdoğan telefoniert nach Putin
    auch mit Selenskyj" is about the second call)."""
    written = full_names(title, text)
    named = Counter(k for f in _capitals(f"{title}\n{text}") if (k := name_key(f.group())))
    first = {k for f in _capitals(first_sentence(text)) if (k := name_key(f.group()))}
    return frozenset(
        k
        for k in first
        if not k.startswith("~")  # a short name's key: the Sea of "Black Sea" too
        and any(_alike(k, s) for s in written)
        and sum(c for n, c in named.items() if _alike(k, n)) >= 2
    )


def counterparts_conflict(
    own: frozenset[str],
    own_upfront: frozenset[str],
    theirs: list[tuple[frozenset[str], str | None, frozenset[str]]],
    their_upfront: frozenset[str],
    their_names: frozenset[str],
    their_prominent: frozenset[str],
) -> bool:
    """Whether a report and a story are about two meetings (calls, rulings) of one participant: they share a
    principal participant (the host, the caller, the court), and either
    - the report's counterpart is one the story names only in passing, and the story's is not the report's:
      a principal of the report that the story's reports name (`their_names`), but none up front
      (`their_upfront`) nor twice (`their_prominent`), as in "later in the day, Lavrov receives Armenia's
      Mirzoyan" at the end of a report of his talks with Fidan, while a principal of the story is none of
      the report's; or
    - the story's counterpart is one the report does not put up front: a principal of the story's reports
      that most of them put up front (`theirs`: each one's principals, language and `upfront`), in two
      languages or more (a name spelt alike across languages, not a German noun or a word of one language),
      and that the report does not name in its headline or first sentence.
    """
    if not own or not any(t for t, _, _ in theirs):
        return False
    all_theirs = frozenset().union(*(t for t, _, _ in theirs))
    if not _meets_alike(own, all_theirs):
        return False
    passing = their_names - their_prominent
    if _meets_alike(_beyond_alike(own, their_upfront), passing) and _beyond_alike(all_theirs, own):
        return True
    for key in all_theirs:
        put_first = [language for _, language, up in theirs if _meets_alike(frozenset({key}), up)]
        across = 2 * len(put_first) > len(theirs) and len(set(put_first)) >= 2
        if across and not _meets_alike(frozenset({key}), own_upfront):
            return True
    return False


def _alike(a: str, b: str) -> bool:
    """Whether two keys may be one name, inflected ("fdn" Фидан, "fdnm" Фиданом): equal, or one of three
    consonants or more the start of the other. (Stricter than `same_name`, whose shifted comparison makes
    "Deutschland" "Selenskyj".)"""
    return a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))


def _meets_alike(some: frozenset[str], others: frozenset[str]) -> bool:
    return any(_alike(a, b) for a in some for b in others)


def _beyond_alike(some: frozenset[str], others: frozenset[str]) -> frozenset[str]:
    return frozenset(a for a in some if not any(_alike(a, b) for b in others))


# Lead names ------------------------------------------------------------------------------------


# Keys of fewer consonants are no name a report leads with (two: Riga "rg", three: "Bank" and "Banker" apart).
LEAD_MIN_CONSONANTS = 2


def leads(title: str, text: str, named: frozenset[str] | None = None) -> frozenset[str]:
    """The names a report leads with: capitalised words of its headline and first sentence (its dateline aside)
    that it names more than once: the port struck, the capital visited, the company a court ruled on, however
    it writes them (a single word, no first name or title needed)."""
    lede = f"{title}\n{first_sentence(without_dateline(text))}"
    named = prominent(title, text) if named is None else named
    titles = _first_names(f"{title}\n{text}")  # "Defence Minister", "President": no thing of the event's own
    return (
        frozenset(k for f in _capitals(lede) if len(k := name_key(f.group())) >= LEAD_MIN_CONSONANTS and k in named)
        - titles
    )


def background(title: str, text: str, named: frozenset[str] | None = None) -> frozenset[str]:
    """The names a report gives only in its background: once, and not in its headline or first paragraph
    ("the same night, drones also hit Tuapse"; "later in the day, the court annulled Baltneft's listing")."""
    first, _, rest = text.strip().partition("\n")
    named = prominent(title, text) if named is None else named
    lede = frozenset(k for _, k in _keys(f"{title}\n{first}"))
    return frozenset(k for _, k in _keys(rest) if not k.startswith("#") and k not in named) - lede


def leads_conflict(
    own: frozenset[str],
    own_background: frozenset[str],
    theirs: list[frozenset[str]],
    their_background: frozenset[str],
) -> bool:
    """Whether a report and a story lead with different things, each naming the other's in its background:
    the report leads with a name that the story's reports give only in their background
    (`their_background`), and most of the story's reports lead with a name that the report gives only in
    its background: two ports struck in one night, one court's rulings on two companies, a body's two
    decisions of one day."""
    theirs = [t for t in theirs if t]
    # Keys compared as they are: a name's inflected forms share theirs, a prefix would make "Bank" "Banker".
    if not own or not theirs or not own & their_background:
        return False
    counts = Counter(k for t in theirs for k in t)
    core = frozenset(k for k, count in counts.items() if 2 * count >= len(theirs))
    return bool((core - own) & own_background)


# What one report reports and the other does not ---------------------------------------------------

# Languages that capitalise every noun: a capitalised word there, even after another one, is no sign of a name
# ("Das Gericht der EU", "Bundeskabinett"), so their reports give no named lead (`named_leads`).
NOUNS_CAPITALISED = frozenset({"de", "lb"})


def capitalises_nouns(language: str | None) -> bool:
    """Whether the language (an ISO code, "de-AT" as "de") capitalises every noun (`NOUNS_CAPITALISED`)."""
    return language is not None and language.split("-")[0].lower() in NOUNS_CAPITALISED


# Whether figures of the report's lede that no report of the story states count as what it reports and the story
# does not (against a name the story's reports lead with): a forum's plenary (its GDP figures) against a
# bilateral meeting there.
FIGURES_EXCLUSIVE = True


def mentioned(title: str, text: str) -> frozenset[str]:
    """The keys of every capitalised word of the headline and the text, those that start a sentence too, both as
    written (`name_key`) and as a place (`place_key`): everything the report names, however it names it."""
    found: set[str] = set()
    for f in _capitals(f"{title}\n{text}"):
        found.add(name_key(f.group()))
        found.add(place_key(f.group()))
    return frozenset(found - {""})


def named_leads(title: str, text: str, language: str | None, named: frozenset[str] | None = None) -> frozenset[str]:
    """The names the report leads with (as `leads` finds them, but in the first paragraph of LEDE_MIN_WORDS
    words or more: not a kicker, a caption or an appeal, "Support The Moscow Times!"), that its headline names
    and that it writes as the name of someone or something (`full_names`: after a first name or a title): the
    counterpart of a call, the guest, the company ruled on; not the context of a first sentence ("as U.S.
    President Donald Trump pushes for a deal") nor an adjective after a word of a title ("Senior Russian
    negotiator"). None in a language that capitalises its nouns (`NOUNS_CAPITALISED`)."""
    if capitalises_nouns(language):
        return frozenset()
    body = without_dateline(text)
    paragraph = next((p for p in body.split("\n") if len(p.split()) >= LEDE_MIN_WORDS), body)
    headline = frozenset(name_key(f.group()) for f in _capitals(title))
    found = leads(title, paragraph, prominent(title, text) if named is None else named) & full_names(title, text)
    return found & headline


def unnamed_by(key: str, named: frozenset[str]) -> bool:
    """Whether no key of `named` may be `key` spelt another way: not alike (`_alike`, `same_name`), nor one of two
    consonants or more the start of the other (Barrot "brt", Барро "br"). Lenient: a name counts as absent only
    when nothing like it is there."""
    return not any(
        _alike(key, other)
        or same_name(key, other)
        or (min(len(key), len(other)) >= 2 and (key.startswith(other) or other.startswith(key)))
        for other in named
    )


def exclusive_conflict(
    own_named: frozenset[str],
    own_figures: tuple[frozenset[float], frozenset[float]],
    own_mentioned: frozenset[str],
    own_leads: frozenset[str],
    own_background: frozenset[str],
    theirs: list[tuple[frozenset[str], frozenset[float], frozenset[str]]],
) -> bool:
    """Whether a report and a story each lead with something the other does not report: the report leads with
    a name (`named_leads`) that none of the story's reports names anywhere, or its lede states figures none of
    them states, and most of the story's reports lead with a name the report does not lead with and names at
    most in its background. One prime minister's two calls of one day: Pezeshkian, whom the reports of the call
    with Netanyahu never name, against Netanyahu, whom the report of the second call names once further down; a
    forum's plenary (its GDP figures) against a bilateral meeting there (the guest, whom the plenary's reports
    never name). Reports of one event name each other's counterpart somewhere, whoever they lead with. (The
    story's side is a name its reports lead with, not figures: a name one report leads with may be the outlet's
    own furniture, "Support The Moscow Times!", a name most of a story's reports lead with is the event's.)

    `own_figures`: the report's lede's and whole text's; `theirs`: each of the story's reports' named leads,
    figures stated and `mentioned` keys."""
    if not theirs:
        return False
    lede, _ = own_figures
    unnamed = any(all(unnamed_by(k, named) for _, _, named in theirs) for k in own_named)
    unstated = FIGURES_EXCLUSIVE and bool(lede) and not any(_shares(lede, stated) for _, stated, _ in theirs)
    if not unnamed and not unstated:
        return False
    apart = sum(
        any(
            not any(_alike(k, lead) for lead in own_leads)
            and (unnamed_by(k, own_mentioned) or any(_alike(k, b) for b in own_background))
            for k in named
        )
        for named, _, _ in theirs
    )
    return 2 * apart > len(theirs)


# What a report recalls ----------------------------------------------------------------------------

# Words that mark a sentence as one telling a second act of the same day beside the report's own (`coinciding`); they
# recall another event too (`_RECALL_MARKERS`).
_COINCIDE_MARKERS = (
    # What happened at the same time ("the protest coincides with the national rail strike", "on a day when"), or what
    # the same body also decided ("the council met in Zurich, where it also chose ...").
    # Not Russian "совпал с" alone: "the decision matched analysts' expectations".  # noqa: RUF003
    r"coincid(?:es|ed|ing) with", r"on a day when",
    r"(?:it|they) also (?:chose|picked|decided|approved|awarded|voted|elected)",
    r"co[iï]ncid(?:e|ait|ant|é) avec",
    r"(?:a|ont|avait|avaient) (?:également|aussi) (?:choisi|décidé|approuvé|attribué|voté)",
    r"zeitgleich mit", r"fiel(?:en)? (?:\w+ )?zusammen mit",
    r"(?:wählte|beschloss|vergab|billigte|bestimmte) (?:\w+ )?(?:auch|außerdem|zudem)",
    r"совпал[аио]? по времени с", r"также (?:выбрал|решил|одобрил|утвердил|присудил|проголосовал)[аи]?",  # noqa: RUF001
    r"coincid(?:e|ió|ía) con", r"también (?:eligió|decidió|aprobó|otorgó|adjudicó|votó)",
    r"coincid(?:e|eva) con", r"(?:ha|hanno|aveva) anche (?:scelto|deciso|approvato|assegnato|votato)",
)  # fmt: skip
_COINCIDE = re.compile(r"(?<!\w)(?:" + "|".join(_COINCIDE_MARKERS) + r")(?!\w)", re.IGNORECASE)


# Words that mark a sentence as one about another event than the report's own, earlier or later, in the
# languages of the press: when it happened ("earlier in the day", "hours before", "la veille", "накануне"),
# or who did it again ("the same court", "dasselbe Gericht", "тот же суд"). Reports of one day's two calls or
# rulings tell the other one in such a sentence ("Erdogan briefed Zelenskyy on his earlier call with Putin").
_RECALL_MARKERS = (
    # English
    r"earlier", r"previously", r"hours (?:before|earlier|later)", r"a day (?:earlier|later|before)",
    r"the (?:day|night|evening|morning|week) before", r"the previous (?:day|night|evening|week)",
    r"later (?:in|that|on)", r"the same", r"last (?:week|month)", r"before that", r"had already",
    # French
    r"plus tôt", r"auparavant", r"précédemment", r"la veille", r"plus tard",
    r"(?:heures|jours) (?:avant|après)", r"(?:le|la|les) mêmes?", r"la semaine (?:dernière|passée)", r"le mois dernier",
    r"(?:avait|avaient) déjà",
    # German
    r"zuvor", r"vorher", r"davor", r"später", r"am vortag", r"(?:vergangene|letzte)n? (?:woche|monat)",
    r"(?:der|die|das|den|dem|des)selben?", r"am (?:selben|gleichen) (?:tag|abend|morgen)",
    r"vor (?:wenigen|einigen) (?:stunden|tagen)", r"(?:hatte|hatten|war|waren) (?:\w+ )?bereits",
    # Russian
    r"ранее", r"накануне", r"в тот же день", r"позже", r"позднее", r"на прошлой неделе", r"в прошлом месяце",
    r"до этого", r"перед этим", r"(?:тот|та|ту|то|те|того|той|тем|тех|тому) же",
    # Spanish
    r"horas (?:antes|después)", r"más temprano", r"más tarde", r"previamente", r"anteriormente", r"la víspera",
    r"(?:el|la|los|las) mism[oa]s?", r"la semana pasada", r"el mes pasado", r"(?:ya había|había ya)",
    # Italian
    r"in precedenza", r"precedentemente", r"ore prima", r"poco prima", r"più tardi", r"(?:lo|la|gli|le) stess[oaie]",
    r"la settimana scorsa", r"il mese scorso", r"aveva già",
    *_COINCIDE_MARKERS,
)  # fmt: skip
_RECALL = re.compile(r"(?<!\w)(?:" + "|".join(_RECALL_MARKERS) + r")(?!\w)", re.IGNORECASE)


def _text_keys(text: str) -> set[str]:
    """The keys of every capitalised word of a text, as written (`name_key`) and as a place (`place_key`)."""
    found: set[str] = set()
    for f in _capitals(text):
        found.add(name_key(f.group()))
        found.add(place_key(f.group()))
    return found - {""}


@functools.lru_cache(maxsize=8)  # a report's record reads them three times
def _sentences_after_the_first(text: str) -> tuple[tuple[str, bool], ...]:
    """The sentences of the text after its first (its dateline aside), each with whether it recalls another
    event (`_RECALL`)."""
    body = without_dateline(text)
    first = first_sentence(body)
    end = body.find(first) + len(first) if first else 0
    bounds = [*(s for s in sentence_starts(body) if s >= end), len(body)]
    return tuple((body[a:b], _RECALL.search(body[a:b]) is not None) for a, b in itertools.pairwise(bounds))


def recalled(title: str, text: str) -> tuple[frozenset[str], frozenset[float], frozenset[str]]:
    """What the report tells of another event, and what it leads with outside that: the keys of the names
    (`_text_keys`) and the figures of its sentences that recall another event (`_RECALL`: "Earlier in the day
    the same court ordered RBI to pay 2.1 billion euros"), and the keys of its own lede: its first sentence's,
    and those of its headline that it names in a sentence that recalls nothing ("Erdoğan telefoniert nach Putin
    auch mit Selenskyj", Putin named again only in "Wenige Stunden zuvor hatte Erdoğan mit Putin gesprochen")."""
    sentences = _sentences_after_the_first(text)
    recalling = " ".join(s for s, recalls in sentences if recalls)
    if not recalling:
        return frozenset(), frozenset(), frozenset()
    own = " ".join(s for s, recalls in sentences if not recalls)
    lede = _text_keys(first_sentence(without_dateline(text))) | (_text_keys(title) & _text_keys(own))
    return frozenset(_text_keys(recalling)), figures(recalling), frozenset(lede)


def recalls_conflict(
    own_recalled: frozenset[str],
    own_recalled_figures: frozenset[float],
    own_lede: frozenset[str],
    own_lede_figures: frozenset[float],
    theirs: list[tuple[frozenset[str], frozenset[float]]],
) -> bool:
    """Whether the report tells the story's event as another one: most of the story's reports lead with a name
    (`named_leads`) or a figure of their headline that the report gives only in a sentence recalling another
    event, not in its own lede (`recalled`). One president's call with Zelensky whose report says "he briefed
    Zelenskyy on his earlier call with Putin" against the reports of the call with Putin; one court's ban whose
    report ends "that afternoon the same court ordered RBI to pay 2.1 billion euros" against the reports of the
    damages (their headlines' 2.1 billion). `theirs`: each of the story's reports' named leads and headline
    figures."""
    if not theirs or not (own_recalled or own_recalled_figures):
        return False

    def recalled_only(figure: float) -> bool:
        return _shares(frozenset({figure}), own_recalled_figures) and not _shares(frozenset({figure}), own_lede_figures)

    told = sum(
        any(k in own_recalled and not _meets_alike(frozenset({k}), own_lede) for k in named)
        or any(recalled_only(f) for f in head)
        for named, head in theirs
    )
    return 2 * told > len(theirs)


def coinciding(text: str) -> frozenset[str]:
    """The keys of the names (`_text_keys`) of the text's sentences after the first that tell a second act of the
    same day beside the report's own (`_COINCIDE`: "La protesta coincide con lo sciopero dei treni proclamato da Usb e
    Cub"; "where it also chose Madrid's Bernabeu")."""
    told = " ".join(s for s, _ in _sentences_after_the_first(text) if _COINCIDE.search(s))
    return frozenset(_text_keys(told)) if told else frozenset()


def coincides_conflict(own_coinciding: frozenset[str], own_lede: frozenset[str], theirs: list[frozenset[str]]) -> bool:
    """Whether the report tells the story's event as a second act of its day: most of the story's reports name in
    their headline or first sentence (`theirs`: their lede keys) more names that the report gives in a sentence that
    tells what coincided with its own event or what the same body also decided (`coinciding`), and not in its own
    lede (`recalled`'s lede keys), than names its own lede shares with theirs. The Rome taxi drivers' protest that
    "coincides with the national rail strike called by USB and CUB", against the reports of the strike, which lead
    with the unions; not a report of the story's award that adds "it also chose a new referees' chief" and names the
    runner-up there (its own lede names the stadium and the city). Unlike the recall markers ("earlier", "the
    same"), these tell of another event whoever acts in it, so no lead of the report's own is asked for."""
    if not own_coinciding or not theirs:
        return False

    def told_more(keys: frozenset[str]) -> bool:
        shared = sum(_meets_alike(frozenset({k}), own_lede) for k in keys)
        return sum(k in own_coinciding and not _meets_alike(frozenset({k}), own_lede) for k in keys) > shared

    return 2 * sum(told_more(keys) for keys in theirs) > len(theirs)


def recalled_lead_conflict(
    own_recalled: frozenset[str],
    own_lede: frozenset[str],
    own_leads: frozenset[str],
    own_language: str | None,
    theirs: list[tuple[frozenset[str], frozenset[str]]],
) -> bool:
    """Whether the report is of a second event of one day, actor and topic, the story's being the first: it leads
    with a name most of the story's reports name too (the actor they share: a governor, a company, a leader), with
    one none of them names (its own port, town, line or counterpart), and gives what most of them lead with only in
    a sentence that tells another event ("In the port of Primorsk a tank caught fire, governor Drozdenko said. ...
    Earlier the same day the port of Ust-Luga was attacked", against the reports of Ust-Luga, which name Drozdenko
    and never Primorsk). Any name counts (`leads`), not only the full names of `recalls_conflict`. A report of the
    story's own event that recalls another act of its actor ("Earlier in the day the Bundestag passed ...") leads
    with no name of its own that they lack, or shares none with most of them. A report in a language that
    capitalises its nouns (`NOUNS_CAPITALISED`) gives no such leads (its nouns would be). `theirs`: each of the
    story's reports' leads and `mentioned` keys."""
    if not theirs or not own_recalled:
        return False
    if capitalises_nouns(own_language):
        return False
    # A short name's key ("~te") says too little to be the report's own lead.
    own = [k for k in own_leads if not k.startswith("~")]
    if not any(all(unnamed_by(k, named) for _, named in theirs) for k in own):
        return False
    shared = sum(any(not unnamed_by(k, named) for k in own) for _, named in theirs)
    if 2 * shared <= len(theirs):
        return False
    told = sum(
        any(k in own_recalled and not _meets_alike(frozenset({k}), own_lede) for k in their_leads)
        for their_leads, _ in theirs
    )
    return 2 * told > len(theirs)


# Who acts -------------------------------------------------------------------------------------------

COUNTRIES_FILE = Path(__file__).with_name("countries.txt")
# Articles a headline may open with before the name of who acts ("The European Union", "Le Royaume-Uni").
_ARTICLES = frozenset(_words("the le la les l die der das el il lo"))


@functools.cache
def countries() -> frozenset[str]:
    """The English names of the countries and territories of the table of places (`COUNTRIES_FILE`)."""
    lines = COUNTRIES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def actor(title: str) -> str | None:
    """The key of the country or organisation a headline opens with (an article aside), the one that acts:
    "UK lowers ...", "Le Royaume-Uni abaisse ...", "EU senkt ...", "Швейцария присоединилась ..."; None when it
    opens with anything else: a person, a city ("Brussels warns", a capital for its government or not), a
    kicker ("Géorgie : le Parlement ...")."""
    text = unelided(title.strip())
    tokens = list(_TOKEN.finditer(text))
    start = 1 if tokens and tokens[0].group().lower() in _ARTICLES else 0
    if start >= len(tokens) or not tokens[start].group()[0].isupper():
        return None
    phrase = _phrase(text, tokens[start : start + PHRASE_WORDS])
    end = tokens[start + (phrase[0] if phrase else 1) - 1].end()
    if text[end:].lstrip().startswith(":"):
        return None
    if phrase is not None:
        return phrase[1] if phrase[1].startswith("=") else None
    word = tokens[start].group()
    place = place_of(word)
    # A country's name has four letters or more in every language of the press (Iran, Irán, Иран); a shorter word
    # is an abbreviation ("=" places: UK, the EU's in Russian) or a word that happens to be one's stem (the Russian
    # for a court: Sudan's).
    if place is None or not (place.startswith("=") or (place in countries() and len(word) >= 4)):
        return None
    return place_key(word)


def actors_conflict(own: str | None, theirs: list[str | None]) -> bool:
    """Whether a report's headline opens with another country or organisation than most of a story's that open
    with one do (those that open with a person, a city or a kicker say nothing of who acts), two of them at least
    when the story has several reports (one headline of several is one outlet's angle): the UK's oil price cap
    against the EU's, Norway's taking over of a sanctions package against Switzerland's."""
    if own is None or not theirs:
        return False
    acting = [other for other in theirs if other is not None]
    others = sum(1 for other in acting if other != own)
    return 2 * others > len(acting) and (others >= 2 or len(theirs) == 1)


# Where an event took place ------------------------------------------------------------------------

# Prepositions that put what follows them in a place, in the languages of the press ("in", "at", "off", "near";
# "à", "dans", "près de"; "im", "bei", "vor"; "в", "на", "под"; "en", "cerca de"; "nel", "presso"): a capitalised
# word after one of them, and a few lower-case words ("in the port of", "в турецкой провинции", "dans la province de"),
# is where something is. Not "a" (an English article too), nor "de" or "from" (of whom, whence).
_LOCATIVES = frozenset(
    _words(
        "in at near off outside inside "
        "à au aux dans près devant "
        "im bei nahe vor "
        "в во на под у около близ возле "  # noqa: RUF001 (Cyrillic on purpose)
        "en cerca junto "
        "nel nella nei nelle presso vicino"
    )
)
# Words for a place of some kind, before its name ("the port of Novorossiysk", "la ville de Nice", "в порту Тамань",
# "im Hafen Noworossijsk") or, in English, after it ("Malatya province"): as a locative, they say the name is a place's.
# Russian's by their stems (every case: "провинции", "порту", "области").
_PLACE_NOUNS = frozenset(
    _words(
        "port town city village province region district county oblast terminal harbour harbor "
        "ville commune région "
        "hafen stadt provinz region bundesland gemeinde kreis "
        "puerto ciudad provincia región municipio "
        "porto città provincia regione comune"
    )
)
_PLACE_STEMS = ("порт", "город", "сел", "посел", "посёл", "провинц", "област", "регион", "район", "округ", "терминал")
_PLACE_AFTER = frozenset(_words("province region district county oblast"))
# How many lower-case words may come between a locative and the place's name.
PLACE_SKIP = 3


def _place_noun(word: str) -> bool:
    lower = word.lower()
    return lower in _PLACE_NOUNS or ("CYRILLIC" in unicodedata.name(lower[0], "") and lower.startswith(_PLACE_STEMS))


def _locative_runs(text: str) -> Iterator[tuple[list[str], bool]]:
    """Each run of capitalised words (a name, "Gare-du-Nord", "Mecklenburg-Vorpommern", "Porto Empedocle") that follows
    a locative preposition or a word for a place (`_PLACE_NOUNS`) and at most PLACE_SKIP lower-case words (nothing but
    spaces between them), or that a word for a place follows in English ("Malatya province"), in the text as
    `whole_places` reads it; each with whether a word for a place said so (not only a preposition)."""
    tokens = list(_TOKEN.finditer(whole_places(text)))
    for i, found in enumerate(tokens):
        word = found.group()
        if (
            word[0].isupper()
            and len(word) > 1
            and i + 1 < len(tokens)
            and tokens[i + 1].group() in _PLACE_AFTER
            and text[found.end() : tokens[i + 1].start()] == " "
        ):
            yield [word], True
            continue
        noun = _place_noun(word)
        if word.lower() not in _LOCATIVES and not noun:
            continue
        run: list[str] = []
        skipped = 0
        for before, following in itertools.pairwise(tokens[i:]):
            word = following.group()
            if text[before.end() : following.start()] not in (" ", "\xa0") or word[0].isdigit():
                break  # punctuation, a line's end, a number: no place after this
            if word[0].isupper() and len(word) > 1 and not (run and _place_noun(word)):
                run.append(word)
            elif run or skipped == PLACE_SKIP:
                break
            else:
                skipped += 1
        if run:
            yield run, noun


def lede_places(title: str, text: str, language: str | None) -> frozenset[str]:
    """The places the report's headline and first sentence (its dateline aside) put the event in: the keys
    (`place_key`, the table's English name for a city it holds) of the capitalised words after a locative
    preposition or a word for a place (`_locative_runs`: "in Malatya province", "в провинции Адыяман", "en gare de
    Gare-du-Nord"), but a country's or an organisation's (the countries of one topic are where both of two events
    take place). In a language that capitalises its nouns (`NOUNS_CAPITALISED`: "im Fernverkehr"), after a preposition
    alone, only a city the table of places holds, or the words after the first of a run of several ("in der Provinz
    Malatya": Malatya)."""
    lede = f"{title}\n{first_sentence(without_dateline(text))}"
    nouns = capitalises_nouns(language)
    found: set[str] = set()
    for run, said in _locative_runs(lede):
        doubtful = nouns and not said
        for word in run[1:] if doubtful and len(run) > 1 else run:
            place = place_of(word)
            if place is not None and (place.startswith("=") or place in countries()):
                continue  # a country, an organisation
            if doubtful and len(run) == 1 and place is None:
                continue
            if _place_noun(word):
                continue
            for key in (place_key(word), *_other_spellings(word, language)):
                if key and not key.startswith("~") and len(key) >= LEAD_MIN_CONSONANTS:
                    found.add(key)
    return frozenset(found)


def _other_spellings(word: str, language: str | None) -> tuple[str, ...]:
    """The keys of a name as another language writes it, where the report's writes Kh as Ch or J, or Zh as J
    (`names_of`: Charkiw, Járkov, Zaporijjia), or any writes an English J as Dzh, Dsch or Dj (Фуджейра, Fudschaira:
    Fujairah): a place is the report's own only if no spelling of it is the other's."""
    code = language.split("-")[0].lower() if language is not None else None
    kh = _CH if code in CH_AS_KH else _J if code in J_AS_KH else None
    found: list[str] = []
    if kh is not None and kh.search(word):
        found.append(place_key(kh.sub(_as_kh, word)))
    if code in J_AS_ZH and _J.search(word):
        found.append(place_key(_J.sub(_as_zh, word)))
    latin = anyascii(word)
    if _DZH.search(latin):  # Фуджейра, Fudschaira: Fujairah; Джамму: Jammu
        found.append(place_key(_DZH.sub(lambda m: "J" if m.group()[0].isupper() else "j", latin)))
    return tuple(found)


# How Russian (Дж), German (Dsch) and French or Dutch (Dj) write the English J.
_DZH = re.compile(r"[Dd](?:zh|sch|j)")


def named_beyond_passing(title: str, text: str) -> frozenset[str]:
    """The names a report gives more than in passing: those of its headline, its dateline ("MADRID (AP) -": where it
    is told from) and first sentence, and those it names twice or more, each both as written (`name_key`) and as a
    place (`place_key`): a name outside these it names once, in passing ("the quake was felt as far as Adiyaman"), or
    not at all."""
    body = without_dateline(text)
    lede = f"{title}\n{text[: len(text) - len(body)]}\n{first_sentence(body)}"
    counts = Counter(place_key(f.group()) for f in _capitals(f"{title}\n{text}"))
    found: set[str] = set()
    for f in _capitals(f"{title}\n{text}"):
        if counts[place_key(f.group())] >= 2:
            found.update((name_key(f.group()), place_key(f.group())))
    found.update(_text_keys(lede))
    return frozenset(found - {""})


def figures_agree(
    own_lede: frozenset[float], own_head: frozenset[float], theirs: list[tuple[frozenset[float], frozenset[float]]]
) -> bool:
    """Whether the report and most of the story's reports state one figure in their ledes (the 260 litres of rain,
    the toll), and the report's headline states none their ledes lack: reports of one event told from two places
    (the town, the region) give its figures; two events of one kind in two places give their own (a quake of 5.2
    in the headline against the story's 6.1). `theirs`: each of the story's reports' lede and headline figures."""
    if not own_lede or not theirs:
        return False
    shared = sum(_shares(own_lede, lede) for lede, _ in theirs)
    if 2 * shared <= len(theirs):
        return False
    ledes = frozenset().union(*(lede for lede, _ in theirs))
    return all(_shares(frozenset({f}), ledes) for f in own_head)


def places_conflict(
    own_places: frozenset[str],
    own_named: frozenset[str],
    own_mentioned: frozenset[str],
    own_recalled: frozenset[str],
    theirs: list[tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]],
) -> bool:
    """Whether the report and the story put their events in two places, and one of them tells the other's: the
    report's lede puts its event in places (`lede_places`) that no report of the story names more than in passing
    (`named_beyond_passing`), most of the story's reports put theirs in places that the report names at most in
    passing, and the report names one of those once (in passing: `mentioned`), or one of the story's reports names one
    of the report's so; or names it in a sentence that tells another event (`recalled`: "Hours earlier a drone struck a
    tanker off Fujairah"), however it is spelt there (`unnamed_by`, lenient: Фуджейра's key is no English one's). Two
    earthquakes of one day in two provinces ("Ночью в соседней провинции Малатья произошло землетрясение" at the end
    of the report on Adiyaman), drone strikes on two ports, elections in two Länder: each report's lede names its own
    place, and the other event's reports never make it theirs, but tell it as another event. Reports of one event that
    lead with the town and with the region name both beyond passing, or neither names the other's (one outlet's
    angle). `theirs`: each of the story's reports' places, names beyond passing, `mentioned` and `recalled` keys."""
    if not own_places or not theirs:
        return False
    if not all(unnamed_by(p, named) for p in own_places for _, named, _, _ in theirs):
        return False
    apart = [places for places, _, _, _ in theirs if places and all(unnamed_by(q, own_named) for q in places)]
    if 2 * len(apart) <= len(theirs):
        return False
    if any(_meets_alike(places, own_mentioned) for places in apart) or any(
        _meets_alike(own_places, mentioned) for _, _, mentioned, _ in theirs
    ):
        return True
    return any(not unnamed_by(q, own_recalled) for places in apart for q in places) or any(
        not unnamed_by(p, recalled) for p in own_places for _, _, _, recalled in theirs
    )
