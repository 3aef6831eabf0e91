"""Consolidated order book of one symbol across venues.

Venue books of one symbol may use different tick and lot sizes; prices and sizes are converted
into one exact common unit (the finest decimal of them all), so the merge compares integers and
is exact. Each venue's top ``depth`` levels are cached; ``update(v)`` re-reads only venue v and,
only if its top changed, re-merges the cached tops (V x depth integers, no book is walked again).
The consolidated top-N by distinct price is exact: a price in the union's top N is necessarily
inside its own venue's top N.
"""

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcmp, memcpy, memset

import numpy as np

from openclaw._core.book cimport OrderBook, BookMeta, Side
from openclaw._core.fixedpoint cimport Scale, finish_scale, units_to_float
from openclaw._core.errors import CapacityError

cdef int64_t ipow10(int k) noexcept nogil:
    cdef int64_t r = 1
    for _ in range(k):
        r *= 10
    return r


cdef class MergedBook:
    """Best bid/ask over venues (with the venue) and an aggregated top-N with per-venue sizes."""

    def __cinit__(self, books, Py_ssize_t depth=10):
        cdef OrderBook ob
        cdef Py_ssize_t v, V
        cdef int e_px = 0, e_qty = 0
        self._books = list(books)
        V = len(self._books)
        if V < 1 or V > 64:
            raise CapacityError(f"MergedBook needs 1..64 venue books, got {V}")
        if depth < 1 or depth > 10000:
            raise CapacityError(f"depth must be in 1..10000, got {depth}")
        for b in self._books:
            if not isinstance(b, OrderBook):
                raise TypeError(f"MergedBook takes OrderBook objects, got {type(b).__name__}")
        self.n_venues = V
        self.max_depth = depth
        self.metas = <BookMeta**>PyMem_Malloc(V * sizeof(BookMeta*))
        self.px_factor = <int64_t*>PyMem_Malloc(V * sizeof(int64_t))
        self.qty_factor = <int64_t*>PyMem_Malloc(V * sizeof(int64_t))
        self.cpx = <int64_t*>PyMem_Malloc(V * 2 * depth * sizeof(int64_t))
        self.cqty = <int64_t*>PyMem_Malloc(V * 2 * depth * sizeof(int64_t))
        self.cn = <int64_t*>PyMem_Malloc(V * 2 * sizeof(int64_t))
        self.mpx = <int64_t*>PyMem_Malloc(2 * depth * sizeof(int64_t))
        self.mtot = <int64_t*>PyMem_Malloc(2 * depth * sizeof(int64_t))
        self.mven = <int64_t*>PyMem_Malloc(2 * depth * V * sizeof(int64_t))
        if (self.metas == NULL or self.px_factor == NULL or self.qty_factor == NULL
                or self.cpx == NULL or self.cqty == NULL or self.cn == NULL
                or self.mpx == NULL or self.mtot == NULL or self.mven == NULL):
            raise MemoryError()
        memset(self.cn, 0, V * 2 * sizeof(int64_t))
        self.mn[0] = 0
        self.mn[1] = 0
        for v in range(V):
            ob = self._books[v]
            if ob.m == NULL:
                raise CapacityError("an OrderBook in the merge is not bound to a BookSet")
            self.metas[v] = ob.m
            e_px = max(e_px, ob.m.tick.e)
            e_qty = max(e_qty, ob.m.lot.e)
        for v in range(V):
            self.px_factor[v] = self.metas[v].tick.m * ipow10(e_px - self.metas[v].tick.e)
            self.qty_factor[v] = self.metas[v].lot.m * ipow10(e_qty - self.metas[v].lot.e)
        self.unit_px.m = 1
        self.unit_px.e = e_px
        finish_scale(&self.unit_px)
        self.unit_qty.m = 1
        self.unit_qty.e = e_qty
        finish_scale(&self.unit_qty)

    def __dealloc__(self):
        PyMem_Free(self.metas)
        PyMem_Free(self.px_factor)
        PyMem_Free(self.qty_factor)
        PyMem_Free(self.cpx)
        PyMem_Free(self.cqty)
        PyMem_Free(self.cn)
        PyMem_Free(self.mpx)
        PyMem_Free(self.mtot)
        PyMem_Free(self.mven)

    cdef bint refresh(self, Py_ssize_t v) noexcept nogil:
        """Re-read venue v's top into the cache; True if it differs from the cached one."""
        cdef bint changed = False
        cdef int side
        cdef Py_ssize_t j, k, D = self.max_depth
        cdef const Side* s
        cdef int64_t* px
        cdef int64_t* qty
        cdef int64_t p, q
        for side in range(2):
            s = &self.metas[v].side[side]
            k = s.n if s.n < D else D
            px = &self.cpx[(v * 2 + side) * D]
            qty = &self.cqty[(v * 2 + side) * D]
            if k != self.cn[v * 2 + side]:
                changed = True
                self.cn[v * 2 + side] = k
            for j in range(k):
                p = s.px[s.n - 1 - j] * self.px_factor[v]
                q = s.qty[s.n - 1 - j] * self.qty_factor[v]
                if px[j] != p or qty[j] != q:
                    changed = True
                    px[j] = p
                    qty[j] = q
        return changed

    cdef bint rebuild(self, int side) noexcept nogil:
        """k-way merge of the cached venue tops of one side; True if the merged top changed."""
        cdef Py_ssize_t V = self.n_venues, D = self.max_depth
        cdef Py_ssize_t v, k = 0
        cdef int64_t sgn = 1 if side == 0 else -1
        cdef int64_t best, key, tot, old_n = self.mn[side]
        cdef bint changed = False, found
        cdef int64_t pos[64]
        cdef int64_t* px
        cdef int64_t* qty
        cdef int64_t* ven
        for v in range(V):
            pos[v] = 0
        while k < D:
            found = False
            best = 0
            for v in range(V):
                if pos[v] < self.cn[v * 2 + side]:
                    key = sgn * self.cpx[(v * 2 + side) * D + pos[v]]
                    if not found or key > best:
                        best = key
                        found = True
            if not found:
                break
            tot = 0
            ven = &self.mven[(side * D + k) * V]
            for v in range(V):
                if (pos[v] < self.cn[v * 2 + side]
                        and sgn * self.cpx[(v * 2 + side) * D + pos[v]] == best):
                    qty = &self.cqty[(v * 2 + side) * D + pos[v]]
                    if ven[v] != qty[0]:
                        changed = True
                        ven[v] = qty[0]
                    tot += qty[0]
                    pos[v] += 1
                elif ven[v] != 0:
                    changed = True
                    ven[v] = 0
            px = &self.mpx[side * D + k]
            if px[0] != sgn * best:
                changed = True
                px[0] = sgn * best
            self.mtot[side * D + k] = tot
            k += 1
        if k != old_n:
            changed = True
        self.mn[side] = k
        return changed

    def update(self, Py_ssize_t venue) -> bool:
        """Venue ``venue``'s book changed: re-read it; True if the merged top changed."""
        if venue < 0 or venue >= self.n_venues:
            raise CapacityError(f"no venue {venue} in this merge ({self.n_venues} venues)")
        cdef bint changed
        with nogil:
            if not self.refresh(venue):
                changed = False
            else:
                changed = self.rebuild(0)
                changed = self.rebuild(1) or changed
        return changed

    def update_all(self) -> bool:
        """Re-read every venue (after a resync, say)."""
        cdef Py_ssize_t v
        for v in range(self.n_venues):
            self.refresh(v)
        cdef bint c0 = self.rebuild(0)
        cdef bint c1 = self.rebuild(1)
        return c0 or c1

    cdef int best(self, int side, int64_t* px, int64_t* qty) noexcept nogil:
        """Best level of a side: venue index (largest size at the best price, ties lowest
        index), its price and that venue's size in common units; -1 if the side is empty."""
        cdef Py_ssize_t v, V = self.n_venues, D = self.max_depth
        cdef int bv = -1
        cdef int64_t bq = 0
        cdef int64_t* ven
        if self.mn[side] == 0:
            return -1
        ven = &self.mven[(side * D) * V]
        for v in range(V):
            if ven[v] > bq:
                bq = ven[v]
                bv = <int>v
        px[0] = self.mpx[side * D]
        qty[0] = bq
        return bv

    def _best(self, int side):
        cdef int64_t px, qty
        cdef int v = self.best(side, &px, &qty)
        if v < 0:
            return None
        return (units_to_float(px, &self.unit_px), units_to_float(qty, &self.unit_qty), v)

    def best_bid(self):
        """(price, size, venue) of the best bid over all venues, or None."""
        return self._best(0)

    def best_ask(self):
        """(price, size, venue) of the best ask over all venues, or None."""
        return self._best(1)

    def top(self, Py_ssize_t n):
        """(bids, asks): float64 arrays (k, 2 + n_venues): price, total size, size per venue."""
        if n < 0:
            raise CapacityError(f"top(n) needs n >= 0, got {n}")
        cdef Py_ssize_t V = self.n_venues, D = self.max_depth, k, j, v
        out = []
        for side in range(2):
            k = min(n, self.mn[side])
            a = np.empty((k, 2 + V), dtype=np.float64)
            for j in range(k):
                a[j, 0] = units_to_float(self.mpx[side * D + j], &self.unit_px)
                a[j, 1] = units_to_float(self.mtot[side * D + j], &self.unit_qty)
                for v in range(V):
                    a[j, 2 + v] = units_to_float(self.mven[(side * D + j) * V + v], &self.unit_qty)
            out.append(a)
        return out[0], out[1]

    @property
    def price_unit(self) -> str:
        """The common exact price unit, e.g. '1e-2'."""
        return f"1e-{self.unit_px.e}"

    @property
    def size_unit(self) -> str:
        return f"1e-{self.unit_qty.e}"
