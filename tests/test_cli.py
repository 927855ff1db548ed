"""The command line through its real entry point, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SEEDS


def monitor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_replay_seeds_prints_each_seed_with_its_rules() -> None:
    result = monitor("replay", "seeds/")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("seeds/")]
    assert len(rows) == 5
    assert "eu-special-envoy" in next(r for r in rows if r.startswith("seeds/003"))
    assert "5 documents, 5 matched" in result.stdout


def test_replay_json_is_one_object_per_document_in_the_spec_format() -> None:
    result = monitor("replay", "--format", "json", str(SEEDS / "004_55a7f2790308b870.txt"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["path"].endswith("seeds/004_55a7f2790308b870.txt")
    envoy = next(m for m in record["matches"] if m["rule"] == "eu-special-envoy")
    assert envoy["severity"] == "high"
    hit = next(h for h in envoy["hits"] if h["term"].startswith("special envoy"))
    text = (SEEDS / "004_55a7f2790308b870.txt").read_text(encoding="utf-8").split("\n", 1)[1].strip()
    assert text[hit["start"] : hit["end"]] == "special envoy"
    assert 'appointment of a European "special envoy"' in envoy["snippet"]
