"""Type stubs of ``openclaw.venues.okx.depth`` (Cython): OKX depth JSON -> book, in C."""

from openclaw._core.book import BookSet
from openclaw._core.wire import DepthDecoder

class OkxDepthDecoder(DepthDecoder):
    """OKX ``books`` pushes and REST snapshots -> a BookSet (``DepthDecoder``'s API), plus the
    checksum rule (``okx_checksum``)."""

    def __init__(self, bookset: BookSet, book_id: int = -1) -> None: ...
    def okx_checksum(self, book_id: int, levels: int = 25) -> int: ...
