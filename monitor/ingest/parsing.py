"""Feed parsing in worker processes: one feed's parse can take neither the service's memory nor its time.

Each body is read by its kind (monitor.ingest.kinds) into Documents (monitor.ingest.feeds) in a worker
process whose address space is capped at `memory` bytes above what it holds at rest, each parse under a
time limit. A parse that needs more fails alone, as "too large to parse", and its feed backs off; the
service's own memory holds only the body and the Documents that come back (both bounded: the body by
`http.max_bytes`, the Documents by the entry limits of monitor.ingest.feeds).

async with FeedParser() as parser:
    parsed = await parser.parse(body, headers, feed, seen)   # raises ParseError
"""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.errors import InputError
from monitor.ingest.feeds import FeedDocuments, read_feed
from monitor.ingest.workers import LimitedPool, time_limited

if TYPE_CHECKING:  # the workers import this module: what they need, and no more
    from monitor.ingest.feedsfile import FeedConfig

DEFAULT_WORKERS = 2
DEFAULT_MEMORY = 256 * 1024 * 1024
DEFAULT_TIME_LIMIT = 20.0


class ParseError(InputError):
    """A body could not be parsed within the workers' bounds (memory, time), or its worker was lost."""


_limited: int | None = None


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at what it uses now plus `extra` (once; Linux)."""
    global _limited
    if _limited is not None:
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    _limited = size + extra
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_limited if hard == resource.RLIM_INFINITY else min(_limited, hard), hard))


def parse_limited(
    body: bytes,
    headers: dict[str, str],
    kind: str,
    origin: str,
    source: str | None,
    language: str | None,
    seen: datetime | None,
    memory: int,
    time_limit: float,
) -> FeedDocuments:
    """read_feed in a worker: under the memory cap and the time limit, or ParseError."""
    _limit_memory(memory)
    try:
        with time_limited(time_limit):
            return read_feed(body, origin, headers, kind, source, language, seen)
    except MemoryError:
        raise ParseError(f"too large to parse: more than {memory // 2**20} MiB needed") from None
    except TimeoutError:
        raise ParseError(f"too large to parse: took longer than {time_limit:g}s") from None


class FeedParser(LimitedPool):
    """Worker processes parsing feed bodies.

    Args:
        workers: processes (a slow parse holds up only its own worker).
        memory: bytes a parse may take beyond a worker's memory at rest.
        time_limit: seconds one parse may take.
    """

    def __init__(
        self, workers: int = DEFAULT_WORKERS, memory: int = DEFAULT_MEMORY, time_limit: float = DEFAULT_TIME_LIMIT
    ) -> None:
        super().__init__(parse_limited, workers, time_limit)
        self.memory = memory

    async def parse(
        self,
        body: bytes,
        headers: Mapping[str, str],
        feed: FeedConfig,
        seen: datetime | None,
        origin: str | None = None,
    ) -> FeedDocuments:
        """The feed's Documents; ParseError when the body is too large to parse or its worker was lost.

        origin: where the body came from when not from the feed's URL (a sitemap its index lists).
        """
        try:
            parsed: FeedDocuments = await self._pool.call(
                body, dict(headers), feed.kind, origin or feed.url, feed.name, feed.language, seen, self.memory,
                self.time_limit,
            )  # fmt: skip
        except RuntimeError as exc:  # the worker died (out of memory where no MemoryError could be raised)
            raise ParseError(f"parsing failed: {exc}") from None
        return parsed
