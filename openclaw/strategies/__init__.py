"""Strategies decide; the order manager (execution/manager.py) does everything after that.

Each strategy is a package ``strategies/<name>/`` that owns its settings (``Config``) and is
registered here by name. A run file selects one with ``[strategy.NAME]``: a built-in name below,
or any other name with ``module = "a.b.c"`` (a user's own importable module defining
``run_configured(config, ctx)`` and optionally ``Config``)."""

from __future__ import annotations

#: the built-in strategies: name -> package
BUILTIN: dict[str, str] = {
    "triarb": "openclaw.strategies.triarb",      # crypto runs; wired by the app (hot path)
    "momentum": "openclaw.strategies.momentum",  # IBKR runs ([momentum] or [strategy.momentum])
    "fx": "openclaw.strategies.fx",              # IBKR runs ([fx] or [strategy.fx])
}


def module_for(name: str, module: str | None = None) -> str:
    """The module of ``[strategy.NAME]``: ``module`` when given, the built-in package of
    ``name``, else ``openclaw.strategies.NAME``."""
    return module or BUILTIN.get(name) or f"openclaw.strategies.{name}"
