"""Pre-trade risk checks on preallocated C state (contract: docs/risk-api.md).

One call checks an order or an order list (the legs of one arbitrage, all-or-nothing) and
writes a reason code per order (0 = pass) into a caller-owned int32 array. Prices and sizes are
int64 ticks/lots of the instrument, as in the book, so instrument and notional limits are exact
integer comparisons (128-bit products); only the gross exposure and the PnL are float64.
A leg sees the state left by the earlier passing legs of its list; nothing is committed unless
every leg passes, so a rejected list consumes no balance, rate token, open-order slot or id.
An accepted leg *reserves* its need (limit x quantity of the quote for a buy, the quantity for a
sell) under its client id: ``on_order_fill`` spends the real amount, moves both assets and the
fee and releases the filled part's reservation (price improvement comes back);
``on_order_close`` releases what is left; ``set_balance`` takes the venue's balance, and the free
balance is that less the reservations still open.
Limits are plain integers here; ``openclaw.risk.limits`` converts the pydantic config into them.
"""

cimport cython
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.stdint cimport uintptr_t
from libc.string cimport memset

from fractions import Fraction

import numpy as np

from openclaw._core.typedefs cimport LIVE
from openclaw._core.book cimport OrderBook, side_fill, now_ns
from openclaw._core.fixedpoint cimport Scale, make_scale
from openclaw._core.errors import RiskConfigError, RiskError

cdef extern from *:
    """
    #define OC_RISK_INT64_MAX 9223372036854775807LL
    #define OC_RISK_UNITS_MAX 4611686018427387903LL
    """
    int64_t INT64_MAX "OC_RISK_INT64_MAX"
    int64_t UNITS_MAX "OC_RISK_UNITS_MAX"   # 2**62 - 1, the book's unit cap

BUY = 1
SELL = -1
LIMIT = K_LIMIT
MARKET = K_MARKET
CANCEL = K_CANCEL
ACTIVE = TS_ACTIVE
REDUCING = TS_REDUCING
HALTED = TS_HALTED
TRADING_STATE_NAMES = ("ACTIVE", "REDUCING", "HALTED")
HALT_REASON_NAMES = ("NONE", "MANUAL", "LOSS_LIMIT")

REASON_NAMES = (
    "PASS",
    "LIST_REJECTED",
    "LIST_TOO_LONG",
    "UNKNOWN_INSTRUMENT",
    "INVALID_ORDER",
    "TRADING_HALTED",
    "PRICE_NOT_ON_TICK",
    "QTY_NOT_ON_LOT",
    "QTY_BELOW_MIN",
    "QTY_ABOVE_MAX",
    "QTY_EXCEEDS_ORDER_LIMIT",
    "NO_MARKET_DATA",
    "BOOK_NOT_LIVE",
    "BOOK_STALE",
    "NO_REFERENCE_PRICE",
    "INSUFFICIENT_LIQUIDITY",
    "PRICE_OUTSIDE_COLLAR",
    "NOTIONAL_BELOW_MIN",
    "NOTIONAL_ABOVE_MAX",
    "NOTIONAL_EXCEEDS_ORDER_LIMIT",
    "REDUCE_ONLY",
    "POSITION_LIMIT",
    "GROSS_EXPOSURE_LIMIT",
    "INSUFFICIENT_BALANCE",
    "MAX_OPEN_ORDERS",
    "RATE_LIMITED",
    "DUPLICATE_ORDER_ID",
    "ID_TABLE_FULL",
)
assert len(REASON_NAMES) == R_N_CODES
REASONS = {name: code for code, name in enumerate(REASON_NAMES)}

# The numpy twin of the Order struct (same aligned layout: 40 bytes).
ORDER_DTYPE = np.dtype(
    [("client_id", "<i8"), ("price", "<i8"), ("qty", "<i8"), ("ref_mid", "<i8"),
     ("inst", "<i4"), ("side", "i1"), ("kind", "i1")],
    align=True,
)
assert ORDER_DTYPE.itemsize == sizeof(Order)


def reason_name(int code) -> str:
    """Readable name of a reason code (``UNKNOWN(<code>)`` for a code this build does not know)."""
    if 0 <= code < R_N_CODES:
        return REASON_NAMES[code]
    return f"UNKNOWN({code})"


# ---- helpers -------------------------------------------------------------------------------

cdef inline int64_t iabs(int64_t x) noexcept nogil:
    return -x if x < 0 else x


cdef inline int64_t sat_add(int64_t a, int128_t b) noexcept nogil:
    """a + b clamped to int64 (balances credited by fills never wrap)."""
    cdef int128_t r = <int128_t>a + b
    if r > INT64_MAX:
        return INT64_MAX
    if r < -INT64_MAX:
        return -INT64_MAX
    return <int64_t>r


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    """splitmix64 finaliser: spreads sequential ids over the table."""
    x ^= x >> 30
    x *= <uint64_t>0xbf58476d1ce4e5b9ULL
    x ^= x >> 27
    x *= <uint64_t>0x94d049bb133111ebULL
    x ^= x >> 31
    return x


cdef int protective_limit(const BookMeta* m, int8_t side, lot_t qty, int64_t price_mult,
                          tick_t* out) noexcept nogil:
    """Protective limit of a market order: the worst price of a ``qty``-lot walk of the book.

    A buy walks the asks, a sell the bids (``side_fill``); the price is rounded outward to the
    price increment (buy up, sell down). Returns 0, or 1 when the side cannot fill ``qty``.
    """
    cdef lot_t filled
    cdef double notional
    cdef tick_t worst, r
    side_fill(&m.side[1 if side > 0 else 0], qty, &filled, &notional, &worst)
    if filled < qty or worst <= 0:
        out[0] = 0
        return 1
    if price_mult > 1:
        r = worst % price_mult
        if r != 0:
            worst = worst - r + price_mult if side > 0 else worst - r
    if worst <= 0 or worst > UNITS_MAX:
        out[0] = 0
        return 1
    out[0] = worst
    return 0


