"""Structured (JSON lines) logging shared by every service and the CLI.

Log records carry stage names, artifact keys (content hashes) and figures, never clinic file
names or anything that could identify a patient.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# Libraries whose INFO lines are noise in our logs, kept to their warnings: httpx logs each Prefect
# API request; every PDF report adds ~190 lines (33 kB) of fontTools' font subsetting (the lists
# of glyphs kept) and WeasyPrint's rendering steps.
QUIET_LOGGERS = ("httpx", "fontTools", "weasyprint")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", stream=sys.stderr, path: Path | None = None) -> None:
    """Route the root logger as JSON lines to `path` (appended) if given, else to `stream` (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_gait", False):
            root.removeHandler(handler)
            handler.close()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    handler._gait = True  # type: ignore[attr-defined]
    root.addHandler(handler)
