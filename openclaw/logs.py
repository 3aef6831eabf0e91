"""Structured logging for long-running commands (``openclaw-trading run``): JSON lines or human
text.

JSON mode writes one object per record on stderr: ``ts`` (UTC ISO-8601), ``level``, ``logger``,
``msg`` and every ``extra=`` field the call passed (``log.info("...", extra={"orders": 3})``),
plus ``exc`` with the traceback when there is one. Human mode is one plain line per record.
Both go to stderr so that stdout stays free for a command's own result.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "human"]

# attributes every LogRecord has: whatever else a record carries came from ``extra=``
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record (``extra`` fields included, values that are not JSON types
    rendered with ``str``)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class HumanFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL logger: message [key=value ...]``."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items()
                          if k not in _STANDARD and not k.startswith("_"))
        line = f"{ts} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            line += f" [{extras}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(fmt: LogFormat = "human", level: int = logging.INFO,
                  stream: TextIO | None = None) -> logging.Handler:
    """Route the ``openclaw`` loggers (and warnings of libraries) to one handler on ``stream``
    (stderr by default) in ``fmt``; returns the handler (remove it to undo)."""
    if fmt not in ("json", "human"):
        raise ValueError(f"log format must be 'json' or 'human', not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_openclaw", False)]:
        root.removeHandler(old)
    handler._openclaw = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("openclaw").setLevel(level)
    return handler
