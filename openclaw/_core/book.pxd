# L2 order book on preallocated int64 buffers: the typed interface other _core modules use.
from openclaw._core.typedefs cimport int64_t, int8_t, tick_t, lot_t, ns_t
from openclaw._core.fixedpoint cimport Scale

# One side of one book. Levels are kept sorted so that the BEST level is at index n-1:
# bids ascending by price, asks descending (key = sgn * price is ascending on both sides).
cdef struct Side:
    tick_t* px
    lot_t* qty
    int64_t n
    int64_t cap
    int64_t sgn          # +1 bids, -1 asks
    int64_t dropped      # levels dropped because the side was full

cdef struct BookMeta:
    Side side[2]         # 0 = bids, 1 = asks
    Scale tick
    Scale lot
    int64_t seq          # venue sequence id of the last mutating call
    ns_t exch_ts         # exchange timestamp of the last mutating call
    ns_t recv_ts         # local receive timestamp (CLOCK_MONOTONIC ns)
    int64_t updates      # mutating calls applied
    int8_t state         # BookState

cdef struct SortItem:        # a snapshot level while it is being sorted
    int64_t key
    int64_t ord
    lot_t qty
    int8_t side

cdef ns_t now_ns() noexcept nogil
cdef int side_set(Side* s, tick_t p, lot_t q) noexcept nogil
cdef void side_clear(Side* s) noexcept nogil
cdef int64_t side_fill(const Side* s, lot_t qty, lot_t* filled, double* notional,
                       tick_t* worst) noexcept nogil

cdef class BookSet:
    cdef readonly Py_ssize_t max_books
    cdef readonly Py_ssize_t capacity
    cdef readonly Py_ssize_t n_books
    cdef BookMeta* meta
    cdef object _px          # int64 [max_books, 2, capacity]
    cdef object _qty
    cdef list _units         # (tick_size, lot_size) strings per book
    # scratch for all-or-nothing messages: parsed levels land here before any is applied
    cdef tick_t* s_px
    cdef lot_t* s_qty
    cdef int8_t* s_side
    cdef SortItem* s_items
    cdef int8_t* s_skip
    cdef Py_ssize_t s_cap
    cdef int reserve(self, Py_ssize_t n) except -1
    cdef BookMeta* get(self, Py_ssize_t book_id) except NULL
    cdef int commit(self, BookMeta* m, Py_ssize_t n, bint snapshot, int64_t seq,
                    ns_t exch_ts, ns_t recv_ts) noexcept nogil

cdef class OrderBook:
    cdef readonly BookSet bookset
    cdef readonly Py_ssize_t book_id
    cdef BookMeta* m
    cdef public object wire_decoder    # a one-book DepthDecoder, made on first raw-frame apply
