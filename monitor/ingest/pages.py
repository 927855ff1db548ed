"""Article pages: fetched with the feed client's rules, extracted by trafilatura in a process pool.

Extraction is CPU-bound, so it runs in worker processes (as many as the machine has cores, unless
told otherwise), each page under a time limit. When the page cannot be fetched or holds too little
text, the entry's own content or summary stays, and `Document.content_from` says which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace

import structlog

from monitor.document import Document
from monitor.ingest.extract import Article, extract_article
from monitor.ingest.feeds import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from monitor.ingest.http import Allowed, FetchError, HttpClient
from monitor.ingest.workers import LimitedPool, time_limited
from monitor.metrics import EXTRACT_SECONDS, FETCH_SECONDS

log = structlog.get_logger("monitor.ingest.pages")

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
DEFAULT_TIME_LIMIT = 30.0


def extract_limited(
    html: bytes, url: str | None, time_limit: float, find_author: bool = True, search_date: bool = True
) -> Article | None:
    """extract_article under a time limit (runs in a worker process: the alarm interrupts a runaway page)."""
    try:
        with time_limited(time_limit):
            return extract_article(html, url, find_author=find_author, search_date=search_date)
    except TimeoutError:
        raise TimeoutError(f"extraction took longer than {time_limit:g}s") from None


class Extractor(LimitedPool):
    """Worker processes extracting articles (see monitor.ingest.workers).

    Args:
        workers: processes in the pool; default one per CPU core.
        time_limit: seconds one page may take before its extraction is abandoned.
    """

    def __init__(self, workers: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        super().__init__(extract_limited, workers or os.cpu_count() or 1, time_limit)

    async def extract(
        self, html: bytes, url: str | None, find_author: bool = True, search_date: bool = True
    ) -> Article | None:
        """The page's article; raises TimeoutError past the limit, RuntimeError when its worker was lost,
        ValueError-like errors from trafilatura.

        find_author, search_date: see extract_article (False when the feed entry already says).
        """
        article: Article | None = await self._pool.call(html, url, self.time_limit, find_author, search_date)
        return article


def has_feed_date(doc: Document) -> bool:
    """The entry's own date was read (a missing or future one was replaced by the time it was seen)."""
    return bool(doc.feed_date) and doc.published is not None and doc.published != doc.seen


async def complete(
    doc: Document,
    client: HttpClient,
    extractor: Extractor,
    headers: dict[str, str] | None = None,
    *,
    search_body: bool,
    allow: Sequence[Allowed] = (),
) -> Document:
    """The entry's Document with the article page's text, title, author, date and language when extraction works.

    The page's markup (meta tags, JSON-LD, <time>) always gives what it holds. search_body: also
    search the page body for a byline when the entry names no author, and the page text for a date
    when the entry has none. Those searches add about a sixth to an extraction, and no rule or
    alert reads what they find: only recorded Documents keep it. allow: the feed's own allowed ranges.
    """
    if not doc.url:
        return doc
    try:
        fetched = await client.fetch(doc.url, headers, allow)
    except FetchError as exc:
        log.warning("page.failed", url=doc.url, feed=doc.source, error=exc.reason, content_from=doc.content_from)
        return doc
    content_type = (fetched.header("content-type") or "").split(";", 1)[0].strip().lower()
    if fetched.status != 200 or content_type not in HTML_TYPES:
        reason = f"HTTP {fetched.status}" if fetched.status != 200 else f"not a page: {content_type}"
        log.warning("page.failed", url=doc.url, feed=doc.source, error=reason, content_from=doc.content_from)
        return doc
    FETCH_SECONDS.labels("page").observe(fetched.elapsed_ms / 1000)
    try:
        started = time.monotonic()
        article = await extractor.extract(
            fetched.body,
            fetched.url,
            find_author=search_body and not doc.author,
            search_date=search_body and not has_feed_date(doc),
        )
        EXTRACT_SECONDS.observe(time.monotonic() - started)
    except Exception as exc:  # a stage boundary: any failure in trafilatura falls back to the entry's text
        log.warning("page.extract_failed", url=doc.url, feed=doc.source, error=str(exc) or type(exc).__name__)
        return doc
    if article is None or len(article.text) < len(doc.text) // 2:
        log.info("page.too_little", url=doc.url, feed=doc.source, content_from=doc.content_from)
        return doc
    log.debug(
        "page.extracted", url=doc.url, feed=doc.source, chars=len(article.text), duration_ms=fetched.elapsed_ms,
        queued_ms=fetched.queued_ms,
    )  # fmt: skip
    return replace(
        doc,
        title=doc.title or article.title[:MAX_TITLE_CHARS],
        text=article.text[:MAX_TEXT_CHARS],
        author=doc.author or article.author,
        page_date=article.published,
        language=doc.language or article.language,
        content_from="page",
        outlet=article.site_name or doc.outlet,
    )
