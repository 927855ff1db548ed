"""The feeds file: which feeds to poll and how, validated whole with `FILE:LINE: message` errors.

```yaml
defaults:              # optional; every key may also be set per feed
  interval: 5m         # a duration ("90s", "5m", "1h") or "auto"
  min_interval: 2m     # bounds of an `auto` interval
  max_interval: 1h
  full_text: true
feeds:
  - url: https://feeds.bbci.co.uk/news/world/rss.xml
    name: BBC World
    site: https://www.bbc.co.uk/news/world
    tags: [world]
    language: en
    headers: {Accept-Language: en}
  - url: https://www.example.com/news-sitemap.xml
    kind: news-sitemap   # rss (default: RSS, Atom, RDF, and JSON Feed), jsonfeed, news-sitemap
```
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import FeedsFileError
from monitor.ingest.http import Allowed
from monitor.ingest.kinds import DEFAULT as DEFAULT_KIND
from monitor.ingest.kinds import KINDS
from monitor.rules.loader import parse_duration
from monitor.yamlfile import ErrorList, YamlList, YamlMap, line_of, read_yaml, unknown_keys

DEFAULT_INTERVAL = timedelta(minutes=5)
DEFAULT_MIN_INTERVAL = timedelta(minutes=2)
DEFAULT_MAX_INTERVAL = timedelta(hours=1)
# Polling faster than this hammers a site and gains nothing: news feeds change every few minutes at most.
SHORTEST_INTERVAL = timedelta(seconds=30)
# A feed on this machine (a test or a local bridge) is no site to hammer: it may be polled this often.
SHORTEST_LOCAL_INTERVAL = timedelta(seconds=1)

TOP_KEYS = {"feeds", "defaults"}
SETTING_KEYS = {"interval", "min_interval", "max_interval", "full_text"}
FEED_KEYS = {"url", "name", "kind", "site", "tags", "language", "headers", "allow_networks"} | SETTING_KEYS
LANGUAGE_RE = re.compile(r"[a-z]{2}\Z")
HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
RESERVED_HEADERS = {"host", "if-none-match", "if-modified-since", "content-length", "accept-encoding"}


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One feed to poll.

    Attributes:
        url: the feed's URL; also its identity in the store and the scheduler.
        name: shown in logs and alerts; defaults to the URL's host.
        site: the website the feed belongs to (OPML's htmlUrl), when known: for people and exports.
        interval: time between polls; None means `auto` (learned, within min/max_interval).
        full_text: fetch and extract each new entry's article page.
        tags: free labels for the operator.
        language: ISO 639-1 code of the feed's articles, when known.
        headers: extra request headers (sorted pairs, so the config stays hashable).
        kind: how its body is read, a name in monitor.ingest.kinds.KINDS ("rss" also reads a JSON Feed).
        allow_networks: address ranges (with an optional port) this feed and its article pages may be
            fetched from although they are not public, beside the service's http.allow_networks.
        line: where the feed is defined in its file.
    """

    url: str
    name: str
    interval: timedelta | None = DEFAULT_INTERVAL
    min_interval: timedelta = DEFAULT_MIN_INTERVAL
    max_interval: timedelta = DEFAULT_MAX_INTERVAL
    full_text: bool = True
    tags: tuple[str, ...] = ()
    language: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    kind: str = DEFAULT_KIND
    site: str | None = None
    allow_networks: tuple[str, ...] = ()
    line: int = 0

    @property
    def auto(self) -> bool:
        return self.interval is None

    @property
    def schedule_interval(self) -> timedelta:
        """How often the feed's job runs: its interval, or the lower bound of an `auto` interval."""
        return self.interval if self.interval is not None else self.min_interval

    def header_map(self) -> dict[str, str]:
        return dict(self.headers)

    def allowed(self) -> tuple[Allowed, ...]:
        return tuple(Allowed.parse(n) for n in self.allow_networks)

    def same_job(self, other: FeedConfig) -> bool:
        """True when the two configs poll alike (the file line may differ)."""
        return _without_line(self) == _without_line(other)


