"""Store throughput: dedupe claims on a private redis-server and on SQLite, and CopyGrouper.assign per document.

Run from the project root:

    .venv/bin/python bench/store.py                    # full run (one to two minutes), prints markdown
    .venv/bin/python bench/store.py --quick            # short run (10,000 items, fewer documents)
    .venv/bin/python bench/store.py --output docs/benchmarks.md   # also write its section there

What it measures, all in one run against one private redis-server (tests.servers.redis_server, on a
free port; the machine's own Redis is never touched):

- dedupe: `RedisStore.claim` on N items of 2 keys each (a URL and a GUID), in batches of 50 (a feed
  poll) and of 1 (N/5 items), first all new, then the same items again (all seen, the common case of a
  poll), in interleaved rounds (rates are the median over the rounds: the machine may be shared).
  Items per second; round trips per item, counted on the client (every `send_packed_command` of
  redis-py is one write followed by its replies); commands per item from `INFO commandstats`
  (reset before each phase): 3 per item of 2 keys (a look-up of the GUID, SET NX on the URL, SET
  on the GUID);
- the raw rate of the same server: `redis-benchmark -p PORT -t set -P 16 -n 200000 -q` (median of
  3), and the ratio of that SET rate to the store's items per second (target: at most 4x);
- where the time goes: the server's time per item (`INFO commandstats`) against the total, shares of the
  client's time under cProfile, and two what-ifs with the same semantics and key layout written in the
  benchmark (not in monitor/): the store's commands on a redis-py connection without the pipeline
  object, and one Lua script per batch;
- the same claims on `SQLiteStore` (a file in a temp directory, WAL), with a smaller N;
- `CopyGrouper.assign` per document on each store, with the texts of the corpus's news pages, after
  filling the index with synthetic stories: the new-story path (originals) and the join path
  (edited copies), with Signature.of alone timed on the same texts for comparison.

Timings are never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import redis
import redis.connection
from common import (
    Corpus,
    RoundTrips,
    add_corpus_option,
    add_output_option,
    articles,
    git_state,
    load_average,
    load_span,
    machine,
    verdict,
    write_section,
)

from monitor.document import Document
from monitor.rules.text import words_of
from monitor.store import DEFAULT_SEEN_TTL, RedisStore, SQLiteStore, Store
from monitor.stories.copies import NUM_PERM, CopyGrouper, Signature
from tests.servers import redis_server

MIN_WORDS = 80
RAW_RATIO_TARGET = 4.0
ROUNDS = 5  # claim phases are run in this many interleaved rounds; rates are the median over the rounds


# Counting round trips -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandStats:
    """Calls per command and the server's time in them, since the last CONFIG RESETSTAT."""

    calls: dict[str, int]
    usec: dict[str, int]

    @property
    def server_usec(self) -> int:
        # A script's time already includes the commands it ran (which are also counted on their own).
        scripts = [c for c in self.usec if c in ("evalsha", "eval")]
        return sum(self.usec[c] for c in scripts) if scripts else sum(self.usec.values())

    def __add__(self, other: CommandStats) -> CommandStats:
        def merged(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
            return {k: a.get(k, 0) + b.get(k, 0) for k in a.keys() | b.keys()}

        return CommandStats(merged(self.calls, other.calls), merged(self.usec, other.usec))


def command_stats(admin: redis.Redis) -> CommandStats:
    """Leaves out our own INFO/CONFIG."""
    stats: dict[str, Any] = admin.info("commandstats")
    calls, usec = {}, {}
    for name, values in stats.items():
        command = name.removeprefix("cmdstat_")
        if command not in ("info", "config", "config|resetstat"):
            calls[command] = int(values["calls"])
            usec[command] = int(values["usec"])
    return CommandStats(calls, usec)


# Workloads ------------------------------------------------------------------------------------


def make_items(count: int, tag: str, seed: int) -> list[tuple[str, str]]:
    """Feed items as a poll sees them: (canonical URL, GUID)."""
    rng = random.Random(seed)
    return [
        (
            f"https://news.example.com/{tag}/2024/{i:07d}/story-{rng.getrandbits(40):x}",
            f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}",
        )
        for i in range(count)
    ]


