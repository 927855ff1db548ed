"""A local fake of Slack's Socket Mode, beside the Web API fake of tests/fakeslack.py.

It speaks the real protocol: `apps.connections.open` (Bearer app token) hands out a `ws://127.0.0.1`
URL with a one-time ticket; the websocket says `hello`, then carries envelopes
(`{"envelope_id", "type": "interactive", "payload": {block_actions...}}`) which the client must
acknowledge with `{"envelope_id"}`. Like Slack, each envelope goes to one open connection at random.
Answers to `response_url` are recorded; `auth.test` answers for the bot token.

    slack.click(action_id, value, user=("U1", "alice"), channel="#alerts")  # an envelope, at random
    slack.wait_acked(envelope_id)                                           # seconds until acked
    slack.drop()                                                            # close every socket now
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakeslack import FakeSlack, Request, channel_id

APP_TOKEN = "xapp-1-A0FAKE-111-FaKeApPtOkEnSeCrEt"


@dataclass
class Envelope:
    """One envelope sent over a websocket, and when (if ever) it was acknowledged."""

    envelope_id: str
    payload: dict[str, Any]
    sent: float
    connection: int
    acked: float | None = None
    ack: dict[str, Any] | None = None


@dataclass
class Response:
    """A message sent to a `response_url` (an ephemeral reply, or a replacement of the clicked message)."""

    envelope_id: str
    body: dict[str, Any]
    at: float


@dataclass
class _Socket:
    number: int
    connection: ServerConnection
    opened: float
    closed: float | None = None


@dataclass
class _Tickets:
    issued: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)


class FakeSlackApp(FakeSlack):
    """FakeSlack plus Socket Mode. `app_token` is the app-level token it accepts."""

    def __init__(self, token: str = "xoxb-test-token", app_token: str = APP_TOKEN) -> None:
        super().__init__(token)
        self.app_token = app_token
        self.envelopes: dict[str, Envelope] = {}
        self.responses: list[Response] = []
        self.sockets: list[_Socket] = []
        self.names: dict[str, str] = {}
        self._tickets = _Tickets()
        self._ws: Server | None = None
        self.ws_port = 0

    # Life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        super().start()
        if self._ws is None:
            self._ws = serve(self._serve_socket, "127.0.0.1", 0, ping_interval=None)
            self.ws_port = self._ws.socket.getsockname()[1]
            threading.Thread(target=self._ws.serve_forever, name="fake-socket-mode", daemon=True).start()

    def stop(self) -> None:
        super().stop()
        if self._ws is not None:
            self.drop()
            self._ws.shutdown()
            self._ws = None

    # Socket Mode ----------------------------------------------------------------------------

    @property
    def open_sockets(self) -> list[int]:
        """The numbers of the websockets open now (1 for the first ever opened)."""
        with self._lock:
            return [s.number for s in self.sockets if s.closed is None]

    def drop(self) -> None:
        """Close every open websocket at once (a network blip, or Slack restarting a host)."""
        with self._lock:
            sockets = [s for s in self.sockets if s.closed is None]
        for socket in sockets:
            socket.connection.close()

    def click(
        self,
        action_id: str,
        value: str | None,
        user: tuple[str, str] = ("U0ALICE", "alice"),
        channel: str = "#alerts",
        option: bool = False,
        to: int | None = None,
        action_ts: float | None = None,
        raw_payload: dict[str, Any] | None = None,
    ) -> str:
        """Send a `block_actions` envelope to one open websocket (`to`, else one at random); its envelope id.

        `option` sends the value as a menu's selected option; `raw_payload` sends that payload as it is.
        """
        envelope_id = str(uuid.uuid4())
        payload = raw_payload if raw_payload is not None else self.block_actions(
            envelope_id, action_id, value, user, channel, option, action_ts
        )  # fmt: skip
        self.send(envelope_id, payload, to)
        return envelope_id

    def block_actions(
        self,
        envelope_id: str,
        action_id: str,
        value: str | None,
        user: tuple[str, str],
        channel: str,
        option: bool = False,
        action_ts: float | None = None,
    ) -> dict[str, Any]:
        """A block_actions payload as Slack sends it for a click in `channel`."""
        cid = channel_id(channel)
        name = self.names.get(cid) or channel.removeprefix("#").lower()
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": "monitor.feedback",
            "type": "static_select" if option else "button",
            "action_ts": f"{action_ts or time.time():.6f}",
        }
        if option:
            action["selected_option"] = {"text": {"type": "plain_text", "text": "for 1 hour"}, "value": value}
        else:
            action["value"] = value
        return {
            "type": "block_actions",
            "user": {"id": user[0], "username": user[1], "name": user[1], "team_id": "T0FAKE"},
            "api_app_id": "A0FAKE",
            "token": "verification-token",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": cid, "is_ephemeral": False},
            "trigger_id": f"{time.time():.0f}.1.abc",
            "team": {"id": "T0FAKE", "domain": "fake"},
            "channel": {"id": cid, "name": name},
            "message": {"type": "message", "ts": "1.000001", "text": "alert"},
            "response_url": f"http://127.0.0.1:{self.port}/api/response/{envelope_id}",
            "actions": [action],
        }

    def send(self, envelope_id: str, payload: dict[str, Any], to: int | None = None) -> None:
        """Send one envelope (an existing id again: a redelivery) to a websocket."""
        with self._lock:
            open_ = [s for s in self.sockets if s.closed is None]
            if not open_:
                raise AssertionError("fake Socket Mode: no client is connected")
            socket = next(s for s in open_ if s.number == to) if to is not None else random.choice(open_)
            self.envelopes[envelope_id] = Envelope(envelope_id, payload, time.time(), socket.number)
        message = {"envelope_id": envelope_id, "payload": payload, "type": "interactive"}
        socket.connection.send(json.dumps({**message, "accepts_response_payload": False}))

    def wait_until(self, predicate: Callable[[FakeSlackApp], bool], timeout: float = 10.0) -> None:
        """`wait_for`, with this fake's own state to look at."""
        self.wait_for(lambda _: predicate(self), timeout)

    def wait_acked(self, envelope_id: str, timeout: float = 10.0) -> float:
        """Seconds from sending the envelope to its acknowledgement; raises if it never comes."""
        self.wait_until(lambda s: s.envelopes[envelope_id].acked is not None, timeout)
        envelope = self.envelopes[envelope_id]
        assert envelope.acked is not None
        return envelope.acked - envelope.sent

    def wait_response(self, envelope_id: str, timeout: float = 10.0) -> Response:
        """The answer posted to the envelope's response_url."""
        self.wait_until(lambda s: any(r.envelope_id == envelope_id for r in s.responses), timeout)
        with self._lock:
            return next(r for r in self.responses if r.envelope_id == envelope_id)

    def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        self.wait_until(lambda s: len(s.open_sockets) >= count, timeout)

    def _serve_socket(self, connection: ServerConnection) -> None:
        ticket = (connection.request.path if connection.request else "").partition("ticket=")[2].split("&")[0]
        with self._lock:
            valid = ticket in self._tickets.issued and ticket not in self._tickets.used
            self._tickets.used.add(ticket)
            if valid:
                socket = _Socket(len(self.sockets) + 1, connection, time.time())
                self.sockets.append(socket)
            self._lock.notify_all()
        if not valid:
            connection.close(code=1008, reason="invalid ticket")
            return
        hello = {"type": "hello", "num_connections": len(self.open_sockets), "connection_info": {"app_id": "A0FAKE"}}
        try:
            connection.send(json.dumps(hello))
            for raw in connection:
                self._on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                socket.closed = time.time()
                self._lock.notify_all()

    def _on_frame(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        with self._lock:
            envelope = self.envelopes.get(message.get("envelope_id", ""))
            if envelope is not None and envelope.acked is None:
                envelope.acked, envelope.ack = time.time(), message
            self._lock.notify_all()

    # Web API additions ----------------------------------------------------------------------

    def _api(self, api: str, request: Request) -> dict[str, Any]:
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if api == "apps.connections.open":
            if auth != self.app_token:
                return {"ok": False, "error": "invalid_auth" if auth else "not_authed"}
            ticket = uuid.uuid4().hex
            with self._lock:
                self._tickets.issued.add(ticket)
            return {"ok": True, "url": f"ws://127.0.0.1:{self.ws_port}/link/?ticket={ticket}&app_id=A0FAKE"}
        if api == "auth.test":
            if auth != self.token:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "monitor",
                    "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0FAKE"}  # fmt: skip
        if api.startswith("response/"):
            with self._lock:
                self.responses.append(Response(api.removeprefix("response/"), request.body, time.time()))
                self._lock.notify_all()
            return {"ok": True}
        if api == "chat.postMessage":
            name = str(request.body.get("channel", ""))
            if name.startswith("#"):
                self.names[channel_id(name)] = name.removeprefix("#")
        return super()._api(api, request)


@contextmanager
def fake_slack_app(token: str = "xoxb-test-token", app_token: str = APP_TOKEN) -> Iterator[FakeSlackApp]:
    """A running FakeSlackApp (Web API and Socket Mode), stopped on exit."""
    slack = FakeSlackApp(token, app_token)
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()