def _without_line(feed: FeedConfig) -> tuple[Any, ...]:
    return (
        feed.url, feed.name, feed.interval, feed.min_interval, feed.max_interval, feed.full_text,
        feed.tags, feed.language, feed.headers, feed.kind, feed.allow_networks,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FeedsFile:
    """Every feed of a file, in file order."""

    path: Path
    feeds: tuple[FeedConfig, ...]


def http_host(url: str) -> str | None:
    """The host of an http or https URL; None for anything else, malformed ones included."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:  # "Invalid IPv6 URL", a port that is not a number
        return None
    return parts.hostname if parts.scheme in ("http", "https") and parts.hostname else None


def networks_problem(raw: Any) -> str | None:
    """What is wrong with an `allow_networks` list (a feed's, or the service's http one), if anything."""
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        return "must be a list of address ranges such as 10.0.0.0/8 or 127.0.0.1:8080"
    for network in raw:
        try:
            Allowed.parse(network)
        except ValueError as exc:
            return f"{network!r}: {exc}"
    return None


def load_feeds(path: Path) -> FeedsFile:
    """Read and validate a feeds file; raise FeedsFileError listing every problem."""
    errors = ErrorList()
    data = read_yaml(path, errors)
    feeds: list[FeedConfig] = []
    if not errors.items:
        feeds = _Parser(path, errors).file(data)
    if errors.items:
        raise FeedsFileError(errors.items)
    return FeedsFile(path, tuple(feeds))


def parse_feed_list(items: Any, path: Path, errors: ErrorList) -> list[FeedConfig]:
    """Feeds given inline (the service config's `feeds:` list), validated like a feeds file."""
    wrapper = YamlMap()
    wrapper["feeds"] = items
    return _Parser(path, errors).file(wrapper)


class _Parser:
    def __init__(self, path: Path, errors: ErrorList) -> None:
        self.path = path
        self.errors = errors

    def error(self, line: int, message: str) -> None:
        self.errors.add(self.path, max(line, 1), message)

    def file(self, data: Any) -> list[FeedConfig]:
        if not isinstance(data, YamlMap):
            self.error(line_of(data), "a feeds file is a mapping with a 'feeds' list")
            return []
        for line, message in unknown_keys(data, TOP_KEYS, "the feeds file"):
            self.error(line, message)
        defaults = self.settings(data.get("defaults", YamlMap()), "defaults", {}, line_of(data, "defaults"))
        if "defaults" in data and not isinstance(data["defaults"], YamlMap):
            self.error(line_of(data, "defaults"), "'defaults' must be a mapping")
        items = data.get("feeds")
        if not isinstance(items, YamlList):
            self.error(line_of(data, "feeds") if "feeds" in data else 1, "'feeds' must be a list of feeds")
            return []
        feeds: list[FeedConfig] = []
        urls: dict[str, int] = {}
        names: dict[str, int] = {}
        for index, item in enumerate(items):
            feed = self.feed(item, line_of(items, index), defaults)
            if feed is None:
                continue
            if feed.url in urls:
                self.error(feed.line, f"feed {feed.url!r} is listed twice (first at line {urls[feed.url]})")
                continue
            explicit = isinstance(item, YamlMap) and "name" in item
            if explicit and feed.name in names:
                self.error(feed.line, f"feed name {feed.name!r} is used twice (first at line {names[feed.name]})")
                continue
            urls[feed.url] = feed.line
            if explicit:
                names[feed.name] = feed.line
            feeds.append(feed)
        return feeds

    def settings(self, data: Any, what: str, inherited: Mapping[str, Any], line: int) -> dict[str, Any]:
        """interval/min_interval/max_interval/full_text from `data` over `inherited`."""
        values = dict(inherited)
        if not isinstance(data, YamlMap):
            return values
        if what == "defaults":
            for key_line, message in unknown_keys(data, SETTING_KEYS, "defaults"):
                self.error(key_line, message)
        for key in ("min_interval", "max_interval"):
            if key in data:
                value = self.duration(data[key], line_of(data, key), key)
                if value is not None:
                    values[key] = value
        if "interval" in data:
            raw = data["interval"]
            if isinstance(raw, str) and raw.strip().lower() == "auto":
                values["interval"] = None
            else:
                value = self.duration(raw, line_of(data, "interval"), "interval", allow_auto=True)
                if value is not None:
                    values["interval"] = value
        if "full_text" in data:
            if isinstance(data["full_text"], bool):
                values["full_text"] = data["full_text"]
            else:
                self.error(line_of(data, "full_text"), "'full_text' must be true or false")
        return values

    def duration(self, raw: Any, line: int, key: str, allow_auto: bool = False) -> timedelta | None:
        value = parse_duration(raw)
        if value is None:
            extra = ' or "auto"' if allow_auto else ""
            self.error(line, f"{key!r} must be a duration such as 90s, 5m or 1h{extra}, not {raw!r}")
            return None
        if value < SHORTEST_LOCAL_INTERVAL:
            self.error(line, f"{key!r} must be at least {int(SHORTEST_INTERVAL.total_seconds())}s, not {raw!r}")
            return None
        return value

    def feed(self, item: Any, line: int, defaults: Mapping[str, Any]) -> FeedConfig | None:
        if not isinstance(item, YamlMap):
            self.error(line, "each feed is a mapping with at least a 'url'")
            return None
        line = line_of(item) or line
        before = len(self.errors.items)
        for key_line, message in unknown_keys(item, FEED_KEYS, "a feed"):
            self.error(key_line, message)
        url = self.url(item.get("url"), line_of(item, "url") if "url" in item else line)
        values = self.settings(item, "feed", defaults, line)
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            self.error(line_of(item, "name"), "'name' must be a non-empty string")
        site = item.get("site")
        if site is not None and (not isinstance(site, str) or http_host(site.strip()) is None):
            self.error(line_of(item, "site"), f"'site' must be an http or https URL with a host, not {site!r}")
        kind = self.kind(item.get("kind", DEFAULT_KIND), line_of(item, "kind") if "kind" in item else line)
        tags = self.strings(item.get("tags", []), line_of(item, "tags") if "tags" in item else line)
        language = item.get("language")
        if language is not None and (not isinstance(language, str) or not LANGUAGE_RE.match(language)):
            self.error(line_of(item, "language"), f"'language' must be a two-letter code such as en, not {language!r}")
        headers = self.headers(item.get("headers", YamlMap()), line_of(item, "headers") if "headers" in item else line)
        allow = self.networks(
            item.get("allow_networks", []), line_of(item, "allow_networks") if "allow_networks" in item else line
        )
        low = values.get("min_interval", DEFAULT_MIN_INTERVAL)
        high = values.get("max_interval", DEFAULT_MAX_INTERVAL)
        if low > high:
            self.error(line, "'min_interval' is longer than 'max_interval'")
        shortest = min(low, values.get("interval") or low)
        if url is not None and shortest < SHORTEST_INTERVAL and not _local(url):
            key = "interval" if "interval" in item else "min_interval" if "min_interval" in item else None
            raw = repr(item[key]) if key else f"{int(shortest.total_seconds())}s (from defaults)"
            seconds = int(SHORTEST_INTERVAL.total_seconds())
            self.error(
                line_of(item, key) if key else line,
                f"'{key or 'interval'}' must be at least {seconds}s for a feed not on this machine, not {raw}",
            )
        if len(self.errors.items) > before or url is None:
            return None
        return FeedConfig(
            url=url,
            name=name.strip() if isinstance(name, str) else (urlsplit(url).hostname or url),
            interval=values.get("interval", DEFAULT_INTERVAL),
            min_interval=low,
            max_interval=high,
            full_text=values.get("full_text", True),
            tags=tuple(tags),
            language=language,
            headers=headers,
            kind=kind,
            allow_networks=allow,
            site=site.strip() if isinstance(site, str) else None,
            line=line,
        )

    def url(self, raw: Any, line: int) -> str | None:
        if raw is None:
            self.error(line, "a feed needs a 'url'")
            return None
        if not isinstance(raw, str):
            self.error(line, f"'url' must be a string, not {raw!r}")
            return None
        if http_host(raw.strip()) is None:
            self.error(line, f"'url' must be an http or https URL with a host, not {raw!r}")
            return None
        return raw.strip()

    def kind(self, raw: Any, line: int) -> str:
        if isinstance(raw, str) and raw in KINDS:
            return raw
        close = difflib.get_close_matches(str(raw).strip().lower(), list(KINDS), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.error(line, f"'kind' must be one of {', '.join(KINDS)}, not {raw!r}{hint}")
        return DEFAULT_KIND

    def networks(self, raw: Any, line: int) -> tuple[str, ...]:
        problem = networks_problem(raw)
        if problem is not None:
            self.error(line, f"'allow_networks': {problem}")
            return ()
        return tuple(raw)

    def strings(self, raw: Any, line: int) -> list[str]:
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            self.error(line, "'tags' must be a list of strings")
            return []
        return list(raw)

    def headers(self, raw: Any, line: int) -> tuple[tuple[str, str], ...]:
        if not isinstance(raw, YamlMap):
            self.error(line, "'headers' must be a mapping of header name to value")
            return ()
        pairs: list[tuple[str, str]] = []
        for key, value in raw.items():
            key_line = line_of(raw, key)
            if not isinstance(key, str) or not HEADER_NAME_RE.match(key):
                self.error(key_line, f"invalid header name {key!r}")
            elif key.lower() in RESERVED_HEADERS:
                self.error(key_line, f"header {key!r} is set by the poller and cannot be overridden")
            elif not isinstance(value, str | int) or isinstance(value, bool) or "\n" in str(value):
                self.error(key_line, f"header {key!r} must have a one-line string value")
            else:
                pairs.append((key, str(value)))
        return tuple(sorted(pairs))


def _local(url: str) -> bool:
    """The URL's host is this machine (a name that is not an address counts as remote)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
