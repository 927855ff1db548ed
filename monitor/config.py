"""The service config: one YAML file, validated whole at start, secrets and URLs from the environment.

Every key is documented in docs/configuration.md; deploy/monitor.example.yaml is a complete example.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from monitor.errors import ConfigFileError, FeedsFileError
from monitor.ingest.entries import DEFAULT_LEASE
from monitor.ingest.feedsfile import FeedConfig, load_feeds, networks_problem, parse_feed_list
from monitor.ingest.http import HttpSettings
from monitor.ingest.pages import DEFAULT_TIME_LIMIT
from monitor.rules.loader import parse_duration
from monitor.store import redact_url, url_problem
from monitor.store.base import DEFAULT_SEEN_TTL
from monitor.stories import DEFAULT_REALERT, GROUPERS, StoriesConfig
from monitor.stories.events import DECISIONS, EventSettings
from monitor.yamlfile import ErrorList, YamlList, YamlMap, line_of, read_yaml, unknown_keys

DEFAULT_STORE = "sqlite:monitor.db"
STORE_SCHEMES = (
    "redis://", "rediss://", "redis+cluster://", "rediss+cluster://", "redis+sentinel://", "unix://", "sqlite:",
)  # fmt: skip
# The embedded defaults, relative to the working directory: what `monitor run` uses with no config.
DEFAULT_RULES = Path("rules")
DEFAULT_FEEDS = Path("deploy/feeds.example.yaml")

TOP_KEYS = {
    "rules", "feeds", "store", "store_prefix", "seen_ttl", "entry_lease", "realert", "record", "slack", "metrics",
    "http", "extract", "shutdown_grace", "log_level", "replica", "stories",
}  # fmt: skip
SLACK_KEYS = {"default_channel", "critical_mention", "pace", "burst_size", "timeout"}
METRICS_KEYS = {"listen"}
HTTP_KEYS = {"timeout", "max_bytes", "max_redirects", "per_host", "queue_timeout", "user_agent", "allow_networks"}
EXTRACT_KEYS = {"workers", "time_limit"}
STORIES_KEYS = {
    "grouper", "model", "lede_words", "sentence_weight", "sentences", "names_weight", "across_languages", "threshold",
    "untimed_threshold", "window", "state_ttl", "max_reports", "decision",
}  # fmt: skip
LOG_LEVELS = ("debug", "info", "warning", "error")
_LISTEN_RE = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[^:\s]+):(?P<port>\d{1,5})\Z")


@dataclass(frozen=True, slots=True)
class SlackConfig:
    default_channel: str = "#news-alerts"
    critical_mention: str | None = None
    pace: float = 1.0
    burst_size: int = 20
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything `monitor run` needs. Secrets (Slack token, webhook) are not kept here: the
    notifier reads them from the environment, so that they never pass through config dumps."""

    path: Path | None = None
    rules: Path = DEFAULT_RULES
    feeds_path: Path | None = DEFAULT_FEEDS
    feeds: tuple[FeedConfig, ...] = ()
    store: str = field(default=DEFAULT_STORE, repr=False)
    store_prefix: str = "monitor:"
    seen_ttl: timedelta = DEFAULT_SEEN_TTL
    entry_lease: timedelta = DEFAULT_LEASE
    realert: timedelta = DEFAULT_REALERT
    record: Path | None = None
    slack: SlackConfig = field(default_factory=SlackConfig)
    metrics_listen: tuple[str, int] | None = ("127.0.0.1", 9108)
    http: HttpSettings = field(default_factory=HttpSettings)
    extract_workers: int | None = None
    extract_time_limit: float = DEFAULT_TIME_LIMIT
    shutdown_grace: timedelta = timedelta(seconds=20)
    log_level: str = "info"
    replica: str | None = None
    stories: StoriesConfig = field(default_factory=StoriesConfig)
    # Which settings came from where, for the first log lines (never secrets).
    defaults_used: tuple[str, ...] = ()


def parse_listen(value: str) -> tuple[str, int] | None:
    """ "HOST:PORT" (IPv6 as "[::1]:9108") -> (host, port); None if malformed."""
    found = _LISTEN_RE.match(value.strip())
    if not found or not 0 < int(found["port"]) < 65536:
        return None
    return found["host"].strip("[]"), int(found["port"])


