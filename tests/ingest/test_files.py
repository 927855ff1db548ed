"""Replay inputs: every kind of file `monitor replay` and rule tests read, good and bad."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.document import Document
from monitor.ingest.files import Problem, read_documents, read_file
from tests.conftest import DATA, PAGES, SEEDS

FEEDS = DATA / "feeds"


def read(*paths: Path) -> tuple[list[tuple[Path, Document]], list[Problem]]:
    """Everything read_documents yields for `paths`, and every problem it reported."""
    problems: list[Problem] = []
    return list(read_documents(paths, problems.append)), problems


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


# Text files -----------------------------------------------------------------------------------------


def test_txt_first_non_empty_line_is_the_title_and_the_rest_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", "\n  \n  Macron calls Putin  \n\nFirst paragraph.\nSecond line.\n\n")

    docs, problems = read(path)

    assert problems == []
    [(source, doc)] = docs
    assert source == path
    assert doc.title == "Macron calls Putin"
    assert doc.text == "First paragraph.\nSecond line."
    assert (doc.url, doc.published, doc.source) == (None, None, None)
    assert doc.origin == str(path)


def test_a_seed_that_opens_with_a_paragraph_is_titled_by_its_first_clause_and_keeps_its_text() -> None:
    seed = SEEDS / "004_55a7f2790308b870.txt"

    [(_, doc)], problems = read(seed)

    assert problems == []
    assert doc.title == 'France\'s president says discussions are underway at "the technical level"'
    assert doc.text == seed.read_text(encoding="utf-8").strip()  # the paragraph is text, not only a title


def test_front_matter_gives_title_url_published_and_source(tmp_path: Path) -> None:
    path = write(
        tmp_path / "story.txt",
        "---\n"
        "title: EU names a special envoy\n"
        "url: https://example.org/news/envoy\n"
        "published: 2024-03-01T10:30:00+02:00\n"
        "source: Example News\n"
        "---\n"
        "The first line of the body is text, not the title.\n"
        "\n"
        "Second paragraph.\n",
    )

    [(_, doc)], problems = read(path)

    assert problems == []
    assert doc.title == "EU names a special envoy"
    assert doc.url == "https://example.org/news/envoy"
    assert doc.source == "Example News"
    assert doc.published == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert doc.text == "The first line of the body is text, not the title.\n\nSecond paragraph."


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-03-01T10:30:00+02:00", datetime(2024, 3, 1, 8, 30, tzinfo=UTC)),
        ('"2024-03-01T23:30:00-05:00"', datetime(2024, 3, 2, 4, 30, tzinfo=UTC)),
        ("2024-03-01T10:30:00Z", datetime(2024, 3, 1, 10, 30, tzinfo=UTC)),
        ("2024-03-01 10:30:00", datetime(2024, 3, 1, 10, 30, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
    ],
    ids=["offset", "quoted-offset", "zulu", "naive-is-utc", "date-only"],
)
def test_front_matter_published_is_an_aware_utc_time(tmp_path: Path, written: str, expected: datetime) -> None:
    path = write(tmp_path / "story.txt", f"---\ntitle: T\npublished: {written}\n---\nBody\n")

    [(_, doc)], problems = read(path)

    assert problems == []
    assert doc.published == expected
    # Equal is not enough: the time must be in UTC, not just the same instant.
    assert doc.published is not None and doc.published.tzinfo == UTC


def test_front_matter_without_a_title_leaves_the_first_line_as_title(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", "---\nurl: https://example.org/a\n---\n\nHeadline\nBody\n")

    [(_, doc)], problems = read(path)

    assert problems == []
    assert (doc.title, doc.text, doc.url) == ("Headline", "Body", "https://example.org/a")


# HTML pages (trafilatura's own evaluation pages; passages from its tests/evaldata.json) ---------------


@pytest.mark.parametrize(
    ("name", "title", "published", "with_", "without"),
    [
        (
            "phys.org.tool.html",
            "Flint flake tool partially covered by birch tar adds to evidence of Neanderthal complex thinking",
            datetime(2019, 10, 22, tzinfo=UTC),
            ["Prior work has turned up", "the North Sea for most of its existence"],
            ["Explore further", "Feedback to editors", "the very first glue"],
        ),
        (
            "heise.de.lithium.html",
            "Lithium aus dem Schredder",
            datetime(2019, 6, 20, tzinfo=UTC),
            ["Die Ökobilanz von Elektroautos", "Nur die Folie bleibt zurück"],
            ["TR 7/2019", "Forum zum Thema:", "Highlights aus dem Heft:"],
        ),
    ],
    ids=["phys.org", "heise.de"],
)
def test_html_page_gives_the_article_without_the_page_around_it(
    name: str, title: str, published: datetime, with_: list[str], without: list[str]
) -> None:
    path = PAGES / name
    problems: list[Problem] = []

    [doc] = list(read_file(path, problems.append))

    assert problems == []
    assert doc.title == title
    assert doc.published == published
    assert doc.origin == str(path)
    for passage in with_:
        assert passage in doc.text
    for passage in without:
        assert passage not in doc.text
    assert "<" not in doc.text


# Feeds (feedparser's test feeds) --------------------------------------------------------------------


def test_rss_item_becomes_a_document_with_its_title_link_and_date() -> None:
    path = FEEDS / "rss2.0withAtomNS.rss"
    problems: list[Problem] = []

    docs = list(read_file(path, problems.append))

    assert problems == []
    [doc] = docs
    assert doc.title == "rsync and vfat | Geek at Play"
    assert doc.url == "http://www.kylev.com/2005/03/29/rsync-and-vfat/"
    assert doc.published == datetime(2009, 12, 25, 3, 30, 22, tzinfo=UTC)
    assert doc.source == "Delicious/wearehugh"
    assert doc.origin == str(path)


def test_atom_entry_becomes_a_document_with_its_title_link_utc_date_and_plain_text() -> None:
    path = FEEDS / "atomthreadingwithentry.atom"
    problems: list[Problem] = []

    docs = list(read_file(path, problems.append))

    assert problems == []
    [doc] = docs
    assert doc.title == "bloffo bliff by te..."
    # The entry's alternate link, not its edit or self link; canonical, as the service keeps it (no fragment).
    assert doc.url == "http://salmon-test.blogspot.com/2009/10/test-post.html?showComment=1260320342544"
    # Published 2009-12-08T16:59:02.544-08:00.
    assert doc.published == datetime(2009, 12, 9, 0, 59, 2, tzinfo=UTC)
    assert doc.source == "Comments on salmon-test: Test post"
    # The content is HTML (`by <a href=...>te...</a>`): only its text is kept.
    assert doc.text == "bloffo bliff by te..."


# Recorded items -------------------------------------------------------------------------------------


def test_jsonl_written_by_to_record_reads_back_equal(tmp_path: Path) -> None:
    recorded = [
        Document(
            id="4ecc056e6f873ff1",
            title="France’s Macron Calls for Re-Engagement With Putin",
            text="Line one.\nÉlysée says “talks” are possible.\n",
            url="https://example.org/a",
            published=datetime(2025, 12, 19, 17, 5, 3, tzinfo=UTC),
            source="Example Times",
            language="en",
            origin="https://example.org/feed.xml",
            seen=datetime(2025, 12, 19, 17, 9, 41, 123456, tzinfo=UTC),
        ),
        Document(id="b", title="Bare", text="Only the required fields."),
    ]
    path = tmp_path / "recorded.jsonl"
    path.write_text("".join(json.dumps(d.to_record(), ensure_ascii=False) + "\n" for d in recorded), "utf-8")

    docs, problems = read(path)

    assert problems == []
    assert [doc for _, doc in docs] == recorded


# Directories ----------------------------------------------------------------------------------------


def test_directory_is_read_recursively_in_path_order_skipping_hidden_files(tmp_path: Path) -> None:
    root = tmp_path / "inputs"
    for name in ["b.txt", "sub/c.txt", "a.txt", ".hidden.txt", ".cache/d.txt", "notes.md"]:
        write(root / name, f"Title of {name}\nText.\n")

    docs, problems = read(root)

    assert problems == []
    assert [path.relative_to(root).as_posix() for path, _ in docs] == ["a.txt", "b.txt", "sub/c.txt"]
    assert [doc.title for _, doc in docs] == ["Title of a.txt", "Title of b.txt", "Title of sub/c.txt"]


def test_directory_inside_a_hidden_parent_is_still_read(tmp_path: Path) -> None:
    root = write(tmp_path / ".work" / "inputs" / "a.txt", "Title\nText\n").parent

    docs, problems = read(root)

    assert problems == []
    assert [doc.title for _, doc in docs] == ["Title"]


# Bad input: one problem per bad input, naming it, and everything else still read ----------------------


@dataclass(frozen=True)
class Bad:
    """A bad input: how to make it, the line its problem names (a range where the line is approximate)."""

    make: Callable[[Path], Path]
    line: int | range | None
    says: str


NO_ARTICLE = (
    "<!DOCTYPE html><html><head><title>Sign in - Example News</title></head><body>"
    '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
    '<main><h1>Sign in</h1><form action="/login"><label>Email <input name="email"></label>'
    "<button>Sign in</button></form></main><footer>&copy; Example News</footer></body></html>"
)


def _copy(source: Path) -> Callable[[Path], Path]:
    return lambda d: write(d / source.name, source.read_bytes())


BAD: dict[str, Bad] = {
    "missing": Bad(lambda d: d / "missing.txt", None, "no such file or directory"),
    "empty": Bad(lambda d: write(d / "empty.txt", ""), None, "empty file"),
    "blank": Bad(lambda d: write(d / "blank.txt", "\n  \n\t\n"), None, "empty file"),
    "binary-txt": Bad(lambda d: write(d / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), None, "binary"),
    "binary-html": Bad(lambda d: write(d / "image.html", b"GIF89a\x01\x00\x01\x00\x00\xff\x00,"), None, "binary"),
    "latin-1": Bad(lambda d: write(d / "latin.txt", "Headline\nCafé au lait\n".encode("latin-1")), 2, "not UTF-8"),
    "unknown-type": Bad(lambda d: write(d / "story.pdf", "%PDF-1.4\n"), None, "unknown file type '.pdf'"),
    "no-article": Bad(lambda d: write(d / "signin.html", NO_ARTICLE), None, "no article"),
    "not-a-feed": Bad(_copy(FEEDS / "aaa_illformed.xml"), 6, "not well-formed"),
    "empty-dir": Bad(lambda d: write(d / "nothing" / "notes.md", "x").parent, None, "no .txt"),
    "front-matter-unended": Bad(lambda d: write(d / "fm.txt", "---\ntitle: T\n\nBody\n"), 1, "never ends"),
    "front-matter-yaml": Bad(
        lambda d: write(d / "fm.txt", "---\ntitle: T\nsource: a: b\n---\nBody\n"), 3, "not valid YAML"
    ),
    "front-matter-not-mapping": Bad(lambda d: write(d / "fm.txt", "---\n- a\n- b\n---\nBody\n"), 2, "mapping"),
    "front-matter-unknown-key": Bad(
        lambda d: write(d / "fm.txt", "---\nauthor: Jane\ntitle: T\n---\nBody\n"), range(1, 4), "author"
    ),
    "front-matter-bad-time": Bad(
        lambda d: write(d / "fm.txt", "---\ntitle: T\npublished: next tuesday\n---\nBody\n"), range(1, 5), "published"
    ),
    "front-matter-impossible-date": Bad(
        lambda d: write(d / "fm.txt", "---\ntitle: T\npublished: 2024-02-30\n---\nBody\n"), range(1, 5), "day"
    ),
}


def _good(directory: Path) -> list[Path]:
    return [write(directory / "good-1.txt", "Good one\nText.\n"), write(directory / "good-2.txt", "Good two\nText.\n")]


def _assert_line(problem: Problem, expected: int | range | None) -> None:
    if isinstance(expected, range):
        assert problem.line in expected, problem
    else:
        assert problem.line == expected, problem


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_problem_naming_it_and_the_other_inputs_are_read(tmp_path: Path, case: str) -> None:
    bad = BAD[case]
    good_1, good_2 = _good(tmp_path / "good")
    path = bad.make(tmp_path / "bad")

    docs, problems = read(good_1, path, good_2)

    assert [doc.title for _, doc in docs] == ["Good one", "Good two"]
    [problem] = problems
    assert problem.path == str(path)
    _assert_line(problem, bad.line)
    assert bad.says in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}: " if problem.line else f"{path}: ")


def test_every_bad_input_in_one_call_is_reported_once_and_the_good_ones_read(tmp_path: Path) -> None:
    good = _good(tmp_path)
    bad = {name: case.make(tmp_path / name) for name, case in BAD.items()}

    docs, problems = read(good[0], *bad.values(), good[1])

    assert [doc.title for _, doc in docs] == ["Good one", "Good two"]
    assert sorted(p.path for p in problems) == sorted(str(path) for path in bad.values())


def test_file_over_the_size_limit_is_refused_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = b"Macron and Putin talk about frozen Russian assets again and again.\n"
    with path.open("wb") as handle:
        for _ in range(50 * 2**20 // len(line) + 1):
            handle.write(line)
    good_1, good_2 = _good(tmp_path)

    tracemalloc.start()
    try:
        docs, problems = read(good_1, path, good_2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [doc.title for _, doc in docs] == ["Good one", "Good two"]
    [problem] = problems
    assert problem.path == str(path)
    assert "52 MB" in problem.message
    assert "limit" in problem.message
    # Reading it whole would take 50 MB.
    assert peak < 5 * 2**20


def test_ill_formed_feed_is_one_warning_with_its_line_and_its_entries_are_still_read(tmp_path: Path) -> None:
    path = FEEDS / "rdf_channel_empty_textinput.xml"
    good_1, good_2 = _good(tmp_path)

    docs, problems = read(good_1, path, good_2)

    assert [(source, doc.title) for source, doc in docs] == [
        (good_1, "Good one"),
        (path, "crashes here"),
        (good_2, "Good two"),
    ]
    [problem] = problems
    assert problem.path == str(path)
    # The XML declaration after the leading comment, on line 5 of the file.
    assert problem.line == 5
    assert problem.message.startswith("feed is not well-formed: ")
    assert "<unknown>" not in problem.message


def test_jsonl_bad_line_is_reported_with_its_number_and_the_good_lines_read(tmp_path: Path) -> None:
    good = [Document(id=f"d{i}", title=f"Recorded {i}", text=f"Text {i}.") for i in range(3)]
    lines = [
        json.dumps(good[0].to_record()),
        json.dumps(good[1].to_record()),
        '{"title": "Cut short", "text": ',
        "",
        json.dumps(good[2].to_record()),
    ]
    path = write(tmp_path / "recorded.jsonl", "\n".join(lines) + "\n")
    good_1, good_2 = _good(tmp_path)

    docs, problems = read(good_1, path, good_2)

    assert [doc for source, doc in docs if source == path] == good
    assert [doc.title for source, doc in docs if source != path] == ["Good one", "Good two"]
    [problem] = problems
    assert (problem.path, problem.line) == (str(path), 3)
    assert str(problem).startswith(f"{path}:3: bad record")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("[1, 2]", "JSON object"),
        ('{"title": "T", "text": "x", "colour": "red"}', "colour"),
        ('{"title": "T"}', "text"),
        ('{"title": "T", "text": "x", "published": "last week"}', "last week"),
    ],
    ids=["not-an-object", "unknown-field", "no-text", "bad-time"],
)
def test_jsonl_record_that_is_not_a_document_is_reported_with_its_line(tmp_path: Path, line: str, says: str) -> None:
    good = Document(id="g", title="Good", text="Text.")
    path = write(tmp_path / "recorded.jsonl", f"{json.dumps(good.to_record())}\n{line}\n")

    docs, problems = read(path)

    assert [doc for _, doc in docs] == [good]
    [problem] = problems
    assert problem.line == 2
    assert says in problem.message
