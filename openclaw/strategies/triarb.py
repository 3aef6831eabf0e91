"""The triangular-arbitrage pipeline: book change -> detection -> order list -> routing.

Runs inside the aggregator's book callback (no await on the hot path): the changed market's
cycles are re-evaluated in Cython; when a sized opportunity appears and no arbitrage is in
flight, its three legs become IOC limit orders at the legs' price limits and are handed to the
router as one task (journal first, then all legs at once). Every event is stamped on a stage
clock: recv (socket), book (applied), signal (detected), risk (checked), submit (handed to the
router), acked (all legs answered); recv, book, signal, risk and submit are stamped in C
(``TriArb.on_update``, ``check_risk``, ``handed_over``): no Python call per stage. Submit is
taken once the router's task for the list exists (its ``Order`` s built): the list is handed
over; the router then journals every leg (``record_new``) before it sends any.

With a ``RiskGate`` as the check (``check=gate.check``) the legs are risk-checked as integers
(lots, ticks) straight from the detector's result, in C, before any ``Order`` exists; the
``Order`` s of an approved list are then built from those integers without re-validation
(``Order.trusted``). Any other check gets the ``Order`` list first, as before. The order path
is rehearsed every few ms (``warm_interval_ms``; nothing committed, journaled or sent) so that
a rare opportunity does not meet cold CPU caches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING

from openclaw._core.stageclock import StageClock
from openclaw._core.triarb import TriArb
from openclaw.execution.router import Router
from openclaw.feeds.aggregator import Aggregator
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order, OrderStatus, OrderType, Side
from openclaw.risk.gate import ArbCheck, RiskGate

if TYPE_CHECKING:
    from openclaw.alerts import Alerter
    from openclaw.execution.reconcile import Reconciler

log = logging.getLogger("openclaw.strategies.triarb")

# send: the first leg handed to its HTTP client / written to the trading socket (after the
# journal commit; Router.send_list(on_first_send=)); appended last so the others keep their index
STAGES = ("recv", "book", "signal", "risk", "submit", "acked", "send")
RECV, BOOK, SIGNAL, RISK, SUBMIT, ACKED, SEND = range(7)

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


_BUY, _SELL, _LIMIT = Side.BUY, Side.SELL, OrderType.LIMIT


def _validated(client_id: str, venue: str, symbol: str, side: Side, order_type: OrderType,
               qty: Decimal, price: Decimal | None, opportunity_id: int, leg: int,
               created_ns: int) -> Order:
    """``Order.trusted``'s signature, through the validating constructor."""
    return Order(client_id, venue, symbol, side, order_type, qty, price, opportunity_id, leg,
                 created_ns=created_ns)


_WARM_IDS = (0, "W0", "W1", "W2")            # the rehearsal's orders (never journaled or sent)


