"""Depth frames, raw JSON bytes -> parsed levels, in one pass, in C: the venue-independent part.

Neither ``orjson.loads`` nor a string -> number conversion per level in Python is paid (their
costs: docs/benchmarks.md). A small scanner walks the message over a venue's key table, and each
level's price/size strings are parsed straight into ticks/lots of the target book's scratch
buffer. ``DepthDecoder.decode`` validates the whole message; ``commit`` applies it. The feed
checks sequence continuity between the two, so a message that would break the book is never
applied.

No venue is named here: a venue's message shapes (keys, kinds, ids, snapshot layout, checksum
rule) are a ``DepthDecoder`` subclass in ``openclaw/venues/<venue>/depth.pyx``, which fills the
two header hooks; everything else (frame access, scanning, levels, commit) is shared.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memcmp, memchr, memcpy

from openclaw._core.book cimport BookSet, BookMeta, now_ns
from openclaw._core.fixedpoint cimport Scale, PE_OK, parse_units
from openclaw._core.errors import MessageFormatError, PriceParseError
from openclaw._core.fixedpoint import _REASONS

KIND_NAMES = ("other", "snapshot", "update")

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL


cdef const char* frame_chars(object raw, Py_ssize_t* n) except NULL:
    """The bytes of a frame: bytes as is, str through its cached UTF-8 (no copy for ASCII).
    The caller keeps ``raw`` alive while it reads."""
    if type(raw) is bytes:
        n[0] = PyBytes_GET_SIZE(raw)
        return PyBytes_AS_STRING(raw)
    if type(raw) is str:
        return PyUnicode_AsUTF8AndSize(raw, n)
    raise TypeError(f"a frame must be bytes or str, not {type(raw).__name__}")


cdef int key_table(KeyTable* t, tuple names, tuple levels=(), tuple nested=()) except -1:
    """Fill ``t`` at module import: key k is ``names[k]``; ``levels`` name level arrays,
    ``nested`` the object (or array of objects) a walk descends into."""
    cdef bytes name
    cdef Py_ssize_t k
    if len(names) > MAX_KEYS:
        raise ValueError(f"a key table holds at most {MAX_KEYS} keys, not {len(names)}")
    for name in (*levels, *nested):
        if name not in names:
            raise ValueError(f"{name!r} is flagged but not in the key table")
    t.n = len(names)
    for k, name in enumerate(names):
        if not 0 < len(name) < MAX_KEY_LEN:
            raise ValueError(f"key {name!r}: 1..{MAX_KEY_LEN - 1} bytes")
        memcpy(t.names[k], <const char*>name, len(name))
        t.names[k][len(name)] = 0
        t.lens[k] = len(name)
        t.flags[k] = (KEY_LEVELS if name in levels else 0) | (KEY_NESTED if name in nested else 0)
    return 0


# ---------------------------------------------------------------- scanner (nogil, no objects)

cdef Py_ssize_t skip_value(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Index after the JSON value starting at i (brackets balanced, strings honoured), or -1."""
    cdef int depth = 0
    cdef char c
    cdef Py_ssize_t start
    i = ws(b, i, n)
    if i >= n:
        return -1
    c = b[i]
    if c == c'"':
        return skip_string(b, i, n)
    if c == c'{' or c == c'[':
        while i < n:
            c = b[i]
            if c == c'"':
                i = skip_string(b, i, n)
                if i < 0:
                    return -1
                continue
            if c == c'{' or c == c'[':
                depth += 1
            elif c == c'}' or c == c']':
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    start = i
    while i < n:
        c = b[i]
        if c == c',' or c == c'}' or c == c']' or c == c' ' or c == c'\n' or c == c'\r' \
                or c == c'\t':
            break
        i += 1
    return i if i > start else -1


