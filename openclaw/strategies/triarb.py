"""The triangular-arbitrage pipeline: book change -> detection -> order list -> routing.

Runs inside the aggregator's book callback (no await on the hot path): the changed market's
cycles are re-evaluated in Cython; when a sized opportunity appears and no arbitrage is in
flight, its three legs become IOC limit orders at the legs' price limits and are handed to the
router as one task (journal first, then all legs at once). Every event is stamped on a stage
clock: recv (socket), book (applied), signal (detected), risk (checked), submit (handed to the
router), acked (all legs answered).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from openclaw._core.stageclock import StageClock
from openclaw._core.triarb import TriArb
from openclaw.execution.client_ids import ClientIdFactory
from openclaw.execution.orders import Order, OrderStatus, OrderType, Side
from openclaw.execution.router import Router
from openclaw.feeds.aggregator import Aggregator

if TYPE_CHECKING:
    from openclaw.alerts import Alerter
    from openclaw.execution.reconcile import Reconciler

log = logging.getLogger("openclaw.strategies.triarb")

STAGES = ("recv", "book", "signal", "risk", "submit", "acked")
RECV, BOOK, SIGNAL, RISK, SUBMIT, ACKED = range(6)

# a pre-trade check of a whole order list: returns None to pass or a reason to refuse it
ListCheck = Callable[[list[Order]], str | None]


@dataclass
class ArbStats:
    opportunities: int = 0          # sized opportunities seen (after the cool-down)
    arbitrages: int = 0             # order lists sent
    refused_by_risk: int = 0
    skipped_busy: int = 0
    orders: int = 0
    filled_legs: int = 0
    incomplete: int = 0             # lists where some legs filled and others did not
    unwinds: int = 0                # incomplete lists whose filled legs were sent back
    unwind_refused: int = 0         # unwinds the risk check refused (held, alerted)
    errors: int = 0                 # arbitrage tasks that raised (logged with traceback)
    last_refusal: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class ArbPipeline:
    """Wires an Aggregator's books into a TriArb detector and a Router."""

    def __init__(self, aggregator: Aggregator, router: Router, fees_bps: dict[str, float],
                 *, min_profit_bps: float = 5.0, cooldown_ms: int = 500,
                 max_book_age_ms: int = 1000, max_start: dict[str, float] | None = None,
                 check: ListCheck | None = None, partial_policy: str = "unwind",
                 slippage_bps: float = 0.0,
                 on_result: Callable[[list[Order]], None] | None = None,
                 alerter: Alerter | None = None,
                 reconciler: Reconciler | None = None) -> None:
        """``alerter``: fills, incomplete lists, refused unwinds, unresolved orders and errors
        are alerted; ``reconciler``: asked to reconcile after each arbitrage (off the hot path)
        and wired to halt this pipeline."""
        self.agg = aggregator
        self.alerter = alerter
        self.reconciler = reconciler
        self.halted: str | None = None
        self.router = router
        self.check = check
        if partial_policy not in ("unwind", "hold"):
            raise ValueError(f"partial_policy must be 'unwind' or 'hold', not {partial_policy!r}")
        self.partial_policy = partial_policy
        if not 0 <= slippage_bps < 1000:
            raise ValueError(f"slippage_bps out of range: {slippage_bps}")
        self.slippage = Decimal(repr(slippage_bps)) / Decimal(10000)
        self.ticks: dict[tuple[str, str, str], Decimal] = {}
        self.on_result = on_result
        self.ids = ClientIdFactory()
        self.clock = StageClock(STAGES, capacity=1 << 17)
        self.stats = ArbStats()
        self.busy = False
        self.stopped = False
        rows = []
        self.market_of_book: dict[int, int] = {}
        self.books: list = []                      # OrderBook per market index
        self.traded_at: dict[int, int] = {}        # market -> book.updates when we last traded
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
        aggregator.subscribe(self.on_book)
        if reconciler is not None:
            if reconciler.activity is None:
                reconciler.activity = self.activity
            reconciler.on_halt.append(self.halt)

    def activity(self) -> int | None:
        """None while an arbitrage is in flight, else the number of arbitrages started (a
        reconciliation compares only between arbitrages)."""
        return None if self.busy else self.stats.arbitrages

    def halt(self, reason: str) -> None:
        """Start no new arbitrage (reconciliation mismatch, operator); in-flight ones finish."""
        if self.halted is None:
            log.error("pipeline halted: %s", reason)
            self.halted = reason

    def on_book(self, book_id: int, recv_ts: int) -> None:
        """Aggregator callback: one book changed (synchronous, on the feed's task)."""
        market = self.market_of_book.get(book_id)
        if market is None or self.stopped or self.halted is not None:
            return
        clock = self.clock
        event = clock.start(recv_ts)
        clock.mark(event, BOOK)
        now = time.monotonic_ns()
        n = self.arb.on_update(market, now, not self.busy)
        clock.mark(event, SIGNAL)
        if n == 0:
            return
        if self.busy:
            self.stats.skipped_busy += 1
            return
        # a market we just traded on must show a book update first: until the venue publishes
        # the liquidity we took, its book still shows it
        legs_of = self._legs
        traded = self.traded_at
        arb = self.arb
        opp = None
        for i in range(n):
            o = arb.opportunity(i)
            if o.start_amount <= 0 or (opp is not None and o.profit_bps <= opp.profit_bps):
                continue
            for leg in o.legs:
                m, book, _, _, _ = legs_of[(leg.venue, leg.base, leg.quote)]
                if book.updates == traded.get(m):
                    break
            else:
                opp = o
        if opp is None:
            return
        self.stats.opportunities += 1
        ids = self.ids
        opp_id = ids.next_opportunity()
        orders = []
        for k, leg in enumerate(opp.legs):
            _, _, lot, tick, symbol = legs_of[(leg.venue, leg.base, leg.quote)]
            qty = (Decimal(repr(leg.qty)) / lot).to_integral_value() * lot
            orders.append(Order(ids.make(opp_id, k), leg.venue, symbol, self._sides[leg.side],
                                OrderType.LIMIT, qty, self._limit(leg, tick), opp_id, k))
        if self.check is not None:
            reason = self.check(orders)
            clock.mark(event, RISK)
            if reason is not None:
                self.stats.refused_by_risk += 1
                self.stats.last_refusal = reason
                return
        else:
            clock.mark(event, RISK)
        for leg in opp.legs:
            m, book, _, _, _ = legs_of[(leg.venue, leg.base, leg.quote)]
            traded[m] = book.updates
        self.busy = True
        self.stats.arbitrages += 1
        self.stats.orders += len(orders)
        task = asyncio.get_running_loop().create_task(self._execute(event, orders))
        self.stats.tasks.append(task)
        clock.mark(event, SUBMIT)

    async def _execute(self, event: int, orders: list[Order]) -> None:
        try:
            await self.router.send_list(orders)
            self.clock.mark(event, ACKED)
            await self.router.reconcile_unknown(orders)
            filled = [o for o in orders if o.filled_qty > 0]
            self.stats.filled_legs += len(filled)
            self._alert_list(orders)
            unwind: list[Order] = []
            # incomplete: some leg traded and some leg did not fill completely (a partial fill
            # on every leg leaves a position as well)
            if filled and any(o.status is not OrderStatus.FILLED for o in orders):
                self.stats.incomplete += 1
                detail = ", ".join(f"{o.venue} {o.symbol} {o.side.value}={o.status.value} "
                                   f"{o.filled_qty}/{o.qty}" for o in orders)
                log.warning("arbitrage %s incomplete: %s", orders[0].opportunity_id, detail)
                if self.partial_policy == "unwind":
                    unwind = self._unwind_orders(filled)
                if self.alerter is not None:
                    self.alerter.unwind(orders[0].opportunity_id,
                                        ("unwinding" if unwind else "holding")
                                        + f", legs incomplete: {detail}")
            if self.on_result is not None:
                self.on_result(orders)
            if unwind:
                reason = self.check(unwind) if self.check is not None else None
                if reason is not None:
                    self.stats.unwind_refused += 1
                    self.stats.last_refusal = reason
                    log.error("unwind of %s refused by risk: %s", orders[0].opportunity_id,
                              reason)
                    if self.alerter is not None:
                        self.alerter.unwind(orders[0].opportunity_id,
                                            f"unwind refused by risk, position held: {reason}")
                else:
                    self.stats.unwinds += 1
                    self.stats.orders += len(unwind)
                    await self.router.send_list(unwind)
                    await self.router.reconcile_unknown(unwind)
                    self._alert_list(unwind)
                    if self.on_result is not None:
                        self.on_result(unwind)
        except Exception as e:
            self.stats.errors += 1
            log.exception("arbitrage %s failed", orders[0].opportunity_id)
            if self.alerter is not None:
                self.alerter.unwind(orders[0].opportunity_id,
                                    f"arbitrage failed: {type(e).__name__}: {str(e)[:200]}")
        finally:
            self.busy = False
            if self.reconciler is not None:
                self.reconciler.request({o.venue for o in orders})

    def _alert_list(self, orders: list[Order]) -> None:
        """Fill alerts per traded leg; a HIGH alert for a leg still UNKNOWN after the query."""
        if self.alerter is None:
            return
        for o in orders:
            if o.filled_qty > 0:
                self.alerter.fill(o.venue, o.symbol, o.side.value, str(o.filled_qty),
                                  str(o.avg_price), o.client_id)
            if o.status is OrderStatus.UNKNOWN:
                self.alerter.unwind(o.opportunity_id,
                                    f"{o.venue} {o.symbol} {o.client_id} still UNKNOWN after "
                                    f"the venue query: {o.reason}")

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

    def _unwind_orders(self, filled: list[Order]) -> list[Order]:
        """Market orders that take back what the filled legs did (the opposite side, same qty)."""
        opp_id = self.ids.next_opportunity()
        return [Order(self.ids.make(opp_id, k), o.venue, o.symbol,
                      "sell" if o.side.value == "buy" else "buy", "market",
                      o.filled_qty, None, opp_id, k)
                for k, o in enumerate(filled)]

    async def drain(self, timeout: float = 10.0) -> None:
        """Shutdown: no new arbitrage starts; wait for those in flight."""
        self.stopped = True
        pending = [t for t in self.stats.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
