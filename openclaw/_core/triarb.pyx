"""Triangular arbitrage across venues, evaluated in C on the live books.

At start-up every cycle of three assets is tabulated with every choice of venue per leg (the legs
fire at once, so each may sit on a different venue), together with an index from each market to
the cycles that use it: a book update re-evaluates only those cycles. A market quoted either way
round is handled by the leg's side: buying the base walks the asks, selling it walks the bids.
Taker fees apply on every leg, to what the leg receives.

Sizing (depth-aware): the start amount grows through the levels of the three books at once for
as long as the marginal cycle rate (the product of the three legs' marginal rates, fees included)
stays above 1 + min_profit_bps / 1e4, capped by each leg's venue balance of what it spends. The
amount is then executed exactly, leg after leg, in whole lots: a sell leg sells
floor(budget / lot) lots into the bids, a buy leg buys the most lots whose cost fits the budget;
each leg's budget is what the previous leg received (and its venue balance); a leg under its
market's minimum notional makes the cycle not executable (start amount 0).
"""

cimport cython
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.math cimport floor
from libc.string cimport memset

from openclaw._core.book cimport OrderBook, BookMeta, Side, now_ns
from openclaw._core.fixedpoint cimport units_to_float
from openclaw._core.risk cimport Order as RiskOrder, RiskEngine, int128_t, K_LIMIT
from openclaw._core.stageclock cimport StageClock
from openclaw._core.typedefs cimport LIVE, int32_t, int8_t
from openclaw._core.errors import CapacityError

DEFAULT_PRIORITY = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")


class OpportunityLeg:
    """One leg: ``side`` of ``base`` on ``venue``, at most ``qty`` at ``price_limit``."""

    __slots__ = ("venue", "base", "quote", "side", "price_limit", "qty")

    def __init__(self, venue, base, quote, side, price_limit, qty):
        self.venue = venue
        self.base = base
        self.quote = quote
        self.side = side
        self.price_limit = price_limit
        self.qty = qty

    def __repr__(self):
        return (f"Leg({self.venue} {self.side} {self.qty} {self.base}/{self.quote} "
                f"@ {self.price_limit})")


class Opportunity:
    """A profitable cycle: ``assets`` in trading order, closing on ``assets[0]``."""

    __slots__ = ("assets", "legs", "profit_bps", "start_amount", "expected_profit", "cycle")

    def __init__(self, assets, legs, profit_bps, start_amount, expected_profit, cycle):
        self.assets = assets
        self.legs = legs
        self.profit_bps = profit_bps
        self.start_amount = start_amount
        self.expected_profit = expected_profit
        self.cycle = cycle

    def __repr__(self):
        return (f"Opportunity({'->'.join(self.assets)}, {self.profit_bps:.3f} bps, "
                f"start {self.start_amount}, profit {self.expected_profit}, {self.legs})")


cdef inline const Side* leg_side(const Market* mk, int buy) noexcept nogil:
    return &mk.m.side[1] if buy else &mk.m.side[0]


cdef inline double level_px(const Market* mk, const Side* s, int64_t j) noexcept nogil:
    return units_to_float(s.px[s.n - 1 - j], &mk.m.tick)


cdef inline double level_qty(const Market* mk, const Side* s, int64_t j) noexcept nogil:
    return units_to_float(s.qty[s.n - 1 - j], &mk.m.lot)


cdef inline double rate(const Market* mk, int buy, double px) noexcept nogil:
    """What one unit spent buys at price px, after the fee."""
    return (1.0 - mk.fee) / px if buy else px * (1.0 - mk.fee)


cdef inline double capacity(const Market* mk, int buy, double px, double qty) noexcept nogil:
    """What a level can absorb, in units of what the leg spends."""
    return px * qty if buy else qty


