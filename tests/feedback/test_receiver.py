"""Clicks from Slack, through the real slack-bolt Socket Mode client, against the fake Socket Mode server."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from monitor.feedback.buttons import Action, ButtonValue
from monitor.feedback.receiver import Receiver
from monitor.metrics import REGISTRY
from monitor.pipeline import Processed
from monitor.store import RedisStore, Store
from tests.fakesocketmode import FakeSlackApp

RaiseAlert = Callable[..., Processed]
Receivers = Callable[..., Receiver]
ALICE = ("U0ALICE", "alice")
BOB = ("U0BOB", "bob")


def alert_id(processed: Processed) -> str:
    (decision,) = processed.decisions
    return decision.alert_id


def value(processed: Processed, seconds: int | None = None) -> str:
    return ButtonValue(alert_id(processed), seconds).encode()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def answer(slack: FakeSlackApp, envelope_id: str) -> dict[str, Any]:
    """The reply to one click, once it was acknowledged within Slack's 3 seconds."""
    assert slack.wait_acked(envelope_id) < 3.0
    response = slack.wait_response(envelope_id)
    assert response.at - slack.envelopes[envelope_id].sent < 3.0
    return response.body


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for block in body.get("blocks") or [] if block["type"] == "actions" for e in block["elements"]]


def nothing_changed(store: Store) -> bool:
    return store.marks() == [] and store.mutes() == [] and store.snoozes() == []


