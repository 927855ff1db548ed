"""The buttons on alert messages and on the replies to a click, and the values they carry.

A value names an alert (and, for a snooze, a duration offered here); everything else an action
needs (rule, story, channel, article) is looked up in the store, so a value cannot claim more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

ACTION_PREFIX = "monitor."
VALUE_VERSION = "v1"
HOUR = 3600
SNOOZES = {HOUR: "for 1 hour", 24 * HOUR: "for 24 hours", 7 * 24 * HOUR: "for a week"}
_VALUE = re.compile(r"v1:([0-9a-f]{8,64})(?::([0-9]{1,8}))?")


class Action(StrEnum):
    """Every action id the app answers; anything else is refused."""

    NOT_RELEVANT = "monitor.not_relevant"
    RELEVANT = "monitor.relevant"  # undoes NOT_RELEVANT
    MUTE = "monitor.mute"
    UNMUTE = "monitor.unmute"
    SNOOZE = "monitor.snooze"
    UNSNOOZE = "monitor.unsnooze"


@dataclass(frozen=True, slots=True)
class ButtonValue:
    """What a button or menu option carries: the alert, and for a snooze how long (seconds)."""

    alert_id: str
    seconds: int | None = None

    def encode(self) -> str:
        tail = f":{self.seconds}" if self.seconds is not None else ""
        return f"{VALUE_VERSION}:{self.alert_id}{tail}"


def decode(value: object) -> ButtonValue | None:
    """The value of one of our buttons, or None when it is not one (malformed, or a duration we never offer)."""
    if not isinstance(value, str):
        return None
    found = _VALUE.fullmatch(value)
    if found is None:
        return None
    seconds = int(found[2]) if found[2] is not None else None
    if seconds is not None and seconds not in SNOOZES:
        return None
    return ButtonValue(found[1], seconds)


@dataclass(frozen=True, slots=True)
class Choice:
    """One rule of a message: its alert id and title (a message may list several rules of one article)."""

    alert_id: str
    rule_title: str


def _option(text: str, value: ButtonValue) -> Option:
    return Option(text=PlainTextObject(text=text[:75]), value=value.encode())


def actions_block(choices: Sequence[Choice]) -> dict[str, Any]:
    """The row of buttons under an alert: Not relevant, Mute this story, Snooze this rule (1 h, 24 h, a week).

    With several rules in one message, "Not relevant" and "Snooze" become menus naming each rule.
    """
    assert choices, "an alert message names at least one rule"
    first = choices[0]
    elements: list[Any] = []
    if len(choices) == 1:
        elements.append(
            ButtonElement(
                text="Not relevant", action_id=Action.NOT_RELEVANT, value=ButtonValue(first.alert_id).encode()
            )
        )
    else:
        elements.append(
            StaticSelectElement(
                placeholder="Not relevant for…",
                action_id=Action.NOT_RELEVANT,
                options=[_option(c.rule_title, ButtonValue(c.alert_id)) for c in choices[:100]],
            )
        )
    elements.append(
        ButtonElement(text="Mute this story", action_id=Action.MUTE, value=ButtonValue(first.alert_id).encode())
    )
    snoozes = [
        _option(f"{c.rule_title} {label}" if len(choices) > 1 else label, ButtonValue(c.alert_id, seconds))
        for c in choices
        for seconds, label in SNOOZES.items()
    ]
    elements.append(
        StaticSelectElement(placeholder="Snooze this rule…", action_id=Action.SNOOZE, options=snoozes[:100])
    )
    return ActionsBlock(block_id="monitor.feedback", elements=elements).to_dict()


def reply_blocks(text: str, undo: Action | None = None, value: ButtonValue | None = None) -> list[dict[str, Any]]:
    """An answer to a click: what was done, with an Undo button when it can be undone."""
    blocks: list[dict[str, Any]] = [SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict()]
    if undo is not None and value is not None:
        blocks.append(
            ActionsBlock(elements=[ButtonElement(text="Undo", action_id=undo, value=value.encode())]).to_dict()
        )
    return blocks
