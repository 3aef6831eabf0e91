# Pre-trade risk: the typed interface (contract in docs/risk-api.md).
from openclaw._core.typedefs cimport int64_t, int32_t, int8_t, uint64_t, tick_t, lot_t, ns_t
from openclaw._core.book cimport BookMeta

cdef extern from *:
    ctypedef long long int128_t "__int128"     # GCC/Clang: exact notional products

# ---- reason codes (0 = pass); names in risk.pyx REASON_NAMES --------------------------------
cdef enum RiskCode:
    R_PASS = 0
    R_LIST_REJECTED = 1
    R_LIST_TOO_LONG = 2
    R_UNKNOWN_INSTRUMENT = 3
    R_INVALID_ORDER = 4
    R_TRADING_HALTED = 5
    R_PRICE_NOT_ON_TICK = 6
    R_QTY_NOT_ON_LOT = 7
    R_QTY_BELOW_MIN = 8
    R_QTY_ABOVE_MAX = 9
    R_QTY_EXCEEDS_ORDER_LIMIT = 10
    R_NO_MARKET_DATA = 11
    R_BOOK_NOT_LIVE = 12
    R_BOOK_STALE = 13
    R_NO_REFERENCE_PRICE = 14
    R_INSUFFICIENT_LIQUIDITY = 15
    R_PRICE_OUTSIDE_COLLAR = 16
    R_NOTIONAL_BELOW_MIN = 17
    R_NOTIONAL_ABOVE_MAX = 18
    R_NOTIONAL_EXCEEDS_ORDER_LIMIT = 19
    R_REDUCE_ONLY = 20
    R_POSITION_LIMIT = 21
    R_GROSS_EXPOSURE_LIMIT = 22
    R_INSUFFICIENT_BALANCE = 23
    R_MAX_OPEN_ORDERS = 24
    R_RATE_LIMITED = 25
    R_DUPLICATE_ORDER_ID = 26
    R_ID_TABLE_FULL = 27
    R_N_CODES = 28

cdef enum OrderKind:
    K_LIMIT = 0
    K_MARKET = 1
    K_CANCEL = 2

cdef enum TradingState:
    TS_ACTIVE = 0
    TS_REDUCING = 1
    TS_HALTED = 2

cdef enum HaltReason:
    HALT_NONE = 0
    HALT_MANUAL = 1
    HALT_LOSS_LIMIT = 2

# ---- orders: one struct per order (numpy ORDER_DTYPE has the same aligned layout) -----------
cdef struct Order:
    int64_t client_id    # non-zero
    tick_t price         # limit price (ticks); MARKET: the check writes the protective limit
    lot_t qty            # lots, > 0
    tick_t ref_mid       # reference mid (ticks), > 0
    int32_t inst
    int8_t side          # +1 buy, -1 sell
    int8_t kind          # OrderKind

# ---- limits (loaded from config) and state --------------------------------------------------
cdef struct InstLimits:
    int8_t configured
    int32_t venue
    int32_t base
    int32_t quote
    int64_t tick_m       # tick = tick_m * 10**-tick_e (checked against the bound book)
    int32_t tick_e
    int64_t lot_m
    int32_t lot_e
    int64_t price_mult   # price increment in ticks
    int64_t lot_mult     # size increment in lots
    lot_t min_qty        # 0 = none
    lot_t max_qty        # INT64_MAX = none
    lot_t max_order_qty
    int64_t min_notional         # notional units (tick * lot); 0 = none
    int64_t max_notional         # INT64_MAX = none
    int64_t max_order_notional
    int64_t collar_e8            # band * 1e8 relative to the mid; < 0 = off
    ns_t max_book_age            # ns; < 0 = off
    lot_t max_position           # INT64_MAX = none
    int64_t quote_factor         # notional unit -> quote asset units
    int64_t base_factor          # lot -> base asset units
    double unit_value            # float(tick * lot), quote currency per notional unit

cdef struct InstState:
    lot_t pos
    tick_t mark
    double avg_px        # average entry price (ticks)
    double contrib       # |pos| * mark * weight: this instrument's share of gross exposure

cdef struct IdSlot:             # 32 bytes: 2 slots per cache line
    int64_t key          # 0 = empty
    int32_t venue
    int32_t slot         # balance slot the order reserved (venue * n_assets + asset)
    int64_t per_lot      # reservation per lot: limit * quote_factor (buy), base_factor (sell)
    int64_t res          # reservation still held (released by fills and by the close)

cdef struct VenueRisk:
    int64_t max_orders   # bucket size; < 0 = no throttle
    int64_t interval     # ns per max_orders refill
    int64_t max_open     # < 0 = none
    int64_t tokens       # bucket level in 1/interval token units
    ns_t last            # time of the last refill commit
    int64_t open         # open orders

