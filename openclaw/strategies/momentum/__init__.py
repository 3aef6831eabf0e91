"""Equity momentum on IBKR: 12-1 scores, ranking, weekly rebalance plans (core.py); its orders
go through the ``OrderManager`` on an IBKR route. ``Config`` is ``[momentum]`` of an IBKR run
file (also ``[strategy.momentum]``)."""

from openclaw.strategies.momentum.core import *  # noqa: F403
from openclaw.strategies.momentum.core import MomentumConfig as Config
from openclaw.strategies.momentum.core import __all__ as _core_all

__all__ = [*_core_all, "Config"]
