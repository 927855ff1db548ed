"""What extraction takes from a page besides its text: title, author, date, language, canonical URL."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest

from monitor.ingest.extract import extract_article, page_language
from tests.conftest import PAGES


def test_news_page_metadata_comes_from_its_meta_tags() -> None:
    article = extract_article((PAGES / "heise.de.lithium.html").read_bytes())
    assert article is not None
    assert article.title == "Lithium aus dem Schredder"
    assert article.author is not None and "Denis Dilba" in article.author
    assert article.published == datetime(2019, 6, 20, tzinfo=UTC)
    assert article.language == "de"
    assert article.url == "https://www.heise.de/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html"


def test_byline_in_the_page_body_is_found_unless_the_caller_knows_the_author() -> None:
    html = (PAGES / "boingboing.net.millenials.html").read_bytes()
    searched = extract_article(html)
    known = extract_article(html, find_author=False)
    assert searched is not None and known is not None
    assert searched.author == "Cory Doctorow"
    assert known.author is None
    assert known.text == searched.text and known.language == searched.language == "en"


def test_date_is_guessed_from_the_page_text_only_when_asked() -> None:
    html = (PAGES / "speicherguide.de.schwierige.html").read_bytes()
    searched = extract_article(html)
    markup_only = extract_article(html, search_date=False)
    assert searched is not None and markup_only is not None
    assert searched.published == datetime(2019, 6, 14, tzinfo=UTC)
    assert markup_only.published is None  # the page's markup declares no date
    assert markup_only.text == searched.text


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<html lang="pt-BR"><head>', "pt"),
        ('<html xml:lang="FR"><head>', "fr"),
        ('<html><head><meta http-equiv="Content-Language" content="de-AT">', "de"),
        ('<html><head><meta property="og:locale" content="es_ES">', "es"),
        ('<html lang=""><head><meta property="og:locale" content="it_IT">', "it"),
        ('<html lang="x-klingon"><head>', None),
        ("<html><head>", None),
    ],
)
def test_page_language_is_the_declared_one(head: str, expected: str | None) -> None:
    tree = lxml.html.document_fromstring(f"{head}<title>t</title></head><body><p>text</p></body></html>")
    assert page_language(tree) == expected


def test_the_outlet_is_the_pages_declared_site_name_never_a_handle_or_a_copyright_line() -> None:
    boingboing = extract_article((PAGES / "boingboing.net.millenials.html").read_bytes())
    assert boingboing is not None and boingboing.site_name == "Boing Boing"
    # phys.org names itself only in its publisher and Twitter tags: no og:site_name, so no outlet name.
    phys = extract_article((PAGES / "phys.org.tool.html").read_bytes())
    assert phys is not None and phys.site_name is None
    page = '<html><head><meta property="og:site_name" content="https://facebook.com/x"></head><body><p>{}</p></body>'
    assert extract_article(page.format("text " * 50)).site_name is None  # type: ignore[union-attr]