cdef int protective_limit(const BookMeta* m, int8_t side, lot_t qty, int64_t price_mult,
                          tick_t* out) noexcept nogil


cdef class RiskEngine:
    cdef readonly Py_ssize_t n_instruments
    cdef readonly Py_ssize_t n_venues
    cdef readonly Py_ssize_t n_assets
    cdef readonly Py_ssize_t max_open_ids
    cdef readonly Py_ssize_t max_list_len
    cdef public object index          # name maps set by openclaw.risk.build_engine (or None)
    cdef list _books                  # keeps the bound OrderBooks alive
    cdef object _buf_orders           # buffers registered by use_buffers (kept alive)
    cdef object _buf_codes
    cdef Order* buf_o
    cdef int32_t* buf_c
    cdef Py_ssize_t buf_n
    # limits
    cdef InstLimits* lim
    cdef VenueRisk* ven
    cdef const BookMeta** books
    cdef double* asset_value
    cdef double max_gross        # < 0 = off
    cdef double loss_limit       # < 0 = off
    # state
    cdef InstState* ist
    cdef int64_t* bal            # free: venue balance - open reservations [venue * n_assets + asset]
    cdef int64_t* rsv            # open reservations (sum of the open orders' ``res``), same slots
    cdef double gross
    cdef double day_pnl
    cdef int8_t state
    cdef int8_t halt
    # client order ids: open addressing, linear probing, backward-shift delete
    cdef IdSlot* ids             # 64-byte aligned view of _id_mem
    cdef void* _id_mem
    cdef int64_t id_mask
    cdef int64_t id_count
    # per-check scratch (stamped, never cleared)
    cdef int64_t stamp
    cdef int64_t* i_stamp
    cdef lot_t* i_cum            # position change of earlier passing legs
    cdef double* i_adj           # their gross-exposure adjustment
    cdef int64_t* b_stamp
    cdef int64_t* b_used         # balance needed by earlier passing legs
    cdef int64_t* v_stamp
    cdef int64_t* v_tok          # bucket level after earlier passing legs
    cdef int64_t* v_cnt          # earlier passing legs on the venue
    cdef int64_t* leg_slot       # balance slot and need of each leg (for the commit)
    cdef int64_t* leg_need
    cdef int64_t* leg_per_lot
    cdef double adj_sum

    # ---- PRE-TRADE CHECKS ----
    cdef int check_c(self, Order* orders, Py_ssize_t n, ns_t now, int32_t* codes) noexcept nogil
    cdef int check_list(self, Order* orders, Py_ssize_t n, ns_t now, int32_t* codes,
                        bint commit) noexcept nogil
    cdef int check_leg(self, Order* o, Py_ssize_t k, Order* orders, int32_t* codes,
                       ns_t now, Py_ssize_t pending) noexcept nogil
    cdef void commit(self, Order* orders, Py_ssize_t n, ns_t now) noexcept nogil
    cdef int64_t refill(self, Py_ssize_t v, ns_t now) noexcept nogil
    # ---- STATE UPDATES (execution layer) ----
    cdef int on_fill_c(self, int32_t inst, int8_t side, lot_t qty, tick_t price) noexcept nogil
    cdef int on_order_open_c(self, int64_t client_id, int32_t venue) noexcept nogil
    cdef int on_order_close_c(self, int64_t client_id) noexcept nogil
    cdef int on_order_fill_c(self, int64_t client_id, int32_t inst, int8_t side, lot_t qty,
                             tick_t price, int64_t quote_units, int32_t fee_asset,
                             int64_t fee_units) noexcept nogil
    cdef int fill_position(self, int32_t inst, int8_t side, lot_t qty, tick_t price) noexcept nogil
    cdef int set_balance_c(self, int32_t venue, int32_t asset, int64_t units) noexcept nogil
    cdef int set_mark_c(self, int32_t inst, tick_t price) noexcept nogil
    cdef void add_pnl_c(self, double amount) noexcept nogil
    cdef void recompute_gross(self) noexcept nogil
    # ---- index checks of the Python API (raise RiskError) ----
    cdef int _inst(self, Py_ssize_t i, bint configured) except -1
    cdef int _venue(self, Py_ssize_t v) except -1
    cdef int _asset(self, Py_ssize_t a) except -1
    # ---- CLIENT ORDER IDS ----
    cdef int64_t id_home(self, int64_t key) noexcept nogil
    cdef int64_t id_find(self, int64_t key) noexcept nogil
    cdef int id_insert(self, int64_t key, int32_t venue, int64_t slot, int64_t per_lot,
                       int64_t res) noexcept nogil
    cdef int id_remove(self, int64_t key) noexcept nogil
