"""L2 order book on int64 buffers allocated once.

Storage per side is a sorted array with the best level at the END, so the levels that change most
(near the top) move the fewest bytes on insert/delete; lookups scan linearly from the top for a few
steps, then bisect. Capacity is fixed at construction; a full side drops the level furthest from
the top (counted), never the top. Many books live in one ``BookSet`` block addressed by integer id.
Messages and snapshots are parsed completely into a scratch buffer before any level is applied,
so a bad level leaves the book exactly as it was.
"""

cimport cython
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from libc.string cimport memmove, memset
from libc.stdlib cimport qsort
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

import numpy as np
cimport numpy as cnp

from openclaw._core.typedefs cimport BookState, SYNCING, LIVE, STALE, RESYNCING
from openclaw._core.fixedpoint cimport (
    Scale, PE_OK, parse_units, float_units, units_to_float, object_units, make_scale,
    raise_parse_error,
)
from openclaw._core.errors import CapacityError, LevelFormatError, PriceParseError

cnp.import_array()

DEF LINEAR_STEPS = 32

STATE_NAMES = ("SYNCING", "LIVE", "STALE", "RESYNCING")
cdef type ndarray = np.ndarray


cdef ns_t _sim_now = 0        # > 0: simulated time (a backtest), read by every stage of the core


def set_sim_time(ns_t t) -> None:
    """Make the core's clock read ``t`` ns (a backtest's event time); 0: the monotonic clock."""
    global _sim_now
    _sim_now = t


def sim_time() -> int:
    """The simulated time set by ``set_sim_time`` (0: the core reads the monotonic clock)."""
    return _sim_now


cdef ns_t now_ns() noexcept nogil:
    cdef timespec ts
    if _sim_now != 0:
        return _sim_now
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <ns_t>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef inline int64_t side_search(const Side* s, tick_t p) noexcept nogil:
    """Index i of the last level whose key <= key(p) (-1 if none): p is at i if px[i] == p.

    Scans linearly from the top (where most changes land) for a few steps, then bisects.
    """
    cdef int64_t i = s.n - 1
    cdef int64_t stop = i - LINEAR_STEPS
    cdef const tick_t* px = s.px
    cdef int64_t lo, hi, mid
    if stop < -1:
        stop = -1
    if s.sgn > 0:       # bids: ascending prices, best (highest) last
        while i > stop and px[i] > p:
            i -= 1
        if i == stop and stop >= 0 and px[i] > p:
            lo = 0
            hi = i
            while lo <= hi:
                mid = (lo + hi) >> 1
                if px[mid] > p:
                    hi = mid - 1
                else:
                    lo = mid + 1
            return hi
    else:               # asks: descending prices, best (lowest) last
        while i > stop and px[i] < p:
            i -= 1
        if i == stop and stop >= 0 and px[i] < p:
            lo = 0
            hi = i
            while lo <= hi:
                mid = (lo + hi) >> 1
                if px[mid] < p:
                    hi = mid - 1
                else:
                    lo = mid + 1
            return hi
    return i


cdef inline bint side_update(Side* s, tick_t p, lot_t q) noexcept nogil:
    """Change the size of a present level; False (and nothing done) if p is not in the book."""
    cdef int64_t i = side_search(s, p)
    if i >= 0 and s.px[i] == p:
        s.qty[i] = q
        return True
    return False


cdef int side_set(Side* s, tick_t p, lot_t q) noexcept nogil:
    """Set one level; q == 0 deletes. Returns 1 if the side changed, 0 otherwise."""
    cdef int64_t i = side_search(s, p)
    cdef int64_t pos
    if i >= 0 and s.px[i] == p:
        if q == 0:
            if i < s.n - 1:
                memmove(&s.px[i], &s.px[i + 1], (s.n - 1 - i) * sizeof(tick_t))
                memmove(&s.qty[i], &s.qty[i + 1], (s.n - 1 - i) * sizeof(lot_t))
            s.n -= 1
        else:
            s.qty[i] = q
        return 1
    if q == 0:
        return 0
    pos = i + 1        # insert before index pos (keys ascending)
    if s.n == s.cap:
        s.dropped += 1
        if pos == 0:
            return 0       # the new level is the furthest from the top: it is the one dropped
        # drop index 0 (furthest from the top), shift [1, pos) down, insert at pos - 1
        if pos > 1:
            memmove(&s.px[0], &s.px[1], (pos - 1) * sizeof(tick_t))
            memmove(&s.qty[0], &s.qty[1], (pos - 1) * sizeof(lot_t))
        s.px[pos - 1] = p
        s.qty[pos - 1] = q
        return 1
    if pos < s.n:
        memmove(&s.px[pos + 1], &s.px[pos], (s.n - pos) * sizeof(tick_t))
        memmove(&s.qty[pos + 1], &s.qty[pos], (s.n - pos) * sizeof(lot_t))
    s.px[pos] = p
    s.qty[pos] = q
    s.n += 1
    return 1


