"""Feed kinds: how the bytes of one kind of feed become entries. One module per kind, registered in KINDS.

A new kind is a module with an object that has `name`, `sniff` and `parse` (kinds.base.Kind), added
to KINDS; the feeds file's `kind:` then names it. "auto" (the default) takes the first kind whose
`sniff` recognises the body, RSS/Atom/RDF last.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.ingest.kinds import rss
from monitor.ingest.kinds.base import Kind, Parsed

KINDS: dict[str, Kind] = {kind.name: kind for kind in (rss.KIND,)}
AUTO = "auto"
# How much of a body the sniffers see.
SNIFF_BYTES = 1024


def detect(body: bytes, content_type: str) -> Kind:
    """The kind a body looks like (RSS/Atom/RDF when no other kind claims it)."""
    head = body[:SNIFF_BYTES]
    for kind in KINDS.values():
        if kind is not rss.KIND and kind.sniff(head, content_type):
            return kind
    return rss.KIND


def read(body: bytes, headers: Mapping[str, str], kind: str = AUTO) -> Parsed:
    """Parse a body as `kind` ("auto": as the kind it looks like)."""
    chosen = detect(body, headers.get("content-type", "")) if kind == AUTO else KINDS[kind]
    return chosen.parse(body, headers)
