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


# The plain reader -----------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """Values with their types, as plain data (True is not 1, nan is its repr; ruamel.yaml's
    subclasses of str, int and float as those)."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    kind = next((t for t in (bool, int, float, str) if isinstance(value, t)), type(value))
    return (kind.__name__, repr(kind(value)) if kind is not type(value) else repr(value))


def item_lines(data: Any) -> list[int]:
    """The lines read_plain gives: of each item of a lone top-level `rules` list, else of the mapping."""
    if isinstance(data, YamlMap) and list(data) == ["rules"] and isinstance(data["rules"], YamlList):
        return list(data["rules"].lines)
    return [line_of(data)]


def assert_plain_as_careful(path: Path) -> bool:
    """read_plain refuses the file (False), or reads the values ruamel.yaml does, with the lines of
    its items that read_yaml gives (True)."""
    plain = yamlfile.read_plain(path, "rules")
    if plain is None:
        return False
    assert typed(plain.data) == typed(careful(path)) == typed(read_yaml(path, ErrorList()))
    assert plain.lines == item_lines(read_yaml(path, ErrorList()))
    return True


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_plain_reader_reads_every_shipped_file_as_ruamel_does(path: Path) -> None:
    read = assert_plain_as_careful(path)
    if path.parts[-2] == "rules":
        assert read, "a shipped rule file is plain YAML: the fast way must take it"


@pytest.mark.parametrize(
    "scalar",
    ["true", "True", "TRUE", "tRue", "false", "FALSE", "null", "Null", "NULL", "nULL", "~", "0", "-0", "+1", "007",
     "1e3", "1.0", ".5", "-.inf", ".nan", "nan", "0o17", "0x1f", "1_000", "12:30", "2024-01-01", "1.2.3", "+",
     "-a", "no", "off", "N", "y", "tag", ".5e3", "0b101", "=", "12h", "1h30m", "1.", "-1", "0X1F", "2_", "''",
     "0O17", "+0x1F", "-0o7", "1E3", "+.5", "1e+3", "1.5E-3", "Infinity", ".Inf", "+.INF", "-.NaN", ".NAN", "0.",
     "-0.0", "00", "1__0", "+12", "-", "- a", ":", "a:b", "@x", "`x", "%x", "#x"],
)  # fmt: skip
def test_plain_reader_types_each_plain_scalar_as_ruamel_does_or_refuses(tmp_path: Path, scalar: str) -> None:
    assert_plain_as_careful(write(tmp_path, f"a: {scalar}\nb: [{scalar}]\nc:\n  - {scalar}\n"))


