"""What a report names: people, places, organisations, numbers and dates, as keys comparable across languages.

An embedding says what a text is about; two reports of the same topic a week apart are about the same
thing. What tells two events apart is who and what they name: the minister interviewed, the city
struck, the sum lent, the day. Cheap signals do: capitalised words that do not start a sentence, and
numbers. Each name becomes a key that survives the usual differences between languages: Cyrillic is
transliterated, accents and case are dropped, vowels (which transliterations disagree on: Poutine,
Putin, Путин) are dropped, common spelling pairs are merged (sch/sh/ch, c/k, w/v, z/s), and inflection
is cut by keeping the first consonants (Macrons, Макрона -> "mkrn"). Numbers keep their digits
("18,2" and "18.2" -> "#18.2"; "1 000" and "1,000" -> "#1000").
"""

from __future__ import annotations

import re
import unicodedata

# ISO 9-like: one Latin spelling for each Cyrillic letter (Russian, Ukrainian, Belarusian).
_CYRILLIC_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў"
_LATIN_SPELLINGS = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i i e g u"
_CYRILLIC = {
    c: "" if latin == "-" else latin for c, latin in zip(_CYRILLIC_LETTERS, _LATIN_SPELLINGS.split(), strict=True)
}
# Spellings that transliterations of one name disagree on, longest first.
_SPELLINGS = (
    ("tsch", "s"), ("shch", "s"), ("sch", "s"), ("ch", "s"), ("sh", "s"), ("zh", "s"), ("kh", "h"),
    ("ph", "f"), ("th", "t"), ("ts", "s"), ("tz", "s"), ("ck", "k"), ("c", "k"), ("q", "k"), ("x", "ks"),
    ("w", "v"), ("z", "s"), ("j", "i"), ("y", "i"),
)  # fmt: skip
KEY_CONSONANTS = 4
# A word, or a number with its separators (18,2  1 000  2.5).
_TOKEN = re.compile(r"[^\W\d_][^\W_]*(?:['\u2019\-][^\W_]+)*|\d+(?:[.,\u202f\xa0 ]\d+)*")
# What precedes a word that starts a sentence (or a quote, or a headline), whose capital says nothing.
_STARTS = re.compile(r"(?:\A|[.!?\n:;]\s*[«\"“„(\u2018']?\s*|[«\"“„(\u2018]\s*)\Z")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,\u202f\xa0 ]\d{3})+")


def _latin(word: str) -> str:
    text = "".join(_CYRILLIC.get(c, c) for c in word.lower())
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_key(word: str) -> str:
    """The key of one capitalised word ("" when too little of it is left to tell names apart)."""
    latin = re.sub(r"[^a-z]", "", _latin(word))
    for spelling, common in _SPELLINGS:
        latin = latin.replace(spelling, common)
    consonants = re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou]", "", latin))
    return consonants[:KEY_CONSONANTS] if len(consonants) >= 2 else ""


def number_key(token: str) -> str:
    """The key of a number as written: its digits, thousands separators dropped, a decimal comma as a point."""
    if _THOUSANDS.fullmatch(token):
        return "#" + re.sub(r"\D", "", token)
    return "#" + re.sub(r"[\u202f\xa0 ]", "", token).replace(",", ".")


def names_of(*texts: str) -> frozenset[str]:
    """The name and number keys of the texts (a title, a lede, a body)."""
    keys: set[str] = set()
    for text in texts:
        for found in _TOKEN.finditer(text):
            token = found.group()
            if token[0].isdigit():
                keys.add(number_key(token))
            elif (
                token[0].isupper()
                and len(token) > 1
                and not _STARTS.search(text[max(0, found.start() - 4) : found.start()])
            ):
                key = name_key(token)
                if key:
                    keys.add(key)
    return frozenset(keys)


def _starts_sentence(text: str, start: int) -> bool:
    return _STARTS.search(text[max(0, start - 4) : start]) is not None
