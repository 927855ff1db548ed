"""/metrics, /healthz and /readyz over real HTTP: build info, the process's own metrics, feed health."""

from __future__ import annotations

import platform
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from monitor import __version__
from monitor.metrics import REGISTRY, HealthServer, StoreCollector
from monitor.store import SQLiteStore


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    opened = SQLiteStore(":memory:")
    yield opened
    opened.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_carry_the_build_the_process_and_how_many_feeds_back_off(store: SQLiteStore) -> None:
    now = time.time()
    store.save_feed_state("https://ok.example/rss", {"name": "OK", "failures": 0, "next_poll": now + 60})
    store.save_feed_state("https://down.example/rss", {"name": "Down", "failures": 3, "next_poll": now + 900})
    store.save_feed_state("https://quiet.example/rss", {"name": "Quiet", "stale": True})
    store.save_feed_state("https://removed.example/rss", {"name": "Removed", "failures": 9})
    in_force = {"https://ok.example/rss", "https://down.example/rss", "https://quiet.example/rss", "https://new/rss"}
    collector = StoreCollector(store, feeds=lambda: in_force)
    REGISTRY.register(collector)
    ready = {"answer": (True, "ready")}
    server = HealthServer("127.0.0.1", 0, lambda: ready["answer"])
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        status, text = get(f"{base}/metrics")
        assert status == 200
        lines = text.splitlines()
        build = f'monitor_build_info{{python="{platform.python_version()}",version="{__version__}"}} 1.0'
        assert build in lines
        assert any(line.startswith("process_resident_memory_bytes ") for line in lines)
        assert any(line.startswith("process_cpu_seconds_total ") for line in lines)
        assert any(line.startswith("python_info{") for line in lines)
        # Four feeds in force (one never polled), one of them backing off, one stale; the removed one is not counted.
        assert "monitor_feeds 4.0" in lines and "monitor_feeds_in_backoff 1.0" in lines
        assert "monitor_feeds_stale 1.0" in lines
        assert get(f"{base}/readyz") == (200, "ready\n")
        ready["answer"] = (False, "scheduler not running")
        assert get(f"{base}/readyz") == (503, "scheduler not running\n")
        assert get(f"{base}/healthz") == (200, "ok\n")
    finally:
        server.stop()
        REGISTRY.unregister(collector)