@pytest.mark.parametrize(
    "text",
    [
        "rules:\n  - id: a\n    title: 'x\n  - id: b'\n  - id: c\n",  # an item start inside a quoted title
        "rules:\n- id: a\n  when: [x,\n- y]\n",
        "rules:\n  -\n    id: a\n  - id: b\n",  # an item that starts on the line after its dash
        "rules:\n  - id: a\n  - 'id': b\n",
        "# c\n\nrules:  # the rules\n  # one\n  - id: a\n\n  - title: b\n    id: b\n",
        "\n# c\nid: a\ntitle: A\n",
        "{id: a, title: A}\n",
        "rules: [{id: a}, {id: b}]\n",
        "rules:\n  - id: a\nother: 1\n",
        "a: &x [b]\nc: *x\n",
        "a: |\n  one\n  two\nb: >\n  folded\n  text\n",
        "a: b\na: c\n",
        "a: b\n---\nc: d\n",
        "a: 'it''s'\nb: \"tab\\tand \\u00e9\"\n",
    ],
)
def test_plain_reader_lines_and_values_are_the_careful_ones_or_it_refuses(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    try:
        careful(path)
    except AssertionError:  # not YAML ruamel.yaml reads: the plain reader must refuse it too
        assert yamlfile.read_plain(path, "rules") is None
        return
    assert_plain_as_careful(path)


def test_plain_reader_takes_a_file_of_rules_with_the_line_of_each(tmp_path: Path) -> None:
    path = write(tmp_path, "# c\nrules:\n  - id: a\n    when: x\n\n  # b\n  - id: b\n    when: [y, z]\n")
    plain = yamlfile.read_plain(path, "rules")
    assert plain is not None
    assert plain.lines == [3, 7]
    assert plain.data == {"rules": [{"id": "a", "when": "x"}, {"id": "b", "when": ["y", "z"]}]}


# The item reader ------------------------------------------------------------------------------


def assert_items_as_careful(path: Path) -> bool:
    """plain_items does not take the file (False), or cuts it into items that parse, each alone, as
    ruamel.yaml reads the items of its `rules` list, at their lines (True)."""
    items = yamlfile.plain_items(path, "rules")
    if items is None:
        return False
    parsed = items.parse(range(len(items)))
    if parsed is None:
        return False
    whole = careful(path)
    assert list(whole) == ["rules"]
    assert typed(parsed) == typed(whole["rules"])
    assert items.lines == list(whole["rules"].lines)
    # Each item alone, and any few of them together, parse as they do in the file.
    for i in range(len(items)):
        assert typed(items.parse([i])) == typed([whole["rules"][i]])
    if len(items) >= 3:
        assert typed(items.parse([0, len(items) - 1])) == typed([whole["rules"][0], whole["rules"][-1]])
    return True


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_item_reader_reads_every_shipped_file_as_ruamel_does(path: Path) -> None:
    assert_items_as_careful(path)


@pytest.mark.parametrize(
    "text",
    [
        "rules:\n  - id: a\n    title: 'x\n  - id: b'\n  - id: c\n",  # an item start inside a quoted title
        'rules:\n  - id: a\n    title: "x\n  - id: b"\n',
        "rules:\n- id: a\n  when: [x,\n- y]\n",
        "rules:\n  - id: a\n    when: {all: [x,\n  - y]}\n",
        "rules:\n  -\n    id: a\n  - id: b\n",  # an item that starts on the line after its dash
        "rules:\n  - \n    id: a\n  - id: b\n",
        "rules:\n  - id: a\n  - 'id': b\n",
        "# c\n\nrules:  # the rules\n  # one\n  - id: a\n\n  - title: b\n    id: b\n# end\n",
        "rules:#x\n  - id: a\n",
        "rules:\n  - id: a\nother: 1\n",
        "other: 1\nrules:\n  - id: a\n",
        "rules:\n  - id: a\n rules: 1\n",
        "rules:\n  - id: a\n - id: b\n",
        "rules:\n  - id: a\n    - b\n",
        "rules:\n  - id: a\n    when: |\n      - one\n     two\n  - id: b\n",
        "rules:\n  - id: a\n    text: |\n  - id: b\n",
        "rules:\n  - id: a\n    text: |\n",  # an empty block scalar at the end of the file
        "rules:\n  - id: a\n    text: |+\n      x\n\n\n  # c\n  - id: b\n    text: >-\n      y\n\n",
        "rules:\n  - id: a\n  - id: b",  # no line break at the end
        "rules:\n  - id: a\n    title: one\n      two\n  - id: b\n",
        "rules:\n  - id: a\n    tags: [x, y]\n  - id: b\n    when: &w x\n  - id: c\n    when: *w\n",
        "rules:\n  - id: a\n---\nrules:\n  - id: b\n",
        "rules:\n  - id: a\n  - id: a\n",
        "rules:\n  - id: a\n    id: b\n",
        "rules:\n  - id: a\n    when: 2024-01-01\n",
        "rules:\n  - id: a\n    when: 'it''s'\n  - id: \"b\\u00e9\"\n    when: é\n",
        "rules:\n  - id: a\n    when:\n      - x\n      -  y\n  - {id: b}\n",
    ],
)
def test_item_reader_reads_items_as_careful_or_does_not_take_them(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    try:
        careful(path)
    except AssertionError:  # not YAML ruamel.yaml reads: the item reader must not take it either
        items = yamlfile.plain_items(path, "rules")
        assert items is None or items.parse(range(len(items))) is None
        return
    assert_items_as_careful(path)


def test_item_reader_cuts_a_file_at_its_items_with_the_line_of_each(tmp_path: Path) -> None:
    path = write(tmp_path, "# c\nrules:\n  - id: a\n    when: x\n\n  # b\n  - id: b\n    when: [y, z]\n  - id: c\n")
    items = yamlfile.plain_items(path, "rules")
    assert items is not None
    assert items.lines == [3, 7, 9]
    assert [items.text(i) for i in range(3)] == [
        b"  - id: a\n    when: x\n\n  # b\n",
        b"  - id: b\n    when: [y, z]\n",
        b"  - id: c\n",
    ]
    assert items.parse([0, 2]) == [{"id": "a", "when": "x"}, {"id": "c"}]
    # The key of an item follows its text alone.
    before = items.keys()
    path.write_text("# c\nrules:\n  - id: a\n    when: x\n\n  # b\n  - id: b\n    when: [y, w]\n  - id: c\n")
    after = yamlfile.plain_items(path, "rules")
    assert after is not None
    keys = after.keys()
    assert keys[0] == before[0] and keys[2] == before[2] and keys[1] != before[1]
    assert len(set(before)) == 3
