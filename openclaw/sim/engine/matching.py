"""Order matching of the simulated venues against the simulator's own books.

One ``MatchingEngine`` per venue server.  Incoming orders trade against the same ``SimBook`` the
venue's WebSocket publishes (``SyntheticMarket.book``):

* market, IOC, FOK and the crossing part of GTC limit orders are **takers**: they walk the
  opposite side best price first, fill at the resting levels' prices (never better than a limit
  price), partially when the depth is short; the consumed size is removed from the book and handed
  to ``publish`` as a ``BookDiff`` (the venue sends it as a depth update, so feeds stay in sync);
* the rest of a GTC limit order **rests**: it is an open order with its funds locked, invisible
  to the public book (the synthetic market owns its levels).  When the market later moves through
  its price (best ask <= buy price, best bid >= sell price) it fills as **maker** at its own price,
  up to the size the crossing levels show; the book is not changed by maker fills;
* post-only orders that would take are rejected (Binance) or created and cancelled (OKX, Bybit);
* balances move with every fill: the buyer pays quote and receives base, the fee (taker or maker
  rate) is charged in the asset received, amounts rounded half-up to 8 decimals.

Plain Python, integer ticks and lots inside, ``Decimal`` at the edges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from openclaw.sim.engine.accounts import (
    Account,
    InsufficientBalance,
    fmt_trim,
    quantize,
    quantize_up,
    to_decimal,
)
from openclaw.sim.engine.market import ASK, BID, BookDiff, InstrumentSpec, SimBook, SyntheticMarket

__all__ = [
    "FINAL",
    "Fill",
    "MatchingEngine",
    "Order",
    "OrderError",
    "Rules",
    "default_rules",
]

ZERO = Decimal(0)

#: Order states that never change again.
FINAL = frozenset({"filled", "canceled", "expired", "rejected"})

#: Why an order is refused (``OrderError.reason``); each venue maps these to its own codes.
REASONS = (
    "insufficient_balance",
    "duplicate_client_id",
    "tick_size",
    "lot_size",
    "min_qty",
    "max_qty",
    "min_notional",
    "bad_price",
    "would_take",
)


class OrderError(Exception):
    """An order the venue refuses before it exists (``reason`` is one of ``REASONS``)."""

    def __init__(self, reason: str, message: str = "", **info: Any) -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.info = info


def now_ms() -> int:
    """Wall-clock milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Rules:
    """Trading rules of one instrument (what the venues publish as filters)."""

    tick: Decimal
    lot: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    min_price: Decimal
    max_price: Decimal


#: Smallest order per base asset and smallest notional per quote asset (our defaults; each is
#: raised to at least one lot).
MIN_QTY = {"BTC": Decimal("0.00001"), "ETH": Decimal("0.0001")}
MIN_NOTIONAL = {"USDT": Decimal("5"), "BTC": Decimal("0.0001")}
MAX_QTY = Decimal("9000")
MAX_NOTIONAL = Decimal("9000000")


def default_rules(spec: InstrumentSpec) -> Rules:
    """Rules of an instrument: its tick and lot, plus the defaults above."""
    base, quote = spec.symbol.split("/")
    tick, lot = Decimal(spec.tick), Decimal(spec.lot)
    min_qty = max(MIN_QTY.get(base, lot), lot)
    min_qty = (min_qty / lot).to_integral_value(rounding="ROUND_CEILING") * lot
    return Rules(
        tick=tick,
        lot=lot,
        min_qty=min_qty.normalize(),
        max_qty=MAX_QTY,
        min_notional=MIN_NOTIONAL.get(quote, ZERO),
        max_notional=MAX_NOTIONAL,
        min_price=tick,
        max_price=Decimal("1000000"),
    )


