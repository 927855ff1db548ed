"""The reports a replica has read from the event layer's state, column by column, for a fast scan.

A new report is compared with every report of its window (up to `max_reports`, 5,000 by default):
its embedding with theirs, its names with theirs. Done report by report in Python that is a quarter
of a second; here each report has a slot, its embedding a row of one matrix, its names ids in one
flat array, so that scoring a window is a few NumPy operations (docs/benchmarks.md, "what the event
layer costs"). Records never change once written, so what was read once is kept: at most `cap`
reports (the latest by time, as in the store), their names' vocabulary rebuilt when it outgrows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np

from monitor.stories.blas import one_blas_thread

# Slots are freed in batches: when the window holds this much more than its cap.
SLACK = 0.1


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


@dataclass(frozen=True, slots=True)
class Scores:
    """A new report against the stories of its window.

    Attributes:
        stories: each story's id, in the order its first report comes in the window (the latest first).
        averages: each story's average score (cosine + names_weight * name overlap) over its reports.
        untimed: whether any of the story's reports has no publication time.
    """

    stories: list[str]
    averages: np.ndarray
    untimed: np.ndarray


class ReportWindow(Generic[R]):
    """The reports read so far (at most `cap`, plus some slack), each in a slot."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._slot: dict[str, int] = {}
        self._reports: list[R | None] = []
        self._free: list[int] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._at = np.zeros(0)
        self._used = np.zeros(0, dtype=np.int64)  # when each slot was last in a window read
        self._tick = 0
        self._timed = np.zeros(0, dtype=bool)
        self._language = np.zeros(0, dtype=np.int64)
        self._language_code: dict[str | None, int] = {}
        self._story = np.zeros(0, dtype=np.int64)
        self._story_code: dict[str, int] = {}
        self._story_ids: list[str] = []
        self._name_start = np.zeros(0, dtype=np.int64)
        self._name_count = np.zeros(0, dtype=np.int64)
        self._names = np.zeros(0, dtype=np.int64)
        self._names_used = 0
        self._vocabulary: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, report_id: str) -> bool:
        return report_id in self._slot

    def get(self, report_id: str) -> R | None:
        slot = self._slot.get(report_id)
        return self._reports[slot] if slot is not None else None

    def add(self, report: R) -> R:
        """Keep a report (a report already kept is kept once)."""
        if report.report_id in self._slot:
            return report
        if len(self._slot) >= self.cap * (1 + SLACK):
            self._drop_oldest()
        slot = self._free.pop() if self._free else self._grow()
        self._slot[report.report_id] = slot
        self._reports[slot] = report
        if self._vectors.shape[1] != len(report.vector):
            self._vectors = np.zeros((len(self._reports), len(report.vector)), dtype=np.float32)
        self._vectors[slot] = report.vector
        self._at[slot] = report.at
        self._used[slot] = self._tick
        self._timed[slot] = report.timed
        self._language[slot] = self._language_code.setdefault(report.language, len(self._language_code))
        code = self._story_code.setdefault(report.story_id, len(self._story_code))
        if code == len(self._story_ids):
            self._story_ids.append(report.story_id)
        self._story[slot] = code
        ids = self.name_ids(report.names)
        if self._names_used + len(ids) > len(self._names):
            self._names = np.resize(self._names, max(1024, 2 * (self._names_used + len(ids))))
        self._names[self._names_used : self._names_used + len(ids)] = ids
        self._name_start[slot], self._name_count[slot] = self._names_used, len(ids)
        self._names_used += len(ids)
        return report

    def name_ids(self, names: frozenset[str]) -> np.ndarray:
        vocabulary = self._vocabulary
        return np.fromiter((vocabulary.setdefault(n, len(vocabulary)) for n in names), dtype=np.int64, count=len(names))

    def slots(self, report_ids: Sequence[str]) -> np.ndarray:
        """The slots of those reports that are kept, in the order given (marked as in use: kept the longest)."""
        slot = self._slot
        found = np.fromiter((slot[i] for i in report_ids if i in slot), dtype=np.int64)
        self._tick += 1
        self._used[found] = self._tick
        return found

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
            cosines = (self._vectors @ vector)[slots]
        overlaps = self._name_overlaps(self.name_ids(names), slots)
        scores = cosines + names_weight * overlaps
        if across_languages and language is not None:
            own = self._language_code.get(language, -1)
            unknown = self._language_code.get(None, -2)
            other = (self._language[slots] != own) & (self._language[slots] != unknown)
            scores = scores + across_languages * other
        codes, first, inverse = np.unique(self._story[slots], return_index=True, return_inverse=True)
        members = np.bincount(inverse, minlength=len(codes))
        averages = np.bincount(inverse, weights=scores, minlength=len(codes)) / members
        untimed = np.bincount(inverse, weights=(~self._timed[slots]).astype(float), minlength=len(codes)) > 0
        order = np.argsort(first, kind="stable")  # stories in the order of their first (latest) report
        return Scores([self._story_ids[c] for c in codes[order]], averages[order], untimed[order])

    def _name_overlaps(self, own: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """For each report in `slots`: the weight of the names it shares with `own`, over the weight of
        the smaller report's names; a name weighs by its rarity among all these reports and the new one
        (inverse document frequency, log((reports + 1) / reports naming it): a name in every one weighs least)."""
        counts = self._name_count[slots]
        total = int(counts.sum())
        if len(slots) == 0:
            return np.zeros(0)
        # The flat positions of every name of every report in `slots`, report after report.
        offsets = np.repeat(self._name_start[slots] - (np.cumsum(counts) - counts), counts)
        theirs = self._names[offsets + np.arange(total)]
        frequency = np.bincount(np.concatenate([theirs, own]), minlength=len(self._vocabulary))
        weight = np.zeros(len(frequency))
        named = frequency > 0
        weight[named] = np.log((len(slots) + 2) / frequency[named])
        mine = np.zeros(len(frequency), dtype=bool)
        mine[own] = True
        report = np.repeat(np.arange(len(slots)), counts)
        weights = weight[theirs]
        totals = np.bincount(report, weights=weights, minlength=len(slots))
        shared = np.bincount(report, weights=weights * mine[theirs], minlength=len(slots))
        smaller = np.minimum(totals, weight[own].sum())
        overlaps: np.ndarray = np.divide(shared, smaller, out=np.zeros(len(slots)), where=smaller > 0)
        return overlaps

    def _grow(self) -> int:
        slot = len(self._reports)
        size = max(64, 2 * slot)
        self._reports.extend([None] * (size - slot))
        self._free.extend(range(size - 1, slot, -1))
        self._vectors = _resized(self._vectors, size)
        self._at = _resized(self._at, size)
        self._used = _resized(self._used, size)
        self._timed = _resized(self._timed, size)
        self._language = _resized(self._language, size)
        self._story = _resized(self._story, size)
        self._name_start = _resized(self._name_start, size)
        self._name_count = _resized(self._name_count, size)
        return slot

    def _drop_oldest(self) -> None:
        """Keep the `cap` reports last in a window read (the window being read among them; then the latest
        by time), and compact the names and stories."""
        live = [(int(self._used[s]), r.at, r) for s, r in enumerate(self._reports) if r is not None]
        kept = [r for _, _, r in sorted(live, key=lambda u: (u[0], u[1]), reverse=True)[: self.cap]]
        self._slot, self._story_code, self._story_ids, self._vocabulary = {}, {}, [], {}
        self._reports = [None] * len(self._reports)
        self._free = list(range(len(self._reports) - 1, -1, -1))
        self._names_used = 0
        for report in kept:
            self.add(report)


def _resized(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
