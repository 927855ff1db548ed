"""`monitor alerts dead | retry | run` on a real SQLite file and the fake Slack."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.store import SQLiteStore
from tests.fakeslack import FakeSlack
from tests.notify.conftest import TOKEN, make_alert


def test_dead_lists_and_retry_requeues_then_run_delivers(tmp_path: Path, slack: FakeSlack) -> None:
    db = tmp_path / "monitor.db"
    store = SQLiteStore(db)
    store.outbox_add([make_alert(1).to_payload(), make_alert(2).to_payload()])
    runner = CliRunner()
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url}
    run = ["alerts", "run", "--drain", "--store", f"sqlite:{db}", "--pace", "0", "--default-channel", "#alerts"]

    slack.archived.add("#alerts")
    assert runner.invoke(cli, run, env=env).exit_code == 0
    listed = runner.invoke(cli, ["alerts", "dead", "--store", f"sqlite:{db}"])
    assert listed.exit_code == 0
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2 and all("\tis_archived\t" in line and "lithium-supply" in line for line in lines)
    assert TOKEN not in listed.output

    slack.archived.clear()
    first_id = lines[0].split("\t")[0]
    retried = runner.invoke(cli, ["alerts", "retry", first_id, "--store", f"sqlite:{db}"])
    assert retried.exit_code == 0 and "re-queued 1 alert(s)" in retried.stdout
    assert runner.invoke(cli, run, env=env).exit_code == 0
    assert [m.payload["alert_id"] for m in slack.posted()] == ["alert0001"]
    assert len(store.dead_list()) == 1

    assert runner.invoke(cli, ["alerts", "retry", "--store", f"sqlite:{db}"]).exit_code == 0
    assert runner.invoke(cli, run, env=env).exit_code == 0
    assert len(slack.posted()) == 2 and store.dead_list() == []
    assert runner.invoke(cli, ["alerts", "retry", "999", "--store", f"sqlite:{db}"]).exit_code == 1
    store.close()


def test_run_without_credentials_prints_to_the_console(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    store = SQLiteStore(db)
    store.outbox_add([make_alert(1).to_payload()])
    result = CliRunner().invoke(
        cli,
        [
            "alerts",
            "run",
            "--drain",
            "--dry-run",
            "--store",
            f"sqlite:{db}",
            "--pace",
            "0",
            "--default-channel",
            "#alerts",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"alert_ids": ["alert0001"]' in result.stdout and '"channel": "#alerts"' in result.stdout
    assert store.outbox_depth()[0] == 0
    store.close()


def test_store_down_is_one_line_without_the_password() -> None:
    from tests.servers import free_port

    port = free_port()
    # Unreachable: the command fails (1); unparseable (a '#' left unencoded): the store URL is refused (2).
    for password, code in (("PlainPW77", 1), ("Tr0ub4dor#3x", 2)):
        for command in (["alerts", "dead"], ["alerts", "retry"]):
            result = CliRunner().invoke(cli, [*command, "--store", f"redis://:{password}@127.0.0.1:{port}/0"])
            assert result.exit_code == code and isinstance(result.exception, SystemExit), result.output
            assert result.output.startswith("error: redis store redis://:***@127.0.0.1:")
            assert len(result.output.strip().splitlines()) == 1
            assert password.split("#")[0] not in result.output


def test_an_unreadable_token_file_is_one_line(tmp_path: Path) -> None:
    latin = tmp_path / "token"
    latin.write_bytes(b"xoxb-caf\xe9")
    store = f"sqlite:{tmp_path / 'monitor.db'}"
    for path, reason in ((tmp_path, f"cannot read {tmp_path}: Is a directory"), (latin, f"{latin} is not UTF-8 text")):
        result = CliRunner().invoke(
            cli, ["alerts", "run", "--drain", "--store", store], env={"SLACK_BOT_TOKEN_FILE": str(path)}
        )
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert result.output == f"error: SLACK_BOT_TOKEN_FILE: {reason}\n"
