"""Documents from files, for replay and rule tests: text, HTML pages, feeds and recorded JSONL.

A saved feed (RSS, Atom, JSON Feed, news sitemap: its kind told from the body) is read by read_feed, the
code the service reads a fetched body with: its Documents get the ids, URLs, titles, outlets and
languages the service gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from monitor.document import Document, parse_time
from monitor.ingest.extract import extract_article
from monitor.ingest.feeds import read_feed
from monitor.ingest.headline import headline
from monitor.ingest.kinds import AUTO

TEXT_SUFFIXES = {".txt"}
HTML_SUFFIXES = {".html", ".htm"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".json"}
RECORD_SUFFIXES = {".jsonl"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES | RECORD_SUFFIXES

# A file (or a recorded line) larger than this is no article: refused, not read.
MAX_INPUT_BYTES = 10 * 1024 * 1024
FRONT_MATTER_KEYS = {"title", "url", "published", "source", "language"}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an input (or part of it) was not read, located by file and line."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class _Unreadable(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


OnProblem = Callable[[Problem], None]


def expand_paths(paths: Iterable[Path], on_problem: OnProblem) -> list[Path]:
    """Files named, and files of known types inside directories named (sorted by path)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                on_problem(
                    Problem(
                        str(path),
                        "no .txt, .html, .xml, .rss, .atom, .json or .jsonl files in this directory",
                    )
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            on_problem(Problem(str(path), "not a regular file"))
        else:
            on_problem(Problem(str(path), "no such file or directory"))
    return files


def read_documents(paths: Iterable[Path], on_problem: OnProblem) -> Iterator[tuple[Path, Document]]:
    """Every Document in `paths`, with the file it came from; problems go to `on_problem`."""
    for path in expand_paths(paths, on_problem):
        try:
            yield from ((path, doc) for doc in read_file(path, on_problem))
        except _Unreadable as exc:
            on_problem(Problem(str(path), str(exc), exc.line))


def read_file(path: Path, on_problem: OnProblem) -> Iterator[Document]:
    """Documents in one file, by its suffix; raises _Unreadable when none can be read."""
    suffix = path.suffix.lower()
    if suffix in RECORD_SUFFIXES:
        yield from _read_records(path, on_problem)
        return
    if suffix not in SUFFIXES:
        raise _Unreadable(f"unknown file type {suffix or '(none)'!r}: expected one of {', '.join(sorted(SUFFIXES))}")
    data = _read_bytes(path)
    if suffix in FEED_SUFFIXES:
        # A .json file is a JSON Feed (its "version" may come after its items, past what sniffing sees).
        feed = read_feed(data, str(path), kind="jsonfeed" if suffix == ".json" else AUTO)
        if feed.children and not feed.documents:
            listed = ", ".join(feed.children[:3]) + (", ..." if len(feed.children) > 3 else "")
            raise _Unreadable(
                f"a sitemap index ({len(feed.children)} sitemaps: {listed}): replay reads no URLs; save the "
                "sitemaps it lists and replay those"
            )
        if not feed.documents:
            # One problem per unreadable file: why it is not a feed, if known, else that it has no entries.
            raise _Unreadable(
                f"{feed.problem}, no entries read" if feed.problem else "no entries in this feed", feed.problem_line
            )
        if feed.problem:
            on_problem(Problem(str(path), feed.problem, feed.problem_line))
        yield from feed.documents
        return
    if b"\x00" in data[:8192]:
        raise _Unreadable("binary file, not text")
    if suffix in HTML_SUFFIXES:
        article = extract_article(data)
        if article is None:
            raise _Unreadable("no article text found in this page")
        yield Document(
            id=Document.make_id(article.url or str(path), article.title, article.text),
            title=article.title,
            text=article.text,
            url=article.url,
            author=article.author,
            published=article.published,
            language=article.language,
            origin=str(path),
            outlet=article.site_name,
        )
        return
    yield _text_document(path, _decode(data))


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise _Unreadable(
                f"file is {size / 1e6:.0f} MB, over the {MAX_INPUT_BYTES // 2**20} MiB limit for one document"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise _Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise _Unreadable("empty file")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Unreadable(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None


def _text_document(path: Path, content: str) -> Document:
    """A .txt file: optional YAML front matter, then the text; its headline is the title (headline.py)."""
    meta: dict[str, object] = {}
    body = content
    if content.startswith("---\n") or content.startswith("---\r\n"):
        end = content.find("\n---", 3)
        if end == -1:
            raise _Unreadable("front matter starts with '---' but never ends", 1)
        meta = _front_matter(content[4:end])
        body = content[end + 4 :].split("\n", 1)[1] if "\n" in content[end + 4 :] else ""
    lines = body.splitlines()
    title = str(meta.get("title") or "")
    if not title:
        if not any(line.strip() for line in lines):
            raise _Unreadable("no text")
        title, lines = headline(lines)
    text = "\n".join(lines).strip()
    try:
        published = parse_time(meta.get("published"))
    except ValueError as exc:
        raise _Unreadable(f"front matter: published: {exc}", 1) from None
    url = str(meta["url"]) if meta.get("url") else None
    return Document(
        id=Document.make_id(url or str(path), title, text),
        title=title,
        text=text,
        url=url,
        published=published,
        source=str(meta["source"]) if meta.get("source") else None,
        language=str(meta["language"]) if meta.get("language") else None,
        origin=str(path),
        outlet=str(meta["source"]) if meta.get("source") else None,
    )


def _front_matter(block: str) -> dict[str, object]:
    try:
        data = YAML(typ="safe", pure=True).load(block)
    # ValueError: a date YAML recognises but the calendar does not (2024-02-30).
    except (YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _Unreadable(
            f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}",
            (mark.line + 2) if mark else 1,
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _Unreadable("front matter must be a mapping of title, url, published, source", 2)
    unknown = set(data) - FRONT_MATTER_KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise _Unreadable(f"front matter: unknown keys {names} (expected {', '.join(sorted(FRONT_MATTER_KEYS))})", 2)
    return data


def _read_records(path: Path, on_problem: OnProblem) -> Iterator[Document]:
    """Recorded Documents, one JSON object a line; a bad line is reported and skipped."""
    read = 0
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                if len(raw) > MAX_INPUT_BYTES:
                    on_problem(Problem(str(path), "record over the size limit, skipped", number))
                    continue
                try:
                    record = json.loads(raw)
                    if not isinstance(record, dict):
                        raise ValueError("expected a JSON object")
                    yield Document.from_record(record)
                    read += 1
                except (ValueError, TypeError) as exc:
                    on_problem(Problem(str(path), f"bad record: {exc}", number))
    except OSError as exc:
        raise _Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if read == 0:
        raise _Unreadable("no records")
