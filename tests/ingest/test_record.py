"""Recording Documents as JSONL, one file per UTC day, read back by `monitor replay`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.document import Document
from monitor.ingest.record import Recorder
from tests.cli import run_monitor
from tests.conftest import ROOT, SEEDS


def seed_doc(index: int, seen: datetime) -> Document:
    path = sorted(SEEDS.glob("*.txt"))[index]
    text = path.read_text(encoding="utf-8")
    return Document(
        id=Document.make_id(path.name), title=text.splitlines()[0][:80], text=text, url=f"https://example.org/{index}",
        published=seen, source="Seeds", origin="https://example.org/feed", seen=seen, guid=str(index),
        feed_date="Mon, 02 Feb 2026 10:00:00 EST", content_from="page",
    )  # fmt: skip


def test_documents_are_appended_to_one_file_per_utc_day(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "rec")
    late = datetime(2026, 2, 2, 23, 59, tzinfo=UTC)
    early = datetime(2026, 2, 3, 0, 1, tzinfo=UTC)
    docs = [seed_doc(0, late), seed_doc(1, late), seed_doc(2, early)]
    paths = [recorder.write(d) for d in docs]
    assert [p.name for p in paths] == ["2026-02-02.jsonl", "2026-02-02.jsonl", "2026-02-03.jsonl"]
    lines = (tmp_path / "rec" / "2026-02-02.jsonl").read_text(encoding="utf-8").splitlines()
    assert [Document.from_record(json.loads(line)) for line in lines] == docs[:2]


def test_replay_reads_a_recording_as_it_was_seen(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    seen = datetime(2026, 2, 2, 12, tzinfo=UTC)
    paths = [recorder.write(seed_doc(i, seen)) for i in range(3)]
    path = paths[0]
    out = run_monitor("replay", "--format", "json", "--rules", str(ROOT / "rules"), str(path), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(records) == 3
    assert "Traceback" not in out.stderr
