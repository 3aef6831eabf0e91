"""openclaw: a low-latency trading integration core.

The Cython core is imported lazily, so pure-Python parts (the venue simulators) load without a
build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["BookSet", "OrderBook", "find_arbitrage", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from openclaw._core.book import BookSet, OrderBook
    from openclaw._core.triarb import find_arbitrage


def __getattr__(name: str) -> Any:
    if name in ("BookSet", "OrderBook"):
        from openclaw._core import book

        return getattr(book, name)
    if name == "find_arbitrage":
        from openclaw._core.triarb import find_arbitrage

        return find_arbitrage
    raise AttributeError(f"module 'openclaw' has no attribute {name!r}")
