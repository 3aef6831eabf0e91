"""Type stubs of ``openclaw.venues.binance.depth`` (Cython): Binance depth JSON -> book, in C."""

from openclaw._core.book import BookSet, OrderBook
from openclaw._core.wire import DepthDecoder

class BinanceDepthDecoder(DepthDecoder):
    """Binance diff-depth events and REST snapshots -> a BookSet (``DepthDecoder``'s API)."""

    def __init__(self, bookset: BookSet, book_id: int = -1) -> None: ...

def apply_binance_depth(book: OrderBook, raw: str | bytes) -> None: ...
