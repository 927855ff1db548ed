"""The event layer, the "events" grouper: reports of one real-world event join one story.

Another outlet's report, a translation, a wire brief or an analysis of the same event shares few
word sequences with the first report, so the copy layer cannot join them. The event layer compares
a new report with the reports of the last days kept in the store:

- what it says: a multilingual sentence embedding of its headline and lede (`embed.py`), where
  reports of one event sit close whatever their language, and (with SENTENCE_WEIGHT) one of each of
  its first sentences: two reports that tell the event in another order, or one of which opens on a
  scene, a reaction or a cookie banner, still share a sentence that says the same (the model was
  trained to rank translations of one sentence first);
- what it names (`names.py`): reports of one topic share its usual names (Macron, Putin, Ukraine),
  reports of one event also share the rest (the city, the sum, the day); a name weighs by how rare
  it is among the recent reports (inverse document frequency), so the topic's names weigh little;
- the figures its lede states (`names.figures`): two reports whose ledes both give figures, none of
  which the other report gives anywhere, and whose texts share no figure but round ones
  (`names.telling`), report different events (two strikes on one city in one day: 2 dead and 62
  drones, or 140,000 homes without power); and the day its lede gives the event
  (`names.lede_dates`, the dateline's aside): "on 23 June" and "on 24 June" are two events;
- who it is about (`names.protagonists`, `names.principals`), only when PEOPLE is on (off by default: on
  held-out sets it split reports of one event more than it kept events apart): two reports that share a
  principal participant of their first sentence but not the other (a host and two counterparts) report two
  meetings;
- what it leads with (`names.leads`): two reports that each lead with a name the other gives only in its
  background ("the same night, drones also hit Tuapse") report two events, whatever the names are (a port,
  a company of one word, a capital);
- what it reports that the other does not (`names.exclusive_conflict`, EXCLUSIVE): a report whose headline and
  lede lead with a name (a counterpart, a guest) that no report of the story names anywhere, while most of the
  story's reports lead with a name it names at most in its background, reports another event (one prime
  minister's two calls of one day); reports of one event name each other's counterpart somewhere;
- what it recalls (`names.recalled`, `names.recalls_conflict`, RECALLS): a report that gives what most of the
  story's reports lead with (a counterpart they name in full, a figure of their headline) only in a sentence
  that tells another event ("he briefed Zelenskyy on his earlier call with Putin", "that afternoon the same
  court ordered RBI to pay 2.1 billion euros"), not in its own lede, reports another event; whatever the score
  (the report says so itself); and so does one that gives any name they lead with (a port, a town, a company) only
  so, when it leads with one none of them names and one most of them name (`names.recalled_lead_conflict`,
  RECALLED_LEADS: "Earlier the same day the port of Ust-Luga was attacked" in the governor's report on Primorsk);
- when: reports of one event come within hours to a day or two (`window`).

A report scores each recent report: its text's score + NAMES_WEIGHT * weighted overlap of the names,
+ ACROSS_LANGUAGES when the two are in two languages (the model puts those further apart); the text's
score is the cosine of their lede embeddings, + SENTENCE_WEIGHT * how much more the best cosine of a
sentence of one (of its first SENTENCES sentences) with a sentence of the other gives, if it gives more
(a report that opens on a scene still says what happened in a later sentence; one whose sentences say
less than its lede keeps its lede's score; SENTENCE_WEIGHT 0, the default, compares the ledes alone and
embeds no sentence).
It joins the open story whose reports of the window score best on average, when that average reaches
THRESHOLD (UNTIMED_THRESHOLD when a report has no publication time: time cannot tell two events
apart then, so the rest must say more), and no check above tells it apart from that story (the checks but the people
checks, which are opt-in, and the recall check are not asked when the average reaches VETO_CEILING, far above the
threshold); a report that
scores VETO_MARGIN more with a story it is told apart from joins no other (it is closer to that event than
to any other: its own story was told apart by mistake, or it is of a third). The
average, not the best single report, keeps a chain of near neighbours from joining two events. With `decision`
"learned" (`learned.py`) a logistic regression over the same signals (`pair_features`) decides instead of the
threshold and the checks.
The copy layer runs first: a copy joins its original's story whatever the score. Only documents that
matched a rule pay for the embedding (the others go through the copy layer alone); the constants come
from the sweep of bench/stories.py --events (docs/benchmarks.md, "Stories: event grouping on the
labelled corpus", says which and why).

The state (one record per report: story, time, names, embedding) lives in the store, shared by every
replica, bounded by a TTL and a cap. Deciding a report's story and recording it happen under one
store lease, so that two replicas given two reports of one event at the same moment make one story.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
import structlog

from monitor.document import Document
from monitor.rules.matcher import Match
from monitor.rules.text import sentence_starts, words_of
from monitor.store.base import EVENT_LEASE, EventReports, Store, StoreError
from monitor.stories.base import StoryAssignment
from monitor.stories.blas import one_blas_thread
from monitor.stories.boilerplate import source_of, without_furniture
from monitor.stories.copies import MIN_STORY_WORDS, CopyFound, CopyGrouper
from monitor.stories.developments import development, marked_update
from monitor.stories.embed import Embedder
from monitor.stories.exonyms import exonyms
from monitor.stories.learned import FEATURES, LearnedDecision, load_decision
from monitor.stories.marks import Marks, marked_names, marked_past, marks_conflict
from monitor.stories.names import (
    actor,
    actors_conflict,
    background,
    coincides_conflict,
    coinciding,
    counterparts_conflict,
    dates_conflict,
    exclusive_conflict,
    figures,
    figures_agree,
    figures_conflict,
    leads,
    leads_conflict,
    lede_dates,
    lede_places,
    mentioned,
    named_beyond_passing,
    named_leads,
    names_of,
    own_name,
    places_conflict,
    principals,
    prominent,
    protagonists,
    protagonists_conflict,
    recalled,
    recalled_lead_conflict,
    recalls_conflict,
    shares,
    spelled_figures,
    unnamed_by,
    upfront,
    without_dateline,
)
from monitor.stories.window import ReportWindow

log = structlog.get_logger("monitor.stories.events")

# Chosen from the sweep in bench/stories.py (`--events`): see docs/benchmarks.md (no setting keeps every
# event of the corpus apart; of those with F1 >= 0.95 and the fewest merged, the one a held-out corpus
# merged fewest events with).
LEDE_WORDS = 60
# The text's score: the cosine of the two reports' ledes, + this share of what the best cosine of a sentence of
# one with one of the other (of their first SENTENCES sentences) gives more, if more. Off by default: at 0.5 (with
# 5 sentences, at THRESHOLD 0.9) it raises dev's F1 (0.951 -> 0.957) but not L's, and the sentences' embeddings of
# a full window (5,000 reports) take a replica past its memory bound (docs/benchmarks.md, "Sentence by sentence").
SENTENCE_WEIGHT = 0.0
SENTENCES = 5
# A sentence shorter than this says nothing of its own ("Mehr zum Thema", a byline): not embedded.
SENTENCE_MIN_WORDS = 4
# Stories whose average without the sentences' term is this far below the threshold are not aligned sentence
# by sentence (that would read every report of the window): the term would have to add PRUNE / SENTENCE_WEIGHT
# on average over the ledes' cosine, and in the labelled corpus the best sentence beats the ledes' cosine by
# 0.37 at most in a pair of reports within 48 hours of each other (their furniture taken out).
PRUNE = 0.3
NAMES_WEIGHT = 0.75
# Added to the score of two reports in two languages: the model puts two reports of one event in two
# languages further apart than two in one language (what a threshold for both would trade against).
ACROSS_LANGUAGES = 0.25
# The lowest threshold at which dev groups as at 0.9 (F1 0.951, the same 5 pairs merged; 0.85 merges one more):
# the sets written by outsiders lose recall, not precision (K: P 1.000 at 0.9 and at 0.875; L: P 1.000, R 0.920
# at 0.9, 0.952 at 0.875, a wire of Var's floods scoring 0.897 with the two French reports of it).
THRESHOLD = 0.875
# Undated files: seeds 000 and 001 (one press conference) score 1.07-1.08 together; of their pairs with 002,
# 003 and 004 (days apart) the closest scores 0.93 (0.94 with the sentences' term): the middle.
UNTIMED_THRESHOLD = 1.0
WINDOW = timedelta(hours=48)
# Whether two reports about different people are two events: their protagonists differ
# (`names.protagonists_conflict`) or their principal participants do (`names.counterparts_conflict`). Off: on
# three event sets written by outsiders (docs/benchmarks.md, "The people checks") they told apart reports of
# one event (how one outlet leads with the host and another with the guest or a spokesman) and kept no two
# events apart; only the corpus they were written against gained.
PEOPLE = False
# Whether two reports whose ledes give the event two different days are two events (`names.dates_conflict`).
DATES = True
# Whether two reports that lead with different names, each giving the other's in its background, are two
# events (`names.leads_conflict`).
LEADS = True
# Whether two reports that each lead with a fact the other does not report (a name it never names, figures it
# does not state) are two events (`names.exclusive_conflict`).
EXCLUSIVE = True
# Whether a report that gives what most of a story's reports lead with only in a sentence recalling another event
# ("earlier", "the same court") reports another event (`names.recalls_conflict`), whatever it scores: on dev it
# kept apart the two pairs of one day's two calls and two rulings that scored over VETO_CEILING (docs/benchmarks.md,
# "What a report recalls").
RECALLS = True
# Whether the recall check reads any name a report leads with, not only full names (`names.recalled_lead_conflict`):
# a report that leads with a port, a town or a company the story's reports never name, and gives the one they lead
# with only in a sentence that tells another event ("earlier the same day, the port of Ust-Luga was attacked"),
# reports another event.
RECALLED_LEADS = True
# Whether two reports whose ledes each put their event in a place the other names at most in passing are two events
# (`names.places_conflict`): the same kind of event on one day in two towns, ports or Länder. Asked by both decisions
# (the learned one reads no feature of it: a veto beside `learned.VETOES`), under VETO_CEILING.
PLACES = True
# Whether a report whose lede's figures most of the story's reports state too, its headline's none they lack, is of
# the story's event however their places differ (`names.figures_agree`: the town and the region of one flood).
PLACES_FIGURES = True
# Whether a report that gives what most of the story's ledes name only in a sentence telling what coincided with its
# own event, or what the same body also decided, is of another event (`names.coincides_conflict`). Asked with the
# recall checks (RECALLS).
COINCIDES = True
# Whether the names a report gives only in a sentence recalling another event count as its background in the lead
# check (`_own_background`).
RECALLED_BACKGROUND = True
# Whether a report whose headline or first sentence names what most of a story's reports lead with only as an event
# a short while before its own ("North Korea fires cruise missiles, hours after ICBM launch"), or the other way
# round, reports another event (`marks.marks_conflict`), whatever it scores: the report says so itself.
MARKS = True
# Taken off a story's average when the report's headline opens with another country or organisation than most of
# the story's do (`names.actors_conflict`): the UK's oil price cap and the EU's, Norway's and Switzerland's taking
# over of one sanctions package. A penalty, not a veto: two sides of one exchange ("Russia returns bodies",
# "Ukraine receives bodies") lead with different countries too, and score far above the threshold.
ACTOR_PENALTY = 0.3
# A report that scores this much more with a story it is told apart from than with the best other joins none.
VETO_MARGIN = 0.15
# A report that scores this much with a story joins it whatever the checks say: text and names agree as, in the
# labelled sets, only reports of one event do, and the checks read signals one outlet's angle changes (a date it
# gives for the eve, a lead on the other side's ministry, a figure from the background). On dev no distinct event
# more merges from 1.15 up (1.1 merges one); the held-out sets K, L and M gained or kept their F1
# (M 0.907 -> 0.937, L 0.984 -> 0.988), with none merged.
VETO_CEILING = 1.2
# The state: how many reports the window may hold, and how long a report is kept.
CAP = 5000
STATE_TTL = timedelta(days=3)
# Deciding and recording one report's story is quick; a lease held longer belongs to a dead replica.
LEASE_TTL = timedelta(seconds=10)
LEASE_WAIT = timedelta(seconds=30)
# How a report's story is chosen among those of its window: "rules", the threshold and the checks above;
# "learned", a logistic regression over the same signals (`learned.py`, fitted by bench/decide_fit.py on dev and the
# study set s1). Learned by default: on the two gate sets nobody tuned on, mean F1 0.952 against the rules' 0.935 (the
# lower 0.949 against 0.929), pairs of events merged 2 against 3 (docs/benchmarks.md, "A learned same-event decision").
DECISIONS = ("rules", "learned")
DECISION = "learned"


@dataclass(frozen=True, slots=True)
class EventSettings:
    """The event layer's constants (the `stories:` section of the config)."""

    lede_words: int = LEDE_WORDS
    sentence_weight: float = SENTENCE_WEIGHT
    sentences: int = SENTENCES
    names_weight: float = NAMES_WEIGHT
    across_languages: float = ACROSS_LANGUAGES
    threshold: float = THRESHOLD
    untimed_threshold: float = UNTIMED_THRESHOLD
    window: timedelta = WINDOW
    cap: int = CAP
    ttl: timedelta = STATE_TTL
    decision: str = DECISION


