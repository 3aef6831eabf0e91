"""The risk engine for instruments priced by quotes (IBKR stocks and FX), not by L2 books.

The engine (``openclaw._core.risk``, docs/risk-api.md) needs a LIVE, fresh book per instrument
for its stale-data and collar checks. Brokers like IBKR give a top of book (bid/ask) per
instrument, or, for a weekly stock rebalance, a reference price; ``QuoteRisk`` keeps a one-level
``OrderBook`` per instrument updated from them (``update_quote``) and otherwise uses the same
engine, the same ``RiskLimits`` models and the same reason codes as the crypto pipeline: nothing
of the checks is duplicated.

``equity_limits`` and ``fx_limits`` build ``RiskLimits`` for these instruments (stocks: base
asset = the symbol, lot 1 share; FX: base/quote currencies, lot 1 unit). A limit in account
currency per position (``max_position_notional``) becomes the engine's quantity cap at the
reference price given when the limits are built.

Balances: the engine debits the paid asset at each accepted check and credits the received one
at each fill; an order canceled unfilled does not give its debit back, so the owner re-reads the
account (``set_balance``) after each batch, as the broker's numbers are the truth.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from openclaw._core.book import OrderBook
from openclaw._core.risk import BUY, LIMIT, REASONS, SELL, RiskEngine, reason_name
from openclaw.model.errors import RiskConfigError
from openclaw.model.orders import Order, Side
from openclaw.risk.limits import RiskIndex, RiskLimits, build_engine

__all__ = ["QuoteRisk", "RiskVerdict", "equity_limits", "fx_limits", "round_to_tick"]

_LIVE = 1
_INVALID_ORDER = REASONS["INVALID_ORDER"]
_BOOK_SIZE = "1000000000"  # nominal depth of the one-level books (limit orders do not walk it)


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """The engine's answer for one order: code 0 passes (and is committed)."""

    code: int
    reason: str  # reason_name(code): "PASS", "NOTIONAL_EXCEEDS_ORDER_LIMIT", ...

    @property
    def passed(self) -> bool:
        """True when the order passed (code 0)."""
        return self.code == 0