cdef void side_clear(Side* s) noexcept nogil:
    s.n = 0


cdef int64_t side_fill(const Side* s, lot_t qty, lot_t* filled, double* notional,
                       tick_t* worst) noexcept nogil:
    """Walk from the top taking up to ``qty`` lots; returns the number of levels touched."""
    cdef int64_t i = s.n - 1
    cdef lot_t rem = qty, take
    cdef double cost = 0.0
    cdef int64_t touched = 0
    worst[0] = 0
    while rem > 0 and i >= 0:
        take = s.qty[i] if s.qty[i] < rem else rem
        cost += <double>take * <double>s.px[i]
        rem -= take
        worst[0] = s.px[i]
        touched += 1
        i -= 1
    filled[0] = qty - rem
    notional[0] = cost
    return touched


cdef int cmp_items(const void* a, const void* b) noexcept nogil:
    cdef const SortItem* x = <const SortItem*>a
    cdef const SortItem* y = <const SortItem*>b
    if x.side != y.side:
        return -1 if x.side < y.side else 1
    if x.key != y.key:
        return -1 if x.key < y.key else 1
    if x.ord != y.ord:
        return -1 if x.ord < y.ord else 1
    return 0


cdef class BookSet:
    """Many L2 books (venue x instrument) in one preallocated block, addressed by integer id."""

    def __cinit__(self, Py_ssize_t max_books=16, Py_ssize_t capacity=5000):
        if max_books < 1 or max_books > 1_000_000:
            raise CapacityError(f"max_books must be in 1..1000000, got {max_books}")
        if capacity < 1 or capacity > 10_000_000:
            raise CapacityError(f"capacity must be in 1..10000000, got {capacity}")
        self.max_books = max_books
        self.capacity = capacity
        self.n_books = 0
        self._px = np.zeros((max_books, 2, capacity), dtype=np.int64)
        self._qty = np.zeros((max_books, 2, capacity), dtype=np.int64)
        self._units = []
        self.meta = <BookMeta*>PyMem_Malloc(max_books * sizeof(BookMeta))
        if self.meta == NULL:
            raise MemoryError()
        memset(self.meta, 0, max_books * sizeof(BookMeta))
        self.s_cap = 0
        self.s_px = NULL
        self.s_qty = NULL
        self.s_side = NULL
        self.s_items = NULL
        self.s_skip = NULL
        self.reserve(4096)

    def __dealloc__(self):
        PyMem_Free(self.meta)
        PyMem_Free(self.s_px)
        PyMem_Free(self.s_qty)
        PyMem_Free(self.s_side)
        PyMem_Free(self.s_items)
        PyMem_Free(self.s_skip)

    cdef int reserve(self, Py_ssize_t n) except -1:
        """Grow the scratch buffer (rare: only for messages larger than any seen before)."""
        cdef Py_ssize_t cap = self.s_cap
        if n <= cap:
            return 0
        while cap < n:
            cap = cap * 2 if cap else 4096
        self.s_px = <tick_t*>PyMem_Realloc(self.s_px, cap * sizeof(tick_t))
        self.s_items = <SortItem*>PyMem_Realloc(self.s_items, cap * sizeof(SortItem))
        self.s_skip = <int8_t*>PyMem_Realloc(self.s_skip, cap * sizeof(int8_t))
        self.s_qty = <lot_t*>PyMem_Realloc(self.s_qty, cap * sizeof(lot_t))
        self.s_side = <int8_t*>PyMem_Realloc(self.s_side, cap * sizeof(int8_t))
        if (self.s_px == NULL or self.s_qty == NULL or self.s_side == NULL
                or self.s_items == NULL or self.s_skip == NULL):
            raise MemoryError()
        self.s_cap = cap
        return 0

    cdef BookMeta* get(self, Py_ssize_t book_id) except NULL:
        if book_id < 0 or book_id >= self.n_books:
            raise CapacityError(f"no book with id {book_id} (have {self.n_books})")
        return &self.meta[book_id]

    def add(self, tick_size, lot_size) -> int:
        """Register a book with its tick and lot size; returns its id."""
        cdef cnp.int64_t[:, :, ::1] px = self._px
        cdef cnp.int64_t[:, :, ::1] qty = self._qty
        cdef Py_ssize_t b = self.n_books
        cdef BookMeta* m
        cdef Scale tick, lot
        if b >= self.max_books:
            raise CapacityError(f"BookSet is full ({self.max_books} books)")
        try:
            make_scale(tick_size, &tick)
        except PriceParseError as e:
            raise PriceParseError("tick_size", tick_size, e.reason) from None
        try:
            make_scale(lot_size, &lot)
        except PriceParseError as e:
            raise PriceParseError("lot_size", lot_size, e.reason) from None
        m = &self.meta[b]
        memset(m, 0, sizeof(BookMeta))
        m.tick = tick
        m.lot = lot
        for s in range(2):
            m.side[s].px = <tick_t*>&px[b, s, 0]
            m.side[s].qty = <lot_t*>&qty[b, s, 0]
            m.side[s].cap = self.capacity
            m.side[s].sgn = 1 if s == 0 else -1
        m.state = SYNCING
        self._units.append((str(tick_size), str(lot_size)))
        self.n_books = b + 1
        return b

    def book(self, Py_ssize_t book_id) -> OrderBook:
        """An OrderBook view on book ``book_id`` (shares this block; no copy)."""
        self.get(book_id)
        cdef OrderBook ob = OrderBook.__new__(OrderBook)
        ob.bookset = self
        ob.book_id = book_id
        ob.m = &self.meta[book_id]
        return ob

    def state(self, Py_ssize_t book_id) -> int:
        return self.get(book_id).state

    def set_state(self, Py_ssize_t book_id, int state) -> None:
        if state < SYNCING or state > RESYNCING:
            raise ValueError(f"unknown book state {state}")
        self.get(book_id).state = state

    @property
    def px(self):
        """int64 [max_books, 2, capacity] price buffer (best level of a side at index n-1)."""
        return self._px

    @property
    def qty(self):
        return self._qty

    cdef int commit(self, BookMeta* m, Py_ssize_t n, bint snapshot, int64_t seq,
                    ns_t exch_ts, ns_t recv_ts) noexcept nogil:
        """Apply the n parsed scratch levels (already validated) to book m."""
        cdef Py_ssize_t i, j, k, start, count, keep
        cdef SortItem* items
        cdef Side* s
        if snapshot:
            # sort (side, key, arrival); the last arrival of a price wins; keep the best cap
            items = self.s_items
            for i in range(n):
                items[i].qty = self.s_qty[i]
                items[i].side = self.s_side[i]
                items[i].key = (1 if self.s_side[i] == 0 else -1) * self.s_px[i]
                items[i].ord = i
            qsort(items, n, sizeof(SortItem), cmp_items)
            m.side[0].n = 0
            m.side[1].n = 0
            # collapse duplicates (keep the last arrival), drop zero sizes
            k = 0
            for i in range(n):
                if i + 1 < n and items[i + 1].side == items[i].side and items[i + 1].key == items[i].key:
                    continue
                if items[i].qty == 0:
                    continue
                items[k] = items[i]
                k += 1
            start = 0
            for side in range(2):
                s = &m.side[side]
                count = 0
                while start + count < k and items[start + count].side == side:
                    count += 1
                keep = count if count <= s.cap else s.cap
                s.dropped += count - keep
                for j in range(keep):
                    s.px[j] = items[start + count - keep + j].key * s.sgn
                    s.qty[j] = items[start + count - keep + j].qty
                s.n = keep
                start += count
        else:
            # A message states the final size of each level it lists. Levels repeated in the
            # message count once (the last one); deletes go first so that a full side frees
            # room before the inserts arrive (the drop rule then keeps the best levels).
            if n <= 32:
                for i in range(n):
                    self.s_skip[i] = 0
                    for j in range(i + 1, n):
                        if self.s_px[j] == self.s_px[i] and self.s_side[j] == self.s_side[i]:
                            self.s_skip[i] = 1
                            break
            else:
                items = self.s_items
                for i in range(n):
                    items[i].qty = 0
                    items[i].side = self.s_side[i]
                    items[i].key = self.s_px[i]
                    items[i].ord = i
                    self.s_skip[i] = 0
                qsort(items, n, sizeof(SortItem), cmp_items)
                for i in range(n - 1):
                    if items[i + 1].side == items[i].side and items[i + 1].key == items[i].key:
                        self.s_skip[items[i].ord] = 1
            for i in range(n):
                if self.s_qty[i] == 0 and not self.s_skip[i]:
                    side_set(&m.side[self.s_side[i]], self.s_px[i], 0)
            # size changes of present levels next (they never drop anything), inserts last:
            # the drops then equal the levels that do not fit, whatever the message order
            for i in range(n):
                if self.s_qty[i] != 0 and not self.s_skip[i]:
                    if side_update(&m.side[self.s_side[i]], self.s_px[i], self.s_qty[i]):
                        self.s_skip[i] = 1
            for i in range(n):
                if self.s_qty[i] != 0 and not self.s_skip[i]:
                    side_set(&m.side[self.s_side[i]], self.s_px[i], self.s_qty[i])
        m.seq = seq
        m.exch_ts = exch_ts
        m.recv_ts = recv_ts if recv_ts != 0 else now_ns()
        m.updates += 1
        return 0


