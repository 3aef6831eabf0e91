"""Orders whose outcome is not known yet are followed until the venue says what became of them.

Why: a placement that meets a timeout, a 5xx or a 429 becomes UNKNOWN (it may exist), and an
IOC leg acknowledged without a status (OKX, Bybit) is ACKED until a query says how it ended. One
failed query must never leave such an order open for the rest of the run: its reservation would
stay held, and the reconciler would find the journal and the venue disagreeing.

``OrderResolver.watch(order)`` takes an order that is not final; a background task queries it by
client id (``Router.refresh``: journal first, then the callbacks) with exponential backoff until
the venue answers with a final state. Queries take a venue token only when the bucket holds
``reserve_tokens`` more (the query lane never takes what an order list needs). An order the venue
does not know ``visibility_window_s`` after it was sent is settled: UNKNOWN becomes REJECTED
(never placed), an acknowledged order CANCELED with the fills known; both are journaled with the
evidence (queries asked, seconds since the send). The window: Binance and Bybit refuse a request
older than its receive window (``recvWindow`` / ``X-BAPI-RECV-WINDOW``, 5 s by default), so an
order request cannot reach the matching engine later than that; OKX documents no such bound for
requests without ``expTime``, so the same 10 s default applies (``[reconcile]
visibility_window_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openclaw.model.orders import Order, OrderStatus, VenueAnswer

if TYPE_CHECKING:
    from openclaw.execution.router import Router

log = logging.getLogger("openclaw.execution.resolver")

__all__ = ["OrderResolver", "ResolverStats", "spare_token"]


@dataclass
class ResolverStats:
    watched: int = 0            # orders handed over
    resolved: int = 0           # orders that reached a final state here
    settled_not_found: int = 0  # of those: the venue did not know them after the window
    queries: int = 0
    query_failures: int = 0     # queries that raised (retried with backoff)


@dataclass
class _Pending:
    order: Order
    tries: int = 0
    not_found: int = 0
    next_ns: int = 0            # monotonic time of the next query
    last_error: str = ""


async def spare_token(bucket: Any, reserve: float, *, take: bool) -> None:
    """Wait until a venue's bucket holds one token plus ``reserve`` (trading takes tokens
    without waiting; it must find them); ``take``: take the one token, else leave it for the
    caller's own synchronous ``bucket.acquire`` right after (no await between)."""
    need = min(1.0 + reserve, bucket.burst)
    while True:
        bucket.try_acquire(0.0)         # refill to now
        if bucket.tokens >= need and (not take or bucket.try_acquire(1.0)):
            return
        await asyncio.sleep(max(0.005, (need - bucket.tokens) / bucket.rate))


