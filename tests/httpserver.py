"""A real threaded HTTP server on 127.0.0.1 with programmable responses, for ingest tests and benchmarks.

with HttpServer() as server:
    server.route("/feed.xml", Reply(body=path.read_bytes(), headers={"Content-Type": "application/rss+xml"}))
    server.url("/feed.xml")
    server.requests  # every request seen: path and headers
"""

from __future__ import annotations

import gzip as gzip_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True)
class Reply:
    """One response: status, headers, body; `delay` seconds before answering, `hang` never answers,
    `gzip` compresses the body, `chunk` writes it in pieces (so a client can stop reading part-way),
    `length` declares another Content-Length, `then_hang` keeps the connection open after the body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    hang: bool = False
    gzip: bool = False
    chunk: int = 0
    length: int | None = None
    then_hang: bool = False


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    peer_port: int = 0  # the client's port: requests on one kept-alive connection share it


Handler = Reply | Callable[[Seen], Reply]


def file_reply(path: Path, content_type: str, **headers: str) -> Reply:
    """Serve a real file."""
    return Reply(body=path.read_bytes(), headers={"Content-Type": content_type, **headers})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog is set when the socket is bound: a class attribute, not one set afterwards.
    # With the default (5), a burst of connections overflows it and the kernel drops SYNs, which
    # clients resend only after a second.
    request_queue_size = 1024


class HttpServer:
    """Serves programmed replies on 127.0.0.1 (a free port) from threads; unknown paths get 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self.bytes_sent: dict[str, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                owner._handle(self)

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        """Answer `path` with `handler`; returns the path's URL."""
        self.routes[path] = handler
        return self.url(path)

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        seen = Seen(request.path, {k.lower(): v for k, v in request.headers.items()}, request.client_address[1])
        with self._lock:
            self.requests.append(seen)
        handler = self.routes.get(request.path.split("?", 1)[0]) or self.routes.get(request.path)
        reply = Reply(404, {"Content-Type": "text/plain"}, b"not found")
        if handler is not None:
            reply = handler(seen) if callable(handler) else handler
        if reply.hang:
            self._stop.wait()
            return
        if reply.delay:
            time.sleep(reply.delay)
        body = gzip_module.compress(reply.body) if reply.gzip else reply.body
        request.send_response(reply.status)
        for name, value in reply.headers.items():
            request.send_header(name, value)
        if reply.gzip:
            request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(body) if reply.length is None else reply.length))
        request.end_headers()
        sent = 0
        try:
            step = reply.chunk or len(body) or 1
            for start in range(0, len(body), step):
                request.wfile.write(body[start : start + step])
                request.wfile.flush()
                sent += len(body[start : start + step])
        except (BrokenPipeError, ConnectionResetError):
            request.close_connection = True
        with self._lock:
            self.bytes_sent[request.path] = self.bytes_sent.get(request.path, 0) + sent
        if reply.then_hang:
            self._stop.wait()


@dataclass(frozen=True)
class Item:
    """One RSS item of a test feed."""

    title: str
    link: str
    description: str
    guid: str | None = None
    pub_date: str | None = None


def seed_items(base_url: str, seeds: Path) -> list[Item]:
    """One item per seed article, linking to `base_url/articles/NAME.html`, dated a day apart in 2026."""
    items = []
    for day, path in enumerate(sorted(seeds.glob("*.txt")), start=1):
        text = path.read_text(encoding="utf-8")
        title = next(line.strip() for line in text.splitlines() if line.strip())[:90]
        items.append(
            Item(
                title=title,
                link=f"{base_url}/articles/{path.stem}.html?utm_source=rss&utm_medium=feed#top",
                description=text[:400],
                guid=f"seed-{path.stem}",
                pub_date=f"Mon, {day:02d} Feb 2026 10:00:00 GMT",
            )
        )
    return items


def seed_page(path: Path) -> bytes:
    """A news page holding a seed article, for page fetch and extraction."""
    from html import escape

    text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraphs = "\n".join(f"<p>{escape(line)}</p>" for line in lines[1:])
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(lines[0][:90])}</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{escape(lines[0][:90])}</h1>"
        f"{paragraphs}</article><footer>Copyright</footer></body></html>"
    ).encode()


def rss(items: list[Item], title: str = "Test feed", extra: str = "", encoding: str | None = "utf-8") -> str:
    """An RSS 2.0 document; `encoding=None` leaves the XML declaration without an encoding."""
    from xml.sax.saxutils import escape

    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else '<?xml version="1.0"?>'
    body = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>", f"<link>{escape(item.link)}</link>"]
        parts.append(f"<description>{escape(item.description)}</description>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.pub_date:
            parts.append(f"<pubDate>{item.pub_date}</pubDate>")
        body.append("<item>" + "".join(parts) + "</item>")
    return (
        f'{declaration}\n<rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://example.org/</link><description>test</description>{extra}\n"
        + "\n".join(body)
        + "\n</channel></rss>\n"
    )


def quadratic_blowup(size: int) -> bytes:
    """A feed of about `size` bytes whose one entity, referenced everywhere, expands it to size²/12 bytes
    (the "quadratic blow-up": 170 KB to 2.4 GB)."""
    value = "a" * (size // 2)
    refs = "&e;" * (size // 6)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY e "{value}">\n]>\n'
        '<rss version="2.0"><channel><title>Q</title><link>http://x.example/</link><description>d</description>\n'
        f"<item><title>Boom</title><link>http://x.example/1</link><description>{refs}</description></item>\n"
        "</channel></rss>\n"
    ).encode()