cdef inline int level_units(BookMeta* m, object p, object q, tick_t* px, lot_t* qty) except -1:
    """Parse one (price, size) pair; raises a typed error naming the field."""
    cdef int rc
    if type(p) is float:
        rc = float_units(PyFloat_AS_DOUBLE(p), &m.tick, px)
    else:
        rc = object_units(p, &m.tick, px)
    if rc != PE_OK:
        raise_parse_error(rc, "price", p)
    if px[0] == 0:
        raise PriceParseError("price", p, "zero")
    if type(q) is float:
        rc = float_units(PyFloat_AS_DOUBLE(q), &m.lot, qty)
    else:
        rc = object_units(q, &m.lot, qty)
    if rc != PE_OK:
        raise_parse_error(rc, "size", q)
    return 0


cdef Py_ssize_t parse_side(BookSet bs, BookMeta* m, object levels, int8_t side,
                           Py_ssize_t pos) except -1:
    """Parse one side's levels into the scratch buffer from ``pos``; returns the new end."""
    cdef Py_ssize_t i, n
    cdef object lv
    cdef const double[:, :] arr
    cdef int rc
    if levels is None:
        return pos
    if type(levels) is not list and type(levels) is not tuple and isinstance(levels, ndarray):
        if levels.ndim != 2 or levels.shape[1] != 2:
            raise LevelFormatError("levels", levels.shape, "expected an array of shape (k, 2)")
        arr = np.ascontiguousarray(levels, dtype=np.float64)
        n = arr.shape[0]
        bs.reserve(pos + n)
        for i in range(n):
            rc = float_units(arr[i, 0], &m.tick, &bs.s_px[pos])
            if rc != PE_OK:
                raise_parse_error(rc, "price", arr[i, 0])
            if bs.s_px[pos] == 0:
                raise PriceParseError("price", arr[i, 0], "zero")
            rc = float_units(arr[i, 1], &m.lot, &bs.s_qty[pos])
            if rc != PE_OK:
                raise_parse_error(rc, "size", arr[i, 1])
            bs.s_side[pos] = side
            pos += 1
        return pos
    if type(levels) is not list and type(levels) is not tuple:
        try:
            levels = list(levels)
        except TypeError:
            raise LevelFormatError("levels", levels, "expected a sequence of (price, size)") from None
    n = len(levels)
    bs.reserve(pos + n)
    for i in range(n):
        if type(levels) is list:
            lv = <object>PyList_GET_ITEM(levels, i)
        else:
            lv = <object>PyTuple_GET_ITEM(levels, i)
        if type(lv) is tuple and PyTuple_GET_SIZE(lv) == 2:
            level_units(m, <object>PyTuple_GET_ITEM(lv, 0), <object>PyTuple_GET_ITEM(lv, 1),
                        &bs.s_px[pos], &bs.s_qty[pos])
        elif type(lv) is list and PyList_GET_SIZE(lv) == 2:
            level_units(m, <object>PyList_GET_ITEM(lv, 0), <object>PyList_GET_ITEM(lv, 1),
                        &bs.s_px[pos], &bs.s_qty[pos])
        elif isinstance(lv, (tuple, list, ndarray)) and len(lv) == 2:
            level_units(m, lv[0], lv[1], &bs.s_px[pos], &bs.s_qty[pos])
        else:
            raise LevelFormatError("level", lv, "expected a (price, size) pair")
        bs.s_side[pos] = side
        pos += 1
    return pos