cdef int execute_leg(const Market* mk, int buy, double budget, lot_t* qty, double* spent,
                     double* received, double* notional, tick_t* worst) noexcept nogil:
    """Execute ``budget`` (of what the leg spends) in whole lots against the book."""
    cdef const Side* s = leg_side(mk, buy)
    cdef double lot = mk.m.lot.value
    cdef double px, level_cost, cost = 0.0, gross = 0.0
    cdef lot_t q = 0, take, want
    cdef int64_t j
    worst[0] = 0
    if budget <= 0.0:
        qty[0] = 0
        spent[0] = 0.0
        received[0] = 0.0
        notional[0] = 0.0
        return 0
    if buy:
        for j in range(s.n):
            px = level_px(mk, s, j)
            level_cost = <double>s.qty[s.n - 1 - j] * lot * px
            if cost + level_cost <= budget:
                take = s.qty[s.n - 1 - j]
            else:
                take = <lot_t>floor((budget - cost) / (px * lot))
                if take > s.qty[s.n - 1 - j]:
                    take = s.qty[s.n - 1 - j]
            if take <= 0:
                break
            cost += <double>take * lot * px
            q += take
            worst[0] = s.px[s.n - 1 - j]
            if take < s.qty[s.n - 1 - j]:
                break
        qty[0] = q
        spent[0] = cost
        notional[0] = cost
        received[0] = <double>q * lot * (1.0 - mk.fee)
    else:
        want = <lot_t>floor(budget / lot)
        for j in range(s.n):
            if want <= 0:
                break
            take = s.qty[s.n - 1 - j] if s.qty[s.n - 1 - j] < want else want
            gross += <double>take * lot * level_px(mk, s, j)
            q += take
            want -= take
            worst[0] = s.px[s.n - 1 - j]
        qty[0] = q
        spent[0] = <double>q * lot
        notional[0] = gross
        received[0] = gross * (1.0 - mk.fee)
    return 0


