"""OKX depth frames in C: the v5 ``books`` push (``action`` snapshot/update, ``seqId`` /
``prevSeqId``, ``checksum``), the REST ``/api/v5/market/books`` snapshot, and OKX's CRC32 of the
top levels (docs/venues/okx.md §2.4-2.8).

The venue-independent scanning, level parsing and CRC32 are ``openclaw._core.wire``'s; this
module names OKX's keys, reads its header and builds the string its checksum covers.
"""

from openclaw._core.typedefs cimport int64_t
from openclaw._core.book cimport BookMeta, Side
from openclaw._core.fixedpoint cimport format_units
from openclaw._core.wire cimport (
    DepthDecoder, KeyTable, KIND_OTHER, KIND_SNAPSHOT, KIND_UPDATE, crc32_table, crc32_update,
    key_table, parse_int, value_is, walk_object, ws,
)

cdef enum:
    K_DATA = 0
    K_BIDS
    K_ASKS
    K_ARG
    K_INST           # arg.instId
    K_ACTION
    K_TS             # ms, quoted
    K_CHECKSUM
    K_SEQ_ID
    K_PREV_SEQ
    K_EVENT          # a subscription reply or error
    N_KEYS

cdef KeyTable KEYS
key_table(&KEYS, (b"data", b"bids", b"asks", b"arg", b"instId", b"action", b"ts", b"checksum",
                  b"seqId", b"prevSeqId", b"event"),
          levels=(b"bids", b"asks"), nested=(b"data",))


cdef int64_t okx_crc(BookMeta* m, int levels) noexcept nogil:
    """Signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the top ``levels``."""
    cdef const unsigned int* table = crc32_table()
    cdef unsigned int crc = 0xFFFFFFFFu
    cdef char buf[48]
    cdef Py_ssize_t ln, j
    cdef Side* s
    cdef int side
    cdef bint first = True
    for j in range(levels):
        for side in range(2):
            s = &m.side[side]
            if j >= s.n:
                continue
            if not first:
                crc = crc32_update(table, crc, ":", 1)
            first = False
            ln = format_units(s.px[s.n - 1 - j], &m.tick, buf)
            crc = crc32_update(table, crc, buf, ln)
            crc = crc32_update(table, crc, ":", 1)
            ln = format_units(s.qty[s.n - 1 - j], &m.lot, buf)
            crc = crc32_update(table, crc, buf, ln)
    return <int64_t>(<int>(crc ^ 0xFFFFFFFFu))


cdef class OkxDepthDecoder(DepthDecoder):
    """OKX ``books`` pushes and REST snapshots -> a BookSet (``DepthDecoder``'s API), plus the
    checksum rule (``okx_checksum``)."""

    def __init__(self, bookset, Py_ssize_t book_id=-1):
        DepthDecoder.__init__(self, bookset, "okx", book_id)

    cdef int stream_header(self, const char* b, Py_ssize_t n) except -2:
        cdef Py_ssize_t at[N_KEYS]
        cdef Py_ssize_t dat[N_KEYS]
        cdef Py_ssize_t sub[N_KEYS]
        cdef int walked = 0, kind
        cdef Py_ssize_t j
        cdef int64_t v
        self.walk_frame(b, n, &KEYS, at, dat, &walked)
        if at[K_ARG] < 0 or at[K_DATA] < 0 or at[K_EVENT] >= 0:
            return KIND_OTHER
        for j in range(N_KEYS):
            sub[j] = -1
        if walk_object(b, at[K_ARG], n, &KEYS, sub) < 0:
            self.fail("bad arg object", at[K_ARG])
        self.route(b, sub[K_INST], n)
        if value_is(b, at[K_ACTION], n, "snapshot", 8):
            kind = KIND_SNAPSHOT
        elif value_is(b, at[K_ACTION], n, "update", 6):
            kind = KIND_UPDATE
        else:
            return KIND_OTHER      # books5 / bbo-tbt carry no action
        j = ws(b, at[K_DATA], n)
        if j >= n or b[j] != c'[' or not walked:
            self.fail("data is not an array of objects", j)
        if dat[K_SEQ_ID] >= 0 and parse_int(b, dat[K_SEQ_ID], n, &self.last_id) < 0:
            self.fail("bad seqId", dat[K_SEQ_ID])
        if dat[K_PREV_SEQ] >= 0 and parse_int(b, dat[K_PREV_SEQ], n, &self.prev_id) < 0:
            self.fail("bad prevSeqId", dat[K_PREV_SEQ])
        if dat[K_CHECKSUM] >= 0:
            if parse_int(b, dat[K_CHECKSUM], n, &self.checksum) < 0:
                self.fail("bad checksum", dat[K_CHECKSUM])
            self.has_checksum = self.checksum != 0
        if parse_int(b, dat[K_TS], n, &v) == 0:
            self.exch_ts = v * 1000000
        self.bids_at = dat[K_BIDS]
        self.asks_at = dat[K_ASKS]
        return kind

    cdef int rest_header(self, const char* b, Py_ssize_t n, int64_t* seq) except -1:
        cdef Py_ssize_t at[N_KEYS]
        cdef Py_ssize_t sub[N_KEYS]
        cdef Py_ssize_t j, k
        self.walk_snapshot(b, n, &KEYS, at)
        for j in range(N_KEYS):
            sub[j] = -1
        k = ws(b, at[K_DATA], n) if at[K_DATA] >= 0 else n
        if k >= n or b[k] != c'[' or walk_object(b, k + 1, n, &KEYS, sub) < 0:
            self.fail("snapshot without data[0]", k)
        if parse_int(b, sub[K_SEQ_ID], n, seq) < 0:
            self.fail("snapshot without seqId", sub[K_SEQ_ID])
        self.bids_at = sub[K_BIDS]
        self.asks_at = sub[K_ASKS]
        return 0

    def okx_checksum(self, Py_ssize_t book_id, int levels=25) -> int:
        """OKX's signed CRC32 of a book's top ``levels`` (minimal decimal strings)."""
        return okx_crc(self.bookset.get(book_id), levels)
