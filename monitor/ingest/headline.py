"""The headline of a plain-text article without front matter: what `monitor replay` and rule tests show.

Text saved from a web page often starts with something that is not its headline: a call to action
("Support The Moscow Times!"), a date or byline line ("date 2026-02-02 403"), or straight away the
first paragraph. Among the first few non-empty lines, the first that reads like a headline is the
title (the rest of the lines are the text); when none does, the title is the first sentence of the
text, shortened at a clause, and the text stays whole.

A line reads like a headline when it has 3 to 25 words and at most 160 characters, does not end like
a sentence or a call (`.`, `!`, `:`, `;`, `,`), is mostly words (not a date, number or code line), and
does not begin with a call to action (subscribe, support us, sign up...). A first line of one or two
words passes too when no line does (a short file's "Headline").
"""

from __future__ import annotations

import re

CANDIDATE_LINES = 5
MIN_WORDS, MAX_WORDS, MAX_CHARS = 3, 25, 160
# A title made from a sentence is cut at a clause (a comma, a dash) within this many characters.
MAX_TITLE = 140
MIN_CLAUSE = 40

_CALLS = re.compile(
    r"(support|subscribe|donate|sign (up|in)|log ?in|register|advertisement|skip to|share (this|on)|"
    r"follow us|read more|click here|listen|cookies?|newsletter)\b",
    re.IGNORECASE,
)
# Typographic quotes and dashes by code point: \u2018-\u201d quotes, \u2013 and \u2014 dashes.
_SENTENCE_END = re.compile("[.!?\u2026][\"')\u2019\u201d]*(?=\\s+[\"'(\u2018\u201c]?[A-Z0-9\u00c0-\u00dd])")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.)+$|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Sen|Rep|Gov|Prof|No)\.$")
_CLAUSE = re.compile("[,;:]\\s|\\s[-\u2013\u2014]\\s")


def looks_like_headline(line: str, min_words: int = MIN_WORDS) -> bool:
    """Does this line read like a news headline (see the module's docstring)?"""
    line = line.strip()
    words = line.split()
    if not min_words <= len(words) <= MAX_WORDS or len(line) > MAX_CHARS:
        return False
    if line[-1] in ".!:;," or _CALLS.match(line):
        return False
    return _wordy(words)


def _wordy(words: list[str]) -> bool:
    """Mostly words, not numbers, dates or codes: two thirds of the tokens at least half letters."""
    wordy = sum(1 for word in words if sum(c.isalpha() for c in word) >= max(2, len(word) // 2))
    return wordy * 3 >= len(words) * 2


def sentence_title(paragraph: str) -> str:
    """A title from a paragraph: its first sentence, cut at a clause (or a word) when it is long."""
    paragraph = paragraph.strip()
    ends = (m.end() for m in _SENTENCE_END.finditer(paragraph) if not _ABBREVIATION.search(paragraph[: m.end()]))
    sentence = paragraph[: next(ends, len(paragraph))].strip().removesuffix(".")
    if len(sentence) <= MAX_TITLE:
        return sentence
    clauses = [m.start() for m in _CLAUSE.finditer(sentence, MIN_CLAUSE, MAX_TITLE)]
    if clauses:
        return sentence[: clauses[-1]].rstrip()
    space = sentence.rfind(" ", 0, MAX_TITLE)
    return sentence[: space if space > 0 else MAX_TITLE].rstrip(" ,;:") + "…"


def headline(lines: list[str]) -> tuple[str, list[str]]:
    """The title of a plain-text article and the lines of its text; `lines` holds at least one non-empty line."""
    filled = [(index, line.strip()) for index, line in enumerate(lines) if line.strip()]
    candidates = [(index, line) for index, line in filled[:CANDIDATE_LINES] if looks_like_headline(line)]
    # Else a short first line all the same (a one- or two-word title), if it is no call or date line.
    if not candidates and looks_like_headline(filled[0][1], min_words=1):
        candidates = filled[:1]
    if candidates:
        index, line = candidates[0]
        return line, lines[:index] + lines[index + 1 :]
    prose = [line for _, line in filled if len(line.split()) >= MIN_WORDS and _wordy(line.split())]
    return sentence_title((prose or [filled[0][1]])[0]), lines
