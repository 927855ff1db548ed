"""Benchmark `monitor run` end to end: 1,000 rules, 500 loopback feeds, a real Redis, the fake Slack.

Run from the project root:

    .venv/bin/python bench/service.py            # full run, about 6 minutes; prints the results
    .venv/bin/python bench/service.py --output docs/benchmarks.md   # also writes its section there
    .venv/bin/python bench/service.py --quick    # short run (about 2 minutes), same shape

What runs, all on loopback:

- a private redis-server (tests/servers.py);
- the feed server, a separate process (`bench/service.py serve-feeds ...`, asyncio, keep-alive,
  ETag / 304): 500 RSS feeds spread over `--hosts` loopback addresses (127.0.0.1, 127.0.0.2, ...: the
  service limits concurrent requests per host, and 500 real feeds come from many hosts), each feed
  holding its 10 latest entries, and the article page of every entry. New entries appear at a rate
  the benchmark sets (`/control?rate=N` per minute, on random feeds); each entry's URL carries its
  sequence number and the moment it appeared (`/articles/a<seq>-<epoch ms>.html`);
- the fake Slack (tests/fakeslack.py) in this process: every `chat.postMessage` is recorded with the
  moment it arrived, and the article URLs in its text give the entries it announces;
- `python -m monitor run` (one replica, then two sharing the store), with `slack.pace: 0` and a
  very large `slack.burst_size`, so that Slack pacing and burst folding are not what is measured.

Rules: the 3 shipped rules (rules/, with their lists) and generated rules (bench/matcher.py's
RuleGenerator: terms from the corpus's news vocabulary, phrases, wildcards, near, not, at_least,
count, field conditions) written as YAML files, one per rule. Articles: the seed articles and the
articles extracted from the corpus's pages (`--corpus`: trafilatura/tests/cache/*.html); a controlled share
(`--match-share`) of the published articles match at least one rule. Every published article has
its own title and URL, so none is an exact duplicate; copies of one source text join one story, and
the later ones are posted as thread replies (follow-ups).

Per replica count, after a warm-up (every feed polled once): a latency stage at a moderate rate,
then a throughput stage at a rate meant to exceed what the service can do, then a drain. Measured:
articles processed per minute (new documents, from the service's /metrics), alerts posted per
minute, latency from an entry appearing to its first alert posted (p50, p99), CPU seconds and peak
memory of the service processes (the main process and its extraction workers, from /proc), and the
CPU of the feed server, Redis and this process (they share the 2 cores). Timings are never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from common import (
    RULES,
    SEEDS,
    Corpus,
    add_corpus_option,
    add_output_option,
    load_average,
    load_span,
    machine,
    machine_line,
    redis_server_version,
    write_section,
)

from tests.httpserver import Item, rss

TOKEN = "xoxb-bench-service-token"
WINDOW = 10  # entries per feed
SLUG_RE = re.compile(r"/articles/a(\d+)-(\d+)\.html")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# The feed server (a separate process) ---------------------------------------------------------


class FeedServer:
    """Feeds and article pages, new entries appearing at `rate` per minute on random feeds."""

    def __init__(self, pool: list[dict[str, Any]], feeds: int, hosts: list[str], seed: int) -> None:
        self.pool = pool
        self.hosts = hosts
        self.ports: list[int] = [0] * len(hosts)
        self.feeds = feeds
        self.rng = random.Random(seed)
        self.rate = 0.0
        self.seq = 0
        self.items: list[list[Item]] = [[] for _ in range(feeds)]
        self.bodies: list[bytes] = [b""] * feeds
        self.versions: list[int] = [0] * feeds
        self.pages: dict[str, bytes] = {}
        self.published: list[tuple[int, float, int]] = []  # seq, appeared (epoch s), feed
        self.fetched: dict[int, float] = {}  # seq -> first page fetch
        self.stats = {"feed_200": 0, "feed_304": 0, "pages": 0, "other": 0}
        self.polled: set[int] = set()

    def base(self, feed: int) -> str:
        host = feed % len(self.hosts)
        return f"http://{self.hosts[host]}:{self.ports[host]}"

    def feed_url(self, feed: int) -> str:
        return f"{self.base(feed)}/feed-{feed}.xml"

    def fill(self) -> None:
        """Every feed starts with WINDOW old entries (the benchmark marks them seen beforehand)."""
        old = datetime.now(UTC) - timedelta(days=2)
        for feed in range(self.feeds):
            for k in range(WINDOW):
                article = self.pool[(feed * WINDOW + k) % len(self.pool)]
                link = f"{self.base(feed)}/articles/old-{feed}-{k}.html"
                when = format_datetime(old + timedelta(minutes=k), usegmt=True)
                title = f"{article['title']} (archive {feed}-{k})"
                self.items[feed].append(Item(title, link, article["description"], f"old-{feed}-{k}", when))
            self.render(feed)

    def render(self, feed: int) -> None:
        self.versions[feed] += 1
        self.bodies[feed] = rss(list(reversed(self.items[feed])), f"Bench feed {feed}").encode()

    def publish(self, now: float) -> None:
        self.seq += 1
        seq = self.seq
        feed = seq % self.feeds
        article = self.pool[seq % len(self.pool)]
        slug = f"a{seq}-{int(now * 1000)}"
        link = f"{self.base(feed)}/articles/{slug}.html"
        title = f"{article['title']} ({seq})"
        paragraphs = "".join(f"<p>{_escape(p)}</p>" for p in article["paragraphs"])
        self.pages[f"/articles/{slug}.html"] = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_escape(title)}</title></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{_escape(title)}</h1>"
            f"{paragraphs}</article><footer>Copyright, subscribe, cookies</footer></body></html>"
        ).encode()
        when = format_datetime(datetime.fromtimestamp(now, UTC), usegmt=True)
        self.items[feed].append(Item(title, link, article["description"], slug, when))
        del self.items[feed][:-WINDOW]
        self.render(feed)
        self.published.append((seq, now, feed))

    async def publisher(self) -> None:
        owed = 0.0
        last = time.time()
        while True:
            await asyncio.sleep(0.02)
            now = time.time()
            owed += self.rate * (now - last) / 60.0
            last = now
            while owed >= 1.0:
                owed -= 1.0
                self.publish(now)

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(path)
        route = parts.path
        if route.startswith("/feed-") and route.endswith(".xml"):
            feed = int(route[6:-4])
            self.polled.add(feed)
            etag = f'"v{self.versions[feed]}"'
            if headers.get("if-none-match") == etag:
                self.stats["feed_304"] += 1
                return 304, {"ETag": etag}, b""
            self.stats["feed_200"] += 1
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag}, self.bodies[feed]
        if route.startswith("/articles/"):
            page = self.pages.get(route)
            found = SLUG_RE.search(route)
            if found:
                self.fetched.setdefault(int(found.group(1)), time.time())
            self.stats["pages"] += 1
            if page is None:
                page = b"<html><body><article><p>An old article.</p></article></body></html>"
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        self.stats["other"] += 1
        if route == "/control":
            query = parse_qs(parts.query)
            if "rate" in query:
                self.rate = float(query["rate"][0])
            if "burst" in query:
                now = time.time()
                for _ in range(int(query["burst"][0])):
                    self.publish(now)
            return 200, {"Content-Type": "application/json"}, json.dumps({"rate": self.rate, "seq": self.seq}).encode()
        if route == "/stats":
            cpu = os.times()
            data: dict[str, Any] = {
                **self.stats,
                "published": self.seq,
                "polled_feeds": len(self.polled),
                "cpu": cpu.user + cpu.system,
            }
            if "reset" in parts.query:
                self.polled.clear()
            return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()
        if route == "/log":
            data = {"published": self.published, "fetched": self.fetched}
            return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                if headers.get("content-length", "0") != "0":
                    await reader.readexactly(int(headers["content-length"]))
                status, extra, body = self.answer(path, headers) if method == "GET" else (405, {}, b"")
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "Error")
                out = [f"HTTP/1.1 {status} {reason}"]
                out += [f"{name}: {value}" for name, value in extra.items()]
                out.append(f"Content-Length: {len(body)}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except ConnectionError:
            return
        finally:
            writer.close()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _serve_feeds(args: argparse.Namespace) -> None:
    pool = json.loads(Path(args.pool).read_text(encoding="utf-8"))
    hosts = [f"127.0.0.{i + 1}" for i in range(args.hosts)]
    server = FeedServer(pool, args.feeds, hosts, args.seed)
    servers = []
    for i, host in enumerate(hosts):
        listening = await asyncio.start_server(server.handle, host, 0, backlog=1024)
        server.ports[i] = listening.sockets[0].getsockname()[1]
        servers.append(listening)
    server.fill()
    feeds = [server.feed_url(f) for f in range(args.feeds)]
    Path(args.ready).write_text(json.dumps({"feeds": feeds, "control": server.base(0)}), encoding="utf-8")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    publisher = asyncio.create_task(server.publisher())
    await stop.wait()
    publisher.cancel()
    for listening in servers:
        listening.close()


def serve_feeds(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/service.py serve-feeds")
    parser.add_argument("--pool", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(_serve_feeds(parser.parse_args(argv)))
    return 0


# Rules and articles ---------------------------------------------------------------------------


def yaml_node(node: Any) -> Any:
    """A rule condition (monitor.rules.model) as the YAML rule language writes it."""
    from monitor.rules.model import (
        AllNode,
        AnyNode,
        AtLeastNode,
        CountNode,
        FieldNode,
        NearNode,
        NotNode,
        TermNode,
    )

    if isinstance(node, TermNode):
        return yaml_term(node.term)
    if isinstance(node, AllNode):
        return {"all": [yaml_node(c) for c in node.children]}
    if isinstance(node, AnyNode):
        return [yaml_node(c) for c in node.children]
    if isinstance(node, NotNode):
        return {"not": yaml_node(node.child)}
    if isinstance(node, AtLeastNode):
        return {"at_least": node.count, "of": [yaml_node(c) for c in node.children]}
    if isinstance(node, NearNode):
        groups = [yaml_term(g[0]) if len(g) == 1 else [yaml_term(t) for t in g] for g in node.groups]
        near: dict[str, Any] = {"near": groups, "within": node.within}
        if node.ordered:
            near["ordered"] = True
        return near
    if isinstance(node, CountNode):
        terms = [yaml_term(t) for t in node.terms]
        return {"count": terms[0] if len(terms) == 1 else terms, "min": node.min}
    if isinstance(node, FieldNode):
        return {node.field: yaml_node(node.child)}
    raise TypeError(f"unknown node {node!r}")


def yaml_term(term: Any) -> Any:
    if term.regex:
        return {"regex": term.text, "case": term.case}
    return {"term": term.text, "case": True} if term.case else term.text


@dataclass
class Workload:
    rules_dir: Path
    rules: int
    pool: list[dict[str, Any]]
    matching_docs: int
    docs: int


def build_corpus(tmp: Path, pages: Corpus, rules: int, share: float, seed: int) -> Workload:
    """Write the rules directory and the article pool (a JSON file for the feed server)."""
    from matcher import RuleGenerator, Vocabulary, load_documents
    from ruamel.yaml import YAML

    from monitor.document import Document
    from monitor.rules.loader import load_rules
    from monitor.rules.matcher import Matcher

    rng = random.Random(seed)
    docs = [d for d in load_documents(pages) if len(d.text) >= 400 and d.title.strip()]
    rules_dir = tmp / "rules"
    shutil.copytree(RULES, rules_dir, ignore=shutil.ignore_patterns("tests"))
    shipped = len(load_rules(rules_dir).rules)
    # Candidates from the generator, then a choice among them: a realistic rule set matches most
    # articles not at all, and a matching article by one or two rules, not by ten.
    generator = RuleGenerator(Vocabulary.build(docs, rng), rng)
    candidates = [generator.rule(index) for index in range(3 * rules)]
    probes = [Document(id=d.id, title=d.title, text=d.text) for d in docs]
    hits: dict[str, list[int]] = {}
    candidate_matcher = Matcher(candidates)
    for position, probe in enumerate(probes):
        for match in candidate_matcher.match(probe):
            hits.setdefault(match.rule.id, []).append(position)
    # Half the texts (and the seeds, which the shipped rules are about) may match a rule.
    seeds = len(list(SEEDS.glob("*.txt")))
    allowed = set(range(seeds)) | set(rng.sample(range(seeds, len(docs)), (len(docs) - seeds) // 2))
    per_doc = [0] * len(docs)
    chosen = []
    for rule in candidates:
        found = hits.get(rule.id, [])
        if found and (len(found) > 2 or any(per_doc[p] >= 2 or p not in allowed for p in found)):
            continue
        for p in found:
            per_doc[p] += 1
        chosen.append(rule)
    chosen = [r for r in chosen if r.id in hits] + [r for r in chosen if r.id not in hits]
    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 200
    (rules_dir / "generated").mkdir()
    severities = ["info", "low", "medium", "medium", "high"]
    for rule in chosen[: rules - shipped]:
        data = {
            "id": rule.id,
            "title": rule.title,
            "severity": rng.choice(severities),
            "tags": ["bench"],
            "when": yaml_node(rule.when),
        }
        with (rules_dir / "generated" / f"{rule.id}.yaml").open("w", encoding="utf-8") as out:
            yaml.dump(data, out)
    matcher = Matcher(load_rules(rules_dir).rules)
    articles = []
    for doc in docs:
        paragraphs = [p.strip() for p in doc.text.split("\n") if p.strip()]
        title = " ".join(doc.title.split())[:120]
        probe = Document(id=doc.id, title=f"{title} (1)", text="\n".join(paragraphs))
        articles.append(
            {
                "title": title,
                "paragraphs": paragraphs,
                "description": " ".join(paragraphs)[:300],
                "rules": [m.rule.id for m in matcher.match(probe)],
            }
        )
    matching = [a for a in articles if a["rules"]]
    other = [a for a in articles if not a["rules"]]
    pool = [rng.choice(matching if (rng.random() < share or not other) else other) for _ in range(400)]
    return Workload(rules_dir, len(matcher.rules), pool, len(matching), len(articles))


# Processes ------------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (the service's forkserver and extraction workers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler:
    """Samples the CPU time and RSS of process trees every `every` seconds, in a thread."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.roots: dict[str, int] = {}
        self.cpu: dict[int, float] = {}
        self.peak_rss: dict[str, int] = {}  # kB, summed over the tree
        self.peak_hwm: dict[str, int] = {}  # kB, VmHWM of the tree's largest process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.roots[name] = pid
            self.peak_rss.setdefault(name, 0)
            self.peak_hwm.setdefault(name, 0)

    def forget(self, name: str) -> None:
        self.sample()
        with self._lock:
            self.roots.pop(name, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        with self._lock:
            roots = dict(self.roots)
        for name, root in roots.items():
            total = 0
            for pid in process_tree(root):
                used = cpu_seconds(pid)
                if used is not None:
                    self.cpu[pid] = used
                total += status_kb(pid, "VmRSS")
                self.peak_hwm[name] = max(self.peak_hwm[name], status_kb(pid, "VmHWM"))
            self.peak_rss[name] = max(self.peak_rss[name], total)

    def snapshot(self, name: str) -> dict[int, float]:
        """CPU seconds per process of the tree, now."""
        self.sample()
        with self._lock:
            root = self.roots.get(name)
        if root is None:
            return {}
        return {pid: self.cpu[pid] for pid in process_tree(root) if pid in self.cpu}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def find_pid(*needles: str) -> int | None:
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(n in cmdline for n in needles):
            return int(entry.name)
    return None


class Replica:
    """One `monitor run` process, its log in a file."""

    def __init__(self, tmp: Path, name: str, config: Path, slack_url: str) -> None:
        self.name = name
        self.log_path = tmp / f"{name}.log"
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack_url, "PYTHONUNBUFFERED": "1"}
        env.pop("REDIS_URL", None)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(config)],
                cwd=tmp,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def started(self) -> bool:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return '"service.started"' in text

    def stop(self, timeout: float = 20) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def metrics(port: int) -> dict[str, float]:
    """The service's Prometheus metrics as {name{labels}: value}."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[name] = float(value)
    return values


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return json.loads(reply.read())


# The run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    name: str
    warmup_limit: float
    low_rate: float  # new entries per minute in the latency stage
    low_seconds: float
    burst: int  # entries published at once in the throughput stage
    burst_limit: float  # seconds the service gets to process them
    settle_seconds: float


FULL = Plan("full", warmup_limit=40, low_rate=120, low_seconds=45, burst=600, burst_limit=100, settle_seconds=20)
QUICK = Plan("quick", warmup_limit=30, low_rate=120, low_seconds=20, burst=200, burst_limit=45, settle_seconds=10)


@dataclass
class Stage:
    name: str
    rate: float
    start: float = 0.0
    end: float = 0.0
    published: int = 0
    documents: float = 0.0  # new documents processed in the window, all replicas
    duplicates: float = 0.0
    polls: dict[str, float] = field(default_factory=dict)
    alerts_posted: int = 0
    service_cpu: float = 0.0
    service_main_cpu: float = 0.0  # the replicas' main processes (the rest: extraction workers)
    done: bool = True
    other_cpu: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    pickup: list[float] = field(default_factory=list)  # appeared -> page fetched
    after_pickup: list[float] = field(default_factory=list)  # page fetched -> alert posted
    expected_alerting: int = 0
    extract_mean: float | None = None

    @property
    def minutes(self) -> float:
        return max(self.end - self.start, 1e-9) / 60


@dataclass
class ConfigResult:
    replicas: int
    stages: list[Stage]
    peak_rss_kb: int
    peak_hwm_kb: int
    startup_s: float
    warmup_s: float
    exit_codes: list[int | None]
    errors: int


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def write_config(
    tmp: Path, name: str, redis_url: str, prefix: str, rules: Path, feeds: Path, port: int, grouper: str
) -> Path:
    config = tmp / f"{name}.yaml"
    config.write_text(
        f"rules: {rules}\nfeeds: {feeds}\nstore: {redis_url}\nstore_prefix: '{prefix}'\n"
        "slack:\n  default_channel: '#news'\n  pace: 0\n  burst_size: 1000000\n"
        f"stories:\n  grouper: {grouper}\n"
        f"metrics:\n  listen: 127.0.0.1:{port}\n"
        "http:\n  allow_networks: ['127.0.0.0/8']\nshutdown_grace: 15s\n",
        encoding="utf-8",
    )
    return config


def mark_old_entries_seen(redis_url: str, prefix: str, feeds: list[str]) -> None:
    """The feeds' initial entries count as seen, as in a service that has been running for a while."""
    from monitor.document import Document
    from monitor.ingest.entries import entry_keys
    from monitor.ingest.feeds import canonical_url
    from monitor.ingest.feedsfile import FeedConfig
    from monitor.store import open_store

    store = open_store(redis_url, prefix)
    items = []
    for i, url in enumerate(feeds):
        feed = FeedConfig(url=url, name=f"Bench feed {i}")
        base = url.rsplit("/", 1)[0]
        for k in range(WINDOW):
            link = canonical_url(f"{base}/articles/old-{i}-{k}.html")
            items.append(entry_keys(feed, Document(id="old", title="", text="", url=link, guid=f"old-{i}-{k}")))
    store.finish_entries(items, timedelta(days=7))
    store.close()


