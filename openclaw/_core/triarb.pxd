# Triangular arbitrage over (venue, base, quote) books: cycle table, incremental evaluation,
# depth-aware sizing. Results land in preallocated arrays.
from openclaw._core.typedefs cimport int64_t, int32_t, ns_t, tick_t, lot_t
from openclaw._core.book cimport BookMeta
from openclaw._core.stageclock cimport StageClock
from openclaw._core.risk cimport RiskEngine, Order as RiskOrder

cdef struct Market:
    BookMeta* m
    int venue
    int base
    int quote
    double fee            # taker fee as a fraction (bps / 1e4)
    double min_notional   # in quote units (0 = none)
    int64_t seen          # book.updates when the cached top rates were computed (-1: never)
    double top_buy        # what one unit of quote buys at the best ask, after the fee
    double top_sell       # what one unit of base sells for at the best bid, after the fee

cdef struct Leg:
    int market
    int buy               # 1: buy base with quote (walk asks); 0: sell base for quote (walk bids)

cdef struct Cycle:
    Leg legs[3]
    int assets[3]         # assets[k] is what leg k spends; the cycle closes on assets[0]
    ns_t last_fire        # for the cool-down

cdef struct Sized:        # the result of evaluating one cycle
    double profit_bps     # marginal, top of book, after fees
    double start_amount   # in assets[0], after lots
    double end_amount
    lot_t qty[3]          # per leg, in lots of its market
    tick_t limit[3]       # per leg, worst price touched, ticks of its market

cdef class TriArb:
    cdef readonly Py_ssize_t n_markets
    cdef readonly Py_ssize_t n_cycles
    cdef readonly Py_ssize_t n_assets
    cdef readonly Py_ssize_t n_venues
    cdef Market* markets
    cdef Cycle* cycles
    cdef int* by_market             # CSR index: market -> cycles containing it
    cdef int* by_market_start
    cdef double* balance            # [venue * n_assets + asset]; < 0 = unlimited
    cdef Sized* found               # preallocated results of the last evaluation
    cdef int* found_cycle
    cdef readonly Py_ssize_t n_found
    cdef double threshold           # 1 + min_profit_bps / 1e4
    cdef public double min_profit_bps
    cdef public int64_t max_age_ns  # 0: no age check
    cdef public int64_t cooldown_ns
    cdef public bint require_live
    cdef list _books
    cdef list _assets
    cdef list _venues
    cdef list _market_keys
    cdef int64_t* traded_at         # per market: book updates when last traded (-1: never)
    cdef StageClock _clock          # recorder stamped by on_update (None: off)
    cdef int _book_stage
    cdef int _signal_stage
    cdef int _risk_stage            # stamped by check_risk (-1: not)
    cdef int _submit_stage          # stamped by handed_over (-1: not)
    cdef readonly int64_t event     # recorder event of the last on_update (-1: none)
    cdef RiskEngine _risk           # bound by bind_risk (None: not bound)
    cdef int32_t* risk_inst         # per market: the engine's instrument (-1: unknown)
    cdef int64_t slip_num           # limit allowance of check_risk, as a fraction
    cdef int64_t slip_den
    cdef bint usable(self, int market, ns_t now) noexcept nogil
    cdef int evaluate(self, int c, Sized* out) noexcept nogil
    cdef Py_ssize_t run(self, int market, ns_t now, bint fire) noexcept nogil
    cdef void leg_values(self, Py_ssize_t i, int k, int64_t slip_num, int64_t slip_den,
                         int* market, int* buy, lot_t* qty, tick_t* px) noexcept nogil
    cdef int _found(self, Py_ssize_t i) except -1
    cdef void write_row(self, RiskOrder* o, int market, int buy, lot_t qty, tick_t px,
                        int64_t client_id, int32_t inst) noexcept nogil
    cdef int _slip(self, int64_t slip_num, int64_t slip_den) except -1
