"""Crash benchmark: SIGKILL `monitor run` at random moments, many times, and count lost and doubled alerts.

Run from the project root:

    .venv/bin/python bench/crash.py                        # 20 kills on each store, 3 new articles each
    .venv/bin/python bench/crash.py --kills 6 --store sqlite
    .venv/bin/python bench/crash.py --output docs/benchmarks.md

Each round publishes new articles in the feed, starts `monitor run` (tests/crashrig.py: a feed server and
the fake Slack on 127.0.0.1, an SQLite file or a private redis-server), and SIGKILLs the service and
its extraction workers at a random moment between its start and a few seconds into its work: while
polling, fetching pages, extracting, matching, enqueuing or delivering. The next round's process is
the restart. A last process runs until every article is alerted (or a timeout) and a little longer,
so that late copies show. An article with no Slack message is lost; one with more than one, doubled.
Never asserts: a benchmark, not a test (tests/integration/test_crash.py is the test).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import add_output_option, git_state, machine, redis_server_version, write_section

from tests.crashrig import CrashRig
from tests.servers import redis_server


@dataclass
class Outcome:
    store: str
    kills: int
    articles: int
    lost: int
    doubled: int
    retaken: int
    seconds: float


def run_store(
    store: str, kills: int, per_round: int, window: float, grouper: str, rng: random.Random, tmp: Path
) -> Outcome:
    started = time.monotonic()
    server = redis_server(tmp / "redis") if store == "redis" else contextlib.nullcontext()
    with server as redis_url, CrashRig(tmp / store, store, redis_url, grouper=grouper) as rig:
        runs = []
        for round_ in range(kills):
            for n in range(per_round):
                # Pages that take their time spread the work out, so that kills land inside it.
                rig.add_article(f"r{round_}a{n}", delay=rng.uniform(0, 1))
            run = rig.start()
            run.wait_for_event(lambda e: e.get("event") == "service.started", timeout=60)
            time.sleep(rng.uniform(0, window))
            run.kill()
            runs.append(run)
        final = rig.start()
        try:
            with contextlib.suppress(AssertionError):  # lost ones are counted below
                rig.wait_for_alerts(120)
            time.sleep(3)
            final.stop()
        finally:
            final.kill()
        runs.append(final)
        counts = rig.alerts()
    retaken = sum(1 for run in runs for e in run.events() if e.get("event") == "entry.retaken")
    return Outcome(
        store,
        kills,
        len(counts),
        sum(c == 0 for c in counts.values()),
        sum(c > 1 for c in counts.values()),
        retaken,
        time.monotonic() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="kills (rounds) per store")
    parser.add_argument("--articles", type=int, default=3, help="new articles per round")
    parser.add_argument("--window", type=float, default=2.5, help="seconds after start within which to kill")
    parser.add_argument("--store", choices=["sqlite", "redis", "both"], default="both")
    parser.add_argument("--grouper", choices=["events", "copies"], default="events", help="the story grouper")
    parser.add_argument("--seed", type=int, default=13)
    add_output_option(parser)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stores = ["sqlite", "redis"] if args.store == "both" else [args.store]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        for store in stores:
            outcomes.append(run_store(store, args.kills, args.articles, args.window, args.grouper, rng, Path(tmp)))
    info = machine()
    lines = [
        "## Crashes",
        "",
        f"{info['Date']}, {info['CPU']}, {info['Cores (`nproc`)']} cores, redis-server {redis_server_version()},",
        f"{git_state('monitor', 'bench/crash.py')}.",
        f"`bench/crash.py`: {args.kills} rounds per store; each publishes {args.articles} new articles, starts",
        f"`monitor run` and SIGKILLs it (with its extraction workers) at a random moment within {args.window:g} s of",
        f"its start; a last run delivers what is left. Entry lease 1 s, story grouper `{args.grouper}`.",
        "Lost: an article never alerted;",
        "doubled: alerted more than once.",
        "",
        "| store | kills | articles | lost | doubled | entries taken up again | time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {o.store} | {o.kills} | {o.articles} | {o.lost} | {o.doubled} | {o.retaken} | {o.seconds:.0f} s |"
        for o in outcomes
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        write_section(args.output, "crashes", text)


if __name__ == "__main__":
    main()
