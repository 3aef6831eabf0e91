"""The one order path: risk check -> journal -> route -> venues' answers -> risk/positions ->
unwind policy -> alerts -> reconciliation request.

Strategies decide; the ``OrderManager`` does everything that happens to an order after that, the
same way for every strategy and every route: a list is risk-checked (or arrives checked by the
hot path's integer check, ``RiskGate.arb_check``), handed to the route (which journals every leg
before it sends any), followed until the venue answers (``reconcile_unknown``), applied to the
risk engine once (``on_result``), alerted, and, when some legs traded and others did not,
unwound (``partial_policy="unwind"``: the filled legs taken back by market orders through the
same risk check) or held. Every list ends with a reconciliation request for its venues.

``hand_over`` is the hot path's entry: the list goes to a task made ahead (no task creation
between the decision and the send); ``submit`` is the awaitable one (``openclaw.Session``).
Each order list is stamped on the manager's stage clock (``STAGES``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from openclaw._core.stageclock import StageClock
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order, OrderStatus, OrderType, Side

if TYPE_CHECKING:
    from openclaw.alerts import Alerter
    from openclaw.execution.reconcile import Reconciler

log = logging.getLogger("openclaw.execution.manager")

# send: the first leg handed to its HTTP client / written to the trading socket (after the
# journal commit; the route's ``on_first_send``); last so the others keep their index
STAGES = ("recv", "book", "signal", "risk", "submit", "acked", "send")
RECV, BOOK, SIGNAL, RISK, SUBMIT, ACKED, SEND = range(7)

PARTIAL_POLICIES = ("unwind", "hold")


class OrderRoute(Protocol):
    """Where order lists go: journal every leg, send them all, learn the venues' answers."""

    async def send_list(self, orders: list[Order], *,
                        on_first_send: Callable[[], None] | None = None,
                        wait_tokens: bool = False) -> None: ...

    async def reconcile_unknown(self, orders: list[Order]) -> None: ...


@runtime_checkable
class SyncRoute(Protocol):
    """A route that journals and writes orders from the calling function (no await): the
    returned future completes when every order is final."""

    def send_now(self, orders: list[Order], *,
                 on_sent: Callable[[int], None] | None = None) -> asyncio.Future[Any]: ...


class PreTradeRisk(Protocol):
    """The pre-trade check of a list (None: passed and committed) and its outcome's update."""

    def check(self, orders: list[Order]) -> str | None: ...

    def on_result(self, orders: list[Order]) -> None: ...


