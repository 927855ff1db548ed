"""A local fake of Slack's Web API and incoming webhooks, served on 127.0.0.1 by a real HTTP server.

It speaks the real wire format (JSON, form or query bodies; `Authorization: Bearer`; answers
`{"ok": true, ...}` / `{"ok": false, "error": ...}`; HTTP 429 with Retry-After), records every
request, keeps the messages it accepted per channel, and can be told to misbehave:

    slack.fail("chat.postMessage", status=429, retry_after=1)   # the next call is rate limited
    slack.fail("chat.postMessage", error="channel_not_found")    # the next call fails for good
    slack.fail("chat.postMessage", status=500, times=2)          # two server errors
    slack.fail("chat.postMessage", delay=5)                      # accept, then answer 5 s late
    slack.down()  /  slack.up()                                  # 503 for everything meanwhile
    slack.stop()  /  slack.start()                               # connections refused meanwhile
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON_FIELDS = ("blocks", "metadata", "attachments")


@dataclass
class Request:
    """One request as the fake received it."""

    api: str  # "chat.postMessage", or "webhook"
    http_method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Fault:
    api: str
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1
    body: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    metadata: dict[str, Any] | None
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        """The message metadata's event_payload (empty when the message carries none)."""
        payload: dict[str, Any] = (self.metadata or {}).get("event_payload", {})
        return payload


def channel_id(name: str) -> str:
    """The id this fake gives a channel: ids (C...) stay, names become C + their letters upper-cased."""
    if re.fullmatch(r"[CDG][A-Z0-9]+", name):
        return name
    return "C" + re.sub(r"[^A-Z0-9]", "", name.upper())


