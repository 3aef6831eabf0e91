"""The triangular-arbitrage detector: book change -> detection -> order list -> order manager.

Runs inside the aggregator's book callback (no await on the hot path): the changed market's
cycles are re-evaluated in Cython; when a sized opportunity appears and no order list is in
flight, its three legs become IOC limit orders at the legs' price limits and are handed to the
``OrderManager`` (execution/manager.py: journal first, then all legs at once, fills, unwinds).
Every event is stamped on the manager's stage clock: recv (socket), book (applied), signal
(detected), risk (checked), submit (handed over), acked (all legs answered), send (first leg
written); recv, book, signal, risk and submit are stamped in C (``TriArb.on_update``,
``check_risk``, ``handed_over``): no Python call per stage.

With a ``RiskGate`` as the manager's risk the legs are risk-checked as integers (lots, ticks)
straight from the detector's result, in C, before any ``Order`` exists; the ``Order`` s of an
approved list are then built from those integers without re-validation (``Order.trusted``).
Any other check gets the ``Order`` list first (``OrderManager.check``). The order path is
rehearsed every few ms (``warm_interval_ms``; nothing committed, journaled or sent) so that a
rare opportunity does not meet cold CPU caches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from openclaw._core.triarb import TriArb
from openclaw.execution.manager import (
    ACKED,
    BOOK,
    RECV,
    RISK,
    SEND,
    SIGNAL,
    STAGES,
    SUBMIT,
    OrderManager,
)
from openclaw.feeds.aggregator import Aggregator
from openclaw.model.orders import Order, OrderType, Side
from openclaw.risk.gate import ArbCheck, RiskGate

__all__ = ["ACKED", "BOOK", "RECV", "RISK", "SEND", "SIGNAL", "STAGES", "SUBMIT", "ArbPipeline",
           "ArbStats"]

log = logging.getLogger("openclaw.strategies.triarb")


@dataclass
class ArbStats:
    """The detector's counters; what happened to the orders is the manager's ``OrderStats``."""

    opportunities: int = 0          # sized opportunities seen (after the cool-down)
    arbitrages: int = 0             # order lists handed to the order manager
    skipped_busy: int = 0           # opportunities while a list was in flight


_BUY, _SELL, _LIMIT = Side.BUY, Side.SELL, OrderType.LIMIT


def _validated(client_id: str, venue: str, symbol: str, side: Side, order_type: OrderType,
               qty: Decimal, price: Decimal | None, opportunity_id: int, leg: int,
               created_ns: int) -> Order:
    """``Order.trusted``'s signature, through the validating constructor."""
    return Order(client_id, venue, symbol, side, order_type, qty, price, opportunity_id, leg,
                 created_ns=created_ns)


_WARM_IDS = (0, "W0", "W1", "W2")            # the rehearsal's orders (never journaled or sent)


