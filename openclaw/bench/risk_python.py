"""A plain-Python pre-trade risk checker with the same contract as ``RiskEngine``.

The baseline of the risk benchmark (``openclaw.bench.signal_risk``): what a careful Python
implementation of docs/risk-api.md looks like. Python ints (exact, no overflow), ``__slots__``
records, per-check dicts for the use of the earlier legs of a list (no deep copies), the same
method names and keywords as ``RiskEngine`` so the benchmark and the tests drive both alike.
Orders are mutable sequences ``[client_id, price, qty, ref_mid, inst, side, kind]``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from openclaw._core.risk import REASONS

UNITS_MAX = 2**62 - 1
LIMIT, MARKET, CANCEL = 0, 1, 2
ACTIVE, REDUCING, HALTED = 0, 1, 2
_R = REASONS
PASS = 0
LIST_REJECTED = _R["LIST_REJECTED"]


class _Inst:
    __slots__ = (
        "venue",
        "base",
        "quote",
        "price_mult",
        "lot_mult",
        "min_qty",
        "max_qty",
        "min_notional",
        "max_notional",
        "max_order_qty",
        "max_order_notional",
        "collar_e8",
        "max_book_age",
        "max_position",
        "quote_factor",
        "base_factor",
        "unit_value",
    )

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


class _Venue:
    __slots__ = ("max_orders", "interval", "max_open", "tokens", "last", "open")

    def __init__(self) -> None:
        self.max_orders, self.interval, self.max_open = -1, 10**9, -1
        self.tokens, self.last, self.open = 0, 0, 0


class PyRiskEngine:
    """Pre-trade risk in plain Python (see ``openclaw._core.risk.RiskEngine`` for the API)."""

    def __init__(
        self,
        n_instruments: int,
        n_venues: int,
        n_assets: int,
        max_open_ids: int = 4096,
        max_list_len: int = 16,
    ) -> None:
        self.n_instruments, self.n_venues, self.n_assets = n_instruments, n_venues, n_assets
        self.max_open_ids, self.max_list_len = max_open_ids, max_list_len
        self.inst: list[_Inst | None] = [None] * n_instruments
        self.venues = [_Venue() for _ in range(n_venues)]
        self.books: list[Any] = [None] * n_instruments
        self.asset_value = [1.0] * n_assets
        self.max_gross = -1.0
        self.loss_limit = -1.0
        self.pos = [0] * n_instruments
        self.mark_px = [0] * n_instruments
        self.avg = [0.0] * n_instruments
        self.contrib = [0.0] * n_instruments
        self.gross = 0.0
        self.bal: dict[tuple[int, int], int] = {}   # free: venue balance - reservations
        self.rsv: dict[tuple[int, int], int] = {}   # open orders' reservations
        self.res: dict[int, tuple[tuple[int, int], int]] = {}  # client id -> (slot, reserved)
        self.res_per_lot: dict[int, int] = {}                    # client id -> reserve per lot
        self.ids: dict[int, int] = {}
        self.day_pnl = 0.0
        self.state = ACTIVE
        self._adj_sum = 0.0

    # ---- limits ----
    def set_venue(
        self, v: int, *, max_orders: int = -1, interval_ns: int = 10**9, max_open_orders: int = -1
    ) -> None:
        ven = self.venues[v]
        ven.max_orders, ven.interval, ven.max_open = max_orders, interval_ns, max_open_orders
        ven.tokens, ven.last = (max_orders * interval_ns if max_orders > 0 else 0), 0

    def set_instrument(
        self,
        i: int,
        *,
        venue: int,
        base: int,
        quote: int,
        tick_size: str,
        lot_size: str,
        price_mult: int = 1,
        lot_mult: int = 1,
        min_qty: int = 0,
        max_qty: int = -1,
        min_notional: int = 0,
        max_notional: int = -1,
        max_order_qty: int = -1,
        max_order_notional: int = -1,
        collar_e8: int = -1,
        max_book_age_ns: int = -1,
        max_position: int = -1,
        quote_factor: int = 1,
        base_factor: int = 1,
    ) -> None:
        def cap(x: int) -> float | int:
            return float("inf") if x < 0 else x

        self.inst[i] = _Inst(
            venue=venue,
            base=base,
            quote=quote,
            price_mult=price_mult,
            lot_mult=lot_mult,
            min_qty=min_qty,
            max_qty=cap(max_qty),
            min_notional=min_notional,
            max_notional=cap(max_notional),
            max_order_qty=cap(max_order_qty),
            max_order_notional=cap(max_order_notional),
            collar_e8=collar_e8,
            max_book_age=max_book_age_ns,
            max_position=cap(max_position),
            quote_factor=quote_factor,
            base_factor=base_factor,
            unit_value=float(Fraction(tick_size) * Fraction(lot_size)),
        )
        self._recompute_gross()

    def set_global_limits(
        self, max_gross_exposure: float = -1.0, daily_loss_limit: float = -1.0
    ) -> None:
        self.max_gross, self.loss_limit = max_gross_exposure, daily_loss_limit

    def set_asset_value(self, a: int, value: float) -> None:
        self.asset_value[a] = value
        self._recompute_gross()

    def bind_book(self, i: int, book: Any) -> None:
        self.books[i] = book

    # ---- state ----
    def set_balance(self, venue: int, asset: int, units: int) -> None:
        self.bal[(venue, asset)] = units - self.rsv.get((venue, asset), 0)

    def balance(self, venue: int, asset: int) -> int:
        return self.bal.get((venue, asset), 0)

    def set_mark(self, inst: int, price: int) -> None:
        self.mark_px[inst] = price
        self._recompute_gross()

    def add_pnl(self, amount: float) -> None:
        self.day_pnl += amount
        if 0.0 <= self.loss_limit and self.day_pnl <= -self.loss_limit and self.state != HALTED:
            self.state = HALTED

    def set_trading_state(self, state: int) -> None:
        self.state = state

    def on_order_open(self, client_id: int, venue: int) -> bool:
        if client_id in self.ids:
            return False
        self.ids[client_id] = venue
        self.venues[venue].open += 1
        return True

    def on_order_close(self, client_id: int) -> bool:
        venue = self.ids.pop(client_id, None)
        if venue is None:
            return False
        held = self.res.pop(client_id, None)
        self.res_per_lot.pop(client_id, None)
        if held is not None:
            key, amount = held
            self.rsv[key] -= amount
            self.bal[key] = self.bal.get(key, 0) + amount
        if self.venues[venue].open > 0:
            self.venues[venue].open -= 1
        return True

    def on_order_fill(self, client_id: int, inst: int, side: int, qty: int, price: int,
                      quote_units: int = -1, fee_asset: int = -1, fee_units: int = 0) -> bool:
        """A fill of an order: both assets and the fee move; the filled part's reservation
        goes back to free."""
        spec = self.inst[inst]
        assert spec is not None
        saved = dict(self.bal)
        self.on_fill(inst, side, qty, price)
        self.bal = saved
        cost = price * qty * spec.quote_factor if quote_units < 0 else quote_units
        sign = 1 if side > 0 else -1
        bk, qk = (spec.venue, spec.base), (spec.venue, spec.quote)
        self.bal[bk] = self.bal.get(bk, 0) + sign * qty * spec.base_factor
        self.bal[qk] = self.bal.get(qk, 0) - sign * cost
        held = self.res.get(client_id)
        if held is not None:
            key, amount = held
            part = min(amount, self.res_per_lot[client_id] * qty)
            self.res[client_id] = (key, amount - part)
            self.rsv[key] -= part
            self.bal[key] = self.bal.get(key, 0) + part
        if fee_asset >= 0 and fee_units:
            fk = (spec.venue, fee_asset)
            self.bal[fk] = self.bal.get(fk, 0) - fee_units
        return client_id in self.ids

    def on_fill(self, inst: int, side: int, qty: int, price: int) -> None:
        spec = self.inst[inst]
        assert spec is not None
        w = spec.unit_value * self.asset_value[spec.quote]
        p = self.pos[inst]
        d = side * qty
        newp = max(-UNITS_MAX, min(UNITS_MAX, p + d))
        if p == 0 or (p > 0) == (d > 0):
            self.avg[inst] = (self.avg[inst] * abs(p) + price * qty) / (abs(p) + qty)
        else:
            pnl = min(qty, abs(p)) * (price - self.avg[inst]) * w
            self.add_pnl(pnl if p > 0 else -pnl)
            if newp == 0:
                self.avg[inst] = 0.0
            elif (newp > 0) != (p > 0):
                self.avg[inst] = float(price)
        self.pos[inst] = newp
        if side > 0:
            key = (spec.venue, spec.base)
            self.bal[key] = min(self.bal.get(key, 0) + qty * spec.base_factor, 2**63 - 1)
        else:
            key = (spec.venue, spec.quote)
            self.bal[key] = min(self.bal.get(key, 0) + price * qty * spec.quote_factor, 2**63 - 1)
        if self.mark_px[inst] == 0:
            self.mark_px[inst] = price
        self._recompute_gross()

    def _recompute_gross(self) -> None:
        g = 0.0
        for i, spec in enumerate(self.inst):
            c = 0.0
            if spec is not None:
                c = (
                    float(abs(self.pos[i]))
                    * float(self.mark_px[i])
                    * (spec.unit_value * self.asset_value[spec.quote])
                )
            self.contrib[i] = c
            g += c
        self.gross = g

    def _refill(self, ven: _Venue, now: int) -> int:
        dt = now - ven.last
        if dt <= 0:
            return ven.tokens
        cap = ven.max_orders * ven.interval
        if dt >= ven.interval:
            return cap
        return min(cap, ven.tokens + dt * ven.max_orders)

    def _protective(self, book: Any, side: int, qty: int, mult: int) -> int:
        bid_px, bid_q, ask_px, ask_q = book.top_ticks(1 << 30)
        px, sizes = (ask_px, ask_q) if side > 0 else (bid_px, bid_q)
        rem, worst = qty, 0
        for level_px, level_q in zip(px.tolist(), sizes.tolist(), strict=True):
            if rem <= 0:
                break
            rem -= level_q if level_q < rem else rem
            worst = level_px
        if rem > 0 or worst <= 0:
            return 0
        r = worst % mult
        if r:
            worst = worst - r + mult if side > 0 else worst - r
        return worst if 0 < worst <= UNITS_MAX else 0

    # ---- the check ----
    def check(self, orders: list[list[int]], codes: list[int], now: int) -> int:
        """Check ``orders`` as one all-or-nothing list; codes into ``codes``; 0 = committed."""
        n = len(orders)
        if n == 0:
            return 0
        if n > self.max_list_len:
            for k in range(n):
                codes[k] = _R["LIST_TOO_LONG"]
            return n
        cum: dict[int, int] = {}
        adj: dict[int, float] = {}
        used: dict[tuple[int, int], int] = {}
        vcnt: dict[int, int] = {}
        vtok: dict[int, int] = {}
        taken: set[int] = set()
        needs: list[tuple[tuple[int, int], int] | None] = []
        self._adj_sum = 0.0
        failed = 0
        for k in range(n):
            code, need = self._leg(orders[k], now, cum, adj, used, vcnt, vtok, taken)
            codes[k] = code
            needs.append(need)
            if code:
                failed += 1
        if failed:
            for k in range(n):
                if codes[k] == PASS:
                    codes[k] = LIST_REJECTED
            return failed
        for k in range(n):
            need = needs[k]
            if need is None:
                continue
            key, amount = need
            self.bal[key] = self.bal.get(key, 0) - amount
            self.rsv[key] = self.rsv.get(key, 0) + amount
            self.res[orders[k][0]] = (key, amount)
            self.res_per_lot[orders[k][0]] = amount // orders[k][2]   # need / lots, exact
            self.ids[orders[k][0]] = key[0]
        for v, cnt in vcnt.items():
            ven = self.venues[v]
            ven.open += cnt
            if ven.max_orders >= 0:
                ven.tokens = vtok[v]
                if now > ven.last:
                    ven.last = now
        return 0

    def _leg(
        self,
        o: list[int],
        now: int,
        cum: dict,
        adj: dict,
        used: dict,
        vcnt: dict,
        vtok: dict,
        taken: set,
    ) -> tuple[int, Any]:
        """Reason code of one leg given the earlier passing legs (and what it takes)."""
        cid, price, qty, mid, i, side, kind = o
        if not 0 <= i < self.n_instruments or self.inst[i] is None:
            return _R["UNKNOWN_INSTRUMENT"], None
        spec = self.inst[i]
        if kind == CANCEL:
            return PASS, None
        if (
            kind not in (LIMIT, MARKET)
            or side not in (1, -1)
            or not 0 < qty <= UNITS_MAX
            or cid == 0
            or (kind == LIMIT and not 0 < price <= UNITS_MAX)
        ):
            return _R["INVALID_ORDER"], None
        if self.state == HALTED:
            return _R["TRADING_HALTED"], None
        if kind == LIMIT and price % spec.price_mult:
            return _R["PRICE_NOT_ON_TICK"], None
        if qty % spec.lot_mult:
            return _R["QTY_NOT_ON_LOT"], None
        if qty < spec.min_qty:
            return _R["QTY_BELOW_MIN"], None
        if qty > spec.max_qty:
            return _R["QTY_ABOVE_MAX"], None
        if qty > spec.max_order_qty:
            return _R["QTY_EXCEEDS_ORDER_LIMIT"], None
        book = self.books[i]
        if book is None:
            return _R["NO_MARKET_DATA"], None
        if book.state != 1:
            return _R["BOOK_NOT_LIVE"], None
        if spec.max_book_age >= 0 and now - book.recv_ts > spec.max_book_age:
            return _R["BOOK_STALE"], None
        if not 0 < mid <= UNITS_MAX:
            return _R["NO_REFERENCE_PRICE"], None
        if kind == MARKET:
            price = self._protective(book, side, qty, spec.price_mult)
            o[1] = price
            if not price:
                return _R["INSUFFICIENT_LIQUIDITY"], None
        if spec.collar_e8 >= 0 and abs(price - mid) * 100_000_000 > spec.collar_e8 * mid:
            return _R["PRICE_OUTSIDE_COLLAR"], None
        notional = price * qty
        if notional < spec.min_notional:
            return _R["NOTIONAL_BELOW_MIN"], None
        if notional > spec.max_notional:
            return _R["NOTIONAL_ABOVE_MAX"], None
        if notional > spec.max_order_notional:
            return _R["NOTIONAL_EXCEEDS_ORDER_LIMIT"], None
        p = self.pos[i] + cum.get(i, 0)
        d = side * qty
        a = p + d
        reduces = (p > 0 > d or p < 0 < d) and qty <= abs(p)
        if self.state == REDUCING and not reduces:
            return _R["REDUCE_ONLY"], None
        if not reduces and (abs(a) > spec.max_position or abs(a) > UNITS_MAX):
            return _R["POSITION_LIMIT"], None
        w = spec.unit_value * self.asset_value[spec.quote]
        adj_old = adj.get(i, 0.0)
        new_adj = float(abs(a)) * float(mid) * w - self.contrib[i]
        if self.max_gross >= 0.0 and abs(a) > abs(p):
            if self.gross + (self._adj_sum - adj_old) + new_adj > self.max_gross:
                return _R["GROSS_EXPOSURE_LIMIT"], None
        if side > 0:
            key, need = (spec.venue, spec.quote), notional * spec.quote_factor
        else:
            key, need = (spec.venue, spec.base), qty * spec.base_factor
        if need + used.get(key, 0) > self.bal.get(key, 0):
            return _R["INSUFFICIENT_BALANCE"], None
        v = spec.venue
        ven = self.venues[v]
        cnt = vcnt.get(v, 0)
        if ven.max_open >= 0 and ven.open + cnt + 1 > ven.max_open:
            return _R["MAX_OPEN_ORDERS"], None
        tok = 0
        if ven.max_orders >= 0:
            tok = vtok[v] if v in vtok else self._refill(ven, now)
            if tok < ven.interval:
                return _R["RATE_LIMITED"], None
        if cid in self.ids or cid in taken:
            return _R["DUPLICATE_ORDER_ID"], None
        if len(self.ids) + len(taken) + 1 > self.max_open_ids:
            return _R["ID_TABLE_FULL"], None
        cum[i] = cum.get(i, 0) + d
        adj[i] = new_adj
        self._adj_sum += new_adj - adj_old
        used[key] = used.get(key, 0) + need
        vcnt[v] = cnt + 1
        if ven.max_orders >= 0:
            vtok[v] = tok - ven.interval
        taken.add(cid)
        return PASS, (key, need)

    # ---- reads ----
    def position(self, inst: int) -> int:
        return self.pos[inst]

    def open_orders(self, venue: int) -> int:
        return self.venues[venue].open

    @property
    def n_open_ids(self) -> int:
        return len(self.ids)

    @property
    def trading_state(self) -> int:
        return self.state
