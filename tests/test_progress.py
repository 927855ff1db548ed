"""Progress bars on long replays and rule tests, on a terminal only: run under a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, RULES

ARTICLE = "Macron calls Putin\n\nFrench President Emmanuel Macron spoke with Vladimir Putin about talks, number {n}.\n"


def articles(directory: Path, count: int) -> Path:
    directory.mkdir()
    for n in range(count):
        (directory / f"{n:04d}.txt").write_text(ARTICLE.format(n=n), encoding="utf-8")
    return directory


def on_a_terminal(*args: str) -> tuple[int, str]:
    """Run `monitor ARGS` with stdout and stderr on a pseudo-terminal; its exit status and all it drew."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("CI", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args], stdout=follower, stderr=follower, stdin=subprocess.DEVNULL,
        cwd=ROOT, env=env,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(60), b"".join(chunks).decode("utf-8", "replace")


def test_a_long_replay_on_a_terminal_shows_a_bar_then_the_table(tmp_path: Path) -> None:
    status, drawn = on_a_terminal("replay", str(articles(tmp_path / "many", 120)))
    assert status == 0, drawn
    assert "replaying files" in drawn and "/120" in drawn
    assert "DOCUMENT" in drawn and "120 documents, 120 matched" in drawn


def rule_tests(tmp_path: Path, name: str, count: int) -> Path:
    paths = sorted(articles(tmp_path / name, count).glob("*.txt"))
    cases = "\n".join(f"  - input: {path}\n    match: [macron-putin-dialogue]" for path in paths)
    tests = tmp_path / f"{name}.yaml"
    tests.write_text(f"rules: {RULES}\ncases:\n{cases}\n", encoding="utf-8")
    return tests


def test_a_long_rule_test_run_on_a_terminal_shows_a_bar_and_a_short_one_or_a_pipe_none(tmp_path: Path) -> None:
    status, drawn = on_a_terminal("rules", "test", "--no-scores", str(rule_tests(tmp_path, "many", 110)))
    assert status == 0, drawn
    assert "testing cases" in drawn and "/110" in drawn and "110 cases: 110 passed, 0 failed: OK" in drawn
    status, drawn = on_a_terminal("rules", "test", "--no-scores", str(rule_tests(tmp_path, "few", 5)))
    assert status == 0 and "testing cases" not in drawn and "5 cases: 5 passed" in drawn
    piped = subprocess.run(
        [sys.executable, "-m", "monitor", "rules", "test", "--no-scores", str(tmp_path / "many.yaml")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert piped.returncode == 0 and "testing cases" not in piped.stdout + piped.stderr
