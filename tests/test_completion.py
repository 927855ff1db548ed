"""Shell completion, as docs/operations.md tells users to set it up: click's, through the console script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def complete(shell: str, words: str, cword: int) -> list[str]:
    env = {**os.environ, "_MONITOR_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-m", "monitor"], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell: str) -> None:
    env = {**os.environ, "_MONITOR_COMPLETE": f"{shell}_source"}
    done = subprocess.run([sys.executable, "-m", "monitor"], env=env, capture_output=True, text=True, check=True)
    assert "_monitor_completion" in done.stdout


def test_commands_subcommands_and_options_complete() -> None:
    assert complete("bash", "monitor al", 1) == ["plain,alerts"]
    assert complete("bash", "monitor alerts d", 2) == ["plain,dead"]
    assert "plain,--config" in complete("bash", "monitor feeds status --", 3)
