"""openclaw: a low-latency trading integration core.

The Cython core is imported lazily, so pure-Python parts (the venue simulators) load without a
build.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# numpy's OpenBLAS threads spin on idle cores; openclaw never calls BLAS, and on a 2-core box the
# spinning steals the hot path's CPU. A user who wants BLAS threads sets the variable first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__all__ = [
    "BookChange", "BookSet", "OrderBook", "OrderRefused", "Session", "find_arbitrage",
    "latency_report", "load_config", "__version__",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from openclaw._core.book import BookSet, OrderBook
    from openclaw._core.triarb import find_arbitrage
    from openclaw.api import BookChange, OrderRefused, Session
    from openclaw.app.config import load_config
    from openclaw.latency import latency_report

# the strategy-author API (openclaw/api.py, docs/python-api.md), imported on first use
_LAZY = {"Session": "openclaw.api", "BookChange": "openclaw.api", "OrderRefused": "openclaw.api",
         "load_config": "openclaw.app.config", "latency_report": "openclaw.latency"}


def __getattr__(name: str) -> Any:
    if name in ("BookSet", "OrderBook"):
        from openclaw._core import book

        return getattr(book, name)
    if name == "find_arbitrage":
        from openclaw._core.triarb import find_arbitrage

        return find_arbitrage
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'openclaw' has no attribute {name!r}")
