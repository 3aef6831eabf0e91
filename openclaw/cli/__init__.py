"""The ``openclaw-trading`` command line (also ``python -m openclaw``): one Typer app, one module
per command group (``agent-setup``, ``bench``, ``config``, ``ctl`` + ``alerts``, ``demo`` +
``replay``, ``ibkr`` + ``schedule``, ``mcp``, ``report``, ``run``, ``sim``); what they print is
rendered by the part each belongs to (tables in ``openclaw.latency``, ``openclaw.bench``,
``openclaw.app``) or as JSON (``--json``)."""

from openclaw.cli import (  # noqa: F401 - they register
    agent_setup,
    bench,
    config,
    ctl,
    demo,
    ibkr,
    mcp_cmd,
    report,
    run,
    sim,
)
from openclaw.cli.root import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script."""
    app()
