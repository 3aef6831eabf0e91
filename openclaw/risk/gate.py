"""The pipeline's door to the risk engine: order lists of ``Order`` objects in, a verdict out.

Converts each leg to the engine's integer form once (ticks, lots, an int64 client id), checks
the whole list all-or-nothing in Cython, and feeds the outcome (fills, closed orders) back so
that positions, balances, open orders and rate tokens stay true.

Balances follow reality: an accepted leg reserves what it may spend; each fill (once per trade
id, however often the order is reported) spends the real amount, credits what was bought and
takes the fee; a final order releases what it still reserved; the reconciler's venue balances
replace the engine's (``refresh_balances``) whenever nothing of ours is open on that venue.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np

from openclaw._core.book import OrderBook
from openclaw._core.risk import BUY, LIMIT, MARKET, REASONS, SELL, RiskEngine, reason_name
from openclaw._core.triarb import TriArb
from openclaw.model.orders import Order, OrderType, Side
from openclaw.risk.limits import RiskIndex

MAX_LEGS = 16
# closed orders whose applied trade ids are kept (a late fill of a canceled order is applied once)
_CLOSED_KEPT = 10_000
_LIST_REJECTED = REASONS["LIST_REJECTED"]


class RiskGate:
    """Checks order lists against a loaded ``RiskEngine`` (see docs/risk-api.md)."""

    def __init__(self, engine: RiskEngine, index: RiskIndex,
                 books: dict[tuple[str, str], OrderBook],
                 symbols: dict[tuple[str, str], str]) -> None:
        """``books``: (venue, venue symbol) -> the book behind it (bound for stale/collar checks);
        ``symbols``: (venue, order symbol such as "BTC/USDT") -> the venue symbol."""
        self.engine = engine
        self.index = index
        #: the check's clock (ns); a backtest gives its simulated one (the core's clock)
        self.clock: Callable[[], int] = time.monotonic_ns
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
        self.refusals: Counter[str] = Counter()   # refused lists by their first reason
        # trade ids already applied, per client id (open orders; then the last closed ones)
        self._applied: dict[str, set[str]] = {}
        self._closed: OrderedDict[str, set[str]] = OrderedDict()
        self._epoch: Counter[str] = Counter()     # per venue: fills and closes applied
        self.fees_unmapped: Counter[str] = Counter()  # fees in an asset the engine lacks
        self.refreshes = 0
        self.refresh_skipped = 0
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
        failed = self.engine.check_slice(0, len(orders), self.clock())
        if failed == 0:
            return None
        self.count_refusal(len(orders))
        return "; ".join(f"{o.venue} {o.symbol}: {reason_name(int(self.codes[k]))}"
                         for k, o in enumerate(orders))

    def count_refusal(self, n: int) -> None:
        """Count a refused list under the first leg's own reason (not LIST_REJECTED)."""
        self.refused += 1
        codes = self.codes
        name = "LIST_REJECTED"
        for k in range(n):
            c = int(codes[k])
            if c and c != _LIST_REJECTED:
                name = reason_name(c)
                break
        self.refusals[name] += 1

    def on_result(self, orders: list[Order]) -> None:
        """The list is done (or some legs are still being resolved): ``on_order_update`` each."""
        for o in orders:
            self.on_order_update(o)

    def on_order_update(self, order: Order) -> None:
        """Bring the engine up to ``order``: each fill not applied yet (by trade id) moves both
        assets and the fee and releases what its quantity had reserved; a final order releases
        the rest and leaves the open-order table. Idempotent: call it after every change."""
        cid = order.client_id
        done = self._applied.get(cid)
        if done is None:
            done = self._closed.get(cid)
            if done is None:
                done = self._applied[cid] = set()
        if order.fills.keys() - done:
            inst, _ = self._inst(order)
            spec = self.index.specs[inst]
            side = BUY if order.side is Side.BUY else SELL
            quote_unit = _frac(self.index.asset_units[spec.quote])
            n = self._cid(cid)
            for tid, f in order.fills.items():
                if tid in done:
                    continue
                done.add(tid)
                lots = self.index.to_lots(inst, f.qty)
                ticks = int((Decimal(f.price) / spec.tick_size).to_integral_value())
                # the exact quote amount, rounded against us (a buy spends at least, a sell
                # receives at most this)
                q = _frac(f.qty) * _frac(f.price) / quote_unit
                quote_units = math.ceil(q) if side == BUY else math.floor(q)
                fee_asset, fee_units = -1, 0
                if f.fee and f.fee_asset:
                    a = self.index.assets.get(f.fee_asset)
                    if a is None:
                        self.fees_unmapped[f.fee_asset] += 1
                    else:
                        fee_asset = a
                        fee_units = math.ceil(_frac(f.fee) / _frac(
                            self.index.asset_units[f.fee_asset]))
                self.engine.on_order_fill(n, inst, side, lots, ticks, quote_units, fee_asset,
                                          fee_units)
            self._epoch[order.venue] += 1
        if order.is_final and cid in self._applied:
            self.engine.on_order_close(self._cid(cid))
            self._epoch[order.venue] += 1
            self._closed[cid] = self._applied.pop(cid)
            if len(self._closed) > _CLOSED_KEPT:
                self._closed.popitem(last=False)

    def balance_epoch(self, venue: str) -> int:
        """Changes whenever a fill or a close of ``venue`` reaches the engine (a balance read
        from the venue before a change must not overwrite it)."""
        return self._epoch[venue]

    def refresh_balances(self, venue: str, balances: Mapping[str, Decimal],
                         epoch: int | None = None) -> bool:
        """The venue is the truth: its balances (total per asset; an asset it does not list is
        0) become the engine's, and free = venue balance - open reservations. Applied only
        while no order of ours is open on the venue and (``epoch``) nothing reached the engine
        since the balances were read; returns whether it was applied (else counted)."""
        v = self.index.venues.get(venue)
        if v is None:
            return False
        if self.engine.open_orders(v) > 0 or (epoch is not None
                                              and epoch != self._epoch[venue]):
            self.refresh_skipped += 1
            return False
        for asset, a in self.index.assets.items():
            amount = balances.get(asset, Decimal(0))
            self.engine.set_balance(v, a, self.index.to_asset_units(asset, amount))
        self.refreshes += 1
        return True


def _frac(x: Decimal) -> Fraction:
    return Fraction(x)


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
        self.gate.count_refusal(3)
        legs = self.arb.legs(i, self.num, self.den)
        codes = self.gate.codes
        names = self.names
        return "; ".join(f"{names[legs[4 * k]]}: {reason_name(int(codes[k]))}"
                         for k in range(3))
