"""Fixtures for feedback tests: the fake Slack with Socket Mode, real stores, alerts remembered by the pipeline."""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from monitor.document import Document
from monitor.feedback.actions import Feedback
from monitor.feedback.receiver import Receiver, ReceiverSettings
from monitor.feedback.remember import remembering
from monitor.notify.alerts import enqueue
from monitor.pipeline import Pipeline, Processed
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher
from monitor.store import RedisStore, Store
from tests.fakesocketmode import APP_TOKEN, FakeSlackApp, fake_slack_app

TOKEN = "xoxb-1234567890-0987654321-FeEdBaCkToKeN"
RULE = """\
id: lithium-supply
title: Lithium supply shock
when:
  all: [lithium, {any: [mine, output, supply]}]
alert:
  channels: ["#alerts", "C0RISK"]
"""


@pytest.fixture
def slack() -> Iterator[FakeSlackApp]:
    with fake_slack_app(TOKEN) as server:
        yield server


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    opened = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "lithium.yaml").write_text(RULE, encoding="utf-8")
    return Matcher(load_rules(directory).rules)


def article(n: int = 1) -> Document:
    text = f"Workers at lithium mine {n} walked out on Monday; output stopped and supply contracts are at risk."
    return Document(
        id=f"doc{n:04d}", title=f"Lithium mine {n} halts output", text=text, url=f"https://news.example/{n}"
    )


@pytest.fixture
def raise_alert(matcher: Matcher) -> Callable[..., Processed]:
    """raise_alert(store, n=1, keep=...) -> what the pipeline made of article n, its alerts remembered and queued."""

    def run(store: Store, n: int = 1, keep: timedelta = timedelta(days=30)) -> Processed:
        handoff = remembering(functools.partial(enqueue, store), store, "#default", keep)
        pipeline = Pipeline(matcher, store, handoff=handoff)
        return pipeline.process(article(n), attempt=f"attempt-{n}")

    return run


@pytest.fixture
def receivers(slack: FakeSlackApp) -> Iterator[Callable[..., Receiver]]:
    """receivers(store) -> a connected Receiver (each call another replica), all stopped at the end."""
    started: list[Receiver] = []

    def start(store: Store, connect: bool = True, **settings: float) -> Receiver:
        values: dict[str, float] = {"backoff_initial": 0.1, "backoff_max": 1.0, "ping_interval": 2.0}
        values.update(settings)
        receiver = Receiver(APP_TOKEN, TOKEN, Feedback(store), ReceiverSettings(api_url=slack.url, **values))
        opened = len(slack.sockets)
        receiver.start()
        started.append(receiver)
        if connect:
            assert receiver.wait_connected(10), "the receiver did not connect to the fake Socket Mode"
            # The client counts itself connected at the handshake's answer, before the fake's handler has
            # taken the socket (on a busy machine, a click sent then found no socket to go to).
            slack.wait_until(lambda s: len(s.sockets) > opened)
        return receiver

    yield start
    # In the background: the Socket Mode client takes up to its receive timeout (3 s) to let go of its threads.
    for receiver in started:
        threading.Thread(target=receiver.stop, daemon=True).start()
