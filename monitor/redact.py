"""Secrets out of logs: a structlog processor that masks Slack tokens, webhook URLs and URL passwords."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack tokens: bot, user, app-level, configuration, refresh (xoxb-, xoxp-, xoxa-, xoxr-, xoxe-, xapp-).
    (re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+"), r"\1-***"),
    # Incoming webhook and workflow URLs: the path is the secret.
    (re.compile(r"(https?://)?hooks\.slack(?:-gov)?\.com/[^\s\"'<>|]*"), "https://hooks.slack.com/***"),
    # A password in any URL (redis://user:secret@host, https://user:secret@host).
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'<>]*):[^\s@/\"'<>]+@"), r"\1:***@"),
)


def redact(text: str) -> str:
    """The text with every Slack token, webhook URL and URL password replaced by '***'."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_clean(item) for item in value)
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: redact every value of the event (run it after format_exc_info)."""
    for key, value in event_dict.items():
        if key != "exc_info":  # left for format_exc_info; its rendered text is redacted when this runs after it
            event_dict[key] = _clean(value)
    return event_dict
