"""openclaw: a low-latency trading integration core."""

from openclaw._core.book import BookSet, OrderBook

__all__ = ["BookSet", "OrderBook", "__version__"]
__version__ = "0.1.0"
