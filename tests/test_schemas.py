"""docs/schemas/ agree with the loaders: on every file the project ships and every fixture, a file the
loader accepts is valid against its schema, and one the schema rejects the loader rejects too.

Fixtures (tests/data/schemas/KIND/*.yaml) say what to expect on their first line:
`# expect: valid` (both accept), `invalid` (both reject), `loader-only` (the loader rejects what no
schema can see: an undefined $list, a broken regex, a URL listed twice...).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from ruamel.yaml import YAML

from monitor.config import load_config
from monitor.errors import ValidationError
from monitor.ingest.feedsfile import load_feeds
from monitor.rules.loader import load_rules
from tests.conftest import DATA, ROOT, RULES

SCHEMAS = ROOT / "docs" / "schemas"
FIXTURES = DATA / "schemas"


def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in SCHEMAS.glob("*.schema.json")
    ]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=REGISTRY)


def plain(text: str) -> Any:
    """The YAML as the JSON data an editor's schema check sees."""
    return YAML(typ="safe", pure=True).load(text)


def schema_errors(name: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(data)]


def loader_errors(load: Callable[[], object]) -> list[str]:
    try:
        load()
    except ValidationError as exc:
        return list(exc.errors)
    return []


# Loading one file as its loader does ------------------------------------------------------------------


def load_rule_file(tmp_path: Path, text: str) -> Callable[[], object]:
    """The rule file alone in a rules directory with the shipped shared lists (the rules may use them)."""
    directory = tmp_path / "rules"
    shutil.copytree(RULES / "lists", directory / "lists")
    (directory / "rule.yaml").write_text(text, encoding="utf-8")
    return lambda: load_rules(directory)


def load_feeds_file(tmp_path: Path, text: str) -> Callable[[], object]:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return lambda: load_feeds(path)


def load_config_file(tmp_path: Path, text: str) -> Callable[[], object]:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return lambda: load_config(path, env={}, feeds=False)


LOADERS = {"rule": load_rule_file, "feeds": load_feeds_file, "config": load_config_file}
KIND_SCHEMA = {"rules": "rule", "feeds": "feeds", "config": "config"}


def fixtures() -> Iterator[tuple[str, Path]]:
    for kind in sorted(KIND_SCHEMA):
        for path in sorted((FIXTURES / kind).glob("*.yaml")):
            yield kind, path


@pytest.mark.parametrize(("kind", "path"), list(fixtures()), ids=lambda v: v if isinstance(v, str) else v.stem)
def test_each_fixture_is_judged_alike_by_its_schema_and_its_loader(kind: str, path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expect = text.splitlines()[0].removeprefix("# expect:").strip()
    assert expect in ("valid", "invalid", "loader-only"), f"{path}: first line must be '# expect: ...'"
    name = KIND_SCHEMA[kind]
    by_schema = schema_errors(name, plain(text))
    by_loader = loader_errors(LOADERS[name](tmp_path, text))
    if expect == "valid":
        assert by_schema == [] and by_loader == [], (by_schema, by_loader)
    elif expect == "invalid":
        assert by_schema and by_loader, f"schema: {by_schema}; loader: {by_loader}"
    else:
        assert by_loader and by_schema == [], f"schema: {by_schema}; loader: {by_loader}"


def shipped() -> Iterator[tuple[str, str, str]]:
    """(schema, where, YAML text) for every such file the project ships, ConfigMaps and Compose included."""
    for path in sorted(RULES.glob("*.yaml")):
        yield "rule", str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    for path in sorted((RULES / "lists").glob("*.yaml")):
        yield "lists", str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    deploy = ROOT / "deploy"
    yield "feeds", "deploy/feeds.example.yaml", (deploy / "feeds.example.yaml").read_text(encoding="utf-8")
    yield "config", "deploy/monitor.example.yaml", (deploy / "monitor.example.yaml").read_text(encoding="utf-8")
    configmap = plain((deploy / "kubernetes" / "configmap.yaml").read_text(encoding="utf-8"))
    yield "config", "deploy/kubernetes/configmap.yaml monitor.yaml", configmap["data"]["monitor.yaml"]
    yield "feeds", "deploy/kubernetes/configmap.yaml feeds.yaml", configmap["data"]["feeds.yaml"]
    compose = plain((deploy / "docker-compose.yml").read_text(encoding="utf-8"))
    yield "config", "deploy/docker-compose.yml monitor_config", compose["configs"]["monitor_config"]["content"]


@pytest.mark.parametrize(("name", "where", "text"), list(shipped()), ids=lambda v: v if "\n" not in v else "")
def test_every_shipped_file_is_valid_against_its_schema(name: str, where: str, text: str, tmp_path: Path) -> None:
    assert schema_errors(name, plain(text)) == [], where
    if name in LOADERS:  # and its loader takes it (the lists: with the shipped rules, below)
        assert loader_errors(LOADERS[name](tmp_path, text)) == [], where


def test_the_shipped_rules_directory_loads() -> None:
    assert load_rules(RULES).rules