def round_to_tick(price: Decimal | float | str, tick: Decimal, up: bool) -> Decimal:
    """``price`` on the tick grid, rounded up (buy limits) or down (sell limits)."""
    q = (Decimal(str(price)) / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return q * tick


def _opt(x: float | Decimal | None) -> str | None:
    return None if x is None else str(x)


def _one_venue(venue: str, max_orders: int | None, interval_ms: int,
               max_open_orders: int | None) -> list[dict[str, object]]:
    """The ``venues`` section of ``RiskLimits`` for the single venue of ``QuoteRisk``."""
    return [{"name": venue, "max_orders": max_orders, "interval_ms": interval_ms,
             "max_open_orders": max_open_orders}]


def equity_limits(
    symbols: Sequence[str],
    ref_prices: Mapping[str, float | Decimal],
    *,
    venue: str = "ibkr",
    currency: str = "USD",
    tick_size: Decimal = Decimal("0.01"),
    max_order_notional: Decimal | None = None,
    max_order_qty: int | None = None,
    max_position_notional: Decimal | None = None,
    collar_bps: Decimal | None = Decimal(500),
    max_book_age_ms: int | None = 60_000,
    max_orders: int | None = 50,
    interval_ms: int = 1000,
    max_open_orders: int | None = None,
    max_gross_exposure: float | None = None,
    daily_loss_limit: float | None = None,
) -> RiskLimits:
    """``RiskLimits`` for US stocks on one venue (one instrument per symbol, lot 1 share).

    ``max_position_notional`` becomes a share cap per symbol, ``floor(cap / ref_price)``.
    """
    if not symbols:
        raise RiskConfigError("symbols", symbols, "at least one symbol")
    insts = []
    for s in symbols:
        cap = None
        if max_position_notional is not None:
            px = Decimal(str(ref_prices[s]))
            if not px.is_finite() or px <= 0:
                raise RiskConfigError("ref_prices", s, f"price {px} is not positive")
            cap = str(math.floor(Decimal(max_position_notional) / px))
        insts.append(
            {
                "venue": venue,
                "symbol": s,
                "base": s,
                "quote": currency,
                "tick_size": str(tick_size),
                "lot_size": "1",
                "max_order_notional": _opt(max_order_notional),
                "max_order_qty": _opt(max_order_qty),
                "max_position": cap,
                "collar_bps": _opt(collar_bps),
                "max_book_age_ms": max_book_age_ms,
            }
        )
    return RiskLimits.model_validate(
        {
            "venues": _one_venue(venue, max_orders, interval_ms, max_open_orders),
            "instruments": insts,
            "max_gross_exposure": max_gross_exposure,
            "daily_loss_limit": daily_loss_limit,
            "max_open_ids": max(4096, 2 * len(insts)),
        }
    )


def fx_limits(
    pairs: Sequence[str],
    *,
    venue: str = "ibkr",
    tick_size: Decimal = Decimal("0.00001"),
    price_increment: Decimal | None = Decimal("0.00005"),
    max_order_qty: int | None = 1_000_000,
    max_position: int | None = 2_000_000,
    max_order_notional: Decimal | None = None,
    collar_bps: Decimal | None = Decimal(20),
    max_book_age_ms: int | None = 2000,
    max_orders: int | None = 10,
    interval_ms: int = 1000,
    max_open_orders: int | None = 4,
    daily_loss_limit: float | None = None,
) -> RiskLimits:
    """``RiskLimits`` for FX pairs written ``"EUR/USD"`` (quantities in base-currency units)."""
    insts = []
    for p in pairs:
        base, sep, quote = p.partition("/")
        if not sep or not base or not quote:
            raise RiskConfigError("pairs", p, "must be written BASE/QUOTE, e.g. EUR/USD")
        insts.append(
            {
                "venue": venue,
                "symbol": p,
                "base": base,
                "quote": quote,
                "tick_size": str(tick_size),
                "lot_size": "1",
                "price_increment": _opt(price_increment),
                "max_order_qty": _opt(max_order_qty),
                "max_position": _opt(max_position),
                "max_order_notional": _opt(max_order_notional),
                "collar_bps": _opt(collar_bps),
                "max_book_age_ms": max_book_age_ms,
            }
        )
    return RiskLimits.model_validate(
        {
            "venues": _one_venue(venue, max_orders, interval_ms, max_open_orders),
            "instruments": insts,
            "daily_loss_limit": daily_loss_limit,
        }
    )


class QuoteRisk:
    """One ``RiskEngine`` for the instruments of one venue, with a one-level book each.

    Times are ``time.monotonic_ns()`` (the books' ``recv_ts`` clock), as for every engine check.
    Not thread-safe: one owner (the event loop) calls it.
    """

    def __init__(self, limits: RiskLimits) -> None:
        if len(limits.venues) != 1:
            raise RiskConfigError("venues", len(limits.venues), "QuoteRisk takes one venue")
        self.limits = limits
        self.engine: RiskEngine = build_engine(limits)
        self.index: RiskIndex = self.engine.index
        self.venue = limits.venues[0].name
        self._v = self.index.venue(self.venue)
        self.books: list[OrderBook] = []
        self._inst: dict[str, int] = {}
        self._ticks: list[Decimal] = []
        for i, spec in enumerate(self.index.specs):
            book = OrderBook(tick_size=str(spec.tick_size), lot_size=str(spec.lot_size),
                             capacity=8)
            self.books.append(book)
            self.engine.bind_book(i, book)
            self._inst[spec.symbol] = i
            self._ticks.append(spec.tick_size)
        self._ids: dict[str, int] = {}

    # ---- lookups ----------------------------------------------------------------------------

    def inst(self, symbol: str) -> int:
        """The engine's instrument index of ``symbol``."""
        try:
            return self._inst[symbol]
        except KeyError:
            raise RiskConfigError("symbol", symbol, "not configured in the risk limits") from None

    def tick_size(self, symbol: str) -> Decimal:
        """The price tick of ``symbol``'s instrument."""
        return self._ticks[self.inst(symbol)]

    def engine_id(self, client_id: str) -> int:
        """The int64 id the engine knows ``client_id`` by (minted on first use)."""
        n = self._ids.get(client_id)
        if n is None:
            n = self._ids[client_id] = len(self._ids) + 1
        return n

    # ---- state ------------------------------------------------------------------------------

    def update_quote(self, symbol: str, bid: float | Decimal | str, ask: float | Decimal | str,
                     recv_ns: int = 0) -> None:
        """Set the instrument's reference book to one bid and one ask (``bid == ask``: a
        reference price, such as a last trade). ``recv_ns``: monotonic ns, 0 = now."""
        i = self.inst(symbol)
        b, a = Decimal(str(bid)), Decimal(str(ask))
        if not (b.is_finite() and a.is_finite()) or b <= 0 or a < b:
            raise RiskConfigError("quote", (symbol, str(bid), str(ask)), "needs 0 < bid <= ask")
        tick = self._ticks[i]
        b = round_to_tick(b, tick, up=False)
        a = round_to_tick(a, tick, up=True)
        book = self.books[i]
        book.apply_snapshot([(str(b), _BOOK_SIZE)], [(str(a), _BOOK_SIZE)],
                            recv_ts=recv_ns or time.monotonic_ns())
        book.state = _LIVE

    def set_balance(self, asset: str, amount: Decimal | int | str) -> None:
        """The free balance of ``asset`` at the venue (cash, or shares held), from the broker."""
        self.engine.set_balance(self._v, self.index.asset(asset),
                                self.index.to_asset_units(asset, Decimal(str(amount))))

    def set_position(self, symbol: str, qty: int | Decimal, price: Decimal | float | str) -> None:
        """Make the engine's position of ``symbol`` equal ``qty`` (from the broker's account),
        as a fill of the difference at ``price``; also sets the base balance to ``max(qty,0)``.
        """
        i = self.inst(symbol)
        lots = self.index.to_lots(i, Decimal(str(qty)))
        d = lots - self.engine.position(i)
        if d:
            ticks = self.index.to_ticks(i, round_to_tick(price, self._ticks[i], up=False))
            self.engine.on_fill(i, BUY if d > 0 else SELL, abs(d), ticks)
        self.set_balance(self.index.specs[i].base, max(Decimal(str(qty)), Decimal(0)))

    def position(self, symbol: str) -> Decimal:
        """The engine's position of ``symbol`` (base units; fills and ``set_position``)."""
        i = self.inst(symbol)
        return self.engine.position(i) * self.index.specs[i].lot_size

    # ---- checks -----------------------------------------------------------------------------

    def check(self, symbol: str, side: Side | str, qty: int | Decimal,
              price: Decimal | str, client_id: str, now_ns: int = 0) -> RiskVerdict:
        """Check one limit order (committed in the engine if it passes)."""
        i = self.inst(symbol)
        s = BUY if Side(side) is Side.BUY else SELL
        try:
            lots = self.index.to_lots(i, Decimal(str(qty)))
            ticks = self.index.to_ticks(i, Decimal(str(price)))
        except RiskConfigError:
            return RiskVerdict(_INVALID_ORDER, reason_name(_INVALID_ORDER))  # off the grid
        mid = self.books[i].mid_ticks()
        code = self.engine.check_order(i, s, lots, ticks, mid, self.engine_id(client_id),
                                       now_ns or time.monotonic_ns(), LIMIT)
        return RiskVerdict(code, reason_name(code))

    def check_fast(self, inst: int, side: int, lots: int, ticks: int, engine_id: int,
                   now_ns: int) -> int:
        """The hot-path form (integers in, code out): reference mid from the instrument's book."""
        return self.engine.check_order(inst, side, lots, ticks, self.books[inst].mid_ticks(),
                                       engine_id, now_ns, LIMIT)

    def on_fill(self, symbol: str, side: Side | str, qty: Decimal | int | str,
                price: Decimal | str, client_id: str | None = None) -> None:
        """A fill of ``qty`` (an increment): moves the position and both assets, and releases
        what that quantity of order ``client_id`` had reserved (price improvement included).
        Without a client id (or for an order the engine does not hold) both assets move just
        the same."""
        i = self.inst(symbol)
        s = BUY if Side(side) is Side.BUY else SELL
        ticks = int((Decimal(str(price)) / self._ticks[i]).to_integral_value())
        n = self._ids.get(client_id, 0) if client_id is not None else 0
        self.engine.on_order_fill(n, i, s, self.index.to_lots(i, Decimal(str(qty))), ticks)

    def on_close(self, client_id: str) -> None:
        """The order is final (filled, canceled, rejected): its id leaves the open-id table."""
        n = self._ids.get(client_id)
        if n is not None:
            self.engine.on_order_close(n)


class QuoteListRisk:
    """A ``QuoteRisk`` as an order manager's pre-trade risk (``check`` a list, ``on_result``):
    each order checked as a limit order (a refused list releases what it had committed), and a
    list's outcome applied once: fills at their average price on the tick grid, final orders
    closed."""

    def __init__(self, risk: QuoteRisk, symbols: Mapping[str, str] | None = None) -> None:
        """``symbols``: the engine's symbol of an order's symbol when they differ (the IBKR
        session's ``EUR.USD`` is the engine's ``EUR/USD``)."""
        self.risk = risk
        self.symbols = dict(symbols or {})

    def check(self, orders: list[Order], now_ns: int = 0) -> str | None:
        """None when every order passes (all committed), else the first refusal's reason."""
        passed: list[str] = []
        for o in orders:
            if o.price is None:
                reason = "INVALID_ORDER"          # the quote engine checks limit orders only
            else:
                sym = self.symbols.get(o.symbol, o.symbol)
                v = self.risk.check(sym, o.side, o.qty, o.price, o.client_id, now_ns)
                if v.passed:
                    passed.append(o.client_id)
                    continue
                reason = v.reason
            for cid in passed:
                self.risk.on_close(cid)
            return reason
        return None

    def on_result(self, orders: list[Order]) -> None:
        """Fills moved into the engine, final orders' reservations released."""
        risk = self.risk
        for o in orders:
            if o.filled_qty > 0 and o.avg_price is not None:
                sym = self.symbols.get(o.symbol, o.symbol)
                risk.on_fill(sym, o.side, o.filled_qty,
                             round_to_tick(o.avg_price, risk.tick_size(sym),
                                           up=o.side is Side.BUY), o.client_id)
            if o.is_final:
                risk.on_close(o.client_id)

