"""The exceptions monitor raises.

MonitorError
├── ConfigError          a file the operator or analyst wrote is invalid
│   └── RuleLoadError    rule, list or rule-test files; carries every error found
└── InputError           a document source (file, feed, page) could not be read
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error monitor raises on purpose."""


class ConfigError(MonitorError):
    """A configuration, rule or feeds file is invalid."""


class ValidationError(ConfigError):
    """A file failed validation; `errors` holds every `FILE:LINE: message`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


class RuleLoadError(ValidationError):
    """Rule or list files failed validation."""


class FeedsFileError(ValidationError):
    """The feeds file failed validation."""


class ConfigFileError(ValidationError):
    """The service config failed validation."""


class InputError(MonitorError):
    """A document source could not be read; the message names the file or URL."""
