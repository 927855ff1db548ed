"""The event layer's reports as a replica keeps them, column by column, for a fast scan.

A new report is compared with every report of its window (up to `max_reports`, 5,000 by default):
its embedding with theirs, its names with theirs. Done report by report in Python that is a quarter
of a second; here each report has a slot, its embedding a row of one matrix, its names ids in one
run of a flat array, so that scoring a window is a few NumPy operations, and how many reports of the
window name each name is carried over from one window to the next, which differs by a report or two
(docs/benchmarks.md, "what the event layer costs").

The replica keeps the reports the store keeps, not only those it was given: it reads the reports
added since its last read (`Store.event_reports_since`) and drops what the store drops by the same
rules (`add`: older than the TTL before the report added, then all but the latest `cap` by time), so
that it finds a window without asking the store which reports are in it, and reads each record once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Generic, Protocol, SupportsIndex, TypeVar

import numpy as np

from monitor.stories.blas import one_blas_thread

# The flat names array is compacted (and the names' and stories' codes renumbered) when it holds
# this many times the entries of the reports kept, so that a long-running replica stays bounded.
COMPACT_AT = 2
# A slot not in use; a name entry whose report was dropped belongs to it, and names it (a weight of 0).
FREE = -1
# The names' counts over a window are updated from the last window's when at most this many reports
# came in or went out (usually one or two: the report added since), else counted again.
RECOUNT_AT = 256


class Kept(Protocol):
    """What the window keeps of a report."""

    @property
    def report_id(self) -> str: ...
    @property
    def story_id(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def timed(self) -> bool: ...
    @property
    def names(self) -> frozenset[str]: ...
    @property
    def language(self) -> str | None: ...
    @property
    def vector(self) -> np.ndarray: ...


R = TypeVar("R", bound=Kept)


class StoryIds:
    """Story ids by their codes, spelled out only for the stories asked about (the candidates are few)."""

    def __init__(self, codes: np.ndarray, ids: list[str]) -> None:
        self._codes, self._ids = codes, ids

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, index: SupportsIndex) -> str:
        return self._ids[int(self._codes[index])]


@dataclass(frozen=True, slots=True)
class Scores:
    """A new report against the stories of its window.

    Attributes:
        stories: each story's id, in the order its first report comes in the window (the latest first).
        averages: each story's average score (cosine + names_weight * name overlap) over its reports.
        untimed: whether any of the story's reports has no publication time.
        cosines: each story's average cosine (of the embeddings alone) over its reports.
    """

    stories: StoryIds
    averages: np.ndarray
    untimed: np.ndarray
    cosines: np.ndarray


class ReportWindow(Generic[R]):
    """The reports the store keeps (as far as this replica has read them), each in a slot.

    Args:
        cap: how many reports the store keeps (the latest by time).
        ttl: how long before the latest report added the store keeps a report (seconds).
    """

    def __init__(self, cap: int, ttl: float) -> None:
        self.cap = cap
        self.ttl = ttl
        self._slot: dict[str, int] = {}
        self._reports: list[R | None] = []
        self._free: list[int] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._high = 0  # slots at or above it were never used: their rows are not scored
        self._at = np.zeros(0)
        self._expires = np.zeros(0)
        self._live = np.zeros(0, dtype=bool)
        self._timed = np.zeros(0, dtype=bool)
        self._language = np.zeros(0, dtype=np.int64)
        self._language_code: dict[str | None, int] = {}
        self._story = np.zeros(0, dtype=np.int64)
        self._story_code: dict[str, int] = {}
        self._story_ids: list[str] = []
        # A report's names are one run of entries of the flat arrays: slot -> where it starts, how long.
        self._name_start = np.zeros(0, dtype=np.int64)
        self._name_entries = np.zeros(0, dtype=np.int64)
        # 32 bits: the scan reads these arrays once for each report it scores.
        self._names = np.zeros(0, dtype=np.int32)  # name codes (FREE: dropped, and past the last entry)
        self._owner = np.zeros(0, dtype=np.int32)  # the slot of each name entry (FREE: dropped)
        self._names_used = 0
        self._vocabulary: dict[str, int] = {}
        # How many reports of the last window scored name each name (None: count them again), and which
        # slots that window held (the last entry: FREE's, never held).
        self._counts: np.ndarray | None = None
        self._counted = np.zeros(1, dtype=bool)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, report_id: str) -> bool:
        return report_id in self._slot

    def get(self, report_id: str) -> R | None:
        slot = self._slot.get(report_id)
        return self._reports[slot] if slot is not None else None

    def add(self, report: R, expires: float, bound: bool = True) -> R:
        """Keep a report (a report already kept is kept once) until `expires` (epoch seconds); with `bound`,
        then drop what the store drops when it adds a report: those older than the TTL before it, then all
        but the latest `cap` (the lowest report id first among reports of one time, as Redis ranks them)."""
        if report.report_id in self._slot:
            return report
        slot = self._free.pop() if self._free else self._grow()
        self._slot[report.report_id] = slot
        self._reports[slot] = report
        self._high = max(self._high, slot + 1)
        if self._vectors.shape[1] != len(report.vector):
            self._vectors = np.zeros((len(self._reports), len(report.vector)), dtype=np.float32)
        self._vectors[slot] = report.vector
        self._at[slot] = report.at
        self._expires[slot] = expires
        self._live[slot] = True
        self._timed[slot] = report.timed
        self._language[slot] = self._language_code.setdefault(report.language, len(self._language_code))
        code = self._story_code.setdefault(report.story_id, len(self._story_code))
        if code == len(self._story_ids):
            self._story_ids.append(report.story_id)
        self._story[slot] = code
        ids = self.name_ids(report.names)
        if self._names_used + len(ids) >= len(self._names):  # one FREE entry past the last, always
            size = max(1024, 2 * (self._names_used + len(ids)))
            self._names = _resized(self._names, size, FREE)
            self._owner = _resized(self._owner, size, FREE)
        self._names[self._names_used : self._names_used + len(ids)] = ids
        self._owner[self._names_used : self._names_used + len(ids)] = slot
        self._name_start[slot] = self._names_used
        self._name_entries[slot] = len(ids)
        self._names_used += len(ids)
        if bound:
            self._bound(report.at)
        return report

    def keep_only(self, report_ids: Collection[str]) -> None:
        """Forget every report but these (the store's, when a read returns every report it keeps)."""
        for report_id in [i for i in self._slot if i not in report_ids]:
            self._drop(self._slot[report_id])

    def window(self, since: float, until: float, now: float) -> np.ndarray:
        """The slots of the reports timed within [since, until] whose records have not expired by `now`,
        the latest first (what the store's `event_report_ids` names)."""
        at = self._at
        found = np.flatnonzero(self._live & (at >= since) & (at <= until) & (self._expires > now))
        ordered: np.ndarray = found[np.argsort(-at[found], kind="stable")]
        return ordered

    def report_ids(self, slots: np.ndarray) -> list[str]:
        return [r.report_id for s in slots if (r := self._reports[s]) is not None]

    def get_in(self, report_id: str, slots: np.ndarray) -> R | None:
        """The report, if it is one of these slots'."""
        slot = self._slot.get(report_id)
        return self._reports[slot] if slot is not None and bool((slots == slot).any()) else None

    def name_ids(self, names: frozenset[str]) -> np.ndarray:
        vocabulary = self._vocabulary
        return np.fromiter((vocabulary.setdefault(n, len(vocabulary)) for n in names), dtype=np.int64, count=len(names))

    def members(self, slots: np.ndarray, story_id: str) -> list[R]:
        """The reports of one story among these slots."""
        code = self._story_code.get(story_id)
        if code is None:
            return []
        return [r for s in slots[self._story[slots] == code] if (r := self._reports[s]) is not None]

    def score(
        self,
        vector: np.ndarray,
        names: frozenset[str],
        slots: np.ndarray,
        names_weight: float,
        language: str | None = None,
        across_languages: float = 0.0,
    ) -> Scores:
        """Score a new report (its embedding, names and language) against the reports in these slots, story
        by story: cosine + names_weight * name overlap, + across_languages for a report in another language
        (a report or two without a language are taken for one language)."""
        with one_blas_thread():
            cosines = (self._vectors[: self._high] @ vector)[slots]
        overlaps = self._name_overlaps(self.name_ids(names), slots)
        scores = cosines + names_weight * overlaps
        if across_languages and language is not None:
            own = self._language_code.get(language, -1)
            unknown = self._language_code.get(None, -2)
            other = (self._language[slots] != own) & (self._language[slots] != unknown)
            scores = scores + across_languages * other
        # Summed by story code (no sort of the window's codes): each story's sum adds its reports' scores in
        # the window's order, as a sum over the stories found by a sort would.
        story = self._story[slots]
        known = len(self._story_ids)
        members = np.bincount(story, minlength=known)
        sums = np.bincount(story, weights=scores, minlength=known)
        cosine_sums = np.bincount(story, weights=cosines, minlength=known)
        untimed = np.bincount(story, weights=(~self._timed[slots]).astype(float), minlength=known) > 0
        first = np.full(known, len(slots))
        np.minimum.at(first, story, np.arange(len(slots)))
        codes = story[np.sort(first[members > 0])]  # stories in the order of their first (latest) report
        size = members[codes]
        return Scores(StoryIds(codes, self._story_ids), sums[codes] / size, untimed[codes], cosine_sums[codes] / size)

    def _name_overlaps(self, own: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """For each report in `slots`: the weight of the names it shares with `own`, over the weight of
        the smaller report's names; a name weighs by its rarity among all these reports and the new one
        (inverse document frequency, log((reports + 1) / reports naming it): a name in every one weighs least)."""
        if len(slots) == 0:
            return np.zeros(0)
        frequency = self._window_counts(slots).copy()
        frequency[own] += 1
        weight = np.zeros(len(frequency) + 1)  # FREE (the last) weighs nothing
        named = np.flatnonzero(frequency > 0)
        weight[named] = np.log((len(slots) + 2) / frequency[named])
        # Summed in one pass: each name's weight (the real part) and, if the new report names it, again
        # (the imaginary part); a gather of pairs of floats from a 2-D table costs six times as much.
        weights = weight.astype(np.complex128)
        weights[own] += 1j * weight[own]
        # Each report's names are one run of entries: the sums over the runs of the window's reports (the
        # runs between them, of other reports, are summed too and left out).
        counts = self._name_entries[slots]
        named_slots = np.flatnonzero(counts > 0)
        starts = self._name_start[slots[named_slots]]
        order = np.argsort(starts)
        bounds = np.empty(2 * len(order), dtype=np.int64)
        bounds[0::2] = starts[order]
        bounds[1::2] = starts[order] + counts[named_slots[order]]
        if len(bounds) == 0:
            return np.zeros(len(slots))
        sums = np.add.reduceat(np.take(weights, self._names[: self._names_used + 1]), bounds)[0::2]
        totals, shared = np.zeros(len(slots)), np.zeros(len(slots))
        totals[named_slots[order]], shared[named_slots[order]] = sums.real, sums.imag
        smaller = np.minimum(totals, weight[own].sum())
        overlaps: np.ndarray = np.divide(shared, smaller, out=np.zeros(len(slots)), where=smaller > 0)
        return overlaps

    def _window_counts(self, slots: np.ndarray) -> np.ndarray:
        """How many of the reports in `slots` name each name (by code): the last window's counts, with
        the reports that came in or went out since added or taken away (exact: whole numbers)."""
        inside = np.zeros(len(self._reports) + 1, dtype=bool)  # + the slot of dropped entries (FREE, the last)
        inside[slots] = True
        changed = np.flatnonzero(inside != self._counted) if len(self._counted) == len(inside) else None
        counts = self._counts
        if counts is None or changed is None or len(changed) > RECOUNT_AT:
            entries = inside[self._owner[: self._names_used]]
            counts = np.bincount(self._names[: self._names_used][entries], minlength=len(self._vocabulary))
        else:
            if len(counts) < len(self._vocabulary):
                counts = _resized(counts, len(self._vocabulary))
            for slot in changed:
                counts[self._names_of(int(slot))] += 1 if inside[slot] else -1
        self._counts, self._counted = counts, inside
        return counts

    def _names_of(self, slot: int) -> np.ndarray:
        start = int(self._name_start[slot])
        return self._names[start : start + int(self._name_entries[slot])]

    def _bound(self, added_at: float) -> None:
        """Drop what the store drops on adding a report timed `added_at`."""
        for slot in np.flatnonzero(self._live & (self._at < added_at - self.ttl)):
            self._drop(int(slot))
        while len(self._slot) > self.cap:
            live = np.flatnonzero(self._live)
            oldest = live[self._at[live] == self._at[live].min()]
            self._drop(min(oldest, key=lambda s: self._reports[s].report_id))  # type: ignore[union-attr]

    def _drop(self, slot: int) -> None:
        report = self._reports[slot]
        assert report is not None
        del self._slot[report.report_id]
        self._reports[slot] = None
        self._live[slot] = False
        self._free.append(slot)
        if self._counts is not None and self._counted[slot]:  # the last window's counts without it
            self._counts[self._names_of(slot)] -= 1
            self._counted[slot] = False
        start, end = int(self._name_start[slot]), int(self._name_start[slot] + self._name_entries[slot])
        self._names[start:end] = FREE
        self._owner[start:end] = FREE
        self._name_entries[slot] = 0
        if self._names_used > COMPACT_AT * int(self._name_entries.sum()) + 1024:
            self._compact()

    def _compact(self) -> None:
        """Keep only the kept reports' name entries, and renumber names and stories from 0 (else the
        vocabulary and the story codes would grow with every report ever read)."""
        kept = self._owner[: self._names_used] != FREE
        names, owners = self._names[: self._names_used][kept], self._owner[: self._names_used][kept]
        used, renumbered = np.unique(names, return_inverse=True)
        spelled = {code: name for name, code in self._vocabulary.items()}
        self._vocabulary = {spelled[int(code)]: i for i, code in enumerate(used)}
        self._names_used = len(names)
        self._names[: len(names)] = renumbered
        self._names[len(names) :] = FREE
        self._owner[: len(names)] = owners
        self._owner[len(names) :] = FREE
        named, starts = np.unique(owners, return_index=True)  # each report's run stays one run, in order
        self._name_start[named] = starts
        self._counts = None  # the names' codes changed
        live = np.flatnonzero(self._live)
        stories, codes = np.unique(self._story[live], return_inverse=True)
        self._story_ids = [self._story_ids[int(c)] for c in stories]
        self._story_code = {story: i for i, story in enumerate(self._story_ids)}
        self._story[live] = codes

    def _grow(self) -> int:
        slot = len(self._reports)
        size = max(64, 2 * slot)
        self._reports.extend([None] * (size - slot))
        self._free.extend(range(size - 1, slot, -1))
        self._vectors = _resized(self._vectors, size)
        self._at = _resized(self._at, size)
        self._expires = _resized(self._expires, size)
        self._live = _resized(self._live, size)
        self._timed = _resized(self._timed, size)
        self._language = _resized(self._language, size)
        self._story = _resized(self._story, size)
        self._name_start = _resized(self._name_start, size)
        self._name_entries = _resized(self._name_entries, size)
        self._counts = None  # counted again, over the slots there are now
        return slot


def _resized(array: np.ndarray, size: int, fill: int = 0) -> np.ndarray:
    grown = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    grown[: len(array)] = array
    return grown