@dataclass
class Fill:
    """One execution of one of our orders."""

    id: int
    order_id: int
    client_id: str
    symbol: str  # venue symbol
    side: str  # "buy" | "sell"
    price: Decimal
    qty: Decimal
    quote: Decimal  # price * qty, rounded to 8 decimals
    fee: Decimal
    fee_asset: str
    fee_rate: Decimal
    maker: bool
    ts: int

    def as_dict(self) -> dict[str, Any]:
        """Plain strings (for ``GET /_sim/orders``)."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "side": self.side,
            "price": fmt_trim(self.price),
            "qty": fmt_trim(self.qty),
            "quote": fmt_trim(self.quote),
            "fee": fmt_trim(self.fee),
            "fee_asset": self.fee_asset,
            "maker": self.maker,
            "ts": self.ts,
        }


@dataclass
class Order:
    """One order as the venue keeps it."""

    id: int
    client_id: str
    spec: InstrumentSpec
    side: str  # "buy" | "sell"
    type: str  # "limit" | "market"
    tif: str  # "GTC" | "IOC" | "FOK" | "PO"
    price: Decimal | None  # limit price
    qty: Decimal | None  # base amount (None for a quote-sized market buy)
    quote_qty: Decimal | None  # quote amount of a quote-sized market buy
    created: int
    updated: int
    status: str = "new"  # new | partially_filled | filled | canceled | expired | rejected
    filled: Decimal = ZERO
    cost: Decimal = ZERO  # cumulative quote amount
    fee: Decimal = ZERO
    fee_asset: str = ""
    fills: list[Fill] = field(default_factory=list)
    locked: Decimal = ZERO  # funds this order still holds (quote for buys, base for sells)
    reason: str = ""  # why it ended: user | ioc | fok | market | post_only | fault
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        """Venue symbol."""
        return self.spec.venue_symbol

    @property
    def base(self) -> str:
        """Base asset."""
        return self.spec.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        """Quote asset."""
        return self.spec.symbol.split("/")[1]

    @property
    def is_open(self) -> bool:
        """True while the order can still fill or be cancelled."""
        return self.status not in FINAL

    @property
    def remaining(self) -> Decimal:
        """Unfilled base amount (0 for a finished quote-sized order)."""
        if self.qty is None or not self.is_open:
            return ZERO
        return self.qty - self.filled

    @property
    def leaves(self) -> Decimal:
        """Unfilled base amount regardless of state (``qty - filled``)."""
        return ZERO if self.qty is None else self.qty - self.filled

    @property
    def avg_price(self) -> Decimal | None:
        """Volume-weighted fill price, None before the first fill."""
        if self.filled == 0:
            return None
        return self.cost / self.filled

    def as_dict(self) -> dict[str, Any]:
        """Plain strings (for ``GET /_sim/orders``)."""
        avg = self.avg_price
        return {
            "id": self.id,
            "client_id": self.client_id,
            "symbol": self.symbol,
            "side": self.side,
            "type": self.type,
            "tif": self.tif,
            "price": None if self.price is None else fmt_trim(self.price),
            "qty": None if self.qty is None else fmt_trim(self.qty),
            "quote_qty": None if self.quote_qty is None else fmt_trim(self.quote_qty),
            "status": self.status,
            "filled": fmt_trim(self.filled),
            "cost": fmt_trim(self.cost),
            "avg_price": None if avg is None else fmt_trim(quantize(avg)),
            "fee": fmt_trim(self.fee),
            "fee_asset": self.fee_asset,
            "locked": fmt_trim(self.locked),
            "reason": self.reason,
            "created": self.created,
            "updated": self.updated,
            "fills": [f.as_dict() for f in self.fills],
        }


class MatchingEngine:
    """Orders, fills and the account of one venue, matched against the venue's books."""

    def __init__(
        self,
        venue: str,
        market: SyntheticMarket,
        account: Account,
        publish: Callable[[BookDiff], None],
        *,
        taker_fee: Any = "0.001",
        maker_fee: Any = "0.001",
        first_order_id: int = 1,
        first_trade_id: int = 1,
        client_id_scope: str = "all",
        post_only: str = "reject",
        rules: Callable[[InstrumentSpec], Rules] = default_rules,
    ) -> None:
        if client_id_scope not in ("all", "open"):
            raise ValueError("client_id_scope must be 'all' or 'open'")
        if post_only not in ("reject", "cancel"):
            raise ValueError("post_only must be 'reject' or 'cancel'")
        self.venue = venue
        self.market = market
        self.account = account
        self.publish = publish
        self.taker_fee = to_decimal(taker_fee)
        self.maker_fee = to_decimal(maker_fee)
        self.client_id_scope = client_id_scope
        self.post_only = post_only
        self._rules_of = rules
        self._rules: dict[str, Rules] = {}
        self._next_order = first_order_id
        self._next_trade = first_trade_id
        self.orders: dict[int, Order] = {}
        self._by_client: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self._resting: dict[int, Order] = {}
        #: Called with an order after every change (placed, filled, cancelled), whichever
        #: route made it (REST, WebSocket API, market steps): private order pushes.
        self.listeners: list[Callable[[Order], None]] = []
        #: venue symbols the venue has halted: every new order on them is refused
        self.halted: set[str] = set()

    # ---- queries -----------------------------------------------------------------------

    def rules(self, spec: InstrumentSpec) -> Rules:
        """The trading rules of an instrument (cached)."""
        r = self._rules.get(spec.venue_symbol)
        if r is None:
            r = self._rules[spec.venue_symbol] = self._rules_of(spec)
        return r

    def find(self, order_id: Any = None, client_id: str | None = None) -> Order | None:
        """An order by venue id, or the latest order with a client id."""
        if order_id not in (None, ""):
            try:
                return self.orders.get(int(order_id))
            except (TypeError, ValueError):
                return None
        if client_id:
            return self._by_client.get(client_id)
        return None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders (optionally of one venue symbol), oldest first."""
        return [o for o in self._resting.values() if symbol is None or o.symbol == symbol]

    def all_orders(self, symbol: str | None = None) -> list[Order]:
        """Every order (optionally of one venue symbol), oldest first."""
        return [o for o in self.orders.values() if symbol is None or o.symbol == symbol]

    def trades(self, symbol: str | None = None, order_id: int | None = None) -> list[Fill]:
        """Our fills, oldest first."""
        return [
            f
            for f in self.fills
            if (symbol is None or f.symbol == symbol)
            and (order_id is None or f.order_id == order_id)
        ]

    # ---- placing -----------------------------------------------------------------------

    def next_order_id(self) -> int:
        """Allocate an order id."""
        oid = self._next_order
        self._next_order += 1
        return oid

    def check_client_id(self, client_id: str) -> None:
        """Raise ``OrderError('duplicate_client_id')`` if the id may not be used again."""
        prev = self._by_client.get(client_id)
        if prev is not None and (self.client_id_scope == "all" or prev.is_open):
            raise OrderError("duplicate_client_id", f"duplicate client order id {client_id!r}")

    def place(
        self,
        spec: InstrumentSpec,
        side: str,
        type_: str,
        *,
        qty: Any = None,
        quote_qty: Any = None,
        price: Any = None,
        tif: str = "GTC",
        client_id: str = "",
        meta: dict[str, Any] | None = None,
        fill_ratio: float | None = None,
    ) -> Order:
        """Validate, lock funds, match; return the order (raise ``OrderError`` if refused).

        ``qty`` is the base amount; a market buy may give ``quote_qty`` (amount of quote to
        spend) instead.  ``fill_ratio`` (0..1) caps the taker fill at that fraction of the order
        (the ``partial_fill`` fault).
        """
        if side not in ("buy", "sell") or type_ not in ("limit", "market"):
            raise ValueError(f"bad side/type {side}/{type_}")
        if spec.venue_symbol in self.halted:
            raise OrderError("halted", f"{spec.venue_symbol} is not trading")
        r = self.rules(spec)
        book = self.market.book(spec.key)
        q = None if qty is None else to_decimal(qty)
        qq = None if quote_qty is None else to_decimal(quote_qty)
        px = None if price is None else to_decimal(price)
        if client_id:
            self.check_client_id(client_id)
        if type_ == "limit":
            if px is None or px <= 0:
                raise OrderError("bad_price", "limit order without a positive price")
            if px % r.tick != 0:
                raise OrderError("tick_size", f"price {px} is not a multiple of {r.tick}")
            if px < r.min_price or px > r.max_price:
                raise OrderError("bad_price", f"price {px} out of range")
        else:
            px = None
            tif = "IOC" if tif not in ("IOC", "FOK") else tif
        if qq is not None:
            if type_ != "market" or side != "buy":
                raise ValueError("quote_qty is only for market buys")
            if qq <= 0:
                raise OrderError("min_notional", "quote amount must be positive")
            if qq < r.min_notional:
                raise OrderError("min_notional", f"notional {qq} < {r.min_notional}")
            q = None
        else:
            if q is None or q <= 0:
                raise OrderError("min_qty", "quantity must be positive")
            if q % r.lot != 0:
                raise OrderError("lot_size", f"quantity {q} is not a multiple of {r.lot}")
            if q < r.min_qty:
                raise OrderError("min_qty", f"quantity {q} < {r.min_qty}")
            if q > r.max_qty:
                raise OrderError("max_qty", f"quantity {q} > {r.max_qty}")
            ref = px if px is not None else self._ref_price(spec, book, side)
            if ref is not None and ref * q < r.min_notional:
                raise OrderError("min_notional", f"notional {ref * q} < {r.min_notional}")

        crosses = self._crosses(spec, book, side, px)
        if tif == "PO" and crosses and self.post_only == "reject":
            raise OrderError("would_take", "post-only order would take liquidity")

        # plan the taker part, then make sure the account can pay for it
        plan: list[tuple[int, int]] = []
        if tif != "PO" and (type_ == "market" or crosses):
            plan = self._plan(spec, book, side, px, q, qq, fill_ratio)
            if tif == "FOK" and (q is None or sum(lots for _, lots in plan) * r.lot < q):
                plan = []
        lock_asset, lock_amount = self._lock_needed(spec, side, type_, px, q, qq, plan)
        try:
            self.account.lock(lock_asset, lock_amount)
        except InsufficientBalance as exc:
            raise OrderError(
                "insufficient_balance", str(exc), asset=exc.asset, needed=str(exc.needed)
            ) from exc

        ts = now_ms()
        order = Order(
            id=self.next_order_id(),
            client_id=client_id,
            spec=spec,
            side=side,
            type=type_,
            tif=tif,
            price=px,
            qty=q,
            quote_qty=qq,
            created=ts,
            updated=ts,
            locked=lock_amount,
            fee_asset=order_fee_asset(spec, side),
            meta=dict(meta or {}),
        )
        self.orders[order.id] = order
        if client_id:
            self._by_client[client_id] = order

        if plan:
            self._execute(order, book, plan)
        if (order.qty is not None and order.filled >= order.qty) or (
            qq is not None and fill_ratio is None and self._budget_spent(order, book)
        ):
            self._finish(order, "filled", "")
        elif tif == "PO" and crosses:
            self._finish(order, "canceled", "post_only")
        elif type_ == "market" or tif in ("IOC", "FOK"):
            self._finish(order, "expired", {"market": "market"}.get(type_, tif.lower()))
        else:
            order.status = "partially_filled" if order.filled > 0 else "new"
            self._resting[order.id] = order
        if self.listeners:
            self._notify(order)
        return order

    def cancel(self, order: Order, reason: str = "user") -> Order:
        """Cancel an open order (the caller checks ``order.is_open``)."""
        if order.is_open:
            order.updated = now_ms()
            self._finish(order, "canceled", reason)
            if self.listeners:
                self._notify(order)
        return order

    def _notify(self, order: Order) -> None:
        for listener in list(self.listeners):
            listener(order)

    # ---- passive fills -----------------------------------------------------------------

    def on_step(self) -> list[Fill]:
        """Fill resting orders the market moved through, as maker, at their own price."""
        out: list[Fill] = []
        for order in list(self._resting.values()):
            book = self.market.book(order.spec.key)
            assert order.price is not None and order.qty is not None
            r = self.rules(order.spec)
            limit_ticks = int(order.price / r.tick)
            side = ASK if order.side == "buy" else BID
            best = book.best(side)
            if best is None or (best > limit_ticks if side == ASK else best < limit_ticks):
                continue  # the usual case: the market has not reached the order
            avail = 0
            for p in book.top_prices(side, None):
                if (side == ASK and p > limit_ticks) or (side == BID and p < limit_ticks):
                    break
                avail += book.sides[side][p]
            if avail == 0:
                continue
            lots = min(avail, int(order.leaves / r.lot))
            if lots <= 0:
                continue
            fill = self._fill(order, order.price, lots * r.lot, maker=True)
            out.append(fill)
            if order.filled >= order.qty:
                self._finish(order, "filled", "")
            else:
                order.status = "partially_filled"
            if self.listeners:
                self._notify(order)
        return out

    # ---- internals ---------------------------------------------------------------------

    def _budget_spent(self, order: Order, book: SimBook) -> bool:
        """A quote-sized buy is done when what is left cannot buy one more lot."""
        assert order.quote_qty is not None
        best = book.best(ASK)
        if best is None:
            return False  # the book ran out: liquidity, not the budget, stopped it
        r = self.rules(order.spec)
        return order.quote_qty - order.cost < quantize(best * r.tick * r.lot)

    def _ref_price(self, spec: InstrumentSpec, book: SimBook, side: str) -> Decimal | None:
        best = book.best(ASK if side == "buy" else BID)
        return None if best is None else best * self.rules(spec).tick

    def _crosses(self, spec: InstrumentSpec, book: SimBook, side: str, px: Decimal | None) -> bool:
        if px is None:
            return True
        best = self._ref_price(spec, book, side)
        if best is None:
            return False
        return best <= px if side == "buy" else best >= px

    def _plan(
        self,
        spec: InstrumentSpec,
        book: SimBook,
        side: str,
        px: Decimal | None,
        qty: Decimal | None,
        quote_qty: Decimal | None,
        fill_ratio: float | None,
    ) -> list[tuple[int, int]]:
        """The (price ticks, lots) a taker order would consume, best first."""
        r = self.rules(spec)
        opp = ASK if side == "buy" else BID
        limit_ticks = None if px is None else int(px / r.tick)
        want_lots = None if qty is None else int(qty / r.lot)
        budget = quote_qty
        if fill_ratio is not None:
            ratio = Decimal(str(max(0.0, min(1.0, float(fill_ratio)))))
            if want_lots is not None:
                want_lots = int((Decimal(want_lots) * ratio).to_integral_value(ROUND_DOWN))
            if budget is not None:
                budget = budget * ratio
        plan: list[tuple[int, int]] = []
        got = 0
        levels = book.sides[opp]
        for i in range(book.count(opp)):  # best first, only as deep as the order goes
            p = book.price_at(opp, i)
            size = levels[p]
            if limit_ticks is not None and (
                (opp == ASK and p > limit_ticks) or (opp == BID and p < limit_ticks)
            ):
                break
            if want_lots is not None:
                take = min(size, want_lots - got)
            else:
                assert budget is not None
                lot_cost = p * r.tick * r.lot
                take = min(size, int(budget / lot_cost))
                budget -= quantize(take * lot_cost) if take else 0
            if take <= 0:
                break
            plan.append((p, take))
            got += take
            if want_lots is not None and got >= want_lots:
                break
        return plan

    def _lock_needed(
        self,
        spec: InstrumentSpec,
        side: str,
        type_: str,
        px: Decimal | None,
        qty: Decimal | None,
        quote_qty: Decimal | None,
        plan: Iterable[tuple[int, int]],
    ) -> tuple[str, Decimal]:
        base, quote = spec.symbol.split("/")
        if side == "sell":
            assert qty is not None
            return base, qty
        if quote_qty is not None:
            return quote, quantize(quote_qty)
        assert qty is not None
        if type_ == "limit":
            assert px is not None
            return quote, quantize_up(px * qty)
        r = self.rules(spec)
        return quote, sum((quantize(p * r.tick * lots * r.lot) for p, lots in plan), ZERO)

    def _execute(self, order: Order, book: SimBook, plan: list[tuple[int, int]]) -> None:
        r = self.rules(order.spec)
        opp = ASK if order.side == "buy" else BID
        diff = BookDiff(order.spec.key, order.spec, self.market.formatter(order.spec.key))
        changes = diff.side(opp)
        for p, lots in plan:
            left = book.sides[opp].get(p, 0) - lots
            book.set(opp, p, max(0, left))
            changes[p] = max(0, left)
            self._fill(order, p * r.tick, lots * r.lot, maker=False)
        diff.updates = len(changes)
        if diff:
            self.publish(diff)

    def _fill(self, order: Order, price: Decimal, qty: Decimal, *, maker: bool) -> Fill:
        rate = self.maker_fee if maker else self.taker_fee
        quote_amt = quantize(price * qty)
        acct = self.account
        if order.side == "buy":
            fee = quantize(qty * rate)
            self._pay(order, order.quote, quote_amt)
            acct.credit(order.base, qty - fee)
            fee_asset = order.base
        else:
            fee = quantize(quote_amt * rate)
            self._pay(order, order.base, qty)
            acct.credit(order.quote, quote_amt - fee)
            fee_asset = order.quote
        ts = now_ms()
        fill = Fill(
            id=self._next_trade,
            order_id=order.id,
            client_id=order.client_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            quote=quote_amt,
            fee=fee,
            fee_asset=fee_asset,
            fee_rate=rate,
            maker=maker,
            ts=ts,
        )
        self._next_trade += 1
        order.fills.append(fill)
        order.filled += qty
        order.cost += quote_amt
        order.fee += fee
        order.updated = ts
        self.fills.append(fill)
        return fill

    def _pay(self, order: Order, asset: str, amount: Decimal) -> None:
        """Pay from the order's locked funds first (rounding may need a hair of free funds)."""
        from_lock = min(amount, order.locked)
        self.account.debit(asset, from_lock, from_locked=True)
        order.locked -= from_lock
        rest = amount - from_lock
        if rest > 0:
            self.account.debit(asset, min(rest, self.account.available(asset)))

    def _finish(self, order: Order, status: str, reason: str) -> None:
        order.status = status
        order.reason = reason
        if order.locked > 0:
            asset = order.quote if order.side == "buy" else order.base
            self.account.unlock(asset, order.locked)
            order.locked = ZERO
        self._resting.pop(order.id, None)


def order_fee_asset(spec: InstrumentSpec, side: str) -> str:
    """The asset fees are charged in: the one received (base for buys, quote for sells)."""
    base, quote = spec.symbol.split("/")
    return base if side == "buy" else quote
