"""Alerts through the outbox to the fake Slack on loopback: throughput and added latency.

Run from the project root:

    .venv/bin/python bench/notify.py                  # prints markdown
    .venv/bin/python bench/notify.py --output FILE.md

For each store (a SQLite file; a private redis-server when one is installed) and each pace (Slack's
documented one message per second per channel, and no pacing to show the machinery's own cost),
N alerts spread over C channels are put in the outbox, then one Notifier drains them to the fake
Slack (tests/fakeslack.py) through the real slack-sdk client. Latency is from the alert's creation
(enqueue) to the moment the fake received the post. Nothing is asserted: numbers only.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import (
    add_output_option,
    git_state,
    load_average,
    load_span,
    machine,
    machine_line,
    redis_server_version,
    write_section,
)

from monitor.logging import configure_logging
from monitor.notify.alerts import Alert
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.slack import WebApiSink
from monitor.store import RedisStore, SQLiteStore, Store
from tests.fakeslack import fake_slack
from tests.servers import redis_server

TOKEN = "xoxb-bench"


def alerts(count: int, channels: int, run_id: str) -> list[Alert]:
    now = time.time()
    return [
        Alert(
            alert_id=f"{run_id}-{n:06d}",
            decision="new",
            rule_id="bench",
            rule_title="Benchmark rule",
            severity="medium",
            story_id=f"s{n}",
            doc_id=f"d{n}",
            title=f"Story {n}",
            url=f"https://example.org/{n}",
            source="example.org",
            published=now,
            snippet="a benchmark snippet with a term",
            matched=("term",),
            highlights=((26, 30),),
            channels=(f"#c{n % channels}",),
            created=now,
        )
        for n in range(count)
    ]


@contextmanager
def stores(workdir: Path) -> Iterator[list[tuple[str, Store]]]:
    opened: list[tuple[str, Store]] = [("sqlite", SQLiteStore(workdir / "bench.db"))]
    if shutil.which("redis-server"):
        with redis_server(workdir / "redis") as url:
            opened.append(("redis", RedisStore(url, prefix="bench:")))
            yield opened
    else:
        yield opened
    for _, store in opened:
        store.close()


def run(store: Store, count: int, channels: int, pace: float) -> dict[str, float]:
    with fake_slack(TOKEN) as slack:
        batch = alerts(count, channels, f"p{pace:g}-{time.time_ns()}")
        for alert in batch:  # one enqueue per alert, as the pipeline does
            store.outbox_add([alert.to_payload()])
        settings = NotifierSettings(pace=pace, burst_size=10_000, consumer="bench", batch=100)
        notifier = Notifier(store, WebApiSink(TOKEN, slack.url), settings)
        start = time.monotonic()
        notifier.drain()
        elapsed = time.monotonic() - start
        created = {a.alert_id: a.created for a in batch}
        latencies = sorted(
            (call.at - created[call.body["metadata"]["event_payload"]["alert_id"]]) * 1000
            for call in slack.calls("chat.postMessage")
        )
    q = statistics.quantiles(latencies, n=100)
    return {"posted": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed, "p50": q[49], "p99": q[98]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--channels", type=int, default=20)
    add_output_option(parser)
    args = parser.parse_args()
    configure_logging("warning", stream=sys.stderr)
    load_start = load_average()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, stores(Path(tmp)) as opened:
        for name, store in opened:
            for pace in (1.0, 0.0):
                result = run(store, args.alerts, args.channels, pace)
                rows.append((name, pace, result))
    lines = [
        "## Notifier: outbox to Slack",
        "",
        f"{args.alerts} alerts over {args.channels} channels, drained by one Notifier through slack-sdk to the fake",
        f"Slack on loopback (`bench/notify.py`, {git_state('monitor/notify', 'monitor/store')}). Latency: from",
        "enqueue to the post reaching Slack (all alerts enqueued at once, so it includes queueing behind the pace).",
        "",
        "| store | pace per channel | posted | seconds | alerts/s | p50 latency ms | p99 latency ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, pace, r in rows:
        label = f"{pace:g} s" if pace else "none"
        lines.append(
            f"| {name} | {label} | {r['posted']:.0f} | {r['seconds']:.2f} | {r['rate']:.1f} "
            f"| {r['p50']:.0f} | {r['p99']:.0f} |"
        )
    lines += [
        "",
        f"With the 1 s pace each channel gets at most one message a second; {args.channels} channels are served",
        f"side by side, so the ceiling is about {args.channels} alerts/s, not 1 (pacing is per channel, not global).",
        "",
        f"Machine: {machine_line(machine('slack_sdk', 'redis'))}; redis-server {redis_server_version()}.",
        f"Load average (1 min) {load_span(load_start)}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        write_section(args.output, "notify", text)


if __name__ == "__main__":
    main()
