"""State behind one small interface: Redis for the service, SQLite embedded by default."""

from __future__ import annotations

from monitor.store.base import DEFAULT_SEEN_TTL, Store, StoreError, StoreURLError
from monitor.store.redis import RedisStore, redact_url, url_problem
from monitor.store.sqlite import SQLiteStore

__all__ = [
    "DEFAULT_SEEN_TTL",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "StoreError",
    "StoreURLError",
    "open_store",
    "redact_url",
    "url_problem",
]


def open_store(url: str, prefix: str | None = None) -> Store:
    """A store from its URL: `redis://...`, `redis+cluster://...`, `sqlite:PATH`, or `memory:` (throwaway)."""
    if url.startswith(
        ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://", "redis+sentinel://")
    ):
        return RedisStore(url, prefix) if prefix else RedisStore(url)
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:").removeprefix("//")
        return SQLiteStore(path or "monitor.db")
    if url in ("memory:", "sqlite::memory:"):
        return SQLiteStore(":memory:")
    raise StoreURLError(f"unknown store URL {redact_url(url)!r}: use redis://HOST:PORT/DB or sqlite:PATH")