class ArbPipeline:
    """Wires an Aggregator's books into a TriArb detector; its order lists go to an
    ``OrderManager`` (risk, journal, routes, fills, unwinds: execution/manager.py)."""

    def __init__(self, aggregator: Aggregator, manager: OrderManager, fees_bps: dict[str, float],
                 *, min_profit_bps: float = 5.0, cooldown_ms: int = 500,
                 max_book_age_ms: int = 1000, max_start: dict[str, float] | None = None,
                 slippage_bps: float = 0.0, warm_interval_ms: float = 2.0) -> None:
        """``manager``: takes every order list (its risk check is used on the detector's
        integers when it is a ``RiskGate``); ``warm_interval_ms``: how often the order path is
        rehearsed to stay cache-hot (0: never; needs a running loop at construction)."""
        self.agg = aggregator
        self.manager = manager
        if not 0 <= slippage_bps < 1000:
            raise ValueError(f"slippage_bps out of range: {slippage_bps}")
        self.slippage = Decimal(repr(slippage_bps)) / Decimal(10000)
        frac = Fraction(self.slippage)
        if frac.denominator > 1 << 62:
            raise ValueError(f"slippage_bps {slippage_bps} has too many digits")
        self._slip = (frac.numerator, frac.denominator)
        self.ticks: dict[tuple[str, str, str], Decimal] = {}
        self.ids = manager.ids
        self.clock = manager.clock
        if tuple(self.clock.stages) != STAGES:
            raise ValueError(f"the manager's clock must have the stages {STAGES}")
        self.stats = ArbStats()
        rows = []
        self.market_of_book: dict[int, int] = {}
        self.books: list = []                      # OrderBook per market index
        self.lots: dict[tuple[str, str, str], Decimal] = {}
        for book_id, inst in aggregator.instrument_of.items():
            if inst.category != "spot" or not (inst.base and inst.quote):
                continue
            rows.append((inst.venue, inst.base, inst.quote, aggregator.bookset.book(book_id),
                         fees_bps[inst.venue]))
            self.books.append(rows[-1][3])
            self.lots[(inst.venue, inst.base, inst.quote)] = Decimal(inst.lot_size)
            self.ticks[(inst.venue, inst.base, inst.quote)] = Decimal(inst.tick_size)
        self.arb = TriArb(rows, min_profit_bps=min_profit_bps, max_age_ns=max_book_age_ms * 10**6,
                          cooldown_ns=cooldown_ms * 10**6, require_live=True)
        self.index: dict[tuple[str, str, str], int] = {}
        for book_id, inst in aggregator.instrument_of.items():
            key = (inst.venue, inst.base, inst.quote)
            if key in self.lots:
                self.market_of_book[book_id] = self.index[key] = self.arb.market_index(*key)
        for (venue, asset), amount in (max_start or {}).items():
            self.arb.set_balance(venue, asset, amount)
        # per market: (index, book, lot, tick, order symbol), one dict lookup per leg on the
        # hot path; the slippage factors and sides are built once
        self._legs = {key: (m, self.books[m], self.lots[key], self.ticks[key],
                            f"{key[1]}/{key[2]}") for key, m in self.index.items()}
        self._up = 1 + self.slippage
        self._down = 1 - self.slippage
        self._sides = {"buy": Side.BUY, "sell": Side.SELL}
        # per market, in the detector's order: what its orders carry (venue, symbol, lot, tick)
        keys = [key for key, _ in sorted(self.index.items(), key=lambda kv: kv[1])]
        if [m for _, m in sorted(self.index.items(), key=lambda kv: kv[1])] != list(
                range(self.arb.n_markets)):
            raise RuntimeError("detector markets and pipeline markets disagree")
        self._tmpl = [(k[0], f"{k[1]}/{k[2]}", self.lots[k], self.ticks[k]) for k in keys]
        # a RiskGate's check runs on the detector's integers (see the module docstring)
        self._gate: RiskGate | None = None
        self._fast: ArbCheck | None = None
        if isinstance(manager.risk, RiskGate):
            self._gate = manager.risk
            self._fast = self._gate.arb_check(self.arb, keys, [self._legs[k][1] for k in keys],
                                              self._slip)
        # the recorder's recv, book, signal, submit (and with the gate, risk) stamps: in C
        self.arb.set_recorder(self.clock, BOOK, SIGNAL, RISK if self._fast is not None else -1,
                              SUBMIT)
        # the next order list's client ids are made ahead (off the hot path), again after
        # each list
        self._next_ids: tuple[int, str, str, str] | None = self._make_ids()
        manager.after_list.append(self._refill_ids)
        # the order path is rehearsed every warm_interval_ms (0: never) to keep it cache-hot
        if warm_interval_ms < 0:
            raise ValueError(f"warm_interval_ms must be >= 0, not {warm_interval_ms}")
        self._warm_s = warm_interval_ms / 1000
        self._warm_legs = tuple(x for m in range(3)
                                for x in (m % self.arb.n_markets, m % 2, 1, 1))
        self._warm_handle: asyncio.TimerHandle | None = None
        self.stopped = False
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        if self._warm_s > 0 and self._loop is not None:
            self._warm_handle = self._loop.call_later(self._warm_s, self._warm)
        # the task the first order list is handed to (made ahead: no task creation on the hot
        # path); without a running loop yet, the first list's task is created when it comes
        if self._loop is not None:
            manager.arm()
        aggregator.subscribe(self.on_book)

    @property
    def halted(self) -> str | None:
        """Why the order manager takes no new list (reconciliation mismatch, operator)."""
        return self.manager.halted

    def on_book(self, book_id: int, recv_ts: int) -> None:
        """Aggregator callback: one book changed (synchronous, on the feed's task)."""
        market = self.market_of_book.get(book_id)
        mgr = self.manager
        if market is None or not mgr.accepting:
            return
        arb = self.arb
        # detection in C, which also stamps the event's recv, book and signal stages
        idle = not mgr.in_flight
        n = arb.on_update(market, 0, idle, recv_ts)
        if n == 0:
            return
        if not idle:
            self.stats.skipped_busy += 1
            return
        # the best result none of whose markets still shows liquidity we took (a market we
        # just traded on must show a book update first)
        i = arb.pick()
        if i < 0:
            return
        event = arb.event
        stats = self.stats
        stats.opportunities += 1
        gate = self._gate
        if gate is not None:
            # risk on the integer legs, in C, before any Order exists (risk stamped there);
            # ArbCheck.__call__ inlined
            first_id = gate.next_id
            gate.next_id = first_id + 3
            legs = arb.check_risk(i, first_id)
            if legs is None:
                ms = mgr.stats
                ms.refused_by_risk += 1
                ms.last_refusal = self._fast.refusal(i)  # type: ignore[union-attr]
                return
            orders = self._orders(legs, True)
        else:
            first_id = 0
            orders = self._orders(arb.legs(i, *self._slip), False)
            if mgr.check(orders, event) is not None:
                return
        stats.arbitrages += 1
        mgr.hand_over(event, orders, first_id)
        arb.handed_over(i)          # the list is the manager's task now: submit stamped here

    def _orders(self, legs: tuple[int, ...], trusted: bool,
                ids: tuple[int, str, str, str] | None = None) -> list[Order]:
        """The three IOC limit orders of ``TriArb.legs`` (market, buy, lots, limit ticks per
        leg), with the next opportunity's client ids (made ahead, off the hot path) or ``ids``.
        ``trusted``: the risk engine has passed these integers (lots > 0, ticks > 0) and every
        other field is fixed at start-up, so the orders skip re-validation; otherwise ``Order``
        validates them."""
        if ids is None:
            ids = self._next_ids
            self._next_ids = None
            if ids is None:
                ids = self._make_ids()
        opp, c0, c1, c2 = ids
        tmpl = self._tmpl
        now = time.time_ns()
        new = Order.trusted if trusted else _validated
        m0, b0, q0, p0, m1, b1, q1, p1, m2, b2, q2, p2 = legs
        v0, s0, lot0, tick0 = tmpl[m0]
        v1, s1, lot1, tick1 = tmpl[m1]
        v2, s2, lot2, tick2 = tmpl[m2]
        return [
            new(c0, v0, s0, _BUY if b0 else _SELL, _LIMIT, lot0 * q0, tick0 * p0, opp, 0, now),
            new(c1, v1, s1, _BUY if b1 else _SELL, _LIMIT, lot1 * q1, tick1 * p1, opp, 1, now),
            new(c2, v2, s2, _BUY if b2 else _SELL, _LIMIT, lot2 * q2, tick2 * p2, opp, 2, now),
        ]

    def _make_ids(self) -> tuple[int, str, str, str]:
        """A fresh opportunity id and its three legs' client ids (``ClientIdFactory``)."""
        make = self.ids.make
        opp = self.ids.next_opportunity()
        return opp, make(opp, 0), make(opp, 1), make(opp, 2)

    def _warm(self) -> None:
        """Rehearse the order path every ``warm_interval_ms`` so that its code and data stay
        in the CPU caches between (rare) opportunities: pick, a dry run of the risk check
        (``TriArb.rehearse_risk``: nothing committed) and three ``Order`` s built from made-up
        legs, dropped at once. Nothing is journaled or sent; no id is consumed."""
        if self.stopped:
            self._warm_handle = None
            return
        self.arb.pick()
        if self._fast is not None:
            self.arb.rehearse_risk()
        self._orders(self._warm_legs, True, _WARM_IDS)
        if self._next_ids is None:
            self._next_ids = self._make_ids()
        self._warm_handle = self._loop.call_later(  # type: ignore[union-attr]
            self._warm_s, self._warm)

    def _refill_ids(self, orders: list[Order]) -> None:
        """After a list: the next list's ids, made off the hot path."""
        if self._next_ids is None:
            self._next_ids = self._make_ids()

    def _limit(self, leg, tick: Decimal | None = None) -> Decimal:  # noqa: ANN001
        """The leg's IOC limit: the worst price the detector walked to, moved by the slippage
        allowance (buys up, sells down) and rounded outward to the tick."""
        if tick is None:
            tick = self.ticks[(leg.venue, leg.base, leg.quote)]
        px = Decimal(repr(leg.price_limit))
        if not self.slippage:
            return px
        if leg.side == "buy":
            steps = (px * self._up) / tick
            return steps.to_integral_value(rounding="ROUND_CEILING") * tick
        steps = (px * self._down) / tick
        return steps.to_integral_value(rounding="ROUND_FLOOR") * tick

    async def drain(self, timeout: float = 10.0) -> list[asyncio.Task[None]]:
        """Shutdown: no new arbitrage starts; wait for those in flight (the manager's drain);
        returns the lists still running at the deadline."""
        self.stopped = True
        if self._warm_handle is not None:
            self._warm_handle.cancel()
            self._warm_handle = None
        return await self.manager.drain(timeout)
