"""SIGKILL `monitor run` at the worst moments, restart it, and every article is alerted exactly once.

Real processes, a real store (SQLite, and a redis-server of our own), a feed server on 127.0.0.1 and
the fake Slack (tests/crashrig.py). The moments, one kill each: right after the feed is parsed,
during a page fetch, during extraction, between the alert decisions and the enqueue. A document taken
up again must find its own story in either grouper (copies with SQLite, events with Redis).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.crashrig import CrashRig


# Each story grouper once (the event layer loads its model at every start: it costs the time of one store).
@pytest.mark.parametrize(("store", "grouper"), [("sqlite", "copies"), ("redis", "events")])
def test_a_killed_service_loses_and_doubles_no_alert(
    store: str, grouper: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    with CrashRig(tmp_path, store, redis_url, grouper=grouper) as rig:
        killed = [
            rig.crash_at_decision("decided"),
            rig.crash_after_parse("parsed"),
            rig.crash_during_fetch("fetching"),
            rig.crash_during_extraction("extracting"),
        ]
        # Each kill happened where it was meant to: the article of that moment was not handed over.
        for run, slug in zip(killed, ["decided", "parsed", "fetching", "extracting"], strict=True):
            processed = [e for e in run.events() if e.get("event") == "document.processed"]
            assert not any(slug in str(e.get("url")) for e in processed), (slug, run.log_path.read_text()[-3000:])
        final = rig.start()
        try:
            rig.wait_for_alerts(60)
            # The killed processes' leases ran out before this one started, and its first sweep took them:
            # a copy would follow its original within a sweep and a notifier round.
            time.sleep(2)
            assert final.stop() == 0
        finally:
            final.kill()
        assert rig.alerts() == {"decided": 1, "parsed": 1, "fetching": 1, "extracting": 1}
        retaken = [e for run in [*killed, final] for e in run.events() if e.get("event") == "entry.retaken"]
        assert retaken, "the killed processes' entries were taken up again"


def test_a_crash_loop_loses_no_entry(tmp_path: Path, redis_url: str) -> None:
    # Processes killed for reasons of their own (a deploy's crash loop, a node flapping), one after the
    # other while an entry is in flight: more takeovers than an entry that kills every holder is allowed
    # (max_takeovers, 5), within minutes. The entry is not given up, and is alerted once.
    with CrashRig(tmp_path, "redis", redis_url, grouper="copies") as rig:
        killed = rig.crash_loop("looped", kills=7)
        final = rig.start()
        try:
            rig.wait_for_alerts(60)
            time.sleep(2)
            assert final.stop() == 0
        finally:
            final.kill()
        events = [e for run in [*killed, final] for e in run.events()]
        assert rig.alerts() == {"looped": 1}
        assert not [e for e in events if e.get("event") == "entry.abandoned"]
        takeovers = [int(e["takeovers"]) for e in events if e.get("event") == "entry.retaken"]
        assert max(takeovers) > 5, takeovers
