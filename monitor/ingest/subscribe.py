"""Adding feeds to a feeds file (from OPML, from discovery) as a person would: at the end of its
`feeds:` list, its comments, order and layout kept, duplicates skipped, names kept unique.

The file is edited with ruamel.yaml's round-trip tree (monitor.yamlfile.round_trip) and written
whole through a temporary file that is validated before it replaces the file: an edit that would
not load is never written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.errors import ValidationError
from monitor.ingest.feedsfile import FeedConfig, http_host
from monitor.ingest.opml import OpmlFeed, normalized_url
from monitor.yamlfile import replace_file, round_trip

NEW_FILE = "# Feeds the service polls: see docs/feeds.md. Check this file with: monitor feeds check FILE\nfeeds:\n"
# Items of the list separated by blank lines ("  - url: ...\n\n  - url: ..."): new ones are too.
_SPACED_ITEMS = re.compile(r"\n[ \t]*\n(?:[ \t]*#[^\n]*\n)*[ \t]*- ")


@dataclass(frozen=True, slots=True)
class Added:
    """A feed the edit adds, under `name` (None: the URL's host), `renamed` when its own name was taken."""

    feed: OpmlFeed
    name: str | None
    renamed: bool = False


@dataclass(frozen=True, slots=True)
class Skipped:
    """A feed left out because the file (or the list being added) has it already, at `where` (FILE:LINE)."""

    feed: OpmlFeed
    where: str


@dataclass(slots=True)
class Edit:
    """The feeds file before and after adding feeds; nothing is written until `write()`."""

    path: Path
    before: str
    after: str
    added: list[Added] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def diff(self) -> str:
        """The change as a unified diff (what --dry-run shows)."""
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=str(self.path),
                tofile=str(self.path),
            )
        )

    def write(self, check: Callable[[Path], object]) -> None:
        """Replace the file with the edited text once `check` (a loader) accepts it; raises its
        ValidationError (with the file's own name in the messages) and writes nothing otherwise."""

        def checked(temporary: Path) -> None:
            try:
                check(temporary)
            except ValidationError as exc:
                raise type(exc)([e.replace(str(temporary), str(self.path)) for e in exc.errors]) from None

        replace_file(self.path, self.after, checked)


def add_feeds(path: Path, existing: Sequence[FeedConfig], feeds: Sequence[OpmlFeed], source: str) -> Edit:
    """The edit adding `feeds` (read from `source`, for the messages) to the file at `path` (which
    holds `existing`, already validated; a file that does not exist is created)."""
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    tree = round_trip(before or NEW_FILE)
    if not before:
        tree.yaml.indent(mapping=2, sequence=4, offset=2)  # as deploy/feeds.example.yaml is laid out
    if not isinstance(tree.data, CommentedMap):
        raise ValueError(f"{path} is not a mapping")
    items = tree.data.get("feeds")
    if not isinstance(items, CommentedSeq) or (not items and items.fa.flow_style()):
        items = CommentedSeq()  # `feeds:` with nothing, or `feeds: []`: a block list from now on
        tree.data["feeds"] = items
    spaced = bool(existing) and bool(_SPACED_ITEMS.search(before))
    seen = {normalized_url(f.url): f"{path}:{f.line}" for f in existing}
    names = {f.name.casefold() for f in existing}
    edit = Edit(path, before, before)
    for feed in feeds:
        key = normalized_url(feed.url)
        if key in seen:
            edit.skipped.append(Skipped(feed, seen[key]))
            continue
        seen[key] = f"{source}:{feed.line}"
        name, renamed = _unique_name(feed, names)
        items.append(_item(feed, name))
        if spaced:
            items.yaml_set_comment_before_after_key(len(items) - 1, before="\n")
        edit.added.append(Added(feed, name, renamed))
    if edit.added:
        edit.after = tree.dumps()
    return edit


def _unique_name(feed: OpmlFeed, taken: set[str]) -> tuple[str | None, bool]:
    """The feed's name, or "NAME (host)" (then "NAME (host) 2" ...) when another feed has it: a feeds
    file names each feed once. A feed without a name is shown by its host, which may repeat."""
    host = http_host(feed.url) or feed.url
    if feed.name is None:
        taken.add(host.casefold())
        return None, False
    name, count = feed.name, 1
    while name.casefold() in taken:
        count += 1
        name = f"{feed.name} ({host})" if count == 2 else f"{feed.name} ({host}) {count - 1}"
    taken.add(name.casefold())
    return name, name != feed.name


def _item(feed: OpmlFeed, name: str | None) -> CommentedMap:
    item = CommentedMap()
    item["url"] = feed.url
    if name is not None:
        item["name"] = name
    if feed.site:
        item["site"] = feed.site
    if feed.tags:
        tags = CommentedSeq(feed.tags)
        tags.fa.set_flow_style()
        item["tags"] = tags
    if feed.language:
        item["language"] = feed.language
    if feed.kind:
        item["kind"] = feed.kind
    return item
