# Consolidated book of one symbol across venues, kept in one exact common price/size unit.
from openclaw._core.typedefs cimport int64_t, tick_t, lot_t
from openclaw._core.fixedpoint cimport Scale
from openclaw._core.book cimport BookMeta

cdef class MergedBook:
    cdef readonly Py_ssize_t n_venues
    cdef readonly Py_ssize_t max_depth
    cdef list _books                 # keeps the OrderBook objects (and their BookSets) alive
    cdef BookMeta** metas
    cdef int64_t* px_factor          # venue ticks -> common price units
    cdef int64_t* qty_factor         # venue lots -> common size units
    cdef Scale unit_px               # the common units (exact decimals)
    cdef Scale unit_qty
    # per-venue cache of the top max_depth levels in common units: [v][side][level]
    cdef int64_t* cpx
    cdef int64_t* cqty
    cdef int64_t* cn                 # [v][side]
    # consolidated top: [side][level] price, total, and [side][level][v] per-venue sizes
    cdef int64_t* mpx
    cdef int64_t* mtot
    cdef int64_t* mven
    cdef int64_t mn[2]
    cdef bint refresh(self, Py_ssize_t v) noexcept nogil
    cdef bint rebuild(self, int side) noexcept nogil
    cdef int best(self, int side, int64_t* px, int64_t* qty) noexcept nogil