@dataclass(frozen=True, slots=True)
class Report:
    """What the event layer keeps of one report."""

    report_id: str
    story_id: str
    at: float
    names: frozenset[str]
    vector: np.ndarray
    timed: bool = True
    source: str | None = None
    language: str | None = None
    lede_figures: frozenset[float] = frozenset()
    figures: frozenset[float] = frozenset()
    protagonists: frozenset[str] = frozenset()
    prominent: frozenset[str] = frozenset()
    principals: frozenset[str] = frozenset()
    upfront: frozenset[str] = frozenset()
    days: frozenset[tuple[int, int]] = frozenset()
    leads: frozenset[str] = frozenset()
    background: frozenset[str] = frozenset()
    named_leads: frozenset[str] = frozenset()
    mentioned: frozenset[str] = frozenset()
    actor: str | None = None
    recalled: frozenset[str] = frozenset()
    recalled_figures: frozenset[float] = frozenset()
    lede_names: frozenset[str] = frozenset()
    head_figures: frozenset[float] = frozenset()
    marked: frozenset[str] = frozenset()
    lede_keys: frozenset[str] = frozenset()
    day_marked: frozenset[str] = frozenset()
    subject: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    beyond_passing: frozenset[str] = frozenset()
    coinciding: frozenset[str] = frozenset()
    # The embeddings of its first sentences, a row each (16 bits, as stored; none: its lede's stands for them).
    sentences: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float16))

    def to_bytes(self) -> bytes:
        header = {
            "story": self.story_id,
            "at": self.at,
            "timed": self.timed,
            "names": sorted(self.names),
            "source": self.source,
            "language": self.language,
            "lede_figures": sorted(self.lede_figures),
            "figures": sorted(self.figures),
            "protagonists": sorted(self.protagonists),
            "prominent": sorted(self.prominent),
            "principals": sorted(self.principals),
            "upfront": sorted(self.upfront),
            "days": sorted(self.days),
            "leads": sorted(self.leads),
            "background": sorted(self.background),
            "named_leads": sorted(self.named_leads),
            "mentioned": sorted(self.mentioned),
            "actor": self.actor,
            "recalled": sorted(self.recalled),
            "recalled_figures": sorted(self.recalled_figures),
            "lede_names": sorted(self.lede_names),
            "head_figures": sorted(self.head_figures),
            "marked": sorted(self.marked),
            "lede_keys": sorted(self.lede_keys),
            "day_marked": sorted(self.day_marked),
            "subject": sorted(self.subject),
            "places": sorted(self.places),
            "beyond_passing": sorted(self.beyond_passing),
            "coinciding": sorted(self.coinciding),
            "sentences": len(self.sentences),
        }
        vectors = self.vector.astype(np.float16).tobytes() + self.sentences.astype(np.float16).tobytes()
        return json.dumps(header, ensure_ascii=False).encode() + b"\n" + vectors

    @classmethod
    def from_bytes(cls, report_id: str, data: bytes) -> Report:
        header, _, vector = data.partition(b"\n")
        fields = json.loads(header)
        values = np.frombuffer(vector, dtype=np.float16)
        rows = int(fields.get("sentences", 0))  # the lede's embedding, then one row per sentence
        width = len(values) // (1 + rows)
        return cls(
            report_id,
            str(fields["story"]),
            float(fields["at"]),
            frozenset(fields["names"]),
            values[:width].astype(np.float32),
            bool(fields.get("timed", True)),
            fields.get("source"),
            fields.get("language"),
            frozenset(fields.get("lede_figures", ())),
            frozenset(fields.get("figures", ())),
            frozenset(fields.get("protagonists", ())),
            frozenset(fields.get("prominent", ())),
            frozenset(fields.get("principals", ())),
            frozenset(fields.get("upfront", ())),
            frozenset((int(month), int(day)) for month, day in fields.get("days", ())),
            frozenset(fields.get("leads", ())),
            frozenset(fields.get("background", ())),
            frozenset(fields.get("named_leads", ())),
            frozenset(fields.get("mentioned", ())),
            fields.get("actor"),
            frozenset(fields.get("recalled", ())),
            frozenset(fields.get("recalled_figures", ())),
            frozenset(fields.get("lede_names", ())),
            frozenset(fields.get("head_figures", ())),
            frozenset(fields.get("marked", ())),
            frozenset(fields.get("lede_keys", ())),
            frozenset(fields.get("day_marked", ())),
            frozenset(fields.get("subject", ())),
            frozenset(fields.get("places", ())),
            frozenset(fields.get("beyond_passing", ())),
            frozenset(fields.get("coinciding", ())),
            values[width:].reshape(rows, width),
        )


