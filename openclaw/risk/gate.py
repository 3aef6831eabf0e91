"""The pipeline's door to the risk engine: order lists of ``Order`` objects in, a verdict out.

Converts each leg to the engine's integer form once (ticks, lots, an int64 client id), checks
the whole list all-or-nothing in Cython, and feeds the outcome (fills, closed orders) back so
that positions, balances, open orders and rate tokens stay true.
"""

from __future__ import annotations

import time
from decimal import Decimal

import numpy as np

from openclaw._core.book import OrderBook
from openclaw._core.risk import BUY, LIMIT, MARKET, SELL, RiskEngine, reason_name
from openclaw.execution.orders import Order, OrderType, Side
from openclaw.risk.limits import RiskIndex

MAX_LEGS = 16


class RiskGate:
    """Checks order lists against a loaded ``RiskEngine`` (see docs/risk-api.md)."""

    def __init__(self, engine: RiskEngine, index: RiskIndex,
                 books: dict[tuple[str, str], OrderBook],
                 symbols: dict[tuple[str, str], str]) -> None:
        """``books``: (venue, venue symbol) -> the book behind it (bound for stale/collar checks);
        ``symbols``: (venue, order symbol such as "BTC/USDT") -> the venue symbol."""
        self.engine = engine
        self.index = index
        self.symbols = symbols
        self.books = books
        for (venue, sym), book in books.items():
            engine.bind_book(index.instrument(venue, sym), book)
        self.orders = engine.new_orders(MAX_LEGS)
        self.codes = np.zeros(MAX_LEGS, dtype=np.int32)
        engine.use_buffers(self.orders, self.codes)
        self._ids: dict[str, int] = {}
        self.refused = 0
        # (tick, lot) per instrument as Decimals: exact conversion without Fractions
        self._units = [(spec.tick_size, spec.lot_size) for spec in index.specs]

    def _cid(self, client_id: str) -> int:
        n = self._ids.get(client_id)
        if n is None:
            n = self._ids[client_id] = len(self._ids) + 1
        return n

    def _inst(self, order: Order) -> tuple[int, str]:
        sym = self.symbols[(order.venue, order.symbol)]
        return self.index.instrument(order.venue, sym), sym

    def check(self, orders: list[Order]) -> str | None:
        """None if the list passes (and is committed in the engine), else the reasons."""
        if len(orders) > MAX_LEGS:
            return f"order list of {len(orders)} legs (max {MAX_LEGS})"
        for k, o in enumerate(orders):
            inst, sym = self._inst(o)
            mid = self.books[(o.venue, sym)].mid_ticks()
            market = o.order_type is OrderType.MARKET
            tick, lot = self._units[inst]
            price = 0 if market else _exact(o.price, tick, "price")  # type: ignore[arg-type]
            self.orders[k] = (self._cid(o.client_id), price, _exact(o.qty, lot, "qty"),
                              mid, inst, BUY if o.side is Side.BUY else SELL,
                              MARKET if market else LIMIT)
        failed = self.engine.check_slice(0, len(orders), time.monotonic_ns())
        if failed == 0:
            return None
        self.refused += 1
        return "; ".join(f"{o.venue} {o.symbol}: {reason_name(int(self.codes[k]))}"
                         for k, o in enumerate(orders))

    def on_result(self, orders: list[Order]) -> None:
        """The list is done: fills move positions and balances, the orders leave the book."""
        for o in orders:
            inst, _ = self._inst(o)
            side = BUY if o.side is Side.BUY else SELL
            tick = self.index.specs[inst].tick_size
            for f in o.fills.values():
                lots = self.index.to_lots(inst, f.qty)
                ticks = int((Decimal(f.price) / tick).to_integral_value())
                self.engine.on_fill(inst, side, lots, ticks)
            if o.is_final:
                self.engine.on_order_close(self._cid(o.client_id))


def _exact(value: Decimal, unit: Decimal, name: str) -> int:
    """value / unit as an int; a value off the unit grid is an error, never rounded."""
    q = value / unit
    n = int(q)
    if q != n:
        raise ValueError(f"{name} {value} is not a multiple of {unit}")
    return n
