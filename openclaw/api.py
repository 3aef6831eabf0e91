"""The API a strategy author embeds: books, book changes, order lists through risk and routing,
and the latency report. Everything here is also reachable as ``openclaw.<name>``.

    from openclaw import Session

    async with await Session.start("examples/triarb.toml") as s:
        book = s.book("binance", "BTCUSDT")              # live OrderBook (a view, no copy)
        s.subscribe(on_change)                           # on_change(BookChange), every change
        orders = s.order_list([("binance", "BTC/USDT", "buy", "0.001", "65000.00")])
        await s.submit(orders)                           # risk check -> journal -> venue
        s.latency_report()                               # p50/p99/... per stage, microseconds

A ``Session`` starts what ``openclaw-trading run`` starts except the configured strategies:
simulators for ``mode = "sim"`` venues (or for orders with ``paper=True``), the journal, alerts,
one route per venue (after recovering the journal's open orders), the Cython risk gate loaded with
the venues' balances, the balance reconciler (``[reconcile]``: journal vs venues after each order
list and every ``interval_s``; a mismatch halts the risk engine and alerts) and the feeds
(``start`` returns when every book is LIVE). ``close`` stops new orders, waits for those in
flight, settles every non-final order at its venue, reconciles a last time, checks the journal
and closes everything; it returns that summary. Contract: docs/python-api.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openclaw._core.book import OrderBook
from openclaw._core.merge import MergedBook
from openclaw.app.config import Config, load_config
from openclaw.execution.manager import STAGES as MANAGER_STAGES
from openclaw.execution.manager import ManagerClosed, OrderManager, OrderRefused
from openclaw.model.errors import OrderFieldError
from openclaw.model.instrument import Instrument
from openclaw.model.orders import Order, OrderType, Side
from openclaw.model.venues import crypto_venue

__all__ = ["STAGES", "BookChange", "LegSpec", "OrderRefused", "Session"]

log = logging.getLogger("openclaw.api")

# stages of the session's clock (the order manager's): a book change, the strategy's decision,
# risk, hand-over, every leg answered, the first leg written
STAGES = MANAGER_STAGES
RECV, BOOK, SIGNAL, RISK, SUBMIT, ACKED, SEND = range(len(STAGES))

# (venue, "BASE/QUOTE", "buy" | "sell", qty, limit price or None for a market order)
LegSpec = tuple[str, str, str, str | Decimal, str | Decimal | None]


@dataclass(frozen=True, slots=True)
class BookChange:
    """One book changed: read ``book`` in place (no copy) inside the callback."""

    book_id: int
    instrument: Instrument
    book: OrderBook
    recv_ts: int          # monotonic ns the frame was received
    event: int            # the stage-clock event of this change (pass it to ``submit``)


class Session:
    """Feeds, risk, routing and the journal of one configuration, for a strategy to drive."""

    def __init__(self, config: Config, running: Any, source: str) -> None:
        """Use ``await Session.start(...)``."""
        self.config = config
        self._r = running
        self.source = source
        self._orders: OrderManager = running.manager
        self.clock = self._orders.clock
        self.ids = self._orders.ids
        self._tasks: set[asyncio.Task[list[Order]]] = set()
        self._closing = False
        self.failed_lists = 0           # submit_nowait tasks that raised (logged; ok=False)

    @property
    def orders(self) -> list[Order]:
        """Every order this session handed to the venues (unwinds included), in order."""
        return self._orders.orders

    @classmethod
    async def start(cls, config: Config | str | Path, *, paper: bool = False,
                    seed: int = 7) -> Session:
        """Start everything the config names except its strategies; returns when every book is
        LIVE. Raises ``ConfigError`` listing every problem of a bad config."""
        from openclaw.app.runner import Running, close_system, preflight, start_system

        if isinstance(config, Config):
            cfg, source = config, "<config>"
        else:
            cfg, source = load_config(config), str(config)
        preflight(cfg, paper, source)
        r = Running()
        try:
            await start_system(cfg, r, paper=paper, seed=seed, source=source, with_strategies=False)
        except BaseException:
            await close_system(r)
            raise
        return cls(cfg, r, source)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._closing:
            await self.close()

    # -- books -----------------------------------------------------------------------------------
    @property
    def instruments(self) -> list[Instrument]:
        """The configured instruments, in book-id order."""
        agg = self._r.aggregator
        return [agg.instrument_of[b] for b in sorted(agg.instrument_of)]

    def book(self, venue: str, symbol: str, category: str = "spot") -> OrderBook:
        """The live book of ``venue``'s ``symbol`` as the venue writes it (``BTCUSDT``,
        ``BTC-USDT``); a view into the feed's buffers, updated in place."""
        key = f"{category}:{symbol}" if crypto_venue(venue).category_in_book_key else symbol
        book: OrderBook = self._r.aggregator.book(venue, key)
        return book

    def merged(self, pair: str) -> MergedBook:
        """The cross-venue book of ``"BASE/QUOTE"`` (best bid/ask over the venues)."""
        try:
            merged: MergedBook = self._r.aggregator.merged[pair]
        except KeyError:
            raise KeyError(f"no merged book for {pair!r}; have "
                           f"{sorted(self._r.aggregator.merged)}") from None
        return merged

    def subscribe(self, callback: Callable[[BookChange], None]) -> None:
        """Call ``callback(change)`` after every book change, synchronously on the feed's task:
        keep it short (no blocking call); send orders with ``submit_nowait``."""
        agg = self._r.aggregator
        clock = self.clock
        inst_of = agg.instrument_of
        book_of = agg.bookset.book

        def on_book(book_id: int, recv_ts: int) -> None:
            event = clock.start(recv_ts)
            clock.mark(event, BOOK)
            callback(BookChange(book_id, inst_of[book_id], book_of(book_id), recv_ts, event))

        agg.subscribe(on_book)

    # -- orders ----------------------------------------------------------------------------------
    def order_list(self, legs: Sequence[LegSpec]) -> list[Order]:
        """Orders with fresh client ids, one opportunity id for the list: limits are IOC at the
        given price, a ``None`` price is a market order. Quantities and prices are decimals
        (strings or ``Decimal``; floats are refused: they are not exact)."""
        opp = self.ids.next_opportunity()
        out = []
        for k, (venue, symbol, side, qty, price) in enumerate(legs):
            if venue not in self._r.routes:
                raise KeyError(f"no route for venue {venue!r}")
            if isinstance(qty, float) or isinstance(price, float):
                raise TypeError("qty and price must be str or Decimal, not float")
            if side not in ("buy", "sell"):
                raise OrderFieldError("side", side, "must be buy or sell")
            out.append(Order(self.ids.make(opp, k), venue, symbol, Side(side),
                             OrderType.MARKET if price is None else OrderType.LIMIT, Decimal(qty),
                             None if price is None else Decimal(price), opp, k))
        return out

    def _risk_check(self, orders: list[Order], event: int) -> int:
        """Refuse after ``close`` began (RuntimeError), run the risk check and stamp the
        ``risk`` stage on ``event`` (a new one if < 0); ``OrderRefused`` when it fails.
        Returns the event."""
        if self._closing:
            raise RuntimeError("the session is closing: no new orders")
        if event < 0:
            event = self.clock.start()
        reason = self._orders.check(orders, event)
        if reason is not None:
            raise OrderRefused(reason)
        return event

    def check(self, orders: list[Order]) -> str | None:
        """The pre-trade risk check alone: None if the list passes (it is then committed in the
        engine: send it with ``submit(..., checked=True)``), else the reasons."""
        return self._orders.check(orders)

    async def submit(self, orders: list[Order], event: int = -1,
                     checked: bool = False) -> list[Order]:
        """Risk check (unless ``checked``), journal, all legs at once to their venues, the
        venues' answers, then the engine is told the outcome (the order manager's path);
        returns the orders (final unless the venue never answered: ``UNKNOWN``, reconciled at
        ``close``). Raises ``OrderRefused`` when the check fails and ``RuntimeError`` after
        ``close`` began or when trading is halted."""
        if self._closing:
            raise RuntimeError("the session is closing: no new orders")
        if not checked:
            event = self._risk_check(orders, event)
        try:
            return await self._orders.submit(orders, event, checked=True)
        except ManagerClosed as e:
            raise RuntimeError(str(e)) from None

    def submit_nowait(self, orders: list[Order], event: int = -1) -> asyncio.Task[list[Order]]:
        """From a book callback: the risk check now (``OrderRefused`` at once), the sending in
        a task (awaited by ``close``). A task that raises is logged, counted in
        ``failed_lists`` and makes ``close``'s summary not ok."""
        event = self._risk_check(orders, event)
        task = asyncio.get_running_loop().create_task(self.submit(orders, event, checked=True))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[list[Order]]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return                       # counted by close as cancelled_lists
        exc = task.exception()
        if exc is not None:
            self.failed_lists += 1
            log.error("an order list sent with submit_nowait failed", exc_info=exc)

    def mark_signal(self, event: int) -> None:
        """Stamp the strategy's decision on a change's event (the ``signal`` stage)."""
        self.clock.mark(event, SIGNAL)

    # -- reports and shutdown --------------------------------------------------------------------
    def latency_report(self, worst: int = 5) -> dict[str, Any]:
        """Per-stage and end-to-end p50/p90/p99/p99.9/max (us), count, jitter and the worst
        events, from this session's stage clock (``openclaw.latency.latency_report``)."""
        from openclaw.latency import latency_report

        return latency_report(self.clock, worst)

    def reconciliation(self) -> dict[str, Any]:
        """The balance reconciler's counters: ``reconciliations`` (comparisons made),
        ``halted`` and ``halt_reason`` (a mismatch halted the risk engine: every order is
        refused from then on), ``reconcile_failures`` (runs that raised)."""
        summary: dict[str, Any] = self._r.reconciler.summary()
        return summary

    def feed_stats(self) -> dict[str, object]:
        """Counters per venue connection and the state of every book."""
        stats: dict[str, object] = self._r.aggregator.stats()
        return stats

    async def close(self, drain_timeout: float = 10.0) -> dict[str, Any]:
        """No new orders; wait for those in flight (up to ``drain_timeout``), settle every
        non-final order at its venue, check the journal, close everything; the summary."""
        from openclaw.app.runner import close_system, shutdown_system

        self._closing = True
        t0 = time.monotonic()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=drain_timeout)
        late = [t for t in self._tasks if not t.done()]
        for t in late:
            t.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
        try:
            summary = await shutdown_system(self._r, drain_timeout)
        finally:
            await close_system(self._r)
        summary["cancelled_lists"] = len(late)
        summary["failed_lists"] = self.failed_lists
        summary["orders"] = len(self._orders.orders)
        summary["close_seconds"] = round(time.monotonic() - t0, 3)
        summary["ok"] = bool(summary.get("journal_consistent")) and not summary.get(
            "open_orders") and not self.failed_lists and not summary.get("halted")
        return summary
