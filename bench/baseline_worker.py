"""Times another version's rule matcher, for bench/matcher.py: run with that version's `monitor` first
on sys.path (bench/matcher.py extracts it from git and starts this script).

Reads one JSON line {"rules": [...], "docs": [[title, text], ...]} (rules as bench/matcher.py's
`node_json` writes them, in the version 1 language), builds the matcher, then answers each line
holding a document's index with the seconds one `match` of it took; an empty line ends it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from monitor.document import Document
from monitor.rules.matcher import Matcher
from monitor.rules.model import (
    AllNode,
    AnyNode,
    AtLeastNode,
    CountNode,
    FieldNode,
    NearNode,
    Node,
    NotNode,
    Rule,
    Term,
    TermNode,
)


def term(data: dict[str, Any]) -> Term:
    return Term(data["text"], case=data["case"], regex=data["regex"])


def node(data: dict[str, Any]) -> Node:
    kind = data["kind"]
    if kind == "term":
        return TermNode(term(data["term"]))
    if kind in ("all", "any"):
        children = tuple(node(c) for c in data["children"])
        return AllNode(children) if kind == "all" else AnyNode(children)
    if kind == "not":
        return NotNode(node(data["child"]))
    if kind == "at_least":
        return AtLeastNode(data["count"], tuple(node(c) for c in data["children"]))
    if kind == "count":
        return CountNode(tuple(term(t) for t in data["terms"]), data["min"])
    if kind == "field":
        return FieldNode(data["field"], node(data["child"]))
    if kind == "near":
        groups = tuple(tuple(term(t) for t in g) for g in data["groups"])
        return NearNode(groups, data["within"], data["ordered"])
    raise ValueError(f"a version 1 worker cannot time a {kind!r} condition")


def main() -> None:
    setup = json.loads(sys.stdin.readline())
    rules = [Rule(id=r["id"], title=r["id"], when=node(r["when"])) for r in setup["rules"]]
    docs = [Document(id=str(i), title=t, text=x) for i, (t, x) in enumerate(setup["docs"])]
    matcher = Matcher(rules)
    matcher.match(docs[0])
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        doc = docs[int(line)]
        start = time.perf_counter()
        matcher.match(doc)
        print(time.perf_counter() - start, flush=True)


if __name__ == "__main__":
    main()
