# Venue depth messages (raw JSON bytes) -> parsed levels in a BookSet, without per-level objects.
from openclaw._core.typedefs cimport int64_t
from openclaw._core.book cimport BookSet

cdef enum MessageKind:
    KIND_OTHER = 0       # not a depth message (subscription reply, ticker, pong, ...)
    KIND_SNAPSHOT = 1
    KIND_UPDATE = 2

cdef enum Venue:
    VENUE_BINANCE = 0
    VENUE_OKX = 1
    VENUE_BYBIT = 2

cdef struct LevelError:
    Py_ssize_t pos        # byte offset of the offending token
    Py_ssize_t len
    int code              # ParseError code, -1 for structure, -2 for a zero price
    int field             # 0 price, 1 size

cdef class DepthDecoder:
    cdef readonly BookSet bookset
    cdef readonly int venue
    cdef dict _symbols               # symbol bytes -> book id (looked up once per message)
    cdef readonly int kind
    cdef readonly Py_ssize_t book_id
    cdef readonly int64_t first_id   # Binance U
    cdef readonly int64_t last_id    # Binance u / lastUpdateId, OKX seqId, Bybit u
    cdef readonly int64_t prev_id    # OKX prevSeqId, Binance futures pu (-1 when absent)
    cdef readonly int64_t exch_ts    # ns
    cdef readonly int64_t checksum
    cdef readonly bint has_checksum
    cdef readonly Py_ssize_t n_levels
    cdef readonly object symbol      # bytes of the last depth message's symbol
    cdef bint pending
    cdef Py_ssize_t fixed_book
    cdef _fail(self, str detail, Py_ssize_t offset)
    cdef _level_fail(self, const char* b, LevelError* err)
    cdef int _route(self, const char* b, Py_ssize_t i, Py_ssize_t n) except -2
    cdef int _levels(self, const char* b, Py_ssize_t n, Py_ssize_t bi, Py_ssize_t ai) except -1
