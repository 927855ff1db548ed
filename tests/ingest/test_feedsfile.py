"""The feeds file: defaults, and every error as FILE:LINE: message."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.errors import FeedsFileError
from monitor.ingest.feedsfile import load_feeds
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(FeedsFileError) as caught:
        load_feeds(path)
    return caught.value.errors


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          interval: 10m
        feeds:
          - url: https://feeds.example.org/world.xml
          - url: https://other.example.org/rss
            name: Other
            interval: auto
            min_interval: 1m
            max_interval: 2h
            full_text: false
            tags: [world, europe]
            language: fr
            headers:
              Accept-Language: fr
        """,
    )
    first, second = load_feeds(path).feeds
    assert first.name == "feeds.example.org" and first.interval == timedelta(minutes=10) and first.full_text
    assert first.line == 4
    assert second.auto and second.schedule_interval == timedelta(minutes=1)
    assert second.max_interval == timedelta(hours=2) and not second.full_text
    assert second.tags == ("world", "europe") and second.language == "fr"
    assert second.header_map() == {"Accept-Language": "fr"}


def test_every_error_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        feeds:
          - url: https://a.example.org/rss
            intervall: 5m
          - url: ftp://b.example.org/rss
          - name: no url
          - url: https://c.example.org/rss
            interval: often
          - url: https://d.example.org/rss
            interval: 5s
          - url: https://e.example.org/rss
            full_text: yes please
            language: French
            headers:
              If-None-Match: x
          - url: https://f.example.org/rss
            min_interval: 2h
            max_interval: 1h
          - url: https://g.example.org/rss
          - url: https://g.example.org/rss
          - url: http://[::1/rss
          - url: http://h.example.org:port/rss
            interval: 99999999999999w
        """,
    )
    errors = errors_of(path)
    assert errors == [
        f"{path}:3: unknown key 'intervall' in a feed (did you mean 'interval'? expected one of: allow_networks, "
        "full_text, headers, interval, kind, language, max_interval, min_interval, name, site, tags, url)",
        f"{path}:4: 'url' must be an http or https URL with a host, not 'ftp://b.example.org/rss'",
        f"{path}:5: a feed needs a 'url'",
        f"{path}:7: 'interval' must be a duration such as 90s, 5m or 1h or \"auto\", not 'often'",
        f"{path}:9: 'interval' must be at least 30s for a feed not on this machine, not '5s'",
        f"{path}:11: 'full_text' must be true or false",
        f"{path}:12: 'language' must be a two-letter code such as en, not 'French'",
        f"{path}:14: header 'If-None-Match' is set by the poller and cannot be overridden",
        f"{path}:15: 'min_interval' is longer than 'max_interval'",
        f"{path}:19: feed 'https://g.example.org/rss' is listed twice (first at line 18)",
        f"{path}:20: 'url' must be an http or https URL with a host, not 'http://[::1/rss'",
        f"{path}:21: 'url' must be an http or https URL with a host, not 'http://h.example.org:port/rss'",
        f"{path}:22: 'interval' must be a duration such as 90s, 5m or 1h or \"auto\", not '99999999999999w'",
    ]


def test_top_level_errors(tmp_path: Path) -> None:
    assert errors_of(write(tmp_path, "- just a list\n")) == [
        f"{tmp_path / 'feeds.yaml'}:1: a feeds file is a mapping with a 'feeds' list"
    ]
    path = write(tmp_path, "feeds: {}\nextra: 1\n")
    assert errors_of(path) == [
        f"{path}:2: unknown key 'extra' in the feeds file (expected one of: defaults, feeds)",
        f"{path}:1: 'feeds' must be a list of feeds",
    ]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: [unclosed\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:") and "invalid YAML" in error


def test_missing_file(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path / "nope.yaml")
    assert error.startswith(f"{tmp_path / 'nope.yaml'}:0: cannot read file")


def test_shipped_example_is_valid() -> None:
    feeds = load_feeds(ROOT / "deploy" / "feeds.example.yaml").feeds
    names = {f.name for f in feeds}
    for expected in ("BBC World", "The Guardian World", "France 24", "DW", "Al Jazeera", "The Moscow Times"):
        assert expected in names
    assert any("news.google.com" in f.url and "Macron" in f.url for f in feeds)


def test_same_job_ignores_the_line(tmp_path: Path) -> None:
    one = load_feeds(write(tmp_path, "feeds:\n  - url: https://a.example.org/rss\n")).feeds[0]
    two = load_feeds(write(tmp_path, "# moved down\nfeeds:\n  - url: https://a.example.org/rss\n")).feeds[0]
    assert one.line != two.line and one.same_job(two)


def test_a_feed_on_this_machine_may_be_polled_every_second(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        feeds:
          - url: http://127.0.0.1:8080/feed.xml
            interval: 2s
          - url: http://localhost:8080/other.xml
            interval: 1s
        """,
    )
    assert [f.interval for f in load_feeds(path).feeds] == [timedelta(seconds=2), timedelta(seconds=1)]


def test_a_feed_may_allow_its_own_private_addresses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        feeds:
          - url: http://intranet.example/feed.xml
            allow_networks: [10.20.0.0/16, "10.30.0.5:8080"]
          - url: http://other.example/feed.xml
            allow_networks: [10.20.0.0/16, "10.30.0.5:port"]
        """,
    )
    assert errors_of(path) == [f"{path}:5: 'allow_networks': '10.30.0.5:port': 'port' is not a port (1 to 65535)"]
    path.write_text(path.read_text().replace("10.30.0.5:port", "[fd00::1]:443"), encoding="utf-8")
    first, second = load_feeds(path).feeds
    assert [(str(a.network), a.port) for a in first.allowed()] == [("10.20.0.0/16", None), ("10.30.0.5/32", 8080)]
    assert second.allow_networks == ("10.20.0.0/16", "[fd00::1]:443")
