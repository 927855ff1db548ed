"""A hostile feed against `monitor run`: the service process stays within its memory and the other feeds
keep their pace (real process, feed server on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.httpserver import HttpServer, Item, Reply, quadratic_blowup, rss

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
# What the hostile feed may add to the service's peak memory. Parsed as it was before (expanded by
# feedparser's fallback parser in the service's own process), the 170 KB feed needed gigabytes.
MEMORY_BOUND_MB = 64
WINDOW = 8.0  # seconds the service runs; every feed is due every second


def _memory_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{field}:", 1)[1].split()[0])


def test_a_quadratic_blowup_feed_costs_the_service_no_memory_and_delays_no_other_feed(tmp_path: Path) -> None:
    with HttpServer() as server:
        server.route("/bomb.xml", Reply(200, RSS, quadratic_blowup(170_000)))
        names = ["bomb", "a", "b", "c"]
        for name in names[1:]:
            server.route(
                f"/{name}.xml", Reply(200, RSS, rss([Item(f"{name} news", f"http://x.example/{name}", "t")]).encode())
            )
        feeds = "".join(f"  - url: {server.url(f'/{name}.xml')}\n    name: {name}\n" for name in names)
        (tmp_path / "feeds.yaml").write_text(f"defaults:\n  interval: 1s\n  full_text: false\nfeeds:\n{feeds}")
        (tmp_path / "monitor.yaml").write_text(
            f"rules: {ROOT / 'rules'}\nfeeds: feeds.yaml\nstore: sqlite:state.db\nmetrics:\n  listen: null\n"
            "http:\n  allow_networks: ['127.0.0.0/8']\nstories:\n  grouper: copies\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL", "MONITOR_"))}
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", "monitor.yaml"],
                cwd=tmp_path, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while '"service.started"' not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            at_start = _memory_kb(process.pid, "VmRSS")
            time.sleep(WINDOW)
            peak = _memory_kb(process.pid, "VmHWM")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    polls = {name: [e for e in events if e["event"] == "feed.polled" and e["feed"] == name] for name in names}
    # The hostile feed is read, its entity left unexpanded; the service's memory barely moved.
    assert len(polls["bomb"]) >= 3
    warned = {e["problem"] for e in events if e["event"] == "feed.malformed" and e["feed"] == "bomb"}
    assert warned == {"feed declares 1 entity: not expanded"}
    assert (peak - at_start) / 1024 < MEMORY_BOUND_MB, (at_start, peak)
    # Every other feed kept its pace: polled about once a second (at least a third of that, on a busy machine).
    for name in names[1:]:
        assert len(polls[name]) >= WINDOW / 3, (name, len(polls[name]))
