"""One way to name a deployment: every command that touches the store finds it as `monitor run` does.

--store, else REDIS_URL, else the config file's `store` (--config, else MONITOR_CONFIG), else
sqlite:monitor.db in the working directory; a store that is not there is an error, never a new file.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.ingest.poll import FeedState
from monitor.store import RedisStore, SQLiteStore, Store
from tests.fakeslack import FakeSlack, fake_slack
from tests.notify.conftest import TOKEN, make_alert

NO_ENV = {"REDIS_URL": None, "MONITOR_CONFIG": None, "SLACK_BOT_TOKEN": None, "SLACK_WEBHOOK_URL": None}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: what a default store would be created in."""
    directory = tmp_path / "cwd"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack(TOKEN) as server:
        yield server


def invoke(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**NO_ENV, **env})


def fill(store: Store, feed_name: str) -> None:
    """One dead letter and one feed's state, as the service leaves them."""
    store.dead_add(make_alert(7).to_payload(), "channel_not_found")
    store.save_feed_state(f"https://{feed_name}.example/rss", FeedState(name=feed_name, failures=3).to_dict())


def test_with_redis_url_set_the_operator_commands_read_redis_and_create_no_file(
    redis_url: str, workdir: Path, tmp_path: Path
) -> None:
    prefix = f"dep{uuid.uuid4().hex[:8]}:"
    config = tmp_path / "monitor.yaml"
    config.write_text(f'store_prefix: "{prefix}"\n', encoding="utf-8")
    store = RedisStore(redis_url, prefix=prefix)
    fill(store, "InRedis")

    dead = invoke("alerts", "dead", "--config", str(config), REDIS_URL=redis_url)
    assert dead.exit_code == 0, dead.output
    assert "\tchannel_not_found\t" in dead.stdout and "1 dead letter(s)" in dead.stderr
    status = invoke("feeds", "status", "--format", "json", MONITOR_CONFIG=str(config), REDIS_URL=redis_url)
    assert status.exit_code == 0, status.output
    assert [json.loads(line)["name"] for line in status.stdout.splitlines()] == ["InRedis"]
    retried = invoke("alerts", "retry", MONITOR_CONFIG=str(config), REDIS_URL=redis_url)
    assert retried.exit_code == 0 and "re-queued 1 alert(s)" in retried.stdout
    assert store.dead_count() == 0 and store.outbox_depth()[0] == 1
    assert list(workdir.iterdir()) == []  # no monitor.db beside the operator
    store.close()


def test_the_config_files_store_is_used_relative_to_the_file(workdir: Path, tmp_path: Path) -> None:
    deployment = tmp_path / "etc"
    deployment.mkdir()
    (deployment / "monitor.yaml").write_text("store: sqlite:state/monitor.db\n", encoding="utf-8")
    (deployment / "state").mkdir()
    store = SQLiteStore(deployment / "state" / "monitor.db")
    fill(store, "FromTheFile")
    store.close()

    for args, env in (
        (["--config", str(deployment / "monitor.yaml")], {}),
        ([], {"MONITOR_CONFIG": str(deployment / "monitor.yaml")}),
    ):
        dead = invoke("alerts", "dead", *args, **env)
        assert dead.exit_code == 0 and "\tchannel_not_found\t" in dead.stdout, dead.output
        status = invoke("feeds", "status", *args, **env)
        assert status.exit_code == 0 and status.stdout.splitlines()[1].startswith("FromTheFile"), status.output
    assert list(workdir.iterdir()) == []


def test_store_beats_redis_url_beats_the_config_file(workdir: Path, tmp_path: Path) -> None:
    stores = {}
    for name in ("flag", "env", "file"):
        stores[name] = tmp_path / f"{name}.db"
        opened = SQLiteStore(stores[name])
        fill(opened, f"Named-by-{name}")
        opened.close()
    config = tmp_path / "monitor.yaml"
    config.write_text(f"store: sqlite:{stores['file']}\n", encoding="utf-8")

    def shown(*args: str, **env: str | None) -> str:
        result = invoke("feeds", "status", "--config", str(config), *args, **env)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()[1].split()[0]

    assert shown() == "Named-by-file"
    assert shown(REDIS_URL=f"sqlite:{stores['env']}") == "Named-by-env"
    assert shown("--store", f"sqlite:{stores['flag']}", REDIS_URL=f"sqlite:{stores['env']}") == "Named-by-flag"