def protective_price(OrderBook book, int side, lot_t qty, int64_t price_mult=1):
    """Python twin of ``protective_limit``: the market order's limit in ticks, or None."""
    cdef tick_t px
    if side != 1 and side != -1:
        raise RiskError(f"side must be BUY (1) or SELL (-1), got {side}")
    if qty <= 0 or price_mult < 1:
        raise RiskError(f"need qty > 0 and price_mult >= 1, got qty={qty}, price_mult={price_mult}")
    if book.m == NULL:
        raise RiskError("OrderBook is not bound to a BookSet")
    if protective_limit(book.m, <int8_t>side, qty, price_mult, &px) != 0:
        return None
    return px


cdef inline int64_t none_max(int64_t x):
    return INT64_MAX if x < 0 else x


cdef int64_t check_units(str field, int64_t x, bint allow_none) except? -2:
    if (x < 0 and not (allow_none and x == -1)) or x > UNITS_MAX:
        raise RiskConfigError(field, x, "must be in 0..2**62-1" + (" or -1 (none)" if allow_none else ""))
    return x


@cython.final
cdef class RiskEngine:
    """Pre-trade risk for n instruments on n venues holding n assets, state preallocated."""

    def __cinit__(self, Py_ssize_t n_instruments, Py_ssize_t n_venues, Py_ssize_t n_assets,
                  Py_ssize_t max_open_ids=4096, Py_ssize_t max_list_len=16):
        cdef Py_ssize_t slots = 8, v, nb
        if not 1 <= n_instruments <= 1_000_000:
            raise RiskConfigError("n_instruments", n_instruments, "must be in 1..1000000")
        if not 1 <= n_venues <= 4096:
            raise RiskConfigError("n_venues", n_venues, "must be in 1..4096")
        if not 1 <= n_assets <= 100_000 or n_venues * n_assets > 10_000_000:
            raise RiskConfigError("n_assets", n_assets, "must be in 1..100000, venues*assets <= 1e7")
        if not 1 <= max_open_ids <= (1 << 26):
            raise RiskConfigError("max_open_ids", max_open_ids, "must be in 1..2**26")
        if not 1 <= max_list_len <= 4096:
            raise RiskConfigError("max_list_len", max_list_len, "must be in 1..4096")
        self.n_instruments = n_instruments
        self.n_venues = n_venues
        self.n_assets = n_assets
        self.max_open_ids = max_open_ids
        self.max_list_len = max_list_len
        self.index = None
        self._books = [None] * n_instruments
        self.buf_n = 0
        self.buf_o = NULL
        self.buf_c = NULL
        while slots < 2 * max_open_ids:
            slots *= 2
        self.id_mask = slots - 1
        nb = n_venues * n_assets
        self.lim = <InstLimits*>PyMem_Malloc(n_instruments * sizeof(InstLimits))
        self.ist = <InstState*>PyMem_Malloc(n_instruments * sizeof(InstState))
        self.books = <const BookMeta**>PyMem_Malloc(n_instruments * sizeof(BookMeta*))
        self.ven = <VenueRisk*>PyMem_Malloc(n_venues * sizeof(VenueRisk))
        self.asset_value = <double*>PyMem_Malloc(n_assets * sizeof(double))
        self.bal = <int64_t*>PyMem_Malloc(nb * sizeof(int64_t))
        self.rsv = <int64_t*>PyMem_Malloc(nb * sizeof(int64_t))
        self._id_mem = PyMem_Malloc(slots * sizeof(IdSlot) + 64)
        self.ids = <IdSlot*>((<uintptr_t>self._id_mem + 63) & ~(<uintptr_t>63))
        self.i_stamp = <int64_t*>PyMem_Malloc(n_instruments * sizeof(int64_t))
        self.i_cum = <lot_t*>PyMem_Malloc(n_instruments * sizeof(lot_t))
        self.i_adj = <double*>PyMem_Malloc(n_instruments * sizeof(double))
        self.b_stamp = <int64_t*>PyMem_Malloc(nb * sizeof(int64_t))
        self.b_used = <int64_t*>PyMem_Malloc(nb * sizeof(int64_t))
        self.v_stamp = <int64_t*>PyMem_Malloc(n_venues * sizeof(int64_t))
        self.v_tok = <int64_t*>PyMem_Malloc(n_venues * sizeof(int64_t))
        self.v_cnt = <int64_t*>PyMem_Malloc(n_venues * sizeof(int64_t))
        self.leg_slot = <int64_t*>PyMem_Malloc(max_list_len * sizeof(int64_t))
        self.leg_need = <int64_t*>PyMem_Malloc(max_list_len * sizeof(int64_t))
        self.leg_per_lot = <int64_t*>PyMem_Malloc(max_list_len * sizeof(int64_t))
        if (self.lim == NULL or self.ist == NULL or self.books == NULL or self.ven == NULL
                or self.asset_value == NULL or self.bal == NULL or self.rsv == NULL
                or self._id_mem == NULL
                or self.i_stamp == NULL or self.i_cum == NULL
                or self.i_adj == NULL or self.b_stamp == NULL or self.b_used == NULL
                or self.v_stamp == NULL or self.v_tok == NULL or self.v_cnt == NULL
                or self.leg_slot == NULL or self.leg_need == NULL
                or self.leg_per_lot == NULL):
            raise MemoryError()
        memset(self.lim, 0, n_instruments * sizeof(InstLimits))
        memset(self.ist, 0, n_instruments * sizeof(InstState))
        memset(<void*>self.books, 0, n_instruments * sizeof(BookMeta*))
        memset(self.ven, 0, n_venues * sizeof(VenueRisk))
        memset(self.bal, 0, nb * sizeof(int64_t))
        memset(self.rsv, 0, nb * sizeof(int64_t))
        memset(self.ids, 0, slots * sizeof(IdSlot))
        memset(self.i_stamp, 0, n_instruments * sizeof(int64_t))
        memset(self.b_stamp, 0, nb * sizeof(int64_t))
        memset(self.v_stamp, 0, n_venues * sizeof(int64_t))
        for v in range(n_venues):
            self.ven[v].max_orders = -1
            self.ven[v].interval = 1_000_000_000
            self.ven[v].max_open = -1
        for v in range(n_assets):
            self.asset_value[v] = 1.0
        self.id_count = 0
        self.stamp = 0
        self.max_gross = -1.0
        self.loss_limit = -1.0
        self.gross = 0.0
        self.day_pnl = 0.0
        self.state = TS_ACTIVE
        self.halt = HALT_NONE

    def __dealloc__(self):
        PyMem_Free(self.lim)
        PyMem_Free(self.ist)
        PyMem_Free(<void*>self.books)
        PyMem_Free(self.ven)
        PyMem_Free(self.asset_value)
        PyMem_Free(self.bal)
        PyMem_Free(self.rsv)
        PyMem_Free(self._id_mem)
        PyMem_Free(self.i_stamp)
        PyMem_Free(self.i_cum)
        PyMem_Free(self.i_adj)
        PyMem_Free(self.b_stamp)
        PyMem_Free(self.b_used)
        PyMem_Free(self.v_stamp)
        PyMem_Free(self.v_tok)
        PyMem_Free(self.v_cnt)
        PyMem_Free(self.leg_slot)
        PyMem_Free(self.leg_need)
        PyMem_Free(self.leg_per_lot)

    # ==== RISK SETTINGS ==========================================================================

    def set_venue(self, Py_ssize_t v, *, int64_t max_orders=-1, int64_t interval_ns=1_000_000_000,
                  int64_t max_open_orders=-1) -> None:
        """Throttle (``max_orders`` per ``interval_ns``, -1 = off) and open-order cap of a venue.

        The token bucket is reset to full.
        """
        self._venue(v)
        if max_orders < -1 or interval_ns < 1 or max_open_orders < -1:
            raise RiskConfigError("venue", v, "need max_orders >= -1, interval_ns >= 1, "
                                  "max_open_orders >= -1")
        if max_orders > 0 and max_orders > UNITS_MAX // interval_ns:
            raise RiskConfigError("max_orders", max_orders, "max_orders * interval_ns > 2**62")
        cdef VenueRisk* V = &self.ven[v]
        V.max_orders = max_orders
        V.interval = interval_ns
        V.max_open = max_open_orders
        V.tokens = max_orders * interval_ns if max_orders > 0 else 0
        V.last = 0

    def set_instrument(self, Py_ssize_t i, *, int venue, int base, int quote, tick_size, lot_size,
                       int64_t price_mult=1, int64_t lot_mult=1, int64_t min_qty=0,
                       int64_t max_qty=-1, int64_t min_notional=0, int64_t max_notional=-1,
                       int64_t max_order_qty=-1, int64_t max_order_notional=-1,
                       int64_t collar_e8=-1, int64_t max_book_age_ns=-1, int64_t max_position=-1,
                       int64_t quote_factor=1, int64_t base_factor=1) -> None:
        """Load one instrument's units and limits (integers in ticks/lots/notional units, -1 = none)."""
        cdef Scale tick, lot
        cdef InstLimits L
        self._inst(i, False)
        self._venue(venue)
        self._asset(base)
        self._asset(quote)
        make_scale(tick_size, &tick)
        make_scale(lot_size, &lot)
        if price_mult < 1 or price_mult > UNITS_MAX or lot_mult < 1 or lot_mult > UNITS_MAX:
            raise RiskConfigError("increment", (price_mult, lot_mult), "must be in 1..2**62-1")
        if quote_factor < 1 or quote_factor > UNITS_MAX or base_factor < 1 or base_factor > UNITS_MAX:
            raise RiskConfigError("asset factor", (quote_factor, base_factor), "must be in 1..2**62-1")
        if collar_e8 < -1 or max_book_age_ns < -1:
            raise RiskConfigError("collar/max_book_age", (collar_e8, max_book_age_ns), "must be >= -1")
        memset(&L, 0, sizeof(InstLimits))
        L.configured = 1
        L.venue = venue
        L.base = base
        L.quote = quote
        L.tick_m = tick.m
        L.tick_e = tick.e
        L.lot_m = lot.m
        L.lot_e = lot.e
        L.price_mult = price_mult
        L.lot_mult = lot_mult
        L.min_qty = check_units("min_qty", min_qty, False)
        L.max_qty = none_max(check_units("max_qty", max_qty, True))
        L.max_order_qty = none_max(check_units("max_order_qty", max_order_qty, True))
        L.min_notional = check_units("min_notional", min_notional, False)
        L.max_notional = none_max(check_units("max_notional", max_notional, True))
        L.max_order_notional = none_max(check_units("max_order_notional", max_order_notional, True))
        L.max_position = none_max(check_units("max_position", max_position, True))
        L.collar_e8 = collar_e8
        L.max_book_age = max_book_age_ns
        L.quote_factor = quote_factor
        L.base_factor = base_factor
        cdef object te = tick.e, le = lot.e
        L.unit_value = float(Fraction(tick.m, 10 ** te) * Fraction(lot.m, 10 ** le))
        if self.books[i] != NULL and (self.books[i].tick.m != tick.m or self.books[i].tick.e != tick.e
                                      or self.books[i].lot.m != lot.m or self.books[i].lot.e != lot.e):
            raise RiskConfigError("tick_size/lot_size", (tick_size, lot_size),
                                  "differ from the bound book's; unbind or rebind the book")
        self.lim[i] = L
        self.recompute_gross()

    def set_global_limits(self, double max_gross_exposure=-1.0, double daily_loss_limit=-1.0) -> None:
        """Gross exposure cap and daily loss limit, in the account currency (< 0 = off)."""
        self.max_gross = max_gross_exposure
        self.loss_limit = daily_loss_limit

    def set_asset_value(self, Py_ssize_t a, double value) -> None:
        """Account-currency value of one whole asset (weights gross exposure and PnL)."""
        self._asset(a)
        if not value >= 0.0:
            raise RiskError(f"asset value must be >= 0, got {value}")
        self.asset_value[a] = value
        self.recompute_gross()

    def bind_book(self, Py_ssize_t i, OrderBook book) -> None:
        """Bind the venue book behind instrument i (stale/LIVE checks, market-order walks)."""
        self._inst(i, True)
        if book is None or book.m == NULL:
            raise RiskError("bind_book needs an OrderBook bound to a BookSet")
        cdef InstLimits* L = &self.lim[i]
        if (book.m.tick.m != L.tick_m or book.m.tick.e != L.tick_e or book.m.lot.m != L.lot_m
                or book.m.lot.e != L.lot_e):
            raise RiskConfigError("book", (book.tick_size, book.lot_size),
                                  f"tick/lot differ from instrument {i}'s")
        self._books[i] = book
        self.books[i] = book.m

    def unbind_book(self, Py_ssize_t i) -> None:
        self._inst(i, False)
        self._books[i] = None
        self.books[i] = NULL

    # ==== PRE-TRADE CHECKS =======================================================================

    cdef int64_t refill(self, Py_ssize_t v, ns_t now) noexcept nogil:
        """Bucket level of venue v at ``now`` (1/interval token units), not committed."""
        cdef VenueRisk* V = &self.ven[v]
        cdef int64_t cap = V.max_orders * V.interval
        cdef int64_t dt = now - V.last
        cdef int64_t lvl
        if dt <= 0:
            return V.tokens
        if dt >= V.interval:
            return cap
        lvl = V.tokens + dt * V.max_orders
        return cap if lvl > cap else lvl

    @cython.cdivision(True)
    cdef int check_leg(self, Order* o, Py_ssize_t k, Order* orders, int32_t* codes, ns_t now,
                       Py_ssize_t pending) noexcept nogil:
        """Reason code of leg k, given the earlier passing legs; records its use if it passes."""
        cdef int32_t i = o.inst
        cdef InstLimits* L
        cdef const BookMeta* m
        cdef tick_t px, mid
        cdef int128_t notional, need, dev
        cdef int64_t p, d, a, ap, aa, used, slot, tok, cnt
        cdef double w, adj_old, new_adj
        cdef Py_ssize_t j, v
        cdef bint touched_v, reduces
        if i < 0 or i >= self.n_instruments:
            return R_UNKNOWN_INSTRUMENT
        L = &self.lim[i]
        if not L.configured:
            return R_UNKNOWN_INSTRUMENT
        if o.kind == K_CANCEL:
            return R_PASS
        if ((o.kind != K_LIMIT and o.kind != K_MARKET) or (o.side != 1 and o.side != -1)
                or o.qty <= 0 or o.qty > UNITS_MAX or o.client_id == 0
                or (o.kind == K_LIMIT and (o.price <= 0 or o.price > UNITS_MAX))):
            return R_INVALID_ORDER
        if self.state == TS_HALTED:
            return R_TRADING_HALTED
        # instrument conformance and per-order quantity
        # (a 64-bit division costs ~10 ns: skipped for the common increment of one unit)
        if o.kind == K_LIMIT and L.price_mult != 1 and o.price % L.price_mult != 0:
            return R_PRICE_NOT_ON_TICK
        if L.lot_mult != 1 and o.qty % L.lot_mult != 0:
            return R_QTY_NOT_ON_LOT
        if o.qty < L.min_qty:
            return R_QTY_BELOW_MIN
        if o.qty > L.max_qty:
            return R_QTY_ABOVE_MAX
        if o.qty > L.max_order_qty:
            return R_QTY_EXCEEDS_ORDER_LIMIT
        # market data behind the order
        m = self.books[i]
        if m == NULL:
            return R_NO_MARKET_DATA
        if m.state != LIVE:
            return R_BOOK_NOT_LIVE
        if L.max_book_age >= 0 and now - m.recv_ts > L.max_book_age:
            return R_BOOK_STALE
        mid = o.ref_mid
        if mid <= 0 or mid > UNITS_MAX:
            return R_NO_REFERENCE_PRICE
        # price: the limit, or the market order's protective limit
        if o.kind == K_MARKET:
            if protective_limit(m, o.side, o.qty, L.price_mult, &px) != 0:
                o.price = 0
                return R_INSUFFICIENT_LIQUIDITY
            o.price = px
        px = o.price
        if L.collar_e8 >= 0:
            dev = <int128_t>(px - mid) if px >= mid else <int128_t>(mid - px)
            if dev * 100000000 > <int128_t>L.collar_e8 * mid:
                return R_PRICE_OUTSIDE_COLLAR
        notional = <int128_t>px * o.qty
        if notional < L.min_notional:
            return R_NOTIONAL_BELOW_MIN
        if notional > L.max_notional:
            return R_NOTIONAL_ABOVE_MAX
        if notional > L.max_order_notional:
            return R_NOTIONAL_EXCEEDS_ORDER_LIMIT
        # position after the earlier passing legs, and after this one
        p = self.ist[i].pos
        if self.i_stamp[i] == self.stamp:
            p += self.i_cum[i]
        d = o.side * o.qty
        a = p + d
        ap = iabs(p)
        aa = iabs(a)
        reduces = (p > 0 > d or p < 0 < d) and o.qty <= ap      # towards 0, never past it
        if self.state == TS_REDUCING and not reduces:
            return R_REDUCE_ONLY
        if not reduces and (aa > L.max_position or aa > UNITS_MAX):
            return R_POSITION_LIMIT
        w = L.unit_value * self.asset_value[L.quote]
        adj_old = self.i_adj[i] if self.i_stamp[i] == self.stamp else 0.0
        new_adj = <double>aa * <double>mid * w - self.ist[i].contrib
        if self.max_gross >= 0.0 and aa > ap:
            if self.gross + (self.adj_sum - adj_old) + new_adj > self.max_gross:
                return R_GROSS_EXPOSURE_LIMIT
        # free balance, cumulative over the list
        if o.side > 0:
            slot = <int64_t>L.venue * self.n_assets + L.quote
            need = notional * L.quote_factor
            self.leg_per_lot[k] = <int64_t>(<int128_t>px * L.quote_factor)
        else:
            slot = <int64_t>L.venue * self.n_assets + L.base
            need = <int128_t>o.qty * L.base_factor
            self.leg_per_lot[k] = L.base_factor
        used = self.b_used[slot] if self.b_stamp[slot] == self.stamp else 0
        if need + used > self.bal[slot]:
            return R_INSUFFICIENT_BALANCE
        # venue: open orders and throttle
        v = L.venue
        touched_v = self.v_stamp[v] == self.stamp
        cnt = self.v_cnt[v] if touched_v else 0
        if self.ven[v].max_open >= 0 and self.ven[v].open + cnt + 1 > self.ven[v].max_open:
            return R_MAX_OPEN_ORDERS
        tok = 0
        if self.ven[v].max_orders >= 0:
            tok = self.v_tok[v] if touched_v else self.refill(v, now)
            if tok < self.ven[v].interval:
                return R_RATE_LIMITED
        # client order id
        if self.id_find(o.client_id) >= 0:
            return R_DUPLICATE_ORDER_ID
        for j in range(k):
            if codes[j] == R_PASS and orders[j].kind != K_CANCEL and orders[j].client_id == o.client_id:
                return R_DUPLICATE_ORDER_ID
        if self.id_count + pending + 1 > self.max_open_ids:
            return R_ID_TABLE_FULL
        # passed: record what this leg uses
        if self.i_stamp[i] != self.stamp:
            self.i_stamp[i] = self.stamp
            self.i_cum[i] = 0
        self.i_cum[i] += d
        self.i_adj[i] = new_adj
        self.adj_sum += new_adj - adj_old
        if self.b_stamp[slot] != self.stamp:
            self.b_stamp[slot] = self.stamp
            self.b_used[slot] = 0
        self.b_used[slot] += <int64_t>need
        self.leg_slot[k] = slot
        self.leg_need[k] = <int64_t>need
        if not touched_v:
            self.v_stamp[v] = self.stamp
            self.v_cnt[v] = 0
        self.v_cnt[v] = cnt + 1
        if self.ven[v].max_orders >= 0:
            self.v_tok[v] = tok - self.ven[v].interval
        return R_PASS

    cdef void commit(self, Order* orders, Py_ssize_t n, ns_t now) noexcept nogil:
        """Apply an accepted list: balances, ids, open orders, tokens."""
        cdef Py_ssize_t k, v
        cdef Order* o
        cdef VenueRisk* V
        for k in range(n):
            o = &orders[k]
            if o.kind == K_CANCEL:
                continue
            v = self.lim[o.inst].venue
            # the leg's need is reserved (not spent): fills spend it, the close releases the rest
            self.bal[self.leg_slot[k]] -= self.leg_need[k]
            self.rsv[self.leg_slot[k]] += self.leg_need[k]
            self.id_insert(o.client_id, <int32_t>v, self.leg_slot[k], self.leg_per_lot[k],
                           self.leg_need[k])
            if self.v_stamp[v] == self.stamp:
                V = &self.ven[v]
                V.open += self.v_cnt[v]
                if V.max_orders >= 0:
                    V.tokens = self.v_tok[v]
                    if now > V.last:
                        V.last = now
                self.v_stamp[v] = -self.stamp      # committed once

    cdef int check_c(self, Order* orders, Py_ssize_t n, ns_t now, int32_t* codes) noexcept nogil:
        """Check n orders as one all-or-nothing list; codes[k] per leg. Returns failing legs."""
        return self.check_list(orders, n, now, codes, True)

    cdef int check_list(self, Order* orders, Py_ssize_t n, ns_t now, int32_t* codes,
                        bint commit) noexcept nogil:
        """``check_c``; without ``commit`` a passing list is not applied either (a dry run:
        only the per-check scratch changes, no limit state)."""
        cdef Py_ssize_t k, pending = 0
        cdef int failed = 0
        cdef int code
        if n <= 0:
            return 0
        if n > self.max_list_len:
            for k in range(n):
                codes[k] = R_LIST_TOO_LONG
            return <int>n
        self.stamp += 1
        self.adj_sum = 0.0
        for k in range(n):
            code = self.check_leg(&orders[k], k, orders, codes, now, pending)
            codes[k] = code
            if code != R_PASS:
                failed += 1
            elif orders[k].kind != K_CANCEL:
                pending += 1
        if failed:
            for k in range(n):
                if codes[k] == R_PASS:
                    codes[k] = R_LIST_REJECTED
            return failed
        if commit:
            self.commit(orders, n, now)
        return 0

    def check(self, Order[::1] orders not None, int32_t[::1] codes not None, ns_t now) -> int:
        """Check ``orders`` (ORDER_DTYPE array) as one list; codes into ``codes``; 0 = committed."""
        cdef Py_ssize_t n = orders.shape[0]
        if codes.shape[0] < n:
            raise RiskError(f"codes has {codes.shape[0]} slots for {n} orders")
        if n == 0:
            return 0
        return self.check_c(&orders[0], n, now, &codes[0])

    def use_buffers(self, Order[::1] orders not None, int32_t[::1] codes not None) -> None:
        """Register an orders array and a codes array for ``check_slice`` (validated once)."""
        if codes.shape[0] < orders.shape[0]:
            raise RiskError(f"codes has {codes.shape[0]} slots for {orders.shape[0]} orders")
        self._buf_orders = orders
        self._buf_codes = codes
        self.buf_n = orders.shape[0]
        self.buf_o = &orders[0] if orders.shape[0] else NULL
        self.buf_c = &codes[0] if codes.shape[0] else NULL

    def check_slice(self, Py_ssize_t start, Py_ssize_t n, ns_t now) -> int:
        """``check`` on orders[start:start+n] of the registered buffers: the cheap Python path
        (no buffer is acquired per call). Returns the number of failing legs."""
        if start < 0 or n < 0 or start + n > self.buf_n:
            raise RiskError(f"slice {start}:{start + n} outside the registered {self.buf_n} orders")
        if n == 0:
            return 0
        return self.check_c(self.buf_o + start, n, now, self.buf_c + start)

    def check_order(self, int32_t inst, int8_t side, lot_t qty, tick_t price, tick_t ref_mid,
                    int64_t client_id, ns_t now, int8_t kind=K_LIMIT) -> int:
        """Check (and if it passes, commit) one order; returns its reason code."""
        cdef Order o
        cdef int32_t code
        o.client_id = client_id
        o.price = price
        o.qty = qty
        o.ref_mid = ref_mid
        o.inst = inst
        o.side = side
        o.kind = kind
        self.check_c(&o, 1, now, &code)
        return code

    def check_orders(self, orders, ns_t now) -> list:
        """Convenience: a list of ``(inst, side, qty, price, ref_mid, client_id[, kind])``."""
        cdef Py_ssize_t n = len(orders)
        arr = np.zeros(n, dtype=ORDER_DTYPE)
        for k, t in enumerate(orders):
            kind = t[6] if len(t) > 6 else K_LIMIT
            arr[k] = (t[5], t[3], t[2], t[4], t[0], t[1], kind)
        codes = np.zeros(max(n, 1), dtype=np.int32)
        self.check(arr, codes, now)
        return codes[:n].tolist()

    def new_orders(self, Py_ssize_t n):
        """A zeroed numpy array of ``n`` orders (ORDER_DTYPE): allocate once, reuse per check."""
        return np.zeros(n, dtype=ORDER_DTYPE)

    def bench_check(self, Order[::1] orders not None, Py_ssize_t n_legs, ns_t now0, ns_t step_ns,
                    int32_t[::1] codes not None):
        """Timing loop in C: check consecutive n_legs-order lists, now += step_ns each.

        Returns (elapsed_ns, failed_lists); the per-check Python call is not in the figure.
        """
        cdef Py_ssize_t n = orders.shape[0], c, lists
        cdef ns_t t0, t1, now = now0
        cdef int64_t failed = 0
        if n_legs < 1 or n % n_legs != 0 or codes.shape[0] < n:
            raise RiskError("orders must hold whole lists and codes as many slots")
        lists = n // n_legs
        with nogil:
            t0 = now_ns()
            for c in range(lists):
                if self.check_c(&orders[c * n_legs], n_legs, now, &codes[c * n_legs]) != 0:
                    failed += 1
                now += step_ns
            t1 = now_ns()
        return t1 - t0, failed

    # ==== STATE UPDATES ==========================================================================

    cdef int on_fill_c(self, int32_t inst, int8_t side, lot_t qty, tick_t price) noexcept nogil:
        """A fill: position, average cost, realised PnL, proceeds, mark; -1 on bad arguments."""
        cdef InstLimits* L
        cdef int64_t slot
        if self.fill_position(inst, side, qty, price) != 0:
            return -1
        L = &self.lim[inst]
        if side > 0:
            slot = <int64_t>L.venue * self.n_assets + L.base
            self.bal[slot] = sat_add(self.bal[slot], <int128_t>qty * L.base_factor)
        else:
            slot = <int64_t>L.venue * self.n_assets + L.quote
            self.bal[slot] = sat_add(self.bal[slot], <int128_t>price * qty * L.quote_factor)
        return 0

    cdef int on_order_fill_c(self, int64_t client_id, int32_t inst, int8_t side, lot_t qty,
                             tick_t price, int64_t quote_units, int32_t fee_asset,
                             int64_t fee_units) noexcept nogil:
        """A fill of an order: both assets move and the fee is taken; the part of the order's
        reservation that this quantity stood for is released (price improvement comes back).
        ``quote_units``: the fill's exact quote amount (< 0: price * qty); ``fee_asset`` < 0:
        no fee. An id that is not open (closed already, or never checked) moves the balances
        just the same. Returns 1 (order found), 0 (not found), -1 bad arguments."""
        cdef InstLimits* L
        cdef int64_t h, bslot, qslot, part
        cdef int128_t cost
        cdef int found = 0
        if self.fill_position(inst, side, qty, price) != 0:
            return -1
        L = &self.lim[inst]
        bslot = <int64_t>L.venue * self.n_assets + L.base
        qslot = <int64_t>L.venue * self.n_assets + L.quote
        cost = <int128_t>quote_units if quote_units >= 0 else <int128_t>price * qty * L.quote_factor
        if side > 0:
            self.bal[bslot] = sat_add(self.bal[bslot], <int128_t>qty * L.base_factor)
            self.bal[qslot] = sat_add(self.bal[qslot], -cost)
        else:
            self.bal[bslot] = sat_add(self.bal[bslot], -(<int128_t>qty * L.base_factor))
            self.bal[qslot] = sat_add(self.bal[qslot], cost)
        h = self.id_find(client_id) if client_id != 0 else -1
        if h >= 0:
            found = 1
            # what this quantity had reserved is no longer held: back to free (the spend above
            # already took the real amount)
            part = <int64_t>(<int128_t>self.ids[h].per_lot * qty) if (
                <int128_t>self.ids[h].per_lot * qty < self.ids[h].res) else self.ids[h].res
            self.ids[h].res -= part
            self.rsv[self.ids[h].slot] -= part
            self.bal[self.ids[h].slot] = sat_add(self.bal[self.ids[h].slot], part)
        if fee_asset >= 0 and fee_asset < self.n_assets and fee_units != 0:
            h = <int64_t>L.venue * self.n_assets + fee_asset
            self.bal[h] = sat_add(self.bal[h], -(<int128_t>fee_units))
        return found

    cdef int fill_position(self, int32_t inst, int8_t side, lot_t qty, tick_t price) noexcept nogil:
        """A fill's effect on the position, average cost, realised PnL and mark."""
        cdef InstLimits* L
        cdef InstState* S
        cdef int64_t p, d, closed
        cdef int128_t newp
        cdef double w, pnl
        if inst < 0 or inst >= self.n_instruments or not self.lim[inst].configured:
            return -1
        if (side != 1 and side != -1) or qty <= 0 or qty > UNITS_MAX or price <= 0 or price > UNITS_MAX:
            return -1
        L = &self.lim[inst]
        S = &self.ist[inst]
        w = L.unit_value * self.asset_value[L.quote]
        p = S.pos
        d = side * qty
        newp = <int128_t>p + d
        if newp > UNITS_MAX:
            newp = UNITS_MAX
        elif newp < -UNITS_MAX:
            newp = -UNITS_MAX
        if p == 0 or (p > 0) == (d > 0):
            S.avg_px = (S.avg_px * <double>iabs(p) + <double>price * <double>qty) / (
                <double>iabs(p) + <double>qty)
        else:
            closed = qty if qty < iabs(p) else iabs(p)
            pnl = <double>closed * (<double>price - S.avg_px) * w
            self.add_pnl_c(pnl if p > 0 else -pnl)
            if newp == 0:
                S.avg_px = 0.0
            elif (newp > 0) != (p > 0):
                S.avg_px = <double>price
        S.pos = <int64_t>newp
        if S.mark == 0:
            S.mark = price
        self.recompute_gross()
        return 0

    cdef void add_pnl_c(self, double amount) noexcept nogil:
        """Add realised PnL (account currency); halts at the daily loss limit."""
        self.day_pnl += amount
        if self.loss_limit >= 0.0 and self.day_pnl <= -self.loss_limit and self.state != TS_HALTED:
            self.state = TS_HALTED
            self.halt = HALT_LOSS_LIMIT

    cdef void recompute_gross(self) noexcept nogil:
        """Gross exposure from scratch (no drift): sum of |pos| * mark * weight, in index order."""
        cdef Py_ssize_t i
        cdef double g = 0.0, c
        cdef InstLimits* L
        for i in range(self.n_instruments):
            L = &self.lim[i]
            if L.configured:
                c = (<double>iabs(self.ist[i].pos) * <double>self.ist[i].mark
                     * (L.unit_value * self.asset_value[L.quote]))
            else:
                c = 0.0
            self.ist[i].contrib = c
            g += c
        self.gross = g

    cdef int on_order_open_c(self, int64_t client_id, int32_t venue) noexcept nogil:
        """Register an order opened outside ``check`` (reconciliation): 1, 0 duplicate, -1 error."""
        cdef int rc
        if venue < 0 or venue >= self.n_venues or client_id == 0:
            return -1
        rc = self.id_insert(client_id, venue, 0, 0, 0)
        if rc == 1:
            self.ven[venue].open += 1
        return rc

    cdef int on_order_close_c(self, int64_t client_id) noexcept nogil:
        """An order is gone (filled, cancelled, rejected): frees its id and open slot and
        releases what it still reserved (the unfilled part); 1 or 0."""
        cdef int64_t h = self.id_find(client_id)
        cdef int32_t v
        if h < 0:
            return 0
        v = <int32_t>self.ids[h].venue
        if self.ids[h].res:
            self.rsv[self.ids[h].slot] -= self.ids[h].res
            self.bal[self.ids[h].slot] = sat_add(self.bal[self.ids[h].slot], self.ids[h].res)
        self.id_remove(client_id)
        if self.ven[v].open > 0:
            self.ven[v].open -= 1
        return 1

    cdef int set_balance_c(self, int32_t venue, int32_t asset, int64_t units) noexcept nogil:
        if venue < 0 or venue >= self.n_venues or asset < 0 or asset >= self.n_assets:
            return -1
        # the venue's balance still holds what our open orders reserved: free is the rest
        self.bal[<int64_t>venue * self.n_assets + asset] = sat_add(
            units, -(<int128_t>self.rsv[<int64_t>venue * self.n_assets + asset]))
        return 0

    cdef int set_mark_c(self, int32_t inst, tick_t price) noexcept nogil:
        if inst < 0 or inst >= self.n_instruments or price < 0 or price > UNITS_MAX:
            return -1
        self.ist[inst].mark = price
        self.recompute_gross()
        return 0

    def on_fill(self, int32_t inst, int8_t side, lot_t qty, tick_t price) -> None:
        """A fill of ``qty`` lots at ``price`` ticks (side BUY/SELL)."""
        if self.on_fill_c(inst, side, qty, price) != 0:
            raise RiskError(f"bad fill: inst={inst} side={side} qty={qty} price={price}")

    def on_order_fill(self, int64_t client_id, int32_t inst, int8_t side, lot_t qty, tick_t price,
                      int64_t quote_units=-1, int32_t fee_asset=-1, int64_t fee_units=0) -> bool:
        """A fill of order ``client_id`` (see ``on_order_fill_c``); False if the id was not open
        (the balances move all the same)."""
        cdef int rc
        if fee_asset >= self.n_assets:
            raise RiskError(f"bad fee asset {fee_asset} (have {self.n_assets})")
        rc = self.on_order_fill_c(client_id, inst, side, qty, price, quote_units, fee_asset,
                                  fee_units)
        if rc < 0:
            raise RiskError(f"bad fill: client_id={client_id} inst={inst} side={side} qty={qty} "
                            f"price={price}")
        return rc == 1

    def on_order_open(self, int64_t client_id, int32_t venue) -> bool:
        """Register an open order not placed through ``check``; False if the id is already open."""
        cdef int rc = self.on_order_open_c(client_id, venue)
        if rc == -1:
            raise RiskError(f"bad order: client_id={client_id} venue={venue}")
        if rc == -2:
            raise RiskError(f"client order id table is full ({self.max_open_ids} ids)")
        return rc == 1

    def on_order_close(self, int64_t client_id) -> bool:
        """The order left the book; False if the id was not open."""
        return self.on_order_close_c(client_id) == 1

    def set_balance(self, int32_t venue, int32_t asset, int64_t units) -> None:
        """The venue's balance of (venue, asset) in asset units (its account update): the free
        balance becomes ``units`` less what open orders still reserve."""
        if self.set_balance_c(venue, asset, units) != 0:
            raise RiskError(f"bad venue/asset index: {venue}/{asset}")

    def add_balance(self, int32_t venue, int32_t asset, int64_t delta) -> None:
        """Add (or with delta < 0 take) asset units, saturating."""
        self._venue(venue)
        self._asset(asset)
        cdef int64_t slot = <int64_t>venue * self.n_assets + asset
        self.bal[slot] = sat_add(self.bal[slot], delta)

    def set_mark(self, int32_t inst, tick_t price) -> None:
        """Mark price (ticks) valuing the instrument's position in the gross exposure."""
        if self.set_mark_c(inst, price) != 0:
            raise RiskError(f"bad mark: inst={inst} price={price}")

    def add_pnl(self, double amount) -> None:
        """Realised PnL not from fills (fees, funding), account currency."""
        self.add_pnl_c(amount)

    def reset_day(self) -> None:
        """Zero the daily PnL (the trading state is left as it is)."""
        self.day_pnl = 0.0

    def kill(self) -> None:
        """Manual kill switch: HALTED, nothing but cancels passes."""
        self.state = TS_HALTED
        self.halt = HALT_MANUAL

    def set_trading_state(self, int state) -> None:
        """ACTIVE, REDUCING or HALTED (the only way out of HALTED)."""
        if state < TS_ACTIVE or state > TS_HALTED:
            raise RiskError(f"unknown trading state {state}")
        self.state = state
        self.halt = HALT_MANUAL if state == TS_HALTED else HALT_NONE

    # ==== CLIENT ORDER IDS =======================================================================

    cdef int64_t id_home(self, int64_t key) noexcept nogil:
        """Home slot: groups of 4 consecutive ids share a cache line; the groups are spread by
        splitmix64, so strided or hashed ids spread too. Counter-minted ids touch one new line
        every 4 orders instead of one per order."""
        cdef uint64_t k = <uint64_t>key
        return <int64_t>(((mix64(k >> 2) << 2) | (k & 3)) & <uint64_t>self.id_mask)

    cdef int64_t id_find(self, int64_t key) noexcept nogil:
        cdef int64_t h = self.id_home(key)
        while self.ids[h].key != 0:
            if self.ids[h].key == key:
                return h
            h = (h + 1) & self.id_mask
        return -1

    cdef int id_insert(self, int64_t key, int32_t venue, int64_t slot, int64_t per_lot,
                       int64_t res) noexcept nogil:
        """1 inserted, 0 already present, -2 table full."""
        cdef int64_t h = self.id_home(key)
        while self.ids[h].key != 0:
            if self.ids[h].key == key:
                return 0
            h = (h + 1) & self.id_mask
        if self.id_count >= self.max_open_ids:
            return -2
        self.ids[h].key = key
        self.ids[h].venue = venue
        self.ids[h].slot = <int32_t>slot
        self.ids[h].per_lot = per_lot
        self.ids[h].res = res
        self.id_count += 1
        return 1

    cdef int id_remove(self, int64_t key) noexcept nogil:
        """Delete by backward shift: later entries of the probe chain move up (no tombstones)."""
        cdef int64_t i = self.id_find(key), j, home
        cdef int64_t mask = self.id_mask
        if i < 0:
            return 0
        j = i
        while True:
            j = (j + 1) & mask
            if self.ids[j].key == 0:
                break
            home = self.id_home(self.ids[j].key)
            # the entry at j may move to the hole at i unless its home lies cyclically in (i, j]
            if (i <= j and i < home <= j) or (i > j and (home > i or home <= j)):
                continue
            self.ids[i] = self.ids[j]
            i = j
        self.ids[i].key = 0
        self.id_count -= 1
        return 1

    def has_id(self, int64_t client_id) -> bool:
        return client_id != 0 and self.id_find(client_id) >= 0

    # ==== READS ==================================================================================

    cdef int _inst(self, Py_ssize_t i, bint configured) except -1:
        if i < 0 or i >= self.n_instruments:
            raise RiskError(f"no instrument {i} (have {self.n_instruments})")
        if configured and not self.lim[i].configured:
            raise RiskError(f"instrument {i} is not configured")
        return 0

    cdef int _venue(self, Py_ssize_t v) except -1:
        if v < 0 or v >= self.n_venues:
            raise RiskError(f"no venue {v} (have {self.n_venues})")
        return 0

    cdef int _asset(self, Py_ssize_t a) except -1:
        if a < 0 or a >= self.n_assets:
            raise RiskError(f"no asset {a} (have {self.n_assets})")
        return 0

    def balance(self, Py_ssize_t venue, Py_ssize_t asset) -> int:
        """Free balance of (venue, asset): the venue's balance less open reservations."""
        self._venue(venue)
        self._asset(asset)
        return self.bal[venue * self.n_assets + asset]

    def reserved(self, Py_ssize_t venue, Py_ssize_t asset) -> int:
        """What open orders reserve of (venue, asset): ``balance + reserved`` is the venue's."""
        self._venue(venue)
        self._asset(asset)
        return self.rsv[venue * self.n_assets + asset]

    def order_reservation(self, int64_t client_id) -> int:
        """What the open order still reserves (asset units); -1 if the id is not open."""
        cdef int64_t h = self.id_find(client_id) if client_id != 0 else -1
        return -1 if h < 0 else self.ids[h].res

    def position(self, Py_ssize_t inst) -> int:
        self._inst(inst, False)
        return self.ist[inst].pos

    def avg_price(self, Py_ssize_t inst) -> float:
        self._inst(inst, False)
        return self.ist[inst].avg_px

    def mark(self, Py_ssize_t inst) -> int:
        self._inst(inst, False)
        return self.ist[inst].mark

    def open_orders(self, Py_ssize_t venue) -> int:
        self._venue(venue)
        return self.ven[venue].open

    def tokens(self, Py_ssize_t venue, ns_t now) -> float:
        """Tokens the venue's bucket would hold at ``now`` (inf when not throttled)."""
        self._venue(venue)
        if self.ven[venue].max_orders < 0:
            return float("inf")
        return self.refill(venue, now) / <double>self.ven[venue].interval

    def instrument_limits(self, Py_ssize_t inst) -> dict:
        """The loaded limits of an instrument (integers; INT64_MAX = none)."""
        self._inst(inst, False)
        return dict(self.lim[inst])

    @property
    def n_open_ids(self) -> int:
        return self.id_count

    @property
    def gross_exposure(self) -> float:
        return self.gross

    @property
    def daily_pnl(self) -> float:
        return self.day_pnl

    @property
    def trading_state(self) -> int:
        return self.state

    @property
    def halt_reason(self) -> int:
        return self.halt

    @property
    def max_gross_exposure(self) -> float:
        return self.max_gross

    @property
    def daily_loss_limit(self) -> float:
        return self.loss_limit

    def __repr__(self) -> str:
        return (f"RiskEngine(instruments={self.n_instruments}, venues={self.n_venues}, "
                f"assets={self.n_assets}, state={TRADING_STATE_NAMES[self.state]}, "
                f"open_ids={self.id_count})")
