"""Crash benchmark: SIGKILL `monitor run` at random moments, many times, and count lost and doubled alerts.

Run from the project root:

    .venv/bin/python bench/crash.py                        # 20 kills on each store, 3 new articles each
    .venv/bin/python bench/crash.py --kills 6 --store sqlite --logs /tmp/crash   # keep the runs' logs
    .venv/bin/python bench/crash.py --output docs/benchmarks.md

Each round publishes new articles in the feed, starts `monitor run` (tests/crashrig.py: a feed server and
the fake Slack on 127.0.0.1, an SQLite file or a private redis-server), and SIGKILLs the service and
its extraction workers at a random moment within a few seconds of its first poll (the moment its work
starts, however long the start took on a busy machine): while fetching pages, extracting, matching,
enqueuing or delivering, both the poll's new entries and those its sweep took up from the killed
process before. The next round's process is the restart, a crash loop. A last process runs until every
article is alerted or given up (bounded by --final-wait), and a little longer, so that late copies show.

An article with no Slack message is given up when a process logged `entry.abandoned` for it (an error
an operator sees), lost when none did (silently); one with more than one message is doubled. Never
asserts: a benchmark, not a test (tests/integration/test_crash.py is the test).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import add_output_option, git_state, load_average, load_span, machine, redis_server_version, write_section

from tests.crashrig import CrashRig, Running
from tests.servers import redis_server

# Seconds a run may take from its start to its first poll before it is killed anyway.
FIRST_POLL_WAIT = 60.0
# Seconds the last run goes on after every article was alerted or given up: late copies show.
LATE_COPIES = 3.0


@dataclass
class Outcome:
    store: str
    kills: int
    articles: int
    lost: int
    abandoned: int
    doubled: int
    retaken: int
    final_wait: float
    seconds: float
    load: str


def _events(runs: list[Running], name: str) -> list[dict[str, object]]:
    return [e for run in runs for e in run.events() if e.get("event") == name]


def _given_up(runs: list[Running]) -> set[str]:
    """The articles (slugs) some process gave up on, with `entry.abandoned`."""
    return {str(e.get("url", "")).rsplit("/", 1)[-1].removesuffix(".html") for e in _events(runs, "entry.abandoned")}


def run_store(
    store: str,
    kills: int,
    per_round: int,
    window: float,
    grouper: str,
    final_wait: float,
    rng: random.Random,
    tmp: Path,
) -> Outcome:
    started = time.monotonic()
    load_at_start = load_average()
    server = redis_server(tmp / "redis") if store == "redis" else contextlib.nullcontext()
    with server as redis_url, CrashRig(tmp / store, store, redis_url, grouper=grouper) as rig:
        runs: list[Running] = []
        for round_ in range(kills):
            for n in range(per_round):
                # Pages that take their time spread the work out, so that kills land inside it.
                rig.add_article(f"r{round_}a{n}", delay=rng.uniform(0, 1))
            run = rig.start()
            with contextlib.suppress(AssertionError):  # a run that never polled is killed all the same
                run.wait_for_event(lambda e: e.get("event") == "feed.polled", timeout=FIRST_POLL_WAIT)
            time.sleep(rng.uniform(0, window))
            run.kill()
            runs.append(run)
        final = rig.start()
        runs.append(final)
        waited_from = time.monotonic()
        try:
            # Until every article is alerted or given up (a machine under load takes its time), bounded.
            while time.monotonic() - waited_from < final_wait:
                counts = rig.alerts()
                if all(c > 0 or slug in _given_up(runs) for slug, c in counts.items()):
                    break
                time.sleep(0.5)
            final_waited = time.monotonic() - waited_from
            time.sleep(LATE_COPIES)
            final.stop()
        finally:
            final.kill()
        counts = rig.alerts()
    given_up = _given_up(runs)
    return Outcome(
        store,
        kills,
        len(counts),
        sum(c == 0 and slug not in given_up for slug, c in counts.items()),
        sum(c == 0 and slug in given_up for slug, c in counts.items()),
        sum(c > 1 for c in counts.values()),
        len(_events(runs, "entry.retaken")),
        final_waited,
        time.monotonic() - started,
        load_span(load_at_start),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="kills (rounds) per store")
    parser.add_argument("--articles", type=int, default=3, help="new articles per round")
    parser.add_argument("--window", type=float, default=2.5, help="kill within this many seconds of the first poll")
    parser.add_argument("--final-wait", type=float, default=600.0, help="seconds the last run may take at most")
    parser.add_argument("--store", choices=["sqlite", "redis", "both"], default="both")
    parser.add_argument("--grouper", choices=["events", "copies"], default="events", help="the story grouper")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--logs", type=Path, help="keep the runs' logs (and the store) in this directory")
    add_output_option(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stores = ["sqlite", "redis"] if args.store == "both" else [args.store]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as scratch:
        tmp = args.logs or Path(scratch)
        for store in stores:
            outcomes.append(
                run_store(store, args.kills, args.articles, args.window, args.grouper, args.final_wait, rng, tmp)
            )
    info = machine()
    lines = [
        "## Crashes",
        "",
        f"{info['Date']}, {info['CPU']}, {info['Cores (`nproc`)']} cores, redis-server {redis_server_version()},",
        f"{git_state('monitor', 'bench/crash.py')}.",
        f"`bench/crash.py`: {args.kills} rounds per store; each publishes {args.articles} new articles, starts",
        f"`monitor run` and SIGKILLs it (with its extraction workers) at a random moment within {args.window:g} s of",
        "its first poll, so that each kill lands in its work (the entries it took up from the killed process",
        "before, and the new ones): a crash loop. A last run delivers what is left, and is waited for until",
        f"every article is alerted or given up (at most {args.final_wait:g} s), then {LATE_COPIES:g} s more.",
        f"Entry lease 1 s, story grouper `{args.grouper}`, seed {args.seed}.",
        "Lost: an article never alerted, silently; given up: never alerted, with an `entry.abandoned` error",
        "logged; doubled: alerted more than once. Load: the 1-minute load average at the store's start and end.",
        "",
        "| store | kills | articles | lost | given up | doubled | entries taken up again | last run | time | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {o.store} | {o.kills} | {o.articles} | {o.lost} | {o.abandoned} | {o.doubled} | {o.retaken} "
        f"| {o.final_wait:.0f} s | {o.seconds:.0f} s | {o.load} |"
        for o in outcomes
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        write_section(args.output, "crashes", text)


if __name__ == "__main__":
    main()
