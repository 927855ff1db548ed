"""Store URLs are read exactly as redis-py reads them, or refused: the Redis written to is the one logged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from monitor.config import load_config
from monitor.errors import ConfigFileError
from monitor.store import RedisStore, StoreURLError, url_problem
from tests.conftest import ROOT

PASSWORD = "p@s/s"  # unencoded: redis-py would read host "s", port 6379 out of it


@pytest.mark.parametrize(
    ("url", "char"),
    [
        ("redis://:p@ss@127.0.0.1:18461/0", "@"),
        ("redis://:pa/ss@127.0.0.1:18461/0", "/"),
        ("redis://:pa#ss@127.0.0.1:18461/0", "#"),
        ("redis://:pa?ss@127.0.0.1:18461/0", "?"),
        ("rediss+cluster://:pa/ss@127.0.0.1:7000", "/"),
        ("redis+sentinel://:pa#ss@127.0.0.1:26379/news/0", "#"),
    ],
)
def test_an_unencoded_reserved_character_in_the_password_is_refused_without_showing_it(url: str, char: str) -> None:
    with pytest.raises(StoreURLError) as caught:
        RedisStore(url)
    message = str(caught.value)
    assert f"unencoded {char!r}: percent-encode it" in message
    assert "ss@" not in message and ":***@127.0.0.1" in message


def test_a_user_information_with_two_colons_is_ambiguous() -> None:
    assert "two ':'" in (url_problem("redis://us:er:pw@127.0.0.1:6379/0") or "")
    assert url_problem("redis://us:er%3Apw@127.0.0.1:6379/0") is None


def test_a_percent_encoded_password_connects_where_the_log_says(redis_url: str) -> None:
    host_port = redis_url.removeprefix("redis://").removesuffix("/0")
    client = redis.Redis.from_url(redis_url)
    client.config_set("requirepass", PASSWORD)
    try:
        store = RedisStore(f"redis://:p%40s%2Fs@{host_port}/0", prefix="url-test:")
        store.ping()
        assert store.description == f"redis store redis://:***@{host_port}/0"
        store.close()
    finally:
        authed = redis.Redis.from_url(redis_url, password=PASSWORD)
        authed.config_set("requirepass", "")
        authed.close()
        client.close()


def test_the_host_logged_is_the_one_connected_to_not_the_text() -> None:
    # No port and no database written: the description says which are used.
    assert RedisStore("redis://localhost").description == "redis store redis://localhost:6379/0"
    assert RedisStore("redis://u:pw@[::1]:7000/3").description == "redis store redis://u:***@[::1]:7000/3"


def test_the_config_refuses_such_a_url_in_the_file_or_in_redis_url(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds: feeds.yaml\nstore: redis://:p@s/s@127.0.0.1:18461/0\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, env={})
    (error,) = caught.value.errors
    assert error.startswith(f"{path}:2: 'store': the password in the store URL holds an unencoded '@'")
    path.write_text("feeds: feeds.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, env={"REDIS_URL": "redis://:pa?ss@127.0.0.1:18461/0"})
    (error,) = caught.value.errors
    assert error == "REDIS_URL: the password in the store URL holds an unencoded '?': percent-encode it (? as %3F)"


def test_monitor_run_exits_2_naming_the_fix(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    (tmp_path / "monitor.yaml").write_text(f"rules: {ROOT / 'rules'}\nfeeds: feeds.yaml\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_"))}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", "monitor.yaml", "--once"],
        cwd=tmp_path,
        env={**env, "REDIS_URL": "redis://:s3cr/et@127.0.0.1:18461/0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "percent-encode it (/ as %2F)" in done.stderr
    assert "s3cr" not in done.stderr and "Traceback" not in done.stderr