def report_time(doc: Document) -> float:
    """When the report was published, else first seen, else now (epoch seconds)."""
    moment = doc.published or doc.seen
    return moment.timestamp() if moment is not None else time.time()


def lede_of(doc: Document, words: int) -> str:
    """The headline and the first `words` words of the text: where a report says what happened."""
    return f"{doc.title}\n{' '.join(doc.text.split()[:words])}"


def sentences_of(doc: Document, count: int) -> list[str]:
    """The first `count` sentences of the text (its dateline left out) that have SENTENCE_MIN_WORDS words or
    more, and are not its headline again: each says a part of what happened, in words of its own. The
    headline is not one of them: two reports of one topic days apart ("Macron calls for talks with Putin")
    have headlines as alike as two of one event; it is in the lede's embedding."""
    text = without_dateline(doc.text)
    starts = [*sentence_starts(text), len(text)]
    headline = " ".join(doc.title.split())
    found: list[str] = []
    for start, end in itertools.pairwise(starts):
        if len(found) == count:
            break
        sentence = " ".join(text[start:end].split())
        if len(sentence.split()) >= SENTENCE_MIN_WORDS and sentence != headline and sentence not in found:
            found.append(sentence)
    return found


def report_of(
    doc: Document, story_id: str, vector: np.ndarray, lede_words: int, sentences: np.ndarray | None = None
) -> Report:
    """What the event layer keeps of `doc` (its text without the site's furniture). Who it is about is read only
    by the people checks: without them (PEOPLE off) it is not worked out."""
    named = prominent(doc.title, doc.text)
    source = source_of(doc)
    none: frozenset[str] = frozenset()
    told, told_figures, lede_names = recalled(doc.title, doc.text) if RECALLS else (none, frozenset(), none)
    marks = marked_past(doc.title, doc.text) if MARKS else Marks(none, none, none, none)
    past = marked_names(doc.title, doc.text) if MARKS else none  # what its lede names as an earlier event
    return Report(
        doc.id,
        story_id,
        report_time(doc),
        names_of(doc.title, doc.text, language=doc.language) - own_name(source),
        vector,
        doc.published is not None,
        source,
        doc.language,
        figures(lede_of(doc, lede_words)),
        figures(f"{doc.title}\n{doc.text}") | spelled_figures(f"{doc.title}\n{doc.text}", doc.language),
        protagonists(doc.title, doc.text, named) if PEOPLE else none,
        named,
        principals(doc.title, doc.text) if PEOPLE else none,
        upfront(doc.title, doc.text) if PEOPLE else none,
        lede_dates(doc.title, doc.text),
        leads(doc.title, doc.text, named) - past,
        background(doc.title, doc.text, named),
        named_leads(doc.title, doc.text, doc.language, named) - past if EXCLUSIVE or RECALLS else none,
        mentioned(doc.title, doc.text) if EXCLUSIVE or PLACES else none,
        actor(doc.title) if ACTOR_PENALTY else None,
        told,
        told_figures,
        lede_names,
        figures(doc.title) if RECALLS else frozenset(),
        marks.marked,
        marks.lede,
        marks.day_marked,
        marks.subject,
        lede_places(doc.title, doc.text, doc.language) if PLACES else none,
        named_beyond_passing(doc.title, doc.text) if PLACES else none,
        coinciding(doc.text) if RECALLS and COINCIDES else none,
        (sentences if sentences is not None else np.zeros((0, len(vector)))).astype(np.float16),
    )


