"""Binance depth frames in C: the spot/futures ``depthUpdate`` event (bare or in a combined
stream's ``data``) and the REST ``/api/v3/depth`` snapshot (docs/venues/binance.md §1.5).

The venue-independent scanning and level parsing are ``openclaw._core.wire``'s; this module
names Binance's keys and reads its header: ``U`` -> ``first_id``, ``u`` -> ``last_id``, futures
``pu`` -> ``prev_id``, ``E`` (ms) -> ``exch_ts``.
"""

from openclaw._core.typedefs cimport int64_t
from openclaw._core.book cimport OrderBook
from openclaw._core.wire cimport (
    DepthDecoder, KeyTable, KIND_OTHER, KIND_UPDATE, key_table, parse_int, value_is,
)
from openclaw._core.errors import MessageFormatError

cdef enum:
    K_E = 0          # event type
    K_BIG_E          # event time, ms
    K_S              # symbol
    K_BIG_U          # first update id
    K_U              # last update id
    K_PU             # futures: the previous event's u
    K_B
    K_A
    K_DATA           # combined stream wrapper
    K_LAST_UPDATE    # REST snapshot
    K_BIDS
    K_ASKS
    N_KEYS

cdef KeyTable KEYS
key_table(&KEYS, (b"e", b"E", b"s", b"U", b"u", b"pu", b"b", b"a", b"data", b"lastUpdateId",
                  b"bids", b"asks"),
          levels=(b"b", b"a", b"bids", b"asks"), nested=(b"data",))


cdef class BinanceDepthDecoder(DepthDecoder):
    """Binance diff-depth events and REST snapshots -> a BookSet (``DepthDecoder``'s API)."""

    def __init__(self, bookset, Py_ssize_t book_id=-1):
        DepthDecoder.__init__(self, bookset, "binance", book_id)

    cdef int stream_header(self, const char* b, Py_ssize_t n) except -2:
        cdef Py_ssize_t at[N_KEYS]
        cdef Py_ssize_t dat[N_KEYS]
        cdef Py_ssize_t* h = at
        cdef int walked = 0
        cdef int64_t v
        self.walk_frame(b, n, &KEYS, at, dat, &walked)
        if at[K_DATA] >= 0:                      # combined stream wrapper
            if not walked:
                self.fail("bad data object", at[K_DATA])
            h = dat
        if not value_is(b, h[K_E], n, "depthUpdate", 11):
            return KIND_OTHER
        self.route(b, h[K_S], n)
        if (parse_int(b, h[K_BIG_U], n, &self.first_id) < 0
                or parse_int(b, h[K_U], n, &self.last_id) < 0):
            self.fail("bad U/u", h[K_U])
        if h[K_PU] >= 0 and parse_int(b, h[K_PU], n, &self.prev_id) < 0:
            self.fail("bad pu", h[K_PU])
        if parse_int(b, h[K_BIG_E], n, &v) == 0:
            self.exch_ts = v * 1000000
        self.bids_at = h[K_B]
        self.asks_at = h[K_A]
        return KIND_UPDATE

    cdef int rest_header(self, const char* b, Py_ssize_t n, int64_t* seq) except -1:
        cdef Py_ssize_t at[N_KEYS]
        self.walk_snapshot(b, n, &KEYS, at)
        if parse_int(b, at[K_LAST_UPDATE], n, seq) < 0:
            self.fail("snapshot without lastUpdateId", at[K_LAST_UPDATE])
        self.bids_at = at[K_BIDS]
        self.asks_at = at[K_ASKS]
        return 0


def apply_binance_depth(OrderBook book, raw) -> None:
    """Apply one Binance depthUpdate (raw JSON bytes) to ``book``, without sequence checks.

    The one-book path the benchmark measures; feeds use a decoder and check continuity.
    """
    cdef BinanceDepthDecoder dec
    if type(book.wire_decoder) is BinanceDepthDecoder:
        dec = <BinanceDepthDecoder>book.wire_decoder
    else:
        dec = BinanceDepthDecoder(book.bookset, book.book_id)
        book.wire_decoder = dec
    if dec.decode(raw) != KIND_UPDATE:
        raise MessageFormatError("binance", "not a depthUpdate event")
    dec.commit()
