"""The service config: defaults, FILE:LINE errors, relative paths, inline feeds, environment overrides."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import DEFAULT_FEEDS, DEFAULT_RULES, load_config, parse_listen
from monitor.errors import ConfigFileError


def write(directory: Path, text: str, name: str = "monitor.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, env={})
    return caught.value.errors


FEEDS = "feeds:\n  - url: http://127.0.0.1:9/feed.xml\n"


def test_no_config_means_the_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    write(tmp_path / "deploy", FEEDS, "feeds.example.yaml")
    config = load_config(None, env={})
    assert (config.rules, config.feeds_path, config.store) == (DEFAULT_RULES, DEFAULT_FEEDS, "sqlite:monitor.db")
    assert [f.url for f in config.feeds] == ["http://127.0.0.1:9/feed.xml"]
    assert set(config.defaults_used) == {"rules", "feeds", "store"}


def test_a_full_config(tmp_path: Path) -> None:
    write(tmp_path, FEEDS, "feeds.yaml")
    path = write(
        tmp_path,
        """
        rules: my-rules
        feeds: feeds.yaml
        store: redis://127.0.0.1:6379/2
        store_prefix: "news:"
        seen_ttl: 7d
        realert: 6h
        record: recordings
        slack:
          default_channel: "#alerts"
          critical_mention: S0123ABC
          pace: 2s
          burst_size: 5
        metrics:
          listen: "[::1]:9200"
        http:
          timeout: 30s
          max_bytes: 2097152
          max_redirects: 3
          per_host: 4
          allow_networks: [127.0.0.0/8]
        extract:
          workers: 3
          time_limit: 15s
        shutdown_grace: 45s
        log_level: debug
        replica: worker-1
        """,
    )
    config = load_config(path, env={})
    assert config.rules == tmp_path / "my-rules" and config.record == tmp_path / "recordings"
    assert config.store == "redis://127.0.0.1:6379/2" and config.store_prefix == "news:"
    assert (config.seen_ttl, config.realert) == (timedelta(days=7), timedelta(hours=6))
    assert (config.slack.default_channel, config.slack.critical_mention) == ("#alerts", "S0123ABC")
    assert (config.slack.pace, config.slack.burst_size) == (2.0, 5)
    assert config.metrics_listen == ("::1", 9200)
    assert (config.http.timeout, config.http.max_bytes, config.http.per_host) == (30.0, 2097152, 4)
    assert config.http.allow_networks == ("127.0.0.0/8",)
    assert (config.extract_workers, config.extract_time_limit) == (3, 15.0)
    assert (config.shutdown_grace, config.log_level, config.replica) == (timedelta(seconds=45), "debug", "worker-1")
    assert config.defaults_used == ()


def test_every_error_with_its_line_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        rules: rules
        feeds: [not a feed]
        stor: redis://x
        store: postgres://db/x
        seen_ttl: forever
        slack:
          channel: "#x"
        metrics:
          listen: nowhere
        http:
          per_host: 0
        log_level: loud
        """,
    )
    errors = errors_of(path)
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:{n}" for n in (2, 3, 4, 5, 7, 9, 11, 12)]
    assert "each feed is a mapping" in errors[0]
    assert "unknown key 'stor' in the config file" in errors[1]
    assert "'store' must be a redis://, redis+cluster://, redis+sentinel:// or sqlite: URL" in errors[2]
    assert "'seen_ttl' must be a duration" in errors[3]


def test_the_feeds_file_it_names_is_validated_too(tmp_path: Path) -> None:
    feeds = write(tmp_path, "feeds:\n  - url: ftp://x\n", "feeds.yaml")
    path = write(tmp_path, "feeds: feeds.yaml\n")
    assert errors_of(path) == [f"{feeds}:2: 'url' must be an http or https URL with a host, not 'ftp://x'"]


def test_inline_feeds(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: http://127.0.0.1:9/a.xml\n    interval: 2s\n")
    config = load_config(path, env={})
    assert config.feeds_path is None
    assert [(f.url, f.interval) for f in config.feeds] == [("http://127.0.0.1:9/a.xml", timedelta(seconds=2))]


def test_environment_overrides_the_store(tmp_path: Path) -> None:
    write(tmp_path, FEEDS, "feeds.yaml")
    path = write(tmp_path, "feeds: feeds.yaml\nstore: sqlite:state.db\n")
    assert load_config(path, env={}).store == f"sqlite:{tmp_path / 'state.db'}"
    assert load_config(path, env={"REDIS_URL": "redis://r:6379/0"}).store == "redis://r:6379/0"


def test_the_store_url_never_shows_in_the_config_repr(tmp_path: Path) -> None:
    write(tmp_path, FEEDS, "feeds.yaml")
    path = write(tmp_path, "feeds: feeds.yaml\nstore: redis://:hunter2@db:6379/0\n")
    assert "hunter2" not in repr(load_config(path, env={}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:9108", ("127.0.0.1", 9108)), ("[::1]:80", ("::1", 80)), ("0.0.0.0:0", None), ("host", None)],
)
def test_parse_listen(text: str, expected: tuple[str, int] | None) -> None:
    assert parse_listen(text) == expected


def test_allow_networks_must_be_address_ranges(tmp_path: Path) -> None:
    path = write(tmp_path, FEEDS + "http:\n  allow_networks: ['10.0.0.0/8', notacidr]\n")
    assert errors_of(path) == [
        f"{path}:4: 'allow_networks': 'notacidr': not an address range such as 10.0.0.0/8 or 127.0.0.1:8080"
    ]