@dataclass(slots=True)
class ClaimResult:
    store: str
    workload: str  # "new" or "seen"
    batch: int
    items: int = 0
    seconds: float = 0.0
    new: int = 0
    round_trips: int | None = None
    stats: CommandStats | None = None
    round_rates: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Items per second: the median over the rounds (robust to other load on the machine)."""
        if self.round_rates:
            return statistics.median(self.round_rates)
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def overall_rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def trips_per_item(self) -> float | None:
        return None if self.round_trips is None else self.round_trips / self.items

    @property
    def commands_per_item(self) -> float | None:
        return None if self.stats is None else sum(self.stats.calls.values()) / self.items

    @property
    def server_us_per_item(self) -> float | None:
        return None if self.stats is None else self.stats.server_usec / self.items


Claim = Callable[[Sequence[Sequence[str]]], list[bool]]


def claim_all(claim: Claim, items: Sequence[tuple[str, str]], batch: int) -> tuple[float, int]:
    """Claim every item, `batch` per call; (seconds, how many were new)."""
    new = 0
    gc.collect()
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        new += sum(claim(items[start : start + batch]))
    return time.perf_counter() - started, new


def claim_rounds(
    claims: dict[str, tuple[Claim, list[tuple[str, str]]]],
    batch: int,
    rounds: int,
    admin: redis.Redis | None,
) -> list[ClaimResult]:
    """Each claim function on its own items, in `rounds` interleaved rounds of equal slices of them.

    In each round every function claims its slice (all new), then the same slice again (all seen).
    Interleaving spreads the machine's other load evenly over the functions compared.
    """
    results = {(name, w): ClaimResult(name, w, batch) for name in claims for w in ("new", "seen")}
    for r in range(rounds):
        for name, (claim, items) in claims.items():
            size = -(-len(items) // rounds)
            part = items[r * size : (r + 1) * size]
            for workload in ("new", "seen"):
                if admin is not None:
                    admin.config_resetstat()
                trips = RoundTrips.count
                seconds, new = claim_all(claim, part, batch)
                trips = RoundTrips.count - trips
                result = results[name, workload]
                result.items += len(part)
                result.seconds += seconds
                result.new += new
                result.round_rates.append(len(part) / seconds)
                if admin is not None:
                    result.round_trips = (result.round_trips or 0) + trips
                    stats = command_stats(admin)
                    result.stats = stats if result.stats is None else result.stats + stats
    for result in results.values():
        print(f"  {result.store} {result.workload:4} batch {batch:3}: {result.rate:10,.0f} items/s", file=sys.stderr)
    return list(results.values())


# What-ifs: the same claim semantics and key layout, written differently (not in monitor/) -----------


def connection_claim(store: RedisStore) -> Claim:
    """The store's commands (SET NX GET on the first key, SET GET on the others) sent on a redis-py
    connection directly: packed in one write, replies read one by one, no pipeline object.

    What is left of a claim's cost without redis-py's pipeline machinery (single node only: the
    connection is one server's).
    """
    connection = store.client.connection_pool.get_connection()

    def claim(items: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> list[bool]:
        ms = max(1, int(ttl.total_seconds() * 1000))
        commands: list[tuple[str | int, ...]] = []
        for keys in items:
            first, *others = [store.keys.seen(k) for k in keys]
            commands.append(("SET", first, 1, "NX", "PX", ms, "GET"))
            commands += [("SET", key, 1, "PX", ms, "GET") for key in others]
        connection.send_packed_command(connection.pack_commands(commands))
        replies = [connection.read_response() for _ in commands]
        results = []
        position = 0
        for keys in items:
            results.append(all(r is None for r in replies[position : position + len(keys)]))
            position += len(keys)
        return results

    return claim


CLAIM_SCRIPT = """
local ms = ARGV[1]
local out = {}
local k = 1
for i = 2, #ARGV do
  local n = tonumber(ARGV[i])
  local existed = 0
  if n > 1 then existed = redis.call('EXISTS', unpack(KEYS, k + 1, k + n - 1)) end
  local won = redis.call('SET', KEYS[k], 1, 'NX', 'PX', ms)
  for j = k + 1, k + n - 1 do redis.call('SET', KEYS[j], 1, 'PX', ms) end
  out[#out + 1] = (won and existed == 0) and 1 or 0
  k = k + n
end
return out
"""


def script_claim(store: RedisStore) -> Claim:
    """One EVALSHA per batch running the same three commands per item on the server.

    Single-node Redis only: a script's keys must share one slot on Redis Cluster, and these don't.
    """
    script = store.client.register_script(CLAIM_SCRIPT)

    def claim(items: Sequence[Sequence[str]], ttl: timedelta = DEFAULT_SEEN_TTL) -> list[bool]:
        keys = [store.keys.seen(k) for item in items for k in item]
        args = [max(1, int(ttl.total_seconds() * 1000)), *(len(item) for item in items)]
        return [bool(r) for r in script(keys=keys, args=args)]

    return claim


# Where the client's time goes ------------------------------------------------------------------------


def owner(file: str, name: str) -> str | None:
    """Whose code a profiled function is; None for built-ins and the standard library (count for the caller)."""
    if "_socket.socket" in name or "select" in name or "poll" in name:
        return "socket"
    if "/redis/" in file:
        return "redis-py"
    if "/monitor/" in file:
        return "monitor"
    if file == __file__:
        return "bench"
    return None


def profile_claim(claim: Claim, items: Sequence[tuple[str, str]], batch: int) -> list[tuple[str, float]]:
    """Share of the claim time by whose code runs, from cProfile (which slows everything; shares are what count).

    Built-in and standard-library functions (str.encode, isinstance, blake2b, threading...) count for the
    code that called them; socket calls count apart (they include waiting for the server).
    """
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    for start in range(0, len(items), batch):
        claim(items[start : start + batch])
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def resolve(key: tuple[str, int, str], seen: frozenset[tuple[str, int, str]] = frozenset()) -> str:
        kind = owner(key[0], key[2])
        if kind is not None:
            return kind
        callers = stats.get(key, (0, 0, 0.0, 0.0, {}))[4]
        if not callers or key in seen:
            return "bench"
        caller = max(callers, key=lambda c: callers[c][2])
        return resolve(caller, seen | {key})

    shares: dict[str, float] = {}
    for key, (_, _, tottime, _, callers) in stats.items():
        if owner(key[0], key[2]) is None and callers:
            for caller, caller_stats in callers.items():
                kind = resolve(caller)
                shares[kind] = shares.get(kind, 0.0) + caller_stats[2]
        else:
            kind = resolve(key)
            shares[kind] = shares.get(kind, 0.0) + tottime
    total = sum(shares.values()) or 1.0

    def cumulative(path: str, names: set[str]) -> float:
        found = [ct for (file, _, name), (_, _, _, ct, _) in stats.items() if name in names and file.endswith(path)]
        return sum(found) / total

    return [
        ("redis-py (building, packing and parsing commands; pipeline execution)", shares.get("redis-py", 0) / total),
        ("- of which packing commands (`pack_commands`)", cumulative("redis/connection.py", {"pack_commands"})),
        (
            "- of which queueing commands (`pipe.execute_command`)",
            cumulative("redis/client.py", {"execute_command"}),
        ),
        ("socket calls (send, receive: includes waiting for the server)", shares.get("socket", 0) / total),
        ("monitor/ (`RedisStore.claim`'s own loop, key hashing)", shares.get("monitor", 0) / total),
        ("the benchmark's loop", shares.get("bench", 0) / total),
    ]


# redis-benchmark ------------------------------------------------------------------------------


@dataclass(slots=True)
class RawRate:
    command: str
    rates: list[float]
    output: str

    @property
    def median(self) -> float:
        return statistics.median(self.rates) if self.rates else 0.0


def redis_benchmark(port: int, requests: int, runs: int) -> RawRate:
    binary = shutil.which("redis-benchmark")
    args = ["redis-benchmark", "-p", str(port), "-t", "set", "-P", "16", "-n", str(requests), "-q"]
    if binary is None:
        return RawRate(" ".join(args), [], "redis-benchmark is not installed")
    rates = []
    output = ""
    for _ in range(runs):
        done = subprocess.run([binary, *args[1:]], capture_output=True, text=True, timeout=300, check=False)
        output = done.stdout.replace("\r", "\n")
        found = re.findall(r"SET: ([\d.]+) requests per second", output)
        if found:
            rates.append(float(found[-1]))
    last = [line for line in output.splitlines() if line.startswith("SET:")]
    return RawRate(" ".join(args), rates, last[-1].strip() if last else output.strip()[-300:])


# CopyGrouper.assign -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    title: str
    text: str


def load_pages(corpus: Corpus, limit: int | None) -> list[Page]:
    pages = []
    for path, article in articles(corpus.html_pages()):
        if len(words_of(article.text)) < MIN_WORDS:
            continue
        pages.append(Page(path.name, article.title, article.text))
        if limit is not None and len(pages) >= limit:
            break
    return pages


def edited_copy(page: Page, round_: int, rng: random.Random) -> Document:
    """Another outlet's copy: its own headline, three words of the text replaced."""
    words = page.text.split(" ")
    for position in rng.sample(range(len(words)), min(3, len(words))):
        words[position] = "changed"
    return Document(id=f"{page.name}@copy{round_}", title=f"Copy {round_}: {page.title}", text=" ".join(words))


def prefill(store: Store, stories: int, seed: int) -> float:
    """Index `stories` synthetic stories (random signatures: they never match a real text)."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for i in range(stories):
        signature = Signature(rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32), 500)
        store.add_to_story(f"prefill-{i}", signature.bands(), signature.to_bytes())
    return time.perf_counter() - started


@dataclass(slots=True)
class AssignResult:
    store: str
    path: str  # "new story" or "join"
    times: list[float]
    outcome_ok: int
    round_trips: int | None = None
    stats: CommandStats | None = None

    @property
    def docs(self) -> int:
        return len(self.times)


def time_assign(
    stories: CopyGrouper, docs: Sequence[Document], expect: Callable[[Document, str, bool], bool]
) -> tuple[list[float], int]:
    times = []
    ok = 0
    gc.collect()
    for doc in docs:
        started = time.perf_counter()
        assignment = stories.assign(doc)
        times.append(time.perf_counter() - started)
        ok += expect(doc, assignment.story_id, assignment.new)
    return times, ok


def assign_phases(
    name: str, store: Store, pages: Sequence[Page], rounds: int, admin: redis.Redis | None, seed: int
) -> list[AssignResult]:
    stories = CopyGrouper(store)
    originals = [Document(id=p.name, title=p.title, text=p.text) for p in pages]
    rng = random.Random(seed)
    copies = [edited_copy(p, r, rng) for r in range(rounds) for p in pages]
    results = []
    phases: list[tuple[str, list[Document], Callable[[Document, str, bool], bool]]] = [
        ("new story", originals, lambda doc, story, new: new),
        ("join", copies, lambda doc, story, new: not new and story == doc.id.split("@")[0]),
    ]
    for path, docs, expect in phases:
        if admin is not None:
            admin.config_resetstat()
        trips = RoundTrips.count
        times, ok = time_assign(stories, docs, expect)
        result = AssignResult(name, path, times, ok)
        if admin is not None:
            result.round_trips, result.stats = RoundTrips.count - trips, command_stats(admin)
        results.append(result)
    return results


def signature_times(pages: Sequence[Page]) -> list[float]:
    """Signature.of + bands() alone, per page: the CPU part of assign, the same on every store."""
    times = []
    for page in pages:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            Signature.of(page.text).bands()
            best = min(best, time.perf_counter() - started)
        times.append(best)
    return times


# Machine --------------------------------------------------------------------------------------


def machine_info(redis_version: str) -> dict[str, str]:
    try:
        import hiredis  # noqa: F401

        parser = f"hiredis {metadata.version('hiredis')}"
    except ImportError:
        parser = "pure Python (hiredis not installed)"
    import sqlite3

    return {
        **machine(),
        "redis-server": redis_version,
        "redis-py": f"{metadata.version('redis')}, reply parser: {parser}",
        "SQLite": sqlite3.sqlite_version,
        "datasketch": metadata.version("datasketch"),
        "Code": git_state(),
    }


def num(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


@dataclass(slots=True)
class Report:
    claims: list[ClaimResult]
    whatifs: list[ClaimResult]
    profile: list[tuple[str, float]]
    raw: RawRate
    assigns: list[AssignResult]
    signatures: list[float]
    prefilled: dict[str, tuple[int, float]]
    machine: dict[str, str]
    quick: bool
    seconds: float
    mean_words: float

    def find(self, store: str, workload: str, batch: int = 50) -> ClaimResult:
        return next(c for c in self.claims if c.store == store and c.batch == batch and c.workload == workload)

    def ratio(self, claim: ClaimResult) -> float:
        return self.raw.median / claim.rate if claim.rate else float("inf")

    def markdown(self) -> str:
        new, seen = self.find("redis", "new"), self.find("redis", "seen")
        ratio = self.ratio(new)
        per_item = new.commands_per_item or 3.0
        mix = (
            # Connection set-up (HELLO, PING) shows up in the counts but is not per item.
            ", ".join(
                f"{v / new.items:.2f} {k.upper()}" for k, v in sorted(new.stats.calls.items()) if v / new.items >= 0.005
            )
            if new.stats
            else "?"
        )
        lines = [
            "## Store throughput",
            "",
            f"`bench/store.py{' --quick' if self.quick else ''}` ({self.seconds:.0f} s): dedupe claims of items with 2"
            " keys (a URL and a GUID) on a private redis-server and on SQLite, and `CopyGrouper.assign` per document."
            " Rerun it rather than editing the numbers.",
            "",
            "### Targets",
            "",
            "| target | measured | |",
            "|---|---:|---|",
            f"| Redis claims (new items, batches of 50) within {RAW_RATIO_TARGET:.0f}x of redis-benchmark's SET rate "
            f"| {ratio:.1f}x ({self.raw.median:,.0f} SET/s vs {new.rate:,.0f} items/s) | "
            f"{verdict(ratio <= RAW_RATIO_TARGET)} |",
            "",
            f"Each item is {per_item:.2f} commands ({mix}, measured), so in commands the store runs at"
            f" {new.rate * per_item:,.0f} commands/s, {self.raw.median / (new.rate * per_item):.1f}x below the raw"
            " SET rate. With every item already"
            f" seen (the usual poll) the ratio is {self.ratio(seen):.1f}x ({seen.rate:,.0f} items/s).",
            "",
            f"Raw rate: `{self.raw.command}` against the same server (50 clients, 16 commands per pipeline), median"
            f" of {len(self.raw.rates)} runs: {', '.join(f'{r:,.0f}' for r in self.raw.rates)} SET/s (last output:"
            f" `{self.raw.output}`).",
            "",
            "### Dedupe claims",
            "",
            "| store | items | workload | batch | seconds | items/s (median of rounds) | min - max of rounds "
            "| round trips/item | commands/item (from INFO) | server µs/item | new |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(self.claim_row(c) for c in self.claims),
            "",
            f"Each phase ran in {ROUNDS} interleaved rounds (every claim function in this run, what-ifs included,"
            " claims a slice of its items new, then the same slice again seen, before the next round), so that"
            " other load on the machine falls evenly on all of them; items/s is the median over the rounds."
            " Round trips are counted on the client (redis-py `send_packed_command` calls: one per pipeline"
            " execute); commands per item and the server's time per item from `INFO commandstats` after"
            " `CONFIG RESETSTAT`. 'new' is how many claims returned True (every item on the first pass, none on"
            " the second, as it should be).",
            "",
        ]
        lines += self.time_section(new)
        lines += self.assign_section()
        lines += ["", "### Machine", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in self.machine.items()]
        return "\n".join(lines) + "\n"

    def claim_row(self, c: ClaimResult) -> str:
        per_item = num(c.commands_per_item, 2)
        if c.stats:
            detail = ", ".join(f"{k} {v / c.items:.2f}" for k, v in sorted(c.stats.calls.items()) if v)
            per_item += f" ({detail})"
        return (
            f"| {c.store} | {c.items:,} | {c.workload} | {c.batch} | {c.seconds:.2f} | {c.rate:,.0f} "
            f"| {min(c.round_rates, default=0):,.0f} - {max(c.round_rates, default=0):,.0f} "
            f"| {num(c.trips_per_item, 3)} | {per_item} | {num(c.server_us_per_item, 1)} | {c.new:,} |"
        )

    def time_section(self, new: ClaimResult) -> list[str]:
        server = new.server_us_per_item or 0.0
        total = 1e6 / new.rate if new.rate else 0.0
        lines = [
            "### Where the time goes",
            "",
            f"Redis, new items in batches of 50: {total:.1f} µs per item in all, of which the server spends"
            f" {server:.1f} µs executing the commands (`INFO commandstats`); the other {total - server:.1f} µs"
            f" ({(total - server) / total:.0%}) are the client: redis-py building, packing and parsing"
            f" {new.commands_per_item or 0:.0f} commands per item ({self.machine.get('redis-py', '?')}), and our"
            " key hashing. Shares of the"
            " client's time under cProfile"
            " (a separate run; profiling slows it, the shares are what count):",
            "",
            "| part | share |",
            "|---|---:|",
            *(f"| {label} | {share:.0%} |" for label, share in self.profile),
            "",
        ]
        if server:
            bound = 1e6 / server
            lines += [
                f"The server's own time bounds every client: at {server:.1f} µs per item, a client that cost"
                f" nothing would claim at most {bound:,.0f} items/s, {self.raw.median / bound:.1f}x below"
                " redis-benchmark's SET rate, and the server's reading and writing of the requests (not in"
                " `INFO commandstats`) come on top.",
                "",
            ]
        if self.whatifs:
            lines += [
                "What-ifs, not in monitor/: the same claim semantics (without `owners`) and key layout written"
                " differently, measured in the same run (batches of 50):",
                "",
                "| variant | workload | items/s | vs the store | redis-benchmark SET/s over items/s | server µs/item |"
                " new |",
                "|---|---|---:|---:|---:|---:|---:|",
            ]
            for w in self.whatifs:
                base = self.find("redis", w.workload)
                lines.append(
                    f"| {w.store} | {w.workload} | {w.rate:,.0f} | {w.rate / base.rate:.1f}x | {self.ratio(w):.1f}x"
                    f" | {num(w.server_us_per_item, 1)} | {w.new:,} |"
                )
            lines += [
                "",
                "- *connection, no pipeline*: the store's two commands per item packed into one write on a redis-py"
                " connection and their replies read one by one, without the pipeline object: what is left of the"
                " client's cost without redis-py's pipeline machinery (single node only).",
                "- *Lua script*: one `EVALSHA` per batch doing 3 commands per item on the server. Works on a"
                " single Redis only: on Redis Cluster a script's keys must share a slot, and the seen keys are"
                " spread on purpose (monitor/store/keys.py).",
                "",
            ]
        return lines

    def assign_section(self) -> list[str]:
        lines = [
            "### CopyGrouper.assign per document",
            "",
            f"The news pages' texts ({self.assigns[0].docs if self.assigns else 0} documents, {self.mean_words:.0f}"
            " words on average): the originals first (each starts a story), then edited copies (three words"
            " changed, another headline: each joins its original). The index was first filled with synthetic"
            " stories (random signatures) so that it is not empty: "
            + "; ".join(f"{name}: {n:,} stories in {s:.1f} s" for name, (n, s) in self.prefilled.items())
            + ".",
            "",
            "| store | path | docs | mean ms/doc | median ms/doc | p95 ms/doc | round trips/doc | commands/doc "
            "| server µs/doc | as expected |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for a in self.assigns:
            trips = None if a.round_trips is None else a.round_trips / a.docs
            commands = None if a.stats is None else sum(a.stats.calls.values()) / a.docs
            server = None if a.stats is None else a.stats.server_usec / a.docs
            lines.append(
                f"| {a.store} | {a.path} | {a.docs} | {ms(statistics.mean(a.times))} | {ms(statistics.median(a.times))}"
                f" | {ms(p95(a.times))} | {num(trips, 1)} | {num(commands, 1)} | {num(server, 0)} "
                f"| {a.outcome_ok}/{a.docs} |"
            )
        if self.signatures:
            lines += [
                "",
                f"For comparison, `Signature.of(text).bands()` alone (CPU only, no store; best of 3) on the same"
                f" texts: mean {ms(statistics.mean(self.signatures))} ms, median"
                f" {ms(statistics.median(self.signatures))} ms, p95 {ms(p95(self.signatures))} ms per document."
                " A new story costs 2 round trips (band lookups; add bands + signature), a join 3 (band lookups;"
                " candidate signatures; add bands).",
            ]
        return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (10,000 Redis items, fewer documents)")
    parser.add_argument(
        "--items",
        type=int,
        default=None,
        help="Redis items in batches of 50 (default 100,000; quick 10,000); half as many for each what-if, a"
        " fifth in batches of 1",
    )
    parser.add_argument("--sqlite-items", type=int, default=None, help="SQLite items per phase (default 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    add_corpus_option(parser)
    add_output_option(parser)
    args = parser.parse_args(argv)
    n_redis = args.items or (10_000 if args.quick else 100_000)
    n_whatif = n_redis // 2
    n_single = n_redis // 5
    n_sqlite = args.sqlite_items or (5_000 if args.quick else 20_000)
    n_prefill = 500 if args.quick else 2_000
    rounds = 1 if args.quick else 3
    load_before = load_average()

    started = time.perf_counter()
    pages = load_pages(args.corpus, 30 if args.quick else None)
    print(f"extracted {len(pages)} pages in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    sqlite_items = {50: make_items(n_sqlite, "b50", args.seed), 1: make_items(n_sqlite, "b1", args.seed + 1)}

    claims: list[ClaimResult] = []
    whatifs: list[ClaimResult] = []
    assigns: list[AssignResult] = []
    prefilled: dict[str, tuple[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp, RoundTrips.installed():
        with redis_server(Path(tmp) / "redis") as url:
            port = urlsplit(url).port or 6379
            admin = redis.Redis.from_url(url, decode_responses=True)
            redis_version = str(admin.info("server")["redis_version"])
            store = RedisStore(url, prefix="bench:")
            store.ping()
            batched = claim_rounds(
                {
                    "redis": (store.claim, make_items(n_redis, "b50", args.seed)),
                    "connection, no pipeline": (connection_claim(store), make_items(n_whatif, "raw", args.seed + 2)),
                    "Lua script": (script_claim(store), make_items(n_whatif, "lua", args.seed + 3)),
                },
                50,
                ROUNDS,
                admin,
            )
            claims += [c for c in batched if c.store == "redis"]
            whatifs += [c for c in batched if c.store != "redis"]
            claims += claim_rounds(
                {"redis": (store.claim, make_items(n_single, "b1", args.seed + 1))}, 1, ROUNDS, admin
            )
            profile = profile_claim(store.claim, make_items(n_redis // 20, "profile", args.seed + 4), 50)
            print("  redis-benchmark ...", file=sys.stderr)
            raw = redis_benchmark(port, 200_000, 3)
            stories_store = RedisStore(url, prefix="bench-stories:")
            prefilled["redis"] = (n_prefill, prefill(stories_store, n_prefill, args.seed))
            assigns += assign_phases("redis", stories_store, pages, rounds, admin, args.seed)
            store.close()
            stories_store.close()
            admin.close()
        sqlite = SQLiteStore(Path(tmp) / "sqlite" / "claims.db")
        for batch, items in sqlite_items.items():
            claims += claim_rounds({"sqlite (file, WAL)": (sqlite.claim, items)}, batch, ROUNDS, None)
        sqlite.close()
        sqlite = SQLiteStore(Path(tmp) / "sqlite" / "stories.db")
        prefilled["sqlite (file, WAL)"] = (n_prefill, prefill(sqlite, n_prefill, args.seed))
        assigns += assign_phases("sqlite (file, WAL)", sqlite, pages, rounds, None, args.seed)
        sqlite.close()
    sig_times = signature_times(pages)
    machine = machine_info(redis_version)
    machine["Corpus"] = args.corpus.describe(len(pages))
    machine["Load average (1 min)"] = load_span(load_before)
    report = Report(
        claims,
        whatifs,
        profile,
        raw,
        assigns,
        sig_times,
        prefilled,
        machine,
        args.quick,
        time.perf_counter() - started,
        statistics.mean(len(words_of(p.text)) for p in pages),
    )
    markdown = report.markdown()
    print(markdown)
    if args.output:
        write_section(args.output, "store", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
