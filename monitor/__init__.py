"""monitor: watches news feeds and alerts Slack when a story matching your rules breaks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("monitor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
