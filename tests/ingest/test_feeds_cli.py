"""`monitor feeds ...` through the command line's entry point, in this process (tests/cli.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from monitor.ingest.feedsfile import FeedConfig
from monitor.ingest.http import HttpSettings
from monitor.ingest.scheduler import Ingestor, IngestSettings
from monitor.store import SQLiteStore
from tests.cli import run_monitor
from tests.conftest import ROOT
from tests.httpserver import HttpServer, Item, Reply, rss
from tests.ingest.conftest import seeds_server

RSS = {"Content-Type": "application/rss+xml"}


def monitor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_monitor(*args, cwd=cwd)


@pytest.fixture(scope="module")
def server() -> Iterator[HttpServer]:
    with seeds_server() as s:
        s.route("/broken.xml", Reply(500))
        yield s


def test_check_accepts_the_example() -> None:
    out = monitor("feeds", "check", "deploy/feeds.example.yaml")
    assert out.returncode == 0 and out.stdout.startswith("ok: 7 feed(s)")


def test_check_reports_errors_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example.org/rss\n    interval: sometimes\n", encoding="utf-8")
    out = monitor("feeds", "check", str(path))
    assert out.returncode == 2
    assert out.stderr.splitlines()[0].startswith(f"{path}:3: 'interval' must be a duration")
    assert "Traceback" not in out.stderr


def test_check_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    out = monitor("feeds", "check", str(tmp_path / "none.yaml"))
    assert out.returncode == 2 and "cannot read file" in out.stderr and "Traceback" not in out.stderr


def test_poll_shows_entries_new_and_extracted_length(server: HttpServer) -> None:
    out = monitor("feeds", "poll", "--allow-private", server.url("/feed.xml"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "5 entries, 5 new, HTTP 200"
    assert all(line.startswith("new ") and " page " in line for line in lines[:-1])
    records = [
        json.loads(x)
        for x in monitor(
            "feeds", "poll", "--allow-private", "--format", "json", server.url("/feed.xml")
        ).stdout.splitlines()
    ]
    assert len(records) == 5 and all(r["content_from"] == "page" and r["chars"] > 1000 for r in records)


def test_poll_refuses_private_addresses_unless_allowed(server: HttpServer) -> None:
    out = monitor("feeds", "poll", server.url("/feed.xml"))
    assert out.returncode == 1
    assert out.stderr.splitlines()[-1].startswith(f"error: {server.url('/feed.xml')}: refused")
    assert "Traceback" not in out.stderr


def test_allow_private_opens_the_feeds_own_host_and_port_only(server: HttpServer) -> None:
    with HttpServer() as other:
        internal = other.route("/internal.html", Reply(200, {"Content-Type": "text/html"}, b"<html>secret</html>"))
        item = Item("A link elsewhere", internal, "The entry's own summary.", guid="elsewhere")
        url = server.route("/elsewhere.xml", Reply(200, RSS, rss([item]).encode()))
        out = monitor("feeds", "poll", "--allow-private", url)
        assert other.seen("/internal.html") == []
    assert out.returncode == 0, out.stderr
    assert " summary " in out.stdout.splitlines()[0]
    assert f"non-public address 127.0.0.1:{other.port}" in out.stderr


def test_poll_of_a_failing_feed_is_one_line(server: HttpServer) -> None:
    out = monitor("feeds", "poll", "--allow-private", server.url("/broken.xml"))
    assert out.returncode == 1 and out.stderr.splitlines() == [f"error: {server.url('/broken.xml')}: HTTP 500"]
    assert monitor("feeds", "poll", "not a url").returncode == 2


def test_poll_of_a_malformed_feed_warns_once(server: HttpServer) -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
    url = server.route("/malformed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, body))
    out = monitor("feeds", "poll", "--no-full-text", "--allow-private", url)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [f"warning: {url}: line 1: feed is not well-formed: no element found"]


def test_status_lists_each_feed_from_the_store(server: HttpServer, tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    feeds = [
        FeedConfig(url=server.url("/feed.xml"), name="Seeds", full_text=False),
        FeedConfig(url=server.url("/broken.xml"), name="Broken", full_text=False),
    ]

    async def run() -> None:
        http = HttpSettings(allow_networks=("127.0.0.0/8",))
        async with Ingestor(feeds, SQLiteStore(db), IngestSettings(http=http), lambda d, a: None) as ingestor:
            await ingestor.poll_all()
            await ingestor.poll_all()

    asyncio.run(run())
    out = monitor("feeds", "status", "--store", f"sqlite:{db}")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["feed", "last", "success", "failures", "backoff", "per", "day", "last", "error"]
    broken = next(line for line in lines if line.startswith("Broken"))
    seeds = next(line for line in lines if line.startswith("Seeds"))
    assert "never" in broken and " 2 " in broken and "HTTP 500" in broken
    assert "never" not in seeds and seeds.split()[3] == "0"
    data = {
        r["name"]: r
        for r in map(
            json.loads, monitor("feeds", "status", "--store", f"sqlite:{db}", "--format", "json").stdout.splitlines()
        )
    }
    assert data["Broken"]["failures"] == 2 and data["Broken"]["backoff"] > 0
    assert data["Seeds"]["entries_per_day"] > 0 and data["Seeds"]["etag"] is None


def test_help_has_examples() -> None:
    out = monitor("feeds", "--help")
    assert out.returncode == 0 and "monitor feeds poll" in out.stdout


def test_status_with_the_feeds_file_lists_feeds_never_polled(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://example.org/rss\n    name: Quiet\n", encoding="utf-8")
    db = tmp_path / "monitor.db"
    SQLiteStore(db).close()
    out = monitor("feeds", "status", "--store", f"sqlite:{db}", "--feeds", str(feeds))
    assert out.returncode == 0, out.stderr
    quiet = next(line for line in out.stdout.splitlines() if line.startswith("Quiet"))
    assert quiet.split()[1:3] == ["never", "0"]


def test_status_never_shows_the_store_password(tmp_path: Path) -> None:
    from tests.servers import redis_server

    with redis_server(tmp_path / "redis") as url:
        redis.Redis.from_url(url).config_set("requirepass", "RedisPW9")
        out = monitor("feeds", "status", "--store", url.replace("redis://", "redis://:RedisPW9@"))
    assert out.returncode == 0, out.stderr
    assert "no feed has been polled yet (redis://:***@127.0.0.1:" in out.stdout
    assert "RedisPW9" not in out.stdout + out.stderr


def test_a_malformed_feed_url_is_one_line(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text('feeds:\n  - url: "http://[::1"\n', encoding="utf-8")
    checked = monitor("feeds", "check", str(feeds))
    assert checked.returncode == 2
    assert f"{feeds}:2: 'url' must be an http or https URL with a host" in checked.stderr
    polled = monitor("feeds", "poll", "http://[::1")
    assert polled.returncode != 0 and "Traceback" not in polled.stderr
    assert len(polled.stderr.strip().splitlines()) == 1, polled.stderr
