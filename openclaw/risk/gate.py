"""The pipeline's door to the risk engine: order lists of ``Order`` objects in, a verdict out.

Converts each leg to the engine's integer form once (ticks, lots, an int64 client id), checks
the whole list all-or-nothing in Cython, and feeds the outcome (fills, closed orders) back so
that positions, balances, open orders and rate tokens stay true.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from openclaw._core.book import OrderBook
from openclaw._core.risk import BUY, LIMIT, MARKET, SELL, RiskEngine, reason_name
from openclaw._core.triarb import TriArb
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
        self.next_id = 1                    # the next engine client id to hand out
        self.refused = 0
        # (tick, lot) per instrument as Decimals: exact conversion without Fractions
        self._units = [(spec.tick_size, spec.lot_size) for spec in index.specs]

    def _cid(self, client_id: str) -> int:
        n = self._ids.get(client_id)
        if n is None:
            n = self._ids[client_id] = self.next_id
            self.next_id += 1
        return n

    def arb_check(self, arb: TriArb, keys: Sequence[tuple[str, str, str]],
                  books: Sequence[OrderBook], slippage: tuple[int, int]) -> ArbCheck:
        """The check of a ``TriArb`` result straight from its integer legs (see ``ArbCheck``).

        ``keys``/``books``: (venue, base, quote) and the book of each of ``arb``'s markets, in
        its market order; ``slippage``: the limit allowance as a fraction (numerator,
        denominator). A market the risk config lacks is refused as UNKNOWN_INSTRUMENT, as
        ``check`` would; a market whose risk instrument is bound to another book than the one
        the strategy reads raises (the reference mid would differ).
        """
        if len(keys) != arb.n_markets or len(books) != arb.n_markets:
            raise ValueError(f"{len(keys)} keys / {len(books)} books for {arb.n_markets} markets")
        insts = np.full(arb.n_markets, -1, dtype=np.int32)
        names = []
        for m, ((venue, base, quote), book) in enumerate(zip(keys, books, strict=True)):
            names.append(f"{venue} {base}/{quote}")
            sym = self.symbols.get((venue, f"{base}/{quote}"))
            if sym is None:
                continue
            try:
                inst = self.index.instrument(venue, sym)
            except KeyError:
                continue
            bound = self.books.get((venue, sym))
            if bound is None or bound.bookset is not book.bookset or bound.book_id != book.book_id:
                raise ValueError(f"risk instrument {venue}:{sym} is bound to another book than "
                                 f"the strategy's {venue} {base}/{quote}")
            insts[m] = inst
        return ArbCheck(self, arb, insts, names, slippage)

    def name_ids(self, first_id: int, client_ids: Sequence[str]) -> None:
        """The engine ids ``first_id + k`` that ``ArbCheck`` used belong to ``client_ids[k]``
        (so that ``on_result`` closes them)."""
        ids = self._ids
        for k, cid in enumerate(client_ids):
            ids[cid] = first_id + k

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


class ArbCheck:
    """``RiskGate.check`` for the legs of a ``TriArb`` result, without ``Order`` objects.

    ``TriArb.check_risk`` writes the three legs (lots, limit ticks after the slippage
    allowance, reference mid, instrument, side, fresh engine client ids) into the engine's
    registered buffers in C and the engine checks them as one list, all-or-nothing, exactly as
    ``check`` does with the same legs as ``Order`` s (tests/risk/test_fast_path.py proves it).
    """

    __slots__ = ("gate", "arb", "insts", "names", "num", "den", "_check_risk")

    def __init__(self, gate: RiskGate, arb: TriArb, insts: np.ndarray, names: list[str],
                 slippage: tuple[int, int]) -> None:
        num, den = slippage
        arb.bind_risk(gate.engine, insts, num, den)
        self.gate = gate
        self.arb = arb
        self.insts = insts
        self.names = names
        self.num = num
        self.den = den
        self._check_risk = arb.check_risk

    def __call__(self, i: int) -> tuple[str | None, tuple[int, ...], int]:
        """(None or the refusal reasons, ``TriArb.legs(i)``, the first engine client id) of
        result i; a passing list is committed in the engine. (``ArbPipeline.on_book`` inlines
        this: ``next_id``, ``TriArb.check_risk``, ``refusal``.)"""
        gate = self.gate
        first = gate.next_id
        gate.next_id = first + 3
        legs = self._check_risk(i, first)
        if legs is not None:
            return None, legs, first
        return self.refusal(i), self.arb.legs(i, self.num, self.den), first

    def refusal(self, i: int) -> str:
        """The reasons ``check`` gives, after ``TriArb.check_risk`` refused result i (counted)."""
        self.gate.refused += 1
        legs = self.arb.legs(i, self.num, self.den)
        codes = self.gate.codes
        names = self.names
        return "; ".join(f"{names[legs[4 * k]]}: {reason_name(int(codes[k]))}"
                         for k in range(3))
