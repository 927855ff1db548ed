"""`monitor ARGS` in the test's own process: the exit code, stdout and stderr `python -m monitor ARGS` ends with.

A new interpreter costs each command a second or two of importing (the libraries, the language model,
the sentence encoder); the suite runs some hundred of them. Here the command runs through the same
entry point (`monitor.cli`, as the console script calls it) with its own stdout, stderr, working
directory and environment variables. An exception that escapes it is printed as Python prints one, a
traceback on stderr and exit code 1, so that a test saying "no traceback" still fails on one; and the
logging set-up each command does for its process is undone afterwards. tests/test_cli.py keeps
`python -m monitor` itself covered.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

import structlog

from monitor.cli import cli


def run_monitor(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`monitor ARGS` run in `cwd` with the environment `env` (default: this one) added to this one."""
    # Text over bytes, as a process's own: a command may write bytes to sys.stdout.buffer.
    stdout, stderr = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2))
    with (
        _restored_process_state(),
        _environment(env or {}),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        code = _exit_code(list(args))
    return subprocess.CompletedProcess(["monitor", *args], code, _text(stdout), _text(stderr))


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    # As subprocess.run(text=True) reads a pipe: universal newlines.
    return raw.getvalue().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _exit_code(args: list[str]) -> int:
    try:
        cli.main(args, prog_name="monitor")
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)  # as Python does with sys.exit("message")
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


@contextlib.contextmanager
def _environment(changes: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(changes)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """Undo what a command sets up for its whole process: structlog's and the root logger's output."""
    root = logging.getLogger()
    config, handlers, level = structlog.get_config(), list(root.handlers), root.level
    try:
        yield
    finally:
        structlog.configure(**config)
        root.handlers = handlers
        root.setLevel(level)