class OrderResolver:
    """Follows non-final orders to their end (see the module docstring)."""

    def __init__(self, router: Router, *, visibility_window_s: float = 10.0,
                 backoff_s: float = 0.25, backoff_max_s: float = 5.0,
                 reserve_tokens: float = 5.0,
                 on_update: Iterable[Callable[[Order], None]] = ()) -> None:
        if visibility_window_s < 0 or backoff_s <= 0 or backoff_max_s < backoff_s:
            raise ValueError("need visibility_window_s >= 0 and 0 < backoff_s <= backoff_max_s")
        self.router = router
        self.window_ns = int(visibility_window_s * 1e9)
        self.backoff_ns = int(backoff_s * 1e9)
        self.backoff_max_ns = int(backoff_max_s * 1e9)
        self.reserve_tokens = reserve_tokens
        self.on_update = list(on_update)
        self.stats = ResolverStats()
        self._pending: dict[str, _Pending] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ---- what others read ------------------------------------------------------------------

    def is_pending(self, client_id: str) -> bool:
        return client_id in self._pending

    def pending(self, venue: str | None = None) -> list[Order]:
        """The orders still being resolved (of ``venue``)."""
        return [p.order for p in self._pending.values()
                if venue is None or p.order.venue == venue]

    # ---- intake ------------------------------------------------------------------------------

    def watch(self, order: Order) -> None:
        """Follow ``order`` until it is final (a final order is ignored; O(1), no await)."""
        if order.is_final or order.client_id in self._pending:
            return
        self._pending[order.client_id] = _Pending(order, next_ns=time.monotonic_ns())
        self.stats.watched += 1
        self._wake.set()
        if self._task is None:
            with contextlib.suppress(RuntimeError):        # no loop yet: started by start()
                self.start()

    def notify_final(self, order: Order) -> None:
        """``order`` became final outside a query (a private-stream push): stop following it
        and tell the callbacks, as a query's answer would."""
        if self._pending.pop(order.client_id, None) is not None:
            self.stats.resolved += 1
            self._notify(order)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(),
                                                                name="order-resolver")

    async def stop(self) -> None:
        task, self._task = self._task, None
        tasks = [t for t in [task, *self._inflight.values()] if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._inflight.clear()

    async def settle(self, timeout: float) -> list[Order]:
        """Wait up to ``timeout`` s for every pending order to be resolved (shutdown); returns
        those still pending."""
        self.start()
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            self._wake.set()
            await asyncio.sleep(0.05)
        return self.pending()

    # ---- the work ----------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            now = time.monotonic_ns()
            wait = 1.0
            for cid, p in list(self._pending.items()):
                if cid in self._inflight:
                    continue
                if p.next_ns <= now:
                    self._inflight[cid] = asyncio.get_running_loop().create_task(
                        self._query(p), name=f"resolve:{cid}")
                else:
                    wait = min(wait, (p.next_ns - now) / 1e9)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.005, wait))

    async def _query(self, p: _Pending) -> None:
        o = p.order
        route = self.router.routes[o.venue]
        try:
            p.tries += 1
            self.stats.queries += 1
            if o.status in (OrderStatus.NEW, OrderStatus.SENT):
                # journaled and maybe sent, never answered: it may or may not exist (as at
                # start-up), the venue's answer decides
                ev = o.mark_unknown("unanswered in the journal: asking the venue")
                if ev is not None:
                    await self.router.journal.record_event(o, ev)
            await spare_token(route.bucket, self.reserve_tokens, take=False)
            try:
                await self.router.refresh(o)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - not found is evidence; anything else: retry
                if _order_not_found(e):
                    p.not_found += 1
                    p.last_error = f"not found: {str(e)[:120]}"
                    await self._not_found(p)
                else:
                    self.stats.query_failures += 1
                    p.last_error = f"{type(e).__name__}: {str(e)[:160]}"
                    if p.tries == 1 or p.tries % 10 == 0:
                        log.warning("%s: query %d of %s failed, retrying: %s", o.venue, p.tries,
                                    o.client_id, p.last_error)
            else:
                p.last_error = ""
                self._notify(o)
            if o.is_final:
                self._pending.pop(o.client_id, None)
                self.stats.resolved += 1
            else:
                p.next_ns = time.monotonic_ns() + min(
                    self.backoff_max_ns, self.backoff_ns << min(p.tries - 1, 20))
        finally:
            self._inflight.pop(o.client_id, None)
            self._wake.set()

    async def _not_found(self, p: _Pending) -> None:
        """The venue has no record of the order: settled once the window has passed."""
        o = p.order
        age_ns = time.time_ns() - (o.sent_ns or o.created_ns)
        if age_ns < self.window_ns:
            return
        evidence = (f"venue has no such order {age_ns / 1e9:.1f} s after the send "
                    f"({p.not_found} of {p.tries} queries said so); visibility window "
                    f"{self.window_ns / 1e9:g} s")
        if o.status is OrderStatus.UNKNOWN:
            events = o.resolve(VenueAnswer(o.client_id, False, detail=evidence))
        else:
            ev = o.cancel(reason=f"settled: {evidence}; fills as known")
            events = [ev] if ev is not None else []
        if events:
            await self.router.journal.record_event(o, *events)
        self.stats.settled_not_found += 1
        log.warning("%s: %s settled as %s: %s", o.venue, o.client_id, o.status.value, evidence)
        self._notify(o)

    def _notify(self, o: Order) -> None:
        for cb in self.on_update:
            try:
                cb(o)
            except Exception:  # noqa: BLE001 - one callback's failure never stops resolution
                log.exception("order update callback %r failed for %s", cb, o.client_id)


def _order_not_found(exc: BaseException) -> bool:
    """The venue says it has no such order (ccxt ``OrderNotFound``, by class)."""
    import ccxt  # type: ignore[import-untyped]

    return isinstance(exc, ccxt.OrderNotFound)
