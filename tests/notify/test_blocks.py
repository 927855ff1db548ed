"""Block Kit messages: content, escaping, bold terms, Slack dates, limits, nothing left out."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from monitor.notify.blocks import (
    MAX_BLOCKS,
    alert_message,
    digest_messages,
    escape,
    highlight,
    slack_date,
    summary_messages,
)
from tests.notify.conftest import make_alert


def test_alert_message_says_what_where_and_why() -> None:
    message = alert_message(make_alert(1, title="Mine <1> & co"))
    header, section, context = message.blocks
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🟠 HIGH · Lithium supply shock", "emoji": True},
    }
    assert section["text"]["text"].startswith("*<https://news.example/1?a=1&amp;b=2|Mine &lt;1&gt; &amp; co>*\n")
    assert "The *lithium* mine" in section["text"]["text"]
    assert "strike &amp; a flood &lt;update&gt;" in section["text"]["text"]
    where = context["elements"][0]["text"]
    assert where == "news.example · <!date^1714564800^{date_short_pretty} {time}|2024-05-01 12:00 UTC>"
    assert context["elements"][1]["text"] == "rule `lithium-supply`"
    assert message.text == "[HIGH] Lithium supply shock: Mine &lt;1&gt; &amp; co (news.example)"
    assert all(Block.parse(b) is not None for b in message.blocks)


def test_highlight_bolds_whole_words_case_insensitively_and_escapes() -> None:
    assert highlight("Lithium & lithium-ion <b>", ["lithium"]) == "*Lithium* &amp; *lithium*-ion &lt;b&gt;"
    assert highlight("unlithiumlike", ["lithium"]) == "unlithiumlike"
    assert escape("a&b<c>d") == "a&amp;b&lt;c&gt;d"
    assert slack_date(0) == "<!date^0^{date_short_pretty} {time}|1970-01-01 00:00 UTC>"


def test_long_fields_stay_within_slack_limits() -> None:
    alert = make_alert(1, title="T" * 5000, rule_title="R" * 500, snippet="lithium " * 2000, source="S" * 900)
    message = alert_message(alert, also_reported=3, mention="S0ONCALL")
    assert len(message.blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if "text" in b)
    assert "also reported by 3 sources" in json.dumps(message.blocks)
    assert message.blocks[1]["text"]["text"].startswith("<!subteam^S0ONCALL> ")


def test_summary_lists_every_alert_across_as_many_messages_as_needed() -> None:
    alerts = [make_alert(n, title=f"Story number {n} " + "x" * 100) for n in range(1, 1201)]
    messages = summary_messages(alerts)
    assert len(messages) > 1
    listed = [key for m in messages for key in m.keys]
    assert listed == [a.alert_id for a in alerts]
    text = json.dumps([m.blocks for m in messages])
    assert all(f"Story number {n} " in text for n in range(1, 1201))
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert all(len(b["text"]["text"]) <= 3000 for m in messages for b in m.blocks)


def test_digest_message_names_the_rule_and_period() -> None:
    [message] = digest_messages([make_alert(1), make_alert(2)], 3600)
    assert message.blocks[0]["text"]["text"] == "🗞 Lithium supply shock: 2 alerts in the last 1h"
    assert message.keys == ("alert0001", "alert0002")