cdef inline object level_pair(const Side* s, int64_t i, const BookMeta* m):
    return (units_to_float(s.px[i], &m.tick), units_to_float(s.qty[i], &m.lot))


cdef class OrderBook:
    """One L2 book: int64 ticks/lots inside, floats or exact strings at the edge."""

    def __init__(self, tick_size="0.01", lot_size="0.00001", Py_ssize_t capacity=5000):
        cdef BookSet bs = BookSet(1, capacity)
        bs.add(tick_size, lot_size)
        self.bookset = bs
        self.book_id = 0
        self.m = &bs.meta[0]

    def apply_snapshot(self, bids, asks, int64_t seq=0, int64_t exch_ts=0, int64_t recv_ts=0):
        """Replace both sides with the given levels (all-or-nothing)."""
        if self.m == NULL:
            raise CapacityError("OrderBook is not bound to a BookSet")
        cdef Py_ssize_t n = parse_side(self.bookset, self.m, bids, 0, 0)
        n = parse_side(self.bookset, self.m, asks, 1, n)
        self.bookset.commit(self.m, n, True, seq, exch_ts, recv_ts)

    def apply(self, bids, asks, int64_t seq=0, int64_t exch_ts=0, int64_t recv_ts=0):
        """Apply one venue message: every level is validated first, then all are applied."""
        if self.m == NULL:
            raise CapacityError("OrderBook is not bound to a BookSet")
        cdef Py_ssize_t n = parse_side(self.bookset, self.m, bids, 0, 0)
        n = parse_side(self.bookset, self.m, asks, 1, n)
        self.bookset.commit(self.m, n, False, seq, exch_ts, recv_ts)

    def apply_ticks(self, const int64_t[:, ::1] bids, const int64_t[:, ::1] asks,
                    bint snapshot=False, int64_t seq=0, int64_t exch_ts=0, int64_t recv_ts=0):
        """Apply levels already in ticks/lots: two int64 arrays (k, 2) of (price ticks, size
        lots), size 0 removes; ``snapshot`` replaces both sides (all-or-nothing, like
        ``apply``). The bus's subscriber path (no parsing, no float)."""
        if self.m == NULL:
            raise CapacityError("OrderBook is not bound to a BookSet")
        if bids.shape[1] != 2 or asks.shape[1] != 2:
            raise LevelFormatError("levels", (bids.shape[1], asks.shape[1]),
                                   "expected int64 arrays of shape (k, 2)")
        cdef Py_ssize_t nb = bids.shape[0], na = asks.shape[0], i, pos = 0
        self.bookset.reserve(nb + na)
        for i in range(nb + na):
            if i < nb:
                self.bookset.s_px[pos] = bids[i, 0]
                self.bookset.s_qty[pos] = bids[i, 1]
                self.bookset.s_side[pos] = 0
            else:
                self.bookset.s_px[pos] = asks[i - nb, 0]
                self.bookset.s_qty[pos] = asks[i - nb, 1]
                self.bookset.s_side[pos] = 1
            if self.bookset.s_px[pos] <= 0 or self.bookset.s_qty[pos] < 0:
                raise PriceParseError("level", (self.bookset.s_px[pos],
                                                self.bookset.s_qty[pos]),
                                      "ticks must be > 0 and lots >= 0")
            pos += 1
        self.bookset.commit(self.m, pos, snapshot, seq, exch_ts, recv_ts)

    def set_level(self, int side, price, size, int64_t seq=0, int64_t exch_ts=0,
                  int64_t recv_ts=0):
        """Set one level (side 0 = bid, 1 = ask); size 0 deletes."""
        cdef tick_t px
        cdef lot_t q
        if side != 0 and side != 1:
            raise LevelFormatError("side", side, "expected 0 (bid) or 1 (ask)")
        if self.m == NULL:
            raise CapacityError("OrderBook is not bound to a BookSet")
        level_units(self.m, price, size, &px, &q)
        side_set(&self.m.side[side], px, q)
        self.m.seq = seq
        self.m.exch_ts = exch_ts
        self.m.recv_ts = recv_ts if recv_ts != 0 else now_ns()
        self.m.updates += 1

    def best_bid(self):
        """(price, size) of the best bid, or None."""
        cdef Side* s = &self.m.side[0]
        if s.n == 0:
            return None
        return (units_to_float(s.px[s.n - 1], &self.m.tick),
                units_to_float(s.qty[s.n - 1], &self.m.lot))

    def best_ask(self):
        """(price, size) of the best ask, or None."""
        cdef Side* s = &self.m.side[1]
        if s.n == 0:
            return None
        return (units_to_float(s.px[s.n - 1], &self.m.tick),
                units_to_float(s.qty[s.n - 1], &self.m.lot))

    def top(self, Py_ssize_t n):
        """(bids, asks) as new float64 arrays of shape (k, 2), k <= n, best first."""
        if n < 0:
            raise CapacityError(f"top(n) needs n >= 0, got {n}")
        out = []
        cdef Side* s
        cdef Py_ssize_t k, j
        cdef cnp.ndarray[cnp.float64_t, ndim=2] a
        for side in range(2):
            s = &self.m.side[side]
            k = n if n < s.n else s.n
            a = np.empty((k, 2), dtype=np.float64)
            for j in range(k):
                a[j, 0] = units_to_float(s.px[s.n - 1 - j], &self.m.tick)
                a[j, 1] = units_to_float(s.qty[s.n - 1 - j], &self.m.lot)
            out.append(a)
        return out[0], out[1]

    def top_into(self, double[:, ::1] bids, double[:, ::1] asks):
        """Write the top levels into preallocated (n, 2) float64 buffers; returns (k_bids, k_asks)."""
        cdef Side* s
        cdef Py_ssize_t k, j, kb = 0
        cdef double[:, ::1] dst
        for side in range(2):
            s = &self.m.side[side]
            dst = bids if side == 0 else asks
            if dst.shape[1] < 2:
                raise CapacityError("top_into buffers need shape (n, 2)")
            k = dst.shape[0] if dst.shape[0] < s.n else s.n
            for j in range(k):
                dst[j, 0] = units_to_float(s.px[s.n - 1 - j], &self.m.tick)
                dst[j, 1] = units_to_float(s.qty[s.n - 1 - j], &self.m.lot)
            if side == 0:
                kb = k
        return kb, k

    def top_ticks(self, Py_ssize_t n):
        """(bid_px, bid_qty, ask_px, ask_qty): int64 views into the book (no copy), best first.

        Views alias the live buffers: they change as the book changes.
        """
        if n < 0:
            raise CapacityError(f"top_ticks(n) needs n >= 0, got {n}")
        out = []
        b = self.book_id
        cdef Side* s
        for side in range(2):
            s = &self.m.side[side]
            k = n if n < s.n else s.n
            for arr in (self.bookset._px, self.bookset._qty):
                view = arr[b, side, 0:0] if k == 0 else arr[b, side, s.n - 1::-1][:k]
                view.flags.writeable = False      # a write would break the sort order
                out.append(view)
        return tuple(out)

    def depth(self):
        """(n_bids, n_asks)."""
        return self.m.side[0].n, self.m.side[1].n

    def mid_ticks(self) -> int:
        """(best bid + best ask) // 2 in ticks; 0 if a side is empty (the risk reference)."""
        cdef Side* b = &self.m.side[0]
        cdef Side* a = &self.m.side[1]
        if b.n == 0 or a.n == 0:
            return 0
        return (b.px[b.n - 1] + a.px[a.n - 1]) // 2

    def mid(self):
        """Mid price, or None if a side is empty."""
        cdef Side* b = &self.m.side[0]
        cdef Side* a = &self.m.side[1]
        if b.n == 0 or a.n == 0:
            return None
        return (units_to_float(b.px[b.n - 1], &self.m.tick)
                + units_to_float(a.px[a.n - 1], &self.m.tick)) / 2.0

    def spread(self):
        """Best ask - best bid (negative when crossed), or None if a side is empty."""
        cdef Side* b = &self.m.side[0]
        cdef Side* a = &self.m.side[1]
        if b.n == 0 or a.n == 0:
            return None
        return units_to_float(a.px[a.n - 1] - b.px[b.n - 1], &self.m.tick) \
            if a.px[a.n - 1] >= b.px[b.n - 1] \
            else -units_to_float(b.px[b.n - 1] - a.px[a.n - 1], &self.m.tick)

    def is_crossed(self) -> bool:
        cdef Side* b = &self.m.side[0]
        cdef Side* a = &self.m.side[1]
        return b.n > 0 and a.n > 0 and b.px[b.n - 1] >= a.px[a.n - 1]

    def fill(self, int side, qty):
        """Walk the levels to fill ``qty``: side 0 sells into the bids, 1 buys from the asks.

        Returns (filled_qty, vwap, worst_price); vwap and worst are nan when nothing fills.
        """
        cdef lot_t want, filled
        cdef double notional
        cdef tick_t worst
        cdef int rc
        if side != 0 and side != 1:
            raise LevelFormatError("side", side, "expected 0 (sell into bids) or 1 (buy from asks)")
        rc = object_units(qty, &self.m.lot, &want)
        if rc != PE_OK:
            raise_parse_error(rc, "size", qty)
        side_fill(&self.m.side[side], want, &filled, &notional, &worst)
        if filled == 0:
            return 0.0, float("nan"), float("nan")
        return (units_to_float(filled, &self.m.lot),
                notional / <double>filled * self.m.tick.value,
                units_to_float(worst, &self.m.tick))

    def clear(self) -> None:
        """Empty both sides (counters and sequence are kept)."""
        side_clear(&self.m.side[0])
        side_clear(&self.m.side[1])
        self.m.updates += 1

    def to_ticks(self, price) -> int:
        cdef tick_t out
        cdef int rc = object_units(price, &self.m.tick, &out)
        if rc != PE_OK:
            raise_parse_error(rc, "price", price)
        return out

    def to_lots(self, size) -> int:
        cdef lot_t out
        cdef int rc = object_units(size, &self.m.lot, &out)
        if rc != PE_OK:
            raise_parse_error(rc, "size", size)
        return out

    @property
    def dropped(self) -> int:
        return self.m.side[0].dropped + self.m.side[1].dropped

    @property
    def seq(self) -> int:
        return self.m.seq

    @property
    def exch_ts(self) -> int:
        return self.m.exch_ts

    @property
    def recv_ts(self) -> int:
        return self.m.recv_ts

    @property
    def updates(self) -> int:
        return self.m.updates

    @property
    def state(self) -> int:
        return self.m.state

    @state.setter
    def state(self, int value):
        if value < SYNCING or value > RESYNCING:
            raise ValueError(f"unknown book state {value}")
        self.m.state = value

    @property
    def tick_size(self) -> str:
        return self.bookset._units[self.book_id][0]

    @property
    def lot_size(self) -> str:
        return self.bookset._units[self.book_id][1]

    @property
    def capacity(self) -> int:
        return self.bookset.capacity

    def __repr__(self):
        return (f"OrderBook(tick_size={self.tick_size!r}, lot_size={self.lot_size!r}, "
                f"depth={self.depth()}, best_bid={self.best_bid()}, best_ask={self.best_ask()})")
