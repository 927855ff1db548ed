"""A generic JSON webhook sink: each notice POSTed as one JSON document to a URL of yours.

For a chat system, a ticketing system or a pipeline of your own: `MONITOR_WEBHOOK_URL` (or
`MONITOR_WEBHOOK_URL_FILE`) names the endpoint. Each POST carries an `Idempotency-Key` header,
the same for every retry of one message (it is made from the alert ids and the channel), so that
the receiver can drop a repeat. A 2xx answer is success; 408, 425, 429 and 5xx answers, timeouts and
connection errors are retried here with backoff (Retry-After honoured), then handed back to the
notifier as retryable; any other 4xx dead-letters the alert. The body (docs/slack.md, "JSON webhook"):

    {"id": "<idempotency key>", "channel": "#alerts", "kind": "alert", "alert_ids": [...],
     "title": ..., "url": ..., "source": ..., "feed": ..., "published": ..., "snippet": ...,
     "highlights": [[start, end], ...], "rules": [{"rule": ..., "severity": ..., "matched": [...]}, ...]}
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from monitor import __version__
from monitor.notify.base import DeliveryError, Notice, Posted, notice_alerts, notice_record, secret_from_env

# Besides every 5xx: a timeout, "too early" and a rate limit can pass; other 4xx answers will not.
RETRYABLE_4XX = frozenset({408, 425, 429})
MAX_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class JsonMessage:
    """One notice as the JSON document to POST (without its channel and id, added per delivery)."""

    record: dict[str, Any]
    keys: tuple[str, ...]


def idempotency_key(channel: str, keys: Sequence[str]) -> str:
    """The same for every delivery of one message to one channel, different for any other."""
    return hashlib.sha256("\x1f".join([channel, *keys]).encode()).hexdigest()[:32]


class JsonWebhookSink:
    """POSTs each notice as JSON to one URL: no threads, no updates, no look-ups.

    Args:
        url: the endpoint (a secret: never logged, masked in errors).
        timeout: seconds for one request (connect, send, answer).
        attempts: tries per message before the failure goes back to the notifier (which retries later).
        backoff: seconds before the second try; doubled for each one after.
    """

    name = "json-webhook"
    threads = False

    def __init__(self, url: str, timeout: float = 10.0, attempts: int = 3, backoff: float = 0.5) -> None:
        self.url = url
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.client = httpx.Client(timeout=timeout, headers={"User-Agent": f"monitor/{__version__}"})

    def render(self, notice: Notice) -> list[JsonMessage]:
        keys = tuple(alert.alert_id for alert in notice_alerts(notice))
        return [JsonMessage({**notice_record(notice), "alert_ids": list(keys)}, keys)]

    def post(self, channel: str, message: JsonMessage, thread_ts: str | None = None) -> Posted:
        key = idempotency_key(channel, message.keys)
        body = {"id": key, "channel": channel, **message.record}
        failure = "no attempt"
        for attempt in range(self.attempts):
            wait = self.backoff * 2**attempt
            try:
                response = self.client.post(self.url, json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as exc:  # timeouts, refused or reset connections: nothing answered
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.is_success:
                    return Posted(channel, None)
                failure = _reason(response)
                if response.status_code < 500 and response.status_code not in RETRYABLE_4XX:
                    raise DeliveryError("POST", channel, failure, False, self.name)
                wait = _retry_after(response) or wait
            if attempt + 1 < self.attempts:
                time.sleep(min(wait, MAX_WAIT))
        raise DeliveryError("POST", channel, failure, True, self.name)

    def update(self, posted: Posted, message: JsonMessage) -> None:
        return None

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        return {}


def _reason(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:120]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


def from_env(env: Mapping[str, str], timeout: float) -> JsonWebhookSink | None:
    """The JSON webhook MONITOR_WEBHOOK_URL (or MONITOR_WEBHOOK_URL_FILE) names; None without one."""
    url = secret_from_env(env, "MONITOR_WEBHOOK_URL")
    return JsonWebhookSink(url, timeout) if url else None
