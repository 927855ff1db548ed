"""docs/slack.md shows how to set the buttons up: its app manifest asks for what the service uses."""

from __future__ import annotations

import re
import textwrap

from ruamel.yaml import YAML

from tests.conftest import ROOT

SLACK_DOC = ROOT / "docs" / "slack.md"


def feedback_section() -> str:
    text = SLACK_DOC.read_text(encoding="utf-8")
    return text[text.index("## Feedback from subscribers") :]


def test_the_manifest_enables_socket_mode_interactivity_and_the_scopes_the_service_calls_need() -> None:
    block = re.search(r"```yaml\n(.*?)\n *```", feedback_section(), re.S)
    assert block is not None, "docs/slack.md: the feedback section has no YAML manifest"
    manifest = YAML(typ="safe").load(textwrap.dedent(block.group(1)))
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    # chat.postMessage / chat.update, and conversations.history for the exactly-once look-up.
    assert {"chat:write", "channels:history"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_the_setup_names_the_tokens_the_service_reads() -> None:
    section = feedback_section()
    for name in ("SLACK_APP_TOKEN", "SLACK_APP_TOKEN_FILE", "SLACK_BOT_TOKEN", "connections:write"):
        assert name in section, name
    for command in ("monitor alerts snoozed", "monitor rules feedback", "monitor rules feedback export"):
        assert command in section, command
