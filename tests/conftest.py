"""Shared fixtures: rule directories written on the fly, and the repository's own files."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.document import Document
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Match, Matcher
from monitor.store import RedisStore, SQLiteStore, Store
from tests.servers import redis_cluster, redis_server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
DATA = Path(__file__).resolve().parent / "data"
# Small subsets of real-world corpora, shipped with the tests, with their licences (tests/data/README.md).
CORPORA = DATA / "corpora"
# Real news pages (trafilatura's evaluation pages): the subset's, the one copy the tests read.
PAGES = CORPORA / "trafilatura" / "tests" / "cache"


def doc(text: str, title: str = "", **fields: object) -> Document:
    """A Document with just the fields a matching test needs."""
    return Document(id="test", title=title, text=text, **fields)  # type: ignore[arg-type]


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML files into a fresh rules directory: write_rules(**{"name.yaml": "yaml text"})."""

    def write(files: dict[str, str]) -> Path:
        directory = tmp_path / "rules"
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return directory

    return write


@pytest.fixture
def compile_when(write_rules: Callable[..., Path]) -> Callable[..., Matcher]:
    """Compile one rule from the YAML of its `when` (and optional extra rule keys)."""

    def compile_(when: str, extra: str = "") -> Matcher:
        body = "id: r\ntitle: R\nwhen:\n" + textwrap.indent(textwrap.dedent(when).strip(), "  ") + "\n"
        directory = write_rules({"r.yaml": body + textwrap.dedent(extra)})
        return Matcher(load_rules(directory).rules)

    return compile_


@pytest.fixture
def matches(compile_when: Callable[..., Matcher]) -> Callable[..., Match | None]:
    """matches(when_yaml, text, title="", extra="") -> the Match of rule `r`, or None."""

    def run(when: str, text: str, title: str = "", extra: str = "", **fields: object) -> Match | None:
        found = compile_when(when, extra).match(doc(text, title, **fields))
        return found[0] if found else None

    return run


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each real store: a SQLite file, and the session's redis-server under a fresh key prefix."""
    opened: Store
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "monitor.db")
    else:
        opened = RedisStore(request.getfixturevalue("redis_url"), prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "monitor.db")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for the whole run: REDIS_URL if set, else a private redis-server on a free port."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real three-node Redis Cluster of our own, for the store's contract."""
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
        yield url
