"""The engine's control API (app layer): an authenticated loopback HTTP server inside every
long-running process (``start_control``), its client (``ControlClient``) for the
``openclaw-trading ctl`` CLI and the MCP server, and the operations they share."""

from openclaw.control.errors import (
    ApprovalRefused,
    ApprovalRequired,
    BadRequest,
    ControlError,
    NotAvailable,
    StateFileError,
    TokenFileError,
    Unauthorized,
)
from openclaw.control.server import ControlServer, start_control, stop_control

__all__ = [
    "ApprovalRefused",
    "ApprovalRequired",
    "BadRequest",
    "ControlError",
    "ControlServer",
    "NotAvailable",
    "StateFileError",
    "TokenFileError",
    "Unauthorized",
    "start_control",
    "stop_control",
]