class ArbPipeline:
    """Wires an Aggregator's books into a TriArb detector and a Router."""

    def __init__(self, aggregator: Aggregator, router: Router, fees_bps: dict[str, float],
                 *, min_profit_bps: float = 5.0, cooldown_ms: int = 500,
                 max_book_age_ms: int = 1000, max_start: dict[str, float] | None = None,
                 check: ListCheck | None = None, partial_policy: str = "unwind",
                 slippage_bps: float = 0.0,
                 on_result: Callable[[list[Order]], None] | None = None,
                 alerter: Alerter | None = None,
                 reconciler: Reconciler | None = None, warm_interval_ms: float = 2.0) -> None:
        """``alerter``: fills, incomplete lists, refused unwinds, unresolved orders and errors
        are alerted; ``reconciler``: asked to reconcile after each arbitrage (off the hot path)
        and wired to halt this pipeline; ``warm_interval_ms``: how often the order path is
        rehearsed to stay cache-hot (0: never; needs a running loop at construction)."""
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
        frac = Fraction(self.slippage)
        if frac.denominator > 1 << 62:
            raise ValueError(f"slippage_bps {slippage_bps} has too many digits")
        self._slip = (frac.numerator, frac.denominator)
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
        # a RiskGate check runs on the detector's integers (see the module docstring)
        self._gate: RiskGate | None = None
        self._fast: ArbCheck | None = None
        owner = getattr(check, "__self__", None)
        if isinstance(owner, RiskGate) and getattr(check, "__func__", None) is RiskGate.check:
            self._gate = owner
            self._fast = owner.arb_check(self.arb, keys, [self._legs[k][1] for k in keys],
                                         self._slip)
        # the recorder's recv, book, signal, submit (and with the gate, risk) stamps: in C
        self.arb.set_recorder(self.clock, BOOK, SIGNAL, RISK if self._fast is not None else -1,
                              SUBMIT)
        # the next order list's client ids are made ahead (off the hot path)
        self._next_ids: tuple[int, str, str, str] | None = self._make_ids()
        # the order path is rehearsed every warm_interval_ms (0: never) to keep it cache-hot
        if warm_interval_ms < 0:
            raise ValueError(f"warm_interval_ms must be >= 0, not {warm_interval_ms}")
        self._warm_s = warm_interval_ms / 1000
        self._warm_legs = tuple(x for m in range(3)
                                for x in (m % self.arb.n_markets, m % 2, 1, 1))
        self._warm_handle: asyncio.TimerHandle | None = None
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        if self._warm_s > 0 and self._loop is not None:
            self._warm_handle = self._loop.call_later(self._warm_s, self._warm)
        # the task the first order list is handed to (made ahead: no task creation on the hot
        # path); without a running loop yet, the first list's task is created when it comes
        self._armed: tuple[asyncio.Future[tuple[int, list[Order], int]],
                           asyncio.Task[None]] | None = None
        if self._loop is not None:
            self._arm()
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
        arb = self.arb
        # detection in C, which also stamps the event's recv, book and signal stages
        n = arb.on_update(market, 0, not self.busy, recv_ts)
        if n == 0:
            return
        if self.busy:
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
                stats.refused_by_risk += 1
                stats.last_refusal = self._fast.refusal(i)  # type: ignore[union-attr]
                return
            orders = self._orders(legs, True)
        else:
            first_id = 0
            clock = self.clock
            orders = self._orders(arb.legs(i, *self._slip), False)
            if self.check is not None:
                reason = self.check(orders)
                clock.mark(event, RISK)
                if reason is not None:
                    stats.refused_by_risk += 1
                    stats.last_refusal = reason
                    return
            else:
                clock.mark(event, RISK)
        self.busy = True
        stats.arbitrages += 1
        stats.orders += 3
        armed = self._armed
        self._armed = None
        if armed is not None and not armed[0].done() and not armed[1].done():
            # the task made ahead for this list: it runs the router on the loop's next turn,
            # as a new task would
            armed[0].set_result((event, orders, first_id))
            task = armed[1]
        else:
            task = asyncio.get_running_loop().create_task(self._execute(event, orders, first_id))
        stats.tasks.append(task)
        arb.handed_over(i)          # the list is the router's task now: submit stamped here

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

    def _arm(self) -> None:
        """Make the task the next order list is handed to, off the hot path: it waits for the
        list on a future (``on_book`` sets it; ``drain`` cancels a task never handed one)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if self.stopped or (self._armed is not None and not self._armed[0].done()):
            return
        fut: asyncio.Future[tuple[int, list[Order], int]] = self._loop.create_future()
        self._armed = (fut, self._loop.create_task(self._run_armed(fut)))

    async def _run_armed(self, fut: asyncio.Future[tuple[int, list[Order], int]]) -> None:
        event, orders, first_id = await fut
        await self._execute(event, orders, first_id)

    async def _execute(self, event: int, orders: list[Order], first_id: int = 0) -> None:
        # the next list's task and ids are made in ``finally``, after this list is sent (no
        # list comes while ``busy``): made here they cost the first leg ~40 us
        if first_id:
            # the engine ids the fast path used, by client id (for on_result); off the hot path
            self._gate.name_ids(first_id, [o.client_id for o in orders])  # type: ignore[union-attr]
        try:
            await self.router.send_list(orders, on_first_send=partial(self.clock.mark, event, SEND))
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
                    await self.router.send_list(unwind, wait_tokens=True)
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
            self._arm()                               # the next list's task, off the hot path
            if self._next_ids is None:
                self._next_ids = self._make_ids()     # the next list's ids, off the hot path
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
                                    f"the venue query (followed until the venue answers): "
                                    f"{o.reason}")

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
        if self._warm_handle is not None:
            self._warm_handle.cancel()
            self._warm_handle = None
        if self._armed is not None:
            if not self._armed[0].done():
                self._armed[1].cancel()             # never handed a list
            self._armed = None
        pending = [t for t in self.stats.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
