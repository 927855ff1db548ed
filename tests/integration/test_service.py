"""`monitor run` end to end: real processes, a real redis-server, a feed server and the fake Slack on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.ingest.scheduler import LEASE_SHARE
from tests.conftest import ROOT, SEEDS
from tests.fakeslack import FakeSlack, Message, channel_id, fake_slack
from tests.httpserver import HttpServer, Item, Reply, rss, seed_items, seed_page
from tests.servers import free_port

INTERVAL = 2  # seconds between polls of each test feed
TOKEN = "xoxb-e2e-test-token"
BOILERPLATE = (
    "Subscribe to our newsletter for the day's top stories. Cookies help us deliver our services; "
    "by using them you agree to our use of cookies. Related: markets, weather, sport."
)


@dataclass
class World:
    """Everything one service run talks to, and the files it reads."""

    tmp: Path
    feeds: HttpServer
    slack: FakeSlack
    redis_url: str
    config: Path
    rules: Path
    items_a: list[Item]
    items_b: list[Item] = field(default_factory=list)
    metrics_port: int = 0

    def publish(self) -> None:
        self.feeds.route("/a.xml", Reply(body=rss(self.items_a, "Feed A").encode(), headers=RSS))
        self.feeds.route("/b.xml", Reply(body=rss(self.items_b, "Feed B").encode(), headers=RSS))

    def add_article(self, feed: str, slug: str, title: str, paragraphs: list[str], delay: float = 0.0) -> None:
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        page = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{html}</article></body></html>"
        self.feeds.route(f"/articles/{slug}.html", Reply(body=page.encode(), headers=HTML, delay=delay))
        item = Item(title, self.feeds.url(f"/articles/{slug}.html"), paragraphs[0], guid=slug)
        (self.items_a if feed == "a" else self.items_b).append(item)
        self.publish()


RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


class Running:
    """A `monitor run` subprocess, its logs in a file."""

    def __init__(self, world: World, name: str, config: Path | None = None) -> None:
        self.log_path = world.tmp / f"{name}.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": world.slack.url,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("REDIS_URL", None)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run", "--config", str(config or world.config)],
                cwd=world.tmp,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def events(self) -> list[dict[str, object]]:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for_event(self, name: str, timeout: float = 30) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if e.get("event") == name]
            if found:
                return found[-1]
            assert self.process.poll() is None, self.log_path.read_text()
            time.sleep(0.1)
        raise AssertionError(f"no {name} event in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def world(tmp_path: Path, redis_url: str) -> Iterator[World]:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    # Route one rule to a channel of its own, as an operator would.
    envoy = rules / "eu-special-envoy.yaml"
    envoy.write_text(envoy.read_text().replace("alert:\n", 'alert:\n  channels: ["#eu-desk"]\n'), encoding="utf-8")
    with HttpServer() as feeds, fake_slack(TOKEN) as slack:
        base = feeds.url("").rstrip("/")
        items = seed_items(base, SEEDS)
        for path in sorted(SEEDS.glob("*.txt")):
            feeds.route(f"/articles/{path.stem}.html", Reply(body=seed_page(path), headers=HTML))
        (tmp_path / "feeds.yaml").write_text(
            f"defaults:\n  interval: {INTERVAL}s\nfeeds:\n"
            f"  - url: {base}/a.xml\n    name: Feed A\n"
            f"  - url: {base}/b.xml\n    name: Feed B\n",
            encoding="utf-8",
        )
        metrics_port = free_port()
        config = tmp_path / "monitor.yaml"
        config.write_text(
            f"rules: rules\nfeeds: feeds.yaml\nstore: {redis_url}\nstore_prefix: 'e2e-{uuid.uuid4().hex[:8]}:'\n"
            "slack:\n  default_channel: '#news'\n  pace: 0.05\n"
            # The five seeds as five stories (the event layer joins 000 and 001: tests/test_stories.py).
            "stories:\n  grouper: copies\n"
            f"metrics:\n  listen: 127.0.0.1:{metrics_port}\n"
            "http:\n  allow_networks: ['127.0.0.0/8']\nshutdown_grace: 10s\n",
            encoding="utf-8",
        )
        made = World(tmp_path, feeds, slack, redis_url, config, rules, items, metrics_port=metrics_port)
        made.publish()
        yield made


def top_level(slack: FakeSlack, channel: str) -> list[Message]:
    return [m for m in slack.posted(channel) if m.thread_ts is None]


def replies_to(slack: FakeSlack, parent: Message) -> list[Message]:
    return [m for m in slack.posted() if m.thread_ts == parent.ts and m.channel == parent.channel]


def mentions(message: Message, text: str) -> bool:
    return text in message.text or text in json.dumps(message.blocks)


def test_the_service_alerts_threads_reloads_and_stops_cleanly(world: World) -> None:
    slack = world.slack
    service = Running(world, "first")
    try:
        # The seed rules: every seed is about Macron, Putin and dialogue; 003 and 004 about an EU envoy;
        # 000 and 001 also about frozen assets: one message per article and channel, listing its rules.
        slack.wait_for(lambda s: len(top_level(s, "#news")) == 5 and len(top_level(s, "#eu-desk")) == 2, 60)
        news, desk = top_level(slack, "#news"), top_level(slack, "#eu-desk")
        assert all(mentions(m, "macron-putin-dialogue") for m in news)
        assert sum(mentions(m, "frozen-russian-assets") for m in news) == 2
        assert all(mentions(m, "eu-special-envoy") for m in desk)
        post = slack.calls("chat.postMessage")[0]
        assert post.headers["Authorization"] == f"Bearer {TOKEN}"

        # /readyz: the store answers and the scheduler runs.
        with urllib.request.urlopen(f"http://127.0.0.1:{world.metrics_port}/readyz", timeout=5) as ready:
            assert ready.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{world.metrics_port}/metrics", timeout=5) as metrics:
            assert 'monitor_alerts_total{decision="new"} 9.0' in metrics.read().decode()

        # A syndicated copy of 003 (another headline, another site's boilerplate) in feed B joins its thread.
        seed = (SEEDS / "003_cc65a377a44d1016.txt").read_text(encoding="utf-8").splitlines()
        body = [line for line in seed[2:] if line.strip()]
        world.add_article("b", "copy-003", "Paris and Rome want an EU voice in Moscow", [*body, BOILERPLATE])
        parent = next(m for m in desk if mentions(m, "France Urges EU") or mentions(m, "date 2026-02-02"))
        slack.wait_for(lambda s: len(replies_to(s, parent)) == 1, 30)
        assert len(top_level(slack, "#eu-desk")) == 2

        # A new article appears in feed A: its alert within two poll intervals (plus a margin for the work).
        published = time.monotonic()
        world.add_article(
            "a",
            "new-envoy",
            "EU names a special envoy for Russia",
            [
                "The European Union will appoint a special envoy to Russia, officials in Brussels said, "
                "as Macron pressed for dialogue with Putin over the war in Ukraine and the Kremlin signalled "
                "it was ready for talks.",
            ],
        )
        slack.wait_for(lambda s: len(top_level(s, "#eu-desk")) == 3, 30)
        assert time.monotonic() - published < 2 * INTERVAL + 6

        # A rules file broken while running is rejected; the old rules keep working.
        rule_file = world.rules / "macron-putin-dialogue.yaml"
        good_rule = rule_file.read_text(encoding="utf-8")
        rule_file.write_text("id: [broken\n", encoding="utf-8")
        service.wait_for_event("rules.kept", timeout=30)
        world.add_article(
            "a",
            "after-break",
            "Macron and Putin hold talks",
            ["Emmanuel Macron held talks with Vladimir Putin by phone on Tuesday, the Elysee said, a rare dialogue."],
        )
        slack.wait_for(lambda s: any(mentions(m, "Macron and Putin hold talks") for m in top_level(s, "#news")), 30)

        # Mended (with a note added), it is loaded again, and only it is read again.
        rule_file.write_text(good_rule + "# mended\n", encoding="utf-8")
        loaded = len([e for e in service.events() if e.get("event") == "rules.loaded"])
        deadline = time.monotonic() + 30
        while len([e for e in service.events() if e.get("event") == "rules.loaded"]) == loaded:
            assert time.monotonic() < deadline, "the mended rules were not loaded"
            time.sleep(0.1)
        reloaded = service.wait_for_event("rules.loaded")
        assert reloaded["files_read"] == 1 and reloaded["rules"] == 3

        assert service.stop() == 0
        assert service.wait_for_event("service.stopped")["reason"] == "signal"
    finally:
        service.kill()

    # A restart sends nothing twice.
    posted = len(slack.posted())
    restarted = Running(world, "restarted")
    try:
        restarted.wait_for_event("service.started")
        time.sleep(3 * INTERVAL)
        assert len(slack.posted()) == posted
        assert restarted.stop() == 0
    finally:
        restarted.kill()


def test_a_stop_during_a_poll_lets_it_finish_and_loses_nothing(world: World) -> None:
    slack = world.slack
    first = Running(world, "first")
    try:
        slack.wait_for(lambda s: len(top_level(s, "#eu-desk")) == 2, 60)
        # The article page answers slowly: the stop arrives while the poll that found it is still running.
        envoy = (
            "The European Union will appoint a special envoy to Russia, officials in Brussels said, as Macron "
            "pressed for dialogue with Putin over the war in Ukraine and the Kremlin signalled it was ready for talks."
        )
        world.add_article("a", "slow-envoy", "EU names a special envoy for Russia", [envoy], delay=3.0)
        deadline = time.monotonic() + 30
        while not any(r.path == "/articles/slow-envoy.html" for r in world.feeds.requests):
            assert time.monotonic() < deadline, "the slow page was never fetched"
            time.sleep(0.05)
        assert first.stop() == 0
    finally:
        first.kill()
    # Its alert is in Slack, or in the shared outbox for the next replica to deliver.
    second = Running(world, "second")
    try:
        slack.wait_for(lambda s: len(top_level(s, "#eu-desk")) == 3, 30)
    finally:
        second.kill()
    assert sum(mentions(m, "slow-envoy") for m in top_level(slack, "#eu-desk")) == 1


def polls_by(replica: Running) -> list[object]:
    """The feeds `replica` polled, in order."""
    return [e.get("feed") for e in replica.events() if e.get("event") == "feed.polled"]


def test_two_replicas_share_the_feeds_and_post_each_alert_once(world: World) -> None:
    slack = world.slack
    # The second replica differs only in where it serves its metrics.
    second = world.tmp / "replica-2.yaml"
    second.write_text(world.config.read_text().replace(f":{world.metrics_port}", f":{free_port()}"), encoding="utf-8")
    replicas = [Running(world, "replica-1"), Running(world, "replica-2", second)]
    try:
        slack.wait_for(lambda s: len(top_level(s, "#news")) == 5 and len(top_level(s, "#eu-desk")) == 2, 60)
        window_start = len(world.feeds.seen("/a.xml"))
        started = time.monotonic()
        world.add_article(
            "a",
            "replicas",
            "Meloni and Macron want an EU special envoy",
            ["Macron and Meloni urged the EU to designate a special representative to Russia and resume dialogue "
             "with Putin, the Kremlin said it was open to talks."],
        )  # fmt: skip
        slack.wait_for(lambda s: len(top_level(s, "#eu-desk")) == 3, 30)
        time.sleep(4 * INTERVAL)
        polls = len(world.feeds.seen("/a.xml")) - window_start
        intervals = (time.monotonic() - started) / INTERVAL
        # Each feed is polled about once per interval between both replicas, not once per replica (2x):
        # a poll's lease keeps the feed for LEASE_SHARE of an interval, whoever's job fires next.
        assert polls <= intervals / LEASE_SHARE + 2, (polls, intervals)
        # Every article was posted once per channel: 6 in #news, 3 in #eu-desk, no copies.
        time.sleep(1)
        assert len(top_level(slack, "#eu-desk")) == 3
        assert len(top_level(slack, "#news")) == 6
        texts = [m.text for m in slack.posted() if m.thread_ts is None]
        assert len(texts) == len(set(texts))
        # Whoever's run comes first in an interval takes a feed's lease, so how the two share the polls
        # depends on how their schedules line up (one may win nearly every time). What holds: when one
        # stops, the other polls every feed within an interval or two.
        assert replicas[0].stop() == 0
        polled = len(polls_by(replicas[1]))
        deadline = time.monotonic() + 6 * INTERVAL
        while {"Feed A", "Feed B"} - set(polls_by(replicas[1])[polled:]):
            assert time.monotonic() < deadline, replicas[1].log_path.read_text()
            time.sleep(0.1)
        assert replicas[1].stop() == 0
    finally:
        for replica in replicas:
            replica.kill()


def test_no_config_starts_on_the_embedded_defaults_and_says_so(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "deploy").mkdir()
    with HttpServer() as feeds:
        (tmp_path / "deploy" / "feeds.example.yaml").write_text(
            f"feeds:\n  - url: {feeds.url('/none.xml')}\n", encoding="utf-8"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL", "MONITOR_"))}
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"],
            cwd=tmp_path,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(json.loads(line))
                if lines[-1]["event"] == "service.started":
                    break
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    events = {e["event"]: e for e in lines}
    assert events["service.starting"]["config"] == "none: embedded defaults"
    assert events["service.settings"]["store"] == "sqlite:monitor.db"
    assert events["service.settings"]["sink"] == "console"
    assert set(events["service.defaults"]["settings"]) == {"rules", "feeds", "store"}
    assert (tmp_path / "monitor.db").exists()
    assert channel_id("#news") == "CNEWS"


def test_redis_down_at_start_is_one_line_per_retry_until_stopped(world: World) -> None:
    # The same config, but Redis is not there (a closed port, and a password that must not be shown).
    down = world.tmp / "down.yaml"
    down.write_text(
        world.config.read_text().replace(world.redis_url, f"redis://:s3cret@127.0.0.1:{free_port()}/0"),
        encoding="utf-8",
    )
    service = Running(world, "redis-down", down)
    try:
        first = service.wait_for_event("store.unavailable", timeout=30)
        assert "redis store redis://:***@127.0.0.1" in str(first["error"])
        time.sleep(2)
        assert service.process.poll() is None  # waiting, not crash-looping
        assert service.stop() == 0
        log = service.log_path.read_text()
        assert "Traceback" not in log and "s3cret" not in log
    finally:
        service.kill()


def run_once(directory: Path, config: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`monitor run --once` in `directory` with the shipped rules and `config`, no Slack, no REDIS_URL."""
    shutil.copytree(ROOT / "rules", directory / "rules")
    (directory / "monitor.yaml").write_text(config, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_URL", "MONITOR_"))}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", "monitor.yaml", "--once"],
        cwd=directory,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


