"""Plain text of the HTML fragments feeds carry (an entry's title, summary or content); no trafilatura."""

from __future__ import annotations

import lxml.html
from lxml.etree import ParserError


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content or summary)."""
    if "<" not in fragment:
        return fragment.strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return fragment.strip()
    for block in root.iter("p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr"):
        block.tail = "\n" + (block.tail or "")
    text: str = root.text_content()
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
