"""The generic JSON webhook sink against a real HTTP server on 127.0.0.1: body, idempotency key, retries, timeouts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from monitor.notify.alerts import article_payload
from monitor.notify.base import DeliveryError, article_notice
from monitor.notify.outbox import Notifier, NotifierSettings
from monitor.notify.sinks import sink_from_env
from monitor.notify.slack import WebApiSink
from monitor.notify.webhook import JsonWebhookSink, idempotency_key
from monitor.store import SQLiteStore
from tests.notify.conftest import make_alert

SECRET_PATH = "/hooks/Sup3rS3cretP4th"


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A JSON endpoint: records every POST, answers from `replies` (status, headers, delay) then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    replies: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> tuple[int, dict[str, str], float]:
        with self.lock:
            return self.replies.pop(0) if self.replies else (200, {}, 0.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with made.lock:
                made.received.append(Received(time.monotonic(), dict(self.headers.items()), body))
            status, headers, delay = made.answer()
            time.sleep(delay)
            payload = b'{"error": "nope"}' if status >= 400 else b"{}"
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    made.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield made
    server.shutdown()
    server.server_close()


SETTINGS = NotifierSettings(default_channel="#default", pace=0.0, retry_initial=0.05, retry_max=0.2, consumer="t")


def test_each_article_is_one_post_with_its_rules_its_highlights_and_an_idempotency_key(
    receiver: Receiver, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "monitor.db")
    alerts = [
        make_alert(1, alert_id="dialogue-1", rule_id="dialogue", severity="medium", feed="Google News - Lithium"),
        make_alert(1, alert_id="envoy-1", rule_id="envoy", severity="critical"),
    ]
    store.outbox_add([article_payload(alerts)])
    Notifier(store, JsonWebhookSink(receiver.url), replace(SETTINGS, critical_mention="S0ONCALL")).drain()

    [post] = receiver.received
    body = post.body
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Idempotency-Key"] == body["id"] == idempotency_key("#alerts", ["envoy-1", "dialogue-1"])
    assert (body["kind"], body["channel"], body["mention"]) == ("alert", "#alerts", "S0ONCALL")
    assert body["alert_ids"] == ["envoy-1", "dialogue-1"]  # the highest severity first
    assert [(r["rule"], r["severity"], r["matched"]) for r in body["rules"]] == [
        ("envoy", "critical", ["lithium"]),
        ("dialogue", "medium", ["lithium"]),
    ]
    assert (body["source"], body["title"], body["url"]) == (
        "news.example",
        "Mine 1 halts lithium output",
        alerts[0].url,
    )
    [[start, end]] = body["highlights"]
    assert body["snippet"][start:end] == "lithium"
    assert store.outbox_depth()[0] == 0
    store.close()


def test_server_errors_are_retried_with_the_same_key_and_retry_after_is_honoured(receiver: Receiver) -> None:
    receiver.replies = [(503, {"Retry-After": "1"}, 0.0), (501, {}, 0.0)]  # any 5xx
    sink = JsonWebhookSink(receiver.url, backoff=0.05)
    [message] = sink.render(article_notice([make_alert(1)]))
    posted = sink.post("#alerts", message)
    assert posted.channel == "#alerts"
    first, second, third = receiver.received
    assert {r.headers["Idempotency-Key"] for r in receiver.received} == {first.body["id"]}
    assert second.at - first.at >= 0.95  # Retry-After: 1
    assert third.at - second.at < 0.9


def test_a_timeout_is_retryable_and_the_notifier_delivers_it_later_under_the_same_key(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.replies = [(200, {}, 1.5)]  # answers after the client stopped waiting
    store = SQLiteStore(tmp_path / "monitor.db")
    store.outbox_add([article_payload([make_alert(1)])])
    sink = JsonWebhookSink(receiver.url, timeout=0.5, attempts=1)
    with pytest.raises(DeliveryError) as raised:
        sink.post("#alerts", sink.render(article_notice([make_alert(1)]))[0])
    assert raised.value.retryable and "Timeout" in raised.value.reason
    Notifier(store, sink, SETTINGS).drain(timeout=10)
    keys = {r.headers["Idempotency-Key"] for r in receiver.received}
    assert len(receiver.received) == 2 and len(keys) == 1  # the receiver can drop the repeat by its key
    assert store.outbox_depth()[0] == 0 and store.dead_list() == []
    store.close()


def test_a_client_error_dead_letters_the_alert_and_never_shows_the_url(receiver: Receiver, tmp_path: Path) -> None:
    receiver.replies = [(400, {}, 0.0)]
    store = SQLiteStore(tmp_path / "monitor.db")
    store.outbox_add([article_payload([make_alert(1)])])
    sink = sink_from_env({"MONITOR_WEBHOOK_URL": receiver.url})
    assert isinstance(sink, JsonWebhookSink)
    with capture_logs() as logs:
        Notifier(store, sink, SETTINGS).drain()
    [letter] = store.dead_list()
    assert letter.reason == 'HTTP 400: {"error": "nope"}'
    assert len(receiver.received) == 1  # not retried: no retry can fix it
    assert "Sup3rS3cret" not in json.dumps(logs) + json.dumps(letter.payload) + letter.reason
    store.close()


def test_the_sink_the_environment_names(receiver: Receiver, tmp_path: Path) -> None:
    secret = tmp_path / "hook"
    secret.write_text(receiver.url + "\n", encoding="utf-8")
    from_file = sink_from_env({"MONITOR_WEBHOOK_URL_FILE": str(secret)})
    assert isinstance(from_file, JsonWebhookSink) and from_file.url == receiver.url
    both = sink_from_env({"MONITOR_WEBHOOK_URL": receiver.url, "SLACK_BOT_TOKEN": "xoxb-1-2-x"})
    assert isinstance(both, WebApiSink)  # Slack first
    assert sink_from_env({}) is None
