# Per-event stage timestamps in a preallocated ring buffer (recording is one store, no allocation).
from openclaw._core.typedefs cimport int64_t, ns_t

cdef class StageClock:
    cdef readonly Py_ssize_t n_stages
    cdef readonly Py_ssize_t capacity
    cdef readonly int64_t n_events      # events begun since start (the ring keeps the last ones)
    cdef object _buf                    # int64 [capacity, n_stages], 0 = stage not reached
    cdef ns_t* ts
    cdef Py_ssize_t head                # ring slot of the next event (n_events % capacity)
    cdef list _names
    cdef int64_t begin(self, ns_t t0) noexcept nogil
    cdef ns_t* begin_row(self, ns_t t0, int64_t* event) noexcept nogil
    cdef void stamp(self, int64_t event, int stage, ns_t t) noexcept nogil