cdef class TriArb:
    """Every triangle of the configured markets, evaluated incrementally on book updates."""

    def __cinit__(self, markets, double min_profit_bps=0.0, asset_priority=DEFAULT_PRIORITY,
                  int64_t max_age_ns=0, int64_t cooldown_ns=0, bint require_live=True):
        """``markets``: sequence of (venue, base, quote, OrderBook, fee_bps[, min_notional])."""
        cdef Py_ssize_t i
        cdef OrderBook ob
        self.markets = NULL
        self.cycles = NULL
        self.by_market = NULL
        self.by_market_start = NULL
        self.balance = NULL
        self.found = NULL
        self.found_cycle = NULL
        self.traded_at = NULL
        self.risk_inst = NULL
        self._risk = None
        self._risk_stage = -1
        self._submit_stage = -1
        self.slip_num = 0
        self.slip_den = 1
        self._clock = None
        self.event = -1
        rows = [tuple(r) for r in markets]
        if not rows:
            raise CapacityError("TriArb needs at least one market")
        assets, venues, keys = [], [], []
        for r in rows:
            if len(r) not in (5, 6):
                raise ValueError(f"market {r!r}: expected (venue, base, quote, book, fee_bps"
                                 "[, min_notional])")
            venue, base, quote, book = r[0], r[1], r[2], r[3]
            if not isinstance(book, OrderBook):
                raise TypeError(f"market {venue}:{base}/{quote}: book is not an OrderBook")
            if base == quote:
                raise ValueError(f"market {venue}:{base}/{quote}: base equals quote")
            if (venue, base, quote) in keys:
                raise ValueError(f"market {venue}:{base}/{quote} listed twice")
            if not (0.0 <= float(r[4]) < 10000.0):
                raise ValueError(f"market {venue}:{base}/{quote}: fee {r[4]} bps out of range")
            keys.append((venue, base, quote))
            for a in (base, quote):
                if a not in assets:
                    assets.append(a)
            if venue not in venues:
                venues.append(venue)
        self._assets = assets
        self._venues = venues
        self._market_keys = keys
        self._books = [r[3] for r in rows]
        self.n_markets = len(rows)
        self.n_assets = len(assets)
        self.n_venues = len(venues)
        self.markets = <Market*>PyMem_Malloc(self.n_markets * sizeof(Market))
        self.traded_at = <int64_t*>PyMem_Malloc(self.n_markets * sizeof(int64_t))
        self.risk_inst = <int32_t*>PyMem_Malloc(self.n_markets * sizeof(int32_t))
        if self.markets == NULL or self.traded_at == NULL or self.risk_inst == NULL:
            raise MemoryError()
        for i in range(self.n_markets):
            self.traded_at[i] = -1
            self.risk_inst[i] = -1
        for i, r in enumerate(rows):
            ob = r[3]
            self.markets[i].m = &ob.bookset.meta[ob.book_id]
            self.markets[i].venue = venues.index(r[0])
            self.markets[i].base = assets.index(r[1])
            self.markets[i].quote = assets.index(r[2])
            self.markets[i].fee = float(r[4]) / 1e4
            self.markets[i].min_notional = float(r[5]) if len(r) == 6 else 0.0
            self.markets[i].seen = -1

        # cycle table
        prio = {a: i for i, a in enumerate(asset_priority)}
        order = sorted(range(len(assets)), key=lambda a: (prio.get(assets[a], len(prio)),
                                                          assets[a]))
        rank = {a: i for i, a in enumerate(order)}
        pair = {}
        for i in range(self.n_markets):
            b, q = self.markets[i].base, self.markets[i].quote
            pair.setdefault(frozenset((b, q)), []).append(i)
        cycles = []
        A = len(assets)
        for x in range(A):
            for y in range(x + 1, A):
                for z in range(y + 1, A):
                    if not all(frozenset(p) in pair for p in ((x, y), (y, z), (x, z))):
                        continue
                    for path in ((x, y, z), (x, z, y)):
                        k0 = min(range(3), key=lambda k: rank[path[k]])
                        path = path[k0:] + path[:k0]
                        hops = [(path[k], path[(k + 1) % 3]) for k in range(3)]
                        for m0 in pair[frozenset(hops[0])]:
                            for m1 in pair[frozenset(hops[1])]:
                                for m2 in pair[frozenset(hops[2])]:
                                    cycles.append((path, hops, (m0, m1, m2)))
        self.n_cycles = len(cycles)
        n = max(1, self.n_cycles)
        self.cycles = <Cycle*>PyMem_Malloc(n * sizeof(Cycle))
        self.found = <Sized*>PyMem_Malloc(n * sizeof(Sized))
        self.found_cycle = <int*>PyMem_Malloc(n * sizeof(int))
        self.by_market_start = <int*>PyMem_Malloc((self.n_markets + 1) * sizeof(int))
        self.by_market = <int*>PyMem_Malloc(max(1, 3 * self.n_cycles) * sizeof(int))
        self.balance = <double*>PyMem_Malloc(self.n_venues * self.n_assets * sizeof(double))
        if (self.cycles == NULL or self.found == NULL or self.found_cycle == NULL
                or self.by_market_start == NULL or self.by_market == NULL
                or self.balance == NULL):
            raise MemoryError()
        for i in range(self.n_venues * self.n_assets):
            self.balance[i] = -1.0
        memset(self.cycles, 0, n * sizeof(Cycle))
        index = [[] for _ in range(self.n_markets)]
        for c, (path, hops, ms) in enumerate(cycles):
            for k in range(3):
                self.cycles[c].assets[k] = path[k]
                self.cycles[c].legs[k].market = ms[k]
                # spending hops[k][0] to get hops[k][1]: buying the base if the base is the target
                self.cycles[c].legs[k].buy = 1 if self.markets[ms[k]].base == hops[k][1] else 0
                if c not in index[ms[k]]:
                    index[ms[k]].append(c)
            self.cycles[c].last_fire = -(1 << 62)
        pos = 0
        for i in range(self.n_markets):
            self.by_market_start[i] = pos
            for c in index[i]:
                self.by_market[pos] = c
                pos += 1
        self.by_market_start[self.n_markets] = pos
        self.n_found = 0
        self.min_profit_bps = min_profit_bps
        self.max_age_ns = max_age_ns
        self.cooldown_ns = cooldown_ns
        self.require_live = require_live

    def __dealloc__(self):
        PyMem_Free(self.markets)
        PyMem_Free(self.cycles)
        PyMem_Free(self.by_market)
        PyMem_Free(self.by_market_start)
        PyMem_Free(self.balance)
        PyMem_Free(self.found)
        PyMem_Free(self.found_cycle)
        PyMem_Free(self.traded_at)
        PyMem_Free(self.risk_inst)

    # -- configuration ----------------------------------------------------------------------
    def set_balance(self, venue, asset, double amount) -> None:
        """What ``venue`` holds of ``asset`` (caps the legs that spend it); < 0 = unlimited."""
        try:
            v = self._venues.index(venue)
            a = self._assets.index(asset)
        except ValueError:
            raise KeyError(f"no market uses {venue}:{asset}") from None
        self.balance[v * self.n_assets + a] = amount

    def market_index(self, venue, base, quote) -> int:
        try:
            return self._market_keys.index((venue, base, quote))
        except ValueError:
            raise KeyError(f"no market {venue}:{base}/{quote}") from None

    def cycles_of(self, Py_ssize_t market) -> list:
        """Cycle indices that contain ``market`` (the incremental index)."""
        if market < 0 or market >= self.n_markets:
            raise CapacityError(f"no market {market}")
        return [self.by_market[i] for i in
                range(self.by_market_start[market], self.by_market_start[market + 1])]

    # -- evaluation --------------------------------------------------------------------------
    cdef bint usable(self, int market, ns_t now) noexcept nogil:
        cdef BookMeta* m = self.markets[market].m
        if self.require_live and m.state != LIVE:
            return False
        if self.max_age_ns > 0 and now - m.recv_ts > self.max_age_ns:
            return False
        return m.side[0].n > 0 and m.side[1].n > 0

    cdef int evaluate(self, int c, Sized* out) noexcept nogil:
        """1 and ``out`` filled if cycle c beats the threshold at the top of the books."""
        cdef Cycle* cy = &self.cycles[c]
        cdef const Market* mk[3]
        cdef const Side* s[3]
        cdef int buy[3]
        cdef int64_t j[3]
        cdef double used[3]       # consumed of the current level, in spent units
        cdef double spent[3]      # total spent so far per leg
        cdef double bal[3]
        cdef double r[3], lp[3], lc[3], cap, dx, x = 0.0, lim, mult
        cdef double budget, got, notional
        cdef int k, bind
        cdef double product = 1.0
        cdef Market* m
        for k in range(3):
            m = &self.markets[cy.legs[k].market]
            if m.seen != m.m.updates:          # the book changed since its top was cached
                m.seen = m.m.updates
                m.top_buy = rate(m, 1, level_px(m, &m.m.side[1], 0))
                m.top_sell = rate(m, 0, level_px(m, &m.m.side[0], 0))
            product *= m.top_buy if cy.legs[k].buy else m.top_sell
        out.profit_bps = (product - 1.0) * 1e4
        if not out.profit_bps > self.min_profit_bps:
            return 0
        for k in range(3):
            mk[k] = &self.markets[cy.legs[k].market]
            buy[k] = cy.legs[k].buy
            s[k] = leg_side(mk[k], buy[k])
            j[k] = 0
            used[k] = 0.0
            spent[k] = 0.0
            bal[k] = self.balance[mk[k].venue * self.n_assets + cy.assets[k]]
        # walk the three books at once while the marginal cycle rate beats the threshold;
        # a leg's level price, rate and capacity are computed when it reaches that level
        self.threshold = 1.0 + self.min_profit_bps / 1e4
        for k in range(3):
            lp[k] = level_px(mk[k], s[k], 0)
            r[k] = rate(mk[k], buy[k], lp[k])
            lc[k] = capacity(mk[k], buy[k], lp[k], level_qty(mk[k], s[k], 0))
        while True:
            if not r[0] * r[1] * r[2] > self.threshold:
                break
            # the largest step (in units of the start asset) before a level or a balance ends
            dx = -1.0
            bind = -1
            mult = 1.0
            for k in range(3):
                cap = (lc[k] - used[k]) / mult
                if dx < 0.0 or cap < dx:
                    dx = cap
                    bind = k
                if bal[k] >= 0.0:
                    lim = (bal[k] - spent[k]) / mult
                    if lim < dx:
                        dx = lim
                        bind = 3 + k
                mult *= r[k]
            if dx < 0.0:
                dx = 0.0
            mult = 1.0
            for k in range(3):
                used[k] += dx * mult
                spent[k] += dx * mult
                mult *= r[k]
            x += dx
            if bind >= 3:
                break              # a balance is exhausted
            j[bind] += 1
            used[bind] = 0.0
            if j[bind] >= s[bind].n:
                break              # a book is exhausted
            lp[bind] = level_px(mk[bind], s[bind], j[bind])
            r[bind] = rate(mk[bind], buy[bind], lp[bind])
            lc[bind] = capacity(mk[bind], buy[bind], lp[bind],
                                level_qty(mk[bind], s[bind], j[bind]))
        # execute exactly, leg after leg, in whole lots
        budget = x
        for k in range(3):
            if bal[k] >= 0.0 and budget > bal[k]:
                budget = bal[k]
            execute_leg(mk[k], buy[k], budget, &out.qty[k], &spent[k], &got, &notional,
                        &out.limit[k])
            if out.qty[k] == 0 or notional < mk[k].min_notional:
                out.start_amount = 0.0
                out.end_amount = 0.0
                for k in range(3):
                    out.qty[k] = 0
                    out.limit[k] = 0
                return 1
            if k == 0:
                out.start_amount = spent[0]
            budget = got
        out.end_amount = budget
        return 1

    cdef Py_ssize_t run(self, int market, ns_t now, bint fire) noexcept nogil:
        """Evaluate the cycles of ``market`` (all if < 0); results into ``found``."""
        cdef Py_ssize_t i, lo, hi, n = 0
        cdef int c, k
        cdef bint ok
        if market < 0:
            lo = 0
            hi = self.n_cycles
        else:
            lo = self.by_market_start[market]
            hi = self.by_market_start[market + 1]
        for i in range(lo, hi):
            c = <int>i if market < 0 else self.by_market[i]
            ok = True
            for k in range(3):
                if not self.usable(self.cycles[c].legs[k].market, now):
                    ok = False
                    break
            if not ok:
                continue
            if fire and self.cooldown_ns > 0 and now - self.cycles[c].last_fire < self.cooldown_ns:
                continue
            if self.evaluate(c, &self.found[n]):
                self.found_cycle[n] = c
                if fire:
                    self.cycles[c].last_fire = now
                n += 1
        self.n_found = n
        return n

    def set_recorder(self, StageClock clock, int book_stage=1, int signal_stage=2,
                     int risk_stage=-1, int submit_stage=-1) -> None:
        """Let ``on_update`` stamp the stage clock (None: stop): each call begins an event at
        its ``recv_ts`` (stage 0), stamps ``book_stage`` at ``now`` and ``signal_stage`` when
        the evaluation is done; the event id is ``self.event``. ``check_risk`` stamps
        ``risk_stage`` after its check, ``handed_over`` stamps ``submit_stage`` (-1: not).
        One store per stage in C, no Python call per stage (the recorder's cost on the hot
        path, issue 7)."""
        if clock is not None and not (
                0 < book_stage < clock.n_stages and 0 < signal_stage < clock.n_stages
                and (risk_stage == -1 or 0 < risk_stage < clock.n_stages)
                and (submit_stage == -1 or 0 < submit_stage < clock.n_stages)):
            raise CapacityError(f"stages {book_stage}, {signal_stage}, {risk_stage}, "
                                f"{submit_stage} outside the clock's 1..{clock.n_stages - 1}")
        self._clock = clock
        self._book_stage = book_stage
        self._signal_stage = signal_stage
        self._risk_stage = risk_stage
        self._submit_stage = submit_stage
        self.event = -1

    def bind_risk(self, RiskEngine engine, const int32_t[::1] inst_of_market not None,
                  int64_t slip_num=0, int64_t slip_den=1) -> None:
        """Bind the risk engine ``check_risk`` checks on (None: unbind): ``inst_of_market`` is
        the engine's instrument of each market (-1: unknown to it), ``slip_num / slip_den`` the
        limit allowance. The engine must have registered buffers (``use_buffers``) of >= 3
        orders; ``check_risk`` writes its rows at their start."""
        cdef Py_ssize_t m
        if engine is None:
            self._risk = None
            return
        self._slip(slip_num, slip_den)
        if inst_of_market.shape[0] != self.n_markets:
            raise CapacityError(f"inst_of_market has {inst_of_market.shape[0]} entries for "
                                f"{self.n_markets} markets")
        if engine.buf_n < 3:
            raise CapacityError("the engine needs registered buffers of >= 3 orders "
                                "(RiskEngine.use_buffers)")
        for m in range(self.n_markets):
            self.risk_inst[m] = inst_of_market[m]
        self.slip_num = slip_num
        self.slip_den = slip_den
        self._risk = engine

    def check_risk(self, Py_ssize_t i, int64_t first_client_id):
        """Risk-check result i's legs as one list in the bound engine, straight from the
        integers (``write_orders`` rows into the engine's registered buffers, then its
        all-or-nothing check at now). Returns ``legs(i)`` if the list passed (it is committed
        in the engine), None if refused (reason codes in the engine's registered codes)."""
        cdef RiskEngine engine = self._risk
        cdef int k, failed
        cdef int mk[3]
        cdef int b[3]
        cdef lot_t q[3]
        cdef tick_t p[3]
        if engine is None:
            raise CapacityError("no risk engine bound (bind_risk)")
        self._found(i)
        if engine.buf_n < 3:
            raise CapacityError("the engine's registered buffers hold < 3 orders")
        for k in range(3):
            self.leg_values(i, k, self.slip_num, self.slip_den, &mk[k], &b[k], &q[k], &p[k])
            self.write_row(&engine.buf_o[k], mk[k], b[k], q[k], p[k], first_client_id + k,
                           self.risk_inst[mk[k]])
        failed = engine.check_c(engine.buf_o, 3, now_ns(), engine.buf_c)
        if self._clock is not None and self._risk_stage > 0:
            self._clock.stamp(self.event, self._risk_stage, 0)
        if failed:
            return None
        return (mk[0], b[0], q[0], p[0], mk[1], b[1], q[1], p[1], mk[2], b[2], q[2], p[2])

    def rehearse_risk(self) -> int:
        """A dry run of ``check_risk``'s path on the bound engine, to keep it cache-hot: the
        legs of cycle 0 at one lot and their books' touch, checked and never committed (the
        engine's limit state is unchanged). Returns the number of failing legs."""
        cdef RiskEngine engine = self._risk
        cdef int k, mk
        cdef const Leg* leg
        cdef const Side* s
        if engine is None or self.n_cycles == 0 or engine.buf_n < 3:
            return -1
        for k in range(3):
            leg = &self.cycles[0].legs[k]
            mk = leg.market
            s = leg_side(&self.markets[mk], leg.buy)
            self.write_row(&engine.buf_o[k], mk, leg.buy, 1, s.px[s.n - 1] if s.n > 0 else 1,
                           -1 - k, self.risk_inst[mk])
        return engine.check_list(engine.buf_o, 3, now_ns(), engine.buf_c, False)

    cdef void write_row(self, RiskOrder* o, int market, int buy, lot_t qty, tick_t px,
                        int64_t client_id, int32_t inst) noexcept nogil:
        """One limit-order row for the engine; the reference mid is the market's book's."""
        cdef const BookMeta* m = self.markets[market].m
        o.client_id = client_id
        o.price = px
        o.qty = qty
        if m.side[0].n == 0 or m.side[1].n == 0:
            o.ref_mid = 0
        else:
            o.ref_mid = (m.side[0].px[m.side[0].n - 1] + m.side[1].px[m.side[1].n - 1]) // 2
        o.inst = inst
        o.side = <int8_t>(1 if buy else -1)
        o.kind = K_LIMIT

    def on_update(self, Py_ssize_t market, int64_t now=0, bint fire=True,
                  int64_t recv_ts=0) -> int:
        """A book changed: re-evaluate only its cycles; returns how many beat the threshold.

        With ``fire`` (the live default) a cycle that is returned starts its cool-down. With a
        recorder (``set_recorder``) the update is an event stamped recv (``recv_ts``, 0 = now),
        book (``now``) and signal (evaluation done).
        """
        cdef Py_ssize_t n
        cdef int64_t e
        cdef ns_t* row
        cdef StageClock clock = self._clock
        if market < 0 or market >= self.n_markets:
            raise CapacityError(f"no market {market}")
        if now == 0:
            now = now_ns()
        if clock is None:
            return self.run(<int>market, now, fire)
        row = clock.begin_row(recv_ts, &e)
        self.event = e
        row[self._book_stage] = now
        n = self.run(<int>market, now, fire)
        row[self._signal_stage] = now_ns()
        return n

    # -- the chosen opportunity as integers (the order path) -----------------------------
    cdef int _found(self, Py_ssize_t i) except -1:
        if i < 0 or i >= self.n_found:
            raise IndexError(f"opportunity {i} of {self.n_found}")
        return 0

    def pick(self) -> int:
        """The result to trade: the first of the highest marginal profit among those with a
        start amount > 0 none of whose books is unchanged since we last traded on it (until
        the venue publishes the liquidity we took, its book still shows it); -1 if none."""
        cdef Py_ssize_t i, best = -1
        cdef int k, mk
        cdef bint ok
        cdef Sized* f
        for i in range(self.n_found):
            f = &self.found[i]
            if f.start_amount <= 0 or (best >= 0 and f.profit_bps <= self.found[best].profit_bps):
                continue
            ok = True
            for k in range(3):
                mk = self.cycles[self.found_cycle[i]].legs[k].market
                if self.markets[mk].m.updates == self.traded_at[mk]:
                    ok = False
                    break
            if ok:
                best = i
        return best

    def handed_over(self, Py_ssize_t i) -> None:
        """Result i's order list was handed over: its books must show an update before
        ``pick`` takes them again; the recorder's submit stage is stamped now."""
        cdef int k, mk
        self._found(i)
        for k in range(3):
            mk = self.cycles[self.found_cycle[i]].legs[k].market
            self.traded_at[mk] = self.markets[mk].m.updates
        if self._clock is not None and self._submit_stage > 0:
            self._clock.stamp(self.event, self._submit_stage, 0)

    @cython.cdivision(True)
    cdef void leg_values(self, Py_ssize_t i, int k, int64_t slip_num, int64_t slip_den,
                         int* market, int* buy, lot_t* qty,
                         tick_t* px) noexcept nogil:
        """Leg k of result i: market, side, lots and the IOC limit in ticks: the worst price
        walked to, moved by the slippage allowance slip_num / slip_den (buys up, sells down)
        and rounded outward to the tick, exactly (128-bit)."""
        cdef const Leg* leg = &self.cycles[self.found_cycle[i]].legs[k]
        cdef int128_t lim = self.found[i].limit[k]
        market[0] = leg.market
        buy[0] = leg.buy
        qty[0] = self.found[i].qty[k]
        if slip_num == 0 or lim <= 0:
            px[0] = <tick_t>lim
        elif leg.buy:
            px[0] = <tick_t>((lim * (slip_den + slip_num) + slip_den - 1) // slip_den)
        else:
            px[0] = <tick_t>((lim * (slip_den - slip_num)) // slip_den)

    cdef int _slip(self, int64_t slip_num, int64_t slip_den) except -1:
        if slip_den <= 0 or slip_num < 0 or slip_num >= slip_den:
            raise ValueError(f"slippage {slip_num}/{slip_den} must be in [0, 1)")
        return 0

    def legs(self, Py_ssize_t i, int64_t slip_num=0, int64_t slip_den=1) -> tuple:
        """Result i's three legs as (market, buy, lots, limit ticks) x 3, flat (see
        ``leg_values``)."""
        cdef int k
        cdef int mk[3]
        cdef int b[3]
        cdef lot_t q[3]
        cdef tick_t p[3]
        self._found(i)
        self._slip(slip_num, slip_den)
        for k in range(3):
            self.leg_values(i, k, slip_num, slip_den, &mk[k], &b[k], &q[k], &p[k])
        return (mk[0], b[0], q[0], p[0], mk[1], b[1], q[1], p[1], mk[2], b[2], q[2], p[2])

    def write_orders(self, Py_ssize_t i, RiskOrder[::1] out not None,
                     const int32_t[::1] inst_of_market not None, int64_t slip_num,
                     int64_t slip_den, int64_t first_client_id) -> tuple:
        """Result i's legs as risk-engine order rows out[0..2] (ORDER_DTYPE: limit orders,
        client ids first_client_id + k, instrument ``inst_of_market[market]``, reference mid
        of the leg's book); returns ``legs(i, ...)``. No Python object per leg."""
        cdef int k
        cdef int mk[3]
        cdef int b[3]
        cdef lot_t q[3]
        cdef tick_t p[3]
        self._found(i)
        self._slip(slip_num, slip_den)
        if out.shape[0] < 3:
            raise CapacityError(f"order buffer of {out.shape[0]} rows (3 needed)")
        if inst_of_market.shape[0] != self.n_markets:
            raise CapacityError(f"inst_of_market has {inst_of_market.shape[0]} entries for "
                                f"{self.n_markets} markets")
        for k in range(3):
            self.leg_values(i, k, slip_num, slip_den, &mk[k], &b[k], &q[k], &p[k])
            self.write_row(&out[k], mk[k], b[k], q[k], p[k], first_client_id + k,
                           inst_of_market[mk[k]])
        return (mk[0], b[0], q[0], p[0], mk[1], b[1], q[1], p[1], mk[2], b[2], q[2], p[2])

    def evaluate_all(self, int64_t now=0, bint fire=False) -> int:
        """Evaluate every cycle (start-up, research)."""
        if now == 0:
            now = now_ns()
        return self.run(-1, now, fire)

    def bench_updates(self, const int[::1] market_ids, int64_t now=1) -> int:
        """Run ``on_update`` for each market id inside one C loop (no cool-down): measures the
        detector without the Python call. Returns the total number of results found."""
        cdef Py_ssize_t i, total = 0
        for i in range(market_ids.shape[0]):
            if market_ids[i] < 0 or market_ids[i] >= self.n_markets:
                raise CapacityError(f"no market {market_ids[i]}")
        with nogil:
            for i in range(market_ids.shape[0]):
                total += self.run(market_ids[i], now, False)
        return total

    def opportunity(self, Py_ssize_t i):
        """The i-th result of the last evaluation as an Opportunity."""
        if i < 0 or i >= self.n_found:
            raise IndexError(f"opportunity {i} of {self.n_found}")
        cdef Sized* f = &self.found[i]
        cdef int c = self.found_cycle[i]
        cdef Cycle* cy = &self.cycles[c]
        cdef Market* mk
        legs = []
        for k in range(3):
            mk = &self.markets[cy.legs[k].market]
            venue, base, quote = self._market_keys[cy.legs[k].market]
            legs.append(OpportunityLeg(
                venue, base, quote, "buy" if cy.legs[k].buy else "sell",
                units_to_float(f.limit[k], &mk.m.tick) if f.qty[k] else float("nan"),
                units_to_float(f.qty[k], &mk.m.lot)))
        return Opportunity(tuple(self._assets[cy.assets[k]] for k in range(3)), legs,
                           f.profit_bps, f.start_amount, f.end_amount - f.start_amount, c)

    def opportunities(self) -> list:
        """Every result of the last evaluation, best (marginal profit) first."""
        out = [self.opportunity(i) for i in range(self.n_found)]
        out.sort(key=lambda o: (-o.profit_bps, o.cycle))
        return out


def find_arbitrage(books, fees_bps, double min_profit_bps=0.0, balances=None):
    """One-shot search (research, tests) with the live detector: every cycle whose top-of-book
    profit after fees exceeds ``min_profit_bps``, once, best first, sized through the depth.

    ``books``: {(venue, base, quote): OrderBook}; ``fees_bps``: {venue: taker fee};
    ``balances``: optional {(venue, asset): amount} (absent = unlimited). Book states and ages
    are not checked here (the live pipeline checks them).
    """
    rows = []
    if not books:
        return []
    for (venue, base, quote), book in books.items():
        if venue not in fees_bps:
            raise KeyError(f"no fee configured for venue {venue!r}")
        rows.append((venue, base, quote, book, fees_bps[venue]))
    arb = TriArb(rows, min_profit_bps=min_profit_bps, require_live=False)
    for (venue, asset), amount in (balances or {}).items():
        try:
            arb.set_balance(venue, asset, amount)
        except KeyError:
            pass          # a balance no market can spend
    arb.evaluate_all()
    return arb.opportunities()