def test_a_subscriber_rejects_mutes_and_snoozes_from_slack(
    store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(store)
    receivers(store)
    marks_before = metric("monitor_feedback_marks_total", rule="lithium-supply")

    reply = answer(slack, slack.click(Action.NOT_RELEVANT, value(processed), ALICE, "#alerts"))
    assert reply["response_type"] == "ephemeral"
    assert "<@U0ALICE>" in reply["text"] and "not relevant" in reply["text"]
    assert [b["action_id"] for b in buttons(reply)] == [Action.RELEVANT]
    (mark,) = store.marks()
    assert (mark.rule, mark.channel, mark.by) == ("lithium-supply", "#alerts", {"U0ALICE": "alice"})
    assert mark.article["text"].startswith("Workers at lithium mine 1")
    assert mark.article["url"] == "https://news.example/1"
    assert metric("monitor_feedback_marks_total", rule="lithium-supply") == marks_before + 1

    reply = answer(slack, slack.click(Action.MUTE, value(processed), BOB, "C0RISK"))
    assert "<@U0BOB> muted this story" in reply["text"]
    story = processed.decisions[0].story_id
    assert store.hold("later-1", "lithium-supply", story, "C0RISK") == "muted"
    assert store.hold("later-2", "lithium-supply", story, "#alerts") is None  # muted where it was clicked only

    clicked_at = time.time()
    envelope = slack.click(Action.SNOOZE, value(processed, 3600), ALICE, "#alerts", option=True, action_ts=clicked_at)
    reply = answer(slack, envelope)
    assert "snoozed rule `lithium-supply`" in reply["text"] and "<!date^" in reply["text"]
    (snooze,) = store.snoozes()
    assert (snooze.rule, snooze.channel, snooze.by_name) == ("lithium-supply", "#alerts", "alice")
    assert snooze.until == pytest.approx(clicked_at + 3600, abs=0.01)
    assert store.hold("later-3", "lithium-supply", "another-story", "#alerts") == "snoozed"


def test_every_effect_can_be_undone_from_its_reply(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(sqlite_store)
    receivers(sqlite_store)
    for action, undo in ((Action.NOT_RELEVANT, Action.RELEVANT), (Action.MUTE, Action.UNMUTE)):
        (button,) = buttons(answer(slack, slack.click(action, value(processed), ALICE)))
        assert button["action_id"] == undo
        reply = answer(slack, slack.click(undo, button["value"], ALICE))
        assert reply["replace_original"] is True
    (button,) = buttons(answer(slack, slack.click(Action.SNOOZE, value(processed, 86400), ALICE, option=True)))
    assert sqlite_store.snoozes() != []
    answer(slack, slack.click(button["action_id"], button["value"], ALICE))
    assert nothing_changed(sqlite_store)


def test_a_click_delivered_twice_to_two_replicas_counts_once(
    redis_store: RedisStore, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(redis_store)
    # Two replicas, two bolt clients, one Redis: Slack may retry a click on the other connection.
    receivers(redis_store)
    receivers(redis_store)
    slack.wait_connected(2)
    first, second = slack.open_sockets[:2]
    applied = metric("monitor_feedback_actions_total", action="not_relevant", outcome="applied")
    repeated = metric("monitor_feedback_actions_total", action="not_relevant", outcome="repeated")
    at = time.time()
    for envelope_id, to in (("dup-1", first), ("dup-2", second)):
        payload = slack.block_actions(envelope_id, Action.NOT_RELEVANT, value(processed), ALICE, "#alerts", False, at)
        slack.send(envelope_id, payload, to)
    answer(slack, "dup-1")
    answer(slack, "dup-2")
    assert {slack.envelopes["dup-1"].connection, slack.envelopes["dup-2"].connection} == {first, second}
    (mark,) = redis_store.marks()
    assert mark.by == {"U0ALICE": "alice"}
    assert metric("monitor_feedback_actions_total", action="not_relevant", outcome="applied") == applied + 1
    assert metric("monitor_feedback_actions_total", action="not_relevant", outcome="repeated") == repeated + 1

    for to in (first, second):
        answer(slack, slack.click(Action.SNOOZE, value(processed, 3600), BOB, option=True, to=to, action_ts=at))
    (snooze,) = redis_store.snoozes()
    assert snooze.until == pytest.approx(at + 3600, abs=0.01)  # the repeat did not push the end further


FORGED: list[tuple[str, Callable[[Processed], str | None], str]] = [
    ("monitor.delete_everything", lambda p: value(p), "unknown action"),
    ("someone.elses_button", lambda p: value(p), "unknown action"),
    (Action.MUTE, lambda p: "v1:not-hex!", "not one of ours"),
    (Action.MUTE, lambda p: '{"alert_id": "x"}', "not one of ours"),
    (Action.SNOOZE, lambda p: value(p, 12), "not one of ours"),  # a duration we never offer
    (Action.SNOOZE, lambda p: value(p), "not one of ours"),  # a snooze with no duration
    (Action.MUTE, lambda p: ButtonValue("0123456789abcdef0123").encode(), "unknown"),  # no such alert
    (Action.NOT_RELEVANT, lambda p: None, "not one of ours"),
]


def test_a_forged_or_malformed_click_is_answered_with_an_error_and_changes_nothing(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(sqlite_store)
    receivers(sqlite_store)
    rejected = metric("monitor_feedback_actions_total", action="mute", outcome="rejected")
    for action_id, make_value, problem in FORGED:
        reply = answer(slack, slack.click(action_id, make_value(processed), ALICE))
        assert reply["response_type"] == "ephemeral", action_id
        assert reply["text"].startswith("⚠️") and problem in reply["text"], (action_id, reply["text"])
        assert "nothing was changed" in reply["text"]
    assert nothing_changed(sqlite_store)
    assert metric("monitor_feedback_actions_total", action="mute", outcome="rejected") == rejected + 3


def test_a_click_from_a_channel_the_alert_was_not_posted_in_changes_nothing(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(sqlite_store)
    receivers(sqlite_store)
    for action in (Action.MUTE, Action.NOT_RELEVANT):
        reply = answer(slack, slack.click(action, value(processed), ALICE, "#elsewhere"))
        assert "not posted in this channel" in reply["text"]
    assert nothing_changed(sqlite_store)


def test_a_click_on_an_alert_whose_story_ended_changes_nothing(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(sqlite_store, keep=timedelta(milliseconds=300))
    receivers(sqlite_store)
    time.sleep(0.5)
    reply = answer(slack, slack.click(Action.MUTE, value(processed), ALICE))
    assert "story has ended" in reply["text"]
    assert nothing_changed(sqlite_store)


def test_payloads_that_are_not_clicks_are_acknowledged_and_ignored(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    raise_alert(sqlite_store)
    receivers(sqlite_store)
    for payload in ({"type": "view_submission", "view": {}}, {"type": "shortcut"}, {}):
        envelope_id = slack.click("", None, raw_payload=payload)
        assert slack.wait_acked(envelope_id) < 3.0
    assert slack.responses == []
    assert nothing_changed(sqlite_store)


def test_a_dropped_connection_is_reopened_with_backoff(
    sqlite_store: Store, slack: FakeSlackApp, receivers: Receivers, raise_alert: RaiseAlert
) -> None:
    processed = raise_alert(sqlite_store)
    receiver = receivers(sqlite_store, backoff_initial=0.2, backoff_max=2.0)
    opened = len(slack.calls("apps.connections.open"))
    slack.fail("apps.connections.open", status=500, times=3)  # Slack down for a while
    slack.drop()
    slack.wait_until(lambda s: len(s.open_sockets) == 1 and len(s.sockets) == 2, timeout=20)
    assert receiver.wait_connected(5)
    attempts = [r.at for r in slack.calls("apps.connections.open")[opened:]]
    assert len(attempts) == 4  # three refused, then the one that connected
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.15 and gaps[2] > gaps[0] * 2  # 0.2 s, 0.4 s, 0.8 s (with jitter)
    reply = answer(slack, slack.click(Action.MUTE, value(processed), ALICE))
    assert "muted this story" in reply["text"]
