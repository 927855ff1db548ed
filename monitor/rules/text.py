"""Text analysis: the one place that decides what a "word" is, its forms, and where sentences end.

Rule terms and document fields go through the same functions, so a term matches a
text exactly when their analysed words agree: folded (case, accents, typographic marks),
elided articles split off (`l'Élysée` is `l` + `elysee`, as Lucene's ElisionFilter), and, for
terms that ask for word forms, stemmed in the document's language.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import threading
import typing
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import Stemmer

# Typographic marks that count as their ASCII forms; the soft hyphen is invisible.
_SPECIAL = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u00ad": "",
}  # fmt: skip

# A word: letters and digits, apostrophes inside a word kept ("o'brien"), a possessive
# "'s" dropped ("putin's" -> "putin"). Group 2 marks a hyphen joining the next word.
WORD_RE = re.compile(r"([^\W_]+(?:'(?!s\b)[^\W_]+)*)(?:'s\b)?")
# The same, every part in a group that is never None, to split a text into its words, what follows
# each (a possessive, then a joining hyphen) and what lies between, in one pass: words and their
# offsets come from the pieces' lengths, with no step in Python per word.
_WORD_PIECES_RE = re.compile(r"([^\W_]+(?:'(?!s\b)[^\W_]+)*)((?:'s\b)?)")
_WORD_HYPHEN_PIECES_RE = re.compile(r"([^\W_]+(?:'(?!s\b)[^\W_]+)*)((?:'s\b)?)((?:-(?=[^\W_]))?)")


# Where each word starts and ends, as arrays (a long text's, split by `_array_bounds`).
Bounds = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]


def _words(folded: str, hyphens: bool) -> tuple[list[str], list[bool], list[tuple[int, int]] | Bounds]:
    """The words of a folded text, whether each is joined by a hyphen to the next (when `hyphens`;
    else an empty list), and each word's span: what `_WORD_HYPHEN_PIECES_RE` (or, without hyphens,
    `_WORD_PIECES_RE`) splits it into. A long text is split with array operations (NumPy), its
    spans given as arrays (a tuple per word is built only if asked for); a short one with the regex
    (cheaper below a few hundred characters), its spans a list; both give the same."""
    if len(folded) < _ARRAY_MIN_CHARS:
        return _regex_words(folded, hyphens)
    return _array_bounds(folded, hyphens)


def _spans_of(bounds: Bounds) -> list[tuple[int, int]]:
    return list(zip(bounds[0].tolist(), bounds[1].tolist(), strict=True))


# Texts shorter than this are split by the regex (titles): NumPy's calls cost more than they save.
_ARRAY_MIN_CHARS = 256


def _regex_words(folded: str, hyphens: bool) -> tuple[list[str], list[bool], list[tuple[int, int]]]:
    # Pieces: what lies before a word, the word, its possessive (and its joining hyphen), ...
    if hyphens:
        pieces, step = _WORD_HYPHEN_PIECES_RE.split(folded), 4
        joined = list(map(bool, pieces[3::4]))
    else:
        pieces, step = _WORD_PIECES_RE.split(folded), 3
        joined = []
    offsets = list(itertools.accumulate(map(len, pieces), initial=0))
    spans = list(zip(offsets[1::step], offsets[2::step], strict=False))  # a start more than ends
    return pieces[1::step], joined, spans


# Which ASCII characters are letters or digits (re's [^\W_], str.isalnum()); others, asked once.
_ASCII_ALNUM = np.array([chr(c).isalnum() for c in range(128)] + [False] * 128, dtype=bool)
_ALNUM: dict[int, bool] = {}
_APOSTROPHE, _HYPHEN, _SPACE = ord("'"), ord("-"), ord(" ")


def _array_words(folded: str, hyphens: bool) -> tuple[list[str], list[bool], list[tuple[int, int]]]:
    """`_regex_words` by array operations (`_array_bounds`)."""
    words, joined, bounds = _array_bounds(folded, hyphens)
    return words, joined, _spans_of(bounds)


_NO_BOUNDS: Bounds = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))


def _array_bounds(folded: str, hyphens: bool) -> tuple[list[str], list[bool], Bounds]:
    """`_regex_words` by array operations over the text's code points: which characters belong to
    a word is worked out at once (letters and digits; only apostrophes between two of them, few,
    are looked at one by one, as the regex reads them: "o'brien" one word, a possessive "'s"
    dropped); every other character is made a space, and the words are that text's `str.split()`
    (in C, no step in Python per word), their spans where the runs of word characters start and end."""
    n = len(folded)
    codes: npt.NDArray[np.unsignedinteger[typing.Any]]
    ascii = folded.isascii()  # (max() of a long text costs more than everything else here)
    encoding, dtype = ("latin-1", np.uint8) if ascii else ("utf-32-le", np.uint32)
    codes = np.frombuffer(folded.encode(encoding, "surrogatepass"), dtype=dtype)
    kept = _ASCII_ALNUM[codes] if ascii else _ASCII_ALNUM[np.minimum(codes, 255)]
    if not ascii:
        wide = np.unique(codes[codes >= 128]).tolist()
        letters = [code for code in wide if _alnum(code)]
        if letters:
            kept |= np.isin(codes, letters)
    alnum = kept.copy() if hyphens else kept
    possessives: list[int] = []  # where a word followed by a possessive "'s" ends
    apostrophes = np.flatnonzero(codes[1:-1] == _APOSTROPHE) + 1
    if len(apostrophes):
        # An apostrophe between two letters or digits: joins them, unless what follows is a lone "s"
        # then a word boundary (\b: "_" is a word character there), a possessive, dropped. In text
        # order: after a possessive, the next run starts a word of its own.
        between = apostrophes[alnum[apostrophes - 1] & alnum[apostrophes + 1]].tolist()
        for at in between:
            if not kept[at - 1]:
                continue  # the "s" of a possessive before it
            after = at + 2
            if folded[at + 1] == "s" and (after >= n or (not alnum[after] and folded[after] != "_")):
                kept[at + 1] = False
                possessives.append(at)
            else:
                kept[at] = True
    edges = np.diff(kept.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    if not len(starts):
        return [], [], _NO_BOUNDS
    ends = np.flatnonzero(edges == -1)
    spaced = codes.copy()
    spaced[~kept] = _SPACE
    words = spaced.tobytes().decode(encoding).split()
    joined: list[bool] = []
    if hyphens:
        # A hyphen right after the word (or its possessive) and a letter or digit right after it.
        joins = np.zeros(n + 3, dtype=bool)
        joins[: n - 1] = (codes[:-1] == _HYPHEN) & alnum[1:]
        after = ends + 2 * np.isin(ends, possessives) if possessives else ends
        joined = joins[after].tolist()
    return words, joined, (starts, ends)


def _alnum(code: int) -> bool:
    known = _ALNUM.get(code)
    if known is None:
        known = _ALNUM[code] = chr(code).isalnum()
    return known


# Elided articles, pronouns and conjunctions that are words of their own before an apostrophe:
# French, Italian and Catalan, as Lucene's ElisionFilter (with Italian "quell'" and "quest'").
def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


ELISIONS = _word_set(
    "l m t qu n s j d c jusqu quoiqu lorsqu puisqu presqu quelqu "
    "all dall dell nell sull coll pell gl agl dagl degl negl sugl un v quell quest"
)
# An elided word at the start of a word, before an apostrophe and a letter: the cheap test of
# whether a text has any (most have none, even with apostrophes: "don't", "O'Brien").
_ELIDED_RE = re.compile(
    r"(?<![^\W_])(?:" + "|".join(sorted(ELISIONS, key=len, reverse=True)) + r")'(?=[^\W_])", re.IGNORECASE
)

_FOLDED: dict[str, str] = {}
_CASED: dict[str, str] = {}


def _fold_once(char: str, casefold: bool) -> str:
    out = []
    decomposed = unicodedata.normalize("NFKD", char)
    if casefold:
        decomposed = unicodedata.normalize("NFKD", decomposed.casefold())
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        out.append(_SPECIAL.get(ch, ch))
    return "".join(out)


def _fold_char(char: str, casefold: bool) -> str:
    cache = _FOLDED if casefold else _CASED
    folded = cache.get(char)
    if folded is None:
        folded = _fold_once(char, casefold)
        # Iterate to a fixed point so that folding is idempotent.
        for _ in range(4):
            again = "".join(_fold_once(c, casefold) for c in folded)
            if again == folded:
                break
            folded = again
        cache[char] = folded
    return folded


# str.translate tables (ASCII capitals, and every character folded so far whose fold is one
# character long: nearly all, accented letters and typographic quotes). Filled as characters are seen.
_TABLES: dict[bool, dict[int, str]] = {True: {c: chr(c).lower() for c in range(65, 91)}, False: {}}
# Characters whose fold is not exactly one character ("…" -> "...", "ß" -> "ss", a combining mark -> "").
_RESIZED: dict[bool, set[int]] = {True: set(), False: set()}


def _table_for(text: str, casefold: bool) -> tuple[dict[int, str], bool]:
    """A str.translate table covering every character of `text`, and whether folding with it
    moves characters (some fold to zero or several characters)."""
    table, resized = _TABLES[casefold], _RESIZED[casefold]
    moved = False
    for char in set(text):
        code = ord(char)
        if code < 128:
            continue
        if code not in table:
            folded = _fold_char(char, casefold)
            table[code] = folded
            if len(folded) != 1:
                resized.add(code)
        moved = moved or code in resized
    return table, moved


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _fold_runs(text: str, casefold: bool) -> tuple[str, bool]:
    """Fold `text`, whose non-ASCII characters are few: each run of them is replaced on its own,
    and ASCII case is handled by one lower() (much faster than a per-character translate)."""
    table = _TABLES[casefold]
    moved = False

    def replace(run: re.Match[str]) -> str:
        nonlocal moved
        chunk = run.group()
        out = []
        for char in chunk:
            folded = table.get(ord(char))
            if folded is None:
                folded = table[ord(char)] = _fold_char(char, casefold)
                if len(folded) != 1:
                    # _table_for trusts this set for characters already in the table.
                    _RESIZED[casefold].add(ord(char))
            out.append(folded)
        joined = "".join(out)
        moved = moved or len(joined) != len(chunk)
        return joined

    # lower() after folding: ASCII capitals; folded characters are already case-folded and
    # none of them is one of the few whose lower() changes length.
    folded = _NON_ASCII_RUN.sub(replace, text)
    return (folded.lower() if casefold else folded), moved


def fold(text: str, casefold: bool = True) -> str:
    """Return `text` NFKC/NFKD-folded, accents and (by default) case removed, quotes made ASCII."""
    return fold_for_matching(text, casefold)[0]


_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


def _fold_few(text: str, casefold: bool) -> tuple[str, bool] | None:
    """`_fold_runs(text)` done by one `str.replace` per distinct character that folds to something
    else (a text has a handful: "ü", "é", "…"), or None where that could differ: a fold
    holding a character that another replacement changes."""
    table = _TABLES[casefold]
    replaced: list[tuple[str, str]] = []
    for char in set(_NON_ASCII_CHAR.findall(text)):
        code = ord(char)
        folded = table.get(code)
        if folded is None:
            folded = table[code] = _fold_char(char, casefold)
            if len(folded) != 1:
                _RESIZED[casefold].add(code)  # _table_for trusts this set for characters in the table
        if folded != char:
            replaced.append((char, folded))
    changed = {char for char, _ in replaced}
    if any(not changed.isdisjoint(folded) for _, folded in replaced):
        return None
    moved = False
    if any(len(folded) != 1 for _, folded in replaced):
        # As _fold_runs says it: some run of non-ASCII characters folds to another length.
        moved = any(len(run.translate(table)) != len(run) for run in _NON_ASCII_RUN.findall(text))
    for char, folded in replaced:
        text = text.replace(char, folded)
    return (text.lower() if casefold else text), moved


def fold_for_matching(text: str, casefold: bool = True) -> tuple[str, bool]:
    """`fold(text)`, and whether folded positions differ from the text's (see `fold_offsets`)."""
    if text.isascii():
        return (text.lower() if casefold else text), False
    # Bytes beyond one per character: a cheap count of how much of the text is non-ASCII.
    if len(text.encode("utf-8", "surrogatepass")) - len(text) < len(text) // 4:
        return _fold_few(text, casefold) or _fold_runs(text, casefold)
    table, moved = _table_for(text, casefold)
    translated = text.translate(table)
    # The same lower() as _fold_runs, so that both ways give the same result for every character.
    return (translated.lower() if casefold else translated), moved