class FakeSlack:
    """The fake server. `token` is the bot token it accepts; `url` the Web API base URL."""

    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        self.requests: list[Request] = []
        self.messages: list[Message] = []
        self.missing: set[str] = set()
        self.archived: set[str] = set()
        self._faults: list[Fault] = []
        self._down = False
        self._lock = threading.Condition()
        self._release = threading.Event()
        self._ts = 0
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # Life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Listen (again, on the same port after a stop)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._release.clear()
        threading.Thread(target=server.serve_forever, name="fake-slack", daemon=True).start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/webhooksecret"

    # Programming ----------------------------------------------------------------------------

    def fail(
        self,
        api: str,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """The next `times` calls of `api` answer like this (status 200 + error: `ok: false`);
        `body` answers that text with `status` instead (a proxy's error page)."""
        with self._lock:
            self._faults.append(Fault(api, status, error, retry_after, delay, times, body))

    def down(self) -> None:
        """Answer 503 to everything until `up()`."""
        self._down = True

    def up(self) -> None:
        self._down = False

    def release(self) -> None:
        """End every delayed answer now."""
        self._release.set()

    # Reading what happened ------------------------------------------------------------------

    def calls(self, api: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.api == api]

    def posted(self, channel: str | None = None) -> list[Message]:
        """Accepted messages (top-level and replies), oldest first, optionally of one channel."""
        with self._lock:
            return [m for m in self.messages if channel is None or m.channel == channel_id(channel)]

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 20.0) -> None:
        """Block until `predicate(self)` holds (re-checked on every request); raise if it never does."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Slack: condition not met in {timeout} s; {len(self.requests)} requests")
                self._lock.wait(min(left, 0.1))

    # Serving --------------------------------------------------------------------------------

    def _body(self, handler: BaseHTTPRequestHandler, query: str) -> dict[str, Any]:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body: dict[str, Any] = dict(parse_qsl(query))
        kind = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
        if kind == "application/json" and raw:
            body.update(json.loads(raw))
        elif raw:
            body.update(parse_qsl(raw.decode("utf-8")))
        for key in JSON_FIELDS:
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        body = self._body(handler, parts.query)
        api = parts.path.removeprefix("/api/") if parts.path.startswith("/api/") else "webhook"
        request = Request(api, handler.command, parts.path, dict(handler.headers.items()), body, time.time())
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(api)
            self._lock.notify_all()
        if self._down:
            return self._send(handler, 503, {"ok": False, "error": "service_unavailable"})
        if fault is not None and fault.body is not None:
            return self._send(handler, fault.status, fault.body)
        if fault is not None and fault.status == 429:
            headers = {"Retry-After": str(fault.retry_after or 1)}
            return self._send(handler, 429, {"ok": False, "error": "ratelimited"}, headers)
        if fault is not None and fault.status >= 500:
            return self._send(handler, fault.status, {"ok": False, "error": "internal_error"})
        if fault is not None and fault.error:
            return self._send(handler, 200, {"ok": False, "error": fault.error})
        answer: str | dict[str, Any]
        if api == "webhook":
            status, answer = self._webhook(body)
        else:
            status, answer = 200, self._api(api, request)
        if fault is not None and fault.delay:
            self._release.wait(fault.delay)  # accepted, but the answer comes late (or never)
        self._send(handler, status, answer)

    def _take_fault(self, api: str) -> Fault | None:
        for fault in self._faults:
            if fault.api == api:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        answer: dict[str, Any] | str,
        headers: dict[str, str] | None = None,
    ) -> None:
        if headers is None:
            headers = {}
        data = (answer if isinstance(answer, str) else json.dumps(answer)).encode("utf-8")
        try:
            handler.send_response(status)
            kind = "text/plain" if isinstance(answer, str) else "application/json; charset=utf-8"
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, or a killed process)

    def _webhook(self, body: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            self._ts += 1
            self.messages.append(
                Message(
                    "webhook", f"{time.time():.0f}.{self._ts:06d}", body.get("text", ""), body.get("blocks"), None, None
                )
            )
        return 200, "ok"

    def _api(self, api: str, request: Request) -> dict[str, Any]:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return {"ok": False, "error": "not_authed"}
        if auth.removeprefix("Bearer ") != self.token:
            return {"ok": False, "error": "invalid_auth"}
        body = request.body
        channel = channel_id(str(body.get("channel", "")))
        if channel in {channel_id(c) for c in self.missing}:
            return {"ok": False, "error": "channel_not_found"}
        if api == "chat.postMessage":
            if channel in {channel_id(c) for c in self.archived}:
                return {"ok": False, "error": "is_archived"}
            with self._lock:
                self._ts += 1
                ts = f"{time.time():.0f}.{self._ts:06d}"
                message = Message(
                    channel, ts, body.get("text", ""), body.get("blocks"), body.get("thread_ts"), body.get("metadata")
                )
                self.messages.append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": message.text, "ts": ts}}
        if api == "chat.update":
            with self._lock:
                for message in self.messages:
                    if message.channel == channel and message.ts == body.get("ts"):
                        message.edits.append({"text": message.text, "blocks": message.blocks})
                        message.text, message.blocks = body.get("text", ""), body.get("blocks")
                        return {"ok": True, "channel": channel, "ts": message.ts, "text": message.text}
            return {"ok": False, "error": "message_not_found"}
        if api in ("conversations.history", "conversations.replies"):
            return self._history(api, channel, body)
        return {"ok": False, "error": "unknown_method"}

    def _history(self, api: str, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        oldest = float(body.get("oldest") or 0)
        with self._lock:
            if api == "conversations.replies":
                items = [m for m in self.messages if m.channel == channel and body.get("ts") in (m.ts, m.thread_ts)]
            else:
                items = [m for m in self.messages if m.channel == channel and m.thread_ts is None]
        items = [m for m in items if float(m.ts) >= oldest]
        items.sort(key=lambda m: float(m.ts), reverse=api == "conversations.history")
        start = int(body.get("cursor") or 0)
        limit = int(body.get("limit") or 100)
        page = items[start : start + limit]
        out = []
        for m in page:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "bot_id": "B0FAKE"}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            out.append(item)
        more = start + limit < len(items)
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


@contextmanager
def fake_slack(token: str = "xoxb-test-token") -> Iterator[FakeSlack]:
    """A running FakeSlack, stopped on exit."""
    slack = FakeSlack(token)
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()
