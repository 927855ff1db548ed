"""Feedback where alerts are delivered: the buttons on Slack messages, and the hold stage of routing."""

from __future__ import annotations

import time
from typing import Any

from monitor.feedback.buttons import Action, ButtonValue, decode
from monitor.feedback.hold import HoldStage, hold_from_env
from monitor.notify.alerts import Alert, article_payload
from monitor.notify.base import article_notice
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.slack import WebApiSink, from_env
from monitor.store import Store
from monitor.store.feedback import Mute, Snooze
from tests.fakesocketmode import APP_TOKEN, FakeSlackApp
from tests.feedback.conftest import TOKEN
from tests.notify.conftest import make_alert

SETTINGS = NotifierSettings(default_channel="#default", pace=0.0, burst_size=100, consumer="test", retry_max=0.2)


def alert(n: int, **fields: Any) -> Alert:
    """An alert with an id of the shape the pipeline gives (hex), as the buttons carry."""
    return make_alert(n, **{"alert_id": aid(n), **fields})


def aid(n: int) -> str:
    return f"{n:020x}"


def actions(message: dict[str, Any] | Any) -> list[dict[str, Any]]:
    blocks = message["blocks"] if isinstance(message, dict) else message.blocks
    return [e for b in blocks or [] if b["type"] == "actions" for e in b["elements"]]


def test_with_an_app_token_every_article_message_carries_the_three_controls() -> None:
    sink = from_env({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, 5.0)
    assert isinstance(sink, WebApiSink) and sink.buttons
    (message,) = sink.render(article_notice([alert(1)]))
    not_relevant, mute, snooze = actions(message)
    assert (not_relevant["action_id"], decode(not_relevant["value"])) == (Action.NOT_RELEVANT, ButtonValue(aid(1)))
    assert (mute["action_id"], decode(mute["value"])) == (Action.MUTE, ButtonValue(aid(1)))
    assert snooze["action_id"] == Action.SNOOZE and snooze["type"] == "static_select"
    assert [decode(o["value"]) for o in snooze["options"]] == [
        ButtonValue(aid(1), seconds) for seconds in (3600, 86400, 604800)
    ]
    assert [o["text"]["text"] for o in snooze["options"]] == ["for 1 hour", "for 24 hours", "for a week"]


def test_an_article_of_several_rules_names_each_rule_in_the_menus() -> None:
    sink = WebApiSink(TOKEN, buttons=True)
    alerts = [alert(1), alert(2, rule_id="envoy", rule_title="EU envoy", doc_id="doc0001")]
    (message,) = sink.render(article_notice(alerts))
    not_relevant, _, snooze = actions(message)
    assert not_relevant["type"] == "static_select"
    assert [(o["text"]["text"], decode(o["value"])) for o in not_relevant["options"]] == [
        ("Lithium supply shock", ButtonValue(aid(1))),
        ("EU envoy", ButtonValue(aid(2))),
    ]
    assert len(snooze["options"]) == 6 and snooze["options"][3]["text"]["text"] == "EU envoy for 1 hour"


def test_without_an_app_token_alerts_carry_no_buttons_and_nothing_is_held(sqlite_store: Store) -> None:
    sink = from_env({"SLACK_BOT_TOKEN": TOKEN}, 5.0)
    assert isinstance(sink, WebApiSink) and not sink.buttons
    (message,) = sink.render(article_notice([alert(1)]))
    assert actions(message) == []
    assert hold_from_env({"SLACK_BOT_TOKEN": TOKEN}, sqlite_store) is None
    assert isinstance(hold_from_env({"SLACK_APP_TOKEN": APP_TOKEN}, sqlite_store), HoldStage)


def test_a_muted_story_and_a_snoozed_rule_are_held_in_their_channel_and_counted(
    store: Store, slack: FakeSlackApp
) -> None:
    now = time.time()
    store.set_mute(Mute("story0001", "#alerts", "U1", "alice", now, now + 3600))
    store.set_snooze(Snooze("envoy", "#desk", "U2", "bob", now, now + 3600))
    followup = alert(2, decision="follow-up", story_id="story0001", parent=aid(1))
    other_story = alert(3)
    envoy = alert(4, rule_id="envoy", rule_title="EU envoy", channels=("#desk", "#alerts"))
    store.outbox_add([article_payload([a]) for a in (followup, other_story, envoy)])
    notifier = Notifier(store, WebApiSink(TOKEN, slack.url, buttons=True), SETTINGS, hold=HoldStage(store))
    notifier.drain(timeout=10)
    posted = {(m.channel, m.payload.get("alert_id")) for m in slack.posted()}
    assert posted == {("CALERTS", aid(3)), ("CALERTS", aid(4))}  # the rest held, not lost:
    assert store.outbox_depth()[0] == 0
    assert [(m.story, m.held) for m in store.mutes()] == [("story0001", 1)]
    assert [(s.rule, s.channel, s.held) for s in store.snoozes()] == [("envoy", "#desk", 1)]

    store.lift_snooze("envoy", "#desk")
    store.outbox_add([article_payload([alert(5, rule_id="envoy", channels=("#desk",))])])
    notifier.drain(timeout=10)
    assert ("CDESK", aid(5)) in {(m.channel, m.payload.get("alert_id")) for m in slack.posted()}