class Bench:
    def __init__(self, args: argparse.Namespace, plan: Plan, tmp: Path) -> None:
        self.args = args
        self.plan = plan
        self.tmp = tmp
        self.sampler = Sampler()
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        self.pool: list[dict[str, Any]] = []
        self.control_url = ""

    def control(self, rate: float) -> None:
        get_json(f"{self.control_url}/control?rate={rate}")

    def run(self) -> tuple[list[ConfigResult], Workload, dict[str, Any]]:
        from tests.fakeslack import fake_slack
        from tests.servers import redis_server

        print(f"building {self.args.rules} rules and the article pool...", flush=True)
        corpus = build_corpus(self.tmp, self.args.corpus, self.args.rules, self.args.match_share, self.args.seed)
        self.pool = corpus.pool
        pool_file = self.tmp / "pool.json"
        pool_file.write_text(json.dumps(corpus.pool), encoding="utf-8")
        ready = self.tmp / "feeds-ready.json"
        feed_server = subprocess.Popen(
            [
                *(sys.executable, str(Path(__file__).resolve()), "serve-feeds", "--pool", str(pool_file)),
                *("--ready", str(ready), "--feeds", str(self.args.feeds), "--hosts", str(self.args.hosts)),
            ],
            cwd=self.tmp,
        )
        self.sampler.start()
        try:
            with redis_server(self.tmp / "redis") as redis_url, fake_slack(TOKEN) as slack:
                deadline = time.monotonic() + 30
                while not ready.exists() and time.monotonic() < deadline and feed_server.poll() is None:
                    time.sleep(0.1)
                served = json.loads(ready.read_text(encoding="utf-8"))
                self.control_url = served["control"]
                feeds_file = self.tmp / "feeds.yaml"
                feeds_file.write_text(
                    f"defaults:\n  interval: {self.args.interval}s\n  full_text: true\nfeeds:\n"
                    + "".join(f"  - url: {url}\n    name: Bench feed {i}\n" for i, url in enumerate(served["feeds"])),
                    encoding="utf-8",
                )
                mark_old_entries_seen(redis_url, self.prefix, served["feeds"])
                self.sampler.watch("feeds", feed_server.pid)
                redis_pid = find_pid("redis-server", redis_url.rsplit(":", 1)[1].split("/")[0])
                if redis_pid:
                    self.sampler.watch("redis", redis_pid)
                results = []
                for replicas in self.args.replicas:
                    results.append(self.one(replicas, redis_url, corpus, feeds_file, slack))
                log = get_json(f"{self.control_url}/log")
                self.attribute(results, log, slack.calls("chat.postMessage"))
                return results, corpus, get_json(f"{self.control_url}/stats")
        finally:
            self.sampler.stop()
            if feed_server.poll() is None:
                feed_server.terminate()
                try:
                    feed_server.wait(10)
                except subprocess.TimeoutExpired:
                    feed_server.kill()
                    feed_server.wait(5)

    def one(self, count: int, redis_url: str, corpus: Workload, feeds_file: Path, slack: Any) -> ConfigResult:
        from tests.servers import free_port

        print(f"--- {count} replica(s)", flush=True)
        ports = [free_port() for _ in range(count)]
        configs = [
            write_config(
                self.tmp, f"r{count}-{i}", redis_url, self.prefix, corpus.rules_dir, feeds_file, port, self.args.grouper
            )
            for i, port in enumerate(ports)
        ]
        started = time.monotonic()
        replicas = [Replica(self.tmp, f"r{count}-{i}", c, slack.url) for i, c in enumerate(configs)]
        names = [r.name for r in replicas]
        for replica in replicas:
            self.sampler.watch(replica.name, replica.process.pid)
        stages: list[Stage] = []
        try:
            deadline = time.monotonic() + 60
            while not all(r.started() for r in replicas):
                if time.monotonic() > deadline or any(r.process.poll() is not None for r in replicas):
                    raise RuntimeError("the service did not start: see " + ", ".join(str(r.log_path) for r in replicas))
                time.sleep(0.2)
            startup = time.monotonic() - started
            print(f"started in {startup:.1f} s; warming up (every feed polled once)...", flush=True)
            get_json(f"{self.control_url}/stats?reset=1")
            warm = time.monotonic()
            while time.monotonic() - warm < self.plan.warmup_limit:
                if get_json(f"{self.control_url}/stats")["polled_feeds"] >= self.args.feeds:
                    break
                time.sleep(0.5)
            warmup = time.monotonic() - warm
            time.sleep(1)
            # A few entries first: the extraction pool starts on the first page, not inside a measurement.
            baseline = self.progress(ports)
            get_json(f"{self.control_url}/control?burst=20")
            self.settle(ports, baseline, 30)
            baseline = self.progress(ports)
            stages.append(
                self.stage("latency", ports, replicas, rate=self.plan.low_rate, seconds=self.plan.low_seconds)
            )
            self.settle(ports, baseline, self.plan.settle_seconds)
            stages.append(
                self.stage("throughput", ports, replicas, burst=self.plan.burst, seconds=self.plan.burst_limit)
            )
            self.settle(ports, baseline, self.plan.settle_seconds)
            time.sleep(2)  # the last alerts reach Slack
        finally:
            self.control(0)
            self.sampler.sample()
            codes = [r.stop() for r in replicas]
            peak_rss = sum(self.sampler.peak_rss.get(n, 0) for n in names)
            peak_hwm = max((self.sampler.peak_hwm.get(n, 0) for n in names), default=0)
            for name in names:
                self.sampler.forget(name)
        errors = 0
        for replica in replicas:
            for line in replica.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                if '"level": "error"' in line or '"document.failed"' in line or '"feed.crashed"' in line:
                    errors += 1
        return ConfigResult(count, stages, peak_rss, peak_hwm, startup, warmup, codes, errors)

    def progress(self, ports: list[int]) -> tuple[int, float]:
        """(entries published so far, new documents the running replicas processed so far)."""
        published = get_json(f"{self.control_url}/stats")["published"]
        return published, sum(metrics(p).get('monitor_documents_total{kind="new"}', 0.0) for p in ports)

    def settle(self, ports: list[int], baseline: tuple[int, float], limit: float) -> None:
        """Wait (at most `limit` seconds) until every entry published since `baseline` was processed."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            published, done = self.progress(ports)
            if done - baseline[1] >= published - baseline[0]:
                return
            time.sleep(1)

    def stage(
        self, name: str, ports: list[int], replicas: list[Replica], rate: float = 0, seconds: float = 0, burst: int = 0
    ) -> Stage:
        names = [r.name for r in replicas]
        roots = {r.process.pid for r in replicas}
        what = (
            f"{burst} new entries at once, up to {seconds:g} s" if burst else f"{rate:g} new entries/min, {seconds:g} s"
        )
        print(f"{name}: {what}", flush=True)
        stage = Stage(name, rate or burst)
        before = [metrics(p) for p in ports]
        cpu_before = {n: self.sampler.snapshot(n) for n in [*names, "feeds", "redis"]}
        bench_before = cpu_seconds(os.getpid()) or 0.0
        published = get_json(f"{self.control_url}/stats")["published"]
        stage.start = time.time()
        if burst:
            done = sum(b.get('monitor_documents_total{kind="new"}', 0.0) for b in before)
            get_json(f"{self.control_url}/control?burst={burst}")
            stage.done = False
            last = done
            stage.end = time.time()
            while time.time() - stage.start < seconds:
                time.sleep(0.5)
                now = sum(metrics(p).get('monitor_documents_total{kind="new"}', 0.0) for p in ports)
                if now > last:
                    last, stage.end = now, time.time()
                if now - done >= burst:
                    stage.done = True
                    break
            if not stage.done:
                stage.end = time.time()
        else:
            self.control(rate)
            time.sleep(seconds)
            self.control(0)
            stage.end = time.time()
        after = [metrics(p) for p in ports]
        cpu_after = {n: self.sampler.snapshot(n) for n in cpu_before}
        stage.published = get_json(f"{self.control_url}/stats")["published"] - published

        def delta(key: str) -> float:
            return sum(a.get(key, 0.0) - b.get(key, 0.0) for a, b in zip(after, before, strict=True))

        stage.documents = delta('monitor_documents_total{kind="new"}')
        stage.duplicates = delta('monitor_documents_total{kind="duplicate"}')
        for outcome in ("ok", "not_modified", "error"):
            stage.polls[outcome] = delta(f'monitor_polls_total{{outcome="{outcome}"}}')
        extracted = delta("monitor_extract_seconds_count")
        extract_time = delta("monitor_extract_seconds_sum")
        stage.extract_mean = extract_time / extracted if extracted else None
        stage.service_cpu = sum(cpu_between(cpu_before[n], cpu_after[n]) for n in names)
        stage.service_main_cpu = sum(
            used - cpu_before[n].get(pid, 0.0) for n in names for pid, used in cpu_after[n].items() if pid in roots
        )
        stage.other_cpu = {n: cpu_between(cpu_before[n], cpu_after[n]) for n in ("feeds", "redis")}
        stage.other_cpu["bench"] = (cpu_seconds(os.getpid()) or 0.0) - bench_before
        return stage

    def attribute(self, results: list[ConfigResult], log: dict[str, Any], posts: list[Any]) -> None:
        """Latencies per stage: from an entry appearing to the first message announcing it."""
        appeared = {int(seq): t for seq, t, _ in log["published"]}
        fetched = {int(seq): t for seq, t in log["fetched"].items()}
        first_post: dict[int, float] = {}
        per_post: list[tuple[float, int]] = []
        for call in posts:
            text = json.dumps(call.body.get("blocks")) + str(call.body.get("text", ""))
            for seq in {int(m.group(1)) for m in SLUG_RE.finditer(text)}:
                per_post.append((call.at, seq))
                first_post[seq] = min(first_post.get(seq, call.at), call.at)
        for result in results:
            for stage in result.stages:
                stage.alerts_posted = sum(1 for _, seq in per_post if stage.start <= appeared.get(seq, 0) < stage.end)
                for seq, t in appeared.items():
                    if not stage.start <= t < stage.end:
                        continue
                    article = self.pool_entry(seq)
                    if article is not None and article["rules"]:
                        stage.expected_alerting += 1
                    if seq in first_post:
                        stage.latencies.append(first_post[seq] - t)
                        if seq in fetched:
                            stage.pickup.append(fetched[seq] - t)
                            stage.after_pickup.append(first_post[seq] - fetched[seq])

    def pool_entry(self, seq: int) -> dict[str, Any] | None:
        return self.pool[seq % len(self.pool)] if self.pool else None


# Report ---------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    return {**machine(), "Redis": redis_server_version()}


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def report(
    args: argparse.Namespace,
    plan: Plan,
    results: list[ConfigResult],
    corpus: Workload,
    feed_stats: dict[str, Any],
    info: dict[str, str],
    load_start: float | None,
    elapsed: float,
) -> str:
    lines = [
        "# `monitor run` end to end",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}, `bench/service.py` ({plan.name} run, {elapsed / 60:.1f} min). "
        f"{corpus.rules:,} rules, {args.feeds} loopback feeds on {args.hosts} addresses, poll interval "
        f"{args.interval} s, full text (each new entry's page fetched and extracted), real redis-server, "
        f"fake Slack with `pace: 0`.",
        "",
        "| Replicas | Stage | Offered | New docs processed /min | Alerts posted /min | Latency p50 | "
        "Latency p99 | Articles alerted / expected | Service CPU (cores) | Peak RSS (tree) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for stage in result.stages:
            offered = (
                f"{stage.published / stage.minutes:,.0f} /min"
                if stage.name == "latency"
                else (f"{stage.published} at once" + ("" if stage.done else " (not all done)"))
            )
            lines.append(
                f"| {result.replicas} | {stage.name} | {offered} | "
                f"{stage.documents / stage.minutes:,.0f} | {stage.alerts_posted / stage.minutes:,.0f} | "
                f"{fmt(percentile(stage.latencies, 50), 2, ' s')} | {fmt(percentile(stage.latencies, 99), 2, ' s')} | "
                f"{len(stage.latencies)} / {stage.expected_alerting} | "
                f"{stage.service_cpu / (stage.end - stage.start):.2f} | {result.peak_rss_kb / 1024:,.0f} MiB |"
            )
    throughput = [next((s.documents / s.minutes for s in r.stages if s.name == "throughput"), 0.0) for r in results]
    lines += [""]
    if len(throughput) == 2 and throughput[0]:
        lines.append(
            f"Scaling, throughput stage: {throughput[0]:,.0f} -> {throughput[1]:,.0f} new documents/min "
            f"(x{throughput[1] / throughput[0]:.2f}) from 1 to 2 replicas."
        )
        lines.append("")
    lines += [
        "Detail per stage:",
        "",
        "| Replicas | Stage | Published | Docs new / dup | Polls ok / 304 / err | Pick-up p50 / p99 | "
        "Pick-up -> alert p50 / p99 | Extract mean | Window | "
        "CPU s: service (main + workers) / feeds / redis / bench |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for s in result.stages:
            other = s.other_cpu
            lines.append(
                f"| {result.replicas} | {s.name} | {s.published} | {s.documents:.0f} / {s.duplicates:.0f} | "
                f"{s.polls.get('ok', 0):.0f} / {s.polls.get('not_modified', 0):.0f} / {s.polls.get('error', 0):.0f} | "
                f"{fmt(percentile(s.pickup, 50), 2)} / {fmt(percentile(s.pickup, 99), 2)} s | "
                f"{fmt(percentile(s.after_pickup, 50), 2)} / {fmt(percentile(s.after_pickup, 99), 2)} s | "
                f"{fmt(s.extract_mean * 1000 if s.extract_mean else None, 0, ' ms')} | {s.end - s.start:.1f} s | "
                f"{s.service_cpu:.1f} ({s.service_main_cpu:.1f} + {s.service_cpu - s.service_main_cpu:.1f}) / "
                f"{other.get('feeds', 0):.1f} / {other.get('redis', 0):.1f} / "
                f"{other.get('bench', 0):.1f} |"
            )
    lines += ["", "| Replicas | Start-up | Warm-up (all feeds polled) | Peak RSS (tree) | Peak VmHWM (largest "
              "process) | Exit codes | Error log lines |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        lines.append(
            f"| {r.replicas} | {r.startup_s:.1f} s | {r.warmup_s:.1f} s | {r.peak_rss_kb / 1024:,.0f} MiB | "
            f"{r.peak_hwm_kb / 1024:,.0f} MiB | {r.exit_codes} | {r.errors} |"
        )
    lines += [
        "",
        f"Articles: {corpus.docs} source texts, the seeds and the pages of {args.corpus.describe()} "
        f"({corpus.matching_docs} match at least one rule); the pool the feed "
        f"server publishes from has {sum(1 for a in corpus.pool if a['rules'])} / {len(corpus.pool)} matching "
        f"entries (`--match-share {args.match_share}`). Stories grouper: `{args.grouper}`. "
        f"Feed server totals: {feed_stats}.",
        "",
        f"Machine: {machine_line(info)}. Load average (1 min) {load_span(load_start)}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve-feeds"]:
        return serve_feeds(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short stages (about 2 minutes)")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50, help="loopback addresses the feeds are spread over")
    parser.add_argument("--interval", type=int, default=5, help="seconds between polls of each feed")
    parser.add_argument("--match-share", type=float, default=0.3, help="share of articles matching some rule")
    parser.add_argument("--replicas", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--low-rate", type=float, help="new entries per minute, latency stage")
    parser.add_argument("--burst", type=int, help="entries published at once, throughput stage")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--grouper", choices=["events", "copies"], default="events", help="the stories grouper (stories.grouper)"
    )
    add_corpus_option(parser)
    add_output_option(parser)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, rules)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.low_rate:
        plan = Plan(**{**plan.__dict__, "low_rate": args.low_rate})
    if args.burst:
        plan = Plan(**{**plan.__dict__, "burst": args.burst})
    load_start = load_average()
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    try:
        bench = Bench(args, plan, tmp)
        results, corpus, feed_stats = bench.run()
        text = report(
            args,
            plan,
            results,
            corpus,
            feed_stats,
            machine_info(),
            load_start,
            time.monotonic() - began,
        )
        print(text)
        if args.output is not None:
            write_section(args.output, "service", text)
            print(f"written to {args.output}")
        if args.keep:
            print(f"logs in {tmp}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