class _Reader:
    """Typed reads from one mapping of the config file, each error located by line."""

    def __init__(self, path: Path, errors: ErrorList) -> None:
        self.path = path
        self.errors = errors

    def error(self, line: int, message: str) -> None:
        self.errors.add(self.path, max(line, 1), message)

    def section(self, data: YamlMap, key: str, allowed: set[str]) -> YamlMap:
        value = data.get(key)
        if value is None:
            return YamlMap()
        if not isinstance(value, YamlMap):
            self.error(line_of(data, key), f"'{key}' must be a mapping")
            return YamlMap()
        for line, message in unknown_keys(value, allowed, f"'{key}'"):
            self.error(line, message)
        return value

    def duration(self, data: YamlMap, key: str, default: timedelta) -> timedelta:
        if key not in data:
            return default
        value = parse_duration(data[key])
        if not value:
            self.error(line_of(data, key), f"'{key}' must be a duration such as 30s, 5m or 24h, got {data[key]!r}")
            return default
        return value

    def seconds(self, data: YamlMap, key: str, default: float) -> float:
        """A duration ("2s", "1m") or a number of seconds (0.5)."""
        if key in data and isinstance(data[key], int | float) and not isinstance(data[key], bool):
            return self.number(data, key, default)
        return self.duration(data, key, timedelta(seconds=default)).total_seconds()

    def number(self, data: YamlMap, key: str, default: float, minimum: float = 0) -> float:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self.error(line_of(data, key), f"'{key}' must be a number >= {minimum}, got {value!r}")
            return default
        return float(value)

    def integer(self, data: YamlMap, key: str, default: int, minimum: int = 1) -> int:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(line_of(data, key), f"'{key}' must be an integer >= {minimum}, got {value!r}")
            return default
        return value

    def text(self, data: YamlMap, key: str, default: str | None) -> str | None:
        if key not in data or data[key] is None:
            return default
        if not isinstance(data[key], str) or not data[key].strip():
            self.error(line_of(data, key), f"'{key}' must be a non-empty string")
            return default
        return str(data[key]).strip()

    def path_of(self, data: YamlMap, key: str, default: Path | None) -> Path | None:
        raw = self.text(data, key, None)
        if raw is None:
            return default
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.path.parent / path


def load_config(path: Path | None, env: Mapping[str, str] | None = None, *, feeds: bool = True) -> Config:
    """The config from `path` (None: the embedded defaults), with environment overrides applied.

    Raises ConfigFileError listing every problem, including those of the feeds it names.
    feeds=False leaves the feeds file unread (`with_feeds` reads it): for the commands that need
    only the store and the Slack settings, and to check that the files exist first.
    """
    env = os.environ if env is None else env
    config = Config(defaults_used=("rules", "feeds", "store")) if path is None else _read(path)
    store = env.get("REDIS_URL") or config.store
    if not store.startswith(STORE_SCHEMES):
        shown = redact_url(store)
        raise ConfigFileError([f"REDIS_URL: must be a {', '.join(STORE_SCHEMES[:5])} URL, got {shown!r}"])
    problem = url_problem(store) if env.get("REDIS_URL") else None
    if problem is not None:
        raise ConfigFileError([f"REDIS_URL: {problem}"])
    config = replace(config, store=store)
    return with_feeds(config) if feeds else config


def with_feeds(config: Config) -> Config:
    """The config with the feeds of its feeds file (inline feeds are read with the file); raises ConfigFileError."""
    if config.feeds_path is None:
        return config
    try:
        return replace(config, feeds=load_feeds(config.feeds_path).feeds)
    except FeedsFileError as exc:
        raise ConfigFileError(exc.errors) from None


