"""Benchmark polling: 2,000 feeds served from 127.0.0.1 in steady state (most answer 304).

Run from the project root:

    .venv/bin/python bench/poll.py                 # 2,000 feeds, 3 steady rounds
    .venv/bin/python bench/poll.py --feeds 500     # smaller
    .venv/bin/python bench/poll.py --output /tmp/bench-ingest.md

The server runs in its own process (a threaded HTTP server) so the poller's peak memory is its own.
A warm-up round fetches every feed (200, ETag); each steady round polls every feed again with its
validators: 95% answer 304, 5% serve a changed feed with one new entry. Prints polls per second and
the poller's peak resident memory. Never asserts: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import time
from multiprocessing.synchronize import Event

from common import add_output_option, git_state, machine, write_section

from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import HttpSettings
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.store import SQLiteStore
from tests.httpserver import HttpServer, Item, Reply, Seen, rss


def serve(count: int, port_out: multiprocessing.Queue[int], stop: Event) -> None:
    rounds: dict[int, int] = {}

    def handler(index: int) -> object:
        def answer(seen: Seen) -> Reply:
            version = rounds.get(index, 0)
            etag = f'"{index}-{version}"'
            if seen.headers.get("if-none-match") == etag:
                # Every 20th feed changes once per round.
                if index % 20 == 0:
                    rounds[index] = version + 1
                    etag = f'"{index}-{version + 1}"'
                else:
                    return Reply(304, {"ETag": etag})
            count = rounds.get(index, 0) + 20
            items = [
                Item(f"S {index}-{n}", f"http://example.org/{index}/{n}", "text " * 30, f"{n}") for n in range(count)
            ]
            return Reply(200, {"Content-Type": "application/rss+xml", "ETag": etag}, rss(items).encode())

        return answer

    with HttpServer() as server:
        for index in range(count):
            server.route(f"/feed/{index}.xml", handler(index))  # type: ignore[arg-type]
        port_out.put(server.port)
        stop.wait()


async def rounds(count: int, port: int, steady: int) -> list[tuple[str, float, int, int]]:
    base = f"http://127.0.0.1:{port}/feed"
    feeds = [FeedConfig(url=f"{base}/{i}.xml", name=f"f{i}", full_text=False) for i in range(count)]
    http = HttpSettings(allow_networks=("127.0.0.0/8",), per_host=64, timeout=60)
    results = []
    async with Ingestor(feeds, SQLiteStore(":memory:"), IngestSettings(http=http), lambda d, a: None) as ingestor:
        for label in ["warm-up (all 200, 20 entries each)", *[f"steady {n + 1}" for n in range(steady)]]:
            started = time.perf_counter()
            outcomes = await ingestor.poll_all()
            elapsed = time.perf_counter() - started
            not_modified = sum(o.poll.status == 304 for o in outcomes)
            new = sum(len(o.documents) for o in outcomes)
            results.append((label, count / elapsed, not_modified, new))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    add_output_option(parser)
    args = parser.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    context = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[int] = context.Queue()
    stop = context.Event()
    process = context.Process(target=serve, args=(args.feeds, ports, stop), daemon=True)
    process.start()
    port = ports.get(timeout=60)
    try:
        results = asyncio.run(rounds(args.feeds, port, args.rounds))
    finally:
        stop.set()
        process.join(10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = machine()
    lines = [
        "## Polling",
        "",
        f"{info['Date']}, {info['CPU']}, {info['Cores (`nproc`)']} cores, {git_state('monitor', 'bench/poll.py')}.",
        f"`bench/poll.py`: {args.feeds:,} feeds on one 127.0.0.1 server (its own process), polled with",
        "`Ingestor.poll_all` (conditional GET, SQLite store in memory, no page fetch).",
        "Steady rounds: 95% of feeds answer 304, 5% gain one entry.",
        "",
        "| round | polls/s | 304 | new documents |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {label} | {rate:,.0f} | {nm:,} | {new:,} |" for label, rate, nm, new in results]
    steady_rate = results[-1][1]
    needed = args.feeds / 300
    lines += [
        "",
        f"Poller peak resident memory: **{peak_mb:,.0f} MB** (whole process, Python and libraries included).",
        f"At {steady_rate:,.0f} polls/s, {args.feeds:,} feeds every 5 minutes ({needed:.1f} polls/s) use about "
        f"{needed / steady_rate:.0%} of the poller's capacity.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        write_section(args.output, "polling", text)


if __name__ == "__main__":
    main()
