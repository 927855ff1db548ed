"""Secrets never reach logs or errors: the redaction processor, and the notifier's real log output."""

from __future__ import annotations

import io
import json

import structlog

from monitor.notify.outbox import Notifier
from monitor.notify.slack import WebhookSink
from monitor.redact import redact, redact_secrets
from monitor.store import Store
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
