"""The whole loop with the real CLI: `monitor run` posts, a subscriber rejects and snoozes from Slack,
the analyst exports the rejections, sees the rule test fail, fixes the rule and sees it pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.feedback.buttons import Action
from monitor.store import SQLiteStore
from tests.fakeslack import Message
from tests.fakesocketmode import APP_TOKEN, FakeSlackApp, fake_slack_app
from tests.feedback.conftest import RULE as BASE_RULE
from tests.httpserver import HttpServer, Item, Reply, rss
from tests.servers import free_port

TOKEN = "xoxb-loop-test-token"
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
RULE = BASE_RULE.replace('["#alerts", "C0RISK"]', '["#alerts"]')
FIXED_RULE = RULE.replace("when:\n", "when:\n  not: grease\n")
OTHER_RULE = """\
id: winter-cycling
title: Winter cycling
when:
  all: [winter, tyres]
alert:
  channels: ["#cycling"]
"""
ARTICLES = {
    "mine-strike": (
        "Strike halts output at Chile's largest lithium mine",
        [
            "Workers at the Atacama lithium mine walked out on Monday, halting output at the site that "
            "supplies a fifth of the world's battery-grade lithium.",
            "Battery makers in Asia said their supply contracts for the coming quarter were now at risk, "
            "and spot prices for lithium carbonate rose by nine percent in Shanghai trading.",
            "The union said the strike would last until the mine's owner agreed to talks on pay and safety.",
        ],
    ),
    "chain-grease": (
        "Keep your bicycle chain quiet this winter",
        [
            "A squeaking chain is the most common complaint of winter cyclists, and the fix is cheap: a dab "
            "of lithium grease on the pivots after every wet ride keeps the links moving freely.",
            "Any bike supply shop stocks it; a small tube lasts a season. Wipe the chain first, then work the "
            "grease in while turning the pedals backwards.",
            "Riders who commute through snow should also rinse the salt off the frame once a week.",
        ],
    ),
    "mine-flood": (
        "Flooding shuts a second lithium mine in the Atacama",
        [
            "Heavy rain flooded the pits of a second lithium mine in northern Chile on Tuesday, cutting "
            "output further a day after the strike at its neighbour.",
            "Traders said supply for the battery industry would be tight until both sites reopened.",
        ],
    ),
    "winter-tyres": (
        "Studded tyres: are they worth it for a winter commute?",
        [
            "When the bike lanes ice over, studded winter tyres turn a dangerous ride into a dull one, "
            "say commuters in Oslo and Helsinki who ride all year.",
            "A pair costs about as much as a month of bus tickets and lasts several winters; the studs are "
            "noisy on dry asphalt, so some riders keep a second wheel set.",
        ],
    ),
}


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    ).encode()


class Project:
    """An analyst's working directory: rules, feeds, config, the store file, and the commands they run."""

    def __init__(self, root: Path, feeds: HttpServer, slack: FakeSlackApp) -> None:
        self.root = root
        self.slack = slack
        self.store = f"sqlite:{root / 'monitor.db'}"
        (root / "rules").mkdir()
        (root / "rules" / "lithium-supply.yaml").write_text(RULE, encoding="utf-8")
        (root / "rules" / "winter-cycling.yaml").write_text(OTHER_RULE, encoding="utf-8")
        self.feeds = feeds
        self.items: list[Item] = []
        (root / "feeds.yaml").write_text(
            f"defaults:\n  interval: 2s\nfeeds:\n  - url: {feeds.url('/feed.xml')}\n    name: Test feed\n",
            encoding="utf-8",
        )
        (root / "monitor.yaml").write_text(
            f"rules: rules\nfeeds: feeds.yaml\nstore: {self.store}\nslack:\n  default_channel: '#news'\n"
            f"  pace: 0.05\nmetrics:\n  listen: 127.0.0.1:{free_port()}\nhttp:\n  allow_networks: ['127.0.0.0/8']\n"
            "shutdown_grace: 10s\n",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.url,
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("REDIS_URL", None)

    def publish(self, slug: str) -> None:
        title, paragraphs = ARTICLES[slug]
        self.feeds.route(f"/articles/{slug}.html", Reply(body=page(title, paragraphs), headers=HTML))
        self.items.append(Item(title, self.feeds.url(f"/articles/{slug}.html"), paragraphs[0], guid=slug))
        self.feeds.route("/feed.xml", Reply(body=rss(self.items).encode(), headers=RSS))

    def monitor(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with HttpServer() as feeds, fake_slack_app(TOKEN) as slack:
        yield Project(tmp_path, feeds, slack)


def alerts_in(slack: FakeSlackApp, channel: str) -> list[Message]:
    return [m for m in slack.posted(channel) if m.thread_ts is None]


def controls(message: Message) -> list[dict[str, Any]]:
    """The feedback row of an alert message: Not relevant, Mute this story, Snooze this rule."""
    (row,) = [block for block in message.blocks or [] if block["type"] == "actions"]
    assert [e["action_id"] for e in row["elements"]] == [Action.NOT_RELEVANT, Action.MUTE, Action.SNOOZE]
    elements: list[dict[str, Any]] = row["elements"]
    return elements


def titled(slack: FakeSlackApp, words: str) -> Message:
    return next(m for m in alerts_in(slack, "#alerts") if words in m.text)


def test_rejections_from_slack_become_a_rule_test_that_fails_then_passes(project: Project) -> None:
    slack = project.slack
    project.publish("mine-strike")
    project.publish("chain-grease")
    log = (project.root / "run.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", "monitor.yaml"],
        cwd=project.root,
        env=project.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def wait(condition: Callable[[FakeSlackApp], bool], timeout: float = 60) -> None:
        slack.wait_until(lambda s: service.poll() is not None or condition(s), timeout)
        assert service.poll() is None, (project.root / "run.log").read_text()

    try:
        wait(lambda s: len(alerts_in(s, "#alerts")) == 2 and len(s.open_sockets) == 1, 90)
        grease, strike = titled(slack, "bicycle chain"), titled(slack, "Strike halts")

        # The subscriber clicks the alert's own buttons: this one is not about lithium supply; and the
        # rule is noisy today.
        not_relevant, _, _ = controls(grease)
        envelope = slack.click(not_relevant["action_id"], not_relevant["value"])
        assert slack.wait_acked(envelope) < 3.0
        assert "not relevant" in slack.wait_response(envelope).body["text"]
        _, _, snooze = controls(strike)
        envelope = slack.click(snooze["action_id"], snooze["options"][0]["value"], ("U0BOB", "bob"), option=True)
        assert "snoozed rule `lithium-supply`" in slack.wait_response(envelope).body["text"]
        project.publish("mine-flood")  # held in #alerts while the rule is snoozed there

        # Slack's socket goes away and cannot be reopened for a while: alerts keep coming meanwhile.
        slack.fail("apps.connections.open", status=500, times=2)
        slack.drop()
        wait(lambda s: not s.open_sockets, 10)
        project.publish("winter-tyres")
        wait(lambda s: len(alerts_in(s, "#cycling")) == 1)
        assert not slack.open_sockets or len(slack.sockets) > 1
        wait(lambda s: len(s.open_sockets) == 1)
        store = SQLiteStore(project.root / "monitor.db")
        try:
            deadline = time.monotonic() + 30
            while not any(snooze.held for snooze in store.snoozes()):  # the flood article, held
                assert time.monotonic() < deadline, (project.root / "run.log").read_text()
                time.sleep(0.2)
        finally:
            store.close()
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
        log.close()
    assert code == 0, (project.root / "run.log").read_text()

    snoozed = project.monitor("alerts", "snoozed", "--store", project.store)
    assert snoozed.returncode == 0, snoozed.stderr
    assert "rule lithium-supply\t#alerts" in snoozed.stdout and "by bob\theld 1" in snoozed.stdout
    assert not any("Flooding" in m.text for m in slack.posted())

    listed = project.monitor("rules", "feedback", "--store", project.store)
    assert listed.returncode == 0, listed.stderr
    assert "lithium-supply: 1 of 3 alert(s) marked not relevant (33%)" in listed.stdout
    assert "Keep your bicycle chain quiet" in listed.stdout and "alice" in listed.stdout

    exported = project.monitor("rules", "feedback", "export", "--store", project.store)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 1 case(s) to rules/tests/feedback.yaml" in exported.stdout
    test_file = project.root / "rules" / "tests" / "feedback.yaml"
    assert "alice" in test_file.read_text(encoding="utf-8")

    failing = project.monitor("rules", "test", str(test_file.relative_to(project.root)))
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "unexpected lithium-supply" in failing.stdout and "FAILED" in failing.stdout

    (project.root / "rules" / "lithium-supply.yaml").write_text(FIXED_RULE, encoding="utf-8")
    passing = project.monitor("rules", "test", str(test_file.relative_to(project.root)))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 cases: 1 passed, 0 failed: OK" in passing.stdout

    # The service's own log never shows the app token.
    assert APP_TOKEN not in (project.root / "run.log").read_text()