@pytest.mark.parametrize("command", [["alerts", "dead"], ["alerts", "retry"], ["feeds", "status"]])
def test_a_store_that_is_not_there_is_an_error_not_a_new_empty_file(
    command: list[str], workdir: Path, tmp_path: Path
) -> None:
    default = invoke(*command)
    assert default.exit_code == 2
    assert default.output.splitlines() == [
        f"error: no store at {workdir / 'monitor.db'} (the default store, sqlite:monitor.db: no --config,"
        " MONITOR_CONFIG or REDIS_URL): name the deployment with --config FILE (or MONITOR_CONFIG), REDIS_URL"
        " or --store URL"
    ]
    config = tmp_path / "monitor.yaml"
    config.write_text("store: sqlite:gone/monitor.db\n", encoding="utf-8")
    named = invoke(*command, "--config", str(config))
    assert named.exit_code == 2
    assert named.output.startswith(f"error: no store at {tmp_path / 'gone' / 'monitor.db'} (the 'store' of {config})")
    assert list(workdir.iterdir()) == [] and not (tmp_path / "gone").exists()


def test_a_config_file_that_is_not_there_is_named(workdir: Path) -> None:
    for command in (["alerts", "dead"], ["feeds", "status"], ["alerts", "run", "--drain"]):
        result = invoke(*command, "--config", "nowhere.yaml")
        assert result.exit_code == 2 and result.output == "error: config file nowhere.yaml not found\n"
    run = invoke("run", MONITOR_CONFIG="nowhere.yaml")
    assert run.exit_code == 2 and run.output == "error: config file nowhere.yaml not found (from MONITOR_CONFIG)\n"
    assert list(workdir.iterdir()) == []


def test_run_without_its_files_says_which_are_missing_and_how_to_point_at_them(workdir: Path) -> None:
    result = invoke("run", "--once")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: rules directory {workdir / 'rules'} not found (the embedded default: no --config or MONITOR_CONFIG)",
        f"error: feeds file {workdir / 'deploy' / 'feeds.example.yaml'} not found (the embedded default: no --config"
        " or MONITOR_CONFIG)",
        "hint: without a config file `monitor run` uses ./rules and ./deploy/feeds.example.yaml (run it in a checkout"
        " of the project), or pass --config FILE or set MONITOR_CONFIG (docs/configuration.md)",
    ]
    config = workdir / "monitor.yaml"
    config.write_text("rules: my-rules\n", encoding="utf-8")
    (workdir / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
    named = invoke("run", "--once", "--config", str(config))
    assert named.exit_code == 2
    assert named.output.splitlines() == [
        f"error: rules directory {workdir / 'my-rules'} not found ('rules' in {config})",
        "hint: fix the path in the config file, or create what it names (docs/configuration.md)",
    ]
    assert sorted(p.name for p in workdir.iterdir()) == ["feeds.yaml", "monitor.yaml"]  # no store was opened


def test_alerts_run_delivers_with_the_config_files_slack_settings(
    workdir: Path, tmp_path: Path, slack: FakeSlack
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"store: sqlite:{tmp_path / 'monitor.db'}\nslack:\n  default_channel: C0FROMFILE\n  pace: 0\n", encoding="utf-8"
    )
    store = SQLiteStore(tmp_path / "monitor.db")
    store.outbox_add([make_alert(1, channels=()).to_payload(), make_alert(2, channels=()).to_payload()])
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url}
    first = invoke("alerts", "run", "--drain", "--config", str(config), **env)
    assert first.exit_code == 0, first.output
    assert {m.channel for m in slack.posted()} == {"C0FROMFILE"}
    store.outbox_add([make_alert(3, channels=()).to_payload()])
    again = invoke("alerts", "run", "--drain", "--config", str(config), "--default-channel", "C0FLAG", **env)
    assert again.exit_code == 0, again.output
    assert [m.channel for m in slack.posted()][-1] == "C0FLAG"  # an option given wins over the file
    store.close()
