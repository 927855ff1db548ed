"""Fixtures for notify tests: the fake Slack, real stores (SQLite file, Redis), alerts to send."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from monitor.notify.alerts import Alert
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.slack import WebApiSink
from monitor.store import Store
from tests.fakeslack import FakeSlack, fake_slack

TOKEN = "xoxb-1234567890-0987654321-SeCrEtToKeNvAlUe"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack(TOKEN) as server:
        yield server


def make_alert(n: int = 1, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "alert_id": f"alert{n:04d}",
        "decision": "new",
        "rule_id": "lithium-supply",
        "rule_title": "Lithium supply shock",
        "severity": "high",
        "story_id": f"story{n:04d}",
        "doc_id": f"doc{n:04d}",
        "title": f"Mine {n} halts lithium output",
        "url": f"https://news.example/{n}?a=1&b=2",
        "source": "news.example",
        "published": 1_714_564_800.0,
        "snippet": "The lithium mine stopped output after a strike & a flood <update>.",
        "matched": ("lithium",),
        "highlights": ((4, 11),),
        "channels": ("#alerts",),
        "created": 1_714_564_900.0,
    }
    values.update(fields)
    return Alert(**values)


@pytest.fixture
def settings() -> NotifierSettings:
    """Fast settings for tests: no pacing wait, quick backoff."""
    return NotifierSettings(
        default_channel="#default",
        pace=0.0,
        burst_size=100,
        fold_interval=0.0,
        retry_initial=0.05,
        retry_max=0.2,
        consumer="test",
        poll_interval=0.05,
    )


@pytest.fixture
def notifier(store: Store, slack: FakeSlack, settings: NotifierSettings) -> Callable[..., Notifier]:
    def make(timeout: float = 5.0, **changes: Any) -> Notifier:
        return Notifier(store, WebApiSink(TOKEN, slack.url, timeout=timeout), replace(settings, **changes))

    return make