def _read(path: Path) -> Config:
    errors = ErrorList()
    data = read_yaml(path, errors)
    if errors.items:
        raise ConfigFileError(errors.items)
    if data is None:
        data = YamlMap()
    if not isinstance(data, YamlMap):
        raise ConfigFileError([f"{path}:1: the config file must be a mapping of settings"])
    reader = _Reader(path, errors)
    for line, message in unknown_keys(data, TOP_KEYS, "the config file"):
        reader.error(line, message)

    # A config file's paths, given or default, are relative to the file (rules/ and feeds.yaml beside it).
    feeds_path: Path | None = path.parent / "feeds.yaml"
    inline: tuple[FeedConfig, ...] = ()
    if isinstance(data.get("feeds"), YamlList):
        feeds_path = None
        inline = tuple(parse_feed_list(data["feeds"], path, errors))
    elif "feeds" in data:
        feeds_path = reader.path_of(data, "feeds", feeds_path)

    store = reader.text(data, "store", DEFAULT_STORE) or DEFAULT_STORE
    if not store.startswith(STORE_SCHEMES):
        reader.error(
            line_of(data, "store"), "'store' must be a redis://, redis+cluster://, redis+sentinel:// or sqlite: URL"
        )
    elif (problem := url_problem(store)) is not None:
        reader.error(line_of(data, "store"), f"'store': {problem}")
    # The default store is state, kept in the working directory; a relative one written in the file is
    # relative to the file, like every other path in it.
    if (
        "store" in data
        and store.startswith("sqlite:")
        and not store.startswith("sqlite:/")
        and store != "sqlite::memory:"
    ):
        store = f"sqlite:{path.parent / store.removeprefix('sqlite:')}"

    slack = reader.section(data, "slack", SLACK_KEYS)
    metrics = reader.section(data, "metrics", METRICS_KEYS)
    http = reader.section(data, "http", HTTP_KEYS)
    extract = reader.section(data, "extract", EXTRACT_KEYS)
    stories = _stories(reader, reader.section(data, "stories", STORIES_KEYS))

    listen: tuple[str, int] | None = ("127.0.0.1", 9108)
    if "listen" in metrics:
        raw = metrics["listen"]
        listen = None if raw in (None, False) else parse_listen(str(raw))
        if raw not in (None, False) and listen is None:
            reader.error(line_of(metrics, "listen"), f"'listen' must be HOST:PORT, got {raw!r}")

    allow = http.get("allow_networks", [])
    problem = networks_problem(allow)
    if problem is not None:
        reader.error(line_of(http, "allow_networks"), f"'allow_networks': {problem}")
        allow = []
    defaults = HttpSettings()
    http_settings = HttpSettings(
        timeout=reader.duration(http, "timeout", timedelta(seconds=defaults.timeout)).total_seconds(),
        max_bytes=reader.integer(http, "max_bytes", defaults.max_bytes, minimum=1024),
        max_redirects=reader.integer(http, "max_redirects", defaults.max_redirects, minimum=0),
        per_host=reader.integer(http, "per_host", defaults.per_host),
        queue_timeout=reader.duration(http, "queue_timeout", timedelta(seconds=defaults.queue_timeout)).total_seconds(),
        user_agent=reader.text(http, "user_agent", defaults.user_agent) or defaults.user_agent,
        allow_networks=tuple(allow),
    )
    workers = extract.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        reader.error(line_of(extract, "workers"), f"'workers' must be an integer >= 1, got {workers!r}")
        workers = None
    level = reader.text(data, "log_level", "info") or "info"
    if level not in LOG_LEVELS:
        reader.error(line_of(data, "log_level"), f"'log_level' must be one of {', '.join(LOG_LEVELS)}")
        level = "info"

    config = Config(
        path=path,
        rules=reader.path_of(data, "rules", path.parent / "rules") or DEFAULT_RULES,
        feeds_path=feeds_path,
        feeds=inline,
        store=store,
        store_prefix=reader.text(data, "store_prefix", "monitor:") or "monitor:",
        seen_ttl=reader.duration(data, "seen_ttl", DEFAULT_SEEN_TTL),
        entry_lease=reader.duration(data, "entry_lease", DEFAULT_LEASE),
        realert=reader.duration(data, "realert", DEFAULT_REALERT),
        record=reader.path_of(data, "record", None),
        slack=SlackConfig(
            default_channel=reader.text(slack, "default_channel", "#news-alerts") or "#news-alerts",
            critical_mention=reader.text(slack, "critical_mention", None),
            pace=reader.seconds(slack, "pace", 1.0),
            burst_size=reader.integer(slack, "burst_size", 20),
            timeout=reader.duration(slack, "timeout", timedelta(seconds=10)).total_seconds(),
        ),
        metrics_listen=listen,
        http=http_settings,
        extract_workers=workers,
        extract_time_limit=reader.duration(
            extract, "time_limit", timedelta(seconds=DEFAULT_TIME_LIMIT)
        ).total_seconds(),
        shutdown_grace=reader.duration(data, "shutdown_grace", timedelta(seconds=20)),
        log_level=level,
        replica=reader.text(data, "replica", None),
        stories=stories,
        defaults_used=tuple(k for k in ("rules", "feeds", "store") if k not in data),
    )
    if errors.items:
        raise ConfigFileError(sorted(errors.items, key=_line_number))
    return config


def _stories(reader: _Reader, section: YamlMap) -> StoriesConfig:
    default = StoriesConfig()
    grouper = reader.text(section, "grouper", default.grouper) or default.grouper
    if grouper not in GROUPERS:
        reader.error(line_of(section, "grouper"), f"'grouper' must be one of {', '.join(GROUPERS)}, got {grouper!r}")
        grouper = default.grouper
    events = default.events
    sentence_weight = reader.number(section, "sentence_weight", events.sentence_weight)
    if sentence_weight > 1:
        reader.error(line_of(section, "sentence_weight"), f"'sentence_weight' must be 0 to 1, got {sentence_weight}")
        sentence_weight = events.sentence_weight
    decision = reader.text(section, "decision", events.decision) or events.decision
    if decision not in DECISIONS:
        reader.error(
            line_of(section, "decision"), f"'decision' must be one of {', '.join(DECISIONS)}, got {decision!r}"
        )
        decision = events.decision
    return StoriesConfig(
        grouper=grouper,
        model=reader.text(section, "model", default.model) or default.model,
        events=EventSettings(
            lede_words=reader.integer(section, "lede_words", events.lede_words),
            sentence_weight=sentence_weight,
            sentences=reader.integer(section, "sentences", events.sentences),
            names_weight=reader.number(section, "names_weight", events.names_weight),
            across_languages=reader.number(section, "across_languages", events.across_languages),
            threshold=reader.number(section, "threshold", events.threshold),
            untimed_threshold=reader.number(section, "untimed_threshold", events.untimed_threshold),
            window=reader.duration(section, "window", events.window),
            ttl=reader.duration(section, "state_ttl", events.ttl),
            cap=reader.integer(section, "max_reports", events.cap),
            decision=decision,
        ),
    )


def _line_number(error: str) -> int:
    """The LINE of `FILE:LINE: message`, for listing a file's errors top to bottom."""
    where = error.split(": ", 1)[0]
    return int(where.rsplit(":", 1)[1]) if where.rsplit(":", 1)[-1].isdigit() else 0
