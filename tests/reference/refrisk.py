"""A deliberately simple plain-Python pre-trade risk checker: the oracle for ``RiskEngine``.

Written from the text of docs/risk-api.md, not from risk.pyx. Everything that the contract
states exactly is exact here (Python ints, ``fractions.Fraction``); a list is checked on a
*copy* of the state, leg by leg, and the copy replaces the state only if every leg passed.
Gross exposure is recomputed from scratch over every instrument for every leg, in exact
rationals; the engine uses float64 there, so a comparison within ``TIE`` (relative) of the cap
is recorded in ``self.ties`` and the caller may not compare that example's codes.

Limits use the engine's raw integer units (``set_instrument`` keywords); ``None`` = no limit.
Books are read through the public OrderBook API (``state``, ``recv_ts``, ``top_ticks``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

NAMES = [
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
]
CODE = {n: i for i, n in enumerate(NAMES)}
UNITS_MAX = 2**62 - 1
LIVE = 1
ACTIVE, REDUCING, HALTED = 0, 1, 2
LIMIT, MARKET, CANCEL = 0, 1, 2
TIE = 1e-9


@dataclass
class RefInstrument:
    venue: int
    base: int
    quote: int
    tick: Fraction
    lot: Fraction
    price_mult: int = 1
    lot_mult: int = 1
    min_qty: int = 0
    max_qty: int | None = None
    min_notional: int = 0
    max_notional: int | None = None
    max_order_qty: int | None = None
    max_order_notional: int | None = None
    collar_e8: int | None = None
    max_book_age_ns: int | None = None
    max_position: int | None = None
    quote_factor: int = 1
    base_factor: int = 1


@dataclass
class RefVenue:
    max_orders: int | None = None
    interval_ns: int = 10**9
    max_open: int | None = None


@dataclass
class RefState:
    pos: dict[int, int] = field(default_factory=dict)
    mark: dict[int, int] = field(default_factory=dict)
    avg: dict[int, Fraction] = field(default_factory=dict)
    bal: dict[tuple[int, int], int] = field(default_factory=dict)
    open: dict[int, int] = field(default_factory=dict)
    ids: dict[int, int] = field(default_factory=dict)  # client id -> venue
    # client id -> [balance key, reservation per lot, reservation still held]
    res: dict[int, list[Any]] = field(default_factory=dict)
    tokens: dict[int, Fraction] = field(default_factory=dict)  # whole tokens
    last: dict[int, int] = field(default_factory=dict)
    pnl: Fraction = Fraction(0)
    state: int = ACTIVE


class RefRisk:
    def __init__(
        self,
        n_inst: int,
        n_venues: int,
        n_assets: int,
        max_open_ids: int = 4096,
        max_list_len: int = 16,
    ) -> None:
        self.n_inst, self.n_venues, self.n_assets = n_inst, n_venues, n_assets
        self.max_open_ids, self.max_list_len = max_open_ids, max_list_len
        self.inst: dict[int, RefInstrument] = {}
        self.venues = {v: RefVenue() for v in range(n_venues)}
        self.values = {a: 1.0 for a in range(n_assets)}
        self.books: dict[int, Any] = {}
        self.max_gross: float | None = None
        self.loss_limit: float | None = None
        self.s = RefState()
        self.ties: list[str] = []

    # ---- config ----
    def set_venue(
        self, v: int, max_orders: int | None, interval_ns: int, max_open: int | None
    ) -> None:
        self.venues[v] = RefVenue(max_orders, interval_ns, max_open)
        self.s.tokens[v] = Fraction(max_orders or 0)
        self.s.last[v] = 0

    def set_instrument(self, i: int, spec: RefInstrument) -> None:
        self.inst[i] = spec

    # ---- state ----
    def weight(self, i: int) -> Fraction:
        spec = self.inst[i]
        return spec.tick * spec.lot * Fraction(self.values[spec.quote])

    def gross(self, pos: dict[int, int], marks: dict[int, int]) -> Fraction:
        return sum(
            (abs(pos.get(i, 0)) * marks.get(i, 0) * self.weight(i) for i in self.inst),
            Fraction(0),
        )

    def add_pnl(self, amount: Fraction) -> None:
        self.s.pnl += amount
        if self.loss_limit is not None and self.s.state != HALTED:
            lim = -Fraction(self.loss_limit)
            if abs(self.s.pnl - lim) <= TIE * max(1, abs(lim)):
                self.ties.append("loss limit")
            if self.s.pnl <= lim:
                self.s.state = HALTED

    def on_fill(self, i: int, side: int, qty: int, price: int) -> None:
        spec, s = self.inst[i], self.s
        p = s.pos.get(i, 0)
        d = side * qty
        avg = s.avg.get(i, Fraction(0))
        if p == 0 or (p > 0) == (d > 0):
            s.avg[i] = (avg * abs(p) + price * qty) / (abs(p) + qty)
        else:
            closed = min(qty, abs(p))
            sign = 1 if p > 0 else -1
            self.add_pnl(closed * (price - avg) * sign * self.weight(i))
            if p + d == 0:
                s.avg[i] = Fraction(0)
            elif (p + d > 0) != (p > 0):
                s.avg[i] = Fraction(price)
        s.pos[i] = max(-UNITS_MAX, min(UNITS_MAX, p + d))
        if side > 0:
            key = (spec.venue, spec.base)
            s.bal[key] = s.bal.get(key, 0) + qty * spec.base_factor
        else:
            key = (spec.venue, spec.quote)
            s.bal[key] = s.bal.get(key, 0) + price * qty * spec.quote_factor
        if s.mark.get(i, 0) == 0:
            s.mark[i] = price

    def reserved(self, key: tuple[int, int]) -> int:
        return sum(r[2] for r in self.s.res.values() if r[0] == key)

    def set_balance(self, v: int, a: int, units: int) -> None:
        """The venue's balance: free is that less what open orders reserve."""
        self.s.bal[(v, a)] = units - self.reserved((v, a))

    def on_order_fill(self, cid: int, i: int, side: int, qty: int, price: int,
                      quote_units: int = -1, fee_asset: int = -1, fee_units: int = 0) -> bool:
        """A fill of an order: both assets move, the fee is taken, and what the filled
        quantity had reserved goes back to free (the real spend was taken above)."""
        spec, s = self.inst[i], self.s
        bal_before = dict(s.bal)
        self.on_fill(i, side, qty, price)        # position, pnl, mark (and the legacy credit)
        s.bal = bal_before
        cost = price * qty * spec.quote_factor if quote_units < 0 else quote_units
        bk, qk = (spec.venue, spec.base), (spec.venue, spec.quote)
        sign = 1 if side > 0 else -1
        s.bal[bk] = s.bal.get(bk, 0) + sign * qty * spec.base_factor
        s.bal[qk] = s.bal.get(qk, 0) - sign * cost
        found = cid in s.ids
        if cid in s.res:
            key, per_lot, held = s.res[cid]
            part = min(held, per_lot * qty)
            s.res[cid][2] = held - part
            s.bal[key] = s.bal.get(key, 0) + part
        if fee_asset >= 0 and fee_units:
            fk = (spec.venue, fee_asset)
            s.bal[fk] = s.bal.get(fk, 0) - fee_units
        return found

    def on_order_open(self, cid: int, venue: int) -> bool:
        if cid in self.s.ids:
            return False
        self.s.ids[cid] = venue
        self.s.open[venue] = self.s.open.get(venue, 0) + 1
        return True

    def on_order_close(self, cid: int) -> bool:
        if cid not in self.s.ids:
            return False
        v = self.s.ids.pop(cid)
        self.s.open[v] = max(0, self.s.open.get(v, 0) - 1)
        held = self.s.res.pop(cid, None)
        if held is not None:
            self.s.bal[held[0]] = self.s.bal.get(held[0], 0) + held[2]
        return True

    # ---- the check ----
    def bucket(self, t: RefState, v: int, now: int) -> Fraction:
        ven = self.venues[v]
        dt = max(0, now - t.last.get(v, 0))
        full = Fraction(ven.max_orders)
        return min(full, t.tokens.get(v, full) + Fraction(dt * ven.max_orders, ven.interval_ns))

    def protective(self, book: Any, side: int, qty: int, mult: int) -> int | None:
        bid_px, bid_q, ask_px, ask_q = book.top_ticks(10**6)
        px, q = (ask_px, ask_q) if side > 0 else (bid_px, bid_q)
        rem, worst = qty, None
        for level_px, level_q in zip(px.tolist(), q.tolist(), strict=True):
            if rem <= 0:
                break
            rem -= min(rem, level_q)
            worst = level_px
        if rem > 0 or worst is None:
            return None
        if side > 0:
            worst = -(-worst // mult) * mult
        else:
            worst = worst // mult * mult
        return worst if 0 < worst <= UNITS_MAX else None

    def leg(
        self, t: RefState, o: list[int], earlier: list[list[int]], mids: dict[int, int], now: int
    ) -> int:
        cid, price, qty, mid, i, side, kind = o
        if i not in self.inst:
            return CODE["UNKNOWN_INSTRUMENT"]
        spec = self.inst[i]
        if kind == CANCEL:
            return 0
        if (
            kind not in (LIMIT, MARKET)
            or side not in (1, -1)
            or not 0 < qty <= UNITS_MAX
            or cid == 0
            or (kind == LIMIT and not 0 < price <= UNITS_MAX)
        ):
            return CODE["INVALID_ORDER"]
        if t.state == HALTED:
            return CODE["TRADING_HALTED"]
        if kind == LIMIT and price % spec.price_mult:
            return CODE["PRICE_NOT_ON_TICK"]
        if qty % spec.lot_mult:
            return CODE["QTY_NOT_ON_LOT"]
        if qty < spec.min_qty:
            return CODE["QTY_BELOW_MIN"]
        if spec.max_qty is not None and qty > spec.max_qty:
            return CODE["QTY_ABOVE_MAX"]
        if spec.max_order_qty is not None and qty > spec.max_order_qty:
            return CODE["QTY_EXCEEDS_ORDER_LIMIT"]
        book = self.books.get(i)
        if book is None:
            return CODE["NO_MARKET_DATA"]
        if book.state != LIVE:
            return CODE["BOOK_NOT_LIVE"]
        if spec.max_book_age_ns is not None and now - book.recv_ts > spec.max_book_age_ns:
            return CODE["BOOK_STALE"]
        if not 0 < mid <= UNITS_MAX:
            return CODE["NO_REFERENCE_PRICE"]
        if kind == MARKET:
            px = self.protective(book, side, qty, spec.price_mult)
            o[1] = px or 0
            if px is None:
                return CODE["INSUFFICIENT_LIQUIDITY"]
            price = px
        if spec.collar_e8 is not None and abs(price - mid) * 10**8 > spec.collar_e8 * mid:
            return CODE["PRICE_OUTSIDE_COLLAR"]
        notional = price * qty
        if notional < spec.min_notional:
            return CODE["NOTIONAL_BELOW_MIN"]
        if spec.max_notional is not None and notional > spec.max_notional:
            return CODE["NOTIONAL_ABOVE_MAX"]
        if spec.max_order_notional is not None and notional > spec.max_order_notional:
            return CODE["NOTIONAL_EXCEEDS_ORDER_LIMIT"]
        p = t.pos.get(i, 0)
        a = p + side * qty
        reduces = p * side < 0 and qty <= abs(p)
        if t.state == REDUCING and not reduces:
            return CODE["REDUCE_ONLY"]
        if not reduces and (
            abs(a) > UNITS_MAX or (spec.max_position is not None and abs(a) > spec.max_position)
        ):
            return CODE["POSITION_LIMIT"]
        grows = abs(a) > abs(p)
        if self.max_gross is not None and grows:
            marks = {**t.mark, **mids, i: mid}
            after = self.gross({**t.pos, i: a}, marks)
            cap = Fraction(self.max_gross)
            if abs(after - cap) <= TIE * max(1, cap):
                self.ties.append(f"gross {float(after)} vs {float(cap)}")
            if after > cap:
                return CODE["GROSS_EXPOSURE_LIMIT"]
        if side > 0:
            key, need = (spec.venue, spec.quote), notional * spec.quote_factor
            per_lot = notional // qty * spec.quote_factor  # = limit * quote_factor
        else:
            key, need = (spec.venue, spec.base), qty * spec.base_factor
            per_lot = spec.base_factor
        if need > t.bal.get(key, 0):
            return CODE["INSUFFICIENT_BALANCE"]
        ven = self.venues[spec.venue]
        if ven.max_open is not None and t.open.get(spec.venue, 0) + 1 > ven.max_open:
            return CODE["MAX_OPEN_ORDERS"]
        if ven.max_orders is not None and self.bucket(t, spec.venue, now) < 1:
            return CODE["RATE_LIMITED"]
        if cid in t.ids:
            return CODE["DUPLICATE_ORDER_ID"]
        if len(t.ids) + 1 > self.max_open_ids:
            return CODE["ID_TABLE_FULL"]
        # the leg passes: the tentative state takes what it uses
        t.pos[i] = a
        mids[i] = mid
        t.bal[key] = t.bal.get(key, 0) - need
        t.open[spec.venue] = t.open.get(spec.venue, 0) + 1
        if ven.max_orders is not None:
            t.tokens[spec.venue] = self.bucket(t, spec.venue, now) - 1
            t.last[spec.venue] = max(t.last.get(spec.venue, 0), now)
        t.ids[cid] = spec.venue
        t.res[cid] = [key, per_lot, need]
        return 0

    def check(self, orders: list[list[int]], now: int) -> tuple[list[int], int]:
        """Codes per order and the number of failing legs; MARKET prices written into orders."""
        n = len(orders)
        if n == 0:
            return [], 0
        if n > self.max_list_len:
            return [CODE["LIST_TOO_LONG"]] * n, n
        t = copy.deepcopy(self.s)
        mids: dict[int, int] = {}
        codes = []
        for k, o in enumerate(orders):
            codes.append(self.leg(t, o, orders[:k], mids, now))
        failed = sum(1 for c in codes if c != 0)
        if failed:
            return [c if c else CODE["LIST_REJECTED"] for c in codes], failed
        # commit: everything but the positions (they move on fills only)
        t.pos = self.s.pos
        self.s = t
        return codes, 0
