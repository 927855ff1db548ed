"""The command line as a user runs it: each command through its entry point, the program through `python -m`."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import __version__
from monitor.cli import COMMANDS, SUMMARIES
from tests.cli import run_monitor
from tests.conftest import DATA, ROOT, RULES, SEEDS


def monitor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The command in this process (tests/cli.py); the program itself, below, through `python -m monitor`."""
    return run_monitor(*args, cwd=cwd, env={"NO_COLOR": "1"})


def python_m_monitor(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
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
    # 004 opens with a paragraph: all of it is the text (its title is its first clause).
    text = (SEEDS / "004_55a7f2790308b870.txt").read_text(encoding="utf-8").strip()
    assert text[hit["start"] : hit["end"]] == "special envoy"
    assert 'appointment of a European "special envoy"' in envoy["snippet"]


# Bad input: warned about, one line each, never a traceback ----------------------------------------------


def test_replay_warns_once_per_bad_input_naming_it_and_still_shows_the_good_one(tmp_path: Path) -> None:
    seed = "seeds/003_cc65a377a44d1016.txt"
    bad = {
        "missing": tmp_path / "missing.txt",
        "empty": tmp_path / "empty.txt",
        "latin-1": tmp_path / "latin.txt",
        "front matter": tmp_path / "front-matter.txt",
        "not a feed": tmp_path / "broken.xml",
        "bad record": tmp_path / "recorded.jsonl",
    }
    bad["empty"].write_text("")
    bad["latin-1"].write_bytes("Headline\nCafé\n".encode("latin-1"))
    bad["front matter"].write_text("---\ntitle: T\npublished: 2024-02-30\n---\nBody\n")
    bad["not a feed"].write_bytes((DATA / "feeds" / "aaa_illformed.xml").read_bytes())
    bad["bad record"].write_text('{"title": "Recorded", "text": "Macron."}\n{"title": \n')

    result = monitor("replay", seed, *map(str, bad.values()))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == len(bad), result.stderr
    for path in bad.values():
        assert sum(w.startswith(f"warning: {path}:") for w in warnings) == 1, path
    assert f"warning: {bad['latin-1']}:2: not UTF-8" in result.stderr
    assert f"warning: {bad['bad record']}:2: bad record" in result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith(seed)]
    assert "eu-special-envoy" in row
    # The good record of the .jsonl is shown too, as entry 1 of its file, a long path clipped at its start.
    assert re.search(r"^…\S*/recorded\.jsonl#1\s+Recorded\s", result.stdout, re.M), result.stdout
    assert "2 documents, 1 matched" in result.stdout
    assert "6 problem(s)" in result.stdout


def test_replay_with_no_readable_input_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")

    result = monitor("replay", str(tmp_path / "missing.txt"), str(empty))

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"warning: {tmp_path / 'missing.txt'}: no such file or directory" in result.stderr
    assert f"warning: {empty}: empty file" in result.stderr
    assert "error: no input could be read" in result.stderr


def test_replay_without_paths_is_a_usage_error() -> None:
    result = monitor("replay")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Missing argument 'PATHS...'" in result.stderr


def test_replay_explain_shows_each_matched_term_in_its_text() -> None:
    result = monitor("replay", "--explain", "seeds/003_cc65a377a44d1016.txt")

    assert result.returncode == 0, result.stderr
    # Each hit as the article writes it, with the term that found it.
    marker = "'special representative' in text (term 'special representative*')"
    [line] = [line for line in result.stdout.splitlines() if marker in line]
    assert "pushed for the EU to designate a special representative to Russia" in line
    assert any("'designate' in text (term 'designat*')" in line for line in result.stdout.splitlines())


# Rules: check, test, and a broken rules directory ---------------------------------------------------------


@pytest.fixture
def broken_rules(tmp_path: Path) -> Path:
    """Two rule files, three errors: invalid YAML in one, a bad severity and an unknown key in the other."""
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "a.yaml").write_text("id: a\ntitle: A\nwhen: [Macron, Putin\nseverity: high\n")
    (directory / "b.yaml").write_text("id: b\ntitle: B\nwhen: Macron\nseverity: huge\ncolour: red\n")
    return directory


def _assert_every_rule_error(output: str, directory: Path) -> None:
    assert re.search(rf"^{re.escape(str(directory / 'a.yaml'))}:\d+: .*YAML", output, re.M), output
    assert f"{directory / 'b.yaml'}:4: severity" in output
    assert f"{directory / 'b.yaml'}:5: unknown key 'colour'" in output


