"""Type stubs of ``openclaw.venues.bybit.depth`` (Cython): Bybit depth JSON -> book, in C."""

from openclaw._core.book import BookSet
from openclaw._core.wire import DepthDecoder

class BybitDepthDecoder(DepthDecoder):
    """Bybit ``orderbook`` pushes and REST snapshots -> a BookSet (``DepthDecoder``'s API)."""

    def __init__(self, bookset: BookSet, book_id: int = -1) -> None: ...
