"""Text folding and word streams: the one place that decides what a "word" is.

Rule terms and document fields go through the same functions, so a term matches a
text exactly when their folded words agree.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

# Typographic marks that count as their ASCII forms; the soft hyphen is invisible.
_SPECIAL = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u00ad": "",
}  # fmt: skip

# A word: letters and digits, apostrophes inside a word kept ("o'brien"), a possessive
# "'s" dropped ("putin's" -> "putin"). Group 2 marks a hyphen joining the next word.
WORD_RE = re.compile(r"([^\W_]+(?:'(?!s\b)[^\W_]+)*)(?:'s\b)?")
_WORD_HYPHEN_RE = re.compile(r"([^\W_]+(?:'(?!s\b)[^\W_]+)*)(?:'s\b)?(-(?=[^\W_]))?")

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


def fold_for_matching(text: str, casefold: bool = True) -> tuple[str, bool]:
    """`fold(text)`, and whether folded positions differ from the text's (see `fold_offsets`)."""
    if text.isascii():
        return (text.lower() if casefold else text), False
    # Bytes beyond one per character: a cheap count of how much of the text is non-ASCII.
    if len(text.encode("utf-8", "surrogatepass")) - len(text) < len(text) // 4:
        return _fold_runs(text, casefold)
    table, moved = _table_for(text, casefold)
    translated = text.translate(table)
    # The same lower() as _fold_runs, so that both ways give the same result for every character.
    return (translated.lower() if casefold else translated), moved


def fold_offsets(text: str) -> list[int]:
    """For each character of `fold(text)`, the index in `text` of the character it came from."""
    offsets: list[int] = []
    position = 0
    # ASCII characters fold one to one; only runs of other characters need looking at.
    for run in _NON_ASCII_RUN.finditer(text):
        offsets.extend(range(position, run.start()))
        for index in range(run.start(), run.end()):
            offsets.extend([index] * len(_fold_char(text[index], True)))
        position = run.end()
    offsets.extend(range(position, len(text)))
    return offsets


def words_of(text: str) -> list[str]:
    """The folded words of `text`, as a document's field would be split."""
    return WORD_RE.findall(fold(text))


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
    entry_starts: list[int]
    entry_first: list[int]
    entry_last: list[int]
    _spans: list[tuple[int, int]] | None = field(default=None)

    @classmethod
    def build(cls, text: str, context: int) -> WordStream:
        folded, moved = fold_for_matching(text)
        if "-" in folded:
            found = _WORD_HYPHEN_RE.findall(folded)
            words = [w for w, _ in found]
            joined = [bool(h) for _, h in found]
        else:
            words = WORD_RE.findall(folded)
            joined = []
        entry_words = list(words)
        entry_first = list(range(len(words)))
        entry_last = list(entry_first)
        if any(joined):
            _add_compounds(words, joined, context, entry_words, entry_first, entry_last)
        stream = " " + " ".join(entry_words) + " "
        starts = list(itertools.accumulate((len(w) + 1 for w in entry_words), initial=1))
        return cls(
            text=text,
            folded=folded,
            moved=moved,
            words=words,
            stream=stream,
            entry_words=entry_words,
            entry_starts=starts,
            entry_first=entry_first,
            entry_last=entry_last,
        )

    def word_spans(self) -> list[tuple[int, int]]:
        """Character span of every word in the original text (computed on first use)."""
        if self._spans is None:
            spans = [m.span(1) for m in WORD_RE.finditer(self.folded)]
            if self.moved:
                offs = fold_offsets(self.text)
                spans = [(offs[s], offs[e - 1] + 1) for s, e in spans]
            self._spans = spans
        return self._spans

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
