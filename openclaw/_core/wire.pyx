"""Venue depth messages, raw JSON bytes -> parsed levels, in one pass, in C.

``orjson.loads`` of a depth message costs ~3 us and turning its strings into numbers another
7-10 us per message in Python; both are skipped here. A small scanner walks the message, finds the
keys each venue uses (Binance diff-depth and REST snapshot, OKX ``books``, Bybit ``orderbook``),
and parses each level's price/size strings straight into ticks/lots of the target book's scratch
buffer. ``decode`` validates the whole message; ``commit`` applies it. The feed checks sequence
continuity between the two, so a message that would break the book is never applied.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memcmp, memchr

from openclaw._core.typedefs cimport tick_t, lot_t, int8_t, uint64_t
from openclaw._core.book cimport BookSet, BookMeta, OrderBook, Side, now_ns
from openclaw._core.fixedpoint cimport (
    Scale, PE_OK, PE_SYNTAX, parse_units, format_units,
)
from openclaw._core.errors import CapacityError, MessageFormatError, PriceParseError
from openclaw._core.fixedpoint import _REASONS

VENUE_NAMES = ("binance", "okx", "bybit")
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


# ---------------------------------------------------------------- scanner (nogil, no objects)

cdef inline Py_ssize_t ws(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (b[i] == c' ' or b[i] == c'\n' or b[i] == c'\r' or b[i] == c'\t'):
        i += 1
    return i


cdef Py_ssize_t skip_string(const char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
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


# key table: every key any venue's depth message uses; a walk records where each value starts
cdef enum:
    K_E = 0          # Binance "e"
    K_BIG_E          # Binance "E"
    K_S              # Binance / Bybit data "s"
    K_BIG_U          # Binance "U"
    K_U              # Binance / Bybit "u"
    K_PU             # Binance futures "pu"
    K_B              # Binance / Bybit "b"
    K_A              # Binance / Bybit "a"
    K_DATA           # "data"
    K_LAST_UPDATE    # Binance REST "lastUpdateId"
    K_BIDS           # OKX / Binance REST "bids"
    K_ASKS
    K_ARG            # OKX "arg"
    K_INST           # OKX "instId"
    K_ACTION         # OKX "action"
    K_TS             # OKX / Bybit "ts"
    K_CHECKSUM       # OKX "checksum"
    K_SEQ_ID         # OKX "seqId"
    K_PREV_SEQ       # OKX "prevSeqId"
    K_TYPE           # Bybit "type"
    K_TOPIC          # Bybit "topic"
    K_EVENT          # OKX "event"
    K_RESULT         # Bybit REST "result"
    N_KEYS

cdef const char* KEY_NAMES[23]
KEY_NAMES[:] = [b"e", b"E", b"s", b"U", b"u", b"pu", b"b", b"a", b"data", b"lastUpdateId",
                b"bids", b"asks", b"arg", b"instId", b"action", b"ts", b"checksum", b"seqId",
                b"prevSeqId", b"type", b"topic", b"event", b"result"]
cdef Py_ssize_t KEY_LENS[23]
for _k in range(23):
    KEY_LENS[_k] = len(KEY_NAMES[_k])


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


cdef Py_ssize_t walk_object(const char* b, Py_ssize_t i, Py_ssize_t n,
                            Py_ssize_t* at, Py_ssize_t* dat=NULL,
                            int* walked=NULL) noexcept nogil:
    """Walk the object at i; at[key] = start of its value for known keys. End index or -1.

    With ``dat``, a ``data`` value that is an object (or an array whose first element is one)
    is walked in the same pass into ``dat`` (``walked`` set to 1): no second scan."""
    cdef Py_ssize_t ks, ke, k, matched, e
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
        matched = -1
        for k in range(N_KEYS):
            if KEY_LENS[k] == ke - ks and memcmp(b + ks, KEY_NAMES[k], ke - ks) == 0:
                at[k] = i
                matched = k
                break
        if matched == K_B or matched == K_A or matched == K_BIDS or matched == K_ASKS:
            i = skip_levels(b, i, n)
        elif matched == K_DATA and dat != NULL and i < n and b[i] == c'{':
            i = walk_object(b, i, n, dat)
            walked[0] = 1
        elif matched == K_DATA and dat != NULL and i < n and b[i] == c'[':
            e = ws(b, i + 1, n)
            if e < n and b[e] == c'{':
                e = walk_object(b, e, n, dat)
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
    """An integer, bare or quoted (OKX sends "ts" as a string). 0 ok, -1 error."""
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
        # skip any further fields of the level (OKX: "0", order count)
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


# ---------------------------------------------------------------- CRC32 (OKX checksums)

cdef unsigned int CRC_TABLE[256]
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (0xEDB88320 ^ (_c >> 1)) if (_c & 1) else (_c >> 1)
    CRC_TABLE[_n] = _c


cdef inline unsigned int crc_update(unsigned int crc, const char* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        crc = CRC_TABLE[(crc ^ <unsigned char>s[i]) & 0xFF] ^ (crc >> 8)
    return crc


cdef int64_t okx_crc(BookMeta* m, int levels) noexcept nogil:
    """Signed CRC32 of ``bid1px:bid1sz:ask1px:ask1sz:...`` over the top ``levels``."""
    cdef unsigned int ones = 0xFFFFFFFFu
    cdef unsigned int crc = ones
    cdef char buf[48]
    cdef Py_ssize_t ln, j
    cdef bint first = True
    cdef Side* s
    cdef int side
    for j in range(levels):
        for side in range(2):
            s = &m.side[side]
            if j >= s.n:
                continue
            if not first:
                crc = crc_update(crc, ":", 1)
            first = False
            ln = format_units(s.px[s.n - 1 - j], &m.tick, buf)
            crc = crc_update(crc, buf, ln)
            crc = crc_update(crc, ":", 1)
            ln = format_units(s.qty[s.n - 1 - j], &m.lot, buf)
            crc = crc_update(crc, buf, ln)
    crc ^= ones
    return <int64_t>(<int>crc)


# ---------------------------------------------------------------- the decoder

cdef class DepthDecoder:
    """Decode one venue's depth messages into a BookSet (one decoder per connection).

    ``decode(raw)`` returns the message kind (0 other, 1 snapshot, 2 update) and fills the
    header attributes; the levels wait in the scratch buffer until ``commit()``.
    """

    def __init__(self, BookSet bookset, str venue, Py_ssize_t book_id=-1):
        """``book_id`` >= 0 makes a one-book decoder (a single-symbol stream): every depth
        message goes to that book whatever its symbol."""
        if venue not in VENUE_NAMES:
            raise ValueError(f"unknown venue {venue!r}; expected one of {VENUE_NAMES}")
        self.bookset = bookset
        self.venue = VENUE_NAMES.index(venue)
        self._symbols = {}
        self.kind = KIND_OTHER
        self.book_id = -1
        self.pending = False
        self.symbol = b""
        self.fixed_book = -1
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

    cdef _fail(self, str detail, Py_ssize_t offset):
        raise MessageFormatError(VENUE_NAMES[self.venue], detail, offset)

    cdef _level_fail(self, const char* b, LevelError* err):
        cdef bytes tok
        if err.code == -1:
            self._fail("bad level array", err.pos)
        tok = b[err.pos:err.pos + err.len]
        field = "price" if err.field == 0 else "size"
        if err.code == -2:
            raise PriceParseError(field, tok.decode("ascii", "replace"), "zero")
        raise PriceParseError(field, tok.decode("ascii", "replace"), _REASONS.get(err.code, "syntax"))

    cdef int _route(self, const char* b, Py_ssize_t i, Py_ssize_t n) except -2:
        """Look the symbol string at i up; sets book_id (-1 if unknown)."""
        cdef Py_ssize_t e, s = string_span(b, i, n, &e)
        if s < 0:
            self._fail("missing symbol", i)
        if self.fixed_book >= 0:
            self.book_id = self.fixed_book
            return 0
        self.symbol = b[s:e]
        self.book_id = self._symbols.get(self.symbol, -1)
        return 0

    cdef int _levels(self, const char* b, Py_ssize_t n, Py_ssize_t bi, Py_ssize_t ai) except -1:
        cdef BookMeta* m = &self.bookset.meta[self.book_id]
        cdef LevelError err
        cdef Py_ssize_t pos = 0
        if bi >= 0:
            pos = parse_levels(b, bi, n, &m.tick, &m.lot, 0, self.bookset, 0, &err)
            if pos < 0:
                self._level_fail(b, &err)
        if ai >= 0:
            pos = parse_levels(b, ai, n, &m.tick, &m.lot, 1, self.bookset, pos, &err)
            if pos < 0:
                self._level_fail(b, &err)
        self.n_levels = pos
        return 0

    def decode(self, raw) -> int:
        """Parse one raw frame (bytes or str). Raises MessageFormatError / PriceParseError."""
        cdef const char* b
        cdef Py_ssize_t n, end, j
        cdef Py_ssize_t at[23]
        cdef Py_ssize_t sub[23]
        cdef Py_ssize_t dat[23]
        cdef int walked = 0
        cdef Py_ssize_t bi = -1, ai = -1
        cdef int64_t v
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
        for j in range(N_KEYS):
            at[j] = -1
            sub[j] = -1
            dat[j] = -1
        end = walk_object(b, 0, n, at, dat, &walked)
        if end < 0:
            self._fail("not a JSON object", 0)
        if ws(b, end, n) != n:
            self._fail("trailing data after the object", end)

        if self.venue == VENUE_BINANCE:
            if at[K_DATA] >= 0:                      # combined stream wrapper
                if not walked:
                    self._fail("bad data object", at[K_DATA])
                for j in range(N_KEYS):
                    at[j] = dat[j]
            if not value_is(b, at[K_E], n, "depthUpdate", 11):
                return KIND_OTHER
            self._route(b, at[K_S], n)
            if (parse_int(b, at[K_BIG_U], n, &self.first_id) < 0
                    or parse_int(b, at[K_U], n, &self.last_id) < 0):
                self._fail("bad U/u", at[K_U])
            if at[K_PU] >= 0 and parse_int(b, at[K_PU], n, &self.prev_id) < 0:
                self._fail("bad pu", at[K_PU])
            if parse_int(b, at[K_BIG_E], n, &v) == 0:
                self.exch_ts = v * 1000000
            self.kind = KIND_UPDATE
            bi = at[K_B]
            ai = at[K_A]
        elif self.venue == VENUE_OKX:
            if at[K_ARG] < 0 or at[K_DATA] < 0 or at[K_EVENT] >= 0:
                return KIND_OTHER
            if walk_object(b, at[K_ARG], n, sub) < 0:
                self._fail("bad arg object", at[K_ARG])
            self._route(b, sub[K_INST], n)
            if value_is(b, at[K_ACTION], n, "snapshot", 8):
                self.kind = KIND_SNAPSHOT
            elif value_is(b, at[K_ACTION], n, "update", 6):
                self.kind = KIND_UPDATE
            else:
                return KIND_OTHER      # books5 / bbo-tbt carry no action
            j = ws(b, at[K_DATA], n)
            if j >= n or b[j] != c'[' or not walked:
                self._fail("data is not an array of objects", j)
            if dat[K_SEQ_ID] >= 0 and parse_int(b, dat[K_SEQ_ID], n, &self.last_id) < 0:
                self._fail("bad seqId", dat[K_SEQ_ID])
            if dat[K_PREV_SEQ] >= 0 and parse_int(b, dat[K_PREV_SEQ], n, &self.prev_id) < 0:
                self._fail("bad prevSeqId", dat[K_PREV_SEQ])
            if dat[K_CHECKSUM] >= 0:
                if parse_int(b, dat[K_CHECKSUM], n, &self.checksum) < 0:
                    self._fail("bad checksum", dat[K_CHECKSUM])
                self.has_checksum = self.checksum != 0
            if parse_int(b, dat[K_TS], n, &v) == 0:
                self.exch_ts = v * 1000000
            bi = dat[K_BIDS]
            ai = dat[K_ASKS]
        else:   # Bybit
            if at[K_TOPIC] < 0 or at[K_DATA] < 0 or not has_prefix(b, at[K_TOPIC], n,
                                                                    "orderbook.", 10):
                return KIND_OTHER
            if value_is(b, at[K_TYPE], n, "snapshot", 8):
                self.kind = KIND_SNAPSHOT
            elif value_is(b, at[K_TYPE], n, "delta", 5):
                self.kind = KIND_UPDATE
            else:
                return KIND_OTHER
            if parse_int(b, at[K_TS], n, &v) == 0:
                self.exch_ts = v * 1000000
            if not walked:
                self._fail("bad data object", at[K_DATA])
            self._route(b, dat[K_S], n)
            if parse_int(b, dat[K_U], n, &self.last_id) < 0:
                self._fail("bad u", dat[K_U])
            bi = dat[K_B]
            ai = dat[K_A]
        if self.book_id < 0:
            return self.kind          # unknown symbol: the caller decides (error or ignore)
        self._levels(b, n, bi, ai)
        self.pending = True
        return self.kind

    def decode_snapshot(self, raw, Py_ssize_t book_id) -> int:
        """Parse a REST depth snapshot for ``book_id``: Binance ``/api/v3/depth``
        (``lastUpdateId``), OKX ``/api/v5/market/books`` (``data[0].seqId``) or Bybit
        ``/v5/market/orderbook`` (``result.u``). ``last_id`` gets the snapshot's sequence id."""
        cdef const char* b
        cdef Py_ssize_t n, j, bi, ai, k
        cdef Py_ssize_t at[23]
        cdef Py_ssize_t sub[23]
        cdef int64_t v = -1
        self.bookset.book(book_id)
        if type(raw) is not bytes and type(raw) is not str:
            raw = bytes(raw)             # kept alive by the local name while b is read
        b = frame_chars(raw, &n)        # str frames are read in place (UTF-8), no copy
        self.bookset.reserve(n // 6 + 16)
        self.pending = False
        for j in range(N_KEYS):
            at[j] = -1
            sub[j] = -1
        if walk_object(b, 0, n, at) < 0:
            self._fail("snapshot is not a JSON object", 0)
        if self.venue == VENUE_BINANCE:
            if parse_int(b, at[K_LAST_UPDATE], n, &v) < 0:
                self._fail("snapshot without lastUpdateId", at[K_LAST_UPDATE])
            bi = at[K_BIDS]
            ai = at[K_ASKS]
        elif self.venue == VENUE_OKX:
            k = ws(b, at[K_DATA], n) if at[K_DATA] >= 0 else n
            if k >= n or b[k] != c'[' or walk_object(b, k + 1, n, sub) < 0:
                self._fail("snapshot without data[0]", k)
            if parse_int(b, sub[K_SEQ_ID], n, &v) < 0:
                self._fail("snapshot without seqId", sub[K_SEQ_ID])
            bi = sub[K_BIDS]
            ai = sub[K_ASKS]
        else:
            if at[K_RESULT] < 0 or walk_object(b, at[K_RESULT], n, sub) < 0:
                self._fail("snapshot without result", at[K_RESULT])
            if parse_int(b, sub[K_U], n, &v) < 0:
                self._fail("snapshot without u", sub[K_U])
            bi = sub[K_B]
            ai = sub[K_A]
        if bi < 0 or ai < 0:
            self._fail("snapshot without both sides", 0)
        self.kind = KIND_SNAPSHOT
        self.book_id = book_id
        self.first_id = -1
        self.prev_id = -1
        self.last_id = v
        self.exch_ts = 0
        self.has_checksum = False
        self._levels(b, n, bi, ai)
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

    def okx_checksum(self, Py_ssize_t book_id, int levels=25) -> int:
        """OKX's signed CRC32 of a book's top ``levels`` (minimal decimal strings)."""
        return okx_crc(self.bookset.get(book_id), levels)


def apply_binance_depth(OrderBook book, raw) -> None:
    """Apply one Binance depthUpdate (raw JSON bytes) to ``book``, without sequence checks.

    The one-book path the benchmark measures; feeds use a DepthDecoder and check continuity.
    """
    cdef DepthDecoder dec = book.wire_decoder
    if dec is None:
        dec = DepthDecoder(book.bookset, "binance", book.book_id)
        book.wire_decoder = dec
    if dec.decode(raw) != KIND_UPDATE:
        raise MessageFormatError("binance", "not a depthUpdate event")
    dec.commit()
