# Depth frames (raw JSON bytes) -> parsed levels in a BookSet, without per-level objects.
# The venue-independent part: frame access, JSON scanning over a key table, integer and level
# parsing into ticks/lots, CRC32, and the base DepthDecoder. Each venue's message shapes live in
# its own module (openclaw/venues/<venue>/depth.pyx), a subclass of DepthDecoder.
from libc.string cimport memcmp

from openclaw._core.typedefs cimport int64_t, int8_t
from openclaw._core.book cimport BookSet
from openclaw._core.fixedpoint cimport Scale

cdef enum MessageKind:
    KIND_OTHER = 0       # not a depth message (subscription reply, ticker, pong, ...)
    KIND_SNAPSHOT = 1
    KIND_UPDATE = 2

cdef enum:
    MAX_KEYS = 32        # keys one venue's table may name
    MAX_KEY_LEN = 24     # bytes of one key, NUL included

cdef enum KeyFlag:
    KEY_PLAIN = 0
    KEY_LEVELS = 1       # a level array [[p, q, ...], ...]: skipped fast, parse_levels re-reads it
    KEY_NESTED = 2       # an object, or an array whose first element is one: walked into ``dat``

cdef struct KeyTable:
    # the keys a venue's walk records: at[k] = where the value of names[k] starts
    int n
    char names[MAX_KEYS][MAX_KEY_LEN]
    Py_ssize_t lens[MAX_KEYS]
    int flags[MAX_KEYS]

cdef struct LevelError:
    Py_ssize_t pos        # byte offset of the offending token
    Py_ssize_t len
    int code              # ParseError code, -1 for structure, -2 for a zero price
    int field             # 0 price, 1 size

cdef const char* frame_chars(object raw, Py_ssize_t* n) except NULL
cdef int key_table(KeyTable* t, tuple names, tuple levels=*, tuple nested=*) except -1
cdef Py_ssize_t skip_value(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t skip_levels(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t walk_object(const char* b, Py_ssize_t i, Py_ssize_t n, const KeyTable* keys,
                            Py_ssize_t* at, Py_ssize_t* dat=*, int* walked=*) noexcept nogil
cdef int parse_int(const char* b, Py_ssize_t i, Py_ssize_t n, int64_t* out) noexcept nogil
cdef Py_ssize_t parse_levels(const char* b, Py_ssize_t i, Py_ssize_t n, const Scale* tick,
                             const Scale* lot, int8_t side, BookSet bs, Py_ssize_t pos,
                             LevelError* err) noexcept nogil
cdef const unsigned int* crc32_table() noexcept nogil


cdef inline unsigned int crc32_update(const unsigned int* table, unsigned int crc, const char* s,
                                      Py_ssize_t n) noexcept nogil:
    """CRC-32 (IEEE, reflected) running state over ``n`` more bytes, ``table`` from
    ``crc32_table()``; start from and finish with an xor by 0xFFFFFFFF. Inline, so that a
    venue's checksum interleaves its formatting with the serial CRC chain."""
    cdef Py_ssize_t i
    for i in range(n):
        crc = table[(crc ^ <unsigned char>s[i]) & 0xFF] ^ (crc >> 8)
    return crc


cdef inline Py_ssize_t ws(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (b[i] == c' ' or b[i] == c'\n' or b[i] == c'\r' or b[i] == c'\t'):
        i += 1
    return i


cdef inline Py_ssize_t skip_string(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """b[i] is an opening quote; index after the closing quote, or -1."""
    i += 1
    while i < n:
        if b[i] == c'\\':
            i += 2
            continue
        if b[i] == c'"':
            return i + 1
        i += 1
    return -1


cdef inline bint value_is(const char* b, Py_ssize_t i, Py_ssize_t n, const char* s,
                          Py_ssize_t ln) noexcept nogil:
    """Is the value at i the string ``s``?"""
    return (i >= 0 and i + ln + 2 <= n and b[i] == c'"' and memcmp(b + i + 1, s, ln) == 0
            and b[i + 1 + ln] == c'"')


cdef inline bint has_prefix(const char* b, Py_ssize_t i, Py_ssize_t n, const char* s,
                            Py_ssize_t ln) noexcept nogil:
    """Does the string value at i start with ``s``?"""
    return i >= 0 and i + ln + 1 <= n and b[i] == c'"' and memcmp(b + i + 1, s, ln) == 0


cdef inline Py_ssize_t string_span(const char* b, Py_ssize_t i, Py_ssize_t n,
                                   Py_ssize_t* end) noexcept nogil:
    """Start of the string content at i (end -> closing quote), or -1."""
    cdef Py_ssize_t e
    if i < 0 or i >= n or b[i] != c'"':
        return -1
    e = skip_string(b, i, n)
    if e < 0:
        return -1
    end[0] = e - 1
    return i + 1


cdef class DepthDecoder:
    # header of the last decoded message (readonly from Python)
    cdef readonly BookSet bookset
    cdef readonly str venue          # the venue's name, for errors
    cdef dict _symbols               # symbol bytes -> book id (looked up once per message)
    cdef readonly int kind
    cdef readonly Py_ssize_t book_id
    cdef readonly int64_t first_id   # first update id the message covers, -1 if none
    cdef readonly int64_t last_id    # the message's sequence id (-1 if none)
    cdef readonly int64_t prev_id    # the previous message's id, when the venue sends it
    cdef readonly int64_t exch_ts    # ns
    cdef readonly int64_t checksum
    cdef readonly bint has_checksum
    cdef readonly Py_ssize_t n_levels
    cdef readonly object symbol      # bytes of the last depth message's symbol
    cdef bint pending
    cdef Py_ssize_t fixed_book
    # set by the venue's header hooks: where the bid / ask level arrays start (-1: absent)
    cdef Py_ssize_t bids_at
    cdef Py_ssize_t asks_at
    cdef fail(self, str detail, Py_ssize_t offset)
    cdef level_fail(self, const char* b, LevelError* err)
    cdef int walk_frame(self, const char* b, Py_ssize_t n, const KeyTable* keys, Py_ssize_t* at,
                        Py_ssize_t* dat, int* walked) except -1
    cdef int walk_snapshot(self, const char* b, Py_ssize_t n, const KeyTable* keys,
                           Py_ssize_t* at) except -1
    cdef int route(self, const char* b, Py_ssize_t i, Py_ssize_t n) except -2
    cdef int parse_sides(self, const char* b, Py_ssize_t n) except -1
    # the venue's hooks (virtual): a stream frame's header -> kind; a REST snapshot's -> seq id
    cdef int stream_header(self, const char* b, Py_ssize_t n) except -2
    cdef int rest_header(self, const char* b, Py_ssize_t n, int64_t* seq) except -1
