"""What the ingest tests share: a feed server holding the seed articles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import SEEDS
from tests.httpserver import HttpServer, Reply, rss, seed_items, seed_page

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


@contextmanager
def seeds_server() -> Iterator[HttpServer]:
    """/feed.xml lists the seed articles, each served as a page at /articles/NAME.html."""
    with HttpServer() as server:
        server.route("/feed.xml", Reply(200, RSS, rss(seed_items(server.url(""), SEEDS)).encode()))
        for path in SEEDS.glob("*.txt"):
            server.route(f"/articles/{path.stem}.html", Reply(200, HTML, seed_page(path)))
        yield server