cdef Py_ssize_t skip_levels(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Fast skip of a level array ``[[..],[..]]`` (numbers only, no brackets inside): jump from
    ']' to ']' with memchr until a ']' closes the outer array. A wrong guess cannot pass
    silently: parse_levels re-reads the array strictly and the object walk must still close."""
    cdef const char* p
    i = ws(b, i, n)
    if i >= n or b[i] != c'[':
        return skip_value(b, i, n)
    i = ws(b, i + 1, n)
    if i < n and b[i] == c']':
        return i + 1
    while i < n:
        p = <const char*>memchr(b + i, c']', n - i)
        if p == NULL:
            return -1
        i = ws(b, (p - b) + 1, n)
        if i < n and b[i] == c']':
            return i + 1
        if i >= n or b[i] != c',':
            return -1
    return -1


cdef Py_ssize_t walk_object(const char* b, Py_ssize_t i, Py_ssize_t n, const KeyTable* keys,
                            Py_ssize_t* at, Py_ssize_t* dat=NULL,
                            int* walked=NULL) noexcept nogil:
    """Walk the object at i; at[k] = start of the value of each key of ``keys``. End index or -1.

    With ``dat``, a ``KEY_NESTED`` value that is an object (or an array whose first element is
    one) is walked in the same pass into ``dat`` (``walked`` set to 1): no second scan."""
    cdef Py_ssize_t ks, ke, k, e
    cdef int flags
    i = ws(b, i, n)
    if i >= n or b[i] != c'{':
        return -1
    i = ws(b, i + 1, n)
    if i < n and b[i] == c'}':
        return i + 1
    while i < n:
        if b[i] != c'"':
            return -1
        ks = i + 1
        i = skip_string(b, i, n)
        if i < 0:
            return -1
        ke = i - 1
        i = ws(b, i, n)
        if i >= n or b[i] != c':':
            return -1
        i = ws(b, i + 1, n)
        flags = -1
        for k in range(keys.n):
            if keys.lens[k] == ke - ks and memcmp(b + ks, keys.names[k], ke - ks) == 0:
                at[k] = i
                flags = keys.flags[k]
                break
        if flags > 0 and flags & KEY_LEVELS:
            i = skip_levels(b, i, n)
        elif flags > 0 and flags & KEY_NESTED and dat != NULL and i < n and b[i] == c'{':
            i = walk_object(b, i, n, keys, dat)
            walked[0] = 1
        elif flags > 0 and flags & KEY_NESTED and dat != NULL and i < n and b[i] == c'[':
            e = ws(b, i + 1, n)
            if e < n and b[e] == c'{':
                e = walk_object(b, e, n, keys, dat)
                if e < 0:
                    return -1
                walked[0] = 1
                e = ws(b, e, n)
                i = e + 1 if e < n and b[e] == c']' else skip_value(b, i, n)
            else:
                i = skip_value(b, i, n)
        else:
            i = skip_value(b, i, n)
        if i < 0:
            return -1
        i = ws(b, i, n)
        if i >= n:
            return -1
        if b[i] == c',':
            i = ws(b, i + 1, n)
            continue
        if b[i] == c'}':
            return i + 1
        return -1
    return -1


cdef int parse_int(const char* b, Py_ssize_t i, Py_ssize_t n, int64_t* out) noexcept nogil:
    """An integer, bare or quoted (some venues quote ids and timestamps). 0 ok, -1 error."""
    cdef bint quoted = False, neg = False
    cdef int64_t v = 0
    cdef int nd = 0
    if i < 0 or i >= n:
        return -1
    if b[i] == c'"':
        quoted = True
        i += 1
    if i < n and b[i] == c'-':
        neg = True
        i += 1
    while i < n and c'0' <= b[i] <= c'9':
        if nd >= 18:
            return -1
        v = v * 10 + (b[i] - c'0')
        nd += 1
        i += 1
    if nd == 0:
        return -1
    if quoted and (i >= n or b[i] != c'"'):
        return -1
    out[0] = -v if neg else v
    return 0


cdef Py_ssize_t parse_levels(const char* b, Py_ssize_t i, Py_ssize_t n, const Scale* tick,
                             const Scale* lot, int8_t side, BookSet bs, Py_ssize_t pos,
                             LevelError* err) noexcept nogil:
    """Parse ``[[p, q, ...], ...]`` at i into the scratch from pos; new pos, or -1 (err set)."""
    cdef Py_ssize_t ts, te, f
    cdef int rc
    cdef int64_t v
    i = ws(b, i, n)
    err.code = -1
    err.len = 0
    err.pos = i
    if i >= n or b[i] != c'[':
        return -1
    i = ws(b, i + 1, n)
    if i < n and b[i] == c']':
        return pos
    while i < n:
        if b[i] != c'[':
            err.pos = i
            return -1
        i = ws(b, i + 1, n)
        for f in range(2):
            # a token: "digits" or bare digits
            if i < n and b[i] == c'"':
                ts = i + 1
                te = ts
                while te < n and b[te] != c'"':
                    te += 1
                if te >= n:
                    err.pos = i
                    return -1
                i = te + 1
            else:
                ts = i
                te = i
                while te < n and b[te] != c',' and b[te] != c']' and b[te] != c' ':
                    te += 1
                i = te
            rc = parse_units(b + ts, te - ts, tick if f == 0 else lot, &v)
            if rc == PE_OK and f == 0 and v == 0:
                rc = -2      # zero price
            if rc != PE_OK:
                err.pos = ts
                err.len = te - ts
                err.code = rc
                err.field = f
                return -1
            if f == 0:
                bs.s_px[pos] = v
            else:
                bs.s_qty[pos] = v
            i = ws(b, i, n)
            if f == 0:
                if i >= n or b[i] != c',':
                    err.pos = i
                    return -1
                i = ws(b, i + 1, n)
        # skip any further fields of the level (a liquidation count, an order count)
        while i < n and b[i] == c',':
            i = skip_value(b, i + 1, n)
            if i < 0:
                err.pos = n
                return -1
            i = ws(b, i, n)
        if i >= n or b[i] != c']':
            err.pos = i
            return -1
        bs.s_side[pos] = side
        pos += 1
        i = ws(b, i + 1, n)
        if i < n and b[i] == c',':
            i = ws(b, i + 1, n)
            continue
        if i < n and b[i] == c']':
            return pos
        err.pos = i
        return -1
    err.pos = n
    return -1


# ---------------------------------------------------------------- CRC32

cdef unsigned int CRC_TABLE[256]
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (0xEDB88320 ^ (_c >> 1)) if (_c & 1) else (_c >> 1)
    CRC_TABLE[_n] = _c


cdef const unsigned int* crc32_table() noexcept nogil:
    """The byte table of CRC-32 (IEEE, reflected; built at import) for ``crc32_update``."""
    return CRC_TABLE


# ---------------------------------------------------------------- the decoder

cdef class DepthDecoder:
    """Decode one venue's depth messages into a BookSet (one decoder per connection).

    ``decode(raw)`` returns the message kind (0 other, 1 snapshot, 2 update) and fills the
    header attributes; the levels wait in the scratch buffer until ``commit()``. A venue's
    module subclasses it and implements ``stream_header`` / ``rest_header``; this base class
    decodes nothing by itself.
    """

    def __init__(self, BookSet bookset, str venue, Py_ssize_t book_id=-1):
        """``venue`` names the venue in errors. ``book_id`` >= 0 makes a one-book decoder (a
        single-symbol stream): every depth message goes to that book whatever its symbol."""
        self.bookset = bookset
        self.venue = venue
        self._symbols = {}
        self.kind = KIND_OTHER
        self.book_id = -1
        self.pending = False
        self.symbol = b""
        self.fixed_book = -1
        self.bids_at = -1
        self.asks_at = -1
        if book_id >= 0:
            bookset.book(book_id)
            self.fixed_book = book_id

    def register(self, symbol, Py_ssize_t book_id) -> None:
        """Route messages of ``symbol`` (as the venue writes it in messages) to ``book_id``."""
        self.bookset.book(book_id)   # validates the id
        if isinstance(symbol, str):
            symbol = symbol.encode()
        self._symbols[bytes(symbol)] = book_id

    @property
    def symbols(self) -> dict:
        return {k.decode(): v for k, v in self._symbols.items()}

    cdef fail(self, str detail, Py_ssize_t offset):
        raise MessageFormatError(self.venue, detail, offset)

    cdef level_fail(self, const char* b, LevelError* err):
        cdef bytes tok
        if err.code == -1:
            self.fail("bad level array", err.pos)
        tok = b[err.pos:err.pos + err.len]
        field = "price" if err.field == 0 else "size"
        if err.code == -2:
            raise PriceParseError(field, tok.decode("ascii", "replace"), "zero")
        raise PriceParseError(field, tok.decode("ascii", "replace"), _REASONS.get(err.code, "syntax"))

    cdef int walk_frame(self, const char* b, Py_ssize_t n, const KeyTable* keys, Py_ssize_t* at,
                        Py_ssize_t* dat, int* walked) except -1:
        """Walk the whole frame (one JSON object, nothing after it) into ``at`` (and ``dat``,
        when not NULL); both hold ``keys.n`` entries, reset to -1 here."""
        cdef Py_ssize_t end
        cdef int j
        for j in range(keys.n):
            at[j] = -1
            if dat != NULL:
                dat[j] = -1
        end = walk_object(b, 0, n, keys, at, dat, walked)
        if end < 0:
            self.fail("not a JSON object", 0)
        if ws(b, end, n) != n:
            self.fail("trailing data after the object", end)
        return 0

    cdef int walk_snapshot(self, const char* b, Py_ssize_t n, const KeyTable* keys,
                           Py_ssize_t* at) except -1:
        """Walk a REST snapshot's top-level object into ``at`` (``keys.n`` entries)."""
        cdef int j
        for j in range(keys.n):
            at[j] = -1
        if walk_object(b, 0, n, keys, at) < 0:
            self.fail("snapshot is not a JSON object", 0)
        return 0

    cdef int route(self, const char* b, Py_ssize_t i, Py_ssize_t n) except -2:
        """Look the symbol string at i up; sets book_id (-1 if unknown)."""
        cdef Py_ssize_t e, s = string_span(b, i, n, &e)
        if s < 0:
            self.fail("missing symbol", i)
        if self.fixed_book >= 0:
            self.book_id = self.fixed_book
            return 0
        self.symbol = b[s:e]
        self.book_id = self._symbols.get(self.symbol, -1)
        return 0

    cdef int parse_sides(self, const char* b, Py_ssize_t n) except -1:
        """Parse the level arrays at ``bids_at`` / ``asks_at`` into the scratch buffer."""
        cdef BookMeta* m = &self.bookset.meta[self.book_id]
        cdef LevelError err
        cdef Py_ssize_t pos = 0
        if self.bids_at >= 0:
            pos = parse_levels(b, self.bids_at, n, &m.tick, &m.lot, 0, self.bookset, 0, &err)
            if pos < 0:
                self.level_fail(b, &err)
        if self.asks_at >= 0:
            pos = parse_levels(b, self.asks_at, n, &m.tick, &m.lot, 1, self.bookset, pos, &err)
            if pos < 0:
                self.level_fail(b, &err)
        self.n_levels = pos
        return 0

    cdef int stream_header(self, const char* b, Py_ssize_t n) except -2:
        """Venue hook: read a stream frame's header. Returns its kind (KIND_OTHER: not a depth
        message); for a depth message, routes its symbol (``route``), sets the ids, ``exch_ts``,
        the checksum if any and ``bids_at`` / ``asks_at``."""
        raise NotImplementedError(f"{type(self).__name__} decodes no venue's frames")

    cdef int rest_header(self, const char* b, Py_ssize_t n, int64_t* seq) except -1:
        """Venue hook: read a REST depth snapshot's header: ``seq`` gets its sequence id,
        ``bids_at`` / ``asks_at`` where its sides start."""
        raise NotImplementedError(f"{type(self).__name__} decodes no venue's snapshots")

    def decode(self, raw) -> int:
        """Parse one raw frame (bytes or str). Raises MessageFormatError / PriceParseError."""
        cdef const char* b
        cdef Py_ssize_t n
        cdef int kind
        if type(raw) is not bytes and type(raw) is not str:
            raw = bytes(raw)             # kept alive by the local name while b is read
        b = frame_chars(raw, &n)        # str frames are read in place (UTF-8), no copy
        self.bookset.reserve(n // 6 + 16)
        self.pending = False
        self.kind = KIND_OTHER
        self.book_id = -1
        self.first_id = -1
        self.last_id = -1
        self.prev_id = -1
        self.exch_ts = 0
        self.checksum = 0
        self.has_checksum = False
        self.n_levels = 0
        self.bids_at = -1
        self.asks_at = -1
        kind = self.stream_header(b, n)
        self.kind = kind
        if kind == KIND_OTHER or self.book_id < 0:
            return kind               # unknown symbol: the caller decides (error or ignore)
        self.parse_sides(b, n)
        self.pending = True
        return kind

    def decode_snapshot(self, raw, Py_ssize_t book_id) -> int:
        """Parse the venue's REST depth snapshot for ``book_id``; ``last_id`` gets the
        snapshot's sequence id."""
        cdef const char* b
        cdef Py_ssize_t n
        cdef int64_t seq = -1
        self.bookset.book(book_id)
        if type(raw) is not bytes and type(raw) is not str:
            raw = bytes(raw)             # kept alive by the local name while b is read
        b = frame_chars(raw, &n)        # str frames are read in place (UTF-8), no copy
        self.bookset.reserve(n // 6 + 16)
        self.pending = False
        self.bids_at = -1
        self.asks_at = -1
        self.rest_header(b, n, &seq)
        if self.bids_at < 0 or self.asks_at < 0:
            self.fail("snapshot without both sides", 0)
        self.kind = KIND_SNAPSHOT
        self.book_id = book_id
        self.first_id = -1
        self.prev_id = -1
        self.last_id = seq
        self.exch_ts = 0
        self.has_checksum = False
        self.parse_sides(b, n)
        self.pending = True
        return KIND_SNAPSHOT

    def commit(self, int64_t recv_ts=0) -> None:
        """Apply the last decoded message to its book (snapshot replaces, update merges)."""
        if not self.pending:
            raise RuntimeError("commit() without a decoded depth message for a known symbol")
        self.pending = False
        self.bookset.commit(&self.bookset.meta[self.book_id], self.n_levels,
                            self.kind == KIND_SNAPSHOT, self.last_id, self.exch_ts,
                            recv_ts if recv_ts != 0 else now_ns())

    def discard(self) -> None:
        """Drop the decoded levels without applying them."""
        self.pending = False
