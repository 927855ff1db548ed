"""The Slack sinks with the real slack-sdk against the fake Slack: requests, errors, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.notify.alerts import Alert
from monitor.notify.base import DeliveryError, article_notice
from monitor.notify.blocks import Message, article_message
from monitor.notify.sinks import sink_from_env
from monitor.notify.slack import WebApiSink, WebhookSink
from tests.fakeslack import FakeSlack
from tests.notify.conftest import TOKEN, make_alert


def message_of(alert: Alert) -> Message:
    return article_message(article_notice([alert]))


def test_post_sends_the_exact_request_and_returns_channel_and_ts(slack: FakeSlack) -> None:
    message = message_of(make_alert(1))
    posted = WebApiSink(TOKEN, slack.url).post("#alerts", message, thread_ts="123.000001")
    [call] = slack.requests
    assert (call.api, call.http_method, call.headers["Authorization"]) == (
        "chat.postMessage",
        "POST",
        f"Bearer {TOKEN}",
    )
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.body["channel"] == "#alerts" and call.body["thread_ts"] == "123.000001"
    assert call.body["blocks"] == message.blocks and call.body["text"] == message.text
    assert call.body["unfurl_links"] is False
    assert posted.channel == "CALERTS" and posted.ts == slack.posted()[0].ts


def test_find_looks_up_messages_by_alert_id_in_metadata(slack: FakeSlack) -> None:
    sink = WebApiSink(TOKEN, slack.url)
    posted = sink.post("#alerts", message_of(make_alert(1)))
    sink.post("#alerts", message_of(make_alert(2)))
    assert sink.find("CALERTS", ["alert0001", "nope"]) == {"alert0001": posted}
    assert sink.find("CALERTS", ["alert0001"], thread_ts=posted.ts) == {"alert0001": posted}


def test_rate_limit_is_waited_out_inside_slack_sdk(slack: FakeSlack) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    WebApiSink(TOKEN, slack.url).post("#alerts", message_of(make_alert(1)))
    first, second = slack.calls("chat.postMessage")
    assert second.at - first.at >= 1.0
    assert len(slack.posted()) == 1


def test_server_error_and_timeout_are_retryable(slack: FakeSlack) -> None:
    sink = WebApiSink(TOKEN, slack.url, timeout=0.3)
    slack.fail("chat.postMessage", status=500)
    with pytest.raises(DeliveryError) as server_error:
        sink.post("#alerts", message_of(make_alert(1)))
    assert server_error.value.retryable and "HTTP 500" in server_error.value.reason
    slack.fail("chat.postMessage", delay=2)
    with pytest.raises(DeliveryError) as timeout:
        sink.post("#alerts", message_of(make_alert(1)))
    assert timeout.value.retryable and "timed out" in timeout.value.reason.lower()


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "channel_not_found", "is_archived"])
def test_permanent_errors_are_not_retryable(slack: FakeSlack, error: str) -> None:
    slack.fail("chat.postMessage", error=error)
    with pytest.raises(DeliveryError) as caught:
        WebApiSink(TOKEN, slack.url).post("#alerts", message_of(make_alert(1)))
    assert caught.value.reason == error and not caught.value.retryable
    assert str(caught.value) == f"slack chat.postMessage to #alerts: {error}"


def test_real_auth_and_channel_errors_come_from_the_wire(slack: FakeSlack) -> None:
    slack.missing.add("#gone")
    with pytest.raises(DeliveryError, match="invalid_auth"):
        WebApiSink("xoxb-wrong-token", slack.url).post("#alerts", message_of(make_alert(1)))
    with pytest.raises(DeliveryError, match="channel_not_found"):
        WebApiSink(TOKEN, slack.url).post("#gone", message_of(make_alert(1)))


def test_webhook_posts_blocks_without_thread_and_keeps_its_url_secret(slack: FakeSlack) -> None:
    message = message_of(make_alert(1))
    WebhookSink(slack.webhook_url).post("#ignored", message, thread_ts="1.2")
    [call] = slack.requests
    assert call.api == "webhook" and call.path == "/services/T000/B000/webhooksecret"
    assert call.body["blocks"] == message.blocks and "thread_ts" not in call.body
    slack.stop()
    with pytest.raises(DeliveryError) as caught:
        WebhookSink(slack.webhook_url, timeout=0.5).post("#ignored", message)
    assert caught.value.retryable and "webhooksecret" not in str(caught.value)


def test_webhook_errors_are_one_line_whatever_answers(slack: FakeSlack) -> None:
    message = message_of(make_alert(1))
    head = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    page = head + "<p>upstream down</p>\n" * 50 + "</body></html>"
    slack.fail("webhook", status=502, body=page)
    with pytest.raises(DeliveryError) as caught:
        WebhookSink(slack.webhook_url, rate_limit_retries=0).post("#ignored", message)
    error = str(caught.value)
    assert caught.value.retryable and "\n" not in error and len(error) < 200
    assert error.startswith("slack webhook to #ignored: HTTP 502: <html> <head><title>502 Bad Gateway</title>")
    slack.fail("webhook", status=404, body="no_service\n")
    with pytest.raises(DeliveryError) as caught:
        WebhookSink(slack.webhook_url).post("#ignored", message)
    assert caught.value.reason == "no_service" and not caught.value.retryable


def test_sink_from_env_reads_tokens_from_env_or_file(slack: FakeSlack, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    sink = sink_from_env({"SLACK_BOT_TOKEN_FILE": str(secret), "SLACK_API_URL": slack.url})
    assert isinstance(sink, WebApiSink)
    sink.post("#alerts", message_of(make_alert(1)))
    assert slack.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert isinstance(sink_from_env({"SLACK_WEBHOOK_URL": slack.webhook_url}), WebhookSink)
    assert sink_from_env({}) is None