def fold_offsets(text: str) -> list[int]:
    """For each character of `fold(text)`, the index in `text` of the character it came from."""
    _table_for(text, True)  # every character of it folded once: those that change length are known
    return _fold_offsets(text)


def _fold_offsets(text: str) -> list[int]:
    """`fold_offsets` of a text folded before (its characters are in `_TABLES`)."""
    offsets: list[int] = []
    position = 0
    # Most characters fold to one: only those that fold to none or several need a step here.
    for resized in _resized_re().finditer(text):
        index = resized.start()
        offsets.extend(range(position, index))
        offsets.extend([index] * len(_fold_char(text[index], True)))
        position = index + 1
    offsets.extend(range(position, len(text)))
    return offsets


# Texts with fewer words than this have their spans mapped back in lists (titles).
_ARRAY_MIN_WORDS = 40


def _mapped_spans(text: str, folded_spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`folded_spans` (spans in `fold(text)`, folded before) mapped back to `text`: what
    `_fold_offsets` gives each word's first and last character, by array operations."""
    flat = np.fromiter(itertools.chain.from_iterable(folded_spans), dtype=np.intp, count=2 * len(folded_spans))
    return _spans_of(_mapped_bounds(text, (flat[0::2], flat[1::2])))


def _mapped_bounds(text: str, bounds: Bounds) -> Bounds:
    """Word bounds in `fold(text)` (folded before) mapped back to `text` (see `_mapped_spans`)."""
    lengths = np.ones(len(text), dtype=np.intp)  # how many characters each folds to
    resized = [(m.start(), len(_fold_char(m.group(), True))) for m in _resized_re().finditer(text)]
    if resized:
        at, length = zip(*resized, strict=True)
        lengths[list(at)] = length
    offsets = np.repeat(np.arange(len(text)), lengths)
    return offsets[bounds[0]], offsets[bounds[1] - 1] + 1


_resized_pattern: tuple[int, re.Pattern[str]] = (0, re.compile("(?!)"))


def _resized_re() -> re.Pattern[str]:
    """A character class of the characters seen so far whose fold is not one character long."""
    global _resized_pattern
    resized = _RESIZED[True]
    if _resized_pattern[0] != len(resized):
        chars = "".join(sorted(map(chr, resized)))
        _resized_pattern = (len(resized), re.compile("[" + re.escape(chars) + "]"))
    return _resized_pattern[1]


def split_elisions(words: list[str]) -> list[str]:
    """`words` with every elided article split off: ["l'elysee"] -> ["l", "elysee"]."""
    out: list[str] = []
    for word in words:
        # A loop, not an if: "qu'l'..." splits twice, as its spans do.
        while "'" in word:
            head, _, rest = word.partition("'")
            if head.lower() not in ELISIONS:
                break
            out.append(head)
            word = rest
        out.append(word)
    return out


def _split_elided_spans(folded: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of `folded`'s words with every elided article split off (as `split_elisions`)."""
    elided = dict(_elided(folded))
    if not elided:
        return spans
    out: list[tuple[int, int]] = []
    for start, end in spans:
        apostrophe = elided.get(start)
        while apostrophe is not None and apostrophe < end:
            out.append((start, apostrophe))
            start = apostrophe + 1
            apostrophe = elided.get(start)
        out.append((start, end))
    return out


_LONGEST_ELISION = max(map(len, ELISIONS))
_ELISION_RE = re.compile("(?:" + "|".join(sorted(ELISIONS, key=len, reverse=True)) + ")'", re.IGNORECASE)


def _elided(folded: str) -> Iterator[tuple[int, int]]:
    """Where each elided word of the folded text starts, and its apostrophe: what
    `_ELIDED_RE.finditer` finds, looking only around each apostrophe (a search of the whole text
    with that pattern costs more than splitting it into words)."""
    at = folded.find("'")
    while at != -1:
        if at + 1 < len(folded) and folded[at + 1].isalnum():  # str.isalnum() is re's [^\W_]
            start = at
            while start > 0 and at - start <= _LONGEST_ELISION and folded[start - 1].isalnum():
                start -= 1
            if at - start <= _LONGEST_ELISION and _ELISION_RE.fullmatch(folded, start, at + 1):
                yield start, at
        at = folded.find("'", at + 1)


def has_elisions(folded: str) -> bool:
    """Does the folded text hold an elided article to split off?"""
    return next(_elided(folded), None) is not None


def words_of(text: str) -> list[str]:
    """The folded words of `text`, as a document's field would be split."""
    folded = fold(text)
    words = WORD_RE.findall(folded)
    return split_elisions(words) if has_elisions(folded) else words


def cased_words(text: str) -> list[str]:
    """The words of `text` folded but for case (for terms that must match case)."""
    folded = fold(text, casefold=False)
    words = WORD_RE.findall(folded)
    return split_elisions(words) if has_elisions(folded) else words


@dataclass(slots=True)
class WordStream:
    """A field's words, laid out for one multi-pattern pass.

    `stream` is " w0 w1 w2 ... " followed by extra segments for hyphenated compounds
    ("re-engage" also appears as "reengage"), each with up to `context` neighbouring
    words on either side. Every entry of the stream maps back to a range of words.
    """

    text: str
    folded: str
    moved: bool  # folding moved characters: word spans need mapping back (computed on first use)
    words: list[str]
    stream: str
    entry_words: list[str]
    entry_first: list[int]
    entry_last: list[int]
    _folded_spans: list[tuple[int, int]] | None  # each word's span in `folded` (None: `_bounds` has them)
    _spans: list[tuple[int, int]] | None = field(default=None)
    _units: dict[str, list[int]] = field(default_factory=dict)
    _entry_starts: list[int] | None = field(default=None)
    _bounds: Bounds | None = field(default=None)  # `folded_spans` as arrays (a long text's)
    _text_bounds: Bounds | None = field(default=None)  # ... mapped back to `text` (computed on first use)

    @property
    def folded_spans(self) -> list[tuple[int, int]]:
        """Each word's span in `folded`."""
        if self._folded_spans is None:
            self._folded_spans = _spans_of(self._bounds) if self._bounds is not None else []
        return self._folded_spans

    def _bounds_in_text(self) -> Bounds | None:
        """Where each word starts and ends in `text`, as arrays (a long text's; else None)."""
        if self._bounds is None or not self.moved:
            return self._bounds
        if self._text_bounds is None:
            self._text_bounds = _mapped_bounds(self.text, self._bounds)  # folded in `build`
        return self._text_bounds

    def word_starts(self) -> list[int]:
        """Where each word starts in `text` (without a span per word, where it has none yet)."""
        bounds = self._bounds_in_text() if self._spans is None else None
        return bounds[0].tolist() if bounds is not None else list(map(_FIRST, self.word_spans()))

    def written_words(self) -> list[str]:
        """Each word as the text writes it (its case and accents)."""
        bounds = self._bounds_in_text() if self._spans is None else None
        if bounds is None:
            return words_at(self.text, self.word_spans())
        return list(map(self.text.__getitem__, map(slice, bounds[0].tolist(), bounds[1].tolist())))

    @property
    def entry_starts(self) -> list[int]:
        """Where each entry starts in `stream` (computed on first use: only placing hits needs it)."""
        if self._entry_starts is None:
            self._entry_starts = stream_starts(self.entry_words)
        return self._entry_starts

    @classmethod
    def build(cls, text: str, context: int) -> WordStream:
        folded, moved = fold_for_matching(text)
        elided = has_elisions(folded)
        hyphens = "-" in folded
        words, joined, split = _words(folded, hyphens)
        spans, bounds = (split, None) if isinstance(split, list) else (None, split)
        if elided:
            if bounds is not None:  # the spans split below: as a list
                spans, bounds = _spans_of(bounds), None
            if hyphens:
                words, joined = _split_joined(words, joined)
            else:
                words = split_elisions(words)
            spans = _split_elided_spans(folded, spans or [])
        entry_words = list(words)
        entry_first = list(range(len(words)))
        entry_last = list(entry_first)
        if any(joined):
            _add_compounds(words, joined, context, entry_words, entry_first, entry_last)
        stream = " " + " ".join(entry_words) + " "
        return cls(
            text=text,
            folded=folded,
            moved=moved,
            words=words,
            stream=stream,
            entry_words=entry_words,
            entry_first=entry_first,
            entry_last=entry_last,
            _folded_spans=spans,
            _spans=None if moved else spans,
            _bounds=bounds,
        )

    def word_spans(self) -> list[tuple[int, int]]:
        """Character span of every word in the original text (computed on first use)."""
        if self._spans is None:
            bounds = self._bounds_in_text()
            if bounds is not None:
                self._spans = _spans_of(bounds)
            elif len(self.folded_spans) < _ARRAY_MIN_WORDS:
                offsets = _fold_offsets(self.text)  # folded in `build`
                starts = map(offsets.__getitem__, map(_FIRST, self.folded_spans))
                lasts = map(offsets.__getitem__, map(_MINUS_ONE, map(_SECOND, self.folded_spans)))
                self._spans = list(zip(starts, map(_PLUS_ONE, lasts), strict=True))
            else:
                self._spans = _mapped_spans(self.text, self.folded_spans)
        return self._spans

    def unit_starts(self, kind: str) -> list[int]:
        """The word index where each sentence or paragraph (`kind`) starts (computed on first use)."""
        starts = self._units.get(kind)
        if starts is None:
            chars = sentence_starts(self.text) if kind == "sentence" else paragraph_starts(self.text)
            word_starts = self.word_starts()
            starts = sorted({bisect_left(word_starts, c) for c in chars} | {0})
            self._units[kind] = starts
        return starts

    def lead_words(self) -> int:
        """How many words of this text are its lead: up to the end of the first paragraph of
        LEAD_MIN_WORDS words or more (a dateline or a byline before it comes along), LEAD_MAX_WORDS
        at most; LEAD_WORDS words where the text has no paragraphs."""
        paragraphs = self.unit_starts("paragraph")
        if len(paragraphs) == 1:
            return min(LEAD_WORDS, len(self.words))
        ends = [*paragraphs[1:], len(self.words)]
        for start, end in zip(paragraphs, ends, strict=True):
            if end - start >= LEAD_MIN_WORDS:
                return min(end, LEAD_MAX_WORDS)
        return min(len(self.words), LEAD_MAX_WORDS)

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """Character span in the original text of words `first`..`last` (inclusive)."""
        spans = self.word_spans()
        return spans[first][0], spans[last][1]

    def word_range(self, start: int, end: int) -> tuple[int, int] | None:
        """Words overlapping the character span [start, end), or None if there are none."""
        spans = self.word_spans()
        first = bisect_right([s[1] for s in spans], start)
        if first >= len(spans) or spans[first][0] >= end:
            return None
        last = bisect_left([s[0] for s in spans], end) - 1
        return first, max(first, last)


_FIRST = operator.itemgetter(0)
_SECOND = operator.itemgetter(1)
_PLUS_ONE = (1).__add__
_MINUS_ONE = (-1).__add__


def stream_starts(entries: list[str]) -> list[int]:
    """Where each entry starts in " " + " ".join(entries) + " "."""
    return list(itertools.accumulate(map(_PLUS_ONE, map(len, entries)), initial=1))


def words_at(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The words of `text` at these spans, as written."""
    return list(map(text.__getitem__, itertools.starmap(slice, spans)))


def _split_joined(words: list[str], joined: list[bool]) -> tuple[list[str], list[bool]]:
    """split_elisions for words that carry a hyphen-join flag (the article joins nothing)."""
    out_words: list[str] = []
    out_joined: list[bool] = []
    for word, join in zip(words, joined, strict=True):
        while "'" in word:
            head, _, rest = word.partition("'")
            if head not in ELISIONS:
                break
            out_words.append(head)
            out_joined.append(False)
            word = rest
        out_words.append(word)
        out_joined.append(join)
    return out_words, out_joined


def _add_compounds(
    words: list[str],
    joined: list[bool],
    context: int,
    entry_words: list[str],
    entry_first: list[int],
    entry_last: list[int],
) -> None:
    """Append a segment for every run of hyphen-joined words, written without the hyphens."""
    i = 0
    n = len(words)
    while i < n:
        if not joined[i]:
            i += 1
            continue
        j = i
        while j < n - 1 and joined[j]:
            j += 1
        for a in range(i, j):
            for b in range(a + 1, j + 1):
                entry_words.append("")  # an empty entry: no key can cross segments
                entry_first.append(-1)
                entry_last.append(-1)
                for k in range(max(0, a - context), a):
                    entry_words.append(words[k])
                    entry_first.append(k)
                    entry_last.append(k)
                entry_words.append("".join(words[a : b + 1]))
                entry_first.append(a)
                entry_last.append(b)
                for k in range(b + 1, min(n, b + 1 + context)):
                    entry_words.append(words[k])
                    entry_first.append(k)
                    entry_last.append(k)
        i = j + 1


# Terms ----------------------------------------------------------------------------------------

# How a word of a term compares with a word of the text.
EXACT, PREFIX, SUFFIX, INFIX = 0, 1, 2, 3
TermWord = tuple[str, int]  # (analysed word, how it compares)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# At most 2**4 spellings of a term's hyphens.
_MAX_HYPHEN_JOINS = 4


def spellings(text: str) -> list[str]:
    """The spellings a term stands for: as written, and with German ä/ö/ü as ae/oe/ue
    (`Brüssel` also matches `Bruessel`; ß already folds to ss)."""
    expanded = text.translate(_UMLAUTS)
    return [text] if expanded == text else [text, expanded]


def word_matches(word: str, pattern: TermWord) -> bool:
    """Does a word of the text match one word of a term?"""
    want, mode = pattern
    if mode == EXACT:
        return word == want
    if mode == PREFIX:
        return word.startswith(want)
    if mode == SUFFIX:
        return word.endswith(want)
    return want in word


def term_variants(
    text: str, casefold: bool = True, analyse: Callable[[str], list[str]] | None = None
) -> list[list[TermWord]]:
    """The word sequences a literal term stands for (one per spelling and per hyphen reading).

    A hyphen inside the term matches a space or nothing, so `re-engage` gives [re, engage] and
    [reengage]. A trailing `*` is a prefix wildcard, a leading one a suffix wildcard, both an
    infix one. `analyse` turns a chunk of the term into words (default: folding, as the text).
    """
    if analyse is None and text.isascii() and text.replace(" ", "").isalnum():
        # Plain ASCII words (most terms): one spelling, no hyphens, no wildcards, folding is lower().
        return [[(word, EXACT) for word in (text.lower() if casefold else text).split()]]
    out: list[list[TermWord]] = []
    for spelling in spellings(text):
        for variant in _hyphen_variants(spelling, casefold, analyse):
            if variant not in out:
                out.append(variant)
    return out


def _hyphen_variants(text: str, casefold: bool, analyse: Callable[[str], list[str]] | None) -> list[list[TermWord]]:
    split = analyse or (words_of if casefold else cased_words)
    words: list[tuple[str, int, bool]] = []  # (word, mode, hyphen-joined to the next)
    for chunk in text.split():
        leading, trailing = chunk.startswith("*"), chunk.endswith("*")
        parts = chunk.strip("*").split("-")
        chunk_words: list[tuple[str, int, bool]] = []
        for i, part in enumerate(parts):
            found = split(part)
            for j, word in enumerate(found):
                joined = j == len(found) - 1 and i < len(parts) - 1
                chunk_words.append((word, EXACT, joined))
        if chunk_words and trailing:
            word, _, joined = chunk_words[-1]
            chunk_words[-1] = (word, PREFIX, joined)
        if chunk_words and leading:
            word, mode, joined = chunk_words[0]
            chunk_words[0] = (word, INFIX if mode == PREFIX else SUFFIX, joined)
        words.extend(chunk_words)
    if words:
        last_word, last_mode, _ = words[-1]
        words[-1] = (last_word, last_mode, False)
    joins = [i for i, w in enumerate(words) if w[2]]
    if not joins:
        return [[(w, m) for w, m, _ in words]]
    out: list[list[TermWord]] = []
    # Each hyphen either separates two words or vanishes.
    for squash in itertools.product((False, True), repeat=min(len(joins), _MAX_HYPHEN_JOINS)):
        squashed = {joins[i] for i, s in enumerate(squash) if s}
        variant: list[TermWord] = []
        glue = False
        for i, (word, mode, _) in enumerate(words):
            if glue:
                # A glued word keeps the wildcard of either side: "*sonder-gesandt*".
                before, before_mode = variant[-1]
                head = before_mode in (SUFFIX, INFIX)
                tail = mode in (PREFIX, INFIX)
                variant[-1] = (before + word, (INFIX if tail else SUFFIX) if head else (PREFIX if tail else EXACT))
            else:
                variant.append((word, mode))
            glue = i in squashed
        out.append(variant)
    return out


# Word forms -------------------------------------------------------------------------------------

# ISO 639-1 -> Snowball stemmer (those PyStemmer has; Polish since Snowball 3).
_SNOWBALL_NAMES = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish",
    "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nb": "norwegian", "ne": "nepali",
    "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
_SNOWBALL = {code: name for code, name in _SNOWBALL_NAMES.items() if name in Stemmer.algorithms()}
# Ukrainian has no Snowball stemmer: its words are reduced to their dictionary form instead.
LEMMATIZED = frozenset({"uk"})
FORMS_LANGUAGES = frozenset(_SNOWBALL) | LEMMATIZED
# Words that Snowball gives the stem of an unrelated word, per language (folded word -> stem): the
# noun keeps apart from the verb ("holdings" is not "hold", "Parlement" is not "parler", "после" is
# not "посла"), as Lucene's StemmerOverrideFilter. Both terms and texts go through `stems`.
STEM_EXCEPTIONS: dict[str, dict[str, str]] = {
    "en": {"holdings": "holdings", "reservation": "reservation", "reservations": "reservation"},
    "fr": {
        "parlement": "parlement", "parlements": "parlement", "avoirs": "avoirs", "fonds": "fonds",
        "reservation": "reservation", "reservations": "reservation",
        "envoye": "envoye", "envoyee": "envoye", "envoyes": "envoye", "envoyees": "envoye",
    },
    "it": {
        "parlamento": "parlamento", "parlamenti": "parlamento", "mostra": "mostra", "mostre": "mostra",
        "inviato": "inviato", "inviata": "inviato", "inviati": "inviato", "inviate": "inviato",
    },
    "es": {"enviado": "enviado", "enviada": "enviado", "enviados": "enviado", "enviadas": "enviado"},
    "de": {
        "botschafter": "botschafter", "botschafters": "botschafter", "botschaftern": "botschafter",
        "botschafterin": "botschafter", "botschafterinnen": "botschafter",
    },
    "ru": {"после": "после"},
}  # fmt: skip
# Folded stems of words seen, per language; cleared when it grows past this (a long-running
# service meets new words forever).
_STEM_CACHE_SIZE = 500_000


class _ThreadStemmers(threading.local):
    """Snowball stemmers are not thread-safe: one set per thread."""

    def __init__(self) -> None:
        self.by_language: dict[str, Stemmer.Stemmer] = {}


_stemmers = _ThreadStemmers()
_stem_caches: dict[str, dict[str, str]] = {}


@functools.cache
def _ukrainian() -> object:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="uk")


def _lemma(analyzer: object, word: str) -> str:
    try:
        return analyzer.parse(word)[0].normal_form  # type: ignore[attr-defined,no-any-return]
    except ValueError:  # pymorphy3 asks each letter's Unicode name: a letter without one ('𗀀') stays as written
        return word


def _raw_stems(words: list[str], language: str) -> list[str]:
    if language in LEMMATIZED:
        analyzer = _ukrainian()
        return [_lemma(analyzer, w) for w in words]
    stemmer = _stemmers.by_language.get(language)
    if stemmer is None:
        stemmer = _stemmers.by_language[language] = Stemmer.Stemmer(_SNOWBALL[language])
    return list(stemmer.stemWords(words))


def stems(words: Sequence[str], language: str) -> list[str]:
    """The folded stem of each word (given as written, any case) in `language` (in FORMS_LANGUAGES).

    Stemmers see the words with their accents (French "nommée" needs its é), and the stem is
    folded afterwards like every other word.
    """
    cache = _stem_caches.setdefault(language, {})
    if len(cache) > _STEM_CACHE_SIZE:
        cache.clear()
    got: list[str | None] = list(map(cache.get, words))
    if None not in got:
        return typing.cast(list[str], got)
    keys = list(dict.fromkeys(w for w, known in zip(words, got, strict=True) if known is None))
    lowered = [unicodedata.normalize("NFKC", w).lower() for w in keys]
    exceptions = STEM_EXCEPTIONS.get(language, {})
    for key, stem in zip(keys, _raw_stems(lowered, language), strict=True):
        folded = exceptions.get(fold(key)) or fold(stem)
        # A stem that folds to nothing (a lone mark) keeps the word itself.
        cache[key] = folded or fold(key)
    return list(map(cache.__getitem__, words))


def forms_language(language: str | None) -> str | None:
    """The language whose word forms apply to a document in `language` ("de-AT" -> "de"), if any."""
    if not language:
        return None
    primary = language.split("-")[0].split("_")[0].lower()
    return primary if primary in FORMS_LANGUAGES else None


def term_stems(text: str, language: str) -> list[list[TermWord]]:
    """The stemmed word sequences of a term without wildcards (see `term_variants`)."""
    if text.isascii() and text.replace(" ", "").isalnum():
        # Plain ASCII words (most terms): one spelling, no hyphens, each word a word of the text.
        return [[(stem, EXACT) for stem in stems(text.split(), language)]]

    def analyse(chunk: str) -> list[str]:
        return stems(_written_words(chunk), language)

    return term_variants(text, analyse=analyse)


def terms_stems(texts: Sequence[str], language: str) -> list[list[list[TermWord]]]:
    """`term_stems` of each text, the plain ASCII ones' words stemmed in one call: a matcher stems
    every word-form term in each language it applies to, and a call per term was most of that."""
    plain = [text.isascii() and text.replace(" ", "").isalnum() for text in texts]
    words = [text.split() for text, is_plain in zip(texts, plain, strict=True) if is_plain]
    stemmed = iter(stems(list(itertools.chain.from_iterable(words)), language))
    out: list[list[list[TermWord]]] = []
    plain_words = iter(words)
    for text, is_plain in zip(texts, plain, strict=True):
        if is_plain:
            out.append([[(next(stemmed), EXACT) for _ in next(plain_words)]])
        else:
            out.append(term_stems(text, language))
    return out


@functools.lru_cache(maxsize=1 << 16)
def _written_words(chunk: str) -> tuple[str, ...]:
    """A chunk of a term split into words as written, as a text is (kept: a matcher stems each
    word-form term in every language it applies to, one after the other)."""
    return tuple(words_at(chunk, WordStream.build(chunk, 0).word_spans()))


# Sentences, paragraphs and the lead --------------------------------------------------------------

# A blank line between paragraphs (when the text has any), else a line break.
_BLANK_LINE_RE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAK_RE = re.compile(r"\n\s*")
# A sentence's end: . ! ? or … (and any closing quotes or brackets), with the white space after it
# (group 1), the character after that (2) and the two after that (3): what decides whether a
# sentence starts there, in one regex step per sentence end.
_SENTENCE_BREAK_RE = re.compile(r"[.!?…]+[\"'»”’)\]]*(\s+)(?=(.?)(.{0,2}))", re.DOTALL)
_OPENERS = "\"'«“„‘([-–—¿¡"
# Abbreviations after which a full stop does not end a sentence (folded; single letters, such
# as initials, "M." for Monsieur, "z. B." or "т. е.", never end one either).
ABBREVIATIONS = _word_set(
    # English
    "mr mrs ms dr prof sen rep gov gen col lt sgt capt cmdr adm st jr sr inc ltd corp co vs "
    "approx dept fig jan feb apr jun jul aug sep sept oct nov dec mt ft "
    # French
    "mme mmes mlle mlles mm mgr pr ste cf env vol chap "
    # German
    "nr bzw ca hr fr frl str usw vgl evtl ggf inkl zzgl dt jh jhd mio mrd abs geb gest sog ehem "
    # Italian and Spanish
    "sig sigg dott avv ing arch pag sra srta dra dna ud uds vd vds ee uu num gral av avda "
    # Polish
    "inz np tzw ul plk mjr kpt ks sw tys mln mld zl godz wg tj "
    # Russian and Ukrainian
    "гг тыс млн млрд руб долл ул им проф акад см стр рис напр ок вул див тис грн ім"
)
LEAD_WORDS = 60  # the lead of a text without paragraphs
LEAD_MIN_WORDS = 8  # a paragraph shorter than this (a dateline, a byline) is not the lead on its own
LEAD_MAX_WORDS = 100


def paragraph_starts(text: str) -> list[int]:
    """Character offsets where the paragraphs of `text` start (the first is 0)."""
    splitter = _BLANK_LINE_RE if _BLANK_LINE_RE.search(text) else _LINE_BREAK_RE
    return [0, *(m.end() for m in splitter.finditer(text))]


def sentence_starts(text: str) -> list[int]:
    """Character offsets where the sentences of `text` start: after a full stop, question or
    exclamation mark followed by a capital (not after an abbreviation or initial), and at every
    line break."""
    starts = [0, *(m.end() for m in _LINE_BREAK_RE.finditer(text))]
    for m in _SENTENCE_BREAK_RE.finditer(text):
        space, following, rest = m.groups()
        if not following or "\n" in space:
            continue  # the text's end, or a line break (which starts one already)
        if following in _OPENERS:
            following = rest.lstrip(" -–—")[:1]
        if not following.isupper():
            continue
        before = m.start()
        if text[before] == "." and not text.startswith("..", before):
            word_start = before
            while word_start > 0 and (text[word_start - 1].isalnum()):
                word_start -= 1
            token = text[word_start:before]
            if len(token) == 1 or fold(token) in ABBREVIATIONS:
                continue
            # "am 24. Februar": a day's number before a month, not the end of a sentence.
            if token.isdigit() and len(token) <= 2:
                continue
        starts.append(m.end())
    return sorted(set(starts))