class OrderRefused(OpenclawError):
    """The pre-trade risk check refused an order list (nothing was journaled or sent)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"order list refused by risk: {reason}")
        self.reason = reason


class ManagerClosed(RuntimeError):
    """An order list was given to a manager that is draining or closed."""


@dataclass
class OrderStats:
    """What the manager did (``openclaw-trading run``'s summary reads these)."""

    lists: int = 0                  # order lists handed to the route (unwinds included)
    orders: int = 0
    filled_legs: int = 0
    incomplete: int = 0             # lists where some legs filled and others did not
    unwinds: int = 0                # incomplete lists whose filled legs were sent back
    unwind_refused: int = 0         # unwinds the risk check refused (held, alerted)
    unwind_incomplete: int = 0      # unwinds that left part of the position (alerted)
    errors: int = 0                 # lists whose handling raised (logged with traceback)
    refused_by_risk: int = 0        # lists the pre-trade check refused (the hot path's too)
    last_refusal: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class OrderManager:
    """Owns every order from the pre-trade check to its final state (see the module doc)."""

    def __init__(self, route: OrderRoute, *, risk: PreTradeRisk | None = None,
                 partial_policy: str = "hold", alerter: Alerter | None = None,
                 reconciler: Reconciler | None = None,
                 clock: StageClock | None = None, ids: ClientIdFactory | None = None) -> None:
        """``risk``: the pre-trade check and its updates (a ``RiskGate``; None: no check);
        ``partial_policy``: what an incomplete list leaves behind, ``"unwind"`` or ``"hold"``;
        ``reconciler``: asked to reconcile after each list, and halts this manager."""
        if partial_policy not in PARTIAL_POLICIES:
            raise ValueError(f"partial_policy must be one of {PARTIAL_POLICIES}, "
                             f"not {partial_policy!r}")
        self.route = route
        self.risk = risk
        self.partial_policy = partial_policy
        self.alerter = alerter
        self.reconciler = reconciler
        self.clock = clock if clock is not None else StageClock(STAGES, capacity=1 << 17)
        self.ids = ids if ids is not None else ClientIdFactory()
        self.stats = OrderStats()
        self.orders: list[Order] = []            # every order handed to the route
        self.halted: str | None = None
        self.stopped = False
        self.accepting = True                    # not halted and not stopped (one read)
        self.in_flight = 0                       # lists between hand-over and their end
        self.on_settled: list[Callable[[list[Order]], None]] = []   # after risk is told
        self.after_list: list[Callable[[list[Order]], None]] = []   # a list's end (finally)
        # engine ids of lists the hot path checked (``RiskGate.arb_check``): named by client
        # id off the hot path
        self.name_ids: Callable[[int, list[str]], None] | None = getattr(risk, "name_ids", None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._armed: tuple[asyncio.Future[tuple[int, list[Order], int]],
                           asyncio.Task[None]] | None = None
        if reconciler is not None:
            if reconciler.activity is None:
                reconciler.activity = self.activity
            reconciler.on_halt.append(self.halt)

    # -- state ---------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """An order list is between hand-over and its end."""
        return self.in_flight > 0

    def activity(self) -> int | None:
        """For the reconciler: None while a list is in flight, else the number of lists
        started (it compares only between lists)."""
        return None if self.in_flight else self.stats.lists

    def halt(self, reason: str) -> None:
        """Take no new list (reconciliation mismatch, operator); lists in flight finish."""
        if self.halted is None:
            log.error("order manager halted: %s", reason)
            self.halted = reason
        self.accepting = False

    def resume(self) -> None:
        """Take lists again after a halt (the operator, with approval); a drained manager
        stays closed."""
        self.halted = None
        self.accepting = not self.stopped

    # -- entries -------------------------------------------------------------------------------
    def check(self, orders: list[Order], event: int = -1, now_ns: int = 0) -> str | None:
        """The pre-trade check of ``orders`` (stamped ``risk`` on ``event`` when >= 0): None
        when it passes (then committed in the engine), else the reason (counted).
        ``now_ns``: the instant a pacer admitted the list (its throttle's clock)."""
        if self.risk is None:
            reason = None
        elif now_ns:
            reason = self.risk.check(orders, now_ns)  # type: ignore[call-arg]
        else:
            reason = self.risk.check(orders)
        if event >= 0:
            self.clock.mark(event, RISK)
        if reason is not None:
            self.stats.refused_by_risk += 1
            self.stats.last_refusal = reason
        return reason

    def arm(self) -> None:
        """Make the task the next hot-path list is handed to, off the hot path."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if self.stopped or (self._armed is not None and not self._armed[0].done()):
            return
        fut: asyncio.Future[tuple[int, list[Order], int]] = self._loop.create_future()
        self._armed = (fut, self._loop.create_task(self._run_armed(fut)))

    def hand_over(self, event: int, orders: list[Order], first_id: int = 0) -> asyncio.Task[None]:
        """The hot path's entry: ``orders`` passed the check; the route gets them on the loop's
        next turn, through the task made ahead (``arm``). ``first_id``: the engine id of the
        first leg when the integer check committed them (named off the hot path)."""
        self.in_flight += 1
        armed = self._armed
        self._armed = None
        if armed is not None and not armed[0].done() and not armed[1].done():
            armed[0].set_result((event, orders, first_id))
            task = armed[1]
        else:
            task = asyncio.get_running_loop().create_task(self._execute(event, orders, first_id))
        self.stats.tasks.append(task)
        return task

    async def submit(self, orders: list[Order], event: int = -1, *,
                     checked: bool = False, now_ns: int = 0) -> list[Order]:
        """Check (unless ``checked``), then the whole path; returns the orders (final unless a
        venue never answered: UNKNOWN, followed by the router's resolver). Raises
        ``ManagerClosed`` when draining or halted and ``OrderRefused`` when the check fails."""
        if not self.accepting:
            raise ManagerClosed(f"no new orders: {self.halted or 'draining'}")
        if event < 0:
            event = self.clock.start()
        if not checked:
            reason = self.check(orders, event, now_ns)
            if reason is not None:
                raise OrderRefused(reason)
        self.in_flight += 1
        self.clock.mark(event, SUBMIT)
        await self._execute(event, orders, 0, unwind=False, rearm=False)
        return orders

    def send_now(self, orders: list[Order], *,
                 on_sent: Callable[[int], None] | None = None) -> asyncio.Future[Any]:
        """For routes that write synchronously (``SyncRoute``: the IBKR session): ``orders``
        passed the strategy's hot-path check and are journaled and written from this call,
        no task, no loop turn; the returned future completes when every order is final, and
        the outcome (risk told once, alerts) is handled then. Raises ``ManagerClosed`` when
        draining or halted; an error of the route's write propagates (nothing counted)."""
        if not self.accepting:
            raise ManagerClosed(f"no new orders: {self.halted or 'draining'}")
        route = self.route
        if not isinstance(route, SyncRoute):
            raise TypeError(f"{type(route).__name__} has no synchronous send_now")
        fut = route.send_now(orders, on_sent=on_sent)
        self.in_flight += 1
        stats = self.stats
        stats.lists += 1
        stats.orders += len(orders)
        self.orders.extend(orders)
        fut.add_done_callback(partial(self._sent_now_done, orders))
        return fut

    def _sent_now_done(self, orders: list[Order], fut: asyncio.Future[Any]) -> None:
        self.in_flight -= 1
        try:
            exc = None if fut.cancelled() else fut.exception()
            if exc is not None:
                self.stats.errors += 1
                log.error("order list %s failed: %r", orders[0].opportunity_id, exc)
                for o in orders:
                    if o.status is OrderStatus.NEW:      # never journaled, never sent
                        o.reject(f"not sent: {type(exc).__name__}: {str(exc)[:200]}")
            self._settle(orders, False)
        finally:
            for fn in self.after_list:
                fn(orders)
            if self.reconciler is not None:
                self.reconciler.request({o.venue for o in orders})

    async def drain(self, timeout: float = 10.0) -> list[asyncio.Task[None]]:
        """No new list; wait up to ``timeout`` for those in flight; returns the ones still
        running (the caller decides: cancel, report)."""
        self.stopped = True
        self.accepting = False
        if self._armed is not None:
            if not self._armed[0].done():
                self._armed[1].cancel()             # never handed a list
            self._armed = None
        pending = [t for t in self.stats.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        return [t for t in self.stats.tasks if not t.done()]

    # -- the path ------------------------------------------------------------------------------
    async def _run_armed(self, fut: asyncio.Future[tuple[int, list[Order], int]]) -> None:
        event, orders, first_id = await fut
        await self._execute(event, orders, first_id)

    async def _execute(self, event: int, orders: list[Order], first_id: int = 0, *,
                       unwind: bool = True, rearm: bool = True) -> None:
        # the next list's task is made in ``finally``, after this list is sent: made before,
        # it would cost the first leg a task creation
        if first_id and self.name_ids is not None:
            self.name_ids(first_id, [o.client_id for o in orders])
        stats = self.stats
        stats.lists += 1
        stats.orders += len(orders)
        self.orders.extend(orders)
        clock = self.clock
        settled = False
        try:
            await self.route.send_list(orders, on_first_send=partial(clock.mark, event, SEND))
            clock.mark(event, ACKED)
            await self.route.reconcile_unknown(orders)
            settled = True
            back = self._settle(orders, unwind)
            if back:
                reason = self.check(back)
                if reason is not None:
                    stats.unwind_refused += 1
                    log.error("unwind of %s refused by risk: %s", orders[0].opportunity_id,
                              reason)
                    if self.alerter is not None:
                        self.alerter.unwind(orders[0].opportunity_id,
                                            f"unwind refused by risk, position held: {reason}")
                else:
                    stats.unwinds += 1
                    stats.lists += 1
                    stats.orders += len(back)
                    self.orders.extend(back)
                    await self.route.send_list(back, wait_tokens=True)
                    await self.route.reconcile_unknown(back)
                    self._settle(back, False, is_unwind=True)
        except Exception as e:
            stats.errors += 1
            log.exception("order list %s failed", orders[0].opportunity_id)
            if self.alerter is not None:
                self.alerter.unwind(orders[0].opportunity_id,
                                    f"order list failed: {type(e).__name__}: {str(e)[:200]}")
            if not unwind:
                raise
        finally:
            if not settled and self.risk is not None:
                self.risk.on_result(orders)         # what the venues answered before the error
            self.in_flight -= 1
            for fn in self.after_list:
                fn(orders)
            if rearm:
                self.arm()                          # the next list's task, off the hot path
            if self.reconciler is not None:
                self.reconciler.request({o.venue for o in orders})

    def _settle(self, orders: list[Order], unwind: bool, is_unwind: bool = False) -> list[Order]:
        """The list's outcome: risk told once, fills alerted, an incomplete list counted and
        (``unwind`` and the policy) the orders that take the filled legs back; an unwind that
        did not fill completely is counted and alerted (the position is still open)."""
        stats = self.stats
        if self.risk is not None:
            self.risk.on_result(orders)
        filled = [o for o in orders if o.filled_qty > 0]
        stats.filled_legs += len(filled)
        self._alert_list(orders)
        back: list[Order] = []
        if is_unwind:
            if any(o.status is not OrderStatus.FILLED for o in orders):
                stats.unwind_incomplete += 1
                detail = ", ".join(f"{o.venue} {o.symbol} {o.side.value}={o.status.value} "
                                   f"{o.filled_qty}/{o.qty}" for o in orders)
                log.error("unwind %s incomplete, position remains: %s",
                          orders[0].opportunity_id, detail)
                if self.alerter is not None:
                    self.alerter.unwind(orders[0].opportunity_id,
                                        f"unwind incomplete, position remains: {detail}")
            for fn in self.on_settled:
                fn(orders)
            return back
        # incomplete: some leg traded and some leg did not fill completely (a partial fill on
        # every leg leaves a position as well)
        if filled and any(o.status is not OrderStatus.FILLED for o in orders):
            stats.incomplete += 1
            detail = ", ".join(f"{o.venue} {o.symbol} {o.side.value}={o.status.value} "
                               f"{o.filled_qty}/{o.qty}" for o in orders)
            log.warning("order list %s incomplete: %s", orders[0].opportunity_id, detail)
            if unwind and self.partial_policy == "unwind":
                back = self._unwind_orders(filled)
            if self.alerter is not None:
                self.alerter.unwind(orders[0].opportunity_id,
                                    ("unwinding" if back else "holding")
                                    + f", legs incomplete: {detail}")
        for fn in self.on_settled:
            fn(orders)
        return back

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

    def _unwind_orders(self, filled: list[Order]) -> list[Order]:
        """Market orders that take back what the filled legs did (the opposite side, same qty)."""
        opp_id = self.ids.next_opportunity()
        return [Order(self.ids.make(opp_id, k), o.venue, o.symbol,
                      Side.SELL if o.side is Side.BUY else Side.BUY, OrderType.MARKET,
                      o.filled_qty, None, opp_id, k)
                for k, o in enumerate(filled)]


