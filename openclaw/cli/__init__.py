"""The ``openclaw-trading`` command line (also ``python -m openclaw``): one Typer app, one module
per command group (``agent-setup``, ``bench``, ``chaos``, ``config``, ``ctl`` + ``alerts``,
``backtest`` + ``record``, ``demo`` + ``replay``, ``doctor``, ``ibkr`` + ``schedule``,
``mcp``, ``report``, ``run``, ``sim``); what they print is rendered in one place,
``openclaw.cli.render`` (tables, the live views, ``--json``)."""

from openclaw.cli import (  # noqa: F401 - they register
    agent_setup,
    backtest,
    bench,
    chaos,
    config,
    ctl,
    demo,
    doctor,
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
