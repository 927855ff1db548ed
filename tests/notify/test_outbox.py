"""The notifier against the fake Slack and real stores: exactly once, in order, paced, folded, routed."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.notify.alerts import Alert, article_payload
from monitor.notify.base import DigestNotice, StoryCount, article_notice
from monitor.notify.blocks import article_message
from monitor.notify.outbox import Notifier, NotifierSettings, digest_key
from monitor.notify.receipts import delivery_key
from monitor.notify.slack import WebApiSink
from monitor.store import RedisStore, Store
from tests.fakeslack import FakeSlack, channel_id
from tests.notify.conftest import TOKEN, make_alert
from tests.servers import free_port, redis_server


def add(store: Store, *alerts: object) -> None:
    store.outbox_add([a.to_payload() for a in alerts])  # type: ignore[attr-defined]


def test_alert_is_posted_once_with_the_exact_request(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    alert = make_alert(1)
    add(store, alert)
    notifier().drain()

    [call] = slack.calls("chat.postMessage")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    expected = article_message(article_notice([alert]))
    assert call.body["channel"] == "#alerts"
    assert call.body["blocks"] == expected.blocks
    assert call.body["text"] == expected.text
    assert call.body["metadata"] == {"event_type": "monitor_alert", "event_payload": {"alert_id": "alert0001"}}
    assert "thread_ts" not in call.body
    [message] = slack.posted("#alerts")
    receipt = json.loads(store.receipt(delivery_key("alert0001", "#alerts")) or "{}")
    assert receipt["state"] == "posted" and receipt["ts"] == message.ts and receipt["channel"] == "CALERTS"
    assert store.outbox_depth()[0] == 0


def test_redelivered_alert_with_receipt_is_skipped(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    alert = make_alert(1)
    add(store, alert)
    notifier().drain()
    add(store, alert)  # the same alert again (a redelivery after the ack was lost)
    notifier().drain()
    assert len(slack.posted()) == 1
    assert len(slack.calls("chat.postMessage")) == 1


def test_followup_replies_in_thread_and_updates_the_parent_count(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    first = make_alert(1, language="en")
    second = make_alert(
        2, decision="follow-up", parent="alert0001", source="wire.example", story_id="story0001", language="fr"
    )
    third = make_alert(
        3, decision="follow-up", parent="alert0001", source="other.example", story_id="story0001", language="fr"
    )
    add(store, first, second, third)
    notifier().drain()

    parent, _reply1, _reply2 = slack.posted("#alerts")
    assert parent.thread_ts is None
    posts = slack.calls("chat.postMessage")
    assert posts[1].body["thread_ts"] == parent.ts and posts[2].body["thread_ts"] == parent.ts
    assert posts[1].body["channel"] == "CALERTS"  # replies go to the parent's channel id
    assert posts[1].body["blocks"] == article_message(article_notice([second], reply=True)).blocks
    updates = slack.calls("chat.update")
    assert [u.body["ts"] for u in updates] == [parent.ts, parent.ts]
    assert updates[-1].body["blocks"] == article_message(article_notice([first], story=StoryCount(3, 3, 2))).blocks
    assert "3 reports from 3 outlets, 2 languages" in json.dumps(parent.blocks, ensure_ascii=False)


def test_replicas_adding_follow_ups_at_once_keep_the_count(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, make_alert(1))
    notifier().drain()
    followups = [
        make_alert(n, decision="follow-up", parent="alert0001", source=f"outlet{n}.example", story_id="story0001")
        for n in range(2, 14)
    ]
    add(store, *followups)
    replicas = [notifier(consumer=f"replica-{i}", batch=3) for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda worker: worker.drain(), replicas))
    [parent] = [m for m in slack.posted("#alerts") if m.thread_ts is None]
    assert len(slack.posted("#alerts")) == 13
    # Every report counted once in the end, whichever replica redrew the message last.
    assert "13 reports from 13 outlets" in json.dumps(parent.blocks)


def test_timeout_after_slack_accepted_does_not_post_twice(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    slack.fail("chat.postMessage", delay=3)  # Slack takes the message but answers too late
    add(store, make_alert(1), make_alert(2))
    notifier(timeout=0.5).drain()

    assert [m.payload["alert_id"] for m in slack.posted()] == ["alert0001", "alert0002"]
    assert slack.calls("conversations.history")[0].body["include_all_metadata"] in ("1", "true", True)
    assert store.outbox_depth()[0] == 0


def test_server_error_is_retried_and_posted_once(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    slack.fail("chat.postMessage", status=500, times=2)
    add(store, make_alert(1))
    notifier().drain()
    assert len(slack.calls("chat.postMessage")) == 3
    assert len(slack.posted()) == 1


def test_rate_limit_waits_retry_after_and_drops_nothing(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    add(store, make_alert(1), make_alert(2))
    notifier().drain()
    calls = slack.calls("chat.postMessage")
    assert len(calls) == 3
    assert calls[1].at - calls[0].at >= 1.0  # slack-sdk slept Retry-After before trying again
    assert len(slack.posted()) == 2


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "channel_not_found", "is_archived"])
def test_permanent_error_dead_letters_the_alert_and_logs_once(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier], error: str
) -> None:
    slack.fail("chat.postMessage", error=error)
    add(store, make_alert(1), make_alert(2))
    with capture_logs() as logs:
        notifier().drain()
    [letter] = store.dead_list()
    assert letter.reason == error
    assert letter.payload["alert_id"] == "alert0001" and letter.payload["channels"] == ["#alerts"]
    assert [e["alert_id"] for e in logs if e["event"] == "alert.dead"] == ["alert0001"]
    assert [m.payload["alert_id"] for m in slack.posted()] == ["alert0002"]
    assert store.outbox_depth()[0] == 0


def test_slack_down_for_a_while_everything_arrives_in_order_per_channel(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    alerts = [make_alert(n, channels=("#a",) if n % 2 else ("#b",)) for n in range(1, 9)]
    slack.down()
    add(store, *alerts)
    worker = notifier()
    thread = threading.Thread(target=worker.drain)
    thread.start()
    slack.wait_for(lambda s: len(s.requests) >= 4)  # failing a while: 503s
    slack.stop()  # ... then not even listening: connections refused
    add(store, make_alert(9, channels=("#a",)))
    slack.start()
    slack.up()
    thread.join(30)
    assert not thread.is_alive()

    def ids(channel: str) -> list[str]:
        return [m.payload["alert_id"] for m in slack.posted(channel)]

    assert ids("#a") == ["alert0001", "alert0003", "alert0005", "alert0007", "alert0009"]
    assert ids("#b") == ["alert0002", "alert0004", "alert0006", "alert0008"]
    assert store.outbox_depth()[0] == 0 and store.dead_list() == []


def test_pending_alerts_of_a_dead_replica_are_claimed_by_another(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    from datetime import timedelta

    add(store, make_alert(1), make_alert(2))
    assert len(store.outbox_take("replica-that-died", 10, timedelta(seconds=60))) == 2
    notifier(consumer="survivor", claim_idle=timedelta(0)).drain()
    assert len(slack.posted()) == 2 and store.outbox_depth()[0] == 0


def test_pacing_is_per_channel_not_global(store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]) -> None:
    add(store, *[make_alert(n, channels=("#a",) if n <= 3 else ("#b",)) for n in range(1, 7)])
    notifier(pace=0.3).drain()
    for channel in ("#a", "#b"):
        times = [c.at for c in slack.calls("chat.postMessage") if c.body["channel"] == channel]
        assert len(times) == 3
        assert all(later - earlier >= 0.28 for earlier, later in itertools.pairwise(times))
    first_b = min(c.at for c in slack.calls("chat.postMessage") if c.body["channel"] == "#b")
    last_a = max(c.at for c in slack.calls("chat.postMessage") if c.body["channel"] == "#a")
    assert first_b < last_a  # the channels were served side by side


def test_burst_beyond_the_size_is_folded_into_one_summary_listing_every_alert(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, *[make_alert(n) for n in range(1, 11)], make_alert(11, channels=("#quiet",)))
    notifier(burst_size=3).drain()
    messages = slack.posted("#alerts")
    assert len(messages) == 4
    assert [m.payload["alert_id"] for m in messages[:3]] == ["alert0001", "alert0002", "alert0003"]
    summary = messages[3]
    assert summary.payload["alert_ids"] == [f"alert{n:04d}" for n in range(4, 11)]
    listing = json.dumps(summary.blocks)
    assert all(f"Mine {n} halts" in listing for n in range(4, 11))
    assert "7 more alerts" in summary.text
    assert len(slack.posted("#quiet")) == 1  # another channel's budget is its own
    assert store.outbox_depth()[0] == 0


def test_routing_default_channel_and_critical_mention(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, make_alert(1, channels=()), make_alert(2, severity="critical", channels=("#a", "#b")))
    notifier(critical_mention="S0ONCALL").drain()
    # Channels are delivered side by side, so the order of the calls across channels is free.
    calls = {c.body["metadata"]["event_payload"]["alert_id"]: c for c in slack.calls("chat.postMessage")}
    assert calls["alert0001"].body["channel"] == "#default"
    assert sorted(m.channel for m in slack.posted()) == sorted(channel_id(c) for c in ("#default", "#a", "#b"))
    critical = [m for m in slack.posted() if m.channel != channel_id("#default")]
    assert all("<!subteam^S0ONCALL>" in json.dumps(m.blocks) for m in critical)
    assert "subteam" not in json.dumps(slack.posted("#default")[0].blocks)


def test_digest_rule_gets_one_message_listing_the_period(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, *[make_alert(n, digest=3600.0, channels=("#digest",), created=time.time()) for n in range(1, 5)])
    worker = notifier()
    worker.drain()
    assert slack.posted() == [] and store.outbox_depth()[0] == 0  # kept for the digest, in the store
    assert worker.flush_digests() == 0  # the hour is not over
    assert worker.flush_digests(force=True) == 1
    [digest] = slack.posted("#digest")
    assert digest.payload["alert_ids"] == [f"alert{n:04d}" for n in range(1, 5)]
    assert "4 alerts in the last 1h" in json.dumps(digest.blocks)


def test_digest_posted_before_a_crash_is_found_not_posted_again(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, *[make_alert(n, digest=3600.0, channels=("#digest",), created=time.time()) for n in range(1, 3)])
    crashed = notifier()
    crashed.drain()
    # The crashed notifier recorded its intent and Slack accepted the digest; then the process died.
    [bucket] = store.digest_buckets()
    alerts = [Alert.from_payload(p) for p in store.digest_items(bucket).values()]
    [message] = crashed.sink.render(DigestNotice(tuple(sorted(alerts, key=lambda a: a.created)), 3600.0))
    store.save_receipt(digest_key(bucket, message.keys), json.dumps({"state": "posting"}))
    crashed.sink.post("#digest", message)
    assert len(slack.posted("#digest")) == 1

    restarted = notifier()
    assert restarted.flush_digests(force=True) == 1
    assert len(slack.posted("#digest")) == 1  # found in the channel's history, not posted again
    assert store.digest_buckets() == []


def test_two_replicas_adding_to_one_digest_lose_nothing(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add(store, *[make_alert(n, digest=3600.0, channels=("#digest",), created=time.time()) for n in range(1, 41)])
    first, second = notifier(consumer="replica-1"), notifier(consumer="replica-2")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda worker: worker.drain(), (first, second)))
    assert first.flush_digests(force=True) + second.flush_digests(force=True) == 1
    [digest] = slack.posted("#digest")
    assert sorted(digest.payload["alert_ids"]) == [f"alert{n:04d}" for n in range(1, 41)]


def test_notifier_killed_after_slack_accepted_before_ack_posts_once(redis_url: str, slack: FakeSlack) -> None:
    """A real notifier process, SIGKILLed while Slack holds its answer; the restarted one must not post again."""
    import os
    import signal
    import subprocess
    import sys
    import uuid

    from monitor.store import RedisStore

    prefix = f"kill{uuid.uuid4().hex[:8]}:"
    store = RedisStore(redis_url, prefix=prefix)
    add(store, make_alert(1), make_alert(2))
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url}

    def notifier_process(consumer: str) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "monitor", "alerts", "run", "--drain", "--store", redis_url]
        args += ["--prefix", prefix, "--consumer", consumer, "--pace", "0", "--claim-idle", "0", "--timeout", "30"]
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    slack.fail("chat.postMessage", delay=60)  # accepted at once, answered (much) later
    first = notifier_process("replica-1")
    slack.wait_for(lambda s: len(s.posted()) == 1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    slack.release()

    second = notifier_process("replica-2")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()
    assert [m.payload["alert_id"] for m in slack.posted()] == ["alert0001", "alert0002"]
    assert len(slack.calls("conversations.history")) == 1  # the uncertain one was looked up, not reposted
    assert store.outbox_depth()[0] == 0
    store.close()


def test_the_live_loop_outlives_a_redis_restart_and_delivers_after_it(
    tmp_path: Path, slack: FakeSlack, settings: NotifierSettings
) -> None:
    port = free_port()
    with redis_server(tmp_path / "before", port=port) as url:
        store = RedisStore(url, prefix="outage:")
        worker = Notifier(store, WebApiSink(TOKEN, slack.url), settings)
        add(store, make_alert(1))
        thread = threading.Thread(target=worker.run)
        with capture_logs() as logs:
            thread.start()
            slack.wait_for(lambda s: len(s.posted()) == 1)
    try:
        # Redis is gone: the loop fails, logs one line per attempt, and keeps going.
        with capture_logs() as logs:
            deadline = time.monotonic() + 60
            while not any(e["event"] == "notifier.failed" for e in logs) and time.monotonic() < deadline:
                time.sleep(0.05)
        failed = next(e for e in logs if e["event"] == "notifier.failed")
        assert failed["log_level"] == "error" and "redis store" in failed["error"] and thread.is_alive()
        # Back, and empty (no persistence): the outbox's consumer group is made again.
        with redis_server(tmp_path / "after", port=port):
            add(store, make_alert(2))
            slack.wait_for(lambda s: len(s.posted()) == 2)
    finally:
        worker.stop()
        thread.join(30)
    assert [m.payload["alert_id"] for m in slack.posted()] == ["alert0001", "alert0002"]


# One message per article and channel -----------------------------------------------------------


def add_article(store: Store, *alerts: Alert) -> None:
    store.outbox_add([article_payload(alerts)])


def rule_alert(n: int, rule: str, severity: str = "high", **fields: object) -> Alert:
    """Rule `rule`'s alert for article n."""
    return make_alert(n, alert_id=f"{rule}-{n}", rule_id=rule, rule_title=rule.title(), severity=severity, **fields)


