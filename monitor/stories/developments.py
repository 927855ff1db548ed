"""New developments: a follow-up that says something its story's earlier reports did not.

Most later reports of an event repeat it in other words; some move it on, and a reader following the
thread wants those marked. Three cheap signs, checked against the story's earlier reports:

- the report says it is an update ("UPDATE", "Mise à jour", "Aktualisiert", "Обновлено"...) at the
  start of its headline or text;
- its lede states a figure none of them stated (a toll that rose, a sum that changed), while it shares
  another with them (else it would be another event);
- it quotes someone none of them named: a person's name (two capitalised words or more, "Oleh
  Kiper") right before or after a quotation, no word of which they have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.stories.names import FIGURE_TOLERANCE, name_words, starts_sentence

_UPDATE = re.compile(
    r"\A\W*(?:update[ds]?|updated|breaking|mise à jour|actualisé|aktualisiert|update|обновлено|обновление|"
    r"actualización|actualizado|aggiornamento|aggiornato)\b",
    re.IGNORECASE,
)
# A quotation (a dozen characters or more), and a person's name, two capitalised words or more, near it.
_QUOTATION = re.compile('["«“„][^"«»“”„]{12,}["»”“]')
_CAPITALISED = r"[A-ZÀ-ÝА-ЯЁ][^\W\d_'\u2019-]+"
_PERSON = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED})+")
# How far from a quotation its speaker is named ("», said Governor Oleh Kiper"; "Peskov told reporters: «").
NEAR = 40


def marked_update(title: str, text: str) -> str | None:
    """The mark of a text that starts by saying it is an update, else None."""
    return "marked as an update" if _UPDATE.match(title) or _UPDATE.match(text[:80]) else None


def development(
    title: str,
    text: str,
    lede_figures: frozenset[float],
    earlier_names: frozenset[str],
    earlier_figures: frozenset[float],
) -> str | None:
    """What a follow-up brings that its story's earlier reports (their names and figures) did not, or None."""
    marked = marked_update(title, text)
    if marked:
        return marked
    changed = sorted(f for f in lede_figures if not _stated(f, earlier_figures))
    if changed and len(changed) < len(lede_figures):
        return "new figure " + ", ".join(_figure(f) for f in changed[:3])
    quoted = [name for keys, name in _quoted_names(text) if not keys & earlier_names]
    if quoted:
        return "new voice " + ", ".join(quoted[:3])
    return None


def _stated(figure: float, figures: Iterable[float]) -> bool:
    return any(abs(figure - other) <= FIGURE_TOLERANCE * max(abs(figure), abs(other)) for other in figures)


def _figure(value: float) -> str:
    for scale, unit in ((1e9, " bn"), (1e6, " m")):
        if value >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:,.0f}" if value.is_integer() else f"{value:g}"


def _quoted_names(text: str) -> list[tuple[frozenset[str], str]]:
    """People named right before or after a quotation: the keys of their name's words, the name as written.

    A capitalised word that starts a sentence is no name ("Nach Angaben...", "Das Urteil").
    """
    quotations = [(q.start(), q.end()) for q in _QUOTATION.finditer(text)]
    names: dict[str, tuple[frozenset[str], str]] = {}
    for person in _PERSON.finditer(text):
        start, end = person.span()
        near = any(q_start - NEAR <= end <= q_start or q_end <= start <= q_end + NEAR for q_start, q_end in quotations)
        if not near:
            continue
        words = person.group().split()
        if starts_sentence(text, start):
            words = words[1:]
        keys = frozenset(name_words("x " + " ".join(words)))
        if len(words) >= 2 and len(keys) >= 2:
            names.setdefault(" ".join(words), (keys, " ".join(words)))
    return list(names.values())
