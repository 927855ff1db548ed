"""Receiving clicks from Slack in Socket Mode (slack-bolt): no public URL, one websocket per replica.

Slack hands each click to one open connection at random; the handlers keep their effects in the
store, so whichever replica gets it, every replica sees the result. The connection is kept up by a
supervisor thread that reconnects with exponential backoff; alerts are delivered by the notifier
meanwhile, untouched by it.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from monitor.feedback.actions import Click, Feedback, Reply
from monitor.notify.base import secret_from_env
from monitor.notify.slack import DEFAULT_API_URL
from monitor.store.base import Store

log = structlog.get_logger("monitor.feedback")

# slack-bolt and its Socket Mode client log every connection attempt and request (and, at DEBUG, the
# payloads): the supervisor logs what matters; theirs stays at ERROR and goes through our redaction.
_BOLT_LOGGER = logging.getLogger("monitor.slack_bolt")
_BOLT_LOGGER.setLevel(logging.ERROR)
_SOCKET_LOGGER = logging.getLogger("monitor.slack_socket_mode")
_SOCKET_LOGGER.setLevel(logging.CRITICAL)
# Every action id: those that are not ours are answered (with an error) too, never left unacknowledged.
_ANY_ACTION = re.compile(".*")


@dataclass(frozen=True, slots=True)
class ReceiverSettings:
    """How the Socket Mode connection is kept.

    Args:
        api_url: the Web API base URL (apps.connections.open, auth.test): SLACK_API_URL or Slack's.
        backoff_initial, backoff_max: seconds between reconnection attempts, doubling up to the maximum.
        ping_interval: seconds between pings; a connection silent for four of them is taken for dead.
        check_interval: seconds between two looks at the connection by the supervisor.
    """

    api_url: str = DEFAULT_API_URL
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    ping_interval: float = 10.0
    check_interval: float = 0.5


class Receiver:
    """A Socket Mode connection to Slack answering the alert buttons.

    Args:
        app_token: the app-level token (`xapp-...`, scope `connections:write`); never logged.
        bot_token: the bot token the app answers with (auth.test).
        feedback: applies the clicks.
        settings: connection settings.
    """

    def __init__(
        self, app_token: str, bot_token: str, feedback: Feedback, settings: ReceiverSettings | None = None
    ) -> None:
        self.settings = settings or ReceiverSettings()
        self.feedback = feedback
        client = WebClient(token=bot_token, base_url=self.settings.api_url, logger=_BOLT_LOGGER)
        self.app = App(
            client=client,
            logger=_BOLT_LOGGER,
            # Checked at the first click instead: the service starts while Slack is unreachable.
            token_verification_enabled=False,
            # Socket Mode has no request signature: the connection itself was opened with the app token.
            request_verification_enabled=False,
        )
        self.app.middleware(self._only_block_actions)
        self.app.action({"action_id": _ANY_ACTION})(self._on_action)
        self.handler = SocketModeHandler(
            self.app,
            app_token,
            logger=_SOCKET_LOGGER,
            auto_reconnect_enabled=False,  # the supervisor reconnects, with backoff
            ping_interval=self.settings.ping_interval,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()

    # Life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (and keep connecting); returns at once."""
        self._thread = threading.Thread(target=self._supervise, name="slack-socket-mode", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.handler.client.close()
        log.info("feedback.stopped")

    @property
    def connected(self) -> bool:
        return self.handler.client.is_connected()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected (for tests and start-up); True if it is."""
        return self._connected.wait(timeout)

    def _supervise(self) -> None:
        delay = self.settings.backoff_initial
        was_connected = False
        client = self.handler.client
        while not self._stop.is_set():
            if client.is_connected():
                if not was_connected:
                    log.info("feedback.connected", session=client.session_id())
                    was_connected = True
                    self._connected.set()
                delay = self.settings.backoff_initial
                self._stop.wait(self.settings.check_interval)
                continue
            if was_connected:
                log.warning("feedback.disconnected", note="reconnecting; alerts are delivered meanwhile")
                was_connected = False
                self._connected.clear()
            try:
                client.connect_to_new_endpoint()
            except Exception as exc:  # the connection's boundary: any failure means "try again later"
                log.error("feedback.connect_failed", error=_reason(exc), retry_in_s=round(delay, 2))
            if client.is_connected():
                continue
            # Jitter: replicas that lost Slack together do not all come back at the same instant.
            self._stop.wait(delay * random.uniform(0.8, 1.2))
            delay = min(self.settings.backoff_max, delay * 2)

    # Requests ----------------------------------------------------------------------------------

    def _only_block_actions(
        self, body: Mapping[str, Any], next: Callable[[], BoltResponse], logger: logging.Logger
    ) -> BoltResponse | None:
        """Acknowledge and drop anything but clicks on buttons: the app asks Slack for nothing else."""
        if isinstance(body, Mapping) and body.get("type") == "block_actions":
            return next()
        kind = body.get("type") if isinstance(body, Mapping) else type(body).__name__
        log.warning("feedback.ignored", kind=str(kind)[:40])
        return BoltResponse(status=200, body="")

    def _on_action(self, ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        ack()  # within Slack's 3 seconds, before any store round trip
        click = Click.from_payload(body, action)
        reply = self.feedback.apply(click)
        self._respond(respond, body, reply)

    @staticmethod
    def _respond(respond: Any, body: Mapping[str, Any], reply: Reply) -> None:
        if not body.get("response_url"):
            log.warning("feedback.unanswered", reason="no response_url in the payload")
            return
        try:
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=reply.replace)
        except Exception as exc:  # the answer is a courtesy: the effect is already in the store
            log.warning("feedback.reply_failed", error=f"{type(exc).__name__}: {exc}")


def _reason(exc: Exception) -> str:
    """One line: Slack's error code for an API error (`invalid_auth`), else the exception."""
    if isinstance(exc, SlackApiError):
        return f"apps.connections.open: {exc.response.get('error')} (HTTP {exc.response.status_code})"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def receiver_from_env(env: Mapping[str, str], store: Store, mute_for: timedelta) -> Receiver | None:
    """The receiver the environment asks for: SLACK_APP_TOKEN (or SLACK_APP_TOKEN_FILE) with SLACK_BOT_TOKEN.

    None without an app token: alerts then carry no buttons and nothing else changes.
    """
    app_token = secret_from_env(env, "SLACK_APP_TOKEN")
    if not app_token:
        return None
    bot_token = secret_from_env(env, "SLACK_BOT_TOKEN")
    if not bot_token:
        log.warning("feedback.disabled", reason="SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: no buttons")
        return None
    settings = ReceiverSettings(api_url=env.get("SLACK_API_URL") or DEFAULT_API_URL)
    return Receiver(app_token, bot_token, Feedback(store, mute_for), settings)
