"""structlog set-up, done once at the edge: readable on a terminal, one JSON object a line otherwise."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from monitor.redact import redact_secrets


def configure_logging(level: str = "info", json: bool | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog for the process; `json=None` picks JSON unless `stream` is a terminal."""
    out = stream or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # After format_exc_info: it redacts the rendered exception text too.
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