def test_an_article_matching_two_rules_is_one_message_per_channel_listing_both(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    low = rule_alert(1, "dialogue", "low", channels=("#a",))
    high = rule_alert(1, "envoy", "high", channels=("#a", "#b"))
    add_article(store, low, high)
    notifier().drain()
    [in_a], [in_b] = slack.posted("#a"), slack.posted("#b")
    assert in_a.payload["alert_ids"] == ["envoy-1", "dialogue-1"]  # the highest severity first
    assert "`envoy`" in json.dumps(in_a.blocks) and "`dialogue`" in json.dumps(in_a.blocks)
    assert in_b.payload["alert_id"] == "envoy-1"  # #b gets only the rule routed there
    for alert_id in ("envoy-1", "dialogue-1"):
        receipt = json.loads(store.receipt(delivery_key(alert_id, "#a")) or "{}")
        assert receipt["state"] == "posted" and receipt["ts"] == in_a.ts
    add_article(store, low, high)  # redelivered
    notifier().drain()
    assert len(slack.posted()) == 2


def test_follow_ups_of_a_two_rule_story_are_one_reply_and_the_first_message_keeps_both_rules(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    first = [rule_alert(1, "envoy"), rule_alert(1, "dialogue", "medium")]
    later = [
        rule_alert(2, rule, severity, decision="follow-up", parent=f"{rule}-1", source="wire.example")
        for rule, severity in (("envoy", "high"), ("dialogue", "medium"))
    ]
    add_article(store, *first)
    add_article(store, *later)
    notifier().drain()
    parent, reply = slack.posted("#alerts")
    assert reply.thread_ts == parent.ts and reply.payload["alert_ids"] == ["envoy-2", "dialogue-2"]
    [update] = slack.calls("chat.update")
    # One more article (two rules, two alert ids): two reports, not three.
    assert update.body["blocks"] == article_message(article_notice(first, story=StoryCount(2, 2, 0))).blocks
    assert "2 reports from 2 outlets" in json.dumps(parent.blocks) and "`dialogue`" in json.dumps(parent.blocks)


def test_a_new_rule_and_a_follow_up_of_one_article_go_to_the_top_level_and_to_the_thread(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    add_article(store, rule_alert(1, "envoy"))
    followup = rule_alert(2, "envoy", decision="follow-up", parent="envoy-1", source="wire.example")
    add_article(store, followup, rule_alert(2, "assets", "critical"))
    notifier(critical_mention="S0ONCALL").drain()
    parent, *rest = slack.posted("#alerts")
    [reply] = [m for m in rest if m.thread_ts == parent.ts]
    [top] = [m for m in rest if m.thread_ts is None]
    assert reply.payload["alert_id"] == "envoy-2" and top.payload["alert_id"] == "assets-2"
    assert "<!subteam^S0ONCALL>" in json.dumps(top.blocks) and "subteam" not in json.dumps(reply.blocks)


def test_a_two_rule_message_whose_answer_was_lost_is_found_not_posted_again(
    store: Store, slack: FakeSlack, notifier: Callable[..., Notifier]
) -> None:
    slack.fail("chat.postMessage", delay=3)  # Slack takes the message but answers too late
    add_article(store, rule_alert(1, "envoy"), rule_alert(1, "dialogue", "medium"))
    notifier(timeout=0.5).drain()
    [message] = slack.posted()
    assert message.payload["alert_ids"] == ["envoy-1", "dialogue-1"]
    assert len(slack.calls("conversations.history")) == 1
    assert store.outbox_depth()[0] == 0
