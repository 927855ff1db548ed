"""Delivery to Slack through slack-sdk: the Web API with a bot token, or an incoming webhook.

Rate limits (HTTP 429) are waited out inside slack-sdk (`RateLimitErrorRetryHandler`, which sleeps
Retry-After); a refused connection is retried there too, since nothing reached Slack. Everything
else that may have reached Slack (a 5xx, a timeout, a reset) is raised as a retryable
DeliveryError: the notifier retries with backoff and looks the message up before posting again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.error import URLError

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from monitor.feedback.buttons import Choice, actions_block
from monitor.notify.base import ArticleNotice, DeliveryError, Notice, Posted, secret_from_env
from monitor.notify.blocks import MAX_BLOCKS, Message, metadata_keys, render

log = structlog.get_logger("monitor.notify.slack")

DEFAULT_API_URL = "https://slack.com/api/"

# Permanent for the alert: it goes to the dead letters with the reason instead of being retried.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "channel_not_found",
        "is_archived",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_in_channel",
        "missing_scope",
        "restricted_action",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        # Incoming webhooks answer with these bodies.
        "invalid_token",
        "no_service",
        "channel_is_archived",
        "action_prohibited",
        "no_active_hooks",
    }
)
# A Slack error code, as incoming webhooks answer it: `invalid_token`, `no_service`.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,60}")
# How much of an answer that is not an error code goes into the error.
REASON_CHARS = 120
# slack-sdk logs request headers (the token) at DEBUG: its logger never goes below WARNING.
_SDK_LOGGER = logging.getLogger("monitor.slack_sdk")
_SDK_LOGGER.setLevel(logging.WARNING)


class _RefusedRetryHandler(RetryHandler):
    """Retries a connection that was refused: the request never reached Slack, so it cannot double-post."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return isinstance(error, URLError) and isinstance(error.reason, ConnectionRefusedError)


