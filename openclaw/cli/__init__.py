"""The ``openclaw-trading`` command line (also ``python -m openclaw``): one Typer app, one module
per command group (``bench``, ``chaos``, ``config``, ``ctl`` + ``alerts``, ``demo`` + ``replay``,
``ibkr`` + ``schedule``, ``mcp``,
``run``, ``sim``); what they print is rendered by the part each belongs to (tables in
``openclaw.latency``, ``openclaw.bench``, ``openclaw.app``) or as JSON (``--json``)."""

from openclaw.cli import bench, chaos, config, ctl, demo, ibkr, mcp_cmd, run, sim  # noqa: F401 - they register
from openclaw.cli.root import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script."""
    app()
