"""The console sink renders its own text from the alerts: readable on a terminal, JSON lines otherwise."""

from __future__ import annotations

import io
import json

from monitor.notify.base import BurstNotice, article_notice
from monitor.notify.console import BOLD, PLAIN, ConsoleSink
from tests.notify.conftest import make_alert


def test_on_a_terminal_the_hits_are_bold_and_the_article_cannot_drive_the_terminal() -> None:
    stream = io.StringIO()
    sink = ConsoleSink(stream, pretty=True)
    alert = make_alert(1, title="Mine 1 \x1b[2Jhalts\x07", feed="Google News - Lithium")
    sink.post("#alerts", sink.render(article_notice([alert]))[0])
    out = stream.getvalue()
    assert f"The {BOLD}lithium{PLAIN} mine stopped output" in out
    assert "Mine 1 halts" in out and "\x1b[2J" not in out and "\x07" not in out
    assert "news.example · via Google News - Lithium · 2024-05-01 12:00 UTC" in out
    assert "rule lithium-supply [high] · matched lithium" in out


def test_elsewhere_each_message_is_one_json_object_with_the_rules_it_lists() -> None:
    stream = io.StringIO()
    sink = ConsoleSink(stream, pretty=False)
    first, second = make_alert(1, alert_id="a", severity="low"), make_alert(1, alert_id="b", rule_id="envoy")
    posted = sink.post("#alerts", sink.render(article_notice([first, second]))[0], thread_ts="1.2")
    sink.post("#alerts", sink.render(BurstNotice(((make_alert(2),), (make_alert(3),))))[0])
    alert_line, burst_line = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (alert_line["channel"], alert_line["thread_ts"], alert_line["ts"]) == ("#alerts", "1.2", posted.ts)
    assert alert_line["alert_ids"] == ["b", "a"] and [r["rule"] for r in alert_line["rules"]] == [
        "envoy",
        "lithium-supply",
    ]
    assert alert_line["snippet"].startswith("The lithium mine") and "\x1b" not in stream.getvalue()
    assert burst_line["kind"] == "summary" and burst_line["alert_ids"] == ["alert0002", "alert0003"]
