"""structlog set-up, done once at the edge: readable on a terminal, one JSON object a line otherwise."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from monitor.redact import redact_secrets


class _LibraryHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Where the libraries' own logging (slack-sdk, APScheduler, httpx) goes: the same stream and form.

    Written through structlog's printer, under its lock for the stream: with a lock of its own, a
    library's line written from one thread could land between another thread's line and its newline.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._printer = structlog.PrintLogger(stream)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._printer.msg(self.format(record))
        except Exception:  # as logging.StreamHandler does: a broken log line must not break the caller
            self.handleError(record)


def configure_logging(level: str = "info", json: bool | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog for the process; `json=None` picks JSON unless `stream` is a terminal.

    The libraries' standard-library log records (warnings and worse) go through the same processors,
    secrets masked, instead of Python's bare last-resort printing.
    """
    out = stream or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            structlog.processors.format_exc_info,
            # After format_exc_info: it redacts the rendered exception text too.
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = _LibraryHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _LibraryHandler)] + [handler]
    # The libraries' info lines (every HTTP request, every job run) are noise next to ours.
    root.setLevel(max(logging.WARNING, logging.getLevelNamesMapping()[level.upper()]))