def retry_handlers(rate_limit_retries: int = 10, refused_retries: int = 2) -> list[RetryHandler]:
    """slack-sdk retry handlers: wait Retry-After on 429, retry a refused connection with backoff."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        _RefusedRetryHandler(max_retry_count=refused_retries),
    ]


def _classify(method: str, channel: str, exc: Exception) -> DeliveryError:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or status >= 500:
            return DeliveryError(method, channel, f"{error} (HTTP {status})", True)
        return DeliveryError(method, channel, error, error not in PERMANENT_ERRORS and status < 400)
    return DeliveryError(method, channel, f"{type(exc).__name__}: {exc}", True)


def with_buttons(message: Message, notice: ArticleNotice) -> Message:
    """An article's message with the feedback row under it (monitor.feedback), within Slack's 50 blocks."""
    choices = [Choice(alert.alert_id, alert.rule_title) for alert in notice.alerts]
    return replace(message, blocks=[*message.blocks[: MAX_BLOCKS - 1], actions_block(choices)])


class WebApiSink:
    """Slack's Web API with a bot token: chat.postMessage (threads), chat.update, conversations.history.

    Args:
        token: the bot token (`xoxb-...`); never logged.
        base_url: the Web API base URL (SLACK_API_URL: a proxy, or a fake in tests).
        timeout: seconds to wait for Slack's answer to one call.
        buttons: every article's message carries the feedback buttons (with SLACK_APP_TOKEN: docs/slack.md).
    """

    name = "slack"
    threads = True

    def render(self, notice: Notice) -> list[Message]:
        messages = render(notice)
        if self.buttons and isinstance(notice, ArticleNotice):
            messages = [with_buttons(message, notice) for message in messages]
        return messages

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        rate_limit_retries: int = 10,
        buttons: bool = False,
    ) -> None:
        self.buttons = buttons
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,  # type: ignore[arg-type]  # slack-sdk hints int; urllib takes float
            logger=_SDK_LOGGER,
            retry_handlers=retry_handlers(rate_limit_retries),
        )

    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> Posted:
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread_ts,
                metadata=message.metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:  # the delivery boundary: every failure becomes a DeliveryError
            raise _classify("chat.postMessage", channel, exc) from None
        return Posted(str(response.get("channel") or channel), str(response["ts"]))

    def update(self, posted: Posted, message: Message) -> None:
        try:
            self.client.chat_update(
                channel=posted.channel, ts=posted.ts or "", text=message.text, blocks=message.blocks
            )
        except Exception as exc:
            raise _classify("chat.update", posted.channel, exc) from None

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        wanted = set(alert_ids)
        found: dict[str, Posted] = {}
        cursor: str | None = None
        method = "conversations.replies" if thread_ts else "conversations.history"
        for _page in range(10):  # at most 2,000 messages back: an alert is looked up soon after it was posted
            try:
                args: dict[str, Any] = {"channel": channel, "limit": 200, "include_all_metadata": True}
                if oldest is not None:
                    args["oldest"] = f"{oldest:.6f}"
                if cursor:
                    args["cursor"] = cursor
                if thread_ts:
                    response = self.client.conversations_replies(ts=thread_ts, **args)
                else:
                    response = self.client.conversations_history(**args)
            except Exception as exc:
                raise _classify(method, channel, exc) from None
            for item in response.get("messages") or []:
                for key in metadata_keys(item.get("metadata")):
                    if key in wanted:
                        found[key] = Posted(channel, str(item.get("ts")))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor or wanted <= set(found):
                break
        return found


class WebhookSink:
    """An incoming webhook: one fixed channel, no threads, no updates, no look-ups.

    Args:
        url: the webhook URL (`https://hooks.slack.com/services/...`): a secret, never logged.
    """

    name = "webhook"
    threads = False

    def render(self, notice: Notice) -> list[Message]:
        return render(notice)

    def __init__(self, url: str, timeout: float = 10.0, rate_limit_retries: int = 10) -> None:
        self.client = WebhookClient(
            url,
            timeout=timeout,  # type: ignore[arg-type]
            logger=_SDK_LOGGER,
            retry_handlers=retry_handlers(rate_limit_retries),
        )

    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> Posted:
        try:
            response = self.client.send(
                text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
            )
        except Exception as exc:
            raise _classify("webhook", channel, exc) from None
        if response.status_code != 200:
            reason = webhook_reason(response.status_code, response.body)
            retryable = response.status_code == 429 or response.status_code >= 500
            raise DeliveryError("webhook", channel, reason, retryable or reason not in PERMANENT_ERRORS)
        return Posted("webhook", None)

    def update(self, posted: Posted, message: Message) -> None:
        return None

    def find(
        self, channel: str, alert_ids: Sequence[str], thread_ts: str | None = None, oldest: float | None = None
    ) -> dict[str, Posted]:
        return {}


def webhook_reason(status: int, body: str | None) -> str:
    """Slack's error code when the body is one (`no_service`); else the status and the body's start, on one line.

    Something between us and Slack (a proxy, a captive portal) can answer with a whole HTML page.
    """
    text = " ".join((body or "").split())
    if _ERROR_CODE.fullmatch(text):
        return text
    if not text:
        return f"HTTP {status}"
    return f"HTTP {status}: {text[:REASON_CHARS]}{'…' if len(text) > REASON_CHARS else ''}"


def from_env(env: Mapping[str, str], timeout: float) -> WebApiSink | WebhookSink | None:
    """The Slack sink the environment configures: SLACK_BOT_TOKEN (preferred) or SLACK_WEBHOOK_URL.

    Each may come from a file instead (SLACK_BOT_TOKEN_FILE, SLACK_WEBHOOK_URL_FILE); SLACK_API_URL
    points the Web API elsewhere. None when neither is set.
    """
    token = secret_from_env(env, "SLACK_BOT_TOKEN")
    if token:
        buttons = secret_from_env(env, "SLACK_APP_TOKEN") is not None  # someone answers them: monitor.feedback
        return WebApiSink(token, env.get("SLACK_API_URL") or DEFAULT_API_URL, timeout, buttons=buttons)
    webhook = secret_from_env(env, "SLACK_WEBHOOK_URL")
    if webhook:
        return WebhookSink(webhook, timeout)
    return None
