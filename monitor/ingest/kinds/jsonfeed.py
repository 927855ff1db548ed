"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), read with the standard library's json.

Items give id (the GUID), url (else external_url), title, content_html or content_text (else summary),
date_published (else date_modified), authors (1.1; 1.0's author) and language (1.1; else the feed's).
A field of the wrong type makes its item unreadable, and the problem names the item; the others are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.document import parse_time
from monitor.ingest.kinds.base import EntryData, Parsed, primary_language
from monitor.ingest.markup import html_to_text

VERSION_PREFIX = "https://jsonfeed.org/version/"
_TYPES = ("application/feed+json",)
_VERSION = re.compile(rb'"version"\s*:\s*"https?:\\?/\\?/jsonfeed\.org')
_UTF_BOMS = {b"\xef\xbb\xbf": "utf-8-sig", b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}


class _BadItem(Exception):
    pass


class JsonFeedKind:
    """JSON Feed 1.0 and 1.1."""

    name = "jsonfeed"
    label = "a JSON Feed"
    read_under_rss = True

    def sniff(self, head: bytes, content_type: str) -> bool:
        served = content_type.split(";", 1)[0].strip().lower()
        if served in _TYPES:
            return True
        # A JSON object: a JSON Feed when its version says so, or served as JSON (its "version" may come
        # after the items; no RSS parser reads JSON anyway, and the JSON Feed one says what is missing).
        is_object = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
        return is_object and (bool(_VERSION.search(head)) or served == "application/json" or served.endswith("+json"))

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Parsed:
        try:
            data = json.loads(_text(body))
        except json.JSONDecodeError as exc:
            return Parsed(
                None, problem=f"JSON Feed is not valid JSON: {exc.msg} (column {exc.colno})", problem_line=exc.lineno
            )
        except UnicodeDecodeError as exc:
            return Parsed(None, problem=f"JSON Feed is not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})")
        except RecursionError:
            return Parsed(None, problem="JSON Feed is not valid JSON: nested too deeply")
        except ValueError as exc:  # a number of more digits than Python converts (int_max_str_digits)
            return Parsed(None, problem=f"JSON Feed is not valid JSON: {exc}")
        if not isinstance(data, dict) or not str(data.get("version", "")).startswith(VERSION_PREFIX):
            return Parsed(None, feed=False, problem=f'not a JSON Feed (no "version": "{VERSION_PREFIX}1.1")')
        title = data.get("title") if isinstance(data.get("title"), str) else None
        items = data.get("items")
        if not isinstance(items, list):
            return Parsed(title, problem=f"JSON Feed 'items' must be a list, not {_type(items)}")
        base = next((u for u in (data.get("feed_url"), data.get("home_page_url")) if _absolute(u)), None)
        language = primary_language(data.get("language"))
        entries: list[EntryData] = []
        bad: list[str] = []
        for number, item in enumerate(items, start=1):
            try:
                entry = _entry(item, base, language)
            except _BadItem as exc:
                bad.append(f"item {number}{_named(item)}: {exc}")
                continue
            if entry is not None:
                entries.append(entry)
        problem = None
        if bad:
            more = f" (and {len(bad) - 1} more item(s) skipped)" if len(bad) > 1 else ""
            problem = f"JSON Feed {bad[0]}{more}"
        return Parsed(title, entries, problem=problem)


KIND = JsonFeedKind()


def _text(body: bytes) -> str:
    for bom, encoding in _UTF_BOMS.items():
        if body.startswith(bom):
            return body.decode(encoding)
    return body.decode("utf-8")  # RFC 8259: JSON exchanged between systems is UTF-8


def _type(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _named(item: object) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str | int) and not isinstance(item.get("id"), bool):
        return f" (id {str(item['id'])[:80]!r})"
    return ""


def _absolute(url: object) -> bool:
    return isinstance(url, str) and urlsplit(url).scheme in ("http", "https")


def _string(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadItem(f"{key!r} must be a string, not {_type(value)}")
    return value


def _entry(item: object, base: str | None, language: str | None) -> EntryData | None:
    if not isinstance(item, dict):
        raise _BadItem(f"must be an object, not {_type(item)}")
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float | type(None)):
        raise _BadItem(f"'id' must be a string, not {_type(raw_id)}")
    guid = str(raw_id) if raw_id is not None and str(raw_id) else None  # 1.0 feeds give numbers: read as strings
    link = _string(item, "url") or _string(item, "external_url")
    if link and base and not _absolute(link):
        link = urljoin(base, link)
    title = " ".join((_string(item, "title") or "").split())
    html, plain, summary = _string(item, "content_html"), _string(item, "content_text"), _string(item, "summary")
    if html:
        text, content_from = html_to_text(html), "content"
    elif plain:
        text, content_from = plain.strip(), "content"
    else:
        text, content_from = (summary or "").strip(), "summary"
    raw_date = _string(item, "date_published") or _string(item, "date_modified")
    try:
        published = parse_time(raw_date)
    except ValueError:
        raise _BadItem(f"'date_published' must be an RFC 3339 date, not {raw_date!r}") from None
    if not title and not text:
        return None
    return EntryData(
        title=title,
        text=text,
        link=link or None,
        guid=guid,
        published=published,
        feed_date=raw_date,
        author=_authors(item),
        language=primary_language(item.get("language")) or language,
        content_from=content_from,
    )


def _authors(item: Mapping[str, Any]) -> str | None:
    """The names of 1.1's `authors` (else 1.0's `author`), joined."""
    raw = item.get("authors")
    if raw is None:
        raw = [item["author"]] if item.get("author") is not None else []
    if not isinstance(raw, list):
        raise _BadItem(f"'authors' must be a list, not {_type(raw)}")
    names = []
    for author in raw:
        if not isinstance(author, dict):
            raise _BadItem(f"each author must be an object, not {_type(author)}")
        name = author.get("name")
        if name is not None and not isinstance(name, str):
            raise _BadItem(f"an author's 'name' must be a string, not {_type(name)}")
        if name and name.strip():
            names.append(name.strip())
    return ", ".join(names) or None
