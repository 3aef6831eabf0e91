"""Stage clock: monotonic ns timestamps of each event at each pipeline stage.

An event (one socket message, say) gets a slot in a ring buffer allocated once; each stage it
passes writes its timestamp into that slot: one store, no allocation, no lock. Reports read the
ring (numpy) off the hot path. Stage 0 is the event's origin (socket receive); an unfinished
event has zeros in the stages it has not reached.
"""

import numpy as np
cimport numpy as cnp
from libc.string cimport memset

from openclaw._core.book cimport now_ns
from openclaw._core.errors import CapacityError

cnp.import_array()


cdef class StageClock:
    """Ring buffer of per-stage timestamps for the last ``capacity`` events."""

    def __cinit__(self, stages, Py_ssize_t capacity=65536):
        names = [str(s) for s in stages]
        if len(names) < 2:
            raise CapacityError("a stage clock needs at least two stages")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate stage names in {names}")
        if capacity < 1:
            raise CapacityError(f"capacity must be >= 1, got {capacity}")
        self._names = names
        self.n_stages = len(names)
        self.capacity = capacity
        self._buf = np.zeros((capacity, self.n_stages), dtype=np.int64)
        cdef cnp.int64_t[:, ::1] view = self._buf
        self.ts = <ns_t*>&view[0, 0]
        self.n_events = 0
        self.head = 0

    cdef int64_t begin(self, ns_t t0) noexcept nogil:
        cdef int64_t e
        self.begin_row(t0, &e)
        return e

    cdef ns_t* begin_row(self, ns_t t0, int64_t* event) noexcept nogil:
        """``begin``, returning the event's row: the caller stores stage timestamps into it
        directly (row[stage] = t, 0 < stage < n_stages) while the event is the newest."""
        cdef ns_t* row = &self.ts[self.head * self.n_stages]
        memset(row, 0, self.n_stages * sizeof(ns_t))
        row[0] = t0 if t0 != 0 else now_ns()
        event[0] = self.n_events
        self.n_events += 1
        self.head += 1                     # the ring slot without a division
        if self.head == self.capacity:
            self.head = 0
        return row

    cdef void stamp(self, int64_t event, int stage, ns_t t) noexcept nogil:
        # an event already overwritten by the ring (too old) is ignored
        cdef Py_ssize_t slot
        if event < 0 or self.n_events - event > self.capacity or stage <= 0 \
                or stage >= self.n_stages:
            return
        if event == self.n_events - 1:             # the newest: its slot without a division
            slot = self.head - 1 if self.head > 0 else self.capacity - 1
        else:
            slot = event % self.capacity
        self.ts[slot * self.n_stages + stage] = t if t != 0 else now_ns()

    def start(self, int64_t t0=0) -> int:
        """Begin an event (stage 0 at ``t0``, or now); returns its id."""
        return self.begin(t0)

    def mark(self, int64_t event, int stage, int64_t t=0) -> None:
        """Record that ``event`` reached ``stage`` at ``t`` (or now)."""
        self.stamp(event, stage, t)

    def stage_index(self, name) -> int:
        return self._names.index(name)

    @property
    def stages(self) -> list:
        return list(self._names)

    def snapshot(self):
        """A copy of the kept events' rows, oldest first: int64 [k, n_stages]."""
        cdef Py_ssize_t k = min(self.n_events, self.capacity)
        start = self.n_events % self.capacity if self.n_events > self.capacity else 0
        rows = np.roll(self._buf, -start, axis=0)[:k] if k else self._buf[:0]
        return rows.copy()

    def clear(self) -> None:
        self._buf[:] = 0
        self.n_events = 0
        self.head = 0
