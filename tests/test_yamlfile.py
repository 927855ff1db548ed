"""The YAML reader: libyaml's speed, ruamel.yaml's values, lines and error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor import yamlfile
from monitor.yamlfile import MAX_YAML_BYTES, ErrorList, Stream, YamlList, YamlMap, line_of, read_yaml

ROOT = Path(__file__).resolve().parent.parent
# Every YAML file the project ships (rules, lists, rule tests, feeds, config, deployment).
SHIPPED = sorted(
    p
    for p in ROOT.glob("**/*.y*ml")
    if p.suffix in (".yaml", ".yml") and ".venv" not in p.parts and ".git" not in p.parts
)


def careful(path: Path) -> Any:
    """What ruamel.yaml alone reads (the reader used before libyaml, and the fallback)."""
    errors = ErrorList()
    data = yamlfile._read_ruamel(path.read_text(encoding="utf-8"), path, errors, None)
    assert not errors.items
    return data


def lines(value: Any) -> Any:
    """Every line the containers remember, as plain data (for comparing two readings)."""
    if isinstance(value, YamlMap):
        return (value.line, {k: (value.lines[k], lines(v)) for k, v in value.items()})
    if isinstance(value, YamlList):
        return (value.line, [(value.lines[i], lines(v)) for i, v in enumerate(value)])
    return (type(value) is bool, value)


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_fast_reader_reads_every_shipped_file_as_ruamel_does(path: Path) -> None:
    fast = yamlfile._FastReader(path.read_text(encoding="utf-8"), None).document()
    assert lines(fast) == lines(careful(path))


def test_shipped_files_were_found() -> None:
    assert len(SHIPPED) >= 10
    assert any(p.parts[-2] == "lists" for p in SHIPPED)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.2, as before: yes/no/on/off are words (Norwegian is `no`), not booleans.
        ("a: [yes, no, on, off, y, n]\n", ["yes", "no", "on", "off", "y", "n"]),
        ("a: [true, False, TRUE, null, ~, '', 12, -3, '12']\n", [True, False, True, None, None, "", 12, -3, "12"]),
        ("a: [1.5, -2.0e3, 7.]\n", [1.5, -2000.0, 7.0]),
        ("a: [0777, 0x1F, 1_000, .inf, 2024-01-01]\n", None),  # left to ruamel: compared below
        ("a: &x [b]\nc: *x\n", None),
        ("a: |\n  one\n  two\nb: >\n  folded\n  text\n", None),
    ],
)
def test_values_are_typed_as_ruamel_types_them(tmp_path: Path, text: str, expected: Any) -> None:
    path = write(tmp_path, text)
    data = read_yaml(path, ErrorList())
    assert lines(data) == lines(careful(path))
    if expected is not None:
        assert data["a"] == expected
        assert [type(v) for v in data["a"]] == [type(v) for v in expected]


def test_lines_of_keys_and_items(tmp_path: Path) -> None:
    path = write(tmp_path, "# comment\nid: r\nwhen:\n  all:\n    - Putin\n    - [a,\n       b]\n")
    data = read_yaml(path, ErrorList())
    assert line_of(data) == 2 and line_of(data, "when") == 3
    items = data["when"]["all"]
    assert [line_of(items, 0), line_of(items, 1)] == [5, 6]
    assert line_of(items[1], 1) == 7
    assert line_of(data, "missing") == 2 and line_of("a scalar") == 0


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: [b\n", 1, "is not closed as written"),
        ("a: 'open\nb: c\n", 1, "a quote opened on this line is never closed"),
        ("a: b\na: c\n", 2, "duplicate key"),
        ("a:\n\t- b\n", 2, "a tab"),
        ("a: b\n---\nc: d\n", 2, "but found another document"),
    ],
)
def test_errors_are_ruamels_with_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    errors = ErrorList()
    assert read_yaml(path, errors) is None
    assert len(errors.items) == 1, errors.items
    assert errors.items[0].startswith(f"{path}:{line}: invalid YAML: ")
    assert message in errors.items[0]


def test_a_stream_hands_over_items_as_they_are_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - id: a\n  - id: b\nother: [x]\n")
    got: list[tuple[Any, int]] = []
    data = read_yaml(path, ErrorList(), Stream("rules", lambda item, line: got.append((item, line)), got.clear))
    assert got == [({"id": "a"}, 2), ({"id": "b"}, 3)]
    assert data["rules"] == [None, None] and data["other"] == ["x"]


def test_a_stream_read_again_by_ruamel_starts_over(tmp_path: Path) -> None:
    # The anchor is met after the first item was handed over: the file is read again, from the start.
    path = write(tmp_path, "rules:\n  - id: a\n  - &b {id: b}\n")
    got: list[tuple[Any, int]] = []
    read_yaml(path, ErrorList(), Stream("rules", lambda item, line: got.append((item, line)), got.clear))
    assert got == [({"id": "a"}, 2), ({"id": "b"}, 3)]


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_YAML_BYTES + 1)  # sparse: no disk used, and never read
    errors = ErrorList()
    assert read_yaml(path, errors) is None
    assert errors.items == [
        f"{path}:0: file is {MAX_YAML_BYTES + 1:,} bytes, over the limit for a YAML file (128 MiB):"
        " split it into several files"
    ]


@pytest.mark.parametrize(
    "scalar",
    ["true", "True", "TRUE", "tRue", "false", "FALSE", "null", "Null", "NULL", "nULL", "~", "0", "-0", "+1", "007",
     "1e3", "1.0", ".5", "-.inf", ".nan", "nan", "0o17", "0x1f", "1_000", "12:30", "2024-01-01", "1.2.3", "+",
     "-a", "no", "off", "N", "y", "tag"],
)  # fmt: skip
def test_each_plain_scalar_is_what_ruamel_makes_of_it(tmp_path: Path, scalar: str) -> None:
    path = write(tmp_path, f"a: {scalar}\nb: [{scalar}]\n")
    fast, slow = read_yaml(path, ErrorList()), careful(path)
    assert lines(fast) == lines(slow)
    assert isinstance(fast["a"], str) == isinstance(slow["a"], str)  # a word stays a word, a number a number
