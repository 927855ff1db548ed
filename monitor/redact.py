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
    # A password in any URL (redis://user:secret@host, https://user:secret@host), even one holding
    # the characters that should have been percent-encoded (/ # ?).
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'<>]*):[^\s@\"'<>]+@"), r"\1:***@"),
)

# Secrets the process was given (a bot token, a webhook URL on any host, a store password): masked
# wherever they appear, whatever their shape.
_KNOWN: set[str] = set()
SHORTEST_KNOWN = 4  # shorter pieces would mask ordinary words


def add_secret(value: str) -> None:
    """Mask this exact text in every later log line and error (a configured token, URL or password)."""
    if len(value) >= SHORTEST_KNOWN:
        _KNOWN.add(value)


def redact(text: str) -> str:
    """The text with every known secret, Slack token, webhook URL and URL password replaced by '***'."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in sorted(_KNOWN, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
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
