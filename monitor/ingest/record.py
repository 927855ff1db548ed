"""Recording: every Document built is appended as one JSON line to a file per UTC day, for `monitor replay`."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from monitor.document import Document


class Recorder:
    """Appends Documents to `DIR/YYYY-MM-DD.jsonl` (the UTC day each was seen); safe across threads.

    Args:
        directory: where the day files go; created when missing.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, moment: datetime) -> Path:
        return self.directory / f"{moment.astimezone(UTC).date().isoformat()}.jsonl"

    def write(self, doc: Document) -> Path:
        """Append `doc` to its day's file and return that file."""
        path = self.path_for(doc.seen or datetime.now(UTC))
        line = json.dumps(doc.to_record(), ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write(line)
        return path
