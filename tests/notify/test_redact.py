"""Secrets never reach logs or errors: the redaction processor, and the notifier's real log output."""

from __future__ import annotations

import io
import json
import logging
import threading
import time

import structlog

from monitor.logging import configure_logging
from monitor.notify.outbox import Notifier
from monitor.notify.sinks import sink_from_env
from monitor.notify.slack import WebhookSink
from monitor.redact import redact, redact_secrets
from monitor.store import Store, redact_url
from tests.fakeslack import FakeSlack
from tests.notify.conftest import TOKEN, make_alert

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def test_redact_masks_tokens_webhooks_and_url_passwords() -> None:
    text = f"token={TOKEN} app=xapp-1-A0-99-abc url={WEBHOOK} store=redis://user:hunter2@db:6379/0 ok"
    clean = redact(text)
    assert "SeCrEt" not in clean and "XXXXsecretXXXX" not in clean and "hunter2" not in clean
    assert "xoxb-***" in clean and "redis://user:***@db:6379/0" in clean and clean.endswith(" ok")
    assert redact("redis://:pw@localhost") == "redis://:***@localhost"


def test_processor_redacts_every_value_of_the_rendered_event() -> None:
    out = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.format_exc_info, redact_secrets, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(out),
    )
    try:
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            structlog.get_logger().error(
                "x.failed", url=WEBHOOK, nested={"list": [f"redis://:pw1234@h/0 {TOKEN}"]}, exc_info=True
            )
    finally:
        structlog.reset_defaults()
    line = out.getvalue()
    assert "SeCrEt" not in line and "XXXXsecretXXXX" not in line and "pw1234" not in line
    assert json.loads(line)["event"] == "x.failed"


def test_notifier_logs_and_dead_letters_never_hold_the_webhook_url(store: Store, slack: FakeSlack) -> None:
    out = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.format_exc_info, redact_secrets, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(out),
    )
    try:
        slack.fail("webhook", status=404, times=1)
        store.outbox_add([make_alert(1).to_payload()])
        sink = WebhookSink(slack.webhook_url)
        from monitor.notify.outbox import NotifierSettings

        Notifier(store, sink, NotifierSettings(pace=0, consumer="t")).drain()
    finally:
        structlog.reset_defaults()
    assert "webhooksecret" not in out.getvalue()
    assert all("webhooksecret" not in json.dumps(d.payload) + d.reason for d in store.dead_list())


def test_url_passwords_holding_unencoded_slash_hash_or_question_mark_are_masked_whole() -> None:
    for password in ("ab/cd3fgh", "Tr0ub4dor#3x", "who?knows"):
        url = f"redis://default:{password}@db.internal:6379/0"
        assert redact_url(url) == "redis://default:***@db.internal:6379/0"
        assert redact(f"store {url} is down") == "store redis://default:***@db.internal:6379/0 is down"
    assert redact_url("redis://db.internal:6379/0") == "redis://db.internal:6379/0"


def test_a_configured_webhook_on_any_host_is_masked_once_read_from_the_environment() -> None:
    webhook = "https://proxy.example.org/services/T000/B000/WHSECRET3"
    assert redact(f"posting to {webhook}") == f"posting to {webhook}"  # not a Slack host: no pattern knows it
    sink_from_env({"SLACK_WEBHOOK_URL": webhook})
    assert "WHSECRET3" not in redact(f"posting to {webhook}")


def test_the_libraries_own_log_records_are_rendered_and_masked_like_ours() -> None:
    out = io.StringIO()
    sink_from_env({"SLACK_BOT_TOKEN": "xoxb-123-libsecret"})
    configure_logging("info", json=True, stream=out)
    try:
        logging.getLogger("monitor.slack_sdk").warning("request to %s failed: xoxb-123-libsecret", WEBHOOK)
        logging.getLogger("httpx").info("HTTP Request: GET https://example.org/ 200 OK")  # below warning: dropped
    finally:
        root = logging.getLogger()
        root.handlers = [h for h in root.handlers if not isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)]
        structlog.reset_defaults()
    (line,) = out.getvalue().splitlines()
    event = json.loads(line)
    assert event["level"] == "warning" and event["logger"] == "monitor.slack_sdk"
    assert "libsecret" not in line and "XXXXsecretXXXX" not in line


class SlowStream(io.StringIO):
    """A stream whose writes take a moment (a pipe, a busy terminal): other threads run meanwhile."""

    def write(self, text: str) -> int:
        time.sleep(0.0005)
        return super().write(text)


def test_our_lines_and_the_libraries_written_from_many_threads_at_once_stay_one_json_object_each() -> None:
    out = SlowStream()
    configure_logging("info", json=True, stream=out)

    def write(n: int) -> None:
        for i in range(50):
            if n % 2:
                structlog.get_logger("monitor.test").info("ours", n=n, i=i)
            else:
                logging.getLogger("apscheduler.scheduler").warning("theirs %d %d", n, i)

    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        root = logging.getLogger()
        root.handlers = [h for h in root.handlers if not isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)]
        structlog.reset_defaults()
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(events) == 300