def test_replay_with_a_broken_rules_directory_exits_2_with_file_line_errors(broken_rules: Path) -> None:
    result = monitor("replay", "--rules", str(broken_rules), "seeds/")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    _assert_every_rule_error(result.stderr, broken_rules)
    assert "seeds/" not in result.stdout


def test_rules_check_passes_on_the_shipped_rules() -> None:
    result = monitor("rules", "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"rules: \d+ rules OK( \(\d+ disabled\))?\n", result.stdout)


def test_rules_check_lists_every_error_in_every_file_at_once(broken_rules: Path) -> None:
    result = monitor("rules", "check", str(broken_rules))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    _assert_every_rule_error(result.stdout, broken_rules)
    assert "3 error(s)" in result.stderr


def test_rules_test_passes_on_the_shipped_tests() -> None:
    result = monitor("rules", "test")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^(\d+) cases: \1 passed, 0 failed: OK$", result.stdout, re.M), result.stdout


def test_rules_test_prints_the_case_that_differs_with_the_hits_of_the_unexpected_match(tmp_path: Path) -> None:
    tests = tmp_path / "tests.yaml"
    tests.write_text(
        f"rules: {RULES}\n"
        "cases:\n"
        f"  - input: {SEEDS / '002_0ce464d2b3789fd5.txt'}\n"
        "    match: [macron-putin-dialogue]\n"
        f"  - input: {SEEDS / '003_cc65a377a44d1016.txt'}\n"
        "    match: [macron-putin-dialogue]\n"
    )

    result = monitor("rules", "test", str(tests))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"{tests}:5: {SEEDS / '003_cc65a377a44d1016.txt'}: "
        "expected [macron-putin-dialogue], got [eu-special-envoy, macron-putin-dialogue]"
    ) in lines
    [hits] = [line for line in lines if line.startswith("    unexpected eu-special-envoy: ")]
    # 003's headline is its second line: the text is its first line (a date line) and the rest.
    assert "'designate' (text 618-627)" in hits
    assert "'special representative' (text 630-652)" in hits
    assert any("designate a special representative to Russia" in line for line in lines)
    assert not any("002_0ce464d2b3789fd5" in line for line in lines)
    assert "2 cases: 1 passed, 1 failed: FAILED" in lines


# The program itself -----------------------------------------------------------------------------------


def test_version_is_the_installed_version() -> None:
    result = python_m_monitor("--version")

    assert result.returncode == 0
    assert result.stdout == f"monitor, version {__version__}\n"


def test_help_lists_the_commands() -> None:
    result = python_m_monitor("--help")

    assert result.returncode == 0
    assert result.stdout.startswith("Usage: monitor [OPTIONS] COMMAND [ARGS]...")
    assert re.search(r"^  replay\s", result.stdout, re.M)
    assert re.search(r"^  rules\s", result.stdout, re.M)


def test_help_lists_each_command_with_its_own_summary_without_loading_the_commands() -> None:
    code = (
        "import sys; from monitor.cli import cli\n"
        "try: cli(['--help'], prog_name='monitor')\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('monitor.cli.') or m in ('trafilatura', 'datasketch')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"  # --help imported no command and none of the heavy libraries
    for name, target in COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert SUMMARIES[name] == (command.help or "").strip().splitlines()[0], name


def test_replay_shows_the_alerts_the_service_would_raise(tmp_path: Path) -> None:
    seed = SEEDS / "003_cc65a377a44d1016.txt"
    body = seed.read_text(encoding="utf-8").split("\n", 2)[2]
    copy = tmp_path / "copy.txt"
    copy.write_text("Another outlet: EU urged to talk to Moscow\n" + body + "\nSubscribe to our newsletter.\n")
    result = monitor("replay", "--format", "json", str(seed), str(seed), str(copy))
    assert result.returncode == 0, result.stderr
    first, again, syndicated = (json.loads(line) for line in result.stdout.splitlines())
    assert {(a["rule"], a["decision"]) for a in first["alerts"]} == {
        ("eu-special-envoy", "new"),
        ("macron-putin-dialogue", "new"),
    }
    assert again["duplicate"] is True
    assert {a["decision"] for a in again["alerts"]} == {"suppressed"}
    parents = {a["rule"]: a["alert_id"] for a in first["alerts"]}
    assert syndicated["story"] == first["story"]
    assert {(a["rule"], a["decision"], a["parent"]) for a in syndicated["alerts"]} == {
        (rule, "follow-up", alert) for rule, alert in parents.items()
    }

    table = monitor("replay", str(seed), str(copy))
    assert table.returncode == 0, table.stderr
    assert f"follow-up of {seed}" in table.stdout
    assert "alerts: 2 new, 2 follow-up, 0 suppressed" in table.stdout
