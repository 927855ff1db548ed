"""Slack messages: content, escaping, bold hits by their offsets, several rules in one message, limits."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from monitor.notify.base import BurstNotice, DigestNotice, StoryCount, article_notice
from monitor.notify.blocks import MAX_BLOCKS, article_message, escape, highlight, render, slack_date
from tests.notify.conftest import make_alert

ZW = "\u200b"


def test_alert_message_says_what_where_and_why() -> None:
    message = article_message(article_notice([make_alert(1, title="Mine <1> & co", feed="Google News - Lithium")]))
    header, section, context = message.blocks
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🟠 HIGH · Lithium supply shock", "emoji": True},
    }
    assert section["text"]["text"].startswith("*<https://news.example/1?a=1&amp;b=2|Mine &lt;1&gt; &amp; co>*\n")
    assert "The *lithium* mine" in section["text"]["text"]
    assert "strike &amp; a flood &lt;update&gt;" in section["text"]["text"]
    where = context["elements"][0]["text"]
    assert where == (
        "news.example · via Google News - Lithium · <!date^1714564800^{date_short_pretty} {time}|2024-05-01 12:00 UTC>"
    )
    assert context["elements"][1]["text"] == "rule `lithium-supply`"
    assert context["elements"][2]["text"] == "matched *lithium*"
    assert message.text == "[HIGH] Lithium supply shock: Mine &lt;1&gt; &amp; co (news.example)"
    assert message.metadata == {"event_type": "monitor_alert", "event_payload": {"alert_id": "alert0001"}}
    assert all(Block.parse(b) is not None for b in message.blocks)


def test_formatting_characters_from_articles_stay_inert() -> None:
    assert escape("a&b<c>d") == "a&amp;b&lt;c&gt;d"
    assert escape("*bold* _it_ ~gone~ `code`") == "".join(
        f"{ZW}{c}{ZW}" if c in "*_~`" else c for c in "*bold* _it_ ~gone~ `code`"
    )
    alert = make_alert(1, title="*Breaking*: _all_ ~gone~", snippet="Price of `lithium` *up*", highlights=((10, 17),))
    section = article_message(article_notice([alert])).blocks[1]["text"]["text"]
    # Only our own bold is left as mrkdwn: every * _ ~ ` of the article is fenced by zero-width spaces.
    assert section.replace(f"{ZW}*{ZW}", "").replace(f"{ZW}`{ZW}", "").count("*") == 4  # title and `lithium`
    assert f"{ZW}*{ZW}Breaking{ZW}*{ZW}" in section and f"{ZW}_{ZW}all{ZW}_{ZW}" in section


def test_highlight_bolds_the_spans_of_the_hits_whatever_the_words() -> None:
    text = "Élysée says Macron will re-engage; Putin's reply and Putinism"
    spans = [(0, 6), (24, 33), (35, 40)]
    assert highlight(text, spans) == "*Élysée* says Macron will *re-engage*; *Putin*'s reply and Putinism"
    assert highlight("unlithiumlike", [(2, 9)]) == "unlithiumlike"  # bold needs a word boundary in mrkdwn
    assert highlight("a & b", [(0, 1), (0, 1)]) == "*a* &amp; b"
    assert slack_date(0) == "<!date^0^{date_short_pretty} {time}|1970-01-01 00:00 UTC>"


def test_one_message_lists_every_rule_of_the_article_highest_severity_first() -> None:
    medium = make_alert(1, alert_id="a-medium", rule_id="dialogue", rule_title="Dialogue", severity="medium")
    critical = make_alert(1, alert_id="a-critical", rule_id="envoy", rule_title="Envoy", severity="critical")
    notice = article_notice([medium, critical], mention="S0ONCALL")
    assert [a.rule_id for a in notice.alerts] == ["envoy", "dialogue"]
    message = article_message(notice)
    assert message.keys == ("a-critical", "a-medium")
    assert message.metadata == {
        "event_type": "monitor_alert",
        "event_payload": {"alert_ids": ["a-critical", "a-medium"]},
    }
    assert message.blocks[0]["text"]["text"] == "🔴 CRITICAL · Envoy · +1 more rule"
    rules = message.blocks[3]["text"]["text"].splitlines()
    assert rules == ["🔴 Envoy (`envoy`) · matched *lithium*", "🟡 Dialogue (`dialogue`) · matched *lithium*"]
    assert message.blocks[1]["text"]["text"].startswith("<!subteam^S0ONCALL> ")
    assert message.text.startswith("[CRITICAL] Envoy, Dialogue: ")


def test_a_follow_up_is_a_reply_without_a_header() -> None:
    alert = make_alert(2, decision="follow-up", parent="alert0001")
    message = article_message(article_notice([alert], reply=True))
    assert [b["type"] for b in message.blocks] == ["section", "context"]
    assert message.text == "Also reported: Mine 2 halts lithium output (news.example)"


def test_long_fields_stay_within_slack_limits() -> None:
    alert = make_alert(1, title="T" * 5000, rule_title="R" * 500, snippet="lithium " * 2000, source="S" * 900)
    many = [make_alert(1, alert_id=f"a{n}", rule_id=f"r{n}", rule_title="R" * 500) for n in range(30)]
    for notice in (article_notice([alert], story=StoryCount(4, 3, 2), mention="S0ONCALL"), article_notice(many)):
        message = article_message(notice)
        assert len(message.blocks[0]["text"]["text"]) <= 150
        assert all(len(b["text"]["text"]) <= 3000 for b in message.blocks if "text" in b)
        assert all(len(e["text"]) <= 2000 for b in message.blocks for e in b.get("elements", []))
        assert len(message.keys) == len(notice.alerts)
    message = article_message(article_notice([alert], story=StoryCount(4, 3, 2), mention="S0ONCALL"))
    assert "4 reports from 3 outlets, 2 languages" in json.dumps(message.blocks)


def test_summary_lists_every_article_across_as_many_messages_as_needed() -> None:
    articles = [(make_alert(n, title=f"Story number {n} " + "x" * 100),) for n in range(1, 1201)]
    messages = render(BurstNotice(tuple(articles)))
    assert len(messages) > 1
    listed = [key for m in messages for key in m.keys]
    assert listed == [article[0].alert_id for article in articles]
    text = json.dumps([m.blocks for m in messages])
    assert all(f"Story number {n} " in text for n in range(1, 1201))
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert all(len(b["text"]["text"]) <= 3000 for m in messages for b in m.blocks)


def test_digest_message_names_the_rule_and_period() -> None:
    [message] = render(DigestNotice((make_alert(1), make_alert(2)), 3600))
    assert message.blocks[0]["text"]["text"] == "🗞 Lithium supply shock: 2 alerts in the last 1h"
    assert message.keys == ("alert0001", "alert0002")
