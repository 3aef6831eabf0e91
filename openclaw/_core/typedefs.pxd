# The one place the hot path's scalar types are named (scikit-learn style).
from libc.stdint cimport int64_t, int32_t, int8_t, uint64_t

ctypedef int64_t tick_t    # a price in integer ticks of its instrument
ctypedef int64_t lot_t     # a size in integer lots of its instrument
ctypedef int64_t ns_t      # a timestamp in nanoseconds

# Book states (feeds set them; signals read only LIVE books)
cdef enum BookState:
    SYNCING = 0
    LIVE = 1
    STALE = 2
    RESYNCING = 3