ONE_FEED = "rules: rules\nfeeds:\n  - url: http://127.0.0.1:9/feed.xml\nstore: sqlite:monitor.db\n"


def test_a_record_path_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "recorded").write_text("not a directory", encoding="utf-8")
    done = run_once(tmp_path, ONE_FEED + "record: recorded\n")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if "cannot_record" in x]
    assert line["directory"] == "recorded" and line["error"] == "File exists"


def test_a_store_url_that_cannot_work_is_one_line_and_exit_2_not_a_retry_loop(tmp_path: Path) -> None:
    done = run_once(tmp_path, ONE_FEED, REDIS_URL="redis+sentinel://:s3cret@127.0.0.1:1")  # no master name
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
    (line,) = [json.loads(x) for x in done.stderr.splitlines() if "store." in x]
    assert line["event"] == "store.invalid" and "name the master" in line["error"]


def test_the_rules_watcher_outlives_a_reload_that_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.service as service_module
    from monitor.config import load_config
    from monitor.service import RunOptions, Service

    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "monitor.yaml").write_text(ONE_FEED.replace("rules: rules", f"rules: {tmp_path / 'rules'}"))
    service = Service(load_config(tmp_path / "monitor.yaml", env={}), RunOptions())
    # The rules directory changes three times; scanning it fails the second time (a file removed mid-scan).
    scans = iter([("a",), ("b",), FileNotFoundError("rules/old.yaml"), ("c",)])

    def scan(directory: Path) -> object:
        found = next(scans, ("c",))
        if isinstance(found, Exception):
            raise found
        return found

    reloads: list[int] = []

    def reload_rules() -> bool:
        reloads.append(1)
        return True

    monkeypatch.setattr(service_module, "rules_signature", scan)
    monkeypatch.setattr(service_module, "RULES_CHECK_EVERY", 0.05)
    monkeypatch.setattr(service, "reload_rules", reload_rules)

    async def watch() -> None:
        task = asyncio.create_task(service._watch())
        while len(reloads) < 2 and not task.done():
            await asyncio.sleep(0.05)
        assert not task.done()
        task.cancel()

    with capture_logs() as logs:
        asyncio.run(asyncio.wait_for(watch(), 30))
    assert len(reloads) == 2  # "b", then "c" after the failed scan
    assert [e["error"] for e in logs if e["event"] == "service.reload_failed"] == ["rules/old.yaml"]