def _other_figures(report: Report, story: Sequence[Report]) -> bool:
    """Whether the story's reports state other figures than the report's lede (and the other way round)."""
    lede = frozenset().union(*(r.lede_figures for r in story))
    stated = frozenset().union(*(r.figures for r in story))
    return figures_conflict(report.lede_figures, report.figures, lede, stated)


def _other_day(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report's lede gives its event another day than the story's ledes do (a second strike on
    one city the next day, a minister's visit to the next capital)."""
    return DATES and dates_conflict(report.days, frozenset().union(*(r.days for r in story)))


def _other_lead(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report and the story's reports lead with different names, each giving the other's only in
    its background (`names.leads_conflict`): what the story's reports lead with, or name more than once,
    is no background of theirs."""
    if not LEADS:
        return False
    their_leads = frozenset().union(*(r.leads | r.prominent for r in story))
    their_background = frozenset().union(*(r.background for r in story)) - their_leads
    return leads_conflict(report.leads, _own_background(report), [r.leads for r in story], their_background)


def _own_background(report: Report) -> frozenset[str]:
    """The names the report gives only in its background, and (RECALLED_BACKGROUND) those it gives only in a sentence
    that recalls another event (`names.recalled`): a wire of one paragraph has no background paragraph, but "Am
    Vormittag hatte bereits Volkswagen das Aus in Osnabrück bestätigt" at the end of a brief on Bosch's job cuts
    is one. Only the report's own: a story's reports' recalled names are no background of theirs."""
    if not RECALLED_BACKGROUND:
        return report.background
    return report.background | (report.recalled - report.lede_names - report.leads)


def _other_facts(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report and most of the story's reports each lead with a fact the other does not report
    (`names.exclusive_conflict`): a name the other never names (or names only in its background), figures it
    does not state."""
    if not EXCLUSIVE:
        return False
    theirs = [(r.named_leads, r.figures, r.mentioned) for r in story]
    own = (report.lede_figures, report.figures)
    return exclusive_conflict(report.named_leads, own, report.mentioned, report.leads, report.background, theirs)


def _other_places(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report's lede puts its event in a place the story's reports name at most in passing, and most of
    theirs put it in one the report names at most in passing (`names.places_conflict`)."""
    if not PLACES:
        return False
    theirs = [(r.places, r.beyond_passing, r.mentioned, r.recalled) for r in story]
    if not places_conflict(report.places, report.beyond_passing, report.mentioned, report.recalled, theirs):
        return False
    # Reports that agree on the event's figures are of one event told from two places (`names.figures_agree`).
    agree = [(r.lede_figures, r.head_figures) for r in story]
    return not (PLACES_FIGURES and figures_agree(report.lede_figures, report.head_figures, agree))


def _other_recalled(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report gives what most of the story's reports lead with only in a sentence that recalls another
    event (`names.recalls_conflict`)."""
    if not RECALLS:
        return False
    theirs = [(r.named_leads, r.head_figures) for r in story]
    if recalls_conflict(report.recalled, report.recalled_figures, report.lede_names, report.lede_figures, theirs):
        return True
    if COINCIDES and coincides_conflict(report.coinciding, report.lede_names, [r.lede_keys for r in story]):
        return True
    return RECALLED_LEADS and recalled_lead_conflict(
        report.recalled, report.lede_names, report.leads, report.language, [(r.leads, r.mentioned) for r in story]
    )


def _other_marked(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report or most of the story's reports name what the other leads with only as an event a short
    while before their own (`marks.marks_conflict`)."""
    if not MARKS:
        return False
    theirs = [Marks(r.marked, r.day_marked, r.lede_keys, r.subject) for r in story]
    return marks_conflict(report.marked, report.day_marked, report.lede_keys, report.subject, theirs)


def _other_people(report: Report, story: Sequence[Report]) -> bool:
    """Whether the report and the story's reports are about different people (`names.protagonists`,
    `names.principals`), when the people checks are on (PEOPLE)."""
    if not PEOPLE:
        return False
    named = frozenset().union(*(r.prominent for r in story))
    if protagonists_conflict(report.protagonists, report.prominent, [r.protagonists for r in story], named):
        return True
    put_first = frozenset().union(*(r.upfront for r in story))
    their_names = frozenset().union(*(r.names for r in story))
    theirs = [(r.principals, r.language, r.upfront) for r in story]
    return counterparts_conflict(report.principals, report.upfront, theirs, put_first, their_names, named)


def _sentence_rows(report: Report) -> np.ndarray:
    """The embeddings of the report's first sentences (a record without them: its lede's)."""
    return report.sentences.astype(np.float32) if len(report.sentences) else report.vector[None, :]


def _unnamed_share(leads: frozenset[str], named: frozenset[str]) -> float:
    """The share of what one report leads with (`names.leads`) that another text does not name, however spelt."""
    return sum(unnamed_by(k, named) for k in leads) / len(leads) if leads else 0.0


def _unstated_share(own: frozenset[float], stated: frozenset[float]) -> float:
    """The share of the figures of one report's lede that another text does not state (within names' tolerance)."""
    return sum(not shares(frozenset((f,)), stated) for f in own) / len(own) if own else 0.0


def pair_features(
    report: Report, story: Sequence[Report], cosine: float, average: float, settings: EventSettings
) -> np.ndarray:
    """What the learned decision reads of a report and a story of its window (`learned.FEATURES`, in order): the
    parts of the story's average score (`cosine`, `average`, as `ReportWindow.score` gives them), its best report's
    cosine, how far in time its nearest report is, how big it is, how many names the report gives, and each check."""
    others = [r.language is not None and report.language is not None and r.language != report.language for r in story]
    other = float(np.mean(others)) if story else 0.0
    bonus = settings.across_languages * other if report.language is not None else 0.0
    names = (average - cosine - bonus) / settings.names_weight if settings.names_weight else 0.0
    best = max((float(r.vector @ report.vector) for r in story), default=0.0)
    days = min((abs(report.at - r.at) / 86400 for r in story), default=0.0)
    actors = ACTOR_PENALTY > 0 and actors_conflict(report.actor, [r.actor for r in story])
    their_mentioned = frozenset().union(*(r.mentioned for r in story))
    values = {
        "cosine": cosine,
        "names": names,
        "other_language": other,
        "best_cosine": best,
        "days_apart": min(days, 2.0),
        "story_size": float(np.log(max(len(story), 1))),
        "report_names": float(np.log1p(len(report.names))),
        "figures": _other_figures(report, story),
        "day": _other_day(report, story),
        "lead": _other_lead(report, story),
        "facts": _other_facts(report, story),
        "recalls": _other_recalled(report, story),
        "marks": _other_marked(report, story),
        "actor": actors,
        "unnamed_leads": _unnamed_share(report.leads, their_mentioned),
        "story_unnamed": float(np.mean([_unnamed_share(r.leads, report.mentioned) for r in story])) if story else 0.0,
        "unstated_figures": _unstated_share(report.lede_figures, frozenset().union(*(r.figures for r in story))),
    }
    return np.array([float(values[name]) for name in FEATURES])


def best_sentences(report: Report, others: Sequence[Report]) -> np.ndarray:
    """For each of the other reports, the best cosine of one of its sentences with one of the report's: how
    closely the two say the same thing in some sentence, in whatever order they tell it."""
    own = _sentence_rows(report)
    rows = [_sentence_rows(r) for r in others]
    if not rows:
        return np.zeros(0)
    with one_blas_thread():
        best = (np.concatenate(rows) @ own.T).max(axis=1)
    starts = np.cumsum([0, *(len(r) for r in rows[:-1])])
    found: np.ndarray = np.maximum.reduceat(best, starts)
    return found


class EventGrouper:
    """The "events" grouper: the copy layer first, then the event layer for documents that matched a rule.

    Args:
        store: where the copy index and the event state live (shared by every replica).
        embedder: the sentence-embedding model; None runs the copy layer alone (the model failed to load).
        settings: the event layer's constants.
        copy_ttl: how long a copy story stays joinable.
        learned: the learned decision, when the settings ask for it (None: the shipped weights, `learned.json`).
    """

    name = "events"

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        settings: EventSettings | None = None,
        copy_ttl: timedelta | None = None,
        learned: LearnedDecision | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings or EventSettings()
        if self.settings.decision not in DECISIONS:
            raise ValueError(f"unknown stories.decision {self.settings.decision!r}: one of {', '.join(DECISIONS)}")
        self.learned: LearnedDecision | None = None
        if self.settings.decision == "learned":
            self.learned = learned if learned is not None else load_decision()
        self.copies = CopyGrouper(store, copy_ttl) if copy_ttl is not None else CopyGrouper(store)
        # Records never change once written: each replica keeps what the store keeps, read once.
        self.window: ReportWindow[Report] = ReportWindow(self.settings.cap, self.settings.ttl.total_seconds())
        self._read_to: str | None = None  # where this replica's next read of the store's reports starts
        if embedder is not None:
            # The table of places' names is read now, not on the first matched report (whose story it would delay).
            exonyms()

    def assign(self, doc: Document, matches: Sequence[Match]) -> StoryAssignment:
        doc = without_furniture(self.store, doc)
        found = self.copies.find(doc)
        copy = found.assignment if found is not None else StoryAssignment(doc.id, True)
        story = copy.story_id
        original: Report | None = None
        if not copy.new:
            # A copy of a report the event layer put into another event's story belongs there too.
            original = self._record(copy.story_id)
            story = original.story_id if original is not None else copy.story_id
        if not matches or self.embedder is None or len(words_of(f"{doc.title} {doc.text}")) < MIN_STORY_WORDS:
            if found is not None:
                self.copies.keep(found)
            marked = None if story == doc.id else marked_update(doc.title, doc.text)
            return StoryAssignment(story, story == doc.id, copy.jaccard, copy.via, development=marked)
        # A copy takes its original's embeddings (no model call): it joins the original's story whatever it
        # would score, and its lede says what the original's does.
        if original is not None:
            vector, sentences = original.vector, original.sentences
        else:
            vector, sentences = self._embedded(doc, self.embedder)
        report = report_of(doc, story, vector, self.settings.lede_words, sentences)
        # The copy layer's write takes the lease too (one round trip less), once the model has run: the
        # lease is held only while the story is decided.
        lease = self._lease(found)
        with lease as added:
            slots = self._recent(report.at, added)
            own = self.window.get_in(doc.id, slots)
            if own is not None:  # a retried hand-off: the story it was given the first time
                news = self._news(doc, report, own.story_id, slots)
                return StoryAssignment(own.story_id, own.story_id == doc.id, copy.jaccard, "retry", development=news)
            via, score = copy.via, 0.0
            if copy.new:
                best = self._best(report, slots)
                if best is not None:
                    story, score, via = best[0], best[1], "event"
                    report = replace(report, story_id=story)
            news = self._news(doc, report, story, slots)
            settings = self.settings
            self.store.add_event_report(
                doc.id, report.at, report.to_bytes(), settings.ttl, settings.cap, release=lease.holder
            )
            lease.released = True
            self.window.add(report, time.time() + self.settings.ttl.total_seconds())
        return StoryAssignment(story, story == doc.id, copy.jaccard, via, score, news)

    def _embedded(self, doc: Document, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
        """The embedding of the document's lede, and those of its first sentences (none when the sentences
        weigh nothing), in one call of the model."""
        settings = self.settings
        sentences = sentences_of(doc, settings.sentences) if settings.sentence_weight else []
        vectors = embedder.embed([lede_of(doc, settings.lede_words), *sentences])
        return vectors[0], vectors[1:]

    def _news(self, doc: Document, report: Report, story: str, slots: np.ndarray) -> str | None:
        """What the report brings to the story it joined (None when it starts one); without the story's
        other reports in the window, only what it says of itself."""
        if story == doc.id:
            return None
        earlier = [r for r in self.window.members(slots, story) if r.report_id != doc.id]
        if not earlier:
            return marked_update(doc.title, doc.text)
        names = frozenset().union(*(r.names for r in earlier))
        stated = frozenset().union(*(r.figures for r in earlier))
        return development(doc.title, doc.text, report.lede_figures, names, stated)

    def _best(self, report: Report, slots: np.ndarray) -> tuple[str, float] | None:
        """The story whose recent reports score best on average above the threshold, and that average."""
        if len(slots) == 0:
            return None
        if self.learned is not None and report.timed:
            weighed = self._weighed(report, slots, self.learned.floor)
            if weighed is not None:
                return self._best_learned(self.learned, weighed)
        settings = self.settings
        scores = self.window.score(
            report.vector, report.names, slots, settings.names_weight, report.language, settings.across_languages
        )
        untimed = scores.untimed | (not report.timed)
        thresholds = np.where(untimed, settings.untimed_threshold, settings.threshold)
        averages = scores.averages
        if settings.sentence_weight:
            # The sentences' term, for the stories it could take to the threshold: what their reports' best
            # sentence against the report's gives over the ledes' cosine, if more (taking that share of the
            # ledes' cosine away too split reports of one event on the study set L, 0.984 -> 0.967).
            averages = averages.copy()
            for story in np.flatnonzero(averages >= thresholds - PRUNE):
                members = self.window.members(slots, scores.stories[story])
                aligned = float(np.mean(best_sentences(report, members)))
                averages[story] += settings.sentence_weight * max(0.0, aligned - scores.cosines[story])
        if ACTOR_PENALTY and report.actor is not None:
            averages = averages.copy()
            for story in np.flatnonzero(averages >= thresholds):
                members = self.window.members(slots, scores.stories[story])
                if actors_conflict(report.actor, [r.actor for r in members]):
                    averages[story] -= ACTOR_PENALTY
        candidates = np.flatnonzero(averages >= thresholds)
        # Best average first (ties: the story whose latest report is latest), the first that no check tells apart
        # (or that scores VETO_CEILING, whatever they say);
        # but not one that scores VETO_MARGIN below a story told apart: a report far closer to another event
        # than to this story is of neither (what made two ports struck in one night one story).
        vetoed: float | None = None
        for story in sorted(candidates, key=lambda i: -averages[i]):
            story_id = scores.stories[story]
            members = self.window.members(slots, story_id)
            average = float(averages[story])
            if (
                (
                    average < VETO_CEILING
                    and (
                        _other_figures(report, members)
                        or _other_day(report, members)
                        or _other_lead(report, members)
                        or _other_facts(report, members)
                        or _other_places(report, members)
                    )
                )
                or _other_people(report, members)
                or _other_recalled(report, members)
                or _other_marked(report, members)
            ):
                vetoed = average if vetoed is None else vetoed
                continue
            if vetoed is not None and vetoed - average > VETO_MARGIN:
                return None
            return story_id, average
        return None

    def _weighed(self, report: Report, slots: np.ndarray, floor: float) -> list[tuple[str, float, np.ndarray]] | None:
        """The stories of the window whose average score reaches `floor`, each with that average and what the
        learned decision reads of it (`pair_features`); None when one of them has an undated report (the model
        was fitted on dated reports: the rules decide those)."""
        settings = self.settings
        scores = self.window.score(
            report.vector, report.names, slots, settings.names_weight, report.language, settings.across_languages
        )
        weighed = []
        for story in np.flatnonzero(scores.averages >= floor):
            if scores.untimed[story]:
                return None
            members = self.window.members(slots, scores.stories[story])
            average, cosine = float(scores.averages[story]), float(scores.cosines[story])
            if average < VETO_CEILING and _other_places(report, members):
                continue  # a veto beside the model's (`learned.VETOES`): it reads no feature of its own
            weighed.append((scores.stories[story], average, pair_features(report, members, cosine, average, settings)))
        return weighed

    @staticmethod
    def _best_learned(
        learned: LearnedDecision, weighed: list[tuple[str, float, np.ndarray]]
    ) -> tuple[str, float] | None:
        """The story the learned decision gives the highest probability, if that reaches its cutoff, with its
        average score."""
        if not weighed:
            return None
        chances = learned.probabilities(np.stack([features for _, _, features in weighed]))
        best = int(np.argmax(chances))
        if chances[best] < learned.cutoff:
            return None
        return weighed[best][0], weighed[best][1]

    def _recent(self, at: float, added: EventReports | None = None) -> np.ndarray:
        """The slots of the reports of the window (latest first), once the reports added to the store since
        this replica's last read (`added`, read with the lease; else read now) are read into it."""
        self._read_new(added)
        window = self.settings.window.total_seconds()
        return self.window.window(at - window, at + window, time.time())

    def _read_new(self, added: EventReports | None = None) -> None:
        if added is None:
            added = self.store.event_reports_since(self._read_to)
        if added.everything:
            self.window.keep_only({r.report_id for r in added.records})
        for kept in added.records:
            if kept.report_id not in self.window:
                # A read of everything is what the store kept once its rules ran: they need not run again.
                self.window.add(Report.from_bytes(kept.report_id, kept.record), kept.expires, not added.everything)
        self._read_to = added.position

    def _record(self, report_id: str) -> Report | None:
        kept = self.window.get(report_id)
        if kept is not None:
            return kept
        # Not kept in the window: it comes in through the store's log, in its order, or has expired.
        record = self.store.event_report(report_id)
        return Report.from_bytes(report_id, record) if record is not None else None

    def _lease(self, found: CopyFound | None = None) -> _Lease:
        return _Lease(self.store, self._read_to, found, self.copies.ttl)


class _Lease:
    """The event layer's store lease, held while one report's story is decided and recorded; taking it
    reads the reports added since `read_to` too (under the lease: every report decided before is in).
    With `found`, the copy layer's write of the text goes in the same round trip as the first try."""

    def __init__(self, store: Store, read_to: str | None, found: CopyFound | None, copy_ttl: timedelta) -> None:
        self.store = store
        self.read_to = read_to
        self.found = found
        self.copy_ttl = copy_ttl
        self.holder = uuid.uuid4().hex
        self.released = False  # given back with the report's record

    def __enter__(self) -> EventReports:
        deadline = time.monotonic() + LEASE_WAIT.total_seconds()
        pause = 0.002
        added = self._take()
        while added is None:
            if time.monotonic() > deadline:
                raise StoreError(f"{self.store.description}: the event layer's lease was not free for {LEASE_WAIT}")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
            added = self.store.event_lease(self.holder, LEASE_TTL, self.read_to)
        return added

    def _take(self) -> EventReports | None:
        """The first try, with the copy layer's write when there is one (it is written whether or not the
        lease is free)."""
        if self.found is None:
            return self.store.event_lease(self.holder, LEASE_TTL, self.read_to)
        found = self.found
        return self.store.add_to_story_and_lease(
            found.assignment.story_id, found.bands, found.signature, self.copy_ttl, self.holder, LEASE_TTL, self.read_to
        )

    def __exit__(self, *exc: object) -> None:
        if not self.released:
            self.store.release_lease(EVENT_LEASE, self.holder)
