"""Bybit depth frames in C: the v5 public ``orderbook.{depth}.{symbol}`` push (``type``
snapshot/delta, ``data.u``) and the REST ``/v5/market/orderbook`` snapshot (``result.u``)
(docs/venues/bybit.md).

The venue-independent scanning and level parsing are ``openclaw._core.wire``'s; this module
names Bybit's keys and reads its header.
"""

from openclaw._core.typedefs cimport int64_t
from openclaw._core.wire cimport (
    DepthDecoder, KeyTable, KIND_OTHER, KIND_SNAPSHOT, KIND_UPDATE, has_prefix, key_table,
    parse_int, value_is, walk_object,
)

cdef enum:
    K_TOPIC = 0
    K_TYPE
    K_TS             # ms
    K_DATA
    K_S              # data.s: symbol
    K_U              # data.u / result.u: update id
    K_B
    K_A
    K_RESULT         # REST snapshot
    N_KEYS

cdef KeyTable KEYS
key_table(&KEYS, (b"topic", b"type", b"ts", b"data", b"s", b"u", b"b", b"a", b"result"),
          levels=(b"b", b"a"), nested=(b"data",))


cdef class BybitDepthDecoder(DepthDecoder):
    """Bybit ``orderbook`` pushes and REST snapshots -> a BookSet (``DepthDecoder``'s API)."""

    def __init__(self, bookset, Py_ssize_t book_id=-1):
        DepthDecoder.__init__(self, bookset, "bybit", book_id)

    cdef int stream_header(self, const char* b, Py_ssize_t n) except -2:
        cdef Py_ssize_t at[N_KEYS]
        cdef Py_ssize_t dat[N_KEYS]
        cdef int walked = 0, kind
        cdef int64_t v
        self.walk_frame(b, n, &KEYS, at, dat, &walked)
        if at[K_TOPIC] < 0 or at[K_DATA] < 0 or not has_prefix(b, at[K_TOPIC], n,
                                                                "orderbook.", 10):
            return KIND_OTHER
        if value_is(b, at[K_TYPE], n, "snapshot", 8):
            kind = KIND_SNAPSHOT
        elif value_is(b, at[K_TYPE], n, "delta", 5):
            kind = KIND_UPDATE
        else:
            return KIND_OTHER
        if parse_int(b, at[K_TS], n, &v) == 0:
            self.exch_ts = v * 1000000
        if not walked:
            self.fail("bad data object", at[K_DATA])
        self.route(b, dat[K_S], n)
        if parse_int(b, dat[K_U], n, &self.last_id) < 0:
            self.fail("bad u", dat[K_U])
        self.bids_at = dat[K_B]
        self.asks_at = dat[K_A]
        return kind

    cdef int rest_header(self, const char* b, Py_ssize_t n, int64_t* seq) except -1:
        cdef Py_ssize_t at[N_KEYS]
        cdef Py_ssize_t sub[N_KEYS]
        cdef Py_ssize_t j
        self.walk_snapshot(b, n, &KEYS, at)
        for j in range(N_KEYS):
            sub[j] = -1
        if at[K_RESULT] < 0 or walk_object(b, at[K_RESULT], n, &KEYS, sub) < 0:
            self.fail("snapshot without result", at[K_RESULT])
        if parse_int(b, sub[K_U], n, seq) < 0:
            self.fail("snapshot without u", sub[K_U])
        self.bids_at = sub[K_B]
        self.asks_at = sub[K_A]
        return 0
