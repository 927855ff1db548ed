"""Which sink delivers: the first one the environment configures (none: the caller prints to the console).

Each entry of SINKS is a sink module's `from_env(env, timeout)`: a new sink is its module and one line here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from monitor.notify import slack, webhook
from monitor.notify.base import Sink

# In order of preference: Slack's Web API or incoming webhook, then a generic JSON webhook.
SINKS: tuple[Callable[[Mapping[str, str], float], Sink[Any] | None], ...] = (slack.from_env, webhook.from_env)


def sink_from_env(env: Mapping[str, str] | None = None, timeout: float = 10.0) -> Sink[Any] | None:
    """The sink the environment configures (SLACK_BOT_TOKEN, SLACK_WEBHOOK_URL, MONITOR_WEBHOOK_URL, or
    their _FILE forms); None when none is (use the console). Raises ConfigError for an unreadable secret file."""
    env = os.environ if env is None else env
    for from_env in SINKS:
        sink = from_env(env, timeout)
        if sink is not None:
            return sink
    return None
