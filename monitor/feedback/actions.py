"""What a click on an alert button does: check it, change the store, and say what was done.

Every check runs before any write, so a forged or malformed click changes nothing; every write is
idempotent (Slack may deliver a click twice, to two replicas), so repeating one changes nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, assert_never

import structlog

from monitor.feedback.buttons import ACTION_PREFIX, Action, ButtonValue, decode, reply_blocks
from monitor.metrics import FEEDBACK_ACTIONS, FEEDBACK_MARKS
from monitor.notify.blocks import escape, slack_date
from monitor.store.base import DEFAULT_SEEN_TTL, Store
from monitor.store.feedback import Mark, Mute, Snooze

log = structlog.get_logger("monitor.feedback")


@dataclass(frozen=True, slots=True)
class Click:
    """One action of a `block_actions` payload, as far as it could be read.

    Attributes:
        value: the button's value or the chosen menu option's value.
        at: Slack's time of the click (`action_ts`), so that a repeated delivery computes the same effect.
    """

    action_id: str
    value: str | None
    user_id: str
    user_name: str
    channel_id: str | None
    channel_name: str | None
    at: float

    @classmethod
    def from_payload(cls, body: Mapping[str, Any], action: Mapping[str, Any], now: float | None = None) -> Click:
        user = _mapping(body.get("user"))
        channel = _mapping(body.get("channel"))
        option = action.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else action.get("value")
        try:
            at = float(action.get("action_ts") or "")
        except ValueError:
            at = time.time() if now is None else now
        return cls(
            action_id=str(action.get("action_id") or ""),
            value=value if isinstance(value, str) else None,
            user_id=str(user.get("id") or ""),
            user_name=str(user.get("username") or user.get("name") or user.get("id") or ""),
            channel_id=channel.get("id") if isinstance(channel.get("id"), str) else None,
            channel_name=channel.get("name") if isinstance(channel.get("name"), str) else None,
            at=at,
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a click, shown to the one who clicked.

    Attributes:
        replace: replace the message that was clicked (an Undo answering our own earlier reply).
    """

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    replace: bool = False


class _Refused(Exception):
    """A click that is not acted on; the message says why, for the log and the person who clicked."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """Applies clicks to the store.

    Args:
        store: where mutes, snoozes and marks live (shared by every replica).
        mute_for: how long a mute lasts: as long as a story is kept.
    """

    store: Store
    mute_for: timedelta = DEFAULT_SEEN_TTL

    def apply(self, click: Click) -> Reply:
        """Check the click and apply it; a click that fails a check changes nothing and gets an error reply."""
        fields = {"action": click.action_id, "user": click.user_id, "channel": click.channel_id}
        try:
            action, value, record, route = self._check(click)
            reply, changed = self._apply(action, value, record, route, click)
        except _Refused as refused:
            known = click.action_id in Action.__members__.values()
            FEEDBACK_ACTIONS.labels(_label(click.action_id) if known else "unknown", "rejected").inc()
            log.warning("feedback.rejected", reason=str(refused), value=(click.value or "")[:80], **fields)
            return Reply(f"⚠️ {refused}: nothing was changed.", ok=False)
        outcome = "applied" if changed else "repeated"
        FEEDBACK_ACTIONS.labels(_label(action), outcome).inc()
        log.info(
            "feedback.applied",
            outcome=outcome,
            rule=record.get("rule"),
            story_id=record.get("story"),
            alert_id=value.alert_id,
            route=route,
            **fields,
        )
        return reply

    def _check(self, click: Click) -> tuple[Action, ButtonValue, dict[str, Any], str]:
        try:
            action = Action(click.action_id)
        except ValueError:
            raise _Refused(f"unknown action {click.action_id[:40]!r}") from None
        value = decode(click.value)
        if value is None or (action is Action.SNOOZE) != (value.seconds is not None):
            raise _Refused("this button's value is not one of ours")
        if not click.user_id:
            raise _Refused("the click names no user")
        record = self.store.remembered_alert(value.alert_id)
        if record is None:
            raise _Refused("this alert is unknown, or its story has ended (alerts are kept as long as their story)")
        route = _route(record, click)
        if route is None:
            raise _Refused("this alert was not posted in this channel")
        return action, value, record, route

    def _apply(
        self, action: Action, value: ButtonValue, record: dict[str, Any], route: str, click: Click
    ) -> tuple[Reply, bool]:
        rule, story, who = str(record["rule"]), str(record["story"]), f"<@{click.user_id}>"
        where = f"<#{click.channel_id}>" if click.channel_id else escape(route)
        match action:
            case Action.NOT_RELEVANT:
                article = record.get("article") or {}
                by = {click.user_id: click.user_name}
                mark = Mark(rule, _doc_id(record), value.alert_id, route, click.at, article, by)
                changed = self.store.add_mark(mark)
                if changed:
                    FEEDBACK_MARKS.labels(rule).inc()
                text = (
                    f"👎 {who} marked this alert *not relevant* for rule `{escape(rule)}`. It is kept with the "
                    "article for the rule's authors (`monitor rules feedback`)."
                )
                return Reply(text, reply_blocks(text, Action.RELEVANT, value)), changed
            case Action.RELEVANT:
                changed = self.store.remove_mark(rule, _doc_id(record), click.user_id)
                text = f"↩️ {who} took back the *not relevant* mark for rule `{escape(rule)}`."
                return Reply(text, reply_blocks(text), replace=True), changed
            case Action.MUTE:
                until = click.at + self.mute_for.total_seconds()
                title = str(record.get("title") or "")
                changed = self.store.set_mute(
                    Mute(story, route, click.user_id, click.user_name, click.at, until, value.alert_id, title)
                )
                text = f"🔕 {who} muted this story in {where}: its later reports here are counted, not posted."
                return Reply(text, reply_blocks(text, Action.UNMUTE, value)), changed
            case Action.UNMUTE:
                changed = self.store.lift_mute(story, route)
                text = f"🔔 {who} unmuted this story in {where}: its reports are posted again."
                return Reply(text, reply_blocks(text), replace=True), changed
            case Action.SNOOZE:
                assert value.seconds is not None  # checked: a snooze names its duration
                until = click.at + value.seconds
                changed = self.store.set_snooze(Snooze(rule, route, click.user_id, click.user_name, click.at, until))
                text = (
                    f"😴 {who} snoozed rule `{escape(rule)}` in {where} until {slack_date(until)}: what it raises "
                    "here meanwhile is counted, not posted (`monitor alerts snoozed`)."
                )
                return Reply(text, reply_blocks(text, Action.UNSNOOZE, ButtonValue(value.alert_id))), changed
            case Action.UNSNOOZE:
                changed = self.store.lift_snooze(rule, route)
                text = f"⏰ {who} ended the snooze of rule `{escape(rule)}` in {where}."
                return Reply(text, reply_blocks(text), replace=True), changed
            case _:
                assert_never(action)


def _route(record: Mapping[str, Any], click: Click) -> str | None:
    """The channel, as the alert was routed to it, where the click happened (None: not one of them)."""
    for route in record.get("routes") or ():
        if not isinstance(route, str):
            continue
        if route == click.channel_id or (click.channel_name and route.removeprefix("#") == click.channel_name):
            return route
    return None


def _doc_id(record: Mapping[str, Any]) -> str:
    article = record.get("article") or {}
    return str(article.get("id") or record.get("doc") or "")


def _label(action_id: str) -> str:
    return action_id.removeprefix(ACTION_PREFIX)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
