"""Feed kinds: how the bytes of one kind of feed become entries. One module per kind, registered in KINDS.

A new kind is a module with an object that has `name`, `label`, `read_under_rss`, `sniff` and `parse`
(kinds.base.Kind), added to KINDS; the feeds file's `kind:` then names it (its default, "rss", reads
RSS, Atom and RDF, and a body of a kind with `read_under_rss`, such as a JSON Feed). Replay, which
has no feeds file, reads files as "auto": the first kind whose `sniff` recognises the body, RSS last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from monitor.ingest.kinds import jsonfeed, rss, sitemap
from monitor.ingest.kinds.base import Kind, Parsed

KINDS: dict[str, Kind] = {kind.name: kind for kind in (rss.KIND, jsonfeed.KIND, sitemap.KIND)}
DEFAULT = rss.KIND.name
AUTO = "auto"
# How much of a body the sniffers see.
SNIFF_BYTES = 1024


def sniffed(body: bytes, content_type: str) -> Kind | None:
    """The kind other than RSS a body looks like, if any."""
    head = body[:SNIFF_BYTES]
    for kind in KINDS.values():
        if kind is not rss.KIND and kind.sniff(head, content_type):
            return kind
    return None


def read(body: bytes, headers: Mapping[str, str], kind: str = DEFAULT) -> Parsed:
    """Parse a body as `kind` (a name in KINDS, or "auto": as the kind it looks like)."""
    content_type = headers.get("content-type", "")
    chosen = KINDS[kind] if kind != AUTO else sniffed(body, content_type) or rss.KIND
    if chosen is rss.KIND:
        other = sniffed(body, content_type)
        if other is not None and other.read_under_rss:
            chosen = other
        elif other is not None:
            # A body rss cannot read, of a kind the feeds file must name: say which.
            return Parsed(
                None, feed=False, problem=f"not an RSS or Atom feed but {other.label} (set kind: {other.name})"
            )
    parsed = chosen.parse(body, headers)
    if not parsed.feed and parsed.problem is None:
        parsed = replace(parsed, problem=f"not {chosen.label}")
    return parsed
